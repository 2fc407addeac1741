// The optimiser driver (internal.hpp "optimiser"): NLopt runs over log-parameters, the report of
// how they ended, delta-method standard errors and the rule for degenerate fits.
#include <nlopt.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "internal.hpp"

namespace crmkit {
inline namespace v0 {
namespace detail {

// ---- optimiser ------------------------------------------------------------------------------

namespace {

constexpr double kLogBound = 30.0;  // log-parameters are kept in [-30, 30]

struct Objective {
  Objective(const LogLik* f, std::size_t n, double total, double pen)
      : loglik(f), k(n), total_weight(total), penalizer(pen) {}
  const LogLik* loglik;
  std::size_t k;
  double total_weight;
  double penalizer;
  int evaluations = 0;
  std::vector<double> g;
  // The lowest point evaluated so far with its value, gradient and log-likelihood: the optimiser
  // returns that point, and re-evaluating it (gradient norm, log-likelihood for the report) then
  // costs nothing. Evaluation is deterministic, so the memo gives the same numbers.
  bool has_memo = false;
  std::vector<double> memo_u, memo_grad;
  double memo_f = 0, memo_ll = 0;

  // Penalised mean negative log-likelihood and its gradient in log-parameters.
  double value(const double* u, double* grad) {
    ++evaluations;
    if (has_memo && std::equal(memo_u.begin(), memo_u.end(), u)) {
      if (grad) std::copy(memo_grad.begin(), memo_grad.end(), grad);
      return memo_f;
    }
    g.assign(k, 0.0);
    const double ll = (*loglik)(u, g.data());
    double f = -ll / total_weight;
    std::vector<double> gr(k);
    for (std::size_t i = 0; i < k; ++i) {
      const double th = std::exp(u[i]);
      f += penalizer * th * th;
      gr[i] = -g[i] / total_weight + 2.0 * penalizer * th * th;
    }
    if (!std::isfinite(f)) {
      std::fill(gr.begin(), gr.end(), 0.0);
      f = std::numeric_limits<double>::max();
    }
    if (grad) std::copy(gr.begin(), gr.end(), grad);
    if (!has_memo || f < memo_f) {
      has_memo = true;
      memo_u.assign(u, u + k);
      memo_grad = std::move(gr);
      memo_f = f;
      memo_ll = ll;
    }
    return f;
  }
  // The unpenalised total log-likelihood at u (from the memo when u is the memo's point).
  double log_likelihood(const std::vector<double>& u) {
    if (has_memo && memo_u == u) return memo_ll;
    std::vector<double> gtmp(k);
    return (*loglik)(u.data(), gtmp.data());
  }
};

double nlopt_callback(unsigned, const double* u, double* grad, void* data) {
  return static_cast<Objective*>(data)->value(u, grad);
}

const char* result_name(nlopt_result r) {
  switch (r) {
    case NLOPT_SUCCESS: return "success";
    case NLOPT_STOPVAL_REACHED: return "stopval reached";
    case NLOPT_FTOL_REACHED: return "ftol reached";
    case NLOPT_XTOL_REACHED: return "xtol reached";
    case NLOPT_MAXEVAL_REACHED: return "maximum iterations reached";
    case NLOPT_MAXTIME_REACHED: return "maximum time reached";
    case NLOPT_FAILURE: return "generic failure";
    case NLOPT_INVALID_ARGS: return "invalid arguments";
    case NLOPT_OUT_OF_MEMORY: return "out of memory";
    case NLOPT_ROUNDOFF_LIMITED: return "roundoff limited";
    case NLOPT_FORCED_STOP: return "forced stop";
    default: return "unknown status";
  }
}

nlopt_result run(nlopt_algorithm algo, Objective& obj, std::vector<double>& u, double& fmin,
                 const FitOptions& o) {
  nlopt_opt opt = nlopt_create(algo, static_cast<unsigned>(obj.k));
  if (!opt) return NLOPT_OUT_OF_MEMORY;
  nlopt_set_min_objective(opt, nlopt_callback, &obj);
  nlopt_set_lower_bounds1(opt, -kLogBound);
  nlopt_set_upper_bounds1(opt, kLogBound);
  nlopt_set_ftol_rel(opt, o.tolerance);
  nlopt_set_xtol_rel(opt, o.tolerance);
  nlopt_set_maxeval(opt, o.max_iterations);
  if (algo != NLOPT_LD_LBFGS) nlopt_set_initial_step1(opt, 0.5);
  const nlopt_result r = nlopt_optimize(opt, u.data(), &fmin);
  nlopt_destroy(opt);
  return r;
}

double grad_norm(Objective& obj, const std::vector<double>& u) {
  std::vector<double> g(obj.k);
  obj.value(u.data(), g.data());
  double s = 0;
  for (double v : g) s += v * v;
  return std::sqrt(s);
}

bool stopped_on_tolerance(nlopt_result r) {
  return r == NLOPT_SUCCESS || r == NLOPT_FTOL_REACHED || r == NLOPT_XTOL_REACHED ||
         r == NLOPT_STOPVAL_REACHED;
}


}  // namespace

bool delta_method_se(const LogLik& loglik, std::size_t k, double total_weight, double penalizer,
                     const std::vector<double>& u, std::vector<double>& se) {
  std::vector<double> cov;
  se.assign(k, std::numeric_limits<double>::quiet_NaN());
  if (!delta_method_covariance(loglik, k, total_weight, penalizer, u, cov)) return false;
  for (std::size_t i = 0; i < k; ++i) se[i] = std::sqrt(cov[i * k + i]);
  return true;
}

bool delta_method_covariance(const LogLik& loglik, std::size_t k, double total_weight,
                             double penalizer, const std::vector<double>& u,
                             std::vector<double>& cov) {
  Objective obj(&loglik, k, total_weight, penalizer);
  cov.assign(k * k, std::numeric_limits<double>::quiet_NaN());
  // Hessian of the penalised total log-likelihood in log-parameters, by central differences of
  // the analytic gradient.
  std::vector<double> H(k * k, 0.0), gp(k), gm(k), up = u;
  const double h = 1e-5;
  for (std::size_t j = 0; j < k; ++j) {
    up = u;
    up[j] = u[j] + h;
    obj.value(up.data(), gp.data());
    up[j] = u[j] - h;
    obj.value(up.data(), gm.data());
    for (std::size_t i = 0; i < k; ++i) H[i * k + j] = -(gp[i] - gm[i]) / (2 * h) * total_weight;
  }
  for (std::size_t i = 0; i < k; ++i)
    for (std::size_t j = i + 1; j < k; ++j)
      H[i * k + j] = H[j * k + i] = 0.5 * (H[i * k + j] + H[j * k + i]);
  // cov_log = inverse of the negative Hessian of the log-likelihood.
  std::vector<double> negH(k * k);
  for (std::size_t i = 0; i < k * k; ++i) negH[i] = -H[i];
  bool se_ok = invert_symmetric(negH, k);
  if (se_ok)
    for (std::size_t i = 0; i < k; ++i) se_ok = se_ok && negH[i * k + i] > 0;
  if (!se_ok) return false;
  // natural scale: cov = diag(theta) cov_log diag(theta), theta = exp(u)
  for (std::size_t i = 0; i < k; ++i)
    for (std::size_t j = 0; j < k; ++j)
      cov[i * k + j] = std::exp(u[i]) * negH[i * k + j] * std::exp(u[j]);
  return true;
}

FitResult maximize(const LogLik& loglik, std::size_t k, double total_weight,
                   const FitOptions& options) {
  Objective obj(&loglik, k, total_weight, options.penalizer);
  std::vector<double> u(k, 0.0);
  if (!options.initial.empty())
    for (std::size_t i = 0; i < k; ++i)
      u[i] = std::clamp(std::log(options.initial[i]), -kLogBound, kLogBound);

  FitResult res;
  std::string msg;
  double fmin = 0;
  std::vector<double> best = u;
  nlopt_result r = run(NLOPT_LD_LBFGS, obj, best, fmin, options);
  double gn = grad_norm(obj, best);
  msg = std::string("L-BFGS: ") + result_name(r);
  // A tolerance stop with a small gradient is convergence; roundoff-limited is accepted when the
  // gradient is small too (L-BFGS reports it at an optimum reached to machine precision).
  auto good = [&](nlopt_result rr, double g) {
    return (stopped_on_tolerance(rr) || rr == NLOPT_ROUNDOFF_LIMITED) && std::isfinite(g) &&
           g < 1e-4;
  };
  bool converged = good(r, gn);
  if (!converged && r != NLOPT_MAXEVAL_REACHED) {
    // Derivative-free fallback from the start, then an L-BFGS polish from its result.
    std::vector<double> alt = u;
    double falt = 0;
    const nlopt_result r2 = run(NLOPT_LN_SBPLX, obj, alt, falt, options);
    msg += std::string("; Subplex: ") + result_name(r2);
    double fpol = 0;
    const nlopt_result r3 = run(NLOPT_LD_LBFGS, obj, alt, fpol, options);
    msg += std::string("; L-BFGS polish: ") + result_name(r3);
    const double galt = grad_norm(obj, alt);
    std::vector<double> gtmp(k);
    const double fb = obj.value(best.data(), gtmp.data());
    const double fa = obj.value(alt.data(), gtmp.data());
    if (fa <= fb || !std::isfinite(fb)) {
      best = alt;
      gn = galt;
      r = r3;
    }
    converged = good(r3, galt) && fa <= fb;
    if (!converged) converged = good(r, gn);
  }
  const int evaluations = obj.evaluations;
  res.params.resize(k);
  for (std::size_t i = 0; i < k; ++i) res.params[i] = std::exp(best[i]);
  res.se.assign(k, std::numeric_limits<double>::quiet_NaN());
  const bool se_nan = options.standard_errors &&
                      !delta_method_se(loglik, k, total_weight, options.penalizer, best, res.se);
  for (std::size_t i = 0; i < k; ++i)
    if (std::fabs(best[i]) >= kLogBound - 1e-9) {
      msg += "; a parameter reached the bound exp(+-30)";
      converged = false;
      break;
    }
  res.report.log_likelihood = obj.log_likelihood(best);
  res.report.converged = converged;
  res.report.iterations = evaluations;
  res.report.gradient_norm = gn;
  res.report.message = msg;
  if (se_nan) mark_not_converged(res.report, kNanStandardErrorsReason);
  return res;
}

void mark_not_converged(FitReport& report, std::string_view reason) {
  report.converged = false;
  if (report.message.find(reason) != std::string::npos) return;
  if (!report.message.empty()) report.message += "; ";
  report.message += reason;
}

void check_information_continuous(const Compressed& d, FitReport& report) {
  const bool all_zero = std::all_of(d.c2.begin(), d.c2.end(), [](double T) { return T == 0; });
  if (all_zero)
    mark_not_converged(report,
                       "no information: every row has T = 0 (no customer was observed for any "
                       "time), so the likelihood does not depend on the parameters");
}

void check_standard_errors(std::span<const double> se, FitReport& report) {
  if (std::any_of(se.begin(), se.end(), [](double v) { return std::isnan(v); }))
    mark_not_converged(report, kNanStandardErrorsReason);
}


}  // namespace detail
}  // namespace v0
}  // namespace crmkit
