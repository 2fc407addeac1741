// crmkit/analytics/analytics.hpp: the value engine straight from a Store: per-customer summaries,
// model fits, CLV and lifetime value in three parts, keyed by customer id and external id.
//
// The analytics layer sits on top: it reads columns from a Store (purchase_columns(),
// referral_columns(), customer_keys()) and runs the pure column functions of the value layer
// (summary.hpp, models.hpp, ltv.hpp) on them. Python's crmkit.utils.summary_from_store and
// crmkit.lifetime_value_parts(store, ...) wrap these calls, so both languages get the same
// numbers from one implementation.
//
// The rules computed here, once:
//  - Refund netting: each purchase counts with its net amount, amount minus the refunds recorded
//    against it so far (whatever their time). A fully refunded purchase still counts as a
//    purchase, with amount 0: a customer who bought and returned did buy.
//  - End of period: the time unit, multiplier, observation_period_end and
//    include_first_transaction of summary.hpp, and customers whose first purchase is after
//    observation_period_end are left out (StoreSummaryOptions::drop_customers_after_end).
//  - Keys: every row carries the store's customer id and that customer's external id.
//
// Consistency: each call reads the purchases first and the customer keys after them, each in one
// read transaction; a write between the two reads cannot leave a purchase without its key
// (customers are never removed; an erased one keeps its row). Use one Store for the whole call.
//
// Thread-safety: every function here is safe to call from any number of threads at once on one
// Store (the Store's reads are thread-safe; the rest is pure). Models are used through their
// const methods.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "crmkit/base/money.hpp"
#include "crmkit/base/time.hpp"
#include "crmkit/store/store.hpp"
#include "crmkit/value/ltv.hpp"
#include "crmkit/value/models.hpp"
#include "crmkit/value/summary.hpp"

