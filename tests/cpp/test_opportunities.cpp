// Opportunities in the store (crmkit/records/opportunity.hpp, store.hpp) and the weighted
// pipeline value (crmkit/analytics/pipeline.hpp).
#include <catch2/catch.hpp>

#include <string>

#include "crmkit/analytics/lifecycle.hpp"
#include "crmkit/analytics/pipeline.hpp"
#include "crmkit/base/error.hpp"
#include "crmkit/lifecycle/defaults.hpp"
#include "crmkit/lifecycle/machine.hpp"
#include "crmkit/records/opportunity.hpp"
#include "crmkit/store/store.hpp"
#include "support.hpp"

using namespace crmkit;
using namespace crmkit::test;

namespace {

// A pipeline whose open stages carry 10%, 50% and 75%, with won (100%) and lost (0%).
constexpr const char* kPipeline = R"({
  "name": "sales_pipeline",
  "states": [
    {"name": "lead", "initial": true, "probability": 0.1},
    {"name": "proposal", "probability": 0.5},
    {"name": "negotiation", "probability": 0.75},
    {"name": "won", "terminal": true, "probability": 1},
    {"name": "lost", "terminal": true, "probability": 0}
  ],
  "transitions": [
    {"name": "propose", "from": "lead", "to": "proposal"},
    {"name": "negotiate", "from": "proposal", "to": "negotiation"},
    {"name": "win", "from": ["proposal", "negotiation"], "to": "won"},
    {"name": "lose", "from": "*", "to": "lost", "reason_required": true}
  ]
})";

Machine pipeline() { return Machine::from_json_text(kPipeline, FactSchema{}); }

Opportunity deal(CustomerId customer, const char* name, const char* amount, Date close,
                 const char* owner = "sam") {
  Opportunity o;
  o.customer = customer;
  o.name = name;
  o.amount = m(amount);
  o.expected_close = close;
  o.owner = owner;
  o.pipeline = "sales_pipeline";
  return o;
}

}  // namespace

TEST_CASE("an opportunity is created, read, listed and updated with an audit trail",
          "[store][opportunity]") {
  Store s = Store::open(":memory:", usd());
  const Customer ada = s.create_customer(person("C-1"));
  Customer org = person("ORG-1");
  org.kind = CustomerKind::organisation;
  org = s.create_customer(org);

  const Opportunity a = s.create_opportunity(deal(ada.id, "  Kitchen  ", "1200.00",
                                                  Date(2025, 3, 31)), {"alice", "crm"});
  CHECK(a.id == 1);
  CHECK(a.name == "Kitchen");
  CHECK(a.amount == m("1200.00"));
  CHECK(a.created_at == a.updated_at);
  const Opportunity b = s.create_opportunity(deal(org.id, "Fleet", "0", Date(2025, 4, 1)));
  CHECK(b.id == 2);
  CHECK(s.get_opportunity(1) == a);
  CHECK(s.list_opportunities().size() == 2);
  REQUIRE(s.list_opportunities(org.id).size() == 1);
  CHECK(s.list_opportunities(org.id)[0] == b);

  Opportunity changed = a;
  changed.amount = m("1350.50");
  changed.owner = "kim";
  const Opportunity after = s.update_opportunity(changed, {"bob", ""});
  CHECK(after.amount == m("1350.50"));
  CHECK(after.created_at == a.created_at);
  CHECK(s.get_opportunity(1).owner == "kim");
  // An update that changes nothing writes nothing.
  const auto audit_before = s.audit_log().size();
  CHECK(s.update_opportunity(after) == s.get_opportunity(1));
  CHECK(s.audit_log().size() == audit_before);

  const auto audit = s.audit_log();
  REQUIRE(audit.size() == 6);  // 2 customers, 2 opportunities, 2 changed fields
  CHECK(audit[2].entity == "opportunity");
  CHECK(audit[2].entity_id == 1);
  CHECK(audit[2].action == "create");
  CHECK(audit[2].actor == "alice");
  CHECK(audit[4].action == "update");
  CHECK(audit[4].field == "amount");
  CHECK(audit[4].old_value == R"({"amount":"1200.00","currency":"USD"})");
  CHECK(audit[4].new_value == R"({"amount":"1350.50","currency":"USD"})");
  CHECK(audit[5].field == "owner");
  CHECK(audit[5].old_value == R"("sam")");
  CHECK(audit[5].new_value == R"("kim")");

  const OpportunityColumns cols = s.opportunity_columns("sales_pipeline");
  REQUIRE(cols.size() == 2);
  CHECK(cols.amount_minor[0] == 135050);
  CHECK(cols.expected_close_days[1] == Date(2025, 4, 1).days_since_epoch());
  CHECK(s.opportunity_columns("other").size() == 0);
}

