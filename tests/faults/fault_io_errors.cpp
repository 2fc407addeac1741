// Fault test: I/O errors and disk full (issue 9, item 1).
//
// Part 1, injected errors. This program defines write, pwrite, pwrite64, writev, fsync and
// fdatasync itself (exported: the target has ENABLE_EXPORTS), so the calls SQLite's unix VFS
// and the C++ library's file streams make come here first. When armed, the k-th call on a
// regular file fails with EIO or ENOSPC (errno, as the kernel would report it), once or from
// then on (persistently); otherwise it goes to the kernel (syscall(2)). For each store call of
// a small workload (append_event, append_events, import_purchases, create_customer,
// declare_field, erase_customer, export_jsonl, import_jsonl into an empty store), a run
// without faults counts its write and sync calls; then every k of each, with each errno, once
// and persistently, is a fault point, run on a fresh copy of the same store. Each must end:
//  - with crmkit::Error{storage} (never another code or exception, never a crash), the store's
//    export unchanged in the same process, and the same call repeated once the fault has passed
//    then succeeding (for "once"), or failing with Error{storage} again (persistent);
//  - or succeed, if the failed I/O was not needed (a checkpoint after the commit);
// and after closing (with the fault still on, for persistent), PRAGMA integrity_check ok and the
// reopened store either identical to before the call (export bytes equal) or holding the whole
// call (a failed fsync after the commit record reached the WAL: the call reported failure, but
// its transaction is complete in the log and recovery keeps it, as SQLite documents; counted).
// export_jsonl must leave nothing at its path (nor its temporary file) when it fails.
// Each failed call is also checked as if the process had been killed right after it: the
// database and WAL files as they are then, copied aside and reopened, hold the store as before
// the call or with the whole call (a failed fsync of the commit: the commit record is already in
// the WAL, and recovery keeps it; counted), never part of it.
// Store::open creating a new store gets the same faults: Error{storage}, and the next open
// creates the store as if nothing had happened.
//
// Part 2, disk full: a 2 MB tmpfs is mounted (we run as root); a filler file takes part of it and
// the store the rest, in batches, until a call fails: Error{storage}, every acknowledged batch
// stored after reopening, the failed one absent, export_jsonl to the full disk fails leaving
// nothing, integrity ok; after the filler is removed the store takes writes again. If mount is
// refused (no privilege), RLIMIT_FSIZE stands in for the full disk, and the line says so.
#include <errno.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <set>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "faults_common.hpp"

// ---- the injector ---------------------------------------------------------------------------

