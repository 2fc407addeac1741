// The contractual retention models (crmkit/value/contractual.hpp): sBG and BdW. Survivor counts
// cross as 1-dimensional float64 arrays (a list of them for several cohorts); results come back as
// numpy arrays. Fits release the GIL. The pandas-facing fitters are python/crmkit/contractual.py.
#include <array>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "conversions.hpp"
#include "crmkit/value/contractual.hpp"

namespace crmkit_py {

namespace {

using namespace crmkit;

template <typename P>
struct Spec;
template <>
struct Spec<ShiftedBetaGeometricParams> {
  static constexpr std::array<const char*, 2> names{"alpha", "beta"};
  static constexpr std::array<double ShiftedBetaGeometricParams::*, 2> members{
      &ShiftedBetaGeometricParams::alpha, &ShiftedBetaGeometricParams::beta};
};
template <>
struct Spec<BetaDiscreteWeibullParams> {
  static constexpr std::array<const char*, 3> names{"alpha", "beta", "c"};
  static constexpr std::array<double BetaDiscreteWeibullParams::*, 3> members{
      &BetaDiscreteWeibullParams::alpha, &BetaDiscreteWeibullParams::beta,
      &BetaDiscreteWeibullParams::c};
};

template <typename P>
py::list to_list(const P& p) {
  py::list out;
  for (auto m : Spec<P>::members) out.append(p.*m);
  return out;
}

template <typename P>
P from_list(const std::vector<double>& v, const char* field) {
  constexpr std::size_t k = Spec<P>::names.size();
  if (v.size() != k)
    throw_invalid(field, "must hold " + std::to_string(k) + " values, got " + std::to_string(v.size()));
  P p;
  for (std::size_t i = 0; i < k; ++i) p.*(Spec<P>::members[i]) = v[i];
  return p;
}

std::vector<std::vector<double>> cohorts_from_py(const std::vector<DArray>& arrays) {
  std::vector<std::vector<double>> out;
  out.reserve(arrays.size());
  for (std::size_t i = 0; i < arrays.size(); ++i) {
    const std::string field = "cohorts[" + std::to_string(i) + "]";
    auto s = column(arrays[i], field.c_str());
    out.emplace_back(s.begin(), s.end());
  }
  return out;
}

template <typename Model, typename P>
void bind_retention_model(py::module_& m, const char* name, const char* doc) {
  py::class_<Model> cls(m, name, doc);
  py::tuple names(Spec<P>::names.size());
  for (std::size_t i = 0; i < Spec<P>::names.size(); ++i) names[i] = Spec<P>::names[i];
  cls.attr("param_names") = names;
  cls.def(py::init([](const std::vector<double>& params) {
            return Model(from_list<P>(params, "params"));
          }),
          py::arg("params"), "A model with known parameters, in param_names order (no fit).")
      .def(py::init([](const std::vector<double>& params, const std::vector<double>& se,
                       const FitReport& report) {
             return Model(from_list<P>(params, "params"), from_list<P>(se, "standard_errors"),
                          report);
           }),
           py::arg("params"), py::arg("standard_errors"), py::arg("report"),
           "A fitted model rebuilt from its parameters, standard errors and report, kept exactly.")
      .def(py::pickle(
          [](const Model& self) {
            return py::make_tuple(to_list(self.params()), to_list(self.standard_errors()),
                                  py::cast(self.report()));
          },
          [](const py::tuple& state) {
            if (state.size() != 3) throw_invalid("state", "must hold 3 items");
            return Model(from_list<P>(state[0].cast<std::vector<double>>(), "params"),
                         from_list<P>(state[1].cast<std::vector<double>>(), "standard_errors"),
                         state[2].cast<FitReport>());
          }))
      .def_property_readonly("params", [](const Model& self) { return to_list(self.params()); })
      .def_property_readonly("standard_errors",
                             [](const Model& self) { return to_list(self.standard_errors()); })
      .def_property_readonly("report", [](const Model& self) { return self.report(); })
      .def_static(
          "fit",
          [](const DArray& survivors, double penalizer, std::vector<double> initial,
             IntArg<"max_iterations", int> max_iterations, double tolerance, bool standard_errors) {
            auto s = column(survivors, "survivors");
            FitOptions o;
            o.penalizer = penalizer;
            o.initial = std::move(initial);
            o.max_iterations = max_iterations;
            o.tolerance = tolerance;
            o.standard_errors = standard_errors;
            py::gil_scoped_release unlocked;
            return Model::fit(s, o);
          },
          py::arg("survivors"), py::arg("penalizer") = 0.0,
          py::arg("initial") = std::vector<double>{}, py::arg("max_iterations") = 1000,
          py::arg("tolerance") = 1e-10, py::arg("standard_errors") = true,
          "Fits on one cohort's survivor counts (contractual.hpp).")
      .def_static(
          "fit_cohorts",
          [](const std::vector<DArray>& cohorts, double penalizer, std::vector<double> initial,
             IntArg<"max_iterations", int> max_iterations, double tolerance, bool standard_errors) {
            const auto c = cohorts_from_py(cohorts);
            FitOptions o;
            o.penalizer = penalizer;
            o.initial = std::move(initial);
            o.max_iterations = max_iterations;
            o.tolerance = tolerance;
            o.standard_errors = standard_errors;
            py::gil_scoped_release unlocked;
            return Model::fit_cohorts(c, o);
          },
          py::arg("cohorts"), py::arg("penalizer") = 0.0,
          py::arg("initial") = std::vector<double>{}, py::arg("max_iterations") = 1000,
          py::arg("tolerance") = 1e-10, py::arg("standard_errors") = true,
          "Fits jointly on several cohorts' survivor counts (contractual.hpp).")
      .def(
          "log_likelihood",
          [](const Model& self, const DArray& survivors) {
            return self.log_likelihood(column(survivors, "survivors"));
          },
          py::arg("survivors"))
      .def(
          "log_likelihood_cohorts",
          [](const Model& self, const std::vector<DArray>& cohorts) {
            return self.log_likelihood_cohorts(cohorts_from_py(cohorts));
          },
          py::arg("cohorts"))
      .def(
          "survival_function",
          [](const Model& self, const DArray& t) {
            return to_numpy(self.survival_function(column(t, "t")));
          },
          py::arg("t"), "S(t) for each t (non-negative integers).")
      .def(
          "retention_rate",
          [](const Model& self, const DArray& t) {
            return to_numpy(self.retention_rate(column(t, "t")));
          },
          py::arg("t"), "r(t) = S(t)/S(t-1) for each t (integers >= 1).")
      .def(
          "churn_probability",
          [](const Model& self, const DArray& t) {
            return to_numpy(self.churn_probability(column(t, "t")));
          },
          py::arg("t"), "P(T = t) for each t (integers >= 1).")
      .def(
          "discounted_expected_residual_lifetime",
          [](const Model& self, double discount_rate, double renewals) {
            py::gil_scoped_release unlocked;
            return self.discounted_expected_residual_lifetime(discount_rate, renewals);
          },
          py::arg("discount_rate"), py::arg("renewals") = 0.0)
      .def(
          "discounted_expected_lifetime",
          [](const Model& self, double discount_rate) {
            py::gil_scoped_release unlocked;
            return self.discounted_expected_lifetime(discount_rate);
          },
          py::arg("discount_rate"));
  if constexpr (std::is_same_v<Model, ShiftedBetaGeometricModel>)
    cls.def("expected_lifetime", &Model::expected_lifetime);
}

}  // namespace

void bind_contractual(py::module_& m) {
  m.def(
      "survivors_from_lost",
      [](double initial, const DArray& lost) {
        return to_numpy(survivors_from_lost(initial, column(lost, "lost")));
      },
      py::arg("initial"), py::arg("lost"),
      "Survivor counts of one cohort from its initial size and the number lost per period.");
  bind_retention_model<ShiftedBetaGeometricModel, ShiftedBetaGeometricParams>(
      m, "ShiftedBetaGeometricModel", "sBG retention model (contractual.hpp).");
  bind_retention_model<BetaDiscreteWeibullModel, BetaDiscreteWeibullParams>(
      m, "BetaDiscreteWeibullModel", "BdW retention model (contractual.hpp).");
}

}  // namespace crmkit_py
