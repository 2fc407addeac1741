// The store's lifecycle engine and opportunities (store.hpp, the engine block) and the weighted
// pipeline value (analytics/pipeline.hpp). Entities come in as (kind, id) with kind "customer" or
// "opportunity"; crmkit/store.py resolves external ids and records into those. Columns come back
// as dicts of numpy arrays and lists, which crmkit/store.py turns into DataFrames.
//
// The Machine comes from the lifecycle binding (machine_from_py, lifecycle.cpp).
//
// Listeners: a Python callable is wrapped in a C++ TransitionListener that takes the GIL, calls
// it with a dict, and turns a Python exception into a C++ one that the store records (see
// Store::take_listener_errors); the commit is never undone. The wrapper drops its reference to the
// callable with the GIL held, whichever thread releases it last.
#include <memory>
#include <string>

#include "conversions.hpp"
#include "crmkit/analytics/pipeline.hpp"
#include "crmkit/lifecycle/machine.hpp"

namespace crmkit_py {

namespace {

using crmkit::EntityKind;
using crmkit::EntityRef;
using crmkit::Store;
using crmkit::TransitionRecord;
using crmkit::WriteContext;
using release = py::call_guard<py::gil_scoped_release>;

EntityRef entity_of(const std::string& kind, std::int64_t id) {
  return {crmkit::parse_entity_kind(kind, "entity_kind"), id};
}

py::dict record_to_py(const TransitionRecord& r) {
  py::dict d;
  d["id"] = r.id;
  d["machine"] = text_to_py(r.machine);
  d["entity_kind"] = crmkit::to_string(r.entity.kind);
  d["entity_id"] = r.entity.id;
  d["from"] = text_to_py(r.from);
  d["to"] = text_to_py(r.to);
  d["at"] = timestamp_to_datetime(r.at);
  d["rule"] = text_to_py(r.rule);
  d["actor"] = text_to_py(r.actor);
  d["reason"] = text_to_py(r.reason);
  d["recorded_at"] = timestamp_to_datetime(r.recorded_at);
  return d;
}

py::list records_to_py(const std::vector<TransitionRecord>& rows) {
  py::list out;
  for (const auto& r : rows) out.append(record_to_py(r));
  return out;
}

// Planned changes from a list of dicts {"kind"?, "entity", "from", "to", "rule"?, "at"}.
std::vector<crmkit::PlannedTransition> planned_from_py(const py::list& rows) {
  std::vector<crmkit::PlannedTransition> out;
  out.reserve(rows.size());
  std::size_t i = 0;
  for (py::handle h : rows) {
    const std::string where = "changes[" + std::to_string(i++) + "]";
    if (!py::isinstance<py::dict>(h)) crmkit::throw_invalid(where, "must be a dict");
    auto d = py::reinterpret_borrow<py::dict>(h);
    auto need = [&](const char* key) -> py::object {
      if (!d.contains(key)) crmkit::throw_invalid(where + "." + key, "is missing");
      return d[key];
    };
    crmkit::PlannedTransition p;
    const std::string kind = d.contains("kind") ? text_from_py(d["kind"], where + ".kind")
                                                : std::string("customer");
    p.entity = entity_of(kind, need("entity").cast<std::int64_t>());
    p.from = text_from_py(need("from"), where + ".from");
    p.to = text_from_py(need("to"), where + ".to");
    if (d.contains("rule")) p.rule = text_from_py(d["rule"], where + ".rule");
    p.at = timestamp_from_py(need("at"), "at");
    out.push_back(std::move(p));
  }
  return out;
}

struct PyCallable {
  py::object fn;
  explicit PyCallable(py::object f) : fn(std::move(f)) {}
  PyCallable(const PyCallable&) = delete;
  PyCallable& operator=(const PyCallable&) = delete;
  ~PyCallable() {
    if (!Py_IsInitialized()) {
      fn.release();  // the interpreter is gone: leak rather than touch it
      return;
    }
    py::gil_scoped_acquire gil;
    fn = py::object();
  }
};

template <typename T>
py::list texts(const std::vector<T>& v) {
  py::list out;
  for (const auto& s : v) out.append(text_to_py(s));
  return out;
}

}  // namespace

void bind_lifecycle_store(py::module_& m) {
  using namespace crmkit;

  py::class_<Opportunity> opp(m, "Opportunity",
                              "An opportunity (records/opportunity.hpp): customer, name, amount "
                              "(Money), expected_close (Date), owner, pipeline (machine name).");
  def_field(opp, "id", &Opportunity::id);
  def_field(opp, "customer", &Opportunity::customer);
  def_field(opp, "name", &Opportunity::name);
  def_field(opp, "amount", &Opportunity::amount);
  def_field(opp, "expected_close", &Opportunity::expected_close);
  def_field(opp, "owner", &Opportunity::owner);
  def_field(opp, "pipeline", &Opportunity::pipeline);
  def_field(opp, "created_at", &Opportunity::created_at);
  def_field(opp, "updated_at", &Opportunity::updated_at);
  finish_struct(opp, {"id", "customer", "name", "amount", "expected_close", "owner", "pipeline",
                      "created_at", "updated_at"});

  m.def("probability_decimal",
        [](double p) { return decimal_to_py(crmkit::probability_decimal(p)); },
        py::arg("probability"),
        "The exact decimal.Decimal a win probability stands for (its shortest decimal text).");

  auto store = py::reinterpret_borrow<py::class_<Store>>(m.attr("Store"));
  store
      // ---- opportunities ----
      .def("create_opportunity",
           [](Store& s, const Opportunity& o, const TextArg<"actor">& actor, const TextArg<"source">& source) {
             return s.create_opportunity(o, WriteContext{actor, source});
           },
           py::arg("opportunity"), py::kw_only(), py::arg("actor") = "", py::arg("source") = "",
           release())
      .def("get_opportunity", &Store::get_opportunity, py::arg("id"), release())
      .def("list_opportunities", &Store::list_opportunities, py::arg("customer") = 0, release())
      .def("update_opportunity",
           [](Store& s, const Opportunity& o, const TextArg<"actor">& actor, const TextArg<"source">& source) {
             return s.update_opportunity(o, WriteContext{actor, source});
           },
           py::arg("opportunity"), py::kw_only(), py::arg("actor") = "", py::arg("source") = "",
           release())
      .def("_opportunity_columns",
           [](const Store& s, const std::string& pipeline) {
             OpportunityColumns c;
             {
               py::gil_scoped_release unlocked;
               c = s.opportunity_columns(pipeline);
             }
             py::dict d;
             d["currency"] = c.currency;
             d["name"] = texts(c.name);
             d["owner"] = texts(c.owner);
             d["pipeline"] = texts(c.pipeline);
             d["id"] = to_numpy(std::move(c.id));
             d["customer_id"] = to_numpy(std::move(c.customer_id));
             d["amount_minor"] = to_numpy(std::move(c.amount_minor));
             d["expected_close_days"] = to_numpy(std::move(c.expected_close_days));
             d["created_at_micros"] = to_numpy(std::move(c.created_at_micros));
             return d;
           },
           py::arg("pipeline") = "")
      // ---- states and history ----
      .def("_state",
           [](const Store& s, py::handle machine_obj, const std::string& kind, IntArg<"id", std::int64_t> id) {
             const Machine& machine = machine_from_py(machine_obj);
             EntityState st;
             {
               py::gil_scoped_release unlocked;
               st = s.state(machine, entity_of(kind, id));
             }
             py::dict d;
             d["state"] = text_to_py(st.state);
             d["since"] = timestamp_to_datetime(st.since);
             d["recorded"] = st.recorded;
             return d;
           },
           py::arg("machine"), py::arg("kind"), py::arg("id"))
      .def("_states",
           [](const Store& s, py::handle machine_obj, const std::string& kind) {
             const Machine& machine = machine_from_py(machine_obj);
             StateColumns c;
             {
               py::gil_scoped_release unlocked;
               c = s.states(machine, parse_entity_kind(kind, "kind"));
             }
             py::dict d;
             d["state"] = texts(c.state);
             d["entity_id"] = to_numpy(std::move(c.entity_id));
             d["since_micros"] = to_numpy(std::move(c.since_micros));
             d["recorded"] = to_numpy(std::move(c.recorded));
             return d;
           },
           py::arg("machine"), py::arg("kind") = "customer")
      .def("_history",
           [](const Store& s, const std::string& machine, py::object kind, py::object id) {
             std::optional<EntityRef> e;
             if (!kind.is_none()) e = entity_of(text_from_py(kind, "kind"), id.cast<std::int64_t>());
             TransitionColumns c;
             {
               py::gil_scoped_release unlocked;
               c = s.history(machine, e);
             }
             py::dict d;
             py::list kinds;
             for (auto k : c.entity_kind) kinds.append(to_string(k));
             d["entity_kind"] = kinds;
             d["from"] = texts(c.from);
             d["to"] = texts(c.to);
             d["rule"] = texts(c.rule);
             d["actor"] = texts(c.actor);
             d["reason"] = texts(c.reason);
             d["id"] = to_numpy(std::move(c.id));
             d["entity_id"] = to_numpy(std::move(c.entity_id));
             d["at_micros"] = to_numpy(std::move(c.at_micros));
             d["recorded_at_micros"] = to_numpy(std::move(c.recorded_at_micros));
             return d;
           },
           py::arg("machine"), py::arg("kind") = py::none(), py::arg("id") = py::none())
      // ---- transitions ----
      .def("_transition",
           [](Store& s, py::handle machine_obj, const std::string& kind, IntArg<"id", std::int64_t> id,
              const std::string& to, const std::string& reason, const TextArg<"actor">& actor,
              py::object at, const TextArg<"source">& source) {
             const Machine& machine = machine_from_py(machine_obj);
             TransitionRequest req;
             req.reason = reason;
             req.actor = actor;
             if (!at.is_none()) req.at = timestamp_from_py(at, "at");
             TransitionRecord r;
             {
               // Listeners run inside this call and take the GIL themselves.
               py::gil_scoped_release unlocked;
               r = s.transition(machine, entity_of(kind, id), to, req, WriteContext{actor, source});
             }
             return record_to_py(r);
           },
           py::arg("machine"), py::arg("kind"), py::arg("id"), py::arg("to"),
           py::arg("reason") = "", py::arg("actor") = "", py::arg("at") = py::none(),
           py::arg("source") = "")
      .def("apply_transitions",
           [](Store& s, py::handle machine_obj, const py::list& changes, bool dry_run,
              const TextArg<"actor">& actor, const TextArg<"source">& source) {
             const Machine& machine = machine_from_py(machine_obj);
             const auto planned = planned_from_py(changes);
             std::vector<TransitionRecord> rows;
             {
               py::gil_scoped_release unlocked;
               rows = dry_run ? s.check_transitions(machine, planned, WriteContext{actor, source})
                              : s.apply_transitions(machine, planned, WriteContext{actor, source});
             }
             return records_to_py(rows);
           },
           py::arg("machine"), py::arg("changes"), py::kw_only(), py::arg("dry_run") = false,
           py::arg("actor") = "", py::arg("source") = "",
           "Applies automatic changes (dicts with entity, from, to, rule, at and optional kind "
           "'customer' / 'opportunity') in one transaction, or checks them (dry_run=True); "
           "returns the history rows as dicts.")
      // ---- listeners ----
      .def("add_transition_listener",
           [](Store& s, py::function fn) {
             auto holder = std::make_shared<PyCallable>(std::move(fn));
             return s.add_transition_listener([holder](const TransitionRecord& r) {
               py::gil_scoped_acquire gil;
               try {
                 holder->fn(record_to_py(r));
               } catch (py::error_already_set& e) {
                 std::string message = py::str(e.type().attr("__name__"));
                 message += ": ";
                 message += std::string(py::str(e.value()));
                 throw std::runtime_error(message);
               }
             });
           },
           py::arg("listener"),
           "Registers a callable called with a dict per committed transition; returns its id. "
           "Its exceptions are recorded (listener_errors), never raised into the write.")
      .def("remove_transition_listener", &Store::remove_transition_listener, py::arg("id"))
      .def("listener_errors",
           [](Store& s) {
             py::list out;
             for (const auto& e : s.take_listener_errors()) {
               py::dict d;
               d["listener"] = e.listener;
               d["transition_id"] = e.transition_id;
               d["message"] = text_to_py(e.message);
               out.append(d);
             }
             return out;
           },
           "The listener errors recorded since the last call (oldest first), as dicts "
           "{listener, transition_id, message}; clears them.")
      // ---- pipeline value ----
      .def("_pipeline_value",
           [](const Store& s, py::handle machine_obj, bool by_stage, bool by_owner,
              bool by_close_month, bool include_terminal) {
             const Machine& machine = machine_from_py(machine_obj);
             PipelineOptions o;
             o.by_stage = by_stage;
             o.by_owner = by_owner;
             o.by_close_month = by_close_month;
             o.include_terminal = include_terminal;
             PipelineValue v;
             {
               py::gil_scoped_release unlocked;
               v = pipeline_value(s, machine, o);
             }
             py::dict d;
             d["stage"] = texts(v.stage);
             d["owner"] = texts(v.owner);
             d["close_month"] = texts(v.close_month);
             py::list amount, exact, weighted;
             for (std::size_t i = 0; i < v.size(); ++i) {
               amount.append(decimal_to_py(v.amount[i].amount()));
               exact.append(decimal_to_py(v.weighted_exact[i]));
               weighted.append(decimal_to_py(v.weighted[i].amount()));
             }
             d["count"] = to_numpy(std::move(v.count));  // after the loop: size() reads count
             d["amount"] = amount;
             d["weighted_exact"] = exact;
             d["weighted"] = weighted;
             d["currency"] = v.currency;
             return d;
           },
           py::arg("machine"), py::arg("by_stage") = true, py::arg("by_owner") = true,
           py::arg("by_close_month") = true, py::arg("include_terminal") = false);
}

}  // namespace crmkit_py
