// Tests of crmkit/records/customer.hpp: enums, normalisers, validation and JSON forms of customers.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "crmkit/records/customer.hpp"
#include "crmkit/records/json.hpp"
#include "crmkit/base/error.hpp"
#include "support.hpp"

using namespace crmkit;
using namespace crmkit::test;
using nlohmann::json;

namespace {

std::vector<FieldDef> schema() {
  std::vector<FieldDef> fields(7);
  fields[0].name = "vip_level";
  fields[0].type = FieldType::integer;
  fields[1].name = "tier";
  fields[1].type = FieldType::enumeration;
  fields[1].enum_values = {"gold", "silver"};
  fields[2].name = "credit";
  fields[2].type = FieldType::money;  // the store's currency
  fields[3].name = "deposit";
  fields[3].type = FieldType::money;
  fields[3].currency = "EUR";
  fields[4].name = "vip_since";
  fields[4].type = FieldType::date;
  fields[5].name = "discount";
  fields[5].type = FieldType::decimal;
  fields[6].name = "newsletter";
  fields[6].type = FieldType::boolean;
  FieldDef note;
  note.name = "note";
  note.type = FieldType::text;
  fields.push_back(note);
  return fields;
}

Customer minimal() {
  Customer c;
  c.external_id = "c-1";
  c.name = "Ann";
  return c;
}

ContactPoint contact(ContactKind kind, std::string value, bool primary = false) {
  ContactPoint p;
  p.kind = kind;
  p.value = std::move(value);
  p.primary = primary;
  return p;
}

Consent consent(Channel channel, std::string purpose, ConsentStatus status = ConsentStatus::granted) {
  Consent k;
  k.channel = channel;
  k.purpose = std::move(purpose);
  k.status = status;
  k.at = Timestamp::parse("2024-03-01T12:30:00Z");
  k.source = "web-form";
  return k;
}

Customer full() {
  Customer c;
  c.id = 42;
  c.external_id = "crm-0042";
  c.kind = CustomerKind::person;
  c.name = "Zhang San \xE5\xBC\xA0\xE4\xB8\x89";
  c.demographics.region = "Shanghai";
  c.demographics.gender = "male";
  c.demographics.birth_date = Date(1985, 6, 30);
  c.demographics.occupation = "engineer";
  c.demographics.interests = {"hiking", "tea"};
  c.demographics.marital_status = "married";
  c.demographics.household_size = 3;
  c.contacts = {contact(ContactKind::email, "zhang@example.com", true),
                contact(ContactKind::phone, "+8613800138000", true),
                contact(ContactKind::im, "wechat:zhang_san", true),
                contact(ContactKind::postal, "1 Nanjing Road, Shanghai", true)};
  c.contacts[0].label = "work";
  c.consents = {consent(Channel::email, "marketing"),
                consent(Channel::sms, "service", ConsentStatus::withdrawn)};
  c.consents[1].legal_basis = LegalBasis::legitimate_interests;
  c.consents[1].at = Timestamp::from_micros(1709296200250000);
  c.preferred_channel = Channel::im;
  c.max_contacts_per_30_days = 4;
  c.tags = {"vip", "fair-2024"};
  c.owner = "li.si";
  c.acquisition_source = "referral";
  c.custom["vip_level"] = std::int64_t{3};
  c.custom["tier"] = std::string("gold");
  c.custom["credit"] = Money::parse("12.34", kUsd);
  c.custom["deposit"] = Money::parse("-5.00", Currency::of("EUR"));
  c.custom["vip_since"] = Date(2020, 2, 29);
  c.custom["discount"] = Decimal::parse("1.50");
  c.custom["newsletter"] = true;
  c.custom["note"] = std::string("likes green tea");
  Membership m;
  m.organisation = 7;
  m.roles = {BuyingRole::power_holder, BuyingRole::acceptor};
  m.level = RelationshipLevel::ally;
  m.title = "CTO";
  c.memberships = {m};
  c.created_at = Timestamp::parse("2024-01-02T03:04:05.123456Z");
  c.updated_at = Timestamp::parse("2024-02-03T04:05:06Z");
  c.deleted = true;
  c.erased = true;
  return c;
}

void validate(Customer& c) { validate_customer(c, schema(), kUsd); }

}  // namespace

// ---------------------------------------------------------------- enums

TEST_CASE("every customer enum round-trips through its wire name") {
  for (auto v : {CustomerKind::person, CustomerKind::organisation}) {
    CHECK(parse_customer_kind(to_string(v)) == v);
  }
  for (auto v : {ContactKind::email, ContactKind::phone, ContactKind::im, ContactKind::postal}) {
    CHECK(parse_contact_kind(to_string(v)) == v);
  }
  for (auto v : {Channel::email, Channel::phone, Channel::sms, Channel::im, Channel::post,
                 Channel::visit}) {
    CHECK(parse_channel(to_string(v)) == v);
  }
  for (auto v : {ConsentStatus::granted, ConsentStatus::withdrawn}) {
    CHECK(parse_consent_status(to_string(v)) == v);
  }
  for (auto v : {LegalBasis::consent, LegalBasis::contract, LegalBasis::legal_obligation,
                 LegalBasis::vital_interests, LegalBasis::public_task,
                 LegalBasis::legitimate_interests}) {
    CHECK(parse_legal_basis(to_string(v)) == v);
  }
  for (auto v : {BuyingRole::acceptor, BuyingRole::dissatisfied, BuyingRole::power_holder}) {
    CHECK(parse_buying_role(to_string(v)) == v);
  }
  for (auto v : {RelationshipLevel::acquaintance, RelationshipLevel::dating,
                 RelationshipLevel::partner, RelationshipLevel::ally}) {
    CHECK(parse_relationship_level(to_string(v)) == v);
  }
  for (auto v : {FieldType::text, FieldType::integer, FieldType::decimal, FieldType::money,
                 FieldType::date, FieldType::boolean, FieldType::enumeration}) {
    CHECK(parse_field_type(to_string(v)) == v);
  }
}

