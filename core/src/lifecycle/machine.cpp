// Machine: loading and validation of the JSON form, manual checks, automatic evaluation
// (crmkit/lifecycle/machine.hpp). The automatic-cycle analysis lives in cycles.cpp.
#include "crmkit/lifecycle/machine.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <deque>
#include <exception>
#include <set>
#include <thread>
#include <string>
#include <unordered_map>
#include <utility>

#include "base/text.hpp"
#include "crmkit/base/error.hpp"
#include "crmkit/base/json.hpp"
#include "lifecycle/machine_impl.hpp"

namespace crmkit {
inline namespace v0 {

using detail::quote_text;
using nlohmann::json;

namespace {

std::string at_key(const std::string& path, std::string_view key) {
  if (path.empty()) return std::string(key);
  return path + "." + std::string(key);
}
std::string at_index(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

const char* json_kind(const json& j) {
  switch (j.type()) {
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "a number";
    case json::value_t::null: return "null";
    default: return "a value";
  }
}

void expect_object(const json& j, const std::string& path) {
  if (!j.is_object()) throw_invalid(path, std::string("expected an object, got ") + json_kind(j));
}

// Refuses keys outside `allowed`, naming the first in document order.
void check_keys(const json& j, const std::string& path, std::initializer_list<std::string_view> allowed) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
      std::string list;
      for (auto a : allowed) {
        if (!list.empty()) list += ", ";
        list += a;
      }
      throw_invalid(at_key(path, it.key()), "unknown key (allowed: " + list + ")");
    }
  }
}

std::string read_string(const json& j, const std::string& path) {
  if (!j.is_string()) throw_invalid(path, std::string("expected a string, got ") + json_kind(j));
  const auto& s = j.get_ref<const std::string&>();
  if (detail::find_invalid_utf8(s) != std::string::npos) throw_invalid(path, "invalid UTF-8");
  return s;
}

bool read_bool(const json& j, const std::string& path) {
  if (!j.is_boolean()) throw_invalid(path, std::string("expected true or false, got ") + json_kind(j));
  return j.get<bool>();
}

// Names of machines, states and transitions: 1..64 ASCII letters, digits and '_'.
std::string read_name(const json& j, const std::string& path) {
  std::string s = read_string(j, path);
  bool ok = !s.empty() && s.size() <= 64;
  for (char c : s)
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_');
  if (!ok)
    throw_invalid(path, quote_text(s) + " is not a valid name (1 to 64 ASCII letters, digits or '_')");
  return s;
}

// Replaces every {"param": "name"} in a rule by the parameter's value.
json substitute_params(const json& j, const std::string& path,
                       const std::map<std::string, double, std::less<>>& params) {
  if (j.is_object()) {
    if (j.size() == 1 && j.begin().key() == "param") {
      const std::string p = at_key(path, "param");
      const std::string name = read_string(j.begin().value(), p);
      const auto it = params.find(name);
      if (it == params.end())
        throw_invalid(p, "unknown parameter " + quote_text(name) +
                             " (declare it under \"parameters\")");
      const double v = it->second;
      if (v == std::floor(v) && std::fabs(v) < 9.0e15) return json(static_cast<std::int64_t>(v));
      return json(v);
    }
    json out = json::object();
    for (auto it = j.begin(); it != j.end(); ++it)
      out[it.key()] = substitute_params(it.value(), at_key(path, it.key()), params);
    return out;
  }
  if (j.is_array()) {
    json out = json::array();
    for (std::size_t i = 0; i < j.size(); ++i)
      out.push_back(substitute_params(j[i], at_index(path, i), params));
    return out;
  }
  return j;
}

// Every {"var": name} (or {"var": [name, ...]}) a rule reads.
void collect_vars(const json& j, std::set<std::string>& out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() == "var") {
        const json& v = it.value();
        if (v.is_string()) out.insert(v.get<std::string>());
        else if (v.is_array() && !v.empty() && v[0].is_string()) out.insert(v[0].get<std::string>());
      }
      collect_vars(it.value(), out);
    }
  } else if (j.is_array()) {
    for (const auto& e : j) collect_vars(e, out);
  }
}

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

}  // namespace

// ---- loading ----

