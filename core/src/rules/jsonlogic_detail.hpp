// Private to the rules layer: JavaScript's number and text conversions, shared by loose mode
// (core/src/rules/jsonlogic.cpp) and RuleValue::to_json (core/src/rules/rule.cpp).
#pragma once

#include <string>
#include <string_view>

namespace crmkit {
inline namespace v0 {
namespace detail {

// JavaScript's String(x): "3", "0.5", "1e+21", "1e-7".
std::string js_number_to_string(double x);
// JavaScript's Number(text) restricted to decimal text (white space trimmed, "" is 0). False for
// anything else, or a result that is not finite.
bool js_text_to_number(std::string_view text, double& out);

}  // namespace detail
}  // namespace v0
}  // namespace crmkit
