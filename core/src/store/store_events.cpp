// Store: the event ledger (append, read, refunds), the bulk purchase import and analytics columns.
#include <limits>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>

#include "crmkit/base/error.hpp"
#include "store/codes.hpp"
#include "store/store_impl.hpp"
#include "store/write_scope.hpp"

namespace crmkit {
inline namespace v0 {

std::int64_t next_row_id(sql::Db& db, std::string_view table) {
  // Cached statements are keyed by their literal, so one literal per table.
  static constexpr std::pair<std::string_view, const char*> kMax[] = {
      {"customers", "SELECT max(id) FROM customers"},
      {"events", "SELECT max(id) FROM events"},
      {"audit", "SELECT max(id) FROM audit"},
      {"opportunities", "SELECT max(id) FROM opportunities"},
      {"transitions", "SELECT max(id) FROM transitions"},
      {"points_entries", "SELECT max(id) FROM points_entries"},
      {"points_programs", "SELECT max(id) FROM points_programs"},
      {"fields", "SELECT max(id) FROM fields"},
  };
  const char* sql = nullptr;
  for (const auto& [name, text] : kMax)
    if (name == table) sql = text;
  if (sql == nullptr) throw std::logic_error("next_row_id: no table " + std::string(table));
  auto s = db.cached(sql);
  s.step();
  if (s.is_null(0)) return 1;
  const std::int64_t top = s.i64(0);
  if (top == std::numeric_limits<std::int64_t>::max())
    throw_error(ErrorCode::overflow, std::string(table) + ".id",
                "the largest id, 9223372036854775807 (2^63-1), is taken: no more rows can be "
                "added to " + std::string(table));
  return top < 1 ? 1 : top + 1;
}

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
      .bind(3, codes::code(e.type()))
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
      "SELECT coalesce(sum(amount_minor), 0) FROM events WHERE ref_id = ? AND type = ?");
  s.bind(1, purchase).bind(2, codes::kRefund);
  s.step();
  return s.i64(0);
}

void Store::Impl::check_event(const Event& event) const { validate_event(event, currency); }

std::optional<EventId> Store::Impl::idempotent_match(sql::Db& db, const std::string& key,
                                                     CustomerId customer, EventType type) const {
  if (key.empty()) return std::nullopt;
  auto s = db.cached("SELECT id, customer_id, type FROM events WHERE idempotency_key = ?");
  s.bind_static(1, key);
  if (!s.step()) return std::nullopt;
  const EventId id = s.i64(0);
  if (s.i64(1) != customer || s.i64(2) != codes::code(type))
    throw_error(ErrorCode::conflict, "idempotency_key",
                "'" + key + "' belongs to another event (id " + std::to_string(id) + ")");
  return id;
}

