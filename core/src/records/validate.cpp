// Validation and normalisation of customers and custom-field declarations.
#include <algorithm>
#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "crmkit/records/customer.hpp"
#include "crmkit/base/error.hpp"
#include "records/detail.hpp"

namespace crmkit {
inline namespace v0 {

using detail::index_path;
using detail::quote_text;
using detail::trim;

namespace {

constexpr std::size_t kShortText = 256;
constexpr std::size_t kPostal = 1024;
constexpr std::size_t kEmail = 254;
constexpr std::size_t kCustomText = 4096;
constexpr std::size_t kDescription = 4096;

char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

std::string normalize_im(std::string_view raw, std::string_view field) {
  const std::string_view im = trim(raw);
  check_text(im, field, 1, kShortText);
  const auto colon = im.find(':');
  if (colon == std::string_view::npos) {
    throw_invalid(field, "must be 'network:handle' (e.g. 'wechat:zhang_san')");
  }
  const std::string_view network = im.substr(0, colon);
  const std::string_view handle = im.substr(colon + 1);
  if (network.empty()) throw_invalid(field, "the network before ':' is empty");
  for (char c : network) {
    const char l = ascii_lower(c);
    if (!((l >= 'a' && l <= 'z') || is_digit(l) || l == '_' || l == '-' || l == '.')) {
      throw_invalid(field, "the network " + quote_text(network) +
                               " may contain only letters, digits, '_', '-' and '.'");
    }
  }
  if (trim(handle).empty()) throw_invalid(field, "the handle after ':' is empty");
  std::string out;
  out.reserve(im.size());
  for (char c : network) out += ascii_lower(c);
  out += ':';
  out += handle;
  return out;
}

std::string normalize_postal(std::string_view raw, std::string_view field) {
  const std::string_view postal = trim(raw);
  check_text(postal, field, 1, kPostal);
  return std::string(postal);
}

std::string normalize_contact(ContactKind kind, std::string_view value, std::string_view field) {
  switch (kind) {
    case ContactKind::email: return normalize_email(value, field);
    case ContactKind::phone: return normalize_phone(value, field);
    case ContactKind::im: return normalize_im(value, field);
    case ContactKind::postal: return normalize_postal(value, field);
  }
  throw_invalid(field, "unknown contact kind");
}

bool is_token(std::string_view s) noexcept {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || is_digit(c) || c == '_' || c == '-';
  });
}

bool is_field_name(std::string_view s) noexcept {
  if (s.empty() || s.size() > 64) return false;
  if (!(s[0] >= 'a' && s[0] <= 'z')) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || is_digit(c) || c == '_'; });
}

void check_range(std::string_view field, long long value, long long lo, long long hi) {
  if (value < lo || value > hi) {
    throw_invalid(field, "must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
                             ", got " + std::to_string(value));
  }
}

// The FieldValue alternative names, in variant order.
const char* value_type_name(const FieldValue& v) noexcept {
  static constexpr const char* names[] = {"bool", "integer", "text", "decimal", "money", "date"};
  return names[v.index()];
}

// The variant index a FieldType requires.
std::size_t required_index(FieldType t) noexcept {
  switch (t) {
    case FieldType::boolean: return 0;
    case FieldType::integer: return 1;
    case FieldType::text: return 2;
    case FieldType::enumeration: return 2;
    case FieldType::decimal: return 3;
    case FieldType::money: return 4;
    case FieldType::date: return 5;
  }
  return 2;
}

// Duplicate checks are linear: each list remembers the index of the first occurrence of every key
// (a hash map), so a customer with thousands of tags validates in time proportional to their
// number. The lists are also capped (kMaxListItems, documented in crmkit/records/customer.hpp).
constexpr std::size_t kMaxListItems = 1000;

void check_count(std::size_t n, const char* path) {
  if (n > kMaxListItems) {
    throw_invalid(path, "at most " + std::to_string(kMaxListItems) + " items, got " +
                            std::to_string(n));
  }
}

// Remembers `key` for item `i`; returns the index of an earlier item with the same key, or -1.
template <class Key>
std::ptrdiff_t earlier(std::unordered_map<Key, std::size_t>& seen, Key key, std::size_t i) {
  auto [it, fresh] = seen.try_emplace(std::move(key), i);
  return fresh ? -1 : static_cast<std::ptrdiff_t>(it->second);
}

