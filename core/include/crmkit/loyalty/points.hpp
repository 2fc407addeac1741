// crmkit/loyalty/points.hpp: a points programme (earning rules, lots with a pending period and an
// expiry, redemption in a configurable spend order, refund reversal with an explicit debt, tiers
// with downgrade modes) and the arithmetic that replays a customer's points ledger to any date.
//
// The ledger holds five kinds of entries (PointsEntry): earn (a grant: one lot), redeem, reversal
// (points taken back after a refund), adjustment (a manual grant or, if negative, a manual
// take-back) and spend (no points: the net spend of a purchase or refund, written only for
// programmes whose tier basis is spend_window, so that basis too is replayed from the ledger).
// Nothing else is stored: expiry, unlocking, debt and tier are computed by replaying
// the entries, so they are right as of any date without a job that must run.
//
// Semantics (docs/points.md):
//  - Points are exact integers (int64). A spend rule grants floor(net amount in major units x
//    points_per_unit x category multiplier x tier multiplier): never more than earned.
//  - A lot is locked (pending) from its grant until available_at, then available until expires_at
//    (exclusive; none = never). Pending points can be neither redeemed nor expired.
//  - A redemption spends available lots in the programme's spend order (fifo: oldest grant first;
//    first_to_expire: earliest expires_at first, never-expiring last; ties by grant order). It
//    can never overdraw: more than the available balance minus the debt is refused.
//  - A refund of a purchase reverses floor(points earned by the purchase x refunded so far /
//    purchase amount) minus what earlier refunds of it reversed, so the reversals of a purchase sum
//    to at most what it earned, and to exactly that when it is fully refunded. The reversal takes
//    the purchase's own lot first (pending or available), then other available lots in spend
//    order; what it cannot find becomes debt, never lost. Debt is paid first by later grants (at
//    grant time, from the new lot).
//  - Tiers: the customer's tier is the highest whose threshold the tier basis reaches. It is
//    re-checked after every entry, every lot expiry or unlock and (window bases) every time a
//    grant or spend leaves the window; an upgrade applies at once; a downgrade applies per
//    DowngradeMode (never; automatic: at the re-check; every_n_days: only at checkpoints every
//    downgrade_every_days after the last tier change). The first entry sets the first tier
//    (TierChange from ""). points_since_tier_change counts grants applied after the last change
//    (it restarts at 0 at each change), so it cannot be combined with automatic downgrades
//    (validate_program refuses that: the tier would drop right after every upgrade).
//    Bases: active_points counts available (not pending) points minus debt; the two "points"
//    bases count grants (earn entries and positive adjustments), before any redemption or
//    reversal; spend_window sums the spend entries (refunds negative) and floors to major units.
//  - Order: entries at one time apply in id order; what falls due at an instant (unlocks, then
//    expiries, window drop-offs, then a downgrade checkpoint) happens before the entries at that
//    instant, so a lot whose expires_at equals an entry's time is already expired for it.
//  - Invariant: earned - redeemed - reversed - expired == available + pending - debt.
//
// Thread-safety: Program and the result structs are plain values; CompiledProgram is immutable and
// may be shared by any number of accounts and threads; PointsAccount is a value (one per thread,
// or external locking; copies share nothing mutable).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crmkit/base/money.hpp"
#include "crmkit/base/time.hpp"
#include "crmkit/loyalty/period.hpp"
#include "crmkit/records/customer.hpp"
#include "crmkit/records/event.hpp"
#include "crmkit/rules/facts.hpp"

