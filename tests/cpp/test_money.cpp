// Tests for crmkit/base/money.hpp: currencies, Decimal, Money parsing, arithmetic, rounding and
// allocation. Every expectation is an exact value.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "crmkit/base/error.hpp"
#include "crmkit/base/money.hpp"
#include "support.hpp"

using crmkit::Currency;
using crmkit::Decimal;
using crmkit::Error;
using crmkit::ErrorCode;
using crmkit::Int128;
using crmkit::Money;
using crmkit::RoundingMode;
using crmkit::test::catch_error;

namespace {

std::string amounts(const std::vector<Money>& parts) {
  std::string out;
  for (const Money& m : parts) {
    if (!out.empty()) out += ",";
    out += m.amount_string();
  }
  return out;
}

Money usd(std::string_view text) { return Money::parse(text, Currency::of("USD")); }

std::string round_str(std::string_view text, int digits, RoundingMode mode) {
  return Decimal::parse(text).rounded(digits, mode).to_string();
}

const Int128 kMax = std::numeric_limits<Int128>::max();

}  // namespace

// ---------------------------------------------------------------------------------------------
// Currency

TEST_CASE("Currency table has the listed codes with their numeric codes and minor units") {
  struct Row {
    const char* code;
    int numeric;
    int minor;
  };
  const Row rows[] = {{"CNY", 156, 2}, {"USD", 840, 2}, {"EUR", 978, 2}, {"GBP", 826, 2},
                      {"JPY", 392, 0}, {"KRW", 410, 0}, {"BHD", 48, 3},  {"KWD", 414, 3},
                      {"CLF", 990, 4}, {"CHF", 756, 2}, {"INR", 356, 2}, {"TND", 788, 3},
                      {"VND", 704, 0}, {"UYW", 927, 4}, {"XXX", 999, 0}};
  for (const Row& row : rows) {
    INFO(row.code);
    const Currency c = Currency::of(row.code);
    CHECK(c.code() == row.code);
    CHECK(c.numeric_code() == row.numeric);
    CHECK(c.minor_units() == row.minor);
    CHECK(Currency::is_known(row.code));
  }
}

TEST_CASE("Currency::all is ordered by code and covers the active list") {
  const std::vector<Currency> all = Currency::all();
  CHECK(all.size() == 182);
  for (std::size_t i = 1; i < all.size(); ++i) CHECK(all[i - 1].code() < all[i].code());
  CHECK(all.front().code() == "AED");
  CHECK(all.back().code() == "ZWL");
}

TEST_CASE("Currency::of refuses malformed and unknown codes with distinct codes") {
  Error bad = catch_error([] { Currency::of("usd"); });
  CHECK(bad.code() == ErrorCode::invalid_argument);
  CHECK(std::string(bad.what()) == "currency: 'usd' is not three upper-case letters");
  CHECK(catch_error([] { Currency::of("USDX"); }).code() == ErrorCode::invalid_argument);
  CHECK(catch_error([] { Currency::of(""); }).code() == ErrorCode::invalid_argument);
  Error unknown = catch_error([] { Currency::of("ABC"); });
  CHECK(unknown.code() == ErrorCode::not_found);
  CHECK(std::string(unknown.what()) == "currency: 'ABC' is not an ISO 4217 currency code");
  CHECK_FALSE(Currency::is_known("ABC"));
  CHECK_FALSE(Currency::is_known("us"));
  CHECK_FALSE(Currency::is_known("HRK"));
}

TEST_CASE("A default Currency and Money are XXX with zero minor units") {
  const Currency c;
  CHECK(c.code() == "XXX");
  CHECK(c.numeric_code() == 999);
  CHECK(c.minor_units() == 0);
  const Money m;
  CHECK(m.to_string() == "0 XXX");
  CHECK(m.is_zero());
  CHECK(Money(Currency::of("EUR")).to_string() == "0.00 EUR");
}

// ---------------------------------------------------------------------------------------------
// RoundingMode

