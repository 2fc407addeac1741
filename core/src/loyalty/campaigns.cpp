// Campaign audiences, plans and their comparison (crmkit/loyalty/campaigns.hpp).
#include "crmkit/loyalty/campaigns.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <unordered_set>

#include "crmkit/base/error.hpp"
#include "crmkit/rules/rules.hpp"
#include "loyalty/contact_detail.hpp"

namespace crmkit {
inline namespace v0 {

const char* to_string(CustomerClass v) noexcept {
  switch (v) {
    case CustomerClass::prospect: return "prospect";
    case CustomerClass::first_time: return "first_time";
    case CustomerClass::repeat: return "repeat";
  }
  return "prospect";
}

CustomerClass parse_customer_class(std::string_view s, std::string_view field) {
  if (s == "prospect") return CustomerClass::prospect;
  if (s == "first_time") return CustomerClass::first_time;
  if (s == "repeat") return CustomerClass::repeat;
  throw_invalid(field, "unknown class '" + std::string(s) +
                           "' (expected prospect, first_time or repeat)");
}

CustomerClass customer_class(std::int64_t purchase_count) noexcept {
  if (purchase_count >= 2) return CustomerClass::repeat;
  if (purchase_count == 1) return CustomerClass::first_time;
  return CustomerClass::prospect;
}

double ResponseOdds::of(CustomerClass c) const noexcept {
  switch (c) {
    case CustomerClass::prospect: return prospect;
    case CustomerClass::first_time: return first_time;
    case CustomerClass::repeat: return repeat;
  }
  return prospect;
}

void validate_response_odds(const ResponseOdds& odds, std::string_view path) {
  const auto check = [&](double v, const char* name) {
    if (!(v >= 0.0 && v <= 1.0)) {
      throw_invalid(std::string(path) + "." + name,
                    "must be in [0, 1], got " + std::to_string(v));
    }
  };
  check(odds.prospect, "prospect");
  check(odds.first_time, "first_time");
  check(odds.repeat, "repeat");
}

Audience campaign_audience(const ContactColumns& c, std::span<const std::int64_t> purchase_count,
                           Timestamp as_of, const AudienceSelection& selection,
                           const AudienceOptions& options) {
  contact_detail::check_purpose(options.purpose, "audience.purpose");
  contact_detail::check_channel_order(options.channel_order, "audience.channel_order");
  validate_response_odds(options.odds, "audience.odds");
  const contact_detail::CustomerIndex index = contact_detail::check_columns(c);
  const std::size_t n = c.customer_id.size();
  contact_detail::check_length(purchase_count.size(), "purchase_count", n, "customer_id", false);
  if (!selection.rule.empty() && !selection.customers.empty()) {
    throw_invalid("audience", "give a rule or a list of customers, not both");
  }

  // The selected rows, ascending by customer id.
  std::vector<std::size_t> rows;
  if (!selection.customers.empty()) {
    std::unordered_set<CustomerId> seen;
    for (std::size_t i = 0; i < selection.customers.size(); ++i) {
      const CustomerId id = selection.customers[i];
      const std::string at = "audience.customers[" + std::to_string(i) + "]";
      const std::size_t r = index.find(id);
      if (r == SIZE_MAX) {
        throw_error(ErrorCode::not_found, at, "no customer " + std::to_string(id));
      }
      if (!seen.insert(id).second) {
        throw_invalid(at, "customer " + std::to_string(id) + " is listed twice");
      }
      rows.push_back(r);
    }
  } else if (!selection.rule.empty()) {
    if (c.facts == nullptr) throw_invalid("audience.rule", "reads facts, but no facts table was given");
    const Rule rule = Rule::compile(selection.rule, c.facts->schema(), RuleOptions{"audience.rule"});
    const std::vector<std::uint8_t> hit = rule.test_all(*c.facts);
    for (std::size_t i = 0; i < n; ++i) {
      if (hit[i]) rows.push_back(i);
    }
  } else {
    rows.resize(n);
    for (std::size_t i = 0; i < n; ++i) rows[i] = i;
  }
  std::sort(rows.begin(), rows.end(), [&](std::size_t a, std::size_t b) {
    return c.customer_id[a] < c.customer_id[b];
  });

  const std::vector<std::uint8_t> mask =
      contact_detail::usable_channels(c, index, options.purpose, as_of);
  // Contacts (every interaction kind) in the 30 days up to as_of, per customer row; only the
  // times of customers with a limit are kept (for next_contact_at).
  const std::int64_t now = as_of.micros();
  const std::int64_t window_start = now - 30 * contact_detail::kMicrosPerDay;  // exclusive
  const bool limits = !c.max_contacts_per_30_days.empty();
  std::vector<std::vector<std::int64_t>> window(limits ? n : 0);
  if (limits) {
    for (std::size_t i = 0; i < c.interaction_customer_id.size(); ++i) {
      const std::int64_t t = c.interaction_at_micros[i];
      if (t <= window_start || t > now) continue;
      const std::size_t r = index.find(c.interaction_customer_id[i]);
      if (c.max_contacts_per_30_days[r] >= 0) window[r].push_back(t);
    }
  }

  Audience out;
  out.purpose = options.purpose;
  for (const std::size_t r : rows) {
    const std::int8_t preferred = c.preferred_channel.empty() ? -1 : c.preferred_channel[r];
    const std::optional<Channel> ch =
        contact_detail::choose_channel(mask[r], preferred, options.channel_order);
    if (!ch) {
      out.unreachable.push_back(c.customer_id[r]);
      continue;
    }
    const std::int32_t limit = limits ? c.max_contacts_per_30_days[r] : -1;
    if (limit >= 0 && window[r].size() >= static_cast<std::size_t>(limit)) {
      std::vector<std::int64_t>& times = window[r];
      AudienceAtLimit a;
      a.customer = c.customer_id[r];
      a.contacts_30d = static_cast<std::int32_t>(times.size());
      a.max_contacts_per_30_days = limit;
      if (limit > 0) {
        // Contactable again once its (count - limit + 1)-th oldest window contact leaves the
        // window, 30 days after it.
        std::sort(times.begin(), times.end());
        const std::size_t leave = times.size() - static_cast<std::size_t>(limit);
        a.next_contact_at =
            Timestamp::from_micros(times[leave] + 30 * contact_detail::kMicrosPerDay);
      }
      out.at_limit.push_back(std::move(a));
      continue;
    }
    AudienceMember m;
    m.customer = c.customer_id[r];
    m.channel = *ch;
    m.purchase_count = purchase_count[r];
    m.customer_class = customer_class(m.purchase_count);
    m.response_probability = options.odds.of(m.customer_class);
    out.members.push_back(m);
  }
  return out;
}

namespace {

CampaignPlan make_plan(std::size_t contacts, const Money& cost_per_contact, double expected) {
  if (cost_per_contact.is_negative()) {
    throw_invalid("cost_per_contact", "must not be negative, got " + cost_per_contact.to_string());
  }
  if (contacts > static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max())) {
    throw_invalid("contacts", "too many");
  }
  CampaignPlan p;
  p.contacts = contacts;
  p.cost_per_contact = cost_per_contact;
  p.cost = cost_per_contact * static_cast<std::int64_t>(contacts);
  p.expected_responses = expected;
  p.expected_response_rate = contacts == 0 ? 0.0 : expected / static_cast<double>(contacts);
  // The cost of the expected responders, cost_per_contact x expected in minor units, rounded
  // half-even (nearbyint in the default rounding mode); the rest of the cost is wasted.
  const double responders_minor =
      std::nearbyint(static_cast<double>(cost_per_contact.minor_units_i64()) * expected);
  p.wasted_spend =
      p.cost - Money::from_minor(static_cast<std::int64_t>(responders_minor),
                                 cost_per_contact.currency());
  return p;
}

}  // namespace

CampaignPlan campaign_plan(std::size_t contacts, const Money& cost_per_contact,
                           double response_rate) {
  if (!(response_rate >= 0.0 && response_rate <= 1.0)) {
    throw_invalid("response_rate", "must be in [0, 1], got " + std::to_string(response_rate));
  }
  return make_plan(contacts, cost_per_contact, static_cast<double>(contacts) * response_rate);
}

CampaignPlan campaign_plan(const Audience& audience, const Money& cost_per_contact) {
  double expected = 0.0;
  for (const AudienceMember& m : audience.members) expected += m.response_probability;
  return make_plan(audience.members.size(), cost_per_contact, expected);
}

PlanComparison compare_plans(const CampaignPlan& targeted, const CampaignPlan& blanket) {
  if (!(targeted.cost.currency() == blanket.cost.currency())) {
    throw_invalid("blanket.cost", "currency " + std::string(blanket.cost.currency().code()) +
                                      " differs from the targeted plan's " +
                                      std::string(targeted.cost.currency().code()));
  }
  PlanComparison out;
  out.targeted = targeted;
  out.blanket = blanket;
  out.cost_saved = blanket.cost - targeted.cost;
  out.waste_saved = blanket.wasted_spend - targeted.wasted_spend;
  out.responses_lost = blanket.expected_responses - targeted.expected_responses;
  return out;
}

std::optional<Money> cost_per_response(const Money& cost, std::size_t responses) {
  if (responses == 0) return std::nullopt;
  const std::int64_t num = cost.minor_units_i64();
  const auto den = static_cast<std::int64_t>(responses);
  std::int64_t q = num / den;
  const std::int64_t r = num % den;
  // Half-even: compare twice the remainder with the divisor (num >= 0 for costs).
  const std::int64_t twice = 2 * (r < 0 ? -r : r);
  if (twice > den || (twice == den && (q % 2 != 0))) q += (num < 0 ? -1 : 1);
  return Money::from_minor(q, cost.currency());
}

}  // namespace v0
}  // namespace crmkit
