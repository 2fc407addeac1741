// crmkit/analytics/facts.hpp: customer facts as of a date, the input of lifecycle rules: the
// standard catalogue, declared window facts, a pure computation over columns and the store-level
// calls (every customer, or one).
//
// Conventions (docs/facts.md has the catalogue with each fact's meaning):
//  - As of a Timestamp `as_of`: only events at or before as_of count (at <= as_of). Day counts
//    are whole days, floor((as_of - t) / 1 day): an event 23 hours before as_of is 0 days ago.
//  - Windows: an event is in an N-day window when as_of - N days < at <= as_of, i.e. its day
//    count is below N. An event exactly N days (to the microsecond) before as_of is outside.
//  - Refunds are netted as of the date: a purchase's net amount is its amount minus the refunds
//    of it made at or before as_of (later refunds are not netted). A purchase whose refunds as of
//    the date equal its amount (> 0) is fully refunded: it is not a purchase for purchase_count,
//    the purchases_Nd windows, days_since_first/last_purchase, average_order_value and RFM.
//  - Rows: one per customer that exists as of the date, in input order: its record was created
//    at or before as_of, or it has a purchase, interaction, referral, survey response or event
//    participation at or before as_of (a record imported after its history). Other customers are
//    left out of the table. Without created_at columns every customer is a row.
//    days_since_created is missing when the record was created after as_of.
//  - Consent, tags and custom fields are the current record (the store keeps no history of
//    them): a consent record dated after as_of counts as no record.
//  - RFM (rfm.r, rfm.f, rfm.m, rfm.segment): crmkit/value/rfm.hpp's scores (ties shared) among
//    the table's customers with at least one purchase as of the date, from the daily summary of
//    their purchases (summary.hpp, unit day, include_first_transaction): recency value = days
//    from the last purchase day to as_of's day, frequency = days with a purchase, monetary = mean
//    net amount per purchase day. Missing for customers without a purchase.
//  - Model facts (p_alive, expected_purchases_365d) come from a fitted model handed in
//    (FactModel), on the summary of each customer's purchases at or before as_of in the model's
//    time unit (summary.hpp; observation_period_end = as_of; every purchase counts, refunded or
//    not, as in analytics.hpp's summary_from_store, so the value equals the model's own
//    prediction on that summary). Missing without a model and for customers without a purchase.
//
// Thread-safety: pure functions and the Store's thread-safe reads; call from any thread. Bulk
// computations above 20,000 rows run on up to model_threads() worker threads (started per call),
// each filling its own block of customers, so results do not depend on the thread count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "crmkit/base/time.hpp"
#include "crmkit/records/customer.hpp"
#include "crmkit/records/event.hpp"
#include "crmkit/rules/facts.hpp"
#include "crmkit/store/store.hpp"
#include "crmkit/value/models.hpp"
#include "crmkit/value/rfm.hpp"
#include "crmkit/value/summary.hpp"

