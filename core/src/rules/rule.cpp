// Strict JSON Logic (crmkit/rules/rules.hpp): a type checker that compiles a rule into a program
// of typed nodes (children before parents, shared where a chain reuses an operand), and one
// evaluator that runs a program over a block of rows at a time, column by column: each node
// fills a typed buffer (values plus a present flag per row) from its children's buffers, in
// loops the compiler can vectorise. Fact nodes point into the FactTable's columns (no copy);
// constants are filled once per call. test() runs the same evaluator on a block of one row, so
// the row and column forms cannot disagree. some/all/none run their predicate (a sub-program that
// reads only the element) over the elements of each row's list.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "base/text.hpp"
#include "crmkit/base/error.hpp"
#include "crmkit/base/json.hpp"
#include "crmkit/base/time.hpp"
#include "crmkit/rules/json.hpp"
#include "crmkit/rules/rules.hpp"
#include "rules/jsonlogic_detail.hpp"

namespace crmkit {
inline namespace v0 {

using json = nlohmann::json;

namespace detail {

enum class T : std::uint8_t { boolean, integer, number, text, date, list, null };

const char* type_name(T t) {
  switch (t) {
    case T::boolean: return "bool";
    case T::integer: return "integer";
    case T::number: return "number";
    case T::text: return "text";
    case T::date: return "date";
    case T::list: return "list of text";
    case T::null: return "null";
  }
  return "?";
}

// "a bool", "an integer", ...
std::string a_type(T t) {
  return std::string(t == T::integer ? "an " : "a ") + type_name(t);
}

enum class Op : std::uint8_t {
  fact, constant, element, to_num, truthy, not_, and_, or_, cmp, arith, if_, coalesce, exists,
  missing, in_list, in_texts, in_numbers, substring, quant
};
enum class Cmp : std::uint8_t { eq, ne, lt, le, gt, ge };
enum class Arith : std::uint8_t { add, sub, mul, div, mod, min, max, neg, recip };
enum class Quant : std::uint8_t { some, all, none };

struct Program;

struct Node {
  Op op = Op::constant;
  T type = T::null;
  std::uint8_t kind = 0;            // Cmp, Arith or Quant
  T operand = T::null;              // cmp: the operands' common type
  std::vector<int> args;
  std::size_t slot = 0;             // fact, exists
  // constants
  bool present = false;
  bool b = false;
  std::int64_t i = 0;
  double d = 0;
  std::string s;
  std::vector<std::string> texts;   // in_texts (sorted), constant list
  std::vector<double> numbers;      // in_numbers
  std::vector<std::size_t> slots;   // missing
  std::vector<std::string> names;   // missing
  std::int64_t need = -1;           // missing_some: how many must be present (-1: missing)
  std::shared_ptr<Program> sub;     // quant predicate
};

struct Program {
  std::vector<Node> nodes;
  int root = -1;
};

}  // namespace detail

namespace detail {
struct RuleProgram {
  FactSchema schema;
  std::string source;
  Program main;
  std::vector<std::size_t> deps;
  FactType result = FactType::boolean;
};
struct RuleAccess {
  static void set(Rule& r, std::shared_ptr<const RuleProgram> p) { r.program_ = std::move(p); }
};

}  // namespace detail

namespace {

using detail::Arith;
using detail::Cmp;
using detail::Node;
using detail::Op;
using detail::Program;
using detail::Quant;
using detail::T;

// ---------------------------------------------------------------- compiler

std::string arg_path(const std::string& path, const std::string& op, std::ptrdiff_t index) {
  std::string p = path;
  if (!p.empty()) p.push_back('.');
  p.append(op);
  if (index >= 0) {  // appends only: operator+ on temporaries trips GCC 12's false -Wrestrict
    p.push_back('[');
    p.append(std::to_string(index));
    p.push_back(']');
  }
  return p;
}

bool is_loose_only(std::string_view op) {
  static const char* const kOps[] = {"cat", "substr", "merge", "map", "filter", "reduce",
                                     "throw", "try", "preserve"};
  for (const char* o : kOps)
    if (op == o) return true;
  return false;
}

class Compiler {
 public:
  Compiler(const FactSchema& schema, Program& prog, bool in_quant)
      : schema_(schema), prog_(prog), in_quant_(in_quant) {}

  int compile(const json& rule, const std::string& path) {
    switch (rule.type()) {
      case json::value_t::null: return constant_null();
      case json::value_t::boolean: {
        Node n = base(Op::constant, T::boolean);
        n.present = true;
        n.b = rule.get<bool>();
        return add(std::move(n));
      }
      case json::value_t::number_integer:
      case json::value_t::number_unsigned: {
        if (rule.is_number_unsigned() &&
            rule.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
          throw_invalid(path, "integer literal out of range");
        Node n = base(Op::constant, T::integer);
        n.present = true;
        n.i = rule.get<std::int64_t>();
        return add(std::move(n));
      }
      case json::value_t::number_float: {
        Node n = base(Op::constant, T::number);
        n.present = true;
        n.d = rule.get<double>();
        return add(std::move(n));
      }
      case json::value_t::string: {
        Node n = base(Op::constant, T::text);
        n.present = true;
        n.s = rule.get<std::string>();
        return add(std::move(n));
      }
      case json::value_t::array:
        throw_invalid(path, "an array is only allowed as the list of 'in' (the rule is an "
                            "operator object or a literal)");
      case json::value_t::object: break;
      default: throw_invalid(path, "unsupported JSON value");
    }
    if (rule.size() != 1)
      throw_invalid(path, "an operator object must have exactly one key, got " +
                              std::to_string(rule.size()));
    const std::string& op = rule.begin().key();
    const json& args = rule.begin().value();
    return op_node(op, args, path);
  }

  Program& prog_ref() { return prog_; }

  // Makes node `n` of type `want` where the types allow it: integer widens to number, a null
  // literal becomes a missing value of `want`, and a text literal "YYYY-MM-DD" becomes a date.
  int coerce(int n, T want, const std::string& path) {
    const T have = prog_.nodes[static_cast<std::size_t>(n)].type;
    if (have == want) return n;
    if (have == T::integer && want == T::number) {
      Node c = base(Op::to_num, T::number);
      c.args = {n};
      return add(std::move(c));
    }
    Node& node = prog_.nodes[static_cast<std::size_t>(n)];
    if (node.op == Op::constant && have == T::null) {
      Node c = node;
      c.type = want;
      return add(std::move(c));
    }
    if (node.op == Op::constant && have == T::text && want == T::date) {
      Date date;
      try {
        date = Date::parse(node.s);
      } catch (const Error&) {
        throw_invalid(path, "a date is compared with the text " + detail::quote_value(node.s) +
                                ", which is no date literal (\"YYYY-MM-DD\")");
      }
      Node c = base(Op::constant, T::date);
      c.present = true;
      c.i = date.days_since_epoch();
      return add(std::move(c));
    }
    throw_invalid(path, "expected " + detail::a_type(want) + " value, got " + detail::a_type(have));
  }

 private:
  const FactSchema& schema_;
  Program& prog_;
  bool in_quant_;

  static Node base(Op op, T type) {
    Node n;
    n.op = op;
    n.type = type;
    return n;
  }
  int add(Node n) {
    prog_.nodes.push_back(std::move(n));
    return static_cast<int>(prog_.nodes.size() - 1);
  }
  T type_of(int n) const { return prog_.nodes[static_cast<std::size_t>(n)].type; }
  bool is_const(int n) const { return prog_.nodes[static_cast<std::size_t>(n)].op == Op::constant; }

  int constant_null() {
    Node n = base(Op::constant, T::null);
    return add(std::move(n));
  }

  // The argument list of `op`: an array's elements, or the one non-array value.
  struct Arg {
    const json* value;
    std::string path;
  };
  static std::vector<Arg> arg_list(const json& args, const std::string& path, const std::string& op) {
    std::vector<Arg> out;
    if (args.is_array()) {
      for (std::size_t i = 0; i < args.size(); ++i)
        out.push_back({&args[i], arg_path(path, op, static_cast<std::ptrdiff_t>(i))});
    } else {
      out.push_back({&args, arg_path(path, op, -1)});
    }
    return out;
  }
  static void need_array(const json& args, const std::string& path, const std::string& op) {
    if (!args.is_array())
      throw_invalid(arg_path(path, op, -1), "'" + op + "' takes an array of arguments");
  }
  static void count(const std::vector<Arg>& a, std::size_t lo, std::size_t hi,
                    const std::string& path, const std::string& op) {
    if (a.size() < lo || a.size() > hi) {
      std::string want = lo == hi ? std::to_string(lo)
                         : hi == SIZE_MAX ? "at least " + std::to_string(lo)
                                          : std::to_string(lo) + " to " + std::to_string(hi);
      throw_invalid(path.empty() ? op : path + "." + op,
                    "'" + op + "' takes " + want + " argument" +
                        ((lo == 1 && (hi == 1 || hi == SIZE_MAX)) ? "" : "s") +
                        ", got " + std::to_string(a.size()));
    }
  }

  int fact(const std::string& name, const std::string& path) {
    if (in_quant_)
      throw_invalid(path, "inside some/all/none only the element ({\"var\": \"\"}) can be read, "
                          "not the fact " + detail::quote_text(name));
    auto slot = schema_.find(name);
    if (!slot) throw_invalid(path, "unknown fact " + detail::quote_text(name));
    Node n = base(Op::fact, T::null);
    n.slot = *slot;
    switch (schema_[*slot].type) {
      case FactType::number: n.type = T::number; break;
      case FactType::integer: n.type = T::integer; break;
      case FactType::boolean: n.type = T::boolean; break;
      case FactType::text: n.type = T::text; break;
      case FactType::date: n.type = T::date; break;
      case FactType::text_list: n.type = T::list; break;
    }
    return add(std::move(n));
  }

  int element(const std::string& path) {
    if (!in_quant_)
      throw_invalid(path, "the whole data is not a fact: name one ({\"var\": \"name\"})");
    return add(base(Op::element, T::text));
  }

  static std::string name_of(const json& v, const std::string& path) {
    if (!v.is_string()) throw_invalid(path, "a fact name must be a text, got " + std::string(v.type_name()));
    return v.get<std::string>();
  }

  int truthy(int n) {
    if (type_of(n) == T::boolean && prog_.nodes[static_cast<std::size_t>(n)].op != Op::fact &&
        prog_.nodes[static_cast<std::size_t>(n)].op != Op::constant &&
        prog_.nodes[static_cast<std::size_t>(n)].op != Op::if_ &&
        prog_.nodes[static_cast<std::size_t>(n)].op != Op::coalesce)
      return n;  // comparisons and logic are always present
    Node t = base(Op::truthy, T::boolean);
    t.args = {n};
    return add(std::move(t));
  }

  // The common type of two operands (after coercion) for comparison, if and ??.
  T unify(int& a, int& b, const std::string& path_a, const std::string& path_b) {
    T ta = type_of(a), tb = type_of(b);
    if (ta == tb) return ta;
    if (ta == T::null) { a = coerce(a, tb, path_a); return tb; }
    if (tb == T::null) { b = coerce(b, ta, path_b); return ta; }
    if ((ta == T::integer && tb == T::number) || (ta == T::number && tb == T::integer)) {
      a = coerce(a, T::number, path_a);
      b = coerce(b, T::number, path_b);
      return T::number;
    }
    if (ta == T::date && tb == T::text && is_const(b)) { b = coerce(b, T::date, path_b); return T::date; }
    if (tb == T::date && ta == T::text && is_const(a)) { a = coerce(a, T::date, path_a); return T::date; }
    if (ta == T::date || tb == T::date) {
      const bool a_is_date = ta == T::date;
      throw_invalid(a_is_date ? path_b : path_a,
                    "a date can only be compared with a date or a date literal (\"YYYY-MM-DD\"), "
                    "not " + detail::a_type(a_is_date ? tb : ta));
    }
    throw_invalid(path_b, "cannot compare or combine " + detail::a_type(ta) + " with " +
                              detail::a_type(tb) + " (strict rules do not convert types)");
  }

  int comparison(Cmp kind, const std::string& op, const json& args, const std::string& path) {
    need_array(args, path, op);
    auto a = arg_list(args, path, op);
    count(a, 2, SIZE_MAX, path, op);
    std::vector<int> nodes;
    for (auto& x : a) nodes.push_back(compile(*x.value, x.path));
    for (std::size_t i = 0; i < nodes.size(); ++i)
      if (type_of(nodes[i]) == T::null)
        throw_invalid(a[i].path, "comparing with null is always false in strict rules; test a "
                                 "missing fact with {\"exists\": name}, {\"missing\": [...]} or "
                                 "{\"??\": [...]}");
    std::vector<int> cmps;
    for (std::size_t i = 0; i + 1 < nodes.size(); ++i) {
      int x = nodes[i], y = nodes[i + 1];
      T t = unify(x, y, a[i].path, a[i + 1].path);
      if (t == T::list)
        throw_invalid(a[i].path, "a list of text cannot be compared; use 'in' or some/all/none");
      if (t == T::boolean && kind != Cmp::eq && kind != Cmp::ne)
        throw_invalid(a[i].path, "bool values have no order; compare them with == or !=");
      Node c = base(Op::cmp, T::boolean);
      c.kind = static_cast<std::uint8_t>(kind);
      c.operand = t;
      c.args = {x, y};
      cmps.push_back(add(std::move(c)));
      nodes[i + 1] = y;
    }
    if (cmps.size() == 1) return cmps[0];
    Node n = base(Op::and_, T::boolean);
    n.args = cmps;
    return add(std::move(n));
  }

  int arith2(Arith kind, int x, int y, T type) {
    Node n = base(Op::arith, type);
    n.kind = static_cast<std::uint8_t>(kind);
    n.args = {x, y};
    return add(std::move(n));
  }

  int arithmetic(const std::string& op, const json& args, const std::string& path) {
    auto a = arg_list(args, path, op);
    const bool minmax = op == "min" || op == "max";
    count(a, op == "%" ? 2 : 1, SIZE_MAX, path, op);
    std::vector<int> nodes;
    for (auto& x : a) nodes.push_back(compile(*x.value, x.path));
    // dates: date - date, date +/- integer, min/max of dates
    bool any_date = false;
    for (int n : nodes) any_date = any_date || type_of(n) == T::date;
    if (any_date) {
      if (minmax) {
        for (std::size_t i = 0; i < nodes.size(); ++i) nodes[i] = coerce(nodes[i], T::date, a[i].path);
        int acc = nodes[0];
        for (std::size_t i = 1; i < nodes.size(); ++i)
          acc = arith2(op == "min" ? Arith::min : Arith::max, acc, nodes[i], T::date);
        return acc;
      }
      if (nodes.size() == 2 && (op == "+" || op == "-")) {
        T t0 = type_of(nodes[0]), t1 = type_of(nodes[1]);
        if (op == "-" && t0 == T::date) {
          if (t1 == T::integer) return arith2(Arith::sub, nodes[0], nodes[1], T::date);
          int y = coerce(nodes[1], T::date, a[1].path);
          return arith2(Arith::sub, nodes[0], y, T::integer);
        }
        if (op == "+" && t0 == T::date && t1 == T::integer)
          return arith2(Arith::add, nodes[0], nodes[1], T::date);
        if (op == "+" && t1 == T::date && t0 == T::integer)
          return arith2(Arith::add, nodes[1], nodes[0], T::date);
      }
      throw_invalid(path.empty() ? op : path + "." + op,
                    "dates only allow date - date (days), date + integer, date - integer, min "
                    "and max");
    }
    bool all_int = true;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const T t = type_of(nodes[i]);
      if (t == T::null)
        throw_invalid(a[i].path, "arithmetic with null is always missing; use {\"??\": [...]}");
      if (t != T::integer && t != T::number)
        throw_invalid(a[i].path, "'" + op + "' needs numbers, got " + detail::a_type(t) +
                                     " (strict rules do not convert text to numbers)");
      all_int = all_int && t == T::integer;
    }
    T type = (all_int && op != "/") ? T::integer : T::number;
    if (type == T::number)
      for (std::size_t i = 0; i < nodes.size(); ++i) nodes[i] = coerce(nodes[i], T::number, a[i].path);
    if (nodes.size() == 1) {
      if (op == "-" || op == "/") {
        Node n = base(Op::arith, type);
        n.kind = static_cast<std::uint8_t>(op == "-" ? Arith::neg : Arith::recip);
        n.args = {nodes[0]};
        return add(std::move(n));
      }
      return nodes[0];
    }
    Arith kind = op == "+" ? Arith::add : op == "-" ? Arith::sub : op == "*" ? Arith::mul
                 : op == "/" ? Arith::div : op == "%" ? Arith::mod : op == "min" ? Arith::min
                                                                    : Arith::max;
    int acc = nodes[0];
    for (std::size_t i = 1; i < nodes.size(); ++i) acc = arith2(kind, acc, nodes[i], type);
    return acc;
  }

  int op_node(const std::string& op, const json& args, const std::string& path) {
    const std::string here = path.empty() ? op : path + "." + op;
    if (op == "var") {
      std::vector<Arg> a = arg_list(args, path, op);
      if (args.is_array()) count(a, 0, 2, path, op);
      if (a.empty() || a[0].value->is_null() ||
          (a[0].value->is_string() && a[0].value->get_ref<const std::string&>().empty()))
        return element(path);
      int f = fact(name_of(*a[0].value, a[0].path), path);
      if (a.size() < 2) return f;
      int d = compile(*a[1].value, a[1].path);
      return coalesce_pair(f, d, path, a[1].path);
    }
    if (op == "val" || op == "exists") {
      std::vector<Arg> a = arg_list(args, path, op);
      if (args.is_array() && a.empty()) {
        if (op == "val") return element(path);
        throw_invalid(here, "'exists' needs a fact name");
      }
      std::string name;
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].value->is_array())
          throw_invalid(a[i].path, "scopes ([n]) are not supported in strict rules");
        if (i) name += '.';
        name += name_of(*a[i].value, a[i].path);
      }
      if (op == "val") return fact(name, path);
      int f = fact(name, path);
      Node n = base(Op::exists, T::boolean);
      n.slot = prog_.nodes[static_cast<std::size_t>(f)].slot;
      n.args = {f};
      return add(std::move(n));
    }
    if (op == "missing" || op == "missing_some") {
      Node n = base(Op::missing, T::list);
      const json* names = &args;
      std::string names_path = here;
      if (op == "missing_some") {
        need_array(args, path, op);
        auto a = arg_list(args, path, op);
        count(a, 2, 2, path, op);
        if (!a[0].value->is_number_integer() && !a[0].value->is_number_unsigned())
          throw_invalid(a[0].path, "'missing_some' needs an integer count first");
        n.need = a[0].value->get<std::int64_t>();
        names = a[1].value;
        names_path = a[1].path;
        if (!names->is_array()) throw_invalid(names_path, "'missing_some' needs an array of fact names");
      }
      std::vector<Arg> a;
      if (names->is_array()) {
        for (std::size_t i = 0; i < names->size(); ++i)
          a.push_back({&(*names)[i], names_path + "[" + std::to_string(i) + "]"});
      } else {
        a.push_back({names, names_path});
      }
      for (auto& x : a) {
        const std::string name = name_of(*x.value, x.path);
        int f = fact(name, x.path);
        n.slots.push_back(prog_.nodes[static_cast<std::size_t>(f)].slot);
        n.names.push_back(name);
        n.args.push_back(f);
      }
      return add(std::move(n));
    }
    if (op == "if" || op == "?:") {
      need_array(args, path, op);
      auto a = arg_list(args, path, op);
      if (op == "?:") count(a, 3, 3, path, op);
      count(a, 1, SIZE_MAX, path, op);
      if (a.size() == 1) return compile(*a[0].value, a[0].path);
      // if [c1, t1, c2, t2, ..., else?] folded from the right
      std::vector<int> nodes;
      for (auto& x : a) nodes.push_back(compile(*x.value, x.path));
      int acc;
      std::size_t i;
      std::string acc_path;
      if (a.size() % 2 == 1) {
        acc = nodes.back();
        acc_path = a.back().path;
        i = a.size() - 1;
      } else {
        acc = constant_null();
        acc_path = here;
        i = a.size();
      }
      while (i >= 2) {
        i -= 2;
        int then = nodes[i + 1];
        T t = unify(then, acc, a[i + 1].path, acc_path);
        Node n = base(Op::if_, t);
        n.args = {truthy(nodes[i]), then, acc};
        acc = add(std::move(n));
        acc_path = a[i + 1].path;
      }
      if (type_of(acc) == T::null) throw_invalid(here, "every branch is null");
      return acc;
    }
    if (op == "and" || op == "or") {
      need_array(args, path, op);
      auto a = arg_list(args, path, op);
      count(a, 1, SIZE_MAX, path, op);
      Node n = base(op == "and" ? Op::and_ : Op::or_, T::boolean);
      for (auto& x : a) n.args.push_back(truthy(compile(*x.value, x.path)));
      if (n.args.size() == 1) return n.args[0];
      return add(std::move(n));
    }
    if (op == "!" || op == "!!") {
      auto a = arg_list(args, path, op);
      count(a, 1, 1, path, op);
      int t = truthy(compile(*a[0].value, a[0].path));
      if (op == "!!") return t;
      Node n = base(Op::not_, T::boolean);
      n.args = {t};
      return add(std::move(n));
    }
    if (op == "==" || op == "===") return comparison(Cmp::eq, op, args, path);
    if (op == "!=" || op == "!==") return comparison(Cmp::ne, op, args, path);
    if (op == "<") return comparison(Cmp::lt, op, args, path);
    if (op == "<=") return comparison(Cmp::le, op, args, path);
    if (op == ">") return comparison(Cmp::gt, op, args, path);
    if (op == ">=") return comparison(Cmp::ge, op, args, path);
    if (op == "+" || op == "-" || op == "*" || op == "/" || op == "%" || op == "min" || op == "max")
      return arithmetic(op, args, path);
    if (op == "??") {
      auto a = arg_list(args, path, op);
      count(a, 1, SIZE_MAX, path, op);
      int acc = compile(*a[0].value, a[0].path);
      for (std::size_t i = 1; i < a.size(); ++i)
        acc = coalesce_pair(acc, compile(*a[i].value, a[i].path), a[0].path, a[i].path);
      if (type_of(acc) == T::null) throw_invalid(here, "every operand is null");
      return acc;
    }
    if (op == "in") return in(args, path);
    if (op == "some" || op == "all" || op == "none") {
      need_array(args, path, op);
      auto a = arg_list(args, path, op);
      count(a, 2, 2, path, op);
      if (in_quant_) throw_invalid(here, "some/all/none cannot be nested in strict rules");
      int list = compile(*a[0].value, a[0].path);
      if (type_of(list) != T::list)
        throw_invalid(a[0].path, "'" + op + "' needs a list of text, got " +
                                     detail::a_type(type_of(list)));
      auto sub = std::make_shared<Program>();
      Compiler inner(schema_, *sub, true);
      sub->root = inner.truthy(inner.compile(*a[1].value, a[1].path));
      Node n = base(Op::quant, T::boolean);
      n.kind = static_cast<std::uint8_t>(op == "some" ? Quant::some : op == "all" ? Quant::all : Quant::none);
      n.args = {list};
      n.sub = std::move(sub);
      return add(std::move(n));
    }
    if (is_loose_only(op))
      throw_invalid(path, "operator " + detail::quote_text(op) +
                              " is not supported in strict rules (jsonlogic_apply runs it)");
    throw_invalid(path, "unknown operator " + detail::quote_text(op));
  }

