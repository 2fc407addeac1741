// crmkit/crmkit.hpp: includes the public API of crmkit, except the JSON conversions.
//
// Everything a host needs for the common path (records, the ledger, money, time, the store, the
// value engine) and nothing from crmkit's dependencies: no Boost and no nlohmann/json header is
// reached from here, so a host file that includes it compiles quickly. The nlohmann::json
// conversions (to_json, customer_from_json, event_from_json, money_from_json,
// parse_json_strict) are opt-in: include crmkit/json.hpp for them. JSON text is read without
// them by customer_from_json_text and event_from_json_text (included here).
// A ctest test (tests/headers) keeps Boost and nlohmann out of this header's closure.
#pragma once

#include "crmkit/analytics/analytics.hpp"
#include "crmkit/analytics/pipeline.hpp"
#include "crmkit/analytics/facts.hpp"
#include "crmkit/analytics/lifecycle.hpp"
// loyalty metrics (issue 8 item 2)
#include "crmkit/analytics/loyalty.hpp"
#include "crmkit/loyalty/metrics.hpp"
// engagement (follow-up and campaigns)
#include "crmkit/analytics/engage.hpp"
#include "crmkit/loyalty/campaigns.hpp"
#include "crmkit/loyalty/followup.hpp"
// end of engagement
#include "crmkit/base/error.hpp"
#include "crmkit/base/int128.hpp"
#include "crmkit/base/money.hpp"
#include "crmkit/base/time.hpp"
#include "crmkit/lifecycle/defaults.hpp"
#include "crmkit/lifecycle/history.hpp"
#include "crmkit/lifecycle/machine.hpp"
#include "crmkit/loyalty/period.hpp"
#include "crmkit/loyalty/points.hpp"
// segments (issue 8 item 3)
#include "crmkit/loyalty/segments.hpp"
#include "crmkit/analytics/segments.hpp"
#include "crmkit/records/customer.hpp"
#include "crmkit/records/event.hpp"
#include "crmkit/records/opportunity.hpp"
#include "crmkit/rules/facts.hpp"
#include "crmkit/rules/rules.hpp"
#include "crmkit/store/store.hpp"
#include "crmkit/value/ltv.hpp"
#include "crmkit/value/covariates.hpp"
#include "crmkit/value/models.hpp"
#include "crmkit/value/contractual.hpp"  // contractual customers (issue 11)
#include "crmkit/value/rfm.hpp"
#include "crmkit/value/statistics.hpp"
#include "crmkit/value/summary.hpp"
#include "crmkit/value/uncertainty.hpp"
#include "crmkit/value/validation.hpp"
#include "crmkit/version.hpp"
