// The fit of the covariate models (crmkit/value/covariates.hpp): checks that every covariate column
// is identifiable, centres and scales the columns (a linear change of variables), maximises the
// likelihood with NLopt (analytic gradients) and inverts the Hessian for the standard errors.
#include <nlopt.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "covariates_internal.hpp"
#include "crmkit/base/error.hpp"
#include "fields.hpp"

namespace crmkit {
inline namespace v0 {

namespace {

using detail::CoefBlock;
using detail::Design;

constexpr double kBaseBound = 30.0;   // log base parameters (at the mean covariates) in [-30, 30]
constexpr double kCoefBound = 50.0;   // coefficients per standard deviation of their column

// Column means and standard deviations over the rows of positive weight; throws for a constant
// column or one that is a linear combination of the others (and a constant).
void column_stats(const CovariateMatrix& m, std::span<const double> w, std::size_t n,
                  const char* field, const char* base_name, std::vector<double>& mean,
                  std::vector<double>& sd) {
  const std::size_t k = m.columns.size();
  mean.assign(k, 0.0);
  sd.assign(k, 0.0);
  if (k == 0) return;
  const double* X = m.values.data();
  double count = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!w.empty() && !(w[i] > 0)) continue;
    count += 1;
    for (std::size_t j = 0; j < k; ++j) mean[j] += X[i * k + j];
  }
  for (std::size_t j = 0; j < k; ++j) mean[j] /= count;
  std::vector<double> gram(k * k, 0.0), first(k, std::numeric_limits<double>::quiet_NaN());
  for (std::size_t i = 0; i < n; ++i) {
    if (!w.empty() && !(w[i] > 0)) continue;
    for (std::size_t j = 0; j < k; ++j) {
      if (std::isnan(first[j])) first[j] = X[i * k + j];
      const double dj = X[i * k + j] - mean[j];
      for (std::size_t l = 0; l <= j; ++l) gram[j * k + l] += dj * (X[i * k + l] - mean[l]);
    }
  }
  for (std::size_t j = 0; j < k; ++j) {
    sd[j] = std::sqrt(gram[j * k + j] / count);
    if (!(sd[j] > 1e-12 * std::max(1.0, std::fabs(mean[j]))))
      throw_invalid(std::string(field) + "." + m.columns[j],
                    "is constant (every row is " + detail::num(first[j]) +
                        "); a constant covariate is not identifiable beside " + base_name +
                        ": remove it");
  }
  // Correlation matrix, Cholesky: a pivot near 0 means column j is a combination of the earlier
  // columns and the constant.
  std::vector<double> L(k * k, 0.0);
  for (std::size_t j = 0; j < k; ++j) {
    for (std::size_t l = 0; l <= j; ++l) {
      double v = gram[j * k + l] / count / (sd[j] * sd[l]);
      for (std::size_t t = 0; t < l; ++t) v -= L[j * k + t] * L[l * k + t];
      if (l == j) {
        if (!(v > 1e-10))
          throw_invalid(std::string(field) + "." + m.columns[j],
                        "is a linear combination of the columns before it and a constant, so "
                        "its coefficient is not identifiable: remove it");
        L[j * k + j] = std::sqrt(v);
      } else {
        L[j * k + l] = v / L[l * k + l];
      }
    }
  }
}

// theta = M zeta: zeta are the optimiser's variables (log base parameters at the mean covariates,
// coefficients per standard deviation); theta = (log base, coefficients).
struct Transform {
  std::size_t K = 0;
  std::vector<double> M;  // K x K row-major
  std::vector<double> to_theta(const std::vector<double>& z) const {
    std::vector<double> th(K, 0.0);
    for (std::size_t i = 0; i < K; ++i)
      for (std::size_t j = 0; j < K; ++j) th[i] += M[i * K + j] * z[j];
    return th;
  }
  // zeta from theta: coefficients first (diagonal rows), then the base rows.
  std::vector<double> to_zeta(const std::vector<double>& th) const {
    std::vector<double> z(K, 0.0);
    for (std::size_t c = 4; c < K; ++c) z[c] = th[c] / M[c * K + c];
    for (std::size_t b = 0; b < 4; ++b) {
      double v = th[b];
      for (std::size_t c = 4; c < K; ++c) v -= M[b * K + c] * z[c];
      z[b] = v;
    }
    return z;
  }
};

Transform make_transform(const std::vector<CoefBlock>& blocks, std::size_t K,
                         const std::vector<double>& mp, const std::vector<double>& sp,
                         const std::vector<double>& mq, const std::vector<double>& sq) {
  Transform t{K, std::vector<double>(K * K, 0.0)};
  for (std::size_t b = 0; b < 4; ++b) t.M[b * K + b] = 1.0;
  for (const CoefBlock& blk : blocks)
    for (std::size_t j = 0; j < blk.count; ++j) {
      const double mu = blk.dropout ? mq[j] : mp[j], s = blk.dropout ? sq[j] : sp[j];
      const std::size_t c = blk.first + j;
      t.M[c * K + c] = 1.0 / s;
      // base_i = base * exp(sign gamma' x) = [base * exp(sign gamma' mu)] exp(sign gamma'(x - mu)):
      // log base = zeta_base - sign * gamma * mu, gamma = zeta_c / s.
      t.M[blk.base * K + c] = -blk.sign * mu / s;
    }
  return t;
}

struct Problem {
  const Design* design = nullptr;
  std::span<const double> x, tx, T, w;
  Transform tr;
  double total_weight = 1;
  double penalizer = 0;
  unsigned threads = 0;
  int evaluations = 0;
  // Best point seen (the optimiser returns it).
  bool has_best = false;
  std::vector<double> best_z, best_grad;
  double best_f = 0, best_ll = 0;

