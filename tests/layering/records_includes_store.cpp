// Layering probe (must NOT build): a records-layer file including the store's header.
#include "crmkit/records/event.hpp"
#include "crmkit/store/store.hpp"

int probe_records_includes_store() { return 0; }