TEST_CASE("enum wire names are the enumerator names, bool and enum for field types") {
  CHECK(std::string(to_string(BuyingRole::power_holder)) == "power_holder");
  CHECK(std::string(to_string(LegalBasis::legitimate_interests)) == "legitimate_interests");
  CHECK(std::string(to_string(CustomerKind::organisation)) == "organisation");
  CHECK(std::string(to_string(RelationshipLevel::ally)) == "ally");
  CHECK(std::string(to_string(FieldType::boolean)) == "bool");
  CHECK(std::string(to_string(FieldType::enumeration)) == "enum");
  CHECK(std::string(to_string(FieldType::text)) == "text");
}

TEST_CASE("an unknown enum name names the field and lists the choices") {
  CHECK_INVALID(parse_channel("fax"),
                "channel: unknown channel 'fax' (expected one of: email, phone, sms, im, post, "
                "visit)");
  CHECK_INVALID(parse_channel("Email", "consents[0].channel"),
                "consents[0].channel: unknown channel 'Email' (expected one of: email, phone, "
                "sms, im, post, visit)");
  CHECK_INVALID(parse_field_type("boolean"),
                "type: unknown field type 'boolean' (expected one of: text, integer, decimal, "
                "money, date, bool, enum)");
  CHECK_INVALID(parse_buying_role("boss"),
                "role: unknown buying role 'boss' (expected one of: acceptor, dissatisfied, "
                "power_holder)");
  CHECK_INVALID(parse_customer_kind(""),
                "kind: unknown customer kind '' (expected one of: person, organisation)");
  CHECK_INVALID(parse_legal_basis("consent\n"),
                "legal_basis: unknown legal basis 'consent\\x0A' (expected one of: consent, "
                "contract, legal_obligation, vital_interests, public_task, "
                "legitimate_interests)");
}

// ---------------------------------------------------------------- normalisers

TEST_CASE("normalize_email trims and lower-cases") {
  CHECK(normalize_email("  Ann@Example.COM ") == "ann@example.com");
  CHECK(normalize_email("li.si+crm@mail.example.co.uk") == "li.si+crm@mail.example.co.uk");
}

TEST_CASE("normalize_email refuses malformed addresses") {
  CHECK_INVALID(normalize_email("ann.example.com"), "email: must contain exactly one '@'");
  CHECK_INVALID(normalize_email("ann@@example.com"), "email: must contain exactly one '@'");
  CHECK_INVALID(normalize_email("@example.com"), "email: has nothing before '@'");
  CHECK_INVALID(normalize_email("ann@example", "contacts[0].value"),
                "contacts[0].value: the part after '@' must be a dotted domain name "
                "(example.com)");
  CHECK_INVALID(normalize_email("ann@.example.com"),
                "email: the part after '@' must be a dotted domain name (example.com)");
  CHECK_INVALID(normalize_email("ann@example..com"),
                "email: the part after '@' must be a dotted domain name (example.com)");
  CHECK_INVALID(normalize_email("an n@example.com"),
                "email: must not contain spaces or control characters");
  CHECK_INVALID(normalize_email("   "), "email: must not be empty");
  const std::string long_email = std::string(243, 'a') + "@example.com";  // 255 bytes
  CHECK_INVALID(normalize_email(long_email),
                "email: is 255 bytes, longer than the limit of 254");
  CHECK(normalize_email(long_email.substr(1)).size() == 254);
}

TEST_CASE("normalize_phone produces E.164") {
  CHECK(normalize_phone("+86 138-0013-8000") == "+8613800138000");
  CHECK(normalize_phone("0044 20 7946 0958") == "+442079460958");
  CHECK(normalize_phone("+1 (555) 010.4477") == "+15550104477");
  CHECK(normalize_phone("+1234567") == "+1234567");
  CHECK(normalize_phone("+123456789012345") == "+123456789012345");
}

TEST_CASE("normalize_phone refuses numbers that are not E.164") {
  CHECK_INVALID(normalize_phone("12345"),
                "phone: must be in international form: '+' or '00', then the country code "
                "(E.164)");
  CHECK_INVALID(normalize_phone("+123456", "contacts[1].value"),
                "contacts[1].value: must have 7 to 15 digits after '+', got 6");
  CHECK_INVALID(normalize_phone("+1234567890123456"),
                "phone: must have 7 to 15 digits after '+', got 16");
  CHECK_INVALID(normalize_phone("+86 138 0013 800x"),
                "phone: may contain only digits after '+' (and spaces, dots, dashes, "
                "parentheses)");
  CHECK_INVALID(normalize_phone("+86+13800138000"),
                "phone: may contain only digits after '+' (and spaces, dots, dashes, "
                "parentheses)");
  CHECK_INVALID(normalize_phone(""), "phone: must not be empty");
}

// ---------------------------------------------------------------- check_text

TEST_CASE("check_text accepts valid UTF-8 within the limits") {
  CHECK_NOTHROW(check_text("\xE5\xBC\xA0\xE4\xB8\x89", "name", 1, 6));  // two CJK characters
  CHECK_NOTHROW(check_text("\xF0\x9F\x98\x80", "name", 1, 4));          // U+1F600
  CHECK_NOTHROW(check_text("\xF4\x8F\xBF\xBF", "name", 1, 4));          // U+10FFFF
  CHECK_NOTHROW(check_text("", "owner", 0, 256));
}

