// Private: the integer codes the store writes for enums (events.type, customers.kind,
// contact_index.kind, machine_states.entity_kind, transitions.entity_kind), as named constants
// built from the enums' explicit values, and the compile-time checks that keep them stable.
//
// The codes are part of the file format: a value may be added, never renumbered or reused.
// SQL binds these constants as parameters; no statement spells a code as a literal number.
// The `codes` table of schema v2 (schema.cpp) records every code with its name, and Store::open
// refuses a file whose codes disagree with this library's.
#pragma once

#include <cstdint>
#include <type_traits>
#include <variant>

#include "crmkit/records/customer.hpp"
#include "crmkit/records/event.hpp"
#include "crmkit/records/opportunity.hpp"

namespace crmkit {
inline namespace v0 {
namespace codes {

template <class E>
constexpr std::int64_t code(E v) noexcept {
  return static_cast<std::int64_t>(static_cast<std::underlying_type_t<E>>(v));
}

inline constexpr std::int64_t kPurchase = code(EventType::purchase);
inline constexpr std::int64_t kRefund = code(EventType::refund);
inline constexpr std::int64_t kInteraction = code(EventType::interaction);
inline constexpr std::int64_t kReferral = code(EventType::referral);
inline constexpr std::int64_t kSurveyResponse = code(EventType::survey_response);
inline constexpr std::int64_t kEventParticipation = code(EventType::event_participation);

inline constexpr std::int64_t kPerson = code(CustomerKind::person);
inline constexpr std::int64_t kOrganisation = code(CustomerKind::organisation);

// Event::type() is the variant index: each alternative must sit at its EventType code.
template <EventType T, class Payload>
constexpr bool at_code =
    std::is_same_v<std::variant_alternative_t<static_cast<std::size_t>(code(T)), EventPayload>,
                   Payload>;
static_assert(std::variant_size_v<EventPayload> == 6,
              "a new event kind needs a new EventType code, a check here and a codes row");
static_assert(at_code<EventType::purchase, Purchase>);
static_assert(at_code<EventType::refund, Refund>);
static_assert(at_code<EventType::interaction, Interaction>);
static_assert(at_code<EventType::referral, Referral>);
static_assert(at_code<EventType::survey_response, SurveyResponse>);
static_assert(at_code<EventType::event_participation, EventParticipation>);

// The on-disk values themselves: changing one of these breaks every existing file.
static_assert(kPurchase == 0 && kRefund == 1 && kInteraction == 2 && kReferral == 3 &&
              kSurveyResponse == 4 && kEventParticipation == 5);
static_assert(kPerson == 0 && kOrganisation == 1);
static_assert(code(EntityKind::customer) == 0 && code(EntityKind::opportunity) == 1);
static_assert(code(ContactKind::email) == 0 && code(ContactKind::phone) == 1 &&
              code(ContactKind::im) == 2 && code(ContactKind::postal) == 3);
static_assert(code(InteractionKind::call) == 0 && code(InteractionKind::other) == 9);
static_assert(code(ContactPurpose::care) == 0 && code(ContactPurpose::intelligence) == 4);

}  // namespace codes
}  // namespace v0
}  // namespace crmkit
