// Calibration vs holdout validation (validation.hpp).
#include "crmkit/value/validation.hpp"

#include <cmath>
#include <string>

#include "crmkit/base/error.hpp"
#include "fields.hpp"

namespace crmkit {
inline namespace v0 {

namespace {

using detail::num;
using detail::row_field;

bool is_count(double v) { return std::isfinite(v) && v >= 0 && v == std::floor(v); }

}  // namespace

HoldoutValidation calibration_vs_holdout(std::span<const double> frequency_cal,
                                         std::span<const double> predicted,
                                         std::span<const double> actual,
                                         const HoldoutValidationOptions& options) {
  const std::size_t n = frequency_cal.size();
  if (options.buckets < 1)
    throw_invalid("buckets", "must be >= 1, got " + std::to_string(options.buckets));
  if (n == 0) throw_invalid("frequency_cal", "is empty");
  if (predicted.size() != n)
    throw_invalid("predicted", "length " + std::to_string(predicted.size()) +
                                   " differs from frequency_cal (" + std::to_string(n) + ")");
  if (actual.size() != n)
    throw_invalid("actual", "length " + std::to_string(actual.size()) +
                                " differs from frequency_cal (" + std::to_string(n) + ")");
  for (std::size_t i = 0; i < n; ++i) {
    if (!is_count(frequency_cal[i]))
      throw_invalid(row_field("frequency_cal", i),
                    "must be a non-negative integer, got " + num(frequency_cal[i]));
    if (!std::isfinite(predicted[i]) || predicted[i] < 0)
      throw_invalid(row_field("predicted", i), "must be finite and >= 0, got " + num(predicted[i]));
    if (!is_count(actual[i]))
      throw_invalid(row_field("actual", i), "must be a non-negative integer, got " + num(actual[i]));
  }

  HoldoutValidation out;
  out.predicted.assign(predicted.begin(), predicted.end());
  out.actual.assign(actual.begin(), actual.end());
  out.error.resize(n);
  const auto k = static_cast<std::size_t>(options.buckets);
  out.bucket_frequency.resize(k + 1);
  for (std::size_t j = 0; j <= k; ++j) out.bucket_frequency[j] = static_cast<std::int64_t>(j);
  out.bucket_count.assign(k + 1, 0);
  std::vector<double> sum_predicted(k + 1, 0.0), sum_actual(k + 1, 0.0);
  double abs_sum = 0, sq_sum = 0, err_sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double e = predicted[i] - actual[i];
    out.error[i] = e;
    abs_sum += std::fabs(e);
    sq_sum += e * e;
    err_sum += e;
    out.total_predicted += predicted[i];
    out.total_actual += actual[i];
    const std::size_t j =
        frequency_cal[i] >= static_cast<double>(k) ? k : static_cast<std::size_t>(frequency_cal[i]);
    out.bucket_count[j] += 1;
    sum_predicted[j] += predicted[i];
    sum_actual[j] += actual[i];
  }
  out.bucket_mean_predicted.assign(k + 1, 0.0);
  out.bucket_mean_actual.assign(k + 1, 0.0);
  for (std::size_t j = 0; j <= k; ++j) {
    if (out.bucket_count[j] == 0) continue;
    const auto c = static_cast<double>(out.bucket_count[j]);
    out.bucket_mean_predicted[j] = sum_predicted[j] / c;
    out.bucket_mean_actual[j] = sum_actual[j] / c;
  }
  const auto dn = static_cast<double>(n);
  out.mae = abs_sum / dn;
  out.rmse = std::sqrt(sq_sum / dn);
  out.bias = err_sum / dn;
  if (out.total_actual != 0)
    out.total_relative_error = (out.total_predicted - out.total_actual) / out.total_actual;
  return out;
}

HoldoutValidation calibration_vs_holdout(const TransactionModel& transaction_model,
                                         std::span<const double> frequency_cal,
                                         std::span<const double> recency_cal,
                                         std::span<const double> T_cal,
                                         std::span<const double> frequency_holdout,
                                         double duration_holdout,
                                         const HoldoutValidationOptions& options) {
  if (!std::isfinite(duration_holdout) || duration_holdout < 0)
    throw_invalid("duration_holdout", "must be finite and >= 0, got " + num(duration_holdout));
  if (options.buckets < 1)
    throw_invalid("buckets", "must be >= 1, got " + std::to_string(options.buckets));
  if (frequency_cal.empty()) throw_invalid("frequency_cal", "is empty");
  if (frequency_holdout.size() != frequency_cal.size())
    throw_invalid("frequency_holdout", "length " + std::to_string(frequency_holdout.size()) +
                                           " differs from frequency_cal (" +
                                           std::to_string(frequency_cal.size()) + ")");
  const std::vector<double> predicted =
      transaction_model.conditional_expected_number_of_purchases_up_to_time(
          duration_holdout, frequency_cal, recency_cal, T_cal);
  return calibration_vs_holdout(frequency_cal, predicted, frequency_holdout, options);
}

HoldoutValidation calibration_vs_holdout(const TransactionModel& transaction_model,
                                         const CalibrationHoldoutSummary& summary,
                                         const HoldoutValidationOptions& options) {
  const std::vector<double> frequency(summary.frequency_cal.begin(), summary.frequency_cal.end());
  const std::vector<double> holdout(summary.frequency_holdout.begin(),
                                    summary.frequency_holdout.end());
  return calibration_vs_holdout(transaction_model, frequency, summary.recency_cal, summary.T_cal,
                                holdout, summary.duration_holdout, options);
}

}  // namespace v0
}  // namespace crmkit
