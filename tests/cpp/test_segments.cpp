// Tests for crmkit/loyalty/segments.hpp and crmkit/analytics/segments.hpp: labels, RFM labels,
// rule segments from JSON (with their path errors), the drift matrix and its sums, series,
// mainstream segments with their tie rule, the one-pass purchase segmentation (thread count
// independent), a hand-made store at three month ends, and the CDNOW sample month by month.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "crmkit/crmkit.hpp"
#include "support.hpp"

using namespace crmkit;
using crmkit::test::catch_error;
using crmkit::test::person;
using crmkit::test::purchase_event;
using crmkit::test::refund_event;
using crmkit::test::usd;

namespace {

SegmentLabels labels(std::vector<std::string> names, std::vector<std::int32_t> code) {
  SegmentLabels l;
  l.names = std::move(names);
  l.code = std::move(code);
  return l;
}

// The matrix as text, one "from -> to: n" line per non-zero cell, in axis order.
std::string render(const DriftMatrix& m) {
  std::string out;
  for (std::size_t r = 0; r < m.rows(); ++r)
    for (std::size_t c = 0; c < m.columns(); ++c)
      if (m.at(r, c) != 0)
        out += m.from[r] + " -> " + m.to[c] + ": " + std::to_string(m.at(r, c)) + "\n";
  return out;
}

Timestamp month_end(int year, int month) {
  const Date next = month == 12 ? Date(year + 1, 1, 1) : Date(year, month + 1, 1);
  return Timestamp(next.start().micros() - 1);
}

FactSchema rfm_like_schema() {
  FactSchema s;
  s.add("spend", FactType::number);
  s.add("orders", FactType::integer);
  return s;
}

const char* kRules = R"({"segments": [
  {"name": "Big", "when": {">=": [{"var": "spend"}, 100]}},
  {"name": "Loyal", "when": {">=": [{"var": "orders"}, 3]}, "description": "three orders"}],
  "fallback": "Small"})";

}  // namespace

// ---- pure ----

TEST_CASE("labels from names put the given order first, then the rest by name") {
  const std::vector<std::string> seg = {"b", "", "z", "a", "b"};
  const std::vector<std::string> order = {"z", "q"};
  const SegmentLabels l = labels_from_names(seg, order);
  CHECK(l.names == std::vector<std::string>{"z", "q", "a", "b"});
  CHECK(l.code == std::vector<std::int32_t>{3, -1, 0, 2, 3});
  CHECK(l.name(1) == "none");
  CHECK(l.sizes() == std::vector<std::int64_t>{1, 0, 1, 2});
  const std::vector<std::string> twice = {"z", "z"};
  CHECK(catch_error([&] { labels_from_names(seg, twice); }).what() ==
        std::string("order[1]: 'z' is listed twice"));
}

TEST_CASE("RFM segment names read the grid best first and label the value engine's scores") {
  CHECK(rfm_segment_names() ==
        std::vector<std::string>{"Champions", "Loyal Customers", "Potential Loyalist",
                                 "Recent Customers", "Promising", "Need Attention", "At Risk",
                                 "About to Sleep", "Can't Lose Them", "Hibernating", "Lost"});
  RfmScores s;
  s.r = {5, 1, 3};
  s.fm = {5, 1, 2};
  const SegmentLabels l = rfm_segment_labels(s);
  CHECK(l.name(0) == "Champions");
  CHECK(l.name(1) == "Lost");
  CHECK(l.name(2) == "Need Attention");
  s.r[2] = 0;
  CHECK(catch_error([&] { rfm_segment_labels(s); }).what() ==
        std::string("r[2]: must be in 1..5, got 0"));
}

