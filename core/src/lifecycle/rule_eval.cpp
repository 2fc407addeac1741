// CompiledRule: a strict JSON Logic Rule (crmkit/rules/rules.hpp) as the machines use it.
#include "lifecycle/rule_eval.hpp"

#include "crmkit/rules/json.hpp"
#include "lifecycle/machine_impl.hpp"

namespace crmkit {
inline namespace v0 {
namespace detail {

CompiledRule::CompiledRule(const nlohmann::json& rule, const FactSchema& schema,
                           const std::string& path) {
  RuleOptions options;
  options.path = path;
  rule_ = compile_rule(rule, schema, options);
  for (const auto& name : rule_.dependency_names())
    if (name == kStageFact || name == kDaysInStageFact) reads_engine_ = true;
}

bool CompiledRule::holds(const FactTable& table, std::size_t row) const { return rule_.test(table, row); }

void CompiledRule::holds_all(const FactTable& table, std::span<std::uint8_t> out) const {
  rule_.test_all(table, out);
}

void CompiledRule::holds_rows(const FactTable& table, std::size_t first, std::span<std::uint8_t> out) const {
  rule_.test_rows(table, first, out);
}

bool CompiledRule::reads_engine_facts() const noexcept { return reads_engine_; }

}  // namespace detail
}  // namespace v0
}  // namespace crmkit
