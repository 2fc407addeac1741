// Gamma-Gamma spend model and lifetimes' customer lifetime value.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <type_traits>
#include <utility>
#include <string>

#include "crmkit/base/error.hpp"
#include "fields.hpp"
#include "internal.hpp"
#include "purchases.hpp"

namespace crmkit {
inline namespace v0 {

namespace {

using detail::digamma;
using detail::lgamma_;

constexpr const char* kNames[3] = {"params.p", "params.q", "params.v"};

// The rows with a positive weight in a canonical order, with what does not depend on the
// parameters: x m, the distinct frequencies with their total weights (the terms in x alone are
// evaluated once per frequency), and the sums sum_i w x log m and sum_i w log m (the
// (p x - 1) log m term of the likelihood). Rows are sorted by (x, m) and equal rows merged with
// their weights summed, so the sums below do not depend on the input's row order, and a fit of
// merged spend statistics (one row of weight 2) equals, bit for bit, a fit of the rows they came
// from. Frequencies are ranked by hashing (few distinct values); rows are ordered by radix sorts.
struct SpendRows {
  std::vector<double> x, xm, w;
  std::vector<double> xs, xw;
  double wxlm = 0, wlm = 0, total = 0;
  // Weighted sums for the method-of-moments start (moment_start): u = 1/x, y = m^2.
  double sm = 0, su = 0, suu = 0, sy = 0, suy = 0;
};

// Method-of-moments estimates of (p, q, v), the start of the fit when the caller gives none. With
// nu ~ Gamma(q, v): E[m] = p v / (q - 1) and E[m^2 | x] = A / x + B with A = p v^2 / ((q - 1)
// (q - 2)), B = p A; A and B by weighted least squares of m^2 on 1/x. They exist when q > 2 and
// the rows span two frequencies at least; otherwise (or if anything is not finite and positive)
// false, and the fit starts at every parameter 1.
bool moment_start(const SpendRows& s, double out[3]) {
  const double n = s.total;
  const double den = n * s.suu - s.su * s.su;
  if (!(den > 1e-12 * n * s.suu)) return false;
  const double A = (n * s.suy - s.su * s.sy) / den;
  const double B = (s.sy - A * s.su) / n;
  const double mu = s.sm / n;
  const double p = B / A, rho = B / (mu * mu);
  const double q = 2.0 + 1.0 / (rho - 1.0);
  const double v = mu * (q - 1.0) / p;
  out[0] = p;
  out[1] = q;
  out[2] = v;
  for (int k = 0; k < 3; ++k)
    if (!std::isfinite(out[k]) || !(out[k] > 1e-8) || !(out[k] < 1e8)) return false;
  return A > 0 && rho > 1;
}

std::uint64_t bits_of(double v) {
  std::uint64_t u;
  std::memcpy(&u, &v, sizeof u);
  return u;
}
double double_of(std::uint64_t u) {
  double v;
  std::memcpy(&v, &u, sizeof v);
  return v;
}

// A monetary value's bits with its row's weight (weighted input only).
struct KeyWeight {
  std::uint64_t key;
  double w;
};
std::uint64_t key_of(std::uint64_t k) { return k; }
std::uint64_t key_of(const KeyWeight& k) { return k.key; }

// Sorts a[0, n) by key_of (positive doubles order as their bit patterns): a stable LSD radix sort
// on 11-bit digits (the counts of a digit fit in L1 and its 2,048 write streams in L2), passes
// whose digit is the same for every element skipped; short runs by insertion. tmp: scratch of n;
// counts: scratch of kRadixCounts (on the heap: a host's thread may have a small stack).
constexpr int kRadixBits = 11, kRadixPasses = 6;
constexpr std::size_t kRadixBuckets = std::size_t{1} << kRadixBits;
constexpr std::size_t kRadixCounts = kRadixPasses * kRadixBuckets;
template <class T>
void radix_sort(T* a, T* tmp, std::size_t n, std::size_t* counts) {
  if (n < 48) {
    for (std::size_t i = 1; i < n; ++i) {
      const T v = a[i];
      std::size_t j = i;
      for (; j > 0 && key_of(a[j - 1]) > key_of(v); --j) a[j] = a[j - 1];
      a[j] = v;
    }
    return;
  }
  constexpr int kBits = kRadixBits, kPasses = kRadixPasses;
  constexpr std::size_t kBuckets = kRadixBuckets;
  std::fill(counts, counts + kRadixCounts, std::size_t{0});
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t k = key_of(a[i]);
    for (int d = 0; d < kPasses; ++d) ++counts[d * kBuckets + ((k >> (kBits * d)) & (kBuckets - 1))];
  }
  T* from = a;
  T* to = tmp;
  for (int d = 0; d < kPasses; ++d) {
    std::size_t* c = counts + d * kBuckets;
    const int shift = kBits * d;
    if (c[(key_of(from[0]) >> shift) & (kBuckets - 1)] == n) continue;  // one digit for all
    std::size_t sum = 0;
    for (std::size_t b = 0; b < kBuckets; ++b) {
      const std::size_t here = c[b];
      c[b] = sum;
      sum += here;
    }
    for (std::size_t i = 0; i < n; ++i) to[c[(key_of(from[i]) >> shift) & (kBuckets - 1)]++] = from[i];
    std::swap(from, to);
  }
  if (from != a) std::copy(from, from + n, a);
}

SpendRows compress_spend(std::span<const double> x, std::span<const double> m,
                         std::span<const double> w) {
  constexpr std::uint32_t kSkip = 0xffffffffu;
  const std::size_t n = x.size();
  detail::ValueIds ids;
  std::vector<std::uint32_t> gid(n);
  std::size_t kept = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!w.empty() && !(w[i] > 0)) {
      gid[i] = kSkip;
      continue;
    }
    gid[i] = ids.id(x[i]);
    ++kept;
  }
  if (kept == 0) throw_invalid("weights", "total weight must be > 0");
  // Distinct frequencies in increasing order, and each id's rank among them.
  const std::vector<double>& values = ids.values();
  const std::size_t groups = values.size();
  std::vector<std::uint32_t> order(groups), rank(groups);
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(),
            [&](std::uint32_t l, std::uint32_t r) { return values[l] < values[r]; });
  for (std::size_t k = 0; k < groups; ++k) rank[order[k]] = static_cast<std::uint32_t>(k);
  // The rows by frequency rank (a counting sort), then each frequency's rows by m.
  std::vector<std::size_t> start(groups + 1, 0);
  for (std::size_t i = 0; i < n; ++i)
    if (gid[i] != kSkip) ++start[rank[gid[i]] + 1];
  for (std::size_t g = 0; g < groups; ++g) start[g + 1] += start[g];
  SpendRows s;
  s.xs.resize(groups);
  s.xw.assign(groups, 0.0);
  // One merged row (x, m) of weight wi.
  auto emit = [&s](std::size_t g, double xg, double mi, double wi) {
    const double lm = std::log(mi);
    s.x.push_back(xg);
    s.xm.push_back(xg * mi);
    s.w.push_back(wi);
    s.xw[g] += wi;
    s.wxlm += wi * xg * lm;
    s.wlm += wi * lm;
    s.total += wi;
    const double u = 1.0 / xg, y = mi * mi;
    s.sm += wi * mi;
    s.su += wi * u;
    s.suu += wi * u * u;
    s.sy += wi * y;
    s.suy += wi * u * y;
  };
  auto sorted_groups = [&](auto& rows, auto&& value_of) {
    using T = typename std::decay_t<decltype(rows)>::value_type;
    {
      std::vector<std::size_t> next(start.begin(), start.end() - 1);
      for (std::size_t i = 0; i < n; ++i)
        if (gid[i] != kSkip) rows[next[rank[gid[i]]]++] = value_of(i);
    }
    std::vector<std::uint32_t>().swap(gid);
    std::vector<T> tmp(kept);
    std::vector<std::size_t> counts(kRadixCounts);
    for (std::size_t g = 0; g < groups; ++g)
      radix_sort(rows.data() + start[g], tmp.data(), start[g + 1] - start[g], counts.data());
  };
  if (w.empty()) {
    // Unit weights: a merged row's weight is its count.
    std::vector<std::uint64_t> rows(kept);
    sorted_groups(rows, [&](std::size_t i) { return bits_of(m[i] + 0.0); });
    std::size_t uniques = 1;
    for (std::size_t i = 1; i < kept; ++i) uniques += rows[i] != rows[i - 1];
    s.x.reserve(uniques);
    s.xm.reserve(uniques);
    s.w.reserve(uniques);
    for (std::size_t g = 0; g < groups; ++g) {
      const double xg = values[order[g]];
      s.xs[g] = xg;
      for (std::size_t i = start[g], end = start[g + 1]; i < end;) {
        std::size_t j = i + 1;
        while (j < end && rows[j] == rows[i]) ++j;
        emit(g, xg, double_of(rows[i]), static_cast<double>(j - i));
        i = j;
      }
    }
  } else {
    std::vector<KeyWeight> rows(kept);
    sorted_groups(rows, [&](std::size_t i) { return KeyWeight{bits_of(m[i] + 0.0), w[i]}; });
    for (std::size_t g = 0; g < groups; ++g) {
      const double xg = values[order[g]];
      s.xs[g] = xg;
      for (std::size_t i = start[g], end = start[g + 1]; i < end;) {
        std::size_t j = i + 1;
        while (j < end && rows[j].key == rows[i].key) ++j;
        // Equal rows' weights are summed in increasing order, not input order.
        if (j - i > 1)
          std::sort(rows.begin() + static_cast<std::ptrdiff_t>(i),
                    rows.begin() + static_cast<std::ptrdiff_t>(j),
                    [](const KeyWeight& l, const KeyWeight& r) { return l.w < r.w; });
        double wi = 0;
        for (std::size_t k = i; k < j; ++k) wi += rows[k].w;
        emit(g, xg, double_of(rows[i].key), wi);
        i = j;
      }
    }
  }
  return s;
}