Machine Machine::from_json_text(std::string_view text, const FactSchema& facts,
                                const MachineOptions& options) {
  const json doc = parse_json_strict(text, "machine");
  auto m = std::make_unique<Impl>();
  expect_object(doc, "machine");
  check_keys(doc, "", {"name", "description", "parameters", "states", "transitions"});

  for (std::string_view engine : {kStageFact, kDaysInStageFact})
    if (facts.find(engine))
      throw_invalid("facts", "the schema declares " + quote_text(engine) +
                                 ", which the lifecycle engine provides itself");

  if (!doc.contains("name")) throw_invalid("name", "is required");
  m->name = read_name(doc["name"], "name");
  if (doc.contains("description")) m->description = read_string(doc["description"], "description");

  // Parameters: declared numbers, then the caller's overrides.
  if (doc.contains("parameters")) {
    const json& p = doc["parameters"];
    expect_object(p, "parameters");
    for (auto it = p.begin(); it != p.end(); ++it) {
      const std::string path = at_key("parameters", it.key());
      if (!it.value().is_number())
        throw_invalid(path, std::string("expected a number, got ") + json_kind(it.value()));
      m->parameters[it.key()] = it.value().get<double>();
    }
  }
  for (const auto& [name, value] : options.parameters) {
    const auto it = m->parameters.find(name);
    if (it == m->parameters.end())
      throw_invalid("parameters." + name, "machine " + quote_text(m->name) +
                                              " declares no such parameter");
    if (!std::isfinite(value)) throw_invalid("parameters." + name, "must be a finite number");
    it->second = value;
  }

  // States.
  if (!doc.contains("states")) throw_invalid("states", "is required");
  const json& states = doc["states"];
  if (!states.is_array() || states.empty())
    throw_invalid("states", "expected a non-empty array of states");
  int initial = -1;
  for (std::size_t i = 0; i < states.size(); ++i) {
    const std::string path = at_index("states", i);
    const json& s = states[i];
    expect_object(s, path);
    check_keys(s, path, {"name", "order", "initial", "active", "terminal", "description",
                         "playbook", "probability"});
    StateDef d;
    if (!s.contains("name")) throw_invalid(at_key(path, "name"), "is required");
    d.name = read_name(s["name"], at_key(path, "name"));
    if (const auto it = m->index.find(d.name); it != m->index.end())
      throw_invalid(at_key(path, "name"), "duplicate state " + quote_text(d.name) + " (states[" +
                                              std::to_string(it->second) + "])");
    d.order = static_cast<std::int32_t>(i);
    if (s.contains("order")) {
      const json& o = s["order"];
      if (!o.is_number_integer() || o.get<std::int64_t>() < INT32_MIN || o.get<std::int64_t>() > INT32_MAX)
        throw_invalid(at_key(path, "order"), "expected an integer");
      d.order = static_cast<std::int32_t>(o.get<std::int64_t>());
    }
    if (s.contains("initial")) d.initial = read_bool(s["initial"], at_key(path, "initial"));
    if (s.contains("active")) d.active = read_bool(s["active"], at_key(path, "active"));
    if (s.contains("terminal")) d.terminal = read_bool(s["terminal"], at_key(path, "terminal"));
    if (s.contains("description"))
      d.description = read_string(s["description"], at_key(path, "description"));
    if (s.contains("playbook")) {
      const json& pb = s["playbook"];
      const std::string pp = at_key(path, "playbook");
      if (!pb.is_array()) throw_invalid(pp, std::string("expected an array of strings, got ") + json_kind(pb));
      for (std::size_t k = 0; k < pb.size(); ++k) d.playbook.push_back(read_string(pb[k], at_index(pp, k)));
    }
    if (s.contains("probability")) {
      const json& pr = s["probability"];
      const std::string pp = at_key(path, "probability");
      if (!pr.is_number() || !(pr.get<double>() >= 0.0 && pr.get<double>() <= 1.0))
        throw_invalid(pp, "expected a number from 0 to 1");
      d.probability = pr.get<double>();
    }
    if (d.initial) {
      if (initial >= 0)
        throw_invalid(at_key(path, "initial"),
                      quote_text(d.name) + " is a second initial state (" +
                          quote_text(m->states[static_cast<std::size_t>(initial)].name) +
                          " is initial)");
      if (d.terminal) throw_invalid(at_key(path, "terminal"), "the initial state cannot be terminal");
      initial = static_cast<int>(i);
    }
    m->index.emplace(d.name, static_cast<std::int32_t>(i));
    m->states.push_back(std::move(d));
  }
  if (initial < 0) throw_invalid("states", "no state is initial (exactly one must be)");
  m->initial = initial;
  const std::size_t n_states = m->states.size();

  // The schema the rules are checked against: the declared facts and the engine facts.
  FactSchema full = facts;
  full.add(std::string(kStageFact), FactType::text, "the current state of the machine");
  full.add(std::string(kDaysInStageFact), FactType::integer, "whole days in the current state");

  // Transitions.
  if (!doc.contains("transitions")) throw_invalid("transitions", "is required");
  const json& trans = doc["transitions"];
  if (!trans.is_array()) throw_invalid("transitions", std::string("expected an array, got ") + json_kind(trans));
  std::map<std::string, std::size_t, std::less<>> tnames;
  std::vector<json> rules(trans.size());
  std::set<std::string> vars;
  for (std::size_t i = 0; i < trans.size(); ++i) {
    const std::string path = at_index("transitions", i);
    const json& t = trans[i];
    expect_object(t, path);
    check_keys(t, path, {"name", "from", "to", "when", "manual", "reason_required", "description"});
    TransitionDef d;
    d.index = i;
    if (!t.contains("name")) throw_invalid(at_key(path, "name"), "is required");
    d.name = read_name(t["name"], at_key(path, "name"));
    if (const auto it = tnames.find(d.name); it != tnames.end())
      throw_invalid(at_key(path, "name"), "duplicate transition name " + quote_text(d.name) +
                                              " (transitions[" + std::to_string(it->second) + "])");
    tnames.emplace(d.name, i);
    if (!t.contains("to")) throw_invalid(at_key(path, "to"), "is required");
    d.to = read_string(t["to"], at_key(path, "to"));
    if (!m->index.count(d.to)) throw_invalid(at_key(path, "to"), "unknown state " + quote_text(d.to));
    if (!t.contains("from")) throw_invalid(at_key(path, "from"), "is required");
    const json& from = t["from"];
    const std::string fpath = at_key(path, "from");
    const auto add_from = [&](const std::string& name, const std::string& p) {
      const auto it = m->index.find(name);
      if (it == m->index.end()) throw_invalid(p, "unknown state " + quote_text(name));
      if (m->states[static_cast<std::size_t>(it->second)].terminal)
        throw_invalid(p, "state " + quote_text(name) + " is terminal: no transition may leave it");
      if (std::find(d.from.begin(), d.from.end(), name) != d.from.end())
        throw_invalid(p, "state " + quote_text(name) + " is listed twice");
      d.from.push_back(name);
    };
    if (from.is_string() && from.get<std::string>() == "*") {
      d.from_any = true;
      for (const auto& s : m->states)
        if (!s.terminal && s.name != d.to) d.from.push_back(s.name);
    } else if (from.is_string()) {
      add_from(read_string(from, fpath), fpath);
    } else if (from.is_array() && !from.empty()) {
      for (std::size_t k = 0; k < from.size(); ++k)
        add_from(read_string(from[k], at_index(fpath, k)), at_index(fpath, k));
    } else {
      throw_invalid(fpath, "expected a state name, a non-empty array of state names or \"*\"");
    }
    if (t.contains("manual")) d.manual = read_bool(t["manual"], at_key(path, "manual"));
    if (t.contains("reason_required"))
      d.reason_required = read_bool(t["reason_required"], at_key(path, "reason_required"));
    if (t.contains("description"))
      d.description = read_string(t["description"], at_key(path, "description"));
    if (d.reason_required && !d.manual)
      throw_invalid(at_key(path, "reason_required"), "only a manual transition takes a reason");
    if (t.contains("when")) {
      const std::string wpath = at_key(path, "when");
      json rule = substitute_params(t["when"], wpath, m->parameters);
      // Checked now against every declared fact (error paths); compiled again below against
      // the facts actually used.
      detail::CompiledRule check(rule, full, wpath);
      collect_vars(rule, vars);
      d.when = rule.dump();
      rules[i] = std::move(rule);
      if (!d.from_any && std::find(d.from.begin(), d.from.end(), d.to) != d.from.end())
        throw_invalid(at_key(path, "to"), "an automatic transition may not lead back to its own state " +
                                              quote_text(d.to));
    } else if (!d.manual) {
      throw_invalid(path, "a transition needs a \"when\" rule or \"manual\": true");
    }
    m->transitions.push_back(std::move(d));
  }

  // Reachability from the initial state, through any transition.
  std::vector<std::vector<std::int32_t>> next(n_states);
  for (const auto& t : m->transitions)
    for (const auto& f : t.from) next[static_cast<std::size_t>(m->index.at(f))].push_back(m->index.at(t.to));
  {
    std::vector<std::uint8_t> seen(n_states, 0);
    std::deque<std::int32_t> todo{m->initial};
    seen[static_cast<std::size_t>(m->initial)] = 1;
    while (!todo.empty()) {
      const auto s = todo.front();
      todo.pop_front();
      for (auto n : next[static_cast<std::size_t>(s)])
        if (!seen[static_cast<std::size_t>(n)]) {
          seen[static_cast<std::size_t>(n)] = 1;
          todo.push_back(n);
        }
    }
    for (std::size_t i = 0; i < n_states; ++i)
      if (!seen[i])
        throw_invalid(at_index("states", i), "state " + quote_text(m->states[i].name) +
                                                 " cannot be reached from the initial state " +
                                                 quote_text(m->states[static_cast<std::size_t>(m->initial)].name));
  }
  if (options.strict) {
    for (std::size_t i = 0; i < n_states; ++i)
      if (!m->states[i].terminal && next[i].empty())
        throw_invalid(at_index("states", i), "non-terminal state " + quote_text(m->states[i].name) +
                                                 " has no transition out (mark it terminal or add one)");
  }

  // Automatic transitions per source state, in declared order.
  m->automatic_from.assign(n_states, {});
  for (const auto& t : m->transitions)
    if (t.automatic())
      for (const auto& f : t.from)
        m->automatic_from[static_cast<std::size_t>(m->index.at(f))].push_back(static_cast<std::int32_t>(t.index));

  detail::check_automatic_cycles(*m, rules, full);

  // The compact schema: the declared facts the rules read (schema order), then the engine facts.
  for (const auto& f : facts.facts())
    if (vars.count(f.name)) {
      m->used.push_back(f.name);
      m->compact.add(f.name, f.type, f.description);
    }
  m->uses_stage = vars.count(std::string(kStageFact)) > 0;
  m->uses_days = vars.count(std::string(kDaysInStageFact)) > 0;
  m->stage_slot = m->compact.add(std::string(kStageFact), FactType::text);
  m->days_slot = m->compact.add(std::string(kDaysInStageFact), FactType::integer);
  m->rules.resize(m->transitions.size());
  for (std::size_t i = 0; i < rules.size(); ++i)
    if (m->transitions[i].automatic())
      m->rules[i] = std::make_shared<const detail::CompiledRule>(
          rules[i], m->compact, at_key(at_index("transitions", i), "when"));
  return Machine(std::move(m));
}

