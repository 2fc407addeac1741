// The CDNOW sample reader shared by the C++ examples (import_cdnow, value_from_store,
// lifecycle_cdnow), so that all of them import the file the same way.
//
// The file is whitespace separated with CRLF line ends and no header:
//   master_id sample_id YYYYMMDD number_of_cds dollar_value
// Each line becomes one purchase of customer "cdnow-<sample_id>" at midnight UTC of the date, for
// the dollar_value text exactly as written (it never passes through a double), with
// item_count = number_of_cds and idempotency key "cdnow-sample:<line number>".
#pragma once

#include <charconv>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>

#include <crmkit/crmkit.hpp>

namespace cdnow_example {

// A non-negative decimal integer made of digits only; throws std::runtime_error naming `what`.
inline long parse_count(const std::string& text, const std::string& what) {
  long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) {
    throw std::runtime_error(what + ": '" + text + "' is not a non-negative integer");
  }
  return value;
}

// Reads the sample file into one column-wise import. Throws std::runtime_error naming the line.
inline crmkit::PurchaseImport read_cdnow_sample(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open");
  crmkit::PurchaseImport rows;
  rows.currency = "USD";
  rows.source = "cdnow-sample";
  std::string line;
  std::size_t line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::istringstream fields(line);
    std::string master_id, sample_id, date, cds, dollars, extra;
    if (!(fields >> master_id)) continue;  // a blank line
    if (!(fields >> sample_id >> date >> cds >> dollars) || (fields >> extra)) {
      throw std::runtime_error(path + ":" + std::to_string(line_number) +
                               ": expected 5 fields: master_id sample_id date cds dollars");
    }
    // Sample ids are zero-padded ("00001"); the customer key uses the number ("cdnow-1").
    const std::string where = path + ":" + std::to_string(line_number);
    const long id = parse_count(sample_id, where + ": sample_id");
    const long count = parse_count(cds, where + ": number_of_cds");
    if (count > 100000) throw std::runtime_error(where + ": number_of_cds: too large");
    rows.customer_external_id.push_back("cdnow-" + std::to_string(id));
    rows.at.push_back(crmkit::Date::parse(date, "date").start());
    rows.amount.push_back(dollars);  // the decimal text itself: Money parses it exactly
    rows.item_count.push_back(static_cast<std::int32_t>(count));
    rows.idempotency_key.push_back("cdnow-sample:" + std::to_string(line_number));
  }
  return rows;
}

}  // namespace cdnow_example
