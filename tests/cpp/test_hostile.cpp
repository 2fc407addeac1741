// The hostile-input table for the C++-only entry points (issue 9, item 1; the Python table is
// tests/python/test_hostile.py): the records' JSON readers (text and nlohmann::json values),
// Money::parse and JSON Logic (jsonlogic_apply, jsonlogic_apply_json, Rule::compile,
// compile_rule), fed NaN and infinities, 1e400 and 30-digit amounts, invalid UTF-8, NUL bytes,
// duplicate keys and 100,000-deep nesting. Each row: a name, the call, and the outcome: accepted
// with an exact value, or refused with a crmkit::Error of a code whose message contains a text.
// Any other exception (or a crash: a stack overflow ends the binary) fails the row.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "crmkit/base/error.hpp"
#include "crmkit/base/json.hpp"
#include "crmkit/base/money.hpp"
#include "crmkit/records/customer.hpp"
#include "crmkit/records/event.hpp"
#include "crmkit/records/json.hpp"
#include "crmkit/rules/facts.hpp"
#include "crmkit/rules/json.hpp"
#include "crmkit/rules/rules.hpp"

using crmkit::Currency;
using crmkit::Error;
using crmkit::ErrorCode;
using crmkit::Money;
using nlohmann::json;

namespace {

constexpr std::size_t kDeep = 100'000;
constexpr std::size_t kBig = 20u << 20;  // 20 MiB

std::string deep_array_text(std::size_t depth = kDeep) {
  return std::string(depth, '[') + "1" + std::string(depth, ']');
}

// A value nested `depth` arrays deep, built without copies (a copy of a deep value recurses).
json deep_array(std::size_t depth = kDeep) {
  json v = 1;
  for (std::size_t i = 0; i < depth; ++i) {
    json outer = json::array();
    outer.push_back(std::move(v));
    v = std::move(outer);
  }
  return v;
}

// {"and": [{"and": [... true ...]}]}, `depth` levels of "and".
json deep_rule(std::size_t depth = kDeep) {
  json v = true;
  for (std::size_t i = 0; i < depth; ++i) {
    json args = json::array();
    args.push_back(std::move(v));
    json outer = json::object();
    outer["and"] = std::move(args);
    v = std::move(outer);
  }
  return v;
}

json customer_with(const std::string& key, json value) {
  json j = {{"external_id", "h-1"}, {"name", "Hostile Test"}};
  j[key] = std::move(value);
  return j;
}

json purchase_event_with_amount(json amount) {
  json j = {{"customer", 1},
            {"at", "2024-01-05T00:00:00Z"},
            {"type", "purchase"},
            {"purchase", json::object()}};
  j["purchase"]["amount"] = {{"currency", "USD"}};
  j["purchase"]["amount"]["amount"] = std::move(amount);
  return j;
}

crmkit::FactSchema schema() {
  crmkit::FactSchema s;
  s.add("orders", crmkit::FactType::integer);
  s.add("name", crmkit::FactType::text);
  return s;
}

struct Row {
  std::string name;
  std::function<std::string()> call;  // returns the accepted value as text
  std::optional<ErrorCode> code;      // nullopt: must be accepted
  std::string expected;               // accepted: the exact value; refused: part of what()
};

Row accepted(std::string name, std::function<std::string()> call, std::string value) {
  return Row{std::move(name), std::move(call), std::nullopt, std::move(value)};
}

Row refused(std::string name, std::function<std::string()> call, ErrorCode code,
            std::string text) {
  return Row{std::move(name), std::move(call), code, std::move(text)};
}

// Runs every row; returns the number of rows as expected.
std::size_t run(const std::vector<Row>& rows) {
  std::size_t ok = 0;
  for (const Row& row : rows) {
    INFO("row " << row.name);
    std::string outcome;
    bool as_expected = false;
    try {
      const std::string got = row.call();
      outcome = "accepted: " + got;
      as_expected = !row.code && got == row.expected;
    } catch (const Error& e) {
      outcome = std::string("refused: ") + crmkit::to_string(e.code()) + ": " + e.what();
      as_expected = row.code && e.code() == *row.code &&
                    std::string(e.what()).find(row.expected) != std::string::npos;
    } catch (const std::exception& e) {
      outcome = std::string("a non-crmkit exception: ") + e.what();
    }
    INFO("outcome " << outcome.substr(0, 300));
    INFO("expected " << (row.code ? std::string("refused: ") + crmkit::to_string(*row.code) + ": ..." : std::string("accepted: ")) << row.expected);
    CHECK(as_expected);
    if (as_expected) ++ok;
  }
  return ok;
}

std::string customer_text(const std::string& text) {
  const crmkit::Customer c = crmkit::customer_from_json_text(text);
  return c.external_id + "|" + c.name;
}

std::string event_text(const std::string& text) {
  const crmkit::Event e = crmkit::event_from_json_text(text);
  return std::string(crmkit::to_string(e.type())) + "|" + e.at.to_string();
}

std::string purchase_amount_text(const std::string& text) {
  const crmkit::Event e = crmkit::event_from_json_text(text);
  return std::get<crmkit::Purchase>(e.payload).amount.to_string();
}

std::string money(const std::string& text) { return Money::parse(text, Currency::of("USD")).to_string(); }

}  // namespace

