// Ingest benchmark: imports N purchases with crmkit::Store::import_purchases and inserts the same
// rows into plain SQLite with one prepared INSERT, then prints both rates and their ratio.
//
// Usage: bench_ingest [--rows N] [--runs R] [--dir DIR] [--import-creates-customers] [--keep]
//   --rows N    purchases to ingest (default 500,000), over N/10 customers
//   --runs R    runs of each side; the best (fastest) run counts (default 3)
//   --dir DIR   where the temporary database files go (default: a fresh directory under $TMPDIR
//               or /tmp); the rates depend on that file system's fsync
//   --import-creates-customers
//               let import_purchases create the customers inside the timed import instead of
//               creating them beforehand in an untimed phase (the plain side always has them)
//   --keep      keep the database files
//
// What is measured (see bench/README.md):
//   crmkit: a fresh store file; unless --import-creates-customers, the N/10 customers are created
//     first with create_customer in an untimed phase (synchronous=OFF for that phase only) and the
//     store is closed; then Store::open with synchronous=FULL and ONE import_purchases call with
//     decimal-string amounts and idempotency keys is timed.
//   plain SQLite: a fresh file with the PRAGMAs crmkit's writer uses for a batch import (WAL,
//     synchronous=FULL, a 64 MiB page cache, foreign_keys=OFF: crmkit checks the customer
//     references of a batch itself, and a plain bulk loader would not pay for the check either), the
//     customers and events tables and their indexes created from the CREATE statements that crmkit
//     itself wrote (read from the crmkit file's sqlite_master), the customers copied over
//     (untimed); then one transaction with one prepared INSERT per row, with the values already
//     converted to integers, is timed.
// Each run of each side happens in a forked child, which generates its own input, so the peak RSS
// reported (wait4 / ru_maxrss of that child) belongs to that side alone.
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include <crmkit/crmkit.hpp>

namespace fs = std::filesystem;

