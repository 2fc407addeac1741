// Store: the event ledger (append, read, refunds), the bulk purchase import and analytics columns.
#include <string>
#include <unordered_map>
#include <utility>

#include "crmkit/base/error.hpp"
#include "store/store_impl.hpp"

namespace crmkit {
inline namespace v0 {

namespace {

// Payload parts that have no column of their own are kept as a small JSON object in `data`.
std::string payload_data(const EventPayload& p) {
  nlohmann::json j;
  if (const auto* r = std::get_if<Refund>(&p)) {
    if (r->reason.empty()) return {};
    j["reason"] = r->reason;
  } else if (const auto* i = std::get_if<Interaction>(&p)) {
    j["kind"] = to_string(i->kind);
    j["purpose"] = to_string(i->purpose);
    j["commitment_asked"] = i->commitment_asked;
    j["commitment_obtained"] = i->commitment_obtained;
    j["note"] = i->note;
  } else if (const auto* s = std::get_if<SurveyResponse>(&p)) {
    j["survey"] = s->survey;
    if (s->nps) j["nps"] = *s->nps;
    if (s->csat) j["csat"] = *s->csat;
    j["comment"] = s->comment;
  } else if (const auto* e = std::get_if<EventParticipation>(&p)) {
    j["event_name"] = e->event_name;
    j["role"] = e->role;
  } else {
    return {};
  }
  return j.dump();
}

std::string json_str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() ? std::string() : it->get<std::string>();
}

}  // namespace

Event Store::Impl::event_from_row(sql::Stmt& s) const {
  Event e;
  e.id = s.i64(0);
  e.customer = s.i64(1);
  e.at = Timestamp(s.i64(3));
  e.recorded_at = Timestamp(s.i64(4));
  e.source = s.str(5);
  e.actor = s.str(6);
  e.idempotency_key = s.str(7);
  const auto type = static_cast<EventType>(s.i64(2));
  nlohmann::json data;
  try {
    if (!s.is_null(14)) data = nlohmann::json::parse(s.text(14));
    switch (type) {
      case EventType::purchase: {
        Purchase p;
        p.amount = Money::from_minor(s.i64(8), currency);
        p.item_count = static_cast<std::int32_t>(s.i64(10));
        p.essential = s.i64(11) != 0;
        p.order_id = s.str(12);
        p.category = s.str(13);
        e.payload = std::move(p);
        break;
      }
      case EventType::refund: {
        Refund r;
        r.amount = Money::from_minor(s.i64(8), currency);
        r.purchase = s.i64(9);
        if (data.is_object()) r.reason = json_str(data, "reason");
        e.payload = std::move(r);
        break;
      }
      case EventType::interaction: {
        Interaction i;
        i.kind = parse_interaction_kind(json_str(data, "kind"), "interaction.kind");
        i.purpose = parse_contact_purpose(json_str(data, "purpose"), "interaction.purpose");
        i.commitment_asked = json_str(data, "commitment_asked");
        i.commitment_obtained = data.at("commitment_obtained").get<bool>();
        i.note = json_str(data, "note");
        e.payload = std::move(i);
        break;
      }
      case EventType::referral: {
        Referral r;
        r.referred = s.i64(9);
        e.payload = r;
        break;
      }
      case EventType::survey_response: {
        SurveyResponse r;
        r.survey = json_str(data, "survey");
        if (data.contains("nps")) r.nps = data["nps"].get<int>();
        if (data.contains("csat")) r.csat = data["csat"].get<int>();
        r.comment = json_str(data, "comment");
        e.payload = std::move(r);
        break;
      }
      case EventType::event_participation: {
        EventParticipation p;
        p.event_name = json_str(data, "event_name");
        p.role = json_str(data, "role");
        e.payload = std::move(p);
        break;
      }
      default:
        throw Error(ErrorCode::corrupt, "unknown event type " + std::to_string(s.i64(2)));
    }
  } catch (const Error& err) {
    throw Error(ErrorCode::corrupt,
                "store: event " + std::to_string(e.id) + " is damaged: " + err.what());
  } catch (const nlohmann::json::exception& err) {
    throw Error(ErrorCode::corrupt,
                "store: event " + std::to_string(e.id) + " is damaged: " + err.what());
  }
  return e;
}

std::optional<Event> Store::Impl::try_read_event(sql::Db& db, EventId id) const {
  auto s = db.cached("SELECT " CRMKIT_EVENT_COLS " FROM events WHERE id = ?");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return event_from_row(s);
}

void Store::Impl::insert_event_row(sql::Db& db, const Event& e, bool with_id) {
  auto s = db.cached(
      "INSERT INTO events(id, customer_id, type, at, recorded_at, source, actor, "
      "idempotency_key, amount_minor, ref_id, item_count, essential, order_id, category, data) "
      "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  if (with_id) s.bind(1, e.id); else s.bind_null(1);
  s.bind(2, e.customer)
      .bind(3, static_cast<int>(e.type()))
      .bind(4, e.at.micros())
      .bind(5, e.recorded_at.micros())
      .bind_static(6, e.source)
      .bind_static(7, e.actor)
      .bind_text_or_null(8, e.idempotency_key);
  const std::string data = payload_data(e.payload);
  if (data.empty()) s.bind_null(15); else s.bind_static(15, data);
  if (const auto* p = std::get_if<Purchase>(&e.payload)) {
    s.bind(9, p->amount.minor_units_i64())
        .bind(11, p->item_count)
        .bind(12, p->essential ? 1 : 0)
        .bind_text_or_null(13, p->order_id)
        .bind_text_or_null(14, p->category);
  } else if (const auto* r = std::get_if<Refund>(&e.payload)) {
    s.bind(9, r->amount.minor_units_i64()).bind(10, r->purchase);
  } else if (const auto* f = std::get_if<Referral>(&e.payload)) {
    s.bind(10, f->referred);
  }
  s.run();
}

std::int64_t Store::Impl::refunded_minor(sql::Db& db, EventId purchase) const {
  auto s = db.cached(
      "SELECT coalesce(sum(amount_minor), 0) FROM events WHERE ref_id = ? AND type = 1");
  s.bind(1, purchase);
  s.step();
  return s.i64(0);
}

EventId Store::Impl::append_one(sql::Db& db, const Event& event, Timestamp now,
                                const std::string& actor, const std::string& source,
                                Event* stored) {
  validate_event(event, currency);
  if (const auto* p = std::get_if<Purchase>(&event.payload); p && !(p->amount.currency() == currency))
    throw_invalid("purchase.amount", "currency " + std::string(p->amount.currency().code()) +
                                         " is not the store's currency (" +
                                         std::string(currency.code()) + ")");
  if (const auto* r = std::get_if<Refund>(&event.payload); r && !(r->amount.currency() == currency))
    throw_invalid("refund.amount", "currency " + std::string(r->amount.currency().code()) +
                                       " is not the store's currency (" +
                                       std::string(currency.code()) + ")");
  if (!event.idempotency_key.empty()) {
    auto s = db.cached("SELECT id, customer_id, type FROM events WHERE idempotency_key = ?");
    s.bind_static(1, event.idempotency_key);
    if (s.step()) {
      const EventId id = s.i64(0);
      if (s.i64(1) != event.customer || s.i64(2) != static_cast<int>(event.type()))
        throw_error(ErrorCode::conflict, "idempotency_key",
                    "'" + event.idempotency_key + "' belongs to another event (id " +
                        std::to_string(id) + ")");
      s.reset();
      if (stored) *stored = *try_read_event(db, id);
      return id;
    }
  }
  {
    auto s = db.cached("SELECT deleted, erased FROM customers WHERE id = ?");
    s.bind(1, event.customer);
    if (!s.step())
      throw_error(ErrorCode::not_found, "customer",
                  "no customer with id " + std::to_string(event.customer));
    if (s.i64(1) != 0)
      throw_error(ErrorCode::conflict, "customer",
                  "customer " + std::to_string(event.customer) + " is erased");
    if (s.i64(0) != 0)
      throw_error(ErrorCode::conflict, "customer",
                  "customer " + std::to_string(event.customer) + " is deleted");
  }
  if (const auto* r = std::get_if<Refund>(&event.payload)) {
    std::int64_t amount = 0;
    {
      auto s = db.cached("SELECT customer_id, type, amount_minor FROM events WHERE id = ?");
      s.bind(1, r->purchase);
      if (!s.step() || s.i64(1) != static_cast<int>(EventType::purchase))
        throw_error(ErrorCode::not_found, "refund.purchase",
                    "no purchase with id " + std::to_string(r->purchase));
      if (s.i64(0) != event.customer)
        throw_invalid("refund.purchase", "purchase " + std::to_string(r->purchase) +
                                             " belongs to another customer");
      amount = s.i64(2);
    }
    const Money left = Money::from_minor(amount - refunded_minor(db, r->purchase), currency);
    if (r->amount > left)
      throw_invalid("refund.amount", r->amount.to_string() + " is more than the " +
                                         left.to_string() + " left of purchase " +
                                         std::to_string(r->purchase));
  } else if (const auto* f = std::get_if<Referral>(&event.payload)) {
    if (f->referred == event.customer)
      throw_invalid("referral.referred", "a customer cannot refer itself");
    auto s = db.cached("SELECT 1 FROM customers WHERE id = ?");
    s.bind(1, f->referred);
    if (!s.step())
      throw_error(ErrorCode::not_found, "referral.referred",
                  "no customer with id " + std::to_string(f->referred));
  }
  Event e = event;
  e.id = 0;
  e.recorded_at = now;
  e.actor = actor;
  if (e.source.empty()) e.source = source;
  insert_event_row(db, e, false);
  e.id = db.last_insert_rowid();
  if (stored) *stored = std::move(e);
  return db.last_insert_rowid();
}

// ---------------------------------------------------------------------------------------------

Event Store::append_event(const Event& event, const WriteContext& ctx) {
  auto lock = impl_->lock_write();
  sql::Db& db = *impl_->writer;
  sql::WriteTxn txn(db);
  Event stored;
  impl_->append_one(db, event, Timestamp::now(), impl_->actor_of(ctx), Impl::source_of(ctx),
                    &stored);
  txn.commit();
  return stored;
}

std::vector<EventId> Store::append_events(std::span<const Event> events,
                                          const WriteContext& ctx) {
  auto lock = impl_->lock_write();
  sql::Db& db = *impl_->writer;
  sql::WriteTxn txn(db);
  const Timestamp now = Timestamp::now();
  const std::string actor = impl_->actor_of(ctx);
  const std::string source = Impl::source_of(ctx);
  std::vector<EventId> ids;
  ids.reserve(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    try {
      ids.push_back(impl_->append_one(db, events[i], now, actor, source, nullptr));
    } catch (const Error& e) {
      rethrow_prefixed(e, "events[" + std::to_string(i) + "].");
    }
  }
  txn.commit();
  return ids;
}

Event Store::get_event(EventId id) const {
  Impl::ReadLease lease(*impl_);
  auto e = impl_->try_read_event(lease.db(), id);
  if (!e) throw_error(ErrorCode::not_found, "event", "no event with id " + std::to_string(id));
  return std::move(*e);
}

std::vector<Event> Store::events_of(CustomerId customer) const {
  Impl::ReadLease lease(*impl_);
  sql::Db& db = lease.db();
  sql::ReadTxn rt(db);
  {
    auto s = db.cached("SELECT 1 FROM customers WHERE id = ?");
    s.bind(1, customer);
    if (!s.step())
      throw_error(ErrorCode::not_found, "customer",
                  "no customer with id " + std::to_string(customer));
  }
  auto s = db.cached("SELECT " CRMKIT_EVENT_COLS
                     " FROM events WHERE customer_id = ? ORDER BY at, id");
  s.bind(1, customer);
  std::vector<Event> out;
  while (s.step()) out.push_back(impl_->event_from_row(s));
  return out;
}

std::size_t Store::count_events() const {
  Impl::ReadLease lease(*impl_);
  auto s = lease.db().cached("SELECT count(*) FROM events");
  s.step();
  return static_cast<std::size_t>(s.i64(0));
}

Money Store::refundable_amount(EventId purchase) const {
  Impl::ReadLease lease(*impl_);
  sql::Db& db = lease.db();
  sql::ReadTxn rt(db);
  std::int64_t amount = 0;
  {
    auto s = db.cached("SELECT type, amount_minor FROM events WHERE id = ?");
    s.bind(1, purchase);
    if (!s.step() || s.i64(0) != static_cast<int>(EventType::purchase))
      throw_error(ErrorCode::not_found, "purchase",
                  "no purchase with id " + std::to_string(purchase));
    amount = s.i64(1);
  }
  return Money::from_minor(amount - impl_->refunded_minor(db, purchase), impl_->currency);
}

// ---------------------------------------------------------------------------------------------
// The bulk path. One transaction, statements prepared once, an external-id cache, no JSON and
// no per-row allocation on the success path (strings are bound SQLITE_STATIC from `rows`).

ImportReport Store::import_purchases(const PurchaseImport& rows, const WriteContext& ctx) {
  const std::size_t n = rows.customer_external_id.size();
  auto check_len = [n](std::size_t size, const char* field, bool optional) {
    if (size == n || (optional && size == 0)) return;
    throw_invalid(std::string("rows.") + field,
                  "has " + std::to_string(size) + " values, expected " + std::to_string(n));
  };
  check_len(rows.at.size(), "at", false);
  check_len(rows.amount.size(), "amount", false);
  check_len(rows.order_id.size(), "order_id", true);
  check_len(rows.category.size(), "category", true);
  check_len(rows.item_count.size(), "item_count", true);
  check_len(rows.idempotency_key.size(), "idempotency_key", true);
  check_text(rows.source, "rows.source", 0, 256);

  auto lock = impl_->lock_write();
  const Currency cur = impl_->currency;
  if (!rows.currency.empty() && rows.currency != cur.code())
    throw_invalid("rows.currency", rows.currency + " is not the store's currency (" +
                                       std::string(cur.code()) + ")");

  sql::Db& db = *impl_->writer;
  // Every customer id bound below comes from a look-up or an insert in this same transaction, so
  // the batch checks its references itself; SQLite's per-row foreign-key probe is switched off for
  // the batch (the pragma only takes effect outside a transaction) and back on afterwards.
  struct ForeignKeysOff {
    sql::Db& db;
    explicit ForeignKeysOff(sql::Db& d) : db(d) { db.exec("PRAGMA foreign_keys=OFF"); }
    ~ForeignKeysOff() {
      try {
        db.exec("PRAGMA foreign_keys=ON");
      } catch (...) {
      }
    }
  } fk_off(db);
  sql::WriteTxn txn(db);
  const Timestamp now = Timestamp::now();
  const std::string actor = impl_->actor_of(ctx);
  bool any_suppressed = false;
  {
    auto s = db.cached("SELECT EXISTS(SELECT 1 FROM suppression)");
    s.step();
    any_suppressed = s.i64(0) != 0;
  }
  Customer blank;
  const std::string template_data = to_json(blank).dump();

  auto find = db.cached("SELECT id, deleted, erased FROM customers WHERE external_id = ?");
  auto add_customer = db.cached(
      "INSERT INTO customers(external_id, kind, name, data, deleted, erased, created_at, "
      "updated_at) VALUES(?, 0, ?, ?, 0, 0, ?, ?)");
  auto insert = db.cached(
      "INSERT INTO events(customer_id, type, at, recorded_at, source, actor, idempotency_key, "
      "amount_minor, item_count, essential, order_id, category) "
      "VALUES(?, 0, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) ON CONFLICT(idempotency_key) DO NOTHING");
  // Constant for the whole batch.
  insert.bind(3, now.micros()).bind_static(4, rows.source).bind_static(5, actor);

  ImportReport report;
  report.rows = n;
  std::unordered_map<std::string_view, CustomerId> ids;
  ids.reserve(n / 4 + 16);
  const bool has_order = !rows.order_id.empty(), has_cat = !rows.category.empty(),
             has_items = !rows.item_count.empty(), has_keys = !rows.idempotency_key.empty();
  std::size_t i = 0;
  try {
    for (; i < n; ++i) {
      const std::string_view ext = rows.customer_external_id[i];
      CustomerId cid = 0;
      if (auto it = ids.find(ext); it != ids.end()) {
        cid = it->second;
      } else {
        find.bind_static(1, ext);
        if (find.step()) {
          cid = find.i64(0);
          const bool deleted = find.i64(1) != 0, erased = find.i64(2) != 0;
          find.reset();
          if (deleted || erased)
            throw_error(ErrorCode::conflict, "customer_external_id",
                        "customer '" + std::string(ext) + "' is " +
                            (erased ? "erased" : "deleted"));
        } else {
          find.reset();
          check_text(ext, "customer_external_id", 1, 256);
          if (any_suppressed &&
              impl_->hash_suppressed(db, impl_->suppression_hash("external_id", ext)))
            throw_error(ErrorCode::suppressed, "customer_external_id",
                        "'" + std::string(ext) + "' belongs to an erased customer");
          if (!rows.create_missing_customers)
            throw_error(ErrorCode::not_found, "customer_external_id",
                        "no customer with external id '" + std::string(ext) + "'");
          add_customer.bind_static(1, ext)
              .bind_static(2, ext)
              .bind_static(3, template_data)
              .bind(4, now.micros())
              .bind(5, now.micros());
          add_customer.run();
          add_customer.reset();
          cid = db.last_insert_rowid();
          ++report.customers_created;
        }
        ids.emplace(ext, cid);
      }

      const Money amount = Money::parse(rows.amount[i], cur, "amount");
      if (amount.is_negative()) throw_invalid("amount", amount.to_string() + " is negative");
      std::int32_t items = 1;
      if (has_items) {
        items = rows.item_count[i];
        if (items < 1 || items > 100000)
          throw_invalid("item_count", std::to_string(items) + " is not within 1..100000");
      }
      insert.bind(1, cid).bind(2, rows.at[i].micros());
      if (has_keys) {
        const std::string& key = rows.idempotency_key[i];
        if (!key.empty()) check_text(key, "idempotency_key", 0, 256);
        insert.bind_text_or_null(6, key);
      } else {
        insert.bind_null(6);
      }
      insert.bind(7, amount.minor_units_i64()).bind(8, items);
      if (has_order) {
        check_text(rows.order_id[i], "order_id", 0, 256);
        insert.bind_text_or_null(9, rows.order_id[i]);
      } else {
        insert.bind_null(9);
      }
      if (has_cat) {
        check_text(rows.category[i], "category", 0, 256);
        insert.bind_text_or_null(10, rows.category[i]);
      } else {
        insert.bind_null(10);
      }
      insert.run();
      if (db.changes() == 1) ++report.purchases_added;
      else ++report.duplicates_skipped;
      insert.rewind();
    }
  } catch (const Error& e) {
    rethrow_prefixed(e, "rows[" + std::to_string(i) + "].");
  }

  nlohmann::json counts = {{"rows", report.rows},
                           {"purchases_added", report.purchases_added},
                           {"duplicates_skipped", report.duplicates_skipped},
                           {"customers_created", report.customers_created},
                           {"source", rows.source}};
  impl_->add_audit(db, now, ctx, "import", 0, "import_purchases", "", "", counts.dump());
  txn.commit();
  return report;
}

PurchaseColumns Store::purchase_columns() const {
  Impl::ReadLease lease(*impl_);
  sql::Db& db = lease.db();
  PurchaseColumns out;
  out.currency = impl_->currency;
  auto s = db.cached(
      "SELECT e.id, e.customer_id, e.at, e.amount_minor, coalesce(r.refunded, 0), e.item_count, "
      "e.essential FROM events e LEFT JOIN (SELECT ref_id, sum(amount_minor) AS refunded FROM "
      "events WHERE type = 1 GROUP BY ref_id) r ON r.ref_id = e.id WHERE e.type = 0 "
      "ORDER BY e.id");
  while (s.step()) {
    out.event_id.push_back(s.i64(0));
    out.customer_id.push_back(s.i64(1));
    out.at_micros.push_back(s.i64(2));
    out.amount_minor.push_back(s.i64(3));
    out.refunded_minor.push_back(s.i64(4));
    out.item_count.push_back(static_cast<std::int32_t>(s.i64(5)));
    out.essential.push_back(static_cast<std::uint8_t>(s.i64(6) != 0 ? 1 : 0));
  }
  return out;
}

ReferralColumns Store::referral_columns() const {
  Impl::ReadLease lease(*impl_);
  sql::Db& db = lease.db();
  ReferralColumns out;
  auto s = db.cached("SELECT id, customer_id, ref_id, at FROM events WHERE type = ? ORDER BY id");
  s.bind(1, static_cast<std::int64_t>(EventType::referral));
  while (s.step()) {
    out.event_id.push_back(s.i64(0));
    out.referrer.push_back(s.i64(1));
    out.referred.push_back(s.i64(2));
    out.at_micros.push_back(s.i64(3));
  }
  return out;
}

}  // namespace v0
}  // namespace crmkit
