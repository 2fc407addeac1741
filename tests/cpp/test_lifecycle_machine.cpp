// State machines defined in JSON (crmkit/lifecycle/machine.hpp): loading, every load error with
// its JSON path, the automatic-cycle analysis, manual checks and automatic evaluation.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "crmkit/crmkit.hpp"
#include "lifecycle_support.hpp"

using namespace crmkit;
using lifecycle_test::error_of;
using lifecycle_test::steps;
using lifecycle_test::table;

namespace {

FactSchema small_facts() {
  FactSchema s;
  s.add("x", FactType::integer);
  s.add("y", FactType::number);
  s.add("ok", FactType::boolean);
  s.add("label", FactType::text);
  return s;
}

// A machine a -> b -> c (terminal), with states and transitions given as JSON fragments.
std::string machine(const std::string& states, const std::string& transitions,
                    const std::string& extra = "") {
  return R"({"name": "m", )" + extra + R"("states": [)" + states + R"(], "transitions": [)" +
         transitions + "]}";
}

const std::string kStates =
    R"({"name": "a", "initial": true}, {"name": "b", "active": true}, {"name": "c", "terminal": true})";

std::string load_error(const std::string& text, MachineOptions options = {}) {
  const FactSchema facts = small_facts();
  return error_of([&] { Machine::from_json_text(text, facts, options); });
}

}  // namespace

TEST_CASE("a machine loads from JSON with its states, transitions and parameters") {
  const std::string text = R"({
    "name": "deal", "description": "a small pipeline",
    "parameters": {"big": 10, "late": 30},
    "states": [
      {"name": "open", "initial": true, "active": true, "description": "new", "playbook": ["call", "visit"], "probability": 0.25},
      {"name": "hot", "order": 7, "active": true, "probability": 0.5},
      {"name": "won", "terminal": true, "probability": 1},
      {"name": "lost", "terminal": true, "probability": 0}],
    "transitions": [
      {"name": "heat", "from": "open", "to": "hot", "when": {">=": [{"var": "x"}, {"param": "big"}]}},
      {"name": "win", "from": ["open", "hot"], "to": "won", "description": "signed"},
      {"name": "lose", "from": "*", "to": "lost", "reason_required": true},
      {"name": "expire", "from": "*", "to": "lost", "manual": false,
       "when": {">=": [{"var": "days_in_stage"}, {"param": "late"}]}}]})";
  const Machine m = Machine::from_json_text(text, small_facts());
  CHECK(m.name() == "deal");
  CHECK(m.description() == "a small pipeline");
  CHECK(m.initial_state() == "open");
  REQUIRE(m.states().size() == 4);
  CHECK(m.states()[0].playbook == std::vector<std::string>{"call", "visit"});
  CHECK(m.states()[0].order == 0);
  CHECK(m.states()[1].order == 7);
  CHECK(m.states()[2].order == 2);
  CHECK(m.state("hot").probability == std::optional<double>(0.5));
  CHECK(m.state("won").terminal);
  CHECK_FALSE(m.state("won").active);
  CHECK(m.state_index("lost") == 3);
  CHECK(m.has_state("hot"));
  CHECK_FALSE(m.has_state("cold"));
  CHECK(error_of([&] { m.state("cold"); }, ErrorCode::not_found) == "machine 'deal': unknown state 'cold'");
  REQUIRE(m.transitions().size() == 4);
  // "*" is every non-terminal state except the target.
  CHECK(m.transitions()[2].from == std::vector<std::string>{"open", "hot"});
  CHECK(m.transitions()[2].from_any);
  CHECK(m.transitions()[0].when == R"({">=":[{"var":"x"},10]})");
  CHECK(m.transitions()[0].automatic());
  CHECK_FALSE(m.transitions()[1].automatic());
  CHECK(m.transitions()[3].index == 3);
  CHECK(m.parameters().at("late") == 30);
  CHECK(m.facts_used() == std::vector<std::string>{"x"});
  CHECK(m.uses_days_in_stage());
  CHECK_FALSE(m.uses_stage());

  MachineOptions o;
  o.parameters["big"] = 2.5;
  const Machine m2 = Machine::from_json_text(text, small_facts(), o);
  CHECK(m2.transitions()[0].when == R"({">=":[{"var":"x"},2.5]})");
  // A copy is an equal, independent value.
  const Machine copy = m2;
  CHECK(copy.transitions()[0].when == m2.transitions()[0].when);
}