namespace {

struct Options {
  std::size_t rows = 500000;
  int runs = 3;
  std::string dir;
  bool import_creates_customers = false;
  bool keep = false;
};

// ---- the input: deterministic, identical for both sides -----------------------------------------

// splitmix64: a small deterministic generator, so every run and both sides see the same rows.
struct Rng {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
};

// The rows in integer form (what the plain SQLite side inserts).
struct Rows {
  std::size_t customers = 0;
  std::vector<std::uint32_t> customer;   // 0-based customer index
  std::vector<std::int64_t> at_micros;
  std::vector<std::int64_t> amount_minor;  // cents, 1.00 .. 500.99 USD
  std::vector<std::int32_t> item_count;
};

constexpr std::int64_t kStartMicros = 1704067200LL * 1000000;  // 2024-01-01T00:00:00Z

Rows generate_rows(std::size_t n) {
  Rows r;
  r.customers = std::max<std::size_t>(1, n / 10);
  r.customer.resize(n);
  r.at_micros.resize(n);
  r.amount_minor.resize(n);
  r.item_count.resize(n);
  Rng rng{20240501};
  for (std::size_t i = 0; i < n; ++i) {
    // Every customer buys at least once; the rest are spread at random.
    r.customer[i] = static_cast<std::uint32_t>(i < r.customers ? i : rng.next() % r.customers);
    const auto second_of_year = static_cast<std::int64_t>(rng.next() % (365LL * 86400));
    r.at_micros[i] = kStartMicros + second_of_year * 1000000;
    r.amount_minor[i] = 100 + static_cast<std::int64_t>(rng.next() % 50000);
    r.item_count[i] = 1 + static_cast<std::int32_t>(rng.next() % 5);
  }
  return r;
}

std::string external_id(std::size_t customer_index) {
  return "bench-" + std::to_string(customer_index + 1);
}
std::string idempotency_key(std::size_t row) { return "bench:" + std::to_string(row + 1); }

// 12345 -> "123.45"
std::string cents_to_text(std::int64_t cents) {
  std::string s = std::to_string(cents / 100) + ".";
  const std::int64_t c = cents % 100;
  if (c < 10) s += '0';
  s += std::to_string(c);
  return s;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// ---- the crmkit side ----------------------------------------------------------------------------

// Creates the customers in an untimed phase. Returns nothing; throws on failure.
void create_customers(const std::string& path, std::size_t customers) {
  crmkit::StoreOptions setup;
  setup.currency = "USD";
  setup.synchronous = crmkit::SyncMode::off;  // the setup phase is not measured
  crmkit::Store store = crmkit::Store::open(path, setup);
  for (std::size_t c = 0; c < customers; ++c) {
    crmkit::Customer customer;
    customer.external_id = external_id(c);
    customer.name = "Bench Customer " + std::to_string(c + 1);
    store.create_customer(customer, {"bench", "bench"});
  }
  store.close();
}

// Runs in the child: returns the timed seconds of the import.
double run_crmkit(const std::string& path, std::size_t n, bool import_creates_customers) {
  const Rows rows = generate_rows(n);
  if (!import_creates_customers) create_customers(path, rows.customers);

  crmkit::PurchaseImport in;
  in.currency = "USD";
  in.source = "bench";
  in.create_missing_customers = import_creates_customers;
  in.customer_external_id.reserve(n);
  in.at.reserve(n);
  in.amount.reserve(n);
  in.item_count = rows.item_count;
  in.idempotency_key.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    in.customer_external_id.push_back(external_id(rows.customer[i]));
    in.at.push_back(crmkit::Timestamp::from_micros(rows.at_micros[i]));
    in.amount.push_back(cents_to_text(rows.amount_minor[i]));
    in.idempotency_key.push_back(idempotency_key(i));
  }

  crmkit::StoreOptions options;
  options.currency = "USD";
  options.synchronous = crmkit::SyncMode::full;
  crmkit::Store store = crmkit::Store::open(path, options);
  const auto t0 = std::chrono::steady_clock::now();
  const crmkit::ImportReport report = store.import_purchases(in, {"bench", "bench"});
  const double elapsed = seconds_since(t0);
  if (report.purchases_added != n) {
    throw std::runtime_error("crmkit added " + std::to_string(report.purchases_added) +
                             " purchases, expected " + std::to_string(n));
  }
  store.close();
  return elapsed;
}

// ---- the plain SQLite side ----------------------------------------------------------------------

struct Db {
  sqlite3* db = nullptr;
  explicit Db(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
      const std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
      sqlite3_close(db);
      throw std::runtime_error(path + ": " + msg);
    }
  }
  ~Db() { sqlite3_close(db); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string msg = err ? err : "?";
      sqlite3_free(err);
      throw std::runtime_error("sqlite: " + msg + " in: " + sql);
    }
  }
  sqlite3_stmt* prepare(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("sqlite: ") + sqlite3_errmsg(db) + " in: " + sql);
    }
    return st;
  }
  void check(int rc, const char* what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
      throw std::runtime_error(std::string("sqlite: ") + what + ": " + sqlite3_errmsg(db));
    }
  }
};