TEST_CASE("check_text refuses invalid UTF-8") {
  CHECK_INVALID(check_text("\xC3\x28", "name", 0, 10), "name: is not valid UTF-8 (at byte 0)");
  CHECK_INVALID(check_text("ok\xED\xA0\x80", "name", 0, 10),
                "name: is not valid UTF-8 (at byte 2)");                                  // surrogate
  CHECK_INVALID(check_text("\xC0\xAF", "name", 0, 10), "name: is not valid UTF-8 (at byte 0)");
  CHECK_INVALID(check_text("\xE0\x80\xAF", "name", 0, 10),
                "name: is not valid UTF-8 (at byte 0)");  // overlong three-byte '/'
  CHECK_INVALID(check_text("\xF0\x80\x80\xAF", "name", 0, 10),
                "name: is not valid UTF-8 (at byte 0)");  // overlong four-byte '/'
  CHECK_INVALID(check_text("\xF4\x90\x80\x80", "name", 0, 10),
                "name: is not valid UTF-8 (at byte 0)");  // U+110000
  CHECK_INVALID(check_text("ab\xE4\xB8", "name", 0, 10),
                "name: is not valid UTF-8 (at byte 2)");  // truncated
  CHECK_INVALID(check_text("\x80", "name", 0, 10), "name: is not valid UTF-8 (at byte 0)");
  CHECK_INVALID(check_text("\xFF", "name", 0, 10), "name: is not valid UTF-8 (at byte 0)");
}

TEST_CASE("check_text refuses NUL bytes and lengths outside the range") {
  CHECK_INVALID(check_text(std::string("a\0b", 3), "name", 0, 10),
                "name: contains a NUL byte (at byte 1)");
  CHECK_INVALID(check_text("", "name", 1, 10), "name: must not be empty");
  CHECK_INVALID(check_text("abc", "name", 4, 10), "name: is 3 bytes, shorter than the minimum 4");
  CHECK_INVALID(check_text(std::string(11, 'x'), "name", 0, 10),
                "name: is 11 bytes, longer than the limit of 10");
  CHECK_NOTHROW(check_text(std::string(10, 'x'), "name", 0, 10));
}

// ---------------------------------------------------------------- validate_customer: basics

TEST_CASE("a fully populated customer is valid") {
  Customer c = full();
  c.deleted = false;
  c.erased = false;
  const Customer before = c;
  validate(c);
  CHECK(c == before);
}

TEST_CASE("external_id and name are required and bounded") {
  Customer c = minimal();
  c.external_id = "";
  CHECK_INVALID(validate(c), "external_id: must not be empty");
  c.external_id = std::string(257, 'e');
  CHECK_INVALID(validate(c), "external_id: is 257 bytes, longer than the limit of 256");
  c.external_id = std::string(256, 'e');
  CHECK_NOTHROW(validate(c));
  c.name = "";
  CHECK_INVALID(validate(c), "name: must not be empty");
  c.name = std::string(513, 'n');
  CHECK_INVALID(validate(c), "name: is 513 bytes, longer than the limit of 512");
  c.name = std::string(512, 'n');
  CHECK_NOTHROW(validate(c));
  c.name = "Ann\xC3\x28";
  CHECK_INVALID(validate(c), "name: is not valid UTF-8 (at byte 3)");
}

TEST_CASE("SQL-looking text is accepted and kept verbatim") {
  Customer c = minimal();
  const std::string sql = "Robert'); DROP TABLE customers;--";
  c.name = sql;
  c.external_id = "1' OR '1'='1";
  c.tags = {"\"; DELETE FROM events; --"};
  validate(c);
  CHECK(c.name == sql);
  CHECK(c.external_id == "1' OR '1'='1");
  CHECK(c.tags[0] == "\"; DELETE FROM events; --");
  CHECK(customer_from_json_text(to_json(c).dump()) == c);
}

TEST_CASE("short text fields are limited to 256 bytes") {
  Customer c = minimal();
  c.owner = std::string(257, 'o');
  CHECK_INVALID(validate(c), "owner: is 257 bytes, longer than the limit of 256");
  c = minimal();
  c.acquisition_source = "web\xED\xA0\x80";
  CHECK_INVALID(validate(c), "acquisition_source: is not valid UTF-8 (at byte 3)");
  c = minimal();
  c.demographics.region = std::string(257, 'r');
  CHECK_INVALID(validate(c), "demographics.region: is 257 bytes, longer than the limit of 256");
  c = minimal();
  c.demographics.marital_status = std::string("si\0ngle", 7);
  CHECK_INVALID(validate(c), "demographics.marital_status: contains a NUL byte (at byte 2)");
}

// ---------------------------------------------------------------- contacts

TEST_CASE("contacts are normalised and the first of each kind becomes primary") {
  Customer c = minimal();
  c.contacts = {contact(ContactKind::email, "  Ann@Example.COM "),
                contact(ContactKind::phone, "+86 138-0013-8000"),
                contact(ContactKind::email, "ann.work@example.com"),
                contact(ContactKind::phone, "0044 20 7946 0958", true),
                contact(ContactKind::im, "  WeChat:zhang_San "),
                contact(ContactKind::postal, "  1 Main St\nSpringfield  ")};
  validate(c);
  CHECK(c.contacts[0].value == "ann@example.com");
  CHECK(c.contacts[0].primary);
  CHECK(c.contacts[1].value == "+8613800138000");
  CHECK_FALSE(c.contacts[1].primary);
  CHECK(c.contacts[2].value == "ann.work@example.com");
  CHECK_FALSE(c.contacts[2].primary);
  CHECK(c.contacts[3].value == "+442079460958");
  CHECK(c.contacts[3].primary);
  CHECK(c.contacts[4].value == "wechat:zhang_San");
  CHECK(c.contacts[4].primary);
  CHECK(c.contacts[5].value == "1 Main St\nSpringfield");
  CHECK(c.contacts[5].primary);
}