TEST_CASE("check_manual returns the edge that allows a move or says why it is refused") {
  const std::string text = machine(
      kStates + R"(, {"name": "d"})",
      R"({"name": "go", "from": "a", "to": "b"},
         {"name": "auto_only", "from": "a", "to": "d", "manual": false, "when": {">": [{"var": "x"}, 1]}},
         {"name": "finish", "from": ["b", "d"], "to": "c", "reason_required": true},
         {"name": "finish_auto", "from": "b", "to": "c", "manual": false, "when": {"var": "ok"}})");
  const Machine m = Machine::from_json_text(text, small_facts());
  CHECK(m.check_manual("a", "b").name == "go");
  CHECK(m.check_manual("b", "c", "customer signed").name == "finish");
  CHECK(error_of([&] { m.check_manual("a", "c"); }, ErrorCode::invalid_transition) ==
        "machine 'm': from 'a' to 'c': no such transition");
  CHECK(error_of([&] { m.check_manual("c", "a"); }, ErrorCode::invalid_transition) ==
        "machine 'm': from 'c' to 'a': no such transition");
  CHECK(error_of([&] { m.check_manual("a", "d"); }, ErrorCode::invalid_transition) ==
        "machine 'm': from 'a' to 'd': transition 'auto_only' is automatic only");
  CHECK(error_of([&] { m.check_manual("b", "c", "  "); }, ErrorCode::invalid_transition) ==
        "machine 'm': from 'b' to 'c': transition 'finish' requires a reason");
  CHECK(error_of([&] { m.check_manual("a", "zz"); }, ErrorCode::not_found) ==
        "machine 'm': unknown state 'zz'");
  CHECK(error_of([&] { m.check_manual("zz", "a"); }, ErrorCode::not_found) ==
        "machine 'm': unknown state 'zz'");
}

