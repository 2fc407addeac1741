// Opportunities and entity kinds: names and validation; see crmkit/records/opportunity.hpp.
#include "crmkit/records/opportunity.hpp"

#include <array>
#include <string>

#include "crmkit/base/error.hpp"
#include "records/detail.hpp"

namespace crmkit {
inline namespace v0 {

namespace {
constexpr std::array<const char*, 2> kEntityKinds = {"customer", "opportunity"};
}  // namespace

const char* to_string(EntityKind v) noexcept { return detail::enum_name(v, kEntityKinds); }

EntityKind parse_entity_kind(std::string_view s, std::string_view field) {
  return detail::parse_enum<EntityKind>(s, field, "entity kind", kEntityKinds);
}

bool is_machine_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 64) return false;
  if (!(name[0] >= 'a' && name[0] <= 'z')) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

void validate_opportunity(Opportunity& o, const Currency& store_currency) {
  if (o.customer <= 0) throw_invalid("opportunity.customer", "must be a stored customer id");
  o.name = std::string(detail::trim(o.name));
  check_text(o.name, "opportunity.name", 1, 512);
  o.owner = std::string(detail::trim(o.owner));
  check_text(o.owner, "opportunity.owner", 0, 256);
  if (!is_machine_name(o.pipeline))
    throw_invalid("opportunity.pipeline",
                  detail::quote_text(o.pipeline) + " is not a machine name ([a-z][a-z0-9_]{0,63})");
  if (!(o.amount.currency() == store_currency))
    throw_invalid("opportunity.amount", "currency " + std::string(o.amount.currency().code()) +
                                            " is not the store's " +
                                            std::string(store_currency.code()));
  if (o.amount.is_negative())
    throw_invalid("opportunity.amount", o.amount.to_string() + " is negative");
}

}  // namespace v0
}  // namespace crmkit
