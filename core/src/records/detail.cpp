#include "records/detail.hpp"

#include <algorithm>
#include <limits>

namespace crmkit {
inline namespace v0 {
namespace detail {

std::string_view trim(std::string_view text) noexcept {
  constexpr std::string_view ws = " \t\r\n\f\v";
  const auto b = text.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  const auto e = text.find_last_not_of(ws);
  return text.substr(b, e - b + 1);
}

std::string join_names(const char* const* names, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    if (i != 0) out += ", ";
    out += names[i];
  }
  return out;
}

std::string child_path(std::string_view path, std::string_view key) {
  std::string out(path);
  if (!out.empty()) out += '.';
  out += key;
  return out;
}

std::string index_path(std::string_view path, std::size_t index) {
  std::string out(path);
  out += '[';
  out += std::to_string(index);
  out += ']';
  return out;
}

void throw_json_type(const nlohmann::json& j, std::string_view path, std::string_view expected) {
  std::string problem = "expected ";
  problem += expected;
  problem += ", got ";
  problem += j.type_name();
  throw_invalid(path, problem);
}

JsonObject::JsonObject(const nlohmann::json& j, std::string path,
                       std::initializer_list<std::string_view> keys, std::string label)
    : j_(j), path_(std::move(path)) {
  if (!j.is_object()) throw_json_type(j, label.empty() ? path_ : label, "object");
  for (const auto& item : j.items()) {
    const std::string& key = item.key();
    if (std::find(keys.begin(), keys.end(), std::string_view(key)) == keys.end()) {
      throw_invalid(child_path(path_, key), "unknown field");
    }
  }
}

const nlohmann::json* JsonObject::find(std::string_view key) const {
  const auto it = j_.find(std::string(key));
  return it == j_.end() ? nullptr : &*it;
}

const nlohmann::json& JsonObject::require(std::string_view key) const {
  const nlohmann::json* v = find(key);
  if (v == nullptr) throw_invalid(path_of(key), "required field missing");
  return *v;
}

void JsonObject::read(std::string_view key, std::string& out) const {
  if (const auto* v = find(key)) out = read_string(*v, path_of(key));
}

void JsonObject::read(std::string_view key, bool& out) const {
  if (const auto* v = find(key)) out = read_bool(*v, path_of(key));
}

void JsonObject::read(std::string_view key, std::int64_t& out) const {
  if (const auto* v = find(key)) out = read_int64(*v, path_of(key));
}

void JsonObject::read(std::string_view key, std::int32_t& out) const {
  if (const auto* v = find(key)) {
    out = static_cast<std::int32_t>(read_integer(*v, path_of(key),
                                                 std::numeric_limits<std::int32_t>::min(),
                                                 std::numeric_limits<std::int32_t>::max()));
  }
}

void JsonObject::read(std::string_view key, Timestamp& out) const {
  if (const auto* v = find(key)) out = read_timestamp(*v, path_of(key));
}

std::string read_string(const nlohmann::json& j, std::string_view path) {
  if (!j.is_string()) throw_json_type(j, path, "string");
  return j.get_ref<const std::string&>();
}

bool read_bool(const nlohmann::json& j, std::string_view path) {
  if (!j.is_boolean()) throw_json_type(j, path, "boolean");
  return j.get<bool>();
}

std::int64_t read_integer(const nlohmann::json& j, std::string_view path, std::int64_t lo,
                          std::int64_t hi) {
  if (j.is_number_float()) {
    throw_invalid(path, "expected integer, got a number with a fraction or exponent");
  }
  if (!j.is_number_integer()) throw_json_type(j, path, "integer");
  bool in_range = true;
  std::int64_t value = 0;
  if (j.is_number_unsigned()) {
    const auto u = j.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      in_range = false;
    } else {
      value = static_cast<std::int64_t>(u);
    }
  } else {
    value = j.get<std::int64_t>();
  }
  if (!in_range || value < lo || value > hi) {
    throw_invalid(path, "integer " + j.dump() + " is out of range [" + std::to_string(lo) + ", " +
                            std::to_string(hi) + "]");
  }
  return value;
}

std::int64_t read_int64(const nlohmann::json& j, std::string_view path) {
  return read_integer(j, path, std::numeric_limits<std::int64_t>::min(),
                      std::numeric_limits<std::int64_t>::max());
}

int read_int(const nlohmann::json& j, std::string_view path) {
  return static_cast<int>(
      read_integer(j, path, std::numeric_limits<int>::min(), std::numeric_limits<int>::max()));
}

Timestamp read_timestamp(const nlohmann::json& j, std::string_view path) {
  if (!j.is_string()) throw_json_type(j, path, "ISO 8601 timestamp string");
  return Timestamp::parse(j.get_ref<const std::string&>(), path);
}

Date read_date(const nlohmann::json& j, std::string_view path) {
  if (!j.is_string()) throw_json_type(j, path, "date string (YYYY-MM-DD)");
  return Date::parse(j.get_ref<const std::string&>(), path);
}

const nlohmann::json& require_array(const nlohmann::json& j, std::string_view path) {
  if (!j.is_array()) throw_json_type(j, path, "array");
  return j;
}

Currency read_currency(const nlohmann::json& j, std::string_view path) {
  if (!j.is_string()) throw_json_type(j, path, "currency code string");
  const std::string& code = j.get_ref<const std::string&>();
  if (code == "XXX") return Currency{};
  if (!Currency::is_known(code)) throw_invalid(path, "unknown currency " + quote_text(code));
  return Currency::of(code);
}

}  // namespace detail
}  // namespace v0
}  // namespace crmkit
