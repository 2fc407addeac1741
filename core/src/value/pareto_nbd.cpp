// Pareto/NBD. The likelihood is
//   L = Gamma(r+x) alpha^r beta^s / Gamma(r) * [ (alpha+T)^-(r+x) (beta+T)^-s + s I ],
//   I = int_{t_x}^{T} (alpha+y)^-(r+x) (beta+y)^-(s+1) dy,
// where s I is the A0 term of the Fader-Hardie note written as the integral it came from. In
// v = log(min(alpha, beta) + y) the integrand is log-concave, so Gauss-Legendre panels placed
// around its mode evaluate it to near machine precision for any parameters, and the derivatives of
// I are integrals of the same integrand (so the gradient is analytic).
#include <algorithm>
#include <cmath>
#include <utility>

#include "crmkit/base/error.hpp"
#include "internal.hpp"

namespace crmkit {
inline namespace v0 {

namespace {

using detail::digamma;
using detail::lgamma_;

constexpr const char* kNames[4] = {"params.r", "params.alpha", "params.s", "params.beta"};

// log(s I) and, if m is non-null, the four moments of log_concave_integral.
double log_sI(double r, double alpha, double s, double beta, double x, double tx, double T,
              double* m, double max_panel = detail::kFitPanel) {
  if (!(T > tx)) {
    if (m)
      for (int i = 0; i < 4; ++i) m[i] = 0;
    return -INFINITY;
  }
  const double c0 = std::min(alpha, beta);
  return std::log(s) + detail::log_concave_integral(1.0, r + x, s + 1, alpha - c0, beta - c0,
                                                    std::log(c0 + tx), std::log(c0 + T), m,
                                                    max_panel);
}

// The two terms of a history's likelihood over its constant factor (see the top of this file):
// e1 = log of the alive-at-T part, e2 = log(s I), the died-in-(t_x, T) part (-inf if t_x = T).
struct HistoryTerms {
  double e1, e2;
};

// max_panel: detail::kFitPanel for the likelihood (as the fit sums it), kPredictionPanel for
// predictions.
HistoryTerms history_terms(double r, double alpha, double s, double beta, double x, double tx,
                           double T, double max_panel) {
  return {-(r + x) * std::log(alpha + T) - s * std::log(beta + T),
          log_sI(r, alpha, s, beta, x, tx, T, nullptr, max_panel)};
}

double grouped_loglik(const detail::Compressed& d, const double* u, double* grad) {
  const double r = std::exp(u[0]), alpha = std::exp(u[1]), s = std::exp(u[2]),
               beta = std::exp(u[3]);
  const double la = std::log(alpha), lb = std::log(beta), lg_r = lgamma_(r), dg_r = digamma(r);
  double G[4] = {0, 0, 0, 0};
  double total = 0;
  for (std::size_t j = 0; j < d.xs.size(); ++j) {
    const double x = d.xs[j], W = d.xw[j];
    total += W * (lgamma_(r + x) - lg_r + r * la + s * lb);
    G[0] += W * (digamma(r + x) - dg_r + la);
    G[1] += W * r / alpha;
    G[2] += W * lb;
    G[3] += W * s / beta;
  }
  for (std::size_t i = 0; i < d.w.size(); ++i) {
    const double x = d.c0[i], tx = d.c1[i], T = d.c2[i], w = d.w[i];
    const double rx = r + x, laT = std::log(alpha + T), lbT = std::log(beta + T);
    const double E1 = -rx * laT - s * lbT;
    double m[4];
    const double E2 = log_sI(r, alpha, s, beta, x, tx, T, m);
    const double ll = detail::logaddexp(E1, E2);
    const double w1 = std::exp(E1 - ll), w2 = E2 == -INFINITY ? 0.0 : std::exp(E2 - ll);
    total += w * ll;
    G[0] += w * (w1 * -laT + w2 * -m[0]);
    G[1] += w * (w1 * -rx / (alpha + T) + w2 * -rx * m[1]);
    G[2] += w * (w1 * -lbT + w2 * (1.0 / s - m[2]));
    G[3] += w * (w1 * -s / (beta + T) + w2 * -(s + 1) * m[3]);
  }
  if (grad) {
    const double th[4] = {r, alpha, s, beta};
    for (int k = 0; k < 4; ++k) grad[k] = G[k] * th[k];
  }
  return total;
}

// (1 - exp(-e L)) / e, with its limit L at e = 0.
double one_minus_exp_over(double e, double L) { return e == 0 ? L : -std::expm1(-e * L) / e; }

}  // namespace

ParetoNBDModel::ParetoNBDModel(const ParetoNBDParams& params) : params_(params) {
  const double v[4] = {params.r, params.alpha, params.s, params.beta};
  detail::check_params(v, kNames);
  se_ = {NAN, NAN, NAN, NAN};
}

ParetoNBDModel::ParetoNBDModel(const ParetoNBDParams& params, const ParetoNBDParams& standard_errors, FitReport report)
    : ParetoNBDModel(params) {
  const double se[4] = {standard_errors.r, standard_errors.alpha, standard_errors.s, standard_errors.beta};
  detail::check_standard_error_values(se, kNames);
  se_ = standard_errors;
  report_ = std::move(report);
}

ParetoNBDModel ParetoNBDModel::fit(std::span<const double> frequency,
                                   std::span<const double> recency, std::span<const double> T,
                                   std::span<const double> weights, const FitOptions& options) {
  detail::check_rfm(frequency, recency, T, weights);
  detail::check_options(options, 4);
  if (frequency.empty()) throw_invalid("frequency", "must not be empty");
  const detail::Compressed d = detail::compress(frequency, recency, T, weights);
  const detail::LogLik ll = [&](const double* u, double* g) { return grouped_loglik(d, u, g); };
  detail::FitResult res = detail::maximize(ll, 4, d.total, options, kNames);
  detail::check_information_continuous(d, res.report);
  ParetoNBDModel m({res.params[0], res.params[1], res.params[2], res.params[3]});
  m.se_ = {res.se[0], res.se[1], res.se[2], res.se[3]};
  m.report_ = res.report;
  return m;
}

std::vector<double> ParetoNBDModel::covariance(std::span<const double> frequency,
                                               std::span<const double> recency,
                                               std::span<const double> T,
                                               std::span<const double> weights,
                                               double penalizer) const {
  detail::check_rfm(frequency, recency, T, weights);
  FitOptions o;
  o.penalizer = penalizer;
  detail::check_options(o, 4);
  if (frequency.empty()) throw_invalid("frequency", "must not be empty");
  const detail::Compressed d = detail::compress(frequency, recency, T, weights);
  const detail::LogLik ll = [&](const double* u, double* g) { return grouped_loglik(d, u, g); };
  const std::vector<double> u = {std::log(params_.r), std::log(params_.alpha),
                                 std::log(params_.s), std::log(params_.beta)};
  std::vector<double> cov;
  detail::delta_method_covariance(ll, 4, d.total, penalizer, u, cov);
  return cov;
}

double ParetoNBDModel::log_likelihood(std::span<const double> frequency,
                                      std::span<const double> recency, std::span<const double> T,
                                      std::span<const double> weights) const {
  detail::check_rfm(frequency, recency, T, weights);
  if (frequency.empty()) return 0.0;
  const detail::Compressed d = detail::compress(frequency, recency, T, weights);
  const double u[4] = {std::log(params_.r), std::log(params_.alpha), std::log(params_.s),
                       std::log(params_.beta)};
  return grouped_loglik(d, u, nullptr);
}

std::vector<double> ParetoNBDModel::log_likelihood_gradient(std::span<const double> frequency,
                                                            std::span<const double> recency,
                                                            std::span<const double> T,
                                                            std::span<const double> weights) const {
  detail::check_rfm(frequency, recency, T, weights);
  std::vector<double> g(4, 0.0);
  if (frequency.empty()) return g;
  const detail::Compressed d = detail::compress(frequency, recency, T, weights);
  const double th[4] = {params_.r, params_.alpha, params_.s, params_.beta};
  const double u[4] = {std::log(th[0]), std::log(th[1]), std::log(th[2]), std::log(th[3])};
  grouped_loglik(d, u, g.data());
  for (int k = 0; k < 4; ++k) g[k] /= th[k];
  return g;
}

std::vector<double> ParetoNBDModel::individual_log_likelihood(std::span<const double> frequency,
                                                              std::span<const double> recency,
                                                              std::span<const double> T) const {
  detail::check_rfm(frequency, recency, T, {});
  const double r = params_.r, alpha = params_.alpha, s = params_.s, beta = params_.beta;
  std::vector<double> out(frequency.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const double x = frequency[i];
    const HistoryTerms h = history_terms(r, alpha, s, beta, x, recency[i], T[i], detail::kFitPanel);
    out[i] = lgamma_(r + x) - lgamma_(r) + r * std::log(alpha) + s * std::log(beta) +
             detail::logaddexp(h.e1, h.e2);
  }
  return out;
}

std::vector<double> ParetoNBDModel::conditional_probability_alive(
    std::span<const double> frequency, std::span<const double> recency,
    std::span<const double> T, ImpossibleHistories histories) const {
  detail::check_rfm(frequency, recency, T, {}, histories == ImpossibleHistories::evaluate);
  const double r = params_.r, alpha = params_.alpha, s = params_.s, beta = params_.beta;
  std::vector<double> out(frequency.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const HistoryTerms h =
        history_terms(r, alpha, s, beta, frequency[i], recency[i], T[i], detail::kPredictionPanel);
    out[i] = h.e2 == -INFINITY ? 1.0 : detail::inv_one_plus_exp(h.e2 - h.e1);
  }
  return out;
}

std::vector<double> ParetoNBDModel::conditional_expected_number_of_purchases_up_to_time(
    double t, std::span<const double> frequency, std::span<const double> recency,
    std::span<const double> T) const {
  return conditional_expected_number_of_purchases_up_to_time(t, frequency, recency, T,
                                                             ImpossibleHistories::reject);
}

std::vector<double> ParetoNBDModel::conditional_expected_number_of_purchases_up_to_time(
    double t, std::span<const double> frequency, std::span<const double> recency,
    std::span<const double> T, ImpossibleHistories histories) const {
  detail::check_t(t, "t");
  std::vector<double> out = conditional_probability_alive(frequency, recency, T, histories);
  const double r = params_.r, alpha = params_.alpha, s = params_.s;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const double bT = params_.beta + T[i];
    const double e = (r + frequency[i]) / (alpha + T[i]) * bT *
                     one_minus_exp_over(s - 1, std::log1p(t / bT));
    out[i] *= e;
  }
  return out;
}

std::vector<double> ParetoNBDModel::expected_number_of_purchases_up_to_time(
    std::span<const double> t) const {
  std::vector<double> out(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) {
    detail::check_t(t[i], "t");
    out[i] = params_.r / params_.alpha * params_.beta *
             one_minus_exp_over(params_.s - 1, std::log1p(t[i] / params_.beta));
  }
  return out;
}

double ParetoNBDModel::probability_of_n_purchases_up_to_time(double t, double n) const {
  detail::check_t(t, "t");
  if (!detail::is_integer(n) || n < 0) throw_invalid("n", "must be a non-negative integer");
  const double r = params_.r, alpha = params_.alpha, s = params_.s, beta = params_.beta;
  if (t == 0) return n == 0 ? 1.0 : 0.0;
  const double lC = lgamma_(r + n) - lgamma_(r) - lgamma_(n + 1) + r * std::log(alpha);
  // Alive through t: survival (beta/(beta+t))^s times the NBD count at t.
  const double l_alive = -s * std::log1p(t / beta) + lC - (r + n) * std::log(alpha + t) +
                         (n > 0 ? n * std::log(t) : 0.0);
  // Died at tau in (0, t): density s beta^s (beta+tau)^-(s+1), NBD count at tau; tau = e^v.
  const double lt = std::log(t);
  const double l_dead = std::log(s) + s * std::log(beta) + lC +
                        detail::log_concave_integral(n + 1, r + n, s + 1, alpha, beta, lt - 750.0,
                                                     lt, nullptr, detail::kPredictionPanel);
  const double out = std::exp(detail::logaddexp(l_alive, l_dead));
  return std::isfinite(out) ? std::min(1.0, out) : 0.0;
}

std::vector<double> ParetoNBDModel::conditional_probability_of_n_purchases_up_to_time(
    double n, double t, std::span<const double> frequency, std::span<const double> recency,
    std::span<const double> T, ImpossibleHistories histories) const {
  detail::check_t(t, "t");
  if (!detail::is_integer(n) || n < 0) throw_invalid("n", "must be a non-negative integer");
  detail::check_rfm(frequency, recency, T, {}, histories == ImpossibleHistories::evaluate);
  const double r = params_.r, alpha = params_.alpha, s = params_.s, beta = params_.beta;
  std::vector<double> out(frequency.size());
  if (t == 0) {  // no purchases yet
    std::fill(out.begin(), out.end(), n == 0 ? 1.0 : 0.0);
    return out;
  }
  const double lt = std::log(t);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const double x = frequency[i], Ti = T[i];
    // The history's likelihood terms, evaluated once: P(alive at T) and the individual
    // log-likelihood (conditional_probability_alive, individual_log_likelihood) both come from them.
    const HistoryTerms h = history_terms(r, alpha, s, beta, x, recency[i], Ti, detail::kPredictionPanel);
    const double alive = h.e2 == -INFINITY ? 1.0 : detail::inv_one_plus_exp(h.e2 - h.e1);
    const double dead = n == 0 ? 1.0 - alive : 0.0;
    // Posterior weight of being alive at T with rates (lambda, mu): lambda^x e^-(lambda+mu) T,
    // over the individual likelihood; the Gamma integrals over lambda and mu are closed forms.
    const double lA = lgamma_(r + x + n) - lgamma_(r) - lgamma_(n + 1) + r * std::log(alpha) +
                      s * std::log(beta);
    // Alive through T + t: survival e^-mu t times the Poisson count (lambda t)^n e^-lambda t / n!.
    const double l_alive = lA + (n > 0 ? n * lt : 0.0) - (r + x + n) * std::log(alpha + Ti + t) -
                           s * std::log(beta + Ti + t);
    // Dies at T + tau, tau in (0, t): density mu e^-mu tau, Poisson count up to tau; tau = e^v.
    const double l_dead = lA + std::log(s) +
                          detail::log_concave_integral(n + 1, r + x + n, s + 1, alpha + Ti,
                                                       beta + Ti, lt - 750.0, lt, nullptr,
                                                       detail::kPredictionPanel);
    const double ll = lgamma_(r + x) - lgamma_(r) + r * std::log(alpha) + s * std::log(beta) +
                      detail::logaddexp(h.e1, h.e2);
    const double p = dead + std::exp(detail::logaddexp(l_alive, l_dead) - ll);
    out[i] = std::isnan(p) ? p : std::clamp(p, 0.0, 1.0);
  }
  return out;
}

}  // namespace v0
}  // namespace crmkit
