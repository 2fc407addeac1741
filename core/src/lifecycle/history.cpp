// History arithmetic over transition rows (crmkit/lifecycle/history.hpp).
#include "crmkit/lifecycle/history.hpp"

#include <algorithm>
#include <numeric>
#include <string>
#include <utility>

#include "base/text.hpp"
#include "crmkit/base/error.hpp"

namespace crmkit {
inline namespace v0 {

namespace {
constexpr double kMicrosPerDay = 86'400'000'000.0;

double days_between(std::int64_t from, std::int64_t to) {
  return static_cast<double>(to - from) / kMicrosPerDay;
}

// The row order (entity, time, input position), by a stable LSD radix sort on the entity (16-bit
// digits; digits shared by every key are skipped, so ids below 2^32 take two passes) and then,
// within each entity, a sort by time where the input was not in time order already. Input in
// that order already costs one pass. O(n) plus the per-entity sorts. `sorted_entity` receives
// the entity of each row in the returned order.
std::vector<std::uint32_t> sort_rows(const HistoryColumns& rows,
                                     std::vector<std::int64_t>& sorted_entity) {
  const std::size_t n = rows.entity.size();
  std::vector<std::uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  bool sorted = true;
  for (std::size_t i = 1; i < n && sorted; ++i) {
    sorted = rows.entity[i - 1] < rows.entity[i] ||
             (rows.entity[i - 1] == rows.entity[i] && rows.at[i - 1] <= rows.at[i]);
  }
  if (sorted) {
    sorted_entity.assign(rows.entity.begin(), rows.entity.end());
    return order;
  }

  constexpr std::uint64_t kSign = std::uint64_t{1} << 63;  // orders negative ids first
  std::vector<std::uint64_t> key(n);
  for (std::size_t i = 0; i < n; ++i) key[i] = static_cast<std::uint64_t>(rows.entity[i]) ^ kSign;
  std::vector<std::uint64_t> key_tmp(n);
  std::vector<std::uint32_t> order_tmp(n);
  std::vector<std::size_t> count(std::size_t{1} << 16);
  for (int shift = 0; shift < 64; shift += 16) {
    std::fill(count.begin(), count.end(), 0);
    for (std::size_t i = 0; i < n; ++i) ++count[(key[i] >> shift) & 0xffff];
    if (count[(key[0] >> shift) & 0xffff] == n) continue;  // every key has this digit
    std::size_t sum = 0;
    for (auto& c : count) {
      const std::size_t here = c;
      c = sum;
      sum += here;
    }
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t slot = count[(key[i] >> shift) & 0xffff]++;
      key_tmp[slot] = key[i];
      order_tmp[slot] = order[i];
    }
    key.swap(key_tmp);
    order.swap(order_tmp);
  }
  // Rows of one entity keep their input order (the sort is stable); put them in time order where
  // they are not (ties keep input order).
  const auto by_time = [&](std::uint32_t a, std::uint32_t b) {
    return rows.at[a] != rows.at[b] ? rows.at[a] < rows.at[b] : a < b;
  };
  for (std::size_t b = 0; b < n;) {
    std::size_t e = b + 1;
    bool in_order = true;
    while (e < n && key[e] == key[b]) {
      in_order = in_order && rows.at[order[e - 1]] <= rows.at[order[e]];
      ++e;
    }
    if (!in_order) std::sort(order.begin() + static_cast<std::ptrdiff_t>(b),
                             order.begin() + static_cast<std::ptrdiff_t>(e), by_time);
    b = e;
  }
  sorted_entity.resize(n);
  for (std::size_t k = 0; k < n; ++k) sorted_entity[k] = static_cast<std::int64_t>(key[k] ^ kSign);
  return order;
}
}  // namespace


double Funnel::rate(std::int32_t a, std::int32_t b) const {
  if (a < 0 || b < 0 || a >= state_count || b >= state_count)
    throw_error(ErrorCode::not_found, "funnel", "state index out of range");
  const auto n = entered[static_cast<std::size_t>(a)];
  if (n == 0) return 0.0;
  return static_cast<double>(reached[static_cast<std::size_t>(a) * state_count + b]) /
         static_cast<double>(n);
}

std::string History::state_name(std::int32_t s) const {
  if (s >= 0 && static_cast<std::size_t>(s) < names_.size())
    return detail::quote_text(names_[static_cast<std::size_t>(s)]);
  return std::to_string(s);
}

History::History(const HistoryColumns& rows, std::int32_t state_count,
                 std::vector<std::string> state_names)
    : state_count_(state_count), names_(std::move(state_names)) {
  const std::size_t n = rows.entity.size();
  if (state_count < 0) throw_invalid("history", "state_count must not be negative");
  if (!names_.empty() && names_.size() != static_cast<std::size_t>(state_count))
    throw_invalid("history", "state_names must name every state (" + std::to_string(state_count) +
                                 "), got " + std::to_string(names_.size()));
  if (rows.from.size() != n || rows.to.size() != n || rows.at.size() != n)
    throw_invalid("history", "the entity, from, to and at columns must have the same length (" +
                                 std::to_string(n) + ", " + std::to_string(rows.from.size()) +
                                 ", " + std::to_string(rows.to.size()) + ", " +
                                 std::to_string(rows.at.size()) + ")");
  for (std::size_t i = 0; i < n; ++i) {
    if (rows.to[i] < 0 || rows.to[i] >= state_count)
      throw_invalid("row " + std::to_string(i),
                    "to state " + std::to_string(rows.to[i]) + " is out of range (" +
                        std::to_string(state_count) + " states)");
    if (rows.from[i] < -1 || rows.from[i] >= state_count)
      throw_invalid("row " + std::to_string(i),
                    "from state " + std::to_string(rows.from[i]) + " is out of range (" +
                        std::to_string(state_count) + " states, or -1)");
  }
  std::vector<std::int64_t> sorted_entity;
  const std::vector<std::uint32_t> order = sort_rows(rows, sorted_entity);

  // One packed record per row, gathered in sorted order: one scattered read per row instead of
  // one per column.
  struct Packed {
    std::int64_t at;
    std::int32_t from;
    std::int32_t to;
  };
  std::vector<Packed> packed(n);
  for (std::size_t i = 0; i < n; ++i) packed[i] = Packed{rows.at[i], rows.from[i], rows.to[i]};
  at_.resize(n);
  from_.resize(n);
  to_.resize(n);
  for (std::size_t k = 0; k < n; ++k) {
    const Packed& r = packed[order[k]];
    at_[k] = r.at;
    from_[k] = r.from;
    to_[k] = r.to;
  }
  for (std::size_t k = 0; k < n; ++k) {
    const bool first = k == 0 || sorted_entity[k - 1] != sorted_entity[k];
    if (first) {
      entities_.push_back(sorted_entity[k]);
      offsets_.push_back(k);
    } else if (from_[k] == -1) {
      throw_invalid("row " + std::to_string(order[k]),
                    "entity " + std::to_string(sorted_entity[k]) +
                        " has from = -1 (creation) but is already in " + state_name(to_[k - 1]));
    } else if (from_[k] != to_[k - 1]) {
      throw_invalid("row " + std::to_string(order[k]),
                    "entity " + std::to_string(sorted_entity[k]) + " moves from " +
                        state_name(from_[k]) + " but is in " + state_name(to_[k - 1]));
    }
  }
  offsets_.push_back(n);
}

std::vector<std::int32_t> History::stages_as_of(Timestamp as_of) const {
  const std::int64_t t = as_of.micros();
  std::vector<std::int32_t> out(entities_.size(), -1);
  for (std::size_t e = 0; e < entities_.size(); ++e) {
    const auto b = at_.begin() + static_cast<std::ptrdiff_t>(offsets_[e]);
    const auto end = at_.begin() + static_cast<std::ptrdiff_t>(offsets_[e + 1]);
    // The last row with time <= t.
    const auto it = std::upper_bound(b, end, t);
    if (it != b) out[e] = to_[static_cast<std::size_t>(it - at_.begin()) - 1];
  }
  return out;
}

std::int32_t History::stage_as_of(std::int64_t entity, Timestamp as_of) const {
  const auto it = std::lower_bound(entities_.begin(), entities_.end(), entity);
  if (it == entities_.end() || *it != entity) return -1;
  const auto e = static_cast<std::size_t>(it - entities_.begin());
  const auto b = at_.begin() + static_cast<std::ptrdiff_t>(offsets_[e]);
  const auto end = at_.begin() + static_cast<std::ptrdiff_t>(offsets_[e + 1]);
  const auto r = std::upper_bound(b, end, as_of.micros());
  return r == b ? -1 : to_[static_cast<std::size_t>(r - at_.begin()) - 1];
}

std::vector<StageTime> History::stage_times(Timestamp as_of) const {
  const std::int64_t t = as_of.micros();
  std::vector<StageTime> out;
  std::vector<std::int32_t> slot(static_cast<std::size_t>(state_count_), -1);
  std::vector<std::int32_t> used;
  for (std::size_t e = 0; e < entities_.size(); ++e) {
    const std::size_t base = out.size();
    used.clear();
    for (std::size_t k = offsets_[e]; k < offsets_[e + 1] && at_[k] <= t; ++k) {
      const auto s = to_[k];
      auto& idx = slot[static_cast<std::size_t>(s)];
      if (idx < 0) {
        idx = static_cast<std::int32_t>(out.size() - base);
        used.push_back(s);
        StageTime st;
        st.entity = entities_[e];
        st.state = s;
        st.first_entered = Timestamp(at_[k]);
        out.push_back(st);
      }
      auto& st = out[base + static_cast<std::size_t>(idx)];
      st.latest_entered = Timestamp(at_[k]);
      ++st.stints;
      const bool has_next = k + 1 < offsets_[e + 1] && at_[k + 1] <= t;
      if (has_next) {
        st.last_exited = Timestamp(at_[k + 1]);
        st.days += days_between(at_[k], at_[k + 1]);
      } else {
        st.current = true;
        st.days += days_between(at_[k], t);
      }
    }
    for (auto s : used) slot[static_cast<std::size_t>(s)] = -1;
    std::sort(out.begin() + static_cast<std::ptrdiff_t>(base), out.end(),
              [](const StageTime& a, const StageTime& b) { return a.state < b.state; });
  }
  return out;
}

std::vector<std::int64_t> History::distribution(std::span<const Timestamp> dates) const {
  const auto S = static_cast<std::size_t>(state_count_);
  std::vector<std::int64_t> out(dates.size() * S, 0);
  if (dates.empty()) return out;
  // Sort the dates once; each stint [entry, next) adds 1 to the dates it covers: found by
  // binary search, then a difference array per state.
  std::vector<std::size_t> order(dates.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return dates[a] < dates[b]; });
  std::vector<std::int64_t> sorted(dates.size());
  for (std::size_t i = 0; i < order.size(); ++i) sorted[i] = dates[order[i]].micros();
  std::vector<std::int64_t> diff((dates.size() + 1) * S, 0);
  for (std::size_t e = 0; e < entities_.size(); ++e) {
    for (std::size_t k = offsets_[e]; k < offsets_[e + 1]; ++k) {
      // Dates d with at_[k] <= d < next.
      const auto lo = static_cast<std::size_t>(
          std::lower_bound(sorted.begin(), sorted.end(), at_[k]) - sorted.begin());
      std::size_t hi = sorted.size();
      if (k + 1 < offsets_[e + 1])
        hi = static_cast<std::size_t>(
            std::lower_bound(sorted.begin(), sorted.end(), at_[k + 1]) - sorted.begin());
      if (lo >= hi) continue;
      const auto s = static_cast<std::size_t>(to_[k]);
      diff[lo * S + s] += 1;
      diff[hi * S + s] -= 1;
    }
  }
  std::vector<std::int64_t> run(S, 0);
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    for (std::size_t s = 0; s < S; ++s) {
      run[s] += diff[i * S + s];
      out[order[i] * S + s] = run[s];
    }
  }
  return out;
}

