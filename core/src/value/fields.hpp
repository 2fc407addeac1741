// Private helpers of the value layer for error messages: the name of a column's row and the
// exact text of a number. Not installed.
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>

namespace crmkit {
inline namespace v0 {
namespace detail {

// "<name>[<i>]": the field of row i of a column, as error messages name it ("frequency[3]").
inline std::string row_field(std::string_view name, std::size_t i) {
  return std::string(name) + "[" + std::to_string(i) + "]";
}

// v with 17 significant digits (%.17g), so the text reads back as the same double.
inline std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace detail
}  // namespace v0
}  // namespace crmkit