TEST_CASE("rule segments: first match wins, the rest fall back, non-members get none") {
  const RuleSegments rs = rule_segments_from_json_text(kRules, rfm_like_schema());
  CHECK(rs.names() == std::vector<std::string>{"Big", "Loyal", "Small"});
  CHECK(rs.facts_used() == std::vector<std::string>{"spend", "orders"});
  FactTable t(rfm_like_schema(), 5);
  const double spend[] = {150, 20, 150, 5, 0};
  const std::int64_t orders[] = {4, 3, 1, 1, 0};
  for (std::size_t i = 0; i < 5; ++i) {
    t.set_number(i, 0, spend[i]);
    t.set_integer(i, 1, orders[i]);
  }
  t.set_missing(4, 0);  // a missing spend: the comparison is false
  const std::vector<std::uint8_t> member = {1, 1, 1, 1, 1};
  SegmentLabels l = rule_segment_labels(rs, t, member);
  CHECK(l.code == std::vector<std::int32_t>{0, 1, 0, 2, 2});
  const std::vector<std::uint8_t> some = {1, 0, 1, 1, 0};
  l = rule_segment_labels(rs, t, some);
  CHECK(l.code == std::vector<std::int32_t>{0, -1, 0, 2, -1});

  // Another table layout with the same facts: the rules are recompiled against it.
  FactSchema other;
  other.add("orders", FactType::integer);
  other.add("x", FactType::boolean);
  other.add("spend", FactType::number);
  FactTable t2(other, 1);
  t2.set_integer(0, 0, 3);
  t2.set_number(0, 2, 10);
  CHECK(rule_segment_labels(rs, t2).code == std::vector<std::int32_t>{1});
  FactSchema lacking;
  lacking.add("orders", FactType::integer);
  CHECK(catch_error([&] { rule_segment_labels(rs, FactTable(lacking, 1)); }).what() ==
        std::string("segments[0].when.>=[0]: unknown fact 'spend'"));
}

TEST_CASE("rule segments from JSON refuse bad input with the JSON path") {
  const FactSchema s = rfm_like_schema();
  auto err = [&](const char* text) {
    return std::string(catch_error([&] { rule_segments_from_json_text(text, s); }).what());
  };
  CHECK(err(R"({"segments": [{"name": "A", "when": {"<": [{"var": "nope"}, 1]}}]})") ==
        "segments.segments[0].when.<[0]: unknown fact 'nope'");
  CHECK(err(R"({"segments": [{"name": "A", "when": true, "colour": 1}]})") ==
        "segments.segments[0].colour: unknown member");
  CHECK(err(R"({"segments": [{"name": "A", "when": true}, {"name": "A", "when": true}]})") ==
        "segments.segments[1].name: 'A' is used twice");
  CHECK(err(R"({"segments": [{"name": "Other", "when": true}]})") ==
        "segments.segments[0].name: 'Other' is used twice");
  CHECK(err(R"({"segments": [{"name": "none", "when": true}]})") ==
        "segments.segments[0].name: 'none' is reserved for customers without a segment");
  CHECK(err(R"({"segments": [{"name": 3, "when": true}]})") ==
        "segments.segments[0].name: must be a non-empty string");
  CHECK(err(R"({"segments": [{"name": "A"}]})") == "segments.segments[0].when: is required");
  CHECK(err(R"({"segments": []})") ==
        "segments.segments: must be a non-empty array of {\"name\", \"when\"}");
  CHECK(err(R"({"segments": [{"name": "A", "when": true}], "fallback": ""})") ==
        "segments.fallback: must be 1..128 bytes");
  CHECK(err(R"({"segment": []})") == "segments.segment: unknown member");
  CHECK(err(R"([1])") == "segments: must be an object with \"segments\" and \"fallback\"");
  CHECK(catch_error([&] { rule_segments_from_json_text("{", s); }).code() ==
        ErrorCode::invalid_argument);
}