// Total weighted log-likelihood, its gradient (grad, optional) and its Hessian (hess, optional,
// row-major 3 x 3; requires grad) in log-parameters. With s_i = x_i m_i + v the rows contribute
// -w (p x + q) log s; their derivatives need sum w x log s, sum w log s, sum w (p x + q) / s and,
// for the Hessian, sum w x / s, sum w / s and sum w (p x + q) / s^2. The rows are summed in fixed
// blocks (one partial sum per block, added in block order) on the worker threads: the same result
// for every thread count.
double grouped(const SpendRows& s, const double* u, double* grad, double* hess = nullptr) {
  const SpendRows& d = s;
  const double p = std::exp(u[0]), q = std::exp(u[1]), v = std::exp(u[2]);
  const double lv = std::log(v), lg_q = lgamma_(q), dg_q = digamma(q);
  const bool want_h = grad && hess;
  const double tg_q = want_h ? detail::trigamma(q) : 0.0;
  double total = 0, G[3] = {0, 0, 0}, H[6] = {0, 0, 0, 0, 0, 0};  // H: pp pq pv qq qv vv
  for (std::size_t j = 0; j < d.xs.size(); ++j) {
    const double x = d.xs[j], W = d.xw[j], px = p * x;
    total += W * (lgamma_(px + q) - lgamma_(px) - lg_q + q * lv + px * std::log(x));
    if (grad) {
      const double dg_pxq = digamma(px + q);
      G[0] += W * x * (dg_pxq - digamma(px) + std::log(x));
      G[1] += W * (dg_pxq - dg_q + lv);
      G[2] += W * q / v;
    }
    if (want_h) {
      const double tg_pxq = detail::trigamma(px + q);
      H[0] += W * x * x * (tg_pxq - detail::trigamma(px));
      H[1] += W * x * tg_pxq;
      H[3] += W * (tg_pxq - tg_q);
      H[4] += W / v;
      H[5] -= W * q / (v * v);
    }
  }
  total += p * s.wxlm - s.wlm;
  G[0] += s.wxlm;
  constexpr std::size_t kBlock = 8192;
  constexpr std::size_t kSums = 8;
  const std::size_t rows = d.w.size();
  const std::size_t blocks = detail::block_count(rows, kBlock);
  thread_local std::vector<double> partial;
  partial.assign(kSums * blocks, 0.0);
  double* const part = partial.data();
  const double* const c0 = d.x.data();
  const double* const wt = d.w.data();
  const double* const xm = s.xm.data();
  auto block_sum = [=](unsigned, std::size_t blk, std::size_t i0, std::size_t i1) {
    double t0 = 0, g0 = 0, g1 = 0, g2 = 0, hpv = 0, hqv = 0, hvv = 0;
    // Up to 8 consecutive rows with the same x and weight have the same coefficients: the sum of
    // their log(x m + v) is the log of their product (rounding within 8 ulps of the product, no
    // worse than 8 separate logs), one log call instead of 8; a product out of [1e-300, 1e300]
    // falls back to the logs one by one.
    for (std::size_t i = i0; i < i1;) {
      const double x = c0[i], w = wt[i];
      const std::size_t end = std::min(i1, i + 8);
      double prod = 1, inv = 0, inv2 = 0;
      std::size_t j = i;
      for (; j < end && c0[j] == x && wt[j] == w; ++j) {
        const double sv = xm[j] + v;
        const double r = 1.0 / sv;
        prod *= sv;
        inv += r;
        inv2 += r * r;
      }
      double l;
      if (prod > 1e-300 && prod < 1e300) {
        l = std::log(prod);
      } else {
        l = 0;
        for (std::size_t k = i; k < j; ++k) l += std::log(xm[k] + v);
      }
      const double wpq = w * (p * x + q);
      t0 -= wpq * l;
      g0 -= w * x * l;
      g1 -= w * l;
      g2 -= wpq * inv;
      hpv -= w * x * inv;
      hqv -= w * inv;
      hvv += wpq * inv2;
      i = j;
    }
    double* out = part + kSums * blk;
    out[0] = t0;
    out[1] = g0;
    out[2] = g1;
    out[3] = g2;
    out[4] = hpv;
    out[5] = hqv;
    out[6] = hvv;
  };
  detail::parallel_blocks(rows, kBlock, detail::threads_for(rows), block_sum);
  for (std::size_t blk = 0; blk < blocks; ++blk) {
    const double* in = part + kSums * blk;
    total += in[0];
    G[0] += in[1];
    G[1] += in[2];
    G[2] += in[3];
    H[2] += in[4];
    H[4] += in[5];
    H[5] += in[6];
  }
  if (grad) {
    grad[0] = G[0] * p;
    grad[1] = G[1] * q;
    grad[2] = G[2] * v;
  }
  if (want_h) {
    // In log-parameters: d2/du_i du_j = theta_i theta_j H_ij + [i == j] theta_i G_i.
    const double th[3] = {p, q, v};
    const int at[3][3] = {{0, 1, 2}, {1, 3, 4}, {2, 4, 5}};
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        hess[i * 3 + j] = th[i] * th[j] * H[at[i][j]] + (i == j ? th[i] * G[i] : 0.0);
  }
  return total;
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
  return fit(frequency, monetary_value, weights, options, false);
}

