// Strict JSON Logic rules (crmkit/rules/rules.hpp): typing and load errors with their JSON paths,
// missing values, dates, the operators a machine rule needs, dependencies, row and column
// evaluation agreeing on a random table, and one Rule evaluated from several threads at once.
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "crmkit/crmkit.hpp"
#include "support.hpp"

using namespace crmkit;

namespace {

FactSchema test_schema() {
  FactSchema s;
  s.add("purchase_count", FactType::integer);            // 0
  s.add("net_revenue", FactType::number);                // 1
  s.add("segment", FactType::text);                      // 2
  s.add("consent", FactType::boolean);                   // 3
  s.add("signup", FactType::date);                       // 4
  s.add("tags", FactType::text_list);                    // 5
  s.add("days_since_last_purchase", FactType::integer);  // 6
  return s;
}

// One row: 3 purchases, 120.5 revenue, "champions", consent missing, signed up 2024-03-01,
// tags vip and b2b, days since last purchase missing.
FactTable one_row() {
  FactTable t(test_schema(), 1);
  t.set_integer(0, 0, 3);
  t.set_number(0, 1, 120.5);
  t.set_text(0, 2, "champions");
  t.set_date(0, 4, Date(2024, 3, 1).days_since_epoch());
  t.set_text_list(0, 5, {"vip", "b2b"});
  return t;
}

bool holds(const std::string& rule, const FactTable& t = one_row()) {
  const Rule r = Rule::compile(rule, t.schema());
  const bool row = r.test(t, 0);
  CHECK(r.test_all(t) == std::vector<std::uint8_t>{static_cast<std::uint8_t>(row)});
  return row;
}

std::string value(const std::string& rule, const FactTable& t = one_row()) {
  return Rule::compile(rule, t.schema()).evaluate(t, 0).to_json();
}

}  // namespace

TEST_CASE("strict load errors name the JSON path under the caller's prefix") {
  const FactSchema s = test_schema();
  RuleOptions at;
  at.path = "transitions[3].when";
  CHECK_INVALID(Rule::compile(R"({"and": [{">": [{"var": "purchase_count"}, 1]}, {"var": "x"}]})", s, at),
                "transitions[3].when.and[1]: unknown fact 'x'");
  CHECK_INVALID(Rule::compile(R"({"and": [true, {">": [{"var": "x"}, 1]}]})", s),
                "rule.and[1].>[0]: unknown fact 'x'");
  CHECK_INVALID(Rule::compile(R"({"!": {"var": "x"}})", s), "rule.!: unknown fact 'x'");
  RuleOptions bare;
  bare.path = "";
  CHECK_INVALID(Rule::compile(R"({"or": [false, {"var": "x"}]})", s, bare), "or[1]: unknown fact 'x'");
  CHECK_INVALID(Rule::compile(R"({"or": [{"foo": 1}]})", s), "rule.or[0]: unknown operator 'foo'");
  CHECK_INVALID(Rule::compile(R"({"cat": ["a", "b"]})", s),
                "rule: operator 'cat' is not supported in strict rules (jsonlogic_apply runs it)");
  CHECK_INVALID_PREFIX(Rule::compile("{\"and\": [", s, at), "transitions[3].when: malformed JSON");
  CHECK_INVALID(Rule::compile(R"({"a": 1, "b": 2})", s),
                "rule: an operator object must have exactly one key, got 2");
}

