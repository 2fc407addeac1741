// RFM summaries: one ordering of the rows by (customer, time), then one pass per customer.
// The pass is templated on how amounts are read and summed (none, double, exact int64 minor
// units summed in 128 bits) so that the three public overloads share one implementation without
// per-row branches.
#include "crmkit/value/summary.hpp"

#include "base/calendar.hpp"
#include "value/internal.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "crmkit/base/error.hpp"

namespace crmkit {
inline namespace v0 {
namespace {

// numpy's timedelta64(1, "M") in days (365.2425 / 12), which lifetimes divides month spans by.
constexpr double kDaysPerMeanMonth = 30.436875;
constexpr std::int64_t kMicrosPerHour = 3'600'000'000;

// The calendar arithmetic is base's (base/calendar.hpp).
using detail::day_of;
using detail::floor_div;
using detail::kMicrosPerDay;
using detail::month_index_of_day;
using detail::month_start_day;

// Period index of an instant: hours or days since the epoch, W-SUN weeks (1970-01-01 was a
// Thursday, so the week of day d starts on day 7 * floor((d + 3) / 7) - 3, a Monday), or months.
std::int64_t period_of(std::int64_t micros, TimeUnit unit) {
  if (unit == TimeUnit::hour) return floor_div(micros, kMicrosPerHour);
  const std::int64_t d = day_of(micros);
  switch (unit) {
    case TimeUnit::hour: break;  // above
    case TimeUnit::day: return d;
    case TimeUnit::week: return floor_div(d + 3, 7);
    case TimeUnit::month: return month_index_of_day(d);
  }
  return d;
}

// First microsecond of the period after `period`: rows before it are in or before `period`.
std::int64_t next_period_start_micros(std::int64_t period, TimeUnit unit) {
  std::int64_t day = 0;
  switch (unit) {
    case TimeUnit::hour: return (period + 1) * kMicrosPerHour;
    case TimeUnit::day: day = period + 1; break;
    case TimeUnit::week: day = 7 * (period + 1) - 3; break;
    case TimeUnit::month: day = month_start_day(period + 1); break;
  }
  return day * kMicrosPerDay;
}

// (start of period b - start of period a) in units, as lifetimes measures recency and T.
double period_span(std::int64_t a, std::int64_t b, TimeUnit unit) {
  if (unit == TimeUnit::month) {
    return static_cast<double>(month_start_day(b) - month_start_day(a)) / kDaysPerMeanMonth;
  }
  return static_cast<double>(b - a);
}

void check_length(std::size_t n, std::size_t expected, std::string_view field) {
  if (n != expected) {
    throw_invalid(field, "length " + std::to_string(n) + " differs from customer_ids (" +
                             std::to_string(expected) + ")");
  }
}

void check_multiplier(double multiplier) {
  if (!std::isfinite(multiplier) || multiplier <= 0.0) {
    throw_invalid("multiplier", "must be finite and > 0, got " + std::to_string(multiplier));
  }
}

// ---- exact sums of doubles ------------------------------------------------------------------

// The sum of v[0..n) correctly rounded (Shewchuk's partials, the algorithm of Python's
// math.fsum): the result does not depend on the order of the values, so rows of a customer that
// share a time (whose order is the input's row order) sum to the same amount in any order, on one
// machine or over the partitions of a cluster. Values are finite (validated); a sum that
// overflows is +-inf, as a plain sum would be.
double exact_sum(const double* v, std::size_t n) {
  if (n == 0) return 0.0;
  if (n <= 2) return n == 1 ? v[0] : v[0] + v[1];  // one rounding: already correctly rounded
  // Non-overlapping partials, smallest magnitude first; at most ~40 for finite doubles.
  std::array<double, 64> partials{};
  std::size_t count = 0;
  for (std::size_t k = 0; k < n; ++k) {
    double x = v[k];
    std::size_t kept = 0;
    for (std::size_t j = 0; j < count; ++j) {
      double y = partials[j];
      if (std::fabs(x) < std::fabs(y)) std::swap(x, y);
      const double hi = x + y;
      const double lo = y - (hi - x);
      if (lo != 0.0) partials[kept++] = lo;
      x = hi;
    }
    if (!std::isfinite(x)) return x;  // overflowed: no exact sum to round
    if (kept == partials.size()) return x;  // cannot happen for finite doubles
    partials[kept++] = x;
    count = kept;
  }
  // Sum the partials from the largest down, stopping at the first inexact step, then correct
  // the rounding to nearest-even as math.fsum does.
  std::size_t i = count;
  double hi = partials[--i], lo = 0.0;
  while (i > 0) {
    const double x = hi, y = partials[--i];
    hi = x + y;
    const double yr = hi - x;
    lo = y - yr;
    if (lo != 0.0) break;
  }
  if (i > 0 && ((lo < 0.0 && partials[i - 1] < 0.0) || (lo > 0.0 && partials[i - 1] > 0.0))) {
    const double y = lo * 2.0, x = hi + y, yr = x - hi;
    if (y == yr) hi = x;
  }
  return hi;
}

// ---- amount policies -----------------------------------------------------------------------

// values[rec[i].row] for every i: the amounts in (customer, time) order. Bound by random reads;
// large inputs are split into blocks of output rows over the model worker threads (each output
// slot is written once, so the result does not depend on the worker count).
template <class Sum, class V, class R>
std::vector<Sum> gather_rows(std::span<const V> values, const std::vector<R>& rec) {
  std::vector<Sum> out(rec.size());
  detail::parallel_blocks(rec.size(), 1 << 18, detail::threads_for(rec.size()),
                          [&](unsigned, std::size_t, std::size_t b, std::size_t e) {
                            for (std::size_t i = b; i < e; ++i) out[i] = values[rec[i].row];
                          });
  return out;
}

struct NoAmounts {
  using Value = std::int64_t;
  using Sum = std::int64_t;
  static constexpr bool present = false;
  static void add(Sum&, Sum) {}
  static Sum sum_range(const Value*, std::size_t) { return 0; }
  double to_major(Sum) const { return 0.0; }
  void validate() const {}
  template <class R>
  std::vector<Value> gather(const std::vector<R>&) const { return {}; }
};

struct DoubleAmounts {
  using Value = double;
  using Sum = double;
  static constexpr bool present = true;
  std::span<const double> values;
  template <class R>
  std::vector<Value> gather(const std::vector<R>& rec) const {
    return gather_rows<Value>(values, rec);
  }
  static void add(Sum& acc, Sum v) { acc += v; }
  // Correctly rounded: the same for the rows in any order (see exact_sum).
  static Sum sum_range(const Value* v, std::size_t n) { return exact_sum(v, n); }
  double to_major(Sum s) const { return s; }
  void validate() const {
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (!std::isfinite(values[i])) {
        throw_invalid("amounts[" + std::to_string(i) + "]", "not a finite number");
      }
    }
  }
};

// Exact minor units, summed in 128 bits: a sum of fewer than 2^64 int64 values stays within
// +-2^127, so no sum can overflow and no total near or past 2^63 minor units is refused. Only the
// mean is rounded, once, when it becomes a double.
__extension__ typedef __int128 WideSum;

struct MinorAmounts {
  using Value = std::int64_t;
  using Sum = WideSum;
  static constexpr bool present = true;
  std::span<const std::int64_t> values;
  double divisor = 1.0;
  template <class R>
  std::vector<Value> gather(const std::vector<R>& rec) const {
    return gather_rows<Value>(values, rec);
  }
  // Adds a row's amount (an int64, widened) or a period's sum (already 128 bits).
  static void add(Sum& acc, Sum v) { acc += v; }
  static Sum sum_range(const Value* v, std::size_t n) {
    Sum acc = 0;
    for (std::size_t k = 0; k < n; ++k) acc += v[k];
    return acc;
  }
  double to_major(Sum s) const { return static_cast<double>(s) / divisor; }
  void validate() const {}
};

MinorAmounts make_minor(std::span<const std::int64_t> values, int scale) {
  if (scale < 0 || scale > 18) {
    throw_invalid("scale", "must be in 0..18, got " + std::to_string(scale));
  }
  MinorAmounts a{values, 1.0};
  for (int i = 0; i < scale; ++i) a.divisor *= 10.0;
  return a;
}

// ---- ordering ------------------------------------------------------------------------------

// One row in (customer, time) order: its time, copied so that the passes read sequentially, and
// its original index, for the amount.
struct Rec {
  std::int64_t time;
  std::uint32_t row;
};

// The rows grouped by customer (groups in ascending id), each group in ascending time.
struct Ordered {
  std::vector<Rec> rec;
  std::vector<std::int64_t> group_id;
  std::vector<std::size_t> group_begin;  // size group_id.size() + 1

  std::size_t groups() const noexcept { return group_id.size(); }
};

std::uint64_t mix(std::uint64_t x) {  // splitmix64's finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Replaces each id by a dense code 0..k-1 in ascending id order; returns the k distinct ids.
// An open-addressing table assigns codes in order of first appearance; sorting the distinct ids
// then renumbers them.
std::vector<std::int64_t> factorise(std::span<const std::int64_t> ids,
                                    std::vector<std::uint32_t>& code) {
  constexpr std::uint32_t kEmpty = std::numeric_limits<std::uint32_t>::max();
  std::size_t capacity = 1024;
  std::vector<std::int64_t> keys(capacity);
  std::vector<std::uint32_t> values(capacity, kEmpty);
  std::vector<std::int64_t> distinct;
  const auto grow = [&] {
    capacity *= 2;
    std::vector<std::int64_t> new_keys(capacity);
    std::vector<std::uint32_t> new_values(capacity, kEmpty);
    for (std::uint32_t c = 0; c < distinct.size(); ++c) {
      std::size_t slot = mix(static_cast<std::uint64_t>(distinct[c])) & (capacity - 1);
      while (new_values[slot] != kEmpty) slot = (slot + 1) & (capacity - 1);
      new_keys[slot] = distinct[c];
      new_values[slot] = c;
    }
    keys.swap(new_keys);
    values.swap(new_values);
  };
  for (std::size_t i = 0; i < ids.size(); ++i) {
    std::size_t slot = mix(static_cast<std::uint64_t>(ids[i])) & (capacity - 1);
    while (values[slot] != kEmpty && keys[slot] != ids[i]) slot = (slot + 1) & (capacity - 1);
    if (values[slot] == kEmpty) {
      values[slot] = static_cast<std::uint32_t>(distinct.size());
      keys[slot] = ids[i];
      distinct.push_back(ids[i]);
      code[i] = values[slot];
      if (2 * distinct.size() > capacity) grow();
    } else {
      code[i] = values[slot];
    }
  }
  std::vector<std::uint32_t> by_id(distinct.size());
  std::iota(by_id.begin(), by_id.end(), std::uint32_t{0});
  std::sort(by_id.begin(), by_id.end(),
            [&](std::uint32_t a, std::uint32_t b) { return distinct[a] < distinct[b]; });
  std::vector<std::uint32_t> rank(distinct.size());
  std::vector<std::int64_t> sorted(distinct.size());
  for (std::uint32_t r = 0; r < by_id.size(); ++r) {
    rank[by_id[r]] = r;
    sorted[r] = distinct[by_id[r]];
  }
  for (auto& c : code) c = rank[c];
  return sorted;
}

// Orders the rows by (customer id, time, row). Input already in that order is copied as is;
// otherwise ids become dense codes (directly when their range is at most about 2n, else through
// factorise) and a counting sort groups the rows, after which each (short) group is sorted by
// time. O(n) apart from the per-customer sorts.
Ordered order_rows(std::span<const std::int64_t> ids, std::span<const std::int64_t> times) {
  const std::size_t n = ids.size();
  if (n >= std::numeric_limits<std::uint32_t>::max()) {
    throw_invalid("customer_ids", "more than 4294967294 transactions in one call");
  }
  Ordered out;
  out.rec.resize(n);
  bool sorted = true;
  for (std::size_t i = 1; i < n && sorted; ++i) {
    sorted = ids[i - 1] < ids[i] || (ids[i - 1] == ids[i] && times[i - 1] <= times[i]);
  }
  if (sorted) {
    for (std::size_t i = 0; i < n; ++i) {
      out.rec[i] = Rec{times[i], static_cast<std::uint32_t>(i)};
      if (i == 0 || ids[i] != ids[i - 1]) {
        out.group_id.push_back(ids[i]);
        out.group_begin.push_back(i);
      }
    }
    out.group_begin.push_back(n);
    return out;
  }

  std::vector<std::uint32_t> code(n);
  const auto [min_it, max_it] = std::minmax_element(ids.begin(), ids.end());
  const std::int64_t lo = *min_it;
  const auto range = static_cast<std::uint64_t>(*max_it) - static_cast<std::uint64_t>(lo);
  std::vector<std::int64_t> distinct;
  std::size_t codes = 0;
  if (range <= 2 * static_cast<std::uint64_t>(n) + 1024) {
    codes = static_cast<std::size_t>(range) + 1;
    for (std::size_t i = 0; i < n; ++i) code[i] = static_cast<std::uint32_t>(ids[i] - lo);
  } else {
    distinct = factorise(ids, code);
    codes = distinct.size();
  }
  std::vector<std::uint32_t> next(codes + 1, 0);
  for (std::size_t i = 0; i < n; ++i) ++next[code[i] + 1];
  std::partial_sum(next.begin(), next.end(), next.begin());
  for (std::size_t c = 0; c < codes; ++c) {
    if (next[c + 1] != next[c]) {
      out.group_id.push_back(distinct.empty() ? lo + static_cast<std::int64_t>(c) : distinct[c]);
      out.group_begin.push_back(next[c]);
    }
  }
  out.group_begin.push_back(n);
  // The scatter is bound by random writes. With several workers each one owns a contiguous range
  // of codes holding about n / workers rows: it reads every row but writes only its own, into
  // slots no other worker touches, so the result is the same for any worker count.
  const unsigned workers = detail::threads_for(n);
  std::vector<std::uint32_t> first_code(workers + 1, static_cast<std::uint32_t>(codes));
  first_code[0] = 0;
  for (unsigned w = 1, c = 0; w < workers; ++w) {
    const std::size_t target = n * w / workers;
    while (c < codes && next[c] < target) ++c;
    first_code[w] = static_cast<std::uint32_t>(c);
  }
  detail::parallel_blocks(workers, 1, workers, [&](unsigned, std::size_t w, std::size_t,
                                                   std::size_t) {
    const std::uint32_t lo_code = first_code[w], hi_code = first_code[w + 1];
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint32_t c = code[i];
      if (c >= lo_code && c < hi_code) out.rec[next[c]++] = Rec{times[i], static_cast<std::uint32_t>(i)};
    }
  });
  const auto by_time = [](const Rec& a, const Rec& b) {
    return a.time != b.time ? a.time < b.time : a.row < b.row;
  };
  detail::parallel_blocks(out.groups(), 65536, workers, [&](unsigned, std::size_t, std::size_t gb,
                                                            std::size_t ge) {
    for (std::size_t g = gb; g < ge; ++g) {
      const auto b = out.rec.begin() + static_cast<std::ptrdiff_t>(out.group_begin[g]);
      const auto e = out.rec.begin() + static_cast<std::ptrdiff_t>(out.group_begin[g + 1]);
      if (e - b > 32) {
        std::sort(b, e, by_time);
        continue;
      }
      for (auto i = b + 1; i < e; ++i) {  // insertion sort: groups are short
        const Rec r = *i;
        auto j = i;
        for (; j != b && by_time(r, *(j - 1)); --j) *j = *(j - 1);
        *j = r;
      }
    }
  });
  return out;
}

// ---- one customer's periods ----------------------------------------------------------------

template <class A>
struct PeriodStats {
  std::int64_t periods = 0;
  std::int64_t first = 0;  // period index of the first and last purchase
  std::int64_t last = 0;
  typename A::Sum counted_total{};  // sum of the per-period amounts that monetary_value averages
  std::int64_t counted = 0;
};

// Merges the rows [b, e) (one customer, ascending time) into periods; amount[k] is the amount
// of row b + k (unused without amounts).
template <class A>
PeriodStats<A> scan_periods(const typename A::Value* amount, const Rec* b, const Rec* e,
                            TimeUnit unit, bool include_first) {
  PeriodStats<A> s;
  std::int64_t current_period = 0;
  const Rec* period_begin = b;  // the current period's first row
  // A period's amount is the sum of its rows (A::sum_range: exact, so independent of the order
  // of rows that share a time); the periods are added in time order.
  const auto close = [&](const Rec* period_end) {
    if (s.periods > 0 && (include_first || s.periods > 1)) {
      if constexpr (A::present) {
        A::add(s.counted_total, A::sum_range(amount + (period_begin - b),
                                             static_cast<std::size_t>(period_end - period_begin)));
      }
      ++s.counted;
    }
  };
  for (const Rec* p = b; p != e; ++p) {
    const std::int64_t period = period_of(p->time, unit);
    if (s.periods == 0 || period != current_period) {
      close(p);
      if (s.periods == 0) s.first = period;
      ++s.periods;
      current_period = period;
      period_begin = p;
    }
  }
  close(e);
  s.last = current_period;
  return s;
}

template <class A>
double mean_of(const A& amounts, const PeriodStats<A>& s) {
  return s.counted == 0 ? 0.0 : amounts.to_major(s.counted_total) / static_cast<double>(s.counted);
}

// ---- summary -------------------------------------------------------------------------------

template <class A>
RfmSummary summarise(std::span<const std::int64_t> ids, std::span<const std::int64_t> times,
                     const A& amounts, const SummaryOptions& options) {
  check_length(times.size(), ids.size(), "times");
  if constexpr (A::present) check_length(amounts.values.size(), ids.size(), "amounts");
  check_multiplier(options.multiplier);
  amounts.validate();
  RfmSummary out;
  if (ids.empty()) return out;

  const std::int64_t end_micros = options.observation_period_end
                                      ? options.observation_period_end->micros()
                                      : *std::max_element(times.begin(), times.end());
  const TimeUnit unit = options.unit;
  const std::int64_t end_period = period_of(end_micros, unit);
  const std::int64_t cutoff = next_period_start_micros(end_period, unit);
  const double m = options.multiplier;

  const Ordered ordered = order_rows(ids, times);
  const std::vector<typename A::Value> sorted_amounts = amounts.gather(ordered.rec);
  const auto amount_of = [&](const Rec* r) {
    return sorted_amounts.data() + (A::present ? r - ordered.rec.data() : 0);
  };
  const std::size_t groups = ordered.groups();
  out.customer_id.reserve(groups);
  out.frequency.reserve(groups);
  out.recency.reserve(groups);
  out.T.reserve(groups);
  if constexpr (A::present) out.monetary_value.reserve(groups);
  out.first_purchase.reserve(groups);
  for (std::size_t g = 0; g < groups; ++g) {
    const Rec* b = ordered.rec.data() + ordered.group_begin[g];
    const Rec* e = ordered.rec.data() + ordered.group_begin[g + 1];
    const Rec* kept = b;
    while (kept != e && kept->time < cutoff) ++kept;
    if (kept == b) {
      if (!options.drop_customers_after_end) {
        throw_invalid("observation_period_end",
                      Timestamp(end_micros).to_string() + " is before the first purchase of customer " +
                          std::to_string(ordered.group_id[g]) + " (" + Timestamp(b->time).to_string() +
                          ")");
      }
      continue;
    }
    const PeriodStats<A> s = scan_periods<A>(amount_of(b), b, kept, unit,
                                             options.include_first_transaction);
    out.customer_id.push_back(ordered.group_id[g]);
    out.frequency.push_back(options.include_first_transaction ? s.periods : s.periods - 1);
    out.recency.push_back(period_span(s.first, s.last, unit) / m);
    out.T.push_back(period_span(s.first, end_period, unit) / m);
    if constexpr (A::present) out.monetary_value.push_back(mean_of(amounts, s));
    out.first_purchase.push_back(b->time);
  }
  return out;
}

// ---- calibration / holdout -----------------------------------------------------------------

template <class A>
CalibrationHoldoutSummary split(std::span<const std::int64_t> ids,
                                std::span<const std::int64_t> times, const A& amounts,
                                Timestamp calibration_period_end,
                                const CalibrationOptions& options) {
  check_length(times.size(), ids.size(), "times");
  if constexpr (A::present) check_length(amounts.values.size(), ids.size(), "amounts");
  check_multiplier(options.multiplier);
  amounts.validate();
  CalibrationHoldoutSummary out;
  const std::int64_t cal_end = calibration_period_end.micros();
  std::int64_t obs_end = cal_end;
  if (options.observation_period_end) {
    obs_end = options.observation_period_end->micros();
  } else if (!times.empty()) {
    obs_end = *std::max_element(times.begin(), times.end());
  }
  if (obs_end < cal_end) {
    throw_invalid("observation_period_end", Timestamp(obs_end).to_string() +
                                                " is before calibration_period_end " +
                                                calibration_period_end.to_string());
  }
  const TimeUnit unit = options.unit;
  const double m = options.multiplier;
  const std::int64_t cal_period = period_of(cal_end, unit);
  out.duration_holdout = static_cast<double>(period_of(obs_end, unit) - cal_period) / m;

  const Ordered ordered = order_rows(ids, times);
  const std::vector<typename A::Value> sorted_amounts = amounts.gather(ordered.rec);
  const auto amount_of = [&](const Rec* r) {
    return sorted_amounts.data() + (A::present ? r - ordered.rec.data() : 0);
  };
  bool any_holdout = false;
  for (std::size_t g = 0; g < ordered.groups(); ++g) {
    const Rec* b = ordered.rec.data() + ordered.group_begin[g];
    const Rec* e = ordered.rec.data() + ordered.group_begin[g + 1];
    const Rec* hold_begin = b;
    while (hold_begin != e && hold_begin->time <= cal_end) ++hold_begin;
    const Rec* hold_end = hold_begin;
    while (hold_end != e && hold_end->time <= obs_end) ++hold_end;
    if (hold_end != hold_begin) any_holdout = true;
    if (hold_begin == b) continue;  // first purchase after calibration_period_end
    const PeriodStats<A> cal = scan_periods<A>(amount_of(b), b, hold_begin, unit,
                                               options.include_first_transaction);
    const PeriodStats<A> hold = scan_periods<A>(amount_of(hold_begin), hold_begin, hold_end, unit,
                                                true);
    out.customer_id.push_back(ordered.group_id[g]);
    out.frequency_cal.push_back(options.include_first_transaction ? cal.periods : cal.periods - 1);
    out.recency_cal.push_back(period_span(cal.first, cal.last, unit) / m);
    out.T_cal.push_back(period_span(cal.first, cal_period, unit) / m);
    out.frequency_holdout.push_back(hold.periods);
    if constexpr (A::present) {
      out.monetary_value_cal.push_back(mean_of(amounts, cal));
      if (options.holdout_monetary_per_period || hold.periods == 0) {
        out.monetary_value_holdout.push_back(mean_of(amounts, hold));
      } else {
        // lifetimes averages the holdout transactions themselves, not their period sums.
        const typename A::Sum total = A::sum_range(
            amount_of(hold_begin), static_cast<std::size_t>(hold_end - hold_begin));
        out.monetary_value_holdout.push_back(amounts.to_major(total) /
                                             static_cast<double>(hold_end - hold_begin));
      }
    }
  }
  if (!any_holdout) {
    throw_invalid("calibration_period_end",
                  "no transaction after " + calibration_period_end.to_string() +
                      " and at or before observation_period_end " + Timestamp(obs_end).to_string());
  }
  return out;
}

}  // namespace

const char* to_string(TimeUnit unit) noexcept {
  switch (unit) {
    case TimeUnit::day: return "day";
    case TimeUnit::week: return "week";
    case TimeUnit::month: return "month";
    case TimeUnit::hour: return "hour";
  }
  return "unknown";
}

TimeUnit parse_time_unit(std::string_view text, std::string_view field) {
  if (text == "day" || text == "D") return TimeUnit::day;
  if (text == "week" || text == "W") return TimeUnit::week;
  if (text == "month" || text == "M") return TimeUnit::month;
  if (text == "hour" || text == "H" || text == "h") return TimeUnit::hour;
  std::string problem = "'";
  problem.append(text.substr(0, 32));
  problem.append("' is not a time unit (hour, day, week, month, H, h, D, W, M)");
  throw_invalid(field, problem);
}

RfmSummary summary_data_from_transaction_data(std::span<const std::int64_t> customer_ids,
                                              std::span<const std::int64_t> times,
                                              const SummaryOptions& options) {
  return summarise(customer_ids, times, NoAmounts{}, options);
}

RfmSummary summary_data_from_transaction_data(std::span<const std::int64_t> customer_ids,
                                              std::span<const std::int64_t> times,
                                              std::span<const double> amounts,
                                              const SummaryOptions& options) {
  return summarise(customer_ids, times, DoubleAmounts{amounts}, options);
}

RfmSummary summary_data_from_transaction_data(std::span<const std::int64_t> customer_ids,
                                              std::span<const std::int64_t> times,
                                              std::span<const std::int64_t> amounts_minor, int scale,
                                              const SummaryOptions& options) {
  return summarise(customer_ids, times, make_minor(amounts_minor, scale), options);
}

CalibrationHoldoutSummary calibration_and_holdout_data(std::span<const std::int64_t> customer_ids,
                                                       std::span<const std::int64_t> times,
                                                       Timestamp calibration_period_end,
                                                       const CalibrationOptions& options) {
  return split(customer_ids, times, NoAmounts{}, calibration_period_end, options);
}

CalibrationHoldoutSummary calibration_and_holdout_data(std::span<const std::int64_t> customer_ids,
                                                       std::span<const std::int64_t> times,
                                                       std::span<const double> amounts,
                                                       Timestamp calibration_period_end,
                                                       const CalibrationOptions& options) {
  return split(customer_ids, times, DoubleAmounts{amounts}, calibration_period_end, options);
}

CalibrationHoldoutSummary calibration_and_holdout_data(std::span<const std::int64_t> customer_ids,
                                                       std::span<const std::int64_t> times,
                                                       std::span<const std::int64_t> amounts_minor,
                                                       int scale, Timestamp calibration_period_end,
                                                       const CalibrationOptions& options) {
  return split(customer_ids, times, make_minor(amounts_minor, scale), calibration_period_end,
               options);
}

std::vector<std::int64_t> cumulative_repeat_transactions(std::span<const std::int64_t> customer_ids,
                                                         std::span<const std::int64_t> times,
                                                         const RepeatTransactionOptions& options) {
  check_length(times.size(), customer_ids.size(), "times");
  if (options.periods < 0) {
    throw_invalid("periods", "must be >= 0, got " + std::to_string(options.periods));
  }
  if (options.unit == TimeUnit::hour) {
    throw_invalid("unit", "hour is not supported: repeat transactions are counted per UTC day "
                          "(use day, week or month)");
  }
  if (customer_ids.empty()) return std::vector<std::int64_t>(static_cast<std::size_t>(options.periods), 0);

  const auto [min_t, max_t] = std::minmax_element(times.begin(), times.end());
  const std::int64_t start_day = day_of(options.start ? options.start->micros() : *min_t);
  const TimeUnit unit = options.unit;
  const auto bucket_of = [&](std::int64_t day) -> std::int64_t {
    std::int64_t k = 0;
    switch (unit) {
      case TimeUnit::hour:  // refused above
      case TimeUnit::day: k = day - start_day; break;
      case TimeUnit::week: k = floor_div(day - start_day, 7); break;
      case TimeUnit::month: k = month_index_of_day(day) - month_index_of_day(start_day); break;
    }
    return std::max<std::int64_t>(k, 0);
  };
  const std::int64_t buckets =
      options.periods > 0 ? options.periods : bucket_of(day_of(*max_t)) + 1;
  std::vector<std::int64_t> counts(static_cast<std::size_t>(buckets), 0);

  const Ordered ordered = order_rows(customer_ids, times);
  for (std::size_t g = 0; g < ordered.groups(); ++g) {
    const Rec* b = ordered.rec.data() + ordered.group_begin[g];
    const Rec* e = ordered.rec.data() + ordered.group_begin[g + 1];
    std::int64_t previous_day = day_of(b->time);
    for (const Rec* p = b + 1; p != e; ++p) {
      const std::int64_t day = day_of(p->time);
      if (day == previous_day) continue;
      previous_day = day;
      const std::int64_t k = bucket_of(day);
      if (k < buckets) ++counts[static_cast<std::size_t>(k)];
    }
  }
  std::partial_sum(counts.begin(), counts.end(), counts.begin());
  return counts;
}

}  // namespace v0
}  // namespace crmkit
