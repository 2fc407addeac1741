// Layering probe (must NOT build): a store-layer file reaching up into the analytics layer.
#include "crmkit/store/store.hpp"
#include "crmkit/analytics/analytics.hpp"

int probe_store_includes_analytics() { return 0; }
