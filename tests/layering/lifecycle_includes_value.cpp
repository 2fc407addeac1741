// Layering probe (must NOT build): a lifecycle-layer file including the value layer.
#include "crmkit/lifecycle/machine.hpp"
#include "crmkit/value/models.hpp"

int probe_lifecycle_includes_value() { return 0; }
