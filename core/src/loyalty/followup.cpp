// Follow-up policies and the due list (crmkit/loyalty/followup.hpp).
#include "crmkit/loyalty/followup.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "crmkit/base/error.hpp"
#include "crmkit/base/json.hpp"
#include "crmkit/rules/rules.hpp"
#include "loyalty/contact_detail.hpp"

namespace crmkit {
inline namespace v0 {

using contact_detail::kMicrosPerDay;

namespace {

void check_days(std::int64_t days, const std::string& field) {
  if (days < 1 || days > 36500) {
    throw_invalid(field, "must be in 1..36500, got " + std::to_string(days));
  }
}

void check_rule_name(const std::string& name, const std::string& field) {
  bool ok = !name.empty() && name.size() <= 64;
  for (const char ch : name) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_')) ok = false;
  }
  if (!ok) {
    throw_invalid(field, "must be 1..64 lower-case letters, digits or '_', got '" + name + "'");
  }
  if (name == "default") throw_invalid(field, "'default' is reserved for the default cadence");
}

void check_action(const std::string& action, const std::string& field) {
  if (action.size() > 256) throw_invalid(field, "is longer than 256 bytes");
}

std::string text_member(const nlohmann::json& j, const char* key, const std::string& at) {
  const auto& v = j.at(key);
  if (!v.is_string()) throw_invalid(at + "." + key, "must be a string");
  return v.get<std::string>();
}

std::int32_t days_member(const nlohmann::json& j, const char* key, const std::string& at) {
  const auto& v = j.at(key);
  if (!v.is_number_integer() || v.get<std::int64_t>() < 1 || v.get<std::int64_t>() > 36500) {
    throw_invalid(at + "." + key, "must be an integer in 1..36500, got " + v.dump());
  }
  return static_cast<std::int32_t>(v.get<std::int64_t>());
}

CadenceRule rule_from_json(const nlohmann::json& j, const std::string& at) {
  if (!j.is_object()) throw_invalid(at, "must be an object");
  for (const auto& [k, v] : j.items()) {
    if (k != "name" && k != "when" && k != "every_days" && k != "purpose" && k != "action") {
      throw_invalid(at + "." + k, "unknown member");
    }
  }
  if (!j.contains("name")) throw_invalid(at + ".name", "is required");
  if (!j.contains("every_days")) throw_invalid(at + ".every_days", "is required");
  CadenceRule r;
  r.name = text_member(j, "name", at);
  r.every_days = days_member(j, "every_days", at);
  if (j.contains("when") && !j.at("when").is_null()) r.when = j.at("when").dump();
  if (j.contains("purpose")) r.purpose = text_member(j, "purpose", at);
  if (j.contains("action")) r.action = text_member(j, "action", at);
  return r;
}

}  // namespace

const char* to_string(DueStatus v) noexcept {
  return v == DueStatus::overdue ? "overdue" : "due";
}

std::vector<Channel> default_channel_order() {
  return {Channel::email, Channel::phone, Channel::sms, Channel::im, Channel::post,
          Channel::visit};
}

void validate_follow_up_policy(const FollowUpPolicy& policy, std::string_view path) {
  const std::string p(path);
  for (std::size_t i = 0; i < policy.rules.size(); ++i) {
    const CadenceRule& r = policy.rules[i];
    const std::string at = p + ".rules[" + std::to_string(i) + "]";
    check_rule_name(r.name, at + ".name");
    for (std::size_t k = 0; k < i; ++k) {
      if (policy.rules[k].name == r.name) {
        throw_invalid(at + ".name", "'" + r.name + "' is used twice");
      }
    }
    check_days(r.every_days, at + ".every_days");
    contact_detail::check_purpose(r.purpose, at + ".purpose");
    check_action(r.action, at + ".action");
    if (!r.when.empty()) parse_json_strict(r.when, at + ".when");
  }
  check_days(policy.default_every_days, p + ".default_every_days");
  contact_detail::check_purpose(policy.default_purpose, p + ".default_purpose");
  check_action(policy.default_action, p + ".default_action");
}

FollowUpPolicy follow_up_policy_from_json_text(std::string_view text, std::string_view path) {
  const std::string p(path);
  const nlohmann::json j = parse_json_strict(text, p);
  if (!j.is_object()) throw_invalid(p, "must be an object");
  for (const auto& [k, v] : j.items()) {
    if (k != "rules" && k != "default_every_days" && k != "default_purpose" &&
        k != "default_action") {
      throw_invalid(p + "." + k, "unknown member");
    }
  }
  FollowUpPolicy policy;
  if (j.contains("rules")) {
    const auto& rules = j.at("rules");
    if (!rules.is_array()) throw_invalid(p + ".rules", "must be an array of rules");
    for (std::size_t i = 0; i < rules.size(); ++i) {
      policy.rules.push_back(rule_from_json(rules[i], p + ".rules[" + std::to_string(i) + "]"));
    }
  }
  if (j.contains("default_every_days")) {
    policy.default_every_days = days_member(j, "default_every_days", p);
  }
  if (j.contains("default_purpose")) {
    policy.default_purpose = text_member(j, "default_purpose", p);
  }
  if (j.contains("default_action")) policy.default_action = text_member(j, "default_action", p);
  validate_follow_up_policy(policy, p);
  return policy;
}

std::string to_json_text(const FollowUpPolicy& policy) {
  nlohmann::json rules = nlohmann::json::array();
  for (const CadenceRule& r : policy.rules) {
    nlohmann::json o = nlohmann::json::object();
    o["name"] = r.name;
    if (!r.when.empty()) o["when"] = nlohmann::json::parse(r.when);
    o["every_days"] = r.every_days;
    o["purpose"] = r.purpose;
    if (!r.action.empty()) o["action"] = r.action;
    rules.push_back(std::move(o));
  }
  nlohmann::json j = nlohmann::json::object();
  j["rules"] = std::move(rules);
  j["default_every_days"] = policy.default_every_days;
  j["default_purpose"] = policy.default_purpose;
  if (!policy.default_action.empty()) j["default_action"] = policy.default_action;
  return j.dump();
}

DueList due_list(const FollowUpPolicy& policy, const ContactColumns& c, Timestamp as_of,
                 const DueOptions& options) {
  validate_follow_up_policy(policy, "policy");
  if (options.horizon_days < 0 || options.horizon_days > 36500) {
    throw_invalid("horizon_days",
                  "must be in 0..36500, got " + std::to_string(options.horizon_days));
  }
  contact_detail::check_channel_order(options.channel_order, "channel_order");
  const contact_detail::CustomerIndex index = contact_detail::check_columns(c);
  const std::size_t n = c.customer_id.size();

  // The cadence rule of each customer: first match wins; -1 = the default.
  std::vector<std::int32_t> rule_of(n, -1);
  {
    std::vector<std::uint8_t> hit(n);
    std::size_t undecided = n;
    for (std::size_t r = 0; r < policy.rules.size() && undecided > 0; ++r) {
      const CadenceRule& cr = policy.rules[r];
      if (cr.when.empty()) {
        std::fill(hit.begin(), hit.end(), 1);
      } else {
        const std::string at = "policy.rules[" + std::to_string(r) + "].when";
        if (c.facts == nullptr) throw_invalid(at, "reads facts, but no facts table was given");
        const Rule rule = Rule::compile(cr.when, c.facts->schema(), RuleOptions{at});
        rule.test_all(*c.facts, hit);
      }
      for (std::size_t i = 0; i < n; ++i) {
        if (rule_of[i] < 0 && hit[i]) {
          rule_of[i] = static_cast<std::int32_t>(r);
          --undecided;
        }
      }
    }
  }

  // Contacts: the last one at or before as_of and the count in (as_of - 30 days, as_of].
  std::uint16_t kinds = 0;
  for (const InteractionKind k : options.contact_kinds) {
    kinds |= static_cast<std::uint16_t>(1u << static_cast<int>(k));
  }
  const bool all_kinds = options.contact_kinds.empty() || c.interaction_kind.empty();
  constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::min();
  const std::int64_t now = as_of.micros();
  const std::int64_t window_start = now - 30 * kMicrosPerDay;  // exclusive
  std::vector<std::int64_t> last(n, kNone);
  std::vector<std::int32_t> recent(n, 0);
  const auto counts = [&](std::size_t i) {
    if (c.interaction_at_micros[i] > now) return false;
    return all_kinds || (kinds & (1u << c.interaction_kind[i])) != 0;
  };
  for (std::size_t i = 0; i < c.interaction_customer_id.size(); ++i) {
    if (!counts(i)) continue;
    const std::size_t r = index.find(c.interaction_customer_id[i]);
    const std::int64_t t = c.interaction_at_micros[i];
    if (t > last[r]) last[r] = t;
    if (t > window_start) ++recent[r];
  }

  // Usable channels per purpose, computed once per purpose that some customer needs.
  std::map<std::string, std::vector<std::uint8_t>, std::less<>> masks;
  const auto mask_of = [&](const std::string& purpose) -> const std::vector<std::uint8_t>& {
    auto it = masks.find(purpose);
    if (it == masks.end()) {
      it = masks.emplace(purpose, contact_detail::usable_channels(c, index, purpose, as_of)).first;
    }
    return it->second;
  };

  DueList out;
  out.as_of = as_of;
  const std::int64_t horizon_end = now + options.horizon_days * kMicrosPerDay;
  std::vector<std::size_t> limited_rows;
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t created = c.created_at_micros.empty() ? 0 : c.created_at_micros[i];
    if (created > now && last[i] == kNone) continue;  // does not exist as of the date
    const CadenceRule* rule = rule_of[i] >= 0 ? &policy.rules[rule_of[i]] : nullptr;
    const std::int64_t every = rule ? rule->every_days : policy.default_every_days;
    const std::int64_t base = last[i] != kNone ? last[i] : created;
    const std::int64_t due_at = base + every * kMicrosPerDay;
    if (due_at > horizon_end) continue;

    DueEntry e;
    e.customer = c.customer_id[i];
    if (last[i] != kNone) e.last_contact = Timestamp::from_micros(last[i]);
    e.due_at = Timestamp::from_micros(due_at);
    e.days_overdue = contact_detail::floor_div(now - due_at, kMicrosPerDay);
    e.status = due_at <= now ? DueStatus::overdue : DueStatus::due;
    e.rule = rule ? rule->name : "default";
    e.purpose = rule ? rule->purpose : policy.default_purpose;
    e.action = rule ? rule->action : policy.default_action;
    if (e.action.empty() && !c.stage_action.empty()) e.action = c.stage_action[i];
    e.contacts_30d = recent[i];

    const std::int8_t preferred = c.preferred_channel.empty() ? -1 : c.preferred_channel[i];
    const std::optional<Channel> ch =
        contact_detail::choose_channel(mask_of(e.purpose)[i], preferred, options.channel_order);
    const std::int32_t limit =
        c.max_contacts_per_30_days.empty() ? -1 : c.max_contacts_per_30_days[i];
    if (!ch) {
      out.unreachable.push_back(std::move(e));
    } else if (limit >= 0 && recent[i] >= limit) {
      limited_rows.push_back(i);
      out.at_limit.push_back(std::move(e));
    } else {
      e.channel = ch;
      out.due.push_back(std::move(e));
    }
  }

