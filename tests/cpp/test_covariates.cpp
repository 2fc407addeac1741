// BG/NBD and Pareto/NBD with covariates (crmkit/value/covariates.hpp): the analytic gradient
// against central differences, zero coefficients against the plain models, validation messages,
// and a fit on data simulated from the model itself.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "crmkit/base/error.hpp"
#include "crmkit/value/covariates.hpp"
#include "crmkit/value/models.hpp"

using namespace crmkit;

namespace {

struct Sim {
  std::vector<double> x, tx, T, P, D;  // P: n x 2 (purchase), D: n x 1 (dropout)
};

// Simulates n customers from the covariate model itself (purchase columns u ~ N(0,1), v ~
// Bernoulli(0.5); dropout column v). BG/NBD: dropout after each repeat purchase with p ~ Beta(a_i,
// b_i); Pareto/NBD: exponential lifetime with mu ~ Gamma(s, 1/beta_i).
Sim simulate(bool bg, std::size_t n, std::uint64_t seed, const std::vector<double>& theta) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  Sim s;
  for (std::size_t i = 0; i < n; ++i) {
    const double u = normal(rng), v = unif(rng) < 0.5 ? 1.0 : 0.0;
    s.P.push_back(u);
    s.P.push_back(v);
    s.D.push_back(v);
    const double T = 30.0 + 20.0 * unif(rng);
    const double alpha_i = theta[1] * std::exp(-(theta[4] * u + theta[5] * v));
    const double lambda = std::gamma_distribution<double>(theta[0], 1.0 / alpha_i)(rng);
    double t = 0, last = 0, x = 0;
    if (bg) {
      const double a_i = theta[2] * std::exp(theta[6] * v), b_i = theta[3] * std::exp(theta[7] * v);
      const double ga = std::gamma_distribution<double>(a_i, 1.0)(rng);
      const double gb = std::gamma_distribution<double>(b_i, 1.0)(rng);
      const double p = ga / (ga + gb);
      for (;;) {
        t += std::exponential_distribution<double>(lambda)(rng);
        if (t > T) break;
        x += 1;
        last = t;
        if (unif(rng) < p) break;
      }
    } else {
      const double beta_i = theta[3] * std::exp(-theta[6] * v);
      const double mu = std::gamma_distribution<double>(theta[2], 1.0 / beta_i)(rng);
      const double tau = std::exponential_distribution<double>(mu)(rng);
      const double end = std::min(tau, T);
      for (;;) {
        t += std::exponential_distribution<double>(lambda)(rng);
        if (t > end) break;
        x += 1;
        last = t;
      }
    }
    s.x.push_back(x);
    s.tx.push_back(last);
    s.T.push_back(T);
  }
  return s;
}

const std::vector<std::string> kP = {"u", "v"};
const std::vector<std::string> kD = {"v"};

}  // namespace

TEST_CASE("covariates: analytic gradient equals central differences", "[covariates]") {
  for (bool bg : {true, false}) {
    const std::vector<double> theta =
        bg ? std::vector<double>{0.9, 3.0, 0.8, 2.5, 0.4, -0.3, 0.5, -0.2}
           : std::vector<double>{0.9, 3.0, 1.2, 8.0, 0.4, -0.3, 0.6};
    const Sim s = simulate(bg, 300, 7, theta);
    const CovariateMatrix P{kP, s.P}, D{kD, s.D};
    const CovariatesKind kind = bg ? CovariatesKind::beta_geo : CovariatesKind::pareto_nbd;
    const CovariatesModel m(kind, theta, {}, FitReport{}, kP, kD);
    const std::vector<double> g = m.log_likelihood_gradient(s.x, s.tx, s.T, P, D);
    REQUIRE(g.size() == theta.size());
    for (std::size_t k = 0; k < theta.size(); ++k) {
      const double h = 1e-6 * std::max(1.0, std::fabs(theta[k]));
      std::vector<double> up = theta, dn = theta;
      up[k] += h;
      dn[k] -= h;
      const double fd = (CovariatesModel(kind, up, {}, FitReport{}, kP, kD)
                             .log_likelihood(s.x, s.tx, s.T, P, D) -
                         CovariatesModel(kind, dn, {}, FitReport{}, kP, kD)
                             .log_likelihood(s.x, s.tx, s.T, P, D)) /
                        (2 * h);
      INFO((bg ? "BG/NBD" : "Pareto/NBD") << " parameter " << m.parameter_names()[k] << ": "
                                           << g[k] << " vs " << fd);
      CHECK(g[k] == Approx(fd).epsilon(1e-6).margin(1e-5));
    }
  }
}

