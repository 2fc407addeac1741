// Tests of crmkit/value/contractual.hpp: the sBG and BdW fits on Fader and Hardie's (2007) two
// cohorts (data/retention_cohorts.csv) against the paper's printed parameters and an independent
// scipy fit (tests/data/contractual/reference.json, record_reference.py), projections against
// closed forms, DERT against brute-force sums, gradients, and input validation.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "crmkit/base/error.hpp"
#include "crmkit/value/contractual.hpp"
#include "support.hpp"

using namespace crmkit;

namespace {

// Customers (of 1,000) alive at the start of years 0..12 (data/retention_cohorts.csv).
const std::vector<double> kRegular = {1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173};
const std::vector<double> kHighEnd = {1000, 869, 743, 653, 593, 551, 517, 491, 468, 445, 427, 409, 394};

std::vector<double> first8(const std::vector<double>& v) { return {v.begin(), v.begin() + 8}; }

double round_to(double v, int decimals) {
  const double f = std::pow(10.0, decimals);
  return std::round(v * f) / f;
}

// S(t) for the sBG as the product of retention rates (beta + i - 1) / (alpha + beta + i - 1):
// an independent route to the Beta-function form the model uses.
double sbg_survival_product(double a, double b, int t) {
  double s = 1;
  for (int i = 1; i <= t; ++i) s *= (b + i - 1) / (a + b + i - 1);
  return s;
}

}  // namespace

TEST_CASE("sBG reproduces Fader and Hardie (2007): regular and high end, years 0-7") {
  const auto reg = ShiftedBetaGeometricModel::fit(first8(kRegular));
  const auto high = ShiftedBetaGeometricModel::fit(first8(kHighEnd));
  REQUIRE(reg.report().converged);
  REQUIRE(high.report().converged);
  // The paper's printed estimates: regular alpha 0.704, beta 1.182; high end 0.668, 3.806.
  CHECK(round_to(reg.params().alpha, 3) == 0.704);
  CHECK(round_to(reg.params().beta, 3) == 1.182);
  CHECK(round_to(high.params().alpha, 3) == 0.668);
  CHECK(round_to(high.params().beta, 3) == 3.806);
  // The independent scipy fit (tests/data/contractual/reference.json).
  CHECK(reg.params().alpha == Approx(0.7040773050005055).epsilon(1e-6));
  CHECK(reg.params().beta == Approx(1.1820430672945634).epsilon(1e-6));
  CHECK(reg.report().log_likelihood == Approx(-1680.2651884632867).margin(1e-6));
  CHECK(high.params().alpha == Approx(0.6680883283247322).epsilon(1e-6));
  CHECK(high.params().beta == Approx(3.8060947954480246).epsilon(1e-6));
  CHECK(high.report().log_likelihood == Approx(-1611.158147391156).margin(1e-6));
  // Standard errors are finite and positive.
  CHECK(reg.standard_errors().alpha > 0);
  CHECK(std::isfinite(high.standard_errors().beta));
}

TEST_CASE("sBG projections: survival, retention, churn against closed forms") {
  const auto reg = ShiftedBetaGeometricModel::fit(first8(kRegular));
  const double a = reg.params().alpha, b = reg.params().beta;
  std::vector<double> t;
  for (int i = 0; i <= 12; ++i) t.push_back(i);
  const auto S = reg.survival_function(t);
  for (int i = 0; i <= 12; ++i) CHECK(S[i] == Approx(sbg_survival_product(a, b, i)).epsilon(1e-12));
  // Projected % surviving in years 8-12 (the holdout), to one decimal: 22.0 20.4 19.1 18.0 17.0
  // against the actual 22.3 20.7 19.4 18.3 17.3.
  const double projected[5] = {22.0, 20.4, 19.1, 18.0, 17.0};
  for (int i = 8; i <= 12; ++i) CHECK(round_to(100 * S[i], 1) == projected[i - 8]);
  const std::vector<double> t1(t.begin() + 1, t.end());
  const auto r = reg.retention_rate(t1);
  const auto p = reg.churn_probability(t1);
  for (std::size_t i = 0; i < t1.size(); ++i) {
    CHECK(r[i] == Approx(S[i + 1] / S[i]).epsilon(1e-12));
    CHECK(p[i] == Approx(S[i] - S[i + 1]).epsilon(1e-11));
  }
  // r(t) = (beta + t - 1) / (alpha + beta + t - 1): 0.627 in year 1, rising.
  CHECK(r[0] == Approx(b / (a + b)).epsilon(1e-15));
  CHECK(reg.log_likelihood(first8(kRegular)) == Approx(reg.report().log_likelihood).epsilon(1e-13));
}

