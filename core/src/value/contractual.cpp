// sBG and BdW retention models (crmkit/value/contractual.hpp). One implementation serves both:
// the sBG is the BdW with c fixed at 1 (k = 2 free parameters instead of 3).
#include "crmkit/value/contractual.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "crmkit/base/error.hpp"
#include "fields.hpp"
#include "internal.hpp"

namespace crmkit {
inline namespace v0 {

namespace {

using detail::digamma;
using detail::lbeta;
using detail::num;

constexpr const char* kSbgNames[2] = {"params.alpha", "params.beta"};
constexpr const char* kBdwNames[3] = {"params.alpha", "params.beta", "params.c"};
constexpr double kInf = std::numeric_limits<double>::infinity();

std::string cohort_field(const char* name, std::size_t cohort, std::size_t t, bool many) {
  if (many) return std::string(name) + "[" + std::to_string(cohort) + "][" + std::to_string(t) + "]";
  return detail::row_field(name, t);
}

// Validates one cohort's survivor counts (see "Data" in contractual.hpp).
void check_cohort(std::span<const double> s, const char* name, std::size_t cohort, bool many) {
  const std::string whole = many ? std::string(name) + "[" + std::to_string(cohort) + "]" : name;
  if (s.size() < 2)
    throw_invalid(whole, "must hold at least two counts (the cohort at period 0 and at period 1), "
                         "got " + std::to_string(s.size()));
  for (std::size_t t = 0; t < s.size(); ++t) {
    const double v = s[t];
    if (!std::isfinite(v) || v < 0)
      throw_invalid(cohort_field(name, cohort, t, many),
                    "must be finite and >= 0 (a number of customers), got " + num(v));
    if (t == 0 && !(v > 0))
      throw_invalid(cohort_field(name, cohort, t, many),
                    "the cohort's initial size must be > 0, got " + num(v));
    if (t > 0 && v > s[t - 1])
      throw_invalid(cohort_field(name, cohort, t, many),
                    num(v) + " is more than the " + num(s[t - 1]) + " active at period " +
                        std::to_string(t - 1) + " (survivor counts must not increase)");
  }
}

void check_cohorts(std::span<const std::vector<double>> cohorts) {
  if (cohorts.empty()) throw_invalid("cohorts", "must hold at least one cohort");
  for (std::size_t i = 0; i < cohorts.size(); ++i) check_cohort(cohorts[i], "cohorts", i, true);
}

void check_periods(std::span<const double> t, double min) {
  for (std::size_t i = 0; i < t.size(); ++i)
    if (!detail::is_integer(t[i]) || t[i] < min)
      throw_invalid(detail::row_field("t", i),
                    std::string(min == 0 ? "must be a non-negative integer"
                                         : "must be an integer >= 1") +
                        ", got " + num(t[i]));
}

void check_renewals(double renewals) {
  if (!detail::is_integer(renewals) || renewals < 0)
    throw_invalid("renewals", "must be a non-negative integer, got " + num(renewals));
}

// The sBG takes 0 or [1e-6, 1e6]; the BdW (term by term, a log-Beta per term) [1e-4, 1e6].
void check_discount(double d, bool sbg) {
  const double lo = sbg ? 1e-6 : 1e-4;
  if (!std::isfinite(d) || d < 0 || d > 1e6 || (d < lo && !(sbg && d == 0)))
    throw_invalid("discount_rate", std::string(sbg ? "must be 0 or in [1e-6, 1e6]"
                                                   : "must be in [1e-4, 1e6]") +
                                       ", got " + num(d));
}

// log S(t) and its gradient in (alpha, beta, c) for theta ~ Beta(alpha, beta), x = beta + t^c.
struct Curve {
  double a, b, c;
  double lb0, dg_ab = 0, dg_b = 0;
  Curve(double alpha, double beta, double cc, bool derivs)
      : a(alpha), b(beta), c(cc), lb0(lbeta(alpha, beta)) {
    if (derivs) {
      dg_ab = digamma(a + b);
      dg_b = digamma(b);
    }
  }
  double x_of(double t) const { return b + (c == 1 ? t : std::pow(t, c)); }
  double log_s(double t) const {
    if (t == 0) return 0.0;
    const double x = x_of(t);
    if (!std::isfinite(x)) return -kInf;
    return lbeta(a, x) - lb0;
  }
  // d log S(t) / d(alpha, beta, c) into g[0..2].
  void grad(double t, double g[3]) const {
    if (t == 0) {
      g[0] = g[1] = g[2] = 0;
      return;
    }
    const double tc = c == 1 ? t : std::pow(t, c);
    const double x = b + tc;
    const double dx = digamma(x) - digamma(a + x);
    g[0] = dg_ab - digamma(a + x);
    g[1] = dx - dg_b + dg_ab;
    g[2] = dx * tc * std::log(t);
  }
};

// Log-likelihood of the cohorts; adds d ll / d(natural params) into g[0..2] if g is non-null.
double cohort_loglik(const Curve& cv, std::span<const std::vector<double>> cohorts, double* g) {
  double total = 0;
  double gp[3] = {0, 0, 0}, gc[3] = {0, 0, 0};
  for (const std::vector<double>& s : cohorts) {
    double lprev = 0;  // log S(0)
    if (g) cv.grad(0, gp);
    for (std::size_t t = 1; t < s.size(); ++t) {
      const double lcur = cv.log_s(static_cast<double>(t));
      if (g) cv.grad(static_cast<double>(t), gc);
      const double lost = s[t - 1] - s[t];
      if (lost > 0) {
        // log P(T = t) = log S(t-1) + log(1 - q), q = S(t) / S(t-1).
        const double dl = lcur - lprev;
        const double one_minus_q = -std::expm1(dl);
        total += lost * (lprev + std::log(one_minus_q));
        if (g) {
          const double q = std::exp(dl);
          for (int k = 0; k < 3; ++k) g[k] += lost * (gp[k] - q * gc[k]) / one_minus_q;
        }
      }
      lprev = lcur;
      if (g) std::copy(gc, gc + 3, gp);
    }
    const double last = s.back();
    if (last > 0) {
      total += last * lprev;
      if (g)
        for (int k = 0; k < 3; ++k) g[k] += last * gp[k];
    }
  }
  return total;
}

double total_initial(std::span<const std::vector<double>> cohorts) {
  double n = 0;
  for (const auto& s : cohorts) n += s[0];
  return n;
}

// Why the cohorts carry too little information for k parameters (nullptr if they do not).
const char* no_information(std::span<const std::vector<double>> cohorts, std::size_t k) {
  bool any_lost = false, all_gone_at_1 = true, lost_after_1 = false;
  std::size_t periods = 0;
  for (const auto& s : cohorts) {
    any_lost = any_lost || s.back() < s.front();
    all_gone_at_1 = all_gone_at_1 && s[1] == 0;
    lost_after_1 = lost_after_1 || s.back() < s[1];
    periods = std::max(periods, s.size() - 1);
  }
  if (!any_lost)
    return "no information: nobody churned in any cohort, so the likelihood rises without bound "
           "as beta grows";
  if (all_gone_at_1)
    return "no information: every customer churned in period 1, so the likelihood rises without "
           "bound as beta falls to 0";
  if (periods < k)
    return k == 2 ? "no information: every cohort is observed for 1 period, which identifies "
                    "alpha / (alpha + beta) but not alpha and beta"
                  : "no information: every cohort is observed for fewer than 3 periods, which "
                    "cannot identify alpha, beta and c";
  if (!lost_after_1)
    return "no information: nobody churned after period 1, so the likelihood rises without bound "
           "as alpha and beta fall to 0 (customers who leave at once and customers who never do)";
  return nullptr;
}

// Fits (alpha, beta) with c = 1 (k = 2) or (alpha, beta, c) (k = 3).
detail::FitResult fit_curve(std::span<const std::vector<double>> cohorts, std::size_t k,
                            const FitOptions& options) {
  detail::check_options(options, k);
  const detail::LogLik ll = [&](const double* u, double* grad) {
    const double a = std::exp(u[0]), b = std::exp(u[1]), c = k == 3 ? std::exp(u[2]) : 1.0;
    const Curve cv(a, b, c, grad != nullptr);
    double g[3] = {0, 0, 0};
    const double v = cohort_loglik(cv, cohorts, grad ? g : nullptr);
    if (grad) {
      grad[0] = g[0] * a;
      grad[1] = g[1] * b;
      if (k == 3) grad[2] = g[2] * c;
    }
    return v;
  };
  detail::FitResult res = detail::maximize(ll, k, total_initial(cohorts), options);
  // Data without a finite maximum or that cannot identify k parameters, whatever the optimiser
  // said (models.hpp "Degenerate fits"; contractual.hpp "Fitting").
  if (const char* reason = no_information(cohorts, k)) detail::mark_not_converged(res.report, reason);
  return res;
}

std::vector<double> survival(const Curve& cv, std::span<const double> t) {
  check_periods(t, 0);
  std::vector<double> out(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) out[i] = std::exp(cv.log_s(t[i]));
  return out;
}

std::vector<double> retention(const Curve& cv, std::span<const double> t) {
  check_periods(t, 1);
  std::vector<double> out(t.size());
  for (std::size_t i = 0; i < t.size(); ++i)
    out[i] = std::exp(cv.log_s(t[i]) - cv.log_s(t[i] - 1));
  return out;
}

std::vector<double> churn(const Curve& cv, std::span<const double> t) {
  check_periods(t, 1);
  std::vector<double> out(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) {
    const double lp = cv.log_s(t[i] - 1), lc = cv.log_s(t[i]);
    out[i] = lp == -kInf ? 0.0 : std::exp(lp) * -std::expm1(lc - lp);
  }
  return out;
}

// sum_{k>=0} S(n+1+k)/S(n) z^k by terms, stopping once the tail bound S(n+1+K)/S(n) z^K/(1-z) is
// below 1e-15 of the sum.
double dert_sum(const Curve& cv, double d, double n) {
  const double z = 1.0 / (1.0 + d), lz = std::log(z), ln = cv.log_s(n);
  const double tail_factor = (1.0 + d) / d;  // 1 / (1 - z)
  double sum = 0;
  for (double k = 0;; k += 1) {
    const double term = std::exp(cv.log_s(n + 1 + k) - ln + k * lz);
    if (term * tail_factor <= 1e-15 * sum || term == 0) break;
    sum += term;
  }
  return sum;
}

}  // namespace

std::vector<double> survivors_from_lost(double initial, std::span<const double> lost) {
  if (!std::isfinite(initial) || !(initial > 0))
    throw_invalid("initial", "must be finite and > 0, got " + num(initial));
  std::vector<double> out;
  out.reserve(lost.size() + 1);
  out.push_back(initial);
  for (std::size_t t = 0; t < lost.size(); ++t) {
    const double v = lost[t];
    if (!std::isfinite(v) || v < 0)
      throw_invalid(detail::row_field("lost", t), "must be finite and >= 0, got " + num(v));
    if (v > out.back())
      throw_invalid(detail::row_field("lost", t),
                    num(v) + " is more than the " + num(out.back()) +
                        " customers still active at period " + std::to_string(t));
    out.push_back(out.back() - v);
  }
  return out;
}

// ---- sBG ------------------------------------------------------------------------------------

ShiftedBetaGeometricModel::ShiftedBetaGeometricModel(const ShiftedBetaGeometricParams& params)
    : params_(params) {
  const double v[2] = {params.alpha, params.beta};
  detail::check_params(v, kSbgNames);
  se_ = {NAN, NAN};
}

ShiftedBetaGeometricModel::ShiftedBetaGeometricModel(
    const ShiftedBetaGeometricParams& params, const ShiftedBetaGeometricParams& standard_errors,
    FitReport report)
    : ShiftedBetaGeometricModel(params) {
  const double se[2] = {standard_errors.alpha, standard_errors.beta};
  detail::check_standard_error_values(se, kSbgNames);
  se_ = standard_errors;
  report_ = std::move(report);
}

ShiftedBetaGeometricModel ShiftedBetaGeometricModel::fit(std::span<const double> survivors,
                                                         const FitOptions& options) {
  check_cohort(survivors, "survivors", 0, false);
  const std::vector<double> one[1] = {std::vector<double>(survivors.begin(), survivors.end())};
  detail::check_options(options, 2);
  const detail::FitResult r = fit_curve(one, 2, options);
  return ShiftedBetaGeometricModel({r.params[0], r.params[1]}, {r.se[0], r.se[1]}, r.report);
}

ShiftedBetaGeometricModel ShiftedBetaGeometricModel::fit_cohorts(
    std::span<const std::vector<double>> cohorts, const FitOptions& options) {
  check_cohorts(cohorts);
  const detail::FitResult r = fit_curve(cohorts, 2, options);
  return ShiftedBetaGeometricModel({r.params[0], r.params[1]}, {r.se[0], r.se[1]}, r.report);
}

double ShiftedBetaGeometricModel::log_likelihood(std::span<const double> survivors) const {
  check_cohort(survivors, "survivors", 0, false);
  const std::vector<double> one[1] = {std::vector<double>(survivors.begin(), survivors.end())};
  return cohort_loglik(Curve(params_.alpha, params_.beta, 1, false), one, nullptr);
}

double ShiftedBetaGeometricModel::log_likelihood_cohorts(
    std::span<const std::vector<double>> cohorts) const {
  check_cohorts(cohorts);
  return cohort_loglik(Curve(params_.alpha, params_.beta, 1, false), cohorts, nullptr);
}

std::vector<double> ShiftedBetaGeometricModel::survival_function(std::span<const double> t) const {
  return survival(Curve(params_.alpha, params_.beta, 1, false), t);
}

std::vector<double> ShiftedBetaGeometricModel::retention_rate(std::span<const double> t) const {
  check_periods(t, 1);
  std::vector<double> out(t.size());
  const double a = params_.alpha, b = params_.beta;
  for (std::size_t i = 0; i < t.size(); ++i) out[i] = (b + t[i] - 1) / (a + b + t[i] - 1);
  return out;
}

std::vector<double> ShiftedBetaGeometricModel::churn_probability(std::span<const double> t) const {
  check_periods(t, 1);
  std::vector<double> out(t.size());
  const double a = params_.alpha, b = params_.beta, lb0 = lbeta(a, b);
  for (std::size_t i = 0; i < t.size(); ++i) out[i] = std::exp(lbeta(a + 1, b + t[i] - 1) - lb0);
  return out;
}

double ShiftedBetaGeometricModel::expected_lifetime() const {
  const double a = params_.alpha, b = params_.beta;
  return a > 1 ? (a + b - 1) / (a - 1) : kInf;
}

double ShiftedBetaGeometricModel::discounted_expected_residual_lifetime(double discount_rate,
                                                                        double renewals) const {
  check_renewals(renewals);
  check_discount(discount_rate, true);
  const double a = params_.alpha, b = params_.beta, n = renewals;
  if (discount_rate == 0) return a > 1 ? (b + n) / (a - 1) : kInf;
  // 2F1(1, B; C; z) = sum_k (B)_k / (C)_k z^k with B = beta+n+1, C = alpha+beta+n+1: each term
  // ratio (B+k)/(C+k) z is below z, so the tail after a term is below term z / (1 - z).
  const double z = 1.0 / (1.0 + discount_rate), tail = z * (1.0 + discount_rate) / discount_rate;
  const double B = b + n + 1, C = a + b + n + 1;
  double term = 1, sum = 1;
  for (double k = 0; term * tail > 1e-16 * sum; k += 1) {
    term *= (B + k) / (C + k) * z;
    sum += term;
  }
  return (b + n) / (a + b + n) * sum;
}

double ShiftedBetaGeometricModel::discounted_expected_lifetime(double discount_rate) const {
  return 1.0 + discounted_expected_residual_lifetime(discount_rate, 0) / (1.0 + discount_rate);
}

// ---- BdW ------------------------------------------------------------------------------------

BetaDiscreteWeibullModel::BetaDiscreteWeibullModel(const BetaDiscreteWeibullParams& params)
    : params_(params) {
  const double v[3] = {params.alpha, params.beta, params.c};
  detail::check_params(v, kBdwNames);
  se_ = {NAN, NAN, NAN};
}

BetaDiscreteWeibullModel::BetaDiscreteWeibullModel(const BetaDiscreteWeibullParams& params,
                                                   const BetaDiscreteWeibullParams& standard_errors,
                                                   FitReport report)
    : BetaDiscreteWeibullModel(params) {
  const double se[3] = {standard_errors.alpha, standard_errors.beta, standard_errors.c};
  detail::check_standard_error_values(se, kBdwNames);
  se_ = standard_errors;
  report_ = std::move(report);
}

BetaDiscreteWeibullModel BetaDiscreteWeibullModel::fit(std::span<const double> survivors,
                                                       const FitOptions& options) {
  check_cohort(survivors, "survivors", 0, false);
  const std::vector<double> one[1] = {std::vector<double>(survivors.begin(), survivors.end())};
  const detail::FitResult r = fit_curve(one, 3, options);
  return BetaDiscreteWeibullModel({r.params[0], r.params[1], r.params[2]},
                                  {r.se[0], r.se[1], r.se[2]}, r.report);
}

BetaDiscreteWeibullModel BetaDiscreteWeibullModel::fit_cohorts(
    std::span<const std::vector<double>> cohorts, const FitOptions& options) {
  check_cohorts(cohorts);
  const detail::FitResult r = fit_curve(cohorts, 3, options);
  return BetaDiscreteWeibullModel({r.params[0], r.params[1], r.params[2]},
                                  {r.se[0], r.se[1], r.se[2]}, r.report);
}

double BetaDiscreteWeibullModel::log_likelihood(std::span<const double> survivors) const {
  check_cohort(survivors, "survivors", 0, false);
  const std::vector<double> one[1] = {std::vector<double>(survivors.begin(), survivors.end())};
  return cohort_loglik(Curve(params_.alpha, params_.beta, params_.c, false), one, nullptr);
}

double BetaDiscreteWeibullModel::log_likelihood_cohorts(
    std::span<const std::vector<double>> cohorts) const {
  check_cohorts(cohorts);
  return cohort_loglik(Curve(params_.alpha, params_.beta, params_.c, false), cohorts, nullptr);
}

std::vector<double> BetaDiscreteWeibullModel::survival_function(std::span<const double> t) const {
  return survival(Curve(params_.alpha, params_.beta, params_.c, false), t);
}

std::vector<double> BetaDiscreteWeibullModel::retention_rate(std::span<const double> t) const {
  return retention(Curve(params_.alpha, params_.beta, params_.c, false), t);
}

std::vector<double> BetaDiscreteWeibullModel::churn_probability(std::span<const double> t) const {
  return churn(Curve(params_.alpha, params_.beta, params_.c, false), t);
}

double BetaDiscreteWeibullModel::discounted_expected_residual_lifetime(double discount_rate,
                                                                       double renewals) const {
  check_renewals(renewals);
  check_discount(discount_rate, false);
  return dert_sum(Curve(params_.alpha, params_.beta, params_.c, false), discount_rate, renewals);
}

double BetaDiscreteWeibullModel::discounted_expected_lifetime(double discount_rate) const {
  return 1.0 + discounted_expected_residual_lifetime(discount_rate, 0) / (1.0 + discount_rate);
}

}  // namespace v0
}  // namespace crmkit
