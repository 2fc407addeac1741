// Tests for crmkit/value/rfm.hpp: quintile scores with ties by position, reversed recency, FM rounding
// and the segment grid. Expected scores were worked out by hand from the rule
// score = max(1, ceil(5 (rank - 1) / (n - 1))) and agree with pandas' qcut(rank(method="first")).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "crmkit/base/error.hpp"
#include "crmkit/value/rfm.hpp"
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

TEST_CASE("quintile_scores breaks ties by position, the earlier row ranking lower") {
  CHECK(q({5, 5, 5, 5, 5}) == Scores{1, 2, 3, 4, 5});
  // n = 7: sorted 0(5) 1(1) 2(2) 2(3) 2(6) 3(0) 7(4); ranks 1..7 score 1,1,2,3,4,5,5.
  CHECK(q({3, 1, 2, 2, 7, 0, 2}) == Scores{5, 1, 2, 3, 5, 1, 4});
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
  // frequency: 0(1) 1(3) 3(2) 3(4) 9(0) -> ranks 1..5; the tied 3s keep input order.
  CHECK(s.f == Scores{5, 1, 3, 2, 4});
  // monetary: 20(1) 35(2) 35(4) 300(3) 500(0).
  CHECK(s.m == Scores{5, 1, 2, 4, 3});
  // FM = round((F + M) / 2), halves up: 5, 1, 2.5->3, 3, 3.5->4.
  CHECK(s.fm == Scores{5, 1, 3, 3, 4});
  CHECK(s.segment == std::vector<std::string>{"Champions", "Promising", "Potential Loyalist",
                                              "At Risk", "At Risk"});
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
