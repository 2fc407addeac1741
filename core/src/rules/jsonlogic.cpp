// Loose (standard) JSON Logic on nlohmann::json: a tree-walking interpreter with the semantics of
// the json-logic/compat-tables suites (tests/data/jsonlogic). Errors that JSON Logic defines as
// values travel as `Thrown` inside the interpreter (so `try` can catch them) and leave it as
// JsonLogicError. docs/rules.md lists the choices made where the suites say nothing.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/text.hpp"
#include "crmkit/base/error.hpp"
#include "crmkit/base/json.hpp"
#include "crmkit/rules/json.hpp"
#include "crmkit/rules/rules.hpp"
#include "rules/jsonlogic_detail.hpp"

namespace crmkit {
inline namespace v0 {

using json = nlohmann::json;

JsonLogicError::JsonLogicError(std::string error_json, std::string type, std::string_view what)
    : Error(ErrorCode::invalid_argument,
            std::string(what) + ": JSON Logic error " + error_json),
      error_json_(std::move(error_json)),
      type_(std::move(type)) {}

namespace detail {

void check_json_value(const json& value, std::string_view what, std::size_t max_depth) {
  // (value, number of containers enclosing it)
  std::vector<std::pair<const json*, std::size_t>> todo{{&value, 0}};
  const auto check_text = [&](const std::string& text, const char* kind) {
    const std::size_t bad = find_invalid_utf8(text);
    if (bad != std::string::npos) {
      throw_invalid(what, std::string("a JSON ") + kind + " is not valid UTF-8 (at byte " +
                              std::to_string(bad) + ")");
    }
  };
  while (!todo.empty()) {
    const auto [j, enclosing] = todo.back();
    todo.pop_back();
    switch (j->type()) {
      case json::value_t::array:
      case json::value_t::object:
        if (enclosing + 1 > max_depth) {
          throw_invalid(what,
                        "JSON nesting is deeper than " + std::to_string(max_depth) + " levels");
        }
        for (auto it = j->begin(); it != j->end(); ++it) {
          if (j->is_object()) check_text(it.key(), "key");
          todo.emplace_back(&it.value(), enclosing + 1);
        }
        break;
      case json::value_t::string:
        check_text(j->get_ref<const std::string&>(), "string");
        break;
      case json::value_t::number_float:
        if (!std::isfinite(j->get<double>())) {
          throw_invalid(what, "a JSON number is " + js_number_to_string(j->get<double>()) +
                                  " (JSON has no NaN or infinity)");
        }
        break;
      default:
        break;
    }
  }
}

// ---- numbers and text as JavaScript sees them ----

std::string js_number_to_string(double x) {
  if (std::isnan(x)) return "NaN";
  if (std::isinf(x)) return x > 0 ? "Infinity" : "-Infinity";
  if (x == 0) return "0";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::scientific);
  std::string sci(buf, r.ptr);  // "-1.2345e+02"
  bool neg = sci[0] == '-';
  if (neg) sci.erase(0, 1);
  const std::size_t e_at = sci.find('e');
  int exp = std::stoi(sci.substr(e_at + 1));
  std::string digits;
  for (std::size_t i = 0; i < e_at; ++i)
    if (sci[i] != '.') digits.push_back(sci[i]);
  // Built with append only (operator+ on temporaries trips GCC 12's false -Wrestrict, bug 105329).
  std::string out;
  if (neg) out.push_back('-');
  const int n = static_cast<int>(digits.size());
  if (exp >= 21 || exp <= -7) {
    out.push_back(digits[0]);
    if (n > 1) {
      out.push_back('.');
      out.append(digits, 1, std::string::npos);
    }
    out.append(exp > 0 ? "e+" : "e-");
    out.append(std::to_string(std::abs(exp)));
  } else if (exp >= 0) {
    const auto whole = static_cast<std::size_t>(exp + 1);
    if (static_cast<std::size_t>(n) <= whole) {
      out.append(digits);
      out.append(whole - static_cast<std::size_t>(n), '0');
    } else {
      out.append(digits, 0, whole);
      out.push_back('.');
      out.append(digits, whole, std::string::npos);
    }
  } else {
    out.append("0.");
    out.append(static_cast<std::size_t>(-exp - 1), '0');
    out.append(digits);
  }
  return out;
}

// JavaScript's Number(text) for decimal text: surrounding white space ignored, "" is 0.
// Returns false for anything else (hexadecimal, "Infinity" and junk are not numbers here).
bool js_text_to_number(std::string_view s, double& out) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  if (s.empty()) {
    out = 0;
    return true;
  }
  bool neg = false;
  if (s.front() == '+' || s.front() == '-') {
    neg = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || !(std::isdigit(static_cast<unsigned char>(s.front())) || s.front() == '.'))
    return false;
  double v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::general);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return false;
  out = neg ? -v : v;
  return std::isfinite(out);
}

}  // namespace detail

