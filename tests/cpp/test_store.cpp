// Tests for crmkit/store/store.hpp: opening, customers, look-ups, audit, soft delete, reopen.
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "crmkit/base/error.hpp"
#include "crmkit/store/store.hpp"
#include "support.hpp"

using namespace crmkit;
using namespace crmkit::test;
namespace fs = std::filesystem;

namespace {

void set_user_version(const std::string& path, int version) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  const std::string sql = "PRAGMA user_version=" + std::to_string(version);
  REQUIRE(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
}

}  // namespace

TEST_CASE("a new store has the current schema and the given currency", "[store]") {
  Store s = Store::open(":memory:", usd());
  CHECK(s.schema_version() == 4);
  CHECK(Store::current_schema_version() == 4);
  CHECK(s.currency().code() == "USD");
  CHECK(s.count_customers() == 0);
  CHECK(s.count_events() == 0);
  CHECK(s.audit_log().empty());
  CHECK(s.path() == ":memory:");
}

TEST_CASE("opening refuses a missing or unknown currency on creation", "[store]") {
  auto e1 = catch_error([] { Store::open(":memory:"); });
  CHECK(e1.code() == ErrorCode::invalid_argument);
  CHECK(std::string(e1.what()) == "currency: required to create a store");
  StoreOptions o;
  o.currency = "ABC";
  auto e2 = catch_error([&] { Store::open(":memory:", o); });
  CHECK(e2.code() == ErrorCode::invalid_argument);
  CHECK(std::string(e2.what()) == "currency: unknown currency 'ABC'");
}

TEST_CASE("creates customers and finds them by id, external id, e-mail and phone", "[store]") {
  Store s = Store::open(":memory:", usd());
  Customer in = person("c-1", "Ann Lee", "  Ann.Lee@Example.COM ", "+86 138-0013-8000");
  Customer c = s.create_customer(in);
  CHECK(c.id == 1);
  REQUIRE(c.contacts.size() == 2);
  CHECK(c.contacts[0].value == "ann.lee@example.com");
  CHECK(c.contacts[1].value == "+8613800138000");
  CHECK(c.created_at == c.updated_at);
  CHECK(c.created_at.micros() > 0);
  CHECK_FALSE(c.deleted);
  CHECK_FALSE(c.erased);

  CHECK(s.get_customer(1) == c);
  CHECK(s.get_customer_by_external_id("c-1") == c);
  CHECK(s.get_customer_by_email("ANN.LEE@example.com") == c);
  CHECK(s.get_customer_by_phone("0086 13800138000") == c);
  CHECK(s.find_customer_by_external_id("c-1").has_value());
  CHECK_FALSE(s.find_customer_by_external_id("c-2").has_value());

  Customer d = s.create_customer(person("c-2", "Bo Chen", "bo@example.com"));
  CHECK(d.id == 2);
  auto all = s.list_customers();
  REQUIRE(all.size() == 2);
  CHECK(all[0].external_id == "c-1");
  CHECK(all[1].external_id == "c-2");
  CHECK(s.count_customers() == 2);

  auto nf = catch_error([&] { s.get_customer_by_email("nobody@example.com"); });
  CHECK(nf.code() == ErrorCode::not_found);
  CHECK(std::string(nf.what()) == "customer.email: no customer with e-mail 'nobody@example.com'");
  auto bad = catch_error([&] { s.get_customer_by_email("not-an-email"); });
  CHECK(bad.code() == ErrorCode::invalid_argument);
  CHECK(std::string(bad.what()).rfind("email", 0) == 0);
  auto nx = catch_error([&] { s.get_customer_by_external_id("zz"); });
  CHECK(nx.code() == ErrorCode::not_found);
  CHECK(std::string(nx.what()) == "customer.external_id: no customer with external id 'zz'");
}

TEST_CASE("two customers sharing an e-mail make the look-up a conflict", "[store]") {
  Store s = Store::open(":memory:", usd());
  s.create_customer(person("a", "A", "same@example.com"));
  s.create_customer(person("b", "B", "same@example.com"));
  auto e = catch_error([&] { s.get_customer_by_email("same@example.com"); });
  CHECK(e.code() == ErrorCode::conflict);
  CHECK(std::string(e.what()) == "customer.email: 2 customers share e-mail 'same@example.com'");
}

