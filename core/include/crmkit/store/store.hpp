// crmkit/store/store.hpp: the embedded store. Open a store here; start here.
//
// A Store is one SQLite database file (or ":memory:") holding customers, the append-only event
// ledger, the custom-field schema, an audit log, the suppression list of erased customers,
// opportunities, every entity's lifecycle states with their transition history, and points
// programmes with their append-only points ledgers (docs/points-store.md).
//
// Guarantees:
//  - Every write is one transaction (BEGIN IMMEDIATE). A call that throws has changed nothing;
//    a batch lands whole or not at all. One case is weaker: if the fsync of the commit itself
//    fails (EIO), the call throws Error{storage} but the commit record may already be in the
//    WAL, so a crash or a close before the next write can recover the whole call (never a part
//    of it). docs/guarantees.md says how each guarantee is tested.
//  - Durability: WAL journal with synchronous=FULL by default: a call that returned has reached
//    the disk. StoreOptions::synchronous trades that for speed.
//  - The ledger is append-only. Events are never edited; erasure blanks their personal text only.
//  - Ids (customers, events, audit entries, opportunities, transitions, points entries and
//    programmes, fields) count up from 1 in insertion order. Once a table's largest id is 2^63-1,
//    the next insert into it throws Error{overflow} ("events.id: the largest id,
//    9223372036854775807 (2^63-1), is taken: ..."), instead of SQLite's silent choice of a random
//    free id, which would break the order readers rely on.
//  - Every stored time is within Timestamp::min() .. max() (0001-01-01 .. 9999-12-31; every write
//    refuses others naming the field), so whatever is stored can be exported and imported again.
//  - Every change to a customer record (create, update, consent, delete, restore, erase), every
//    field declaration and every batch import is written to the audit log with actor, source, time,
//    field, old and new value. Appended events carry actor, source and recording time themselves.
//  - Erasure (erase_customer) removes a customer's personal data from every table, from freed
//    pages (secure_delete) and from the WAL (checkpoint TRUNCATE), keeps the anonymous events
//    (amounts, times, categories) so aggregates are unchanged, and stores keyed one-way hashes
//    (HMAC-SHA-256; the key is the store's in-file key or the host's, see
//    StoreOptions::suppression_key) of every external id, e-mail and phone the customer ever
//    had: the record's and the old and new values of its audit entries (so a contact changed
//    before the erasure is suppressed too), so that re-creating the same person throws
//    Error{suppressed} instead of silently succeeding. Its audit entries keep action, field,
//    actor, source and time; their old and new values are blanked.
//    Lifecycle history of the customer and its opportunities is kept with its reasons blanked;
//    its opportunities keep amounts, dates and stages and their names become "[erased]".
//    Its points entries keep their numbers, dates and rule names; their reasons are blanked.
//
// Stored codes: enums are stored as the explicit integer values of their declarations
// (EventType, CustomerKind, ContactKind; InteractionKind and ContactPurpose by name). The values
// are part of the file format: new values are appended, existing ones never renumbered. A file
// lists its codes (table `codes`) and a library that disagrees refuses to open it.
//
// Thread-safety: a Store is safe to use from many threads at once. Writes are serialised on one
// writer connection; reads run on a small pool of reader connections (WAL lets them proceed
// during a write). Several processes may open the same file; a writer waits up to busy_timeout_ms
// for another process's write and then throws Error{storage}.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crmkit/records/customer.hpp"
#include "crmkit/records/event.hpp"
#include "crmkit/records/opportunity.hpp"
#include "crmkit/base/money.hpp"
#include "crmkit/base/time.hpp"

