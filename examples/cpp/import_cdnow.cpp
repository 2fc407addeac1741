// Imports the CDNOW sample (data/CDNOW_sample.txt) into a crmkit store as purchases in one batch
// and prints the store's totals; a second run on the same store adds nothing (idempotency keys).
//
// Usage: example_import_cdnow [STORE_PATH] [--data PATH]
//   STORE_PATH  the store file to open or create (default: cdnow.crmkit in the current directory)
//   --data      the CDNOW sample file (default: <repo>/data/CDNOW_sample.txt)
//
// The file is whitespace separated with CRLF line ends and no header:
//   master_id sample_id YYYYMMDD number_of_cds dollar_value
// Each line becomes one purchase of customer "cdnow-<sample_id>" at midnight UTC of the date, for
// the dollar_value text exactly as written (it never passes through a double), with
// item_count = number_of_cds and idempotency key "cdnow-sample:<line number>".
#include <charconv>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <crmkit/crmkit.hpp>

#include "cdnow_sample.hpp"

#ifndef CRMKIT_DATA_DIR
#define CRMKIT_DATA_DIR "data"
#endif

namespace {

using cdnow_example::read_cdnow_sample;

// "1234567" -> "1,234,567"; keeps a leading '-' and anything from the decimal point on.
std::string group_thousands(const std::string& number) {
  std::size_t start = (!number.empty() && number[0] == '-') ? 1 : 0;
  std::size_t point = number.find('.');
  std::size_t end = point == std::string::npos ? number.size() : point;
  std::string out = number.substr(0, start);
  for (std::size_t i = start; i < end; ++i) {
    if (i > start && (end - i) % 3 == 0) out += ',';
    out += number[i];
  }
  out += number.substr(end);
  return out;
}

std::string group_thousands(std::size_t n) { return group_thousands(std::to_string(n)); }


}  // namespace

int main(int argc, char** argv) {
  std::string store_path = "cdnow.crmkit";
  std::string data_path = std::string(CRMKIT_DATA_DIR) + "/CDNOW_sample.txt";
  bool have_store_path = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--data" && i + 1 < argc) {
      data_path = argv[++i];
    } else if (arg == "-h" || arg == "--help") {
      std::cout << "usage: " << argv[0] << " [STORE_PATH] [--data PATH]\n";
      return 0;
    } else if (!have_store_path && !arg.empty() && arg[0] != '-') {
      store_path = arg;
      have_store_path = true;
    } else {
      std::cerr << "usage: " << argv[0] << " [STORE_PATH] [--data PATH]\n";
      return 2;
    }
  }

  try {
    const crmkit::PurchaseImport rows = read_cdnow_sample(data_path);

    crmkit::StoreOptions options;
    options.currency = "USD";
    crmkit::Store store = crmkit::Store::open(store_path, options);
    const crmkit::ImportReport report =
        store.import_purchases(rows, {.actor = "", .source = "cdnow-sample"});
    const crmkit::StoreSummary summary = store.summary();

    std::cout << "store:      " << std::filesystem::absolute(store_path).string() << "\n"
              << "customers:  " << group_thousands(summary.customers) << "\n"
              << "purchases:  " << group_thousands(summary.purchases) << "\n"
              << "revenue:    $" << group_thousands(summary.revenue.amount_string()) << "\n"
              << "this run:   added " << group_thousands(report.purchases_added)
              << " purchases, " << group_thousands(report.customers_created)
              << " customers (" << group_thousands(report.duplicates_skipped)
              << " duplicates skipped)\n";
    return 0;
  } catch (const crmkit::Error& e) {
    std::cerr << "crmkit error (" << crmkit::to_string(e.code()) << "): " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
