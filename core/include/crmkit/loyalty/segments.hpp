// crmkit/loyalty/segments.hpp: customer segments and how customers move between them, as pure
// functions over columns (docs/segments.md): RFM segments (the value engine's,
// crmkit/value/rfm.hpp) or rule segments (JSON Logic over declared facts, crmkit/rules), the
// mainstream segments (the largest by customers and by revenue), the drift matrix between two
// dates and a series of them. crmkit/analytics/segments.hpp runs the same on a Store.
//
// Conventions:
//  - Membership is a SegmentLabels: the segment names in a fixed order and one code per customer,
//    an index into those names or -1 ("none": the customer is not in any segment at that date,
//    e.g. not yet acquired). Codes make the drift a single counting pass.
//  - Rule segments are an ordered list of {name, condition}: a customer belongs to the first
//    segment whose condition holds; customers matching none belong to the fallback segment.
//  - The order of segments: rule segments in their declared order, then the fallback; RFM
//    segments in the order rfm_segment_names gives (best first).
//  - Drift from A to B over the same customers: counts[from][to] = customers in segment `from`
//    at A and `to` at B. Rows are A's segments then "none" (customers without a segment at A, such
//    as customers acquired between the two dates); columns are B's segments, then "none" only if
//    some customer with a segment at A has none at B. So row sums (without the "none" row) are
//    A's segment sizes and column sums are B's. Customers with no segment at either date are not
//    counted.
//  - Mainstream segments: the k largest segments by customer count, and the k largest by revenue;
//    ties are broken by segment name (byte order, ascending); segments without customers are
//    never mainstream.
//
// Thread-safety: pure functions and immutable values; call them from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crmkit/base/time.hpp"
#include "crmkit/rules/facts.hpp"
#include "crmkit/rules/rules.hpp"
#include "crmkit/value/rfm.hpp"

