// Tests for crmkit/analytics/analytics.hpp: the store summary with refund netting, the end-of-period
// rules and external-id keys; the fits on it (CDNOW against the published numbers); CLV; lifetime
// value in three parts as of a date, with the store's or given referrals; and
// Store::customer_keys. Expected values are worked out by hand in the comments.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "crmkit/analytics/analytics.hpp"
#include "crmkit/base/error.hpp"
#include "support.hpp"

using namespace crmkit;
using crmkit::test::LinearModel;
using crmkit::test::m;
using crmkit::test::person;
using crmkit::test::TempDir;
using crmkit::test::usd;
using D = std::vector<double>;
using I64 = std::vector<std::int64_t>;
using S = std::vector<std::string>;

namespace {

Event purchase(CustomerId c, const char* amount, const char* at) {
  return test::purchase_event(c, amount, at);
}

Event refund(CustomerId c, EventId of, const char* amount, const char* at) {
  return test::refund_event(c, of, amount, at);
}

Event referral(CustomerId referrer, CustomerId referred, const char* at) {
  Event e;
  e.customer = referrer;
  e.at = Timestamp::parse(at);
  e.payload = Referral{referred};
  return e;
}

const GammaGammaModel& spend() {  // E[Z | x, m] = (10 + x m) / (x + 1)
  static const GammaGammaModel g(GammaGammaParams{1, 2, 10});
  return g;
}

// ann: 30.00 on 01-01 (10.00 refunded on 01-09) and 20.00 on 01-08, 100.00 on 01-20;
// bob: 12.00 on 01-04; cy never buys. ann referred bob, bob referred cy.
struct Shop {
  Store store = Store::open(":memory:", usd());
  CustomerId ann = 0, bob = 0, cy = 0;
  Shop() {
    ann = store.create_customer(person("ann")).id;
    bob = store.create_customer(person("bob")).id;
    cy = store.create_customer(person("cy")).id;
    const EventId first = store.append_event(purchase(ann, "30.00", "2024-01-01T10:00:00Z")).id;
    store.append_event(purchase(ann, "20.00", "2024-01-08T10:00:00Z"));
    store.append_event(purchase(bob, "12.00", "2024-01-04T10:00:00Z"));
    store.append_event(refund(ann, first, "10.00", "2024-01-09T10:00:00Z"));
    store.append_event(referral(ann, bob, "2024-01-09T11:00:00Z"));
    store.append_event(referral(bob, cy, "2024-01-09T12:00:00Z"));
    store.append_event(purchase(ann, "100.00", "2024-01-20T10:00:00Z"));
  }
};

}  // namespace

// ---- customer keys ----------------------------------------------------------------------------

TEST_CASE("customer_keys lists every customer's id and external id in id order") {
  TempDir tmp("keys");
  Store s = Store::open(tmp.file("keys.crmkit"), usd());
  CHECK(s.customer_keys().size() == 0);
  const CustomerId a = s.create_customer(person("a-1")).id;
  const CustomerId b = s.create_customer(person("b-2")).id;
  const CustomerId c = s.create_customer(person("c-3")).id;
  s.delete_customer(b);
  s.erase_customer(c);
  const CustomerKeys k = s.customer_keys();
  CHECK(k.customer_id == I64{a, b, c});
  CHECK(k.external_id == S{"a-1", "b-2", "erased:" + std::to_string(c)});
  s.close();
  CHECK_ERROR(s.customer_keys(), ErrorCode::storage, "store: store is closed");
}

TEST_CASE("external_ids_of looks ids up and names a missing one") {
  CustomerKeys k;
  k.customer_id = {2, 5, 9};
  k.external_id = {"b", "e", "i"};
  const I64 ids{9, 2, 9, 5};
  CHECK(external_ids_of(k, ids) == S{"i", "b", "i", "e"});
  CHECK(external_ids_of(k, I64{}).empty());
  CHECK_ERROR(external_ids_of(k, I64{5, 4}), ErrorCode::not_found, "ids[1]: no customer 4 in the store");
  k.customer_id = {2, 9, 5};
  CHECK_INVALID(external_ids_of(k, ids), "keys.customer_id[2]: 5 does not follow 9");
  k.customer_id = {2, 5};
  CHECK_INVALID(external_ids_of(k, ids), "keys.external_id: length 3 differs from keys.customer_id (2)");
}

