// Private: the lifecycle layer's one use of the rules layer (crmkit/rules/rules.hpp). A machine's
// `when` rules are compiled once and evaluated per row or over a set of rows of a FactTable whose
// schema is the one they were compiled against.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "crmkit/rules/rules.hpp"

#include "crmkit/rules/facts.hpp"

namespace crmkit {
inline namespace v0 {
namespace detail {

class CompiledRule {
 public:
  // Compiles `rule` in strict mode against `schema`. Throws Error{invalid_argument} whose
  // message starts with `path` extended to the offending operand ("transitions[3].when.and[1]").
  CompiledRule(const nlohmann::json& rule, const FactSchema& schema, const std::string& path);

  // Precondition: table.schema() is the compile schema; row < table.rows().
  bool holds(const FactTable& table, std::size_t row) const;
  // out[r] = holds(table, r) for every row (out has table.rows() elements). Columns at a time.
  void holds_all(const FactTable& table, std::span<std::uint8_t> out) const;
  // out[i] = holds(table, first + i), columns at a time, reading the table in place.
  void holds_rows(const FactTable& table, std::size_t first, std::span<std::uint8_t> out) const;
  // True if the rule reads `stage` or `days_in_stage` (its result changes when a row moves).
  bool reads_engine_facts() const noexcept;

 private:
  Rule rule_;
  bool reads_engine_ = false;
};

}  // namespace detail
}  // namespace v0
}  // namespace crmkit
