// The points engine: PointsAccount (lots, pending, expiry, spend order, reversal and debt, tiers),
// replay_account and balances_as_of (crmkit/loyalty/points.hpp).
//
// Why the state looks like this: the Store earns points for millions of purchases through
// earn + apply, so both are O(lots touched): lots live in a vector in grant order; the available
// lots with points left are an ordered set keyed by the spend order; unlocks and expiries wait
// in min-heaps; the window bases keep a running sum over a deque. Rule names are indices into
// the programme (no string per lot), and the rules engine runs only for rules with a condition.
#include <algorithm>
#include <deque>
#include <functional>
#include <limits>
#include <numeric>
#include <queue>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/multiprecision/cpp_int.hpp>

#include "base/calendar.hpp"
#include "base/int128_boost.hpp"
#include "crmkit/base/error.hpp"
#include "crmkit/loyalty/points.hpp"
#include "loyalty/points_internal.hpp"

namespace crmkit {
inline namespace v0 {

namespace {

constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kBeginning = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kDay = detail::kMicrosPerDay;

using TimedIndex = std::pair<std::int64_t, std::uint32_t>;
using MinHeap = std::priority_queue<TimedIndex, std::vector<TimedIndex>, std::greater<>>;

// Start of the month / year after the one holding `micros` (UTC).
std::int64_t next_period_start(std::int64_t micros, Period p) {
  return period_start(period_index(Timestamp(micros), p) + 1, p).micros();
}

std::string entry_label(const PointsEntry& e) {
  return "entry " + std::to_string(e.id) + " (" + to_string(e.kind) + " at " + e.at.to_string() +
         ")";
}

}  // namespace

struct PointsAccount::State {
  struct LotState {
    std::int64_t entry = 0;
    EventId event = 0;
    std::int32_t rule = -1;  // index into program rules, then extra_names; -1 = none
    bool from_earn = false;
    bool pending = false;
    bool expired_now = false;
    std::int64_t granted_at = 0, available_at = 0, expires_at = kNever;
    Points granted = 0, paid_to_debt = 0, redeemed = 0, reversed = 0, expired = 0, remaining = 0;
  };
  struct EventInfo {
    Points earned = 0;
    Points reversed = 0;
    std::uint32_t first_lot = 0, last_lot = 0;  // earn lots of the event lie in [first, last]
    bool has_lots = false;
  };
  struct TierStep {
    std::int64_t at = 0;
    int from = -1, to = -1;
  };
  struct Cap {
    std::int64_t period = std::numeric_limits<std::int64_t>::min();
    Points used = 0;
  };

  std::vector<LotState> lots;
  std::set<TimedIndex> spendable;  // available lots with points left, in spend order
  MinHeap unlocks;                 // pending lots by available_at
  MinHeap expiries;                // available lots with an expiry, by expires_at
  std::unordered_map<EventId, EventInfo> events;
  std::vector<std::string> extra_names;  // rule names not in the programme
  std::vector<Cap> caps;                 // by programme rule

  Points available = 0, pending = 0, debt = 0, earned = 0, redeemed = 0, reversed = 0,
         expired = 0;

  // Tiers.
  int tier = -1;
  std::int64_t last_change = kBeginning;
  std::int64_t next_checkpoint = kNever;
  Points since_change = 0;
  std::deque<std::pair<std::int64_t, std::int64_t>> window;  // (at, points or minor units)
  std::int64_t window_sum = 0;
  std::vector<TierStep> history;
};

// ---- construction ----

PointsAccount::PointsAccount(Program program, CustomerId customer)
    : PointsAccount(compile_program(program), customer) {}

PointsAccount::PointsAccount(std::shared_ptr<const CompiledProgram> program, CustomerId customer)
    : compiled_(std::move(program)), customer_(customer), now_(Timestamp(kBeginning)) {
  if (!compiled_) throw_invalid("program", "no compiled programme given");
  auto s = std::make_shared<State>();
  s->caps.resize(compiled_->program().rules.size());
  state_ = std::move(s);
}

namespace {

// The engine proper, over a State it may change. One per call; holds no state of its own.
struct Engine {
  using State = PointsAccount::State;
  const Program& p;
  State& s;

  std::int64_t window_micros() const { return static_cast<std::int64_t>(p.tiers.window_days) * kDay; }
  bool window_basis() const {
    return !p.tiers.tiers.empty() && (p.tiers.basis == TierBasis::points_earned_window ||
                                      p.tiers.basis == TierBasis::spend_window);
  }

  TimedIndex spend_key(std::uint32_t i) const {
    return p.spend_order == SpendOrder::fifo ? TimedIndex{i, i}
                                             : TimedIndex{s.lots[i].expires_at, i};
  }

  // The earliest time at which something happens by itself (unlock, expiry, a window drop-off, a
  // downgrade checkpoint), or kNever.
  std::int64_t next_due() const {
    std::int64_t t = kNever;
    if (!s.unlocks.empty()) t = std::min(t, s.unlocks.top().first);
    if (!s.expiries.empty()) t = std::min(t, s.expiries.top().first);
    if (!s.window.empty()) t = std::min(t, s.window.front().first + window_micros());
    t = std::min(t, s.next_checkpoint);
    return t;
  }

  // ---- tiers ----
  std::int64_t basis_value() const {
    switch (p.tiers.basis) {
      case TierBasis::active_points: return s.available - s.debt;
      case TierBasis::points_earned_window: return s.window_sum;
      case TierBasis::points_since_tier_change: return s.since_change;
      case TierBasis::spend_window: {
        const std::int64_t unit = [&] {
          std::int64_t u = 1;
          for (int i = 0; i < Currency::of(p.currency).minor_units(); ++i) u *= 10;
          return u;
        }();
        return detail::floor_div(s.window_sum, unit);
      }
    }
    return 0;
  }
  int target_tier() const {
    const auto& tiers = p.tiers.tiers;
    const std::int64_t v = basis_value();
    int t = 0;
    for (std::size_t i = 1; i < tiers.size(); ++i)
      if (v >= tiers[i].threshold) t = static_cast<int>(i);
    return t;
  }
  void change_tier(std::int64_t at, int to) {
    s.history.push_back({at, s.tier, to});
    s.tier = to;
    s.last_change = at;
    s.since_change = 0;
    if (p.tiers.downgrade == DowngradeMode::every_n_days)
      s.next_checkpoint = at + static_cast<std::int64_t>(p.tiers.downgrade_every_days) * kDay;
  }
  // After an entry, an unlock, an expiry or a window drop-off.
  void recheck(std::int64_t at, bool after_entry) {
    if (p.tiers.tiers.empty()) return;
    if (s.tier < 0) {
      if (after_entry) change_tier(at, target_tier());
      return;
    }
    const int target = target_tier();
    if (target > s.tier || (target < s.tier && p.tiers.downgrade == DowngradeMode::automatic))
      change_tier(at, target);
  }
  void checkpoint(std::int64_t at) {
    const int target = target_tier();
    if (target < s.tier) {
      change_tier(at, target);
    } else {
      s.next_checkpoint = at + static_cast<std::int64_t>(p.tiers.downgrade_every_days) * kDay;
    }
  }

  // ---- time ----
  void advance(std::int64_t t) {
    for (;;) {
      const std::int64_t due = next_due();
      if (due > t) break;
      bool changed = false;
      while (!s.unlocks.empty() && s.unlocks.top().first == due) {
        const std::uint32_t i = s.unlocks.top().second;
        s.unlocks.pop();
        auto& lot = s.lots[i];
        lot.pending = false;
        s.pending -= lot.remaining;
        s.available += lot.remaining;
        if (lot.remaining > 0) s.spendable.insert(spend_key(i));
        if (lot.expires_at != kNever) s.expiries.push({lot.expires_at, i});
        changed = true;
      }
      while (!s.expiries.empty() && s.expiries.top().first == due) {
        const std::uint32_t i = s.expiries.top().second;
        s.expiries.pop();
        auto& lot = s.lots[i];
        lot.expired_now = true;
        if (lot.remaining > 0) {
          s.spendable.erase(spend_key(i));
          lot.expired = lot.remaining;
          s.expired += lot.remaining;
          s.available -= lot.remaining;
          lot.remaining = 0;
        }
        changed = true;
      }
      while (!s.window.empty() && s.window.front().first + window_micros() == due) {
        s.window_sum -= s.window.front().second;
        s.window.pop_front();
        changed = true;
      }
      if (changed) recheck(due, false);
      if (s.next_checkpoint == due) checkpoint(due);
    }
  }

  // ---- taking points ----
  void take(std::uint32_t i, Points n, bool redeem) {
    auto& lot = s.lots[i];
    if (redeem) lot.redeemed += n; else lot.reversed += n;
    if (lot.pending) {
      s.pending -= n;
      lot.remaining -= n;
    } else {
      s.available -= n;
      const bool emptied = lot.remaining == n;
      if (emptied) s.spendable.erase(spend_key(i));
      lot.remaining -= n;
    }
  }
  // Takes up to n from the available lots in spend order; returns what it could not find.
  Points take_available(Points n, bool redeem) {
    while (n > 0 && !s.spendable.empty()) {
      const std::uint32_t i = s.spendable.begin()->second;
      const Points k = std::min(n, s.lots[i].remaining);
      take(i, k, redeem);
      n -= k;
    }
    return n;
  }

  std::int32_t rule_index(const std::string& name) {
    if (name.empty()) return -1;
    const auto& rules = p.rules;
    for (std::size_t i = 0; i < rules.size(); ++i)
      if (rules[i].name == name) return static_cast<std::int32_t>(i);
    for (std::size_t i = 0; i < s.extra_names.size(); ++i)
      if (s.extra_names[i] == name) return static_cast<std::int32_t>(rules.size() + i);
    s.extra_names.push_back(name);
    return static_cast<std::int32_t>(rules.size() + s.extra_names.size() - 1);
  }

  void grant(const PointsEntry& e, bool from_earn, std::int64_t now) {
    const auto i = static_cast<std::uint32_t>(s.lots.size());
    State::LotState lot;
    lot.entry = e.id;
    lot.event = e.event;
    lot.rule = rule_index(e.rule);
    lot.from_earn = from_earn;
    lot.granted_at = e.at.micros();
    lot.available_at = e.available_at.micros();
    lot.expires_at = e.expires_at ? e.expires_at->micros() : kNever;
    lot.granted = e.points;
    lot.paid_to_debt = std::min(e.points, s.debt);
    s.debt -= lot.paid_to_debt;
    lot.remaining = e.points - lot.paid_to_debt;
    s.earned += e.points;
    lot.pending = lot.available_at > now;
    s.lots.push_back(lot);
    if (lot.pending) {
      s.pending += lot.remaining;
      s.unlocks.push({lot.available_at, i});
    } else {
      s.available += lot.remaining;
      if (lot.remaining > 0) s.spendable.insert(spend_key(i));
      if (lot.expires_at != kNever) s.expiries.push({lot.expires_at, i});
    }
    if (from_earn && e.event != 0) {
      auto& info = s.events[e.event];
      info.earned += e.points;
      if (!info.has_lots) info.first_lot = i;
      info.last_lot = i;
      info.has_lots = true;
    }
    if (from_earn && lot.rule >= 0 && static_cast<std::size_t>(lot.rule) < p.rules.size()) {
      const EarningRule& r = p.rules[static_cast<std::size_t>(lot.rule)];
      if (r.cap_per_period > 0) {
        auto& cap = s.caps[static_cast<std::size_t>(lot.rule)];
        const std::int64_t period = period_index(e.at, r.cap_period);
        if (cap.period != period) cap = {period, 0};
        cap.used += e.points;
      }
    }
    if (!p.tiers.tiers.empty()) {
      s.since_change += e.points;
      if (p.tiers.basis == TierBasis::points_earned_window) {
        s.window.emplace_back(e.at.micros(), e.points);
        s.window_sum += e.points;
      }
    }
  }

  void apply(const PointsEntry& e, std::int64_t now) {
    switch (e.kind) {
      case PointsEntryKind::earn: grant(e, true, now); break;
      case PointsEntryKind::adjustment:
        if (e.points > 0) {
          grant(e, false, now);
        } else {
          s.reversed += -e.points;
          s.debt += take_available(-e.points, false);
        }
        break;
      case PointsEntryKind::redeem: {
        // More than available only in a ledger written by something else: the rest is debt.
        const Points found = std::min(e.points, s.available);
        s.redeemed += e.points;
        s.debt += take_available(found, true) + (e.points - found);
        break;
      }
      case PointsEntryKind::reversal: {
        Points n = e.points;
        s.reversed += n;
        auto& info = s.events[e.event];
        info.reversed += n;
        if (info.has_lots) {
          for (std::uint32_t i = info.first_lot; i <= info.last_lot && n > 0; ++i) {
            auto& lot = s.lots[i];
            if (lot.event != e.event || !lot.from_earn || lot.remaining == 0) continue;
            const Points k = std::min(n, lot.remaining);
            take(i, k, false);
            n -= k;
          }
        }
        s.debt += take_available(n, false);
        break;
      }
      case PointsEntryKind::spend:
        if (!p.tiers.tiers.empty() && p.tiers.basis == TierBasis::spend_window) {
          const std::int64_t minor = e.amount.minor_units_i64();
          s.window.emplace_back(e.at.micros(), minor);
          s.window_sum += minor;
        }
        break;
    }
    recheck(e.at.micros(), true);
  }
};

}  // namespace

// Copy-on-write: the state is cloned before a change when another account shares it.
static PointsAccount::State& mutable_state(std::shared_ptr<PointsAccount::State>& st) {
  if (st.use_count() > 1) st = std::make_shared<PointsAccount::State>(*st);
  return *st;
}

void PointsAccount::advance_to(Timestamp t) {
  if (t <= now_) return;
  Engine probe{program(), *state_};
  if (probe.next_due() <= t.micros()) {
    Engine e{program(), mutable_state(state_)};
    e.advance(t.micros());
  }
  now_ = t;
}

void PointsAccount::apply(const PointsEntry& e) {
  if (e.customer != customer_)
    throw_invalid("customer", entry_label(e) + " is for customer " + std::to_string(e.customer) +
                                  ", not " + std::to_string(customer_));
  if (e.at < now_)
    throw_invalid("at", entry_label(e) + " is before the account's time " + now_.to_string());
  const bool grant = e.kind == PointsEntryKind::earn ||
                     (e.kind == PointsEntryKind::adjustment && e.points > 0);
  switch (e.kind) {
    case PointsEntryKind::earn:
    case PointsEntryKind::redeem:
    case PointsEntryKind::reversal:
      if (e.points <= 0)
        throw_invalid("points", entry_label(e) + " has " + std::to_string(e.points) +
                                    " points (must be > 0)");
      break;
    case PointsEntryKind::adjustment:
      if (e.points == 0) throw_invalid("points", entry_label(e) + " has 0 points");
      break;
    case PointsEntryKind::spend:
      if (e.points != 0)
        throw_invalid("points", entry_label(e) + " has " + std::to_string(e.points) +
                                    " points (a spend entry has none)");
      if (e.amount.currency().code() != program().currency)
        throw_invalid("amount", entry_label(e) + " is in " + std::string(e.amount.currency().code()) +
                                    ", not the programme's " + program().currency);
      (void)e.amount.minor_units_i64();  // throws Error{overflow} beyond int64
      break;
    default: throw_invalid("kind", entry_label(e) + " has an unknown kind");
  }
  if (grant) {
    if (e.available_at < e.at)
      throw_invalid("available_at", entry_label(e) + " unlocks at " + e.available_at.to_string() +
                                        ", before it is granted");
    if (e.expires_at && *e.expires_at <= e.available_at)
      throw_invalid("expires_at", entry_label(e) + " expires at " + e.expires_at->to_string() +
                                      ", not after it unlocks at " + e.available_at.to_string());
  }
  if (e.kind == PointsEntryKind::reversal && e.event == 0)
    throw_invalid("event", entry_label(e) + " names no refunded purchase");
  advance_to(e.at);
  Engine eng{program(), mutable_state(state_)};
  eng.apply(e, now_.micros());
}

namespace {

// The facts of one event for the earning conditions (only the slots the rules read).
void fill_facts(FactTable& t, const std::vector<std::size_t>& slots, const Event& ev,
                const std::string* tier) {
  const Purchase* pu = std::get_if<Purchase>(&ev.payload);
  const auto* su = std::get_if<SurveyResponse>(&ev.payload);
  const auto* pa = std::get_if<EventParticipation>(&ev.payload);
  const std::int64_t day = detail::floor_div(ev.at.micros(), kDay);
  for (std::size_t slot : slots) {
    t.set_missing(0, slot);
    switch (slot) {
      case 0: t.set_text(0, slot, to_string(ev.type())); break;
      case 1: if (pu) t.set_number(0, slot, pu->amount.to_double()); break;
      case 2: if (pu && !pu->category.empty()) t.set_text(0, slot, pu->category); break;
      case 3: if (pu) t.set_boolean(0, slot, pu->essential); break;
      case 4: if (pu) t.set_integer(0, slot, pu->item_count); break;
      case 5: if (pa) t.set_text(0, slot, pa->event_name); break;
      case 6: if (su && !su->survey.empty()) t.set_text(0, slot, su->survey); break;
      case 7: if (tier) t.set_text(0, slot, *tier); break;
      case 8: t.set_integer(0, slot, ((day + 3) % 7 + 7) % 7 + 1); break;  // day 0: Thursday
      case 9: t.set_integer(0, slot, static_cast<std::int64_t>(detail::civil_from_days(day).month)); break;
      default: break;
    }
  }
}

bool kind_matches(EarnKind k, EventType t) {
  switch (k) {
    case EarnKind::spend: return t == EventType::purchase;
    case EarnKind::referral: return t == EventType::referral;
    case EarnKind::survey: return t == EventType::survey_response;
    case EarnKind::event_attended: return t == EventType::event_participation;
  }
  return false;
}

PointsU128 magnitude(const Int128& x) {
  using A = detail::Int128Access;
  return (static_cast<PointsU128>(A::high(x)) << 64) | static_cast<PointsU128>(A::low(x));
}

}  // namespace

std::vector<PointsEntry> PointsAccount::earn(const Event& event,
                                             const std::optional<RefundBasis>& refund) const {
  if (event.customer != customer_)
    throw_invalid("customer", "event " + std::to_string(event.id) + " is for customer " +
                                  std::to_string(event.customer) + ", not " +
                                  std::to_string(customer_));
  if (event.at < now_)
    throw_invalid("at", "event " + std::to_string(event.id) + " at " + event.at.to_string() +
                            " is before the account's time " + now_.to_string());
  {
    Engine probe{program(), *state_};
    if (probe.next_due() <= event.at.micros()) {
      PointsAccount later = *this;  // shares the state until advance_to changes it
      later.advance_to(event.at);
      return later.earn(event, refund);
    }
  }
  const Program& p = program();
  const CompiledProgram::Impl& impl = compiled_->impl();
  const State& s = *state_;
  std::vector<PointsEntry> out;
  const EventType type = event.type();
  auto base_entry = [&](PointsEntryKind kind) {
    PointsEntry e;
    e.customer = customer_;
    e.at = event.at;
    e.kind = kind;
    e.event = event.id;
    return e;
  };

  if (type == EventType::refund) {
    const Refund& r = std::get<Refund>(event.payload);
    if (!refund)
      throw_invalid("refund", "event " + std::to_string(event.id) +
                                  ": a refund's reversal needs the purchase amount and its "
                                  "earlier refunds (RefundBasis)");
    if (r.amount.currency().code() != p.currency ||
        refund->purchase_amount.currency().code() != p.currency ||
        (!refund->refunded_before.is_zero() &&
         refund->refunded_before.currency().code() != p.currency))
      throw_invalid("refund.amount", "not in the programme's currency " + p.currency);
    if (impl.spend_entries) {
      PointsEntry e = base_entry(PointsEntryKind::spend);
      e.amount = -r.amount;
      out.push_back(std::move(e));
    }
    const auto it = s.events.find(r.purchase);
    if (it == s.events.end() || it->second.earned == 0) return out;
    using boost::multiprecision::cpp_int;
    const cpp_int purchase = to_boost(refund->purchase_amount.minor_units()).convert_to<cpp_int>();
    cpp_int refunded = to_boost(refund->refunded_before.minor_units()).convert_to<cpp_int>() +
                       to_boost(r.amount.minor_units()).convert_to<cpp_int>();
    Points target = it->second.earned;
    if (purchase > 0 && refunded < purchase) {
      const cpp_int q = cpp_int(it->second.earned) * refunded / purchase;  // both >= 0: floor
      target = static_cast<Points>(static_cast<std::int64_t>(q));
    }
    const Points n = target - it->second.reversed;
    if (n > 0) {
      PointsEntry e = base_entry(PointsEntryKind::reversal);
      e.event = r.purchase;
      e.points = n;
      out.push_back(std::move(e));
    }
    return out;
  }

  const Purchase* purchase = std::get_if<Purchase>(&event.payload);
  if (purchase && purchase->amount.currency().code() != p.currency)
    throw_invalid("purchase.amount", "event " + std::to_string(event.id) + " is in " +
                                         std::string(purchase->amount.currency().code()) +
                                         ", not the programme's " + p.currency);
  if (purchase && impl.spend_entries) {
    PointsEntry e = base_entry(PointsEntryKind::spend);
    e.amount = purchase->amount;
    out.push_back(std::move(e));
  }

  FactTable* facts = nullptr;
  const std::string* tier_name = s.tier >= 0 ? &p.tiers.tiers[static_cast<std::size_t>(s.tier)].name
                                             : nullptr;
  for (const CompiledRule& c : impl.rules) {
    if (!kind_matches(c.kind, type)) continue;
    const EarningRule& rule = p.rules[c.index];
    if (c.has_condition) {
      if (!facts) {
        thread_local FactTable table(earning_fact_schema(), 1);
        facts = &table;
        fill_facts(*facts, impl.condition_facts, event, tier_name);
      }
      if (!c.condition.test(*facts, 0)) continue;
    }
    Rate rates[3];
    std::size_t n = 0;
    PointsU128 base = 0;
    int base_scale = 0;
    if (c.kind == EarnKind::spend) {
      if (purchase->amount.is_negative()) continue;
      base = magnitude(purchase->amount.minor_units());
      base_scale = purchase->amount.currency().minor_units();
      rates[n++] = c.per_unit;
      if (c.any_category_rate) {
        const auto it = rule.category_multipliers.find(purchase->category);
        if (it != rule.category_multipliers.end()) rates[n++] = make_rate(it->second);
      }
    } else {
      base = static_cast<PointsU128>(rule.points);
    }
    if (c.any_tier_rate && s.tier >= 0) rates[n++] = c.tier_rate[static_cast<std::size_t>(s.tier)];
    Points pts = floor_product(base, base_scale, rates, n);
    if (rule.cap_per_period > 0) {
      const State::Cap& cap = s.caps[c.index];
      const Points used = cap.period == period_index(event.at, rule.cap_period) ? cap.used : 0;
      pts = std::min(pts, std::max<Points>(0, rule.cap_per_period - used));
    }
    if (pts <= 0) continue;
    PointsEntry e = base_entry(PointsEntryKind::earn);
    e.points = pts;
    e.rule = rule.name;
    const std::int64_t avail = event.at.micros() + static_cast<std::int64_t>(p.pending_days) * kDay;
    e.available_at = Timestamp(avail);
    switch (p.expiry.mode) {
      case ExpiryMode::never: break;
      case ExpiryMode::after_days:
        e.expires_at = Timestamp(avail + static_cast<std::int64_t>(p.expiry.days) * kDay);
        break;
      case ExpiryMode::end_of_month: e.expires_at = Timestamp(next_period_start(avail, Period::month)); break;
      case ExpiryMode::end_of_year: e.expires_at = Timestamp(next_period_start(avail, Period::year)); break;
    }
    out.push_back(std::move(e));
  }
  return out;
}

PointsEntry PointsAccount::redeem(Points points, Timestamp at) const {
  if (points <= 0) throw_invalid("points", "must be > 0, got " + std::to_string(points));
  if (at < now_)
    throw_invalid("at", at.to_string() + " is before the account's time " + now_.to_string());
  PointsAccount later = *this;
  later.advance_to(at);
  const State& s = *later.state_;
  const Points redeemable = s.available > s.debt ? s.available - s.debt : 0;
  if (points > redeemable)
    throw_error(ErrorCode::conflict, "points",
                std::to_string(points) + " asked, " + std::to_string(redeemable) + " redeemable");
  PointsEntry e;
  e.customer = customer_;
  e.at = at;
  e.kind = PointsEntryKind::redeem;
  e.points = points;
  return e;
}

Account PointsAccount::snapshot() const {
  const Program& p = program();
  const State& s = *state_;
  Account a;
  a.customer = customer_;
  a.as_of = now_;
  a.available = s.available;
  a.pending = s.pending;
  a.debt = s.debt;
  a.earned = s.earned;
  a.redeemed = s.redeemed;
  a.reversed = s.reversed;
  a.expired = s.expired;
  a.lots.reserve(s.lots.size());
  for (const auto& l : s.lots) {
    Lot lot;
    lot.entry = l.entry;
    lot.event = l.event;
    if (l.rule >= 0) {
      const auto r = static_cast<std::size_t>(l.rule);
      lot.rule = r < p.rules.size() ? p.rules[r].name : s.extra_names[r - p.rules.size()];
    }
    lot.granted_at = Timestamp(l.granted_at);
    lot.available_at = Timestamp(l.available_at);
    if (l.expires_at != kNever) lot.expires_at = Timestamp(l.expires_at);
    lot.granted = l.granted;
    lot.paid_to_debt = l.paid_to_debt;
    lot.redeemed = l.redeemed;
    lot.reversed = l.reversed;
    lot.expired = l.expired;
    lot.remaining = l.remaining;
    lot.pending = l.pending;
    a.lots.push_back(std::move(lot));
  }
  auto name = [&](int i) { return i < 0 ? std::string() : p.tiers.tiers[static_cast<std::size_t>(i)].name; };
  a.tier = name(s.tier);
  for (const auto& h : s.history) a.tier_history.push_back({Timestamp(h.at), name(h.from), name(h.to)});
  return a;
}

// ---- replay ----

namespace {

std::vector<std::size_t> replay_order(std::span<const PointsEntry> entries) {
  std::vector<std::size_t> order(entries.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const PointsEntry& x = entries[a];
    const PointsEntry& y = entries[b];
    if (x.customer != y.customer) return x.customer < y.customer;
    if (x.at != y.at) return x.at < y.at;
    return x.id < y.id;
  });
  return order;
}

}  // namespace

Account replay_account(std::shared_ptr<const CompiledProgram> program, CustomerId customer,
                       std::span<const PointsEntry> entries, Timestamp as_of) {
  for (const PointsEntry& e : entries)
    if (e.customer != customer)
      throw_invalid("customer", "entry " + std::to_string(e.id) + " is for customer " +
                                    std::to_string(e.customer) + ", not " +
                                    std::to_string(customer));
  PointsAccount account(std::move(program), customer);
  for (std::size_t i : replay_order(entries)) {
    if (entries[i].at > as_of) break;
    account.apply(entries[i]);
  }
  account.advance_to(as_of);
  return account.snapshot();
}

Account replay_account(const Program& program, CustomerId customer,
                       std::span<const PointsEntry> entries, Timestamp as_of) {
  return replay_account(compile_program(program), customer, entries, as_of);
}

BalanceColumns balances_as_of(const Program& program, std::span<const PointsEntry> entries,
                              Timestamp as_of) {
  const auto compiled = compile_program(program);
  const std::vector<std::size_t> order = replay_order(entries);
  BalanceColumns out;
  std::size_t k = 0;
  while (k < order.size()) {
    const CustomerId c = entries[order[k]].customer;
    PointsAccount account(compiled, c);
    bool any = false;
    for (; k < order.size() && entries[order[k]].customer == c; ++k) {
      const PointsEntry& e = entries[order[k]];
      if (e.at > as_of) continue;
      account.apply(e);
      any = true;
    }
    if (!any) continue;
    account.advance_to(as_of);
    out.push_back(account.snapshot());
  }
  return out;
}

void BalanceColumns::push_back(const Account& a) {
  customer.push_back(a.customer);
  available.push_back(a.available);
  pending.push_back(a.pending);
  debt.push_back(a.debt);
  earned.push_back(a.earned);
  redeemed.push_back(a.redeemed);
  reversed.push_back(a.reversed);
  expired.push_back(a.expired);
  tier.push_back(a.tier);
}

}  // namespace v0
}  // namespace crmkit
