// Calendar periods (crmkit/loyalty/period.hpp): indexes, starts and labels.
#include <catch2/catch.hpp>

#include <string>

#include "crmkit/base/error.hpp"
#include "crmkit/base/time.hpp"
#include "crmkit/loyalty/period.hpp"

using namespace crmkit;

namespace {
Timestamp at(const char* text) { return Timestamp::parse(text); }
}  // namespace

TEST_CASE("period indexes count from 1970 and are consecutive") {
  CHECK(period_index(at("1970-01-01T00:00:00Z"), Period::day) == 0);
  CHECK(period_index(at("1969-12-31T23:59:59Z"), Period::day) == -1);
  CHECK(period_index(at("1997-01-01T00:00:00Z"), Period::month) == 27 * 12);
  CHECK(period_index(at("1997-12-31T23:59:59Z"), Period::month) == 27 * 12 + 11);
  CHECK(period_index(at("1997-03-31T10:00:00Z"), Period::quarter) == 27 * 4);
  CHECK(period_index(at("1997-04-01T00:00:00Z"), Period::quarter) == 27 * 4 + 1);
  CHECK(period_index(at("1969-06-01T00:00:00Z"), Period::year) == -1);
  // 1970-01-01 was a Thursday: its week started on Monday 1969-12-29.
  CHECK(period_index(at("1970-01-01T00:00:00Z"), Period::week) == 0);
  CHECK(period_index(at("1969-12-28T23:00:00Z"), Period::week) == -1);
  CHECK(period_index(at("1970-01-05T00:00:00Z"), Period::week) == 1);
}

TEST_CASE("period starts are the first instant of each period") {
  CHECK(period_start(0, Period::week) == at("1969-12-29T00:00:00Z"));
  CHECK(period_start(27 * 12 + 1, Period::month) == at("1997-02-01T00:00:00Z"));
  CHECK(period_start(27 * 4 + 3, Period::quarter) == at("1997-10-01T00:00:00Z"));
  CHECK(period_start(-1, Period::month) == at("1969-12-01T00:00:00Z"));
  CHECK(period_start(54, Period::year) == at("2024-01-01T00:00:00Z"));
  for (Period p : {Period::day, Period::week, Period::month, Period::quarter, Period::year}) {
    for (std::int64_t i : {-30, -1, 0, 1, 329, 1000}) {
      CHECK(period_index(period_start(i, p), p) == i);
      CHECK(period_index(Timestamp::from_micros(period_start(i + 1, p).micros() - 1), p) == i);
    }
  }
}

TEST_CASE("period labels") {
  CHECK(period_label(period_index(at("2024-03-07T12:00:00Z"), Period::day), Period::day) ==
        "2024-03-07");
  CHECK(period_label(period_index(at("2024-03-07T12:00:00Z"), Period::month), Period::month) ==
        "2024-03");
  CHECK(period_label(period_index(at("2024-03-07T12:00:00Z"), Period::quarter), Period::quarter) ==
        "2024-Q1");
  CHECK(period_label(period_index(at("2024-03-07T12:00:00Z"), Period::year), Period::year) == "2024");
  CHECK(period_label(period_index(at("2024-03-07T12:00:00Z"), Period::week), Period::week) ==
        "2024-W10");
  // ISO weeks at year ends: 2021-01-03 is in 2020-W53, 2024-12-30 in 2025-W01.
  CHECK(period_label(period_index(at("2021-01-03T00:00:00Z"), Period::week), Period::week) ==
        "2020-W53");
  CHECK(period_label(period_index(at("2024-12-30T00:00:00Z"), Period::week), Period::week) ==
        "2025-W01");
}

TEST_CASE("period names") {
  CHECK(parse_period("quarter") == Period::quarter);
  CHECK(std::string(to_string(Period::week)) == "week");
  try {
    parse_period("fortnight", "cohorts.period");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::invalid_argument);
    CHECK(std::string(e.what()) ==
          "cohorts.period: unknown period 'fortnight' (expected day, week, month, quarter or year)");
  }
}