TEST_CASE("a bad contact value names its index") {
  Customer c = minimal();
  c.contacts = {contact(ContactKind::email, "ann@example.com"),
                contact(ContactKind::phone, "12345")};
  CHECK_INVALID(validate(c),
                "contacts[1].value: must be in international form: '+' or '00', then the "
                "country code (E.164)");
  c.contacts[1] = contact(ContactKind::im, "zhang_san");
  CHECK_INVALID(validate(c),
                "contacts[1].value: must be 'network:handle' (e.g. 'wechat:zhang_san')");
  c.contacts[1] = contact(ContactKind::im, "wechat:");
  CHECK_INVALID(validate(c), "contacts[1].value: the handle after ':' is empty");
  c.contacts[1] = contact(ContactKind::postal, std::string(1025, 'p'));
  CHECK_INVALID(validate(c), "contacts[1].value: is 1025 bytes, longer than the limit of 1024");
  c.contacts[1] = contact(ContactKind::postal, "  ");
  CHECK_INVALID(validate(c), "contacts[1].value: must not be empty");
  c.contacts[1] = contact(ContactKind::email, "ann2@example.com");
  c.contacts[1].label = std::string(257, 'l');
  CHECK_INVALID(validate(c), "contacts[1].label: is 257 bytes, longer than the limit of 256");
}

TEST_CASE("at most one primary contact per kind") {
  Customer c = minimal();
  c.contacts = {contact(ContactKind::email, "a@example.com", true),
                contact(ContactKind::phone, "+8613800138000", true),
                contact(ContactKind::email, "b@example.com", true)};
  CHECK_INVALID(validate(c),
                "contacts[2].primary: more than one primary email contact (contacts[0] is "
                "primary too)");
}

TEST_CASE("duplicate contacts are refused after normalisation") {
  Customer c = minimal();
  c.contacts = {contact(ContactKind::email, "ann@example.com"),
                contact(ContactKind::email, " ANN@example.com")};
  CHECK_INVALID(validate(c), "contacts[1].value: duplicate email contact (same as contacts[0])");
  c.contacts = {contact(ContactKind::phone, "+86 138 0013 8000"),
                contact(ContactKind::phone, "0086-138-0013-8000")};
  CHECK_INVALID(validate(c), "contacts[1].value: duplicate phone contact (same as contacts[0])");
}

// ---------------------------------------------------------------- consents

TEST_CASE("consent purpose must be a lower-case token") {
  Customer c = minimal();
  c.consents = {consent(Channel::email, "Marketing")};
  CHECK_INVALID(validate(c),
                "consents[0].purpose: must be a lower-case token of 1 to 64 characters "
                "[a-z0-9_-], got 'Marketing'");
  c.consents[0].purpose = "";
  CHECK_INVALID(validate(c),
                "consents[0].purpose: must be a lower-case token of 1 to 64 characters "
                "[a-z0-9_-], got ''");
  c.consents[0].purpose = std::string(65, 'm');
  CHECK_THROWS_AS(validate(c), Error);
  c.consents[0].purpose = std::string(64, 'm');
  CHECK_NOTHROW(validate(c));
  c.consents[0].purpose = "news-letter_2";
  CHECK_NOTHROW(validate(c));
}

TEST_CASE("consent source is required") {
  Customer c = minimal();
  c.consents = {consent(Channel::email, "marketing")};
  c.consents[0].source = "";
  CHECK_INVALID(validate(c), "consents[0].source: must not be empty");
}

TEST_CASE("at most one consent per channel and purpose") {
  Customer c = minimal();
  c.consents = {consent(Channel::email, "marketing"), consent(Channel::sms, "marketing"),
                consent(Channel::email, "marketing", ConsentStatus::withdrawn)};
  CHECK_INVALID(validate(c),
                "consents[2]: duplicate consent for (email, marketing) (same as consents[0])");
  c.consents.pop_back();
  CHECK_NOTHROW(validate(c));
}

TEST_CASE("has_consent is true only for a granted record") {
  Customer c = minimal();
  c.consents = {consent(Channel::email, "marketing"),
                consent(Channel::sms, "marketing", ConsentStatus::withdrawn)};
  CHECK(c.has_consent(Channel::email, "marketing"));
  CHECK_FALSE(c.has_consent(Channel::sms, "marketing"));
  CHECK_FALSE(c.has_consent(Channel::email, "surveys"));
  CHECK_FALSE(c.has_consent(Channel::phone, "marketing"));
}

TEST_CASE("primary_contact returns the primary of a kind or nothing") {
  Customer c = minimal();
  c.contacts = {contact(ContactKind::email, "a@example.com"),
                contact(ContactKind::email, "b@example.com", true)};
  REQUIRE(c.primary_contact(ContactKind::email) != nullptr);
  CHECK(c.primary_contact(ContactKind::email)->value == "b@example.com");
  CHECK(c.primary_contact(ContactKind::phone) == nullptr);
}

// ---------------------------------------------------------------- demographics and limits

TEST_CASE("birth date lies between 1900-01-01 and today") {
  Customer c = minimal();
  c.demographics.birth_date = Date(1899, 12, 31);
  CHECK_INVALID(validate(c), "demographics.birth_date: 1899-12-31 is before 1900-01-01");
  c.demographics.birth_date = Date(1900, 1, 1);
  CHECK_NOTHROW(validate(c));
  const Date today = Timestamp::now().date();
  c.demographics.birth_date = today;
  CHECK_NOTHROW(validate(c));
  const Date tomorrow = Date::from_days_since_epoch(today.days_since_epoch() + 1);
  c.demographics.birth_date = tomorrow;
  CHECK_INVALID(validate(c), "demographics.birth_date: " + tomorrow.to_string() +
                                 " is in the future");
}

