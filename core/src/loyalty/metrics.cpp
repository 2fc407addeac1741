// Loyalty metrics over columns (crmkit/loyalty/metrics.hpp). The definitions are in the header
// and docs/loyalty-metrics.md; this file explains only how they are computed.
#include "crmkit/loyalty/metrics.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/calendar.hpp"
#include "crmkit/base/error.hpp"
#include "crmkit/value/models.hpp"

namespace crmkit {
inline namespace v0 {

using detail::floor_div;
using detail::kMicrosPerDay;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// The cohort matrix holds periods x periods cells (per thread while it is filled).
constexpr std::size_t kMaxCohortPeriods = 8192;

double ratio(std::int64_t num, std::int64_t den) {
  return den == 0 ? kNaN : static_cast<double>(num) / static_cast<double>(den);
}

template <typename A, typename B>
void check_same_length(const A& a, const char* name_a, const B& b, const char* name_b) {
  if (a.size() != b.size()) {
    throw_invalid(name_b, "has " + std::to_string(b.size()) + " rows, " + name_a + " has " +
                              std::to_string(a.size()));
  }
}

void check_start(const std::optional<Timestamp>& start, Timestamp as_of, const char* field) {
  if (start && start->micros() > as_of.micros()) {
    throw_invalid(field, start->to_string() + " is after as_of " + as_of.to_string());
  }
}

// The last microsecond of period `p` (the instant a period is measured at).
std::int64_t period_end(std::int64_t p, Period period) {
  return period_start(p + 1, period).micros() - 1;
}

PeriodAxis make_axis(Period period, std::int64_t first, std::int64_t last, Timestamp as_of) {
  PeriodAxis a;
  a.period = period;
  for (std::int64_t p = first; p <= last; ++p) {
    a.index.push_back(p);
    a.label.push_back(period_label(p, period));
    a.start_micros.push_back(period_start(p, period).micros());
    a.end_micros.push_back(p == last ? as_of.micros() : period_end(p, period));
  }
  a.last_period_incomplete = as_of.micros() != period_end(period_index(as_of, period), period);
  return a;
}

// Maps int64 ids to dense codes 0..n-1 in order of first appearance: through a table when the ids
// span a small range, else through a hash map.
class DenseIds {
 public:
  explicit DenseIds(std::span<const std::int64_t> ids) {
    if (ids.empty()) return;
    auto [mn, mx] = std::minmax_element(ids.begin(), ids.end());
    min_ = *mn;
    const std::uint64_t span = static_cast<std::uint64_t>(*mx) - static_cast<std::uint64_t>(*mn);
    if (span < 4 * static_cast<std::uint64_t>(ids.size()) + 1024) {
      table_.assign(static_cast<std::size_t>(span + 1), -1);
      direct_ = true;
    }
    codes_.resize(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) codes_[i] = insert(ids[i]);
  }
  // The code of `id`, or -1 if it was not among the ids.
  std::int64_t find(std::int64_t id) const {
    if (direct_) {
      if (id < min_) return -1;
      const auto off = static_cast<std::uint64_t>(id) - static_cast<std::uint64_t>(min_);
      return off < table_.size() ? table_[off] : -1;
    }
    auto it = map_.find(id);
    return it == map_.end() ? -1 : it->second;
  }
  std::int64_t code(std::size_t row) const { return codes_[row]; }
  std::size_t size() const noexcept { return count_; }

 private:
  std::int64_t insert(std::int64_t id) {
    if (direct_) {
      std::int64_t& slot = table_[static_cast<std::uint64_t>(id) - static_cast<std::uint64_t>(min_)];
      if (slot < 0) slot = static_cast<std::int64_t>(count_++);
      return slot;
    }
    auto [it, added] = map_.try_emplace(id, static_cast<std::int64_t>(count_));
    if (added) ++count_;
    return it->second;
  }
  bool direct_ = false;
  std::int64_t min_ = 0;
  std::vector<std::int64_t> table_;
  std::unordered_map<std::int64_t, std::int64_t> map_;
  std::vector<std::int64_t> codes_;
  std::size_t count_ = 0;
};

// The purchases at or before as_of grouped by customer: customer g's times are
// times[offset[g] .. offset[g + 1]), ascending. ids[g] is its id.
struct Grouped {
  std::vector<std::int64_t> ids;
  std::vector<std::size_t> offset;
  std::vector<std::int64_t> times;
  std::size_t customers() const noexcept { return ids.size(); }
};

Grouped group_by_customer(std::span<const std::int64_t> customer,
                          std::span<const std::int64_t> at, Timestamp as_of) {
  std::vector<std::int64_t> keep_id;
  std::vector<std::int64_t> keep_at;
  for (std::size_t i = 0; i < customer.size(); ++i) {
    if (at[i] > as_of.micros()) continue;
    keep_id.push_back(customer[i]);
    keep_at.push_back(at[i]);
  }
  DenseIds dense(keep_id);
  Grouped g;
  const std::size_t n = dense.size();
  g.ids.resize(n);
  g.offset.assign(n + 1, 0);
  for (std::size_t i = 0; i < keep_id.size(); ++i) {
    const auto c = static_cast<std::size_t>(dense.code(i));
    g.ids[c] = keep_id[i];
    ++g.offset[c + 1];
  }
  for (std::size_t c = 0; c < n; ++c) g.offset[c + 1] += g.offset[c];
  g.times.resize(keep_at.size());
  std::vector<std::size_t> fill(g.offset.begin(), g.offset.end() - 1);
  for (std::size_t i = 0; i < keep_id.size(); ++i) {
    g.times[fill[static_cast<std::size_t>(dense.code(i))]++] = keep_at[i];
  }
  for (std::size_t c = 0; c < n; ++c) {
    std::sort(g.times.begin() + static_cast<std::ptrdiff_t>(g.offset[c]),
              g.times.begin() + static_cast<std::ptrdiff_t>(g.offset[c + 1]));
  }
  return g;
}

// ---- cohort retention ---------------------------------------------------------------------

// Period index (relative to the first kept day's period) of each day in [min_day, max_day].
std::vector<std::int32_t> day_table(std::int64_t min_day, std::int64_t max_day, Period period,
                                    std::int64_t base) {
  std::vector<std::int32_t> table(static_cast<std::size_t>(max_day - min_day + 1));
  for (std::int64_t d = min_day; d <= max_day; ++d) {
    table[static_cast<std::size_t>(d - min_day)] = static_cast<std::int32_t>(
        period_index(Timestamp::from_micros(d * kMicrosPerDay), period) - base);
  }
  return table;
}

void run_blocks(unsigned threads, std::size_t n, const auto& body) {
  if (threads <= 1) {
    body(0u, std::size_t{0}, n);
    return;
  }
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    const std::size_t lo = n * t / threads;
    const std::size_t hi = n * (t + 1) / threads;
    pool.emplace_back([&body, t, lo, hi] { body(t, lo, hi); });
  }
  for (std::thread& th : pool) th.join();
}

}  // namespace

