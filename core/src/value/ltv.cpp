// Lifetime value in three parts (ltv.hpp). Money is summed as int64 minor units with overflow
// checks; the only double-to-money crossing is Money::from_model_value, once per customer.
#include "crmkit/value/ltv.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "base/int128_boost.hpp"
#include "crmkit/base/error.hpp"
#include "fields.hpp"
#include "internal.hpp"
#include "purchases.hpp"

namespace crmkit {
inline namespace v0 {

namespace {

using detail::num;
using detail::row_field;

void check_length(std::size_t n, std::size_t expected, std::string_view name,
                  std::string_view reference) {
  if (n != expected)
    throw_invalid(name, "length " + std::to_string(n) + " differs from " + std::string(reference) +
                            " (" + std::to_string(expected) + ")");
}

std::int64_t checked_add(std::int64_t a, std::int64_t b, std::string_view field) {
  std::int64_t out = 0;
  if (__builtin_add_overflow(a, b, &out))
    throw_error(ErrorCode::overflow, field, "the sum leaves the int64 range of minor units");
  return out;
}

std::int64_t to_i64(const Money& m, std::string_view field) {
  if (!m.minor_units().fits_int64())
    throw_error(ErrorCode::overflow, field, m.to_string() + " leaves the int64 range of minor units");
  return m.minor_units().to_int64();
}

// Row index of every customer id; throws on a duplicate.
std::unordered_map<std::int64_t, std::size_t> index_ids(std::span<const std::int64_t> ids,
                                                        std::string_view field) {
  std::unordered_map<std::int64_t, std::size_t> rows;
  rows.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto [it, inserted] = rows.emplace(ids[i], i);
    if (!inserted)
      throw_invalid(row_field(field, i), "duplicate customer id " + std::to_string(ids[i]) +
                                             " (also row " + std::to_string(it->second) + ")");
  }
  return rows;
}

// num / den for num >= 0, den > 0, rounded with `mode`.
Int128 divide_rounded(const Int128& numerator, std::int64_t den, RoundingMode mode) {
  const BoostInt128 num = to_boost(numerator);
  const BoostInt128 d(den);
  const BoostInt128 q = num / d;
  const BoostInt128 r = num % d;
  if (r == 0) return from_boost(q);
  const BoostInt128 twice = r * 2;
  bool up = false;
  switch (mode) {
    case RoundingMode::down:
    case RoundingMode::floor: up = false; break;
    case RoundingMode::up:
    case RoundingMode::ceiling: up = true; break;
    case RoundingMode::half_up: up = twice >= d; break;
    case RoundingMode::half_down: up = twice > d; break;
    case RoundingMode::half_even: up = twice > d || (twice == d && q % 2 != 0); break;
  }
  return from_boost(up ? BoostInt128(q + 1) : q);
}

// Ends of the discounting steps over (0, horizon]: u_k = min(k * step, horizon).
std::vector<double> step_ends(double horizon, double step) {
  std::vector<double> ends;
  if (horizon <= 0) return ends;
  const double count = std::ceil(horizon / step);
  if (count > 1e6)
    throw_invalid("discount_step", "horizon / discount_step is " + num(count) +
                                       " steps; at most 1000000 are evaluated");
  const auto n = static_cast<std::size_t>(count);
  ends.reserve(n);
  for (std::size_t k = 1; k <= n; ++k) ends.push_back(std::min(static_cast<double>(k) * step, horizon));
  if (ends.back() < horizon) ends.push_back(horizon);  // guards ceil's rounding
  return ends;
}

void check_current_options(double horizon, const CurrentValueOptions& o) {
  if (!std::isfinite(horizon) || horizon < 0)
    throw_invalid("horizon", "must be finite and >= 0, got " + num(horizon));
  if (!std::isfinite(o.discount_rate) || o.discount_rate < 0)
    throw_invalid("discount_rate", "must be finite and >= 0, got " + num(o.discount_rate));
  if (!std::isfinite(o.discount_step) || !(o.discount_step > 0))
    throw_invalid("discount_step", "must be finite and > 0, got " + num(o.discount_step));
  if (o.min_repeat_purchases < 0)
    throw_invalid("min_repeat_purchases",
                  "must be >= 0, got " + std::to_string(o.min_repeat_purchases));
  if (!std::isfinite(o.min_tenure) || o.min_tenure < 0)
    throw_invalid("min_tenure", "must be finite and >= 0, got " + num(o.min_tenure));
  if (!std::isfinite(o.run_rate_tenure_floor) || !(o.run_rate_tenure_floor > 0))
    throw_invalid("run_rate_tenure_floor",
                  "must be finite and > 0, got " + num(o.run_rate_tenure_floor));
}

void check_customers(const CustomerValueInputs& c) {
  const std::size_t n = c.customer_id.size();
  check_length(c.frequency.size(), n, "frequency", "customer_id");
  check_length(c.recency.size(), n, "recency", "customer_id");
  check_length(c.T.size(), n, "T", "customer_id");
  check_length(c.monetary_value.size(), n, "monetary_value", "customer_id");
  check_length(c.historical_minor.size(), n, "historical_minor", "customer_id");
  detail::check_rfm(c.frequency, c.recency, c.T, {});
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(c.monetary_value[i]) || c.monetary_value[i] < 0)
      throw_invalid(row_field("monetary_value", i),
                    "must be finite and >= 0, got " + num(c.monetary_value[i]));
    if (c.historical_minor[i] < 0)
      throw_invalid(row_field("historical_minor", i),
                    "is negative (" + std::to_string(c.historical_minor[i]) + ")");
  }
  index_ids(c.customer_id, "customer_id");
}

}  // namespace

