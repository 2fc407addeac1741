// Timing of BG/NBD fit and predictions on 1,000,000 simulated customers (day resolution, weeks).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <random>
#include <vector>

#include "crmkit/value/models.hpp"

int main() {
  using clock = std::chrono::steady_clock;
  const std::size_t n = 1000000;
  std::mt19937_64 rng(42);
  std::gamma_distribution<double> lam(0.243, 1 / 4.414);
  std::gamma_distribution<double> ga(0.793, 1), gb(2.426, 1);
  std::uniform_real_distribution<double> U(0, 1);
  std::vector<double> x(n), tx(n), T(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double Ti = std::floor(U(rng) * 12 * 7) / 7 + 27;  // 27..39 weeks, whole days
    const double l = lam(rng), ya = ga(rng), p = ya / (ya + gb(rng));
    double t = 0, last = 0;
    int k = 0;
    for (;;) {
      t += -std::log(1 - U(rng)) / l;
      if (t > Ti) break;
      ++k;
      last = t;
      if (U(rng) < p) break;
    }
    x[i] = k;
    tx[i] = k ? std::min(Ti, std::floor(last * 7) / 7) : 0;
    T[i] = Ti;
  }
  // CPU times (std::clock) are printed beside wall times: the build machine may be shared.
  auto t0 = clock::now();
  auto c0 = std::clock();
  const auto m = crmkit::BetaGeoModel::fit(x, tx, T);
  auto t1 = clock::now();
  auto c1 = std::clock();
  const auto pa = m.conditional_probability_alive(x, tx, T);
  auto t2 = clock::now();
  auto c2 = std::clock();
  const auto ce = m.conditional_expected_number_of_purchases_up_to_time(39, x, tx, T);
  auto t3 = clock::now();
  auto c3 = std::clock();
  auto cms = [](std::clock_t a, std::clock_t b) { return (b - a) * 1000.0 / CLOCKS_PER_SEC; };
  std::printf("cpu: fit %.1f ms, p_alive %.1f ms, conditional_expected %.1f ms\n", cms(c0, c1),
              cms(c1, c2), cms(c2, c3));
  auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
  std::printf("fit %.1f ms (%d evals, converged %d): r=%.3f alpha=%.3f a=%.3f b=%.3f\n",
              ms(t0, t1), m.report().iterations, m.report().converged, m.params().r,
              m.params().alpha, m.params().a, m.params().b);
  std::printf("p_alive %.1f ms, conditional_expected(39) %.1f ms; sample %.4f %.4f\n", ms(t1, t2),
              ms(t2, t3), pa[0], ce[0]);
}