// ---- summary ----------------------------------------------------------------------------------

TEST_CASE("summary_from_store nets refunds, keeps fully refunded purchases and keys by external id") {
  Store s = Store::open(":memory:", usd());
  const CustomerId x = s.create_customer(person("x")).id;
  const CustomerId y = s.create_customer(person("y")).id;
  const CustomerId z = s.create_customer(person("z")).id;
  s.append_event(purchase(x, "10.10", "2021-03-01T00:00:00Z"));
  s.append_event(purchase(x, "0.20", "2021-03-01T12:00:00Z"));
  const EventId late = s.append_event(purchase(x, "5.55", "2021-03-08T00:00:00Z")).id;
  const EventId only = s.append_event(purchase(y, "3.00", "2021-03-05T00:00:00Z")).id;
  s.append_event(purchase(z, "7.00", "2021-03-12T00:00:00Z"));  // after the end below
  s.append_event(refund(x, late, "1.55", "2021-03-09T00:00:00Z"));
  s.append_event(refund(y, only, "3.00", "2021-03-09T00:00:00Z"));  // all of it

  StoreSummaryOptions o;
  o.observation_period_end = Timestamp::parse("2021-03-10T00:00:00Z");
  const StoreCustomerSummary sum = summary_from_store(s, o);
  CHECK(sum.currency == Currency::of("USD"));
  // z first bought after the end: left out. x: days 03-01 and 03-08 (net 5.55 - 1.55 = 4.00);
  // y: one purchase, fully refunded, still counted (T = 5 days).
  CHECK(sum.customer_id == I64{x, y});
  CHECK(sum.external_id == S{"x", "y"});
  CHECK(sum.frequency == D{1, 0});
  CHECK(sum.recency == D{7, 0});
  CHECK(sum.T == D{9, 5});
  CHECK(sum.monetary_value == D{4.0, 0.0});
  CHECK(sum.first_purchase ==
        I64{Timestamp::parse("2021-03-01T00:00:00Z").micros(), Timestamp::parse("2021-03-05T00:00:00Z").micros()});

  SECTION("weeks as days / 7, and the first period included") {
    o.multiplier = 7;
    o.include_first_transaction = true;
    const StoreCustomerSummary w = summary_from_store(s, o);
    CHECK(w.frequency == D{2, 1});
    CHECK(w.T[0] == Approx(9.0 / 7).epsilon(1e-15));
    // The mean over both periods: (10.30 + 4.00) / 2.
    CHECK(w.monetary_value[0] == Approx(7.15).epsilon(1e-15));
    CHECK(w.monetary_value[1] == 0.0);
  }
  SECTION("without an end the last purchase ends the period and z is in") {
    const StoreCustomerSummary all = summary_from_store(s);
    CHECK(all.external_id == S{"x", "y", "z"});
    CHECK(all.T == D{11, 7, 0});
  }
  SECTION("drop_customers_after_end = false refuses z; a bad multiplier is refused") {
    o.drop_customers_after_end = false;
    CHECK_INVALID_PREFIX(summary_from_store(s, o), "observation_period_end: 2021-03-10");
    o.drop_customers_after_end = true;
    o.multiplier = 0;
    CHECK_INVALID(summary_from_store(s, o), "multiplier: must be finite and > 0, got 0.000000");
  }
  SECTION("an empty store gives an empty summary") {
    Store e = Store::open(":memory:", usd());
    CHECK(summary_from_store(e).size() == 0);
  }
}

