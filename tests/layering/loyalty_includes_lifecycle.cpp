// Layering probe (must NOT build): a loyalty-layer file including the lifecycle layer, which sits
// beside it: stages reach loyalty reports as facts, through analytics.
#include "crmkit/loyalty/period.hpp"
#include "crmkit/lifecycle/machine.hpp"

int probe_loyalty_includes_lifecycle() { return 0; }
