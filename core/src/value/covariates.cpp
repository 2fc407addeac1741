// BG/NBD and Pareto/NBD with time-invariant covariates (crmkit/value/covariates.hpp): validation,
// the per-row likelihood with its analytic gradient, the likelihood sums and the predictions. The
// fit (optimiser, centring, standard errors) is in covariates_fit.cpp.
#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <utility>

#include "covariates_internal.hpp"
#include "crmkit/base/error.hpp"
#include "fields.hpp"

namespace crmkit {
inline namespace v0 {
namespace detail {

using detail::digamma;
using detail::lgamma_;

std::size_t covariate_param_count(CovariatesKind kind, std::size_t p, std::size_t q) {
  return 4 + p + (kind == CovariatesKind::beta_geo ? 2 * q : q);
}

std::vector<CoefBlock> coefficient_blocks(CovariatesKind kind, std::size_t p, std::size_t q) {
  // Each block: the base parameter it scales, its sign in exp(sign * gamma' x), first index, count,
  // and which covariate set (false = purchase, true = dropout).
  std::vector<CoefBlock> blocks;
  blocks.push_back({1, -1.0, 4, p, false});  // alpha_i = alpha exp(-gamma1' x)
  if (kind == CovariatesKind::beta_geo) {
    blocks.push_back({2, +1.0, 4 + p, q, true});      // a_i = a exp(gamma2' z)
    blocks.push_back({3, +1.0, 4 + p + q, q, true});  // b_i = b exp(gamma3' z)
  } else {
    blocks.push_back({3, -1.0, 4 + p, q, true});  // beta_i = beta exp(-gamma2' z)
  }
  return blocks;
}

void check_covariates(const CovariateMatrix& m, std::size_t n, const char* field) {
  const std::size_t k = m.columns.size();
  std::set<std::string> seen;
  for (std::size_t j = 0; j < k; ++j) {
    if (m.columns[j].empty())
      throw_invalid(std::string(field) + ".columns[" + std::to_string(j) + "]",
                    "must be a non-empty name");
    if (!seen.insert(m.columns[j]).second)
      throw_invalid(std::string(field) + "." + m.columns[j], "is named twice");
  }
  if (k == 0) {
    if (!m.values.empty())
      throw_invalid(field, "has values but no columns");
    return;
  }
  if (m.values.size() % k != 0 || m.values.size() / k != n)
    throw_invalid(field, "has " + std::to_string(m.values.size() / k) + " rows, expected " +
                             std::to_string(n) + " (one per customer)");
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < k; ++j) {
      const double v = m.values[i * k + j];
      if (!std::isfinite(v))
        throw_invalid(row_field(std::string(field) + "." + m.columns[j], i),
                      std::string("is ") + (std::isnan(v) ? "NaN" : num(v)) +
                          " (covariates must be finite)");
    }
}

// ---- the per-row likelihood ------------------------------------------------------------------

// BG/NBD at the customer's own (r, alpha, a, b); d = d ll / d log(r, alpha, a, b).
double bg_row(double r, double al, double a, double b, double x, double tx, double T, double lg_d,
              double dg_d, double* d) {
  const double rx = r + x, la = std::log(al), lAT = std::log(al + T);
  double ll = lg_d + r * la;
  double dr = dg_d + la, dal = r / al, da = 0, db = 0;
  const double A3 = -rx * lAT;
  if (x > 0) {
    const double ab = a + b, abx = ab + x, bx = b + x;
    ll += lgamma_(ab) - lgamma_(b) + lgamma_(bx) - lgamma_(abx);
    const double dg_ab = digamma(ab), dg_abx = digamma(abx);
    da = dg_ab - dg_abx;
    db = dg_ab - digamma(b) + digamma(bx) - dg_abx;
    const double lAtx = std::log(al + tx), bx1 = b + x - 1;
    const double A4 = std::log(a) - std::log(bx1) - rx * lAtx;
    const double mix = logaddexp(A3, A4);
    const double w4 = std::exp(A4 - mix), w3 = std::exp(A3 - mix);
    ll += mix;
    dr -= w3 * lAT + w4 * lAtx;
    dal -= rx * (w3 / (al + T) + w4 / (al + tx));
    da += w4 / a;
    db -= w4 / bx1;
  } else {
    ll += A3;
    dr -= lAT;
    dal -= rx / (al + T);
  }
  if (d) {
    d[0] = r * dr;
    d[1] = al * dal;
    d[2] = a * da;
    d[3] = b * db;
  }
  return ll;
}

// log(s I) of the Pareto/NBD likelihood (pareto_nbd.cpp) and, if m is non-null, its moments.
double pnbd_log_sI(double r, double alpha, double s, double beta, double x, double tx, double T,
                   double* m) {
  if (!(T > tx)) {
    if (m)
      for (int i = 0; i < 4; ++i) m[i] = 0;
    return -INFINITY;
  }
  const double c0 = std::min(alpha, beta);
  return std::log(s) + log_concave_integral(1.0, r + x, s + 1, alpha - c0, beta - c0,
                                            std::log(c0 + tx), std::log(c0 + T), m);
}

// Pareto/NBD at the customer's own (r, alpha, s, beta); d = d ll / d log(r, alpha, s, beta).
double pnbd_row(double r, double al, double s, double be, double x, double tx, double T,
                double lg_d, double dg_d, double* d) {
  const double rx = r + x, la = std::log(al), lb = std::log(be);
  const double laT = std::log(al + T), lbT = std::log(be + T);
  const double E1 = -rx * laT - s * lbT;
  double m[4];
  const double E2 = pnbd_log_sI(r, al, s, be, x, tx, T, d ? m : nullptr);
  const double mix = logaddexp(E1, E2);
  const double ll = lg_d + r * la + s * lb + mix;
  if (d) {
    const double w1 = std::exp(E1 - mix), w2 = E2 == -INFINITY ? 0.0 : std::exp(E2 - mix);
    const double dr = dg_d + la - w1 * laT - w2 * m[0];
    const double dal = r / al - w1 * rx / (al + T) - w2 * rx * m[1];
    const double ds = lb - w1 * lbT + w2 * (1.0 / s - m[2]);
    const double dbe = s / be - w1 * s / (be + T) - w2 * (s + 1) * m[3];
    d[0] = r * dr;
    d[1] = al * dal;
    d[2] = s * ds;
    d[3] = be * dbe;
  }
  return ll;
}

// ---- the design: covariate rows and the per-row parameters -------------------------------------

Design::Design(CovariatesKind k, const CovariateMatrix& purchase, const CovariateMatrix& dropout,
               std::size_t rows)
    : kind(k),
      n(rows),
      p(purchase.columns.size()),
      q(dropout.columns.size()),
      X(purchase.values.data()),
      Z(dropout.values.data()),
      blocks(coefficient_blocks(k, purchase.columns.size(), dropout.columns.size())) {}

void Design::row_params_natural(const double* base, const double* coef, std::size_t i,
                                double* out) const {
  double scale[4] = {0, 0, 0, 0};
  for (const CoefBlock& blk : blocks) {
    const double* row = blk.dropout ? Z + i * q : X + i * p;
    double dot = 0;
    for (std::size_t j = 0; j < blk.count; ++j) dot += coef[blk.first - 4 + j] * row[j];
    scale[blk.base] += blk.sign * dot;
  }
  // scale 0 (no covariates or zero coefficients): exp(0) = 1 exactly, so the plain model's
  // parameters are used unchanged.
  for (int k = 0; k < 4; ++k) out[k] = base[k] * std::exp(scale[k]);
}

// Total weighted log-likelihood at (base, coef) and its gradient with respect to
// (log base, coef) (size K).
double covariate_loglik(const Design& d, std::span<const double> x, std::span<const double> tx,
                        std::span<const double> T, std::span<const double> w, const double* base,
                        const double* coef, double* grad, unsigned threads) {
  const std::size_t K = covariate_param_count(d.kind, d.p, d.q);
  const double r = base[0];
  const double lg_r = lgamma_(r), dg_r = digamma(r);
  const bool bg = d.kind == CovariatesKind::beta_geo;
  // lgamma(r + x) - lgamma(r) and digamma(r + x) - digamma(r) for the small frequencies present
  // (computed once per call instead of once per row).
  constexpr double kTable = 4096;
  double xmax = 0;
  for (double v : x) xmax = std::max(xmax, std::min(v, kTable - 1));
  std::vector<double> lg_tab(static_cast<std::size_t>(xmax) + 1), dg_tab(lg_tab.size());
  for (std::size_t k = 0; k < lg_tab.size(); ++k) {
    lg_tab[k] = lgamma_(r + static_cast<double>(k)) - lg_r;
    dg_tab[k] = digamma(r + static_cast<double>(k)) - dg_r;
  }
  constexpr std::size_t kBlock = 4096;
  const std::size_t n = x.size();
  const std::size_t nblocks = block_count(n, kBlock);
  std::vector<double> partial((K + 1) * nblocks, 0.0);
  auto body = [&](unsigned, std::size_t blk, std::size_t i0, std::size_t i1) {
    double* out = partial.data() + (K + 1) * blk;
    for (std::size_t i = i0; i < i1; ++i) {
      const double wi = w.empty() ? 1.0 : w[i];
      if (wi == 0) continue;
      double th[4], dd[4];
      d.row_params_natural(base, coef, i, th);
      const double xi = x[i];
      const bool small = xi < kTable;
      const double lg_d = small ? lg_tab[static_cast<std::size_t>(xi)] : lgamma_(r + xi) - lg_r;
      const double dg_d = small ? dg_tab[static_cast<std::size_t>(xi)] : digamma(r + xi) - dg_r;
      const double ll = bg ? bg_row(th[0], th[1], th[2], th[3], xi, tx[i], T[i], lg_d, dg_d,
                                    grad ? dd : nullptr)
                           : pnbd_row(th[0], th[1], th[2], th[3], xi, tx[i], T[i], lg_d, dg_d,
                                      grad ? dd : nullptr);
      out[0] += wi * ll;
      if (!grad) continue;
      for (int k = 0; k < 4; ++k) out[1 + k] += wi * dd[k];
      for (const CoefBlock& cb : d.blocks) {
        const double* row = cb.dropout ? d.Z + i * d.q : d.X + i * d.p;
        const double g = wi * cb.sign * dd[cb.base];
        for (std::size_t j = 0; j < cb.count; ++j) out[1 + cb.first + j] += g * row[j];
      }
    }
  };
  parallel_blocks(n, kBlock, threads_for(n, threads), body);
  double total = 0;
  if (grad) std::fill(grad, grad + K, 0.0);
  for (std::size_t blk = 0; blk < nblocks; ++blk) {
    const double* in = partial.data() + (K + 1) * blk;
    total += in[0];
    if (grad)
      for (std::size_t k = 0; k < K; ++k) grad[k] += in[1 + k];
  }
  return total;
}

}  // namespace detail

// ---- CovariatesModel ---------------------------------------------------------------------------

namespace {

using detail::Design;

constexpr const char* kBgNames[4] = {"r", "alpha", "a", "b"};
constexpr const char* kPnbdNames[4] = {"r", "alpha", "s", "beta"};

void check_names(const std::vector<std::string>& cols, const char* field) {
  CovariateMatrix m{cols, {}};
  detail::check_covariates(m, 0, field);
}

void check_columns_match(const CovariateMatrix& m, const std::vector<std::string>& expected,
                         const char* field) {
  if (m.columns == expected) return;
  auto join = [](const std::vector<std::string>& v) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
    return s + "]";
  };
  throw_invalid(field, "columns " + join(m.columns) + " differ from the model's " +
                           join(expected) + " (same names, same order)");
}

}  // namespace

