// Store: opportunities (create, read, update, columns) and their JSON form.
#include <set>
#include <string>
#include <utility>

#include "crmkit/base/error.hpp"
#include "crmkit/base/json.hpp"
#include "store/store_impl.hpp"
#include "store/write_scope.hpp"

namespace crmkit {
inline namespace v0 {

namespace {

[[noreturn]] void no_opportunity(OpportunityId id) {
  throw_error(ErrorCode::not_found, "opportunity", "no opportunity with id " + std::to_string(id));
}

}  // namespace

void Store::Impl::check_live_customer(sql::Db& db, CustomerId id) const {
  auto c = try_read_customer(db, id);
  if (!c)
    throw_error(ErrorCode::not_found, "opportunity.customer",
                "no customer with id " + std::to_string(id));
  if (c->erased)
    throw_error(ErrorCode::conflict, "opportunity.customer",
                "customer " + std::to_string(id) + " is erased");
  if (c->deleted)
    throw_error(ErrorCode::conflict, "opportunity.customer",
                "customer " + std::to_string(id) + " is deleted (restore it first)");
}

namespace {

const nlohmann::json& member(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) throw_invalid(std::string("opportunity.") + key, "is missing");
  return *it;
}

std::string string_member(const nlohmann::json& j, const char* key) {
  const auto& v = member(j, key);
  if (!v.is_string()) throw_invalid(std::string("opportunity.") + key, "must be a string");
  return v.get<std::string>();
}

std::int64_t int_member(const nlohmann::json& j, const char* key) {
  const auto& v = member(j, key);
  if (!v.is_number_integer()) throw_invalid(std::string("opportunity.") + key, "must be an integer");
  return v.get<std::int64_t>();
}

}  // namespace

nlohmann::json Store::Impl::opportunity_to_json(const Opportunity& o) {
  return {{"id", o.id},
          {"customer", o.customer},
          {"name", o.name},
          {"amount", to_json(o.amount)},
          {"expected_close", o.expected_close.to_string()},
          {"owner", o.owner},
          {"pipeline", o.pipeline},
          {"created_at", o.created_at.to_string()},
          {"updated_at", o.updated_at.to_string()}};
}

Opportunity Store::Impl::opportunity_from_json(const nlohmann::json& j) const {
  if (!j.is_object()) throw_invalid("opportunity", "expected an object");
  static const std::set<std::string> keys = {"id", "customer", "name", "amount", "expected_close",
                                             "owner", "pipeline", "created_at", "updated_at"};
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!keys.count(it.key())) throw_invalid("opportunity." + it.key(), "unknown key");
  Opportunity o;
  o.id = int_member(j, "id");
  o.customer = int_member(j, "customer");
  o.name = string_member(j, "name");
  o.amount = money_from_json(member(j, "amount"), "opportunity.amount");
  o.expected_close = Date::parse(string_member(j, "expected_close"), "opportunity.expected_close");
  o.owner = string_member(j, "owner");
  o.pipeline = string_member(j, "pipeline");
  o.created_at = Timestamp::parse(string_member(j, "created_at"), "opportunity.created_at");
  o.updated_at = Timestamp::parse(string_member(j, "updated_at"), "opportunity.updated_at");
  return o;
}

Opportunity Store::Impl::opportunity_from_row(sql::Stmt& s) const {
  Opportunity o;
  o.id = s.i64(0);
  o.customer = s.i64(1);
  o.name = s.str(2);
  o.amount = Money::from_minor(s.i64(3), currency);
  o.expected_close = Date::from_days_since_epoch(s.i64(4));
  o.owner = s.str(5);
  o.pipeline = s.str(6);
  o.created_at = Timestamp(s.i64(7));
  o.updated_at = Timestamp(s.i64(8));
  return o;
}

std::optional<Opportunity> Store::Impl::try_read_opportunity(sql::Db& db, OpportunityId id) const {
  auto s = db.cached("SELECT " CRMKIT_OPPORTUNITY_COLS " FROM opportunities WHERE id = ?");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return opportunity_from_row(s);
}

void Store::Impl::insert_opportunity_row(sql::Db& db, const Opportunity& o, bool with_id) {
  auto s = db.cached(
      "INSERT OR REPLACE INTO opportunities(" CRMKIT_OPPORTUNITY_COLS
      ") VALUES(?,?,?,?,?,?,?,?,?)");
  if (with_id) s.bind(1, o.id); else s.bind_null(1);
  s.bind(2, o.customer)
      .bind_static(3, o.name)
      .bind(4, o.amount.minor_units_i64())
      .bind(5, o.expected_close.days_since_epoch())
      .bind_static(6, o.owner)
      .bind_static(7, o.pipeline)
      .bind(8, o.created_at.micros())
      .bind(9, o.updated_at.micros())
      .run();
}

