// Points programmes and the pure replay of a points ledger (crmkit/loyalty/points.hpp).
// crmkit.PointsProgram wraps crmkit::Program (read-only, compared by value, pickled through its
// JSON form); _replay_points takes the ledger as columns and returns the balances as columns,
// which python/crmkit/points.py turns into DataFrames. The replay releases the GIL.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "conversions.hpp"

namespace crmkit_py {

using namespace crmkit;

namespace {

using U8Array = py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>;

// JSON text, or a dict / list (dumped with Python's json module first).
std::string json_text_from_py(py::handle obj) {
  if (py::isinstance<py::str>(obj)) return text_from_py(obj, "program");
  if (py::isinstance<py::dict>(obj))
    return py::module_::import("json").attr("dumps")(obj).cast<std::string>();
  throw py::type_error("PointsProgram.from_json: expected JSON text or a dict, got " +
                       std::string(py::str(py::type::of(obj).attr("__name__"))));
}

py::object to_dict(const Program& p) {
  return py::module_::import("json").attr("loads")(p.to_json_text());
}

}  // namespace

const Program& points_program_from_py(py::handle program) {
  if (!py::isinstance<Program>(program))
    throw py::type_error("expected a crmkit.PointsProgram, got " +
                         std::string(py::str(py::type::of(program).attr("__name__"))));
  return program.cast<const Program&>();
}

void bind_points(py::module_& m) {
  py::class_<Program> cls(m, "PointsProgram",
                          "A points programme (crmkit/loyalty/points.hpp): earning rules, pending "
                          "period, expiry, spend order and tiers. Read-only; build one with "
                          "PointsProgram.from_json(text_or_dict).");
  cls.def(py::init([](py::handle j) { return Program::from_json_text(json_text_from_py(j)); }),
          py::arg("json"), "Same as PointsProgram.from_json(json).")
      .def_static("from_json",
                  [](py::handle j) { return Program::from_json_text(json_text_from_py(j)); },
                  py::arg("json"),
                  "Reads a programme from JSON text or a dict (strict: unknown keys are refused) "
                  "and validates it. Raises ValidationError naming the JSON path.")
      .def("to_json", &Program::to_json_text, "The programme as compact JSON text.")
      .def("to_dict", &to_dict, "The programme's JSON form as a dict.")
      .def_property_readonly("name", [](const Program& p) { return p.name; })
      .def_property_readonly("currency", [](const Program& p) { return p.currency; })
      .def_property_readonly("pending_days", [](const Program& p) { return p.pending_days; })
      .def_property_readonly("expiry_mode", [](const Program& p) { return to_string(p.expiry.mode); })
      .def_property_readonly("expiry_days", [](const Program& p) { return p.expiry.days; })
      .def_property_readonly("spend_order", [](const Program& p) { return to_string(p.spend_order); })
      .def_property_readonly("rule_names",
                             [](const Program& p) {
                               std::vector<std::string> out;
                               for (const auto& r : p.rules) out.push_back(r.name);
                               return out;
                             })
      .def_property_readonly("rules", [](const Program& p) { return py::object(to_dict(p)["rules"]); },
                             "The earning rules as dicts (their JSON form).")
      .def_property_readonly("tier_names",
                             [](const Program& p) {
                               std::vector<std::string> out;
                               for (const auto& t : p.tiers.tiers) out.push_back(t.name);
                               return out;
                             })
      .def_property_readonly("tiers", [](const Program& p) { return py::object(to_dict(p)["tiers"]); },
                             "The tier policy as a dict (its JSON form).")
      .def("__eq__", [](const Program& a, py::handle b) {
        return py::isinstance<Program>(b) && a == b.cast<const Program&>();
      })
      .def("__hash__", [](const Program& p) { return py::hash(py::str(p.to_json_text())); })
      .def("__repr__", [](const Program& p) {
        return "PointsProgram(name=" + std::string(py::repr(py::str(p.name))) + ", rules=" +
               std::to_string(p.rules.size()) + ", tiers=" + std::to_string(p.tiers.tiers.size()) +
               ")";
      })
      .def(py::pickle([](const Program& p) { return py::make_tuple(p.to_json_text()); },
                      [](py::tuple t) {
                        if (t.size() != 1) throw py::value_error("PointsProgram: bad pickle state");
                        return Program::from_json_text(t[0].cast<std::string>());
                      }));

  m.def(
      "_replay_points",
      [](const Program& program, IArray id, IArray customer, IArray at, std::vector<std::string> kind,
         IArray points, IArray available_at, IArray expires_at, U8Array has_expiry, IArray event,
         std::vector<std::string> rule, std::optional<std::vector<std::string>> amount,
         Timestamp as_of) {
        const auto ids = column(id, "id");
        const auto cs = column(customer, "customer");
        const auto ts = column(at, "at");
        const auto ps = column(points, "points");
        const auto av = column(available_at, "available_at");
        const auto ex = column(expires_at, "expires_at");
        const auto he = column(has_expiry, "expires_at");
        const auto ev = column(event, "event");
        const std::size_t n = cs.size();
        if (ids.size() != n || ts.size() != n || kind.size() != n || ps.size() != n ||
            av.size() != n || ex.size() != n || he.size() != n || ev.size() != n ||
            rule.size() != n || (amount && amount->size() != n))
          throw_invalid("entries", "every column must have one value per row");
        const Currency currency = Currency::of(program.currency);
        std::vector<PointsEntry> entries(n);
        for (std::size_t i = 0; i < n; ++i) {
          PointsEntry& e = entries[i];
          const std::string row = "entries row " + std::to_string(i);
          e.id = ids[i];
          e.customer = cs[i];
          e.at = Timestamp(ts[i]);
          e.kind = parse_points_entry_kind(kind[i], row + ": kind");
          e.points = ps[i];
          e.available_at = Timestamp(av[i]);
          if (he[i]) e.expires_at = Timestamp(ex[i]);
          e.event = ev[i];
          e.rule = std::move(rule[i]);
          if (amount && !(*amount)[i].empty())
            e.amount = Money::parse((*amount)[i], currency, row + ": amount");
          else
            e.amount = Money(currency);
        }
        BalanceColumns b;
        {
          py::gil_scoped_release unlocked;
          b = balances_as_of(program, entries, as_of);
        }
        py::dict out;
        out["customer"] = to_numpy(std::move(b.customer));
        out["available"] = to_numpy(std::move(b.available));
        out["pending"] = to_numpy(std::move(b.pending));
        out["debt"] = to_numpy(std::move(b.debt));
        out["earned"] = to_numpy(std::move(b.earned));
        out["redeemed"] = to_numpy(std::move(b.redeemed));
        out["reversed"] = to_numpy(std::move(b.reversed));
        out["expired"] = to_numpy(std::move(b.expired));
        out["tier"] = b.tier;
        return out;
      },
      py::arg("program"), py::arg("id"), py::arg("customer"), py::arg("at"), py::arg("kind"),
      py::arg("points"), py::arg("available_at"), py::arg("expires_at"), py::arg("has_expiry"),
      py::arg("event"), py::arg("rule"), py::arg("amount"), py::arg("as_of"),
      "Balances as of a date from ledger columns (times in UTC microseconds); use "
      "crmkit.replay_points.");
}

}  // namespace crmkit_py
