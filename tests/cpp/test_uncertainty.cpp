// Tests of crmkit/value/uncertainty.hpp (intervals) and of the fits' convergence rules in
// models.hpp ("Convergence": multi-start, no finite maximum).
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "crmkit/base/error.hpp"
#include "crmkit/value/models.hpp"
#include "crmkit/value/uncertainty.hpp"
#include "support.hpp"

using namespace crmkit;

namespace {

using Cdnow = crmkit::test::CdnowSummary;
const Cdnow& cdnow() {
  static const Cdnow d = crmkit::test::read_cdnow_summary();
  return d;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// 200 one-time buyers observed for 10 .. 50 weeks (as tests/data/lifetimes/record_convergence.py).
struct Rows {
  std::vector<double> x, tx, T;
};
Rows one_time_buyers() {
  Rows r;
  for (int i = 0; i < 200; ++i) {
    r.x.push_back(0);
    r.tx.push_back(0);
    r.T.push_back(10.0 + i % 41);
  }
  return r;
}

Rows cdnow_head(std::size_t n) {
  Rows r;
  r.x.assign(cdnow().x.begin(), cdnow().x.begin() + static_cast<std::ptrdiff_t>(n));
  r.tx.assign(cdnow().tx.begin(), cdnow().tx.begin() + static_cast<std::ptrdiff_t>(n));
  r.T.assign(cdnow().T.begin(), cdnow().T.begin() + static_cast<std::ptrdiff_t>(n));
  return r;
}

const std::string kNoMax = "no finite maximum: the log-likelihood keeps increasing as ";

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a fit with a finite maximum keeps its parameters and a plain report", "[convergence]") {
  const auto& d = cdnow();
  const BetaGeoModel m = BetaGeoModel::fit(d.x, d.tx, d.T);
  CHECK(m.report().converged);
  CHECK(m.report().message == "L-BFGS: success");  // no multi-start, the probe finds nothing
  CHECK(m.params().r == Approx(0.2425929).epsilon(1e-6));
  CHECK(m.params().alpha == Approx(4.4135316).epsilon(1e-6));
  CHECK(m.params().a == Approx(0.7928861).epsilon(1e-6));
  CHECK(m.params().b == Approx(2.4257534).epsilon(1e-6));
  const ParetoNBDModel p = ParetoNBDModel::fit(d.x, d.tx, d.T);
  CHECK(p.report().converged);
  CHECK(p.report().message == "L-BFGS: ftol reached");
  // Pareto/NBD on the first 50 CDNOW customers has a finite maximum (lifetimes finds the same).
  const Rows h = cdnow_head(50);
  const ParetoNBDModel p50 = ParetoNBDModel::fit(h.x, h.tx, h.T);
  CHECK(p50.report().converged);
  CHECK(p50.params().r == Approx(0.585959).epsilon(1e-5));
  CHECK(p50.params().alpha == Approx(10.9115).epsilon(1e-5));
  CHECK(p50.params().s == Approx(0.379430).epsilon(1e-4));
  CHECK(p50.params().beta == Approx(2.47040).epsilon(1e-4));
}

TEST_CASE("all one-time buyers: no finite maximum, not converged, with or without standard errors",
          "[convergence]") {
  const Rows r = one_time_buyers();
  FitOptions lazy;
  lazy.standard_errors = false;
  for (const FitOptions& o : {FitOptions{}, lazy}) {
    const BetaGeoModel bg = BetaGeoModel::fit(r.x, r.tx, r.T, {}, o);
    INFO(bg.report().message);
    CHECK_FALSE(bg.report().converged);
    CHECK(contains(bg.report().message, kNoMax + "parameters r and b -> 0 together"));
    CHECK(bg.report().log_likelihood < 0);
    CHECK(bg.report().log_likelihood > -1e-5);  // the supremum is 0, approached as r -> 0
    const ModifiedBetaGeoModel mbg = ModifiedBetaGeoModel::fit(r.x, r.tx, r.T, {}, o);
    INFO(mbg.report().message);
    CHECK_FALSE(mbg.report().converged);
    CHECK(contains(mbg.report().message, kNoMax + "parameter r -> 0"));
    const ParetoNBDModel p = ParetoNBDModel::fit(r.x, r.tx, r.T, {}, o);
    INFO(p.report().message);
    CHECK_FALSE(p.report().converged);
    CHECK(contains(p.report().message, kNoMax));
    CHECK(p.report().log_likelihood < 0);
  }
}

TEST_CASE("an all-zero BG/BB sample has no finite maximum", "[convergence]") {
  const std::vector<double> z(20, 0.0), n(20, 6.0);
  const BetaGeoBetaBinomModel m = BetaGeoBetaBinomModel::fit(z, z, n);
  INFO(m.report().message);
  CHECK_FALSE(m.report().converged);
  CHECK(contains(m.report().message, kNoMax + "parameter alpha -> 0"));
}

TEST_CASE("a tiny sample: multi-start, reported, not converged", "[convergence]") {
  const Rows h = cdnow_head(3);
  const BetaGeoModel m = BetaGeoModel::fit(h.x, h.tx, h.T);
  INFO(m.report().message);
  CHECK_FALSE(m.report().converged);
  CHECK(contains(m.report().message,
                 "multi-start: 17 starts tried (the default and the 16 corners of [0.1, 10]^4), "
                 "best: start "));
  CHECK(contains(m.report().message, " of 17 agreed with the best"));
  const ParetoNBDModel p = ParetoNBDModel::fit(h.x, h.tx, h.T);
  INFO(p.report().message);
  CHECK_FALSE(p.report().converged);
  CHECK(contains(p.report().message, "no finite maximum"));
}

TEST_CASE("Pareto/NBD on 50 CDNOW customers without a finite maximum", "[convergence]") {
  // Customers 351 .. 400: the likelihood rises as s and beta go to infinity together.
  const auto& d = cdnow();
  const std::vector<double> x(d.x.begin() + 350, d.x.begin() + 400),
      tx(d.tx.begin() + 350, d.tx.begin() + 400), T(d.T.begin() + 350, d.T.begin() + 400);
  const ParetoNBDModel p = ParetoNBDModel::fit(x, tx, T);
  INFO(p.report().message);
  CHECK_FALSE(p.report().converged);
  CHECK(contains(p.report().message, "no finite maximum: "));
  CHECK(p.params().s > 1e6);
  CHECK(p.params().beta > 1e6);
}

TEST_CASE("customers with frequency above 300 fit and converge", "[convergence]") {
  Rows b = cdnow_head(cdnow().x.size());
  const double fr[5] = {301, 350, 420, 500, 1000};
  for (int i = 0; i < 5; ++i) {
    b.x[i] = fr[i];
    b.tx[i] = std::round(b.T[i] * 0.9 * 100) / 100;
  }
  const BetaGeoModel bg = BetaGeoModel::fit(b.x, b.tx, b.T);
  CHECK(bg.report().converged);
  // lifetimes finds the same parameters (tests/data/lifetimes/convergence.json) but reports a
  // mean negative log-likelihood of -5.596 (its likelihood overflows); crmkit's is 2.2064.
  CHECK(bg.params().r == Approx(0.160749).epsilon(1e-4));
  CHECK(bg.params().alpha == Approx(1.585954).epsilon(1e-4));
  CHECK(bg.report().log_likelihood == Approx(-5200.418593).epsilon(1e-9));
  CHECK(ModifiedBetaGeoModel::fit(b.x, b.tx, b.T).report().converged);
  CHECK(ParetoNBDModel::fit(b.x, b.tx, b.T).report().converged);
}

TEST_CASE("the log-parameter covariance gives the fit's standard errors", "[uncertainty]") {
  const auto& d = cdnow();
  const BetaGeoModel m = BetaGeoModel::fit(d.x, d.tx, d.T);
  const std::vector<double> cov = log_parameter_covariance(m, d.x, d.tx, d.T);
  REQUIRE(cov.size() == 16);
  const double th[4] = {m.params().r, m.params().alpha, m.params().a, m.params().b};
  const double se[4] = {m.standard_errors().r, m.standard_errors().alpha, m.standard_errors().a,
                        m.standard_errors().b};
  for (int k = 0; k < 4; ++k) CHECK(th[k] * std::sqrt(cov[k * 5]) == Approx(se[k]).epsilon(1e-5));
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) CHECK(cov[i * 4 + j] == cov[j * 4 + i]);
  // No finite maximum: all NaN, and intervals refuse it.
  const Rows r = one_time_buyers();
  const BetaGeoModel flat = BetaGeoModel::fit(r.x, r.tx, r.T);
  const std::vector<double> nan_cov = log_parameter_covariance(flat, r.x, r.tx, r.T);
  for (double v : nan_cov) CHECK(std::isnan(v));
  CHECK(contains(error_of([&] {
                   conditional_expected_number_of_purchases_interval(flat, nan_cov, 1, r.x, r.tx,
                                                                     r.T);
                 }),
                 "cov_log: is not finite (entry 0): the fit's Hessian is not negative definite"));
}

