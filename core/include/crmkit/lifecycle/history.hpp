// crmkit/lifecycle/history.hpp: reporting over the transition history of one machine, as pure
// arithmetic on columns: the stage of every entity as of any time, time in stage, the stage
// distribution over a series of dates, transition counts, the stage-to-stage funnel and median
// stage durations.
//
// Input: one row per transition of one machine: entity id, from state, to state, time (UTC
// microseconds). States are indexes into the machine's states() (int32); from = -1 marks the row
// that puts an entity into its first state (its creation). An entity's first row may also name a
// from state (a history that starts later); every later row must leave the state the previous
// row entered. Rows may come in any order: a History
// sorts them once by (entity, time, input position), so rows of one entity at the same time keep
// their input order (an automatic chain a -> b -> c written in one evaluation).
//
// Conventions (docs/lifecycle.md):
//   - An entity is "in" state s from the time of the row that enters s (inclusive) to the time of
//     the next row of that entity (exclusive). Before its first row it is in no state (-1).
//   - "As of t" counts rows with time <= t.
//   - Durations are in days, as double: (exit - entry) / 86,400,000,000 microseconds, no
//     rounding. A stint still open at `as_of` counts up to as_of in the cumulative time in stage;
//     median durations count completed stints only (exit <= as_of).
//
// Thread-safety: a History is an immutable value once built; concurrent queries are safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "crmkit/base/time.hpp"

namespace crmkit {
inline namespace v0 {

// Columns of history rows (views; the History copies what it needs).
struct HistoryColumns {
  std::span<const std::int64_t> entity;
  std::span<const std::int32_t> from;   // -1 for an entity's first row
  std::span<const std::int32_t> to;
  std::span<const std::int64_t> at;     // Timestamp::micros()
};

// One (entity, state) pair an entity has been in, as of a time.
struct StageTime {
  std::int64_t entity = 0;
  std::int32_t state = 0;
  Timestamp first_entered;                // the first row entering the state
  std::optional<Timestamp> last_exited;   // the last exit at or before as_of; none if never left
  Timestamp latest_entered;               // the last row entering it at or before as_of
  bool current = false;                   // the entity is in this state as of as_of
  std::int32_t stints = 0;                // times entered (re-entries counted)
  double days = 0;                        // cumulative days in it, the open stint up to as_of
};

// Transitions counted over a period.
struct TransitionCount {
  std::int32_t from = -1;                 // -1: entity creation
  std::int32_t to = 0;
  std::int64_t count = 0;
};

// The funnel over a period: for each pair (a, b), of the entities that entered a in the period,
// how many entered b later (a later row of the same entity, up to the period's end).
struct Funnel {
  std::int32_t state_count = 0;
  std::vector<std::int64_t> entered;      // [a]: entities that entered a in the period
  std::vector<std::int64_t> reached;      // [a * state_count + b]: of those, entered b later
  // reached / entered, 0 when entered is 0.
  double rate(std::int32_t a, std::int32_t b) const;
};

class History {
 public:
  // Copies and sorts the rows. `state_count` is the machine's number of states; `state_names`
  // (optional, size state_count) names states in error messages. Throws Error{invalid_argument}
  // naming the input row for columns of different sizes, a state out of range, from = -1 on a row
  // that is not its entity's first, or a row whose `from` is not the state its entity is in
  // ("row 7: entity 42 moves from 'growth' but is in 'introduction'"). O(n): a radix sort by
  // entity, then a sort by time of only those entities whose rows were not in time order.
  History(const HistoryColumns& rows, std::int32_t state_count,
          std::vector<std::string> state_names = {});

  std::int32_t state_count() const noexcept { return state_count_; }
  std::size_t rows() const noexcept { return at_.size(); }
  // The distinct entities, ascending: the order of every per-entity result.
  const std::vector<std::int64_t>& entities() const noexcept { return entities_; }

  // The state of each entity of entities() as of `as_of` (-1 if it has no row by then).
  // O(entities * log(rows per entity)).
  std::vector<std::int32_t> stages_as_of(Timestamp as_of) const;
  // One entity's state as of `as_of`; -1 if none by then or the entity is unknown.
  std::int32_t stage_as_of(std::int64_t entity, Timestamp as_of) const;

  // Every (entity, state) pair entered by as_of, by entity ascending then state index ascending.
  std::vector<StageTime> stage_times(Timestamp as_of) const;

  // Counts of entities per state at each date: result[d * state_count + s]. Dates in any order.
  std::vector<std::int64_t> distribution(std::span<const Timestamp> dates) const;

  // Rows with start <= time < end, grouped by (from, to), ordered by from then to.
  std::vector<TransitionCount> transition_counts(Timestamp start, Timestamp end) const;

  // The funnel of entries with start <= time < end (an entity counts once per state a, from its
  // first entry into a in the period; b counts if entered by a later row before `end`).
  Funnel funnel(Timestamp start, Timestamp end) const;

  // The median duration in days of each state's completed stints (entered and exited by as_of);
  // nullopt for a state without one. An even count takes the mean of the two middle values.
  std::vector<std::optional<double>> median_durations(Timestamp as_of) const;

 private:
  std::string state_name(std::int32_t s) const;

  std::int32_t state_count_ = 0;
  std::vector<std::string> names_;
  // Sorted rows (entity, time, input position).
  std::vector<std::int64_t> at_;
  std::vector<std::int32_t> from_;
  std::vector<std::int32_t> to_;
  // entities_[k]'s rows are [offsets_[k], offsets_[k + 1]).
  std::vector<std::int64_t> entities_;
  std::vector<std::size_t> offsets_;
};

}  // namespace v0
}  // namespace crmkit
