// Validation, row compression and the NLopt driver shared by the models.
#include <nlopt.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cfloat>
#include <cstdio>
#include <cstring>
#include <cmath>
#include <exception>
#include <limits>
#include <mutex>
#include <numeric>
#include <string>
#include <thread>

#include "crmkit/base/error.hpp"
#include "internal.hpp"

namespace crmkit {
inline namespace v0 {

double periods_per_month(std::string_view freq) {
  if (freq == "D") return 30.0;
  if (freq == "W") return 4.345;
  if (freq == "M") return 1.0;
  if (freq == "H") return 30.0 * 24.0;
  throw_invalid("freq", "must be one of D, W, M, H, got '" + std::string(freq) + "'");
}

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

namespace {
std::string row_field(const char* name, std::size_t i) {
  return std::string(name) + "[" + std::to_string(i) + "]";
}
std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}
void check_len(std::size_t n, std::size_t expected, const char* name) {
  if (n != expected)
    throw_invalid(name, "length " + std::to_string(n) + " differs from frequency's length " +
                            std::to_string(expected));
}
}  // namespace

bool is_integer(double v) { return std::isfinite(v) && v == std::floor(v); }

void check_params(std::span<const double> values, std::span<const char* const> names) {
  for (std::size_t k = 0; k < values.size(); ++k)
    if (!std::isfinite(values[k]) || !(values[k] > 0))
      throw_invalid(names[k], "must be finite and > 0, got " + num(values[k]));
}

void check_standard_error_values(std::span<const double> values,
                                 std::span<const char* const> names) {
  for (std::size_t k = 0; k < values.size(); ++k) {
    if (std::isnan(values[k])) continue;
    if (!std::isfinite(values[k]) || values[k] < 0) {
      std::string name(names[k]);
      const auto dot = name.find('.');
      throw_invalid("standard_errors." + name.substr(dot == std::string::npos ? 0 : dot + 1),
                    "must be NaN or finite and >= 0, got " + num(values[k]));
    }
  }
}

void check_t(double t, const char* field) {
  if (!std::isfinite(t) || t < 0) throw_invalid(field, "must be finite and >= 0, got " + num(t));
}

void check_weights(std::span<const double> w, std::size_t n) {
  if (w.empty()) return;
  check_len(w.size(), n, "weights");
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(w[i]) || w[i] < 0)
      throw_invalid(row_field("weights", i), "must be finite and >= 0, got " + num(w[i]));
}

namespace {
constexpr double kTwo52 = 4503599627370496.0;  // 2^52: every double at or above it is an integer

// The checks of check_rfm's row loop as one branch-free pass without calls, which the compiler
// vectorises: true if every row passes. Integer test: below 2^52, (v + 2^52) - 2^52 rounds v to an
// integer, which equals v only if v is one. The comparisons are the quiet (non-trapping) ones
// (std::isgreaterequal, ...) and the flag a double sum of 0/1, which GCC vectorises without
// -ffast-math.
bool rfm_rows_ok(const double* x, const double* tx, const double* T, std::size_t n) {
  double bad = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double xi = x[i], ti = tx[i], Ti = T[i];
    const bool x_ok = std::isgreaterequal(xi, 0.0) & std::islessequal(xi, DBL_MAX) &
                      (((xi + kTwo52) - kTwo52 == xi) | std::isgreaterequal(xi, kTwo52));
    const bool T_ok = std::isgreaterequal(Ti, 0.0) & std::islessequal(Ti, DBL_MAX);
    const bool t_ok = std::isgreaterequal(ti, 0.0) & std::islessequal(ti, Ti) &
                      ((xi != 0) | (ti == 0));
    bad += (x_ok & T_ok & t_ok) ? 0.0 : 1.0;
  }
  return bad == 0;
}
}  // namespace

