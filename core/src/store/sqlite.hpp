// Private RAII wrapper over the SQLite C API used by the store. Every failure throws crmkit::Error:
// SQLITE_CORRUPT / SQLITE_NOTADB -> corrupt, SQLITE_CONSTRAINT -> conflict, anything else ->
// storage. A Db is used by one thread at a time (the Store's locks see to that).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace crmkit {
inline namespace v0 {
namespace sql {

// Throws the crmkit::Error matching a SQLite result code; `what` prefixes the message.
[[noreturn]] void throw_sqlite(int rc, sqlite3* db, std::string_view what);

class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, sqlite3_stmt* stmt, bool owned) noexcept : db_(db), s_(stmt), owned_(owned) {}
  Stmt(Stmt&& o) noexcept;
  Stmt& operator=(Stmt&& o) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  // Finalises an owned statement; resets a borrowed (cached) one and clears its bindings.
  ~Stmt();

  // Parameters are 1-based. Text and blobs are bound SQLITE_TRANSIENT (copied) unless the
  // _static variant is used, whose argument must outlive the next step()/reset().
  Stmt& bind(int i, std::int64_t v);
  Stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, std::string_view v);
  Stmt& bind_static(int i, std::string_view v);
  Stmt& bind_blob(int i, const void* data, std::size_t n);
  Stmt& bind_null(int i);
  // Binds NULL for an empty string, the text otherwise (static).
  Stmt& bind_text_or_null(int i, std::string_view v);

  // Steps once: true if a row is available, false when done.
  bool step();
  // Steps a statement that returns no rows (throws if it does not finish).
  void run();
  void reset() noexcept;
  // Resets for another step, keeping the bindings.
  void rewind() noexcept;

  bool is_null(int col) const noexcept;
  std::int64_t i64(int col) const noexcept;
  std::string_view text(int col) const noexcept;   // "" for NULL
  std::string str(int col) const { return std::string(text(col)); }
  std::string blob(int col) const;

  sqlite3_stmt* raw() const noexcept { return s_; }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* s_ = nullptr;
  bool owned_ = false;
};

class Db {
 public:
  // Opens with the given sqlite3_open_v2 flags; throws Error{storage} (or corrupt).
  Db(const std::string& path, int flags);
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  sqlite3* raw() const noexcept { return db_; }
  void exec(const char* sql);
  // A statement prepared once per connection and reused; the returned Stmt resets it when it
  // goes out of scope. `sql` must be a string literal (it keys the cache).
  Stmt cached(const char* sql);
  // A fresh statement, finalised when the Stmt goes.
  Stmt prepare(std::string_view sql);
  std::int64_t last_insert_rowid() const noexcept;
  int changes() const noexcept;
  // A single integer from a query such as "PRAGMA user_version".
  std::int64_t query_int(const char* sql);

 private:
  sqlite3* db_ = nullptr;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

// BEGIN IMMEDIATE on construction; ROLLBACK in the destructor unless commit() succeeded.
class WriteTxn {
 public:
  explicit WriteTxn(Db& db);
  WriteTxn(const WriteTxn&) = delete;
  WriteTxn& operator=(const WriteTxn&) = delete;
  ~WriteTxn();
  void commit();

 private:
  Db& db_;
  bool done_ = false;
};

// A deferred read transaction (one consistent snapshot for several queries).
class ReadTxn {
 public:
  explicit ReadTxn(Db& db);
  ReadTxn(const ReadTxn&) = delete;
  ReadTxn& operator=(const ReadTxn&) = delete;
  ~ReadTxn();

 private:
  Db& db_;
};

}  // namespace sql
}  // namespace v0
}  // namespace crmkit
