// Store: whole-store export and import as JSON Lines.
//
// Format "crmkit-jsonl" version 1, one JSON object per line, keys sorted (nlohmann's default):
//   {"currency":"USD","format":"crmkit-jsonl","schema_version":2,"suppression_key":"<hex>","version":1}
//                          (a store with a host-supplied key writes "suppression_key_check":"<hex>",
//                          "suppression_key_mode":"host" instead of "suppression_key")
//   {"field":{...}}        per declared field, in id order (to_json(FieldDef))
//   {"customer":{...}}     per customer, in id order (to_json(Customer))
//   {"event":{...}}        per event, in id order (to_json(Event))
//   {"opportunity":{...}}  per opportunity, in id order (schema v3)
//   {"state":{"entity_id":1,"entity_kind":"customer","machine":"..","since":"..","state":".."}}
//                          per recorded lifecycle state, by (machine, entity kind, entity id)
//   {"transition":{"actor":"..","at":"..","entity_id":1,"entity_kind":"customer","from":"..",
//                  "id":1,"machine":"..","reason":"..","recorded_at":"..","rule":"..","to":".."}}
//                          per history row, in id order
//   {"points_program":{"defined_at":..,"id":1,"last_event":..,"name":..,"program":{..},
//                      "updated_at":..}}   per points programme, in id order (schema v4)
//   {"points_entry":{"actor","amount_minor","at","available_at","customer","event",
//                    "expires_at","id","idempotency_key","kind","points","program","reason",
//                    "recorded_at","rule"}}   per points entry, in id order
//   {"audit":{...}}        per audit entry, in id order
//   {"suppression":{"hash":"<hex>","kind":"email"}}   per hash, in hash order
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <istream>
#include <ostream>
#include <string>

#include "crmkit/base/error.hpp"
#include "crmkit/base/json.hpp"
#include "store/codes.hpp"
#include "store/store_impl.hpp"
#include "store/write_scope.hpp"

namespace crmkit {
inline namespace v0 {

namespace {

constexpr const char* kJsonlFormat = "crmkit-jsonl";
constexpr int kJsonlVersion = 1;

void write_line(std::ostream& out, const nlohmann::json& j) {
  out << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict) << '\n';
}

const std::string& get_string(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) throw_invalid(key, "must be a string");
  return it->get_ref<const std::string&>();
}

std::int64_t get_int(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) throw_invalid(key, "must be an integer");
  return it->get<std::int64_t>();
}

std::string entity_text(std::int64_t kind_code, std::int64_t id) {
  return std::string(to_string(static_cast<EntityKind>(kind_code))) + " " + std::to_string(id);
}

// A lifecycle row of the import names an entity that exists (an export writes customers and
// opportunities before states and transitions), and an opportunity's rows are of its pipeline:
// the checks Store::transition and apply_transitions make.
void check_lifecycle_entity(sql::Db& db, EntityKind kind, std::int64_t id,
                            const std::string& machine, const char* field) {
  if (kind == EntityKind::customer) {
    auto s = db.cached("SELECT 1 FROM customers WHERE id = ?");
    s.bind(1, id);
    if (!s.step())
      throw_error(ErrorCode::not_found, field, "no customer with id " + std::to_string(id));
    return;
  }
  auto s = db.cached("SELECT pipeline FROM opportunities WHERE id = ?");
  s.bind(1, id);
  if (!s.step())
    throw_error(ErrorCode::not_found, field, "no opportunity with id " + std::to_string(id));
  if (s.str(0) != machine)
    throw_invalid(field, "opportunity " + std::to_string(id) + " is tracked by pipeline '" +
                             s.str(0) + "', not by '" + machine + "'");
}

