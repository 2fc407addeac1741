// Private to the binding: conversions between Python values and crmkit values.
//
// Every binding file includes this header first, so that the type_caster specialisations below
// are seen by every translation unit (they must be, or the program breaks the ODR).
//
// What the casters accept where a crmkit value is expected:
//  - Timestamp: a crmkit.Timestamp, a datetime.datetime (aware: converted to UTC; naive: taken as
//    UTC), a pandas.Timestamp (a datetime subclass), a numpy.datetime64 (taken as UTC), or an
//    ISO 8601 string (Timestamp::parse). Plain ints are refused: use Timestamp.from_micros.
//    Every conversion checks the range 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999Z
//    (crmkit/base/time.hpp) and names the field: the member's name for a struct member set
//    through def_field ("at: ..."), "time" for an argument.
//  - Integers: struct members set through def_field and arguments declared IntArg<"name", T>
//    take a Python int or numpy integer (not bool, not float); a value outside T's range is
//    Error{invalid_argument} naming the field ("customer: 9223372036854775808 is outside
//    -9223372036854775808..9223372036854775807"), another type a TypeError naming it.
//  - Date: a crmkit.Date, a datetime.date (not a datetime.datetime), or "YYYY-MM-DD".
//  - Currency: a crmkit.Currency or an ISO code string ("USD").
//  - FieldValue: bool, int, str, decimal.Decimal, crmkit.Money, datetime.date. A float is refused
//    with Error{invalid_argument}: C++ has no binary floating-point field value.
// Text members of the bound structs are converted with the "surrogateescape" error handler in
// both directions, so bytes that are not UTF-8 reach the core (which refuses them with a message
// naming the field) instead of failing inside the binding.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/operators.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "crmkit/crmkit.hpp"

namespace crmkit_py {

namespace py = pybind11;

// ---- text ----

// A Python str to bytes, keeping undecodable bytes that arrived through surrogateescape.
std::string text_from_py(py::handle obj, std::string_view field);
// Bytes to a Python str; bytes that are not UTF-8 come back as surrogate escapes.
py::str text_to_py(std::string_view text);
std::vector<std::string> texts_from_py(py::handle obj, std::string_view field);
py::list texts_to_py(const std::vector<std::string>& texts);

// ---- numbers ----

// Throws Error{invalid_argument} "<field>: binary floating-point numbers are not accepted ..."
// if `obj` is a Python or numpy float; returns normally otherwise.
void refuse_float(py::handle obj, std::string_view field, std::string_view hint);
bool is_float(py::handle obj);
bool is_decimal(py::handle obj);
// Python int <-> Int128 (through the decimal string). Throws Error{overflow} out of range.
crmkit::Int128 int128_from_py(py::handle obj, std::string_view field);
py::int_ int128_to_py(const crmkit::Int128& value);
// A Python int (or numpy integer; not bool, not float) that must fit [lo, hi]. Throws
// py::type_error "<field>: expected int, got <type>" for another type and Error{invalid_argument}
// "<field>: <value> is outside <lo>..<hi>" for a value outside.
std::int64_t int64_from_py(py::handle obj, std::string_view field, std::int64_t lo,
                           std::int64_t hi);
std::uint64_t uint64_from_py(py::handle obj, std::string_view field);
// The same for any integer type T (its whole range).
template <class T>
T int_from_py(py::handle obj, std::string_view field) {
  static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>);
  if constexpr (std::is_unsigned_v<T> && sizeof(T) == 8) {
    return static_cast<T>(uint64_from_py(obj, field));
  } else {
    return static_cast<T>(int64_from_py(obj, field, std::numeric_limits<T>::min(),
                                        std::numeric_limits<T>::max()));
  }
}

// An integer argument that names itself in errors: declare a bound function's parameter as
// IntArg<"customer", CustomerId> and it converts to CustomerId where used. Only for functions
// without overloads (a wrong type raises instead of trying the next overload).
template <std::size_t N>
struct FieldName {
  char text[N];
  constexpr FieldName(const char (&s)[N]) {  // NOLINT(google-explicit-constructor)
    for (std::size_t i = 0; i < N; ++i) text[i] = s[i];
  }
};
template <FieldName Name, class T>
struct IntArg {
  T value{};
  operator T() const noexcept { return value; }  // NOLINT(google-explicit-constructor)
};

