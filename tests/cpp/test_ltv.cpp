// Tests for crmkit/value/ltv.hpp: historical value with refunds, current value by model and by run rate
// (with discounting and half-even rounding), potential value from converted referrals and uplift,
// and the exact total. Expected values are worked out by hand in the comments; a linear test
// transaction model (E[X(T, T+t)] = t (x + 1) / 8) keeps the arithmetic exact, and a
// Gamma-Gamma model with p = 1, q = 2, v = 10 gives E[Z | x, m] = (10 + x m) / (x + 1).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "crmkit/base/error.hpp"
#include "crmkit/value/ltv.hpp"
#include "support.hpp"

using namespace crmkit;
using crmkit::test::catch_error;
using crmkit::test::LinearModel;
using I64 = std::vector<std::int64_t>;
using D = std::vector<double>;

namespace {

const GammaGammaModel& spend() {
  static const GammaGammaModel m(GammaGammaParams{1, 2, 10});
  return m;
}

// Four customers in USD:
//  10: x=1, m=10.25: spend (10 + 10.25) / 2 = 10.125; model
//  11: x=3, m=30:    spend (10 + 90) / 4 = 25;        model
//  12: x=0, T=5, historical 15.00:                    run rate 3.00 per unit
//  13: x=0, T=0, historical 9.99:                     run rate 9.99 per unit (tenure floor 1)
struct Sample {
  I64 id{10, 11, 12, 13};
  D x{1, 3, 0, 0};
  D tx{5, 8, 0, 0};
  D T{10, 10, 5, 0};
  D m{10.25, 30, 0, 0};
  I64 hist{4000, 12000, 1500, 999};
  CustomerValueInputs inputs() const {
    return CustomerValueInputs{Currency::of("USD"), id, x, tx, T, m, hist};
  }
};

}  // namespace

// ---- historical ---------------------------------------------------------------------------

TEST_CASE("historical value is the exact net of amounts and refunds per customer") {
  const I64 ids{3, 1, 3, 2, 3};
  const I64 amount{1000, 2500, 500, 0, 1999};
  const I64 refunded{200, 0, 500, 0, 1};
  const HistoricalValue h = historical_value(ids, amount, refunded, Currency::of("USD"));
  CHECK(h.customer_id == I64{1, 2, 3});
  CHECK(h.net_minor == I64{2500, 0, 800 + 0 + 1998});
  CHECK(h.purchases == I64{1, 1, 3});
  CHECK(h.net(2).to_string() == "27.98 USD");
  CHECK(historical_value(I64{}, I64{}, I64{}, Currency::of("USD")).size() == 0);
}

TEST_CASE("historical value rejects malformed rows, naming the field") {
  const Currency usd = Currency::of("USD");
  Error e = catch_error([&] { historical_value(I64{1, 2}, I64{5, 5}, I64{0}, usd); });
  CHECK(e.code() == ErrorCode::invalid_argument);
  CHECK(std::string(e.what()) == "refunded_minor: length 1 differs from customer_ids (2)");
  e = catch_error([&] { historical_value(I64{1, 2}, I64{5, 500}, I64{0, 700}, usd); });
  CHECK(std::string(e.what()) == "refunded_minor[1]: 700 exceeds amount_minor (500)");
  e = catch_error([&] { historical_value(I64{1}, I64{-5}, I64{0}, usd); });
  CHECK(std::string(e.what()) == "amount_minor[0]: is negative (-5)");
  const std::int64_t big = std::numeric_limits<std::int64_t>::max();
  e = catch_error([&] { historical_value(I64{1, 1}, I64{big, 1}, I64{0, 0}, usd); });
  CHECK(e.code() == ErrorCode::overflow);
}

// ---- current ------------------------------------------------------------------------------

TEST_CASE("current value: model rows x spend, run rate for customers without repeat purchases") {
  const Sample s;
  const LinearModel model;
  // horizon 4: customer 10 expects 4 * 2 / 8 = 1 purchase x 10.125 = 10.125 -> 10.12 (half even);
  // 11 expects 4 * 4 / 8 = 2 x 25 = 50.00; 12: 15.00 / 5 x 4 = 12.00; 13: 9.99 / 1 x 4 = 39.96.
  const CurrentValue c = current_value(s.inputs(), model, spend(), 4.0);
  CHECK(c.value_minor == I64{1012, 5000, 1200, 3996});
  CHECK(c.method ==
        std::vector<ValueMethod>{ValueMethod::model, ValueMethod::model, ValueMethod::run_rate,
                                 ValueMethod::run_rate});
  CHECK(c.value(0).to_string() == "10.12 USD");
  CHECK(model.times == D{4.0});

  CurrentValueOptions o;
  o.rounding = RoundingMode::half_up;  // 10.125 -> 10.13
  CHECK(current_value(s.inputs(), model, spend(), 4.0, o).value_minor == I64{1013, 5000, 1200, 3996});
}

