// Private to the covariate models (covariates.cpp, covariates_fit.cpp). Not installed.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "crmkit/value/covariates.hpp"
#include "internal.hpp"

namespace crmkit {
inline namespace v0 {
namespace detail {

// Number of parameters: 4 base parameters and the coefficients.
std::size_t covariate_param_count(CovariatesKind kind, std::size_t p, std::size_t q);

// A block of coefficients: base parameter `base` (0..3) of customer i is multiplied by
// exp(sign * sum_j coef[first + j] * covariate_j(i)), the covariates being the purchase set
// (dropout false) or the dropout set. `first` indexes the full parameter vector (>= 4).
struct CoefBlock {
  int base;
  double sign;
  std::size_t first, count;
  bool dropout;
};
std::vector<CoefBlock> coefficient_blocks(CovariatesKind kind, std::size_t p, std::size_t q);

// Throws Error{invalid_argument} naming `field`, the column and the row for malformed covariates:
// empty or repeated column names, a row count other than n, a value that is not finite.
void check_covariates(const CovariateMatrix& m, std::size_t n, const char* field);

// The covariate rows of one call.
struct Design {
  Design(CovariatesKind kind, const CovariateMatrix& purchase, const CovariateMatrix& dropout,
         std::size_t rows);
  CovariatesKind kind;
  std::size_t n, p, q;
  const double* X;  // n x p, row-major
  const double* Z;  // n x q, row-major
  std::vector<CoefBlock> blocks;
  // Customer i's (r, alpha_i, a_i, b_i) or (r, alpha_i, s, beta_i) from the natural base
  // parameters and the coefficients (coef[0] is the parameter vector's element 4).
  void row_params_natural(const double* base, const double* coef, std::size_t i,
                          double* out) const;
};

// Per-row log-likelihoods at the customer's own parameters; d (if non-null) receives the
// derivatives with respect to the logs of the four parameters. lg_d = lgamma(r + x) - lgamma(r)
// and dg_d = digamma(r + x) - digamma(r) (dg_d is read only when d is non-null).
double bg_row(double r, double alpha, double a, double b, double x, double tx, double T,
              double lg_d, double dg_d, double* d);
double pnbd_row(double r, double alpha, double s, double beta, double x, double tx, double T,
                double lg_d, double dg_d, double* d);
double pnbd_log_sI(double r, double alpha, double s, double beta, double x, double tx, double T,
                   double* m);

// Total weighted log-likelihood over the rows (weights may be empty) at natural base parameters
// `base` (4) and coefficients `coef`; grad (if non-null, size K) receives its gradient with respect
// to (log base, coef). Sums over fixed blocks in block order (thread-count independent).
double covariate_loglik(const Design& d, std::span<const double> x, std::span<const double> tx,
                        std::span<const double> T, std::span<const double> w, const double* base,
                        const double* coef, double* grad, unsigned threads);

}  // namespace detail
}  // namespace v0
}  // namespace crmkit
