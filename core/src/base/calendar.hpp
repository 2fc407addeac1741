// Private: proleptic Gregorian calendar arithmetic on day numbers (days since 1970-01-01), shared
// by base's Timestamp/Date and the value layer's period arithmetic (summaries by day, week and
// month). Howard Hinnant's civil-calendar algorithms; every function is exact for any int64 day
// number that maps to a year within +-2^31.
#pragma once

#include <cstdint>

namespace crmkit {
inline namespace v0 {
namespace detail {

inline constexpr std::int64_t kMicrosPerSecond = 1'000'000;
inline constexpr std::int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

// a / b rounded towards negative infinity (b != 0).
constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// The day number of an instant given in microseconds since the epoch.
constexpr std::int64_t day_of(std::int64_t micros) noexcept {
  return floor_div(micros, kMicrosPerDay);
}

// The day number of a calendar date (month 1..12, day 1..31; not checked).
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct CivilDate {
  std::int64_t year;
  unsigned month;  // 1..12
  unsigned day;    // 1..31
};

// The calendar date of a day number.
constexpr CivilDate civil_from_days(std::int64_t z) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return CivilDate{y + (m <= 2), m, d};
}

// Months since year 0 (year * 12 + month - 1) of a day number.
constexpr std::int64_t month_index_of_day(std::int64_t z) noexcept {
  const CivilDate c = civil_from_days(z);
  return c.year * 12 + static_cast<std::int64_t>(c.month) - 1;
}

// The day number of the first day of a month index (year * 12 + month - 1).
constexpr std::int64_t month_start_day(std::int64_t month_index) noexcept {
  const std::int64_t y = floor_div(month_index, 12);
  const auto m = static_cast<unsigned>(month_index - y * 12 + 1);
  return days_from_civil(y, m, 1);
}

// Known answers, checked by the compiler.
static_assert(days_from_civil(1970, 1, 1) == 0);
static_assert(days_from_civil(2000, 3, 1) == 11017);
static_assert(civil_from_days(-1).year == 1969 && civil_from_days(-1).month == 12 &&
              civil_from_days(-1).day == 31);
static_assert(month_index_of_day(days_from_civil(1997, 2, 28)) == 1997 * 12 + 1);
static_assert(month_start_day(1997 * 12 + 1) == days_from_civil(1997, 2, 1));
static_assert(floor_div(-1, 7) == -1 && floor_div(7, 7) == 1);

}  // namespace detail
}  // namespace v0
}  // namespace crmkit
