// Helpers shared by the fault tests (tests/faults/*.cpp): a temporary directory, PRAGMA
// integrity_check on a closed store file, the deterministic amount of an idempotency key, the
// writer's pipe protocol, and the Ledger check that the kill -9 and power-loss tests run after
// every crash. Header-only; each fault test is its own program (no Catch2: they fork, kill and
// cut power, and print one "FAULTS: " line with their figures).
#pragma once

#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "crmkit/base/error.hpp"
#include "crmkit/store/store.hpp"

namespace faults {

// Prints "FAIL: <what>" to stderr and counts it; main() returns non-zero if any check failed.
inline int& failures() {
  static int n = 0;
  return n;
}
inline void fail(const std::string& what) {
  if (failures() < 50) std::fprintf(stderr, "FAIL: %s\n", what.c_str());
  ++failures();
}
#define FAULTS_CHECK(cond, what)       \
  do {                                 \
    if (!(cond)) ::faults::fail(what); \
  } while (0)

// The seed: CRMKIT_FAULTS_SEED if set, else the fixed default (printed by every test).
inline std::uint64_t seed_from_env(std::uint64_t fallback) {
  if (const char* s = std::getenv("CRMKIT_FAULTS_SEED")) return std::strtoull(s, nullptr, 10);
  return fallback;
}

// A fresh directory under the system temp dir, removed on destruction.
struct TempDir {
  std::filesystem::path dir;
  explicit TempDir(const std::string& tag) {
    dir = std::filesystem::temp_directory_path() /
          ("crmkit_faults_" + tag + "_" + std::to_string(::getpid()) + "_" +
           std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::filesystem::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string path(const std::string& name) const { return (dir / name).string(); }
};

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// PRAGMA integrity_check of the database at `path` through SQLite directly (the store must be
// closed in this process): "ok", or the problems joined with "; ". Opening recovers a hot WAL.
inline std::string integrity_check(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "cannot open";
    sqlite3_close(db);
    return "open failed: " + msg;
  }
  sqlite3_busy_timeout(db, 10000);
  sqlite3_stmt* st = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr) != SQLITE_OK) {
    out = std::string("prepare failed: ") + sqlite3_errmsg(db);
  } else {
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      if (!out.empty()) out += "; ";
      out += reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    }
    if (rc != SQLITE_DONE) out += std::string(" step failed: ") + sqlite3_errmsg(db);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return out;
}

// The amount (USD cents) of the purchase with idempotency key `key`: 1.00 .. 1000.99, derived
// from the key so that the checker can recompute it for any event it finds.
inline std::int64_t amount_of(const std::string& key) {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : key) h = (h ^ c) * 1099511628211ull;
  return 100 + static_cast<std::int64_t>(h % 100000);
}

inline crmkit::Currency usd() { return crmkit::Currency::of("USD"); }

// A purchase with the key's amount.
inline crmkit::Event purchase(crmkit::CustomerId customer, const std::string& key, int n) {
  crmkit::Event e;
  e.customer = customer;
  e.at = crmkit::Timestamp::from_micros(1700000000000000LL + n * 1000000LL);
  e.source = "faults";
  e.idempotency_key = key;
  crmkit::Purchase p;
  p.amount = crmkit::Money::from_minor(amount_of(key), usd());
  p.category = "fault-test";
  e.payload = p;
  return e;
}

// Writes a whole line to the pipe (one write(2) of less than PIPE_BUF bytes is atomic, so a
// SIGKILL or a power cut never leaves half a line).
inline void send_line(int fd, const std::string& line) {
  std::string l = line + "\n";
  const char* p = l.data();
  std::size_t left = l.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n <= 0) ::_exit(90);
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

// One call a writer made or was making: its keys, and what the writer heard back.
struct Call {
  std::string id;                 // "w1c17n5": writer 1, cycle 17, call 5
  int kind = 0;                   // 0 append_event, 1 append_events, 2 import_purchases
  std::vector<std::string> keys;  // its events' idempotency keys, in order
  int cycle = 0;
  int seq = 0;                    // order of the intent within its writer and cycle
  int writer = 0;
  bool acked = false;             // the call returned (acknowledged over the pipe)
  bool errored = false;           // the call threw crmkit::Error (reported over the pipe)
  std::vector<crmkit::EventId> acked_ids;  // ids returned (append_event, append_events)
  bool lost_counted = false;      // already counted as lost
};