void check_rfm(std::span<const double> x, std::span<const double> tx, std::span<const double> T,
               std::span<const double> w) {
  const std::size_t n = x.size();
  check_len(tx.size(), n, "recency");
  check_len(T.size(), n, "T");
  // Fast pass first; only on failure the row-by-row loop below finds the first bad row and
  // reports it.
  if (!rfm_rows_ok(x.data(), tx.data(), T.data(), n)) {
    for (std::size_t i = 0; i < n; ++i) {
    if (!is_integer(x[i]) || x[i] < 0)
      throw_invalid(row_field("frequency", i), "must be a non-negative integer, got " + num(x[i]));
    if (!std::isfinite(T[i]) || T[i] < 0)
      throw_invalid(row_field("T", i), "must be finite and >= 0, got " + num(T[i]));
    if (!std::isfinite(tx[i]) || tx[i] < 0 || tx[i] > T[i])
      throw_invalid(row_field("recency", i),
                    "must be finite and in [0, T] (T = " + num(T[i]) + "), got " + num(tx[i]));
    if (x[i] == 0 && tx[i] != 0)
      throw_invalid(row_field("recency", i), "must be 0 when frequency is 0, got " + num(tx[i]));
    }
  }
  check_weights(w, n);
}

void check_bgbb(std::span<const double> x, std::span<const double> tx, std::span<const double> n,
                std::span<const double> w) {
  const std::size_t len = x.size();
  check_len(tx.size(), len, "recency");
  check_len(n.size(), len, "n_periods");
  for (std::size_t i = 0; i < len; ++i) {
    if (!is_integer(n[i]) || n[i] < 1)
      throw_invalid(row_field("n_periods", i), "must be an integer >= 1, got " + num(n[i]));
    if (!is_integer(tx[i]) || tx[i] < 0 || tx[i] > n[i])
      throw_invalid(row_field("recency", i),
                    "must be an integer in [0, n_periods], got " + num(tx[i]));
    if (!is_integer(x[i]) || x[i] < 0 || x[i] > tx[i])
      throw_invalid(row_field("frequency", i),
                    "must be an integer in [0, recency], got " + num(x[i]));
    if (x[i] == 0 && tx[i] != 0)
      throw_invalid(row_field("recency", i), "must be 0 when frequency is 0, got " + num(tx[i]));
  }
  check_weights(w, len);
}

void check_options(const FitOptions& o, std::size_t k) {
  if (!std::isfinite(o.penalizer) || o.penalizer < 0)
    throw_invalid("options.penalizer", "must be finite and >= 0, got " + num(o.penalizer));
  if (!o.initial.empty()) {
    if (o.initial.size() != k)
      throw_invalid("options.initial", "must hold " + std::to_string(k) + " values, got " +
                                           std::to_string(o.initial.size()));
    for (double v : o.initial)
      if (!std::isfinite(v) || !(v > 0))
        throw_invalid("options.initial", "values must be finite and > 0, got " + num(v));
  }
  if (o.max_iterations < 1)
    throw_invalid("options.max_iterations", "must be >= 1, got " + std::to_string(o.max_iterations));
  if (!std::isfinite(o.tolerance) || !(o.tolerance > 0))
    throw_invalid("options.tolerance", "must be finite and > 0, got " + num(o.tolerance));
}

namespace {
// Bit pattern of v with -0.0 folded into +0.0.
inline std::uint64_t key_bits(double v) {
  v += 0.0;
  std::uint64_t u;
  std::memcpy(&u, &v, 8);
  return u;
}
inline std::uint64_t mix(std::uint64_t k) {  // MurmurHash3 finaliser
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdull;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ull;
  k ^= k >> 33;
  return k;
}
inline std::uint64_t hash3(double a, double b, double c) {
  return mix(key_bits(a) ^ (key_bits(b) * 0x9e3779b97f4a7c15ull) ^
             (key_bits(c) * 0xc2b2ae3d27d4eb4full));
}
}  // namespace

KeyIndex::KeyIndex(std::size_t expected) {
  std::size_t cap = 16;
  while (cap < 2 * expected) cap <<= 1;
  slots_.assign(cap, Slot{0, 0, 0, 0});
  mask_ = cap - 1;
}

void KeyIndex::grow() {
  std::vector<Slot> old(slots_.size() * 2, Slot{0, 0, 0, 0});
  old.swap(slots_);
  mask_ = slots_.size() - 1;
  for (const Slot& e : old) {
    if (e.index == 0) continue;
    std::size_t s = hash3(e.a, e.b, e.c) & mask_;
    while (slots_[s].index != 0) s = (s + 1) & mask_;
    slots_[s] = e;
  }
}

