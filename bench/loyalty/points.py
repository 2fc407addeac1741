#!/usr/bin/env python3
"""Points earning into the store (issue 8, item 7): crmkit's Store.earn_points against plain
SQLite inserts of the same entry rows.

    flock /tmp/crmkit-bench.lock .venv/bin/python bench/loyalty/points.py
    .venv/bin/python bench/loyalty/points.py --purchases 100000 --customers 10000   # a quick check

Steps:
  1. build/cpp/bench/bench_points import: a new store file with the benchmark programme and
     --purchases purchases of --customers customers, imported with Store::import_purchases (the
     store's fastest bulk path, 1,000,000 rows per transaction). The import time is reported, not
     part of the ratio.
  2. bench_points earn: one timed Store::earn_points call (reads every purchase as columns, replays
     one PointsAccount per customer sharing one compiled programme, inserts the entries with one
     prepared statement, one transaction). Prints purchases and entries per second and the
     process's peak RSS.
  3. The baseline, as a user would write it: Python's sqlite3 module, a new file with the same
     table shape (the CREATE TABLE / CREATE INDEX statements of points_entries copied from the
     store's sqlite_master), the same WAL journal and synchronous=NORMAL, and
     ``executemany("INSERT INTO points_entries VALUES (?,...)", rows)`` in one transaction, the
     rows streamed from the store's points_entries (the very rows earn_points wrote, in id order).
     The time covers executemany and the commit; peak RSS of this Python process is printed.

The ratio is crmkit entries per second / SQLite entries per second (above 1: earning, which also
reads the events and replays every account, is faster than the bare inserts).
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(cmd: list[str]) -> dict[str, str]:
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    sys.stdout.write(out)
    words = out.split()
    return {words[i]: words[i + 1] for i in range(0, len(words) - 1, 2)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--purchases", type=int, default=10_000_000)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "loyalty", "out"))
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "cpp", "bench", "bench_points"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    store = os.path.join(a.out, f"points_{a.purchases}.crmkit")
    base = os.path.join(a.out, f"sqlite_{a.purchases}.db")
    for p in (store, store + "-wal", store + "-shm", base, base + "-wal", base + "-shm"):
        if os.path.exists(p):
            os.remove(p)

    print(f"# {a.purchases:,} purchases of {a.customers:,} customers")
    imp = run([a.binary, "import", store, str(a.purchases), str(a.customers), str(a.seed)])
    earn = run([a.binary, "earn", store])
    ours = float(earn["entries_per_second"])

    src = sqlite3.connect(store)
    ddl = [r[0] for r in src.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'points_entries' AND sql IS NOT NULL "
        "ORDER BY type DESC, name")]
    ncols = len(src.execute("SELECT * FROM points_entries LIMIT 1").description)
    dst = sqlite3.connect(base, isolation_level=None)
    dst.execute("PRAGMA journal_mode=WAL")
    dst.execute("PRAGMA synchronous=NORMAL")
    for stmt in ddl:
        dst.execute(stmt)
    rows = src.execute("SELECT * FROM points_entries ORDER BY id")
    insert = f"INSERT INTO points_entries VALUES ({','.join('?' * ncols)})"
    t0 = time.perf_counter()
    dst.execute("BEGIN")
    dst.executemany(insert, rows)
    dst.execute("COMMIT")
    secs = time.perf_counter() - t0
    n = dst.execute("SELECT count(*) FROM points_entries").fetchone()[0]
    theirs = n / secs
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"sqlite3_executemany_seconds {secs:.3f} rows {n} rows_per_second {theirs:.0f} "
          f"peak_rss_mib {peak}")
    print(f"import: {float(imp['import_seconds']):.1f} s ({a.purchases / float(imp['import_seconds']):,.0f} purchases/s, not in the ratio)")
    print(f"earn_points: {float(earn['earn_seconds']):.1f} s, "
          f"{float(earn['purchases_per_second']):,.0f} purchases/s, {ours:,.0f} entries/s, "
          f"peak RSS {earn['peak_rss_mib']} MiB")
    print(f"plain SQLite (Python sqlite3 executemany, one transaction): {secs:.1f} s, "
          f"{theirs:,.0f} rows/s, peak RSS {peak} MiB")
    print(f"ratio (crmkit entries/s / SQLite rows/s): {ours / theirs:.2f}")
    ok = float(earn["purchases_per_second"]) >= 200_000
    print(f"{'PASS' if ok else 'FAIL'} earning >= 200,000 purchases per second")
    if earn.get("second_run_entries_added") != "0":
        print("FAIL second earn_points run added entries")
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