TEST_CASE("a duplicate external id is a conflict and changes nothing", "[store]") {
  Store s = Store::open(":memory:", usd());
  s.create_customer(person("c-1", "Ann"));
  const std::string before = dump(s);
  auto e = catch_error([&] { s.create_customer(person("c-1", "Other")); });
  CHECK(e.code() == ErrorCode::conflict);
  CHECK(std::string(e.what()) == "customer.external_id: 'c-1' already exists");
  CHECK(dump(s) == before);
  CHECK(s.count_customers() == 1);
}

TEST_CASE("an invalid customer is refused and nothing is written", "[store]") {
  Store s = Store::open(":memory:", usd());
  const std::string before = dump(s);
  auto e = catch_error([&] { s.create_customer(person("c-1", "")); });
  CHECK(e.code() == ErrorCode::invalid_argument);
  CHECK(std::string(e.what()).find("name") != std::string::npos);
  auto e2 = catch_error([&] { s.create_customer(person("c-1", "Ann", "no-at-sign")); });
  CHECK(e2.code() == ErrorCode::invalid_argument);
  CHECK(std::string(e2.what()).find("contacts[0]") != std::string::npos);
  CHECK(dump(s) == before);
  CHECK(s.audit_log().empty());
}

TEST_CASE("a write's actor and source are checked like event text and refused before writing",
          "[store]") {
  Store s = Store::open(":memory:", usd());
  s.create_customer(person("c-1", "Ann"));
  const std::string before = dump(s);
  CHECK_INVALID(s.create_customer(person("c-2", "Bo"), WriteContext{std::string("a\0b", 3), ""}),
                "actor: contains a NUL byte (at byte 1)");
  CHECK_INVALID(s.create_customer(person("c-2", "Bo"), WriteContext{"", std::string(257, 's')}),
                "source: is 257 bytes, longer than the limit of 256");
  CHECK_INVALID(s.append_event(purchase_event(1, "5.00", "2024-01-01T00:00:00Z"),
                               WriteContext{"\xff", ""}),
                "actor: is not valid UTF-8 (at byte 0)");
  CHECK(dump(s) == before);
  // The store's default actor is checked when the store is opened.
  StoreOptions bad = usd();
  bad.actor = "";
  CHECK_INVALID(Store::open(":memory:", bad), "actor: must not be empty");
  bad.actor = std::string(300, 'a');
  CHECK_INVALID(Store::open(":memory:", bad), "actor: is 300 bytes, longer than the limit of 256");
}

TEST_CASE("an unknown customer id is not_found", "[store]") {
  Store s = Store::open(":memory:", usd());
  auto e = catch_error([&] { s.get_customer(99); });
  CHECK(e.code() == ErrorCode::not_found);
  CHECK(std::string(e.what()) == "customer: no customer with id 99");
  Customer c = person("c-9", "Nine");
  c.id = 99;
  auto u = catch_error([&] { s.update_customer(c); });
  CHECK(u.code() == ErrorCode::not_found);
  CHECK(std::string(u.what()) == "customer: no customer with id 99");
  CHECK(catch_error([&] { s.delete_customer(99); }).code() == ErrorCode::not_found);
  CHECK(catch_error([&] { s.restore_customer(99); }).code() == ErrorCode::not_found);
  CHECK(catch_error([&] { s.erase_customer(99); }).code() == ErrorCode::not_found);
  CHECK(s.count_customers(true) == 0);
}

TEST_CASE("SQL-looking text is stored verbatim", "[store]") {
  Store s = Store::open(":memory:", usd());
  const std::string ext = "x' OR '1'='1";
  const std::string name = "Robert'); DROP TABLE customers;--";
  Customer c = s.create_customer(person(ext, name));
  CHECK(s.get_customer_by_external_id(ext).name == name);
  CHECK(s.get_customer(c.id).external_id == ext);
  CHECK(s.count_customers() == 1);
  CHECK_FALSE(s.find_customer_by_external_id("anything' OR 1=1 --").has_value());
}