  int coalesce_pair(int a, int b, const std::string& path_a, const std::string& path_b) {
    T t = unify(a, b, path_a, path_b);
    Node n = base(Op::coalesce, t);
    n.args = {a, b};
    return add(std::move(n));
  }

  int in(const json& args, const std::string& path) {
    need_array(args, path, "in");
    auto a = arg_list(args, path, "in");
    count(a, 2, 2, path, "in");
    int needle = compile(*a[0].value, a[0].path);
    const T nt = type_of(needle);
    if (a[1].value->is_array()) {
      const json& arr = *a[1].value;
      bool texts = true, nums = true;
      for (const auto& e : arr) {
        texts = texts && e.is_string();
        nums = nums && e.is_number();
      }
      if (texts && nt == T::text) {
        Node n = base(Op::in_texts, T::boolean);
        for (const auto& e : arr) n.texts.push_back(e.get<std::string>());
        std::sort(n.texts.begin(), n.texts.end());
        n.args = {needle};
        return add(std::move(n));
      }
      if (nums && !arr.empty() && (nt == T::integer || nt == T::number)) {
        Node n = base(Op::in_numbers, T::boolean);
        for (const auto& e : arr) n.numbers.push_back(e.get<double>());
        n.args = {coerce(needle, T::number, a[0].path)};
        return add(std::move(n));
      }
      throw_invalid(a[1].path, "'in' with " + detail::a_type(nt) + " needs an array of " +
                                   (nt == T::text ? "texts" : "numbers"));
    }
    int hay = compile(*a[1].value, a[1].path);
    const T ht = type_of(hay);
    if (nt != T::text)
      throw_invalid(a[0].path, "'in' looks for a text, got " + detail::a_type(nt));
    if (ht != T::list && ht != T::text)
      throw_invalid(a[1].path, "'in' looks in a text or a list of text, got " + detail::a_type(ht));
    Node n = base(ht == T::list ? Op::in_list : Op::substring, T::boolean);
    n.args = {needle, hay};
    return add(std::move(n));
  }
};

