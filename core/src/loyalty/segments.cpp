// Segments and drift (crmkit/loyalty/segments.hpp). Labels are codes into a name list, so the
// drift is one counting pass over the customers into a (k + 1) x (k + 1) table, and the purchase
// pass keeps every (customer, date) cell of one customer next to each other (one cache line per
// purchase row for a few dates).
#include "crmkit/loyalty/segments.hpp"

#include <algorithm>
#include <limits>
#include <numeric>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

#include "base/text.hpp"
#include "crmkit/base/error.hpp"
#include "crmkit/base/json.hpp"
#include "crmkit/value/models.hpp"

namespace crmkit {
inline namespace v0 {

using detail::quote_text;

namespace {

constexpr std::int64_t kMicrosPerDay = 86'400'000'000LL;

std::string at(std::string_view field, std::size_t i) {
  return std::string(field) + "[" + std::to_string(i) + "]";
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

void check_segment_name(std::string_view name, std::string_view field) {
  if (name.empty() || name.size() > 128) throw_invalid(field, "must be 1..128 bytes");
  if (name == kNoSegment) throw_invalid(field, "'none' is reserved for customers without a segment");
}

}  // namespace

// ---- labels ----

std::string_view SegmentLabels::name(std::size_t i) const noexcept {
  const std::int32_t c = code[i];
  return c < 0 ? kNoSegment : std::string_view(names[static_cast<std::size_t>(c)]);
}

std::vector<std::int64_t> SegmentLabels::sizes() const {
  std::vector<std::int64_t> out(names.size(), 0);
  for (std::int32_t c : code)
    if (c >= 0 && static_cast<std::size_t>(c) < out.size()) ++out[static_cast<std::size_t>(c)];
  return out;
}

SegmentLabels labels_from_names(std::span<const std::string> segment,
                                std::span<const std::string> order) {
  SegmentLabels out;
  std::unordered_map<std::string_view, std::int32_t> index;
  for (std::size_t i = 0; i < order.size(); ++i) {
    check_segment_name(order[i], at("order", i));
    if (!index.emplace(order[i], static_cast<std::int32_t>(i)).second)
      throw_invalid(at("order", i), quote_text(order[i]) + " is listed twice");
    out.names.push_back(order[i]);
  }
  // Names not in `order`, ascending.
  std::vector<std::string_view> extra;
  {
    std::unordered_map<std::string_view, bool> seen;
    for (const std::string& s : segment)
      if (!s.empty() && !index.count(s) && seen.emplace(s, true).second) extra.push_back(s);
  }
  std::sort(extra.begin(), extra.end());
  for (std::string_view s : extra) {
    index.emplace(s, static_cast<std::int32_t>(out.names.size()));
    out.names.emplace_back(s);
  }
  out.code.resize(segment.size());
  for (std::size_t i = 0; i < segment.size(); ++i)
    out.code[i] = segment[i].empty() ? -1 : index.find(segment[i])->second;
  return out;
}

// ---- RFM ----

std::vector<std::string> rfm_segment_names(const RfmSegmentGrid& grid) {
  std::vector<std::string> out;
  for (std::size_t i = grid.size(); i-- > 0;)
    if (std::find(out.begin(), out.end(), grid[i]) == out.end()) out.push_back(grid[i]);
  return out;
}

SegmentLabels rfm_segment_labels(const RfmScores& scores, const RfmSegmentGrid& grid) {
  const std::size_t n = scores.r.size();
  if (scores.fm.size() != n)
    throw_invalid("fm", "length " + std::to_string(scores.fm.size()) + " differs from r (" +
                            std::to_string(n) + ")");
  SegmentLabels out;
  out.names = rfm_segment_names(grid);
  std::array<std::int32_t, 25> cell_code{};
  for (std::size_t g = 0; g < grid.size(); ++g)
    cell_code[g] = static_cast<std::int32_t>(
        std::find(out.names.begin(), out.names.end(), grid[g]) - out.names.begin());
  out.code.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::int32_t r = scores.r[i], fm = scores.fm[i];
    if (r < 1 || r > 5) throw_invalid(at("r", i), "must be in 1..5, got " + std::to_string(r));
    if (fm < 1 || fm > 5) throw_invalid(at("fm", i), "must be in 1..5, got " + std::to_string(fm));
    out.code[i] = cell_code[static_cast<std::size_t>((r - 1) * 5 + (fm - 1))];
  }
  return out;
}

// ---- rule segments ----

std::vector<std::string> RuleSegments::names() const {
  std::vector<std::string> out;
  out.reserve(segments.size() + 1);
  for (const SegmentRule& s : segments) out.push_back(s.name);
  out.push_back(fallback);
  return out;
}

std::vector<std::string> RuleSegments::facts_used() const {
  std::vector<std::size_t> slots;
  const FactSchema* schema = nullptr;
  for (const SegmentRule& s : segments) {
    schema = &s.when.schema();
    for (std::size_t d : s.when.dependencies()) slots.push_back(d);
  }
  std::sort(slots.begin(), slots.end());
  slots.erase(std::unique(slots.begin(), slots.end()), slots.end());
  std::vector<std::string> out;
  for (std::size_t d : slots) out.push_back((*schema)[d].name);
  return out;
}

RuleSegments rule_segments_from_json_text(std::string_view text, const FactSchema& schema,
                                          std::string_view path) {
  const std::string root(path);
  const nlohmann::json j = parse_json_strict(text, root);
  if (!j.is_object()) throw_invalid(root, "must be an object with \"segments\" and \"fallback\"");
  RuleSegments out;
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "segments" && it.key() != "fallback")
      throw_invalid(root + "." + it.key(), "unknown member");
  if (j.contains("fallback")) {
    const auto& f = j.at("fallback");
    if (!f.is_string()) throw_invalid(root + ".fallback", "must be a non-empty string");
    out.fallback = f.get<std::string>();
  }
  check_segment_name(out.fallback, root + ".fallback");
  if (!j.contains("segments")) throw_invalid(root + ".segments", "is required");
  const auto& list = j.at("segments");
  if (!list.is_array() || list.empty())
    throw_invalid(root + ".segments", "must be a non-empty array of {\"name\", \"when\"}");
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string here = root + ".segments[" + std::to_string(i) + "]";
    const auto& s = list[i];
    if (!s.is_object()) throw_invalid(here, "must be an object with \"name\" and \"when\"");
    for (auto it = s.begin(); it != s.end(); ++it)
      if (it.key() != "name" && it.key() != "when" && it.key() != "description")
        throw_invalid(here + "." + it.key(), "unknown member");
    if (!s.contains("name") || !s.at("name").is_string())
      throw_invalid(here + ".name", "must be a non-empty string");
    std::string name = s.at("name").get<std::string>();
    check_segment_name(name, here + ".name");
    const bool repeated = name == out.fallback ||
                          std::any_of(out.segments.begin(), out.segments.end(),
                                      [&](const SegmentRule& r) { return r.name == name; });
    if (repeated) throw_invalid(here + ".name", quote_text(name) + " is used twice");
    if (!s.contains("when")) throw_invalid(here + ".when", "is required");
    RuleOptions ro;
    ro.path = here + ".when";
    out.segments.push_back({std::move(name), Rule::compile(s.at("when").dump(), schema, ro)});
  }
  return out;
}