TEST_CASE("every load error names its JSON path") {
  const std::string go = R"({"name": "go", "from": "a", "to": "b"}, {"name": "end", "from": "b", "to": "c"})";
  CHECK_THAT(load_error("{\"name\": "), Catch::Matchers::StartsWith("machine: malformed JSON"));
  CHECK(load_error("[]") == "machine: expected an object, got an array");
  CHECK(load_error(machine(kStates, go, R"("colour": 1, )")) ==
        "colour: unknown key (allowed: name, description, parameters, states, transitions)");
  CHECK(load_error(R"({"states": [], "transitions": []})") == "name: is required");
  CHECK(load_error(machine("", go)) == "states: expected a non-empty array of states");
  CHECK(load_error(machine(R"({"name": "a b", "initial": true})", "")) ==
        "states[0].name: 'a b' is not a valid name (1 to 64 ASCII letters, digits or '_')");
  CHECK(load_error(machine(R"({"name": "a", "initial": true}, {"name": "a"})", "")) ==
        "states[1].name: duplicate state 'a' (states[0])");
  CHECK(load_error(machine(R"({"name": "a", "initial": true}, {"name": "b", "initial": true})", go)) ==
        "states[1].initial: 'b' is a second initial state ('a' is initial)");
  CHECK(load_error(machine(R"({"name": "a"}, {"name": "b"}, {"name": "c", "terminal": true})", go)) ==
        "states: no state is initial (exactly one must be)");
  CHECK(load_error(machine(R"({"name": "a", "initial": true, "terminal": true})", "")) ==
        "states[0].terminal: the initial state cannot be terminal");
  CHECK(load_error(machine(R"({"name": "a", "initial": true, "probability": 1.5})", "")) ==
        "states[0].probability: expected a number from 0 to 1");
  CHECK(load_error(machine(R"({"name": "a", "initial": true, "colour": "red"})", "")) ==
        "states[0].colour: unknown key (allowed: name, order, initial, active, terminal, "
        "description, playbook, probability)");
  CHECK(load_error(machine(kStates, R"({"name": "go", "from": "a", "to": "zz"})")) ==
        "transitions[0].to: unknown state 'zz'");
  CHECK(load_error(machine(kStates, R"({"name": "go", "from": ["a", "zz"], "to": "b"})")) ==
        "transitions[0].from[1]: unknown state 'zz'");
  CHECK(load_error(machine(kStates, go + R"(, {"name": "back", "from": "c", "to": "a"})")) ==
        "transitions[2].from: state 'c' is terminal: no transition may leave it");
  CHECK(load_error(machine(kStates, go + R"(, {"name": "go", "from": "b", "to": "a"})")) ==
        "transitions[2].name: duplicate transition name 'go' (transitions[0])");
  CHECK(load_error(machine(kStates, go + R"(, {"name": "x", "from": "a", "to": "c", "manual": false})")) ==
        "transitions[2]: a transition needs a \"when\" rule or \"manual\": true");
  CHECK(load_error(machine(kStates, go + R"(, {"name": "x", "from": "a", "to": "c", "manual": false,
                                              "reason_required": true, "when": {"var": "ok"}})")) ==
        "transitions[2].reason_required: only a manual transition takes a reason");
  CHECK(load_error(machine(kStates, go + R"(, {"name": "x", "from": "b", "to": "b", "when": {"var": "ok"}})")) ==
        "transitions[2].to: an automatic transition may not lead back to its own state 'b'");
  // Unreachable: nothing leads to d.
  CHECK(load_error(machine(kStates + R"(, {"name": "d", "terminal": true})", go)) ==
        "states[3]: state 'd' cannot be reached from the initial state 'a'");
  // A non-terminal dead end: an error in strict mode only.
  const std::string dead = machine(R"({"name": "a", "initial": true}, {"name": "b"})",
                                   R"({"name": "go", "from": "a", "to": "b"})");
  CHECK(load_error(dead) ==
        "states[1]: non-terminal state 'b' has no transition out (mark it terminal or add one)");
  MachineOptions loose;
  loose.strict = false;
  CHECK(Machine::from_json_text(dead, small_facts(), loose).states().size() == 2);
  // Rules: unknown facts and operators are the rules layer's errors, under the transition's path.
  CHECK_THAT(load_error(machine(kStates, go + R"(, {"name": "r", "from": "a", "to": "c",
      "when": {"and": [{">": [{"var": "x"}, 1]}, {">": [{"var": "nope"}, 1]}]}})")),
             Catch::Matchers::StartsWith("transitions[2].when.and[1]") &&
                 Catch::Matchers::Contains("unknown fact 'nope'"));
  CHECK_THAT(load_error(machine(kStates, go + R"(, {"name": "r", "from": "a", "to": "c",
      "when": {"frobnicate": [1]}})")),
             Catch::Matchers::StartsWith("transitions[2].when") &&
                 Catch::Matchers::Contains("unknown operator 'frobnicate'"));
  // Parameters.
  CHECK(load_error(machine(kStates, go + R"(, {"name": "r", "from": "a", "to": "c",
      "when": {">=": [{"var": "x"}, {"param": "nope"}]}})")) ==
        "transitions[2].when.>=[1].param: unknown parameter 'nope' (declare it under \"parameters\")");
  CHECK(load_error(machine(kStates, go, R"("parameters": {"n": "ten"}, )")) ==
        "parameters.n: expected a number, got a string");
  MachineOptions o;
  o.parameters["nope"] = 1;
  CHECK(load_error(machine(kStates, go), o) == "parameters.nope: machine 'm' declares no such parameter");
  // The engine facts belong to the engine.
  FactSchema with_stage = small_facts();
  with_stage.add("stage", FactType::text);
  CHECK(error_of([&] { Machine::from_json_text(machine(kStates, go), with_stage); }) ==
        "facts: the schema declares 'stage', which the lifecycle engine provides itself");
}

