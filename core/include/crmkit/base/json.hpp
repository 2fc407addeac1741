// crmkit/base/json.hpp: strict JSON input, shared by every crmkit entry point that reads JSON.
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

}  // namespace v0
}  // namespace crmkit