TEST_CASE("updates are audited one entry per changed top-level field", "[store]") {
  Store s = Store::open(":memory:", usd());
  Customer c = s.create_customer(person("c-1", "Ann"), {"alice", "crm-ui"});
  Customer u = c;
  u.name = "Anne";
  u.tags = {"vip"};
  Customer stored = s.update_customer(u, {"bob", "batch"});
  CHECK(stored.name == "Anne");
  CHECK(stored.tags == std::vector<std::string>{"vip"});
  CHECK(stored.created_at == c.created_at);
  CHECK(s.get_customer(c.id) == stored);

  auto log = s.audit_log(c.id);
  REQUIRE(log.size() == 3);
  CHECK(log[0].action == "create");
  CHECK(log[0].actor == "alice");
  CHECK(log[0].source == "crm-ui");
  CHECK(log[0].entity == "customer");
  CHECK(log[0].entity_id == c.id);
  CHECK(log[0].new_value.find("\"Ann\"") != std::string::npos);
  CHECK(log[1].action == "update");
  CHECK(log[1].field == "name");
  CHECK(log[1].old_value == "\"Ann\"");
  CHECK(log[1].new_value == "\"Anne\"");
  CHECK(log[1].actor == "bob");
  CHECK(log[1].source == "batch");
  CHECK(log[2].field == "tags");
  CHECK(log[2].old_value == "[]");
  CHECK(log[2].new_value == "[\"vip\"]");

  // An update that changes nothing writes nothing.
  s.update_customer(stored);
  CHECK(s.audit_log(c.id).size() == 3);
  CHECK(s.audit_log().size() == 3);
}

TEST_CASE("an update to an existing external id is a conflict and changes nothing", "[store]") {
  Store s = Store::open(":memory:", usd());
  s.create_customer(person("a", "A"));
  Customer b = s.create_customer(person("b", "B"));
  const std::string before = dump(s);
  b.external_id = "a";
  auto e = catch_error([&] { s.update_customer(b); });
  CHECK(e.code() == ErrorCode::conflict);
  CHECK(std::string(e.what()) == "customer.external_id: 'a' already exists");
  CHECK(dump(s) == before);
}

TEST_CASE("soft delete and restore", "[store]") {
  Store s = Store::open(":memory:", usd());
  Customer c = s.create_customer(person("c-1", "Ann", "ann@example.com"));
  s.delete_customer(c.id);
  CHECK(s.get_customer(c.id).deleted);
  CHECK_FALSE(s.find_customer_by_external_id("c-1").has_value());
  CHECK(catch_error([&] { s.get_customer_by_email("ann@example.com"); }).code() ==
        ErrorCode::not_found);
  CHECK(s.list_customers().empty());
  CHECK(s.list_customers(true).size() == 1);
  CHECK(s.count_customers() == 0);
  CHECK(s.count_customers(true) == 1);
  CHECK(s.summary().deleted_customers == 1);

  auto again = catch_error([&] { s.delete_customer(c.id); });
  CHECK(again.code() == ErrorCode::conflict);
  CHECK(std::string(again.what()) == "customer: customer 1 is already deleted");
  Customer upd = s.get_customer(c.id);
  upd.name = "X";
  auto eu = catch_error([&] { s.update_customer(upd); });
  CHECK(eu.code() == ErrorCode::conflict);
  CHECK(std::string(eu.what()) == "customer: customer 1 is deleted (restore it first)");

  s.restore_customer(c.id);
  CHECK_FALSE(s.get_customer(c.id).deleted);
  CHECK(s.get_customer_by_email("ann@example.com").id == c.id);
  auto er = catch_error([&] { s.restore_customer(c.id); });
  CHECK(er.code() == ErrorCode::conflict);
  CHECK(std::string(er.what()) == "customer: customer 1 is not deleted");

  auto log = s.audit_log(c.id);
  REQUIRE(log.size() == 3);
  CHECK(log[1].action == "delete");
  CHECK(log[1].old_value == "false");
  CHECK(log[1].new_value == "true");
  CHECK(log[2].action == "restore");
}