TEST_CASE("covariates: zero coefficients are the plain model", "[covariates]") {
  const Sim s = simulate(true, 500, 11, {0.9, 3.0, 0.8, 2.5, 0.4, -0.3, 0.5, -0.2});
  const CovariateMatrix P{kP, s.P}, D{kD, s.D};
  auto rel = [](double a, double b) { return std::fabs(a - b) / std::max(1e-300, std::fabs(b)); };
  {
    const BetaGeoModel plain({0.9, 3.0, 0.8, 2.5});
    const CovariatesModel cov(BetaGeoCovariatesParams{0.9, 3.0, 0.8, 2.5, {0, 0}, {0}, {0}}, kP,
                              kD);
    CHECK(rel(cov.log_likelihood(s.x, s.tx, s.T, P, D), plain.log_likelihood(s.x, s.tx, s.T)) <
          1e-12);
    const auto a1 = cov.conditional_probability_alive(s.x, s.tx, s.T, P, D);
    const auto a0 = plain.conditional_probability_alive(s.x, s.tx, s.T);
    const auto e1 = cov.conditional_expected_number_of_purchases_up_to_time(10, s.x, s.tx, s.T, P, D);
    const auto e0 = plain.conditional_expected_number_of_purchases_up_to_time(10, s.x, s.tx, s.T);
    const auto l1 = cov.individual_log_likelihood(s.x, s.tx, s.T, P, D);
    const auto l0 = plain.individual_log_likelihood(s.x, s.tx, s.T);
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      CHECK(rel(a1[i], a0[i]) < 1e-12);
      CHECK(rel(e1[i], e0[i]) < 1e-12);
      CHECK(rel(l1[i], l0[i]) < 1e-12);
    }
    const double t5[1] = {5.0};
    CHECK(rel(cov.expected_number_of_purchases_up_to_time(5.0, P, D, s.x.size())[17],
              plain.expected_number_of_purchases_up_to_time(t5)[0]) < 1e-12);
  }
  {
    const ParetoNBDModel plain({0.9, 3.0, 1.2, 8.0});
    const CovariatesModel cov(ParetoNBDCovariatesParams{0.9, 3.0, 1.2, 8.0, {0, 0}, {0}}, kP, kD);
    CHECK(rel(cov.log_likelihood(s.x, s.tx, s.T, P, D), plain.log_likelihood(s.x, s.tx, s.T)) <
          1e-12);
    const auto a1 = cov.conditional_probability_alive(s.x, s.tx, s.T, P, D);
    const auto a0 = plain.conditional_probability_alive(s.x, s.tx, s.T);
    const auto e1 = cov.conditional_expected_number_of_purchases_up_to_time(10, s.x, s.tx, s.T, P, D);
    const auto e0 = plain.conditional_expected_number_of_purchases_up_to_time(10, s.x, s.tx, s.T);
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      CHECK(rel(a1[i], a0[i]) < 1e-12);
      CHECK(rel(e1[i], e0[i]) < 1e-12);
    }
  }
}

TEST_CASE("covariates: validation names the column and the row", "[covariates]") {
  const std::vector<double> x = {0, 1, 2}, tx = {0, 3, 4}, T = {5, 6, 7};
  std::vector<double> bad = {0.1, 1, 0.2, NAN, 0.3, 1};
  auto message = [&](const CovariateMatrix& P, const CovariateMatrix& D) -> std::string {
    try {
      CovariatesModel::fit(CovariatesKind::beta_geo, x, tx, T, P, D);
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::invalid_argument);
      return e.what();
    }
    return "no error";
  };
  CHECK(message({kP, bad}, {{}, {}}) == "purchase_covariates.v[1]: is NaN (covariates must be finite)");
  const std::vector<double> five = {1, 2, 3, 4, 5};
  CHECK(message({{"u"}, five}, {{}, {}}) == "purchase_covariates: has 5 rows, expected 3 (one per customer)");
  const std::vector<double> constant = {2, 2, 2};
  CHECK(message({{}, {}}, {{"tenure"}, constant}) ==
        "dropout_covariates.tenure: is constant (every row is 2); a constant covariate is not "
        "identifiable beside a and b: remove it");
  const std::vector<double> collinear = {1, 2, 2, 4, 3, 6};
  CHECK(message({{"u", "w"}, collinear}, {{}, {}}) ==
        "purchase_covariates.w: is a linear combination of the columns before it and a constant, "
        "so its coefficient is not identifiable: remove it");
  // Predictions refuse other columns.
  const CovariatesModel m(BetaGeoCovariatesParams{1, 1, 1, 1, {0.1}, {}, {}}, {"u"}, {});
  const std::vector<double> three = {0, 1, 2};
  CHECK_THROWS_WITH(m.conditional_probability_alive(x, tx, T, {{"w"}, three}, {{}, {}}),
                    "purchase_covariates: columns [w] differ from the model's [u] (same names, "
                    "same order)");
}

TEST_CASE("covariates: a fit recovers the simulated coefficients", "[covariates]") {
  const std::vector<double> truth = {0.9, 3.0, 0.8, 2.5, 0.5, -0.4, 0.5, -0.3};
  const Sim s = simulate(true, 6000, 2024, truth);
  const CovariateMatrix P{kP, s.P}, D{kD, s.D};
  const CovariatesModel m = CovariatesModel::fit(CovariatesKind::beta_geo, s.x, s.tx, s.T, P, D);
  INFO(m.report().message);
  CHECK(m.report().converged);
  const auto& v = m.parameter_values();
  const auto& se = m.standard_errors();
  for (std::size_t k = 0; k < truth.size(); ++k) {
    INFO(m.parameter_names()[k] << ": " << v[k] << " +- " << se[k] << " (truth " << truth[k] << ")");
    CHECK(std::isfinite(se[k]));
    CHECK(std::fabs(v[k] - truth[k]) < 4 * se[k]);
  }
  // The fit's log-likelihood is the model's at the returned parameters, and the gradient there
  // is (nearly) zero relative to the sample size.
  CHECK(m.report().log_likelihood == Approx(m.log_likelihood(s.x, s.tx, s.T, P, D)).epsilon(1e-9));
  for (double g : m.log_likelihood_gradient(s.x, s.tx, s.T, P, D))
    CHECK(std::fabs(g) / 6000.0 < 1e-3);
}
