// Customer facts as of a date over columns: the rules are stated in crmkit/analytics/facts.hpp.
//
// Shape of the computation. Customers get dense row indexes (a direct table when their ids are
// dense, an open-addressing hash otherwise). Each event group is resolved once to a row per event
// (parallel over event blocks, each writing its own slots), then accumulated in one pass into a
// per-customer accumulator struct (one or two cache lines per customer, so an event touches few
// lines). The pass is parallel over customer blocks: every worker reads the row column of the
// group and accumulates only its own customers, so no two workers write one slot and the
// results do not depend on the thread count. Nothing allocates per row, except the tag lists and
// text cells the result itself holds.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <unordered_map>
#include <utility>

#include "analytics/facts_internal.hpp"
#include "base/calendar.hpp"
#include "crmkit/base/error.hpp"
#include "value/internal.hpp"

namespace crmkit {
inline namespace v0 {

namespace {

using detail::kMicrosPerDay;

constexpr std::uint32_t kUnknown = std::numeric_limits<std::uint32_t>::max();
constexpr std::uint32_t kExcluded = kUnknown - 1;  // a customer created after as_of
constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::min();
// A sum of int64 minor units: fewer than 2^64 of them cannot overflow 128 bits.
__extension__ typedef __int128 WideSum;

std::uint64_t mix(std::uint64_t x) {  // splitmix64's finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Customer id -> row (or kExcluded).
class IdMap {
 public:
  void build(std::span<const CustomerId> ids, const std::vector<std::uint32_t>& row_of) {
    const std::size_t n = ids.size();
    if (n == 0) return;
    const auto [lo, hi] = std::minmax_element(ids.begin(), ids.end());
    min_ = *lo;
    const unsigned long long range =
        static_cast<unsigned long long>(*hi) - static_cast<unsigned long long>(*lo);
    if (range < 4ull * n + 1024) {
      dense_ = true;
      table_.assign(range + 1, kUnknown);
      for (std::size_t i = 0; i < n; ++i) {
        auto& slot = table_[static_cast<std::size_t>(ids[i] - min_)];
        if (slot != kUnknown) duplicate(i, ids[i]);
        slot = row_of[i];
      }
      return;
    }
    std::size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    mask_ = cap - 1;
    keys_.assign(cap, 0);
    table_.assign(cap, kUnknown);
    used_.assign(cap, 0);
    for (std::size_t i = 0; i < n; ++i) {
      std::size_t s = mix(static_cast<std::uint64_t>(ids[i])) & mask_;
      while (used_[s] && keys_[s] != ids[i]) s = (s + 1) & mask_;
      if (used_[s]) duplicate(i, ids[i]);
      used_[s] = 1;
      keys_[s] = ids[i];
      table_[s] = row_of[i];
    }
  }
  std::uint32_t find(CustomerId id) const noexcept {
    if (table_.empty()) return kUnknown;
    if (dense_) {
      const unsigned long long off =
          static_cast<unsigned long long>(id) - static_cast<unsigned long long>(min_);
      return off < table_.size() ? table_[off] : kUnknown;
    }
    std::size_t s = mix(static_cast<std::uint64_t>(id)) & mask_;
    while (used_[s]) {
      if (keys_[s] == id) return table_[s];
      s = (s + 1) & mask_;
    }
    return kUnknown;
  }

 private:
  [[noreturn]] static void duplicate(std::size_t i, CustomerId id) {
    throw_invalid("customer_id[" + std::to_string(i) + "]",
                  "customer " + std::to_string(id) + " is listed twice");
  }
  bool dense_ = false;
  CustomerId min_ = 0;
  std::size_t mask_ = 0;
  std::vector<std::uint32_t> table_;
  std::vector<CustomerId> keys_;
  std::vector<std::uint8_t> used_;
};

void check_len(std::size_t n, std::size_t expected, const char* field, const char* of) {
  if (n != expected) {
    throw_invalid(field, "length " + std::to_string(n) + " differs from " + of + " (" +
                             std::to_string(expected) + ")");
  }
}

// The computation state of one call.
class Computer {
 public:
  Computer(const FactColumns& c, Timestamp as_of, const FactOptions& o)
      : c_(c), o_(o), as_of_(as_of.micros()) {}

  CustomerFacts run();

 private:
  // Rows of an event group: row per event, kExcluded for customers not in the table (created
  // after as_of, or unknown and ignored) or events after as_of (when `times` is given).
  std::vector<std::uint32_t> resolve(std::span<const CustomerId> ids,
                                     std::span<const std::int64_t> times, const char* field);
  // Calls body(event, row) for every event whose row is a table row, on worker threads that own
  // blocks of rows.
  template <class Body>
  void by_rows(const std::vector<std::uint32_t>& rows, const Body& body);

  bool want(std::string_view name) const { return schema_.find(name).has_value(); }
  std::size_t slot(std::string_view name) const { return *schema_.find(name); }
  double major(WideSum minor) const { return static_cast<double>(minor) / divisor_; }
  static std::int64_t days(std::int64_t delta_micros) { return delta_micros / kMicrosPerDay; }

  void customers();
  void purchases();
  void interactions();
  void check_interactions();  // lengths and codes of the interaction columns, once
  void simple_counts();
  void surveys();
  void consents();
  void tags();
  void fields();
  void machines();
  void windows();
  void rfm();
  void model();

  // Direct column writers for the per-row loops (no lookup or check per cell); a fact not asked
  // for gives a writer that does nothing.
  struct IntOut {
    std::int64_t* v = nullptr;
    std::uint8_t* p = nullptr;
    void set(std::size_t r, std::int64_t x) const {
      if (v) v[r] = x, p[r] = 1;
    }
    explicit operator bool() const { return v != nullptr; }
  };
  struct NumOut {
    double* v = nullptr;
    std::uint8_t* p = nullptr;
    void set(std::size_t r, double x) const {
      if (v) v[r] = x, p[r] = 1;
    }
    explicit operator bool() const { return v != nullptr; }
  };
  IntOut int_out(std::string_view name) {
    const auto s = schema_.find(name);
    if (!s) return {};
    return {out_.table.integers(*s).data(), out_.table.present(*s).data()};
  }
  NumOut num_out(std::string_view name) {
    const auto s = schema_.find(name);
    if (!s) return {};
    return {out_.table.numbers(*s).data(), out_.table.present(*s).data()};
  }

  const FactColumns& c_;
  const FactOptions& o_;
  const std::int64_t as_of_;
  double divisor_ = 100.0;
  unsigned threads_ = 1;
  FactSchema schema_;
  CustomerFacts out_;
  std::size_t rows_ = 0;
  IdMap map_;                          // customer id -> input index
  std::vector<std::uint32_t> row_of_;  // input index -> row, or kExcluded
  // Purchases: row per purchase (all times), refunds as of the date per purchase.
  std::vector<std::uint32_t> prow_;
  std::vector<std::int64_t> refunded_;
  bool interactions_checked_ = false;
};

std::vector<std::uint32_t> Computer::resolve(std::span<const CustomerId> ids,
                                             std::span<const std::int64_t> times,
                                             const char* field) {
  std::vector<std::uint32_t> rows(ids.size());
  const std::size_t block = 1 << 16;
  std::vector<std::uint8_t> bad(detail::block_count(ids.size(), block), 0);
  detail::parallel_blocks(ids.size(), block, detail::threads_for(ids.size(), o_.threads),
                          [&](unsigned, std::size_t k, std::size_t b, std::size_t e) {
                            for (std::size_t i = b; i < e; ++i) {
                              std::uint32_t r = map_.find(ids[i]);
                              if (r == kUnknown) {
                                if (!o_.ignore_unknown_customers) bad[k] = 1;
                                r = kExcluded;
                              } else {
                                r = row_of_[r];
                                if (!times.empty() && times[i] > as_of_) r = kExcluded;
                              }
                              rows[i] = r;
                            }
                          });
  for (std::size_t k = 0; k < bad.size(); ++k) {
    if (!bad[k]) continue;
    for (std::size_t i = k * block; i < ids.size(); ++i) {
      if (map_.find(ids[i]) == kUnknown) {
        throw_invalid(std::string(field) + "[" + std::to_string(i) + "]",
                      "no customer " + std::to_string(ids[i]));
      }
    }
  }
  return rows;
}

template <class Body>
void Computer::by_rows(const std::vector<std::uint32_t>& rows, const Body& body) {
  const unsigned t = rows.size() < detail::kParallelMinRows ? 1u : threads_;
  const std::size_t block = t <= 1 ? std::max<std::size_t>(rows_, 1) : (rows_ + t - 1) / t;
  detail::parallel_blocks(rows_, std::max<std::size_t>(block, 1), t,
                          [&](unsigned, std::size_t, std::size_t b, std::size_t e) {
                            const std::uint32_t lo = static_cast<std::uint32_t>(b);
                            const std::uint32_t hi = static_cast<std::uint32_t>(e);
                            for (std::size_t i = 0; i < rows.size(); ++i) {
                              const std::uint32_t r = rows[i];
                              if (r < lo || r >= hi) continue;
                              body(i, r);
                            }
                          });
}

void Computer::customers() {
  const std::size_t n = c_.customer_id.size();
  if (n >= kExcluded) throw_invalid("customer_id", "too many customers");
  const bool created = !c_.created_at_micros.empty();
  if (created) check_len(c_.created_at_micros.size(), n, "created_at_micros", "customer_id");
  std::vector<std::uint32_t> index(n);
  for (std::size_t i = 0; i < n; ++i) index[i] = static_cast<std::uint32_t>(i);
  map_.build(c_.customer_id, index);  // id -> input index; checks duplicates
  // A customer is a row if its record was created at or before as_of, or if it has an event at
  // or before as_of (a record imported later than its history).
  std::vector<std::uint8_t> exists(n, created ? 0 : 1);
  bool all = !created;
  if (created) {
    all = true;
    for (std::size_t i = 0; i < n; ++i) {
      exists[i] = c_.created_at_micros[i] <= as_of_ ? 1 : 0;
      all = all && exists[i];
    }
  }
  if (!all) {
    const auto mark = [&](std::span<const CustomerId> ids, std::span<const std::int64_t> at) {
      for (std::size_t i = 0; i < ids.size() && i < at.size(); ++i) {
        if (at[i] > as_of_) continue;
        const std::uint32_t k = map_.find(ids[i]);
        if (k != kUnknown) exists[k] = 1;
      }
    };
    mark(c_.purchase_customer_id, c_.purchase_at_micros);
    mark(c_.interaction_customer_id, c_.interaction_at_micros);
    mark(c_.referral_customer_id, c_.referral_at_micros);
    mark(c_.survey_customer_id, c_.survey_at_micros);
    mark(c_.participation_customer_id, c_.participation_at_micros);
  }
  row_of_.assign(n, kExcluded);
  for (std::size_t i = 0; i < n; ++i) {
    if (!exists[i]) continue;
    row_of_[i] = static_cast<std::uint32_t>(out_.customer_id.size());
    out_.customer_id.push_back(c_.customer_id[i]);
  }
  rows_ = out_.customer_id.size();
  out_.table = FactTable(schema_, rows_);
  if (want("days_since_created") && created) {
    const IntOut since = int_out("days_since_created");
    for (std::size_t i = 0; i < n; ++i) {
      if (row_of_[i] == kExcluded || c_.created_at_micros[i] > as_of_) continue;
      since.set(row_of_[i], days(as_of_ - c_.created_at_micros[i]));
    }
  }
}

// Money sums are WideSum (128 bits): exact past 2^63 minor units, and they cannot overflow.
struct PurchaseAcc {
  std::int64_t count = 0, first = std::numeric_limits<std::int64_t>::max(), last = kNone;
  std::int64_t c30 = 0, c90 = 0, c180 = 0, c365 = 0;
  WideSum net = 0, n90 = 0, n365 = 0;
};

void Computer::purchases() {
  const std::size_t np = c_.purchase_customer_id.size();
  check_len(c_.purchase_at_micros.size(), np, "purchase_at_micros", "purchase_customer_id");
  check_len(c_.purchase_amount_minor.size(), np, "purchase_amount_minor", "purchase_customer_id");
  const std::size_t nr = c_.refund_purchase_id.size();
  check_len(c_.refund_at_micros.size(), nr, "refund_at_micros", "refund_purchase_id");
  check_len(c_.refund_amount_minor.size(), nr, "refund_amount_minor", "refund_purchase_id");
  if (nr > 0) check_len(c_.purchase_event_id.size(), np, "purchase_event_id", "purchase_customer_id");
  prow_ = resolve(c_.purchase_customer_id, {}, "purchase_customer_id");
  refunded_.assign(nr > 0 ? np : 0, 0);
  if (nr > 0) {
    // Purchase event id -> index: binary search when the ids ascend (the store's order), else a
    // sorted copy.
    std::span<const EventId> ids = c_.purchase_event_id;
    std::vector<std::pair<EventId, std::size_t>> sorted;
    const bool ascending = std::is_sorted(ids.begin(), ids.end());
    if (!ascending) {
      sorted.reserve(np);
      for (std::size_t i = 0; i < np; ++i) sorted.emplace_back(ids[i], i);
      std::sort(sorted.begin(), sorted.end());
    }
    for (std::size_t k = 0; k < nr; ++k) {
      const EventId id = c_.refund_purchase_id[k];
      std::size_t idx = np;
      if (ascending) {
        const auto it = std::lower_bound(ids.begin(), ids.end(), id);
        if (it != ids.end() && *it == id) idx = static_cast<std::size_t>(it - ids.begin());
      } else {
        const auto it = std::lower_bound(sorted.begin(), sorted.end(),
                                         std::pair<EventId, std::size_t>(id, 0));
        if (it != sorted.end() && it->first == id) idx = it->second;
      }
      if (idx == np) {
        throw_invalid("refund_purchase_id[" + std::to_string(k) + "]",
                      "no purchase " + std::to_string(id));
      }
      if (c_.refund_at_micros[k] > as_of_) continue;  // not yet refunded as of the date
      refunded_[idx] += c_.refund_amount_minor[k];
      if (refunded_[idx] > c_.purchase_amount_minor[idx]) {
        throw_invalid("refund_amount_minor[" + std::to_string(k) + "]",
                      "the refunds of purchase " + std::to_string(id) + " exceed its amount");
      }
    }
  }
  static const char* const kNames[] = {"purchase_count", "net_revenue", "average_order_value",
                                       "days_since_first_purchase", "days_since_last_purchase",
                                       "purchases_30d", "purchases_90d", "purchases_180d",
                                       "purchases_365d", "net_revenue_90d", "net_revenue_365d"};
  bool any = false;
  for (const char* n : kNames) any = any || want(n);
  if (!any) return;
  std::vector<PurchaseAcc> acc(rows_);
  const auto at = c_.purchase_at_micros;
  const auto amount = c_.purchase_amount_minor;
  by_rows(prow_, [&](std::size_t i, std::uint32_t r) {
    if (at[i] > as_of_) return;
    const std::int64_t rf = refunded_.empty() ? 0 : refunded_[i];
    if (rf > 0 && rf >= amount[i]) return;  // fully refunded as of the date
    const std::int64_t net = amount[i] - rf;
    PurchaseAcc& a = acc[r];
    ++a.count;
    a.net += net;
    a.first = std::min(a.first, at[i]);
    a.last = std::max(a.last, at[i]);
    const std::int64_t d = days(as_of_ - at[i]);
    a.c30 += d < 30;
    a.c90 += d < 90;
    a.c180 += d < 180;
    a.c365 += d < 365;
    if (d < 90) a.n90 += net;
    if (d < 365) a.n365 += net;
  });
  const IntOut count = int_out("purchase_count"), first = int_out("days_since_first_purchase"),
               last = int_out("days_since_last_purchase"), c30 = int_out("purchases_30d"),
               c90 = int_out("purchases_90d"), c180 = int_out("purchases_180d"),
               c365 = int_out("purchases_365d");
  const NumOut net = num_out("net_revenue"), aov = num_out("average_order_value"),
               n90 = num_out("net_revenue_90d"), n365 = num_out("net_revenue_365d");
  for (std::size_t r = 0; r < rows_; ++r) {
    const PurchaseAcc& a = acc[r];
    count.set(r, a.count);
    net.set(r, major(a.net));
    if (a.count > 0) {
      aov.set(r, major(a.net) / static_cast<double>(a.count));
      first.set(r, days(as_of_ - a.first));
      last.set(r, days(as_of_ - a.last));
    }
    c30.set(r, a.c30);
    c90.set(r, a.c90);
    c180.set(r, a.c180);
    c365.set(r, a.c365);
    n90.set(r, major(a.n90));
    n365.set(r, major(a.n365));
  }
}

struct InteractionAcc {
  std::int32_t c90 = 0, c365 = 0, commit365 = 0;
  std::int32_t kind[10] = {};
  std::int32_t purpose[5] = {};
  std::int64_t last = kNone, last_service = kNone;
};

void Computer::check_interactions() {
  if (interactions_checked_) return;
  const std::size_t n = c_.interaction_customer_id.size();
  check_len(c_.interaction_at_micros.size(), n, "interaction_at_micros", "interaction_customer_id");
  check_len(c_.interaction_kind.size(), n, "interaction_kind", "interaction_customer_id");
  check_len(c_.interaction_purpose.size(), n, "interaction_purpose", "interaction_customer_id");
  if (!c_.interaction_commitment_obtained.empty()) {
    check_len(c_.interaction_commitment_obtained.size(), n, "interaction_commitment_obtained",
              "interaction_customer_id");
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (c_.interaction_kind[i] > 9) {
      throw_invalid("interaction_kind[" + std::to_string(i) + "]",
                    "unknown code " + std::to_string(c_.interaction_kind[i]));
    }
    if (c_.interaction_purpose[i] > 4) {
      throw_invalid("interaction_purpose[" + std::to_string(i) + "]",
                    "unknown code " + std::to_string(c_.interaction_purpose[i]));
    }
  }
  interactions_checked_ = true;
}

void Computer::interactions() {
  bool any = want("interactions_90d") || want("interactions_365d") ||
             want("commitments_obtained_365d") || want("days_since_last_interaction") ||
             want("days_since_last_service_contact");
  for (int k = 0; k <= 9; ++k) {
    any = any || want(std::string("interactions_365d.") + to_string(static_cast<InteractionKind>(k)));
  }
  for (int p = 0; p <= 4; ++p) {
    any = any || want(std::string("interactions_365d.") + to_string(static_cast<ContactPurpose>(p)));
  }
  if (!any) return;
  check_interactions();
  const auto rows = resolve(c_.interaction_customer_id, c_.interaction_at_micros,
                            "interaction_customer_id");
  std::vector<InteractionAcc> acc(rows_);
  const auto at = c_.interaction_at_micros;
  const std::uint8_t service = static_cast<std::uint8_t>(ContactPurpose::service);
  by_rows(rows, [&](std::size_t i, std::uint32_t r) {
    InteractionAcc& a = acc[r];
    const std::int64_t d = days(as_of_ - at[i]);
    a.last = std::max(a.last, at[i]);
    if (c_.interaction_purpose[i] == service) a.last_service = std::max(a.last_service, at[i]);
    a.c90 += d < 90;
    if (d < 365) {
      ++a.c365;
      ++a.kind[c_.interaction_kind[i]];
      ++a.purpose[c_.interaction_purpose[i]];
      if (!c_.interaction_commitment_obtained.empty() && c_.interaction_commitment_obtained[i]) {
        ++a.commit365;
      }
    }
  });
  IntOut kind_out[10], purpose_out[5];
  for (int k = 0; k <= 9; ++k) {
    kind_out[k] = int_out(std::string("interactions_365d.") +
                          to_string(static_cast<InteractionKind>(k)));
  }
  for (int p = 0; p <= 4; ++p) {
    purpose_out[p] = int_out(std::string("interactions_365d.") +
                             to_string(static_cast<ContactPurpose>(p)));
  }
  const IntOut c90 = int_out("interactions_90d"), c365 = int_out("interactions_365d"),
               commit = int_out("commitments_obtained_365d"),
               last = int_out("days_since_last_interaction"),
               last_service = int_out("days_since_last_service_contact");
  for (std::size_t r = 0; r < rows_; ++r) {
    const InteractionAcc& a = acc[r];
    c90.set(r, a.c90);
    c365.set(r, a.c365);
    commit.set(r, a.commit365);
    for (int k = 0; k <= 9; ++k) kind_out[k].set(r, a.kind[k]);
    for (int p = 0; p <= 4; ++p) purpose_out[p].set(r, a.purpose[p]);
    if (a.last != kNone) last.set(r, days(as_of_ - a.last));
    if (a.last_service != kNone) last_service.set(r, days(as_of_ - a.last_service));
  }
}

void Computer::simple_counts() {
  if (want("referrals_made")) {
    check_len(c_.referral_at_micros.size(), c_.referral_customer_id.size(), "referral_at_micros",
              "referral_customer_id");
    const auto rows =
        resolve(c_.referral_customer_id, c_.referral_at_micros, "referral_customer_id");
    std::vector<std::int64_t> count(rows_, 0);
    by_rows(rows, [&](std::size_t, std::uint32_t r) { ++count[r]; });
    const IntOut made = int_out("referrals_made");
    for (std::size_t r = 0; r < rows_; ++r) made.set(r, count[r]);
  }
  if (want("events_attended") || want("events_attended_365d")) {
    check_len(c_.participation_at_micros.size(), c_.participation_customer_id.size(),
              "participation_at_micros", "participation_customer_id");
    const auto rows = resolve(c_.participation_customer_id, c_.participation_at_micros,
                              "participation_customer_id");
    std::vector<std::int64_t> all(rows_, 0), year(rows_, 0);
    const auto at = c_.participation_at_micros;
    by_rows(rows, [&](std::size_t i, std::uint32_t r) {
      ++all[r];
      year[r] += days(as_of_ - at[i]) < 365;
    });
    const IntOut all_out = int_out("events_attended"), year_out = int_out("events_attended_365d");
    for (std::size_t r = 0; r < rows_; ++r) {
      all_out.set(r, all[r]);
      year_out.set(r, year[r]);
    }
  }
}

void Computer::surveys() {
  if (!want("last_nps") && !want("last_csat")) return;
  const std::size_t n = c_.survey_customer_id.size();
  check_len(c_.survey_at_micros.size(), n, "survey_at_micros", "survey_customer_id");
  check_len(c_.survey_nps.size(), n, "survey_nps", "survey_customer_id");
  check_len(c_.survey_csat.size(), n, "survey_csat", "survey_customer_id");
  const auto rows = resolve(c_.survey_customer_id, c_.survey_at_micros, "survey_customer_id");
  struct Last {
    std::int64_t at = kNone;
    std::int64_t value = 0;
  };
  std::vector<Last> nps(rows_), csat(rows_);
  const auto at = c_.survey_at_micros;
  // The latest response giving a score; of two at the same time, the later row.
  by_rows(rows, [&](std::size_t i, std::uint32_t r) {
    if (c_.survey_nps[i] >= 0 && at[i] >= nps[r].at) nps[r] = {at[i], c_.survey_nps[i]};
    if (c_.survey_csat[i] >= 0 && at[i] >= csat[r].at) csat[r] = {at[i], c_.survey_csat[i]};
  });
  const IntOut nps_out = int_out("last_nps"), csat_out = int_out("last_csat");
  for (std::size_t r = 0; r < rows_; ++r) {
    if (nps[r].at != kNone) nps_out.set(r, nps[r].value);
    if (csat[r].at != kNone) csat_out.set(r, csat[r].value);
  }
}

void Computer::consents() {
  bool any = want("consent_any");
  bool purposes = false;
  for (int ch = 0; ch <= 5; ++ch) {
    const std::string base = std::string("consent.") + to_string(static_cast<Channel>(ch));
    any = any || want(base);
    purposes = purposes || want(base + ".purposes");
  }
  if (!any && !purposes) return;
  const std::size_t n = c_.consent_customer_id.size();
  check_len(c_.consent_channel.size(), n, "consent_channel", "consent_customer_id");
  check_len(c_.consent_granted.size(), n, "consent_granted", "consent_customer_id");
  check_len(c_.consent_at_micros.size(), n, "consent_at_micros", "consent_customer_id");
  const auto rows = resolve(c_.consent_customer_id, c_.consent_at_micros, "consent_customer_id");
  std::vector<std::uint8_t> mask(rows_, 0);  // bit c: channel c granted
  for (std::size_t i = 0; i < n; ++i) {
    if (c_.consent_channel[i] > 5) {
      throw_invalid("consent_channel[" + std::to_string(i) + "]",
                    "unknown code " + std::to_string(c_.consent_channel[i]));
    }
    if (rows[i] >= kExcluded || !c_.consent_granted[i]) continue;
    mask[rows[i]] |= static_cast<std::uint8_t>(1u << c_.consent_channel[i]);
  }
  if (purposes) {
    check_len(c_.consent_purpose.size(), n, "consent_purpose", "consent_customer_id");
    for (int ch = 0; ch <= 5; ++ch) {
      const std::string name =
          std::string("consent.") + to_string(static_cast<Channel>(ch)) + ".purposes";
      const auto s = schema_.find(name);
      if (!s || !want(name)) continue;
      auto v = out_.table.text_lists(*s);
      auto p = out_.table.present(*s);
      for (std::size_t r = 0; r < rows_; ++r) p[r] = 1;  // an empty list when none
      for (std::size_t i = 0; i < n; ++i) {
        if (rows[i] >= kExcluded || !c_.consent_granted[i] || c_.consent_channel[i] != ch) continue;
        v[rows[i]].push_back(c_.consent_purpose[i]);
      }
      for (std::size_t r = 0; r < rows_; ++r) std::sort(v[r].begin(), v[r].end());
    }
  }
  const auto fill = [&](std::string_view name, std::uint8_t bits) {
    const auto s = schema_.find(name);
    if (!s) return;
    auto v = out_.table.booleans(*s);
    auto p = out_.table.present(*s);
    for (std::size_t r = 0; r < rows_; ++r) {
      v[r] = (mask[r] & bits) != 0 ? 1 : 0;
      p[r] = 1;
    }
  };
  fill("consent_any", 0x3f);
  for (int ch = 0; ch <= 5; ++ch) {
    fill(std::string("consent.") + to_string(static_cast<Channel>(ch)),
         static_cast<std::uint8_t>(1u << ch));
  }
}

void Computer::tags() {
  if (!want("tags")) return;
  check_len(c_.tag.size(), c_.tag_customer_id.size(), "tag", "tag_customer_id");
  const auto rows = resolve(c_.tag_customer_id, {}, "tag_customer_id");
  const std::size_t s = slot("tags");
  auto lists = out_.table.text_lists(s);
  auto present = out_.table.present(s);
  std::fill(present.begin(), present.end(), 1);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] >= kExcluded) continue;
    lists[rows[i]].push_back(c_.tag[i]);
  }
}

void Computer::fields() {
  for (const FieldColumns& f : c_.fields) {
    const std::string name = "field." + f.field.name;
    if (!want(name)) continue;
    check_len(f.value.size(), f.customer_id.size(), (name + ".value").c_str(), "customer_id");
    const auto rows = resolve(f.customer_id, {}, (name + ".customer_id").c_str());
    const std::size_t s = slot(name);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (rows[i] >= kExcluded) continue;
      const FieldValue& v = f.value[i];
      const std::size_t r = rows[i];
      const auto at = [&] { return name + ".value[" + std::to_string(i) + "]"; };
      switch (schema_[s].type) {
        case FactType::boolean:
          if (!std::holds_alternative<bool>(v)) throw_invalid(at(), "is not a bool");
          out_.table.set_boolean(r, s, std::get<bool>(v));
          break;
        case FactType::integer:
          if (!std::holds_alternative<std::int64_t>(v)) throw_invalid(at(), "is not an integer");
          out_.table.set_integer(r, s, std::get<std::int64_t>(v));
          break;
        case FactType::text:
          if (!std::holds_alternative<std::string>(v)) throw_invalid(at(), "is not text");
          out_.table.set_text(r, s, std::get<std::string>(v));
          break;
        case FactType::date:
          if (!std::holds_alternative<Date>(v)) throw_invalid(at(), "is not a date");
          out_.table.set_date(r, s, std::get<Date>(v).days_since_epoch());
          break;
        case FactType::number:
          if (const auto* d = std::get_if<Decimal>(&v)) {
            out_.table.set_number(r, s, std::stod(d->to_string()));
          } else if (const auto* m = std::get_if<Money>(&v)) {
            out_.table.set_number(r, s, m->to_double());
          } else {
            throw_invalid(at(), "is not a decimal or money value");
          }
          break;
        case FactType::text_list: break;
      }
    }
  }
}

