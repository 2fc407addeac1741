// crmkit/value/covariates.hpp: BG/NBD and Pareto/NBD with time-invariant covariates, in the form of
// Fader and Hardie's note 019 ("Incorporating Time-Invariant Covariates into the Pareto/NBD and
// BG/NBD Models", 2007), as pymc-marketing's BetaGeoModel / ParetoNBDModel write it.
//
// Parametrisation. Customer i has a row of purchase covariates x_i (columns P_1..P_p) and a row of
// dropout covariates z_i (columns D_1..D_q); the two sets may differ, and either may be empty.
//  - BG/NBD:     alpha_i = alpha * exp(-gamma1' x_i),   a_i = a * exp(gamma2' z_i),
//                b_i = b * exp(gamma3' z_i),            r common to every customer.
//  - Pareto/NBD: alpha_i = alpha * exp(-gamma1' x_i),   beta_i = beta * exp(-gamma2' z_i),
//                r and s common to every customer.
// Given (alpha_i, a_i, b_i) (or (alpha_i, beta_i)) the customer follows the plain model of
// models.hpp, so every likelihood and prediction is the plain one at the customer's own
// parameters, and all coefficients 0 give the plain model exactly. A positive alpha coefficient
// raises the purchase rate (E[lambda_i] = r / alpha_i); a positive Pareto/NBD beta coefficient
// raises the dropout rate (E[mu_i] = s / beta_i). CLVTools' BG/NBD uses one coefficient for a and
// b (gamma2 = gamma3); this model estimates them separately, as pymc-marketing does.
//
// Fitting: maximum likelihood over (log r, log alpha, log a, log b, gamma1, gamma2, gamma3) (Pareto:
// log r, log alpha, log s, log beta, gamma1, gamma2) with analytic gradients (NLopt L-BFGS; a
// Subplex run plus an L-BFGS polish if it fails), started from the plain model's fit with every
// coefficient 0. Internally each covariate column is centred and scaled (an exact linear change of
// variables, undone before returning), so covariates in any unit fit alike. Standard errors come
// from the Hessian of the penalised log-likelihood (central differences of the analytic
// gradient), inverted: se = sqrt(diag(cov)) for coefficients and theta * sqrt(cov) (delta method)
// for the positive base parameters. They are NaN, and the fit is reported not converged, when
// that Hessian is not negative definite. The objective is lifetimes' convention,
// -(sum_i w_i ll_i) / (sum_i w_i) + penalizer * (sum of the squared base parameters and
// coefficients).
//
// Parameter vector order (parameter_values(), FitOptions::initial, log_likelihood_gradient):
// BG/NBD r, alpha, a, b, gamma1 (p), gamma2 (q), gamma3 (q); Pareto/NBD r, alpha, s, beta,
// gamma1 (p), gamma2 (q). FitOptions::initial is natural-scale (base parameters > 0, coefficients
// any finite value); empty = the plain fit's parameters and zero coefficients.
//
// Errors: Error{invalid_argument} "<field>: <problem>" naming the argument, the column and the
// row: "purchase_covariates.age[3]: is NaN (covariates must be finite)", "dropout_covariates: has
// 9 rows, expected 10 (one per customer)", "purchase_covariates.tenure: is constant (every row
// is 2); a constant covariate is not identifiable beside alpha: remove it", a column that is a
// linear combination of the others (the earlier ones and a constant), or columns that differ from
// the model's. Nothing is modified on error.
//
// Performance: likelihood sums over >= 20,000 rows and predictions run on worker threads as in
// models.hpp (fixed blocks summed in block order: results do not depend on the thread count).
// Rows are not compressed (covariates make them distinct).
//
// Thread-safety: models are immutable values; const methods may be called from any number of
// threads at once. fit() is re-entrant.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "crmkit/value/models.hpp"

