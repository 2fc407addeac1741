// Tests of crmkit/value/statistics.hpp: the compressed form of a fit's data, built per part,
// merged in any grouping, and fitted to the same parameters as the whole data.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <random>
#include <vector>

#include "crmkit/base/error.hpp"
#include "crmkit/value/models.hpp"
#include "crmkit/value/statistics.hpp"
#include "support.hpp"

using namespace crmkit;

namespace {

struct Rows {
  std::vector<double> x, tx, T;
};

// Rows [from, to) of r.
Rows slice(const Rows& r, std::size_t from, std::size_t to) {
  Rows out;
  out.x.assign(r.x.begin() + from, r.x.begin() + to);
  out.tx.assign(r.tx.begin() + from, r.tx.begin() + to);
  out.T.assign(r.T.begin() + from, r.T.begin() + to);
  return out;
}

TransactionStatistics stats(const Rows& r) { return transaction_statistics(r.x, r.tx, r.T); }

Rows cdnow_rows() {
  const auto c = crmkit::test::read_cdnow_summary();
  return Rows{c.x, c.tx, c.T};
}

bool same(const TransactionStatistics& a, const TransactionStatistics& b) {
  return a.kind == b.kind && a.frequency == b.frequency && a.recency == b.recency && a.T == b.T &&
         a.weight == b.weight;
}

}  // namespace

TEST_CASE("transaction statistics are the distinct rows, sorted, with their counts", "[statistics]") {
  const std::vector<double> x{2, 0, 2, 1, 0, 2}, tx{5, 0, 5, 3, -0.0, 4}, T{9, 7, 9, 8, 7, 9};
  const TransactionStatistics s = transaction_statistics(x, tx, T);
  CHECK(s.kind == StatisticsKind::continuous);
  CHECK(s.frequency == std::vector<double>{0, 1, 2, 2});
  CHECK(s.recency == std::vector<double>{0, 3, 4, 5});
  CHECK(s.T == std::vector<double>{7, 8, 9, 9});
  CHECK(s.weight == std::vector<double>{2, 1, 1, 2});
  CHECK(s.size() == 4);
  CHECK(s.total_weight() == 6.0);

  const std::vector<double> w{1, 0, 2.5, 1, 3, 1};  // the weight-0 row is dropped
  const TransactionStatistics sw = transaction_statistics(x, tx, T, w);
  CHECK(sw.weight == std::vector<double>{3, 1, 1, 3.5});
}

TEST_CASE("merging statistics is associative and commutative and equals the whole data's",
          "[statistics]") {
  const Rows all = cdnow_rows();  // 2,357 customers
  const std::size_t n = all.x.size();
  const TransactionStatistics whole = stats(all);
  CHECK(whole.total_weight() == 2357.0);
  CHECK(whole.size() < n);

  const TransactionStatistics a = stats(slice(all, 0, 700)), b = stats(slice(all, 700, 1500)),
                              c = stats(slice(all, 1500, n));
  CHECK(same(merge(merge(a, b), c), whole));
  CHECK(same(merge(a, merge(b, c)), whole));
  CHECK(same(merge(c, merge(a, b)), whole));
  CHECK(same(merge(merge(b, a), c), whole));

  // An empty part (a partition without customers) is the identity.
  const TransactionStatistics empty = transaction_statistics({}, {}, {});
  CHECK(empty.size() == 0);
  CHECK(empty.total_weight() == 0.0);
  CHECK(same(merge(empty, whole), whole));
  CHECK(same(merge(whole, empty), whole));

  // Rows shuffled across parts in random order: still the same statistics.
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937_64(20261202));
  Rows shuffled;
  for (std::size_t i : order) {
    shuffled.x.push_back(all.x[i]);
    shuffled.tx.push_back(all.tx[i]);
    shuffled.T.push_back(all.T[i]);
  }
  TransactionStatistics acc = transaction_statistics({}, {}, {});
  for (std::size_t from = 0; from < n; from += 97) acc = merge(stats(slice(shuffled, from, std::min(n, from + 97))), acc);
  CHECK(same(acc, whole));
}

