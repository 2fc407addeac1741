// crmkit/value/validation.hpp: calibration vs holdout validation of a transaction model.
//
// Fit a model on the calibration period (summary.hpp's calibration_and_holdout_data gives the
// *_cal columns), predict each customer's repeat purchases over the holdout (duration_holdout, in
// the model's time unit) and compare with what it actually did (frequency_holdout):
//  - per customer: predicted, actual, error = predicted - actual;
//  - per calibration-frequency bucket, as lifetimes' plot_calibration_purchases_vs_holdout_purchases:
//    buckets frequency_cal = 0, 1, ..., k-1 and "k+" (frequency_cal >= k), each with its count, mean
//    predicted and mean actual (both 0 for an empty bucket; its count says so);
//  - totals and error measures over the n customers, with e_i = predicted_i - actual_i:
//      MAE  = (1/n) sum |e_i|
//      RMSE = sqrt((1/n) sum e_i^2)
//      bias = (1/n) sum e_i                      (> 0: the model over-predicts)
//      total relative error = (sum predicted - sum actual) / sum actual   (empty if sum actual = 0)
//
// Errors: Error{invalid_argument} with "<field>: <problem>" ("actual[3]: must be a non-negative
// integer, got 1.5"). Thread-safety: pure functions; the model is used through const methods.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "crmkit/value/models.hpp"
#include "crmkit/value/summary.hpp"

namespace crmkit {
inline namespace v0 {

struct HoldoutValidationOptions {
  // k: buckets 0 .. k-1 hold one calibration frequency each, bucket k holds frequency_cal >= k.
  // Must be >= 1. 7 as BTYD's calibration-vs-holdout plot ("0".."6", "7+"); lifetimes' plot
  // (n = 7) shows the same first seven buckets without the censored one.
  std::int64_t buckets = 7;
};

struct HoldoutValidation {
  // Per customer, in input order.
  std::vector<double> predicted;
  std::vector<double> actual;
  std::vector<double> error;  // predicted - actual

  // Per bucket, k + 1 entries: bucket_frequency[j] = j; the last is the "k+" bucket.
  std::vector<std::int64_t> bucket_frequency;
  std::vector<std::int64_t> bucket_count;
  std::vector<double> bucket_mean_predicted;
  std::vector<double> bucket_mean_actual;

  double total_predicted = 0.0;
  double total_actual = 0.0;
  double mae = 0.0;
  double rmse = 0.0;
  double bias = 0.0;
  std::optional<double> total_relative_error;  // empty when total_actual is 0

  std::size_t size() const noexcept { return predicted.size(); }
};

// Compares given predictions with actual holdout purchases. The three columns have equal length
// n >= 1: frequency_cal (calibration repeat purchases) and actual (holdout purchases) are
// non-negative integers, predicted finite and >= 0.
// Throws Error{invalid_argument} for an empty input, lengths that differ, a malformed value, or
// options.buckets < 1.
HoldoutValidation calibration_vs_holdout(std::span<const double> frequency_cal,
                                         std::span<const double> predicted,
                                         std::span<const double> actual,
                                         const HoldoutValidationOptions& options = {});

// Predicts with transaction_model (conditional expected purchases over duration_holdout, in the
// model's time unit) from the calibration columns and compares as above.
// Throws Error{invalid_argument} as above, for duration_holdout not finite or < 0, and as the
// model's prediction does for malformed calibration columns.
HoldoutValidation calibration_vs_holdout(const TransactionModel& transaction_model,
                                         std::span<const double> frequency_cal,
                                         std::span<const double> recency_cal,
                                         std::span<const double> T_cal,
                                         std::span<const double> frequency_holdout,
                                         double duration_holdout,
                                         const HoldoutValidationOptions& options = {});

// The same on calibration_and_holdout_data's result (its duration_holdout, in the multiplier's
// unit, which must be the unit the model was fitted in).
HoldoutValidation calibration_vs_holdout(const TransactionModel& transaction_model,
                                         const CalibrationHoldoutSummary& summary,
                                         const HoldoutValidationOptions& options = {});

}  // namespace v0
}  // namespace crmkit
