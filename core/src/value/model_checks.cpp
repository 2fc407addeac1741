// Validation of the models' columns, parameters and options (shared by every model).
#include <cfloat>
#include <cmath>
#include <string>

#include "crmkit/base/error.hpp"
#include "fields.hpp"
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

namespace detail {

namespace {
void check_len(std::size_t n, std::size_t expected, const char* name) {
  if (n != expected)
    throw_invalid(name, "length " + std::to_string(n) + " differs from frequency's length " +
                            std::to_string(expected));
}
}  // namespace

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
// -ffast-math. The `&` and `|` on bools are deliberate (no short-circuit branches); clang's
// -Wbitwise-instead-of-logical, which would flag them, is silenced for this function only.
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wbitwise-instead-of-logical"
#endif
bool rfm_rows_ok(const double* x, const double* tx, const double* T, std::size_t n,
                 bool allow_impossible) {
  double bad = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double xi = x[i], ti = tx[i], Ti = T[i];
    const bool x_ok = std::isgreaterequal(xi, 0.0) & std::islessequal(xi, DBL_MAX) &
                      (((xi + kTwo52) - kTwo52 == xi) | std::isgreaterequal(xi, kTwo52));
    const bool T_ok = std::isgreaterequal(Ti, 0.0) & std::islessequal(Ti, DBL_MAX);
    const bool t_ok = std::isgreaterequal(ti, 0.0) & std::islessequal(ti, Ti) &
                      ((xi != 0) | (ti == 0) | allow_impossible);
    bad += (x_ok & T_ok & t_ok) ? 0.0 : 1.0;
  }
  return bad == 0;
}
#if defined(__clang__)
#pragma clang diagnostic pop
#endif
}  // namespace

void check_rfm(std::span<const double> x, std::span<const double> tx, std::span<const double> T,
               std::span<const double> w, bool allow_impossible) {
  const std::size_t n = x.size();
  check_len(tx.size(), n, "recency");
  check_len(T.size(), n, "T");
  // Fast pass first; only on failure the row-by-row loop below finds the first bad row and
  // reports it.
  if (!rfm_rows_ok(x.data(), tx.data(), T.data(), n, allow_impossible)) {
    for (std::size_t i = 0; i < n; ++i) {
    if (!is_integer(x[i]) || x[i] < 0)
      throw_invalid(row_field("frequency", i), "must be a non-negative integer, got " + num(x[i]));
    if (!std::isfinite(T[i]) || T[i] < 0)
      throw_invalid(row_field("T", i), "must be finite and >= 0, got " + num(T[i]));
    if (!std::isfinite(tx[i]) || tx[i] < 0 || tx[i] > T[i])
      throw_invalid(row_field("recency", i),
                    "must be finite and in [0, T] (T = " + num(T[i]) + "), got " + num(tx[i]));
    if (x[i] == 0 && tx[i] != 0 && !allow_impossible)
      throw_invalid(row_field("recency", i), "must be 0 when frequency is 0, got " + num(tx[i]));
    }
  }
  check_weights(w, n);
}

void check_bgbb(std::span<const double> x, std::span<const double> tx, std::span<const double> n,
                std::span<const double> w, bool allow_impossible) {
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
    if (x[i] == 0 && tx[i] != 0 && !allow_impossible)
      throw_invalid(row_field("recency", i), "must be 0 when frequency is 0, got " + num(tx[i]));
  }
  check_weights(w, len);
}

// Gamma-Gamma columns (for_fit: the repeat buyers only, as GammaGammaModel::fit takes them).
void check_spend(std::span<const double> x, std::span<const double> m, std::span<const double> w,
                 bool for_fit) {
  if (m.size() != x.size())
    throw_invalid("monetary_value", "length " + std::to_string(m.size()) +
                                        " differs from frequency's length " +
                                        std::to_string(x.size()));
  for (std::size_t i = 0; i < x.size(); ++i) {
    // The field names are built only on error: this loop runs over every row of every call.
    if (!is_integer(x[i]) || x[i] < (for_fit ? 1 : 0))
      throw_invalid("frequency[" + std::to_string(i) + "]",
                    for_fit ? "must be an integer >= 1 (filter out frequency 0 rows)"
                            : "must be a non-negative integer");
    if (!std::isfinite(m[i]) || m[i] < 0 || (for_fit && m[i] == 0))
      throw_invalid("monetary_value[" + std::to_string(i) + "]",
                    for_fit ? "must be finite and > 0" : "must be finite and >= 0");
  }
  check_weights(w, x.size());
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

}  // namespace detail
}  // namespace v0
}  // namespace crmkit
