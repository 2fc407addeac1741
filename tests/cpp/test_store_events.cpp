// Tests for the event ledger of crmkit/store/store.hpp: appends, refunds, idempotency, batches, the
// bulk purchase import and the analytics columns.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "crmkit/base/error.hpp"
#include "crmkit/store/store.hpp"
#include "support.hpp"

using namespace crmkit;
using namespace crmkit::test;

namespace {

Event purchase(CustomerId c, const char* amount, std::int64_t at_seconds,
               const std::string& key = "") {
  Event e;
  e.customer = c;
  e.at = Timestamp::from_seconds(at_seconds);
  e.idempotency_key = key;
  Purchase p;
  p.amount = m(amount);
  p.order_id = "o-" + std::to_string(at_seconds);
  p.category = "books";
  e.payload = p;
  return e;
}

Event refund(CustomerId c, EventId p, const char* amount, std::int64_t at_seconds) {
  Event e;
  e.customer = c;
  e.at = Timestamp::from_seconds(at_seconds);
  Refund r;
  r.purchase = p;
  r.amount = m(amount);
  r.reason = "damaged";
  e.payload = r;
  return e;
}

PurchaseImport five_rows() {
  PurchaseImport rows;
  rows.currency = "USD";
  rows.customer_external_id = {"a", "b", "a", "c", "b"};
  for (int i = 0; i < 5; ++i) rows.at.push_back(Timestamp::from_seconds(1700000000 + i * 86400));
  rows.amount = {"10.00", "20.50", "0.99", "100", "5.01"};
  rows.idempotency_key = {"k1", "k2", "k3", "k4", "k5"};
  rows.category = {"x", "y", "x", "", "z"};
  rows.item_count = {1, 2, 3, 1, 1};
  return rows;
}

}  // namespace

TEST_CASE("appends a purchase and returns it as stored", "[store][events]") {
  Store s = Store::open(":memory:", usd());
  Customer c = s.create_customer(person("c-1"));
  Event in = purchase(c.id, "19.99", 1700000000);
  Event e = s.append_event(in, {"clerk", "pos"});
  CHECK(e.id == 1);
  CHECK(e.customer == c.id);
  CHECK(e.actor == "clerk");
  CHECK(e.source == "pos");
  CHECK(e.recorded_at.micros() > 0);
  CHECK(std::get<Purchase>(e.payload).amount == m("19.99"));
  CHECK(s.get_event(1) == e);
  CHECK(s.count_events() == 1);
  auto nf = catch_error([&] { s.get_event(2); });
  CHECK(nf.code() == ErrorCode::not_found);
  CHECK(std::string(nf.what()) == "event: no event with id 2");

  Event defaults = s.append_event(purchase(c.id, "1.00", 1700000001));
  CHECK(defaults.actor == "system");
  CHECK(defaults.source == "api");
  // No audit entries for events: they carry actor and source themselves.
  CHECK(s.audit_log().size() == 1);
}

TEST_CASE("an event for an unknown customer is not_found", "[store][events]") {
  Store s = Store::open(":memory:", usd());
  auto e = catch_error([&] { s.append_event(purchase(99, "1.00", 1)); });
  CHECK(e.code() == ErrorCode::not_found);
  CHECK(std::string(e.what()) == "customer: no customer with id 99");
  CHECK(s.count_events() == 0);
}