TEST_CASE("the drift matrix counts moves; rows sum to the first sizes, columns to the second") {
  // customers:        0    1    2    3     4    5    6
  const SegmentLabels a = labels({"A", "B", "C"}, {0, 0, 1, -1, 2, -1, 1});
  const SegmentLabels b = labels({"B", "A", "D"}, {1, 0, 0, 1, -1, -1, 2});
  const DriftMatrix m = segment_drift(a, b);
  CHECK(m.from == std::vector<std::string>{"A", "B", "C", "D", "none"});
  CHECK(m.to == std::vector<std::string>{"A", "B", "C", "D", "none"});  // C left: none column
  CHECK(render(m) ==
        "A -> A: 1\nA -> B: 1\nB -> B: 1\nB -> D: 1\nC -> none: 1\nnone -> A: 1\n");
  CHECK(m.count("A", "B") == 1);
  CHECK(m.count("none", "A") == 1);
  CHECK(m.count("X", "A") == 0);
  CHECK(m.row_sums() == std::vector<std::int64_t>{2, 2, 1, 0, 1});  // a's sizes, then arrivals
  CHECK(m.column_sums() == std::vector<std::int64_t>{2, 2, 0, 1, 1});  // b's sizes, then leavers
  CHECK(m.total() == 6);  // customer 5 has no segment at either date

  // Nobody leaves: no "none" column.
  const DriftMatrix k = segment_drift(labels({"A"}, {0, -1}), labels({"A"}, {0, 0}));
  CHECK(k.to == std::vector<std::string>{"A"});
  CHECK(k.counts == std::vector<std::int64_t>{1, 1});

  CHECK(catch_error([&] { segment_drift(a, labels({"A"}, {0})); }).what() ==
        std::string("to: 1 customers, from has 7"));
  CHECK(catch_error([&] { segment_drift(labels({"A"}, {1}), labels({"A"}, {0})); }).what() ==
        std::string("from.code[0]: 1 is not a segment"));
}

TEST_CASE("a drift series has one step per consecutive pair, all on the same axes") {
  const std::vector<SegmentLabels> ls = {labels({"A"}, {0, -1, -1}), labels({"A", "B"}, {1, 0, -1}),
                                         labels({"B", "A"}, {0, 1, 1})};
  const std::vector<Timestamp> dates = {month_end(2024, 1), month_end(2024, 2), month_end(2024, 3)};
  const DriftSeries s = segment_drift_series(ls, dates);
  REQUIRE(s.steps.size() == 2);
  CHECK(s.steps[0].from == std::vector<std::string>{"A", "B", "none"});
  CHECK(s.steps[1].to == std::vector<std::string>{"A", "B"});
  CHECK(render(s.steps[0]) == "A -> B: 1\nnone -> A: 1\n");
  CHECK(render(s.steps[1]) == "A -> A: 1\nB -> B: 1\nnone -> A: 1\n");
  const std::vector<Timestamp> back = {dates[0], dates[2], dates[1]};
  CHECK(catch_error([&] { segment_drift_series(ls, back); }).code() == ErrorCode::invalid_argument);
}

TEST_CASE("mainstream segments: largest by customers and by revenue, ties by name") {
  const SegmentLabels l = labels({"C", "B", "A", "E"}, {0, 0, 1, 1, 2, -1, 2});
  const std::vector<std::int64_t> revenue = {100, 0, 50, 50, 70, 999, 30};
  const MainstreamSegments m = mainstream_segments(l, revenue, 2);
  CHECK(m.sizes.segment == std::vector<std::string>{"C", "B", "A", "E"});
  CHECK(m.sizes.customers == std::vector<std::int64_t>{2, 2, 2, 0});
  CHECK(m.sizes.revenue_minor == std::vector<std::int64_t>{100, 100, 100, 0});
  CHECK(m.by_customers == std::vector<std::string>{"A", "B"});
  CHECK(m.by_revenue == std::vector<std::string>{"A", "B"});
  const MainstreamSegments all = mainstream_segments(l, {}, 10);
  CHECK(all.by_customers == std::vector<std::string>{"A", "B", "C"});  // E is empty
  const std::vector<std::int64_t> short_revenue = {1};
  CHECK(catch_error([&] { mainstream_segments(l, short_revenue); }).code() ==
        ErrorCode::invalid_argument);
}

