// Int128's out-of-line parts: checked arithmetic and the decimal text forms, done by
// Boost.Multiprecision's checked_int128_t (same range, same sign-magnitude shape; see
// int128_boost.hpp for the conversions).
#include "base/text.hpp"
#include "crmkit/base/int128.hpp"

#include <charconv>
#include <cstring>
#include <ostream>
#include <stdexcept>
#include <string>

#include "base/int128_boost.hpp"
#include "crmkit/base/error.hpp"

namespace crmkit {
inline namespace v0 {
using detail::quote_value;
namespace {

constexpr const char* kRange = " is outside the exact range (+-(2^128-1))";

// Runs one checked Boost operation; its overflow becomes Error{overflow} naming "int128".
template <typename F>
Int128 checked(const char* what, F&& f) {
  try {
    return from_boost(f());
  } catch (const std::overflow_error&) {
  } catch (const std::range_error&) {
  }
  throw_error(ErrorCode::overflow, "int128", std::string(what) + kRange);
}

}  // namespace

Int128::Int128(std::string_view decimal) {
  std::size_t i = 0;
  bool negative = false;
  if (i < decimal.size() && (decimal[i] == '+' || decimal[i] == '-')) {
    negative = decimal[i] == '-';
    ++i;
  }
  if (i == decimal.size()) {
    throw_invalid("int128", quote_value(decimal) + " is not a decimal integer");
  }
  BoostInt128 value = 0;
  try {
    for (; i < decimal.size(); ++i) {
      const char c = decimal[i];
      if (c < '0' || c > '9') {
        throw_invalid("int128", quote_value(decimal) + " is not a decimal integer");
      }
      value = value * 10 + (c - '0');
    }
  } catch (const std::overflow_error&) {
    throw_error(ErrorCode::overflow, "int128", quote_value(decimal) + kRange);
  }
  if (negative) value = -value;
  *this = from_boost(value);
}

// Digits by hand rather than Boost's str(): the common case (|value| < 2^64, every realistic
// amount) is one std::to_chars, and g++ 12 reports a false -Wrestrict inside str() (GCC bug
// 105329).
std::string Int128::to_string() const {
  char buf[48];  // 2^128-1 has 39 digits
  char* const end = buf + sizeof buf;
  char* p = end;
  if (high_ == 0) {
    char digits[24];
    const auto r = std::to_chars(digits, digits + sizeof digits, low_);
    p -= r.ptr - digits;
    std::memcpy(p, digits, static_cast<std::size_t>(r.ptr - digits));
  } else {
    BoostInt128 m = abs(to_boost(*this));
    do {
      *--p = static_cast<char>('0' + static_cast<int>(static_cast<unsigned>(m % 10)));
      m /= 10;
    } while (m != 0);
  }
  if (negative_) *--p = '-';
  return std::string(p, end);
}

void Int128::throw_int64_overflow() const {
  throw_error(ErrorCode::overflow, "int128", to_string() + " does not fit in 64 bits");
}

Int128 operator+(const Int128& a, const Int128& b) {
  return checked("sum", [&] { return BoostInt128(to_boost(a) + to_boost(b)); });
}

Int128 operator-(const Int128& a, const Int128& b) {
  return checked("difference", [&] { return BoostInt128(to_boost(a) - to_boost(b)); });
}

Int128 operator*(const Int128& a, const Int128& b) {
  return checked("product", [&] { return BoostInt128(to_boost(a) * to_boost(b)); });
}

std::ostream& operator<<(std::ostream& out, const Int128& value) {
  return out << value.to_string();
}

}  // namespace v0
}  // namespace crmkit