TEST_CASE("an automatic cycle whose conditions can all hold is refused at load, naming it") {
  const auto cyc = [](const std::string& up, const std::string& down) {
    return machine(kStates, R"({"name": "up", "from": "a", "to": "b", "when": )" + up +
                                R"(}, {"name": "down", "from": "b", "to": "a", "when": )" + down +
                                R"(}, {"name": "end", "from": "b", "to": "c"})");
  };
  const std::string refused =
      "transitions[1].when: automatic cycle a -> b -> a (transitions 'up', 'down'): their "
      "conditions are not provably exclusive, so one evaluation could go round it (make two of "
      "them exclusive by bounds on one fact, or make one manual)";
  const FactSchema facts = small_facts();
  const auto loads = [&](const std::string& text) {
    Machine::from_json_text(text, facts);
    return true;
  };
  // Overlapping bounds on one fact: refused; disjoint: accepted.
  CHECK(load_error(cyc(R"({">": [{"var": "x"}, 5]})", R"({">": [{"var": "x"}, 3]})")) == refused);
  CHECK(loads(cyc(R"({">": [{"var": "x"}, 5]})", R"({"<=": [{"var": "x"}, 5]})")));
  // Constants on either side, and the between form.
  CHECK(loads(cyc(R"({"<": [5, {"var": "x"}]})", R"({"<=": [0, {"var": "x"}, 5]})")));
  // Integers: x > 5 and x < 6 cannot both hold; for a number fact they can.
  CHECK(loads(cyc(R"({">": [{"var": "x"}, 5]})", R"({"<": [{"var": "x"}, 6]})")));
  CHECK(load_error(cyc(R"({">": [{"var": "y"}, 5]})", R"({"<": [{"var": "y"}, 6]})")) == refused);
  // Bools and texts.
  CHECK(loads(cyc(R"({"var": "ok"})", R"({"==": [{"var": "ok"}, false]})")));
  CHECK(loads(cyc(R"({"==": [{"var": "label"}, "gold"]})", R"({"!=": [{"var": "label"}, "gold"]})")));
  CHECK(load_error(cyc(R"({"==": [{"var": "label"}, "gold"]})", R"({"!=": [{"var": "label"}, "silver"]})")) ==
        refused);
  // Inside "and", one contradicting pair suffices.
  CHECK(loads(cyc(R"({"and": [{">": [{"var": "y"}, 0]}, {">=": [{"var": "x"}, 10]}]})",
                  R"({"and": [{"var": "ok"}, {"<": [{"var": "x"}, 10]}]})")));
  // "or" is not analysed: refused unless other operands decide.
  CHECK(load_error(cyc(R"({"or": [{">": [{"var": "x"}, 5]}, {"var": "ok"}]})", R"({"<": [{"var": "x"}, 5]})")) ==
        refused);
  // days_in_stage is 0 after a move: two transitions that need days_in_stage >= 1 cannot both
  // run in one evaluation; one alone can (it may be the first move of the evaluation).
  CHECK(loads(cyc(R"({">=": [{"var": "days_in_stage"}, 1]})", R"({">=": [{"var": "days_in_stage"}, 7]})")));
  CHECK(load_error(cyc(R"({">=": [{"var": "days_in_stage"}, 1]})", R"({"var": "ok"})")) == refused);
  // stage is the transition's own source state: a rule that needs another stage never holds.
  CHECK(loads(cyc(R"({"==": [{"var": "stage"}, "c"]})", R"({"var": "ok"})")));
  // A longer cycle through "*" is found and named.
  const std::string three = machine(
      R"({"name": "a", "initial": true}, {"name": "b"}, {"name": "c"})",
      R"({"name": "ab", "from": "a", "to": "b", "when": {">": [{"var": "x"}, 0]}},
         {"name": "bc", "from": "b", "to": "c", "when": {">": [{"var": "x"}, 1]}},
         {"name": "reset", "from": "*", "to": "a", "when": {">": [{"var": "x"}, 2]}})");
  CHECK(load_error(three) ==
        "transitions[2].when: automatic cycle a -> b -> c -> a (transitions 'ab', 'bc', 'reset'): their "
        "conditions are not provably exclusive, so one evaluation could go round it (make two of "
        "them exclusive by bounds on one fact, or make one manual)");
}

