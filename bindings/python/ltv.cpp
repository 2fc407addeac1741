// Lifetime value in three parts (ltv.hpp) and calibration-vs-holdout validation (validation.hpp).
// Columns cross as 1-dimensional numpy arrays (int64 ids and minor units, float64 values); results
// come back as dicts of numpy arrays that own the C++ vectors, money as int64 minor units plus the
// Currency (python/crmkit/ltv.py turns them into decimal.Decimal and DataFrames). Rates that touch
// money (uplift) are decimal.Decimal, str or int, never float. Every call releases the GIL around
// the crmkit call.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "conversions.hpp"
#include "crmkit/value/ltv.hpp"
#include "crmkit/value/validation.hpp"

namespace crmkit_py {

// ValueMethod codes as uint8 (0 model, 1 run_rate): cheap to turn into a pandas Categorical.
py::array method_codes(const std::vector<crmkit::ValueMethod>& methods) {
  std::vector<std::uint8_t> codes(methods.size());
  for (std::size_t i = 0; i < methods.size(); ++i) codes[i] = static_cast<std::uint8_t>(methods[i]);
  return to_numpy(std::move(codes));
}

py::dict lifetime_value_to_py(crmkit::LifetimeValue&& v) {
  py::dict out;
  out["currency"] = v.currency;
  out["method_code"] = method_codes(v.method);
  out["customer_id"] = to_numpy(std::move(v.customer_id));
  out["historical_minor"] = to_numpy(std::move(v.historical_minor));
  out["current_minor"] = to_numpy(std::move(v.current_minor));
  out["potential_minor"] = to_numpy(std::move(v.potential_minor));
  out["total_minor"] = to_numpy(std::move(v.total_minor));
  out["converted_referrals"] = to_numpy(std::move(v.converted_referrals));
  out["referral_value"] = crmkit::Money::from_minor(v.referral_value_minor, v.currency);
  return out;
}

namespace {

using namespace crmkit;


py::dict historical_to_py(HistoricalValue&& h) {
  py::dict out;
  out["currency"] = h.currency;
  out["customer_id"] = to_numpy(std::move(h.customer_id));
  out["net_minor"] = to_numpy(std::move(h.net_minor));
  out["purchases"] = to_numpy(std::move(h.purchases));
  return out;
}

struct Customers {
  IArray id;
  DArray x, tx, T, m;
  IArray hist;
  CustomerValueInputs inputs(const Currency& currency) const {
    return CustomerValueInputs{currency,
                               column(id, "customer_id"),
                               column(x, "frequency"),
                               column(tx, "recency"),
                               column(T, "T"),
                               column(m, "monetary_value"),
                               column(hist, "historical_minor")};
  }
};

CurrentValueOptions current_options(double discount_rate, double discount_step,
                                    std::int64_t min_repeat_purchases, double min_tenure,
                                    double run_rate_tenure_floor, RoundingMode rounding) {
  CurrentValueOptions o;
  o.discount_rate = discount_rate;
  o.discount_step = discount_step;
  o.min_repeat_purchases = min_repeat_purchases;
  o.min_tenure = min_tenure;
  o.run_rate_tenure_floor = run_rate_tenure_floor;
  o.rounding = rounding;
  return o;
}

PotentialValueOptions potential_options(const std::optional<Money>& referral_value,
                                        py::handle uplift, RoundingMode rounding) {
  PotentialValueOptions o;
  o.referral_value = referral_value;
  o.uplift = decimal_from_py(uplift, "uplift", true);
  o.rounding = rounding;
  return o;
}

py::dict validation_to_py(HoldoutValidation&& v) {
  py::dict out;
  out["predicted"] = to_numpy(std::move(v.predicted));
  out["actual"] = to_numpy(std::move(v.actual));
  out["error"] = to_numpy(std::move(v.error));
  out["bucket_frequency"] = to_numpy(std::move(v.bucket_frequency));
  out["bucket_count"] = to_numpy(std::move(v.bucket_count));
  out["bucket_mean_predicted"] = to_numpy(std::move(v.bucket_mean_predicted));
  out["bucket_mean_actual"] = to_numpy(std::move(v.bucket_mean_actual));
  out["total_predicted"] = v.total_predicted;
  out["total_actual"] = v.total_actual;
  out["mae"] = v.mae;
  out["rmse"] = v.rmse;
  out["bias"] = v.bias;
  out["total_relative_error"] =
      v.total_relative_error ? py::object(py::float_(*v.total_relative_error)) : py::none();
  return out;
}

}  // namespace

void bind_ltv(py::module_& m) {
  py::enum_<ValueMethod>(m, "ValueMethod", "How a customer's current value was computed (ltv.hpp).")
      .value("model", ValueMethod::model)
      .value("run_rate", ValueMethod::run_rate);

  // ---- historical ----
  m.def(
      "historical_value",
      [](const IArray& customer_ids, const IArray& amount_minor, const IArray& refunded_minor,
         const Currency& currency) {
        HistoricalValue h;
        {
          py::gil_scoped_release unlocked;
          h = historical_value(column(customer_ids, "customer_ids"), column(amount_minor, "amount_minor"),
                               column(refunded_minor, "refunded_minor"), currency);
        }
        return historical_to_py(std::move(h));
      },
      py::arg("customer_ids"), py::arg("amount_minor"), py::arg("refunded_minor"),
      py::arg("currency"),
      "Net revenue to date (sum of amount - refunded, minor units) per customer: a dict of "
      "currency, customer_id (ascending), net_minor, purchases.");

  // ---- current ----
  m.def(
      "current_value",
      [](const IArray& customer_id, const DArray& frequency, const DArray& recency, const DArray& T,
         const DArray& monetary_value, const IArray& historical_minor, const Currency& currency,
         const TransactionModel& transaction_model, const GammaGammaModel& spend_model,
         double horizon, double discount_rate, double discount_step,
         IntArg<"min_repeat_purchases", std::int64_t> min_repeat_purchases, double min_tenure, double run_rate_tenure_floor,
         RoundingMode rounding) {
        const Customers c{customer_id, frequency, recency, T, monetary_value, historical_minor};
        const CurrentValueOptions o = current_options(discount_rate, discount_step,
                                                      min_repeat_purchases, min_tenure,
                                                      run_rate_tenure_floor, rounding);
        CurrentValue v;
        {
          py::gil_scoped_release unlocked;
          v = current_value(c.inputs(currency), transaction_model, spend_model, horizon, o);
        }
        py::dict out;
        out["currency"] = v.currency;
        out["method_code"] = method_codes(v.method);
        out["value_minor"] = to_numpy(std::move(v.value_minor));
        return out;
      },
      py::arg("customer_id"), py::arg("frequency"), py::arg("recency"), py::arg("T"),
      py::arg("monetary_value"), py::arg("historical_minor"), py::arg("currency"),
      py::arg("transaction_model"), py::arg("spend_model"), py::arg("horizon"),
      py::arg("discount_rate") = 0.0, py::arg("discount_step") = 1.0,
      py::arg("min_repeat_purchases") = 1, py::arg("min_tenure") = 0.0,
      py::arg("run_rate_tenure_floor") = 1.0, py::arg("rounding") = RoundingMode::half_even,
      "Expected revenue over the horizon per customer (ltv.hpp current_value): a dict of currency, "
      "value_minor and method_code (0 model, 1 run_rate).");

  // ---- potential ----
  m.def(
      "potential_value",
      [](const IArray& customer_ids, const IArray& historical_minor, const IArray& current_minor,
         const Currency& currency, const IArray& referrer_ids, const IArray& referred_ids,
         const std::optional<Money>& referral_value, py::handle uplift, RoundingMode rounding) {
        const PotentialValueOptions o = potential_options(referral_value, uplift, rounding);
        PotentialValue v;
        {
          py::gil_scoped_release unlocked;
          v = potential_value(column(customer_ids, "customer_ids"),
                              column(historical_minor, "historical_minor"),
                              column(current_minor, "current_minor"), currency,
                              column(referrer_ids, "referrer_ids"), column(referred_ids, "referred_ids"),
                              o);
        }
        py::dict out;
        out["currency"] = v.currency;
        out["value_minor"] = to_numpy(std::move(v.value_minor));
        out["converted_referrals"] = to_numpy(std::move(v.converted_referrals));
        out["referral_value"] = Money::from_minor(v.referral_value_minor, v.currency);
        return out;
      },
      py::arg("customer_ids"), py::arg("historical_minor"), py::arg("current_minor"),
      py::arg("currency"), py::arg("referrer_ids"), py::arg("referred_ids"),
      py::arg("referral_value") = py::none(), py::arg("uplift") = "0",
      py::arg("rounding") = RoundingMode::half_even,
      "Converted referrals x the value of one, plus uplift x current value (ltv.hpp "
      "potential_value): a dict of currency, value_minor, converted_referrals, referral_value.");

  // ---- all three ----
  m.def(
      "lifetime_value",
      [](const IArray& customer_id, const DArray& frequency, const DArray& recency, const DArray& T,
         const DArray& monetary_value, const IArray& historical_minor, const Currency& currency,
         const TransactionModel& transaction_model, const GammaGammaModel& spend_model,
         double horizon, const IArray& referrer_ids, const IArray& referred_ids,
         double discount_rate, double discount_step, IntArg<"min_repeat_purchases", std::int64_t> min_repeat_purchases,
         double min_tenure, double run_rate_tenure_floor, const std::optional<Money>& referral_value,
         py::handle uplift, RoundingMode rounding) {
        const Customers c{customer_id, frequency, recency, T, monetary_value, historical_minor};
        LifetimeValueOptions o;
        o.current = current_options(discount_rate, discount_step, min_repeat_purchases, min_tenure,
                                    run_rate_tenure_floor, rounding);
        o.potential = potential_options(referral_value, uplift, rounding);
        LifetimeValue v;
        {
          py::gil_scoped_release unlocked;
          v = lifetime_value(c.inputs(currency), transaction_model, spend_model, horizon,
                             column(referrer_ids, "referrer_ids"), column(referred_ids, "referred_ids"),
                             o);
        }
        return lifetime_value_to_py(std::move(v));
      },
      py::arg("customer_id"), py::arg("frequency"), py::arg("recency"), py::arg("T"),
      py::arg("monetary_value"), py::arg("historical_minor"), py::arg("currency"),
      py::arg("transaction_model"), py::arg("spend_model"), py::arg("horizon"),
      py::arg("referrer_ids"), py::arg("referred_ids"), py::arg("discount_rate") = 0.0,
      py::arg("discount_step") = 1.0, py::arg("min_repeat_purchases") = 1,
      py::arg("min_tenure") = 0.0, py::arg("run_rate_tenure_floor") = 1.0,
      py::arg("referral_value") = py::none(), py::arg("uplift") = "0",
      py::arg("rounding") = RoundingMode::half_even,
      "Historical, current, potential value and total per customer (ltv.hpp lifetime_value), as "
      "a dict of int64 minor-unit columns plus currency, method_code, converted_referrals and "
      "referral_value.");

  // ---- validation ----
  // The model overload first: an ndarray never converts to a TransactionModel, so a call with
  // arrays falls through to the second.
  m.def(
      "calibration_vs_holdout",
      [](const TransactionModel& transaction_model, const DArray& frequency_cal,
         const DArray& recency_cal, const DArray& T_cal, const DArray& frequency_holdout,
         double duration_holdout, IntArg<"buckets", std::int64_t> buckets) {
        HoldoutValidationOptions o;
        o.buckets = buckets;
        HoldoutValidation v;
        {
          py::gil_scoped_release unlocked;
          v = calibration_vs_holdout(transaction_model, column(frequency_cal, "frequency_cal"),
                                     column(recency_cal, "recency_cal"), column(T_cal, "T_cal"),
                                     column(frequency_holdout, "frequency_holdout"),
                                     duration_holdout, o);
        }
        return validation_to_py(std::move(v));
      },
      py::arg("transaction_model"), py::arg("frequency_cal"), py::arg("recency_cal"),
      py::arg("T_cal"), py::arg("frequency_holdout"), py::arg("duration_holdout"),
      py::arg("buckets") = 7,
      "Predicts holdout purchases with the model and compares them with frequency_holdout "
      "(validation.hpp).");
  m.def(
      "calibration_vs_holdout",
      [](const DArray& frequency_cal, const DArray& predicted, const DArray& actual,
         IntArg<"buckets", std::int64_t> buckets) {
        HoldoutValidationOptions o;
        o.buckets = buckets;
        HoldoutValidation v;
        {
          py::gil_scoped_release unlocked;
          v = calibration_vs_holdout(column(frequency_cal, "frequency_cal"),
                                     column(predicted, "predicted"), column(actual, "actual"), o);
        }
        return validation_to_py(std::move(v));
      },
      py::arg("frequency_cal"), py::arg("predicted"), py::arg("actual"), py::arg("buckets") = 7,
      "Per customer, per frequency bucket (0..buckets-1 and buckets+), totals, MAE, RMSE, bias "
      "and total relative error (validation.hpp): a dict.");
}

}  // namespace crmkit_py
