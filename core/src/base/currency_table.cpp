// The built-in ISO 4217 table (list one: active codes, including the fund and X codes).
// Codes whose minor unit ISO gives as "N.A." (precious metals, XDR, test and bond units) are
// stored with 0 minor units. Transitional pairs (ANG/XCG, SLL/SLE, ZWL/ZWG, VED/VES) are both
// present so that data written before a redenomination still loads.
#include "base/text.hpp"
#include "crmkit/base/error.hpp"
#include "crmkit/base/money.hpp"

#include <algorithm>
#include <array>
#include <string>

namespace crmkit {
inline namespace v0 {
using detail::quote_code;
namespace {

struct CurrencyRow {
  const char* code;
  int numeric;
  int minor_units;
};

// Sorted by code (checked once below); Currency::of binary-searches it.
constexpr CurrencyRow kCurrencies[] = {
    {"AED", 784, 2}, {"AFN", 971, 2}, {"ALL", 8, 2},   {"AMD", 51, 2},  {"ANG", 532, 2},
    {"AOA", 973, 2}, {"ARS", 32, 2},  {"AUD", 36, 2},  {"AWG", 533, 2}, {"AZN", 944, 2},
    {"BAM", 977, 2}, {"BBD", 52, 2},  {"BDT", 50, 2},  {"BGN", 975, 2}, {"BHD", 48, 3},
    {"BIF", 108, 0}, {"BMD", 60, 2},  {"BND", 96, 2},  {"BOB", 68, 2},  {"BOV", 984, 2},
    {"BRL", 986, 2}, {"BSD", 44, 2},  {"BTN", 64, 2},  {"BWP", 72, 2},  {"BYN", 933, 2},
    {"BZD", 84, 2},  {"CAD", 124, 2}, {"CDF", 976, 2}, {"CHE", 947, 2}, {"CHF", 756, 2},
    {"CHW", 948, 2}, {"CLF", 990, 4}, {"CLP", 152, 0}, {"CNY", 156, 2}, {"COP", 170, 2},
    {"COU", 970, 2}, {"CRC", 188, 2}, {"CUC", 931, 2}, {"CUP", 192, 2}, {"CVE", 132, 2},
    {"CZK", 203, 2}, {"DJF", 262, 0}, {"DKK", 208, 2}, {"DOP", 214, 2}, {"DZD", 12, 2},
    {"EGP", 818, 2}, {"ERN", 232, 2}, {"ETB", 230, 2}, {"EUR", 978, 2}, {"FJD", 242, 2},
    {"FKP", 238, 2}, {"GBP", 826, 2}, {"GEL", 981, 2}, {"GHS", 936, 2}, {"GIP", 292, 2},
    {"GMD", 270, 2}, {"GNF", 324, 0}, {"GTQ", 320, 2}, {"GYD", 328, 2}, {"HKD", 344, 2},
    {"HNL", 340, 2}, {"HTG", 332, 2}, {"HUF", 348, 2}, {"IDR", 360, 2}, {"ILS", 376, 2},
    {"INR", 356, 2}, {"IQD", 368, 3}, {"IRR", 364, 2}, {"ISK", 352, 0}, {"JMD", 388, 2},
    {"JOD", 400, 3}, {"JPY", 392, 0}, {"KES", 404, 2}, {"KGS", 417, 2}, {"KHR", 116, 2},
    {"KMF", 174, 0}, {"KPW", 408, 2}, {"KRW", 410, 0}, {"KWD", 414, 3}, {"KYD", 136, 2},
    {"KZT", 398, 2}, {"LAK", 418, 2}, {"LBP", 422, 2}, {"LKR", 144, 2}, {"LRD", 430, 2},
    {"LSL", 426, 2}, {"LYD", 434, 3}, {"MAD", 504, 2}, {"MDL", 498, 2}, {"MGA", 969, 2},
    {"MKD", 807, 2}, {"MMK", 104, 2}, {"MNT", 496, 2}, {"MOP", 446, 2}, {"MRU", 929, 2},
    {"MUR", 480, 2}, {"MVR", 462, 2}, {"MWK", 454, 2}, {"MXN", 484, 2}, {"MXV", 979, 2},
    {"MYR", 458, 2}, {"MZN", 943, 2}, {"NAD", 516, 2}, {"NGN", 566, 2}, {"NIO", 558, 2},
    {"NOK", 578, 2}, {"NPR", 524, 2}, {"NZD", 554, 2}, {"OMR", 512, 3}, {"PAB", 590, 2},
    {"PEN", 604, 2}, {"PGK", 598, 2}, {"PHP", 608, 2}, {"PKR", 586, 2}, {"PLN", 985, 2},
    {"PYG", 600, 0}, {"QAR", 634, 2}, {"RON", 946, 2}, {"RSD", 941, 2}, {"RUB", 643, 2},
    {"RWF", 646, 0}, {"SAR", 682, 2}, {"SBD", 90, 2},  {"SCR", 690, 2}, {"SDG", 938, 2},
    {"SEK", 752, 2}, {"SGD", 702, 2}, {"SHP", 654, 2}, {"SLE", 925, 2}, {"SLL", 694, 2},
    {"SOS", 706, 2}, {"SRD", 968, 2}, {"SSP", 728, 2}, {"STN", 930, 2}, {"SVC", 222, 2},
    {"SYP", 760, 2}, {"SZL", 748, 2}, {"THB", 764, 2}, {"TJS", 972, 2}, {"TMT", 934, 2},
    {"TND", 788, 3}, {"TOP", 776, 2}, {"TRY", 949, 2}, {"TTD", 780, 2}, {"TWD", 901, 2},
    {"TZS", 834, 2}, {"UAH", 980, 2}, {"UGX", 800, 0}, {"USD", 840, 2}, {"USN", 997, 2},
    {"UYI", 940, 0}, {"UYU", 858, 2}, {"UYW", 927, 4}, {"UZS", 860, 2}, {"VED", 926, 2},
    {"VES", 928, 2}, {"VND", 704, 0}, {"VUV", 548, 0}, {"WST", 882, 2}, {"XAF", 950, 0},
    {"XAG", 961, 0}, {"XAU", 959, 0}, {"XBA", 955, 0}, {"XBB", 956, 0}, {"XBC", 957, 0},
    {"XBD", 958, 0}, {"XCD", 951, 2}, {"XCG", 532, 2}, {"XDR", 960, 0}, {"XOF", 952, 0},
    {"XPD", 964, 0}, {"XPF", 953, 0}, {"XPT", 962, 0}, {"XSU", 994, 0}, {"XTS", 963, 0},
    {"XUA", 965, 0}, {"XXX", 999, 0}, {"YER", 886, 2}, {"ZAR", 710, 2}, {"ZMW", 967, 2},
    {"ZWG", 924, 2}, {"ZWL", 932, 2},
};

constexpr bool code_less(const char* a, const char* b) {
  for (int i = 0; i < 3; ++i) {
    if (a[i] != b[i]) return a[i] < b[i];
  }
  return false;
}

constexpr bool table_is_sorted() {
  for (std::size_t i = 1; i < std::size(kCurrencies); ++i) {
    if (!code_less(kCurrencies[i - 1].code, kCurrencies[i].code)) return false;
  }
  return true;
}
static_assert(table_is_sorted(), "kCurrencies must be sorted by code without duplicates");

bool is_three_upper(std::string_view code) noexcept {
  return code.size() == 3 &&
         std::all_of(code.begin(), code.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

const CurrencyRow* find_row(std::string_view code) noexcept {
  if (!is_three_upper(code)) return nullptr;
  const char key[3] = {code[0], code[1], code[2]};
  const auto* first = std::begin(kCurrencies);
  const auto* last = std::end(kCurrencies);
  const auto* it = std::lower_bound(
      first, last, key, [](const CurrencyRow& row, const char* k) { return code_less(row.code, k); });
  if (it == last || code_less(key, it->code)) return nullptr;
  return it;
}

}  // namespace

Currency::Currency(const char* code, int numeric, int minor_units) noexcept
    : code_{code[0], code[1], code[2]}, numeric_(numeric), minor_units_(minor_units) {}

namespace {

// ISO 4217 codes in the table that are not money (their minor unit is "N.A."), with why.
struct NotMoney {
  const char* code;
  const char* what;
};
constexpr NotMoney kNotMoney[] = {
    {"XAG", "silver"},
    {"XAU", "gold"},
    {"XBA", "a European bond-market unit (EURCO)"},
    {"XBB", "a European bond-market unit (E.M.U.-6)"},
    {"XBC", "a European bond-market unit (E.U.A.-9)"},
    {"XBD", "a European bond-market unit (E.U.A.-17)"},
    {"XDR", "the IMF special drawing right"},
    {"XPD", "palladium"},
    {"XPT", "platinum"},
    {"XSU", "the Sucre unit of account"},
    {"XTS", "reserved for testing"},
    {"XUA", "the ADB unit of account"},
    {"XXX", "no currency"},
};

const NotMoney* not_money(std::string_view code) noexcept {
  for (const NotMoney& n : kNotMoney)
    if (code == n.code) return &n;
  return nullptr;
}

}  // namespace

bool Currency::holds_money(std::string_view code) noexcept {
  return find_row(code) != nullptr && not_money(code) == nullptr;
}

void Currency::check_holds_money(std::string_view code, std::string_view field) {
  if (!is_three_upper(code)) {
    throw_invalid(field, quote_code(code) + " is not three upper-case letters");
  }
  if (find_row(code) == nullptr) {
    throw_invalid(field, quote_code(code) + " is not a known ISO 4217 currency code");
  }
  if (const NotMoney* n = not_money(code)) {
    throw_invalid(field, quote_code(code) + " cannot hold money (" + n->what + ")");
  }
}

Currency Currency::of(std::string_view code) {
  if (!is_three_upper(code)) {
    throw_invalid("currency", quote_code(code) + " is not three upper-case letters");
  }
  const CurrencyRow* row = find_row(code);
  if (row == nullptr) {
    throw_error(ErrorCode::not_found, "currency",
                quote_code(code) + " is not an ISO 4217 currency code");
  }
  return Currency(row->code, row->numeric, row->minor_units);
}

bool Currency::is_known(std::string_view code) noexcept { return find_row(code) != nullptr; }

std::vector<Currency> Currency::all() {
  std::vector<Currency> out;
  out.reserve(std::size(kCurrencies));
  for (const CurrencyRow& row : kCurrencies) {
    out.push_back(Currency(row.code, row.numeric, row.minor_units));
  }
  return out;
}

}  // namespace v0
}  // namespace crmkit
