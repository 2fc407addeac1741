// Conversions between Python values and crmkit values; see conversions.hpp.
#include "conversions.hpp"

#include <cstdint>
#include <string>

namespace crmkit_py {

namespace {

[[noreturn]] void throw_invalid(std::string_view field, std::string_view problem) {
  crmkit::throw_invalid(field, problem);
}

std::string type_name(py::handle obj) {
  return py::str(py::type::handle_of(obj).attr("__qualname__"));
}

py::module_ datetime_module() { return py::module_::import("datetime"); }

bool is_numpy_instance(py::handle obj, const char* type) {
  // Only look at numpy when the object could be one of its scalars.
  py::object mod = py::type::handle_of(obj).attr("__module__");
  if (!py::isinstance<py::str>(mod) || std::string(py::str(mod)) != "numpy") return false;
  return py::isinstance(obj, py::module_::import("numpy").attr(type));
}

std::int64_t int_attr(py::handle obj, const char* name) {
  return py::cast<std::int64_t>(obj.attr(name));
}

}  // namespace

std::string text_from_py(py::handle obj, std::string_view field) {
  if (!py::isinstance<py::str>(obj)) {
    throw py::type_error(std::string(field) + ": expected str, got " + type_name(obj));
  }
  PyObject* bytes = PyUnicode_AsEncodedString(obj.ptr(), "utf-8", "surrogateescape");
  if (bytes == nullptr) {
    PyErr_Clear();
    throw_invalid(field, "is not valid UTF-8 text (it holds a lone surrogate)");
  }
  py::bytes owned = py::reinterpret_steal<py::bytes>(bytes);
  return std::string(owned);
}

py::str text_to_py(std::string_view text) {
  PyObject* s =
      PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "surrogateescape");
  if (s == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(s);
}

std::vector<std::string> texts_from_py(py::handle obj, std::string_view field) {
  if (py::isinstance<py::str>(obj) || !py::isinstance<py::sequence>(obj)) {
    throw py::type_error(std::string(field) + ": expected a list of str, got " + type_name(obj));
  }
  std::vector<std::string> out;
  std::size_t i = 0;
  for (py::handle item : obj) {
    out.push_back(text_from_py(item, std::string(field) + "[" + std::to_string(i) + "]"));
    ++i;
  }
  return out;
}

py::list texts_to_py(const std::vector<std::string>& texts) {
  py::list out;
  for (const auto& t : texts) out.append(text_to_py(t));
  return out;
}

bool is_float(py::handle obj) {
  return PyFloat_Check(obj.ptr()) || is_numpy_instance(obj, "floating");
}

void refuse_float(py::handle obj, std::string_view field, std::string_view hint) {
  if (is_float(obj)) {
    throw_invalid(field, std::string("binary floating-point numbers are not accepted ") +
                             std::string(hint));
  }
}

bool is_decimal(py::handle obj) {
  return py::isinstance(obj, py::module_::import("decimal").attr("Decimal"));
}

std::string decimal_text(py::handle decimal_value) {
  return py::str(py::module_::import("builtins").attr("format")(decimal_value, "f"));
}

crmkit::Int128 int128_from_py(py::handle obj, std::string_view field) {
  if (PyBool_Check(obj.ptr()) || is_float(obj)) {
    throw py::type_error(std::string(field) + ": expected int, got " + type_name(obj));
  }
  PyObject* index = PyNumber_Index(obj.ptr());
  if (index == nullptr) {
    PyErr_Clear();
    throw py::type_error(std::string(field) + ": expected int, got " + type_name(obj));
  }
  py::int_ value = py::reinterpret_steal<py::int_>(index);
  // The core's range is +-(2^128-1) (sign and 128-bit magnitude); say so naming the field.
  const std::string text = py::str(value);
  try {
    return crmkit::Int128(text);
  } catch (const crmkit::Error& e) {
    if (e.code() != crmkit::ErrorCode::overflow) throw;
    crmkit::throw_error(crmkit::ErrorCode::overflow, field,
                        text + " is outside the exact range (+-(2^128-1))");
  }
}

py::int_ int128_to_py(const crmkit::Int128& value) {
  std::string text = value.to_string();
  PyObject* out = PyLong_FromString(text.c_str(), nullptr, 10);
  if (out == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::int_>(out);
}

namespace {

// obj.__index__() as a Python int; py::type_error naming `field` for bool, float and anything
// that is not an integer.
py::int_ index_of(py::handle obj, std::string_view field) {
  if (PyBool_Check(obj.ptr()) || is_numpy_instance(obj, "bool_") || is_float(obj)) {
    throw py::type_error(std::string(field) + ": expected int, got " + type_name(obj));
  }
  PyObject* index = PyNumber_Index(obj.ptr());
  if (index == nullptr) {
    PyErr_Clear();
    throw py::type_error(std::string(field) + ": expected int, got " + type_name(obj));
  }
  return py::reinterpret_steal<py::int_>(index);
}

}  // namespace

std::int64_t int64_from_py(py::handle obj, std::string_view field, std::int64_t lo,
                           std::int64_t hi) {
  py::int_ value = index_of(obj, field);
  int overflow = 0;
  const long long v = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
  if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
  if (overflow != 0 || v < lo || v > hi) {
    throw_invalid(field, std::string(py::str(value)) + " is outside " + std::to_string(lo) +
                             ".." + std::to_string(hi));
  }
  return static_cast<std::int64_t>(v);
}

std::uint64_t uint64_from_py(py::handle obj, std::string_view field) {
  py::int_ value = index_of(obj, field);
  const unsigned long long v = PyLong_AsUnsignedLongLong(value.ptr());
  if (v == static_cast<unsigned long long>(-1) && PyErr_Occurred()) {
    PyErr_Clear();
    throw_invalid(field, std::string(py::str(value)) + " is outside 0.." +
                             std::to_string(std::numeric_limits<std::uint64_t>::max()));
  }
  return static_cast<std::uint64_t>(v);
}

crmkit::Decimal decimal_from_py(py::handle obj, std::string_view field, bool allow_int) {
  refuse_float(obj, field, "as exact decimals; pass a str or decimal.Decimal");
  if (is_decimal(obj)) return crmkit::Decimal::parse(decimal_text(obj), field);
  if (py::isinstance<py::str>(obj)) return crmkit::Decimal::parse(text_from_py(obj, field), field);
  if (allow_int && !PyBool_Check(obj.ptr()) && PyLong_Check(obj.ptr())) {
    return crmkit::Decimal(int128_from_py(obj, field), 0);
  }
  throw py::type_error(std::string(field) + ": expected str or decimal.Decimal, got " +
                       type_name(obj));
}

py::object decimal_to_py(const crmkit::Decimal& value) {
  return py::module_::import("decimal").attr("Decimal")(value.to_string());
}

// ---- time ----

namespace {

constexpr std::int64_t kMicrosPerSecond = 1'000'000;
constexpr std::int64_t kUnixEpochOrdinal = 719163;  // datetime.date(1970, 1, 1).toordinal()

crmkit::Timestamp timestamp_from_datetime(py::handle dt, std::string_view field) {
  std::int64_t days = py::cast<std::int64_t>(dt.attr("toordinal")()) - kUnixEpochOrdinal;
  std::int64_t seconds = days * 86400 + int_attr(dt, "hour") * 3600 + int_attr(dt, "minute") * 60 +
                         int_attr(dt, "second");
  std::int64_t micros = seconds * kMicrosPerSecond + int_attr(dt, "microsecond");
  py::object offset = dt.attr("utcoffset")();
  if (!offset.is_none()) {
    micros -= (int_attr(offset, "days") * 86400 + int_attr(offset, "seconds")) * kMicrosPerSecond +
              int_attr(offset, "microseconds");
  }
  // A datetime's year is 1..9999, but its UTC offset can move it out ("0001-01-01 00:30+01:00").
  return crmkit::Timestamp::checked(micros, field);
}

}  // namespace

std::optional<crmkit::Timestamp> try_timestamp_from_py(py::handle obj, std::string_view field) {
  if (py::isinstance<py::str>(obj)) {
    return crmkit::Timestamp::parse(text_from_py(obj, field), field);
  }
  py::module_ dt = datetime_module();
  if (py::isinstance(obj, dt.attr("datetime"))) {
    // pandas.NaT is a datetime too, but has no time.
    if (py::cast<bool>(py::bool_(obj.attr("__ne__")(obj)))) throw_invalid(field, "NaT is not a time");
    return timestamp_from_datetime(obj, field);
  }
  if (is_numpy_instance(obj, "datetime64")) {
    py::module_ np = py::module_::import("numpy");
    if (py::cast<bool>(np.attr("isnat")(obj))) throw_invalid(field, "NaT is not a time");
    // The year first: converting a far year to microseconds could leave int64 (numpy wraps).
    py::object year = obj.attr("astype")("datetime64[Y]").attr("astype")("int64");
    const std::int64_t y = py::cast<std::int64_t>(py::int_(year)) + 1970;
    if (y < 1 || y > 9999) {
      throw_invalid(field, std::string(py::str(obj)) + " (year " + std::to_string(y) +
                               ") is outside 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999Z");
    }
    py::object micros = obj.attr("astype")("datetime64[us]").attr("astype")("int64");
    return crmkit::Timestamp::checked(py::cast<std::int64_t>(py::int_(micros)), field);
  }
  return std::nullopt;
}

crmkit::Timestamp timestamp_from_py(py::handle obj, std::string_view field) {
  if (py::isinstance<crmkit::Timestamp>(obj)) {
    const auto t = py::cast<crmkit::Timestamp>(obj);
    t.check_range(field);  // Timestamp.from_micros checks too; this guards older pickles
    return t;
  }
  std::optional<crmkit::Timestamp> ts = try_timestamp_from_py(obj, field);
  if (!ts) {
    throw py::type_error(
        std::string(field) +
        ": expected a crmkit.Timestamp, datetime.datetime, pandas.Timestamp, "
        "numpy.datetime64 or ISO 8601 str, got " +
        type_name(obj));
  }
  return *ts;
}

py::object timestamp_to_datetime(crmkit::Timestamp ts) {
  py::module_ dt = datetime_module();
  py::object utc = dt.attr("timezone").attr("utc");
  py::object epoch = dt.attr("datetime")(1970, 1, 1, py::arg("tzinfo") = utc);
  return epoch + dt.attr("timedelta")(py::arg("microseconds") = ts.micros());
}

std::optional<crmkit::Date> try_date_from_py(py::handle obj, std::string_view field) {
  if (py::isinstance<py::str>(obj)) return crmkit::Date::parse(text_from_py(obj, field), field);
  py::module_ dt = datetime_module();
  if (py::isinstance(obj, dt.attr("datetime"))) return std::nullopt;  // an instant, not a date
  if (py::isinstance(obj, dt.attr("date"))) {
    // datetime.date is always within 0001..9999; Date's own check still applies.
    return crmkit::Date(static_cast<int>(int_attr(obj, "year")),
                        static_cast<int>(int_attr(obj, "month")),
                        static_cast<int>(int_attr(obj, "day")));
  }
  return std::nullopt;
}

crmkit::Date date_from_py(py::handle obj, std::string_view field) {
  if (py::isinstance<crmkit::Date>(obj)) return py::cast<crmkit::Date>(obj);
  std::optional<crmkit::Date> d = try_date_from_py(obj, field);
  if (!d) {
    throw py::type_error(std::string(field) +
                         ": expected a crmkit.Date, datetime.date or 'YYYY-MM-DD' str, got " +
                         type_name(obj));
  }
  return *d;
}

py::object date_to_py(const crmkit::Date& date) {
  return datetime_module().attr("date")(date.year(), date.month(), date.day());
}

// ---- custom field values ----

crmkit::FieldValue field_value_from_py(py::handle obj, std::string_view field) {
  if (PyBool_Check(obj.ptr()) || is_numpy_instance(obj, "bool_")) return py::cast<bool>(obj);
  refuse_float(obj, field, "as field values; pass a decimal.Decimal, a str or an int");
  if (PyLong_Check(obj.ptr()) || is_numpy_instance(obj, "integer")) {
    int overflow = 0;
    py::int_ value = py::reinterpret_steal<py::int_>(PyNumber_Index(obj.ptr()));
    long long v = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
    if (overflow != 0) {
      crmkit::throw_error(crmkit::ErrorCode::overflow, field,
                          std::string(py::str(value)) + " does not fit a 64-bit integer");
    }
    return static_cast<std::int64_t>(v);
  }
  if (py::isinstance<py::str>(obj)) return text_from_py(obj, field);
  if (is_decimal(obj)) return crmkit::Decimal::parse(decimal_text(obj), field);
  if (py::isinstance<crmkit::Money>(obj)) return py::cast<crmkit::Money>(obj);
  if (py::isinstance<crmkit::Date>(obj)) return py::cast<crmkit::Date>(obj);
  py::module_ dt = datetime_module();
  if (py::isinstance(obj, dt.attr("date")) && !py::isinstance(obj, dt.attr("datetime"))) {
    return *try_date_from_py(obj);
  }
  throw py::type_error(std::string(field) +
                       ": expected bool, int, str, decimal.Decimal, crmkit.Money or "
                       "datetime.date, got " +
                       type_name(obj));
}

py::object field_value_to_py(const crmkit::FieldValue& value) {
  return std::visit(
      [](const auto& v) -> py::object {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, bool>) {
          return py::bool_(v);
        } else if constexpr (std::is_same_v<V, std::int64_t>) {
          return py::int_(v);
        } else if constexpr (std::is_same_v<V, std::string>) {
          return text_to_py(v);
        } else if constexpr (std::is_same_v<V, crmkit::Decimal>) {
          return decimal_to_py(v);
        } else if constexpr (std::is_same_v<V, crmkit::Money>) {
          return py::cast(v);
        } else {
          return date_to_py(v);
        }
      },
      value);
}

// ---- bound structs ----

void add_struct_protocol(py::handle cls, const std::vector<const char*>& fields) {
  std::vector<std::string> names(fields.begin(), fields.end());
  py::tuple tuple(names.size());
  for (std::size_t i = 0; i < names.size(); ++i) tuple[i] = py::str(names[i]);
  py::setattr(cls, "_fields", tuple);
  py::setattr(cls, "__match_args__", tuple);

  py::setattr(cls, "__repr__",
              py::cpp_function(
                  [names](py::handle self) {
                    std::string out = py::str(py::type::handle_of(self).attr("__name__"));
                    out += "(";
                    for (std::size_t i = 0; i < names.size(); ++i) {
                      if (i > 0) out += ", ";
                      out += names[i] + "=" + std::string(py::repr(self.attr(names[i].c_str())));
                    }
                    return out + ")";
                  },
                  py::is_method(cls), py::name("__repr__")));

  py::setattr(cls, "__eq__",
              py::cpp_function(
                  [names](py::handle self, py::handle other) -> py::object {
                    if (!py::type::handle_of(self).is(py::type::handle_of(other))) {
                      return py::reinterpret_borrow<py::object>(Py_NotImplemented);
                    }
                    for (const auto& n : names) {
                      if (!self.attr(n.c_str()).equal(other.attr(n.c_str()))) {
                        return py::bool_(false);
                      }
                    }
                    return py::bool_(true);
                  },
                  py::is_method(cls), py::name("__eq__")));
  py::setattr(cls, "__hash__", py::none());
}

void set_fields_from_kwargs(py::handle self, const py::kwargs& kwargs,
                            const std::vector<std::string>& fields, const std::string& type_name) {
  for (auto item : kwargs) {
    std::string key = py::str(item.first);
    bool known = false;
    for (const auto& f : fields) known = known || f == key;
    if (!known) {
      throw py::type_error(type_name + "() got an unexpected keyword argument '" + key + "'");
    }
    py::setattr(self, item.first, item.second);
  }
}

}  // namespace crmkit_py
