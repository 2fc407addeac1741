// The customer record and its parts (customer.hpp): enums, structs, JSON forms, normalisers.
#include <string>

#include "conversions.hpp"
#include "crmkit/json.hpp"

namespace crmkit_py {

namespace {

std::string dump_json(const nlohmann::json& j, std::string_view what) {
  try {
    return j.dump();
  } catch (const nlohmann::json::exception& e) {
    crmkit::throw_invalid(what, e.what());
  }
}

}  // namespace

void bind_records(py::module_& m) {
  using namespace crmkit;

  py::enum_<CustomerKind>(m, "CustomerKind")
      .value("person", CustomerKind::person)
      .value("organisation", CustomerKind::organisation);
  py::enum_<ContactKind>(m, "ContactKind")
      .value("email", ContactKind::email)
      .value("phone", ContactKind::phone)
      .value("im", ContactKind::im)
      .value("postal", ContactKind::postal);
  py::enum_<Channel>(m, "Channel")
      .value("email", Channel::email)
      .value("phone", Channel::phone)
      .value("sms", Channel::sms)
      .value("im", Channel::im)
      .value("post", Channel::post)
      .value("visit", Channel::visit);
  py::enum_<ConsentStatus>(m, "ConsentStatus")
      .value("granted", ConsentStatus::granted)
      .value("withdrawn", ConsentStatus::withdrawn);
  py::enum_<LegalBasis>(m, "LegalBasis")
      .value("consent", LegalBasis::consent)
      .value("contract", LegalBasis::contract)
      .value("legal_obligation", LegalBasis::legal_obligation)
      .value("vital_interests", LegalBasis::vital_interests)
      .value("public_task", LegalBasis::public_task)
      .value("legitimate_interests", LegalBasis::legitimate_interests);
  py::enum_<BuyingRole>(m, "BuyingRole")
      .value("acceptor", BuyingRole::acceptor)
      .value("dissatisfied", BuyingRole::dissatisfied)
      .value("power_holder", BuyingRole::power_holder);
  py::enum_<RelationshipLevel>(m, "RelationshipLevel")
      .value("acquaintance", RelationshipLevel::acquaintance)
      .value("dating", RelationshipLevel::dating)
      .value("partner", RelationshipLevel::partner)
      .value("ally", RelationshipLevel::ally);
  py::enum_<FieldType>(m, "FieldType")
      .value("text", FieldType::text)
      .value("integer", FieldType::integer)
      .value("decimal", FieldType::decimal)
      .value("money", FieldType::money)
      .value("date", FieldType::date)
      .value("boolean", FieldType::boolean)
      .value("enumeration", FieldType::enumeration);

  py::class_<ContactPoint> contact(m, "ContactPoint", "A way to reach a customer.");
  def_field(contact, "kind", &ContactPoint::kind);
  def_field(contact, "value", &ContactPoint::value);
  def_field(contact, "label", &ContactPoint::label);
  def_field(contact, "primary", &ContactPoint::primary);
  finish_struct(contact, {"kind", "value", "label", "primary"});

  py::class_<Consent> consent(m, "Consent", "Consent for one channel and one purpose.");
  def_field(consent, "channel", &Consent::channel);
  def_field(consent, "purpose", &Consent::purpose);
  def_field(consent, "status", &Consent::status);
  def_field(consent, "at", &Consent::at);
  def_field(consent, "source", &Consent::source);
  def_field(consent, "legal_basis", &Consent::legal_basis);
  finish_struct(consent, {"channel", "purpose", "status", "at", "source", "legal_basis"});

  py::class_<Demographics> demo(m, "Demographics");
  def_field(demo, "region", &Demographics::region);
  def_field(demo, "gender", &Demographics::gender);
  def_field(demo, "birth_date", &Demographics::birth_date);
  def_field(demo, "occupation", &Demographics::occupation);
  def_field(demo, "interests", &Demographics::interests);
  def_field(demo, "marital_status", &Demographics::marital_status);
  def_field(demo, "household_size", &Demographics::household_size);
  finish_struct(demo, {"region", "gender", "birth_date", "occupation", "interests",
                       "marital_status", "household_size"});

  py::class_<Membership> membership(m, "Membership", "A person's place in an organisation.");
  def_field(membership, "organisation", &Membership::organisation);
  def_field(membership, "roles", &Membership::roles);
  def_field(membership, "level", &Membership::level);
  def_field(membership, "title", &Membership::title);
  finish_struct(membership, {"organisation", "roles", "level", "title"});

  py::class_<FieldDef> field_def(m, "FieldDef", "The declaration of a custom field.");
  def_field(field_def, "name", &FieldDef::name);
  def_field(field_def, "type", &FieldDef::type);
  def_field(field_def, "enum_values", &FieldDef::enum_values);
  def_field(field_def, "currency", &FieldDef::currency);
  def_field(field_def, "required", &FieldDef::required);
  def_field(field_def, "personal", &FieldDef::personal);
  def_field(field_def, "description", &FieldDef::description);
  finish_struct(field_def, {"name", "type", "enum_values", "currency", "required", "personal",
                            "description"});
  field_def
      .def_static(
          "from_json",
          [](py::handle text) {
            return field_def_from_json(
                parse_json_strict(text_from_py(text, "field"), "field"));
          },
          py::arg("text"))
      .def("to_json", [](const FieldDef& d) { return dump_json(to_json(d), "field"); });

  py::class_<Customer> customer(
      m, "Customer",
      "A customer record. List members (tags, contacts, ...) are copies: c.tags.append(x) does "
      "not change c; assign a new list (c.tags = c.tags + [x]).");
  def_field(customer, "id", &Customer::id);
  def_field(customer, "external_id", &Customer::external_id);
  def_field(customer, "kind", &Customer::kind);
  def_field(customer, "name", &Customer::name);
  def_field(customer, "demographics", &Customer::demographics);
  def_field(customer, "contacts", &Customer::contacts);
  def_field(customer, "consents", &Customer::consents);
  def_field(customer, "preferred_channel", &Customer::preferred_channel);
  def_field(customer, "max_contacts_per_30_days", &Customer::max_contacts_per_30_days);
  def_field(customer, "tags", &Customer::tags);
  def_field(customer, "owner", &Customer::owner);
  def_field(customer, "acquisition_source", &Customer::acquisition_source);
  def_field(customer, "custom", &Customer::custom);
  def_field(customer, "memberships", &Customer::memberships);
  def_field(customer, "created_at", &Customer::created_at);
  def_field(customer, "updated_at", &Customer::updated_at);
  def_field(customer, "deleted", &Customer::deleted);
  def_field(customer, "erased", &Customer::erased);
  finish_struct(customer, {"id", "external_id", "kind", "name", "demographics", "contacts",
                           "consents", "preferred_channel", "max_contacts_per_30_days", "tags",
                           "owner", "acquisition_source", "custom", "memberships", "created_at",
                           "updated_at", "deleted", "erased"});
  customer
      .def("has_consent",
           [](const Customer& c, Channel channel, const std::string& purpose) {
             return c.has_consent(channel, purpose);
           },
           py::arg("channel"), py::arg("purpose"))
      .def("primary_contact",
           [](const Customer& c, ContactKind kind) -> std::optional<ContactPoint> {
             const ContactPoint* p = c.primary_contact(kind);
             if (p == nullptr) return std::nullopt;
             return *p;
           },
           py::arg("kind"))
      .def_static(
          "from_json",
          [](py::handle text) { return customer_from_json_text(text_from_py(text, "customer")); },
          py::arg("text"), "Parses a customer from JSON text (strict; see customer.hpp).")
      .def("to_json", [](const Customer& c) { return text_to_py(dump_json(to_json(c), "customer")); });

  m.def(
      "validate_customer",
      [](const Customer& customer, const std::vector<FieldDef>& fields, const Currency& currency) {
        Customer copy = customer;
        validate_customer(copy, fields, currency);
        return copy;
      },
      py::arg("customer"), py::arg("fields"), py::arg("store_currency"),
      "Checks a customer and returns a normalised copy (the argument is left as it was).");
  m.def("validate_field_def", &validate_field_def, py::arg("definition"));
  m.def(
      "normalize_email",
      [](py::handle email, const std::string& field) {
        return normalize_email(text_from_py(email, field), field);
      },
      py::arg("email"), py::arg("field") = "email");
  m.def(
      "normalize_phone",
      [](py::handle phone, const std::string& field) {
        return normalize_phone(text_from_py(phone, field), field);
      },
      py::arg("phone"), py::arg("field") = "phone");
}

}  // namespace crmkit_py
