#include "base/text.hpp"

#include <algorithm>
#include <cstdint>

namespace crmkit {
inline namespace v0 {
namespace detail {

std::size_t find_invalid_utf8(std::string_view text) noexcept {
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07u;
    } else {
      return i;  // a continuation byte, an overlong two-byte lead (C0, C1) or F5..FF
    }
    if (n - i < len) return i;
    for (std::size_t k = 1; k < len; ++k) {
      const auto d = static_cast<unsigned char>(text[i + k]);
      if ((d & 0xC0u) != 0x80u) return i;
      cp = (cp << 6) | (d & 0x3Fu);
    }
    if (len == 3 && cp < 0x800) return i;                          // overlong
    if (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) return i;     // overlong or too large
    if (cp >= 0xD800 && cp <= 0xDFFF) return i;                    // UTF-16 surrogate
    i += len;
  }
  return std::string_view::npos;
}

std::string quote_text(std::string_view text, std::size_t max_bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "'";
  const std::size_t shown = std::min(text.size(), max_bytes);
  for (std::size_t i = 0; i < shown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      out += static_cast<char>(c);
    } else if (c == '\\') {
      out += "\\\\";
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0x0F];
    }
  }
  if (shown < text.size()) out += "...";
  out += '\'';
  return out;
}

}  // namespace detail
}  // namespace v0
}  // namespace crmkit
