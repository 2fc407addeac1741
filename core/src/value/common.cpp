// Validation, row compression and the NLopt driver shared by the models.
#include <nlopt.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "crmkit/error.hpp"
#include "internal.hpp"

namespace crmkit {
inline namespace v0 {

double periods_per_month(std::string_view freq) {
  if (freq == "D") return 30.0;
  if (freq == "W") return 4.345;
  if (freq == "M") return 1.0;
  if (freq == "H") return 30.0 * 24.0;
  throw_invalid("freq", "must be one of D, W, M, H, got '" + std::string(freq) + "'");
}

namespace detail {

namespace {
std::string row_field(const char* name, std::size_t i) {
  return std::string(name) + "[" + std::to_string(i) + "]";
}
std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}
void check_len(std::size_t n, std::size_t expected, const char* name) {
  if (n != expected)
    throw_invalid(name, "length " + std::to_string(n) + " differs from frequency's length " +
                            std::to_string(expected));
}
}  // namespace

bool is_integer(double v) { return std::isfinite(v) && v == std::floor(v); }

void check_params(std::span<const double> values, std::span<const char* const> names) {
  for (std::size_t k = 0; k < values.size(); ++k)
    if (!std::isfinite(values[k]) || !(values[k] > 0))
      throw_invalid(names[k], "must be finite and > 0, got " + num(values[k]));
}

void check_t(double t, const char* field) {
  if (!std::isfinite(t) || t < 0) throw_invalid(field, "must be finite and >= 0, got " + num(t));
}

void check_weights(std::span<const double> w, std::size_t n) {
  if (w.empty()) return;
  check_len(w.size(), n, "weights");
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(w[i]) || w[i] < 0)
      throw_invalid(row_field("weights", i), "must be finite and >= 0, got " + num(w[i]));
}

void check_rfm(std::span<const double> x, std::span<const double> tx, std::span<const double> T,
               std::span<const double> w) {
  const std::size_t n = x.size();
  check_len(tx.size(), n, "recency");
  check_len(T.size(), n, "T");
  for (std::size_t i = 0; i < n; ++i) {
    if (!is_integer(x[i]) || x[i] < 0)
      throw_invalid(row_field("frequency", i), "must be a non-negative integer, got " + num(x[i]));
    if (!std::isfinite(T[i]) || T[i] < 0)
      throw_invalid(row_field("T", i), "must be finite and >= 0, got " + num(T[i]));
    if (!std::isfinite(tx[i]) || tx[i] < 0 || tx[i] > T[i])
      throw_invalid(row_field("recency", i),
                    "must be finite and in [0, T] (T = " + num(T[i]) + "), got " + num(tx[i]));
    if (x[i] == 0 && tx[i] != 0)
      throw_invalid(row_field("recency", i), "must be 0 when frequency is 0, got " + num(tx[i]));
  }
  check_weights(w, n);
}

void check_bgbb(std::span<const double> x, std::span<const double> tx, std::span<const double> n,
                std::span<const double> w) {
  const std::size_t len = x.size();
  check_len(tx.size(), len, "recency");
  check_len(n.size(), len, "n_periods");
  for (std::size_t i = 0; i < len; ++i) {
    if (!is_integer(n[i]) || n[i] < 1)
      throw_invalid(row_field("n_periods", i), "must be an integer >= 1, got " + num(n[i]));
    if (!is_integer(tx[i]) || tx[i] < 0 || tx[i] > n[i])
      throw_invalid(row_field("recency", i),
                    "must be an integer in [0, n_periods], got " + num(tx[i]));
    if (!is_integer(x[i]) || x[i] < 0 || x[i] > tx[i])
      throw_invalid(row_field("frequency", i),
                    "must be an integer in [0, recency], got " + num(x[i]));
    if (x[i] == 0 && tx[i] != 0)
      throw_invalid(row_field("recency", i), "must be 0 when frequency is 0, got " + num(tx[i]));
  }
  check_weights(w, len);
}

void check_options(const FitOptions& o, std::size_t k) {
  if (!std::isfinite(o.penalizer) || o.penalizer < 0)
    throw_invalid("options.penalizer", "must be finite and >= 0, got " + num(o.penalizer));
  if (!o.initial.empty()) {
    if (o.initial.size() != k)
      throw_invalid("options.initial", "must hold " + std::to_string(k) + " values, got " +
                                           std::to_string(o.initial.size()));
    for (double v : o.initial)
      if (!std::isfinite(v) || !(v > 0))
        throw_invalid("options.initial", "values must be finite and > 0, got " + num(v));
  }
  if (o.max_iterations < 1)
    throw_invalid("options.max_iterations", "must be >= 1, got " + std::to_string(o.max_iterations));
  if (!std::isfinite(o.tolerance) || !(o.tolerance > 0))
    throw_invalid("options.tolerance", "must be finite and > 0, got " + num(o.tolerance));
}

KeyIndex::KeyIndex(std::size_t expected) {
  std::size_t cap = 16;
  while (cap < 2 * expected) cap <<= 1;
  slots_.assign(cap, 0);
  mask_ = cap - 1;
  keys_.reserve(3 * std::min<std::size_t>(expected, 1u << 20));
}

std::size_t KeyIndex::find_or_insert(double a, double b, double c, bool& inserted) {
  a += 0.0;  // -0.0 -> +0.0
  b += 0.0;
  c += 0.0;
  std::uint64_t ua, ub, uc;
  std::memcpy(&ua, &a, 8);
  std::memcpy(&ub, &b, 8);
  std::memcpy(&uc, &c, 8);
  auto fmix = [](std::uint64_t k) {  // MurmurHash3 finaliser
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ull;
    k ^= k >> 33;
    return k;
  };
  const std::uint64_t h = fmix(fmix(fmix(ua) ^ ub) ^ uc);
  for (std::size_t s = h & mask_;; s = (s + 1) & mask_) {
    const std::uint32_t v = slots_[s];
    if (v == 0) {
      if (2 * (count_ + 1) > slots_.size()) {  // grow and retry
        std::vector<std::uint32_t> old;
        old.swap(slots_);
        slots_.assign(old.size() * 2, 0);
        mask_ = slots_.size() - 1;
        const std::size_t n = count_;
        count_ = 0;
        std::vector<double> k;
        k.swap(keys_);
        bool dummy;
        for (std::size_t i = 0; i < n; ++i) find_or_insert(k[3 * i], k[3 * i + 1], k[3 * i + 2], dummy);
        return find_or_insert(a, b, c, inserted);
      }
      slots_[s] = static_cast<std::uint32_t>(count_ + 1);
      keys_.push_back(a);
      keys_.push_back(b);
      keys_.push_back(c);
      inserted = true;
      return count_++;
    }
    const double* k = &keys_[3 * (v - 1)];
    if (k[0] == a && k[1] == b && k[2] == c) {
      // bitwise-equal after the -0 fix for finite values
      inserted = false;
      return v - 1;
    }
  }
}

namespace {
// Distinct sorted values of `col` and each element's index into them.
void index_values(const std::vector<double>& col, std::vector<double>& uniq,
                  std::vector<std::uint32_t>& idx) {
  uniq = col;
  std::sort(uniq.begin(), uniq.end());
  uniq.erase(std::unique(uniq.begin(), uniq.end()), uniq.end());
  idx.resize(col.size());
  for (std::size_t i = 0; i < col.size(); ++i)
    idx[i] = static_cast<std::uint32_t>(std::lower_bound(uniq.begin(), uniq.end(), col[i]) -
                                        uniq.begin());
}
}  // namespace

Compressed compress(std::span<const double> c0, std::span<const double> c1,
                    std::span<const double> c2, std::span<const double> w) {
  struct Row {
    double a, b, c, w;
  };
  const std::size_t n = c0.size();
  // Hash the rows into unique keys (linear time), then sort only the unique rows.
  KeyIndex index(std::min<std::size_t>(n, 1u << 16));
  std::vector<Row> rows;
  for (std::size_t i = 0; i < n; ++i) {
    const double wi = w.empty() ? 1.0 : w[i];
    if (!(wi > 0)) continue;
    bool inserted = false;
    const std::size_t k = index.find_or_insert(c0[i], c1[i], c2[i], inserted);
    if (inserted) rows.push_back({c0[i] + 0.0, c1[i] + 0.0, c2[i] + 0.0, 0.0});
    rows[k].w += wi;
  }
  std::sort(rows.begin(), rows.end(), [](const Row& l, const Row& r) {
    if (l.a != r.a) return l.a < r.a;
    if (l.b != r.b) return l.b < r.b;
    return l.c < r.c;
  });
  Compressed out;
  const std::size_t m = rows.size();
  out.c0.resize(m);
  out.c1.resize(m);
  out.c2.resize(m);
  out.w.resize(m);
  out.xi.resize(m);
  for (std::size_t i = 0; i < m; ++i) {
    out.c0[i] = rows[i].a;
    out.c1[i] = rows[i].b;
    out.c2[i] = rows[i].c;
    out.w[i] = rows[i].w;
    if (out.xs.empty() || out.xs.back() != rows[i].a) {
      out.xs.push_back(rows[i].a);
      out.xw.push_back(0.0);
    }
    out.xw.back() += rows[i].w;
    out.xi[i] = out.xs.size() - 1;
    out.total += rows[i].w;
  }
  if (!(out.total > 0)) throw_invalid("weights", "total weight must be > 0");
  index_values(out.c1, out.u1, out.i1);
  index_values(out.c2, out.u2, out.i2);
  return out;
}

// ---- optimiser ------------------------------------------------------------------------------

namespace {

constexpr double kLogBound = 30.0;  // log-parameters are kept in [-30, 30]

struct Objective {
  const LogLik* loglik;
  std::size_t k;
  double total_weight;
  double penalizer;
  int evaluations = 0;
  std::vector<double> g;