// ---------------------------------------------------------------- evaluator

using StrPtr = const std::string*;
using ListPtr = const std::vector<std::string>*;

struct Col {
  std::vector<double> d;
  std::vector<std::int64_t> i;
  std::vector<std::uint8_t> b, p;
  std::vector<StrPtr> s;
  std::vector<ListPtr> l;
  std::vector<std::vector<std::string>> lists;  // owned (missing)
  const double* dp = nullptr;
  const std::int64_t* ip = nullptr;
  const std::uint8_t* bp = nullptr;
  const std::uint8_t* pp = nullptr;
  const StrPtr* sp = nullptr;
  const ListPtr* lp = nullptr;
};

struct Scratch {
  std::size_t cap = 0;
  std::vector<Col> cols;
  std::vector<std::uint8_t> ones, zeros;
  std::vector<std::unique_ptr<Scratch>> subs;  // per node, for quant
  std::vector<std::uint8_t> hits;
};

void setup(Scratch& sc, const Program& prog, std::size_t cap) {
  sc.cap = cap;
  sc.ones.assign(cap, 1);
  sc.zeros.assign(cap, 0);
  sc.cols.assign(prog.nodes.size(), Col{});
  sc.subs.clear();
  sc.subs.resize(prog.nodes.size());
  for (std::size_t k = 0; k < prog.nodes.size(); ++k) {
    const Node& n = prog.nodes[k];
    Col& c = sc.cols[k];
    if (n.op == Op::fact) continue;  // points into the table
    switch (n.type) {
      case T::boolean: c.b.assign(cap, n.b ? 1 : 0); c.bp = c.b.data(); break;
      case T::integer:
      case T::date: c.i.assign(cap, n.i); c.ip = c.i.data(); break;
      case T::number: c.d.assign(cap, n.d); c.dp = c.d.data(); break;
      case T::text: c.s.assign(cap, &n.s); c.sp = c.s.data(); break;
      case T::list:
        c.l.assign(cap, &n.texts);
        c.lp = c.l.data();
        if (n.op == Op::missing) c.lists.assign(cap, {});
        break;
      case T::null: break;
    }
    const bool always_present = n.op == Op::truthy || n.op == Op::not_ || n.op == Op::and_ ||
                                n.op == Op::or_ || n.op == Op::cmp || n.op == Op::exists ||
                                n.op == Op::missing || n.op == Op::in_list ||
                                n.op == Op::in_texts || n.op == Op::in_numbers ||
                                n.op == Op::substring || n.op == Op::quant;
    if (n.op == Op::constant) {
      c.pp = n.present ? sc.ones.data() : sc.zeros.data();
    } else if (always_present) {
      c.pp = sc.ones.data();  // never written: these nodes always have a value
    } else {
      c.p.assign(cap, 1);
      c.pp = c.p.data();
    }
  }
}

