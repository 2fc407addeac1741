// crmkit/loyalty/metrics.hpp: loyalty metrics as pure functions over columns: the cohort
// retention matrix, retention and churn per period, repeat purchase rate, NPS, CSAT, referral
// rate and word-of-mouth reach (docs/loyalty-metrics.md has the definitions with formulas).
//
// Conventions shared by every function here:
//  - Inputs are columns (spans of equal length within one group; the caller keeps them alive
//    during the call). Customer ids are any int64 values (a store's ids, or codes of a pandas
//    column); they are only compared for equality. Times are Timestamp::micros(), UTC.
//  - As of a Timestamp `as_of` (inclusive): only rows at or before as_of count; later rows are
//    ignored. The last period of every report is the one holding as_of; it is "incomplete" when
//    as_of is not its last microsecond (period_start(next) - 1 us): its figures may still change.
//  - Periods are crmkit/loyalty/period.hpp's (UTC calendar periods, ISO weeks). A per-period
//    report lists every period from its first to the as_of period, including periods without
//    any row (zeros, and NaN for a ratio over zero).
//  - Ratios over an empty denominator are NaN (quiet), never 0: "no data" is not "0%".
//  - Results never depend on the row order of the input, except where a function says so
//    (surveys answered by one customer at the same microsecond: the later row counts, which in a
//    store's columns is the later recorded event).
//  - Column lengths that differ, a negative option or a score out of range throw
//    Error{invalid_argument} naming the argument and the row; nothing else throws (bad_alloc
//    aside).
//
// Thread-safety: pure functions; call from any thread. cohort_retention runs on up to
// CohortOptions::threads worker threads (started per call); results do not depend on it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "crmkit/base/time.hpp"
#include "crmkit/loyalty/period.hpp"

