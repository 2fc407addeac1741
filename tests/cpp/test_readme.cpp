// The C++ snippet of README.md, kept in step with it: if this stops compiling or passing, the
// README is wrong too.
#include <catch2/catch.hpp>

#include <filesystem>

#include "crmkit/crmkit.hpp"

TEST_CASE("the README's C++ snippet records a purchase and reports its revenue, twice") {
  const auto dir = std::filesystem::temp_directory_path() / "crmkit_test_readme";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "shop.crmkit").string();
  // The snippet runs twice on the same store file and gives the same store both times.
  for (int run = 0; run < 2; ++run) {
    CAPTURE(run);
    crmkit::StoreOptions options;
    options.currency = "USD";
    auto store = crmkit::Store::open(path, options);

    crmkit::Customer c;
    c.external_id = "c-1";
    c.name = "Ann Lee";
    crmkit::ContactPoint email;
    email.kind = crmkit::ContactKind::email;
    email.value = "ann@example.com";
    c.contacts.push_back(email);
    c = store.get_or_create_customer(c).customer;  // run twice: same customer

    crmkit::Purchase p;
    p.order_id = "1001";
    p.amount = crmkit::Money::parse("19.99", store.currency());
    crmkit::Event e;
    e.customer = c.id;
    e.at = crmkit::Timestamp::parse("2024-05-01T10:00:00Z");
    e.idempotency_key = "order-1001";
    e.payload = p;
    store.append_event(e);  // run twice: the key makes it one event

    auto s = store.summary();
    CHECK(s.revenue.to_string() == "19.99 USD");
    CHECK(s.customers == 1);
    CHECK(s.purchases == 1);
    CHECK(s.events == 1);
    CHECK(c.id == 1);
    CHECK(store.get_customer_by_email("ANN@example.com").id == c.id);
    CHECK(store.audit_log().size() == 1);  // the one "create"
  }
  std::filesystem::remove_all(dir);
}