TEST_CASE("fit_gamma_gamma fits only the rows with repeat purchases and a positive mean") {
  StoreCustomerSummary s;
  s.customer_id = {1, 2, 3, 4};
  s.frequency = {0, 2, 1, 3};
  s.recency = {0, 5, 3, 9};
  s.T = {10, 10, 10, 10};
  s.monetary_value = {0, 20, 0, 30};  // customer 3's repeat purchase was refunded in full
  const GammaGammaModel g = fit_gamma_gamma(s);
  const GammaGammaModel direct = GammaGammaModel::fit(D{2, 3}, D{20, 30});
  CHECK(g.params().p == direct.params().p);
  CHECK(g.params().q == direct.params().q);
  CHECK(g.params().v == direct.params().v);
  s.frequency = {0, 0, 0, 0};
  CHECK_INVALID(fit_gamma_gamma(s),
                "summary: no customer with frequency >= 1 and monetary_value > 0 to fit on");
  s.monetary_value = {1};
  CHECK_INVALID(fit_gamma_gamma(s), "summary.monetary_value: length 1 differs from summary.frequency (4)");
}

// ---- lifetime value ---------------------------------------------------------------------------

TEST_CASE("lifetime_value_parts from a store, as of a date") {
  Shop shop;
  const LinearModel model;  // E[X(T, T + t)] = t (x + 1) / 8
  StoreValueOptions o;
  o.summary.observation_period_end = Timestamp::parse("2024-01-10T00:00:00Z");
  const StoreLifetimeValue v = lifetime_value_parts(shop.store, model, spend(), 8.0, o);
  // As of 01-10 ann's 100.00 of 01-20 is left out. ann: days 01-01 (20.00 net) and 01-08 (20.00):
  // x = 1, t_x = 7, T = 9, m = 20; historical 40.00; current 8 * 2 / 8 = 2 purchases x
  // (10 + 20) / 2 = 15 -> 30.00; potential: bob converted, worth bob's historical 12.00.
  // bob: x = 0, T = 6: run rate 12.00 / 6 x 8 = 16.00; cy (his referral) never bought.
  CHECK(v.customer_id == I64{shop.ann, shop.bob});
  CHECK(v.external_id == S{"ann", "bob"});
  CHECK(v.historical_minor == I64{4000, 1200});
  CHECK(v.current_minor == I64{3000, 1600});
  CHECK(v.potential_minor == I64{1200, 0});
  CHECK(v.total_minor == I64{8200, 2800});
  CHECK(v.method == std::vector<ValueMethod>{ValueMethod::model, ValueMethod::run_rate});
  CHECK(v.converted_referrals == I64{1, 0});
  CHECK(v.referral_value_minor == 1200);
  CHECK(v.money(v.total_minor, 0).to_string() == "82.00 USD");

  SECTION("without an end every purchase counts") {
    // ann: days 01-01, 01-08, 01-20: x = 2, t_x = T = 19, m = (20 + 100) / 2 = 60; historical
    // 140.00; current 8 * 3 / 8 = 3 x (10 + 120) / 3 = 130.00. bob: T = 16: 12 / 16 x 8 = 6.00.
    const StoreLifetimeValue all = lifetime_value_parts(shop.store, model, spend(), 8.0);
    CHECK(all.historical_minor == I64{14000, 1200});
    CHECK(all.current_minor == I64{13000, 600});
    CHECK(all.potential_minor == I64{1200, 0});
  }
  SECTION("given referrals replace the store's") {
    // bob referred ann: bob's potential is ann's historical value, 40.00.
    const I64 referrer{shop.bob}, referred{shop.ann};
    const StoreLifetimeValue r =
        lifetime_value_parts(shop.store, model, spend(), 8.0, referrer, referred, o);
    CHECK(r.potential_minor == I64{0, 4000});
    CHECK(r.converted_referrals == I64{0, 1});
    CHECK_INVALID(lifetime_value_parts(shop.store, model, spend(), 8.0, referrer, I64{}, o),
                  "referred_ids: length 0 differs from referrer_ids (1)");
  }
  SECTION("an end before every purchase gives no rows") {
    o.summary.observation_period_end = Timestamp::parse("2023-12-31T00:00:00Z");
    const StoreLifetimeValue none = lifetime_value_parts(shop.store, model, spend(), 8.0, o);
    CHECK(none.size() == 0);
    CHECK(none.external_id.empty());
    CHECK(none.referral_value_minor == 0);
  }
  SECTION("the value options reach ltv.hpp") {
    o.value.potential.uplift = Decimal::parse("0.5");
    o.value.current.min_repeat_purchases = 2;  // ann falls back to the run rate: 40 / 9 x 8
    const StoreLifetimeValue u = lifetime_value_parts(shop.store, model, spend(), 8.0, o);
    CHECK(u.method == std::vector<ValueMethod>{ValueMethod::run_rate, ValueMethod::run_rate});
    CHECK(u.current_minor == I64{3556, 1600});
    CHECK(u.potential_minor == I64{1200 + 1778, 800});
    CHECK_INVALID_PREFIX(lifetime_value_parts(shop.store, model, spend(), -1.0, o), "horizon: ");
  }
}

