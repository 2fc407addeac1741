// Schema migration: store files written by the releases of schema v1, v2 and v3
// (tests/data/store_v1.crmkit, store_v2.crmkit and store_v3.crmkit, made by tests/fixtures/make_store_fixture.cpp)
// open with this library, migrate to the current version in place, and keep everything:
// customers, events and amounts, the audit log, the suppression of the erased customer; JSON
// Lines export still works, and the v3 tables (opportunities, lifecycle states and history) are
// there and empty.
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <filesystem>
#include <sstream>
#include <string>

#include "crmkit/base/error.hpp"
#include "crmkit/store/store.hpp"
#include "support.hpp"

using namespace crmkit;
using namespace crmkit::test;

namespace {

// A copy of a fixture in `tmp` (the committed file is never opened in place).
std::string fixture_copy(const TempDir& tmp, const std::string& name = "store_v1.crmkit") {
  const std::string path = tmp.file(name);
  std::filesystem::copy_file(std::string(CRMKIT_TEST_DATA_DIR) + "/" + name, path);
  return path;
}

std::int64_t query_int(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(s) == SQLITE_ROW);
  const std::int64_t v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return v;
}

}  // namespace

TEST_CASE("the fixture is a schema v1 store", "[store][migrate]") {
  TempDir tmp("migrate");
  const std::string path = fixture_copy(tmp);
  // Checkpointed: the whole store is in the one file.
  CHECK(!std::filesystem::exists(std::string(CRMKIT_TEST_DATA_DIR) + "/store_v1.crmkit-wal"));
  CHECK(query_int(path, "PRAGMA user_version") == 1);
  CHECK(query_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'codes'") == 0);
}

TEST_CASE("the third fixture is a schema v3 store", "[store][migrate]") {
  TempDir tmp("migrate");
  const std::string path = fixture_copy(tmp, "store_v3.crmkit");
  CHECK(!std::filesystem::exists(std::string(CRMKIT_TEST_DATA_DIR) + "/store_v3.crmkit-wal"));
  CHECK(query_int(path, "PRAGMA user_version") == 3);
  CHECK(query_int(path, "SELECT count(*) FROM codes") == 29);
  CHECK(query_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'points_entries'") == 0);
}

TEST_CASE("the second fixture is a schema v2 store", "[store][migrate]") {
  TempDir tmp("migrate");
  const std::string path = fixture_copy(tmp, "store_v2.crmkit");
  CHECK(!std::filesystem::exists(std::string(CRMKIT_TEST_DATA_DIR) + "/store_v2.crmkit-wal"));
  CHECK(query_int(path, "PRAGMA user_version") == 2);
  CHECK(query_int(path, "SELECT count(*) FROM codes") == 27);
  CHECK(query_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'transitions'") == 0);
}

TEMPLATE_TEST_CASE_SIG("a v1, v2 or v3 store migrates to the current schema with nothing lost",
                       "[store][migrate]", ((int V), V), 1, 2, 3) {
  TempDir tmp("migrate");
  const std::string path = fixture_copy(tmp, "store_v" + std::to_string(V) + ".crmkit");
  Store s = Store::open(path);
  REQUIRE(Store::current_schema_version() == 4);
  CHECK(s.schema_version() == 4);
  CHECK(s.currency().code() == "USD");

  // Customers.
  CHECK(s.count_customers() == 4);
  CHECK(s.count_customers(true) == 5);
  const Customer ada = s.get_customer_by_external_id("C-001");
  CHECK(ada.id == 1);
  CHECK(ada.name == "Ada Lovelace");
  CHECK(ada.kind == CustomerKind::person);
  REQUIRE(ada.contacts.size() == 2);
  CHECK(ada.contacts[0].value == "ada@example.com");
  CHECK(ada.contacts[1].value == "+442079460001");
  CHECK(ada.has_consent(Channel::email, "marketing"));
  CHECK(std::get<std::string>(ada.custom.at("tier")) == "gold");
  CHECK(s.get_customer_by_email("ADA@example.com").id == 1);
  CHECK(s.get_customer_by_phone("+44 20 7946 0001").id == 1);
  const Customer acme = s.get_customer(4);
  CHECK(acme.kind == CustomerKind::organisation);
  CHECK(acme.deleted);
  CHECK(s.get_customer_by_external_id("C-004").id == 5);
  CHECK(s.fields().size() == 1);

  // Events and amounts.
  const StoreSummary sum = s.summary();
  CHECK(sum.events == 11);
  CHECK(sum.purchases == 6);
  CHECK(sum.refunds == 2);
  CHECK(sum.revenue == m("312.79"));
  CHECK(sum.refunded == m("30.49"));
  CHECK(sum.net_revenue == m("282.30"));
  const auto events = s.events_of(1);
  REQUIRE(events.size() == 5);
  CHECK(events[0].type() == EventType::interaction);
  CHECK(std::get<Interaction>(events[0].payload).kind == InteractionKind::visit);
  CHECK(std::get<Interaction>(events[0].payload).purpose == ContactPurpose::deal);
  CHECK(events[1].type() == EventType::purchase);
  CHECK(std::get<Purchase>(events[1].payload).amount == m("120.50"));
  CHECK(s.refundable_amount(events[1].id) == m("100.00"));
  CHECK(events[2].type() == EventType::refund);
  CHECK(events[3].type() == EventType::referral);
  CHECK(std::get<Referral>(events[3].payload).referred == 2);
  const auto bob = s.events_of(2);
  REQUIRE(bob.size() == 3);
  CHECK(bob[1].type() == EventType::survey_response);
  CHECK(std::get<SurveyResponse>(bob[1].payload).nps == 9);
  CHECK(std::get<Purchase>(bob[2].payload).amount == m("5.05"));
  const PurchaseColumns pc = s.purchase_columns();
  CHECK(pc.event_id.size() == 6);
  CHECK(s.referral_columns().event_id.size() == 1);

  // The audit log, untouched by the migration.
  const auto audit = s.audit_log();
  REQUIRE(audit.size() == 9);
  CHECK(audit.front().action == "declare_field");
  CHECK(audit.front().actor == "fixture");
  CHECK(audit.back().action == "delete");

  // The erased customer stays erased and suppressed.
  const Customer eve = s.get_customer(3);
  CHECK(eve.erased);
  CHECK(eve.contacts.empty());
  CHECK(s.is_suppressed("C-003"));
  CHECK(s.is_suppressed("", "eve@example.com"));
  CHECK(s.is_suppressed("", "", "+1 555 010 0003"));
  CHECK_ERROR(s.create_customer(person("C-003")), ErrorCode::suppressed,
              "customer.external_id: 'C-003' belongs to an erased customer");
  CHECK(dump(s).find("eve@example.com") == std::string::npos);

  // Idempotency keys of the old ledger still hold.
  Event again;
  again.customer = 1;
  again.at = Timestamp::parse("2024-02-01T09:30:00Z");
  again.idempotency_key = "pos:O-1";
  again.payload = Purchase{"O-1", m("120.50"), "books", true, 2};
  CHECK(s.append_event(again).id == events[1].id);

  // The store keeps working: a new write, and a JSON Lines round trip.
  Customer zed = s.create_customer(person("C-010"));
  CHECK(zed.id == 6);
  std::ostringstream out;
  s.export_jsonl(out);
  Store copy = Store::open(":memory:", usd());
  std::istringstream in(out.str());
  copy.import_jsonl(in);
  CHECK(dump(copy) == out.str());
  CHECK(copy.summary().net_revenue == m("282.30"));
  CHECK(copy.is_suppressed("C-003"));

  // The v3 tables are there, empty but for what this test wrote.
  CHECK(s.list_opportunities().empty());
  CHECK(s.history("customer_lifecycle").size() == 0);

  // The v4 tables are there and empty.
  CHECK(s.points_programs().empty());
  s.close();

  // The file itself is now v4, with the codes table (v2), the entity kinds (v3) and the points
  // entry kinds (v4).
  CHECK(query_int(path, "PRAGMA user_version") == 4);
  CHECK(query_int(path, "SELECT count(*) FROM codes WHERE enumeration = 'event_type'") == 6);
  CHECK(query_int(path, "SELECT code FROM codes WHERE name = 'survey_response'") == 4);
  CHECK(query_int(path, "SELECT count(*) FROM codes") == 34);
  CHECK(query_int(path, "SELECT code FROM codes WHERE enumeration = 'points_entry_kind' AND "
                        "name = 'spend'") == 4);
  CHECK(query_int(path, "SELECT count(*) FROM sqlite_master WHERE name IN ('points_programs', "
                        "'points_entries')") == 2);
  CHECK(query_int(path, "SELECT code FROM codes WHERE enumeration = 'entity_kind' AND "
                        "name = 'opportunity'") == 1);
  CHECK(query_int(path, "SELECT count(*) FROM sqlite_master WHERE name IN ('opportunities', "
                        "'machine_states', 'transitions')") == 3);
  Store reopened = Store::open(path);
  CHECK(reopened.schema_version() == 4);
  CHECK(reopened.count_customers() == 5);
  // The migrated store takes opportunities.
  Opportunity o;
  o.customer = 1;
  o.name = "Renewal";
  o.amount = m("100.00");
  o.expected_close = Date(2025, 3, 31);
  o.pipeline = "sales_pipeline";
  CHECK(reopened.create_opportunity(o).id == 1);
}

TEST_CASE("a read-only open of a v1 store refuses to migrate and leaves it as it was",
          "[store][migrate]") {
  TempDir tmp("migrate");
  const std::string path = fixture_copy(tmp);
  StoreOptions ro;
  ro.read_only = true;
  CHECK_ERROR(Store::open(path, ro), ErrorCode::storage,
              "store: read-only store '" + path + "' needs a schema migration (version 1 to 4)");
  CHECK(query_int(path, "PRAGMA user_version") == 1);
}

TEST_CASE("a file whose codes disagree with the library's is corrupt", "[store][migrate]") {
  TempDir tmp("migrate");
  const std::string path = tmp.file("codes.crmkit");
  { Store s = Store::open(path, usd()); }
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "UPDATE codes SET name = 'refund' WHERE enumeration = 'event_type' "
                             "AND code = 0", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  CHECK_ERROR(Store::open(path), ErrorCode::corrupt,
              "store: '" + path +
                  "' stores event_type code 0 as 'refund', this library as 'purchase'");
}
