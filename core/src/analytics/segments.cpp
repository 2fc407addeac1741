// Segments from a Store (crmkit/analytics/segments.hpp): facts_as_of at each date, the loyalty
// layer's labels, and the customers of several dates aligned on the union of their ids.
#include "crmkit/analytics/segments.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "crmkit/base/error.hpp"

namespace crmkit {
inline namespace v0 {

SegmentMembership segments_as_of(const Store& store, Timestamp as_of,
                                 const SegmentOptions& options) {
  FactOptions fo;
  fo.windows = options.windows;
  fo.model = options.model;
  fo.rfm = options.rfm;
  SegmentMembership out;
  out.as_of = as_of;
  if (options.rules) {
    fo.facts = options.rules->facts_used();
    // Rules that read nothing still need the rows; one cheap fact gives them.
    if (fo.facts.empty()) fo.facts.push_back("purchase_count");
    CustomerFacts facts = facts_as_of(store, as_of, fo);
    out.labels = rule_segment_labels(*options.rules, facts.table);
    out.customer_id = std::move(facts.customer_id);
    out.external_id = std::move(facts.external_id);
  } else {
    fo.facts = {"rfm.segment"};
    CustomerFacts facts = facts_as_of(store, as_of, fo);
    const auto texts = facts.table.texts(0);
    const auto present = facts.table.present(0);
    std::vector<std::string> names(facts.size());
    for (std::size_t i = 0; i < names.size(); ++i)
      if (present[i]) names[i] = texts[i];
    const std::vector<std::string> order = rfm_segment_names(options.rfm.segments);
    out.labels = labels_from_names(names, order);
    out.customer_id = std::move(facts.customer_id);
    out.external_id = std::move(facts.external_id);
  }
  return out;
}

namespace {

// The labels of `m` over `ids` (ascending, a superset of m's ids): -1 where m has no row.
SegmentLabels over(const SegmentMembership& m, const std::vector<CustomerId>& ids) {
  SegmentLabels out;
  out.names = m.labels.names;
  out.code.assign(ids.size(), -1);
  std::size_t k = 0;
  for (std::size_t i = 0; i < m.size(); ++i) {
    while (ids[k] < m.customer_id[i]) ++k;
    out.code[k] = m.labels.code[i];
  }
  return out;
}

std::vector<CustomerId> union_ids(const std::vector<SegmentMembership>& ms) {
  std::vector<CustomerId> ids;
  for (const auto& m : ms) ids.insert(ids.end(), m.customer_id.begin(), m.customer_id.end());
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace

DriftMatrix segment_drift(const Store& store, Timestamp start, Timestamp end,
                          const SegmentOptions& options) {
  if (end < start)
    throw_invalid("end", end.to_string() + " is before start " + start.to_string());
  std::vector<SegmentMembership> ms;
  ms.push_back(segments_as_of(store, start, options));
  ms.push_back(segments_as_of(store, end, options));
  const std::vector<CustomerId> ids = union_ids(ms);
  return segment_drift(over(ms[0], ids), over(ms[1], ids));
}

std::vector<Timestamp> drift_series_dates(Timestamp start, Timestamp end, Period period) {
  if (!(start < end))
    throw_invalid("end", end.to_string() + " is not after start " + start.to_string());
  std::vector<Timestamp> dates{start};
  for (std::int64_t p = period_index(start, period), last = period_index(end, period); p <= last;
       ++p) {
    const Timestamp e(period_start(p + 1, period).micros() - 1);
    if (start < e && e < end) dates.push_back(e);
  }
  dates.push_back(end);
  return dates;
}

DriftSeries segment_drift_series(const Store& store, Timestamp start, Timestamp end,
                                 Period period, const SegmentOptions& options) {
  const std::vector<Timestamp> dates = drift_series_dates(start, end, period);
  std::vector<SegmentMembership> ms;
  ms.reserve(dates.size());
  for (const Timestamp& d : dates) ms.push_back(segments_as_of(store, d, options));
  const std::vector<CustomerId> ids = union_ids(ms);
  std::vector<SegmentLabels> labels;
  labels.reserve(ms.size());
  for (const auto& m : ms) labels.push_back(over(m, ids));
  return segment_drift_series(labels, dates);
}

StoreMainstreamSegments mainstream_segments(const Store& store, Timestamp as_of, std::size_t k,
                                            const SegmentOptions& options) {
  const SegmentMembership m = segments_as_of(store, as_of, options);
  // Net revenue as of the date per row of m (ids ascend).
  std::vector<std::int64_t> revenue(m.size(), 0);
  auto row_of = [&](CustomerId id) -> std::ptrdiff_t {
    const auto it = std::lower_bound(m.customer_id.begin(), m.customer_id.end(), id);
    return it != m.customer_id.end() && *it == id ? it - m.customer_id.begin() : -1;
  };
  auto add = [&](CustomerId id, std::int64_t amount, const char* field) {
    const std::ptrdiff_t r = row_of(id);
    if (r < 0) return;
    std::int64_t& v = revenue[static_cast<std::size_t>(r)];
    if (__builtin_add_overflow(v, amount, &v))
      throw_error(ErrorCode::overflow, field,
                  "the net revenue of customer " + std::to_string(id) + " leaves the int64 range");
  };
  const PurchaseColumns p = store.purchase_columns();
  for (std::size_t i = 0; i < p.event_id.size(); ++i)
    if (p.at_micros[i] <= as_of.micros()) add(p.customer_id[i], p.amount_minor[i], "purchase");
  const RefundColumns r = store.refund_columns();
  for (std::size_t i = 0; i < r.event_id.size(); ++i)
    if (r.at_micros[i] <= as_of.micros()) add(r.customer_id[i], -r.amount_minor[i], "refund");
  const MainstreamSegments ms = mainstream_segments(m.labels, revenue, k);
  StoreMainstreamSegments out;
  out.as_of = as_of;
  out.segment = ms.sizes.segment;
  out.customers = ms.sizes.customers;
  for (std::int64_t v : ms.sizes.revenue_minor)
    out.revenue.push_back(Money::from_minor(v, store.currency()));
  out.by_customers = ms.by_customers;
  out.by_revenue = ms.by_revenue;
  return out;
}

}  // namespace v0
}  // namespace crmkit
