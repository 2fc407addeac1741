// Layering control (must build): a lifecycle-layer file including the rules and the records.
#include "crmkit/lifecycle/history.hpp"
#include "crmkit/lifecycle/machine.hpp"
#include "crmkit/records/customer.hpp"
#include "crmkit/rules/facts.hpp"

int probe_lifecycle_includes_rules_and_records() { return 0; }
