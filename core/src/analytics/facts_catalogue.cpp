// The standard fact catalogue and declared window facts (declarations, validation, JSON).
#include <array>
#include <string>
#include <utility>

#include "analytics/facts_internal.hpp"
#include "crmkit/base/error.hpp"
#include "crmkit/base/json.hpp"

namespace crmkit {
inline namespace v0 {

namespace {

constexpr std::int32_t kMaxWindowDays = 36500;

const std::array<const char*, 6> kEventNames = {"purchase", "refund", "interaction", "referral",
                                                "survey_response", "event_participation"};
const std::array<const char*, 4> kAggregateNames = {"count", "sum", "mean", "distinct_days"};

template <std::size_t N>
std::string list_of(const std::array<const char*, N>& names) {
  std::string out;
  for (std::size_t i = 0; i < N; ++i) {
    if (i) out += ", ";
    out += names[i];
  }
  return out;
}

std::string join(std::string_view path, std::string_view member) {
  return std::string(path) + "." + std::string(member);
}

}  // namespace

const char* to_string(WindowEvent v) noexcept { return kEventNames[static_cast<std::size_t>(v)]; }
const char* to_string(WindowAggregate v) noexcept {
  return kAggregateNames[static_cast<std::size_t>(v)];
}

FactType WindowFact::type() const noexcept {
  return aggregate == WindowAggregate::sum || aggregate == WindowAggregate::mean
             ? FactType::number
             : FactType::integer;
}

void validate_window_fact(const WindowFact& f, std::string_view path) {
  // FactSchema::add checks names; a scratch schema gives the same message.
  try {
    FactSchema scratch;
    scratch.add(f.name, FactType::integer);
  } catch (const Error& e) {
    std::string_view what = e.what();
    if (what.substr(0, 6) == "fact: ") what.remove_prefix(6);
    throw_invalid(join(path, "name"), what);
  }
  if (static_cast<std::size_t>(f.event) >= kEventNames.size()) {
    throw_invalid(join(path, "event"), "unknown event code");
  }
  if (static_cast<std::size_t>(f.aggregate) >= kAggregateNames.size()) {
    throw_invalid(join(path, "aggregate"), "unknown aggregate code");
  }
  if (f.window_days < 1 || f.window_days > kMaxWindowDays) {
    throw_invalid(join(path, "window_days"), "must be an integer in 1..36500, got " +
                                                 std::to_string(f.window_days));
  }
  if ((f.aggregate == WindowAggregate::sum || f.aggregate == WindowAggregate::mean) &&
      f.event != WindowEvent::purchase && f.event != WindowEvent::refund) {
    throw_invalid(join(path, "aggregate"), std::string(to_string(f.aggregate)) +
                                               " needs event purchase or refund, not " +
                                               to_string(f.event));
  }
  if (f.event != WindowEvent::interaction) {
    if (f.kind) throw_invalid(join(path, "kind"), "only an interaction window takes a kind");
    if (f.purpose) {
      throw_invalid(join(path, "purpose"), "only an interaction window takes a purpose");
    }
    if (f.commitment_obtained) {
      throw_invalid(join(path, "commitment_obtained"),
                    "only an interaction window takes commitment_obtained");
    }
  }
}

namespace {

WindowFact window_from_json(const nlohmann::json& j, std::string_view path) {
  if (!j.is_object()) throw_invalid(path, "must be an object");
  WindowFact f;
  bool has_name = false, has_event = false, has_days = false;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const nlohmann::json& v = it.value();
    const std::string at = join(path, key);
    auto text = [&]() -> std::string {
      if (!v.is_string()) throw_invalid(at, "must be a string");
      return v.get<std::string>();
    };
    if (key == "name") {
      f.name = text();
      has_name = true;
    } else if (key == "event") {
      const std::string s = text();
      bool found = false;
      for (std::size_t i = 0; i < kEventNames.size(); ++i) {
        if (s == kEventNames[i]) {
          f.event = static_cast<WindowEvent>(i);
          found = true;
        }
      }
      if (!found) {
        throw_invalid(at, "unknown event '" + s + "' (one of " + list_of(kEventNames) + ")");
      }
      has_event = true;
    } else if (key == "aggregate") {
      const std::string s = text();
      bool found = false;
      for (std::size_t i = 0; i < kAggregateNames.size(); ++i) {
        if (s == kAggregateNames[i]) {
          f.aggregate = static_cast<WindowAggregate>(i);
          found = true;
        }
      }
      if (!found) {
        throw_invalid(at,
                      "unknown aggregate '" + s + "' (one of " + list_of(kAggregateNames) + ")");
      }
    } else if (key == "window_days") {
      const bool integral = v.is_number_integer() ||
                            (v.is_number_float() && v.get<double>() == static_cast<double>(
                                                                             static_cast<long long>(
                                                                                 v.get<double>())));
      if (!integral) throw_invalid(at, "must be an integer in 1..36500");
      const long long days = v.is_number_float() ? static_cast<long long>(v.get<double>())
                                                 : v.get<long long>();
      if (days < 1 || days > kMaxWindowDays) {
        throw_invalid(at, "must be an integer in 1..36500, got " + std::to_string(days));
      }
      f.window_days = static_cast<std::int32_t>(days);
      has_days = true;
    } else if (key == "kind") {
      f.kind = parse_interaction_kind(text(), at);
    } else if (key == "purpose") {
      f.purpose = parse_contact_purpose(text(), at);
    } else if (key == "commitment_obtained") {
      if (!v.is_boolean()) throw_invalid(at, "must be true or false");
      f.commitment_obtained = v.get<bool>();
    } else {
      throw_invalid(at, "unknown member (name, event, window_days, aggregate, kind, purpose, "
                        "commitment_obtained)");
    }
  }
  if (!has_name) throw_invalid(join(path, "name"), "required");
  if (!has_event) throw_invalid(join(path, "event"), "required");
  if (!has_days) throw_invalid(join(path, "window_days"), "required");
  validate_window_fact(f, path);
  return f;
}

}  // namespace

WindowFact window_fact_from_json_text(std::string_view text, std::string_view path) {
  return window_from_json(parse_json_strict(text, path), path);
}

std::vector<WindowFact> window_facts_from_json_text(std::string_view text,
                                                    std::string_view path) {
  const nlohmann::json j = parse_json_strict(text, path);
  if (!j.is_array()) throw_invalid(path, "must be an array of window declarations");
  std::vector<WindowFact> out;
  for (std::size_t i = 0; i < j.size(); ++i) {
    const std::string at = std::string(path) + "[" + std::to_string(i) + "]";
    WindowFact f = window_from_json(j[i], at);
    for (const WindowFact& g : out) {
      if (g.name == f.name) throw_invalid(at + ".name", "'" + f.name + "' is declared twice");
    }
    out.push_back(std::move(f));
  }
  return out;
}

std::string to_json_text(const WindowFact& f) {
  nlohmann::json j = nlohmann::json::object();
  j["name"] = f.name;
  j["event"] = to_string(f.event);
  j["window_days"] = f.window_days;
  j["aggregate"] = to_string(f.aggregate);
  if (f.kind) j["kind"] = to_string(*f.kind);
  if (f.purpose) j["purpose"] = to_string(*f.purpose);
  if (f.commitment_obtained) j["commitment_obtained"] = true;
  return j.dump();
}

FactType fact_type_of(FieldType type) noexcept {
  switch (type) {
    case FieldType::text:
    case FieldType::enumeration: return FactType::text;
    case FieldType::integer: return FactType::integer;
    case FieldType::decimal:
    case FieldType::money: return FactType::number;
    case FieldType::date: return FactType::date;
    case FieldType::boolean: return FactType::boolean;
  }
  return FactType::text;
}

double FactModel::horizon_365d() const noexcept {
  const double days_per_unit = unit == TimeUnit::hour   ? 1.0 / 24.0
                               : unit == TimeUnit::day  ? 1.0
                               : unit == TimeUnit::week ? 7.0
                                                        : 30.436875;
  return 365.0 / (days_per_unit * multiplier);
}

namespace facts_detail {

const std::vector<StandardFact>& standard_facts() {
  static const std::vector<StandardFact> list = [] {
    std::vector<StandardFact> v;
    auto add = [&v](std::string name, FactType t, std::string d) {
      v.push_back({std::move(name), t, std::move(d)});
    };
    using T = FactType;
    add("purchase_count", T::integer, "purchases not fully refunded as of the date (0 when none)");
    add("net_revenue", T::number, "net amount of the purchases (amount - refunds as of the date), major units");
    add("average_order_value", T::number, "net_revenue / purchase_count; missing when no purchase");
    add("days_since_first_purchase", T::integer, "whole days since the first purchase; missing when none");
    add("days_since_last_purchase", T::integer, "whole days since the last purchase; missing when none");
    for (int d : {30, 90, 180, 365}) {
      add("purchases_" + std::to_string(d) + "d", T::integer,
          "purchases in the last " + std::to_string(d) + " days");
    }
    for (int d : {90, 365}) {
      add("net_revenue_" + std::to_string(d) + "d", T::number,
          "net amount of the purchases in the last " + std::to_string(d) + " days, major units");
    }
    add("days_since_created", T::integer, "whole days since the customer record was created");
    add("interactions_90d", T::integer, "interactions in the last 90 days");
    add("interactions_365d", T::integer, "interactions in the last 365 days");
    for (int k = 0; k <= 9; ++k) {
      const char* n = to_string(static_cast<InteractionKind>(k));
      add(std::string("interactions_365d.") + n, T::integer,
          std::string("interactions of kind ") + n + " in the last 365 days");
    }
    for (int p = 0; p <= 4; ++p) {
      const char* n = to_string(static_cast<ContactPurpose>(p));
      add(std::string("interactions_365d.") + n, T::integer,
          std::string("interactions with purpose ") + n + " in the last 365 days");
    }
    add("commitments_obtained_365d", T::integer,
        "interactions in the last 365 days whose commitment objective was obtained");
    add("days_since_last_interaction", T::integer, "whole days since the last interaction; missing when none");
    add("days_since_last_service_contact", T::integer,
        "whole days since the last interaction with purpose service; missing when none");
    add("referrals_made", T::integer, "referral events of this customer as the referrer");
    add("events_attended", T::integer, "event participations");
    add("events_attended_365d", T::integer, "event participations in the last 365 days");
    add("last_nps", T::integer, "NPS score (0..10) of the latest survey response giving one; missing when none");
    add("last_csat", T::integer, "CSAT score (1..5) of the latest survey response giving one; missing when none");
    add("consent_any", T::boolean, "some contact consent granted (and not withdrawn) as of the date");
    for (int c = 0; c <= 5; ++c) {
      const char* n = to_string(static_cast<Channel>(c));
      add(std::string("consent.") + n, T::boolean,
          std::string("consent granted for channel ") + n + " (any purpose)");
    }
    for (int c = 0; c <= 5; ++c) {
      const char* n = to_string(static_cast<Channel>(c));
      add(std::string("consent.") + n + ".purposes", T::text_list,
          std::string("the purposes consent is granted for on channel ") + n +
              " as of the date, sorted (test one with {\"in\": [\"marketing\", ...]})");
    }
    add("tags", T::text_list, "the customer's tags");
    add("rfm.r", T::integer, "RFM recency score 1..5 (5 = most recent); missing when no purchase");
    add("rfm.f", T::integer, "RFM frequency score 1..5; missing when no purchase");
    add("rfm.m", T::integer, "RFM monetary score 1..5; missing when no purchase");
    add("rfm.segment", T::text, "RFM segment name; missing when no purchase");
    add("p_alive", T::number, "probability the customer is alive (fitted model); missing without one");
    add("expected_purchases_365d", T::number,
        "expected repeat purchases in the next 365 days (fitted model); missing without one");
    return v;
  }();
  return list;
}

}  // namespace facts_detail

FactSchema standard_fact_schema(std::span<const FieldDef> fields,
                                std::span<const std::string> machines,
                                std::span<const WindowFact> windows) {
  FactSchema s;
  for (const auto& f : facts_detail::standard_facts()) s.add(f.name, f.type, f.description);
  for (const FieldDef& f : fields) {
    s.add("field." + f.name, fact_type_of(f.type),
          f.description.empty() ? "custom field " + f.name : f.description);
  }
  for (const std::string& m : machines) {
    s.add("stage." + m, FactType::text, "current stage of machine " + m);
    s.add("days_in_stage." + m, FactType::integer,
          "whole days since the customer entered its stage of machine " + m);
  }
  for (std::size_t i = 0; i < windows.size(); ++i) {
    const WindowFact& w = windows[i];
    validate_window_fact(w, "windows[" + std::to_string(i) + "]");
    std::string d = std::string(to_string(w.aggregate)) + " of " + to_string(w.event) +
                    " events in the last " + std::to_string(w.window_days) + " days";
    if (w.kind) d += ", kind " + std::string(to_string(*w.kind));
    if (w.purpose) d += ", purpose " + std::string(to_string(*w.purpose));
    if (w.commitment_obtained) d += ", commitment obtained";
    s.add(w.name, w.type(), d);
  }
  return s;
}

}  // namespace v0
}  // namespace crmkit
