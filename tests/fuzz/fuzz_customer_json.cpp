// Fuzz target: customer JSON. customer_from_json_text reads untrusted JSON (an API payload, a
// JSON Lines import); validate_customer then checks it against a custom-field schema of every
// field type. Properties: only crmkit::Error is thrown; a customer that reads back is written by
// to_json into text that reads back to an equal customer, before and after validation (so the
// export of whatever a store accepts can be imported).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "crmkit/crmkit.hpp"
#include "crmkit/json.hpp"
#include "fuzz_support.hpp"

using namespace crmkit;
using crmkit_fuzz::require;

namespace {

std::vector<FieldDef> fields() {
  std::vector<FieldDef> f(8);
  f[0].name = "vip_level";
  f[0].type = FieldType::integer;
  f[1].name = "tier";
  f[1].type = FieldType::enumeration;
  f[1].enum_values = {"gold", "silver"};
  f[2].name = "credit";
  f[2].type = FieldType::money;
  f[3].name = "deposit";
  f[3].type = FieldType::money;
  f[3].currency = "EUR";
  f[4].name = "vip_since";
  f[4].type = FieldType::date;
  f[5].name = "discount";
  f[5].type = FieldType::decimal;
  f[6].name = "newsletter";
  f[6].type = FieldType::boolean;
  f[7].name = "note";
  f[7].type = FieldType::text;
  f[7].personal = true;
  return f;
}

void round_trip(const Customer& c, const char* when) {
  const std::string text = to_json(c).dump();
  Customer back;
  try {
    back = customer_from_json_text(text);
  } catch (const Error& e) {
    require(false, when, std::string(e.what()) + "\n" + text);
  }
  require(back == c, when, text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<FieldDef> schema = fields();
  static const Currency usd = Currency::of("USD");
  try {
    Customer c = customer_from_json_text(crmkit_fuzz::as_text(data, size));
    round_trip(c, "to_json of a customer read from JSON reads back equal");
    validate_customer(c, schema, usd);
    round_trip(c, "to_json of a validated customer reads back equal");
  } catch (const Error&) {
  }
  return 0;
}
