// Declared facts and fact tables (crmkit/rules/facts.hpp).
#include <catch2/catch.hpp>

#include "crmkit/crmkit.hpp"

using namespace crmkit;

TEST_CASE("a fact schema declares names once, with a type, and finds their slots") {
  FactSchema schema;
  CHECK(schema.add("days_since_last_purchase", FactType::integer) == 0);
  CHECK(schema.add("consent.email.marketing", FactType::boolean) == 1);
  CHECK(schema.slot("consent.email.marketing") == 1);
  CHECK_FALSE(schema.find("nope").has_value());
  CHECK_THROWS_MATCHES(schema.slot("nope"), Error,
                       Catch::Matchers::Predicate<Error>([](const Error& e) {
                         return e.code() == ErrorCode::not_found;
                       }));
  CHECK_THROWS_MATCHES(schema.add("days_since_last_purchase", FactType::number), Error,
                       Catch::Matchers::Predicate<Error>([](const Error& e) {
                         return e.code() == ErrorCode::conflict;
                       }));
  for (const char* bad : {"", ".a", "a.", "a..b", "a-b", "ä"})
    CHECK_THROWS_AS(schema.add(bad, FactType::number), Error);
  CHECK(schema.size() == 2);
  CHECK(fact_type_from_string("list of text") == FactType::text_list);
  CHECK(fact_type_from_string("bool") == FactType::boolean);
  CHECK_THROWS_WITH(fact_type_from_string("float", "facts[2].type"),
                    Catch::Matchers::StartsWith("facts[2].type: unknown fact type 'float'"));
}

TEST_CASE("a fact table starts missing, checks types and rows, and marks set cells present") {
  FactSchema schema;
  schema.add("revenue", FactType::number);
  schema.add("first_purchase", FactType::date);
  schema.add("tags", FactType::text_list);
  FactTable t(schema, 3);
  CHECK(t.rows() == 3);
  CHECK_FALSE(t.is_present(0, 0));
  t.set_number(1, 0, 12.5);
  t.set_date(2, 1, 9862);
  t.set_text_list(0, 2, {"vip"});
  CHECK(t.numbers(0)[1] == 12.5);
  CHECK(t.present(0)[1] == 1);
  CHECK(t.integers(1)[2] == 9862);
  CHECK(t.text_lists(2)[0] == std::vector<std::string>{"vip"});
  CHECK_THROWS_WITH(t.set_number(0, 0, std::nan("")),
                    Catch::Matchers::Contains("revenue: row 0: a number fact must be finite"));
  CHECK_THROWS_WITH(t.texts(0), Catch::Matchers::Contains("revenue: is a number fact"));
  CHECK_THROWS_AS(t.set_number(3, 0, 1.0), Error);
  CHECK_THROWS_AS(t.numbers(7), Error);
  t.set_missing(1, 0);
  CHECK_FALSE(t.is_present(1, 0));
  CHECK(t.numbers(0)[1] == 0.0);
}
