// crmkit/lifecycle/machine.hpp, defaults.hpp and history.hpp: Machine (JSON state machines),
// the default machines, and the history arithmetic (as _core.History over numpy columns; the
// DataFrame front end is python/crmkit/lifecycle.py).
//
// Facts for Machine.evaluate: one row as a dict {fact: value} (None or an absent key: missing);
// Machine.evaluate_columns: a pandas DataFrame or a dict of columns. Only the facts the machine
// reads (Machine.facts_used) are converted: number and integer columns through float64 (NaN,
// None and pandas.NA are missing; an integer must be whole), bool, text, date and list of text
// cell by cell (None is missing).
#include <cmath>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "conversions.hpp"

namespace crmkit_py {

namespace {

using namespace pybind11::literals;
using crmkit::FactSchema;
using crmkit::FactTable;
using crmkit::FactType;
using crmkit::History;
using crmkit::Machine;

std::string json_text(py::handle value) {
  if (py::isinstance<py::str>(value)) return value.cast<std::string>();
  return py::module_::import("json").attr("dumps")(value).cast<std::string>();
}

crmkit::MachineOptions options_from_py(py::handle parameters, bool strict) {
  crmkit::MachineOptions o;
  o.strict = strict;
  if (!parameters.is_none())
    for (auto item : parameters.cast<py::dict>()) {
      const std::string name = text_from_py(item.first, "parameters");
      if (!py::isinstance<py::int_>(item.second) && !py::isinstance<py::float_>(item.second))
        crmkit::throw_invalid("parameters." + name, "expected a number");
      o.parameters[name] = item.second.cast<double>();
    }
  return o;
}

py::dict state_to_py(const crmkit::StateDef& s) {
  py::dict d;
  d["name"] = text_to_py(s.name);
  d["order"] = s.order;
  d["initial"] = s.initial;
  d["active"] = s.active;
  d["terminal"] = s.terminal;
  d["description"] = text_to_py(s.description);
  d["playbook"] = texts_to_py(s.playbook);
  d["probability"] = s.probability ? py::object(py::float_(*s.probability)) : py::object(py::none());
  return d;
}

py::dict transition_to_py(const crmkit::TransitionDef& t) {
  py::dict d;
  d["name"] = text_to_py(t.name);
  d["from"] = texts_to_py(t.from);
  d["from_any"] = t.from_any;
  d["to"] = text_to_py(t.to);
  d["when"] = t.when.empty() ? py::object(py::none())
                             : py::module_::import("json").attr("loads")(t.when);
  d["manual"] = t.manual;
  d["reason_required"] = t.reason_required;
  d["description"] = text_to_py(t.description);
  d["index"] = t.index;
  return d;
}

bool is_missing(py::handle v) {
  if (v.is_none()) return true;
  if (PyFloat_Check(v.ptr())) return std::isnan(PyFloat_AsDouble(v.ptr()));
  static py::object pd_na = py::module_::import("pandas").attr("NA");
  static py::object nat = py::module_::import("pandas").attr("NaT");
  return v.is(pd_na) || v.is(nat);
}

// One integer or number column to copy into a FactTable column: missing where `na` is set (if
// given) or, for numbers, where the value is NaN.
struct NumericJob {
  std::size_t rows = 0;
  const bool* na = nullptr;
  const std::int64_t* int_in = nullptr;
  std::int64_t* int_out = nullptr;
  const double* num_in = nullptr;
  double* num_out = nullptr;
  std::uint8_t* present = nullptr;