// ---- value semantics ----

Machine::Machine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Machine::Machine(const Machine& o) : impl_(std::make_unique<Impl>(*o.impl_)) {}
Machine::Machine(Machine&&) noexcept = default;
Machine& Machine::operator=(const Machine& o) {
  if (this != &o) impl_ = std::make_unique<Impl>(*o.impl_);
  return *this;
}
Machine& Machine::operator=(Machine&&) noexcept = default;
Machine::~Machine() = default;

const std::string& Machine::name() const noexcept { return impl_->name; }
const std::string& Machine::description() const noexcept { return impl_->description; }
const std::map<std::string, double, std::less<>>& Machine::parameters() const noexcept {
  return impl_->parameters;
}
const std::string& Machine::initial_state() const noexcept {
  return impl_->states[static_cast<std::size_t>(impl_->initial)].name;
}
bool Machine::has_state(std::string_view name) const noexcept { return impl_->index.count(name) > 0; }
std::int32_t Machine::state_index(std::string_view name) const {
  const auto it = impl_->index.find(name);
  if (it == impl_->index.end())
    throw_error(ErrorCode::not_found, "machine " + quote_text(impl_->name), "unknown state " + quote_text(name));
  return it->second;
}
const StateDef& Machine::state(std::string_view name) const {
  return impl_->states[static_cast<std::size_t>(state_index(name))];
}
const std::vector<StateDef>& Machine::states() const noexcept { return impl_->states; }
const std::vector<TransitionDef>& Machine::transitions() const noexcept { return impl_->transitions; }
std::vector<std::string> Machine::facts_used() const { return impl_->used; }
bool Machine::uses_stage() const noexcept { return impl_->uses_stage; }
bool Machine::uses_days_in_stage() const noexcept { return impl_->uses_days; }

