// Private: the state behind crmkit::Store and helpers shared by the store_*.cpp files.
//
// Writes: every write method goes through one WriteScope (write_scope.hpp): lock, BEGIN
// IMMEDIATE, one clock reading, the resolved WriteContext, audit entries, commit or rollback.
//
// Locking: `write_mu` guards the writer connection, `fields` and `suppression_key`; every write
// holds it for its whole transaction. Reads of a file store lease a reader connection from the
// pool (guarded by `pool_mu`); reads of a ":memory:" store use the writer under `write_mu`.
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "crmkit/base/error.hpp"
#include "crmkit/loyalty/points.hpp"
#include "crmkit/records/json.hpp"
#include "crmkit/store/store.hpp"
#include "store/sqlite.hpp"

namespace crmkit {
inline namespace v0 {

struct Store::Impl {
  class WriteScope;  // the one write path: write_scope.hpp

  std::string path;
  StoreOptions options;
  Currency currency;
  bool memory = false;

  std::mutex write_mu;
  std::unique_ptr<sql::Db> writer;
  std::vector<FieldDef> fields;      // the declared custom fields, in declaration order
  std::string suppression_key;       // the 32-byte HMAC key (in-file or host's); also key_mu
  bool host_key = false;             // "host" mode: the key is the host's, never written out
  mutable std::mutex key_mu;         // lets readers hash while holding no write lock

  std::mutex pool_mu;
  std::vector<std::unique_ptr<sql::Db>> idle_readers;
  std::atomic<bool> closed{false};

  // A read connection held for the duration of one call.
  class ReadLease {
   public:
    explicit ReadLease(Impl& impl);
    ReadLease(const ReadLease&) = delete;
    ReadLease& operator=(const ReadLease&) = delete;
    ~ReadLease();
    sql::Db& db() { return *db_; }

   private:
    Impl& impl_;
    std::unique_lock<std::mutex> lock_;   // memory stores: the writer lock
    std::unique_ptr<sql::Db> owned_;      // file stores: a pooled reader
    sql::Db* db_ = nullptr;
  };

  // Takes the write lock; throws Error{storage} if closed or read-only. Used by WriteScope and
  // checkpoint() only.
  std::unique_lock<std::mutex> lock_write();
  void check_open() const;
  std::unique_ptr<sql::Db> open_reader();

  // The actor and source a write records. Both are checked like an event's text fields (valid
  // UTF-8, no NUL, at most 256 bytes; Error{invalid_argument} naming "actor" or "source"), so
  // the audit log never holds what an export could not restore.
  std::string actor_of(const WriteContext& ctx) const {
    check_text(ctx.actor, "actor", 0, kContextTextBytes);
    return ctx.actor.empty() ? options.actor : ctx.actor;
  }
  static std::string source_of(const WriteContext& ctx) {
    check_text(ctx.source, "source", 0, kContextTextBytes);
    return ctx.source.empty() ? std::string("api") : ctx.source;
  }
  static constexpr std::size_t kContextTextBytes = 256;

  // ---- helpers used inside a transaction (or a read) on `db` ----
  // Writes one audit row as given (WriteScope::commit, import_jsonl).
  static void insert_audit_row(sql::Db& db, const AuditEntry& e);
  std::vector<FieldDef> load_fields(sql::Db& db) const;

  Customer read_customer(sql::Db& db, CustomerId id) const;          // throws not_found
  std::optional<Customer> try_read_customer(sql::Db& db, CustomerId id) const;
  Customer customer_from_row(sql::Stmt& s) const;                     // columns of kCustomerCols
  // Inserts or replaces the customer row and its contact index (c.id set for replace).
  void write_customer_row(sql::Db& db, const Customer& c, bool insert);
  static void write_contact_index(sql::Db& db, const Customer& c);
  Customer by_contact(sql::Db& db, ContactKind kind, const std::string& value,
                      const char* field, const char* what) const;
  void check_memberships(sql::Db& db, const Customer& c) const;
  void check_not_suppressed(sql::Db& db, const Customer& c) const;
  // Validates `c` against the declared fields and stores it as a new customer (create_customer,
  // get_or_create_customer): memberships, suppression, a duplicate external id; audited.
  Customer insert_new_customer(WriteScope& w, Customer c);

  Event event_from_row(sql::Stmt& s) const;                           // columns of kEventCols
  std::optional<Event> try_read_event(sql::Db& db, EventId id) const;
  void insert_event_row(sql::Db& db, const Event& e, bool with_id);
  // The one rule for events, used by append_event, append_events and import_purchases:
  // validate_event against the store's currency (Error{invalid_argument}).
  void check_event(const Event& event) const;
  // Refund and referral references against the stored ledger (store_events.cpp); live and restore.
  void check_references(sql::Db& db, const Event& event) const;
  // The one idempotency rule: the id of the event already holding `key`, if any. Throws
  // Error{conflict} ("idempotency_key: 'k' belongs to another event (id N)") if that event is of
  // another customer or another type: a key never silently maps to someone else's event.
  std::optional<EventId> idempotent_match(sql::Db& db, const std::string& key,
                                          CustomerId customer, EventType type) const;
  EventId append_one(WriteScope& w, const Event& event, Event* stored);
  std::int64_t refunded_minor(sql::Db& db, EventId purchase) const;

  // HMAC-SHA-256 of `msg` under `key` (32 raw bytes out). Throws Error{storage} if it fails.
  static std::string hmac_sha256(std::string_view key, std::string_view msg);
  // The check value a host-mode store keeps for its key: HMAC-SHA-256(key, "crmkit-key-check").
  static std::string key_check(std::string_view key);
  // HMAC-SHA-256 of "<kind>:<value>" under the suppression key (32 raw bytes).
  std::string suppression_hash(std::string_view kind, std::string_view value) const;
  bool hash_suppressed(sql::Db& db, const std::string& hash) const;

  void write_jsonl(sql::Db& db, std::ostream& out) const;

  // ---- lifecycle and opportunities (store_lifecycle.cpp, store_opportunities.cpp) ----
  // Transition listeners and their errors, guarded by listener_mu (never held during a write or
  // while a listener runs).
  struct ListenerSlot {
    ListenerId id = 0;
    std::shared_ptr<TransitionListener> fn;
  };
  std::mutex listener_mu;
  std::vector<ListenerSlot> listeners;
  ListenerId next_listener = 1;
  std::deque<ListenerError> listener_errors;
  // Calls every listener with each record (after the commit, no lock held).
  void notify(const std::vector<TransitionRecord>& records);

  Opportunity opportunity_from_row(sql::Stmt& s) const;   // columns of CRMKIT_OPPORTUNITY_COLS
  std::optional<Opportunity> try_read_opportunity(sql::Db& db, OpportunityId id) const;
  void insert_opportunity_row(sql::Db& db, const Opportunity& o, bool with_id);
  // The customer of an opportunity being written must exist (Error{not_found}) and be neither
  // soft-deleted nor erased (Error{conflict}).
  void check_live_customer(sql::Db& db, CustomerId id) const;
  // The JSON form of export and audit: {"id","customer","name","amount":{"amount","currency"},
  // "expected_close","owner","pipeline","created_at","updated_at"}; the reader is strict and
  // throws Error{invalid_argument} naming "opportunity.<key>".
  static nlohmann::json opportunity_to_json(const Opportunity& o);
  Opportunity opportunity_from_json(const nlohmann::json& j) const;

  // ---- points (store_points.cpp) ----
  // erase_customer: blanks the reasons of the customer's points entries.
  static void erase_points(sql::Db& db, CustomerId id);
  // export_jsonl: one line per programme (id order), then one per entry (id order).
  void write_points_jsonl(sql::Db& db,
                          const std::function<void(const nlohmann::json&)>& line) const;
  // import_jsonl: what the points lines read so far (programmes by name, entries with their line).
  struct PointsImport {
    struct Row {
      std::string program;
      std::size_t line = 0;
      PointsEntry entry;
    };
    std::map<std::string, std::pair<std::int64_t, Program>> programs;  // name -> (id, programme)
    std::vector<Row> entries;
  };
  // Reads and inserts a "points_program" or "points_entry" record (false for another kind):
  // its customer and event must be stored, its programme read before it. Throws
  // Error{invalid_argument} / Error{not_found} naming the member.
  bool import_points_record(sql::Db& db, const std::string& kind, const nlohmann::json& v,
                            std::size_t line_no, PointsImport& state);
  // After the last line: each customer's entries replay as live writes made them (no redemption
  // above what was redeemable at its time). Throws Error{corrupt} naming the line.
  void check_imported_points(const PointsImport& state) const;
};

// Column lists shared by the SELECTs that feed customer_from_row / event_from_row.
#define CRMKIT_CUSTOMER_COLS \
  "id, external_id, kind, name, data, deleted, erased, created_at, updated_at"
#define CRMKIT_OPPORTUNITY_COLS \
  "id, customer_id, name, amount_minor, expected_close, owner, pipeline, created_at, updated_at"
#define CRMKIT_EVENT_COLS                                                                    \
  "id, customer_id, type, at, recorded_at, source, actor, idempotency_key, amount_minor, " \
  "ref_id, item_count, essential, order_id, category, data"

// The id the next row of `table` gets: one more than the largest id (1 for an empty table).
// Every insert of a store row with a generated id (customers, events, audit, opportunities,
// transitions, points_entries, points_programs, fields) binds this id instead of letting SQLite
// choose: once the largest rowid is 2^63-1, SQLite picks a random unused one, which would break
// the append order that readers (ORDER BY id, earn_points' last_event) rely on. Throws
// Error{overflow} naming "<table>.id" when the largest id is already 2^63-1 (store_events.cpp).
std::int64_t next_row_id(sql::Db& db, std::string_view table);

// Rethrows an Error with `prefix` put before its message ("events[3]." + "purchase.amount: ...").
[[noreturn]] void rethrow_prefixed(const Error& e, std::string_view prefix);

std::string to_hex(std::string_view bytes);
std::string from_hex(std::string_view hex, std::string_view field);

}  // namespace v0
}  // namespace crmkit
