// Column checks, consent as of a date and channel choice (loyalty/contact_detail.hpp).
#include "loyalty/contact_detail.hpp"

#include <algorithm>
#include <limits>

#include "crmkit/base/error.hpp"

namespace crmkit {
inline namespace v0 {
namespace contact_detail {

void check_length(std::size_t n, std::string_view name, std::size_t m, std::string_view ref_name,
                  bool optional) {
  if (optional && n == 0) return;
  if (n != m) {
    throw_invalid(name, "length " + std::to_string(n) + " differs from " + std::string(ref_name) +
                            " (" + std::to_string(m) + ")");
  }
}

std::size_t CustomerIndex::at(CustomerId id, std::string_view field, std::size_t i) const {
  const std::size_t r = find(id);
  if (r == SIZE_MAX) {
    throw_invalid(std::string(field) + "[" + std::to_string(i) + "]",
                  "no customer " + std::to_string(id));
  }
  return r;
}

CustomerIndex check_columns(const ContactColumns& c) {
  const std::size_t n = c.customer_id.size();
  check_length(c.created_at_micros.size(), "created_at_micros", n, "customer_id", true);
  check_length(c.preferred_channel.size(), "preferred_channel", n, "customer_id", true);
  check_length(c.max_contacts_per_30_days.size(), "max_contacts_per_30_days", n, "customer_id",
               true);
  check_length(c.stage_action.size(), "stage_action", n, "customer_id", true);
  if (c.facts != nullptr && c.facts->rows() != n) {
    throw_invalid("facts", "has " + std::to_string(c.facts->rows()) + " rows, customer_id has " +
                               std::to_string(n));
  }
  const std::size_t k = c.consent_customer_id.size();
  check_length(c.consent_channel.size(), "consent_channel", k, "consent_customer_id", false);
  check_length(c.consent_purpose.size(), "consent_purpose", k, "consent_customer_id", false);
  check_length(c.consent_granted.size(), "consent_granted", k, "consent_customer_id", false);
  check_length(c.consent_at_micros.size(), "consent_at_micros", k, "consent_customer_id", false);
  const std::size_t m = c.interaction_customer_id.size();
  check_length(c.interaction_at_micros.size(), "interaction_at_micros", m,
               "interaction_customer_id", false);
  check_length(c.interaction_kind.size(), "interaction_kind", m, "interaction_customer_id", true);

  CustomerIndex index;
  if (n > 0) {
    const auto [lo, hi] = std::minmax_element(c.customer_id.begin(), c.customer_id.end());
    const long double span = static_cast<long double>(*hi) - static_cast<long double>(*lo);
    index.use_dense = span < 4.0L * static_cast<long double>(n) + 16.0L && n < 0xFFFFFFF0u;
    index.min_id = *lo;
    if (index.use_dense) index.dense.assign(static_cast<std::size_t>(span) + 1, 0);
  }
  if (!index.use_dense) index.map.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const CustomerId id = c.customer_id[i];
    bool fresh = true;
    if (index.use_dense) {
      std::uint32_t& slot = index.dense[static_cast<std::size_t>(
          static_cast<std::uint64_t>(id) - static_cast<std::uint64_t>(index.min_id))];
      fresh = slot == 0;
      if (fresh) slot = static_cast<std::uint32_t>(i + 1);
    } else {
      fresh = index.map.emplace(id, i).second;
    }
    if (!fresh) {
      throw_invalid("customer_id[" + std::to_string(i) + "]",
                    "customer " + std::to_string(id) + " is listed twice");
    }
  }
  for (std::size_t i = 0; i < c.preferred_channel.size(); ++i) {
    const int v = c.preferred_channel[i];
    if (v < -1 || v >= kChannels) {
      throw_invalid("preferred_channel[" + std::to_string(i) + "]",
                    "unknown code " + std::to_string(v));
    }
  }
  for (std::size_t i = 0; i < c.max_contacts_per_30_days.size(); ++i) {
    if (c.max_contacts_per_30_days[i] < -1) {
      throw_invalid("max_contacts_per_30_days[" + std::to_string(i) + "]",
                    "must be -1 (no limit) or >= 0, got " +
                        std::to_string(c.max_contacts_per_30_days[i]));
    }
  }
  for (std::size_t i = 0; i < k; ++i) {
    index.at(c.consent_customer_id[i], "consent_customer_id", i);
    if (c.consent_channel[i] >= kChannels) {
      throw_invalid("consent_channel[" + std::to_string(i) + "]",
                    "unknown code " + std::to_string(c.consent_channel[i]));
    }
  }
  for (std::size_t i = 0; i < m; ++i) {
    index.at(c.interaction_customer_id[i], "interaction_customer_id", i);
    if (!c.interaction_kind.empty() && c.interaction_kind[i] > 9) {
      throw_invalid("interaction_kind[" + std::to_string(i) + "]",
                    "unknown code " + std::to_string(c.interaction_kind[i]));
    }
  }
  return index;
}

std::vector<std::uint8_t> usable_channels(const ContactColumns& c, const CustomerIndex& index,
                                          std::string_view purpose, Timestamp as_of) {
  const std::size_t n = c.customer_id.size();
  // Per (row, channel): the time of the deciding consent row so far (latest at; a withdrawal
  // wins a tie) in `best`, and its status in the mask bits. Flat arrays, one pass.
  constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::min();
  std::vector<std::int64_t> best(n * kChannels, kNone);
  std::vector<std::uint8_t> mask(n, 0);
  for (std::size_t i = 0; i < c.consent_customer_id.size(); ++i) {
    const std::int64_t at = c.consent_at_micros[i];
    if (at > as_of.micros()) continue;
    if (c.consent_purpose[i] != purpose) continue;
    const std::size_t r = index.find(c.consent_customer_id[i]);
    const int ch = c.consent_channel[i];
    const auto bit = static_cast<std::uint8_t>(1u << ch);
    std::int64_t& b = best[r * kChannels + static_cast<std::size_t>(ch)];
    const bool granted = c.consent_granted[i] != 0;
    if (at > b) {
      b = at;
      mask[r] = granted ? static_cast<std::uint8_t>(mask[r] | bit)
                        : static_cast<std::uint8_t>(mask[r] & ~bit);
    } else if (at == b && !granted) {
      mask[r] = static_cast<std::uint8_t>(mask[r] & ~bit);
    }
  }
  return mask;
}

std::optional<Channel> choose_channel(std::uint8_t mask, std::int8_t preferred,
                                      const std::vector<Channel>& order) {
  if (preferred >= 0 && (mask & (1u << preferred)) != 0) {
    const auto p = static_cast<Channel>(preferred);
    // The preferred channel is used only if the order allows the channel at all.
    if (std::find(order.begin(), order.end(), p) != order.end()) return p;
  }
  for (const Channel ch : order) {
    if ((mask & (1u << static_cast<int>(ch))) != 0) return ch;
  }
  return std::nullopt;
}

void check_channel_order(const std::vector<Channel>& order, std::string_view field) {
  std::uint8_t seen = 0;
  for (std::size_t i = 0; i < order.size(); ++i) {
    const int k = static_cast<int>(order[i]);
    if (k < 0 || k >= kChannels) {
      throw_invalid(std::string(field) + "[" + std::to_string(i) + "]", "unknown channel");
    }
    if ((seen & (1u << k)) != 0) {
      throw_invalid(std::string(field) + "[" + std::to_string(i) + "]",
                    std::string("channel '") + to_string(order[i]) + "' is listed twice");
    }
    seen |= static_cast<std::uint8_t>(1u << k);
  }
}

void check_purpose(std::string_view purpose, std::string_view field) {
  bool ok = !purpose.empty() && purpose.size() <= 64;
  for (const char ch : purpose) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-')) {
      ok = false;
    }
  }
  if (!ok) {
    throw_invalid(field, "must be a lower-case token of 1..64 letters, digits, '_' or '-', got '" +
                             std::string(purpose) + "'");
  }
}

}  // namespace contact_detail
}  // namespace v0
}  // namespace crmkit
