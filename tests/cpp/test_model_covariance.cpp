// The models' delta-method covariance matrices and Gamma-Gamma's q_constraint (lifetimes'
// variance_matrix_ and GammaGammaFitter.fit(q_constraint=True); docs/lifetimes-compat.md).
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "crmkit/value/models.hpp"
#include "support.hpp"

using namespace crmkit;
using namespace crmkit::test;

TEST_CASE("BG/NBD covariance: symmetric, its diagonal the squared standard errors") {
  const CdnowSummary s = read_cdnow_summary();
  FitOptions o;
  const BetaGeoModel bg = BetaGeoModel::fit(s.x, s.tx, s.T, {}, o);
  const std::vector<double> cov = bg.covariance(s.x, s.tx, s.T);
  REQUIRE(cov.size() == 16);
  const BetaGeoParams se = bg.standard_errors();
  const double sev[4] = {se.r, se.alpha, se.a, se.b};
  for (int i = 0; i < 4; ++i) {
    CHECK(cov[i * 4 + i] == Approx(sev[i] * sev[i]).epsilon(1e-9));
    for (int j = 0; j < 4; ++j) CHECK(cov[i * 4 + j] == Approx(cov[j * 4 + i]).epsilon(1e-12));
  }
  // lifetimes 0.11.3's variance_matrix_ diagonal for r (tests/data/lifetimes/api.json)
  CHECK(std::sqrt(cov[0]) == Approx(0.012557320698193184).epsilon(2e-5));
}

TEST_CASE("Gamma-Gamma q_constraint: unchanged above 1, held at exactly 1 below") {
  const CdnowSpend cdnow_spend = read_cdnow_spend();
  const std::vector<double>& x = cdnow_spend.x;
  const std::vector<double>& m = cdnow_spend.m;
  const GammaGammaModel free_fit = GammaGammaModel::fit(x, m);
  const GammaGammaModel held = GammaGammaModel::fit(x, m, {}, FitOptions{}, true);
  CHECK(held.params().p == free_fit.params().p);
  CHECK(held.params().q == free_fit.params().q);
  CHECK(held.params().v == free_fit.params().v);
  const std::vector<double> cov = free_fit.covariance(x, m);
  CHECK(std::sqrt(cov[4]) == Approx(free_fit.standard_errors().q).epsilon(1e-9));

  // Heavy-tailed spend, one or two repeat purchases: the unconstrained q is below 1.
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> spend(3.0, 2.0);
  std::vector<double> hx, hm;
  for (int i = 0; i < 300; ++i) {
    hx.push_back(1.0 + static_cast<double>(i % 2));
    hm.push_back(spend(rng));
  }
  const GammaGammaModel below = GammaGammaModel::fit(hx, hm);
  REQUIRE(below.params().q < 1);
  const GammaGammaModel bound = GammaGammaModel::fit(hx, hm, {}, FitOptions{}, true);
  INFO(bound.report().message);
  CHECK(bound.params().q == 1.0);
  CHECK(bound.report().message.find("q held at the bound q = 1") != std::string::npos);
  CHECK(bound.report().log_likelihood <= below.report().log_likelihood);
  // p and v maximise the likelihood with q = 1: the gradient in p and v vanishes there.
  const std::vector<double> g = bound.log_likelihood_gradient(hx, hm);
  CHECK(std::fabs(g[0] * bound.params().p) < 1e-3);
  CHECK(std::fabs(g[2] * bound.params().v) < 1e-3);
  CHECK(g[1] < 0);  // the likelihood would rise with q below 1
}

