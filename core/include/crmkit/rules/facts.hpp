// crmkit/rules/facts.hpp: declared facts (name and type) and tables of their values, the input of
// strict JSON Logic rules (crmkit/rules/rules.hpp).
//
// A FactSchema declares the facts a rule may read: each has a name (what a rule's {"var": ...}
// names) and a type. A FactTable holds one typed column per declared fact and one row per entity
// (a customer, an opportunity); every cell is either a value or missing. The same table serves
// one row (a single customer) and millions (bulk evaluation over columns).
//
// Types and their column storage:
//   number     double                      (finite; NaN and infinities are refused on set)
//   integer    std::int64_t
//   boolean    std::uint8_t (0 or 1)
//   text       std::string                 (UTF-8)
//   date       std::int64_t                days since 1970-01-01 (Date::days_since_epoch)
//   text_list  std::vector<std::string>    (tags, a set of codes)
//
// Missing values: present(slot)[row] is 0 for a missing cell, whose storage holds the type's zero
// value. A new table has every cell missing. What a rule makes of a missing value is defined once,
// in crmkit/rules/rules.hpp.
//
// Thread-safety: values. Concurrent reads of one object are safe; a write needs exclusive access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace crmkit {
inline namespace v0 {

enum class FactType { number, integer, boolean, text, date, text_list };

// "number", "integer", "bool", "text", "date", "list of text" (the names definitions use).
const char* to_string(FactType type) noexcept;
// Reads those names ("boolean" and "text_list" are accepted too). Throws Error{invalid_argument}
// naming `field` and listing the accepted names for anything else.
FactType fact_type_from_string(std::string_view name, std::string_view field = "type");

struct FactDecl {
  std::string name;          // what {"var": name} reads
  FactType type = FactType::number;
  std::string description;   // for documentation and error messages; may be empty
};

// An ordered set of declared facts. A fact's slot is its position, stable once added.
class FactSchema {
 public:
  FactSchema() = default;

  // Declares a fact and returns its slot. A name is 1..128 bytes of ASCII letters, digits, '_'
  // and '.', neither starting nor ending with '.' nor holding "..": "days_since_last_purchase",
  // "consent.email.marketing". Throws Error{invalid_argument} for a bad name and Error{conflict}
  // for a name already declared; the schema is unchanged then.
  std::size_t add(std::string name, FactType type, std::string description = {});

  // The slot of `name`, or nullopt if it is not declared.
  std::optional<std::size_t> find(std::string_view name) const noexcept;
  // The slot of `name`. Throws Error{not_found} naming it.
  std::size_t slot(std::string_view name) const;

  std::size_t size() const noexcept { return facts_.size(); }
  bool empty() const noexcept { return facts_.empty(); }
  // Precondition: slot < size().
  const FactDecl& operator[](std::size_t slot) const noexcept { return facts_[slot]; }
  const std::vector<FactDecl>& facts() const noexcept { return facts_; }

  // Same names and types in the same order (descriptions are not compared).
  friend bool operator==(const FactSchema& a, const FactSchema& b) noexcept;

 private:
  std::vector<FactDecl> facts_;
};

// Columns of fact values: schema().size() columns of rows() cells.
class FactTable {
 public:
  FactTable() = default;
  // A table of `rows` rows, every cell missing.
  FactTable(FactSchema schema, std::size_t rows);

  const FactSchema& schema() const noexcept { return schema_; }
  std::size_t rows() const noexcept { return rows_; }

  // Whole columns for bulk fill and bulk reads. Each accessor throws Error{invalid_argument} if
  // `slot`'s type does not match (dates use integers()) and Error{not_found} for a slot out of
  // range. Writing through the spans does not mark cells present: set present(slot) too.
  std::span<double> numbers(std::size_t slot);
  std::span<const double> numbers(std::size_t slot) const;
  std::span<std::int64_t> integers(std::size_t slot);        // integer and date columns
  std::span<const std::int64_t> integers(std::size_t slot) const;
  std::span<std::uint8_t> booleans(std::size_t slot);
  std::span<const std::uint8_t> booleans(std::size_t slot) const;
  std::span<std::string> texts(std::size_t slot);
  std::span<const std::string> texts(std::size_t slot) const;
  std::span<std::vector<std::string>> text_lists(std::size_t slot);
  std::span<const std::vector<std::string>> text_lists(std::size_t slot) const;
  // 1 = the cell holds a value, 0 = missing. Any slot type.
  std::span<std::uint8_t> present(std::size_t slot);
  std::span<const std::uint8_t> present(std::size_t slot) const;

  // Cell setters that also mark the cell present. They check the slot's type like the column
  // accessors and throw Error{not_found} for a row out of range; set_number throws
  // Error{invalid_argument} for a NaN or infinite value (naming the fact and row).
  void set_number(std::size_t row, std::size_t slot, double value);
  void set_integer(std::size_t row, std::size_t slot, std::int64_t value);
  void set_boolean(std::size_t row, std::size_t slot, bool value);
  void set_text(std::size_t row, std::size_t slot, std::string value);
  void set_date(std::size_t row, std::size_t slot, std::int64_t days_since_epoch);
  void set_text_list(std::size_t row, std::size_t slot, std::vector<std::string> value);
  // Marks the cell missing and resets its storage to the type's zero value.
  void set_missing(std::size_t row, std::size_t slot);
  bool is_present(std::size_t row, std::size_t slot) const;

 private:
  struct Column {
    FactType type = FactType::number;
    std::vector<double> numbers;
    std::vector<std::int64_t> integers;
    std::vector<std::uint8_t> booleans;
    std::vector<std::string> texts;
    std::vector<std::vector<std::string>> text_lists;
    std::vector<std::uint8_t> present;
  };
  Column& column(std::size_t slot, FactType want, bool date_ok);
  const Column& column(std::size_t slot, FactType want, bool date_ok) const;
  void check_row(std::size_t row) const;

  FactSchema schema_;
  std::size_t rows_ = 0;
  std::vector<Column> columns_;
};

}  // namespace v0
}  // namespace crmkit