std::size_t KeyIndex::find_or_insert(double a, double b, double c, bool& inserted) {
  a += 0.0;  // -0.0 -> +0.0
  b += 0.0;
  c += 0.0;
  for (std::size_t s = hash3(a, b, c) & mask_;; s = (s + 1) & mask_) {
    Slot& e = slots_[s];
    if (e.index == 0) {
      if (2 * (count_ + 1) > slots_.size()) {  // keep the load at most 1/2
        grow();
        return find_or_insert(a, b, c, inserted);
      }
      e = Slot{a, b, c, count_ + 1};
      inserted = true;
      return count_++;
    }
    // Values are finite (validated) and -0 is folded, so == is bitwise equality.
    if (e.a == a && e.b == b && e.c == c) {
      inserted = false;
      return e.index - 1;
    }
  }
}

namespace {
// Distinct sorted values of `col` and each element's index into them.
void index_values(const std::vector<double>& col, std::vector<double>& uniq,
                  std::vector<std::uint32_t>& idx) {
  uniq = col;
  std::sort(uniq.begin(), uniq.end());
  uniq.erase(std::unique(uniq.begin(), uniq.end()), uniq.end());
  idx.resize(col.size());
  for (std::size_t i = 0; i < col.size(); ++i)
    idx[i] = static_cast<std::uint32_t>(std::lower_bound(uniq.begin(), uniq.end(), col[i]) -
                                        uniq.begin());
}
}  // namespace

namespace {

// Sorted distinct values and, for each id of `ids`, its rank among them.
void rank_values(const ValueIds& ids, std::vector<double>& sorted,
                 std::vector<std::uint64_t>& rank) {
  const std::vector<double>& v = ids.values();
  std::vector<std::uint32_t> order(v.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(),
            [&](std::uint32_t l, std::uint32_t r) { return v[l] < v[r]; });
  sorted.resize(v.size());
  rank.resize(v.size());
  for (std::size_t k = 0; k < order.size(); ++k) {
    sorted[k] = v[order[k]];
    rank[order[k]] = k;
  }
}

// Stable LSD radix sort of keys < 2^bits (digits of at most 8 bits, all digit histograms counted
// in one pass), carrying `weights` along if non-empty.
void radix_sort(std::vector<std::uint64_t>& keys, std::vector<double>& weights, int bits) {
  const int passes = std::max(1, (bits + 7) / 8);  // 256 buckets: the scatter stays in cache
  const int digit = std::max(1, (bits + passes - 1) / passes);
  const std::size_t buckets = std::size_t{1} << digit;
  const std::uint64_t mask = buckets - 1;
  const std::size_t n = keys.size();
  const bool carry = !weights.empty();
  std::vector<std::size_t> count(buckets * passes, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t k = keys[i];
    for (int p = 0; p < passes; ++p) ++count[p * buckets + ((k >> (p * digit)) & mask)];
  }
  std::vector<std::uint64_t> ktmp(n);
  std::vector<double> wtmp(carry ? n : 0);
  for (int p = 0; p < passes; ++p) {
    std::size_t* c = count.data() + p * buckets;
    if (std::find(c, c + buckets, n) != c + buckets) continue;  // one digit value: no-op
    std::size_t sum = 0;
    for (std::size_t b = 0; b < buckets; ++b) {
      const std::size_t here = c[b];
      c[b] = sum;
      sum += here;
    }
    const int shift = p * digit;
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t pos = c[(keys[i] >> shift) & mask]++;
      ktmp[pos] = keys[i];
      if (carry) wtmp[pos] = weights[i];
    }
    keys.swap(ktmp);
    if (carry) weights.swap(wtmp);
  }
}

