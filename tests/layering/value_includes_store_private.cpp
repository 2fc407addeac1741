// Layering probe (must NOT build): a value-layer file including a private header of the store.
#include "crmkit/value/models.hpp"
#include "store/store_impl.hpp"

int probe_value_includes_store_private() { return 0; }
