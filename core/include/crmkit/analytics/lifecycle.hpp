// crmkit/analytics/lifecycle.hpp: lifecycle machines run on a Store: automatic evaluation as of a
// date (facts -> rules -> transitions, written in one transaction), and reports from the stored
// history (stage as of any date, time in stage, distribution, funnel, median durations).
//
// Evaluation (evaluate_machine):
//  1. the facts the machine's rules read (Machine::facts_used) are computed as of `as_of` for
//     every customer that exists then (facts_as_of, crmkit/analytics/facts.hpp), or for one;
//  2. each customer's current state is read from the store; days_in_stage = whole days from the
//     state's `since` to as_of. A customer that never made a transition in the machine is in the
//     initial state since its record's created_at, or since as_of if that is later (a record
//     imported after its history: days_in_stage 0);
//  3. the machine's automatic transitions run over the fact columns (Machine::evaluate_columns:
//     first rule that holds wins, repeated until none fires);
//  4. the moves are written with Store::apply_transitions (dry run: Store::check_transitions),
//     each dated as_of, in one transaction with their audit entries; listeners are then told.
//  Evaluating a date earlier than a customer's recorded state (its `since` is after as_of) is
//  refused (Error{invalid_argument} naming the customer), as history runs forwards: replay months
//  in order. Facts and states are read in two read transactions; a transition written by another
//  thread in between makes apply_transitions refuse the whole batch (Error{conflict}): retry.
//
// Reports (store_history): the machine's history rows for one entity kind, plus one creation row
// per entity (from -1 to the initial state) dated at its record's created_at or at its first
// transition if earlier, so an entity is in the initial state from the time it exists until its
// first transition. History (crmkit/lifecycle/history.hpp) then answers every report; its
// entities are the store's customer (or opportunity) ids.
//
// Thread-safety: as the Store's (reads and writes are thread-safe); the rest is pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "crmkit/analytics/facts.hpp"
#include "crmkit/base/time.hpp"
#include "crmkit/lifecycle/history.hpp"
#include "crmkit/store/store.hpp"

namespace crmkit {
inline namespace v0 {

class Machine;  // crmkit/lifecycle/machine.hpp

// The fact schema a store's machines are loaded against: standard_fact_schema with the store's
// declared custom fields, stage.<m> / days_in_stage.<m> for each of `machines`, `windows`, then
// points.<p>.redeemable (integer) and points.<p>.tier (text) for each stored points programme p
// (facts_as_of computes them from the points ledger).
FactSchema store_fact_schema(const Store& store, std::span<const std::string> machines = {},
                             std::span<const WindowFact> windows = {});

struct EvaluateOptions {
  // What the machine runs over: customers, or (EntityKind::opportunity) the opportunities of the
  // pipeline named like the machine that were created by as_of. A machine run over
  // opportunities may read no fact but the engine's stage and days_in_stage (the shipped
  // sales_pipeline's `stale` rule).
  EntityKind kind = EntityKind::customer;
  // One customer; none = every customer that exists as of the date (not soft-deleted). Only for
  // kind customer.
  std::optional<CustomerId> customer;
  // Compute and check the moves but write nothing and call no listener.
  bool dry_run = false;
  // Window facts the machine's rules read beyond the standard catalogue (the same declarations
  // the machine's schema was built with).
  std::vector<WindowFact> windows;
  // The fitted model for p_alive / expected_purchases_365d (MBG/NBD suits churn rules).
  FactModel model;
};

struct EvaluateResult {
  std::size_t evaluated = 0;                // customers whose rules were evaluated
  std::vector<TransitionRecord> changes;    // the moves written (dry run: that would be)
};

// Runs the automatic transitions of `machine` for the store's customers as of `as_of` (see the
// top). Returns the moves in history order (by entity id, then in the order taken).
// Throws Error{not_found} for an unknown options.customer; Error{invalid_argument} if that
// customer is soft-deleted or does not exist as of the date, if a used fact is not in the
// catalogue, if an entity's recorded state is newer than as_of, or for kind opportunity with
// options.customer set or a machine that reads declared facts; Error{invalid_transition}
// for an automatic cycle at run time (the machine's load analysis prevents them);
// Error{conflict} if a state changed between the reads and the write. Nothing is written unless
// the whole batch is.
EvaluateResult evaluate_machine(Store& store, const Machine& machine, Timestamp as_of,
                                const EvaluateOptions& options = {},
                                const WriteContext& ctx = {});

// The machine's history for entities of `kind` with a creation row per entity (see the top):
// every customer not soft-deleted, or every opportunity of the pipeline `machine`. State names
// are the machine's. Throws Error{invalid_argument} if a stored row names a state the machine
// does not have (the machine was changed after the history was written).
History store_history(const Store& store, const Machine& machine,
                      EntityKind kind = EntityKind::customer);

// The stage of every customer (or opportunity) as of a time, from store_history.
struct StageSnapshot {
  std::vector<std::int64_t> entity_id;      // ascending
  std::vector<std::string> external_id;     // customers: their external id; opportunities: empty
  std::vector<std::string> stage;           // empty: the entity did not exist yet
  std::size_t size() const noexcept { return entity_id.size(); }
};
StageSnapshot stages_as_of(const Store& store, const Machine& machine, Timestamp as_of,
                           EntityKind kind = EntityKind::customer);

}  // namespace v0
}  // namespace crmkit