TEST_CASE("RoundingMode names round-trip and unknown names are refused") {
  const RoundingMode modes[] = {RoundingMode::half_even, RoundingMode::half_up,
                                RoundingMode::half_down, RoundingMode::down,
                                RoundingMode::up,        RoundingMode::floor,
                                RoundingMode::ceiling};
  const char* names[] = {"half_even", "half_up", "half_down", "down", "up", "floor", "ceiling"};
  for (int i = 0; i < 7; ++i) {
    CHECK(std::string(crmkit::to_string(modes[i])) == names[i]);
    CHECK(crmkit::parse_rounding_mode(names[i]) == modes[i]);
  }
  Error e = catch_error([] { crmkit::parse_rounding_mode("HALF_EVEN"); });
  CHECK(e.code() == ErrorCode::invalid_argument);
  CHECK(std::string(e.what()).rfind("rounding_mode: 'HALF_EVEN' is not a rounding mode", 0) == 0);
}

// ---------------------------------------------------------------------------------------------
// Decimal

TEST_CASE("Decimal parses signs, integers and fractions exactly") {
  const Decimal a = Decimal::parse("-12.345");
  CHECK(a.coefficient() == -12345);
  CHECK(a.scale() == 3);
  CHECK(a.to_string() == "-12.345");
  CHECK(Decimal::parse("+7").to_string() == "7");
  CHECK(Decimal::parse("0.5").to_string() == "0.5");
  CHECK(Decimal::parse("0.007").to_string() == "0.007");
  CHECK(Decimal::parse("-0.007").to_string() == "-0.007");
  CHECK(Decimal::parse("007.50").to_string() == "7.50");
  CHECK(Decimal::parse("-0").is_zero());
  CHECK(Decimal::parse("0.000000000000000000000000000001").scale() == 30);
  CHECK(Decimal::parse("340282366920938463463374607431768211455").coefficient() == kMax);
}

TEST_CASE("Decimal refuses exponents, spaces, empty parts and non-numbers") {
  const char* bad[] = {"",    ".",      "1.",   ".5",    "1e-3", "1E3",  " 1",  "1 ",
                       "NaN", "inf",    "-inf", "1,000", "1_0",  "--1",  "+-1", "+",
                       "-",   "0x10",   "1.2.3", "١"};
  for (const char* text : bad) {
    INFO(text);
    Error e = catch_error([&] { Decimal::parse(text, "rate"); });
    CHECK(e.code() == ErrorCode::invalid_argument);
    CHECK(std::string(e.what()).rfind("rate: '", 0) == 0);
  }
}

TEST_CASE("Decimal refuses more than 30 fraction digits and out-of-range coefficients") {
  Error e = catch_error([] { Decimal::parse("0.0000000000000000000000000000001", "rate"); });
  CHECK(e.code() == ErrorCode::invalid_argument);
  CHECK(std::string(e.what()).find("more than 30 digits") != std::string::npos);
  Error o = catch_error([] { Decimal::parse("340282366920938463463374607431768211456", "rate"); });
  CHECK(o.code() == ErrorCode::overflow);
  CHECK(std::string(o.what()).rfind("rate: ", 0) == 0);
  CHECK(catch_error([] { Decimal::parse("-1000000000000000000000000000000000000000"); }).code() ==
        ErrorCode::overflow);
  CHECK(catch_error([] { Decimal(Int128(1), 31); }).code() == ErrorCode::invalid_argument);
  CHECK(catch_error([] { Decimal(Int128(1), -1); }).code() == ErrorCode::invalid_argument);
}

TEST_CASE("Decimal compares by numeric value across scales") {
  CHECK(Decimal::parse("1.50") == Decimal::parse("1.5"));
  CHECK(Decimal::parse("1.50") != Decimal::parse("1.51"));
  CHECK(Decimal::parse("-0.1") < Decimal::parse("0"));
  CHECK(Decimal::parse("2") > Decimal::parse("1.999999999999999999999999999999"));
  CHECK(Decimal::parse("-2") < Decimal::parse("-1.999999999999999999999999999999"));
  CHECK(Decimal::parse("0.000") == Decimal());
  CHECK(Decimal(kMax, 0) > Decimal(kMax, 30));
  CHECK(Decimal::from_int(-3) == Decimal::parse("-3.000"));
}

TEST_CASE("Decimal normalized drops trailing zeros") {
  CHECK(Decimal::parse("1.500").normalized().to_string() == "1.5");
  CHECK(Decimal::parse("3.000").normalized().to_string() == "3");
  CHECK(Decimal::parse("-0.00").normalized().to_string() == "0");
  CHECK(Decimal::parse("100").normalized().to_string() == "100");
  CHECK(Decimal::parse("0.010").normalized().scale() == 2);
}

