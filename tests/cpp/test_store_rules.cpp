// One rule, one place: the same bad purchases sent through the single (append_event), batch
// (append_events) and bulk (import_purchases) paths of crmkit/store/store.hpp give the same error
// code and the same message apart from the row prefix ("events[0]." / "rows[0]."), and leave the
// store unchanged; customers created by the bulk path obey the declared fields like
// create_customer.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "crmkit/base/error.hpp"
#include "crmkit/store/store.hpp"
#include "support.hpp"

using namespace crmkit;
using namespace crmkit::test;

namespace {

struct Row {
  std::string amount = "10.00";
  std::string currency = "USD";
  std::string order_id = "o-1";
  std::string category = "books";
  std::int32_t item_count = 1;
  std::string key = {};
};

struct Case {
  const char* name;
  Row row;
  ErrorCode code;
  std::string message;  // without a row prefix
  // A Money cannot hold more decimals than its currency: on the event paths the amount fails
  // when the caller builds it, before any store call, so with the same message and no prefix.
  bool fails_building_money = false;
};

// A store with customers "a" (id 1) and "b" (id 2); b holds purchase 1 with key "taken".
Store fresh() {
  Store s = Store::open(":memory:", usd());
  s.create_customer(person("a"));
  const Customer b = s.create_customer(person("b"));
  Event e;
  e.customer = b.id;
  e.at = Timestamp::from_seconds(1700000000);
  e.idempotency_key = "taken";
  e.payload = Purchase{"o-b", m("5.00"), "", true, 1};
  s.append_event(e);
  return s;
}

// The row as an event of customer `customer`. Building the Money is part of the path: an amount
// the currency cannot hold fails there, under the same field name as in the bulk path.
Event as_event(const Row& r, CustomerId customer) {
  Event e;
  e.customer = customer;
  e.at = Timestamp::from_seconds(1700003600);
  e.idempotency_key = r.key;
  Purchase p;
  p.amount = Money::parse(r.amount, Currency::of(r.currency), "purchase.amount");
  p.order_id = r.order_id;
  p.category = r.category;
  p.item_count = r.item_count;
  e.payload = p;
  return e;
}

// The row (and a good one after it) as a bulk import for external id `ext`.
PurchaseImport as_import(const Row& r, const std::string& ext) {
  PurchaseImport in;
  in.currency = r.currency;
  in.customer_external_id = {ext, "a"};
  in.at = {Timestamp::from_seconds(1700003600), Timestamp::from_seconds(1700007200)};
  in.amount = {r.amount, "1.00"};
  in.order_id = {r.order_id, "o-2"};
  in.category = {r.category, ""};
  in.item_count = {r.item_count, 1};
  in.idempotency_key = {r.key, ""};
  return in;
}

Error single(const Row& r, CustomerId customer) {
  Store s = fresh();
  const std::string before = dump(s);
  Error e = catch_error([&] { s.append_event(as_event(r, customer)); });
  CHECK(dump(s) == before);
  return e;
}

Error batch(const Row& r, CustomerId customer) {
  Store s = fresh();
  const std::string before = dump(s);
  Error e = catch_error([&] {
    std::vector<Event> events{as_event(r, customer), as_event(Row{}, 1)};
    s.append_events(events);
  });
  CHECK(dump(s) == before);
  return e;
}

Error bulk(const Row& r, const std::string& ext, bool create_missing = true) {
  Store s = fresh();
  const std::string before = dump(s);
  Error e = catch_error([&] {
    PurchaseImport in = as_import(r, ext);
    in.create_missing_customers = create_missing;
    s.import_purchases(in);
  });
  CHECK(dump(s) == before);
  return e;
}

}  // namespace