void Computer::machines() {
  for (const MachineStageColumns& m : c_.machines) {
    const std::string stage = "stage." + m.machine;
    const std::string in = "days_in_stage." + m.machine;
    if (!want(stage) && !want(in)) continue;
    check_len(m.stage.size(), m.customer_id.size(), (stage + ".stage").c_str(), "customer_id");
    check_len(m.entered_at_micros.size(), m.customer_id.size(),
              (stage + ".entered_at_micros").c_str(), "customer_id");
    const auto rows = resolve(m.customer_id, m.entered_at_micros, (stage + ".customer_id").c_str());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (rows[i] >= kExcluded) continue;
      if (want(stage)) out_.table.set_text(rows[i], slot(stage), m.stage[i]);
      if (want(in)) out_.table.set_integer(rows[i], slot(in), days(as_of_ - m.entered_at_micros[i]));
    }
  }
}

void Computer::windows() {
  for (const WindowFact& w : o_.windows) {
    if (!want(w.name)) continue;
    const std::int64_t n_days = w.window_days;
    std::vector<std::int64_t> count(rows_, 0);
    std::vector<WideSum> sum(rows_, 0);  // exact past 2^63 minor units
    std::vector<std::uint64_t> day_keys;  // row << 20 | day count, for distinct_days
    const bool distinct = w.aggregate == WindowAggregate::distinct_days;
    auto take = [&](std::uint32_t r, std::int64_t at, std::int64_t amount) {
      const std::int64_t d = days(as_of_ - at);
      if (d >= n_days) return;
      ++count[r];
      sum[r] += amount;
      if (distinct) {  // the UTC calendar day, counted back from as_of's (0..n_days)
        const std::int64_t back = detail::day_of(as_of_) - detail::day_of(at);
        day_keys.push_back((static_cast<std::uint64_t>(r) << 20) | static_cast<std::uint64_t>(back));
      }
    };
    switch (w.event) {
      case WindowEvent::purchase:
        for (std::size_t i = 0; i < prow_.size(); ++i) {
          if (prow_[i] >= kExcluded || c_.purchase_at_micros[i] > as_of_) continue;
          const std::int64_t rf = refunded_.empty() ? 0 : refunded_[i];
          if (rf > 0 && rf >= c_.purchase_amount_minor[i]) continue;
          take(prow_[i], c_.purchase_at_micros[i], c_.purchase_amount_minor[i] - rf);
        }
        break;
      case WindowEvent::refund: {
        std::span<const EventId> ids = c_.purchase_event_id;
        std::unordered_map<EventId, std::size_t> index;
        index.reserve(ids.size());
        for (std::size_t i = 0; i < ids.size(); ++i) index.emplace(ids[i], i);
        for (std::size_t k = 0; k < c_.refund_purchase_id.size(); ++k) {
          if (c_.refund_at_micros[k] > as_of_) continue;
          const std::size_t p = index.at(c_.refund_purchase_id[k]);  // checked in purchases()
          if (prow_[p] >= kExcluded) continue;
          take(prow_[p], c_.refund_at_micros[k], c_.refund_amount_minor[k]);
        }
        break;
      }
      case WindowEvent::interaction: {
        check_interactions();
        const auto rows = resolve(c_.interaction_customer_id, c_.interaction_at_micros,
                                  "interaction_customer_id");
        for (std::size_t i = 0; i < rows.size(); ++i) {
          if (rows[i] >= kExcluded) continue;
          if (w.kind && c_.interaction_kind[i] != static_cast<std::uint8_t>(*w.kind)) continue;
          if (w.purpose && c_.interaction_purpose[i] != static_cast<std::uint8_t>(*w.purpose)) {
            continue;
          }
          if (w.commitment_obtained && (c_.interaction_commitment_obtained.empty() ||
                                        !c_.interaction_commitment_obtained[i])) {
            continue;
          }
          take(rows[i], c_.interaction_at_micros[i], 0);
        }
        break;
      }
      case WindowEvent::referral:
      case WindowEvent::survey_response:
      case WindowEvent::event_participation: {
        std::span<const CustomerId> ids = c_.participation_customer_id;
        std::span<const std::int64_t> at = c_.participation_at_micros;
        const char* field = "participation_customer_id";
        const char* at_field = "participation_at_micros";
        if (w.event == WindowEvent::referral) {
          ids = c_.referral_customer_id, at = c_.referral_at_micros;
          field = "referral_customer_id", at_field = "referral_at_micros";
        } else if (w.event == WindowEvent::survey_response) {
          ids = c_.survey_customer_id, at = c_.survey_at_micros;
          field = "survey_customer_id", at_field = "survey_at_micros";
        }
        check_len(at.size(), ids.size(), at_field, field);
        const auto rows = resolve(ids, at, field);
        for (std::size_t i = 0; i < rows.size(); ++i) {
          if (rows[i] < kExcluded) take(rows[i], at[i], 0);
        }
        break;
      }
    }
    const std::size_t s = slot(w.name);
    if (distinct) {
      std::sort(day_keys.begin(), day_keys.end());
      day_keys.erase(std::unique(day_keys.begin(), day_keys.end()), day_keys.end());
      std::fill(count.begin(), count.end(), 0);
      for (std::uint64_t k : day_keys) ++count[k >> 20];
    }
    for (std::size_t r = 0; r < rows_; ++r) {
      switch (w.aggregate) {
        case WindowAggregate::count:
        case WindowAggregate::distinct_days: out_.table.set_integer(r, s, count[r]); break;
        case WindowAggregate::sum: out_.table.set_number(r, s, major(sum[r])); break;
        case WindowAggregate::mean:
          if (count[r] > 0) {
            out_.table.set_number(r, s, major(sum[r]) / static_cast<double>(count[r]));
          }
          break;
      }
    }
  }
}

