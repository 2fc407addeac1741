// crmkit._core: the compiled part of the crmkit Python package. Conversions only: every function
// turns Python values into crmkit values, makes one crmkit call and converts the result back.
#include "conversions.hpp"

namespace crmkit_py { void bind_value_covariates(py::module_& m); }  // value_covariates.cpp
namespace crmkit_py { void bind_contractual(py::module_& m); }  // contractual.cpp (issue 11)

PYBIND11_MODULE(_core, m) {
  m.doc() = "crmkit._core: the compiled binding of the crmkit C++ core (use the crmkit package)";
  m.attr("__version__") = CRMKIT_VERSION_INFO;
  crmkit_py::bind_errors(m);
  crmkit_py::bind_money(m);
  crmkit_py::bind_time(m);
  crmkit_py::bind_records(m);
  crmkit_py::bind_events(m);
  crmkit_py::bind_store(m);
  crmkit_py::bind_value(m);
  crmkit_py::bind_ltv(m);
  crmkit_py::bind_analytics(m);
  crmkit_py::bind_rules(m);
  crmkit_py::bind_lifecycle(m);
  crmkit_py::bind_lifecycle_store(m);
  crmkit_py::bind_facts(m);
  crmkit_py::bind_lifecycle_analytics(m);
  crmkit_py::bind_points(m);
  crmkit_py::bind_points_store(m);
  // loyalty metrics (issue 8 item 2)
  crmkit_py::bind_loyalty_metrics(m);
  // segments and drift (issue 8 item 3)
  crmkit_py::bind_segments(m);
  crmkit_py::bind_engage(m);  // engagement (follow-up and campaigns)
  crmkit_py::bind_value_uncertainty(m);  // prediction intervals (issue 11 item 4)
  crmkit_py::bind_value_covariates(m);  // covariate BG/NBD and Pareto/NBD (issue 11 item 2)
  crmkit_py::bind_contractual(m);  // contractual customers: sBG and BdW (issue 11)
}