TEST_CASE("purchase segments: R, F and M at several dates in one pass") {
  // customer 0: 10.00 on Jan 5, 30.00 on Feb 10; customer 1: 200.00 on Feb 1; customer 2: none.
  const std::int64_t day = 86'400'000'000LL;
  const std::int64_t jan5 = Date(2024, 1, 5).start().micros();
  const std::int64_t feb1 = Date(2024, 2, 1).start().micros();
  const std::int64_t feb10 = Date(2024, 2, 10).start().micros();
  const std::vector<std::int64_t> cust = {0, 1, 0};
  const std::vector<std::int64_t> times = {feb10 + day / 2, feb1, jan5};
  const std::vector<std::int64_t> amounts = {3000, 20000, 1000};
  const std::vector<Timestamp> dates = {month_end(2024, 2), month_end(2024, 1)};
  const auto r = purchase_rfm_as_of(3, cust, times, amounts, dates);
  REQUIRE(r.size() == 2);
  CHECK(r[0].as_of == dates[0]);
  CHECK(r[0].acquired == std::vector<std::uint8_t>{1, 1, 0});
  CHECK(r[0].recency_days == std::vector<std::int64_t>{19, 28, 0});  // Feb 10 12:00 -> Feb 29 24:00
  CHECK(r[0].frequency == std::vector<std::int64_t>{2, 1, 0});
  CHECK(r[0].monetary_minor == std::vector<std::int64_t>{4000, 20000, 0});
  CHECK(r[1].acquired == std::vector<std::uint8_t>{1, 0, 0});
  CHECK(r[1].recency_days == std::vector<std::int64_t>{26, 0, 0});
  CHECK(r[1].frequency == std::vector<std::int64_t>{1, 0, 0});

  const RuleSegments rs = rule_segments_from_json_text(
      R"({"segments": [{"name": "High", "when": {">=": [{"var": "monetary"}, 100]}},
                       {"name": "Repeat", "when": {">=": [{"var": "frequency"}, 2]}}],
          "fallback": "Low"})",
      purchase_rfm_schema());
  const auto l = purchase_segments(3, cust, times, amounts, dates, rs);
  CHECK(l[0].code == std::vector<std::int32_t>{1, 0, -1});
  CHECK(l[1].code == std::vector<std::int32_t>{2, -1, -1});
  CHECK(render(segment_drift(l[1], l[0])) == "Low -> Repeat: 1\nnone -> High: 1\n");

  const std::vector<std::int64_t> bad = {0, 3, 0};
  CHECK(catch_error([&] { purchase_rfm_as_of(3, bad, times, amounts, dates); }).what() ==
        std::string("customer_index[1]: 3 is not below customers (3)"));
  CHECK(purchase_rfm_as_of(3, cust, times, amounts, {}).empty());
  const std::vector<std::int64_t> short_times = {1};
  CHECK(catch_error([&] { purchase_rfm_as_of(3, cust, short_times, amounts, dates); }).what() ==
        std::string("times: length 1 differs from customer_index (3)"));
}

