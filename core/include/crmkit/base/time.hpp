// crmkit/base/time.hpp: instants (Timestamp, UTC microseconds) and calendar dates (Date).
//
// All crmkit times are UTC. A Timestamp is a count of microseconds since 1970-01-01T00:00:00Z;
// offsets in parsed text are applied and then forgotten. Supported range: years 0001..9999.
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

  static constexpr Timestamp from_micros(std::int64_t micros) noexcept { return Timestamp(micros); }
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
  // "2024-03-01T04:30:00Z", or with ".250000" when the fraction is not zero. Round-trips parse().
  std::string to_string() const;
  // The UTC calendar date of this instant.
  Date date() const;

  friend constexpr bool operator==(Timestamp, Timestamp) noexcept = default;
  friend constexpr auto operator<=>(Timestamp, Timestamp) noexcept = default;

 private:
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
  // Days since 1970-01-01 (may be negative) and back.
  std::int64_t days_since_epoch() const noexcept;
  static Date from_days_since_epoch(std::int64_t days);

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