// The keys of a call: "<callid>i<k>".
inline std::vector<std::string> keys_of(const std::string& call_id, int n) {
  std::vector<std::string> out;
  for (int k = 0; k < n; ++k) out.push_back(call_id + "i" + std::to_string(k));
  return out;
}

// Counts of one verification pass (cumulative figures are kept by the caller).
struct CheckResult {
  bool integrity_ok = true;
  bool opened = true;
  std::size_t lost_events = 0;        // acknowledged events missing (newly found this pass)
  std::size_t lost_calls = 0;         // acknowledged calls with a missing event (newly found)
  std::size_t partial = 0;            // calls with some but not all events present
  std::size_t wrong = 0;              // wrong amount, unknown key, duplicate key, wrong id
  std::size_t landed_unacked = 0;     // in-flight calls found whole (committed, not acknowledged)
  std::size_t not_prefix = 0;         // a writer's calls of this cycle present out of order
  std::size_t acked_events = 0;       // total acknowledged so far
  std::size_t present_events = 0;
};

// All calls ever intended, by id, and the check after a crash.
class Ledger {
 public:
  std::map<std::string, Call> calls;

  // Applies one protocol line from a writer: "I <callid> <kind> <n> <cycle> <seq> <writer>",
  // "A <callid> [ids...]" or "E <callid> <code> <message>". Unknown lines count as wrong.
  void apply(const std::string& line, std::size_t& bad_lines) {
    std::istringstream in(line);
    std::string tag, id;
    in >> tag >> id;
    if (tag == "I") {
      Call c;
      int n = 0;
      c.id = id;
      in >> c.kind >> n >> c.cycle >> c.seq >> c.writer;
      c.keys = keys_of(id, n);
      auto it = calls.find(id);
      if (it == calls.end()) calls.emplace(id, std::move(c));  // a retry keeps its first record
    } else if (tag == "A") {
      auto it = calls.find(id);
      if (it == calls.end()) {
        ++bad_lines;
        return;
      }
      it->second.acked = true;
      it->second.acked_ids.clear();
      crmkit::EventId e;
      while (in >> e) it->second.acked_ids.push_back(e);
    } else if (tag == "E") {
      auto it = calls.find(id);
      if (it != calls.end()) it->second.errored = true;
      errors.push_back(line);
    } else if (tag == "O" || tag == "C") {
      // the writer opened the store; a checkpoint returned
    } else {
      ++bad_lines;
    }
  }

  std::vector<std::string> errors;  // "E" lines (calls that threw crmkit::Error)

