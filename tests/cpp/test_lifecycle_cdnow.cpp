// customer_lifecycle evaluated month by month on the CDNOW sample through the store
// (analytics/lifecycle.hpp): the stage counts add up to the customers acquired, a hand-checked
// customer's history follows its purchases, and reports from the stored history agree.
#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "crmkit/crmkit.hpp"
#include "support.hpp"

using namespace crmkit;

namespace {

// The sample as one import (customer "cdnow-<sample_id>"), from support.hpp's reader.
PurchaseImport cdnow_sample() {
  const test::CdnowLog log = test::read_cdnow_log();
  PurchaseImport rows;
  rows.currency = "USD";
  for (std::size_t i = 0; i < log.customer.size(); ++i) {
    rows.customer_external_id.push_back("cdnow-" + std::to_string(log.customer[i]));
    rows.at.push_back(Timestamp(log.time[i]));
    rows.amount.push_back(log.dollars[i]);
  }
  return rows;
}

Timestamp month_end(int year, int month) {
  const Date next = month == 12 ? Date(year + 1, 1, 1) : Date(year, month + 1, 1);
  return Timestamp(next.start().micros() - 1);
}

struct Cdnow {
  Store store = Store::open(":memory:", [] {
    StoreOptions o;
    o.currency = "USD";
    return o;
  }());
  Machine machine = default_machine("customer_lifecycle", store_fact_schema(store));
  std::vector<Timestamp> ends;

  Cdnow() {
    store.import_purchases(cdnow_sample());
    for (int y = 1997; y <= 1998; ++y)
      for (int m = 1; m <= 12; ++m) ends.push_back(month_end(y, m));
    for (const Timestamp& end : ends) evaluate_machine(store, machine, end);
  }
};

Cdnow& cdnow() {
  static Cdnow c;
  return c;
}

}  // namespace

TEST_CASE("on CDNOW, every month's stage counts add up to the customers acquired by then") {
  Cdnow& c = cdnow();
  const History h = store_history(c.store, c.machine);
  const std::vector<std::int64_t> counts = h.distribution(c.ends);
  const std::size_t n = c.machine.states().size();
  const PurchaseColumns p = c.store.purchase_columns();
  for (std::size_t d = 0; d < c.ends.size(); ++d) {
    std::set<CustomerId> acquired;
    for (std::size_t k = 0; k < p.customer_id.size(); ++k)
      if (p.at_micros[k] <= c.ends[d].micros()) acquired.insert(p.customer_id[k]);
    std::int64_t staged = 0;
    for (std::size_t s = 1; s < n; ++s) staged += counts[d * n + s];
    INFO("month " << d + 1);
    CHECK(counts[d * n] == 0);  // no prospect: CDNOW customers exist from their first purchase
    CHECK(staged == static_cast<std::int64_t>(acquired.size()));
  }
  // The sample's customers all made their first purchase in the first quarter of 1997.
  std::int64_t march = 0;
  for (std::size_t s = 0; s < n; ++s) march += counts[2 * n + s];
  CHECK(march == 2357);
}

