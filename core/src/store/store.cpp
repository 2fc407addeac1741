// Store: open (the schema and its migrations are in schema.cpp), the reader pool, fields, summary, audit log, close.
#include <sqlite3.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "crmkit/base/error.hpp"
#include "store/codes.hpp"
#include "store/schema.hpp"
#include "store/store_impl.hpp"
#include "store/write_scope.hpp"

namespace crmkit {
inline namespace v0 {

namespace {

const char* sync_pragma(SyncMode m) {
  switch (m) {
    case SyncMode::full: return "PRAGMA synchronous=FULL";
    case SyncMode::normal: return "PRAGMA synchronous=NORMAL";
    case SyncMode::off: return "PRAGMA synchronous=OFF";
  }
  return "PRAGMA synchronous=FULL";
}

// "store: '<path>' is not a crmkit store (<why>)": every open error about the file's content.
// `why` may be a SQLite error ("store: file is not a database"); its "store: " is dropped.
[[noreturn]] void not_a_store(const std::string& path, std::string_view why) {
  if (why.rfind("store: ", 0) == 0) why.remove_prefix(7);
  throw Error(ErrorCode::corrupt,
              "store: '" + path + "' is not a crmkit store (" + std::string(why) + ")");
}

std::string meta_value(sql::Db& db, std::string_view key, const std::string& path) {
  auto s = db.prepare("SELECT value FROM meta WHERE key = ?");
  s.bind(1, key);
  if (!s.step()) not_a_store(path, "no " + std::string(key) + " in meta");
  return s.blob(0);
}

std::optional<std::string> meta_optional(sql::Db& db, std::string_view key) {
  auto s = db.prepare("SELECT value FROM meta WHERE key = ?");
  s.bind(1, key);
  if (!s.step()) return std::nullopt;
  return s.blob(0);
}

// The suppression key material a store keeps: the key itself ("file" mode, no mode row) or the
// check value of the host's key (mode row "host"). Throws what meta_value throws.
struct KeyMaterial {
  bool host = false;
  std::string bytes;  // file mode: the key; host mode: HMAC-SHA-256(key, "crmkit-key-check")
};

KeyMaterial read_key_material(sql::Db& db, const std::string& path) {
  KeyMaterial out;
  const auto mode = meta_optional(db, "suppression_key_mode");
  if (!mode) {
    out.bytes = meta_value(db, "suppression_key", path);
  } else if (*mode == "host") {
    out.host = true;
    out.bytes = meta_value(db, "suppression_key_check", path);
  } else {
    not_a_store(path, "unknown suppression_key_mode '" + *mode + "' in meta");
  }
  if (out.bytes.size() != 32)
    not_a_store(path, std::string(out.host ? "suppression_key_check" : "suppression_key") +
                          " in meta is not 32 bytes");
  return out;
}

// The key the store hashes with, given what the file keeps and what the host passed.
// `given_check` is the check value of options.suppression_key (empty if none was given).
// Throws Error{conflict} naming suppression_key if they do not go together.
std::string resolve_key(const KeyMaterial& m, const StoreOptions& options,
                        const std::string& given_check, const std::string& path) {
  if (!m.host) {
    if (!options.suppression_key.empty())
      throw_error(ErrorCode::conflict, "suppression_key",
                  "store '" + path +
                      "' keeps its suppression key in the file (it was created without "
                      "suppression_key); a host key cannot be given to it");
    return m.bytes;
  }
  if (options.suppression_key.empty())
    throw_error(ErrorCode::conflict, "suppression_key",
                "store '" + path +
                    "' uses a host-supplied suppression key; open it with that key");
  if (given_check != m.bytes)
    throw_error(ErrorCode::conflict, "suppression_key",
                "not the key store '" + path + "' was created with");
  return options.suppression_key;
}

}  // namespace

void rethrow_prefixed(const Error& e, std::string_view prefix) {
  std::string msg(prefix);
  msg += e.what();
  throw Error(e.code(), msg);
}

std::string to_hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::string from_hex(std::string_view hex, std::string_view field) {
  auto val = [&](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    throw_invalid(field, "is not lower-case hexadecimal");
  };
  if (hex.size() % 2 != 0) throw_invalid(field, "is not lower-case hexadecimal");
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2)
    out.push_back(static_cast<char>(val(hex[i]) * 16 + val(hex[i + 1])));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Impl: locks and pool

std::unique_ptr<sql::Db> Store::Impl::open_reader() {
  const int flags = (options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
                    SQLITE_OPEN_NOMUTEX;
  auto db = std::make_unique<sql::Db>(path, flags);
  sqlite3_busy_timeout(db->raw(), options.busy_timeout_ms);
  db->exec("PRAGMA query_only=ON");
  return db;
}

Store::Impl::ReadLease::ReadLease(Impl& impl) : impl_(impl) {
  impl_.check_open();
  if (impl_.memory) {
    lock_ = std::unique_lock<std::mutex>(impl_.write_mu);
    impl_.check_open();
    db_ = impl_.writer.get();
    return;
  }
  {
    std::lock_guard<std::mutex> g(impl_.pool_mu);
    if (!impl_.idle_readers.empty()) {
      owned_ = std::move(impl_.idle_readers.back());
      impl_.idle_readers.pop_back();
    }
  }
  if (!owned_) owned_ = impl_.open_reader();
  db_ = owned_.get();
}

Store::Impl::ReadLease::~ReadLease() {
  if (!owned_) return;
  std::lock_guard<std::mutex> g(impl_.pool_mu);
  if (!impl_.closed.load() && impl_.idle_readers.size() < impl_.options.max_readers)
    impl_.idle_readers.push_back(std::move(owned_));
}

void Store::Impl::check_open() const {
  if (closed.load()) throw Error(ErrorCode::storage, "store: store is closed");
}

std::unique_lock<std::mutex> Store::Impl::lock_write() {
  check_open();
  std::unique_lock<std::mutex> lock(write_mu);
  check_open();
  if (options.read_only) throw Error(ErrorCode::storage, "store: store is read-only");
  return lock;
}

// ---------------------------------------------------------------------------------------------
// Impl: audit and fields

void Store::Impl::insert_audit_row(sql::Db& db, const AuditEntry& e) {
  auto s = db.cached(
      "INSERT INTO audit(id, at, actor, source, entity, entity_id, action, field, old_value, "
      "new_value) VALUES(?,?,?,?,?,?,?,?,?,?)");
  s.bind(1, e.id > 0 ? e.id : next_row_id(db, "audit"));
  s.bind(2, e.at.micros())
      .bind_static(3, e.actor)
      .bind_static(4, e.source)
      .bind_static(5, e.entity)
      .bind(6, e.entity_id)
      .bind_static(7, e.action)
      .bind_static(8, e.field)
      .bind_static(9, e.old_value)
      .bind_static(10, e.new_value)
      .run();
}

std::vector<FieldDef> Store::Impl::load_fields(sql::Db& db) const {
  std::vector<FieldDef> out;
  auto s = db.cached("SELECT data FROM fields ORDER BY id");
  while (s.step()) out.push_back(field_def_from_json(nlohmann::json::parse(s.text(0))));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Store

Store::Store(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&& other) noexcept {
  if (this != &other) {
    close();
    impl_ = std::move(other.impl_);
  }
  return *this;
}
Store::~Store() { close(); }

int Store::current_schema_version() noexcept { return schema::kCurrentVersion; }

Store Store::open(const std::string& path, const StoreOptions& options) {
  check_text(options.actor, "actor", 1, Impl::kContextTextBytes);
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->options = options;
  impl->memory = path == ":memory:" || path.empty();
  if (path.empty()) impl->path = ":memory:";
  if (!options.currency.empty() && !Currency::is_known(options.currency))
    throw_invalid("currency", "unknown currency '" + options.currency + "'");
  if (!options.suppression_key.empty() && options.suppression_key.size() != 32)
    throw_invalid("suppression_key", "must be 32 bytes, not " +
                                         std::to_string(options.suppression_key.size()));
  const std::string given_check =
      options.suppression_key.empty() ? std::string() : Impl::key_check(options.suppression_key);

  bool exists = impl->memory || std::filesystem::exists(path);
  if (!exists && !options.create_if_missing)
    throw_error(ErrorCode::not_found, "path", "no store file at '" + path + "'");
  if (!exists && options.read_only)
    throw_error(ErrorCode::not_found, "path", "no store file at '" + path + "'");
  // An existing empty file is taken for a new store, as SQLite does: it is what a second process
  // sees while the first is creating the store (it then waits for the first one's write lock),
  // and what tempfile.mkstemp() hands out. Any other file that is not a crmkit store is refused
  // below, naming the path.

  int flags = SQLITE_OPEN_NOMUTEX;
  if (options.read_only) flags |= SQLITE_OPEN_READONLY;
  else flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  impl->writer = std::make_unique<sql::Db>(impl->path, flags);
  sql::Db& db = *impl->writer;
  sqlite3_busy_timeout(db.raw(), options.busy_timeout_ms);

  int version = 0;
  try {
    // Reading the header fails here with SQLITE_NOTADB for a file that is not a database.
    version = static_cast<int>(db.query_int("PRAGMA user_version"));
    db.query_int("SELECT count(*) FROM sqlite_master");
  } catch (const Error& e) {
    not_a_store(path, e.what());
  }
  if (version > schema::kCurrentVersion)
    throw Error(ErrorCode::corrupt, "store: '" + path + "' has schema version " +
                                        std::to_string(version) + ", newer than this library's (" +
                                        std::to_string(schema::kCurrentVersion) + ")");
  if (version < 0) not_a_store(path, "negative schema version");
  if (version == 0 && db.query_int("SELECT count(*) FROM sqlite_master") != 0)
    not_a_store(path, "tables of another application, no crmkit version");

  db.exec("PRAGMA foreign_keys=ON");
  if (!options.read_only) {
    db.exec("PRAGMA secure_delete=ON");
    if (!impl->memory) {
      auto s = db.prepare("PRAGMA journal_mode=WAL");
      if (!s.step() || s.text(0) != "wal")
        throw Error(ErrorCode::storage, "store: cannot switch '" + path + "' to WAL");
    }
    db.exec(sync_pragma(options.synchronous));
    // A 64 MiB page cache for the writer keeps a large batch from spilling pages into the WAL
    // mid-transaction and reading them back (the bulk import is several times faster with it).
    db.exec("PRAGMA cache_size=-65536");
  }

  // An existing store's key mode is checked before a migration, so a wrong key changes nothing.
  if (version > 0) {
    KeyMaterial m;
    try {
      m = read_key_material(db, path);
    } catch (const Error& e) {
      if (e.code() == ErrorCode::corrupt) throw;
      not_a_store(path, e.what());
    }
    resolve_key(m, options, given_check, path);
  }

  if (version < schema::kCurrentVersion) {
    if (options.read_only)
      throw Error(ErrorCode::storage, "store: read-only store '" + path +
                                          "' needs a schema migration (version " +
                                          std::to_string(version) + " to " +
                                          std::to_string(schema::kCurrentVersion) + ")");
    if (version == 0) {
      if (options.currency.empty())
        throw_invalid("currency", "required to create a store");
      Currency::check_holds_money(options.currency, "currency");
    }
    sql::WriteTxn txn(db);
    // Re-read inside the write lock: another process may have migrated meanwhile.
    const int v = static_cast<int>(db.query_int("PRAGMA user_version"));
    if (v == 0 && db.query_int("SELECT count(*) FROM sqlite_master") != 0)
      not_a_store(path, "tables of another application, no crmkit version");
    if (v < schema::kCurrentVersion) schema::migrate(db, v, options.currency);
    if (v == 0 && !options.suppression_key.empty()) {
      // Host mode: the random key the new schema holds goes (it was never committed) and the
      // file keeps only the mode and the check value of the host's key.
      db.exec("DELETE FROM meta WHERE key = 'suppression_key'");
      auto ins = db.prepare("INSERT INTO meta(key, value) VALUES(?, ?)");
      ins.bind(1, std::string_view("suppression_key_mode")).bind(2, std::string_view("host")).run();
      ins.reset();
      ins.bind(1, std::string_view("suppression_key_check"))
          .bind_blob(2, given_check.data(), given_check.size())
          .run();
    }
    txn.commit();
  }

  std::string stored_currency;
  KeyMaterial key_material;
  try {
    if (meta_value(db, "format", path) != schema::kFormat)
      not_a_store(path, "wrong format in meta");
    stored_currency = meta_value(db, "currency", path);
    key_material = read_key_material(db, path);
    impl->fields = impl->load_fields(db);
    schema::check_codes(db, path);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::corrupt) throw;
    not_a_store(path, e.what());
  } catch (const std::exception& e) {
    throw Error(ErrorCode::corrupt, "store: '" + path + "' is damaged: " + e.what());
  }
  if (!Currency::is_known(stored_currency))
    throw Error(ErrorCode::corrupt,
                "store: '" + path + "' has an unknown currency '" + stored_currency + "' in meta");
  if (!options.currency.empty() && options.currency != stored_currency)
    throw_error(ErrorCode::conflict, "currency",
                "the store's currency is " + stored_currency + ", not " + options.currency);
  impl->suppression_key = resolve_key(key_material, options, given_check, path);
  impl->host_key = key_material.host;
  impl->currency = Currency::of(stored_currency);
  return Store(std::move(impl));
}

const std::string& Store::path() const noexcept { return impl_->path; }
const Currency& Store::currency() const noexcept { return impl_->currency; }

int Store::schema_version() const {
  Impl::ReadLease lease(*impl_);
  return static_cast<int>(lease.db().query_int("PRAGMA user_version"));
}

void Store::declare_field(const FieldDef& def, const WriteContext& ctx) {
  validate_field_def(def);
  if (def.type == FieldType::money && !def.currency.empty() && !Currency::is_known(def.currency))
    throw_invalid("field.currency", "unknown currency '" + def.currency + "'");
  Impl::WriteScope w(*impl_, ctx);
  for (const auto& f : impl_->fields)
    if (f.name == def.name)
      throw_error(ErrorCode::conflict, "field.name", "'" + def.name + "' already exists");
  sql::Db& db = w.db();
  const std::string json = to_json(def).dump();
  const std::int64_t id = next_row_id(db, "fields");
  auto s = db.cached("INSERT INTO fields(id, name, data) VALUES(?, ?, ?)");
  s.bind(1, id).bind_static(2, def.name).bind_static(3, json).run();
  w.audit("field", id, "declare_field", def.name, "", json);
  w.commit();
  impl_->fields.push_back(def);
}

std::vector<FieldDef> Store::fields() const {
  Impl::ReadLease lease(*impl_);
  return impl_->load_fields(lease.db());
}

StoreSummary Store::summary() const {
  Impl::ReadLease lease(*impl_);
  sql::Db& db = lease.db();
  sql::ReadTxn rt(db);
  StoreSummary out;
  {
    auto s = db.cached(
        "SELECT coalesce(sum(deleted = 0), 0), coalesce(sum(deleted <> 0), 0) FROM customers");
    s.step();
    out.customers = static_cast<std::size_t>(s.i64(0));
    out.deleted_customers = static_cast<std::size_t>(s.i64(1));
  }
  {
    // The amounts are summed exactly past 2^63 minor units (where SQLite's sum() fails with
    // "integer overflow"): each amount is split into its high and low 32 bits (x = hi * 2^32 + lo,
    // hi = x >> 32 is signed, lo = x & 0xffffffff is in 0..2^32-1), SQLite sums each half (which
    // cannot overflow below 2^31 rows) and the halves are joined in Int128.
    auto s = db.cached(
        "SELECT count(*), coalesce(sum(type = ?1), 0), coalesce(sum(type = ?2), 0), "
        "coalesce(sum(CASE WHEN type = ?1 THEN amount_minor >> 32 END), 0), "
        "coalesce(sum(CASE WHEN type = ?1 THEN amount_minor & 4294967295 END), 0), "
        "coalesce(sum(CASE WHEN type = ?2 THEN amount_minor >> 32 END), 0), "
        "coalesce(sum(CASE WHEN type = ?2 THEN amount_minor & 4294967295 END), 0) FROM events");
    s.bind(1, codes::kPurchase).bind(2, codes::kRefund);
    s.step();
    const Int128 two32 = Int128(std::int64_t{1} << 32);
    out.events = static_cast<std::size_t>(s.i64(0));
    out.purchases = static_cast<std::size_t>(s.i64(1));
    out.refunds = static_cast<std::size_t>(s.i64(2));
    out.revenue = Money::from_minor(Int128(s.i64(3)) * two32 + s.i64(4), impl_->currency);
    out.refunded = Money::from_minor(Int128(s.i64(5)) * two32 + s.i64(6), impl_->currency);
    out.net_revenue = out.revenue - out.refunded;
  }
  return out;
}

std::vector<AuditEntry> Store::audit_log(CustomerId customer) const {
  Impl::ReadLease lease(*impl_);
  sql::Db& db = lease.db();
  std::vector<AuditEntry> out;
  auto s = customer == 0
               ? db.cached("SELECT id, at, actor, source, entity, entity_id, action, field, "
                           "old_value, new_value FROM audit ORDER BY id")
               : db.cached("SELECT id, at, actor, source, entity, entity_id, action, field, "
                           "old_value, new_value FROM audit WHERE entity = 'customer' AND "
                           "entity_id = ? ORDER BY id");
  if (customer != 0) s.bind(1, customer);
  while (s.step()) {
    AuditEntry e;
    e.id = s.i64(0);
    e.at = Timestamp(s.i64(1));
    e.actor = s.str(2);
    e.source = s.str(3);
    e.entity = s.str(4);
    e.entity_id = s.i64(5);
    e.action = s.str(6);
    e.field = s.str(7);
    e.old_value = s.str(8);
    e.new_value = s.str(9);
    out.push_back(std::move(e));
  }
  return out;
}

bool Store::checkpoint() {
  auto lock = impl_->lock_write();
  if (impl_->memory) return true;
  int log = 0, done = 0;
  const int rc = sqlite3_wal_checkpoint_v2(impl_->writer->raw(), nullptr,
                                           SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
  if (rc == SQLITE_BUSY) return false;
  if (rc != SQLITE_OK) sql::throw_sqlite(rc, impl_->writer->raw(), "store");
  return true;
}

void Store::close() noexcept {
  if (!impl_) return;
  if (impl_->closed.exchange(true)) return;
  std::lock_guard<std::mutex> w(impl_->write_mu);
  std::lock_guard<std::mutex> p(impl_->pool_mu);
  impl_->idle_readers.clear();
  impl_->writer.reset();
}

bool Store::is_closed() const noexcept { return !impl_ || impl_->closed.load(); }

}  // namespace v0
}  // namespace crmkit
