// crmkit/records/opportunity.hpp: the opportunity record (a possible sale to a customer, tracked
// through a pipeline machine), and the kinds of entity a lifecycle machine tracks.
//
// An Opportunity is a plain value. The Store validates it on every write (validate_opportunity);
// its stage is not a field of the record: it is the opportunity's state in its pipeline machine,
// kept by the Store (crmkit/store/store.hpp, "lifecycle states").
//
// Limits (bytes of UTF-8): name 1..512, owner up to 256, pipeline a machine name
// ([a-z][a-z0-9_]{0,63}). Every string must be valid UTF-8 without NUL bytes.
//
// Thread-safety: plain values; the usual rules for std types apply.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "crmkit/base/money.hpp"
#include "crmkit/base/time.hpp"
#include "crmkit/records/customer.hpp"

namespace crmkit {
inline namespace v0 {

using OpportunityId = std::int64_t;  // assigned by a Store, starting at 1; 0 = not stored yet

// What a lifecycle machine's states belong to. Stored as these integer codes (part of the file
// format: values are appended, never renumbered).
enum class EntityKind { customer = 0, opportunity = 1 };

// "customer", "opportunity"; parse_entity_kind throws Error{invalid_argument} naming `field`.
const char* to_string(EntityKind v) noexcept;
EntityKind parse_entity_kind(std::string_view s, std::string_view field = "entity_kind");

// One customer or one opportunity.
struct EntityRef {
  EntityKind kind = EntityKind::customer;
  std::int64_t id = 0;  // a CustomerId or an OpportunityId

  static EntityRef customer(CustomerId id) noexcept { return {EntityKind::customer, id}; }
  static EntityRef opportunity(OpportunityId id) noexcept { return {EntityKind::opportunity, id}; }

  friend bool operator==(const EntityRef&, const EntityRef&) = default;
  friend auto operator<=>(const EntityRef&, const EntityRef&) = default;
};

struct Opportunity {
  OpportunityId id = 0;        // set by the Store; ignored on create
  CustomerId customer = 0;     // a stored customer, person or organisation (required)
  std::string name;            // "Kitchen renovation 2025" (required, 1..512 bytes)
  Money amount;                // the expected deal value, >= 0, in the store's currency
  Date expected_close;         // the expected close date (required; the default is 1970-01-01)
  std::string owner;           // the user who works the deal; may be empty
  std::string pipeline;        // the name of the pipeline machine tracking its stage (required)

  // Kept by the Store; ignored on create and update.
  Timestamp created_at;
  Timestamp updated_at;

  friend bool operator==(const Opportunity&, const Opportunity&) = default;
};

// Checks an opportunity: customer > 0, name 1..512 bytes, owner up to 256, pipeline a machine
// name, amount not negative and in `store_currency`. Trims the name and owner in place.
// Throws Error{invalid_argument} naming the field ("opportunity.amount: -1.00 USD is negative").
void validate_opportunity(Opportunity& opportunity, const Currency& store_currency);

// True for a machine name: [a-z][a-z0-9_]{0,63}.
bool is_machine_name(std::string_view name) noexcept;

}  // namespace v0
}  // namespace crmkit
