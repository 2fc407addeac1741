// Lifecycle states, transitions, history and listeners in the store (crmkit/store/store.hpp,
// the engine block), with a small machine of its own and with every default machine
// (crmkit/lifecycle/defaults.hpp).
#include <catch2/catch.hpp>

#include <deque>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "crmkit/base/error.hpp"
#include "crmkit/lifecycle/defaults.hpp"
#include "crmkit/lifecycle/machine.hpp"
#include "crmkit/store/store.hpp"
#include "jsonl_reseal.hpp"
#include "support.hpp"

using namespace crmkit;
using namespace crmkit::test;

namespace {

// new -> qualified (manual, or automatic on a first purchase) -> won; lost from new or qualified
// with a reason; qualified -> new only automatically.
constexpr const char* kDeals = R"({
  "name": "deal_flow",
  "states": [
    {"name": "new", "initial": true},
    {"name": "qualified"},
    {"name": "won", "terminal": true},
    {"name": "lost", "terminal": true}
  ],
  "transitions": [
    {"name": "qualify", "from": "new", "to": "qualified"},
    {"name": "auto_qualify", "from": "new", "to": "qualified", "manual": false,
     "when": {">=": [{"var": "purchase_count"}, 1]}},
    {"name": "requalify", "from": "qualified", "to": "new", "manual": false,
     "when": {"==": [{"var": "purchase_count"}, 0]}},
    {"name": "win", "from": "qualified", "to": "won"},
    {"name": "lose", "from": ["new", "qualified"], "to": "lost", "reason_required": true}
  ]
})";

FactSchema deal_facts() {
  FactSchema f;
  f.add("purchase_count", FactType::integer);
  return f;
}

Machine deals() { return Machine::from_json_text(kDeals, deal_facts()); }

// The standard facts (the names and types the default machines may read).
FactSchema standard_facts() {
  FactSchema f;
  for (const char* n : {"purchase_count", "days_since_first_purchase", "days_since_last_purchase",
                        "purchases_30d", "purchases_90d", "purchases_180d", "purchases_365d",
                        "days_since_created", "interactions_90d", "interactions_365d",
                        "commitments_obtained_365d", "days_since_last_interaction",
                        "days_since_last_service_contact", "referrals_made", "events_attended",
                        "events_attended_365d", "last_nps", "last_csat", "rfm.r", "rfm.f",
                        "rfm.m"})
    f.add(n, FactType::integer);
  for (const char* k : {"call", "visit", "email", "message", "gift", "hospitality", "site_visit",
                        "event", "meeting", "other", "care", "information", "deal", "service",
                        "intelligence"})
    f.add(std::string("interactions_365d.") + k, FactType::integer);
  for (const char* n : {"net_revenue", "average_order_value", "net_revenue_90d",
                        "net_revenue_365d", "p_alive", "expected_purchases_365d"})
    f.add(n, FactType::number);
  f.add("consent_any", FactType::boolean);
  for (const char* c : {"email", "phone", "sms", "im", "post", "visit"})
    f.add(std::string("consent.") + c, FactType::boolean);
  f.add("tags", FactType::text_list);
  f.add("rfm.segment", FactType::text);
  return f;
}

const Timestamp kT0 = Timestamp::parse("2024-01-01T00:00:00Z");

// USD amounts (support.hpp's m() is hidden by the machines named m here).
Money m_(const char* text) { return Money::parse(text, kUsd); }

std::string error_text(const Error& e) { return e.what(); }

}  // namespace

TEST_CASE("an entity is in the initial state since its creation until a transition",
          "[store][lifecycle]") {
  Store s = Store::open(":memory:", usd());
  const Machine m = deals();
  const Customer c = s.create_customer(person("C-1"));
  const EntityState st = s.state(m, EntityRef::customer(c.id));
  CHECK(st.state == "new");
  CHECK(st.since == c.created_at);
  CHECK_FALSE(st.recorded);
  CHECK_ERROR(s.state(m, EntityRef::customer(9)), ErrorCode::not_found,
              "entity: no customer with id 9");
  CHECK_ERROR(s.state(m, EntityRef::opportunity(1)), ErrorCode::not_found,
              "entity: no opportunity with id 1");
}