std::int64_t CohortMatrix::customers() const noexcept {
  return std::accumulate(size.begin(), size.end(), std::int64_t{0});
}

CohortMatrix cohort_retention(std::span<const std::int64_t> customer,
                              std::span<const std::int64_t> at_micros, Period period,
                              Timestamp as_of, const CohortOptions& options) {
  check_same_length(customer, "customer", at_micros, "at_micros");
  const std::size_t n = customer.size();
  const std::int64_t cut = as_of.micros();

  CohortMatrix m;
  m.period = period;
  m.as_of_micros = cut;
  m.as_of_period = period_index(as_of, period);
  m.last_period_incomplete = cut != period_end(m.as_of_period, period);

  unsigned threads = options.threads == 0 ? model_threads() : options.threads;
  if (n < 200'000) threads = 1;
  threads = std::max(1u, std::min(threads, 16u));

  // Pass 0: the ranges of ids and times of the rows at or before as_of.
  struct Range {
    std::int64_t id_lo = std::numeric_limits<std::int64_t>::max();
    std::int64_t id_hi = std::numeric_limits<std::int64_t>::min();
    std::int64_t t_lo = std::numeric_limits<std::int64_t>::max();
    std::size_t kept = 0;
  };
  std::vector<Range> ranges(threads);
  run_blocks(threads, n, [&](unsigned t, std::size_t lo, std::size_t hi) {
    Range r;
    for (std::size_t i = lo; i < hi; ++i) {
      const std::int64_t at = at_micros[i];
      if (at > cut) continue;
      const std::int64_t id = customer[i];
      r.id_lo = std::min(r.id_lo, id);
      r.id_hi = std::max(r.id_hi, id);
      r.t_lo = std::min(r.t_lo, at);
      ++r.kept;
    }
    ranges[t] = r;
  });
  Range all;
  for (const Range& r : ranges) {
    all.id_lo = std::min(all.id_lo, r.id_lo);
    all.id_hi = std::max(all.id_hi, r.id_hi);
    all.t_lo = std::min(all.t_lo, r.t_lo);
    all.kept += r.kept;
  }
  if (all.kept == 0) return m;

  const std::int64_t base = period_index(Timestamp::from_micros(all.t_lo), period);
  const auto periods = static_cast<std::size_t>(m.as_of_period - base + 1);
  if (periods > kMaxCohortPeriods) {
    throw_invalid("period", "the matrix would span " + std::to_string(periods) + " " +
                                to_string(period) + "s (at most " +
                                std::to_string(kMaxCohortPeriods) +
                                "): use a longer period or drop the purchases before the cohorts "
                                "of interest");
  }
  const std::size_t words = (periods + 63) / 64;
  const std::int64_t min_day = floor_div(all.t_lo, kMicrosPerDay);
  const std::int64_t max_day = floor_div(cut, kMicrosPerDay);
  // A table from day to period when the days span at most 2^24 (45,000 years); past that, the
  // calendar arithmetic per row.
  const bool by_table = static_cast<std::uint64_t>(max_day) - static_cast<std::uint64_t>(min_day) <
                        (std::uint64_t{1} << 24);
  const std::vector<std::int32_t> days =
      by_table ? day_table(min_day, max_day, period, base) : std::vector<std::int32_t>{};
  const auto period_of = [&](std::int64_t at) -> std::size_t {
    if (by_table) {
      // at >= t_lo >= min_day's start, so the division needs no floor correction.
      return static_cast<std::size_t>(
          days[static_cast<std::size_t>((at - min_day * kMicrosPerDay) / kMicrosPerDay)]);
    }
    return static_cast<std::size_t>(period_index(Timestamp::from_micros(at), period) - base);
  };

  // Customer slots: id - id_lo when the ids span a small range, else dense codes from a hash map.
  const std::uint64_t id_span =
      static_cast<std::uint64_t>(all.id_hi) - static_cast<std::uint64_t>(all.id_lo);
  const bool direct = id_span < 4 * static_cast<std::uint64_t>(all.kept) + 1024;
  std::vector<std::int64_t> codes;  // only when not direct
  std::size_t slots = 0;
  if (direct) {
    slots = static_cast<std::size_t>(id_span + 1);
  } else {
    std::unordered_map<std::int64_t, std::int64_t> map;
    map.reserve(all.kept / 2);
    codes.assign(n, -1);
    for (std::size_t i = 0; i < n; ++i) {
      if (at_micros[i] > cut) continue;
      auto [it, added] = map.try_emplace(customer[i], static_cast<std::int64_t>(map.size()));
      codes[i] = it->second;
    }
    slots = map.size();
  }

  std::vector<std::vector<std::int64_t>> cells(threads);
  // One bitset per thread: up to 512 periods (8 words per customer) and 2^26 words (512 MiB) in
  // all. Past that (long spans of days or weeks, where a customer's bits are sparse), sorted
  // (customer, period) pairs on one thread.
  const bool by_bits = words <= 8 && static_cast<double>(slots) * static_cast<double>(words) *
                                             threads <=
                                         static_cast<double>(std::uint64_t{1} << 26);
  if (by_bits) {
    // Pass 1: one bit per (customer, period since base).
    std::vector<std::vector<std::uint64_t>> bits(threads);
    run_blocks(threads, n, [&](unsigned t, std::size_t lo, std::size_t hi) {
      std::vector<std::uint64_t>& b = bits[t];
      b.assign(slots * words, 0);
      std::uint64_t* out = b.data();
      if (by_table && direct && words == 1) {  // the common case, kept branch-light
        const std::int32_t* table = days.data();
        const std::int64_t day0 = min_day * kMicrosPerDay;
        for (std::size_t i = lo; i < hi; ++i) {
          const std::int64_t at = at_micros[i];
          if (at > cut) continue;
          const auto p = static_cast<unsigned>(table[(at - day0) / kMicrosPerDay]);
          out[static_cast<std::size_t>(customer[i] - all.id_lo)] |= std::uint64_t{1} << p;
        }
        return;
      }
      for (std::size_t i = lo; i < hi; ++i) {
        const std::int64_t at = at_micros[i];
        if (at > cut) continue;
        const std::size_t slot = direct ? static_cast<std::size_t>(customer[i] - all.id_lo)
                                        : static_cast<std::size_t>(codes[i]);
        const std::size_t p = period_of(at);
        out[slot * words + p / 64] |= std::uint64_t{1} << (p % 64);
      }
    });
    // Pass 2: per customer, its first period (the cohort) and every period it bought in.
    run_blocks(threads, slots, [&](unsigned t, std::size_t lo, std::size_t hi) {
      std::vector<std::int64_t>& c = cells[t];
      c.assign(periods * periods, 0);
      std::vector<std::uint64_t> merged(words);
      for (std::size_t s = lo; s < hi; ++s) {
        bool any = false;
        for (std::size_t w = 0; w < words; ++w) {
          std::uint64_t v = 0;
          for (unsigned k = 0; k < threads; ++k) v |= bits[k][s * words + w];
          merged[w] = v;
          any = any || v != 0;
        }
        if (!any) continue;
        std::size_t first = periods;
        for (std::size_t w = 0; w < words; ++w) {
          std::uint64_t v = merged[w];
          while (v != 0) {
            const std::size_t p = w * 64 + static_cast<std::size_t>(std::countr_zero(v));
            v &= v - 1;
            if (first == periods) first = p;
            ++c[first * periods + (p - first)];
          }
        }
      }
    });
  } else {
    threads = 1;
    cells.resize(1);
    std::vector<std::pair<std::size_t, std::size_t>> pairs;  // (slot, period)
    pairs.reserve(all.kept);
    for (std::size_t i = 0; i < n; ++i) {
      const std::int64_t at = at_micros[i];
      if (at > cut) continue;
      const std::size_t slot = direct ? static_cast<std::size_t>(customer[i] - all.id_lo)
                                      : static_cast<std::size_t>(codes[i]);
      pairs.emplace_back(slot, period_of(at));
    }
    std::sort(pairs.begin(), pairs.end());
    pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
    std::vector<std::int64_t>& c = cells[0];
    c.assign(periods * periods, 0);
    std::size_t first = 0;
    for (std::size_t j = 0; j < pairs.size(); ++j) {
      if (j == 0 || pairs[j].first != pairs[j - 1].first) first = pairs[j].second;
      ++c[first * periods + (pairs[j].second - first)];
    }
  }
  std::vector<std::int64_t>& total = cells[0];
  for (unsigned t = 1; t < threads; ++t) {
    for (std::size_t i = 0; i < total.size(); ++i) total[i] += cells[t][i];
  }

  // Rows: base .. the last cohort with a customer.
  std::size_t rows = 0;
  for (std::size_t c = 0; c < periods; ++c) {
    if (total[c * periods] > 0) rows = c + 1;
  }
  m.ages = periods;
  for (std::size_t c = 0; c < rows; ++c) {
    const std::int64_t size = total[c * periods];
    m.cohort.push_back(base + static_cast<std::int64_t>(c));
    m.label.push_back(period_label(base + static_cast<std::int64_t>(c), period));
    m.size.push_back(size);
    for (std::size_t k = 0; k < periods; ++k) {
      if (c + k >= periods) {
        m.counts.push_back(-1);
        m.shares.push_back(kNaN);
      } else {
        const std::int64_t v = total[c * periods + k];
        m.counts.push_back(v);
        m.shares.push_back(ratio(v, size));
      }
    }
  }
  return m;
}

// ---- retention and churn ---------------------------------------------------------------------

RetentionTable retention(std::span<const std::int64_t> customer,
                         std::span<const std::int64_t> at_micros, Period period, Timestamp as_of,
                         const RetentionOptions& options) {
  check_same_length(customer, "customer", at_micros, "at_micros");
  if (options.active_days < 1 || options.active_days > 36500) {
    throw_invalid("active_days", "must be in 1..36500, got " + std::to_string(options.active_days));
  }
  check_start(options.start, as_of, "start");
  const Grouped g = group_by_customer(customer, at_micros, as_of);
  RetentionTable r;
  const std::int64_t last = period_index(as_of, period);
  std::int64_t first = last + 1;
  if (!g.times.empty()) {
    first = period_index(Timestamp::from_micros(*std::min_element(g.times.begin(), g.times.end())),
                         period);
  }
  if (options.start) first = period_index(*options.start, period);
  if (first > last) {
    r.periods = make_axis(period, 1, 0, as_of);
    return r;
  }
  // Counters over periods lo .. last + 1 (lo = one before the first period anything happens).
  std::int64_t lo = first;
  for (std::size_t c = 0; c < g.customers(); ++c) {
    lo = std::min(lo, period_index(Timestamp::from_micros(g.times[g.offset[c]]), period));
  }
  --lo;
  const auto span_n = static_cast<std::size_t>(last + 2 - lo);
  std::vector<std::int64_t> d_end(span_n + 1, 0), d_ret(span_n + 1, 0), acquired(span_n, 0),
      reactivated(span_n, 0);
  auto at = [lo](std::int64_t p) { return static_cast<std::size_t>(p - lo); };
  const std::int64_t window = static_cast<std::int64_t>(options.active_days) * kMicrosPerDay;
  std::vector<std::pair<std::int64_t, std::int64_t>> spans;
  for (std::size_t c = 0; c < g.customers(); ++c) {
    const std::int64_t* t0 = g.times.data() + g.offset[c];
    const std::int64_t* t1 = g.times.data() + g.offset[c + 1];
    const std::int64_t first_p = period_index(Timestamp::from_micros(*t0), period);
    ++acquired[at(first_p)];
    // The periods p < last whose end lies in [t, t + window), merged.
    spans.clear();
    for (const std::int64_t* t = t0; t != t1; ++t) {
      const std::int64_t a = period_index(Timestamp::from_micros(*t), period);
      const std::int64_t b = std::min(period_index(Timestamp::from_micros(*t + window), period) - 1,
                                      last - 1);
      if (a > b) continue;
      if (!spans.empty() && a <= spans.back().second + 1) {
        spans.back().second = std::max(spans.back().second, b);
      } else {
        spans.emplace_back(a, b);
      }
    }
    // The last period is measured at as_of.
    if (*(t1 - 1) > as_of.micros() - window) {
      if (!spans.empty() && spans.back().second == last - 1) {
        spans.back().second = last;
      } else {
        spans.emplace_back(last, last);
      }
    }
    for (std::size_t s = 0; s < spans.size(); ++s) {
      const auto [a, b] = spans[s];
      ++d_end[at(a)];
      --d_end[at(b) + 1];
      ++d_ret[at(a) + 1];
      --d_ret[at(b) + 1];
      if (a != first_p) ++reactivated[at(a)];
    }
  }
  std::vector<std::int64_t> active(span_n, 0), retained(span_n, 0);
  std::int64_t e = 0, k = 0;
  for (std::size_t i = 0; i < span_n; ++i) {
    e += d_end[i];
    k += d_ret[i];
    active[i] = e;
    retained[i] = k;
  }
  r.periods = make_axis(period, first, last, as_of);
  for (std::int64_t p = first; p <= last; ++p) {
    const std::int64_t s = active[at(p) - 1];
    const std::int64_t en = active[at(p)];
    const std::int64_t n = acquired[at(p)];
    const std::int64_t kept = retained[at(p)];
    r.active_start.push_back(s);
    r.active_end.push_back(en);
    r.acquired.push_back(n);
    r.retained.push_back(kept);
    r.reactivated.push_back(reactivated[at(p)]);
    r.churned.push_back(s - kept);
    const double rate = ratio(en - n, s);
    r.retention_rate.push_back(rate);
    r.churn_rate.push_back(s == 0 ? kNaN : 1.0 - rate);
    r.strict_retention_rate.push_back(ratio(kept, s));
    r.strict_churn_rate.push_back(ratio(s - kept, s));
  }
  return r;
}

// ---- repeat purchase rate ---------------------------------------------------------------------

RepeatRate repeat_purchase_rate(std::span<const std::int64_t> customer,
                                std::span<const std::int64_t> at_micros, Timestamp as_of) {
  check_same_length(customer, "customer", at_micros, "at_micros");
  const Grouped g = group_by_customer(customer, at_micros, as_of);
  RepeatRate r;
  r.customers = static_cast<std::int64_t>(g.customers());
  for (std::size_t c = 0; c < g.customers(); ++c) {
    if (g.offset[c + 1] - g.offset[c] >= 2) ++r.repeat_customers;
  }
  r.rate = ratio(r.repeat_customers, r.customers);
  return r;
}

RepeatRateTable repeat_purchase_rate(std::span<const std::int64_t> customer,
                                     std::span<const std::int64_t> at_micros, Period period,
                                     Timestamp as_of, std::optional<Timestamp> start) {
  check_same_length(customer, "customer", at_micros, "at_micros");
  check_start(start, as_of, "start");
  const Grouped g = group_by_customer(customer, at_micros, as_of);
  RepeatRateTable r;
  const std::int64_t last = period_index(as_of, period);
  std::int64_t first = last + 1;
  std::int64_t lo = last + 1;
  for (std::size_t c = 0; c < g.customers(); ++c) {
    lo = std::min(lo, period_index(Timestamp::from_micros(g.times[g.offset[c]]), period));
  }
  first = start ? period_index(*start, period) : lo;
  r.periods = make_axis(period, first, last, as_of);
  if (first > last) return r;
  lo = std::min(lo, first);
  const auto span_n = static_cast<std::size_t>(last + 1 - lo);
  std::vector<std::int64_t> buyers(span_n, 0), repeat(span_n, 0), firsts(span_n, 0),
      seconds(span_n, 0);
  for (std::size_t c = 0; c < g.customers(); ++c) {
    std::int64_t run_p = 0;
    std::size_t run = 0;
    for (std::size_t i = g.offset[c]; i < g.offset[c + 1]; ++i) {
      const std::int64_t p = period_index(Timestamp::from_micros(g.times[i]), period);
      if (i == g.offset[c]) ++firsts[static_cast<std::size_t>(p - lo)];
      if (i == g.offset[c] + 1) ++seconds[static_cast<std::size_t>(p - lo)];
      if (run > 0 && p == run_p) {
        ++run;
      } else {
        run_p = p;
        run = 1;
        ++buyers[static_cast<std::size_t>(p - lo)];
      }
      if (run == 2) ++repeat[static_cast<std::size_t>(p - lo)];
    }
  }
  std::int64_t cum1 = 0, cum2 = 0;
  for (std::int64_t p = lo; p <= last; ++p) {
    const auto i = static_cast<std::size_t>(p - lo);
    cum1 += firsts[i];
    cum2 += seconds[i];
    if (p < first) continue;
    r.buyers.push_back(buyers[i]);
    r.repeat_buyers.push_back(repeat[i]);
    r.rate.push_back(ratio(repeat[i], buyers[i]));
    r.customers.push_back(cum1);
    r.repeat_customers.push_back(cum2);
    r.cumulative_rate.push_back(ratio(cum2, cum1));
  }
  return r;
}

// ---- surveys ----------------------------------------------------------------------------------

namespace {

enum class ScoreKind { nps, csat };

void check_scores(std::span<const std::int8_t> score, ScoreKind kind, const char* field) {
  for (std::size_t i = 0; i < score.size(); ++i) {
    const int v = score[i];
    const bool ok = kind == ScoreKind::nps ? (v >= -1 && v <= 10) : (v == -1 || (v >= 1 && v <= 5));
    if (!ok) {
      throw_invalid(std::string(field) + "[" + std::to_string(i) + "]",
                    kind == ScoreKind::nps ? "an NPS answer must be 0..10 (or -1: none), got " +
                                                 std::to_string(v)
                                           : "a CSAT answer must be 1..5 (or -1: none), got " +
                                                 std::to_string(v));
    }
  }
}

// The rows that count: answered (`answered(i)`), at or before as_of and, with `from`, at or
// after it; each with its period key (0 when `period` is none). With latest_only, only the
// latest row of each (customer, key): the greatest time, then the greatest row.
struct Selected {
  std::vector<std::size_t> row;
  std::vector<std::int64_t> key;
};

Selected select_rows(std::span<const std::int64_t> customer, std::span<const std::int64_t> at,
                     const auto& answered, Timestamp as_of, std::optional<std::int64_t> from,
                     std::optional<Period> period, bool latest_only) {
  Selected s;
  for (std::size_t i = 0; i < customer.size(); ++i) {
    if (!answered(i) || at[i] > as_of.micros()) continue;
    if (from && at[i] < *from) continue;
    s.row.push_back(i);
    s.key.push_back(period ? period_index(Timestamp::from_micros(at[i]), *period) : 0);
  }
  if (!latest_only) return s;
  std::vector<std::size_t> order(s.row.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const std::size_t ra = s.row[a], rb = s.row[b];
    if (customer[ra] != customer[rb]) return customer[ra] < customer[rb];
    if (s.key[a] != s.key[b]) return s.key[a] < s.key[b];
    if (at[ra] != at[rb]) return at[ra] < at[rb];
    return ra < rb;
  });
  Selected out;
  for (std::size_t j = 0; j < order.size(); ++j) {
    const std::size_t a = order[j];
    const bool last_of_group =
        j + 1 == order.size() || customer[s.row[order[j + 1]]] != customer[s.row[a]] ||
        s.key[order[j + 1]] != s.key[a];
    if (!last_of_group) continue;
    out.row.push_back(s.row[a]);
    out.key.push_back(s.key[a]);
  }
  return out;
}

// The first period of a per-period survey report: start's, else the earliest selected row's.
std::int64_t first_period(const Selected& s, std::optional<Timestamp> start, Period period,
                          std::int64_t last) {
  if (start) return period_index(*start, period);
  if (s.key.empty()) return last + 1;
  return *std::min_element(s.key.begin(), s.key.end());
}

void check_survey(std::span<const std::int64_t> customer, std::span<const std::int64_t> at,
                  std::span<const std::int8_t> score, const char* score_name, ScoreKind kind,
                  const std::optional<Timestamp>& start, Timestamp as_of) {
  check_same_length(customer, "customer", at, "at_micros");
  check_same_length(customer, "customer", score, score_name);
  check_scores(score, kind, score_name);
  check_start(start, as_of, "start");
}

std::optional<std::int64_t> start_micros(const std::optional<Timestamp>& start) {
  if (!start) return std::nullopt;
  return start->micros();
}

}  // namespace

