// crmkit/records/event.hpp: the events of the append-only ledger.
//
// An Event is what happened with one customer at one time: a purchase, a refund of a purchase, an
// interaction (call, visit, gift, ...), a referral, a survey response or taking part in an event.
// The ledger never edits an event: corrections are new events (a Refund corrects a Purchase).
//
// Validation rules (checked by validate_event and by the Store on every write path alike:
// append_event, append_events, import_purchases and the restore import_jsonl):
//  - at: within Timestamp::min() .. max() (0001-01-01 .. 9999-12-31, crmkit/base/time.hpp), so
//    that every stored event can be exported and imported again.
//  - Purchase.amount: not negative, in the store's currency, no more decimals than it has, and
//    at most 2^63-1 minor units (the ledger keeps 64-bit minor units: 92233720368547758.07 USD);
//    item_count 1..100000. A documented exception to "amounts are positive": 0 is accepted on
//    every path, because free orders and promotions are real data (CDNOW_master.txt has 80
//    purchases of $0.00, CDNOW_sample.txt 8) and summaries and models must count them as
//    purchases. A negative purchase is refused on every path.
//  - Refund.amount: positive, same currency, at most 2^63-1 minor units like a purchase, and
//    never more than what is left of the purchase
//    after earlier refunds; a refund is not dated before its purchase (the Store checks these
//    two, on a live append and on a restore from import_jsonl alike).
//  - SurveyResponse: at least one of nps (0..10) and csat (1..5).
//  - Referral.referred: a stored customer other than the referrer.
//  - text fields: valid UTF-8; order_id, category, source, idempotency_key up to 256 bytes,
//    note/comment up to 4096 bytes.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "crmkit/records/customer.hpp"
#include "crmkit/base/money.hpp"
#include "crmkit/base/time.hpp"

namespace crmkit {
inline namespace v0 {

enum class InteractionKind {
  call = 0, visit = 1, email = 2, message = 3, gift = 4, hospitality = 5, site_visit = 6,
  event = 7, meeting = 8, other = 9
};

// The five functions of a contact (DOMAIN.md s.3).
enum class ContactPurpose { care = 0, information = 1, deal = 2, service = 3, intelligence = 4 };

enum class EventType {
  purchase = 0, refund = 1, interaction = 2, referral = 3, survey_response = 4,
  event_participation = 5
};

const char* to_string(InteractionKind v) noexcept;
const char* to_string(ContactPurpose v) noexcept;
const char* to_string(EventType v) noexcept;
InteractionKind parse_interaction_kind(std::string_view s, std::string_view field = "kind");
ContactPurpose parse_contact_purpose(std::string_view s, std::string_view field = "purpose");
EventType parse_event_type(std::string_view s, std::string_view field = "type");

struct Purchase {
  std::string order_id;        // the host's order number, optional
  Money amount;                // total paid, >= 0
  std::string category;        // product category, optional
  bool essential = true;       // false for non-essential goods (DOMAIN.md s.4)
  std::int32_t item_count = 1;

  friend bool operator==(const Purchase&, const Purchase&) = default;
};

struct Refund {
  EventId purchase = 0;        // the purchase event refunded (same customer)
  Money amount;                // > 0 and <= what is left of the purchase
  std::string reason;

  friend bool operator==(const Refund&, const Refund&) = default;
};

struct Interaction {
  InteractionKind kind = InteractionKind::other;
  ContactPurpose purpose = ContactPurpose::care;
  std::string commitment_asked;     // the commitment objective set for the contact, if any
  bool commitment_obtained = false; // only meaningful when commitment_asked is set
  std::string note;                 // free text; personal data, removed by erasure

  friend bool operator==(const Interaction&, const Interaction&) = default;
};

struct Referral {
  CustomerId referred = 0;          // the customer brought in by the event's customer

  friend bool operator==(const Referral&, const Referral&) = default;
};

struct SurveyResponse {
  std::string survey;               // which survey, optional
  std::optional<int> nps;           // 0..10
  std::optional<int> csat;          // 1..5
  std::string comment;              // free text; personal data, removed by erasure

  friend bool operator==(const SurveyResponse&, const SurveyResponse&) = default;
};

struct EventParticipation {
  std::string event_name;           // required
  std::string role;                 // "attendee", "speaker", ... optional

  friend bool operator==(const EventParticipation&, const EventParticipation&) = default;
};

using EventPayload =
    std::variant<Purchase, Refund, Interaction, Referral, SurveyResponse, EventParticipation>;

struct Event {
  EventId id = 0;                   // set by the Store; ignored on append
  CustomerId customer = 0;          // required: a stored, not erased customer
  Timestamp at;                     // when it happened
  std::string source;               // where the record came from: "pos", "import", ... optional
  std::string idempotency_key;      // optional; a repeat returns the first event, adds nothing
  EventPayload payload;
  // Kept by the Store; ignored on append.
  Timestamp recorded_at;
  std::string actor;

  EventType type() const noexcept { return static_cast<EventType>(payload.index()); }

  friend bool operator==(const Event&, const Event&) = default;
};

// Checks the parts of an event that need no store (amount signs, decimals, ranges, text).
// `currency` is the store's currency. Throws Error{invalid_argument} naming the field
// ("purchase.amount: ...").
void validate_event(const Event& event, const Currency& currency);

// Reads an event from JSON text: strict parsing, then the strict reading that event_from_json
// (crmkit/records/json.hpp) describes. Takes text and needs no JSON library in the host: a host
// that does not use nlohmann/json reads events with this. Throws Error{invalid_argument}: for
// text that is not strict JSON the message starts with "event: ", otherwise it names the field
// path ("purchase.amount: ..."). Does not validate business rules (use validate_event / a Store
// for that).
// The nlohmann::json forms (to_json(Event), event_from_json) are in crmkit/records/json.hpp, not
// included by crmkit/crmkit.hpp.
Event event_from_json_text(std::string_view text);

}  // namespace v0
}  // namespace crmkit