TEST_CASE("household size is 1..100") {
  Customer c = minimal();
  c.demographics.household_size = 0;
  CHECK_INVALID(validate(c), "demographics.household_size: must be between 1 and 100, got 0");
  c.demographics.household_size = 101;
  CHECK_INVALID(validate(c), "demographics.household_size: must be between 1 and 100, got 101");
  c.demographics.household_size = 1;
  CHECK_NOTHROW(validate(c));
  c.demographics.household_size = 100;
  CHECK_NOTHROW(validate(c));
}

TEST_CASE("max contacts per 30 days is 0..1000") {
  Customer c = minimal();
  c.max_contacts_per_30_days = -1;
  CHECK_INVALID(validate(c), "max_contacts_per_30_days: must be between 0 and 1000, got -1");
  c.max_contacts_per_30_days = 1001;
  CHECK_INVALID(validate(c), "max_contacts_per_30_days: must be between 0 and 1000, got 1001");
  c.max_contacts_per_30_days = 0;
  CHECK_NOTHROW(validate(c));
  c.max_contacts_per_30_days = 1000;
  CHECK_NOTHROW(validate(c));
}

TEST_CASE("tags are unique and non-empty, interests non-empty") {
  Customer c = minimal();
  c.tags = {"vip", "web", "vip"};
  CHECK_INVALID(validate(c), "tags[2]: duplicate tag 'vip'");
  c.tags = {"vip", ""};
  CHECK_INVALID(validate(c), "tags[1]: must not be empty");
  c.tags = {std::string(257, 't')};
  CHECK_INVALID(validate(c), "tags[0]: is 257 bytes, longer than the limit of 256");
  c.tags = {};
  c.demographics.interests = {"tea", ""};
  CHECK_INVALID(validate(c), "demographics.interests[1]: must not be empty");
}

// ---------------------------------------------------------------- memberships

TEST_CASE("memberships are for persons only") {
  Customer c = minimal();
  c.kind = CustomerKind::organisation;
  c.memberships.resize(1);
  c.memberships[0].organisation = 3;
  CHECK_INVALID(validate(c),
                "memberships: only a person can be a member of an organisation, not a customer "
                "of kind organisation");
}

TEST_CASE("a membership names a stored organisation once, with distinct roles") {
  Customer c = minimal();
  c.memberships.resize(2);
  c.memberships[0].organisation = 0;
  CHECK_INVALID(validate(c), "memberships[0].organisation: must be a stored customer id (> 0), got 0");
  c.memberships[0].organisation = 3;
  c.memberships[0].roles = {BuyingRole::acceptor, BuyingRole::power_holder, BuyingRole::acceptor};
  c.memberships[1].organisation = 4;
  CHECK_INVALID(validate(c), "memberships[0].roles: duplicate role acceptor");
  c.memberships[0].roles = {BuyingRole::acceptor, BuyingRole::power_holder};
  c.memberships[1].organisation = 3;
  CHECK_INVALID(validate(c),
                "memberships[1].organisation: duplicate membership of organisation 3 (same as "
                "memberships[0])");
  c.memberships[1].organisation = 4;
  CHECK_NOTHROW(validate(c));
}

// ---------------------------------------------------------------- custom fields

TEST_CASE("custom keys must be declared fields") {
  Customer c = minimal();
  c.custom["vip_levle"] = std::int64_t{1};
  CHECK_INVALID(validate(c), "custom.vip_levle: unknown field (not declared)");
}

TEST_CASE("custom values must match the declared type") {
  Customer c = minimal();
  c.custom["vip_level"] = std::string("3");
  CHECK_INVALID(validate(c), "custom.vip_level: expected integer, got text");
  c.custom.clear();
  c.custom["vip_since"] = std::int64_t{2020};
  CHECK_INVALID(validate(c), "custom.vip_since: expected date, got integer");
  c.custom.clear();
  c.custom["discount"] = Money::parse("1.50", kUsd);
  CHECK_INVALID(validate(c), "custom.discount: expected decimal, got money");
  c.custom.clear();
  c.custom["newsletter"] = Decimal::parse("1");
  CHECK_INVALID(validate(c), "custom.newsletter: expected bool, got decimal");
  c.custom.clear();
  c.custom["tier"] = true;
  CHECK_INVALID(validate(c), "custom.tier: expected enum, got bool");
  c.custom.clear();
  c.custom["credit"] = Date(2024, 1, 1);
  CHECK_INVALID(validate(c), "custom.credit: expected money, got date");
}

TEST_CASE("enum custom values must be in the declared list") {
  Customer c = minimal();
  c.custom["tier"] = std::string("platinum");
  CHECK_INVALID(validate(c), "custom.tier: 'platinum' is not one of: gold, silver");
  c.custom["tier"] = std::string("silver");
  CHECK_NOTHROW(validate(c));
}

TEST_CASE("money custom values are in the field's currency or the store's") {
  Customer c = minimal();
  c.custom["credit"] = Money::parse("1.00", Currency::of("EUR"));
  CHECK_INVALID(validate(c), "custom.credit: currency EUR differs from the store's USD");
  c.custom["credit"] = Money::parse("1.00", kUsd);
  c.custom["deposit"] = Money::parse("1.00", kUsd);
  CHECK_INVALID(validate(c), "custom.deposit: currency USD differs from the field's EUR");
  c.custom["deposit"] = Money::parse("1.00", Currency::of("EUR"));
  CHECK_NOTHROW(validate(c));
}