void Computer::rfm() {
  if (!want("rfm.r") && !want("rfm.f") && !want("rfm.m") && !want("rfm.segment")) return;
  std::vector<std::int64_t> ids, times, net;
  for (std::size_t i = 0; i < prow_.size(); ++i) {
    if (prow_[i] >= kExcluded || c_.purchase_at_micros[i] > as_of_) continue;
    const std::int64_t rf = refunded_.empty() ? 0 : refunded_[i];
    if (rf > 0 && rf >= c_.purchase_amount_minor[i]) continue;
    ids.push_back(prow_[i]);
    times.push_back(c_.purchase_at_micros[i]);
    net.push_back(c_.purchase_amount_minor[i] - rf);
  }
  if (ids.empty()) return;
  SummaryOptions so;
  so.unit = TimeUnit::day;
  so.observation_period_end = Timestamp(as_of_);
  so.include_first_transaction = true;
  const RfmSummary s = summary_data_from_transaction_data(ids, times, net, c_.scale, so);
  std::vector<double> recency_value(s.size()), frequency(s.size());
  for (std::size_t k = 0; k < s.size(); ++k) {
    recency_value[k] = s.T[k] - s.recency[k];
    frequency[k] = static_cast<double>(s.frequency[k]);
  }
  const RfmScores sc = rfm_scores(recency_value, frequency, s.monetary_value, o_.rfm);
  const IntOut r_out = int_out("rfm.r"), f_out = int_out("rfm.f"), m_out = int_out("rfm.m");
  const auto segment = schema_.find("rfm.segment");
  for (std::size_t k = 0; k < s.size(); ++k) {
    const std::size_t r = static_cast<std::size_t>(s.customer_id[k]);
    r_out.set(r, sc.r[k]);
    f_out.set(r, sc.f[k]);
    m_out.set(r, sc.m[k]);
    if (segment) out_.table.set_text(r, *segment, sc.segment[k]);
  }
}