namespace {

// The rule as is when `facts` has its facts at the slots it was compiled with, else recompiled
// against facts' schema.
Rule rule_for(const SegmentRule& s, std::size_t i, const FactTable& facts) {
  const FactSchema& have = facts.schema();
  const FactSchema& was = s.when.schema();
  bool same = true;
  for (std::size_t d : s.when.dependencies())
    same = same && d < have.size() && have[d].name == was[d].name && have[d].type == was[d].type;
  if (same) return s.when;
  RuleOptions ro;
  ro.path = "segments[" + std::to_string(i) + "].when";
  return Rule::compile(s.when.source(), have, ro);
}

}  // namespace

SegmentLabels rule_segment_labels(const RuleSegments& segments, const FactTable& facts,
                                  std::span<const std::uint8_t> member) {
  const std::size_t n = facts.rows();
  if (!member.empty() && member.size() != n)
    throw_invalid("member", "length " + std::to_string(member.size()) + " differs from the facts' rows (" +
                                std::to_string(n) + ")");
  std::vector<Rule> rules;
  rules.reserve(segments.segments.size());
  for (std::size_t i = 0; i < segments.segments.size(); ++i)
    rules.push_back(rule_for(segments.segments[i], i, facts));
  SegmentLabels out;
  out.names = segments.names();
  const auto fallback = static_cast<std::int32_t>(segments.segments.size());
  out.code.assign(n, -2);  // -2: not decided yet
  std::size_t open = 0;
  for (std::size_t r = 0; r < n; ++r) {
    if (!member.empty() && member[r] == 0)
      out.code[r] = -1;
    else
      ++open;
  }
  std::vector<std::uint8_t> holds(n);
  for (std::size_t i = 0; i < rules.size() && open > 0; ++i) {
    rules[i].test_all(facts, holds);
    for (std::size_t r = 0; r < n; ++r) {
      if (out.code[r] == -2 && holds[r]) {
        out.code[r] = static_cast<std::int32_t>(i);
        --open;
      }
    }
  }
  for (std::int32_t& c : out.code)
    if (c == -2) c = fallback;
  return out;
}

