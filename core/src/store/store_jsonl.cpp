// Store: whole-store export and import as JSON Lines.
//
// Format "crmkit-jsonl" version 2, one JSON object per line, keys sorted (nlohmann's default):
//   {"currency":"USD","format":"crmkit-jsonl","schema_version":2,"suppression_key":"<hex>","version":2}
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
//   {"trailer":{"counts":{"audit":N,"customer":N,...,"transition":N},"sha256":"<hex>"}}
//                          last line (version 2): the number of lines of each record kind above
//                          (every kind listed, 0 included; the header is not a record) and the
//                          SHA-256 of every byte before the trailer line (header and newlines
//                          included). Nothing may follow it.
// Version 1 (before issue 9) had no trailer: import_jsonl refuses it (Error{corrupt}), since a
// truncated version-1 file cannot be told from a whole one.
#include <fcntl.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <istream>
#include <map>
#include <ostream>
#include <string>
#include <unordered_map>
#include <variant>
#include <algorithm>

#include "crmkit/base/error.hpp"
#include "crmkit/base/json.hpp"
#include "store/codes.hpp"
#include "store/store_impl.hpp"
#include "store/write_scope.hpp"

namespace crmkit {
inline namespace v0 {

namespace {

constexpr const char* kJsonlFormat = "crmkit-jsonl";
constexpr int kJsonlVersion = 2;  // 2: the trailer line (issue 9)

// The record kinds, in file order; the trailer counts each of them.
constexpr const char* kRecordKinds[] = {"field",      "customer",       "event",
                                        "opportunity", "state",          "transition",
                                        "points_program", "points_entry", "audit",
                                        "suppression"};

std::map<std::string, std::int64_t> zero_counts() {
  std::map<std::string, std::int64_t> m;
  for (const char* k : kRecordKinds) m[k] = 0;
  return m;
}

// Streaming SHA-256 (OpenSSL EVP, the library of the suppression HMAC).
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) {
      EVP_MD_CTX_free(ctx_);
      throw Error(ErrorCode::storage, "export: SHA-256 unavailable");
    }
  }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  void update(std::string_view bytes) {
    if (EVP_DigestUpdate(ctx_, bytes.data(), bytes.size()) != 1)
      throw Error(ErrorCode::storage, "jsonl: SHA-256 failed");
  }
  // The digest in lower-case hex; call once.
  std::string hex() {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_, out, &len) != 1)
      throw Error(ErrorCode::storage, "jsonl: SHA-256 failed");
    return to_hex(std::string_view(reinterpret_cast<const char*>(out), len));
  }

 private:
  EVP_MD_CTX* ctx_;
};

std::string dump_line(const nlohmann::json& j) {
  std::string s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
  s.push_back('\n');
  return s;
}

// Writes the lines of an export, hashing every byte and counting the records for the trailer.
class JsonlWriter {
 public:
  explicit JsonlWriter(std::ostream& out) : out_(out), counts_(zero_counts()) {}
  void header(const nlohmann::json& j) { put(dump_line(j)); }
  void record(const nlohmann::json& j) {
    ++counts_.at(j.begin().key());  // a kind not in kRecordKinds is a bug: std::out_of_range
    put(dump_line(j));
  }
  void trailer() {
    nlohmann::json counts = nlohmann::json::object();
    for (const auto& [k, n] : counts_) counts[k] = n;
    out_ << dump_line({{"trailer", {{"counts", std::move(counts)}, {"sha256", sha_.hex()}}}});
  }

 private:
  void put(const std::string& line) {
    sha_.update(line);
    out_ << line;
  }
  std::ostream& out_;
  Sha256 sha_;
  std::map<std::string, std::int64_t> counts_;
};

