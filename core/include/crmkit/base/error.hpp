// crmkit/base/error.hpp: the one exception type crmkit throws, and its codes.
//
// Every fallible crmkit call reports failure by throwing crmkit::Error. The message names the
// field and the problem ("purchase.amount: 12.345 has more decimals than USD allows (2)"), so it
// can be shown to the person who supplied the input. A call that throws changes nothing: no
// partial write reaches a Store, and an object passed by reference is left as it was.
//
// Thread-safety: Error is an immutable value; copies may be used from any thread.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace crmkit {
inline namespace v0 {

// What kind of failure an Error reports. The Python package maps each code to one exception
// class under crmkit.CrmkitError (see python/crmkit/errors.py), checked against all_error_codes
// (below) when crmkit is imported.
enum class ErrorCode {
  invalid_argument,    // the input is malformed or breaks a rule; ValidationError (ValueError)
  not_found,           // a customer, event, field or currency that does not exist; NotFoundError (KeyError)
  conflict,            // a duplicate key or a write that contradicts stored state; ConflictError
  suppressed,          // the input matches an erased customer's suppression hash; SuppressedError
  invalid_transition,  // a lifecycle move the state machine does not allow; InvalidTransitionError
  consent_required,    // a contact without the customer's consent; ConsentRequiredError
  overflow,            // an amount outside the exact range (+-(2^128-1) minor units); MoneyOverflowError
  storage,             // SQLite or the file system failed (I/O, busy, full disk); StorageError (OSError)
  corrupt,             // the store file or an import is damaged or from an unknown schema; CorruptError
};

// A code and its stable lower-case name.
struct ErrorCodeName {
  ErrorCode code;
  const char* name;
};

// Every ErrorCode with its name, in enumerator order: the one list of the codes. to_string reads
// it, the Python binding exposes it (crmkit._core.error_codes()), crmkit.errors checks its classes
// against it at import, and the tests walk it. A new code goes here too; the static_assert below
// fails to compile until it does.
inline constexpr ErrorCodeName all_error_codes[] = {
    {ErrorCode::invalid_argument, "invalid_argument"},
    {ErrorCode::not_found, "not_found"},
    {ErrorCode::conflict, "conflict"},
    {ErrorCode::suppressed, "suppressed"},
    {ErrorCode::invalid_transition, "invalid_transition"},
    {ErrorCode::consent_required, "consent_required"},
    {ErrorCode::overflow, "overflow"},
    {ErrorCode::storage, "storage"},
    {ErrorCode::corrupt, "corrupt"},
};

namespace detail {
#pragma GCC diagnostic push
#pragma GCC diagnostic error "-Wswitch"
// True for the enumerators of ErrorCode. Every enumerator needs a case (-Wswitch is an error
// here), so a new code cannot be added to the enum without the compiler asking for it.
constexpr bool is_error_code(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::invalid_argument:
    case ErrorCode::not_found:
    case ErrorCode::conflict:
    case ErrorCode::suppressed:
    case ErrorCode::invalid_transition:
    case ErrorCode::consent_required:
    case ErrorCode::overflow:
    case ErrorCode::storage:
    case ErrorCode::corrupt:
      return true;
  }
  return false;
}
#pragma GCC diagnostic pop

// all_error_codes lists the enumerators 0, 1, ... in order, and the value after its last entry is
// no enumerator: so it lists every code, once.
constexpr bool all_error_codes_cover_the_enum() noexcept {
  constexpr std::size_t n = sizeof(all_error_codes) / sizeof(all_error_codes[0]);
  for (std::size_t i = 0; i < n; ++i)
    if (static_cast<std::size_t>(all_error_codes[i].code) != i) return false;
  return !is_error_code(static_cast<ErrorCode>(n));
}
}  // namespace detail

static_assert(detail::all_error_codes_cover_the_enum(),
              "all_error_codes must list every ErrorCode, in enumerator order");

// The stable lower-case name of a code ("invalid_argument", ...) from all_error_codes, as used in
// the Python mapping; "unknown" for a value that is no ErrorCode.
const char* to_string(ErrorCode code) noexcept;

// The exception crmkit throws. Derives from std::runtime_error, so a host that catches
// std::exception sees it; what() is the full message.
class __attribute__((visibility("default"))) Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message);

  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

// Shorthands used across the library: throw an Error whose message is "<field>: <problem>".
[[noreturn]] void throw_invalid(std::string_view field, std::string_view problem);
[[noreturn]] void throw_error(ErrorCode code, std::string_view field, std::string_view problem);

}  // namespace v0
}  // namespace crmkit
