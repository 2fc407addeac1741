// crmkit/value/models.hpp: the buy-till-you-die models of the value layer, as pure functions over columns.
//
// Models: BG/NBD (Fader, Hardie, Lee 2005), MBG/NBD (Batislam et al. 2007, as lifetimes'
// ModifiedBetaGeoFitter), Pareto/NBD (Schmittlein et al. 1987; Fader-Hardie 2005 note), BG/BB
// (Fader, Hardie, Shang 2010, discrete time) and the Gamma-Gamma spend model (Fader, Hardie, Lee
// 2005, "RFM and CLV"). Names follow the Python library lifetimes so the binding is mechanical.
//
// Data. Continuous-time models take one row per customer: `frequency` x (repeat purchases, a
// non-negative integer), `recency` t_x (time of the last repeat purchase since the first purchase)
// and `T` (age: time since the first purchase). recency and T are in one time unit of the caller's
// choosing (days, weeks, ...); every `t` passed to a prediction is in that same unit, and the
// parameters alpha/beta (and their inverse rates) are in that unit too. BG/BB is discrete: recency
// and `n_periods` count transaction opportunities (integers). Gamma-Gamma takes frequency and the
// mean spend per repeat purchase.
//
// Fitting is maximum likelihood over log-parameters with NLopt (L-BFGS with analytic gradients;
// a derivative-free Subplex run plus an L-BFGS polish if L-BFGS fails). Gamma-Gamma, whose
// Hessian is analytic, starts with Newton's method instead (report message "Newton: converged")
// and takes L-BFGS only when Newton does not converge; without FitOptions::initial it starts from
// method-of-moments estimates where they exist (q > 2, two frequencies at least), else from
// every parameter 1. Identical rows are
// compressed into weighted unique rows first, so only the number of distinct rows matters
// (Gamma-Gamma, whose monetary values are nearly all distinct, sums the rows as given and its
// terms in the frequency alone once per distinct frequency).
// The objective minimised is lifetimes' convention:
//     -(sum_i w_i * ll_i) / (sum_i w_i) + penalizer * sum_k theta_k^2
// where theta are the natural (positive) parameters and w_i the row weights (1 when omitted).
// Standard errors come from the delta method: the Hessian of the penalised total log-likelihood
// with respect to log-parameters (central differences of the analytic gradient; Gamma-Gamma's is
// analytic) is inverted, and
// se(theta_k) = theta_k * sqrt(cov_log[k][k]). They are NaN when that Hessian is not negative
// definite.
//
// Degenerate fits. A fit is reported as not converged (FitReport::converged false, the reason at
// the end of FitReport::message), whatever the optimiser said, when
//  - its data carry no information on the parameters: for BG/NBD, MBG/NBD and Pareto/NBD every
//    row has T = 0 (checked in every fit, standard errors or not), or
//  - its standard errors are NaN ("Hessian not negative definite: standard errors are NaN"), in
//    fit() with FitOptions::standard_errors, or in with_standard_errors() when they are computed
//    later, or
//  - its likelihood has no finite maximum (see "Convergence").
//
// Convergence. A default start (every parameter 1, or FitOptions::initial) that does not converge
// (and did not stop on max_iterations) is followed by a multi-start: the same local optimisation
// from each of the 2^k corners of [0.1, 10]^k (log scale, fixed order); the best end is kept and
// the message reports "multi-start: N starts tried (...), best: start i (...), c converged, a of N
// agreed with the best". A fit whose end the curvature does not pin down (the Hessian of the
// log-likelihood in log-parameters is not negative definite, or some log-parameter has a variance
// above 1) then probes for a missing maximum: from the end point each
// log-parameter, and each pair together, moves by +-2; a lower objective there is followed along
// the ray (steps 4, 8, ...) to the box exp(+-30). A ray on which the likelihood never falls again
// up to the box means no finite maximum: the report is not converged, with "no finite maximum:
// the log-likelihood keeps increasing as parameter r -> 0 (...)" (or the pair and direction), and
// the parameters are where the optimiser ended. A ray that turns up again restarts the local
// optimisation at its lowest point (at most 4 times; "probe round i: ..."). The Hessian costs 2k
// gradient evaluations (the standard errors reuse it); the probe 2(k + k(k-1)/2) more.
//
// Errors: every function validates its input and throws Error{invalid_argument} with a message
// "<field>: <problem>" (for columns "<name>[<row>]: <problem>"); nothing is modified on error.
// Predictions are computed element by element in log space and are finite for valid input and
// valid (positive, finite) parameters, except where a function documents otherwise.
//
// Performance. The BG/NBD and MBG/NBD likelihood sums (fit, log_likelihood, gradient: over
// >= 20,000 distinct rows) and their probability-alive and conditional-expectation predictions
// (over >= 20,000 rows) run on worker threads (std::thread, started per call and joined before it
// returns; at most model_threads() of them, or FitOptions::threads for a fit). Sums are taken over
// fixed blocks of rows and the block sums added in block order, and predictions are element by
// element, so results do not depend on the thread count or on timing. Standard errors cost 2k
// extra gradient evaluations (k parameters): FitOptions::standard_errors = false skips them in
// fit(), and compute_standard_errors() gives them later, on request (the Python BetaGeoFitter and
// ModifiedBetaGeoFitter do this on the first read of standard_errors_ / summary).
//
// Thread-safety: models are immutable values after construction; const methods may be called from
// any number of threads at once (each call may start its own workers, see above). fit() functions
// are re-entrant. set_model_threads() may be called from any thread; calls already running keep
// the count they started with.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace crmkit {
inline namespace v0 {

// Options shared by every fit().
struct FitOptions {
  // L2 penalty coefficient c >= 0: adds c * sum(theta^2) to the mean negative log-likelihood
  // (lifetimes' penalizer_coef). Shrinks parameters toward 0; 0 is plain maximum likelihood.
  double penalizer = 0.0;
  // Starting parameters in natural scale (all > 0), in the model's parameter order. Empty: every
  // parameter starts at 1 (Gamma-Gamma: its method-of-moments estimates when they exist). A poor
  // start costs iterations, rarely the optimum.
  std::vector<double> initial;
  // Maximum number of objective+gradient evaluations per optimiser run.
  int max_iterations = 1000;
  // Relative tolerance on the objective and on log-parameters. Smaller is more exact and slower.
  double tolerance = 1e-10;
  // Compute delta-method standard errors in fit() (2k gradient evaluations for k parameters).
  // false: standard_errors() is NaN and the fit is faster; BetaGeoModel and ModifiedBetaGeoModel
  // can compute them afterwards with compute_standard_errors().
  bool standard_errors = true;
  // Worker threads for the fit's likelihood sums; 0 = model_threads(). Results do not depend on
  // it; more threads only help on large data (>= 20,000 distinct rows) and idle cores.
  unsigned threads = 0;
};

// Worker threads the models may use for one call over >= 20,000 rows (see "Performance" above).
// 0 (the initial setting) means std::thread::hardware_concurrency(); 1 keeps every call on the
// calling thread. Results do not depend on it. Thread-safe.
void set_model_threads(unsigned threads) noexcept;
// The effective count: the value set, or hardware_concurrency() (at least 1) if 0. Thread-safe.
unsigned model_threads() noexcept;

// How a fit ended. A fit never fails silently: read `converged` and `message`.
struct FitReport {
  bool converged = false;       // the optimiser stopped on a tolerance with a small gradient
  int iterations = 0;           // objective+gradient evaluations, over all optimiser runs
  double log_likelihood = 0.0;  // sum_i w_i * ll_i at the returned parameters (no penalty)
  double gradient_norm = 0.0;   // Euclidean norm of the objective's gradient in log-parameters
  std::string message;          // algorithm(s) used and NLopt's stop reason
};

// Units for customer_lifetime_value (lifetimes' `freq` letter): how many time units of the data
// make one month. D = 30, W = 4.345, M = 1, H = 720, exactly as lifetimes.
// Throws Error{invalid_argument} for any other letter.
double periods_per_month(std::string_view freq);

// Options of customer_lifetime_value (lifetimes' method).
struct ClvOptions {
  int months = 12;                 // horizon in months (lifetimes' `time`), >= 1
  double discount_rate = 0.01;     // monthly discount rate (>= 0); month i is divided by (1+d)^i
  double periods_per_month = 30;   // data time units per month: 30 for days, 4.345 for weeks
};

// Histories with frequency 0 and recency > 0 cannot come from any of the models (recency is the
// time of the last repeat purchase). The prediction methods that take a history reject them by
// default (Error{invalid_argument}: "recency[i]: must be 0 when frequency is 0, got ..."); with
// `evaluate` they evaluate the model's closed forms there as lifetimes 0.11.3 does (BG/NBD:
// P(alive) 1 and the recency ignored; MBG/NBD, Pareto/NBD and BG/BB: the recency enters the
// formulas). docs/lifetimes-compat.md, difference 4, has both answers.
enum class ImpossibleHistories { reject, evaluate };

// A model that predicts repeat purchases; customer_lifetime_value works with any of them.
class TransactionModel {
 public:
  virtual ~TransactionModel() = default;
  // Expected number of repeat purchases in (T, T + t] for customers with history (x, t_x, T).
  // For BG/BB, t and T are numbers of periods (integers). See each model for throws.
  virtual std::vector<double> conditional_expected_number_of_purchases_up_to_time(
      double t, std::span<const double> frequency, std::span<const double> recency,
      std::span<const double> T) const = 0;
};

// ---------------------------------------------------------------------------------------------
// BG/NBD: purchases Poisson(lambda) while alive, lambda ~ Gamma(r, alpha); after each purchase the
// customer drops out with probability p ~ Beta(a, b).
struct BetaGeoParams {
  double r = 1, alpha = 1, a = 1, b = 1;
};

class BetaGeoModel : public TransactionModel {
 public:
  // A model with known parameters (no fit; report() is empty, standard errors NaN).
  // Throws Error{invalid_argument} unless every parameter is finite and > 0.
  explicit BetaGeoModel(const BetaGeoParams& params);
  // A model rebuilt from what a fit produced (a saved or pickled fit): the parameters, standard
  // errors (NaN where not computed) and report are kept exactly as given. Throws
  // Error{invalid_argument} unless every parameter is finite and > 0 and every standard error is
  // NaN or finite and >= 0.
  BetaGeoModel(const BetaGeoParams& params, const BetaGeoParams& standard_errors, FitReport report);

  // Fits by maximum likelihood. frequency, recency and T have equal lengths n >= 1; weights is
  // empty or of length n (row i counts weights[i] times). Throws Error{invalid_argument} if a
  // column is malformed (lengths differ, non-finite, frequency not a non-negative integer,
  // recency < 0 or > T, frequency 0 with recency != 0, weights < 0 or all 0) or the options are
  // (penalizer < 0, initial of the wrong size or not > 0, max_iterations < 1, tolerance <= 0).
  // Does not throw when the optimiser fails: see report().
  static BetaGeoModel fit(std::span<const double> frequency, std::span<const double> recency,
                          std::span<const double> T, std::span<const double> weights = {},
                          const FitOptions& options = {});

  const BetaGeoParams& params() const noexcept { return params_; }
  const BetaGeoParams& standard_errors() const noexcept { return se_; }
  const FitReport& report() const noexcept { return report_; }
  // The delta-method covariance matrix of the parameters at params() for the given rows (those
  // of the fit, with its penalizer): k x k, row-major in params() order, natural scale
  // diag(theta) (-H)^-1 diag(theta), H the Hessian of the penalised total log-likelihood in
  // log-parameters; its diagonal is the square of compute_standard_errors'. All NaN where H is
  // not negative definite. Same validation and throws as fit().
  std::vector<double> covariance(std::span<const double> frequency,
                                 std::span<const double> recency, std::span<const double> T,
                                 std::span<const double> weights = {},
                                 double penalizer = 0.0) const;

  // Total (weighted) log-likelihood of the given rows under params(). Same validation as fit().
  double log_likelihood(std::span<const double> frequency, std::span<const double> recency,
                        std::span<const double> T, std::span<const double> weights = {}) const;
  // Gradient of log_likelihood() with respect to the natural parameters, in params() order.
  std::vector<double> log_likelihood_gradient(std::span<const double> frequency,
                                              std::span<const double> recency,
                                              std::span<const double> T,
                                              std::span<const double> weights = {}) const;
  // Per-row log-likelihood, same validation.
  std::vector<double> individual_log_likelihood(std::span<const double> frequency,
                                                std::span<const double> recency,
                                                std::span<const double> T) const;
  // Delta-method standard errors of params() on the given rows with L2 penalty `penalizer` (as
  // fit() computes them with FitOptions::standard_errors): pass the data and penalizer of the fit
  // to get what fit() would have reported. NaN where the penalised log-likelihood's Hessian in
  // log-parameters is not negative definite. Same validation as fit(); throws
  // Error{invalid_argument} also for penalizer < 0 or non-finite. Does not change the model.
  BetaGeoParams compute_standard_errors(std::span<const double> frequency,
                                        std::span<const double> recency,
                                        std::span<const double> T,
                                        std::span<const double> weights = {},
                                        double penalizer = 0.0) const;
  // A copy of this model whose standard_errors() are compute_standard_errors(frequency, recency,
  // T, weights, penalizer) and whose report() is this one's, not converged if any standard error
  // is NaN (see "Degenerate fits" above): what fit() would have reported with
  // FitOptions::standard_errors. Same validation and throws as compute_standard_errors().
  BetaGeoModel with_standard_errors(std::span<const double> frequency,
                                    std::span<const double> recency, std::span<const double> T,
                                    std::span<const double> weights = {},
                                    double penalizer = 0.0) const;

  // The prediction methods below validate (frequency, recency, T) like fit() and t >= 0 finite,
  // and throw Error{invalid_argument} otherwise. Results are in [0, 1] for probabilities.

  // P(alive at T | x, t_x, T).
  std::vector<double> conditional_probability_alive(
      std::span<const double> frequency, std::span<const double> recency,
      std::span<const double> T, ImpossibleHistories histories = ImpossibleHistories::reject) const;
  // E[X(T, T+t) | x, t_x, T]: expected repeat purchases in the next t time units.
  std::vector<double> conditional_expected_number_of_purchases_up_to_time(
      double t, std::span<const double> frequency, std::span<const double> recency,
      std::span<const double> T) const override;
  // The same with a choice for impossible histories (ImpossibleHistories above).
  std::vector<double> conditional_expected_number_of_purchases_up_to_time(
      double t, std::span<const double> frequency, std::span<const double> recency,
      std::span<const double> T, ImpossibleHistories histories) const;
  // E[X(t)] for a new customer, for each t in `t` (each >= 0).
  std::vector<double> expected_number_of_purchases_up_to_time(std::span<const double> t) const;
  // P(X(t) = n) for a new customer; n >= 0 integer-valued, t >= 0.
  double probability_of_n_purchases_up_to_time(double t, double n) const;

 private:
  BetaGeoParams params_, se_;
  FitReport report_;
};

// ---------------------------------------------------------------------------------------------
// MBG/NBD: as BG/NBD, but a customer may also drop out at time 0 (right after the first purchase),
// lifetimes' ModifiedBetaGeoFitter. Same contracts as BetaGeoModel.
struct ModifiedBetaGeoParams {
  double r = 1, alpha = 1, a = 1, b = 1;
};

class ModifiedBetaGeoModel : public TransactionModel {
 public:
  explicit ModifiedBetaGeoModel(const ModifiedBetaGeoParams& params);
  // A model rebuilt from what a fit produced (a saved or pickled fit): the parameters, standard
  // errors (NaN where not computed) and report are kept exactly as given. Throws
  // Error{invalid_argument} unless every parameter is finite and > 0 and every standard error is
  // NaN or finite and >= 0.
  ModifiedBetaGeoModel(const ModifiedBetaGeoParams& params, const ModifiedBetaGeoParams& standard_errors, FitReport report);
  static ModifiedBetaGeoModel fit(std::span<const double> frequency,
                                  std::span<const double> recency, std::span<const double> T,
                                  std::span<const double> weights = {},
                                  const FitOptions& options = {});

  const ModifiedBetaGeoParams& params() const noexcept { return params_; }
  const ModifiedBetaGeoParams& standard_errors() const noexcept { return se_; }
  const FitReport& report() const noexcept { return report_; }
  // The delta-method covariance matrix of the parameters at params() for the given rows (those
  // of the fit, with its penalizer): k x k, row-major in params() order, natural scale
  // diag(theta) (-H)^-1 diag(theta), H the Hessian of the penalised total log-likelihood in
  // log-parameters; its diagonal is the square of compute_standard_errors'. All NaN where H is
  // not negative definite. Same validation and throws as fit().
  std::vector<double> covariance(std::span<const double> frequency,
                                 std::span<const double> recency, std::span<const double> T,
                                 std::span<const double> weights = {},
                                 double penalizer = 0.0) const;

  double log_likelihood(std::span<const double> frequency, std::span<const double> recency,
                        std::span<const double> T, std::span<const double> weights = {}) const;
  // Gradient of log_likelihood() with respect to the natural parameters, in params() order.
  std::vector<double> log_likelihood_gradient(std::span<const double> frequency,
                                              std::span<const double> recency,
                                              std::span<const double> T,
                                              std::span<const double> weights = {}) const;
  std::vector<double> individual_log_likelihood(std::span<const double> frequency,
                                                std::span<const double> recency,
                                                std::span<const double> T) const;
  ModifiedBetaGeoParams compute_standard_errors(std::span<const double> frequency,
                                                std::span<const double> recency,
                                                std::span<const double> T,
                                                std::span<const double> weights = {},
                                                double penalizer = 0.0) const;
  ModifiedBetaGeoModel with_standard_errors(std::span<const double> frequency,
                                            std::span<const double> recency,
                                            std::span<const double> T,
                                            std::span<const double> weights = {},
                                            double penalizer = 0.0) const;
  std::vector<double> conditional_probability_alive(
      std::span<const double> frequency, std::span<const double> recency,
      std::span<const double> T, ImpossibleHistories histories = ImpossibleHistories::reject) const;
  std::vector<double> conditional_expected_number_of_purchases_up_to_time(
      double t, std::span<const double> frequency, std::span<const double> recency,
      std::span<const double> T) const override;
  // The same with a choice for impossible histories (ImpossibleHistories above).
  std::vector<double> conditional_expected_number_of_purchases_up_to_time(
      double t, std::span<const double> frequency, std::span<const double> recency,
      std::span<const double> T, ImpossibleHistories histories) const;
  std::vector<double> expected_number_of_purchases_up_to_time(std::span<const double> t) const;
  // P(X(t) = n) for a new customer; n >= 0 integer-valued, t >= 0. A customer who drops out
  // right after its j-th purchase (j = 0 included, probability p(1-p)^j) makes min(j, N(t))
  // purchases, N(t) ~ Poisson(lambda t); so P(X(t)=n) = B(a, b+n+1)/B(a, b) NBD(n) +
  // B(a+1, b+n)/B(a, b) P(NBD >= n), with NBD the negative binomial of the Gamma-Poisson mixture
  // and its tail taken as the regularised incomplete beta I_{t/(alpha+t)}(n, r).
  // Throws Error{invalid_argument} for negative or non-finite t or a non-integer n.
  double probability_of_n_purchases_up_to_time(double t, double n) const;

 private:
  ModifiedBetaGeoParams params_, se_;
  FitReport report_;
};

// ---------------------------------------------------------------------------------------------
// Pareto/NBD: purchases Poisson(lambda), lambda ~ Gamma(r, alpha); exponential lifetime with rate
// mu ~ Gamma(s, beta). The likelihood's A0 term is evaluated as the integral
// s * int_{t_x}^{T} (alpha+y)^-(r+x) (beta+y)^-(s+1) dy (equal to the 2F1 form of the Fader-Hardie
// note) by log-concave Gauss-Legendre panels, which stays exact where the hypergeometric
// difference cancels (t_x close to T) or sits near |z| = 1. Same contracts as BetaGeoModel.
struct ParetoNBDParams {
  double r = 1, alpha = 1, s = 1, beta = 1;
};

class ParetoNBDModel : public TransactionModel {
 public:
  explicit ParetoNBDModel(const ParetoNBDParams& params);
  // A model rebuilt from what a fit produced (a saved or pickled fit): the parameters, standard
  // errors (NaN where not computed) and report are kept exactly as given. Throws
  // Error{invalid_argument} unless every parameter is finite and > 0 and every standard error is
  // NaN or finite and >= 0.
  ParetoNBDModel(const ParetoNBDParams& params, const ParetoNBDParams& standard_errors, FitReport report);
  static ParetoNBDModel fit(std::span<const double> frequency, std::span<const double> recency,
                            std::span<const double> T, std::span<const double> weights = {},
                            const FitOptions& options = {});

  const ParetoNBDParams& params() const noexcept { return params_; }
  const ParetoNBDParams& standard_errors() const noexcept { return se_; }
  const FitReport& report() const noexcept { return report_; }
  // The delta-method covariance matrix of the parameters at params() for the given rows (those
  // of the fit, with its penalizer): k x k, row-major in params() order, natural scale
  // diag(theta) (-H)^-1 diag(theta), H the Hessian of the penalised total log-likelihood in
  // log-parameters; its diagonal is the square of compute_standard_errors'. All NaN where H is
  // not negative definite. Same validation and throws as fit().
  std::vector<double> covariance(std::span<const double> frequency,
                                 std::span<const double> recency, std::span<const double> T,
                                 std::span<const double> weights = {},
                                 double penalizer = 0.0) const;

  double log_likelihood(std::span<const double> frequency, std::span<const double> recency,
                        std::span<const double> T, std::span<const double> weights = {}) const;
  // Gradient of log_likelihood() with respect to the natural parameters, in params() order.
  std::vector<double> log_likelihood_gradient(std::span<const double> frequency,
                                              std::span<const double> recency,
                                              std::span<const double> T,
                                              std::span<const double> weights = {}) const;
  std::vector<double> individual_log_likelihood(std::span<const double> frequency,
                                                std::span<const double> recency,
                                                std::span<const double> T) const;
  std::vector<double> conditional_probability_alive(
      std::span<const double> frequency, std::span<const double> recency,
      std::span<const double> T, ImpossibleHistories histories = ImpossibleHistories::reject) const;
  // At s = 1 the (s-1) factors are replaced by their limit (a logarithm).
  std::vector<double> conditional_expected_number_of_purchases_up_to_time(
      double t, std::span<const double> frequency, std::span<const double> recency,
      std::span<const double> T) const override;
  // The same with a choice for impossible histories (ImpossibleHistories above).
  std::vector<double> conditional_expected_number_of_purchases_up_to_time(
      double t, std::span<const double> frequency, std::span<const double> recency,
      std::span<const double> T, ImpossibleHistories histories) const;
  std::vector<double> expected_number_of_purchases_up_to_time(std::span<const double> t) const;
  // P(X(t) = n) for a new customer; n >= 0 integer-valued, t >= 0. Computed by integrating the
  // Poisson-Gamma count over the (Gamma-mixed exponential) lifetime.
  double probability_of_n_purchases_up_to_time(double t, double n) const;
  // P(X(T, T+t) = n | frequency, recency, T): the probability that a customer with that history
  // makes exactly n purchases in the next t time units (lifetimes'
  // conditional_probability_of_n_purchases_up_to_time, Fader and Hardie's conditional PMF). The
  // customer is either dead by T (n = 0 only), alive through T + t (Poisson count), or dies at
  // T + tau for tau in (0, t) (Poisson count up to tau); the last part is integrated numerically.
  // Summed over n = 0, 1, ... it is 1; its mean is
  // conditional_expected_number_of_purchases_up_to_time(t, ...). One value per row. Throws
  // Error{invalid_argument} if n is not a non-negative integer, t is negative or not finite, or a
  // row fails the checks of conditional_probability_alive (the message names the row).
  std::vector<double> conditional_probability_of_n_purchases_up_to_time(
      double n, double t, std::span<const double> frequency, std::span<const double> recency,
      std::span<const double> T,
      ImpossibleHistories histories = ImpossibleHistories::reject) const;

 private:
  ParetoNBDParams params_, se_;
  FitReport report_;
};

// ---------------------------------------------------------------------------------------------
// BG/BB (discrete time): in each of n_periods transaction opportunities an alive customer buys with
// probability p ~ Beta(alpha, beta) and, at the end of each period, dies with probability
// theta ~ Beta(gamma, delta). Data: frequency x, recency t_x (the period of the last purchase,
// 0 if none) and n_periods n, all integers with 0 <= x <= t_x <= n, n >= 1, x = 0 iff t_x = 0.
struct BetaGeoBetaBinomParams {
  double alpha = 1, beta = 1, gamma = 1, delta = 1;
};

class BetaGeoBetaBinomModel : public TransactionModel {
 public:
  explicit BetaGeoBetaBinomModel(const BetaGeoBetaBinomParams& params);
  // A model rebuilt from what a fit produced (a saved or pickled fit): the parameters, standard
  // errors (NaN where not computed) and report are kept exactly as given. Throws
  // Error{invalid_argument} unless every parameter is finite and > 0 and every standard error is
  // NaN or finite and >= 0.
  BetaGeoBetaBinomModel(const BetaGeoBetaBinomParams& params, const BetaGeoBetaBinomParams& standard_errors, FitReport report);
  static BetaGeoBetaBinomModel fit(std::span<const double> frequency,
                                   std::span<const double> recency,
                                   std::span<const double> n_periods,
                                   std::span<const double> weights = {},
                                   const FitOptions& options = {});

  const BetaGeoBetaBinomParams& params() const noexcept { return params_; }
  const BetaGeoBetaBinomParams& standard_errors() const noexcept { return se_; }
  const FitReport& report() const noexcept { return report_; }
  // The delta-method covariance matrix of the parameters at params() for the given rows (those
  // of the fit, with its penalizer): k x k, row-major in params() order, natural scale
  // diag(theta) (-H)^-1 diag(theta), H the Hessian of the penalised total log-likelihood in
  // log-parameters; its diagonal is the square of compute_standard_errors'. All NaN where H is
  // not negative definite. Same validation and throws as fit().
  std::vector<double> covariance(std::span<const double> frequency,
                                 std::span<const double> recency,
                                 std::span<const double> n_periods,
                                 std::span<const double> weights = {},
                                 double penalizer = 0.0) const;

  double log_likelihood(std::span<const double> frequency, std::span<const double> recency,
                        std::span<const double> n_periods,
                        std::span<const double> weights = {}) const;
  std::vector<double> log_likelihood_gradient(std::span<const double> frequency,
                                              std::span<const double> recency,
                                              std::span<const double> n_periods,
                                              std::span<const double> weights = {}) const;
  std::vector<double> individual_log_likelihood(std::span<const double> frequency,
                                                std::span<const double> recency,
                                                std::span<const double> n_periods) const;
  // P(alive at period n + m_periods_in_future | x, t_x, n); m_periods_in_future >= 0 integer.
  std::vector<double> conditional_probability_alive(std::span<const double> frequency,
                                                    std::span<const double> recency,
                                                    std::span<const double> n_periods,
                                                    double m_periods_in_future = 0,
                                                    ImpossibleHistories histories =
                                                        ImpossibleHistories::reject) const;
  // Expected purchases in periods n+1 .. n+m given history; m = t must be integer-valued.
  std::vector<double> conditional_expected_number_of_purchases_up_to_time(
      double m_periods_in_future, std::span<const double> frequency,
      std::span<const double> recency, std::span<const double> n_periods) const override;
  // The same with a choice for impossible histories (ImpossibleHistories above).
  std::vector<double> conditional_expected_number_of_purchases_up_to_time(
      double m_periods_in_future, std::span<const double> frequency,
      std::span<const double> recency, std::span<const double> n_periods,
      ImpossibleHistories histories) const;
  // E[X(n)] for a new customer over n periods, for each n (integer-valued, >= 0).
  std::vector<double> expected_number_of_transactions_in_first_n_periods(
      std::span<const double> n) const;
  // P(X(n) = x) for a new customer: integers 0 <= x <= n.
  double probability_of_n_purchases_up_to_time(double n, double x) const;

 private:
  BetaGeoBetaBinomParams params_, se_;
  FitReport report_;
};

// ---------------------------------------------------------------------------------------------
// Gamma-Gamma spend: a customer's transaction values are Gamma(p, nu), nu ~ Gamma(q, v) (lifetimes
// names the scale v; the paper calls it gamma). Data: frequency x (repeat purchases) and the mean
// value m of those purchases. Assumes spend is independent of the purchase process.
struct GammaGammaParams {
  double p = 1, q = 1, v = 1;
};

class GammaGammaModel {
 public:
  explicit GammaGammaModel(const GammaGammaParams& params);
  // A model rebuilt from what a fit produced (a saved or pickled fit): the parameters, standard
  // errors (NaN where not computed) and report are kept exactly as given. Throws
  // Error{invalid_argument} unless every parameter is finite and > 0 and every standard error is
  // NaN or finite and >= 0.
  GammaGammaModel(const GammaGammaParams& params, const GammaGammaParams& standard_errors, FitReport report);
  // Fits on rows with frequency >= 1 (integer-valued) and monetary_value > 0, both finite, equal
  // lengths; weights as for BetaGeoModel::fit. Throws Error{invalid_argument} otherwise (rows with
  // frequency 0 must be filtered out by the caller, as in lifetimes).
  static GammaGammaModel fit(std::span<const double> frequency,
                             std::span<const double> monetary_value,
                             std::span<const double> weights = {}, const FitOptions& options = {});
  // lifetimes' q_constraint (q_constraint true): the maximum over q >= 1 (the population mean
  // spend p v / (q - 1) needs q > 1). Fits as above; if that optimum has q >= 1 it is the answer
  // (the constraint is inactive). Otherwise the maximum lies on the bound: q is set to exactly
  // 1 and p, v are fitted with q held there, as lifetimes' bounded optimiser ends; the standard
  // errors are the delta-method ones of all three parameters at that point (NaN, and the fit not
  // converged, where the Hessian there is not negative definite), and the report's message says
  // "q held at the bound q = 1". q_constraint false: the fit above. Same validation and throws.
  static GammaGammaModel fit(std::span<const double> frequency,
                             std::span<const double> monetary_value,
                             std::span<const double> weights, const FitOptions& options,
                             bool q_constraint);

  const GammaGammaParams& params() const noexcept { return params_; }
  const GammaGammaParams& standard_errors() const noexcept { return se_; }
  const FitReport& report() const noexcept { return report_; }
  // The delta-method covariance matrix of the parameters at params() for the given rows (those
  // of the fit, with its penalizer): k x k, row-major in params() order, natural scale
  // diag(theta) (-H)^-1 diag(theta), H the Hessian of the penalised total log-likelihood in
  // log-parameters; its diagonal is the square of compute_standard_errors'. All NaN where H is
  // not negative definite. Same validation and throws as fit().
  std::vector<double> covariance(std::span<const double> frequency,
                                 std::span<const double> monetary_value,
                                 std::span<const double> weights = {},
                                 double penalizer = 0.0) const;

  double log_likelihood(std::span<const double> frequency, std::span<const double> monetary_value,
                        std::span<const double> weights = {}) const;
  std::vector<double> log_likelihood_gradient(std::span<const double> frequency,
                                              std::span<const double> monetary_value,
                                              std::span<const double> weights = {}) const;

  // E[Z | x, m] = p (v + x m) / (p x + q - 1): the expected mean spend per transaction. Rows with
  // frequency 0 get the population mean p v / (q - 1) (monetary_value ignored, may be 0).
  // Throws Error{invalid_argument} for malformed columns (frequency not a non-negative integer,
  // monetary_value < 0 or non-finite). Where the expectation does not exist (p x + q <= 1, e.g.
  // frequency 0 with q <= 1) that row is NaN; the other rows are unaffected.
  std::vector<double> conditional_expected_average_profit(
      std::span<const double> frequency, std::span<const double> monetary_value) const;

  // lifetimes' customer_lifetime_value: for months i = 1..months,
  //   clv += spend * (E[X(T, T + i*k)] - E[X(T, T + (i-1)*k)]) / (1 + discount_rate)^i
  // with k = options.periods_per_month (data time units per month), spend the conditional
  // expected average profit, and E[...] transaction_model's conditional expectation (so recency
  // and T are in the transaction model's time unit). A row without expected spend (NaN above) is
  // NaN. Throws as the two predictions it uses, and Error{invalid_argument} for months < 1,
  // discount_rate < 0 or periods_per_month <= 0.
  std::vector<double> customer_lifetime_value(const TransactionModel& transaction_model,
                                              std::span<const double> frequency,
                                              std::span<const double> recency,
                                              std::span<const double> T,
                                              std::span<const double> monetary_value,
                                              const ClvOptions& options = {}) const;

 private:
  GammaGammaParams params_, se_;
  FitReport report_;
};

}  // namespace v0
}  // namespace crmkit
