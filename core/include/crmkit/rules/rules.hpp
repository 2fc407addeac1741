// crmkit/rules/rules.hpp: JSON Logic rules, in two modes (docs/rules.md is the full guide).
//
// Loose mode is standard JSON Logic (jsonlogic.com and the newer core of json-logic/compat-tables:
// val, exists, ??, throw/try, errors on NaN and on bad arguments): jsonlogic_apply takes any rule
// and any JSON data and returns JSON. It passes every case of the conformance suites in
// tests/data/jsonlogic. Errors that JSON Logic defines as values ({"type": "NaN"},
// {"type": "Invalid Arguments"}, what `throw` throws) are thrown as JsonLogicError, which carries
// that error object; a rule that is not JSON Logic at all (unknown operator) is an Error.
//
// Strict mode is for crmkit's own rules (lifecycle transitions, segments): a Rule is compiled once
// from JSON text against a FactSchema (crmkit/rules/facts.hpp) and then evaluated per row of a
// FactTable, or over all its rows at once, column by column. Compiling checks everything that
// can be checked without data, and every load error names its JSON path:
//   "<prefix>.and[1]: unknown fact 'x'"          an operator's i-th argument is ".op[i]"; an
//   "<prefix>.!: unknown operator 'nope'"        argument that is not an array is ".op"
//
// Strict typing (each expression has one static type; mixing is a load error):
//   - {"var": "name"} / {"val": "name"} reads a declared fact, with its declared type; a dotted
//     name is one fact ("consent.email"); {"val": ["consent", "email"]} joins its parts with '.'.
//     {"var": ["name", default]} gives `default` (same type) when the fact is missing.
//   - literals: integer, number, bool, text; a text literal "YYYY-MM-DD" where a date is expected
//     (compared with, or defaulting, a date) is that date; arrays of text or of numbers only as
//     the second argument of `in`.
//   - integer and number mix (integers are widened); date only with date; text only with text;
//     bool only with bool (== and != only: bools have no order); list of text only in `in`,
//     some/all/none and truthiness. Comparing with the literal null is refused: use exists/??.
//   - arithmetic + - * / % min max on integers and numbers (integers stay integers, except /);
//     date - date is an integer (days), date + integer and date - integer are dates.
//   - and, or, !, !! and the conditions of if/?: take any type by truthiness (0, "", an empty
//     list and a missing value are false); and/or always give a bool in strict mode.
//
// Missing values: a fact cell may be missing (FactTable::present). Then:
//   - any comparison (== != === !== < <= > >=, in, some/all/none) with a missing operand is
//     false, never JSON Logic's null-is-zero (`null < 1` is true there, false here);
//   - `!` is plain negation of truthiness, so {"!": {"<": [x, 5]}} is true when x is missing
//     (while {">=": [x, 5]} is false);
//   - arithmetic with a missing operand is missing, and so is a result that is not finite or
//     overflows 64-bit integers (division or modulo by zero);
//   - {"exists": "x"} is true when x has a value, {"??": [a, b, ...]} is the first present value,
//     {"missing": [...]} lists the named facts that are missing, {"missing_some": [n, [...]]} too
//     unless at least n are present.
// Evaluation never throws for data reasons: strict rules have no runtime errors.
//
// Thread-safety: Rule is an immutable value after compile; any number of threads may evaluate one
// Rule at once (each call uses its own scratch space). jsonlogic_apply has no shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crmkit/base/error.hpp"
#include "crmkit/rules/facts.hpp"

