// Imports the CDNOW sample into a store, evaluates the default customer_lifecycle machine at the
// end of every month of 1997 and 1998, and prints the stage distribution per month.
//
// Usage: example_lifecycle_cdnow [STORE_PATH] [--data PATH]
//   STORE_PATH  the store file to open or create (default: cdnow-lifecycle.crmkit)
//   --data      the CDNOW sample file (default: <repo>/data/CDNOW_sample.txt)
//
// The import is idempotent and a month already evaluated (the machine's history reaches its end)
// is not evaluated again, so a second run prints the same table. The machine runs with its
// documented default thresholds and without a fitted model (its P(alive) rule never fires).
// "acquired" is the number of customers with a first purchase by the month's end; the stage
// counts of every month add up to it. The Python twin is examples/python/lifecycle_cdnow.py.
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <crmkit/crmkit.hpp>

#include "cdnow_sample.hpp"

#ifndef CRMKIT_DATA_DIR
#define CRMKIT_DATA_DIR "data"
#endif

using cdnow_example::read_cdnow_sample;

int main(int argc, char** argv) try {
  std::string store_path = "cdnow-lifecycle.crmkit";
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
  store.import_purchases(read_cdnow_sample(data_path));  // a repeated run adds nothing

  const crmkit::Machine machine =
      crmkit::default_machine("customer_lifecycle", crmkit::store_fact_schema(store));
  const crmkit::TransitionColumns done = store.history(machine.name());
  std::int64_t evaluated_until = INT64_MIN;
  for (std::int64_t at : done.at_micros) evaluated_until = std::max(evaluated_until, at);

  // Month ends: the last microsecond of each month of 1997-1998.
  std::vector<crmkit::Timestamp> ends;
  std::vector<std::string> labels;
  for (int year = 1997; year <= 1998; ++year) {
    for (int month = 1; month <= 12; ++month) {
      const crmkit::Date next = month == 12 ? crmkit::Date(year + 1, 1, 1)
                                            : crmkit::Date(year, month + 1, 1);
      ends.push_back(crmkit::Timestamp(next.start().micros() - 1));
      char label[8];
      std::snprintf(label, sizeof label, "%04d-%02d", year, month);
      labels.push_back(label);
    }
  }
  std::size_t moves = 0;
  for (const crmkit::Timestamp& end : ends) {
    if (end.micros() <= evaluated_until) continue;
    moves += crmkit::evaluate_machine(store, machine, end).changes.size();
  }

  // The distribution per month from the stored history, and the customers acquired by then.
  const crmkit::History history = crmkit::store_history(store, machine);
  const std::vector<std::int64_t> counts = history.distribution(ends);
  const crmkit::PurchaseColumns purchases = store.purchase_columns();
  std::cout << "customer_lifecycle on CDNOW (" << store.count_customers() << " customers, "
            << moves << " transitions written this run)\n";
  std::cout << "month  ";
  const auto& states = machine.states();
  for (std::size_t s = 1; s < states.size(); ++s) std::printf(" %12s", states[s].name.c_str());
  std::printf(" %9s\n", "acquired");
  for (std::size_t d = 0; d < ends.size(); ++d) {
    // Acquired: distinct customers with a purchase at or before the month's end.
    std::vector<bool> seen(static_cast<std::size_t>(store.count_customers()) + 1, false);
    std::int64_t acquired = 0;
    for (std::size_t k = 0; k < purchases.customer_id.size(); ++k) {
      if (purchases.at_micros[k] > ends[d].micros()) continue;
      const auto id = static_cast<std::size_t>(purchases.customer_id[k]);
      if (!seen[id]) {
        seen[id] = true;
        ++acquired;
      }
    }
    std::int64_t staged = 0;
    std::printf("%s", labels[d].c_str());
    for (std::size_t s = 1; s < states.size(); ++s) {
      const std::int64_t c = counts[d * states.size() + s];
      staged += c;
      std::printf(" %12lld", static_cast<long long>(c));
    }
    std::printf(" %9lld\n", static_cast<long long>(acquired));
    if (staged != acquired || counts[d * states.size()] != 0) {
      std::cerr << labels[d] << ": the stages hold " << staged << " customers and prospect "
                << counts[d * states.size()] << ", but " << acquired << " were acquired\n";
      return 1;
    }
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "error: " << e.what() << '\n';
  return 1;
}