// ---- from a purchase log ----

FactSchema purchase_rfm_schema() {
  FactSchema s;
  s.add("recency_days", FactType::integer, "whole days from the last purchase to the date");
  s.add("frequency", FactType::integer, "purchases at or before the date");
  s.add("monetary", FactType::number, "sum of their amounts, major units");
  return s;
}

FactTable purchase_rfm_table(const PurchaseRfm& rfm, int scale) {
  if (scale < 0 || scale > 18) throw_invalid("scale", "must be in 0..18, got " + std::to_string(scale));
  const std::size_t n = rfm.acquired.size();
  FactTable t(purchase_rfm_schema(), n);
  double unit = 1.0;
  for (int i = 0; i < scale; ++i) unit *= 10.0;
  std::copy(rfm.recency_days.begin(), rfm.recency_days.end(), t.integers(0).begin());
  std::copy(rfm.frequency.begin(), rfm.frequency.end(), t.integers(1).begin());
  auto m = t.numbers(2);
  for (std::size_t i = 0; i < n; ++i) m[i] = static_cast<double>(rfm.monetary_minor[i]) / unit;
  for (std::size_t slot = 0; slot < 3; ++slot)
    std::copy(rfm.acquired.begin(), rfm.acquired.end(), t.present(slot).begin());
  return t;
}

namespace {

// Rows ahead whose cells are prefetched (enough to cover a memory miss at a few ns per row).
constexpr std::size_t kPrefetch = 16;

struct Cell {
  std::int64_t last = std::numeric_limits<std::int64_t>::min();
  std::int64_t count = 0;
  std::int64_t sum = 0;
};

// Adds one purchase to a customer's cells (the dates at or after its time). False on overflow.
inline bool add_purchase(Cell* cell, std::span<const std::int64_t> sorted, std::int64_t time,
                         std::int64_t amount) {
  const std::size_t nd = sorted.size();
  std::size_t j = 0;
  while (j < nd && sorted[j] < time) ++j;
  for (; j < nd; ++j) {
    Cell& x = cell[j];
    if (time > x.last) x.last = time;
    ++x.count;
    if (__builtin_add_overflow(x.sum, amount, &x.sum)) return false;
  }
  return true;
}

// A purchase scattered into its block of customers.
struct BlockRow {
  std::int64_t time;
  std::int64_t amount;
  std::uint32_t local;  // customer - the block's first customer
  std::uint32_t unused;
};

// The pass for cells larger than the caches: rows are taken a chunk at a time, scattered by block
// of customers (a block's cells fit in about 1 MiB), and each block's rows are then added with its
// cells in cache; threads take disjoint ranges of blocks. Sets bad_row (an index out of range) or
// overflow_customer and returns early on a problem.
std::vector<Cell> blocked_pass(std::size_t customers, std::span<const std::int64_t> customer_index,
                               std::span<const std::int64_t> times,
                               std::span<const std::int64_t> amounts,
                               std::span<const std::int64_t> sorted, unsigned threads,
                               std::size_t& bad_row, std::size_t& overflow_customer) {
  const std::size_t nd = sorted.size(), rows = customer_index.size();
  unsigned shift = 0;
  while ((std::size_t{2} << shift) * nd * sizeof(Cell) <= (std::size_t{1} << 20)) ++shift;
  while ((customers >> shift) + 1 > 256) ++shift;  // at most 256 blocks: few write streams
  const std::size_t blocks = (customers + (std::size_t{1} << shift) - 1) >> shift;
  const std::uint64_t mask = (std::uint64_t{1} << shift) - 1;
  std::vector<Cell> cells(customers * nd);
  const std::size_t chunk = std::min<std::size_t>(rows, std::size_t{1} << 21);  // 48 MiB of rows
  std::vector<BlockRow> buffer(chunk);
  std::vector<std::size_t> offset(blocks + 1);
  std::vector<std::size_t> over(threads, customers);
  for (std::size_t first = 0; first < rows; first += chunk) {
    const std::size_t last = std::min(rows, first + chunk);
    std::fill(offset.begin(), offset.end(), 0);
    for (std::size_t i = first; i < last; ++i) {
      const auto c = static_cast<std::uint64_t>(customer_index[i]);
      if (c >= customers) {
        bad_row = i;
        return cells;
      }
      ++offset[(c >> shift) + 1];
    }
    for (std::size_t b = 0; b < blocks; ++b) offset[b + 1] += offset[b];
    std::vector<std::size_t> pos(offset.begin(), offset.end() - 1);
    for (std::size_t i = first; i < last; ++i) {
      const auto c = static_cast<std::uint64_t>(customer_index[i]);
      buffer[pos[c >> shift]++] = {times[i], amounts[i], static_cast<std::uint32_t>(c & mask), 0};
    }
    auto work = [&](unsigned t) {
      const std::size_t b0 = blocks * t / threads, b1 = blocks * (t + 1) / threads;
      for (std::size_t b = b0; b < b1; ++b) {
        Cell* base = cells.data() + (b << shift) * nd;
        for (std::size_t r = offset[b]; r < offset[b + 1]; ++r) {
          const BlockRow& row = buffer[r];
          if (!add_purchase(base + row.local * nd, sorted, row.time, row.amount)) {
            over[t] = (b << shift) + row.local;
            return;
          }
        }
      }
    };
    if (threads == 1) {
      work(0);
    } else {
      std::vector<std::thread> pool;
      for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, t);
      work(0);
      for (auto& th : pool) th.join();
    }
    overflow_customer = *std::min_element(over.begin(), over.end());
    if (overflow_customer < customers) return cells;
  }
  return cells;
}