namespace crmkit {
inline namespace v0 {

// SQLite's synchronous setting for the store's connection.
enum class SyncMode {
  full,    // fsync on every commit: nothing committed is lost on power failure (the default)
  normal,  // fsync at checkpoints only: a power failure may lose the last commits, never corrupts
  off,     // no fsync: for scratch stores and tests only
};

struct StoreOptions {
  // The store's currency (ISO 4217). Required when the file is created, and then it must hold
  // money (Currency::holds_money: not XXX, XTS, the metals XAU XAG XPT XPD or the units of account
  // XDR XBA..XBD XSU XUA); when opening an existing store it may be left empty, and otherwise
  // must equal the stored one (else Error{conflict}).
  std::string currency;
  // Durability of commits; see SyncMode.
  SyncMode synchronous = SyncMode::full;
  // How long a write waits for another process's write lock before throwing Error{storage}.
  int busy_timeout_ms = 5000;
  // Create the file if it does not exist; if false, opening a missing file throws Error{not_found}.
  bool create_if_missing = true;
  // Open for reading only; every write then throws Error{storage}.
  bool read_only = false;
  // The actor recorded for writes whose WriteContext names none.
  std::string actor = "system";
  // Reader connections kept for concurrent reads (file stores only; ":memory:" uses one).
  std::size_t max_readers = 4;
  // The key of the suppression hashes (HMAC-SHA-256), supplied by the host: exactly 32 raw bytes
  // (else Error{invalid_argument}), or empty for the default in-file key. The store's mode is
  // chosen when the file is created and kept in it (meta row "suppression_key_mode"):
  //  - empty (default, "file" mode): a random key is generated at creation and kept in the file,
  //    and written into every export header. Weaker: whoever holds the file or an export holds
  //    the key, so can test candidate e-mails, phones and external ids against the hashes (a
  //    phone number space of a million numbers is searched in seconds) and re-identify an erased
  //    customer. It protects only against reading the hashes without the file.
  //  - 32 bytes ("host" mode): the key is never written to the file or to an export; the file
  //    keeps only a check value, HMAC-SHA-256(key, "crmkit-key-check"), which lets the store
  //    refuse a wrong key and reveals nothing that matches a hash. Without the key the hashes
  //    match nothing. Keep the key where the host keeps its other secrets (an environment secret
  //    injected at start, a secret manager or key management service), never in the store's
  //    directory, its backups or a source repository; and keep a copy: a host-mode store cannot be
  //    opened without its key.
  // Opening a host-mode store without a key or with another key, or a file-mode store with a key,
  // throws Error{conflict} naming suppression_key (a store's mode is fixed at creation; see
  // import_jsonl for moving data between modes).
  std::string suppression_key{};
};

// Who makes a write and through what; recorded in the audit log and on events.
struct WriteContext {
  std::string actor;   // empty: StoreOptions::actor
  std::string source;  // empty: "api"
};

// One row of the audit log.
struct AuditEntry {
  std::int64_t id = 0;
  Timestamp at;
  std::string actor;
  std::string source;
  std::string entity;        // "customer", "field", "import", "store"
  std::int64_t entity_id = 0;  // the customer id, or 0
  std::string action;        // "create", "update", "delete", "restore", "consent", "erase", ...
  std::string field;         // the top-level field changed, or empty
  std::string old_value;     // JSON text of the old value, or empty
  std::string new_value;     // JSON text of the new value, or empty
};

// Columns of every purchase in the ledger, in event-id order, for analytics. All vectors have the
// same length. Amounts are integer minor units of `currency`.
struct PurchaseColumns {
  Currency currency;
  std::vector<EventId> event_id;
  std::vector<CustomerId> customer_id;
  std::vector<std::int64_t> at_micros;        // Timestamp::micros()
  std::vector<std::int64_t> amount_minor;     // the purchase amount
  std::vector<std::int64_t> refunded_minor;   // sum of its refunds so far (net = amount - refunded)
  std::vector<std::int32_t> item_count;
  std::vector<std::uint8_t> essential;        // 1 or 0
};

// Columns of every referral event in the ledger, in event-id order (for potential value). All
// vectors have the same length.
struct ReferralColumns {
  std::vector<EventId> event_id;
  std::vector<CustomerId> referrer;    // the event's customer
  std::vector<CustomerId> referred;    // Referral::referred
  std::vector<std::int64_t> at_micros;
};

// The id and external id of every customer, in id order (for keying analytics results). Both
// vectors have the same length.
struct CustomerKeys {
  std::vector<CustomerId> customer_id;    // ascending
  std::vector<std::string> external_id;   // an erased customer's reads "erased:<id>"

  std::size_t size() const noexcept { return customer_id.size(); }
};

// ==== Columns for customer facts (crmkit/analytics/facts.hpp) ==================================
// Read-only column views of the ledger and of the customer records, one struct per kind, as
// PurchaseColumns and ReferralColumns are. Events are in event-id order; every vector of one
// struct has the same length. Enum codes are the declarations' integer values
// (static_cast<std::uint8_t>(InteractionKind::meeting) == 8), so the columns cross to numpy as
// they are.

// Every refund event: the purchase it refunds and when, so that a refund after an as-of date is
// not netted.
struct RefundColumns {
  std::vector<EventId> event_id;
  std::vector<CustomerId> customer_id;
  std::vector<EventId> purchase_id;       // Refund::purchase
  std::vector<std::int64_t> at_micros;
  std::vector<std::int64_t> amount_minor; // integer minor units of the store's currency
};

// Every interaction event.
struct InteractionColumns {
  std::vector<EventId> event_id;
  std::vector<CustomerId> customer_id;
  std::vector<std::int64_t> at_micros;
  std::vector<std::uint8_t> kind;                 // InteractionKind code
  std::vector<std::uint8_t> purpose;              // ContactPurpose code
  std::vector<std::uint8_t> commitment_asked;     // 1 if commitment_asked is not empty
  std::vector<std::uint8_t> commitment_obtained;  // 1 or 0
};

// Every survey response. A score not given is -1.
struct SurveyColumns {
  std::vector<EventId> event_id;
  std::vector<CustomerId> customer_id;
  std::vector<std::int64_t> at_micros;
  std::vector<std::int8_t> nps;    // 0..10, or -1
  std::vector<std::int8_t> csat;   // 1..5, or -1
};

// Every event participation.
struct ParticipationColumns {
  std::vector<EventId> event_id;
  std::vector<CustomerId> customer_id;
  std::vector<std::int64_t> at_micros;
};

// One row per customer, in id order (soft-deleted and erased ones included: see the flags).
struct CustomerColumns {
  std::vector<CustomerId> customer_id;      // ascending
  std::vector<std::string> external_id;     // "erased:<id>" for an erased customer
  std::vector<std::int64_t> created_at_micros;
  std::vector<std::uint8_t> deleted;        // 1 = soft-deleted
  std::vector<std::uint8_t> erased;         // 1 = erased

  std::size_t size() const noexcept { return customer_id.size(); }
};

// One row per stored consent record (Customer::consents), by customer id, then in record order.
struct ConsentColumns {
  std::vector<CustomerId> customer_id;
  std::vector<std::uint8_t> channel;        // Channel code (email = 0 ... visit = 5)
  std::vector<std::string> purpose;
  std::vector<std::uint8_t> granted;        // 1 = ConsentStatus::granted, 0 = withdrawn
  std::vector<std::int64_t> at_micros;      // Consent::at
};

// One row per customer, in id order (the rows of CustomerColumns): how it wants to be contacted
// (Customer::preferred_channel and max_contacts_per_30_days), for follow-up and campaigns.
struct ContactPreferenceColumns {
  std::vector<CustomerId> customer_id;              // ascending
  std::vector<std::int8_t> preferred_channel;       // Channel code, or -1 when none
  std::vector<std::int32_t> max_contacts_per_30_days;  // 0..1000, or -1 when no limit is set
};

// Events whose source equals a given text (Store::events_with_source), in event-id order.
struct SourceEventColumns {
  std::vector<EventId> event_id;
  std::vector<CustomerId> customer_id;
  std::vector<std::int64_t> at_micros;
  std::vector<std::uint8_t> type;           // EventType code
  std::vector<std::string> idempotency_key; // empty when none
};

// One row per tag of a customer (Customer::tags), by customer id, then in tag order.
struct TagColumns {
  std::vector<CustomerId> customer_id;
  std::vector<std::string> tag;
};

// The values of one declared custom field: one row per customer that holds it, by customer id.
struct FieldColumns {
  FieldDef field;
  std::vector<CustomerId> customer_id;
  std::vector<FieldValue> value;            // the alternative field.type allows
};

// What Store::columns reads. Everything by default.
struct ColumnRequest {
  // Only this customer's rows (0: every customer). Customers, consents, tags and fields are then
  // that customer's only.
  CustomerId customer = 0;
  bool customers = true;
  bool purchases = true;      // with refunded_minor the total of every refund, whatever its time
  bool refunds = true;
  bool interactions = true;
  bool referrals = true;
  bool surveys = true;
  bool participations = true;
  bool consents = true;       // these three parse the customer records (slower)
  bool tags = true;
  bool fields = true;
  bool preferences = false;   // contact preferences (parse the records too); not by default
};

// All the columns a facts computation reads, from one read transaction (so they agree).
// Parts not requested are empty.
struct StoreColumns {
  Currency currency;                   // the store's
  CustomerColumns customers;
  PurchaseColumns purchases;
  RefundColumns refunds;
  InteractionColumns interactions;
  ReferralColumns referrals;
  SurveyColumns surveys;
  ParticipationColumns participations;
  ConsentColumns consents;
  TagColumns tags;
  std::vector<FieldColumns> fields;    // one per declared field, in declaration order
  ContactPreferenceColumns preferences;
};
// ==== end of the columns for customer facts ====================================================

// Column-wise purchases to import in one transaction (the bulk path for CSV files and
// DataFrames). `customer_external_id`, `at` and `amount` are required and of equal length; every
// other vector is either empty (not given) or of that length too.
struct PurchaseImport {
  std::string currency;                          // ISO code; must be the store's currency
  std::vector<std::string> customer_external_id;
  std::vector<Timestamp> at;
  std::vector<std::string> amount;               // decimal strings in major units ("12.34")
  std::vector<std::string> order_id;
  std::vector<std::string> category;
  std::vector<std::int32_t> item_count;
  std::vector<std::string> idempotency_key;      // the rule of append_event: see import_purchases
  std::string source = "import";
  // Create a customer (kind person, name = external id) for each unknown external id, validated
  // against the declared fields like create_customer (so a declared required field makes it
  // fail: "rows[0].custom.tier: required field missing"); if false, an unknown external id
  // throws Error{not_found}.
  bool create_missing_customers = true;
};

// What get_or_create_customer returns: the stored customer, and whether this call created it.
struct GetOrCreateResult {
  Customer customer;
  bool created = false;
};

struct ImportReport {
  std::size_t rows = 0;                // rows read
  std::size_t purchases_added = 0;     // new events
  std::size_t duplicates_skipped = 0;  // rows whose idempotency key was already in the ledger
  std::size_t customers_created = 0;
};

// Counts and money totals of the whole store.
struct StoreSummary {
  std::size_t customers = 0;         // not soft-deleted (erased ones included: they still count)
  std::size_t deleted_customers = 0;
  std::size_t events = 0;
  std::size_t purchases = 0;
  std::size_t refunds = 0;
  Money revenue;                     // sum of purchase amounts (exact, also past 2^63 minor units)
  Money refunded;                    // sum of refund amounts (likewise)
  Money net_revenue;                 // revenue - refunded
};

struct EraseReport {
  CustomerId customer = 0;
  std::size_t events_scrubbed = 0;   // events whose personal text was blanked
  std::size_t audit_entries_scrubbed = 0;
  std::size_t suppression_hashes = 0;
  bool wal_truncated = false;        // false if a reader kept the WAL from being truncated
};


// ==== lifecycle states, transitions, listeners and opportunities: types (engine block) ====
//
// States. Every customer and every opportunity has, per lifecycle machine (by machine name), a
// current state and the time it was entered ("since"). An entity that has never made a
// transition in a machine is in that machine's initial state since its own created_at: nothing
// is written when a machine, a customer or an opportunity is added, and nothing needs
// back-filling. The first transition writes the state row. An opportunity is tracked by its
// pipeline machine only (Opportunity::pipeline).
//
// History. Every transition is one history row (machine, entity, from, to, at, rule or actor,
// reason, recorded_at), written in the same transaction as the new state and its audit entry
// (entity "customer" or "opportunity", action "transition", field the machine name, old and new
// value the states as JSON strings). History is append-only; within one machine and entity its
// rows are in time order (a transition may not take effect before the current state's since).
// erase_customer keeps the history of the customer and of its opportunities (states and rule
// names are not personal data) and blanks their reasons (free text that may be).

class Machine;  // crmkit/lifecycle/machine.hpp

// A manual transition's request.
struct TransitionRequest {
  std::string reason;              // why (required when the machine's transition says so)
  std::string actor;               // who decided; empty: the write's actor (WriteContext)
  std::optional<Timestamp> at;     // when it took effect; empty: the time of the write
};

// One change computed by automatic evaluation, for apply_transitions.
struct PlannedTransition {
  EntityRef entity;
  std::string from;                // the state the entity must be in when the batch is applied
  std::string to;
  std::string rule;                // the name of the automatic transition (rule) that fired
  Timestamp at;                    // when it took effect (the evaluation's as-of time)
};

// One row of transition history, as written (or, in a dry run, as it would be written).
struct TransitionRecord {
  std::int64_t id = 0;             // history row id, ascending in commit order; 0 in a dry run
  std::string machine;
  EntityRef entity;
  std::string from;
  std::string to;
  Timestamp at;
  std::string rule;                // the automatic rule's name; empty for a manual transition
  std::string actor;               // who made it (the request's actor, else the write's actor)
  std::string reason;              // empty when none was given (and after erasure)
  Timestamp recorded_at;           // when it was written

  friend bool operator==(const TransitionRecord&, const TransitionRecord&) = default;
};

// An entity's current state in one machine.
struct EntityState {
  std::string state;
  Timestamp since;
  bool recorded = false;           // false: never transitioned (initial state since created_at)
};

// Every entity's current state in one machine, as columns of equal length, ascending by id.
struct StateColumns {
  std::string machine;
  EntityKind kind = EntityKind::customer;
  std::vector<std::int64_t> entity_id;       // ascending
  std::vector<std::string> state;
  std::vector<std::int64_t> since_micros;    // Timestamp::micros()
  std::vector<std::uint8_t> recorded;        // 1 if the entity has made a transition, else 0

  std::size_t size() const noexcept { return entity_id.size(); }
};

// Transition history of one machine as columns of equal length, in history-id order.
struct TransitionColumns {
  std::string machine;
  std::vector<std::int64_t> id;
  std::vector<EntityKind> entity_kind;
  std::vector<std::int64_t> entity_id;
  std::vector<std::string> from;
  std::vector<std::string> to;
  std::vector<std::int64_t> at_micros;
  std::vector<std::string> rule;
  std::vector<std::string> actor;
  std::vector<std::string> reason;
  std::vector<std::int64_t> recorded_at_micros;

  std::size_t size() const noexcept { return id.size(); }
};

// Every opportunity (or those of one pipeline) as columns of equal length, ascending by id.
struct OpportunityColumns {
  Currency currency;                          // the store's; amounts are its minor units
  std::vector<OpportunityId> id;
  std::vector<CustomerId> customer_id;
  std::vector<std::string> name;
  std::vector<std::int64_t> amount_minor;
  std::vector<std::int64_t> expected_close_days;  // Date::days_since_epoch()
  std::vector<std::string> owner;
  std::vector<std::string> pipeline;
  std::vector<std::int64_t> created_at_micros;

  std::size_t size() const noexcept { return id.size(); }
};

// Listeners. A TransitionListener is called once per committed transition, after the commit,
// on the thread that made the write, with the store's write lock released (a listener may read
// and write the store; its own transitions are delivered to it in turn). The transitions of one
// call are delivered in history order, to each listener in registration order. Nothing is called
// for a write that rolled back or for a dry run. An exception thrown by a listener does not undo
// the commit, does not reach the caller of the write and does not stop the other listeners: it
// is recorded as a ListenerError, which take_listener_errors() returns. Calls made by different
// threads' writes may interleave.
using TransitionListener = std::function<void(const TransitionRecord&)>;
using ListenerId = std::uint64_t;

struct ListenerError {
  ListenerId listener = 0;
  std::int64_t transition_id = 0;  // the history row being delivered
  std::string message;             // what() of the exception ("unknown exception" otherwise)
};
// ==== end of the engine block (types) ====


// ==== points programmes and the points ledger: types (points block) ====
//
// A store holds any number of points programmes (crmkit/loyalty/points.hpp), by name, and one
// append-only points ledger (PointsEntry rows) per programme. Nothing else is stored: balances,
// lots, expiry, debt and tiers as of any date are computed by replaying a customer's entries
// with the programme (PointsAccount). earn_points turns the event ledger into entries; it keeps
// per programme a watermark (the highest event id already processed), so it is idempotent and
// incremental. Every write goes through the store's one write transaction with an audit entry
// (entity "points"). erase_customer keeps a customer's entries (numbers, dates, rule names) and
// blanks their reasons (free text). export_jsonl / import_jsonl carry programmes and entries.

struct Program;           // crmkit/loyalty/points.hpp
struct PointsEntry;
struct Account;
struct BalanceColumns;

// What one earn_points call did.
struct EarnReport {
  std::size_t events_read = 0;     // purchases, refunds, referrals, surveys, participations read
  std::size_t entries_added = 0;   // entries written (earn, reversal and spend entries)
  std::int64_t points_granted = 0; // sum of the earn entries' points
  std::int64_t points_reversed = 0;  // sum of the reversal entries' points
  std::int64_t last_event = 0;     // the programme's watermark after the call
};

// A stored programme with its times.
struct PointsProgramInfo {
  std::string name;
  std::string json;                // Program::to_json_text()
  Timestamp defined_at;            // first definition
  Timestamp updated_at;            // last definition (replacement)
  std::int64_t last_event = 0;     // earn_points' watermark: events with id <= it are processed
};

// Customers per tier as of a date, in the programme's tier order (every tier listed, 0 included).
// Only customers with at least one entry at or before the date are counted.
struct TierCount {
  std::string tier;
  std::size_t customers = 0;
};

// Every tier change of every customer up to a date, as columns of equal length, by customer id
// then time.
struct TierHistoryColumns {
  std::vector<CustomerId> customer;
  std::vector<std::int64_t> at_micros;
  std::vector<std::string> from;   // empty for a customer's first tier
  std::vector<std::string> to;

  std::size_t size() const noexcept { return customer.size(); }
};
// ==== end of the points block (types) ====

class Store {
 public:
  // Opens (and if needed creates) the store at `path`; ":memory:" gives a private in-memory store.
  // Creates or migrates the schema to the current version: the migration steps an older file
  // needs run in one transaction, so a failed migration leaves the file as it was.
  // Throws Error{invalid_argument} naming `currency` for a missing or unknown currency on
  // creation, or one that cannot hold money ("currency: 'XTS' cannot hold money (reserved for
  // testing)"),
  // Error{conflict} if options.currency differs from an existing store's, Error{not_found} if the
  // file is missing and create_if_missing is false, Error{corrupt} if the file is not a crmkit
  // store (a text file, another application's SQLite database) or is from a newer
  // An existing empty file is taken for a new store, as SQLite does.
  // schema, with a message naming the path ("store: '/x/notes.txt' is not a crmkit store (...)"),
  // Error{storage} on I/O failure or if a read_only open needs a migration.
  static Store open(const std::string& path, const StoreOptions& options = {});

  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  ~Store();

  const std::string& path() const noexcept;
  const Currency& currency() const noexcept;
  // The schema version in the file (PRAGMA user_version).
  int schema_version() const;
  // The schema version this library writes.
  static int current_schema_version() noexcept;

  // ---- custom-field schema ----
  // Declares a custom field. Throws Error{invalid_argument} for a bad declaration,
  // Error{conflict} if a field of that name exists.
  void declare_field(const FieldDef& def, const WriteContext& ctx = {});
  std::vector<FieldDef> fields() const;

  // ---- customers ----
  // Validates (validate_customer), normalises and stores a new customer; returns it as stored
  // (id, created_at, normalised contacts). Throws Error{invalid_argument} for invalid data or an
  // unknown organisation in a membership, Error{conflict} for a duplicate external_id,
  // Error{suppressed} if its external id, an e-mail or a phone belongs to an erased customer.
  Customer create_customer(const Customer& customer, const WriteContext& ctx = {});
  // The customer whose external id is customer.external_id, created from `customer` if there is
  // none, in one write transaction (two callers racing for the same id get one customer: one
  // sees created = true, the other the stored record with created = false). Safe to run twice.
  // If a customer with that external id exists it is returned exactly as stored: it is NOT
  // updated, even where `customer` differs, and `customer` is not validated (use
  // update_customer to change it); nothing is written or audited then. Otherwise it is created
  // exactly as by create_customer (validated, audited as "create").
  // Throws Error{conflict} if the customer with that external id is soft-deleted (restore it
  // first), and otherwise what create_customer throws (Error{suppressed} for the external id of
  // an erased customer, Error{invalid_argument} for invalid data).
  GetOrCreateResult get_or_create_customer(const Customer& customer, const WriteContext& ctx = {});
  // The customer with this id, soft-deleted or erased ones included (see the flags).
  // Throws Error{not_found}.
  Customer get_customer(CustomerId id) const;
  // Look-ups among customers that are neither soft-deleted nor erased. Email and phone are
  // normalised first. Throws Error{not_found} if none matches, Error{invalid_argument} for a
  // malformed e-mail or phone, Error{conflict} if several customers share that e-mail or phone.
  Customer get_customer_by_external_id(std::string_view external_id) const;
  Customer get_customer_by_email(std::string_view email) const;
  Customer get_customer_by_phone(std::string_view phone) const;
  // Like get_customer_by_external_id, but returns nothing instead of throwing not_found.
  std::optional<Customer> find_customer_by_external_id(std::string_view external_id) const;
  // Customers in id order; soft-deleted ones only if asked.
  std::vector<Customer> list_customers(bool include_deleted = false) const;
  std::size_t count_customers(bool include_deleted = false) const;
  // Replaces the stored record with `customer` (matched by customer.id) and audits each changed
  // top-level field. Same throws as create_customer, plus Error{not_found} for an unknown id and
  // Error{conflict} for an erased or soft-deleted customer (restore it first).
  Customer update_customer(const Customer& customer, const WriteContext& ctx = {});
  // Sets the consent record for (consent.channel, consent.purpose), replacing an older one.
  // Throws Error{not_found}, Error{invalid_argument}, Error{conflict} if erased.
  Customer set_consent(CustomerId id, const Consent& consent, const WriteContext& ctx = {});
  // Soft-delete and restore. Deleting a deleted customer or restoring a live one throws
  // Error{conflict}; an erased customer cannot be restored. Throws Error{not_found}.
  void delete_customer(CustomerId id, const WriteContext& ctx = {});
  void restore_customer(CustomerId id, const WriteContext& ctx = {});

  // ---- events ----
  // Appends one event and returns it as stored (id, recorded_at, actor). If its idempotency key
  // is already in the ledger, returns that earlier event and adds nothing (Error{conflict}
  // "idempotency_key: 'k' belongs to another event (id 7)" if the earlier event belongs to
  // another customer or is of another type). append_events and import_purchases apply the same
  // checks and idempotency rule.
  // Throws Error{invalid_argument} (validate_event; refund above what is left; referral to
  // itself), Error{not_found} for an unknown customer, purchase or referred customer,
  // Error{conflict} for an erased or deleted customer, Error{overflow} when event id 2^63-1 is
  // taken (see the top of this file).
  Event append_event(const Event& event, const WriteContext& ctx = {});
  // Appends many events in one transaction: all land or none does. Returns their ids in input
  // order (an idempotent repeat gives the earlier event's id). Errors name the index:
  // "events[17].purchase.amount: ...".
  std::vector<EventId> append_events(std::span<const Event> events, const WriteContext& ctx = {});
  // Throws Error{not_found}.
  Event get_event(EventId id) const;
  // The customer's events ordered by (at, id). Throws Error{not_found} for an unknown customer.
  std::vector<Event> events_of(CustomerId customer) const;
  std::size_t count_events() const;
  // What is left of a purchase to refund. Throws Error{not_found} unless `purchase` is a
  // purchase event.
  Money refundable_amount(EventId purchase) const;

  // ---- bulk and analytics ----
  // Imports purchases column-wise in one transaction (all or nothing); see PurchaseImport.
  // Each row is checked by the same rules as append_event (validate_event against the store's
  // currency, and the same idempotency rule: a key already held by a purchase of the same
  // customer skips the row, a key held by another customer's or another type's event throws
  // Error{conflict}), with the same messages after a row prefix:
  // "rows[41].purchase.amount: 12.345 has more decimals than USD allows (2)" where append_events
  // says "events[41].purchase.amount: ...". Amounts are read in rows.currency (empty: the
  // store's), so another currency fails at the first row like an event in that currency.
  // Throws Error{invalid_argument} (bad value, vectors of unequal length, another currency),
  // Error{not_found} (unknown external id with create_missing_customers=false),
  // Error{conflict} (a deleted or erased customer), Error{suppressed} (an erased external id).
  // The batch writes one audit entry (entity "import", action "import_purchases") whose
  // new_value holds the counts; customers it creates are counted there, not audited one by one.
  // Performance note: purchases are rows of the `events` table with their fields in columns (no
  // JSON). bench/ compares this call against plain prepared-statement inserts into a table of
  // the same shape, copying the CREATE TABLE / CREATE INDEX statements of `events` from
  // sqlite_master at run time.
  ImportReport import_purchases(const PurchaseImport& rows, const WriteContext& ctx = {});
  PurchaseColumns purchase_columns() const;
  // Every referral event as columns (see ReferralColumns).
  ReferralColumns referral_columns() const;
  StoreSummary summary() const;
  // Every customer's id and external id (soft-deleted and erased customers included), in id
  // order, read in one transaction; see CustomerKeys. Throws Error{storage} if the store is closed
  // or the read fails. Thread-safe.
  CustomerKeys customer_keys() const;

  // ---- columns for customer facts (see the structs above) ----
  // Each reads its rows in one read transaction. Throw Error{storage} if the store is closed or
  // a read fails, Error{corrupt} for a stored event whose data cannot be read. Thread-safe.
  RefundColumns refund_columns() const;
  InteractionColumns interaction_columns() const;
  SurveyColumns survey_columns() const;
  ParticipationColumns participation_columns() const;
  CustomerColumns customer_columns() const;
  ConsentColumns consent_columns() const;
  TagColumns tag_columns() const;
  std::vector<FieldColumns> field_columns() const;
  // The requested parts at once, in one read transaction. Throws Error{not_found} if
  // request.customer is not 0 and no such customer exists, and as above.
  StoreColumns columns(const ColumnRequest& request = {}) const;
  // Every event whose source equals `source` exactly (campaign touches and responses are
  // "campaign:<name>"), as columns in event-id order, read in one read transaction (a scan of
  // the ledger). Throws Error{storage} if the store is closed or the read fails. Thread-safe.
  SourceEventColumns events_with_source(std::string_view source) const;

  // ---- audit, erasure, suppression ----
  // The audit log in id order, for one customer or (customer = 0) for the whole store.
  std::vector<AuditEntry> audit_log(CustomerId customer = 0) const;
  // Erases the customer's personal data; see the guarantees above. Suppresses every external
  // id, e-mail and phone the customer ever had (current record and audit entries) and blanks the
  // old and new values of its audit entries and of its opportunities' audit entries. Idempotent
  // on an erased customer (returns a report of zeros). Throws Error{not_found}.
  EraseReport erase_customer(CustomerId id, const WriteContext& ctx = {});
  // Whether an external id, e-mail or phone belongs to an erased customer (one it has or ever
  // had). E-mail and phone are normalised first (Error{invalid_argument} if malformed).
  bool is_suppressed(std::string_view external_id, std::string_view email = {},
                     std::string_view phone = {}) const;

  // ---- whole-store export and import ----
  // Writes the whole store as JSON Lines (format "crmkit-jsonl" version 2): a header line, then
  // fields, customers, events, opportunities, recorded lifecycle states, transition history,
  // points programmes, points entries, audit entries and suppression hashes, each in id (states:
  // key) order, and last a trailer line {"trailer":{"counts":{<kind>:N,...},"sha256":"<hex>"}}:
  // the number of lines of each record kind (every kind, 0 included) and the SHA-256 of every
  // byte before the trailer line. The output is deterministic: exporting, importing into an
  // empty store and exporting again gives identical bytes.
  // The path overload writes "<path>.tmp", fsyncs it, renames it over `path` and fsyncs the
  // directory, so after a crash or power cut `path` holds the previous file or the whole new one.
  // Throws Error{storage} if the file cannot be written, synced or renamed (nothing is left at
  // `path` then: neither the temporary file nor a renamed one whose directory sync failed).
  // The header carries the suppression key of a file-mode store ("suppression_key", hex); a
  // host-mode store writes "suppression_key_mode":"host" and the key's check value
  // ("suppression_key_check") instead, never the key (StoreOptions::suppression_key).
  void export_jsonl(const std::string& path) const;
  void export_jsonl(std::ostream& out) const;
  // Loads an export into this store, which must be empty (no customers, events, fields,
  // opportunities, lifecycle or points rows), in one transaction: a refused file imports nothing.
  // Ids, times, the audit log, the suppression list and its key are kept as exported, and the
  // import itself adds no audit entry (so a re-export is byte-identical).
  // Suppression key modes (StoreOptions::suppression_key): a file-mode export brings its key
  // into a file-mode store. A host-mode export loads only into a store opened with the same
  // host key (else Error{conflict} naming suppression_key_mode or suppression_key_check, line 1).
  // A file-mode export loads into a host-mode store only if it holds no suppression hashes (they
  // are keyed with the export's key and cannot be re-keyed: Error{conflict} naming the first
  // suppression line); its in-file key is then dropped.
  //
  // A restore checks what a live write checks, line by line, and refuses the whole file with
  // Error{corrupt} naming the line and the problem ("import: line 12: refund.amount: 70.00 USD is
  // more than the 50.00 USD left of purchase 1") for anything damaged, forged or that no live
  // write could have produced:
  // - header (line 1): format "crmkit-jsonl", version 2 (a version 1 export, written before the
  //   trailer existed, is refused: a truncated one cannot be told from a whole one), a 32-byte
  //   suppression key; another currency is Error{conflict}.
  // - trailer: the last line; without it "import: the export has no trailer (truncated?)"; its
  //   counts must equal the lines read per kind and its sha256 the bytes read; a line after it
  //   is refused. A file cut anywhere, with a line removed, added, swapped or changed, is refused.
  // - field: a valid declaration (validate_field_def), a name not declared before.
  // - customer: ids ascend; valid and already in the normal form validate_customer stores
  //   (contacts, tags, custom values against the fields read before); a unique external id;
  //   memberships name a stored organisation (checked once all customers are read). A customer
  //   flagged erased carries nothing erase_customer blanks: external id "erased:<id>", name
  //   "[erased]", no demographics, contacts, consents, personal custom fields or membership
  //   titles (else erase_customer would skip it as erased and keep the data).
  // - event: ids ascend; validate_event; its customer is stored; the references of a live append
  //   (a refund's purchase exists, is the customer's, is not dated after it, and is not refunded
  //   above its amount; a referral names another stored customer); an erased customer's events
  //   carry no personal text (refund reason, interaction note and commitment, survey comment).
  // - opportunity: ids ascend; validate_opportunity; its customer is stored; an erased
  //   customer's opportunities are named "[erased]".
  // - state, transition: the entity exists (an opportunity's rows are of its pipeline);
  //   transition ids ascend; per machine and entity the transitions chain in id order (each
  //   one's from is the previous one's to, never earlier in time) and the state row is the last
  //   transition's to since its at; an erased customer's transitions (and its opportunities')
  //   have no reason.
  // - points_program, points_entry: the programme is in the store's currency; each entry names a
  //   programme read before it, a stored customer and (if any) a stored event of that customer,
  //   ids ascend, replaying each customer's entries never redeems more than was redeemable at the
  //   time ("import: line 12: points_entry 6: points: 300 asked, 270 redeemable"); an erased
  //   customer's entries have no reason.
  // - audit: ids ascend; a valid time; an (entity, action) some live write makes (customer:
  //   create, update, consent, delete, restore, erase, redeem_points, adjust_points, transition;
  //   opportunity: create, update, transition; field: declare_field; points: define_program,
  //   replace_program, earn_points; lifecycle: apply_transitions; import: import_purchases);
  //   entity_id names a stored customer, opportunity, field or programme (0 for lifecycle and
  //   import); entries of an erased customer (and of its opportunities) have blank old and new
  //   values.
  // - suppression: a 32-byte hash, kind external_id, email or phone, hashes strictly ascending
  //   (no duplicates).
  // Documented exceptions, not checked because a live store can hold them or the file does not
  // say: events, opportunities, transitions and points entries of a customer that is deleted or
  // erased now (they were written before the deletion or erasure, which the file does not date);
  // lifecycle state names against a machine (the store holds no machine definitions); whether a
  // live customer's external id or contacts are on the suppression list (a contact can be taken
  // by another customer before its former holder's erasure suppresses it) and whether an erased
  // customer's hashes are on it (the erased data is gone); audit payloads against the records
  // (the log is history, the records are now); the order of times across records (times come
  // from callers and clocks).
  // Throws Error{conflict} if the store is not empty or the currencies differ, Error{corrupt} for
  // a damaged or refused file, Error{storage} on I/O failure.
  void import_jsonl(const std::string& path);
  void import_jsonl(std::istream& in);


  // ==== lifecycle states, transitions, listeners and opportunities (engine block) ====
  // See the block comment above TransitionRequest for how states and history are kept. Every
  // method here is thread-safe like the rest of the Store (writes serialised, reads on the
  // reader pool); the Machine is only read.

  // ---- opportunities ----
  // Validates (validate_opportunity) and stores a new opportunity, audited (entity
  // "opportunity", action "create"); returns it as stored (id, created_at, updated_at). It starts
  // in its pipeline's initial state. Throws Error{invalid_argument} for invalid data,
  // Error{not_found} for an unknown customer, Error{conflict} for a soft-deleted or erased one.
  Opportunity create_opportunity(const Opportunity& opportunity, const WriteContext& ctx = {});
  // Throws Error{not_found}.
  Opportunity get_opportunity(OpportunityId id) const;
  // Opportunities in id order: all (customer = 0) or one customer's.
  std::vector<Opportunity> list_opportunities(CustomerId customer = 0) const;
  // Replaces name, amount, expected_close and owner of the stored opportunity (matched by
  // opportunity.id), auditing each changed field (action "update"); returns it as stored.
  // customer and pipeline cannot change (Error{invalid_argument}). Throws as
  // create_opportunity, plus Error{not_found} for an unknown id.
  Opportunity update_opportunity(const Opportunity& opportunity, const WriteContext& ctx = {});
  // All opportunities, or (pipeline not empty) those of one pipeline, as columns.
  OpportunityColumns opportunity_columns(std::string_view pipeline = {}) const;

  // ---- states and history ----
  // The entity's current state in `machine`. Throws Error{not_found} for an unknown entity,
  // Error{invalid_argument} for an opportunity whose pipeline is not machine.name().
  EntityState state(const Machine& machine, EntityRef entity) const;
  // The current state of every entity of `kind` in `machine`, read in one transaction: for
  // customers every customer (soft-deleted and erased ones included; the same rows as
  // customer_keys()), for opportunities those whose pipeline is machine.name().
  StateColumns states(const Machine& machine, EntityKind kind = EntityKind::customer) const;
  // The history of the machine named `machine`, in history-id order: all entities, or only
  // `entity`. Unknown names and entities give empty columns.
  TransitionColumns history(std::string_view machine,
                         std::optional<EntityRef> entity = std::nullopt) const;

  // ---- transitions ----
  // A manual transition of `entity` to `to`, checked by machine.check_manual(current, to,
  // reason) (an allowed edge, manual allowed, a reason when required); the new state, its history
  // row and its audit entry are written in one transaction, then listeners are called.
  // Returns the history row. request.at must not be before the current state's since (for a
  // recorded state) nor after the write time.
  // Throws Error{invalid_transition} (from check_manual) with nothing changed,
  // Error{not_found} for an unknown entity, Error{conflict} for a soft-deleted or erased customer
  // (or an opportunity of one), Error{invalid_argument} for a bad `at`, a reason over 4096 bytes
  // or an opportunity of another pipeline.
  TransitionRecord transition(const Machine& machine, EntityRef entity, std::string_view to,
                              const TransitionRequest& request = {},
                              const WriteContext& ctx = {});
  // The write half of automatic evaluation: applies `changes` in order in one transaction (each
  // a state and a history row with its rule name and the write's actor; one audit entry for the
  // batch: entity "lifecycle", action "apply_transitions", field the machine name, new value
  // {"first_id":..,"last_id":..,"transitions":..}, the history rows being the detail), then
  // calls the listeners with each committed transition in order. Several changes of one entity
  // chain (the second's from is the first's to). Refuses the whole batch, with nothing changed:
  // Error{conflict} "changes[3].from: customer 7 is in 'growth', not 'introduction'" if an
  // entity's current state is not the expected `from`; Error{invalid_transition} if the machine
  // has no transition named `rule` (any transition, when `rule` is empty) from `from` to `to`;
  // Error{not_found} for an unknown entity or target state;
  // Error{invalid_argument} for an `at` before the current state's since or after the write
  // time, or an opportunity of another pipeline. Soft-deleted and erased customers are accepted
  // (the caller chooses whom to evaluate). Returns the history rows written.
  std::vector<TransitionRecord> apply_transitions(const Machine& machine,
                                                  std::span<const PlannedTransition> changes,
                                                  const WriteContext& ctx = {});
  // The dry run of apply_transitions: the same checks and the same errors, on a snapshot, and
  // the rows that would be written (id 0, recorded_at the time of the check); writes nothing and
  // calls no listener.
  std::vector<TransitionRecord> check_transitions(const Machine& machine,
                                                  std::span<const PlannedTransition> changes,
                                                  const WriteContext& ctx = {}) const;

  // ---- listeners ----
  // Registers a listener (see TransitionListener) and returns its id (1, 2, ...). Thread-safe;
  // a listener added during a delivery receives the next write's transitions.
  ListenerId add_transition_listener(TransitionListener listener);
  // Removes a listener; false if there is none with that id. A delivery already under way may
  // still call it once.
  bool remove_transition_listener(ListenerId id);
  // The listener errors recorded since the last call (oldest first; at most the last 1000 are
  // kept), and clears them.
  std::vector<ListenerError> take_listener_errors();
  // ==== end of the engine block ====


  // ==== points programmes and the points ledger (points block) ====
  // See the block comment above EarnReport. All calls are thread-safe like the rest of the Store
  // (writes serialised on the writer, reads on the reader pool). Throw Error{storage} if the
  // store is closed (writes also if it is read-only) or a read fails. `program` names a stored
  // programme: an unknown one throws Error{not_found} ("program: no points programme 'x'").

  // Stores a new programme, or replaces the one of that name, and returns it as stored. The
  // programme is validated (validate_program) and its currency must be the store's. A
  // replacement keeps the stored entries as they are (a lot keeps the available_at and expires_at
  // it was granted with; only later grants follow the new pending period and expiry) and the
  // earn_points watermark. Audited (entity "points", action "define_program" or
  // "replace_program", field the name, old and new value the JSON). Throws
  // Error{invalid_argument} for an invalid programme or another currency.
  PointsProgramInfo define_points_program(const Program& program, const WriteContext& ctx = {});
  // The stored programme. Throws Error{not_found}.
  Program points_program(std::string_view name) const;
  // Every stored programme, by name.
  std::vector<PointsProgramInfo> points_programs() const;

  // Processes, for programme `program`, every ledger event whose id is above its watermark
  // (purchases, refunds, referrals, survey responses, event participations; others are skipped),
  // in one transaction: each customer's new events are applied in (at, event id) order to the
  // customer's account replayed from its stored entries (PointsAccount::earn; a refund's
  // RefundBasis is its purchase's amount and the purchase's refunds of lower id), and the
  // entries they earn are appended, grouped by customer (ascending id), in that order within a
  // customer. The watermark then becomes the ledger's highest event id. Running it again adds
  // nothing. Events of soft-deleted and erased customers earn like any other (the ledger keeps
  // them). One audit entry (entity "points", action "earn_points", field the programme, new value
  // the report's counts), none when nothing was added. Returns what was done.
  // Throws Error{not_found}, and what the engine throws for a stored ledger it cannot replay
  // (Error{invalid_argument}); nothing is written then.
  EarnReport earn_points(std::string_view program, const WriteContext& ctx = {});
  // Redeems `points` of `customer` at `at`, atomically: the customer's account is replayed inside
  // the write transaction and the redemption spends available lots in the programme's spend
  // order. With an idempotency key already used in the programme, returns that entry and adds
  // nothing. Returns the stored entry (id set). Audited (entity "customer", action
  // "redeem_points", field the programme, new value {"entry","points"}).
  // Throws Error{conflict} "points: 500 asked, 320 redeemable" (an overdraw: nothing changes),
  // Error{conflict} for an erased or soft-deleted customer or an idempotency key used by another
  // customer or another kind of entry, Error{not_found} for an unknown customer,
  // Error{invalid_argument} for points <= 0, `at` before the customer's latest entry or after
  // the time of the write, a reason over 1024 bytes or an idempotency key over 256 bytes.
  PointsEntry redeem_points(std::string_view program, CustomerId customer, std::int64_t points,
                            Timestamp at, std::string_view idempotency_key = {},
                            std::string_view reason = {}, const WriteContext& ctx = {});
  // A manual adjustment of `points` (!= 0) at `at`: a positive one grants a lot that is available
  // at once and expires by the programme's expiry policy (counted from `at`); a negative one
  // takes points back, spending available lots in spend order, and what it cannot find becomes
  // debt. `reason` is required (1..1024 bytes). Idempotent by key and audited (action
  // "adjust_points") like redeem_points; the same throws, except that no amount is refused for
  // lack of points.
  PointsEntry adjust_points(std::string_view program, CustomerId customer, std::int64_t points,
                            Timestamp at, std::string_view reason,
                            std::string_view idempotency_key = {}, const WriteContext& ctx = {});
  // The programme's entries in id order: all, or one customer's.
  std::vector<PointsEntry> points_entries(std::string_view program,
                                          std::optional<CustomerId> customer = std::nullopt) const;
  // The customer's account (balances, lots, tier and tier history) as of `as_of`, replayed from
  // its entries at or before as_of. Throws Error{not_found} for an unknown customer.
  Account points_account(std::string_view program, CustomerId customer, Timestamp as_of) const;
  // Balances of every customer with an entry at or before as_of, ascending by customer id
  // (balances_as_of's rows), replayed one customer at a time (memory: one customer's entries).
  BalanceColumns points_balances(std::string_view program, Timestamp as_of) const;
  // Customers per tier as of `as_of` (see TierCount); empty if the programme has no tiers.
  std::vector<TierCount> tier_counts(std::string_view program, Timestamp as_of) const;
  // Every customer's tier changes up to `as_of` (see TierHistoryColumns).
  TierHistoryColumns tier_history(std::string_view program, Timestamp as_of) const;
  // ==== end of the points block ====

  // Runs a WAL checkpoint (TRUNCATE). Returns false if a reader prevented the full truncate.
  bool checkpoint();
  // Closes the connections. Later calls throw Error{storage} ("store is closed"); closing twice
  // is harmless. The destructor closes too.
  void close() noexcept;
  bool is_closed() const noexcept;

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

}  // namespace v0
}  // namespace crmkit
