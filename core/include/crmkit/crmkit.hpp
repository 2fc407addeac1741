// crmkit/crmkit.hpp: includes the whole public API of crmkit.
#pragma once

#include "crmkit/analytics/analytics.hpp"
#include "crmkit/records/customer.hpp"
#include "crmkit/base/error.hpp"
#include "crmkit/records/event.hpp"
#include "crmkit/base/json.hpp"
#include "crmkit/value/ltv.hpp"
#include "crmkit/value/models.hpp"
#include "crmkit/base/money.hpp"
#include "crmkit/value/rfm.hpp"
#include "crmkit/store/store.hpp"
#include "crmkit/value/summary.hpp"
#include "crmkit/base/time.hpp"
#include "crmkit/value/validation.hpp"
#include "crmkit/version.hpp"
