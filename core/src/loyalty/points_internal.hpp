// Private: the compiled form of a points programme (CompiledProgram::Impl) and the exact integer
// arithmetic of earning, shared by points_program.cpp and points_account.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "crmkit/base/money.hpp"
#include "crmkit/loyalty/points.hpp"
#include "crmkit/rules/rules.hpp"

namespace crmkit {
inline namespace v0 {

__extension__ typedef unsigned __int128 PointsU128;

// A non-negative Decimal as coefficient / 10^scale, trailing zeros removed.
struct Rate {
  PointsU128 coefficient = 1;
  int scale = 0;
  bool one() const noexcept { return coefficient == 1 && scale == 0; }
};

struct CompiledRule {
  std::size_t index = 0;                 // in Program::rules
  EarnKind kind = EarnKind::spend;
  Rate per_unit;                         // spend
  bool has_condition = false;
  Rule condition;                        // compiled once
  std::vector<Rate> tier_rate;           // by tier index (1 when absent)
  bool any_tier_rate = false;
  bool any_category_rate = false;
};

struct CompiledProgram::Impl {
  std::vector<CompiledRule> rules;
  std::vector<std::size_t> condition_facts;  // union of the conditions' fact slots
  Currency currency;
  bool spend_entries = false;               // tiers with the spend_window basis
};

Rate make_rate(const Decimal& d);

// floor(a x r1 x r2 x ... / 10^(scale sum)) for a >= 0 given as coefficient and scale; throws
// Error{overflow} if the result does not fit in Points.
Points floor_product(PointsU128 a, int a_scale, const Rate* rates, std::size_t n);

}  // namespace v0
}  // namespace crmkit
