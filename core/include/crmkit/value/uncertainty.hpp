// crmkit/value/uncertainty.hpp: confidence intervals for the predictions of the fitted models
// (models.hpp) and for lifetimes' customer lifetime value: the delta method and a parametric
// bootstrap, both from the asymptotic normal distribution of the log-parameters.
//
// The parameter covariance. A fit maximises the penalised log-likelihood over log-parameters
// u = log(theta). Its covariance is the inverse of the negative Hessian of the penalised total
// log-likelihood in u at the fitted parameters (the Hessian by central differences, step 1e-5,
// of the analytic gradient: the matrix whose diagonal gives the models' standard errors,
// se(theta_k) = theta_k * sqrt(cov[k][k])). log_parameter_covariance() computes it from the
// fitted rows; pass the rows and penalizer of the fit.
//
// The intervals. For a prediction g(theta) (one value per customer row):
//  - delta method: the gradient of g in u by central differences (step 1e-4 in each
//    log-parameter), var = grad' cov grad, and a two-sided normal interval at `level` taken on a
//    scale where the prediction is unbounded, then mapped back: log for expected purchases and
//    CLV (the interval stays positive), logit for probabilities (it stays in [0, 1]).
//    standard_error is the natural-scale delta-method value sqrt(var). A prediction with zero
//    gradient (P(alive) = 1 for a customer without repeat purchases under BG/NBD) gets
//    lower = upper = estimate.
//  - bootstrap (parametric, on the log scale): n_boot draws u* ~ Normal(u_hat, cov) (a Cholesky
//    factor of cov times standard normals from a std::mt19937_64 seeded with `seed`, turned into
//    normals by the Box-Muller transform written here, so the draws are the same on every
//    platform and compiler), the prediction at each draw, and the percentile interval: the
//    (1-level)/2 and (1+level)/2 empirical quantiles (linear interpolation between order
//    statistics, numpy's default). standard_error is the standard deviation of the draws. The
//    same seed gives bit-identical results. It does not refit on simulated data: the fit's
//    sampling distribution is taken to be the asymptotic normal, as in the delta method, but
//    the prediction's non-linearity is kept.
// estimate is always the prediction at the fitted parameters.
//
// CLV. customer_lifetime_value_interval() treats the Gamma-Gamma parameters and the transaction
// model's parameters as independent (they are fitted separately): the covariance is block
// diagonal.
//
// Errors: Error{invalid_argument} naming the argument: a covariance of the wrong size, not
// symmetric, with a non-finite entry (a fit whose Hessian is not negative definite has none; its
// intervals cannot be computed) or not positive semi-definite (bootstrap); level outside (0, 1);
// n_boot < 2 or n_boot x rows above 100,000,000 (the bootstrap keeps every draw's prediction
// for the per-row quantiles: pass fewer rows per call); a transaction model that is not one of the four crmkit models; and everything the
// underlying prediction refuses. Nothing is modified on error.
//
// Thread-safety: pure functions of their arguments; may be called from any number of threads.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "crmkit/value/models.hpp"

namespace crmkit {
inline namespace v0 {

// The covariance of the log-parameters (row-major k x k, k = the model's parameter count, in
// its parameter order) at the model's parameters, on the given rows with L2 penalty `penalizer`.
// All NaN when the negative Hessian is not positive definite (no finite maximum, or a flat
// direction). Validation as the model's fit(); throws Error{invalid_argument} also for
// penalizer < 0 or non-finite.
std::vector<double> log_parameter_covariance(const BetaGeoModel& model,
                                             std::span<const double> frequency,
                                             std::span<const double> recency,
                                             std::span<const double> T,
                                             std::span<const double> weights = {},
                                             double penalizer = 0.0);
std::vector<double> log_parameter_covariance(const ModifiedBetaGeoModel& model,
                                             std::span<const double> frequency,
                                             std::span<const double> recency,
                                             std::span<const double> T,
                                             std::span<const double> weights = {},
                                             double penalizer = 0.0);
std::vector<double> log_parameter_covariance(const ParetoNBDModel& model,
                                             std::span<const double> frequency,
                                             std::span<const double> recency,
                                             std::span<const double> T,
                                             std::span<const double> weights = {},
                                             double penalizer = 0.0);
std::vector<double> log_parameter_covariance(const BetaGeoBetaBinomModel& model,
                                             std::span<const double> frequency,
                                             std::span<const double> recency,
                                             std::span<const double> n_periods,
                                             std::span<const double> weights = {},
                                             double penalizer = 0.0);
std::vector<double> log_parameter_covariance(const GammaGammaModel& model,
                                             std::span<const double> frequency,
                                             std::span<const double> monetary_value,
                                             std::span<const double> weights = {},
                                             double penalizer = 0.0);

enum class IntervalMethod { delta, bootstrap };

struct IntervalOptions {
  // Two-sided coverage in (0, 1).
  double level = 0.95;
  IntervalMethod method = IntervalMethod::delta;
  // Bootstrap draws (>= 2). More is smoother and slower: the prediction is evaluated n_boot times.
  int n_boot = 1000;
  // Bootstrap seed; the same seed gives the same intervals.
  std::uint64_t seed = 0;
};

// One row per customer row of the prediction.
struct Intervals {
  std::vector<double> estimate;        // the prediction at the fitted parameters
  std::vector<double> lower, upper;    // the interval at options.level
  std::vector<double> standard_error;  // delta: sqrt(grad' cov grad); bootstrap: sd of the draws
};

// Interval for transaction_model.conditional_expected_number_of_purchases_up_to_time(t, ...).
// transaction_model is a BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel or
// BetaGeoBetaBinomModel (T then is n_periods and t the future periods); cov_log is its
// log_parameter_covariance().
Intervals conditional_expected_number_of_purchases_interval(
    const TransactionModel& transaction_model, std::span<const double> cov_log, double t,
    std::span<const double> frequency, std::span<const double> recency, std::span<const double> T,
    const IntervalOptions& options = {});

// Interval for conditional_probability_alive. For BG/BB, T is n_periods and
// m_periods_in_future is passed on; for the continuous-time models m_periods_in_future must be 0.
Intervals conditional_probability_alive_interval(const TransactionModel& transaction_model,
                                                 std::span<const double> cov_log,
                                                 std::span<const double> frequency,
                                                 std::span<const double> recency,
                                                 std::span<const double> T,
                                                 const IntervalOptions& options = {},
                                                 double m_periods_in_future = 0);

// Interval for spend_model.customer_lifetime_value(transaction_model, ...), the two models'
// parameters independent (block-diagonal covariance of spend_cov_log and transaction_cov_log).
Intervals customer_lifetime_value_interval(const GammaGammaModel& spend_model,
                                           std::span<const double> spend_cov_log,
                                           const TransactionModel& transaction_model,
                                           std::span<const double> transaction_cov_log,
                                           std::span<const double> frequency,
                                           std::span<const double> recency,
                                           std::span<const double> T,
                                           std::span<const double> monetary_value,
                                           const ClvOptions& clv_options = {},
                                           const IntervalOptions& options = {});

}  // namespace v0
}  // namespace crmkit
