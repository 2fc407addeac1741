// BG/BB (Fader, Hardie, Shang 2010). The likelihood's sum over possible death periods is
// accumulated in log space with recurrences for the Beta ratios and their digamma derivatives, so
// a row costs O(n - t_x) logarithms and no special-function calls beyond the first term.
#include <algorithm>
#include <cmath>
#include <utility>

#include "crmkit/base/error.hpp"
#include "internal.hpp"

namespace crmkit {
inline namespace v0 {

namespace {

using detail::digamma;
using detail::lbeta;
using detail::lgamma_;

constexpr const char* kNames[4] = {"params.alpha", "params.beta", "params.gamma", "params.delta"};

struct Consts {
  double al, be, ga, de, lb_ab, lb_gd, dg_a, dg_b, dg_ab, dg_g, dg_d, dg_gd;
  explicit Consts(const double p[4], bool derivs)
      : al(p[0]), be(p[1]), ga(p[2]), de(p[3]), lb_ab(lbeta(al, be)), lb_gd(lbeta(ga, de)) {
    if (derivs) {
      dg_a = digamma(al);
      dg_b = digamma(be);
      dg_ab = digamma(al + be);
      dg_g = digamma(ga);
      dg_d = digamma(de);
      dg_gd = digamma(ga + de);
    }
  }
};

// Log-likelihood of one row; if g is non-null adds d ll / d(natural params) into g[0..3].
double row_loglik(const Consts& c, double x, double tx, double n, double* g) {
  const double al = c.al, be = c.be, ga = c.ga, de = c.de;
  const double t0 = lbeta(al + x, be + n - x) - c.lb_ab + lbeta(ga, de + n) - c.lb_gd;
  // Streaming log-sum-exp: m the running max, S = sum exp(lt - m), D[k] = sum exp(lt - m) dlt_k.
  double m = t0, S = 1.0, D[4] = {0, 0, 0, 0};
  double d_lt[4] = {0, 0, 0, 0};
  const bool deriv = g != nullptr;
  if (deriv) {
    const double dg_abn = digamma(al + be + n), dg_gdn = digamma(ga + de + n);
    D[0] = digamma(al + x) - dg_abn - c.dg_a + c.dg_ab;
    D[1] = digamma(be + n - x) - dg_abn - c.dg_b + c.dg_ab;
    D[2] = c.dg_gd - dg_gdn;
    D[3] = digamma(de + n) - dg_gdn - c.dg_d + c.dg_gd;
  }
  const double count = n - tx;  // terms i = 0 .. n - t_x - 1
  if (count >= 1) {
    double P = be + tx - x, Q = al + be + tx, R = de + tx, Sg = ga + de + tx + 1;
    double lt = lbeta(al + x, P) - c.lb_ab + lbeta(ga + 1, R) - c.lb_gd;
    double dgP = 0, dgQ = 0, dgR = 0, dgS = 0, dg_ax = 0, dg_g1 = 0;
    if (deriv) {
      dgP = digamma(P);
      dgQ = digamma(Q);
      dgR = digamma(R);
      dgS = digamma(Sg);
      dg_ax = digamma(al + x);
      dg_g1 = c.dg_g + 1.0 / ga;
    }
    for (double i = 0; i < count; i += 1) {
      if (deriv) {
        d_lt[0] = dg_ax - dgQ - c.dg_a + c.dg_ab;
        d_lt[1] = dgP - dgQ - c.dg_b + c.dg_ab;
        d_lt[2] = dg_g1 - dgS - c.dg_g + c.dg_gd;
        d_lt[3] = dgR - dgS - c.dg_d + c.dg_gd;
      }
      if (lt > m) {
        const double sc = std::exp(m - lt);
        S *= sc;
        for (double& v : D) v *= sc;
        m = lt;
      }
      const double e = std::exp(lt - m);
      S += e;
      if (deriv)
        for (int k = 0; k < 4; ++k) D[k] += e * d_lt[k];
      // advance i -> i + 1
      lt += std::log(P) - std::log(Q) + std::log(R) - std::log(Sg);
      if (deriv) {
        dgP += 1.0 / P;
        dgQ += 1.0 / Q;
        dgR += 1.0 / R;
        dgS += 1.0 / Sg;
      }
      P += 1;
      Q += 1;
      R += 1;
      Sg += 1;
    }
  }
  // D[] for the first term was stored unscaled with weight exp(t0 - t0) = 1; rescaling above keeps
  // everything relative to m.
  if (deriv)
    for (int k = 0; k < 4; ++k) g[k] += D[k] / S;
  return m + std::log(S);
}

double grouped(const detail::Compressed& d, const double* u, double* grad) {
  const double p[4] = {std::exp(u[0]), std::exp(u[1]), std::exp(u[2]), std::exp(u[3])};
  const Consts c(p, grad != nullptr);
  double total = 0, G[4] = {0, 0, 0, 0};
  for (std::size_t i = 0; i < d.w.size(); ++i) {
    double gi[4] = {0, 0, 0, 0};
    total += d.w[i] * row_loglik(c, d.c0[i], d.c1[i], d.c2[i], grad ? gi : nullptr);
    for (int k = 0; k < 4; ++k) G[k] += d.w[i] * gi[k];
  }
  if (grad)
    for (int k = 0; k < 4; ++k) grad[k] = G[k] * p[k];
  return total;
}

void check_periods(double m, const char* field) {
  if (!detail::is_integer(m) || m < 0) throw_invalid(field, "must be a non-negative integer");
}

}  // namespace

BetaGeoBetaBinomModel::BetaGeoBetaBinomModel(const BetaGeoBetaBinomParams& params)
    : params_(params) {
  const double v[4] = {params.alpha, params.beta, params.gamma, params.delta};
  detail::check_params(v, kNames);
  se_ = {NAN, NAN, NAN, NAN};
}

BetaGeoBetaBinomModel::BetaGeoBetaBinomModel(const BetaGeoBetaBinomParams& params, const BetaGeoBetaBinomParams& standard_errors, FitReport report)
    : BetaGeoBetaBinomModel(params) {
  const double se[4] = {standard_errors.alpha, standard_errors.beta, standard_errors.gamma, standard_errors.delta};
  detail::check_standard_error_values(se, kNames);
  se_ = standard_errors;
  report_ = std::move(report);
}

BetaGeoBetaBinomModel BetaGeoBetaBinomModel::fit(std::span<const double> frequency,
                                                 std::span<const double> recency,
                                                 std::span<const double> n_periods,
                                                 std::span<const double> weights,
                                                 const FitOptions& options) {
  detail::check_bgbb(frequency, recency, n_periods, weights);
  detail::check_options(options, 4);
  if (frequency.empty()) throw_invalid("frequency", "must not be empty");
  const detail::Compressed d = detail::compress(frequency, recency, n_periods, weights);
  const detail::LogLik ll = [&](const double* u, double* g) { return grouped(d, u, g); };
  const detail::FitResult res = detail::maximize(ll, 4, d.total, options, kNames);
  BetaGeoBetaBinomModel m({res.params[0], res.params[1], res.params[2], res.params[3]});
  m.se_ = {res.se[0], res.se[1], res.se[2], res.se[3]};
  m.report_ = res.report;
  return m;
}

std::vector<double> BetaGeoBetaBinomModel::covariance(std::span<const double> frequency,
                                                      std::span<const double> recency,
                                                      std::span<const double> n_periods,
                                                      std::span<const double> weights,
                                                      double penalizer) const {
  detail::check_bgbb(frequency, recency, n_periods, weights);
  FitOptions o;
  o.penalizer = penalizer;
  detail::check_options(o, 4);
  if (frequency.empty()) throw_invalid("frequency", "must not be empty");
  const detail::Compressed d = detail::compress(frequency, recency, n_periods, weights);
  const detail::LogLik ll = [&](const double* u, double* g) { return grouped(d, u, g); };
  const std::vector<double> u = {std::log(params_.alpha), std::log(params_.beta),
                                 std::log(params_.gamma), std::log(params_.delta)};
  std::vector<double> cov;
  detail::delta_method_covariance(ll, 4, d.total, penalizer, u, cov);
  return cov;
}

double BetaGeoBetaBinomModel::log_likelihood(std::span<const double> frequency,
                                             std::span<const double> recency,
                                             std::span<const double> n_periods,
                                             std::span<const double> weights) const {
  detail::check_bgbb(frequency, recency, n_periods, weights);
  if (frequency.empty()) return 0.0;
  const detail::Compressed d = detail::compress(frequency, recency, n_periods, weights);
  const double u[4] = {std::log(params_.alpha), std::log(params_.beta), std::log(params_.gamma),
                       std::log(params_.delta)};
  return grouped(d, u, nullptr);
}

std::vector<double> BetaGeoBetaBinomModel::log_likelihood_gradient(
    std::span<const double> frequency, std::span<const double> recency,
    std::span<const double> n_periods, std::span<const double> weights) const {
  detail::check_bgbb(frequency, recency, n_periods, weights);
  std::vector<double> g(4, 0.0);
  if (frequency.empty()) return g;
  const detail::Compressed d = detail::compress(frequency, recency, n_periods, weights);
  const double th[4] = {params_.alpha, params_.beta, params_.gamma, params_.delta};
  const double u[4] = {std::log(th[0]), std::log(th[1]), std::log(th[2]), std::log(th[3])};
  grouped(d, u, g.data());
  for (int k = 0; k < 4; ++k) g[k] /= th[k];
  return g;
}

std::vector<double> BetaGeoBetaBinomModel::individual_log_likelihood(
    std::span<const double> frequency, std::span<const double> recency,
    std::span<const double> n_periods) const {
  detail::check_bgbb(frequency, recency, n_periods, {});
  const double p[4] = {params_.alpha, params_.beta, params_.gamma, params_.delta};
  const Consts c(p, false);
  std::vector<double> out(frequency.size());
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = row_loglik(c, frequency[i], recency[i], n_periods[i], nullptr);
  return out;
}

std::vector<double> BetaGeoBetaBinomModel::conditional_probability_alive(
    std::span<const double> frequency, std::span<const double> recency,
    std::span<const double> n_periods, double m_periods_in_future,
    ImpossibleHistories histories) const {
  check_periods(m_periods_in_future, "m_periods_in_future");
  detail::check_bgbb(frequency, recency, n_periods, {}, histories == ImpossibleHistories::evaluate);
  const double p[4] = {params_.alpha, params_.beta, params_.gamma, params_.delta};
  const Consts c(p, false);
  std::vector<double> out(frequency.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const double x = frequency[i], n = n_periods[i];
    const double ll = row_loglik(c, x, recency[i], n, nullptr);
    const double la = lbeta(c.al + x, c.be + n - x) - c.lb_ab +
                      lbeta(c.ga, c.de + n + m_periods_in_future) - c.lb_gd;
    out[i] = std::min(1.0, std::exp(la - ll));
  }
  return out;
}

std::vector<double> BetaGeoBetaBinomModel::conditional_expected_number_of_purchases_up_to_time(
    double m_periods_in_future, std::span<const double> frequency,
    std::span<const double> recency, std::span<const double> n_periods) const {
  return conditional_expected_number_of_purchases_up_to_time(m_periods_in_future, frequency, recency,
                                                             n_periods, ImpossibleHistories::reject);
}

std::vector<double> BetaGeoBetaBinomModel::conditional_expected_number_of_purchases_up_to_time(
    double m_periods_in_future, std::span<const double> frequency,
    std::span<const double> recency, std::span<const double> n_periods,
    ImpossibleHistories histories) const {
  check_periods(m_periods_in_future, "m_periods_in_future");
  detail::check_bgbb(frequency, recency, n_periods, {}, histories == ImpossibleHistories::evaluate);
  const double p[4] = {params_.alpha, params_.beta, params_.gamma, params_.delta};
  const Consts c(p, false);
  std::vector<double> out(frequency.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const double x = frequency[i], n = n_periods[i];
    if (m_periods_in_future == 0) {
      out[i] = 0;
      continue;
    }
    const double ll = row_loglik(c, x, recency[i], n, nullptr);
    const double log_lead = lbeta(c.al + x + 1, c.be + n - x) - c.lb_ab - ll;
    out[i] = std::exp(log_lead + detail::log_bb_alive_sum(c.ga, c.de, n, m_periods_in_future));
  }
  return out;
}

std::vector<double> BetaGeoBetaBinomModel::expected_number_of_transactions_in_first_n_periods(
    std::span<const double> n) const {
  std::vector<double> out(n.size());
  const double share = params_.alpha / (params_.alpha + params_.beta);
  for (std::size_t i = 0; i < n.size(); ++i) {
    check_periods(n[i], "n");
    out[i] = share * detail::bb_alive_sum(params_.gamma, params_.delta, 0, n[i]);
  }
  return out;
}

double BetaGeoBetaBinomModel::probability_of_n_purchases_up_to_time(double n, double x) const {
  check_periods(n, "n");
  check_periods(x, "x");
  if (x > n) throw_invalid("x", "must be <= n");
  const double al = params_.alpha, be = params_.beta, ga = params_.gamma, de = params_.delta;
  const double lb_ab = lbeta(al, be), lb_gd = lbeta(ga, de), lgx = lgamma_(x + 1);
  auto lchoose = [&](double N) { return lgamma_(N + 1) - lgx - lgamma_(N - x + 1); };
  double acc = lchoose(n) + lbeta(al + x, be + n - x) - lb_ab + lbeta(ga, de + n) - lb_gd;
  for (double i = x; i < n; i += 1)
    acc = detail::logaddexp(acc, lchoose(i) + lbeta(al + x, be + i - x) - lb_ab +
                                     lbeta(ga + 1, de + i) - lb_gd);
  const double out = std::exp(acc);
  return std::isfinite(out) ? std::min(1.0, out) : 0.0;
}

}  // namespace v0
}  // namespace crmkit