TEST_CASE("Gamma-Gamma: Newton on the analytic Hessian reaches the optimum; its covariance equals "
          "central differences of the gradient") {
  const CdnowSpend cdnow_spend = read_cdnow_spend();
  const std::vector<double>& x = cdnow_spend.x;
  const std::vector<double>& m = cdnow_spend.m;
  const GammaGammaModel g = GammaGammaModel::fit(x, m);
  CHECK(g.report().converged);
  CHECK(g.report().message == "Newton: converged");
  CHECK(g.report().gradient_norm < 1e-9);
  CHECK(g.report().iterations < 20);
  // lifetimes' published CDNOW fit (p 6.2490, q 3.7446, v 15.4465)
  CHECK(g.params().p == Approx(6.2490).epsilon(1e-4));
  CHECK(g.params().q == Approx(3.7446).epsilon(1e-4));
  CHECK(g.params().v == Approx(15.4465).epsilon(1e-4));
  // The gradient in natural parameters vanishes at the optimum.
  for (double gi : g.log_likelihood_gradient(x, m)) CHECK(std::fabs(gi) < 1e-6);
  // Covariance = inverse of minus the Hessian of the log-likelihood; the Hessian here by central
  // differences of the public gradient in natural parameters.
  const double th[3] = {g.params().p, g.params().q, g.params().v};
  double H[9];
  for (int j = 0; j < 3; ++j) {
    double plus[3] = {th[0], th[1], th[2]}, minus[3] = {th[0], th[1], th[2]};
    const double h = 1e-5 * th[j];
    plus[j] += h;
    minus[j] -= h;
    const auto gp = GammaGammaModel({plus[0], plus[1], plus[2]}).log_likelihood_gradient(x, m);
    const auto gm = GammaGammaModel({minus[0], minus[1], minus[2]}).log_likelihood_gradient(x, m);
    for (int i = 0; i < 3; ++i) H[i * 3 + j] = -(gp[i] - gm[i]) / (2 * h);
  }
  // Inverse of the symmetric 3 x 3 (cofactors).
  auto at = [&](int i, int j) { return 0.5 * (H[i * 3 + j] + H[j * 3 + i]); };
  const double det = at(0, 0) * (at(1, 1) * at(2, 2) - at(1, 2) * at(1, 2)) -
                     at(0, 1) * (at(0, 1) * at(2, 2) - at(1, 2) * at(0, 2)) +
                     at(0, 2) * (at(0, 1) * at(1, 2) - at(1, 1) * at(0, 2));
  const double inv[9] = {
      (at(1, 1) * at(2, 2) - at(1, 2) * at(1, 2)) / det,
      -(at(0, 1) * at(2, 2) - at(0, 2) * at(1, 2)) / det,
      (at(0, 1) * at(1, 2) - at(0, 2) * at(1, 1)) / det,
      -(at(0, 1) * at(2, 2) - at(1, 2) * at(0, 2)) / det,
      (at(0, 0) * at(2, 2) - at(0, 2) * at(0, 2)) / det,
      -(at(0, 0) * at(1, 2) - at(0, 1) * at(0, 2)) / det,
      (at(0, 1) * at(1, 2) - at(1, 1) * at(0, 2)) / det,
      -(at(0, 0) * at(1, 2) - at(0, 2) * at(0, 1)) / det,
      (at(0, 0) * at(1, 1) - at(0, 1) * at(0, 1)) / det};
  const std::vector<double> cov = g.covariance(x, m);
  for (int i = 0; i < 9; ++i) CHECK(cov[i] == Approx(inv[i]).epsilon(1e-5));
  const double se[3] = {g.standard_errors().p, g.standard_errors().q, g.standard_errors().v};
  for (int i = 0; i < 3; ++i) CHECK(cov[i * 3 + i] == Approx(se[i] * se[i]).epsilon(1e-12));

  // Where Newton does not converge the fit falls back to L-BFGS from the same start, and the
  // message says both.
  FitOptions few;
  few.max_iterations = 3;
  const GammaGammaModel cut = GammaGammaModel::fit(x, m, {}, few);
  CHECK_FALSE(cut.report().converged);
  CHECK(cut.report().message.rfind("Newton: iteration limit; L-BFGS: ", 0) == 0);
  // One row: the likelihood has no finite maximum (it rises as p, q grow).
  const GammaGammaModel one = GammaGammaModel::fit(std::vector<double>{2.0}, std::vector<double>{5.0});
  CHECK_FALSE(one.report().converged);
  CHECK(one.report().message.rfind("Newton: ", 0) == 0);
  CHECK(one.report().message.find("; L-BFGS: ") != std::string::npos);
}

TEST_CASE("Gamma-Gamma starts from method-of-moments estimates when they exist: the same optimum "
          "as from every parameter 1, in fewer evaluations") {
  // Simulated from the model: nu ~ Gamma(q = 4, rate v = 20), x repeat purchases, mean spend
  // m ~ Gamma(p x, rate nu x) with p = 6.
  std::mt19937_64 rng(42);
  std::gamma_distribution<double> nu_dist(4.0, 1.0 / 20.0);
  std::geometric_distribution<int> freq(0.4);
  std::vector<double> x, m;
  for (int i = 0; i < 20000; ++i) {
    const double nu = nu_dist(rng), xi = 1.0 + freq(rng);
    x.push_back(xi);
    m.push_back(std::gamma_distribution<double>(6.0 * xi, 1.0 / (nu * xi))(rng));
  }
  const GammaGammaModel moments = GammaGammaModel::fit(x, m);
  FitOptions ones;
  ones.initial = {1.0, 1.0, 1.0};
  const GammaGammaModel from_one = GammaGammaModel::fit(x, m, {}, ones);
  REQUIRE(moments.report().converged);
  REQUIRE(from_one.report().converged);
  CHECK(moments.report().iterations < from_one.report().iterations);
  CHECK(moments.params().p == Approx(from_one.params().p).epsilon(1e-9));
  CHECK(moments.params().q == Approx(from_one.params().q).epsilon(1e-9));
  CHECK(moments.params().v == Approx(from_one.params().v).epsilon(1e-9));
  // and near the truth
  CHECK(moments.params().p == Approx(6.0).epsilon(0.1));
  CHECK(moments.params().q == Approx(4.0).epsilon(0.1));
  CHECK(moments.params().v == Approx(20.0).epsilon(0.15));
}
