// crmkit/analytics/loyalty.hpp: the loyalty metrics of crmkit/loyalty/metrics.hpp computed from a
// Store as of a date (cohort retention, retention and churn, repeat purchase rate, NPS, CSAT,
// referral rate, word-of-mouth reach), and the per-customer table behind them keyed by customer
// id and external id. docs/loyalty-metrics.md has the definitions.
//
// What a store contributes (loyalty_columns):
//  - Purchases net of fully refunded ones: a purchase whose refunds made at or before as_of add
//    up to its amount does not count anywhere (not as a first purchase, not as activity); a
//    partly refunded one counts in full (it is still a purchase). Refunds after as_of are not
//    netted, so a past report does not change when a later refund arrives.
//  - Survey responses (nps 0..10, csat 1..5, -1 where not given) and referrals (the referrer is
//    the event's customer).
//  - Only customers not soft-deleted; rows are in event-id order (the recording order, which
//    breaks ties between survey answers of one customer at the same microsecond).
//  - Events after as_of are read but ignored by every metric.
//
// Thread-safety: the Store's reads are thread-safe and the rest is pure; call from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "crmkit/base/time.hpp"
#include "crmkit/loyalty/metrics.hpp"
#include "crmkit/loyalty/period.hpp"
#include "crmkit/store/store.hpp"

namespace crmkit {
inline namespace v0 {

// The columns the loyalty metrics read, from one read transaction.
struct LoyaltyColumns {
  // Purchases that are not fully refunded as of the date, in event-id order.
  std::vector<CustomerId> purchase_customer;
  std::vector<std::int64_t> purchase_at_micros;
  // Survey responses, in event-id order.
  std::vector<CustomerId> survey_customer;
  std::vector<std::int64_t> survey_at_micros;
  std::vector<std::int8_t> survey_nps;    // 0..10 or -1
  std::vector<std::int8_t> survey_csat;   // 1..5 or -1
  // Referrals, in event-id order.
  std::vector<CustomerId> referrer;
  std::vector<std::int64_t> referral_at_micros;
};

// Reads the columns (see the top). Throws Error{storage} if the store is closed or a read fails.
LoyaltyColumns loyalty_columns(const Store& store, Timestamp as_of);

// The metrics of crmkit/loyalty/metrics.hpp over loyalty_columns(store, as_of). They throw what
// the store read and the pure function throw.
CohortMatrix cohort_retention(const Store& store, Period period, Timestamp as_of,
                              const CohortOptions& options = {});
RetentionTable retention(const Store& store, Period period, Timestamp as_of,
                         const RetentionOptions& options = {});
RepeatRate repeat_purchase_rate(const Store& store, Timestamp as_of);
RepeatRateTable repeat_purchase_rate(const Store& store, Period period, Timestamp as_of,
                                     std::optional<Timestamp> start = {});
Nps nps(const Store& store, Timestamp as_of, const SurveyOptions& options = {});
NpsTable nps(const Store& store, Period period, Timestamp as_of,
             const SurveyOptions& options = {});
Csat csat(const Store& store, Timestamp as_of, const SurveyOptions& options = {});
CsatTable csat(const Store& store, Period period, Timestamp as_of,
               const SurveyOptions& options = {});
ReferralRate referral_rate(const Store& store, Timestamp as_of,
                           std::optional<Timestamp> start = {});
ReferralRateTable referral_rate(const Store& store, Period period, Timestamp as_of,
                                std::optional<Timestamp> start = {});
WordOfMouth word_of_mouth(const Store& store, Timestamp as_of,
                          const WordOfMouthOptions& options = {});
WordOfMouthTable word_of_mouth(const Store& store, Period period, Timestamp as_of,
                               const WordOfMouthOptions& options = {});

// One row per customer with a counted purchase, a survey answer or a referral at or before as_of,
// ascending by customer id: who is in which cohort and why the aggregates are what they are.
struct CustomerLoyalty {
  std::vector<CustomerId> customer_id;
  std::vector<std::string> external_id;
  // The cohort: period index and label of the first counted purchase (0 and "" without one).
  std::vector<std::int64_t> cohort;
  std::vector<std::string> cohort_label;
  std::vector<std::int64_t> purchases;              // counted purchases at or before as_of
  std::vector<std::int64_t> first_purchase_micros;  // 0 without a purchase (see purchases)
  std::vector<std::int64_t> last_purchase_micros;   // 0 without a purchase
  // A purchase in (as_of - active_days, as_of] (RetentionOptions::active_days).
  std::vector<std::uint8_t> active;
  std::vector<std::int64_t> referrals;              // referrals made at or before as_of
  // By the latest survey answer at or before as_of (word_of_mouth's rule): 1 satisfied,
  // 0 neutral, -1 dissatisfied, -2 no answer.
  std::vector<std::int8_t> satisfaction;

  std::size_t size() const noexcept { return customer_id.size(); }
};

// Throws Error{invalid_argument} for active_days outside 1..36500, and as loyalty_columns.
CustomerLoyalty customer_loyalty(const Store& store, Period period, Timestamp as_of,
                                 std::int32_t active_days = 365);

}  // namespace v0
}  // namespace crmkit
