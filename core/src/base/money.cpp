// Decimal and Money: exact arithmetic on checked 128-bit integers.
//
// The public type is crmkit::Int128; the arithmetic here runs on Boost's checked_int128_t (Narrow)
// and checked_int256_t (Wide), converted with to_boost/from_boost (int128_boost.hpp: a copy of
// two words and a sign, never through text). Intermediate results that can exceed 128 bits (rescaling for comparison, amount * rate,
// amount * ratio during allocation) are computed in a checked 256-bit integer (Wide) and brought
// back to Int128 with an explicit range check, so the only overflow a caller sees is a result
// that does not fit in Int128 itself.
#include "base/text.hpp"
#include "crmkit/base/money.hpp"

#include "base/int128_boost.hpp"
#include "crmkit/base/error.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

namespace crmkit {
inline namespace v0 {
using detail::quote_value;
namespace {

using Narrow = BoostInt128;
using Wide = boost::multiprecision::checked_int256_t;

constexpr int kMaxScale = 30;
// 10^76 < 2^255: the largest power of ten a Wide holds.
constexpr int kMaxWidePow10 = 76;

const Wide& pow10(int exponent) {
  static const std::array<Wide, kMaxWidePow10 + 1> table = [] {
    std::array<Wide, kMaxWidePow10 + 1> t;
    t[0] = 1;
    for (int i = 1; i <= kMaxWidePow10; ++i) t[i] = t[i - 1] * 10;
    return t;
  }();
  return table.at(static_cast<std::size_t>(exponent));
}

const Wide& int128_max_wide() {
  static const Wide max = Wide(std::numeric_limits<Narrow>::max());
  return max;
}

bool fits_int128(const Wide& value) {
  return value <= int128_max_wide() && value >= -int128_max_wide();
}

// Converts back to Int128; a value outside the range throws Error{overflow} naming `field`.
Int128 narrow(const Wide& value, std::string_view field, std::string_view what) {
  if (!fits_int128(value)) {
    throw_error(ErrorCode::overflow, field,
                std::string(what) + " is outside the exact range (+-2^128 minor units)");
  }
  return from_boost(static_cast<Narrow>(value));
}

// As above, but the description is only built when the value does not fit (the bulk-import path
// calls this once per row).
template <class Describe>
Int128 narrow_lazy(const Wide& value, std::string_view field, Describe&& describe) {
  if (!fits_int128(value)) narrow(value, field, describe());
  return from_boost(static_cast<Narrow>(value));
}

// Applies `mode` to a truncated quotient q = trunc(x) of an inexact value x. `half_cmp` compares
// the discarded part with one half (-1 below, 0 exactly half, +1 above); `negative` is x's sign.
Wide apply_rounding(Wide q, int half_cmp, bool negative, RoundingMode mode) {
  bool away = false;
  switch (mode) {
    case RoundingMode::down: away = false; break;
    case RoundingMode::up: away = true; break;
    case RoundingMode::floor: away = negative; break;
    case RoundingMode::ceiling: away = !negative; break;
    case RoundingMode::half_up: away = half_cmp >= 0; break;
    case RoundingMode::half_down: away = half_cmp > 0; break;
    case RoundingMode::half_even:
      away = half_cmp > 0 || (half_cmp == 0 && (q % 2) != 0);
      break;
  }
  if (away) q += negative ? -1 : 1;
  return q;
}

// num / den rounded with `mode`; den > 0.
Wide divide_rounded(const Wide& num, const Wide& den, RoundingMode mode) {
  Wide q = num / den;  // truncates towards zero
  Wide r = num % den;  // has the sign of num
  if (r == 0) return q;
  Wide twice = abs(r) * 2;
  int half_cmp = twice < den ? -1 : (twice == den ? 0 : 1);
  return apply_rounding(q, half_cmp, num < 0, mode);
}

// Converts Boost's overflow exceptions from checked arithmetic into Error{overflow}.
template <typename F>
auto checked(std::string_view what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::overflow_error&) {
    throw_error(ErrorCode::overflow, "amount",
                std::string(what) + " is outside the exact range (+-2^128 minor units)");
  } catch (const std::range_error&) {
    throw_error(ErrorCode::overflow, "amount",
                std::string(what) + " is outside the exact range (+-2^128 minor units)");
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// RoundingMode

const char* to_string(RoundingMode mode) noexcept {
  switch (mode) {
    case RoundingMode::half_even: return "half_even";
    case RoundingMode::half_up: return "half_up";
    case RoundingMode::half_down: return "half_down";
    case RoundingMode::down: return "down";
    case RoundingMode::up: return "up";
    case RoundingMode::floor: return "floor";
    case RoundingMode::ceiling: return "ceiling";
  }
  return "unknown";
}

RoundingMode parse_rounding_mode(std::string_view name) {
  constexpr RoundingMode kModes[] = {RoundingMode::half_even, RoundingMode::half_up,
                                     RoundingMode::half_down, RoundingMode::down,
                                     RoundingMode::up,        RoundingMode::floor,
                                     RoundingMode::ceiling};
  for (RoundingMode mode : kModes) {
    if (name == to_string(mode)) return mode;
  }
  throw_invalid("rounding_mode",
                quote_value(name) +
                    " is not a rounding mode (half_even, half_up, half_down, down, up, floor, "
                    "ceiling)");
}

// ---------------------------------------------------------------------------------------------
// Decimal

Decimal::Decimal(Int128 coefficient, int scale) : coefficient_(coefficient), scale_(scale) {
  if (scale < 0 || scale > kMaxScale) {
    throw_invalid("decimal.scale", std::to_string(scale) + " is not in 0..30");
  }
}

Decimal Decimal::parse(std::string_view text, std::string_view field) {
  const auto malformed = [&]() {
    throw_invalid(field, quote_value(text) +
                             " is not a decimal number (expected [+-]digits[.digits], no "
                             "exponent or spaces)");
  };
  std::size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    negative = text[i] == '-';
    ++i;
  }
  const std::size_t int_begin = i;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  const std::size_t int_end = i;
  if (int_end == int_begin) malformed();
  std::size_t frac_begin = i, frac_end = i;
  if (i < text.size() && text[i] == '.') {
    ++i;
    frac_begin = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    frac_end = i;
    if (frac_end == frac_begin) malformed();
  }
  if (i != text.size()) malformed();
  const std::size_t frac_digits = frac_end - frac_begin;
  if (frac_digits > static_cast<std::size_t>(kMaxScale)) {
    throw_invalid(field, quote_value(text) + " has more than 30 digits after the point");
  }
  Narrow value = 0;
  try {
    for (std::size_t k = int_begin; k < int_end; ++k) value = value * 10 + (text[k] - '0');
    for (std::size_t k = frac_begin; k < frac_end; ++k) value = value * 10 + (text[k] - '0');
  } catch (const std::overflow_error&) {
    throw_error(ErrorCode::overflow, field,
                quote_value(text) + " is outside the exact range (39 significant digits)");
  }
  if (negative) value = -value;
  return Decimal(from_boost(value), static_cast<int>(frac_digits));
}

std::string Decimal::to_string() const {
  std::string digits = abs(coefficient_).to_string();
  const auto scale = static_cast<std::size_t>(scale_);
  if (digits.size() <= scale) digits.insert(0, scale + 1 - digits.size(), '0');
  if (scale > 0) digits.insert(digits.size() - scale, 1, '.');
  if (coefficient_.is_negative()) digits.insert(0, 1, '-');
  return digits;
}

Decimal Decimal::normalized() const {
  Narrow c = to_boost(coefficient_);
  int s = scale_;
  while (s > 0 && c % 10 == 0) {
    c /= 10;
    --s;
  }
  if (c == 0) s = 0;
  return Decimal(from_boost(c), s);
}

// When digits >= scale() the value is returned unchanged (no zeros are appended), so
// Decimal("1.5").rounded(2).to_string() is "1.5"; otherwise the result has scale == digits.
Decimal Decimal::rounded(int digits, RoundingMode mode) const {
  if (digits < 0) throw_invalid("decimal.digits", std::to_string(digits) + " is negative");
  if (digits >= scale_) return *this;
  Wide q = divide_rounded(Wide(to_boost(coefficient_)), pow10(scale_ - digits), mode);
  // |q| <= |coefficient| + 1 and a magnitude that rounded up cannot exceed 2^128-1 after
  // dividing by at least 10, so this narrowing never fails.
  return Decimal(narrow(q, "decimal", "rounded value"), digits);
}

bool operator==(const Decimal& a, const Decimal& b) {
  return (a <=> b) == std::strong_ordering::equal;
}

std::strong_ordering operator<=>(const Decimal& a, const Decimal& b) {
  if (a.scale_ == b.scale_) {
    if (a.coefficient_ == b.coefficient_) return std::strong_ordering::equal;
    return a.coefficient_ < b.coefficient_ ? std::strong_ordering::less
                                           : std::strong_ordering::greater;
  }
  const int s = std::max(a.scale_, b.scale_);
  const Wide x = Wide(to_boost(a.coefficient_)) * pow10(s - a.scale_);
  const Wide y = Wide(to_boost(b.coefficient_)) * pow10(s - b.scale_);
  if (x == y) return std::strong_ordering::equal;
  return x < y ? std::strong_ordering::less : std::strong_ordering::greater;
}

// ---------------------------------------------------------------------------------------------
// Money

Money Money::parse(std::string_view text, Currency currency, std::string_view field) {
  return from_decimal(Decimal::parse(text, field), currency, field);
}

Money Money::parse_with_currency(std::string_view text, std::string_view field) {
  const std::size_t space = text.find(' ');
  if (space == std::string_view::npos || text.size() - space - 1 != 3 ||
      text.find(' ', space + 1) != std::string_view::npos) {
    throw_invalid(field, quote_value(text) + " is not an amount and a currency code (\"12.34 USD\")");
  }
  const std::string_view code = text.substr(space + 1);
  if (!Currency::is_known(code)) {
    if (code.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string_view::npos) {
      throw_invalid(field, quote_value(code) + " is not three upper-case letters");
    }
    throw_error(ErrorCode::not_found, field, quote_value(code) + " is not an ISO 4217 currency code");
  }
  return parse(text.substr(0, space), Currency::of(code), field);
}

// A Decimal whose value is exact in the currency is accepted even if it carries trailing zeros
// beyond the minor unit ("12.340" USD is 12.34 USD); only a value that would need rounding is
// refused.
Money Money::from_decimal(const Decimal& value, Currency currency, std::string_view field) {
  const int mu = currency.minor_units();
  if (value.scale() <= mu) {
    Wide minor = Wide(to_boost(value.coefficient())) * pow10(mu - value.scale());
    return Money(narrow_lazy(minor, field, [&] { return quote_value(value.to_string()); }), currency);
  }
  const Wide& divisor = pow10(value.scale() - mu);
  const Wide coefficient = Wide(to_boost(value.coefficient()));
  if (coefficient % divisor != 0) {
    throw_invalid(field, value.to_string() + " has more decimals than " +
                             std::string(currency.code()) + " allows (" + std::to_string(mu) +
                             ")");
  }
  return Money(narrow_lazy(coefficient / divisor, field, [&] { return quote_value(value.to_string()); }),
               currency);
}

Money Money::from_minor(Int128 minor_units, Currency currency) noexcept {
  return Money(minor_units, currency);
}

Money Money::from_minor(std::int64_t minor_units, Currency currency) noexcept {
  return Money(Int128(minor_units), currency);
}

// Rounding choice: the double is first written as its shortest round-trip decimal form
// (std::to_chars, e.g. 2.675 -> "2.675", although the double is 2.67499999999999982236431605997495353221893310546875),
// and that decimal is rounded exactly with `mode`. So from_model_value(2.675, USD) is 2.68 with
// half_even: the value a person reads in the model output is the value that gets rounded, and
// the binary representation error never decides a tie.
Money Money::from_model_value(double value, Currency currency, RoundingMode mode) {
  if (!std::isfinite(value)) {
    throw_invalid("amount", std::string(std::isnan(value) ? "NaN" : "infinity") +
                                " is not a finite model value");
  }
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof buf, value);
  const std::string_view text(buf, static_cast<std::size_t>(result.ptr - buf));

  // text is "[-]digits[.digits][e[+-]digits]".
  std::size_t i = 0;
  bool negative = false;
  if (i < text.size() && text[i] == '-') {
    negative = true;
    ++i;
  }
  Wide coefficient = 0;
  int digits = 0;        // significant digits accumulated (leading zeros skipped)
  int exponent10 = 0;    // value = coefficient * 10^exponent10
  bool after_point = false;
  for (; i < text.size() && text[i] != 'e'; ++i) {
    if (text[i] == '.') {
      after_point = true;
      continue;
    }
    coefficient = coefficient * 10 + (text[i] - '0');
    if (coefficient != 0) ++digits;
    if (after_point) --exponent10;
  }
  if (i < text.size()) {  // exponent
    int e = 0;
    std::from_chars(text.data() + i + 1 + (text[i + 1] == '+' ? 1 : 0), text.data() + text.size(),
                    e);
    exponent10 += e;
  }
  if (coefficient == 0) return Money(currency);
  if (negative) coefficient = -coefficient;

  const int shift = exponent10 + currency.minor_units();
  Wide minor;
  if (shift >= 0) {
    // 10^39 > 2^128: a result with more than 39 digits cannot fit.
    if (digits + shift > 40) {
      throw_error(ErrorCode::overflow, "amount",
                  std::string(text) + " is outside the exact range (+-2^128 minor units)");
    }
    minor = coefficient * pow10(shift);
  } else if (-shift <= 40) {
    minor = divide_rounded(coefficient, pow10(-shift), mode);
  } else {
    // |value| < 10^-19 minor units (to_chars gives at most 17 significant digits): below half.
    minor = apply_rounding(0, -1, negative, mode);
  }
  return Money(narrow_lazy(minor, "amount", [&] { return std::string(text); }), currency);
}

std::int64_t Money::minor_units_i64() const {
  if (!minor_.fits_int64()) {
    throw_error(ErrorCode::overflow, "amount",
                to_string() + " does not fit in 64-bit minor units");
  }
  return minor_.to_int64();
}

double Money::to_double() const {
  const std::string s = amount_string();
  double out = 0;
  std::from_chars(s.data(), s.data() + s.size(), out);
  return out;
}

std::string Money::amount_string() const { return amount().to_string(); }

std::string Money::to_string() const {
  std::string out = amount_string();
  out.push_back(' ');
  out.append(currency_.code());
  return out;
}

void Money::require_same_currency(const Money& other, const char* op) const {
  if (currency_ == other.currency_) return;
  const std::string verb(op);
  const char* prep = verb == "subtract" ? " from " : (verb == "add" ? " to " : " with ");
  throw_invalid("amount", "cannot " + verb + " " + std::string(other.currency_.code()) + prep +
                              std::string(currency_.code()));
}

Money Money::operator+(const Money& other) const {
  require_same_currency(other, "add");
  return checked("sum", [&] {
    return Money(from_boost(Narrow(to_boost(minor_) + to_boost(other.minor_))), currency_);
  });
}

Money Money::operator-(const Money& other) const {
  require_same_currency(other, "subtract");
  return checked("difference", [&] {
    return Money(from_boost(Narrow(to_boost(minor_) - to_boost(other.minor_))), currency_);
  });
}

Money Money::operator-() const { return Money(-minor_, currency_); }

Money Money::operator*(std::int64_t factor) const {
  return checked("product", [&] {
    return Money(from_boost(Narrow(to_boost(minor_) * Narrow(factor))), currency_);
  });
}

Money& Money::operator+=(const Money& other) {
  *this = *this + other;
  return *this;
}

Money& Money::operator-=(const Money& other) {
  *this = *this - other;
  return *this;
}

Money Money::multiply(const Decimal& rate, RoundingMode mode) const {
  // |minor| * |coefficient| < 2^256: the product is exact in Wide.
  const Wide product = Wide(to_boost(minor_)) * Wide(to_boost(rate.coefficient()));
  const Wide minor = divide_rounded(product, pow10(rate.scale()), mode);
  return Money(narrow(minor, "amount", "product"), currency_);
}

std::vector<Money> Money::allocate(std::span<const std::int64_t> ratios) const {
  if (ratios.empty()) throw_invalid("ratios", "is empty");
  Wide sum = 0;
  for (std::size_t k = 0; k < ratios.size(); ++k) {
    if (ratios[k] < 0) {
      throw_invalid("ratios", "entry " + std::to_string(k) + " is negative (" +
                                  std::to_string(ratios[k]) + ")");
    }
    sum += ratios[k];
  }
  if (sum == 0) throw_invalid("ratios", "sum to zero");

  const bool negative = minor_.is_negative();
  const Wide total = abs(Wide(to_boost(minor_)));
  std::vector<Wide> shares(ratios.size());
  std::vector<Wide> remainders(ratios.size());
  Wide given = 0;
  for (std::size_t k = 0; k < ratios.size(); ++k) {
    const Wide product = total * ratios[k];  // < 2^128 * 2^63: exact in Wide
    shares[k] = product / sum;
    remainders[k] = product % sum;
    given += shares[k];
  }
  // The leftover is sum(remainders) / sum < ratios.size(), and more parts than that have a
  // non-zero remainder, so a zero-ratio part never receives a unit.
  Wide leftover = total - given;
  std::vector<std::size_t> order(ratios.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return remainders[a] > remainders[b];
  });
  for (std::size_t k = 0; leftover > 0; ++k, --leftover) shares[order[k]] += 1;

  std::vector<Money> out;
  out.reserve(ratios.size());
  for (const Wide& share : shares) {
    out.push_back(Money(from_boost(static_cast<Narrow>(negative ? Wide(-share) : share)), currency_));
  }
  return out;
}

std::vector<Money> Money::allocate(std::size_t n) const {
  if (n == 0) throw_invalid("parts", "must be at least 1");
  const bool negative = minor_.is_negative();
  const Narrow total = abs(to_boost(minor_));
  const Narrow count = Narrow(static_cast<std::uint64_t>(n));
  const Narrow base = total / count;
  const Narrow extra = total % count;
  std::vector<Money> out;
  out.reserve(n);
  for (std::size_t k = 0; k < n; ++k) {
    Narrow share = base;
    if (Narrow(static_cast<std::uint64_t>(k)) < extra) share += 1;
    out.push_back(Money(from_boost(negative ? Narrow(-share) : share), currency_));
  }
  return out;
}

bool operator==(const Money& a, const Money& b) noexcept {
  return a.currency_ == b.currency_ && a.minor_ == b.minor_;
}

std::strong_ordering operator<=>(const Money& a, const Money& b) {
  a.require_same_currency(b, "compare");
  if (a.minor_ == b.minor_) return std::strong_ordering::equal;
  return a.minor_ < b.minor_ ? std::strong_ordering::less : std::strong_ordering::greater;
}

}  // namespace v0
}  // namespace crmkit
