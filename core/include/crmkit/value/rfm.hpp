// crmkit/value/rfm.hpp: RFM scores (quintiles 1..5 of recency, frequency and monetary value) and the
// named segment of each customer, as pure functions over columns.
//
// Scoring follows the usual pandas recipe, computed exactly:
//  - Each column is sorted; a row's position in that order is its rank 1..n.
//  - The ranks are cut into 5 equal-count bins (pandas qcut(ranks, 5, labels=[1, 2, 3, 4, 5])):
//    rank r of n (n >= 2) scores max(1, ceil(5 * (r - 1) / (n - 1))), in integer arithmetic. So
//    n = 10 distinct values score 1,1,2,2,3,3,4,4,5,5 and n = 4 scores 1,2,4,5, n = 3 scores
//    1,3,5, n = 2 scores 1,5. A single row scores 3 (pandas' qcut refuses one value: all bin
//    edges coincide).
//  - Ties (RfmTies). By default (RfmTies::shared) tied values share one score: the lowest score
//    that any of their ranks gets. For F and M, whose largest value scores 5, that is the score of
//    the group's first rank: pandas qcut on rank(method="min"), computed as above; every one-time
//    buyer gets the same F. For R it is the lowest R (the score of the group's last rank in the
//    recency column, rank(method="max")). Scores then depend only on the values, never on the
//    order of the rows. RfmTies::row_order keeps crmkit's earlier rule: ties broken by position,
//    the earlier row ranking lower (pandas rank(method="first")), so equal values can get
//    different scores and reordering rows changes them.
//  - R is reversed: the lowest recency value (the most recent customer) scores 5, i.e.
//    R = 6 - the quintile score of the recency column. F and M: the largest value scores 5.
//  - FM = round((F + M) / 2) with halves rounded up: F = 2, M = 3 gives FM = 3.
//  - The segment is looked up in a 5x5 grid of R by FM (rfm_segment).
//
// Thread-safety: pure functions; call them from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace crmkit {
inline namespace v0 {

// A 5x5 grid of segment names: element (R - 1) * 5 + (FM - 1) names the segment of scores R, FM.
// Note the order: R = 1 first (the table below lists R = 5 first, as it is usually printed).
using RfmSegmentGrid = std::array<std::string, 25>;

// The default grid:
//   R \ FM | 1                | 2                  | 3                  | 4               | 5
//   5      | Recent Customers | Potential Loyalist | Loyal Customers    | Champions       | Champions
//   4      | Promising        | Potential Loyalist | Potential Loyalist | Loyal Customers | Champions
//   3      | Promising        | Need Attention     | Potential Loyalist | Loyal Customers | Loyal Customers
//   2      | About to Sleep   | Need Attention     | Need Attention     | At Risk         | At Risk
//   1      | Lost             | Hibernating        | At Risk            | Can't Lose Them | Can't Lose Them
const RfmSegmentGrid& default_rfm_segments() noexcept;

// How tied values are scored (see the top of this file).
enum class RfmTies {
  shared,     // tied values share the lowest score of their ranks; independent of row order
  row_order,  // ties broken by row position, the earlier row ranking lower (the rule of 0.1.0)
};

struct RfmOptions {
  // Segment names by R and FM; see RfmSegmentGrid for the layout.
  RfmSegmentGrid segments = default_rfm_segments();
  // How tied values are scored. shared (the default) makes scores independent of row order.
  RfmTies ties = RfmTies::shared;
};

// Scores per customer, in input order; all columns have the input's length.
struct RfmScores {
  std::vector<std::int32_t> r;   // 1..5; 5 = lowest recency value (most recent)
  std::vector<std::int32_t> f;   // 1..5; 5 = highest frequency
  std::vector<std::int32_t> m;   // 1..5; 5 = highest monetary value
  std::vector<std::int32_t> fm;  // round((f + m) / 2), halves up
  std::vector<std::string> segment;

  std::size_t size() const noexcept { return r.size(); }
};

// Quintile scores 1..5 of one column (rank, then 5 equal-count bins; see the top of this file);
// the largest value scores 5. With RfmTies::shared tied values share the score of their first
// (lowest) rank; with RfmTies::row_order ties are broken by position. Empty input gives an empty
// result. Throws Error{invalid_argument} naming `field` and the index for a NaN
// ("values[3]: is NaN").
std::vector<std::int32_t> quintile_scores(std::span<const double> values,
                                          std::string_view field = "values",
                                          RfmTies ties = RfmTies::shared);

// The segment name of scores r and fm in `segments`.
// Throws Error{invalid_argument} if r or fm is not in 1..5.
const std::string& rfm_segment(int r, int fm,
                               const RfmSegmentGrid& segments = default_rfm_segments());

// Scores and segments from three columns of equal length. `recency_value` is any recency where
// lower is better: days since the last purchase, or T - recency of an RfmSummary (the summary's
// own `recency` is the customer's age at the last purchase, where higher is better).
// Throws Error{invalid_argument} when the lengths differ ("frequency: length 3 differs from
// recency_value (4)") or a value is NaN.
RfmScores rfm_scores(std::span<const double> recency_value, std::span<const double> frequency,
                     std::span<const double> monetary, const RfmOptions& options = {});

}  // namespace v0
}  // namespace crmkit