TEST_CASE("Decimal rounds ties with every mode, including negatives") {
  // 0.125 to 2 digits: a tie.
  CHECK(round_str("0.125", 2, RoundingMode::half_even) == "0.12");
  CHECK(round_str("0.125", 2, RoundingMode::half_up) == "0.13");
  CHECK(round_str("0.125", 2, RoundingMode::half_down) == "0.12");
  CHECK(round_str("0.125", 2, RoundingMode::down) == "0.12");
  CHECK(round_str("0.125", 2, RoundingMode::up) == "0.13");
  CHECK(round_str("0.125", 2, RoundingMode::floor) == "0.12");
  CHECK(round_str("0.125", 2, RoundingMode::ceiling) == "0.13");
  CHECK(round_str("0.135", 2, RoundingMode::half_even) == "0.14");
  // -2.5 to 0 digits.
  CHECK(round_str("-2.5", 0, RoundingMode::half_even) == "-2");
  CHECK(round_str("-2.5", 0, RoundingMode::half_up) == "-3");
  CHECK(round_str("-2.5", 0, RoundingMode::half_down) == "-2");
  CHECK(round_str("-2.5", 0, RoundingMode::floor) == "-3");
  CHECK(round_str("-2.5", 0, RoundingMode::ceiling) == "-2");
  CHECK(round_str("-2.5", 0, RoundingMode::down) == "-2");
  CHECK(round_str("-2.5", 0, RoundingMode::up) == "-3");
  CHECK(round_str("-3.5", 0, RoundingMode::half_even) == "-4");
  CHECK(round_str("2.5", 0, RoundingMode::half_even) == "2");
  CHECK(round_str("3.5", 0, RoundingMode::half_even) == "4");
}

TEST_CASE("Decimal rounds non-ties with every mode, including negatives") {
  CHECK(round_str("1.26", 1, RoundingMode::half_even) == "1.3");
  CHECK(round_str("1.26", 1, RoundingMode::half_up) == "1.3");
  CHECK(round_str("1.26", 1, RoundingMode::half_down) == "1.3");
  CHECK(round_str("1.24", 1, RoundingMode::half_up) == "1.2");
  CHECK(round_str("1.21", 1, RoundingMode::up) == "1.3");
  CHECK(round_str("1.29", 1, RoundingMode::down) == "1.2");
  CHECK(round_str("1.21", 1, RoundingMode::floor) == "1.2");
  CHECK(round_str("1.21", 1, RoundingMode::ceiling) == "1.3");
  CHECK(round_str("-1.26", 1, RoundingMode::half_even) == "-1.3");
  CHECK(round_str("-1.24", 1, RoundingMode::half_down) == "-1.2");
  CHECK(round_str("-1.21", 1, RoundingMode::floor) == "-1.3");
  CHECK(round_str("-1.29", 1, RoundingMode::ceiling) == "-1.2");
  CHECK(round_str("-1.21", 1, RoundingMode::up) == "-1.3");
  CHECK(round_str("-1.29", 1, RoundingMode::down) == "-1.2");
  CHECK(round_str("0.0049", 2, RoundingMode::half_up) == "0.00");
  CHECK(round_str("-0.001", 0, RoundingMode::floor) == "-1");
  CHECK(round_str("999.995", 2, RoundingMode::half_up) == "1000.00");
}

