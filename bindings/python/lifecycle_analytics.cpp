// Lifecycle machines run on a Store (crmkit/analytics/lifecycle.hpp): automatic evaluation as of
// a date and the store's history as a _History. python/crmkit/store.py (Store.evaluate,
// Store.stage_history, Store.stages_as_of) turns the results into DataFrames. Every call releases
// the GIL around the crmkit call.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "conversions.hpp"
#include "crmkit/analytics/lifecycle.hpp"

namespace crmkit_py {

namespace {

using namespace crmkit;

py::dict changes_to_py(const std::vector<TransitionRecord>& rows) {
  std::vector<std::int64_t> id, entity, at, recorded;
  py::list from, to, rule, actor;
  for (const TransitionRecord& r : rows) {
    id.push_back(r.id);
    entity.push_back(r.entity.id);
    at.push_back(r.at.micros());
    recorded.push_back(r.recorded_at.micros());
    from.append(text_to_py(r.from));
    to.append(text_to_py(r.to));
    rule.append(text_to_py(r.rule));
    actor.append(text_to_py(r.actor));
  }
  py::dict d;
  d["id"] = to_numpy(std::move(id));
  d["customer_id"] = to_numpy(std::move(entity));
  d["from"] = from;
  d["to"] = to;
  d["rule"] = rule;
  d["actor"] = actor;
  d["at_micros"] = to_numpy(std::move(at));
  d["recorded_at_micros"] = to_numpy(std::move(recorded));
  return d;
}

}  // namespace

void bind_lifecycle_analytics(py::module_& m) {
  m.def(
      "evaluate_machine",
      [](Store& store, py::handle machine, TimeArg<"as_of"> as_of, std::optional<CustomerId> customer,
         bool dry_run, const std::optional<std::vector<std::string>>& windows, py::handle model,
         TimeUnit unit, double multiplier, const TextArg<"actor">& actor, const TextArg<"source">& source,
         const std::string& kind) {
        const Machine& mach = machine_from_py(machine);
        EvaluateOptions o;
        o.kind = parse_entity_kind(kind, "kind");
        o.customer = customer;
        o.dry_run = dry_run;
        if (windows) {
          for (std::size_t i = 0; i < windows->size(); ++i)
            o.windows.push_back(
                window_fact_from_json_text((*windows)[i], "windows[" + std::to_string(i) + "]"));
        }
        o.model = fact_model(model, unit, multiplier);
        WriteContext ctx{actor, source};
        EvaluateResult r;
        {
          py::gil_scoped_release release;
          r = evaluate_machine(store, mach, as_of, o, ctx);
        }
        py::dict d = changes_to_py(r.changes);
        d["evaluated"] = r.evaluated;
        return d;
      },
      py::arg("store"), py::arg("machine"), py::arg("as_of"), py::arg("customer") = py::none(),
      py::arg("dry_run") = false, py::arg("windows") = py::none(), py::arg("model") = py::none(),
      py::arg("unit") = TimeUnit::day, py::arg("multiplier") = 1.0, py::arg("actor") = "",
      py::arg("source") = "", py::arg("kind") = "customer");

  m.def(
      "store_history",
      [](const Store& store, py::handle machine, const std::string& kind) {
        const Machine& mach = machine_from_py(machine);
        const EntityKind k = parse_entity_kind(kind, "kind");
        py::gil_scoped_release release;
        return store_history(store, mach, k);
      },
      py::arg("store"), py::arg("machine"), py::arg("kind") = "customer");

  m.def(
      "store_fact_schema",
      [](const Store& store, const std::vector<std::string>& machines,
         const std::optional<std::vector<std::string>>& windows) {
        std::vector<WindowFact> w;
        if (windows) {
          for (std::size_t i = 0; i < windows->size(); ++i)
            w.push_back(
                window_fact_from_json_text((*windows)[i], "windows[" + std::to_string(i) + "]"));
        }
        return store_fact_schema(store, machines, w);
      },
      py::arg("store"), py::arg("machines") = std::vector<std::string>{},
      py::arg("windows") = py::none());
}

}  // namespace crmkit_py
