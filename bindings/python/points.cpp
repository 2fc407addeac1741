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


// The ledger's columns as entries (times in UTC microseconds). Throws Error{invalid_argument}
// naming the row for an unknown kind or a malformed amount.
std::vector<PointsEntry> entries_from_columns(const Program& program, const IArray& id,
                                              const IArray& customer, const IArray& at,
                                              std::vector<std::string> kind, const IArray& points,
                                              const IArray& available_at, const IArray& expires_at,
                                              const U8Array& has_expiry, const IArray& event,
                                              std::vector<std::string> rule,
                                              const std::optional<std::vector<std::string>>& amount) {
  const auto ids = column(id, "id");
  const auto cs = column(customer, "customer");
  const auto ts = column(at, "at");
  const auto ps = column(points, "points");
  const auto av = column(available_at, "available_at");
  const auto ex = column(expires_at, "expires_at");
  const auto he = column(has_expiry, "expires_at");
  const auto ev = column(event, "event");
  const std::size_t n = cs.size();
  if (ids.size() != n || ts.size() != n || kind.size() != n || ps.size() != n || av.size() != n ||
      ex.size() != n || he.size() != n || ev.size() != n || rule.size() != n ||
      (amount && amount->size() != n))
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
  return entries;
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
         TimeArg<"as_of"> as_of) {
        const std::vector<PointsEntry> entries =
            entries_from_columns(program, id, customer, at, std::move(kind), points, available_at,
                                 expires_at, has_expiry, event, std::move(rule), amount);
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

  m.def(
      "_replay_points_account",
      [](const Program& program, IArray id, IArray customer, IArray at, std::vector<std::string> kind,
         IArray points, IArray available_at, IArray expires_at, U8Array has_expiry, IArray event,
         std::vector<std::string> rule, std::optional<std::vector<std::string>> amount,
         IntArg<"who", CustomerId> who, TimeArg<"as_of"> as_of) {
        std::vector<PointsEntry> entries =
            entries_from_columns(program, id, customer, at, std::move(kind), points, available_at,
                                 expires_at, has_expiry, event, std::move(rule), amount);
        std::erase_if(entries, [&](const PointsEntry& e) { return e.customer != who; });
        Account a;
        {
          py::gil_scoped_release unlocked;
          a = replay_account(program, who, entries, as_of);
        }
        const std::size_t n = a.lots.size();
        std::vector<std::int64_t> entry(n), ev(n), granted_at(n), avail(n), expires(n);
        std::vector<std::uint8_t> has(n), pending(n);
        std::vector<Points> granted(n), paid(n), redeemed(n), reversed(n), expired(n), left(n);
        std::vector<std::string> rules(n);
        for (std::size_t i = 0; i < n; ++i) {
          const Lot& l = a.lots[i];
          entry[i] = l.entry;
          ev[i] = l.event;
          rules[i] = l.rule;
          granted_at[i] = l.granted_at.micros();
          avail[i] = l.available_at.micros();
          has[i] = l.expires_at.has_value();
          expires[i] = l.expires_at ? l.expires_at->micros() : 0;
          granted[i] = l.granted;
          paid[i] = l.paid_to_debt;
          redeemed[i] = l.redeemed;
          reversed[i] = l.reversed;
          expired[i] = l.expired;
          left[i] = l.remaining;
          pending[i] = l.pending;
        }
        py::dict lots;
        lots["entry"] = to_numpy(std::move(entry));
        lots["event"] = to_numpy(std::move(ev));
        lots["rule"] = rules;
        lots["granted_at"] = to_numpy(std::move(granted_at));
        lots["available_at"] = to_numpy(std::move(avail));
        lots["expires_at"] = to_numpy(std::move(expires));
        lots["has_expiry"] = to_numpy(std::move(has));
        lots["granted"] = to_numpy(std::move(granted));
        lots["paid_to_debt"] = to_numpy(std::move(paid));
        lots["redeemed"] = to_numpy(std::move(redeemed));
        lots["reversed"] = to_numpy(std::move(reversed));
        lots["expired"] = to_numpy(std::move(expired));
        lots["remaining"] = to_numpy(std::move(left));
        lots["pending"] = to_numpy(std::move(pending));
        std::vector<std::int64_t> change_at;
        std::vector<std::string> from, to;
        for (const TierChange& c : a.tier_history) {
          change_at.push_back(c.at.micros());
          from.push_back(c.from);
          to.push_back(c.to);
        }
        py::dict history;
        history["at"] = to_numpy(std::move(change_at));
        history["from"] = from;
        history["to"] = to;
        py::dict balances;
        balances["customer"] = a.customer;
        balances["available"] = a.available;
        balances["pending"] = a.pending;
        balances["debt"] = a.debt;
        balances["earned"] = a.earned;
        balances["redeemed"] = a.redeemed;
        balances["reversed"] = a.reversed;
        balances["expired"] = a.expired;
        balances["redeemable"] = a.redeemable();
        balances["balance"] = a.balance();
        balances["tier"] = a.tier;
        return py::make_tuple(balances, lots, history);
      },
      py::arg("program"), py::arg("id"), py::arg("customer"), py::arg("at"), py::arg("kind"),
      py::arg("points"), py::arg("available_at"), py::arg("expires_at"), py::arg("has_expiry"),
      py::arg("event"), py::arg("rule"), py::arg("amount"), py::arg("who"), py::arg("as_of"),
      "One customer's balances, lots and tier history as of a date from ledger columns; use "
      "crmkit.replay_points_account.");
}

}  // namespace crmkit_py
