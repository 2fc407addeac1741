// BG/NBD and MBG/NBD. The two differ only in where dropout may happen (after each repeat purchase,
// or also at time 0), so they share the likelihood code with a `modified` switch.
#include <boost/math/special_functions/beta.hpp>
#include <algorithm>
#include <cmath>
#include <utility>

#include "crmkit/base/error.hpp"
#include "internal.hpp"
#include "purchases.hpp"

namespace crmkit {
inline namespace v0 {

namespace {

using detail::digamma;
using detail::lgamma_;

constexpr const char* kNames[4] = {"params.r", "params.alpha", "params.a", "params.b"};

// Total weighted log-likelihood over compressed rows and its gradient in log-parameters. Terms that
// depend only on the frequency are evaluated once per distinct frequency.
double grouped_loglik(const detail::Compressed& d, bool modified, const double* u, double* grad,
                      unsigned threads = 0) {
  const double r = std::exp(u[0]), alpha = std::exp(u[1]), a = std::exp(u[2]), b = std::exp(u[3]);
  const double shift = modified ? 1.0 : 0.0;
  const double la = std::log(alpha), lga = std::log(a);
  const double lg_r = lgamma_(r), lg_ab = lgamma_(a + b), lg_b = lgamma_(b);
  const double dg_r = digamma(r), dg_ab = digamma(a + b), dg_b = digamma(b);
  double G[4] = {0, 0, 0, 0};
  double total = 0;
  for (std::size_t j = 0; j < d.xs.size(); ++j) {
    const double x = d.xs[j], W = d.xw[j], bx = b + x + shift;
    total += W * (lgamma_(r + x) - lg_r + r * la + lg_ab - lg_b + lgamma_(bx) - lgamma_(a + bx));
    const double dg_abx = digamma(a + bx);
    G[0] += W * (digamma(r + x) - dg_r + la);
    G[1] += W * r / alpha;
    G[2] += W * (dg_ab - dg_abx);
    G[3] += W * (dg_ab - dg_b + digamma(bx) - dg_abx);
  }
  // Per distinct recency / age: log(alpha + .) and 1 / (alpha + .); per distinct frequency:
  // log(b + x - 1 + shift).
  thread_local std::vector<double> ltx, itx, lT, iT, lbx, ibx;
  ltx.resize(d.u1.size());
  itx.resize(d.u1.size());
  lT.resize(d.u2.size());
  iT.resize(d.u2.size());
  lbx.resize(d.xs.size());
  ibx.resize(d.xs.size());
  for (std::size_t k = 0; k < d.u1.size(); ++k) {
    ltx[k] = std::log(alpha + d.u1[k]);
    itx[k] = 1.0 / (alpha + d.u1[k]);
  }
  for (std::size_t k = 0; k < d.u2.size(); ++k) {
    lT[k] = std::log(alpha + d.u2[k]);
    iT[k] = 1.0 / (alpha + d.u2[k]);
  }
  for (std::size_t k = 0; k < d.xs.size(); ++k) {
    lbx[k] = std::log(b + d.xs[k] - 1 + shift);
    ibx[k] = std::exp(-lbx[k]);
  }
  // Rows in fixed blocks (one partial sum per block, added in block order): the same result for
  // every thread count.
  constexpr std::size_t kBlock = 8192;
  const std::size_t rows = d.w.size();
  const std::size_t blocks = detail::block_count(rows, kBlock);
  thread_local std::vector<double> partial;
  partial.assign(5 * blocks, 0.0);
  double* const part = partial.data();
  const double* const pltx = ltx.data();
  const double* const pitx = itx.data();
  const double* const plT = lT.data();
  const double* const piT = iT.data();
  const double* const plbx = lbx.data();
  const double* const pibx = ibx.data();
  auto block_sum = [&, part, pltx, pitx, plT, piT, plbx, pibx](unsigned, std::size_t blk,
                                                               std::size_t i0, std::size_t i1) {
    double t0 = 0, g0 = 0, g1 = 0, g2 = 0, g3 = 0;
    for (std::size_t i = i0; i < i1; ++i) {
      const double x = d.c0[i], w = d.w[i];
      const std::size_t jt = d.i2[i];
      const double rx = r + x, A3 = -rx * plT[jt];
      if (x > 0 || modified) {
        const std::size_t jx = d.i1[i], jb = d.xi[i];
        const double A4 = lga - plbx[jb] - rx * pltx[jx];
        // ll = logaddexp(A3, A4); w4 = exp(A4 - ll) = sigmoid(A4 - A3).
        const double dd = A4 - A3;
        // log(1 + e) with e in (0, 1] instead of log1p(e): an absolute error below 2.3e-16 per
        // row, under the rounding of the sum (each row's constant terms are O(1)); log is about
        // twice as fast as log1p.
        const double e = std::exp(-std::fabs(dd)), ope = 1.0 + e;
        const double ll = (dd > 0 ? A4 : A3) + std::log(ope);
        const double w4 = (dd > 0 ? 1.0 : e) / ope;
        const double w3 = 1.0 - w4;
        t0 += w * ll;
        g0 -= w * (w3 * plT[jt] + w4 * pltx[jx]);
        g1 -= w * rx * (w3 * piT[jt] + w4 * pitx[jx]);
        g2 += w * w4;
        g3 -= w * w4 * pibx[jb];
      } else {
        t0 += w * A3;
        g0 -= w * plT[jt];
        g1 -= w * rx * piT[jt];
      }
    }
    double* out = part + 5 * blk;
    out[0] = t0;
    out[1] = g0;
    out[2] = g1;
    out[3] = g2;
    out[4] = g3;
  };
  detail::parallel_blocks(rows, kBlock, detail::threads_for(rows, threads), block_sum);
  double g0 = 0, g1 = 0, g2 = 0, g3 = 0;
  for (std::size_t blk = 0; blk < blocks; ++blk) {
    const double* in = part + 5 * blk;
    total += in[0];
    g0 += in[1];
    g1 += in[2];
    g2 += in[3];
    g3 += in[4];
  }
  G[0] += g0;
  G[1] += g1;
  G[2] += g2 / a;
  G[3] += g3;
  if (grad) {
    const double th[4] = {r, alpha, a, b};
    for (int k = 0; k < 4; ++k) grad[k] = G[k] * th[k];
  }
  return total;
}

double row_loglik(const double p[4], bool modified, double x, double tx, double T) {
  const double r = p[0], alpha = p[1], a = p[2], b = p[3];
  const double shift = modified ? 1.0 : 0.0, bx = b + x + shift;
  const double c = lgamma_(r + x) - lgamma_(r) + r * std::log(alpha) + lgamma_(a + b) - lgamma_(b) +
                   lgamma_(bx) - lgamma_(a + bx);
  const double A3 = -(r + x) * std::log(alpha + T);
  if (x > 0 || modified) {
    const double A4 = std::log(a) - std::log(b + x - 1 + shift) - (r + x) * std::log(alpha + tx);
    return c + detail::logaddexp(A3, A4);
  }
  return c + A3;
}

struct Fitted {
  double params[4];
  double se[4];
  FitReport report;
};

Fitted fit_impl(bool modified, std::span<const double> x, std::span<const double> tx,
                std::span<const double> T, std::span<const double> w, const FitOptions& o) {
  detail::check_rfm(x, tx, T, w);
  detail::check_options(o, 4);
  if (x.empty()) throw_invalid("frequency", "must not be empty");
  const detail::Compressed d = detail::compress(x, tx, T, w);
  const detail::LogLik ll = [&](const double* u, double* g) {
    return grouped_loglik(d, modified, u, g, o.threads);
  };
  detail::FitResult res = detail::maximize(ll, 4, d.total, o, kNames);
  detail::check_information_continuous(d, res.report);
  Fitted f;
  for (int k = 0; k < 4; ++k) {
    f.params[k] = res.params[k];
    f.se[k] = res.se[k];
  }
  f.report = res.report;
  return f;
}

// Delta-method standard errors at p (compute_standard_errors), or with `covariance` the
// covariance matrix (4 x 4, row-major).
std::vector<double> delta_se(const double p[4], bool modified, std::span<const double> x,
                             std::span<const double> tx, std::span<const double> T,
                             std::span<const double> w, double penalizer,
                             bool covariance = false) {
  detail::check_rfm(x, tx, T, w);
  FitOptions o;
  o.penalizer = penalizer;
  detail::check_options(o, 4);
  if (x.empty()) throw_invalid("frequency", "must not be empty");
  const detail::Compressed d = detail::compress(x, tx, T, w);
  const detail::LogLik ll = [&](const double* u, double* g) {
    return grouped_loglik(d, modified, u, g);
  };
  const std::vector<double> u = {std::log(p[0]), std::log(p[1]), std::log(p[2]), std::log(p[3])};
  std::vector<double> out;
  if (covariance)
    detail::delta_method_covariance(ll, 4, d.total, penalizer, u, out);
  else
    detail::delta_method_se(ll, 4, d.total, penalizer, u, out);
  return out;
}

double total_loglik(const double p[4], bool modified, std::span<const double> x,
                    std::span<const double> tx, std::span<const double> T,
                    std::span<const double> w) {
  detail::check_rfm(x, tx, T, w);
  if (x.empty()) return 0.0;
  const detail::Compressed d = detail::compress(x, tx, T, w);
  const double u[4] = {std::log(p[0]), std::log(p[1]), std::log(p[2]), std::log(p[3])};
  return grouped_loglik(d, modified, u, nullptr);
}

std::vector<double> total_gradient(const double p[4], bool modified, std::span<const double> x,
                                   std::span<const double> tx, std::span<const double> T,
                                   std::span<const double> w) {
  detail::check_rfm(x, tx, T, w);
  std::vector<double> g(4, 0.0);
  if (x.empty()) return g;
  const detail::Compressed d = detail::compress(x, tx, T, w);
  const double u[4] = {std::log(p[0]), std::log(p[1]), std::log(p[2]), std::log(p[3])};
  grouped_loglik(d, modified, u, g.data());
  for (int k = 0; k < 4; ++k) g[k] /= p[k];
  return g;
}

std::vector<double> individual(const double p[4], bool modified, std::span<const double> x,
                               std::span<const double> tx, std::span<const double> T) {
  detail::check_rfm(x, tx, T, {});
  std::vector<double> out(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) out[i] = row_loglik(p, modified, x[i], tx[i], T[i]);
  return out;
}

// P(alive) = 1 / (1 + odds), odds = a/(b+x-1+shift) ((alpha+T)/(alpha+t_x))^(r+x);
// log(b + x - 1 + shift) is tabulated for small x, and log((alpha+T)/(alpha+t_x)) is one log.
struct AliveTerms {
  static constexpr int kTable = 256;
  double r, alpha, b, shift, la;
  bool modified;
  double lb[kTable];
  AliveTerms(const double p[4], bool mod)
      : r(p[0]), alpha(p[1]), b(p[3]), shift(mod ? 1.0 : 0.0), la(std::log(p[2])), modified(mod) {
    for (int k = 0; k < kTable; ++k)
      lb[k] = (k == 0 && !modified) ? 0.0 : std::log(b + k - 1 + shift);
  }
  double at(double xi, double txi, double Ti) const {
    if (xi == 0 && !modified) return 1.0;
    const double lbx = xi < kTable ? lb[static_cast<int>(xi)] : std::log(b + xi - 1 + shift);
    // log of the ratio rather than log1p of (T - t_x)/(alpha + t_x): the absolute error in z
    // stays below (r + x) * 2.3e-16, and log is about twice as fast as log1p.
    const double z = la - lbx + (r + xi) * std::log((alpha + Ti) / (alpha + txi));
    return detail::inv_one_plus_exp(z);
  }
};

// Runs body(worker, begin, end) over [0, n) in blocks on up to `threads` workers (elementwise
// work: the result of a row does not depend on the split).
constexpr std::size_t kPredictBlock = 16384;
template <typename F>
void per_block(std::size_t n, unsigned threads, F&& body) {
  detail::parallel_blocks(
      n, kPredictBlock, threads,
      [&](unsigned worker, std::size_t, std::size_t i0, std::size_t i1) { body(worker, i0, i1); });
}

std::vector<double> alive(const double p[4], bool modified, std::span<const double> x,
                          std::span<const double> tx, std::span<const double> T,
                          bool allow_impossible = false) {
  detail::check_rfm(x, tx, T, {}, allow_impossible);
  const AliveTerms terms(p, modified);
  std::vector<double> out(x.size());
  per_block(x.size(), detail::threads_for(x.size()), [&](unsigned, std::size_t i0, std::size_t i1) {
    for (std::size_t i = i0; i < i1; ++i) out[i] = terms.at(x[i], tx[i], T[i]);
  });
  return out;
}

std::vector<double> conditional_expected(const double p[4], bool modified, double t,
                                         std::span<const double> x, std::span<const double> tx,
                                         std::span<const double> T,
                                         bool allow_impossible = false) {
  detail::check_t(t, "t");
  detail::check_rfm(x, tx, T, {}, allow_impossible);
  const AliveTerms terms(p, modified);
  const double r = p[0], alpha = p[1], a = p[2], b = p[3], shift = modified ? 1.0 : 0.0;
  std::vector<double> out(x.size());
  // The expectation given alive depends on (x, T) only; customers share few distinct pairs, so
  // each worker evaluates each pair it meets once.
  // Pairs are found through a small table of distinct T values and, for x < kSmall, a table per x
  // (NaN = not computed yet); larger x through a hash of the pair.
  constexpr std::size_t kSmall = 256;
  auto kc = [&](double xi, double Ti) {
    return detail::bg_kc(r + xi, alpha + Ti, a, b + xi + shift, t);
  };
  struct Cache {
    detail::ValueIds t_ids;
    std::vector<std::vector<double>> by_x = std::vector<std::vector<double>>(kSmall);
    detail::KeyIndex index{64};
    std::vector<double> large;
  };
  const unsigned threads = detail::threads_for(x.size());
  std::vector<Cache> caches(threads);  // one per worker, kept across its blocks
  per_block(x.size(), threads, [&](unsigned worker, std::size_t i0, std::size_t i1) {
    detail::ValueIds& t_ids = caches[worker].t_ids;
    std::vector<std::vector<double>>& by_x = caches[worker].by_x;
    detail::KeyIndex& index = caches[worker].index;
    std::vector<double>& cache = caches[worker].large;
    for (std::size_t i = i0; i < i1; ++i) {
      const double xi = x[i], Ti = T[i];
      double e;
      if (xi < kSmall) {
        std::vector<double>& row = by_x[static_cast<std::size_t>(xi)];
        const std::uint32_t j = t_ids.id(Ti);
        if (j >= row.size()) row.resize(t_ids.values().size(), NAN);
        e = row[j];
        if (std::isnan(e)) e = row[j] = kc(xi, Ti);
      } else {
        bool inserted = false;
        const std::size_t k = index.find_or_insert(xi, Ti, 0.0, inserted);
        if (inserted) cache.push_back(kc(xi, Ti));
        e = cache[k];
      }
      out[i] = terms.at(xi, tx[i], Ti) * e;
    }
  });
  return out;
}

// sum_k (E[X(ends[k])] - E[X(ends[k-1])]) * factors[k] per customer (purchases.hpp): P(alive) once
// per row, the expectation given alive once per distinct (x, T) and horizon, found as in
// conditional_expected.
std::vector<double> discounted_conditional(const double p[4], bool modified,
                                           std::span<const double> ends,
                                           std::span<const double> factors,
                                           std::span<const double> x, std::span<const double> tx,
                                           std::span<const double> T) {
  for (double t : ends) detail::check_t(t, "t");
  detail::check_rfm(x, tx, T, {});
  const AliveTerms terms(p, modified);
  const double r = p[0], alpha = p[1], a = p[2], b = p[3], shift = modified ? 1.0 : 0.0;
  std::vector<double> out(x.size());
  constexpr std::size_t kSmall = 256;
  auto sum = [&](double xi, double Ti) {
    double prev = 0, acc = 0;
    for (std::size_t k = 0; k < ends.size(); ++k) {
      const double cur = detail::bg_kc(r + xi, alpha + Ti, a, b + xi + shift, ends[k]);
      acc += (cur - prev) * factors[k];
      prev = cur;
    }
    return acc;
  };
  struct Cache {
    detail::ValueIds t_ids;
    std::vector<std::vector<double>> by_x = std::vector<std::vector<double>>(kSmall);
    detail::KeyIndex index{64};
    std::vector<double> large;
  };
  const unsigned threads = detail::threads_for(x.size());
  std::vector<Cache> caches(threads);
  per_block(x.size(), threads, [&](unsigned worker, std::size_t i0, std::size_t i1) {
    Cache& c = caches[worker];
    for (std::size_t i = i0; i < i1; ++i) {
      const double xi = x[i], Ti = T[i];
      double e;
      if (xi < kSmall) {
        std::vector<double>& row = c.by_x[static_cast<std::size_t>(xi)];
        const std::uint32_t j = c.t_ids.id(Ti);
        if (j >= row.size()) row.resize(c.t_ids.values().size(), NAN);
        e = row[j];
        if (std::isnan(e)) e = row[j] = sum(xi, Ti);
      } else {
        bool inserted = false;
        const std::size_t k = c.index.find_or_insert(xi, Ti, 0.0, inserted);
        if (inserted) c.large.push_back(sum(xi, Ti));
        e = c.large[k];
      }
      out[i] = terms.at(xi, tx[i], Ti) * e;
    }
  });
  return out;
}

// P(X(t) = n) for a new customer. A BG/NBD customer can drop out after each repeat purchase, an
// MBG/NBD customer also at time 0; with k = 1 for MBG/NBD and 0 for BG/NBD:
//   P = B(a, b+n+k)/B(a, b) NBD(n) + B(a+1, b+n-1+k)/B(a, b) P(NBD >= n)   (second term for
// n >= 1; for MBG/NBD also n = 0, where P(NBD >= 0) = 1), NBD the Gamma-Poisson mixture and its
// tail the regularised incomplete beta I_{t/(alpha+t)}(n, r).
double probability_of_n(const double p[4], bool modified, double t, double n) {
  detail::check_t(t, "t");
  if (!detail::is_integer(n) || n < 0)
    throw_invalid("n", "must be a non-negative integer");
  const double r = p[0], alpha = p[1], a = p[2], b = p[3];
  const double k = modified ? 1.0 : 0.0;
  const double lab = detail::lbeta(a, b);
  const double lz0 = -std::log1p(t / alpha);  // log(alpha / (alpha + t))
  // Still active after n purchases and exactly n purchases by t.
  double first;
  if (n == 0) {
    first = std::exp(detail::lbeta(a, b + k) - lab + r * lz0);
  } else if (t == 0) {
    first = 0;
  } else {
    const double lz = std::log(t) - std::log(alpha + t);
    first = std::exp(detail::lbeta(a, b + n + k) - lab + lgamma_(r + n) - lgamma_(r) -
                     lgamma_(n + 1) + r * lz0 + n * lz);
  }
  // Dropped out right after the n-th purchase, having made at least n by t.
  double second = 0;
  if (n == 0 && modified) {
    second = std::exp(detail::lbeta(a + 1, b) - lab);
  } else if (n > 0 && t > 0) {
    // P(NBD >= n) = I_z(n, r) = 1 - I_{1-z}(r, n), z = t / (alpha + t): Boost forms the other of
    // z and 1 - z by subtraction, so the smaller of the two is passed, each an exact quotient
    // (as z nears 1, 1 - t / (alpha + t) loses digits, and so does 1 - alpha / (alpha + t) as z
    // nears 0).
    const double nbd_tail = t <= alpha ? boost::math::ibeta(n, r, t / (alpha + t))
                                       : boost::math::ibetac(r, n, alpha / (alpha + t));
    second = std::exp(detail::lbeta(a + 1, b + n - 1 + k) - lab) * nbd_tail;
  }
  const double out = first + second;
  return std::isfinite(out) ? std::min(1.0, std::max(0.0, out)) : 0.0;
}

std::vector<double> unconditional_expected(const double p[4], bool modified,
                                           std::span<const double> t) {
  std::vector<double> out(t.size());
  const double r = p[0], alpha = p[1], a = p[2], b = p[3];
  for (std::size_t i = 0; i < t.size(); ++i) {
    detail::check_t(t[i], "t");
    out[i] = modified ? b / (a + b) * detail::bg_kc(r, alpha, a, b + 1, t[i])
                      : detail::bg_kc(r, alpha, a, b, t[i]);
  }
  return out;
}

}  // namespace

// ---- BetaGeoModel ---------------------------------------------------------------------------

BetaGeoModel::BetaGeoModel(const BetaGeoParams& params) : params_(params) {
  const double v[4] = {params.r, params.alpha, params.a, params.b};
  detail::check_params(v, kNames);
  se_ = {NAN, NAN, NAN, NAN};
}

BetaGeoModel::BetaGeoModel(const BetaGeoParams& params, const BetaGeoParams& standard_errors, FitReport report)
    : BetaGeoModel(params) {
  const double se[4] = {standard_errors.r, standard_errors.alpha, standard_errors.a, standard_errors.b};
  detail::check_standard_error_values(se, kNames);
  se_ = standard_errors;
  report_ = std::move(report);
}

BetaGeoModel BetaGeoModel::fit(std::span<const double> frequency, std::span<const double> recency,
                               std::span<const double> T, std::span<const double> weights,
                               const FitOptions& options) {
  const Fitted f = fit_impl(false, frequency, recency, T, weights, options);
  BetaGeoModel m({f.params[0], f.params[1], f.params[2], f.params[3]});
  m.se_ = {f.se[0], f.se[1], f.se[2], f.se[3]};
  m.report_ = f.report;
  return m;
}

double BetaGeoModel::log_likelihood(std::span<const double> frequency,
                                    std::span<const double> recency, std::span<const double> T,
                                    std::span<const double> weights) const {
  const double p[4] = {params_.r, params_.alpha, params_.a, params_.b};
  return total_loglik(p, false, frequency, recency, T, weights);
}

std::vector<double> BetaGeoModel::log_likelihood_gradient(std::span<const double> frequency,
                                                       std::span<const double> recency,
                                                       std::span<const double> T,
                                                       std::span<const double> weights) const {
  const double p[4] = {params_.r, params_.alpha, params_.a, params_.b};
  return total_gradient(p, false, frequency, recency, T, weights);
}

std::vector<double> BetaGeoModel::individual_log_likelihood(std::span<const double> frequency,
                                                            std::span<const double> recency,
                                                            std::span<const double> T) const {
  const double p[4] = {params_.r, params_.alpha, params_.a, params_.b};
  return individual(p, false, frequency, recency, T);
}

BetaGeoParams BetaGeoModel::compute_standard_errors(std::span<const double> frequency,
                                                    std::span<const double> recency,
                                                    std::span<const double> T,
                                                    std::span<const double> weights,
                                                    double penalizer) const {
  const double p[4] = {params_.r, params_.alpha, params_.a, params_.b};
  const std::vector<double> se = delta_se(p, false, frequency, recency, T, weights, penalizer);
  return {se[0], se[1], se[2], se[3]};
}

std::vector<double> BetaGeoModel::covariance(std::span<const double> frequency,
                                             std::span<const double> recency,
                                             std::span<const double> T,
                                             std::span<const double> weights,
                                             double penalizer) const {
  const double p[4] = {params_.r, params_.alpha, params_.a, params_.b};
  return delta_se(p, false, frequency, recency, T, weights, penalizer, true);
}

BetaGeoModel BetaGeoModel::with_standard_errors(std::span<const double> frequency,
                                   std::span<const double> recency,
                                   std::span<const double> T,
                                   std::span<const double> weights, double penalizer) const {
  const BetaGeoParams se = compute_standard_errors(frequency, recency, T, weights, penalizer);
  const double values[4] = {se.r, se.alpha, se.a, se.b};
  FitReport report = report_;
  detail::check_standard_errors(values, report);
  return BetaGeoModel(params_, se, std::move(report));
}

std::vector<double> BetaGeoModel::conditional_probability_alive(
    std::span<const double> frequency, std::span<const double> recency,
    std::span<const double> T, ImpossibleHistories histories) const {
  const double p[4] = {params_.r, params_.alpha, params_.a, params_.b};
  return alive(p, false, frequency, recency, T, histories == ImpossibleHistories::evaluate);
}

std::vector<double> BetaGeoModel::conditional_expected_number_of_purchases_up_to_time(
    double t, std::span<const double> frequency, std::span<const double> recency,
    std::span<const double> T) const {
  return conditional_expected_number_of_purchases_up_to_time(t, frequency, recency, T,
                                                             ImpossibleHistories::reject);
}

std::vector<double> BetaGeoModel::conditional_expected_number_of_purchases_up_to_time(
    double t, std::span<const double> frequency, std::span<const double> recency,
    std::span<const double> T, ImpossibleHistories histories) const {
  const double p[4] = {params_.r, params_.alpha, params_.a, params_.b};
  return conditional_expected(p, false, t, frequency, recency, T,
                              histories == ImpossibleHistories::evaluate);
}

std::vector<double> BetaGeoModel::expected_number_of_purchases_up_to_time(
    std::span<const double> t) const {
  const double p[4] = {params_.r, params_.alpha, params_.a, params_.b};
  return unconditional_expected(p, false, t);
}

double BetaGeoModel::probability_of_n_purchases_up_to_time(double t, double n) const {
  const double p[4] = {params_.r, params_.alpha, params_.a, params_.b};
  return probability_of_n(p, false, t, n);
}

// ---- ModifiedBetaGeoModel -------------------------------------------------------------------

ModifiedBetaGeoModel::ModifiedBetaGeoModel(const ModifiedBetaGeoParams& params) : params_(params) {
  const double v[4] = {params.r, params.alpha, params.a, params.b};
  detail::check_params(v, kNames);
  se_ = {NAN, NAN, NAN, NAN};
}

ModifiedBetaGeoModel::ModifiedBetaGeoModel(const ModifiedBetaGeoParams& params, const ModifiedBetaGeoParams& standard_errors, FitReport report)
    : ModifiedBetaGeoModel(params) {
  const double se[4] = {standard_errors.r, standard_errors.alpha, standard_errors.a, standard_errors.b};
  detail::check_standard_error_values(se, kNames);
  se_ = standard_errors;
  report_ = std::move(report);
}

ModifiedBetaGeoModel ModifiedBetaGeoModel::fit(std::span<const double> frequency,
                                               std::span<const double> recency,
                                               std::span<const double> T,
                                               std::span<const double> weights,
                                               const FitOptions& options) {
  const Fitted f = fit_impl(true, frequency, recency, T, weights, options);
  ModifiedBetaGeoModel m({f.params[0], f.params[1], f.params[2], f.params[3]});
  m.se_ = {f.se[0], f.se[1], f.se[2], f.se[3]};
  m.report_ = f.report;
  return m;
}

double ModifiedBetaGeoModel::log_likelihood(std::span<const double> frequency,
                                            std::span<const double> recency,
                                            std::span<const double> T,
                                            std::span<const double> weights) const {
  const double p[4] = {params_.r, params_.alpha, params_.a, params_.b};
  return total_loglik(p, true, frequency, recency, T, weights);
}

std::vector<double> ModifiedBetaGeoModel::log_likelihood_gradient(std::span<const double> frequency,
                                                       std::span<const double> recency,
                                                       std::span<const double> T,
                                                       std::span<const double> weights) const {
  const double p[4] = {params_.r, params_.alpha, params_.a, params_.b};
  return total_gradient(p, true, frequency, recency, T, weights);
}

std::vector<double> ModifiedBetaGeoModel::individual_log_likelihood(
    std::span<const double> frequency, std::span<const double> recency,
    std::span<const double> T) const {
  const double p[4] = {params_.r, params_.alpha, params_.a, params_.b};
  return individual(p, true, frequency, recency, T);
}

ModifiedBetaGeoParams ModifiedBetaGeoModel::compute_standard_errors(
    std::span<const double> frequency, std::span<const double> recency, std::span<const double> T,
    std::span<const double> weights, double penalizer) const {
  const double p[4] = {params_.r, params_.alpha, params_.a, params_.b};
  const std::vector<double> se = delta_se(p, true, frequency, recency, T, weights, penalizer);
  return {se[0], se[1], se[2], se[3]};
}

std::vector<double> ModifiedBetaGeoModel::covariance(std::span<const double> frequency,
                                                     std::span<const double> recency,
                                                     std::span<const double> T,
                                                     std::span<const double> weights,
                                                     double penalizer) const {
  const double p[4] = {params_.r, params_.alpha, params_.a, params_.b};
  return delta_se(p, true, frequency, recency, T, weights, penalizer, true);
}

ModifiedBetaGeoModel ModifiedBetaGeoModel::with_standard_errors(std::span<const double> frequency,
                                   std::span<const double> recency,
                                   std::span<const double> T,
                                   std::span<const double> weights, double penalizer) const {
  const ModifiedBetaGeoParams se = compute_standard_errors(frequency, recency, T, weights, penalizer);
  const double values[4] = {se.r, se.alpha, se.a, se.b};
  FitReport report = report_;
  detail::check_standard_errors(values, report);
  return ModifiedBetaGeoModel(params_, se, std::move(report));
}

std::vector<double> ModifiedBetaGeoModel::conditional_probability_alive(
    std::span<const double> frequency, std::span<const double> recency,
    std::span<const double> T, ImpossibleHistories histories) const {
  const double p[4] = {params_.r, params_.alpha, params_.a, params_.b};
  return alive(p, true, frequency, recency, T, histories == ImpossibleHistories::evaluate);
}

std::vector<double> ModifiedBetaGeoModel::conditional_expected_number_of_purchases_up_to_time(
    double t, std::span<const double> frequency, std::span<const double> recency,
    std::span<const double> T) const {
  return conditional_expected_number_of_purchases_up_to_time(t, frequency, recency, T,
                                                             ImpossibleHistories::reject);
}

std::vector<double> ModifiedBetaGeoModel::conditional_expected_number_of_purchases_up_to_time(
    double t, std::span<const double> frequency, std::span<const double> recency,
    std::span<const double> T, ImpossibleHistories histories) const {
  const double p[4] = {params_.r, params_.alpha, params_.a, params_.b};
  return conditional_expected(p, true, t, frequency, recency, T,
                              histories == ImpossibleHistories::evaluate);
}

std::vector<double> ModifiedBetaGeoModel::expected_number_of_purchases_up_to_time(
    std::span<const double> t) const {
  const double p[4] = {params_.r, params_.alpha, params_.a, params_.b};
  return unconditional_expected(p, true, t);
}

double ModifiedBetaGeoModel::probability_of_n_purchases_up_to_time(double t, double n) const {
  const double p[4] = {params_.r, params_.alpha, params_.a, params_.b};
  return probability_of_n(p, true, t, n);
}

// ---- discounted purchases (purchases.hpp) ----------------------------------------------------

namespace detail {

std::vector<double> discounted_expected_purchases(const TransactionModel& model,
                                                  std::span<const double> ends,
                                                  std::span<const double> factors,
                                                  std::span<const double> frequency,
                                                  std::span<const double> recency,
                                                  std::span<const double> T) {
  if (const auto* bg = dynamic_cast<const BetaGeoModel*>(&model)) {
    const BetaGeoParams& q = bg->params();
    const double p[4] = {q.r, q.alpha, q.a, q.b};
    return discounted_conditional(p, false, ends, factors, frequency, recency, T);
  }
  if (const auto* mbg = dynamic_cast<const ModifiedBetaGeoModel*>(&model)) {
    const ModifiedBetaGeoParams& q = mbg->params();
    const double p[4] = {q.r, q.alpha, q.a, q.b};
    return discounted_conditional(p, true, ends, factors, frequency, recency, T);
  }
  std::vector<double> out(frequency.size(), 0.0), previous(frequency.size(), 0.0);
  for (std::size_t k = 0; k < ends.size(); ++k) {
    const std::vector<double> e =
        model.conditional_expected_number_of_purchases_up_to_time(ends[k], frequency, recency, T);
    for (std::size_t j = 0; j < out.size(); ++j) {
      out[j] += (e[j] - previous[j]) * factors[k];
      previous[j] = e[j];
    }
  }
  return out;
}

}  // namespace detail

}  // namespace v0
}  // namespace crmkit