CovariatesModel::CovariatesModel(CovariatesKind kind, std::vector<double> values,
                                 std::vector<double> standard_errors, FitReport report,
                                 std::vector<std::string> purchase_columns,
                                 std::vector<std::string> dropout_columns)
    : kind_(kind),
      values_(std::move(values)),
      se_(std::move(standard_errors)),
      report_(std::move(report)),
      purchase_columns_(std::move(purchase_columns)),
      dropout_columns_(std::move(dropout_columns)) {
  check_names(purchase_columns_, "purchase_columns");
  check_names(dropout_columns_, "dropout_columns");
  const std::size_t K =
      detail::covariate_param_count(kind_, purchase_columns_.size(), dropout_columns_.size());
  if (values_.size() != K)
    throw_invalid("params", "must hold " + std::to_string(K) + " values for these columns, got " +
                                std::to_string(values_.size()));
  if (se_.empty()) se_.assign(K, std::numeric_limits<double>::quiet_NaN());
  if (se_.size() != K)
    throw_invalid("standard_errors", "must hold " + std::to_string(K) + " values, got " +
                                         std::to_string(se_.size()));
  const std::vector<std::string> names = parameter_names();
  for (std::size_t k = 0; k < K; ++k) {
    const double v = values_[k];
    if (k < 4 ? !(std::isfinite(v) && v > 0) : !std::isfinite(v))
      throw_invalid("params." + names[k],
                    std::string(k < 4 ? "must be finite and > 0" : "must be finite") + ", got " +
                        detail::num(v));
    if (!std::isnan(se_[k]) && !(std::isfinite(se_[k]) && se_[k] >= 0))
      throw_invalid("standard_errors." + names[k],
                    "must be NaN or finite and >= 0, got " + detail::num(se_[k]));
  }
}