TEST_CASE("a manual transition writes the state, one history row and one audit entry",
          "[store][lifecycle]") {
  Store s = Store::open(":memory:", usd());
  const Machine m = deals();
  const CustomerId a = s.create_customer(person("C-1")).id;
  const CustomerId b = s.create_customer(person("C-2")).id;
  TransitionRequest req;
  req.reason = "met at the fair";
  req.actor = "sam";
  req.at = kT0;
  const TransitionRecord r = s.transition(m, EntityRef::customer(a), "qualified", req,
                                          {"api-user", "crm"});
  CHECK(r.id == 1);
  CHECK(r.machine == "deal_flow");
  CHECK(r.entity == EntityRef::customer(a));
  CHECK(r.from == "new");
  CHECK(r.to == "qualified");
  CHECK(r.at == kT0);
  CHECK(r.rule.empty());
  CHECK(r.actor == "sam");
  CHECK(r.reason == "met at the fair");

  const EntityState st = s.state(m, EntityRef::customer(a));
  CHECK(st.state == "qualified");
  CHECK(st.since == kT0);
  CHECK(st.recorded);

  // The actor defaults to the write's actor, the time to the write time.
  const TransitionRecord r2 = s.transition(m, EntityRef::customer(a), "won", {}, {"kim", ""});
  CHECK(r2.actor == "kim");
  CHECK(r2.at == r2.recorded_at);

  const TransitionColumns h = s.history("deal_flow");
  REQUIRE(h.size() == 2);
  CHECK(h.id == std::vector<std::int64_t>{1, 2});
  CHECK(h.from == std::vector<std::string>{"new", "qualified"});
  CHECK(h.to == std::vector<std::string>{"qualified", "won"});
  CHECK(h.actor == std::vector<std::string>{"sam", "kim"});
  CHECK(h.reason == std::vector<std::string>{"met at the fair", ""});
  CHECK(h.at_micros[0] == kT0.micros());
  CHECK(s.history("deal_flow", EntityRef::customer(b)).size() == 0);
  CHECK(s.history("other").size() == 0);

  const auto audit = s.audit_log(a);
  REQUIRE(audit.size() == 3);
  CHECK(audit[1].action == "transition");
  CHECK(audit[1].entity == "customer");
  CHECK(audit[1].field == "deal_flow");
  CHECK(audit[1].old_value == R"("new")");
  CHECK(audit[1].new_value == R"("qualified")");
  CHECK(audit[1].actor == "api-user");
  CHECK(audit[1].source == "crm");

  const StateColumns cols = s.states(m);
  CHECK(cols.entity_id == std::vector<std::int64_t>{a, b});
  CHECK(cols.state == std::vector<std::string>{"won", "new"});
  CHECK(cols.recorded == std::vector<std::uint8_t>{1, 0});
  CHECK(cols.since_micros[0] == r2.at.micros());
  CHECK(cols.since_micros[1] == s.get_customer(b).created_at.micros());
}

