// Follow-up cadence policies and the due list over columns (crmkit/loyalty/followup.hpp).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "crmkit/crmkit.hpp"
#include "support.hpp"

using namespace crmkit;
using namespace crmkit::test;

namespace {

constexpr std::int64_t kDay = 86'400'000'000LL;
const Timestamp kAsOf = Timestamp::parse("2024-06-30T00:00:00Z");
std::int64_t day(int d) { return Timestamp::parse("2024-01-01T00:00:00Z").micros() + d * kDay; }

// Three customers: 1 contacted on day 0, 2 never contacted (created day -400), 3 contacted on
// day 170 and twice more.
struct Fixture {
  std::vector<CustomerId> id{1, 2, 3};
  std::vector<std::int64_t> created{day(-500), day(-400), day(-10)};
  std::vector<std::int8_t> preferred{static_cast<std::int8_t>(Channel::sms), -1, -1};
  std::vector<std::int32_t> limit{-1, -1, 2};
  std::vector<CustomerId> k_id{1, 1, 2, 3};
  std::vector<std::uint8_t> k_channel{static_cast<std::uint8_t>(Channel::email),
                                      static_cast<std::uint8_t>(Channel::sms),
                                      static_cast<std::uint8_t>(Channel::email),
                                      static_cast<std::uint8_t>(Channel::phone)};
  std::vector<std::string> k_purpose{"service", "service", "marketing", "service"};
  std::vector<std::uint8_t> k_granted{1, 1, 1, 1};
  std::vector<std::int64_t> k_at{day(-600), day(-600), day(-600), day(-20)};
  std::vector<CustomerId> i_id{1, 3, 3, 3};
  std::vector<std::int64_t> i_at{day(-200), day(150), day(170), day(175)};
  std::vector<std::string> actions{"care", "screen leads", "onboarding"};

  ContactColumns view() const {
    ContactColumns c;
    c.customer_id = id;
    c.created_at_micros = created;
    c.preferred_channel = preferred;
    c.max_contacts_per_30_days = limit;
    c.consent_customer_id = k_id;
    c.consent_channel = k_channel;
    c.consent_purpose = k_purpose;
    c.consent_granted = k_granted;
    c.consent_at_micros = k_at;
    c.interaction_customer_id = i_id;
    c.interaction_at_micros = i_at;
    c.stage_action = actions;
    return c;
  }
};

std::string render(const DueList& d) {
  std::string out;
  const auto line = [&](const char* list, const DueEntry& e) {
    out += std::string(list) + " " + std::to_string(e.customer) + " " + to_string(e.status) +
           " due " + e.due_at.to_string() + " days " + std::to_string(e.days_overdue) + " rule " +
           e.rule + " " + e.purpose + " ch " + (e.channel ? to_string(*e.channel) : "-") +
           " action '" + e.action + "' c30 " + std::to_string(e.contacts_30d) + " next " +
           (e.next_contact_at ? e.next_contact_at->to_string() : "-") + "\n";
  };
  for (const auto& e : d.due) line("due", e);
  for (const auto& e : d.unreachable) line("unreachable", e);
  for (const auto& e : d.at_limit) line("at_limit", e);
  return out;
}

}  // namespace

TEST_CASE("default policy: every customer at least once a year, preferred channel first") {
  Fixture f;
  const DueList d = due_list(FollowUpPolicy{}, f.view(), kAsOf);
  // 1: last contact day -200 -> due day 165 (2024-06-14): overdue 16 days, sms preferred.
  // 2: never contacted, created day -400 -> due day -35: overdue; only a marketing consent.
  // 3: last contact day 175 -> due next year: not listed.
  CHECK(render(d) ==
        "due 1 overdue due 2024-06-14T00:00:00Z days 16 rule default service ch sms action "
        "'care' c30 0 next -\n"
        "unreachable 2 overdue due 2023-11-27T00:00:00Z days 216 rule default service ch - "
        "action 'screen leads' c30 0 next -\n");
}

TEST_CASE("first matching rule gives cadence, purpose and action; horizon lists due entries") {
  Fixture f;
  FactSchema schema;
  schema.add("vip", FactType::boolean);
  FactTable facts(schema, 3);
  facts.set_boolean(2, 0, true);  // customer 3
  ContactColumns c = f.view();
  c.facts = &facts;
  FollowUpPolicy p = follow_up_policy_from_json_text(
      R"({"rules": [{"name": "vip", "when": {"var": "vip"}, "every_days": 7, "action": "call"}]})");
  const DueList d = due_list(p, c, kAsOf);
  // 3 is due day 182 (2024-07-01), after as_of: not listed without a horizon.
  REQUIRE(d.size() == 2);
  DueOptions o;
  o.horizon_days = 1;
  const DueList h = due_list(p, c, kAsOf, o);
  REQUIRE(h.size() == 3);
  // 3 has 2 contacts in the last 30 days (days 170 and 175; day 150 is outside) and a limit of
  // 2: at its limit. The oldest contact of the window (day 170) leaves it on day 200.
  REQUIRE(h.at_limit.size() == 1);
  CHECK(h.at_limit[0].customer == 3);
  CHECK(h.at_limit[0].status == DueStatus::due);
  CHECK(h.at_limit[0].days_overdue == -1);
  CHECK(h.at_limit[0].rule == "vip");
  CHECK(h.at_limit[0].action == "call");
  CHECK(h.at_limit[0].contacts_30d == 2);
  CHECK(!h.at_limit[0].channel);
  CHECK(h.at_limit[0].next_contact_at == Timestamp::from_micros(day(200)));
}

