// Private: the one write path of the store.
//
// Every write method of Store opens exactly one WriteScope and does all its work through it:
//  - it takes the writer lock (Error{storage} if the store is closed or read-only),
//  - runs BEGIN IMMEDIATE on the writer connection,
//  - reads the clock once: now() is the time of every row and audit entry the write makes,
//  - resolves the WriteContext: actor() is ctx.actor or StoreOptions::actor, source() is
//    ctx.source or "api",
//  - collects audit entries (audit()) and writes them in the same transaction at commit(),
//  - commits in commit(); if the scope ends without commit() (an exception, an early return),
//    the transaction is rolled back and the collected audit entries are dropped: nothing is left.
// So a change and its audit entry (and, later, a lifecycle transition and a points grant made by
// the same call) commit together or not at all. No code outside this class begins a write
// transaction on the writer, except schema migration at open (schema.cpp), which runs before the
// Store exists.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/sqlite.hpp"
#include "store/store_impl.hpp"

namespace crmkit {
inline namespace v0 {

class Store::Impl::WriteScope {
 public:
  // kOff switches SQLite's per-row foreign-key checks off for this one transaction (the bulk
  // import checks its references itself); they are switched back on when the scope ends.
  enum class ForeignKeys { kOn, kOff };

  WriteScope(Store::Impl& impl, const WriteContext& ctx, ForeignKeys fk = ForeignKeys::kOn);
  WriteScope(const WriteScope&) = delete;
  WriteScope& operator=(const WriteScope&) = delete;
  ~WriteScope();

  sql::Db& db() noexcept { return db_; }
  Timestamp now() const noexcept { return now_; }
  const std::string& actor() const noexcept { return actor_; }
  const std::string& source() const noexcept { return source_; }

  // Adds an audit entry (at now(), by actor() through source()), written at commit().
  void audit(std::string_view entity, std::int64_t entity_id, std::string_view action,
             std::string_view field, std::string_view old_value, std::string_view new_value);

  // Writes the collected audit entries and commits. The lock is held until the scope ends, so
  // the caller may still use db() for work that must follow the commit (a WAL checkpoint).
  void commit();

 private:
  std::unique_lock<std::mutex> lock_;
  sql::Db& db_;
  bool fk_off_ = false;
  std::optional<sql::WriteTxn> txn_;
  Timestamp now_;
  std::string actor_;
  std::string source_;
  std::vector<AuditEntry> pending_;
};

}  // namespace v0
}  // namespace crmkit
