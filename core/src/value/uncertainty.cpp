// Confidence intervals for the models' predictions and CLV (crmkit/value/uncertainty.hpp): the
// covariance of the log-parameters, the delta method and the parametric bootstrap.
#include "crmkit/value/uncertainty.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "crmkit/base/error.hpp"
#include "internal.hpp"

namespace crmkit {
inline namespace v0 {

namespace {

using Vec = std::vector<double>;
// Natural-scale parameters -> the prediction (one value per row).
using Predict = std::function<Vec(const Vec&)>;

// ---- the models as parameter vectors ---------------------------------------------------------

struct Family {
  Vec params;
  // A prediction of this family at other parameters.
  std::function<std::unique_ptr<TransactionModel>(const Vec&)> make;
};

Family family_of(const TransactionModel& m) {
  if (const auto* p = dynamic_cast<const BetaGeoModel*>(&m)) {
    const auto& q = p->params();
    return {{q.r, q.alpha, q.a, q.b}, [](const Vec& v) -> std::unique_ptr<TransactionModel> {
              return std::make_unique<BetaGeoModel>(BetaGeoParams{v[0], v[1], v[2], v[3]});
            }};
  }
  if (const auto* p = dynamic_cast<const ModifiedBetaGeoModel*>(&m)) {
    const auto& q = p->params();
    return {{q.r, q.alpha, q.a, q.b}, [](const Vec& v) -> std::unique_ptr<TransactionModel> {
              return std::make_unique<ModifiedBetaGeoModel>(
                  ModifiedBetaGeoParams{v[0], v[1], v[2], v[3]});
            }};
  }
  if (const auto* p = dynamic_cast<const ParetoNBDModel*>(&m)) {
    const auto& q = p->params();
    return {{q.r, q.alpha, q.s, q.beta}, [](const Vec& v) -> std::unique_ptr<TransactionModel> {
              return std::make_unique<ParetoNBDModel>(ParetoNBDParams{v[0], v[1], v[2], v[3]});
            }};
  }
  if (const auto* p = dynamic_cast<const BetaGeoBetaBinomModel*>(&m)) {
    const auto& q = p->params();
    return {{q.alpha, q.beta, q.gamma, q.delta},
            [](const Vec& v) -> std::unique_ptr<TransactionModel> {
              return std::make_unique<BetaGeoBetaBinomModel>(
                  BetaGeoBetaBinomParams{v[0], v[1], v[2], v[3]});
            }};
  }
  throw_invalid("transaction_model",
                "must be a BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel or "
                "BetaGeoBetaBinomModel");
}

// ---- checks ---------------------------------------------------------------------------------

void check_covariance(std::span<const double> cov, std::size_t k, const char* field) {
  if (cov.size() != k * k)
    throw_invalid(field, "must hold " + std::to_string(k * k) + " values (a " +
                             std::to_string(k) + " x " + std::to_string(k) +
                             " matrix), got " + std::to_string(cov.size()));
  for (std::size_t i = 0; i < cov.size(); ++i)
    if (!std::isfinite(cov[i]))
      throw_invalid(field, "is not finite (entry " + std::to_string(i) +
                               "): the fit's Hessian is not negative definite, so its "
                               "parameters have no covariance and no interval");
  for (std::size_t i = 0; i < k; ++i) {
    if (cov[i * k + i] < 0)
      throw_invalid(field, "has a negative variance (entry " + std::to_string(i * k + i) + ")");
    for (std::size_t j = i + 1; j < k; ++j) {
      const double a = cov[i * k + j], b = cov[j * k + i];
      if (std::fabs(a - b) > 1e-9 * std::max({1.0, std::fabs(a), std::fabs(b)}))
        throw_invalid(field, "is not symmetric (entries " + std::to_string(i * k + j) + " and " +
                                 std::to_string(j * k + i) + ")");
    }
  }
}

void check_options(const IntervalOptions& o) {
  if (!(o.level > 0 && o.level < 1)) throw_invalid("level", "must be in (0, 1)");
  if (o.method == IntervalMethod::bootstrap && o.n_boot < 2)
    throw_invalid("n_boot", "must be >= 2");
  if (o.method != IntervalMethod::delta && o.method != IntervalMethod::bootstrap)
    throw_invalid("method", "must be delta or bootstrap");
}

// ---- normal quantile and draws --------------------------------------------------------------

// Inverse of the standard normal CDF (Acklam's rational approximation refined by one Halley
// step: relative error below 1e-15).
double normal_quantile(double p) {
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                             -2.759285104469687e+02, 1.383577518672690e+02,
                             -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                             -1.556989798598866e+02, 6.680131188771972e+01,
                             -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                             -2.400758277161838e+00, -2.549732539343734e+00,
                             4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  double x;
  if (p < 0.02425) {
    const double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - 0.02425) {
    const double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const double q = std::sqrt(-2 * std::log1p(-p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const double e = 0.5 * std::erfc(-x / std::numbers::sqrt2) - p;
  const double u = e * std::sqrt(2 * std::numbers::pi) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

// Standard normal draws from mt19937_64 by Box-Muller: the same numbers on every platform.
class Normals {
 public:
  explicit Normals(std::uint64_t seed) : gen_(seed) {}
  double next() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1;
    do u1 = uniform(); while (u1 <= 0.0);
    const double u2 = uniform();
    const double rad = std::sqrt(-2.0 * std::log(u1)), ang = 2.0 * std::numbers::pi * u2;
    spare_ = rad * std::sin(ang);
    has_spare_ = true;
    return rad * std::cos(ang);
  }

 private:
  double uniform() { return static_cast<double>(gen_() >> 11) * 0x1.0p-53; }
  std::mt19937_64 gen_;
  double spare_ = 0;
  bool has_spare_ = false;
};

// Lower Cholesky factor of a symmetric positive semi-definite k x k matrix (zero pivots allowed).
Vec cholesky(std::span<const double> a, std::size_t k, const char* field) {
  Vec L(k * k, 0.0);
  for (std::size_t j = 0; j < k; ++j) {
    double s = a[j * k + j];
    for (std::size_t m = 0; m < j; ++m) s -= L[j * k + m] * L[j * k + m];
    const double tol = 1e-12 * std::max(1.0, std::fabs(a[j * k + j]));
    if (s < -tol) throw_invalid(field, "is not positive semi-definite");
    const double ljj = s > 0 ? std::sqrt(s) : 0.0;
    L[j * k + j] = ljj;
    for (std::size_t i = j + 1; i < k; ++i) {
      double t = a[i * k + j];
      for (std::size_t m = 0; m < j; ++m) t -= L[i * k + m] * L[j * k + m];
      L[i * k + j] = ljj > 0 ? t / ljj : 0.0;
    }
  }
  return L;
}

// Linear-interpolation quantile of sorted values (numpy's default).
double quantile_sorted(const Vec& v, double q) {
  const double pos = q * static_cast<double>(v.size() - 1);
  const std::size_t lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

// ---- the two methods ------------------------------------------------------------------------

enum class Scale { log, logit };

constexpr double kMaxBootstrapValues = 1e8;  // n_boot x rows, 800 MB of draws

Intervals intervals(const Vec& params, std::span<const double> cov, const Predict& predict,
                    Scale scale, const IntervalOptions& o) {
  const std::size_t k = params.size();
  Intervals out;
  out.estimate = predict(params);
  const std::size_t n = out.estimate.size();
  out.lower.resize(n);
  out.upper.resize(n);
  out.standard_error.resize(n);
  if (o.method == IntervalMethod::delta) {
    // Gradient in log-parameters by central differences.
    const double h = 1e-4;
    std::vector<Vec> grad(k);
    for (std::size_t j = 0; j < k; ++j) {
      Vec up = params, um = params;
      up[j] = params[j] * std::exp(h);
      um[j] = params[j] * std::exp(-h);
      const Vec fp = predict(up), fm = predict(um);
      grad[j].resize(n);
      for (std::size_t i = 0; i < n; ++i) grad[j][i] = (fp[i] - fm[i]) / (2 * h);
    }
    const double z = normal_quantile(0.5 + o.level / 2);
    for (std::size_t i = 0; i < n; ++i) {
      double var = 0;
      for (std::size_t a = 0; a < k; ++a)
        for (std::size_t b = 0; b < k; ++b) var += grad[a][i] * cov[a * k + b] * grad[b][i];
      const double se = std::sqrt(std::max(var, 0.0));
      const double e = out.estimate[i];
      out.standard_error[i] = se;
      if (se == 0) {
        out.lower[i] = out.upper[i] = e;
        continue;
      }
      if (scale == Scale::log) {
        // log g: se_log = se / g.
        if (!(e > 0)) {
          out.lower[i] = out.upper[i] = e;
          continue;
        }
        const double sl = se / e;
        out.lower[i] = e * std::exp(-z * sl);
        out.upper[i] = e * std::exp(z * sl);
      } else {
        if (!(e > 0 && e < 1)) {
          out.lower[i] = out.upper[i] = e;
          continue;
        }
        const double sl = se / (e * (1 - e));
        const double lg = std::log(e / (1 - e));
        out.lower[i] = detail::inv_one_plus_exp(-(lg - z * sl));
        out.upper[i] = detail::inv_one_plus_exp(-(lg + z * sl));
      }
    }
    return out;
  }
  // Parametric bootstrap on the log scale. The draws are kept (n_boot x rows doubles) for the
  // per-row quantiles: bounded, so that a large call fails clearly instead of exhausting memory.
  if (static_cast<double>(o.n_boot) * static_cast<double>(n) > kMaxBootstrapValues)
    throw_invalid("n_boot", "n_boot x rows = " + std::to_string(o.n_boot) + " x " +
                                std::to_string(n) +
                                " exceeds 100,000,000 values; pass fewer rows per call");
  const Vec L = cholesky(cov, k, "cov_log");
  Normals normals(o.seed);
  const std::size_t B = static_cast<std::size_t>(o.n_boot);
  Vec draws(B * n);  // draw-major
  Vec z(k), th(k);
  // A draw where the prediction does not exist (it throws, or gives a non-finite value: a
  // Gamma-Gamma q <= 1 has no expected spend) is rejected and drawn again; at most 10 * n_boot
  // draws in all.
  std::size_t b = 0, tries = 0;
  while (b < B) {
    if (++tries > 10 * B)
      throw_invalid("n_boot", "more than 9 in 10 parameter draws give no prediction (the "
                              "prediction does not exist for most of the parameters' "
                              "sampling distribution)");
    for (std::size_t j = 0; j < k; ++j) z[j] = normals.next();
    for (std::size_t i = 0; i < k; ++i) {
      double s = 0;
      for (std::size_t j = 0; j <= i; ++j) s += L[i * k + j] * z[j];
      // Keep the draw inside the optimiser's box exp(+-30) so every model can be built.
      th[i] = std::exp(std::clamp(std::log(params[i]) + s, -30.0, 30.0));
    }
    Vec f;
    try {
      f = predict(th);
    } catch (const Error&) {
      continue;
    }
    if (!std::all_of(f.begin(), f.end(), [](double v) { return std::isfinite(v); })) continue;
    std::copy(f.begin(), f.end(), draws.begin() + static_cast<std::ptrdiff_t>(b * n));
    ++b;
  }
  Vec col(B);
  const double qlo = (1 - o.level) / 2, qhi = (1 + o.level) / 2;
  for (std::size_t i = 0; i < n; ++i) {
    double mean = 0;
    for (std::size_t b = 0; b < B; ++b) {
      col[b] = draws[b * n + i];
      mean += col[b];
    }
    mean /= static_cast<double>(B);
    double ss = 0;
    for (double v : col) ss += (v - mean) * (v - mean);
    out.standard_error[i] = std::sqrt(ss / static_cast<double>(B - 1));
    std::sort(col.begin(), col.end());
    out.lower[i] = quantile_sorted(col, qlo);
    out.upper[i] = quantile_sorted(col, qhi);
  }
  return out;
}

}  // namespace

// ---- covariance -----------------------------------------------------------------------------

namespace {

// A model's covariance (natural scale, models.hpp: the same central differences of the analytic
// gradient in log-parameters) on the log scale: cov_ij / (theta_i theta_j).
Vec log_scale(Vec cov, const Vec& theta) {
  const std::size_t k = theta.size();
  for (std::size_t i = 0; i < k; ++i)
    for (std::size_t j = 0; j < k; ++j) cov[i * k + j] /= theta[i] * theta[j];
  return cov;
}

void check_penalizer(double penalizer) {
  if (!(penalizer >= 0) || !std::isfinite(penalizer))
    throw_invalid("penalizer", "must be finite and >= 0");
}

}  // namespace

std::vector<double> log_parameter_covariance(const BetaGeoModel& model,
                                             std::span<const double> frequency,
                                             std::span<const double> recency,
                                             std::span<const double> T,
                                             std::span<const double> weights, double penalizer) {
  check_penalizer(penalizer);
  const auto& p = model.params();
  return log_scale(model.covariance(frequency, recency, T, weights, penalizer),
                   {p.r, p.alpha, p.a, p.b});
}

std::vector<double> log_parameter_covariance(const ModifiedBetaGeoModel& model,
                                             std::span<const double> frequency,
                                             std::span<const double> recency,
                                             std::span<const double> T,
                                             std::span<const double> weights, double penalizer) {
  check_penalizer(penalizer);
  const auto& p = model.params();
  return log_scale(model.covariance(frequency, recency, T, weights, penalizer),
                   {p.r, p.alpha, p.a, p.b});
}

std::vector<double> log_parameter_covariance(const ParetoNBDModel& model,
                                             std::span<const double> frequency,
                                             std::span<const double> recency,
                                             std::span<const double> T,
                                             std::span<const double> weights, double penalizer) {
  check_penalizer(penalizer);
  const auto& p = model.params();
  return log_scale(model.covariance(frequency, recency, T, weights, penalizer),
                   {p.r, p.alpha, p.s, p.beta});
}

std::vector<double> log_parameter_covariance(const BetaGeoBetaBinomModel& model,
                                             std::span<const double> frequency,
                                             std::span<const double> recency,
                                             std::span<const double> n_periods,
                                             std::span<const double> weights, double penalizer) {
  check_penalizer(penalizer);
  const auto& p = model.params();
  return log_scale(model.covariance(frequency, recency, n_periods, weights, penalizer),
                   {p.alpha, p.beta, p.gamma, p.delta});
}

std::vector<double> log_parameter_covariance(const GammaGammaModel& model,
                                             std::span<const double> frequency,
                                             std::span<const double> monetary_value,
                                             std::span<const double> weights, double penalizer) {
  check_penalizer(penalizer);
  const auto& p = model.params();
  return log_scale(model.covariance(frequency, monetary_value, weights, penalizer),
                   {p.p, p.q, p.v});
}

// ---- intervals ------------------------------------------------------------------------------

Intervals conditional_expected_number_of_purchases_interval(
    const TransactionModel& transaction_model, std::span<const double> cov_log, double t,
    std::span<const double> frequency, std::span<const double> recency, std::span<const double> T,
    const IntervalOptions& options) {
  const Family fam = family_of(transaction_model);
  check_covariance(cov_log, fam.params.size(), "cov_log");
  check_options(options);
  // Validates the rows and t (and throws) before any perturbed evaluation.
  (void)transaction_model.conditional_expected_number_of_purchases_up_to_time(t, frequency,
                                                                              recency, T);
  const Predict predict = [&](const Vec& th) {
    return fam.make(th)->conditional_expected_number_of_purchases_up_to_time(t, frequency,
                                                                            recency, T);
  };
  return intervals(fam.params, cov_log, predict, Scale::log, options);
}

Intervals conditional_probability_alive_interval(const TransactionModel& transaction_model,
                                                 std::span<const double> cov_log,
                                                 std::span<const double> frequency,
                                                 std::span<const double> recency,
                                                 std::span<const double> T,
                                                 const IntervalOptions& options,
                                                 double m_periods_in_future) {
  const Family fam = family_of(transaction_model);
  check_covariance(cov_log, fam.params.size(), "cov_log");
  check_options(options);
  const bool discrete = dynamic_cast<const BetaGeoBetaBinomModel*>(&transaction_model) != nullptr;
  if (!discrete && m_periods_in_future != 0)
    throw_invalid("m_periods_in_future", "must be 0 for a continuous-time model");
  const Predict predict = [&](const Vec& th) -> Vec {
    const auto m = fam.make(th);
    if (discrete)
      return static_cast<const BetaGeoBetaBinomModel&>(*m).conditional_probability_alive(
          frequency, recency, T, m_periods_in_future);
    if (const auto* p = dynamic_cast<const BetaGeoModel*>(m.get()))
      return p->conditional_probability_alive(frequency, recency, T);
    if (const auto* p = dynamic_cast<const ModifiedBetaGeoModel*>(m.get()))
      return p->conditional_probability_alive(frequency, recency, T);
    return static_cast<const ParetoNBDModel&>(*m).conditional_probability_alive(frequency,
                                                                                recency, T);
  };
  (void)predict(fam.params);  // validates the rows before any perturbed evaluation
  return intervals(fam.params, cov_log, predict, Scale::logit, options);
}

Intervals customer_lifetime_value_interval(const GammaGammaModel& spend_model,
                                           std::span<const double> spend_cov_log,
                                           const TransactionModel& transaction_model,
                                           std::span<const double> transaction_cov_log,
                                           std::span<const double> frequency,
                                           std::span<const double> recency,
                                           std::span<const double> T,
                                           std::span<const double> monetary_value,
                                           const ClvOptions& clv_options,
                                           const IntervalOptions& options) {
  const Family fam = family_of(transaction_model);
  const std::size_t kt = fam.params.size();
  check_covariance(spend_cov_log, 3, "spend_cov_log");
  check_covariance(transaction_cov_log, kt, "transaction_cov_log");
  check_options(options);
  (void)spend_model.customer_lifetime_value(transaction_model, frequency, recency, T,
                                            monetary_value, clv_options);
  // Joint parameters: p, q, v, then the transaction model's; block-diagonal covariance.
  const auto& sp = spend_model.params();
  Vec params = {sp.p, sp.q, sp.v};
  params.insert(params.end(), fam.params.begin(), fam.params.end());
  const std::size_t k = params.size();
  Vec cov(k * k, 0.0);
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 3; ++j) cov[i * k + j] = spend_cov_log[i * 3 + j];
  for (std::size_t i = 0; i < kt; ++i)
    for (std::size_t j = 0; j < kt; ++j) cov[(3 + i) * k + 3 + j] = transaction_cov_log[i * kt + j];
  const Predict predict = [&](const Vec& th) {
    const GammaGammaModel g(GammaGammaParams{th[0], th[1], th[2]});
    const auto m = fam.make(Vec(th.begin() + 3, th.end()));
    return g.customer_lifetime_value(*m, frequency, recency, T, monetary_value, clv_options);
  };
  return intervals(params, cov, predict, Scale::log, options);
}

}  // namespace v0
}  // namespace crmkit
