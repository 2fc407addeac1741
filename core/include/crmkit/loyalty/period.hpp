// crmkit/loyalty/period.hpp: calendar periods (day, week, month, quarter, year) in UTC, the unit of
// every "per period" loyalty report (retention, churn, cohorts, drift series) and of earning caps.
//
// A period is a half-open UTC interval [start, next start). Weeks start on Monday (ISO 8601).
// Periods are numbered by `period_index`: consecutive periods have consecutive indexes, so the
// distance between two periods is a subtraction (cohort ages, "month k" after a first purchase).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "crmkit/base/time.hpp"

namespace crmkit {
inline namespace v0 {

enum class Period { day = 0, week = 1, month = 2, quarter = 3, year = 4 };

// Lower-case names "day", "week", "month", "quarter", "year"; parse_period throws
// Error{invalid_argument} naming `field` for any other text.
const char* to_string(Period p) noexcept;
Period parse_period(std::string_view s, std::string_view field = "period");

// The index of the period that holds `t`: days since 1970-01-01, weeks since the Monday
// 1969-12-29, months since 1970-01, quarters since 1970-Q1, years since 1970 (negative before).
std::int64_t period_index(Timestamp t, Period p) noexcept;
// The first instant of period number `index`.
Timestamp period_start(std::int64_t index, Period p) noexcept;
// The period label: "2024-03-07" (day), "2024-W10" (ISO week), "2024-03", "2024-Q1", "2024".
std::string period_label(std::int64_t index, Period p);

}  // namespace v0
}  // namespace crmkit
