// Gamma-Gamma spend model and lifetimes' customer lifetime value.
#include <cmath>
#include <utility>
#include <string>

#include "crmkit/base/error.hpp"
#include "fields.hpp"
#include "internal.hpp"

namespace crmkit {
inline namespace v0 {

namespace {

using detail::digamma;
using detail::lgamma_;

constexpr const char* kNames[3] = {"params.p", "params.q", "params.v"};

double grouped(const detail::Compressed& d, const double* u, double* grad) {
  const double p = std::exp(u[0]), q = std::exp(u[1]), v = std::exp(u[2]);
  const double lv = std::log(v), lg_q = lgamma_(q), dg_q = digamma(q);
  double total = 0, G[3] = {0, 0, 0};
  for (std::size_t j = 0; j < d.xs.size(); ++j) {
    const double x = d.xs[j], W = d.xw[j], px = p * x;
    total += W * (lgamma_(px + q) - lgamma_(px) - lg_q + q * lv + px * std::log(x));
    if (grad) {
      const double dg_pxq = digamma(px + q);
      G[0] += W * x * (dg_pxq - digamma(px) + std::log(x));
      G[1] += W * (dg_pxq - dg_q + lv);
      G[2] += W * q / v;
    }
  }
  for (std::size_t i = 0; i < d.w.size(); ++i) {
    const double x = d.c0[i], m = d.c1[i], w = d.w[i], px = p * x;
    const double lm = std::log(m), lxmv = std::log(x * m + v);
    total += w * ((px - 1) * lm - (px + q) * lxmv);
    G[0] += w * x * (lm - lxmv);
    G[1] -= w * lxmv;
    G[2] -= w * (px + q) / (x * m + v);
  }
  if (grad) {
    grad[0] = G[0] * p;
    grad[1] = G[1] * q;
    grad[2] = G[2] * v;
  }
  return total;
}

detail::Compressed compress_spend(std::span<const double> x, std::span<const double> m,
                                  std::span<const double> w) {
  const std::vector<double> zeros(x.size(), 0.0);
  return detail::compress(x, m, zeros, w);
}

}  // namespace

GammaGammaModel::GammaGammaModel(const GammaGammaParams& params) : params_(params) {
  const double v[3] = {params.p, params.q, params.v};
  detail::check_params(v, kNames);
  se_ = {NAN, NAN, NAN};
}

GammaGammaModel::GammaGammaModel(const GammaGammaParams& params, const GammaGammaParams& standard_errors, FitReport report)
    : GammaGammaModel(params) {
  const double se[3] = {standard_errors.p, standard_errors.q, standard_errors.v};
  detail::check_standard_error_values(se, kNames);
  se_ = standard_errors;
  report_ = std::move(report);
}

GammaGammaModel GammaGammaModel::fit(std::span<const double> frequency,
                                     std::span<const double> monetary_value,
                                     std::span<const double> weights, const FitOptions& options) {
  detail::check_spend(frequency, monetary_value, weights, true);
  detail::check_options(options, 3);
  if (frequency.empty()) throw_invalid("frequency", "must not be empty");
  const detail::Compressed d = compress_spend(frequency, monetary_value, weights);
  const detail::LogLik ll = [&](const double* u, double* g) { return grouped(d, u, g); };
  const detail::FitResult res = detail::maximize(ll, 3, d.total, options, kNames);
  GammaGammaModel m({res.params[0], res.params[1], res.params[2]});
  m.se_ = {res.se[0], res.se[1], res.se[2]};
  m.report_ = res.report;
  return m;
}

GammaGammaModel GammaGammaModel::fit(std::span<const double> frequency,
                                     std::span<const double> monetary_value,
                                     std::span<const double> weights, const FitOptions& options,
                                     bool q_constraint) {
  GammaGammaModel free_fit = fit(frequency, monetary_value, weights, options);
  if (!q_constraint || free_fit.params_.q >= 1) return free_fit;
  // The maximum over q >= 1 is on the bound: fit (log p, log v) with q = 1 (log q = 0).
  const detail::Compressed d = compress_spend(frequency, monetary_value, weights);
  const detail::LogLik held = [&](const double* u, double* g) {
    const double u3[3] = {u[0], 0.0, u[1]};
    double g3[3] = {0, 0, 0};
    const double value = grouped(d, u3, g ? g3 : nullptr);
    if (g) {
      g[0] = g3[0];
      g[1] = g3[2];
    }
    return value;
  };
  FitOptions held_options = options;
  held_options.standard_errors = false;
  if (!options.initial.empty()) held_options.initial = {options.initial[0], options.initial[2]};
  const detail::FitResult res = detail::maximize(held, 2, d.total, held_options);
  GammaGammaModel m({res.params[0], 1.0, res.params[1]});
  m.report_ = res.report;
  m.report_.message += "; q held at the bound q = 1 (q_constraint; unconstrained q = " +
                       detail::num(free_fit.params_.q) + ")";
  if (options.standard_errors) {
    const detail::LogLik all = [&](const double* u, double* g) { return grouped(d, u, g); };
    const std::vector<double> u = {std::log(res.params[0]), 0.0, std::log(res.params[1])};
    std::vector<double> se;
    detail::delta_method_se(all, 3, d.total, options.penalizer, u, se);
    m.se_ = {se[0], se[1], se[2]};
    detail::check_standard_errors(se, m.report_);
  }
  return m;
}

std::vector<double> GammaGammaModel::covariance(std::span<const double> frequency,
                                                std::span<const double> monetary_value,
                                                std::span<const double> weights,
                                                double penalizer) const {
  detail::check_spend(frequency, monetary_value, weights, true);
  FitOptions o;
  o.penalizer = penalizer;
  detail::check_options(o, 3);
  if (frequency.empty()) throw_invalid("frequency", "must not be empty");
  const detail::Compressed d = compress_spend(frequency, monetary_value, weights);
  const detail::LogLik ll = [&](const double* u, double* g) { return grouped(d, u, g); };
  const std::vector<double> u = {std::log(params_.p), std::log(params_.q), std::log(params_.v)};
  std::vector<double> cov;
  detail::delta_method_covariance(ll, 3, d.total, penalizer, u, cov);
  return cov;
}

double GammaGammaModel::log_likelihood(std::span<const double> frequency,
                                       std::span<const double> monetary_value,
                                       std::span<const double> weights) const {
  detail::check_spend(frequency, monetary_value, weights, true);
  if (frequency.empty()) return 0.0;
  const detail::Compressed d = compress_spend(frequency, monetary_value, weights);
  const double u[3] = {std::log(params_.p), std::log(params_.q), std::log(params_.v)};
  return grouped(d, u, nullptr);
}

std::vector<double> GammaGammaModel::log_likelihood_gradient(std::span<const double> frequency,
                                                             std::span<const double> monetary_value,
                                                             std::span<const double> weights) const {
  detail::check_spend(frequency, monetary_value, weights, true);
  std::vector<double> g(3, 0.0);
  if (frequency.empty()) return g;
  const detail::Compressed d = compress_spend(frequency, monetary_value, weights);
  const double th[3] = {params_.p, params_.q, params_.v};
  const double u[3] = {std::log(th[0]), std::log(th[1]), std::log(th[2])};
  grouped(d, u, g.data());
  for (int k = 0; k < 3; ++k) g[k] /= th[k];
  return g;
}

std::vector<double> GammaGammaModel::conditional_expected_average_profit(
    std::span<const double> frequency, std::span<const double> monetary_value) const {
  detail::check_spend(frequency, monetary_value, {}, false);
  const double p = params_.p, q = params_.q, v = params_.v;
  std::vector<double> out(frequency.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const double x = frequency[i], den = p * x + q - 1;
    if (!(den > 0))
      throw_invalid("frequency[" + std::to_string(i) + "]",
                    "expected spend does not exist when p * frequency + q <= 1");
    // Weighted mean of the population mean p v / (q - 1) and the observed mean, written so that
    // q <= 1 with x > 0 stays finite.
    out[i] = p * (v + x * monetary_value[i]) / den;
  }
  return out;
}

std::vector<double> GammaGammaModel::customer_lifetime_value(
    const TransactionModel& transaction_model, std::span<const double> frequency,
    std::span<const double> recency, std::span<const double> T,
    std::span<const double> monetary_value, const ClvOptions& options) const {
  if (options.months < 1)
    throw_invalid("options.months", "must be >= 1, got " + std::to_string(options.months));
  if (!std::isfinite(options.discount_rate) || options.discount_rate < 0)
    throw_invalid("options.discount_rate", "must be finite and >= 0");
  if (!std::isfinite(options.periods_per_month) || !(options.periods_per_month > 0))
    throw_invalid("options.periods_per_month", "must be finite and > 0");
  const std::vector<double> spend = conditional_expected_average_profit(frequency, monetary_value);
  std::vector<double> clv(frequency.size(), 0.0);
  std::vector<double> prev(frequency.size(), 0.0);
  const double k = options.periods_per_month;
  for (int i = 1; i <= options.months; ++i) {
    const std::vector<double> cur =
        transaction_model.conditional_expected_number_of_purchases_up_to_time(i * k, frequency,
                                                                              recency, T);
    const double disc = std::pow(1.0 + options.discount_rate, static_cast<double>(i));
    for (std::size_t j = 0; j < clv.size(); ++j) clv[j] += spend[j] * (cur[j] - prev[j]) / disc;
    prev = cur;
  }
  return clv;
}

}  // namespace v0
}  // namespace crmkit
