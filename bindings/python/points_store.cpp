// The store's points ledger (store.hpp, points block). Programmes cross as JSON text
// (python/crmkit/points_store.py accepts a crmkit.PointsProgram, a dict or JSON text);
// customers as internal ids (the Python layer resolves external ids); tables come back as dicts
// of numpy arrays and lists, which python/crmkit/points_store.py turns into DataFrames. Every
// call releases the GIL around the core call.
#include <string>

#include "conversions.hpp"

namespace crmkit_py {

namespace {

using crmkit::Store;
using crmkit::Timestamp;
using crmkit::WriteContext;

py::dict entry_to_py(const crmkit::PointsEntry& e) {
  py::dict d;
  d["id"] = e.id;
  d["customer_id"] = e.customer;
  d["at"] = timestamp_to_datetime(e.at);
  d["kind"] = crmkit::to_string(e.kind);
  d["points"] = e.points;
  d["available_at"] = timestamp_to_datetime(e.available_at);
  d["expires_at"] = e.expires_at ? timestamp_to_datetime(*e.expires_at) : py::none();
  d["event"] = e.event;
  d["rule"] = text_to_py(e.rule);
  d["idempotency_key"] = text_to_py(e.idempotency_key);
  d["reason"] = text_to_py(e.reason);
  return d;
}

py::dict info_to_py(const crmkit::PointsProgramInfo& i) {
  py::dict d;
  d["name"] = text_to_py(i.name);
  d["json"] = text_to_py(i.json);
  d["defined_at"] = timestamp_to_datetime(i.defined_at);
  d["updated_at"] = timestamp_to_datetime(i.updated_at);
  d["last_event"] = i.last_event;
  return d;
}

std::int64_t micros_or_nat(const std::optional<Timestamp>& t) {
  return t ? t->micros() : std::numeric_limits<std::int64_t>::min();
}

}  // namespace

void bind_points_store(py::module_& m) {
  auto store = py::reinterpret_borrow<py::class_<Store>>(m.attr("Store"));
  store
      .def("_define_points_program",
           [](Store& s, const std::string& json, const TextArg<"actor">& actor,
              const TextArg<"source">& source) {
             crmkit::PointsProgramInfo info;
             {
               py::gil_scoped_release r;
               info = s.define_points_program(crmkit::Program::from_json_text(json),
                                              WriteContext{actor, source});
             }
             return info_to_py(info);
           },
           py::arg("json"), py::arg("actor") = "", py::arg("source") = "")
      .def("_points_program_json",
           [](const Store& s, const std::string& name) {
             std::string json;
             {
               py::gil_scoped_release r;
               json = s.points_program(name).to_json_text();
             }
             return json;
           },
           py::arg("name"))
      .def("_points_programs",
           [](const Store& s) {
             std::vector<crmkit::PointsProgramInfo> all;
             {
               py::gil_scoped_release r;
               all = s.points_programs();
             }
             py::list out;
             for (const auto& i : all) out.append(info_to_py(i));
             return out;
           })
      .def("_earn_points",
           [](Store& s, const std::string& program, const TextArg<"actor">& actor,
              const TextArg<"source">& source) {
             crmkit::EarnReport r;
             {
               py::gil_scoped_release g;
               r = s.earn_points(program, WriteContext{actor, source});
             }
             py::dict d;
             d["events_read"] = r.events_read;
             d["entries_added"] = r.entries_added;
             d["points_granted"] = r.points_granted;
             d["points_reversed"] = r.points_reversed;
             d["last_event"] = r.last_event;
             return d;
           },
           py::arg("program"), py::arg("actor") = "", py::arg("source") = "")
      .def("_redeem_points",
           [](Store& s, const std::string& program, IntArg<"customer", std::int64_t> customer,
              IntArg<"points", std::int64_t> points, py::handle at_value, const std::string& key,
              const std::string& reason, const TextArg<"actor">& actor, const TextArg<"source">& source) {
             const Timestamp at = timestamp_from_py(at_value, "at");
             crmkit::PointsEntry e;
             {
               py::gil_scoped_release g;
               e = s.redeem_points(program, customer, points, at, key, reason,
                                   WriteContext{actor, source});
             }
             return entry_to_py(e);
           })
      .def("_adjust_points",
           [](Store& s, const std::string& program, IntArg<"customer", std::int64_t> customer,
              IntArg<"points", std::int64_t> points, py::handle at_value,
              const std::string& reason, const std::string& key, const TextArg<"actor">& actor,
              const TextArg<"source">& source) {
             const Timestamp at = timestamp_from_py(at_value, "at");
             crmkit::PointsEntry e;
             {
               py::gil_scoped_release g;
               e = s.adjust_points(program, customer, points, at, reason, key,
                                   WriteContext{actor, source});
             }
             return entry_to_py(e);
           })
      .def("_points_entries",
           [](const Store& s, const std::string& program, std::optional<std::int64_t> customer) {
             std::vector<crmkit::PointsEntry> rows;
             {
               py::gil_scoped_release g;
               rows = s.points_entries(program, customer);
             }
             std::vector<std::int64_t> id, cust, at, points, avail, expires, event;
             py::list kind, rule, key, reason;
             for (const auto& e : rows) {
               id.push_back(e.id);
               cust.push_back(e.customer);
               at.push_back(e.at.micros());
               points.push_back(e.points);
               avail.push_back(e.available_at.micros());
               expires.push_back(micros_or_nat(e.expires_at));
               event.push_back(e.event);
               kind.append(crmkit::to_string(e.kind));
               rule.append(text_to_py(e.rule));
               key.append(text_to_py(e.idempotency_key));
               reason.append(text_to_py(e.reason));
             }
             py::dict d;
             d["id"] = to_numpy(std::move(id));
             d["customer_id"] = to_numpy(std::move(cust));
             d["at_micros"] = to_numpy(std::move(at));
             d["kind"] = kind;
             d["points"] = to_numpy(std::move(points));
             d["available_at_micros"] = to_numpy(std::move(avail));
             d["expires_at_micros"] = to_numpy(std::move(expires));
             d["event"] = to_numpy(std::move(event));
             d["rule"] = rule;
             d["idempotency_key"] = key;
             d["reason"] = reason;
             return d;
           },
           py::arg("program"), py::arg("customer") = py::none())
      .def("_points_account",
           [](const Store& s, const std::string& program, IntArg<"customer", std::int64_t> customer,
              py::handle as_of_value) {
             const Timestamp as_of = timestamp_from_py(as_of_value, "as_of");
             crmkit::Account a;
             {
               py::gil_scoped_release g;
               a = s.points_account(program, customer, as_of);
             }
             std::vector<std::int64_t> entry, event, granted_at, avail, expires, granted, paid,
                 redeemed, reversed, expired, remaining;
             std::vector<std::uint8_t> pending;
             py::list rule;
             for (const auto& l : a.lots) {
               entry.push_back(l.entry);
               event.push_back(l.event);
               rule.append(text_to_py(l.rule));
               granted_at.push_back(l.granted_at.micros());
               avail.push_back(l.available_at.micros());
               expires.push_back(micros_or_nat(l.expires_at));
               granted.push_back(l.granted);
               paid.push_back(l.paid_to_debt);
               redeemed.push_back(l.redeemed);
               reversed.push_back(l.reversed);
               expired.push_back(l.expired);
               remaining.push_back(l.remaining);
               pending.push_back(l.pending ? 1 : 0);
             }
             py::dict lots;
             lots["entry"] = to_numpy(std::move(entry));
             lots["event"] = to_numpy(std::move(event));
             lots["rule"] = rule;
             lots["granted_at_micros"] = to_numpy(std::move(granted_at));
             lots["available_at_micros"] = to_numpy(std::move(avail));
             lots["expires_at_micros"] = to_numpy(std::move(expires));
             lots["granted"] = to_numpy(std::move(granted));
             lots["paid_to_debt"] = to_numpy(std::move(paid));
             lots["redeemed"] = to_numpy(std::move(redeemed));
             lots["reversed"] = to_numpy(std::move(reversed));
             lots["expired"] = to_numpy(std::move(expired));
             lots["remaining"] = to_numpy(std::move(remaining));
             lots["pending"] = to_numpy(std::move(pending));
             py::dict d;
             d["lots"] = lots;
             d["available"] = a.available;
             d["pending"] = a.pending;
             d["debt"] = a.debt;
             d["earned"] = a.earned;
             d["redeemed"] = a.redeemed;
             d["reversed"] = a.reversed;
             d["expired"] = a.expired;
             d["redeemable"] = a.redeemable();
             d["tier"] = text_to_py(a.tier);
             return d;
           })
      .def("_points_balances",
           [](const Store& s, const std::string& program, TimeArg<"as_of"> as_of) {
             crmkit::BalanceColumns b;
             {
               py::gil_scoped_release g;
               b = s.points_balances(program, as_of);
             }
             py::dict d;
             d["tier"] = texts_to_py(b.tier);
             d["customer_id"] = to_numpy(std::move(b.customer));
             d["available"] = to_numpy(std::move(b.available));
             d["pending"] = to_numpy(std::move(b.pending));
             d["debt"] = to_numpy(std::move(b.debt));
             d["earned"] = to_numpy(std::move(b.earned));
             d["redeemed"] = to_numpy(std::move(b.redeemed));
             d["reversed"] = to_numpy(std::move(b.reversed));
             d["expired"] = to_numpy(std::move(b.expired));
             return d;
           })
      .def("_tier_history",
           [](const Store& s, const std::string& program, TimeArg<"as_of"> as_of) {
             crmkit::TierHistoryColumns h;
             {
               py::gil_scoped_release g;
               h = s.tier_history(program, as_of);
             }
             py::dict d;
             d["from"] = texts_to_py(h.from);
             d["to"] = texts_to_py(h.to);
             d["customer_id"] = to_numpy(std::move(h.customer));
             d["at_micros"] = to_numpy(std::move(h.at_micros));
             return d;
           })
      .def("_tier_counts", [](const Store& s, const std::string& program, TimeArg<"as_of"> as_of) {
        std::vector<crmkit::TierCount> c;
        {
          py::gil_scoped_release g;
          c = s.tier_counts(program, as_of);
        }
        py::list tiers;
        std::vector<std::int64_t> n;
        for (const auto& row : c) {
          tiers.append(text_to_py(row.tier));
          n.push_back(static_cast<std::int64_t>(row.customers));
        }
        py::dict d;
        d["tier"] = tiers;
        d["customers"] = to_numpy(std::move(n));
        return d;
      });
}

}  // namespace crmkit_py
