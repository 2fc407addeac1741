// Campaign audiences, plans and comparisons over columns (crmkit/loyalty/campaigns.hpp).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "crmkit/crmkit.hpp"
#include "support.hpp"

using namespace crmkit;
using namespace crmkit::test;

TEST_CASE("the source text's case: 10,000 SMS at 0.08 CNY with a 20% response") {
  const Currency cny = Currency::of("CNY");
  const CampaignPlan p = campaign_plan(10000, Money::parse("0.08", cny), 0.20);
  CHECK(p.cost.to_string() == Money::parse("800.00", cny).to_string());
  CHECK(p.cost == Money::parse("800.00", cny));
  CHECK(p.expected_responses == 2000.0);
  CHECK(p.wasted_spend == Money::parse("640.00", cny));
  CHECK(p.expected_response_rate == 0.20);
}

TEST_CASE("wasted spend is rounded half-even to minor units; bad inputs are refused") {
  // 3 contacts at 0.05 with rate 0.5: responders cost 0.05 x 1.5 = 0.075 -> 0.08 (half-even on
  // 7.5 cents gives 8); waste 0.15 - 0.08 = 0.07.
  const CampaignPlan p = campaign_plan(3, m("0.05"), 0.5);
  CHECK(p.wasted_spend == m("0.07"));
  // 0.05 x 0.5 = 2.5 cents -> 2 (half-even); waste 0.05 - 0.02 = 0.03.
  CHECK(campaign_plan(1, m("0.05"), 0.5).wasted_spend == m("0.03"));
  CHECK(catch_error([] { campaign_plan(1, m("0.05"), 1.5); }).code() ==
        ErrorCode::invalid_argument);
  CHECK(catch_error([] { campaign_plan(1, m("-0.05"), 0.5); }).code() ==
        ErrorCode::invalid_argument);
  CHECK(cost_per_response(m("1.00"), 3) == m("0.33"));
  CHECK(cost_per_response(m("0.05"), 2) == m("0.02"));  // 2.5 cents -> 2
  CHECK(cost_per_response(m("0.07"), 2) == m("0.04"));  // 3.5 cents -> 4
  CHECK(!cost_per_response(m("1.00"), 0));
}

TEST_CASE("customer classes from purchase counts and the seed odds") {
  CHECK(customer_class(0) == CustomerClass::prospect);
  CHECK(customer_class(1) == CustomerClass::first_time);
  CHECK(customer_class(2) == CustomerClass::repeat);
  CHECK(customer_class(7) == CustomerClass::repeat);
  const ResponseOdds o;
  CHECK(o.of(CustomerClass::prospect) == 0.06);
  CHECK(o.of(CustomerClass::first_time) == 0.15);
  CHECK(o.of(CustomerClass::repeat) == 0.50);
  CHECK(std::string(catch_error([] {
          ResponseOdds bad;
          bad.repeat = 1.5;
          validate_response_odds(bad);
        }).what()) == "odds.repeat: must be in [0, 1], got 1.500000");
}

