// Private: text helpers shared by every layer's error messages.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace crmkit {
inline namespace v0 {
namespace detail {

// `text` in single quotes for an error message: at most `max_bytes` bytes of it (then "..."),
// bytes outside printable ASCII written as \xNN and a backslash doubled, so a hostile value can
// neither garble nor flood the message.
std::string quote_text(std::string_view text, std::size_t max_bytes = 64);

// Shorter limits for values a person types (dates, amounts: 48 bytes) and for codes
// (currencies: 16 bytes).
inline std::string quote_value(std::string_view text) { return quote_text(text, 48); }
inline std::string quote_code(std::string_view text) { return quote_text(text, 16); }

// The offset of the first byte that is not part of valid UTF-8 (overlong forms, surrogates,
// code points above U+10FFFF and truncated sequences are invalid), or npos.
std::size_t find_invalid_utf8(std::string_view text) noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace crmkit
