// Layering control (must build): an analytics-layer file including the store and the value layer.
#include "crmkit/analytics/analytics.hpp"
#include "crmkit/store/store.hpp"
#include "crmkit/value/models.hpp"

int probe_analytics_includes_store_and_value() { return 0; }