TEST_CASE("delta-method intervals equal a brute-force finite-difference computation",
          "[uncertainty]") {
  const auto& d = cdnow();
  const BetaGeoModel m = BetaGeoModel::fit(d.x, d.tx, d.T);
  const std::vector<double> cov = log_parameter_covariance(m, d.x, d.tx, d.T);
  const std::vector<double> x = {0, 2, 10, 1}, tx = {0, 30.43, 35, 1.71}, T = {38.86, 38.86,
                                                                                38.86, 38.86};
  const double t = 10;
  const Intervals iv = conditional_expected_number_of_purchases_interval(m, cov, t, x, tx, T);
  // Brute force: gradient in log-parameters with a different step, var = g' cov g, and the
  // log-scale interval exp(log g -/+ 1.959964 se / g).
  const double th[4] = {m.params().r, m.params().alpha, m.params().a, m.params().b};
  const double h = 1e-5;
  std::vector<std::vector<double>> grad(4);
  for (int k = 0; k < 4; ++k) {
    double up[4], dn[4];
    for (int j = 0; j < 4; ++j) up[j] = dn[j] = th[j];
    up[k] *= std::exp(h);
    dn[k] *= std::exp(-h);
    const auto fp = BetaGeoModel({up[0], up[1], up[2], up[3]})
                        .conditional_expected_number_of_purchases_up_to_time(t, x, tx, T);
    const auto fm = BetaGeoModel({dn[0], dn[1], dn[2], dn[3]})
                        .conditional_expected_number_of_purchases_up_to_time(t, x, tx, T);
    for (std::size_t i = 0; i < x.size(); ++i) grad[k].push_back((fp[i] - fm[i]) / (2 * h));
  }
  const auto est = m.conditional_expected_number_of_purchases_up_to_time(t, x, tx, T);
  for (std::size_t i = 0; i < x.size(); ++i) {
    double var = 0;
    for (int a = 0; a < 4; ++a)
      for (int b = 0; b < 4; ++b) var += grad[a][i] * cov[a * 4 + b] * grad[b][i];
    const double se = std::sqrt(var);
    CHECK(iv.estimate[i] == est[i]);
    CHECK(iv.standard_error[i] == Approx(se).epsilon(1e-6));
    CHECK(iv.lower[i] == Approx(est[i] * std::exp(-1.959963984540054 * se / est[i])).epsilon(1e-6));
    CHECK(iv.upper[i] == Approx(est[i] * std::exp(1.959963984540054 * se / est[i])).epsilon(1e-6));
    CHECK(iv.lower[i] < est[i]);
    CHECK(iv.upper[i] > est[i]);
  }
  // P(alive) on the logit scale; a customer without repeat purchases is alive for sure under
  // BG/NBD, and its interval is the point.
  const Intervals pa = conditional_probability_alive_interval(m, cov, x, tx, T);
  CHECK(pa.estimate[0] == 1.0);
  CHECK(pa.lower[0] == 1.0);
  CHECK(pa.upper[0] == 1.0);
  for (std::size_t i = 1; i < x.size(); ++i) {
    CHECK(pa.lower[i] > 0);
    CHECK(pa.lower[i] < pa.estimate[i]);
    CHECK(pa.upper[i] > pa.estimate[i]);
    CHECK(pa.upper[i] < 1);
    const double p = pa.estimate[i], sl = pa.standard_error[i] / (p * (1 - p));
    const double lg = std::log(p / (1 - p));
    CHECK(pa.lower[i] == Approx(1 / (1 + std::exp(-(lg - 1.959963984540054 * sl)))).epsilon(1e-12));
  }
}