TEST_CASE("hostile: the records' JSON readers") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<Row> rows = {
      // NaN, infinities and 1e400: not JSON as text; numbers (never amounts) as values
      refused("customer text NaN", [] { return customer_text(R"({"external_id":"h-1","name":"n","max_contacts_per_30_days":NaN})"); },
              ErrorCode::invalid_argument, "customer: malformed JSON at byte 60: syntax error while parsing value - invalid literal"),
      refused("customer text 1e400", [] { return customer_text(R"({"external_id":"h-1","name":"n","max_contacts_per_30_days":1e400})"); },
              ErrorCode::invalid_argument, "customer: malformed JSON"),
      refused("customer value NaN", [&] { return crmkit::customer_from_json(customer_with("max_contacts_per_30_days", nan)).name; },
              ErrorCode::invalid_argument, "customer.max_contacts_per_30_days: expected integer, got a number with a fraction or exponent"),
      refused("customer value inf", [&] { return crmkit::customer_from_json(customer_with("max_contacts_per_30_days", inf)).name; },
              ErrorCode::invalid_argument, "customer.max_contacts_per_30_days: expected integer, got a number with a fraction or exponent"),
      refused("event text NaN amount", [] { return purchase_amount_text(R"({"customer":1,"at":"2024-01-05T00:00:00Z","type":"purchase","purchase":{"amount":{"amount":NaN,"currency":"USD"}}})"); },
              ErrorCode::invalid_argument, "event: malformed JSON at byte"),
      refused("event text 1e400 amount", [] { return purchase_amount_text(R"({"customer":1,"at":"2024-01-05T00:00:00Z","type":"purchase","purchase":{"amount":{"amount":1e400,"currency":"USD"}}})"); },
              ErrorCode::invalid_argument, "event: malformed JSON"),
      refused("event text 'NaN' amount", [] { return purchase_amount_text(R"({"customer":1,"at":"2024-01-05T00:00:00Z","type":"purchase","purchase":{"amount":{"amount":"NaN","currency":"USD"}}})"); },
              ErrorCode::invalid_argument, "purchase.amount.amount: 'NaN' is not a decimal number"),
      refused("event value NaN amount", [&] { return crmkit::to_string(crmkit::event_from_json(purchase_event_with_amount(nan)).type()); },
              ErrorCode::invalid_argument, "purchase.amount.amount: expected a decimal string, got number"),
      refused("event value -inf amount", [&] { return crmkit::to_string(crmkit::event_from_json(purchase_event_with_amount(-inf)).type()); },
              ErrorCode::invalid_argument, "purchase.amount.amount: expected a decimal string, got number"),
      accepted("event text 30-digit amount", [] { return purchase_amount_text(R"({"customer":1,"at":"2024-01-05T00:00:00Z","type":"purchase","purchase":{"amount":{"amount":"123456789012345678901234567890.00","currency":"USD"}}})"); },
               "123456789012345678901234567890.00 USD"),
      refused("event 30-digit amount fails validate_event", [] {
                crmkit::validate_event(crmkit::event_from_json_text(R"({"customer":1,"at":"2024-01-05T00:00:00Z","type":"purchase","purchase":{"amount":{"amount":"123456789012345678901234567890.00","currency":"USD"}}})"), Currency::of("USD"));
                return std::string("valid");
              },
              ErrorCode::invalid_argument, "purchase.amount: 123456789012345678901234567890.00 USD is over the ledger's limit of 92233720368547758.07 USD"),
      refused("event text 40-digit amount", [] { return purchase_amount_text(R"({"customer":1,"at":"2024-01-05T00:00:00Z","type":"purchase","purchase":{"amount":{"amount":"1234567890123456789012345678901234567890","currency":"USD"}}})"); },
              ErrorCode::overflow, "purchase.amount.amount: '1234567890123456789012345678901234567890' is outside the exact range"),
      // invalid UTF-8 and NUL
      refused("customer text invalid UTF-8", [] { return customer_text("{\"external_id\":\"h-1\",\"name\":\"\xff\"}"); },
              ErrorCode::invalid_argument, "customer: malformed JSON at byte 30: syntax error while parsing value - invalid string: ill-formed UTF-8 byte"),
      refused("customer text overlong '/'", [] { return customer_text("{\"external_id\":\"h-1\",\"name\":\"\xc0\xaf\"}"); },
              ErrorCode::invalid_argument, "customer: malformed JSON at byte 30: syntax error while parsing value - invalid string: ill-formed UTF-8 byte"),
      refused("event text UTF-8 surrogate", [] { return event_text("{\"customer\":1,\"at\":\"2024-01-05T00:00:00Z\",\"type\":\"interaction\",\"interaction\":{\"kind\":\"call\",\"note\":\"\xed\xa0\x80\"}}"); },
              ErrorCode::invalid_argument, "event: malformed JSON at byte"),
      refused("customer text escaped lone surrogate", [] { return customer_text(R"({"external_id":"h-1","name":"\ud800"})"); },
              ErrorCode::invalid_argument, "customer: malformed JSON at byte"),
      refused("customer text raw NUL", [] { return customer_text(std::string("{\"external_id\":\"h-1\",\"name\":\"a\0b\"}", 34)); },
              ErrorCode::invalid_argument, "customer: malformed JSON at byte 31: NUL byte in the text"),
      accepted("customer value invalid UTF-8 is read", [] { return std::to_string(crmkit::customer_from_json(customer_with("name", "\xff")).name.size()); }, "1"),
      refused("customer value invalid UTF-8 fails validate_customer", [] {
                crmkit::Customer c = crmkit::customer_from_json(customer_with("name", "\xff"));
                crmkit::validate_customer(c, {}, Currency::of("USD"));
                return c.name;
              },
              ErrorCode::invalid_argument, "name: is not valid UTF-8 (at byte 0)"),
      // duplicate keys
      refused("customer text duplicate key", [] { return customer_text(R"({"external_id":"h-1","name":"A","name":"B"})"); },
              ErrorCode::invalid_argument, "customer: duplicate key 'name' in one JSON object"),
      refused("event text duplicate nested key", [] { return purchase_amount_text(R"({"customer":1,"at":"2024-01-05T00:00:00Z","type":"purchase","purchase":{"amount":{"amount":"1.00","amount":"1000.00","currency":"USD"}}})"); },
              ErrorCode::invalid_argument, "event: duplicate key 'amount' in one JSON object"),
      // 100,000-deep nesting
      refused("customer text deep", [] { return customer_text(R"({"external_id":"h-1","name":"n","tags":)" + deep_array_text() + "}"); },
              ErrorCode::invalid_argument, "customer: JSON nesting is deeper than 32 levels"),
      refused("customer value deep tags", [] { return crmkit::customer_from_json(customer_with("tags", deep_array())).name; },
              ErrorCode::invalid_argument, "customer.tags[0]: expected string, got array"),
      refused("customer value deep custom", [] {
                json custom = json::object();
                custom["notes"] = deep_array();
                return crmkit::customer_from_json(customer_with("custom", std::move(custom))).name;
              },
              ErrorCode::invalid_argument, "customer.custom.notes: expected string, integer, boolean or object, got array"),
      refused("event text deep", [] { return event_text(std::string(kDeep, '[') + std::string(kDeep, ']')); },
              ErrorCode::invalid_argument, "event: JSON nesting is deeper than 32 levels"),
      refused("event value deep", [] { return crmkit::to_string(crmkit::event_from_json(deep_array()).type()); },
              ErrorCode::invalid_argument, "event: expected object, got array"),
      refused("event value deep payload", [] {
                json j = {{"customer", 1}, {"at", "2024-01-05T00:00:00Z"}, {"type", "interaction"}};
                j["interaction"] = deep_array();
                return crmkit::to_string(crmkit::event_from_json(j).type());
              },
              ErrorCode::invalid_argument, "interaction: expected object, got array"),
      // a 20 MiB text
      refused("customer text 20 MiB", [] { return customer_text(R"({"external_id":"h-1","name":")" + std::string(kBig, 'x') + "\"}"); },
              ErrorCode::invalid_argument, "customer: JSON text is 20971551 bytes, over the limit of 16777216"),
  };
  CHECK(run(rows) == rows.size());
}