  // Opens the store at `path` after a crash (integrity_check first, through SQLite directly)
  // and checks every intended call: acknowledged ones whole with the returned ids and amounts,
  // none partial, every stored event one of ours with its key's amount, no key twice, the
  // summary's revenue equal to the sum of what is stored, and (if `cycle` >= 0) each writer's
  // calls of that cycle present as a prefix of its sequence (a crash loses a tail, never a hole).
  CheckResult check(const std::string& path, int cycle) {
    CheckResult r;
    const std::string ic = integrity_check(path);
    if (ic != "ok") {
      r.integrity_ok = false;
      fail("integrity_check after crash: " + ic);
    }
    std::map<std::string, crmkit::EventId> present;  // key -> id
    std::map<crmkit::EventId, std::int64_t> amounts;
    std::int64_t revenue = 0;
    try {
      crmkit::StoreOptions o;
      o.busy_timeout_ms = 10000;
      auto store = crmkit::Store::open(path, o);
      const auto src = store.events_with_source("faults");
      for (std::size_t i = 0; i < src.event_id.size(); ++i) {
        if (!present.emplace(src.idempotency_key[i], src.event_id[i]).second) {
          ++r.wrong;
          fail("idempotency key stored twice: " + src.idempotency_key[i]);
        }
      }
      const auto pc = store.purchase_columns();
      for (std::size_t i = 0; i < pc.event_id.size(); ++i) amounts[pc.event_id[i]] = pc.amount_minor[i];
      revenue = store.summary().revenue.minor_units_i64();
      if (store.count_events() != src.event_id.size()) {
        ++r.wrong;
        fail("events not written by the writers: " + std::to_string(store.count_events()) +
             " stored, " + std::to_string(src.event_id.size()) + " of ours");
      }
    } catch (const std::exception& e) {
      r.opened = false;
      fail(std::string("reopen after crash: ") + e.what());
      return r;
    }
    std::int64_t sum_present = 0, sum_acked = 0;
    std::set<std::string> known_keys;
    // per writer: the seqs of this cycle's calls present / absent
    std::map<int, std::map<int, bool>> cycle_presence;
    for (auto& [id, c] : calls) {
      std::size_t here = 0;
      for (std::size_t k = 0; k < c.keys.size(); ++k) {
        known_keys.insert(c.keys[k]);
        auto it = present.find(c.keys[k]);
        if (it == present.end()) continue;
        ++here;
        const std::int64_t want = amount_of(c.keys[k]);
        auto a = amounts.find(it->second);
        if (a == amounts.end() || a->second != want) {
          ++r.wrong;
          fail("event " + c.keys[k] + " has the wrong amount");
        }
        if (c.acked && k < c.acked_ids.size() && c.acked_ids[k] != it->second) {
          ++r.wrong;
          fail("event " + c.keys[k] + " acknowledged as id " + std::to_string(c.acked_ids[k]) +
               ", stored as id " + std::to_string(it->second));
        }
        sum_present += want;
      }
      if (here != 0 && here != c.keys.size()) {
        ++r.partial;
        fail("partial batch " + id + ": " + std::to_string(here) + " of " +
             std::to_string(c.keys.size()) + " events stored");
      }
      if (c.acked) {
        r.acked_events += c.keys.size();
        for (const auto& k : c.keys) sum_acked += amount_of(k);
        if (here < c.keys.size() && !c.lost_counted) {
          c.lost_counted = true;
          ++r.lost_calls;
          r.lost_events += c.keys.size() - here;
        }
      } else if (here == c.keys.size() && here > 0 && c.cycle == cycle) {
        ++r.landed_unacked;
      }
      if (c.cycle == cycle && !c.errored) cycle_presence[c.writer][c.seq] = here > 0;
    }
    for (const auto& [key, id] : present)
      if (!known_keys.count(key)) {
        ++r.wrong;
        fail("stored event with a key no writer used: " + key);
      }
    for (const auto& [w, seqs] : cycle_presence) {
      bool gap = false;
      for (const auto& [seq, here] : seqs) {
        if (!here) gap = true;
        else if (gap) {
          ++r.not_prefix;
          fail("writer " + std::to_string(w) + " cycle " + std::to_string(cycle) + ": call " +
               std::to_string(seq) + " stored after a missing one");
          break;
        }
      }
    }
    r.present_events = present.size();
    if (revenue != sum_present) {
      ++r.wrong;
      fail("summary revenue " + std::to_string(revenue) + " != sum of stored events " +
           std::to_string(sum_present));
    }
    (void)sum_acked;
    acked_sum = sum_acked;
    present_sum = sum_present;
    return r;
  }

  std::int64_t acked_sum = 0;    // after the last check: sum of every acknowledged amount
  std::int64_t present_sum = 0;  // after the last check: sum of every stored amount
};

// Creates the store at `path` with `writers` customers "cust0".. (ids 1..writers).
inline void create_store(const std::string& path, int writers, crmkit::SyncMode mode) {
  crmkit::StoreOptions o;
  o.currency = "USD";
  o.synchronous = mode;
  auto store = crmkit::Store::open(path, o);
  for (int w = 0; w < writers; ++w) {
    crmkit::Customer c;
    c.external_id = "cust" + std::to_string(w);
    c.name = "Writer " + std::to_string(w);
    store.create_customer(c);
  }
}

