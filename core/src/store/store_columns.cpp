// Store: read-only columns for customer facts (refunds, interactions, surveys, participations,
// customers, consents, tags, custom fields). Every part is read by one SELECT; Store::columns
// runs the requested ones inside one read transaction so that they agree with each other.
#include <string>
#include <utility>

#include "crmkit/base/error.hpp"
#include "store/codes.hpp"
#include "store/store_impl.hpp"

namespace crmkit {
inline namespace v0 {

namespace {

// "" or " AND customer_id = ?N" style filters: the statements bind the customer as ?9 when one
// is asked for (an unused parameter is harmless in SQLite).
std::string events_sql(const char* cols, bool one_customer) {
  std::string sql = std::string("SELECT ") + cols + " FROM events WHERE type = ?1";
  if (one_customer) sql += " AND customer_id = ?9";
  sql += " ORDER BY id";
  return sql;
}

[[noreturn]] void corrupt_event(std::int64_t id, const std::string& what) {
  throw Error(ErrorCode::corrupt, "store: event " + std::to_string(id) + " is damaged: " + what);
}

nlohmann::json event_data(sql::Stmt& s, int col) {
  try {
    if (s.is_null(col)) return nlohmann::json::object();
    return nlohmann::json::parse(s.text(col));
  } catch (const nlohmann::json::exception& e) {
    corrupt_event(s.i64(0), e.what());
  }
}

void read_purchases(sql::Db& db, CustomerId c, PurchaseColumns& out) {
  std::string sql =
      "SELECT e.id, e.customer_id, e.at, e.amount_minor, coalesce(r.refunded, 0), e.item_count, "
      "e.essential FROM events e LEFT JOIN (SELECT ref_id, sum(amount_minor) AS refunded FROM "
      "events WHERE type = ?2 GROUP BY ref_id) r ON r.ref_id = e.id WHERE e.type = ?1";
  if (c != 0) sql += " AND e.customer_id = ?9";
  sql += " ORDER BY e.id";
  auto s = db.prepare(sql.c_str());
  s.bind(1, codes::kPurchase).bind(2, codes::kRefund);
  if (c != 0) s.bind(9, c);
  while (s.step()) {
    out.event_id.push_back(s.i64(0));
    out.customer_id.push_back(s.i64(1));
    out.at_micros.push_back(s.i64(2));
    out.amount_minor.push_back(s.i64(3));
    out.refunded_minor.push_back(s.i64(4));
    out.item_count.push_back(static_cast<std::int32_t>(s.i64(5)));
    out.essential.push_back(static_cast<std::uint8_t>(s.i64(6) != 0 ? 1 : 0));
  }
}

void read_refunds(sql::Db& db, CustomerId c, RefundColumns& out) {
  auto s = db.prepare(events_sql("id, customer_id, ref_id, at, amount_minor", c != 0).c_str());
  s.bind(1, codes::kRefund);
  if (c != 0) s.bind(9, c);
  while (s.step()) {
    out.event_id.push_back(s.i64(0));
    out.customer_id.push_back(s.i64(1));
    out.purchase_id.push_back(s.i64(2));
    out.at_micros.push_back(s.i64(3));
    out.amount_minor.push_back(s.i64(4));
  }
}

void read_interactions(sql::Db& db, CustomerId c, InteractionColumns& out) {
  auto s = db.prepare(events_sql("id, customer_id, at, data", c != 0).c_str());
  s.bind(1, codes::kInteraction);
  if (c != 0) s.bind(9, c);
  while (s.step()) {
    const nlohmann::json data = event_data(s, 3);
    try {
      const auto kind = parse_interaction_kind(data.at("kind").get<std::string>(), "kind");
      const auto purpose =
          parse_contact_purpose(data.at("purpose").get<std::string>(), "purpose");
      const auto asked = data.value("commitment_asked", std::string());
      const bool obtained = data.value("commitment_obtained", false);
      out.kind.push_back(static_cast<std::uint8_t>(kind));
      out.purpose.push_back(static_cast<std::uint8_t>(purpose));
      out.commitment_asked.push_back(asked.empty() ? 0 : 1);
      out.commitment_obtained.push_back(obtained ? 1 : 0);
    } catch (const nlohmann::json::exception& e) {
      corrupt_event(s.i64(0), e.what());
    } catch (const Error& e) {
      corrupt_event(s.i64(0), e.what());
    }
    out.event_id.push_back(s.i64(0));
    out.customer_id.push_back(s.i64(1));
    out.at_micros.push_back(s.i64(2));
  }
}

void read_surveys(sql::Db& db, CustomerId c, SurveyColumns& out) {
  auto s = db.prepare(events_sql("id, customer_id, at, data", c != 0).c_str());
  s.bind(1, codes::kSurveyResponse);
  if (c != 0) s.bind(9, c);
  while (s.step()) {
    const nlohmann::json data = event_data(s, 3);
    try {
      out.nps.push_back(static_cast<std::int8_t>(data.contains("nps") ? data["nps"].get<int>() : -1));
      out.csat.push_back(
          static_cast<std::int8_t>(data.contains("csat") ? data["csat"].get<int>() : -1));
    } catch (const nlohmann::json::exception& e) {
      corrupt_event(s.i64(0), e.what());
    }
    out.event_id.push_back(s.i64(0));
    out.customer_id.push_back(s.i64(1));
    out.at_micros.push_back(s.i64(2));
  }
}

void read_participations(sql::Db& db, CustomerId c, ParticipationColumns& out) {
  auto s = db.prepare(events_sql("id, customer_id, at", c != 0).c_str());
  s.bind(1, codes::kEventParticipation);
  if (c != 0) s.bind(9, c);
  while (s.step()) {
    out.event_id.push_back(s.i64(0));
    out.customer_id.push_back(s.i64(1));
    out.at_micros.push_back(s.i64(2));
  }
}

void read_customer_columns(sql::Db& db, CustomerId c, CustomerColumns& out) {
  auto s = db.prepare(c != 0 ? "SELECT id, external_id, created_at, deleted, erased FROM customers "
                               "WHERE id = ?1"
                             : "SELECT id, external_id, created_at, deleted, erased FROM customers "
                               "ORDER BY id");
  if (c != 0) s.bind(1, c);
  while (s.step()) {
    out.customer_id.push_back(s.i64(0));
    out.external_id.push_back(s.str(1));
    out.created_at_micros.push_back(s.i64(2));
    out.deleted.push_back(s.i64(3) != 0 ? 1 : 0);
    out.erased.push_back(s.i64(4) != 0 ? 1 : 0);
  }
}

// Consents, tags and custom fields live in the customer record's JSON: one pass over the
// records fills whichever of the three are asked for (null = not asked).
// `parse` turns a row of CRMKIT_CUSTOMER_COLS into a Customer (Store::Impl::customer_from_row).
template <class Parse>
void read_record_parts(const Parse& parse, sql::Db& db, CustomerId c, ConsentColumns* consents,
                       TagColumns* tags, std::vector<FieldColumns>* fields,
                       const std::vector<FieldDef>& defs,
                       ContactPreferenceColumns* preferences = nullptr) {
  if (fields) {
    fields->clear();
    for (const FieldDef& d : defs) fields->push_back(FieldColumns{d, {}, {}});
  }
  auto s = db.prepare(c != 0 ? "SELECT " CRMKIT_CUSTOMER_COLS " FROM customers WHERE id = ?1"
                             : "SELECT " CRMKIT_CUSTOMER_COLS " FROM customers ORDER BY id");
  if (c != 0) s.bind(1, c);
  while (s.step()) {
    const Customer cu = parse(s);
    if (preferences) {
      preferences->customer_id.push_back(cu.id);
      preferences->preferred_channel.push_back(
          cu.preferred_channel ? static_cast<std::int8_t>(*cu.preferred_channel) : -1);
      preferences->max_contacts_per_30_days.push_back(
          cu.max_contacts_per_30_days ? *cu.max_contacts_per_30_days : -1);
    }
    if (consents) {
      for (const Consent& k : cu.consents) {
        consents->customer_id.push_back(cu.id);
        consents->channel.push_back(static_cast<std::uint8_t>(k.channel));
        consents->purpose.push_back(k.purpose);
        consents->granted.push_back(k.status == ConsentStatus::granted ? 1 : 0);
        consents->at_micros.push_back(k.at.micros());
      }
    }
    if (tags) {
      for (const std::string& t : cu.tags) {
        tags->customer_id.push_back(cu.id);
        tags->tag.push_back(t);
      }
    }
    if (fields) {
      for (FieldColumns& f : *fields) {
        const auto it = cu.custom.find(f.field.name);
        if (it == cu.custom.end()) continue;
        f.customer_id.push_back(cu.id);
        f.value.push_back(it->second);
      }
    }
  }
}

}  // namespace

RefundColumns Store::refund_columns() const {
  Impl::ReadLease lease(*impl_);
  RefundColumns out;
  read_refunds(lease.db(), 0, out);
  return out;
}

InteractionColumns Store::interaction_columns() const {
  Impl::ReadLease lease(*impl_);
  InteractionColumns out;
  read_interactions(lease.db(), 0, out);
  return out;
}

SurveyColumns Store::survey_columns() const {
  Impl::ReadLease lease(*impl_);
  SurveyColumns out;
  read_surveys(lease.db(), 0, out);
  return out;
}

ParticipationColumns Store::participation_columns() const {
  Impl::ReadLease lease(*impl_);
  ParticipationColumns out;
  read_participations(lease.db(), 0, out);
  return out;
}

CustomerColumns Store::customer_columns() const {
  Impl::ReadLease lease(*impl_);
  CustomerColumns out;
  read_customer_columns(lease.db(), 0, out);
  return out;
}

ConsentColumns Store::consent_columns() const {
  const auto parse = [this](sql::Stmt& st) { return impl_->customer_from_row(st); };
  Impl::ReadLease lease(*impl_);
  ConsentColumns out;
  read_record_parts(parse, lease.db(), 0, &out, nullptr, nullptr, {});
  return out;
}

TagColumns Store::tag_columns() const {
  const auto parse = [this](sql::Stmt& st) { return impl_->customer_from_row(st); };
  Impl::ReadLease lease(*impl_);
  TagColumns out;
  read_record_parts(parse, lease.db(), 0, nullptr, &out, nullptr, {});
  return out;
}

std::vector<FieldColumns> Store::field_columns() const {
  const auto parse = [this](sql::Stmt& st) { return impl_->customer_from_row(st); };
  Impl::ReadLease lease(*impl_);
  sql::Db& db = lease.db();
  sql::ReadTxn rt(db);
  std::vector<FieldColumns> out;
  read_record_parts(parse, db, 0, nullptr, nullptr, &out, impl_->load_fields(db));
  return out;
}

StoreColumns Store::columns(const ColumnRequest& r) const {
  const auto parse = [this](sql::Stmt& st) { return impl_->customer_from_row(st); };
  Impl::ReadLease lease(*impl_);
  sql::Db& db = lease.db();
  sql::ReadTxn rt(db);
  const CustomerId c = r.customer;
  if (c != 0) {
    auto s = db.cached("SELECT 1 FROM customers WHERE id = ?");
    s.bind(1, c);
    if (!s.step()) {
      throw Error(ErrorCode::not_found, "customer: no customer " + std::to_string(c));
    }
  }
  StoreColumns out;
  out.currency = impl_->currency;
  out.purchases.currency = impl_->currency;
  if (r.customers) read_customer_columns(db, c, out.customers);
  if (r.purchases) read_purchases(db, c, out.purchases);
  if (r.refunds) read_refunds(db, c, out.refunds);
  if (r.interactions) read_interactions(db, c, out.interactions);
  if (r.referrals) {
    auto s = db.prepare(events_sql("id, customer_id, ref_id, at", c != 0).c_str());
    s.bind(1, codes::kReferral);
    if (c != 0) s.bind(9, c);
    while (s.step()) {
      out.referrals.event_id.push_back(s.i64(0));
      out.referrals.referrer.push_back(s.i64(1));
      out.referrals.referred.push_back(s.i64(2));
      out.referrals.at_micros.push_back(s.i64(3));
    }
  }
  if (r.surveys) read_surveys(db, c, out.surveys);
  if (r.participations) read_participations(db, c, out.participations);
  if (r.consents || r.tags || r.fields || r.preferences) {
    read_record_parts(parse, db, c, r.consents ? &out.consents : nullptr,
                      r.tags ? &out.tags : nullptr, r.fields ? &out.fields : nullptr,
                      r.fields ? impl_->load_fields(db) : std::vector<FieldDef>{},
                      r.preferences ? &out.preferences : nullptr);
  }
  return out;
}

SourceEventColumns Store::events_with_source(std::string_view source) const {
  Impl::ReadLease lease(*impl_);
  SourceEventColumns out;
  auto s = lease.db().prepare(
      "SELECT id, customer_id, at, type, coalesce(idempotency_key, '') FROM events "
      "WHERE source = ?1 ORDER BY id");
  s.bind(1, source);
  while (s.step()) {
    out.event_id.push_back(s.i64(0));
    out.customer_id.push_back(s.i64(1));
    out.at_micros.push_back(s.i64(2));
    out.type.push_back(static_cast<std::uint8_t>(s.i64(3)));
    out.idempotency_key.push_back(s.str(4));
  }
  return out;
}

}  // namespace v0
}  // namespace crmkit