void Computer::model() {
  if (!o_.model.has_model() || (!want("p_alive") && !want("expected_purchases_365d"))) return;
  std::vector<std::int64_t> ids, times;
  for (std::size_t i = 0; i < prow_.size(); ++i) {
    if (prow_[i] >= kExcluded || c_.purchase_at_micros[i] > as_of_) continue;
    ids.push_back(prow_[i]);
    times.push_back(c_.purchase_at_micros[i]);
  }
  if (ids.empty()) return;
  SummaryOptions so;
  so.unit = o_.model.unit;
  so.multiplier = o_.model.multiplier;
  so.observation_period_end = Timestamp(as_of_);
  const RfmSummary s = summary_data_from_transaction_data(ids, times, so);
  const std::vector<double> x(s.frequency.begin(), s.frequency.end());
  std::vector<double> alive, expected;
  const double horizon = o_.model.horizon_365d();
  std::visit(
      [&](const auto& m) {
        using M = std::decay_t<decltype(m)>;
        if constexpr (!std::is_same_v<M, std::monostate>) {
          if (want("p_alive")) alive = m.conditional_probability_alive(x, s.recency, s.T);
          if (want("expected_purchases_365d")) {
            expected = m.conditional_expected_number_of_purchases_up_to_time(horizon, x,
                                                                             s.recency, s.T);
          }
        }
      },
      o_.model.model);
  const NumOut alive_out = num_out("p_alive"), expected_out = num_out("expected_purchases_365d");
  for (std::size_t k = 0; k < s.size(); ++k) {
    const std::size_t r = static_cast<std::size_t>(s.customer_id[k]);
    if (!alive.empty()) alive_out.set(r, alive[k]);
    if (!expected.empty()) expected_out.set(r, expected[k]);
  }
}

