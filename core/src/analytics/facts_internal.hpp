// Private: the standard fact list shared by the catalogue and the computation. Not installed.
#pragma once

#include <string>
#include <vector>

#include "crmkit/analytics/facts.hpp"

namespace crmkit {
inline namespace v0 {
namespace facts_detail {

struct StandardFact {
  std::string name;
  FactType type;
  std::string description;
};

// The ledger and record facts of the catalogue, in catalogue order (standard_fact_schema adds
// fields, machines and windows after them).
const std::vector<StandardFact>& standard_facts();

}  // namespace facts_detail
}  // namespace v0
}  // namespace crmkit