TEST_CASE("purchase R, F and M equal a plain loop, whatever the thread count and cell layout") {
  // 50,000 customers: the cells fit the caches (one pass per thread over its rows); 400,000: they
  // do not (rows scattered by block of customers first).
  const std::size_t customers = GENERATE(std::size_t{50'000}, std::size_t{400'000});
  const std::size_t rows = 1'200'000;
  std::mt19937_64 rng(7);
  std::vector<std::int64_t> cust(rows), times(rows), amounts(rows);
  const std::int64_t start = Date(2024, 1, 1).start().micros();
  for (std::size_t i = 0; i < rows; ++i) {
    cust[i] = static_cast<std::int64_t>(rng() % customers);
    times[i] = start + static_cast<std::int64_t>(rng() % (366ULL * 86'400'000'000ULL));
    amounts[i] = 100 + static_cast<std::int64_t>(rng() % 50'000);
  }
  const std::vector<Timestamp> dates = {month_end(2024, 12), month_end(2024, 6)};
  // The plain loop.
  std::vector<std::vector<std::int64_t>> last(2, std::vector<std::int64_t>(customers, -1)),
      count(2, std::vector<std::int64_t>(customers, 0)), sum(2, std::vector<std::int64_t>(customers, 0));
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t d = 0; d < 2; ++d) {
      if (times[i] > dates[d].micros()) continue;
      const auto c = static_cast<std::size_t>(cust[i]);
      last[d][c] = std::max(last[d][c], times[i]);
      ++count[d][c];
      sum[d][c] += amounts[i];
    }
  }
  const unsigned before = model_threads();
  for (unsigned threads : {1u, 2u}) {
    set_model_threads(threads);
    const auto got = purchase_rfm_as_of(customers, cust, times, amounts, dates);
    for (std::size_t d = 0; d < 2; ++d) {
      INFO("threads " << threads << ", date " << d);
      CHECK(got[d].as_of == dates[d]);
      CHECK(got[d].frequency == count[d]);
      CHECK(got[d].monetary_minor == sum[d]);
      std::size_t wrong = 0;
      for (std::size_t c = 0; c < customers; ++c) {
        const bool has = count[d][c] > 0;
        const std::int64_t r = has ? (dates[d].micros() - last[d][c]) / 86'400'000'000LL : 0;
        if (got[d].acquired[c] != (has ? 1 : 0) || got[d].recency_days[c] != r) ++wrong;
      }
      CHECK(wrong == 0);
    }
  }
  set_model_threads(before);
  std::vector<std::int64_t> bad = cust;
  bad[900'000] = static_cast<std::int64_t>(customers);
  CHECK(catch_error([&] { purchase_rfm_as_of(customers, bad, times, amounts, dates); }).what() ==
        "customer_index[900000]: " + std::to_string(customers) + " is not below customers (" +
            std::to_string(customers) + ")");
}

// ---- a hand-made store ----

namespace {

const char* kStoreRules = R"({"segments": [
  {"name": "VIP", "when": {">=": [{"var": "net_revenue"}, 100]}},
  {"name": "Lapsed", "when": {">": [{"var": "days_since_last_purchase"}, 30]}}],
  "fallback": "Other"})";

struct Shop {
  Store store = Store::open(":memory:", usd());
  SegmentOptions rules;
  CustomerId a, b, c, d;
  Shop() {
    a = store.create_customer(person("a")).id;
    b = store.create_customer(person("b")).id;
    c = store.create_customer(person("c")).id;
    d = store.create_customer(person("d")).id;
    store.append_event(purchase_event(a, "100.00", "2024-01-10T10:00:00Z"));
    const EventId a2 = store.append_event(purchase_event(a, "50.00", "2024-02-15T10:00:00Z")).id;
    store.append_event(purchase_event(b, "20.00", "2024-01-20T10:00:00Z"));
    const EventId c1 = store.append_event(purchase_event(c, "300.00", "2024-02-10T10:00:00Z")).id;
    store.append_event(refund_event(c, c1, "300.00", "2024-02-20T10:00:00Z"));
    store.append_event(purchase_event(d, "10.00", "2024-03-05T10:00:00Z"));
    store.append_event(refund_event(a, a2, "25.00", "2024-03-10T10:00:00Z"));
    rules.rules = rule_segments_from_json_text(kStoreRules, store_fact_schema(store));
  }
};

}  // namespace

TEST_CASE("store segments as of a date: rule segments over the facts of that date") {
  Shop s;
  SegmentMembership m = segments_as_of(s.store, month_end(2024, 1), s.rules);
  CHECK(m.customer_id == std::vector<CustomerId>{s.a, s.b});  // c and d do not exist yet
  CHECK(m.external_id == std::vector<std::string>{"a", "b"});
  CHECK(m.labels.names == std::vector<std::string>{"VIP", "Lapsed", "Other"});
  CHECK(m.labels.code == std::vector<std::int32_t>{0, 2});
  m = segments_as_of(s.store, month_end(2024, 2), s.rules);
  CHECK(m.customer_id == std::vector<CustomerId>{s.a, s.b, s.c});
  CHECK(m.labels.code == std::vector<std::int32_t>{0, 1, 2});  // b: 40 days; c: fully refunded
  m = segments_as_of(s.store, month_end(2024, 3), s.rules);
  CHECK(m.labels.code == std::vector<std::int32_t>{0, 1, 2, 2});
}

