// Layering probe (must NOT build): a loyalty-layer file including the top layer.
#include "crmkit/loyalty/period.hpp"
#include "crmkit/analytics/analytics.hpp"

int probe_loyalty_includes_analytics() { return 0; }
