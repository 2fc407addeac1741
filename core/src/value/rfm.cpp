// RFM scores: ranks by sorting (value, row) pairs, then the qcut bin of each rank in exact integer
// arithmetic (pandas computes the same edges in floating point: 1 + (n - 1) * j / 5,
// right-closed, the lowest edge included). Tied values are scored by one rank of their group
// (RfmTies::shared) or by their own position (RfmTies::row_order).
#include "crmkit/value/rfm.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

#include "crmkit/base/error.hpp"
#include "fields.hpp"

namespace crmkit {
inline namespace v0 {
namespace {

void check_length(std::size_t n, std::size_t expected, std::string_view field) {
  if (n != expected) {
    throw_invalid(field, "length " + std::to_string(n) + " differs from recency_value (" +
                             std::to_string(expected) + ")");
  }
}

}  // namespace

const RfmSegmentGrid& default_rfm_segments() noexcept {
  static const RfmSegmentGrid grid = {
      // R = 1, FM = 1..5
      "Lost", "Hibernating", "At Risk", "Can't Lose Them", "Can't Lose Them",
      // R = 2
      "About to Sleep", "Need Attention", "Need Attention", "At Risk", "At Risk",
      // R = 3
      "Promising", "Need Attention", "Potential Loyalist", "Loyal Customers", "Loyal Customers",
      // R = 4
      "Promising", "Potential Loyalist", "Potential Loyalist", "Loyal Customers", "Champions",
      // R = 5
      "Recent Customers", "Potential Loyalist", "Loyal Customers", "Champions", "Champions",
  };
  return grid;
}

namespace {

// Which rank a group of tied values is scored by.
enum class TieRank { first_by_row, lowest, highest };

std::vector<std::int32_t> scores_by_rank(std::span<const double> values, std::string_view field,
                                         TieRank tie_rank) {
  const std::size_t n = values.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isnan(values[i])) {
      throw_invalid(detail::row_field(field, i), "is NaN");
    }
  }
  std::vector<std::int32_t> scores(n, 3);
  if (n < 2) return scores;
  // Sorting (value, row) pairs orders ties by row, as a stable sort would, and reads memory
  // sequentially.
  std::vector<std::pair<double, std::size_t>> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = {values[i], i};
  std::sort(order.begin(), order.end());
  const std::uint64_t span = n - 1;
  auto bin = [span](std::size_t rank0) {  // rank0 = rank - 1
    const std::uint64_t scaled = 5 * static_cast<std::uint64_t>(rank0);
    return std::max(static_cast<std::int32_t>((scaled + span - 1) / span), 1);  // ceil
  };
  for (std::size_t lo = 0; lo < n;) {
    std::size_t hi = lo + 1;  // the tie group is [lo, hi); -0.0 == 0.0 ties
    while (hi < n && order[hi].first == order[lo].first) ++hi;
    for (std::size_t rank0 = lo; rank0 < hi; ++rank0) {
      const std::size_t by = tie_rank == TieRank::first_by_row ? rank0
                             : tie_rank == TieRank::lowest   ? lo
                                                             : hi - 1;
      scores[order[rank0].second] = bin(by);
    }
    lo = hi;
  }
  return scores;
}

}  // namespace

std::vector<std::int32_t> quintile_scores(std::span<const double> values, std::string_view field,
                                          RfmTies ties) {
  return scores_by_rank(values, field,
                        ties == RfmTies::shared ? TieRank::lowest : TieRank::first_by_row);
}

const std::string& rfm_segment(int r, int fm, const RfmSegmentGrid& segments) {
  if (r < 1 || r > 5) throw_invalid("r", "must be in 1..5, got " + std::to_string(r));
  if (fm < 1 || fm > 5) throw_invalid("fm", "must be in 1..5, got " + std::to_string(fm));
  return segments[static_cast<std::size_t>((r - 1) * 5 + (fm - 1))];
}

RfmScores rfm_scores(std::span<const double> recency_value, std::span<const double> frequency,
                     std::span<const double> monetary, const RfmOptions& options) {
  check_length(frequency.size(), recency_value.size(), "frequency");
  check_length(monetary.size(), recency_value.size(), "monetary");
  RfmScores out;
  const bool shared = options.ties == RfmTies::shared;
  // R = 6 - the recency column's score: its lowest R is the score of the group's highest rank.
  out.r = scores_by_rank(recency_value, "recency_value",
                         shared ? TieRank::highest : TieRank::first_by_row);
  out.f = quintile_scores(frequency, "frequency", options.ties);
  out.m = quintile_scores(monetary, "monetary", options.ties);
  const std::size_t n = recency_value.size();
  out.fm.resize(n);
  out.segment.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    out.r[i] = 6 - out.r[i];
    out.fm[i] = (out.f[i] + out.m[i] + 1) / 2;  // halves up
    out.segment.push_back(rfm_segment(out.r[i], out.fm[i], options.segments));
  }
  return out;
}

}  // namespace v0
}  // namespace crmkit