TEST_CASE("Decimal rounded is exact when already short enough") {
  CHECK(round_str("1.5", 2, RoundingMode::up) == "1.5");
  CHECK(round_str("1.50", 2, RoundingMode::up) == "1.50");
  CHECK(round_str("7", 0, RoundingMode::up) == "7");
  CHECK(catch_error([] { Decimal::parse("1.5").rounded(-1); }).code() ==
        ErrorCode::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// Money parsing and formatting

TEST_CASE("Money parses and formats each listed currency exactly") {
  struct Case {
    const char* code;
    const char* text;
    const char* expected;
    std::int64_t minor;
  };
  const Case cases[] = {
      {"CNY", "12.34", "12.34 CNY", 1234},   {"USD", "-0.5", "-0.50 USD", -50},
      {"EUR", "1000", "1000.00 EUR", 100000}, {"GBP", "0.01", "0.01 GBP", 1},
      {"JPY", "100", "100 JPY", 100},        {"KRW", "-15000", "-15000 KRW", -15000},
      {"BHD", "1.234", "1.234 BHD", 1234},   {"KWD", "0.005", "0.005 KWD", 5},
      {"CLF", "1.2345", "1.2345 CLF", 12345}, {"CLF", "-0.0001", "-0.0001 CLF", -1},
  };
  for (const Case& c : cases) {
    INFO(c.code << " " << c.text);
    const Money m = Money::parse(c.text, Currency::of(c.code));
    CHECK(m.to_string() == c.expected);
    CHECK(m.minor_units() == c.minor);
    CHECK(m.minor_units_i64() == c.minor);
    CHECK(Money::parse_with_currency(m.to_string()) == m);
  }
  CHECK(usd("12.3").amount_string() == "12.30");
  CHECK(usd("+7").amount_string() == "7.00");
  CHECK(usd("-0").to_string() == "0.00 USD");
}

TEST_CASE("Money refuses more decimals than the currency has") {
  Error e = catch_error([] { usd("12.345"); });
  CHECK(e.code() == ErrorCode::invalid_argument);
  CHECK(std::string(e.what()) == "amount: 12.345 has more decimals than USD allows (2)");
  Error j = catch_error([] { Money::parse("100.5", Currency::of("JPY"), "purchase.amount"); });
  CHECK(std::string(j.what()) == "purchase.amount: 100.5 has more decimals than JPY allows (0)");
  CHECK(Money::parse("100", Currency::of("JPY")).to_string() == "100 JPY");
  Error b = catch_error([] { Money::parse("1.2345", Currency::of("BHD")); });
  CHECK(std::string(b.what()) == "amount: 1.2345 has more decimals than BHD allows (3)");
  Error c = catch_error([] { Money::parse("1.23456", Currency::of("CLF")); });
  CHECK(std::string(c.what()) == "amount: 1.23456 has more decimals than CLF allows (4)");
}

TEST_CASE("Money accepts trailing zeros beyond the minor unit because nothing is rounded") {
  CHECK(usd("12.340").to_string() == "12.34 USD");
  CHECK(Money::parse("100.00", Currency::of("JPY")).to_string() == "100 JPY");
}

TEST_CASE("Money refuses malformed amounts naming the field") {
  Error e = catch_error([] { Money::parse("12,34", Currency::of("EUR"), "order.total"); });
  CHECK(e.code() == ErrorCode::invalid_argument);
  CHECK(std::string(e.what()).rfind("order.total: '12,34' is not a decimal number", 0) == 0);
  CHECK(catch_error([] { usd("1e3"); }).code() == ErrorCode::invalid_argument);
  CHECK(catch_error([] { usd("$5"); }).code() == ErrorCode::invalid_argument);
}

TEST_CASE("Money parse_with_currency needs one space and a known code") {
  CHECK(Money::parse_with_currency("12.34 USD").to_string() == "12.34 USD");
  CHECK(Money::parse_with_currency("-7 JPY").minor_units() == -7);
  CHECK(catch_error([] { Money::parse_with_currency("12.34USD"); }).code() ==
        ErrorCode::invalid_argument);
  CHECK(catch_error([] { Money::parse_with_currency("12.34  USD"); }).code() ==
        ErrorCode::invalid_argument);
  CHECK(catch_error([] { Money::parse_with_currency("12.34 usd"); }).code() ==
        ErrorCode::invalid_argument);
  CHECK(catch_error([] { Money::parse_with_currency("USD 12.34"); }).code() ==
        ErrorCode::invalid_argument);
  Error u = catch_error([] { Money::parse_with_currency("12.34 ABC", "price"); });
  CHECK(u.code() == ErrorCode::not_found);
  CHECK(std::string(u.what()) == "price: 'ABC' is not an ISO 4217 currency code");
  Error d = catch_error([] { Money::parse_with_currency("12.345 USD", "price"); });
  CHECK(std::string(d.what()) == "price: 12.345 has more decimals than USD allows (2)");
}

TEST_CASE("Money from_decimal and from_minor are exact") {
  const Currency usd_c = Currency::of("USD");
  CHECK(Money::from_decimal(Decimal::parse("19.9"), usd_c).to_string() == "19.90 USD");
  CHECK(Money::from_decimal(Decimal::parse("19.900"), usd_c).to_string() == "19.90 USD");
  Error e = catch_error([&] { Money::from_decimal(Decimal::parse("19.901"), usd_c, "price"); });
  CHECK(std::string(e.what()) == "price: 19.901 has more decimals than USD allows (2)");
  CHECK(Money::from_minor(std::int64_t{-1234}, usd_c).to_string() == "-12.34 USD");
  CHECK(Money::from_minor(Int128(5), Currency::of("BHD")).to_string() == "0.005 BHD");
  const Money m = usd("12.34");
  CHECK(m.amount() == Decimal::parse("12.34"));
  CHECK(m.amount().scale() == 2);
}

TEST_CASE("Money overflows on huge amounts instead of wrapping") {
  // 2^128 - 1 minor units is the largest amount; one more cent overflows.
  const Currency usd_c = Currency::of("USD");
  const Money top = Money::from_minor(kMax, usd_c);
  CHECK(top.amount_string() == "3402823669209384634633746074317682114.55");
  CHECK(Money::parse(top.amount_string(), usd_c) == top);
  CHECK(catch_error([&] { Money::parse("3402823669209384634633746074317682114.56", usd_c); })
            .code() == ErrorCode::overflow);
  CHECK(catch_error([&] { Money::parse("9999999999999999999999999999999999999999", usd_c); })
            .code() == ErrorCode::overflow);
  const Money cent = usd("0.01");
  Error add = catch_error([&] { (void)(top + cent); });
  CHECK(add.code() == ErrorCode::overflow);
  CHECK(std::string(add.what()).rfind("amount: ", 0) == 0);
  CHECK(catch_error([&] { (void)(-top - cent); }).code() == ErrorCode::overflow);
  CHECK(catch_error([&] { (void)(top * 2); }).code() == ErrorCode::overflow);
  CHECK(catch_error([&] { (void)(top.multiply(Decimal::parse("1.01"))); }).code() ==
        ErrorCode::overflow);
  Money acc = top;
  CHECK(catch_error([&] { acc += cent; }).code() == ErrorCode::overflow);
  CHECK(acc == top);  // a failed call changes nothing
  CHECK(catch_error([&] { top.minor_units_i64(); }).code() == ErrorCode::overflow);
  CHECK(Money::from_minor(std::numeric_limits<std::int64_t>::min(), usd_c).minor_units_i64() ==
        std::numeric_limits<std::int64_t>::min());
  CHECK(catch_error([&] {
          Money::from_minor(Int128(std::numeric_limits<std::int64_t>::max()) + 1, usd_c)
              .minor_units_i64();
        }).code() == ErrorCode::overflow);
}

// ---------------------------------------------------------------------------------------------
// Money arithmetic

TEST_CASE("Money adds, subtracts, negates and scales exactly") {
  CHECK((usd("0.10") + usd("0.20")).to_string() == "0.30 USD");
  CHECK((usd("0.10") - usd("0.25")).to_string() == "-0.15 USD");
  CHECK((-usd("5.01")).to_string() == "-5.01 USD");
  CHECK((usd("19.99") * 3).to_string() == "59.97 USD");
  CHECK((usd("19.99") * -2).to_string() == "-39.98 USD");
  Money m = usd("1.00");
  m += usd("0.01");
  m -= usd("0.50");
  CHECK(m.to_string() == "0.51 USD");
  CHECK(m.is_positive());
  CHECK((-m).is_negative());
  CHECK(std::abs(usd("12.34").to_double() - 12.34) == 0.0);
  CHECK(Money::parse("-1.5", Currency::of("CLF")).to_double() == -1.5);
}

TEST_CASE("Money refuses to mix currencies") {
  const Money a = usd("1.00");
  const Money b = Money::parse("1.00", Currency::of("EUR"));
  Error add = catch_error([&] { (void)(a + b); });
  CHECK(add.code() == ErrorCode::invalid_argument);
  CHECK(std::string(add.what()) == "amount: cannot add EUR to USD");
  Error sub = catch_error([&] { (void)(a - b); });
  CHECK(sub.code() == ErrorCode::invalid_argument);
  CHECK(std::string(sub.what()) == "amount: cannot subtract EUR from USD");
  Money acc = a;
  CHECK(catch_error([&] { acc += b; }).code() == ErrorCode::invalid_argument);
  CHECK(acc == a);
  CHECK_FALSE(a == b);
  CHECK(a != b);
  Error cmp = catch_error([&] { (void)(a < b); });
  CHECK(cmp.code() == ErrorCode::invalid_argument);
  const std::string msg = cmp.what();
  CHECK(msg.find("USD") != std::string::npos);
  CHECK(msg.find("EUR") != std::string::npos);
  CHECK(msg == "amount: cannot compare EUR with USD");
}

TEST_CASE("Money orders amounts of one currency") {
  CHECK(usd("1.00") < usd("1.01"));
  CHECK(usd("-1.00") < usd("0.00"));
  CHECK(usd("2.00") >= usd("2"));
  CHECK(usd("2.00") == usd("2"));
  CHECK((usd("3") <=> usd("2.99")) == std::strong_ordering::greater);
}

TEST_CASE("Money multiply rounds once to the minor unit") {
  // 19.99 * 0.075 = 1.49925 -> 1.50
  CHECK(usd("19.99").multiply(Decimal::parse("0.075")).to_string() == "1.50 USD");
  CHECK(usd("19.99").multiply(Decimal::parse("0.075"), RoundingMode::down).to_string() ==
        "1.49 USD");
  // 0.05 * 0.5 = 0.025: a tie.
  CHECK(usd("0.05").multiply(Decimal::parse("0.5")).to_string() == "0.02 USD");
  CHECK(usd("0.05").multiply(Decimal::parse("0.5"), RoundingMode::half_up).to_string() ==
        "0.03 USD");
  CHECK(usd("-0.05").multiply(Decimal::parse("0.5"), RoundingMode::half_up).to_string() ==
        "-0.03 USD");
  CHECK(usd("-0.05").multiply(Decimal::parse("0.5"), RoundingMode::floor).to_string() ==
        "-0.03 USD");
  CHECK(usd("-0.05").multiply(Decimal::parse("0.5"), RoundingMode::ceiling).to_string() ==
        "-0.02 USD");
  CHECK(Money::parse("1000", Currency::of("JPY")).multiply(Decimal::parse("1.08")).to_string() ==
        "1080 JPY");
  CHECK(Money::parse("1.005", Currency::of("BHD"))
            .multiply(Decimal::parse("0.5"))
            .to_string() == "0.502 BHD");
  // A rate with 30 decimals stays exact before the single rounding.
  CHECK(usd("100")
            .multiply(Decimal::parse("0.333333333333333333333333333333"))
            .to_string() == "33.33 USD");
}

TEST_CASE("Money from_model_value rounds the shortest decimal form of the double") {
  const Currency usd_c = Currency::of("USD");
  CHECK(Money::from_model_value(2.675, usd_c).to_string() == "2.68 USD");
  CHECK(Money::from_model_value(2.665, usd_c).to_string() == "2.66 USD");
  CHECK(Money::from_model_value(2.665, usd_c, RoundingMode::half_up).to_string() == "2.67 USD");
  CHECK(Money::from_model_value(-2.675, usd_c).to_string() == "-2.68 USD");
  CHECK(Money::from_model_value(0.1 + 0.2, usd_c).to_string() == "0.30 USD");
  CHECK(Money::from_model_value(12.0, usd_c).to_string() == "12.00 USD");
  CHECK(Money::from_model_value(-0.0, usd_c).to_string() == "0.00 USD");
  CHECK(Money::from_model_value(1e-30, usd_c).to_string() == "0.00 USD");
  CHECK(Money::from_model_value(1e-30, usd_c, RoundingMode::up).to_string() == "0.01 USD");
  CHECK(Money::from_model_value(-1e-30, usd_c, RoundingMode::floor).to_string() == "-0.01 USD");
  CHECK(Money::from_model_value(1234.5, Currency::of("JPY")).to_string() == "1234 JPY");
  CHECK(Money::from_model_value(1e20, usd_c).to_string() == "100000000000000000000.00 USD");
  CHECK(Money::from_model_value(0.00005, Currency::of("CLF"), RoundingMode::half_up)
            .to_string() == "0.0001 CLF");
  CHECK(catch_error([&] { Money::from_model_value(1e37, usd_c); }).code() == ErrorCode::overflow);
  CHECK(catch_error([&] { Money::from_model_value(1e300, usd_c); }).code() == ErrorCode::overflow);
  Error nan = catch_error([&] { Money::from_model_value(std::nan(""), usd_c); });
  CHECK(nan.code() == ErrorCode::invalid_argument);
  CHECK(std::string(nan.what()).rfind("amount: ", 0) == 0);
  CHECK(catch_error([&] {
          Money::from_model_value(std::numeric_limits<double>::infinity(), usd_c);
        }).code() == ErrorCode::invalid_argument);
  CHECK(catch_error([&] {
          Money::from_model_value(-std::numeric_limits<double>::infinity(), usd_c);
        }).code() == ErrorCode::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// Allocation

TEST_CASE("Money allocate splits by ratios and the parts sum exactly") {
  const Money total = usd("100.00");
  const std::vector<std::int64_t> ones = {1, 1, 1};
  const std::vector<Money> parts = total.allocate(ones);
  CHECK(amounts(parts) == "33.34,33.33,33.33");
  CHECK(parts[0] + parts[1] + parts[2] == total);

  const std::vector<std::int64_t> r = {3, 7};
  // 5 cents by 3:7 -> 1.5 and 3.5: equal remainders, so the leftover goes to the earlier part.
  CHECK(amounts(usd("0.05").allocate(r)) == "0.02,0.03");
  const std::vector<std::int64_t> r2 = {1, 0, 2};
  CHECK(amounts(usd("1.00").allocate(r2)) == "0.33,0.00,0.67");
  const std::vector<std::int64_t> big = {std::numeric_limits<std::int64_t>::max(),
                                         std::numeric_limits<std::int64_t>::max()};
  CHECK(amounts(usd("0.03").allocate(big)) == "0.02,0.01");
}

TEST_CASE("Money allocate gives remainders to the largest fractions, ties to the earlier part") {
  // 10 cents by 1:1:1:1 -> 2.5 each: two leftovers go to the first two parts.
  const std::vector<std::int64_t> four = {1, 1, 1, 1};
  CHECK(amounts(usd("0.10").allocate(four)) == "0.03,0.03,0.02,0.02");
  // 10 cents by 1:2:3 -> 1.666, 3.333, 5.0: the leftover goes to the largest fraction (part 0).
  const std::vector<std::int64_t> r = {1, 2, 3};
  CHECK(amounts(usd("0.10").allocate(r)) == "0.02,0.03,0.05");
}

TEST_CASE("Money allocate splits negative amounts symmetrically") {
  const std::vector<std::int64_t> ones = {1, 1, 1};
  const std::vector<Money> parts = usd("-0.05").allocate(ones);
  CHECK(amounts(parts) == "-0.02,-0.02,-0.01");
  CHECK(parts[0] + parts[1] + parts[2] == usd("-0.05"));
  CHECK(amounts(usd("-0.05").allocate(3)) == "-0.02,-0.02,-0.01");
  CHECK(amounts(usd("-100.00").allocate(ones)) == "-33.34,-33.33,-33.33");
}

TEST_CASE("Money allocate into n parts gives earlier parts the extra units") {
  CHECK(amounts(usd("100.00").allocate(3)) == "33.34,33.33,33.33");
  CHECK(amounts(usd("0.05").allocate(3)) == "0.02,0.02,0.01");
  CHECK(amounts(usd("0.02").allocate(4)) == "0.01,0.01,0.00,0.00");
  CHECK(amounts(Money::parse("10", Currency::of("JPY")).allocate(1)) == "10");
  CHECK(catch_error([] { usd("1").allocate(0); }).code() == ErrorCode::invalid_argument);
}

TEST_CASE("Money allocate refuses empty, negative and zero-sum ratios") {
  const std::vector<std::int64_t> empty;
  CHECK(catch_error([&] { usd("1").allocate(std::span<const std::int64_t>(empty)); }).code() ==
        ErrorCode::invalid_argument);
  const std::vector<std::int64_t> neg = {1, -1, 2};
  Error n = catch_error([&] { usd("1").allocate(neg); });
  CHECK(n.code() == ErrorCode::invalid_argument);
  CHECK(std::string(n.what()) == "ratios: entry 1 is negative (-1)");
  const std::vector<std::int64_t> zero = {0, 0};
  CHECK(std::string(catch_error([&] { usd("1").allocate(zero); }).what()) == "ratios: sum to zero");
}