const char* to_string(ValueMethod method) noexcept {
  switch (method) {
    case ValueMethod::model: return "model";
    case ValueMethod::run_rate: return "run_rate";
  }
  return "model";
}

ValueMethod parse_value_method(std::string_view text, std::string_view field) {
  if (text == "model") return ValueMethod::model;
  if (text == "run_rate") return ValueMethod::run_rate;
  throw_invalid(field, "unknown value method '" + std::string(text) + "' (expected model or run_rate)");
}

// ---- historical ---------------------------------------------------------------------------

HistoricalValue historical_value(std::span<const std::int64_t> customer_ids,
                                 std::span<const std::int64_t> amount_minor,
                                 std::span<const std::int64_t> refunded_minor, Currency currency) {
  const std::size_t n = customer_ids.size();
  check_length(amount_minor.size(), n, "amount_minor", "customer_ids");
  check_length(refunded_minor.size(), n, "refunded_minor", "customer_ids");
  std::unordered_map<std::int64_t, std::pair<std::int64_t, std::int64_t>> sums;  // net, rows
  for (std::size_t i = 0; i < n; ++i) {
    if (amount_minor[i] < 0)
      throw_invalid(row_field("amount_minor", i),
                    "is negative (" + std::to_string(amount_minor[i]) + ")");
    if (refunded_minor[i] < 0)
      throw_invalid(row_field("refunded_minor", i),
                    "is negative (" + std::to_string(refunded_minor[i]) + ")");
    if (refunded_minor[i] > amount_minor[i])
      throw_invalid(row_field("refunded_minor", i),
                    std::to_string(refunded_minor[i]) + " exceeds amount_minor (" +
                        std::to_string(amount_minor[i]) + ")");
    auto& s = sums[customer_ids[i]];
    s.first = checked_add(s.first, amount_minor[i] - refunded_minor[i], "net_minor");
    s.second += 1;
  }
  HistoricalValue out;
  out.currency = currency;
  out.customer_id.reserve(sums.size());
  for (const auto& kv : sums) out.customer_id.push_back(kv.first);
  std::sort(out.customer_id.begin(), out.customer_id.end());
  out.net_minor.reserve(sums.size());
  out.purchases.reserve(sums.size());
  for (std::int64_t id : out.customer_id) {
    const auto& s = sums.at(id);
    out.net_minor.push_back(s.first);
    out.purchases.push_back(s.second);
  }
  return out;
}

// ---- current ------------------------------------------------------------------------------