namespace {

struct Thrown {
  json value;
};

[[noreturn]] void raise(const char* type) { throw Thrown{json{{"type", type}}}; }
[[noreturn]] void invalid_args() { raise("Invalid Arguments"); }
[[noreturn]] void nan() { raise("NaN"); }

bool truthy(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return false;
    case json::value_t::boolean: return v.get<bool>();
    case json::value_t::number_integer: return v.get<std::int64_t>() != 0;
    case json::value_t::number_unsigned: return v.get<std::uint64_t>() != 0;
    case json::value_t::number_float: {
      const double d = v.get<double>();
      return d != 0 && !std::isnan(d);
    }
    case json::value_t::string: return !v.get_ref<const std::string&>().empty();
    case json::value_t::array: return !v.empty();
    default: return true;
  }
}

double to_number(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return 0;
    case json::value_t::boolean: return v.get<bool>() ? 1 : 0;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return v.get<double>();
    case json::value_t::string: {
      double d = 0;
      if (!detail::js_text_to_number(v.get_ref<const std::string&>(), d)) nan();
      return d;
    }
    default: nan();
  }
}

json number(double d) {
  if (!std::isfinite(d)) nan();
  return json(d);
}

std::string to_text(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "";
    case json::value_t::boolean: return v.get<bool>() ? "true" : "false";
    case json::value_t::number_integer: return std::to_string(v.get<std::int64_t>());
    case json::value_t::number_unsigned: return std::to_string(v.get<std::uint64_t>());
    case json::value_t::number_float: return detail::js_number_to_string(v.get<double>());
    case json::value_t::string: return v.get<std::string>();
    case json::value_t::array: {
      std::string out;
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (i) out += ',';
        out += to_text(v[i]);
      }
      return out;
    }
    default: return "[object Object]";
  }
}

bool is_container(const json& v) { return v.is_array() || v.is_object(); }

// Strict equality: same kind and value; numbers by value; arrays and objects member by member.
bool strict_equal(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) return a.get<double>() == b.get<double>();
  if (a.type() != b.type()) return false;
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!strict_equal(a[i], b[i])) return false;
    return true;
  }
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto it = a.begin(); it != a.end(); ++it) {
      auto jt = b.find(it.key());
      if (jt == b.end() || !strict_equal(*it, *jt)) return false;
    }
    return true;
  }
  return a == b;
}

bool loose_equal(const json& a, const json& b) {
  if (a.is_string() && b.is_string()) return a == b;
  if (is_container(a) || is_container(b)) nan();
  return to_number(a) == to_number(b);
}