  void run(std::size_t begin, std::size_t end) const {
    if (int_in) {
      for (std::size_t r = begin; r < end; ++r) {
        const bool missing = na && na[r];
        int_out[r] = missing ? 0 : int_in[r];
        present[r] = missing ? 0 : 1;
      }
      return;
    }
    for (std::size_t r = begin; r < end; ++r) {
      const bool missing = (na && na[r]) || std::isnan(num_in[r]);
      num_out[r] = missing ? 0.0 : num_in[r];
      present[r] = missing ? 0 : 1;
    }
  }
};

// The facts a machine reads, as a FactTable over exactly those facts, from a DataFrame.
// `reuse`: a table of an earlier call whose memory may be reused (taken when it has the same
// schema and rows and every column is an integer / number column read from its buffers, which
// overwrite every cell); else a new table is made.
FactTable facts_from_frame(const Machine& m, const FactSchema& declared, py::handle frame,
                           FactTable* reuse = nullptr) {
  py::module_ np = py::module_::import("numpy");
  FactSchema schema;
  for (const auto& name : m.facts_used()) schema.add(name, declared[declared.slot(name)].type);
  const std::size_t rows = py::len(frame);
  bool reusable = reuse && reuse->rows() == rows && reuse->schema().size() == schema.size();
  for (std::size_t slot = 0; reusable && slot < schema.size(); ++slot) {
    const auto& have = reuse->schema()[slot];
    py::str key(schema[slot].name);
    if (have.name != schema[slot].name || have.type != schema[slot].type ||
        !frame.attr("__contains__")(key).cast<bool>()) {
      reusable = false;
      break;
    }
    const std::string kind = frame[key].attr("dtype").attr("kind").cast<std::string>();
    reusable = (have.type == FactType::integer && (kind == "i" || kind == "u")) ||
               (have.type == FactType::number && kind == "f");
  }
  FactTable t = reusable ? std::move(*reuse) : FactTable(schema, rows);
  std::vector<NumericJob> jobs;
  std::vector<py::object> keep;
  for (std::size_t slot = 0; slot < schema.size(); ++slot) {
    const std::string& name = schema[slot].name;
    py::str key(name);
    if (!frame.attr("__contains__")(key).cast<bool>())
      crmkit::throw_error(crmkit::ErrorCode::not_found, name, "no column for this fact");
    py::object s = frame[key];
    auto present = t.present(slot);
    const FactType type = schema[slot].type;
    const std::string kind = s.attr("dtype").attr("kind").cast<std::string>();
    if ((type == FactType::integer && (kind == "i" || kind == "u")) || (type == FactType::number && kind == "f")) {
      // Straight from the column's buffers, without a converted copy: a pandas nullable column
      // (Int64, Float64, ...: its values and NA mask) or a numpy one (no copy when it is int64 /
      // float64). A NaN in a number column is missing, as below.
      py::object arr = s.attr("array");
      py::object values, mask;
      if (py::hasattr(arr, "_data") && py::hasattr(arr, "_mask")) {
        values = arr.attr("_data");
        mask = arr.attr("_mask");
      } else {
        values = s.attr("to_numpy")();
      }
      // The values and mask are kept alive in `keep`; the copy into the table runs after the loop,
      // without the GIL and split over two threads for large frames (a plain copy per cell).
      NumericJob job;
      job.rows = rows;
      job.present = present.data();
      if (mask && !mask.is_none()) {
        auto na_array = mask.cast<py::array_t<bool, py::array::c_style | py::array::forcecast>>();
        job.na = na_array.data();
        keep.push_back(na_array);
      }
      if (type == FactType::integer) {
        auto a = values.cast<py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>>();
        job.int_in = a.data();
        job.int_out = t.integers(slot).data();
        keep.push_back(a);
      } else {
        auto a = values.cast<py::array_t<double, py::array::c_style | py::array::forcecast>>();
        job.num_in = a.data();
        job.num_out = t.numbers(slot).data();
        keep.push_back(a);
      }
      jobs.push_back(job);
      continue;
    }
    if (type == FactType::number || type == FactType::integer) {
      auto a = s.attr("to_numpy")("dtype"_a = "float64", "na_value"_a = np.attr("nan"))
                   .cast<py::array_t<double, py::array::c_style | py::array::forcecast>>();
      for (std::size_t r = 0; r < rows; ++r) {
        const double d = a.data()[r];
        if (std::isnan(d)) continue;
        if (type == FactType::number) {
          t.set_number(r, slot, d);  // refuses an infinity, naming the fact and row
          continue;
        } else {
          // An infinity is not whole (and would be undefined as an integer); nor is 2^63 or more.
          if (!std::isfinite(d) || d != std::floor(d))
            crmkit::throw_invalid(name, "row " + std::to_string(r) + ": an integer fact needs a whole number");
          if (d < -9223372036854775808.0 || d >= 9223372036854775808.0)
            crmkit::throw_invalid(name, "row " + std::to_string(r) + ": outside the 64-bit integer range");
          t.integers(slot)[r] = static_cast<std::int64_t>(d);
        }
        present[r] = 1;
      }
      continue;
    }
    py::list items = s.attr("tolist")();
    for (std::size_t r = 0; r < rows; ++r) {
      py::handle v = items[r];
      if (is_missing(v)) continue;
      const std::string field = name + "[" + std::to_string(r) + "]";
      switch (type) {
        case FactType::boolean:
          if (!PyBool_Check(v.ptr()) && !py::isinstance(v, np.attr("bool_")))
            crmkit::throw_invalid(field, "a bool fact needs True or False");
          t.set_boolean(r, slot, v.cast<bool>());
          break;
        case FactType::text:
          if (!py::isinstance<py::str>(v)) crmkit::throw_invalid(field, "a text fact needs a str");
          t.set_text(r, slot, text_from_py(v, field));
          break;
        case FactType::date: {
          py::object d = py::reinterpret_borrow<py::object>(v);
          if (py::hasattr(d, "to_pydatetime")) d = d.attr("date")();
          const auto date = try_date_from_py(d);
          if (!date) crmkit::throw_invalid(field, "a date fact needs a datetime.date or \"YYYY-MM-DD\"");
          t.set_date(r, slot, date->days_since_epoch());
          break;
        }
        case FactType::text_list:
          t.set_text_list(r, slot, texts_from_py(v, field));
          break;
        default:
          break;
      }
    }
  }
  if (!jobs.empty()) {
    py::gil_scoped_release release;
    const auto copy = [&](std::size_t begin, std::size_t end) {
      for (const auto& j : jobs) j.run(begin, end);
    };
    if (rows >= 131072 && std::thread::hardware_concurrency() > 1) {
      std::thread other(copy, rows / 2, rows);
      copy(0, rows / 2);
      other.join();
    } else {
      copy(0, rows);
    }
  }
  // A number fact must be finite (FactTable::set_number's rule): an infinity copied from a
  // buffer is refused here, naming the fact and the first such row.
  for (std::size_t slot = 0; slot < schema.size(); ++slot) {
    if (schema[slot].type != FactType::number) continue;
    const auto v = t.numbers(slot);
    const auto p = t.present(slot);
    for (std::size_t r = 0; r < rows; ++r) {
      if (p[r] && !std::isfinite(v[r]))
        crmkit::throw_invalid(schema[slot].name, "row " + std::to_string(r) +
                                                     ": a number fact must be finite (got NaN "
                                                     "or infinity)");
    }
  }
  return t;
}

py::object as_frame(py::handle facts) {
  py::module_ pd = py::module_::import("pandas");
  if (py::isinstance(facts, pd.attr("DataFrame"))) return py::reinterpret_borrow<py::object>(facts);
  return pd.attr("DataFrame")(facts);
}

// A Machine with the schema it was loaded against (to type the facts handed in).
struct PyMachine {
  Machine machine;
  FactSchema facts;
  // The fact table of the last evaluate_columns call, kept to reuse its memory in the next call
  // of the same size (fresh memory costs a page fault per 4 KiB, about a third of the time of a
  // large call). Taken under the mutex; a call that finds it busy makes its own table.
  struct Scratch {
    std::mutex mutex;
    FactTable table;
  };
  std::shared_ptr<Scratch> scratch = std::make_shared<Scratch>();
};

PyMachine load(py::handle definition, const FactSchema& facts, py::handle parameters, bool strict) {
  const std::string text = json_text(definition);
  const auto options = options_from_py(parameters, strict);
  py::gil_scoped_release release;
  return PyMachine{Machine::from_json_text(text, facts, options), facts};
}

// A state given as a number: int(value), as the Python wrapper did before (1.0 is 1).
std::int32_t index_from_py(PyObject* value) {
  return py::int_(py::reinterpret_borrow<py::object>(value)).cast<std::int32_t>();
}

// The state index of each element of `states`: an integer numpy array (indexes), or any iterable
// (list, object array) of names and integers. Names are looked up once per distinct str object
// (an array of names usually holds the same few objects), so the cost per row is a pointer test.
std::vector<std::int32_t> state_indexes(const Machine& m, py::handle states) {
  std::vector<std::int32_t> out;
  const auto n_states = static_cast<std::int64_t>(m.states().size());
  if (py::isinstance<py::array>(states)) {
    py::array a = py::reinterpret_borrow<py::array>(states);
    const char kind = a.dtype().kind();
    if (kind == 'i' || kind == 'u') {
      auto v = a.cast<py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>>();
      const std::size_t n = static_cast<std::size_t>(v.size());
      out.resize(n);
      const std::int64_t* in = v.data();
      for (std::size_t r = 0; r < n; ++r) {
        if (in[r] < 0 || in[r] >= n_states)
          crmkit::throw_invalid("states", "row " + std::to_string(r) + ": state index " + std::to_string(in[r]) +
                                              " is out of range (" + std::to_string(n_states) + " states)");
        out[r] = static_cast<std::int32_t>(in[r]);
      }
      return out;
    }
  }
  // (str object, index) pairs seen, in a small open-addressing table keyed by the object's
  // address: names repeat as the same few objects. The table holds no reference (`states` keeps
  // its elements alive); once it is 3/4 full, further names are looked up without caching.
  constexpr std::size_t kCache = 256;
  PyObject* cached[kCache] = {};
  std::int32_t cached_index[kCache] = {};
  std::size_t cached_count = 0;
  if (py::hasattr(states, "__len__")) out.reserve(py::len(states));
  const auto lookup = [&](PyObject* s) {
    std::size_t h = static_cast<std::size_t>((reinterpret_cast<std::uintptr_t>(s) * 0x9E3779B97F4A7C15ULL) >> 56);
    for (; cached[h]; h = (h + 1) % kCache)
      if (cached[h] == s) return cached_index[h];
    const std::int32_t index = m.state_index(text_from_py(s, "states"));
    if (cached_count < kCache * 3 / 4) {
      cached[h] = s;
      cached_index[h] = index;
      ++cached_count;
    }
    return index;
  };
  if (py::isinstance<py::array>(states) && py::reinterpret_borrow<py::array>(states).dtype().kind() == 'O' &&
      py::reinterpret_borrow<py::array>(states).ndim() == 1) {
    // An object array: its element pointers directly (the array keeps them alive).
    py::array a = py::reinterpret_borrow<py::array>(states);
    py::array c = py::module_::import("numpy").attr("ascontiguousarray")(a);
    PyObject* const* items = static_cast<PyObject* const*>(c.data());
    const std::size_t n = static_cast<std::size_t>(c.size());
    out.resize(n);
    for (std::size_t r = 0; r < n; ++r) {
      if (PyUnicode_Check(items[r])) out[r] = lookup(items[r]);
      else out[r] = index_from_py(items[r]);
    }
    return out;
  }
  for (py::handle s : states) {
    if (PyUnicode_Check(s.ptr())) out.push_back(lookup(s.ptr()));
    else out.push_back(index_from_py(s.ptr()));
  }
  return out;
}

}  // namespace

const crmkit::Machine& machine_from_py(py::handle machine) {
  if (!py::isinstance<PyMachine>(machine))
    throw py::type_error("machine: expected a crmkit.Machine, got " +
                         std::string(py::str(py::type::handle_of(machine).attr("__qualname__"))));
  return machine.cast<const PyMachine&>().machine;
}

void bind_lifecycle(py::module_& m) {
  py::class_<PyMachine>(m, "Machine",
                        "A state machine defined in JSON (crmkit/lifecycle/machine.hpp, "
                        "docs/lifecycle.md), loaded against a FactSchema.")
      .def(py::init([](py::handle definition, const FactSchema& facts, py::handle parameters, bool strict) {
             return load(definition, facts, parameters, strict);
           }),
           py::arg("definition"), py::arg("facts"), py::arg("parameters") = py::none(),
           py::arg("strict") = true,
           "definition: JSON text or a JSON-able dict; facts: the FactSchema its rules may read; "
           "parameters: {name: number} overriding the machine's declared parameters.")
      .def_property_readonly("name", [](const PyMachine& p) { return p.machine.name(); })
      .def_property_readonly("description", [](const PyMachine& p) { return p.machine.description(); })
      .def_property_readonly("initial_state", [](const PyMachine& p) { return p.machine.initial_state(); })
      .def_property_readonly("parameters",
                             [](const PyMachine& p) {
                               py::dict d;
                               for (const auto& [k, v] : p.machine.parameters()) d[py::str(k)] = v;
                               return d;
                             })
      .def_property_readonly("states",
                             [](const PyMachine& p) {
                               py::list out;
                               for (const auto& s : p.machine.states()) out.append(state_to_py(s));
                               return out;
                             })
      .def_property_readonly("state_names",
                             [](const PyMachine& p) {
                               py::list out;
                               for (const auto& s : p.machine.states()) out.append(text_to_py(s.name));
                               return out;
                             })
      .def_property_readonly("transitions",
                             [](const PyMachine& p) {
                               py::list out;
                               for (const auto& t : p.machine.transitions()) out.append(transition_to_py(t));
                               return out;
                             })
      .def_property_readonly("facts_used", [](const PyMachine& p) { return p.machine.facts_used(); })
      .def_property_readonly("facts", [](const PyMachine& p) { return p.facts; })
      .def("has_state", [](const PyMachine& p, const std::string& name) { return p.machine.has_state(name); },
           py::arg("name"))
      .def("state", [](const PyMachine& p, const std::string& name) { return state_to_py(p.machine.state(name)); },
           py::arg("name"))
      .def("state_index", [](const PyMachine& p, const std::string& name) { return p.machine.state_index(name); },
           py::arg("name"))
      .def(
          "check_manual",
          [](const PyMachine& p, const std::string& from, const std::string& to, const std::string& reason) {
            return transition_to_py(p.machine.check_manual(from, to, reason));
          },
          py::arg("from_state"), py::arg("to_state"), py::arg("reason") = "",
          "The transition that allows this manual move; raises InvalidTransitionError otherwise.")
      .def(
          "evaluate",
          [](const PyMachine& p, const std::string& state, IntArg<"days_in_stage", std::int64_t> days_in_stage, py::dict facts) {
            // One row: a column of one cell per fact the machine reads (absent key: missing).
            py::dict columns;
            for (const auto& name : p.machine.facts_used()) {
              py::str key(name);
              py::list cell;
              cell.append(facts.contains(key) ? py::object(facts[key]) : py::object(py::none()));
              columns[key] = py::module_::import("pandas").attr("Series")(cell, "dtype"_a = "object");
            }
            FactTable t = facts_from_frame(p.machine, p.facts, as_frame(columns));
            if (t.rows() == 0) t = FactTable(t.schema(), 1);
            py::list out;
            for (const auto& s : p.machine.evaluate(state, days_in_stage, t, 0))
              out.append(py::dict("from"_a = s.from, "to"_a = s.to, "transition"_a = s.transition));
            return out;
          },
          py::arg("state"), py::arg("days_in_stage"), py::arg("facts"),
          "Automatic moves from `state` for one row of facts (a dict): a list of {from, to, transition}.")
      .def(
          "_evaluate_columns",
          [](const PyMachine& p, py::handle states, IArray days, py::handle facts) {
            py::object frame = as_frame(facts);
            std::unique_lock<std::mutex> scratch(p.scratch->mutex, std::try_to_lock);
            FactTable t = facts_from_frame(p.machine, p.facts, frame, scratch.owns_lock() ? &p.scratch->table : nullptr);
            const auto idx = state_indexes(p.machine, states);
            // A machine that reads no fact (only days_in_stage) takes one row per state given.
            if (p.machine.facts_used().empty()) t = FactTable(t.schema(), idx.size());
            const auto d = column(days, "days_in_stage");
            crmkit::MachineColumnResult r;
            std::vector<std::int64_t> row;
            std::vector<std::int32_t> from, to, tr;
            {
              py::gil_scoped_release release;
              r = p.machine.evaluate_columns(idx, d, t);
              if (scratch.owns_lock()) {
                p.scratch->table = std::move(t);  // kept for the next call
                scratch.unlock();
              }
              t = FactTable();  // freed here, without the GIL
              const std::size_t k = r.changes.size();
              row.resize(k);
              from.resize(k);
              to.resize(k);
              tr.resize(k);
              for (std::size_t i = 0; i < k; ++i) {
                const auto& c = r.changes[i];
                row[i] = static_cast<std::int64_t>(c.row);
                from[i] = c.from;
                to[i] = c.to;
                tr[i] = c.transition;
              }
              r.changes = {};
            }
            return py::make_tuple(to_numpy(std::move(r.states)), to_numpy(std::move(row)),
                                  to_numpy(std::move(from)), to_numpy(std::move(to)), to_numpy(std::move(tr)));
          },
          py::arg("states"), py::arg("days_in_stage"), py::arg("facts"))
      .def("__repr__", [](const PyMachine& p) { return "Machine('" + p.machine.name() + "')"; });

  m.def("default_machine_names", &crmkit::default_machine_names);
  m.def("default_machine_json", [](const std::string& name) { return crmkit::default_machine_json(name); },
        py::arg("name"));
  m.def(
      "default_machine",
      [](const std::string& name, const FactSchema& facts, py::handle parameters, bool strict) {
        return load(py::str(crmkit::default_machine_json(name)), facts, parameters, strict);
      },
      py::arg("name"), py::arg("facts"), py::arg("parameters") = py::none(), py::arg("strict") = true);

  py::class_<History>(m, "_History")
      .def(py::init([](IArray entity, py::array_t<std::int32_t, py::array::c_style | py::array::forcecast> from,
                       py::array_t<std::int32_t, py::array::c_style | py::array::forcecast> to, IArray at,
                       IntArg<"state_count", std::int32_t> state_count, std::vector<std::string> names) {
             crmkit::HistoryColumns c{column(entity, "entity"), column(from, "from"), column(to, "to"),
                                      column(at, "at")};
             py::gil_scoped_release release;
             return History(c, state_count, std::move(names));
           }),
           py::arg("entity"), py::arg("from_state"), py::arg("to_state"), py::arg("at"), py::arg("state_count"),
           py::arg("state_names"))
      .def("entities", [](const History& h) { return to_numpy(std::vector<std::int64_t>(h.entities())); })
      .def("stages_as_of", [](const History& h, TimeArg<"as_of"> t) { return to_numpy(h.stages_as_of(t)); })
      .def("stage_times",
           [](const History& h, TimeArg<"as_of"> t) {
             const auto v = h.stage_times(t);
             std::vector<std::int64_t> entity, first, exited, latest, stints;
             std::vector<std::int32_t> state;
             std::vector<std::uint8_t> current, has_exit;
             std::vector<double> days;
             for (const auto& s : v) {
               entity.push_back(s.entity);
               state.push_back(s.state);
               first.push_back(s.first_entered.micros());
               has_exit.push_back(s.last_exited.has_value());
               exited.push_back(s.last_exited ? s.last_exited->micros() : 0);
               latest.push_back(s.latest_entered.micros());
               current.push_back(s.current);
               stints.push_back(s.stints);
               days.push_back(s.days);
             }
             return py::make_tuple(to_numpy(std::move(entity)), to_numpy(std::move(state)), to_numpy(std::move(first)),
                                   to_numpy(std::move(has_exit)), to_numpy(std::move(exited)),
                                   to_numpy(std::move(latest)), to_numpy(std::move(current)),
                                   to_numpy(std::move(stints)), to_numpy(std::move(days)));
           })
      .def("distribution",
           [](const History& h, IArray dates) {
             std::vector<crmkit::Timestamp> ts;
             for (auto v : column(dates, "dates")) ts.emplace_back(v);
             return to_numpy(h.distribution(ts));
           })
      .def("transition_counts",
           [](const History& h, TimeArg<"start"> start, TimeArg<"end"> end) {
             std::vector<std::int32_t> from, to;
             std::vector<std::int64_t> count;
             for (const auto& c : h.transition_counts(start, end)) {
               from.push_back(c.from);
               to.push_back(c.to);
               count.push_back(c.count);
             }
             return py::make_tuple(to_numpy(std::move(from)), to_numpy(std::move(to)), to_numpy(std::move(count)));
           })
      .def("funnel",
           [](const History& h, TimeArg<"start"> start, TimeArg<"end"> end) {
             auto f = h.funnel(start, end);
             return py::make_tuple(to_numpy(std::move(f.entered)), to_numpy(std::move(f.reached)));
           })
      .def("median_durations", [](const History& h, TimeArg<"as_of"> t) {
        const auto m = h.median_durations(t);
        std::vector<double> out;
        for (const auto& v : m) out.push_back(v ? *v : std::nan(""));
        return to_numpy(std::move(out));
      });
}

}  // namespace crmkit_py
