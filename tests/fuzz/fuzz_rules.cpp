// Fuzz target: JSON Logic rules (crmkit/rules/rules.hpp). The input is a rule, optionally
// followed by a newline and a data document: "<rule>\n<data>". The rule is
//   - compiled as a strict typed Rule against a fixed fact schema (every fact type) and run on a
//     fixed four-row table (values, missing values, extremes), row by row and by column, and
//   - applied as a JSON Logic rule (jsonlogic_apply) to the data (null when absent).
// Properties: only crmkit::Error (JsonLogicError is one) is thrown; evaluating row by row agrees
// with test_all and test_rows.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "crmkit/crmkit.hpp"
#include "fuzz_support.hpp"

using namespace crmkit;
using crmkit_fuzz::require;

namespace {

FactSchema schema() {
  FactSchema s;
  s.add("purchase_count", FactType::integer);
  s.add("net_revenue", FactType::number);
  s.add("segment", FactType::text);
  s.add("consent", FactType::boolean);
  s.add("signup", FactType::date);
  s.add("tags", FactType::text_list);
  s.add("days_since_last_purchase", FactType::integer);
  return s;
}

FactTable table() {
  FactTable t(schema(), 4);
  // Row 0: ordinary values, two missing.
  t.set_integer(0, 0, 3);
  t.set_number(0, 1, 120.5);
  t.set_text(0, 2, "champions");
  t.set_date(0, 4, 19783);  // 2024-03-01
  t.set_text_list(0, 5, {"vip", "b2b"});
  // Row 1: everything missing.
  for (std::size_t slot = 0; slot < 7; ++slot) t.set_missing(1, slot);
  // Row 2: extremes.
  t.set_integer(2, 0, std::numeric_limits<std::int64_t>::max());
  t.set_number(2, 1, -std::numeric_limits<double>::max());
  t.set_text(2, 2, "");
  t.set_boolean(2, 3, true);
  t.set_date(2, 4, -719162);  // 0001-01-01
  t.set_text_list(2, 5, {});
  t.set_integer(2, 6, std::numeric_limits<std::int64_t>::min());
  // Row 3: zeros and a denormal.
  t.set_integer(3, 0, 0);
  t.set_number(3, 1, std::numeric_limits<double>::denorm_min());
  t.set_text(3, 2, "at_risk");
  t.set_boolean(3, 3, false);
  t.set_date(3, 4, 2932896);  // 9999-12-31
  t.set_text_list(3, 5, {"", "vip", "vip"});
  t.set_integer(3, 6, -1);
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const FactTable facts = table();
  const std::string_view input = crmkit_fuzz::as_text(data, size);
  const std::size_t nl = input.find('\n');
  const std::string_view rule_text = input.substr(0, nl);
  const std::string_view data_text = nl == std::string_view::npos ? std::string_view("null")
                                                                   : input.substr(nl + 1);
  try {
    const Rule rule = Rule::compile(rule_text, facts.schema());
    (void)rule.dependency_names();
    std::vector<std::uint8_t> rows;
    for (std::size_t row = 0; row < facts.rows(); ++row) {
      (void)rule.evaluate(facts, row).to_json();
      rows.push_back(rule.test(facts, row) ? 1 : 0);
    }
    {
      require(rule.test_all(facts) == rows, "test_all agrees with test row by row",
              std::string(rule_text));
      std::vector<std::uint8_t> tail(facts.rows() - 1);
      rule.test_rows(facts, 1, tail);
      require(std::vector<std::uint8_t>(rows.begin() + 1, rows.end()) == tail,
              "test_rows agrees with test row by row", std::string(rule_text));
    }
  } catch (const Error&) {
  }
  try {
    (void)jsonlogic_apply(rule_text, data_text);
  } catch (const Error&) {
  }
  return 0;
}
