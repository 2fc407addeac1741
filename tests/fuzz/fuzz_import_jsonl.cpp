// Fuzz target: Store::import_jsonl of untrusted bytes into a fresh ":memory:" USD store.
// Properties: only crmkit::Error is thrown; a refused import leaves the store empty (a failed
// call changes nothing); an accepted one exports, and that export imports into another fresh
// store and exports again byte for byte (what a store accepts, it can restore).
// Each input is imported twice: as it is (which mostly exercises the trailer check: a mutated
// export no longer matches its counts and checksum) and resealed, with its trailer recomputed
// for its lines as they are (reseal), so the mutations reach the line-by-line checks behind the
// trailer, as a forger who recomputes the checksum would.
#include <cstddef>
#include <cstdint>
#include <map>
#include <sstream>
#include <string>

#include <openssl/evp.h>
#include <nlohmann/json.hpp>

#include "crmkit/crmkit.hpp"
#include "fuzz_support.hpp"

using namespace crmkit;
using crmkit_fuzz::require;

namespace {

Store fresh() {
  StoreOptions o;
  o.currency = "USD";
  o.synchronous = SyncMode::off;
  return Store::open(":memory:", o);
}

std::string export_of(const Store& s) {
  std::ostringstream out;
  s.export_jsonl(out);
  return out.str();
}

// `text` without its trailer lines and with a trailer recomputed for its lines: counts per record
// kind (the first key of each line after the header) and the SHA-256 of the bytes before it.
std::string reseal(const std::string& text) {
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
  require(EVP_Digest(body.data(), body.size(), md, &len, EVP_sha256(), nullptr) == 1,
          "SHA-256 of the body");
  static const char* digits = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(digits[md[i] >> 4]);
    hex.push_back(digits[md[i] & 15]);
  }
  const nlohmann::json trailer = {{"trailer", {{"counts", counts}, {"sha256", hex}}}};
  return body + trailer.dump() + "\n";
}

void import_one(const std::string& text) {
  Store store = fresh();
  const std::string empty = export_of(store);
  std::istringstream in(text);
  try {
    store.import_jsonl(in);
  } catch (const Error&) {
    require(export_of(store) == empty, "a refused import leaves the store empty");
    return;
  }
  const std::string first = export_of(store);
  Store again = fresh();
  std::istringstream in2(first);
  try {
    again.import_jsonl(in2);
  } catch (const Error& e) {
    require(false, "the export of an accepted import imports again", std::string(e.what()) + "\n" + first);
  }
  require(export_of(again) == first, "export, import, export is byte-identical", first);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(crmkit_fuzz::as_text(data, size));
  import_one(text);
  import_one(reseal(text));
  return 0;
}