  // Log-likelihood at theta (log base, coef) and its gradient in theta.
  double loglik_theta(const std::vector<double>& th, std::vector<double>& g) const {
    const std::size_t K = tr.K;
    double base[4];
    for (int k = 0; k < 4; ++k) base[k] = std::exp(th[k]);
    g.assign(K, 0.0);
    return detail::covariate_loglik(*design, x, tx, T, w, base, th.data() + 4, g.data(), threads);
  }
  // Penalised mean negative log-likelihood at zeta and its gradient in zeta.
  double objective(const double* zp, double* grad, double* ll_out = nullptr) {
    ++evaluations;
    const std::size_t K = tr.K;
    const std::vector<double> z(zp, zp + K);
    const std::vector<double> th = tr.to_theta(z);
    std::vector<double> g;
    const double ll = loglik_theta(th, g);
    double f = -ll / total_weight;
    std::vector<double> gth(K);
    for (std::size_t k = 0; k < K; ++k) {
      gth[k] = -g[k] / total_weight;
      if (k < 4) {
        const double v = std::exp(th[k]);
        f += penalizer * v * v;
        gth[k] += 2.0 * penalizer * v * v;
      } else {
        f += penalizer * th[k] * th[k];
        gth[k] += 2.0 * penalizer * th[k];
      }
    }
    std::vector<double> gz(K, 0.0);  // M^T gth
    for (std::size_t i = 0; i < K; ++i)
      for (std::size_t j = 0; j < K; ++j) gz[j] += tr.M[i * K + j] * gth[i];
    if (!std::isfinite(f)) {
      std::fill(gz.begin(), gz.end(), 0.0);
      f = std::numeric_limits<double>::max();
    }
    if (grad) std::copy(gz.begin(), gz.end(), grad);
    if (ll_out) *ll_out = ll;
    if (!has_best || f < best_f) {
      has_best = true;
      best_z = z;
      best_grad = gz;
      best_f = f;
      best_ll = ll;
    }
    return f;
  }
};

double callback(unsigned, const double* z, double* grad, void* data) {
  return static_cast<Problem*>(data)->objective(z, grad);
}


nlopt_result run(nlopt_algorithm algo, Problem& pb, std::vector<double>& z, const FitOptions& o) {
  const std::size_t K = pb.tr.K;
  nlopt_opt opt = nlopt_create(algo, static_cast<unsigned>(K));
  if (!opt) return NLOPT_OUT_OF_MEMORY;
  std::vector<double> lo(K), hi(K);
  for (std::size_t k = 0; k < K; ++k) {
    const double b = k < 4 ? kBaseBound : kCoefBound;
    lo[k] = -b;
    hi[k] = b;
    z[k] = std::clamp(z[k], -b, b);
  }
  nlopt_set_min_objective(opt, callback, &pb);
  nlopt_set_lower_bounds(opt, lo.data());
  nlopt_set_upper_bounds(opt, hi.data());
  nlopt_set_ftol_rel(opt, o.tolerance);
  nlopt_set_xtol_rel(opt, o.tolerance);
  nlopt_set_maxeval(opt, o.max_iterations);
  if (algo != NLOPT_LD_LBFGS) nlopt_set_initial_step1(opt, 0.5);
  double fmin = 0;
  const nlopt_result r = nlopt_optimize(opt, z.data(), &fmin);
  nlopt_destroy(opt);
  return r;
}

double grad_norm(Problem& pb, const std::vector<double>& z) {
  std::vector<double> g(pb.tr.K);
  pb.objective(z.data(), g.data());
  double s = 0;
  for (double v : g) s += v * v;
  return std::sqrt(s);
}

bool good_stop(nlopt_result r, double g) {
  return (r == NLOPT_SUCCESS || r == NLOPT_FTOL_REACHED || r == NLOPT_XTOL_REACHED ||
          r == NLOPT_STOPVAL_REACHED || r == NLOPT_ROUNDOFF_LIMITED) &&
         std::isfinite(g) && g < 1e-4;
}

// Standard errors at zeta: the Hessian of the penalised total log-likelihood in zeta by central
// differences of the analytic gradient, inverted, mapped to theta (cov_theta = M cov_zeta M^T).
// False (se all NaN) if the Hessian is not negative definite.
bool hessian_standard_errors(Problem& pb, const std::vector<double>& z, std::vector<double>& se) {
  const std::size_t K = pb.tr.K;
  se.assign(K, std::numeric_limits<double>::quiet_NaN());
  std::vector<double> negH(K * K), gp(K), gm(K), zz = z;
  const double h = 1e-5;
  for (std::size_t j = 0; j < K; ++j) {
    zz = z;
    zz[j] = z[j] + h;
    pb.objective(zz.data(), gp.data());
    zz[j] = z[j] - h;
    pb.objective(zz.data(), gm.data());
    // objective = -ll / W + penalty: its Hessian times W is the negative Hessian of the penalised
    // total log-likelihood.
    for (std::size_t i = 0; i < K; ++i) negH[i * K + j] = (gp[i] - gm[i]) / (2 * h) * pb.total_weight;
  }
  for (std::size_t i = 0; i < K; ++i)
    for (std::size_t j = i + 1; j < K; ++j)
      negH[i * K + j] = negH[j * K + i] = 0.5 * (negH[i * K + j] + negH[j * K + i]);
  if (!detail::invert_symmetric(negH, K)) return false;
  for (std::size_t i = 0; i < K; ++i)
    if (!(negH[i * K + i] > 0)) return false;
  const std::vector<double> th = pb.tr.to_theta(z);
  const std::vector<double>& M = pb.tr.M;
  for (std::size_t i = 0; i < K; ++i) {
    double v = 0;  // (M C M^T)_ii
    for (std::size_t a = 0; a < K; ++a) {
      if (M[i * K + a] == 0) continue;
      for (std::size_t b = 0; b < K; ++b) v += M[i * K + a] * negH[a * K + b] * M[i * K + b];
    }
    if (!(v > 0)) {
      se.assign(K, std::numeric_limits<double>::quiet_NaN());
      return false;
    }
    se[i] = (i < 4 ? std::exp(th[i]) : 1.0) * std::sqrt(v);
  }
  return true;
}

void check_fit_options(const FitOptions& o, std::size_t K, const std::vector<std::string>& names) {
  if (!std::isfinite(o.penalizer) || o.penalizer < 0)
    throw_invalid("penalizer", "must be finite and >= 0, got " + detail::num(o.penalizer));
  if (o.max_iterations < 1)
    throw_invalid("max_iterations", "must be >= 1, got " + std::to_string(o.max_iterations));
  if (!std::isfinite(o.tolerance) || !(o.tolerance > 0))
    throw_invalid("tolerance", "must be finite and > 0, got " + detail::num(o.tolerance));
  if (o.initial.empty()) return;
  if (o.initial.size() != K)
    throw_invalid("initial", "must hold " + std::to_string(K) + " values (" + names[0] + ", ..., " +
                                 names[K - 1] + "), got " + std::to_string(o.initial.size()));
  for (std::size_t k = 0; k < K; ++k) {
    const double v = o.initial[k];
    if (k < 4 ? !(std::isfinite(v) && v > 0) : !std::isfinite(v))
      throw_invalid("initial." + names[k],
                    std::string(k < 4 ? "must be finite and > 0" : "must be finite") + ", got " +
                        detail::num(v));
  }
}

}  // namespace