Nps nps(std::span<const std::int64_t> customer, std::span<const std::int64_t> at_micros,
        std::span<const std::int8_t> score, Timestamp as_of, const SurveyOptions& options) {
  check_survey(customer, at_micros, score, "score", ScoreKind::nps, options.start, as_of);
  const Selected s = select_rows(
      customer, at_micros, [&](std::size_t i) { return score[i] >= 0; }, as_of,
      start_micros(options.start), std::nullopt, options.latest_only);
  Nps r;
  for (std::size_t i : s.row) {
    ++r.responses;
    if (score[i] >= 9) ++r.promoters;
    else if (score[i] >= 7) ++r.passives;
    else ++r.detractors;
  }
  r.score = r.responses == 0 ? kNaN : 100.0 * ratio(r.promoters - r.detractors, r.responses);
  return r;
}

NpsTable nps(std::span<const std::int64_t> customer, std::span<const std::int64_t> at_micros,
             std::span<const std::int8_t> score, Period period, Timestamp as_of,
             const SurveyOptions& options) {
  check_survey(customer, at_micros, score, "score", ScoreKind::nps, options.start, as_of);
  const Selected s = select_rows(
      customer, at_micros, [&](std::size_t i) { return score[i] >= 0; }, as_of,
      std::nullopt, period, options.latest_only);
  const std::int64_t last = period_index(as_of, period);
  const std::int64_t first = first_period(s, options.start, period, last);
  NpsTable t;
  t.periods = make_axis(period, first, last, as_of);
  const std::size_t n = t.periods.size();
  t.responses.assign(n, 0);
  t.promoters.assign(n, 0);
  t.passives.assign(n, 0);
  t.detractors.assign(n, 0);
  for (std::size_t j = 0; j < s.row.size(); ++j) {
    if (s.key[j] < first) continue;
    const auto p = static_cast<std::size_t>(s.key[j] - first);
    const int v = score[s.row[j]];
    ++t.responses[p];
    if (v >= 9) ++t.promoters[p];
    else if (v >= 7) ++t.passives[p];
    else ++t.detractors[p];
  }
  for (std::size_t p = 0; p < n; ++p) {
    t.score.push_back(t.responses[p] == 0
                          ? kNaN
                          : 100.0 * ratio(t.promoters[p] - t.detractors[p], t.responses[p]));
  }
  return t;
}

