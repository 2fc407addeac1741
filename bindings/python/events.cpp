// The events of the ledger (event.hpp): enums, payload structs, Event and its JSON form.
#include <string>

#include "conversions.hpp"
#include "crmkit/json.hpp"

namespace crmkit_py {

void bind_events(py::module_& m) {
  using namespace crmkit;

  py::enum_<InteractionKind>(m, "InteractionKind")
      .value("call", InteractionKind::call)
      .value("visit", InteractionKind::visit)
      .value("email", InteractionKind::email)
      .value("message", InteractionKind::message)
      .value("gift", InteractionKind::gift)
      .value("hospitality", InteractionKind::hospitality)
      .value("site_visit", InteractionKind::site_visit)
      .value("event", InteractionKind::event)
      .value("meeting", InteractionKind::meeting)
      .value("other", InteractionKind::other);
  py::enum_<ContactPurpose>(m, "ContactPurpose")
      .value("care", ContactPurpose::care)
      .value("information", ContactPurpose::information)
      .value("deal", ContactPurpose::deal)
      .value("service", ContactPurpose::service)
      .value("intelligence", ContactPurpose::intelligence);
  py::enum_<EventType>(m, "EventType")
      .value("purchase", EventType::purchase)
      .value("refund", EventType::refund)
      .value("interaction", EventType::interaction)
      .value("referral", EventType::referral)
      .value("survey_response", EventType::survey_response)
      .value("event_participation", EventType::event_participation);

  py::class_<Purchase> purchase(m, "Purchase");
  def_field(purchase, "order_id", &Purchase::order_id);
  def_field(purchase, "amount", &Purchase::amount);
  def_field(purchase, "category", &Purchase::category);
  def_field(purchase, "essential", &Purchase::essential);
  def_field(purchase, "item_count", &Purchase::item_count);
  finish_struct(purchase, {"order_id", "amount", "category", "essential", "item_count"});

  py::class_<Refund> refund(m, "Refund");
  def_field(refund, "purchase", &Refund::purchase);
  def_field(refund, "amount", &Refund::amount);
  def_field(refund, "reason", &Refund::reason);
  finish_struct(refund, {"purchase", "amount", "reason"});

  py::class_<Interaction> interaction(m, "Interaction");
  def_field(interaction, "kind", &Interaction::kind);
  def_field(interaction, "purpose", &Interaction::purpose);
  def_field(interaction, "commitment_asked", &Interaction::commitment_asked);
  def_field(interaction, "commitment_obtained", &Interaction::commitment_obtained);
  def_field(interaction, "note", &Interaction::note);
  finish_struct(interaction,
                {"kind", "purpose", "commitment_asked", "commitment_obtained", "note"});

  py::class_<Referral> referral(m, "Referral");
  def_field(referral, "referred", &Referral::referred);
  finish_struct(referral, {"referred"});

  py::class_<SurveyResponse> survey(m, "SurveyResponse");
  def_field(survey, "survey", &SurveyResponse::survey);
  def_field(survey, "nps", &SurveyResponse::nps);
  def_field(survey, "csat", &SurveyResponse::csat);
  def_field(survey, "comment", &SurveyResponse::comment);
  finish_struct(survey, {"survey", "nps", "csat", "comment"});

  py::class_<EventParticipation> participation(m, "EventParticipation");
  def_field(participation, "event_name", &EventParticipation::event_name);
  def_field(participation, "role", &EventParticipation::role);
  finish_struct(participation, {"event_name", "role"});

  py::class_<Event> event(m, "Event",
                          "One ledger entry; payload is a Purchase, Refund, Interaction, Referral, "
                          "SurveyResponse or EventParticipation.");
  def_field(event, "id", &Event::id);
  def_field(event, "customer", &Event::customer);
  def_field(event, "at", &Event::at);
  def_field(event, "source", &Event::source);
  def_field(event, "idempotency_key", &Event::idempotency_key);
  def_field(event, "payload", &Event::payload);
  def_field(event, "recorded_at", &Event::recorded_at);
  def_field(event, "actor", &Event::actor);
  finish_struct(event, {"id", "customer", "at", "source", "idempotency_key", "payload",
                        "recorded_at", "actor"});
  event.def_property_readonly("type", &Event::type)
      .def_static(
          "from_json",
          [](py::handle text) { return event_from_json_text(text_from_py(text, "event")); },
          py::arg("text"), "Parses an event from JSON text (strict; see event.hpp).")
      .def("to_json", [](const Event& e) {
        try {
          return text_to_py(to_json(e).dump());
        } catch (const nlohmann::json::exception& ex) {
          crmkit::throw_invalid("event", ex.what());
        }
      });

  m.def("validate_event", &validate_event, py::arg("event"), py::arg("currency"));
}

}  // namespace crmkit_py