  // Penalised mean negative log-likelihood and its gradient in log-parameters.
  double value(const double* u, double* grad) {
    ++evaluations;
    g.assign(k, 0.0);
    const double ll = (*loglik)(u, g.data());
    double f = -ll / total_weight;
    for (std::size_t i = 0; i < k; ++i) {
      const double th = std::exp(u[i]);
      f += penalizer * th * th;
      if (grad) grad[i] = -g[i] / total_weight + 2.0 * penalizer * th * th;
    }
    if (!std::isfinite(f)) {
      if (grad) std::fill(grad, grad + k, 0.0);
      return std::numeric_limits<double>::max();
    }
    return f;
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

// Inverts a small symmetric matrix in place (Gauss-Jordan, partial pivoting). False if singular.
bool invert(std::vector<double>& m, std::size_t k) {
  std::vector<double> inv(k * k, 0.0);
  for (std::size_t i = 0; i < k; ++i) inv[i * k + i] = 1.0;
  for (std::size_t c = 0; c < k; ++c) {
    std::size_t p = c;
    for (std::size_t r = c + 1; r < k; ++r)
      if (std::fabs(m[r * k + c]) > std::fabs(m[p * k + c])) p = r;
    if (!(std::fabs(m[p * k + c]) > 0) || !std::isfinite(m[p * k + c])) return false;
    for (std::size_t j = 0; j < k; ++j) {
      std::swap(m[c * k + j], m[p * k + j]);
      std::swap(inv[c * k + j], inv[p * k + j]);
    }
    const double d = m[c * k + c];
    for (std::size_t j = 0; j < k; ++j) {
      m[c * k + j] /= d;
      inv[c * k + j] /= d;
    }
    for (std::size_t r = 0; r < k; ++r) {
      if (r == c) continue;
      const double f = m[r * k + c];
      for (std::size_t j = 0; j < k; ++j) {
        m[r * k + j] -= f * m[c * k + j];
        inv[r * k + j] -= f * inv[c * k + j];
      }
    }
  }
  m = inv;
  return true;
}

}  // namespace

FitResult maximize(const LogLik& loglik, std::size_t k, double total_weight,
                   const FitOptions& options) {
  Objective obj{&loglik, k, total_weight, options.penalizer, 0, {}};
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
  // Hessian of the penalised total log-likelihood in log-parameters, by central differences of
  // the analytic gradient.
  std::vector<double> H(k * k, 0.0), gp(k), gm(k), up = best;
  const double h = 1e-5;
  for (std::size_t j = 0; j < k; ++j) {
    up = best;
    up[j] = best[j] + h;
    obj.value(up.data(), gp.data());
    up[j] = best[j] - h;
    obj.value(up.data(), gm.data());
    for (std::size_t i = 0; i < k; ++i) H[i * k + j] = -(gp[i] - gm[i]) / (2 * h) * total_weight;
  }
  for (std::size_t i = 0; i < k; ++i)
    for (std::size_t j = i + 1; j < k; ++j) H[i * k + j] = H[j * k + i] = 0.5 * (H[i * k + j] + H[j * k + i]);
  // cov_log = inverse of the negative Hessian of the log-likelihood.
  std::vector<double> negH(k * k);
  for (std::size_t i = 0; i < k * k; ++i) negH[i] = -H[i];
  res.params.resize(k);
  res.se.assign(k, std::numeric_limits<double>::quiet_NaN());
  for (std::size_t i = 0; i < k; ++i) res.params[i] = std::exp(best[i]);
  bool se_ok = invert(negH, k);
  if (se_ok)
    for (std::size_t i = 0; i < k; ++i) se_ok = se_ok && negH[i * k + i] > 0;
  if (se_ok) {
    for (std::size_t i = 0; i < k; ++i) res.se[i] = res.params[i] * std::sqrt(negH[i * k + i]);
  } else {
    msg += "; Hessian not negative definite: standard errors are NaN";
  }
  for (std::size_t i = 0; i < k; ++i)
    if (std::fabs(best[i]) >= kLogBound - 1e-9) {
      msg += "; a parameter reached the bound exp(+-30)";
      converged = false;
      break;
    }
  std::vector<double> gtmp(k);
  res.report.log_likelihood = loglik(best.data(), gtmp.data());
  res.report.converged = converged;
  res.report.iterations = evaluations;
  res.report.gradient_norm = gn;
  res.report.message = msg;
  return res;
}

}  // namespace detail
}  // namespace v0
}  // namespace crmkit
