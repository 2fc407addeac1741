// Loyalty metrics from a store (crmkit/analytics/loyalty.hpp): reads the columns once and runs
// the pure functions of crmkit/loyalty/metrics.hpp on them.
#include "crmkit/analytics/loyalty.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "crmkit/analytics/analytics.hpp"
#include "crmkit/base/error.hpp"

namespace crmkit {
inline namespace v0 {

LoyaltyColumns loyalty_columns(const Store& store, Timestamp as_of) {
  ColumnRequest req;
  req.interactions = false;
  req.participations = false;
  req.consents = false;
  req.tags = false;
  req.fields = false;
  const StoreColumns cols = store.columns(req);

  std::unordered_set<CustomerId> deleted;
  for (std::size_t i = 0; i < cols.customers.size(); ++i) {
    if (cols.customers.deleted[i]) deleted.insert(cols.customers.customer_id[i]);
  }
  // Refunds made at or before as_of, per purchase.
  std::unordered_map<EventId, std::int64_t> refunded;
  for (std::size_t i = 0; i < cols.refunds.purchase_id.size(); ++i) {
    if (cols.refunds.at_micros[i] > as_of.micros()) continue;
    refunded[cols.refunds.purchase_id[i]] += cols.refunds.amount_minor[i];
  }
  LoyaltyColumns out;
  const PurchaseColumns& p = cols.purchases;
  out.purchase_customer.reserve(p.event_id.size());
  out.purchase_at_micros.reserve(p.event_id.size());
  for (std::size_t i = 0; i < p.event_id.size(); ++i) {
    if (deleted.count(p.customer_id[i])) continue;
    auto it = refunded.find(p.event_id[i]);
    if (it != refunded.end() && it->second >= p.amount_minor[i]) continue;  // fully refunded
    out.purchase_customer.push_back(p.customer_id[i]);
    out.purchase_at_micros.push_back(p.at_micros[i]);
  }
  const SurveyColumns& s = cols.surveys;
  for (std::size_t i = 0; i < s.event_id.size(); ++i) {
    if (deleted.count(s.customer_id[i])) continue;
    out.survey_customer.push_back(s.customer_id[i]);
    out.survey_at_micros.push_back(s.at_micros[i]);
    out.survey_nps.push_back(s.nps[i]);
    out.survey_csat.push_back(s.csat[i]);
  }
  const ReferralColumns& r = cols.referrals;
  for (std::size_t i = 0; i < r.event_id.size(); ++i) {
    if (deleted.count(r.referrer[i])) continue;
    out.referrer.push_back(r.referrer[i]);
    out.referral_at_micros.push_back(r.at_micros[i]);
  }
  return out;
}

CohortMatrix cohort_retention(const Store& store, Period period, Timestamp as_of,
                              const CohortOptions& options) {
  const LoyaltyColumns c = loyalty_columns(store, as_of);
  return cohort_retention(c.purchase_customer, c.purchase_at_micros, period, as_of, options);
}

RetentionTable retention(const Store& store, Period period, Timestamp as_of,
                         const RetentionOptions& options) {
  const LoyaltyColumns c = loyalty_columns(store, as_of);
  return retention(c.purchase_customer, c.purchase_at_micros, period, as_of, options);
}

RepeatRate repeat_purchase_rate(const Store& store, Timestamp as_of) {
  const LoyaltyColumns c = loyalty_columns(store, as_of);
  return repeat_purchase_rate(c.purchase_customer, c.purchase_at_micros, as_of);
}

RepeatRateTable repeat_purchase_rate(const Store& store, Period period, Timestamp as_of,
                                     std::optional<Timestamp> start) {
  const LoyaltyColumns c = loyalty_columns(store, as_of);
  return repeat_purchase_rate(c.purchase_customer, c.purchase_at_micros, period, as_of, start);
}

Nps nps(const Store& store, Timestamp as_of, const SurveyOptions& options) {
  const LoyaltyColumns c = loyalty_columns(store, as_of);
  return nps(c.survey_customer, c.survey_at_micros, c.survey_nps, as_of, options);
}

NpsTable nps(const Store& store, Period period, Timestamp as_of, const SurveyOptions& options) {
  const LoyaltyColumns c = loyalty_columns(store, as_of);
  return nps(c.survey_customer, c.survey_at_micros, c.survey_nps, period, as_of, options);
}

Csat csat(const Store& store, Timestamp as_of, const SurveyOptions& options) {
  const LoyaltyColumns c = loyalty_columns(store, as_of);
  return csat(c.survey_customer, c.survey_at_micros, c.survey_csat, as_of, options);
}

CsatTable csat(const Store& store, Period period, Timestamp as_of, const SurveyOptions& options) {
  const LoyaltyColumns c = loyalty_columns(store, as_of);
  return csat(c.survey_customer, c.survey_at_micros, c.survey_csat, period, as_of, options);
}

ReferralRate referral_rate(const Store& store, Timestamp as_of, std::optional<Timestamp> start) {
  const LoyaltyColumns c = loyalty_columns(store, as_of);
  return referral_rate(c.purchase_customer, c.purchase_at_micros, c.referrer,
                       c.referral_at_micros, as_of, start);
}

ReferralRateTable referral_rate(const Store& store, Period period, Timestamp as_of,
                                std::optional<Timestamp> start) {
  const LoyaltyColumns c = loyalty_columns(store, as_of);
  return referral_rate(c.purchase_customer, c.purchase_at_micros, c.referrer,
                       c.referral_at_micros, period, as_of, start);
}

WordOfMouth word_of_mouth(const Store& store, Timestamp as_of, const WordOfMouthOptions& options) {
  const LoyaltyColumns c = loyalty_columns(store, as_of);
  return word_of_mouth(c.survey_customer, c.survey_at_micros, c.survey_nps, c.survey_csat, as_of,
                       options);
}

WordOfMouthTable word_of_mouth(const Store& store, Period period, Timestamp as_of,
                               const WordOfMouthOptions& options) {
  const LoyaltyColumns c = loyalty_columns(store, as_of);
  return word_of_mouth(c.survey_customer, c.survey_at_micros, c.survey_nps, c.survey_csat, period,
                       as_of, options);
}

CustomerLoyalty customer_loyalty(const Store& store, Period period, Timestamp as_of,
                                 std::int32_t active_days) {
  if (active_days < 1 || active_days > 36500) {
    throw_invalid("active_days", "must be in 1..36500, got " + std::to_string(active_days));
  }
  const LoyaltyColumns c = loyalty_columns(store, as_of);
  struct Row {
    std::int64_t purchases = 0, first = 0, last = 0, referrals = 0;
    std::int8_t satisfaction = -2;
    std::int64_t answer_at = 0;
  };
  std::map<CustomerId, Row> rows;
  const std::int64_t cut = as_of.micros();
  for (std::size_t i = 0; i < c.purchase_customer.size(); ++i) {
    const std::int64_t t = c.purchase_at_micros[i];
    if (t > cut) continue;
    Row& r = rows[c.purchase_customer[i]];
    r.first = r.purchases == 0 ? t : std::min(r.first, t);
    r.last = r.purchases == 0 ? t : std::max(r.last, t);
    ++r.purchases;
  }
  for (std::size_t i = 0; i < c.referrer.size(); ++i) {
    if (c.referral_at_micros[i] <= cut) ++rows[c.referrer[i]].referrals;
  }
  for (std::size_t i = 0; i < c.survey_customer.size(); ++i) {
    const std::int64_t t = c.survey_at_micros[i];
    const int n = c.survey_nps[i], s = c.survey_csat[i];
    if (t > cut || (n < 0 && s < 1)) continue;
    Row& r = rows[c.survey_customer[i]];
    if (r.satisfaction != -2 && t < r.answer_at) continue;  // rows in event-id order: later wins
    r.answer_at = t;
    if (n >= 0) r.satisfaction = n >= 9 ? 1 : n >= 7 ? 0 : -1;
    else r.satisfaction = s >= 4 ? 1 : s == 3 ? 0 : -1;
  }
  CustomerLoyalty out;
  const std::int64_t window = static_cast<std::int64_t>(active_days) * 86'400'000'000LL;
  for (const auto& [id, r] : rows) {
    out.customer_id.push_back(id);
    const bool bought = r.purchases > 0;
    const std::int64_t cohort = bought ? period_index(Timestamp::from_micros(r.first), period) : 0;
    out.cohort.push_back(cohort);
    out.cohort_label.push_back(bought ? period_label(cohort, period) : std::string());
    out.purchases.push_back(r.purchases);
    out.first_purchase_micros.push_back(r.first);
    out.last_purchase_micros.push_back(r.last);
    out.active.push_back(bought && r.last > cut - window ? 1 : 0);
    out.referrals.push_back(r.referrals);
    out.satisfaction.push_back(r.satisfaction);
  }
  out.external_id = external_ids_of(store.customer_keys(), out.customer_id);
  return out;
}

}  // namespace v0
}  // namespace crmkit