TEST_CASE("audience: only consented channels for the purpose; targeted against blanket") {
  const Timestamp as_of = Timestamp::parse("2024-06-30T00:00:00Z");
  const std::int64_t before = Timestamp::parse("2024-01-01T00:00:00Z").micros();
  std::vector<CustomerId> id{1, 2, 3, 4};
  std::vector<std::int8_t> preferred{-1, static_cast<std::int8_t>(Channel::email), -1, -1};
  std::vector<CustomerId> k_id{1, 2, 2, 3};
  std::vector<std::uint8_t> k_channel{2, 0, 2, 0};  // sms, email, sms, email
  std::vector<std::string> k_purpose{"marketing", "marketing", "marketing", "service"};
  std::vector<std::uint8_t> k_granted{1, 1, 1, 1};
  std::vector<std::int64_t> k_at{before, before, before, before};
  ContactColumns c;
  c.customer_id = id;
  c.preferred_channel = preferred;
  c.consent_customer_id = k_id;
  c.consent_channel = k_channel;
  c.consent_purpose = k_purpose;
  c.consent_granted = k_granted;
  c.consent_at_micros = k_at;
  FactSchema schema;
  schema.add("purchase_count", FactType::integer);
  FactTable facts(schema, 4);
  const std::vector<std::int64_t> counts{0, 1, 3, 2};
  for (std::size_t i = 0; i < 4; ++i) facts.set_integer(i, 0, counts[i]);
  c.facts = &facts;

  const Audience all = campaign_audience(c, counts, as_of);
  REQUIRE(all.members.size() == 2);
  CHECK(all.members[0].customer == 1);
  CHECK(all.members[0].channel == Channel::sms);
  CHECK(all.members[0].customer_class == CustomerClass::prospect);
  CHECK(all.members[1].customer == 2);
  CHECK(all.members[1].channel == Channel::email);  // preferred
  CHECK(all.members[1].response_probability == 0.15);
  CHECK(all.unreachable == std::vector<CustomerId>{3, 4});  // 3 has a service consent only

  AudienceSelection sel;
  sel.rule = R"({">=": [{"var": "purchase_count"}, 1]})";
  AudienceOptions sms;
  sms.channel_order = {Channel::sms};
  const Audience targeted = campaign_audience(c, counts, as_of, sel, sms);
  REQUIRE(targeted.members.size() == 1);
  CHECK(targeted.members[0].customer == 2);
  CHECK(targeted.members[0].channel == Channel::sms);  // e-mail preferred but not allowed

  const PlanComparison cmp =
      compare_plans(campaign_plan(targeted, m("0.10")), campaign_plan(all, m("0.10")));
  CHECK(cmp.targeted.cost == m("0.10"));
  CHECK(cmp.blanket.cost == m("0.20"));
  CHECK(cmp.cost_saved == m("0.10"));
  CHECK(cmp.responses_lost == Approx(0.06));
  // Blanket: responders cost 0.10 x 0.21 = 2.1 cents -> 2: waste 0.18; targeted 0.10 x 0.15 =
  // 1.5 cents -> 2: waste 0.08.
  CHECK(cmp.blanket.wasted_spend == m("0.18"));
  CHECK(cmp.targeted.wasted_spend == m("0.08"));
  CHECK(cmp.waste_saved == m("0.10"));

  sel.rule.clear();
  sel.customers = {4, 2};
  const Audience listed = campaign_audience(c, counts, as_of, sel);
  REQUIRE(listed.members.size() == 1);
  CHECK(listed.members[0].customer == 2);
  CHECK(listed.unreachable == std::vector<CustomerId>{4});
  sel.customers = {9};
  const Error e = catch_error([&] { campaign_audience(c, counts, as_of, sel); });
  CHECK(e.code() == ErrorCode::not_found);
  CHECK(std::string(e.what()) == "audience.customers[0]: no customer 9");
}

