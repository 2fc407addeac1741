// Event enums, validation and JSON forms.
#include "crmkit/records/event.hpp"

#include <array>
#include <cstdint>
#include <limits>
#include <string>

#include "crmkit/base/error.hpp"
#include "crmkit/base/json.hpp"
#include "crmkit/records/json.hpp"
#include "records/detail.hpp"

namespace crmkit {
inline namespace v0 {

using detail::JsonObject;
using nlohmann::json;

namespace {

constexpr std::array<const char*, 10> kInteractionKinds = {
    "call", "visit", "email", "message", "gift", "hospitality", "site_visit", "event", "meeting",
    "other"};
constexpr std::array<const char*, 5> kContactPurposes = {"care", "information", "deal", "service",
                                                         "intelligence"};
constexpr std::array<const char*, 6> kEventTypes = {
    "purchase", "refund", "interaction", "referral", "survey_response", "event_participation"};

constexpr std::size_t kShortText = 256;
constexpr std::size_t kLongText = 4096;

void check_range(const std::string& field, long long value, long long lo, long long hi) {
  if (value < lo || value > hi) {
    throw_invalid(field, "must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
                             ", got " + std::to_string(value));
  }
}

void check_currency(const Money& amount, const std::string& field, const Currency& currency) {
  if (amount.currency() != currency) {
    throw_invalid(field, "currency " + std::string(amount.currency().code()) +
                             " differs from the store's " + std::string(currency.code()));
  }
}

// The ledger keeps an amount as 64-bit minor units (event.hpp): a larger one, exact as a Money
// (128-bit), is refused here naming the field, not later by the store's write.
void check_ledger_range(const Money& amount, const std::string& field) {
  if (!amount.minor_units().fits_int64()) {
    const Money limit =
        Money::from_minor(std::numeric_limits<std::int64_t>::max(), amount.currency());
    throw_invalid(field, amount.to_string() + " is over the ledger's limit of " +
                             limit.to_string());
  }
}

void validate_payload(const Purchase& p, const Event&, const Currency& currency) {
  check_text(p.order_id, "purchase.order_id", 0, kShortText);
  check_currency(p.amount, "purchase.amount", currency);
  if (p.amount.is_negative()) {
    throw_invalid("purchase.amount", "must not be negative, got " + p.amount.to_string());
  }
  check_ledger_range(p.amount, "purchase.amount");
  check_text(p.category, "purchase.category", 0, kShortText);
  check_range("purchase.item_count", p.item_count, 1, 100000);
}

void validate_payload(const Refund& r, const Event&, const Currency& currency) {
  if (r.purchase <= 0) {
    throw_invalid("refund.purchase",
                  "must be a purchase event id (> 0), got " + std::to_string(r.purchase));
  }
  check_currency(r.amount, "refund.amount", currency);
  if (!r.amount.is_positive()) {
    throw_invalid("refund.amount", "must be positive, got " + r.amount.to_string());
  }
  check_ledger_range(r.amount, "refund.amount");
  check_text(r.reason, "refund.reason", 0, kLongText);
}

void validate_payload(const Interaction& i, const Event&, const Currency&) {
  check_text(i.commitment_asked, "interaction.commitment_asked", 0, kLongText);
  check_text(i.note, "interaction.note", 0, kLongText);
}

void validate_payload(const Referral& r, const Event& e, const Currency&) {
  if (r.referred <= 0) {
    throw_invalid("referral.referred",
                  "must be a stored customer id (> 0), got " + std::to_string(r.referred));
  }
  if (r.referred == e.customer) {
    throw_invalid("referral.referred", "a customer cannot refer itself");
  }
}

void validate_payload(const SurveyResponse& s, const Event&, const Currency&) {
  check_text(s.survey, "survey_response.survey", 0, kShortText);
  if (!s.nps && !s.csat) {
    throw_invalid("survey_response", "at least one of nps and csat is required");
  }
  if (s.nps) check_range("survey_response.nps", *s.nps, 0, 10);
  if (s.csat) check_range("survey_response.csat", *s.csat, 1, 5);
  check_text(s.comment, "survey_response.comment", 0, kLongText);
}

void validate_payload(const EventParticipation& p, const Event&, const Currency&) {
  check_text(p.event_name, "event_participation.event_name", 1, kShortText);
  check_text(p.role, "event_participation.role", 0, kShortText);
}

template <class T>
json optional_json(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

json payload_to_json(const Purchase& p) {
  return json{{"order_id", p.order_id},
              {"amount", to_json(p.amount)},
              {"category", p.category},
              {"essential", p.essential},
              {"item_count", p.item_count}};
}
json payload_to_json(const Refund& r) {
  return json{{"purchase", r.purchase}, {"amount", to_json(r.amount)}, {"reason", r.reason}};
}
json payload_to_json(const Interaction& i) {
  return json{{"kind", to_string(i.kind)},
              {"purpose", to_string(i.purpose)},
              {"commitment_asked", i.commitment_asked},
              {"commitment_obtained", i.commitment_obtained},
              {"note", i.note}};
}
json payload_to_json(const Referral& r) { return json{{"referred", r.referred}}; }
json payload_to_json(const SurveyResponse& s) {
  return json{{"survey", s.survey},
              {"nps", optional_json(s.nps)},
              {"csat", optional_json(s.csat)},
              {"comment", s.comment}};
}
json payload_to_json(const EventParticipation& p) {
  return json{{"event_name", p.event_name}, {"role", p.role}};
}

std::optional<int> read_optional_int(const JsonObject& o, std::string_view key) {
  const json* v = o.find(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  return detail::read_int(*v, o.path_of(key));
}

EventPayload payload_from_json(EventType type, const json& j, const std::string& path) {
  switch (type) {
    case EventType::purchase: {
      const JsonObject o(j, path, {"order_id", "amount", "category", "essential", "item_count"});
      Purchase p;
      o.read("order_id", p.order_id);
      if (const json* v = o.find("amount")) p.amount = money_from_json(*v, o.path_of("amount"));
      o.read("category", p.category);
      o.read("essential", p.essential);
      o.read("item_count", p.item_count);
      return p;
    }
    case EventType::refund: {
      const JsonObject o(j, path, {"purchase", "amount", "reason"});
      Refund r;
      o.read("purchase", r.purchase);
      if (const json* v = o.find("amount")) r.amount = money_from_json(*v, o.path_of("amount"));
      o.read("reason", r.reason);
      return r;
    }
    case EventType::interaction: {
      const JsonObject o(j, path,
                         {"kind", "purpose", "commitment_asked", "commitment_obtained", "note"});
      Interaction i;
      if (const json* v = o.find("kind")) {
        i.kind = parse_interaction_kind(detail::read_string(*v, o.path_of("kind")),
                                        o.path_of("kind"));
      }
      if (const json* v = o.find("purpose")) {
        i.purpose = parse_contact_purpose(detail::read_string(*v, o.path_of("purpose")),
                                          o.path_of("purpose"));
      }
      o.read("commitment_asked", i.commitment_asked);
      o.read("commitment_obtained", i.commitment_obtained);
      o.read("note", i.note);
      return i;
    }
    case EventType::referral: {
      const JsonObject o(j, path, {"referred"});
      Referral r;
      o.read("referred", r.referred);
      return r;
    }
    case EventType::survey_response: {
      const JsonObject o(j, path, {"survey", "nps", "csat", "comment"});
      SurveyResponse s;
      o.read("survey", s.survey);
      s.nps = read_optional_int(o, "nps");
      s.csat = read_optional_int(o, "csat");
      o.read("comment", s.comment);
      return s;
    }
    case EventType::event_participation: {
      const JsonObject o(j, path, {"event_name", "role"});
      EventParticipation p;
      o.read("event_name", p.event_name);
      o.read("role", p.role);
      return p;
    }
  }
  throw_invalid("type", "unknown event type");
}

}  // namespace

const char* to_string(InteractionKind v) noexcept {
  return detail::enum_name(v, kInteractionKinds);
}
const char* to_string(ContactPurpose v) noexcept { return detail::enum_name(v, kContactPurposes); }
const char* to_string(EventType v) noexcept { return detail::enum_name(v, kEventTypes); }

InteractionKind parse_interaction_kind(std::string_view s, std::string_view field) {
  return detail::parse_enum<InteractionKind>(s, field, "interaction kind", kInteractionKinds);
}
ContactPurpose parse_contact_purpose(std::string_view s, std::string_view field) {
  return detail::parse_enum<ContactPurpose>(s, field, "contact purpose", kContactPurposes);
}
EventType parse_event_type(std::string_view s, std::string_view field) {
  return detail::parse_enum<EventType>(s, field, "event type", kEventTypes);
}

void validate_event(const Event& event, const Currency& currency) {
  if (event.customer <= 0) {
    throw_invalid("customer",
                  "must be a stored customer id (> 0), got " + std::to_string(event.customer));
  }
  event.at.check_range("at");
  check_text(event.source, "source", 0, kShortText);
  check_text(event.idempotency_key, "idempotency_key", 0, kShortText);
  std::visit([&](const auto& payload) { validate_payload(payload, event, currency); },
             event.payload);
}

json to_json(const Event& event) {
  json j{{"id", event.id},
         {"customer", event.customer},
         {"at", event.at.to_string()},
         {"source", event.source},
         {"idempotency_key", event.idempotency_key},
         {"type", to_string(event.type())},
         {"recorded_at", event.recorded_at.to_string()},
         {"actor", event.actor}};
  j[to_string(event.type())] =
      std::visit([](const auto& payload) { return payload_to_json(payload); }, event.payload);
  return j;
}

Event event_from_json(const json& j) {
  const JsonObject o(j, "",
                     {"id", "customer", "at", "source", "idempotency_key", "type", "recorded_at",
                      "actor", "purchase", "refund", "interaction", "referral", "survey_response",
                      "event_participation"},
                     "event");
  Event e;
  o.read("id", e.id);
  o.read("customer", e.customer);
  o.read("at", e.at);
  o.read("source", e.source);
  o.read("idempotency_key", e.idempotency_key);
  const EventType type =
      parse_event_type(detail::read_string(o.require("type"), "type"), "type");
  for (const char* name : kEventTypes) {
    if (name != kEventTypes[static_cast<std::size_t>(type)] && o.find(name) != nullptr) {
      throw_invalid(name, std::string("does not match type ") + to_string(type));
    }
  }
  const char* key = to_string(type);
  const json* payload = o.find(key);
  if (payload == nullptr) {
    throw_invalid(key, std::string("required for type ") + key);
  }
  e.payload = payload_from_json(type, *payload, key);
  o.read("recorded_at", e.recorded_at);
  o.read("actor", e.actor);
  return e;
}

Event event_from_json_text(std::string_view text) {
  return event_from_json(parse_json_strict(text, "event"));
}

}  // namespace v0
}  // namespace crmkit
