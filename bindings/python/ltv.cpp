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
#include "crmkit/ltv.hpp"
#include "crmkit/validation.hpp"

namespace crmkit_py {

namespace {

using namespace crmkit;

using DArray = py::array_t<double, py::array::c_style | py::array::forcecast>;
using IArray = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;

// A numpy array owning `v` (moved to the heap; the capsule frees it with the array).
template <typename T>
py::array owned(std::vector<T>&& v) {
  auto* heap = new std::vector<T>(std::move(v));
  py::capsule owner(heap, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>({static_cast<py::ssize_t>(heap->size())},
                        {static_cast<py::ssize_t>(sizeof(T))}, heap->data(), owner);
}

// A view of a 1-dimensional array; Error{invalid_argument} naming `field` for any other shape.
template <typename T, int F>
std::span<const T> view(const py::array_t<T, F>& a, const char* field) {
  if (a.ndim() != 1) {
    throw_invalid(field, "must be a 1-dimensional array, got " + std::to_string(a.ndim()) +
                             " dimensions");
  }
  return {a.data(), static_cast<std::size_t>(a.shape(0))};
}

// ValueMethod codes as uint8 (0 model, 1 run_rate): cheap to turn into a pandas Categorical.
py::array method_codes(const std::vector<ValueMethod>& methods) {
  std::vector<std::uint8_t> codes(methods.size());
  for (std::size_t i = 0; i < methods.size(); ++i) codes[i] = static_cast<std::uint8_t>(methods[i]);
  return owned(std::move(codes));
}

py::dict historical_to_py(HistoricalValue&& h) {
  py::dict out;
  out["currency"] = h.currency;
  out["customer_id"] = owned(std::move(h.customer_id));
  out["net_minor"] = owned(std::move(h.net_minor));
  out["purchases"] = owned(std::move(h.purchases));
  return out;
}

struct Customers {
  IArray id;
  DArray x, tx, T, m;
  IArray hist;
  CustomerValueInputs inputs(const Currency& currency) const {
    return CustomerValueInputs{currency,
                               view(id, "customer_id"),
                               view(x, "frequency"),
                               view(tx, "recency"),
                               view(T, "T"),
                               view(m, "monetary_value"),
                               view(hist, "historical_minor")};
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
  out["predicted"] = owned(std::move(v.predicted));
  out["actual"] = owned(std::move(v.actual));
  out["error"] = owned(std::move(v.error));
  out["bucket_frequency"] = owned(std::move(v.bucket_frequency));
  out["bucket_count"] = owned(std::move(v.bucket_count));
  out["bucket_mean_predicted"] = owned(std::move(v.bucket_mean_predicted));
  out["bucket_mean_actual"] = owned(std::move(v.bucket_mean_actual));
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
          h = historical_value(view(customer_ids, "customer_ids"), view(amount_minor, "amount_minor"),
                               view(refunded_minor, "refunded_minor"), currency);
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
         std::int64_t min_repeat_purchases, double min_tenure, double run_rate_tenure_floor,
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
        out["value_minor"] = owned(std::move(v.value_minor));
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
          v = potential_value(view(customer_ids, "customer_ids"),
                              view(historical_minor, "historical_minor"),
                              view(current_minor, "current_minor"), currency,
                              view(referrer_ids, "referrer_ids"), view(referred_ids, "referred_ids"),
                              o);
        }
        py::dict out;
        out["currency"] = v.currency;
        out["value_minor"] = owned(std::move(v.value_minor));
        out["converted_referrals"] = owned(std::move(v.converted_referrals));
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
         double discount_rate, double discount_step, std::int64_t min_repeat_purchases,
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
                             view(referrer_ids, "referrer_ids"), view(referred_ids, "referred_ids"),
                             o);
        }
        py::dict out;
        out["currency"] = v.currency;
        out["method_code"] = method_codes(v.method);
        out["customer_id"] = owned(std::move(v.customer_id));
        out["historical_minor"] = owned(std::move(v.historical_minor));
        out["current_minor"] = owned(std::move(v.current_minor));
        out["potential_minor"] = owned(std::move(v.potential_minor));
        out["total_minor"] = owned(std::move(v.total_minor));
        out["converted_referrals"] = owned(std::move(v.converted_referrals));
        out["referral_value"] = Money::from_minor(v.referral_value_minor, v.currency);
        return out;
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
         double duration_holdout, std::int64_t buckets) {
        HoldoutValidationOptions o;
        o.buckets = buckets;
        HoldoutValidation v;
        {
          py::gil_scoped_release unlocked;
          v = calibration_vs_holdout(transaction_model, view(frequency_cal, "frequency_cal"),
                                     view(recency_cal, "recency_cal"), view(T_cal, "T_cal"),
                                     view(frequency_holdout, "frequency_holdout"),
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
         std::int64_t buckets) {
        HoldoutValidationOptions o;
        o.buckets = buckets;
        HoldoutValidation v;
        {
          py::gil_scoped_release unlocked;
          v = calibration_vs_holdout(view(frequency_cal, "frequency_cal"),
                                     view(predicted, "predicted"), view(actual, "actual"), o);
        }
        return validation_to_py(std::move(v));
      },
      py::arg("frequency_cal"), py::arg("predicted"), py::arg("actual"), py::arg("buckets") = 7,
      "Per customer, per frequency bucket (0..buckets-1 and buckets+), totals, MAE, RMSE, bias "
      "and total relative error (validation.hpp): a dict.");
}

}  // namespace crmkit_py
