// crmkit/analytics/engage.hpp: follow-up due lists and campaigns run on a Store: the store's
// customers, consents, contact preferences and Interaction events handed to the pure functions of
// crmkit/loyalty/followup.hpp and crmkit/loyalty/campaigns.hpp, and campaign touches and
// responses recorded as Interaction events through the store's ordinary append path.
//
// Store-level conventions (docs/engagement.md):
//  - Customers considered: neither soft-deleted nor erased, whose relationship started at or
//    before as_of: it starts at the record's created_at or at the customer's first purchase,
//    whichever is earlier (an imported history predates the records import_purchases creates),
//    and a never-contacted customer is due from that start.
//  - Consent: the store keeps one record per (channel, purpose), the current one; a record dated
//    after as_of counts as no record (as for facts).
//  - Facts: a policy or audience rule reads the standard facts of crmkit/analytics/facts.hpp as
//    of the date (stage.<m> and days_in_stage.<m> for the default machines, plus declared
//    windows); only the facts the rules read are computed.
//  - Suggested action: the first playbook entry of the customer's stage as of the date in the
//    lifecycle machine (default: the shipped customer_lifecycle; a customer without a transition
//    is in its initial state).
//  - Campaign events: a touch is an Interaction (kind from the channel: email -> email, sms and
//    im -> message, phone -> call, visit -> visit, post -> other; purpose
//    CampaignRecordOptions::contact_purpose) with source "campaign:<name>" and idempotency key
//    "campaign:<name>:touch:<customer id>"; a response is an Interaction (kind other, purpose
//    deal) with the same source and key "campaign:<name>:response:<customer id>". So each
//    customer is touched and responds at most once per campaign (a repeat returns the first
//    event), and both count as contacts for follow-up.
//
// Thread-safety: as the Store's; the rest is pure. Touches are checked against consent on one
// read and appended in a later write transaction: a consent withdrawn by another thread in
// between is not seen.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crmkit/analytics/facts.hpp"
#include "crmkit/base/money.hpp"
#include "crmkit/base/time.hpp"
#include "crmkit/loyalty/campaigns.hpp"
#include "crmkit/loyalty/followup.hpp"
#include "crmkit/store/store.hpp"

namespace crmkit {
inline namespace v0 {

class Machine;  // crmkit/lifecycle/machine.hpp

struct FollowUpOptions {
  // Horizon, counted interaction kinds and channel order (crmkit/loyalty/followup.hpp).
  DueOptions due;
  // Window facts the policy's rules read beyond the standard catalogue.
  std::vector<WindowFact> windows;
  // The fitted model for p_alive / expected_purchases_365d, if the rules read them.
  FactModel model;
  // The machine whose stage playbooks give the suggested action; null = the default
  // customer_lifecycle. Not owned; must outlive the call.
  const Machine* lifecycle = nullptr;
  // Suggest the stage playbook's first entry when the rule gives no action.
  bool stage_actions = true;
};

// The due list of the store's customers as of `as_of` (crmkit/loyalty/followup.hpp's rules and
// the conventions above). Throws as due_list (a rule that does not compile against the store's
// fact schema: "policy.rules[0].when...: unknown fact 'x'"), as facts_as_of, and
// Error{storage} if the store is closed.
DueList due_list(const Store& store, Timestamp as_of, const FollowUpPolicy& policy = {},
                 const FollowUpOptions& options = {});

struct CampaignAudienceOptions {
  // Purpose, channels and odds (crmkit/loyalty/campaigns.hpp).
  AudienceOptions audience;
  std::vector<WindowFact> windows;   // window facts the rule reads
  FactModel model;                   // for p_alive / expected_purchases_365d
};

// The audience of the store's customers as of `as_of`: purchase counts are the purchase_count
// fact (not fully refunded purchases as of the date). Throws as campaign_audience and
// facts_as_of.
Audience campaign_audience(const Store& store, Timestamp as_of,
                           const AudienceSelection& selection = {},
                           const CampaignAudienceOptions& options = {});

// One touch of a campaign: the customer and the channel used.
struct CampaignTouch {
  CustomerId customer = 0;
  Channel channel = Channel::email;
};

struct CampaignRecordOptions {
  std::string purpose = "marketing";                     // consent purpose checked for touches
  ContactPurpose contact_purpose = ContactPurpose::information;  // the touches' Interaction purpose
};

// Records the touches of campaign `name` ([a-z0-9_-]{1,64}) at `at`, in one transaction (all or
// nothing), and returns their event ids in input order. Throws Error{invalid_argument} for a bad
// name or a customer listed twice ("touches[3].customer: customer 7 is listed twice"),
// Error{not_found} for an unknown customer, Error{conflict} for a deleted or erased one,
// Error{consent_required} naming the customer unless its current consent record for
// (touch.channel, options.purpose) is granted and dated at or before `at`
// ("touches[2]: customer 7 ('c-7') has no granted consent for sms / marketing"),
// Error{conflict} naming the customer when it is at its contact limit: its Interaction events in
// the 30 days up to `at` (at - 30 days < event.at <= at) number max_contacts_per_30_days or more
// ("touches[1]: customer 7 ('c-7') is at its contact limit: max_contacts_per_30_days 2,
// contacts in the 30 days up to 2030-01-10T00:00:00Z: 2"; a repeat of this campaign's own touch of
// the customer is no new contact and passes), and what Store::append_events throws; nothing is
// written then.
std::vector<EventId> record_campaign_touches(Store& store, std::string_view name,
                                             std::span<const CampaignTouch> touches, Timestamp at,
                                             const CampaignRecordOptions& options = {},
                                             const WriteContext& ctx = {});
// The touches of every member of `audience` through its channel, with the audience's purpose.
std::vector<EventId> record_campaign_touches(Store& store, std::string_view name,
                                             const Audience& audience, Timestamp at,
                                             const WriteContext& ctx = {});

// Records that `customers` responded to campaign `name` at `at` (one transaction). Throws
// Error{invalid_argument} for a bad name, a customer listed twice, or one the campaign did not
// touch ("customers[1]: customer 9 was not touched by campaign 'spring'"), and what
// Store::append_events throws; nothing is written then.
std::vector<EventId> record_campaign_responses(Store& store, std::string_view name,
                                               std::span<const CustomerId> customers,
                                               Timestamp at, const WriteContext& ctx = {});

// The realised figures of campaign `name`: rows "prospect", "first_time", "repeat" (the class of
// each touched customer from its purchase count as of its touch: not fully refunded purchases at
// or before it) and "all". cost = cost_per_contact x touches; cost_per_response rounded
// half-even; expected_response_rate from `odds`. A campaign with no touches gives rows of zeros.
// Throws Error{invalid_argument} for a bad name or a negative cost, Error{storage}.
std::vector<CampaignReportRow> campaign_report(const Store& store, std::string_view name,
                                               const Money& cost_per_contact,
                                               const ResponseOdds& odds = {});

}  // namespace v0
}  // namespace crmkit
