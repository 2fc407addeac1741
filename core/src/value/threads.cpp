// The worker threads of the models (models.hpp "Performance"): the thread count setting and the
// block scheduler the likelihood sums and predictions run on.
#include <algorithm>
#include <atomic>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "internal.hpp"

namespace crmkit {
inline namespace v0 {

namespace {
std::atomic<unsigned> g_model_threads{0};
}  // namespace

void set_model_threads(unsigned threads) noexcept { g_model_threads.store(threads); }

unsigned model_threads() noexcept {
  const unsigned set = g_model_threads.load();
  if (set > 0) return set;
  return std::max(1u, std::thread::hardware_concurrency());
}

namespace detail {

unsigned threads_for(std::size_t rows, unsigned requested) {
  if (rows < kParallelMinRows) return 1;
  const unsigned want = requested > 0 ? requested : model_threads();
  const std::size_t cap = std::max<std::size_t>(1, rows / (kParallelMinRows / 2));
  return static_cast<unsigned>(std::min<std::size_t>(want, cap));
}

void parallel_blocks(
    std::size_t n, std::size_t block, unsigned threads,
    const std::function<void(unsigned, std::size_t, std::size_t, std::size_t)>& body) {
  const std::size_t blocks = block_count(n, block);
  const std::size_t workers = std::min<std::size_t>(std::max(1u, threads), blocks);
  std::atomic<std::size_t> next{0};
  auto run = [&](unsigned worker) {
    for (std::size_t b = next.fetch_add(1); b < blocks; b = next.fetch_add(1))
      body(worker, b, b * block, std::min(n, (b + 1) * block));
  };
  if (workers <= 1) {
    run(0);
    return;
  }
  std::exception_ptr error;
  std::mutex error_mutex;
  auto guarded = [&](unsigned worker) {
    try {
      run(worker);
    } catch (...) {
      next.store(blocks);  // the others stop at their next block
      const std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  for (std::size_t t = 1; t < workers; ++t) pool.emplace_back(guarded, static_cast<unsigned>(t));
  guarded(0);
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace detail
}  // namespace v0
}  // namespace crmkit