Csat csat(std::span<const std::int64_t> customer, std::span<const std::int64_t> at_micros,
          std::span<const std::int8_t> score, Timestamp as_of, const SurveyOptions& options) {
  check_survey(customer, at_micros, score, "score", ScoreKind::csat, options.start, as_of);
  const Selected s = select_rows(
      customer, at_micros, [&](std::size_t i) { return score[i] >= 1; }, as_of,
      start_micros(options.start), std::nullopt, options.latest_only);
  Csat r;
  for (std::size_t i : s.row) {
    ++r.responses;
    if (score[i] >= 4) ++r.satisfied;
  }
  r.score = ratio(r.satisfied, r.responses);
  return r;
}

CsatTable csat(std::span<const std::int64_t> customer, std::span<const std::int64_t> at_micros,
               std::span<const std::int8_t> score, Period period, Timestamp as_of,
               const SurveyOptions& options) {
  check_survey(customer, at_micros, score, "score", ScoreKind::csat, options.start, as_of);
  const Selected s = select_rows(
      customer, at_micros, [&](std::size_t i) { return score[i] >= 1; }, as_of,
      std::nullopt, period, options.latest_only);
  const std::int64_t last = period_index(as_of, period);
  const std::int64_t first = first_period(s, options.start, period, last);
  CsatTable t;
  t.periods = make_axis(period, first, last, as_of);
  const std::size_t n = t.periods.size();
  t.responses.assign(n, 0);
  t.satisfied.assign(n, 0);
  for (std::size_t j = 0; j < s.row.size(); ++j) {
    if (s.key[j] < first) continue;
    const auto p = static_cast<std::size_t>(s.key[j] - first);
    ++t.responses[p];
    if (score[s.row[j]] >= 4) ++t.satisfied[p];
  }
  for (std::size_t p = 0; p < n; ++p) t.score.push_back(ratio(t.satisfied[p], t.responses[p]));
  return t;
}