GammaGammaModel GammaGammaModel::fit(std::span<const double> frequency,
                                     std::span<const double> monetary_value,
                                     std::span<const double> weights, const FitOptions& options,
                                     bool q_constraint) {
  detail::check_spend(frequency, monetary_value, weights, true);
  detail::check_options(options, 3);
  if (frequency.empty()) throw_invalid("frequency", "must not be empty");
  const SpendRows d = compress_spend(frequency, monetary_value, weights);
  const detail::LogLik ll = [&](const double* u, double* g) { return grouped(d, u, g); };
  const detail::LogLikHessian llh = [&](const double* u, double* g, double* h) {
    return grouped(d, u, g, h);
  };
  FitOptions start = options;
  double moments[3];
  if (options.initial.empty() && moment_start(d, moments))
    start.initial = {moments[0], moments[1], moments[2]};
  const detail::FitResult free = detail::maximize(ll, 3, d.total, start, kNames, &llh);
  GammaGammaModel free_fit({free.params[0], free.params[1], free.params[2]});
  free_fit.se_ = {free.se[0], free.se[1], free.se[2]};
  free_fit.report_ = free.report;
  if (!q_constraint || free_fit.params_.q >= 1) return free_fit;
  // The maximum over q >= 1 is on the bound: fit (log p, log v) with q = 1 (log q = 0), on the
  // same rows.
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
    const std::vector<double> u = {std::log(res.params[0]), 0.0, std::log(res.params[1])};
    std::vector<double> se;
    detail::delta_method_se(ll, 3, d.total, options.penalizer, u, se, &llh);
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
  const SpendRows d = compress_spend(frequency, monetary_value, weights);
  const detail::LogLik ll = [&](const double* u, double* g) { return grouped(d, u, g); };
  const detail::LogLikHessian llh = [&](const double* u, double* g, double* h) {
    return grouped(d, u, g, h);
  };
  const std::vector<double> u = {std::log(params_.p), std::log(params_.q), std::log(params_.v)};
  std::vector<double> cov;
  detail::delta_method_covariance(ll, 3, d.total, penalizer, u, cov, &llh);
  return cov;
}

