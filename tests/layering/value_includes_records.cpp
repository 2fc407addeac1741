// Layering probe (must NOT build): a value-layer file including a records header.
#include "crmkit/value/summary.hpp"
#include "crmkit/records/customer.hpp"

int probe_value_includes_records() { return 0; }