CovariatesModel CovariatesModel::fit(CovariatesKind kind, std::span<const double> frequency,
                                     std::span<const double> recency, std::span<const double> T,
                                     const CovariateMatrix& purchase,
                                     const CovariateMatrix& dropout,
                                     std::span<const double> weights, const FitOptions& options) {
  detail::check_rfm(frequency, recency, T, weights);
  if (frequency.empty()) throw_invalid("frequency", "must not be empty");
  detail::check_covariates(purchase, frequency.size(), "purchase_covariates");
  detail::check_covariates(dropout, frequency.size(), "dropout_covariates");
  const std::size_t n = frequency.size(), p = purchase.columns.size(), q = dropout.columns.size();
  const std::size_t K = detail::covariate_param_count(kind, p, q);
  // A model with placeholder values gives the parameter names for messages and checks the names.
  CovariatesModel shape(kind, std::vector<double>(K, 1.0), {}, FitReport{}, purchase.columns,
                        dropout.columns);
  const std::vector<std::string> names = shape.parameter_names();
  check_fit_options(options, K, names);
  double total = 0;
  for (std::size_t i = 0; i < n; ++i) total += weights.empty() ? 1.0 : weights[i];
  if (!(total > 0)) throw_invalid("weights", "must not all be 0");

  std::vector<double> mp, sp, mq, sq;
  const bool bg = kind == CovariatesKind::beta_geo;
  column_stats(purchase, weights, n, "purchase_covariates", "alpha", mp, sp);
  column_stats(dropout, weights, n, "dropout_covariates", bg ? "a and b" : "beta", mq, sq);

  const Design design(kind, purchase, dropout, n);
  Problem pb;
  pb.design = &design;
  pb.x = frequency;
  pb.tx = recency;
  pb.T = T;
  pb.w = weights;
  pb.tr = make_transform(design.blocks, K, mp, sp, mq, sq);
  pb.total_weight = total;
  pb.penalizer = options.penalizer;
  pb.threads = options.threads;

  // Start: the given values, or the plain model's fit with every coefficient 0.
  std::vector<double> theta0(K, 0.0);
  std::string msg;
  if (!options.initial.empty()) {
    for (std::size_t k = 0; k < K; ++k)
      theta0[k] = k < 4 ? std::log(options.initial[k]) : options.initial[k];
  } else {
    FitOptions plain = options;
    plain.standard_errors = false;
    plain.initial.clear();
    double start[4];
    bool ok;
    if (bg) {
      const BetaGeoModel m = BetaGeoModel::fit(frequency, recency, T, weights, plain);
      const BetaGeoParams& pp = m.params();
      start[0] = pp.r, start[1] = pp.alpha, start[2] = pp.a, start[3] = pp.b;
      ok = m.report().converged;
    } else {
      const ParetoNBDModel m = ParetoNBDModel::fit(frequency, recency, T, weights, plain);
      const ParetoNBDParams& pp = m.params();
      start[0] = pp.r, start[1] = pp.alpha, start[2] = pp.s, start[3] = pp.beta;
      ok = m.report().converged;
    }
    for (int k = 0; k < 4; ++k) theta0[k] = ok ? std::log(start[k]) : 0.0;
    msg = ok ? "start: plain fit" : "start: 1 (the plain fit did not converge)";
  }
  const std::vector<double> z0 = pb.tr.to_zeta(theta0);

  std::vector<double> best = z0;
  nlopt_result r = run(NLOPT_LD_LBFGS, pb, best, options);
  double gn = grad_norm(pb, best);
  msg += std::string(msg.empty() ? "" : "; ") + "L-BFGS: " + detail::nlopt_result_name(r);
  bool converged = good_stop(r, gn);
  if (!converged && r != NLOPT_MAXEVAL_REACHED) {
    std::vector<double> alt = z0;
    const nlopt_result r2 = run(NLOPT_LN_SBPLX, pb, alt, options);
    msg += std::string("; Subplex: ") + detail::nlopt_result_name(r2);
    const nlopt_result r3 = run(NLOPT_LD_LBFGS, pb, alt, options);
    msg += std::string("; L-BFGS polish: ") + detail::nlopt_result_name(r3);
    const double galt = grad_norm(pb, alt);
    std::vector<double> g(K);
    const double fb = pb.objective(best.data(), g.data());
    const double fa = pb.objective(alt.data(), g.data());
    if (fa <= fb || !std::isfinite(fb)) {
      best = alt;
      gn = galt;
      r = r3;
    }
    converged = good_stop(r, gn);
  }
  const int evaluations = pb.evaluations;
  for (std::size_t k = 0; k < K; ++k)
    if (std::fabs(best[k]) >= (k < 4 ? kBaseBound : kCoefBound) - 1e-9) {
      msg += "; a parameter reached its bound";
      converged = false;
      break;
    }
  double ll = 0;
  {
    std::vector<double> g(K);
    pb.objective(best.data(), g.data(), &ll);
  }
  std::vector<double> se(K, std::numeric_limits<double>::quiet_NaN());
  const bool se_nan = options.standard_errors && !hessian_standard_errors(pb, best, se);

  const std::vector<double> th = pb.tr.to_theta(best);
  std::vector<double> values(K);
  for (std::size_t k = 0; k < K; ++k) values[k] = k < 4 ? std::exp(th[k]) : th[k];
  FitReport report;
  report.converged = converged;
  report.iterations = evaluations;
  report.log_likelihood = ll;
  report.gradient_norm = gn;
  report.message = msg;
  if (se_nan) detail::mark_not_converged(report, detail::kNanStandardErrorsReason);
  if (std::all_of(T.begin(), T.end(), [](double v) { return v == 0; }))
    detail::mark_not_converged(report,
                               "no information: every row has T = 0 (no customer was observed "
                               "for any time), so the likelihood does not depend on the "
                               "parameters");
  return CovariatesModel(kind, std::move(values), std::move(se), std::move(report),
                         purchase.columns, dropout.columns);
}

}  // namespace v0
}  // namespace crmkit
