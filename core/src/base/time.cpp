// Timestamp and Date: strict ISO 8601 / RFC 3339 parsing and UTC formatting on std::chrono's
// proleptic Gregorian calendar.
#include "base/calendar.hpp"
#include "base/text.hpp"
#include "crmkit/base/time.hpp"

#include "crmkit/base/error.hpp"

#include <chrono>
#include <cstdio>
#include <string>

namespace crmkit {
inline namespace v0 {
using detail::quote_value;
namespace {

using detail::floor_div;
using detail::kMicrosPerDay;
using detail::kMicrosPerSecond;
constexpr int kMinYear = 1;
constexpr int kMaxYear = 9999;
static_assert(Timestamp::min().micros() == detail::days_from_civil(kMinYear, 1, 1) * kMicrosPerDay);
static_assert(Timestamp::max().micros() ==
              detail::days_from_civil(kMaxYear + 1, 1, 1) * kMicrosPerDay - 1);

// "outside 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999Z".
std::string range_text() {
  return "outside 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999Z";
}

std::chrono::year_month_day make_ymd(int year, int month, int day) {
  return std::chrono::year_month_day{std::chrono::year{year},
                                     std::chrono::month{static_cast<unsigned>(month)},
                                     std::chrono::day{static_cast<unsigned>(day)}};
}

// Checks a calendar date; on failure throws naming `field` and quoting `text`.
void check_date(int year, int month, int day, std::string_view field, std::string_view text) {
  if (year < kMinYear || year > kMaxYear) {
    throw_invalid(field, quote_value(text) + ": year " + std::to_string(year) +
                             " is outside 0001..9999");
  }
  if (month < 1 || month > 12) {
    throw_invalid(field, quote_value(text) + ": month " + std::to_string(month) +
                             " is outside 1..12");
  }
  if (day < 1 || !make_ymd(year, month, day).ok()) {
    throw_invalid(field, quote_value(text) + ": day " + std::to_string(day) +
                             " does not exist in that month");
  }
}

std::int64_t days_of(int year, int month, int day) {
  return std::chrono::sys_days{make_ymd(year, month, day)}.time_since_epoch().count();
}

// A small cursor over the text being parsed.
struct Cursor {
  std::string_view text;
  std::size_t pos = 0;

  bool at_end() const { return pos == text.size(); }
  char peek() const { return at_end() ? '\0' : text[pos]; }
  bool is_digit() const { return !at_end() && text[pos] >= '0' && text[pos] <= '9'; }
  bool take(char c) {
    if (peek() != c || at_end()) return false;
    ++pos;
    return true;
  }
  // Reads exactly n digits; false (and nothing consumed) if there are fewer.
  bool digits(int n, int& out) {
    if (text.size() - pos < static_cast<std::size_t>(n)) return false;
    int v = 0;
    for (int k = 0; k < n; ++k) {
      const char c = text[pos + static_cast<std::size_t>(k)];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    pos += static_cast<std::size_t>(n);
    out = v;
    return true;
  }
};

struct ParsedDate {
  int year = 0, month = 0, day = 0;
};

// Reads "YYYY-MM-DD" or "YYYYMMDD" from the cursor; false if malformed (range not checked).
bool read_date(Cursor& c, ParsedDate& d) {
  if (!c.digits(4, d.year)) return false;
  if (c.take('-')) {
    return c.digits(2, d.month) && c.take('-') && c.digits(2, d.day);
  }
  return c.digits(2, d.month) && c.digits(2, d.day);
}

[[noreturn]] void malformed_time(std::string_view field, std::string_view text) {
  throw_invalid(field, quote_value(text) +
                           " is not an ISO 8601 time (expected YYYY-MM-DD[THH:MM[:SS[.ffffff]]]"
                           "[Z|+HH:MM|+HHMM] or YYYYMMDD)");
}

[[noreturn]] void malformed_date(std::string_view field, std::string_view text) {
  throw_invalid(field, quote_value(text) + " is not a date (expected YYYY-MM-DD or YYYYMMDD)");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Timestamp

Timestamp Timestamp::now() noexcept {
  const auto since = std::chrono::system_clock::now().time_since_epoch();
  return Timestamp(std::chrono::duration_cast<std::chrono::microseconds>(since).count());
}

Timestamp Timestamp::parse(std::string_view text, std::string_view field) {
  Cursor c{text};
  ParsedDate d;
  if (!read_date(c, d)) malformed_time(field, text);
  int hour = 0, minute = 0, second = 0;
  std::int64_t fraction = 0;  // microseconds
  std::int64_t offset_seconds = 0;
  if (!c.at_end()) {
    if (!(c.take('T') || c.take('t') || c.take(' '))) malformed_time(field, text);
    if (!c.digits(2, hour) || !c.take(':') || !c.digits(2, minute)) malformed_time(field, text);
    if (c.take(':')) {
      if (!c.digits(2, second)) malformed_time(field, text);
      if (c.take('.') || c.take(',')) {
        int count = 0;
        while (c.is_digit()) {
          if (count == 6) {
            throw_invalid(field, quote_value(text) + ": more than 6 fraction digits");
          }
          fraction = fraction * 10 + (c.peek() - '0');
          ++c.pos;
          ++count;
        }
        if (count == 0) malformed_time(field, text);
        for (; count < 6; ++count) fraction *= 10;
      }
    }
    if (c.take('Z') || c.take('z')) {
      // UTC
    } else if (c.peek() == '+' || c.peek() == '-') {
      const bool negative = c.peek() == '-';
      ++c.pos;
      int oh = 0, om = 0;
      if (!c.digits(2, oh)) malformed_time(field, text);
      if (c.take(':')) {
        if (!c.digits(2, om)) malformed_time(field, text);
      } else if (!c.at_end()) {
        if (!c.digits(2, om)) malformed_time(field, text);
      }
      if (om > 59 || oh * 60 + om > 18 * 60) {
        throw_invalid(field, quote_value(text) + ": offset is beyond +-18:00");
      }
      offset_seconds = (oh * 3600 + om * 60) * (negative ? -1 : 1);
    }
    if (!c.at_end()) malformed_time(field, text);
  }
  check_date(d.year, d.month, d.day, field, text);
  if (hour > 23) {
    throw_invalid(field, quote_value(text) + ": hour " + std::to_string(hour) + " is outside 0..23");
  }
  if (minute > 59) {
    throw_invalid(field,
                  quote_value(text) + ": minute " + std::to_string(minute) + " is outside 0..59");
  }
  if (second > 59) {
    throw_invalid(field,
                  quote_value(text) + ": second " + std::to_string(second) + " is outside 0..59");
  }
  const std::int64_t seconds = days_of(d.year, d.month, d.day) * 86'400 + hour * 3600 +
                               minute * 60 + second - offset_seconds;
  const std::int64_t micros = seconds * kMicrosPerSecond + fraction;
  if (!Timestamp(micros).in_range()) {
    throw_invalid(field, quote_value(text) + " is outside years 0001..9999 in UTC");
  }
  return Timestamp(micros);
}

Timestamp Timestamp::checked(std::int64_t micros, std::string_view field) {
  const Timestamp t(micros);
  t.check_range(field);
  return t;
}

void Timestamp::check_range(std::string_view field) const {
  if (in_range()) return;
  throw_invalid(field, std::to_string(micros_) + " microseconds since 1970-01-01 is " +
                           range_text() + " (years 0001..9999)");
}

std::string Timestamp::to_string() const {
  const std::int64_t days = floor_div(micros_, kMicrosPerDay);
  const std::int64_t in_day = micros_ - days * kMicrosPerDay;
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{days}}};
  const std::int64_t secs = in_day / kMicrosPerSecond;
  const std::int64_t frac = in_day % kMicrosPerSecond;
  char buf[80];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(ymd.year()),
                        static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                        static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60),
                        static_cast<int>(secs % 60));
  std::string out(buf, static_cast<std::size_t>(n));
  if (frac != 0) {
    n = std::snprintf(buf, sizeof buf, ".%06d", static_cast<int>(frac));
    out.append(buf, static_cast<std::size_t>(n));
  }
  out.push_back('Z');
  return out;
}

Date Timestamp::date() const {
  return Date::from_days_since_epoch(floor_div(micros_, kMicrosPerDay));
}

// ---------------------------------------------------------------------------------------------
// Date

Date::Date(int year, int month, int day) : year_(year), month_(month), day_(day) {
  char buf[48];
  const int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year, month, day);
  check_date(year, month, day, "date", std::string_view(buf, static_cast<std::size_t>(n)));
}

Date Date::parse(std::string_view text, std::string_view field) {
  Cursor c{text};
  ParsedDate d;
  if (!read_date(c, d) || !c.at_end()) malformed_date(field, text);
  check_date(d.year, d.month, d.day, field, text);
  return Date(d.year, d.month, d.day);
}

std::int64_t Date::days_since_epoch() const noexcept { return days_of(year_, month_, day_); }

Date Date::from_days_since_epoch(std::int64_t days, std::string_view field) {
  if (days < days_of(kMinYear, 1, 1) || days > days_of(kMaxYear, 12, 31)) {
    throw_invalid(field, "day " + std::to_string(days) +
                              " since 1970-01-01 is outside years 0001..9999");
  }
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{days}}};
  return Date(static_cast<int>(ymd.year()), static_cast<int>(static_cast<unsigned>(ymd.month())),
              static_cast<int>(static_cast<unsigned>(ymd.day())));
}

Timestamp Date::start() const noexcept {
  return Timestamp(days_since_epoch() * kMicrosPerDay);
}

std::string Date::to_string() const {
  char buf[48];
  const int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year_, month_, day_);
  return std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace v0
}  // namespace crmkit
