// Customer enums, queries and JSON forms.
#include "crmkit/records/customer.hpp"

#include <array>
#include <string>
#include <utility>

#include "crmkit/base/error.hpp"
#include "crmkit/base/json.hpp"
#include "crmkit/records/json.hpp"
#include "records/detail.hpp"

namespace crmkit {
inline namespace v0 {

using detail::child_path;
using detail::index_path;
using detail::JsonObject;
using nlohmann::json;

namespace {

constexpr std::array<const char*, 2> kCustomerKinds = {"person", "organisation"};
constexpr std::array<const char*, 4> kContactKinds = {"email", "phone", "im", "postal"};
constexpr std::array<const char*, 6> kChannels = {"email", "phone", "sms", "im", "post", "visit"};
constexpr std::array<const char*, 2> kConsentStatuses = {"granted", "withdrawn"};
constexpr std::array<const char*, 6> kLegalBases = {"consent",         "contract",
                                                    "legal_obligation", "vital_interests",
                                                    "public_task",     "legitimate_interests"};
constexpr std::array<const char*, 3> kBuyingRoles = {"acceptor", "dissatisfied", "power_holder"};
constexpr std::array<const char*, 4> kRelationshipLevels = {"acquaintance", "dating", "partner",
                                                            "ally"};
constexpr std::array<const char*, 7> kFieldTypes = {"text", "integer", "decimal", "money",
                                                    "date", "bool",    "enum"};

template <class T>
json optional_json(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

json field_value_to_json(const FieldValue& value) {
  switch (value.index()) {
    case 0: return json(std::get<bool>(value));
    case 1: return json(std::get<std::int64_t>(value));
    case 2: return json(std::get<std::string>(value));
    case 3: return json{{"decimal", std::get<Decimal>(value).to_string()}};
    case 4: return to_json(std::get<Money>(value));
    case 5: return json{{"date", std::get<Date>(value).to_string()}};
  }
  return json(nullptr);
}

FieldValue field_value_from_json(const json& j, const std::string& path) {
  switch (j.type()) {
    case json::value_t::string: return j.get<std::string>();
    case json::value_t::boolean: return j.get<bool>();
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return detail::read_int64(j, path);
    case json::value_t::object:
      if (j.size() == 1 && j.contains("decimal")) {
        const std::string sub = child_path(path, "decimal");
        return Decimal::parse(detail::read_string(j.at("decimal"), sub), sub);
      }
      if (j.size() == 1 && j.contains("date")) {
        return detail::read_date(j.at("date"), child_path(path, "date"));
      }
      if (j.contains("amount") || j.contains("currency")) return money_from_json(j, path);
      throw_invalid(path,
                    "expected {\"decimal\": ...}, {\"date\": ...} or {\"amount\": ..., "
                    "\"currency\": ...}");
    default: break;
  }
  detail::throw_json_type(j, path, "string, integer, boolean or object");
}

template <class T, class F>
std::vector<T> read_array(const JsonObject& o, std::string_view key, F&& read_one) {
  std::vector<T> out;
  const json* a = o.find(key);
  if (a == nullptr) return out;
  const std::string path = o.path_of(key);
  detail::require_array(*a, path);
  out.reserve(a->size());
  for (std::size_t i = 0; i < a->size(); ++i) out.push_back(read_one((*a)[i], index_path(path, i)));
  return out;
}

std::vector<std::string> read_strings(const JsonObject& o, std::string_view key) {
  return read_array<std::string>(
      o, key, [](const json& e, const std::string& p) { return detail::read_string(e, p); });
}

// An optional int field: absent or null means empty.
std::optional<int> read_optional_int(const JsonObject& o, std::string_view key) {
  const json* v = o.find(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  return detail::read_int(*v, o.path_of(key));
}

Demographics demographics_from_json(const json& j, const std::string& path) {
  const JsonObject o(j, path,
                     {"region", "gender", "birth_date", "occupation", "interests",
                      "marital_status", "household_size"});
  Demographics d;
  o.read("region", d.region);
  o.read("gender", d.gender);
  if (const json* v = o.find("birth_date"); v != nullptr && !v->is_null()) {
    d.birth_date = detail::read_date(*v, o.path_of("birth_date"));
  }
  o.read("occupation", d.occupation);
  d.interests = read_strings(o, "interests");
  o.read("marital_status", d.marital_status);
  d.household_size = read_optional_int(o, "household_size");
  return d;
}

ContactPoint contact_from_json(const json& j, const std::string& path) {
  const JsonObject o(j, path, {"kind", "value", "label", "primary"});
  ContactPoint c;
  if (const json* v = o.find("kind")) {
    c.kind = parse_contact_kind(detail::read_string(*v, o.path_of("kind")), o.path_of("kind"));
  }
  o.read("value", c.value);
  o.read("label", c.label);
  o.read("primary", c.primary);
  return c;
}

Consent consent_from_json(const json& j, const std::string& path) {
  const JsonObject o(j, path, {"channel", "purpose", "status", "at", "source", "legal_basis"});
  Consent c;
  if (const json* v = o.find("channel")) {
    c.channel = parse_channel(detail::read_string(*v, o.path_of("channel")), o.path_of("channel"));
  }
  o.read("purpose", c.purpose);
  if (const json* v = o.find("status")) {
    c.status =
        parse_consent_status(detail::read_string(*v, o.path_of("status")), o.path_of("status"));
  }
  o.read("at", c.at);
  o.read("source", c.source);
  if (const json* v = o.find("legal_basis")) {
    c.legal_basis = parse_legal_basis(detail::read_string(*v, o.path_of("legal_basis")),
                                      o.path_of("legal_basis"));
  }
  return c;
}

Membership membership_from_json(const json& j, const std::string& path) {
  const JsonObject o(j, path, {"organisation", "roles", "level", "title"});
  Membership m;
  o.read("organisation", m.organisation);
  m.roles = read_array<BuyingRole>(o, "roles", [](const json& e, const std::string& p) {
    return parse_buying_role(detail::read_string(e, p), p);
  });
  if (const json* v = o.find("level")) {
    m.level =
        parse_relationship_level(detail::read_string(*v, o.path_of("level")), o.path_of("level"));
  }
  o.read("title", m.title);
  return m;
}

}  // namespace

// ---- enums ----

const char* to_string(CustomerKind v) noexcept { return detail::enum_name(v, kCustomerKinds); }
const char* to_string(ContactKind v) noexcept { return detail::enum_name(v, kContactKinds); }
const char* to_string(Channel v) noexcept { return detail::enum_name(v, kChannels); }
const char* to_string(ConsentStatus v) noexcept { return detail::enum_name(v, kConsentStatuses); }
const char* to_string(LegalBasis v) noexcept { return detail::enum_name(v, kLegalBases); }
const char* to_string(BuyingRole v) noexcept { return detail::enum_name(v, kBuyingRoles); }
const char* to_string(RelationshipLevel v) noexcept {
  return detail::enum_name(v, kRelationshipLevels);
}
const char* to_string(FieldType v) noexcept { return detail::enum_name(v, kFieldTypes); }

CustomerKind parse_customer_kind(std::string_view s, std::string_view field) {
  return detail::parse_enum<CustomerKind>(s, field, "customer kind", kCustomerKinds);
}
ContactKind parse_contact_kind(std::string_view s, std::string_view field) {
  return detail::parse_enum<ContactKind>(s, field, "contact kind", kContactKinds);
}
Channel parse_channel(std::string_view s, std::string_view field) {
  return detail::parse_enum<Channel>(s, field, "channel", kChannels);
}
ConsentStatus parse_consent_status(std::string_view s, std::string_view field) {
  return detail::parse_enum<ConsentStatus>(s, field, "consent status", kConsentStatuses);
}
LegalBasis parse_legal_basis(std::string_view s, std::string_view field) {
  return detail::parse_enum<LegalBasis>(s, field, "legal basis", kLegalBases);
}
BuyingRole parse_buying_role(std::string_view s, std::string_view field) {
  return detail::parse_enum<BuyingRole>(s, field, "buying role", kBuyingRoles);
}
RelationshipLevel parse_relationship_level(std::string_view s, std::string_view field) {
  return detail::parse_enum<RelationshipLevel>(s, field, "relationship level",
                                               kRelationshipLevels);
}
FieldType parse_field_type(std::string_view s, std::string_view field) {
  return detail::parse_enum<FieldType>(s, field, "field type", kFieldTypes);
}

// ---- queries ----

bool Customer::has_consent(Channel channel, std::string_view purpose) const noexcept {
  for (const Consent& c : consents) {
    if (c.channel == channel && c.purpose == purpose) return c.status == ConsentStatus::granted;
  }
  return false;
}

const ContactPoint* Customer::primary_contact(ContactKind kind) const noexcept {
  for (const ContactPoint& c : contacts) {
    if (c.kind == kind && c.primary) return &c;
  }
  return nullptr;
}

// ---- JSON ----

json to_json(const FieldDef& def) {
  return json{{"name", def.name},         {"type", to_string(def.type)},
              {"enum_values", def.enum_values}, {"currency", def.currency},
              {"required", def.required}, {"personal", def.personal},
              {"description", def.description}};
}

FieldDef field_def_from_json(const json& j) {
  const JsonObject o(j, "field",
                     {"name", "type", "enum_values", "currency", "required", "personal",
                      "description"});
  FieldDef def;
  o.read("name", def.name);
  if (const json* v = o.find("type")) {
    def.type = parse_field_type(detail::read_string(*v, o.path_of("type")), o.path_of("type"));
  }
  def.enum_values = read_strings(o, "enum_values");
  o.read("currency", def.currency);
  o.read("required", def.required);
  o.read("personal", def.personal);
  o.read("description", def.description);
  return def;
}

json to_json(const Customer& c) {
  const Demographics& d = c.demographics;
  json demographics{{"region", d.region},
                    {"gender", d.gender},
                    {"birth_date", d.birth_date ? json(d.birth_date->to_string()) : json(nullptr)},
                    {"occupation", d.occupation},
                    {"interests", d.interests},
                    {"marital_status", d.marital_status},
                    {"household_size", optional_json(d.household_size)}};
  json contacts = json::array();
  for (const ContactPoint& p : c.contacts) {
    contacts.push_back(json{{"kind", to_string(p.kind)},
                            {"value", p.value},
                            {"label", p.label},
                            {"primary", p.primary}});
  }
  json consents = json::array();
  for (const Consent& k : c.consents) {
    consents.push_back(json{{"channel", to_string(k.channel)},
                            {"purpose", k.purpose},
                            {"status", to_string(k.status)},
                            {"at", k.at.to_string()},
                            {"source", k.source},
                            {"legal_basis", to_string(k.legal_basis)}});
  }
  json custom = json::object();
  for (const auto& [key, value] : c.custom) custom[key] = field_value_to_json(value);
  json memberships = json::array();
  for (const Membership& m : c.memberships) {
    json roles = json::array();
    for (BuyingRole r : m.roles) roles.push_back(to_string(r));
    memberships.push_back(json{{"organisation", m.organisation},
                               {"roles", std::move(roles)},
                               {"level", to_string(m.level)},
                               {"title", m.title}});
  }
  return json{
      {"id", c.id},
      {"external_id", c.external_id},
      {"kind", to_string(c.kind)},
      {"name", c.name},
      {"demographics", std::move(demographics)},
      {"contacts", std::move(contacts)},
      {"consents", std::move(consents)},
      {"preferred_channel",
       c.preferred_channel ? json(to_string(*c.preferred_channel)) : json(nullptr)},
      {"max_contacts_per_30_days", optional_json(c.max_contacts_per_30_days)},
      {"tags", c.tags},
      {"owner", c.owner},
      {"acquisition_source", c.acquisition_source},
      {"custom", std::move(custom)},
      {"memberships", std::move(memberships)},
      {"created_at", c.created_at.to_string()},
      {"updated_at", c.updated_at.to_string()},
      {"deleted", c.deleted},
      {"erased", c.erased},
  };
}

Customer customer_from_json(const json& j) {
  const JsonObject o(j, "customer",
                     {"id", "external_id", "kind", "name", "demographics", "contacts", "consents",
                      "preferred_channel", "max_contacts_per_30_days", "tags", "owner",
                      "acquisition_source", "custom", "memberships", "created_at", "updated_at",
                      "deleted", "erased"});
  Customer c;
  o.read("id", c.id);
  o.read("external_id", c.external_id);
  if (const json* v = o.find("kind")) {
    c.kind = parse_customer_kind(detail::read_string(*v, o.path_of("kind")), o.path_of("kind"));
  }
  o.read("name", c.name);
  if (const json* v = o.find("demographics")) {
    c.demographics = demographics_from_json(*v, o.path_of("demographics"));
  }
  c.contacts = read_array<ContactPoint>(o, "contacts", contact_from_json);
  c.consents = read_array<Consent>(o, "consents", consent_from_json);
  if (const json* v = o.find("preferred_channel"); v != nullptr && !v->is_null()) {
    c.preferred_channel = parse_channel(detail::read_string(*v, o.path_of("preferred_channel")),
                                        o.path_of("preferred_channel"));
  }
  c.max_contacts_per_30_days = read_optional_int(o, "max_contacts_per_30_days");
  c.tags = read_strings(o, "tags");
  o.read("owner", c.owner);
  o.read("acquisition_source", c.acquisition_source);
  if (const json* v = o.find("custom")) {
    const std::string path = o.path_of("custom");
    if (!v->is_object()) detail::throw_json_type(*v, path, "object");
    for (const auto& item : v->items()) {
      c.custom.emplace(item.key(), field_value_from_json(item.value(), child_path(path, item.key())));
    }
  }
  c.memberships = read_array<Membership>(o, "memberships", membership_from_json);
  o.read("created_at", c.created_at);
  o.read("updated_at", c.updated_at);
  o.read("deleted", c.deleted);
  o.read("erased", c.erased);
  return c;
}

Customer customer_from_json_text(std::string_view text) {
  return customer_from_json(parse_json_strict(text, "customer"));
}

}  // namespace v0
}  // namespace crmkit