TEST_CASE("current value: min_repeat_purchases and min_tenure send customers to the run rate") {
  const Sample s;
  LinearModel model;
  CurrentValueOptions o;
  o.min_repeat_purchases = 2;  // customer 10 (x = 1): 40.00 / 10 x 4 = 16.00
  CurrentValue c = current_value(s.inputs(), model, spend(), 4.0, o);
  CHECK(c.value_minor == I64{1600, 5000, 1200, 3996});
  CHECK(c.method[0] == ValueMethod::run_rate);
  CHECK(c.method[1] == ValueMethod::model);

  o = {};
  o.min_tenure = 12;  // nobody is old enough: 10 -> 16.00, 11 -> 120.00 / 10 x 4 = 48.00
  model.times.clear();
  c = current_value(s.inputs(), model, spend(), 4.0, o);
  CHECK(c.value_minor == I64{1600, 4800, 1200, 3996});
  CHECK(model.times.empty());  // no model row, no model call

  o = {};
  o.min_repeat_purchases = 0;  // everyone uses the model; x = 0 rows get the population spend 10
  o.run_rate_tenure_floor = 2;
  c = current_value(s.inputs(), model, spend(), 4.0, o);
  // 12 and 13: 4 * 1 / 8 = 0.5 purchases x 10 = 5.00
  CHECK(c.value_minor == I64{1012, 5000, 500, 500});

  o = {};
  o.run_rate_tenure_floor = 2;  // customer 13 (T = 0): 9.99 / 2 x 4 = 19.98
  CHECK(current_value(s.inputs(), model, spend(), 4.0, o).value_minor[3] == 1998);
}

TEST_CASE("current value: discounting per step, the last step may be shorter") {
  const Sample s;
  LinearModel model;
  CurrentValueOptions o;
  o.discount_rate = 1.0;  // 100% per unit: the step ending at u is divided by 2^u
  // 11: 0.5 purchases per unit: (0.5 / 2 + 0.5 / 4) x 25 = 9.375 -> 9.38 (half even: 8 is even)
  // 12: 3.00 per unit: 3 / 2 + 3 / 4 = 2.25; 10: (0.25/2 + 0.25/4) x 10.125 = 1.8984375 -> 1.90
  CurrentValue c = current_value(s.inputs(), model, spend(), 2.0, o);
  CHECK(c.value_minor == I64{190, 938, 225, 999 * 3 / 4});  // 13: 9.99 x 0.75 = 7.4925 -> 7.49
  CHECK(model.times == D{1.0, 2.0});

  model.times.clear();
  // horizon 2.5: steps end at 1, 2, 2.5; 12: 1.5 + 0.75 + 1.5 / 2^2.5 = 2.5151650... -> 2.52
  c = current_value(s.inputs(), model, spend(), 2.5, o);
  CHECK(model.times == D{1.0, 2.0, 2.5});
  CHECK(c.value_minor[2] == 252);
  // horizon 0: nothing is expected
  CHECK(current_value(s.inputs(), model, spend(), 0.0, o).value_minor == I64{0, 0, 0, 0});
}

TEST_CASE("current value with the published CDNOW BG/NBD and Gamma-Gamma parameters") {
  const BetaGeoModel bg(BetaGeoParams{0.243, 4.414, 0.793, 2.426});
  const GammaGammaModel gg(GammaGammaParams{6.25, 3.74, 15.44});
  const I64 id{1};
  const D x{2}, tx{30.43}, T{38.86}, m{30.0};
  const I64 hist{9000};
  const CustomerValueInputs in{Currency::of("USD"), id, x, tx, T, m, hist};
  const CurrentValue c = current_value(in, bg, gg, 39.0);
  // 1.226 purchases (Fader, Hardie, Lee) x 6.25 (15.44 + 60) / (12.5 + 2.74) = 30.938 -> 37.93.
  const double purchases = bg.conditional_expected_number_of_purchases_up_to_time(39.0, x, tx, T)[0];
  CHECK(purchases == Approx(1.226).margin(5e-4));
  const double z = 6.25 * (15.44 + 2 * 30.0) / (6.25 * 2 + 3.74 - 1);
  CHECK(c.value_minor[0] ==
        Money::from_model_value(purchases * z, Currency::of("USD")).minor_units_i64());
  CHECK(c.value_minor[0] == 3793);
  CHECK(c.method[0] == ValueMethod::model);
}