TEST_CASE("refunds never exceed what is left of the purchase", "[store][events]") {
  Store s = Store::open(":memory:", usd());
  Customer c = s.create_customer(person("c-1"));
  s.create_customer(person("c-2"));
  for (int i = 0; i < 6; ++i) s.append_event(purchase(c.id, "1.00", 1000 + i));
  EventId p = s.append_event(purchase(c.id, "20.00", 2000)).id;
  REQUIRE(p == 7);
  const std::string before = dump(s);

  auto e = catch_error([&] { s.append_event(refund(c.id, p, "30.00", 2100)); });
  CHECK(e.code() == ErrorCode::invalid_argument);
  CHECK(std::string(e.what()) ==
        "refund.amount: 30.00 USD is more than the 20.00 USD left of purchase 7");
  CHECK(dump(s) == before);

  s.append_event(refund(c.id, p, "5.00", 2200));
  s.append_event(refund(c.id, p, "10.00", 2300));
  CHECK(s.refundable_amount(p) == m("5.00"));
  auto e2 = catch_error([&] { s.append_event(refund(c.id, p, "5.01", 2400)); });
  CHECK(e2.code() == ErrorCode::invalid_argument);
  CHECK(std::string(e2.what()) ==
        "refund.amount: 5.01 USD is more than the 5.00 USD left of purchase 7");
  s.append_event(refund(c.id, p, "5.00", 2500));
  CHECK(s.refundable_amount(p) == m("0.00"));

  auto other = catch_error([&] { s.append_event(refund(2, p, "1.00", 2600)); });
  CHECK(other.code() == ErrorCode::invalid_argument);
  CHECK(std::string(other.what()) == "refund.purchase: purchase 7 belongs to another customer");
  auto missing = catch_error([&] { s.append_event(refund(c.id, 99, "1.00", 2600)); });
  CHECK(missing.code() == ErrorCode::not_found);
  CHECK(std::string(missing.what()) == "refund.purchase: no purchase with id 99");
  CHECK(catch_error([&] { s.refundable_amount(8); }).code() == ErrorCode::not_found);

  StoreSummary sum = s.summary();
  CHECK(sum.events == 10);
  CHECK(sum.purchases == 7);
  CHECK(sum.refunds == 3);
  CHECK(sum.revenue == m("26.00"));
  CHECK(sum.refunded == m("20.00"));
  CHECK(sum.net_revenue == m("6.00"));
}

TEST_CASE("an amount in another currency is refused", "[store][events]") {
  Store s = Store::open(":memory:", usd());
  Customer c = s.create_customer(person("c-1"));
  Event e = purchase(c.id, "1.00", 1);
  std::get<Purchase>(e.payload).amount = Money::parse("1.00", Currency::of("EUR"));
  const std::string before = dump(s);
  auto err = catch_error([&] { s.append_event(e); });
  CHECK(err.code() == ErrorCode::invalid_argument);
  CHECK(std::string(err.what()).rfind("purchase.amount: ", 0) == 0);
  CHECK(std::string(err.what()).find("EUR") != std::string::npos);
  CHECK(dump(s) == before);

  PurchaseImport rows;
  rows.currency = "EUR";
  rows.customer_external_id = {"c-1"};
  rows.at = {Timestamp::from_seconds(1)};
  rows.amount = {"1.00"};
  auto ierr = catch_error([&] { s.import_purchases(rows); });
  CHECK(ierr.code() == ErrorCode::invalid_argument);
  // The same rule and message as append_event's, for the row (issue 6: one rule, one place).
  CHECK(std::string(ierr.what()) ==
        "rows[0].purchase.amount: currency EUR differs from the store's USD");
  CHECK(dump(s) == before);
}

TEST_CASE("a batch lands whole or not at all", "[store][events]") {
  Store s = Store::open(":memory:", usd());
  Customer c = s.create_customer(person("c-1"));
  std::vector<Event> batch;
  for (int i = 0; i < 5; ++i) batch.push_back(purchase(c.id, "2.00", 100 + i));
  std::get<Purchase>(batch[2].payload).amount = m("-2.00");
  const std::string before = dump(s);
  auto e = catch_error([&] { s.append_events(batch); });
  CHECK(e.code() == ErrorCode::invalid_argument);
  CHECK(std::string(e.what()).rfind("events[2].purchase.amount: ", 0) == 0);
  CHECK(s.count_events() == 0);
  CHECK(dump(s) == before);

  batch[2] = purchase(99, "2.00", 102);
  auto nf = catch_error([&] { s.append_events(batch); });
  CHECK(nf.code() == ErrorCode::not_found);
  CHECK(std::string(nf.what()) == "events[2].customer: no customer with id 99");
  CHECK(dump(s) == before);

  batch[2] = purchase(c.id, "2.00", 102);
  auto ids = s.append_events(batch);
  CHECK(ids == std::vector<EventId>{1, 2, 3, 4, 5});
  CHECK(s.summary().revenue == m("10.00"));
}