TEST_CASE("a refused manual transition changes nothing, byte for byte", "[store][lifecycle]") {
  Store s = Store::open(":memory:", usd());
  const Machine m = deals();
  const CustomerId a = s.create_customer(person("C-1")).id;
  TransitionRequest at0;
  at0.at = kT0;
  s.transition(m, EntityRef::customer(a), "qualified", at0);
  const std::string before = dump(s);
  const auto e = EntityRef::customer(a);

  // No edge.
  auto no_edge = catch_error([&] { s.transition(m, e, "new"); });
  CHECK(no_edge.code() == ErrorCode::invalid_transition);
  CHECK_THAT(error_text(no_edge), Catch::Matchers::Contains("'qualified'") &&
                                      Catch::Matchers::Contains("'new'"));
  // Reason required.
  auto no_reason = catch_error([&] { s.transition(m, e, "lost"); });
  CHECK(no_reason.code() == ErrorCode::invalid_transition);
  CHECK_THAT(error_text(no_reason), Catch::Matchers::Contains("requires a reason"));
  TransitionRequest blank;
  blank.reason = "   ";
  CHECK(catch_error([&] { s.transition(m, e, "lost", blank); }).code() ==
        ErrorCode::invalid_transition);
  // Unknown state.
  CHECK(catch_error([&] { s.transition(m, e, "vanished"); }).code() == ErrorCode::not_found);
  // A time before the current state's since, or after the write.
  TransitionRequest early;
  early.at = Timestamp::parse("2023-12-31T23:59:59Z");
  CHECK_INVALID(s.transition(m, e, "won", early),
                "at: 2023-12-31T23:59:59Z is before the current state's since "
                "(2024-01-01T00:00:00Z)");
  TransitionRequest late;
  late.at = Timestamp::parse("2999-01-01T00:00:00Z");
  CHECK_INVALID_PREFIX(s.transition(m, e, "won", late),
                       "at: 2999-01-01T00:00:00Z is after the time of the write (");
  CHECK(dump(s) == before);

  // Automatic only: new -> qualified is manual through "qualify", but qualified -> new is not.
  const CustomerId b = s.create_customer(person("C-2")).id;
  const std::string before_b = dump(s);
  auto automatic = catch_error([&] { s.transition(m, EntityRef::customer(b), "won"); });
  CHECK(automatic.code() == ErrorCode::invalid_transition);
  CHECK(dump(s) == before_b);

  // Soft-deleted and erased customers take no manual transition.
  s.delete_customer(b);
  const std::string deleted = dump(s);
  CHECK_ERROR(s.transition(m, EntityRef::customer(b), "qualified"), ErrorCode::conflict,
              "entity: customer 2 is deleted (restore it first)");
  CHECK(dump(s) == deleted);
  const CustomerId c = s.create_customer(person("C-3")).id;
  s.erase_customer(c);
  CHECK_ERROR(s.transition(m, EntityRef::customer(c), "qualified"), ErrorCode::conflict,
              "entity: customer 3 is erased");
}