// After the last line: the states and the history read back are what live writes leave. Per
// (machine, entity) the transitions chain in id order (each one's from is the previous one's to)
// and do not go back in time; the state row is the last transition's `to` since its `at`; there
// is a state row exactly when there is a transition. Throws Error{corrupt} naming the row.
void check_lifecycle_rows(sql::Db& db) {
  {
    auto s = db.cached(
        "SELECT id, machine, entity_kind, entity_id, from_state, prev_to, at, prev_at FROM ("
        "SELECT id, machine, entity_kind, entity_id, from_state, at, "
        "LAG(to_state) OVER w AS prev_to, LAG(at) OVER w AS prev_at FROM transitions "
        "WINDOW w AS (PARTITION BY machine, entity_kind, entity_id ORDER BY id)) "
        "WHERE prev_to IS NOT NULL AND (from_state <> prev_to OR at < prev_at) ORDER BY id "
        "LIMIT 1");
    if (s.step()) {
      const std::string head = "transition " + std::to_string(s.i64(0)) + ": " +
                               entity_text(s.i64(2), s.i64(3)) + " in '" + s.str(1) + "' ";
      if (s.str(4) != s.str(5))
        throw Error(ErrorCode::corrupt, head + "moves from '" + s.str(4) +
                                            "', but its previous transition entered '" +
                                            s.str(5) + "'");
      throw Error(ErrorCode::corrupt, head + "takes effect at " + Timestamp(s.i64(6)).to_string() +
                                          ", before its previous transition (" +
                                          Timestamp(s.i64(7)).to_string() + ")");
    }
  }
  {
    auto s = db.cached(
        "SELECT s.machine, s.entity_kind, s.entity_id, s.state, s.since, t.id, t.to_state, t.at "
        "FROM machine_states s LEFT JOIN transitions t ON t.id = (SELECT max(x.id) FROM "
        "transitions x WHERE x.machine = s.machine AND x.entity_kind = s.entity_kind AND "
        "x.entity_id = s.entity_id) WHERE t.id IS NULL OR t.to_state <> s.state OR "
        "t.at <> s.since ORDER BY s.machine, s.entity_kind, s.entity_id LIMIT 1");
    if (s.step()) {
      const std::string head = "state of " + entity_text(s.i64(1), s.i64(2)) + " in '" +
                               s.str(0) + "': '" + s.str(3) + "' since " +
                               Timestamp(s.i64(4)).to_string();
      if (s.is_null(5)) throw Error(ErrorCode::corrupt, head + ", but it has no transition");
      throw Error(ErrorCode::corrupt, head + ", but its last transition (" +
                                          std::to_string(s.i64(5)) + ") entered '" + s.str(6) +
                                          "' at " + Timestamp(s.i64(7)).to_string());
    }
  }
  {
    auto s = db.cached(
        "SELECT t.id, t.machine, t.entity_kind, t.entity_id FROM transitions t WHERE NOT EXISTS "
        "(SELECT 1 FROM machine_states s WHERE s.machine = t.machine AND "
        "s.entity_kind = t.entity_kind AND s.entity_id = t.entity_id) ORDER BY t.id LIMIT 1");
    if (s.step())
      throw Error(ErrorCode::corrupt, "transition " + std::to_string(s.i64(0)) + ": " +
                                          entity_text(s.i64(2), s.i64(3)) + " in '" + s.str(1) +
                                          "' has no state row");
  }
}

}  // namespace

