// crmkit/crmkit.hpp: includes the whole public API of crmkit.
#pragma once

#include "crmkit/customer.hpp"
#include "crmkit/error.hpp"
#include "crmkit/event.hpp"
#include "crmkit/json.hpp"
#include "crmkit/ltv.hpp"
#include "crmkit/models.hpp"
#include "crmkit/money.hpp"
#include "crmkit/rfm.hpp"
#include "crmkit/store.hpp"
#include "crmkit/summary.hpp"
#include "crmkit/time.hpp"
#include "crmkit/validation.hpp"
#include "crmkit/version.hpp"