TEST_CASE("apply_transitions writes a batch in order and refuses it whole on a conflict",
          "[store][lifecycle]") {
  Store s = Store::open(":memory:", usd());
  const Machine m = deals();
  const CustomerId a = s.create_customer(person("C-1")).id;
  const CustomerId b = s.create_customer(person("C-2")).id;
  const Timestamp t1 = kT0, t2 = Timestamp::parse("2024-02-01T00:00:00Z");

  // A dry run: the rows that would be written, nothing written.
  const std::vector<PlannedTransition> batch = {
      {EntityRef::customer(a), "new", "qualified", "auto_qualify", t1},
      {EntityRef::customer(b), "new", "qualified", "auto_qualify", t1},
      {EntityRef::customer(a), "qualified", "new", "requalify", t2},
  };
  const std::string empty = dump(s);
  const auto planned = s.check_transitions(m, batch);
  REQUIRE(planned.size() == 3);
  CHECK(planned[0].id == 0);
  CHECK(planned[2].from == "qualified");
  CHECK(planned[2].rule == "requalify");
  CHECK(planned[2].actor == "system");
  CHECK(dump(s) == empty);

  const auto written = s.apply_transitions(m, batch, {"evaluator", "batch"});
  REQUIRE(written.size() == 3);
  CHECK(written[0].id == 1);
  CHECK(written[2].id == 3);
  CHECK(written[2].actor == "evaluator");
  CHECK(s.state(m, EntityRef::customer(a)).state == "new");
  CHECK(s.state(m, EntityRef::customer(a)).since == t2);
  CHECK(s.state(m, EntityRef::customer(b)).state == "qualified");
  const TransitionColumns h = s.history("deal_flow", EntityRef::customer(a));
  CHECK(h.rule == std::vector<std::string>{"auto_qualify", "requalify"});
  const auto audit = s.audit_log();
  CHECK(audit.back().entity == "lifecycle");
  CHECK(audit.back().action == "apply_transitions");
  CHECK(audit.back().field == "deal_flow");
  CHECK(audit.back().new_value == R"({"first_id":1,"last_id":3,"transitions":3})");

  // A stale expectation in the middle refuses the whole batch: nothing of it is written.
  const std::string before = dump(s);
  const std::vector<PlannedTransition> stale = {
      {EntityRef::customer(b), "qualified", "new", "requalify", t2},
      {EntityRef::customer(a), "qualified", "new", "requalify", t2},
  };
  CHECK_ERROR(s.apply_transitions(m, stale), ErrorCode::conflict,
              "changes[1].from: customer 1 is in 'new', not 'qualified'");
  CHECK_ERROR(s.check_transitions(m, stale), ErrorCode::conflict,
              "changes[1].from: customer 1 is in 'new', not 'qualified'");
  CHECK(dump(s) == before);

  // No such edge, a rule that does not make that move, an unknown entity, a time before since.
  const std::vector<PlannedTransition> no_edge = {
      {EntityRef::customer(b), "qualified", "lost", "lose", t2},
      {EntityRef::customer(a), "new", "won", "", t2}};
  CHECK_ERROR(s.apply_transitions(m, no_edge), ErrorCode::invalid_transition,
              "changes[1].to: machine 'deal_flow' has no transition from 'new' to 'won'");
  const std::vector<PlannedTransition> wrong_rule = {
      {EntityRef::customer(a), "new", "qualified", "win", t2}};
  CHECK_ERROR(s.apply_transitions(m, wrong_rule), ErrorCode::invalid_transition,
              "changes[0].rule: machine 'deal_flow' has no transition 'win' from 'new' to "
              "'qualified'");
  const std::vector<PlannedTransition> unknown = {
      {EntityRef::customer(77), "new", "qualified", "auto_qualify", t2}};
  CHECK_ERROR(s.apply_transitions(m, unknown), ErrorCode::not_found,
              "changes[0].entity: no customer with id 77");
  CHECK_INVALID(s.apply_transitions(m, std::vector<PlannedTransition>{
                                           {EntityRef::customer(a), "new", "qualified",
                                            "auto_qualify", kT0}}),
                "changes[0].at: 2024-01-01T00:00:00Z is before the current state's since "
                "(2024-02-01T00:00:00Z)");
  CHECK(dump(s) == before);
  CHECK(s.apply_transitions(m, {}).empty());
  CHECK(dump(s) == before);
}

