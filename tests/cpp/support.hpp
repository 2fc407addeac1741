// Helpers shared by the C++ tests (header-only): temporary directories, USD shorthands, customer
// builders, store dumps and checks that an expression throws crmkit::Error.
#pragma once

#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "crmkit/error.hpp"
#include "crmkit/store.hpp"

// Runs `expr`, which must throw crmkit::Error with `code` and exactly the message `msg`.
#define CHECK_ERROR(expr, code_, msg)                    \
  do {                                                   \
    try {                                                \
      (void)(expr);                                      \
      FAIL_CHECK("no exception from: " #expr);           \
    } catch (const crmkit::Error& e_) {                  \
      CHECK(e_.code() == (code_));                       \
      CHECK(std::string(e_.what()) == std::string(msg)); \
    }                                                    \
  } while (0)

// Runs `expr`, which must throw crmkit::Error{invalid_argument} with exactly the message `msg`.
#define CHECK_INVALID(expr, msg) CHECK_ERROR(expr, crmkit::ErrorCode::invalid_argument, msg)

// Like CHECK_INVALID, for messages whose tail comes from another layer: checks the start only.
#define CHECK_INVALID_PREFIX(expr, prefix)                                     \
  do {                                                                         \
    try {                                                                      \
      (void)(expr);                                                            \
      FAIL_CHECK("no exception from: " #expr);                                 \
    } catch (const crmkit::Error& e_) {                                        \
      CHECK(e_.code() == crmkit::ErrorCode::invalid_argument);                 \
      CHECK_THAT(std::string(e_.what()), Catch::Matchers::StartsWith(prefix)); \
    }                                                                          \
  } while (0)

namespace crmkit::test {

// A fresh directory crmkit_test_<tag>_<pid>_<n>_<ticks> under the system temp dir, removed on exit.
struct TempDir {
  std::filesystem::path dir;
  explicit TempDir(const std::string& tag) {
    static std::atomic<int> counter{0};
    dir = std::filesystem::temp_directory_path() /
          ("crmkit_test_" + tag + "_" + std::to_string(::getpid()) + "_" +
           std::to_string(counter++) + "_" +
           std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::filesystem::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  // The path of `name` inside the directory.
  std::string file(const std::string& name) const { return (dir / name).string(); }
};

// The US dollar.
inline const Currency kUsd = Currency::of("USD");

// Store options with the store currency set to USD (everything else default).
inline StoreOptions usd() {
  StoreOptions o;
  o.currency = "USD";
  return o;
}

// A USD amount from its decimal text, e.g. m("12.34").
inline Money m(const char* text) { return Money::parse(text, kUsd); }

// A customer with external id `ext`, `name` and, when not empty, an e-mail and a phone contact.
inline Customer person(const std::string& ext, const std::string& name,
                       const std::string& email = "", const std::string& phone = "") {
  Customer c;
  c.external_id = ext;
  c.name = name;
  if (!email.empty()) c.contacts.push_back({ContactKind::email, email, "", false});
  if (!phone.empty()) c.contacts.push_back({ContactKind::phone, phone, "", false});
  return c;
}

// A customer with external id `ext`, named "Name <ext>", without contacts.
inline Customer person(const std::string& ext) { return person(ext, "Name " + ext); }

// The store's JSON Lines export as one string.
inline std::string dump(const Store& s) {
  std::ostringstream out;
  s.export_jsonl(out);
  return out.str();
}

// The whole content of the file at `path`, byte for byte ("" when it cannot be read).
inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Calls `f`, which must throw crmkit::Error, and returns the error (fails the test otherwise).
template <typename F>
inline Error catch_error(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  FAIL("expected crmkit::Error");
  return Error(ErrorCode::storage, "unreachable");
}

}  // namespace crmkit::test