CurrentValue current_value(const CustomerValueInputs& customers,
                           const TransactionModel& transaction_model,
                           const GammaGammaModel& spend_model, double horizon,
                           const CurrentValueOptions& options) {
  check_current_options(horizon, options);
  check_customers(customers);
  const std::size_t n = customers.customer_id.size();

  CurrentValue out;
  out.currency = customers.currency;
  out.value_minor.assign(n, 0);
  out.method.assign(n, ValueMethod::run_rate);

  // Split the rows.
  std::vector<std::size_t> model_rows;
  for (std::size_t i = 0; i < n; ++i) {
    if (customers.frequency[i] >= static_cast<double>(options.min_repeat_purchases) &&
        customers.T[i] >= options.min_tenure) {
      model_rows.push_back(i);
      out.method[i] = ValueMethod::model;
    }
  }

  const bool discounted = options.discount_rate > 0;
  const std::vector<double> ends =
      discounted ? step_ends(horizon, options.discount_step) : std::vector<double>{};
  std::vector<double> factors(ends.size());
  for (std::size_t k = 0; k < ends.size(); ++k)
    factors[k] = std::pow(1.0 + options.discount_rate, -ends[k]);

  // Model rows: E[X over the horizon] (discounted) x E[Z].
  if (!model_rows.empty()) {
    const std::size_t m = model_rows.size();
    std::vector<double> x(m), tx(m), T(m), mv(m);
    for (std::size_t j = 0; j < m; ++j) {
      const std::size_t i = model_rows[j];
      x[j] = customers.frequency[i];
      tx[j] = customers.recency[i];
      T[j] = customers.T[i];
      mv[j] = customers.monetary_value[i];
    }
    const std::vector<double> spend = spend_model.conditional_expected_average_profit(x, mv);
    std::vector<double> purchases(m, 0.0);
    if (!discounted) {
      if (horizon > 0)
        purchases = transaction_model.conditional_expected_number_of_purchases_up_to_time(horizon, x,
                                                                                         tx, T);
    } else {
      purchases = detail::discounted_expected_purchases(transaction_model, ends, factors, x, tx, T);
    }
    for (std::size_t j = 0; j < m; ++j) {
      const std::size_t i = model_rows[j];
      if (std::isnan(spend[j])) {
        // No expected spend for this history (Gamma-Gamma with p x + q <= 1): the row is valued
        // at its run rate below, and its method says so.
        out.method[i] = ValueMethod::run_rate;
        continue;
      }
      const Money v =
          Money::from_model_value(purchases[j] * spend[j], customers.currency, options.rounding);
      out.value_minor[i] = to_i64(v, row_field("current", i));
    }
  }

  // Run-rate rows: revenue per unit of tenure x the (discounted) horizon.
  double effective_horizon = horizon;
  if (discounted) {
    effective_horizon = 0;
    double previous = 0;
    for (std::size_t k = 0; k < ends.size(); ++k) {
      effective_horizon += (ends[k] - previous) * factors[k];
      previous = ends[k];
    }
  }
  const double major = std::pow(10.0, customers.currency.minor_units());
  for (std::size_t i = 0; i < n; ++i) {
    if (out.method[i] != ValueMethod::run_rate) continue;
    const double tenure = std::max(customers.T[i], options.run_rate_tenure_floor);
    const double revenue = static_cast<double>(customers.historical_minor[i]) / major;
    const Money v = Money::from_model_value(revenue / tenure * effective_horizon, customers.currency,
                                            options.rounding);
    out.value_minor[i] = to_i64(v, row_field("current", i));
  }
  return out;
}

// ---- potential ----------------------------------------------------------------------------

