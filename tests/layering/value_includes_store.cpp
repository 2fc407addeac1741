// Layering probe (must NOT build): a value-layer file including the store's public header.
#include "crmkit/value/models.hpp"
#include "crmkit/store/store.hpp"

int probe_value_includes_store() { return 0; }
