// RoundingMode, Currency and Money. Amounts cross as str or decimal.Decimal, never as float.
#include <cstdint>
#include <string>
#include <vector>

#include "conversions.hpp"

namespace crmkit_py {

namespace {

// The one rule for a Python amount (Money(...), money columns of crmkit.ltv, the amount column of
// Store.import_purchases): a str or decimal.Decimal, taken as exact decimal text; None is
// missing, and floats and ints are refused with a message saying what to pass instead. `field`
// names the value in messages ("amount", "rows[3].price", "amount[0]").
std::string amount_text(py::handle amount, const std::string& field) {
  // The accepted kinds first (a column of them is the common case), then the refusals; the
  // kinds do not overlap, so the order changes no outcome.
  if (py::isinstance<py::str>(amount)) return text_from_py(amount, field);
  if (is_decimal(amount)) return decimal_text(amount);
  if (amount.is_none()) crmkit::throw_invalid(field, "is missing");
  refuse_float(amount, field, "as money; pass a str or decimal.Decimal");
  if (PyBool_Check(amount.ptr()) || PyLong_Check(amount.ptr()) ||
      py::isinstance(amount, py::module_::import("numbers").attr("Integral"))) {
    crmkit::throw_invalid(field,
                          "integers are not accepted as money (major or minor units?); pass a str "
                          "or decimal.Decimal, or use Money.from_minor(int, currency) for minor "
                          "units");
  }
  throw py::type_error(field + ": expected str or decimal.Decimal, got " +
                       std::string(py::str(py::type::handle_of(amount).attr("__qualname__"))));
}

crmkit::Money money_from_amount(py::handle amount, const crmkit::Currency& currency) {
  return crmkit::Money::parse(amount_text(amount, "amount"), currency, "amount");
}

// A crmkit.Money in `currency` as it is, or what amount_text takes, parsed in `currency`.
crmkit::Money money_of(py::handle value, const crmkit::Currency& currency,
                       const std::string& field) {
  if (py::isinstance<crmkit::Money>(value)) {
    const auto& m = value.cast<const crmkit::Money&>();
    if (!(m.currency() == currency)) {
      crmkit::throw_invalid(field, "currency " + std::string(m.currency().code()) +
                                       " differs from " + std::string(currency.code()));
    }
    return m;
  }
  return crmkit::Money::parse(amount_text(value, field), currency, field);
}

// Exact minor units of a column of amounts (money_of each). Errors name the row:
// "<field>[<i>]: ...".
py::array money_minor_units(py::iterable values, const crmkit::Currency& currency,
                            const std::string& field) {
  std::vector<std::int64_t> out;
  std::size_t i = 0;
  for (py::handle value : values) {
    out.push_back(money_of(value, currency, field + "[" + std::to_string(i) + "]").minor_units_i64());
    ++i;
  }
  return to_numpy(std::move(out));
}

// The decimal texts of a column of amounts for a bulk import, which parses them in C++ against
// the store's currency. Errors name the row and column: "rows[<i>].<column>: ...".
std::vector<std::string> amount_texts(py::iterable values, const std::string& column) {
  std::vector<std::string> out;
  std::size_t i = 0;
  for (py::handle value : values) {
    out.push_back(amount_text(value, "rows[" + std::to_string(i) + "]." + column));
    ++i;
  }
  return out;
}

std::string money_repr(const crmkit::Money& m) {
  return "Money('" + m.amount_string() + "', '" + std::string(m.currency().code()) + "')";
}

}  // namespace

void bind_money(py::module_& m) {
  py::enum_<crmkit::RoundingMode>(m, "RoundingMode",
                                  "How an exact result between two representable values is rounded.")
      .value("half_even", crmkit::RoundingMode::half_even)
      .value("half_up", crmkit::RoundingMode::half_up)
      .value("half_down", crmkit::RoundingMode::half_down)
      .value("down", crmkit::RoundingMode::down)
      .value("up", crmkit::RoundingMode::up)
      .value("floor", crmkit::RoundingMode::floor)
      .value("ceiling", crmkit::RoundingMode::ceiling);

  py::class_<crmkit::Currency>(m, "Currency", "An ISO 4217 currency; obtain one with Currency.of(code).")
      .def(py::init([](const std::string& code) { return crmkit::Currency::of(code); }),
           py::arg("code"))
      .def_static("of", [](const std::string& code) { return crmkit::Currency::of(code); },
                  py::arg("code"))
      .def_static("holds_money",
                  [](const std::string& code) { return crmkit::Currency::holds_money(code); },
                  py::arg("code"),
                  "True if a store, a points programme or a money field may use the code: known "
                  "and not one of ISO 4217's codes for other things (XXX, XTS, XAU, XAG, XPT, "
                  "XPD, XDR, XBA, XBB, XBC, XBD, XSU, XUA).")
      .def_static("is_known", [](const std::string& code) { return crmkit::Currency::is_known(code); },
                  py::arg("code"))
      .def_static("all", &crmkit::Currency::all)
      .def_property_readonly("code", [](const crmkit::Currency& c) { return std::string(c.code()); })
      .def_property_readonly("numeric_code", &crmkit::Currency::numeric_code)
      .def_property_readonly("minor_units", &crmkit::Currency::minor_units)
      .def("__eq__",
           [](const crmkit::Currency& a, const crmkit::Currency& b) { return a == b; },
           py::is_operator())
      .def("__hash__", [](const crmkit::Currency& c) { return py::hash(py::str(std::string(c.code()))); })
      .def("__str__", [](const crmkit::Currency& c) { return std::string(c.code()); })
      .def("__repr__",
           [](const crmkit::Currency& c) { return "Currency('" + std::string(c.code()) + "')"; })
      .def("__reduce__", [](py::handle self) {
        return py::make_tuple(py::type::handle_of(self), py::make_tuple(self.attr("code")));
      });

  m.def("money_of", &money_of, py::arg("value"), py::arg("currency"), py::arg("field") = "amount",
        "A crmkit.Money in currency as it is, or a str / decimal.Decimal amount parsed in it.");
  m.def("money_minor_units", &money_minor_units, py::arg("values"), py::arg("currency"),
        py::arg("field") = "amount",
        "Exact minor units (int64 array) of a column of str / decimal.Decimal / Money amounts.");
  m.def("amount_texts", &amount_texts, py::arg("values"), py::arg("column") = "amount",
        "Decimal texts of a column of str / decimal.Decimal amounts, for a bulk import.");

  py::class_<crmkit::Money>(m, "Money",
                            "An exact amount of money: Money('12.34', 'USD'). Amounts are str or "
                            "decimal.Decimal; floats and ints are refused (see Money.from_minor).")
      .def(py::init(&money_from_amount), py::arg("amount"), py::arg("currency"))
      .def_static(
          "parse",
          [](const std::string& text, const crmkit::Currency& currency, const std::string& field) {
            return crmkit::Money::parse(text, currency, field);
          },
          py::arg("text"), py::arg("currency"), py::arg("field") = "amount")
      .def_static(
          "parse_with_currency",
          [](const std::string& text, const std::string& field) {
            return crmkit::Money::parse_with_currency(text, field);
          },
          py::arg("text"), py::arg("field") = "amount")
      .def_static(
          "from_minor",
          [](py::handle minor_units, const crmkit::Currency& currency) {
            return crmkit::Money::from_minor(int128_from_py(minor_units, "minor_units"), currency);
          },
          py::arg("minor_units"), py::arg("currency"))
      .def_static(
          "from_model_value",
          [](double value, const crmkit::Currency& currency, crmkit::RoundingMode mode) {
            return crmkit::Money::from_model_value(value, currency, mode);
          },
          py::arg("value"), py::arg("currency"), py::arg("rounding") = crmkit::RoundingMode::half_even,
          "The one explicit crossing from model arithmetic (a float in major units) to money, "
          "rounded to the minor unit.")
      .def_property_readonly("amount", [](const crmkit::Money& x) { return decimal_to_py(x.amount()); })
      .def_property_readonly("minor_units",
                             [](const crmkit::Money& x) { return int128_to_py(x.minor_units()); })
      .def_property_readonly("currency", &crmkit::Money::currency)
      .def("is_zero", &crmkit::Money::is_zero)
      .def("is_negative", &crmkit::Money::is_negative)
      .def("is_positive", &crmkit::Money::is_positive)
      .def("amount_string", &crmkit::Money::amount_string)
      .def("to_string", &crmkit::Money::to_string)
      .def("to_double", &crmkit::Money::to_double)
      .def(
          "multiply",
          [](const crmkit::Money& x, py::handle rate, crmkit::RoundingMode mode) {
            return x.multiply(decimal_from_py(rate, "rate", true), mode);
          },
          py::arg("rate"), py::arg("rounding") = crmkit::RoundingMode::half_even)
      .def(
          "allocate",
          [](const crmkit::Money& x, py::handle ratios) {
            if (PyLong_Check(ratios.ptr()) && !PyBool_Check(ratios.ptr())) {
              long long n = py::cast<long long>(ratios);
              if (n < 0) crmkit::throw_invalid("ratios", "the number of parts must not be negative");
              return x.allocate(static_cast<std::size_t>(n));
            }
            std::vector<std::int64_t> r = py::cast<std::vector<std::int64_t>>(ratios);
            return x.allocate(std::span<const std::int64_t>(r));
          },
          py::arg("ratios"))
      .def("__add__", [](const crmkit::Money& a, const crmkit::Money& b) { return a + b; },
           py::is_operator())
      .def("__sub__", [](const crmkit::Money& a, const crmkit::Money& b) { return a - b; },
           py::is_operator())
      .def("__neg__", [](const crmkit::Money& a) { return -a; })
      .def("__pos__", [](const crmkit::Money& a) { return a; })
      .def("__abs__", [](const crmkit::Money& a) { return a.is_negative() ? -a : a; })
      .def("__mul__", [](const crmkit::Money& a, std::int64_t k) { return a * k; },
           py::is_operator())
      .def("__rmul__", [](const crmkit::Money& a, std::int64_t k) { return a * k; },
           py::is_operator())
      .def("__eq__", [](const crmkit::Money& a, const crmkit::Money& b) { return a == b; },
           py::is_operator())
      .def("__ne__", [](const crmkit::Money& a, const crmkit::Money& b) { return !(a == b); },
           py::is_operator())
      .def("__lt__", [](const crmkit::Money& a, const crmkit::Money& b) { return (a <=> b) < 0; },
           py::is_operator())
      .def("__le__", [](const crmkit::Money& a, const crmkit::Money& b) { return (a <=> b) <= 0; },
           py::is_operator())
      .def("__gt__", [](const crmkit::Money& a, const crmkit::Money& b) { return (a <=> b) > 0; },
           py::is_operator())
      .def("__ge__", [](const crmkit::Money& a, const crmkit::Money& b) { return (a <=> b) >= 0; },
           py::is_operator())
      .def("__bool__", [](const crmkit::Money& a) { return !a.is_zero(); })
      .def("__hash__",
           [](const crmkit::Money& a) {
             return py::hash(py::make_tuple(int128_to_py(a.minor_units()),
                                            std::string(a.currency().code())));
           })
      .def("__str__", &crmkit::Money::to_string)
      .def("__repr__", &money_repr)
      .def("__reduce__", [](py::handle self) {
        const auto& x = self.cast<const crmkit::Money&>();
        return py::make_tuple(py::type::handle_of(self),
                              py::make_tuple(x.amount_string(), std::string(x.currency().code())));
      });
}

}  // namespace crmkit_py