CustomerFacts Computer::run() {
  if (c_.scale < 0 || c_.scale > 18) {
    throw_invalid("scale", "must be in 0..18, got " + std::to_string(c_.scale));
  }
  divisor_ = 1.0;
  for (int i = 0; i < c_.scale; ++i) divisor_ *= 10.0;
  if (o_.model.has_model() &&
      (!std::isfinite(o_.model.multiplier) || o_.model.multiplier <= 0.0)) {
    throw_invalid("model.multiplier", "must be finite and > 0");
  }
  threads_ = o_.threads == 0 ? model_threads() : o_.threads;
  // The catalogue, then the facts asked for.
  std::vector<FieldDef> defs;
  for (const FieldColumns& f : c_.fields) defs.push_back(f.field);
  std::vector<std::string> machine_names;
  for (const MachineStageColumns& m : c_.machines) machine_names.push_back(m.machine);
  const FactSchema catalogue = standard_fact_schema(defs, machine_names, o_.windows);
  if (o_.facts.empty()) {
    schema_ = catalogue;
  } else {
    for (std::size_t i = 0; i < o_.facts.size(); ++i) {
      const auto s = catalogue.find(o_.facts[i]);
      if (!s) {
        throw_invalid("facts[" + std::to_string(i) + "]", "unknown fact '" + o_.facts[i] + "'");
      }
      if (schema_.find(o_.facts[i])) {
        throw_invalid("facts[" + std::to_string(i) + "]", "'" + o_.facts[i] + "' asked twice");
      }
      schema_.add(catalogue[*s].name, catalogue[*s].type, catalogue[*s].description);
    }
  }
  customers();
  purchases();
  interactions();
  simple_counts();
  surveys();
  consents();
  tags();
  fields();
  machines();
  windows();
  rfm();
  model();
  return std::move(out_);
}

}  // namespace

CustomerFacts compute_facts(const FactColumns& columns, Timestamp as_of,
                            const FactOptions& options) {
  return Computer(columns, as_of, options).run();
}

}  // namespace v0
}  // namespace crmkit