TEST_CASE("store drift between two dates and month by month") {
  Shop s;
  const DriftMatrix m = segment_drift(s.store, month_end(2024, 1), month_end(2024, 3), s.rules);
  CHECK(m.from == std::vector<std::string>{"VIP", "Lapsed", "Other", "none"});
  CHECK(m.to == std::vector<std::string>{"VIP", "Lapsed", "Other"});
  CHECK(render(m) == "VIP -> VIP: 1\nOther -> Lapsed: 1\nnone -> Other: 2\n");
  CHECK(m.row_sums() == std::vector<std::int64_t>{1, 0, 1, 2});  // Jan sizes + 2 acquired since
  CHECK(m.column_sums() == std::vector<std::int64_t>{1, 1, 2});  // Mar sizes

  const DriftSeries ser =
      segment_drift_series(s.store, month_end(2024, 1), month_end(2024, 3), Period::month, s.rules);
  CHECK(ser.dates == std::vector<Timestamp>{month_end(2024, 1), month_end(2024, 2), month_end(2024, 3)});
  REQUIRE(ser.steps.size() == 2);
  CHECK(render(ser.steps[0]) == "VIP -> VIP: 1\nOther -> Lapsed: 1\nnone -> Other: 1\n");
  CHECK(render(ser.steps[1]) == "VIP -> VIP: 1\nLapsed -> Lapsed: 1\nOther -> Other: 1\nnone -> Other: 1\n");
  // Each step's columns are the next step's rows.
  const auto cols = ser.steps[0].column_sums();
  const auto rows = ser.steps[1].row_sums();
  CHECK(std::vector<std::int64_t>(rows.begin(), rows.end() - 1) == cols);

  CHECK(catch_error([&] { segment_drift(s.store, month_end(2024, 3), month_end(2024, 1)); })
            .code() == ErrorCode::invalid_argument);
}

TEST_CASE("series dates: start, each period end strictly between, end") {
  const Timestamp start = Timestamp::parse("2024-01-15T00:00:00Z");
  const Timestamp end = Timestamp::parse("2024-03-10T00:00:00Z");
  CHECK(drift_series_dates(start, end, Period::month) ==
        std::vector<Timestamp>{start, month_end(2024, 1), month_end(2024, 2), end});
  CHECK(drift_series_dates(month_end(2024, 1), month_end(2024, 2), Period::month).size() == 2);
  CHECK(catch_error([&] { drift_series_dates(end, end, Period::month); }).code() ==
        ErrorCode::invalid_argument);
}

TEST_CASE("store mainstream segments with exact net revenue as of the date") {
  Shop s;
  StoreMainstreamSegments m = mainstream_segments(s.store, month_end(2024, 3), 2, s.rules);
  CHECK(m.segment == std::vector<std::string>{"VIP", "Lapsed", "Other"});
  CHECK(m.customers == std::vector<std::int64_t>{1, 1, 2});
  REQUIRE(m.revenue.size() == 3);
  CHECK(m.revenue[0].to_string() == "125.00 USD");  // the March refund counts
  CHECK(m.revenue[1].to_string() == "20.00 USD");
  CHECK(m.revenue[2].to_string() == "10.00 USD");  // c: 300.00 - 300.00; d: 10.00
  CHECK(m.by_customers == std::vector<std::string>{"Other", "Lapsed"});  // Lapsed < VIP
  CHECK(m.by_revenue == std::vector<std::string>{"VIP", "Lapsed"});
  m = mainstream_segments(s.store, month_end(2024, 2), 3, s.rules);
  CHECK(m.revenue[0].to_string() == "150.00 USD");  // before the refund
}

// ---- CDNOW, RFM segments ----

