// Discounted expected purchases over a sequence of horizons, shared by Gamma-Gamma's
// customer_lifetime_value and value::current_value (ltv.cpp).
#pragma once

#include <span>
#include <vector>

#include "crmkit/value/models.hpp"

namespace crmkit {
inline namespace v0 {
namespace detail {

// Per customer: sum_k (E[X(ends[k])] - E[X(ends[k-1])]) * factors[k], E[X(0)] = 0, E the
// transaction model's conditional expectation given (frequency, recency, T); ends increasing,
// ends.size() == factors.size(). For BG/NBD and MBG/NBD, P(alive) is evaluated once per customer
// and the expectation given alive once per distinct (frequency, T) and horizon (the same value up
// to rounding: P(alive) is factored out of the sum); any other model is called once per horizon.
// Throws as the model's conditional_expected_number_of_purchases_up_to_time.
std::vector<double> discounted_expected_purchases(const TransactionModel& model,
                                                  std::span<const double> ends,
                                                  std::span<const double> factors,
                                                  std::span<const double> frequency,
                                                  std::span<const double> recency,
                                                  std::span<const double> T);

}  // namespace detail
}  // namespace v0
}  // namespace crmkit
