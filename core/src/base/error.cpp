#include "crmkit/base/error.hpp"

#include <string>

namespace crmkit {
inline namespace v0 {

const char* to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::invalid_argument: return "invalid_argument";
    case ErrorCode::not_found: return "not_found";
    case ErrorCode::conflict: return "conflict";
    case ErrorCode::suppressed: return "suppressed";
    case ErrorCode::invalid_transition: return "invalid_transition";
    case ErrorCode::consent_required: return "consent_required";
    case ErrorCode::overflow: return "overflow";
    case ErrorCode::storage: return "storage";
    case ErrorCode::corrupt: return "corrupt";
  }
  return "unknown";
}

Error::Error(ErrorCode code, const std::string& message)
    : std::runtime_error(message), code_(code) {}

void throw_invalid(std::string_view field, std::string_view problem) {
  throw_error(ErrorCode::invalid_argument, field, problem);
}

void throw_error(ErrorCode code, std::string_view field, std::string_view problem) {
  std::string message;
  message.reserve(field.size() + problem.size() + 2);
  message.append(field);
  if (!field.empty()) message.append(": ");
  message.append(problem);
  throw Error(code, message);
}

}  // namespace v0
}  // namespace crmkit
