// Tests for crmkit/value/summary.hpp: period merging and units, the observation end, amounts, the
// calibration/holdout split, cumulative repeat transactions, and the CDNOW reference summaries
// that lifetimes and the BTYD literature publish.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "crmkit/base/error.hpp"
#include "crmkit/value/models.hpp"
#include "crmkit/value/summary.hpp"
#include "crmkit/base/time.hpp"
#include "support.hpp"

using crmkit::CalibrationOptions;
using crmkit::Error;
using crmkit::ErrorCode;
using crmkit::SummaryOptions;
using crmkit::TimeUnit;
using crmkit::Timestamp;
using crmkit::test::catch_error;
using I64 = std::vector<std::int64_t>;

namespace {

std::int64_t at(std::string_view text) { return Timestamp::parse(text).micros(); }

// ---- CDNOW ---------------------------------------------------------------------------------

struct Log {
  I64 customer;
  I64 time;
  std::vector<double> amount;
  I64 amount_minor;
};

// CDNOW_sample.txt, with each dollar_value also in cents (it always has two decimals).
const Log& cdnow() {
  static const Log log = [] {
    crmkit::test::CdnowLog raw = crmkit::test::read_cdnow_log();
    Log out;
    out.customer = std::move(raw.customer);
    out.time = std::move(raw.time);
    for (const std::string& dollars : raw.dollars) {
      out.amount.push_back(std::stod(dollars));
      const auto dot = dollars.find('.');
      REQUIRE(dot == dollars.size() - 3);
      out.amount_minor.push_back(std::stoll(dollars.substr(0, dot) + dollars.substr(dot + 1)));
    }
    return out;
  }();
  return log;
}

// Rows of a CSV in data/ with a header, keyed by the first column (an integer id).
std::map<std::int64_t, std::vector<double>> read_csv(const std::string& name) {
  const auto cols = crmkit::test::read_csv_columns(name);
  std::map<std::int64_t, std::vector<double>> rows;
  for (std::size_t r = 0; r < (cols.empty() ? 0 : cols[0].size()); ++r) {
    std::vector<double> values;
    for (std::size_t c = 1; c < cols.size(); ++c) values.push_back(cols[c][r]);
    rows[static_cast<std::int64_t>(cols[0][r])] = values;
  }
  return rows;
}

SummaryOptions cdnow_options() {
  SummaryOptions o;
  o.unit = TimeUnit::day;
  o.multiplier = 7;
  o.observation_period_end = Timestamp::parse("1997-09-30");
  return o;
}

}  // namespace

TEST_CASE("CDNOW sample: summary equals lifetimes' cdnow_customers_summary for every customer") {
  const Log& log = cdnow();
  REQUIRE(log.customer.size() == 6919);
  const auto s = crmkit::summary_data_from_transaction_data(log.customer, log.time, log.amount,
                                                            cdnow_options());
  const auto expected = read_csv("cdnow_customers_summary.csv");
  const auto with_zbar = read_csv("cdnow_customers_summary_with_transactions.csv");
  REQUIRE(expected.size() == 2357);
  REQUIRE(s.size() == 2357);
  std::int64_t frequency_sum = 0;
  int mismatches = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto row = expected.find(s.customer_id[i]);
    REQUIRE(row != expected.end());
    const auto& e = row->second;  // frequency, recency, T
    const auto& z = with_zbar.at(s.customer_id[i]);  // x, t_x, T, zbar
    const bool ok = s.frequency[i] == static_cast<std::int64_t>(e[0]) &&
                    std::abs(s.recency[i] - e[1]) <= 0.01 && std::abs(s.T[i] - e[2]) <= 0.01 &&
                    std::abs(s.monetary_value[i] - z[3]) <= 0.01;
    if (!ok) {
      ++mismatches;
      INFO("customer " << s.customer_id[i] << ": " << s.frequency[i] << " " << s.recency[i] << " "
                       << s.T[i] << " " << s.monetary_value[i]);
      CHECK(ok);
    }
    frequency_sum += s.frequency[i];
  }
  CHECK(mismatches == 0);
  CHECK(frequency_sum == 2457);
  CHECK(s.customer_id.front() == 1);
  CHECK(s.customer_id.back() == 2357);
  CHECK(s.first_purchase.front() == at("1997-01-01"));
}