template <typename A, typename B>
inline std::uint8_t compare(Cmp kind, const A& x, const B& y) {
  switch (kind) {
    case Cmp::eq: return x == y;
    case Cmp::ne: return !(x == y);
    case Cmp::lt: return x < y;
    case Cmp::le: return x <= y;
    case Cmp::gt: return x > y;
    case Cmp::ge: return x >= y;
  }
  return 0;
}

// out[r] = x[r] OP y[r] and both present. `yc`: y is a present constant (read once); a null
// present pointer means every cell is present. Each case is one loop the compiler vectorises.
template <typename V, typename F>
void cmp_loop(F op, const V* x, const V* y, bool yc, const std::uint8_t* px,
              const std::uint8_t* py, std::uint8_t* out, std::size_t n) {
  if (yc) {
    const V c = y[0];
    if (px) {
      for (std::size_t r = 0; r < n; ++r) out[r] = static_cast<std::uint8_t>(op(x[r], c) & px[r]);
    } else {
      for (std::size_t r = 0; r < n; ++r) out[r] = static_cast<std::uint8_t>(op(x[r], c));
    }
  } else if (px && py) {
    for (std::size_t r = 0; r < n; ++r)
      out[r] = static_cast<std::uint8_t>(op(x[r], y[r]) & px[r] & py[r]);
  } else if (px || py) {
    const std::uint8_t* p = px ? px : py;
    for (std::size_t r = 0; r < n; ++r) out[r] = static_cast<std::uint8_t>(op(x[r], y[r]) & p[r]);
  } else {
    for (std::size_t r = 0; r < n; ++r) out[r] = static_cast<std::uint8_t>(op(x[r], y[r]));
  }
}