TEST_CASE("strict typing refuses comparisons that can never be well typed") {
  const FactSchema s = test_schema();
  CHECK_INVALID(Rule::compile(R"({"<": [{"var": "segment"}, 5]})", s),
                "rule.<[1]: cannot compare or combine a text with an integer (strict rules do not "
                "convert types)");
  CHECK_INVALID(Rule::compile(R"({"==": [{"var": "purchase_count"}, "3"]})", s),
                "rule.==[1]: cannot compare or combine an integer with a text (strict rules do not "
                "convert types)");
  CHECK_INVALID(Rule::compile(R"({"<": [{"var": "signup"}, "soon"]})", s),
                "rule.<[1]: a date is compared with the text 'soon', which is no date literal "
                "(\"YYYY-MM-DD\")");
  CHECK_INVALID(Rule::compile(R"({"<": [{"var": "signup"}, 20240101]})", s),
                "rule.<[1]: a date can only be compared with a date or a date literal "
                "(\"YYYY-MM-DD\"), not an integer");
  CHECK_INVALID(Rule::compile(R"({"==": [{"var": "segment"}, null]})", s),
                "rule.==[1]: comparing with null is always false in strict rules; test a missing "
                "fact with {\"exists\": name}, {\"missing\": [...]} or {\"??\": [...]}");
  CHECK_INVALID(Rule::compile(R"({">": [{"var": "consent"}, false]})", s),
                "rule.>[0]: bool values have no order; compare them with == or !=");
  CHECK_INVALID(Rule::compile(R"({"+": [{"var": "segment"}, 1]})", s),
                "rule.+[0]: '+' needs numbers, got a text (strict rules do not convert text to "
                "numbers)");
  CHECK_INVALID(Rule::compile(R"({"==": [{"var": "tags"}, {"var": "tags"}]})", s),
                "rule.==[0]: a list of text cannot be compared; use 'in' or some/all/none");
  CHECK_INVALID(Rule::compile(R"({"in": [{"var": "purchase_count"}, {"var": "tags"}]})", s),
                "rule.in[0]: 'in' looks for a text, got an integer");
  CHECK_INVALID(Rule::compile(R"({"some": [{"var": "tags"}, {"==": [{"var": "segment"}, "x"]}]})", s),
                "rule.some[1].==[0]: inside some/all/none only the element ({\"var\": \"\"}) can "
                "be read, not the fact 'segment'");
  CHECK_INVALID(Rule::compile(R"({"var": ""})", s),
                "rule: the whole data is not a fact: name one ({\"var\": \"name\"})");
}

TEST_CASE("strict load errors report wrong argument counts") {
  const FactSchema s = test_schema();
  CHECK_INVALID(Rule::compile(R"({"!": [1, 2]})", s), "rule.!: '!' takes 1 argument, got 2");
  CHECK_INVALID(Rule::compile(R"({"<": [1]})", s), "rule.<: '<' takes at least 2 arguments, got 1");
  CHECK_INVALID(Rule::compile(R"({"and": []})", s), "rule.and: 'and' takes at least 1 argument, got 0");
  CHECK_INVALID(Rule::compile(R"({"in": ["a"]})", s), "rule.in: 'in' takes 2 arguments, got 1");
  CHECK_INVALID(Rule::compile(R"({"%": [5]})", s), "rule.%: '%' takes at least 2 arguments, got 1");
  CHECK_INVALID(Rule::compile(R"({"if": true})", s), "rule.if: 'if' takes an array of arguments");
}

TEST_CASE("a comparison with a missing value is false, and ! negates it to true") {
  CHECK_FALSE(holds(R"({">": [{"var": "days_since_last_purchase"}, 30]})"));
  CHECK_FALSE(holds(R"({"<=": [{"var": "days_since_last_purchase"}, 30]})"));
  CHECK(holds(R"({"!": {">": [{"var": "days_since_last_purchase"}, 30]}})"));
  CHECK_FALSE(holds(R"({"==": [{"var": "days_since_last_purchase"}, {"var": "days_since_last_purchase"}]})"));
  CHECK_FALSE(holds(R"({"!=": [{"var": "days_since_last_purchase"}, 1]})"));
  // a missing bool is false as a condition and in comparisons
  CHECK_FALSE(holds(R"({"var": "consent"})"));
  CHECK(holds(R"({"!": {"var": "consent"}})"));
  CHECK_FALSE(holds(R"({"==": [{"var": "consent"}, false]})"));
  // exists, ??, var defaults, missing, missing_some
  CHECK_FALSE(holds(R"({"exists": "days_since_last_purchase"})"));
  CHECK(holds(R"({"exists": ["purchase_count"]})"));
  CHECK(value(R"({"??": [{"var": "days_since_last_purchase"}, 9999]})") == "9999");
  CHECK(holds(R"({">": [{"var": ["days_since_last_purchase", 9999]}, 30]})"));
  CHECK(value(R"({"missing": ["days_since_last_purchase", "purchase_count"]})") ==
        R"(["days_since_last_purchase"])");
  CHECK(holds(R"({"missing": ["consent"]})"));
  CHECK(value(R"({"missing_some": [1, ["days_since_last_purchase", "purchase_count"]]})") == "[]");
  CHECK(value(R"({"missing_some": [2, ["days_since_last_purchase", "purchase_count"]]})") ==
        R"(["days_since_last_purchase"])");
  // arithmetic with a missing value, or without a finite result, is missing
  CHECK(value(R"({"+": [{"var": "days_since_last_purchase"}, 1]})") == "null");
  CHECK(value(R"({"/": [{"var": "net_revenue"}, 0]})") == "null");
  CHECK(value(R"({"%": [{"var": "purchase_count"}, 0]})") == "null");
  CHECK_FALSE(holds(R"({">": [{"/": [{"var": "net_revenue"}, 0]}, 0]})"));
}

