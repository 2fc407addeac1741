// crmkit/analytics/segments.hpp: segments of a Store's customers as of a date, their drift between
// two dates and month by month, and the mainstream segments (docs/segments.md). The pure
// functions of crmkit/loyalty/segments.hpp run on the store's facts; Python's Store.segments,
// segment_drift, segment_drift_series and mainstream_segments wrap these calls.
//
// Who is segmented as of a date:
//  - RFM segments (no rules given): the customers with a purchase as of the date (a purchase at
//    or before it that is not fully refunded by then), scored among themselves: the rfm.segment
//    fact of crmkit/analytics/facts.hpp (the value engine's daily summary as of the date,
//    crmkit/value/rfm.hpp's scores, ties shared). Customers without one have no segment.
//  - Rule segments: every customer that exists as of the date (facts_as_of's rows: created at or
//    before it, or with an event by then; not soft-deleted), each in the first segment whose rule
//    holds on its facts as of the date, else the fallback.
//  Customers are in ascending id order. A customer without a segment at the first date of a
//  drift (not yet acquired, or not yet created) is counted in the "none" row.
//
// Revenue (mainstream_segments): each customer's net revenue as of the date, exact: its purchases
// at or before the date minus the refunds of them made at or before the date.
//
// Thread-safety: the Store's reads are thread-safe and the rest is pure; call from any thread.
// Each date is read in its own read transaction(s).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "crmkit/analytics/facts.hpp"
#include "crmkit/base/money.hpp"
#include "crmkit/base/time.hpp"
#include "crmkit/loyalty/period.hpp"
#include "crmkit/loyalty/segments.hpp"
#include "crmkit/store/store.hpp"

namespace crmkit {
inline namespace v0 {

struct SegmentOptions {
  // Rule segments, compiled against store_fact_schema(store, ...) or any schema whose facts
  // facts_as_of computes (with `windows` below). None: RFM segments.
  std::optional<RuleSegments> rules;
  // RFM grid and tie rule (RFM segments only).
  RfmOptions rfm;
  // Declared window facts the rules read.
  std::vector<WindowFact> windows;
  // A fitted model for rules reading p_alive / expected_purchases_365d.
  FactModel model;
};

// The segment of every customer as of a date.
struct SegmentMembership {
  Timestamp as_of;
  std::vector<CustomerId> customer_id;   // ascending: every customer that exists as of the date
  std::vector<std::string> external_id;  // same rows
  SegmentLabels labels;                  // same rows; -1 = no segment (RFM: no purchase yet)

  std::size_t size() const noexcept { return customer_id.size(); }
};

// Segment membership as of `as_of` (see the top). Segment names: RFM in rfm_segment_names order
// (of options.rfm.segments), rules in their order then the fallback.
// Throws Error{invalid_argument} if a rule reads a fact facts_as_of cannot compute, and as
// facts_as_of; Error{storage} if the store is closed.
SegmentMembership segments_as_of(const Store& store, Timestamp as_of,
                                 const SegmentOptions& options = {});

// The drift matrix from `start` to `end` (crmkit/loyalty/segments.hpp's segment_drift) over
// every customer that exists at `end`; customers created after `start` are in the "none" row.
// Throws Error{invalid_argument} if end is before start, and as segments_as_of.
DriftMatrix segment_drift(const Store& store, Timestamp start, Timestamp end,
                          const SegmentOptions& options = {});

// The dates of a series from `start` to `end` by `period`: start, the last instant (the next
// period's start minus 1 microsecond) of every period that ends strictly between them, and end.
// With start and end at month ends that is every month end. Throws Error{invalid_argument} if end
// is not after start.
std::vector<Timestamp> drift_series_dates(Timestamp start, Timestamp end, Period period);

// The drift of each consecutive pair of drift_series_dates (crmkit/loyalty/segments.hpp's
// segment_drift_series: the same axes in every step). Throws as drift_series_dates and
// segments_as_of.
DriftSeries segment_drift_series(const Store& store, Timestamp start, Timestamp end,
                                 Period period = Period::month,
                                 const SegmentOptions& options = {});

// Segment sizes and revenue as of a date with the mainstream segments (the k largest by customers
// and by revenue; ties by name; crmkit/loyalty/segments.hpp).
struct StoreMainstreamSegments {
  Timestamp as_of;
  std::vector<std::string> segment;   // every segment, in segmentation order
  std::vector<std::int64_t> customers;
  std::vector<Money> revenue;         // net revenue as of the date, the store's currency
  std::vector<std::string> by_customers;
  std::vector<std::string> by_revenue;
};

// Throws as segments_as_of; Error{overflow} if a segment's revenue leaves int64 minor units.
StoreMainstreamSegments mainstream_segments(const Store& store, Timestamp as_of, std::size_t k = 3,
                                            const SegmentOptions& options = {});

}  // namespace v0
}  // namespace crmkit
