// reseal() for the tests of export_jsonl / import_jsonl and the import_jsonl fuzz target
// (header-only, no test framework): recomputes an export's trailer line (counts and SHA-256,
// with OpenSSL like the store) after a test tampered with its lines, so the checks behind the
// trailer can be tested on their own.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace crmkit::test {

// An export `text` (as dump() gives it) with its trailer line recomputed for its lines as they
// are now (a trailer already there is dropped first, lines after it kept): a tampered export
// whose counts and checksum agree, to test the checks behind the trailer. The record kind of a
// line is the first key of its object ({"<kind>":...}).
inline std::string reseal(const std::string& text) {
  std::map<std::string, std::int64_t> counts;
  for (const char* k : {"field", "customer", "event", "opportunity", "state", "transition",
                        "points_program", "points_entry", "audit", "suppression"})
    counts[k] = 0;
  std::string body;
  std::istringstream in(text);
  std::string line;
  bool first = true;
  while (std::getline(in, line)) {
    if (line.rfind("{\"trailer\":", 0) == 0) continue;
    body += line + "\n";
    if (first) {
      first = false;
      continue;
    }
    const auto end = line.find('"', 2);
    if (line.rfind("{\"", 0) == 0 && end != std::string::npos) {
      auto it = counts.find(line.substr(2, end - 2));
      if (it != counts.end()) ++it->second;
    }
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(body.data(), body.size(), md, &len, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("reseal: SHA-256 failed");
  static const char* digits = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(digits[md[i] >> 4]);
    hex.push_back(digits[md[i] & 15]);
  }
  const nlohmann::json trailer = {{"trailer", {{"counts", counts}, {"sha256", hex}}}};
  return body + trailer.dump() + "\n";
}

}  // namespace crmkit::test
