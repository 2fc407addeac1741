// The C++ half of bench/loyalty/points.py (issue 8, item 7: points earning into the store).
//
//   bench_points import <store> <purchases> <customers> [seed]
//       creates the store, defines the benchmark programme "bench" and imports the purchases
//       with Store::import_purchases (the store's fastest bulk path) in chunks of 1,000,000
//       rows, one transaction each; prints "import_seconds <s> purchases <n> customers <n>".
//   bench_points earn <store>
//       times one Store::earn_points("bench") call (every purchase not yet processed, one
//       transaction) and prints the report, the seconds, purchases per second and the process's
//       peak RSS (getrusage, MiB).
//
// The data is deterministic for a seed: customer of each purchase uniform in 1..customers, times
// uniform over 2023-2024 (sorted, as a ledger appends them), amounts 1.00 .. 200.00 USD in cents,
// category books / music / video.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "crmkit/crmkit.hpp"

using namespace crmkit;

namespace {

constexpr const char* kProgram = R"({"name":"bench","currency":"USD","rules":[
  {"name":"spend","kind":"spend","points_per_unit":"1","category_multipliers":{"music":"2"}},
  {"name":"referral","kind":"referral","points":100}],
  "pending_days":30,"expiry":{"mode":"after_days","days":365},"spend_order":"first_to_expire",
  "tiers":{"tiers":[{"name":"basic","threshold":0},{"name":"silver","threshold":1000},
                    {"name":"gold","threshold":5000}],
           "basis":"active_points","downgrade":"automatic"}})";

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double load1() {
  double l[1] = {0};
  return getloadavg(l, 1) == 1 ? l[0] : 0.0;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

long peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

int do_import(const std::string& path, long n, long customers, unsigned seed) {
  StoreOptions o;
  o.currency = "USD";
  o.synchronous = SyncMode::normal;
  Store s = Store::open(path, o);
  s.define_points_program(Program::from_json_text(kProgram));
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<long> cust(1, customers);
  std::uniform_int_distribution<long> cents(100, 20000);
  const std::int64_t t0 = Timestamp::parse("2023-01-01T00:00:00Z").micros();
  const std::int64_t span = 2LL * 365 * 86'400'000'000LL;
  const char* cats[] = {"books", "music", "video"};
  const long chunk = 1'000'000;
  double total = 0;
  for (long done = 0; done < n; done += chunk) {
    const long m = std::min(chunk, n - done);
    PurchaseImport rows;
    rows.currency = "USD";
    rows.customer_external_id.reserve(m);
    rows.at.reserve(m);
    rows.amount.reserve(m);
    rows.category.reserve(m);
    for (long i = 0; i < m; ++i) {
      const long k = done + i;
      char id[32];
      std::snprintf(id, sizeof id, "C%ld", cust(rng));
      rows.customer_external_id.emplace_back(id);
      rows.at.push_back(Timestamp(t0 + static_cast<std::int64_t>(span * (double(k) / n))));
      const long c = cents(rng);
      char buf[32];
      std::snprintf(buf, sizeof buf, "%ld.%02ld", c / 100, c % 100);
      rows.amount.emplace_back(buf);
      rows.category.emplace_back(cats[rng() % 3]);
    }
    const auto start = std::chrono::steady_clock::now();
    s.import_purchases(rows);
    total += seconds_since(start);
  }
  std::printf("import_seconds %.3f purchases %ld customers %zu\n", total, n,
              s.count_customers());
  return 0;
}

int do_earn(const std::string& path) {
  StoreOptions o;
  o.synchronous = SyncMode::normal;
  Store s = Store::open(path, o);
  const std::size_t purchases = s.summary().purchases;
  const double cpu0 = cpu_seconds();
  const auto start = std::chrono::steady_clock::now();
  const EarnReport r = s.earn_points("bench");
  const double secs = seconds_since(start);
  const double cpu = cpu_seconds() - cpu0;
  std::printf("earn_cpu_seconds %.3f cpu_purchases_per_second %.0f loadavg_1min %.2f\n", cpu,
              r.events_read / cpu, load1());
  std::printf(
      "earn_seconds %.3f events_read %zu entries_added %zu points_granted %lld "
      "purchases_per_second %.0f entries_per_second %.0f peak_rss_mib %ld purchases %zu\n",
      secs, r.events_read, r.entries_added, static_cast<long long>(r.points_granted),
      r.events_read / secs, r.entries_added / secs, peak_rss_mib(), purchases);
  const EarnReport again = s.earn_points("bench");
  std::printf("second_run_entries_added %zu\n", again.entries_added);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "import" && argc >= 5)
      return do_import(argv[2], std::atol(argv[3]), std::atol(argv[4]),
                       argc > 5 ? static_cast<unsigned>(std::atol(argv[5])) : 42u);
    if (mode == "earn" && argc >= 3) return do_earn(argv[2]);
    std::fprintf(stderr,
                 "usage: bench_points import <store> <purchases> <customers> [seed]\n"
                 "       bench_points earn <store>\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_points: %s\n", e.what());
    return 1;
  }
}
