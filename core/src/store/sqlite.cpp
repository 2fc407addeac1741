#include "store/sqlite.hpp"

#include <sqlite3.h>

#include <string>

#include "crmkit/base/error.hpp"

namespace crmkit {
inline namespace v0 {
namespace sql {

void throw_sqlite(int rc, sqlite3* db, std::string_view what) {
  std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  const int primary = rc & 0xff;
  ErrorCode code = ErrorCode::storage;
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) code = ErrorCode::corrupt;
  if (primary == SQLITE_CONSTRAINT) code = ErrorCode::conflict;
  throw_error(code, what, msg);
}

Stmt::Stmt(Stmt&& o) noexcept : db_(o.db_), s_(o.s_), owned_(o.owned_) { o.s_ = nullptr; }

Stmt& Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    this->~Stmt();
    db_ = o.db_;
    s_ = o.s_;
    owned_ = o.owned_;
    o.s_ = nullptr;
  }
  return *this;
}

Stmt::~Stmt() {
  if (!s_) return;
  if (owned_) {
    sqlite3_finalize(s_);
  } else {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
}

static void check_bind(int rc, sqlite3* db) {
  if (rc != SQLITE_OK) throw_sqlite(rc, db, "store");
}

Stmt& Stmt::bind(int i, std::int64_t v) {
  check_bind(sqlite3_bind_int64(s_, i, v), db_);
  return *this;
}

Stmt& Stmt::bind(int i, std::string_view v) {
  check_bind(sqlite3_bind_text64(s_, i, v.data() ? v.data() : "", v.size(), SQLITE_TRANSIENT,
                                 SQLITE_UTF8),
             db_);
  return *this;
}

Stmt& Stmt::bind_static(int i, std::string_view v) {
  check_bind(
      sqlite3_bind_text64(s_, i, v.data() ? v.data() : "", v.size(), SQLITE_STATIC, SQLITE_UTF8),
      db_);
  return *this;
}

Stmt& Stmt::bind_blob(int i, const void* data, std::size_t n) {
  check_bind(sqlite3_bind_blob64(s_, i, data, n, SQLITE_TRANSIENT), db_);
  return *this;
}

Stmt& Stmt::bind_null(int i) {
  check_bind(sqlite3_bind_null(s_, i), db_);
  return *this;
}

Stmt& Stmt::bind_text_or_null(int i, std::string_view v) {
  if (v.empty()) return bind_null(i);
  return bind_static(i, v);
}

bool Stmt::step() {
  const int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3_reset(s_);
  throw_sqlite(rc, db_, "store");
}

void Stmt::run() {
  if (step()) throw Error(ErrorCode::storage, "store: statement returned rows unexpectedly");
}

void Stmt::reset() noexcept {
  if (s_) {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
}

void Stmt::rewind() noexcept {
  if (s_) sqlite3_reset(s_);
}

bool Stmt::is_null(int col) const noexcept { return sqlite3_column_type(s_, col) == SQLITE_NULL; }

std::int64_t Stmt::i64(int col) const noexcept { return sqlite3_column_int64(s_, col); }

std::string_view Stmt::text(int col) const noexcept {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
  if (!p) return {};
  return {p, static_cast<std::size_t>(sqlite3_column_bytes(s_, col))};
}

std::string Stmt::blob(int col) const {
  const void* p = sqlite3_column_blob(s_, col);
  const int n = sqlite3_column_bytes(s_, col);
  if (!p || n <= 0) return {};
  return std::string(static_cast<const char*>(p), static_cast<std::size_t>(n));
}

Db::Db(const std::string& path, int flags) {
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    const int primary = rc & 0xff;
    throw Error(primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT ? ErrorCode::corrupt
                                                                       : ErrorCode::storage,
                "store: cannot open '" + path + "': " + msg);
  }
  sqlite3_extended_result_codes(db_, 1);
}

Db::~Db() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  if (db_) sqlite3_close_v2(db_);
}

void Db::exec(const char* sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    sqlite3_free(err);
    throw_sqlite(rc, db_, "store");
  }
}

Stmt Db::cached(const char* sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* s = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    if (rc != SQLITE_OK) throw_sqlite(rc, db_, "store");
    it = cache_.emplace(sql, s).first;
  }
  return Stmt(db_, it->second, false);
}

Stmt Db::prepare(std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  const int rc =
      sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &s, nullptr);
  if (rc != SQLITE_OK) throw_sqlite(rc, db_, "store");
  return Stmt(db_, s, true);
}

std::int64_t Db::last_insert_rowid() const noexcept { return sqlite3_last_insert_rowid(db_); }

int Db::changes() const noexcept { return sqlite3_changes(db_); }

std::int64_t Db::query_int(const char* sql) {
  Stmt s = prepare(sql);
  if (!s.step()) return 0;
  return s.i64(0);
}

WriteTxn::WriteTxn(Db& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

WriteTxn::~WriteTxn() {
  if (!done_) sqlite3_exec(db_.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void WriteTxn::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

ReadTxn::ReadTxn(Db& db) : db_(db) { db_.exec("BEGIN"); }

ReadTxn::~ReadTxn() { sqlite3_exec(db_.raw(), "COMMIT", nullptr, nullptr, nullptr); }

}  // namespace sql
}  // namespace v0
}  // namespace crmkit