namespace crmkit {
inline namespace v0 {

using Points = std::int64_t;

enum class ExpiryMode { never = 0, after_days = 1, end_of_month = 2, end_of_year = 3 };
enum class SpendOrder { fifo = 0, first_to_expire = 1 };
// What a tier threshold is compared with.
enum class TierBasis {
  active_points = 0,             // available (unlocked, unexpired) points minus debt
  points_earned_window = 1,      // points granted in the last window_days (before reversals)
  points_since_tier_change = 2,  // points granted since the last tier change
  spend_window = 3,              // net spend in whole major units in the last window_days
};
enum class DowngradeMode { never = 0, automatic = 1, every_n_days = 2 };
// What an earning rule rewards.
enum class EarnKind { spend = 0, referral = 1, survey = 2, event_attended = 3 };
enum class PointsEntryKind { earn = 0, redeem = 1, reversal = 2, adjustment = 3, spend = 4 };

// Lower-case wire names ("first_to_expire", "points_earned_window", ...); parse_* throw
// Error{invalid_argument} naming `field`.
const char* to_string(ExpiryMode v) noexcept;
const char* to_string(SpendOrder v) noexcept;
const char* to_string(TierBasis v) noexcept;
const char* to_string(DowngradeMode v) noexcept;
const char* to_string(EarnKind v) noexcept;
const char* to_string(PointsEntryKind v) noexcept;
ExpiryMode parse_expiry_mode(std::string_view s, std::string_view field = "expiry.mode");
SpendOrder parse_spend_order(std::string_view s, std::string_view field = "spend_order");
TierBasis parse_tier_basis(std::string_view s, std::string_view field = "tiers.basis");
DowngradeMode parse_downgrade_mode(std::string_view s, std::string_view field = "tiers.downgrade");
EarnKind parse_earn_kind(std::string_view s, std::string_view field = "kind");
PointsEntryKind parse_points_entry_kind(std::string_view s, std::string_view field = "kind");

struct ExpiryPolicy {
  ExpiryMode mode = ExpiryMode::never;
  int days = 0;  // after_days only: 1..36500 days after the lot unlocks
  // end_of_month / end_of_year: the lot expires at the start of the month / year after the one in
  // which it unlocks (UTC).

  friend bool operator==(const ExpiryPolicy&, const ExpiryPolicy&) = default;
};

// One earning rule. Every rule whose kind matches an event and whose condition holds grants its
// points (rules add up); each rule's grant is capped per calendar period.
struct EarningRule {
  std::string name;                  // [a-z][a-z0-9_]{0,63}, unique in the programme
  EarnKind kind = EarnKind::spend;
  Decimal points_per_unit;           // spend: points per major unit of net spend, >= 0
  Points points = 0;                 // referral, survey, event_attended: points per event, >= 0
  std::map<std::string, Decimal> category_multipliers;  // spend: by purchase category (default 1)
  std::map<std::string, Decimal> tier_multipliers;      // by the tier at the event (default 1)
  std::string condition;             // JSON Logic over earning_fact_schema(); empty = always
  Points cap_per_period = 0;         // 0 = no cap; else the most this rule grants one customer
  Period cap_period = Period::month; // per calendar cap_period (UTC)

  friend bool operator==(const EarningRule&, const EarningRule&) = default;
};

struct TierDef {
  std::string name;                  // unique, 1..64 bytes
  std::int64_t threshold = 0;        // in the basis' unit (points, or whole major units of spend)

  friend bool operator==(const TierDef&, const TierDef&) = default;
};

struct TierPolicy {
  std::vector<TierDef> tiers;        // strictly ascending thresholds, the first 0; empty = no tiers
  TierBasis basis = TierBasis::active_points;
  int window_days = 365;             // points_earned_window and spend_window: 1..36500
  DowngradeMode downgrade = DowngradeMode::automatic;
  int downgrade_every_days = 365;    // every_n_days: 1..36500

  friend bool operator==(const TierPolicy&, const TierPolicy&) = default;
};

struct Program {
  std::string name;                  // [a-z][a-z0-9_]{0,63}, unique in a store
  std::string currency;              // ISO code of the amounts spend rules read (the store's)
  std::vector<EarningRule> rules;
  int pending_days = 0;              // 0..3650: days a new lot stays locked
  ExpiryPolicy expiry;
  SpendOrder spend_order = SpendOrder::fifo;
  TierPolicy tiers;

  // The JSON form (docs/points.md): {"name":..,"currency":..,"rules":[..],"pending_days":..,
  // "expiry":{"mode":..,"days":..},"spend_order":..,"tiers":{..}}. from_json_text parses
  // strictly (unknown keys refused) and validates; errors are Error{invalid_argument} starting
  // with the JSON path ("rules[2].condition: unknown fact 'x'").
  static Program from_json_text(std::string_view text);
  std::string to_json_text() const;

  friend bool operator==(const Program&, const Program&) = default;
};

// Checks a programme: names, ranges, tier order, currency, and compiles every condition.
// Throws Error{invalid_argument} naming the field ("tiers.tiers[1].threshold: ...").
void validate_program(const Program& program);

// A programme validated once, with its conditions compiled once (crmkit::Rule) and its rates
// prepared for exact integer arithmetic. Immutable: share one (compile_program) among all the
// accounts of a store so that a million accounts do not recompile the rules.
class CompiledProgram {
 public:
  struct Impl;  // private (core/src/loyalty)
  // Validates (validate_program) and compiles. Throws Error{invalid_argument} like
  // validate_program.
  explicit CompiledProgram(Program program);
  const Program& program() const noexcept { return program_; }
  const Impl& impl() const noexcept { return *impl_; }

 private:
  Program program_;
  std::shared_ptr<const Impl> impl_;
};
// make_shared<const CompiledProgram>(program). Throws like validate_program.
std::shared_ptr<const CompiledProgram> compile_program(const Program& program);

// The facts an earning rule's condition may use, all about the event being rewarded:
// "event.type" (text: purchase, referral, survey_response, event_participation), "amount"
// (number, major units; purchases), "category" (text), "essential" (bool), "item_count"
// (integer), "event_name" (text), "survey" (text), "tier" (text: the tier at the event),
// "weekday" (integer 1 = Monday .. 7), "month" (integer 1..12). Absent facts are missing.
const FactSchema& earning_fact_schema();

// One stored entry of the points ledger.
struct PointsEntry {
  std::int64_t id = 0;               // set by the Store, ascending in append order
  CustomerId customer = 0;
  Timestamp at;                      // when it takes effect
  PointsEntryKind kind = PointsEntryKind::earn;
  Points points = 0;                 // earn, redeem, reversal: > 0; adjustment: != 0
  Timestamp available_at;            // earn and positive adjustment: when the lot unlocks
  std::optional<Timestamp> expires_at;  // earn and positive adjustment: none = never
  EventId event = 0;                 // earn: the event rewarded; reversal: the refunded purchase;
                                     // spend: the purchase or refund
  std::string rule;                  // earn: the earning rule
  Money amount;                      // spend only (points 0): the purchase's amount, or minus the
                                     // refund's, in the programme's currency; zero otherwise
  std::string idempotency_key;       // optional; a repeat returns the first entry, adds nothing
  std::string reason;                // free text, optional (up to 1024 bytes)

  friend bool operator==(const PointsEntry&, const PointsEntry&) = default;
};

// A lot as of some date.
struct Lot {
  std::int64_t entry = 0;            // the earn or adjustment entry that granted it
  EventId event = 0;
  std::string rule;
  Timestamp granted_at;
  Timestamp available_at;
  std::optional<Timestamp> expires_at;
  Points granted = 0;
  Points paid_to_debt = 0;           // taken at grant time to pay the debt
  Points redeemed = 0;
  Points reversed = 0;
  Points expired = 0;                // what was left at expires_at (if as_of >= expires_at)
  Points remaining = 0;              // granted - paid_to_debt - redeemed - reversed - expired
  bool pending = false;              // as_of < available_at

  friend bool operator==(const Lot&, const Lot&) = default;
};

struct TierChange {
  Timestamp at;
  std::string from;                  // empty for the first tier
  std::string to;

  friend bool operator==(const TierChange&, const TierChange&) = default;
};

// A customer's account as of a date.
struct Account {
  CustomerId customer = 0;
  Timestamp as_of;
  Points available = 0;              // unlocked, unexpired lot points (before debt)
  Points pending = 0;                // locked lot points
  Points debt = 0;                   // >= 0: reversals and take-backs that found no points
  Points earned = 0;                 // all grants (earn and positive adjustments)
  Points redeemed = 0;
  Points reversed = 0;               // taken back by reversals and negative adjustments
  Points expired = 0;
  std::vector<Lot> lots;             // in grant order; spent and expired lots included
  std::string tier;                  // empty when the programme has no tiers
  std::vector<TierChange> tier_history;  // every change up to as_of

  // What the customer may redeem now: available - debt, never below 0.
  Points redeemable() const noexcept { return available > debt ? available - debt : 0; }
  // available - debt: negative when the customer owes points.
  Points balance() const noexcept { return available - debt; }
};

// What a purchase and its earlier refunds are worth, for a refund's reversal.
struct RefundBasis {
  Money purchase_amount;             // the refunded purchase's amount
  Money refunded_before;             // the sum of the purchase's earlier refunds
};

// A customer's points account, replayed entry by entry. Entries are applied in (at, id) order;
// time only moves forward. This is the engine the Store and the as-of reports use.
class PointsAccount {
 public:
  // Throws Error{invalid_argument} if the programme is not valid. Compiles the programme: for
  // many accounts use the constructor below with one shared compile_program(...).
  PointsAccount(Program program, CustomerId customer);
  // Shares an already compiled programme (no validation, no compilation). Precondition, checked:
  // `program` is not null (Error{invalid_argument}).
  PointsAccount(std::shared_ptr<const CompiledProgram> program, CustomerId customer);

  const Program& program() const noexcept { return compiled_->program(); }
  const std::shared_ptr<const CompiledProgram>& compiled() const noexcept { return compiled_; }
  CustomerId customer() const noexcept { return customer_; }
  Timestamp now() const noexcept { return now_; }

  // Moves time forward to t: unlocks and expires lots, applies tier checkpoints. t < now() is a
  // no-op.
  void advance_to(Timestamp t);
  // Applies a stored entry (advancing to entry.at first). A redemption larger than what is
  // redeemable at its time (possible only in a ledger written by something else) is applied as
  // far as it goes and the rest becomes debt; a reversal's shortfall becomes debt.
  // Throws Error{invalid_argument} if entry.at < now() or the entry is malformed.
  void apply(const PointsEntry& entry);

  // The entries an event earns at its time under the programme (nothing is applied), given the
  // account advanced to event.at: one earn entry per matching rule with points > 0, after caps;
  // for a Refund, the reversal entry (needs `refund`; none if nothing is left to reverse). When
  // the tier basis is spend_window, a purchase or refund also yields one spend entry (first).
  // Entries carry no id and no idempotency key (the Store sets them). Events of other customers,
  // events before now() and a Refund without `refund` are refused (Error{invalid_argument}).
  // Call advance_to(event.at) first on a hot path: if lots unlock or expire (or a tier checkpoint
  // falls) between now() and event.at, earn works on an advanced copy of the account, which is
  // right but copies its state. No JSON, no rule compilation; a rule without a condition does
  // not touch the rules engine.
  std::vector<PointsEntry> earn(const Event& event,
                                const std::optional<RefundBasis>& refund = std::nullopt) const;
  // The redemption entry for `points` at `at` (>= now()). Throws Error{invalid_argument} if
  // points <= 0, Error{conflict} "points: 500 asked, 320 redeemable" if it would overdraw.
  PointsEntry redeem(Points points, Timestamp at) const;

  // The account as of now() (lots, balances, tier, tier history).
  Account snapshot() const;

  struct State;  // private (core/src/loyalty): the replayed lots, balances and tier

 private:
  std::shared_ptr<const CompiledProgram> compiled_;
  CustomerId customer_ = 0;
  Timestamp now_;
  std::shared_ptr<State> state_;  // copy-on-write (copies of an account are cheap)
};

// Replays one customer's entries (any order; sorted by (at, id) here) up to `as_of` (entries after
// it are ignored). Throws like PointsAccount::apply, and Error{invalid_argument} for an entry of
// another customer.
Account replay_account(const Program& program, CustomerId customer,
                       std::span<const PointsEntry> entries, Timestamp as_of);
Account replay_account(std::shared_ptr<const CompiledProgram> program, CustomerId customer,
                       std::span<const PointsEntry> entries, Timestamp as_of);

// Balances of many customers as of a date, one row per customer that has an entry (at or
// before as_of), ascending by customer id.
struct BalanceColumns {
  std::vector<CustomerId> customer;
  std::vector<Points> available, pending, debt, earned, redeemed, reversed, expired;
  std::vector<std::string> tier;

  // Appends the row of one account (its customer, balances and tier).
  void push_back(const Account& account);
};
// `entries` may hold several customers, in any order. Throws like PointsAccount::apply.
BalanceColumns balances_as_of(const Program& program, std::span<const PointsEntry> entries,
                              Timestamp as_of);

}  // namespace v0
}  // namespace crmkit