// The general path: hash the rows into unique keys, then sort the unique rows.
Compressed compress_hashed(std::span<const double> c0, std::span<const double> c1,
                           std::span<const double> c2, std::span<const double> w) {
  struct Row {
    double a, b, c, w;
  };
  const std::size_t n = c0.size();
  // Hash the rows into unique keys (linear time), then sort only the unique rows.
  KeyIndex index(std::min<std::size_t>(n, 1u << 16));
  std::vector<Row> rows;
  for (std::size_t i = 0; i < n; ++i) {
    const double wi = w.empty() ? 1.0 : w[i];
    if (!(wi > 0)) continue;
    bool inserted = false;
    const std::size_t k = index.find_or_insert(c0[i], c1[i], c2[i], inserted);
    if (inserted) rows.push_back({c0[i] + 0.0, c1[i] + 0.0, c2[i] + 0.0, 0.0});
    rows[k].w += wi;
  }
  std::sort(rows.begin(), rows.end(), [](const Row& l, const Row& r) {
    if (l.a != r.a) return l.a < r.a;
    if (l.b != r.b) return l.b < r.b;
    return l.c < r.c;
  });
  Compressed out;
  const std::size_t m = rows.size();
  out.c0.resize(m);
  out.c1.resize(m);
  out.c2.resize(m);
  out.w.resize(m);
  out.xi.resize(m);
  for (std::size_t i = 0; i < m; ++i) {
    out.c0[i] = rows[i].a;
    out.c1[i] = rows[i].b;
    out.c2[i] = rows[i].c;
    out.w[i] = rows[i].w;
    if (out.xs.empty() || out.xs.back() != rows[i].a) {
      out.xs.push_back(rows[i].a);
      out.xw.push_back(0.0);
    }
    out.xw.back() += rows[i].w;
    out.xi[i] = out.xs.size() - 1;
    out.total += rows[i].w;
  }
  if (!(out.total > 0)) throw_invalid("weights", "total weight must be > 0");
  index_values(out.c1, out.u1, out.i1);
  index_values(out.c2, out.u2, out.i2);
  return out;
}

}  // namespace

// Rows become keys (rank of c0, rank of c1, rank of c2) in mixed radix, whose numeric order is the
// rows' (c0, c1, c2) order; a stable radix sort groups equal keys with their weights in input
// order, so every unique row's weight is summed in input order. Columns with few distinct values
// (the usual case) keep every hash table in cache. Falls back to hashing whole rows when the key
// space does not fit 64 bits.
Compressed compress(std::span<const double> c0, std::span<const double> c1,
                    std::span<const double> c2, std::span<const double> w) {
  const std::size_t n = c0.size();
  if (n >= std::numeric_limits<std::uint32_t>::max()) return compress_hashed(c0, c1, c2, w);
  ValueIds ids0, ids1, ids2;
  // Pass 1: each kept row's three column ids, packed 21 bits each (a column with more than 2^21
  // distinct values takes the general path).
  constexpr int kIdBits = 21;
  constexpr std::uint64_t kIdLimit = std::uint64_t{1} << kIdBits;
  std::vector<std::uint64_t> keys;
  std::vector<double> keyw;  // weights of the kept rows (w > 0), when weights are given
  keys.reserve(n);
  if (!w.empty()) keyw.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!w.empty()) {
      if (!(w[i] > 0)) continue;
      keyw.push_back(w[i]);
    }
    const std::uint64_t a0 = ids0.id(c0[i]), a1 = ids1.id(c1[i]), a2 = ids2.id(c2[i]);
    keys.push_back((a0 << (2 * kIdBits)) | (a1 << kIdBits) | a2);
  }
  const std::uint64_t n0 = ids0.values().size(), n1 = ids1.values().size(),
                      n2 = ids2.values().size();
  if (n0 == 0) throw_invalid("weights", "total weight must be > 0");
  if (n0 > kIdLimit || n1 > kIdLimit || n2 > kIdLimit) return compress_hashed(c0, c1, c2, w);
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  if (n1 > kMax / n0 || n2 > kMax / (n0 * n1)) return compress_hashed(c0, c1, c2, w);
  const std::uint64_t space = n0 * n1 * n2;
  Compressed out;
  std::vector<std::uint64_t> r0, r1, r2;
  rank_values(ids0, out.xs, r0);
  rank_values(ids1, out.u1, r1);
  rank_values(ids2, out.u2, r2);
  // Pass 2: ids -> mixed-radix key of the ranks, in place.
  const std::size_t m = keys.size();
  constexpr std::uint64_t kIdMask = kIdLimit - 1;
  for (std::size_t i = 0; i < m; ++i) {
    const std::uint64_t k = keys[i];
    keys[i] = (r0[k >> (2 * kIdBits)] * n1 + r1[(k >> kIdBits) & kIdMask]) * n2 + r2[k & kIdMask];
  }
  radix_sort(keys, keyw, static_cast<int>(std::bit_width(space - 1)));
  out.xw.assign(out.xs.size(), 0.0);
  for (std::size_t i = 0; i < m;) {
    const std::uint64_t key = keys[i];
    double wsum = 0;
    std::size_t j = i;
    if (keyw.empty()) {
      while (j < m && keys[j] == key) ++j;
      wsum = static_cast<double>(j - i);
    } else {
      for (; j < m && keys[j] == key; ++j) wsum += keyw[j];
    }
    const std::uint64_t k2 = key % n2, k1 = (key / n2) % n1, k0 = key / n2 / n1;
    out.c0.push_back(out.xs[k0]);
    out.c1.push_back(out.u1[k1]);
    out.c2.push_back(out.u2[k2]);
    out.w.push_back(wsum);
    out.xi.push_back(k0);
    out.i1.push_back(static_cast<std::uint32_t>(k1));
    out.i2.push_back(static_cast<std::uint32_t>(k2));
    out.xw[k0] += wsum;
    out.total += wsum;
    i = j;
  }
  if (!(out.total > 0)) throw_invalid("weights", "total weight must be > 0");
  return out;
}