TEST_CASE("automatic evaluation takes the first rule that holds, repeatedly, with days_in_stage 0 after a move") {
  const std::string text = machine(
      R"({"name": "a", "initial": true}, {"name": "b"}, {"name": "c"}, {"name": "d", "terminal": true})",
      R"({"name": "a_to_c", "from": "a", "to": "c", "when": {">=": [{"var": "x"}, 10]}},
         {"name": "a_to_b", "from": "a", "to": "b", "when": {">=": [{"var": "x"}, 1]}},
         {"name": "b_to_c", "from": "b", "to": "c", "when": {"and": [{"var": "ok"}, {"==": [{"var": "stage"}, "b"]}]}},
         {"name": "c_to_d", "from": "c", "to": "d", "when": {">=": [{"var": "days_in_stage"}, 5]}},
         {"name": "b_to_d", "from": "b", "to": "d"})");
  const FactSchema facts = small_facts();
  const Machine m = Machine::from_json_text(text, facts);
  CHECK(m.facts_used() == std::vector<std::string>{"x", "ok"});
  CHECK(m.uses_stage());
  const FactTable t = table(facts, {{{"x", 0}},
                                    {{"x", 3}},
                                    {{"x", 3}, {"ok", true}},
                                    {{"x", 12}, {"ok", true}},
                                    {},
                                    {{"ok", true}}});
  CHECK(steps(m.evaluate("a", 0, t, 0)).empty());
  CHECK(steps(m.evaluate("a", 0, t, 1)) == "a>b(a_to_b)");
  CHECK(steps(m.evaluate("a", 0, t, 2)) == "a>b(a_to_b) b>c(b_to_c)");
  // a_to_c is declared first, so it wins over a_to_b; c_to_d needs 5 days in c: not after a move.
  CHECK(steps(m.evaluate("a", 30, t, 3)) == "a>c(a_to_c)");
  CHECK(steps(m.evaluate("c", 5, t, 3)) == "c>d(c_to_d)");
  CHECK(steps(m.evaluate("c", 4, t, 3)).empty());
  // A missing fact makes a comparison false.
  CHECK(steps(m.evaluate("a", 0, t, 4)).empty());
  CHECK(steps(m.evaluate("b", 0, t, 5)) == "b>c(b_to_c)");
  CHECK(steps(m.evaluate("d", 100, t, 3)).empty());
  CHECK(error_of([&] { m.evaluate("zz", 0, t, 0); }, ErrorCode::not_found) == "machine 'm': unknown state 'zz'");
  CHECK(error_of([&] { m.evaluate("a", 0, t, 6); }, ErrorCode::not_found) == "facts: row 6 is out of range (6 rows)");

  // The column form gives the same moves, by row.
  const std::vector<std::int32_t> states{0, 0, 0, 0, 0, 1};
  const std::vector<std::int64_t> days{0, 0, 0, 30, 0, 0};
  const MachineColumnResult r = m.evaluate_columns(states, days, t);
  CHECK(r.states == std::vector<std::int32_t>{0, 1, 2, 2, 0, 2});
  std::string changes;
  for (const auto& c : r.changes)
    changes += std::to_string(c.row) + ":" + m.states()[static_cast<std::size_t>(c.from)].name + ">" +
               m.states()[static_cast<std::size_t>(c.to)].name + "(" +
               m.transitions()[static_cast<std::size_t>(c.transition)].name + ") ";
  CHECK(changes == "1:a>b(a_to_b) 2:a>b(a_to_b) 2:b>c(b_to_c) 3:a>c(a_to_c) 5:b>c(b_to_c) ");
  const std::vector<std::int32_t> in_c{2, 2, 2, 2, 2, 2};
  const std::vector<std::int64_t> days5{5, 4, 5, 4, 5, 4};
  CHECK(m.evaluate_columns(in_c, days5, t).states == std::vector<std::int32_t>{3, 2, 3, 2, 3, 2});

  CHECK(error_of([&] { m.evaluate_columns(std::vector<std::int32_t>{0}, days, t); }) ==
        "states: states (1) and days_in_stage (6) must have one entry per fact row (6)");
  CHECK(error_of([&] { m.evaluate_columns(std::vector<std::int32_t>{0, 0, 0, 0, 9, 0}, days, t); }) ==
        "states: row 4: state index 9 is out of range (4 states)");
}

TEST_CASE("evaluation reads the facts it uses by name and checks their types") {
  const std::string text = machine(kStates, R"({"name": "go", "from": "a", "to": "b", "when": {">": [{"var": "y"}, 1]}},
                                               {"name": "end", "from": "b", "to": "c"})");
  const Machine m = Machine::from_json_text(text, small_facts());
  // A table with only the used fact, at another slot, works.
  FactSchema only;
  only.add("unrelated", FactType::text);
  only.add("y", FactType::number);
  CHECK(steps(m.evaluate("a", 0, table(only, {{{"y", 2.5}}}), 0)) == "a>b(go)");
  FactSchema none;
  none.add("x", FactType::integer);
  CHECK(error_of([&] { m.evaluate("a", 0, FactTable(none, 1), 0); }) ==
        "facts: machine 'm' reads the fact 'y', which the table does not hold");
  FactSchema wrong;
  wrong.add("y", FactType::integer);
  CHECK(error_of([&] { m.evaluate("a", 0, FactTable(wrong, 1), 0); }) ==
        "facts: the fact 'y' is integer in the table; machine 'm' reads it as number");
}