// The (entity, action) pairs live writes put in the audit log (every WriteScope::audit call;
// a new one goes here too, or a restore of its entries is refused), and what entity_id names:
// a customer, an opportunity, a field, a points programme, or nothing (0).
enum class AuditTarget { customer, opportunity, field, points_program, none };
struct AuditKind {
  const char* entity;
  const char* action;
  AuditTarget target;
};
constexpr AuditKind kAuditKinds[] = {
    {"customer", "create", AuditTarget::customer},
    {"customer", "update", AuditTarget::customer},
    {"customer", "consent", AuditTarget::customer},
    {"customer", "delete", AuditTarget::customer},
    {"customer", "restore", AuditTarget::customer},
    {"customer", "erase", AuditTarget::customer},
    {"customer", "redeem_points", AuditTarget::customer},
    {"customer", "adjust_points", AuditTarget::customer},
    {"customer", "transition", AuditTarget::customer},
    {"opportunity", "create", AuditTarget::opportunity},
    {"opportunity", "update", AuditTarget::opportunity},
    {"opportunity", "transition", AuditTarget::opportunity},
    {"field", "declare_field", AuditTarget::field},
    {"points", "define_program", AuditTarget::points_program},
    {"points", "replace_program", AuditTarget::points_program},
    {"points", "earn_points", AuditTarget::points_program},
    {"lifecycle", "apply_transitions", AuditTarget::none},
    {"import", "import_purchases", AuditTarget::none},
};

const AuditKind* find_audit_kind(const std::string& entity, const std::string& action) {
  for (const auto& k : kAuditKinds)
    if (entity == k.entity && action == k.action) return &k;
  return nullptr;
}

const std::unordered_map<std::string, int>& suppression_kinds() {
  static const std::unordered_map<std::string, int> kinds = {
      {"external_id", 0}, {"email", 1}, {"phone", 2}};
  return kinds;
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
  JsonlWriter jw(out);
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
  jw.header(header);
  for (const auto& f : load_fields(db)) jw.record({{"field", to_json(f)}});
  {
    auto s = db.cached("SELECT " CRMKIT_CUSTOMER_COLS " FROM customers ORDER BY id");
    while (s.step()) jw.record({{"customer", to_json(customer_from_row(s))}});
  }
  {
    auto s = db.cached("SELECT " CRMKIT_EVENT_COLS " FROM events ORDER BY id");
    while (s.step()) jw.record({{"event", to_json(event_from_row(s))}});
  }
  {
    auto s = db.cached("SELECT " CRMKIT_OPPORTUNITY_COLS " FROM opportunities ORDER BY id");
    while (s.step()) jw.record({{"opportunity", opportunity_to_json(opportunity_from_row(s))}});
  }
  {
    auto s = db.cached(
        "SELECT machine, entity_kind, entity_id, state, since FROM machine_states "
        "ORDER BY machine, entity_kind, entity_id");
    while (s.step())
      jw.record({{"state",
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
      jw.record({{"transition",
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
  write_points_jsonl(db, [&jw](const nlohmann::json& j) { jw.record(j); });
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
      jw.record({{"audit", std::move(a)}});
    }
  }
  {
    auto s = db.cached("SELECT hash, kind FROM suppression ORDER BY hash");
    while (s.step())
      jw.record({{"suppression", {{"hash", to_hex(s.blob(0))}, {"kind", s.str(1)}}}});
  }
  jw.trailer();
}

void Store::export_jsonl(std::ostream& out) const {
  Impl::ReadLease lease(*impl_);
  impl_->write_jsonl(lease.db(), out);
  out.flush();
  if (!out) throw Error(ErrorCode::storage, "export: cannot write the output stream");
}

namespace {

// fsync of the file or directory at `path` (POSIX). Throws Error{storage} naming it.
void sync_path(const std::string& path, bool directory) {
  int fd = -1;
  do {
    fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_WRONLY) | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0)
    throw Error(ErrorCode::storage,
                "export: cannot open '" + path + "' to sync it: " + std::strerror(errno));
  int rc = 0;
  do {
    rc = ::fsync(fd);
  } while (rc != 0 && errno == EINTR);
  const int err = errno;
  ::close(fd);
  if (rc != 0)
    throw Error(ErrorCode::storage, "export: cannot sync '" + path + "': " + std::strerror(err));
}

}  // namespace

void Store::export_jsonl(const std::string& path) const {
  // Written to "<path>.tmp", synced, renamed over `path`, and the directory synced: after a power
  // cut the path holds the previous file or the whole new one, never an empty or partial one.
  const std::string tmp = path + ".tmp";
  bool renamed = false;
  try {
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) throw Error(ErrorCode::storage, "export: cannot open '" + tmp + "'");
      export_jsonl(out);
      out.close();
      if (!out) throw Error(ErrorCode::storage, "export: cannot write '" + tmp + "'");
    }
    sync_path(tmp, false);
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec)
      throw Error(ErrorCode::storage,
                  "export: cannot rename '" + tmp + "' to '" + path + "': " + ec.message());
    renamed = true;
    std::string dir = std::filesystem::path(path).parent_path().string();
    sync_path(dir.empty() ? std::string(".") : dir, true);
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(renamed ? path : tmp, ec);
    throw;
  }
}

void Store::import_jsonl(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::storage, "import: cannot open '" + path + "'");
  import_jsonl(in);
}