// A text argument that names itself in errors: a bound function's parameter declared
// TextArg<"actor"> converts as text_from_py does, so a str holding a lone surrogate raises
// ValidationError "actor: is not valid UTF-8 text ..." and another type TypeError "actor:
// expected str, got int" (pybind's own std::string caster gives an unnamed "incompatible
// function arguments" TypeError for both). Only for functions without overloads.
template <FieldName Name>
struct TextArg {
  std::string value;
  operator const std::string&() const noexcept { return value; }  // NOLINT(google-explicit-constructor)
};

// A time argument that names itself in errors: a bound function's parameter declared
// TimeArg<"as_of"> is a Timestamp converted as the Timestamp caster does, but a malformed or
// out-of-range value raises naming "as_of" instead of "time". A value of an unsupported type
// lets overload resolution go on, as the Timestamp caster does.
template <FieldName Name>
struct TimeArg : crmkit::Timestamp {
  TimeArg() = default;
  TimeArg(crmkit::Timestamp t) : crmkit::Timestamp(t) {}  // NOLINT(google-explicit-constructor)
};

// decimal.Decimal or str (and, where `allow_int`, int) to a crmkit::Decimal; floats refused.
crmkit::Decimal decimal_from_py(py::handle obj, std::string_view field, bool allow_int);
py::object decimal_to_py(const crmkit::Decimal& value);
// The plain (non-exponent) text of a decimal.Decimal: format(value, "f").
std::string decimal_text(py::handle decimal_value);

// ---- time ----

// Throws py::type_error naming `field` if the type is unsupported, Error{invalid_argument}
// naming it for a value outside the valid range or NaT.
crmkit::Timestamp timestamp_from_py(py::handle obj, std::string_view field = "time");
std::optional<crmkit::Timestamp> try_timestamp_from_py(py::handle obj,
                                                       std::string_view field = "time");
py::object timestamp_to_datetime(crmkit::Timestamp ts);
std::optional<crmkit::Date> try_date_from_py(py::handle obj, std::string_view field = "date");
// A crmkit.Date or what try_date_from_py takes; py::type_error naming `field` otherwise.
crmkit::Date date_from_py(py::handle obj, std::string_view field = "date");
py::object date_to_py(const crmkit::Date& date);

// ---- custom field values ----

crmkit::FieldValue field_value_from_py(py::handle obj, std::string_view field);
py::object field_value_to_py(const crmkit::FieldValue& value);

// ---- numpy columns ----

// The 1-dimensional columns the value and LTV functions take (numpy converts other dtypes).
using DArray = py::array_t<double, py::array::c_style | py::array::forcecast>;
using IArray = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;

