// The value layer (summary.hpp, rfm.hpp, models.hpp). Columns cross as 1-dimensional numpy
// arrays (int64 ids and UTC microseconds, float64 values); results come back as numpy arrays that
// own the C++ vectors (moved, not copied). Every call releases the GIL around the crmkit call.
// The pandas-facing API (lifetimes' names and frames) is in python/crmkit/utils.py and
// fitters.py, which call these functions.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "conversions.hpp"

namespace crmkit_py {

namespace {

using namespace crmkit;

// The Python spelling of ImpossibleHistories: "reject" (the default) or "evaluate".
ImpossibleHistories impossible_histories(const std::string& text) {
  if (text == "reject") return ImpossibleHistories::reject;
  if (text == "evaluate") return ImpossibleHistories::evaluate;
  throw_invalid("impossible_histories", "must be \"reject\" or \"evaluate\", got \"" + text + "\"");
}

// ---- parameters: names and members of each model's parameter struct ----

template <typename P>
struct ParamSpec;

template <>
struct ParamSpec<BetaGeoParams> {
  static constexpr std::array<const char*, 4> names{"r", "alpha", "a", "b"};
  static constexpr std::array<double BetaGeoParams::*, 4> members{
      &BetaGeoParams::r, &BetaGeoParams::alpha, &BetaGeoParams::a, &BetaGeoParams::b};
};
template <>
struct ParamSpec<ModifiedBetaGeoParams> {
  static constexpr std::array<const char*, 4> names{"r", "alpha", "a", "b"};
  static constexpr std::array<double ModifiedBetaGeoParams::*, 4> members{
      &ModifiedBetaGeoParams::r, &ModifiedBetaGeoParams::alpha, &ModifiedBetaGeoParams::a,
      &ModifiedBetaGeoParams::b};
};
template <>
struct ParamSpec<ParetoNBDParams> {
  static constexpr std::array<const char*, 4> names{"r", "alpha", "s", "beta"};
  static constexpr std::array<double ParetoNBDParams::*, 4> members{
      &ParetoNBDParams::r, &ParetoNBDParams::alpha, &ParetoNBDParams::s, &ParetoNBDParams::beta};
};
template <>
struct ParamSpec<BetaGeoBetaBinomParams> {
  static constexpr std::array<const char*, 4> names{"alpha", "beta", "gamma", "delta"};
  static constexpr std::array<double BetaGeoBetaBinomParams::*, 4> members{
      &BetaGeoBetaBinomParams::alpha, &BetaGeoBetaBinomParams::beta,
      &BetaGeoBetaBinomParams::gamma, &BetaGeoBetaBinomParams::delta};
};
template <>
struct ParamSpec<GammaGammaParams> {
  static constexpr std::array<const char*, 3> names{"p", "q", "v"};
  static constexpr std::array<double GammaGammaParams::*, 3> members{
      &GammaGammaParams::p, &GammaGammaParams::q, &GammaGammaParams::v};
};

template <typename P>
py::list params_to_list(const P& p) {
  py::list out;
  for (auto member : ParamSpec<P>::members) out.append(p.*member);
  return out;
}

template <typename P>
P params_from_list(const std::vector<double>& values) {
  constexpr std::size_t k = ParamSpec<P>::names.size();
  if (values.size() != k) {
    throw_invalid("params", "must hold " + std::to_string(k) + " values, got " +
                                std::to_string(values.size()));
  }
  P p;
  for (std::size_t i = 0; i < k; ++i) p.*(ParamSpec<P>::members[i]) = values[i];
  return p;
}

FitOptions fit_options(double penalizer, std::vector<double> initial, int max_iterations,
                       double tolerance, bool standard_errors = true, unsigned threads = 0) {
  FitOptions o;
  o.penalizer = penalizer;
  o.initial = std::move(initial);
  o.max_iterations = max_iterations;
  o.tolerance = tolerance;
  o.standard_errors = standard_errors;
  o.threads = threads;
  return o;
}

// A FitReport as a plain tuple (converged, iterations, log_likelihood, gradient_norm, message),
// for pickling and saved models.
py::tuple report_to_tuple(const FitReport& r) {
  return py::make_tuple(r.converged, r.iterations, r.log_likelihood, r.gradient_norm,
                        text_to_py(r.message));
}

FitReport report_from_tuple(const py::tuple& t) {
  if (t.size() != 5) {
    throw_invalid("report", "must hold 5 fields (converged, iterations, log_likelihood, "
                            "gradient_norm, message), got " + std::to_string(t.size()));
  }
  FitReport r;
  r.converged = t[0].cast<bool>();
  r.iterations = t[1].cast<int>();
  r.log_likelihood = t[2].cast<double>();
  r.gradient_norm = t[3].cast<double>();
  r.message = text_from_py(t[4], "report.message");
  return r;
}

// What every model class shares: construction from parameters (and from a fit's parameters,
// standard errors and report), params, standard_errors, report, param_names, pickling.
template <typename Model, typename P, typename... Bases>
void bind_model_common(py::class_<Model, Bases...>& cls) {
  py::tuple names(ParamSpec<P>::names.size());
  for (std::size_t i = 0; i < ParamSpec<P>::names.size(); ++i) names[i] = ParamSpec<P>::names[i];
  cls.attr("param_names") = names;
  cls.def(py::init([](const std::vector<double>& params) {
            return Model(params_from_list<P>(params));
          }),
          py::arg("params"), "A model with known parameters, in param_names order (no fit).")
      .def(py::init([](const std::vector<double>& params,
                       const std::vector<double>& standard_errors, const FitReport& report) {
             return Model(params_from_list<P>(params), params_from_list<P>(standard_errors),
                          report);
           }),
           py::arg("params"), py::arg("standard_errors"), py::arg("report"),
           "A fitted model rebuilt from its parameters, standard errors (NaN where not computed) "
           "and report, kept exactly.")
      .def(py::pickle(
          [](const Model& self) {
            return py::make_tuple(params_to_list(self.params()),
                                  params_to_list(self.standard_errors()),
                                  report_to_tuple(self.report()));
          },
          [](const py::tuple& state) {
            if (state.size() != 3) throw_invalid("state", "must hold 3 items");
            return Model(params_from_list<P>(state[0].cast<std::vector<double>>()),
                         params_from_list<P>(state[1].cast<std::vector<double>>()),
                         report_from_tuple(state[2].cast<py::tuple>()));
          }))
      .def_property_readonly("params",
                             [](const Model& self) { return params_to_list(self.params()); })
      .def_property_readonly(
          "standard_errors", [](const Model& self) { return params_to_list(self.standard_errors()); })
      .def_property_readonly("report", [](const Model& self) { return self.report(); });
}

// Binds the three-column likelihood methods (frequency, recency and `third` = T or n_periods) and
// fit() of a BG/NBD-family or BG/BB model.
template <typename Model, typename P, typename... Bases>
void bind_three_column_fit(py::class_<Model, Bases...>& cls, const char* third) {
  cls.def(
      "covariance",
      [third](const Model& self, const DArray& x, const DArray& tx, const DArray& T,
              const std::optional<DArray>& weights, double penalizer) {
        auto xs = column(x, "frequency"), txs = column(tx, "recency"), Ts = column(T, third);
        auto ws = optional_column(weights, "weights");
        py::gil_scoped_release unlocked;
        return self.covariance(xs, txs, Ts, ws, penalizer);
      },
      py::arg("frequency"), py::arg("recency"), py::arg(third), py::arg("weights") = py::none(),
      py::arg("penalizer") = 0.0,
      "Delta-method covariance of params on these rows (k*k list, row-major, param_names "
      "order; NaN where the Hessian is not negative definite).");
  cls.def_static(
         "fit",
         [third](const DArray& x, const DArray& tx, const DArray& T,
                 const std::optional<DArray>& weights, double penalizer,
                 std::vector<double> initial, IntArg<"max_iterations", int> max_iterations, double tolerance,
                 bool standard_errors, IntArg<"threads", unsigned> threads) {
           auto xs = column(x, "frequency"), txs = column(tx, "recency"), Ts = column(T, third);
           auto ws = optional_column(weights, "weights");
           FitOptions o = fit_options(penalizer, std::move(initial), max_iterations, tolerance,
                                      standard_errors, threads);
           py::gil_scoped_release unlocked;
           return Model::fit(xs, txs, Ts, ws, o);
         },
         py::arg("frequency"), py::arg("recency"), py::arg(third), py::arg("weights") = py::none(),
         py::arg("penalizer") = 0.0, py::arg("initial") = std::vector<double>{},
         py::arg("max_iterations") = 1000, py::arg("tolerance") = 1e-10,
         py::arg("standard_errors") = true, py::arg("threads") = 0u)
      .def(
          "log_likelihood",
          [third](const Model& self, const DArray& x, const DArray& tx, const DArray& T,
                  const std::optional<DArray>& weights) {
            auto xs = column(x, "frequency"), txs = column(tx, "recency"), Ts = column(T, third);
            auto ws = optional_column(weights, "weights");
            py::gil_scoped_release unlocked;
            return self.log_likelihood(xs, txs, Ts, ws);
          },
          py::arg("frequency"), py::arg("recency"), py::arg(third), py::arg("weights") = py::none())
      .def(
          "individual_log_likelihood",
          [third](const Model& self, const DArray& x, const DArray& tx, const DArray& T) {
            auto xs = column(x, "frequency"), txs = column(tx, "recency"), Ts = column(T, third);
            std::vector<double> out;
            {
              py::gil_scoped_release unlocked;
              out = self.individual_log_likelihood(xs, txs, Ts);
            }
            return to_numpy(std::move(out));
          },
          py::arg("frequency"), py::arg("recency"), py::arg(third))
      .def(
          "conditional_expected_number_of_purchases_up_to_time",
          [third](const Model& self, double t, const DArray& x, const DArray& tx, const DArray& T,
                  const std::string& histories) {
            const ImpossibleHistories rule = impossible_histories(histories);
            auto xs = column(x, "frequency"), txs = column(tx, "recency"), Ts = column(T, third);
            std::vector<double> out;
            {
              py::gil_scoped_release unlocked;
              out = self.conditional_expected_number_of_purchases_up_to_time(t, xs, txs, Ts, rule);
            }
            return to_numpy(std::move(out));
          },
          py::arg("t"), py::arg("frequency"), py::arg("recency"), py::arg(third),
          py::arg("impossible_histories") = "reject");
}

// conditional_probability_alive and expected_number_of_purchases_up_to_time of the
// continuous-time models.
template <typename Model, typename... Bases>
void bind_continuous_predictions(py::class_<Model, Bases...>& cls) {
  cls.def(
         "conditional_probability_alive",
         [](const Model& self, const DArray& x, const DArray& tx, const DArray& T,
            const std::string& histories) {
           const ImpossibleHistories rule = impossible_histories(histories);
           auto xs = column(x, "frequency"), txs = column(tx, "recency"), Ts = column(T, "T");
           std::vector<double> out;
           {
             py::gil_scoped_release unlocked;
             out = self.conditional_probability_alive(xs, txs, Ts, rule);
           }
           return to_numpy(std::move(out));
         },
         py::arg("frequency"), py::arg("recency"), py::arg("T"),
         py::arg("impossible_histories") = "reject")
      .def(
          "expected_number_of_purchases_up_to_time",
          [](const Model& self, const DArray& t) {
            auto ts = column(t, "t");
            std::vector<double> out;
            {
              py::gil_scoped_release unlocked;
              out = self.expected_number_of_purchases_up_to_time(ts);
            }
            return to_numpy(std::move(out));
          },
          py::arg("t"));
}

// compute_standard_errors of BG/NBD and MBG/NBD (standard errors after a fit without them).
template <typename Model, typename... Bases>
void bind_compute_standard_errors(py::class_<Model, Bases...>& cls) {
  cls.def(
      "compute_standard_errors",
      [](const Model& self, const DArray& x, const DArray& tx, const DArray& T,
         const std::optional<DArray>& weights, double penalizer) {
        auto xs = column(x, "frequency"), txs = column(tx, "recency"), Ts = column(T, "T");
        auto ws = optional_column(weights, "weights");
        py::gil_scoped_release unlocked;
        const auto se = self.compute_standard_errors(xs, txs, Ts, ws, penalizer);
        return std::vector<double>{se.r, se.alpha, se.a, se.b};
      },
      py::arg("frequency"), py::arg("recency"), py::arg("T"), py::arg("weights") = py::none(),
      py::arg("penalizer") = 0.0,
      "Delta-method standard errors of params on these rows (list in param_names order).");
  cls.def(
      "with_standard_errors",
      [](const Model& self, const DArray& x, const DArray& tx, const DArray& T,
         const std::optional<DArray>& weights, double penalizer) {
        auto xs = column(x, "frequency"), txs = column(tx, "recency"), Ts = column(T, "T");
        auto ws = optional_column(weights, "weights");
        py::gil_scoped_release unlocked;
        return self.with_standard_errors(xs, txs, Ts, ws, penalizer);
      },
      py::arg("frequency"), py::arg("recency"), py::arg("T"), py::arg("weights") = py::none(),
      py::arg("penalizer") = 0.0,
      "A copy with these standard errors; its report is not converged if any is NaN.");
}

template <typename Model, typename... Bases>
void bind_probability_of_n(py::class_<Model, Bases...>& cls, const char* t_name,
                           const char* n_name) {
  cls.def(
      "probability_of_n_purchases_up_to_time",
      [](const Model& self, double t, double n) {
        py::gil_scoped_release unlocked;
        return self.probability_of_n_purchases_up_to_time(t, n);
      },
      py::arg(t_name), py::arg(n_name));
}

RfmSegmentGrid segment_grid(const std::optional<std::vector<std::string>>& names) {
  if (!names) return default_rfm_segments();
  if (names->size() != 25) {
    throw_invalid("segments", "must hold 25 names (5 R scores x 5 FM scores), got " +
                                  std::to_string(names->size()));
  }
  RfmSegmentGrid grid;
  for (std::size_t i = 0; i < 25; ++i) grid[i] = (*names)[i];
  return grid;
}

py::dict summary_to_dict(RfmSummary&& s, bool with_amounts) {
  py::dict out;
  out["customer_id"] = to_numpy(std::move(s.customer_id));
  out["frequency"] = to_numpy(std::move(s.frequency));
  out["recency"] = to_numpy(std::move(s.recency));
  out["T"] = to_numpy(std::move(s.T));
  if (with_amounts) out["monetary_value"] = to_numpy(std::move(s.monetary_value));
  out["first_purchase"] = to_numpy(std::move(s.first_purchase));
  return out;
}

py::dict holdout_to_dict(CalibrationHoldoutSummary&& s, bool with_amounts) {
  py::dict out;
  out["customer_id"] = to_numpy(std::move(s.customer_id));
  out["frequency_cal"] = to_numpy(std::move(s.frequency_cal));
  out["recency_cal"] = to_numpy(std::move(s.recency_cal));
  out["T_cal"] = to_numpy(std::move(s.T_cal));
  if (with_amounts) out["monetary_value_cal"] = to_numpy(std::move(s.monetary_value_cal));
  out["frequency_holdout"] = to_numpy(std::move(s.frequency_holdout));
  if (with_amounts) out["monetary_value_holdout"] = to_numpy(std::move(s.monetary_value_holdout));
  out["duration_holdout"] = s.duration_holdout;
  return out;
}

// Refuses both amount columns at once: the float and the exact minor-unit column.
void check_one_amount_column(bool has_amounts, bool has_minor) {
  if (has_amounts && has_minor) {
    throw_invalid("amounts", "pass either amounts or amounts_minor, not both");
  }
}

// Calls `call` with the GIL released: call(amounts) for the float column, call(amounts_minor,
// scale) for the exact minor-unit column, call() for neither.
template <typename F>
auto call_with_amounts(const std::optional<DArray>& amounts,
                       const std::optional<IArray>& amounts_minor, int scale, F&& call) {
  if (amounts) {
    auto a = column(*amounts, "amounts");
    py::gil_scoped_release unlocked;
    return call(a);
  }
  if (amounts_minor) {
    auto a = column(*amounts_minor, "amounts_minor");
    py::gil_scoped_release unlocked;
    return call(a, scale);
  }
  py::gil_scoped_release unlocked;
  return call();
}


// ---- statistics.hpp ----

// Statistics rebuilt from a pickled state (kind, columns...) or from user columns: compressed again
// (a no-op for rows that already are compressed) and so validated.
TransactionStatistics transaction_statistics_from(const DArray& x, const DArray& tx, const DArray& T,
                                                  const std::optional<DArray>& weights,
                                                  StatisticsKind kind) {
  auto xs = column(x, "frequency"), txs = column(tx, "recency"), Ts = column(T, "T");
  auto ws = optional_column(weights, "weights");
  py::gil_scoped_release unlocked;
  return transaction_statistics(xs, txs, Ts, ws, kind);
}

SpendStatistics spend_statistics_from(const DArray& x, const DArray& m,
                                      const std::optional<DArray>& weights) {
  auto xs = column(x, "frequency"), ms = column(m, "monetary_value");
  auto ws = optional_column(weights, "weights");
  py::gil_scoped_release unlocked;
  return spend_statistics(xs, ms, ws);
}

void bind_statistics(py::module_& m) {
  py::enum_<StatisticsKind>(m, "StatisticsKind", "Which fits statistics are for (statistics.hpp).")
      .value("continuous", StatisticsKind::continuous)
      .value("discrete", StatisticsKind::discrete);

  py::class_<TransactionStatistics> ts(
      m, "TransactionStatistics",
      "Distinct (frequency, recency, T) rows with summed weights, sorted: what a BG/NBD, MBG/NBD, "
      "Pareto/NBD or (kind discrete) BG/BB fit needs of its data (statistics.hpp). Columns are "
      "read-only numpy views.");
  ts.def(py::init(&transaction_statistics_from), py::arg("frequency"), py::arg("recency"),
         py::arg("T"), py::arg("weights") = py::none(),
         py::arg("kind") = StatisticsKind::continuous)
      .def_readonly("kind", &TransactionStatistics::kind)
      .def_property_readonly("frequency", [](py::object self) {
        return column_view(self, self.cast<const TransactionStatistics&>().frequency);
      })
      .def_property_readonly("recency", [](py::object self) {
        return column_view(self, self.cast<const TransactionStatistics&>().recency);
      })
      .def_property_readonly("T", [](py::object self) {
        return column_view(self, self.cast<const TransactionStatistics&>().T);
      })
      .def_property_readonly("weight", [](py::object self) {
        return column_view(self, self.cast<const TransactionStatistics&>().weight);
      })
      .def_property_readonly("total_weight", &TransactionStatistics::total_weight)
      .def("__len__", &TransactionStatistics::size)
      .def(
          "merge",
          [](const TransactionStatistics& a, const TransactionStatistics& b) {
            py::gil_scoped_release unlocked;
            return merge(a, b);
          },
          py::arg("other"), "The statistics of both parts (equal rows' weights added).")
      .def("__eq__",
           [](const TransactionStatistics& a, const TransactionStatistics& b) {
             return a.kind == b.kind && a.frequency == b.frequency && a.recency == b.recency &&
                    a.T == b.T && a.weight == b.weight;
           })
      .def(py::pickle(
          [](py::object self) {
            const auto& s = self.cast<const TransactionStatistics&>();
            return py::make_tuple(s.kind, column_view(self, s.frequency),
                                  column_view(self, s.recency), column_view(self, s.T),
                                  column_view(self, s.weight));
          },
          [](const py::tuple& state) {
            if (state.size() != 5) throw_invalid("state", "must hold 5 items");
            return transaction_statistics_from(state[1].cast<DArray>(), state[2].cast<DArray>(),
                                               state[3].cast<DArray>(), state[4].cast<DArray>(),
                                               state[0].cast<StatisticsKind>());
          }));

  py::class_<SpendStatistics> ss(
      m, "SpendStatistics",
      "Distinct (frequency, monetary_value) rows of the repeat buyers with summed weights, "
      "sorted: what a Gamma-Gamma fit needs of its data (statistics.hpp).");
  ss.def(py::init(&spend_statistics_from), py::arg("frequency"), py::arg("monetary_value"),
         py::arg("weights") = py::none())
      .def_property_readonly("frequency", [](py::object self) {
        return column_view(self, self.cast<const SpendStatistics&>().frequency);
      })
      .def_property_readonly("monetary_value", [](py::object self) {
        return column_view(self, self.cast<const SpendStatistics&>().monetary_value);
      })
      .def_property_readonly("weight", [](py::object self) {
        return column_view(self, self.cast<const SpendStatistics&>().weight);
      })
      .def_property_readonly("total_weight", &SpendStatistics::total_weight)
      .def("__len__", &SpendStatistics::size)
      .def(
          "merge",
          [](const SpendStatistics& a, const SpendStatistics& b) {
            py::gil_scoped_release unlocked;
            return merge(a, b);
          },
          py::arg("other"), "The statistics of both parts (equal rows' weights added).")
      .def("__eq__",
           [](const SpendStatistics& a, const SpendStatistics& b) {
             return a.frequency == b.frequency && a.monetary_value == b.monetary_value &&
                    a.weight == b.weight;
           })
      .def(py::pickle(
          [](py::object self) {
            const auto& s = self.cast<const SpendStatistics&>();
            return py::make_tuple(column_view(self, s.frequency),
                                  column_view(self, s.monetary_value), column_view(self, s.weight));
          },
          [](const py::tuple& state) {
            if (state.size() != 3) throw_invalid("state", "must hold 3 items");
            return spend_statistics_from(state[0].cast<DArray>(), state[1].cast<DArray>(),
                                         state[2].cast<DArray>());
          }));
}

}  // namespace

void bind_value(py::module_& m) {
  bind_statistics(m);

  // ---- summary.hpp ----
  py::enum_<TimeUnit>(m, "TimeUnit", "The period a transaction is counted in (summary.hpp).")
      .value("day", TimeUnit::day)
      .value("week", TimeUnit::week)
      .value("month", TimeUnit::month)
      .value("hour", TimeUnit::hour);
  m.def("parse_time_unit", &parse_time_unit, py::arg("text"), py::arg("field") = "unit",
        "TimeUnit from 'hour', 'day', 'week', 'month' or lifetimes' 'H', 'h', 'D', 'W', 'M'.");

  m.def(
      "summary_data_from_transaction_data",
      [](const IArray& customer_ids, const IArray& times, const std::optional<DArray>& amounts,
         const std::optional<IArray>& amounts_minor, IntArg<"scale", int> scale, TimeUnit unit, double multiplier,
         std::optional<TimeArg<"observation_period_end">> observation_period_end, bool include_first_transaction,
         bool drop_customers_after_end) {
        check_one_amount_column(amounts.has_value(), amounts_minor.has_value());
        auto ids = column(customer_ids, "customer_ids"), ts = column(times, "times");
        SummaryOptions o;
        o.unit = unit;
        o.multiplier = multiplier;
        o.observation_period_end = observation_period_end;
        o.include_first_transaction = include_first_transaction;
        o.drop_customers_after_end = drop_customers_after_end;
        RfmSummary s = call_with_amounts(amounts, amounts_minor, scale, [&](auto... a) {
          return summary_data_from_transaction_data(ids, ts, a..., o);
        });
        return summary_to_dict(std::move(s), amounts.has_value() || amounts_minor.has_value());
      },
      py::arg("customer_ids"), py::arg("times"), py::kw_only(), py::arg("amounts") = py::none(),
      py::arg("amounts_minor") = py::none(), py::arg("scale") = 2, py::arg("unit") = TimeUnit::day,
      py::arg("multiplier") = 1.0, py::arg("observation_period_end") = py::none(),
      py::arg("include_first_transaction") = false, py::arg("drop_customers_after_end") = false,
      "Per-customer frequency, recency, T (and monetary_value) as a dict of numpy arrays, sorted by "
      "customer id. times are UTC microseconds; amounts are major units (float64), or "
      "amounts_minor exact minor units with `scale` decimals.");

  m.def(
      "calibration_and_holdout_data",
      [](const IArray& customer_ids, const IArray& times, TimeArg<"calibration_period_end"> calibration_period_end,
         const std::optional<DArray>& amounts, const std::optional<IArray>& amounts_minor,
         IntArg<"scale", int> scale, TimeUnit unit, double multiplier,
         std::optional<TimeArg<"observation_period_end">> observation_period_end, bool include_first_transaction,
         bool holdout_monetary_per_period) {
        check_one_amount_column(amounts.has_value(), amounts_minor.has_value());
        auto ids = column(customer_ids, "customer_ids"), ts = column(times, "times");
        CalibrationOptions o;
        o.unit = unit;
        o.multiplier = multiplier;
        o.observation_period_end = observation_period_end;
        o.include_first_transaction = include_first_transaction;
        o.holdout_monetary_per_period = holdout_monetary_per_period;
        CalibrationHoldoutSummary s =
            call_with_amounts(amounts, amounts_minor, scale, [&](auto... a) {
              return calibration_and_holdout_data(ids, ts, a..., calibration_period_end, o);
            });
        return holdout_to_dict(std::move(s), amounts.has_value() || amounts_minor.has_value());
      },
      py::arg("customer_ids"), py::arg("times"), py::arg("calibration_period_end"), py::kw_only(),
      py::arg("amounts") = py::none(), py::arg("amounts_minor") = py::none(),
      py::arg("scale") = 2, py::arg("unit") = TimeUnit::day, py::arg("multiplier") = 1.0,
      py::arg("observation_period_end") = py::none(), py::arg("include_first_transaction") = false,
      py::arg("holdout_monetary_per_period") = false,
      "The calibration/holdout split as a dict of numpy arrays (duration_holdout a float).");

  m.def(
      "cumulative_repeat_transactions",
      [](const IArray& customer_ids, const IArray& times, TimeUnit unit,
         std::optional<TimeArg<"start">> start, IntArg<"periods", std::int64_t> periods) {
        auto ids = column(customer_ids, "customer_ids"), ts = column(times, "times");
        RepeatTransactionOptions o;
        o.unit = unit;
        o.start = start;
        o.periods = periods;
        std::vector<std::int64_t> out;
        {
          py::gil_scoped_release unlocked;
          out = cumulative_repeat_transactions(ids, ts, o);
        }
        return to_numpy(std::move(out));
      },
      py::arg("customer_ids"), py::arg("times"), py::kw_only(), py::arg("unit") = TimeUnit::week,
      py::arg("start") = py::none(), py::arg("periods") = 0,
      "Cumulative repeat transactions at the end of each bucket (int64 array).");

  // ---- rfm.hpp ----
  m.def("default_rfm_segments", []() {
    const RfmSegmentGrid& grid = default_rfm_segments();
    return std::vector<std::string>(grid.begin(), grid.end());
  }, "The 25 default segment names; element (R - 1) * 5 + (FM - 1) names scores R, FM.");
  py::enum_<RfmTies>(m, "RfmTies", "How tied values are scored (rfm.hpp).")
      .value("shared", RfmTies::shared)
      .value("row_order", RfmTies::row_order);
  m.def(
      "quintile_scores",
      [](const DArray& values, const std::string& field, RfmTies ties) {
        auto v = column(values, field.c_str());
        std::vector<std::int32_t> out;
        {
          py::gil_scoped_release unlocked;
          out = quintile_scores(v, field, ties);
        }
        return to_numpy(std::move(out));
      },
      py::arg("values"), py::arg("field") = "values", py::arg("ties") = RfmTies::shared);
  m.def(
      "rfm_segment",
      [](IntArg<"r", int> r, IntArg<"fm", int> fm, const std::optional<std::vector<std::string>>& segments) {
        return rfm_segment(r, fm, segment_grid(segments));
      },
      py::arg("r"), py::arg("fm"), py::arg("segments") = py::none());
  m.def(
      "rfm_scores",
      [](const DArray& recency_value, const DArray& frequency, const DArray& monetary,
         const std::optional<std::vector<std::string>>& segments, RfmTies ties) {
        auto r = column(recency_value, "recency_value"), f = column(frequency, "frequency"),
             mo = column(monetary, "monetary");
        RfmOptions o;
        o.segments = segment_grid(segments);
        o.ties = ties;
        RfmScores s;
        {
          py::gil_scoped_release unlocked;
          s = rfm_scores(r, f, mo, o);
        }
        py::dict out;
        out["r"] = to_numpy(std::move(s.r));
        out["f"] = to_numpy(std::move(s.f));
        out["m"] = to_numpy(std::move(s.m));
        out["fm"] = to_numpy(std::move(s.fm));
        out["segment"] = texts_to_py(s.segment);
        return out;
      },
      py::arg("recency_value"), py::arg("frequency"), py::arg("monetary"),
      py::arg("segments") = py::none(), py::arg("ties") = RfmTies::shared,
      "Scores r, f, m, fm (int32 arrays) and segment (list of str), in input order.");

  // ---- models.hpp ----
  m.def("periods_per_month", &periods_per_month, py::arg("freq"),
        "Data time units per month for lifetimes' freq letter: D 30, W 4.345, M 1, H 720.");

  m.def("set_model_threads", &set_model_threads, py::arg("threads"),
        "Worker threads the models may use per call (0 = hardware concurrency; models.hpp).");
  m.def("model_threads", &model_threads, "The effective worker thread count of the models.");

  py::class_<FitReport> report(m, "FitReport", "How a fit ended (models.hpp).");
  def_field(report, "converged", &FitReport::converged);
  def_field(report, "iterations", &FitReport::iterations);
  def_field(report, "log_likelihood", &FitReport::log_likelihood);
  def_field(report, "gradient_norm", &FitReport::gradient_norm);
  def_field(report, "message", &FitReport::message);
  finish_struct(report, {"converged", "iterations", "log_likelihood", "gradient_norm", "message"});
  report.def(py::pickle([](const FitReport& self) { return report_to_tuple(self); },
                        [](const py::tuple& state) { return report_from_tuple(state); }));

  py::class_<TransactionModel> transaction_model(
      m, "TransactionModel", "A model that predicts repeat purchases (base of the four models).");
  transaction_model.def(
      "conditional_expected_number_of_purchases_up_to_time",
      [](const TransactionModel& self, double t, const DArray& x, const DArray& tx,
         const DArray& T) {
        auto xs = column(x, "frequency"), txs = column(tx, "recency"), Ts = column(T, "T");
        std::vector<double> out;
        {
          py::gil_scoped_release unlocked;
          out = self.conditional_expected_number_of_purchases_up_to_time(t, xs, txs, Ts);
        }
        return to_numpy(std::move(out));
      },
      py::arg("t"), py::arg("frequency"), py::arg("recency"), py::arg("T"));

  py::class_<BetaGeoModel, TransactionModel> bg(m, "BetaGeoModel", "BG/NBD (models.hpp).");
  bind_model_common<BetaGeoModel, BetaGeoParams>(bg);
  bind_three_column_fit<BetaGeoModel, BetaGeoParams>(bg, "T");
  bind_continuous_predictions(bg);
  bind_compute_standard_errors(bg);
  bind_probability_of_n(bg, "t", "n");

  py::class_<ModifiedBetaGeoModel, TransactionModel> mbg(m, "ModifiedBetaGeoModel",
                                                         "MBG/NBD (models.hpp).");
  bind_model_common<ModifiedBetaGeoModel, ModifiedBetaGeoParams>(mbg);
  bind_three_column_fit<ModifiedBetaGeoModel, ModifiedBetaGeoParams>(mbg, "T");
  bind_probability_of_n(mbg, "t", "n");
  bind_continuous_predictions(mbg);
  bind_compute_standard_errors(mbg);

  py::class_<ParetoNBDModel, TransactionModel> pnbd(m, "ParetoNBDModel",
                                                    "Pareto/NBD (models.hpp).");
  bind_model_common<ParetoNBDModel, ParetoNBDParams>(pnbd);
  bind_three_column_fit<ParetoNBDModel, ParetoNBDParams>(pnbd, "T");
  bind_continuous_predictions(pnbd);
  bind_probability_of_n(pnbd, "t", "n");
  pnbd.def(
      "conditional_probability_of_n_purchases_up_to_time",
      [](const ParetoNBDModel& self, double n, double t, const DArray& x, const DArray& tx,
         const DArray& T, const std::string& histories) {
        const ImpossibleHistories rule = impossible_histories(histories);
        auto xs = column(x, "frequency"), txs = column(tx, "recency"), Ts = column(T, "T");
        std::vector<double> out;
        {
          py::gil_scoped_release unlocked;
          out = self.conditional_probability_of_n_purchases_up_to_time(n, t, xs, txs, Ts, rule);
        }
        return to_numpy(std::move(out));
      },
      py::arg("n"), py::arg("t"), py::arg("frequency"), py::arg("recency"), py::arg("T"),
      py::arg("impossible_histories") = "reject");

  py::class_<BetaGeoBetaBinomModel, TransactionModel> bgbb(m, "BetaGeoBetaBinomModel",
                                                           "BG/BB, discrete time (models.hpp).");
  bind_model_common<BetaGeoBetaBinomModel, BetaGeoBetaBinomParams>(bgbb);
  bind_three_column_fit<BetaGeoBetaBinomModel, BetaGeoBetaBinomParams>(bgbb, "n_periods");
  bind_probability_of_n(bgbb, "n_periods", "n");
  bgbb.def(
          "conditional_probability_alive",
          [](const BetaGeoBetaBinomModel& self, const DArray& x, const DArray& tx,
             const DArray& n, double m_periods_in_future, const std::string& histories) {
            const ImpossibleHistories rule = impossible_histories(histories);
            auto xs = column(x, "frequency"), txs = column(tx, "recency"),
                 ns = column(n, "n_periods");
            std::vector<double> out;
            {
              py::gil_scoped_release unlocked;
              out = self.conditional_probability_alive(xs, txs, ns, m_periods_in_future, rule);
            }
            return to_numpy(std::move(out));
          },
          py::arg("frequency"), py::arg("recency"), py::arg("n_periods"),
          py::arg("m_periods_in_future") = 0.0, py::arg("impossible_histories") = "reject")
      .def(
          "expected_number_of_transactions_in_first_n_periods",
          [](const BetaGeoBetaBinomModel& self, const DArray& n) {
            auto ns = column(n, "n");
            std::vector<double> out;
            {
              py::gil_scoped_release unlocked;
              out = self.expected_number_of_transactions_in_first_n_periods(ns);
            }
            return to_numpy(std::move(out));
          },
          py::arg("n"));

  py::class_<GammaGammaModel> gg(m, "GammaGammaModel", "Gamma-Gamma spend (models.hpp).");
  bind_model_common<GammaGammaModel, GammaGammaParams>(gg);
  gg.def(
      "covariance",
      [](const GammaGammaModel& self, const DArray& x, const DArray& mv,
         const std::optional<DArray>& weights, double penalizer) {
        auto xs = column(x, "frequency"), ms = column(mv, "monetary_value");
        auto ws = optional_column(weights, "weights");
        py::gil_scoped_release unlocked;
        return self.covariance(xs, ms, ws, penalizer);
      },
      py::arg("frequency"), py::arg("monetary_value"), py::arg("weights") = py::none(),
      py::arg("penalizer") = 0.0,
      "Delta-method covariance of params on these rows (3*3 list, row-major).");
  gg.def_static(
        "fit",
        [](const DArray& x, const DArray& mv, const std::optional<DArray>& weights,
           double penalizer, std::vector<double> initial, IntArg<"max_iterations", int> max_iterations, double tolerance,
           IntArg<"threads", unsigned> threads, bool q_constraint) {
          auto xs = column(x, "frequency"), ms = column(mv, "monetary_value");
          auto ws = optional_column(weights, "weights");
          FitOptions o = fit_options(penalizer, std::move(initial), max_iterations, tolerance,
                                     true, threads);
          py::gil_scoped_release unlocked;
          return GammaGammaModel::fit(xs, ms, ws, o, q_constraint);
        },
        py::arg("frequency"), py::arg("monetary_value"), py::arg("weights") = py::none(),
        py::arg("penalizer") = 0.0, py::arg("initial") = std::vector<double>{},
        py::arg("max_iterations") = 1000, py::arg("tolerance") = 1e-10, py::arg("threads") = 0u,
        py::arg("q_constraint") = false)
      .def(
          "log_likelihood",
          [](const GammaGammaModel& self, const DArray& x, const DArray& mv,
             const std::optional<DArray>& weights) {
            auto xs = column(x, "frequency"), ms = column(mv, "monetary_value");
            auto ws = optional_column(weights, "weights");
            py::gil_scoped_release unlocked;
            return self.log_likelihood(xs, ms, ws);
          },
          py::arg("frequency"), py::arg("monetary_value"), py::arg("weights") = py::none())
      .def(
          "conditional_expected_average_profit",
          [](const GammaGammaModel& self, const DArray& x, const DArray& mv) {
            auto xs = column(x, "frequency"), ms = column(mv, "monetary_value");
            std::vector<double> out;
            {
              py::gil_scoped_release unlocked;
              out = self.conditional_expected_average_profit(xs, ms);
            }
            return to_numpy(std::move(out));
          },
          py::arg("frequency"), py::arg("monetary_value"))
      .def(
          "customer_lifetime_value",
          [](const GammaGammaModel& self, const TransactionModel& transaction_model,
             const DArray& x, const DArray& tx, const DArray& T, const DArray& mv, IntArg<"months", int> months,
             double discount_rate, double periods) {
            auto xs = column(x, "frequency"), txs = column(tx, "recency"), Ts = column(T, "T"),
                 ms = column(mv, "monetary_value");
            ClvOptions o;
            o.months = months;
            o.discount_rate = discount_rate;
            o.periods_per_month = periods;
            std::vector<double> out;
            {
              py::gil_scoped_release unlocked;
              out = self.customer_lifetime_value(transaction_model, xs, txs, Ts, ms, o);
            }
            return to_numpy(std::move(out));
          },
          py::arg("transaction_model"), py::arg("frequency"), py::arg("recency"), py::arg("T"),
          py::arg("monetary_value"), py::arg("months") = 12, py::arg("discount_rate") = 0.01,
          py::arg("periods_per_month") = 30.0,
          "lifetimes' customer_lifetime_value; transaction_model is any of the four transaction "
          "models.");
}

}  // namespace crmkit_py