// ---- referral rate ----------------------------------------------------------------------------

namespace {

// Per customer of the purchases (at or before as_of), the time of its first purchase.
std::unordered_map<std::int64_t, std::int64_t> first_purchases(
    std::span<const std::int64_t> customer, std::span<const std::int64_t> at, Timestamp as_of) {
  std::unordered_map<std::int64_t, std::int64_t> first;
  for (std::size_t i = 0; i < customer.size(); ++i) {
    if (at[i] > as_of.micros()) continue;
    auto [it, added] = first.try_emplace(customer[i], at[i]);
    if (!added) it->second = std::min(it->second, at[i]);
  }
  return first;
}

void check_referral_columns(std::span<const std::int64_t> pc, std::span<const std::int64_t> pa,
                            std::span<const std::int64_t> rc, std::span<const std::int64_t> ra) {
  check_same_length(pc, "purchase_customer", pa, "purchase_at_micros");
  check_same_length(rc, "referrer", ra, "referral_at_micros");
}

}  // namespace

ReferralRate referral_rate(std::span<const std::int64_t> purchase_customer,
                           std::span<const std::int64_t> purchase_at_micros,
                           std::span<const std::int64_t> referrer,
                           std::span<const std::int64_t> referral_at_micros, Timestamp as_of,
                           std::optional<Timestamp> start) {
  check_referral_columns(purchase_customer, purchase_at_micros, referrer, referral_at_micros);
  check_start(start, as_of, "start");
  const auto first = first_purchases(purchase_customer, purchase_at_micros, as_of);
  ReferralRate r;
  r.customers = static_cast<std::int64_t>(first.size());
  std::vector<std::int64_t> who;
  for (std::size_t i = 0; i < referrer.size(); ++i) {
    const std::int64_t t = referral_at_micros[i];
    if (t > as_of.micros() || (start && t < start->micros())) continue;
    ++r.referrals;
    who.push_back(referrer[i]);
  }
  std::sort(who.begin(), who.end());
  who.erase(std::unique(who.begin(), who.end()), who.end());
  for (std::int64_t id : who) {
    if (first.count(id)) ++r.referrers;
    else ++r.referrers_without_purchase;
  }
  r.rate = ratio(r.referrers, r.customers);
  return r;
}