TEST_CASE("a refund in a batch may refer to a purchase earlier in the batch", "[store][events]") {
  Store s = Store::open(":memory:", usd());
  Customer c = s.create_customer(person("c-1"));
  std::vector<Event> batch = {purchase(c.id, "8.00", 1), refund(c.id, 1, "3.00", 2)};
  CHECK(s.append_events(batch) == std::vector<EventId>{1, 2});
  CHECK(s.refundable_amount(1) == m("5.00"));
}

TEST_CASE("idempotency keys make retries harmless", "[store][events]") {
  Store s = Store::open(":memory:", usd());
  Customer c = s.create_customer(person("c-1"));
  Customer d = s.create_customer(person("c-2"));
  Event first = s.append_event(purchase(c.id, "3.00", 10, "order-1"));
  Event again = s.append_event(purchase(c.id, "3.00", 10, "order-1"));
  CHECK(again == first);
  CHECK(s.count_events() == 1);

  auto e = catch_error([&] { s.append_event(purchase(d.id, "3.00", 10, "order-1")); });
  CHECK(e.code() == ErrorCode::conflict);
  CHECK(std::string(e.what()) == "idempotency_key: 'order-1' belongs to another event (id 1)");

  std::vector<Event> batch = {purchase(c.id, "1.00", 11, "order-2"),
                              purchase(c.id, "1.00", 12, "order-1"),
                              purchase(c.id, "1.00", 11, "order-2"),
                              purchase(c.id, "4.00", 13)};
  auto ids = s.append_events(batch);
  CHECK(ids == std::vector<EventId>{2, 1, 2, 3});
  CHECK(s.count_events() == 3);
  CHECK(s.summary().revenue == m("8.00"));
}

TEST_CASE("referrals and erased or deleted customers", "[store][events]") {
  Store s = Store::open(":memory:", usd());
  Customer a = s.create_customer(person("a"));
  Customer b = s.create_customer(person("b"));
  Event r;
  r.customer = a.id;
  r.at = Timestamp::from_seconds(5);
  r.payload = Referral{b.id};
  CHECK(std::get<Referral>(s.append_event(r).payload).referred == b.id);
  r.payload = Referral{a.id};
  auto self = catch_error([&] { s.append_event(r); });
  CHECK(self.code() == ErrorCode::invalid_argument);
  CHECK(std::string(self.what()) == "referral.referred: a customer cannot refer itself");
  r.payload = Referral{42};
  auto nf = catch_error([&] { s.append_event(r); });
  CHECK(nf.code() == ErrorCode::not_found);
  CHECK(std::string(nf.what()) == "referral.referred: no customer with id 42");

  s.delete_customer(b.id);
  auto del = catch_error([&] { s.append_event(purchase(b.id, "1.00", 6)); });
  CHECK(del.code() == ErrorCode::conflict);
  CHECK(std::string(del.what()) == "customer: customer 2 is deleted");
  s.erase_customer(a.id);
  auto er = catch_error([&] { s.append_event(purchase(a.id, "1.00", 6)); });
  CHECK(er.code() == ErrorCode::conflict);
  CHECK(std::string(er.what()) == "customer: customer 1 is erased");
  CHECK(s.count_events() == 1);
}