TEST_CASE("bootstrap intervals are reproducible with a seed and near the delta method",
          "[uncertainty]") {
  const auto& d = cdnow();
  const BetaGeoModel m = BetaGeoModel::fit(d.x, d.tx, d.T);
  const std::vector<double> cov = log_parameter_covariance(m, d.x, d.tx, d.T);
  const std::vector<double> x = {2, 10}, tx = {30.43, 35}, T = {38.86, 38.86};
  IntervalOptions o;
  o.method = IntervalMethod::bootstrap;
  o.n_boot = 400;
  o.seed = 42;
  const Intervals a = conditional_expected_number_of_purchases_interval(m, cov, 10, x, tx, T, o);
  const Intervals b = conditional_expected_number_of_purchases_interval(m, cov, 10, x, tx, T, o);
  CHECK(a.lower == b.lower);
  CHECK(a.upper == b.upper);
  CHECK(a.standard_error == b.standard_error);
  o.seed = 43;
  const Intervals c = conditional_expected_number_of_purchases_interval(m, cov, 10, x, tx, T, o);
  CHECK(c.lower != a.lower);
  const Intervals dm = conditional_expected_number_of_purchases_interval(m, cov, 10, x, tx, T);
  for (std::size_t i = 0; i < x.size(); ++i) {
    CHECK(a.estimate[i] == dm.estimate[i]);
    CHECK(a.standard_error[i] == Approx(dm.standard_error[i]).epsilon(0.15));
    CHECK(a.lower[i] == Approx(dm.lower[i]).epsilon(0.02));
    CHECK(a.upper[i] == Approx(dm.upper[i]).epsilon(0.02));
  }
}

