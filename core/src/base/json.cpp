// parse_json_strict: nlohmann::json's parser with a callback that keeps, per open container, the
// set of keys seen so far (refusing a repeat) and the nesting depth (refusing more than the
// limit). nlohmann's lexer already refuses ill-formed UTF-8 (including overlong forms and
// unpaired surrogate escapes) and unescaped control characters; raw NUL bytes are refused here
// first. nlohmann's errors are reworded as "<what>: malformed JSON at byte N: ...".
//
// Also the JSON form of Money, with the same strict reading (and the same messages) as the
// records' JSON readers in core/src/records/detail.cpp.
#include "base/text.hpp"
#include "crmkit/base/json.hpp"

#include "crmkit/base/error.hpp"

#include <algorithm>
#include <string>
#include <unordered_set>
#include <vector>

namespace crmkit {
inline namespace v0 {
namespace {

std::string quoted_key(const std::string& key) {
  constexpr std::size_t kMax = 64;
  std::string out = "'";
  out.append(key.substr(0, kMax));
  if (key.size() > kMax) out.append("...");
  out.push_back('\'');
  return out;
}

// nlohmann's messages read "[json.exception.parse_error.101] parse error at line 1, column 5:
// syntax error ..."; keep the part after the position, which says what was wrong.
std::string parse_error_detail(const char* what) {
  std::string message(what);
  const std::size_t at = message.find("parse error");
  if (at != std::string::npos) {
    const std::size_t colon = message.find(": ", at);
    if (colon != std::string::npos) return message.substr(colon + 2);
  }
  const std::size_t bracket = message.find("] ");
  if (bracket != std::string::npos) return message.substr(bracket + 2);
  return message;
}

std::string child_path(std::string_view path, std::string_view key) {
  std::string out(path);
  if (!out.empty()) out += '.';
  out += key;
  return out;
}

[[noreturn]] void throw_json_type(const nlohmann::json& j, std::string_view path,
                                  std::string_view expected) {
  throw_invalid(path, "expected " + std::string(expected) + ", got " + j.type_name());
}

}  // namespace

nlohmann::json parse_json_strict(std::string_view text, std::string_view what,
                                 const JsonLimits& limits) {
  if (text.size() > limits.max_bytes) {
    throw_invalid(what, "JSON text is " + std::to_string(text.size()) +
                            " bytes, over the limit of " + std::to_string(limits.max_bytes));
  }
  // nlohmann's lexer takes a NUL byte for the end of input, so "[1]\0garbage" would parse as
  // [1]. A raw NUL is never valid JSON (inside strings control characters must be escaped).
  if (const std::size_t nul = text.find('\0'); nul != std::string_view::npos) {
    throw_invalid(what, "malformed JSON at byte " + std::to_string(nul + 1) +
                            ": NUL byte in the text");
  }
  // One entry per open container: the keys of an object so far (unused for arrays).
  std::vector<std::unordered_set<std::string>> open;
  const auto callback = [&](int /*depth*/, nlohmann::json::parse_event_t event,
                            nlohmann::json& parsed) -> bool {
    using E = nlohmann::json::parse_event_t;
    switch (event) {
      case E::object_start:
      case E::array_start:
        open.emplace_back();
        if (open.size() > limits.max_depth) {
          throw_invalid(what, "JSON nesting is deeper than " + std::to_string(limits.max_depth) +
                                  " levels");
        }
        break;
      case E::object_end:
      case E::array_end:
        if (!open.empty()) open.pop_back();
        break;
      case E::key:
        if (!open.empty()) {
          const std::string& key = parsed.get_ref<const std::string&>();
          if (!open.back().insert(key).second) {
            throw_invalid(what, "duplicate key " + quoted_key(key) + " in one JSON object");
          }
        }
        break;
      case E::value:
        break;
    }
    return true;
  };
  try {
    return nlohmann::json::parse(text.begin(), text.end(), callback);
  } catch (const nlohmann::json::parse_error& e) {
    throw_invalid(what, "malformed JSON at byte " + std::to_string(e.byte) + ": " +
                            parse_error_detail(e.what()));
  } catch (const nlohmann::json::exception& e) {
    // e.g. out_of_range 406 for a number literal too large for a double.
    throw_invalid(what, "malformed JSON: " + parse_error_detail(e.what()));
  }
}

nlohmann::json to_json(const Money& money) {
  return nlohmann::json{{"amount", money.amount_string()},
                        {"currency", std::string(money.currency().code())}};
}

Money money_from_json(const nlohmann::json& j, std::string_view field) {
  if (!j.is_object()) throw_json_type(j, field, "object");
  for (const auto& item : j.items()) {
    if (item.key() != "amount" && item.key() != "currency") {
      throw_invalid(child_path(field, item.key()), "unknown field");
    }
  }
  const std::string currency_path = child_path(field, "currency");
  const auto currency_it = j.find("currency");
  if (currency_it == j.end()) throw_invalid(currency_path, "required field missing");
  if (!currency_it->is_string()) throw_json_type(*currency_it, currency_path, "currency code string");
  const std::string& code = currency_it->get_ref<const std::string&>();
  Currency currency;  // XXX
  if (code != "XXX") {
    if (!Currency::is_known(code)) {
      throw_invalid(currency_path, "unknown currency " + detail::quote_text(code));
    }
    currency = Currency::of(code);
  }
  const std::string amount_path = child_path(field, "amount");
  const auto amount_it = j.find("amount");
  if (amount_it == j.end()) throw_invalid(amount_path, "required field missing");
  if (!amount_it->is_string()) throw_json_type(*amount_it, amount_path, "a decimal string");
  return Money::parse(amount_it->get_ref<const std::string&>(), currency, amount_path);
}

}  // namespace v0
}  // namespace crmkit