// ---- optimiser ------------------------------------------------------------------------------

namespace {

constexpr double kLogBound = 30.0;  // log-parameters are kept in [-30, 30]

struct Objective {
  Objective(const LogLik* f, std::size_t n, double total, double pen)
      : loglik(f), k(n), total_weight(total), penalizer(pen) {}
  const LogLik* loglik;
  std::size_t k;
  double total_weight;
  double penalizer;
  int evaluations = 0;
  std::vector<double> g;
  // The lowest point evaluated so far with its value, gradient and log-likelihood: the optimiser
  // returns that point, and re-evaluating it (gradient norm, log-likelihood for the report) then
  // costs nothing. Evaluation is deterministic, so the memo gives the same numbers.
  bool has_memo = false;
  std::vector<double> memo_u, memo_grad;
  double memo_f = 0, memo_ll = 0;

  // Penalised mean negative log-likelihood and its gradient in log-parameters.
  double value(const double* u, double* grad) {
    ++evaluations;
    if (has_memo && std::equal(memo_u.begin(), memo_u.end(), u)) {
      if (grad) std::copy(memo_grad.begin(), memo_grad.end(), grad);
      return memo_f;
    }
    g.assign(k, 0.0);
    const double ll = (*loglik)(u, g.data());
    double f = -ll / total_weight;
    std::vector<double> gr(k);
    for (std::size_t i = 0; i < k; ++i) {
      const double th = std::exp(u[i]);
      f += penalizer * th * th;
      gr[i] = -g[i] / total_weight + 2.0 * penalizer * th * th;
    }
    if (!std::isfinite(f)) {
      std::fill(gr.begin(), gr.end(), 0.0);
      f = std::numeric_limits<double>::max();
    }
    if (grad) std::copy(gr.begin(), gr.end(), grad);
    if (!has_memo || f < memo_f) {
      has_memo = true;
      memo_u.assign(u, u + k);
      memo_grad = std::move(gr);
      memo_f = f;
      memo_ll = ll;
    }
    return f;
  }
  // The unpenalised total log-likelihood at u (from the memo when u is the memo's point).
  double log_likelihood(const std::vector<double>& u) {
    if (has_memo && memo_u == u) return memo_ll;
    std::vector<double> gtmp(k);
    return (*loglik)(u.data(), gtmp.data());
  }
};

double nlopt_callback(unsigned, const double* u, double* grad, void* data) {
  return static_cast<Objective*>(data)->value(u, grad);
}

const char* result_name(nlopt_result r) {
  switch (r) {
    case NLOPT_SUCCESS: return "success";
    case NLOPT_STOPVAL_REACHED: return "stopval reached";
    case NLOPT_FTOL_REACHED: return "ftol reached";
    case NLOPT_XTOL_REACHED: return "xtol reached";
    case NLOPT_MAXEVAL_REACHED: return "maximum iterations reached";
    case NLOPT_MAXTIME_REACHED: return "maximum time reached";
    case NLOPT_FAILURE: return "generic failure";
    case NLOPT_INVALID_ARGS: return "invalid arguments";
    case NLOPT_OUT_OF_MEMORY: return "out of memory";
    case NLOPT_ROUNDOFF_LIMITED: return "roundoff limited";
    case NLOPT_FORCED_STOP: return "forced stop";
    default: return "unknown status";
  }
}

nlopt_result run(nlopt_algorithm algo, Objective& obj, std::vector<double>& u, double& fmin,
                 const FitOptions& o) {
  nlopt_opt opt = nlopt_create(algo, static_cast<unsigned>(obj.k));
  if (!opt) return NLOPT_OUT_OF_MEMORY;
  nlopt_set_min_objective(opt, nlopt_callback, &obj);
  nlopt_set_lower_bounds1(opt, -kLogBound);
  nlopt_set_upper_bounds1(opt, kLogBound);
  nlopt_set_ftol_rel(opt, o.tolerance);
  nlopt_set_xtol_rel(opt, o.tolerance);
  nlopt_set_maxeval(opt, o.max_iterations);
  if (algo != NLOPT_LD_LBFGS) nlopt_set_initial_step1(opt, 0.5);
  const nlopt_result r = nlopt_optimize(opt, u.data(), &fmin);
  nlopt_destroy(opt);
  return r;
}

double grad_norm(Objective& obj, const std::vector<double>& u) {
  std::vector<double> g(obj.k);
  obj.value(u.data(), g.data());
  double s = 0;
  for (double v : g) s += v * v;
  return std::sqrt(s);
}

bool stopped_on_tolerance(nlopt_result r) {
  return r == NLOPT_SUCCESS || r == NLOPT_FTOL_REACHED || r == NLOPT_XTOL_REACHED ||
         r == NLOPT_STOPVAL_REACHED;
}

// Inverts a small symmetric matrix in place (Gauss-Jordan, partial pivoting). False if singular.
bool invert(std::vector<double>& m, std::size_t k) {
  std::vector<double> inv(k * k, 0.0);
  for (std::size_t i = 0; i < k; ++i) inv[i * k + i] = 1.0;
  for (std::size_t c = 0; c < k; ++c) {
    std::size_t p = c;
    for (std::size_t r = c + 1; r < k; ++r)
      if (std::fabs(m[r * k + c]) > std::fabs(m[p * k + c])) p = r;
    if (!(std::fabs(m[p * k + c]) > 0) || !std::isfinite(m[p * k + c])) return false;
    for (std::size_t j = 0; j < k; ++j) {
      std::swap(m[c * k + j], m[p * k + j]);
      std::swap(inv[c * k + j], inv[p * k + j]);
    }
    const double d = m[c * k + c];
    for (std::size_t j = 0; j < k; ++j) {
      m[c * k + j] /= d;
      inv[c * k + j] /= d;
    }
    for (std::size_t r = 0; r < k; ++r) {
      if (r == c) continue;
      const double f = m[r * k + c];
      for (std::size_t j = 0; j < k; ++j) {
        m[r * k + j] -= f * m[c * k + j];
        inv[r * k + j] -= f * inv[c * k + j];
      }
    }
  }
  m = inv;
  return true;
}

}  // namespace