// The pass for cells that fit the caches: each thread takes a block of rows into cells of its own
// (thread 0 into the result), merged after (max, sums), so results do not depend on the split.
// Throws as purchase_rfm_as_of.
std::vector<Cell> scattered_pass(std::size_t customers, std::span<const std::int64_t> customer_index,
                                 std::span<const std::int64_t> times,
                                 std::span<const std::int64_t> amounts_minor,
                                 std::span<const std::int64_t> sorted, unsigned threads) {
  const std::size_t nd = sorted.size(), rows = customer_index.size();
  // Each thread takes a block of rows into cells of its own (thread 0 into `cells`); the blocks
  // are then merged (max, sums) customer by customer, so results do not depend on the split.
  std::vector<std::vector<Cell>> own(threads);
  std::vector<std::size_t> bad_row(threads, rows), overflow_row(threads, rows);
  auto work = [&](unsigned t) {
    std::vector<Cell>& cells = own[t];
    cells.resize(customers * nd);
    const std::size_t first = rows * t / threads, last = rows * (t + 1) / threads;
    const std::size_t cell_bytes = nd * sizeof(Cell);
    for (std::size_t i = first; i < last; ++i) {
      // The cells are scattered over customers * nd * 24 bytes: fetch those of a row kPrefetch
      // rows ahead, so the misses overlap instead of stalling one after the other.
      if (i + kPrefetch < last) {
        const auto ahead = static_cast<std::uint64_t>(customer_index[i + kPrefetch]);
        if (ahead < customers) {
          const char* p = reinterpret_cast<const char*>(cells.data() + ahead * nd);
          __builtin_prefetch(p, 1);
          __builtin_prefetch(p + cell_bytes - 1, 1);
        }
      }
      const auto c = static_cast<std::uint64_t>(customer_index[i]);
      if (c >= customers) {
        bad_row[t] = i;
        return;
      }
      const std::int64_t time = times[i];
      if (!add_purchase(cells.data() + c * nd, sorted, time, amounts_minor[i])) {
        overflow_row[t] = i;
        return;
      }
    }
  };
  if (threads == 1) {
    work(0);
  } else {
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, t);
    work(0);
    for (auto& th : pool) th.join();
  }
  const std::size_t bad = *std::min_element(bad_row.begin(), bad_row.end());
  if (bad < rows)
    throw_invalid(at("customer_index", bad),
                  std::to_string(customer_index[bad]) + " is not below customers (" +
                      std::to_string(customers) + ")");
  const std::size_t over = *std::min_element(overflow_row.begin(), overflow_row.end());
  if (over < rows)
    throw_error(ErrorCode::overflow, at("amounts_minor", over),
                "the customer's sum leaves the int64 range");
  std::vector<Cell>& cells = own[0];
  for (unsigned t = 1; t < threads; ++t) {
    const std::vector<Cell>& more = own[t];
    for (std::size_t k = 0; k < cells.size(); ++k) {
      Cell& x = cells[k];
      const Cell& y = more[k];
      if (y.last > x.last) x.last = y.last;
      x.count += y.count;
      if (__builtin_add_overflow(x.sum, y.sum, &x.sum))
        throw_error(ErrorCode::overflow, "amounts_minor",
                    "the sum of customer " + std::to_string(k / nd) + " leaves the int64 range");
    }
    std::vector<Cell>().swap(own[t]);
  }

  return std::move(own[0]);
}

}  // namespace

