// FactSchema and FactTable (crmkit/rules/facts.hpp).
#include "crmkit/rules/facts.hpp"

#include <cmath>
#include <string>
#include <utility>

#include "base/text.hpp"
#include "crmkit/base/error.hpp"

namespace crmkit {
inline namespace v0 {

namespace {

struct TypeName {
  FactType type;
  const char* name;
};
constexpr TypeName kTypeNames[] = {
    {FactType::number, "number"},   {FactType::integer, "integer"},
    {FactType::boolean, "bool"},    {FactType::text, "text"},
    {FactType::date, "date"},       {FactType::text_list, "list of text"},
};

bool valid_fact_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 128) return false;
  if (name.front() == '.' || name.back() == '.') return false;
  if (name.find("..") != std::string_view::npos) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

const char* to_string(FactType type) noexcept {
  for (const auto& t : kTypeNames)
    if (t.type == type) return t.name;
  return "unknown";
}

FactType fact_type_from_string(std::string_view name, std::string_view field) {
  for (const auto& t : kTypeNames)
    if (name == t.name) return t.type;
  if (name == "boolean") return FactType::boolean;
  if (name == "text_list") return FactType::text_list;
  throw_invalid(field, "unknown fact type " + detail::quote_code(name) +
                           " (expected number, integer, bool, text, date or list of text)");
}

std::size_t FactSchema::add(std::string name, FactType type, std::string description) {
  if (!valid_fact_name(name))
    throw_invalid("fact", "invalid fact name " + detail::quote_text(name) +
                              " (1..128 ASCII letters, digits, '_' and '.', no leading, trailing "
                              "or doubled '.')");
  if (find(name))
    throw_error(ErrorCode::conflict, "fact", "fact " + detail::quote_text(name) +
                                                 " is declared twice");
  facts_.push_back(FactDecl{std::move(name), type, std::move(description)});
  return facts_.size() - 1;
}

std::optional<std::size_t> FactSchema::find(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < facts_.size(); ++i)
    if (facts_[i].name == name) return i;
  return std::nullopt;
}

std::size_t FactSchema::slot(std::string_view name) const {
  if (auto s = find(name)) return *s;
  throw_error(ErrorCode::not_found, "fact", "no fact named " + detail::quote_text(name) +
                                                " is declared");
}

bool operator==(const FactSchema& a, const FactSchema& b) noexcept {
  if (a.facts_.size() != b.facts_.size()) return false;
  for (std::size_t i = 0; i < a.facts_.size(); ++i)
    if (a.facts_[i].name != b.facts_[i].name || a.facts_[i].type != b.facts_[i].type) return false;
  return true;
}

FactTable::FactTable(FactSchema schema, std::size_t rows)
    : schema_(std::move(schema)), rows_(rows), columns_(schema_.size()) {
  for (std::size_t s = 0; s < schema_.size(); ++s) {
    Column& c = columns_[s];
    c.type = schema_[s].type;
    c.present.assign(rows, 0);
    switch (c.type) {
      case FactType::number: c.numbers.assign(rows, 0.0); break;
      case FactType::integer:
      case FactType::date: c.integers.assign(rows, 0); break;
      case FactType::boolean: c.booleans.assign(rows, 0); break;
      case FactType::text: c.texts.assign(rows, std::string()); break;
      case FactType::text_list: c.text_lists.assign(rows, {}); break;
    }
  }
}

const FactTable::Column& FactTable::column(std::size_t slot, FactType want, bool date_ok) const {
  if (slot >= columns_.size())
    throw_error(ErrorCode::not_found, "fact", "slot " + std::to_string(slot) +
                                                  " is out of range (the schema declares " +
                                                  std::to_string(columns_.size()) + " facts)");
  const Column& c = columns_[slot];
  if (c.type != want && !(date_ok && c.type == FactType::date))
    throw_invalid(schema_[slot].name, std::string("is a ") + to_string(c.type) +
                                          " fact, not a " + to_string(want) + " column");
  return c;
}

FactTable::Column& FactTable::column(std::size_t slot, FactType want, bool date_ok) {
  return const_cast<Column&>(std::as_const(*this).column(slot, want, date_ok));
}

void FactTable::check_row(std::size_t row) const {
  if (row >= rows_)
    throw_error(ErrorCode::not_found, "row", "row " + std::to_string(row) +
                                                 " is out of range (the table has " +
                                                 std::to_string(rows_) + " rows)");
}

std::span<double> FactTable::numbers(std::size_t slot) {
  return column(slot, FactType::number, false).numbers;
}
std::span<const double> FactTable::numbers(std::size_t slot) const {
  return column(slot, FactType::number, false).numbers;
}
std::span<std::int64_t> FactTable::integers(std::size_t slot) {
  return column(slot, FactType::integer, true).integers;
}
std::span<const std::int64_t> FactTable::integers(std::size_t slot) const {
  return column(slot, FactType::integer, true).integers;
}
std::span<std::uint8_t> FactTable::booleans(std::size_t slot) {
  return column(slot, FactType::boolean, false).booleans;
}
std::span<const std::uint8_t> FactTable::booleans(std::size_t slot) const {
  return column(slot, FactType::boolean, false).booleans;
}
std::span<std::string> FactTable::texts(std::size_t slot) {
  return column(slot, FactType::text, false).texts;
}
std::span<const std::string> FactTable::texts(std::size_t slot) const {
  return column(slot, FactType::text, false).texts;
}
std::span<std::vector<std::string>> FactTable::text_lists(std::size_t slot) {
  return column(slot, FactType::text_list, false).text_lists;
}
std::span<const std::vector<std::string>> FactTable::text_lists(std::size_t slot) const {
  return column(slot, FactType::text_list, false).text_lists;
}

std::span<std::uint8_t> FactTable::present(std::size_t slot) {
  if (slot >= columns_.size()) column(slot, FactType::number, false);  // throws not_found
  return columns_[slot].present;
}
std::span<const std::uint8_t> FactTable::present(std::size_t slot) const {
  if (slot >= columns_.size()) column(slot, FactType::number, false);
  return columns_[slot].present;
}

void FactTable::set_number(std::size_t row, std::size_t slot, double value) {
  Column& c = column(slot, FactType::number, false);
  check_row(row);
  if (!std::isfinite(value))
    throw_invalid(schema_[slot].name, "row " + std::to_string(row) +
                                          ": a number fact must be finite (got NaN or infinity)");
  c.numbers[row] = value;
  c.present[row] = 1;
}
void FactTable::set_integer(std::size_t row, std::size_t slot, std::int64_t value) {
  Column& c = column(slot, FactType::integer, false);
  check_row(row);
  c.integers[row] = value;
  c.present[row] = 1;
}
void FactTable::set_boolean(std::size_t row, std::size_t slot, bool value) {
  Column& c = column(slot, FactType::boolean, false);
  check_row(row);
  c.booleans[row] = value ? 1 : 0;
  c.present[row] = 1;
}
void FactTable::set_text(std::size_t row, std::size_t slot, std::string value) {
  Column& c = column(slot, FactType::text, false);
  check_row(row);
  c.texts[row] = std::move(value);
  c.present[row] = 1;
}
void FactTable::set_date(std::size_t row, std::size_t slot, std::int64_t days_since_epoch) {
  Column& c = column(slot, FactType::date, false);
  check_row(row);
  c.integers[row] = days_since_epoch;
  c.present[row] = 1;
}
void FactTable::set_text_list(std::size_t row, std::size_t slot, std::vector<std::string> value) {
  Column& c = column(slot, FactType::text_list, false);
  check_row(row);
  c.text_lists[row] = std::move(value);
  c.present[row] = 1;
}
void FactTable::set_missing(std::size_t row, std::size_t slot) {
  if (slot >= columns_.size()) column(slot, FactType::number, false);
  check_row(row);
  Column& c = columns_[slot];
  c.present[row] = 0;
  switch (c.type) {
    case FactType::number: c.numbers[row] = 0.0; break;
    case FactType::integer:
    case FactType::date: c.integers[row] = 0; break;
    case FactType::boolean: c.booleans[row] = 0; break;
    case FactType::text: c.texts[row].clear(); break;
    case FactType::text_list: c.text_lists[row].clear(); break;
  }
}
bool FactTable::is_present(std::size_t row, std::size_t slot) const {
  if (slot >= columns_.size()) column(slot, FactType::number, false);
  check_row(row);
  return columns_[slot].present[row] != 0;
}

}  // namespace v0
}  // namespace crmkit