// A numpy array owning `v` (moved to the heap, not copied; the capsule frees it with the array).
template <typename T>
py::array to_numpy(std::vector<T>&& v) {
  auto* heap = new std::vector<T>(std::move(v));
  py::capsule owner(heap, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>({static_cast<py::ssize_t>(heap->size())},
                        {static_cast<py::ssize_t>(sizeof(T))}, heap->data(), owner);
}

// A read-only view of a 1-dimensional array. Throws Error{invalid_argument} naming `field` for
// any other shape.
template <typename T, int F>
std::span<const T> column(const py::array_t<T, F>& a, const char* field) {
  if (a.ndim() != 1) {
    crmkit::throw_invalid(field, "must be a 1-dimensional array, got " +
                                     std::to_string(a.ndim()) + " dimensions");
  }
  return {a.data(), static_cast<std::size_t>(a.shape(0))};
}

// column() of an optional array; an empty span when there is none.
template <typename T, int F>
std::span<const T> optional_column(const std::optional<py::array_t<T, F>>& a, const char* field) {
  if (!a) return {};
  return column(*a, field);
}

// A read-only numpy view of `v`, which the Python object `owner` keeps alive (no copy).
template <typename T>
py::array column_view(py::handle owner, const std::vector<T>& v, const char* dtype = nullptr) {
  py::dtype dt = dtype ? py::dtype(dtype) : py::dtype::of<T>();
  py::array out(dt, {static_cast<py::ssize_t>(v.size())}, {static_cast<py::ssize_t>(sizeof(T))},
                v.data(), owner);
  out.attr("flags").attr("writeable") = false;
  return out;
}

// ---- bound structs ----

// Adds to a bound class: a __repr__ listing every field, __eq__ comparing every field, and
// _fields (a tuple of the names).
void add_struct_protocol(py::handle cls, const std::vector<const char*>& fields);
// Sets each keyword argument as an attribute of `self` (through the bound setters, so every
// conversion applies); a name outside `fields` raises TypeError.
void set_fields_from_kwargs(py::handle self, const py::kwargs& kwargs,
                            const std::vector<std::string>& fields, const std::string& type_name);

// Gives a bound struct __init__(**kwargs) taking any of its fields (each optional, with the C++
// default), plus add_struct_protocol.
template <typename T>
void finish_struct(py::class_<T>& cls, const std::vector<const char*>& fields) {
  add_struct_protocol(cls, fields);
  std::vector<std::string> names(fields.begin(), fields.end());
  std::string type_name = py::str(cls.attr("__name__"));
  cls.def(py::init([names, type_name](const py::kwargs& kwargs) {
    py::object obj = py::cast(T{});
    set_fields_from_kwargs(obj, kwargs, names, type_name);
    return obj.cast<T>();
  }));
}

template <class M>
struct is_optional_integral : std::false_type {};
template <class V>
struct is_optional_integral<std::optional<V>>
    : std::bool_constant<std::is_integral_v<V> && !std::is_same_v<V, bool>> {};

// Binds a data member: text with surrogateescape, lists of text likewise, integers (plain,
// optional, lists), times and dates (plain, optional, lists) converted naming the member in
// errors, and everything else with def_readwrite.
template <typename Class, typename T, typename M>
void def_field(py::class_<T>& cls, const char* name, M Class::*member) {
  if constexpr (std::is_same_v<M, std::string>) {
    std::string field = name;
    cls.def_property(
        name, [member](const T& self) { return text_to_py(self.*member); },
        [member, field](T& self, py::handle value) { self.*member = text_from_py(value, field); });
  } else if constexpr (std::is_same_v<M, std::vector<std::string>>) {
    std::string field = name;
    cls.def_property(
        name, [member](const T& self) { return texts_to_py(self.*member); },
        [member, field](T& self, py::handle value) { self.*member = texts_from_py(value, field); });
  } else if constexpr (std::is_integral_v<M> && !std::is_same_v<M, bool>) {
    std::string field = name;
    cls.def_property(
        name, [member](const T& self) { return self.*member; },
        [member, field](T& self, py::handle value) { self.*member = int_from_py<M>(value, field); });
  } else if constexpr (is_optional_integral<M>::value) {
    using V = typename M::value_type;
    std::string field = name;
    cls.def_property(
        name, [member](const T& self) { return self.*member; },
        [member, field](T& self, py::handle value) {
          if (value.is_none()) self.*member = std::nullopt;
          else self.*member = int_from_py<V>(value, field);
        });
  } else if constexpr (std::is_same_v<M, std::vector<std::int32_t>> ||
                       std::is_same_v<M, std::vector<std::int64_t>>) {
    using V = typename M::value_type;
    std::string field = name;
    cls.def_property(
        name, [member](const T& self) { return self.*member; },
        [member, field](T& self, py::handle value) {
          if (py::isinstance<py::str>(value) || !py::isinstance<py::sequence>(value))
            throw py::type_error(field + ": expected a list of int");
          M out;
          std::size_t i = 0;
          for (py::handle item : value) {
            out.push_back(int_from_py<V>(item, field + "[" + std::to_string(i) + "]"));
            ++i;
          }
          self.*member = std::move(out);
        });
  } else if constexpr (std::is_same_v<M, crmkit::Timestamp>) {
    std::string field = name;
    cls.def_property(
        name, [member](const T& self) { return self.*member; },
        [member, field](T& self, py::handle value) {
          self.*member = timestamp_from_py(value, field);
        });
  } else if constexpr (std::is_same_v<M, std::optional<crmkit::Timestamp>>) {
    std::string field = name;
    cls.def_property(
        name, [member](const T& self) { return self.*member; },
        [member, field](T& self, py::handle value) {
          if (value.is_none()) self.*member = std::nullopt;
          else self.*member = timestamp_from_py(value, field);
        });
  } else if constexpr (std::is_same_v<M, std::vector<crmkit::Timestamp>>) {
    std::string field = name;
    cls.def_property(
        name, [member](const T& self) { return self.*member; },
        [member, field](T& self, py::handle value) {
          if (py::isinstance<py::str>(value) || !py::isinstance<py::sequence>(value))
            throw py::type_error(field + ": expected a list of times");
          M out;
          std::size_t i = 0;
          for (py::handle item : value) {
            out.push_back(timestamp_from_py(item, field + "[" + std::to_string(i) + "]"));
            ++i;
          }
          self.*member = std::move(out);
        });
  } else if constexpr (std::is_same_v<M, crmkit::Date>) {
    std::string field = name;
    cls.def_property(
        name, [member](const T& self) { return self.*member; },
        [member, field](T& self, py::handle value) { self.*member = date_from_py(value, field); });
  } else if constexpr (std::is_same_v<M, std::optional<crmkit::Date>>) {
    std::string field = name;
    cls.def_property(
        name, [member](const T& self) { return self.*member; },
        [member, field](T& self, py::handle value) {
          if (value.is_none()) self.*member = std::nullopt;
          else self.*member = date_from_py(value, field);
        });
  } else {
    cls.def_readwrite(name, member);
  }
}

}  // namespace crmkit_py

