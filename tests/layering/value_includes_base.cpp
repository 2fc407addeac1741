// Layering control (must build): a value-layer file including base and value headers, and a
// private value header.
#include "crmkit/base/money.hpp"
#include "crmkit/value/models.hpp"
#include "value/internal.hpp"

int probe_value_includes_base() { return crmkit::Currency::of("USD").minor_units(); }
