// Layering probe (must NOT build): a value-layer file reaching up into the analytics layer.
#include "crmkit/value/ltv.hpp"
#include "crmkit/analytics/analytics.hpp"

int probe_value_includes_analytics() { return 0; }
