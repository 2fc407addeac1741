// Tests for crmkit/base/int128.hpp: the checked sign-magnitude 128-bit integer under Money and
// Decimal. Every expectation is an exact value.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <sstream>
#include <string>

#include "crmkit/base/error.hpp"
#include "crmkit/base/int128.hpp"
#include "support.hpp"

using crmkit::Error;
using crmkit::ErrorCode;
using crmkit::Int128;
using crmkit::test::catch_error;

namespace {

constexpr const char* kMaxText = "340282366920938463463374607431768211455";  // 2^128 - 1
const Int128 k2p64 = Int128("18446744073709551616");                        // 2^64

std::string what(const Error& e) { return e.what(); }

}  // namespace

// Comparisons, negation and the int64 conversions are constexpr.
static_assert(Int128() == 0);
static_assert(Int128(-5) < Int128(-4));
static_assert(Int128(5) > -5);
static_assert(-Int128::max() == Int128::min());
static_assert(!(-Int128(0)).is_negative());
static_assert(Int128(std::numeric_limits<std::int64_t>::min()).to_int64() ==
              std::numeric_limits<std::int64_t>::min());
static_assert(std::numeric_limits<Int128>::is_specialized && std::numeric_limits<Int128>::is_signed &&
              std::numeric_limits<Int128>::is_integer && std::numeric_limits<Int128>::is_exact &&
              std::numeric_limits<Int128>::is_bounded && !std::numeric_limits<Int128>::is_modulo);
static_assert(std::numeric_limits<Int128>::digits == 128 &&
              std::numeric_limits<Int128>::digits10 == 38);

TEST_CASE("Int128 converts from built-in integers and writes decimal text") {
  CHECK(Int128().to_string() == "0");
  CHECK(Int128(-42).to_string() == "-42");
  CHECK(Int128(std::numeric_limits<std::int64_t>::min()).to_string() == "-9223372036854775808");
  CHECK(Int128(std::numeric_limits<std::int64_t>::max()).to_string() == "9223372036854775807");
  CHECK(Int128(std::numeric_limits<std::uint64_t>::max()).to_string() == "18446744073709551615");
  CHECK(Int128(static_cast<unsigned char>(200)).to_string() == "200");
  CHECK(Int128::max().to_string() == kMaxText);
  CHECK(Int128::min().to_string() == std::string("-") + kMaxText);
  CHECK(std::numeric_limits<Int128>::max() == Int128::max());
  CHECK(std::numeric_limits<Int128>::min() == Int128::min());
  CHECK(std::numeric_limits<Int128>::lowest() == Int128::min());
  std::ostringstream out;
  out << Int128(-12) << ' ' << Int128::max();
  CHECK(out.str() == std::string("-12 ") + kMaxText);
}

TEST_CASE("Int128 parses decimal text over the whole range and round-trips it") {
  const char* texts[] = {"0",
                         "1",
                         "-1",
                         "9223372036854775808",
                         "-9223372036854775809",
                         "18446744073709551615",
                         "18446744073709551616",
                         "-18446744073709551616",
                         "123456789012345678901234567890123456789",
                         "-340282366920938463463374607431768211455",
                         kMaxText};
  for (const char* text : texts) {
    INFO(text);
    CHECK(Int128(text).to_string() == text);
  }
  CHECK(Int128("+007") == 7);
  CHECK(Int128("-0") == 0);
  CHECK_FALSE(Int128("-0").is_negative());
  CHECK(Int128("-0").sign() == 0);
  CHECK(Int128(kMaxText) == Int128::max());
}

TEST_CASE("Int128 refuses malformed text and magnitudes above 2^128-1") {
  const char* bad[] = {"", "-", "+", "1.5", " 1", "1 ", "0x10", "1e3", "--1", "1_000"};
  for (const char* text : bad) {
    INFO(text);
    const Error e = catch_error([&] { Int128{std::string_view(text)}; });
    CHECK(e.code() == ErrorCode::invalid_argument);
    CHECK(what(e) == std::string("int128: '") + text + "' is not a decimal integer");
  }
  // Bytes outside printable ASCII are quoted as \xNN (an Arabic-Indic digit one is U+0661).
  const Error arabic = catch_error([] { Int128{std::string_view("\xD9\xA1")}; });
  CHECK(arabic.code() == ErrorCode::invalid_argument);
  CHECK(what(arabic) == "int128: '\\xD9\\xA1' is not a decimal integer");
  const Error o = catch_error([] { Int128("340282366920938463463374607431768211456"); });
  CHECK(o.code() == ErrorCode::overflow);
  CHECK(what(o) ==
        "int128: '340282366920938463463374607431768211456' is outside the exact range "
        "(+-(2^128-1))");
  CHECK(catch_error([] { Int128("-1000000000000000000000000000000000000000"); }).code() ==
        ErrorCode::overflow);
}