TEST_CASE("invalid opportunities are refused naming the field, with nothing written",
          "[store][opportunity]") {
  Store s = Store::open(":memory:", usd());
  const Customer ada = s.create_customer(person("C-1"));
  const std::string before = dump(s);
  CHECK_INVALID(s.create_opportunity(deal(ada.id, "x", "-1.00", Date(2025, 1, 1))),
                "opportunity.amount: -1.00 USD is negative");
  CHECK_INVALID(s.create_opportunity(deal(ada.id, "  ", "1.00", Date(2025, 1, 1))),
                "opportunity.name: must not be empty");
  Opportunity eur = deal(ada.id, "x", "1.00", Date(2025, 1, 1));
  eur.amount = Money::parse("1.00", Currency::of("EUR"));
  CHECK_INVALID(s.create_opportunity(eur),
                "opportunity.amount: currency EUR is not the store's USD");
  Opportunity bad = deal(ada.id, "x", "1.00", Date(2025, 1, 1));
  bad.pipeline = "Sales Pipeline";
  CHECK_INVALID(s.create_opportunity(bad),
                "opportunity.pipeline: 'Sales Pipeline' is not a machine name ([a-z][a-z0-9_]{0,63})");
  CHECK_ERROR(s.create_opportunity(deal(99, "x", "1.00", Date(2025, 1, 1))), ErrorCode::not_found,
              "opportunity.customer: no customer with id 99");
  CHECK_ERROR(s.get_opportunity(7), ErrorCode::not_found, "opportunity: no opportunity with id 7");
  const Customer gone = s.create_customer(person("C-2"));
  s.delete_customer(gone.id);
  const std::string with_deleted = dump(s);
  CHECK_ERROR(s.create_opportunity(deal(gone.id, "x", "1.00", Date(2025, 1, 1))),
              ErrorCode::conflict, "opportunity.customer: customer 2 is deleted (restore it first)");
  CHECK(dump(s) == with_deleted);
  CHECK(before != with_deleted);

  const Opportunity o = s.create_opportunity(deal(ada.id, "Kitchen", "5.00", Date(2025, 1, 1)));
  Opportunity moved = o;
  moved.customer = gone.id;
  CHECK_INVALID(s.update_opportunity(moved), "opportunity.customer: cannot change (it is 1)");
  Opportunity other = o;
  other.pipeline = "renewals";
  CHECK_INVALID(s.update_opportunity(other),
                "opportunity.pipeline: cannot change (it is 'sales_pipeline')");
}

TEST_CASE("probability_decimal reads a double as the decimal it was written as",
          "[pipeline]") {
  CHECK(probability_decimal(0.1).to_string() == "0.1");
  CHECK(probability_decimal(0.35).to_string() == "0.35");
  CHECK(probability_decimal(1.0).to_string() == "1");
  CHECK(probability_decimal(0.0).to_string() == "0");
  CHECK(probability_decimal(1.0 / 3.0).to_string() == "0.3333333333333333");
  CHECK_INVALID(probability_decimal(1.5), "probability: must be between 0 and 1, got 1.500000");
  CHECK_INVALID(probability_decimal(-0.25), "probability: must be between 0 and 1, got -0.250000");
}