namespace pybind11::detail {

// A caster for a bound class that also accepts other Python values: first the bound class
// itself, then (when conversion is allowed) Derived::convert, which returns nothing for a type it
// does not take and throws crmkit::Error for a value of the right type that is malformed.
template <typename T, typename Derived>
struct widened_caster : type_caster_base<T> {
  T converted_{};
  bool load(handle src, bool convert) {
    if (type_caster_base<T>::load(src, convert)) return true;
    if (!convert || src.is_none()) return false;
    std::optional<T> value = Derived::convert(src);
    if (!value) return false;
    converted_ = *value;
    this->value = &converted_;
    return true;
  }
};

template <>
struct type_caster<crmkit::Timestamp>
    : widened_caster<crmkit::Timestamp, type_caster<crmkit::Timestamp>> {
  static std::optional<crmkit::Timestamp> convert(handle src) {
    return crmkit_py::try_timestamp_from_py(src, "time");
  }
};

template <>
struct type_caster<crmkit::Date> : widened_caster<crmkit::Date, type_caster<crmkit::Date>> {
  static std::optional<crmkit::Date> convert(handle src) { return crmkit_py::try_date_from_py(src); }
};

template <>
struct type_caster<crmkit::Currency>
    : widened_caster<crmkit::Currency, type_caster<crmkit::Currency>> {
  static std::optional<crmkit::Currency> convert(handle src) {
    if (!isinstance<str>(src)) return std::nullopt;
    return crmkit::Currency::of(crmkit_py::text_from_py(src, "currency"));
  }
};

template <crmkit_py::FieldName Name, class T>
struct type_caster<crmkit_py::IntArg<Name, T>> {
  using Arg = crmkit_py::IntArg<Name, T>;
  PYBIND11_TYPE_CASTER(Arg, const_name("int"));
  bool load(handle src, bool) {
    value.value = crmkit_py::int_from_py<T>(src, Name.text);
    return true;
  }
  static handle cast(const Arg& src, return_value_policy, handle) {
    return pybind11::int_(src.value).release();
  }
};

template <crmkit_py::FieldName Name>
struct type_caster<crmkit_py::TextArg<Name>> {
  using Arg = crmkit_py::TextArg<Name>;
  PYBIND11_TYPE_CASTER(Arg, const_name("str"));
  bool load(handle src, bool) {
    value.value = crmkit_py::text_from_py(src, Name.text);
    return true;
  }
  static handle cast(const Arg& src, return_value_policy, handle) {
    return crmkit_py::text_to_py(src.value).release();
  }
};

template <crmkit_py::FieldName Name>
struct type_caster<crmkit_py::TimeArg<Name>> {
  using Arg = crmkit_py::TimeArg<Name>;
  PYBIND11_TYPE_CASTER(Arg, const_name("Timestamp"));
  bool load(handle src, bool convert) {
    if (src.is_none()) return false;
    if (isinstance<crmkit::Timestamp>(src)) {
      value = Arg(crmkit_py::timestamp_from_py(src, Name.text));
      return true;
    }
    if (!convert) return false;
    std::optional<crmkit::Timestamp> t = crmkit_py::try_timestamp_from_py(src, Name.text);
    if (!t) return false;
    value = Arg(*t);
    return true;
  }
  static handle cast(const Arg& src, return_value_policy policy, handle parent) {
    return make_caster<crmkit::Timestamp>::cast(static_cast<const crmkit::Timestamp&>(src), policy,
                                                parent);
  }
};

// The custom-field map: keys are field names, values FieldValue (no floats).
template <>
struct type_caster<std::map<std::string, crmkit::FieldValue>> {
  using Map = std::map<std::string, crmkit::FieldValue>;
  PYBIND11_TYPE_CASTER(Map, const_name("dict[str, bool | int | str | decimal.Decimal | Money | datetime.date]"));
  bool load(handle src, bool) {
    if (!isinstance<dict>(src)) return false;
    Map out;
    for (auto item : reinterpret_borrow<dict>(src)) {
      std::string key = crmkit_py::text_from_py(item.first, "custom");
      crmkit::FieldValue v = crmkit_py::field_value_from_py(item.second, "custom." + key);
      out.emplace(std::move(key), std::move(v));
    }
    value = std::move(out);
    return true;
  }
  static handle cast(const Map& src, return_value_policy, handle) {
    dict d;
    for (const auto& [k, v] : src) d[crmkit_py::text_to_py(k)] = crmkit_py::field_value_to_py(v);
    return d.release();
  }
};

}  // namespace pybind11::detail