namespace crmkit {
inline namespace v0 {

// ---------------------------------------------------------------------------------------------
// Declared window facts: purchases_90d-style facts a definition adds to the catalogue.

// What a window fact counts ("purchase", "refund", "interaction", "referral",
// "survey_response", "event_participation" in JSON).
enum class WindowEvent { purchase, refund, interaction, referral, survey_response,
                         event_participation };

// How it aggregates the events in the window ("count", "sum", "mean", "distinct_days").
//   count          integer: events in the window (purchases: not fully refunded as of the date)
//   sum            number: purchases: net amount in major units; refunds: refunded amount
//   mean           number: sum / count; missing when the window holds no event
//   distinct_days  integer: UTC days with at least one such event
enum class WindowAggregate { count, sum, mean, distinct_days };

const char* to_string(WindowEvent v) noexcept;
const char* to_string(WindowAggregate v) noexcept;

struct WindowFact {
  std::string name;                        // a fact name (FactSchema's rules): "meetings_180d"
  WindowEvent event = WindowEvent::purchase;
  std::int32_t window_days = 90;           // 1..36500
  WindowAggregate aggregate = WindowAggregate::count;
  // Interaction filters (only with event interaction): kind, purpose, and only contacts whose
  // commitment objective was obtained.
  std::optional<InteractionKind> kind;
  std::optional<ContactPurpose> purpose;
  bool commitment_obtained = false;

  // The fact's type: integer for count and distinct_days, number for sum and mean.
  FactType type() const noexcept;
};

// Checks a declaration. Throws Error{invalid_argument} naming `path` and the member
// ("windows[2].aggregate: sum needs event purchase or refund"): a bad name, window_days out of
// 1..36500, sum/mean on an event other than purchase and refund, interaction filters on another
// event.
void validate_window_fact(const WindowFact& fact, std::string_view path = "window");

// Reads one declaration from JSON text:
//   {"name": "meetings_180d", "event": "interaction", "kind": "meeting", "window_days": 180,
//    "aggregate": "count"}
// Members: name, event, window_days (required); aggregate (default "count"); kind, purpose,
// commitment_obtained (interaction only). Throws Error{invalid_argument} naming the JSON path
// under `path` ("window.window_days: must be an integer in 1..36500, got 0"; an unknown member:
// "window.colour: unknown member") and as validate_window_fact.
WindowFact window_fact_from_json_text(std::string_view text, std::string_view path = "window");
// Reads a JSON array of declarations; paths are "windows[i]....". Also refuses two declarations
// of one name (Error{invalid_argument}, "windows[3].name: 'x' is declared twice").
std::vector<WindowFact> window_facts_from_json_text(std::string_view text,
                                                    std::string_view path = "windows");
// The JSON text of a declaration (window_fact_from_json_text reads it back).
std::string to_json_text(const WindowFact& fact);

// ---------------------------------------------------------------------------------------------
// The catalogue.

// The FactType a custom field's facts have: text and enum -> text, integer -> integer, decimal
// and money -> number (major units), date -> date, bool -> bool.
FactType fact_type_of(FieldType type) noexcept;

// The standard facts, in this order: the ledger and record facts of docs/facts.md,
// field.<name> for each of `fields` (typed by fact_type_of), stage.<machine> (text) and
// days_in_stage.<machine> (integer) for each of `machines`, then each window of `windows`.
// Every fact has a description. Throws Error{invalid_argument} for a machine or window whose name
// makes a bad fact name, Error{conflict} for a name declared twice (a window named like a
// standard fact).
FactSchema standard_fact_schema(std::span<const FieldDef> fields = {},
                                std::span<const std::string> machines = {},
                                std::span<const WindowFact> windows = {});

// ---------------------------------------------------------------------------------------------
// Inputs of the pure computation: columns. Spans are views; the caller keeps the data alive
// during the call. Within one group every given span has the same length; a group whose id
// column is empty is "no such events". Enum columns hold the declarations' integer codes.

// A fitted model for p_alive and expected_purchases_365d, with the time unit and multiplier it
// was fitted in (summary.hpp's SummaryOptions::unit and multiplier). MBG/NBD is the usual choice
// for churn: BG/NBD gives a one-time buyer P(alive) = 1.
struct FactModel {
  std::variant<std::monostate, BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel> model;
  TimeUnit unit = TimeUnit::day;
  double multiplier = 1.0;

  bool has_model() const noexcept { return model.index() != 0; }
  // 365 days in the model's time: 365 / (days per unit * multiplier); a month is 30.436875 days,
  // an hour 1/24 day.
  double horizon_365d() const noexcept;
};

// The current stage of one machine per customer (the lifecycle engine's states): the stage and
// when it was entered. stage.<machine> and days_in_stage.<machine> are missing for a customer
// not listed and for one whose stage was entered after as_of (pass the states as of the date).
struct MachineStageColumns {
  std::string machine;
  std::vector<CustomerId> customer_id;
  std::vector<std::string> stage;
  std::vector<std::int64_t> entered_at_micros;
};

struct FactColumns {
  // Digits of the amounts' minor units (Currency::minor_units(): 2 for cents). 0..18.
  int scale = 2;

  // Customers: one row each, ids unique. created_at may be empty (every customer is then a row
  // and days_since_created is missing).
  std::span<const CustomerId> customer_id;
  std::span<const std::int64_t> created_at_micros;

  // Purchases. event_id is needed only when refunds are given (refunds name their purchase).
  std::span<const EventId> purchase_event_id;
  std::span<const CustomerId> purchase_customer_id;
  std::span<const std::int64_t> purchase_at_micros;
  std::span<const std::int64_t> purchase_amount_minor;

  // Refunds (the purchase's customer is the refund's).
  std::span<const EventId> refund_purchase_id;
  std::span<const std::int64_t> refund_at_micros;
  std::span<const std::int64_t> refund_amount_minor;

  // Interactions.
  std::span<const CustomerId> interaction_customer_id;
  std::span<const std::int64_t> interaction_at_micros;
  std::span<const std::uint8_t> interaction_kind;                 // InteractionKind code
  std::span<const std::uint8_t> interaction_purpose;              // ContactPurpose code
  std::span<const std::uint8_t> interaction_commitment_obtained;  // 0/1; may be empty (all 0)

  // Referrals made (the referrer's id).
  std::span<const CustomerId> referral_customer_id;
  std::span<const std::int64_t> referral_at_micros;

  // Survey responses; a score not given is -1.
  std::span<const CustomerId> survey_customer_id;
  std::span<const std::int64_t> survey_at_micros;
  std::span<const std::int8_t> survey_nps;
  std::span<const std::int8_t> survey_csat;

  // Event participations.
  std::span<const CustomerId> participation_customer_id;
  std::span<const std::int64_t> participation_at_micros;

  // Consent records (Channel code, granted 0/1, when).
  std::span<const CustomerId> consent_customer_id;
  std::span<const std::uint8_t> consent_channel;
  // Consent::purpose per consent row; needed only for the consent.<channel>.purposes facts.
  std::span<const std::string> consent_purpose;
  std::span<const std::uint8_t> consent_granted;
  std::span<const std::int64_t> consent_at_micros;

  // Tags, one row per (customer, tag).
  std::span<const CustomerId> tag_customer_id;
  std::span<const std::string> tag;

  // Custom fields (each declares field.<name>) and machine stages (each declares
  // stage.<machine> and days_in_stage.<machine>).
  std::span<const FieldColumns> fields;
  std::span<const MachineStageColumns> machines;
};

struct FactOptions {
  // The facts to compute, by name, in the order of the result's columns; empty = every fact of
  // the catalogue (standard_fact_schema of the columns' fields and machines and of `windows`).
  // Facts not asked for cost nothing.
  std::vector<std::string> facts;
  // Declared window facts added to the catalogue.
  std::vector<WindowFact> windows;
  // The fitted model for p_alive and expected_purchases_365d (none: those facts are missing).
  FactModel model;
  // RFM segment grid and tie rule.
  RfmOptions rfm;
  // Events of a customer not in customer_id: false throws Error{invalid_argument} naming the
  // column and row; true ignores them (a partition holding some customers' events only).
  bool ignore_unknown_customers = false;
  // Worker threads (0 = model_threads()); results do not depend on it.
  unsigned threads = 0;
  // The store-level calls: the initial state of machines whose stage.<m> facts are asked for
  // (machine name -> Machine::initial_state()). A customer with no transition in such a machine
  // is in its initial state since its record's created_at (0 days if the record is newer than
  // as_of, as evaluate_machine counts it). Machines not listed leave such a customer's stage
  // facts missing (the store's history does not know their initial state).
  std::map<std::string, std::string, std::less<>> initial_states;
};

// The result: one row per customer (see the top), the facts as typed columns.
struct CustomerFacts {
  std::vector<CustomerId> customer_id;
  std::vector<std::string> external_id;  // filled by the store-level calls; empty otherwise
  FactTable table;

  std::size_t size() const noexcept { return customer_id.size(); }
};

// Computes the facts of every customer of `columns` as of `as_of`, in one pass per event group,
// grouped by dense customer index.
// Throws Error{invalid_argument} for columns of unequal length within a group
// ("interaction_kind: length 4 differs from interaction_customer_id (5)"), a duplicate customer
// id ("customer_id[1]: customer 3 is listed twice"), a scale outside 0..18, an unknown customer
// in an event column ("purchase_customer_id[7]: no customer 42") unless
// ignore_unknown_customers, a refund of an unknown purchase ("refund_purchase_id[0]: no purchase
// 77"), refunds as of the date above their purchase, an unknown or repeated fact name
// ("facts[2]: unknown fact 'x'"), a bad window declaration ("windows[0].window_days: ..."), an
// enum code out of range ("interaction_kind[3]: unknown code 12"), a custom field value of the
// wrong type, a model multiplier that is not finite and > 0; Error{conflict} for a window named
// like another fact; and what the model's predictions throw. Nothing is returned then.
CustomerFacts compute_facts(const FactColumns& columns, Timestamp as_of,
                            const FactOptions& options = {});

// ---------------------------------------------------------------------------------------------
// From a store.

// The facts of every customer of the store as of `as_of`: customers neither soft-deleted nor
// created after as_of (erased customers are rows: their events still count), ascending by id,
// with their external ids; the catalogue has the store's declared fields. Reads every column in
// one read transaction. stage.<m> / days_in_stage.<m>, when asked for in options.facts, come
// from machine m's transition history as of the date (a second read): the state entered by the
// customer's last transition at or before as_of; for a customer whose transitions all come
// later, the state the first one left, entered at its created_at (missing if after as_of);
// for a customer without a transition in m, options.initial_states' state of m since its
// created_at (clamped to as_of), or missing if m is not listed there (docs/facts.md).
// points.<p>.redeemable (integer) and points.<p>.tier (text), for a stored points programme p,
// come from the points ledger as of the date (Store::points_balances; docs/points-store.md):
// redeemable points (available - debt, never below 0) and the tier; a customer without an entry
// at or before as_of has 0 and the programme's lowest tier (missing without tiers). With
// options.facts empty, every programme's two facts follow the catalogue's. Throws as
// compute_facts (an unknown programme: "facts[i]: unknown fact 'points.x.tier'"),
// Error{storage} if the store is closed.
CustomerFacts facts_as_of(const Store& store, Timestamp as_of, const FactOptions& options = {});

// The one row of `customer` as of `as_of`: equal to that customer's row of facts_as_of (RFM
// scores still rank the customer among every customer, so those facts read every purchase).
// Throws Error{not_found} for an unknown customer, Error{invalid_argument} for a customer that
// is soft-deleted or does not exist yet as of the date ("customer: 7 does not exist as of
// 2024-01-01T00:00:00Z"), and as facts_as_of.
CustomerFacts customer_facts(const Store& store, CustomerId customer, Timestamp as_of,
                             const FactOptions& options = {});

}  // namespace v0
}  // namespace crmkit
