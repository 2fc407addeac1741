// crmkit/value/summary.hpp: RFM summaries (frequency, recency, T, monetary value) of a transaction log,
// the calibration/holdout split, and cumulative repeat transactions, as pure functions over
// columns.
//
// The results equal those of lifetimes 0.11.3 (summary_data_from_transaction_data and
// calibration_and_holdout_data), which the BG/NBD, Pareto/NBD and Gamma-Gamma models consume:
//  - A transaction at time t falls in the period of its time unit that contains t: the UTC hour
//    (hour; lifetimes' freq "h"), the UTC day (day), the Monday..Sunday week (week; pandas' "W" =
//    W-SUN), or the calendar month (month).
//    Several transactions of one customer in one period are merged into one (amounts summed).
//  - frequency = number of distinct periods with a purchase - 1 (the first is not a repeat).
//  - recency = (start of the last period - start of the first period) in units / multiplier.
//  - T = (start of observation_period_end's period - start of the first period) in units /
//    multiplier.
//  - monetary_value = mean of the per-period amounts, the first period excluded; 0 when
//    frequency is 0.
//  - An hour is 1 unit of hour (24 per day: a purchase at 23:59 and one at 00:01 the next day
//    are 1 hour apart, as lifetimes counts them), a day is 1 unit of day, 7 days are 1 week. A
//    month-unit duration is the number of days
//    between the two month starts divided by 30.436875 (the mean Gregorian month, numpy's
//    timedelta64(1, "M"), which lifetimes divides by): 1997-01-01..1997-02-01 is 1.0185 months.
//    duration_holdout, as in lifetimes, counts whole periods instead.
//  - Transactions whose period starts after the start of observation_period_end's period are
//    dropped: with unit week, a purchase on the Sunday after a Wednesday end is kept.
//
// Inputs are columns of equal length: customer ids (int64; callers with string ids factorise
// them first), times (Timestamp::micros(), UTC microseconds) and optionally amounts; at most
// 4,294,967,294 rows per call. Rows need not be sorted: they are grouped by customer with a
// counting sort (dense ids such as factorised 0..k-1 directly, sparse ids after hashing them to
// dense codes) and each customer's rows sorted by time; input already ordered by (customer,
// time) skips this. Above 20,000 rows the grouping and the gathering of amounts run on up to
// model_threads() worker threads (crmkit/value/models.hpp; started per call and joined before it
// returns), each writing slots no other worker writes, so results do not depend on the thread
// count. 10M rows of 1M customers in random order: about 0.85 s on one core, 0.57 s on two.
//
// Thread-safety: every function here is pure (no shared state); call them from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "crmkit/base/time.hpp"