TEST_CASE("listeners hear each committed transition once, in order; errors are reported",
          "[store][lifecycle][listeners]") {
  Store s = Store::open(":memory:", usd());
  const Machine m = deals();
  const CustomerId a = s.create_customer(person("C-1")).id;
  const CustomerId b = s.create_customer(person("C-2")).id;
  std::vector<std::string> first, third;
  const ListenerId l1 = s.add_transition_listener([&](const TransitionRecord& r) {
    first.push_back(std::to_string(r.id) + ":" + std::to_string(r.entity.id) + ":" + r.from +
                    ">" + r.to);
  });
  const ListenerId l2 = s.add_transition_listener([&](const TransitionRecord& r) {
    if (r.entity.id == a) throw std::runtime_error("listener 2 failed on " + r.to);
  });
  const ListenerId l3 = s.add_transition_listener([&](const TransitionRecord& r) {
    third.push_back(std::to_string(r.id));
    throw 42;  // not a std::exception
  });
  CHECK(l1 == 1);
  CHECK(l2 == 2);
  CHECK(l3 == 3);

  const TransitionRecord r = s.transition(m, EntityRef::customer(a), "qualified");
  CHECK(r.id == 1);  // the failing listeners did not undo the commit
  CHECK(s.state(m, EntityRef::customer(a)).state == "qualified");
  s.apply_transitions(m, std::vector<PlannedTransition>{
                             {EntityRef::customer(b), "new", "qualified", "auto_qualify", kT0},
                             {EntityRef::customer(a), "qualified", "won", "win", Timestamp::now()}});
  CHECK(first == std::vector<std::string>{"1:1:new>qualified", "2:2:new>qualified",
                                          "3:1:qualified>won"});
  CHECK(third == std::vector<std::string>{"1", "2", "3"});
  const auto errors = s.take_listener_errors();
  REQUIRE(errors.size() == 5);
  CHECK(errors[0].listener == 2);
  CHECK(errors[0].transition_id == 1);
  CHECK(errors[0].message == "listener 2 failed on qualified");
  CHECK(errors[1].listener == 3);
  CHECK(errors[1].message == "unknown exception");
  CHECK(errors[2].listener == 3);
  CHECK(errors[2].transition_id == 2);
  CHECK(errors[3].listener == 2);
  CHECK(errors[3].transition_id == 3);
  CHECK(errors[3].message == "listener 2 failed on won");
  CHECK(s.take_listener_errors().empty());

  // Nothing is heard for a refused write, a refused batch or a dry run.
  const CustomerId c = s.create_customer(person("C-3")).id;
  CHECK_THROWS(s.transition(m, EntityRef::customer(c), "lost"));
  CHECK_THROWS(s.apply_transitions(m, std::vector<PlannedTransition>{
                                          {EntityRef::customer(c), "new", "qualified", "", kT0},
                                          {EntityRef::customer(c), "new", "qualified", "", kT0}}));
  s.check_transitions(m, std::vector<PlannedTransition>{
                             {EntityRef::customer(c), "new", "qualified", "", kT0}});
  CHECK(first.size() == 3);
  CHECK(third.size() == 3);

  // A removed listener is not called again; a listener may write to the store itself.
  CHECK(s.remove_transition_listener(l2));
  CHECK(s.remove_transition_listener(l3));
  CHECK_FALSE(s.remove_transition_listener(l3));
  s.add_transition_listener([&](const TransitionRecord& rec) {
    if (rec.entity.id == c && rec.to == "qualified") {
      TransitionRequest why;
      why.reason = "follow-up from a listener";
      s.transition(m, EntityRef::customer(c), "lost", why);
    }
  });
  s.transition(m, EntityRef::customer(c), "qualified");
  CHECK(first.back() == "5:3:qualified>lost");
  CHECK(s.state(m, EntityRef::customer(c)).state == "lost");
  CHECK(s.take_listener_errors().empty());
}

TEST_CASE("opportunities move through their own pipeline only", "[store][lifecycle]") {
  Store s = Store::open(":memory:", usd());
  const Machine m = deals();
  const CustomerId c = s.create_customer(person("C-1")).id;
  Opportunity o;
  o.customer = c;
  o.name = "Fleet";
  o.amount = m_("100.00");
  o.expected_close = Date(2025, 6, 30);
  o.pipeline = "deal_flow";
  const Opportunity stored = s.create_opportunity(o);
  o.pipeline = "other_pipeline";
  const Opportunity other = s.create_opportunity(o);
  const auto r = s.transition(m, EntityRef::opportunity(stored.id), "qualified");
  CHECK(r.entity.kind == EntityKind::opportunity);
  CHECK(s.state(m, EntityRef::opportunity(stored.id)).state == "qualified");
  CHECK_INVALID(s.transition(m, EntityRef::opportunity(other.id), "qualified"),
                "entity: opportunity 2 is tracked by pipeline 'other_pipeline', not by "
                "'deal_flow'");
  const StateColumns st = s.states(m, EntityKind::opportunity);
  CHECK(st.entity_id == std::vector<std::int64_t>{stored.id});
  CHECK(st.state == std::vector<std::string>{"qualified"});
  const auto audit = s.audit_log();
  CHECK(audit.back().entity == "opportunity");
  CHECK(audit.back().action == "transition");
  // The customer's states in the same machine are separate.
  CHECK(s.state(m, EntityRef::customer(c)).state == "new");
}