TEST_CASE("sBG DERT: the 2F1 closed form equals the brute-force discounted sum") {
  const ShiftedBetaGeometricModel m({0.668, 3.806});
  const double a = 0.668, b = 3.806;
  for (double d : {0.1, 0.01, 1.0}) {
    for (double n : {0.0, 1.0, 4.0, 10.0}) {
      // sum_{k>=0} S(n+1+k)/S(n) (1+d)^-k, with S(n+1+k)/S(n) = prod_{i=n+1}^{n+1+k} r(i).
      double sum = 0, ratio = 1, disc = 1;
      for (int k = 0; k < 200000; ++k) {
        const double i = n + 1 + k;
        ratio *= (b + i - 1) / (a + b + i - 1);
        sum += ratio * disc;
        disc /= 1 + d;
        if (ratio * disc < 1e-20) break;
      }
      INFO("d=" << d << " n=" << n);
      CHECK(m.discounted_expected_residual_lifetime(d, n) == Approx(sum).epsilon(1e-12));
    }
  }
  // DEL = 1 + DERT(d, 0) / (1 + d) = sum_t S(t) (1+d)^-t.
  double del = 0, s = 1, disc = 1;
  for (int t = 0; t < 5000; ++t) {
    del += s * disc;
    s *= (b + t) / (a + b + t);
    disc /= 1.1;
  }
  CHECK(m.discounted_expected_lifetime(0.1) == Approx(del).epsilon(1e-12));
  // Undiscounted: (beta + n) / (alpha - 1) when alpha > 1; infinite otherwise.
  CHECK(std::isinf(m.discounted_expected_residual_lifetime(0, 3)));
  CHECK(std::isinf(m.expected_lifetime()));
  const ShiftedBetaGeometricModel m2({2.5, 4.0});
  CHECK(m2.discounted_expected_residual_lifetime(0, 3) == Approx(7.0 / 1.5).epsilon(1e-15));
  CHECK(m2.expected_lifetime() == Approx(5.5 / 1.5).epsilon(1e-15));
  // The discounted value tends to the undiscounted one as d -> 0.
  CHECK(m2.discounted_expected_residual_lifetime(1e-6, 3) == Approx(7.0 / 1.5).epsilon(1e-4));
}

TEST_CASE("BdW: c = 1 is the sBG; the fit is at least as good and matches scipy") {
  const BetaDiscreteWeibullModel w({0.704, 1.182, 1.0});
  const ShiftedBetaGeometricModel g({0.704, 1.182});
  std::vector<double> t;
  for (int i = 0; i <= 30; ++i) t.push_back(i);
  const auto sw = w.survival_function(t), sg = g.survival_function(t);
  for (std::size_t i = 0; i < t.size(); ++i) CHECK(sw[i] == sg[i]);
  CHECK(w.log_likelihood(first8(kRegular)) == g.log_likelihood(first8(kRegular)));
  CHECK(w.discounted_expected_residual_lifetime(0.1, 2) ==
        Approx(g.discounted_expected_residual_lifetime(0.1, 2)).epsilon(1e-11));

  const auto reg = BetaDiscreteWeibullModel::fit(first8(kRegular));
  const auto high = BetaDiscreteWeibullModel::fit(first8(kHighEnd));
  REQUIRE(reg.report().converged);
  REQUIRE(high.report().converged);
  CHECK(reg.report().log_likelihood >= ShiftedBetaGeometricModel::fit(first8(kRegular)).report().log_likelihood);
  CHECK(reg.params().alpha == Approx(0.45561401139644375).epsilon(1e-5));
  CHECK(reg.params().beta == Approx(0.7793255301765613).epsilon(1e-5));
  CHECK(reg.params().c == Approx(1.2834512664013258).epsilon(1e-5));
  CHECK(reg.report().log_likelihood == Approx(-1679.602832907178).margin(1e-6));
  CHECK(high.params().alpha == Approx(0.21425335470867587).epsilon(1e-5));
  CHECK(high.params().beta == Approx(1.4265748941038692).epsilon(1e-5));
  CHECK(high.params().c == Approx(1.7235647575472952).epsilon(1e-5));
  CHECK(high.report().log_likelihood == Approx(-1605.314213214193).margin(1e-6));
}

TEST_CASE("BdW DERT against a brute-force sum") {
  const BetaDiscreteWeibullModel m({0.455, 0.779, 1.283});
  const double a = 0.455, b = 0.779, c = 1.283;
  auto S = [&](double t) { return std::exp(std::lgamma(b + std::pow(t, c)) - std::lgamma(a + b + std::pow(t, c)) -
                                           std::lgamma(b) + std::lgamma(a + b)); };
  for (double d : {0.1, 0.5}) {
    for (double n : {0.0, 3.0}) {
      double sum = 0;
      for (int k = 0; k < 2000; ++k) sum += S(n + 1 + k) / S(n) * std::pow(1 + d, -k);
      CHECK(m.discounted_expected_residual_lifetime(d, n) == Approx(sum).epsilon(1e-10));
    }
  }
}

