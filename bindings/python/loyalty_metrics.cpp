// Loyalty metrics (crmkit/loyalty/metrics.hpp over numpy columns, crmkit/analytics/loyalty.hpp
// from a Store). Results cross as dicts of numpy arrays (labels as lists of str);
// python/crmkit/loyalty_metrics.py turns them into DataFrames and the CohortRetention object. Every call
// releases the GIL around the crmkit call.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "conversions.hpp"
#include "crmkit/analytics/loyalty.hpp"
#include "crmkit/loyalty/metrics.hpp"

namespace crmkit_py {

namespace {

using namespace crmkit;

using I8Array = py::array_t<std::int8_t, py::array::c_style | py::array::forcecast>;

void put_axis(py::dict& d, PeriodAxis&& a) {
  d["period"] = to_string(a.period);
  d["index"] = to_numpy(std::move(a.index));
  d["label"] = texts_to_py(a.label);
  d["start_micros"] = to_numpy(std::move(a.start_micros));
  d["end_micros"] = to_numpy(std::move(a.end_micros));
  d["last_period_incomplete"] = a.last_period_incomplete;
}

py::dict to_py(CohortMatrix&& m) {
  py::dict d;
  d["period"] = to_string(m.period);
  d["as_of_micros"] = m.as_of_micros;
  d["as_of_period"] = m.as_of_period;
  d["as_of_label"] = period_label(m.as_of_period, m.period);
  d["last_period_incomplete"] = m.last_period_incomplete;
  d["cohort"] = to_numpy(std::move(m.cohort));
  d["label"] = texts_to_py(m.label);
  d["size"] = to_numpy(std::move(m.size));
  d["ages"] = m.ages;
  d["counts"] = to_numpy(std::move(m.counts));
  d["shares"] = to_numpy(std::move(m.shares));
  return d;
}

py::dict to_py(RetentionTable&& r) {
  py::dict d;
  put_axis(d, std::move(r.periods));
  d["active_start"] = to_numpy(std::move(r.active_start));
  d["active_end"] = to_numpy(std::move(r.active_end));
  d["acquired"] = to_numpy(std::move(r.acquired));
  d["retained"] = to_numpy(std::move(r.retained));
  d["reactivated"] = to_numpy(std::move(r.reactivated));
  d["churned"] = to_numpy(std::move(r.churned));
  d["retention_rate"] = to_numpy(std::move(r.retention_rate));
  d["churn_rate"] = to_numpy(std::move(r.churn_rate));
  d["strict_retention_rate"] = to_numpy(std::move(r.strict_retention_rate));
  d["strict_churn_rate"] = to_numpy(std::move(r.strict_churn_rate));
  return d;
}

py::dict to_py(const RepeatRate& r) {
  py::dict d;
  d["customers"] = r.customers;
  d["repeat_customers"] = r.repeat_customers;
  d["rate"] = r.rate;
  return d;
}

py::dict to_py(RepeatRateTable&& r) {
  py::dict d;
  put_axis(d, std::move(r.periods));
  d["buyers"] = to_numpy(std::move(r.buyers));
  d["repeat_buyers"] = to_numpy(std::move(r.repeat_buyers));
  d["rate"] = to_numpy(std::move(r.rate));
  d["customers"] = to_numpy(std::move(r.customers));
  d["repeat_customers"] = to_numpy(std::move(r.repeat_customers));
  d["cumulative_rate"] = to_numpy(std::move(r.cumulative_rate));
  return d;
}

py::dict to_py(const Nps& r) {
  py::dict d;
  d["responses"] = r.responses;
  d["promoters"] = r.promoters;
  d["passives"] = r.passives;
  d["detractors"] = r.detractors;
  d["score"] = r.score;
  return d;
}

py::dict to_py(NpsTable&& r) {
  py::dict d;
  put_axis(d, std::move(r.periods));
  d["responses"] = to_numpy(std::move(r.responses));
  d["promoters"] = to_numpy(std::move(r.promoters));
  d["passives"] = to_numpy(std::move(r.passives));
  d["detractors"] = to_numpy(std::move(r.detractors));
  d["score"] = to_numpy(std::move(r.score));
  return d;
}

py::dict to_py(const Csat& r) {
  py::dict d;
  d["responses"] = r.responses;
  d["satisfied"] = r.satisfied;
  d["score"] = r.score;
  return d;
}

py::dict to_py(CsatTable&& r) {
  py::dict d;
  put_axis(d, std::move(r.periods));
  d["responses"] = to_numpy(std::move(r.responses));
  d["satisfied"] = to_numpy(std::move(r.satisfied));
  d["score"] = to_numpy(std::move(r.score));
  return d;
}

py::dict to_py(const ReferralRate& r) {
  py::dict d;
  d["customers"] = r.customers;
  d["referrers"] = r.referrers;
  d["referrers_without_purchase"] = r.referrers_without_purchase;
  d["referrals"] = r.referrals;
  d["rate"] = r.rate;
  return d;
}

py::dict to_py(ReferralRateTable&& r) {
  py::dict d;
  put_axis(d, std::move(r.periods));
  d["customers"] = to_numpy(std::move(r.customers));
  d["referrers"] = to_numpy(std::move(r.referrers));
  d["referrers_without_purchase"] = to_numpy(std::move(r.referrers_without_purchase));
  d["referrals"] = to_numpy(std::move(r.referrals));
  d["rate"] = to_numpy(std::move(r.rate));
  return d;
}

py::dict to_py(const WordOfMouth& r) {
  py::dict d;
  d["satisfied"] = r.satisfied;
  d["neutral"] = r.neutral;
  d["dissatisfied"] = r.dissatisfied;
  d["positive_reach"] = r.positive_reach;
  d["negative_reach"] = r.negative_reach;
  d["net_reach"] = r.net_reach;
  return d;
}

py::dict to_py(WordOfMouthTable&& r) {
  py::dict d;
  put_axis(d, std::move(r.periods));
  d["satisfied"] = to_numpy(std::move(r.satisfied));
  d["neutral"] = to_numpy(std::move(r.neutral));
  d["dissatisfied"] = to_numpy(std::move(r.dissatisfied));
  d["positive_reach"] = to_numpy(std::move(r.positive_reach));
  d["negative_reach"] = to_numpy(std::move(r.negative_reach));
  d["net_reach"] = to_numpy(std::move(r.net_reach));
  return d;
}

py::dict to_py(CustomerLoyalty&& c) {
  py::dict d;
  d["customer_id"] = to_numpy(std::move(c.customer_id));
  d["external_id"] = texts_to_py(c.external_id);
  d["cohort"] = to_numpy(std::move(c.cohort));
  d["cohort_label"] = texts_to_py(c.cohort_label);
  d["purchases"] = to_numpy(std::move(c.purchases));
  d["first_purchase_micros"] = to_numpy(std::move(c.first_purchase_micros));
  d["last_purchase_micros"] = to_numpy(std::move(c.last_purchase_micros));
  d["active"] = to_numpy(std::move(c.active));
  d["referrals"] = to_numpy(std::move(c.referrals));
  d["satisfaction"] = to_numpy(std::move(c.satisfaction));
  return d;
}

// The period argument: None (the overall figure) or a name.
std::optional<Period> optional_period(const std::optional<std::string>& period) {
  if (!period) return std::nullopt;
  return parse_period(*period, "period");
}

SurveyOptions survey_options(bool latest_only, std::optional<Timestamp> start) {
  SurveyOptions o;
  o.latest_only = latest_only;
  o.start = start;
  return o;
}

WordOfMouthOptions wom_options(double tell_satisfied, double tell_dissatisfied,
                               std::optional<Timestamp> start) {
  WordOfMouthOptions o;
  o.tell_satisfied = tell_satisfied;
  o.tell_dissatisfied = tell_dissatisfied;
  o.start = start;
  return o;
}

}  // namespace

void bind_loyalty_metrics(py::module_& m) {
  // ---- pure, over numpy columns ----
  m.def(
      "cohort_retention",
      [](const IArray& customer, const IArray& at_micros, const std::string& period,
         TimeArg<"as_of"> as_of, IntArg<"threads", unsigned> threads) {
        const Period p = parse_period(period, "period");
        CohortOptions o;
        o.threads = threads;
        auto c = column(customer, "customer");
        auto a = column(at_micros, "at_micros");
        CohortMatrix r;
        {
          py::gil_scoped_release release;
          r = cohort_retention(c, a, p, as_of, o);
        }
        return to_py(std::move(r));
      },
      py::arg("customer"), py::arg("at_micros"), py::arg("period"), py::arg("as_of"),
      py::arg("threads") = 0);

  m.def(
      "retention",
      [](const IArray& customer, const IArray& at_micros, const std::string& period,
         TimeArg<"as_of"> as_of, IntArg<"active_days", std::int32_t> active_days, std::optional<TimeArg<"start">> start) {
        const Period p = parse_period(period, "period");
        RetentionOptions o;
        o.active_days = active_days;
        o.start = start;
        auto c = column(customer, "customer");
        auto a = column(at_micros, "at_micros");
        RetentionTable r;
        {
          py::gil_scoped_release release;
          r = retention(c, a, p, as_of, o);
        }
        return to_py(std::move(r));
      },
      py::arg("customer"), py::arg("at_micros"), py::arg("period"), py::arg("as_of"),
      py::arg("active_days") = 365, py::arg("start") = py::none());

  m.def(
      "repeat_purchase_rate",
      [](const IArray& customer, const IArray& at_micros, TimeArg<"as_of"> as_of,
         const std::optional<std::string>& period, std::optional<TimeArg<"start">> start) -> py::dict {
        const std::optional<Period> p = optional_period(period);
        auto c = column(customer, "customer");
        auto a = column(at_micros, "at_micros");
        if (!p) {
          RepeatRate r;
          {
            py::gil_scoped_release release;
            r = repeat_purchase_rate(c, a, as_of);
          }
          return to_py(r);
        }
        RepeatRateTable r;
        {
          py::gil_scoped_release release;
          r = repeat_purchase_rate(c, a, *p, as_of, start);
        }
        return to_py(std::move(r));
      },
      py::arg("customer"), py::arg("at_micros"), py::arg("as_of"), py::arg("period") = py::none(),
      py::arg("start") = py::none());

  m.def(
      "nps",
      [](const IArray& customer, const IArray& at_micros, const I8Array& score, TimeArg<"as_of"> as_of,
         const std::optional<std::string>& period, bool latest_only,
         std::optional<TimeArg<"start">> start) -> py::dict {
        const std::optional<Period> p = optional_period(period);
        const SurveyOptions o = survey_options(latest_only, start);
        auto c = column(customer, "customer");
        auto a = column(at_micros, "at_micros");
        auto s = column(score, "score");
        py::gil_scoped_release release;
        if (!p) {
          Nps r = nps(c, a, s, as_of, o);
          py::gil_scoped_acquire acquire;
          return to_py(r);
        }
        NpsTable r = nps(c, a, s, *p, as_of, o);
        py::gil_scoped_acquire acquire;
        return to_py(std::move(r));
      },
      py::arg("customer"), py::arg("at_micros"), py::arg("score"), py::arg("as_of"),
      py::arg("period") = py::none(), py::arg("latest_only") = false,
      py::arg("start") = py::none());

  m.def(
      "csat",
      [](const IArray& customer, const IArray& at_micros, const I8Array& score, TimeArg<"as_of"> as_of,
         const std::optional<std::string>& period, bool latest_only,
         std::optional<TimeArg<"start">> start) -> py::dict {
        const std::optional<Period> p = optional_period(period);
        const SurveyOptions o = survey_options(latest_only, start);
        auto c = column(customer, "customer");
        auto a = column(at_micros, "at_micros");
        auto s = column(score, "score");
        py::gil_scoped_release release;
        if (!p) {
          Csat r = csat(c, a, s, as_of, o);
          py::gil_scoped_acquire acquire;
          return to_py(r);
        }
        CsatTable r = csat(c, a, s, *p, as_of, o);
        py::gil_scoped_acquire acquire;
        return to_py(std::move(r));
      },
      py::arg("customer"), py::arg("at_micros"), py::arg("score"), py::arg("as_of"),
      py::arg("period") = py::none(), py::arg("latest_only") = false,
      py::arg("start") = py::none());

  m.def(
      "referral_rate",
      [](const IArray& purchase_customer, const IArray& purchase_at_micros,
         const IArray& referrer, const IArray& referral_at_micros, TimeArg<"as_of"> as_of,
         const std::optional<std::string>& period, std::optional<TimeArg<"start">> start) -> py::dict {
        const std::optional<Period> p = optional_period(period);
        auto pc = column(purchase_customer, "purchase_customer");
        auto pa = column(purchase_at_micros, "purchase_at_micros");
        auto rc = column(referrer, "referrer");
        auto ra = column(referral_at_micros, "referral_at_micros");
        py::gil_scoped_release release;
        if (!p) {
          ReferralRate r = referral_rate(pc, pa, rc, ra, as_of, start);
          py::gil_scoped_acquire acquire;
          return to_py(r);
        }
        ReferralRateTable r = referral_rate(pc, pa, rc, ra, *p, as_of, start);
        py::gil_scoped_acquire acquire;
        return to_py(std::move(r));
      },
      py::arg("purchase_customer"), py::arg("purchase_at_micros"), py::arg("referrer"),
      py::arg("referral_at_micros"), py::arg("as_of"), py::arg("period") = py::none(),
      py::arg("start") = py::none());

  m.def(
      "word_of_mouth",
      [](const IArray& customer, const IArray& at_micros, const I8Array& nps_score,
         const I8Array& csat_score, TimeArg<"as_of"> as_of, const std::optional<std::string>& period,
         double tell_satisfied, double tell_dissatisfied,
         std::optional<TimeArg<"start">> start) -> py::dict {
        const std::optional<Period> p = optional_period(period);
        const WordOfMouthOptions o = wom_options(tell_satisfied, tell_dissatisfied, start);
        auto c = column(customer, "customer");
        auto a = column(at_micros, "at_micros");
        auto n = column(nps_score, "nps_score");
        auto s = column(csat_score, "csat_score");
        py::gil_scoped_release release;
        if (!p) {
          WordOfMouth r = word_of_mouth(c, a, n, s, as_of, o);
          py::gil_scoped_acquire acquire;
          return to_py(r);
        }
        WordOfMouthTable r = word_of_mouth(c, a, n, s, *p, as_of, o);
        py::gil_scoped_acquire acquire;
        return to_py(std::move(r));
      },
      py::arg("customer"), py::arg("at_micros"), py::arg("nps_score"), py::arg("csat_score"),
      py::arg("as_of"), py::arg("period") = py::none(), py::arg("tell_satisfied") = 3.0,
      py::arg("tell_dissatisfied") = 10.0, py::arg("start") = py::none());

  // ---- from a store ----
  m.def(
      "store_cohort_retention",
      [](const Store& store, const std::string& period, TimeArg<"as_of"> as_of) {
        const Period p = parse_period(period, "period");
        CohortMatrix r;
        {
          py::gil_scoped_release release;
          r = cohort_retention(store, p, as_of);
        }
        return to_py(std::move(r));
      },
      py::arg("store"), py::arg("period"), py::arg("as_of"));

  m.def(
      "store_retention",
      [](const Store& store, const std::string& period, TimeArg<"as_of"> as_of, IntArg<"active_days", std::int32_t> active_days,
         std::optional<TimeArg<"start">> start) {
        const Period p = parse_period(period, "period");
        RetentionOptions o;
        o.active_days = active_days;
        o.start = start;
        RetentionTable r;
        {
          py::gil_scoped_release release;
          r = retention(store, p, as_of, o);
        }
        return to_py(std::move(r));
      },
      py::arg("store"), py::arg("period"), py::arg("as_of"), py::arg("active_days") = 365,
      py::arg("start") = py::none());

  m.def(
      "store_repeat_purchase_rate",
      [](const Store& store, TimeArg<"as_of"> as_of, const std::optional<std::string>& period,
         std::optional<TimeArg<"start">> start) -> py::dict {
        const std::optional<Period> p = optional_period(period);
        py::gil_scoped_release release;
        if (!p) {
          RepeatRate r = repeat_purchase_rate(store, as_of);
          py::gil_scoped_acquire acquire;
          return to_py(r);
        }
        RepeatRateTable r = repeat_purchase_rate(store, *p, as_of, start);
        py::gil_scoped_acquire acquire;
        return to_py(std::move(r));
      },
      py::arg("store"), py::arg("as_of"), py::arg("period") = py::none(),
      py::arg("start") = py::none());

  m.def(
      "store_nps",
      [](const Store& store, TimeArg<"as_of"> as_of, const std::optional<std::string>& period,
         bool latest_only, std::optional<TimeArg<"start">> start) -> py::dict {
        const std::optional<Period> p = optional_period(period);
        const SurveyOptions o = survey_options(latest_only, start);
        py::gil_scoped_release release;
        if (!p) {
          Nps r = nps(store, as_of, o);
          py::gil_scoped_acquire acquire;
          return to_py(r);
        }
        NpsTable r = nps(store, *p, as_of, o);
        py::gil_scoped_acquire acquire;
        return to_py(std::move(r));
      },
      py::arg("store"), py::arg("as_of"), py::arg("period") = py::none(),
      py::arg("latest_only") = false, py::arg("start") = py::none());

  m.def(
      "store_csat",
      [](const Store& store, TimeArg<"as_of"> as_of, const std::optional<std::string>& period,
         bool latest_only, std::optional<TimeArg<"start">> start) -> py::dict {
        const std::optional<Period> p = optional_period(period);
        const SurveyOptions o = survey_options(latest_only, start);
        py::gil_scoped_release release;
        if (!p) {
          Csat r = csat(store, as_of, o);
          py::gil_scoped_acquire acquire;
          return to_py(r);
        }
        CsatTable r = csat(store, *p, as_of, o);
        py::gil_scoped_acquire acquire;
        return to_py(std::move(r));
      },
      py::arg("store"), py::arg("as_of"), py::arg("period") = py::none(),
      py::arg("latest_only") = false, py::arg("start") = py::none());

  m.def(
      "store_referral_rate",
      [](const Store& store, TimeArg<"as_of"> as_of, const std::optional<std::string>& period,
         std::optional<TimeArg<"start">> start) -> py::dict {
        const std::optional<Period> p = optional_period(period);
        py::gil_scoped_release release;
        if (!p) {
          ReferralRate r = referral_rate(store, as_of, start);
          py::gil_scoped_acquire acquire;
          return to_py(r);
        }
        ReferralRateTable r = referral_rate(store, *p, as_of, start);
        py::gil_scoped_acquire acquire;
        return to_py(std::move(r));
      },
      py::arg("store"), py::arg("as_of"), py::arg("period") = py::none(),
      py::arg("start") = py::none());

  m.def(
      "store_word_of_mouth",
      [](const Store& store, TimeArg<"as_of"> as_of, const std::optional<std::string>& period,
         double tell_satisfied, double tell_dissatisfied,
         std::optional<TimeArg<"start">> start) -> py::dict {
        const std::optional<Period> p = optional_period(period);
        const WordOfMouthOptions o = wom_options(tell_satisfied, tell_dissatisfied, start);
        py::gil_scoped_release release;
        if (!p) {
          WordOfMouth r = word_of_mouth(store, as_of, o);
          py::gil_scoped_acquire acquire;
          return to_py(r);
        }
        WordOfMouthTable r = word_of_mouth(store, *p, as_of, o);
        py::gil_scoped_acquire acquire;
        return to_py(std::move(r));
      },
      py::arg("store"), py::arg("as_of"), py::arg("period") = py::none(),
      py::arg("tell_satisfied") = 3.0, py::arg("tell_dissatisfied") = 10.0,
      py::arg("start") = py::none());

  m.def(
      "store_customer_loyalty",
      [](const Store& store, const std::string& period, TimeArg<"as_of"> as_of,
         IntArg<"active_days", std::int32_t> active_days) {
        const Period p = parse_period(period, "period");
        CustomerLoyalty r;
        {
          py::gil_scoped_release release;
          r = customer_loyalty(store, p, as_of, active_days);
        }
        return to_py(std::move(r));
      },
      py::arg("store"), py::arg("period"), py::arg("as_of"), py::arg("active_days") = 365);

  // The latest event time of a store's loyalty columns (purchases, surveys, referrals), or None:
  // Python's default as_of.
  m.def(
      "store_loyalty_last_micros",
      [](const Store& store) -> std::optional<std::int64_t> {
        std::optional<std::int64_t> last;
        {
          py::gil_scoped_release release;
          const LoyaltyColumns c = loyalty_columns(store, Timestamp::from_micros(INT64_MAX));
          for (const auto* v : {&c.purchase_at_micros, &c.survey_at_micros,
                                &c.referral_at_micros}) {
            for (std::int64_t t : *v) last = last ? std::max(*last, t) : t;
          }
        }
        return last;
      },
      py::arg("store"));
}

}  // namespace crmkit_py