TEST_CASE("referral_columns lists every referral event in id order", "[store][events]") {
  Store s = Store::open(":memory:", usd());
  Customer a = s.create_customer(person("a"));
  Customer b = s.create_customer(person("b"));
  Customer c = s.create_customer(person("c"));
  CHECK(s.referral_columns().event_id.empty());
  Event r;
  r.customer = a.id;
  r.at = Timestamp::from_seconds(7);
  r.payload = Referral{c.id};
  s.append_event(r);
  s.append_event(purchase(b.id, "3.00", 8));
  r.customer = b.id;
  r.at = Timestamp::from_seconds(9);
  r.payload = Referral{a.id};
  s.append_event(r);
  const ReferralColumns cols = s.referral_columns();
  CHECK(cols.event_id == std::vector<EventId>{1, 3});
  CHECK(cols.referrer == std::vector<CustomerId>{a.id, b.id});
  CHECK(cols.referred == std::vector<CustomerId>{c.id, a.id});
  CHECK(cols.at_micros == std::vector<std::int64_t>{7'000'000, 9'000'000});
}

TEST_CASE("events_of orders by time then id", "[store][events]") {
  Store s = Store::open(":memory:", usd());
  Customer c = s.create_customer(person("c-1"));
  s.append_event(purchase(c.id, "1.00", 300));
  s.append_event(purchase(c.id, "2.00", 100));
  s.append_event(purchase(c.id, "3.00", 300));
  Event note;
  note.customer = c.id;
  note.at = Timestamp::from_seconds(200);
  Interaction i;
  i.kind = InteractionKind::call;
  i.purpose = ContactPurpose::deal;
  i.commitment_asked = "demo";
  i.commitment_obtained = true;
  i.note = "called about the renewal";
  note.payload = i;
  s.append_event(note);
  auto evs = s.events_of(c.id);
  REQUIRE(evs.size() == 4);
  CHECK(evs[0].id == 2);
  CHECK(evs[1].id == 4);
  CHECK(std::get<Interaction>(evs[1].payload) == i);
  CHECK(evs[2].id == 1);
  CHECK(evs[3].id == 3);
  CHECK(catch_error([&] { s.events_of(9); }).code() == ErrorCode::not_found);
}

TEST_CASE("import_purchases adds rows in one batch and is idempotent", "[store][events]") {
  Store s = Store::open(":memory:", usd());
  s.create_customer(person("a"));
  PurchaseImport rows = five_rows();
  ImportReport r = s.import_purchases(rows, {"loader", "nightly"});
  CHECK(r.rows == 5);
  CHECK(r.purchases_added == 5);
  CHECK(r.duplicates_skipped == 0);
  CHECK(r.customers_created == 2);
  CHECK(s.count_customers() == 3);
  Customer b = s.get_customer_by_external_id("b");
  CHECK(b.name == "b");
  CHECK(b.kind == CustomerKind::person);

  const std::string after_first = dump(s);
  const auto audit_before = s.audit_log().size();
  ImportReport again = s.import_purchases(rows);
  CHECK(again.rows == 5);
  CHECK(again.purchases_added == 0);
  CHECK(again.duplicates_skipped == 5);
  CHECK(again.customers_created == 0);
  CHECK(s.count_events() == 5);
  CHECK(s.audit_log().size() == audit_before + 1);

  auto log = s.audit_log();
  CHECK(log[log.size() - 2].entity == "import");
  CHECK(log[log.size() - 2].action == "import_purchases");
  CHECK(log[log.size() - 2].actor == "loader");
  CHECK(log[log.size() - 2].source == "nightly");
  CHECK(log[log.size() - 2].new_value ==
        R"({"customers_created":2,"duplicates_skipped":0,"purchases_added":5,"rows":5,"source":"import"})");

  auto evs = s.events_of(b.id);
  REQUIRE(evs.size() == 2);
  CHECK(evs[0].source == "import");
  CHECK(evs[0].actor == "loader");
  CHECK(evs[0].idempotency_key == "k2");
  const auto& p = std::get<Purchase>(evs[0].payload);
  CHECK(p.amount == m("20.50"));
  CHECK(p.item_count == 2);
  CHECK(p.category == "y");
  CHECK(p.essential);

  // Keys repeated inside one batch count once.
  PurchaseImport dup;
  dup.currency = "USD";
  dup.customer_external_id = {"a", "a", "a"};
  dup.at = {Timestamp::from_seconds(1), Timestamp::from_seconds(2), Timestamp::from_seconds(3)};
  dup.amount = {"1.00", "1.00", "1.00"};
  dup.idempotency_key = {"z", "z", ""};
  ImportReport d = s.import_purchases(dup);
  CHECK(d.purchases_added == 2);
  CHECK(d.duplicates_skipped == 1);
  CHECK(s.count_events() == 7);
}