TEST_CASE("current value rejects malformed input, naming the field") {
  Sample s;
  const LinearModel model;
  Error e = catch_error([&] { current_value(s.inputs(), model, spend(), -1.0); });
  CHECK(e.code() == ErrorCode::invalid_argument);
  CHECK(std::string(e.what()) == "horizon: must be finite and >= 0, got -1");
  e = catch_error([&] { current_value(s.inputs(), model, spend(), std::nan("")); });
  CHECK(std::string(e.what()) == "horizon: must be finite and >= 0, got nan");
  s.m[1] = std::nan("");
  e = catch_error([&] { current_value(s.inputs(), model, spend(), 4.0); });
  CHECK(std::string(e.what()) == "monetary_value[1]: must be finite and >= 0, got nan");
  s = Sample{};
  s.tx[0] = std::nan("");
  e = catch_error([&] { current_value(s.inputs(), model, spend(), 4.0); });
  CHECK(std::string(e.what()).rfind("recency[0]: must be finite", 0) == 0);
  s = Sample{};
  s.hist.pop_back();
  e = catch_error([&] { current_value(s.inputs(), model, spend(), 4.0); });
  CHECK(std::string(e.what()) == "historical_minor: length 3 differs from customer_id (4)");
  s = Sample{};
  s.id[3] = 10;
  e = catch_error([&] { current_value(s.inputs(), model, spend(), 4.0); });
  CHECK(std::string(e.what()) == "customer_id[3]: duplicate customer id 10 (also row 0)");
  s = Sample{};
  s.hist[2] = -1;
  e = catch_error([&] { current_value(s.inputs(), model, spend(), 4.0); });
  CHECK(std::string(e.what()) == "historical_minor[2]: is negative (-1)");
  CurrentValueOptions o;
  o.discount_rate = -0.1;
  e = catch_error([&] { current_value(Sample{}.inputs(), model, spend(), 4.0, o); });
  CHECK(std::string(e.what()) == "discount_rate: must be finite and >= 0, got -0.10000000000000001");
  o = {};
  o.discount_step = 0;
  e = catch_error([&] { current_value(Sample{}.inputs(), model, spend(), 4.0, o); });
  CHECK(std::string(e.what()) == "discount_step: must be finite and > 0, got 0");
}

// ---- potential ----------------------------------------------------------------------------

namespace {
// Customers 1..4 (USD). Referrals: 1->2, 1->3, 1->2 again, 1->99 (99 never bought), 2->3,
// 77->4 (77 is not a row). Converted referred customers: 2, 3, 4 with historical 30.00, 50.00,
// 0.00: mean 80.00 / 3 = 26.666... -> 26.67.
const I64 kIds{1, 2, 3, 4};
const I64 kHist{1000, 3000, 5000, 0};
const I64 kCurrent{2000, 0, 1005, 0};
const I64 kReferrer{1, 1, 1, 1, 2, 77};
const I64 kReferred{2, 3, 2, 99, 3, 4};
}  // namespace

TEST_CASE("potential value: converted referrals x the mean value of converted referred customers") {
  const PotentialValue p =
      potential_value(kIds, kHist, kCurrent, Currency::of("USD"), kReferrer, kReferred);
  CHECK(p.converted_referrals == I64{2, 1, 0, 0});
  CHECK(p.referral_value_minor == 2667);
  CHECK(p.value_minor == I64{5334, 2667, 0, 0});
  CHECK(p.value(0).to_string() == "53.34 USD");
}