ReferralRateTable referral_rate(std::span<const std::int64_t> purchase_customer,
                                std::span<const std::int64_t> purchase_at_micros,
                                std::span<const std::int64_t> referrer,
                                std::span<const std::int64_t> referral_at_micros, Period period,
                                Timestamp as_of, std::optional<Timestamp> start) {
  check_referral_columns(purchase_customer, purchase_at_micros, referrer, referral_at_micros);
  check_start(start, as_of, "start");
  const auto first_at = first_purchases(purchase_customer, purchase_at_micros, as_of);
  const std::int64_t last = period_index(as_of, period);
  std::int64_t lo = last + 1;
  std::unordered_map<std::int64_t, std::int64_t> first_p;  // customer -> period of 1st purchase
  for (const auto& [id, t] : first_at) {
    const std::int64_t p = period_index(Timestamp::from_micros(t), period);
    first_p.emplace(id, p);
    lo = std::min(lo, p);
  }
  std::vector<std::pair<std::int64_t, std::int64_t>> refs;  // (period, referrer)
  for (std::size_t i = 0; i < referrer.size(); ++i) {
    if (referral_at_micros[i] > as_of.micros()) continue;
    const std::int64_t p = period_index(Timestamp::from_micros(referral_at_micros[i]), period);
    refs.emplace_back(p, referrer[i]);
    lo = std::min(lo, p);
  }
  const std::int64_t first = start ? period_index(*start, period) : lo;
  ReferralRateTable t;
  t.periods = make_axis(period, first, last, as_of);
  if (first > last) return t;
  lo = std::min(lo, first);
  const auto span_n = static_cast<std::size_t>(last + 1 - lo);
  std::vector<std::int64_t> acquired(span_n, 0), referrals(span_n, 0), referrers(span_n, 0),
      others(span_n, 0);
  for (const auto& [id, p] : first_p) ++acquired[static_cast<std::size_t>(p - lo)];
  for (const auto& [p, id] : refs) ++referrals[static_cast<std::size_t>(p - lo)];
  std::sort(refs.begin(), refs.end());
  refs.erase(std::unique(refs.begin(), refs.end()), refs.end());
  for (const auto& [p, id] : refs) {
    auto it = first_p.find(id);
    if (it != first_p.end() && it->second <= p) ++referrers[static_cast<std::size_t>(p - lo)];
    else ++others[static_cast<std::size_t>(p - lo)];
  }
  std::int64_t customers = 0;
  for (std::int64_t p = lo; p <= last; ++p) {
    const auto i = static_cast<std::size_t>(p - lo);
    customers += acquired[i];
    if (p < first) continue;
    t.customers.push_back(customers);
    t.referrers.push_back(referrers[i]);
    t.referrers_without_purchase.push_back(others[i]);
    t.referrals.push_back(referrals[i]);
    t.rate.push_back(ratio(referrers[i], customers));
  }
  return t;
}

