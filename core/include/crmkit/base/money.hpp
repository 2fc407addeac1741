// crmkit/base/money.hpp: exact amounts of money in ISO 4217 currencies.
//
// Invariants (kept by every operation in this file):
//  - A Money is an integer number of minor units of one Currency (cents for USD, yen for JPY,
//    fils for BHD, ten-thousandths for CLF). It is held in a checked 128-bit integer
//    (crmkit::Int128: a sign and a 128-bit magnitude, +-(2^128-1)); any result outside that
//    range throws Error{overflow} instead of wrapping.
//  - No binary floating-point number is ever accepted as an amount. Amounts come from decimal
//    strings, Decimal values or integer minor units. The only path from a double (a model's
//    expectation) is Money::from_model_value, which is explicit and rounded.
//  - Rounding happens only where an operation says so, with an explicit RoundingMode
//    (half-to-even by default).
//  - Two amounts in different currencies are never added, subtracted or compared: that throws
//    Error{invalid_argument}.
//
// Thread-safety: Currency, Decimal and Money are immutable values; const use from many threads is
// safe.
#pragma once

#include <compare>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crmkit/base/int128.hpp"

namespace crmkit {
inline namespace v0 {

// How an exact result that falls between two representable values is rounded.
enum class RoundingMode {
  half_even,  // to the nearest, ties to the even neighbour (banker's rounding); the default
  half_up,    // to the nearest, ties away from zero (commercial rounding)
  half_down,  // to the nearest, ties towards zero
  down,       // towards zero (truncate)
  up,         // away from zero
  floor,      // towards negative infinity
  ceiling,    // towards positive infinity
};

// "half_even", "half_up", ...; parse_rounding_mode throws Error{invalid_argument} on an unknown name.
const char* to_string(RoundingMode mode) noexcept;
RoundingMode parse_rounding_mode(std::string_view name);

// An ISO 4217 currency: its alphabetic code, numeric code and number of minor-unit digits.
// Obtain one with Currency::of("USD"); the table is built in and covers the active ISO 4217 list.
class Currency {
 public:
  // XXX, ISO 4217's "no currency" (0 minor units): the value of a default-constructed Money.
  // No Store accepts it.
  Currency() noexcept : Currency("XXX", 999, 0) {}
  // Looks a code up in the table. The code must be three upper-case letters.
  // Throws Error{invalid_argument} if it is not three letters, Error{not_found} if unknown.
  static Currency of(std::string_view code);
  // True if the code is in the table. Never throws.
  static bool is_known(std::string_view code) noexcept;
  // True if money can be held in this currency: the code is in the table and is not one of
  // ISO 4217's codes for things other than money, which have no minor unit ("N.A."):
  //   XXX (no currency), XTS (reserved for testing), XAU XAG XPT XPD (gold, silver, platinum,
  //   palladium), XDR (IMF special drawing right), XBA XBB XBC XBD (European bond-market units),
  //   XSU (Sucre), XUA (ADB unit of account).
  // The currencies of real money in the X range (XAF, XCD, XCG, XOF, XPF) hold money. A Store,
  // a points programme and a money custom field accept only these currencies ("currency: XTS
  // cannot hold money (reserved for testing)"). Never throws.
  static bool holds_money(std::string_view code) noexcept;
  // Throws Error{invalid_argument} naming `field` unless holds_money(code): three upper-case
  // letters, a known code, and a code of money (the message says which of these fails).
  static void check_holds_money(std::string_view code, std::string_view field = "currency");
  // Every currency of the table, ordered by code.
  static std::vector<Currency> all();

  std::string_view code() const noexcept { return {code_, 3}; }
  int numeric_code() const noexcept { return numeric_; }
  // Digits after the decimal point: 2 for USD/CNY/EUR/GBP, 0 for JPY/KRW, 3 for BHD/KWD, 4 for CLF.
  int minor_units() const noexcept { return minor_units_; }

  friend bool operator==(const Currency& a, const Currency& b) noexcept {
    return a.code_[0] == b.code_[0] && a.code_[1] == b.code_[1] && a.code_[2] == b.code_[2];
  }

 private:
  Currency(const char* code, int numeric, int minor_units) noexcept;
  char code_[3];
  int numeric_;
  int minor_units_;
};

// An exact decimal number: an Int128 coefficient and a scale (digits after the point, 0..30).
// Used for rates (tax, discount, exchange) and for decimal custom fields. Values compare by
// numeric value, so Decimal("1.50") == Decimal("1.5").
class Decimal {
 public:
  Decimal() = default;  // zero
  Decimal(Int128 coefficient, int scale);  // throws Error{invalid_argument} if scale not in 0..30

  // Parses "-12.345", "+7", "0.5", "1e-3" is NOT accepted (no exponents), nor "", ".", "1.",
  // "NaN", "inf" or grouping separators. Throws Error{invalid_argument} naming `field`.
  static Decimal parse(std::string_view text, std::string_view field = "decimal");
  // An integer.
  static Decimal from_int(std::int64_t value) { return Decimal(Int128(value), 0); }

  const Int128& coefficient() const noexcept { return coefficient_; }
  int scale() const noexcept { return scale_; }
  bool is_negative() const noexcept { return coefficient_.is_negative(); }
  bool is_zero() const noexcept { return coefficient_.is_zero(); }

  // The plain decimal string with exactly scale() digits after the point ("1.50", "-3", "0.007").
  std::string to_string() const;
  // The same number with trailing zeros after the point removed ("1.5", "3").
  Decimal normalized() const;
  // Rounds to `digits` digits after the point (digits >= 0). Exact when already short enough.
  Decimal rounded(int digits, RoundingMode mode = RoundingMode::half_even) const;

  friend bool operator==(const Decimal& a, const Decimal& b);
  friend std::strong_ordering operator<=>(const Decimal& a, const Decimal& b);

 private:
  Int128 coefficient_;
  int scale_ = 0;
};

// An exact amount of money in one currency.
class Money {
 public:
  // Zero in XXX (no currency): a placeholder that no Store accepts.
  Money() noexcept = default;
  // Zero in `currency`.
  explicit Money(Currency currency) noexcept : currency_(currency) {}

  // Parses a decimal string ("12.34", "-0.5", "1000"). Digits beyond currency.minor_units() are
  // accepted only when they are zeros ("12.340" is 12.34 USD); "12.345" USD is refused, never
  // rounded. Throws Error{invalid_argument}
  // naming `field` for malformed text or too many decimals, Error{overflow} if out of range.
  static Money parse(std::string_view text, Currency currency, std::string_view field = "amount");
  // Parses "12.34 USD" (amount, one space, code), the form Money::to_string() writes.
  static Money parse_with_currency(std::string_view text, std::string_view field = "amount");
  // From a Decimal; refuses more decimals than the currency has (Error{invalid_argument}).
  static Money from_decimal(const Decimal& value, Currency currency,
                            std::string_view field = "amount");
  // From an integer count of minor units (cents for USD). Never rounds.
  static Money from_minor(Int128 minor_units, Currency currency) noexcept;
  static Money from_minor(std::int64_t minor_units, Currency currency) noexcept;
  // The one crossing from model arithmetic back to money: rounds `value` (in major units, e.g.
  // dollars) to the currency's minor unit with `mode`. Throws Error{invalid_argument} for NaN or
  // infinity and Error{overflow} when out of range. Exact only to double precision (~15 digits).
  static Money from_model_value(double value, Currency currency,
                                RoundingMode mode = RoundingMode::half_even);

  const Currency& currency() const noexcept { return currency_; }
  // The amount in minor units (1234 for 12.34 USD).
  const Int128& minor_units() const noexcept { return minor_; }
  // The amount in minor units as int64; throws Error{overflow} if it does not fit.
  std::int64_t minor_units_i64() const;
  // The amount as a Decimal with the currency's scale (12.34 -> coefficient 1234, scale 2).
  Decimal amount() const { return Decimal(minor_, currency_.minor_units()); }
  // The amount in major units as a double, for model arithmetic only (may be inexact).
  double to_double() const;

  bool is_zero() const noexcept { return minor_.is_zero(); }
  bool is_negative() const noexcept { return minor_.is_negative(); }
  bool is_positive() const noexcept { return minor_.sign() > 0; }

  // "12.34" with exactly minor_units() decimals.
  std::string amount_string() const;
  // "12.34 USD".
  std::string to_string() const;

  // Exact arithmetic. Mixing currencies throws Error{invalid_argument}; out of range throws
  // Error{overflow}.
  Money operator+(const Money& other) const;
  Money operator-(const Money& other) const;
  Money operator-() const;
  Money operator*(std::int64_t factor) const;
  Money& operator+=(const Money& other);
  Money& operator-=(const Money& other);

  // this * rate, rounded once to the currency's minor unit with `mode` ("19.99 * 0.075").
  Money multiply(const Decimal& rate, RoundingMode mode = RoundingMode::half_even) const;

  // Splits this amount into parts proportional to `ratios` that add up exactly to this amount.
  // Each part is floor(amount * ratio / sum) in minor units; the remaining minor units go one by
  // one to the parts with the largest remainders (ties to the earlier part). Negative amounts
  // split symmetrically. Throws Error{invalid_argument} if ratios is empty, has a negative entry
  // or sums to zero.
  std::vector<Money> allocate(std::span<const std::int64_t> ratios) const;
  // Splits into n parts as equal as possible (earlier parts get the extra minor units).
  std::vector<Money> allocate(std::size_t n) const;

  // Equality is false across currencies; ordering across currencies throws
  // Error{invalid_argument}.
  friend bool operator==(const Money& a, const Money& b) noexcept;
  friend std::strong_ordering operator<=>(const Money& a, const Money& b);

 private:
  Money(Int128 minor, Currency currency) noexcept : currency_(currency), minor_(minor) {}
  void require_same_currency(const Money& other, const char* op) const;

  Currency currency_;
  Int128 minor_;
};

}  // namespace v0
}  // namespace crmkit
