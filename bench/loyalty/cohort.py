#!/usr/bin/env python3
"""The cohort retention matrix (issue 8 item 7): crmkit against DuckDB SQL and Polars.

    bench/lifecycle/setup.sh                                   # once: duckdb, polars, pyarrow
    flock /tmp/crmkit-bench.lock .venv/bin/python bench/loyalty/cohort.py
    .venv/bin/python bench/loyalty/cohort.py --customers 10000 --purchases 100000   # quick check

The data: --purchases purchases (default 10,000,000) of --customers customers (default 1,000,000;
ids 1..N drawn uniformly, so a few customers never buy), at times uniform over 2022-01-01 ..
2024-12-31 (numpy, fixed --seed), as int64 ids and datetime64[us] times in memory. The work: the
monthly cohort matrix as of 2024-12-31T23:59:59.999999Z, i.e. for every (cohort = month of the
first purchase, k) the number of customers of the cohort with a purchase in month cohort + k.

  crmkit   crmkit.cohort_retention(customer, time, "month", as_of) on the numpy arrays (the whole
           Python call: conversion, the C++ pass, the DataFrames of the result).
  DuckDB   one SQL query over the arrays (a pandas DataFrame registered without copying): distinct
           (customer, month), the first month per customer, a join and a GROUP BY.
  Polars   the same as a lazy query over a DataFrame built from the arrays.

Each side runs in its own child process (same data, generated there from the seed), with 2
threads (crmkit threads=2, DuckDB SET threads=2, POLARS_MAX_THREADS=2): one warm-up run, then
--repeat timed runs; the best counts. Memory: the child's peak RSS (ru_maxrss) above its RSS
after generating the data. The parent checks that the three matrices are equal cell by cell and
prints the times, the ratio (the faster peer's time / crmkit's time: above 1, crmkit is faster)
and PASS/FAIL against the issue's bar (ratio >= 2).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

AS_OF = "2024-12-31T23:59:59.999999"
START = "2022-01-01T00:00:00"
SIDES = ["crmkit", "duckdb", "polars"]


def generate(customers: int, purchases: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    customer = rng.integers(1, customers + 1, size=purchases, dtype=np.int64)
    t0 = np.datetime64(START, "us").astype(np.int64)
    t1 = np.datetime64(AS_OF, "us").astype(np.int64)
    at = rng.integers(t0, t1 + 1, size=purchases, dtype=np.int64).view("datetime64[us]")
    return customer, at


def month_index(year: np.ndarray, month: np.ndarray) -> np.ndarray:
    """Months since 1970-01 (crmkit's period_index for months)."""
    return (np.asarray(year, dtype=np.int64) - 1970) * 12 + np.asarray(month, dtype=np.int64) - 1


# ---- the three sides (each returns cohort, k, n as int64 arrays) -----------------------------


def run_crmkit(customer: np.ndarray, at: np.ndarray):
    import crmkit

    m = crmkit.cohort_retention(customer, at, "month", as_of=AS_OF + "Z", threads=2)
    return m


def crmkit_cells(m) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    counts = m.counts.to_numpy(dtype="float64", na_value=np.nan)
    labels = list(m.counts.index)
    cohort_idx = np.array([month_index(int(s[:4]), int(s[5:7])) for s in labels], dtype=np.int64)
    r, k = np.nonzero(np.nan_to_num(counts, nan=0.0) > 0)
    return cohort_idx[r], k.astype(np.int64), counts[r, k].astype(np.int64)


DUCKDB_SQL = """
WITH d AS (
  SELECT DISTINCT customer, (year(t) - 1970) * 12 + month(t) - 1 AS m
  FROM purchases WHERE t <= TIMESTAMP '{as_of}'
), f AS (
  SELECT customer, min(m) AS c FROM d GROUP BY customer
)
SELECT f.c AS cohort, d.m - f.c AS k, count(*) AS n
FROM d JOIN f USING (customer) GROUP BY ALL
"""


def run_duckdb(con):
    return con.execute(DUCKDB_SQL.format(as_of=AS_OF)).fetchnumpy()


def run_polars(df):
    import polars as pl

    as_of = np.datetime64(AS_OF, "us").item()
    d = (df.lazy()
         .filter(pl.col("t") <= as_of)
         .select(pl.col("customer"),
                 ((pl.col("t").dt.year().cast(pl.Int64) - 1970) * 12
                  + pl.col("t").dt.month().cast(pl.Int64) - 1).alias("m"))
         .unique())
    f = d.group_by("customer").agg(pl.col("m").min().alias("c"))
    q = (d.join(f, on="customer")
         .group_by(pl.col("c").alias("cohort"), (pl.col("m") - pl.col("c")).alias("k"))
         .agg(pl.len().alias("n")))
    return q.collect()


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def child(side: str, args: argparse.Namespace, out: str) -> None:
    customer, at = generate(args.customers, args.purchases, args.seed)
    if side == "crmkit":
        import crmkit

        fn = lambda: run_crmkit(customer, at)  # noqa: E731
        version = crmkit.__version__
    elif side == "duckdb":
        import duckdb
        import pandas as pd

        con = duckdb.connect()
        con.execute("SET threads = 2")
        frame = pd.DataFrame({"customer": customer, "t": at}, copy=False)
        con.register("purchases", frame)
        fn = lambda: run_duckdb(con)  # noqa: E731
        version = duckdb.__version__
    else:
        import polars as pl

        df = pl.DataFrame({"customer": customer, "t": at})
        fn = lambda: run_polars(df)  # noqa: E731
        version = pl.__version__
    base = rss_bytes()
    result = fn()  # warm-up
    times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if side == "crmkit":
        cohort, k, n = crmkit_cells(result)
    elif side == "duckdb":
        cohort, k, n = (np.asarray(result[c], dtype=np.int64) for c in ("cohort", "k", "n"))
    else:
        cohort, k, n = (result[c].to_numpy().astype(np.int64) for c in ("cohort", "k", "n"))
    np.savez(out, cohort=cohort, k=k, n=n)
    print(json.dumps({"side": side, "version": version, "times": times,
                      "memory": max(0, peak - base), "base": base}))


def cells(path: str) -> dict[tuple[int, int], int]:
    z = np.load(path)
    return {(int(c), int(k)): int(n) for c, k, n in zip(z["cohort"], z["k"], z["n"]) if n > 0}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--customers", type=int, default=1_000_000)
    p.add_argument("--purchases", type=int, default=10_000_000)
    p.add_argument("--seed", type=int, default=8)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--side", choices=SIDES, help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.side:
        child(args.side, args, args.out)
        return 0

    env = dict(os.environ, POLARS_MAX_THREADS="2", OMP_NUM_THREADS="2")
    print(f"cohort retention matrix, monthly: {args.customers:,} customers, "
          f"{args.purchases:,} purchases in memory (seed {args.seed}), best of {args.repeat}, "
          f"2 threads each")
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {model}, load average "
          f"{os.getloadavg()[0]:.2f} at the start; Python {platform.python_version()}")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for side in SIDES:
            out = os.path.join(tmp, side + ".npz")
            r = subprocess.run([sys.executable, __file__, "--side", side, "--out", out,
                                "--customers", str(args.customers), "--purchases",
                                str(args.purchases), "--seed", str(args.seed), "--repeat",
                                str(args.repeat)], env=env, capture_output=True, text=True)
            if r.returncode != 0:
                print(f"{side}: failed\n{r.stderr}", file=sys.stderr)
                return 1
            info = json.loads(r.stdout.strip().splitlines()[-1])
            info["cells"] = cells(out)
            results[side] = info
    ref = results["crmkit"]["cells"]
    ok = True
    for side in ("duckdb", "polars"):
        same = results[side]["cells"] == ref
        ok = ok and same
        print(f"PARITY crmkit == {side}: {'yes' if same else 'NO'} ({len(ref)} non-zero cells, "
              f"{sum(ref.values()):,} (customer, month) pairs)")
    print(f"{'side':8} {'version':>10} {'best s':>9} {'runs':>26} {'peak MiB':>9}")
    for side in SIDES:
        i = results[side]
        runs = ", ".join(f"{t:.3f}" for t in i["times"])
        print(f"{side:8} {i['version']:>10} {min(i['times']):9.3f} {runs:>26} "
              f"{i['memory'] / 2**20:9.0f}")
    crm = min(results["crmkit"]["times"])
    peer_side = min(("duckdb", "polars"), key=lambda s: min(results[s]["times"]))
    ratio = min(results[peer_side]["times"]) / crm
    print(f"ratio vs the faster peer ({peer_side}): {ratio:.2f} (above 1 = crmkit faster)")
    for side in ("duckdb", "polars"):
        print(f"  vs {side}: {min(results[side]['times']) / crm:.2f}")
    passed = ok and ratio >= 2.0
    print(f"{'PASS' if passed else 'FAIL'}: equal matrices and crmkit at least 2x faster than the "
          f"faster peer")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