std::vector<PurchaseRfm> purchase_rfm_as_of(std::size_t customers,
                                            std::span<const std::int64_t> customer_index,
                                            std::span<const std::int64_t> times,
                                            std::span<const std::int64_t> amounts_minor,
                                            std::span<const Timestamp> dates) {
  const std::size_t rows = customer_index.size();
  auto check_len = [&](std::size_t got, std::string_view field) {
    if (got != rows)
      throw_invalid(field, "length " + std::to_string(got) + " differs from customer_index (" +
                               std::to_string(rows) + ")");
  };
  check_len(times.size(), "times");
  check_len(amounts_minor.size(), "amounts_minor");
  const std::size_t nd = dates.size();
  if (nd == 0) {  // nothing to compute; the indexes are still checked
    for (std::size_t i = 0; i < rows; ++i)
      if (static_cast<std::uint64_t>(customer_index[i]) >= customers)
        throw_invalid(at("customer_index", i), std::to_string(customer_index[i]) +
                                                   " is not below customers (" +
                                                   std::to_string(customers) + ")");
    return {};
  }
  // Dates ascending (sorted[j] is the j-th smallest); the cells follow that order.
  std::vector<std::size_t> order(nd);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return dates[a] < dates[b]; });
  std::vector<std::int64_t> sorted(nd);
  for (std::size_t j = 0; j < nd; ++j) sorted[j] = dates[order[j]].micros();

  unsigned threads = rows > 1'000'000 ? std::max(1u, model_threads()) : 1u;
  std::vector<Cell> cells;
  if (rows > 1'000'000 && customers * nd * sizeof(Cell) > (std::size_t{8} << 20)) {
    std::size_t bad = rows, over = customers;
    cells = blocked_pass(customers, customer_index, times, amounts_minor, sorted, threads, bad,
                         over);
    if (bad < rows)
      throw_invalid(at("customer_index", bad),
                    std::to_string(customer_index[bad]) + " is not below customers (" +
                        std::to_string(customers) + ")");
    if (over < customers)
      throw_error(ErrorCode::overflow, "amounts_minor",
                  "the sum of customer " + std::to_string(over) + " leaves the int64 range");
  } else {
    cells = scattered_pass(customers, customer_index, times, amounts_minor, sorted, threads);
  }

  std::vector<PurchaseRfm> out(nd);
  for (std::size_t j = 0; j < nd; ++j) {
    PurchaseRfm& o = out[order[j]];
    o.as_of = Timestamp(sorted[j]);
    o.acquired.resize(customers);
    o.recency_days.resize(customers);
    o.frequency.resize(customers);
    o.monetary_minor.resize(customers);
    for (std::size_t c = 0; c < customers; ++c) {
      const Cell& x = cells[c * nd + j];
      const bool has = x.count > 0;
      o.acquired[c] = has ? 1 : 0;
      o.recency_days[c] = has ? floor_div(sorted[j] - x.last, kMicrosPerDay) : 0;
      o.frequency[c] = x.count;
      o.monetary_minor[c] = x.sum;
    }
  }
  return out;
}

std::vector<SegmentLabels> purchase_segments(std::size_t customers,
                                             std::span<const std::int64_t> customer_index,
                                             std::span<const std::int64_t> times,
                                             std::span<const std::int64_t> amounts_minor,
                                             std::span<const Timestamp> dates,
                                             const RuleSegments& segments, int scale) {
  const std::vector<PurchaseRfm> rfm =
      purchase_rfm_as_of(customers, customer_index, times, amounts_minor, dates);
  std::vector<SegmentLabels> out;
  out.reserve(rfm.size());
  for (const PurchaseRfm& r : rfm)
    out.push_back(rule_segment_labels(segments, purchase_rfm_table(r, scale), r.acquired));
  return out;
}

