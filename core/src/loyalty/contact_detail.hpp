// Private to the loyalty layer: the column checks, consent state as of a date and channel choice
// shared by due_list (followup.cpp) and campaign_audience (campaigns.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "crmkit/base/time.hpp"
#include "crmkit/loyalty/followup.hpp"

namespace crmkit {
inline namespace v0 {
namespace contact_detail {

constexpr std::int64_t kMicrosPerDay = 86'400'000'000LL;
constexpr int kChannels = 6;  // Channel::email .. Channel::visit

// Throws Error{invalid_argument} "<name>: length n differs from <ref_name> (m)" unless `n` is 0
// (when optional) or equals `m`.
void check_length(std::size_t n, std::string_view name, std::size_t m, std::string_view ref_name,
                  bool optional);

// The customers of the columns, indexed; checks the column groups (lengths, duplicates, codes,
// unknown customers in consent and interaction rows).
// Ids that span at most 4 x their count use a direct table (id - min -> row + 1, 0 = none);
// others a hash map.
struct CustomerIndex {
  std::unordered_map<CustomerId, std::size_t> map;
  std::vector<std::uint32_t> dense;
  CustomerId min_id = 0;
  bool use_dense = false;

  // The row of `id`, or SIZE_MAX when it is not a customer of the columns.
  std::size_t find(CustomerId id) const noexcept {
    if (use_dense) {
      if (id < min_id) return SIZE_MAX;
      const auto off = static_cast<std::uint64_t>(id) - static_cast<std::uint64_t>(min_id);
      if (off >= dense.size() || dense[off] == 0) return SIZE_MAX;
      return dense[off] - 1;
    }
    const auto it = map.find(id);
    return it == map.end() ? SIZE_MAX : it->second;
  }
  // The row of `id`; throws Error{invalid_argument} "<field>[i]: no customer <id>" if none.
  std::size_t at(CustomerId id, std::string_view field, std::size_t i) const;
};
CustomerIndex check_columns(const ContactColumns& c);

// Bit k set: Channel k usable for `purpose` as of `as_of`, per customer row.
std::vector<std::uint8_t> usable_channels(const ContactColumns& c, const CustomerIndex& index,
                                          std::string_view purpose, Timestamp as_of);

// The preferred channel if usable, else the first usable one of `order`; none otherwise.
std::optional<Channel> choose_channel(std::uint8_t mask, std::int8_t preferred,
                                      const std::vector<Channel>& order);

// Throws Error{invalid_argument} naming `field` for a repeated channel.
void check_channel_order(const std::vector<Channel>& order, std::string_view field);

// Throws Error{invalid_argument} naming `field` unless `purpose` is a lower-case token
// [a-z0-9_-]{1,64}.
void check_purpose(std::string_view purpose, std::string_view field);

inline std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace contact_detail
}  // namespace v0
}  // namespace crmkit
