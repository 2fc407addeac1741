// Times summary_data_from_transaction_data, calibration_and_holdout_data and rfm_scores on
// synthetic data: 1M customers, 10M transactions over two years, in three row orders.
#include <ctime>
#include <cstdio>
#include <random>
#include <vector>

#include "crmkit/value/rfm.hpp"
#include "crmkit/value/summary.hpp"

namespace {

// CPU seconds of the calling thread (the functions are single-threaded): less disturbed than
// wall time on a shared machine.
template <typename F>
double seconds(F&& f) {
  timespec a{}, b{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
  f();
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
  return static_cast<double>(b.tv_sec - a.tv_sec) + 1e-9 * static_cast<double>(b.tv_nsec - a.tv_nsec);
}

}  // namespace

int main() {
  constexpr std::int64_t kCustomers = 1'000'000;
  constexpr std::size_t kRows = 10'000'000;
  constexpr std::int64_t kStart = 1'577'836'800'000'000;  // 2020-01-01
  constexpr std::int64_t kSpan = 730LL * 86'400'000'000;
  std::mt19937_64 rng(42);
  std::vector<std::int64_t> ids(kRows), times(kRows), cents(kRows);
  std::vector<double> amounts(kRows);
  for (std::size_t i = 0; i < kRows; ++i) {
    ids[i] = static_cast<std::int64_t>(rng() % kCustomers);
    times[i] = kStart + static_cast<std::int64_t>(rng() % kSpan);
    cents[i] = static_cast<std::int64_t>(rng() % 10'000);
    amounts[i] = static_cast<double>(cents[i]) / 100.0;
  }
  crmkit::SummaryOptions o;
  o.multiplier = 7;
  crmkit::RfmSummary s;
  std::printf("summary, dense ids, random order:  %.3f s\n",
              seconds([&] { s = crmkit::summary_data_from_transaction_data(ids, times, amounts, o); }));
  std::printf("summary, minor units:              %.3f s\n",
              seconds([&] { s = crmkit::summary_data_from_transaction_data(ids, times, cents, 2, o); }));
  std::vector<std::int64_t> sparse(ids);
  for (auto& id : sparse) id = id * 1'000'003 + 17;
  std::printf("summary, sparse ids, random order: %.3f s\n",
              seconds([&] { s = crmkit::summary_data_from_transaction_data(sparse, times, amounts, o); }));
  crmkit::CalibrationOptions c;
  c.multiplier = 7;
  std::printf("calibration_and_holdout_data:      %.3f s\n", seconds([&] {
                crmkit::calibration_and_holdout_data(ids, times, amounts,
                                                     crmkit::Timestamp(kStart + kSpan / 2), c);
              }));
  std::vector<double> rec(s.size()), freq(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    rec[i] = s.T[i] - s.recency[i];
    freq[i] = static_cast<double>(s.frequency[i]);
  }
  std::printf("rfm_scores (%zu customers):      %.3f s\n", s.size(),
              seconds([&] { crmkit::rfm_scores(rec, freq, s.monetary_value); }));
  return 0;
}