TEST_CASE("audience: a customer at its contact limit is listed apart, never a member") {
  const Timestamp as_of = Timestamp::parse("2024-06-30T00:00:00Z");
  const auto at = [](const char* s) { return Timestamp::parse(s).micros(); };
  const std::int64_t before = at("2024-01-01T00:00:00Z");
  // 1: limit 2, contacts Jun 10 and Jun 20 (both in the window): at limit, free again Jul 10.
  // 2: limit 2, contacts May 31 (exactly 30 days before: outside) and Jun 29: a member.
  // 3: limit 0: at limit without a next date. 4: no limit, 3 contacts: a member.
  // 5: limit 1 but no consent: unreachable (unreachable wins). 6: limit 1, contacts Jun 1,
  // Jun 5, Jun 30 00:00 (at as_of: counts), Jul 1 (after as_of: ignored): 3 >= 1, free again
  // once the newest of the three leaves the window: Jul 30.
  std::vector<CustomerId> id{6, 5, 4, 3, 2, 1};  // not sorted: lists come back by id
  std::vector<std::int32_t> limit{1, 1, -1, 0, 2, 2};
  std::vector<CustomerId> k_id{1, 2, 3, 4, 6};
  std::vector<std::uint8_t> k_channel{0, 0, 0, 0, 0};
  std::vector<std::string> k_purpose(5, "marketing");
  std::vector<std::uint8_t> k_granted(5, 1);
  std::vector<std::int64_t> k_at(5, before);
  std::vector<CustomerId> i_id{1, 1, 2, 2, 4, 4, 4, 5, 6, 6, 6, 6};
  std::vector<std::int64_t> i_at{
      at("2024-06-10T00:00:00Z"), at("2024-06-20T00:00:00Z"), at("2024-05-31T00:00:00Z"),
      at("2024-06-29T00:00:00Z"), at("2024-06-01T00:00:00Z"), at("2024-06-02T00:00:00Z"),
      at("2024-06-03T00:00:00Z"), at("2024-06-03T00:00:00Z"), at("2024-06-05T00:00:00Z"),
      at("2024-06-01T00:00:00Z"), at("2024-06-30T00:00:00Z"), at("2024-07-01T00:00:00Z")};
  ContactColumns c;
  c.customer_id = id;
  c.max_contacts_per_30_days = limit;
  c.consent_customer_id = k_id;
  c.consent_channel = k_channel;
  c.consent_purpose = k_purpose;
  c.consent_granted = k_granted;
  c.consent_at_micros = k_at;
  c.interaction_customer_id = i_id;
  c.interaction_at_micros = i_at;
  const std::vector<std::int64_t> counts{0, 0, 0, 0, 0, 0};

  const Audience a = campaign_audience(c, counts, as_of);
  REQUIRE(a.members.size() == 2);
  CHECK(a.members[0].customer == 2);
  CHECK(a.members[1].customer == 4);
  CHECK(a.unreachable == std::vector<CustomerId>{5});
  REQUIRE(a.at_limit.size() == 3);
  CHECK(a.at_limit[0].customer == 1);
  CHECK(a.at_limit[0].contacts_30d == 2);
  CHECK(a.at_limit[0].max_contacts_per_30_days == 2);
  CHECK(a.at_limit[0].next_contact_at == Timestamp::parse("2024-07-10T00:00:00Z"));
  CHECK(a.at_limit[1].customer == 3);
  CHECK(a.at_limit[1].contacts_30d == 0);
  CHECK(a.at_limit[1].max_contacts_per_30_days == 0);
  CHECK(!a.at_limit[1].next_contact_at);
  CHECK(a.at_limit[2].customer == 6);
  CHECK(a.at_limit[2].contacts_30d == 3);
  CHECK(a.at_limit[2].max_contacts_per_30_days == 1);
  CHECK(a.at_limit[2].next_contact_at == Timestamp::parse("2024-07-30T00:00:00Z"));
  // The plan counts members only.
  CHECK(campaign_plan(a, m("0.10")).contacts == 2);

  // A day later customer 1's Jun 10 contact is still in the window; on Jul 10 it has left.
  const Audience day_before =
      campaign_audience(c, counts, Timestamp::parse("2024-07-09T23:59:59Z"));
  CHECK(day_before.at_limit[0].customer == 1);
  const Audience later = campaign_audience(c, counts, Timestamp::parse("2024-07-10T00:00:00Z"));
  REQUIRE(!later.members.empty());
  CHECK(later.members[0].customer == 1);

  // An explicit list: the at-limit customer is still kept out.
  AudienceSelection sel;
  sel.customers = {1, 4};
  const Audience listed = campaign_audience(c, counts, as_of, sel);
  REQUIRE(listed.members.size() == 1);
  CHECK(listed.members[0].customer == 4);
  REQUIRE(listed.at_limit.size() == 1);
  CHECK(listed.at_limit[0].customer == 1);

  // Without the limit column nobody is at a limit.
  c.max_contacts_per_30_days = {};
  const Audience free = campaign_audience(c, counts, as_of);
  CHECK(free.members.size() == 5);
  CHECK(free.at_limit.empty());
}
