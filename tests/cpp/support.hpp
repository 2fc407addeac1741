// Helpers shared by the C++ tests (header-only): temporary directories, USD shorthands, customer
// builders, store dumps, checks that an expression throws crmkit::Error, a linear test transaction
// model, and readers of the data files in data/ (CRMKIT_DATA_DIR).
#pragma once

#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "crmkit/base/error.hpp"
#include "crmkit/value/models.hpp"
#include "crmkit/store/store.hpp"
#include "crmkit/base/time.hpp"

// Runs `expr`, which must throw crmkit::Error with `code` and exactly the message `msg`.
#define CHECK_ERROR(expr, code_, msg)                    \
  do {                                                   \
    try {                                                \
      (void)(expr);                                      \
      FAIL_CHECK("no exception from: " #expr);           \
    } catch (const crmkit::Error& e_) {                  \
      CHECK(e_.code() == (code_));                       \
      CHECK(std::string(e_.what()) == std::string(msg)); \
    }                                                    \
  } while (0)

// Runs `expr`, which must throw crmkit::Error{invalid_argument} with exactly the message `msg`.
#define CHECK_INVALID(expr, msg) CHECK_ERROR(expr, crmkit::ErrorCode::invalid_argument, msg)

// Like CHECK_INVALID, for messages whose tail comes from another layer: checks the start only.
#define CHECK_INVALID_PREFIX(expr, prefix)                                     \
  do {                                                                         \
    try {                                                                      \
      (void)(expr);                                                            \
      FAIL_CHECK("no exception from: " #expr);                                 \
    } catch (const crmkit::Error& e_) {                                        \
      CHECK(e_.code() == crmkit::ErrorCode::invalid_argument);                 \
      CHECK_THAT(std::string(e_.what()), Catch::Matchers::StartsWith(prefix)); \
    }                                                                          \
  } while (0)

namespace crmkit::test {

// A fresh directory crmkit_test_<tag>_<pid>_<n>_<ticks> under the system temp dir, removed on exit.
struct TempDir {
  std::filesystem::path dir;
  explicit TempDir(const std::string& tag) {
    static std::atomic<int> counter{0};
    dir = std::filesystem::temp_directory_path() /
          ("crmkit_test_" + tag + "_" + std::to_string(::getpid()) + "_" +
           std::to_string(counter++) + "_" +
           std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::filesystem::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  // The path of `name` inside the directory.
  std::string file(const std::string& name) const { return (dir / name).string(); }
};

// The US dollar.
inline const Currency kUsd = Currency::of("USD");

// Store options with the store currency set to USD (everything else default).
inline StoreOptions usd() {
  StoreOptions o;
  o.currency = "USD";
  return o;
}

// A USD amount from its decimal text, e.g. m("12.34").
inline Money m(const char* text) { return Money::parse(text, kUsd); }

// A USD purchase of `customer` at an ISO 8601 time.
inline Event purchase_event(CustomerId customer, const char* amount, const char* at) {
  Event e;
  e.customer = customer;
  e.at = Timestamp::parse(at);
  Purchase p;
  p.amount = m(amount);
  e.payload = p;
  return e;
}

// A USD refund of purchase `of` (of `customer`) at an ISO 8601 time.
inline Event refund_event(CustomerId customer, EventId of, const char* amount, const char* at) {
  Event e;
  e.customer = customer;
  e.at = Timestamp::parse(at);
  Refund r;
  r.purchase = of;
  r.amount = m(amount);
  e.payload = r;
  return e;
}

// A customer with external id `ext`, `name` and, when not empty, an e-mail and a phone contact.
inline Customer person(const std::string& ext, const std::string& name,
                       const std::string& email = "", const std::string& phone = "") {
  Customer c;
  c.external_id = ext;
  c.name = name;
  if (!email.empty()) c.contacts.push_back({ContactKind::email, email, "", false});
  if (!phone.empty()) c.contacts.push_back({ContactKind::phone, phone, "", false});
  return c;
}

// A customer with external id `ext`, named "Name <ext>", without contacts.
inline Customer person(const std::string& ext) { return person(ext, "Name " + ext); }

// The store's JSON Lines export as one string.
inline std::string dump(const Store& s) {
  std::ostringstream out;
  s.export_jsonl(out);
  return out.str();
}

// The whole content of the file at `path`, byte for byte ("" when it cannot be read).
inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Calls `f`, which must throw crmkit::Error, and returns the error (fails the test otherwise).
template <typename F>
inline Error catch_error(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  FAIL("expected crmkit::Error");
  return Error(ErrorCode::storage, "unreachable");
}

// A transaction model with E[X(T, T+t) | x, t_x, T] = t (x + 1) / 8 (exact arithmetic for
// hand-worked expectations) that records every t it was asked for.
class LinearModel : public TransactionModel {
 public:
  mutable std::vector<double> times;
  std::vector<double> conditional_expected_number_of_purchases_up_to_time(
      double t, std::span<const double> frequency, std::span<const double>,
      std::span<const double>) const override {
    times.push_back(t);
    std::vector<double> out;
    for (double x : frequency) out.push_back(t * (x + 1) / 8);
    return out;
  }
};

// ---- data files (data/, whose path the build passes as CRMKIT_DATA_DIR) ----

// The path of `name` in data/.
inline std::string data_file(const std::string& name) {
  return std::string(CRMKIT_DATA_DIR) + "/" + name;
}

// A CSV file of data/ with a header line, as columns of numbers (line ends LF or CRLF; empty
// lines skipped). REQUIREs that the file opens.
inline std::vector<std::vector<double>> read_csv_columns(const std::string& name) {
  std::ifstream in(data_file(name));
  REQUIRE(in.good());
  std::string line;
  std::getline(in, line);
  std::vector<std::vector<double>> cols;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::stringstream ss(line);
    std::string cell;
    std::size_t c = 0;
    while (std::getline(ss, cell, ',')) {
      if (cols.size() <= c) cols.emplace_back();
      cols[c++].push_back(std::stod(cell));
    }
  }
  return cols;
}

// cdnow_customers_summary.csv: ID, frequency, recency, T (weeks, calibration to 1997-09-30).
struct CdnowSummary {
  std::vector<double> x, tx, T;
};
inline CdnowSummary read_cdnow_summary() {
  auto c = read_csv_columns("cdnow_customers_summary.csv");
  return CdnowSummary{c[1], c[2], c[3]};
}

// The repeat buyers (frequency > 0) of cdnow_customers_summary_with_transactions.csv (ID, x, t_x,
// T, zbar): frequency and mean spend per repeat purchase, as Gamma-Gamma takes them (946 rows).
struct CdnowSpend {
  std::vector<double> x, m;
};
inline CdnowSpend read_cdnow_spend() {
  const auto c = read_csv_columns("cdnow_customers_summary_with_transactions.csv");
  CdnowSpend s;
  for (std::size_t i = 0; i < c[1].size(); ++i)
    if (c[1][i] > 0) {
      s.x.push_back(c[1][i]);
      s.m.push_back(c[4][i]);
    }
  return s;
}

// CDNOW_sample.txt: master_id sample_id YYYYMMDD number_of_cds dollar_value, CRLF, no header.
struct CdnowLog {
  std::vector<std::int64_t> customer;  // sample_id
  std::vector<std::int64_t> time;      // the start of the day (UTC microseconds)
  std::vector<std::string> dollars;    // dollar_value as written
};
// REQUIREs that the file opens.
inline CdnowLog read_cdnow_log() {
  std::ifstream in(data_file("CDNOW_sample.txt"));
  REQUIRE(in.good());
  CdnowLog log;
  std::string master, sample, date, cds, dollars;
  while (in >> master >> sample >> date >> cds >> dollars) {
    log.customer.push_back(std::stoll(sample));
    log.time.push_back(Date::parse(date).start().micros());
    log.dollars.push_back(dollars);
  }
  return log;
}

}  // namespace crmkit::test
