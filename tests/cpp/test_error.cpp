// Tests for crmkit/base/error.hpp: the one exception type, its codes and message format.
#include <catch2/catch.hpp>

#include <cstddef>
#include <set>
#include <stdexcept>
#include <string>

#include "crmkit/base/error.hpp"

using crmkit::Error;
using crmkit::ErrorCode;

TEST_CASE("all_error_codes lists every ErrorCode once, in order, and to_string reads it") {
  std::set<std::string> names;
  std::size_t i = 0;
  for (const crmkit::ErrorCodeName& entry : crmkit::all_error_codes) {
    CHECK(static_cast<std::size_t>(entry.code) == i++);  // enumerator order, no gaps
    CHECK(crmkit::to_string(entry.code) == std::string(entry.name));
    const std::string name = entry.name;
    CHECK(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == std::string::npos);
    CHECK(names.insert(name).second);  // each name once
  }
  CHECK(i == 9);
  CHECK(std::string(crmkit::to_string(ErrorCode::invalid_argument)) == "invalid_argument");
  CHECK(std::string(crmkit::to_string(ErrorCode::corrupt)) == "corrupt");
  // The value after the last code is no ErrorCode (the static_assert in error.hpp holds this).
  CHECK(std::string(crmkit::to_string(static_cast<ErrorCode>(i))) == "unknown");
}

TEST_CASE("Error keeps its code and message and is a std::runtime_error") {
  const Error e(ErrorCode::conflict, "customer.email: already used by customer 7");
  CHECK(e.code() == ErrorCode::conflict);
  CHECK(std::string(e.what()) == "customer.email: already used by customer 7");
  const std::runtime_error& base = e;
  CHECK(std::string(base.what()) == "customer.email: already used by customer 7");
  const Error copy = e;
  CHECK(copy.code() == ErrorCode::conflict);
  CHECK(std::string(copy.what()) == e.what());
}

TEST_CASE("throw_invalid writes '<field>: <problem>' with invalid_argument") {
  try {
    crmkit::throw_invalid("purchase.amount", "12.345 has more decimals than CNY allows (2)");
    FAIL("throw_invalid returned");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::invalid_argument);
    CHECK(std::string(e.what()) == "purchase.amount: 12.345 has more decimals than CNY allows (2)");
  }
}

TEST_CASE("throw_error carries the given code and omits the separator without a field") {
  try {
    crmkit::throw_error(ErrorCode::not_found, "customer", "no customer with id 42");
    FAIL("throw_error returned");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::not_found);
    CHECK(std::string(e.what()) == "customer: no customer with id 42");
  }
  try {
    crmkit::throw_error(ErrorCode::storage, "", "disk full");
    FAIL("throw_error returned");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::storage);
    CHECK(std::string(e.what()) == "disk full");
  }
}

TEST_CASE("A host catching std::exception sees crmkit errors") {
  try {
    crmkit::throw_error(ErrorCode::overflow, "amount", "sum is outside the exact range");
    FAIL("throw_error returned");
  } catch (const std::exception& e) {
    CHECK(std::string(e.what()) == "amount: sum is outside the exact range");
    const auto* err = dynamic_cast<const Error*>(&e);
    REQUIRE(err != nullptr);
    CHECK(err->code() == ErrorCode::overflow);
  }
}