void validate_demographics(Demographics& d) {
  check_text(d.region, "demographics.region", 0, kShortText);
  check_text(d.gender, "demographics.gender", 0, kShortText);
  if (d.birth_date) {
    const Date lowest(1900, 1, 1);
    const Date today = Timestamp::now().date();
    if (*d.birth_date < lowest) {
      throw_invalid("demographics.birth_date",
                    d.birth_date->to_string() + " is before 1900-01-01");
    }
    if (*d.birth_date > today) {
      throw_invalid("demographics.birth_date", d.birth_date->to_string() + " is in the future");
    }
  }
  check_text(d.occupation, "demographics.occupation", 0, kShortText);
  check_count(d.interests.size(), "demographics.interests");
  for (std::size_t i = 0; i < d.interests.size(); ++i) {
    check_text(d.interests[i], index_path("demographics.interests", i), 1, kShortText);
  }
  check_text(d.marital_status, "demographics.marital_status", 0, kShortText);
  if (d.household_size) check_range("demographics.household_size", *d.household_size, 1, 100);
}

void validate_contacts(std::vector<ContactPoint>& contacts) {
  check_count(contacts.size(), "contacts");
  std::unordered_map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < contacts.size(); ++i) {
    const std::string base = index_path("contacts", i);
    ContactPoint& c = contacts[i];
    c.value = normalize_contact(c.kind, c.value, base + ".value");
    check_text(c.label, base + ".label", 0, kShortText);
    const std::ptrdiff_t k = earlier(seen, std::string(to_string(c.kind)) + '\n' + c.value, i);
    if (k >= 0) {
      throw_invalid(base + ".value", std::string("duplicate ") + to_string(c.kind) +
                                         " contact (same as " +
                                         index_path("contacts", static_cast<std::size_t>(k)) + ")");
    }
  }
  for (const ContactKind kind :
       {ContactKind::email, ContactKind::phone, ContactKind::im, ContactKind::postal}) {
    std::ptrdiff_t first = -1;
    std::ptrdiff_t primary = -1;
    for (std::size_t i = 0; i < contacts.size(); ++i) {
      if (contacts[i].kind != kind) continue;
      if (first < 0) first = static_cast<std::ptrdiff_t>(i);
      if (!contacts[i].primary) continue;
      if (primary >= 0) {
        throw_invalid(index_path("contacts", i) + ".primary",
                      std::string("more than one primary ") + to_string(kind) + " contact (" +
                          index_path("contacts", static_cast<std::size_t>(primary)) +
                          " is primary too)");
      }
      primary = static_cast<std::ptrdiff_t>(i);
    }
    if (first >= 0 && primary < 0) contacts[static_cast<std::size_t>(first)].primary = true;
  }
}

void validate_consents(const std::vector<Consent>& consents) {
  check_count(consents.size(), "consents");
  std::unordered_map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < consents.size(); ++i) {
    const std::string base = index_path("consents", i);
    const Consent& c = consents[i];
    if (!is_token(c.purpose)) {
      throw_invalid(base + ".purpose",
                    "must be a lower-case token of 1 to 64 characters [a-z0-9_-], got " +
                        quote_text(c.purpose));
    }
    check_text(c.source, base + ".source", 1, kShortText);
    c.at.check_range(base + ".at");
    const std::ptrdiff_t k = earlier(seen, std::string(to_string(c.channel)) + '\n' + c.purpose, i);
    if (k >= 0) {
      throw_invalid(base, std::string("duplicate consent for (") + to_string(c.channel) + ", " +
                              c.purpose + ") (same as " +
                              index_path("consents", static_cast<std::size_t>(k)) + ")");
    }
  }
}

void validate_memberships(const Customer& customer) {
  const auto& ms = customer.memberships;
  if (!ms.empty() && customer.kind != CustomerKind::person) {
    throw_invalid("memberships", std::string("only a person can be a member of an organisation, "
                                             "not a customer of kind ") +
                                     to_string(customer.kind));
  }
  check_count(ms.size(), "memberships");
  std::unordered_map<CustomerId, std::size_t> seen;
  for (std::size_t i = 0; i < ms.size(); ++i) {
    const std::string base = index_path("memberships", i);
    const Membership& m = ms[i];
    if (m.organisation <= 0) {
      throw_invalid(base + ".organisation", "must be a stored customer id (> 0), got " +
                                                std::to_string(m.organisation));
    }
    if (m.organisation == customer.id && customer.id != 0) {
      throw_invalid(base + ".organisation", "a customer cannot be a member of itself");
    }
    for (std::size_t r = 0; r < m.roles.size(); ++r) {
      for (std::size_t q = 0; q < r; ++q) {
        if (m.roles[q] == m.roles[r]) {
          throw_invalid(base + ".roles", std::string("duplicate role ") + to_string(m.roles[r]));
        }
      }
    }
    check_text(m.title, base + ".title", 0, kShortText);
    const std::ptrdiff_t k = earlier(seen, m.organisation, i);
    if (k >= 0) {
      throw_invalid(base + ".organisation",
                    "duplicate membership of organisation " + std::to_string(m.organisation) +
                        " (same as " + index_path("memberships", static_cast<std::size_t>(k)) +
                        ")");
    }
  }
}