void Store::Impl::write_jsonl(sql::Db& db, std::ostream& out) const {
  sql::ReadTxn rt(db);
  std::string key;
  {
    std::lock_guard<std::mutex> g(key_mu);
    key = suppression_key;
  }
  nlohmann::json header = {{"format", kJsonlFormat},
                           {"version", kJsonlVersion},
                           {"schema_version", Store::current_schema_version()},
                           {"currency", std::string(currency.code())}};
  // A host-supplied key is never written out: only its check value (which matches no hash).
  if (host_key) {
    header["suppression_key_mode"] = "host";
    header["suppression_key_check"] = to_hex(key_check(key));
  } else {
    header["suppression_key"] = to_hex(key);
  }
  write_line(out, header);
  for (const auto& f : load_fields(db)) write_line(out, {{"field", to_json(f)}});
  {
    auto s = db.cached("SELECT " CRMKIT_CUSTOMER_COLS " FROM customers ORDER BY id");
    while (s.step()) write_line(out, {{"customer", to_json(customer_from_row(s))}});
  }
  {
    auto s = db.cached("SELECT " CRMKIT_EVENT_COLS " FROM events ORDER BY id");
    while (s.step()) write_line(out, {{"event", to_json(event_from_row(s))}});
  }
  {
    auto s = db.cached("SELECT " CRMKIT_OPPORTUNITY_COLS " FROM opportunities ORDER BY id");
    while (s.step()) write_line(out, {{"opportunity", opportunity_to_json(opportunity_from_row(s))}});
  }
  {
    auto s = db.cached(
        "SELECT machine, entity_kind, entity_id, state, since FROM machine_states "
        "ORDER BY machine, entity_kind, entity_id");
    while (s.step())
      write_line(out, {{"state",
                        {{"machine", s.str(0)},
                         {"entity_kind", to_string(static_cast<EntityKind>(s.i64(1)))},
                         {"entity_id", s.i64(2)},
                         {"state", s.str(3)},
                         {"since", Timestamp(s.i64(4)).to_string()}}}});
  }
  {
    auto s = db.cached(
        "SELECT id, machine, entity_kind, entity_id, from_state, to_state, at, rule, actor, "
        "reason, recorded_at FROM transitions ORDER BY id");
    while (s.step())
      write_line(out, {{"transition",
                        {{"id", s.i64(0)},
                         {"machine", s.str(1)},
                         {"entity_kind", to_string(static_cast<EntityKind>(s.i64(2)))},
                         {"entity_id", s.i64(3)},
                         {"from", s.str(4)},
                         {"to", s.str(5)},
                         {"at", Timestamp(s.i64(6)).to_string()},
                         {"rule", s.str(7)},
                         {"actor", s.str(8)},
                         {"reason", s.str(9)},
                         {"recorded_at", Timestamp(s.i64(10)).to_string()}}}});
  }
  write_points_jsonl(db, [&out](const nlohmann::json& j) { write_line(out, j); });
  {
    auto s = db.cached(
        "SELECT id, at, actor, source, entity, entity_id, action, field, old_value, new_value "
        "FROM audit ORDER BY id");
    while (s.step()) {
      nlohmann::json a = {{"id", s.i64(0)},
                          {"at", Timestamp(s.i64(1)).to_string()},
                          {"actor", s.str(2)},
                          {"source", s.str(3)},
                          {"entity", s.str(4)},
                          {"entity_id", s.i64(5)},
                          {"action", s.str(6)},
                          {"field", s.str(7)},
                          {"old_value", s.str(8)},
                          {"new_value", s.str(9)}};
      write_line(out, {{"audit", std::move(a)}});
    }
  }
  {
    auto s = db.cached("SELECT hash, kind FROM suppression ORDER BY hash");
    while (s.step())
      write_line(out, {{"suppression", {{"hash", to_hex(s.blob(0))}, {"kind", s.str(1)}}}});
  }
}

void Store::export_jsonl(std::ostream& out) const {
  Impl::ReadLease lease(*impl_);
  impl_->write_jsonl(lease.db(), out);
  out.flush();
  if (!out) throw Error(ErrorCode::storage, "export: cannot write the output stream");
}

void Store::export_jsonl(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  try {
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) throw Error(ErrorCode::storage, "export: cannot open '" + tmp + "'");
      export_jsonl(out);
      out.close();
      if (!out) throw Error(ErrorCode::storage, "export: cannot write '" + tmp + "'");
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec)
      throw Error(ErrorCode::storage,
                  "export: cannot rename '" + tmp + "' to '" + path + "': " + ec.message());
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw;
  }
}

void Store::import_jsonl(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::storage, "import: cannot open '" + path + "'");
  import_jsonl(in);
}