// A tiny deterministic generator (splitmix64), so a child's choices follow from its seed.
struct Rng {
  std::uint64_t s;
  explicit Rng(std::uint64_t seed) : s(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  int below(int n) { return static_cast<int>(next() % static_cast<std::uint64_t>(n)); }
};

// Makes one call of `kind` (0 append_event, 1 append_events, 2 import_purchases) with the keys
// of `call_id` for writer `w`, and acknowledges it over `fd` once it returned: the intent line
// before the call, the acknowledgement (with the returned ids) after it, or an "E" line if it
// threw crmkit::Error. Any other exception ends the process with status 3.
inline void writer_call(crmkit::Store& store, int fd, const std::string& call_id, int kind, int n,
                        int cycle, int seq, int w) {
  send_line(fd, "I " + call_id + " " + std::to_string(kind) + " " + std::to_string(n) + " " +
                    std::to_string(cycle) + " " + std::to_string(seq) + " " + std::to_string(w));
  const auto keys = keys_of(call_id, n);
  const crmkit::CustomerId customer = w + 1;
  try {
    std::string ack = "A " + call_id;
    if (kind == 0) {
      const auto e = store.append_event(purchase(customer, keys[0], seq));
      ack += " " + std::to_string(e.id);
    } else if (kind == 1) {
      std::vector<crmkit::Event> batch;
      for (int k = 0; k < n; ++k) batch.push_back(purchase(customer, keys[k], seq));
      for (auto id : store.append_events(batch)) ack += " " + std::to_string(id);
    } else {
      crmkit::PurchaseImport rows;
      rows.currency = "USD";
      rows.source = "faults";
      rows.create_missing_customers = false;
      for (int k = 0; k < n; ++k) {
        rows.customer_external_id.push_back("cust" + std::to_string(w));
        rows.at.push_back(crmkit::Timestamp::from_micros(1700000000000000LL + seq * 1000000LL));
        const std::int64_t a = amount_of(keys[k]);
        rows.amount.push_back(std::to_string(a / 100) + "." + (a % 100 < 10 ? "0" : "") +
                              std::to_string(a % 100));
        rows.category.push_back("fault-test");
        rows.idempotency_key.push_back(keys[k]);
      }
      store.import_purchases(rows);
    }
    send_line(fd, ack);
  } catch (const crmkit::Error& e) {
    std::string msg = e.what();
    for (auto& ch : msg)
      if (ch == '\n') ch = ' ';
    send_line(fd, "E " + call_id + " " + std::to_string(static_cast<int>(e.code())) + " " + msg);
  } catch (const std::exception& e) {
    send_line(fd, std::string("X ") + call_id + " " + e.what());
    ::_exit(3);
  }
}

// The writer process's loop: opens the store, first repeats `retry` (the calls its previous
// incarnation was making when it died, with the same keys: the idempotency keys must give back
// the events that landed), then makes calls of random kind and size until it is killed, or
// `max_calls` calls (then exits 0). One call in ten is Store::checkpoint() instead.
inline void writer_loop(const std::string& path, crmkit::SyncMode mode, int fd, int w, int cycle,
                        const std::vector<Call>& retry, std::uint64_t seed, int max_calls) {
  Rng rng(seed);
  try {
    crmkit::StoreOptions o;
    o.synchronous = mode;
    o.busy_timeout_ms = 20000;
    auto store = crmkit::Store::open(path, o);
    send_line(fd, "O " + std::to_string(w));
    for (const auto& c : retry)
      writer_call(store, fd, c.id, c.kind, static_cast<int>(c.keys.size()), c.cycle, c.seq, w);
    for (int seq = 0; seq < max_calls; ++seq) {
      // One call in ten is a WAL checkpoint (TRUNCATE), so that kills and power cuts also land
      // while the log is copied into the database and truncated.
      if (rng.below(10) == 0) {
        try {
          store.checkpoint();
          send_line(fd, "C " + std::to_string(seq));
        } catch (const crmkit::Error& e) {
          send_line(fd, std::string("E checkpoint ") + std::to_string(static_cast<int>(e.code())) +
                            " " + e.what());
        }
        continue;
      }
      const int kind = rng.below(3);
      const int n = kind == 0 ? 1 : 2 + rng.below(11);
      const std::string id =
          "w" + std::to_string(w) + "c" + std::to_string(cycle) + "n" + std::to_string(seq);
      writer_call(store, fd, id, kind, n, cycle, seq, w);
    }
  } catch (const crmkit::Error& e) {
    send_line(fd, std::string("E open ") + std::to_string(static_cast<int>(e.code())) + " " +
                      e.what());
    ::_exit(2);
  } catch (const std::exception& e) {
    send_line(fd, std::string("X open ") + e.what());
    ::_exit(3);
  }
  ::_exit(0);
}

}  // namespace faults