void validate_custom(const std::map<std::string, FieldValue>& custom,
                     const std::vector<FieldDef>& fields, const Currency& store_currency) {
  for (const auto& entry : custom) {
    // Not a structured binding: clang before 16 cannot capture one in the lambda below.
    const std::string& key = entry.first;
    const FieldValue& value = entry.second;
    // A key that is no field name is quoted, so a hostile key cannot garble the message.
    const std::string path = "custom." + (is_field_name(key) ? key : quote_text(key));
    const auto def = std::find_if(fields.begin(), fields.end(),
                                  [&](const FieldDef& f) { return f.name == key; });
    if (def == fields.end()) throw_invalid(path, "unknown field (not declared)");
    if (value.index() != required_index(def->type)) {
      throw_invalid(path, std::string("expected ") + to_string(def->type) + ", got " +
                              value_type_name(value));
    }
    switch (def->type) {
      case FieldType::text:
        check_text(std::get<std::string>(value), path, 0, kCustomText);
        break;
      case FieldType::enumeration: {
        const auto& s = std::get<std::string>(value);
        if (std::find(def->enum_values.begin(), def->enum_values.end(), s) ==
            def->enum_values.end()) {
          std::string allowed;
          for (std::size_t i = 0; i < def->enum_values.size(); ++i) {
            if (i != 0) allowed += ", ";
            allowed += def->enum_values[i];
          }
          throw_invalid(path, quote_text(s) + " is not one of: " + allowed);
        }
        break;
      }
      case FieldType::money: {
        const Money& m = std::get<Money>(value);
        const bool own = !def->currency.empty();
        const std::string_view want = own ? std::string_view(def->currency) : store_currency.code();
        if (m.currency().code() != want) {
          throw_invalid(path, std::string("currency ") + std::string(m.currency().code()) +
                                  " differs from the " + (own ? "field's " : "store's ") +
                                  std::string(want));
        }
        break;
      }
      case FieldType::integer:
      case FieldType::decimal:
      case FieldType::date:
      case FieldType::boolean:
        break;
    }
  }
  for (const FieldDef& def : fields) {
    if (def.required && custom.find(def.name) == custom.end()) {
      throw_invalid("custom." + def.name, "required field missing");
    }
  }
}

}  // namespace

void check_text(std::string_view text, std::string_view field, std::size_t min_bytes,
                std::size_t max_bytes) {
  if (text.size() < min_bytes) {
    if (text.empty()) throw_invalid(field, "must not be empty");
    throw_invalid(field, "is " + std::to_string(text.size()) + " bytes, shorter than the minimum " +
                             std::to_string(min_bytes));
  }
  if (text.size() > max_bytes) {
    throw_invalid(field, "is " + std::to_string(text.size()) + " bytes, longer than the limit of " +
                             std::to_string(max_bytes));
  }
  const auto nul = text.find('\0');
  if (nul != std::string_view::npos) {
    throw_invalid(field, "contains a NUL byte (at byte " + std::to_string(nul) + ")");
  }
  const auto bad = detail::find_invalid_utf8(text);
  if (bad != std::string_view::npos) {
    throw_invalid(field, "is not valid UTF-8 (at byte " + std::to_string(bad) + ")");
  }
}

std::string normalize_email(std::string_view raw, std::string_view field) {
  const std::string_view email = trim(raw);
  check_text(email, field, 1, kEmail);
  for (char c : email) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) {
      throw_invalid(field, "must not contain spaces or control characters");
    }
  }
  const auto at = email.find('@');
  if (at == std::string_view::npos || email.find('@', at + 1) != std::string_view::npos) {
    throw_invalid(field, "must contain exactly one '@'");
  }
  if (at == 0) throw_invalid(field, "has nothing before '@'");
  const std::string_view domain = email.substr(at + 1);
  if (domain.empty() || domain.find('.') == std::string_view::npos || domain.front() == '.' ||
      domain.back() == '.' || domain.find("..") != std::string_view::npos) {
    throw_invalid(field, "the part after '@' must be a dotted domain name (example.com)");
  }
  std::string out;
  out.reserve(email.size());
  for (char c : email) out += ascii_lower(c);
  return out;
}

