// Layering probe (must NOT build): a lifecycle-layer file including the store's public header.
#include "crmkit/lifecycle/machine.hpp"
#include "crmkit/store/store.hpp"

int probe_lifecycle_includes_store() { return 0; }