TEST_CASE("potential value: a fixed referral value, uplift x current value, rounding") {
  PotentialValueOptions o;
  o.referral_value = Money::parse("25.00", Currency::of("USD"));
  o.uplift = Decimal::parse("0.5");
  // 1: 2 x 25.00 + 0.5 x 20.00 = 60.00; 2: 25.00; 3: 0.5 x 10.05 = 5.025 -> 5.02 (half even)
  PotentialValue p = potential_value(kIds, kHist, kCurrent, Currency::of("USD"), kReferrer,
                                     kReferred, o);
  CHECK(p.value_minor == I64{6000, 2500, 502, 0});
  CHECK(p.referral_value_minor == 2500);
  o.rounding = RoundingMode::half_up;  // 5.025 -> 5.03
  p = potential_value(kIds, kHist, kCurrent, Currency::of("USD"), kReferrer, kReferred, o);
  CHECK(p.value_minor[2] == 503);

  // The default mean rounds once with the options' mode: (30.00 + 50.01) / 2 = 40.005.
  const I64 hist{1000, 3000, 5001, 0};
  PotentialValueOptions mean;
  CHECK(potential_value(kIds, hist, kCurrent, Currency::of("USD"), I64{1, 1}, I64{2, 3}, mean)
            .referral_value_minor == 4000);
  mean.rounding = RoundingMode::half_up;
  CHECK(potential_value(kIds, hist, kCurrent, Currency::of("USD"), I64{1, 1}, I64{2, 3}, mean)
            .referral_value_minor == 4001);
  // Without converted referrals the value per referral is 0.
  const PotentialValue none =
      potential_value(kIds, kHist, kCurrent, Currency::of("USD"), I64{1}, I64{99});
  CHECK(none.referral_value_minor == 0);
  CHECK(none.value_minor == I64{0, 0, 0, 0});
  CHECK(none.converted_referrals == I64{0, 0, 0, 0});
}

TEST_CASE("potential value rejects another currency, self-referrals and negative uplift") {
  PotentialValueOptions o;
  o.referral_value = Money::parse("25.00", Currency::of("EUR"));
  Error e = catch_error([&] {
    potential_value(kIds, kHist, kCurrent, Currency::of("USD"), kReferrer, kReferred, o);
  });
  CHECK(e.code() == ErrorCode::invalid_argument);
  CHECK(std::string(e.what()) == "referral_value: currency EUR differs from USD");
  e = catch_error([&] {
    potential_value(kIds, kHist, kCurrent, Currency::of("USD"), I64{1, 3}, I64{2, 3});
  });
  CHECK(std::string(e.what()) == "referred_ids[1]: customer 3 refers itself");
  o = {};
  o.uplift = Decimal::parse("-0.1");
  e = catch_error([&] {
    potential_value(kIds, kHist, kCurrent, Currency::of("USD"), kReferrer, kReferred, o);
  });
  CHECK(std::string(e.what()) == "uplift: must be >= 0, got -0.1");
  e = catch_error([&] {
    potential_value(kIds, kHist, kCurrent, Currency::of("USD"), I64{1, 2}, I64{2});
  });
  CHECK(std::string(e.what()) == "referred_ids: length 1 differs from referrer_ids (2)");
}

// ---- all three ----------------------------------------------------------------------------

TEST_CASE("lifetime value: the three parts and their exact total") {
  const Sample s;
  const LinearModel model;
  // Referrals: 10 -> 12 and 10 -> 13 (both buyers: converted), 11 -> 500 (not a buyer).
  // Mean historical of 12 and 13: (15.00 + 9.99) / 2 = 12.495 -> 12.50 (half even).
  LifetimeValueOptions o;
  o.potential.uplift = Decimal::parse("0.1");
  const LifetimeValue v =
      lifetime_value(s.inputs(), model, spend(), 4.0, I64{10, 10, 11}, I64{12, 13, 500}, o);
  CHECK(v.customer_id == I64{10, 11, 12, 13});
  CHECK(v.historical_minor == I64{4000, 12000, 1500, 999});
  CHECK(v.current_minor == I64{1012, 5000, 1200, 3996});
  CHECK(v.referral_value_minor == 1250);
  CHECK(v.converted_referrals == I64{2, 0, 0, 0});
  // potential: 10: 2 x 12.50 + 0.1 x 10.12 = 25.00 + 1.012 -> 26.01; 11: 5.00; 12: 1.20; 13: 3.996
  // -> 4.00
  CHECK(v.potential_minor == I64{2601, 500, 120, 400});
  CHECK(v.total_minor == I64{4000 + 1012 + 2601, 12000 + 5000 + 500, 1500 + 1200 + 120,
                             999 + 3996 + 400});
  CHECK(v.method[2] == ValueMethod::run_rate);
  CHECK(v.money(v.total_minor, 0).to_string() == "76.13 USD");
  CHECK(std::string(to_string(ValueMethod::run_rate)) == "run_rate");
  CHECK(parse_value_method("model") == ValueMethod::model);
  CHECK(catch_error([] { parse_value_method("guess"); }).code() == ErrorCode::invalid_argument);
}
