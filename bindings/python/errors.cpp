// The one translator from crmkit::Error to the classes of crmkit.errors, keyed by the code name.
#include <string>

#include "conversions.hpp"

namespace crmkit_py {

namespace {

// Raises the crmkit.errors class registered for `code` (errors._BY_CODE) with `message`.
void raise_for(crmkit::ErrorCode code, const char* message) {
  try {
    py::object table = py::module_::import("crmkit.errors").attr("_BY_CODE");
    py::object cls = table[py::str(crmkit::to_string(code))];
    // Messages may quote the offending input, bytes that are not UTF-8 included: show those
    // as \xNN escapes rather than failing to build the message.
    std::string_view text(message);
    py::object msg = py::reinterpret_steal<py::object>(PyUnicode_DecodeUTF8(
        text.data(), static_cast<Py_ssize_t>(text.size()), "backslashreplace"));
    if (!msg) throw py::error_already_set();
    PyErr_SetObject(cls.ptr(), msg.ptr());
  } catch (py::error_already_set& e) {
    // crmkit.errors could not be imported: still report the failure, as a RuntimeError.
    std::string text = std::string(crmkit::to_string(code)) + ": " + message;
    PyErr_SetString(PyExc_RuntimeError, text.c_str());
  }
}

}  // namespace

void bind_errors(py::module_& m) {
  py::register_exception_translator([](std::exception_ptr p) {
    if (!p) return;
    try {
      std::rethrow_exception(p);
    } catch (const crmkit::JsonLogicError& e) {
      // A JSON Logic error value: crmkit.errors.JsonLogicError (a ValidationError) carrying it.
      try {
        py::object cls = py::module_::import("crmkit.errors").attr("JsonLogicError");
        py::object error = py::module_::import("json").attr("loads")(e.error_json());
        py::object exc = cls(py::str(e.what()), error);
        PyErr_SetObject(cls.ptr(), exc.ptr());
      } catch (py::error_already_set&) {
        raise_for(e.code(), e.what());
      }
    } catch (const crmkit::Error& e) {
      raise_for(e.code(), e.what());
    }
  });

  m.def(
      "error_codes",
      []() {
        py::list codes;
        for (const crmkit::ErrorCodeName& entry : crmkit::all_error_codes) codes.append(entry.name);
        return codes;
      },
      "The name of every crmkit::ErrorCode, in enumerator order (crmkit/base/error.hpp's "
      "all_error_codes).");

  // Test hook: throws crmkit::Error with the code named `code_name`, so a test can walk every code
  // through the translator.
  m.def(
      "_raise_error",
      [](const std::string& code_name, const std::string& message) {
        for (const crmkit::ErrorCodeName& entry : crmkit::all_error_codes) {
          if (code_name == entry.name) throw crmkit::Error(entry.code, message);
        }
        throw py::value_error("unknown error code: " + code_name);
      },
      py::arg("code_name"), py::arg("message"));
}

}  // namespace crmkit_py