TEST_CASE("strict operators: values, dates, in, between, some/all/none, if") {
  CHECK(value(R"({"+": [{"var": "purchase_count"}, 1]})") == "4");
  CHECK(value(R"({"*": [{"var": "net_revenue"}, 2]})") == "241");
  CHECK(value(R"({"/": [{"var": "purchase_count"}, 2]})") == "1.5");
  CHECK(value(R"({"%": [{"var": "purchase_count"}, 2]})") == "1");
  CHECK(value(R"({"-": [{"var": "purchase_count"}]})") == "-3");
  CHECK(value(R"({"max": [{"var": "purchase_count"}, 10, 2]})") == "10");
  CHECK(value(R"({"min": [{"var": "net_revenue"}, 10]})") == "10");
  CHECK(value(R"({"if": [{">": [{"var": "purchase_count"}, 2]}, "repeat", "new"]})") == R"("repeat")");
  CHECK(value(R"({"if": [{">": [{"var": "purchase_count"}, 5]}, 1.5]})") == "null");
  CHECK(value(R"({"?:": [false, 1, 2.5]})") == "2.5");
  CHECK(value(R"({"and": [1, "x"]})") == "true");
  // dates: literals become days at compile time; date - date is days
  CHECK(holds(R"({">=": [{"var": "signup"}, "2024-01-01"]})"));
  CHECK_FALSE(holds(R"({"<": ["2024-03-01", {"var": "signup"}]})"));
  CHECK(value(R"({"-": [{"var": "signup"}, "2024-01-01"]})") == "60");
  CHECK(value(R"({"+": [{"var": "signup"}, 1]})") == R"("2024-03-02")");
  CHECK(value(R"({"var": ["signup", "2000-01-01"]})") == R"("2024-03-01")");
  // between (3 arguments) and longer chains
  CHECK(holds(R"({"<": [1, {"var": "purchase_count"}, 5]})"));
  CHECK(holds(R"({"<=": [3, {"var": "purchase_count"}, 3]})"));
  CHECK_FALSE(holds(R"({"<": [3, {"var": "purchase_count"}, 5]})"));
  CHECK(holds(R"({"<": [100, {"var": "net_revenue"}, 120.75]})"));
  // in: list fact, literal array, substring, numbers
  CHECK(holds(R"({"in": ["vip", {"var": "tags"}]})"));
  CHECK_FALSE(holds(R"({"in": ["v", {"var": "tags"}]})"));
  CHECK(holds(R"({"in": [{"var": "segment"}, ["loyal", "champions"]]})"));
  CHECK_FALSE(holds(R"({"in": [{"var": "segment"}, ["loyal"]]})"));
  CHECK(holds(R"({"in": ["champ", {"var": "segment"}]})"));
  CHECK(holds(R"({"in": [{"var": "purchase_count"}, [1, 2, 3]]})"));
  // some / all / none over a list of text, the element is {"var": ""}
  CHECK(holds(R"({"some": [{"var": "tags"}, {"==": [{"var": ""}, "vip"]}]})"));
  CHECK_FALSE(holds(R"({"all": [{"var": "tags"}, {"in": ["b", {"var": ""}]}]})"));
  CHECK(holds(R"({"all": [{"var": "tags"}, {"in": [{"val": []}, ["vip", "b2b"]]}]})"));
  CHECK(holds(R"({"none": [{"var": "tags"}, {"==": [{"var": ""}, "x"]}]})"));
  // ==, !=, ===, !== on typed values; integer and number mix
  CHECK(holds(R"({"==": [{"var": "purchase_count"}, 3.0]})"));
  CHECK(holds(R"({"===": [{"var": "segment"}, "champions"]})"));
  CHECK(holds(R"({"!==": [{"var": "segment"}, "loyal"]})"));
  CHECK(holds(R"({"val": ["purchase_count"]})"));
}