// ---- manual moves ----

const TransitionDef& Machine::check_manual(std::string_view from, std::string_view to,
                                           std::string_view reason) const {
  state_index(from);
  state_index(to);
  const std::string where = "machine " + quote_text(impl_->name);
  const std::string move = "from " + quote_text(from) + " to " + quote_text(to) + ": ";
  const TransitionDef* automatic_only = nullptr;
  const TransitionDef* needs_reason = nullptr;
  for (const auto& t : impl_->transitions) {
    if (t.to != to || std::find(t.from.begin(), t.from.end(), from) == t.from.end()) continue;
    if (!t.manual) {
      if (!automatic_only) automatic_only = &t;
      continue;
    }
    if (t.reason_required && blank(reason)) {
      if (!needs_reason) needs_reason = &t;
      continue;
    }
    return t;
  }
  if (needs_reason)
    throw_error(ErrorCode::invalid_transition, where,
                move + "transition " + quote_text(needs_reason->name) + " requires a reason");
  if (automatic_only)
    throw_error(ErrorCode::invalid_transition, where,
                move + "transition " + quote_text(automatic_only->name) + " is automatic only");
  throw_error(ErrorCode::invalid_transition, where, move + "no such transition");
}

// ---- automatic evaluation ----

namespace {

void copy_cell(const FactTable& src, std::size_t s, std::size_t srow, FactTable& dst, std::size_t d,
               std::size_t drow) {
  if (!src.is_present(srow, s)) return;
  switch (src.schema()[s].type) {
    case FactType::number: dst.set_number(drow, d, src.numbers(s)[srow]); break;
    case FactType::integer: dst.set_integer(drow, d, src.integers(s)[srow]); break;
    case FactType::date: dst.set_date(drow, d, src.integers(s)[srow]); break;
    case FactType::boolean: dst.set_boolean(drow, d, src.booleans(s)[srow] != 0); break;
    case FactType::text: dst.set_text(drow, d, src.texts(s)[srow]); break;
    case FactType::text_list: dst.set_text_list(drow, d, src.text_lists(s)[srow]); break;
  }
}

void copy_column(const FactTable& src, std::size_t s, FactTable& dst, std::size_t d) {
  const auto copy = [](auto from, auto to) { std::copy(from.begin(), from.end(), to.begin()); };
  switch (src.schema()[s].type) {
    case FactType::number: copy(src.numbers(s), dst.numbers(d)); break;
    case FactType::integer:
    case FactType::date: copy(src.integers(s), dst.integers(d)); break;
    case FactType::boolean: copy(src.booleans(s), dst.booleans(d)); break;
    case FactType::text: copy(src.texts(s), dst.texts(d)); break;
    case FactType::text_list: copy(src.text_lists(s), dst.text_lists(d)); break;
  }
  copy(src.present(s), dst.present(d));
}


// Rows per block of the fixed-facts evaluation: the rule results of one block stay in cache.
constexpr std::size_t kEvalBlock = 16384;
// Below this many rows per worker a thread costs more than it saves.
constexpr std::size_t kRowsPerThread = 65536;

// True when evaluate_fixed_facts applies: no rule reads `stage` or `days_in_stage`, at most 64
// states, at most 12 automatic transitions and a table of walks (states x 2^transitions entries)
// of at most 65536 entries and not larger than the input (at least 4096 always). Other machines
// take the grouped path of evaluate_columns.
bool fixed_facts_table_applies(const Machine::Impl& m, std::size_t rows) {
  if (m.uses_stage || m.uses_days || m.states.size() > 64) return false;
  std::size_t k = 0;
  for (const auto& r : m.rules) k += r ? 1 : 0;
  if (k > 12) return false;
  const std::size_t entries = m.states.size() << k;
  return entries <= (std::size_t{1} << 16) && entries <= std::max<std::size_t>(rows, 4096);
}

// Automatic evaluation when no rule reads `stage` or `days_in_stage` (fixed_facts_table_applies):
// every rule's result per row is then fixed for the whole evaluation, so a row's moves depend
// only on its state and on which rules hold for it. The walk from every state under every
// combination of rule results is worked out once (a table); the rules are evaluated a block of
// rows at a time (reading the caller's table in place when its used facts sit at the slots the
// rules were compiled against, as the Python binding builds it; else a copy of those columns),
// and each row's moves are its table entry, in row order (no grouping, no sorting). Large inputs
// are split into one contiguous row range per worker; pass 1 finds each row's entry and counts
// each range's moves, pass 2 writes the states and moves at each range's offset, so the result
// does not depend on the number of workers.

MachineColumnResult evaluate_fixed_facts(const Machine::Impl& m, std::span<const std::int32_t> states,
                                         const FactTable& facts, const std::vector<std::size_t>& slots) {
  const std::size_t n = facts.rows();
  const FactTable* src = &facts;
  FactTable copy;
  bool in_place = true;
  for (std::size_t i = 0; i < slots.size(); ++i) in_place = in_place && slots[i] == i;
  if (!in_place) {
    FactSchema schema;
    for (std::size_t i = 0; i < slots.size(); ++i) schema.add(m.compact[i].name, m.compact[i].type);
    copy = FactTable(schema, n);
    for (std::size_t i = 0; i < slots.size(); ++i) copy_column(facts, slots[i], copy, i);
    src = &copy;
  }
  // The automatic transitions (those with a rule), numbered 0..k-1 for the result blocks.
  std::vector<std::int32_t> mask_of(m.transitions.size(), -1);
  std::vector<std::size_t> auto_rules;
  std::vector<std::int32_t> target(m.transitions.size(), -1);
  for (std::size_t ti = 0; ti < m.transitions.size(); ++ti) {
    target[ti] = m.index.at(m.transitions[ti].to);
    if (m.rules[ti]) {
      mask_of[ti] = static_cast<std::int32_t>(auto_rules.size());
      auto_rules.push_back(ti);
    }
  }
  MachineColumnResult out;
  out.states.resize(n);
  const std::size_t k = auto_rules.size();
  struct Outcome {
    std::int32_t final_state = 0;
    std::uint32_t first = 0;  // its moves: steps[first, first + count)
    std::uint32_t count = 0;
    bool cycle = false;
  };
  std::vector<Outcome> outcomes;
  std::vector<std::uint32_t> from_bits(m.states.size(), 0);
  std::vector<MachineColumnResult::Change> steps;
  {
    for (std::size_t st = 0; st < m.states.size(); ++st)
      for (const auto ti : m.automatic_from[st])
        from_bits[st] |= std::uint32_t{1} << mask_of[static_cast<std::size_t>(ti)];
    outcomes.resize(m.states.size() << k);
    for (std::size_t st = 0; st < m.states.size(); ++st)
      for (std::uint32_t held = 0; held < (std::uint32_t{1} << k); ++held) {
        Outcome& o = outcomes[(st << k) | held];
        o.first = static_cast<std::uint32_t>(steps.size());
        auto cur = static_cast<std::int32_t>(st);
        std::uint64_t seen = std::uint64_t{1} << st;
        for (;;) {
          const std::uint32_t allowed = held & from_bits[static_cast<std::size_t>(cur)];
          if (!allowed) break;
          const std::size_t ti = auto_rules[static_cast<std::size_t>(std::countr_zero(allowed))];
          const std::int32_t to = target[ti];
          if ((seen >> to) & 1U) {
            o.cycle = true;
            break;
          }
          seen |= std::uint64_t{1} << to;
          steps.push_back({0, cur, to, static_cast<std::int32_t>(ti)});
          cur = to;
        }
        o.final_state = cur;
        o.count = static_cast<std::uint32_t>(steps.size()) - o.first;
      }
  }

  const std::size_t hw = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t workers = std::max<std::size_t>(1, std::min(hw, n / kRowsPerThread));
  const auto range = [&](std::size_t w) { return std::pair{n * w / workers, n * (w + 1) / workers}; };
  // Runs body(w) for every worker w (w = 0 on this thread); rethrows the error of the first range
  // that failed: the first row (in row order) whose evaluation failed, for any worker count.
  const auto run_workers = [&](const auto& body) {
    std::vector<std::exception_ptr> errors(workers);
    const auto guarded = [&](std::size_t w) {
      try {
        body(w);
      } catch (...) {
        errors[w] = std::current_exception();
      }
    };
    std::vector<std::thread> pool;
    pool.reserve(workers - 1);
    for (std::size_t w = 1; w < workers; ++w) pool.emplace_back(guarded, w);
    guarded(0);
    for (auto& th : pool) th.join();
    for (const auto& e : errors)
      if (e) std::rethrow_exception(e);
  };

  {
    // Pass 1: per row, its table entry (state and which rules hold) and per range the number of
    // moves. Pass 2: the new states and the moves, written in place at each range's offset.
    std::vector<std::uint16_t> entry(n);
    std::vector<std::size_t> counts(workers + 1, 0);
    run_workers([&](std::size_t w) {
      const auto [begin, end] = range(w);
      const std::size_t cap = std::min(kEvalBlock, std::max<std::size_t>(end - begin, 1));
      std::vector<std::uint8_t> masks(k * cap);
      std::vector<std::uint16_t> bits(cap);
      std::vector<std::int32_t> path_states, path_transitions;
      std::size_t count = 0;
      for (std::size_t b = begin; b < end; b += kEvalBlock) {
        const std::size_t len = std::min(kEvalBlock, end - b);
        for (std::size_t j = 0; j < k; ++j)
          m.rules[auto_rules[j]]->holds_rows(*src, b, std::span<std::uint8_t>(masks.data() + j * len, len));
        std::fill(bits.begin(), bits.begin() + static_cast<std::ptrdiff_t>(len), std::uint16_t{0});
        for (std::size_t j = 0; j < k; ++j) {
          const std::uint8_t* mj = masks.data() + j * len;
          for (std::size_t i = 0; i < len; ++i) bits[i] = static_cast<std::uint16_t>(bits[i] | (mj[i] << j));
        }
        for (std::size_t i = 0; i < len; ++i) {
          const std::size_t r = b + i;
          const std::size_t e = (static_cast<std::size_t>(states[r]) << k) | bits[i];
          const Outcome& o = outcomes[e];
          if (o.cycle) {
            // Walk again to name the cycle (the table only marks it).
            std::int32_t cur = states[r];
            path_states.assign(1, cur);
            path_transitions.clear();
            for (;;) {
              const std::uint32_t allowed = bits[i] & from_bits[static_cast<std::size_t>(cur)];
              const std::size_t ti = auto_rules[static_cast<std::size_t>(std::countr_zero(allowed))];
              cur = target[ti];
              path_transitions.push_back(static_cast<std::int32_t>(ti));
              const bool again = std::find(path_states.begin(), path_states.end(), cur) != path_states.end();
              path_states.push_back(cur);
              if (again) break;
            }
            m.throw_cycle(path_states, path_transitions, "row " + std::to_string(r) + ": ");
          }
          entry[r] = static_cast<std::uint16_t>(e);
          count += o.count;
        }
      }
      counts[w + 1] = count;
    });
    for (std::size_t w = 0; w < workers; ++w) counts[w + 1] += counts[w];
    out.changes.resize(counts[workers]);
    run_workers([&](std::size_t w) {
      const auto [begin, end] = range(w);
      MachineColumnResult::Change* next = out.changes.data() + counts[w];
      for (std::size_t r = begin; r < end; ++r) {
        const Outcome& o = outcomes[entry[r]];
        out.states[r] = o.final_state;
        for (std::uint32_t c = o.first; c < o.first + o.count; ++c)
          *next++ = {r, steps[c].from, steps[c].to, steps[c].transition};
      }
    });
    return out;
  }

  return out;
}

}  // namespace

