// Store: points programmes and the points ledger (schema v4 in schema.cpp; the rules in
// crmkit/store/store.hpp, points block, and crmkit/loyalty/points.hpp).
//
// How earn_points stays fast on a large ledger: the new events are read once, in id order, into
// compact columns (no Event objects kept); a counting sort groups them by customer; each
// customer's account (one PointsAccount sharing one CompiledProgram) is replayed from its stored
// entries (read by index seek for a few customers, or by one ordered scan of the programme's
// entries for many), then fed the customer's events in (at, id) order; the entries they earn are
// inserted at once with one prepared statement, grouped by customer, so the index
// (program_id, customer_id, at, id) is written in order. Everything happens in one write
// transaction (WriteScope).
#include <limits>
#include <algorithm>
#include <cstring>
#include <map>
#include <numeric>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "crmkit/base/error.hpp"
#include "crmkit/loyalty/period.hpp"
#include "crmkit/loyalty/points.hpp"
#include "store/codes.hpp"
#include "store/store_impl.hpp"
#include "store/write_scope.hpp"

namespace crmkit {
inline namespace v0 {

namespace {

constexpr std::size_t kMaxReason = 1024;
constexpr std::size_t kMaxKey = 256;

#define CRMKIT_POINTS_COLS                                                                    \
  "id, customer_id, kind, at, points, available_at, expires_at, event_id, rule, amount_minor, " \
  "idempotency_key, reason"

PointsEntry entry_from_row(sql::Stmt& s, const Currency& currency) {
  PointsEntry e;
  e.id = s.i64(0);
  e.customer = s.i64(1);
  e.kind = static_cast<PointsEntryKind>(s.i64(2));
  e.at = Timestamp(s.i64(3));
  e.points = s.i64(4);
  e.available_at = Timestamp(s.i64(5));
  if (!s.is_null(6)) e.expires_at = Timestamp(s.i64(6));
  e.event = s.is_null(7) ? 0 : s.i64(7);
  e.rule = s.str(8);
  e.amount = s.is_null(9) ? Money() : Money::from_minor(s.i64(9), currency);  // Money(): zero
  e.idempotency_key = s.str(10);
  e.reason = s.str(11);
  return e;
}

struct ProgramRow {
  std::int64_t id = 0;
  Program program;
  Timestamp defined_at;
  Timestamp updated_at;
  std::int64_t last_event = 0;
};

std::optional<ProgramRow> try_read_program(sql::Db& db, std::string_view name) {
  auto s = db.cached(
      "SELECT id, data, defined_at, updated_at, last_event FROM points_programs WHERE name = ?");
  s.bind(1, name);
  if (!s.step()) return std::nullopt;
  ProgramRow r;
  r.id = s.i64(0);
  r.program = Program::from_json_text(s.text(1));
  r.defined_at = Timestamp(s.i64(2));
  r.updated_at = Timestamp(s.i64(3));
  r.last_event = s.i64(4);
  return r;
}

ProgramRow read_program(sql::Db& db, std::string_view name) {
  auto r = try_read_program(db, name);
  if (!r)
    throw_error(ErrorCode::not_found, "program",
                "no points programme '" + std::string(name) + "'");
  return std::move(*r);
}

// One customer's entries of a programme in (at, id) order.
std::vector<PointsEntry> customer_entries(sql::Db& db, std::int64_t program_id, CustomerId c,
                                          const Currency& currency) {
  auto s = db.cached("SELECT " CRMKIT_POINTS_COLS
                     " FROM points_entries WHERE program_id = ? AND customer_id = ? "
                     "ORDER BY at, id");
  s.bind(1, program_id).bind(2, c);
  std::vector<PointsEntry> out;
  while (s.step()) out.push_back(entry_from_row(s, currency));
  return out;
}

// Every points entry's times are within Timestamp::min() .. max() (crmkit/base/time.hpp), so
// that what is stored can be exported and imported again: a lot granted near 9999-12-31 whose
// pending days or expiry would end after it is refused, naming the field.
void check_entry_times(const PointsEntry& e) {
  e.at.check_range("at");
  e.available_at.check_range("available_at");
  if (e.expires_at) e.expires_at->check_range("expires_at");
}

void insert_entry(sql::Db& db, std::int64_t program_id, const PointsEntry& e, Timestamp recorded,
                  const std::string& actor) {
  check_entry_times(e);
  auto s = db.cached(
      "INSERT INTO points_entries(id, program_id, customer_id, kind, at, points, available_at, "
      "expires_at, event_id, rule, amount_minor, idempotency_key, reason, recorded_at, actor) "
      "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  s.bind(1, e.id)
      .bind(2, program_id)
      .bind(3, e.customer)
      .bind(4, codes::code(e.kind))
      .bind(5, e.at.micros())
      .bind(6, e.points)
      .bind(7, e.available_at.micros());
  if (e.expires_at) s.bind(8, e.expires_at->micros()); else s.bind_null(8);
  if (e.event != 0) s.bind(9, e.event); else s.bind_null(9);
  s.bind_static(10, e.rule);
  if (e.kind == PointsEntryKind::spend) s.bind(11, e.amount.minor_units_i64()); else s.bind_null(11);
  s.bind_text_or_null(12, e.idempotency_key)
      .bind_static(13, e.reason)
      .bind(14, recorded.micros())
      .bind_static(15, actor)
      .run();
}

std::int64_t next_entry_id(sql::Db& db) { return next_row_id(db, "points_entries"); }

// The customer of a redemption or adjustment exists and is live.
void check_live(sql::Db& db, CustomerId c) {
  auto s = db.cached("SELECT deleted, erased FROM customers WHERE id = ?");
  s.bind(1, c);
  if (!s.step())
    throw_error(ErrorCode::not_found, "customer", "no customer with id " + std::to_string(c));
  if (s.i64(1) != 0)
    throw_error(ErrorCode::conflict, "customer", "customer " + std::to_string(c) + " is erased");
  if (s.i64(0) != 0)
    throw_error(ErrorCode::conflict, "customer",
                "customer " + std::to_string(c) + " is deleted (restore it first)");
}

// The entry already holding `key` in the programme, if any; Error{conflict} if it belongs to
// another customer or is of another kind.
std::optional<PointsEntry> key_match(sql::Db& db, std::int64_t program_id, std::string_view key,
                                     CustomerId c, PointsEntryKind kind,
                                     const Currency& currency) {
  if (key.empty()) return std::nullopt;
  auto s = db.cached("SELECT " CRMKIT_POINTS_COLS
                     " FROM points_entries WHERE program_id = ? AND idempotency_key = ?");
  s.bind(1, program_id).bind(2, key);
  if (!s.step()) return std::nullopt;
  PointsEntry e = entry_from_row(s, currency);
  if (e.customer != c || e.kind != kind)
    throw_error(ErrorCode::conflict, "idempotency_key",
                "'" + std::string(key) + "' belongs to another points entry (id " +
                    std::to_string(e.id) + ")");
  return e;
}

// When a lot granted (unlocked) at `t` expires under `policy`.
std::optional<Timestamp> expiry_of(const ExpiryPolicy& policy, Timestamp t) {
  constexpr std::int64_t kDay = 86'400'000'000;
  switch (policy.mode) {
    case ExpiryMode::never: return std::nullopt;
    case ExpiryMode::after_days: return Timestamp(t.micros() + policy.days * kDay);
    case ExpiryMode::end_of_month:
      return period_start(period_index(t, Period::month) + 1, Period::month);
    case ExpiryMode::end_of_year:
      return period_start(period_index(t, Period::year) + 1, Period::year);
  }
  return std::nullopt;
}

// Calls fn(customer, entries) for every customer with an entry at or before as_of, ascending by
// customer, from one ordered scan of the programme's entries (one customer in memory at a time).
template <class Fn>
void for_each_account(sql::Db& db, std::int64_t program_id, Timestamp as_of,
                      const Currency& currency, Fn&& fn) {
  auto s = db.cached("SELECT " CRMKIT_POINTS_COLS
                     " FROM points_entries WHERE program_id = ? AND at <= ? "
                     "ORDER BY customer_id, at, id");
  s.bind(1, program_id).bind(2, as_of.micros());
  std::vector<PointsEntry> chunk;
  CustomerId current = 0;
  while (s.step()) {
    PointsEntry e = entry_from_row(s, currency);
    if (!chunk.empty() && e.customer != current) {
      fn(current, chunk);
      chunk.clear();
    }
    current = e.customer;
    chunk.push_back(std::move(e));
  }
  if (!chunk.empty()) fn(current, chunk);
}

PointsProgramInfo info_of(const ProgramRow& r) {
  PointsProgramInfo i;
  i.name = r.program.name;
  i.json = r.program.to_json_text();
  i.defined_at = r.defined_at;
  i.updated_at = r.updated_at;
  i.last_event = r.last_event;
  return i;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Programmes

PointsProgramInfo Store::define_points_program(const Program& program, const WriteContext& ctx) {
  validate_program(program);
  if (program.currency != impl_->currency.code())
    throw_invalid("currency", "the programme's currency is " + program.currency +
                                  ", not the store's " + std::string(impl_->currency.code()));
  Impl::WriteScope w(*impl_, ctx);
  sql::Db& db = w.db();
  const std::string json = program.to_json_text();
  auto old = try_read_program(db, program.name);
  ProgramRow r;
  r.program = program;
  r.updated_at = w.now();
  if (old) {
    r.id = old->id;
    r.defined_at = old->defined_at;
    r.last_event = old->last_event;
    auto s = db.cached("UPDATE points_programs SET data = ?, updated_at = ? WHERE id = ?");
    s.bind_static(1, json).bind(2, w.now().micros()).bind(3, r.id).run();
    w.audit("points", r.id, "replace_program", program.name, old->program.to_json_text(), json);
  } else {
    r.defined_at = w.now();
    r.id = next_row_id(db, "points_programs");
    auto s = db.cached(
        "INSERT INTO points_programs(name, data, defined_at, updated_at, last_event, id) "
        "VALUES(?, ?, ?, ?, 0, ?)");
    s.bind(5, r.id)
        .bind_static(1, program.name)
        .bind_static(2, json)
        .bind(3, w.now().micros())
        .bind(4, w.now().micros())
        .run();
    w.audit("points", r.id, "define_program", program.name, "", json);
  }
  w.commit();
  return info_of(r);
}

Program Store::points_program(std::string_view name) const {
  Impl::ReadLease lease(*impl_);
  return read_program(lease.db(), name).program;
}

std::vector<PointsProgramInfo> Store::points_programs() const {
  Impl::ReadLease lease(*impl_);
  sql::Db& db = lease.db();
  sql::ReadTxn rt(db);
  std::vector<PointsProgramInfo> out;
  auto s = db.cached("SELECT name FROM points_programs ORDER BY name");
  std::vector<std::string> names;
  while (s.step()) names.push_back(s.str(0));
  for (const auto& n : names) out.push_back(info_of(read_program(db, n)));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Earning

EarnReport Store::earn_points(std::string_view program, const WriteContext& ctx) {
  // Foreign-key checks off for this transaction (like import_purchases): every entry's customer
  // is an event's customer and its programme was just read, so the per-row look-ups would only
  // cost time.
  Impl::WriteScope w(*impl_, ctx, Impl::WriteScope::ForeignKeys::kOff);
  sql::Db& db = w.db();
  const ProgramRow pr = read_program(db, program);
  const auto compiled = compile_program(pr.program);
  const Currency& cur = impl_->currency;
  EarnReport report;
  const std::int64_t top = db.query_int("SELECT coalesce(max(id), 0) FROM events");
  report.last_event = std::max(top, pr.last_event);
  if (top <= pr.last_event) return report;

  // The new events as compact columns, in id order.
  std::vector<EventId> ev_id;
  std::vector<CustomerId> ev_customer;
  std::vector<std::int64_t> ev_at, ev_amount, ev_ref;
  std::vector<std::int32_t> ev_items;
  std::vector<std::uint32_t> ev_category;
  std::vector<std::uint8_t> ev_type, ev_essential;
  std::vector<std::string> categories;
  std::unordered_map<std::string, std::uint32_t> category_index;
  std::unordered_map<std::size_t, Event> others;  // referral, survey, participation rows
  {
    const std::int64_t n_hint = top - pr.last_event;
    for (auto* v : {&ev_id, &ev_customer, &ev_at, &ev_amount})
      v->reserve(static_cast<std::size_t>(n_hint));
    auto s = db.cached(
        "SELECT id, customer_id, type, at, amount_minor, ref_id, item_count, essential, "
        "category FROM events WHERE id > ? AND type IN (?, ?) ORDER BY id");
    s.bind(1, pr.last_event).bind(2, codes::kPurchase).bind(3, codes::kRefund);
    std::string last_cat;
    std::uint32_t last_idx = 0;
    bool have_last = false;
    while (s.step()) {
      ev_id.push_back(s.i64(0));
      ev_customer.push_back(s.i64(1));
      ev_type.push_back(static_cast<std::uint8_t>(s.i64(2)));
      ev_at.push_back(s.i64(3));
      ev_amount.push_back(s.i64(4));
      ev_ref.push_back(s.is_null(5) ? 0 : s.i64(5));
      ev_items.push_back(static_cast<std::int32_t>(s.i64(6)));
      ev_essential.push_back(static_cast<std::uint8_t>(s.i64(7) != 0));
      const std::string_view cat = s.text(8);
      if (!have_last || cat != last_cat) {
        auto it = category_index.find(std::string(cat));
        if (it == category_index.end()) {
          it = category_index.emplace(std::string(cat),
                                      static_cast<std::uint32_t>(categories.size())).first;
          categories.emplace_back(cat);
        }
        last_cat.assign(cat);
        last_idx = it->second;
        have_last = true;
      }
      ev_category.push_back(last_idx);
    }
  }
  {
    auto s = db.cached("SELECT " CRMKIT_EVENT_COLS
                       " FROM events WHERE id > ? AND type IN (?, ?, ?) ORDER BY id");
    s.bind(1, pr.last_event)
        .bind(2, codes::kReferral)
        .bind(3, codes::kSurveyResponse)
        .bind(4, codes::kEventParticipation);
    while (s.step()) {
      Event e = impl_->event_from_row(s);
      const std::size_t row = ev_id.size();
      ev_id.push_back(e.id);
      ev_customer.push_back(e.customer);
      ev_type.push_back(static_cast<std::uint8_t>(codes::code(e.type())));
      ev_at.push_back(e.at.micros());
      ev_amount.push_back(0);
      ev_ref.push_back(0);
      ev_items.push_back(0);
      ev_essential.push_back(0);
      ev_category.push_back(0);
      others.emplace(row, std::move(e));
    }
  }
  const std::size_t n = ev_id.size();
  report.events_read = n;

  // Group by customer (counting sort over the distinct customers), then (at, id) within one.
  std::vector<CustomerId> custs(ev_customer);
  std::sort(custs.begin(), custs.end());
  custs.erase(std::unique(custs.begin(), custs.end()), custs.end());
  std::vector<std::uint32_t> order(n);
  std::vector<std::size_t> start(custs.size() + 1, 0);
  {
    std::vector<std::uint32_t> slot(n);
    for (std::size_t i = 0; i < n; ++i) {
      slot[i] = static_cast<std::uint32_t>(
          std::lower_bound(custs.begin(), custs.end(), ev_customer[i]) - custs.begin());
      ++start[slot[i] + 1];
    }
    std::partial_sum(start.begin(), start.end(), start.begin());
    std::vector<std::size_t> fill(start.begin(), start.end() - 1);
    for (std::size_t i = 0; i < n; ++i) order[fill[slot[i]]++] = static_cast<std::uint32_t>(i);
  }
  for (std::size_t k = 0; k < custs.size(); ++k) {
    auto b = order.begin() + static_cast<std::ptrdiff_t>(start[k]);
    auto e = order.begin() + static_cast<std::ptrdiff_t>(start[k + 1]);
    // Rows of one customer are in id order already; a stable sort by time keeps ids ascending.
    std::stable_sort(b, e, [&](std::uint32_t x, std::uint32_t y) { return ev_at[x] < ev_at[y]; });
  }

  // Stored entries: per customer by index seek when few customers are touched, else one scan.
  const std::int64_t stored = db.query_int(
      ("SELECT count(*) FROM points_entries WHERE program_id = " + std::to_string(pr.id)).c_str());
  const bool seek = stored > 0 && custs.size() * 20 < static_cast<std::size_t>(stored);
  std::optional<sql::Stmt> scan;
  std::optional<PointsEntry> scan_head;
  if (stored > 0 && !seek) {
    scan.emplace(db.prepare("SELECT " CRMKIT_POINTS_COLS
                            " FROM points_entries WHERE program_id = ? "
                            "ORDER BY customer_id, at, id"));
    scan->bind(1, pr.id);
    if (scan->step()) scan_head = entry_from_row(*scan, cur);
  }
  auto stored_of = [&](CustomerId c) {
    std::vector<PointsEntry> out;
    if (stored == 0) return out;
    if (seek) return customer_entries(db, pr.id, c, cur);
    while (scan_head && scan_head->customer < c)
      scan_head = scan->step() ? std::optional<PointsEntry>(entry_from_row(*scan, cur))
                               : std::nullopt;
    while (scan_head && scan_head->customer == c) {
      out.push_back(std::move(*scan_head));
      scan_head = scan->step() ? std::optional<PointsEntry>(entry_from_row(*scan, cur))
                               : std::nullopt;
    }
    return out;
  };

  // A refund's basis: its purchase's amount and the purchase's refunds of lower id.
  auto basis_of = [&](std::size_t row) {
    RefundBasis b;
    const EventId purchase = ev_ref[row];
    auto p = db.cached("SELECT amount_minor FROM events WHERE id = ?");
    p.bind(1, purchase);
    b.purchase_amount = Money::from_minor(p.step() ? p.i64(0) : 0, cur);
    auto r = db.cached(
        "SELECT coalesce(sum(amount_minor), 0) FROM events WHERE ref_id = ? AND type = ? AND "
        "id < ?");
    r.bind(1, purchase).bind(2, codes::kRefund).bind(3, ev_id[row]);
    b.refunded_before = Money::from_minor(r.step() ? r.i64(0) : 0, cur);
    return b;
  };

  std::int64_t next_id = next_entry_id(db);
  const std::string& actor = w.actor();
  const Timestamp now = w.now();
  auto ins = db.prepare(
      "INSERT INTO points_entries(id, program_id, customer_id, kind, at, points, available_at, "
      "expires_at, event_id, rule, amount_minor, idempotency_key, reason, recorded_at, actor) "
      "VALUES(?,?,?,?,?,?,?,?,?,?,?,NULL,'',?,?)");
  ins.bind(2, pr.id).bind_static(13, actor).bind(12, now.micros());
  Event ev;
  Purchase purchase_payload;
  Refund refund_payload;
  for (std::size_t k = 0; k < custs.size(); ++k) {
    const CustomerId c = custs[k];
    PointsAccount acct(compiled, c);
    const std::vector<PointsEntry> old = stored_of(c);
    std::size_t oi = 0;
    for (std::size_t j = start[k]; j < start[k + 1]; ++j) {
      const std::size_t row = order[j];
      const Timestamp at(ev_at[row]);
      while (oi < old.size() && old[oi].at <= at) acct.apply(old[oi++]);
      const Event* event = nullptr;
      std::optional<RefundBasis> basis;
      const auto type = static_cast<EventType>(ev_type[row]);
      if (type == EventType::purchase || type == EventType::refund) {
        ev.id = ev_id[row];
        ev.customer = c;
        ev.at = at;
        if (type == EventType::purchase) {
          purchase_payload.amount = Money::from_minor(ev_amount[row], cur);
          purchase_payload.category = categories[ev_category[row]];
          purchase_payload.essential = ev_essential[row] != 0;
          purchase_payload.item_count = ev_items[row];
          ev.payload = purchase_payload;
        } else {
          refund_payload.amount = Money::from_minor(ev_amount[row], cur);
          refund_payload.purchase = ev_ref[row];
          ev.payload = refund_payload;
          basis = basis_of(row);
        }
        event = &ev;
      } else {
        event = &others.at(row);
      }
      try {
        acct.advance_to(at);
        for (PointsEntry& e : acct.earn(*event, basis)) {
          if (next_id < 0) next_row_id(db, "points_entries");  // throws: 2^63-1 is taken
          e.id = next_id;
          next_id = next_id == std::numeric_limits<std::int64_t>::max() ? -1 : next_id + 1;
          check_entry_times(e);
          acct.apply(e);
          ins.bind(1, e.id)
              .bind(3, c)
              .bind(4, codes::code(e.kind))
              .bind(5, e.at.micros())
              .bind(6, e.points)
              .bind(7, e.available_at.micros());
          if (e.expires_at) ins.bind(8, e.expires_at->micros()); else ins.bind_null(8);
          if (e.event != 0) ins.bind(9, e.event); else ins.bind_null(9);
          ins.bind(10, std::string_view(e.rule));
          if (e.kind == PointsEntryKind::spend) ins.bind(11, e.amount.minor_units_i64());
          else ins.bind_null(11);
          ins.run();
          ins.rewind();
          ++report.entries_added;
          if (e.kind == PointsEntryKind::earn) report.points_granted += e.points;
          if (e.kind == PointsEntryKind::reversal) report.points_reversed += e.points;
        }
      } catch (const Error& err) {
        rethrow_prefixed(err, "event " + std::to_string(ev_id[row]) + ": ");
      }
    }
  }
  {
    auto u = db.cached("UPDATE points_programs SET last_event = ? WHERE id = ?");
    u.bind(1, top).bind(2, pr.id).run();
  }
  report.last_event = top;
  if (report.entries_added > 0) {
    const nlohmann::json summary = {{"events_read", report.events_read},
                                    {"entries_added", report.entries_added},
                                    {"points_granted", report.points_granted},
                                    {"points_reversed", report.points_reversed},
                                    {"last_event", report.last_event}};
    w.audit("points", pr.id, "earn_points", pr.program.name, "", summary.dump());
  }
  w.commit();
  return report;
}

// ---------------------------------------------------------------------------------------------
// Redemptions and adjustments

namespace {

// The shared half of redeem_points and adjust_points, inside the caller's write transaction:
// checks, idempotency, replay; `make` turns the replayed account into the new entry. Returns the
// entry and whether it is new (false: an idempotent repeat, nothing to write).
template <class Make>
std::pair<PointsEntry, bool> manual_entry(sql::Db& db, const Currency& currency, Timestamp now,
                                          std::int64_t program_id, const Program& program,
                                          CustomerId customer, Timestamp at,
                                          std::string_view key, std::string_view reason,
                                          PointsEntryKind kind, Make&& make) {
  check_live(db, customer);
  if (auto hit = key_match(db, program_id, key, customer, kind, currency))
    return {std::move(*hit), false};
  at.check_range("at");
  if (at > now)
    throw_invalid("at", at.to_string() + " is after the time of the write (" + now.to_string() +
                            ")");
  const std::vector<PointsEntry> old = customer_entries(db, program_id, customer, currency);
  if (!old.empty() && at < old.back().at)
    throw_invalid("at", at.to_string() + " is before the customer's latest points entry (" +
                            old.back().at.to_string() + ")");
  PointsAccount acct(program, customer);
  for (const auto& e : old) acct.apply(e);
  acct.advance_to(at);
  PointsEntry e = make(acct);
  e.idempotency_key = std::string(key);
  e.reason = std::string(reason);
  e.id = next_entry_id(db);
  acct.apply(e);  // the engine's own check of the new entry
  return {std::move(e), true};
}

}  // namespace

PointsEntry Store::redeem_points(std::string_view program, CustomerId customer,
                                 std::int64_t points, Timestamp at,
                                 std::string_view idempotency_key, std::string_view reason,
                                 const WriteContext& ctx) {
  if (points <= 0) throw_invalid("points", "must be > 0, got " + std::to_string(points));
  check_text(reason, "reason", 0, kMaxReason);
  check_text(idempotency_key, "idempotency_key", 0, kMaxKey);
  Impl::WriteScope w(*impl_, ctx);
  sql::Db& db = w.db();
  const ProgramRow pr = read_program(db, program);
  auto [e, fresh] = manual_entry(db, impl_->currency, w.now(), pr.id, pr.program, customer, at,
                                 idempotency_key, reason, PointsEntryKind::redeem,
                                 [&](PointsAccount& a) { return a.redeem(points, at); });
  if (!fresh) return e;
  insert_entry(db, pr.id, e, w.now(), w.actor());
  const nlohmann::json v = {{"entry", e.id}, {"points", e.points}};
  w.audit("customer", customer, "redeem_points", pr.program.name, "", v.dump());
  w.commit();
  return e;
}

PointsEntry Store::adjust_points(std::string_view program, CustomerId customer,
                                 std::int64_t points, Timestamp at, std::string_view reason,
                                 std::string_view idempotency_key, const WriteContext& ctx) {
  if (points == 0) throw_invalid("points", "must not be 0");
  if (reason.empty()) throw_invalid("reason", "is required for an adjustment");
  check_text(reason, "reason", 0, kMaxReason);
  check_text(idempotency_key, "idempotency_key", 0, kMaxKey);
  Impl::WriteScope w(*impl_, ctx);
  sql::Db& db = w.db();
  const ProgramRow pr = read_program(db, program);
  auto [e, fresh] = manual_entry(db, impl_->currency, w.now(), pr.id, pr.program, customer, at,
                      idempotency_key, reason, PointsEntryKind::adjustment, [&](PointsAccount& a) {
                        PointsEntry e;
                        e.customer = customer;
                        e.at = at;
                        e.kind = PointsEntryKind::adjustment;
                        e.points = points;
                        e.available_at = at;
                        if (points > 0) e.expires_at = expiry_of(a.program().expiry, at);
                        return e;
                      });
  if (!fresh) return e;
  insert_entry(db, pr.id, e, w.now(), w.actor());
  const nlohmann::json v = {{"entry", e.id}, {"points", e.points}};
  w.audit("customer", customer, "adjust_points", pr.program.name, "", v.dump());
  w.commit();
  return e;
}

// ---------------------------------------------------------------------------------------------
// Reads

std::vector<PointsEntry> Store::points_entries(std::string_view program,
                                               std::optional<CustomerId> customer) const {
  Impl::ReadLease lease(*impl_);
  sql::Db& db = lease.db();
  sql::ReadTxn rt(db);
  const ProgramRow pr = read_program(db, program);
  auto s = customer ? db.cached("SELECT " CRMKIT_POINTS_COLS
                                " FROM points_entries WHERE program_id = ? AND customer_id = ? "
                                "ORDER BY id")
                    : db.cached("SELECT " CRMKIT_POINTS_COLS
                                " FROM points_entries WHERE program_id = ? ORDER BY id");
  s.bind(1, pr.id);
  if (customer) s.bind(2, *customer);
  std::vector<PointsEntry> out;
  while (s.step()) out.push_back(entry_from_row(s, impl_->currency));
  return out;
}

Account Store::points_account(std::string_view program, CustomerId customer,
                              Timestamp as_of) const {
  Impl::ReadLease lease(*impl_);
  sql::Db& db = lease.db();
  sql::ReadTxn rt(db);
  const ProgramRow pr = read_program(db, program);
  {
    auto s = db.cached("SELECT 1 FROM customers WHERE id = ?");
    s.bind(1, customer);
    if (!s.step())
      throw_error(ErrorCode::not_found, "customer",
                  "no customer with id " + std::to_string(customer));
  }
  const auto entries = customer_entries(db, pr.id, customer, impl_->currency);
  return replay_account(pr.program, customer, entries, as_of);
}

BalanceColumns Store::points_balances(std::string_view program, Timestamp as_of) const {
  Impl::ReadLease lease(*impl_);
  sql::Db& db = lease.db();
  sql::ReadTxn rt(db);
  const ProgramRow pr = read_program(db, program);
  const auto compiled = compile_program(pr.program);
  BalanceColumns out;
  for_each_account(db, pr.id, as_of, impl_->currency,
                   [&](CustomerId c, const std::vector<PointsEntry>& entries) {
                     out.push_back(replay_account(compiled, c, entries, as_of));
                   });
  return out;
}

std::vector<TierCount> Store::tier_counts(std::string_view program, Timestamp as_of) const {
  const Program p = points_program(program);
  const BalanceColumns b = points_balances(program, as_of);
  std::vector<TierCount> out;
  for (const auto& t : p.tiers.tiers) out.push_back({t.name, 0});
  for (const auto& t : b.tier)
    for (auto& row : out)
      if (row.tier == t) ++row.customers;
  return out;
}

TierHistoryColumns Store::tier_history(std::string_view program, Timestamp as_of) const {
  Impl::ReadLease lease(*impl_);
  sql::Db& db = lease.db();
  sql::ReadTxn rt(db);
  const ProgramRow pr = read_program(db, program);
  const auto compiled = compile_program(pr.program);
  TierHistoryColumns out;
  for_each_account(db, pr.id, as_of, impl_->currency,
                   [&](CustomerId c, const std::vector<PointsEntry>& entries) {
                     const Account a = replay_account(compiled, c, entries, as_of);
                     for (const auto& t : a.tier_history) {
                       out.customer.push_back(c);
                       out.at_micros.push_back(t.at.micros());
                       out.from.push_back(t.from);
                       out.to.push_back(t.to);
                     }
                   });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Erasure, export and import (called by store_erase.cpp and store_jsonl.cpp)

void Store::Impl::erase_points(sql::Db& db, CustomerId id) {
  auto u = db.cached("UPDATE points_entries SET reason = '' WHERE customer_id = ? AND reason <> ''");
  u.bind(1, id).run();
}

void Store::Impl::write_points_jsonl(sql::Db& db,
                                     const std::function<void(const nlohmann::json&)>& line) const {
  std::map<std::int64_t, std::string> names;
  {
    auto s = db.cached(
        "SELECT id, name, data, defined_at, updated_at, last_event FROM points_programs "
        "ORDER BY id");
    while (s.step()) {
      names[s.i64(0)] = s.str(1);
      line({{"points_program",
             {{"id", s.i64(0)},
              {"name", s.str(1)},
              {"program", nlohmann::json::parse(s.text(2))},
              {"defined_at", Timestamp(s.i64(3)).to_string()},
              {"updated_at", Timestamp(s.i64(4)).to_string()},
              {"last_event", s.i64(5)}}}});
    }
  }
  auto s = db.cached(
      "SELECT id, program_id, customer_id, kind, at, points, available_at, expires_at, event_id, "
      "rule, amount_minor, idempotency_key, reason, recorded_at, actor FROM points_entries "
      "ORDER BY id");
  while (s.step()) {
    line({{"points_entry",
           {{"id", s.i64(0)},
            {"program", names[s.i64(1)]},
            {"customer", s.i64(2)},
            {"kind", to_string(static_cast<PointsEntryKind>(s.i64(3)))},
            {"at", Timestamp(s.i64(4)).to_string()},
            {"points", s.i64(5)},
            {"available_at", Timestamp(s.i64(6)).to_string()},
            {"expires_at", s.is_null(7) ? nlohmann::json(nullptr)
                                        : nlohmann::json(Timestamp(s.i64(7)).to_string())},
            {"event", s.is_null(8) ? 0 : s.i64(8)},
            {"rule", s.str(9)},
            {"amount_minor", s.is_null(10) ? nlohmann::json(nullptr) : nlohmann::json(s.i64(10))},
            {"idempotency_key", s.str(11)},
            {"reason", s.str(12)},
            {"recorded_at", Timestamp(s.i64(13)).to_string()},
            {"actor", s.str(14)}}}});
  }
}

namespace {

const nlohmann::json& member(const nlohmann::json& v, const char* key, const char* record) {
  auto it = v.find(key);
  if (it == v.end()) throw_invalid(std::string(record) + "." + key, "is missing");
  return *it;
}
std::string str_of(const nlohmann::json& v, const char* key, const char* record) {
  const auto& m = member(v, key, record);
  if (!m.is_string()) throw_invalid(std::string(record) + "." + key, "must be a string");
  return m.get<std::string>();
}
std::int64_t int_of(const nlohmann::json& v, const char* key, const char* record) {
  const auto& m = member(v, key, record);
  if (!m.is_number_integer()) throw_invalid(std::string(record) + "." + key, "must be an integer");
  return m.get<std::int64_t>();
}

}  // namespace

bool Store::Impl::import_points_record(sql::Db& db, const std::string& kind,
                                       const nlohmann::json& v, std::size_t line_no,
                                       PointsImport& state) {
  if (kind == "points_program") {
    if (!v.is_object() || v.size() != 6) throw_invalid("points_program", "expected 6 keys");
    const std::int64_t id = int_of(v, "id", "points_program");
    const std::string name = str_of(v, "name", "points_program");
    Program p = Program::from_json_text(member(v, "program", "points_program").dump());
    if (p.name != name) throw_invalid("points_program.name", "differs from program.name");
    if (p.currency != currency.code())
      throw_invalid("points_program.program.currency", "is not the store's currency");
    auto s = db.cached(
        "INSERT INTO points_programs(id, name, data, defined_at, updated_at, last_event) "
        "VALUES(?,?,?,?,?,?)");
    s.bind(1, id)
        .bind(2, name)
        .bind(3, p.to_json_text())
        .bind(4, Timestamp::parse(str_of(v, "defined_at", "points_program"),
                                  "points_program.defined_at").micros())
        .bind(5, Timestamp::parse(str_of(v, "updated_at", "points_program"),
                                  "points_program.updated_at").micros())
        .bind(6, int_of(v, "last_event", "points_program"))
        .run();
    state.programs[name] = {id, std::move(p)};
    return true;
  }
  if (kind != "points_entry") return false;
  if (!v.is_object() || v.size() != 15) throw_invalid("points_entry", "expected 15 keys");
  const char* rec = "points_entry";
  const std::string program = str_of(v, "program", rec);
  const auto pit = state.programs.find(program);
  if (pit == state.programs.end())
    throw_error(ErrorCode::corrupt, "points_entry.program",
                "no points programme '" + program + "'");
  PointsEntry e;
  e.id = int_of(v, "id", rec);
  if (e.id <= 0) throw_invalid("points_entry.id", "must be positive");
  e.customer = int_of(v, "customer", rec);
  e.kind = parse_points_entry_kind(str_of(v, "kind", rec), "points_entry.kind");
  e.at = Timestamp::parse(str_of(v, "at", rec), "points_entry.at");
  e.points = int_of(v, "points", rec);
  e.available_at = Timestamp::parse(str_of(v, "available_at", rec), "points_entry.available_at");
  const auto& exp = member(v, "expires_at", rec);
  if (!exp.is_null()) {
    if (!exp.is_string()) throw_invalid("points_entry.expires_at", "must be a string or null");
    e.expires_at = Timestamp::parse(exp.get<std::string>(), "points_entry.expires_at");
  }
  e.event = int_of(v, "event", rec);
  e.rule = str_of(v, "rule", rec);
  const auto& am = member(v, "amount_minor", rec);
  if (!am.is_null()) {
    if (!am.is_number_integer()) throw_invalid("points_entry.amount_minor", "must be an integer");
    e.amount = Money::from_minor(am.get<std::int64_t>(), currency);
  }
  e.idempotency_key = str_of(v, "idempotency_key", rec);
  e.reason = str_of(v, "reason", rec);
  check_text(e.reason, "points_entry.reason", 0, kMaxReason);
  {
    auto s = db.cached("SELECT 1 FROM customers WHERE id = ?");
    s.bind(1, e.customer);
    if (!s.step())
      throw_error(ErrorCode::corrupt, "points_entry.customer",
                  "no customer with id " + std::to_string(e.customer));
  }
  if (e.event != 0) {
    auto s = db.cached("SELECT customer_id FROM events WHERE id = ?");
    s.bind(1, e.event);
    if (!s.step())
      throw_error(ErrorCode::corrupt, "points_entry.event",
                  "no event with id " + std::to_string(e.event));
    if (s.i64(0) != e.customer)
      throw_error(ErrorCode::corrupt, "points_entry.event", "event " + std::to_string(e.event) +
                                              " belongs to customer " + std::to_string(s.i64(0)) +
                                              ", not " + std::to_string(e.customer));
  }
  if (!state.entries.empty() && e.id <= state.entries.back().entry.id)
    throw_invalid("points_entry.id", "ids must ascend");
  const Timestamp recorded =
      Timestamp::parse(str_of(v, "recorded_at", rec), "points_entry.recorded_at");
  insert_entry(db, pit->second.first, e, recorded, str_of(v, "actor", rec));
  state.entries.push_back({program, line_no, std::move(e)});
  return true;
}

void Store::Impl::check_imported_points(const PointsImport& state) const {
  // Per programme and customer, the entries replayed as a live write would have made them: a
  // redemption never above what was redeemable at its time, every entry well-formed.
  std::map<std::pair<std::string, CustomerId>, std::vector<const PointsImport::Row*>> groups;
  for (const auto& r : state.entries) groups[{r.program, r.entry.customer}].push_back(&r);
  for (auto& [key, rows] : groups) {
    std::stable_sort(rows.begin(), rows.end(), [](const auto* a, const auto* b) {
      return a->entry.at < b->entry.at;  // ids ascend already
    });
    PointsAccount acct(state.programs.at(key.first).second, key.second);
    for (const auto* r : rows) {
      try {
        if (r->entry.kind == PointsEntryKind::redeem) {
          acct.advance_to(r->entry.at);
          static_cast<void>(acct.redeem(r->entry.points, r->entry.at));
        }
        acct.apply(r->entry);
      } catch (const Error& e) {
        throw Error(ErrorCode::corrupt, "import: line " + std::to_string(r->line) +
                                            ": points_entry " + std::to_string(r->entry.id) +
                                            ": " + e.what());
      }
    }
  }
}

}  // namespace v0
}  // namespace crmkit
