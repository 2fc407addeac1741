// Row compression (internal.hpp "compression"): identical rows become one weighted row, with the
// per-column distinct values the likelihoods evaluate once.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <vector>

#include "crmkit/base/error.hpp"
#include "internal.hpp"

namespace crmkit {
inline namespace v0 {
namespace detail {

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

}  // namespace detail
}  // namespace v0
}  // namespace crmkit
