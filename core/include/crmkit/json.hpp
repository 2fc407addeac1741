// crmkit/json.hpp: the JSON conversions of crmkit, opt-in. Include this header (and have
// nlohmann/json, 3.10 or later, on the include path: crmkit::crmkit carries it) to convert
// crmkit values to and from nlohmann::json:
//  - crmkit/base/json.hpp: parse_json_strict (strict parsing with limits), to_json(Money),
//    money_from_json;
//  - crmkit/records/json.hpp: to_json / customer_from_json, field_def_from_json,
//    event_from_json for Customer, FieldDef and Event;
//  - crmkit/rules/json.hpp: jsonlogic_apply_json, jsonlogic_error_value and compile_rule (JSON
//    Logic on nlohmann::json values).
// crmkit/crmkit.hpp does not include it, so a host that does not need these does not compile
// nlohmann/json. Reading JSON text needs neither: customer_from_json_text and
// event_from_json_text are declared in crmkit/records/customer.hpp and crmkit/records/event.hpp.
//
// Thread-safety: free functions without shared state.
#pragma once

#include "crmkit/base/json.hpp"
#include "crmkit/records/json.hpp"
#include "crmkit/rules/json.hpp"
