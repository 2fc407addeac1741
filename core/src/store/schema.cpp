// The store's schema, one migration step per version; see schema.hpp.
#include "store/schema.hpp"

#include <openssl/rand.h>

#include <functional>
#include <string>
#include <vector>

#include "crmkit/base/error.hpp"
#include "crmkit/loyalty/points.hpp"
#include "crmkit/records/opportunity.hpp"
#include "store/codes.hpp"

namespace crmkit {
inline namespace v0 {
namespace schema {

namespace {

// Schema v1. The `events` table (with its indexes) is what bench/ compares the bulk import
// against: the benchmark copies these CREATE TABLE / CREATE INDEX statements from sqlite_master at
// run time and inserts the same rows with plain prepared statements.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE meta(
  key TEXT PRIMARY KEY,
  value BLOB NOT NULL
);
CREATE TABLE fields(
  id INTEGER PRIMARY KEY,
  name TEXT UNIQUE NOT NULL,
  data TEXT NOT NULL
);
CREATE TABLE customers(
  id INTEGER PRIMARY KEY,
  external_id TEXT UNIQUE NOT NULL,
  kind INTEGER NOT NULL,
  name TEXT NOT NULL,
  data TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  erased INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE contact_index(
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  kind INTEGER NOT NULL,
  value TEXT NOT NULL
);
CREATE INDEX contact_index_value ON contact_index(kind, value);
CREATE INDEX contact_index_customer ON contact_index(customer_id);
CREATE TABLE events(
  id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  type INTEGER NOT NULL,
  at INTEGER NOT NULL,
  recorded_at INTEGER NOT NULL,
  source TEXT,
  actor TEXT,
  idempotency_key TEXT UNIQUE,
  amount_minor INTEGER,
  ref_id INTEGER,
  item_count INTEGER,
  essential INTEGER,
  order_id TEXT,
  category TEXT,
  data TEXT
);
CREATE INDEX events_customer_at ON events(customer_id, at);
CREATE INDEX events_ref ON events(ref_id) WHERE ref_id IS NOT NULL;
CREATE TABLE audit(
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  source TEXT NOT NULL,
  entity TEXT NOT NULL,
  entity_id INTEGER NOT NULL,
  action TEXT NOT NULL,
  field TEXT NOT NULL,
  old_value TEXT NOT NULL,
  new_value TEXT NOT NULL
);
CREATE INDEX audit_entity ON audit(entity, entity_id);
CREATE TABLE suppression(
  hash BLOB PRIMARY KEY,
  kind TEXT NOT NULL
) WITHOUT ROWID;
)sql";

// One row of the codes table.
struct CodeRow {
  const char* enumeration;  // "event_type", "customer_kind", ...
  std::int64_t code;
  const char* name;         // the enum's wire name (to_string)
};

template <class E>
void add_codes(std::vector<CodeRow>& out, const char* enumeration, std::initializer_list<E> all) {
  for (E v : all) out.push_back({enumeration, codes::code(v), to_string(v)});
}

// The codes schema v2 introduced (the codes table's first rows). Frozen: a code added later
// goes into the list of the version that adds it (v3_codes), so that migrating an old file adds
// exactly the rows it lacks.
const std::vector<CodeRow>& v2_codes() {
  static const std::vector<CodeRow> rows = [] {
    std::vector<CodeRow> r;
    add_codes(r, "event_type",
              {EventType::purchase, EventType::refund, EventType::interaction,
               EventType::referral, EventType::survey_response, EventType::event_participation});
    add_codes(r, "customer_kind", {CustomerKind::person, CustomerKind::organisation});
    add_codes(r, "contact_kind",
              {ContactKind::email, ContactKind::phone, ContactKind::im, ContactKind::postal});
    add_codes(r, "interaction_kind",
              {InteractionKind::call, InteractionKind::visit, InteractionKind::email,
               InteractionKind::message, InteractionKind::gift, InteractionKind::hospitality,
               InteractionKind::site_visit, InteractionKind::event, InteractionKind::meeting,
               InteractionKind::other});
    add_codes(r, "contact_purpose",
              {ContactPurpose::care, ContactPurpose::information, ContactPurpose::deal,
               ContactPurpose::service, ContactPurpose::intelligence});
    return r;
  }();
  return rows;
}

// The codes schema v3 added: the entity kinds of lifecycle states and history.
const std::vector<CodeRow>& v3_codes() {
  static const std::vector<CodeRow> rows = [] {
    std::vector<CodeRow> r;
    add_codes(r, "entity_kind", {EntityKind::customer, EntityKind::opportunity});
    return r;
  }();
  return rows;
}

// The codes schema v4 added: the kinds of points ledger entries.
const std::vector<CodeRow>& v4_codes() {
  static const std::vector<CodeRow> rows = [] {
    std::vector<CodeRow> r;
    add_codes(r, "points_entry_kind",
              {PointsEntryKind::earn, PointsEntryKind::redeem, PointsEntryKind::reversal,
               PointsEntryKind::adjustment, PointsEntryKind::spend});
    return r;
  }();
  return rows;
}

// Every enum the store writes as an integer (columns) or by name (event data), with its code.
const std::vector<CodeRow>& library_codes() {
  static const std::vector<CodeRow> rows = [] {
    std::vector<CodeRow> r = v2_codes();
    r.insert(r.end(), v3_codes().begin(), v3_codes().end());
    r.insert(r.end(), v4_codes().begin(), v4_codes().end());
    return r;
  }();
  return rows;
}

void insert_codes(sql::Db& db, const std::vector<CodeRow>& rows) {
  auto ins = db.prepare("INSERT INTO codes(enumeration, code, name) VALUES(?, ?, ?)");
  for (const auto& row : rows) {
    ins.bind(1, std::string_view(row.enumeration))
        .bind(2, row.code)
        .bind(3, std::string_view(row.name))
        .run();
    ins.reset();
  }
}

// Schema v3: opportunities, the current state of each entity per lifecycle machine, and the
// history of transitions.
//  - machine_states holds a row only for an entity that has made a transition in that machine;
//    an entity without a row is in the machine's initial state since its created_at (so adding a
//    machine, a customer or an opportunity back-fills nothing).
//  - transitions is append-only (erasure blanks reason only). rule is the automatic rule's
//    name ('' for a manual transition); actor who made it; at when it took effect; recorded_at
//    when it was written.
//  - entity_kind holds EntityKind codes (codes table, enumeration 'entity_kind'); entity_id a
//    customers.id or opportunities.id (not a foreign key: one column refers to two tables).
constexpr const char* kSchemaV3 = R"sql(
CREATE TABLE opportunities(
  id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  name TEXT NOT NULL,
  amount_minor INTEGER NOT NULL,
  expected_close INTEGER NOT NULL,
  owner TEXT NOT NULL,
  pipeline TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX opportunities_customer ON opportunities(customer_id);
CREATE INDEX opportunities_pipeline ON opportunities(pipeline, id);
CREATE TABLE machine_states(
  machine TEXT NOT NULL,
  entity_kind INTEGER NOT NULL,
  entity_id INTEGER NOT NULL,
  state TEXT NOT NULL,
  since INTEGER NOT NULL,
  PRIMARY KEY(machine, entity_kind, entity_id)
) WITHOUT ROWID;
CREATE TABLE transitions(
  id INTEGER PRIMARY KEY,
  machine TEXT NOT NULL,
  entity_kind INTEGER NOT NULL,
  entity_id INTEGER NOT NULL,
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  at INTEGER NOT NULL,
  rule TEXT NOT NULL,
  actor TEXT NOT NULL,
  reason TEXT NOT NULL,
  recorded_at INTEGER NOT NULL
);
CREATE INDEX transitions_entity ON transitions(machine, entity_kind, entity_id, id);
)sql";

// Schema v4: points programmes and the points ledger (crmkit/loyalty/points.hpp).
//  - points_programs: one row per defined programme; data is Program::to_json_text();
//    defined_at / updated_at the times of its first and last definition; last_event is the
//    watermark of earn_points: every ledger event with id <= last_event has been processed for
//    this programme (0: none yet).
//  - points_entries is append-only (erasure blanks reason only): every PointsEntry field, with
//    program_id the programme, kind a PointsEntryKind code (codes table, enumeration
//    'points_entry_kind'), times in microseconds, event_id NULL for 0, expires_at NULL for
//    never, amount_minor (spend entries: minor units of the store currency) NULL otherwise,
//    idempotency_key NULL when empty and unique per programme; recorded_at and actor say when and
//    by whom it was written.
constexpr const char* kSchemaV4 = R"sql(
CREATE TABLE points_programs(
  id INTEGER PRIMARY KEY,
  name TEXT UNIQUE NOT NULL,
  data TEXT NOT NULL,
  defined_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  last_event INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE points_entries(
  id INTEGER PRIMARY KEY,
  program_id INTEGER NOT NULL REFERENCES points_programs(id),
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  kind INTEGER NOT NULL,
  at INTEGER NOT NULL,
  points INTEGER NOT NULL,
  available_at INTEGER NOT NULL,
  expires_at INTEGER,
  event_id INTEGER,
  rule TEXT NOT NULL,
  amount_minor INTEGER,
  idempotency_key TEXT,
  reason TEXT NOT NULL,
  recorded_at INTEGER NOT NULL,
  actor TEXT NOT NULL
);
CREATE INDEX points_entries_customer ON points_entries(program_id, customer_id, at, id);
CREATE UNIQUE INDEX points_entries_key ON points_entries(program_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
)sql";

// v0 -> v1: the tables, the format marker, the currency and a fresh suppression key.
void step_create_v1(sql::Db& db, const std::string& currency) {
  db.exec(kSchemaV1);
  unsigned char key[32];
  if (RAND_bytes(key, sizeof key) != 1)
    throw Error(ErrorCode::storage, "store: cannot generate the suppression key");
  auto ins = db.prepare("INSERT INTO meta(key, value) VALUES(?, ?)");
  ins.bind(1, std::string_view("format")).bind(2, std::string_view(kFormat)).run();
  ins.reset();
  ins.bind(1, std::string_view("currency")).bind(2, std::string_view(currency)).run();
  ins.reset();
  ins.bind(1, std::string_view("suppression_key")).bind_blob(2, key, sizeof key).run();
}

// v1 -> v2: the codes table. The codes themselves did not change (v1 wrote the same numbers,
// then implicit enum values), so no row of another table is rewritten.
void step_codes_v2(sql::Db& db, const std::string&) {
  db.exec(
      "CREATE TABLE codes(enumeration TEXT NOT NULL, code INTEGER NOT NULL, name TEXT NOT NULL, "
      "PRIMARY KEY(enumeration, code)) WITHOUT ROWID");
  insert_codes(db, v2_codes());
}

// v2 -> v3: opportunities, machine_states, transitions and the entity_kind codes. No existing
// row is rewritten.
void step_lifecycle_v3(sql::Db& db, const std::string&) {
  db.exec(kSchemaV3);
  insert_codes(db, v3_codes());
}

// v3 -> v4: points_programs, points_entries and the points_entry_kind codes. No existing row is
// rewritten.
void step_points_v4(sql::Db& db, const std::string&) {
  db.exec(kSchemaV4);
  insert_codes(db, v4_codes());
}

using Step = std::function<void(sql::Db&, const std::string& currency)>;

// steps()[i] takes a file from version i to i + 1.
const std::vector<Step>& steps() {
  static const std::vector<Step> list = {step_create_v1, step_codes_v2, step_lifecycle_v3,
                                      step_points_v4};
  return list;
}

}  // namespace

void migrate(sql::Db& db, int from, const std::string& currency) {
  static_assert(kCurrentVersion >= 1);
  if (steps().size() != static_cast<std::size_t>(kCurrentVersion))
    throw Error(ErrorCode::storage, "store: migration list does not reach the current version");
  for (int v = from; v < kCurrentVersion; ++v) steps()[static_cast<std::size_t>(v)](db, currency);
  db.exec(("PRAGMA user_version=" + std::to_string(kCurrentVersion)).c_str());
}

void check_codes(sql::Db& db, const std::string& path) {
  std::size_t found = 0;
  auto s = db.prepare("SELECT enumeration, code, name FROM codes");
  while (s.step()) {
    const std::string enumeration = s.str(0);
    const std::int64_t code = s.i64(1);
    const std::string name = s.str(2);
    const CodeRow* mine = nullptr;
    for (const auto& row : library_codes())
      if (enumeration == row.enumeration && code == row.code) mine = &row;
    if (mine == nullptr)
      throw Error(ErrorCode::corrupt, "store: '" + path + "' uses " + enumeration + " code " +
                                          std::to_string(code) + " ('" + name +
                                          "'), unknown to this library");
    if (name != mine->name)
      throw Error(ErrorCode::corrupt, "store: '" + path + "' stores " + enumeration + " code " +
                                          std::to_string(code) + " as '" + name +
                                          "', this library as '" + mine->name + "'");
    ++found;
  }
  if (found != library_codes().size())
    throw Error(ErrorCode::corrupt, "store: '" + path + "' lists " + std::to_string(found) +
                                        " enum codes, this library " +
                                        std::to_string(library_codes().size()));
}

}  // namespace schema
}  // namespace v0
}  // namespace crmkit