namespace {

[[noreturn]] void refuse(const std::string& what) { throw Error(ErrorCode::corrupt, what); }

// Whether customer `id` is stored and erased (false for an unknown id).
bool customer_erased(sql::Db& db, std::int64_t id) {
  auto s = db.cached("SELECT erased FROM customers WHERE id = ?");
  s.bind(1, id);
  return s.step() && s.i64(0) != 0;
}

// Whether the customer of opportunity `id` is erased (false for an unknown opportunity).
bool opportunity_customer_erased(sql::Db& db, std::int64_t id) {
  auto s = db.cached(
      "SELECT c.erased FROM opportunities o JOIN customers c ON c.id = o.customer_id "
      "WHERE o.id = ?");
  s.bind(1, id);
  return s.step() && s.i64(0) != 0;
}

bool entity_erased(sql::Db& db, EntityKind kind, std::int64_t id) {
  return kind == EntityKind::customer ? customer_erased(db, id)
                                      : opportunity_customer_erased(db, id);
}

void check_exists(sql::Db& db, const char* query, std::int64_t id, const char* field,
                  const char* what) {
  auto s = db.cached(query);
  s.bind(1, id);
  if (!s.step()) refuse(std::string(field) + ": no " + what + " with id " + std::to_string(id));
}

// A customer flagged erased carries nothing erase_customer blanks (store_erase.cpp): external id
// "erased:<id>", name "[erased]", no demographics, contacts, consents, personal custom fields or
// membership titles. Otherwise erase_customer would skip it as erased and keep the data.
void check_erased_customer(const Customer& c, const std::vector<FieldDef>& fields) {
  auto carries = [&](const std::string& what) {
    refuse("customer " + std::to_string(c.id) + ": flagged erased, but still carries " + what);
  };
  if (c.external_id != "erased:" + std::to_string(c.id)) carries("its external_id");
  if (c.name != "[erased]") carries("a name");
  if (!(c.demographics == Demographics{})) carries("demographics");
  if (!c.contacts.empty()) carries("contacts");
  if (!c.consents.empty()) carries("consents");
  for (const auto& f : fields)
    if (f.personal && c.custom.count(f.name) != 0) carries("the personal field '" + f.name + "'");
  for (const auto& m : c.memberships)
    if (!m.title.empty()) carries("a membership title");
}

// The first personal free text of an event that erase_customer blanks, or nullptr.
const char* personal_text(const Event& e) {
  if (const auto* r = std::get_if<Refund>(&e.payload)) {
    if (!r->reason.empty()) return "refund.reason";
  } else if (const auto* i = std::get_if<Interaction>(&e.payload)) {
    if (!i->note.empty()) return "interaction.note";
    if (!i->commitment_asked.empty()) return "interaction.commitment_asked";
  } else if (const auto* v = std::get_if<SurveyResponse>(&e.payload)) {
    if (!v->comment.empty()) return "survey_response.comment";
  }
  return nullptr;
}

// Ids of one record kind ascend in the file, as the export writes them.
void check_ascending(std::int64_t& last, std::int64_t id, const char* field) {
  if (id <= 0) refuse(std::string(field) + ": must be positive");
  if (id == last) refuse(std::string(field) + ": " + std::to_string(id) + " appears twice");
  if (id < last)
    refuse(std::string(field) + ": " + std::to_string(id) + " after " + std::to_string(last) +
           " (ids must ascend)");
  last = id;
}

// The trailer against what was read: every count, then the checksum.
void check_trailer(const nlohmann::json& v, const std::map<std::string, std::int64_t>& read,
                   Sha256& sha) {
  if (!v.is_object() || v.size() != 2 || !v.contains("counts") || !v.contains("sha256"))
    refuse("trailer: expected the keys counts and sha256");
  const auto& counts = v["counts"];
  if (!counts.is_object()) refuse("trailer.counts: must be an object");
  for (const auto& [kind, n] : read) {
    auto it = counts.find(kind);
    if (it == counts.end()) refuse("trailer.counts." + kind + ": missing");
    if (!it->is_number_integer()) refuse("trailer.counts." + kind + ": must be an integer");
    if (it->get<std::int64_t>() != n)
      refuse("trailer.counts." + kind + ": " + std::to_string(n) + " " + kind +
             " lines read, the trailer says " + std::to_string(it->get<std::int64_t>()));
  }
  for (const auto& item : counts.items())
    if (read.count(item.key()) == 0)
      refuse("trailer.counts: unknown record kind '" + item.key() + "'");
  if (!v["sha256"].is_string()) refuse("trailer.sha256: must be a string");
  const std::string got = sha.hex();
  const std::string& said = v["sha256"].get_ref<const std::string&>();
  if (got != said)
    refuse("trailer.sha256: the lines before the trailer hash to " + got +
           ", the trailer says " + said);
}

}  // namespace

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
  bool key_mode_conflict = false;        // its first suppression line was refused (conflict)
  std::string line;
  std::size_t line_no = 0;
  Sha256 sha;
  std::map<std::string, std::int64_t> counts = zero_counts();
  bool trailer_seen = false;
  std::int64_t last_customer = 0, last_event = 0, last_opportunity = 0, last_transition = 0,
               last_audit = 0;
  std::string last_hash;
  // Customers with memberships, checked once every customer is read (an organisation may
  // come after its member): (line, customer).
  std::vector<std::pair<std::size_t, Customer>> members;
  while (std::getline(in, line)) {
    ++line_no;
    const bool newline = !in.eof();
    const std::string where = "line " + std::to_string(line_no);
    if (trailer_seen) refuse("import: " + where + ": a line after the trailer");
    nlohmann::json j;
    try {
      j = parse_json_strict(line, where);
    } catch (const Error& e) {
      throw Error(ErrorCode::corrupt, std::string("import: ") + e.what());
    }
    try {
      if (line_no == 1) {
        sha.update(line);
        if (newline) sha.update("\n");
        if (!j.is_object() || !j.contains("format") || j["format"] != kJsonlFormat)
          throw Error(ErrorCode::corrupt, "format: not a crmkit-jsonl export");
        const std::int64_t version = get_int(j, "version");
        if (version == 1)
          refuse("version: a version 1 export has no trailer (counts and checksum), so a "
                 "truncated one cannot be told from a whole one; it is refused");
        if (version != kJsonlVersion)
          throw Error(ErrorCode::corrupt,
                      "version: unknown export version " + std::to_string(version));
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
      if (kind == "trailer") {
        check_trailer(v, counts, sha);
        trailer_seen = true;
        continue;
      }
      sha.update(line);
      if (newline) sha.update("\n");
      if (auto it = counts.find(kind); it != counts.end()) ++it->second;
      if (kind == "field") {
        FieldDef def = field_def_from_json(v);
        validate_field_def(def);
        if (std::any_of(fields.begin(), fields.end(),
                        [&](const FieldDef& f) { return f.name == def.name; }))
          refuse("field.name: '" + def.name + "' appears twice");
        auto s = db.cached("INSERT INTO fields(name, data) VALUES(?, ?)");
        const std::string data = to_json(def).dump();
        s.bind_static(1, def.name).bind_static(2, data).run();
        fields.push_back(std::move(def));
      } else if (kind == "customer") {
        Customer c = customer_from_json(v);
        check_ascending(last_customer, c.id, "customer.id");
        // The record as a live write stores it: valid and already in normal form (contacts,
        // tags, custom values), and an erased one without personal data.
        if (c.erased) check_erased_customer(c, fields);
        Customer copy = c;
        validate_customer(copy, fields, impl_->currency);
        if (!(copy == c))
          refuse("customer " + std::to_string(c.id) +
                 ": not in the normal form a live write stores");
        {
          auto s = db.cached("SELECT id FROM customers WHERE external_id = ?");
          s.bind_static(1, c.external_id);
          if (s.step())
            refuse("customer.external_id: '" + c.external_id + "' already belongs to customer " +
                   std::to_string(s.i64(0)));
        }
        impl_->write_customer_row(db, c, true);
        Impl::write_contact_index(db, c);
        if (!c.memberships.empty()) members.emplace_back(line_no, std::move(c));
      } else if (kind == "event") {
        Event e = event_from_json(v);
        check_ascending(last_event, e.id, "event.id");
        impl_->check_event(e);
        check_exists(db, "SELECT 1 FROM customers WHERE id = ?", e.customer, "event.customer",
                     "customer");
        impl_->check_references(db, e);  // the invariants of a live append (issue 9)
        if (const char* field = personal_text(e); field && customer_erased(db, e.customer))
          refuse("event " + std::to_string(e.id) + ": " + field + " is not blank, but customer " +
                 std::to_string(e.customer) + " is erased");
        impl_->insert_event_row(db, e, true);
      } else if (kind == "opportunity") {
        Opportunity o = impl_->opportunity_from_json(v);
        check_ascending(last_opportunity, o.id, "opportunity.id");
        Opportunity copy = o;
        validate_opportunity(copy, impl_->currency);
        if (!impl_->try_read_customer(db, o.customer))
          throw_error(ErrorCode::not_found, "opportunity.customer",
                      "no customer with id " + std::to_string(o.customer));
        if (o.name != "[erased]" && customer_erased(db, o.customer))
          refuse("opportunity " + std::to_string(o.id) + ": name is not blanked ('[erased]'), "
                 "but customer " + std::to_string(o.customer) + " is erased");
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
        check_ascending(last_transition, get_int(v, "id"), "transition.id");
        const EntityKind ek =
            parse_entity_kind(get_string(v, "entity_kind"), "transition.entity_kind");
        check_lifecycle_entity(db, ek, get_int(v, "entity_id"), get_string(v, "machine"),
                               "transition.entity_id");
        if (!get_string(v, "reason").empty() && entity_erased(db, ek, get_int(v, "entity_id")))
          refuse("transition " + std::to_string(get_int(v, "id")) +
                 ": reason is not blank, but the customer of " +
                 to_string(ek) + " " + std::to_string(get_int(v, "entity_id")) + " is erased");
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
        // a points programme or entry (store_points.cpp); an erased customer's entries keep no
        // reason (erase_customer blanks them, and redemptions of an erased customer are refused)
        if (kind == "points_entry" && !get_string(v, "reason").empty() &&
            customer_erased(db, get_int(v, "customer")))
          refuse("points_entry " + std::to_string(get_int(v, "id")) +
                 ": reason is not blank, but customer " +
                 std::to_string(get_int(v, "customer")) + " is erased");
      } else if (kind == "audit") {
        if (v.size() != 10) throw_invalid("audit", "unexpected keys");
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
        check_ascending(last_audit, a.id, "audit.id");
        const AuditKind* ak = find_audit_kind(a.entity, a.action);
        if (ak == nullptr)
          refuse("audit " + std::to_string(a.id) + ": no write makes an entry '" + a.entity +
                 "' / '" + a.action + "'");
        bool erased = false;
        switch (ak->target) {
          case AuditTarget::customer:
            check_exists(db, "SELECT 1 FROM customers WHERE id = ?", a.entity_id,
                         "audit.entity_id", "customer");
            erased = customer_erased(db, a.entity_id);
            break;
          case AuditTarget::opportunity:
            check_exists(db, "SELECT 1 FROM opportunities WHERE id = ?", a.entity_id,
                         "audit.entity_id", "opportunity");
            erased = opportunity_customer_erased(db, a.entity_id);
            break;
          case AuditTarget::field:
            check_exists(db, "SELECT 1 FROM fields WHERE id = ?", a.entity_id,
                         "audit.entity_id", "field");
            break;
          case AuditTarget::points_program:
            check_exists(db, "SELECT 1 FROM points_programs WHERE id = ?", a.entity_id,
                         "audit.entity_id", "points programme");
            break;
          case AuditTarget::none:
            if (a.entity_id != 0) refuse("audit.entity_id: must be 0 for '" + a.entity + "'");
            break;
        }
        if (erased && (!a.old_value.empty() || !a.new_value.empty()))
          refuse("audit " + std::to_string(a.id) + ": old_value and new_value are not blank, "
                 "but they are of an erased customer");
        Impl::insert_audit_row(db, a);
      } else if (kind == "suppression") {
        if (in_file_key_into_host) {
          key_mode_conflict = true;
          throw_error(ErrorCode::conflict, "suppression",
                      "the export's hashes are keyed with its in-file key and this store uses a "
                      "host-supplied key; hashes cannot be re-keyed (import into a store "
                      "created without suppression_key)");
        }
        if (v.size() != 2) throw_invalid("suppression", "expected the keys hash and kind");
        const std::string hash = from_hex(get_string(v, "hash"), "suppression.hash");
        if (hash.size() != 32)
          refuse("suppression.hash: must be 32 bytes, not " + std::to_string(hash.size()));
        const std::string& k = get_string(v, "kind");
        if (suppression_kinds().count(k) == 0)
          refuse("suppression.kind: unknown kind '" + k + "'");
        if (!last_hash.empty() && hash <= last_hash)
          refuse(std::string("suppression.hash: ") +
                 (hash == last_hash ? "appears twice" : "not in hash order"));
        last_hash = hash;
        auto s = db.cached("INSERT INTO suppression(hash, kind) VALUES(?, ?)");
        s.bind_blob(1, hash.data(), hash.size()).bind_static(2, k).run();
      } else {
        throw Error(ErrorCode::corrupt, "unknown record '" + kind + "'");
      }
    } catch (const Error& e) {
      // The target's own problems keep their code: I/O (storage) and another currency
      // (conflict, line 1), a key mode that does not fit the store (conflict); everything else
      // is a damaged or forged file.
      if (e.code() == ErrorCode::storage || (line_no == 1 && e.code() == ErrorCode::conflict) ||
          key_mode_conflict)
        rethrow_prefixed(e, "import: " + where + ": ");
      throw Error(ErrorCode::corrupt, "import: " + where + ": " + e.what());
    } catch (const nlohmann::json::exception& e) {
      throw Error(ErrorCode::corrupt, "import: " + where + ": " + e.what());
    }
  }
  if (in.bad()) throw Error(ErrorCode::storage, "import: read error");
  if (line_no == 0) throw Error(ErrorCode::corrupt, "import: empty input");
  if (!trailer_seen) refuse("import: the export has no trailer (truncated?)");
  for (const auto& [at_line, c] : members) {
    try {
      impl_->check_memberships(db, c);
    } catch (const Error& e) {
      refuse("import: line " + std::to_string(at_line) + ": " + e.what());
    }
  }
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