namespace {

struct Cdnow {
  Store store = Store::open(":memory:", usd());
  Cdnow() {
    const test::CdnowLog log = test::read_cdnow_log();
    PurchaseImport rows;
    rows.currency = "USD";
    for (std::size_t i = 0; i < log.customer.size(); ++i) {
      rows.customer_external_id.push_back("cdnow-" + std::to_string(log.customer[i]));
      rows.at.push_back(Timestamp(log.time[i]));
      rows.amount.push_back(log.dollars[i]);
    }
    store.import_purchases(rows);
  }
};

Cdnow& cdnow() {
  static Cdnow c;
  return c;
}

}  // namespace

TEST_CASE("on CDNOW, the monthly RFM drift series counts every customer acquired so far") {
  Cdnow& c = cdnow();
  const DriftSeries s = segment_drift_series(c.store, month_end(1997, 1), month_end(1998, 12));
  REQUIRE(s.dates.size() == 24);
  REQUIRE(s.steps.size() == 23);
  const PurchaseColumns p = c.store.purchase_columns();
  auto acquired = [&](Timestamp d) {
    std::set<CustomerId> ids;
    for (std::size_t k = 0; k < p.customer_id.size(); ++k)
      if (p.at_micros[k] <= d.micros()) ids.insert(p.customer_id[k]);
    return static_cast<std::int64_t>(ids.size());
  };
  CHECK(s.steps[0].from.size() == 12);  // 11 RFM segments and none
  CHECK(s.steps[0].to.size() == 11);    // nobody leaves
  std::int64_t before = acquired(s.dates[0]);
  CHECK(before == 781);
  for (std::size_t i = 0; i < s.steps.size(); ++i) {
    INFO("step to " << s.dates[i + 1].to_string());
    const DriftMatrix& m = s.steps[i];
    const std::int64_t now = acquired(s.dates[i + 1]);
    CHECK(m.total() == now);
    CHECK(m.row_sums().back() == now - before);  // the none row: acquired this month
    if (i + 1 < s.steps.size()) {
      const auto next_rows = s.steps[i + 1].row_sums();
      CHECK(std::vector<std::int64_t>(next_rows.begin(), next_rows.end() - 1) == m.column_sums());
    }
    before = now;
  }
  CHECK(before == 2357);
}

TEST_CASE("on CDNOW, store RFM segments equal the value engine's on the summary as of the date") {
  Cdnow& c = cdnow();
  const Timestamp as_of = month_end(1997, 6);
  const SegmentMembership m = segments_as_of(c.store, as_of);
  // Independently: the daily summary with the first purchase, recency value = T - recency.
  const PurchaseColumns p = c.store.purchase_columns();
  SummaryOptions so;
  so.include_first_transaction = true;
  so.observation_period_end = as_of;
  so.drop_customers_after_end = true;
  const RfmSummary sum =
      summary_data_from_transaction_data(p.customer_id, p.at_micros, p.amount_minor, 2, so);
  std::vector<double> rv(sum.size()), f(sum.size());
  for (std::size_t i = 0; i < sum.size(); ++i) {
    rv[i] = sum.T[i] - sum.recency[i];
    f[i] = static_cast<double>(sum.frequency[i]);
  }
  const SegmentLabels want = rfm_segment_labels(rfm_scores(rv, f, sum.monetary_value));
  std::map<CustomerId, std::string> expected;
  for (std::size_t i = 0; i < sum.size(); ++i)
    expected[sum.customer_id[i]] = std::string(want.name(i));
  std::size_t labelled = 0;
  for (std::size_t i = 0; i < m.size(); ++i) {
    if (m.labels.code[i] < 0) continue;
    ++labelled;
    INFO("customer " << m.customer_id[i]);
    CHECK(std::string(m.labels.name(i)) == expected.at(m.customer_id[i]));
  }
  CHECK(labelled == expected.size());
  const StoreMainstreamSegments ms = mainstream_segments(c.store, as_of);
  CHECK(ms.by_customers.size() == 3);
  std::int64_t total = 0;
  for (std::int64_t n : ms.customers) total += n;
  CHECK(total == static_cast<std::int64_t>(labelled));
}