std::string normalize_phone(std::string_view raw, std::string_view field) {
  const std::string_view phone = trim(raw);
  check_text(phone, field, 1, kShortText);
  std::string compact;
  compact.reserve(phone.size());
  for (char c : phone) {
    if (c == ' ' || c == '\t' || c == '.' || c == '-' || c == '(' || c == ')') continue;
    compact += c;
  }
  if (compact.size() >= 2 && compact[0] == '0' && compact[1] == '0') {
    compact.replace(0, 2, "+");
  }
  if (compact.empty() || compact[0] != '+') {
    throw_invalid(field,
                  "must be in international form: '+' or '00', then the country code (E.164)");
  }
  const std::string_view digits = std::string_view(compact).substr(1);
  if (!std::all_of(digits.begin(), digits.end(), is_digit)) {
    throw_invalid(field,
                  "may contain only digits after '+' (and spaces, dots, dashes, parentheses)");
  }
  if (digits.size() < 7 || digits.size() > 15) {
    throw_invalid(field,
                  "must have 7 to 15 digits after '+', got " + std::to_string(digits.size()));
  }
  return compact;
}

void validate_customer(Customer& customer, const std::vector<FieldDef>& fields,
                       const Currency& store_currency) {
  check_text(customer.external_id, "external_id", 1, 256);
  check_text(customer.name, "name", 1, 512);
  validate_demographics(customer.demographics);
  validate_contacts(customer.contacts);
  validate_consents(customer.consents);
  if (customer.max_contacts_per_30_days) {
    check_range("max_contacts_per_30_days", *customer.max_contacts_per_30_days, 0, 1000);
  }
  check_count(customer.tags.size(), "tags");
  std::unordered_map<std::string_view, std::size_t> seen_tags;
  for (std::size_t i = 0; i < customer.tags.size(); ++i) {
    const std::string path = index_path("tags", i);
    check_text(customer.tags[i], path, 1, kShortText);
    if (earlier(seen_tags, std::string_view(customer.tags[i]), i) >= 0) {
      throw_invalid(path, "duplicate tag " + quote_text(customer.tags[i]));
    }
  }
  check_text(customer.owner, "owner", 0, kShortText);
  check_text(customer.acquisition_source, "acquisition_source", 0, kShortText);
  validate_custom(customer.custom, fields, store_currency);
  validate_memberships(customer);
}

void validate_field_def(const FieldDef& def) {
  if (!is_field_name(def.name)) {
    throw_invalid("field.name", "must match [a-z][a-z0-9_]{0,63}, got " + quote_text(def.name));
  }
  if (def.type == FieldType::enumeration) {
    if (def.enum_values.empty()) {
      throw_invalid("field.enum_values", "an enum field needs at least one value");
    }
    check_count(def.enum_values.size(), "field.enum_values");
    std::unordered_map<std::string_view, std::size_t> seen;
    for (std::size_t i = 0; i < def.enum_values.size(); ++i) {
      const std::string path = index_path("field.enum_values", i);
      check_text(def.enum_values[i], path, 1, kShortText);
      if (earlier(seen, std::string_view(def.enum_values[i]), i) >= 0) {
        throw_invalid(path, "duplicate value " + quote_text(def.enum_values[i]));
      }
    }
  } else if (!def.enum_values.empty()) {
    throw_invalid("field.enum_values",
                  std::string("only an enum field has values, this one is ") + to_string(def.type));
  }
  if (!def.currency.empty()) {
    if (def.type != FieldType::money) {
      throw_invalid("field.currency", std::string("only a money field has a currency, this one is ") +
                                          to_string(def.type));
    }
    if (Currency::is_known(def.currency)) Currency::check_holds_money(def.currency, "field.currency");
    if (!Currency::is_known(def.currency)) {
      throw_invalid("field.currency", "unknown currency " + quote_text(def.currency));
    }
  }
  check_text(def.description, "field.description", 0, kDescription);
}

}  // namespace v0
}  // namespace crmkit
