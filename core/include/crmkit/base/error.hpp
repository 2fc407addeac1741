// crmkit/base/error.hpp: the one exception type crmkit throws, and its codes.
//
// Every fallible crmkit call reports failure by throwing crmkit::Error. The message names the
// field and the problem ("purchase.amount: 12.345 has more decimals than USD allows (2)"), so it
// can be shown to the person who supplied the input. A call that throws changes nothing: no
// partial write reaches a Store, and an object passed by reference is left as it was.
//
// Thread-safety: Error is an immutable value; copies may be used from any thread.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace crmkit {
inline namespace v0 {

// What kind of failure an Error reports. The Python package maps each code to one exception
// class under crmkit.CrmkitError (see python/crmkit/errors.py); keep the two lists in step.
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

// The stable lower-case name of a code ("invalid_argument", ...), as used in the Python mapping.
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