std::string quote_sql(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

// Where the value of each column of crmkit's events table comes from in the plain INSERT.
enum class Source { row_customer, row_at, row_amount, row_item_count, row_key, constant, skip };

struct Column {
  std::string name;
  Source source = Source::constant;
  int type = SQLITE_NULL;     // of the constant
  std::int64_t int_value = 0;
  std::string text_value;     // text or blob bytes
  double real_value = 0;
};

// Maps crmkit's events columns to the generated values. Columns the rows do not determine (the
// event type, source, actor, recording time, ...) take the value crmkit wrote for its first
// imported purchase, so both sides write rows of the same shape and size.
Source source_of(const std::string& column) {
  if (column == "id") return Source::skip;  // INTEGER PRIMARY KEY: assigned by SQLite
  if (column == "customer_id" || column == "customer") return Source::row_customer;
  if (column == "at" || column == "at_us" || column == "at_micros") return Source::row_at;
  if (column == "amount_minor" || column == "amount") return Source::row_amount;
  if (column == "item_count") return Source::row_item_count;
  if (column == "idempotency_key") return Source::row_key;
  return Source::constant;
}

// Runs in the child: returns the timed seconds of the plain insert transaction.
double run_plain(const std::string& path, const std::string& crmkit_path, std::size_t n) {
  const Rows rows = generate_rows(n);

  Db db(path);
  db.exec("PRAGMA journal_mode=WAL");
  db.exec("PRAGMA synchronous=FULL");
  db.exec("PRAGMA cache_size=-65536");
  db.exec("PRAGMA foreign_keys=OFF");

  // The schema crmkit wrote: tables first (customers before events), then their indexes.
  db.exec("ATTACH DATABASE " + quote_sql(crmkit_path) + " AS src");
  std::vector<std::string> ddl;
  {
    sqlite3_stmt* st = db.prepare(
        "SELECT sql FROM src.sqlite_master WHERE tbl_name IN ('customers','events') "
        "AND type IN ('table','index') AND sql IS NOT NULL "
        "ORDER BY type = 'index', tbl_name = 'events', rowid");
    while (sqlite3_step(st) == SQLITE_ROW) {
      ddl.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
    }
    sqlite3_finalize(st);
  }
  if (ddl.size() < 2) throw std::runtime_error("crmkit file has no customers/events tables");
  for (const std::string& sql : ddl) db.exec(sql);
  db.exec("INSERT INTO main.customers SELECT * FROM src.customers");

  // The events columns, and the constants from crmkit's first purchase row.
  std::vector<Column> columns;
  {
    sqlite3_stmt* st = db.prepare("SELECT * FROM src.events ORDER BY id LIMIT 1");
    if (sqlite3_step(st) != SQLITE_ROW) throw std::runtime_error("crmkit file has no events");
    for (int i = 0; i < sqlite3_column_count(st); ++i) {
      Column c;
      c.name = sqlite3_column_name(st, i);
      c.source = source_of(c.name);
      c.type = sqlite3_column_type(st, i);
      if (c.type == SQLITE_INTEGER) c.int_value = sqlite3_column_int64(st, i);
      if (c.type == SQLITE_FLOAT) c.real_value = sqlite3_column_double(st, i);
      if (c.type == SQLITE_TEXT || c.type == SQLITE_BLOB) {
        const void* p = c.type == SQLITE_TEXT ? static_cast<const void*>(sqlite3_column_text(st, i))
                                              : sqlite3_column_blob(st, i);
        c.text_value.assign(static_cast<const char*>(p),
                            static_cast<std::size_t>(sqlite3_column_bytes(st, i)));
      }
      columns.push_back(std::move(c));
    }
    sqlite3_finalize(st);
  }

  // Customer ids by external id, to turn the generated customer index into the stored id.
  std::vector<std::int64_t> customer_id(rows.customers, 0);
  {
    std::unordered_map<std::string, std::int64_t> by_external;
    sqlite3_stmt* st = db.prepare("SELECT id, external_id FROM main.customers");
    while (sqlite3_step(st) == SQLITE_ROW) {
      by_external.emplace(reinterpret_cast<const char*>(sqlite3_column_text(st, 1)),
                          sqlite3_column_int64(st, 0));
    }
    sqlite3_finalize(st);
    for (std::size_t c = 0; c < rows.customers; ++c) {
      const auto it = by_external.find(external_id(c));
      if (it == by_external.end()) throw std::runtime_error("customer missing: " + external_id(c));
      customer_id[c] = it->second;
    }
  }
  db.exec("DETACH DATABASE src");
  // The idempotency keys as text, made before the clock starts (the integers are ready too).
  std::vector<std::string> keys(n);
  for (std::size_t i = 0; i < n; ++i) keys[i] = idempotency_key(i);

  std::string names, params;
  std::vector<const Column*> bound;
  for (const Column& c : columns) {
    if (c.source == Source::skip) continue;
    names += (names.empty() ? "" : ", ") + c.name;
    params += params.empty() ? "?" : ", ?";
    bound.push_back(&c);
  }
  sqlite3_stmt* insert = db.prepare("INSERT INTO events (" + names + ") VALUES (" + params + ")");

  const auto t0 = std::chrono::steady_clock::now();
  db.exec("BEGIN IMMEDIATE");
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < bound.size(); ++k) {
      const Column& c = *bound[k];
      const int p = static_cast<int>(k) + 1;
      switch (c.source) {
        case Source::row_customer:
          sqlite3_bind_int64(insert, p, customer_id[rows.customer[i]]);
          break;
        case Source::row_at: sqlite3_bind_int64(insert, p, rows.at_micros[i]); break;
        case Source::row_amount: sqlite3_bind_int64(insert, p, rows.amount_minor[i]); break;
        case Source::row_item_count: sqlite3_bind_int(insert, p, rows.item_count[i]); break;
        case Source::row_key:
          sqlite3_bind_text(insert, p, keys[i].data(), static_cast<int>(keys[i].size()),
                            SQLITE_STATIC);
          break;
        case Source::constant:
          switch (c.type) {
            case SQLITE_INTEGER: sqlite3_bind_int64(insert, p, c.int_value); break;
            case SQLITE_FLOAT: sqlite3_bind_double(insert, p, c.real_value); break;
            case SQLITE_TEXT:
              sqlite3_bind_text(insert, p, c.text_value.data(),
                                static_cast<int>(c.text_value.size()), SQLITE_STATIC);
              break;
            case SQLITE_BLOB:
              sqlite3_bind_blob(insert, p, c.text_value.data(),
                                static_cast<int>(c.text_value.size()), SQLITE_STATIC);
              break;
            default: sqlite3_bind_null(insert, p); break;
          }
          break;
        case Source::skip: break;
      }
    }
    db.check(sqlite3_step(insert), "insert");
    sqlite3_reset(insert);
  }
  db.exec("COMMIT");
  const double elapsed = seconds_since(t0);
  sqlite3_finalize(insert);
  return elapsed;
}