TEST_CASE("memberships must name a stored organisation", "[store]") {
  Store s = Store::open(":memory:", usd());
  Customer org;
  org.external_id = "org-1";
  org.name = "Acme";
  org.kind = CustomerKind::organisation;
  org = s.create_customer(org);
  Customer other = s.create_customer(person("p-0", "Someone"));

  Customer p = person("p-1", "Pat");
  p.memberships.push_back({org.id, {BuyingRole::acceptor}, RelationshipLevel::partner, "CTO"});
  Customer stored = s.create_customer(p);
  REQUIRE(stored.memberships.size() == 1);
  CHECK(stored.memberships[0].organisation == org.id);
  CHECK(stored.memberships[0].title == "CTO");

  const std::string before = dump(s);
  Customer bad = person("p-2", "Pam");
  bad.memberships.push_back({77, {}, RelationshipLevel::acquaintance, ""});
  auto e = catch_error([&] { s.create_customer(bad); });
  CHECK(e.code() == ErrorCode::invalid_argument);
  CHECK(std::string(e.what()) == "customer.memberships[0].organisation: no organisation with id 77");
  bad.memberships[0].organisation = other.id;
  auto e2 = catch_error([&] { s.create_customer(bad); });
  CHECK(e2.code() == ErrorCode::invalid_argument);
  CHECK(std::string(e2.what()) ==
        "customer.memberships[0].organisation: customer 2 is not an organisation");
  CHECK(dump(s) == before);
}

TEST_CASE("consent records are set, replaced and audited", "[store]") {
  Store s = Store::open(":memory:", usd());
  Customer c = s.create_customer(person("c-1", "Ann", "ann@example.com"));
  Consent k;
  k.channel = Channel::email;
  k.purpose = "marketing";
  k.status = ConsentStatus::granted;
  k.at = Timestamp::from_seconds(1700000000);
  k.source = "web-form";
  Customer a = s.set_consent(c.id, k);
  CHECK(a.has_consent(Channel::email, "marketing"));
  k.status = ConsentStatus::withdrawn;
  Customer b = s.set_consent(c.id, k);
  CHECK_FALSE(b.has_consent(Channel::email, "marketing"));
  REQUIRE(b.consents.size() == 1);
  CHECK(s.get_customer(c.id).consents == b.consents);
  auto log = s.audit_log(c.id);
  REQUIRE(log.size() == 3);
  CHECK(log[1].action == "consent");
  CHECK(log[1].field == "consents");
  CHECK(log[1].old_value == "[]");
  CHECK(log[2].old_value.find("granted") != std::string::npos);
  CHECK(log[2].new_value.find("withdrawn") != std::string::npos);

  const std::string before = dump(s);
  Consent bad = k;
  bad.source = "";
  CHECK(catch_error([&] { s.set_consent(c.id, bad); }).code() == ErrorCode::invalid_argument);
  CHECK(dump(s) == before);
}

TEST_CASE("custom fields are declared once and validated", "[store]") {
  Store s = Store::open(":memory:", usd());
  FieldDef tier;
  tier.name = "tier";
  tier.type = FieldType::enumeration;
  tier.enum_values = {"gold", "silver"};
  s.declare_field(tier);
  auto dup = catch_error([&] { s.declare_field(tier); });
  CHECK(dup.code() == ErrorCode::conflict);
  CHECK(std::string(dup.what()) == "field.name: 'tier' already exists");
  REQUIRE(s.fields().size() == 1);
  CHECK(s.fields()[0] == tier);

  Customer c = person("c-1", "Ann");
  c.custom["tier"] = std::string("gold");
  CHECK(std::get<std::string>(s.create_customer(c).custom.at("tier")) == "gold");
  Customer bad = person("c-2", "Bo");
  bad.custom["tier"] = std::string("bronze");
  CHECK(catch_error([&] { s.create_customer(bad); }).code() == ErrorCode::invalid_argument);
  Customer undeclared = person("c-3", "Cy");
  undeclared.custom["shoe_size"] = std::int64_t{42};
  CHECK(catch_error([&] { s.create_customer(undeclared); }).code() ==
        ErrorCode::invalid_argument);
  CHECK(s.count_customers() == 1);
  auto log = s.audit_log();
  REQUIRE(log.size() == 2);
  CHECK(log[0].entity == "field");
  CHECK(log[0].action == "declare_field");
  CHECK(log[0].field == "tier");
}