PotentialValue potential_value(std::span<const std::int64_t> customer_ids,
                               std::span<const std::int64_t> historical_minor,
                               std::span<const std::int64_t> current_minor, Currency currency,
                               std::span<const std::int64_t> referrer_ids,
                               std::span<const std::int64_t> referred_ids,
                               const PotentialValueOptions& options) {
  const std::size_t n = customer_ids.size();
  check_length(historical_minor.size(), n, "historical_minor", "customer_ids");
  check_length(current_minor.size(), n, "current_minor", "customer_ids");
  check_length(referred_ids.size(), referrer_ids.size(), "referred_ids", "referrer_ids");
  for (std::size_t i = 0; i < n; ++i)
    if (historical_minor[i] < 0)
      throw_invalid(row_field("historical_minor", i),
                    "is negative (" + std::to_string(historical_minor[i]) + ")");
  if (options.uplift.is_negative())
    throw_invalid("uplift", "must be >= 0, got " + options.uplift.to_string());
  if (options.referral_value) {
    if (!(options.referral_value->currency() == currency))
      throw_invalid("referral_value", "currency " + std::string(options.referral_value->currency().code()) +
                                          " differs from " + std::string(currency.code()));
    if (options.referral_value->is_negative())
      throw_invalid("referral_value", "must be >= 0, got " + options.referral_value->to_string());
  }
  const auto rows = index_ids(customer_ids, "customer_ids");

  // Distinct converted (referrer row, referred row) pairs, and the distinct converted referred.
  struct PairHash {
    std::size_t operator()(const std::pair<std::size_t, std::size_t>& p) const noexcept {
      return std::hash<std::size_t>()(p.first * 0x9E3779B97F4A7C15ULL ^ p.second);
    }
  };
  std::unordered_set<std::pair<std::size_t, std::size_t>, PairHash> pairs;
  std::unordered_set<std::size_t> referred_rows;
  PotentialValue out;
  out.currency = currency;
  out.converted_referrals.assign(n, 0);
  out.value_minor.assign(n, 0);
  for (std::size_t k = 0; k < referrer_ids.size(); ++k) {
    if (referrer_ids[k] == referred_ids[k])
      throw_invalid(row_field("referred_ids", k),
                    "customer " + std::to_string(referred_ids[k]) + " refers itself");
    const auto referred = rows.find(referred_ids[k]);
    if (referred == rows.end()) continue;  // not (yet) a buyer: not converted
    referred_rows.insert(referred->second);
    const auto referrer = rows.find(referrer_ids[k]);
    if (referrer == rows.end()) continue;
    if (pairs.emplace(referrer->second, referred->second).second)
      out.converted_referrals[referrer->second] += 1;
  }

  Money per_referral(currency);
  if (options.referral_value) {
    per_referral = *options.referral_value;
  } else if (!referred_rows.empty()) {
    Int128 sum = 0;
    for (std::size_t r : referred_rows) sum += Int128(historical_minor[r]);
    per_referral = Money::from_minor(
        divide_rounded(sum, static_cast<std::int64_t>(referred_rows.size()), options.rounding),
        currency);
  }
  out.referral_value_minor = to_i64(per_referral, "referral_value");

  const bool has_uplift = !options.uplift.is_zero();
  for (std::size_t i = 0; i < n; ++i) {
    Money v = per_referral * out.converted_referrals[i];
    if (has_uplift)
      v += Money::from_minor(current_minor[i], currency).multiply(options.uplift, options.rounding);
    out.value_minor[i] = to_i64(v, row_field("potential", i));
  }
  return out;
}

// ---- all three ----------------------------------------------------------------------------

LifetimeValue lifetime_value(const CustomerValueInputs& customers,
                             const TransactionModel& transaction_model,
                             const GammaGammaModel& spend_model, double horizon,
                             std::span<const std::int64_t> referrer_ids,
                             std::span<const std::int64_t> referred_ids,
                             const LifetimeValueOptions& options) {
  CurrentValue current =
      current_value(customers, transaction_model, spend_model, horizon, options.current);
  PotentialValue potential =
      potential_value(customers.customer_id, customers.historical_minor, current.value_minor,
                      customers.currency, referrer_ids, referred_ids, options.potential);
  LifetimeValue out;
  out.currency = customers.currency;
  out.customer_id.assign(customers.customer_id.begin(), customers.customer_id.end());
  out.historical_minor.assign(customers.historical_minor.begin(), customers.historical_minor.end());
  const std::size_t n = out.customer_id.size();
  out.total_minor.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::string field = row_field("total", i);
    out.total_minor[i] = checked_add(
        checked_add(out.historical_minor[i], current.value_minor[i], field),
        potential.value_minor[i], field);
  }
  out.current_minor = std::move(current.value_minor);
  out.method = std::move(current.method);
  out.potential_minor = std::move(potential.value_minor);
  out.converted_referrals = std::move(potential.converted_referrals);
  out.referral_value_minor = potential.referral_value_minor;
  return out;
}

}  // namespace v0
}  // namespace crmkit