// ---- running each side in a child ---------------------------------------------------------------

struct RunResult {
  double seconds = 0;
  double peak_rss_mib = 0;
};

// Forks, runs `body` in the child (which writes its timed seconds to a pipe), and waits for it.
// The peak RSS comes from wait4's rusage of that child only.
template <class Body>
RunResult in_child(const char* what, Body body) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    close(fds[0]);
    int code = 0;
    double seconds = -1;
    try {
      seconds = body();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bench_ingest: %s: %s\n", what, e.what());
      code = 1;
    }
    if (write(fds[1], &seconds, sizeof seconds) != static_cast<ssize_t>(sizeof seconds)) code = 1;
    close(fds[1]);
    std::fflush(stderr);
    _exit(code);
  }
  close(fds[1]);
  double seconds = -1;
  const ssize_t got = read(fds[0], &seconds, sizeof seconds);
  close(fds[0]);
  int status = 0;
  struct rusage usage {};
  if (wait4(pid, &status, 0, &usage) != pid) throw std::runtime_error("wait4 failed");
  if (got != static_cast<ssize_t>(sizeof seconds) || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0 || seconds <= 0) {
    throw std::runtime_error(std::string(what) + " run failed");
  }
  return {seconds, static_cast<double>(usage.ru_maxrss) / 1024.0};  // ru_maxrss is in KiB
}