TEST_CASE("customer_lifetime_value on a store summary equals the model's CLV on its columns") {
  Shop shop;
  const StoreCustomerSummary s = summary_from_store(shop.store);
  const BetaGeoModel bg(BetaGeoParams{0.243, 4.414, 0.793, 2.426});
  ClvOptions o;
  o.periods_per_month = periods_per_month("D");
  const D clv = customer_lifetime_value(s, bg, spend(), o);
  CHECK(clv == spend().customer_lifetime_value(bg, s.frequency, s.recency, s.T, s.monetary_value, o));
  REQUIRE(clv.size() == 2);
  CHECK(clv[0] > 0);
}

// ---- CDNOW ------------------------------------------------------------------------------------

TEST_CASE("the CDNOW sample from a store gives the published summary and fits") {
  const crmkit::test::CdnowLog log = crmkit::test::read_cdnow_log();
  PurchaseImport rows;
  rows.currency = "USD";
  for (std::size_t i = 0; i < log.customer.size(); ++i) {
    rows.customer_external_id.push_back("cdnow-" + std::to_string(log.customer[i]));
    rows.at.push_back(Timestamp::from_micros(log.time[i]));
    rows.amount.push_back(log.dollars[i]);
  }
  Store store = Store::open(":memory:", usd());
  store.import_purchases(rows);

  StoreSummaryOptions o;
  o.multiplier = 7;  // weeks, as the published summary
  o.observation_period_end = Timestamp::parse("1997-09-30T00:00:00Z");
  const StoreCustomerSummary s = summary_from_store(store, o);
  const crmkit::test::CdnowSummary published = crmkit::test::read_cdnow_summary();
  REQUIRE(s.size() == 2357);
  double frequency_sum = 0, worst = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const std::size_t n = std::stoul(s.external_id[i].substr(6)) - 1;  // "cdnow-<n>"
    REQUIRE(s.frequency[i] == published.x[n]);
    worst = std::max({worst, std::abs(s.recency[i] - published.tx[n]), std::abs(s.T[i] - published.T[n])});
    frequency_sum += s.frequency[i];
  }
  CHECK(frequency_sum == 2457);
  CHECK(worst < 0.01);

  const BetaGeoModel bg = fit_beta_geo(s);
  CHECK(bg.report().converged);
  CHECK(bg.params().r == Approx(0.243).margin(5e-4));
  CHECK(bg.params().alpha == Approx(4.414).margin(5e-4));
  CHECK(bg.params().a == Approx(0.793).margin(5e-4));
  CHECK(bg.params().b == Approx(2.426).margin(5e-4));
  const GammaGammaModel gg = fit_gamma_gamma(s);
  CHECK(gg.report().converged);
  CHECK(gg.params().p == Approx(6.25).margin(5e-3));
  CHECK(gg.params().q == Approx(3.74).margin(5e-3));
  CHECK(gg.params().v == Approx(15.44).margin(1e-2));
}
