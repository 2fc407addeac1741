// Private helpers of the value-layer models, by file: numerics and special functions
// (special.cpp), threads (threads.cpp), validation (model_checks.cpp), row compression
// (compress.cpp), the optimiser driver and degenerate fits (optimize.cpp), linear algebra
// (linalg.cpp). Error-message helpers are in fields.hpp. Not installed.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crmkit/value/models.hpp"

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
// 8-point Gauss-Legendre panels at most `max_panel` wide in v: 3 (the fits: about 1e-10 relative,
// the likelihood surface the optimiser and the boundary probe were tuned on) or 1 (predictions:
// about 1e-15 where a wide panel straddles the bend of log(db + e^v)).
inline constexpr double kFitPanel = 3.0;
inline constexpr double kPredictionPanel = 1.0;
double log_concave_integral(double k, double A, double B, double da, double db, double v0,
                            double v1, double* moments, double max_panel = kFitPanel);

// sum_{t = n0+1}^{n0+m} B(gamma, delta + t) / B(gamma, delta): expected number of periods alive in
// (n0, n0+m] given alive at n0 is this divided by P(alive at n0). Finite at gamma = 1.
double bb_alive_sum(double gamma, double delta, double n0, double m);
double log_bb_alive_sum(double gamma, double delta, double n0, double m);  // its log

// ---- threads ----------------------------------------------------------------------------------

// Calls below this many rows run on the calling thread only (a thread start costs more).
constexpr std::size_t kParallelMinRows = 20000;

// Worker count for a call over `rows` rows: 1 below kParallelMinRows, else `requested` (0 means
// model_threads()), never more than one per kParallelMinRows / 2 rows.
unsigned threads_for(std::size_t rows, unsigned requested = 0);

// Splits [0, n) into consecutive blocks of `block` rows (the last may be shorter) and calls
// body(worker, block_index, begin, end) once per block, on up to `threads` workers (worker 0 is
// the calling thread; worker < threads). Workers take the next unclaimed block until none is
// left, so a worker that the OS does not schedule (a busy machine) leaves its share to the
// others. Which worker runs a block varies from call to call: a caller that keeps one partial
// result per block and reduces them in block order gets the same result for every thread count
// and timing. The first exception thrown by a body is rethrown after every worker has joined.
void parallel_blocks(
    std::size_t n, std::size_t block, unsigned threads,
    const std::function<void(unsigned, std::size_t, std::size_t, std::size_t)>& body);
inline std::size_t block_count(std::size_t n, std::size_t block) {
  return (n + block - 1) / block;
}

// ---- validation -----------------------------------------------------------------------------

// Finite and whole. Inline and without floor (a libm call on baseline x86-64): every check of a
// fit's input runs it once per row. Doubles of magnitude >= 2^52 are all whole.
inline bool is_integer(double v) {
  if (std::fabs(v) < 4503599627370496.0) return v == static_cast<double>(static_cast<std::int64_t>(v));
  return std::isfinite(v);
}
void check_params(std::span<const double> values, std::span<const char* const> names);
// Standard errors of a rebuilt model: each NaN or finite and >= 0. names are the parameters'
// field names ("params.r"); the message names "standard_errors.r".
void check_standard_error_values(std::span<const double> values,
                                 std::span<const char* const> names);
void check_t(double t, const char* field);
// Validates continuous-time columns. weights may be empty.
// NLopt's name for a result status (an nlopt_result), for FitReport messages.
const char* nlopt_result_name(int status);

// allow_impossible: frequency 0 with recency > 0 passes (ImpossibleHistories::evaluate).
void check_rfm(std::span<const double> x, std::span<const double> tx, std::span<const double> T,
               std::span<const double> w, bool allow_impossible = false);
// BG/BB columns.
void check_bgbb(std::span<const double> x, std::span<const double> tx, std::span<const double> n,
                std::span<const double> w, bool allow_impossible = false);
// Gamma-Gamma columns; for_fit: frequency >= 1 and monetary_value > 0 (the fit's rows).
void check_spend(std::span<const double> x, std::span<const double> m, std::span<const double> w,
                 bool for_fit);
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

// Open-addressing hash map from a key of up to three doubles (compared bitwise after -0 -> +0)
// to an index. The keys sit in the slots, so a lookup touches one cache line; `expected` sizes the
// table up front (it grows past it).
class KeyIndex {
 public:
  explicit KeyIndex(std::size_t expected);
  // Index of the key, inserting it with index size() if new; `inserted` says which.
  std::size_t find_or_insert(double a, double b, double c, bool& inserted);
  std::size_t size() const noexcept { return count_; }

 private:
  struct Slot {
    double a, b, c;
    std::uint64_t index;  // 0 = empty, else index + 1
  };
  void grow();
  std::vector<Slot> slots_;
  std::size_t mask_ = 0, count_ = 0;
};