TEST_CASE("custom text is valid UTF-8 up to 4096 bytes") {
  Customer c = minimal();
  c.custom["note"] = std::string(4097, 'x');
  CHECK_INVALID(validate(c), "custom.note: is 4097 bytes, longer than the limit of 4096");
  c.custom["note"] = std::string("\xC3\x28");
  CHECK_INVALID(validate(c), "custom.note: is not valid UTF-8 (at byte 0)");
  c.custom["note"] = std::string(4096, 'x');
  CHECK_NOTHROW(validate(c));
}

TEST_CASE("required custom fields must be present") {
  std::vector<FieldDef> fields = schema();
  fields[4].required = true;  // vip_since
  Customer c = minimal();
  CHECK_INVALID(validate_customer(c, fields, kUsd), "custom.vip_since: required field missing");
  c.custom["vip_since"] = Date(2021, 5, 1);
  CHECK_NOTHROW(validate_customer(c, fields, kUsd));
}

// ---------------------------------------------------------------- field declarations

TEST_CASE("validate_field_def checks the name") {
  FieldDef d;
  d.name = "Vip";
  CHECK_INVALID(validate_field_def(d), "field.name: must match [a-z][a-z0-9_]{0,63}, got 'Vip'");
  d.name = "1vip";
  CHECK_INVALID(validate_field_def(d), "field.name: must match [a-z][a-z0-9_]{0,63}, got '1vip'");
  d.name = "";
  CHECK_INVALID(validate_field_def(d), "field.name: must match [a-z][a-z0-9_]{0,63}, got ''");
  d.name = "vip-level";
  CHECK_THROWS_AS(validate_field_def(d), Error);
  d.name = "v" + std::string(64, 'x');
  CHECK_THROWS_AS(validate_field_def(d), Error);
  d.name = "v" + std::string(63, 'x');
  CHECK_NOTHROW(validate_field_def(d));
  d.name = "vip_level_2";
  CHECK_NOTHROW(validate_field_def(d));
}

TEST_CASE("validate_field_def checks enum values") {
  FieldDef d;
  d.name = "tier";
  d.type = FieldType::enumeration;
  CHECK_INVALID(validate_field_def(d), "field.enum_values: an enum field needs at least one value");
  d.enum_values = {"gold", "silver", "gold"};
  CHECK_INVALID(validate_field_def(d), "field.enum_values[2]: duplicate value 'gold'");
  d.enum_values = {"gold", ""};
  CHECK_INVALID(validate_field_def(d), "field.enum_values[1]: must not be empty");
  d.enum_values = {"gold", "silver"};
  CHECK_NOTHROW(validate_field_def(d));
  d.type = FieldType::text;
  CHECK_INVALID(validate_field_def(d),
                "field.enum_values: only an enum field has values, this one is text");
}

TEST_CASE("validate_field_def checks the currency") {
  FieldDef d;
  d.name = "credit";
  d.type = FieldType::integer;
  d.currency = "USD";
  CHECK_INVALID(validate_field_def(d),
                "field.currency: only a money field has a currency, this one is integer");
  d.type = FieldType::money;
  CHECK_NOTHROW(validate_field_def(d));
  d.currency = "ABC";
  CHECK_INVALID(validate_field_def(d), "field.currency: unknown currency 'ABC'");
  d.currency = "usd";
  CHECK_INVALID(validate_field_def(d), "field.currency: unknown currency 'usd'");
  d.currency = "XXX";
  CHECK_INVALID(validate_field_def(d), "field.currency: 'XXX' cannot hold money (no currency)");
  d.currency = "";
  CHECK_NOTHROW(validate_field_def(d));
}

// ---------------------------------------------------------------- JSON

TEST_CASE("a fully populated customer round-trips through JSON exactly") {
  const Customer c = full();
  const json j = to_json(c);
  CHECK(customer_from_json(j) == c);
  CHECK(customer_from_json_text(j.dump()) == c);
  CHECK(to_json(customer_from_json(j)) == j);
  // The documented shapes.
  CHECK(j.at("custom").at("credit") == json{{"amount", "12.34"}, {"currency", "USD"}});
  CHECK(j.at("custom").at("deposit") == json{{"amount", "-5.00"}, {"currency", "EUR"}});
  CHECK(j.at("custom").at("discount") == json{{"decimal", "1.50"}});
  CHECK(j.at("custom").at("vip_since") == json{{"date", "2020-02-29"}});
  CHECK(j.at("custom").at("vip_level") == json(3));
  CHECK(j.at("custom").at("newsletter") == json(true));
  CHECK(j.at("demographics").at("birth_date") == json("1985-06-30"));
  CHECK(j.at("created_at") == json("2024-01-02T03:04:05.123456Z"));
  CHECK(j.at("consents").at(1).at("at") == json("2024-03-01T12:30:00.250000Z"));
  CHECK(j.at("memberships").at(0).at("roles") == json{"power_holder", "acceptor"});
  CHECK(j.at("id") == json(42));
  CHECK(j.at("deleted") == json(true));
  CHECK(j.at("erased") == json(true));
}

TEST_CASE("to_json writes every field deterministically") {
  const Customer c = minimal();
  const std::string expected =
      R"({"acquisition_source":"","consents":[],"contacts":[],"created_at":"1970-01-01T00:00:00Z",)"
      R"("custom":{},"deleted":false,"demographics":{"birth_date":null,"gender":"",)"
      R"("household_size":null,"interests":[],"marital_status":"","occupation":"","region":""},)"
      R"("erased":false,"external_id":"c-1","id":0,"kind":"person","max_contacts_per_30_days":null,)"
      R"("memberships":[],"name":"Ann","owner":"","preferred_channel":null,"tags":[],)"
      R"("updated_at":"1970-01-01T00:00:00Z"})";
  CHECK(to_json(c).dump() == expected);
  CHECK(to_json(full()).dump() == to_json(full()).dump());
  CHECK(customer_from_json_text(expected) == c);
}

