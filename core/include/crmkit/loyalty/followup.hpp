// crmkit/loyalty/followup.hpp: follow-up cadence policies and the due list: who should be
// contacted as of a date, through which consented channel, with which suggested action
// (DOMAIN.md s.3: every customer at least once a year; s.4: through its preferred channel at its
// preferred frequency). Pure functions over columns; crmkit/analytics/engage.hpp runs them on a
// Store.
//
// Semantics (docs/engagement.md):
//  - Policy: ordered rules {name, when (strict JSON Logic over customer facts), every_days,
//    purpose, action}; the first rule whose `when` holds for a customer gives its cadence (a rule
//    without `when` always holds); a customer no rule matches gets default_every_days (365: seed
//    001) and default_purpose ("service").
//  - Contacts: every Interaction event counts as a contact (any kind and purpose, campaign
//    touches included) unless DueOptions::contact_kinds restricts the kinds. The last contact is
//    the latest one at or before as_of; a customer never contacted counts from its created_at.
//  - due_at = last contact (or created_at) + every_days days. Status "overdue" when due_at <=
//    as_of, "due" when as_of < due_at <= as_of + horizon_days; otherwise the customer is not
//    listed. days_overdue = floor((as_of - due_at) / 1 day) (negative for "due" entries).
//  - Consent as of the date: for each (channel, purpose) the latest consent row at or before
//    as_of decides (granted or withdrawn; on equal times a withdrawal wins); rows dated after
//    as_of are ignored. A channel is usable when it has a granted consent for the rule's purpose
//    (exact, case-sensitive token match).
//  - Channel: the preferred channel if usable, else the first usable one in
//    DueOptions::channel_order (default email, phone, sms, im, post, visit).
//  - Every listed customer is in exactly one of three lists: `unreachable` (no usable channel:
//    never offered a channel), else `at_limit` (its contacts in the 30 days up to as_of, i.e.
//    as_of - 30 days < at <= as_of, reach max_contacts_per_30_days: not offered now;
//    next_contact_at = the first time its window count drops below the limit, none when the limit
//    is 0), else `due` (with its channel).
//  - Action: the matched rule's action if not empty, else the customer's stage action (the first
//    playbook entry of its customer_lifecycle stage, handed in as a column), else empty.
//  - Order of every list: due_at ascending (most overdue first), then customer id ascending.
//  - Customers that do not exist as of the date (created after as_of and without a contact at or
//    before it) are not listed.
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

#include "crmkit/base/time.hpp"
#include "crmkit/records/customer.hpp"
#include "crmkit/records/event.hpp"
#include "crmkit/rules/facts.hpp"