CovariatesModel::CovariatesModel(const BetaGeoCovariatesParams& p,
                                 std::vector<std::string> purchase_columns,
                                 std::vector<std::string> dropout_columns)
    : CovariatesModel(
          CovariatesKind::beta_geo,
          [&] {
            if (p.alpha_coefficients.size() != purchase_columns.size())
              throw_invalid("params.alpha_coefficients",
                            "must hold one value per purchase column (" +
                                std::to_string(purchase_columns.size()) + "), got " +
                                std::to_string(p.alpha_coefficients.size()));
            if (p.a_coefficients.size() != dropout_columns.size() ||
                p.b_coefficients.size() != dropout_columns.size())
              throw_invalid(p.a_coefficients.size() != dropout_columns.size()
                                ? "params.a_coefficients"
                                : "params.b_coefficients",
                            "must hold one value per dropout column (" +
                                std::to_string(dropout_columns.size()) + ")");
            std::vector<double> v = {p.r, p.alpha, p.a, p.b};
            v.insert(v.end(), p.alpha_coefficients.begin(), p.alpha_coefficients.end());
            v.insert(v.end(), p.a_coefficients.begin(), p.a_coefficients.end());
            v.insert(v.end(), p.b_coefficients.begin(), p.b_coefficients.end());
            return v;
          }(),
          {}, FitReport{}, purchase_columns, dropout_columns) {}

