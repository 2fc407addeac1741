// crmkit/rules/facts.hpp and crmkit/rules/rules.hpp: FactType, FactSchema, Rule (strict JSON
// Logic compiled against declared facts) and jsonlogic_apply (loose JSON Logic).
//
// Rule.test takes one row (a dict of fact values: None or an absent key is a missing value) or
// columns (a pandas DataFrame, or a dict whose values are numpy arrays or pandas Series: missing
// values are None, NaN, NaT or pandas.NA). Only the columns of the facts the rule reads are
// converted; the evaluation itself runs without the GIL.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "conversions.hpp"

namespace crmkit_py {

namespace {

using namespace pybind11::literals;
using crmkit::FactSchema;
using crmkit::FactTable;
using crmkit::FactType;
using crmkit::Rule;

FactType fact_type_from_py(py::handle obj, const std::string& field) {
  if (py::isinstance<FactType>(obj)) return obj.cast<FactType>();
  if (py::isinstance<py::str>(obj)) return crmkit::fact_type_from_string(obj.cast<std::string>(), field);
  crmkit::throw_invalid(field, "a fact type is a crmkit.FactType or its name (\"number\", "
                               "\"integer\", \"bool\", \"text\", \"date\", \"list of text\")");
}

FactSchema schema_from_py(py::handle facts) {
  FactSchema schema;
  if (facts.is_none()) return schema;
  if (py::isinstance<py::dict>(facts)) {
    for (auto item : facts.cast<py::dict>()) {
      const std::string name = text_from_py(item.first, "fact");
      schema.add(name, fact_type_from_py(item.second, name + ".type"));
    }
    return schema;
  }
  for (py::handle entry : facts) {
    py::tuple t = py::reinterpret_borrow<py::object>(entry).cast<py::tuple>();
    if (t.size() < 2 || t.size() > 3)
      crmkit::throw_invalid("facts", "each fact is (name, type) or (name, type, description)");
    const std::string name = text_from_py(t[0], "fact");
    schema.add(name, fact_type_from_py(t[1], name + ".type"),
               t.size() == 3 ? text_from_py(t[2], name + ".description") : std::string());
  }
  return schema;
}

// JSON text of a Python value for the core, which checks it. A value nested so deeply that
// Python's json module runs out of recursion is far deeper than the core's limit (`max_depth`
// levels): it is refused the way the core refuses such text, naming `what`, not as a
// RecursionError.
std::string dumps_json(py::handle value, const char* what, int max_depth) {
  try {
    return py::module_::import("json").attr("dumps")(value).cast<std::string>();
  } catch (py::error_already_set& e) {
    if (!e.matches(PyExc_RecursionError)) throw;
    crmkit::throw_invalid(what, "JSON nesting is deeper than " + std::to_string(max_depth) +
                                    " levels");
  }
}

// A str is taken as JSON text; anything else is dumped (dumps_json).
std::string json_text(py::handle value) {
  if (py::isinstance<py::str>(value)) return value.cast<std::string>();
  return dumps_json(value, "rule", 32);
}

bool is_missing_scalar(py::handle v) {
  if (v.is_none()) return true;
  if (PyFloat_Check(v.ptr())) return std::isnan(PyFloat_AsDouble(v.ptr()));
  static py::object pd_na = py::module_::import("pandas").attr("NA");
  static py::object nat = py::module_::import("pandas").attr("NaT");
  return v.is(pd_na) || v.is(nat);
}

// Sets one cell from a Python value (None, NaN, pandas.NA, NaT: missing).
void set_cell(FactTable& t, std::size_t row, std::size_t slot, py::handle v) {
  const crmkit::FactDecl& decl = t.schema()[slot];
  if (is_missing_scalar(v)) {
    t.set_missing(row, slot);
    return;
  }
  const std::string& name = decl.name;
  const py::object o = py::reinterpret_borrow<py::object>(v);
  switch (decl.type) {
    case FactType::number:
      if (py::isinstance<py::str>(v) || PyBool_Check(v.ptr()))
        crmkit::throw_invalid(name, "a number fact needs a number");
      t.set_number(row, slot, py::float_(o).cast<double>());
      return;
    case FactType::integer: {
      if (py::isinstance<py::str>(v) || PyBool_Check(v.ptr()))
        crmkit::throw_invalid(name, "an integer fact needs an int");
      // Integers (Python's and numpy's) exactly; floats only when whole (not via double for
      // an int: 2**53 + 1 would lose its last digit).
      if (!PyLong_Check(v.ptr()) && !py::isinstance(v, py::module_::import("numpy").attr("integer")) &&
          (PyFloat_Check(v.ptr()) || py::hasattr(v, "is_integer"))) {
        const double d = py::float_(o).cast<double>();
        if (!std::isfinite(d) || d != std::floor(d) || d < -9223372036854775808.0 ||
            d >= 9223372036854775808.0)
          crmkit::throw_invalid(name, "an integer fact needs a whole number");
        t.set_integer(row, slot, static_cast<std::int64_t>(d));
      } else {
        t.set_integer(row, slot, py::int_(o).cast<std::int64_t>());
      }
      return;
    }
    case FactType::boolean:
      if (!PyBool_Check(v.ptr()) && !py::isinstance(v, py::module_::import("numpy").attr("bool_")))
        crmkit::throw_invalid(name, "a bool fact needs True or False");
      t.set_boolean(row, slot, v.cast<bool>());
      return;
    case FactType::text:
      if (!py::isinstance<py::str>(v)) crmkit::throw_invalid(name, "a text fact needs a str");
      t.set_text(row, slot, text_from_py(v, name));
      return;
    case FactType::date: {
      py::handle d = v;
      py::object converted;
      if (py::hasattr(v, "to_pydatetime")) {  // pandas.Timestamp
        converted = v.attr("date")();
        d = converted;
      } else if (py::isinstance(v, py::module_::import("numpy").attr("datetime64"))) {
        const std::int64_t days =
            v.attr("astype")("datetime64[D]").attr("astype")("int64").cast<std::int64_t>();
        t.set_date(row, slot, days);
        return;
      }
      std::optional<crmkit::Date> date = try_date_from_py(d);
      if (!date) crmkit::throw_invalid(name, "a date fact needs a datetime.date or \"YYYY-MM-DD\"");
      t.set_date(row, slot, date->days_since_epoch());
      return;
    }
    case FactType::text_list:
      t.set_text_list(row, slot, texts_from_py(v, name));
      return;
  }
}

FactTable row_table(const Rule& rule, const py::dict& row) {
  FactTable t(rule.schema(), 1);
  for (std::size_t slot : rule.dependencies()) {
    py::str key(rule.schema()[slot].name);
    if (row.contains(key)) set_cell(t, 0, slot, row[key]);
  }
  return t;
}

bool is_column_mapping(py::handle facts) {
  py::module_ pd = py::module_::import("pandas");
  if (py::isinstance(facts, pd.attr("DataFrame"))) return true;
  if (!py::isinstance<py::dict>(facts)) return false;
  py::object ndarray = py::module_::import("numpy").attr("ndarray");
  for (auto item : facts.cast<py::dict>())
    if (py::isinstance(item.second, ndarray) || py::isinstance(item.second, pd.attr("Series")))
      return true;
  return false;
}

// Fills the fact columns the rule reads from a DataFrame or a dict of columns.
FactTable column_table(const Rule& rule, py::handle columns) {
  py::module_ pd = py::module_::import("pandas");
  py::module_ np = py::module_::import("numpy");
  const bool frame = py::isinstance(columns, pd.attr("DataFrame"));
  std::size_t rows = 0;
  bool have_rows = false;
  if (frame) {
    rows = py::len(columns);
    have_rows = true;
  }
  std::vector<py::object> series;
  for (std::size_t slot : rule.dependencies()) {
    const std::string& name = rule.schema()[slot].name;
    py::str key(name);
    bool present = frame ? columns.attr("__contains__")(key).cast<bool>()
                         : columns.cast<py::dict>().contains(key);
    if (!present) crmkit::throw_error(crmkit::ErrorCode::not_found, name, "no column for this fact");
    py::object s = pd.attr("Series")(columns[key]);
    if (frame) s = columns[key];
    const std::size_t n = py::len(s);
    if (have_rows && n != rows)
      crmkit::throw_invalid(name, "has " + std::to_string(n) + " rows, other columns " +
                                      std::to_string(rows));
    rows = n;
    have_rows = true;
    series.push_back(s);
  }
  if (!have_rows && !frame && py::len(columns) > 0) {
    for (auto item : columns.cast<py::dict>()) {
      rows = py::len(item.second);
      break;
    }
  }
  FactTable t(rule.schema(), rows);
  std::size_t k = 0;
  for (std::size_t slot : rule.dependencies()) {
    py::object s = series[k++];
    const std::string& name = rule.schema()[slot].name;
    const std::string kind = s.attr("dtype").attr("kind").cast<std::string>();
    auto present = t.present(slot);
    switch (rule.schema()[slot].type) {
      case FactType::number: {
        auto a = s.attr("to_numpy")("dtype"_a = "float64", "na_value"_a = np.attr("nan"))
                     .cast<py::array_t<double, py::array::c_style | py::array::forcecast>>();
        auto out = t.numbers(slot);
        const double* in = a.data();
        for (std::size_t r = 0; r < rows; ++r) {
          // Only NaN (None, pandas.NA) is missing. An infinity is refused, as FactTable::set_number
          // and test() on a row refuse it (it was read as missing here: a wrong answer).
          const bool ok = !std::isnan(in[r]);
          if (ok && !std::isfinite(in[r]))
            crmkit::throw_invalid(name, "row " + std::to_string(r) +
                                            ": a number fact must be finite (got NaN or infinity)");
          out[r] = ok ? in[r] : 0.0;
          present[r] = ok;
        }
        break;
      }
      case FactType::integer:
      case FactType::date: {
        auto out = t.integers(slot);
        const bool date = rule.schema()[slot].type == FactType::date;
        if ((!date && (kind == "i" || kind == "u" || kind == "b")) || (date && kind == "M")) {
          // Nullable integers (Int64) have kind "i" too: their NA cells read as 0 under the mask.
          py::array mask = s.attr("isna")().attr("to_numpy")();
          py::object values =
              date ? s.attr("to_numpy")().attr("astype")("datetime64[D]").attr("astype")("int64")
                   : s.attr("to_numpy")("dtype"_a = "int64", "na_value"_a = 0);
          auto a = values.cast<py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>>();
          auto m = mask.cast<py::array_t<bool, py::array::c_style | py::array::forcecast>>();
          for (std::size_t r = 0; r < rows; ++r) {
            const bool ok = !m.data()[r];
            out[r] = ok ? a.data()[r] : 0;
            present[r] = ok;
          }
        } else if (!date && kind == "f") {
          auto a = s.attr("to_numpy")("dtype"_a = "float64", "na_value"_a = np.attr("nan"))
                       .cast<py::array_t<double, py::array::c_style | py::array::forcecast>>();
          for (std::size_t r = 0; r < rows; ++r) {
            const double d = a.data()[r];
            if (std::isnan(d)) {
              out[r] = 0;
              present[r] = 0;
              continue;
            }
            // Not finite or not whole: refused (an infinity would be undefined as an integer).
            if (!std::isfinite(d) || d != std::floor(d))
              crmkit::throw_invalid(name, "row " + std::to_string(r) + ": " +
                                              std::to_string(d) + " is not a whole number");
            if (d < -9223372036854775808.0 || d >= 9223372036854775808.0)
              crmkit::throw_invalid(name, "row " + std::to_string(r) + ": " + std::to_string(d) +
                                              " is outside the 64-bit integer range");
            out[r] = static_cast<std::int64_t>(d);
            present[r] = 1;
          }
        } else {
          py::list items = s.attr("tolist")();
          for (std::size_t r = 0; r < rows; ++r) set_cell(t, r, slot, items[r]);
        }
        break;
      }
      case FactType::boolean: {
        auto out = t.booleans(slot);
        if (kind == "b") {
          // pandas' nullable "boolean" has kind "b" too: its NA cells are missing, not False.
          py::array mask = s.attr("isna")().attr("to_numpy")();
          auto a = s.attr("to_numpy")("dtype"_a = "bool", "na_value"_a = false)
                       .cast<py::array_t<bool, py::array::c_style | py::array::forcecast>>();
          auto m = mask.cast<py::array_t<bool, py::array::c_style | py::array::forcecast>>();
          for (std::size_t r = 0; r < rows; ++r) {
            const bool ok = !m.data()[r];
            out[r] = ok && a.data()[r] ? 1 : 0;
            present[r] = ok;
          }
        } else {
          py::list items = s.attr("tolist")();
          for (std::size_t r = 0; r < rows; ++r) set_cell(t, r, slot, items[r]);
        }
        break;
      }
      case FactType::text:
      case FactType::text_list: {
        py::list items = s.attr("tolist")();
        for (std::size_t r = 0; r < rows; ++r) set_cell(t, r, slot, items[r]);
        break;
      }
    }
  }
  return t;
}

py::array_t<bool> test_columns(const Rule& rule, py::handle columns) {
  FactTable t = column_table(rule, columns);
  py::array_t<bool> out(static_cast<py::ssize_t>(t.rows()));
  auto* data = reinterpret_cast<std::uint8_t*>(out.mutable_data());
  {
    py::gil_scoped_release release;
    rule.test_all(t, std::span<std::uint8_t>(data, t.rows()));
  }
  return out;
}

py::object value_to_py(const crmkit::RuleValue& v) {
  if (!v.present) return py::none();
  switch (v.type) {
    case FactType::boolean: return py::bool_(v.boolean);
    case FactType::integer: return py::int_(v.integer);
    case FactType::number: return py::float_(v.number);
    case FactType::text: return text_to_py(v.text);
    case FactType::date: return date_to_py(crmkit::Date::from_days_since_epoch(v.integer));
    case FactType::text_list: return texts_to_py(v.texts);
  }
  return py::none();
}

}  // namespace

void bind_rules(py::module_& m) {
  py::enum_<FactType>(m, "FactType")
      .value("number", FactType::number)
      .value("integer", FactType::integer)
      .value("boolean", FactType::boolean)
      .value("text", FactType::text)
      .value("date", FactType::date)
      .value("text_list", FactType::text_list);

  py::class_<FactSchema>(m, "FactSchema",
                         "Declared facts: name and type (crmkit/rules/facts.hpp). Build from a "
                         "dict {name: type} or (name, type[, description]) tuples; a type is a "
                         "FactType or its name (\"number\", \"integer\", \"bool\", \"text\", "
                         "\"date\", \"list of text\").")
      .def(py::init([](py::object facts) { return schema_from_py(facts); }),
           py::arg("facts") = py::none())
      .def(
          "add",
          [](FactSchema& s, py::handle name, py::handle type, py::handle description) {
            const std::string n = text_from_py(name, "fact");
            return s.add(n, fact_type_from_py(type, n + ".type"),
                         description.is_none() ? std::string() : text_from_py(description, n + ".description"));
          },
          py::arg("name"), py::arg("type"), py::arg("description") = py::none(),
          "Declares a fact and returns its slot.")
      .def("find", [](const FactSchema& s, const std::string& name) { return s.find(name); },
           py::arg("name"))
      .def("slot", [](const FactSchema& s, const std::string& name) { return s.slot(name); },
           py::arg("name"))
      .def("type_of", [](const FactSchema& s, const std::string& name) { return s[s.slot(name)].type; },
           py::arg("name"))
      .def_property_readonly("names",
                             [](const FactSchema& s) {
                               py::list out;
                               for (const auto& f : s.facts()) out.append(text_to_py(f.name));
                               return out;
                             })
      .def("__len__", &FactSchema::size)
      .def("__contains__", [](const FactSchema& s, const std::string& name) { return s.find(name).has_value(); })
      .def("__eq__", [](const FactSchema& a, const FactSchema& b) { return a == b; })
      .def("__repr__", [](const FactSchema& s) {
        std::string out = "FactSchema({";
        for (std::size_t i = 0; i < s.size(); ++i) {
          if (i) out += ", ";
          out += "'" + s[i].name + "': '" + crmkit::to_string(s[i].type) + "'";
        }
        return out + "})";
      });

  py::class_<Rule>(m, "Rule",
                   "A strict JSON Logic rule compiled against a FactSchema (crmkit/rules/rules.hpp).")
      .def(py::init([](py::handle rule, const FactSchema& schema, const std::string& path) {
             crmkit::RuleOptions options;
             options.path = path;
             return Rule::compile(json_text(rule), schema, options);
           }),
           py::arg("rule"), py::arg("schema"), py::arg("path") = "rule")
      .def(
          "test",
          [](const Rule& r, py::handle facts) -> py::object {
            if (is_column_mapping(facts)) return test_columns(r, facts);
            if (!py::isinstance<py::dict>(facts))
              throw py::type_error("Rule.test takes a dict of fact values, a dict of columns or a DataFrame");
            FactTable t = row_table(r, facts.cast<py::dict>());
            return py::bool_(r.test(t, 0));
          },
          py::arg("facts"),
          "One row (dict of values) -> bool; columns (DataFrame, dict of arrays) -> numpy bool array.")
      .def("test_all", [](const Rule& r, py::handle columns) { return test_columns(r, columns); },
           py::arg("columns"))
      .def(
          "evaluate",
          [](const Rule& r, const py::dict& row) {
            FactTable t = row_table(r, row);
            return value_to_py(r.evaluate(t, 0));
          },
          py::arg("facts"))
      .def_property_readonly("dependencies", &Rule::dependency_names)
      .def_property_readonly("result_type", &Rule::result_type)
      .def_property_readonly("source", &Rule::source)
      .def_property_readonly("schema", &Rule::schema)
      .def("__repr__", [](const Rule& r) { return "Rule(" + r.source() + ")"; });

  m.def(
      "jsonlogic_apply",
      [](py::handle rule, py::handle data) {
        const std::string out =
            crmkit::jsonlogic_apply(dumps_json(rule, "rule", 32), dumps_json(data, "data", 256));
        return py::module_::import("json").attr("loads")(out);
      },
      py::arg("rule"), py::arg("data") = py::none(),
      "Applies a standard (loose) JSON Logic rule to data, both JSON-able Python values (a str is "
      "a string, not JSON text); raises crmkit.JsonLogicError for JSON Logic errors.");
}

}  // namespace crmkit_py
