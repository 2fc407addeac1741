// Helpers for the lifecycle tests: a schema of the standard facts the default machines read,
// fact rows built by hand, and a check that an expression throws an Error with a given message.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "crmkit/crmkit.hpp"

namespace lifecycle_test {

// The standard facts (their names and types as the facts layer computes them) that the default
// machines read.
inline crmkit::FactSchema standard_facts() {
  using crmkit::FactType;
  crmkit::FactSchema s;
  for (const char* name :
       {"purchase_count", "purchases_365d", "days_since_first_purchase", "days_since_last_purchase",
        "days_since_last_interaction", "interactions_365d", "interactions_365d.hospitality",
        "interactions_365d.site_visit", "interactions_365d.care", "interactions_365d.gift",
        "interactions_365d.intelligence", "interactions_365d.deal", "commitments_obtained_365d",
        "referrals_made", "days_since_last_service_contact"})
    s.add(name, FactType::integer);
  s.add("p_alive", FactType::number);
  s.add("net_revenue", FactType::number);
  s.add("consent_any", FactType::boolean);
  s.add("tags", FactType::text_list);
  return s;
}

using Value = std::variant<std::int64_t, double, bool, std::string>;
using Row = std::vector<std::pair<std::string, Value>>;

// A table over `schema` with one row per entry of `rows`; facts not named are missing.
inline crmkit::FactTable table(const crmkit::FactSchema& schema, const std::vector<Row>& rows) {
  crmkit::FactTable t(schema, rows.size());
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (const auto& [name, value] : rows[r]) {
      const std::size_t slot = schema.slot(name);
      if (const auto* i = std::get_if<std::int64_t>(&value)) t.set_integer(r, slot, *i);
      else if (const auto* d = std::get_if<double>(&value)) t.set_number(r, slot, *d);
      else if (const auto* b = std::get_if<bool>(&value)) t.set_boolean(r, slot, *b);
      else t.set_text(r, slot, std::get<std::string>(value));
    }
  return t;
}

// "from>to(transition) ..." for a list of steps.
inline std::string steps(const std::vector<crmkit::MachineStep>& v) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += " ";
    out += s.from + ">" + s.to + "(" + s.transition + ")";
  }
  return out;
}

// The message of the Error `f` throws with `code`; fails the test if it throws nothing.
template <typename F>
std::string error_of(F&& f, crmkit::ErrorCode code = crmkit::ErrorCode::invalid_argument) {
  try {
    f();
  } catch (const crmkit::Error& e) {
    CHECK(e.code() == code);
    return e.what();
  }
  FAIL_CHECK("no exception");
  return {};
}

}  // namespace lifecycle_test