bool delta_method_se(const LogLik& loglik, std::size_t k, double total_weight, double penalizer,
                     const std::vector<double>& u, std::vector<double>& se) {
  Objective obj(&loglik, k, total_weight, penalizer);
  se.assign(k, std::numeric_limits<double>::quiet_NaN());
  // Hessian of the penalised total log-likelihood in log-parameters, by central differences of
  // the analytic gradient.
  std::vector<double> H(k * k, 0.0), gp(k), gm(k), up = u;
  const double h = 1e-5;
  for (std::size_t j = 0; j < k; ++j) {
    up = u;
    up[j] = u[j] + h;
    obj.value(up.data(), gp.data());
    up[j] = u[j] - h;
    obj.value(up.data(), gm.data());
    for (std::size_t i = 0; i < k; ++i) H[i * k + j] = -(gp[i] - gm[i]) / (2 * h) * total_weight;
  }
  for (std::size_t i = 0; i < k; ++i)
    for (std::size_t j = i + 1; j < k; ++j)
      H[i * k + j] = H[j * k + i] = 0.5 * (H[i * k + j] + H[j * k + i]);
  // cov_log = inverse of the negative Hessian of the log-likelihood.
  std::vector<double> negH(k * k);
  for (std::size_t i = 0; i < k * k; ++i) negH[i] = -H[i];
  bool se_ok = invert(negH, k);
  if (se_ok)
    for (std::size_t i = 0; i < k; ++i) se_ok = se_ok && negH[i * k + i] > 0;
  if (!se_ok) return false;
  for (std::size_t i = 0; i < k; ++i) se[i] = std::exp(u[i]) * std::sqrt(negH[i * k + i]);
  return true;
}

