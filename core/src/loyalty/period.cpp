// Calendar periods in UTC (crmkit/loyalty/period.hpp).
#include "crmkit/loyalty/period.hpp"

#include <cstdio>
#include <string>

#include "base/calendar.hpp"
#include "crmkit/base/error.hpp"

namespace crmkit {
inline namespace v0 {

using detail::civil_from_days;
using detail::CivilDate;
using detail::days_from_civil;
using detail::floor_div;
using detail::kMicrosPerDay;

namespace {

// Day 0 (1970-01-01) is a Thursday, so the Monday on or before day d is d - (d + 3) mod 7.
constexpr std::int64_t kMondayOffset = 3;

std::int64_t months_since_1970(std::int64_t day) noexcept {
  const CivilDate c = civil_from_days(day);
  return (static_cast<std::int64_t>(c.year) - 1970) * 12 + (static_cast<std::int64_t>(c.month) - 1);
}

}  // namespace

const char* to_string(Period p) noexcept {
  switch (p) {
    case Period::day: return "day";
    case Period::week: return "week";
    case Period::month: return "month";
    case Period::quarter: return "quarter";
    case Period::year: return "year";
  }
  return "?";
}

Period parse_period(std::string_view s, std::string_view field) {
  for (Period p : {Period::day, Period::week, Period::month, Period::quarter, Period::year}) {
    if (s == to_string(p)) return p;
  }
  throw Error(ErrorCode::invalid_argument,
              std::string(field) + ": unknown period '" + std::string(s) +
                  "' (expected day, week, month, quarter or year)");
}

std::int64_t period_index(Timestamp t, Period p) noexcept {
  const std::int64_t day = floor_div(t.micros(), kMicrosPerDay);
  switch (p) {
    case Period::day: return day;
    case Period::week: return floor_div(day + kMondayOffset, 7);
    case Period::month: return months_since_1970(day);
    case Period::quarter: return floor_div(months_since_1970(day), 3);
    case Period::year: return floor_div(months_since_1970(day), 12);
  }
  return 0;
}

Timestamp period_start(std::int64_t index, Period p) noexcept {
  std::int64_t day = 0;
  switch (p) {
    case Period::day: day = index; break;
    case Period::week: day = index * 7 - kMondayOffset; break;
    case Period::month:
    case Period::quarter:
    case Period::year: {
      const std::int64_t months = p == Period::month ? index : p == Period::quarter ? index * 3
                                                                                     : index * 12;
      const std::int64_t year = 1970 + floor_div(months, 12);
      const std::int64_t month = months - floor_div(months, 12) * 12 + 1;
      day = days_from_civil(year, static_cast<unsigned>(month), 1);
      break;
    }
  }
  return Timestamp::from_micros(day * kMicrosPerDay);
}

std::string period_label(std::int64_t index, Period p) {
  char buf[32];
  const std::int64_t day = floor_div(period_start(index, p).micros(), kMicrosPerDay);
  const CivilDate c = civil_from_days(day);
  switch (p) {
    case Period::day:
      std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(c.year),
                    static_cast<unsigned>(c.month), static_cast<unsigned>(c.day));
      break;
    case Period::week: {
      // ISO 8601: the week belongs to the year of its Thursday.
      const std::int64_t thursday = day + 3;
      const CivilDate t = civil_from_days(thursday);
      const std::int64_t jan1 = days_from_civil(t.year, 1, 1);
      const std::int64_t week = (thursday - jan1) / 7 + 1;
      std::snprintf(buf, sizeof buf, "%04lld-W%02lld", static_cast<long long>(t.year),
                    static_cast<long long>(week));
      break;
    }
    case Period::month:
      std::snprintf(buf, sizeof buf, "%04lld-%02u", static_cast<long long>(c.year),
                    static_cast<unsigned>(c.month));
      break;
    case Period::quarter:
      std::snprintf(buf, sizeof buf, "%04lld-Q%u", static_cast<long long>(c.year),
                    static_cast<unsigned>((c.month - 1) / 3 + 1));
      break;
    case Period::year:
      std::snprintf(buf, sizeof buf, "%04lld", static_cast<long long>(c.year));
      break;
  }
  return buf;
}

}  // namespace v0
}  // namespace crmkit