Opportunity Store::create_opportunity(const Opportunity& opportunity, const WriteContext& ctx) {
  Opportunity o = opportunity;
  validate_opportunity(o, impl_->currency);
  Impl::WriteScope w(*impl_, ctx);
  sql::Db& db = w.db();
  impl_->check_live_customer(db, o.customer);
  o.created_at = w.now();
  o.updated_at = w.now();
  o.id = next_row_id(db, "opportunities");
  impl_->insert_opportunity_row(db, o, true);
  w.audit("opportunity", o.id, "create", "", "", Impl::opportunity_to_json(o).dump());
  w.commit();
  return o;
}

Opportunity Store::get_opportunity(OpportunityId id) const {
  Impl::ReadLease lease(*impl_);
  auto o = impl_->try_read_opportunity(lease.db(), id);
  if (!o) no_opportunity(id);
  return *o;
}

std::vector<Opportunity> Store::list_opportunities(CustomerId customer) const {
  Impl::ReadLease lease(*impl_);
  sql::Db& db = lease.db();
  std::vector<Opportunity> out;
  auto s = customer == 0
               ? db.cached("SELECT " CRMKIT_OPPORTUNITY_COLS " FROM opportunities ORDER BY id")
               : db.cached("SELECT " CRMKIT_OPPORTUNITY_COLS
                           " FROM opportunities WHERE customer_id = ? ORDER BY id");
  if (customer != 0) s.bind(1, customer);
  while (s.step()) out.push_back(impl_->opportunity_from_row(s));
  return out;
}

Opportunity Store::update_opportunity(const Opportunity& opportunity, const WriteContext& ctx) {
  Opportunity o = opportunity;
  validate_opportunity(o, impl_->currency);
  Impl::WriteScope w(*impl_, ctx);
  sql::Db& db = w.db();
  auto old = impl_->try_read_opportunity(db, o.id);
  if (!old) no_opportunity(o.id);
  if (o.customer != old->customer)
    throw_invalid("opportunity.customer", "cannot change (it is " +
                                              std::to_string(old->customer) + ")");
  if (o.pipeline != old->pipeline)
    throw_invalid("opportunity.pipeline", "cannot change (it is '" + old->pipeline + "')");
  impl_->check_live_customer(db, o.customer);
  o.created_at = old->created_at;
  o.updated_at = old->updated_at;
  const nlohmann::json jo = Impl::opportunity_to_json(*old);
  const nlohmann::json jn = Impl::opportunity_to_json(o);
  std::vector<std::pair<std::string, std::pair<std::string, std::string>>> changes;
  for (const char* k : {"name", "amount", "expected_close", "owner"})
    if (jo[k] != jn[k]) changes.push_back({k, {jo[k].dump(), jn[k].dump()}});
  if (changes.empty()) return *old;
  o.updated_at = w.now();
  impl_->insert_opportunity_row(db, o, true);
  for (const auto& [field, values] : changes)
    w.audit("opportunity", o.id, "update", field, values.first, values.second);
  w.commit();
  return o;
}

OpportunityColumns Store::opportunity_columns(std::string_view pipeline) const {
  Impl::ReadLease lease(*impl_);
  sql::Db& db = lease.db();
  OpportunityColumns out;
  out.currency = impl_->currency;
  auto s = pipeline.empty()
               ? db.cached("SELECT " CRMKIT_OPPORTUNITY_COLS " FROM opportunities ORDER BY id")
               : db.cached("SELECT " CRMKIT_OPPORTUNITY_COLS
                           " FROM opportunities WHERE pipeline = ? ORDER BY id");
  if (!pipeline.empty()) s.bind(1, pipeline);
  while (s.step()) {
    out.id.push_back(s.i64(0));
    out.customer_id.push_back(s.i64(1));
    out.name.push_back(s.str(2));
    out.amount_minor.push_back(s.i64(3));
    out.expected_close_days.push_back(s.i64(4));
    out.owner.push_back(s.str(5));
    out.pipeline.push_back(s.str(6));
    out.created_at_micros.push_back(s.i64(7));
  }
  return out;
}

}  // namespace v0
}  // namespace crmkit