TEST_CASE("CLV intervals combine both models' uncertainty", "[uncertainty]") {
  const auto c = crmkit::test::read_csv_columns("cdnow_customers_summary_with_transactions.csv");
  // columns: customer id, frequency, recency, T, monetary_value, ...
  const std::vector<double>& x = c[1];
  const std::vector<double>& tx = c[2];
  const std::vector<double>& T = c[3];
  const std::vector<double>& mv = c[4];
  std::vector<double> rx, rm;
  for (std::size_t i = 0; i < x.size(); ++i)
    if (x[i] > 0) {
      rx.push_back(x[i]);
      rm.push_back(mv[i]);
    }
  const BetaGeoModel bg = BetaGeoModel::fit(x, tx, T);
  const GammaGammaModel gg = GammaGammaModel::fit(rx, rm);
  const auto bcov = log_parameter_covariance(bg, x, tx, T);
  const auto gcov = log_parameter_covariance(gg, rx, rm);
  const std::vector<double> qx = {1, 5}, qtx = {20, 35}, qT = {38, 38}, qm = {20.5, 45.0};
  ClvOptions clv;
  clv.periods_per_month = 4.345;
  const Intervals iv = customer_lifetime_value_interval(gg, gcov, bg, bcov, qx, qtx, qT, qm, clv);
  const auto est = gg.customer_lifetime_value(bg, qx, qtx, qT, qm, clv);
  for (std::size_t i = 0; i < qx.size(); ++i) {
    CHECK(iv.estimate[i] == est[i]);
    CHECK(iv.lower[i] < est[i]);
    CHECK(iv.upper[i] > est[i]);
  }
  // Zero spend covariance: the interval is the transaction model's alone, so it is narrower.
  const std::vector<double> zero9(9, 0.0);
  const Intervals tonly = customer_lifetime_value_interval(gg, zero9, bg, bcov, qx, qtx, qT, qm, clv);
  for (std::size_t i = 0; i < qx.size(); ++i) CHECK(tonly.standard_error[i] < iv.standard_error[i]);
}

TEST_CASE("interval arguments are checked", "[uncertainty]") {
  const auto& d = cdnow();
  const BetaGeoModel m = BetaGeoModel::fit(d.x, d.tx, d.T);
  const std::vector<double> cov = log_parameter_covariance(m, d.x, d.tx, d.T);
  const std::vector<double> x = {1}, tx = {1}, T = {2};
  IntervalOptions o;
  o.level = 1.0;
  CHECK(error_of([&] { conditional_expected_number_of_purchases_interval(m, cov, 1, x, tx, T, o); }) ==
        "level: must be in (0, 1)");
  o.level = 0.9;
  o.method = IntervalMethod::bootstrap;
  o.n_boot = 1;
  CHECK(error_of([&] { conditional_expected_number_of_purchases_interval(m, cov, 1, x, tx, T, o); }) ==
        "n_boot: must be >= 2");
  o.n_boot = 100'000'001;
  CHECK(error_of([&] { conditional_expected_number_of_purchases_interval(m, cov, 1, x, tx, T, o); }) ==
        "n_boot: n_boot x rows = 100000001 x 1 exceeds 100,000,000 values; pass fewer rows per "
        "call");
  const std::vector<double> small(9, 0.0);
  CHECK(error_of([&] { conditional_probability_alive_interval(m, small, x, tx, T); }) ==
        "cov_log: must hold 16 values (a 4 x 4 matrix), got 9");
  CHECK(error_of([&] { conditional_probability_alive_interval(m, cov, x, tx, T, {}, 2); }) ==
        "m_periods_in_future: must be 0 for a continuous-time model");
  std::vector<double> asym = cov;
  asym[1] += 1;
  CHECK(error_of([&] { conditional_probability_alive_interval(m, asym, x, tx, T); }) ==
        "cov_log: is not symmetric (entries 1 and 4)");
  CHECK(error_of([&] { log_parameter_covariance(m, d.x, d.tx, d.T, {}, -1); }) ==
        "penalizer: must be finite and >= 0");
}
