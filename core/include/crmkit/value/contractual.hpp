// crmkit/value/contractual.hpp: retention models for contractual (subscription) customers, fitted
// on cohort survival counts.
//
// Models.
//  - sBG, the shifted-beta-geometric (Fader and Hardie 2007, "How to Project Customer Retention",
//    Journal of Interactive Marketing 21(1)): at the end of each period an active customer renews
//    with probability 1 - theta, theta ~ Beta(alpha, beta) across customers. With T >= 1 the
//    period in which a customer churns (the last period it pays for):
//        S(t) = P(T > t) = B(alpha, beta + t) / B(alpha, beta),   t = 0, 1, 2, ...
//        P(T = t) = S(t - 1) - S(t) = B(alpha + 1, beta + t - 1) / B(alpha, beta),   t >= 1
//        r(t) = S(t) / S(t - 1) = (beta + t - 1) / (alpha + beta + t - 1),   t >= 1
//  - BdW, the beta-discrete-Weibull (Fader, Hardie, Liu, Davin, Steenburgh 2018, "'How to
//    Project Customer Retention' Revisited: The Role of Duration Dependence", JIM 43): a
//    customer's churn probability changes with tenure, P(T > t | theta) = (1 - theta)^(t^c), so
//        S(t) = B(alpha, beta + t^c) / B(alpha, beta).
//    c = 1 is the sBG exactly; c < 1 lets individual churn probabilities fall with tenure, c > 1
//    rise.
//
// Data. A cohort is the number of its customers alive at the start of periods 0, 1, ..., n
// (survivors[0] customers acquired at period 0, survivors[t] of them still active in period
// t + 1, that is after t renewals). Counts are finite, >= 0, do not increase, survivors[0] > 0,
// and a cohort holds at least two counts (period 0 and period 1). Counts need not be integers
// (they are likelihood weights: 1000 x the published percentages give the paper's fits), but
// standard errors assume a count is a number of customers. Several cohorts (acquired in
// different periods, so observed for different lengths) are fitted jointly: their
// log-likelihoods add up. The log-likelihood of one cohort is
//     sum_{t=1..n} (survivors[t-1] - survivors[t]) log P(T = t) + survivors[n] log S(n).
//
// Fitting is maximum likelihood over log-parameters with the optimiser of models.hpp (NLopt
// L-BFGS with analytic gradients, Subplex fallback; FitOptions and FitReport as there, the
// objective divided by the total of the initial counts, delta-method standard errors, a fit with
// NaN standard errors reported as not converged). The fit says converged = false with the reason
// ("no information: ...") at the end of FitReport::message, whatever the optimiser said, when the
// data have no finite maximum or cannot identify the parameters: nobody churned (in every cohort
// the last count equals the first), everybody churned in period 1, nobody churned after period 1
// (the maximum is at alpha, beta -> 0), or every cohort is observed for fewer periods than the
// model has parameters (a single period for the sBG, at most 2 for the BdW).
//
// Errors: Error{invalid_argument} "<field>: <problem>" naming the cohort and period
// ("survivors[3]: ...", "cohorts[1][3]: ..."); nothing is modified on error.
//
// Thread-safety: models are immutable values; const methods may be called from any number of
// threads at once; fit() is re-entrant.
#pragma once

#include <span>
#include <vector>

#include "crmkit/value/models.hpp"