// ---- drift ----

std::int64_t DriftMatrix::count(std::string_view from_segment,
                                std::string_view to_segment) const noexcept {
  const auto r = std::find(from.begin(), from.end(), from_segment);
  const auto c = std::find(to.begin(), to.end(), to_segment);
  if (r == from.end() || c == to.end()) return 0;
  return at(static_cast<std::size_t>(r - from.begin()), static_cast<std::size_t>(c - to.begin()));
}

std::vector<std::int64_t> DriftMatrix::row_sums() const {
  std::vector<std::int64_t> out(rows(), 0);
  for (std::size_t r = 0; r < rows(); ++r)
    for (std::size_t c = 0; c < columns(); ++c) out[r] += at(r, c);
  return out;
}

std::vector<std::int64_t> DriftMatrix::column_sums() const {
  std::vector<std::int64_t> out(columns(), 0);
  for (std::size_t r = 0; r < rows(); ++r)
    for (std::size_t c = 0; c < columns(); ++c) out[c] += at(r, c);
  return out;
}

std::int64_t DriftMatrix::total() const noexcept {
  std::int64_t t = 0;
  for (std::int64_t v : counts) t += v;
  return t;
}

namespace {

// Union of names (in order of appearance) and, per labels, the map code + 1 -> union index
// (element 0 maps -1 to the "none" index k).
struct Axes {
  std::vector<std::string> names;
  std::vector<std::vector<std::int32_t>> maps;
};

Axes union_axes(std::span<const SegmentLabels* const> labels) {
  Axes ax;
  std::unordered_map<std::string_view, std::int32_t> index;
  for (const SegmentLabels* l : labels)
    for (const std::string& s : l->names)
      if (index.emplace(s, static_cast<std::int32_t>(ax.names.size())).second) ax.names.push_back(s);
  const auto k = static_cast<std::int32_t>(ax.names.size());
  for (const SegmentLabels* l : labels) {
    std::vector<std::int32_t> m(l->names.size() + 1);
    m[0] = k;
    for (std::size_t i = 0; i < l->names.size(); ++i) m[i + 1] = index.find(l->names[i])->second;
    ax.maps.push_back(std::move(m));
  }
  return ax;
}

// (k + 1) x (k + 1) counts, "none" last on both axes.
std::vector<std::int64_t> count_moves(const SegmentLabels& a, const SegmentLabels& b,
                                      const std::vector<std::int32_t>& ma,
                                      const std::vector<std::int32_t>& mb, std::size_t k,
                                      std::string_view fa, std::string_view fb) {
  if (a.size() != b.size())
    throw_invalid(fb, std::to_string(b.size()) + " customers, " + std::string(fa) + " has " +
                          std::to_string(a.size()));
  const std::size_t w = k + 1;
  std::vector<std::int64_t> cells(w * w, 0);
  const auto na = static_cast<std::int32_t>(a.names.size());
  const auto nb = static_cast<std::int32_t>(b.names.size());
  const std::int32_t* ca = a.code.data();
  const std::int32_t* cb = b.code.data();
  const std::int32_t* pa = ma.data() + 1;
  const std::int32_t* pb = mb.data() + 1;
  for (std::size_t i = 0, n = a.size(); i < n; ++i) {
    const std::int32_t x = ca[i], y = cb[i];
    if (x < -1 || x >= na)
      throw_invalid(std::string(fa) + ".code[" + std::to_string(i) + "]",
                    std::to_string(x) + " is not a segment");
    if (y < -1 || y >= nb)
      throw_invalid(std::string(fb) + ".code[" + std::to_string(i) + "]",
                    std::to_string(y) + " is not a segment");
    ++cells[static_cast<std::size_t>(pa[x]) * w + static_cast<std::size_t>(pb[y])];
  }
  cells[w * w - 1] = 0;  // none -> none is not counted
  return cells;
}

DriftMatrix shape(const std::vector<std::string>& names, const std::vector<std::int64_t>& cells,
                  bool none_column) {
  const std::size_t k = names.size(), w = k + 1;
  DriftMatrix m;
  m.from = names;
  m.from.emplace_back(kNoSegment);
  m.to = names;
  if (none_column) m.to.emplace_back(kNoSegment);
  const std::size_t cols = m.to.size();
  m.counts.resize(w * cols);
  for (std::size_t r = 0; r < w; ++r)
    for (std::size_t c = 0; c < cols; ++c) m.counts[r * cols + c] = cells[r * w + c];
  return m;
}

bool leaves(const std::vector<std::int64_t>& cells, std::size_t k) {
  const std::size_t w = k + 1;
  for (std::size_t r = 0; r < k; ++r)
    if (cells[r * w + k] != 0) return true;
  return false;
}

}  // namespace