template <typename V>
void cmp_kernel(Cmp kind, const V* x, const V* y, bool yc, const std::uint8_t* px,
                const std::uint8_t* py, std::uint8_t* out, std::size_t n) {
  switch (kind) {
    case Cmp::eq: cmp_loop([](V a, V b) { return a == b; }, x, y, yc, px, py, out, n); break;
    case Cmp::ne: cmp_loop([](V a, V b) { return a != b; }, x, y, yc, px, py, out, n); break;
    case Cmp::lt: cmp_loop([](V a, V b) { return a < b; }, x, y, yc, px, py, out, n); break;
    case Cmp::le: cmp_loop([](V a, V b) { return a <= b; }, x, y, yc, px, py, out, n); break;
    case Cmp::gt: cmp_loop([](V a, V b) { return a > b; }, x, y, yc, px, py, out, n); break;
    case Cmp::ge: cmp_loop([](V a, V b) { return a >= b; }, x, y, yc, px, py, out, n); break;
  }
}

// x OP y == y MIRROR(OP) x
Cmp mirror(Cmp kind) {
  switch (kind) {
    case Cmp::lt: return Cmp::gt;
    case Cmp::le: return Cmp::ge;
    case Cmp::gt: return Cmp::lt;
    case Cmp::ge: return Cmp::le;
    default: return kind;
  }
}

void run(const Program& prog, Scratch& sc, const FactTable* facts, std::size_t begin,
         std::size_t n, const StrPtr* elements);