TEST_CASE("a fit on merged statistics gives the whole data's parameters exactly", "[statistics]") {
  const Rows all = cdnow_rows();
  const std::size_t n = all.x.size();
  const TransactionStatistics s =
      merge(stats(slice(all, 0, 1000)), stats(slice(all, 1000, n)));

  const BetaGeoModel direct = BetaGeoModel::fit(all.x, all.tx, all.T);
  const BetaGeoModel merged = BetaGeoModel::fit(s.frequency, s.recency, s.T, s.weight);
  CHECK(direct.params().r == merged.params().r);
  CHECK(direct.params().alpha == merged.params().alpha);
  CHECK(direct.params().a == merged.params().a);
  CHECK(direct.params().b == merged.params().b);
  CHECK(direct.report().log_likelihood == merged.report().log_likelihood);
  // The published CDNOW figures (Fader, Hardie, Lee 2005): r 0.243, alpha 4.414, a 0.793, b 2.426.
  CHECK(merged.params().r == Approx(0.2426).epsilon(1e-3));
  CHECK(merged.params().alpha == Approx(4.4137).epsilon(1e-3));

  const ParetoNBDModel pd = ParetoNBDModel::fit(all.x, all.tx, all.T);
  const ParetoNBDModel pm = ParetoNBDModel::fit(s.frequency, s.recency, s.T, s.weight);
  CHECK(pd.params().r == pm.params().r);
  CHECK(pd.params().alpha == pm.params().alpha);
  CHECK(pd.params().s == pm.params().s);
  CHECK(pd.params().beta == pm.params().beta);
}

TEST_CASE("discrete statistics fit BG/BB exactly as the whole data", "[statistics]") {
  // Fader, Hardie, Shang (2010) donations data shape: 6 opportunities, (x, t_x) with counts.
  const std::vector<double> x{6, 5, 4, 3, 2, 1, 0, 5, 4, 3, 2, 1},
      tx{6, 6, 6, 6, 6, 6, 0, 5, 5, 5, 5, 5}, n(12, 6.0),
      w{1203, 728, 512, 357, 234, 129, 3464, 335, 284, 225, 173, 119};
  const TransactionStatistics s =
      merge(transaction_statistics(std::span(x).first(6), std::span(tx).first(6),
                                   std::span(n).first(6), std::span(w).first(6),
                                   StatisticsKind::discrete),
            transaction_statistics(std::span(x).subspan(6), std::span(tx).subspan(6),
                                   std::span(n).subspan(6), std::span(w).subspan(6),
                                   StatisticsKind::discrete));
  CHECK(s.kind == StatisticsKind::discrete);
  CHECK(s.total_weight() == 7763.0);
  const BetaGeoBetaBinomModel direct = BetaGeoBetaBinomModel::fit(x, tx, n, w);
  const BetaGeoBetaBinomModel merged = BetaGeoBetaBinomModel::fit(s.frequency, s.recency, s.T, s.weight);
  CHECK(direct.params().alpha == merged.params().alpha);
  CHECK(direct.params().beta == merged.params().beta);
  CHECK(direct.params().gamma == merged.params().gamma);
  CHECK(direct.params().delta == merged.params().delta);
}