TEST_CASE("CDNOW sample: exact minor units give the same summary as doubles") {
  const Log& log = cdnow();
  const auto d = crmkit::summary_data_from_transaction_data(log.customer, log.time, log.amount,
                                                            cdnow_options());
  const auto m = crmkit::summary_data_from_transaction_data(log.customer, log.time,
                                                            log.amount_minor, 2, cdnow_options());
  REQUIRE(m.size() == d.size());
  CHECK(m.frequency == d.frequency);
  CHECK(m.recency == d.recency);
  CHECK(m.T == d.T);
  for (std::size_t i = 0; i < m.size(); ++i) {
    REQUIRE(m.monetary_value[i] == Approx(d.monetary_value[i]).margin(1e-9));
  }
}

TEST_CASE("CDNOW sample: holdout to 1998-06-30 has 1,882 repeat transactions") {
  const Log& log = cdnow();
  CalibrationOptions o;
  o.unit = TimeUnit::day;
  o.multiplier = 7;
  o.observation_period_end = Timestamp::parse("1998-06-30");
  const auto s = crmkit::calibration_and_holdout_data(log.customer, log.time, log.amount,
                                                      Timestamp::parse("1997-09-30"), o);
  REQUIRE(s.size() == 2357);
  std::int64_t holdout = 0;
  std::int64_t calibration = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    holdout += s.frequency_holdout[i];
    calibration += s.frequency_cal[i];
  }
  CHECK(holdout == 1882);
  CHECK(calibration == 2457);
  CHECK(s.duration_holdout == Approx(273.0 / 7));
  // The calibration columns equal the plain summary at the calibration end.
  const auto plain = crmkit::summary_data_from_transaction_data(log.customer, log.time, log.amount,
                                                                cdnow_options());
  CHECK(s.recency_cal == plain.recency);
  CHECK(s.T_cal == plain.T);
  CHECK(s.monetary_value_cal == plain.monetary_value);
}

TEST_CASE("CDNOW sample: weekly cumulative repeat transactions match the tracking curve") {
  const Log& log = cdnow();
  crmkit::RepeatTransactionOptions o;
  o.unit = TimeUnit::week;
  o.periods = 78;
  const auto weekly = crmkit::cumulative_repeat_transactions(log.customer, log.time, o);
  REQUIRE(weekly.size() == 78);
  // Week k covers 1997-01-01 + [7(k-1), 7k) days; element k-1 is the total through week k.
  CHECK(I64(weekly.begin() + 19, weekly.begin() + 25) == I64{1359, 1414, 1484, 1517, 1573, 1672});
  CHECK(weekly[77] == 2457 + 1882);  // every repeat day up to 1998-06-30
  o.unit = TimeUnit::day;
  o.periods = 0;
  const auto daily = crmkit::cumulative_repeat_transactions(log.customer, log.time, o);
  REQUIRE(daily.size() == 546);  // 1997-01-01 .. 1998-06-30
  CHECK(daily[7 * 20 - 1] == 1359);
  CHECK(daily.back() == weekly.back());
}

TEST_CASE("several purchases in one day are one period; amounts are summed") {
  const I64 ids{1, 1, 1, 1, 2};
  const I64 times{at("2024-03-01T09:00:00Z"), at("2024-03-01T23:59:59Z"), at("2024-03-03T00:00:00Z"),
                  at("2024-03-08T12:00:00Z"), at("2024-03-05T10:00:00Z")};
  const std::vector<double> amounts{10, 5, 20, 40, 7};
  SummaryOptions o;
  o.observation_period_end = Timestamp::parse("2024-03-10T18:00:00Z");
  const auto s = crmkit::summary_data_from_transaction_data(ids, times, amounts, o);
  REQUIRE(s.size() == 2);
  CHECK(s.customer_id == I64{1, 2});
  CHECK(s.frequency == I64{2, 0});
  CHECK(s.recency == std::vector<double>{7, 0});
  CHECK(s.T == std::vector<double>{9, 5});
  CHECK(s.monetary_value == std::vector<double>{30, 0});  // mean(20, 40); first day excluded
  CHECK(s.first_purchase == I64{at("2024-03-01T09:00:00Z"), at("2024-03-05T10:00:00Z")});

  o.include_first_transaction = true;
  const auto all = crmkit::summary_data_from_transaction_data(ids, times, amounts, o);
  CHECK(all.frequency == I64{3, 1});
  CHECK(all.monetary_value == std::vector<double>{25, 7});  // mean(15, 20, 40)
  CHECK(all.recency == s.recency);
}

