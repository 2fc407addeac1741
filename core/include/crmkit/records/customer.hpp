// crmkit/records/customer.hpp: the customer record and its parts (contacts, consent, demographics,
// organisation membership, custom fields).
//
// A Customer is a plain value. The Store validates and normalises it on every write (see
// validate_customer); nothing in this header touches a database. Empty strings mean "not set"
// for optional text fields; required ones (external_id, name) must be non-empty.
//
// Limits (all lengths in bytes of UTF-8): external_id 1..256, name 1..512, other short text
// (region, gender, occupation, marital_status, owner, acquisition_source, tag, interest, label,
// purpose, source) up to 256, postal address up to 1024, e-mail up to 254, custom text up to 4096.
// Every string must be valid UTF-8 without NUL bytes. Lists (contacts, consents, tags,
// interests, memberships, an enum field's values) hold at most 1,000 items each; duplicates are
// found in one pass, so validation takes time linear in the size of the record.
//
// Thread-safety: plain values; the usual rules for std types apply.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "crmkit/base/money.hpp"
#include "crmkit/base/time.hpp"

namespace crmkit {
inline namespace v0 {

using CustomerId = std::int64_t;  // assigned by a Store, starting at 1; 0 means "not stored yet"
using EventId = std::int64_t;     // assigned by a Store, starting at 1

enum class CustomerKind { person = 0, organisation = 1 };

// Contact points a customer can be reached at.
enum class ContactKind { email = 0, phone = 1, im = 2, postal = 3 };

// Channels through which a business contacts a customer: for consent and preference.
enum class Channel { email, phone, sms, im, post, visit };

enum class ConsentStatus { granted, withdrawn };

// The legal basis a consent record relies on (GDPR art. 6 (1) (a)-(f)).
enum class LegalBasis {
  consent, contract, legal_obligation, vital_interests, public_task, legitimate_interests
};

// Buying-centre roles of a person in an organisation (DOMAIN.md s.3). One person may hold all.
enum class BuyingRole { acceptor, dissatisfied, power_holder };

// Depth of the relationship with a contact, in increasing order (DOMAIN.md s.3).
enum class RelationshipLevel { acquaintance, dating, partner, ally };

// The declared type of a custom field. In text and JSON: "text", "integer", "decimal", "money",
// "date", "bool", "enum".
enum class FieldType { text, integer, decimal, money, date, boolean, enumeration };

// to_string gives the lower-case wire name of each enum value ("power_holder", "site_visit");
// parse_<enum> turns it back and throws Error{invalid_argument} naming `field` for an unknown name.
const char* to_string(CustomerKind v) noexcept;
const char* to_string(ContactKind v) noexcept;
const char* to_string(Channel v) noexcept;
const char* to_string(ConsentStatus v) noexcept;
const char* to_string(LegalBasis v) noexcept;
const char* to_string(BuyingRole v) noexcept;
const char* to_string(RelationshipLevel v) noexcept;
const char* to_string(FieldType v) noexcept;
CustomerKind parse_customer_kind(std::string_view s, std::string_view field = "kind");
ContactKind parse_contact_kind(std::string_view s, std::string_view field = "kind");
Channel parse_channel(std::string_view s, std::string_view field = "channel");
ConsentStatus parse_consent_status(std::string_view s, std::string_view field = "status");
LegalBasis parse_legal_basis(std::string_view s, std::string_view field = "legal_basis");
BuyingRole parse_buying_role(std::string_view s, std::string_view field = "role");
RelationshipLevel parse_relationship_level(std::string_view s, std::string_view field = "level");
FieldType parse_field_type(std::string_view s, std::string_view field = "type");

// A way to reach the customer. `value` is normalised on validation:
//  - email: trimmed and lower-cased; one '@', a dotted domain; at most 254 bytes.
//  - phone: spaces, dots, dashes and parentheses removed, a leading "00" becomes "+"; the result
//    must be E.164: '+' then 7 to 15 digits ("+86 138-0013-8000" -> "+8613800138000").
//  - im: trimmed, "network:handle" (e.g. "wechat:zhang_san"); network lower-cased.
//  - postal: trimmed free text, up to 1024 bytes.
// At most one contact point per kind may be primary; if none is marked, the first becomes primary.
struct ContactPoint {
  ContactKind kind = ContactKind::email;
  std::string value;
  std::string label;     // optional: "work", "home", ...
  bool primary = false;

  friend bool operator==(const ContactPoint&, const ContactPoint&) = default;
};

// Consent for one channel and one purpose. Without a record the answer is "no consent".
// A customer holds at most one record per (channel, purpose); a later change replaces it and the
// old one stays in the audit log.
struct Consent {
  Channel channel = Channel::email;
  std::string purpose;             // lower-case token: "marketing", "service", "surveys", ...
  ConsentStatus status = ConsentStatus::granted;
  Timestamp at;                    // when it was given or withdrawn
  std::string source;              // where: "web-form", "call", "import:crm2019" (required)
  LegalBasis legal_basis = LegalBasis::consent;

  friend bool operator==(const Consent&, const Consent&) = default;
};

struct Demographics {
  std::string region;
  std::string gender;
  std::optional<Date> birth_date;  // not in the future, not before 1900-01-01
  std::string occupation;
  std::vector<std::string> interests;
  std::string marital_status;
  std::optional<int> household_size;  // 1..100

  friend bool operator==(const Demographics&, const Demographics&) = default;
};

// A person's place in an organisation's buying centre.
struct Membership {
  CustomerId organisation = 0;     // a stored customer of kind organisation
  std::vector<BuyingRole> roles;   // no duplicates; may be empty (role not known yet)
  RelationshipLevel level = RelationshipLevel::acquaintance;
  std::string title;               // job title, optional

  friend bool operator==(const Membership&, const Membership&) = default;
};

// The value of a custom field. Which alternative is allowed is set by the field's FieldType:
// text and enum -> std::string, integer -> int64, decimal -> Decimal, money -> Money,
// date -> Date, bool -> bool. There is deliberately no double.
using FieldValue = std::variant<bool, std::int64_t, std::string, Decimal, Money, Date>;

// The declaration of a custom field, made once per store with Store::declare_field.
struct FieldDef {
  std::string name;                       // [a-z][a-z0-9_]{0,63}
  FieldType type = FieldType::text;
  std::vector<std::string> enum_values;   // required (non-empty, unique) for enum, else empty
  std::string currency;                   // money only: ISO code; empty = the store's currency
  bool required = false;                  // must every customer carry it?
  bool personal = false;                  // personal data: removed by erase_customer
  std::string description;

  friend bool operator==(const FieldDef&, const FieldDef&) = default;
};

struct Customer {
  CustomerId id = 0;                   // set by the Store; ignored on create
  std::string external_id;             // the host's key, unique in a store (required)
  CustomerKind kind = CustomerKind::person;
  std::string name;                    // display name (required)
  Demographics demographics;
  std::vector<ContactPoint> contacts;
  std::vector<Consent> consents;
  std::optional<Channel> preferred_channel;
  std::optional<int> max_contacts_per_30_days;  // 0..1000; empty = no limit set
  std::vector<std::string> tags;       // unique, each 1..256 bytes
  std::string owner;                   // who looks after the customer (a user name)
  std::string acquisition_source;      // "referral", "web", "fair-2024", ...
  std::map<std::string, FieldValue> custom;    // keys must be declared fields
  std::vector<Membership> memberships;         // persons only

  // Kept by the Store; ignored on create and update.
  Timestamp created_at;
  Timestamp updated_at;
  bool deleted = false;                // soft-deleted (restorable)
  bool erased = false;                 // personal data erased (irreversible)

  // The consent status for (channel, purpose): true only if a record exists and is granted.
  bool has_consent(Channel channel, std::string_view purpose) const noexcept;
  // The primary contact point of a kind, if any.
  const ContactPoint* primary_contact(ContactKind kind) const noexcept;

  friend bool operator==(const Customer&, const Customer&) = default;
};

// Checks and normalises a customer in place against the custom-field schema `fields`.
// `store_currency` is used for money fields that declare no currency.
// Throws Error{invalid_argument} naming the first bad field ("contacts[1].value: ...");
// on throw, `customer` may be partly normalised (the Store always validates a copy).
void validate_customer(Customer& customer, const std::vector<FieldDef>& fields,
                       const Currency& store_currency);
// Checks a field declaration. Throws Error{invalid_argument} naming the problem.
void validate_field_def(const FieldDef& def);

// Normalisers, also used for look-ups. Throw Error{invalid_argument} naming `field`.
std::string normalize_email(std::string_view email, std::string_view field = "email");
std::string normalize_phone(std::string_view phone, std::string_view field = "phone");
// Throws Error{invalid_argument} naming `field` unless `text` is valid UTF-8 without NUL bytes
// and its length in bytes is within [min_bytes, max_bytes].
void check_text(std::string_view text, std::string_view field, std::size_t min_bytes,
                std::size_t max_bytes);

// Reads a customer from JSON text: strict parsing (no invalid UTF-8, no duplicate keys, depth
// and size limits), then the strict reading that customer_from_json (crmkit/records/json.hpp)
// describes. Takes text and needs no JSON library in the host: a host that does not use
// nlohmann/json reads customers with this. Throws Error{invalid_argument} whose message starts
// with "customer" and names the field path ("customer.contacts[0].kind: ...").
// Does not validate business rules (use validate_customer / a Store for that).
// The nlohmann::json forms (to_json(Customer), customer_from_json, to_json(FieldDef),
// field_def_from_json) are in crmkit/records/json.hpp, not included by crmkit/crmkit.hpp.
Customer customer_from_json_text(std::string_view text);

}  // namespace v0
}  // namespace crmkit
