// Weighted pipeline value; see crmkit/analytics/pipeline.hpp.
#include "crmkit/analytics/pipeline.hpp"

#include <charconv>
#include <cstdio>
#include <optional>
#include <cmath>
#include <map>
#include <string>
#include <tuple>

#include "crmkit/base/error.hpp"
#include "crmkit/lifecycle/machine.hpp"

namespace crmkit {
inline namespace v0 {

namespace {

Int128 pow10(int n) {
  Int128 r(1);
  for (int i = 0; i < n; ++i) r *= Int128(10);
  return r;
}

std::string month_of(std::int64_t days) {
  const Date d = Date::from_days_since_epoch(days);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d", d.year(), d.month());
  return buf;
}

}  // namespace

Decimal probability_decimal(double p) {
  if (!(p >= 0.0 && p <= 1.0))
    throw_invalid("probability", "must be between 0 and 1, got " + std::to_string(p));
  char buf[400];
  const auto res = std::to_chars(buf, buf + sizeof buf, p, std::chars_format::fixed);
  if (res.ec != std::errc()) throw_invalid("probability", "cannot be written as a decimal");
  const std::string text(buf, res.ptr);
  const auto dot = text.find('.');
  if (dot != std::string::npos && text.size() - dot - 1 > 30)
    throw_invalid("probability", text + " has more than 30 decimals");
  return Decimal::parse(text, "probability");
}

PipelineValue pipeline_value(const OpportunityColumns& opp, const StateColumns& states,
                             const Machine& pipeline, const PipelineOptions& options) {
  if (opp.id != states.entity_id)
    throw_invalid("states", "must hold the opportunities' ids in the same order");
  const int minor = opp.currency.minor_units();
  // Every state's probability as an exact decimal, and the common scale of the products.
  std::map<std::string, std::pair<std::size_t, std::optional<Decimal>>, std::less<>> stage_info;
  int scale = minor;
  const auto& defs = pipeline.states();
  for (std::size_t i = 0; i < defs.size(); ++i) {
    std::optional<Decimal> p;
    if (defs[i].probability) {
      p = probability_decimal(*defs[i].probability);
      scale = std::max(scale, minor + p->scale());
    }
    stage_info.emplace(defs[i].name, std::make_pair(i, p));
  }
  struct Sum {
    std::int64_t count = 0;
    Int128 amount;
    Int128 weighted;  // at `scale`
  };
  // Key: (state position, owner, month).
  std::map<std::tuple<std::size_t, std::string, std::string>, Sum> groups;
  for (std::size_t i = 0; i < opp.size(); ++i) {
    const std::string& st = states.state[i];
    auto it = stage_info.find(st);
    if (it == stage_info.end())
      throw_error(ErrorCode::not_found, "states",
                  "opportunity " + std::to_string(opp.id[i]) + " is in '" + st +
                      "', no state of machine '" + pipeline.name() + "'");
    if (!options.include_terminal && pipeline.state(st).terminal) continue;
    const auto& prob = it->second.second;
    if (!prob)
      throw_invalid("pipeline", "state '" + st + "' of machine '" + pipeline.name() +
                                    "' has no win probability (opportunity " +
                                    std::to_string(opp.id[i]) + ")");
    const auto key = std::make_tuple(options.by_stage ? it->second.first : std::size_t{0},
                                     options.by_owner ? opp.owner[i] : std::string(),
                                     options.by_close_month ? month_of(opp.expected_close_days[i])
                                                            : std::string());
    Sum& g = groups[key];
    g.count += 1;
    const Int128 amount(opp.amount_minor[i]);
    g.amount += amount;
    g.weighted += amount * prob->coefficient() * pow10(scale - minor - prob->scale());
  }
  PipelineValue out;
  out.currency = opp.currency;
  for (const auto& [key, g] : groups) {
    out.stage.push_back(options.by_stage ? defs[std::get<0>(key)].name : std::string());
    out.owner.push_back(std::get<1>(key));
    out.close_month.push_back(std::get<2>(key));
    out.count.push_back(g.count);
    out.amount.push_back(Money::from_minor(g.amount, opp.currency));
    const Decimal exact(g.weighted, scale);
    out.weighted_exact.push_back(exact);
    out.weighted.push_back(
        Money::from_decimal(exact.rounded(minor, RoundingMode::half_even), opp.currency));
  }
  return out;
}

PipelineValue pipeline_value(const Store& store, const Machine& pipeline,
                             const PipelineOptions& options) {
  // Opportunities first, then their states; an opportunity created between the two reads is in
  // the states but not the opportunities, so the states are filtered to the opportunities' ids.
  const OpportunityColumns opp = store.opportunity_columns(pipeline.name());
  const StateColumns all = store.states(pipeline, EntityKind::opportunity);
  StateColumns st;
  st.machine = all.machine;
  st.kind = all.kind;
  std::size_t j = 0;
  for (std::size_t i = 0; i < all.size() && j < opp.size(); ++i) {
    if (all.entity_id[i] != opp.id[j]) continue;
    st.entity_id.push_back(all.entity_id[i]);
    st.state.push_back(all.state[i]);
    st.since_micros.push_back(all.since_micros[i]);
    st.recorded.push_back(all.recorded[i]);
    ++j;
  }
  return pipeline_value(opp, st, pipeline, options);
}

}  // namespace v0
}  // namespace crmkit