TEST_CASE("weighted pipeline value is exact and rounded half to even per group", "[pipeline]") {
  Store s = Store::open(":memory:", usd());
  const Machine p = pipeline();
  const CustomerId c = s.create_customer(person("C-1")).id;
  const Date march(2025, 3, 15), april(2025, 4, 2);
  // lead (10%): 0.05 -> 0.005 and 0.15 -> 0.015; together 0.02 exactly.
  const auto l1 = s.create_opportunity(deal(c, "l1", "0.05", march)).id;
  const auto l2 = s.create_opportunity(deal(c, "l2", "0.15", march)).id;
  // proposal (50%): 0.25 -> 0.125, a tie: half to even gives 0.12.
  const auto p1 = s.create_opportunity(deal(c, "p1", "0.25", march, "kim")).id;
  // proposal (50%), April: 0.35 -> 0.175, a tie: half to even gives 0.18.
  const auto p2 = s.create_opportunity(deal(c, "p2", "0.35", april, "kim")).id;
  // negotiation (75%): 1000.01 -> 750.0075 -> 750.01.
  const auto n1 = s.create_opportunity(deal(c, "n1", "1000.01", april)).id;
  // won and lost: left out by default.
  const auto w1 = s.create_opportunity(deal(c, "w1", "500.00", april)).id;
  const auto x1 = s.create_opportunity(deal(c, "x1", "70.00", april)).id;
  static_cast<void>(l1);
  static_cast<void>(l2);
  const Timestamp t = Timestamp::now();
  std::vector<PlannedTransition> moves = {
      {EntityRef::opportunity(p1), "lead", "proposal", "propose", t},
      {EntityRef::opportunity(p2), "lead", "proposal", "propose", t},
      {EntityRef::opportunity(n1), "lead", "proposal", "propose", t},
      {EntityRef::opportunity(n1), "proposal", "negotiation", "negotiate", t},
      {EntityRef::opportunity(w1), "lead", "proposal", "propose", t},
      {EntityRef::opportunity(w1), "proposal", "won", "win", t},
      {EntityRef::opportunity(x1), "lead", "lost", "lose", t},
  };
  s.apply_transitions(p, moves);

  const PipelineValue v = pipeline_value(s, p);
  REQUIRE(v.size() == 4);
  CHECK(v.stage == std::vector<std::string>{"lead", "proposal", "proposal", "negotiation"});
  CHECK(v.owner == std::vector<std::string>{"sam", "kim", "kim", "sam"});
  CHECK(v.close_month == std::vector<std::string>{"2025-03", "2025-03", "2025-04", "2025-04"});
  CHECK(v.count == std::vector<std::int64_t>{2, 1, 1, 1});
  CHECK(v.amount[0] == m("0.20"));
  CHECK(v.weighted_exact[0].to_string() == "0.0200");
  CHECK(v.weighted[0] == m("0.02"));
  CHECK(v.weighted_exact[1].to_string() == "0.1250");
  CHECK(v.weighted[1] == m("0.12"));
  CHECK(v.weighted_exact[2].to_string() == "0.1750");
  CHECK(v.weighted[2] == m("0.18"));
  CHECK(v.weighted_exact[3].to_string() == "750.0075");
  CHECK(v.weighted[3] == m("750.01"));

  // By stage only, terminal stages included: the proposal ties add up before rounding
  // (0.125 + 0.175 = 0.30).
  PipelineOptions by_stage;
  by_stage.by_owner = false;
  by_stage.by_close_month = false;
  by_stage.include_terminal = true;
  const PipelineValue st = pipeline_value(s, p, by_stage);
  CHECK(st.stage == std::vector<std::string>{"lead", "proposal", "negotiation", "won", "lost"});
  CHECK(st.owner == std::vector<std::string>{"", "", "", "", ""});
  CHECK(st.count == std::vector<std::int64_t>{2, 2, 1, 1, 1});
  CHECK(st.weighted[1] == m("0.30"));
  CHECK(st.weighted[3] == m("500.00"));
  CHECK(st.weighted[4] == m("0.00"));
  CHECK(st.amount[4] == m("70.00"));

  // One row for the whole open pipeline.
  PipelineOptions total;
  total.by_stage = total.by_owner = total.by_close_month = false;
  const PipelineValue all = pipeline_value(s, p, total);
  REQUIRE(all.size() == 1);
  CHECK(all.count[0] == 5);
  CHECK(all.amount[0] == m("1000.81"));
  CHECK(all.weighted_exact[0].to_string() == "750.3275");
  CHECK(all.weighted[0] == m("750.33"));
}

TEST_CASE("a pipeline stage without a probability is refused when it holds an opportunity",
          "[pipeline]") {
  const Machine p = Machine::from_json_text(R"({
    "name": "bare",
    "states": [{"name": "open", "initial": true}, {"name": "closed", "terminal": true}],
    "transitions": [{"name": "close", "from": "open", "to": "closed"}]})", FactSchema{});
  Store s = Store::open(":memory:", usd());
  const CustomerId c = s.create_customer(person("C-1")).id;
  CHECK(pipeline_value(s, p).size() == 0);
  Opportunity o = deal(c, "x", "1.00", Date(2025, 1, 1));
  o.pipeline = "bare";
  s.create_opportunity(o);
  CHECK_INVALID(pipeline_value(s, p),
                "pipeline: state 'open' of machine 'bare' has no win probability (opportunity 1)");
}

TEST_CASE("evaluate_machine runs a pipeline's automatic rule over its opportunities",
          "[store][opportunity]") {
  Store s = Store::open(":memory:", usd());
  const Customer ada = s.create_customer(person("C-1"));
  const Machine shipped = default_machine("sales_pipeline", FactSchema{});
  const Opportunity old = s.create_opportunity(deal(ada.id, "Old", "100.00", Date(2025, 1, 1)));
  const Opportunity fresh = s.create_opportunity(deal(ada.id, "New", "50.00", Date(2025, 1, 1)));
  const Timestamp now = Timestamp::now();
  const Timestamp long_ago(now.micros() - std::int64_t{200} * 86'400'000'000);
  TransitionRequest back;
  back.at = long_ago;
  s.transition(shipped, EntityRef::opportunity(old.id), "needs_analysis", back);

  EvaluateOptions o;
  o.kind = EntityKind::opportunity;
  const EvaluateResult r = evaluate_machine(s, shipped, now, o);
  CHECK(r.evaluated == 2);
  REQUIRE(r.changes.size() == 1);  // 200 days in needs_analysis >= stale_after_days (180)
  CHECK(r.changes[0].entity == EntityRef::opportunity(old.id));
  CHECK(r.changes[0].from == "needs_analysis");
  CHECK(r.changes[0].to == "lost");
  CHECK(r.changes[0].rule == "stale");
  CHECK(s.state(shipped, EntityRef::opportunity(fresh.id)).state == "qualification");

  // A machine reading customer facts cannot run over opportunities; customer is for customers.
  const Machine life = default_machine("customer_lifecycle", standard_fact_schema());
  CHECK_THROWS_WITH(evaluate_machine(s, life, now, o),
                    Catch::Matchers::Contains("reads customer facts"));
  o.customer = ada.id;
  CHECK_THROWS_WITH(evaluate_machine(s, shipped, now, o),
                    Catch::Matchers::Contains("options.customer is for kind customer"));
}