// The slot in `facts` of each used fact, checked by name and type.
std::vector<std::size_t> Machine::Impl::source_slots(const FactTable& facts) const {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < used.size(); ++i) {
    const auto slot = facts.schema().find(used[i]);
    if (!slot)
      throw_invalid("facts", "machine " + quote_text(name) + " reads the fact " + quote_text(used[i]) +
                                 ", which the table does not hold");
    const FactType have = facts.schema()[*slot].type;
    if (have != compact[i].type)
      throw_invalid("facts", "the fact " + quote_text(used[i]) + " is " + to_string(have) +
                                 " in the table; machine " + quote_text(name) + " reads it as " +
                                 to_string(compact[i].type));
    out.push_back(*slot);
  }
  return out;
}

[[noreturn]] void Machine::Impl::throw_cycle(const std::vector<std::int32_t>& path_states,
                                              const std::vector<std::int32_t>& path_transitions,
                                              std::string_view where) const {
  std::string cycle;
  for (auto s : path_states) {
    if (!cycle.empty()) cycle += " -> ";
    cycle += states[static_cast<std::size_t>(s)].name;
  }
  std::string ts;
  for (auto t : path_transitions) {
    if (!ts.empty()) ts += ", ";
    ts += quote_text(transitions[static_cast<std::size_t>(t)].name);
  }
  throw_error(ErrorCode::invalid_transition, "machine " + quote_text(name),
              std::string(where) + "automatic cycle " + cycle + " (transitions " + ts + ")");
}

