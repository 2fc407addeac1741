// crmkit/value/statistics.hpp: the sufficient statistics of the model fits, for fitting data that
// do not fit in one place.
//
// Every fit of models.hpp depends on its rows only through the distinct rows and how often each
// occurs: the likelihood is a weighted sum over distinct rows (models.hpp, "compressed into
// weighted unique rows"). These types hold exactly that compressed form, so a data set split into
// parts (the partitions of a Dask or Spark frame) can be reduced part by part, the parts merged in
// any grouping and order, and the result fitted once:
//
//     auto s = merge(transaction_statistics(x1, tx1, T1), transaction_statistics(x2, tx2, T2));
//     BetaGeoModel m = BetaGeoModel::fit(s.frequency, s.recency, s.T, s.weight);
//
// gives the same parameters, bit for bit, as fitting the concatenated rows, when the weights are
// whole numbers below 2^53 (row counts, or no weights): their sums are then exact, so every
// grouping of merges yields the same statistics. With fractional weights the merge is associative
// up to the rounding of the weight sums (last bits of the weights, not of the fit's arithmetic).
//
// Rows: sorted by frequency, then recency (or monetary value), then T; each distinct once; every
// weight > 0 (rows of weight 0 are dropped, as the fits drop them); -0.0 is stored as 0.0.
//
// Errors: Error{invalid_argument} with "<column>[<row>]: <problem>" for rows the fits would
// refuse: the same checks as BetaGeoModel::fit (continuous), BetaGeoBetaBinomModel::fit
// (discrete) and GammaGammaModel::fit (spend), and weights that are negative, not finite or all 0;
// merging statistics of different kinds is Error{invalid_argument} ("kind: ..."). Nothing is
// modified on error.
//
// Thread-safety: pure functions over their arguments; the structs are plain values.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace crmkit {
inline namespace v0 {

// Which fits the rows are for; it fixes the checks applied (see above).
enum class StatisticsKind {
  continuous,  // BG/NBD, MBG/NBD, Pareto/NBD: frequency, recency, T
  discrete,    // BG/BB: frequency, recency, n_periods (integers), in T
};

// Distinct (frequency, recency, T) rows with their summed weights, sorted.
struct TransactionStatistics {
  StatisticsKind kind = StatisticsKind::continuous;
  std::vector<double> frequency, recency, T, weight;

  std::size_t size() const noexcept { return weight.size(); }
  // The sum of the weights (the number of customers when built without weights).
  double total_weight() const noexcept;
};

// Distinct (frequency, monetary_value) rows with their summed weights, sorted: the statistics of
// the Gamma-Gamma fit (frequency >= 1, monetary_value > 0: the repeat buyers).
struct SpendStatistics {
  std::vector<double> frequency, monetary_value, weight;

  std::size_t size() const noexcept { return weight.size(); }
  double total_weight() const noexcept;
};

// The statistics of one part. weights may be empty (every row counts 1). Throws as above.
TransactionStatistics transaction_statistics(std::span<const double> frequency,
                                             std::span<const double> recency,
                                             std::span<const double> T,
                                             std::span<const double> weights = {},
                                             StatisticsKind kind = StatisticsKind::continuous);
SpendStatistics spend_statistics(std::span<const double> frequency,
                                 std::span<const double> monetary_value,
                                 std::span<const double> weights = {});

// The statistics of the union of two parts: rows of both, equal rows' weights added. Associative
// and commutative (exactly, for whole-number weights). Either side may be empty (no rows).
TransactionStatistics merge(const TransactionStatistics& a, const TransactionStatistics& b);
SpendStatistics merge(const SpendStatistics& a, const SpendStatistics& b);

}  // namespace v0
}  // namespace crmkit
