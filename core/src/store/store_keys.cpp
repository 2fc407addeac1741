// Store::customer_keys: the id -> external id table that analytics results are keyed by.
#include <cstdint>

#include "crmkit/store/store.hpp"
#include "store/sqlite.hpp"
#include "store/store_impl.hpp"

namespace crmkit {
inline namespace v0 {

CustomerKeys Store::customer_keys() const {
  Impl::ReadLease lease(*impl_);
  sql::Db& db = lease.db();
  CustomerKeys out;
  auto s = db.cached("SELECT id, external_id FROM customers ORDER BY id");
  while (s.step()) {
    out.customer_id.push_back(s.i64(0));
    out.external_id.push_back(s.str(1));
  }
  return out;
}

}  // namespace v0
}  // namespace crmkit
