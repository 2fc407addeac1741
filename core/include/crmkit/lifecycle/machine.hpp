// crmkit/lifecycle/machine.hpp: state machines defined in JSON (customer life cycle, relationship
// levels, pipelines, ...), validated at load, with manual checks and automatic rule evaluation.
//
// A Machine is loaded once from JSON text against a FactSchema (the facts its rules may read) and
// is then an immutable value. It knows nothing of stores: the store keeps each entity's current
// state and history; a Machine says which moves are allowed (check_manual) and which automatic
// moves a row of facts triggers (evaluate, evaluate_columns). docs/lifecycle.md describes the JSON
// format, the validation and the default machines (crmkit/lifecycle/defaults.hpp).
//
// The JSON form (keys other than these are refused; "?" marks optional keys):
//   {"name": "customer_lifecycle", "description"?: "...",
//    "parameters"?: {"dormant_after_days": 180, ...},     // numbers rules read as {"param": name}
//    "states": [{"name": "prospect", "order"?: 0, "initial"?: true, "active"?: false,
//                "terminal"?: false, "description"?: "...", "playbook"?: ["screen leads"],
//                "probability"?: 0.1}, ...],
//    "transitions": [{"name": "first_purchase", "from": "prospect" | ["a", "b"] | "*",
//                     "to": "introduction", "when"?: <JSON Logic>, "manual"?: true,
//                     "reason_required"?: false, "description"?: "..."}, ...]}
//
// Invariants of a loaded Machine (each refused at load with Error{invalid_argument} whose message
// starts with the JSON path of the offending value, "states[2].name: ..."):
//   - names (machine, states, transitions) are 1..64 bytes of ASCII letters, digits and '_';
//     state names are unique, transition names are unique;
//   - exactly one state is initial; a state is not both initial and terminal;
//   - every state named by a transition exists; no transition leaves a terminal state; "*" means
//     every non-terminal state other than the transition's target;
//   - every state is reachable from the initial state (through any transitions);
//   - in strict mode (the default) every non-terminal state has a transition out;
//   - a transition has a `when` rule, allows manual moves, or both;
//   - an automatic transition does not lead back to its own state;
//   - every `when` rule compiles in strict JSON Logic (crmkit/rules/rules.hpp) against the declared
//     facts plus the engine facts `stage` (text: the current state) and `days_in_stage` (integer);
//     a schema that itself declares `stage` or `days_in_stage` is refused;
//   - no automatic cycle can fire: see "Automatic cycles" below.
//
// Automatic evaluation. From a state, the automatic transitions leaving it are tried in declared
// order and the first whose rule holds is taken; then the same from the new state (with `stage`
// set to it and `days_in_stage` to 0), until no rule holds. Facts do not change during one
// evaluation. A missing fact makes a comparison false (rules.hpp).
//
// Automatic cycles. A cycle of automatic transitions is refused at load unless it is proven that
// it cannot be run through once in a single evaluation. The proof (sound, incomplete): each rule
// is read as a conjunction of constraints, one per `and` operand (or the rule itself) of the forms
// {"<"|"<="|">"|">="|"=="|"===": [{"var": f}, constant]} (either side), {"<"|"<=": [c, {"var": f}, c]},
// {"var": f} / {"==": [{"var": f}, true|false]} on a bool fact, "!="/"!==" on text; other operands
// add no constraint. Along a cycle the facts are the same, `stage` is each transition's own source
// state, and `days_in_stage` is 0 on every transition but the first one taken. The cycle is
// accepted only if the constraints on the facts (intervals per number / integer / date fact,
// values per text and bool fact) cannot all hold together, or if at least two transitions of the
// cycle cannot hold with `days_in_stage` = 0, or if one transition of it can never hold.
// Everything else is refused, naming the cycle. At run time a guard still throws
// Error{invalid_transition} naming the cycle if a state repeats within one evaluation.
//
// Thread-safety: an immutable value once loaded; concurrent calls on one Machine are safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crmkit/rules/facts.hpp"