DriftMatrix segment_drift(const SegmentLabels& from, const SegmentLabels& to) {
  const SegmentLabels* both[] = {&from, &to};
  const Axes ax = union_axes(both);
  const std::size_t k = ax.names.size();
  const auto cells = count_moves(from, to, ax.maps[0], ax.maps[1], k, "from", "to");
  return shape(ax.names, cells, leaves(cells, k));
}

DriftSeries segment_drift_series(std::span<const SegmentLabels> labels,
                                 std::span<const Timestamp> dates) {
  if (labels.size() != dates.size())
    throw_invalid("dates", "length " + std::to_string(dates.size()) + " differs from labels (" +
                               std::to_string(labels.size()) + ")");
  for (std::size_t i = 1; i < dates.size(); ++i)
    if (!(dates[i - 1] < dates[i]))
      throw_invalid(at("dates", i), dates[i].to_string() + " does not follow " +
                                        dates[i - 1].to_string());
  std::vector<const SegmentLabels*> ptrs;
  for (const SegmentLabels& l : labels) ptrs.push_back(&l);
  const Axes ax = union_axes(ptrs);
  const std::size_t k = ax.names.size();
  std::vector<std::vector<std::int64_t>> all;
  bool none_column = false;
  for (std::size_t i = 1; i < labels.size(); ++i) {
    all.push_back(count_moves(labels[i - 1], labels[i], ax.maps[i - 1], ax.maps[i], k,
                              at("labels", i - 1), at("labels", i)));
    none_column = none_column || leaves(all.back(), k);
  }
  DriftSeries out;
  out.dates.assign(dates.begin(), dates.end());
  for (const auto& cells : all) out.steps.push_back(shape(ax.names, cells, none_column));
  return out;
}

// ---- mainstream ----

MainstreamSegments mainstream_segments(const SegmentLabels& labels,
                                       std::span<const std::int64_t> revenue_minor, std::size_t k) {
  const std::size_t n = labels.size();
  if (!revenue_minor.empty() && revenue_minor.size() != n)
    throw_invalid("revenue_minor", "length " + std::to_string(revenue_minor.size()) +
                                       " differs from the labels (" + std::to_string(n) + ")");
  const std::size_t s = labels.names.size();
  MainstreamSegments out;
  out.sizes.segment = labels.names;
  out.sizes.customers.assign(s, 0);
  out.sizes.revenue_minor.assign(s, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const std::int32_t c = labels.code[i];
    if (c < 0) continue;
    if (static_cast<std::size_t>(c) >= s)
      throw_invalid(at("labels.code", i), std::to_string(c) + " is not a segment");
    ++out.sizes.customers[static_cast<std::size_t>(c)];
    if (!revenue_minor.empty()) {
      std::int64_t& r = out.sizes.revenue_minor[static_cast<std::size_t>(c)];
      if (__builtin_add_overflow(r, revenue_minor[i], &r))
        throw_error(ErrorCode::overflow, "revenue_minor",
                    "the revenue of segment " + quote_text(labels.names[static_cast<std::size_t>(c)]) +
                        " leaves the int64 range");
    }
  }
  auto top = [&](const std::vector<std::int64_t>& value) {
    std::vector<std::size_t> idx;
    for (std::size_t i = 0; i < s; ++i)
      if (out.sizes.customers[i] > 0) idx.push_back(i);
    std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
      if (value[a] != value[b]) return value[a] > value[b];
      return labels.names[a] < labels.names[b];
    });
    std::vector<std::string> names;
    for (std::size_t i = 0; i < idx.size() && i < k; ++i) names.push_back(labels.names[idx[i]]);
    return names;
  };
  out.by_customers = top(out.sizes.customers);
  out.by_revenue = top(out.sizes.revenue_minor);
  return out;
}

}  // namespace v0
}  // namespace crmkit