void eval_node(const Program& prog, Scratch& sc, std::size_t k, const FactTable* facts,
               std::size_t begin, std::size_t n, const StrPtr* elements) {
  const Node& node = prog.nodes[k];
  Col& c = sc.cols[k];
  auto arg = [&](std::size_t j) -> const Col& { return sc.cols[static_cast<std::size_t>(node.args[j])]; };
  switch (node.op) {
    case Op::constant: return;
    case Op::element:
      c.sp = elements;
      c.pp = sc.ones.data();
      return;
    case Op::fact: {
      c.pp = facts->present(node.slot).data() + begin;
      switch (node.type) {
        case T::number: c.dp = facts->numbers(node.slot).data() + begin; break;
        case T::integer:
        case T::date: c.ip = facts->integers(node.slot).data() + begin; break;
        case T::boolean: c.bp = facts->booleans(node.slot).data() + begin; break;
        case T::text: {
          c.s.resize(sc.cap);
          const std::string* base = facts->texts(node.slot).data() + begin;
          for (std::size_t r = 0; r < n; ++r) c.s[r] = base + r;
          c.sp = c.s.data();
          break;
        }
        case T::list: {
          c.l.resize(sc.cap);
          const std::vector<std::string>* base = facts->text_lists(node.slot).data() + begin;
          for (std::size_t r = 0; r < n; ++r) c.l[r] = base + r;
          c.lp = c.l.data();
          break;
        }
        case T::null: break;
      }
      return;
    }
    case Op::to_num: {
      const Col& x = arg(0);
      for (std::size_t r = 0; r < n; ++r) c.d[r] = static_cast<double>(x.ip[r]);
      c.pp = x.pp;
      return;
    }
    case Op::truthy: {
      const Col& x = arg(0);
      std::uint8_t* out = c.b.data();
      const std::uint8_t* px = x.pp;
      switch (prog.nodes[static_cast<std::size_t>(node.args[0])].type) {
        case T::boolean: for (std::size_t r = 0; r < n; ++r) out[r] = x.bp[r] & px[r]; break;
        case T::integer: for (std::size_t r = 0; r < n; ++r) out[r] = (x.ip[r] != 0) & px[r]; break;
        case T::date: for (std::size_t r = 0; r < n; ++r) out[r] = px[r]; break;
        case T::number: for (std::size_t r = 0; r < n; ++r) out[r] = (x.dp[r] != 0) & px[r]; break;
        case T::text: for (std::size_t r = 0; r < n; ++r) out[r] = px[r] && !x.sp[r]->empty(); break;
        case T::list: for (std::size_t r = 0; r < n; ++r) out[r] = px[r] && !x.lp[r]->empty(); break;
        case T::null: for (std::size_t r = 0; r < n; ++r) out[r] = 0; break;
      }
      return;
    }
    case Op::not_: {
      const Col& x = arg(0);
      for (std::size_t r = 0; r < n; ++r) c.b[r] = (x.bp[r] & x.pp[r]) ^ 1;
      return;
    }
    case Op::and_:
    case Op::or_: {
      // Operands that are always present (comparisons, logic) skip their present flags.
      std::uint8_t* out = c.b.data();
      const std::uint8_t* ones = sc.ones.data();
      const Col& x0 = arg(0);
      if (x0.pp == ones) {
        for (std::size_t r = 0; r < n; ++r) out[r] = x0.bp[r];
      } else {
        for (std::size_t r = 0; r < n; ++r) out[r] = x0.bp[r] & x0.pp[r];
      }
      for (std::size_t j = 1; j < node.args.size(); ++j) {
        const Col& x = arg(j);
        const std::uint8_t* b = x.bp;
        const std::uint8_t* p = x.pp;
        if (node.op == Op::and_) {
          if (p == ones) {
            for (std::size_t r = 0; r < n; ++r) out[r] &= b[r];
          } else {
            for (std::size_t r = 0; r < n; ++r) out[r] &= b[r] & p[r];
          }
        } else {
          if (p == ones) {
            for (std::size_t r = 0; r < n; ++r) out[r] |= b[r];
          } else {
            for (std::size_t r = 0; r < n; ++r) out[r] |= b[r] & p[r];
          }
        }
      }
      return;
    }
    case Op::cmp: {
      const Col* x = &arg(0);
      const Col* y = &arg(1);
      Cmp kind = static_cast<Cmp>(node.kind);
      auto is_const = [&](std::size_t j) {
        const Node& a = prog.nodes[static_cast<std::size_t>(node.args[j])];
        return a.op == Op::constant && a.present;
      };
      bool yc = is_const(1);
      if (!yc && is_const(0)) {  // constant first: swap to put it second
        std::swap(x, y);
        kind = mirror(kind);
        yc = true;
      }
      const std::uint8_t* ones = sc.ones.data();
      const std::uint8_t* px = x->pp == ones ? nullptr : x->pp;
      const std::uint8_t* py = y->pp == ones ? nullptr : y->pp;
      std::uint8_t* out = c.b.data();
      switch (node.operand) {
        case T::number: cmp_kernel(kind, x->dp, y->dp, yc, px, py, out, n); break;
        case T::integer:
        case T::date: cmp_kernel(kind, x->ip, y->ip, yc, px, py, out, n); break;
        case T::boolean: cmp_kernel(kind, x->bp, y->bp, yc, px, py, out, n); break;
        case T::text:
          for (std::size_t r = 0; r < n; ++r)
            out[r] = (x->pp[r] & y->pp[r]) ? compare(kind, *x->sp[r], *y->sp[r]) : 0;
          break;
        default:
          for (std::size_t r = 0; r < n; ++r) out[r] = 0;
          break;
      }
      return;
    }
    case Op::arith: {
      const Arith kind = static_cast<Arith>(node.kind);
      const Col& x = arg(0);
      std::uint8_t* p = c.p.data();
      if (node.args.size() == 1) {
        if (node.type == T::integer) {
          for (std::size_t r = 0; r < n; ++r) {
            const std::int64_t v = x.ip[r];
            const bool ok = v != std::numeric_limits<std::int64_t>::min();
            c.i[r] = ok ? -v : 0;
            p[r] = x.pp[r] & ok;
          }
        } else {
          for (std::size_t r = 0; r < n; ++r) {
            const double v = kind == Arith::neg ? -x.dp[r] : 1.0 / x.dp[r];
            const bool ok = std::isfinite(v);
            c.d[r] = ok ? v : 0;
            p[r] = x.pp[r] & ok;
          }
        }
        return;
      }
      const Col& y = arg(1);
      const bool ints = node.type == T::integer || node.type == T::date;
      if (ints) {
        std::int64_t* out = c.i.data();
        for (std::size_t r = 0; r < n; ++r) {
          const std::int64_t a = x.ip[r], b = y.ip[r];
          std::int64_t v = 0;
          bool ok = true;
          switch (kind) {
            case Arith::add: ok = !__builtin_add_overflow(a, b, &v); break;
            case Arith::sub: ok = !__builtin_sub_overflow(a, b, &v); break;
            case Arith::mul: ok = !__builtin_mul_overflow(a, b, &v); break;
            case Arith::mod:
              ok = b != 0;
              v = ok ? (b == -1 ? 0 : a % b) : 0;
              break;
            case Arith::min: v = std::min(a, b); break;
            case Arith::max: v = std::max(a, b); break;
            default: ok = false; break;
          }
          out[r] = ok ? v : 0;
          p[r] = x.pp[r] & y.pp[r] & ok;
        }
      } else {
        double* out = c.d.data();
        const double* a = x.dp;
        const double* b = y.dp;
        switch (kind) {
          case Arith::add: for (std::size_t r = 0; r < n; ++r) out[r] = a[r] + b[r]; break;
          case Arith::sub: for (std::size_t r = 0; r < n; ++r) out[r] = a[r] - b[r]; break;
          case Arith::mul: for (std::size_t r = 0; r < n; ++r) out[r] = a[r] * b[r]; break;
          case Arith::div: for (std::size_t r = 0; r < n; ++r) out[r] = a[r] / b[r]; break;
          case Arith::mod: for (std::size_t r = 0; r < n; ++r) out[r] = std::fmod(a[r], b[r]); break;
          case Arith::min: for (std::size_t r = 0; r < n; ++r) out[r] = std::min(a[r], b[r]); break;
          case Arith::max: for (std::size_t r = 0; r < n; ++r) out[r] = std::max(a[r], b[r]); break;
          default: break;
        }
        for (std::size_t r = 0; r < n; ++r) {
          const bool ok = std::isfinite(out[r]);
          p[r] = x.pp[r] & y.pp[r] & ok;
          if (!ok) out[r] = 0;
        }
      }
      return;
    }
    case Op::if_:
    case Op::coalesce: {
      // if: args {cond, then, else}; coalesce: {a, b}
      const bool is_if = node.op == Op::if_;
      const Col& cond = arg(0);
      const Col& a = arg(is_if ? 1 : 0);
      const Col& b = arg(is_if ? 2 : 1);
      std::uint8_t* p = c.p.data();
      auto pick = [&](std::size_t r) -> bool { return is_if ? (cond.bp[r] & cond.pp[r]) != 0 : a.pp[r] != 0; };
      for (std::size_t r = 0; r < n; ++r) p[r] = pick(r) ? a.pp[r] : b.pp[r];
      switch (node.type) {
        case T::boolean: for (std::size_t r = 0; r < n; ++r) c.b[r] = pick(r) ? a.bp[r] : b.bp[r]; break;
        case T::integer:
        case T::date: for (std::size_t r = 0; r < n; ++r) c.i[r] = pick(r) ? a.ip[r] : b.ip[r]; break;
        case T::number: for (std::size_t r = 0; r < n; ++r) c.d[r] = pick(r) ? a.dp[r] : b.dp[r]; break;
        case T::text: for (std::size_t r = 0; r < n; ++r) c.s[r] = pick(r) ? a.sp[r] : b.sp[r]; break;
        case T::list: for (std::size_t r = 0; r < n; ++r) c.l[r] = pick(r) ? a.lp[r] : b.lp[r]; break;
        case T::null: break;
      }
      return;
    }
    case Op::exists: {
      const Col& x = arg(0);
      for (std::size_t r = 0; r < n; ++r) c.b[r] = x.pp[r];
      return;
    }
    case Op::missing: {
      for (std::size_t r = 0; r < n; ++r) {
        auto& out = c.lists[r];
        out.clear();
        std::size_t present = 0;
        for (std::size_t j = 0; j < node.args.size(); ++j) {
          if (arg(j).pp[r]) {
            ++present;
          } else {
            out.push_back(node.names[j]);
          }
        }
        if (node.need >= 0 && static_cast<std::int64_t>(present) >= node.need) out.clear();
        c.l[r] = &out;
      }
      return;
    }
    case Op::in_list: {
      const Col& x = arg(0);
      const Col& y = arg(1);
      for (std::size_t r = 0; r < n; ++r) {
        bool hit = false;
        if (x.pp[r] && y.pp[r])
          hit = std::find(y.lp[r]->begin(), y.lp[r]->end(), *x.sp[r]) != y.lp[r]->end();
        c.b[r] = hit;
      }
      return;
    }
    case Op::substring: {
      const Col& x = arg(0);
      const Col& y = arg(1);
      for (std::size_t r = 0; r < n; ++r)
        c.b[r] = x.pp[r] && y.pp[r] && y.sp[r]->find(*x.sp[r]) != std::string::npos;
      return;
    }
    case Op::in_texts: {
      const Col& x = arg(0);
      for (std::size_t r = 0; r < n; ++r)
        c.b[r] = x.pp[r] && std::binary_search(node.texts.begin(), node.texts.end(), *x.sp[r]);
      return;
    }
    case Op::in_numbers: {
      const Col& x = arg(0);
      for (std::size_t r = 0; r < n; ++r) {
        bool hit = false;
        for (double v : node.numbers) hit = hit || x.dp[r] == v;
        c.b[r] = hit & x.pp[r];
      }
      return;
    }
    case Op::quant: {
      const Col& x = arg(0);
      const Quant kind = static_cast<Quant>(node.kind);
      const Program& sub = *node.sub;
      auto& ss = sc.subs[k];
      if (!ss) ss = std::make_unique<Scratch>();
      for (std::size_t r = 0; r < n; ++r) {
        if (!x.pp[r]) {
          c.b[r] = 0;
          continue;
        }
        const auto& list = *x.lp[r];
        if (list.empty()) {
          c.b[r] = kind == Quant::none;
          continue;
        }
        if (ss->cap < list.size()) setup(*ss, sub, std::max<std::size_t>(list.size(), 16));
        std::vector<StrPtr> elems(list.size());
        for (std::size_t e = 0; e < list.size(); ++e) elems[e] = &list[e];
        run(sub, *ss, nullptr, 0, list.size(), elems.data());
        const Col& res = ss->cols[static_cast<std::size_t>(sub.root)];
        std::size_t hits = 0;
        for (std::size_t e = 0; e < list.size(); ++e) hits += res.bp[e] & res.pp[e];
        c.b[r] = kind == Quant::some ? hits > 0 : kind == Quant::all ? hits == list.size() : hits == 0;
      }
      return;
    }
  }
}