TEST_CASE("erasure keeps the history and blanks its reasons; export and import carry it all",
          "[store][lifecycle]") {
  Store s = Store::open(":memory:", usd());
  const Machine m = deals();
  const CustomerId a = s.create_customer(person("C-1", "Ann", "ann@example.com")).id;
  const CustomerId b = s.create_customer(person("C-2")).id;
  Opportunity o;
  o.customer = a;
  o.name = "Ann's kitchen";
  o.amount = m_("2500.00");
  o.expected_close = Date(2025, 6, 30);
  o.pipeline = "deal_flow";
  const OpportunityId oid = s.create_opportunity(o).id;
  TransitionRequest why;
  why.reason = "Ann called about her divorce";
  why.at = kT0;
  s.transition(m, EntityRef::customer(a), "lost", why);
  s.transition(m, EntityRef::opportunity(oid), "lost", why);
  TransitionRequest keep;
  keep.reason = "kept";
  keep.at = kT0;
  s.transition(m, EntityRef::customer(b), "lost", keep);

  // Round trip first: byte-identical, states and history included.
  const std::string exported = dump(s);
  CHECK_THAT(exported, Catch::Matchers::Contains(R"({"opportunity":{"amount":{"amount":"2500.00")"));
  CHECK_THAT(exported, Catch::Matchers::Contains(
                           R"({"state":{"entity_id":1,"entity_kind":"customer","machine":"deal_flow","since":"2024-01-01T00:00:00Z","state":"lost"}})"));
  CHECK_THAT(exported, Catch::Matchers::Contains(R"({"transition":{"actor":"system")"));
  Store copy = Store::open(":memory:", usd());
  std::istringstream in(exported);
  copy.import_jsonl(in);
  CHECK(dump(copy) == exported);
  CHECK(copy.state(m, EntityRef::opportunity(oid)).state == "lost");
  CHECK(copy.history("deal_flow").size() == 3);
  CHECK(copy.get_opportunity(oid).amount == m_("2500.00"));

  s.erase_customer(a);
  const TransitionColumns h = s.history("deal_flow");
  REQUIRE(h.size() == 3);
  CHECK(h.to == std::vector<std::string>{"lost", "lost", "lost"});
  CHECK(h.reason == std::vector<std::string>{"", "", "kept"});
  CHECK(s.state(m, EntityRef::customer(a)).state == "lost");
  const Opportunity erased = s.get_opportunity(oid);
  CHECK(erased.name == "[erased]");
  CHECK(erased.amount == m_("2500.00"));
  const std::string after = dump(s);
  CHECK(after.find("divorce") == std::string::npos);
  CHECK(after.find("kitchen") == std::string::npos);
  CHECK(after.find("ann@example.com") == std::string::npos);
}

