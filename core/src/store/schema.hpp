// Private: the store's schema and its forward migrations.
//
// The schema version lives in PRAGMA user_version. Version 0 is an empty file; migration step i
// takes a file from version i to i + 1. Store::open runs every step the file needs, in order, in
// one write transaction, then sets user_version: a failed step leaves the file as it was.
//
//   v1  tables meta, fields, customers, contact_index, events, audit, suppression
//   v2  table codes: every integer code the store writes for an enum, with its name
//       (see codes.hpp), so a file says what its numbers mean and a library whose enums
//       disagree with a file refuses it instead of misreading it
//   v3  tables opportunities, machine_states, transitions (lifecycle states and their history)
//       and the entity_kind codes
//   v4  tables points_programs (with the earn_points watermark), points_entries (the points
//       ledger) and the points_entry_kind codes
//
// To change the schema: add a step at the end of the list in schema.cpp, raise kCurrentVersion,
// and extend tests/cpp/test_store_migrate.cpp (which migrates tests/data/store_v1/v2/v3.crmkit).
#pragma once

#include <string>

#include "store/sqlite.hpp"

namespace crmkit {
inline namespace v0 {
namespace schema {

inline constexpr int kCurrentVersion = 4;

// The value of meta.format in every store.
inline constexpr const char* kFormat = "crmkit";

// Runs the steps from version `from` to kCurrentVersion on `db` and sets user_version. Must be
// called inside a write transaction. `currency` is the store currency (used when from == 0).
// Throws Error{storage} (or the step's error); the caller's rollback then leaves the file as it was.
void migrate(sql::Db& db, int from, const std::string& currency);

// Checks that the codes table (v2 and later) agrees with this library's enum codes.
// Throws Error{corrupt} naming `path` and the first code that differs or is missing.
void check_codes(sql::Db& db, const std::string& path);

}  // namespace schema
}  // namespace v0
}  // namespace crmkit
