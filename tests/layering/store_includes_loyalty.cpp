// Layering control (must build): a store-layer file including the loyalty layer (the points
// ledger replays a programme).
#include "crmkit/loyalty/points.hpp"
#include "crmkit/store/store.hpp"

int probe_store_includes_loyalty() { return 0; }