  // When each customer at its limit may be contacted again: after its (count - limit + 1)-th
  // oldest contact of the window leaves the window (30 days after it).
  if (!limited_rows.empty()) {
    std::unordered_map<std::size_t, std::vector<std::int64_t>> window;
    for (const std::size_t r : limited_rows) window[r];
    for (std::size_t i = 0; i < c.interaction_customer_id.size(); ++i) {
      if (!counts(i) || c.interaction_at_micros[i] <= window_start) continue;
      const auto it = window.find(index.find(c.interaction_customer_id[i]));
      if (it != window.end()) it->second.push_back(c.interaction_at_micros[i]);
    }
    for (std::size_t k = 0; k < limited_rows.size(); ++k) {
      const std::size_t r = limited_rows[k];
      const std::int32_t limit = c.max_contacts_per_30_days[r];
      if (limit == 0) continue;  // never: no next date
      std::vector<std::int64_t>& times = window[r];
      std::sort(times.begin(), times.end());
      const std::size_t leave = times.size() - static_cast<std::size_t>(limit);  // 0-based
      out.at_limit[k].next_contact_at = Timestamp::from_micros(times[leave] + 30 * kMicrosPerDay);
    }
  }

  const auto order = [](const DueEntry& a, const DueEntry& b) {
    if (a.due_at != b.due_at) return a.due_at < b.due_at;
    return a.customer < b.customer;
  };
  std::sort(out.due.begin(), out.due.end(), order);
  std::sort(out.unreachable.begin(), out.unreachable.end(), order);
  std::sort(out.at_limit.begin(), out.at_limit.end(), order);
  return out;
}

}  // namespace v0
}  // namespace crmkit