std::vector<TransitionCount> History::transition_counts(Timestamp start, Timestamp end) const {
  const auto S = static_cast<std::size_t>(state_count_);
  std::vector<std::int64_t> counts((S + 1) * S, 0);  // from + 1 (0 = creation), to
  for (std::size_t k = 0; k < at_.size(); ++k)
    if (at_[k] >= start.micros() && at_[k] < end.micros())
      ++counts[static_cast<std::size_t>(from_[k] + 1) * S + static_cast<std::size_t>(to_[k])];
  std::vector<TransitionCount> out;
  for (std::size_t f = 0; f <= S; ++f)
    for (std::size_t s = 0; s < S; ++s)
      if (counts[f * S + s] != 0)
        out.push_back({static_cast<std::int32_t>(f) - 1, static_cast<std::int32_t>(s),
                       counts[f * S + s]});
  return out;
}

Funnel History::funnel(Timestamp start, Timestamp end) const {
  const auto S = static_cast<std::size_t>(state_count_);
  Funnel f;
  f.state_count = state_count_;
  f.entered.assign(S, 0);
  f.reached.assign(S * S, 0);
  // Per entity: first_in[a] = position of its first entry into a in the period; then every b
  // entered at a later position before `end` counts once for each such a.
  std::vector<std::size_t> first_in(S);
  std::vector<std::uint8_t> seen_b(S * S, 0);
  std::vector<std::int32_t> entered_states;
  constexpr std::size_t none = static_cast<std::size_t>(-1);
  std::fill(first_in.begin(), first_in.end(), none);
  for (std::size_t e = 0; e < entities_.size(); ++e) {
    entered_states.clear();
    for (std::size_t k = offsets_[e]; k < offsets_[e + 1] && at_[k] < end.micros(); ++k) {
      const auto b = static_cast<std::size_t>(to_[k]);
      for (auto a32 : entered_states) {
        const auto a = static_cast<std::size_t>(a32);
        if (first_in[a] < k && !seen_b[a * S + b]) {
          seen_b[a * S + b] = 1;
          ++f.reached[a * S + b];
        }
      }
      if (at_[k] >= start.micros() && first_in[b] == none) {
        first_in[b] = k;
        ++f.entered[b];
        entered_states.push_back(static_cast<std::int32_t>(b));
      }
    }
    for (auto a32 : entered_states) {
      const auto a = static_cast<std::size_t>(a32);
      first_in[a] = none;
      std::fill(seen_b.begin() + static_cast<std::ptrdiff_t>(a * S),
                seen_b.begin() + static_cast<std::ptrdiff_t>((a + 1) * S), 0);
    }
  }
  return f;
}

std::vector<std::optional<double>> History::median_durations(Timestamp as_of) const {
  const auto S = static_cast<std::size_t>(state_count_);
  std::vector<std::vector<std::int64_t>> spans(S);
  for (std::size_t e = 0; e < entities_.size(); ++e)
    for (std::size_t k = offsets_[e]; k + 1 < offsets_[e + 1] && at_[k + 1] <= as_of.micros(); ++k)
      spans[static_cast<std::size_t>(to_[k])].push_back(at_[k + 1] - at_[k]);
  std::vector<std::optional<double>> out(S);
  for (std::size_t s = 0; s < S; ++s) {
    auto& v = spans[s];
    if (v.empty()) continue;
    const std::size_t m = v.size() / 2;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(m), v.end());
    const std::int64_t hi = v[m];
    if (v.size() % 2 == 1) {
      out[s] = static_cast<double>(hi) / kMicrosPerDay;
    } else {
      const std::int64_t lo = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(m));
      out[s] = (static_cast<double>(lo) + static_cast<double>(hi)) / 2.0 / kMicrosPerDay;
    }
  }
  return out;
}

}  // namespace v0
}  // namespace crmkit