TEST_CASE("every default machine: each manual move is allowed, every other move refused",
          "[store][lifecycle][defaults]") {
  const FactSchema facts = standard_facts();
  const std::vector<std::string> names = default_machine_names();
  REQUIRE(names.size() >= 4);
  for (const std::string& name : names) {
    INFO("machine " << name);
    const Machine m = default_machine(name, facts);
    Store s = Store::open(":memory:", usd());
    std::size_t serial = 0;
    // Puts a new entity (a customer, or for a pipeline an opportunity) into `state` through
    // automatic changes along a shortest path from the initial state.
    const bool pipeline = [&] {
      for (const auto& st : m.states())
        if (st.probability) return true;
      return false;
    }();
    const CustomerId owner = s.create_customer(person("OWNER")).id;
    auto entity_in = [&](const std::string& state) {
      ++serial;
      EntityRef e;
      if (pipeline) {
        Opportunity o;
        o.customer = owner;
        o.name = "deal " + std::to_string(serial);
        o.amount = m_("10.00");
        o.expected_close = Date(2025, 1, 1);
        o.pipeline = m.name();
        e = EntityRef::opportunity(s.create_opportunity(o).id);
      } else {
        e = EntityRef::customer(s.create_customer(person("C-" + std::to_string(serial))).id);
      }
      // Breadth-first search over all transitions.
      std::map<std::string, std::pair<std::string, std::string>> prev;  // state -> (from, rule)
      std::deque<std::string> todo = {m.initial_state()};
      std::set<std::string> seen = {m.initial_state()};
      while (!todo.empty()) {
        const std::string cur = todo.front();
        todo.pop_front();
        for (const auto& t : m.transitions())
          for (const auto& f : t.from)
            if (f == cur && !seen.count(t.to)) {
              seen.insert(t.to);
              prev[t.to] = {cur, t.name};
              todo.push_back(t.to);
            }
      }
      REQUIRE(seen.count(state) == 1);
      std::vector<PlannedTransition> path;
      for (std::string at = state; at != m.initial_state(); at = prev[at].first)
        path.insert(path.begin(), {e, prev[at].first, at, prev[at].second, kT0});
      s.apply_transitions(m, path);
      REQUIRE(s.state(m, e).state == state);
      return e;
    };

    std::size_t allowed = 0, refused = 0;
    for (const auto& from : m.states()) {
      if (from.terminal) continue;
      for (const auto& to : m.states()) {
        INFO(from.name << " -> " << to.name);
        const TransitionDef* manual = nullptr;
        for (const auto& t : m.transitions())
          for (const auto& f : t.from)
            if (f == from.name && t.to == to.name && t.manual && !manual) manual = &t;
        const EntityRef e = entity_in(from.name);
        if (manual) {
          if (manual->reason_required) {
            const std::string before = dump(s);
            const Error err = catch_error([&] { s.transition(m, e, to.name); });
            CHECK(err.code() == ErrorCode::invalid_transition);
            CHECK(dump(s) == before);
          }
          TransitionRequest why;
          why.reason = "checked by hand";
          const TransitionRecord r = s.transition(m, e, to.name, why);
          CHECK(r.from == from.name);
          CHECK(s.state(m, e).state == to.name);
          ++allowed;
        } else {
          const std::string before = dump(s);
          TransitionRequest why;
          why.reason = "checked by hand";
          const Error err = catch_error([&] { s.transition(m, e, to.name, why); });
          CHECK(err.code() == ErrorCode::invalid_transition);
          CHECK(dump(s) == before);
          ++refused;
        }
      }
    }
    CHECK(allowed > 0);
    CHECK(refused > 0);
  }
}