TEST_CASE("several cohorts and lost counts") {
  // Two cohorts of the same customers fitted jointly equal one cohort of twice the size.
  const std::vector<std::vector<double>> twice = {first8(kRegular), first8(kRegular)};
  const auto joint = ShiftedBetaGeometricModel::fit_cohorts(twice);
  const auto one = ShiftedBetaGeometricModel::fit(first8(kRegular));
  CHECK(joint.params().alpha == Approx(one.params().alpha).epsilon(1e-6));
  CHECK(joint.report().log_likelihood == Approx(2 * one.report().log_likelihood).epsilon(1e-10));
  // Cohorts of different lengths: the log-likelihoods add up.
  const std::vector<std::vector<double>> mixed = {first8(kRegular), {1000, 640, 470}};
  const ShiftedBetaGeometricModel m({0.7, 1.2});
  CHECK(m.log_likelihood_cohorts(mixed) ==
        Approx(m.log_likelihood(mixed[0]) + m.log_likelihood(mixed[1])).epsilon(1e-14));
  const std::vector<double> lost = {369, 163, 86};
  CHECK(survivors_from_lost(1000, lost) == std::vector<double>{1000, 631, 468, 382});
}

TEST_CASE("bad counts and arguments name the period") {
  CHECK_INVALID(ShiftedBetaGeometricModel::fit(std::vector<double>{1000, 631, 640}),
                "survivors[2]: 640 is more than the 631 active at period 1 (survivor counts "
                "must not increase)");
  CHECK_INVALID(ShiftedBetaGeometricModel::fit(std::vector<double>{1000, -1}),
                "survivors[1]: must be finite and >= 0 (a number of customers), got -1");
  CHECK_INVALID(ShiftedBetaGeometricModel::fit(std::vector<double>{}),
                "survivors: must hold at least two counts (the cohort at period 0 and at "
                "period 1), got 0");
  CHECK_INVALID(ShiftedBetaGeometricModel::fit(std::vector<double>{0, 0}),
                "survivors[0]: the cohort's initial size must be > 0, got 0");
  const std::vector<std::vector<double>> bad = {{1000, 600}, {500, 400, 401}};
  CHECK_INVALID(BetaDiscreteWeibullModel::fit_cohorts(bad),
                "cohorts[1][2]: 401 is more than the 400 active at period 1 (survivor counts "
                "must not increase)");
  CHECK_INVALID(ShiftedBetaGeometricModel::fit_cohorts({}), "cohorts: must hold at least one cohort");
  CHECK_INVALID(survivors_from_lost(100, std::vector<double>{60, 50}),
                "lost[1]: 50 is more than the 40 customers still active at period 1");
  const ShiftedBetaGeometricModel m({1, 1});
  CHECK_INVALID(m.survival_function(std::vector<double>{0, 1.5}),
                "t[1]: must be a non-negative integer, got 1.5");
  CHECK_INVALID(m.retention_rate(std::vector<double>{0}), "t[0]: must be an integer >= 1, got 0");
  CHECK_INVALID(m.discounted_expected_residual_lifetime(1e-8),
                "discount_rate: must be 0 or in [1e-6, 1e6], got 1e-08");
  CHECK_INVALID(m.discounted_expected_residual_lifetime(0.1, -1),
                "renewals: must be a non-negative integer, got -1");
  const BetaDiscreteWeibullModel w({1, 1, 1});
  CHECK_INVALID(w.discounted_expected_residual_lifetime(0),
                "discount_rate: must be in [1e-4, 1e6], got 0");
  CHECK_INVALID(ShiftedBetaGeometricModel({0, 1}), "params.alpha: must be finite and > 0, got 0");
}

TEST_CASE("degenerate cohorts are reported as not converged") {
  // Nobody churns: beta -> infinity, no finite maximum.
  const auto none = ShiftedBetaGeometricModel::fit(std::vector<double>{100, 100, 100, 100});
  CHECK_FALSE(none.report().converged);
}

TEST_CASE("everyone gone in period 1 is reported as not converged") {
  const auto all = ShiftedBetaGeometricModel::fit(std::vector<double>{100, 0});
  CHECK_FALSE(all.report().converged);
  CHECK(all.report().message.find("every customer churned in period 1") != std::string::npos);
  const auto none = BetaDiscreteWeibullModel::fit(std::vector<double>{100, 100, 100});
  CHECK_FALSE(none.report().converged);
  CHECK(none.report().message.find("nobody churned") != std::string::npos);
}

TEST_CASE("cohorts that cannot identify the parameters are reported as not converged") {
  // One period identifies alpha / (alpha + beta) only.
  const auto one = ShiftedBetaGeometricModel::fit(std::vector<double>{1000, 600});
  CHECK_FALSE(one.report().converged);
  CHECK(one.report().message.find("observed for 1 period") != std::string::npos);
  // Two periods are not enough for the BdW's three parameters, but are for the sBG.
  const std::vector<double> two = {1000, 600, 450};
  CHECK_FALSE(BetaDiscreteWeibullModel::fit(two).report().converged);
  CHECK(ShiftedBetaGeometricModel::fit(two).report().converged);
  // Nobody lost after period 1: the maximum is at alpha, beta -> 0.
  const auto flat = ShiftedBetaGeometricModel::fit(std::vector<double>{1000, 600, 600, 600});
  CHECK_FALSE(flat.report().converged);
  CHECK(flat.report().message.find("nobody churned after period 1") != std::string::npos);
}
