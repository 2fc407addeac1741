#!/usr/bin/env python3
"""The segment drift benchmark of issue 8 (item 7): segments at two dates computed from a purchase
log, and the drift matrix between them, by crmkit, DuckDB SQL and Polars.

    bench/lifecycle/setup.sh                                  # once: duckdb, polars, pyarrow
    flock /tmp/crmkit-bench.lock .venv/bin/python bench/loyalty/drift.py
    .venv/bin/python bench/loyalty/drift.py --customers 10000 --purchases 100000 --repeat 1

The data (numpy, --seed, generated in memory): --customers dense ids 0..N-1, --purchases rows
with a uniform customer, a uniform time in 2024 (microseconds) and an amount of 1.00 to 500.99 USD
in cents. The dates are the ends of June and of December 2024.

The segmentation (RULES below; bench/README.md says why): rule segments on recency / frequency /
monetary thresholds, first match wins, "Regular" for the rest, and no segment ("none") for a
customer without a purchase by the date. recency_days = floor((date - last purchase) / 1 day),
frequency = purchases by the date, monetary = their sum. Every side computes these per customer
at both dates from the raw log and counts (segment at June, segment at December).

Sides:
  crmkit   crmkit.purchase_segments (one C++ pass over the log for both dates, then the rules
           over the fact columns) + crmkit.segment_drift (codes counted in C++) -> DataFrame
  duckdb   one SQL query over the registered numpy columns: GROUP BY customer with FILTERed
           aggregates per date, CASE per date, GROUP BY (from, to)
  polars   the same as a lazy query (group_by customer, filtered aggregates, when/then chains,
           group_by (from, to))
Each result becomes {(from, to): count}; the three must be equal (PARITY). Times are the best
of --repeat runs (sides alternating); the ratio is the faster peer's time / crmkit's time (above
1: crmkit faster); peak RSS is the RSS above the RSS at the call, sampled every millisecond in
one untimed run of the side in a fresh Python process (after generating the data there).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import threading
import time
from typing import Any, Callable

import numpy as np
import pandas as pd

import crmkit

DAY_US = 86_400_000_000
START = int(pd.Timestamp("2024-01-01").value // 1000)
END = int(pd.Timestamp("2025-01-01").value // 1000)
DATES = ["2024-06-30T23:59:59.999999Z", "2024-12-31T23:59:59.999999Z"]
DATE_US = [int(pd.Timestamp(d).value // 1000) for d in DATES]

# First match wins; the order matters. Thresholds in whole days, purchases and cents.
RULES = {
    "segments": [
        {"name": "Champions", "when": {"and": [{"<=": [{"var": "recency_days"}, 14]},
                                               {">=": [{"var": "frequency"}, 12]}]}},
        {"name": "Big spenders", "when": {">=": [{"var": "monetary"}, 3000]}},
        {"name": "Loyal", "when": {">=": [{"var": "frequency"}, 10]}},
        {"name": "At risk", "when": {">": [{"var": "recency_days"}, 90]}},
        {"name": "New", "when": {"<=": [{"var": "frequency"}, 2]}},
    ],
    "fallback": "Regular",
}
# The same thresholds for the peers: (name, recency_max, frequency_min, monetary_min_cents,
# recency_min_exclusive, frequency_max).
SQL_CASE = """CASE
      WHEN f{i} = 0 THEN 'none'
      WHEN r{i} <= 14 AND f{i} >= 12 THEN 'Champions'
      WHEN m{i} >= 300000 THEN 'Big spenders'
      WHEN f{i} >= 10 THEN 'Loyal'
      WHEN r{i} > 90 THEN 'At risk'
      WHEN f{i} <= 2 THEN 'New'
      ELSE 'Regular' END"""


# ---- measuring (as bench/lifecycle/run.py) --------------------------------------------------

def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _trim() -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class RssPeak:
    def __enter__(self) -> "RssPeak":
        gc.collect()
        _trim()
        self.base = _rss_bytes()
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_bytes())
            time.sleep(0.001)

    def __exit__(self, *exc: Any) -> None:
        self.peak = max(self.peak, _rss_bytes())
        self._stop.set()
        self._thread.join()


def measure(sides: dict[str, Callable[[], Any]], repeat: int) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {name: {"times": []} for name in sides}
    for _ in range(repeat):
        for name, fn in sides.items():
            gc.collect()
            t0 = time.perf_counter()
            result = fn()
            out[name]["times"].append(time.perf_counter() - t0)
            out[name]["result"] = result
            del result
    for name in sides:
        out[name]["best"] = min(out[name]["times"])
    return out


def peak_in_fresh_process(side: str, args: Any) -> float:
    """The side's peak RSS above the RSS at the call, measured in a fresh Python process (this
    one has the other sides' allocator arenas and caches: a delta here would understate)."""
    import subprocess

    cmd = [sys.executable, os.path.abspath(__file__), "--memory-of", side,
           "--customers", str(args.customers), "--purchases", str(args.purchases),
           "--seed", str(args.seed)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return float(done.stdout.strip().splitlines()[-1])


def memory_of(side: str, args: Any) -> None:
    """--memory-of: builds what the side needs, then prints its peak RSS delta in MiB."""
    d = generate(args.customers, args.purchases, args.seed)
    if side == "crmkit":
        fn = lambda: run_crmkit(d, args.customers)  # noqa: E731
    elif side == "duckdb":
        import duckdb

        con = duckdb.connect()
        con.execute(f"SET threads = {os.cpu_count() or 1}")
        con.register("p", pd.DataFrame(d, copy=False))
        fn = lambda: run_duckdb(con, d)  # noqa: E731
    else:
        import polars as pl

        frame = pl.DataFrame(d)
        fn = lambda: run_polars(frame)  # noqa: E731
    with RssPeak() as peak:
        fn()
    print(f"{(peak.peak - peak.base) / 2**20:.1f}")


# ---- data -----------------------------------------------------------------------------------

def generate(customers: int, purchases: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "customer": rng.integers(0, customers, purchases, dtype=np.int64),
        "ts": rng.integers(START, END, purchases, dtype=np.int64),
        "amount": rng.integers(100, 50_100, purchases, dtype=np.int64),
    }


# ---- the three sides ------------------------------------------------------------------------

def as_cells(frame: pd.DataFrame) -> dict[tuple[str, str], int]:
    """{(from, to): count} of a drift matrix DataFrame, non-zero cells only."""
    out = {}
    for f in frame.index:
        for t in frame.columns:
            v = int(frame.loc[f, t])
            if v:
                out[(str(f), str(t))] = v
    return out


def run_crmkit(d: dict[str, np.ndarray], customers: int) -> dict[tuple[str, str], int]:
    june, december = crmkit.purchase_segments(d["customer"], d["ts"], d["amount"], DATES, RULES,
                                              customers=customers)
    return as_cells(crmkit.segment_drift(june, december))


def duckdb_query() -> str:
    aggs = []
    for i, t in enumerate(DATE_US):
        aggs.append(f"max(ts) FILTER (WHERE ts <= {t}) AS last{i}, "
                    f"count(*) FILTER (WHERE ts <= {t}) AS f{i}, "
                    f"sum(amount) FILTER (WHERE ts <= {t}) AS m{i}")
    recency = ", ".join(f"({t} - last{i}) // {DAY_US} AS r{i}" for i, t in enumerate(DATE_US))
    return f"""
    WITH s AS (SELECT customer, {", ".join(aggs)} FROM p GROUP BY customer),
         r AS (SELECT *, {recency} FROM s),
         seg AS (SELECT {SQL_CASE.format(i=0)} AS seg_from, {SQL_CASE.format(i=1)} AS seg_to FROM r)
    SELECT seg_from, seg_to, count(*) AS n FROM seg
    WHERE NOT (seg_from = 'none' AND seg_to = 'none') GROUP BY seg_from, seg_to"""


def run_duckdb(con: Any, d: dict[str, np.ndarray]) -> dict[tuple[str, str], int]:
    rows = con.execute(duckdb_query()).fetchall()
    return {(f, t): int(n) for f, t, n in rows}


def polars_query(frame: Any) -> Any:
    import polars as pl

    aggs = []
    for i, t in enumerate(DATE_US):
        upto = pl.col("ts") <= t
        aggs += [pl.col("ts").filter(upto).max().alias(f"last{i}"),
                 upto.sum().alias(f"f{i}"),
                 pl.col("amount").filter(upto).sum().alias(f"m{i}")]

    def segment(i: int) -> Any:
        r = (DATE_US[i] - pl.col(f"last{i}")) // DAY_US
        f = pl.col(f"f{i}")
        m = pl.col(f"m{i}")
        return (pl.when(f == 0).then(pl.lit("none"))
                .when((r <= 14) & (f >= 12)).then(pl.lit("Champions"))
                .when(m >= 300_000).then(pl.lit("Big spenders"))
                .when(f >= 10).then(pl.lit("Loyal"))
                .when(r > 90).then(pl.lit("At risk"))
                .when(f <= 2).then(pl.lit("New"))
                .otherwise(pl.lit("Regular")))

    return (frame.lazy().group_by("customer").agg(aggs)
            .select(segment(0).alias("seg_from"), segment(1).alias("seg_to"))
            .filter(~((pl.col("seg_from") == "none") & (pl.col("seg_to") == "none")))
            .group_by("seg_from", "seg_to").len())


def run_polars(frame: Any) -> dict[tuple[str, str], int]:
    out = polars_query(frame).collect()
    return {(f, t): int(n) for f, t, n in out.iter_rows()}


# ---- main -----------------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--purchases", type=int, default=10_000_000)
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--memory-of", choices=["crmkit", "duckdb", "polars"],
                    help=argparse.SUPPRESS)  # internal: one side's peak RSS in a fresh process
    args = ap.parse_args()
    if args.memory_of:
        memory_of(args.memory_of, args)
        return 0

    import duckdb
    import polars as pl

    threads = os.cpu_count() or 1
    print(f"machine: {threads} CPUs, {platform.processor() or platform.machine()}, load average "
          f"{os.getloadavg()[0]:.2f}; CPython {platform.python_version()}")
    print(f"versions: crmkit {crmkit.__version__}, duckdb {duckdb.__version__}, polars "
          f"{pl.__version__}, numpy {np.__version__}, pandas {pd.__version__}; crmkit model_threads "
          f"{crmkit.model_threads()}")
    t0 = time.perf_counter()
    d = generate(args.customers, args.purchases, args.seed)
    print(f"data: {args.customers:,} customers, {args.purchases:,} purchases (seed {args.seed}), "
          f"generated in {time.perf_counter() - t0:.1f} s; dates {DATES[0]} and {DATES[1]}")
    print("segments: rule segments on recency_days / frequency / monetary, first match wins "
          "(Champions, Big spenders, Loyal, At risk, New, else Regular; none without a purchase)")

    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    con.register("p", pd.DataFrame(d, copy=False))
    frame = pl.DataFrame(d)

    sides = {
        "crmkit purchase_segments + segment_drift": lambda: run_crmkit(d, args.customers),
        "duckdb SQL (registered pandas)": lambda: run_duckdb(con, d),
        "polars lazy": lambda: run_polars(frame),
    }
    m = measure(sides, args.repeat)
    for name in sides:
        m[name]["rss_mib"] = peak_in_fresh_process(name.split()[0], args)
    crm = "crmkit purchase_segments + segment_drift"
    print(f"  {'side':<44} {'best s':>8} {'runs s':<24} {'ratio':>7} {'peak RSS':>10}")
    for name, r in m.items():
        runs = " ".join(f"{t:.3f}" for t in r["times"])
        print(f"  {name:<44} {r['best']:8.3f} {runs:<24} {r['best'] / m[crm]['best']:7.2f} "
              f"{r['rss_mib']:+8.0f} MiB")
    print("  (ratio = side time / crmkit time: above 1 = crmkit faster)")

    ok = True
    want = m[crm]["result"]
    for name in sides:
        if name == crm:
            continue
        same = m[name]["result"] == want
        ok &= same
        print(f"  PARITY {'PASS' if same else 'FAIL'} crmkit = {name.split()[0]}: "
              f"{len(want)} non-zero cells, {sum(want.values()):,} customers")
        if not same:
            diff = {k: (want.get(k), m[name]['result'].get(k))
                    for k in set(want) | set(m[name]["result"])
                    if want.get(k) != m[name]["result"].get(k)}
            print(f"    differences (crmkit, peer): {dict(list(diff.items())[:8])}")
    faster_peer = min(m[n]["best"] for n in sides if n != crm)
    ratio = faster_peer / m[crm]["best"]
    bar = ratio >= 2.0
    ok &= bar
    print(f"  {'PASS' if bar else 'FAIL'} drift: at least 2x the faster peer: faster peer / crmkit "
          f"= {ratio:.2f}")
    rows = sorted(want.items(), key=lambda kv: -kv[1])[:6]
    print("  largest cells: " + ", ".join(f"{f} -> {t}: {n:,}" for (f, t), n in rows))
    print(f"OVERALL: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