void Store::import_jsonl(std::istream& in) {
  // No audit entry: the import restores the exported log as it was (see store.hpp).
  Impl::WriteScope w(*impl_, WriteContext{});
  sql::Db& db = w.db();
  {
    const auto customers = db.query_int("SELECT count(*) FROM customers");
    const auto events = db.query_int("SELECT count(*) FROM events");
    const auto fields = db.query_int("SELECT count(*) FROM fields");
    const auto lifecycle = db.query_int(
        "SELECT (SELECT count(*) FROM opportunities) + (SELECT count(*) FROM machine_states) + "
        "(SELECT count(*) FROM transitions) + (SELECT count(*) FROM points_programs) + "
        "(SELECT count(*) FROM points_entries)");
    if (customers + events + fields + lifecycle != 0)
      throw_error(ErrorCode::conflict, "store",
                  "import_jsonl needs an empty store (it has " + std::to_string(customers) +
                      " customers, " + std::to_string(events) + " events, " +
                      std::to_string(fields) + " fields" +
                      (lifecycle != 0 ? ", " + std::to_string(lifecycle) +
                                            " opportunities, lifecycle states, transitions, "
                                            "points programmes and entries"
                                      : std::string()) +
                      ")");
  }
  std::vector<FieldDef> fields;
  Impl::PointsImport points;
  std::string key;                      // a file-mode export's key
  bool in_file_key_into_host = false;   // a file-mode export into a host-mode store
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    const std::string where = "line " + std::to_string(line_no);
    nlohmann::json j;
    try {
      j = parse_json_strict(line, where);
    } catch (const Error& e) {
      throw Error(ErrorCode::corrupt, std::string("import: ") + e.what());
    }
    try {
      if (line_no == 1) {
        if (!j.is_object() || !j.contains("format") || j["format"] != kJsonlFormat)
          throw Error(ErrorCode::corrupt, "format: not a crmkit-jsonl export");
        if (get_int(j, "version") != kJsonlVersion)
          throw Error(ErrorCode::corrupt,
                      "version: unknown export version " + std::to_string(get_int(j, "version")));
        const std::string& cur = get_string(j, "currency");
        if (cur != impl_->currency.code())
          throw_error(ErrorCode::conflict, "currency",
                      "the export's currency is " + cur + ", not the store's " +
                          std::string(impl_->currency.code()));
        if (j.contains("suppression_key_mode")) {
          // A host-mode export: its hashes match only under the host's key.
          if (get_string(j, "suppression_key_mode") != "host")
            throw_invalid("suppression_key_mode", "unknown mode (expected \"host\")");
          if (j.contains("suppression_key"))
            throw_invalid("suppression_key", "a host-mode export carries no key");
          const std::string check =
              from_hex(get_string(j, "suppression_key_check"), "suppression_key_check");
          if (check.size() != 32) throw_invalid("suppression_key_check", "must be 32 bytes");
          if (!impl_->host_key)
            throw_error(ErrorCode::conflict, "suppression_key_mode",
                        "the export's suppression hashes are keyed with a host-supplied key; "
                        "import it into a store opened with that key");
          if (check != Impl::key_check(impl_->suppression_key))
            throw_error(ErrorCode::conflict, "suppression_key_check",
                        "the export's suppression hashes are keyed with another key than this "
                        "store's");
        } else {
          key = from_hex(get_string(j, "suppression_key"), "suppression_key");
          if (key.size() != 32) throw_invalid("suppression_key", "must be 32 bytes");
          in_file_key_into_host = impl_->host_key;
        }
        continue;
      }
      if (!j.is_object() || j.size() != 1)
        throw Error(ErrorCode::corrupt, "expected one object with one key");
      const std::string kind = j.begin().key();
      const nlohmann::json& v = j.begin().value();
      if (kind == "field") {
        FieldDef def = field_def_from_json(v);
        validate_field_def(def);
        auto s = db.cached("INSERT INTO fields(name, data) VALUES(?, ?)");
        const std::string data = to_json(def).dump();
        s.bind_static(1, def.name).bind_static(2, data).run();
        fields.push_back(std::move(def));
      } else if (kind == "customer") {
        Customer c = customer_from_json(v);
        if (c.id <= 0) throw_invalid("customer.id", "must be positive");
        if (!c.erased) {
          Customer copy = c;
          validate_customer(copy, fields, impl_->currency);
        }
        impl_->write_customer_row(db, c, true);
        Impl::write_contact_index(db, c);
      } else if (kind == "event") {
        Event e = event_from_json(v);
        if (e.id <= 0) throw_invalid("event.id", "must be positive");
        impl_->check_event(e);
        impl_->check_references(db, e);  // the invariants of a live append (issue 9)
        impl_->insert_event_row(db, e, true);
      } else if (kind == "opportunity") {
        Opportunity o = impl_->opportunity_from_json(v);
        if (o.id <= 0) throw_invalid("opportunity.id", "must be positive");
        Opportunity copy = o;
        validate_opportunity(copy, impl_->currency);
        if (!impl_->try_read_customer(db, o.customer))
          throw_error(ErrorCode::not_found, "opportunity.customer",
                      "no customer with id " + std::to_string(o.customer));
        // The row insert replaces (update_opportunity rewrites a row): a repeated id would
        // silently overwrite the first one, where a repeated customer or event id is refused.
        if (impl_->try_read_opportunity(db, o.id))
          throw_error(ErrorCode::conflict, "opportunity.id",
                      "opportunity " + std::to_string(o.id) + " appears twice");
        impl_->insert_opportunity_row(db, o, true);
      } else if (kind == "state") {
        if (v.size() != 5) throw_invalid("state", "expected 5 keys");
        const EntityKind ek = parse_entity_kind(get_string(v, "entity_kind"), "state.entity_kind");
        check_lifecycle_entity(db, ek, get_int(v, "entity_id"), get_string(v, "machine"),
                               "state.entity_id");
        auto s = db.cached(
            "INSERT INTO machine_states(machine, entity_kind, entity_id, state, since) "
            "VALUES(?,?,?,?,?)");
        s.bind(1, get_string(v, "machine"))
            .bind(2, codes::code(ek))
            .bind(3, get_int(v, "entity_id"))
            .bind(4, get_string(v, "state"))
            .bind(5, Timestamp::parse(get_string(v, "since"), "state.since").micros())
            .run();
      } else if (kind == "transition") {
        if (v.size() != 11) throw_invalid("transition", "expected 11 keys");
        const EntityKind ek =
            parse_entity_kind(get_string(v, "entity_kind"), "transition.entity_kind");
        check_lifecycle_entity(db, ek, get_int(v, "entity_id"), get_string(v, "machine"),
                               "transition.entity_id");
        auto s = db.cached(
            "INSERT INTO transitions(id, machine, entity_kind, entity_id, from_state, to_state, "
            "at, rule, actor, reason, recorded_at) VALUES(?,?,?,?,?,?,?,?,?,?,?)");
        s.bind(1, get_int(v, "id"))
            .bind(2, get_string(v, "machine"))
            .bind(3, codes::code(ek))
            .bind(4, get_int(v, "entity_id"))
            .bind(5, get_string(v, "from"))
            .bind(6, get_string(v, "to"))
            .bind(7, Timestamp::parse(get_string(v, "at"), "transition.at").micros())
            .bind(8, get_string(v, "rule"))
            .bind(9, get_string(v, "actor"))
            .bind(10, get_string(v, "reason"))
            .bind(11, Timestamp::parse(get_string(v, "recorded_at"), "transition.recorded_at")
                          .micros())
            .run();
      } else if (impl_->import_points_record(db, kind, v, line_no, points)) {
        // a points programme or entry (store_points.cpp)
      } else if (kind == "audit") {
        AuditEntry a;
        a.id = get_int(v, "id");
        a.at = Timestamp::parse(get_string(v, "at"), "audit.at");
        a.actor = get_string(v, "actor");
        a.source = get_string(v, "source");
        a.entity = get_string(v, "entity");
        a.entity_id = get_int(v, "entity_id");
        a.action = get_string(v, "action");
        a.field = get_string(v, "field");
        a.old_value = get_string(v, "old_value");
        a.new_value = get_string(v, "new_value");
        if (v.size() != 10) throw_invalid("audit", "unexpected keys");
        Impl::insert_audit_row(db, a);
      } else if (kind == "suppression") {
        if (in_file_key_into_host)
          throw_error(ErrorCode::conflict, "suppression",
                      "the export's hashes are keyed with its in-file key and this store uses a "
                      "host-supplied key; hashes cannot be re-keyed (import into a store "
                      "created without suppression_key)");
        const std::string hash = from_hex(get_string(v, "hash"), "suppression.hash");
        const std::string& k = get_string(v, "kind");
        auto s = db.cached("INSERT INTO suppression(hash, kind) VALUES(?, ?)");
        s.bind_blob(1, hash.data(), hash.size()).bind_static(2, k).run();
      } else {
        throw Error(ErrorCode::corrupt, "unknown record '" + kind + "'");
      }
    } catch (const Error& e) {
      rethrow_prefixed(e, "import: " + where + ": ");
    } catch (const nlohmann::json::exception& e) {
      throw Error(ErrorCode::corrupt, "import: " + where + ": " + e.what());
    }
  }
  if (in.bad()) throw Error(ErrorCode::storage, "import: read error");
  if (line_no == 0) throw Error(ErrorCode::corrupt, "import: empty input");
  try {
    check_lifecycle_rows(db);
  } catch (const Error& e) {
    rethrow_prefixed(e, "import: ");
  }
  impl_->check_imported_points(points);
  if (!impl_->host_key) {
    auto s = db.cached("UPDATE meta SET value = ? WHERE key = 'suppression_key'");
    s.bind_blob(1, key.data(), key.size()).run();
  }
  w.commit();
  impl_->fields = std::move(fields);
  if (!impl_->host_key) {
    std::lock_guard<std::mutex> g(impl_->key_mu);
    impl_->suppression_key = std::move(key);
  }
}

}  // namespace v0
}  // namespace crmkit