FitResult maximize(const LogLik& loglik, std::size_t k, double total_weight,
                   const FitOptions& options) {
  Objective obj(&loglik, k, total_weight, options.penalizer);
  std::vector<double> u(k, 0.0);
  if (!options.initial.empty())
    for (std::size_t i = 0; i < k; ++i)
      u[i] = std::clamp(std::log(options.initial[i]), -kLogBound, kLogBound);

  FitResult res;
  std::string msg;
  double fmin = 0;
  std::vector<double> best = u;
  nlopt_result r = run(NLOPT_LD_LBFGS, obj, best, fmin, options);
  double gn = grad_norm(obj, best);
  msg = std::string("L-BFGS: ") + result_name(r);
  // A tolerance stop with a small gradient is convergence; roundoff-limited is accepted when the
  // gradient is small too (L-BFGS reports it at an optimum reached to machine precision).
  auto good = [&](nlopt_result rr, double g) {
    return (stopped_on_tolerance(rr) || rr == NLOPT_ROUNDOFF_LIMITED) && std::isfinite(g) &&
           g < 1e-4;
  };
  bool converged = good(r, gn);
  if (!converged && r != NLOPT_MAXEVAL_REACHED) {
    // Derivative-free fallback from the start, then an L-BFGS polish from its result.
    std::vector<double> alt = u;
    double falt = 0;
    const nlopt_result r2 = run(NLOPT_LN_SBPLX, obj, alt, falt, options);
    msg += std::string("; Subplex: ") + result_name(r2);
    double fpol = 0;
    const nlopt_result r3 = run(NLOPT_LD_LBFGS, obj, alt, fpol, options);
    msg += std::string("; L-BFGS polish: ") + result_name(r3);
    const double galt = grad_norm(obj, alt);
    std::vector<double> gtmp(k);
    const double fb = obj.value(best.data(), gtmp.data());
    const double fa = obj.value(alt.data(), gtmp.data());
    if (fa <= fb || !std::isfinite(fb)) {
      best = alt;
      gn = galt;
      r = r3;
    }
    converged = good(r3, galt) && fa <= fb;
    if (!converged) converged = good(r, gn);
  }
  const int evaluations = obj.evaluations;
  res.params.resize(k);
  for (std::size_t i = 0; i < k; ++i) res.params[i] = std::exp(best[i]);
  res.se.assign(k, std::numeric_limits<double>::quiet_NaN());
  const bool se_nan = options.standard_errors &&
                      !delta_method_se(loglik, k, total_weight, options.penalizer, best, res.se);
  for (std::size_t i = 0; i < k; ++i)
    if (std::fabs(best[i]) >= kLogBound - 1e-9) {
      msg += "; a parameter reached the bound exp(+-30)";
      converged = false;
      break;
    }
  res.report.log_likelihood = obj.log_likelihood(best);
  res.report.converged = converged;
  res.report.iterations = evaluations;
  res.report.gradient_norm = gn;
  res.report.message = msg;
  if (se_nan) mark_not_converged(res.report, kNanStandardErrorsReason);
  return res;
}

void mark_not_converged(FitReport& report, std::string_view reason) {
  report.converged = false;
  if (report.message.find(reason) != std::string::npos) return;
  if (!report.message.empty()) report.message += "; ";
  report.message += reason;
}

void check_information_continuous(const Compressed& d, FitReport& report) {
  const bool all_zero = std::all_of(d.c2.begin(), d.c2.end(), [](double T) { return T == 0; });
  if (all_zero)
    mark_not_converged(report,
                       "no information: every row has T = 0 (no customer was observed for any "
                       "time), so the likelihood does not depend on the parameters");
}

void check_standard_errors(std::span<const double> se, FitReport& report) {
  if (std::any_of(se.begin(), se.end(), [](double v) { return std::isnan(v); }))
    mark_not_converged(report, kNanStandardErrorsReason);
}

}  // namespace detail
}  // namespace v0
}  // namespace crmkit
