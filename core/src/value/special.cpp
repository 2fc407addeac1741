// Special functions for the models. All work in log space where a product could overflow.
#include <math.h>

#include <algorithm>
#include <boost/math/quadrature/tanh_sinh.hpp>
#include <boost/math/special_functions/digamma.hpp>
#include <boost/math/special_functions/polygamma.hpp>
#include <boost/math/special_functions/trigamma.hpp>
#include <cmath>
#include <exception>

#include "internal.hpp"

namespace crmkit {
inline namespace v0 {
namespace detail {

double lgamma_(double x) {
  int sign = 0;
  return ::lgamma_r(x, &sign);
}

double lbeta(double a, double b) { return lgamma_(a) + lgamma_(b) - lgamma_(a + b); }

double digamma(double x) { return boost::math::digamma(x); }
double trigamma(double x) { return boost::math::trigamma(x); }

namespace {

// Kc by quadrature over p: integral of Beta(p; a, b2) (1 - (1 + p t/alpha)^-r) / p.
double bg_kc_quadrature(double r, double alpha, double a, double b2, double t) {
  thread_local boost::math::quadrature::tanh_sinh<double> integrator(12);
  const double lB = lbeta(a, b2);
  const double ta = t / alpha;
  // Integrand as a function of p and q = 1 - p, each passed exactly, so that the endpoint
  // singularities p^(a-2) and q^(b2-1) are resolved on both sides.
  auto F = [&](double p, double lp, double lq) {
    const double y = -r * std::log1p(p * ta);
    const double inner = -std::expm1(y);
    if (!(inner > 0)) return 0.0;
    const double v = std::exp((a - 2) * lp + (b2 - 1) * lq - lB + std::log(inner));
    return std::isfinite(v) ? v : 0.0;
  };
  auto left = [&](double p) {
    if (!(p > 0) || !(p < 1)) return 0.0;
    return F(p, std::log(p), std::log1p(-p));
  };
  auto right = [&](double q) {  // p = 1 - q
    if (!(q > 0) || !(q < 1)) return 0.0;
    return F(1 - q, std::log1p(-q), std::log(q));
  };
  // For a < 1 (b2 < 1) the Beta density's mass reaches p (1 - p) far below the smallest double
  // (at a = 0.001 half of it lies below 1e-300): there the integral is taken in y = p^a (y = q^b2),
  // whose integrand is bounded at y = 0.
  auto left_y = [&](double y) {
    if (!(y > 0)) return 0.0;
    const double lp = std::log(y) / a, p = std::exp(lp);
    if (!(p < 1)) return 0.0;
    // (1 - (1 + p ta)^-r) / p, -> r ta as p -> 0.
    const double ip = p > 0 ? -std::expm1(-r * std::log1p(p * ta)) / p : r * ta;
    const double v = std::exp((b2 - 1) * std::log1p(-p) - lB) * ip / a;
    return std::isfinite(v) ? v : 0.0;
  };
  auto right_y = [&](double y) {
    if (!(y > 0)) return 0.0;
    const double lq = std::log(y) / b2, q = std::exp(lq);
    if (!(q < 1)) return 0.0;
    const double p = 1 - q;
    const double inner = -std::expm1(-r * std::log1p(p * ta));
    if (!(inner > 0)) return 0.0;
    const double v = std::exp((a - 2) * std::log1p(-q) - lB + std::log(inner)) / b2;
    return std::isfinite(v) ? v : 0.0;
  };
  const double split = std::min(0.5, 1.0 / ta);
  double total = 0;
  try {
    const double tol = 1e-13;
    total = (a < 1 ? integrator.integrate(left_y, 0.0, std::pow(split, a), tol)
                   : integrator.integrate(left, 0.0, split, tol)) +
            (b2 < 1 ? integrator.integrate(right_y, 0.0, std::pow(1 - split, b2), tol)
                    : integrator.integrate(right, 0.0, 1 - split, tol));
  } catch (const std::exception&) {
    total = 0;
  }
  if (!std::isfinite(total) || total < 0) total = 0;
  return total;
}

// Kc as E[R(N)], N ~ NBD(r, z) the purchases by t of a customer who never drops out (Gamma-Poisson
// mixture: P(N = n) = (r)_n / n! (1 - z)^r z^n) and R(n) = sum_{j < n} (b2)_j / (a + b2)_j the
// expected purchases among the first n that happen before dropout. Every term is positive, so the
// sum has no cancellation whatever r, a, b2. The weights are carried unnormalised from n = 0 (with
// rescaling, so that (1 - z)^r may underflow) and divided by their sum at the end. Returns NaN when
// more than `max_terms` terms would be needed.
double bg_kc_positive_series(double r, double a, double b2, double z, double max_terms) {
  double w = 1, sw = 1, swr = 0;  // weight of n, sum of weights, sum of weight * R(n)
  double rho = 1, R = 0;          // (b2)_n / (a + b2)_n and R(n), at n = 0
  const double mode = r > 1 ? (r - 1) * z / (1 - z) : 0;
  for (double n = 0; n < max_terms; n += 1) {
    R += rho;  // R(n + 1)
    rho *= (b2 + n) / (a + b2 + n);
    w *= (r + n) / (n + 1) * z;  // weight of n + 1
    sw += w;
    const double term = w * R;
    swr += term;
    if (sw > 1e280) {
      w *= 1e-280;
      sw *= 1e-280;
      swr *= 1e-280;
    }
    if (n + 1 > mode) {
      // Past the mode the weights fall at least geometrically with ratio q, R grows by less than a
      // factor (n + 2) / (n + 1) per step: the rest is below term * q' / (1 - q').
      const double q = z * std::max(r + n + 1, n + 2) / (n + 1);
      if (q < 1 && term * q / (1 - q) <= 1e-17 * swr) return swr / sw;
    }
  }
  return NAN;
}

}  // namespace

double bg_kc(double r, double alpha, double a, double b2, double t) {
  if (!(t > 0)) return 0.0;
  const double L = -std::log1p(t / alpha);  // log(1 - z)
  const double z = -std::expm1(L);          // t / (alpha + t)
  const double c = a + b2 - 1;              // > -1
  if (z <= 0.9 && a <= 1e4 && std::fabs(c - r) <= 1e4) {
    // Euler-transformed series: Kc = c g - (1-z)^(a-1) sum_n (c-r)_n (a)_{n-1} / ((c+1)_{n-1} n!) z^n
    // with g = (1 - (1-z)^(a-1)) / (a-1) (-> -log(1-z) at a = 1).
    const double e = a - 1;
    const double g = e == 0 ? -L : -std::expm1(e * L) / e;
    double u = (c - r) * z;
    double sum = u, sum_abs = std::fabs(u);
    bool ok = true;
    for (int n = 1; n < 5000; ++n) {
      u *= (c - r + n) * (a + n - 1) / ((c + n) * (n + 1)) * z;
      sum += u;
      sum_abs += std::fabs(u);
      if (!std::isfinite(sum) || std::fabs(u) > 1e250) {
        ok = false;
        break;
      }
      if (std::fabs(u) <= 1e-17 * std::fabs(sum)) break;
    }
    if (ok) {
      const double lead = c * g;
      const double scale = std::exp(e * L);
      const double val = lead - scale * sum;
      // Accepted when the rounding of the terms (a few ulps each, relative to the largest of
      // |lead| and the sum of |terms|) stays below 1e-13 of the result: for c < r the terms
      // alternate and cancel (at r = 100, a = 0.8, b2 = 2.4, z = 0.9 by 20 digits), and for
      // tiny r the result is a small difference of lead and sum.
      if (std::isfinite(val) && (std::fabs(lead) + scale * sum_abs) * 1e-3 < val) return val;
    }
  }
  const double pos = bg_kc_positive_series(r, a, b2, z, 1e7);
  if (std::isfinite(pos)) return pos;
  return bg_kc_quadrature(r, alpha, a, b2, t);
}

double log_concave_integral(double k, double A, double B, double da, double db, double v0,
                            double v1, double* moments, double max_panel) {
  if (moments) std::fill(moments, moments + 4, 0.0);
  if (!(v1 > v0)) return -INFINITY;
  const double lda = da > 0 ? std::log(da) : -INFINITY;
  const double ldb = db > 0 ? std::log(db) : -INFINITY;
  struct Pt {
    double g, la, lb, sa, sb;
  };
  auto at = [&](double v) {
    Pt p;
    p.la = logaddexp(lda, v);
    p.lb = logaddexp(ldb, v);
    p.sa = std::exp(v - p.la);
    p.sb = std::exp(v - p.lb);
    p.g = k * v - A * p.la - B * p.lb;
    return p;
  };
  auto slope = [&](const Pt& p) { return k - A * p.sa - B * p.sb; };
  auto curvature = [&](const Pt& p) { return A * p.sa * (1 - p.sa) + B * p.sb * (1 - p.sb); };

  // Mode of the concave log-integrand on [v0, v1].
  double vm;
  if (slope(at(v0)) <= 0) {
    vm = v0;
  } else if (slope(at(v1)) >= 0) {
    vm = v1;
  } else {
    double lo = v0, hi = v1;
    for (int it = 0; it < 200 && hi - lo > 1e-12 * (1 + std::fabs(lo)); ++it) {
      const double mid = 0.5 * (lo + hi);
      if (slope(at(mid)) > 0) lo = mid; else hi = mid;
    }
    vm = 0.5 * (lo + hi);
  }
  const double gm = at(vm).g;

  // 8-point Gauss-Legendre panels, sized so that the log-integrand falls by a few units per panel.
  static constexpr double xs[4] = {0.1834346424956498, 0.5255324099163290, 0.7966664774136267,
                                   0.9602898564975363};
  static constexpr double ws[4] = {0.3626837833783620, 0.3137066458778873, 0.2223810344533745,
                                   0.1012285362903763};
  double S0 = 0, M[4] = {0, 0, 0, 0};
  auto panel = [&](double lo, double hi) {
    const double mid = 0.5 * (lo + hi), half = 0.5 * (hi - lo);
    for (int i = 0; i < 4; ++i)
      for (int sgn = -1; sgn <= 1; sgn += 2) {
        const Pt p = at(mid + sgn * half * xs[i]);
        const double w = ws[i] * half * std::exp(p.g - gm);
        S0 += w;
        if (moments) {
          M[0] += w * p.la;
          M[1] += w * std::exp(-p.la);
          M[2] += w * p.lb;
          M[3] += w * std::exp(-p.lb);
        }
      }
  };
  for (int dir = 1; dir >= -1; dir -= 2) {
    double v = vm;
    const double end = dir > 0 ? v1 : v0;
    for (int n = 0; n < 1000 && (dir > 0 ? v < end : v > end); ++n) {
      const Pt p = at(v);
      if (p.g < gm - 46) break;
      double h = 4.0 / (std::fabs(slope(p)) + 2.0 * std::sqrt(curvature(p)) + 1e-300);
      h = std::min(h, max_panel);
      const double remaining = std::fabs(end - v);
      if (h >= remaining || remaining - h < 1e-3 * h) h = remaining;
      const double next = n + 1 == 1000 ? end : v + dir * h;
      panel(std::min(v, next), std::max(v, next));
      v = next;
    }
  }
  if (!(S0 > 0)) return -INFINITY;
  if (moments)
    for (int i = 0; i < 4; ++i) moments[i] = M[i] / S0;
  return gm + std::log(S0);
}

double log_bb_alive_sum(double gamma, double delta, double n0, double m) {
  if (!(m > 0)) return -INFINITY;
  const double lt0 = lgamma_(delta + n0 + 1) - lgamma_(delta) + lgamma_(gamma + delta) -
                     lgamma_(gamma + delta + n0 + 1);
  if (m <= 2000) {
    double cur = 1, acc = 1;
    for (double t = n0 + 1; t < n0 + m; t += 1) {
      cur *= (delta + t) / (gamma + delta + t);
      acc += cur;
    }
    return lt0 + std::log(acc);
  }
  // Telescoping closed form: B(g, d+t) = B(g-1, d+t) - B(g-1, d+t+1), so the sum is
  // Gamma(g+d) / ((g-1) Gamma(d)) * [R(n0) - R(n0+m)], R(k) = Gamma(d+k+1) / Gamma(g+d+k).
  const double lR0 = lgamma_(delta + n0 + 1) - lgamma_(gamma + delta + n0);
  const double e = gamma - 1;
  double Q;  // (1 - R(n0+m)/R(n0)) / (g - 1)
  if (std::fabs(e) > 1e-3) {
    const double D = (lgamma_(delta + n0 + m + 1) - lgamma_(delta + n0 + 1)) -
                     (lgamma_(gamma + delta + n0 + m) - lgamma_(gamma + delta + n0));
    Q = -std::expm1(D) / e;
  } else {
    // Taylor expansion of D in (g - 1) avoids the 0/0 at g = 1.
    const double u0 = 1 + delta + n0, u1 = 1 + delta + n0 + m;
    const double f1 = boost::math::digamma(u1) - boost::math::digamma(u0);
    const double f2 = boost::math::trigamma(u1) - boost::math::trigamma(u0);
    const double f3 = boost::math::polygamma(2, u1) - boost::math::polygamma(2, u0);
    const double Dq = -(f1 + e / 2 * f2 + e * e / 6 * f3);
    Q = e == 0 ? -Dq : -std::expm1(e * Dq) / e;
  }
  return lgamma_(gamma + delta) - lgamma_(delta) + lR0 + std::log(Q);
}

double bb_alive_sum(double gamma, double delta, double n0, double m) {
  return std::exp(log_bb_alive_sum(gamma, delta, n0, m));
}

}  // namespace detail
}  // namespace v0
}  // namespace crmkit