TEST_CASE("a file store keeps its data across reopening", "[store]") {
  TempDir tmp("store");
  const std::string path = tmp.file("crm.db");
  CustomerId id = 0;
  {
    Store s = Store::open(path, usd());
    id = s.create_customer(person("c-1", "Ann", "ann@example.com")).id;
    CHECK(fs::exists(path));
  }
  {
    Store s = Store::open(path);  // currency may be left empty
    CHECK(s.currency().code() == "USD");
    CHECK(s.get_customer_by_email("ann@example.com").id == id);
    CHECK(s.schema_version() == 4);
    s.close();
    CHECK(s.is_closed());
    auto e = catch_error([&] { s.count_customers(); });
    CHECK(e.code() == ErrorCode::storage);
    CHECK(std::string(e.what()) == "store: store is closed");
    s.close();  // harmless
  }
  StoreOptions eur;
  eur.currency = "EUR";
  auto c = catch_error([&] { Store::open(path, eur); });
  CHECK(c.code() == ErrorCode::conflict);
  CHECK(std::string(c.what()) == "currency: the store's currency is USD, not EUR");

  StoreOptions ro;
  ro.read_only = true;
  Store r = Store::open(path, ro);
  CHECK(r.count_customers() == 1);
  auto w = catch_error([&] { r.create_customer(person("c-2", "Bo")); });
  CHECK(w.code() == ErrorCode::storage);
  CHECK(std::string(w.what()) == "store: store is read-only");
}

TEST_CASE("a missing file with create_if_missing=false is not_found", "[store]") {
  TempDir tmp("store");
  StoreOptions o = usd();
  o.create_if_missing = false;
  auto e = catch_error([&] { Store::open(tmp.file("none.db"), o); });
  CHECK(e.code() == ErrorCode::not_found);
  CHECK_FALSE(fs::exists(tmp.file("none.db")));
}

TEST_CASE("a file from a newer schema is corrupt", "[store]") {
  TempDir tmp("store");
  const std::string path = tmp.file("new.db");
  { Store s = Store::open(path, usd()); }
  set_user_version(path, 5);
  auto e = catch_error([&] { Store::open(path, usd()); });
  CHECK(e.code() == ErrorCode::corrupt);
  CHECK(std::string(e.what()) ==
        "store: '" + path + "' has schema version 5, newer than this library's (4)");
}