TEST_CASE("import_purchases names the bad row and adds nothing", "[store][events]") {
  Store s = Store::open(":memory:", usd());
  s.create_customer(person("a"));
  const std::string before = dump(s);

  PurchaseImport rows = five_rows();
  rows.amount[2] = "12.345";
  auto e = catch_error([&] { s.import_purchases(rows); });
  CHECK(e.code() == ErrorCode::invalid_argument);
  CHECK(std::string(e.what()).rfind("rows[2].purchase.amount: ", 0) == 0);
  CHECK(std::string(e.what()).find("12.345") != std::string::npos);
  CHECK(dump(s) == before);

  rows = five_rows();
  rows.amount[4] = "-1.00";
  auto neg = catch_error([&] { s.import_purchases(rows); });
  CHECK(neg.code() == ErrorCode::invalid_argument);
  CHECK(std::string(neg.what()) ==
        "rows[4].purchase.amount: must not be negative, got -1.00 USD");
  CHECK(dump(s) == before);

  rows = five_rows();
  rows.item_count[3] = 0;
  auto items = catch_error([&] { s.import_purchases(rows); });
  CHECK(std::string(items.what()) ==
        "rows[3].purchase.item_count: must be between 1 and 100000, got 0");
  CHECK(dump(s) == before);

  rows = five_rows();
  rows.create_missing_customers = false;
  auto nf = catch_error([&] { s.import_purchases(rows); });
  CHECK(nf.code() == ErrorCode::not_found);
  CHECK(std::string(nf.what()) == "rows[1].customer_external_id: no customer with external id 'b'");
  CHECK(dump(s) == before);

  rows = five_rows();
  rows.amount.pop_back();
  auto len = catch_error([&] { s.import_purchases(rows); });
  CHECK(len.code() == ErrorCode::invalid_argument);
  CHECK(std::string(len.what()) == "rows.amount: has 4 values, expected 5");
  CHECK(dump(s) == before);
  CHECK(s.count_customers() == 1);
}

TEST_CASE("purchase_columns and summary give exact totals", "[store][events]") {
  Store s = Store::open(":memory:", usd());
  s.import_purchases(five_rows());
  Customer a = s.get_customer_by_external_id("a");
  s.append_event(refund(a.id, 1, "2.50", 1800000000));
  s.append_event(refund(a.id, 1, "0.50", 1800000001));

  PurchaseColumns cols = s.purchase_columns();
  CHECK(cols.currency.code() == "USD");
  CHECK(cols.event_id == std::vector<EventId>{1, 2, 3, 4, 5});
  CHECK(cols.customer_id == std::vector<CustomerId>{1, 2, 1, 3, 2});
  CHECK(cols.at_micros[1] == (1700000000LL + 86400) * 1000000LL);
  CHECK(cols.amount_minor == std::vector<std::int64_t>{1000, 2050, 99, 10000, 501});
  CHECK(cols.refunded_minor == std::vector<std::int64_t>{300, 0, 0, 0, 0});
  CHECK(cols.item_count == std::vector<std::int32_t>{1, 2, 3, 1, 1});
  CHECK(cols.essential == std::vector<std::uint8_t>{1, 1, 1, 1, 1});

  StoreSummary sum = s.summary();
  CHECK(sum.customers == 3);
  CHECK(sum.deleted_customers == 0);
  CHECK(sum.events == 7);
  CHECK(sum.purchases == 5);
  CHECK(sum.refunds == 2);
  CHECK(sum.revenue == m("136.50"));
  CHECK(sum.refunded == m("3.00"));
  CHECK(sum.net_revenue == m("133.50"));
}
