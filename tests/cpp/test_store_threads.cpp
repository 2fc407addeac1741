// Tests that a crmkit::Store is safe to share between threads: concurrent appends and reads on a
// file store (writer + reader pool) and on a memory store, with exact counts at the end.
#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "crmkit/base/error.hpp"
#include "crmkit/store/store.hpp"
#include "support.hpp"

using namespace crmkit;
using namespace crmkit::test;

namespace {

void hammer(Store& s) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 150;
  std::vector<CustomerId> ids;
  for (int t = 0; t < kThreads; ++t) {
    Customer c;
    c.external_id = "t-" + std::to_string(t);
    c.name = "Thread " + std::to_string(t);
    c.contacts.push_back({ContactKind::email, "t" + std::to_string(t) + "@example.com", "", true});
    ids.push_back(s.create_customer(c).id);
  }
  const Currency usd = Currency::of("USD");
  std::atomic<int> failures{0};
  std::atomic<long> reads{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        for (int i = 0; i < kPerThread; ++i) {
          Event e;
          e.customer = ids[static_cast<std::size_t>(t)];
          e.at = Timestamp::from_seconds(1700000000 + i);
          // Every tenth append is a retry of the previous key: it must add nothing.
          const int n = (i % 10 == 9) ? i - 1 : i;
          e.idempotency_key = "t" + std::to_string(t) + "-" + std::to_string(n);
          Purchase p;
          p.amount = Money::from_minor(std::int64_t{100 + t}, usd);
          e.payload = p;
          s.append_event(e);
          // Reads interleaved with the other threads' writes.
          const auto mine = s.events_of(ids[static_cast<std::size_t>(t)]);
          if (mine.empty()) failures++;
          if (s.get_customer_by_email("t" + std::to_string(t) + "@example.com").id !=
              ids[static_cast<std::size_t>(t)])
            failures++;
          if (s.summary().events == 0) failures++;
          reads += 3;
        }
        PurchaseImport rows;
        rows.currency = "USD";
        for (int i = 0; i < 50; ++i) {
          rows.customer_external_id.push_back("imp-" + std::to_string(t) + "-" + std::to_string(i % 5));
          rows.at.push_back(Timestamp::from_seconds(1800000000 + i));
          rows.amount.push_back("1.00");
        }
        if (s.import_purchases(rows).purchases_added != 50) failures++;
      } catch (const std::exception& e) {
        failures++;
        UNSCOPED_INFO(e.what());
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures.load() == 0);
  CHECK(reads.load() == kThreads * kPerThread * 3);
  // 150 appends per thread, 15 of them retries -> 135 events each, plus 50 imported.
  CHECK(s.count_events() == static_cast<std::size_t>(kThreads * (135 + 50)));
  CHECK(s.count_customers() == static_cast<std::size_t>(kThreads + kThreads * 5));
  StoreSummary sum = s.summary();
  CHECK(sum.purchases == static_cast<std::size_t>(kThreads * (135 + 50)));
  // 135 * (100 + 101 + 102 + 103) cents + 200 * 1.00
  CHECK(sum.revenue == Money::parse("748.10", usd));
  for (int t = 0; t < kThreads; ++t)
    CHECK(s.events_of(ids[static_cast<std::size_t>(t)]).size() == 135u);
  CHECK(s.audit_log().size() == static_cast<std::size_t>(kThreads + kThreads));
}

}  // namespace

TEST_CASE("four threads append and read a file store at once", "[store][threads]") {
  TempDir tmp("threads");
  StoreOptions o;
  o.currency = "USD";
  o.synchronous = SyncMode::normal;
  o.max_readers = 2;
  Store s = Store::open(tmp.file("threads.db"), o);
  hammer(s);
  CHECK(s.checkpoint());
  s.close();
  Store again = Store::open(tmp.file("threads.db"));
  CHECK(again.count_events() == 740u);
}

TEST_CASE("four threads append and read a memory store at once", "[store][threads]") {
  StoreOptions o;
  o.currency = "USD";
  Store s = Store::open(":memory:", o);
  hammer(s);
}