// ---- word of mouth ----------------------------------------------------------------------------

namespace {

// +1 satisfied, 0 neutral, -1 dissatisfied, by the NPS answer if given, else the CSAT answer.
int satisfaction(int nps_score, int csat_score) {
  if (nps_score >= 0) return nps_score >= 9 ? 1 : nps_score >= 7 ? 0 : -1;
  return csat_score >= 4 ? 1 : csat_score == 3 ? 0 : -1;
}

void check_wom(std::span<const std::int64_t> customer, std::span<const std::int64_t> at,
               std::span<const std::int8_t> nps_score, std::span<const std::int8_t> csat_score,
               Timestamp as_of, const WordOfMouthOptions& o) {
  check_same_length(customer, "customer", at, "at_micros");
  check_same_length(customer, "customer", nps_score, "nps_score");
  check_same_length(customer, "customer", csat_score, "csat_score");
  check_scores(nps_score, ScoreKind::nps, "nps_score");
  check_scores(csat_score, ScoreKind::csat, "csat_score");
  check_start(o.start, as_of, "start");
  for (auto [v, name] : {std::pair{o.tell_satisfied, "tell_satisfied"},
                         std::pair{o.tell_dissatisfied, "tell_dissatisfied"}}) {
    if (!std::isfinite(v) || v < 0) {
      throw_invalid(name, "must be a finite number >= 0, got " + std::to_string(v));
    }
  }
}

}  // namespace