TEST_CASE("recording a contact takes the customer off the list") {
  Fixture f;
  f.i_id.push_back(1);
  f.i_at.push_back(day(179));
  f.i_id.push_back(2);
  f.i_at.push_back(day(181) + 5);  // after as_of: does not count
  const DueList d = due_list(FollowUpPolicy{}, f.view(), kAsOf);
  REQUIRE(d.due.empty());
  REQUIRE(d.unreachable.size() == 1);
  CHECK(d.unreachable[0].customer == 2);
}

TEST_CASE("consent as of the date: later rows ignored, withdrawal wins a tie") {
  Fixture f;
  // Customer 1 withdraws sms on day 100 and re-grants it after as_of; e-mail stays.
  f.k_id.insert(f.k_id.end(), {1, 1, 1});
  f.k_channel.insert(f.k_channel.end(), {static_cast<std::uint8_t>(Channel::sms),
                                         static_cast<std::uint8_t>(Channel::sms),
                                         static_cast<std::uint8_t>(Channel::email)});
  f.k_purpose.insert(f.k_purpose.end(), {"service", "service", "service"});
  f.k_granted.insert(f.k_granted.end(), {0, 1, 0});
  f.k_at.insert(f.k_at.end(), {day(100), day(190), day(-600)});  // e-mail: tie -> withdrawn
  const DueList d = due_list(FollowUpPolicy{}, f.view(), kAsOf);
  REQUIRE(d.unreachable.size() == 2);
  CHECK(d.unreachable[0].customer == 2);
  CHECK(d.unreachable[1].customer == 1);
}

TEST_CASE("ordering: most overdue first, then customer id; limit 0 means never") {
  Fixture f;
  f.created = {day(-400), day(-400), day(-400)};
  f.i_id.clear();
  f.i_at.clear();
  f.k_purpose = {"service", "service", "service", "service"};
  f.limit = {-1, 0, -1};
  f.k_at[3] = day(-600);
  const DueList d = due_list(FollowUpPolicy{}, f.view(), kAsOf);
  REQUIRE(d.due.size() == 2);
  CHECK(d.due[0].customer == 1);
  CHECK(d.due[1].customer == 3);
  CHECK(d.due[1].channel == Channel::phone);
  REQUIRE(d.at_limit.size() == 1);
  CHECK(d.at_limit[0].customer == 2);
  CHECK(!d.at_limit[0].next_contact_at);
}

TEST_CASE("policy JSON: round trip and path-named errors") {
  const FollowUpPolicy p = follow_up_policy_from_json_text(
      R"({"rules": [{"name": "champions", "when": {"==": [{"var": "rfm.segment"}, "champions"]},
          "every_days": 30, "purpose": "care", "action": "call"}], "default_every_days": 180})");
  CHECK(p.rules.size() == 1);
  CHECK(p.default_every_days == 180);
  CHECK(follow_up_policy_from_json_text(to_json_text(p)) == p);
  CHECK(std::string(catch_error([] {
          follow_up_policy_from_json_text(R"({"rules": [{"name": "a", "every_days": 0}]})");
        }).what()) == "policy.rules[0].every_days: must be an integer in 1..36500, got 0");
  CHECK(std::string(catch_error([] {
          follow_up_policy_from_json_text(
              R"({"rules": [{"name": "a", "every_days": 5}, {"name": "a", "every_days": 6}]})");
        }).what()) == "policy.rules[1].name: 'a' is used twice");
  CHECK(std::string(catch_error([] {
          follow_up_policy_from_json_text(R"({"rules": [], "colour": 1})");
        }).what()) == "policy.colour: unknown member");
  Fixture f;
  const Error e = catch_error([&] {
    FactSchema schema;
    schema.add("vip", FactType::boolean);
    FactTable facts(schema, 3);
    ContactColumns c = f.view();
    c.facts = &facts;
    FollowUpPolicy bad;
    bad.rules.push_back({"x", R"({"var": "nope"})", 10, "service", ""});
    due_list(bad, c, kAsOf);
  });
  CHECK(e.code() == ErrorCode::invalid_argument);
  CHECK(std::string(e.what()).rfind("policy.rules[0].when", 0) == 0);
}
