// Sufficient statistics of the fits (crmkit/value/statistics.hpp): the fits' own row compression
// (compress.cpp), kept and merged.
#include "crmkit/value/statistics.hpp"

#include <numeric>
#include <utility>

#include "crmkit/base/error.hpp"
#include "internal.hpp"

namespace crmkit {
inline namespace v0 {

namespace {

const char* kind_name(StatisticsKind k) {
  return k == StatisticsKind::discrete ? "discrete" : "continuous";
}

void check_columns(std::span<const double> x, std::span<const double> tx,
                   std::span<const double> T, std::span<const double> w, StatisticsKind kind) {
  if (kind == StatisticsKind::discrete) {
    detail::check_bgbb(x, tx, T, w);
  } else {
    detail::check_rfm(x, tx, T, w);
  }
}

// The compressed rows of (c0, c1, c2) with weights w; no rows for empty input (compress() refuses
// a total weight of 0, which an empty part legitimately has).
detail::Compressed compress_or_empty(std::span<const double> c0, std::span<const double> c1,
                                     std::span<const double> c2, std::span<const double> w) {
  bool any = c0.size() > 0 && w.empty();
  for (std::size_t i = 0; !any && i < w.size(); ++i) any = w[i] > 0;
  if (!any) return {};
  return detail::compress(c0, c1, c2, w);
}

template <typename V>
void append(std::vector<double>& to, const V& from) {
  to.insert(to.end(), from.begin(), from.end());
}

}  // namespace

double TransactionStatistics::total_weight() const noexcept {
  return std::accumulate(weight.begin(), weight.end(), 0.0);
}

double SpendStatistics::total_weight() const noexcept {
  return std::accumulate(weight.begin(), weight.end(), 0.0);
}

TransactionStatistics transaction_statistics(std::span<const double> frequency,
                                             std::span<const double> recency,
                                             std::span<const double> T,
                                             std::span<const double> weights,
                                             StatisticsKind kind) {
  check_columns(frequency, recency, T, weights, kind);
  detail::Compressed d = compress_or_empty(frequency, recency, T, weights);
  TransactionStatistics out;
  out.kind = kind;
  out.frequency = std::move(d.c0);
  out.recency = std::move(d.c1);
  out.T = std::move(d.c2);
  out.weight = std::move(d.w);
  return out;
}

SpendStatistics spend_statistics(std::span<const double> frequency,
                                 std::span<const double> monetary_value,
                                 std::span<const double> weights) {
  detail::check_spend(frequency, monetary_value, weights, true);
  const std::vector<double> zeros(frequency.size(), 0.0);
  detail::Compressed d = compress_or_empty(frequency, monetary_value, zeros, weights);
  SpendStatistics out;
  out.frequency = std::move(d.c0);
  out.monetary_value = std::move(d.c1);
  out.weight = std::move(d.w);
  return out;
}

// Concatenating two sets of rows and compressing them again adds the weights of equal rows and
// sorts; the rows were checked when each side was built.
TransactionStatistics merge(const TransactionStatistics& a, const TransactionStatistics& b) {
  if (a.kind != b.kind && a.size() > 0 && b.size() > 0) {
    throw_invalid("kind", std::string("cannot merge ") + kind_name(a.kind) + " statistics with " +
                              kind_name(b.kind) + " statistics");
  }
  const auto check_side = [](const TransactionStatistics& s, const char* side) {
    const std::size_t n = s.weight.size();
    if (s.frequency.size() != n || s.recency.size() != n || s.T.size() != n) {
      throw_invalid(side, "frequency, recency, T and weight must have one length");
    }
  };
  check_side(a, "a");
  check_side(b, "b");
  std::vector<double> x, tx, T, w;
  for (auto* v : {&x, &tx, &T, &w}) v->reserve(a.size() + b.size());
  append(x, a.frequency), append(x, b.frequency);
  append(tx, a.recency), append(tx, b.recency);
  append(T, a.T), append(T, b.T);
  append(w, a.weight), append(w, b.weight);
  const StatisticsKind kind = a.size() > 0 ? a.kind : b.kind;
  return transaction_statistics(x, tx, T, w, kind);
}

SpendStatistics merge(const SpendStatistics& a, const SpendStatistics& b) {
  const auto check_side = [](const SpendStatistics& s, const char* side) {
    const std::size_t n = s.weight.size();
    if (s.frequency.size() != n || s.monetary_value.size() != n) {
      throw_invalid(side, "frequency, monetary_value and weight must have one length");
    }
  };
  check_side(a, "a");
  check_side(b, "b");
  std::vector<double> x, m, w;
  for (auto* v : {&x, &m, &w}) v->reserve(a.size() + b.size());
  append(x, a.frequency), append(x, b.frequency);
  append(m, a.monetary_value), append(m, b.monetary_value);
  append(w, a.weight), append(w, b.weight);
  return spend_statistics(x, m, w);
}

}  // namespace v0
}  // namespace crmkit
