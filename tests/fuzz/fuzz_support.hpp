// Shared by the libFuzzer targets of tests/fuzz: the input as text, and the one check every
// target makes beyond "no crash": a property that must hold aborts with a message (the fuzzer
// then reports the input as a crash). crmkit::Error is the only exception a target catches;
// any other exception escapes LLVMFuzzerTestOneInput and libFuzzer reports it (an uncaught
// exception is std::terminate, i.e. a deadly signal).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace crmkit_fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Aborts (a finding) when `ok` is false; `what` says which property failed.
inline void require(bool ok, const char* what, std::string_view detail = {}) {
  if (ok) return;
  std::fprintf(stderr, "crmkit fuzz: property failed: %s\n%.*s\n", what,
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

}  // namespace crmkit_fuzz