TEST_CASE("weeks run Monday to Sunday and the end's whole week is observed") {
  // 2024-03-03 is a Sunday, 2024-03-04 a Monday; the end, 2024-03-13, a Wednesday.
  const I64 ids{1, 1, 1, 1, 2, 2};
  const I64 times{at("2024-03-03"), at("2024-03-04"), at("2024-03-17T23:00:00Z"),
                  at("2024-03-18"), at("2024-03-04"), at("2024-03-10T20:00:00Z")};
  SummaryOptions o;
  o.unit = TimeUnit::week;
  o.observation_period_end = Timestamp::parse("2024-03-13");
  const auto s = crmkit::summary_data_from_transaction_data(ids, times, o);
  // Customer 1: weeks of 02-26, 03-04, 03-11 (the Sunday 03-17 is in the end's week; the Monday
  // 03-18 is dropped). Customer 2: one week.
  CHECK(s.frequency == I64{2, 0});
  CHECK(s.recency == std::vector<double>{2, 0});
  CHECK(s.T == std::vector<double>{2, 1});
  CHECK(s.monetary_value.empty());

  o.multiplier = 0.5;  // half-weeks
  const auto half = crmkit::summary_data_from_transaction_data(ids, times, o);
  CHECK(half.recency == std::vector<double>{4, 0});
  CHECK(half.T == std::vector<double>{4, 2});
}

TEST_CASE("month spans are days between month starts over 30.436875, as lifetimes") {
  const I64 ids{5, 5};
  const I64 times{at("1997-01-15"), at("1997-03-02")};
  SummaryOptions o;
  o.unit = TimeUnit::month;
  o.observation_period_end = Timestamp::parse("1997-04-20");
  const auto s = crmkit::summary_data_from_transaction_data(ids, times, o);
  CHECK(s.frequency == I64{1});
  CHECK(s.recency[0] == Approx(59 / 30.436875));  // 1997-01-01 .. 1997-03-01
  CHECK(s.T[0] == Approx(90 / 30.436875));        // 1997-01-01 .. 1997-04-01
}