TEST_CASE("a file that is not a crmkit store is corrupt, and the message names it", "[store]") {
  TempDir tmp("store");
  const std::string text = tmp.file("notes.txt");
  {
    std::ofstream out(text);
    for (int i = 0; i < 200; ++i) out << "this is not a database at all\n";
  }
  CHECK_ERROR(Store::open(text, usd()), ErrorCode::corrupt,
              "store: '" + text + "' is not a crmkit store (file is not a database)");

  const std::string empty = tmp.file("empty.crmkit");
  { std::ofstream out(empty); }
  // An empty file is a new store (SQLite's rule; what a concurrent creator leaves for a moment).
  {
    Store fresh = Store::open(empty, usd());
    CHECK(fresh.schema_version() == Store::current_schema_version());
    CHECK(fresh.count_customers() == 0);
  }
  CHECK(std::filesystem::file_size(empty) > 0);

  const std::string other = tmp.file("other.db");
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(other.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  CHECK_ERROR(Store::open(other, usd()), ErrorCode::corrupt,
              "store: '" + other +
                  "' is not a crmkit store (tables of another application, no crmkit version)");
  set_user_version(other, 1);
  CHECK_ERROR(Store::open(other, usd()), ErrorCode::corrupt,
              "store: '" + other + "' is not a crmkit store (no such table: meta)");
}

TEST_CASE("get_or_create_customer creates once and then returns the stored customer",
          "[store]") {
  Store s = Store::open(":memory:", usd());
  Customer in = person("g-1", "Grace");
  in.contacts = {{ContactKind::email, " Grace@Example.com ", "", false}};
  const GetOrCreateResult first = s.get_or_create_customer(in, {"alice", "web"});
  CHECK(first.created);
  CHECK(first.customer.id == 1);
  CHECK(first.customer.contacts[0].value == "grace@example.com");
  REQUIRE(s.audit_log(1).size() == 1);
  CHECK(s.audit_log(1)[0].action == "create");
  CHECK(s.audit_log(1)[0].actor == "alice");
  // The audit entry and the record share the write's one clock reading.
  CHECK(s.audit_log(1)[0].at == first.customer.created_at);

  // Run again, with different data: the stored record comes back unchanged, nothing written.
  Customer changed = in;
  changed.name = "Grace Hopper";
  const std::string before = dump(s);
  const GetOrCreateResult second = s.get_or_create_customer(changed);
  CHECK_FALSE(second.created);
  CHECK(second.customer == first.customer);
  CHECK(second.customer.name == "Grace");
  CHECK(dump(s) == before);
  CHECK(s.count_customers() == 1);

  // Invalid data for a new external id fails like create_customer and writes nothing.
  CHECK_INVALID(s.get_or_create_customer(person("g-2", "")), "name: must not be empty");
  CHECK(dump(s) == before);

  // A soft-deleted customer is not silently revived or duplicated.
  s.delete_customer(1);
  CHECK_ERROR(s.get_or_create_customer(in), ErrorCode::conflict,
              "customer.external_id: 'g-1' belongs to deleted customer 1 (restore it first)");
  s.restore_customer(1);
  CHECK_FALSE(s.get_or_create_customer(in).created);

  // An erased customer's external id stays suppressed.
  s.erase_customer(1);
  CHECK_ERROR(s.get_or_create_customer(in), ErrorCode::suppressed,
              "customer.external_id: 'g-1' belongs to an erased customer");
}

TEST_CASE("a write's rows and audit entries share one clock reading and one context, and a "
          "failed write leaves no audit entry", "[store]") {
  Store s = Store::open(":memory:", usd());
  Customer c = s.create_customer(person("w-1"));
  c.owner = "maria";
  c.tags = {"a"};
  const Customer u = s.update_customer(c, {"bob", "crm"});
  const auto log = s.audit_log(c.id);
  REQUIRE(log.size() == 3);
  CHECK(log[0].at == c.created_at);
  CHECK(log[1].field == "owner");
  CHECK(log[2].field == "tags");
  for (std::size_t i = 1; i < 3; ++i) {
    CHECK(log[i].at == u.updated_at);
    CHECK(log[i].actor == "bob");
    CHECK(log[i].source == "crm");
  }
  CHECK(log[0].actor == "system");
  CHECK(log[0].source == "api");

  PurchaseImport rows;
  rows.customer_external_id = {"w-1", "w-2"};
  rows.at = {Timestamp::from_seconds(1700000000), Timestamp::from_seconds(1700000001)};
  rows.amount = {"1.00", "2.00"};
  s.import_purchases(rows, {"loader", ""});
  const AuditEntry imported = s.audit_log().back();
  CHECK(imported.action == "import_purchases");
  CHECK(imported.actor == "loader");
  CHECK(imported.at == s.get_event(1).recorded_at);
  CHECK(imported.at == s.get_event(2).recorded_at);
  CHECK(imported.at == s.get_customer_by_external_id("w-2").created_at);
  CHECK(s.get_event(2).actor == "loader");

  const std::size_t entries = s.audit_log().size();
  Consent bad;
  bad.purpose = "marketing";  // no source: invalid
  CHECK(catch_error([&] { s.set_consent(c.id, bad); }).code() == ErrorCode::invalid_argument);
  CHECK(catch_error([&] { s.delete_customer(99); }).code() == ErrorCode::not_found);
  s.delete_customer(c.id);
  CHECK(catch_error([&] { s.delete_customer(c.id); }).code() == ErrorCode::conflict);
  CHECK(s.audit_log().size() == entries + 1);
}
