// Layering control (must build): a store-layer file including records and its own private header.
#include "crmkit/records/customer.hpp"
#include "crmkit/store/store.hpp"
#include "store/store_impl.hpp"

int probe_store_includes_records() { return 0; }