namespace crmkit_py {
// Shared by ltv.cpp and analytics.cpp: LifetimeValue columns as a dict of numpy arrays (money as
// int64 minor units plus "currency"), and ValueMethod codes as uint8.
py::array method_codes(const std::vector<crmkit::ValueMethod>& methods);
py::dict lifetime_value_to_py(crmkit::LifetimeValue&& value);

void bind_errors(py::module_& m);
void bind_money(py::module_& m);
void bind_time(py::module_& m);
void bind_records(py::module_& m);
void bind_events(py::module_& m);
void bind_store(py::module_& m);
void bind_value(py::module_& m);
void bind_ltv(py::module_& m);
void bind_analytics(py::module_& m);
void bind_rules(py::module_& m);
void bind_lifecycle(py::module_& m);
void bind_lifecycle_store(py::module_& m);  // after bind_store and bind_lifecycle (extends Store)
// The crmkit::Machine held by a crmkit.Machine (lifecycle.cpp). Throws TypeError for anything else.
const crmkit::Machine& machine_from_py(py::handle machine);
void bind_facts(py::module_& m);
// The FactModel of a crmkit fitter (its _model) or core BG/NBD, MBG/NBD or Pareto/NBD model;
// None gives no model (facts.cpp).
crmkit::FactModel fact_model(py::handle model, crmkit::TimeUnit unit, double multiplier);
void bind_lifecycle_analytics(py::module_& m);  // after bind_lifecycle_store and bind_facts
// Points programmes and the pure replay of a points ledger (points.cpp).
void bind_points(py::module_& m);
// The crmkit::Program held by a crmkit.PointsProgram. Throws TypeError for anything else.
const crmkit::Program& points_program_from_py(py::handle program);
// ---- points store (points_store.cpp) ----
void bind_points_store(py::module_& m);  // after bind_store (extends Store)
// loyalty metrics (issue 8 item 2): crmkit/loyalty/metrics.hpp and crmkit/analytics/loyalty.hpp.
void bind_loyalty_metrics(py::module_& m);
// segments and drift (issue 8 item 3)
void bind_segments(py::module_& m);
// engagement (follow-up and campaigns)
void bind_engage(py::module_& m);  // after bind_store and bind_money
void bind_value_uncertainty(py::module_& m);  // intervals (issue 11 item 4); after bind_value
}  // namespace crmkit_py
