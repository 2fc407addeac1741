// Helpers for the hidden set-up of the docs snippets (tests/docs/extract_snippets.py): the CDNOW
// sample of data/ as the columns the value-engine snippets of docs/value.md use. Not part of
// crmkit's API.
#pragma once

#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "crmkit/base/money.hpp"
#include "crmkit/base/time.hpp"

namespace docs {

// The path of `name` in data/ (CRMKIT_DATA_DIR is set by tests/docs/CMakeLists.txt).
inline std::string data_file(const std::string& name) {
  return std::string(CRMKIT_DATA_DIR) + "/" + name;
}

// CDNOW_sample.txt as a transaction log: sample id, purchase day (UTC micros), dollars.
struct TransactionLog {
  std::vector<std::int64_t> customer_ids;
  std::vector<std::int64_t> times_micros;
  std::vector<double> amounts;          // model arithmetic only (dollars)
  std::vector<std::string> amount_text; // the exact amounts as written
};

inline TransactionLog cdnow_sample() {
  std::ifstream in(data_file("CDNOW_sample.txt"));
  if (!in) throw std::runtime_error("cannot open " + data_file("CDNOW_sample.txt"));
  TransactionLog log;
  std::string master, sample, date, cds, dollars;
  while (in >> master >> sample >> date >> cds >> dollars) {
    log.customer_ids.push_back(std::stoll(sample));
    log.times_micros.push_back(crmkit::Date::parse(date).start().micros());
    log.amounts.push_back(std::stod(dollars));
    log.amount_text.push_back(dollars);
  }
  return log;
}

// cdnow_customers_summary.csv: frequency, recency, T in weeks (calibration to 1997-09-30), the
// summary lifetimes' and Fader-Hardie's CDNOW examples fit.
struct Summary {
  std::vector<std::int64_t> ids;
  std::vector<double> frequency, recency, T;
};

inline Summary cdnow_summary() {
  std::ifstream in(data_file("cdnow_customers_summary.csv"));
  if (!in) throw std::runtime_error("cannot open cdnow_customers_summary.csv");
  Summary s;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::stringstream ss(line);
    std::string id, x, tx, t;
    std::getline(ss, id, ',');
    std::getline(ss, x, ',');
    std::getline(ss, tx, ',');
    std::getline(ss, t, ',');
    s.ids.push_back(std::stoll(id));
    s.frequency.push_back(std::stod(x));
    s.recency.push_back(std::stod(tx));
    s.T.push_back(std::stod(t));
  }
  return s;
}

// Decimal amounts as written, in exact minor units of `currency`.
inline std::vector<std::int64_t> minor_units(const std::vector<std::string>& amounts,
                                             const char* currency) {
  std::vector<std::int64_t> out;
  out.reserve(amounts.size());
  for (const std::string& a : amounts) {
    out.push_back(crmkit::Money::parse(a, crmkit::Currency::of(currency)).minor_units_i64());
  }
  return out;
}

}  // namespace docs
