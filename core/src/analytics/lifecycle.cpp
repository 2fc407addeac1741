// Lifecycle machines on a Store (crmkit/analytics/lifecycle.hpp): automatic evaluation as of a
// date and history reports.
#include "crmkit/analytics/lifecycle.hpp"

#include <algorithm>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "crmkit/analytics/analytics.hpp"
#include "crmkit/base/error.hpp"
#include "crmkit/lifecycle/machine.hpp"

namespace crmkit {
inline namespace v0 {

namespace {

constexpr std::int64_t kDayMicros = 86'400'000'000;

std::int64_t whole_days(std::int64_t from, std::int64_t to) {
  const std::int64_t d = to - from;
  return d >= 0 ? d / kDayMicros : -((-d + kDayMicros - 1) / kDayMicros);
}

}  // namespace

FactSchema store_fact_schema(const Store& store, std::span<const std::string> machines,
                             std::span<const WindowFact> windows) {
  const std::vector<FieldDef> fields = store.fields();
  FactSchema schema = standard_fact_schema(fields, machines, windows);
  // The points facts of every stored programme (facts_store.cpp computes them).
  for (const auto& p : store.points_programs()) {
    schema.add("points." + p.name + ".redeemable", FactType::integer,
               "points of programme '" + p.name +
                   "' the customer may redeem as of the date (available - debt)");
    schema.add("points." + p.name + ".tier", FactType::text,
               "the customer's tier in points programme '" + p.name +
                   "' as of the date (the lowest tier without an entry)");
  }
  return schema;
}

namespace {

// Opportunities of a pipeline machine: the rows are the pipeline's opportunities created by
// as_of; the machine may read only the engine facts (stage, days_in_stage).
CustomerFacts opportunity_rows(const Store& store, const Machine& machine, Timestamp as_of) {
  const std::vector<std::string> used = machine.facts_used();
  if (!used.empty()) {
    throw_invalid("machine", "'" + machine.name() + "' reads customer facts ('" + used.front() +
                                 "', ...): only a machine reading nothing but stage and "
                                 "days_in_stage runs over opportunities");
  }
  const OpportunityColumns o = store.opportunity_columns(machine.name());
  CustomerFacts rows;
  for (std::size_t i = 0; i < o.size(); ++i)
    if (o.created_at_micros[i] <= as_of.micros()) rows.customer_id.push_back(o.id[i]);
  rows.table = FactTable(FactSchema{}, rows.customer_id.size());
  return rows;
}

}  // namespace

EvaluateResult evaluate_machine(Store& store, const Machine& machine, Timestamp as_of,
                                const EvaluateOptions& options, const WriteContext& ctx) {
  const EntityKind kind = options.kind;
  if (kind == EntityKind::opportunity && options.customer) {
    throw_invalid("customer", "options.customer is for kind customer; opportunities of the "
                              "pipeline are evaluated all at once");
  }
  FactOptions fo;
  fo.facts = machine.facts_used();
  fo.windows = options.windows;
  fo.model = options.model;
  // Rows: entity ids (customer_id holds opportunity ids for kind opportunity) and their facts.
  const CustomerFacts facts = kind == EntityKind::opportunity
                                  ? opportunity_rows(store, machine, as_of)
                              : options.customer
                                  ? customer_facts(store, *options.customer, as_of, fo)
                                  : facts_as_of(store, as_of, fo);
  const std::size_t n = facts.size();
  const char* noun = kind == EntityKind::opportunity ? "opportunity " : "customer ";
  const auto ref = [kind](std::int64_t id) {
    return kind == EntityKind::opportunity ? EntityRef::opportunity(id) : EntityRef::customer(id);
  };

  // Current states, matched to the rows (both ascending by id).
  std::vector<std::int32_t> state(n);
  std::vector<std::int64_t> days(n);
  auto place = [&](std::size_t row, const std::string& name, std::int64_t since, bool recorded) {
    const std::int64_t id = facts.customer_id[row];
    if (recorded && since > as_of.micros()) {
      throw_invalid("as_of", noun + std::to_string(id) + " entered '" + name + "' in " +
                                 machine.name() + " at " + Timestamp(since).to_string() +
                                 ", after " + as_of.to_string() +
                                 " (evaluate dates in order: history runs forwards)");
    }
    state[row] = machine.state_index(name);
    days[row] = std::max<std::int64_t>(0, whole_days(since, as_of.micros()));
  };
  if (options.customer) {
    if (n == 1) {
      const EntityState s = store.state(machine, ref(facts.customer_id[0]));
      place(0, s.state, s.since.micros(), s.recorded);
    }
  } else {
    const StateColumns sc = store.states(machine, kind);
    std::size_t k = 0;
    for (std::size_t row = 0; row < n; ++row) {
      const std::int64_t id = facts.customer_id[row];
      while (k < sc.size() && sc.entity_id[k] < id) ++k;
      if (k == sc.size() || sc.entity_id[k] != id) {
        throw_error(ErrorCode::conflict, noun,
                    std::to_string(id) + " was not found among the machine's states (written "
                                         "between two reads?)");
      }
      place(row, sc.state[k], sc.since_micros[k], sc.recorded[k] != 0);
    }
  }

  const MachineColumnResult r = machine.evaluate_columns(state, days, facts.table);
  std::vector<PlannedTransition> planned;
  planned.reserve(r.changes.size());
  const auto& states = machine.states();
  const auto& transitions = machine.transitions();
  for (const auto& c : r.changes) {
    PlannedTransition p;
    p.entity = ref(facts.customer_id[c.row]);
    p.from = states[static_cast<std::size_t>(c.from)].name;
    p.to = states[static_cast<std::size_t>(c.to)].name;
    p.rule = transitions[static_cast<std::size_t>(c.transition)].name;
    p.at = as_of;
    planned.push_back(std::move(p));
  }
  EvaluateResult out;
  out.evaluated = n;
  if (planned.empty()) return out;
  out.changes = options.dry_run ? store.check_transitions(machine, planned, ctx)
                                : store.apply_transitions(machine, planned, ctx);
  return out;
}

History store_history(const Store& store, const Machine& machine, EntityKind kind) {
  // Entities and their creation times.
  std::vector<std::int64_t> ids;
  std::vector<std::int64_t> created;
  if (kind == EntityKind::customer) {
    const CustomerColumns c = store.customer_columns();
    for (std::size_t i = 0; i < c.size(); ++i) {
      if (c.deleted[i]) continue;
      ids.push_back(c.customer_id[i]);
      created.push_back(c.created_at_micros[i]);
    }
  } else {
    const OpportunityColumns o = store.opportunity_columns(machine.name());
    ids = o.id;
    created = o.created_at_micros;
  }
  const TransitionColumns h = store.history(machine.name());
  // The earliest transition of each entity moves its creation row back to it.
  std::unordered_map<std::int64_t, std::size_t> slot;
  slot.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) slot.emplace(ids[i], i);
  std::vector<std::int64_t> entity;
  std::vector<std::int32_t> from;
  std::vector<std::int32_t> to;
  std::vector<std::int64_t> at;
  const std::size_t total = ids.size() + h.size();
  entity.reserve(total);
  from.reserve(total);
  to.reserve(total);
  at.reserve(total);
  for (std::size_t k = 0; k < h.size(); ++k) {
    if (h.entity_kind[k] != kind) continue;
    const auto it = slot.find(h.entity_id[k]);
    if (it == slot.end()) continue;  // a soft-deleted customer
    created[it->second] = std::min(created[it->second], h.at_micros[k]);
  }
  const std::int32_t initial = machine.state_index(machine.initial_state());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    entity.push_back(ids[i]);
    from.push_back(-1);
    to.push_back(initial);
    at.push_back(created[i]);
  }
  auto index_of = [&](const std::string& name, std::size_t k) {
    if (!machine.has_state(name)) {
      throw_invalid("history", "row " + std::to_string(h.id[k]) + " of " + machine.name() +
                                   " names state '" + name +
                                   "', which the machine does not have");
    }
    return machine.state_index(name);
  };
  for (std::size_t k = 0; k < h.size(); ++k) {
    if (h.entity_kind[k] != kind || !slot.count(h.entity_id[k])) continue;
    entity.push_back(h.entity_id[k]);
    from.push_back(index_of(h.from[k], k));
    to.push_back(index_of(h.to[k], k));
    at.push_back(h.at_micros[k]);
  }
  std::vector<std::string> names;
  for (const auto& s : machine.states()) names.push_back(s.name);
  const auto state_count = static_cast<std::int32_t>(names.size());
  HistoryColumns cols{entity, from, to, at};
  return History(cols, state_count, std::move(names));
}

StageSnapshot stages_as_of(const Store& store, const Machine& machine, Timestamp as_of,
                           EntityKind kind) {
  const History h = store_history(store, machine, kind);
  const std::vector<std::int32_t> st = h.stages_as_of(as_of);
  StageSnapshot out;
  out.entity_id = h.entities();
  out.stage.reserve(st.size());
  for (const std::int32_t s : st)
    out.stage.push_back(s < 0 ? std::string() : machine.states()[static_cast<std::size_t>(s)].name);
  if (kind == EntityKind::customer)
    out.external_id = external_ids_of(store.customer_keys(), out.entity_id);
  return out;
}

}  // namespace v0
}  // namespace crmkit
