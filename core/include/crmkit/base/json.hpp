// crmkit/base/json.hpp: strict JSON input, shared by every crmkit entry point that reads JSON,
// and the JSON form of Money.
//
// Opt-in: this header includes <nlohmann/json.hpp> and crmkit/crmkit.hpp does not include it.
// A host that works with nlohmann::json values includes crmkit/json.hpp (this header and
// crmkit/records/json.hpp); a host without nlohmann/json reads JSON text with
// customer_from_json_text (crmkit/records/customer.hpp) and event_from_json_text
// (crmkit/records/event.hpp), which need nothing but the text.
//
// crmkit reads JSON from untrusted sources (API payloads, JSON Lines imports), so parsing is
// stricter than nlohmann::json's default: invalid UTF-8, duplicate keys in one object and nesting
// deeper than a limit are all refused with Error{invalid_argument}, and the message says where.
//
// Thread-safety: free functions without shared state.
#pragma once

#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

#include "crmkit/base/money.hpp"

namespace crmkit {
inline namespace v0 {

// Parse limits; the defaults suit customer records and events.
struct JsonLimits {
  std::size_t max_depth = 32;           // objects/arrays nested deeper than this are refused
  std::size_t max_bytes = 16u << 20;    // longer text is refused before parsing (16 MiB)
};

// Parses one JSON document. Throws Error{invalid_argument} whose message starts with `what`
// ("customer: ...") for malformed JSON, invalid UTF-8, a duplicate key (naming it), nesting
// deeper than limits.max_depth, or text longer than limits.max_bytes.
nlohmann::json parse_json_strict(std::string_view text, std::string_view what = "json",
                                 const JsonLimits& limits = {});

// Money in JSON is {"amount": "12.34", "currency": "USD"}: the amount a decimal string with
// exactly the currency's minor-unit digits (Money::amount_string), never a JSON number.
nlohmann::json to_json(const Money& money);
// Reads that form strictly. Throws Error{invalid_argument} naming the path (`field`, then
// "<field>.amount" / "<field>.currency") for a non-object, an unknown or missing key, a
// non-string amount or currency, an unknown currency code ("XXX" is accepted) and for an amount
// that is malformed or has more decimals than the currency allows; Error{overflow} for an amount
// out of range.
Money money_from_json(const nlohmann::json& j, std::string_view field = "amount");

}  // namespace v0
}  // namespace crmkit