std::string with_commas(std::uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

bool parse_size(const char* text, std::size_t& out) {
  const char* end = text + std::strlen(text);
  std::size_t value = 0;
  const auto [p, ec] = std::from_chars(text, end, value);
  if (ec != std::errc() || p != end || value == 0) return false;
  out = value;
  return true;
}

int usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--rows N] [--runs R] [--dir DIR] [--import-creates-customers] "
               "[--keep]\n",
               argv0);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    std::size_t value = 0;
    if (arg == "--rows" && i + 1 < argc && parse_size(argv[i + 1], value)) {
      opt.rows = value;
      ++i;
    } else if (arg == "--runs" && i + 1 < argc && parse_size(argv[i + 1], value) && value <= 100) {
      opt.runs = static_cast<int>(value);
      ++i;
    } else if (arg == "--dir" && i + 1 < argc) {
      opt.dir = argv[++i];
    } else if (arg == "--import-creates-customers") {
      opt.import_creates_customers = true;
    } else if (arg == "--keep") {
      opt.keep = true;
    } else {
      return usage(argv[0]);
    }
  }

  try {
    fs::path dir;
    bool made_dir = false;
    if (opt.dir.empty()) {
      const char* tmp = std::getenv("TMPDIR");
      std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/crmkit-bench-XXXXXX";
      if (mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed: " + templ);
      dir = templ;
      made_dir = true;
    } else {
      dir = opt.dir;
      fs::create_directories(dir);
    }

    double best_crmkit = 0, best_plain = 0, rss_crmkit = 0, rss_plain = 0;
    for (int run = 1; run <= opt.runs; ++run) {
      const std::string crmkit_path = (dir / ("crmkit-" + std::to_string(run) + ".db")).string();
      const std::string plain_path = (dir / ("plain-" + std::to_string(run) + ".db")).string();
      for (const std::string& p : {crmkit_path, plain_path}) {
        for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(p + suffix);
      }
      const RunResult c = in_child("crmkit", [&] {
        return run_crmkit(crmkit_path, opt.rows, opt.import_creates_customers);
      });
      const RunResult p = in_child("sqlite", [&] {
        return run_plain(plain_path, crmkit_path, opt.rows);
      });
      std::fprintf(stderr, "run %d: crmkit %.3f s, sqlite %.3f s\n", run, c.seconds, p.seconds);
      if (run == 1 || c.seconds < best_crmkit) best_crmkit = c.seconds;
      if (run == 1 || p.seconds < best_plain) best_plain = p.seconds;
      rss_crmkit = std::max(rss_crmkit, c.peak_rss_mib);
      rss_plain = std::max(rss_plain, p.peak_rss_mib);
      if (!opt.keep) {
        for (const std::string& path : {crmkit_path, plain_path}) {
          for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path + suffix);
        }
      }
    }
    if (made_dir && !opt.keep) fs::remove(dir);

    const double rows = static_cast<double>(opt.rows);
    const double crmkit_rate = rows / best_crmkit;
    const double plain_rate = rows / best_plain;
    std::printf("rows:               %s (%s customers, %s; best of %d runs)\n",
                with_commas(opt.rows).c_str(),
                with_commas(std::max<std::size_t>(1, opt.rows / 10)).c_str(),
                opt.import_creates_customers ? "created by the timed import"
                                             : "created before the timed import",
                opt.runs);
    std::printf("crmkit rate:        %s rows/s\n",
                with_commas(static_cast<std::uint64_t>(crmkit_rate)).c_str());
    std::printf("sqlite rate:        %s rows/s\n",
                with_commas(static_cast<std::uint64_t>(plain_rate)).c_str());
    std::printf("ratio crmkit/sqlite: %.2f (above 1 = crmkit faster)\n", crmkit_rate / plain_rate);
    std::printf("crmkit peak RSS:    %.1f MiB\n", rss_crmkit);
    std::printf("sqlite peak RSS:    %.1f MiB\n", rss_plain);
    if (opt.keep) std::printf("files kept in:      %s\n", dir.string().c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_ingest: %s\n", e.what());
    return 1;
  }
}
