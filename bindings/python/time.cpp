// Timestamp (UTC microseconds) and Date. Wherever the binding takes one, the casters in
// conversions.hpp also accept datetime values, numpy.datetime64 and ISO strings.
#include <string>

#include "conversions.hpp"

namespace crmkit_py {

void bind_time(py::module_& m) {
  py::class_<crmkit::Timestamp>(
      m, "Timestamp",
      "An instant in UTC, in microseconds since 1970-01-01T00:00:00Z. Timestamp(x) takes an ISO "
      "8601 str, a datetime.datetime (aware: converted to UTC; naive: taken as UTC), a "
      "pandas.Timestamp or a numpy.datetime64; use Timestamp.from_micros for an int.")
      .def(py::init([](py::handle value) { return timestamp_from_py(value); }), py::arg("value"))
      .def_static(
          "parse",
          [](const std::string& text, const std::string& field) {
            return crmkit::Timestamp::parse(text, field);
          },
          py::arg("text"), py::arg("field") = "time")
      // Checked, unlike the C++ from_micros: a Python value is outside input.
      .def_static(
          "from_micros",
          [](py::handle micros) {
            return crmkit::Timestamp::checked(int_from_py<std::int64_t>(micros, "micros"),
                                              "micros");
          },
          py::arg("micros"),
          "The instant `micros` microseconds after 1970-01-01T00:00:00Z. Raises ValidationError "
          "naming micros outside 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999Z.")
      .def_static(
          "from_seconds",
          [](py::handle seconds) {
            // The range in seconds first, so that seconds * 10^6 cannot leave int64.
            const std::int64_t s = int64_from_py(seconds, "seconds",
                                                 crmkit::Timestamp::min().micros() / 1'000'000,
                                                 crmkit::Timestamp::max().micros() / 1'000'000);
            return crmkit::Timestamp::from_seconds(s);
          },
          py::arg("seconds"))
      .def_static("now", &crmkit::Timestamp::now)
      .def_property_readonly("micros", &crmkit::Timestamp::micros)
      .def("to_string", &crmkit::Timestamp::to_string)
      .def("to_datetime", [](crmkit::Timestamp t) { return timestamp_to_datetime(t); },
           "An aware datetime.datetime in UTC.")
      .def("date", &crmkit::Timestamp::date)
      .def("__str__", &crmkit::Timestamp::to_string)
      .def("__repr__", [](crmkit::Timestamp t) { return "Timestamp('" + t.to_string() + "')"; })
      .def("__hash__", [](crmkit::Timestamp t) { return py::hash(py::int_(t.micros())); })
      .def("__eq__", [](crmkit::Timestamp a, crmkit::Timestamp b) { return a == b; },
           py::is_operator(), py::arg("other").noconvert())
      .def("__ne__", [](crmkit::Timestamp a, crmkit::Timestamp b) { return a != b; },
           py::is_operator(), py::arg("other").noconvert())
      .def("__lt__", [](crmkit::Timestamp a, crmkit::Timestamp b) { return a < b; },
           py::is_operator())
      .def("__le__", [](crmkit::Timestamp a, crmkit::Timestamp b) { return a <= b; },
           py::is_operator())
      .def("__gt__", [](crmkit::Timestamp a, crmkit::Timestamp b) { return a > b; },
           py::is_operator())
      .def("__ge__", [](crmkit::Timestamp a, crmkit::Timestamp b) { return a >= b; },
           py::is_operator())
      .def("__reduce__", [](py::handle self) {
        return py::make_tuple(py::type::handle_of(self).attr("from_micros"),
                              py::make_tuple(self.attr("micros")));
      });

  py::class_<crmkit::Date>(m, "Date",
                           "A calendar date. Date(x) takes a datetime.date or 'YYYY-MM-DD'; "
                           "Date(year, month, day) builds one.")
      .def(py::init([](py::handle value) {
             if (py::isinstance<crmkit::Date>(value)) return value.cast<crmkit::Date>();
             std::optional<crmkit::Date> d = try_date_from_py(value);
             if (!d) throw py::type_error("date: expected a datetime.date or 'YYYY-MM-DD' str");
             return *d;
           }),
           py::arg("value"))
      .def(py::init([](IntArg<"year", int> year, IntArg<"month", int> month,
                       IntArg<"day", int> day) { return crmkit::Date(year, month, day); }),
           py::arg("year"), py::arg("month"), py::arg("day"))
      .def_static(
          "parse",
          [](const std::string& text, const std::string& field) {
            return crmkit::Date::parse(text, field);
          },
          py::arg("text"), py::arg("field") = "date")
      .def_static(
          "from_days_since_epoch",
          [](IntArg<"days", std::int64_t> days) {
            return crmkit::Date::from_days_since_epoch(days, "days");
          },
          py::arg("days"))
      .def("days_since_epoch", &crmkit::Date::days_since_epoch)
      .def_property_readonly("year", &crmkit::Date::year)
      .def_property_readonly("month", &crmkit::Date::month)
      .def_property_readonly("day", &crmkit::Date::day)
      .def("start", &crmkit::Date::start)
      .def("to_string", &crmkit::Date::to_string)
      .def("to_date", [](const crmkit::Date& d) { return date_to_py(d); }, "A datetime.date.")
      .def("__str__", &crmkit::Date::to_string)
      .def("__repr__", [](const crmkit::Date& d) { return "Date('" + d.to_string() + "')"; })
      .def("__hash__", [](const crmkit::Date& d) { return py::hash(py::int_(d.days_since_epoch())); })
      .def("__eq__", [](const crmkit::Date& a, const crmkit::Date& b) { return a == b; },
           py::is_operator(), py::arg("other").noconvert())
      .def("__ne__", [](const crmkit::Date& a, const crmkit::Date& b) { return a != b; },
           py::is_operator(), py::arg("other").noconvert())
      .def("__lt__", [](const crmkit::Date& a, const crmkit::Date& b) { return a < b; },
           py::is_operator())
      .def("__le__", [](const crmkit::Date& a, const crmkit::Date& b) { return a <= b; },
           py::is_operator())
      .def("__gt__", [](const crmkit::Date& a, const crmkit::Date& b) { return a > b; },
           py::is_operator())
      .def("__ge__", [](const crmkit::Date& a, const crmkit::Date& b) { return a >= b; },
           py::is_operator())
      .def("__reduce__", [](py::handle self) {
        return py::make_tuple(py::type::handle_of(self), py::make_tuple(self.attr("to_string")()));
      });
}

}  // namespace crmkit_py
