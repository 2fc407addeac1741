// Imports the CDNOW sample into a store, then computes straight from the store: the customer
// summary, the BG/NBD and Gamma-Gamma fits, the 12-month CLV and lifetime value in three parts.
//
// Usage: example_value_from_store [STORE_PATH] [--data PATH]
//   STORE_PATH  the store file to open or create (default: cdnow-value.crmkit)
//   --data      the CDNOW sample file (default: <repo>/data/CDNOW_sample.txt)
//
// The time unit is the week: days divided by 7 (unit day, multiplier 7), as the published CDNOW
// numbers use, with the calibration period ending 1997-09-30 (Fader, Hardie and Lee 2005). The CLV
// is lifetimes' customer_lifetime_value over 12 months of 4.345 weeks with a 1% monthly discount
// rate; lifetime value uses a horizon of the same 12 months (52.14 weeks), undiscounted, as of
// 1997-09-30, with a 10% uplift on current value as potential value (CDNOW has no referrals).
// Numbers print with %.17g and money as exact decimals, so that a test can compare them with the
// Python twin, examples/python/value_from_store.py.
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <crmkit/crmkit.hpp>

#include "cdnow_sample.hpp"

#ifndef CRMKIT_DATA_DIR
#define CRMKIT_DATA_DIR "data"
#endif

namespace {

using cdnow_example::read_cdnow_sample;

// A double with 17 significant digits (printf's %.17g): enough to tell any two doubles apart.
std::string g17(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return buffer;
}

double sum(const std::vector<double>& values) {
  double total = 0;
  for (double v : values) total += v;
  return total;
}

// The exact sum of a column of minor units, as a decimal string of the store's currency.
std::string money_sum(const crmkit::LifetimeValue& v, const std::vector<std::int64_t>& column) {
  crmkit::Money total = crmkit::Money::from_minor(0, v.currency);
  for (std::int64_t minor : column) total = total + crmkit::Money::from_minor(minor, v.currency);
  return total.amount_string();
}

}  // namespace

int main(int argc, char** argv) {
  std::string store_path = "cdnow-value.crmkit";
  std::string data_path = std::string(CRMKIT_DATA_DIR) + "/CDNOW_sample.txt";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--data" && i + 1 < argc) {
      data_path = argv[++i];
    } else if (!arg.empty() && arg[0] != '-') {
      store_path = arg;
    } else {
      std::cerr << "usage: " << argv[0] << " [STORE_PATH] [--data PATH]\n";
      return 2;
    }
  }

  try {
    crmkit::StoreOptions options;
    options.currency = "USD";
    crmkit::Store store = crmkit::Store::open(store_path, options);
    store.import_purchases(read_cdnow_sample(data_path));  // a repeated run adds nothing

    // The summary as of the end of the calibration period, in weeks.
    crmkit::StoreSummaryOptions weeks;
    weeks.unit = crmkit::TimeUnit::day;
    weeks.multiplier = 7;
    weeks.observation_period_end = crmkit::Timestamp::parse("1997-09-30T00:00:00Z");
    const crmkit::StoreCustomerSummary s = crmkit::summary_from_store(store, weeks);

    // The two fits: BG/NBD on every customer, Gamma-Gamma on those with repeat purchases.
    const crmkit::BetaGeoModel bgf = crmkit::fit_beta_geo(s);
    const crmkit::GammaGammaModel ggf = crmkit::fit_gamma_gamma(s);
    std::size_t repeat_buyers = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s.frequency[i] >= 1 && s.monetary_value[i] > 0) ++repeat_buyers;
    }

    // lifetimes' 12-month CLV: 12 months of 4.345 weeks, 1% discount a month.
    crmkit::ClvOptions clv_options;
    clv_options.months = 12;
    clv_options.discount_rate = 0.01;
    clv_options.periods_per_month = crmkit::periods_per_month("W");
    const std::vector<double> clv = crmkit::customer_lifetime_value(s, bgf, ggf, clv_options);

    // Lifetime value in three parts over the same 12 months, as of 1997-09-30.
    crmkit::StoreValueOptions value_options;
    value_options.summary = weeks;
    value_options.value.potential.uplift = crmkit::Decimal::parse("0.1");
    const double horizon = 12 * crmkit::periods_per_month("W");
    const crmkit::StoreLifetimeValue ltv =
        crmkit::lifetime_value_parts(store, bgf, ggf, horizon, value_options);
    std::size_t by_model = 0;
    for (crmkit::ValueMethod m : ltv.method) by_model += m == crmkit::ValueMethod::model ? 1 : 0;

    const crmkit::BetaGeoParams& bg = bgf.params();
    const crmkit::GammaGammaParams& gg = ggf.params();
    std::cout << "store:          " << std::filesystem::absolute(store_path).string() << "\n"
              << "purchases:      " << store.summary().purchases << "\n"
              << "summary:        " << s.size() << " customers as of 1997-09-30, in weeks\n"
              << "first row:      " << s.external_id[0] << " customer_id=" << s.customer_id[0]
              << " frequency=" << g17(s.frequency[0]) << " recency=" << g17(s.recency[0])
              << " T=" << g17(s.T[0]) << " monetary_value=" << g17(s.monetary_value[0]) << "\n"
              << "summary sums:   frequency=" << g17(sum(s.frequency))
              << " recency=" << g17(sum(s.recency)) << " T=" << g17(sum(s.T))
              << " monetary_value=" << g17(sum(s.monetary_value)) << "\n"
              << "bg/nbd:         r=" << g17(bg.r) << " alpha=" << g17(bg.alpha)
              << " a=" << g17(bg.a) << " b=" << g17(bg.b)
              << " log_likelihood=" << g17(bgf.report().log_likelihood) << "\n"
              << "gamma-gamma:    p=" << g17(gg.p) << " q=" << g17(gg.q) << " v=" << g17(gg.v)
              << " log_likelihood=" << g17(ggf.report().log_likelihood)
              << " customers=" << repeat_buyers << "\n"
              << "clv 12 months:  total=" << g17(sum(clv)) << " first=" << g17(clv[0]) << "\n"
              << "ltv parts:      historical=" << money_sum(ltv, ltv.historical_minor)
              << " current=" << money_sum(ltv, ltv.current_minor)
              << " potential=" << money_sum(ltv, ltv.potential_minor)
              << " total=" << money_sum(ltv, ltv.total_minor) << " model=" << by_model
              << " run_rate=" << ltv.size() - by_model << "\n";
    return 0;
  } catch (const crmkit::Error& e) {
    std::cerr << "crmkit error (" << crmkit::to_string(e.code()) << "): " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
