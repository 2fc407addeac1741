// crmkit/value/uncertainty.hpp: the log-parameter covariance of a fitted model and the intervals
// of its predictions and of CLV. Columns cross as numpy arrays; a covariance crosses as a k x k
// float64 array (any shape with k*k values is read in row-major order); intervals come back as
// a dict of numpy arrays (estimate, lower, upper, standard_error). Every call releases the GIL.
// The pandas-facing methods are in python/crmkit/_uncertainty.py.
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "conversions.hpp"
#include "crmkit/value/uncertainty.hpp"

namespace crmkit_py {

namespace {

using namespace crmkit;

std::span<const double> matrix(const DArray& a) {
  return {a.data(), static_cast<std::size_t>(a.size())};
}

py::array square(std::vector<double>&& v, std::size_t k) {
  py::array out = to_numpy(std::move(v));
  return out.attr("reshape")(static_cast<py::ssize_t>(k), static_cast<py::ssize_t>(k));
}

IntervalOptions interval_options(double level, const std::string& method,
                                 IntArg<"n_boot", int> n_boot,
                                 IntArg<"seed", std::uint64_t> seed) {
  IntervalOptions o;
  o.level = level;
  if (method == "delta") {
    o.method = IntervalMethod::delta;
  } else if (method == "bootstrap") {
    o.method = IntervalMethod::bootstrap;
  } else {
    throw_invalid("method", "must be 'delta' or 'bootstrap', got '" + method + "'");
  }
  o.n_boot = n_boot;
  o.seed = seed;
  return o;
}

py::dict intervals_to_py(Intervals&& iv) {
  py::dict out;
  out["estimate"] = to_numpy(std::move(iv.estimate));
  out["lower"] = to_numpy(std::move(iv.lower));
  out["upper"] = to_numpy(std::move(iv.upper));
  out["standard_error"] = to_numpy(std::move(iv.standard_error));
  return out;
}

// log_parameter_covariance for a three-column model (third = "T" or "n_periods").
template <typename Model>
void bind_covariance3(py::module_& m, const char* third) {
  m.def(
      "log_parameter_covariance",
      [third](const Model& model, const DArray& x, const DArray& tx, const DArray& T,
              const std::optional<DArray>& weights, double penalizer) {
        auto xs = column(x, "frequency"), txs = column(tx, "recency"), Ts = column(T, third);
        auto ws = optional_column(weights, "weights");
        std::vector<double> cov;
        {
          py::gil_scoped_release unlocked;
          cov = log_parameter_covariance(model, xs, txs, Ts, ws, penalizer);
        }
        return square(std::move(cov), 4);
      },
      py::arg("model"), py::arg("frequency"), py::arg("recency"), py::arg(third),
      py::arg("weights") = py::none(), py::arg("penalizer") = 0.0,
      "Covariance of the model's log-parameters on its fitted rows (4 x 4; all NaN when the "
      "Hessian is not negative definite).");
}

}  // namespace

void bind_value_uncertainty(py::module_& m) {
  bind_covariance3<BetaGeoModel>(m, "T");
  bind_covariance3<ModifiedBetaGeoModel>(m, "T");
  bind_covariance3<ParetoNBDModel>(m, "T");
  bind_covariance3<BetaGeoBetaBinomModel>(m, "n_periods");
  m.def(
      "log_parameter_covariance",
      [](const GammaGammaModel& model, const DArray& x, const DArray& mv,
         const std::optional<DArray>& weights, double penalizer) {
        auto xs = column(x, "frequency"), ms = column(mv, "monetary_value");
        auto ws = optional_column(weights, "weights");
        std::vector<double> cov;
        {
          py::gil_scoped_release unlocked;
          cov = log_parameter_covariance(model, xs, ms, ws, penalizer);
        }
        return square(std::move(cov), 3);
      },
      py::arg("model"), py::arg("frequency"), py::arg("monetary_value"),
      py::arg("weights") = py::none(), py::arg("penalizer") = 0.0,
      "Covariance of the Gamma-Gamma log-parameters on its fitted rows (3 x 3).");

  m.def(
      "conditional_expected_number_of_purchases_interval",
      [](const TransactionModel& model, const DArray& cov_log, double t, const DArray& x,
         const DArray& tx, const DArray& T, double level, const std::string& method,
         IntArg<"n_boot", int> n_boot, IntArg<"seed", std::uint64_t> seed) {
        const IntervalOptions o = interval_options(level, method, n_boot, seed);
        auto xs = column(x, "frequency"), txs = column(tx, "recency"), Ts = column(T, "T");
        auto cov = matrix(cov_log);
        Intervals iv;
        {
          py::gil_scoped_release unlocked;
          iv = conditional_expected_number_of_purchases_interval(model, cov, t, xs, txs, Ts, o);
        }
        return intervals_to_py(std::move(iv));
      },
      py::arg("model"), py::arg("cov_log"), py::arg("t"), py::arg("frequency"),
      py::arg("recency"), py::arg("T"), py::arg("level") = 0.95, py::arg("method") = "delta",
      py::arg("n_boot") = 1000, py::arg("seed") = 0,
      "Interval of the conditional expected purchases (uncertainty.hpp).");

  m.def(
      "conditional_probability_alive_interval",
      [](const TransactionModel& model, const DArray& cov_log, const DArray& x, const DArray& tx,
         const DArray& T, double level, const std::string& method, IntArg<"n_boot", int> n_boot,
         IntArg<"seed", std::uint64_t> seed, double m_periods_in_future) {
        const IntervalOptions o = interval_options(level, method, n_boot, seed);
        auto xs = column(x, "frequency"), txs = column(tx, "recency"), Ts = column(T, "T");
        auto cov = matrix(cov_log);
        Intervals iv;
        {
          py::gil_scoped_release unlocked;
          iv = conditional_probability_alive_interval(model, cov, xs, txs, Ts, o,
                                                      m_periods_in_future);
        }
        return intervals_to_py(std::move(iv));
      },
      py::arg("model"), py::arg("cov_log"), py::arg("frequency"), py::arg("recency"),
      py::arg("T"), py::arg("level") = 0.95, py::arg("method") = "delta",
      py::arg("n_boot") = 1000, py::arg("seed") = 0, py::arg("m_periods_in_future") = 0.0,
      "Interval of P(alive) (uncertainty.hpp).");

  m.def(
      "customer_lifetime_value_interval",
      [](const GammaGammaModel& spend_model, const DArray& spend_cov_log,
         const TransactionModel& transaction_model, const DArray& transaction_cov_log,
         const DArray& x, const DArray& tx, const DArray& T, const DArray& mv,
         IntArg<"months", int> months, double discount_rate, double periods_per_month,
         double level, const std::string& method, IntArg<"n_boot", int> n_boot,
         IntArg<"seed", std::uint64_t> seed) {
        const IntervalOptions o = interval_options(level, method, n_boot, seed);
        ClvOptions c;
        c.months = months;
        c.discount_rate = discount_rate;
        c.periods_per_month = periods_per_month;
        auto xs = column(x, "frequency"), txs = column(tx, "recency"), Ts = column(T, "T"),
             ms = column(mv, "monetary_value");
        auto scov = matrix(spend_cov_log), tcov = matrix(transaction_cov_log);
        Intervals iv;
        {
          py::gil_scoped_release unlocked;
          iv = customer_lifetime_value_interval(spend_model, scov, transaction_model, tcov, xs,
                                                txs, Ts, ms, c, o);
        }
        return intervals_to_py(std::move(iv));
      },
      py::arg("spend_model"), py::arg("spend_cov_log"), py::arg("transaction_model"),
      py::arg("transaction_cov_log"), py::arg("frequency"), py::arg("recency"), py::arg("T"),
      py::arg("monetary_value"), py::arg("months") = 12, py::arg("discount_rate") = 0.01,
      py::arg("periods_per_month") = 30.0, py::arg("level") = 0.95, py::arg("method") = "delta",
      py::arg("n_boot") = 1000, py::arg("seed") = 0,
      "Interval of lifetimes' customer lifetime value (uncertainty.hpp).");
}

}  // namespace crmkit_py
