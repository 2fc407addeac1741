// The value engine straight from a Store (crmkit/analytics/analytics.hpp). Results come back as
// dicts of numpy arrays that own the C++ vectors (ids, numbers, int64 minor units) plus lists of
// str (external ids) and the Currency; python/crmkit/utils.py and ltv.py turn them into
// DataFrames. Every call releases the GIL around the crmkit call.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "conversions.hpp"
#include "crmkit/analytics/analytics.hpp"

namespace crmkit_py {

namespace {

using namespace crmkit;

StoreSummaryOptions summary_options(TimeUnit unit, double multiplier,
                                    const std::optional<Timestamp>& observation_period_end,
                                    bool include_first_transaction,
                                    bool drop_customers_after_end) {
  StoreSummaryOptions o;
  o.unit = unit;
  o.multiplier = multiplier;
  o.observation_period_end = observation_period_end;
  o.include_first_transaction = include_first_transaction;
  o.drop_customers_after_end = drop_customers_after_end;
  return o;
}


}  // namespace

void bind_analytics(py::module_& m) {
  m.def(
      "external_ids_of",
      [](const CustomerKeys& keys, const IArray& ids) {
        std::vector<std::string> out;
        {
          py::gil_scoped_release unlocked;
          out = external_ids_of(keys, column(ids, "ids"));
        }
        return texts_to_py(out);
      },
      py::arg("keys"), py::arg("ids"),
      "The external id of each id (a list of str), looked up in Store.customer_keys().");

  m.def(
      "summary_from_store",
      [](const Store& store, TimeUnit unit, double multiplier,
         const std::optional<TimeArg<"observation_period_end">>& observation_period_end, bool include_first_transaction,
         bool drop_customers_after_end) {
        const StoreSummaryOptions o = summary_options(unit, multiplier, observation_period_end,
                                                      include_first_transaction,
                                                      drop_customers_after_end);
        StoreCustomerSummary s;
        {
          py::gil_scoped_release unlocked;
          s = summary_from_store(store, o);
        }
        py::dict out;
        out["currency"] = s.currency;
        out["customer_id"] = to_numpy(std::move(s.customer_id));
        out["external_id"] = texts_to_py(s.external_id);
        out["frequency"] = to_numpy(std::move(s.frequency));
        out["recency"] = to_numpy(std::move(s.recency));
        out["T"] = to_numpy(std::move(s.T));
        out["monetary_value"] = to_numpy(std::move(s.monetary_value));
        out["first_purchase"] = to_numpy(std::move(s.first_purchase));
        return out;
      },
      py::arg("store"), py::kw_only(), py::arg("unit") = TimeUnit::day,
      py::arg("multiplier") = 1.0, py::arg("observation_period_end") = py::none(),
      py::arg("include_first_transaction") = false, py::arg("drop_customers_after_end") = true,
      "The per-customer summary of a store's purchases, net of refunds (analytics.hpp): a dict "
      "of currency, customer_id, external_id (list of str), frequency, recency, T, "
      "monetary_value and first_purchase (UTC microseconds).");

  m.def(
      "lifetime_value_parts",
      [](const Store& store, const TransactionModel& transaction_model,
         const GammaGammaModel& spend_model, double horizon,
         const std::optional<IArray>& referrer_ids, const std::optional<IArray>& referred_ids,
         TimeUnit unit, double multiplier, const std::optional<TimeArg<"observation_period_end">>& observation_period_end,
         double discount_rate, double discount_step, IntArg<"min_repeat_purchases", std::int64_t> min_repeat_purchases,
         double min_tenure, double run_rate_tenure_floor,
         const std::optional<Money>& referral_value, py::handle uplift, RoundingMode rounding) {
        if (referrer_ids.has_value() != referred_ids.has_value()) {
          throw_invalid(referrer_ids ? "referred_ids" : "referrer_ids",
                        "pass referrer_ids and referred_ids together");
        }
        StoreValueOptions o;
        o.summary = summary_options(unit, multiplier, observation_period_end, false, true);
        o.value.current.discount_rate = discount_rate;
        o.value.current.discount_step = discount_step;
        o.value.current.min_repeat_purchases = min_repeat_purchases;
        o.value.current.min_tenure = min_tenure;
        o.value.current.run_rate_tenure_floor = run_rate_tenure_floor;
        o.value.current.rounding = rounding;
        o.value.potential.referral_value = referral_value;
        o.value.potential.uplift = decimal_from_py(uplift, "uplift", true);
        o.value.potential.rounding = rounding;
        StoreLifetimeValue v;
        {
          py::gil_scoped_release unlocked;
          if (referrer_ids) {
            v = lifetime_value_parts(store, transaction_model, spend_model, horizon,
                                     column(*referrer_ids, "referrer_ids"),
                                     column(*referred_ids, "referred_ids"), o);
          } else {
            v = lifetime_value_parts(store, transaction_model, spend_model, horizon, o);
          }
        }
        py::list external_id = texts_to_py(v.external_id);
        py::dict out = lifetime_value_to_py(std::move(v));
        out["external_id"] = std::move(external_id);
        return out;
      },
      py::arg("store"), py::arg("transaction_model"), py::arg("spend_model"), py::arg("horizon"),
      py::kw_only(), py::arg("referrer_ids") = py::none(), py::arg("referred_ids") = py::none(),
      py::arg("unit") = TimeUnit::day, py::arg("multiplier") = 1.0,
      py::arg("observation_period_end") = py::none(), py::arg("discount_rate") = 0.0,
      py::arg("discount_step") = 1.0, py::arg("min_repeat_purchases") = 1,
      py::arg("min_tenure") = 0.0, py::arg("run_rate_tenure_floor") = 1.0,
      py::arg("referral_value") = py::none(), py::arg("uplift") = "0",
      py::arg("rounding") = RoundingMode::half_even,
      "Historical, current, potential value and total per customer of a store, as of "
      "observation_period_end (analytics.hpp lifetime_value_parts), with the store's referral "
      "events unless referrer_ids and referred_ids are given: a dict of int64 minor-unit columns "
      "plus currency, customer_id, external_id (list of str), method_code, converted_referrals "
      "and referral_value.");
}

}  // namespace crmkit_py