namespace {

struct Injector {
  std::atomic<bool> armed{false};
  bool on_sync = false;     // false: write calls, true: fsync / fdatasync
  int err = EIO;
  long k = 0;               // the call that fails (1-based; 0 = count only)
  bool persistent = false;
  long writes = 0, syncs = 0, fired = 0;
  long dir_syncs = 0;       // fsyncs of a directory while armed (counted, never failed)
};
Injector g_inj;

bool regular_file(int fd) {
  struct stat st;
  return fd > 2 && ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

// True if this call must fail (errno set).
bool inject(int fd, bool is_sync) {
  if (!g_inj.armed.load(std::memory_order_relaxed) || !regular_file(fd)) return false;
  const long n = is_sync ? ++g_inj.syncs : ++g_inj.writes;
  if (g_inj.k == 0 || is_sync != g_inj.on_sync) return false;
  if (n == g_inj.k || (g_inj.persistent && n > g_inj.k)) {
    ++g_inj.fired;
    errno = g_inj.err;
    return true;
  }
  return false;
}

}  // namespace

extern "C" {
ssize_t write(int fd, const void* buf, size_t n) {
  if (inject(fd, false)) return -1;
  return ::syscall(SYS_write, fd, buf, n);
}
ssize_t pwrite(int fd, const void* buf, size_t n, off_t off) {
  if (inject(fd, false)) return -1;
  return ::syscall(SYS_pwrite64, fd, buf, n, off);
}
ssize_t pwrite64(int fd, const void* buf, size_t n, off64_t off) {
  if (inject(fd, false)) return -1;
  return ::syscall(SYS_pwrite64, fd, buf, n, off);
}
ssize_t writev(int fd, const struct iovec* iov, int count) {
  if (inject(fd, false)) return -1;
  return ::syscall(SYS_writev, fd, iov, count);
}
int fsync(int fd) {
  struct stat st;
  if (g_inj.armed.load(std::memory_order_relaxed) && fd > 2 && ::fstat(fd, &st) == 0 &&
      S_ISDIR(st.st_mode))
    ++g_inj.dir_syncs;
  if (inject(fd, true)) return -1;
  return static_cast<int>(::syscall(SYS_fsync, fd));
}
int fdatasync(int fd) {
  if (inject(fd, true)) return -1;
  return static_cast<int>(::syscall(SYS_fdatasync, fd));
}
}

namespace {

using crmkit::ErrorCode;
using crmkit::Store;
using faults::fail;

// Everything a call may change, without the times (which differ between runs): counts, money,
// customers, the events of the fault workload, fields and the audit log's shape.
std::string fingerprint(Store& s) {
  std::ostringstream o;
  const auto sum = s.summary();
  o << "c" << sum.customers << " d" << sum.deleted_customers << " e" << sum.events << " p"
    << sum.purchases << " r" << sum.revenue.to_string() << "\n";
  const auto cc = s.customer_columns();
  for (std::size_t i = 0; i < cc.size(); ++i)
    o << cc.customer_id[i] << ":" << cc.external_id[i] << ":" << int(cc.deleted[i])
      << int(cc.erased[i]) << " ";
  o << "\n";
  const auto ev = s.events_with_source("faults");
  for (std::size_t i = 0; i < ev.event_id.size(); ++i)
    o << ev.event_id[i] << "=" << ev.idempotency_key[i] << " ";
  o << "\n";
  for (const auto& f : s.fields()) o << f.name << " ";
  o << "\n";
  for (const auto& a : s.audit_log())
    o << a.id << a.entity << a.entity_id << a.action << a.field << " ";
  return o.str();
}

std::string export_text(Store& s) {
  std::ostringstream o;
  s.export_jsonl(o);
  return o.str();
}

crmkit::StoreOptions opts() {
  crmkit::StoreOptions o;
  o.busy_timeout_ms = 1000;
  return o;
}

// Runs `call` with the injector armed as given; returns whether it threw. Anything but
// Error{storage} sets `bad` and is reported under `label`.
template <class F>
bool run_faulted(const std::string& label, bool on_sync, int err, long k, bool persistent,
                 bool& bad, F&& call) {
  g_inj.on_sync = on_sync;
  g_inj.err = err;
  g_inj.k = k;
  g_inj.persistent = persistent;
  g_inj.writes = g_inj.syncs = g_inj.fired = 0;
  g_inj.armed = true;
  bool threw = false;
  try {
    call();
  } catch (const crmkit::Error& e) {
    threw = true;
    if (e.code() != ErrorCode::storage) {
      bad = true;
      fail(label + ": Error code " + std::to_string(int(e.code())) + ", not storage: " + e.what());
    }
  } catch (const std::exception& e) {
    threw = true;
    bad = true;
    fail(label + ": not a crmkit::Error: " + e.what());
  }
  return threw;
}

struct Op {
  std::string name;
  std::function<void(Store&)> run;
  bool is_export = false;
  bool on_empty = false;  // runs on an empty store (import_jsonl), not on the base store
};

std::vector<Op> workload(const std::string& export_path, const std::string& import_path) {
  std::vector<Op> ops;
  ops.push_back({"append_event", [](Store& s) { s.append_event(faults::purchase(1, "io-one", 1)); }});
  ops.push_back({"append_events(10)", [](Store& s) {
                   std::vector<crmkit::Event> b;
                   for (int i = 0; i < 10; ++i)
                     b.push_back(faults::purchase(2, "io-batch-" + std::to_string(i), i));
                   s.append_events(b);
                 }});
  ops.push_back({"import_purchases(20 rows, 5 new customers)", [](Store& s) {
                   crmkit::PurchaseImport rows;
                   rows.currency = "USD";
                   rows.source = "faults";
                   for (int i = 0; i < 20; ++i) {
                     rows.customer_external_id.push_back("new" + std::to_string(i % 5));
                     rows.at.push_back(crmkit::Timestamp::from_micros(1700000000000000LL + i));
                     rows.amount.push_back(std::to_string(10 + i) + ".25");
                     rows.idempotency_key.push_back("io-import-" + std::to_string(i));
                   }
                   s.import_purchases(rows);
                 }});
  ops.push_back({"create_customer", [](Store& s) {
                   crmkit::Customer c;
                   c.external_id = "io-new";
                   c.name = "New Customer";
                   s.create_customer(c);
                 }});
  ops.push_back({"declare_field", [](Store& s) {
                   crmkit::FieldDef f;
                   f.name = "io_tier";
                   f.type = crmkit::FieldType::text;
                   s.declare_field(f);
                 }});
  ops.push_back({"erase_customer", [](Store& s) { s.erase_customer(3); }});
  ops.push_back({"export_jsonl(path)", [export_path](Store& s) { s.export_jsonl(export_path); }, true});
  ops.push_back({"import_jsonl(base export) into an empty store",
                 [import_path](Store& s) { s.import_jsonl(import_path); }, false, true});
  return ops;
}

// The base store: 4 customers (one with an e-mail), 60 purchases.
void make_base(const std::string& path) {
  crmkit::StoreOptions o;
  o.currency = "USD";
  auto s = Store::open(path, o);
  for (int w = 0; w < 4; ++w) {
    crmkit::Customer c;
    c.external_id = "cust" + std::to_string(w);
    c.name = "Customer " + std::to_string(w);
    if (w == 2) {
      crmkit::ContactPoint cp;
      cp.kind = crmkit::ContactKind::email;
      cp.value = "c2@example.com";
      c.contacts.push_back(cp);
    }
    s.create_customer(c);
  }
  std::vector<crmkit::Event> b;
  for (int i = 0; i < 60; ++i) b.push_back(faults::purchase(1 + i % 4, "base-" + std::to_string(i), i));
  s.append_events(b);
}

void fresh_copy(const std::string& base, const std::string& work) {
  namespace fs = std::filesystem;
  fs::remove(work + "-wal");
  fs::remove(work + "-shm");
  fs::copy_file(base, work, fs::copy_options::overwrite_existing);
}

struct Tally {
  std::size_t points = 0, failed_unchanged = 0, failed_landed = 0, succeeded = 0,
              export_failed_clean = 0, retried_ok = 0, bad = 0, crash_before = 0,
              crash_landed = 0;
};

// One fault point. Returns nothing; counts into `t` and reports failures.
void run_point(const Op& op, const std::string& base, const std::string& work,
               const std::string& export_path, bool on_sync, int err, long k, bool persistent,
               const std::string& before_fp_expected, const std::string& after_fp, Tally& t) {
  namespace fs = std::filesystem;
  const std::string label = op.name + (on_sync ? " fsync#" : " write#") + std::to_string(k) +
                            (err == EIO ? " EIO" : " ENOSPC") + (persistent ? " persistent" : " once");
  ++t.points;
  fresh_copy(base, work);
  fs::remove(export_path);
  std::optional<Store> s(Store::open(work, opts()));
  const std::string before_export = export_text(*s);
  const std::string before_fp = fingerprint(*s);
  if (before_fp != before_fp_expected) fail(label + ": base store differs");
  bool bad = false;
  const bool threw = run_faulted(label, on_sync, err, k, persistent, bad, [&] { op.run(*s); });
  if (!persistent) g_inj.armed = false;
  if (g_inj.fired == 0) {
    bad = true;
    fail(label + ": the fault was never reached");
  }
  // A crash right after the failed call: the files as they are now (the database and its WAL,
  // as a kill -9 would leave them) are copied aside and checked below.
  const std::string crash = work + ".crash";
  bool crash_copy = false;
  if (threw && !bad && !op.is_export) {
    g_inj.armed = false;
    fs::remove(crash);
    fs::remove(crash + "-wal");
    fs::copy_file(work, crash);
    if (fs::exists(work + "-wal")) fs::copy_file(work + "-wal", crash + "-wal");
    crash_copy = true;
    g_inj.armed = persistent;
  }
  if (threw && !bad) {
    if (op.is_export) {
      if (fs::exists(export_path) || fs::exists(export_path + ".tmp")) {
        bad = true;
        fail(label + ": a failed export left " +
             (fs::exists(export_path) ? export_path : export_path + ".tmp"));
      } else {
        ++t.export_failed_clean;
      }
    }
    // In this process, the failed call changed nothing. (With a persistent fault the read may
    // fail too, with Error{storage}: fine.)
    try {
      if (export_text(*s) != before_export) {
        bad = true;
        fail(label + ": the failed call changed the store (same process)");
      }
    } catch (const crmkit::Error& e) {
      if (!persistent || e.code() != ErrorCode::storage) {
        bad = true;
        fail(label + ": read after the failed call: " + e.what());
      }
    } catch (const std::exception& e) {
      bad = true;
      fail(label + ": read after the failed call: not a crmkit::Error: " + e.what());
    }
    // The same call again: succeeds once the fault has passed, fails cleanly while it lasts.
    // Not for a persistent ENOSPC on fsync: there the store is closed right after the failure,
    // so that a commit record the failed fsync left in the WAL is still there at reopening
    // (a repeat would rewrite the WAL header and void it).
    if (!(persistent && on_sync && err == ENOSPC)) try {
      op.run(*s);
      if (persistent) {
        bad = true;
        fail(label + ": the repeated call succeeded while the fault lasts");
      } else {
        ++t.retried_ok;
      }
    } catch (const crmkit::Error& e) {
      if (!persistent || e.code() != ErrorCode::storage) {
        bad = true;
        fail(label + ": the repeated call threw: " + e.what());
      }
    } catch (const std::exception& e) {
      bad = true;
      fail(label + ": the repeated call threw a non-Error: " + e.what());
    }
  }
  // Close (with a persistent fault still on: the close must not crash or throw).
  try {
    s.reset();
  } catch (...) {
    bad = true;
    fail(label + ": closing the store threw");
  }
  g_inj.armed = false;
  const std::string ic = faults::integrity_check(work);
  if (ic != "ok") {
    bad = true;
    fail(label + ": integrity_check: " + ic);
  }
  try {
    auto r = Store::open(work, opts());
    const std::string fp = fingerprint(r);
    const bool expect_after = !threw || !persistent;  // succeeded, or repeated successfully
    bool landed = false;
    if (op.is_export) {
      if (fp != before_fp) {
        bad = true;
        fail(label + ": export changed the store");
      }
      if (expect_after && !fs::exists(export_path)) {
        bad = true;
        fail(label + ": the successful export left no file");
      }
    } else if (fp == after_fp) {
      if (threw && persistent) landed = true;
    } else if (fp == before_fp) {
      if (expect_after) {
        bad = true;
        fail(label + ": the successful call is not in the reopened store");
      }
      if (export_text(r) != before_export) {
        bad = true;
        fail(label + ": reopened store's export differs from before the failed call");
      }
    } else {
      bad = true;
      fail(label + ": HALF-WRITTEN: the reopened store is neither before nor after the call\n" +
           "before: " + before_fp + "\nafter:  " + after_fp + "\nfound:  " + fp);
    }
    if (!threw && !bad) ++t.succeeded;
    if (threw && !bad) ++(landed ? t.failed_landed : t.failed_unchanged);
  } catch (const std::exception& e) {
    bad = true;
    fail(label + ": reopen: " + e.what());
  }
  if (crash_copy) {
    const std::string cic = faults::integrity_check(crash);
    if (cic != "ok") {
      bad = true;
      fail(label + ": crash after the failed call: integrity_check: " + cic);
    }
    try {
      auto r = Store::open(crash, opts());
      const std::string fp = fingerprint(r);
      if (fp == before_fp) {
        ++t.crash_before;
      } else if (fp == after_fp) {
        ++t.crash_landed;
      } else {
        bad = true;
        fail(label + ": crash after the failed call: HALF-WRITTEN\nfound: " + fp);
      }
    } catch (const std::exception& e) {
      bad = true;
      fail(label + ": crash after the failed call: reopen: " + e.what());
    }
    fs::remove(crash);
    fs::remove(crash + "-wal");
    fs::remove(crash + "-shm");
  }
  if (bad) ++t.bad;
}

// ---- disk full --------------------------------------------------------------------------------

struct DiskFull {
  std::string how;
  std::size_t batches_acked = 0, events_acked = 0, lost = 0, partial = 0;
  bool failed_with_storage = false, export_clean = false, integrity_ok = false,
       writes_after_freeing = false;
  std::string first_error;
};

// Fills the store at dir/store.db in batches of 20 until a call fails; checks as described at the
// top. `make_room` frees space (removes the filler, or raises RLIMIT_FSIZE).
DiskFull disk_full(const std::string& dir, const std::function<void()>& make_room,
                   const std::function<void()>& squeeze) {
  namespace fs = std::filesystem;
  DiskFull out;
  const std::string path = dir + "/store.db";
  std::vector<std::vector<std::string>> acked;
  std::vector<std::string> failed_keys;
  {
    crmkit::StoreOptions o;
    o.currency = "USD";
    std::optional<Store> s;
    try {
      s.emplace(Store::open(path, o));
      crmkit::Customer c;
      c.external_id = "cust0";
      c.name = "Customer";
      s->create_customer(c);
    } catch (const std::exception& e) {
      fail(std::string("disk full: cannot create the store: ") + e.what());
      return out;
    }
    const std::string pad(200, 'x');  // order ids are at most 256 bytes
    for (int b = 0; b < 100000; ++b) {
      std::vector<crmkit::Event> batch;
      std::vector<std::string> keys;
      for (int i = 0; i < 20; ++i) {
        keys.push_back("full-" + std::to_string(b) + "-" + std::to_string(i));
        auto e = faults::purchase(1, keys.back(), b);
        std::get<crmkit::Purchase>(e.payload).order_id = pad + keys.back();
        batch.push_back(e);
      }
      try {
        s->append_events(batch);
        acked.push_back(keys);
      } catch (const crmkit::Error& e) {
        out.failed_with_storage = e.code() == ErrorCode::storage;
        out.first_error = e.what();
        if (!out.failed_with_storage) fail(std::string("disk full: wrong Error: ") + e.what());
        failed_keys = keys;
        break;
      } catch (const std::exception& e) {
        fail(std::string("disk full: not a crmkit::Error: ") + e.what());
        break;
      }
    }
    // Another write fails the same way; the export to the full disk leaves nothing.
    // Single events may still fit in what is left; the first that does not fails the same way.
    for (int i = 0; i < 1000; ++i) {
      const std::string key = "full-single-" + std::to_string(i);
      try {
        s->append_event(faults::purchase(1, key, i));
        acked.push_back({key});
      } catch (const crmkit::Error& e) {
        if (e.code() != ErrorCode::storage) fail(std::string("disk full: wrong Error: ") + e.what());
        failed_keys.push_back(key);
        break;
      }
    }
    const std::string xp = dir + "/export.jsonl";
    squeeze();
    try {
      s->export_jsonl(xp);
      fail("disk full: export_jsonl succeeded on the full disk");
    } catch (const crmkit::Error& e) {
      if (e.code() != ErrorCode::storage) fail(std::string("disk full: export: wrong Error: ") + e.what());
      out.export_clean = !fs::exists(xp) && !fs::exists(xp + ".tmp");
      if (!out.export_clean) fail("disk full: the failed export left a file behind");
    }
  }
  out.integrity_ok = faults::integrity_check(path) == "ok";
  if (!out.integrity_ok) fail("disk full: integrity_check: " + faults::integrity_check(path));
  try {
    auto s = Store::open(path, opts());
    const auto ev = s.events_with_source("faults");
    std::set<std::string> present(ev.idempotency_key.begin(), ev.idempotency_key.end());
    for (const auto& keys : acked) {
      ++out.batches_acked;
      out.events_acked += keys.size();
      for (const auto& k : keys)
        if (!present.count(k)) ++out.lost;
    }
    std::size_t here = 0;
    for (const auto& k : failed_keys) here += present.count(k);
    if (here != 0) ++out.partial;  // the failed batch must be absent
    if (present.size() != out.events_acked) fail("disk full: stored events != acknowledged");
    make_room();
    s.append_event(faults::purchase(1, "full-after", 0));
    s.export_jsonl(dir + "/export.jsonl");
    out.writes_after_freeing = fs::exists(dir + "/export.jsonl");
  } catch (const std::exception& e) {
    fail(std::string("disk full: after reopening: ") + e.what());
  }
  if (out.lost) fail("disk full: acknowledged events lost");
  if (out.partial) fail("disk full: the failed batch is partly stored");
  return out;
}

}  // namespace

int run_injected();
int run_disk_full();

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "inject") return run_injected();
  if (mode == "diskfull") return run_disk_full();
  std::fprintf(stderr, "usage: fault_io_errors inject|diskfull\n");
  return 2;
}

