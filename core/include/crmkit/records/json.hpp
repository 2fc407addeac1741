// crmkit/records/json.hpp: the JSON forms of customers, field declarations and events, as
// nlohmann::json values (the forms JSON Lines export writes and import reads).
//
// Opt-in: this header includes <nlohmann/json.hpp> (through crmkit/base/json.hpp) and
// crmkit/crmkit.hpp does not include it; include crmkit/json.hpp, which brings this header and
// crmkit/base/json.hpp. A host without nlohmann/json still reads JSON text with
// customer_from_json_text (crmkit/records/customer.hpp) and event_from_json_text
// (crmkit/records/event.hpp).
//
// The forms. to_json writes every field, deterministically (keys in sorted order). The readers
// are strict: unknown keys, wrong JSON types, bad enum names and malformed values throw
// Error{invalid_argument} naming the field path ("customer.contacts[0].kind: ..."); missing
// optional keys take their defaults. Money is {"amount": "12.34", "currency": "USD"} (the amount a
// string, never a number; see crmkit/base/json.hpp); dates are "YYYY-MM-DD"; timestamps ISO 8601
// strings. Custom field values: text/enum a JSON string, integer a JSON integer, bool a JSON
// boolean, decimal {"decimal": "1.50"}, money {"amount": "12.34", "currency": "USD"}, date
// {"date": "2024-01-31"}; a JSON number with a fraction or exponent is refused everywhere. The
// readers do not validate business rules (use validate_customer, validate_event or a Store).
//
// Thread-safety: free functions without shared state.
#pragma once

#include <nlohmann/json.hpp>

#include "crmkit/base/json.hpp"
#include "crmkit/records/customer.hpp"
#include "crmkit/records/event.hpp"

namespace crmkit {
inline namespace v0 {

// {"id":..,"external_id":"..","kind":"person","name":"..","demographics":{...},"contacts":[...],
// "consents":[...],"preferred_channel":..,"max_contacts_per_30_days":..,"tags":[...],"owner":"..",
// "acquisition_source":"..","custom":{...},"memberships":[...],"created_at":"..",
// "updated_at":"..","deleted":false,"erased":false}.
nlohmann::json to_json(const Customer& customer);
// Throws Error{invalid_argument} naming the path under "customer" ("customer.tags[1]: ...").
Customer customer_from_json(const nlohmann::json& j);

// {"name":"..","type":"money","enum_values":[...],"currency":"..","required":false,
// "personal":false,"description":".."}.
nlohmann::json to_json(const FieldDef& def);
// Throws Error{invalid_argument} naming the path under "field" ("field.type: ...").
FieldDef field_def_from_json(const nlohmann::json& j);

// {"id":..,"customer":..,"at":"..","source":"..","idempotency_key":"..","type":"purchase",
// "purchase":{...},"recorded_at":"..","actor":".."}: the payload under the key named by "type".
nlohmann::json to_json(const Event& event);
// Throws Error{invalid_argument} naming the field path from the event's top level ("type: ...",
// "purchase.amount: ..."), or "event: expected object, got ..." for a non-object.
Event event_from_json(const nlohmann::json& j);

}  // namespace v0
}  // namespace crmkit
