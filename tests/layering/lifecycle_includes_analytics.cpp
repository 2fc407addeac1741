// Layering probe (must NOT build): a lifecycle-layer file including the analytics layer.
#include "crmkit/lifecycle/machine.hpp"
#include "crmkit/analytics/analytics.hpp"

int probe_lifecycle_includes_analytics() { return 0; }