TEST_CASE("a rule lists the facts it reads, and checks the table it is given") {
  const FactSchema s = test_schema();
  const Rule r = Rule::compile(
      R"({"and": [{">": [{"var": "purchase_count"}, 1]}, {"in": [{"var": "segment"}, ["a"]]},
                  {"<": [{"var": "purchase_count"}, 9]}, {"exists": "signup"}]})",
      s);
  CHECK(r.dependencies() == std::vector<std::size_t>{0, 2, 4});
  CHECK(r.dependency_names() == std::vector<std::string>{"purchase_count", "segment", "signup"});
  CHECK(r.result_type() == FactType::boolean);
  CHECK(Rule::compile(R"({"+": [{"var": "net_revenue"}, 1]})", s).result_type() == FactType::number);
  CHECK(Rule::compile(R"({"var": "tags"})", s).result_type() == FactType::text_list);

  FactSchema other;
  other.add("purchase_count", FactType::number);
  FactTable wrong(other, 2);
  CHECK_INVALID(r.test_all(wrong),
                "facts: the table does not hold the integer fact 'purchase_count' at slot 0 (the "
                "rule was compiled against another schema)");
  FactTable t(s, 2);
  std::vector<std::uint8_t> out(3);
  CHECK_INVALID(r.test_all(t, out), "out: has 3 elements, the table 2 rows");
  CHECK_ERROR(r.test(t, 2), ErrorCode::not_found, "row: row 2 is out of range (the table has 2 rows)");
  CHECK(Rule().test(t, 0));
  CHECK(Rule().dependencies().empty());
}

namespace {

// A table of `rows` random rows; about one cell in seven is missing.
FactTable random_table(std::size_t rows, std::uint32_t seed) {
  FactTable t(test_schema(), rows);
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> small(0, 20), pct(0, 99), days(19000, 20000);
  const char* segments[] = {"champions", "loyal", "at_risk", "lost", ""};
  const char* tags[] = {"vip", "b2b", "newsletter", "test"};
  for (std::size_t r = 0; r < rows; ++r) {
    if (pct(gen) >= 14) t.set_integer(r, 0, small(gen));
    if (pct(gen) >= 14) t.set_number(r, 1, small(gen) * 12.5 - 30);
    if (pct(gen) >= 14) t.set_text(r, 2, segments[small(gen) % 5]);
    if (pct(gen) >= 14) t.set_boolean(r, 3, pct(gen) < 50);
    if (pct(gen) >= 14) t.set_date(r, 4, days(gen));
    if (pct(gen) >= 14) {
      std::vector<std::string> list;
      for (const char* tag : tags)
        if (pct(gen) < 40) list.push_back(tag);
      t.set_text_list(r, 5, list);
    }
    if (pct(gen) >= 14) t.set_integer(r, 6, small(gen) * 20);
  }
  return t;
}

const char* const kRules[] = {
    // five comparisons, the shape of a lifecycle rule
    R"({"and": [{">=": [{"var": "purchase_count"}, 2]}, {">": [{"var": "net_revenue"}, 50]},
                {"<": [{"var": "days_since_last_purchase"}, 200]}, {"==": [{"var": "consent"}, true]},
                {">=": [{"var": "signup"}, "2022-01-01"]}]})",
    R"({"or": [{"!": {"exists": "purchase_count"}}, {">": [{"var": ["days_since_last_purchase", 9999]}, 365]}]})",
    R"({"if": [{"in": [{"var": "segment"}, ["champions", "loyal"]]}, {">": [{"var": "net_revenue"}, 0]},
               {"some": [{"var": "tags"}, {"==": [{"var": ""}, "vip"]}]}, true,
               {"!": {"var": "consent"}}]})",
    R"({"<": [10, {"+": [{"var": "purchase_count"}, {"%": [{"var": "days_since_last_purchase"}, 7]}]}, 20]})",
    R"({"missing": ["purchase_count", "segment"]})",
    R"({"??": [{"var": "segment"}, "none"]})",
    R"({"all": [{"var": "tags"}, {"!=": [{"var": ""}, "test"]}]})",
    R"({"!!": {"/": [{"var": "net_revenue"}, {"-": [{"var": "purchase_count"}, 5]}]}})",
    R"({"<=": [{"-": [{"var": "signup"}, "2022-06-01"]}, {"*": [{"var": "purchase_count"}, 30]}]})",
};

}  // namespace