CovariatesModel::CovariatesModel(const ParetoNBDCovariatesParams& p,
                                 std::vector<std::string> purchase_columns,
                                 std::vector<std::string> dropout_columns)
    : CovariatesModel(
          CovariatesKind::pareto_nbd,
          [&] {
            if (p.alpha_coefficients.size() != purchase_columns.size())
              throw_invalid("params.alpha_coefficients",
                            "must hold one value per purchase column (" +
                                std::to_string(purchase_columns.size()) + "), got " +
                                std::to_string(p.alpha_coefficients.size()));
            if (p.beta_coefficients.size() != dropout_columns.size())
              throw_invalid("params.beta_coefficients",
                            "must hold one value per dropout column (" +
                                std::to_string(dropout_columns.size()) + "), got " +
                                std::to_string(p.beta_coefficients.size()));
            std::vector<double> v = {p.r, p.alpha, p.s, p.beta};
            v.insert(v.end(), p.alpha_coefficients.begin(), p.alpha_coefficients.end());
            v.insert(v.end(), p.beta_coefficients.begin(), p.beta_coefficients.end());
            return v;
          }(),
          {}, FitReport{}, purchase_columns, dropout_columns) {}

std::vector<std::string> CovariatesModel::parameter_names() const {
  const bool bg = kind_ == CovariatesKind::beta_geo;
  std::vector<std::string> names;
  for (const char* n : bg ? kBgNames : kPnbdNames) names.emplace_back(n);
  for (const auto& c : purchase_columns_) names.push_back("alpha[" + c + "]");
  if (bg) {
    for (const auto& c : dropout_columns_) names.push_back("a[" + c + "]");
    for (const auto& c : dropout_columns_) names.push_back("b[" + c + "]");
  } else {
    for (const auto& c : dropout_columns_) names.push_back("beta[" + c + "]");
  }
  return names;
}

BetaGeoCovariatesParams CovariatesModel::beta_geo_params() const {
  if (kind_ != CovariatesKind::beta_geo)
    throw_invalid("kind", "is pareto_nbd; use pareto_nbd_params()");
  const std::size_t p = purchase_columns_.size(), q = dropout_columns_.size();
  BetaGeoCovariatesParams out;
  out.r = values_[0];
  out.alpha = values_[1];
  out.a = values_[2];
  out.b = values_[3];
  out.alpha_coefficients.assign(values_.begin() + 4, values_.begin() + 4 + p);
  out.a_coefficients.assign(values_.begin() + 4 + p, values_.begin() + 4 + p + q);
  out.b_coefficients.assign(values_.begin() + 4 + p + q, values_.end());
  return out;
}

