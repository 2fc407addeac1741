// Loyalty metrics (crmkit/loyalty/metrics.hpp, crmkit/analytics/loyalty.hpp): the cohort matrix
// on hand-made data and on the CDNOW sample (against a naive count), retention and churn, repeat
// purchase rate, NPS, CSAT, referral rate and word of mouth with exact values, and the store-level
// calls with fully and partly refunded purchases.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "crmkit/crmkit.hpp"
#include "support.hpp"

using namespace crmkit;

namespace {

std::int64_t t(const char* iso) { return Timestamp::parse(iso).micros(); }
Timestamp ts(const char* iso) { return Timestamp::parse(iso); }
// The last microsecond of a day given as "YYYY-MM-DD".
Timestamp end_of(const char* day) {
  return Timestamp::from_micros(Date::parse(day).start().micros() + 86'400'000'000LL - 1);
}

// Renders a cohort matrix: "label size: c0 c1 ... " with "." for a cell not observable.
std::string render(const CohortMatrix& m) {
  std::string out;
  for (std::size_t r = 0; r < m.cohorts(); ++r) {
    out += m.label[r] + " " + std::to_string(m.size[r]) + ":";
    for (std::size_t k = 0; k < m.ages; ++k) {
      const std::int64_t c = m.count(r, k);
      out += c < 0 ? " ." : " " + std::to_string(c);
    }
    out += "\n";
  }
  return out;
}

// Purchases of the hand-made retention case: customers 1 (A), 2 (B), 3 (C), 4 (D).
struct Log {
  std::vector<std::int64_t> customer;
  std::vector<std::int64_t> at;
  void add(std::int64_t c, const char* iso) {
    customer.push_back(c);
    at.push_back(t(iso));
  }
};

Log retention_log() {
  Log l;
  l.add(1, "2024-01-10T12:00:00Z");
  l.add(4, "2023-01-15T12:00:00Z");
  l.add(2, "2024-01-20T12:00:00Z");
  l.add(3, "2024-02-15T12:00:00Z");
  l.add(1, "2024-03-05T12:00:00Z");
  l.add(4, "2024-03-20T12:00:00Z");
  return l;
}

}  // namespace

// ---- cohort retention -----------------------------------------------------------------------

TEST_CASE("cohort matrix: cohorts by first month, empty cohorts shown, unobservable cells missing") {
  Log l;
  l.add(10, "2024-01-03T00:00:00Z");  // cohort 2024-01, buys again in 02 and 04
  l.add(10, "2024-02-03T00:00:00Z");
  l.add(10, "2024-02-04T00:00:00Z");  // twice in a month counts once
  l.add(10, "2024-04-01T00:00:00Z");
  l.add(11, "2024-01-31T23:59:59Z");  // cohort 2024-01, never again
  l.add(12, "2024-03-15T00:00:00Z");  // cohort 2024-03, again in 04
  l.add(12, "2024-04-10T00:00:00Z");
  l.add(13, "2024-04-20T00:00:00Z");  // after as_of: ignored
  l.add(11, "2024-04-16T00:00:00Z");  // after as_of: ignored
  const CohortMatrix m = cohort_retention(l.customer, l.at, Period::month, ts("2024-04-15T00:00:00Z"));
  CHECK(render(m) ==
        "2024-01 2: 2 1 0 1\n"
        "2024-02 0: 0 0 0 .\n"
        "2024-03 1: 1 1 . .\n");
  CHECK(m.ages == 4);
  CHECK(m.customers() == 3);
  CHECK(m.as_of_period == period_index(ts("2024-04-15T00:00:00Z"), Period::month));
  CHECK(m.last_period_incomplete);
  CHECK(m.incomplete(0, 3));
  CHECK(m.incomplete(2, 1));
  CHECK_FALSE(m.incomplete(0, 2));
  CHECK(m.share(0, 0) == 1.0);
  CHECK(m.share(0, 1) == 0.5);
  CHECK(m.share(0, 2) == 0.0);
  CHECK(std::isnan(m.share(1, 0)));   // empty cohort
  CHECK(std::isnan(m.share(2, 2)));   // not observable yet
  CHECK(m.label[1] == "2024-02");

  // As of the last microsecond of April the last period is complete.
  const CohortMatrix full = cohort_retention(l.customer, l.at, Period::month,
                                             end_of("2024-04-30"));
  CHECK_FALSE(full.last_period_incomplete);
  CHECK(render(full) ==
        "2024-01 2: 2 1 0 2\n"
        "2024-02 0: 0 0 0 .\n"
        "2024-03 1: 1 1 . .\n"
        "2024-04 1: 1 . . .\n");
}

TEST_CASE("cohort matrix: nothing before as_of gives an empty matrix; lengths are checked") {
  Log l;
  l.add(1, "2024-05-01T00:00:00Z");
  const CohortMatrix m = cohort_retention(l.customer, l.at, Period::month, ts("2024-04-01T00:00:00Z"));
  CHECK(m.cohorts() == 0);
  CHECK(m.ages == 0);
  const std::vector<std::int64_t> one = {1};
  const std::vector<std::int64_t> none;
  CHECK_INVALID(cohort_retention(one, none, Period::month, ts("2024-04-01T00:00:00Z")),
                "at_micros: has 0 rows, customer has 1");
  // Days since 2000 (8,858 periods) would make a matrix of 78 million cells.
  const std::vector<std::int64_t> old = {t("2000-01-01T00:00:00Z")};
  CHECK_INVALID_PREFIX(cohort_retention(one, old, Period::day, ts("2024-04-01T00:00:00Z")),
                       "period: the matrix would span 8858 days (at most 8192)");
  CHECK(cohort_retention(one, old, Period::month, ts("2024-04-01T00:00:00Z")).ages == 292);
}

TEST_CASE("cohort matrix: sparse ids, many periods, threads and row order give the same matrix") {
  // 300,000 purchases of 40,000 customers over 3 years in weeks (157 periods: several words per
  // customer), with ids spread over int64 (the hash path) and packed (the direct path).
  std::vector<std::int64_t> packed, sparse, at;
  std::uint64_t x = 12345;
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  const std::int64_t t0 = t("2021-01-01T00:00:00Z");
  for (int i = 0; i < 300'000; ++i) {
    const auto c = static_cast<std::int64_t>(next() % 40'000);
    packed.push_back(c + 1);
    sparse.push_back(c * 7'919'000'000'003LL - 4'000'000'000'000'000'000LL);
    at.push_back(t0 + static_cast<std::int64_t>(next() % (3ULL * 365 * 86'400'000'000ULL)));
  }
  const Timestamp as_of = ts("2023-12-20T00:00:00Z");
  CohortOptions one, two;
  one.threads = 1;
  two.threads = 2;
  const CohortMatrix a = cohort_retention(packed, at, Period::week, as_of, one);
  const CohortMatrix b = cohort_retention(packed, at, Period::week, as_of, two);
  const CohortMatrix c = cohort_retention(sparse, at, Period::week, as_of, two);
  CHECK(a.ages > 128);
  CHECK(a.counts == b.counts);
  CHECK(a.counts == c.counts);
  CHECK(a.size == c.size);

  // A naive count: the set of (customer, week) pairs.
  std::map<std::int64_t, std::set<std::int64_t>> weeks;
  for (std::size_t i = 0; i < packed.size(); ++i) {
    if (at[i] <= as_of.micros())
      weeks[packed[i]].insert(period_index(Timestamp(at[i]), Period::week));
  }
  std::map<std::pair<std::int64_t, std::int64_t>, std::int64_t> cells;
  for (const auto& [cust, ws] : weeks) {
    for (std::int64_t w : ws) ++cells[{*ws.begin(), w - *ws.begin()}];
  }
  std::int64_t checked = 0;
  for (std::size_t r = 0; r < a.cohorts(); ++r) {
    for (std::size_t k = 0; k < a.ages; ++k) {
      if (a.count(r, k) < 0) continue;
      auto it = cells.find({a.cohort[r], static_cast<std::int64_t>(k)});
      const std::int64_t want = it == cells.end() ? 0 : it->second;
      if (a.count(r, k) != want) FAIL_CHECK("cell " << r << "," << k);
      checked += want;
    }
  }
  std::int64_t pairs = 0;
  for (const auto& [cust, ws] : weeks) pairs += static_cast<std::int64_t>(ws.size());
  CHECK(checked == pairs);
}

TEST_CASE("cohort matrix: over 512 periods (sorted pairs instead of bitsets) equals a naive count") {
  // 60,000 purchases of 5,000 customers over 12 years in weeks (627 periods).
  std::vector<std::int64_t> customer, at;
  std::uint64_t x = 99;
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  const std::int64_t t0 = t("2012-01-01T00:00:00Z");
  for (int i = 0; i < 60'000; ++i) {
    customer.push_back(static_cast<std::int64_t>(next() % 5'000));
    at.push_back(t0 + static_cast<std::int64_t>(next() % (12ULL * 365 * 86'400'000'000ULL)));
  }
  const Timestamp as_of = ts("2023-12-31T00:00:00Z");
  const CohortMatrix m = cohort_retention(customer, at, Period::week, as_of);
  CHECK(m.ages > 600);
  std::map<std::int64_t, std::set<std::int64_t>> weeks;
  for (std::size_t i = 0; i < customer.size(); ++i) {
    if (at[i] <= as_of.micros())
      weeks[customer[i]].insert(period_index(Timestamp(at[i]), Period::week));
  }
  std::map<std::pair<std::int64_t, std::int64_t>, std::int64_t> cells;
  for (const auto& [cust, ws] : weeks) {
    for (std::int64_t w : ws) ++cells[{*ws.begin(), w - *ws.begin()}];
  }
  std::size_t wrong = 0;
  for (std::size_t r = 0; r < m.cohorts(); ++r) {
    for (std::size_t k = 0; k < m.ages; ++k) {
      const bool observable = m.cohort[r] + static_cast<std::int64_t>(k) <= m.as_of_period;
      auto it = cells.find({m.cohort[r], static_cast<std::int64_t>(k)});
      const std::int64_t want = !observable ? -1 : it == cells.end() ? 0 : it->second;
      if (m.count(r, k) != want) ++wrong;
    }
  }
  CHECK(wrong == 0);
  CHECK(m.customers() == static_cast<std::int64_t>(weeks.size()));
}

TEST_CASE("cohort matrix on the CDNOW sample: 2,357 customers in 1997-01..03, exact cells") {
  const test::CdnowLog log = test::read_cdnow_log();
  const Timestamp as_of = end_of("1998-06-30");
  const CohortMatrix m = cohort_retention(log.customer, log.time, Period::month, as_of);
  REQUIRE(m.cohorts() == 3);
  CHECK(m.label == std::vector<std::string>{"1997-01", "1997-02", "1997-03"});
  CHECK(m.customers() == 2357);
  CHECK(m.ages == 18);
  CHECK_FALSE(m.last_period_incomplete);
  std::map<std::int64_t, std::set<std::int64_t>> months;
  for (std::size_t i = 0; i < log.customer.size(); ++i) {
    months[log.customer[i]].insert(period_index(Timestamp(log.time[i]), Period::month));
  }
  std::map<std::pair<std::int64_t, std::int64_t>, std::int64_t> cells;
  std::map<std::int64_t, std::int64_t> sizes;
  for (const auto& [cust, ms] : months) {
    ++sizes[*ms.begin()];
    for (std::int64_t mo : ms) ++cells[{*ms.begin(), mo - *ms.begin()}];
  }
  for (std::size_t r = 0; r < m.cohorts(); ++r) {
    CHECK(m.size[r] == sizes[m.cohort[r]]);
    CHECK(m.share(r, 0) == 1.0);
    for (std::size_t k = 0; k < m.ages; ++k) {
      const bool observable = m.cohort[r] + static_cast<std::int64_t>(k) <= m.as_of_period;
      CHECK(m.count(r, k) == (observable ? cells[{m.cohort[r], static_cast<std::int64_t>(k)}] : -1));
      if (observable) {
        CHECK(m.share(r, k) >= 0.0);
        CHECK(m.share(r, k) <= 1.0);
      }
    }
  }
  // A few cells written out (cohort sizes 781 / 857 / 719; the naive count above agrees).
  CHECK(m.size == std::vector<std::int64_t>{781, 857, 719});
  CHECK(m.count(0, 1) == cells[{m.cohort[0], 1}]);
}

// ---- retention and churn --------------------------------------------------------------------

TEST_CASE("retention and churn per month, with a reactivated customer (active 365 days)") {
  const Log l = retention_log();
  RetentionOptions o;
  o.start = ts("2024-01-01T00:00:00Z");
  const RetentionTable r = retention(l.customer, l.at, Period::month, end_of("2024-03-31"), o);
  REQUIRE(r.size() == 3);
  CHECK(r.periods.label == std::vector<std::string>{"2024-01", "2024-02", "2024-03"});
  CHECK_FALSE(r.periods.last_period_incomplete);
  CHECK(r.active_start == std::vector<std::int64_t>{1, 2, 3});
  CHECK(r.active_end == std::vector<std::int64_t>{2, 3, 4});
  CHECK(r.acquired == std::vector<std::int64_t>{2, 1, 0});
  CHECK(r.retained == std::vector<std::int64_t>{0, 2, 3});
  CHECK(r.reactivated == std::vector<std::int64_t>{0, 0, 1});
  CHECK(r.churned == std::vector<std::int64_t>{1, 0, 0});
  CHECK(r.retention_rate[0] == 0.0);
  CHECK(r.churn_rate[0] == 1.0);
  CHECK(r.retention_rate[1] == 1.0);
  CHECK(r.retention_rate[2] == Approx(4.0 / 3.0));
  CHECK(r.churn_rate[2] == Approx(-1.0 / 3.0));
  CHECK(r.strict_retention_rate[2] == 1.0);
  CHECK(r.strict_churn_rate[0] == 1.0);

  // Without a start: from D's first month (2023-01), S = 0 there (rates NaN).
  const RetentionTable all = retention(l.customer, l.at, Period::month, end_of("2024-03-31"));
  REQUIRE(all.size() == 15);
  CHECK(all.periods.label.front() == "2023-01");
  CHECK(all.active_start[0] == 0);
  CHECK(all.active_end[0] == 1);
  CHECK(std::isnan(all.retention_rate[0]));
  CHECK(all.retention_rate[5] == 1.0);

  // A shorter window: active 30 days.
  o.active_days = 30;
  const RetentionTable s = retention(l.customer, l.at, Period::month, end_of("2024-03-31"), o);
  // Ends: Jan 31 -> B (Jan 20); A (Jan 10) is 21 days before: active too. Feb 29 -> C (Feb 15).
  // Mar 31 -> D (Mar 20), A (Mar 5, 26 days before).
  CHECK(s.active_start == std::vector<std::int64_t>{0, 2, 1});
  CHECK(s.active_end == std::vector<std::int64_t>{2, 1, 2});
  CHECK(s.retained == std::vector<std::int64_t>{0, 0, 0});
  CHECK(s.reactivated == std::vector<std::int64_t>{0, 0, 2});
  CHECK(s.churned == std::vector<std::int64_t>{0, 2, 1});
}

TEST_CASE("retention: the incomplete last period is measured at as_of") {
  const Log l = retention_log();
  RetentionOptions o;
  o.start = ts("2024-03-01T00:00:00Z");
  o.active_days = 10;
  // As of Mar 12: A (Mar 5) active; D not yet.
  const RetentionTable r = retention(l.customer, l.at, Period::month, ts("2024-03-12T00:00:00Z"), o);
  REQUIRE(r.size() == 1);
  CHECK(r.periods.last_period_incomplete);
  CHECK(r.periods.end_micros[0] == t("2024-03-12T00:00:00Z"));
  CHECK(r.active_end[0] == 1);
  CHECK(r.reactivated[0] == 1);
  o.active_days = 0;
  CHECK_INVALID(retention(l.customer, l.at, Period::month, ts("2024-03-12T00:00:00Z"), o),
                "active_days: must be in 1..36500, got 0");
  o.active_days = 10;
  o.start = ts("2024-04-01T00:00:00Z");
  CHECK_INVALID(retention(l.customer, l.at, Period::month, ts("2024-03-12T00:00:00Z"), o),
                "start: 2024-04-01T00:00:00Z is after as_of 2024-03-12T00:00:00Z");
}

// ---- repeat purchase rate -------------------------------------------------------------------

TEST_CASE("repeat purchase rate as of a date and per month") {
  Log l = retention_log();
  const RepeatRate r = repeat_purchase_rate(l.customer, l.at, end_of("2024-03-31"));
  CHECK(r.customers == 4);
  CHECK(r.repeat_customers == 2);  // A (January, March) and D (2023, March)
  CHECK(r.rate == 0.5);
  const RepeatRate before = repeat_purchase_rate(l.customer, l.at, end_of("2024-02-29"));
  CHECK(before.customers == 4);
  CHECK(before.repeat_customers == 0);
  CHECK(before.rate == 0.0);
  l.add(3, "2024-02-20T00:00:00Z");  // C twice in February
  const RepeatRateTable p =
      repeat_purchase_rate(l.customer, l.at, Period::month, end_of("2024-03-31"),
                           ts("2024-01-01T00:00:00Z"));
  CHECK(p.periods.label == std::vector<std::string>{"2024-01", "2024-02", "2024-03"});
  CHECK(p.buyers == std::vector<std::int64_t>{2, 1, 2});
  CHECK(p.repeat_buyers == std::vector<std::int64_t>{0, 1, 0});
  CHECK(p.rate[1] == 1.0);
  CHECK(p.customers == std::vector<std::int64_t>{3, 4, 4});
  CHECK(p.repeat_customers == std::vector<std::int64_t>{0, 1, 3});
  CHECK(p.cumulative_rate[2] == 0.75);
  const std::vector<std::int64_t> none;
  CHECK(std::isnan(repeat_purchase_rate(none, none, end_of("2024-03-31")).rate));
}

// ---- NPS, CSAT, word of mouth --------------------------------------------------------------

namespace {

struct Surveys {
  std::vector<std::int64_t> customer, at;
  std::vector<std::int8_t> nps, csat;
  void add(std::int64_t c, const char* iso, int n, int s) {
    customer.push_back(c);
    at.push_back(t(iso));
    nps.push_back(static_cast<std::int8_t>(n));
    csat.push_back(static_cast<std::int8_t>(s));
  }
};

Surveys surveys() {
  Surveys s;
  s.add(1, "2024-01-05T00:00:00Z", 6, -1);
  s.add(1, "2024-02-05T00:00:00Z", 10, 5);
  s.add(2, "2024-01-10T00:00:00Z", 9, 4);
  s.add(3, "2024-01-15T00:00:00Z", 7, 3);
  s.add(4, "2024-02-20T00:00:00Z", 9, 2);
  s.add(5, "2024-02-25T00:00:00Z", -1, 4);
  s.add(6, "2024-03-01T00:00:00Z", -1, 1);
  s.add(2, "2024-02-11T00:00:00Z", 8, -1);
  return s;
}

}  // namespace

TEST_CASE("NPS: promoters 9-10, passives 7-8, detractors 0-6; every answer or the latest") {
  const Surveys s = surveys();
  const Nps all = nps(s.customer, s.at, s.nps, end_of("2024-03-31"));
  CHECK(all.responses == 6);
  CHECK(all.promoters == 3);
  CHECK(all.passives == 2);
  CHECK(all.detractors == 1);
  CHECK(all.score == Approx(100.0 * 2 / 6));
  SurveyOptions latest;
  latest.latest_only = true;
  const Nps last = nps(s.customer, s.at, s.nps, end_of("2024-03-31"), latest);
  CHECK(last.responses == 4);
  CHECK(last.promoters == 2);
  CHECK(last.passives == 2);
  CHECK(last.detractors == 0);
  CHECK(last.score == 50.0);
  // As of January 31 only January's answers count.
  const Nps jan = nps(s.customer, s.at, s.nps, end_of("2024-01-31"));
  CHECK(jan.responses == 3);
  CHECK(jan.score == 0.0);

  const NpsTable m = nps(s.customer, s.at, s.nps, Period::month, end_of("2024-03-31"));
  CHECK(m.periods.label == std::vector<std::string>{"2024-01", "2024-02", "2024-03"});
  CHECK(m.responses == std::vector<std::int64_t>{3, 3, 0});
  CHECK(m.promoters == std::vector<std::int64_t>{1, 2, 0});
  CHECK(m.score[0] == 0.0);
  CHECK(m.score[1] == Approx(200.0 / 3));
  CHECK(std::isnan(m.score[2]));

  std::vector<std::int8_t> bad = s.nps;
  bad[3] = 11;
  CHECK_INVALID(nps(s.customer, s.at, bad, end_of("2024-03-31")),
                "score[3]: an NPS answer must be 0..10 (or -1: none), got 11");
}

TEST_CASE("NPS latest only: answers at the same microsecond, the later row counts") {
  Surveys s;
  s.add(1, "2024-01-05T00:00:00Z", 0, -1);
  s.add(1, "2024-01-05T00:00:00Z", 10, -1);
  SurveyOptions latest;
  latest.latest_only = true;
  CHECK(nps(s.customer, s.at, s.nps, end_of("2024-01-31"), latest).promoters == 1);
  std::swap(s.nps[0], s.nps[1]);
  CHECK(nps(s.customer, s.at, s.nps, end_of("2024-01-31"), latest).detractors == 1);
}

TEST_CASE("CSAT: the share of 4-5 answers, overall and per month") {
  const Surveys s = surveys();
  const Csat c = csat(s.customer, s.at, s.csat, end_of("2024-03-31"));
  CHECK(c.responses == 6);
  CHECK(c.satisfied == 3);
  CHECK(c.score == 0.5);
  SurveyOptions since;
  since.start = ts("2024-02-01T00:00:00Z");
  const Csat feb = csat(s.customer, s.at, s.csat, end_of("2024-03-31"), since);
  CHECK(feb.responses == 4);
  CHECK(feb.satisfied == 2);
  const CsatTable m = csat(s.customer, s.at, s.csat, Period::month, end_of("2024-03-31"));
  CHECK(m.responses == std::vector<std::int64_t>{2, 3, 1});
  CHECK(m.satisfied == std::vector<std::int64_t>{1, 2, 0});
  CHECK(m.score[2] == 0.0);
  std::vector<std::int8_t> bad = s.csat;
  bad[0] = 0;
  CHECK_INVALID(csat(s.customer, s.at, bad, end_of("2024-03-31")),
                "score[0]: a CSAT answer must be 1..5 (or -1: none), got 0");
}

TEST_CASE("word of mouth: satisfied tell 3, dissatisfied 10 (seed 004), configurable") {
  const Surveys s = surveys();
  const WordOfMouth w = word_of_mouth(s.customer, s.at, s.nps, s.csat, end_of("2024-03-31"));
  // Latest answers: 1 -> NPS 10, 2 -> NPS 8, 3 -> NPS 7, 4 -> NPS 9 (its CSAT 2 is not read),
  // 5 -> CSAT 4, 6 -> CSAT 1.
  CHECK(w.satisfied == 3);
  CHECK(w.neutral == 2);
  CHECK(w.dissatisfied == 1);
  CHECK(w.positive_reach == 9.0);
  CHECK(w.negative_reach == 10.0);
  CHECK(w.net_reach == -1.0);
  WordOfMouthOptions o;
  o.tell_satisfied = 5;
  o.tell_dissatisfied = 2;
  const WordOfMouth v = word_of_mouth(s.customer, s.at, s.nps, s.csat, end_of("2024-03-31"), o);
  CHECK(v.net_reach == 13.0);
  // Per month, each customer's latest answer in the month.
  const WordOfMouthTable m =
      word_of_mouth(s.customer, s.at, s.nps, s.csat, Period::month, end_of("2024-03-31"));
  CHECK(m.satisfied == std::vector<std::int64_t>{1, 3, 0});
  CHECK(m.neutral == std::vector<std::int64_t>{1, 1, 0});
  CHECK(m.dissatisfied == std::vector<std::int64_t>{1, 0, 1});
  CHECK(m.net_reach == std::vector<double>{-7.0, 9.0, -10.0});
  o.tell_dissatisfied = -1;
  CHECK_INVALID(word_of_mouth(s.customer, s.at, s.nps, s.csat, end_of("2024-03-31"), o),
                "tell_dissatisfied: must be a finite number >= 0, got -1.000000");
}

// ---- referral rate --------------------------------------------------------------------------

TEST_CASE("referral rate: customers who referred someone over customers") {
  const Log l = retention_log();
  const std::vector<std::int64_t> referrer = {1, 1, 3, 9};
  const std::vector<std::int64_t> at = {t("2024-02-01T00:00:00Z"), t("2024-02-10T00:00:00Z"),
                                        t("2024-03-01T00:00:00Z"), t("2024-03-02T00:00:00Z")};
  const ReferralRate r = referral_rate(l.customer, l.at, referrer, at, end_of("2024-03-31"));
  CHECK(r.customers == 4);
  CHECK(r.referrers == 2);
  CHECK(r.referrers_without_purchase == 1);
  CHECK(r.referrals == 4);
  CHECK(r.rate == 0.5);
  const ReferralRateTable m = referral_rate(l.customer, l.at, referrer, at, Period::month,
                                            end_of("2024-03-31"), ts("2024-01-01T00:00:00Z"));
  CHECK(m.customers == std::vector<std::int64_t>{3, 4, 4});
  CHECK(m.referrers == std::vector<std::int64_t>{0, 1, 1});
  CHECK(m.referrers_without_purchase == std::vector<std::int64_t>{0, 0, 1});
  CHECK(m.referrals == std::vector<std::int64_t>{0, 2, 2});
  CHECK(m.rate == std::vector<double>{0.0, 0.25, 0.25});
}

// ---- from a store ---------------------------------------------------------------------------

TEST_CASE("from a store: fully refunded purchases do not count, partly refunded ones do") {
  Store store = Store::open(":memory:", test::usd());
  const CustomerId a = store.create_customer(test::person("a", "A")).id;
  const CustomerId b = store.create_customer(test::person("b", "B")).id;
  const CustomerId c = store.create_customer(test::person("c", "C")).id;
  const CustomerId d = store.create_customer(test::person("d", "D")).id;
  store.append_event(test::purchase_event(a, "10.00", "2024-01-05T00:00:00Z"));
  store.append_event(test::purchase_event(a, "12.00", "2024-02-05T00:00:00Z"));
  // B's only January purchase is fully refunded (in two refunds): B's cohort is March.
  const Event bj = store.append_event(test::purchase_event(b, "20.00", "2024-01-07T00:00:00Z"));
  store.append_event(test::refund_event(b, bj.id, "5.00", "2024-01-09T00:00:00Z"));
  store.append_event(test::refund_event(b, bj.id, "15.00", "2024-01-10T00:00:00Z"));
  store.append_event(test::purchase_event(b, "8.00", "2024-03-02T00:00:00Z"));
  // C's purchase is partly refunded: it counts.
  const Event cj = store.append_event(test::purchase_event(c, "30.00", "2024-01-20T00:00:00Z"));
  store.append_event(test::refund_event(c, cj.id, "29.99", "2024-01-21T00:00:00Z"));
  // D's purchase is refunded in full only after as_of: it counts as of March.
  const Event dj = store.append_event(test::purchase_event(d, "9.00", "2024-02-10T00:00:00Z"));
  store.append_event(test::refund_event(d, dj.id, "9.00", "2024-04-10T00:00:00Z"));

  const CohortMatrix m = cohort_retention(store, Period::month, end_of("2024-03-31"));
  CHECK(render(m) ==
        "2024-01 2: 2 1 0\n"
        "2024-02 1: 1 0 .\n"
        "2024-03 1: 1 . .\n");
  // As of April 30 D's purchase is refunded in full: D is in no cohort, February is empty.
  const CohortMatrix later = cohort_retention(store, Period::month, end_of("2024-04-30"));
  CHECK(render(later) ==
        "2024-01 2: 2 1 0 0\n"
        "2024-02 0: 0 0 0 .\n"
        "2024-03 1: 1 0 . .\n");

  const RepeatRate r = repeat_purchase_rate(store, end_of("2024-03-31"));
  CHECK(r.customers == 4);
  CHECK(r.repeat_customers == 1);

  // Surveys and referrals.
  auto survey = [&](CustomerId who, const char* at, std::optional<int> n, std::optional<int> s) {
    Event e;
    e.customer = who;
    e.at = ts(at);
    SurveyResponse sr;
    sr.nps = n;
    sr.csat = s;
    e.payload = sr;
    store.append_event(e);
  };
  survey(a, "2024-02-01T00:00:00Z", 10, 5);
  survey(b, "2024-02-02T00:00:00Z", 3, std::nullopt);
  survey(c, "2024-02-03T00:00:00Z", std::nullopt, 4);
  Event ref;
  ref.customer = a;
  ref.at = ts("2024-03-03T00:00:00Z");
  ref.payload = Referral{d};
  store.append_event(ref);
  const Nps n = nps(store, end_of("2024-03-31"));
  CHECK(n.responses == 2);
  CHECK(n.score == 0.0);
  const Csat cs = csat(store, end_of("2024-03-31"));
  CHECK(cs.responses == 2);
  CHECK(cs.score == 1.0);
  const WordOfMouth w = word_of_mouth(store, end_of("2024-03-31"));
  CHECK(w.satisfied == 2);
  CHECK(w.dissatisfied == 1);
  CHECK(w.net_reach == -4.0);
  const ReferralRate rr = referral_rate(store, end_of("2024-03-31"));
  CHECK(rr.customers == 4);
  CHECK(rr.referrers == 1);
  CHECK(rr.rate == 0.25);
  const RetentionTable rt = retention(store, Period::month, end_of("2024-03-31"));
  CHECK(rt.acquired == std::vector<std::int64_t>{2, 1, 1});

  const CustomerLoyalty cl = customer_loyalty(store, Period::month, end_of("2024-03-31"));
  REQUIRE(cl.size() == 4);
  CHECK(cl.external_id == std::vector<std::string>{"a", "b", "c", "d"});
  CHECK(cl.cohort_label == std::vector<std::string>{"2024-01", "2024-03", "2024-01", "2024-02"});
  CHECK(cl.purchases == std::vector<std::int64_t>{2, 1, 1, 1});
  CHECK(cl.referrals == std::vector<std::int64_t>{1, 0, 0, 0});
  CHECK(cl.satisfaction == std::vector<std::int8_t>{1, -1, 1, -2});
  CHECK(cl.active == std::vector<std::uint8_t>{1, 1, 1, 1});
}

TEST_CASE("from a store: the CDNOW sample's cohort matrix equals the pure one") {
  const test::CdnowLog log = test::read_cdnow_log();
  PurchaseImport rows;
  rows.currency = "USD";
  for (std::size_t i = 0; i < log.customer.size(); ++i) {
    rows.customer_external_id.push_back("cdnow-" + std::to_string(log.customer[i]));
    rows.at.push_back(Timestamp(log.time[i]));
    rows.amount.push_back(log.dollars[i]);
  }
  Store store = Store::open(":memory:", test::usd());
  store.import_purchases(rows);
  const CohortMatrix s = cohort_retention(store, Period::month, end_of("1998-06-30"));
  const CohortMatrix p = cohort_retention(log.customer, log.time, Period::month, end_of("1998-06-30"));
  CHECK(s.size == p.size);
  CHECK(s.counts == p.counts);
  CHECK(s.customers() == 2357);
}