// Dense ids (in order of first appearance) for the distinct values of one column, compared
// bitwise after -0 -> +0. Slots hold their key, so a lookup touches one cache line; columns have
// few distinct values in practice, so the table stays in cache.
class ValueIds {
 public:
  ValueIds() : slots_(64), mask_(63) {}
  std::uint32_t id(double v) {
    v += 0.0;  // -0.0 -> +0.0
    std::uint64_t u;
    std::memcpy(&u, &v, 8);
    for (std::size_t s = slot_of(u);; s = (s + 1) & mask_) {
      Slot& e = slots_[s];
      if (e.id == 0) {
        if (2 * (values_.size() + 1) > slots_.size()) {
          grow();
          return id(v);
        }
        values_.push_back(v);
        e = Slot{u, static_cast<std::uint32_t>(values_.size())};
        return e.id - 1;
      }
      if (e.key == u) return e.id - 1;
    }
  }
  // The distinct values, in order of first appearance.
  const std::vector<double>& values() const noexcept { return values_; }

 private:
  struct Slot {
    std::uint64_t key = 0;
    std::uint32_t id = 0;  // 0 = empty, else id + 1
  };
  std::size_t slot_of(std::uint64_t u) const {
    return static_cast<std::size_t>((u ^ (u >> 29)) * 0x9e3779b97f4a7c15ull >> shift_);
  }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    mask_ = slots_.size() - 1;
    --shift_;
    for (const Slot& e : old) {
      if (e.id == 0) continue;
      std::size_t s = slot_of(e.key);
      while (slots_[s].id != 0) s = (s + 1) & mask_;
      slots_[s] = e;
    }
  }
  std::vector<Slot> slots_;
  std::size_t mask_;
  int shift_ = 64 - 6;
  std::vector<double> values_;
};

Compressed compress(std::span<const double> c0, std::span<const double> c1,
                    std::span<const double> c2, std::span<const double> w);

// ---- linear algebra ---------------------------------------------------------------------------

// Inverts a small symmetric k x k matrix (row-major) in place by Gauss-Jordan elimination with
// partial pivoting. False (m then unspecified) if it is singular or not finite.
bool invert_symmetric(std::vector<double>& m, std::size_t k);

// ---- optimiser ------------------------------------------------------------------------------

// Total weighted log-likelihood at log-parameters u; writes d/du into grad (size k).
using LogLik = std::function<double(const double* u, double* grad)>;

// The same log-likelihood with its gradient and Hessian (row-major k x k) in log-parameters, for
// models whose second derivatives are analytic and cheap. With it, maximize's first local run is
// Newton's method (falling back to L-BFGS when Newton does not converge) and the standard errors
// use the analytic Hessian instead of central differences.
using LogLikHessian = std::function<double(const double* u, double* grad, double* hess)>;

struct FitResult {
  std::vector<double> params;  // natural scale
  std::vector<double> se;      // NaN when options.standard_errors is false
  FitReport report;
};

// Runs the optimiser; computes the standard errors only if options.standard_errors. NaN standard
// errors make the report not converged (see mark_not_converged). A default start that does not
// converge is followed by a multi-start over the 2^k corners of [0.1, 10]^k; a fit whose Hessian
// does not pin the parameters down ends with a boundary probe that reports "no finite maximum:
// ..." (not converged) when the likelihood keeps rising toward the edge of the log-parameter box
// (models.hpp, "Convergence"). `names` are
// the parameters' names, for the messages. `hessian` (optional, the same function as `loglik`)
// makes the default start's run Newton's method and the standard errors analytic.
FitResult maximize(const LogLik& loglik, std::size_t k, double total_weight,
                   const FitOptions& options, std::span<const char* const> names = {},
                   const LogLikHessian* hessian = nullptr);

// ---- degenerate fits --------------------------------------------------------------------------
// The one rule for fits on degenerate data: a fit whose data carry no information on the
// parameters, or whose standard errors are NaN (the Hessian is not negative definite), is not
// converged, whatever the optimiser said. The reason is appended to the report's message.

// Why NaN standard errors make a fit not converged (appended to the message).
inline constexpr const char* kNanStandardErrorsReason =
    "Hessian not negative definite: standard errors are NaN";

// Sets report.converged = false and appends "; <reason>" to its message (once).
void mark_not_converged(FitReport& report, std::string_view reason);

// Continuous-time data (c2 = T): if every row has T = 0 no customer was observed for any time and
// the likelihood does not depend on the parameters; marks the report not converged.
void check_information_continuous(const Compressed& d, FitReport& report);

// If any of `se` is NaN, marks the report not converged with kNanStandardErrorsReason.
void check_standard_errors(std::span<const double> se, FitReport& report);

// Delta-method standard errors (natural scale) at log-parameters u: the Hessian of the penalised
// total log-likelihood in log-parameters by central differences of the analytic gradient,
// inverted (the analytic Hessian instead when `hessian` is given). False (and se all NaN) if that
// Hessian is not negative definite.
bool delta_method_se(const LogLik& loglik, std::size_t k, double total_weight, double penalizer,
                     const std::vector<double>& u, std::vector<double>& se,
                     const LogLikHessian* hessian = nullptr);

// The delta-method covariance matrix behind delta_method_se (k x k, row-major, natural scale:
// diag(theta) (-H)^-1 diag(theta), theta = exp(u)). False (and cov all NaN) if the Hessian is not
// negative definite.
bool delta_method_covariance(const LogLik& loglik, std::size_t k, double total_weight,
                             double penalizer, const std::vector<double>& u,
                             std::vector<double>& cov, const LogLikHessian* hessian = nullptr);

}  // namespace detail
}  // namespace v0
}  // namespace crmkit