TEST_CASE("hostile: Money::parse") {
  const std::vector<Row> rows = {
      refused("NaN", [] { return money("NaN"); }, ErrorCode::invalid_argument, "amount: 'NaN' is not a decimal number"),
      refused("nan", [] { return money("nan"); }, ErrorCode::invalid_argument, "amount: 'nan' is not a decimal number"),
      refused("inf", [] { return money("inf"); }, ErrorCode::invalid_argument, "amount: 'inf' is not a decimal number"),
      refused("-inf", [] { return money("-inf"); }, ErrorCode::invalid_argument, "amount: '-inf' is not a decimal number"),
      refused("Infinity", [] { return money("Infinity"); }, ErrorCode::invalid_argument, "amount: 'Infinity' is not a decimal number"),
      refused("1e400", [] { return money("1e400"); }, ErrorCode::invalid_argument, "amount: '1e400' is not a decimal number"),
      refused("1 and 400 zeros", [] { return money("1" + std::string(400, '0')); }, ErrorCode::overflow,
              "amount: '1" + std::string(47, '0') + "...' is outside the exact range (39 significant digits)"),
      refused("20 MiB of digits", [] { return money(std::string(kBig, '9')); }, ErrorCode::overflow,
              "amount: '999999999999999999999999999999999999999999999999...' is outside the exact range"),
      accepted("30 digits", [] { return money("123456789012345678901234567890"); }, "123456789012345678901234567890.00 USD"),
      accepted("30 digits negative", [] { return money("-123456789012345678901234567890.5"); }, "-123456789012345678901234567890.50 USD"),
      refused("30 decimals", [] { return money("0.000000000000000000000000000001"); }, ErrorCode::invalid_argument,
              "amount: 0.000000000000000000000000000001 has more decimals than USD allows (2)"),
      refused("31 decimals", [] { return money("0." + std::string(31, '0')); }, ErrorCode::invalid_argument,
              "has more than 30 digits after the point"),
      refused("invalid UTF-8", [] { return money("1\xff"); }, ErrorCode::invalid_argument, "amount: '1\\xFF' is not a decimal number"),
      refused("NUL inside", [] { return money(std::string("1\0" "2", 3)); }, ErrorCode::invalid_argument, "amount: '1\\x002' is not a decimal number"),
      refused("NaN with currency", [] { return Money::parse_with_currency("NaN USD").to_string(); }, ErrorCode::invalid_argument,
              "amount: 'NaN' is not a decimal number"),
      refused("money_from_json NaN number", [] { return crmkit::money_from_json(json{{"amount", std::numeric_limits<double>::quiet_NaN()}, {"currency", "USD"}}).to_string(); },
              ErrorCode::invalid_argument, "amount.amount: expected a decimal string, got number"),
      refused("Money::from_model_value NaN", [] { return Money::from_model_value(std::nan(""), Currency::of("USD")).to_string(); },
              ErrorCode::invalid_argument, "amount: NaN is not a finite model value"),
      refused("Money::from_model_value 1e300", [] { return Money::from_model_value(1e300, Currency::of("USD")).to_string(); },
              ErrorCode::overflow, "amount: 1e+300 is outside the exact range"),
  };
  CHECK(run(rows) == rows.size());
}

