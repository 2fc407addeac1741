// crmkit/lifecycle/defaults.hpp: the machines crmkit ships (docs/lifecycle.md describes each, its
// thresholds and its playbooks).
//
//   customer_lifecycle   prospect -> introduction -> growth -> maturity; dormancy, churned;
//                        reactivation and win-back (DOMAIN.md section 2)
//   relationship_level   acquaintance -> dating -> partner -> ally, one level down after a long
//                        silence (section 3)
//   implementation       new_toy -> learning -> effectiveness, with the motivation_drop state
//                        when learning runs long without a service contact (section 3)
//   prospect             captured -> consented -> nurtured -> opportunity -> customer; a lost
//                        opportunity goes back to nurtured (sections 5 and 6)
//   sales_pipeline       qualification -> needs_analysis -> proposal -> negotiation -> won / lost,
//                        each stage with a win probability
//
// The JSON texts are data/machines/<name>.json, installed to <datadir>/crmkit/machines and
// compiled into the library. Their rules read only standard fact names (the analytics layer
// computes them) and the engine facts; their thresholds are "parameters", overridden through
// MachineOptions::parameters.
//
// Thread-safety: free functions over constant data.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "crmkit/lifecycle/machine.hpp"

namespace crmkit {
inline namespace v0 {

// The names of the default machines, sorted.
std::vector<std::string> default_machine_names();

// The JSON text of a default machine. Throws Error{not_found} listing the names for another name.
const std::string& default_machine_json(std::string_view name);

// Loads a default machine against `facts` (which must declare every fact it reads, with the
// standard types: Machine::from_json_text's errors otherwise), with `options` (parameter
// overrides, strictness). Throws Error{not_found} for an unknown name.
Machine default_machine(std::string_view name, const FactSchema& facts,
                        const MachineOptions& options = {});

}  // namespace v0
}  // namespace crmkit
