// crmkit/base/time.hpp: instants (Timestamp, UTC microseconds) and calendar dates (Date).
//
// All crmkit times are UTC. A Timestamp is a count of microseconds since 1970-01-01T00:00:00Z;
// offsets in parsed text are applied and then forgotten.
//
// The valid range is 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999Z (Timestamp::min() ..
// Timestamp::max()), and 0001-01-01 .. 9999-12-31 for a Date: the years that the ISO 8601 text
// form (YYYY) can write, so every stored time can be exported and imported again.
//  - Everything that turns outside input into a time checks the range and names the field:
//    Timestamp::parse, Timestamp::checked, Date, Date::parse, the JSON readers, and the Python
//    conversions (datetime, pandas.Timestamp, numpy.datetime64, Timestamp.from_micros).
//  - Every write of a Store refuses a time outside the range with Error{invalid_argument} naming
//    the field (event `at`, consent `at`, a transition's `at`, a points entry's `at`,
//    `available_at` and `expires_at`).
//  - The raw constructor Timestamp(micros) and Timestamp::from_micros do not check (they are
//    constexpr noexcept, for arithmetic on times already known to be valid); in_range() tells.
//
// Thread-safety: immutable values; safe to share.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

namespace crmkit {
inline namespace v0 {

class Date;

class Timestamp {
 public:
  constexpr Timestamp() noexcept = default;  // the epoch
  constexpr explicit Timestamp(std::int64_t micros) noexcept : micros_(micros) {}

  // Unchecked: any int64 (see the range note at the top of this file).
  static constexpr Timestamp from_micros(std::int64_t micros) noexcept { return Timestamp(micros); }
  // The first and last instants of the valid range: 0001-01-01T00:00:00Z and
  // 9999-12-31T23:59:59.999999Z.
  static constexpr Timestamp min() noexcept { return Timestamp(kMinMicros); }
  static constexpr Timestamp max() noexcept { return Timestamp(kMaxMicros); }
  // Checked: the instant `micros` microseconds after the epoch. Throws Error{invalid_argument}
  // naming `field` if it is outside min() .. max().
  static Timestamp checked(std::int64_t micros, std::string_view field = "time");
  static constexpr Timestamp from_seconds(std::int64_t seconds) noexcept {
    return Timestamp(seconds * 1'000'000);
  }
  // The current time from the system clock.
  static Timestamp now() noexcept;

  // Parses ISO 8601 / RFC 3339: "2024-03-01T12:30:00Z", "2024-03-01T12:30:00.25+08:00",
  // "2024-03-01 12:30:00-0500", "2024-03-01T12:30" (no offset = UTC), or a date alone
  // "2024-03-01" / "19970101" (midnight UTC). Fractions up to 6 digits.
  // Throws Error{invalid_argument} naming `field` for malformed text or an impossible date or
  // time ("2023-02-29", "24:00:01", offset beyond +-18:00).
  static Timestamp parse(std::string_view text, std::string_view field = "time");

  constexpr std::int64_t micros() const noexcept { return micros_; }
  // True if min() <= *this <= max().
  constexpr bool in_range() const noexcept { return micros_ >= kMinMicros && micros_ <= kMaxMicros; }
  // Throws Error{invalid_argument} naming `field` unless in_range(); the message gives the value
  // (as micros since the epoch) and the valid range.
  void check_range(std::string_view field) const;
  // "2024-03-01T04:30:00Z", or with ".250000" when the fraction is not zero. Round-trips parse()
  // for every in_range() value (outside the range the text is not parseable).
  std::string to_string() const;
  // The UTC calendar date of this instant.
  Date date() const;

  friend constexpr bool operator==(Timestamp, Timestamp) noexcept = default;
  friend constexpr auto operator<=>(Timestamp, Timestamp) noexcept = default;

 private:
  // days_from_civil(1, 1, 1) and days_from_civil(10000, 1, 1), times a day in microseconds.
  static constexpr std::int64_t kMinMicros = -719'162LL * 86'400'000'000LL;
  static constexpr std::int64_t kMaxMicros = 2'932'897LL * 86'400'000'000LL - 1;
  std::int64_t micros_ = 0;
};

// A calendar date (proleptic Gregorian), e.g. a birth date.
class Date {
 public:
  constexpr Date() noexcept = default;  // 1970-01-01
  // Throws Error{invalid_argument} if the date does not exist (2023-02-29, month 13, year 0).
  Date(int year, int month, int day);

  // "YYYY-MM-DD" or "YYYYMMDD". Throws Error{invalid_argument} naming `field`.
  static Date parse(std::string_view text, std::string_view field = "date");
  // Days since 1970-01-01 (may be negative) and back. from_days_since_epoch throws
  // Error{invalid_argument} naming `field` outside 0001-01-01 .. 9999-12-31.
  std::int64_t days_since_epoch() const noexcept;
  static Date from_days_since_epoch(std::int64_t days, std::string_view field = "date");

  int year() const noexcept { return year_; }
  int month() const noexcept { return month_; }
  int day() const noexcept { return day_; }
  // Midnight UTC at the start of this date.
  Timestamp start() const noexcept;
  // "YYYY-MM-DD".
  std::string to_string() const;

  friend constexpr bool operator==(const Date&, const Date&) noexcept = default;
  friend constexpr auto operator<=>(const Date&, const Date&) noexcept = default;

 private:
  int year_ = 1970;
  int month_ = 1;
  int day_ = 1;
};

}  // namespace v0
}  // namespace crmkit
