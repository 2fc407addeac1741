// crmkit/base/int128.hpp: crmkit::Int128, the exact integer under Money and Decimal.
//
// Invariants (kept by every operation in this file):
//  - An Int128 is a sign and a 128-bit magnitude, so its range is symmetric:
//    -(2^128-1) .. 2^128-1 (Int128::min() .. Int128::max()). There is no negative zero.
//  - Arithmetic is checked: a result outside that range throws Error{overflow}; nothing wraps.
//    A call that throws leaves its operands unchanged (x += y keeps x).
//  - The representation is private. Comparisons, negation and the int64 conversions are inline;
//    + - * and the text forms are compiled into crmkit (Boost.Multiprecision's checked_int128_t,
//    which has the same range, does the work there), so this header pulls in no third-party
//    header.
//
// Thread-safety: a plain value, like int.
#pragma once

#include <compare>
#include <cstdint>
#include <iosfwd>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

namespace crmkit {
inline namespace v0 {

namespace detail {
struct Int128Access;  // crmkit's own sources only (core/src/base/int128_boost.hpp)
}  // namespace detail

class Int128 {
 public:
  // Zero.
  constexpr Int128() noexcept = default;
  // Any built-in integer of up to 64 bits (not bool). Implicit, like the built-in conversions,
  // so Int128 x = 5 and x == 0 read as they would with an int. Never throws.
  template <class T>
    requires(std::is_integral_v<T> && !std::is_same_v<T, bool> && sizeof(T) <= 8)
  constexpr Int128(T value) noexcept  // NOLINT(google-explicit-constructor)
      : low_(magnitude_of(value)), negative_(value < 0) {}
  // Parses a decimal integer: an optional '+' or '-', then one or more ASCII digits (leading
  // zeros allowed; no spaces, no separators, no other base). Throws Error{invalid_argument}
  // naming "int128" for anything else, Error{overflow} if the magnitude exceeds 2^128-1.
  explicit Int128(std::string_view decimal);

  // 2^128-1 and -(2^128-1).
  static constexpr Int128 max() noexcept { return Int128(false, ~std::uint64_t{0}, ~std::uint64_t{0}); }
  static constexpr Int128 min() noexcept { return Int128(true, ~std::uint64_t{0}, ~std::uint64_t{0}); }

  // The decimal form: "-" for negatives, no '+', no leading zeros ("0", "-42").
  std::string to_string() const;

  constexpr bool is_zero() const noexcept { return high_ == 0 && low_ == 0; }
  constexpr bool is_negative() const noexcept { return negative_; }
  // -1, 0 or 1.
  constexpr int sign() const noexcept { return negative_ ? -1 : (is_zero() ? 0 : 1); }

  // True if the value is within [INT64_MIN, INT64_MAX].
  constexpr bool fits_int64() const noexcept {
    return high_ == 0 && (negative_ ? low_ <= std::uint64_t{1} << 63 : low_ < std::uint64_t{1} << 63);
  }
  // The value as int64. Throws Error{overflow} naming "int128" unless fits_int64().
  constexpr std::int64_t to_int64() const {
    if (!fits_int64()) throw_int64_overflow();
    // 0 - low_ in unsigned arithmetic, then to int64: exact for low_ <= 2^63.
    return negative_ ? static_cast<std::int64_t>(std::uint64_t{0} - low_)
                     : static_cast<std::int64_t>(low_);
  }

  // Never overflows: the range is symmetric.
  constexpr Int128 operator-() const noexcept { return Int128(!negative_, high_, low_); }
  friend constexpr Int128 abs(const Int128& x) noexcept { return Int128(false, x.high_, x.low_); }

  // Checked arithmetic: throws Error{overflow} naming "int128" when the exact result is outside
  // -(2^128-1) .. 2^128-1.
  friend Int128 operator+(const Int128& a, const Int128& b);
  friend Int128 operator-(const Int128& a, const Int128& b);
  friend Int128 operator*(const Int128& a, const Int128& b);
  Int128& operator+=(const Int128& other) { return *this = *this + other; }
  Int128& operator-=(const Int128& other) { return *this = *this - other; }
  Int128& operator*=(const Int128& other) { return *this = *this * other; }

  friend constexpr bool operator==(const Int128& a, const Int128& b) noexcept = default;
  friend constexpr std::strong_ordering operator<=>(const Int128& a, const Int128& b) noexcept {
    if (a.negative_ != b.negative_) {
      return a.negative_ ? std::strong_ordering::less : std::strong_ordering::greater;
    }
    // Same sign: compare magnitudes, reversed for negatives.
    const Int128& x = a.negative_ ? b : a;
    const Int128& y = a.negative_ ? a : b;
    return x.high_ != y.high_ ? x.high_ <=> y.high_ : x.low_ <=> y.low_;
  }

  // Writes to_string() (for test output and logs).
  friend std::ostream& operator<<(std::ostream& out, const Int128& value);

 private:
  friend struct detail::Int128Access;

  // Keeps zero unsigned.
  constexpr Int128(bool negative, std::uint64_t high, std::uint64_t low) noexcept
      : low_(low), high_(high), negative_(negative && (high != 0 || low != 0)) {}

  template <class T>
  static constexpr std::uint64_t magnitude_of(T value) noexcept {
    if constexpr (std::is_signed_v<T>) {
      // Unsigned negation: exact for the most negative value too.
      return value < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(value)
                       : static_cast<std::uint64_t>(value);
    } else {
      return static_cast<std::uint64_t>(value);
    }
  }

  [[noreturn]] void throw_int64_overflow() const;

  std::uint64_t low_ = 0;
  std::uint64_t high_ = 0;
  bool negative_ = false;
};

}  // namespace v0
}  // namespace crmkit

// Int128 is a bounded, exact, signed integer type of 128 binary digits.
template <>
struct std::numeric_limits<crmkit::Int128> {
  static constexpr bool is_specialized = true;
  static constexpr crmkit::Int128 min() noexcept { return crmkit::Int128::min(); }
  static constexpr crmkit::Int128 max() noexcept { return crmkit::Int128::max(); }
  static constexpr crmkit::Int128 lowest() noexcept { return crmkit::Int128::min(); }
  static constexpr int digits = 128;
  static constexpr int digits10 = 38;
  static constexpr int max_digits10 = 0;
  static constexpr bool is_signed = true;
  static constexpr bool is_integer = true;
  static constexpr bool is_exact = true;
  static constexpr int radix = 2;
  static constexpr crmkit::Int128 epsilon() noexcept { return 0; }
  static constexpr crmkit::Int128 round_error() noexcept { return 0; }
  static constexpr int min_exponent = 0;
  static constexpr int min_exponent10 = 0;
  static constexpr int max_exponent = 0;
  static constexpr int max_exponent10 = 0;
  static constexpr bool has_infinity = false;
  static constexpr bool has_quiet_NaN = false;
  static constexpr bool has_signaling_NaN = false;
  static constexpr std::float_denorm_style has_denorm = std::denorm_absent;
  static constexpr bool has_denorm_loss = false;
  static constexpr crmkit::Int128 infinity() noexcept { return 0; }
  static constexpr crmkit::Int128 quiet_NaN() noexcept { return 0; }
  static constexpr crmkit::Int128 signaling_NaN() noexcept { return 0; }
  static constexpr crmkit::Int128 denorm_min() noexcept { return 0; }
  static constexpr bool is_iec559 = false;
  static constexpr bool is_bounded = true;
  static constexpr bool is_modulo = false;
  static constexpr bool traps = false;
  static constexpr bool tinyness_before = false;
  static constexpr std::float_round_style round_style = std::round_toward_zero;
};
