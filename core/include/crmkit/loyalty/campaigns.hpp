// crmkit/loyalty/campaigns.hpp: campaign audiences reachable only through consented channels,
// projected cost and responses, and the targeted plan compared with the blanket one (DOMAIN.md
// s.3 conversion odds 6% / 15% / 50%; s.6: 10,000 SMS at 0.08 CNY with a 20% response waste
// 640 CNY). Pure functions; crmkit/analytics/engage.hpp runs them on a Store and records touches
// and responses.
//
// Semantics (docs/engagement.md):
//  - Class of a customer from its purchase count (not fully refunded purchases as of the date):
//    0 = prospect, 1 = first_time, >= 2 = repeat. Default response odds (seed 001): prospect
//    0.06, first_time 0.15, repeat 0.50.
//  - Audience: the selected customers (a rule over facts, an explicit list, or everyone) that
//    have a usable channel for the campaign's purpose (default "marketing"), with the consent
//    rules of crmkit/loyalty/followup.hpp (latest row at or before as_of decides, a withdrawal
//    wins a tie) and the same channel choice (preferred first, then the channel order). Selected
//    customers without one are listed apart (`unreachable`), never with a channel.
//  - Contact limit (DOMAIN.md s.4, as the due list): a reachable selected customer whose contacts
//    in the 30 days up to as_of (Interaction events of any kind, as_of - 30 days < at <= as_of)
//    reach its max_contacts_per_30_days is not a member either: it is listed in `at_limit` with
//    its count, its limit and next_contact_at (when its window count drops below the limit; none
//    for a limit of 0). Every selected customer is in exactly one of members, unreachable and
//    at_limit (unreachable first, as in the due list).
//  - Plan: cost = cost_per_contact x contacts (exact); expected responses = the sum of the
//    members' odds (a blanket plan: contacts x one rate); wasted spend = the cost of the contacts
//    expected not to respond = cost - cost_per_contact x expected responses, the second term
//    rounded half-even to the currency's minor units.
//
// Thread-safety: pure functions over values; call from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crmkit/base/money.hpp"
#include "crmkit/base/time.hpp"
#include "crmkit/loyalty/followup.hpp"
#include "crmkit/records/customer.hpp"

namespace crmkit {
inline namespace v0 {

enum class CustomerClass { prospect = 0, first_time = 1, repeat = 2 };
const char* to_string(CustomerClass v) noexcept;
CustomerClass parse_customer_class(std::string_view s, std::string_view field = "class");

// 0 -> prospect, 1 -> first_time, >= 2 -> repeat (a negative count is a prospect).
CustomerClass customer_class(std::int64_t purchase_count) noexcept;

// Response odds by class, each in [0, 1].
struct ResponseOdds {
  double prospect = 0.06;     // seed 001: selling to prospects succeeds 6% of the time
  double first_time = 0.15;   // to first-time customers 15%
  double repeat = 0.50;       // to repeat customers 50%

  double of(CustomerClass c) const noexcept;
};
// Throws Error{invalid_argument} naming `path` ("odds.repeat: must be in [0, 1], got 1.5").
void validate_response_odds(const ResponseOdds& odds, std::string_view path = "odds");

// Which customers a campaign selects. At most one of `rule` and `customers` may be set; neither
// selects every customer of the columns.
struct AudienceSelection {
  std::string rule;                      // strict JSON Logic over facts (JSON text)
  std::vector<CustomerId> customers;     // an explicit list (duplicates are refused)
};

struct AudienceOptions {
  std::string purpose = "marketing";     // the consent purpose of the campaign
  // Channels the campaign may use, in fallback order after the preferred channel; channels not
  // listed are never used (an SMS campaign: {Channel::sms}).
  std::vector<Channel> channel_order = default_channel_order();
  ResponseOdds odds;
};

struct AudienceMember {
  CustomerId customer = 0;
  Channel channel = Channel::email;
  std::int64_t purchase_count = 0;
  CustomerClass customer_class = CustomerClass::prospect;
  double response_probability = 0.0;     // odds.of(customer_class)
};

// A selected, reachable customer left out because it is at its contact limit.
struct AudienceAtLimit {
  CustomerId customer = 0;
  std::int32_t contacts_30d = 0;                // contacts in the 30 days up to as_of
  std::int32_t max_contacts_per_30_days = 0;    // its limit (<= contacts_30d)
  std::optional<Timestamp> next_contact_at;     // when it may be contacted again; none: limit 0
};

struct Audience {
  std::string purpose;
  std::vector<AudienceMember> members;        // reachable, ascending customer id
  std::vector<CustomerId> unreachable;        // selected but without a usable channel, ascending
  std::vector<AudienceAtLimit> at_limit;      // reachable but at the contact limit, ascending id

  std::size_t size() const noexcept { return members.size(); }
};

// The audience as of `as_of` (members, unreachable and at_limit as above). `purchase_count` holds each customer's purchase count (same order
// and length as columns.customer_id). Throws Error{invalid_argument} for unequal lengths, a
// rule that does not compile against columns.facts' schema ("audience.rule: ...") or is given
// without facts, both rule and customers set, a repeated customer in the list
// ("audience.customers[3]: customer 7 is listed twice"), an empty purpose, a repeated channel,
// bad odds; Error{not_found} for a listed customer not in the columns
// ("audience.customers[2]: no customer 42").
Audience campaign_audience(const ContactColumns& columns,
                           std::span<const std::int64_t> purchase_count, Timestamp as_of,
                           const AudienceSelection& selection = {},
                           const AudienceOptions& options = {});

// A projected campaign.
struct CampaignPlan {
  std::size_t contacts = 0;
  Money cost_per_contact;
  Money cost;                      // cost_per_contact x contacts, exact
  double expected_responses = 0.0;
  double expected_response_rate = 0.0;  // expected_responses / contacts (0 without contacts)
  Money wasted_spend;              // cost of the contacts expected not to respond
};

// A blanket plan: `contacts` contacts at `cost_per_contact`, each responding with `response_rate`.
// Throws Error{invalid_argument} for a negative cost or a rate outside [0, 1]; Error{overflow}
// if the cost does not fit.
CampaignPlan campaign_plan(std::size_t contacts, const Money& cost_per_contact,
                           double response_rate);
// The plan of an audience: its members' odds (summed in customer-id order).
CampaignPlan campaign_plan(const Audience& audience, const Money& cost_per_contact);

// A targeted plan against the blanket one.
struct PlanComparison {
  CampaignPlan targeted;
  CampaignPlan blanket;
  Money cost_saved;                // blanket.cost - targeted.cost
  Money waste_saved;               // blanket.wasted_spend - targeted.wasted_spend
  double responses_lost = 0.0;     // blanket.expected_responses - targeted.expected_responses
};
// Throws Error{invalid_argument} if the two plans' currencies differ.
PlanComparison compare_plans(const CampaignPlan& targeted, const CampaignPlan& blanket);

// The realised figures of a recorded campaign (analytics' campaign_report fills them).
struct CampaignReportRow {
  std::string group;               // "prospect", "first_time", "repeat" or "all"
  std::size_t touches = 0;
  std::size_t responses = 0;
  double response_rate = 0.0;      // responses / touches (0 without touches)
  double expected_response_rate = 0.0;  // the odds of the group ("all": mean over touches)
  Money cost;                      // cost_per_contact x touches
  std::optional<Money> cost_per_response;  // cost / responses rounded half-even; none without
};

// cost / responses rounded half-even to the currency's minor units; none when responses is 0.
std::optional<Money> cost_per_response(const Money& cost, std::size_t responses);

}  // namespace v0
}  // namespace crmkit