namespace crmkit {
inline namespace v0 {

// ---- loose mode: standard JSON Logic ----

// A JSON Logic error value raised while a loose rule runs: {"type": "NaN"} (a value that is not
// a number in arithmetic or comparison, a division by zero), {"type": "Invalid Arguments"}
// (wrong argument count or kind), or whatever `throw` threw ({"throw": "x"} raises
// {"type": "x"}; a thrown object is raised as it is). code() is ErrorCode::invalid_argument;
// what() is "<what>: JSON Logic error <error_json()>".
class __attribute__((visibility("default"))) JsonLogicError : public Error {
 public:
  JsonLogicError(std::string error_json, std::string type, std::string_view what);

  // The error object as compact JSON text: {"type":"NaN"}.
  const std::string& error_json() const noexcept { return error_json_; }
  // Its "type" member when that is a string ("NaN", "Invalid Arguments", "hello"); otherwise
  // the member's JSON text, or "" when the object has none.
  const std::string& type() const noexcept { return type_; }

 private:
  std::string error_json_;
  std::string type_;
};

// Applies a JSON Logic rule (JSON text) to data (JSON text) and returns the result as compact JSON
// text. Numbers that are whole and within +-2^53 are written as integers ("3", not "3.0").
// Throws Error{invalid_argument} starting with "rule: " / "data: " for malformed JSON and
// "rule.<path>: unknown operator '...'" for an object of one key that names no operator (checked
// before anything runs); JsonLogicError for the JSON Logic errors above.
std::string jsonlogic_apply(std::string_view rule_json, std::string_view data_json = "null");

// ---- strict mode: compiled rules over fact tables ----

// The value of a rule for one row (Rule::evaluate).
struct RuleValue {
  FactType type = FactType::boolean;  // the rule's static type (Rule::result_type)
  bool present = false;               // false: the value is missing (e.g. an absent fact)
  bool boolean = false;               // type boolean
  std::int64_t integer = 0;           // type integer, and date (days since 1970-01-01)
  double number = 0.0;                // type number
  std::string text;                   // type text
  std::vector<std::string> texts;     // type text_list (also what `missing` returns)

  // The value as compact JSON: null when missing, a date as "YYYY-MM-DD", a list as an array.
  std::string to_json() const;
};

struct RuleOptions {
  // Prefix of the JSON path in load errors ("transitions[3].when"); "rule" by default. Empty:
  // paths start at the first operator ("and[1]: ...").
  std::string path = "rule";
};

namespace detail {
struct RuleProgram;
struct RuleAccess;
}  // namespace detail

// A strict JSON Logic rule compiled against a FactSchema.
class Rule {
 public:
  // A rule that is always true and reads no fact (so a default-constructed Rule is usable).
  Rule();

  // Parses (parse_json_strict limits: depth 32, 16 MiB), type-checks and compiles `json_text`
  // against `schema`. Throws Error{invalid_argument} whose message starts with the JSON path
  // (options.path + ".op[i]"...) for malformed JSON, an unknown operator, an operator strict mode
  // does not support (cat, substr, merge, map, filter, reduce, throw, try, preserve), an unknown
  // fact, a wrong argument count, or a type error (see the header comment). Nothing is kept on
  // failure.
  static Rule compile(std::string_view json_text, const FactSchema& schema,
                      const RuleOptions& options = {});

  // The truthiness of the rule's value for `row` (a missing value is false).
  // Preconditions, checked: `facts` holds every fact the rule reads under the same name and type
  // at the same slot as the schema it was compiled against (Error{invalid_argument} naming the
  // fact otherwise) and row < facts.rows() (Error{not_found}).
  bool test(const FactTable& facts, std::size_t row) const;

  // The rule's value for `row` (same preconditions as test).
  RuleValue evaluate(const FactTable& facts, std::size_t row) const;

  // test() for every row, evaluated a block of rows at a time over the fact columns: element i is
  // 1 when the rule holds for row i, else 0. Same precondition on `facts` as test.
  std::vector<std::uint8_t> test_all(const FactTable& facts) const;
  // The same into `out`, which must have facts.rows() elements (Error{invalid_argument} if not).
  void test_all(const FactTable& facts, std::span<std::uint8_t> out) const;
  // test() for the rows first, first + 1, ..., first + out.size() - 1 of `facts`, the same way:
  // out[i] = 1 when the rule holds for row first + i, else 0. Reads the table in place (no copy),
  // so callers may split one table into row ranges (e.g. one per thread). Same precondition on
  // `facts` as test; Error{invalid_argument} if the range is not inside the table (first +
  // out.size() > facts.rows()). An empty `out` does nothing (after the schema check).
  void test_rows(const FactTable& facts, std::size_t first, std::span<std::uint8_t> out) const;

  // The slots of the facts the rule reads, ascending, each once: compute only these.
  const std::vector<std::size_t>& dependencies() const noexcept;
  // Their names, in the same order.
  std::vector<std::string> dependency_names() const;
  // The schema the rule was compiled against.
  const FactSchema& schema() const noexcept;
  // The static type of the rule's value (boolean for comparisons and logic).
  FactType result_type() const noexcept;
  // The rule's JSON text as compiled (compact).
  const std::string& source() const noexcept;

 private:
  friend struct detail::RuleAccess;
  std::shared_ptr<const detail::RuleProgram> program_;
};

}  // namespace v0
}  // namespace crmkit
