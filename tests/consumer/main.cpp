// A host program built against an installed crmkit (find_package): opens an in-memory store,
// records one customer and one purchase, and checks the totals. Prints "consumer ok" on success.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include <crmkit/crmkit.hpp>

namespace {

int failures = 0;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "consumer: check failed: %s\n", what);
    ++failures;
  }
}

}  // namespace

int main() {
  try {
    crmkit::StoreOptions options;
    options.currency = "USD";
    crmkit::Store store = crmkit::Store::open(":memory:", options);

    crmkit::Customer customer;
    customer.external_id = "host-42";
    customer.name = "Ada Lovelace";
    customer.contacts.push_back({crmkit::ContactKind::email, "Ada@Example.com", "", false});
    const crmkit::Customer stored = store.create_customer(customer);
    check(stored.id > 0, "the stored customer has an id");
    check(stored.contacts.size() == 1 && stored.contacts[0].value == "ada@example.com",
          "the e-mail is normalised");

    crmkit::Event event;
    event.customer = stored.id;
    event.at = crmkit::Timestamp::parse("2024-05-01T10:00:00Z");
    crmkit::Purchase purchase;
    purchase.amount = crmkit::Money::parse("19.99", crmkit::Currency::of("USD"));
    event.payload = purchase;
    const crmkit::Event appended = store.append_event(event);
    check(appended.id > 0, "the purchase has an id");

    const crmkit::StoreSummary summary = store.summary();
    check(summary.customers == 1, "summary.customers == 1");
    check(summary.purchases == 1, "summary.purchases == 1");
    check(summary.revenue.to_string() == "19.99 USD", "summary.revenue == 19.99 USD");

    const std::string expected_version = std::to_string(CRMKIT_VERSION_MAJOR) + "." +
                                         std::to_string(CRMKIT_VERSION_MINOR) + "." +
                                         std::to_string(CRMKIT_VERSION_PATCH);
    check(std::strcmp(crmkit::version_string, expected_version.c_str()) == 0,
          "crmkit::version_string matches the version macros");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "consumer: unexpected exception: %s\n", e.what());
    return 1;
  }
  if (failures != 0) return 1;
  std::printf("consumer ok\n");
  return 0;
}
