// BG/NBD and Pareto/NBD with covariates (crmkit/value/covariates.hpp) as crmkit._core.CovariatesModel.
// Covariates cross as a 2-dimensional float64 array (rows = customers, C order; other layouts and
// dtypes are converted) with a list of column names; the pandas-facing fitters are in
// python/crmkit/covariates.py. Every likelihood, fit and prediction releases the GIL.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "conversions.hpp"

namespace crmkit_py {

namespace {

using namespace crmkit;

using Matrix = py::array_t<double, py::array::c_style | py::array::forcecast>;

CovariatesKind kind_from(const std::string& kind) {
  if (kind == "beta_geo") return CovariatesKind::beta_geo;
  if (kind == "pareto_nbd") return CovariatesKind::pareto_nbd;
  throw_invalid("kind", "must be 'beta_geo' or 'pareto_nbd', got '" + kind + "'");
}

const char* kind_name(CovariatesKind k) {
  return k == CovariatesKind::beta_geo ? "beta_geo" : "pareto_nbd";
}

// A view of `a` (kept alive by the caller) with its column names. None or a (n, 0) array with no
// columns is the empty set.
CovariateMatrix matrix(const std::optional<Matrix>& a, std::vector<std::string> columns,
                       const char* field) {
  CovariateMatrix m{std::move(columns), {}};
  if (!a) {
    if (!m.columns.empty()) throw_invalid(field, "is None but columns are named");
    return m;
  }
  if (a->ndim() != 2)
    throw_invalid(field, "must be a 2-dimensional array (customers x columns), got " +
                             std::to_string(a->ndim()) + " dimensions");
  if (static_cast<std::size_t>(a->shape(1)) != m.columns.size())
    throw_invalid(field, "has " + std::to_string(a->shape(1)) + " columns but " +
                             std::to_string(m.columns.size()) + " names");
  if (!m.columns.empty())
    m.values = {a->data(), static_cast<std::size_t>(a->shape(0) * a->shape(1))};
  return m;
}

py::tuple report_tuple(const FitReport& r) {
  return py::make_tuple(r.converged, r.iterations, r.log_likelihood, r.gradient_norm,
                        text_to_py(r.message));
}

FitReport report_of(const py::tuple& t) {
  if (t.size() != 5) throw_invalid("report", "must hold 5 fields");
  FitReport r;
  r.converged = t[0].cast<bool>();
  r.iterations = t[1].cast<int>();
  r.log_likelihood = t[2].cast<double>();
  r.gradient_norm = t[3].cast<double>();
  r.message = text_from_py(t[4], "report.message");
  return r;
}

}  // namespace

void bind_value_covariates(py::module_& m) {
  using Cols = std::vector<std::string>;
  using OptM = std::optional<Matrix>;
  py::class_<CovariatesModel> cls(
      m, "CovariatesModel",
      "BG/NBD ('beta_geo') or Pareto/NBD ('pareto_nbd') with time-invariant covariates "
      "(crmkit/value/covariates.hpp). Parameters in param_names order.");
  cls.def(py::init([](const std::string& kind, std::vector<double> params,
                      std::vector<double> standard_errors, const FitReport& report,
                      Cols purchase_columns, Cols dropout_columns) {
            return CovariatesModel(kind_from(kind), std::move(params), std::move(standard_errors),
                                   report, std::move(purchase_columns), std::move(dropout_columns));
          }),
          py::arg("kind"), py::arg("params"), py::arg("standard_errors") = std::vector<double>{},
          py::arg("report") = FitReport{}, py::arg("purchase_columns") = Cols{},
          py::arg("dropout_columns") = Cols{})
      .def_static(
          "fit",
          [](const std::string& kind, const DArray& x, const DArray& tx, const DArray& T,
             const OptM& purchase, Cols purchase_columns, const OptM& dropout,
             Cols dropout_columns, const std::optional<DArray>& weights, double penalizer,
             std::vector<double> initial, IntArg<"max_iterations", int> max_iterations,
             double tolerance, bool standard_errors, IntArg<"threads", unsigned> threads) {
            const CovariatesKind k = kind_from(kind);
            auto xs = column(x, "frequency"), txs = column(tx, "recency"), Ts = column(T, "T");
            auto ws = optional_column(weights, "weights");
            CovariateMatrix P = matrix(purchase, std::move(purchase_columns), "purchase_covariates");
            CovariateMatrix D = matrix(dropout, std::move(dropout_columns), "dropout_covariates");
            FitOptions o;
            o.penalizer = penalizer;
            o.initial = std::move(initial);
            o.max_iterations = max_iterations;
            o.tolerance = tolerance;
            o.standard_errors = standard_errors;
            o.threads = threads;
            py::gil_scoped_release unlocked;
            return CovariatesModel::fit(k, xs, txs, Ts, P, D, ws, o);
          },
          py::arg("kind"), py::arg("frequency"), py::arg("recency"), py::arg("T"),
          py::arg("purchase_covariates"), py::arg("purchase_columns"),
          py::arg("dropout_covariates"), py::arg("dropout_columns"),
          py::arg("weights") = py::none(), py::arg("penalizer") = 0.0,
          py::arg("initial") = std::vector<double>{}, py::arg("max_iterations") = 1000,
          py::arg("tolerance") = 1e-10, py::arg("standard_errors") = true,
          py::arg("threads") = 0u)
      .def_property_readonly("kind", [](const CovariatesModel& s) { return kind_name(s.kind()); })
      .def_property_readonly("params", [](const CovariatesModel& s) { return s.parameter_values(); })
      .def_property_readonly("standard_errors",
                             [](const CovariatesModel& s) { return s.standard_errors(); })
      .def_property_readonly("report", [](const CovariatesModel& s) { return s.report(); })
      .def_property_readonly("param_names",
                             [](const CovariatesModel& s) { return s.parameter_names(); })
      .def_property_readonly("purchase_columns",
                             [](const CovariatesModel& s) { return s.purchase_columns(); })
      .def_property_readonly("dropout_columns",
                             [](const CovariatesModel& s) { return s.dropout_columns(); })
      .def(py::pickle(
          [](const CovariatesModel& s) {
            return py::make_tuple(kind_name(s.kind()), s.parameter_values(), s.standard_errors(),
                                  report_tuple(s.report()), s.purchase_columns(),
                                  s.dropout_columns());
          },
          [](const py::tuple& t) {
            if (t.size() != 6) throw_invalid("state", "must hold 6 items");
            return CovariatesModel(kind_from(t[0].cast<std::string>()),
                                   t[1].cast<std::vector<double>>(),
                                   t[2].cast<std::vector<double>>(), report_of(t[3].cast<py::tuple>()),
                                   t[4].cast<Cols>(), t[5].cast<Cols>());
          }));

  // The row-wise calls: frequency, recency, T and the two covariate matrices (columns: the
  // model's own).
  cls.def(
         "log_likelihood",
         [](const CovariatesModel& s, const DArray& x, const DArray& tx, const DArray& T,
            const OptM& purchase, const OptM& dropout, const std::optional<DArray>& weights) {
           auto xs = column(x, "frequency"), txs = column(tx, "recency"), Ts = column(T, "T");
           auto ws = optional_column(weights, "weights");
           const CovariateMatrix P = matrix(purchase, s.purchase_columns(), "purchase_covariates");
           const CovariateMatrix D = matrix(dropout, s.dropout_columns(), "dropout_covariates");
           py::gil_scoped_release unlocked;
           return s.log_likelihood(xs, txs, Ts, P, D, ws);
         },
         py::arg("frequency"), py::arg("recency"), py::arg("T"), py::arg("purchase_covariates"),
         py::arg("dropout_covariates"), py::arg("weights") = py::none())
      .def(
          "log_likelihood_gradient",
          [](const CovariatesModel& s, const DArray& x, const DArray& tx, const DArray& T,
             const OptM& purchase, const OptM& dropout, const std::optional<DArray>& weights) {
            auto xs = column(x, "frequency"), txs = column(tx, "recency"), Ts = column(T, "T");
            auto ws = optional_column(weights, "weights");
            const CovariateMatrix P = matrix(purchase, s.purchase_columns(), "purchase_covariates");
            const CovariateMatrix D = matrix(dropout, s.dropout_columns(), "dropout_covariates");
            std::vector<double> out;
            {
              py::gil_scoped_release unlocked;
              out = s.log_likelihood_gradient(xs, txs, Ts, P, D, ws);
            }
            return to_numpy(std::move(out));
          },
          py::arg("frequency"), py::arg("recency"), py::arg("T"), py::arg("purchase_covariates"),
          py::arg("dropout_covariates"), py::arg("weights") = py::none())
      .def(
          "individual_log_likelihood",
          [](const CovariatesModel& s, const DArray& x, const DArray& tx, const DArray& T,
             const OptM& purchase, const OptM& dropout) {
            auto xs = column(x, "frequency"), txs = column(tx, "recency"), Ts = column(T, "T");
            const CovariateMatrix P = matrix(purchase, s.purchase_columns(), "purchase_covariates");
            const CovariateMatrix D = matrix(dropout, s.dropout_columns(), "dropout_covariates");
            std::vector<double> out;
            {
              py::gil_scoped_release unlocked;
              out = s.individual_log_likelihood(xs, txs, Ts, P, D);
            }
            return to_numpy(std::move(out));
          },
          py::arg("frequency"), py::arg("recency"), py::arg("T"), py::arg("purchase_covariates"),
          py::arg("dropout_covariates"))
      .def(
          "conditional_probability_alive",
          [](const CovariatesModel& s, const DArray& x, const DArray& tx, const DArray& T,
             const OptM& purchase, const OptM& dropout) {
            auto xs = column(x, "frequency"), txs = column(tx, "recency"), Ts = column(T, "T");
            const CovariateMatrix P = matrix(purchase, s.purchase_columns(), "purchase_covariates");
            const CovariateMatrix D = matrix(dropout, s.dropout_columns(), "dropout_covariates");
            std::vector<double> out;
            {
              py::gil_scoped_release unlocked;
              out = s.conditional_probability_alive(xs, txs, Ts, P, D);
            }
            return to_numpy(std::move(out));
          },
          py::arg("frequency"), py::arg("recency"), py::arg("T"), py::arg("purchase_covariates"),
          py::arg("dropout_covariates"))
      .def(
          "conditional_expected_number_of_purchases_up_to_time",
          [](const CovariatesModel& s, double t, const DArray& x, const DArray& tx,
             const DArray& T, const OptM& purchase, const OptM& dropout) {
            auto xs = column(x, "frequency"), txs = column(tx, "recency"), Ts = column(T, "T");
            const CovariateMatrix P = matrix(purchase, s.purchase_columns(), "purchase_covariates");
            const CovariateMatrix D = matrix(dropout, s.dropout_columns(), "dropout_covariates");
            std::vector<double> out;
            {
              py::gil_scoped_release unlocked;
              out = s.conditional_expected_number_of_purchases_up_to_time(t, xs, txs, Ts, P, D);
            }
            return to_numpy(std::move(out));
          },
          py::arg("t"), py::arg("frequency"), py::arg("recency"), py::arg("T"),
          py::arg("purchase_covariates"), py::arg("dropout_covariates"))
      .def(
          "expected_number_of_purchases_up_to_time",
          [](const CovariatesModel& s, double t, const OptM& purchase, const OptM& dropout,
             IntArg<"rows", std::size_t> rows) {
            const CovariateMatrix P = matrix(purchase, s.purchase_columns(), "purchase_covariates");
            const CovariateMatrix D = matrix(dropout, s.dropout_columns(), "dropout_covariates");
            std::vector<double> out;
            {
              py::gil_scoped_release unlocked;
              out = s.expected_number_of_purchases_up_to_time(t, P, D, rows);
            }
            return to_numpy(std::move(out));
          },
          py::arg("t"), py::arg("purchase_covariates"), py::arg("dropout_covariates"),
          py::arg("rows"))
      .def(
          "individual_parameters",
          [](const CovariatesModel& s, const OptM& purchase, const OptM& dropout,
             IntArg<"rows", std::size_t> rows) {
            const CovariateMatrix P = matrix(purchase, s.purchase_columns(), "purchase_covariates");
            const CovariateMatrix D = matrix(dropout, s.dropout_columns(), "dropout_covariates");
            std::vector<std::vector<double>> out;
            {
              py::gil_scoped_release unlocked;
              out = s.individual_parameters(P, D, rows);
            }
            py::list cols;
            for (auto& v : out) cols.append(to_numpy(std::move(v)));
            return cols;
          },
          py::arg("purchase_covariates"), py::arg("dropout_covariates"), py::arg("rows"));
}

}  // namespace crmkit_py