// <0, 0, >0; both texts compare as text, anything else as numbers.
int loose_compare(const json& a, const json& b) {
  if (a.is_string() && b.is_string()) {
    const int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (is_container(a) || is_container(b)) nan();
  const double x = to_number(a), y = to_number(b);
  return x < y ? -1 : (x > y ? 1 : 0);
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = path.find('.', start);
    parts.push_back(path.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

// One step of a path; nullptr when there is no such member or element.
const json* step(const json* at, const json& key) {
  if (at == nullptr) return nullptr;
  if (at->is_object()) {
    std::string k = key.is_string() ? key.get<std::string>() : to_text(key);
    auto it = at->find(k);
    return it == at->end() ? nullptr : &*it;
  }
  if (at->is_array()) {
    double idx = 0;
    if (key.is_number()) {
      idx = key.get<double>();
    } else if (key.is_string()) {
      const auto& s = key.get_ref<const std::string&>();
      if (s.empty() || !detail::js_text_to_number(s, idx)) return nullptr;
    } else {
      return nullptr;
    }
    if (idx < 0 || idx != std::floor(idx) || idx >= static_cast<double>(at->size())) return nullptr;
    return &(*at)[static_cast<std::size_t>(idx)];
  }
  return nullptr;
}

bool is_operator(std::string_view op) {
  static const char* const kOps[] = {
      "var", "val", "exists", "missing", "missing_some", "if", "?:", "and", "or", "!", "!!",
      "==", "===", "!=", "!==", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "min", "max",
      "in", "cat", "substr", "merge", "map", "filter", "reduce", "all", "some", "none", "??",
      "throw", "try", "preserve"};
  for (const char* o : kOps)
    if (op == o) return true;
  return false;
}

// Load check: every object of one key names an operator (the contents of preserve are data).
void check_operators(const json& rule, const std::string& path) {
  if (rule.is_array()) {
    for (std::size_t i = 0; i < rule.size(); ++i)
      check_operators(rule[i], path + "[" + std::to_string(i) + "]");
    return;
  }
  if (!rule.is_object() || rule.size() != 1) return;
  const std::string& op = rule.begin().key();
  if (!is_operator(op)) throw_invalid(path, "unknown operator " + detail::quote_text(op));
  if (op == "preserve") return;
  const json& args = rule.begin().value();
  const std::string here = path + "." + op;
  if (args.is_array()) {
    for (std::size_t i = 0; i < args.size(); ++i)
      check_operators(args[i], here + "[" + std::to_string(i) + "]");
  } else {
    check_operators(args, here);
  }
}

class Interpreter {
 public:
  explicit Interpreter(const json& data) { stack_.push_back(&data); }

  json eval(const json& rule) {
    if (rule.is_array()) {
      json out = json::array();
      for (const auto& r : rule) out.push_back(eval(r));
      return out;
    }
    if (!rule.is_object() || rule.size() != 1) return rule;
    const std::string& op = rule.begin().key();
    const json& args = rule.begin().value();
    return apply(op, args);
  }

 private:
  std::vector<const json*> stack_;

  const json& current() const { return *stack_.back(); }

  // Evaluated arguments; a non-array argument is evaluated and, when it yields an array, spread.
  std::vector<json> spread(const json& args) {
    std::vector<json> out;
    if (args.is_array()) {
      out.reserve(args.size());
      for (const auto& a : args) out.push_back(eval(a));
      return out;
    }
    json v = eval(args);
    if (v.is_array()) {
      for (auto& e : v) out.push_back(std::move(e));
    } else {
      out.push_back(std::move(v));
    }
    return out;
  }

  // The single argument of a unary operator: the first element of an array, or the value.
  json unary(const json& args) {
    if (args.is_array()) return args.empty() ? json() : eval(args[0]);
    return eval(args);
  }

  const json& literal_args(const json& args) {
    if (!args.is_array()) invalid_args();
    return args;
  }

  json with_scope(const json& meta, const json& value, const json& rule) {
    stack_.push_back(&meta);
    stack_.push_back(&value);
    struct Pop {
      std::vector<const json*>& s;
      ~Pop() { s.resize(s.size() - 2); }
    } pop{stack_};
    return eval(rule);
  }

  json var(const json& args) {
    std::vector<json> a;
    if (args.is_array()) {
      for (const auto& x : args) a.push_back(eval(x));
    } else {
      a.push_back(eval(args));
    }
    const json& data = current();
    if (a.empty() || a[0].is_null() || (a[0].is_string() && a[0].get_ref<const std::string&>().empty()))
      return data;
    const std::string path = a[0].is_string() ? a[0].get<std::string>() : to_text(a[0]);
    const json* at = &data;
    for (const auto& part : split_path(path)) {
      at = step(at, json(part));
      if (at == nullptr) return a.size() > 1 ? a[1] : json();
    }
    return *at;
  }

  // The base of val/exists and the remaining path parts.
  const json* scoped(std::vector<json>& a, std::size_t& first) {
    first = 0;
    const json* at = &current();
    if (!a.empty() && a[0].is_array()) {
      first = 1;
      double n = 0;
      if (!a[0].empty() && a[0][0].is_number()) n = std::fabs(a[0][0].get<double>());
      // Compared as a double first: a huge level must not be converted to an integer.
      at = n < static_cast<double>(stack_.size())
               ? stack_[stack_.size() - 1 - static_cast<std::size_t>(n)]
               : nullptr;
    }
    return at;
  }

  json val(const json& args) {
    std::vector<json> a = spread(args);
    std::size_t first = 0;
    const json* at = scoped(a, first);
    for (std::size_t i = first; i < a.size() && at; ++i) at = step(at, a[i]);
    return at ? *at : json();
  }

  json exists(const json& args) {
    std::vector<json> a = spread(args);
    std::size_t first = 0;
    const json* at = scoped(a, first);
    if (first >= a.size()) return at != nullptr;
    for (std::size_t i = first; i < a.size() && at; ++i) at = step(at, a[i]);
    return at != nullptr;
  }

  json missing_of(const std::vector<json>& keys) {
    json out = json::array();
    for (const auto& k : keys) {
      const json* at = &current();
      const std::string path = k.is_string() ? k.get<std::string>() : to_text(k);
      for (const auto& part : split_path(path)) {
        at = step(at, json(part));
        if (at == nullptr) break;
      }
      if (at == nullptr || at->is_null() || (at->is_string() && at->get_ref<const std::string&>().empty()))
        out.push_back(k);
    }
    return out;
  }

  json chain(const json& args, bool (*holds)(const json&, const json&)) {
    const json& a = literal_args(args);
    if (a.size() < 2) invalid_args();
    json prev = eval(a[0]);
    for (std::size_t i = 1; i < a.size(); ++i) {
      json next = eval(a[i]);
      if (!holds(prev, next)) return false;
      prev = std::move(next);
    }
    return true;
  }

  json iterate(const std::string& op, const json& args) {
    const json& a = literal_args(args);
    const bool builds = op == "map" || op == "filter" || op == "reduce";
    if (a.size() < 2) invalid_args();
    if (builds && (a[0].is_null() || a[1].is_null())) invalid_args();
    json items = eval(a[0]);
    if (!items.is_array()) {
      if (!builds) invalid_args();
      items = json::array();
    }
    if (op == "reduce") {
      json acc = a.size() > 2 ? eval(a[2]) : json();
      for (std::size_t i = 0; i < items.size(); ++i) {
        json meta = {{"index", i}};
        json ctx = {{"current", items[i]}, {"accumulator", acc}};
        acc = with_scope(meta, ctx, a[1]);
      }
      return acc;
    }
    json out = json::array();
    std::size_t hits = 0;
    for (std::size_t i = 0; i < items.size(); ++i) {
      json meta = {{"index", i}};
      json r = with_scope(meta, items[i], a[1]);
      if (op == "map") {
        out.push_back(std::move(r));
      } else if (truthy(r)) {
        ++hits;
        if (op == "filter") out.push_back(items[i]);
        if (op == "some") return true;
        if (op == "none") return false;
      } else if (op == "all") {
        return false;
      }
    }
    if (op == "map" || op == "filter") return out;
    if (op == "all") return !items.empty();
    if (op == "some") return false;
    return true;  // none
  }

  json apply(const std::string& op, const json& args) {
    if (op == "preserve") return args;
    if (op == "var") return var(args);
    if (op == "val") return val(args);
    if (op == "exists") return exists(args);
    if (op == "missing") {
      std::vector<json> a = spread(args);
      if (!a.empty() && a[0].is_array()) a = a[0].get<std::vector<json>>();
      return missing_of(a);
    }
    if (op == "missing_some") {
      std::vector<json> a = spread(args);
      if (a.size() < 2 || !a[1].is_array()) invalid_args();
      const double need = to_number(a[0]);
      json miss = missing_of(a[1].get<std::vector<json>>());
      if (static_cast<double>(a[1].size() - miss.size()) >= need) return json::array();
      return miss;
    }
    if (op == "if" || op == "?:") {
      const json& a = literal_args(args);
      std::size_t i = 0;
      for (; i + 1 < a.size(); i += 2)
        if (truthy(eval(a[i]))) return eval(a[i + 1]);
      return i < a.size() ? eval(a[i]) : json();
    }
    if (op == "and" || op == "or") {
      const json& a = literal_args(args);
      if (a.empty()) return false;
      json v;
      for (const auto& x : a) {
        v = eval(x);
        if (truthy(v) == (op == "or")) return v;
      }
      return v;
    }
    if (op == "??") {
      if (!args.is_array()) return eval(args);
      for (const auto& x : args) {
        json v = eval(x);
        if (!v.is_null()) return v;
      }
      return json();
    }
    if (op == "!") return !truthy(unary(args));
    if (op == "!!") return truthy(unary(args));
    if (op == "==") return chain(args, [](const json& a, const json& b) { return loose_equal(a, b); });
    if (op == "!=") return chain(args, [](const json& a, const json& b) { return !loose_equal(a, b); });
    if (op == "===") return chain(args, [](const json& a, const json& b) { return strict_equal(a, b); });
    if (op == "!==") return chain(args, [](const json& a, const json& b) { return !strict_equal(a, b); });
    if (op == "<") return chain(args, [](const json& a, const json& b) { return loose_compare(a, b) < 0; });
    if (op == "<=") return chain(args, [](const json& a, const json& b) { return loose_compare(a, b) <= 0; });
    if (op == ">") return chain(args, [](const json& a, const json& b) { return loose_compare(a, b) > 0; });
    if (op == ">=") return chain(args, [](const json& a, const json& b) { return loose_compare(a, b) >= 0; });
    if (op == "+" || op == "*") {
      double acc = op == "+" ? 0 : 1;
      for (const auto& v : spread(args)) acc = op == "+" ? acc + to_number(v) : acc * to_number(v);
      return number(acc);
    }
    if (op == "-" || op == "/" || op == "%") {
      std::vector<json> a = spread(args);
      if (a.empty() || (op == "%" && a.size() < 2)) invalid_args();
      double acc = to_number(a[0]);
      if (a.size() == 1) return number(op == "-" ? -acc : 1 / acc);
      for (std::size_t i = 1; i < a.size(); ++i) {
        const double x = to_number(a[i]);
        acc = op == "-" ? acc - x : (op == "/" ? acc / x : std::fmod(acc, x));
        if (!std::isfinite(acc)) nan();
      }
      return number(acc);
    }
    if (op == "min" || op == "max") {
      std::vector<json> a = spread(args);
      if (a.empty()) invalid_args();
      double best = to_number(a[0]);
      for (std::size_t i = 1; i < a.size(); ++i) {
        const double x = to_number(a[i]);
        best = op == "min" ? std::min(best, x) : std::max(best, x);
      }
      return number(best);
    }
    if (op == "in") {
      std::vector<json> a = spread(args);
      if (a.size() < 2) invalid_args();
      if (a[1].is_string())
        return a[1].get_ref<const std::string&>().find(to_text(a[0])) != std::string::npos;
      if (a[1].is_array()) {
        for (const auto& e : a[1])
          if (strict_equal(e, a[0])) return true;
      }
      return false;
    }
    if (op == "cat") {
      std::string out;
      for (const auto& v : spread(args)) out += to_text(v);
      return out;
    }
    if (op == "substr") return substr(spread(args));
    if (op == "merge") {
      json out = json::array();
      for (auto& v : spread(args)) {
        if (v.is_array()) {
          for (auto& e : v) out.push_back(std::move(e));
        } else {
          out.push_back(std::move(v));
        }
      }
      return out;
    }
    if (op == "map" || op == "filter" || op == "reduce" || op == "all" || op == "some" ||
        op == "none")
      return iterate(op, args);
    if (op == "throw") {
      json v = unary(args);
      if (v.is_object()) throw Thrown{std::move(v)};
      throw Thrown{json{{"type", std::move(v)}}};
    }
    if (op == "try") {
      if (!args.is_array()) return eval(args);
      if (args.empty()) return json();
      json error;
      const json no_meta;
      for (std::size_t i = 0; i < args.size(); ++i) {
        try {
          if (i == 0) return eval(args[i]);
          return with_scope(no_meta, error, args[i]);
        } catch (Thrown& t) {
          if (i + 1 == args.size()) throw;
          error = std::move(t.value);
        }
      }
      return json();
    }
    throw_invalid("rule", "unknown operator " + detail::quote_text(op));
  }

  // JavaScript's substr on code points: a negative start counts from the end; a negative length
  // stops that many code points before the end.
  static json substr(const std::vector<json>& a) {
    if (a.empty()) invalid_args();
    const std::string s = to_text(a[0]);
    std::vector<std::size_t> starts;  // byte offset of each code point
    for (std::size_t i = 0; i < s.size(); ++i)
      if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) starts.push_back(i);
    const auto n = static_cast<std::int64_t>(starts.size());
    // JavaScript's ToIntegerOrInfinity, saturated to +-(n + 1) so that any double (huge, infinite
    // or NaN) becomes an index without an out-of-range conversion.
    auto index = [n](double d) -> std::int64_t {
      if (std::isnan(d)) return 0;
      const double bound = static_cast<double>(n) + 1.0;
      return static_cast<std::int64_t>(std::clamp(std::trunc(d), -bound, bound));
    };
    std::int64_t start = a.size() > 1 ? index(to_number(a[1])) : 0;
    if (start < 0) start = std::max<std::int64_t>(0, n + start);
    start = std::min(start, n);
    std::int64_t end = n;
    if (a.size() > 2 && !a[2].is_null()) {
      const std::int64_t len = index(to_number(a[2]));
      end = len < 0 ? n + len : start + len;
    }
    end = std::clamp(end, start, n);
    auto at = [&](std::int64_t cp) { return cp >= n ? s.size() : starts[static_cast<std::size_t>(cp)]; };
    return s.substr(at(start), at(end) - at(start));
  }
};

// Data may nest deeper than rules (JsonLimits' default of 32).
constexpr std::size_t kDataDepth = 256;

// Whole floats within +-2^53 become integers (and -0 becomes 0), recursively.
void normalize(json& v) {
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (d == std::floor(d) && std::fabs(d) <= 9007199254740992.0) v = static_cast<std::int64_t>(d);
  } else if (v.is_array() || v.is_object()) {
    for (auto& e : v) normalize(e);
  }
}

std::string type_of(const json& error) {
  if (error.is_object()) {
    auto it = error.find("type");
    if (it != error.end()) return it->is_string() ? it->get<std::string>() : it->dump();
  }
  return "";
}

}  // namespace

json jsonlogic_apply_json(const json& rule, const json& data) {
  // The limits of jsonlogic_apply's text forms (checked before anything recurses).
  detail::check_json_value(rule, "rule", JsonLimits{}.max_depth);
  detail::check_json_value(data, "data", kDataDepth);
  check_operators(rule, "rule");
  try {
    Interpreter in(data);
    json out = in.eval(rule);
    normalize(out);
    return out;
  } catch (Thrown& t) {
    normalize(t.value);
    throw JsonLogicError(t.value.dump(), type_of(t.value), "rule");
  }
}

json jsonlogic_error_value(const JsonLogicError& error) { return json::parse(error.error_json()); }

std::string jsonlogic_apply(std::string_view rule_json, std::string_view data_json) {
  const json rule = parse_json_strict(rule_json, "rule");
  JsonLimits data_limits;
  data_limits.max_depth = kDataDepth;
  const json data = parse_json_strict(data_json, "data", data_limits);
  return jsonlogic_apply_json(rule, data).dump();
}

}  // namespace v0
}  // namespace crmkit