namespace crmkit {
inline namespace v0 {

// The period a transaction is counted in, and the unit recency and T are measured in.
enum class TimeUnit {
  day,    // the UTC calendar day
  week,   // Monday 00:00 UTC .. Sunday 24:00 UTC (pandas "W" = "W-SUN"); 7 days per unit
  month,  // the calendar month; 30.436875 days per unit in recency and T (see the top)
  hour,   // the UTC clock hour (hh:00:00.000000 .. hh:59:59.999999); 24 per day
};

// to_string gives "day", "week", "month" or "hour". parse_time_unit accepts those names and
// lifetimes' "D", "W", "M", "H" and "h" (pandas' newer spelling of an hour; lifetimes 0.11.3
// itself needs "h" with numpy >= 1.25, where np.timedelta64(1, "H") is refused); it throws
// Error{invalid_argument} naming `field` and listing the accepted texts for any other text.
// Both are pure and thread-safe.
const char* to_string(TimeUnit unit) noexcept;
TimeUnit parse_time_unit(std::string_view text, std::string_view field = "unit");

struct SummaryOptions {
  // The period and unit. Coarser units merge more purchases into one and lose resolution.
  TimeUnit unit = TimeUnit::day;
  // recency, T (and duration_holdout) are divided by this (lifetimes' freq_multiplier): unit day
  // with multiplier 7 gives fractional weeks, as the CDNOW data sets use. Must be finite and > 0.
  double multiplier = 1.0;
  // The end of observation; T is measured to the start of its period. Default: the time of the
  // last transaction in the input.
  std::optional<Timestamp> observation_period_end;
  // lifetimes' include_first_transaction: when true the first period counts too, so frequency
  // is the number of periods with a purchase and monetary_value the mean over all of them. Keep
  // false for the BG/NBD-family and Gamma-Gamma models; true suits RFM segmentation.
  bool include_first_transaction = false;
  // A customer whose first purchase is after observation_period_end has no defined T. false:
  // such input throws Error{invalid_argument}; true: those customers are left out, as lifetimes
  // silently does.
  bool drop_customers_after_end = false;
};

// One row per customer, as columns of equal length, sorted by customer id.
struct RfmSummary {
  std::vector<std::int64_t> customer_id;
  std::vector<std::int64_t> frequency;     // repeat periods (all periods if include_first_transaction)
  std::vector<double> recency;             // first to last period, in units / multiplier
  std::vector<double> T;                   // first period to the end's period, in units / multiplier
  std::vector<double> monetary_value;      // mean per-period amount (major units); empty without amounts
  std::vector<std::int64_t> first_purchase;  // micros of the customer's earliest transaction

  std::size_t size() const noexcept { return customer_id.size(); }
};

// Summarises a transaction log without amounts (monetary_value is left empty).
// Throws Error{invalid_argument} when the columns differ in length ("times: length 3 differs from
// customer_ids (4)"), options.multiplier is not finite and > 0, or a customer's first purchase is
// after observation_period_end (unless options.drop_customers_after_end). Empty input gives an
// empty summary.
RfmSummary summary_data_from_transaction_data(std::span<const std::int64_t> customer_ids,
                                              std::span<const std::int64_t> times,
                                              const SummaryOptions& options = {});

// As above, with amounts in major units (dollars) as doubles. Also throws Error{invalid_argument}
// for an amount that is NaN or infinite ("amounts[7]: not a finite number").
RfmSummary summary_data_from_transaction_data(std::span<const std::int64_t> customer_ids,
                                              std::span<const std::int64_t> times,
                                              std::span<const double> amounts,
                                              const SummaryOptions& options = {});

// As above, with exact amounts in integer minor units and `scale` digits after the point (2 for
// cents: 1999 is 19.99). Period sums are exact, in 128 bits (they cannot overflow: totals past
// 2^63 minor units are summed exactly); monetary_value is the mean in major units as a double,
// rounded once. Also throws Error{invalid_argument} if scale is not in 0..18.
RfmSummary summary_data_from_transaction_data(std::span<const std::int64_t> customer_ids,
                                              std::span<const std::int64_t> times,
                                              std::span<const std::int64_t> amounts_minor, int scale,
                                              const SummaryOptions& options = {});

struct CalibrationOptions {
  TimeUnit unit = TimeUnit::day;  // as SummaryOptions::unit
  double multiplier = 1.0;        // as SummaryOptions::multiplier; divides duration_holdout too
  // The end of the holdout period (inclusive, compared with raw times). Default: the time of the
  // last transaction. Must not be before calibration_period_end.
  std::optional<Timestamp> observation_period_end;
  bool include_first_transaction = false;  // as SummaryOptions; affects the _cal columns only
  // How monetary_value_holdout averages. false (lifetimes): the mean of the holdout
  // transactions themselves; true: the mean of the per-period sums, like monetary_value_cal.
  bool holdout_monetary_per_period = false;
};

// The calibration/holdout split, one row per customer whose first purchase is at or before
// calibration_period_end, sorted by customer id.
struct CalibrationHoldoutSummary {
  std::vector<std::int64_t> customer_id;
  std::vector<std::int64_t> frequency_cal;
  std::vector<double> recency_cal;
  std::vector<double> T_cal;
  std::vector<double> monetary_value_cal;      // empty without amounts
  std::vector<std::int64_t> frequency_holdout;  // holdout periods with a purchase
  std::vector<double> monetary_value_holdout;  // 0 without holdout purchases; empty without amounts
  // Periods from calibration_period_end's to observation_period_end's, divided by the
  // multiplier (whole periods, as lifetimes; the same for every customer).
  double duration_holdout = 0.0;

  std::size_t size() const noexcept { return customer_id.size(); }
};

// Splits a transaction log at calibration_period_end, as lifetimes' calibration_and_holdout_data:
// the _cal columns are the summary of the transactions at or before calibration_period_end with
// T measured to calibration_period_end's period; the holdout is the transactions after
// calibration_period_end and at or before observation_period_end (raw times, so with unit week a
// purchase later in calibration_period_end's week belongs to the holdout). frequency_holdout
// counts distinct holdout periods. Customers who first buy in the holdout are left out.
// Throws Error{invalid_argument} for columns of different lengths, a multiplier that is not
// finite and > 0, observation_period_end before calibration_period_end, a non-finite amount, or
// when the holdout holds no transaction at all (as lifetimes does).
CalibrationHoldoutSummary calibration_and_holdout_data(std::span<const std::int64_t> customer_ids,
                                                       std::span<const std::int64_t> times,
                                                       Timestamp calibration_period_end,
                                                       const CalibrationOptions& options = {});
CalibrationHoldoutSummary calibration_and_holdout_data(std::span<const std::int64_t> customer_ids,
                                                       std::span<const std::int64_t> times,
                                                       std::span<const double> amounts,
                                                       Timestamp calibration_period_end,
                                                       const CalibrationOptions& options = {});
// Minor units with `scale` digits, as for summary_data_from_transaction_data.
CalibrationHoldoutSummary calibration_and_holdout_data(std::span<const std::int64_t> customer_ids,
                                                       std::span<const std::int64_t> times,
                                                       std::span<const std::int64_t> amounts_minor,
                                                       int scale, Timestamp calibration_period_end,
                                                       const CalibrationOptions& options = {});

struct RepeatTransactionOptions {
  // Width of a bucket: day = 1 day, week = 7 days counted from `start` (NOT calendar weeks),
  // month = calendar months, the first being the month of `start`. hour is refused (repeat
  // transactions are counted per UTC day here).
  TimeUnit unit = TimeUnit::week;
  // The first day of bucket 1. Default: the UTC day of the earliest transaction.
  std::optional<Timestamp> start;
  // Number of buckets returned. 0: through the bucket of the last transaction.
  std::int64_t periods = 0;
};

// Cumulative repeat transactions across all customers (the "tracking" curve of Fader, Hardie and
// Lee's CDNOW plots and lifetimes' expected_cumulative_transactions). A repeat transaction is a
// UTC day on which a customer bought, other than that customer's first such day: several
// purchases of one customer on one day count once. Element k-1 of the result is the number of
// repeat transactions on the days up to and including the last day of bucket k; with unit week
// and start 1997-01-01, bucket k ends on day 7k counting 1997-01-01 as day 1 (1997-01-07 for k=1).
// Repeat days before `start` count in bucket 1; those after the last bucket are not counted.
// Throws Error{invalid_argument} for columns of different lengths, periods < 0 or unit hour.
std::vector<std::int64_t> cumulative_repeat_transactions(std::span<const std::int64_t> customer_ids,
                                                         std::span<const std::int64_t> times,
                                                         const RepeatTransactionOptions& options = {});

}  // namespace v0
}  // namespace crmkit