TEST_CASE("missing optional JSON keys take their defaults") {
  const Customer c = customer_from_json_text(R"({"external_id":"x","name":"y"})");
  Customer expected;
  expected.external_id = "x";
  expected.name = "y";
  CHECK(c == expected);
  const Customer n = customer_from_json_text(
      R"({"external_id":"x","name":"y","preferred_channel":null,"max_contacts_per_30_days":null,)"
      R"("demographics":{"birth_date":null,"household_size":null}})");
  CHECK(n == expected);
}

TEST_CASE("customer JSON refuses unknown keys at any depth") {
  CHECK_INVALID(customer_from_json_text(R"({"name":"Ann","nickname":"A"})"),
                "customer.nickname: unknown field");
  CHECK_INVALID(customer_from_json_text(R"({"contacts":[{"kind":"email","nick":1}]})"),
                "customer.contacts[0].nick: unknown field");
  CHECK_INVALID(customer_from_json_text(R"({"demographics":{"age":30}})"),
                "customer.demographics.age: unknown field");
  CHECK_INVALID(customer_from_json_text(R"({"custom":{"credit":{"amount":"1","currency":"USD","x":1}}})"),
                "customer.custom.credit.x: unknown field");
}

TEST_CASE("customer JSON refuses wrong JSON types") {
  CHECK_INVALID(customer_from_json_text(R"({"name":42})"), "customer.name: expected string, got number");
  CHECK_INVALID(customer_from_json_text(R"([1,2])"), "customer: expected object, got array");
  CHECK_INVALID(customer_from_json_text(R"({"tags":"vip"})"), "customer.tags: expected array, got string");
  CHECK_INVALID(customer_from_json_text(R"({"tags":["vip",3]})"),
                "customer.tags[1]: expected string, got number");
  CHECK_INVALID(customer_from_json_text(R"({"deleted":1})"),
                "customer.deleted: expected boolean, got number");
  CHECK_INVALID(customer_from_json_text(R"({"id":"42"})"), "customer.id: expected integer, got string");
  CHECK_INVALID(customer_from_json_text(R"({"name":null})"), "customer.name: expected string, got null");
  CHECK_INVALID(customer_from_json_text(R"({"custom":[]})"), "customer.custom: expected object, got array");
  CHECK_INVALID(customer_from_json_text(R"({"memberships":[{"organisation":3,"roles":["boss"]}]})"),
                "customer.memberships[0].roles[0]: unknown buying role 'boss' (expected one of: "
                "acceptor, dissatisfied, power_holder)");
  CHECK_INVALID(customer_from_json_text(R"({"contacts":[{"kind":"fax"}]})"),
                "customer.contacts[0].kind: unknown contact kind 'fax' (expected one of: email, "
                "phone, im, postal)");
  CHECK_INVALID(customer_from_json_text(R"({"custom":{"x":null}})"),
                "customer.custom.x: expected string, integer, boolean or object, got null");
}

TEST_CASE("customer JSON integers must be JSON integers") {
  CHECK_INVALID(customer_from_json_text(R"({"id":1.5})"),
                "customer.id: expected integer, got a number with a fraction or exponent");
  CHECK_INVALID(customer_from_json_text(R"({"id":1e3})"),
                "customer.id: expected integer, got a number with a fraction or exponent");
  CHECK_INVALID(customer_from_json_text(R"({"max_contacts_per_30_days":2.0})"),
                "customer.max_contacts_per_30_days: expected integer, got a number with a "
                "fraction or exponent");
  CHECK_INVALID(customer_from_json_text(R"({"custom":{"vip_level":1.5}})"),
                "customer.custom.vip_level: expected integer, got a number with a fraction or "
                "exponent");
  CHECK_INVALID(customer_from_json_text(R"({"id":9223372036854775808})"),
                "customer.id: integer 9223372036854775808 is out of range "
                "[-9223372036854775808, 9223372036854775807]");
  CHECK_INVALID(customer_from_json_text(R"({"demographics":{"household_size":3000000000}})"),
                "customer.demographics.household_size: integer 3000000000 is out of range "
                "[-2147483648, 2147483647]");
  CHECK(customer_from_json_text(R"({"id":9223372036854775807})").id == 9223372036854775807);
}

TEST_CASE("money in JSON is an object with a decimal string") {
  CHECK_INVALID(customer_from_json_text(R"({"custom":{"credit":{"amount":12.34,"currency":"USD"}}})"),
                "customer.custom.credit.amount: expected a decimal string, got number");
  CHECK_INVALID(customer_from_json_text(R"({"custom":{"credit":{"amount":"12.34"}}})"),
                "customer.custom.credit.currency: required field missing");
  CHECK_INVALID(customer_from_json_text(R"({"custom":{"credit":{"amount":"1","currency":"ABC"}}})"),
                "customer.custom.credit.currency: unknown currency 'ABC'");
  CHECK_INVALID_PREFIX(
      customer_from_json_text(R"({"custom":{"credit":{"amount":"12.345","currency":"USD"}}})"),
      "customer.custom.credit.amount: ");
  CHECK_INVALID_PREFIX(customer_from_json_text(R"({"custom":{"d":{"decimal":"1e3"}}})"),
                       "customer.custom.d.decimal: ");
  CHECK_INVALID(customer_from_json_text(R"({"custom":{"d":{"decimal":1.5}}})"),
                "customer.custom.d.decimal: expected string, got number");
  CHECK_INVALID_PREFIX(customer_from_json_text(R"({"custom":{"d":{"date":"2023-02-29"}}})"),
                       "customer.custom.d.date: ");
  CHECK_INVALID(customer_from_json_text(R"({"custom":{"d":{"when":"2023-02-28"}}})"),
                "customer.custom.d: expected {\"decimal\": ...}, {\"date\": ...} or {\"amount\": "
                "..., \"currency\": ...}");
  CHECK_INVALID_PREFIX(money_from_json(json{{"amount", "0.5"}, {"currency", "JPY"}}, "x"),
                       "x.amount: ");
}