TEST_CASE("Int128 orders values by sign, then magnitude") {
  CHECK(Int128::min() < Int128(-1));
  CHECK(Int128(-1) < Int128(0));
  CHECK(Int128(0) < Int128(1));
  CHECK(Int128(1) < Int128::max());
  CHECK(-k2p64 < Int128(std::numeric_limits<std::int64_t>::min()));
  CHECK(k2p64 > Int128(std::numeric_limits<std::uint64_t>::max()));
  CHECK((Int128("-18446744073709551617") <=> -k2p64) == std::strong_ordering::less);
  CHECK((k2p64 <=> Int128("18446744073709551616")) == std::strong_ordering::equal);
  CHECK(Int128(7) != Int128(-7));
  CHECK(Int128(-7).sign() == -1);
  CHECK(Int128(7).sign() == 1);
}

TEST_CASE("Int128 arithmetic is exact across 64-bit words") {
  CHECK(Int128(std::numeric_limits<std::uint64_t>::max()) + 1 == k2p64);
  CHECK(k2p64 - 1 == Int128(std::numeric_limits<std::uint64_t>::max()));
  CHECK(Int128(-5) + 3 == -2);
  CHECK(Int128(5) - 8 == -3);
  CHECK(Int128(-5) - Int128(-5) == 0);
  CHECK_FALSE((Int128(-5) - Int128(-5)).is_negative());
  CHECK(Int128(-4) * 3 == -12);
  CHECK(Int128(-4) * -3 == 12);
  CHECK(Int128(-4) * 0 == 0);
  CHECK_FALSE((Int128(-4) * 0).is_negative());
  // (2^64 - 1) * (2^64 + 1) = 2^128 - 1.
  CHECK(Int128(std::numeric_limits<std::uint64_t>::max()) * (k2p64 + 1) == Int128::max());
  CHECK(Int128::max() - 1 + 1 == Int128::max());
  CHECK(Int128::min() + Int128::max() == 0);
  CHECK(-Int128::max() == Int128::min());
  CHECK(abs(Int128::min()) == Int128::max());
  CHECK(abs(Int128(-3)) == 3);
  Int128 x = 10;
  x += 5;
  x -= 20;
  x *= -3;
  CHECK(x == 15);
}

TEST_CASE("Int128 arithmetic outside +-(2^128-1) throws Error{overflow} and changes nothing") {
  const Error add = catch_error([] { (void)(Int128::max() + 1); });
  CHECK(add.code() == ErrorCode::overflow);
  CHECK(what(add) == "int128: sum is outside the exact range (+-(2^128-1))");
  const Error sub = catch_error([] { (void)(Int128::min() - 1); });
  CHECK(sub.code() == ErrorCode::overflow);
  CHECK(what(sub) == "int128: difference is outside the exact range (+-(2^128-1))");
  const Error mul = catch_error([] { (void)(k2p64 * k2p64); });
  CHECK(mul.code() == ErrorCode::overflow);
  CHECK(what(mul) == "int128: product is outside the exact range (+-(2^128-1))");
  CHECK(catch_error([] { (void)(Int128::min() * 2); }).code() == ErrorCode::overflow);
  Int128 acc = Int128::max();
  CHECK(catch_error([&] { acc += 1; }).code() == ErrorCode::overflow);
  CHECK(acc == Int128::max());
  CHECK(catch_error([&] { acc *= -2; }).code() == ErrorCode::overflow);
  CHECK(acc == Int128::max());
}

TEST_CASE("Int128 converts to int64 only when the value fits") {
  CHECK(Int128(std::numeric_limits<std::int64_t>::max()).fits_int64());
  CHECK(Int128(std::numeric_limits<std::int64_t>::min()).fits_int64());
  CHECK(Int128(-17).to_int64() == -17);
  const Int128 above = Int128(std::numeric_limits<std::int64_t>::max()) + 1;
  const Int128 below = Int128(std::numeric_limits<std::int64_t>::min()) - 1;
  CHECK_FALSE(above.fits_int64());
  CHECK_FALSE(below.fits_int64());
  CHECK_FALSE(k2p64.fits_int64());
  const Error e = catch_error([&] { (void)above.to_int64(); });
  CHECK(e.code() == ErrorCode::overflow);
  CHECK(what(e) == "int128: 9223372036854775808 does not fit in 64 bits");
  CHECK(catch_error([&] { (void)below.to_int64(); }).code() == ErrorCode::overflow);
}