void run(const Program& prog, Scratch& sc, const FactTable* facts, std::size_t begin,
         std::size_t n, const StrPtr* elements) {
  for (std::size_t k = 0; k < prog.nodes.size(); ++k) eval_node(prog, sc, k, facts, begin, n, elements);
}

FactType fact_type_of(T t) {
  switch (t) {
    case T::integer: return FactType::integer;
    case T::number: return FactType::number;
    case T::text: return FactType::text;
    case T::date: return FactType::date;
    case T::list: return FactType::text_list;
    default: return FactType::boolean;
  }
}

std::shared_ptr<const detail::RuleProgram> build(const json& rule, const FactSchema& schema,
                                                 const RuleOptions& options) {
  auto rp = std::make_shared<detail::RuleProgram>();
  rp->schema = schema;
  rp->source = rule.dump();
  Compiler c(rp->schema, rp->main, false);
  int root = c.compile(rule, options.path);
  if (rp->main.nodes[static_cast<std::size_t>(root)].type == T::null)
    root = c.coerce(root, T::boolean, options.path);
  rp->main.root = root;
  for (const auto& n : rp->main.nodes)
    if (n.op == Op::fact) rp->deps.push_back(n.slot);
  std::sort(rp->deps.begin(), rp->deps.end());
  rp->deps.erase(std::unique(rp->deps.begin(), rp->deps.end()), rp->deps.end());
  rp->result = fact_type_of(rp->main.nodes[static_cast<std::size_t>(root)].type);
  return rp;
}

void check_table(const detail::RuleProgram& rp, const FactTable& facts) {
  const FactSchema& have = facts.schema();
  for (std::size_t slot : rp.deps) {
    const FactDecl& want = rp.schema[slot];
    if (slot >= have.size() || have[slot].name != want.name || have[slot].type != want.type)
      throw_invalid("facts", "the table does not hold the " + std::string(to_string(want.type)) +
                                 " fact " + detail::quote_text(want.name) + " at slot " +
                                 std::to_string(slot) + " (the rule was compiled against another schema)");
  }
}