ParetoNBDCovariatesParams CovariatesModel::pareto_nbd_params() const {
  if (kind_ != CovariatesKind::pareto_nbd)
    throw_invalid("kind", "is beta_geo; use beta_geo_params()");
  const std::size_t p = purchase_columns_.size();
  ParetoNBDCovariatesParams out;
  out.r = values_[0];
  out.alpha = values_[1];
  out.s = values_[2];
  out.beta = values_[3];
  out.alpha_coefficients.assign(values_.begin() + 4, values_.begin() + 4 + p);
  out.beta_coefficients.assign(values_.begin() + 4 + p, values_.end());
  return out;
}

namespace {

// Validates a call's rows and covariates against the model.
void check_call(const CovariatesModel& m, std::span<const double> x, std::span<const double> tx,
                std::span<const double> T, const CovariateMatrix& purchase,
                const CovariateMatrix& dropout, std::span<const double> w) {
  detail::check_rfm(x, tx, T, w);
  check_columns_match(purchase, m.purchase_columns(), "purchase_covariates");
  check_columns_match(dropout, m.dropout_columns(), "dropout_covariates");
  detail::check_covariates(purchase, x.size(), "purchase_covariates");
  detail::check_covariates(dropout, x.size(), "dropout_covariates");
}

}  // namespace

double CovariatesModel::log_likelihood(std::span<const double> frequency,
                                       std::span<const double> recency, std::span<const double> T,
                                       const CovariateMatrix& purchase,
                                       const CovariateMatrix& dropout,
                                       std::span<const double> weights) const {
  check_call(*this, frequency, recency, T, purchase, dropout, weights);
  const Design d(kind_, purchase, dropout, frequency.size());
  return detail::covariate_loglik(d, frequency, recency, T, weights, values_.data(),
                                  values_.data() + 4, nullptr, 0);
}

std::vector<double> CovariatesModel::log_likelihood_gradient(
    std::span<const double> frequency, std::span<const double> recency, std::span<const double> T,
    const CovariateMatrix& purchase, const CovariateMatrix& dropout,
    std::span<const double> weights) const {
  check_call(*this, frequency, recency, T, purchase, dropout, weights);
  const Design d(kind_, purchase, dropout, frequency.size());
  std::vector<double> g(values_.size(), 0.0);
  detail::covariate_loglik(d, frequency, recency, T, weights, values_.data(), values_.data() + 4,
                           g.data(), 0);
  for (int k = 0; k < 4; ++k) g[k] /= values_[k];  // d/d log theta -> d/d theta
  return g;
}

std::vector<double> CovariatesModel::individual_log_likelihood(
    std::span<const double> frequency, std::span<const double> recency, std::span<const double> T,
    const CovariateMatrix& purchase, const CovariateMatrix& dropout) const {
  check_call(*this, frequency, recency, T, purchase, dropout, {});
  const Design d(kind_, purchase, dropout, frequency.size());
  const double r = values_[0], lg_r = detail::lgamma_(r);
  std::vector<double> out(frequency.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    double th[4];
    d.row_params_natural(values_.data(), values_.data() + 4, i, th);
    const double lg_d = detail::lgamma_(r + frequency[i]) - lg_r;
    out[i] = kind_ == CovariatesKind::beta_geo
                 ? detail::bg_row(th[0], th[1], th[2], th[3], frequency[i], recency[i], T[i],
                                  lg_d, 0.0, nullptr)
                 : detail::pnbd_row(th[0], th[1], th[2], th[3], frequency[i], recency[i], T[i],
                                    lg_d, 0.0, nullptr);
  }
  return out;
}

namespace {

// (1 - exp(-e L)) / e, with its limit L at e = 0 (pareto_nbd.cpp).
double one_minus_exp_over(double e, double L) { return e == 0 ? L : -std::expm1(-e * L) / e; }

// P(alive) at the customer's own parameters th (the plain models' formulas).
double alive_at(CovariatesKind kind, const double* th, double x, double tx, double T) {
  if (kind == CovariatesKind::beta_geo) {
    if (x == 0) return 1.0;
    const double r = th[0], alpha = th[1], a = th[2], b = th[3];
    const double z =
        std::log(a) - std::log(b + x - 1) + (r + x) * std::log((alpha + T) / (alpha + tx));
    return detail::inv_one_plus_exp(z);
  }
  const double r = th[0], alpha = th[1], s = th[2], beta = th[3];
  const double E1 = -(r + x) * std::log(alpha + T) - s * std::log(beta + T);
  const double E2 = detail::pnbd_log_sI(r, alpha, s, beta, x, tx, T, nullptr);
  return E2 == -INFINITY ? 1.0 : detail::inv_one_plus_exp(E2 - E1);
}

template <typename F>
void per_row(std::size_t n, F&& body) {
  detail::parallel_blocks(n, 8192, detail::threads_for(n),
                          [&](unsigned, std::size_t, std::size_t i0, std::size_t i1) {
                            for (std::size_t i = i0; i < i1; ++i) body(i);
                          });
}

}  // namespace