std::vector<MachineStep> Machine::evaluate(std::string_view state, std::int64_t days_in_stage,
                                           const FactTable& facts, std::size_t row) const {
  const Impl& m = *impl_;
  std::int32_t cur = state_index(state);
  if (row >= facts.rows())
    throw_error(ErrorCode::not_found, "facts", "row " + std::to_string(row) + " is out of range (" +
                                                   std::to_string(facts.rows()) + " rows)");
  const auto slots = m.source_slots(facts);
  FactTable t(m.compact, 1);
  for (std::size_t i = 0; i < slots.size(); ++i) copy_cell(facts, slots[i], row, t, i, 0);
  t.set_text(0, m.stage_slot, m.states[static_cast<std::size_t>(cur)].name);
  t.set_integer(0, m.days_slot, days_in_stage);
  std::vector<MachineStep> steps;
  std::vector<std::int32_t> visited{cur};
  std::vector<std::int32_t> taken;
  for (;;) {
    std::int32_t fired = -1;
    for (auto ti : m.automatic_from[static_cast<std::size_t>(cur)])
      if (m.rules[static_cast<std::size_t>(ti)]->holds(t, 0)) {
        fired = ti;
        break;
      }
    if (fired < 0) break;
    const auto& tr = m.transitions[static_cast<std::size_t>(fired)];
    const std::int32_t to = m.index.at(tr.to);
    taken.push_back(fired);
    visited.push_back(to);
    if (std::count(visited.begin(), visited.end(), to) > 1) m.throw_cycle(visited, taken, "");
    steps.push_back({m.states[static_cast<std::size_t>(cur)].name, tr.to, tr.name});
    cur = to;
    t.set_text(0, m.stage_slot, tr.to);
    t.set_integer(0, m.days_slot, 0);
  }
  return steps;
}

