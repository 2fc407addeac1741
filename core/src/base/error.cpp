#include "crmkit/base/error.hpp"

#include <string>

namespace crmkit {
inline namespace v0 {

const char* to_string(ErrorCode code) noexcept {
  for (const ErrorCodeName& entry : all_error_codes)
    if (entry.code == code) return entry.name;
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