namespace crmkit {
inline namespace v0 {

// Covariates of n customers: a row-major n x columns.size() matrix, values[i * columns.size() + j]
// being customer i's value of column j. Column names are for messages and parameter names; they
// must be distinct and non-empty. With no columns, values must be empty (n is then the number of
// customers of the call).
struct CovariateMatrix {
  std::vector<std::string> columns;
  std::span<const double> values;
};

// BG/NBD with covariates: base parameters and one coefficient per covariate column.
struct BetaGeoCovariatesParams {
  double r = 1, alpha = 1, a = 1, b = 1;
  std::vector<double> alpha_coefficients;  // gamma1, one per purchase covariate
  std::vector<double> a_coefficients;      // gamma2, one per dropout covariate
  std::vector<double> b_coefficients;      // gamma3, one per dropout covariate
};

// Pareto/NBD with covariates.
struct ParetoNBDCovariatesParams {
  double r = 1, alpha = 1, s = 1, beta = 1;
  std::vector<double> alpha_coefficients;  // gamma1, one per purchase covariate
  std::vector<double> beta_coefficients;   // gamma2, one per dropout covariate
};

// Which of the two models a CovariatesModel is.
enum class CovariatesKind { beta_geo, pareto_nbd };

// The fitted (or given) model. One class serves both kinds; the kind fixes the meaning of the
// parameter vector (see the top of this header).
class CovariatesModel {
 public:
  // A model with known parameters (no fit: report() empty, standard errors NaN). Throws
  // Error{invalid_argument} unless the base parameters are finite and > 0, the coefficients
  // finite, their counts match the column lists, and column names are distinct and non-empty.
  CovariatesModel(const BetaGeoCovariatesParams& params, std::vector<std::string> purchase_columns,
                  std::vector<std::string> dropout_columns);
  CovariatesModel(const ParetoNBDCovariatesParams& params,
                  std::vector<std::string> purchase_columns,
                  std::vector<std::string> dropout_columns);
  // A model rebuilt from a parameter vector (in the order above), its standard errors (NaN or
  // finite >= 0, same length) and report: what a saved or pickled fit holds. Same throws.
  CovariatesModel(CovariatesKind kind, std::vector<double> values, std::vector<double> standard_errors,
                  FitReport report, std::vector<std::string> purchase_columns,
                  std::vector<std::string> dropout_columns);

  // Fits by maximum likelihood. frequency, recency, T as for BetaGeoModel::fit (n >= 1 rows);
  // purchase and dropout hold n rows each (or no columns); weights empty or n values >= 0.
  // Throws Error{invalid_argument} for malformed columns, covariates that are not finite,
  // a covariate column that is constant or a linear combination of the others over the rows of
  // positive weight, or bad options (initial of the wrong size, base values not > 0, ...).
  // Does not throw when the optimiser fails: see report().
  static CovariatesModel fit(CovariatesKind kind, std::span<const double> frequency,
                             std::span<const double> recency, std::span<const double> T,
                             const CovariateMatrix& purchase, const CovariateMatrix& dropout,
                             std::span<const double> weights = {},
                             const FitOptions& options = {});

  CovariatesKind kind() const noexcept { return kind_; }
  const std::vector<std::string>& purchase_columns() const noexcept { return purchase_columns_; }
  const std::vector<std::string>& dropout_columns() const noexcept { return dropout_columns_; }
  // The parameter vector and its names: "r", "alpha", "a", "b" (Pareto: "r", "alpha", "s",
  // "beta"), then "alpha[<column>]" per purchase column, "a[<column>]" and "b[<column>]" per
  // dropout column (Pareto: "beta[<column>]").
  const std::vector<double>& parameter_values() const noexcept { return values_; }
  std::vector<std::string> parameter_names() const;
  const std::vector<double>& standard_errors() const noexcept { return se_; }
  const FitReport& report() const noexcept { return report_; }
  // The parameters as the kind's struct. Throws Error{invalid_argument} for the other kind.
  BetaGeoCovariatesParams beta_geo_params() const;
  ParetoNBDCovariatesParams pareto_nbd_params() const;

  // Total weighted log-likelihood. Same validation as fit() (except the constant/collinear check).
  double log_likelihood(std::span<const double> frequency, std::span<const double> recency,
                        std::span<const double> T, const CovariateMatrix& purchase,
                        const CovariateMatrix& dropout, std::span<const double> weights = {}) const;
  // Its gradient with respect to the parameter vector (natural scale, coefficients as they are).
  std::vector<double> log_likelihood_gradient(std::span<const double> frequency,
                                              std::span<const double> recency,
                                              std::span<const double> T,
                                              const CovariateMatrix& purchase,
                                              const CovariateMatrix& dropout,
                                              std::span<const double> weights = {}) const;
  std::vector<double> individual_log_likelihood(std::span<const double> frequency,
                                                std::span<const double> recency,
                                                std::span<const double> T,
                                                const CovariateMatrix& purchase,
                                                const CovariateMatrix& dropout) const;

  // Predictions, one per customer, each at the customer's own parameters. The covariates must
  // have the model's columns in the model's order; rows as the other columns. t >= 0 finite.
  std::vector<double> conditional_probability_alive(std::span<const double> frequency,
                                                    std::span<const double> recency,
                                                    std::span<const double> T,
                                                    const CovariateMatrix& purchase,
                                                    const CovariateMatrix& dropout) const;
  std::vector<double> conditional_expected_number_of_purchases_up_to_time(
      double t, std::span<const double> frequency, std::span<const double> recency,
      std::span<const double> T, const CovariateMatrix& purchase,
      const CovariateMatrix& dropout) const;
  // E[X(t)] for a new customer with each row's covariates (rows = purchase/dropout rows; when
  // both have no columns, `rows` customers with the base parameters).
  std::vector<double> expected_number_of_purchases_up_to_time(double t,
                                                              const CovariateMatrix& purchase,
                                                              const CovariateMatrix& dropout,
                                                              std::size_t rows) const;
  // Per customer parameters: for BG/NBD columns alpha_i, a_i, b_i; for Pareto/NBD alpha_i,
  // beta_i (each vector n long).
  std::vector<std::vector<double>> individual_parameters(const CovariateMatrix& purchase,
                                                         const CovariateMatrix& dropout,
                                                         std::size_t rows) const;

 private:
  CovariatesModel() = default;
  CovariatesKind kind_ = CovariatesKind::beta_geo;
  std::vector<double> values_, se_;
  FitReport report_;
  std::vector<std::string> purchase_columns_, dropout_columns_;
};

}  // namespace v0
}  // namespace crmkit
