// A minimal binding of crmkit::Machine (crmkit/lifecycle/machine.hpp, defaults.hpp) so that the
// store's lifecycle methods (lifecycle_store.cpp) can take one: load from JSON text or a default
// machine against declared facts given as {name: type name}, and read its states and
// transitions. (If the lifecycle layer gets a fuller binding, it replaces this file.)
#include <string>

#include "conversions.hpp"
#include "crmkit/lifecycle/defaults.hpp"
#include "crmkit/lifecycle/machine.hpp"

namespace crmkit_py {

namespace {

crmkit::FactSchema facts_from_py(const py::object& facts) {
  crmkit::FactSchema schema;
  if (facts.is_none()) return schema;
  for (auto item : py::reinterpret_borrow<py::dict>(facts)) {
    const std::string name = text_from_py(item.first, "facts");
    schema.add(name, crmkit::fact_type_from_string(text_from_py(item.second, "facts." + name),
                                                   "facts." + name));
  }
  return schema;
}

crmkit::MachineOptions options_from_py(const py::object& parameters, bool strict) {
  crmkit::MachineOptions o;
  o.strict = strict;
  if (!parameters.is_none())
    for (auto item : py::reinterpret_borrow<py::dict>(parameters))
      o.parameters[text_from_py(item.first, "parameters")] = item.second.cast<double>();
  return o;
}

}  // namespace

void bind_machine(py::module_& m) {
  using crmkit::Machine;
  py::class_<Machine>(m, "Machine",
                      "A lifecycle state machine loaded from JSON (crmkit/lifecycle/machine.hpp).")
      .def_static(
          "from_json",
          [](const std::string& text, const py::object& facts, const py::object& parameters,
             bool strict) {
            return Machine::from_json_text(text, facts_from_py(facts),
                                           options_from_py(parameters, strict));
          },
          py::arg("text"), py::arg("facts") = py::none(), py::arg("parameters") = py::none(),
          py::arg("strict") = true,
          "Loads a machine; facts declares the facts its rules read as {name: type}.")
      .def_static(
          "default",
          [](const std::string& name, const py::object& facts, const py::object& parameters) {
            return crmkit::default_machine(name, facts_from_py(facts),
                                           options_from_py(parameters, true));
          },
          py::arg("name"), py::arg("facts") = py::none(), py::arg("parameters") = py::none(),
          "A shipped machine (customer_lifecycle, relationship_level, implementation, prospect, "
          "sales_pipeline).")
      .def_static("default_names", &crmkit::default_machine_names)
      .def_property_readonly("name", &Machine::name)
      .def_property_readonly("initial_state", &Machine::initial_state)
      .def("has_state", [](const Machine& x, const std::string& s) { return x.has_state(s); })
      .def("states",
           [](const Machine& x) {
             py::list out;
             for (const auto& s : x.states()) {
               py::dict d;
               d["name"] = s.name;
               d["initial"] = s.initial;
               d["terminal"] = s.terminal;
               d["active"] = s.active;
               d["probability"] = s.probability ? py::object(py::float_(*s.probability))
                                                : py::object(py::none());
               out.append(d);
             }
             return out;
           })
      .def("transitions",
           [](const Machine& x) {
             py::list out;
             for (const auto& t : x.transitions()) {
               py::dict d;
               d["name"] = t.name;
               d["from"] = t.from;
               d["to"] = t.to;
               d["manual"] = t.manual;
               d["automatic"] = t.automatic();
               d["reason_required"] = t.reason_required;
               out.append(d);
             }
             return out;
           })
      .def("__repr__", [](const Machine& x) { return "Machine('" + x.name() + "')"; });
}

}  // namespace crmkit_py
