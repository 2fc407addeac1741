// Private: the state of a loaded Machine, shared by machine.cpp and cycles.cpp.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "crmkit/lifecycle/machine.hpp"
#include "lifecycle/rule_eval.hpp"

namespace crmkit {
inline namespace v0 {

inline constexpr std::string_view kStageFact = "stage";
inline constexpr std::string_view kDaysInStageFact = "days_in_stage";

struct Machine::Impl {
  std::string name;
  std::string description;
  std::map<std::string, double, std::less<>> parameters;
  std::vector<StateDef> states;
  std::vector<TransitionDef> transitions;
  std::map<std::string, std::int32_t, std::less<>> index;  // state name -> position
  std::int32_t initial = 0;
  // Automatic transitions leaving each state, in declared order.
  std::vector<std::vector<std::int32_t>> automatic_from;
  // Per transition: its rule compiled against `compact` (null when it has none). Shared by
  // copies of the machine (immutable).
  std::vector<std::shared_ptr<const detail::CompiledRule>> rules;
  // The declared facts the rules read (schema order), then `stage` and `days_in_stage`.
  FactSchema compact;
  std::vector<std::string> used;
  std::size_t stage_slot = 0;
  std::size_t days_slot = 0;
  bool uses_stage = false;
  bool uses_days = false;

  std::vector<std::size_t> source_slots(const FactTable& facts) const;
  [[noreturn]] void throw_cycle(const std::vector<std::int32_t>& path_states,
                                const std::vector<std::int32_t>& path_transitions,
                                std::string_view where) const;
};

namespace detail {
// The load-time analysis of automatic cycles (machine.hpp, "Automatic cycles"). `rules[i]` is
// transition i's rule after parameter substitution (null if none); `schema` holds the declared
// facts and the engine facts. Throws Error{invalid_argument} at "transitions[j].when" (j the
// cycle's last transition in declared order) naming a cycle that could run.
void check_automatic_cycles(const Machine::Impl& m, const std::vector<nlohmann::json>& rules,
                            const FactSchema& schema);
}  // namespace detail

}  // namespace v0
}  // namespace crmkit
