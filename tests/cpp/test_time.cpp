// Tests for crmkit/base/time.hpp: strict ISO 8601 parsing, UTC formatting and calendar dates.
#include <catch2/catch.hpp>

#include <string>

#include "crmkit/base/error.hpp"
#include "crmkit/base/time.hpp"
#include "support.hpp"

using crmkit::Date;
using crmkit::Error;
using crmkit::ErrorCode;
using crmkit::Timestamp;
using crmkit::test::catch_error;

namespace {

std::int64_t micros(std::string_view text) { return Timestamp::parse(text).micros(); }

constexpr std::int64_t kSecond = 1'000'000;
// 2024-03-01T00:00:00Z
constexpr std::int64_t kMarch1 = 1'709'251'200 * kSecond;

}  // namespace

TEST_CASE("Timestamp parses each ISO 8601 form to exact microseconds") {
  CHECK(micros("1970-01-01T00:00:00Z") == 0);
  CHECK(micros("1970-01-01T08:00:00+08:00") == 0);
  CHECK(micros("1969-12-31T19:00:00-05:00") == 0);
  CHECK(micros("2024-03-01T12:30:00Z") == kMarch1 + 45'000 * kSecond);
  CHECK(micros("2024-03-01t12:30:00z") == kMarch1 + 45'000 * kSecond);
  CHECK(micros("2024-03-01T12:30:00.25+08:00") == kMarch1 + 16'200 * kSecond + 250'000);
  CHECK(micros("2024-03-01 12:30:00-0500") == kMarch1 + 63'000 * kSecond);
  CHECK(micros("2024-03-01T12:30:00+0800") == kMarch1 + 16'200 * kSecond);
  CHECK(micros("2024-03-01T12:30:00+08") == kMarch1 + 16'200 * kSecond);
  CHECK(micros("2024-03-01T12:30") == kMarch1 + 45'000 * kSecond);
  CHECK(micros("2024-03-01T12:30Z") == kMarch1 + 45'000 * kSecond);
  CHECK(micros("2024-03-01") == kMarch1);
  CHECK(micros("19970101") == 852'076'800 * kSecond);
  CHECK(micros("2024-02-29") == kMarch1 - 86'400 * kSecond);
  CHECK(micros("2000-01-01T00:00:00.000001Z") == 946'684'800 * kSecond + 1);
  CHECK(micros("2000-01-01T00:00:00.5Z") == 946'684'800 * kSecond + 500'000);
  CHECK(micros("2000-01-01T00:00:00,123456Z") == 946'684'800 * kSecond + 123'456);
  CHECK(micros("1969-12-31T23:59:59.5Z") == -500'000);
  CHECK(micros("2024-03-01T00:00:00+18:00") == kMarch1 - 18 * 3600 * kSecond);
  CHECK(micros("2024-03-01T00:00:00-18:00") == kMarch1 + 18 * 3600 * kSecond);
  CHECK(micros("0001-01-01T00:00:00Z") == -62'135'596'800 * kSecond);
  CHECK(micros("9999-12-31T23:59:59.999999Z") == 253'402'300'799'999'999);
}

TEST_CASE("Timestamp refuses impossible dates and times naming the field") {
  Error feb = catch_error([] { Timestamp::parse("2023-02-29", "purchase.time"); });
  CHECK(feb.code() == ErrorCode::invalid_argument);
  CHECK(std::string(feb.what()) ==
        "purchase.time: '2023-02-29': day 29 does not exist in that month");
  CHECK(std::string(catch_error([] { Timestamp::parse("2024-13-01"); }).what()) ==
        "time: '2024-13-01': month 13 is outside 1..12");
  CHECK(std::string(catch_error([] { Timestamp::parse("2024-00-10"); }).what()) ==
        "time: '2024-00-10': month 0 is outside 1..12");
  CHECK(std::string(catch_error([] { Timestamp::parse("2024-04-31"); }).what()) ==
        "time: '2024-04-31': day 31 does not exist in that month");
  CHECK(std::string(catch_error([] { Timestamp::parse("2024-04-00"); }).what()) ==
        "time: '2024-04-00': day 0 does not exist in that month");
  CHECK(std::string(catch_error([] { Timestamp::parse("2024-03-01T24:00:01"); }).what()) ==
        "time: '2024-03-01T24:00:01': hour 24 is outside 0..23");
  CHECK(std::string(catch_error([] { Timestamp::parse("2024-03-01T24:00"); }).what()) ==
        "time: '2024-03-01T24:00': hour 24 is outside 0..23");
  CHECK(std::string(catch_error([] { Timestamp::parse("2024-03-01T12:60"); }).what()) ==
        "time: '2024-03-01T12:60': minute 60 is outside 0..59");
  CHECK(std::string(catch_error([] { Timestamp::parse("2016-12-31T23:59:60Z"); }).what()) ==
        "time: '2016-12-31T23:59:60Z': second 60 is outside 0..59");
  CHECK(std::string(catch_error([] { Timestamp::parse("0000-01-01"); }).what()) ==
        "time: '0000-01-01': year 0 is outside 0001..9999");
}

TEST_CASE("Timestamp refuses offsets beyond 18 hours") {
  const char* bad[] = {"2024-03-01T12:00:00+18:01", "2024-03-01T12:00:00-19:00",
                       "2024-03-01T12:00:00+0860", "2024-03-01T12:00:00+99"};
  for (const char* text : bad) {
    INFO(text);
    Error e = catch_error([&] { Timestamp::parse(text); });
    CHECK(e.code() == ErrorCode::invalid_argument);
    CHECK(std::string(e.what()).find("offset is beyond +-18:00") != std::string::npos);
  }
}

TEST_CASE("Timestamp refuses malformed text and trailing garbage") {
  const char* bad[] = {"",
                       "2024",
                       "2024-03",
                       "2024-3-1",
                       "2024-03-1",
                       "2024/03/01",
                       "202403",
                       "2024-0301",
                       "2024-03-01T",
                       "2024-03-01T12",
                       "2024-03-01T1230",
                       "2024-03-01T12:3",
                       "2024-03-01T12:30:0",
                       "2024-03-01T12:30:00.",
                       "2024-03-01T12:30:00Zx",
                       "2024-03-01T12:30:00 Z",
                       "2024-03-01T12:30:00+8:00",
                       "2024-03-01T12:30:00+08:0",
                       "2024-03-01T12:30:00+08:00:00",
                       "2024-03-01X12:30:00",
                       " 2024-03-01",
                       "2024-03-01 ",
                       "2024-03-01T12:30:00Z\n",
                       "1697000000"};
  for (const char* text : bad) {
    INFO(text);
    Error e = catch_error([&] { Timestamp::parse(text, "event.time"); });
    CHECK(e.code() == ErrorCode::invalid_argument);
    CHECK(std::string(e.what()).rfind("event.time: '", 0) == 0);
    CHECK(std::string(e.what()).find("is not an ISO 8601 time") != std::string::npos);
  }
  Error frac = catch_error([] { Timestamp::parse("2024-03-01T12:30:00.1234567Z"); });
  CHECK(std::string(frac.what()) == "time: '2024-03-01T12:30:00.1234567Z': more than 6 fraction digits");
}

TEST_CASE("Timestamp refuses instants outside years 0001..9999 after the offset") {
  Error low = catch_error([] { Timestamp::parse("0001-01-01T00:30:00+01:00"); });
  CHECK(low.code() == ErrorCode::invalid_argument);
  CHECK(std::string(low.what()) ==
        "time: '0001-01-01T00:30:00+01:00' is outside years 0001..9999 in UTC");
  CHECK(catch_error([] { Timestamp::parse("9999-12-31T23:00:00-01:00"); }).code() ==
        ErrorCode::invalid_argument);
}

TEST_CASE("Timestamp to_string writes UTC with a fraction only when nonzero") {
  CHECK(Timestamp().to_string() == "1970-01-01T00:00:00Z");
  CHECK(Timestamp::parse("2024-03-01T12:30:00.25+08:00").to_string() ==
        "2024-03-01T04:30:00.250000Z");
  CHECK(Timestamp::parse("2024-03-01 12:30:00-0500").to_string() == "2024-03-01T17:30:00Z");
  CHECK(Timestamp::from_micros(-1).to_string() == "1969-12-31T23:59:59.999999Z");
  CHECK(Timestamp::from_micros(-500'000).to_string() == "1969-12-31T23:59:59.500000Z");
  CHECK(Timestamp::from_seconds(951'782'400).to_string() == "2000-02-29T00:00:00Z");
  CHECK(Timestamp::from_micros(253'402'300'799'999'999).to_string() ==
        "9999-12-31T23:59:59.999999Z");
  CHECK(Timestamp::from_seconds(-62'135'596'800).to_string() == "0001-01-01T00:00:00Z");
}

TEST_CASE("Timestamp to_string round-trips through parse") {
  const std::int64_t samples[] = {0,
                                  1,
                                  -1,
                                  999'999,
                                  kMarch1 + 123'456,
                                  -62'135'596'800 * kSecond,
                                  253'402'300'799'999'999,
                                  -86'400 * kSecond * 365 * 100 + 7};
  for (std::int64_t m : samples) {
    INFO(m);
    const Timestamp t = Timestamp::from_micros(m);
    CHECK(Timestamp::parse(t.to_string()) == t);
  }
}

TEST_CASE("Timestamp now is a plausible current instant") {
  const Timestamp a = Timestamp::now();
  const Timestamp b = Timestamp::now();
  CHECK(a <= b);
  CHECK(a > Timestamp::parse("2024-01-01"));
  CHECK(a < Timestamp::parse("2100-01-01"));
}

TEST_CASE("Timestamp date gives the UTC calendar date, also before the epoch") {
  CHECK(Timestamp::parse("2024-03-01T23:59:59.999999Z").date() == Date(2024, 3, 1));
  CHECK(Timestamp::parse("2024-03-01T00:30:00+01:00").date() == Date(2024, 2, 29));
  CHECK(Timestamp::from_micros(-1).date() == Date(1969, 12, 31));
  CHECK(Timestamp().date() == Date());
}

TEST_CASE("Date validates its fields") {
  const Date d(2024, 2, 29);
  CHECK(d.year() == 2024);
  CHECK(d.month() == 2);
  CHECK(d.day() == 29);
  Error e = catch_error([] { Date(2023, 2, 29); });
  CHECK(e.code() == ErrorCode::invalid_argument);
  CHECK(std::string(e.what()) == "date: '2023-02-29': day 29 does not exist in that month");
  CHECK(std::string(catch_error([] { Date(2024, 13, 1); }).what()) ==
        "date: '2024-13-01': month 13 is outside 1..12");
  CHECK(std::string(catch_error([] { Date(0, 1, 1); }).what()) ==
        "date: '0000-01-01': year 0 is outside 0001..9999");
  CHECK(catch_error([] { Date(10000, 1, 1); }).code() == ErrorCode::invalid_argument);
  CHECK(catch_error([] { Date(1900, 2, 29); }).code() == ErrorCode::invalid_argument);
  CHECK(Date(2000, 2, 29).day() == 29);
}

TEST_CASE("Date parses both forms and refuses anything else") {
  CHECK(Date::parse("2024-02-29") == Date(2024, 2, 29));
  CHECK(Date::parse("19970101") == Date(1997, 1, 1));
  Error e = catch_error([] { Date::parse("2023-02-29", "customer.birth_date"); });
  CHECK(std::string(e.what()) ==
        "customer.birth_date: '2023-02-29': day 29 does not exist in that month");
  const char* bad[] = {"", "2024-02-29T00:00", "2024-2-29", "1997011", "199701011", "2024-02-29 ",
                       "24-02-29"};
  for (const char* text : bad) {
    INFO(text);
    Error m = catch_error([&] { Date::parse(text, "birth"); });
    CHECK(m.code() == ErrorCode::invalid_argument);
    CHECK(std::string(m.what()).rfind("birth: '", 0) == 0);
    CHECK(std::string(m.what()).find("is not a date (expected YYYY-MM-DD or YYYYMMDD)") !=
          std::string::npos);
  }
}

TEST_CASE("Date counts days since the epoch and back") {
  CHECK(Date().days_since_epoch() == 0);
  CHECK(Date(1970, 1, 2).days_since_epoch() == 1);
  CHECK(Date(1969, 12, 31).days_since_epoch() == -1);
  CHECK(Date(2024, 3, 1).days_since_epoch() == 19'783);
  CHECK(Date(1, 1, 1).days_since_epoch() == -719'162);
  CHECK(Date(9999, 12, 31).days_since_epoch() == 2'932'896);
  CHECK(Date::from_days_since_epoch(19'783) == Date(2024, 3, 1));
  CHECK(Date::from_days_since_epoch(-1) == Date(1969, 12, 31));
  CHECK(Date::from_days_since_epoch(-719'162) == Date(1, 1, 1));
  CHECK(Date::from_days_since_epoch(2'932'896) == Date(9999, 12, 31));
  CHECK(catch_error([] { Date::from_days_since_epoch(-719'163); }).code() ==
        ErrorCode::invalid_argument);
  CHECK(catch_error([] { Date::from_days_since_epoch(2'932'897); }).code() ==
        ErrorCode::invalid_argument);
  for (std::int64_t days = -800; days <= 800; days += 37) {
    CHECK(Date::from_days_since_epoch(days).days_since_epoch() == days);
  }
}

TEST_CASE("Date start and to_string") {
  CHECK(Date(2024, 3, 1).start() == Timestamp(kMarch1));
  CHECK(Date(2024, 3, 1).to_string() == "2024-03-01");
  CHECK(Date(1, 2, 3).to_string() == "0001-02-03");
  CHECK(Date::parse(Date(1997, 1, 1).to_string()) == Date(1997, 1, 1));
  CHECK(Date(2024, 3, 1) < Date(2024, 3, 2));
  CHECK(Date(2023, 12, 31) < Date(2024, 1, 1));
}