double GammaGammaModel::log_likelihood(std::span<const double> frequency,
                                       std::span<const double> monetary_value,
                                       std::span<const double> weights) const {
  detail::check_spend(frequency, monetary_value, weights, true);
  if (frequency.empty()) return 0.0;
  const SpendRows d = compress_spend(frequency, monetary_value, weights);
  const double u[3] = {std::log(params_.p), std::log(params_.q), std::log(params_.v)};
  return grouped(d, u, nullptr);
}

std::vector<double> GammaGammaModel::log_likelihood_gradient(std::span<const double> frequency,
                                                             std::span<const double> monetary_value,
                                                             std::span<const double> weights) const {
  detail::check_spend(frequency, monetary_value, weights, true);
  std::vector<double> g(3, 0.0);
  if (frequency.empty()) return g;
  const SpendRows d = compress_spend(frequency, monetary_value, weights);
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
    // The posterior mean of p / nu, nu ~ Gamma(p x + q, v + x m), exists only for p x + q > 1:
    // NaN for the other rows (x = 0 with q <= 1), a per-row result.
    // Weighted mean of the population mean p v / (q - 1) and the observed mean, written so that
    // q <= 1 with x > 0 stays finite.
    out[i] = den > 0 ? p * (v + x * monetary_value[i]) / den : NAN;
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
  const double k = options.periods_per_month;
  std::vector<double> ends(static_cast<std::size_t>(options.months)), factors(ends.size());
  for (int i = 1; i <= options.months; ++i) {
    ends[i - 1] = i * k;
    factors[i - 1] = 1.0 / std::pow(1.0 + options.discount_rate, static_cast<double>(i));
  }
  std::vector<double> clv =
      detail::discounted_expected_purchases(transaction_model, ends, factors, frequency, recency, T);
  for (std::size_t j = 0; j < clv.size(); ++j) clv[j] *= spend[j];
  return clv;
}

}  // namespace v0
}  // namespace crmkit
