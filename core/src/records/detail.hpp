// Private helpers of the records layer: text checks, enum tables and strict JSON readers.
// Not part of the public API.
#pragma once

#include "base/text.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "crmkit/base/error.hpp"
#include "crmkit/base/money.hpp"
#include "crmkit/base/time.hpp"

namespace crmkit {
inline namespace v0 {
namespace detail {

// quote_text and find_invalid_utf8 come from base/text.hpp (included above).

// `text` without leading and trailing ASCII white space.
std::string_view trim(std::string_view text) noexcept;

// "a, b, c".
std::string join_names(const char* const* names, std::size_t count);

// Enum names tables: the wire name of an enumerator is names[index].
template <class E, std::size_t N>
const char* enum_name(E value, const std::array<const char*, N>& names) noexcept {
  const auto i = static_cast<std::size_t>(value);
  return i < N ? names[i] : "unknown";
}

template <class E, std::size_t N>
E parse_enum(std::string_view text, std::string_view field, const char* noun,
             const std::array<const char*, N>& names) {
  for (std::size_t i = 0; i < N; ++i) {
    if (text == names[i]) return static_cast<E>(i);
  }
  std::string problem = "unknown ";
  problem += noun;
  problem += ' ';
  problem += quote_text(text);
  problem += " (expected one of: ";
  problem += join_names(names.data(), N);
  problem += ')';
  throw_invalid(field, problem);
}

// ---- strict JSON reading ----

// "a.b" (or "b" when `path` is empty) and "a[3]".
std::string child_path(std::string_view path, std::string_view key);
std::string index_path(std::string_view path, std::size_t index);

// A JSON object whose keys are checked against a fixed list on construction: a non-object or
// an unknown key throws Error{invalid_argument} ("customer.nickname: unknown field").
// `label` names the object itself in messages (defaults to `path`).
class JsonObject {
 public:
  JsonObject(const nlohmann::json& j, std::string path, std::initializer_list<std::string_view> keys,
             std::string label = {});

  // The value under `key`, or nullptr when absent.
  const nlohmann::json* find(std::string_view key) const;
  // The value under `key`; throws "<path>.<key>: required field missing" when absent.
  const nlohmann::json& require(std::string_view key) const;
  std::string path_of(std::string_view key) const { return child_path(path_, key); }
  const std::string& path() const noexcept { return path_; }

  // Readers for optional keys: leave `out` unchanged when the key is absent.
  void read(std::string_view key, std::string& out) const;
  void read(std::string_view key, bool& out) const;
  void read(std::string_view key, std::int64_t& out) const;
  void read(std::string_view key, std::int32_t& out) const;
  void read(std::string_view key, Timestamp& out) const;

 private:
  const nlohmann::json& j_;
  std::string path_;
};

// Throws "<path>: expected <expected>, got <type>".
[[noreturn]] void throw_json_type(const nlohmann::json& j, std::string_view path,
                                  std::string_view expected);

std::string read_string(const nlohmann::json& j, std::string_view path);
bool read_bool(const nlohmann::json& j, std::string_view path);
// JSON integers only: 1.5 and 1e3 are refused; values outside [lo, hi] too.
std::int64_t read_integer(const nlohmann::json& j, std::string_view path, std::int64_t lo,
                          std::int64_t hi);
std::int64_t read_int64(const nlohmann::json& j, std::string_view path);
int read_int(const nlohmann::json& j, std::string_view path);
Timestamp read_timestamp(const nlohmann::json& j, std::string_view path);
Date read_date(const nlohmann::json& j, std::string_view path);
const nlohmann::json& require_array(const nlohmann::json& j, std::string_view path);
// The currency named by a JSON string; unknown codes are Error{invalid_argument} here.
Currency read_currency(const nlohmann::json& j, std::string_view path);

}  // namespace detail
}  // namespace v0
}  // namespace crmkit
