// Layering control (must build): a loyalty-layer file including the layers it may use.
#include "crmkit/loyalty/points.hpp"
#include "crmkit/records/event.hpp"
#include "crmkit/rules/rules.hpp"
#include "crmkit/value/rfm.hpp"

int probe_loyalty_includes_value_rules_records() { return 0; }
