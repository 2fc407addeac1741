// crmkit/value/ltv.hpp: lifetime value in three parts (DOMAIN.md s.1), per customer, as columns.
//
//   LTV = historical value + current value + potential value
//
//  - historical value: net revenue to date, exact: the sum over a customer's purchase rows of
//    (amount - refunded), in integer minor units.
//  - current value: expected revenue over a coming horizon if the customer keeps its present
//    habits. Method `model`: a fitted transaction model's conditional expected purchases over the
//    horizon times the Gamma-Gamma conditional expected average spend, optionally discounted.
//    Method `run_rate`: for a customer with too little history, its historical value per unit of
//    observed tenure times the horizon (discounted the same way). Each row says which was used.
//  - potential value: what referrals (and stirring buying and loyalty) can bring: the number of the
//    customer's converted referrals times the value of a converted referral, plus uplift x current
//    value.
//
// Invariants:
//  - Money stays exact. Model arithmetic is double and crosses to money once per customer, through
//    Money::from_model_value with an explicit RoundingMode (half_even by default). Every other
//    step (sums, counts x a Money, uplift x current value) is exact integer arithmetic on minor
//    units with at most one rounding, in the same mode.
//  - total = historical + current + potential exactly (the sum of the three rounded parts).
//  - Results are columns of int64 minor units of one Currency (12.34 USD is 1234); money(...)
//    gives a Money back. A value outside the int64 range throws Error{overflow}.
//  - Time: horizon, T, recency, min_tenure and discount_step are in the time unit of the data the
//    transaction model was fitted on (days, weeks, ...: see summary.hpp); discount_rate is per
//    one such unit. Nothing defaults to a unit silently: the horizon is a required argument.
//
// Errors: Error{invalid_argument} with "<field>: <problem>" (columns "<field>[<row>]: ...") for
// malformed input: lengths that differ, NaN or infinite numbers, a negative horizon or rate,
// duplicate customer ids, a Money in another currency. A call that throws returns nothing.
//
// Thread-safety: every function here is pure (no shared state); models are used through their
// const methods, so the same fitted models may serve many threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "crmkit/value/models.hpp"
#include "crmkit/base/money.hpp"

