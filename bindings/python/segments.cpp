// Segments and drift (crmkit/loyalty/segments.hpp, crmkit/analytics/segments.hpp). Results come
// back as dicts of numpy columns and name lists; python/crmkit/segments.py turns them into
// DataFrames. Rule segments arrive as JSON text and are compiled here against the store's fact
// schema (store calls) or purchase_rfm_schema (purchase_segments). Every crmkit call releases the
// GIL.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "conversions.hpp"
#include "crmkit/analytics/lifecycle.hpp"
#include "crmkit/analytics/segments.hpp"
#include "crmkit/loyalty/segments.hpp"

namespace crmkit_py {

namespace {

using namespace crmkit;

using I32Array = py::array_t<std::int32_t, py::array::c_style | py::array::forcecast>;

SegmentOptions store_options(const Store& store, const std::optional<std::string>& rules,
                             const std::optional<std::vector<std::string>>& windows) {
  SegmentOptions o;
  if (windows) {
    for (std::size_t i = 0; i < windows->size(); ++i)
      o.windows.push_back(
          window_fact_from_json_text((*windows)[i], "windows[" + std::to_string(i) + "]"));
  }
  if (rules) o.rules = rule_segments_from_json_text(*rules, store_fact_schema(store, {}, o.windows));
  return o;
}

py::dict matrix_to_py(const DriftMatrix& m) {
  py::dict d;
  d["from"] = texts_to_py(m.from);
  d["to"] = texts_to_py(m.to);
  py::array_t<std::int64_t> counts({static_cast<py::ssize_t>(m.rows()),
                                    static_cast<py::ssize_t>(m.columns())});
  std::copy(m.counts.begin(), m.counts.end(), counts.mutable_data());
  d["counts"] = counts;
  return d;
}

py::dict labels_to_py(SegmentLabels&& l) {
  py::dict d;
  d["names"] = texts_to_py(l.names);
  d["code"] = to_numpy(std::move(l.code));
  return d;
}

SegmentLabels labels_from_py(const std::vector<std::string>& names, const I32Array& code,
                             const char* field) {
  SegmentLabels l;
  l.names = names;
  auto c = column(code, field);
  l.code.assign(c.begin(), c.end());
  return l;
}

}  // namespace

void bind_segments(py::module_& m) {
  m.def(
      "store_segments",
      [](const Store& store, TimeArg<"as_of"> as_of, const std::optional<std::string>& rules,
         const std::optional<std::vector<std::string>>& windows) {
        const SegmentOptions o = store_options(store, rules, windows);
        SegmentMembership r;
        {
          py::gil_scoped_release release;
          r = segments_as_of(store, as_of, o);
        }
        py::dict d = labels_to_py(std::move(r.labels));
        d["customer_id"] = to_numpy(std::move(r.customer_id));
        d["external_id"] = texts_to_py(r.external_id);
        return d;
      },
      py::arg("store"), py::arg("as_of"), py::arg("rules") = py::none(),
      py::arg("windows") = py::none());

  m.def(
      "store_segment_drift",
      [](const Store& store, TimeArg<"start"> start, TimeArg<"end"> end, const std::optional<std::string>& rules,
         const std::optional<std::vector<std::string>>& windows) {
        const SegmentOptions o = store_options(store, rules, windows);
        DriftMatrix r;
        {
          py::gil_scoped_release release;
          r = segment_drift(store, start, end, o);
        }
        return matrix_to_py(r);
      },
      py::arg("store"), py::arg("start"), py::arg("end"), py::arg("rules") = py::none(),
      py::arg("windows") = py::none());

  m.def(
      "store_segment_drift_series",
      [](const Store& store, TimeArg<"start"> start, TimeArg<"end"> end, const std::string& period,
         const std::optional<std::string>& rules,
         const std::optional<std::vector<std::string>>& windows) {
        const Period p = parse_period(period, "period");
        const SegmentOptions o = store_options(store, rules, windows);
        DriftSeries r;
        {
          py::gil_scoped_release release;
          r = segment_drift_series(store, start, end, p, o);
        }
        std::vector<std::int64_t> dates;
        for (const Timestamp& t : r.dates) dates.push_back(t.micros());
        py::list steps;
        for (const DriftMatrix& s : r.steps) steps.append(matrix_to_py(s));
        py::dict d;
        d["dates_micros"] = to_numpy(std::move(dates));
        d["steps"] = steps;
        return d;
      },
      py::arg("store"), py::arg("start"), py::arg("end"), py::arg("period") = "month",
      py::arg("rules") = py::none(), py::arg("windows") = py::none());

  m.def(
      "store_mainstream_segments",
      [](const Store& store, TimeArg<"as_of"> as_of, IntArg<"k", std::size_t> k, const std::optional<std::string>& rules,
         const std::optional<std::vector<std::string>>& windows) {
        const SegmentOptions o = store_options(store, rules, windows);
        StoreMainstreamSegments r;
        {
          py::gil_scoped_release release;
          r = mainstream_segments(store, as_of, k, o);
        }
        py::dict d;
        d["segment"] = texts_to_py(r.segment);
        d["customers"] = to_numpy(std::move(r.customers));
        py::list revenue;
        for (const Money& v : r.revenue) revenue.append(py::cast(v));
        d["revenue"] = revenue;
        d["by_customers"] = texts_to_py(r.by_customers);
        d["by_revenue"] = texts_to_py(r.by_revenue);
        return d;
      },
      py::arg("store"), py::arg("as_of"), py::arg("k") = 3, py::arg("rules") = py::none(),
      py::arg("windows") = py::none());

  m.def(
      "segment_drift_codes",
      [](const std::vector<std::string>& names_from, const I32Array& code_from,
         const std::vector<std::string>& names_to, const I32Array& code_to) {
        const SegmentLabels a = labels_from_py(names_from, code_from, "labels_a");
        const SegmentLabels b = labels_from_py(names_to, code_to, "labels_b");
        DriftMatrix r;
        {
          py::gil_scoped_release release;
          r = segment_drift(a, b);
        }
        return matrix_to_py(r);
      },
      py::arg("names_from"), py::arg("code_from"), py::arg("names_to"), py::arg("code_to"));

  m.def(
      "purchase_segments",
      [](IntArg<"customers", std::size_t> customers, const IArray& customer_index, const IArray& times,
         const IArray& amounts_minor, const std::vector<Timestamp>& dates, const std::string& rules,
         IntArg<"scale", int> scale) {
        const RuleSegments rs = rule_segments_from_json_text(rules, purchase_rfm_schema());
        auto ci = column(customer_index, "customer_index");
        auto t = column(times, "times");
        auto a = column(amounts_minor, "amounts_minor");
        std::vector<SegmentLabels> r;
        {
          py::gil_scoped_release release;
          r = purchase_segments(customers, ci, t, a, dates, rs, scale);
        }
        py::list out;
        for (SegmentLabels& l : r) out.append(labels_to_py(std::move(l)));
        return out;
      },
      py::arg("customers"), py::arg("customer_index"), py::arg("times"), py::arg("amounts_minor"),
      py::arg("dates"), py::arg("rules"), py::arg("scale") = 2);

  m.def("rfm_segment_names", [] { return texts_to_py(rfm_segment_names()); });
}

}  // namespace crmkit_py