namespace crmkit {
inline namespace v0 {

// ---------------------------------------------------------------------------------------------
// The period axis of a per-period report.

struct PeriodAxis {
  Period period = Period::month;
  std::vector<std::int64_t> index;       // period_index of each row, consecutive, ascending
  std::vector<std::string> label;        // period_label of each row ("1997-03")
  std::vector<std::int64_t> start_micros;  // period_start of each row
  // The instant each row is measured at: the period's last microsecond, or as_of for the last
  // row (so the last row's end may lie before its period's end).
  std::vector<std::int64_t> end_micros;
  // True when as_of is not the last microsecond of the last row's period.
  bool last_period_incomplete = false;

  std::size_t size() const noexcept { return index.size(); }
};

// ---------------------------------------------------------------------------------------------
// Cohort retention.
//
// A customer's cohort is the period of its first purchase (at or before as_of). Cell (c, k) is
// the number of customers of cohort c with at least one purchase in period c + k (k = 0 is the
// cohort's own period, so its count is the cohort size and its share 1), and its share is that
// count over the cohort size. Rows: every period from the first cohort to the last one that
// acquired a customer, including periods in between that acquired nobody (size 0, shares NaN).
// Columns: k = 0 .. as_of_period - first cohort. A cell whose period c + k is after the as_of
// period cannot be observed yet: count -1, share NaN. A cell in the as_of period is observed up
// to as_of only (incomplete when last_period_incomplete).

struct CohortOptions {
  // Worker threads for the pass over the purchases (0 = model_threads() of crmkit/value). Inputs
  // under 200,000 rows use one thread. Results do not depend on it.
  unsigned threads = 0;
};

struct CohortMatrix {
  Period period = Period::month;
  std::int64_t as_of_micros = 0;
  std::int64_t as_of_period = 0;            // period_index of as_of
  bool last_period_incomplete = false;      // as in PeriodAxis
  std::vector<std::int64_t> cohort;         // period index of each row, consecutive, ascending
  std::vector<std::string> label;           // period_label of each row
  std::vector<std::int64_t> size;           // customers in each cohort (may be 0)
  std::size_t ages = 0;                     // number of columns (k = 0 .. ages - 1)
  std::vector<std::int64_t> counts;         // row-major, cohorts() x ages; -1 = not observable
  std::vector<double> shares;               // row-major; NaN = not observable or empty cohort

  std::size_t cohorts() const noexcept { return cohort.size(); }
  std::int64_t count(std::size_t row, std::size_t k) const { return counts.at(row * ages + k); }
  double share(std::size_t row, std::size_t k) const { return shares.at(row * ages + k); }
  // True for the cells in the as_of period while it is incomplete.
  bool incomplete(std::size_t row, std::size_t k) const noexcept {
    return last_period_incomplete && cohort.at(row) + static_cast<std::int64_t>(k) == as_of_period;
  }
  // Customers in every cohort (the customers with a purchase at or before as_of).
  std::int64_t customers() const noexcept;
};

// The cohort matrix of purchases (customer[i] bought at at_micros[i]) as of `as_of`.
// With no purchase at or before as_of the matrix has no row and no column.
// Throws Error{invalid_argument} if the columns differ in length, or if the first purchase and
// as_of are more than 8,192 periods apart (the matrix holds periods x periods cells: 22 years of
// days, 157 of weeks).
// Performance: ids are remapped to dense indexes (directly when they span a range at most a few
// times the row count, else through a hash table); one pass over the purchases sets one bit per
// (customer, period) (64 periods per word), split over the threads; a second pass over the
// customers fills the cells. Over 512 periods (or bitsets over 512 MiB) the (customer, period)
// pairs are sorted instead, on one thread.
CohortMatrix cohort_retention(std::span<const std::int64_t> customer,
                              std::span<const std::int64_t> at_micros, Period period,
                              Timestamp as_of, const CohortOptions& options = {});

// ---------------------------------------------------------------------------------------------
// Retention and churn per period.
//
// A customer is active at an instant T when it has a purchase in the trailing window
// (T - active_days, T]. Each period p is measured at two instants: its start (the end of p - 1)
// and its end (its last microsecond; as_of for the last period):
//   S = customers active at the start, E = active at the end,
//   N = customers acquired in p (first purchase ever in p),
//   retained = active at both, churned = S - retained,
//   reactivated = active at the end, not at the start, and not acquired in p,
//   retention_rate = (E - N) / S   (the classic formula), churn_rate = 1 - retention_rate.
// When active_days is at least the period's length every customer acquired in p is active at
// its end, so E - N = retained + reactivated: the classic rate counts customers who came back
// as retained. retained / S is the strict rate (strict_retention_rate) and churned / S its
// complement (strict_churn_rate). Rates are NaN when S = 0.

struct RetentionOptions {
  // The trailing window that makes a customer active, in days (>= 1). 365 by default: the
  // yearly contact cycle of the source texts (every customer contacted at least once a year),
  // and long enough that a customer buying once a year is not counted as lost in between.
  // Shorter windows suit frequent purchases (30 for groceries); they make churn larger.
  std::int32_t active_days = 365;
  // The first period reported (its period holds `start`); none = the period of the first
  // purchase. Periods before it still count for who is active.
  std::optional<Timestamp> start;
};

struct RetentionTable {
  PeriodAxis periods;
  std::vector<std::int64_t> active_start;   // S
  std::vector<std::int64_t> active_end;     // E
  std::vector<std::int64_t> acquired;       // N
  std::vector<std::int64_t> retained;       // S and E
  std::vector<std::int64_t> reactivated;
  std::vector<std::int64_t> churned;        // S - retained
  std::vector<double> retention_rate;       // (E - N) / S
  std::vector<double> churn_rate;           // 1 - retention_rate
  std::vector<double> strict_retention_rate;  // retained / S
  std::vector<double> strict_churn_rate;      // churned / S

  std::size_t size() const noexcept { return periods.size(); }
};

// Throws Error{invalid_argument} for columns of different lengths, active_days < 1, or a start
// after as_of. No purchase at or before as_of (and no start): an empty table.
RetentionTable retention(std::span<const std::int64_t> customer,
                         std::span<const std::int64_t> at_micros, Period period, Timestamp as_of,
                         const RetentionOptions& options = {});

// ---------------------------------------------------------------------------------------------
// Repeat purchase rate: customers with at least two purchases over customers with at least one.
// Every purchase row counts (two purchases on one day are two).

struct RepeatRate {
  std::int64_t customers = 0;         // customers with >= 1 purchase
  std::int64_t repeat_customers = 0;  // customers with >= 2 purchases
  double rate = 0;                    // repeat_customers / customers (NaN for 0 customers)
};

// As of a date: over every purchase at or before as_of.
RepeatRate repeat_purchase_rate(std::span<const std::int64_t> customer,
                                std::span<const std::int64_t> at_micros, Timestamp as_of);

struct RepeatRateTable {
  PeriodAxis periods;
  // Within the period: customers who bought in it, those who bought at least twice in it.
  std::vector<std::int64_t> buyers;
  std::vector<std::int64_t> repeat_buyers;
  std::vector<double> rate;                  // repeat_buyers / buyers
  // Cumulative, as of the period's end: repeat_purchase_rate at end_micros.
  std::vector<std::int64_t> customers;
  std::vector<std::int64_t> repeat_customers;
  std::vector<double> cumulative_rate;       // repeat_customers / customers

  std::size_t size() const noexcept { return periods.size(); }
};

// Per period, from the period of `start` (none: of the first purchase) to the as_of period.
// Throws Error{invalid_argument} for columns of different lengths or a start after as_of.
RepeatRateTable repeat_purchase_rate(std::span<const std::int64_t> customer,
                                     std::span<const std::int64_t> at_micros, Period period,
                                     Timestamp as_of, std::optional<Timestamp> start = {});

// ---------------------------------------------------------------------------------------------
// Surveys: NPS and CSAT. The score columns hold one answer per row, -1 where the row gives none
// (a store's SurveyColumns: nps 0..10, csat 1..5, else -1); rows without an answer are ignored.
//   NPS: promoters answer 9-10, passives 7-8, detractors 0-6;
//        score = 100 * (promoters - detractors) / responses, in points from -100 to 100.
//   CSAT: satisfied answer 4-5 (of 1-5); score = satisfied / responses, a share in [0, 1].

struct SurveyOptions {
  // Count only each customer's latest answer in the window (the period, or up to as_of for the
  // overall figure), so a customer who answers often does not weigh more. Answers at the same
  // microsecond: the later row counts.
  bool latest_only = false;
  // Only answers at or after this instant (overall figures); the first period reported (per
  // period). None: from the first answer.
  std::optional<Timestamp> start;
};

struct Nps {
  std::int64_t responses = 0;
  std::int64_t promoters = 0;
  std::int64_t passives = 0;
  std::int64_t detractors = 0;
  double score = 0;   // NaN for 0 responses
};

struct Csat {
  std::int64_t responses = 0;
  std::int64_t satisfied = 0;
  double score = 0;   // NaN for 0 responses
};

struct NpsTable {
  PeriodAxis periods;
  std::vector<std::int64_t> responses, promoters, passives, detractors;
  std::vector<double> score;
  std::size_t size() const noexcept { return periods.size(); }
};

struct CsatTable {
  PeriodAxis periods;
  std::vector<std::int64_t> responses, satisfied;
  std::vector<double> score;
  std::size_t size() const noexcept { return periods.size(); }
};

// Throw Error{invalid_argument} for columns of different lengths, an NPS answer outside
// -1..10 or a CSAT answer outside -1 and 1..5 (naming the row), or a start after as_of.
Nps nps(std::span<const std::int64_t> customer, std::span<const std::int64_t> at_micros,
        std::span<const std::int8_t> score, Timestamp as_of, const SurveyOptions& options = {});
NpsTable nps(std::span<const std::int64_t> customer, std::span<const std::int64_t> at_micros,
             std::span<const std::int8_t> score, Period period, Timestamp as_of,
             const SurveyOptions& options = {});
Csat csat(std::span<const std::int64_t> customer, std::span<const std::int64_t> at_micros,
          std::span<const std::int8_t> score, Timestamp as_of, const SurveyOptions& options = {});
CsatTable csat(std::span<const std::int64_t> customer, std::span<const std::int64_t> at_micros,
               std::span<const std::int8_t> score, Period period, Timestamp as_of,
               const SurveyOptions& options = {});

// ---------------------------------------------------------------------------------------------
// Referral rate: the share of customers (customers with a purchase at or before the window's
// end) who referred someone in the window. referrers_without_purchase counts the referrers of
// the window who had no purchase by its end (left out of the rate, shown so nothing is hidden);
// referrals counts every referral row of the window.

struct ReferralRate {
  std::int64_t customers = 0;
  std::int64_t referrers = 0;                    // customers who referred in the window
  std::int64_t referrers_without_purchase = 0;
  std::int64_t referrals = 0;
  double rate = 0;                               // referrers / customers (NaN for 0 customers)
};

struct ReferralRateTable {
  PeriodAxis periods;
  std::vector<std::int64_t> customers, referrers, referrers_without_purchase, referrals;
  std::vector<double> rate;
  std::size_t size() const noexcept { return periods.size(); }
};

// Overall: referrals at or after `start` (none: every one) and at or before as_of. Per period:
// from the period of `start` (none: of the first purchase or referral) to the as_of period.
// Throws Error{invalid_argument} for columns of different lengths or a start after as_of.
ReferralRate referral_rate(std::span<const std::int64_t> purchase_customer,
                           std::span<const std::int64_t> purchase_at_micros,
                           std::span<const std::int64_t> referrer,
                           std::span<const std::int64_t> referral_at_micros, Timestamp as_of,
                           std::optional<Timestamp> start = {});
ReferralRateTable referral_rate(std::span<const std::int64_t> purchase_customer,
                                std::span<const std::int64_t> purchase_at_micros,
                                std::span<const std::int64_t> referrer,
                                std::span<const std::int64_t> referral_at_micros, Period period,
                                Timestamp as_of, std::optional<Timestamp> start = {});

// ---------------------------------------------------------------------------------------------
// Word-of-mouth reach (seed 004: a good experience is told to about 3 people, a bad one to
// about 10). Each customer is classified by its latest survey response in the window that gives
// an answer (answers at the same microsecond: the later row): by the NPS answer when it has one
// (promoter: satisfied, passive: neutral, detractor: dissatisfied), else by the CSAT answer (4-5
// satisfied, 3 neutral, 1-2 dissatisfied).
//   positive_reach = satisfied * tell_satisfied, negative_reach = dissatisfied *
//   tell_dissatisfied, net_reach = positive_reach - negative_reach (people, expected values).

struct WordOfMouthOptions {
  double tell_satisfied = 3.0;      // people a satisfied customer tells (seed 004); >= 0
  double tell_dissatisfied = 10.0;  // people a dissatisfied customer tells (seed 004); >= 0
  // As SurveyOptions::start.
  std::optional<Timestamp> start;
};

struct WordOfMouth {
  std::int64_t satisfied = 0;
  std::int64_t neutral = 0;
  std::int64_t dissatisfied = 0;
  double positive_reach = 0;
  double negative_reach = 0;
  double net_reach = 0;
};

struct WordOfMouthTable {
  PeriodAxis periods;
  std::vector<std::int64_t> satisfied, neutral, dissatisfied;
  std::vector<double> positive_reach, negative_reach, net_reach;
  std::size_t size() const noexcept { return periods.size(); }
};

// Throw as nps/csat, and Error{invalid_argument} for a negative or non-finite tell count.
WordOfMouth word_of_mouth(std::span<const std::int64_t> customer,
                          std::span<const std::int64_t> at_micros,
                          std::span<const std::int8_t> nps_score,
                          std::span<const std::int8_t> csat_score, Timestamp as_of,
                          const WordOfMouthOptions& options = {});
WordOfMouthTable word_of_mouth(std::span<const std::int64_t> customer,
                               std::span<const std::int64_t> at_micros,
                               std::span<const std::int8_t> nps_score,
                               std::span<const std::int8_t> csat_score, Period period,
                               Timestamp as_of, const WordOfMouthOptions& options = {});

}  // namespace v0
}  // namespace crmkit