TEST_CASE("the default end is the last transaction, and unsorted or sparse ids are ordered") {
  // Sparse ids take the comparison sort; dense ids the counting sort. Both give the same rows.
  const I64 times{at("2024-01-10"), at("2024-01-01"), at("2024-01-05"), at("2024-01-03"),
                  at("2024-01-02")};
  const I64 sparse{900'000'000'000, -7, 900'000'000'000, -7, 900'000'000'000};
  const I64 dense{1, 0, 1, 0, 1};
  const auto a = crmkit::summary_data_from_transaction_data(sparse, times);
  const auto b = crmkit::summary_data_from_transaction_data(dense, times);
  CHECK(a.customer_id == I64{-7, 900'000'000'000});
  CHECK(b.customer_id == I64{0, 1});
  for (const auto* s : {&a, &b}) {
    CHECK(s->frequency == I64{1, 2});
    CHECK(s->recency == std::vector<double>{2, 8});
    CHECK(s->T == std::vector<double>{9, 8});  // to 2024-01-10
    CHECK(s->first_purchase == I64{at("2024-01-01"), at("2024-01-02")});
  }
  CHECK(crmkit::summary_data_from_transaction_data(I64{}, I64{}).size() == 0);
}

TEST_CASE("row order and id spacing do not change the summary") {
  std::mt19937_64 rng(7);
  const std::size_t n = 20'000;
  I64 ids(n), times(n), cents(n);
  for (std::size_t i = 0; i < n; ++i) {
    ids[i] = static_cast<std::int64_t>(rng() % 3'000);
    times[i] = at("2023-01-01") + static_cast<std::int64_t>(rng() % (400LL * 86'400'000'000));
    cents[i] = static_cast<std::int64_t>(rng() % 10'000);
  }
  // The same rows sorted by (id, time): the no-sort path.
  std::vector<std::size_t> p(n);
  std::iota(p.begin(), p.end(), std::size_t{0});
  std::sort(p.begin(), p.end(), [&](std::size_t a, std::size_t b) {
    return ids[a] != ids[b] ? ids[a] < ids[b] : times[a] < times[b];
  });
  I64 sorted_ids(n), sorted_times(n), sorted_cents(n), sparse(n);
  for (std::size_t i = 0; i < n; ++i) {
    sorted_ids[i] = ids[p[i]];
    sorted_times[i] = times[p[i]];
    sorted_cents[i] = cents[p[i]];
    sparse[i] = ids[i] * 1'000'000'007 - 5;  // order-preserving, far apart: the hashing path
  }
  for (const TimeUnit unit : {TimeUnit::day, TimeUnit::week, TimeUnit::month}) {
    SummaryOptions o;
    o.unit = unit;
    o.observation_period_end = Timestamp::parse("2023-12-31");
    o.drop_customers_after_end = true;
    const auto a = crmkit::summary_data_from_transaction_data(ids, times, cents, 2, o);
    const auto b =
        crmkit::summary_data_from_transaction_data(sorted_ids, sorted_times, sorted_cents, 2, o);
    const auto c = crmkit::summary_data_from_transaction_data(sparse, times, cents, 2, o);
    CHECK(a.customer_id == b.customer_id);
    CHECK(a.frequency == b.frequency);
    CHECK(a.recency == b.recency);
    CHECK(a.T == b.T);
    CHECK(a.monetary_value == b.monetary_value);
    CHECK(a.first_purchase == b.first_purchase);
    REQUIRE(c.size() == a.size());
    for (std::size_t i = 0; i < c.size(); ++i) {
      REQUIRE(c.customer_id[i] == a.customer_id[i] * 1'000'000'007 - 5);
    }
    CHECK(c.frequency == a.frequency);
    CHECK(c.T == a.T);
    CHECK(c.monetary_value == a.monetary_value);
  }
}

TEST_CASE("summary validates its columns and options") {
  const I64 ids{1, 2};
  const I64 times{at("2024-01-01"), at("2024-02-01")};
  Error e = catch_error([&] { crmkit::summary_data_from_transaction_data(ids, I64{1}); });
  CHECK(e.code() == ErrorCode::invalid_argument);
  CHECK(std::string(e.what()) == "times: length 1 differs from customer_ids (2)");
  e = catch_error([&] {
    crmkit::summary_data_from_transaction_data(ids, times, std::vector<double>{1.0});
  });
  CHECK(std::string(e.what()) == "amounts: length 1 differs from customer_ids (2)");
  e = catch_error([&] {
    crmkit::summary_data_from_transaction_data(ids, times, std::vector<double>{1.0, NAN});
  });
  CHECK(std::string(e.what()) == "amounts[1]: not a finite number");
  SummaryOptions o;
  o.multiplier = 0;
  e = catch_error([&] { crmkit::summary_data_from_transaction_data(ids, times, o); });
  CHECK(std::string(e.what()) == "multiplier: must be finite and > 0, got 0.000000");
  e = catch_error([&] { crmkit::summary_data_from_transaction_data(ids, times, I64{1, 2}, 19); });
  CHECK(std::string(e.what()) == "scale: must be in 0..18, got 19");

  o = {};
  o.observation_period_end = Timestamp::parse("2024-01-15");
  e = catch_error([&] { crmkit::summary_data_from_transaction_data(ids, times, o); });
  CHECK(e.code() == ErrorCode::invalid_argument);
  CHECK(std::string(e.what()) ==
        "observation_period_end: 2024-01-15T00:00:00Z is before the first purchase of customer 2 "
        "(2024-02-01T00:00:00Z)");
  o.drop_customers_after_end = true;
  const auto kept = crmkit::summary_data_from_transaction_data(ids, times, o);
  CHECK(kept.customer_id == I64{1});
  CHECK(kept.T == std::vector<double>{14});

  // Period sums are exact in 128 bits (issue 9): INT64_MAX - 1 + 5 in one period used to be
  // Error{overflow}; now it is 9223372036854775811 minor units, whose mean is rounded once.
  const I64 big{INT64_MAX - 1, 5};
  SummaryOptions all;
  all.include_first_transaction = true;
  const auto r = crmkit::summary_data_from_transaction_data(I64{1, 1}, I64{times[0], times[0]},
                                                            big, 2, all);
  CHECK(r.monetary_value == std::vector<double>{9223372036854775808.0 / 100.0});
}

TEST_CASE("exact minor units: sums per period, mean in major units") {
  const I64 ids{1, 1, 1};
  const I64 times{at("2024-01-01"), at("2024-01-02"), at("2024-01-02T12:00:00Z")};
  const I64 cents{999, 1999, 1};
  const auto s = crmkit::summary_data_from_transaction_data(ids, times, cents, 2);
  CHECK(s.monetary_value == std::vector<double>{20.0});
  const auto yen = crmkit::summary_data_from_transaction_data(ids, times, cents, 0);
  CHECK(yen.monetary_value == std::vector<double>{2000.0});
}

TEST_CASE("calibration and holdout: periods, holdout means and who is included") {
  const I64 ids{1, 1, 1, 1, 1, 2, 3};
  const I64 times{at("2024-01-01"), at("2024-01-05"),                         // calibration
                  at("2024-01-12T08:00:00Z"), at("2024-01-12T09:00:00Z"),     // holdout day 1
                  at("2024-01-20"),                                           // holdout day 2
                  at("2024-01-08"),                                           // calibration only
                  at("2024-01-15")};                                          // holdout only
  const std::vector<double> amounts{5, 15, 10, 30, 20, 8, 99};
  CalibrationOptions o;
  o.observation_period_end = Timestamp::parse("2024-01-31");
  const auto s =
      crmkit::calibration_and_holdout_data(ids, times, amounts, Timestamp::parse("2024-01-10"), o);
  CHECK(s.customer_id == I64{1, 2});
  CHECK(s.frequency_cal == I64{1, 0});
  CHECK(s.recency_cal == std::vector<double>{4, 0});
  CHECK(s.T_cal == std::vector<double>{9, 2});
  CHECK(s.monetary_value_cal == std::vector<double>{15, 0});
  CHECK(s.frequency_holdout == I64{2, 0});
  CHECK(s.monetary_value_holdout == std::vector<double>{20, 0});  // mean(10, 30, 20)
  CHECK(s.duration_holdout == 21);

  o.holdout_monetary_per_period = true;
  const auto per_period =
      crmkit::calibration_and_holdout_data(ids, times, amounts, Timestamp::parse("2024-01-10"), o);
  CHECK(per_period.monetary_value_holdout == std::vector<double>{30, 0});  // mean(40, 20)

  o.unit = TimeUnit::week;
  o.multiplier = 1;
  const auto weekly =
      crmkit::calibration_and_holdout_data(ids, times, Timestamp::parse("2024-01-10"), o);
  // 2024-01-01 is a Monday: weeks of 01-01, 01-08 (cal end), 01-15, 01-22, 01-29 (obs end).
  CHECK(weekly.frequency_cal == I64{0, 0});
  CHECK(weekly.T_cal == std::vector<double>{1, 0});
  CHECK(weekly.frequency_holdout == I64{2, 0});  // weeks of 01-08 (the 12th) and 01-15
  CHECK(weekly.duration_holdout == 3);
  CHECK(weekly.monetary_value_cal.empty());
}

// The synthetic log of tests/data/lifetimes/hourly.json (record_hourly.py), amounts in cents: the
// expected values are lifetimes 0.11.3's with freq="h" (tests/python/test_hourly.py compares
// every recorded column).
struct HourlyLog {
  I64 ids{1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 4, 4, 4, 4, 5, 5, 5, 6, 6, 7};
  I64 times{at("2024-03-04T09:15:00Z"), at("2024-03-04T09:40:00Z"), at("2024-03-04T11:05:00Z"),
            at("2024-03-04T23:59:59Z"), at("2024-03-05T00:00:01Z"), at("2024-03-05T14:30:00Z"),
            at("2024-03-04T23:10:00Z"), at("2024-03-05T00:20:00Z"), at("2024-03-05T23:45:00Z"),
            at("2024-03-06T07:00:00Z"), at("2024-03-05T23:30:00Z"), at("2024-03-04T12:00:00Z"),
            at("2024-03-04T13:00:00Z") - 1, at("2024-03-04T13:00:00Z"), at("2024-03-06T10:29:59Z"),
            at("2024-03-04T23:01:00Z"), at("2024-03-06T10:05:00Z"), at("2024-03-06T10:50:00Z"),
            at("2024-03-05T08:00:00Z"), at("2024-03-06T11:10:00Z"), at("2024-03-06T11:30:00Z")};
  I64 cents{1250, 725, 310, 2000, 199, 4000, 500, 600, 700, 800, 9999,
            1000, 1, 200, 400, 1500, 2500, 3500, 1100, 1300, 5000};
};

TEST_CASE("hours: clock hours are periods, 24 per day, counted as lifetimes' freq=\"h\"") {
  const HourlyLog log;
  SummaryOptions o;
  o.unit = TimeUnit::hour;
  o.observation_period_end = Timestamp::parse("2024-03-06T10:30:00Z");  // mid-hour
  // Customer 7 buys only after the end.
  const Error e = catch_error(
      [&] { crmkit::summary_data_from_transaction_data(log.ids, log.times, log.cents, 2, o); });
  CHECK(std::string(e.what()) ==
        "observation_period_end: 2024-03-06T10:30:00Z is before the first purchase of customer 7 "
        "(2024-03-06T11:30:00Z)");
  o.drop_customers_after_end = true;
  const auto s = crmkit::summary_data_from_transaction_data(log.ids, log.times, log.cents, 2, o);
  CHECK(s.customer_id == I64{1, 2, 3, 4, 5, 6});
  // 1: hours 09 (two purchases), 11, 23, 00 (23:59:59 and 00:00:01 are one hour apart), 14.
  // 4: 12:59:59.999999 is in hour 12, 13:00 in hour 13. 5: 10:50 is in the end's hour (kept).
  // 6: 11:10 is after the end's hour (dropped).
  CHECK(s.frequency == I64{4, 3, 0, 2, 1, 0});
  CHECK(s.recency == std::vector<double>{29, 32, 0, 46, 35, 0});
  CHECK(s.T == std::vector<double>{49, 35, 11, 46, 35, 26});
  CHECK(s.monetary_value == std::vector<double>{16.2725, 7, 0, 3, 60, 0});

  o.multiplier = 24;  // days counted in hours
  const auto days = crmkit::summary_data_from_transaction_data(log.ids, log.times, o);
  CHECK(days.recency == std::vector<double>{29.0 / 24, 32.0 / 24, 0, 46.0 / 24, 35.0 / 24, 0});
  CHECK(days.T[0] == 2.0416666666666665);  // lifetimes' 49 / 24
  CHECK(days.T[2] == 0.4583333333333333);  // 11 / 24

  // Before 1970 the hours are floored too: 23:30 and 00:30 are one hour apart.
  SummaryOptions early;
  early.unit = TimeUnit::hour;
  const auto old = crmkit::summary_data_from_transaction_data(
      I64{1, 1}, I64{at("1969-12-31T23:30:00Z"), at("1970-01-01T00:30:00Z")}, early);
  CHECK(old.frequency == I64{1});
  CHECK(old.recency == std::vector<double>{1});
  CHECK(old.T == std::vector<double>{1});
}

TEST_CASE("hours: calibration and holdout split at a mid-hour end, as lifetimes' freq=\"h\"") {
  const HourlyLog log;
  CalibrationOptions o;
  o.unit = TimeUnit::hour;
  o.observation_period_end = Timestamp::parse("2024-03-06T10:30:00Z");
  const auto s = crmkit::calibration_and_holdout_data(log.ids, log.times, log.cents, 2,
                                                      Timestamp::parse("2024-03-05T00:10:00Z"), o);
  // Customer 2's 00:20 purchase is after the calibration end, in its hour: a holdout period.
  CHECK(s.customer_id == I64{1, 2, 4, 5});
  CHECK(s.frequency_cal == I64{3, 0, 1, 0});
  CHECK(s.recency_cal == std::vector<double>{15, 0, 1, 0});
  CHECK(s.T_cal == std::vector<double>{15, 1, 12, 1});
  CHECK(s.frequency_holdout == I64{1, 3, 1, 1});
  CHECK(s.monetary_value_holdout == std::vector<double>{40, 7, 4, 25});
  CHECK(s.monetary_value_cal[0] == Approx(8.363333333333333).epsilon(1e-15));  // 25.09 / 3
  CHECK(s.duration_holdout == 34);

  const auto before_midnight = crmkit::calibration_and_holdout_data(
      log.ids, log.times, Timestamp::parse("2024-03-04T23:30:00Z"), o);
  CHECK(before_midnight.frequency_cal == I64{1, 0, 1, 0});
  CHECK(before_midnight.T_cal == std::vector<double>{14, 0, 11, 0});
  CHECK(before_midnight.frequency_holdout == I64{3, 3, 1, 1});
  CHECK(before_midnight.duration_holdout == 35);
}

TEST_CASE("hours are refused by cumulative repeat transactions (repeats are UTC days)") {
  crmkit::RepeatTransactionOptions o;
  o.unit = TimeUnit::hour;
  const Error e = catch_error([&] {
    crmkit::cumulative_repeat_transactions(I64{1, 1}, I64{at("2024-01-01"), at("2024-01-02")}, o);
  });
  CHECK(e.code() == ErrorCode::invalid_argument);
  CHECK(std::string(e.what()) ==
        "unit: hour is not supported: repeat transactions are counted per UTC day (use day, week "
        "or month)");
}

TEST_CASE("calibration and holdout validates its ends") {
  const I64 ids{1, 1};
  const I64 times{at("2024-01-01"), at("2024-01-05")};
  CalibrationOptions o;
  o.observation_period_end = Timestamp::parse("2024-01-02");
  Error e = catch_error(
      [&] { crmkit::calibration_and_holdout_data(ids, times, Timestamp::parse("2024-01-03"), o); });
  CHECK(e.code() == ErrorCode::invalid_argument);
  CHECK(std::string(e.what()) ==
        "observation_period_end: 2024-01-02T00:00:00Z is before calibration_period_end "
        "2024-01-03T00:00:00Z");
  o.observation_period_end.reset();
  e = catch_error(
      [&] { crmkit::calibration_and_holdout_data(ids, times, Timestamp::parse("2024-01-05"), o); });
  CHECK(std::string(e.what()) ==
        "calibration_period_end: no transaction after 2024-01-05T00:00:00Z and at or before "
        "observation_period_end 2024-01-05T00:00:00Z");
}

TEST_CASE("cumulative repeat transactions count repeat days once and clamp to the range") {
  const I64 ids{1, 1, 1, 1, 2, 2};
  const I64 times{at("2024-01-01"), at("2024-01-01T10:00:00Z"), at("2024-01-03"),
                  at("2024-01-03T05:00:00Z"), at("2024-01-02"), at("2024-01-09")};
  crmkit::RepeatTransactionOptions o;
  o.unit = TimeUnit::day;
  CHECK(crmkit::cumulative_repeat_transactions(ids, times, o) ==
        I64{0, 0, 1, 1, 1, 1, 1, 1, 2});
  o.unit = TimeUnit::week;
  CHECK(crmkit::cumulative_repeat_transactions(ids, times, o) == I64{1, 2});
  o.periods = 1;
  CHECK(crmkit::cumulative_repeat_transactions(ids, times, o) == I64{1});
  o.start = Timestamp::parse("2024-01-05");  // earlier repeat days count in bucket 1
  o.periods = 0;
  CHECK(crmkit::cumulative_repeat_transactions(ids, times, o) == I64{2});
  o.periods = -1;
  CHECK(std::string(catch_error([&] { crmkit::cumulative_repeat_transactions(ids, times, o); }).what()) ==
        "periods: must be >= 0, got -1");
}

TEST_CASE("time units print and parse, including lifetimes' letters") {
  CHECK(std::string(crmkit::to_string(TimeUnit::week)) == "week");
  CHECK(crmkit::parse_time_unit("W") == TimeUnit::week);
  CHECK(crmkit::parse_time_unit("month") == TimeUnit::month);
  CHECK(std::string(crmkit::to_string(TimeUnit::hour)) == "hour");
  CHECK(crmkit::parse_time_unit("hour") == TimeUnit::hour);
  CHECK(crmkit::parse_time_unit("H") == TimeUnit::hour);
  CHECK(crmkit::parse_time_unit("h") == TimeUnit::hour);
  const Error e = catch_error([] { crmkit::parse_time_unit("fortnight", "options.unit"); });
  CHECK(std::string(e.what()) ==
        "options.unit: 'fortnight' is not a time unit (hour, day, week, month, H, h, D, W, M)");
  CHECK(std::string(catch_error([] { crmkit::parse_time_unit("d", "freq"); }).what()) ==
        "freq: 'd' is not a time unit (hour, day, week, month, H, h, D, W, M)");
}

TEST_CASE("the summary is the same on one worker thread and on several", "[summary][threads]") {
  // 200,000 rows of 30,000 customers in time order with ids out of order: the ordering and the
  // gather of the amounts run on worker threads above 20,000 rows.
  std::vector<std::int64_t> ids, times, cents;
  std::vector<double> dollars;
  std::uint64_t x = 88172645463325252ULL;
  const auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (std::int64_t i = 0; i < 200000; ++i) {
    ids.push_back(static_cast<std::int64_t>(next() % 30000) * 7 + 3);
    times.push_back(Timestamp::parse("2024-01-01").micros() + i * 60'000'000);
    cents.push_back(static_cast<std::int64_t>(next() % 100000));
    dollars.push_back(static_cast<double>(cents.back()) / 100.0);
  }
  SummaryOptions o;
  o.multiplier = 7.0;
  const unsigned before = crmkit::model_threads();
  crmkit::set_model_threads(1);
  const crmkit::RfmSummary one = summary_data_from_transaction_data(ids, times, dollars, o);
  const crmkit::RfmSummary one_minor = summary_data_from_transaction_data(ids, times, cents, 2, o);
  crmkit::set_model_threads(4);
  const crmkit::RfmSummary four = summary_data_from_transaction_data(ids, times, dollars, o);
  const crmkit::RfmSummary four_minor = summary_data_from_transaction_data(ids, times, cents, 2, o);
  crmkit::set_model_threads(before);
  REQUIRE(one.size() > 29000);
  CHECK(one.customer_id == four.customer_id);
  CHECK(one.frequency == four.frequency);
  CHECK(one.recency == four.recency);
  CHECK(one.T == four.T);
  CHECK(one.monetary_value == four.monetary_value);
  CHECK(one_minor.monetary_value == four_minor.monetary_value);
  CHECK(one.first_purchase == four.first_purchase);
}

TEST_CASE("amounts of rows that share a time sum to the same value in any row order") {
  // Customer 7: a first purchase, then three purchases at one instant. In input order
  // (0.1 + 0.2) + 0.3 = 0.6000000000000001 but (0.3 + 0.2) + 0.1 = 0.6: a plain running sum would
  // make the summary depend on the row order, which a shuffle across partitions changes. The sum
  // is exact and rounded once (math.fsum([0.1, 0.2, 0.3]) == 0.6), whatever the order.
  std::vector<double> amounts{0.1, 0.2, 0.3};
  std::sort(amounts.begin(), amounts.end());
  std::vector<double> seen;
  do {
    const std::vector<std::int64_t> ids{7, 7, 7, 7};
    const std::vector<std::int64_t> times{at("2024-01-01"), at("2024-01-05T10:00:00Z"),
                                          at("2024-01-05T10:00:00Z"), at("2024-01-05T10:00:00Z")};
    const std::vector<double> a{5.0, amounts[0], amounts[1], amounts[2]};
    SummaryOptions o;
    o.observation_period_end = Timestamp::parse("2024-02-01");
    const auto s = crmkit::summary_data_from_transaction_data(ids, times, a, o);
    REQUIRE(s.size() == 1);
    seen.push_back(s.monetary_value[0]);

    CalibrationOptions c;
    c.observation_period_end = Timestamp::parse("2024-02-01");
    const auto h = crmkit::calibration_and_holdout_data(ids, times, a,
                                                        Timestamp::parse("2024-01-02"), c);
    REQUIRE(h.size() == 1);
    CHECK(h.monetary_value_holdout[0] == 0.6 / 3);  // mean of the holdout rows: fsum / 3
  } while (std::next_permutation(amounts.begin(), amounts.end()));
  REQUIRE(seen.size() == 6);
  for (double v : seen) CHECK(v == 0.6);
}
