// Tests of crmkit/records/event.hpp: event enums, validate_event and the JSON form of events.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "crmkit/base/error.hpp"
#include "crmkit/records/event.hpp"
#include "crmkit/records/json.hpp"
#include "support.hpp"

using namespace crmkit;
using namespace crmkit::test;
using nlohmann::json;

namespace {

Event event_with(EventPayload payload) {
  Event e;
  e.customer = 7;
  e.at = Timestamp::parse("2024-03-01T12:30:00Z");
  e.source = "pos";
  e.payload = std::move(payload);
  return e;
}

Purchase purchase(const char* amount) {
  Purchase p;
  p.order_id = "A-1001";
  p.amount = m(amount);
  p.category = "tea";
  return p;
}

Refund refund(const char* amount) {
  Refund r;
  r.purchase = 12;
  r.amount = m(amount);
  r.reason = "damaged";
  return r;
}

SurveyResponse survey(std::optional<int> nps, std::optional<int> csat) {
  SurveyResponse s;
  s.survey = "after-visit";
  s.nps = nps;
  s.csat = csat;
  return s;
}

void check(const Event& e) { validate_event(e, kUsd); }

// One event of each type with every field set, for round trips.
std::vector<Event> every_kind() {
  std::vector<Event> out;
  Purchase p = purchase("19.99");
  p.essential = false;
  p.item_count = 3;
  out.push_back(event_with(p));
  out.push_back(event_with(refund("5.00")));
  Interaction i;
  i.kind = InteractionKind::site_visit;
  i.purpose = ContactPurpose::intelligence;
  i.commitment_asked = "meet the decision maker";
  i.commitment_obtained = true;
  i.note = "met Zhang \xE5\xBC\xA0; \"Robert'); DROP TABLE events;--\"";
  out.push_back(event_with(i));
  Referral r;
  r.referred = 9;
  out.push_back(event_with(r));
  SurveyResponse s = survey(9, 4);
  s.comment = "quick service";
  out.push_back(event_with(s));
  out.push_back(event_with(survey(std::nullopt, 5)));
  EventParticipation ep;
  ep.event_name = "spring fair 2024";
  ep.role = "speaker";
  out.push_back(event_with(ep));
  std::int64_t id = 100;
  for (Event& e : out) {
    e.id = ++id;
    e.idempotency_key = "import-" + std::to_string(id);
    e.recorded_at = Timestamp::from_micros(1709296200123456);
    e.actor = "importer";
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------- enums

TEST_CASE("every event enum round-trips through its wire name") {
  for (auto v : {InteractionKind::call, InteractionKind::visit, InteractionKind::email,
                 InteractionKind::message, InteractionKind::gift, InteractionKind::hospitality,
                 InteractionKind::site_visit, InteractionKind::event, InteractionKind::meeting,
                 InteractionKind::other}) {
    CHECK(parse_interaction_kind(to_string(v)) == v);
  }
  for (auto v : {ContactPurpose::care, ContactPurpose::information, ContactPurpose::deal,
                 ContactPurpose::service, ContactPurpose::intelligence}) {
    CHECK(parse_contact_purpose(to_string(v)) == v);
  }
  for (auto v : {EventType::purchase, EventType::refund, EventType::interaction,
                 EventType::referral, EventType::survey_response,
                 EventType::event_participation}) {
    CHECK(parse_event_type(to_string(v)) == v);
  }
  CHECK(std::string(to_string(InteractionKind::site_visit)) == "site_visit");
  CHECK(std::string(to_string(EventType::survey_response)) == "survey_response");
  CHECK(std::string(to_string(EventType::event_participation)) == "event_participation");
}

TEST_CASE("an unknown event enum name names the field and lists the choices") {
  CHECK_INVALID(parse_event_type("sale"),
                "type: unknown event type 'sale' (expected one of: purchase, refund, "
                "interaction, referral, survey_response, event_participation)");
  CHECK_INVALID(parse_interaction_kind("fax", "interaction.kind"),
                "interaction.kind: unknown interaction kind 'fax' (expected one of: call, "
                "visit, email, message, gift, hospitality, site_visit, event, meeting, other)");
  CHECK_INVALID(parse_contact_purpose("Care"),
                "purpose: unknown contact purpose 'Care' (expected one of: care, information, "
                "deal, service, intelligence)");
}

TEST_CASE("Event::type follows the payload") {
  CHECK(event_with(purchase("1.00")).type() == EventType::purchase);
  CHECK(event_with(EventParticipation{}).type() == EventType::event_participation);
}

// ---------------------------------------------------------------- common fields

TEST_CASE("every kind of valid event passes") {
  for (const Event& e : every_kind()) CHECK_NOTHROW(check(e));
}

TEST_CASE("an event needs a stored customer") {
  Event e = event_with(purchase("1.00"));
  e.customer = 0;
  CHECK_INVALID(check(e), "customer: must be a stored customer id (> 0), got 0");
  e.customer = -3;
  CHECK_INVALID(check(e), "customer: must be a stored customer id (> 0), got -3");
}

TEST_CASE("source and idempotency key are valid UTF-8 up to 256 bytes") {
  Event e = event_with(purchase("1.00"));
  e.source = std::string(257, 's');
  CHECK_INVALID(check(e), "source: is 257 bytes, longer than the limit of 256");
  e.source = "pos";
  e.idempotency_key = std::string(257, 'k');
  CHECK_INVALID(check(e), "idempotency_key: is 257 bytes, longer than the limit of 256");
  e.idempotency_key = "k\xC3\x28";
  CHECK_INVALID(check(e), "idempotency_key: is not valid UTF-8 (at byte 1)");
  e.idempotency_key = std::string(256, 'k');
  CHECK_NOTHROW(check(e));
}

// ---------------------------------------------------------------- purchase

TEST_CASE("a purchase amount is not negative; zero is a free order") {
  CHECK_INVALID(check(event_with(purchase("-0.01"))),
                "purchase.amount: must not be negative, got -0.01 USD");
  CHECK_NOTHROW(check(event_with(purchase("0"))));
}

TEST_CASE("a purchase is in the store's currency") {
  Purchase p = purchase("1.00");
  p.amount = Money::parse("1.00", Currency::of("EUR"));
  CHECK_INVALID(check(event_with(p)), "purchase.amount: currency EUR differs from the store's USD");
  p.amount = Money();
  CHECK_INVALID(check(event_with(p)), "purchase.amount: currency XXX differs from the store's USD");
}

TEST_CASE("a purchase has 1 to 100000 items") {
  Purchase p = purchase("1.00");
  p.item_count = 0;
  CHECK_INVALID(check(event_with(p)), "purchase.item_count: must be between 1 and 100000, got 0");
  p.item_count = 100001;
  CHECK_INVALID(check(event_with(p)),
                "purchase.item_count: must be between 1 and 100000, got 100001");
  p.item_count = 100000;
  CHECK_NOTHROW(check(event_with(p)));
}

TEST_CASE("purchase order id and category are limited to 256 bytes") {
  Purchase p = purchase("1.00");
  p.order_id = std::string(257, 'o');
  CHECK_INVALID(check(event_with(p)), "purchase.order_id: is 257 bytes, longer than the limit of 256");
  p.order_id = "A-1";
  p.category = "t\xED\xA0\x80";
  CHECK_INVALID(check(event_with(p)), "purchase.category: is not valid UTF-8 (at byte 1)");
}

// ---------------------------------------------------------------- refund

TEST_CASE("a refund amount is positive and in the store's currency") {
  CHECK_INVALID(check(event_with(refund("0.00"))), "refund.amount: must be positive, got 0.00 USD");
  CHECK_INVALID(check(event_with(refund("-1.00"))),
                "refund.amount: must be positive, got -1.00 USD");
  Refund r = refund("1.00");
  r.amount = Money::parse("1", Currency::of("JPY"));
  CHECK_INVALID(check(event_with(r)), "refund.amount: currency JPY differs from the store's USD");
  CHECK_NOTHROW(check(event_with(refund("0.01"))));
}

TEST_CASE("a refund names its purchase") {
  Refund r = refund("1.00");
  r.purchase = 0;
  CHECK_INVALID(check(event_with(r)), "refund.purchase: must be a purchase event id (> 0), got 0");
  r.purchase = 12;
  r.reason = std::string(4097, 'r');
  CHECK_INVALID(check(event_with(r)), "refund.reason: is 4097 bytes, longer than the limit of 4096");
}

// ---------------------------------------------------------------- other payloads

TEST_CASE("an interaction note is valid UTF-8 up to 4096 bytes") {
  Interaction i;
  i.note = std::string(4097, 'n');
  CHECK_INVALID(check(event_with(i)), "interaction.note: is 4097 bytes, longer than the limit of 4096");
  i.note = "\xC3\x28";
  CHECK_INVALID(check(event_with(i)), "interaction.note: is not valid UTF-8 (at byte 0)");
  i.note = std::string("a\0b", 3);
  CHECK_INVALID(check(event_with(i)), "interaction.note: contains a NUL byte (at byte 1)");
  i.note = std::string(4096, 'n');
  CHECK_NOTHROW(check(event_with(i)));
}

TEST_CASE("a referral brings in another stored customer") {
  Referral r;
  CHECK_INVALID(check(event_with(r)), "referral.referred: must be a stored customer id (> 0), got 0");
  r.referred = 7;  // the event's customer
  CHECK_INVALID(check(event_with(r)), "referral.referred: a customer cannot refer itself");
  r.referred = 8;
  CHECK_NOTHROW(check(event_with(r)));
}

TEST_CASE("a survey response has nps 0..10 or csat 1..5") {
  CHECK_INVALID(check(event_with(survey(std::nullopt, std::nullopt))),
                "survey_response: at least one of nps and csat is required");
  CHECK_INVALID(check(event_with(survey(11, std::nullopt))),
                "survey_response.nps: must be between 0 and 10, got 11");
  CHECK_INVALID(check(event_with(survey(-1, std::nullopt))),
                "survey_response.nps: must be between 0 and 10, got -1");
  CHECK_INVALID(check(event_with(survey(std::nullopt, 0))),
                "survey_response.csat: must be between 1 and 5, got 0");
  CHECK_INVALID(check(event_with(survey(5, 6))), "survey_response.csat: must be between 1 and 5, got 6");
  CHECK_NOTHROW(check(event_with(survey(0, std::nullopt))));
  CHECK_NOTHROW(check(event_with(survey(10, std::nullopt))));
  CHECK_NOTHROW(check(event_with(survey(std::nullopt, 1))));
  SurveyResponse s = survey(9, std::nullopt);
  s.comment = std::string(4097, 'c');
  CHECK_INVALID(check(event_with(s)),
                "survey_response.comment: is 4097 bytes, longer than the limit of 4096");
}

TEST_CASE("event participation needs an event name") {
  EventParticipation p;
  CHECK_INVALID(check(event_with(p)), "event_participation.event_name: must not be empty");
  p.event_name = std::string(257, 'e');
  CHECK_INVALID(check(event_with(p)),
                "event_participation.event_name: is 257 bytes, longer than the limit of 256");
  p.event_name = "fair";
  CHECK_NOTHROW(check(event_with(p)));
}

// ---------------------------------------------------------------- JSON

TEST_CASE("every event payload round-trips through JSON exactly") {
  for (const Event& e : every_kind()) {
    INFO(to_json(e).dump());
    const json j = to_json(e);
    CHECK(event_from_json(j) == e);
    CHECK(event_from_json_text(j.dump()) == e);
    CHECK(j.at("type") == json(to_string(e.type())));
    CHECK(j.contains(to_string(e.type())));
    CHECK(j.size() == 9);  // eight common keys and one payload
  }
}

TEST_CASE("the JSON form of a purchase is exact and deterministic") {
  Event e = event_with(purchase("19.90"));
  e.id = 5;
  e.recorded_at = Timestamp::parse("2024-03-01T12:30:01.5Z");
  e.actor = "cashier-2";
  const std::string expected =
      R"({"actor":"cashier-2","at":"2024-03-01T12:30:00Z","customer":7,"id":5,)"
      R"("idempotency_key":"","purchase":{"amount":{"amount":"19.90","currency":"USD"},)"
      R"("category":"tea","essential":true,"item_count":1,"order_id":"A-1001"},)"
      R"("recorded_at":"2024-03-01T12:30:01.500000Z","source":"pos","type":"purchase"})";
  CHECK(to_json(e).dump() == expected);
  CHECK(event_from_json_text(expected) == e);
}

TEST_CASE("the JSON form of a survey response writes missing scores as null") {
  const json j = to_json(event_with(survey(std::nullopt, 4)));
  CHECK(j.at("survey_response") ==
        json{{"survey", "after-visit"}, {"nps", nullptr}, {"csat", 4}, {"comment", ""}});
}

TEST_CASE("event JSON needs a type and exactly its payload") {
  CHECK_INVALID(event_from_json_text(R"({"customer":7,"purchase":{}})"),
                "type: required field missing");
  CHECK_INVALID(event_from_json_text(R"({"customer":7,"type":"purchase"})"),
                "purchase: required for type purchase");
  CHECK_INVALID(event_from_json_text(R"({"type":"purchase","purchase":{},"refund":{}})"),
                "refund: does not match type purchase");
  CHECK_INVALID(event_from_json_text(R"({"type":"sale","sale":{}})"), "sale: unknown field");
  CHECK_INVALID(event_from_json_text(R"({"type":"sale"})"),
                "type: unknown event type 'sale' (expected one of: purchase, refund, "
                "interaction, referral, survey_response, event_participation)");
  CHECK_INVALID(event_from_json_text(R"({"type":"referral","referral":[]})"),
                "referral: expected object, got array");
}

TEST_CASE("event JSON refuses unknown keys") {
  CHECK_INVALID(event_from_json_text(R"({"type":"referral","referral":{},"nickname":1})"),
                "nickname: unknown field");
  CHECK_INVALID(event_from_json_text(R"({"type":"purchase","purchase":{"discount":"1"}})"),
                "purchase.discount: unknown field");
  CHECK_INVALID(
      event_from_json_text(R"({"type":"purchase","purchase":{"amount":{"amount":"1","currency":"USD","fx":1}}})"),
      "purchase.amount.fx: unknown field");
}

TEST_CASE("event JSON refuses wrong JSON types") {
  CHECK_INVALID(event_from_json_text(R"([])"), "event: expected object, got array");
  CHECK_INVALID(
      event_from_json_text(R"({"type":"purchase","purchase":{"amount":{"amount":12.34,"currency":"USD"}}})"),
      "purchase.amount.amount: expected a decimal string, got number");
  CHECK_INVALID(event_from_json_text(R"({"type":"purchase","purchase":{"item_count":1.5}})"),
                "purchase.item_count: expected integer, got a number with a fraction or exponent");
  CHECK_INVALID(event_from_json_text(R"({"type":"purchase","purchase":{"item_count":1e3}})"),
                "purchase.item_count: expected integer, got a number with a fraction or exponent");
  CHECK_INVALID(event_from_json_text(R"({"type":"purchase","purchase":{"item_count":3000000000}})"),
                "purchase.item_count: integer 3000000000 is out of range [-2147483648, 2147483647]");
  CHECK_INVALID(event_from_json_text(R"({"type":"survey_response","survey_response":{"nps":"9"}})"),
                "survey_response.nps: expected integer, got string");
  CHECK_INVALID(event_from_json_text(R"({"customer":"7","type":"referral","referral":{}})"),
                "customer: expected integer, got string");
  CHECK_INVALID(event_from_json_text(R"({"type":"interaction","interaction":{"kind":"fax"}})"),
                "interaction.kind: unknown interaction kind 'fax' (expected one of: call, visit, "
                "email, message, gift, hospitality, site_visit, event, meeting, other)");
  CHECK_INVALID(event_from_json_text(R"({"type":"purchase","purchase":{"essential":"no"}})"),
                "purchase.essential: expected boolean, got string");
  CHECK_INVALID(event_from_json_text(R"({"type":"refund","refund":{"amount":"1.00 USD"}})"),
                "refund.amount: expected object, got string");
  CHECK_INVALID(event_from_json_text(R"({"type":5})"), "type: expected string, got number");
}

TEST_CASE("bad amounts and times in event JSON name the field") {
  CHECK_INVALID_PREFIX(
      event_from_json_text(R"({"type":"purchase","purchase":{"amount":{"amount":"12.345","currency":"USD"}}})"),
      "purchase.amount.amount: ");
  CHECK_INVALID(
      event_from_json_text(R"({"type":"purchase","purchase":{"amount":{"amount":"1","currency":"US"}}})"),
      "purchase.amount.currency: unknown currency 'US'");
  CHECK_INVALID_PREFIX(event_from_json_text(R"({"at":"2024-02-30","type":"referral","referral":{}})"),
                       "at: ");
  CHECK_INVALID_PREFIX(
      event_from_json_text(R"({"recorded_at":"soon","type":"referral","referral":{}})"),
      "recorded_at: ");
}

TEST_CASE("event JSON text: duplicate keys, deep nesting and malformed text are refused") {
  CHECK_INVALID_PREFIX(event_from_json_text(R"({"type":"referral","type":"refund"})"), "event: ");
  std::string deep = R"({"type":"referral","referral":{"referred":)";
  for (int i = 0; i < 100; ++i) deep += "[";
  for (int i = 0; i < 100; ++i) deep += "]";
  deep += "}}";
  CHECK_INVALID_PREFIX(event_from_json_text(deep), "event: ");
  CHECK_INVALID_PREFIX(event_from_json_text(R"({"type":"referral")"), "event: ");
}

TEST_CASE("event JSON without optional keys takes the defaults") {
  const Event e = event_from_json_text(R"({"type":"purchase","purchase":{}})");
  Event expected;
  expected.payload = Purchase{};
  CHECK(e == expected);
  // A default purchase amount is zero XXX ("no currency"), which round-trips too.
  CHECK(to_json(expected).at("purchase").at("amount") == json{{"amount", "0"}, {"currency", "XXX"}});
  CHECK(event_from_json(to_json(expected)) == expected);
  const Event s = event_from_json_text(
      R"({"type":"survey_response","survey_response":{"nps":null,"csat":3}})");
  REQUIRE(s.type() == EventType::survey_response);
  CHECK(std::get<SurveyResponse>(s.payload).nps == std::nullopt);
  CHECK(std::get<SurveyResponse>(s.payload).csat == 3);
}