std::vector<double> CovariatesModel::conditional_probability_alive(
    std::span<const double> frequency, std::span<const double> recency, std::span<const double> T,
    const CovariateMatrix& purchase, const CovariateMatrix& dropout) const {
  check_call(*this, frequency, recency, T, purchase, dropout, {});
  const Design d(kind_, purchase, dropout, frequency.size());
  std::vector<double> out(frequency.size());
  per_row(out.size(), [&](std::size_t i) {
    double th[4];
    d.row_params_natural(values_.data(), values_.data() + 4, i, th);
    out[i] = alive_at(kind_, th, frequency[i], recency[i], T[i]);
  });
  return out;
}

std::vector<double> CovariatesModel::conditional_expected_number_of_purchases_up_to_time(
    double t, std::span<const double> frequency, std::span<const double> recency,
    std::span<const double> T, const CovariateMatrix& purchase,
    const CovariateMatrix& dropout) const {
  detail::check_t(t, "t");
  check_call(*this, frequency, recency, T, purchase, dropout, {});
  const Design d(kind_, purchase, dropout, frequency.size());
  std::vector<double> out(frequency.size());
  per_row(out.size(), [&](std::size_t i) {
    double th[4];
    d.row_params_natural(values_.data(), values_.data() + 4, i, th);
    const double x = frequency[i], Ti = T[i];
    const double alive = alive_at(kind_, th, x, recency[i], Ti);
    double e;
    if (kind_ == CovariatesKind::beta_geo) {
      e = detail::bg_kc(th[0] + x, th[1] + Ti, th[2], th[3] + x, t);
    } else {
      const double bT = th[3] + Ti;
      e = (th[0] + x) / (th[1] + Ti) * bT * one_minus_exp_over(th[2] - 1, std::log1p(t / bT));
    }
    out[i] = alive * e;
  });
  return out;
}

std::vector<double> CovariatesModel::expected_number_of_purchases_up_to_time(
    double t, const CovariateMatrix& purchase, const CovariateMatrix& dropout,
    std::size_t rows) const {
  detail::check_t(t, "t");
  check_columns_match(purchase, purchase_columns_, "purchase_covariates");
  check_columns_match(dropout, dropout_columns_, "dropout_covariates");
  detail::check_covariates(purchase, rows, "purchase_covariates");
  detail::check_covariates(dropout, rows, "dropout_covariates");
  const Design d(kind_, purchase, dropout, rows);
  std::vector<double> out(rows);
  per_row(rows, [&](std::size_t i) {
    double th[4];
    d.row_params_natural(values_.data(), values_.data() + 4, i, th);
    out[i] = kind_ == CovariatesKind::beta_geo
                 ? detail::bg_kc(th[0], th[1], th[2], th[3], t)
                 : th[0] / th[1] * th[3] * one_minus_exp_over(th[2] - 1, std::log1p(t / th[3]));
  });
  return out;
}

std::vector<std::vector<double>> CovariatesModel::individual_parameters(
    const CovariateMatrix& purchase, const CovariateMatrix& dropout, std::size_t rows) const {
  check_columns_match(purchase, purchase_columns_, "purchase_covariates");
  check_columns_match(dropout, dropout_columns_, "dropout_covariates");
  detail::check_covariates(purchase, rows, "purchase_covariates");
  detail::check_covariates(dropout, rows, "dropout_covariates");
  const Design d(kind_, purchase, dropout, rows);
  const bool bg = kind_ == CovariatesKind::beta_geo;
  std::vector<std::vector<double>> out(bg ? 3 : 2, std::vector<double>(rows));
  for (std::size_t i = 0; i < rows; ++i) {
    double th[4];
    d.row_params_natural(values_.data(), values_.data() + 4, i, th);
    out[0][i] = th[1];
    if (bg) {
      out[1][i] = th[2];
      out[2][i] = th[3];
    } else {
      out[1][i] = th[3];
    }
  }
  return out;
}

}  // namespace v0
}  // namespace crmkit
