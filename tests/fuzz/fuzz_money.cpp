// Fuzz target: money and decimal parsing (crmkit/base/money.hpp) and the arithmetic on what
// parses. The input is "<a>" or "<a>|<b>": each part is parsed as a Decimal, as a Money in USD
// (2 decimals), JPY (0), BHD (3) and CLF (4), and with parse_with_currency ("12.34 USD").
// Properties: only crmkit::Error is thrown; to_string / amount_string of anything parsed reads
// back equal; normalized() and rounded() keep the value when exact; a + b - b == a; allocate
// parts add up to the whole; multiply, comparisons and to_double never crash.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crmkit/crmkit.hpp"
#include "fuzz_support.hpp"

using namespace crmkit;
using crmkit_fuzz::require;

namespace {

template <class F>
auto attempt(F&& f) -> std::optional<decltype(f())> {
  try {
    return f();
  } catch (const Error&) {
    return std::nullopt;
  }
}

void check_decimal(const Decimal& d) {
  const std::string text = d.to_string();
  const auto back = attempt([&] { return Decimal::parse(text); });
  require(back.has_value() && *back == d && back->scale() == d.scale(),
          "Decimal::parse(d.to_string()) == d", text);
  require(d.normalized() == d, "normalized() keeps the value", text);
  for (int digits : {0, 2, 5, 30}) {
    const auto r = attempt([&] { return d.rounded(digits, RoundingMode::half_even); });
    if (r && digits >= d.scale()) require(*r == d, "rounding to more digits is exact", text);
    attempt([&] { return d.rounded(digits, RoundingMode::up); });
    attempt([&] { return d.rounded(digits, RoundingMode::floor); });
  }
}

void check_money(const Money& m) {
  const std::string amount = m.amount_string();
  const auto back = attempt([&] { return Money::parse(amount, m.currency()); });
  require(back.has_value() && *back == m, "Money::parse(m.amount_string()) == m", amount);
  const std::string full = m.to_string();
  const auto back2 = attempt([&] { return Money::parse_with_currency(full); });
  require(back2.has_value() && *back2 == m, "Money::parse_with_currency(m.to_string()) == m", full);
  require(Money::from_decimal(m.amount(), m.currency()) == m, "from_decimal(amount()) == m", full);
  (void)m.to_double();
  attempt([&] { return m.minor_units_i64(); });
  attempt([&] { return -m; });
  attempt([&] { return m * 3; });
  attempt([&] { return m * -7; });
  const auto parts = attempt([&] { return m.allocate(3); });
  if (parts) {
    Money sum(m.currency());
    for (const Money& p : *parts) sum += p;
    require(sum == m, "allocate(3) adds up to the whole", full);
  }
  const std::array<std::int64_t, 3> ratios{1, 2, 7};
  const auto split = attempt([&] { return m.allocate(ratios); });
  if (split) {
    Money sum(m.currency());
    for (const Money& p : *split) sum += p;
    require(sum == m, "allocate({1,2,7}) adds up to the whole", full);
  }
}

struct Parsed {
  std::optional<Decimal> decimal;
  std::array<std::optional<Money>, 5> money;  // USD, JPY, BHD, CLF, with currency
};

Parsed parse_all(std::string_view text) {
  static const std::array<Currency, 4> currencies{Currency::of("USD"), Currency::of("JPY"),
                                                  Currency::of("BHD"), Currency::of("CLF")};
  Parsed p;
  p.decimal = attempt([&] { return Decimal::parse(text); });
  if (p.decimal) check_decimal(*p.decimal);
  for (std::size_t i = 0; i < currencies.size(); ++i) {
    p.money[i] = attempt([&] { return Money::parse(text, currencies[i]); });
    if (p.money[i]) check_money(*p.money[i]);
  }
  p.money[4] = attempt([&] { return Money::parse_with_currency(text); });
  if (p.money[4]) check_money(*p.money[4]);
  attempt([&] { return parse_rounding_mode(text); });
  attempt([&] { return Currency::of(text); });
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = crmkit_fuzz::as_text(data, size);
  const std::size_t bar = input.find('|');
  const Parsed a = parse_all(input.substr(0, bar));
  if (bar == std::string_view::npos) return 0;
  const Parsed b = parse_all(input.substr(bar + 1));
  for (std::size_t i = 0; i < a.money.size(); ++i) {
    for (std::size_t j = 0; j < b.money.size(); ++j) {
      if (!a.money[i] || !b.money[j]) continue;
      const Money& x = *a.money[i];
      const Money& y = *b.money[j];
      (void)(x == y);
      attempt([&] { return x < y; });
      const auto sum = attempt([&] { return x + y; });
      if (sum) {
        const auto diff = attempt([&] { return *sum - y; });
        require(diff.has_value() && *diff == x, "(a + b) - b == a", x.to_string() + " " + y.to_string());
      }
      attempt([&] { return x - y; });
    }
    if (a.money[i] && b.decimal) {
      for (RoundingMode mode : {RoundingMode::half_even, RoundingMode::half_up, RoundingMode::half_down,
                                RoundingMode::down, RoundingMode::up, RoundingMode::floor,
                                RoundingMode::ceiling}) {
        attempt([&] { return a.money[i]->multiply(*b.decimal, mode); });
      }
    }
  }
  if (a.decimal && b.decimal) {
    (void)(*a.decimal == *b.decimal);
    (void)(*a.decimal <=> *b.decimal);
  }
  return 0;
}
