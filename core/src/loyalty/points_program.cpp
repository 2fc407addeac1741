// Points programmes: names of the enums, the JSON form, validation, the earning fact schema and
// the compiled form shared by accounts (crmkit/loyalty/points.hpp).
#include <algorithm>
#include <set>
#include <string>
#include <utility>

#include <boost/multiprecision/cpp_int.hpp>
#include <nlohmann/json.hpp>

#include "base/int128_boost.hpp"
#include "base/text.hpp"
#include "crmkit/base/error.hpp"
#include "crmkit/base/json.hpp"
#include "crmkit/loyalty/points.hpp"
#include "loyalty/points_internal.hpp"

namespace crmkit {
inline namespace v0 {

using detail::quote_text;
using nlohmann::json;
using nlohmann::ordered_json;

// ---- names ----

namespace {

template <class E, std::size_t N>
E parse_name(std::string_view s, std::string_view field, const char* const (&names)[N],
             const char* expected) {
  for (std::size_t i = 0; i < N; ++i)
    if (s == names[i]) return static_cast<E>(i);
  throw_invalid(field, "unknown value " + quote_text(s) + " (expected " + expected + ")");
}

constexpr const char* kExpiry[] = {"never", "after_days", "end_of_month", "end_of_year"};
constexpr const char* kOrder[] = {"fifo", "first_to_expire"};
constexpr const char* kBasis[] = {"active_points", "points_earned_window",
                                  "points_since_tier_change", "spend_window"};
constexpr const char* kDowngrade[] = {"never", "automatic", "every_n_days"};
constexpr const char* kEarn[] = {"spend", "referral", "survey", "event_attended"};
constexpr const char* kEntry[] = {"earn", "redeem", "reversal", "adjustment", "spend"};

template <std::size_t N>
const char* name_of(int v, const char* const (&names)[N]) noexcept {
  return v >= 0 && static_cast<std::size_t>(v) < N ? names[v] : "?";
}

}  // namespace

const char* to_string(ExpiryMode v) noexcept { return name_of(static_cast<int>(v), kExpiry); }
const char* to_string(SpendOrder v) noexcept { return name_of(static_cast<int>(v), kOrder); }
const char* to_string(TierBasis v) noexcept { return name_of(static_cast<int>(v), kBasis); }
const char* to_string(DowngradeMode v) noexcept { return name_of(static_cast<int>(v), kDowngrade); }
const char* to_string(EarnKind v) noexcept { return name_of(static_cast<int>(v), kEarn); }
const char* to_string(PointsEntryKind v) noexcept { return name_of(static_cast<int>(v), kEntry); }

ExpiryMode parse_expiry_mode(std::string_view s, std::string_view field) {
  return parse_name<ExpiryMode>(s, field, kExpiry, "never, after_days, end_of_month or end_of_year");
}
SpendOrder parse_spend_order(std::string_view s, std::string_view field) {
  return parse_name<SpendOrder>(s, field, kOrder, "fifo or first_to_expire");
}
TierBasis parse_tier_basis(std::string_view s, std::string_view field) {
  return parse_name<TierBasis>(
      s, field, kBasis,
      "active_points, points_earned_window, points_since_tier_change or spend_window");
}
DowngradeMode parse_downgrade_mode(std::string_view s, std::string_view field) {
  return parse_name<DowngradeMode>(s, field, kDowngrade, "never, automatic or every_n_days");
}
EarnKind parse_earn_kind(std::string_view s, std::string_view field) {
  return parse_name<EarnKind>(s, field, kEarn, "spend, referral, survey or event_attended");
}
PointsEntryKind parse_points_entry_kind(std::string_view s, std::string_view field) {
  return parse_name<PointsEntryKind>(s, field, kEntry,
                                     "earn, redeem, reversal, adjustment or spend");
}

// ---- the earning facts ----

const FactSchema& earning_fact_schema() {
  static const FactSchema schema = [] {
    FactSchema s;
    s.add("event.type", FactType::text,
          "purchase, referral, survey_response or event_participation");
    s.add("amount", FactType::number, "the purchase amount in major units");
    s.add("category", FactType::text, "the purchase category");
    s.add("essential", FactType::boolean, "the purchase is of essential goods");
    s.add("item_count", FactType::integer, "items in the purchase");
    s.add("event_name", FactType::text, "the event attended");
    s.add("survey", FactType::text, "the survey answered");
    s.add("tier", FactType::text, "the customer's tier at the event");
    s.add("weekday", FactType::integer, "1 = Monday .. 7 = Sunday (UTC)");
    s.add("month", FactType::integer, "1..12 (UTC)");
    return s;
  }();
  return schema;
}

// ---- exact arithmetic ----

Rate make_rate(const Decimal& d) {
  const Decimal n = d.normalized();
  using A = detail::Int128Access;
  Rate r;
  r.coefficient = (static_cast<PointsU128>(A::high(n.coefficient())) << 64) |
                  static_cast<PointsU128>(A::low(n.coefficient()));
  r.scale = n.scale();
  return r;
}

Points floor_product(PointsU128 a, int a_scale, const Rate* rates, std::size_t n) {
  static const auto pow10 = [] {
    std::vector<PointsU128> p(39);
    p[0] = 1;
    for (std::size_t i = 1; i < p.size(); ++i) p[i] = p[i - 1] * 10;
    return p;
  }();
  PointsU128 num = a;
  int scale = a_scale;
  bool overflow = false;
  for (std::size_t i = 0; i < n && !overflow; ++i) {
    overflow = __builtin_mul_overflow(num, rates[i].coefficient, &num);
    scale += rates[i].scale;
  }
  PointsU128 q = 0;
  if (!overflow && scale <= 38) {
    q = num / pow10[static_cast<std::size_t>(scale)];
  } else {
    // At most 4 factors of 128 bits: 512 bits, so a 1024-bit integer cannot overflow.
    using Big = boost::multiprecision::int1024_t;
    Big x = Big(static_cast<std::uint64_t>(a >> 64)) << 64 | Big(static_cast<std::uint64_t>(a));
    scale = a_scale;
    for (std::size_t i = 0; i < n; ++i) {
      const PointsU128 c = rates[i].coefficient;
      x *= Big(static_cast<std::uint64_t>(c >> 64)) << 64 | Big(static_cast<std::uint64_t>(c));
      scale += rates[i].scale;
    }
    Big d = 1;
    for (int i = 0; i < scale; ++i) d *= 10;
    x /= d;
    if (x > Big(std::numeric_limits<Points>::max()))
      throw_error(ErrorCode::overflow, "points", "the grant does not fit in 64 bits");
    return static_cast<Points>(static_cast<std::int64_t>(x));
  }
  if (q > static_cast<PointsU128>(std::numeric_limits<Points>::max()))
    throw_error(ErrorCode::overflow, "points", "the grant does not fit in 64 bits");
  return static_cast<Points>(q);
}

// ---- validation ----

namespace {

std::string at_key(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}
std::string at_index(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

bool valid_program_name(std::string_view s) {
  if (s.empty() || s.size() > 64 || !(s[0] >= 'a' && s[0] <= 'z')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

void check_range(std::int64_t v, std::int64_t lo, std::int64_t hi, const std::string& field) {
  if (v < lo || v > hi)
    throw_invalid(field, "must be in " + std::to_string(lo) + ".." + std::to_string(hi) +
                             ", got " + std::to_string(v));
}

void check_rate(const Decimal& d, const std::string& field) {
  if (d.is_negative()) throw_invalid(field, "must be >= 0, got " + d.to_string());
}

// Validates and, when `out` is given, compiles.
void check_program(const Program& p, CompiledProgram::Impl* out) {
  if (!valid_program_name(p.name))
    throw_invalid("name", quote_text(p.name) + " is not a valid name ([a-z][a-z0-9_]{0,63})");
  Currency::check_holds_money(p.currency, "currency");
  check_range(p.pending_days, 0, 3650, "pending_days");
  if (p.expiry.mode == ExpiryMode::after_days) {
    check_range(p.expiry.days, 1, 36500, "expiry.days");
  } else if (p.expiry.days != 0) {
    throw_invalid("expiry.days", "only the after_days mode takes days (got " +
                                     std::to_string(p.expiry.days) + ")");
  }
  // Tiers first: the rules' tier multipliers name them.
  const TierPolicy& t = p.tiers;
  for (std::size_t i = 0; i < t.tiers.size(); ++i) {
    const std::string path = at_index("tiers.tiers", i);
    const std::string& name = t.tiers[i].name;
    if (name.empty() || name.size() > 64 || detail::find_invalid_utf8(name) != std::string::npos)
      throw_invalid(at_key(path, "name"), "must be 1 to 64 bytes of UTF-8");
    for (std::size_t j = 0; j < i; ++j)
      if (t.tiers[j].name == name)
        throw_invalid(at_key(path, "name"),
                      quote_text(name) + " is already the name of " + at_index("tiers.tiers", j));
    if (i == 0 && t.tiers[i].threshold != 0)
      throw_invalid(at_key(path, "threshold"),
                    "the first tier's threshold must be 0, got " +
                        std::to_string(t.tiers[i].threshold));
    if (i > 0 && t.tiers[i].threshold <= t.tiers[i - 1].threshold)
      throw_invalid(at_key(path, "threshold"),
                    "must be greater than the previous tier's (" +
                        std::to_string(t.tiers[i - 1].threshold) + "), got " +
                        std::to_string(t.tiers[i].threshold));
  }
  check_range(t.window_days, 1, 36500, "tiers.window_days");
  check_range(t.downgrade_every_days, 1, 36500, "tiers.downgrade_every_days");
  if (!t.tiers.empty() && t.basis == TierBasis::points_since_tier_change &&
      t.downgrade == DowngradeMode::automatic)
    throw_invalid("tiers.downgrade",
                  "automatic cannot be used with the points_since_tier_change basis (the count "
                  "restarts at every change, so the tier would drop right after each upgrade)");

  std::set<std::size_t> facts;
  for (std::size_t i = 0; i < p.rules.size(); ++i) {
    const EarningRule& r = p.rules[i];
    const std::string path = at_index("rules", i);
    if (!valid_program_name(r.name))
      throw_invalid(at_key(path, "name"),
                    quote_text(r.name) + " is not a valid name ([a-z][a-z0-9_]{0,63})");
    for (std::size_t j = 0; j < i; ++j)
      if (p.rules[j].name == r.name)
        throw_invalid(at_key(path, "name"),
                      quote_text(r.name) + " is already the name of " + at_index("rules", j));
    if (static_cast<int>(r.kind) < 0 || static_cast<int>(r.kind) > 3)
      throw_invalid(at_key(path, "kind"), "unknown earning kind");
    const bool spend = r.kind == EarnKind::spend;
    check_rate(r.points_per_unit, at_key(path, "points_per_unit"));
    if (!spend && !r.points_per_unit.is_zero())
      throw_invalid(at_key(path, "points_per_unit"), "only spend rules earn per unit of spend");
    if (r.points < 0)
      throw_invalid(at_key(path, "points"), "must be >= 0, got " + std::to_string(r.points));
    if (spend && r.points != 0)
      throw_invalid(at_key(path, "points"),
                    "spend rules earn per unit of spend (use points_per_unit)");
    if (!spend && !r.category_multipliers.empty())
      throw_invalid(at_key(path, "category_multipliers"),
                    "only spend rules have category multipliers");
    for (const auto& [cat, m] : r.category_multipliers)
      check_rate(m, at_key(at_key(path, "category_multipliers"), cat));
    for (const auto& entry : r.tier_multipliers) {
      // Not a structured binding: clang before 16 cannot capture one in the lambda below.
      const auto& tier = entry.first;
      const auto& m = entry.second;
      const std::string f = at_key(at_key(path, "tier_multipliers"), tier);
      if (std::none_of(t.tiers.begin(), t.tiers.end(),
                       [&](const TierDef& d) { return d.name == tier; }))
        throw_invalid(f, "unknown tier " + quote_text(tier));
      check_rate(m, f);
    }
    if (r.cap_per_period < 0)
      throw_invalid(at_key(path, "cap_per_period"),
                    "must be >= 0, got " + std::to_string(r.cap_per_period));
    Rule compiled;
    if (!r.condition.empty())
      compiled = Rule::compile(r.condition, earning_fact_schema(),
                               RuleOptions{at_key(path, "condition")});
    if (out) {
      CompiledRule c;
      c.index = i;
      c.kind = r.kind;
      c.per_unit = make_rate(r.points_per_unit);
      c.has_condition = !r.condition.empty();
      c.condition = std::move(compiled);
      for (std::size_t k : c.condition.dependencies()) facts.insert(k);
      c.tier_rate.resize(t.tiers.size());
      for (std::size_t k = 0; k < t.tiers.size(); ++k) {
        const auto it = r.tier_multipliers.find(t.tiers[k].name);
        if (it != r.tier_multipliers.end()) c.tier_rate[k] = make_rate(it->second);
        c.any_tier_rate = c.any_tier_rate || !c.tier_rate[k].one();
      }
      c.any_category_rate = !r.category_multipliers.empty();
      out->rules.push_back(std::move(c));
    }
  }
  if (out) {
    out->condition_facts.assign(facts.begin(), facts.end());
    out->currency = Currency::of(p.currency);
    out->spend_entries = !t.tiers.empty() && t.basis == TierBasis::spend_window;
  }
}

}  // namespace

void validate_program(const Program& program) { check_program(program, nullptr); }

CompiledProgram::CompiledProgram(Program program) : program_(std::move(program)) {
  auto impl = std::make_shared<Impl>();
  check_program(program_, impl.get());
  impl_ = std::move(impl);
}

std::shared_ptr<const CompiledProgram> compile_program(const Program& program) {
  return std::make_shared<const CompiledProgram>(program);
}

// ---- JSON ----

namespace {

const char* json_kind(const json& j) {
  switch (j.type()) {
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    case json::value_t::number_float: return "a number";
    case json::value_t::null: return "null";
    default: return "a value";
  }
}

void expect_object(const json& j, const std::string& path) {
  if (!j.is_object())
    throw_invalid(path.empty() ? "program" : path,
                  std::string("expected an object, got ") + json_kind(j));
}

void check_keys(const json& j, const std::string& path,
                std::initializer_list<std::string_view> allowed) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      throw_invalid(at_key(path, it.key()), "unknown key (allowed: " + list + ")");
    }
  }
}

const json* member(const json& j, std::string_view key) {
  const auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

std::string read_string(const json& j, const std::string& path) {
  if (!j.is_string()) throw_invalid(path, std::string("expected a string, got ") + json_kind(j));
  return j.get<std::string>();
}

std::int64_t read_int(const json& j, const std::string& path) {
  if (j.is_number_integer()) return j.get<std::int64_t>();
  if (j.is_number_unsigned()) {
    const auto u = j.get<std::uint64_t>();
    if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return static_cast<std::int64_t>(u);
  }
  throw_invalid(path, std::string("expected an integer, got ") + json_kind(j));
}

int read_small_int(const json& j, const std::string& path) {
  const std::int64_t v = read_int(j, path);
  if (v < -1'000'000'000 || v > 1'000'000'000)
    throw_invalid(path, "out of range, got " + std::to_string(v));
  return static_cast<int>(v);
}

// A decimal: a string ("1.5") or an integer; never a binary floating-point number.
Decimal read_decimal(const json& j, const std::string& path) {
  if (j.is_string()) return Decimal::parse(j.get<std::string>(), path);
  if (j.is_number_integer() || j.is_number_unsigned()) return Decimal::from_int(read_int(j, path));
  throw_invalid(path, std::string("expected a decimal string like \"1.5\", got ") + json_kind(j));
}

std::map<std::string, Decimal> read_multipliers(const json& j, const std::string& path) {
  expect_object(j, path);
  std::map<std::string, Decimal> out;
  for (auto it = j.begin(); it != j.end(); ++it)
    out.emplace(it.key(), read_decimal(it.value(), at_key(path, it.key())));
  return out;
}

EarningRule read_rule(const json& j, const std::string& path) {
  expect_object(j, path);
  check_keys(j, path, {"name", "kind", "points_per_unit", "points", "category_multipliers",
                       "tier_multipliers", "condition", "cap_per_period", "cap_period"});
  EarningRule r;
  const json* v = member(j, "name");
  if (!v) throw_invalid(at_key(path, "name"), "required");
  r.name = read_string(*v, at_key(path, "name"));
  if ((v = member(j, "kind")))
    r.kind = parse_earn_kind(read_string(*v, at_key(path, "kind")), at_key(path, "kind"));
  if ((v = member(j, "points_per_unit")))
    r.points_per_unit = read_decimal(*v, at_key(path, "points_per_unit"));
  if ((v = member(j, "points"))) r.points = read_int(*v, at_key(path, "points"));
  if ((v = member(j, "category_multipliers")))
    r.category_multipliers = read_multipliers(*v, at_key(path, "category_multipliers"));
  if ((v = member(j, "tier_multipliers")))
    r.tier_multipliers = read_multipliers(*v, at_key(path, "tier_multipliers"));
  if ((v = member(j, "condition")) && !v->is_null()) r.condition = v->dump();
  if ((v = member(j, "cap_per_period")))
    r.cap_per_period = read_int(*v, at_key(path, "cap_per_period"));
  if ((v = member(j, "cap_period")))
    r.cap_period =
        parse_period(read_string(*v, at_key(path, "cap_period")), at_key(path, "cap_period"));
  return r;
}

ordered_json decimal_json(const Decimal& d) { return d.normalized().to_string(); }

}  // namespace

Program Program::from_json_text(std::string_view text) {
  const json doc = parse_json_strict(text, "program");
  expect_object(doc, "");
  check_keys(doc, "",
             {"name", "currency", "rules", "pending_days", "expiry", "spend_order", "tiers"});
  Program p;
  const json* v = member(doc, "name");
  if (!v) throw_invalid("name", "required");
  p.name = read_string(*v, "name");
  if (!(v = member(doc, "currency"))) throw_invalid("currency", "required");
  p.currency = read_string(*v, "currency");
  if ((v = member(doc, "rules"))) {
    if (!v->is_array())
      throw_invalid("rules", std::string("expected an array, got ") + json_kind(*v));
    for (std::size_t i = 0; i < v->size(); ++i)
      p.rules.push_back(read_rule((*v)[i], at_index("rules", i)));
  }
  if ((v = member(doc, "pending_days"))) p.pending_days = read_small_int(*v, "pending_days");
  if ((v = member(doc, "expiry"))) {
    expect_object(*v, "expiry");
    check_keys(*v, "expiry", {"mode", "days"});
    if (const json* m = member(*v, "mode"))
      p.expiry.mode = parse_expiry_mode(read_string(*m, "expiry.mode"), "expiry.mode");
    if (const json* d = member(*v, "days")) p.expiry.days = read_small_int(*d, "expiry.days");
  }
  if ((v = member(doc, "spend_order")))
    p.spend_order = parse_spend_order(read_string(*v, "spend_order"), "spend_order");
  if ((v = member(doc, "tiers"))) {
    expect_object(*v, "tiers");
    check_keys(*v, "tiers", {"tiers", "basis", "window_days", "downgrade", "downgrade_every_days"});
    if (const json* list = member(*v, "tiers")) {
      if (!list->is_array())
        throw_invalid("tiers.tiers", std::string("expected an array, got ") + json_kind(*list));
      for (std::size_t i = 0; i < list->size(); ++i) {
        const std::string path = at_index("tiers.tiers", i);
        const json& e = (*list)[i];
        expect_object(e, path);
        check_keys(e, path, {"name", "threshold"});
        TierDef d;
        const json* n = member(e, "name");
        if (!n) throw_invalid(at_key(path, "name"), "required");
        d.name = read_string(*n, at_key(path, "name"));
        const json* th = member(e, "threshold");
        if (!th) throw_invalid(at_key(path, "threshold"), "required");
        d.threshold = read_int(*th, at_key(path, "threshold"));
        p.tiers.tiers.push_back(std::move(d));
      }
    }
    if (const json* b = member(*v, "basis"))
      p.tiers.basis = parse_tier_basis(read_string(*b, "tiers.basis"), "tiers.basis");
    if (const json* w = member(*v, "window_days"))
      p.tiers.window_days = read_small_int(*w, "tiers.window_days");
    if (const json* d = member(*v, "downgrade"))
      p.tiers.downgrade =
          parse_downgrade_mode(read_string(*d, "tiers.downgrade"), "tiers.downgrade");
    if (const json* n = member(*v, "downgrade_every_days"))
      p.tiers.downgrade_every_days = read_small_int(*n, "tiers.downgrade_every_days");
  }
  validate_program(p);
  return p;
}

std::string Program::to_json_text() const {
  ordered_json j;
  j["name"] = name;
  j["currency"] = currency;
  ordered_json rs = ordered_json::array();
  for (const EarningRule& r : rules) {
    ordered_json o;
    o["name"] = r.name;
    o["kind"] = to_string(r.kind);
    if (r.kind == EarnKind::spend) {
      o["points_per_unit"] = decimal_json(r.points_per_unit);
      ordered_json cm = ordered_json::object();
      for (const auto& [k, m] : r.category_multipliers) cm[k] = decimal_json(m);
      o["category_multipliers"] = cm;
    } else {
      o["points"] = r.points;
    }
    ordered_json tm = ordered_json::object();
    for (const auto& [k, m] : r.tier_multipliers) tm[k] = decimal_json(m);
    o["tier_multipliers"] = tm;
    if (!r.condition.empty()) o["condition"] = ordered_json::parse(r.condition);
    o["cap_per_period"] = r.cap_per_period;
    o["cap_period"] = to_string(r.cap_period);
    rs.push_back(std::move(o));
  }
  j["rules"] = std::move(rs);
  j["pending_days"] = pending_days;
  j["expiry"] = {{"mode", to_string(expiry.mode)}, {"days", expiry.days}};
  j["spend_order"] = to_string(spend_order);
  ordered_json ts = ordered_json::array();
  for (const TierDef& d : tiers.tiers) ts.push_back({{"name", d.name}, {"threshold", d.threshold}});
  j["tiers"] = {{"tiers", ts},
                {"basis", to_string(tiers.basis)},
                {"window_days", tiers.window_days},
                {"downgrade", to_string(tiers.downgrade)},
                {"downgrade_every_days", tiers.downgrade_every_days}};
  return j.dump();
}

}  // namespace v0
}  // namespace crmkit
