// The optimiser driver (internal.hpp "optimiser"): NLopt runs over log-parameters, the report of
// how they ended, delta-method standard errors and the rule for degenerate fits.
#include <nlopt.h>

#include <algorithm>
#include <cstdio>
#include <span>
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

const char* nlopt_result_name(int status) {
  switch (static_cast<nlopt_result>(status)) {
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

namespace {

constexpr double kLogBound = 30.0;  // log-parameters are kept in [-30, 30]

struct Objective {
  Objective(const LogLik* f, std::size_t n, double total, double pen,
            const LogLikHessian* h = nullptr)
      : loglik(f), hessian(h), k(n), total_weight(total), penalizer(pen) {}
  const LogLik* loglik;
  const LogLikHessian* hessian;  // optional: the same function with its Hessian
  std::size_t k;
  double total_weight;
  double penalizer;
  int evaluations = 0;
  std::vector<double> g, hll;
  // The lowest point evaluated so far with its value, gradient and log-likelihood: the optimiser
  // returns that point, and re-evaluating it (gradient norm, log-likelihood for the report) then
  // costs nothing. Evaluation is deterministic, so the memo gives the same numbers.
  bool has_memo = false;
  std::vector<double> memo_u, memo_grad, memo_hess;  // memo_hess empty unless value_hessian's
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
    return penalise(u, ll, grad, nullptr);
  }
  // value() with the objective's Hessian in log-parameters (row-major k x k) into hess; requires
  // `hessian`. A point where anything is not finite has the value DBL_MAX, a zero gradient and a
  // NaN Hessian. The memo keeps the Hessian of its point too (Newton's last point is where the
  // standard errors need it).
  double value_hessian(const double* u, double* grad, double* hess) {
    ++evaluations;
    if (has_memo && !memo_hess.empty() && std::equal(memo_u.begin(), memo_u.end(), u)) {
      if (grad) std::copy(memo_grad.begin(), memo_grad.end(), grad);
      std::copy(memo_hess.begin(), memo_hess.end(), hess);
      return memo_f;
    }
    g.assign(k, 0.0);
    hll.assign(k * k, 0.0);
    const double ll = (*hessian)(u, g.data(), hll.data());
    return penalise(u, ll, grad, hess);
  }

  // From the log-likelihood ll at u (its gradient in g, its Hessian in hll when hess is non-null)
  // to the objective, its gradient into grad and its Hessian into hess; updates the memo.
  double penalise(const double* u, double ll, double* grad, double* hess) {
    double f = -ll / total_weight;
    std::vector<double> gr(k);
    bool finite = true;
    for (std::size_t i = 0; i < k; ++i) {
      const double th = std::exp(u[i]);
      f += penalizer * th * th;
      gr[i] = -g[i] / total_weight + 2.0 * penalizer * th * th;
      for (std::size_t j = 0; hess && j < k; ++j) {
        double h = -hll[i * k + j] / total_weight;
        if (i == j) h += 4.0 * penalizer * th * th;
        hess[i * k + j] = h;
        finite = finite && std::isfinite(h);
      }
    }
    if (!std::isfinite(f) || !finite) {
      std::fill(gr.begin(), gr.end(), 0.0);
      if (hess) std::fill(hess, hess + k * k, std::numeric_limits<double>::quiet_NaN());
      f = std::numeric_limits<double>::max();
    }
    if (grad) std::copy(gr.begin(), gr.end(), grad);
    if (!has_memo || f < memo_f) {
      has_memo = true;
      memo_u.assign(u, u + k);
      memo_grad = std::move(gr);
      if (hess)
        memo_hess.assign(hess, hess + k * k);
      else
        memo_hess.clear();
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

namespace {

// The covariance of the log-parameters at u (row-major k x k): the inverse of the negative
// Hessian of the penalised total log-likelihood in log-parameters, by central differences of the
// analytic gradient. False (cov unspecified) if that Hessian is not negative definite.
bool log_covariance(Objective& obj, const std::vector<double>& u, std::vector<double>& cov) {
  const std::size_t k = obj.k;
  const double total_weight = obj.total_weight;
  std::vector<double> H(k * k, 0.0), gp(k), gm(k), up = u;
  if (obj.hessian) {
    // Analytic: H = -total_weight * (the objective's Hessian).
    obj.value_hessian(u.data(), gp.data(), H.data());
    for (double& h : H) h *= -total_weight;
  }
  const double h = 1e-5;
  for (std::size_t j = 0; !obj.hessian && j < k; ++j) {
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
  cov.resize(k * k);
  for (std::size_t i = 0; i < k * k; ++i) cov[i] = -H[i];
  bool ok = invert_symmetric(cov, k);
  if (ok)
    for (std::size_t i = 0; i < k; ++i) ok = ok && cov[i * k + i] > 0;
  for (std::size_t i = 0; i < k; ++i)  // the elimination leaves rounding asymmetries
    for (std::size_t j = i + 1; j < k; ++j)
      cov[i * k + j] = cov[j * k + i] = 0.5 * (cov[i * k + j] + cov[j * k + i]);
  return ok;
}

bool se_from_covariance(const std::vector<double>& cov, const std::vector<double>& u,
                        std::vector<double>& se) {
  const std::size_t k = u.size();
  se.assign(k, std::numeric_limits<double>::quiet_NaN());
  for (std::size_t i = 0; i < k; ++i) se[i] = std::exp(u[i]) * std::sqrt(cov[i * k + i]);
  return true;
}

}  // namespace

bool delta_method_se(const LogLik& loglik, std::size_t k, double total_weight, double penalizer,
                     const std::vector<double>& u, std::vector<double>& se,
                     const LogLikHessian* hessian) {
  Objective obj(&loglik, k, total_weight, penalizer, hessian);
  se.assign(k, std::numeric_limits<double>::quiet_NaN());
  std::vector<double> cov;
  if (!log_covariance(obj, u, cov)) return false;
  return se_from_covariance(cov, u, se);
}

bool delta_method_covariance(const LogLik& loglik, std::size_t k, double total_weight,
                             double penalizer, const std::vector<double>& u,
                             std::vector<double>& cov, const LogLikHessian* hessian) {
  Objective obj(&loglik, k, total_weight, penalizer, hessian);
  std::vector<double> cov_log;
  cov.assign(k * k, std::numeric_limits<double>::quiet_NaN());
  if (!log_covariance(obj, u, cov_log)) return false;
  // natural scale: cov = diag(theta) cov_log diag(theta), theta = exp(u)
  for (std::size_t i = 0; i < k; ++i)
    for (std::size_t j = i; j < k; ++j)
      cov[i * k + j] = cov[j * k + i] = std::exp(u[i]) * cov_log[i * k + j] * std::exp(u[j]);
  return true;
}

namespace {

// A point of the optimisation and its objective (the penalised mean negative log-likelihood).
struct Point {
  std::vector<double> u;
  double f = std::numeric_limits<double>::max();
};

// One local optimisation from u0: L-BFGS; if it does not converge (and did not run out of
// evaluations), a Subplex run from u0 and an L-BFGS polish of its result, keeping the better end.
struct LocalRun {
  Point end;
  bool converged = false;
  bool max_evaluations = false;  // stopped on FitOptions::max_iterations
  double gradient_norm = 0;
  std::string message;
};

LocalRun local_run(Objective& obj, const std::vector<double>& u0, const FitOptions& options) {
  LocalRun out;
  std::vector<double> best = u0;
  double fmin = 0;
  nlopt_result r = run(NLOPT_LD_LBFGS, obj, best, fmin, options);
  double gn = grad_norm(obj, best);
  out.message = std::string("L-BFGS: ") + nlopt_result_name(r);
  // A tolerance stop with a small gradient is convergence; roundoff-limited is accepted when the
  // gradient is small too (L-BFGS reports it at an optimum reached to machine precision).
  auto good = [&](nlopt_result rr, double g) {
    return (stopped_on_tolerance(rr) || rr == NLOPT_ROUNDOFF_LIMITED) && std::isfinite(g) &&
           g < 1e-4;
  };
  bool converged = good(r, gn);
  if (!converged && r != NLOPT_MAXEVAL_REACHED) {
    // Derivative-free fallback from the start, then an L-BFGS polish from its result.
    std::vector<double> alt = u0;
    double falt = 0;
    const nlopt_result r2 = run(NLOPT_LN_SBPLX, obj, alt, falt, options);
    out.message += std::string("; Subplex: ") + nlopt_result_name(r2);
    double fpol = 0;
    const nlopt_result r3 = run(NLOPT_LD_LBFGS, obj, alt, fpol, options);
    out.message += std::string("; L-BFGS polish: ") + nlopt_result_name(r3);
    const double galt = grad_norm(obj, alt);
    std::vector<double> gtmp(obj.k);
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
  std::vector<double> gtmp(obj.k);
  out.end.f = obj.value(best.data(), gtmp.data());
  out.end.u = std::move(best);
  out.converged = converged;
  out.max_evaluations = r == NLOPT_MAXEVAL_REACHED;
  out.gradient_norm = gn;
  return out;
}

// Solves (H + mu I) d = -g for a symmetric k x k H (row-major) by Cholesky; false if H + mu I is
// not positive definite (or not finite).
bool newton_direction(const std::vector<double>& H, double mu, const std::vector<double>& g,
                      std::vector<double>& d) {
  const std::size_t k = g.size();
  std::vector<double> L(k * k, 0.0);
  for (std::size_t j = 0; j < k; ++j) {
    double diag = H[j * k + j] + mu;
    for (std::size_t m = 0; m < j; ++m) diag -= L[j * k + m] * L[j * k + m];
    if (!(diag > 0) || !std::isfinite(diag)) return false;
    L[j * k + j] = std::sqrt(diag);
    for (std::size_t i = j + 1; i < k; ++i) {
      double v = H[i * k + j];
      for (std::size_t m = 0; m < j; ++m) v -= L[i * k + m] * L[j * k + m];
      L[i * k + j] = v / L[j * k + j];
    }
  }
  d.assign(k, 0.0);
  for (std::size_t i = 0; i < k; ++i) {  // L y = -g
    double v = -g[i];
    for (std::size_t m = 0; m < i; ++m) v -= L[i * k + m] * d[m];
    d[i] = v / L[i * k + i];
  }
  for (std::size_t i = k; i-- > 0;) {  // L^T d = y
    double v = d[i];
    for (std::size_t m = i + 1; m < k; ++m) v -= L[m * k + i] * d[m];
    d[i] = v / L[i * k + i];
  }
  return std::all_of(d.begin(), d.end(), [](double x) { return std::isfinite(x); });
}

// Newton's method on the objective from u0 (requires obj.hessian): each step solves with the
// Hessian, shifted toward the gradient direction (Levenberg) where it is not positive definite,
// at most 2 in any log-parameter, with a backtracking (Armijo) line search. Converged when an
// unshifted Newton step is within the tolerance on every log-parameter (relative, as NLopt's
// xtol) and the gradient is small. At most min(max_iterations, 100) evaluations.
LocalRun newton_run(Objective& obj, const std::vector<double>& u0, const FitOptions& options) {
  const std::size_t k = obj.k;
  const int budget = std::min(options.max_iterations, 100);
  LocalRun out;
  std::vector<double> u = u0, g(k), H(k * k), d(k), v(k), gv(k), Hv(k * k);
  double f = obj.value_hessian(u.data(), g.data(), H.data());
  int used = 1;
  std::string why = "iteration limit";
  bool converged = false;
  while (f < std::numeric_limits<double>::max()) {
    double scale = 0;
    for (std::size_t i = 0; i < k; ++i) scale = std::max(scale, std::fabs(H[i * k + i]));
    double mu = 0;
    bool ok = false;
    for (int tries = 0; tries < 60 && !ok; ++tries) {
      ok = newton_direction(H, mu, g, d);
      if (!ok) mu = mu == 0 ? 1e-10 * std::max(scale, 1e-300) : mu * 10;
    }
    if (!ok) {
      why = "no descent direction";
      break;
    }
    double gn = 0;
    for (double x : g) gn += x * x;
    gn = std::sqrt(gn);
    bool small = true;
    for (std::size_t i = 0; i < k; ++i)
      small = small && std::fabs(d[i]) <= options.tolerance * std::max(1.0, std::fabs(u[i]));
    if (mu == 0 && small && gn < 1e-4) {
      converged = true;
      why = "converged";
      break;
    }
    double big = 0;
    for (double x : d) big = std::max(big, std::fabs(x));
    if (big > 2.0)
      for (double& x : d) x *= 2.0 / big;
    double slope = 0;
    for (std::size_t i = 0; i < k; ++i) slope += g[i] * d[i];
    bool accepted = false;
    double fv = f;
    for (double alpha = 1; used < budget && alpha > 1e-12; alpha *= 0.5) {
      for (std::size_t i = 0; i < k; ++i)
        v[i] = std::clamp(u[i] + alpha * d[i], -kLogBound, kLogBound);
      fv = obj.value_hessian(v.data(), gv.data(), Hv.data());
      ++used;
      if (fv <= f + 1e-4 * alpha * slope) {
        accepted = true;
        break;
      }
    }
    if (!accepted) {
      // No lower point along a Newton step: at the optimum to rounding (an unshifted step with a
      // small gradient), otherwise stuck.
      if (mu == 0 && gn < 1e-4 && used < budget) {
        converged = true;
        why = "roundoff limited";
      } else if (used >= budget) {
        why = "iteration limit";
      } else {
        why = "line search failed";
      }
      break;
    }
    if (v == u) {
      why = "stuck at the edge of the log-parameter box";
      break;
    }
    u.swap(v);
    g.swap(gv);
    H.swap(Hv);
    f = fv;
    if (used >= budget) break;
  }
  std::vector<double> gtmp(k);
  out.end.f = obj.value(u.data(), gtmp.data());
  out.end.u = u;
  out.converged = converged;
  out.gradient_norm = grad_norm(obj, u);
  out.message = std::string("Newton: ") + why;
  return out;
}

// How much lower an objective must be to count as lower: far above rounding, far below any
// difference that matters (the objective is a mean per row). Relative, so that a likelihood
// whose supremum is 1 (objective -> 0, as for all one-time buyers) is still seen to rise.
double lower_by(double f) { return 1e-10 * std::fabs(f) + 1e-14; }

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// A probe direction in log-parameters: one parameter (j < 0) or two together, up or down.
struct Direction {
  int i = 0, j = -1;
  double sign = 1;
};

std::vector<double> along(const std::vector<double>& u, const Direction& d, double step) {
  std::vector<double> v = u;
  v[d.i] = std::clamp(v[d.i] + d.sign * step, -kLogBound, kLogBound);
  if (d.j >= 0) v[d.j] = std::clamp(v[d.j] + d.sign * step, -kLogBound, kLogBound);
  return v;
}

// A parameter's name without the "params." prefix of the validation names.
std::string short_name(std::span<const char* const> names, int i) {
  if (static_cast<std::size_t>(i) >= names.size()) {
    std::string n = "parameter ";
    n += std::to_string(i);
    return n;
  }
  std::string n = names[i];
  if (n.rfind("params.", 0) == 0) n.erase(0, 7);
  return n;
}

std::string describe(const Direction& d, std::span<const char* const> names) {
  const char* where = d.sign > 0 ? "infinity" : "0";
  if (d.j < 0) return "parameter " + short_name(names, d.i) + " -> " + where;
  return "parameters " + short_name(names, d.i) + " and " + short_name(names, d.j) + " -> " + where +
         " together";
}

}  // namespace

FitResult maximize(const LogLik& loglik, std::size_t k, double total_weight,
                   const FitOptions& options, std::span<const char* const> names,
                   const LogLikHessian* hessian) {
  Objective obj(&loglik, k, total_weight, options.penalizer, hessian);
  std::vector<double> u0(k, 0.0);
  if (!options.initial.empty())
    for (std::size_t i = 0; i < k; ++i)
      u0[i] = std::clamp(std::log(options.initial[i]), -kLogBound, kLogBound);

  // 1. The default start: Newton's method where the Hessian is analytic (L-BFGS and its fallbacks
  //    from the same start if Newton does not converge), else L-BFGS.
  LocalRun first;
  if (hessian) {
    first = newton_run(obj, u0, options);
    if (!first.converged) {
      LocalRun lbfgs = local_run(obj, u0, options);
      lbfgs.message = first.message + "; " + lbfgs.message;
      first = std::move(lbfgs);
    }
  } else {
    first = local_run(obj, u0, options);
  }
  LocalRun best = first;
  std::string msg = first.message;

  // 2. Multi-start, when the default start did not converge (and did not merely run out of the
  //    evaluations the caller allowed): the 2^k corners of the box [0.1, 10]^k, in a fixed order.
  if (!first.converged && !first.max_evaluations) {
    std::vector<LocalRun> runs{first};
    for (std::size_t corner = 0; corner < (std::size_t{1} << k); ++corner) {
      std::vector<double> s(k);
      for (std::size_t i = 0; i < k; ++i) s[i] = ((corner >> i) & 1u) ? std::log(10.0) : std::log(0.1);
      runs.push_back(local_run(obj, s, options));
    }
    std::size_t ib = 0;
    for (std::size_t i = 1; i < runs.size(); ++i)
      if (runs[i].end.f < runs[ib].end.f) ib = i;
    // Ends "agree" with the best when their objective is within 1e-8 (relative) of it.
    std::size_t agree = 0, converged_runs = 0;
    for (const LocalRun& r : runs) {
      if (std::fabs(r.end.f - runs[ib].end.f) <= 1e-8 * std::max(1.0, std::fabs(runs[ib].end.f)))
        ++agree;
      if (r.converged) ++converged_runs;
    }
    best = runs[ib];
    msg += "; multi-start: " + std::to_string(runs.size()) +
           " starts tried (the default and the " + std::to_string(runs.size() - 1) +
           " corners of [0.1, 10]^" + std::to_string(k) + "), best: start " + std::to_string(ib) +
           " (" + best.message + "), " + std::to_string(converged_runs) + " converged, " +
           std::to_string(agree) + " of " + std::to_string(runs.size()) +
           (agree == runs.size() ? " agreed" : " agreed with the best");
  }
  bool converged = best.converged;
  std::vector<double> u = best.end.u;
  double f = best.end.f;
  double gn = best.gradient_norm;

  // 3. The boundary probe: is there a finite maximum at all? From the end point, step each
  //    log-parameter, and each pair together, by +-2 (a factor e^2); if the objective is lower
  //    there, follow the direction that is lowest (steps 2, 4, 8, ... up to the box [-30, 30]).
  //    A ray along which the objective never rises again (it keeps falling, or flattens out as
  //    the likelihood approaches its supremum) all the way to the box is a likelihood that rises
  //    toward a boundary: no finite maximum. A ray that turns up again leads to a better interior
  //    point: restart the local optimisation from the lowest point of the ray and probe again
  //    (at most 4 rounds).
  std::string no_max;
  const std::vector<double> u_end = u;
  const double gn_end = gn, f_end = f;
  // The probe runs when the curvature at the end does not pin the parameters down: the Hessian
  // is not negative definite, or some log-parameter has a variance above 1 (it is not known to
  // within a factor e). Where it is pinned down there is a maximum nearby, and the Hessian is
  // the one the standard errors need anyway.
  std::vector<double> cov;
  bool cov_ok = log_covariance(obj, u, cov);
  bool pinned = cov_ok;
  for (std::size_t i = 0; pinned && i < k; ++i) pinned = cov[i * k + i] <= 1.0;
  bool moved = false;
  if (!pinned && std::isfinite(f) && f < std::numeric_limits<double>::max()) {
    std::vector<Direction> dirs;
    for (int s : {-1, 1}) {
      for (std::size_t i = 0; i < k; ++i) dirs.push_back({static_cast<int>(i), -1, double(s)});
      for (std::size_t i = 0; i < k; ++i)
        for (std::size_t j = i + 1; j < k; ++j)
          dirs.push_back({static_cast<int>(i), static_cast<int>(j), double(s)});
    }
    std::vector<double> g(k);
    for (int round = 0; round < 4 && no_max.empty(); ++round) {
      // The directions in which the objective is lower at step 2, lowest first.
      std::vector<std::pair<double, std::size_t>> lower;
      for (std::size_t d = 0; d < dirs.size(); ++d) {
        const std::vector<double> v = along(u, dirs[d], 2.0);
        if (v == u) continue;
        const double fv = obj.value(v.data(), g.data());
        if (fv < f - lower_by(f)) lower.emplace_back(fv, d);
      }
      if (lower.empty()) break;
      std::sort(lower.begin(), lower.end());
      // Follow each ray (steps 4, 8, 16, ... to the box) while the objective does not rise: a
      // ray that never turns up again (it keeps falling, or flattens out as the likelihood
      // approaches its supremum) leads to the boundary. Otherwise remember the lowest point.
      std::vector<double> lowest;
      double flowest = f;
      Direction dir, lowest_dir;
      for (const auto& [f2, d] : lower) {
        dir = dirs[d];
        std::vector<double> ray = along(u, dir, 2.0);
        double fray = f2, f8 = f2;
        if (f2 < flowest) {
          flowest = f2;
          lowest = ray;
          lowest_dir = dir;
        }
        bool at_box = false;
        for (double step = 4.0;; step *= 2) {
          const std::vector<double> v = along(u, dir, step);
          if (v == ray) {  // clamped: the ray has reached the box
            at_box = true;
            break;
          }
          const double fv = obj.value(v.data(), g.data());
          if (!(fv <= fray + lower_by(fray))) break;  // turned up (or not finite)
          if (fv < fray) fray = fv;
          if (fv < flowest) {
            flowest = fv;
            lowest = v;
            lowest_dir = dir;
          }
          ray = v;
          if (step == 8.0) f8 = fv;
        }
        if (at_box) {
          no_max = "no finite maximum: the log-likelihood keeps increasing as " +
                   describe(dir, names) + " (" + fmt(-f_end * total_weight) +
                   " at the parameters reported, " + fmt(-f8 * total_weight) +
                   " at log-parameters 8 further along that way)";
          break;
        }
      }
      if (!no_max.empty()) break;
      // The ray turned up: a better point inside; optimise again from there.
      LocalRun again = local_run(obj, lowest, options);
      msg += "; probe round " + std::to_string(round + 1) + ": lower along " +
             describe(lowest_dir, names) + ", restarted there (" + again.message + ")";
      if (!(again.end.f < f)) break;
      u = again.end.u;
      f = again.end.f;
      moved = true;
      gn = again.gradient_norm;
      converged = again.converged;
      if (round == 3) {
        // Still climbing after the last round: report it rather than a point that is not a
        // maximum.
        no_max = "no finite maximum found: the log-likelihood still increases along " +
                 describe(lowest_dir, names) + " after 4 restarts";
      }
    }
  }

  if (!no_max.empty()) {
    // No maximum to report: the parameters are where the optimiser first ended (on the way to
    // the boundary; beyond it the likelihood's own rounding starts to show).
    u = u_end;
    gn = gn_end;
    converged = false;
    moved = false;
  }
  if (moved) cov_ok = log_covariance(obj, u, cov);

  FitResult res;
  const int evaluations = obj.evaluations;
  res.params.resize(k);
  for (std::size_t i = 0; i < k; ++i) res.params[i] = std::exp(u[i]);
  res.se.assign(k, std::numeric_limits<double>::quiet_NaN());
  const bool se_nan = options.standard_errors && !cov_ok;
  if (options.standard_errors && cov_ok) se_from_covariance(cov, u, res.se);
  for (std::size_t i = 0; i < k; ++i)
    if (std::fabs(u[i]) >= kLogBound - 1e-9) {
      // The optimiser ran to the edge of the box: the likelihood rises toward a boundary.
      if (no_max.empty())
        no_max = "no finite maximum: parameter " + short_name(names, static_cast<int>(i)) +
                 " ran to the edge of the log-parameter box (exp(" +
                 (u[i] > 0 ? "30" : "-30") + "))";
      converged = false;
      break;
    }
  res.report.log_likelihood = obj.log_likelihood(u);
  res.report.converged = converged;
  res.report.iterations = evaluations;
  res.report.gradient_norm = gn;
  res.report.message = msg;
  if (!no_max.empty()) mark_not_converged(res.report, no_max);
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