MachineColumnResult Machine::evaluate_columns(std::span<const std::int32_t> states,
                                              std::span<const std::int64_t> days_in_stage,
                                              const FactTable& facts) const {
  const Impl& m = *impl_;
  const std::size_t n = facts.rows();
  if (states.size() != n || days_in_stage.size() != n)
    throw_invalid("states", "states (" + std::to_string(states.size()) + ") and days_in_stage (" +
                                std::to_string(days_in_stage.size()) + ") must have one entry per fact row (" +
                                std::to_string(n) + ")");
  const auto n_states = static_cast<std::int32_t>(m.states.size());
  for (std::size_t r = 0; r < n; ++r)
    if (states[r] < 0 || states[r] >= n_states)
      throw_invalid("states", "row " + std::to_string(r) + ": state index " + std::to_string(states[r]) +
                                  " is out of range (" + std::to_string(n_states) + " states)");
  const auto slots = m.source_slots(facts);
  if (fixed_facts_table_applies(m, n)) return evaluate_fixed_facts(m, states, facts, slots);
  FactTable t(m.compact, n);
  for (std::size_t i = 0; i < slots.size(); ++i) copy_column(facts, slots[i], t, i);
  if (m.uses_stage) {
    auto col = t.texts(m.stage_slot);
    for (std::size_t r = 0; r < n; ++r) col[r] = m.states[static_cast<std::size_t>(states[r])].name;
    std::fill(t.present(m.stage_slot).begin(), t.present(m.stage_slot).end(), std::uint8_t{1});
  }
  if (m.uses_days) {
    std::copy(days_in_stage.begin(), days_in_stage.end(), t.integers(m.days_slot).begin());
    std::fill(t.present(m.days_slot).begin(), t.present(m.days_slot).end(), std::uint8_t{1});
  }

  MachineColumnResult out;
  out.states.assign(states.begin(), states.end());
  // Rows to evaluate this round, grouped by their current state.
  std::vector<std::uint32_t> active(n);
  for (std::size_t r = 0; r < n; ++r) active[r] = static_cast<std::uint32_t>(r);
  // The cycle guard: the states each row has been in during this evaluation, as a bit mask when
  // the machine has at most 64 states (the usual case), else as a list per moved row.
  const bool small = m.states.size() <= 64;
  std::vector<std::uint64_t> visited_bits;
  std::unordered_map<std::uint32_t, std::vector<std::int32_t>> visited_lists;
  const auto repeats = [&](std::uint32_t r, std::int32_t from, std::int32_t to) {
    if (small) {
      if (visited_bits.empty()) visited_bits.assign(n, 0);
      auto& bits = visited_bits[r];
      bits |= std::uint64_t{1} << from;
      const std::uint64_t bit = std::uint64_t{1} << to;
      const bool seen = (bits & bit) != 0;
      bits |= bit;
      return seen;
    }
    auto& list = visited_lists[r];
    if (list.empty()) list.push_back(from);
    const bool seen = std::find(list.begin(), list.end(), to) != list.end();
    list.push_back(to);
    return seen;
  };
  std::vector<std::vector<std::uint32_t>> groups(m.states.size());
  // Each rule is evaluated over all rows at once, when first needed; a rule that reads no engine
  // fact keeps its result for the whole evaluation, the others are evaluated again each round
  // (after rows moved, their stage and days changed).
  std::vector<std::vector<std::uint8_t>> results(m.transitions.size());
  std::vector<std::uint8_t> fresh(m.transitions.size(), 0);
  std::vector<std::uint32_t> pending, rest, moved;
  while (!active.empty()) {
    for (auto& g : groups) g.clear();
    for (auto r : active) groups[static_cast<std::size_t>(out.states[r])].push_back(r);
    moved.clear();
    for (std::size_t s = 0; s < groups.size(); ++s) {
      if (groups[s].empty() || m.automatic_from[s].empty()) continue;
      pending = groups[s];
      for (auto ti : m.automatic_from[s]) {
        if (pending.empty()) break;
        const auto tu = static_cast<std::size_t>(ti);
        if (!fresh[tu]) {
          results[tu].resize(n);
          m.rules[tu]->holds_all(t, results[tu]);
          fresh[tu] = 1;
        }
        const auto& mask = results[tu];
        rest.clear();
        const auto& tr = m.transitions[tu];
        const std::int32_t to = m.index.at(tr.to);
        for (const auto r : pending) {
          if (!mask[r]) {
            rest.push_back(r);
            continue;
          }
          out.changes.push_back({r, static_cast<std::int32_t>(s), to, ti});
          out.states[r] = to;
          if (repeats(r, static_cast<std::int32_t>(s), to)) {
            std::vector<std::int32_t> path, taken;
            for (const auto& c : out.changes)
              if (c.row == r) {
                if (path.empty()) path.push_back(c.from);
                path.push_back(c.to);
                taken.push_back(c.transition);
              }
            m.throw_cycle(path, taken, "row " + std::to_string(r) + ": ");
          }
          moved.push_back(r);
        }
        pending.swap(rest);
      }
    }
    for (std::size_t i = 0; i < fresh.size(); ++i)
      if (m.rules[i] && m.rules[i]->reads_engine_facts()) fresh[i] = 0;
    for (auto r : moved) {
      if (m.uses_stage) t.set_text(r, m.stage_slot, m.states[static_cast<std::size_t>(out.states[r])].name);
      if (m.uses_days) t.set_integer(r, m.days_slot, 0);
    }
    std::sort(moved.begin(), moved.end());
    active.swap(moved);
  }
  // By row, then in the order taken (a row moves at most once per round): a counting sort.
  std::vector<std::size_t> start(n + 1, 0);
  for (const auto& c : out.changes) ++start[c.row + 1];
  for (std::size_t r = 0; r < n; ++r) start[r + 1] += start[r];
  std::vector<MachineColumnResult::Change> by_row(out.changes.size());
  for (const auto& c : out.changes) by_row[start[c.row]++] = c;
  out.changes.swap(by_row);
  return out;
}

}  // namespace v0
}  // namespace crmkit
