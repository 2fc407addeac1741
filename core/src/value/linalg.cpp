// Small dense linear algebra for the models (internal.hpp "linear algebra").
#include <cmath>
#include <utility>
#include <vector>

#include "internal.hpp"

namespace crmkit {
inline namespace v0 {
namespace detail {

// Inverts a small symmetric matrix in place (Gauss-Jordan, partial pivoting). False if singular.
bool invert_symmetric(std::vector<double>& m, std::size_t k) {
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

}  // namespace detail
}  // namespace v0
}  // namespace crmkit