TEST_CASE("a hand-checked CDNOW customer's history follows its purchases and the thresholds") {
  // cdnow-1 bought on 1997-01-01, 01-18, 08-02 and 12-12. With the default thresholds:
  //  Jan 31: 2 purchases -> introduction (first_purchase), 2 in 365 days -> growth;
  //  Jul 31: 194 days since 01-18 (>= 180) -> dormancy (Jun 30 was 163 days);
  //  Aug 31: a purchase 29 days ago (< 60) -> growth (reactivated);
  //  Dec 31: 4 purchases, 364 days since the first (>= 180) -> maturity (habit_formed);
  //  1998 Jun 30: 200 days since 12-12 (May 31 was 170) -> dormancy;
  //  1998 Dec 31: 384 days since 12-12 (>= 365; Nov 30 was 353) -> churned.
  Cdnow& c = cdnow();
  const Customer one = c.store.get_customer_by_external_id("cdnow-1");
  const TransitionColumns h = c.store.history("customer_lifecycle", EntityRef::customer(one.id));
  const std::vector<std::vector<std::string>> want = {
      {"prospect", "introduction", "first_purchase", "1997-01"},
      {"introduction", "growth", "repeat_purchase", "1997-01"},
      {"growth", "dormancy", "gone_quiet", "1997-07"},
      {"dormancy", "growth", "reactivated", "1997-08"},
      {"growth", "maturity", "habit_formed", "1997-12"},
      {"maturity", "dormancy", "gone_quiet", "1998-06"},
      {"dormancy", "churned", "churn", "1998-12"},
  };
  REQUIRE(h.size() == want.size());
  for (std::size_t k = 0; k < want.size(); ++k) {
    INFO("row " << k);
    CHECK(h.from[k] == want[k][0]);
    CHECK(h.to[k] == want[k][1]);
    CHECK(h.rule[k] == want[k][2]);
    CHECK(Timestamp(h.at_micros[k]).to_string().substr(0, 7) == want[k][3]);
  }
  // Its stage as of dates between the moves, and the stage facts read back from history.
  const StageSnapshot june = stages_as_of(c.store, c.machine, Timestamp::parse("1997-06-15"));
  std::size_t row = 0;
  while (june.entity_id[row] != one.id) ++row;
  CHECK(june.stage[row] == "growth");
  CHECK(june.external_id[row] == "cdnow-1");
  FactOptions fo;
  fo.facts = {"stage.customer_lifecycle", "days_in_stage.customer_lifecycle"};
  const CustomerFacts f = customer_facts(c.store, one.id, Timestamp::parse("1997-10-01"), fo);
  CHECK(f.table.texts(0)[0] == "growth");
  CHECK(f.table.integers(1)[0] == 30);  // since 1997-08-31T23:59:59.999999
  // A customer that never moved: missing, unless the machine's initial state is given.
  const Customer newcomer = c.store.create_customer([] {
    Customer x;
    x.external_id = "newcomer";
    x.name = "New Comer";
    return x;
  }());
  const Timestamp later = Timestamp(newcomer.created_at.micros() + 3 * 86'400'000'000LL);
  CHECK_FALSE(customer_facts(c.store, newcomer.id, later, fo).table.is_present(0, 0));
  fo.initial_states = {{"customer_lifecycle", "prospect"}};
  const CustomerFacts nf = customer_facts(c.store, newcomer.id, later, fo);
  CHECK(nf.table.texts(0)[0] == "prospect");
  CHECK(nf.table.integers(1)[0] == 3);
  // Time in stage: growth twice (Jan 31 -> Jul 31 and Aug 31 -> Dec 31), 181 + 122 days.
  const History hist = store_history(c.store, c.machine);
  double growth_days = -1;
  std::int32_t growth_stints = 0;
  for (const StageTime& t : hist.stage_times(Timestamp::parse("1999-01-01"))) {
    if (t.entity == one.id &&
        c.machine.states()[static_cast<std::size_t>(t.state)].name == "growth") {
      growth_days = t.days;
      growth_stints = t.stints;
    }
  }
  CHECK(growth_stints == 2);
  CHECK(growth_days == Approx(181.0 + 122.0));
}

TEST_CASE("evaluation refuses to go back in time, and a dry run writes nothing") {
  Cdnow& c = cdnow();
  CHECK_THROWS_WITH(evaluate_machine(c.store, c.machine, Timestamp::parse("1997-03-01")),
                    Catch::Matchers::Contains("history runs forwards"));
  const std::size_t before = c.store.history("customer_lifecycle").size();
  EvaluateOptions dry;
  dry.dry_run = true;
  // 1999-12-31: 18 months after the sample's last purchase every dormant customer churns.
  const EvaluateResult r =
      evaluate_machine(c.store, c.machine, Timestamp::parse("1999-12-31"), dry);
  CHECK(r.evaluated == 2357);
  CHECK(r.changes.size() == 515);  // every dormant customer churns
  for (const TransitionRecord& t : r.changes) {
    CHECK(t.id == 0);
    CHECK(t.to == "churned");
  }
  CHECK(c.store.history("customer_lifecycle").size() == before);
}
