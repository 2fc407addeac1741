// Store: lifecycle states, manual and automatic transitions, history, listeners.
//
// How a current state is found: the machine_states row of (machine, entity kind, entity id) if
// there is one, else the machine's initial state since the entity's created_at (schema v3 in
// schema.cpp). A batch of changes is checked and applied in order against an in-memory overlay
// of the states it has already changed, so the same code serves the write (apply_transitions)
// and the dry run (check_transitions).
#include <map>
#include <string>
#include <utility>

#include "crmkit/base/error.hpp"
#include "crmkit/lifecycle/machine.hpp"
#include "store/codes.hpp"
#include "store/store_impl.hpp"
#include "store/write_scope.hpp"

namespace crmkit {
inline namespace v0 {

namespace {

constexpr std::size_t kMaxReason = 4096;
constexpr std::size_t kMaxListenerErrors = 1000;

// ---- the Machine calls the store makes (crmkit/lifecycle/machine.hpp) ----

const std::string& initial_of(const Machine& m) { return m.initial_state(); }

// True if `t` leaves `from`.
bool leaves(const TransitionDef& t, const std::string& from) {
  for (const auto& f : t.from)
    if (f == from) return true;
  return false;
}

// The check of an automatic change: the transition named `rule` leads from `from` to `to` (any
// transition from `from` to `to` when `rule` is empty). Throws Error{invalid_transition}.
void check_edge(const Machine& m, const std::string& from, const std::string& to,
                const std::string& rule) {
  for (const auto& t : m.transitions()) {
    if (!rule.empty() && t.name != rule) continue;
    if (t.to == to && leaves(t, from)) return;
  }
  if (rule.empty())
    throw_error(ErrorCode::invalid_transition, "to",
                "machine '" + m.name() + "' has no transition from '" + from + "' to '" + to + "'");
  throw_error(ErrorCode::invalid_transition, "rule",
              "machine '" + m.name() + "' has no transition '" + rule + "' from '" + from +
                  "' to '" + to + "'");
}

// ---- entities ----

struct EntityInfo {
  Timestamp created_at;
  bool deleted = false;   // the customer (of an opportunity: its customer) is soft-deleted
  bool erased = false;
  std::string pipeline;   // opportunities only
};

std::string entity_text(EntityRef e) {
  return std::string(to_string(e.kind)) + " " + std::to_string(e.id);
}

EntityInfo read_entity(sql::Db& db, EntityRef e) {
  EntityInfo info;
  if (e.kind == EntityKind::customer) {
    auto s = db.cached("SELECT created_at, deleted, erased FROM customers WHERE id = ?");
    s.bind(1, e.id);
    if (!s.step())
      throw_error(ErrorCode::not_found, "entity", "no customer with id " + std::to_string(e.id));
    info.created_at = Timestamp(s.i64(0));
    info.deleted = s.i64(1) != 0;
    info.erased = s.i64(2) != 0;
    return info;
  }
  auto s = db.cached(
      "SELECT o.created_at, c.deleted, c.erased, o.pipeline FROM opportunities o "
      "JOIN customers c ON c.id = o.customer_id WHERE o.id = ?");
  s.bind(1, e.id);
  if (!s.step())
    throw_error(ErrorCode::not_found, "entity", "no opportunity with id " + std::to_string(e.id));
  info.created_at = Timestamp(s.i64(0));
  info.deleted = s.i64(1) != 0;
  info.erased = s.i64(2) != 0;
  info.pipeline = s.str(3);
  return info;
}

void check_pipeline(const Machine& m, EntityRef e, const EntityInfo& info) {
  if (e.kind == EntityKind::opportunity && info.pipeline != m.name())
    throw_invalid("entity", "opportunity " + std::to_string(e.id) + " is tracked by pipeline '" +
                                info.pipeline + "', not by '" + std::string(m.name()) + "'");
}

EntityState read_state(sql::Db& db, const Machine& m, EntityRef e, const EntityInfo& info) {
  auto s = db.cached(
      "SELECT state, since FROM machine_states WHERE machine = ? AND entity_kind = ? AND "
      "entity_id = ?");
  s.bind(1, m.name()).bind(2, codes::code(e.kind)).bind(3, e.id);
  EntityState out;
  if (s.step()) {
    out.state = s.str(0);
    out.since = Timestamp(s.i64(1));
    out.recorded = true;
  } else {
    out.state = initial_of(m);
    out.since = info.created_at;
  }
  return out;
}

void check_at(Timestamp at, const EntityState& current, Timestamp now) {
  at.check_range("at");
  if (current.recorded && at < current.since)
    throw_invalid("at", at.to_string() + " is before the current state's since (" +
                            current.since.to_string() + ")");
  if (at > now)
    throw_invalid("at", at.to_string() + " is after the time of the write (" + now.to_string() +
                            ")");
}

void write_transition(sql::Db& db, TransitionRecord& r) {
  {
    auto s = db.cached(
        "INSERT OR REPLACE INTO machine_states(machine, entity_kind, entity_id, state, since) "
        "VALUES(?,?,?,?,?)");
    s.bind_static(1, r.machine)
        .bind(2, codes::code(r.entity.kind))
        .bind(3, r.entity.id)
        .bind_static(4, r.to)
        .bind(5, r.at.micros())
        .run();
  }
  r.id = next_row_id(db, "transitions");
  auto s = db.cached(
      "INSERT INTO transitions(machine, entity_kind, entity_id, from_state, to_state, at, rule, "
      "actor, reason, recorded_at, id) VALUES(?,?,?,?,?,?,?,?,?,?,?)");
  s.bind(11, r.id)
      .bind_static(1, r.machine)
      .bind(2, codes::code(r.entity.kind))
      .bind(3, r.entity.id)
      .bind_static(4, r.from)
      .bind_static(5, r.to)
      .bind(6, r.at.micros())
      .bind_static(7, r.rule)
      .bind_static(8, r.actor)
      .bind_static(9, r.reason)
      .bind(10, r.recorded_at.micros())
      .run();
}

std::string json_string(const std::string& s) { return nlohmann::json(s).dump(); }

// Checks `changes` in order against the stored states plus the batch's own earlier changes and
// returns the rows; with `write`, also writes each state and history row on `db`.
std::vector<TransitionRecord> run_batch(sql::Db& db, const Machine& m,
                                        std::span<const PlannedTransition> changes,
                                        Timestamp now, const std::string& actor, bool write) {
  std::map<EntityRef, std::pair<EntityInfo, EntityState>> seen;
  std::vector<TransitionRecord> out;
  out.reserve(changes.size());
  const std::string machine(m.name());
  for (std::size_t i = 0; i < changes.size(); ++i) {
    const PlannedTransition& c = changes[i];
    const std::string prefix = "changes[" + std::to_string(i) + "].";
    try {
      auto it = seen.find(c.entity);
      if (it == seen.end()) {
        EntityInfo info = read_entity(db, c.entity);
        check_pipeline(m, c.entity, info);
        EntityState st = read_state(db, m, c.entity, info);
        it = seen.emplace(c.entity, std::make_pair(std::move(info), std::move(st))).first;
      }
      EntityState& cur = it->second.second;
      if (!m.has_state(c.to))
        throw_error(ErrorCode::not_found, "to",
                    "machine '" + machine + "' has no state '" + c.to + "'");
      if (cur.state != c.from)
        throw_error(ErrorCode::conflict, "from",
                    entity_text(c.entity) + " is in '" + cur.state + "', not '" + c.from + "'");
      check_edge(m, c.from, c.to, c.rule);
      check_at(c.at, cur, now);
      check_text(c.rule, "rule", 0, 256);
      TransitionRecord r;
      r.machine = machine;
      r.entity = c.entity;
      r.from = c.from;
      r.to = c.to;
      r.at = c.at;
      r.rule = c.rule;
      r.actor = actor;
      r.recorded_at = now;
      if (write) write_transition(db, r);
      cur.state = c.to;
      cur.since = c.at;
      cur.recorded = true;
      out.push_back(std::move(r));
    } catch (const Error& e) {
      rethrow_prefixed(e, prefix);
    }
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Reads

EntityState Store::state(const Machine& machine, EntityRef entity) const {
  Impl::ReadLease lease(*impl_);
  sql::Db& db = lease.db();
  sql::ReadTxn rt(db);
  const EntityInfo info = read_entity(db, entity);
  check_pipeline(machine, entity, info);
  return read_state(db, machine, entity, info);
}

StateColumns Store::states(const Machine& machine, EntityKind kind) const {
  Impl::ReadLease lease(*impl_);
  sql::Db& db = lease.db();
  sql::ReadTxn rt(db);
  StateColumns out;
  out.machine = std::string(machine.name());
  out.kind = kind;
  const std::string initial = initial_of(machine);
  auto s = kind == EntityKind::customer
               ? db.cached(
                     "SELECT c.id, c.created_at, s.state, s.since FROM customers c LEFT JOIN "
                     "machine_states s ON s.machine = ?1 AND s.entity_kind = ?2 AND "
                     "s.entity_id = c.id ORDER BY c.id")
               : db.cached(
                     "SELECT o.id, o.created_at, s.state, s.since FROM opportunities o LEFT JOIN "
                     "machine_states s ON s.machine = ?1 AND s.entity_kind = ?2 AND "
                     "s.entity_id = o.id WHERE o.pipeline = ?1 ORDER BY o.id");
  s.bind(1, out.machine).bind(2, codes::code(kind));
  while (s.step()) {
    out.entity_id.push_back(s.i64(0));
    const bool recorded = !s.is_null(2);
    out.state.push_back(recorded ? s.str(2) : initial);
    out.since_micros.push_back(recorded ? s.i64(3) : s.i64(1));
    out.recorded.push_back(recorded ? 1 : 0);
  }
  return out;
}

TransitionColumns Store::history(std::string_view machine, std::optional<EntityRef> entity) const {
  Impl::ReadLease lease(*impl_);
  sql::Db& db = lease.db();
  TransitionColumns out;
  out.machine = std::string(machine);
  auto s = entity ? db.cached(
                        "SELECT id, entity_kind, entity_id, from_state, to_state, at, rule, actor, "
                        "reason, recorded_at FROM transitions WHERE machine = ? AND "
                        "entity_kind = ? AND entity_id = ? ORDER BY id")
                  : db.cached(
                        "SELECT id, entity_kind, entity_id, from_state, to_state, at, rule, actor, "
                        "reason, recorded_at FROM transitions WHERE machine = ? ORDER BY id");
  s.bind(1, machine);
  if (entity) s.bind(2, codes::code(entity->kind)).bind(3, entity->id);
  while (s.step()) {
    out.id.push_back(s.i64(0));
    out.entity_kind.push_back(static_cast<EntityKind>(s.i64(1)));
    out.entity_id.push_back(s.i64(2));
    out.from.push_back(s.str(3));
    out.to.push_back(s.str(4));
    out.at_micros.push_back(s.i64(5));
    out.rule.push_back(s.str(6));
    out.actor.push_back(s.str(7));
    out.reason.push_back(s.str(8));
    out.recorded_at_micros.push_back(s.i64(9));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Writes

TransitionRecord Store::transition(const Machine& machine, EntityRef entity, std::string_view to,
                                   const TransitionRequest& request, const WriteContext& ctx) {
  check_text(request.reason, "reason", 0, kMaxReason);
  check_text(request.actor, "actor", 0, 256);
  TransitionRecord r;
  {
    Impl::WriteScope w(*impl_, ctx);
    sql::Db& db = w.db();
    const EntityInfo info = read_entity(db, entity);
    check_pipeline(machine, entity, info);
    const std::string who = entity.kind == EntityKind::customer
                                ? "customer " + std::to_string(entity.id)
                                : "the customer of opportunity " + std::to_string(entity.id);
    if (info.erased) throw_error(ErrorCode::conflict, "entity", who + " is erased");
    if (info.deleted)
      throw_error(ErrorCode::conflict, "entity", who + " is deleted (restore it first)");
    const EntityState cur = read_state(db, machine, entity, info);
    const std::string target(to);
    static_cast<void>(machine.check_manual(cur.state, target, request.reason));
    r.at = request.at.value_or(w.now());
    check_at(r.at, cur, w.now());
    r.machine = std::string(machine.name());
    r.entity = entity;
    r.from = cur.state;
    r.to = target;
    r.actor = request.actor.empty() ? w.actor() : request.actor;
    r.reason = request.reason;
    r.recorded_at = w.now();
    write_transition(db, r);
    w.audit(to_string(entity.kind), entity.id, "transition", r.machine, json_string(r.from),
            json_string(r.to));
    w.commit();
  }
  impl_->notify({r});
  return r;
}

std::vector<TransitionRecord> Store::apply_transitions(const Machine& machine,
                                                       std::span<const PlannedTransition> changes,
                                                       const WriteContext& ctx) {
  std::vector<TransitionRecord> out;
  {
    Impl::WriteScope w(*impl_, ctx);
    out = run_batch(w.db(), machine, changes, w.now(), w.actor(), true);
    if (out.empty()) return out;
    // One audit entry for the batch (like import_purchases); each change is its history row.
    const nlohmann::json summary = {{"transitions", out.size()},
                                    {"first_id", out.front().id},
                                    {"last_id", out.back().id}};
    w.audit("lifecycle", 0, "apply_transitions", out.front().machine, "", summary.dump());
    w.commit();
  }
  impl_->notify(out);
  return out;
}

std::vector<TransitionRecord> Store::check_transitions(const Machine& machine,
                                                       std::span<const PlannedTransition> changes,
                                                       const WriteContext& ctx) const {
  Impl::ReadLease lease(*impl_);
  sql::Db& db = lease.db();
  sql::ReadTxn rt(db);
  return run_batch(db, machine, changes, Timestamp::now(), impl_->actor_of(ctx), false);
}

// ---------------------------------------------------------------------------------------------
// Listeners

ListenerId Store::add_transition_listener(TransitionListener listener) {
  if (!listener) throw_invalid("listener", "is empty");
  std::lock_guard<std::mutex> g(impl_->listener_mu);
  const ListenerId id = impl_->next_listener++;
  impl_->listeners.push_back(
      {id, std::make_shared<TransitionListener>(std::move(listener))});
  return id;
}

bool Store::remove_transition_listener(ListenerId id) {
  std::shared_ptr<TransitionListener> removed;  // destroyed after the lock is released
  std::lock_guard<std::mutex> g(impl_->listener_mu);
  for (auto it = impl_->listeners.begin(); it != impl_->listeners.end(); ++it) {
    if (it->id == id) {
      removed = std::move(it->fn);
      impl_->listeners.erase(it);
      return true;
    }
  }
  return false;
}

std::vector<ListenerError> Store::take_listener_errors() {
  std::lock_guard<std::mutex> g(impl_->listener_mu);
  std::vector<ListenerError> out(impl_->listener_errors.begin(), impl_->listener_errors.end());
  impl_->listener_errors.clear();
  return out;
}

void Store::Impl::notify(const std::vector<TransitionRecord>& records) {
  if (records.empty()) return;
  std::vector<ListenerSlot> snapshot;
  {
    std::lock_guard<std::mutex> g(listener_mu);
    snapshot = listeners;
  }
  if (snapshot.empty()) return;
  auto report = [&](ListenerId id, std::int64_t transition, std::string message) {
    std::lock_guard<std::mutex> g(listener_mu);
    listener_errors.push_back({id, transition, std::move(message)});
    while (listener_errors.size() > kMaxListenerErrors) listener_errors.pop_front();
  };
  for (const auto& r : records) {
    for (const auto& l : snapshot) {
      try {
        (*l.fn)(r);
      } catch (const std::exception& e) {
        report(l.id, r.id, e.what());
      } catch (...) {
        report(l.id, r.id, "unknown exception");
      }
    }
  }
}

}  // namespace v0
}  // namespace crmkit