constexpr std::size_t kBlock = 1024;

}  // namespace

// ---------------------------------------------------------------- Rule

Rule::Rule() : program_(build(json(true), FactSchema{}, RuleOptions{})) {}

Rule Rule::compile(std::string_view json_text, const FactSchema& schema, const RuleOptions& options) {
  const json rule = parse_json_strict(json_text, options.path.empty() ? "rule" : options.path);
  return compile_rule(rule, schema, options);
}

Rule compile_rule(const json& rule, const FactSchema& schema, const RuleOptions& options) {
  // A value a host built itself has not been through parse_json_strict: the same limits (depth,
  // UTF-8, finite numbers) before anything recurses into it or dumps it.
  detail::check_json_value(rule, options.path.empty() ? "rule" : options.path,
                           JsonLimits{}.max_depth);
  Rule r;
  detail::RuleAccess::set(r, build(rule, schema, options));
  return r;
}

bool Rule::test(const FactTable& facts, std::size_t row) const {
  if (row >= facts.rows())
    throw_error(ErrorCode::not_found, "row", "row " + std::to_string(row) +
                                                 " is out of range (the table has " +
                                                 std::to_string(facts.rows()) + " rows)");
  check_table(*program_, facts);
  Scratch sc;
  setup(sc, program_->main, 1);
  run(program_->main, sc, &facts, row, 1, nullptr);
  const Col& c = sc.cols[static_cast<std::size_t>(program_->main.root)];
  const T t = program_->main.nodes[static_cast<std::size_t>(program_->main.root)].type;
  if (!c.pp[0]) return false;
  switch (t) {
    case T::boolean: return c.bp[0] != 0;
    case T::integer: return c.ip[0] != 0;
    case T::number: return c.dp[0] != 0;
    case T::text: return !c.sp[0]->empty();
    case T::list: return !c.lp[0]->empty();
    case T::date: return true;
    case T::null: return false;
  }
  return false;
}

RuleValue Rule::evaluate(const FactTable& facts, std::size_t row) const {
  if (row >= facts.rows())
    throw_error(ErrorCode::not_found, "row", "row " + std::to_string(row) +
                                                 " is out of range (the table has " +
                                                 std::to_string(facts.rows()) + " rows)");
  check_table(*program_, facts);
  Scratch sc;
  setup(sc, program_->main, 1);
  run(program_->main, sc, &facts, row, 1, nullptr);
  const Col& c = sc.cols[static_cast<std::size_t>(program_->main.root)];
  const T t = program_->main.nodes[static_cast<std::size_t>(program_->main.root)].type;
  RuleValue v;
  v.type = program_->result;
  v.present = c.pp[0] != 0;
  if (!v.present) return v;
  switch (t) {
    case T::boolean: v.boolean = c.bp[0] != 0; break;
    case T::integer:
    case T::date: v.integer = c.ip[0]; break;
    case T::number: v.number = c.dp[0]; break;
    case T::text: v.text = *c.sp[0]; break;
    case T::list: v.texts = *c.lp[0]; break;
    case T::null: v.present = false; break;
  }
  return v;
}

std::vector<std::uint8_t> Rule::test_all(const FactTable& facts) const {
  std::vector<std::uint8_t> out(facts.rows());
  test_all(facts, out);
  return out;
}

void Rule::test_all(const FactTable& facts, std::span<std::uint8_t> out) const {
  if (out.size() != facts.rows())
    throw_invalid("out", "has " + std::to_string(out.size()) + " elements, the table " +
                             std::to_string(facts.rows()) + " rows");
  test_rows(facts, 0, out);
}

void Rule::test_rows(const FactTable& facts, std::size_t first, std::span<std::uint8_t> out) const {
  if (first > facts.rows() || out.size() > facts.rows() - first)
    throw_invalid("out", "rows " + std::to_string(first) + " to " + std::to_string(first + out.size()) +
                             " are not all in the table (" + std::to_string(facts.rows()) + " rows)");
  check_table(*program_, facts);
  const Program& prog = program_->main;
  const std::size_t root = static_cast<std::size_t>(prog.root);
  const T t = prog.nodes[root].type;
  // The truthiness of a non-bool root is one more node, evaluated here.
  Scratch sc;
  setup(sc, prog, std::min(kBlock, std::max<std::size_t>(out.size(), 1)));
  for (std::size_t done = 0; done < out.size(); done += kBlock) {
    const std::size_t n = std::min(kBlock, out.size() - done);
    run(prog, sc, &facts, first + done, n, nullptr);
    const Col& c = sc.cols[root];
    std::uint8_t* o = out.data() + done;
    switch (t) {
      case T::boolean: for (std::size_t r = 0; r < n; ++r) o[r] = c.bp[r] & c.pp[r]; break;
      case T::integer: for (std::size_t r = 0; r < n; ++r) o[r] = (c.ip[r] != 0) & c.pp[r]; break;
      case T::number: for (std::size_t r = 0; r < n; ++r) o[r] = (c.dp[r] != 0) & c.pp[r]; break;
      case T::date: for (std::size_t r = 0; r < n; ++r) o[r] = c.pp[r]; break;
      case T::text: for (std::size_t r = 0; r < n; ++r) o[r] = c.pp[r] && !c.sp[r]->empty(); break;
      case T::list: for (std::size_t r = 0; r < n; ++r) o[r] = c.pp[r] && !c.lp[r]->empty(); break;
      case T::null: for (std::size_t r = 0; r < n; ++r) o[r] = 0; break;
    }
  }
}

const std::vector<std::size_t>& Rule::dependencies() const noexcept { return program_->deps; }

std::vector<std::string> Rule::dependency_names() const {
  std::vector<std::string> out;
  for (std::size_t s : program_->deps) out.push_back(program_->schema[s].name);
  return out;
}

const FactSchema& Rule::schema() const noexcept { return program_->schema; }
FactType Rule::result_type() const noexcept { return program_->result; }
const std::string& Rule::source() const noexcept { return program_->source; }

std::string RuleValue::to_json() const {
  if (!present) return "null";
  switch (type) {
    case FactType::boolean: return boolean ? "true" : "false";
    case FactType::integer: return std::to_string(integer);
    case FactType::number: {
      if (number == std::floor(number) && std::fabs(number) <= 9007199254740992.0)
        return std::to_string(static_cast<std::int64_t>(number));
      return detail::js_number_to_string(number);
    }
    case FactType::text: return json(text).dump();
    case FactType::date: return json(Date::from_days_since_epoch(integer).to_string()).dump();
    case FactType::text_list: return json(texts).dump();
  }
  return "null";
}

}  // namespace v0
}  // namespace crmkit