namespace crmkit {
inline namespace v0 {

// One cadence rule of a policy.
struct CadenceRule {
  std::string name;                 // [a-z0-9_]{1,64}, unique in the policy
  std::string when;                 // strict JSON Logic (JSON text) over facts; empty = always
  std::int32_t every_days = 365;    // 1..36500: contact at least every this many days
  std::string purpose = "service";  // consent purpose to contact for (lower-case token)
  std::string action;               // suggested action; empty = the stage playbook's

  friend bool operator==(const CadenceRule&, const CadenceRule&) = default;
};

// A follow-up policy: ordered rules, first match wins, and the default cadence.
struct FollowUpPolicy {
  std::vector<CadenceRule> rules;
  std::int32_t default_every_days = 365;     // seed 001: every customer at least once a year
  std::string default_purpose = "service";   // the purpose when no rule matches
  std::string default_action;                // empty = the stage playbook's

  friend bool operator==(const FollowUpPolicy&, const FollowUpPolicy&) = default;
};

// Checks a policy without facts (names, ranges, purposes; `when` must be JSON text when set).
// Throws Error{invalid_argument} naming `path` and the member ("policy.rules[1].every_days: must
// be in 1..36500, got 0"; "policy.rules[2].name: 'vip' is used twice").
void validate_follow_up_policy(const FollowUpPolicy& policy, std::string_view path = "policy");

// Reads a policy from JSON text:
//   {"rules": [{"name": "vip", "when": {"==": [{"var": "rfm.segment"}, "champions"]},
//               "every_days": 30, "purpose": "service", "action": "call"}],
//    "default_every_days": 365, "default_purpose": "service", "default_action": ""}
// Every member is optional except each rule's name and every_days. Unknown members are refused.
// Throws Error{invalid_argument} naming the JSON path ("policy.rules[0].every_days: must be an
// integer in 1..36500, got \"x\"") and as validate_follow_up_policy.
FollowUpPolicy follow_up_policy_from_json_text(std::string_view text,
                                               std::string_view path = "policy");
// The JSON text of a policy (follow_up_policy_from_json_text reads it back equal).
std::string to_json_text(const FollowUpPolicy& policy);

// The channels in the default fallback order: email, phone, sms, im, post, visit.
std::vector<Channel> default_channel_order();

// Per-customer contact data, consent rows and contacts: the input of due_list and of
// campaign_audience (crmkit/loyalty/campaigns.hpp). Spans are views the caller keeps alive.
// Within a group every given span has the same length.
struct ContactColumns {
  // Customers: one row each, ids unique. The others of this group may be empty (not given):
  // created_at (then every customer exists; a never-contacted one is due from the epoch),
  // preferred_channel (Channel code, -1 = none), max_contacts_per_30_days (-1 = no limit).
  std::span<const CustomerId> customer_id;
  std::span<const std::int64_t> created_at_micros;
  std::span<const std::int8_t> preferred_channel;
  std::span<const std::int32_t> max_contacts_per_30_days;
  // Facts for policy and audience rules: one row per customer, in customer_id's order; may be
  // null when no rule reads a fact.
  const FactTable* facts = nullptr;
  // The suggested action of each customer's lifecycle stage (empty = none); may be empty.
  std::span<const std::string> stage_action;

  // Consent rows (any number per customer and (channel, purpose): a history).
  std::span<const CustomerId> consent_customer_id;
  std::span<const std::uint8_t> consent_channel;      // Channel code
  std::span<const std::string> consent_purpose;
  std::span<const std::uint8_t> consent_granted;      // 1 granted, 0 withdrawn
  std::span<const std::int64_t> consent_at_micros;

  // Contacts: Interaction events. kind may be empty (every row counts).
  std::span<const CustomerId> interaction_customer_id;
  std::span<const std::int64_t> interaction_at_micros;
  std::span<const std::uint8_t> interaction_kind;     // InteractionKind code
};

enum class DueStatus { overdue = 0, due = 1 };
const char* to_string(DueStatus v) noexcept;

struct DueOptions {
  // Also list customers due within this many days after as_of (status "due"); 0..36500.
  std::int32_t horizon_days = 0;
  // The interaction kinds that count as contacts; empty = every kind.
  std::vector<InteractionKind> contact_kinds;
  // Fallback channel order after the preferred channel; channels not listed are never used.
  std::vector<Channel> channel_order = default_channel_order();
};

// One listed customer.
struct DueEntry {
  CustomerId customer = 0;
  std::optional<Timestamp> last_contact;     // none: never contacted (counted from created_at)
  Timestamp due_at;
  std::int64_t days_overdue = 0;             // floor((as_of - due_at) / 1 day)
  DueStatus status = DueStatus::overdue;
  std::string rule;                          // the matched rule's name; "default" when none
  std::string purpose;                       // the consent purpose of the contact
  std::optional<Channel> channel;            // set in `due` only
  std::string action;                        // suggested action, or empty
  std::int32_t contacts_30d = 0;             // contacts in the 30 days up to as_of
  std::optional<Timestamp> next_contact_at;  // at_limit only: when it may be contacted again
};

struct DueList {
  Timestamp as_of;
  std::vector<DueEntry> due;          // reachable now, each with its channel
  std::vector<DueEntry> unreachable;  // no granted consent on any channel for the purpose
  std::vector<DueEntry> at_limit;     // reachable but at max_contacts_per_30_days

  std::size_t size() const noexcept { return due.size() + unreachable.size() + at_limit.size(); }
};

// The due list as of `as_of` (see the top for every rule).
// Throws Error{invalid_argument} for columns of unequal length ("consent_channel: length 3
// differs from consent_customer_id (4)"), a duplicate customer id, an unknown customer in a
// consent or interaction row, an enum code out of range, a facts table whose row count differs
// from customer_id's, a rule `when` that does not compile against facts' schema (the message
// starts with "policy.rules[i].when"), a `when` given without facts, horizon_days out of range,
// a repeated channel in channel_order, and as validate_follow_up_policy.
DueList due_list(const FollowUpPolicy& policy, const ContactColumns& columns, Timestamp as_of,
                 const DueOptions& options = {});

}  // namespace v0
}  // namespace crmkit