TEST_CASE("import_jsonl checks the lifecycle rows as live writes do, and a refusal imports nothing",
          "[store][lifecycle][jsonl]") {
  // Review fix: states and transitions were inserted as read: a state of a missing customer, a
  // history that does not chain or a state row that disagrees with its history was accepted.
  Store s = Store::open(":memory:", usd());
  const Machine m = deals();
  const CustomerId a = s.create_customer(person("C-1")).id;
  s.create_customer(person("C-2"));
  Opportunity o;
  o.customer = a;
  o.name = "kitchen";
  o.amount = m_("100.00");
  o.expected_close = Date(2025, 6, 30);
  o.pipeline = "deal_flow";
  const OpportunityId oid = s.create_opportunity(o).id;
  const Timestamp t1 = Timestamp::parse("2024-01-02T00:00:00Z");
  TransitionRequest r0, r1;
  r0.at = kT0;
  r1.at = t1;
  s.transition(m, EntityRef::customer(a), "qualified", r0);  // history row 1
  s.transition(m, EntityRef::customer(a), "won", r1);        // 2
  s.transition(m, EntityRef::opportunity(oid), "qualified", r0);  // 3
  const std::string good = dump(s);
  {
    Store copy = Store::open(":memory:", usd());
    std::istringstream in(good);
    copy.import_jsonl(in);
    CHECK(dump(copy) == good);
  }
  std::vector<std::string> lines;
  {
    std::istringstream in(good);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  auto join = [](const std::vector<std::string>& ls) {
    std::string out;
    for (const auto& l : ls) out += l + "\n";
    return out;
  };
  // The export with the first occurrence of `from` replaced by `to`.
  auto edited = [&](const std::string& from, const std::string& to) {
    std::string text = good;
    const auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    return reseal(text.replace(at, from.size(), to));  // counts and checksum agree (issue 9)
  };
  // The export without the lines containing `needle`.
  auto without = [&](const std::string& needle) {
    std::vector<std::string> kept;
    for (const auto& l : lines)
      if (l.find(needle) == std::string::npos) kept.push_back(l);
    REQUIRE(kept.size() < lines.size());
    return reseal(join(kept));
  };
  auto refused = [&](const std::string& text) {
    Store copy = Store::open(":memory:", usd());
    const std::string empty = dump(copy);
    std::istringstream in(text);
    const Error e = catch_error([&] { copy.import_jsonl(in); });
    CHECK(dump(copy) == empty);
    return e;
  };
  auto line_of = [&](const std::string& needle) {
    for (std::size_t i = 0; i < lines.size(); ++i)
      if (lines[i].find(needle) != std::string::npos) return i + 1;
    FAIL("no line with " << needle);
    return std::size_t{0};
  };
  const std::string state_a = R"({"state":{"entity_id":1,"entity_kind":"customer")";
  const std::string state_o = R"({"state":{"entity_id":1,"entity_kind":"opportunity")";

  Error e = refused(edited(state_a, R"({"state":{"entity_id":9,"entity_kind":"customer")"));
  CHECK(e.code() == ErrorCode::corrupt);  // every refused restore (issue 9)
  CHECK(std::string(e.what()) == "import: line " + std::to_string(line_of(state_a)) +
                                     ": state.entity_id: no customer with id 9");
  e = refused(edited(state_o + R"(,"machine":"deal_flow")", state_o + R"(,"machine":"other")"));
  CHECK(e.code() == ErrorCode::corrupt);
  CHECK(std::string(e.what()) ==
        "import: line " + std::to_string(line_of(state_o)) +
            ": state.entity_id: opportunity 1 is tracked by pipeline 'deal_flow', not by 'other'");
  e = refused(edited(R"("state":"won")", R"("state":"qualified")"));
  CHECK(e.code() == ErrorCode::corrupt);
  CHECK(std::string(e.what()) ==
        "import: state of customer 1 in 'deal_flow': 'qualified' since 2024-01-02T00:00:00Z, but "
        "its last transition (2) entered 'won' at 2024-01-02T00:00:00Z");
  e = refused(edited(R"("from":"qualified","id":2)", R"("from":"new","id":2)"));
  CHECK(e.code() == ErrorCode::corrupt);
  CHECK(std::string(e.what()) == "import: transition 2: customer 1 in 'deal_flow' moves from "
                                 "'new', but its previous transition entered 'qualified'");
  e = refused(edited(R"({"transition":{"actor":"system","at":"2024-01-02T00:00:00Z")",
                     R"({"transition":{"actor":"system","at":"2023-12-31T00:00:00Z")"));
  CHECK(e.code() == ErrorCode::corrupt);
  CHECK(std::string(e.what()) ==
        "import: transition 2: customer 1 in 'deal_flow' takes effect at 2023-12-31T00:00:00Z, "
        "before its previous transition (2024-01-01T00:00:00Z)");
  e = refused(without(state_a));
  CHECK(e.code() == ErrorCode::corrupt);
  CHECK(std::string(e.what()) ==
        "import: transition 1: customer 1 in 'deal_flow' has no state row");
  // A repeated opportunity id replaced the first opportunity without an error.
  {
    const std::size_t n = line_of(R"({"opportunity":)");
    std::vector<std::string> twice = lines;
    std::string copy = lines[n - 1];
    copy.replace(copy.find("kitchen"), 7, "garage");
    twice.insert(twice.begin() + static_cast<std::ptrdiff_t>(n), copy);
    e = refused(reseal(join(twice)));
    CHECK(e.code() == ErrorCode::corrupt);
    CHECK(std::string(e.what()) == "import: line " + std::to_string(n + 1) +
                                       ": opportunity.id: 1 appears twice");
  }
  e = refused(without(R"("entity_kind":"customer","from")"));
  CHECK(e.code() == ErrorCode::corrupt);
  CHECK(std::string(e.what()) == "import: state of customer 1 in 'deal_flow': 'won' since "
                                 "2024-01-02T00:00:00Z, but it has no transition");
}