TEST_CASE("the same bad purchase fails the same way on the single, batch and bulk paths",
          "[store][rules]") {
  const std::vector<Case> cases = {
      {"negative amount", {.amount = "-1.00"}, ErrorCode::invalid_argument,
       "purchase.amount: must not be negative, got -1.00 USD"},
      {"too many decimals", {.amount = "12.345"}, ErrorCode::invalid_argument,
       "purchase.amount: 12.345 has more decimals than USD allows (2)", true},
      {"another currency", {.currency = "EUR"}, ErrorCode::invalid_argument,
       "purchase.amount: currency EUR differs from the store's USD"},
      {"oversized order id", {.order_id = std::string(257, 'x')}, ErrorCode::invalid_argument,
       "purchase.order_id: is 257 bytes, longer than the limit of 256"},
      {"item count 0", {.item_count = 0}, ErrorCode::invalid_argument,
       "purchase.item_count: must be between 1 and 100000, got 0"},
      {"item count too large", {.item_count = 100001}, ErrorCode::invalid_argument,
       "purchase.item_count: must be between 1 and 100000, got 100001"},
      {"invalid UTF-8 category", {.category = "bo\xffks"}, ErrorCode::invalid_argument,
       "purchase.category: is not valid UTF-8 (at byte 2)"},
      {"oversized idempotency key", {.key = std::string(300, 'k')}, ErrorCode::invalid_argument,
       "idempotency_key: is 300 bytes, longer than the limit of 256"},
      {"idempotency key of another customer's event", {.key = "taken"}, ErrorCode::conflict,
       "idempotency_key: 'taken' belongs to another event (id 1)"},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      const Error one = single(c.row, 1);
      CHECK(one.code() == c.code);
      CHECK(std::string(one.what()) == c.message);
      const Error many = batch(c.row, 1);
      CHECK(many.code() == c.code);
      CHECK(std::string(many.what()) ==
            (c.fails_building_money ? "" : "events[0].") + c.message);
      const Error rows = bulk(c.row, "a");
      CHECK(rows.code() == c.code);
      CHECK(std::string(rows.what()) == "rows[0]." + c.message);
    }
  }
}

TEST_CASE("an unknown customer is not_found on every path", "[store][rules]") {
  const Error one = single(Row{}, 99);
  CHECK(one.code() == ErrorCode::not_found);
  CHECK(std::string(one.what()) == "customer: no customer with id 99");
  const Error many = batch(Row{}, 99);
  CHECK(many.code() == ErrorCode::not_found);
  CHECK(std::string(many.what()) == "events[0].customer: no customer with id 99");
  // The bulk path names customers by external id.
  const Error rows = bulk(Row{}, "zz", false);
  CHECK(rows.code() == ErrorCode::not_found);
  CHECK(std::string(rows.what()) == "rows[0].customer_external_id: no customer with external id 'zz'");
}

TEST_CASE("an empty order id is accepted on every path", "[store][rules]") {
  Row r;
  r.order_id = "";
  Store s = fresh();
  CHECK(s.append_event(as_event(r, 1)).id == 2);
  std::vector<Event> events{as_event(r, 1)};
  CHECK(s.append_events(events) == std::vector<EventId>{3});
  const ImportReport rep = s.import_purchases(as_import(r, "a"));
  CHECK(rep.purchases_added == 2);
  CHECK(s.count_events() == 5);
  CHECK(s.get_event(2).idempotency_key.empty());
  CHECK(std::get<Purchase>(s.get_event(4).payload).order_id.empty());
}

TEST_CASE("a key repeated by the same customer is one event on every path", "[store][rules]") {
  Store s = fresh();
  Row r;
  r.key = "k-1";
  const Event first = s.append_event(as_event(r, 1));
  CHECK(s.append_event(as_event(r, 1)).id == first.id);
  std::vector<Event> events{as_event(r, 1)};
  CHECK(s.append_events(events) == std::vector<EventId>{first.id});
  PurchaseImport in = as_import(r, "a");
  const ImportReport rep = s.import_purchases(in);
  CHECK(rep.duplicates_skipped == 1);
  CHECK(rep.purchases_added == 1);
  CHECK(s.count_events() == 3);  // b's purchase, first, and the good second bulk row
}

TEST_CASE("a required field makes the bulk path's customer creation fail like create_customer",
          "[store][rules]") {
  Store s = fresh();
  FieldDef tier;
  tier.name = "tier";
  tier.type = FieldType::text;
  tier.required = true;
  s.declare_field(tier);
  const std::string before = dump(s);
  const Error made = catch_error([&] { s.create_customer(person("new")); });
  CHECK(made.code() == ErrorCode::invalid_argument);
  CHECK(std::string(made.what()) == "custom.tier: required field missing");
  const Error imported = catch_error([&] { s.import_purchases(as_import(Row{}, "new")); });
  CHECK(imported.code() == ErrorCode::invalid_argument);
  CHECK(std::string(imported.what()) == "rows[0].custom.tier: required field missing");
  CHECK(dump(s) == before);
  // Rows of existing customers still import: the rule is about creating customers.
  PurchaseImport known = as_import(Row{}, "b");
  CHECK(s.import_purchases(known).purchases_added == 2);
}
