// The store's one write path; see write_scope.hpp.
#include "store/write_scope.hpp"

#include "crmkit/base/error.hpp"

namespace crmkit {
inline namespace v0 {

Store::Impl::WriteScope::WriteScope(Store::Impl& impl, const WriteContext& ctx, ForeignKeys fk)
    : lock_(impl.lock_write()), db_(*impl.writer) {
  // Checked first, so a bad actor or source throws before anything is begun.
  actor_ = impl.actor_of(ctx);
  source_ = Store::Impl::source_of(ctx);
  if (fk == ForeignKeys::kOff) {
    // The pragma only takes effect outside a transaction.
    db_.exec("PRAGMA foreign_keys=OFF");
    fk_off_ = true;
  }
  try {
    txn_.emplace(db_);
  } catch (...) {
    if (fk_off_) db_.exec("PRAGMA foreign_keys=ON");
    throw;
  }
  now_ = Timestamp::now();
}

Store::Impl::WriteScope::~WriteScope() {
  txn_.reset();  // rolls back unless commit() succeeded
  if (fk_off_) {
    try {
      db_.exec("PRAGMA foreign_keys=ON");
    } catch (...) {
    }
  }
}

void Store::Impl::WriteScope::audit(std::string_view entity, std::int64_t entity_id, std::string_view action,
                       std::string_view field, std::string_view old_value,
                       std::string_view new_value) {
  AuditEntry e;
  e.at = now_;
  e.actor = actor_;
  e.source = source_;
  e.entity = entity;
  e.entity_id = entity_id;
  e.action = action;
  e.field = field;
  e.old_value = old_value;
  e.new_value = new_value;
  pending_.push_back(std::move(e));
}

void Store::Impl::WriteScope::commit() {
  for (const auto& e : pending_) Store::Impl::insert_audit_row(db_, e);
  pending_.clear();
  txn_->commit();
}

}  // namespace v0
}  // namespace crmkit