// The checks of an event against what is stored, the same for a live append and for a restore
// (import_jsonl): a refund's purchase exists, is the customer's, is not dated after the refund
// and has that much left; a referral's referred customer exists and is another customer.
void Store::Impl::check_references(sql::Db& db, const Event& event) const {
  if (const auto* r = std::get_if<Refund>(&event.payload)) {
    std::int64_t amount = 0;
    {
      auto s = db.cached(
          "SELECT customer_id, type, amount_minor, at FROM events WHERE id = ?");
      s.bind(1, r->purchase);
      if (!s.step() || s.i64(1) != codes::kPurchase)
        throw_error(ErrorCode::not_found, "refund.purchase",
                    "no purchase with id " + std::to_string(r->purchase));
      if (s.i64(0) != event.customer)
        throw_invalid("refund.purchase", "purchase " + std::to_string(r->purchase) +
                                             " belongs to another customer");
      amount = s.i64(2);
      if (event.at.micros() < s.i64(3))
        throw_invalid("refund.at", event.at.to_string() + " is before purchase " +
                                       std::to_string(r->purchase) + " (" +
                                       Timestamp::from_micros(s.i64(3)).to_string() + ")");
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
}

EventId Store::Impl::append_one(WriteScope& w, const Event& event, Event* stored) {
  sql::Db& db = w.db();
  check_event(event);
  if (auto id = idempotent_match(db, event.idempotency_key, event.customer, event.type())) {
    if (stored) *stored = *try_read_event(db, *id);
    return *id;
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
  check_references(db, event);
  Event e = event;
  e.id = next_row_id(db, "events");
  e.recorded_at = w.now();
  e.actor = w.actor();
  if (e.source.empty()) e.source = w.source();
  insert_event_row(db, e, true);
  const EventId id = e.id;
  if (stored) *stored = std::move(e);
  return id;
}

// ---------------------------------------------------------------------------------------------

Event Store::append_event(const Event& event, const WriteContext& ctx) {
  Impl::WriteScope w(*impl_, ctx);
  Event stored;
  impl_->append_one(w, event, &stored);
  w.commit();
  return stored;
}

std::vector<EventId> Store::append_events(std::span<const Event> events,
                                          const WriteContext& ctx) {
  Impl::WriteScope w(*impl_, ctx);
  std::vector<EventId> ids;
  ids.reserve(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    try {
      ids.push_back(impl_->append_one(w, events[i], nullptr));
    } catch (const Error& e) {
      rethrow_prefixed(e, "events[" + std::to_string(i) + "].");
    }
  }
  w.commit();
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
    if (!s.step() || s.i64(0) != codes::kPurchase)
      throw_error(ErrorCode::not_found, "purchase",
                  "no purchase with id " + std::to_string(purchase));
    amount = s.i64(1);
  }
  return Money::from_minor(amount - impl_->refunded_minor(db, purchase), impl_->currency);
}

// ---------------------------------------------------------------------------------------------
// The bulk path. One transaction, statements prepared once, an external-id cache, one reused
// Event per row (its strings keep their capacity, so no per-row allocation on the success path).
// Each row is checked by the same rules as append_event: check_event (validate_event) and
// idempotent_match, with the same messages under a "rows[i]." prefix; customers it creates are
// validated by validate_customer like create_customer's.

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
  // The amounts are in rows.currency; a currency other than the store's is refused row by row
  // by the event rule ("rows[0].purchase.amount: currency EUR differs from the store's USD").
  Currency batch_currency = impl_->currency;
  if (!rows.currency.empty()) {
    if (!Currency::is_known(rows.currency))
      throw_invalid("rows.currency", "unknown currency '" + rows.currency + "'");
    batch_currency = Currency::of(rows.currency);
  }

  // Every customer id bound below comes from a look-up or an insert in this same transaction, so
  // the batch checks its references itself and switches SQLite's per-row foreign-key probe off.
  Impl::WriteScope w(*impl_, ctx, Impl::WriteScope::ForeignKeys::kOff);
  sql::Db& db = w.db();
  const Timestamp now = w.now();
  bool any_suppressed = false;
  {
    auto s = db.cached("SELECT EXISTS(SELECT 1 FROM suppression)");
    s.step();
    any_suppressed = s.i64(0) != 0;
  }
  // A created customer is validated (as create_customer would) and then holds only its external
  // id and name, which live in columns; its JSON is the same for every such customer.
  const std::string template_data = to_json(Customer{}).dump();

  auto find = db.cached("SELECT id, deleted, erased FROM customers WHERE external_id = ?");
  auto add_customer = db.cached(
      "INSERT INTO customers(external_id, kind, name, data, deleted, erased, created_at, "
      "updated_at, id) VALUES(?, ?, ?, ?, 0, 0, ?, ?, ?)");
  auto insert = db.cached(
      "INSERT INTO events(customer_id, type, at, recorded_at, source, actor, idempotency_key, "
      "amount_minor, item_count, essential, order_id, category, id) "
      "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?) ON CONFLICT(idempotency_key) DO NOTHING");
  // Ids are bound, not left to SQLite (next_row_id): the batch counts on from the largest.
  std::int64_t next_customer = 0, next_event = 0;  // 0: not read yet
  const auto take_id = [&db](std::int64_t& next, const char* table) {
    if (next == 0) next = next_row_id(db, table);
    if (next == std::numeric_limits<std::int64_t>::max()) {
      const std::int64_t id = next;
      next = -1;  // the next request finds the id space used up
      return id;
    }
    if (next < 0) next_row_id(db, table);  // throws Error{overflow}: 2^63-1 is taken
    return next++;
  };
  // Constant for the whole batch.
  insert.bind(2, codes::kPurchase)
      .bind(4, now.micros())
      .bind_static(5, rows.source)
      .bind_static(6, w.actor());

  ImportReport report;
  report.rows = n;
  std::unordered_map<std::string_view, CustomerId> ids;
  ids.reserve(n / 4 + 16);
  const bool has_order = !rows.order_id.empty(), has_cat = !rows.category.empty(),
             has_items = !rows.item_count.empty(), has_keys = !rows.idempotency_key.empty();
  Event row;
  row.source = rows.source;
  row.payload = Purchase{};
  Purchase& p = std::get<Purchase>(row.payload);
  Customer bare;
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
          bare.external_id.assign(ext);
          bare.name.assign(ext);
          validate_customer(bare, impl_->fields, impl_->currency);
          cid = take_id(next_customer, "customers");
          add_customer.bind_static(1, ext)
              .bind(2, codes::kPerson)
              .bind_static(3, ext)
              .bind_static(4, template_data)
              .bind(5, now.micros())
              .bind(6, now.micros())
              .bind(7, cid);
          add_customer.run();
          add_customer.reset();
          ++report.customers_created;
        }
        ids.emplace(ext, cid);
      }

      row.customer = cid;
      row.at = rows.at[i];
      if (has_keys) row.idempotency_key.assign(rows.idempotency_key[i]);
      p.amount = Money::parse(rows.amount[i], batch_currency, "purchase.amount");
      if (has_order) p.order_id.assign(rows.order_id[i]);
      if (has_cat) p.category.assign(rows.category[i]);
      if (has_items) p.item_count = rows.item_count[i];
      impl_->check_event(row);

      if (next_event == 0) next_event = next_row_id(db, "events");
      if (next_event < 0) next_row_id(db, "events");  // throws Error{overflow}
      insert.bind(1, cid).bind(3, row.at.micros()).bind(12, next_event);
      insert.bind_text_or_null(7, row.idempotency_key);
      insert.bind(8, p.amount.minor_units_i64()).bind(9, p.item_count);
      insert.bind_text_or_null(10, p.order_id);
      insert.bind_text_or_null(11, p.category);
      insert.run();
      if (db.changes() == 1) {
        ++report.purchases_added;
        // Taken: count on, or mark the id space used up after 2^63-1.
        next_event = next_event == std::numeric_limits<std::int64_t>::max() ? -1 : next_event + 1;
      } else {
        // The key is taken: a repeat of the same customer's purchase is skipped, a key of
        // another customer's event is an error (idempotent_match throws).
        impl_->idempotent_match(db, row.idempotency_key, cid, EventType::purchase);
        ++report.duplicates_skipped;
      }
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
  w.audit("import", 0, "import_purchases", "", "", counts.dump());
  w.commit();
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
      "events WHERE type = ?2 GROUP BY ref_id) r ON r.ref_id = e.id WHERE e.type = ?1 "
      "ORDER BY e.id");
  s.bind(1, codes::kPurchase).bind(2, codes::kRefund);
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
  s.bind(1, codes::kReferral);
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
