// Store: customers (create, read, look-ups, update, consent, soft delete and restore).
#include <set>
#include <string>
#include <utility>

#include "crmkit/base/error.hpp"
#include "store/codes.hpp"
#include "store/store_impl.hpp"
#include "store/write_scope.hpp"

namespace crmkit {
inline namespace v0 {

namespace {

std::string squote(std::string_view s) {
  std::string out = "'";
  out.append(s);
  out.push_back('\'');
  return out;
}

[[noreturn]] void no_customer(CustomerId id) {
  throw_error(ErrorCode::not_found, "customer", "no customer with id " + std::to_string(id));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Impl helpers

Customer Store::Impl::customer_from_row(sql::Stmt& s) const {
  Customer c;
  try {
    c = customer_from_json(nlohmann::json::parse(s.text(4)));
  } catch (const Error& e) {
    throw Error(ErrorCode::corrupt, "store: customer " + std::to_string(s.i64(0)) +
                                        " is damaged: " + e.what());
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::corrupt, "store: customer " + std::to_string(s.i64(0)) +
                                        " is damaged: " + e.what());
  }
  // The columns are authoritative for the fields they hold.
  c.id = s.i64(0);
  c.external_id = s.str(1);
  const std::int64_t kind = s.i64(2);
  if (kind != codes::kPerson && kind != codes::kOrganisation)
    throw Error(ErrorCode::corrupt, "store: customer " + std::to_string(s.i64(0)) +
                                        " has an unknown kind code " + std::to_string(kind));
  c.kind = static_cast<CustomerKind>(kind);
  c.name = s.str(3);
  c.deleted = s.i64(5) != 0;
  c.erased = s.i64(6) != 0;
  c.created_at = Timestamp(s.i64(7));
  c.updated_at = Timestamp(s.i64(8));
  return c;
}

std::optional<Customer> Store::Impl::try_read_customer(sql::Db& db, CustomerId id) const {
  auto s = db.cached("SELECT " CRMKIT_CUSTOMER_COLS " FROM customers WHERE id = ?");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return customer_from_row(s);
}

Customer Store::Impl::read_customer(sql::Db& db, CustomerId id) const {
  auto c = try_read_customer(db, id);
  if (!c) no_customer(id);
  return std::move(*c);
}

void Store::Impl::write_contact_index(sql::Db& db, const Customer& c) {
  {
    auto del = db.cached("DELETE FROM contact_index WHERE customer_id = ?");
    del.bind(1, c.id).run();
  }
  if (c.erased) return;
  auto ins = db.cached("INSERT INTO contact_index(customer_id, kind, value) VALUES(?, ?, ?)");
  for (const auto& cp : c.contacts) {
    ins.bind(1, c.id).bind(2, codes::code(cp.kind)).bind_static(3, cp.value).run();
    ins.reset();
  }
}

void Store::Impl::write_customer_row(sql::Db& db, const Customer& c, bool insert) {
  const std::string data = to_json(c).dump();
  // The columns both statements write, bound from parameter `first` on.
  const auto bind_columns = [&](auto& s, int first) -> auto& {
    return s.bind_static(first, c.external_id)
        .bind(first + 1, codes::code(c.kind))
        .bind_static(first + 2, c.name)
        .bind_static(first + 3, data)
        .bind(first + 4, c.deleted ? 1 : 0)
        .bind(first + 5, c.erased ? 1 : 0)
        .bind(first + 6, c.created_at.micros())
        .bind(first + 7, c.updated_at.micros());
  };
  if (insert) {
    auto s = db.cached(
        "INSERT INTO customers(id, external_id, kind, name, data, deleted, erased, created_at, "
        "updated_at) VALUES(?,?,?,?,?,?,?,?,?)");
    if (c.id > 0) s.bind(1, c.id); else s.bind_null(1);
    bind_columns(s, 2).run();
  } else {
    auto s = db.cached(
        "UPDATE customers SET external_id = ?, kind = ?, name = ?, data = ?, deleted = ?, "
        "erased = ?, created_at = ?, updated_at = ? WHERE id = ?");
    bind_columns(s, 1).bind(9, c.id).run();
  }
}

void Store::Impl::check_memberships(sql::Db& db, const Customer& c) const {
  for (std::size_t i = 0; i < c.memberships.size(); ++i) {
    const CustomerId org = c.memberships[i].organisation;
    const std::string field = "customer.memberships[" + std::to_string(i) + "].organisation";
    auto s = db.cached("SELECT kind FROM customers WHERE id = ?");
    s.bind(1, org);
    if (!s.step()) throw_invalid(field, "no organisation with id " + std::to_string(org));
    if (s.i64(0) != codes::kOrganisation)
      throw_invalid(field, "customer " + std::to_string(org) + " is not an organisation");
    if (c.id != 0 && org == c.id) throw_invalid(field, "a customer cannot be its own member");
  }
}

void Store::Impl::check_not_suppressed(sql::Db& db, const Customer& c) const {
  {
    auto any = db.cached("SELECT EXISTS(SELECT 1 FROM suppression)");
    any.step();
    if (any.i64(0) == 0) return;
  }
  if (hash_suppressed(db, suppression_hash("external_id", c.external_id)))
    throw_error(ErrorCode::suppressed, "customer.external_id",
                squote(c.external_id) + " belongs to an erased customer");
  for (std::size_t i = 0; i < c.contacts.size(); ++i) {
    const auto& cp = c.contacts[i];
    if (cp.kind != ContactKind::email && cp.kind != ContactKind::phone) continue;
    const char* kind = cp.kind == ContactKind::email ? "email" : "phone";
    if (hash_suppressed(db, suppression_hash(kind, cp.value)))
      throw_error(ErrorCode::suppressed,
                  "customer.contacts[" + std::to_string(i) + "].value",
                  std::string("this ") + (cp.kind == ContactKind::email ? "e-mail" : "phone") +
                      " belongs to an erased customer");
  }
}

// ---------------------------------------------------------------------------------------------
// Store

Customer Store::Impl::insert_new_customer(WriteScope& w, Customer c) {
  validate_customer(c, fields, currency);
  c.id = 0;
  c.deleted = false;
  c.erased = false;
  sql::Db& db = w.db();
  check_memberships(db, c);
  check_not_suppressed(db, c);
  {
    auto s = db.cached("SELECT id FROM customers WHERE external_id = ?");
    s.bind_static(1, c.external_id);
    if (s.step())
      throw_error(ErrorCode::conflict, "customer.external_id",
                  squote(c.external_id) + " already exists");
  }
  c.created_at = w.now();
  c.updated_at = w.now();
  c.id = next_row_id(db, "customers");
  write_customer_row(db, c, true);
  write_contact_index(db, c);
  w.audit("customer", c.id, "create", "", "", to_json(c).dump());
  return c;
}

Customer Store::create_customer(const Customer& customer, const WriteContext& ctx) {
  Impl::WriteScope w(*impl_, ctx);
  Customer c = impl_->insert_new_customer(w, customer);
  w.commit();
  return c;
}

GetOrCreateResult Store::get_or_create_customer(const Customer& customer,
                                                const WriteContext& ctx) {
  Impl::WriteScope w(*impl_, ctx);
  {
    auto s = w.db().cached("SELECT " CRMKIT_CUSTOMER_COLS " FROM customers WHERE external_id = ?");
    s.bind_static(1, customer.external_id);
    if (s.step()) {
      Customer stored = impl_->customer_from_row(s);
      if (stored.deleted)
        throw_error(ErrorCode::conflict, "customer.external_id",
                    squote(customer.external_id) + " belongs to deleted customer " +
                        std::to_string(stored.id) + " (restore it first)");
      return {std::move(stored), false};
    }
  }
  GetOrCreateResult out{impl_->insert_new_customer(w, customer), true};
  w.commit();
  return out;
}

Customer Store::get_customer(CustomerId id) const {
  Impl::ReadLease lease(*impl_);
  return impl_->read_customer(lease.db(), id);
}

std::optional<Customer> Store::find_customer_by_external_id(std::string_view external_id) const {
  Impl::ReadLease lease(*impl_);
  auto s = lease.db().cached("SELECT " CRMKIT_CUSTOMER_COLS
                             " FROM customers WHERE external_id = ? AND deleted = 0 AND "
                             "erased = 0");
  s.bind_static(1, external_id);
  if (!s.step()) return std::nullopt;
  return impl_->customer_from_row(s);
}

Customer Store::get_customer_by_external_id(std::string_view external_id) const {
  auto c = find_customer_by_external_id(external_id);
  if (!c)
    throw_error(ErrorCode::not_found, "customer.external_id",
                "no customer with external id " + squote(external_id));
  return std::move(*c);
}

Customer Store::Impl::by_contact(sql::Db& db, ContactKind kind, const std::string& value,
                                 const char* field, const char* what) const {
  sql::ReadTxn rt(db);
  std::vector<CustomerId> ids;
  {
    auto s = db.cached(
        "SELECT DISTINCT ci.customer_id FROM contact_index ci JOIN customers c ON c.id = "
        "ci.customer_id WHERE ci.kind = ? AND ci.value = ? AND c.deleted = 0 AND c.erased = 0 "
        "ORDER BY ci.customer_id");
    s.bind(1, codes::code(kind)).bind_static(2, value);
    while (s.step()) ids.push_back(s.i64(0));
  }
  if (ids.empty())
    throw_error(ErrorCode::not_found, field,
                std::string("no customer with ") + what + " '" + value + "'");
  if (ids.size() > 1)
    throw_error(ErrorCode::conflict, field,
                std::to_string(ids.size()) + " customers share " + what + " '" + value + "'");
  return read_customer(db, ids.front());
}

Customer Store::get_customer_by_email(std::string_view email) const {
  const std::string value = normalize_email(email, "email");
  Impl::ReadLease lease(*impl_);
  return impl_->by_contact(lease.db(), ContactKind::email, value, "customer.email", "e-mail");
}

Customer Store::get_customer_by_phone(std::string_view phone) const {
  const std::string value = normalize_phone(phone, "phone");
  Impl::ReadLease lease(*impl_);
  return impl_->by_contact(lease.db(), ContactKind::phone, value, "customer.phone", "phone");
}

std::vector<Customer> Store::list_customers(bool include_deleted) const {
  Impl::ReadLease lease(*impl_);
  auto s = include_deleted
               ? lease.db().cached("SELECT " CRMKIT_CUSTOMER_COLS " FROM customers ORDER BY id")
               : lease.db().cached("SELECT " CRMKIT_CUSTOMER_COLS
                                   " FROM customers WHERE deleted = 0 ORDER BY id");
  std::vector<Customer> out;
  while (s.step()) out.push_back(impl_->customer_from_row(s));
  return out;
}

std::size_t Store::count_customers(bool include_deleted) const {
  Impl::ReadLease lease(*impl_);
  auto s = include_deleted ? lease.db().cached("SELECT count(*) FROM customers")
                           : lease.db().cached("SELECT count(*) FROM customers WHERE deleted = 0");
  s.step();
  return static_cast<std::size_t>(s.i64(0));
}

Customer Store::update_customer(const Customer& customer, const WriteContext& ctx) {
  Impl::WriteScope w(*impl_, ctx);
  Customer c = customer;
  validate_customer(c, impl_->fields, impl_->currency);
  sql::Db& db = w.db();
  auto old = impl_->try_read_customer(db, c.id);
  if (!old) no_customer(c.id);
  if (old->erased)
    throw_error(ErrorCode::conflict, "customer", "customer " + std::to_string(c.id) + " is erased");
  if (old->deleted)
    throw_error(ErrorCode::conflict, "customer",
                "customer " + std::to_string(c.id) + " is deleted (restore it first)");
  impl_->check_memberships(db, c);
  impl_->check_not_suppressed(db, c);
  if (c.external_id != old->external_id) {
    auto s = db.cached("SELECT id FROM customers WHERE external_id = ?");
    s.bind_static(1, c.external_id);
    if (s.step())
      throw_error(ErrorCode::conflict, "customer.external_id",
                  squote(c.external_id) + " already exists");
  }
  c.created_at = old->created_at;
  c.updated_at = old->updated_at;
  c.deleted = false;
  c.erased = false;
  const nlohmann::json jo = to_json(*old);
  const nlohmann::json jn = to_json(c);
  static const std::set<std::string> kept = {"id", "created_at", "updated_at", "deleted",
                                             "erased"};
  std::set<std::string> keys;
  for (auto it = jo.begin(); it != jo.end(); ++it) keys.insert(it.key());
  for (auto it = jn.begin(); it != jn.end(); ++it) keys.insert(it.key());
  std::vector<std::pair<std::string, std::pair<std::string, std::string>>> changes;
  for (const auto& k : keys) {
    if (kept.count(k)) continue;
    const bool in_o = jo.contains(k), in_n = jn.contains(k);
    if (in_o && in_n && jo[k] == jn[k]) continue;
    changes.push_back({k, {in_o ? jo[k].dump() : "", in_n ? jn[k].dump() : ""}});
  }
  if (changes.empty()) return *old;
  c.updated_at = w.now();
  impl_->write_customer_row(db, c, false);
  Impl::write_contact_index(db, c);
  for (const auto& [field, values] : changes)
    w.audit("customer", c.id, "update", field, values.first, values.second);
  w.commit();
  return c;
}

Customer Store::set_consent(CustomerId id, const Consent& consent, const WriteContext& ctx) {
  Impl::WriteScope w(*impl_, ctx);
  sql::Db& db = w.db();
  Customer old = impl_->read_customer(db, id);
  if (old.erased)
    throw_error(ErrorCode::conflict, "customer", "customer " + std::to_string(id) + " is erased");
  Customer c = old;
  bool replaced = false;
  for (auto& existing : c.consents) {
    if (existing.channel == consent.channel && existing.purpose == consent.purpose) {
      existing = consent;
      replaced = true;
    }
  }
  if (!replaced) c.consents.push_back(consent);
  validate_customer(c, impl_->fields, impl_->currency);
  c.updated_at = w.now();
  impl_->write_customer_row(db, c, false);
  Impl::write_contact_index(db, c);
  w.audit("customer", id, "consent", "consents", to_json(old)["consents"].dump(),
          to_json(c)["consents"].dump());
  w.commit();
  return c;
}

void Store::delete_customer(CustomerId id, const WriteContext& ctx) {
  Impl::WriteScope w(*impl_, ctx);
  sql::Db& db = w.db();
  Customer c = impl_->read_customer(db, id);
  if (c.deleted)
    throw_error(ErrorCode::conflict, "customer",
                "customer " + std::to_string(id) + " is already deleted");
  c.deleted = true;
  c.updated_at = w.now();
  impl_->write_customer_row(db, c, false);
  w.audit("customer", id, "delete", "deleted", "false", "true");
  w.commit();
}

void Store::restore_customer(CustomerId id, const WriteContext& ctx) {
  Impl::WriteScope w(*impl_, ctx);
  sql::Db& db = w.db();
  Customer c = impl_->read_customer(db, id);
  if (c.erased)
    throw_error(ErrorCode::conflict, "customer",
                "customer " + std::to_string(id) + " is erased and cannot be restored");
  if (!c.deleted)
    throw_error(ErrorCode::conflict, "customer",
                "customer " + std::to_string(id) + " is not deleted");
  c.deleted = false;
  c.updated_at = w.now();
  impl_->write_customer_row(db, c, false);
  w.audit("customer", id, "restore", "deleted", "true", "false");
  w.commit();
}

}  // namespace v0
}  // namespace crmkit
