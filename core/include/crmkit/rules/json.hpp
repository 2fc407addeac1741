// crmkit/rules/json.hpp: the nlohmann::json forms of the JSON Logic calls of
// crmkit/rules/rules.hpp. Opt-in: included by crmkit/json.hpp, not by crmkit/crmkit.hpp.
//
// Thread-safety: free functions without shared state.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "crmkit/rules/facts.hpp"
#include "crmkit/rules/rules.hpp"

namespace crmkit {
inline namespace v0 {

// jsonlogic_apply on values: applies the loose (standard) JSON Logic `rule` to `data`. The values
// are held to the limits of the text form before anything walks them: Error{invalid_argument}
// "rule: ..." / "data: ..." for nesting deeper than 32 (rule) or 256 (data) levels, a string or
// key that is not valid UTF-8, or a number that is NaN or infinite. Throws
// Error{invalid_argument} "rule.<path>: unknown operator '...'" before running anything, and
// JsonLogicError for the JSON Logic errors (see rules.hpp). Whole numbers within +-2^53 in the
// result are integers.
nlohmann::json jsonlogic_apply_json(const nlohmann::json& rule, const nlohmann::json& data);

// The error object a JsonLogicError carries ({"type": "NaN"}), parsed.
nlohmann::json jsonlogic_error_value(const JsonLogicError& error);

// Rule::compile from a JSON value instead of text (same checks and errors; the value is held to
// parse_json_strict's limits first: nesting at most 32 levels, UTF-8 strings and keys, finite
// numbers, else Error{invalid_argument} starting with options.path).
Rule compile_rule(const nlohmann::json& rule, const FactSchema& schema,
                  const RuleOptions& options = {});

}  // namespace v0
}  // namespace crmkit