namespace crmkit {
inline namespace v0 {

// The label of "no segment" in drift matrices and tables.
inline constexpr std::string_view kNoSegment = "none";

// The segment of each customer at one date.
struct SegmentLabels {
  std::vector<std::string> names;  // the segments, in the segmentation's order; unique
  std::vector<std::int32_t> code;  // per customer: an index into names, or -1 (no segment)

  std::size_t size() const noexcept { return code.size(); }
  // The name of customer i's segment, or kNoSegment. Precondition: i < size().
  std::string_view name(std::size_t i) const noexcept;
  // Customers per segment, in names order.
  std::vector<std::int64_t> sizes() const;
};

// Labels from one segment name per customer; an empty name means no segment. The names are
// `order` first (every one of them, present or not), then the others in ascending byte order.
// Throws Error{invalid_argument} for a name repeated in `order` ("order[2]: 'x' is listed twice")
// or an `order` entry that is empty or "none".
SegmentLabels labels_from_names(std::span<const std::string> segment,
                                std::span<const std::string> order = {});

// ---- RFM segments ----

// The distinct names of `grid`, best first: the grid read from (R = 5, FM = 5) down to
// (R = 1, FM = 1), R first, each name at its first appearance. The default grid gives Champions,
// Loyal Customers, Potential Loyalist, Recent Customers, Promising, Need Attention, At Risk,
// About to Sleep, Can't Lose Them, Hibernating, Lost.
std::vector<std::string> rfm_segment_names(const RfmSegmentGrid& grid = default_rfm_segments());

// The labels of RFM scores (rfm_scores of crmkit/value/rfm.hpp), with the names of `grid` in
// rfm_segment_names order. Throws Error{invalid_argument} if a score is not in 1..5 (naming the
// row: "r[4]: must be in 1..5, got 0") or the columns differ in length.
SegmentLabels rfm_segment_labels(const RfmScores& scores,
                                 const RfmSegmentGrid& grid = default_rfm_segments());

// ---- rule segments ----

struct SegmentRule {
  std::string name;  // 1..128 bytes, not "none", unique within the list
  Rule when;         // the condition (strict JSON Logic); true when it holds
};

// An ordered list of rule segments: first match wins, the rest fall in `fallback`.
struct RuleSegments {
  std::vector<SegmentRule> segments;
  std::string fallback = "Other";  // the segment of customers matching no rule

  // The segment names: the rules' names in order, then the fallback.
  std::vector<std::string> names() const;
  // The facts the rules read, each once, in the order of the schema they were compiled against.
  std::vector<std::string> facts_used() const;
};

// Reads rule segments from JSON text and compiles every condition against `schema`:
//   {"segments": [{"name": "VIP", "when": {">=": [{"var": "net_revenue"}, 1000]}},
//                 {"name": "Lapsed", "when": {">": [{"var": "days_since_last_purchase"}, 365]},
//                  "description": "..."}],
//    "fallback": "Regular"}
// "fallback" is optional ("Other"); "description" is accepted and ignored. Throws
// Error{invalid_argument} naming the JSON path under `path`: malformed JSON ("segments: ..."), an
// unknown member ("segments.segments[1].colour: unknown member"), a missing or bad name
// ("segments.segments[0].name: must be a non-empty string"), a name repeated or equal to the
// fallback or "none" ("segments.segments[2].name: 'VIP' is used twice"), an empty list, and every
// load error of the condition ("segments.segments[1].when.>[0]: unknown fact 'x'").
RuleSegments rule_segments_from_json_text(std::string_view text, const FactSchema& schema,
                                          std::string_view path = "segments");

// The segment of every row of `facts` (first rule that holds, else the fallback), in the order of
// `segments.names()`. `facts` may have another schema than the rules were compiled against if it
// declares every fact they read with the same type (the rules are then recompiled against it).
// `member`, when not empty, has facts.rows() elements and a row with 0 gets no segment (-1).
// Throws Error{invalid_argument} for a fact the table lacks or has with another type, or a
// `member` of the wrong length.
SegmentLabels rule_segment_labels(const RuleSegments& segments, const FactTable& facts,
                                  std::span<const std::uint8_t> member = {});

// ---- segmentation from a purchase log, at several dates in one pass ----

// Per customer at one date: the inputs of recency / frequency / monetary segment rules.
struct PurchaseRfm {
  Timestamp as_of;
  std::vector<std::uint8_t> acquired;      // 1 if the customer has a purchase at or before as_of
  std::vector<std::int64_t> recency_days;  // whole days from the last purchase to as_of
                                           // (floor((as_of - t) / 1 day)); 0 if not acquired
  std::vector<std::int64_t> frequency;     // purchases at or before as_of
  std::vector<std::int64_t> monetary_minor;  // sum of their amounts, in minor units
};

// The facts of purchase_rfm_table: recency_days (integer), frequency (integer), monetary (number,
// major units); all three are missing for a customer not acquired.
FactSchema purchase_rfm_schema();

// The PurchaseRfm columns as a FactTable of purchase_rfm_schema; monetary = monetary_minor /
// 10^scale (a double). Throws Error{invalid_argument} for a scale outside 0..18.
FactTable purchase_rfm_table(const PurchaseRfm& rfm, int scale = 2);

// R, F and M of every customer at each of `dates` from one pass over a purchase log whose
// customers are dense indexes 0..customers-1 (factorise ids first). Element d of the result is
// as of dates[d]. Rows need no order. Memory: customers * dates.size() * 24 bytes of cells, plus
// the output. Above 1,000,000 rows the pass runs on up to model_threads() threads
// (crmkit/value/models.hpp): when the cells exceed 8 MiB, rows are first scattered by block of
// customers, 2^21 rows at a time (48 MiB), and threads take disjoint blocks; otherwise each
// thread adds a block of rows into cells of its own, merged after. Results do not depend on the
// thread count. 10,000,000 rows of 1,000,000 customers at two dates: about 0.4 s of CPU.
// Throws Error{invalid_argument} for columns of different lengths ("times: length 3 differs from
// customer_index (4)"), an index outside 0..customers-1 ("customer_index[7]: 12 is not below
// customers (10)"), or Error{overflow} if a customer's sum leaves int64.
std::vector<PurchaseRfm> purchase_rfm_as_of(std::size_t customers,
                                            std::span<const std::int64_t> customer_index,
                                            std::span<const std::int64_t> times,
                                            std::span<const std::int64_t> amounts_minor,
                                            std::span<const Timestamp> dates);

// Rule segments over purchase_rfm_schema at each of `dates`: purchase_rfm_as_of, then
// rule_segment_labels with acquired as the member column (customers not yet acquired get no
// segment). `segments` must read only the facts of purchase_rfm_schema. Throws as those two.
std::vector<SegmentLabels> purchase_segments(std::size_t customers,
                                             std::span<const std::int64_t> customer_index,
                                             std::span<const std::int64_t> times,
                                             std::span<const std::int64_t> amounts_minor,
                                             std::span<const Timestamp> dates,
                                             const RuleSegments& segments, int scale = 2);

// ---- drift ----

// How customers moved between segments from one date to another (see the top).
struct DriftMatrix {
  std::vector<std::string> from;     // row labels: the first date's segments, then "none"
  std::vector<std::string> to;       // column labels: the second date's, then "none" if needed
  std::vector<std::int64_t> counts;  // from.size() x to.size(), row-major

  std::size_t rows() const noexcept { return from.size(); }
  std::size_t columns() const noexcept { return to.size(); }
  // Precondition: row < rows(), column < columns().
  std::int64_t at(std::size_t row, std::size_t column) const noexcept {
    return counts[row * to.size() + column];
  }
  // The cell of two labels; 0 if either label is not in the matrix.
  std::int64_t count(std::string_view from_segment, std::string_view to_segment) const noexcept;
  std::vector<std::int64_t> row_sums() const;
  std::vector<std::int64_t> column_sums() const;
  // Customers counted (the sum of all cells).
  std::int64_t total() const noexcept;
};

// The drift from `from` to `to` (labels of the same customers, in the same order). Segments are
// `from`'s names, then `to`'s names that `from` lacks, in their order: both axes list the same
// segments (plus "none"), so an empty segment still has its row and column. O(customers + k^2).
// Throws Error{invalid_argument} if the sizes differ ("to: 3 customers, from has 4") or a code
// is out of range ("from.code[5]: 12 is not a segment").
DriftMatrix segment_drift(const SegmentLabels& from, const SegmentLabels& to);

// Drift between consecutive dates: dates[i] -> dates[i + 1] for each step.
struct DriftSeries {
  std::vector<Timestamp> dates;      // the dates, ascending
  std::vector<DriftMatrix> steps;    // dates.size() - 1 matrices (none for fewer than 2 dates)
};

// The drift of each consecutive pair of `labels` (same customers in each), dated by `dates`
// (same length, strictly ascending). Every step has the same axes: the union of all names in
// order of appearance, plus "none". Throws Error{invalid_argument} for lengths that differ, dates
// that do not ascend, and as segment_drift.
DriftSeries segment_drift_series(std::span<const SegmentLabels> labels,
                                 std::span<const Timestamp> dates);

// ---- mainstream segments ----

struct SegmentSizes {
  std::vector<std::string> segment;       // every segment, in the labels' order
  std::vector<std::int64_t> customers;    // customers in it
  std::vector<std::int64_t> revenue_minor;  // their revenue, minor units (0 without revenue)

  std::size_t size() const noexcept { return segment.size(); }
};

struct MainstreamSegments {
  SegmentSizes sizes;
  std::vector<std::string> by_customers;  // the k largest by customers, largest first
  std::vector<std::string> by_revenue;    // the k largest by revenue, largest first
};

// Segment sizes and the mainstream segments (see the top) of `labels`. `revenue_minor` is empty
// (revenue 0 for all) or has one value per customer (customers without a segment are ignored).
// Throws Error{invalid_argument} if revenue_minor has another length, Error{overflow} if a
// segment's revenue leaves int64.
MainstreamSegments mainstream_segments(const SegmentLabels& labels,
                                       std::span<const std::int64_t> revenue_minor = {},
                                       std::size_t k = 3);

}  // namespace v0
}  // namespace crmkit
