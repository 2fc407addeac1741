// Follow-up and campaigns (crmkit/loyalty/followup.hpp, campaigns.hpp, analytics/engage.hpp).
// python/crmkit/engage.py turns the column dicts into DataFrames. Store-level calls release the
// GIL around the crmkit call.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "conversions.hpp"
#include "crmkit/analytics/engage.hpp"

namespace crmkit_py {

namespace {

using namespace crmkit;

// Repeated texts (status, rule, purpose, channel, action) become one shared Python str each.
class Interned {
 public:
  py::object get(const std::string& text) {
    auto it = cache_.find(text);
    if (it == cache_.end()) it = cache_.emplace(text, text_to_py(text)).first;
    return it->second;
  }

 private:
  std::map<std::string, py::object> cache_;
};

py::dict entries_to_py(const std::vector<DueEntry>& rows) {
  std::vector<std::int64_t> id, last, due_at, days, next;
  std::vector<std::uint8_t> has_last, has_next;
  std::vector<std::int32_t> c30;
  py::list status(rows.size()), rule(rows.size()), purpose(rows.size()), channel(rows.size()),
      action(rows.size());
  Interned texts;
  std::size_t k = 0;
  for (const DueEntry& e : rows) {
    id.push_back(e.customer);
    last.push_back(e.last_contact ? e.last_contact->micros() : 0);
    has_last.push_back(e.last_contact ? 1 : 0);
    due_at.push_back(e.due_at.micros());
    days.push_back(e.days_overdue);
    next.push_back(e.next_contact_at ? e.next_contact_at->micros() : 0);
    has_next.push_back(e.next_contact_at ? 1 : 0);
    c30.push_back(e.contacts_30d);
    status[k] = texts.get(to_string(e.status));
    rule[k] = texts.get(e.rule);
    purpose[k] = texts.get(e.purpose);
    channel[k] = e.channel ? texts.get(to_string(*e.channel)) : py::object(py::none());
    action[k] = e.action.empty() ? py::object(py::none()) : texts.get(e.action);
    ++k;
  }
  py::dict d;
  d["customer_id"] = to_numpy(std::move(id));
  d["last_contact_micros"] = to_numpy(std::move(last));
  d["has_last_contact"] = to_numpy(std::move(has_last));
  d["due_at_micros"] = to_numpy(std::move(due_at));
  d["days_overdue"] = to_numpy(std::move(days));
  d["status"] = status;
  d["rule"] = rule;
  d["purpose"] = purpose;
  d["channel"] = channel;
  d["action"] = action;
  d["contacts_30d"] = to_numpy(std::move(c30));
  d["next_contact_micros"] = to_numpy(std::move(next));
  d["has_next_contact"] = to_numpy(std::move(has_next));
  return d;
}

std::string json_text(py::handle obj) {
  if (py::isinstance<py::str>(obj)) return text_from_py(obj, "policy");
  return py::module_::import("json").attr("dumps")(obj).cast<std::string>();
}

ResponseOdds odds_from_py(const std::optional<py::dict>& odds) {
  ResponseOdds o;
  if (!odds) return o;
  for (auto [k, v] : *odds) {
    const std::string key = py::str(k);
    const double x = v.cast<double>();
    if (key == "prospect") o.prospect = x;
    else if (key == "first_time") o.first_time = x;
    else if (key == "repeat") o.repeat = x;
    else throw_invalid("odds." + key, "unknown class (expected prospect, first_time, repeat)");
  }
  validate_response_odds(o, "odds");
  return o;
}

std::vector<Channel> channels_from_py(const std::optional<std::vector<std::string>>& names,
                                      const char* field) {
  if (!names) return default_channel_order();
  std::vector<Channel> out;
  for (std::size_t i = 0; i < names->size(); ++i) {
    out.push_back(parse_channel((*names)[i], std::string(field) + "[" + std::to_string(i) + "]"));
  }
  return out;
}

}  // namespace

void bind_engage(py::module_& m) {
  py::class_<FollowUpPolicy>(m, "FollowUpPolicy",
                             "A follow-up cadence policy (crmkit/loyalty/followup.hpp). "
                             "FollowUpPolicy() is the default: every customer every 365 days.")
      .def(py::init<>())
      .def_static(
          "from_json", [](py::handle obj) { return follow_up_policy_from_json_text(json_text(obj)); },
          py::arg("policy"), "Reads a policy from JSON text or a dict (errors name the path).")
      .def("to_json", [](const FollowUpPolicy& p) { return to_json_text(p); })
      .def_readonly("default_every_days", &FollowUpPolicy::default_every_days)
      .def_readonly("default_purpose", &FollowUpPolicy::default_purpose)
      .def_readonly("default_action", &FollowUpPolicy::default_action)
      .def_property_readonly("rule_names",
                             [](const FollowUpPolicy& p) {
                               std::vector<std::string> out;
                               for (const CadenceRule& r : p.rules) out.push_back(r.name);
                               return out;
                             })
      .def("__eq__", [](const FollowUpPolicy& a, const FollowUpPolicy& b) { return a == b; })
      .def("__repr__", [](const FollowUpPolicy& p) {
        return "FollowUpPolicy(" + to_json_text(p) + ")";
      });

  m.def(
      "due_list",
      [](const Store& store, TimeArg<"as_of"> as_of, const std::optional<FollowUpPolicy>& policy,
         IntArg<"horizon_days", int> horizon_days, const std::optional<std::vector<std::string>>& channel_order) {
        FollowUpOptions o;
        o.due.horizon_days = horizon_days;
        o.due.channel_order = channels_from_py(channel_order, "channel_order");
        const FollowUpPolicy p = policy ? *policy : FollowUpPolicy{};
        DueList d;
        {
          py::gil_scoped_release release;
          d = due_list(store, as_of, p, o);
        }
        py::dict out;
        out["due"] = entries_to_py(d.due);
        out["unreachable"] = entries_to_py(d.unreachable);
        out["at_limit"] = entries_to_py(d.at_limit);
        return out;
      },
      py::arg("store"), py::arg("as_of"), py::arg("policy") = py::none(),
      py::arg("horizon_days") = 0, py::arg("channel_order") = py::none());

  m.def(
      "due_list_columns",
      [](const IArray& customer_id, const std::optional<IArray>& created_at_micros,
         const std::optional<py::array_t<std::int8_t, py::array::c_style | py::array::forcecast>>&
             preferred_channel,
         const std::optional<py::array_t<std::int32_t, py::array::c_style | py::array::forcecast>>&
             max_contacts_per_30_days,
         const IArray& consent_customer_id,
         const py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>& consent_channel,
         const std::vector<std::string>& consent_purpose,
         const py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>& consent_granted,
         const IArray& consent_at_micros, const IArray& interaction_customer_id,
         const IArray& interaction_at_micros, TimeArg<"as_of"> as_of,
         const std::optional<FollowUpPolicy>& policy, IntArg<"horizon_days", int> horizon_days) {
        ContactColumns c;
        c.customer_id = column(customer_id, "customer_id");
        c.created_at_micros = optional_column(created_at_micros, "created_at_micros");
        c.preferred_channel = optional_column(preferred_channel, "preferred_channel");
        c.max_contacts_per_30_days =
            optional_column(max_contacts_per_30_days, "max_contacts_per_30_days");
        c.consent_customer_id = column(consent_customer_id, "consent_customer_id");
        c.consent_channel = column(consent_channel, "consent_channel");
        c.consent_purpose = consent_purpose;
        c.consent_granted = column(consent_granted, "consent_granted");
        c.consent_at_micros = column(consent_at_micros, "consent_at_micros");
        c.interaction_customer_id = column(interaction_customer_id, "interaction_customer_id");
        c.interaction_at_micros = column(interaction_at_micros, "interaction_at_micros");
        DueOptions o;
        o.horizon_days = horizon_days;
        const FollowUpPolicy p = policy ? *policy : FollowUpPolicy{};
        DueList d;
        {
          py::gil_scoped_release release;
          d = due_list(p, c, as_of, o);
        }
        py::dict out;
        out["due"] = entries_to_py(d.due);
        out["unreachable"] = entries_to_py(d.unreachable);
        out["at_limit"] = entries_to_py(d.at_limit);
        return out;
      },
      py::arg("customer_id"), py::arg("created_at_micros"), py::arg("preferred_channel"),
      py::arg("max_contacts_per_30_days"), py::arg("consent_customer_id"),
      py::arg("consent_channel"), py::arg("consent_purpose"), py::arg("consent_granted"),
      py::arg("consent_at_micros"), py::arg("interaction_customer_id"),
      py::arg("interaction_at_micros"), py::arg("as_of"), py::arg("policy") = py::none(),
      py::arg("horizon_days") = 0);

  py::class_<Audience>(m, "_Audience")
      .def_readonly("purpose", &Audience::purpose)
      .def("__len__", &Audience::size)
      .def("columns", [](const Audience& a) {
        std::vector<std::int64_t> id, count;
        std::vector<double> p;
        py::list channel, cls;
        for (const AudienceMember& mb : a.members) {
          id.push_back(mb.customer);
          count.push_back(mb.purchase_count);
          p.push_back(mb.response_probability);
          channel.append(to_string(mb.channel));
          cls.append(to_string(mb.customer_class));
        }
        py::dict d;
        d["customer_id"] = to_numpy(std::move(id));
        d["channel"] = channel;
        d["purchase_count"] = to_numpy(std::move(count));
        d["customer_class"] = cls;
        d["response_probability"] = to_numpy(std::move(p));
        d["unreachable"] = to_numpy(std::vector<std::int64_t>(a.unreachable));
        std::vector<std::int64_t> lim_id, lim_next;
        std::vector<std::int32_t> lim_count, lim_max;
        std::vector<std::uint8_t> lim_has_next;
        for (const AudienceAtLimit& l : a.at_limit) {
          lim_id.push_back(l.customer);
          lim_count.push_back(l.contacts_30d);
          lim_max.push_back(l.max_contacts_per_30_days);
          lim_next.push_back(l.next_contact_at ? l.next_contact_at->micros() : 0);
          lim_has_next.push_back(l.next_contact_at ? 1 : 0);
        }
        py::dict lim;
        lim["customer_id"] = to_numpy(std::move(lim_id));
        lim["contacts_30d"] = to_numpy(std::move(lim_count));
        lim["max_contacts_per_30_days"] = to_numpy(std::move(lim_max));
        lim["next_contact_micros"] = to_numpy(std::move(lim_next));
        lim["has_next_contact"] = to_numpy(std::move(lim_has_next));
        d["at_limit"] = lim;
        return d;
      });

  m.def(
      "campaign_audience",
      [](const Store& store, TimeArg<"as_of"> as_of, const std::string& rule,
         const std::vector<CustomerId>& customers, const std::string& purpose,
         const std::optional<std::vector<std::string>>& channels,
         const std::optional<py::dict>& odds) {
        AudienceSelection sel;
        sel.rule = rule;
        sel.customers = customers;
        CampaignAudienceOptions o;
        o.audience.purpose = purpose;
        o.audience.channel_order = channels_from_py(channels, "channels");
        o.audience.odds = odds_from_py(odds);
        py::gil_scoped_release release;
        return campaign_audience(store, as_of, sel, o);
      },
      py::arg("store"), py::arg("as_of"), py::arg("rule") = "",
      py::arg("customers") = std::vector<CustomerId>{}, py::arg("purpose") = "marketing",
      py::arg("channels") = py::none(), py::arg("odds") = py::none());

  py::class_<CampaignPlan>(m, "CampaignPlan", "A projected campaign (crmkit/loyalty/campaigns.hpp).")
      .def_readonly("contacts", &CampaignPlan::contacts)
      .def_readonly("cost_per_contact", &CampaignPlan::cost_per_contact)
      .def_readonly("cost", &CampaignPlan::cost)
      .def_readonly("expected_responses", &CampaignPlan::expected_responses)
      .def_readonly("expected_response_rate", &CampaignPlan::expected_response_rate)
      .def_readonly("wasted_spend", &CampaignPlan::wasted_spend)
      .def("__repr__", [](const CampaignPlan& p) {
        return "CampaignPlan(contacts=" + std::to_string(p.contacts) + ", cost=" +
               p.cost.to_string() + ", expected_responses=" +
               std::to_string(p.expected_responses) + ", wasted_spend=" +
               p.wasted_spend.to_string() + ")";
      });
  py::class_<PlanComparison>(m, "PlanComparison", "A targeted plan against the blanket one.")
      .def_readonly("targeted", &PlanComparison::targeted)
      .def_readonly("blanket", &PlanComparison::blanket)
      .def_readonly("cost_saved", &PlanComparison::cost_saved)
      .def_readonly("waste_saved", &PlanComparison::waste_saved)
      .def_readonly("responses_lost", &PlanComparison::responses_lost);

  m.def("campaign_plan",
        py::overload_cast<std::size_t, const Money&, double>(&campaign_plan),
        py::arg("contacts"), py::arg("cost_per_contact"), py::arg("response_rate"));
  m.def("campaign_plan", py::overload_cast<const Audience&, const Money&>(&campaign_plan),
        py::arg("audience"), py::arg("cost_per_contact"));
  m.def("compare_plans", &compare_plans, py::arg("targeted"), py::arg("blanket"));

  m.def(
      "record_campaign_touches",
      [](Store& store, const std::string& name, const std::vector<CustomerId>& customers,
         const std::vector<std::string>& channels, TimeArg<"at"> at, const std::string& purpose,
         const TextArg<"actor">& actor, const TextArg<"source">& source) {
        if (customers.size() != channels.size()) {
          throw_invalid("channels", "length " + std::to_string(channels.size()) +
                                        " differs from customers (" +
                                        std::to_string(customers.size()) + ")");
        }
        std::vector<CampaignTouch> touches;
        for (std::size_t i = 0; i < customers.size(); ++i) {
          touches.push_back(
              {customers[i], parse_channel(channels[i], "touches[" + std::to_string(i) + "].channel")});
        }
        CampaignRecordOptions o;
        o.purpose = purpose;
        py::gil_scoped_release release;
        return record_campaign_touches(store, name, touches, at, o, WriteContext{actor, source});
      },
      py::arg("store"), py::arg("name"), py::arg("customers"), py::arg("channels"),
      py::arg("at"), py::arg("purpose") = "marketing", py::arg("actor") = "",
      py::arg("source") = "");

  m.def(
      "record_campaign_responses",
      [](Store& store, const std::string& name, const std::vector<CustomerId>& customers,
         TimeArg<"at"> at, const TextArg<"actor">& actor, const TextArg<"source">& source) {
        py::gil_scoped_release release;
        return record_campaign_responses(store, name, customers, at, WriteContext{actor, source});
      },
      py::arg("store"), py::arg("name"), py::arg("customers"), py::arg("at"),
      py::arg("actor") = "", py::arg("source") = "");

  m.def(
      "campaign_report",
      [](const Store& store, const std::string& name, const Money& cost_per_contact,
         const std::optional<py::dict>& odds) {
        const ResponseOdds o = odds_from_py(odds);
        std::vector<CampaignReportRow> rows;
        {
          py::gil_scoped_release release;
          rows = campaign_report(store, name, cost_per_contact, o);
        }
        py::list group, cost, cpr;
        std::vector<std::int64_t> touches, responses;
        std::vector<double> rate, expected;
        for (const CampaignReportRow& r : rows) {
          group.append(r.group);
          touches.push_back(static_cast<std::int64_t>(r.touches));
          responses.push_back(static_cast<std::int64_t>(r.responses));
          rate.push_back(r.response_rate);
          expected.push_back(r.expected_response_rate);
          cost.append(py::cast(r.cost));
          cpr.append(r.cost_per_response ? py::cast(*r.cost_per_response) : py::object(py::none()));
        }
        py::dict d;
        d["group"] = group;
        d["touches"] = to_numpy(std::move(touches));
        d["responses"] = to_numpy(std::move(responses));
        d["response_rate"] = to_numpy(std::move(rate));
        d["expected_response_rate"] = to_numpy(std::move(expected));
        d["cost"] = cost;
        d["cost_per_response"] = cpr;
        return d;
      },
      py::arg("store"), py::arg("name"), py::arg("cost_per_contact"), py::arg("odds") = py::none());
}

}  // namespace crmkit_py