namespace crmkit {
inline namespace v0 {

// ---------------------------------------------------------------------------------------------
// Keys.

// The external id of each of `ids`, in the same order, looked up in `keys` (from
// Store::customer_keys(), whose ids ascend). Throws Error{invalid_argument} if keys' columns differ
// in length or its ids do not strictly ascend ("keys.customer_id[3]: 7 does not follow 9"), and
// Error{not_found} for an id that keys do not hold ("ids[2]: no customer 42 in the store").
std::vector<std::string> external_ids_of(const CustomerKeys& keys,
                                         std::span<const CustomerId> ids);

// ---------------------------------------------------------------------------------------------
// The per-customer summary of a store.

// summary.hpp's SummaryOptions (unit, multiplier, observation_period_end,
// include_first_transaction), with one default changed: a customer whose first purchase is after
// observation_period_end has no T, and drop_customers_after_end defaults to true here (as
// lifetimes and Python's summary_from_store leave such customers out); false makes the call
// throw Error{invalid_argument}. Purchases in periods after the end's are left out.
struct StoreSummaryOptions : SummaryOptions {
  StoreSummaryOptions() noexcept { drop_customers_after_end = true; }
};

// One row per customer with at least one purchase in the period, ascending by customer id. All
// vectors have size() elements. frequency, recency and T are doubles so that they go straight
// into the models' fit and prediction functions.
struct StoreCustomerSummary {
  Currency currency;                      // the store's; monetary_value is in its major units
  std::vector<CustomerId> customer_id;    // ascending
  std::vector<std::string> external_id;   // the customer's external id ("erased:<id>" if erased)
  std::vector<double> frequency;          // repeat periods (an integer value; all periods with
                                          // include_first_transaction)
  std::vector<double> recency;            // first to last period, in units / multiplier
  std::vector<double> T;                  // first period to the end's period, in units / multiplier
  std::vector<double> monetary_value;     // mean net amount of the repeat periods (0 without)
  std::vector<std::int64_t> first_purchase;  // Timestamp::micros() of the first purchase

  std::size_t size() const noexcept { return customer_id.size(); }
};

// The summary (summary.hpp's semantics) of every purchase in the store, each counted with its
// net amount (see the top). A store without purchases gives an empty summary.
// Throws Error{invalid_argument} for a multiplier that is not finite and > 0, or (with
// drop_customers_after_end = false) a customer whose first purchase is after
// observation_period_end; Error{storage} if the store is closed or a read fails. Sums are exact
// in 128 bits (summary.hpp), so totals past 2^63 minor units are no error.
StoreCustomerSummary summary_from_store(const Store& store,
                                        const StoreSummaryOptions& options = {});

// ---------------------------------------------------------------------------------------------
// Fits on a store summary. The models' own fit functions take the columns directly, so any of
// them is one line: ParetoNBDModel::fit(s.frequency, s.recency, s.T, {}, options). The two below
// are the common pair.

// BetaGeoModel::fit(summary.frequency, summary.recency, summary.T, {}, options): the BG/NBD fit
// in the summary's time unit. Throws as that function (Error{invalid_argument} for an empty
// summary). Read the returned model's report() for convergence.
BetaGeoModel fit_beta_geo(const StoreCustomerSummary& summary, const FitOptions& options = {});

// The Gamma-Gamma fit on the rows with frequency >= 1 and monetary_value > 0 (the model's domain:
// one-time buyers have no spend history, and a customer whose repeat purchases were all refunded
// has a mean of 0), as lifetimes' users filter before GammaGammaFitter.fit. Throws
// Error{invalid_argument} when no row qualifies, and as GammaGammaModel::fit.
GammaGammaModel fit_gamma_gamma(const StoreCustomerSummary& summary,
                                const FitOptions& options = {});

// lifetimes' customer_lifetime_value on every row of the summary (models.hpp): one double per
// row, in summary order, in the currency's major units. options.periods_per_month must match the
// summary's unit: 30 for days (multiplier 1), 4.345 for weeks (days with multiplier 7, or unit
// week); periods_per_month("W") gives it. Throws as GammaGammaModel::customer_lifetime_value.
std::vector<double> customer_lifetime_value(const StoreCustomerSummary& summary,
                                            const TransactionModel& transaction_model,
                                            const GammaGammaModel& spend_model,
                                            const ClvOptions& options = {});

// ---------------------------------------------------------------------------------------------
// Lifetime value in three parts from a store (ltv.hpp), as of observation_period_end.

struct StoreValueOptions {
  // The summary the models read: unit and multiplier must be those the transaction model was
  // fitted in (horizon, min_tenure, discount_step and discount_rate are in that unit too).
  // observation_period_end: the value is computed as of it (see lifetime_value_parts).
  // drop_customers_after_end and include_first_transaction are ignored (customers after the end
  // have no purchase in the period; the models need the repeat-purchase summary).
  StoreSummaryOptions summary;
  // Current and potential value options (ltv.hpp).
  LifetimeValueOptions value;
};

// ltv.hpp's LifetimeValue, one row per customer, plus each row's external id.
struct StoreLifetimeValue : LifetimeValue {
  std::vector<std::string> external_id;  // same rows as customer_id
};

// Historical, current and potential value and their total, one row per customer with a purchase
// at or before options.summary.observation_period_end (every purchase if it is empty), ascending
// by customer id:
//  - historical: exact net revenue (amount - refunds so far) of those purchases;
//  - current: ltv.hpp's current_value on the summary of those purchases (options.summary's unit,
//    multiplier and end) with the two models over `horizon`;
//  - potential: ltv.hpp's potential_value with the store's referral events (all of them, whatever
//    their time): a referral converts when its referred customer is a row.
// Purchases after the end are left out of every part, so a store that keeps growing still gives
// the value as of a past date.
// Throws Error{invalid_argument} for a multiplier that is not finite and > 0 and as
// ltv.hpp's lifetime_value (horizon, options, model domains); Error{overflow} if a value leaves
// int64; Error{storage} if the store is closed or a read fails.
StoreLifetimeValue lifetime_value_parts(const Store& store,
                                        const TransactionModel& transaction_model,
                                        const GammaGammaModel& spend_model, double horizon,
                                        const StoreValueOptions& options = {});

// As above with the referrals given as columns of customer ids (referrer_ids[i] referred
// referred_ids[i]) instead of the store's referral events. Also throws Error{invalid_argument} if
// the two columns differ in length or a referral is to oneself.
StoreLifetimeValue lifetime_value_parts(const Store& store,
                                        const TransactionModel& transaction_model,
                                        const GammaGammaModel& spend_model, double horizon,
                                        std::span<const CustomerId> referrer_ids,
                                        std::span<const CustomerId> referred_ids,
                                        const StoreValueOptions& options = {});

}  // namespace v0
}  // namespace crmkit
