// Tests for crmkit/value/rfm.hpp: quintile scores with shared ties (and ties by position on request),
// reversed recency, FM rounding and the segment grid. Expected scores were worked out by hand from
// the rule score = max(1, ceil(5 (rank - 1) / (n - 1))), with rank pandas' rank(method="min") for
// shared ties and rank(method="first") for RfmTies::row_order.
#include <catch2/catch.hpp>

#include <cstdint>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "crmkit/base/error.hpp"
#include "crmkit/base/time.hpp"
#include "crmkit/value/rfm.hpp"
#include "crmkit/value/summary.hpp"
#include "support.hpp"

using crmkit::Error;
using crmkit::ErrorCode;
using crmkit::quintile_scores;
using crmkit::rfm_scores;
using crmkit::rfm_segment;
using crmkit::test::catch_error;
using Scores = std::vector<std::int32_t>;

namespace {

Scores q(std::vector<double> v) { return quintile_scores(v); }

}  // namespace

TEST_CASE("quintile_scores cuts ten distinct values into five pairs") {
  CHECK(q({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) == Scores{1, 1, 2, 2, 3, 3, 4, 4, 5, 5});
  CHECK(q({9, 8, 7, 6, 5, 4, 3, 2, 1, 0}) == Scores{5, 5, 4, 4, 3, 3, 2, 2, 1, 1});
}

TEST_CASE("quintile_scores gives tied values the score of their first rank by default") {
  CHECK(q({5, 5, 5, 5, 5}) == Scores{1, 1, 1, 1, 1});
  // n = 7: sorted 0(5) 1(1) 2(2) 2(3) 2(6) 3(0) 7(4); ranks 1..7 score 1,1,2,3,4,5,5, and the
  // three 2s (ranks 3..5) share the score of rank 3.
  CHECK(q({3, 1, 2, 2, 7, 0, 2}) == Scores{5, 1, 2, 2, 5, 1, 2});
  // pandas rank(method="min") of the same column is 6, 2, 3, 3, 7, 1, 3.
}

TEST_CASE("quintile_scores with RfmTies::row_order breaks ties by position") {
  using crmkit::RfmTies;
  const std::vector<double> five{5, 5, 5, 5, 5};
  CHECK(quintile_scores(five, "values", RfmTies::row_order) == Scores{1, 2, 3, 4, 5});
  // n = 7: sorted 0(5) 1(1) 2(2) 2(3) 2(6) 3(0) 7(4); ranks 1..7 score 1,1,2,3,4,5,5.
  const std::vector<double> seven{3, 1, 2, 2, 7, 0, 2};
  CHECK(quintile_scores(seven, "values", RfmTies::row_order) == Scores{5, 1, 2, 3, 5, 1, 4});
}

TEST_CASE("quintile_scores handles n not divisible by 5 and n below 5") {
  // n = 6: ceil(5 (r - 1) / 5) = r - 1, at least 1.
  CHECK(q({10, 20, 30, 40, 50, 60}) == Scores{1, 1, 2, 3, 4, 5});
  // n = 8: ceil(5 (r - 1) / 7): 1,1,2,3,3,4,5,5.
  CHECK(q({1, 2, 3, 4, 5, 6, 7, 8}) == Scores{1, 1, 2, 3, 3, 4, 5, 5});
  CHECK(q({4, 3, 2, 1}) == Scores{5, 4, 2, 1});
  CHECK(q({1, 2, 3}) == Scores{1, 3, 5});
  CHECK(q({2, 1}) == Scores{5, 1});
  CHECK(q({42}) == Scores{3});
  CHECK(q({}).empty());
}

TEST_CASE("quintile_scores rejects NaN naming the field and index") {
  const std::vector<double> v{1.0, std::nan(""), 2.0};
  const Error e = catch_error([&] { quintile_scores(v, "frequency"); });
  CHECK(e.code() == ErrorCode::invalid_argument);
  CHECK(std::string(e.what()) == "frequency[1]: is NaN");
}

TEST_CASE("rfm_segment reads the default grid by R and FM") {
  CHECK(rfm_segment(5, 1) == "Recent Customers");
  CHECK(rfm_segment(5, 4) == "Champions");
  CHECK(rfm_segment(4, 3) == "Potential Loyalist");
  CHECK(rfm_segment(3, 2) == "Need Attention");
  CHECK(rfm_segment(3, 5) == "Loyal Customers");
  CHECK(rfm_segment(2, 1) == "About to Sleep");
  CHECK(rfm_segment(2, 4) == "At Risk");
  CHECK(rfm_segment(1, 1) == "Lost");
  CHECK(rfm_segment(1, 2) == "Hibernating");
  CHECK(rfm_segment(1, 3) == "At Risk");
  CHECK(rfm_segment(1, 5) == "Can't Lose Them");
  const Error e = catch_error([] { rfm_segment(0, 3); });
  CHECK(e.code() == ErrorCode::invalid_argument);
  CHECK(std::string(e.what()) == "r: must be in 1..5, got 0");
  CHECK(std::string(catch_error([] { rfm_segment(3, 6); }).what()) == "fm: must be in 1..5, got 6");
}

TEST_CASE("rfm_scores reverses recency, rounds FM halves up and names segments") {
  // Five customers; recency_value = days since the last purchase (lower is better).
  const std::vector<double> recency{1, 40, 10, 200, 90};
  const std::vector<double> frequency{9, 0, 3, 1, 3};
  const std::vector<double> monetary{500, 20, 35, 300, 35};
  const auto s = rfm_scores(recency, frequency, monetary);
  REQUIRE(s.size() == 5);
  // recency ascending 1,10,40,90,200 -> quintiles 1..5 -> R reversed.
  CHECK(s.r == Scores{5, 3, 4, 1, 2});
  // frequency: 0(1) 1(3) 3(2) 3(4) 9(0) -> ranks 1..5 score 1..5; the tied 3s share rank 3's.
  CHECK(s.f == Scores{5, 1, 3, 2, 3});
  // monetary: 20(1) 35(2) 35(4) 300(3) 500(0); the tied 35s share rank 2's score.
  CHECK(s.m == Scores{5, 1, 2, 4, 2});
  // FM = round((F + M) / 2), halves up: 5, 1, 2.5->3, 3, 2.5->3.
  CHECK(s.fm == Scores{5, 1, 3, 3, 3});
  CHECK(s.segment == std::vector<std::string>{"Champions", "Promising", "Potential Loyalist",
                                              "At Risk", "Need Attention"});

  // The rule of 0.1.0, ties by position, on request.
  crmkit::RfmOptions by_row;
  by_row.ties = crmkit::RfmTies::row_order;
  const auto old = rfm_scores(recency, frequency, monetary, by_row);
  CHECK(old.r == Scores{5, 3, 4, 1, 2});
  // frequency: the tied 3s keep input order; monetary likewise.
  CHECK(old.f == Scores{5, 1, 3, 2, 4});
  CHECK(old.m == Scores{5, 1, 2, 4, 3});
  // FM = round((F + M) / 2), halves up: 5, 1, 2.5->3, 3, 3.5->4.
  CHECK(old.fm == Scores{5, 1, 3, 3, 4});
  CHECK(old.segment == std::vector<std::string>{"Champions", "Promising", "Potential Loyalist",
                                                "At Risk", "At Risk"});
}

TEST_CASE("tied recency values share the lowest R") {
  // recency_value ascending 5(0) 5(1) 9(2) 9(3) 20(4): quintiles by rank 1,2,3,4,5, so R by rank
  // 5,4,3,2,1; the tied 5s share R 4, the tied 9s R 2.
  const std::vector<double> recency{5, 5, 9, 9, 20}, ones{1, 1, 1, 1, 1};
  CHECK(rfm_scores(recency, ones, ones).r == Scores{4, 4, 2, 2, 1});
}

TEST_CASE("rfm_scores with fewer than five customers and with a custom grid") {
  crmkit::RfmOptions options;
  for (int r = 1; r <= 5; ++r) {
    for (int fm = 1; fm <= 5; ++fm) {
      std::string name = "R";
      name += std::to_string(r);
      name += "FM";
      name += std::to_string(fm);
      options.segments[static_cast<std::size_t>((r - 1) * 5 + fm - 1)] = name;
    }
  }
  const std::vector<double> recency{3, 30};
  const std::vector<double> frequency{1, 4};
  const std::vector<double> monetary{10, 5};
  const auto s = rfm_scores(recency, frequency, monetary, options);
  CHECK(s.r == Scores{5, 1});
  CHECK(s.f == Scores{1, 5});
  CHECK(s.m == Scores{5, 1});
  CHECK(s.fm == Scores{3, 3});
  CHECK(s.segment == std::vector<std::string>{"R5FM3", "R1FM3"});

  const std::vector<double> one{7};
  const auto single = rfm_scores(one, one, one);
  CHECK(single.r == Scores{3});
  CHECK(single.fm == Scores{3});
  CHECK(single.segment == std::vector<std::string>{"Potential Loyalist"});
  CHECK(rfm_scores({}, {}, {}).size() == 0);
}

TEST_CASE("rfm_scores rejects columns of different lengths") {
  const std::vector<double> three{1, 2, 3};
  const std::vector<double> two{1, 2};
  const Error e = catch_error([&] { rfm_scores(three, two, three); });
  CHECK(e.code() == ErrorCode::invalid_argument);
  CHECK(std::string(e.what()) == "frequency: length 2 differs from recency_value (3)");
  CHECK(std::string(catch_error([&] { rfm_scores(three, three, two); }).what()) ==
        "monetary: length 2 differs from recency_value (3)");
}

namespace {

// The CDNOW master summary (23,570 customers, in weeks counted in days, to the last
// transaction): recency_value = T - recency (weeks since the last purchase), frequency,
// monetary_value.
struct MasterRfm {
  std::vector<double> recency_value, frequency, monetary;
};

const MasterRfm& cdnow_master() {
  static const MasterRfm out = [] {
    std::ifstream in(crmkit::test::data_file("CDNOW_master.txt"));
    REQUIRE(in.good());
    std::string header;
    std::getline(in, header);
    std::vector<std::int64_t> ids, times;
    std::vector<double> amounts;
    std::string id, date, cds, dollars;
    while (in >> id >> date >> cds >> dollars) {
      ids.push_back(std::stoll(id));
      times.push_back(crmkit::Date::parse(date).start().micros());
      amounts.push_back(std::stod(dollars));
    }
    crmkit::SummaryOptions weeks;  // days / 7, as the CDNOW data sets count
    weeks.multiplier = 7;
    const crmkit::RfmSummary s =
        crmkit::summary_data_from_transaction_data(ids, times, amounts, weeks);
    MasterRfm m;
    for (std::size_t i = 0; i < s.size(); ++i) {
      m.recency_value.push_back(s.T[i] - s.recency[i]);
      m.frequency.push_back(static_cast<double>(s.frequency[i]));
    }
    m.monetary = s.monetary_value;
    return m;
  }();
  return out;
}

template <typename T>
std::vector<T> reversed(const std::vector<T>& v) {
  return std::vector<T>(v.rbegin(), v.rend());
}

}  // namespace

TEST_CASE("reversing the rows of the CDNOW master summary changes no score") {
  const MasterRfm& c = cdnow_master();
  REQUIRE(c.frequency.size() == 23570);
  const auto s = rfm_scores(c.recency_value, c.frequency, c.monetary);
  const auto back = rfm_scores(reversed(c.recency_value), reversed(c.frequency),
                               reversed(c.monetary));
  CHECK(reversed(back.r) == s.r);
  CHECK(reversed(back.f) == s.f);
  CHECK(reversed(back.m) == s.m);
  CHECK(reversed(back.segment) == s.segment);
  // Every one-time buyer (frequency 0) has the same F score, 1.
  std::set<std::int32_t> one_time;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (c.frequency[i] == 0) one_time.insert(s.f[i]);
  CHECK(one_time == std::set<std::int32_t>{1});

  // By row order, as before: reversing moves 11,619 customers to another segment, and one-time
  // buyers get F scores 1 to 3.
  crmkit::RfmOptions by_row;
  by_row.ties = crmkit::RfmTies::row_order;
  const auto old = rfm_scores(c.recency_value, c.frequency, c.monetary, by_row);
  const auto old_back = rfm_scores(reversed(c.recency_value), reversed(c.frequency),
                                   reversed(c.monetary), by_row);
  const auto old_back_segments = reversed(old_back.segment);
  std::size_t moved = 0;
  for (std::size_t i = 0; i < old.size(); ++i) moved += old.segment[i] != old_back_segments[i];
  CHECK(moved == 11619);
  std::set<std::int32_t> old_one_time;
  for (std::size_t i = 0; i < old.size(); ++i)
    if (c.frequency[i] == 0) old_one_time.insert(old.f[i]);
  CHECK(old_one_time == std::set<std::int32_t>{1, 2, 3});
}
