// Fuzz target: Store::import_jsonl of untrusted bytes into a fresh ":memory:" USD store.
// Properties: only crmkit::Error is thrown; a refused import leaves the store empty (a failed
// call changes nothing); an accepted one exports, and that export imports into another fresh
// store and exports again byte for byte (what a store accepts, it can restore).
// Each input is imported twice: as it is (which mostly exercises the trailer check: a mutated
// export no longer matches its counts and checksum) and resealed, with its trailer recomputed
// for its lines as they are (crmkit::test::reseal, shared with the C++ tests), so the mutations reach the line-by-line checks behind the
// trailer, as a forger who recomputes the checksum would.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "crmkit/crmkit.hpp"
#include "fuzz_support.hpp"
#include "../cpp/jsonl_reseal.hpp"

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
  import_one(crmkit::test::reseal(text));
  return 0;
}
