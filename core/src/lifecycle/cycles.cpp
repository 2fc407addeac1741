// The load-time analysis of automatic cycles (crmkit/lifecycle/machine.hpp, "Automatic cycles").
//
// Each rule is read as a conjunction of simple constraints (intervals on number, integer and date
// facts; values on text and bool facts); operands of other forms are dropped, which can only make
// a cycle look more possible, never less: the analysis is sound (a cycle it accepts cannot run)
// and incomplete (it refuses some cycles that could not run either).
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <string>

#include "base/text.hpp"
#include "crmkit/base/error.hpp"
#include "lifecycle/machine_impl.hpp"

namespace crmkit {
inline namespace v0 {
namespace detail {
namespace {

using nlohmann::json;

struct Interval {
  double lo = -std::numeric_limits<double>::infinity();
  bool lo_strict = false;
  double hi = std::numeric_limits<double>::infinity();
  bool hi_strict = false;

  void at_least(double v, bool strict) {
    if (v > lo || (v == lo && strict)) {
      lo = v;
      lo_strict = strict;
    }
  }
  void at_most(double v, bool strict) {
    if (v < hi || (v == hi && strict)) {
      hi = v;
      hi_strict = strict;
    }
  }
  void meet(const Interval& o) {
    at_least(o.lo, o.lo_strict);
    at_most(o.hi, o.hi_strict);
  }
  bool empty(bool integral) const {
    if (integral) {
      const double l = lo_strict ? std::floor(lo) + 1 : std::ceil(lo);
      const double h = hi_strict ? std::ceil(hi) - 1 : std::floor(hi);
      return l > h;
    }
    return lo > hi || (lo == hi && (lo_strict || hi_strict));
  }
};

// A conjunction of constraints on facts.
struct Constraints {
  std::map<std::string, Interval> numbers;
  std::map<std::string, std::string> text_is;
  std::map<std::string, std::set<std::string>> text_not;
  std::map<std::string, bool> bool_is;
  bool contradiction = false;

  void meet(const Constraints& o) {
    for (const auto& [k, v] : o.numbers) numbers[k].meet(v);
    for (const auto& [k, v] : o.text_is) set_text(k, v);
    for (const auto& [k, v] : o.text_not) text_not[k].insert(v.begin(), v.end());
    for (const auto& [k, v] : o.bool_is) set_bool(k, v);
    contradiction = contradiction || o.contradiction;
  }
  void set_text(const std::string& k, const std::string& v) {
    const auto [it, fresh] = text_is.emplace(k, v);
    if (!fresh && it->second != v) contradiction = true;
  }
  void set_bool(const std::string& k, bool v) {
    const auto [it, fresh] = bool_is.emplace(k, v);
    if (!fresh && it->second != v) contradiction = true;
  }
  bool satisfiable(const FactSchema& schema) const {
    if (contradiction) return false;
    for (const auto& [k, v] : numbers) {
      const auto slot = schema.find(k);
      const bool integral = slot && schema[*slot].type != FactType::number;
      if (v.empty(integral)) return false;
    }
    for (const auto& [k, v] : text_is) {
      const auto it = text_not.find(k);
      if (it != text_not.end() && it->second.count(v)) return false;
    }
    return true;
  }
};

// What one rule says about the declared facts and about the engine facts.
struct RuleConstraints {
  Constraints facts;
  Constraints engine;  // stage, days_in_stage
};

bool is_engine(const std::string& name) { return name == kStageFact || name == kDaysInStageFact; }

// The fact a {"var": "name"} reads; empty for anything else (a default makes it unknown too).
std::string var_of(const json& j) {
  if (j.is_object() && j.size() == 1 && j.begin().key() == "var") {
    const json& v = j.begin().value();
    if (v.is_string()) return v.get<std::string>();
    if (v.is_array() && v.size() == 1 && v[0].is_string()) return v[0].get<std::string>();
  }
  return {};
}

bool is_constant(const json& j) { return j.is_number() || j.is_string() || j.is_boolean(); }

std::string flip(const std::string& op) {
  if (op == "<") return ">";
  if (op == "<=") return ">=";
  if (op == ">") return "<";
  if (op == ">=") return "<=";
  return op;
}

// Adds "fact op constant" if it is of a form the analysis understands.
void add_comparison(const std::string& fact, const std::string& op, const json& c,
                    const FactSchema& schema, RuleConstraints& out) {
  const auto slot = schema.find(fact);
  if (!slot) return;
  Constraints& target = is_engine(fact) ? out.engine : out.facts;
  const FactType type = schema[*slot].type;
  const bool eq = op == "==" || op == "===";
  const bool ne = op == "!=" || op == "!==";
  if (type == FactType::number || type == FactType::integer || type == FactType::date) {
    if (!c.is_number()) return;
    const double v = c.get<double>();
    Interval& iv = target.numbers[fact];
    if (op == "<") iv.at_most(v, true);
    else if (op == "<=") iv.at_most(v, false);
    else if (op == ">") iv.at_least(v, true);
    else if (op == ">=") iv.at_least(v, false);
    else if (eq) {
      iv.at_least(v, false);
      iv.at_most(v, false);
    }
  } else if (type == FactType::text) {
    if (!c.is_string()) return;
    if (eq) target.set_text(fact, c.get<std::string>());
    else if (ne) target.text_not[fact].insert(c.get<std::string>());
  } else if (type == FactType::boolean) {
    if (!c.is_boolean()) return;
    if (eq) target.set_bool(fact, c.get<bool>());
    else if (ne) target.set_bool(fact, !c.get<bool>());
  }
}

void extract(const json& rule, const FactSchema& schema, RuleConstraints& out) {
  if (!rule.is_object() || rule.size() != 1) return;
  const std::string& op = rule.begin().key();
  const json& args = rule.begin().value();
  if (op == "and" && args.is_array()) {
    for (const auto& a : args) extract(a, schema, out);
    return;
  }
  if (op == "var") {
    const std::string f = var_of(rule);
    const auto slot = schema.find(f);
    if (slot && schema[*slot].type == FactType::boolean)
      (is_engine(f) ? out.engine : out.facts).set_bool(f, true);
    return;
  }
  static const std::set<std::string> comparisons{"<", "<=", ">", ">=", "==", "===", "!=", "!=="};
  if (!comparisons.count(op) || !args.is_array()) return;
  if (args.size() == 2) {
    const std::string a = var_of(args[0]);
    const std::string b = var_of(args[1]);
    if (!a.empty() && is_constant(args[1])) add_comparison(a, op, args[1], schema, out);
    else if (!b.empty() && is_constant(args[0])) add_comparison(b, flip(op), args[0], schema, out);
  } else if (args.size() == 3 && (op == "<" || op == "<=")) {
    const std::string f = var_of(args[1]);
    if (!f.empty() && is_constant(args[0]) && is_constant(args[2])) {
      add_comparison(f, flip(op), args[0], schema, out);
      add_comparison(f, op, args[2], schema, out);
    }
  }
}

struct Edge {
  std::int32_t transition;
  std::int32_t from;
  std::int32_t to;
};

}  // namespace

void check_automatic_cycles(const Machine::Impl& m, const std::vector<json>& rules,
                            const FactSchema& schema) {
  const std::size_t n = m.states.size();
  std::vector<RuleConstraints> rc(m.transitions.size());
  for (std::size_t i = 0; i < m.transitions.size(); ++i)
    if (m.transitions[i].automatic()) extract(rules[i], schema, rc[i]);

  // Automatic edges (one per source state of each automatic transition) and what each needs.
  std::vector<std::vector<Edge>> out(n);
  std::map<std::pair<std::int32_t, std::int32_t>, std::pair<bool, bool>> holds;  // (t, from) -> (ever, at day 0)
  for (std::size_t s = 0; s < n; ++s)
    for (auto ti : m.automatic_from[s]) {
      const auto& t = m.transitions[static_cast<std::size_t>(ti)];
      const std::int32_t to = m.index.at(t.to);
      out[s].push_back({ti, static_cast<std::int32_t>(s), to});
      Constraints engine = rc[static_cast<std::size_t>(ti)].engine;
      engine.set_text(std::string(kStageFact), m.states[s].name);
      engine.numbers[std::string(kDaysInStageFact)].at_least(0, false);
      const bool ever = engine.satisfiable(schema) && rc[static_cast<std::size_t>(ti)].facts.satisfiable(schema);
      engine.numbers[std::string(kDaysInStageFact)].at_most(0, false);
      const bool at_zero = ever && engine.satisfiable(schema);
      holds[{ti, static_cast<std::int32_t>(s)}] = {ever, at_zero};
    }

  // Every elementary cycle, each found once from its lowest state (bounded: a machine with more
  // cycles than this is refused, as its cycles cannot all be shown safe).
  constexpr std::size_t kMaxCycles = 100000;
  std::size_t found = 0;
  std::vector<Edge> path;
  std::vector<std::uint8_t> on_path(n, 0);
  const auto check = [&](const std::vector<Edge>& cycle) {
    if (++found > kMaxCycles)
      throw_invalid("transitions", "more than " + std::to_string(kMaxCycles) +
                                       " automatic cycles: too many to analyse");
    Constraints facts;
    int not_at_zero = 0;
    bool never = false;
    for (const auto& e : cycle) {
      facts.meet(rc[static_cast<std::size_t>(e.transition)].facts);
      const auto h = holds.at({e.transition, e.from});
      if (!h.first) never = true;
      if (!h.second) ++not_at_zero;
    }
    if (never || not_at_zero >= 2 || !facts.satisfiable(schema)) return;
    std::int32_t last = 0;
    std::string states = m.states[static_cast<std::size_t>(cycle.front().from)].name;
    std::string names;
    for (const auto& e : cycle) {
      last = std::max(last, e.transition);
      states += " -> " + m.states[static_cast<std::size_t>(e.to)].name;
      if (!names.empty()) names += ", ";
      names += quote_text(m.transitions[static_cast<std::size_t>(e.transition)].name);
    }
    throw_invalid("transitions[" + std::to_string(last) + "].when",
                  "automatic cycle " + states + " (transitions " + names +
                      "): their conditions are not provably exclusive, so one evaluation could "
                      "go round it (make two of them exclusive by bounds on one fact, or make "
                      "one manual)");
  };
  for (std::size_t start = 0; start < n; ++start) {
    // Iterative DFS over states above `start`.
    std::vector<std::size_t> next_edge{0};
    std::vector<std::int32_t> stack{static_cast<std::int32_t>(start)};
    on_path[start] = 1;
    while (!stack.empty()) {
      const auto v = static_cast<std::size_t>(stack.back());
      auto& k = next_edge.back();
      if (k == out[v].size()) {
        on_path[v] = 0;
        stack.pop_back();
        next_edge.pop_back();
        if (!path.empty()) path.pop_back();
        continue;
      }
      const Edge e = out[v][k++];
      const auto w = static_cast<std::size_t>(e.to);
      if (w == start) {
        path.push_back(e);
        check(path);
        path.pop_back();
      } else if (w > start && !on_path[w]) {
        path.push_back(e);
        on_path[w] = 1;
        stack.push_back(e.to);
        next_edge.push_back(0);
      }
    }
  }
}

}  // namespace detail
}  // namespace v0
}  // namespace crmkit
