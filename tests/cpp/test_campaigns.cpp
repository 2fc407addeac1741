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