TEST_CASE("row and column evaluation agree on a random table") {
  const FactTable t = random_table(5000, 42);  // 4 full blocks of 1024 and a partial one
  for (const char* text : kRules) {
    INFO(text);
    const Rule r = Rule::compile(text, t.schema());
    const std::vector<std::uint8_t> all = r.test_all(t);
    REQUIRE(all.size() == t.rows());
    std::size_t mismatches = 0, hits = 0;
    for (std::size_t row = 0; row < t.rows(); ++row) {
      mismatches += (r.test(t, row) ? 1 : 0) != all[row];
      hits += all[row];
    }
    CHECK(mismatches == 0);
    CHECK(hits > 0);            // each rule holds for some rows ...
    CHECK(hits < t.rows());     // ... and not for all
  }
  // The five-comparison rule against the same rule written out by hand.
  const Rule r = Rule::compile(kRules[0], t.schema());
  const std::vector<std::uint8_t> all = r.test_all(t);
  const std::int64_t since = Date(2022, 1, 1).days_since_epoch();
  for (std::size_t row = 0; row < t.rows(); ++row) {
    auto p = [&](std::size_t slot) { return t.is_present(row, slot); };
    const bool expect = p(0) && t.integers(0)[row] >= 2 && p(1) && t.numbers(1)[row] > 50 &&
                        p(6) && t.integers(6)[row] < 200 && p(3) && t.booleans(3)[row] == 1 &&
                        p(4) && t.integers(4)[row] >= since;
    if ((all[row] != 0) != expect) FAIL("row " << row);
  }
}

TEST_CASE("test_rows evaluates a range of rows in place, the same as test_all") {
  const FactTable t = random_table(5000, 11);
  for (const char* text : kRules) {
    INFO(text);
    const Rule r = Rule::compile(text, t.schema());
    const std::vector<std::uint8_t> all = r.test_all(t);
    // Ranges that start and end inside blocks of 1024, across blocks, empty and the whole table.
    const std::pair<std::size_t, std::size_t> ranges[] = {{0, 5000}, {0, 1}, {1000, 1100}, {1023, 2049},
                                                          {4999, 5000}, {5000, 5000}, {17, 17}};
    for (const auto& [first, last] : ranges) {
      std::vector<std::uint8_t> out(last - first, 9);
      r.test_rows(t, first, out);
      std::size_t mismatches = 0;
      for (std::size_t i = 0; i < out.size(); ++i) mismatches += out[i] != all[first + i];
      CHECK(mismatches == 0);
    }
  }
  const Rule r = Rule::compile(kRules[0], t.schema());
  std::vector<std::uint8_t> out(2);
  CHECK_INVALID(r.test_rows(t, 4999, out), "out: rows 4999 to 5001 are not all in the table (5000 rows)");
  CHECK_INVALID(r.test_rows(t, 5001, std::span<std::uint8_t>{}),
                "out: rows 5001 to 5001 are not all in the table (5000 rows)");
  FactSchema other;
  other.add("purchase_count", FactType::number);
  FactTable wrong(other, 2);
  CHECK_INVALID(r.test_rows(wrong, 0, out),
                "facts: the table does not hold the integer fact 'purchase_count' at slot 0 (the "
                "rule was compiled against another schema)");
}

TEST_CASE("one compiled rule is evaluated from several threads at once") {
  const FactTable t = random_table(20000, 7);
  const Rule r = Rule::compile(kRules[2], t.schema());
  const std::vector<std::uint8_t> expected = r.test_all(t);
  std::vector<int> bad(4, 0);
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      for (int round = 0; round < 5; ++round)
        if (r.test_all(t) != expected) ++bad[static_cast<std::size_t>(k)];
      for (std::size_t row = static_cast<std::size_t>(k); row < t.rows(); row += 7)
        if ((r.test(t, row) ? 1 : 0) != expected[row]) ++bad[static_cast<std::size_t>(k)];
    });
  }
  for (auto& th : threads) th.join();
  CHECK(bad == std::vector<int>{0, 0, 0, 0});
}
