// Private to the rules layer: JavaScript's number and text conversions, shared by loose mode
// (core/src/rules/jsonlogic.cpp) and RuleValue::to_json (core/src/rules/rule.cpp), and the check
// of JSON values a host built itself.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace crmkit {
inline namespace v0 {
namespace detail {

// JavaScript's String(x): "3", "0.5", "1e+21", "1e-7".
std::string js_number_to_string(double x);
// JavaScript's Number(text) restricted to decimal text (white space trimmed, "" is 0). False for
// anything else, or a result that is not finite.
bool js_text_to_number(std::string_view text, double& out);

// The checks parse_json_strict makes on JSON text, made on a JSON value a C++ host built itself
// (jsonlogic_apply_json, compile_rule): containers nested no deeper than `max_depth`, every
// string and key valid UTF-8, every number finite (JSON text has no NaN or infinity). It walks
// the value with an explicit stack, so a value nested 100,000 deep is refused without deep
// recursion. Throws Error{invalid_argument} whose message starts with `what`.
void check_json_value(const nlohmann::json& value, std::string_view what, std::size_t max_depth);

}  // namespace detail
}  // namespace v0
}  // namespace crmkit
