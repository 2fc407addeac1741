// Fuzz target: event JSON. event_from_json_text reads untrusted JSON; validate_event then checks
// it against the store currency USD. Properties: only crmkit::Error is thrown; an event that
// reads back is written by to_json into text that reads back to an equal event.
#include <cstddef>
#include <cstdint>

#include "crmkit/crmkit.hpp"
#include "crmkit/json.hpp"
#include "fuzz_support.hpp"

using namespace crmkit;
using crmkit_fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Currency usd = Currency::of("USD");
  try {
    const Event e = event_from_json_text(crmkit_fuzz::as_text(data, size));
    const std::string text = to_json(e).dump();
    Event back;
    try {
      back = event_from_json_text(text);
    } catch (const Error& err) {
      require(false, "to_json of an event read from JSON reads back", std::string(err.what()) + "\n" + text);
    }
    require(back == e, "to_json of an event read from JSON reads back equal", text);
    validate_event(e, usd);
  } catch (const Error&) {
  }
  return 0;
}
