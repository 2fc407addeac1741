// Fuzz target: Store::import_jsonl of untrusted bytes into a fresh ":memory:" USD store.
// Properties: only crmkit::Error is thrown; a refused import leaves the store empty (a failed
// call changes nothing); an accepted one exports, and that export imports into another fresh
// store and exports again byte for byte (what a store accepts, it can restore).
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Store store = fresh();
  const std::string empty = export_of(store);
  std::istringstream in(std::string(crmkit_fuzz::as_text(data, size)));
  try {
    store.import_jsonl(in);
  } catch (const Error&) {
    require(export_of(store) == empty, "a refused import leaves the store empty");
    return 0;
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
  return 0;
}
