// Layering control (must build): a store-layer file including the lifecycle layer.
#include "crmkit/lifecycle/machine.hpp"
#include "crmkit/store/store.hpp"

int probe_store_includes_lifecycle() { return 0; }