namespace crmkit {
inline namespace v0 {

// How a customer's current value was computed.
enum class ValueMethod {
  model,     // transaction model x Gamma-Gamma spend
  run_rate,  // historical value / tenure x horizon (too little history for the models)
};

// "model", "run_rate"; parse_value_method throws Error{invalid_argument} naming `field` otherwise.
const char* to_string(ValueMethod method) noexcept;
ValueMethod parse_value_method(std::string_view text, std::string_view field = "method");

// ---------------------------------------------------------------------------------------------
// Historical value.

// Net revenue to date per customer, in minor units of `currency`.
struct HistoricalValue {
  Currency currency;
  std::vector<std::int64_t> customer_id;  // every customer with at least one purchase row, ascending
  std::vector<std::int64_t> net_minor;    // sum of (amount - refunded) over its rows
  std::vector<std::int64_t> purchases;    // number of purchase rows (refunded ones included)

  std::size_t size() const noexcept { return customer_id.size(); }
  Money net(std::size_t row) const { return Money::from_minor(net_minor.at(row), currency); }
};

// Sums (amount_minor - refunded_minor) per customer id. The three columns have equal lengths
// (any length, 0 gives an empty result). Throws Error{invalid_argument} if lengths differ
// ("refunded_minor: length 2 differs from customer_ids (3)"), an amount is negative
// ("amount_minor[4]: is negative (-5)") or a refund is negative or larger than its amount
// ("refunded_minor[4]: 700 exceeds amount_minor (500)"); Error{overflow} if a sum leaves int64.
HistoricalValue historical_value(std::span<const std::int64_t> customer_ids,
                                 std::span<const std::int64_t> amount_minor,
                                 std::span<const std::int64_t> refunded_minor, Currency currency);
// (The value layer stands below the store: pass Store::purchase_columns()'s customer_id,
// amount_minor, refunded_minor and currency columns.)

// ---------------------------------------------------------------------------------------------
// Current value.

// One row per customer. Spans are views: the caller keeps the data alive during the call.
struct CustomerValueInputs {
  // The currency of monetary_value and historical_minor.
  Currency currency;
  // Customer ids, unique. Every row is a customer with at least one purchase (as every row of
  // summary_data_from_transaction_data is): potential_value counts a referral as converted when
  // its referred customer is a row.
  std::span<const std::int64_t> customer_id;
  // The transaction model's data: repeat purchases (a non-negative integer), recency and T (age)
  // in the model's time unit, 0 <= recency <= T, recency 0 when frequency is 0.
  std::span<const double> frequency;
  std::span<const double> recency;
  std::span<const double> T;
  // Mean value of the repeat purchases in major units (dollars), >= 0; ignored (may be 0) when
  // frequency is 0. The Gamma-Gamma model's input.
  std::span<const double> monetary_value;
  // Net revenue to date in minor units (historical value), >= 0: the run rate's numerator.
  std::span<const std::int64_t> historical_minor;
};

struct CurrentValueOptions {
  // Discount rate per time unit (>= 0, finite). 0: no discounting. With d > 0 the horizon is cut
  // into steps of discount_step (the last may be shorter) and the revenue expected in the step
  // ending at time u is divided by (1 + d)^u, as lifetimes' customer_lifetime_value does per month.
  double discount_rate = 0.0;
  // Width of a discounting step, in time units (> 0, finite). Smaller is closer to continuous
  // discounting and costs one model evaluation per step; with BG/BB keep it an integer.
  double discount_step = 1.0;
  // A customer uses the model only with at least this many repeat purchases (frequency) AND at
  // least min_tenure of age (T); otherwise run_rate. Default 1: a customer who bought once has no
  // spend history of its own, and its repeat rate rests on the population prior alone. A row whose
  // Gamma-Gamma expected spend does not exist (p x + q <= 1, e.g. min_repeat_purchases 0 with q <= 1)
  // is valued at its run rate too, and its method says run_rate.
  std::int64_t min_repeat_purchases = 1;
  // Minimum age T for the model, in time units (>= 0, finite). Default 0: no age condition. Raise
  // it (e.g. 4 weeks) when very young customers' expectations look unstable.
  double min_tenure = 0.0;
  // The run rate divides by max(T, run_rate_tenure_floor) (> 0, finite), so a customer first seen
  // in the current period is not divided by 0: its revenue is spread over at least one unit.
  double run_rate_tenure_floor = 1.0;
  // Rounding of each customer's model value to the currency's minor unit.
  RoundingMode rounding = RoundingMode::half_even;
};

struct CurrentValue {
  Currency currency;
  std::vector<std::int64_t> value_minor;  // one per input row, in input order
  std::vector<ValueMethod> method;

  std::size_t size() const noexcept { return value_minor.size(); }
  Money value(std::size_t row) const { return Money::from_minor(value_minor.at(row), currency); }
};

// Expected revenue over (T, T + horizon] per customer, horizon >= 0 in the model's time unit.
//   model:    E[X(T, T + horizon) | x, t_x, T] from transaction_model x E[Z | x, m] from
//             spend_model (its conditional_expected_average_profit); with discounting,
//             sum_k (E[X(T, T + u_k)] - E[X(T, T + u_{k-1})]) x E[Z] / (1 + d)^u_k over the step
//             ends u_k = min(k * discount_step, horizon).
//   run_rate: historical / max(T, run_rate_tenure_floor) x horizon; with discounting the same
//             rate spread evenly over the steps: sum_k rate x (u_k - u_{k-1}) / (1 + d)^u_k.
// The result in major units becomes Money through Money::from_model_value(value, currency,
// options.rounding). No rows give an empty result. Throws Error{invalid_argument} for columns of
// different lengths, a duplicate customer id, malformed rows (see CustomerValueInputs), a horizon
// that is not finite or < 0, options out of range, and whatever the two models throw for the rows
// sent to them (only the model rows are); Error{overflow} if a value leaves int64.
CurrentValue current_value(const CustomerValueInputs& customers,
                           const TransactionModel& transaction_model,
                           const GammaGammaModel& spend_model, double horizon,
                           const CurrentValueOptions& options = {});

// ---------------------------------------------------------------------------------------------
// Potential value.

struct PotentialValueOptions {
  // The value of one converted referral. Empty (the default): the mean historical value of all
  // distinct converted referred customers, rounded once with `rounding` (0 if there are none).
  // Given: must be in the inputs' currency and >= 0.
  std::optional<Money> referral_value;
  // Uplift u >= 0 (exact decimal, e.g. 0.1): adds u x current value, the extra that stirring the
  // customer's buying and loyalty may bring. Default 0.
  Decimal uplift;
  // Rounding of the mean referral value and of uplift x current value.
  RoundingMode rounding = RoundingMode::half_even;
};

struct PotentialValue {
  Currency currency;
  std::vector<std::int64_t> value_minor;          // one per customer row, in row order
  std::vector<std::int64_t> converted_referrals;  // distinct converted referred customers
  std::int64_t referral_value_minor = 0;          // the value used per converted referral

  std::size_t size() const noexcept { return value_minor.size(); }
  Money value(std::size_t row) const { return Money::from_minor(value_minor.at(row), currency); }
};

// Potential value per customer row:
//   converted_referrals x referral_value + uplift x current value (rounded once).
// A referral (referrer_ids[i], referred_ids[i]) is converted when its referred customer is a row
// of customer_ids (rows are buyers, see CustomerValueInputs). A referred customer counts once per
// referrer however often it was referred; referrals whose referrer is not a row are ignored (add
// the referrer as a row with zero history to value them). historical_minor and current_minor are
// per row, in minor units of `currency`.
// Throws Error{invalid_argument} for columns of different lengths, a duplicate customer id, a
// referral to oneself, a negative historical value, a negative uplift, or a referral_value that
// is negative or in another currency ("referral_value: currency EUR differs from USD");
// Error{overflow} if a value leaves int64.
PotentialValue potential_value(std::span<const std::int64_t> customer_ids,
                               std::span<const std::int64_t> historical_minor,
                               std::span<const std::int64_t> current_minor, Currency currency,
                               std::span<const std::int64_t> referrer_ids,
                               std::span<const std::int64_t> referred_ids,
                               const PotentialValueOptions& options = {});

// ---------------------------------------------------------------------------------------------
// All three parts and the total.

struct LifetimeValueOptions {
  CurrentValueOptions current;
  PotentialValueOptions potential;
};

struct LifetimeValue {
  Currency currency;
  std::vector<std::int64_t> customer_id;  // the input rows, in input order
  std::vector<std::int64_t> historical_minor;
  std::vector<std::int64_t> current_minor;
  std::vector<std::int64_t> potential_minor;
  std::vector<std::int64_t> total_minor;  // historical + current + potential, exact
  std::vector<ValueMethod> method;        // how current value was computed
  std::vector<std::int64_t> converted_referrals;
  std::int64_t referral_value_minor = 0;  // the value used per converted referral

  std::size_t size() const noexcept { return customer_id.size(); }
  // One cell as Money (column: historical_minor, ...). Throws std::out_of_range past the end.
  Money money(const std::vector<std::int64_t>& column, std::size_t row) const {
    return Money::from_minor(column.at(row), currency);
  }
};

// The three parts for every row of `customers` (historical value = customers.historical_minor),
// current_value() then potential_value() with options.current / options.potential, and the total.
// Throws as those two functions, and Error{overflow} if a total leaves int64.
LifetimeValue lifetime_value(const CustomerValueInputs& customers,
                             const TransactionModel& transaction_model,
                             const GammaGammaModel& spend_model, double horizon,
                             std::span<const std::int64_t> referrer_ids,
                             std::span<const std::int64_t> referred_ids,
                             const LifetimeValueOptions& options = {});

}  // namespace v0
}  // namespace crmkit