namespace crmkit {
inline namespace v0 {

struct MachineOptions {
  // Strict mode: a non-terminal state without a transition out is an error. Off: allowed (a
  // machine under construction).
  bool strict = true;
  // Values for the machine's declared "parameters", replacing the defaults in its JSON before its
  // rules are compiled ({"param": "dormant_after_days"} in a rule reads one). A name the machine
  // does not declare is refused (Error{invalid_argument}, "parameters.<name>: ..."). A value that
  // is a whole number is written into the rule as a JSON integer.
  std::map<std::string, double, std::less<>> parameters;
};

struct StateDef {
  std::string name;
  std::int32_t order = 0;             // display order; defaults to the position in "states"
  bool initial = false;               // where a new entity starts (exactly one state)
  bool active = false;                // the entity is in an active relationship (reports count it)
  bool terminal = false;              // nothing leaves it (won, lost, erased, ...)
  std::string description;
  std::vector<std::string> playbook;  // what the business does in this stage
  std::optional<double> probability;  // win probability 0..1 (pipeline stages)
};

struct TransitionDef {
  std::string name;
  std::vector<std::string> from;      // the source states, "*" expanded (declared order)
  bool from_any = false;              // declared as "*"
  std::string to;
  std::string when;                   // the rule as compact JSON text after parameter
                                      // substitution; empty when there is none
  bool manual = true;                 // a person (or host) may make this move
  bool reason_required = false;       // a manual move needs a non-empty reason
  std::string description;
  std::size_t index = 0;              // position in "transitions" (its JSON path)

  bool automatic() const noexcept { return !when.empty(); }
};

// One automatic move: from, to and the transition that made it.
struct MachineStep {
  std::string from;
  std::string to;
  std::string transition;
};

// The result of evaluating many rows at once.
struct MachineColumnResult {
  // The state of each row after evaluation (indexes into Machine::states()).
  std::vector<std::int32_t> states;
  // Every move, by row ascending and then in the order taken within the row.
  struct Change {
    std::size_t row = 0;
    std::int32_t from = 0;
    std::int32_t to = 0;
    std::int32_t transition = 0;      // index into Machine::transitions()
  };
  std::vector<Change> changes;
};

class Machine {
 public:
  // Loads and validates a machine (see the invariants above). `facts` declares the facts its
  // rules may read. Throws Error{invalid_argument} whose message starts with the JSON path of the
  // problem ("transitions[3].when.and[1]: ...", "states[2].name: ..."), also for malformed JSON.
  static Machine from_json_text(std::string_view text, const FactSchema& facts,
                                const MachineOptions& options = {});

  Machine(const Machine&);
  Machine(Machine&&) noexcept;
  Machine& operator=(const Machine&);
  Machine& operator=(Machine&&) noexcept;
  ~Machine();

  const std::string& name() const noexcept;
  const std::string& description() const noexcept;
  // The parameters in effect (declared defaults with the options' overrides applied).
  const std::map<std::string, double, std::less<>>& parameters() const noexcept;

  // The initial state's name.
  const std::string& initial_state() const noexcept;
  bool has_state(std::string_view name) const noexcept;
  // Throws Error{not_found} naming the machine and the state.
  const StateDef& state(std::string_view name) const;
  // The index of a state in states(). Throws Error{not_found} like state().
  std::int32_t state_index(std::string_view name) const;
  // In declared order.
  const std::vector<StateDef>& states() const noexcept;
  const std::vector<TransitionDef>& transitions() const noexcept;

  // Checks a manual move and returns the transition that allows it: the first in declared order
  // from `from` to `to` that allows manual moves. Throws Error{not_found} if `from` or `to` is not
  // a state of this machine, Error{invalid_transition} naming the machine, both states and why:
  // "no transition from 'a' to 'b'", "the transition 'x' from 'a' to 'b' is automatic only",
  // "the transition 'x' from 'a' to 'b' requires a reason" (reason empty or only blanks).
  const TransitionDef& check_manual(std::string_view from, std::string_view to,
                                    std::string_view reason = {}) const;

  // The declared facts the rules read (names, in the schema's order), without the engine facts:
  // what a caller must compute before evaluating.
  std::vector<std::string> facts_used() const;
  // True if some rule reads the engine fact `stage` / `days_in_stage`.
  bool uses_stage() const noexcept;
  bool uses_days_in_stage() const noexcept;

  // Automatic evaluation of one row: `state` is the current state, `days_in_stage` the whole
  // days spent in it so far, `facts` a table holding (by name, with the declared types) at least
  // the facts of facts_used(); `row` the row to read. Returns the moves taken, in order (empty
  // if none). Throws Error{not_found} for an unknown state or a row out of range,
  // Error{invalid_argument} if `facts` lacks a used fact or holds it with another type, and
  // Error{invalid_transition} naming the cycle if a state repeats (cannot happen for a machine
  // that passed the load analysis; kept as a guard).
  std::vector<MachineStep> evaluate(std::string_view state, std::int64_t days_in_stage,
                                    const FactTable& facts, std::size_t row) const;

  // The same for every row of `facts`: states[i] and days_in_stage[i] are row i's current state
  // (an index into states()) and days in it. Rules are evaluated over columns: when no rule reads
  // `stage` or `days_in_stage` (and the machine has at most 64 states and 12 automatic
  // transitions), a block of rows at a time, reading `facts` in place when it holds exactly the
  // used facts in facts_used() order, and each row's moves looked up in a table of walks; large
  // inputs (131,072 rows and more) are then split over up to std::thread::hardware_concurrency()
  // threads, with the same result for any thread count. Otherwise rows grouped by state, round
  // after round. Throws like evaluate(), and Error{invalid_argument} if the spans' sizes differ
  // from facts.rows() or a state index is out of range (naming the row).
  MachineColumnResult evaluate_columns(std::span<const std::int32_t> states,
                                       std::span<const std::int64_t> days_in_stage,
                                       const FactTable& facts) const;

  // The loaded state, defined in the library's private sources.
  struct Impl;

 private:
  explicit Machine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace v0
}  // namespace crmkit
