// Fault test: kill -9 loop (issue 9, item 1).
//
// One store file (synchronous=FULL). Each cycle forks W writer processes (1, then 4 in a second
// run) that open the store, first repeat the call they were making when the previous cycle
// killed them (same idempotency keys), then append single events (append_event) and batches
// (append_events, import_purchases) with idempotency keys, sending over a pipe the intent of
// each call before it and its acknowledgement (the returned ids) after it returns. The parent
// kills each writer with SIGKILL after a random delay, reads what was acknowledged, runs
// PRAGMA integrity_check, reopens the store and checks (faults::Ledger::check): every
// acknowledged event present with its id and amount, no batch partly stored, no key twice, the
// summary revenue equal to the sum of the stored events and at least the acknowledged sum, and
// a repeated call given back the ids of the events that had landed.
//
// Usage: fault_kill9 <writers> <cycles>   (CRMKIT_FAULTS_SEED overrides the seed)
// Prints one line: "FAULTS: kill-9 <W> writer(s): ...".
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "faults_common.hpp"

int main(int argc, char** argv) {
  using namespace faults;
  const int writers = argc > 1 ? std::atoi(argv[1]) : 1;
  const int cycles = argc > 2 ? std::atoi(argv[2]) : 100;
  const std::uint64_t seed = seed_from_env(20261202ull + static_cast<std::uint64_t>(writers));
  const auto t0 = std::chrono::steady_clock::now();
  Rng rng(seed);
  TempDir tmp("kill9");
  const std::string path = tmp.path("store.db");
  create_store(path, writers, crmkit::SyncMode::full);

  Ledger ledger;
  std::size_t bad_lines = 0, lost_events = 0, lost_calls = 0, partial = 0, wrong = 0, corrupt = 0;
  std::size_t landed_unacked = 0, not_prefix = 0, retried = 0, crashed = 0;
  std::size_t acked_events = 0;
  std::size_t calls_acked = 0;

  for (int cycle = 0; cycle < cycles; ++cycle) {
    struct Child {
      pid_t pid = -1;
      int fd = -1;
      std::string buf;
      std::chrono::steady_clock::time_point deadline;
      bool killed = false;
      bool eof = false;
    };
    std::vector<Child> kids(static_cast<std::size_t>(writers));
    const auto start = std::chrono::steady_clock::now();
    for (int w = 0; w < writers; ++w) {
      // The calls this writer was making when it was last killed: repeated first, same keys.
      std::vector<Call> retry;
      for (const auto& [id, c] : ledger.calls)
        if (c.writer == w && !c.acked && !c.errored) retry.push_back(c);
      retried += retry.size();
      int p[2];
      if (::pipe(p) != 0) {
        std::perror("pipe");
        return 2;
      }
      const std::uint64_t child_seed = rng.next();
      std::fflush(nullptr);
      const pid_t pid = ::fork();
      if (pid == 0) {
        ::close(p[0]);
        writer_loop(path, crmkit::SyncMode::full, p[1], w, cycle, retry, child_seed, 1000000);
      }
      ::close(p[1]);
      kids[static_cast<std::size_t>(w)].pid = pid;
      kids[static_cast<std::size_t>(w)].fd = p[0];
      // Killed after 20..150 ms: long enough to open the store and make a few calls (the
      // writers of a 4-writer cycle each get their own moment).
      kids[static_cast<std::size_t>(w)].deadline =
          start + std::chrono::milliseconds(20 + rng.below(131));
    }
    // Read the pipes while the writers run; kill each at its deadline; then drain to EOF.
    for (;;) {
      const auto now = std::chrono::steady_clock::now();
      bool all_eof = true;
      int wait_ms = 50;
      std::vector<pollfd> fds;
      for (auto& k : kids) {
        if (!k.killed && now >= k.deadline) {
          ::kill(k.pid, SIGKILL);
          k.killed = true;
        }
        if (!k.killed) {
          const auto left =
              std::chrono::duration_cast<std::chrono::milliseconds>(k.deadline - now).count();
          wait_ms = std::min<int>(wait_ms, static_cast<int>(std::max<long long>(left, 0)));
        }
        if (!k.eof) {
          all_eof = false;
          fds.push_back(pollfd{k.fd, POLLIN, 0});
        }
      }
      if (all_eof) break;
      ::poll(fds.data(), fds.size(), wait_ms);
      for (auto& k : kids) {
        if (k.eof) continue;
        pollfd q{k.fd, POLLIN, 0};
        if (::poll(&q, 1, 0) <= 0) continue;
        char buf[4096];
        const ssize_t n = ::read(k.fd, buf, sizeof buf);
        if (n <= 0) {
          k.eof = true;
          continue;
        }
        k.buf.append(buf, static_cast<std::size_t>(n));
      }
    }
    for (auto& k : kids) {
      int status = 0;
      ::waitpid(k.pid, &status, 0);
      ::close(k.fd);
      if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) {
        ++crashed;
        fail("writer exited on its own (status " + std::to_string(status) + ") in cycle " +
             std::to_string(cycle));
      }
      std::size_t pos = 0, nl;
      while ((nl = k.buf.find('\n', pos)) != std::string::npos) {
        ledger.apply(k.buf.substr(pos, nl - pos), bad_lines);
        pos = nl + 1;
      }
    }
    // A repeated call's acknowledged ids are checked against the stored ones like any other.
    const CheckResult r = ledger.check(path, cycle);
    if (!r.integrity_ok || !r.opened) ++corrupt;
    lost_events += r.lost_events;
    lost_calls += r.lost_calls;
    partial += r.partial;
    wrong += r.wrong;
    landed_unacked += r.landed_unacked;
    not_prefix += r.not_prefix;
    acked_events = r.acked_events;
    FAULTS_CHECK(ledger.present_sum >= ledger.acked_sum,
                 "cycle " + std::to_string(cycle) + ": stored sum " +
                     std::to_string(ledger.present_sum) + " < acknowledged sum " +
                     std::to_string(ledger.acked_sum));
  }
  for (const auto& [id, c] : ledger.calls)
    if (c.acked) ++calls_acked;
  for (const auto& e : ledger.errors) fail("a writer's call threw: " + e);
  FAULTS_CHECK(bad_lines == 0, std::to_string(bad_lines) + " bad protocol lines (X = non-Error exception)");
  FAULTS_CHECK(acked_events > 0, "no call was ever acknowledged: nothing was tested");

  std::printf(
      "FAULTS: kill-9 %d writer%s: %d cycles (seed %llu), %zu acknowledged calls, %zu acknowledged "
      "events (sum %lld.%02lld USD), %zu in-flight calls repeated, %zu landed unacknowledged, %zu "
      "lost, %zu partial batches, %zu errors, %zu corrupt, integrity %s, %.1f s\n",
      writers, writers == 1 ? "" : "s", cycles, static_cast<unsigned long long>(seed), calls_acked,
      acked_events, static_cast<long long>(ledger.acked_sum / 100),
      static_cast<long long>(ledger.acked_sum % 100), retried, landed_unacked, lost_events,
      partial, ledger.errors.size(), corrupt, corrupt == 0 ? "ok" : "FAILED", seconds_since(t0));
  FAULTS_CHECK(lost_events == 0 && lost_calls == 0, "acknowledged events lost");
  FAULTS_CHECK(partial == 0 && not_prefix == 0 && wrong == 0 && crashed == 0 && corrupt == 0,
               "partial batches, gaps, wrong events, writers that died on their own or corruption");
  if (failures() != 0) {
    std::fprintf(stderr, "%d check(s) failed\n", failures());
    return 1;
  }
  return 0;
}
