// The store-to-value pipeline: reads a Store's columns and runs the value layer on them.
// Rules are stated in crmkit/analytics/analytics.hpp; this file only wires columns together.
#include "crmkit/analytics/analytics.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "crmkit/base/error.hpp"

namespace crmkit {
inline namespace v0 {

namespace {

// The purchase rows a call works on: ids, times and exact amounts, net of refunds.
struct PurchaseRows {
  Currency currency;
  std::vector<std::int64_t> customer_id;
  std::vector<std::int64_t> at_micros;
  std::vector<std::int64_t> amount_minor;
  std::vector<std::int64_t> refunded_minor;
  std::vector<std::int64_t> net_minor;  // amount - refunded (a full refund gives 0, still a row)
};

// The store's purchases, only those at or before `until` when given (raw times, inclusive).
PurchaseRows read_purchases(const Store& store, const std::optional<Timestamp>& until) {
  PurchaseColumns cols = store.purchase_columns();
  PurchaseRows rows;
  rows.currency = cols.currency;
  if (!until) {
    rows.customer_id = std::move(cols.customer_id);
    rows.at_micros = std::move(cols.at_micros);
    rows.amount_minor = std::move(cols.amount_minor);
    rows.refunded_minor = std::move(cols.refunded_minor);
  } else {
    const std::int64_t end = until->micros();
    for (std::size_t i = 0; i < cols.customer_id.size(); ++i) {
      if (cols.at_micros[i] > end) continue;
      rows.customer_id.push_back(cols.customer_id[i]);
      rows.at_micros.push_back(cols.at_micros[i]);
      rows.amount_minor.push_back(cols.amount_minor[i]);
      rows.refunded_minor.push_back(cols.refunded_minor[i]);
    }
  }
  rows.net_minor.resize(rows.amount_minor.size());
  // The store never holds a refund above its purchase, so net >= 0 and no overflow.
  for (std::size_t i = 0; i < rows.net_minor.size(); ++i) {
    rows.net_minor[i] = rows.amount_minor[i] - rows.refunded_minor[i];
  }
  return rows;
}

std::vector<double> to_doubles(const std::vector<std::int64_t>& v) {
  return std::vector<double>(v.begin(), v.end());
}

StoreLifetimeValue parts(const Store& store, const TransactionModel& transaction_model,
                         const GammaGammaModel& spend_model, double horizon,
                         bool store_referrals, std::span<const CustomerId> referrer_ids,
                         std::span<const CustomerId> referred_ids,
                         const StoreValueOptions& options) {
  const PurchaseRows rows = read_purchases(store, options.summary.observation_period_end);
  SummaryOptions so = options.summary;
  so.include_first_transaction = false;
  so.drop_customers_after_end = false;  // no row is after the end (read_purchases)
  const RfmSummary s = summary_data_from_transaction_data(
      rows.customer_id, rows.at_micros, rows.net_minor, rows.currency.minor_units(), so);
  const HistoricalValue h =
      historical_value(rows.customer_id, rows.amount_minor, rows.refunded_minor, rows.currency);
  // Both list the customers of the same rows in ascending id order, so they align row by row.
  if (h.customer_id != s.customer_id) {
    throw_error(ErrorCode::corrupt, "customer_id", "the summary and the historical value disagree");
  }
  const std::vector<double> frequency = to_doubles(s.frequency);
  const CustomerValueInputs inputs{rows.currency, s.customer_id, frequency, s.recency, s.T,
                                   s.monetary_value, h.net_minor};
  ReferralColumns stored;
  if (store_referrals) {
    stored = store.referral_columns();
    referrer_ids = stored.referrer;
    referred_ids = stored.referred;
  }
  StoreLifetimeValue out;
  static_cast<LifetimeValue&>(out) = lifetime_value(inputs, transaction_model, spend_model, horizon,
                                                    referrer_ids, referred_ids, options.value);
  out.external_id = external_ids_of(store.customer_keys(), out.customer_id);
  return out;
}

}  // namespace

std::vector<std::string> external_ids_of(const CustomerKeys& keys,
                                         std::span<const CustomerId> ids) {
  if (keys.external_id.size() != keys.customer_id.size()) {
    throw_invalid("keys.external_id", "length " + std::to_string(keys.external_id.size()) +
                                          " differs from keys.customer_id (" +
                                          std::to_string(keys.customer_id.size()) + ")");
  }
  for (std::size_t i = 1; i < keys.customer_id.size(); ++i) {
    if (keys.customer_id[i] <= keys.customer_id[i - 1]) {
      throw_invalid("keys.customer_id[" + std::to_string(i) + "]",
                    std::to_string(keys.customer_id[i]) + " does not follow " +
                        std::to_string(keys.customer_id[i - 1]));
    }
  }
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto it = std::lower_bound(keys.customer_id.begin(), keys.customer_id.end(), ids[i]);
    if (it == keys.customer_id.end() || *it != ids[i]) {
      throw_error(ErrorCode::not_found, "ids[" + std::to_string(i) + "]",
                  "no customer " + std::to_string(ids[i]) + " in the store");
    }
    out.push_back(keys.external_id[static_cast<std::size_t>(it - keys.customer_id.begin())]);
  }
  return out;
}

StoreCustomerSummary summary_from_store(const Store& store, const StoreSummaryOptions& options) {
  const PurchaseRows rows = read_purchases(store, std::nullopt);
  RfmSummary s = summary_data_from_transaction_data(
      rows.customer_id, rows.at_micros, rows.net_minor, rows.currency.minor_units(),
      options);
  StoreCustomerSummary out;
  out.currency = rows.currency;
  out.frequency = to_doubles(s.frequency);
  out.recency = std::move(s.recency);
  out.T = std::move(s.T);
  out.monetary_value = std::move(s.monetary_value);
  out.first_purchase = std::move(s.first_purchase);
  out.customer_id = std::move(s.customer_id);
  out.external_id = external_ids_of(store.customer_keys(), out.customer_id);
  return out;
}

BetaGeoModel fit_beta_geo(const StoreCustomerSummary& summary, const FitOptions& options) {
  return BetaGeoModel::fit(summary.frequency, summary.recency, summary.T, {}, options);
}

GammaGammaModel fit_gamma_gamma(const StoreCustomerSummary& summary, const FitOptions& options) {
  if (summary.monetary_value.size() != summary.frequency.size()) {
    throw_invalid("summary.monetary_value",
                  "length " + std::to_string(summary.monetary_value.size()) +
                      " differs from summary.frequency (" +
                      std::to_string(summary.frequency.size()) + ")");
  }
  std::vector<double> frequency, monetary_value;
  for (std::size_t i = 0; i < summary.frequency.size(); ++i) {
    if (summary.frequency[i] >= 1 && summary.monetary_value[i] > 0) {
      frequency.push_back(summary.frequency[i]);
      monetary_value.push_back(summary.monetary_value[i]);
    }
  }
  if (frequency.empty()) {
    throw_invalid("summary", "no customer with frequency >= 1 and monetary_value > 0 to fit on");
  }
  return GammaGammaModel::fit(frequency, monetary_value, {}, options);
}

std::vector<double> customer_lifetime_value(const StoreCustomerSummary& summary,
                                            const TransactionModel& transaction_model,
                                            const GammaGammaModel& spend_model,
                                            const ClvOptions& options) {
  return spend_model.customer_lifetime_value(transaction_model, summary.frequency, summary.recency,
                                             summary.T, summary.monetary_value, options);
}

StoreLifetimeValue lifetime_value_parts(const Store& store,
                                        const TransactionModel& transaction_model,
                                        const GammaGammaModel& spend_model, double horizon,
                                        const StoreValueOptions& options) {
  return parts(store, transaction_model, spend_model, horizon, true, {}, {}, options);
}

StoreLifetimeValue lifetime_value_parts(const Store& store,
                                        const TransactionModel& transaction_model,
                                        const GammaGammaModel& spend_model, double horizon,
                                        std::span<const CustomerId> referrer_ids,
                                        std::span<const CustomerId> referred_ids,
                                        const StoreValueOptions& options) {
  if (referrer_ids.size() != referred_ids.size()) {
    throw_invalid("referred_ids", "length " + std::to_string(referred_ids.size()) +
                                      " differs from referrer_ids (" +
                                      std::to_string(referrer_ids.size()) + ")");
  }
  return parts(store, transaction_model, spend_model, horizon, false, referrer_ids, referred_ids,
               options);
}

}  // namespace v0
}  // namespace crmkit