namespace crmkit {
inline namespace v0 {

// The survivor counts of one cohort from its initial size and the number lost in each period:
// survivors[0] = initial, survivors[t] = survivors[t-1] - lost[t-1]. Throws Error{invalid_argument}
// if initial is not finite and > 0, a lost count is not finite and >= 0 ("lost[2]: ..."), or
// more customers are lost than remain ("lost[4]: 50 is more than the 41 customers still active
// at period 4").
std::vector<double> survivors_from_lost(double initial, std::span<const double> lost);

// ---------------------------------------------------------------------------------------------
// sBG: parameters of theta ~ Beta(alpha, beta).
struct ShiftedBetaGeometricParams {
  double alpha = 1, beta = 1;
};

class ShiftedBetaGeometricModel {
 public:
  // A model with known parameters (no fit; report() is empty, standard errors NaN).
  // Throws Error{invalid_argument} unless every parameter is finite and > 0.
  explicit ShiftedBetaGeometricModel(const ShiftedBetaGeometricParams& params);
  // A model rebuilt from what a fit produced (a pickled or saved fit), kept exactly. Throws
  // Error{invalid_argument} unless every parameter is finite and > 0 and every standard error is
  // NaN or finite and >= 0.
  ShiftedBetaGeometricModel(const ShiftedBetaGeometricParams& params,
                            const ShiftedBetaGeometricParams& standard_errors, FitReport report);

  // Fits by maximum likelihood on one cohort's survivor counts (see "Data" above). Throws
  // Error{invalid_argument} for malformed counts (naming "survivors[t]") or options (as
  // BetaGeoModel::fit). Does not throw when the optimiser fails: see report().
  static ShiftedBetaGeometricModel fit(std::span<const double> survivors,
                                       const FitOptions& options = {});
  // Fits jointly on several cohorts (each a survivor vector, lengths may differ; at least one
  // cohort). Errors name "cohorts[i][t]".
  static ShiftedBetaGeometricModel fit_cohorts(std::span<const std::vector<double>> cohorts,
                                               const FitOptions& options = {});

  const ShiftedBetaGeometricParams& params() const noexcept { return params_; }
  const ShiftedBetaGeometricParams& standard_errors() const noexcept { return se_; }
  const FitReport& report() const noexcept { return report_; }

  // Log-likelihood of the counts under params() (the formula under "Data"). Same validation as
  // fit() / fit_cohorts().
  double log_likelihood(std::span<const double> survivors) const;
  double log_likelihood_cohorts(std::span<const std::vector<double>> cohorts) const;

  // S(t) = P(T > t) for each t: the share of a new cohort still active after t renewals.
  // Each t a non-negative integer (else Error{invalid_argument} naming "t[i]").
  std::vector<double> survival_function(std::span<const double> t) const;
  // r(t) = S(t) / S(t-1): the share of those active in period t who renew; each t an integer >= 1.
  std::vector<double> retention_rate(std::span<const double> t) const;
  // P(T = t): the probability that a new customer's last period is t; each t an integer >= 1.
  std::vector<double> churn_probability(std::span<const double> t) const;

  // E[T] = sum_{t>=0} S(t) = (alpha + beta - 1) / (alpha - 1), the expected number of periods a
  // new customer pays for; +infinity when alpha <= 1 (the mean of 1/theta does not exist).
  double expected_lifetime() const;

  // DERT (Fader and Hardie 2010, "Customer-Base Valuation in a Contractual Setting: The Perils of
  // Ignoring Heterogeneity", Marketing Science 29(1)): the expected discounted number of future
  // payments of a customer who has made `renewals` renewals (active in periods 1..renewals+1),
  // valued at the end of its current period, just before its next renewal decision, with the
  // payment of period renewals+1+k discounted by (1 + discount_rate)^k:
  //   DERT = sum_{k>=0} S(renewals+1+k) / S(renewals) / (1+d)^k
  //        = (beta + n) / (alpha + beta + n) * 2F1(1, beta + n + 1; alpha + beta + n + 1; 1/(1+d))
  // with n = renewals. The series is summed until its remaining tail, bounded by the last term x
  // z/(1-z) (z = 1/(1+d); the term ratio is below z), is under 1e-16 of the sum: about
  // 37/d terms at most. discount_rate 0 gives the undiscounted expected residual lifetime
  // (beta + n) / (alpha - 1), +infinity when alpha <= 1.
  // Throws Error{invalid_argument} unless renewals is a non-negative integer and discount_rate is
  // 0 or in [1e-6, 1e6] (below 1e-6 the series needs more than 4e7 terms).
  double discounted_expected_residual_lifetime(double discount_rate, double renewals = 0) const;
  // DEL: sum_{t>=0} S(t) / (1+d)^t = 1 + DERT(d, 0) / (1 + d) = 2F1(1, beta; alpha + beta;
  // 1/(1+d)): the expected discounted number of payments of a customer about to be acquired
  // (the first payment undiscounted). Same throws as discounted_expected_residual_lifetime.
  double discounted_expected_lifetime(double discount_rate) const;

 private:
  ShiftedBetaGeometricParams params_, se_;
  FitReport report_;
};

// ---------------------------------------------------------------------------------------------
// BdW: theta ~ Beta(alpha, beta), P(T > t | theta) = (1 - theta)^(t^c).
struct BetaDiscreteWeibullParams {
  double alpha = 1, beta = 1, c = 1;
};

// Same contracts as ShiftedBetaGeometricModel, with these differences: S(t) = B(alpha, beta +
// t^c) / B(alpha, beta) and r(t) = S(t) / S(t-1); the fit starts at c = 1 unless
// FitOptions::initial says otherwise; there is no expected_lifetime() (the sum has no closed form
// and converges only when c alpha > 1, like t^(-c alpha)).
class BetaDiscreteWeibullModel {
 public:
  explicit BetaDiscreteWeibullModel(const BetaDiscreteWeibullParams& params);
  BetaDiscreteWeibullModel(const BetaDiscreteWeibullParams& params,
                           const BetaDiscreteWeibullParams& standard_errors, FitReport report);

  static BetaDiscreteWeibullModel fit(std::span<const double> survivors,
                                      const FitOptions& options = {});
  static BetaDiscreteWeibullModel fit_cohorts(std::span<const std::vector<double>> cohorts,
                                              const FitOptions& options = {});

  const BetaDiscreteWeibullParams& params() const noexcept { return params_; }
  const BetaDiscreteWeibullParams& standard_errors() const noexcept { return se_; }
  const FitReport& report() const noexcept { return report_; }

  double log_likelihood(std::span<const double> survivors) const;
  double log_likelihood_cohorts(std::span<const std::vector<double>> cohorts) const;

  std::vector<double> survival_function(std::span<const double> t) const;
  std::vector<double> retention_rate(std::span<const double> t) const;
  std::vector<double> churn_probability(std::span<const double> t) const;

  // DERT = sum_{k>=0} S(n+1+k) / S(n) / (1+d)^k (n = renewals), summed term by term. Truncation:
  // after K terms the rest is at most S(n+1+K) / S(n) z^K / (1 - z) (S decreases; z = 1/(1+d)),
  // and the sum stops once that bound is under 1e-15 of the sum, so the truncation error is below
  // 1e-15 relative; the terms cost a log-Beta each, at most about 35/d of them. Throws
  // Error{invalid_argument} unless renewals is a non-negative integer and discount_rate is in
  // [1e-4, 1e6] (0 is refused: the undiscounted sum may not converge; below 1e-4 the sum would
  // take more than 350,000 terms).
  double discounted_expected_residual_lifetime(double discount_rate, double renewals = 0) const;
  // DEL = 1 + DERT(d, 0) / (1 + d). Same throws.
  double discounted_expected_lifetime(double discount_rate) const;

 private:
  BetaDiscreteWeibullParams params_, se_;
  FitReport report_;
};

}  // namespace v0
}  // namespace crmkit