TEST_CASE("spend statistics fit Gamma-Gamma exactly as the whole data", "[statistics]") {
  const std::vector<double> x{1, 2, 1, 3, 2, 1, 5, 2}, m{10.5, 22.25, 10.5, 31, 22.25, 7.75, 40, 18};
  const SpendStatistics s = merge(spend_statistics(std::span(x).first(3), std::span(m).first(3)),
                                  spend_statistics(std::span(x).subspan(3), std::span(m).subspan(3)));
  CHECK(s.frequency == std::vector<double>{1, 1, 2, 2, 3, 5});
  CHECK(s.monetary_value == std::vector<double>{7.75, 10.5, 18, 22.25, 31, 40});
  CHECK(s.weight == std::vector<double>{1, 2, 1, 2, 1, 1});
  const GammaGammaModel direct = GammaGammaModel::fit(x, m);
  const GammaGammaModel merged = GammaGammaModel::fit(s.frequency, s.monetary_value, s.weight);
  CHECK(direct.params().p == merged.params().p);
  CHECK(direct.params().q == merged.params().q);
  CHECK(direct.params().v == merged.params().v);
}

TEST_CASE("Gamma-Gamma on 20,000 rows: the same fit, bit for bit, whatever the row order, "
          "with unit weights and with equal rows merged", "[statistics]") {
  // Large frequency groups (radix-sorted), small ones (insertion-sorted), many ties (cents).
  std::mt19937_64 rng(20261203);
  std::geometric_distribution<int> freq(0.35);
  std::gamma_distribution<double> spend(3.0, 12.0);
  std::vector<double> x, m;
  for (int i = 0; i < 20000; ++i) {
    x.push_back(1.0 + freq(rng));
    m.push_back(std::round(spend(rng) * 20.0) / 20.0 + 0.05);
  }
  const GammaGammaModel direct = GammaGammaModel::fit(x, m);
  REQUIRE(direct.report().converged);
  std::vector<std::size_t> order(x.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<double> xs, ms;
  for (std::size_t i : order) {
    xs.push_back(x[i]);
    ms.push_back(m[i]);
  }
  const std::vector<double> ones(x.size(), 1.0);
  const SpendStatistics merged = spend_statistics(xs, ms);
  CHECK(merged.frequency.size() < x.size() / 2);  // ties were merged
  for (const GammaGammaModel& other :
       {GammaGammaModel::fit(xs, ms), GammaGammaModel::fit(x, m, ones),
        GammaGammaModel::fit(merged.frequency, merged.monetary_value, merged.weight)}) {
    CHECK(other.params().p == direct.params().p);
    CHECK(other.params().q == direct.params().q);
    CHECK(other.params().v == direct.params().v);
    CHECK(other.report().log_likelihood == direct.report().log_likelihood);
  }
}

TEST_CASE("statistics refuse the rows the fits refuse, naming them", "[statistics]") {
  const std::vector<double> x{1, 2, 0}, tx{1, 5, 0}, T{3, 4, 2};
  CHECK_INVALID(transaction_statistics(x, tx, T),
                "recency[1]: must be finite and in [0, T] (T = 4), got 5");
  const std::vector<double> xd{1, 2.5}, txd{1, 2}, nd{3, 3};
  CHECK_INVALID_PREFIX(transaction_statistics(xd, txd, nd, {}, StatisticsKind::discrete),
                       "frequency[1]: ");
  const std::vector<double> w{1, -1};
  const std::vector<double> ok_x{1, 2}, ok_tx{1, 2}, ok_T{3, 3};
  CHECK_INVALID(transaction_statistics(ok_x, ok_tx, ok_T, w),
                "weights[1]: must be finite and >= 0, got -1");
  const std::vector<double> sx{1, 0}, sm{5, 0};
  CHECK_INVALID(spend_statistics(sx, sm),
                "frequency[1]: must be an integer >= 1 (filter out frequency 0 rows)");

  const TransactionStatistics c = transaction_statistics(ok_x, ok_tx, ok_T);
  const TransactionStatistics d =
      transaction_statistics(ok_x, ok_tx, ok_T, {}, StatisticsKind::discrete);
  CHECK_INVALID(merge(c, d), "kind: cannot merge continuous statistics with discrete statistics");
  TransactionStatistics broken = c;
  broken.T.pop_back();
  CHECK_INVALID(merge(c, broken), "b: frequency, recency, T and weight must have one length");
}
