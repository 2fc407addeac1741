// Customer facts as of a date (crmkit/analytics/facts.hpp). Results cross as a dict: customer_id
// (numpy int64), external_id (list of str) and `columns`, a list of (name, type, values, present)
// with values a numpy array (number: float64, integer and date: int64, bool: uint8) or a list
// (text: str, list of text: list of str) and present a numpy uint8 array; python/crmkit/facts.py
// turns it into a DataFrame or a dict. Every call releases the GIL around the crmkit call.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "conversions.hpp"
#include "crmkit/analytics/facts.hpp"

namespace crmkit_py {

using namespace crmkit;

// The model handed in: a crmkit fitter (its _model), or a BG/NBD, MBG/NBD or Pareto/NBD model.
FactModel fact_model(py::handle model, TimeUnit unit, double multiplier) {
  FactModel out;
  out.unit = unit;
  out.multiplier = multiplier;
  if (model.is_none()) return out;
  py::object m = py::reinterpret_borrow<py::object>(model);
  if (py::hasattr(m, "_model")) m = m.attr("_model");
  if (m.is_none()) throw_invalid("model", "the fitter is not fitted: call fit() first");
  if (py::isinstance<ModifiedBetaGeoModel>(m)) {
    out.model = m.cast<ModifiedBetaGeoModel>();
  } else if (py::isinstance<BetaGeoModel>(m)) {
    out.model = m.cast<BetaGeoModel>();
  } else if (py::isinstance<ParetoNBDModel>(m)) {
    out.model = m.cast<ParetoNBDModel>();
  } else {
    throw_invalid("model", "expected a fitted BG/NBD, MBG/NBD or Pareto/NBD model, got " +
                               std::string(py::str(py::type::of(m).attr("__name__"))));
  }
  return out;
}

namespace {

using namespace crmkit;

using U8Array = py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>;
using I8Array = py::array_t<std::int8_t, py::array::c_style | py::array::forcecast>;

FactOptions fact_options(const std::optional<std::vector<std::string>>& facts,
                         const std::optional<std::vector<std::string>>& windows, py::handle model,
                         TimeUnit unit, double multiplier) {
  FactOptions o;
  if (facts) o.facts = *facts;
  if (windows) {
    for (std::size_t i = 0; i < windows->size(); ++i) {
      const std::string path = "windows[" + std::to_string(i) + "]";
      WindowFact w = window_fact_from_json_text((*windows)[i], path);
      for (const WindowFact& g : o.windows) {
        if (g.name == w.name) throw_invalid(path + ".name", "'" + w.name + "' is declared twice");
      }
      o.windows.push_back(std::move(w));
    }
  }
  o.model = fact_model(model, unit, multiplier);
  return o;
}

py::dict facts_to_py(CustomerFacts&& f) {
  py::dict out;
  py::list columns;
  const FactTable& t = f.table;
  for (std::size_t s = 0; s < t.schema().size(); ++s) {
    const FactDecl& d = t.schema()[s];
    py::object values;
    switch (d.type) {
      case FactType::number: {
        auto v = t.numbers(s);
        values = to_numpy(std::vector<double>(v.begin(), v.end()));
        break;
      }
      case FactType::integer:
      case FactType::date: {
        auto v = t.integers(s);
        values = to_numpy(std::vector<std::int64_t>(v.begin(), v.end()));
        break;
      }
      case FactType::boolean: {
        auto v = t.booleans(s);
        values = to_numpy(std::vector<std::uint8_t>(v.begin(), v.end()));
        break;
      }
      case FactType::text: {
        auto v = t.texts(s);
        values = texts_to_py(std::vector<std::string>(v.begin(), v.end()));
        break;
      }
      case FactType::text_list: {
        py::list lists;
        for (const auto& l : t.text_lists(s)) lists.append(texts_to_py(l));
        values = std::move(lists);
        break;
      }
    }
    auto p = t.present(s);
    columns.append(py::make_tuple(d.name, to_string(d.type), values,
                                  to_numpy(std::vector<std::uint8_t>(p.begin(), p.end()))));
  }
  out["external_id"] = texts_to_py(f.external_id);
  out["customer_id"] = to_numpy(std::move(f.customer_id));
  out["columns"] = std::move(columns);
  return out;
}

// A read-only numpy view property of one vector member of a bound columns struct (no copy).
template <class T, class V>
void view(py::class_<T>& cls, const char* name, std::vector<V> T::*member,
          const char* dtype = nullptr) {
  cls.def_property_readonly(name, [member, dtype](py::handle self) {
    return column_view(self, self.cast<const T&>().*member, dtype);
  });
}

template <class T>
void finish_columns(py::class_<T>& cls, const char* what) {
  std::string type_name = py::str(cls.attr("__name__"));
  cls.def("__len__", [](const T& c) { return c.event_id.size(); });
  cls.def("__repr__", [type_name, what](const T& c) {
    return type_name + "(" + std::to_string(c.event_id.size()) + " " + what + ")";
  });
}

}  // namespace

void bind_facts(py::module_& m) {
  // ---- the store's column reads for facts (store.hpp) ----
  py::class_<RefundColumns> refunds(m, "RefundColumns",
                                    "Columns of every refund event (read-only numpy views).");
  view(refunds, "event_id", &RefundColumns::event_id);
  view(refunds, "customer_id", &RefundColumns::customer_id);
  view(refunds, "purchase_id", &RefundColumns::purchase_id);
  view(refunds, "at_micros", &RefundColumns::at_micros);
  view(refunds, "amount_minor", &RefundColumns::amount_minor);
  finish_columns(refunds, "refunds");
  py::class_<InteractionColumns> interactions(
      m, "InteractionColumns",
      "Columns of every interaction event (read-only numpy views; kind and purpose are the "
      "InteractionKind and ContactPurpose codes).");
  view(interactions, "event_id", &InteractionColumns::event_id);
  view(interactions, "customer_id", &InteractionColumns::customer_id);
  view(interactions, "at_micros", &InteractionColumns::at_micros);
  view(interactions, "kind", &InteractionColumns::kind);
  view(interactions, "purpose", &InteractionColumns::purpose);
  view(interactions, "commitment_asked", &InteractionColumns::commitment_asked, "bool");
  view(interactions, "commitment_obtained", &InteractionColumns::commitment_obtained, "bool");
  finish_columns(interactions, "interactions");
  py::class_<SurveyColumns> surveys(
      m, "SurveyColumns", "Columns of every survey response (read-only numpy views; -1 = no score).");
  view(surveys, "event_id", &SurveyColumns::event_id);
  view(surveys, "customer_id", &SurveyColumns::customer_id);
  view(surveys, "at_micros", &SurveyColumns::at_micros);
  view(surveys, "nps", &SurveyColumns::nps);
  view(surveys, "csat", &SurveyColumns::csat);
  finish_columns(surveys, "survey responses");
  py::class_<ParticipationColumns> participations(
      m, "ParticipationColumns", "Columns of every event participation (read-only numpy views).");
  view(participations, "event_id", &ParticipationColumns::event_id);
  view(participations, "customer_id", &ParticipationColumns::customer_id);
  view(participations, "at_micros", &ParticipationColumns::at_micros);
  finish_columns(participations, "participations");

  auto store = py::reinterpret_borrow<py::class_<Store>>(m.attr("Store"));
  store.def("refund_columns", &Store::refund_columns, py::call_guard<py::gil_scoped_release>(),
            "Every refund event as columns (store.hpp).");
  store.def("interaction_columns", &Store::interaction_columns,
            py::call_guard<py::gil_scoped_release>(),
            "Every interaction event as columns (store.hpp).");
  store.def("survey_columns", &Store::survey_columns, py::call_guard<py::gil_scoped_release>(),
            "Every survey response as columns (store.hpp).");
  store.def("participation_columns", &Store::participation_columns,
            py::call_guard<py::gil_scoped_release>(),
            "Every event participation as columns (store.hpp).");

  m.def(
      "standard_facts",
      [](const std::vector<std::string>& machines,
         const std::optional<std::vector<std::string>>& windows) {
        const FactOptions o = fact_options(std::nullopt, windows, py::none(), TimeUnit::day, 1.0);
        const FactSchema s = standard_fact_schema({}, machines, o.windows);
        py::list out;
        for (const FactDecl& d : s.facts()) {
          out.append(py::make_tuple(d.name, to_string(d.type), d.description));
        }
        return out;
      },
      py::arg("machines") = std::vector<std::string>{}, py::arg("windows") = py::none(),
      "The standard fact catalogue (facts.hpp standard_fact_schema) as a list of "
      "(name, type, description); windows are JSON texts of window declarations.");

  m.def(
      "window_fact_json",
      [](const std::string& text, const std::string& path) {
        return to_json_text(window_fact_from_json_text(text, path));
      },
      py::arg("text"), py::arg("path") = "window",
      "Reads and validates one window declaration (JSON text) and returns its canonical JSON.");

  m.def(
      "facts_as_of",
      [](const Store& store, TimeArg<"as_of"> as_of, const std::optional<std::vector<std::string>>& facts,
         const std::optional<std::vector<std::string>>& windows, py::handle model, TimeUnit unit,
         double multiplier, const std::map<std::string, std::string>& initial_states) {
        FactOptions o = fact_options(facts, windows, model, unit, multiplier);
        o.initial_states.insert(initial_states.begin(), initial_states.end());
        CustomerFacts f;
        {
          py::gil_scoped_release unlocked;
          f = facts_as_of(store, as_of, o);
        }
        return facts_to_py(std::move(f));
      },
      py::arg("store"), py::arg("as_of"), py::kw_only(), py::arg("facts") = py::none(),
      py::arg("windows") = py::none(), py::arg("model") = py::none(),
      py::arg("unit") = TimeUnit::day, py::arg("multiplier") = 1.0,
      py::arg("initial_states") = std::map<std::string, std::string>{},
      "Facts of every customer of a store as of a date (facts.hpp facts_as_of).");

  m.def(
      "customer_facts",
      [](const Store& store, IntArg<"customer", CustomerId> customer, TimeArg<"as_of"> as_of,
         const std::optional<std::vector<std::string>>& facts,
         const std::optional<std::vector<std::string>>& windows, py::handle model, TimeUnit unit,
         double multiplier, const std::map<std::string, std::string>& initial_states) {
        FactOptions o = fact_options(facts, windows, model, unit, multiplier);
        o.initial_states.insert(initial_states.begin(), initial_states.end());
        CustomerFacts f;
        {
          py::gil_scoped_release unlocked;
          f = customer_facts(store, customer, as_of, o);
        }
        return facts_to_py(std::move(f));
      },
      py::arg("store"), py::arg("customer"), py::arg("as_of"), py::kw_only(),
      py::arg("facts") = py::none(), py::arg("windows") = py::none(),
      py::arg("model") = py::none(), py::arg("unit") = TimeUnit::day,
      py::arg("multiplier") = 1.0,
      py::arg("initial_states") = std::map<std::string, std::string>{},
      "The facts of one customer as of a date (facts.hpp customer_facts).");

  m.def(
      "compute_facts",
      [](const IArray& customer_id, const std::optional<IArray>& created_at, IntArg<"scale", int> scale,
         const std::optional<IArray>& purchase_event_id, const std::optional<IArray>& purchase_customer_id,
         const std::optional<IArray>& purchase_at, const std::optional<IArray>& purchase_amount_minor,
         const std::optional<IArray>& refund_purchase_id, const std::optional<IArray>& refund_at,
         const std::optional<IArray>& refund_amount_minor,
         const std::optional<IArray>& interaction_customer_id,
         const std::optional<IArray>& interaction_at, const std::optional<U8Array>& interaction_kind,
         const std::optional<U8Array>& interaction_purpose,
         const std::optional<U8Array>& interaction_commitment_obtained,
         const std::optional<IArray>& referral_customer_id, const std::optional<IArray>& referral_at,
         const std::optional<IArray>& survey_customer_id, const std::optional<IArray>& survey_at,
         const std::optional<I8Array>& survey_nps, const std::optional<I8Array>& survey_csat,
         const std::optional<IArray>& participation_customer_id,
         const std::optional<IArray>& participation_at, TimeArg<"as_of"> as_of,
         const std::optional<std::vector<std::string>>& facts,
         const std::optional<std::vector<std::string>>& windows, py::handle model, TimeUnit unit,
         double multiplier) {
        FactColumns c;
        c.scale = scale;
        c.customer_id = column(customer_id, "customer_id");
        c.created_at_micros = optional_column(created_at, "created_at");
        c.purchase_event_id = optional_column(purchase_event_id, "purchase_event_id");
        c.purchase_customer_id = optional_column(purchase_customer_id, "purchase_customer_id");
        c.purchase_at_micros = optional_column(purchase_at, "purchase_at");
        c.purchase_amount_minor = optional_column(purchase_amount_minor, "purchase_amount_minor");
        c.refund_purchase_id = optional_column(refund_purchase_id, "refund_purchase_id");
        c.refund_at_micros = optional_column(refund_at, "refund_at");
        c.refund_amount_minor = optional_column(refund_amount_minor, "refund_amount_minor");
        c.interaction_customer_id =
            optional_column(interaction_customer_id, "interaction_customer_id");
        c.interaction_at_micros = optional_column(interaction_at, "interaction_at");
        c.interaction_kind = optional_column(interaction_kind, "interaction_kind");
        c.interaction_purpose = optional_column(interaction_purpose, "interaction_purpose");
        c.interaction_commitment_obtained =
            optional_column(interaction_commitment_obtained, "interaction_commitment_obtained");
        c.referral_customer_id = optional_column(referral_customer_id, "referral_customer_id");
        c.referral_at_micros = optional_column(referral_at, "referral_at");
        c.survey_customer_id = optional_column(survey_customer_id, "survey_customer_id");
        c.survey_at_micros = optional_column(survey_at, "survey_at");
        c.survey_nps = optional_column(survey_nps, "survey_nps");
        c.survey_csat = optional_column(survey_csat, "survey_csat");
        c.participation_customer_id =
            optional_column(participation_customer_id, "participation_customer_id");
        c.participation_at_micros = optional_column(participation_at, "participation_at");
        const FactOptions o = fact_options(facts, windows, model, unit, multiplier);
        CustomerFacts f;
        {
          py::gil_scoped_release unlocked;
          f = compute_facts(c, as_of, o);
        }
        return facts_to_py(std::move(f));
      },
      py::arg("customer_id"), py::kw_only(), py::arg("created_at") = py::none(),
      py::arg("scale") = 2, py::arg("purchase_event_id") = py::none(),
      py::arg("purchase_customer_id") = py::none(), py::arg("purchase_at") = py::none(),
      py::arg("purchase_amount_minor") = py::none(), py::arg("refund_purchase_id") = py::none(),
      py::arg("refund_at") = py::none(), py::arg("refund_amount_minor") = py::none(),
      py::arg("interaction_customer_id") = py::none(), py::arg("interaction_at") = py::none(),
      py::arg("interaction_kind") = py::none(), py::arg("interaction_purpose") = py::none(),
      py::arg("interaction_commitment_obtained") = py::none(),
      py::arg("referral_customer_id") = py::none(), py::arg("referral_at") = py::none(),
      py::arg("survey_customer_id") = py::none(), py::arg("survey_at") = py::none(),
      py::arg("survey_nps") = py::none(), py::arg("survey_csat") = py::none(),
      py::arg("participation_customer_id") = py::none(), py::arg("participation_at") = py::none(),
      py::arg("as_of"), py::arg("facts") = py::none(), py::arg("windows") = py::none(),
      py::arg("model") = py::none(), py::arg("unit") = TimeUnit::day,
      py::arg("multiplier") = 1.0,
      "Facts over columns (facts.hpp compute_facts): int64 ids and UTC microseconds, uint8 "
      "enum codes, int8 survey scores (-1 = not given).");
}

}  // namespace crmkit_py
