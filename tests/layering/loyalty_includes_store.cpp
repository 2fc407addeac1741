// Layering probe (must NOT build): a loyalty-layer file including the store's public header.
// Loyalty is pure functions over columns and definitions; the store uses it, not the reverse.
#include "crmkit/loyalty/points.hpp"
#include "crmkit/store/store.hpp"

int probe_loyalty_includes_store() { return 0; }
