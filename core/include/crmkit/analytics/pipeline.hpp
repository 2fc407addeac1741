// crmkit/analytics/pipeline.hpp: the weighted value of a sales pipeline, from a Store's
// opportunities and their states in a pipeline machine whose stages carry a win probability.
//
// Per group (stage, owner, close month; any subset) the count of opportunities, their total
// amount and the weighted amount: the sum of amount x probability of each opportunity's stage.
//
// Exactness. A stage's probability is a double in the machine (StateDef::probability). It is read
// as the shortest decimal text that converts back to the same double (std::to_chars, fixed
// notation): 0.1 is exactly 1/10 and 0.35 exactly 35/100, the number the machine's JSON spelled
// (probability_decimal). Each product amount x probability is then exact (an integer of minor
// units times a decimal coefficient, in checked 128-bit integers), the products of a group are
// summed exactly (weighted_exact), and that sum is rounded once, half to even, to the currency's
// minor unit (weighted). So 0.25 USD at probability 0.5 gives 0.125, which rounds to 0.12.
//
// Thread-safety: as the Store's reads; the rest is pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "crmkit/base/money.hpp"
#include "crmkit/store/store.hpp"

namespace crmkit {
inline namespace v0 {

class Machine;  // crmkit/lifecycle/machine.hpp

struct PipelineOptions {
  // The group keys; a key left out is summed over (all three false: one row, the whole pipeline).
  bool by_stage = true;
  bool by_owner = true;
  bool by_close_month = true;
  // Count opportunities in terminal stages (won, lost) too. Off by default: the open pipeline.
  bool include_terminal = false;
};

// One row per group, ordered by stage (the machine's state order), then owner, then close month.
// All vectors have size() elements; a key that is not grouped on is empty text in every row.
struct PipelineValue {
  Currency currency;                      // the store's
  std::vector<std::string> stage;
  std::vector<std::string> owner;
  std::vector<std::string> close_month;   // "YYYY-MM" of expected_close
  std::vector<std::int64_t> count;
  std::vector<Money> amount;              // sum of the amounts
  std::vector<Decimal> weighted_exact;    // sum of amount x probability, unrounded
  std::vector<Money> weighted;            // weighted_exact rounded half to even

  std::size_t size() const noexcept { return count.size(); }
};

// The exact decimal a probability stands for: the shortest fixed-notation text that reads back
// as `probability`. Throws Error{invalid_argument} unless 0 <= probability <= 1 (NaN refused) or
// if that text has more than 30 decimals.
Decimal probability_decimal(double probability);

// The weighted pipeline value of the opportunities of `pipeline` (their pipeline is its name) in
// `store`, in their current stages. Throws Error{invalid_argument} naming the stage if an
// opportunity counted is in a stage without a probability, Error{overflow} if a sum leaves the
// 128-bit range.
PipelineValue pipeline_value(const Store& store, const Machine& pipeline,
                             const PipelineOptions& options = {});

// The same from columns (Store::opportunity_columns(name) and Store::states(pipeline,
// EntityKind::opportunity), which must hold the same ids in the same order: else
// Error{invalid_argument}).
PipelineValue pipeline_value(const OpportunityColumns& opportunities, const StateColumns& states,
                             const Machine& pipeline, const PipelineOptions& options = {});

}  // namespace v0
}  // namespace crmkit