WordOfMouth word_of_mouth(std::span<const std::int64_t> customer,
                          std::span<const std::int64_t> at_micros,
                          std::span<const std::int8_t> nps_score,
                          std::span<const std::int8_t> csat_score, Timestamp as_of,
                          const WordOfMouthOptions& options) {
  check_wom(customer, at_micros, nps_score, csat_score, as_of, options);
  const Selected s = select_rows(
      customer, at_micros, [&](std::size_t i) { return nps_score[i] >= 0 || csat_score[i] >= 1; },
      as_of, start_micros(options.start), std::nullopt, true);
  WordOfMouth w;
  for (std::size_t i : s.row) {
    const int v = satisfaction(nps_score[i], csat_score[i]);
    if (v > 0) ++w.satisfied;
    else if (v == 0) ++w.neutral;
    else ++w.dissatisfied;
  }
  w.positive_reach = static_cast<double>(w.satisfied) * options.tell_satisfied;
  w.negative_reach = static_cast<double>(w.dissatisfied) * options.tell_dissatisfied;
  w.net_reach = w.positive_reach - w.negative_reach;
  return w;
}

WordOfMouthTable word_of_mouth(std::span<const std::int64_t> customer,
                               std::span<const std::int64_t> at_micros,
                               std::span<const std::int8_t> nps_score,
                               std::span<const std::int8_t> csat_score, Period period,
                               Timestamp as_of, const WordOfMouthOptions& options) {
  check_wom(customer, at_micros, nps_score, csat_score, as_of, options);
  const Selected s = select_rows(
      customer, at_micros, [&](std::size_t i) { return nps_score[i] >= 0 || csat_score[i] >= 1; },
      as_of, std::nullopt, period, true);
  const std::int64_t last = period_index(as_of, period);
  const std::int64_t first = first_period(s, options.start, period, last);
  WordOfMouthTable t;
  t.periods = make_axis(period, first, last, as_of);
  const std::size_t n = t.periods.size();
  t.satisfied.assign(n, 0);
  t.neutral.assign(n, 0);
  t.dissatisfied.assign(n, 0);
  for (std::size_t j = 0; j < s.row.size(); ++j) {
    if (s.key[j] < first) continue;
    const auto p = static_cast<std::size_t>(s.key[j] - first);
    const int v = satisfaction(nps_score[s.row[j]], csat_score[s.row[j]]);
    if (v > 0) ++t.satisfied[p];
    else if (v == 0) ++t.neutral[p];
    else ++t.dissatisfied[p];
  }
  for (std::size_t p = 0; p < n; ++p) {
    const double pos = static_cast<double>(t.satisfied[p]) * options.tell_satisfied;
    const double neg = static_cast<double>(t.dissatisfied[p]) * options.tell_dissatisfied;
    t.positive_reach.push_back(pos);
    t.negative_reach.push_back(neg);
    t.net_reach.push_back(pos - neg);
  }
  return t;
}

}  // namespace v0
}  // namespace crmkit