int run_injected() {
  using namespace faults;
  namespace fs = std::filesystem;
  const auto t0 = std::chrono::steady_clock::now();
  TempDir tmp("io");
  const std::string base = tmp.path("base.db"), work = tmp.path("work.db"),
                    export_path = tmp.path("out.jsonl");
  make_base(base);
  const std::string empty = tmp.path("empty.db"), import_path = tmp.path("base.jsonl");
  {
    crmkit::StoreOptions o;
    o.currency = "USD";
    Store::open(empty, o);
    Store::open(base, opts()).export_jsonl(import_path);
  }
  const auto ops = workload(export_path, import_path);

  Tally t;
  std::ostringstream per_op;
  for (const auto& op : ops) {
    // Calibration: the call's write and sync counts, and the store after it.
    const std::string& op_base = op.on_empty ? empty : base;
    fresh_copy(op_base, work);
    fs::remove(export_path);
    std::string before_fp, after_fp;
    long writes = 0, syncs = 0;
    {
      auto s = Store::open(work, opts());
      (void)export_text(s);
      before_fp = fingerprint(s);
      g_inj.k = 0;
      g_inj.writes = g_inj.syncs = g_inj.fired = g_inj.dir_syncs = 0;
      g_inj.armed = true;
      op.run(s);
      g_inj.armed = false;
      writes = g_inj.writes;
      syncs = g_inj.syncs;
      after_fp = fingerprint(s);
    }
    // export_jsonl(path) must sync the file before renaming it into place and the directory
    // after (else a power cut can leave an empty or partial export under the final name).
    if (op.name == "export_jsonl(path)" && (syncs < 1 || g_inj.dir_syncs < 1))
      fail("export_jsonl(path): " + std::to_string(syncs) + " file fsyncs and " +
           std::to_string(g_inj.dir_syncs) + " directory fsyncs; it must sync both");
    std::size_t points_before = t.points;
    for (bool on_sync : {false, true}) {
      const long n = on_sync ? syncs : writes;
      for (long k = 1; k <= n; ++k)
        for (int err : {EIO, ENOSPC})
          for (bool persistent : {false, true})
            run_point(op, op_base, work, export_path, on_sync, err, k, persistent, before_fp,
                      after_fp, t);
    }
    per_op << (per_op.tellp() > 0 ? ", " : "") << op.name << " " << writes << "w/" << syncs
           << "s=" << (t.points - points_before);
  }
  // Creating a store: a fault while Store::open creates the file must fail with Error{storage}
  // and leave nothing that keeps the next open from creating the store.
  {
    const std::string fresh = tmp.path("fresh.db");
    auto clear = [&] {
      for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(fresh + suffix);
    };
    crmkit::StoreOptions o;
    o.currency = "USD";
    clear();
    g_inj.k = 0;
    g_inj.writes = g_inj.syncs = g_inj.fired = 0;
    g_inj.armed = true;
    std::string fresh_fp;
    {
      auto s = Store::open(fresh, o);
      g_inj.armed = false;
      fresh_fp = fingerprint(s);
    }
    const long writes = g_inj.writes, syncs = g_inj.syncs;
    const std::size_t points_before = t.points;
    for (bool on_sync : {false, true})
      for (long k = 1; k <= (on_sync ? syncs : writes); ++k)
        for (int err : {EIO, ENOSPC})
          for (bool persistent : {false, true}) {
            const std::string label = std::string("create store ") + (on_sync ? "fsync#" : "write#") +
                                      std::to_string(k) + (err == EIO ? " EIO" : " ENOSPC") +
                                      (persistent ? " persistent" : " once");
            ++t.points;
            clear();
            bool bad = false;
            const bool threw = run_faulted(label, on_sync, err, k, persistent, bad,
                                           [&] { auto s = Store::open(fresh, o); });
            g_inj.armed = false;
            try {
              auto s = Store::open(fresh, o);
              if (fingerprint(s) != fresh_fp) {
                bad = true;
                fail(label + ": the store created after the failure differs from a new one");
              }
            } catch (const std::exception& e) {
              bad = true;
              fail(label + ": opening again after the failed creation: " + e.what());
            }
            const std::string ic = faults::integrity_check(fresh);
            if (ic != "ok") {
              bad = true;
              fail(label + ": integrity_check: " + ic);
            }
            if (bad) ++t.bad;
            else if (threw) ++t.failed_unchanged;
            else ++t.succeeded;
          }
    per_op << ", Store::open creating a store " << writes << "w/" << syncs
           << "s=" << (t.points - points_before);
  }

  std::printf(
      "FAULTS: I/O errors: %zu fault points (EIO and ENOSPC on the k-th write and fsync, once and "
      "persistently; %s): %zu failed with Error{storage} and left the store as before, %zu "
      "succeeded (the failed I/O was a checkpoint after the commit or at close), %zu failed "
      "exports left nothing, %zu repeats succeeded after the fault; a crash right after a failed call left the store as before %zu times and "
      "with the whole call %zu times; %zu bad outcomes; integrity ok after each; %.1f s\n",
      t.points, per_op.str().c_str(), t.failed_unchanged + t.failed_landed, t.succeeded,
      t.export_failed_clean, t.retried_ok, t.crash_before, t.crash_landed, t.bad,
      seconds_since(t0));
  if (failures() != 0) {
    std::fprintf(stderr, "%d check(s) failed\n", failures());
    return 1;
  }
  return 0;
}