TEST_CASE("money_from_json and to_json(Money) round-trip") {
  const Money m = Money::parse("-1234.567", Currency::of("BHD"));
  CHECK(to_json(m) == json{{"amount", "-1234.567"}, {"currency", "BHD"}});
  CHECK(money_from_json(to_json(m)) == m);
  CHECK(money_from_json(json{{"amount", "7"}, {"currency", "JPY"}}) ==
        Money::from_minor(std::int64_t{7}, Currency::of("JPY")));
  CHECK_INVALID(money_from_json(json{{"amount", 7}, {"currency", "JPY"}}),
                "amount.amount: expected a decimal string, got number");
  CHECK_INVALID(money_from_json(json("7 JPY"), "price"), "price: expected object, got string");
}

TEST_CASE("bad dates and timestamps in customer JSON name the field") {
  CHECK_INVALID_PREFIX(customer_from_json_text(R"({"demographics":{"birth_date":"1985-13-01"}})"),
                       "customer.demographics.birth_date: ");
  CHECK_INVALID(customer_from_json_text(R"({"demographics":{"birth_date":19850101}})"),
                "customer.demographics.birth_date: expected date string (YYYY-MM-DD), got number");
  CHECK_INVALID_PREFIX(customer_from_json_text(R"({"consents":[{"at":"yesterday"}]})"),
                       "customer.consents[0].at: ");
  CHECK_INVALID_PREFIX(customer_from_json_text(R"({"created_at":"2024-02-30T00:00:00Z"})"),
                       "customer.created_at: ");
}

TEST_CASE("customer JSON text: duplicate keys, deep nesting and malformed text are refused") {
  CHECK_INVALID_PREFIX(customer_from_json_text(R"({"name":"Ann","name":"Bob"})"), "customer: ");
  std::string deep = R"({"custom":{"x":)";
  for (int i = 0; i < 100; ++i) deep += "[";
  for (int i = 0; i < 100; ++i) deep += "]";
  deep += "}}";
  CHECK_INVALID_PREFIX(customer_from_json_text(deep), "customer: ");
  CHECK_INVALID_PREFIX(customer_from_json_text(R"({"name":"Ann")"), "customer: ");
  CHECK_INVALID_PREFIX(customer_from_json_text("{\"name\":\"\xC3\x28\"}"), "customer: ");
  CHECK_INVALID_PREFIX(customer_from_json_text(R"({"name":NaN})"), "customer: ");
}

TEST_CASE("field declarations round-trip through JSON") {
  for (const FieldDef& d : schema()) {
    CHECK(field_def_from_json(to_json(d)) == d);
  }
  FieldDef d;
  d.name = "deposit";
  d.type = FieldType::money;
  d.currency = "EUR";
  d.required = true;
  d.personal = true;
  d.description = "paid on signing";
  CHECK(to_json(d) == json{{"name", "deposit"},
                           {"type", "money"},
                           {"enum_values", json::array()},
                           {"currency", "EUR"},
                           {"required", true},
                           {"personal", true},
                           {"description", "paid on signing"}});
  CHECK(field_def_from_json(to_json(d)) == d);
  CHECK_INVALID(field_def_from_json(json{{"name", "x"}, {"nickname", "y"}}),
                "field.nickname: unknown field");
  CHECK_INVALID(field_def_from_json(json{{"type", "float"}}),
                "field.type: unknown field type 'float' (expected one of: text, integer, decimal, "
                "money, date, bool, enum)");
  CHECK_INVALID(field_def_from_json(json{{"required", "yes"}}),
                "field.required: expected boolean, got string");
}

// ---------------------------------------------------------------- list limits (issue 9)

TEST_CASE("lists hold at most 1,000 items and duplicates are found in one pass") {
  // Duplicate checks used to compare every pair: 100,000 tags never finished validating.
  Customer c = minimal();
  for (int i = 0; i < 1000; ++i) c.tags.push_back("tag-" + std::to_string(i));
  CHECK_NOTHROW(validate(c));
  c.tags.back() = "tag-17";
  CHECK_INVALID(validate(c), "tags[999]: duplicate tag 'tag-17'");
  c.tags.back() = "tag-999";
  c.tags.push_back("tag-1000");
  CHECK_INVALID(validate(c), "tags: at most 1000 items, got 1001");
  c.tags.resize(100000, "x");
  CHECK_INVALID(validate(c), "tags: at most 1000 items, got 100000");

  Customer d = minimal();
  for (int i = 0; i < 1001; ++i) d.demographics.interests.push_back("i" + std::to_string(i));
  CHECK_INVALID(validate(d), "demographics.interests: at most 1000 items, got 1001");

  Customer e = minimal();
  for (int i = 0; i < 600; ++i) {
    e.contacts.push_back(contact(ContactKind::email, "a" + std::to_string(i) + "@example.com"));
  }
  e.contacts.push_back(contact(ContactKind::email, "A7@Example.com"));  // normalised: a7@...
  CHECK_INVALID(validate(e), "contacts[600].value: duplicate email contact (same as contacts[7])");
  e.contacts.resize(1001, contact(ContactKind::phone, "+8613800138000"));
  CHECK_INVALID(validate(e), "contacts: at most 1000 items, got 1001");
}
