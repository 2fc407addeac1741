// Runs a loyalty programme over the CDNOW sample: imports the purchases, defines a points
// programme with tiers, earns the points, and prints the monthly cohort retention matrix, the
// tier counts and the follow-up due list of the last month of the data.
//
// Usage: example_loyalty_cdnow [STORE_PATH] [--data PATH]
//   STORE_PATH  the store file to open or create (default: cdnow-loyalty.crmkit)
//   --data      the CDNOW sample file (default: <repo>/data/CDNOW_sample.txt)
//
// The import and the earning are idempotent (idempotency keys; earn_points processes each ledger
// event once), so a second run prints the same report and writes nothing. "As of" is the end of
// the data, 1998-06-30 (the last microsecond of June 1998). The due list uses the default
// follow-up policy (every customer at least once every 365 days, seed 001); the CDNOW sample
// holds no contact details and no consent, so every due customer is listed as having no
// consented channel: crmkit never offers a channel without consent. The Python twin is
// examples/python/loyalty_cdnow.py; both print the same report.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include <crmkit/crmkit.hpp>

#include "cdnow_sample.hpp"

#ifndef CRMKIT_DATA_DIR
#define CRMKIT_DATA_DIR "data"
#endif

namespace {

// One point per whole dollar spent; lots expire at the end of the year after they unlock;
// tiers on the points earned in the last 365 days, re-checked on every change.
constexpr const char* kProgram = R"({
  "name": "cdnow_rewards",
  "currency": "USD",
  "pending_days": 0,
  "expiry": {"mode": "end_of_year"},
  "spend_order": "first_to_expire",
  "rules": [{"name": "spend", "kind": "spend", "points_per_unit": "1"}],
  "tiers": {"tiers": [{"name": "member", "threshold": 0},
                      {"name": "silver", "threshold": 100},
                      {"name": "gold", "threshold": 300}],
            "basis": "points_earned_window", "window_days": 365,
            "downgrade": "automatic"}})";

}  // namespace

int main(int argc, char** argv) try {
  std::string store_path = "cdnow-loyalty.crmkit";
  std::string data_path = std::string(CRMKIT_DATA_DIR) + "/CDNOW_sample.txt";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--data" && i + 1 < argc) {
      data_path = argv[++i];
    } else {
      store_path = arg;
    }
  }
  crmkit::StoreOptions options;
  options.currency = "USD";
  crmkit::Store store = crmkit::Store::open(store_path, options);
  store.import_purchases(cdnow_example::read_cdnow_sample(data_path));  // a rerun adds nothing
  store.define_points_program(crmkit::Program::from_json_text(kProgram));
  const crmkit::EarnReport earned = store.earn_points("cdnow_rewards");
  const crmkit::Timestamp as_of = crmkit::Timestamp::parse("1998-06-30T23:59:59.999999Z");

  std::cout << "loyalty on CDNOW (" << store.count_customers() << " customers), as of 1998-06-30\n";
  std::cout << "points: " << earned.entries_added << " ledger entries written this run\n";

  const crmkit::BalanceColumns balances = store.points_balances("cdnow_rewards", as_of);
  std::int64_t total_earned = 0, total_expired = 0, total_available = 0;
  for (std::size_t i = 0; i < balances.customer.size(); ++i) {
    total_earned += balances.earned[i];
    total_expired += balances.expired[i];
    total_available += balances.available[i];
  }
  std::cout << "points earned " << total_earned << ", expired " << total_expired << ", available "
            << total_available << '\n';
  const std::vector<crmkit::TierCount> tiers = store.tier_counts("cdnow_rewards", as_of);
  std::size_t members = 0;
  for (const crmkit::TierCount& t : tiers) members += t.customers;
  std::cout << "tiers of the " << members << " customers with points: ";
  for (std::size_t i = 0; i < tiers.size(); ++i) {
    std::cout << (i ? ", " : "") << tiers[i].tier << ' ' << tiers[i].customers;
  }
  std::cout << '\n';

  const crmkit::CohortMatrix cohorts =
      crmkit::cohort_retention(store, crmkit::Period::month, as_of);
  std::cout << "cohort retention (share of each monthly cohort buying in month k):\n";
  const std::size_t months = std::min<std::size_t>(cohorts.ages, 7);
  std::printf("cohort     size");
  for (std::size_t k = 0; k < months; ++k) {
    std::printf(" %6s", ("k=" + std::to_string(k)).c_str());
  }
  std::printf("\n");
  for (std::size_t row = 0; row < cohorts.cohorts(); ++row) {
    std::printf("%-8s %6lld", cohorts.label[row].c_str(), static_cast<long long>(cohorts.size[row]));
    for (std::size_t k = 0; k < months; ++k) std::printf(" %5.1f%%", 100.0 * cohorts.share(row, k));
    std::printf("\n");
  }
  if (cohorts.customers() != static_cast<std::int64_t>(store.count_customers())) {
    std::cerr << "the cohorts do not hold every customer\n";
    return 1;
  }

  const crmkit::DueList due = crmkit::due_list(store, as_of);
  std::cout << "due list for 1998-06: " << due.due.size()
            << " to contact through a consented channel, " << due.unreachable.size()
            << " due with no consented channel, " << due.at_limit.size()
            << " at their contact limit\n";
  return 0;
} catch (const std::exception& e) {
  std::cerr << "error: " << e.what() << '\n';
  return 1;
}