TEST_CASE("hostile: JSON Logic rules") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<Row> rows = {
      // deep nesting, as text and as values a host built
      refused("jsonlogic_apply deep rule text", [] { return crmkit::jsonlogic_apply(deep_array_text()); },
              ErrorCode::invalid_argument, "rule: JSON nesting is deeper than 32 levels"),
      refused("jsonlogic_apply deep data text", [] { return crmkit::jsonlogic_apply(R"({"var":"x"})", deep_array_text()); },
              ErrorCode::invalid_argument, "data: JSON nesting is deeper than 256 levels"),
      refused("jsonlogic_apply_json deep rule value", [] { return crmkit::jsonlogic_apply_json(deep_rule(), json::object()).dump(); },
              ErrorCode::invalid_argument, "rule: JSON nesting is deeper than 32 levels"),
      refused("jsonlogic_apply_json deep array rule value", [] { return crmkit::jsonlogic_apply_json(deep_array(), json::object()).dump(); },
              ErrorCode::invalid_argument, "rule: JSON nesting is deeper than 32 levels"),
      refused("jsonlogic_apply_json deep data value", [] { return crmkit::jsonlogic_apply_json(json{{"var", ""}}, deep_array()).dump(); },
              ErrorCode::invalid_argument, "data: JSON nesting is deeper than 256 levels"),
      // deep_rule(n) nests 2n containers (an object and its argument array per level)
      accepted("jsonlogic_apply_json rule value 32 deep", [] { return crmkit::jsonlogic_apply_json(deep_rule(16), json::object()).dump(); }, "true"),
      refused("jsonlogic_apply_json rule value 34 deep", [] { return crmkit::jsonlogic_apply_json(deep_rule(17), json::object()).dump(); },
              ErrorCode::invalid_argument, "rule: JSON nesting is deeper than 32 levels"),
      refused("Rule::compile deep text", [] { return crmkit::Rule::compile(deep_array_text(), schema()).source(); },
              ErrorCode::invalid_argument, "rule: JSON nesting is deeper than 32 levels"),
      refused("compile_rule deep value", [] { return crmkit::compile_rule(deep_rule(), schema()).source(); },
              ErrorCode::invalid_argument, "rule: JSON nesting is deeper than 32 levels"),
      refused("compile_rule deep value, path named", [] {
                crmkit::RuleOptions options;
                options.path = "transitions[3].when";
                return crmkit::compile_rule(deep_rule(), schema(), options).source();
              },
              ErrorCode::invalid_argument, "transitions[3].when: JSON nesting is deeper than 32 levels"),
      // NaN and infinities
      refused("jsonlogic_apply NaN text", [] { return crmkit::jsonlogic_apply(R"({"+":[NaN,1]})"); },
              ErrorCode::invalid_argument, "rule: malformed JSON at byte"),
      refused("jsonlogic_apply 1e400 text", [] { return crmkit::jsonlogic_apply(R"({"+":[1e400,1]})"); },
              ErrorCode::invalid_argument, "rule: malformed JSON"),
      refused("jsonlogic_apply_json NaN value", [&] { return crmkit::jsonlogic_apply_json(json{{"+", json::array({nan, 1})}}, json::object()).dump(); },
              ErrorCode::invalid_argument, "rule: a JSON number is NaN (JSON has no NaN or infinity)"),
      refused("jsonlogic_apply_json inf data", [&] { return crmkit::jsonlogic_apply_json(json{{"var", "x"}}, json{{"x", inf}}).dump(); },
              ErrorCode::invalid_argument, "data: a JSON number is Infinity (JSON has no NaN or infinity)"),
      refused("compile_rule -inf value", [&] { return crmkit::compile_rule(json{{"<", json::array({json{{"var", "orders"}}, -inf})}}, schema()).source(); },
              ErrorCode::invalid_argument, "rule: a JSON number is -Infinity (JSON has no NaN or infinity)"),
      accepted("Rule::compile 1e308", [] { return crmkit::Rule::compile(R"({"<":[{"var":"orders"},1e308]})", schema()).source(); },
               R"({"<":[{"var":"orders"},1e+308]})"),
      // invalid UTF-8 and duplicate keys
      refused("jsonlogic_apply invalid UTF-8 text", [] { return crmkit::jsonlogic_apply("{\"cat\":[\"\xff\"]}"); },
              ErrorCode::invalid_argument, "rule: malformed JSON at byte 10: syntax error while parsing value - invalid string: ill-formed UTF-8 byte"),
      refused("jsonlogic_apply_json invalid UTF-8 string", [] { return crmkit::jsonlogic_apply_json(json{{"cat", json::array({"\xff"})}}, json::object()).dump(); },
              ErrorCode::invalid_argument, "rule: a JSON string is not valid UTF-8 (at byte 0)"),
      refused("jsonlogic_apply_json invalid UTF-8 key in data", [] { return crmkit::jsonlogic_apply_json(json{{"var", "x"}}, json{{"\xc0\xaf", 1}}).dump(); },
              ErrorCode::invalid_argument, "data: a JSON key is not valid UTF-8 (at byte 0)"),
      refused("compile_rule invalid UTF-8 literal", [] { return crmkit::compile_rule(json{{"==", json::array({json{{"var", "name"}}, "a\xff"})}}, schema()).source(); },
              ErrorCode::invalid_argument, "rule: a JSON string is not valid UTF-8 (at byte 1)"),
      refused("Rule::compile duplicate key", [] { return crmkit::Rule::compile(R"({"==":[{"var":"orders"},1],"==":[1,1]})", schema()).source(); },
              ErrorCode::invalid_argument, "rule: duplicate key '==' in one JSON object"),
      refused("Rule::compile NUL", [] { return crmkit::Rule::compile(std::string("{\"==\":[{\"var\":\"orders\"},1]}\0garbage", 35), schema()).source(); },
              ErrorCode::invalid_argument, "rule: malformed JSON at byte 28: NUL byte in the text"),
  };
  CHECK(run(rows) == rows.size());
}