int run_disk_full() {
  using namespace faults;
  namespace fs = std::filesystem;
  const auto t0 = std::chrono::steady_clock::now();
  TempDir tmp("diskfull");
  DiskFull df;
  const std::string mnt = tmp.path("mnt");
  fs::create_directories(mnt);
  // CRMKIT_FAULTS_NO_MOUNT=1 takes the fallback even where mount works (to test it).
  const bool no_mount = std::getenv("CRMKIT_FAULTS_NO_MOUNT") != nullptr;
  if (no_mount) errno = EPERM;
  if (!no_mount && ::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=2m") == 0) {
    df.how = "tmpfs of 2 MB";
    {
      // A filler takes 512 KB, freed at the end to show the store takes writes again.
      std::string filler(512 * 1024, 'f');
      FILE* f = std::fopen((mnt + "/filler").c_str(), "wb");
      std::fwrite(filler.data(), 1, filler.size(), f);
      std::fclose(f);
    }
    df = disk_full(mnt, [&] { fs::remove(mnt + "/filler"); }, [] {});
    df.how = "tmpfs of 2 MB";
    if (::umount(mnt.c_str()) != 0) fail("umount failed");
  } else {
    // No mount here: a file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored: writes past it fail
    // with EFBIG) stands in for the full disk, in a child process.
    const int mount_errno = errno;
    std::fflush(nullptr);
    int pfd[2];
    if (::pipe(pfd) != 0) return 2;
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(pfd[0]);
      ::signal(SIGXFSZ, SIG_IGN);
      rlimit rl;
      ::getrlimit(RLIMIT_FSIZE, &rl);
      const rlim_t old = rl.rlim_cur;
      rl.rlim_cur = 1536 * 1024;
      ::setrlimit(RLIMIT_FSIZE, &rl);
      // The limit is per file: before the export it drops to 64 KB, less than the export.
      DiskFull r = disk_full(
          mnt,
          [&] {
            rlimit up = rl;
            up.rlim_cur = old;
            ::setrlimit(RLIMIT_FSIZE, &up);
          },
          [&] {
            rlimit small = rl;
            small.rlim_cur = 64 * 1024;
            ::setrlimit(RLIMIT_FSIZE, &small);
          });
      std::ostringstream o;
      o << r.batches_acked << " " << r.events_acked << " " << r.lost << " " << r.partial << " "
        << r.failed_with_storage << " " << r.export_clean << " " << r.integrity_ok << " "
        << r.writes_after_freeing << " " << failures() << " " << r.first_error;
      const std::string line = o.str();
      (void)!::write(pfd[1], line.data(), line.size());
      ::_exit(0);
    }
    ::close(pfd[1]);
    std::string line;
    char buf[256];
    ssize_t n;
    while ((n = ::read(pfd[0], buf, sizeof buf)) > 0) line.append(buf, static_cast<std::size_t>(n));
    ::close(pfd[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::istringstream in(line);
    int child_failures = 1;
    in >> df.batches_acked >> df.events_acked >> df.lost >> df.partial >> df.failed_with_storage >>
        df.export_clean >> df.integrity_ok >> df.writes_after_freeing >> child_failures;
    std::getline(in >> std::ws, df.first_error);
    if (child_failures != 0) fail("disk full (RLIMIT_FSIZE) child reported failures");
    df.how = std::string("RLIMIT_FSIZE 1.5 MB (mount refused: ") + std::strerror(mount_errno) + ")";
  }

  std::printf(
      "FAULTS: disk full (%s): %zu calls (%zu events) acknowledged before Error{storage} (\"%s\"), "
      "%zu lost, %zu partial, failed export left %s, integrity %s, writes again after freeing: %s; "
      "%.1f s\n",
      df.how.c_str(), df.batches_acked, df.events_acked, df.first_error.c_str(), df.lost, df.partial,
      df.export_clean ? "nothing" : "A FILE", df.integrity_ok ? "ok" : "FAILED",
      df.writes_after_freeing ? "yes" : "NO", seconds_since(t0));
  if (!df.failed_with_storage) fail("disk full: the store never failed with Error{storage}");
  if (!df.writes_after_freeing) fail("disk full: no write after freeing space");
  if (failures() != 0) {
    std::fprintf(stderr, "%d check(s) failed\n", failures());
    return 1;
  }
  return 0;
}
