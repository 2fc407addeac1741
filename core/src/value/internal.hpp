// Private helpers of the value-layer models: validation, row compression, the optimiser driver
// and the special functions. Not installed.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "crmkit/models.hpp"

namespace crmkit {
inline namespace v0 {
namespace detail {

// ---- numerics -------------------------------------------------------------------------------

inline double logaddexp(double a, double b) {
  if (a == -INFINITY) return b;
  if (b == -INFINITY) return a;
  const double m = a > b ? a : b;
  return m + std::log1p(std::exp(-std::fabs(a - b)));
}

// 1 / (1 + exp(z)) without overflow.
inline double inv_one_plus_exp(double z) {
  if (z > 0) {
    const double e = std::exp(-z);
    return e / (1.0 + e);
  }
  return 1.0 / (1.0 + std::exp(z));
}

double lbeta(double a, double b);
double digamma(double x);
double trigamma(double x);
double lgamma_(double x);  // log|Gamma(x)| for x > 0, thread-safe

// Kc(r, alpha, a, b2, t) = E_{p ~ Beta(a, b2)}[(1 - (1 + p t / alpha)^-r) / p]
//   = (a + b2 - 1) / (a - 1) * [1 - (alpha/(alpha+t))^r 2F1(r, b2; a + b2 - 1; t/(alpha+t))].
// BG/NBD E[X(t)] is Kc(r, alpha, a, b, t); the conditional forms shift r, alpha, b. Finite at a = 1
// and for a + b2 < 1. Series for t/(alpha+t) <= 0.9, tanh-sinh quadrature otherwise.
double bg_kc(double r, double alpha, double a, double b2, double t);

// Integral over v in [v0, v1] of exp(k v - A log(da + e^v) - B log(db + e^v)), which is log-concave
// in v (k, A, B >= 0, da, db >= 0). Returns the log of the integral and, if `moments` is non-null,
// the integrand-weighted means of log(da+e^v), 1/(da+e^v), log(db+e^v), 1/(db+e^v) (in that order).
double log_concave_integral(double k, double A, double B, double da, double db, double v0,
                            double v1, double* moments);

// sum_{t = n0+1}^{n0+m} B(gamma, delta + t) / B(gamma, delta): expected number of periods alive in
// (n0, n0+m] given alive at n0 is this divided by P(alive at n0). Finite at gamma = 1.
double bb_alive_sum(double gamma, double delta, double n0, double m);
double log_bb_alive_sum(double gamma, double delta, double n0, double m);  // its log

// ---- validation -----------------------------------------------------------------------------

bool is_integer(double v);
void check_params(std::span<const double> values, std::span<const char* const> names);
void check_t(double t, const char* field);
// Validates continuous-time columns. weights may be empty.
void check_rfm(std::span<const double> x, std::span<const double> tx, std::span<const double> T,
               std::span<const double> w);
// BG/BB columns.
void check_bgbb(std::span<const double> x, std::span<const double> tx, std::span<const double> n,
                std::span<const double> w);
void check_weights(std::span<const double> w, std::size_t n);
void check_options(const FitOptions& options, std::size_t k);

// ---- compression ----------------------------------------------------------------------------

// Unique rows (c0, c1, c2) with summed weights, sorted by c0 then c1 then c2; zero-weight rows
// dropped. xi/xs/xw group the rows by distinct c0 (the frequency): xs the distinct values, xw their
// total weight, xi the index into xs of each row.
// u1/u2 are the distinct values of c1/c2 and i1/i2 each row's index into them, so that
// per-value terms (log(alpha + T), ...) are computed once per distinct value.
struct Compressed {
  std::vector<double> c0, c1, c2, w;
  std::vector<std::size_t> xi;
  std::vector<double> xs, xw;
  std::vector<std::uint32_t> i1, i2;
  std::vector<double> u1, u2;
  double total = 0;
};

// Open-addressing hash map from a key of up to three doubles (compared bitwise) to an index.
class KeyIndex {
 public:
  explicit KeyIndex(std::size_t expected);
  // Index of the key, inserting it with index size() if new; `inserted` says which.
  std::size_t find_or_insert(double a, double b, double c, bool& inserted);
  std::size_t size() const noexcept { return count_; }

 private:
  std::vector<double> keys_;
  std::vector<std::uint32_t> slots_;  // 0 = empty, else index + 1
  std::size_t mask_ = 0, count_ = 0;
};
Compressed compress(std::span<const double> c0, std::span<const double> c1,
                    std::span<const double> c2, std::span<const double> w);

// ---- optimiser ------------------------------------------------------------------------------

// Total weighted log-likelihood at log-parameters u; writes d/du into grad (size k).
using LogLik = std::function<double(const double* u, double* grad)>;

struct FitResult {
  std::vector<double> params;  // natural scale
  std::vector<double> se;
  FitReport report;
};

FitResult maximize(const LogLik& loglik, std::size_t k, double total_weight,
                   const FitOptions& options);

}  // namespace detail
}  // namespace v0
}  // namespace crmkit
