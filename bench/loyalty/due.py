"""Benchmark: the follow-up due list over N customers (default 1,000,000), crmkit against the
same computation written in Polars and in DuckDB SQL over the same in-memory columns.

    .venv/bin/python bench/loyalty/due.py --check              # small sizes, results compared
    flock /tmp/crmkit-bench.lock .venv/bin/python bench/loyalty/due.py --customers 1000000

What is computed (the default policy of crmkit/loyalty/followup.hpp: every customer every 365
days, consent purpose "service", default channel order, no horizon), as of 2025-06-30:
  - last contact = the latest interaction at or before as_of, else the record's creation;
  - due_at = last contact + 365 days; listed when due_at <= as_of;
  - consent per (customer, channel, purpose "service"): the latest row at or before as_of decides,
    a withdrawal wins a tie; the channel is the preferred one if usable, else the lowest code;
  - unreachable (no usable channel), else at_limit (contacts in (as_of - 30 days, as_of] reach
    max_contacts_per_30_days; next_contact_at = the (count - limit + 1)-th oldest such contact
    + 30 days, none for a limit of 0), else due;
  - each list ordered by due_at, then customer id.

crmkit runs crmkit.due_list_from_columns' core call (crmkit._core.due_list_columns: numpy columns
in, column dicts out); the peers read the same numpy columns (Polars from numpy without copying
where it can, DuckDB through registered Arrow tables) and produce the same three tables. Every
side is checked to give the same customers, statuses, due dates and channels (--check, and the
first run at full size). Times are the best of --runs runs; peak memory is the process's RSS
high-water mark after each side's runs (ru_maxrss; sides run in this order, so a later side's
figure includes the earlier ones' peak: crmkit runs first).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import numpy as np

DAY = 86_400_000_000
START = 1_672_531_200_000_000  # 2023-01-01
AS_OF = 1_751_241_600_000_000  # 2025-06-30T00:00:00Z
SERVICE = "service"


def generate(n: int, seed: int = 11) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    cust = np.arange(1, n + 1, dtype=np.int64)
    created = START + rng.integers(0, 730 * DAY, size=n, dtype=np.int64)
    preferred = np.where(rng.random(n) < 0.5, -1, rng.integers(0, 6, size=n)).astype(np.int8)
    limit = np.where(rng.random(n) < 0.8, -1, rng.integers(0, 5, size=n)).astype(np.int32)
    kc = rng.integers(0, 4, size=n)
    k_owner = np.repeat(np.arange(n), kc)
    m = len(k_owner)
    k_at = created[k_owner] + rng.integers(-30 * DAY, 900 * DAY, size=m, dtype=np.int64)
    k_at = (k_at // DAY) * DAY  # whole days: some exact ties
    ic = rng.poisson(2.0, size=n)
    i_owner = np.repeat(np.arange(n), ic)
    i_at = created[i_owner] + rng.integers(0, 900 * DAY, size=len(i_owner), dtype=np.int64)
    return {
        "customer_id": cust,
        "created": created,
        "preferred": preferred,
        "limit": limit,
        "k_customer": cust[k_owner],
        "k_channel": rng.integers(0, 6, size=m).astype(np.uint8),
        "k_purpose": np.where(rng.random(m) < 0.6, SERVICE, "marketing").astype(object),
        "k_granted": (rng.random(m) < 0.85).astype(np.uint8),
        "k_at": k_at,
        "i_customer": cust[i_owner],
        "i_at": i_at,
    }


# ---- crmkit -------------------------------------------------------------------------------------

def run_crmkit(d: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    from crmkit import _core

    purposes = d["k_purpose"].tolist()
    r = _core.due_list_columns(
        d["customer_id"], d["created"], d["preferred"], d["limit"], d["k_customer"],
        d["k_channel"], purposes, d["k_granted"], d["k_at"], d["i_customer"], d["i_at"],
        _core.Timestamp.from_micros(AS_OF))
    out = {}
    codes = {"email": 0, "phone": 1, "sms": 2, "im": 3, "post": 4, "visit": 5}
    for name in ("due", "unreachable", "at_limit"):
        t = r[name]
        ch = np.array([-1 if c is None else codes[c] for c in t["channel"]], dtype=np.int64)
        nxt = np.where(np.asarray(t["has_next_contact"]) == 1, t["next_contact_micros"], -1)
        out[name] = {"customer_id": np.asarray(t["customer_id"]),
                     "due_at": np.asarray(t["due_at_micros"]), "channel": ch,
                     "next": np.asarray(nxt, dtype=np.int64)}
    return out


# ---- Polars -------------------------------------------------------------------------------------

def run_polars(d: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    import polars as pl

    cust = pl.DataFrame({"customer_id": d["customer_id"], "created": d["created"],
                         "preferred": d["preferred"].astype(np.int64),
                         "limit": d["limit"].astype(np.int64)})
    cons = pl.DataFrame({"customer_id": d["k_customer"], "channel": d["k_channel"].astype(np.int64),
                         "purpose": d["k_purpose"].astype(str), "granted": d["k_granted"].astype(np.int64),
                         "at": d["k_at"]})
    inter = pl.DataFrame({"customer_id": d["i_customer"], "at": d["i_at"]})
    window_start = AS_OF - 30 * DAY

    contacts = (inter.filter(pl.col("at") <= AS_OF)
                .group_by("customer_id")
                .agg(pl.col("at").max().alias("last"),
                     (pl.col("at") > window_start).sum().cast(pl.Int64).alias("c30")))
    state = (cons.filter((pl.col("purpose") == SERVICE) & (pl.col("at") <= AS_OF))
             .group_by(["customer_id", "channel"])
             .agg(pl.col("at").max().alias("max_at"),
                  pl.col("granted").filter(pl.col("at") == pl.col("at").max()).min().alias("g")))
    usable = state.filter(pl.col("g") == 1)
    listed = (cust.join(contacts, on="customer_id", how="left")
              .filter((pl.col("created") <= AS_OF) | pl.col("last").is_not_null())
              .with_columns((pl.coalesce("last", "created") + 365 * DAY).alias("due_at"),
                            pl.col("c30").fill_null(0))
              .filter(pl.col("due_at") <= AS_OF))
    choice = (usable.join(listed.select("customer_id", "preferred"), on="customer_id")
              .group_by("customer_id")
              .agg(pl.col("channel").min().alias("low"),
                   (pl.col("channel") == pl.col("preferred")).any().alias("has_pref"),
                   pl.col("preferred").first()))
    listed = (listed.drop("preferred").join(choice, on="customer_id", how="left")
              .with_columns(pl.when(pl.col("has_pref")).then(pl.col("preferred"))
                            .otherwise(pl.col("low")).alias("channel"))
              .sort(["due_at", "customer_id"]))
    unreachable = listed.filter(pl.col("channel").is_null())
    reach = listed.filter(pl.col("channel").is_not_null())
    at_limit = reach.filter((pl.col("limit") >= 0) & (pl.col("c30") >= pl.col("limit")))
    due = reach.filter(~((pl.col("limit") >= 0) & (pl.col("c30") >= pl.col("limit"))))
    # next_contact_at: the (c30 - limit)-th (0-based) oldest window contact + 30 days.
    wins = (inter.filter((pl.col("at") > window_start) & (pl.col("at") <= AS_OF))
            .join(at_limit.select("customer_id", "limit", "c30").filter(pl.col("limit") > 0),
                  on="customer_id")
            .sort(["customer_id", "at"])
            .with_columns(pl.int_range(pl.len()).over("customer_id").alias("k"))
            .filter(pl.col("k") == pl.col("c30") - pl.col("limit"))
            .select("customer_id", (pl.col("at") + 30 * DAY).alias("next")))
    at_limit = (at_limit.join(wins, on="customer_id", how="left")
                .with_columns(pl.col("next").fill_null(-1)).sort(["due_at", "customer_id"]))

    def pack(f: pl.DataFrame, with_channel: bool, with_next: bool) -> dict[str, np.ndarray]:
        n = f.height
        return {"customer_id": f["customer_id"].to_numpy(), "due_at": f["due_at"].to_numpy(),
                "channel": f["channel"].to_numpy() if with_channel else np.full(n, -1),
                "next": f["next"].to_numpy() if with_next else np.full(n, -1)}

    return {"due": pack(due, True, False), "unreachable": pack(unreachable, False, False),
            "at_limit": pack(at_limit, False, True)}


# ---- DuckDB -------------------------------------------------------------------------------------

DUCK_SQL = f"""
WITH contacts AS (
  SELECT customer_id, max(ts) AS last_at, count(*) FILTER (WHERE ts > {AS_OF - 30 * DAY}) AS c30
  FROM inter WHERE ts <= {AS_OF} GROUP BY customer_id),
state AS (
  SELECT customer_id, channel, min(granted) AS g FROM (
    SELECT *, max(ts) OVER (PARTITION BY customer_id, channel) AS max_at
    FROM cons WHERE purpose = '{SERVICE}' AND ts <= {AS_OF}) WHERE ts = max_at
  GROUP BY customer_id, channel),
listed AS (
  SELECT c.customer_id, c.preferred, c."limit", coalesce(k.c30, 0) AS c30,
         coalesce(k.last_at, c.created) + {365 * DAY} AS due_at
  FROM cust c LEFT JOIN contacts k USING (customer_id)
  WHERE (c.created <= {AS_OF} OR k.last_at IS NOT NULL)
    AND coalesce(k.last_at, c.created) + {365 * DAY} <= {AS_OF}),
choice AS (
  SELECT s.customer_id, min(s.channel) AS low, bool_or(s.channel = l.preferred) AS has_pref
  FROM state s JOIN listed l USING (customer_id) WHERE s.g = 1 GROUP BY s.customer_id)
SELECT l.customer_id, l.due_at, l."limit", l.c30,
       CASE WHEN ch.has_pref THEN l.preferred ELSE ch.low END AS channel
FROM listed l LEFT JOIN choice ch USING (customer_id)
"""

DUCK_NEXT = f"""
SELECT customer_id, ts + {30 * DAY} AS next FROM (
  SELECT i.customer_id, i.ts, a.c30, a."limit",
         row_number() OVER (PARTITION BY i.customer_id ORDER BY i.ts) - 1 AS k
  FROM inter i JOIN limited a USING (customer_id)
  WHERE i.ts > {AS_OF - 30 * DAY} AND i.ts <= {AS_OF} AND a."limit" > 0)
WHERE k = c30 - "limit"
"""


def run_duckdb(d: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    import duckdb
    import pyarrow as pa

    con = duckdb.connect()
    con.register("cust", pa.table({"customer_id": d["customer_id"], "created": d["created"],
                                   "preferred": d["preferred"].astype(np.int64),
                                   "limit": d["limit"].astype(np.int64)}))
    con.register("cons", pa.table({"customer_id": d["k_customer"],
                                   "channel": d["k_channel"].astype(np.int64),
                                   "purpose": pa.array(d["k_purpose"].astype(str)),
                                   "granted": d["k_granted"].astype(np.int64), "ts": d["k_at"]}))
    con.register("inter", pa.table({"customer_id": d["i_customer"], "ts": d["i_at"]}))
    con.execute(f"CREATE TEMP TABLE all_listed AS {DUCK_SQL}")
    unreachable = con.execute(
        "SELECT customer_id, due_at FROM all_listed WHERE channel IS NULL "
        "ORDER BY due_at, customer_id").fetchnumpy()
    due = con.execute(
        'SELECT customer_id, due_at, channel FROM all_listed WHERE channel IS NOT NULL AND NOT '
        '("limit" >= 0 AND c30 >= "limit") ORDER BY due_at, customer_id').fetchnumpy()
    con.execute(
        'CREATE TEMP TABLE limited AS SELECT customer_id, due_at, c30, "limit" FROM all_listed '
        'WHERE channel IS NOT NULL AND "limit" >= 0 AND c30 >= "limit"')
    at_limit = con.execute(
        f"SELECT l.customer_id, l.due_at, coalesce(n.next, -1) AS next FROM limited l "
        f"LEFT JOIN ({DUCK_NEXT}) n USING (customer_id) ORDER BY l.due_at, l.customer_id"
    ).fetchnumpy()
    con.close()

    def pack(f, channel=None, nxt=None):
        n = len(f["customer_id"])
        return {"customer_id": np.asarray(f["customer_id"]), "due_at": np.asarray(f["due_at"]),
                "channel": np.asarray(channel if channel is not None else np.full(n, -1)),
                "next": np.asarray(nxt if nxt is not None else np.full(n, -1))}

    return {"due": pack(due, channel=due["channel"]), "unreachable": pack(unreachable),
            "at_limit": pack(at_limit, nxt=at_limit["next"])}


# ---- store level --------------------------------------------------------------------------------

CHANNELS = ["email", "phone", "sms", "im", "post", "visit"]


def _iso(us: int) -> str:
    import datetime as dt

    return (dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=int(us))).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")


def write_jsonl(d: dict[str, np.ndarray], path: str) -> None:
    """The generated columns as a crmkit JSON Lines export (records, consents, interactions),
    version 2: the trailer line counts the records and carries the SHA-256 of the lines above."""
    import hashlib
    import json

    n = len(d["customer_id"])
    k_start = np.searchsorted(d["k_customer"], d["customer_id"], side="left")
    k_end = np.searchsorted(d["k_customer"], d["customer_id"], side="right")
    counts = dict.fromkeys(["audit", "customer", "event", "field", "opportunity", "points_entry",
                            "points_program", "state", "suppression", "transition"], 0)
    sha = hashlib.sha256()

    class _Out:
        def __init__(self, f):
            self.f = f

        def write(self, line: str) -> None:
            if not line.startswith('{"currency"'):
                counts[line[2:line.index('"', 2)]] += 1
            sha.update(line.encode())
            self.f.write(line)

    with open(path, "w") as raw:
        out = _Out(raw)
        out.write(json.dumps({"currency": "USD", "format": "crmkit-jsonl", "schema_version": 3,
                              "suppression_key": "00" * 32, "version": 2}) + "\n")
        for i in range(n):
            seen = {}
            for k in range(k_start[i], k_end[i]):  # one record per (channel, purpose): the last
                key = (int(d["k_channel"][k]), d["k_purpose"][k])
                seen[key] = k
            consents = [{"at": _iso(d["k_at"][k]), "channel": CHANNELS[ch], "legal_basis": "consent",
                         "purpose": pu, "source": "bench",
                         "status": "granted" if d["k_granted"][k] else "withdrawn"}
                        for (ch, pu), k in sorted(seen.items())]
            pref = int(d["preferred"][i])
            lim = int(d["limit"][i])
            created = _iso(d["created"][i])
            out.write(json.dumps({"customer": {
                "acquisition_source": "", "consents": consents, "contacts": [],
                "created_at": created, "custom": {}, "deleted": False,
                "demographics": {"birth_date": None, "gender": "", "household_size": None,
                                 "interests": [], "marital_status": "", "occupation": "",
                                 "region": ""},
                "erased": False, "external_id": f"c{i + 1}", "id": i + 1, "kind": "person",
                "max_contacts_per_30_days": None if lim < 0 else lim, "memberships": [],
                "name": f"c{i + 1}", "owner": "",
                "preferred_channel": None if pref < 0 else CHANNELS[pref], "tags": [],
                "updated_at": created}}) + "\n")
        order = np.argsort(d["i_at"], kind="stable")
        for e, j in enumerate(order, start=1):
            at = _iso(d["i_at"][j])
            out.write(json.dumps({"event": {
                "actor": "bench", "at": at, "customer": int(d["i_customer"][j]), "id": e,
                "idempotency_key": "", "interaction": {
                    "commitment_asked": "", "commitment_obtained": False, "kind": "call",
                    "note": "", "purpose": "service"},
                "recorded_at": at, "source": "bench", "type": "interaction"}}) + "\n")
        raw.write(json.dumps({"trailer": {"counts": counts, "sha256": sha.hexdigest()}},
                             separators=(",", ":")) + "\n")


def run_store(n: int, runs: int, workdir: str, build_only: bool, reuse: bool) -> None:
    import os

    import crmkit

    db = os.path.join(workdir, f"due-{n}.crmkit")
    if not (reuse and os.path.exists(db)):
        build_store(n, workdir, db)
    if build_only:
        return
    time_store(db, runs)
    if not reuse:  # --reuse keeps the file for the next run
        for f in (db, db + "-wal", db + "-shm"):
            if os.path.exists(f):
                os.remove(f)


def build_store(n: int, workdir: str, db: str) -> None:
    import os

    import crmkit

    d = generate(n)
    order = np.lexsort((d["k_at"], d["k_customer"]))  # consent rows by customer, then time
    for key in ("k_customer", "k_channel", "k_purpose", "k_granted", "k_at"):
        d[key] = d[key][order]
    os.makedirs(workdir, exist_ok=True)
    jsonl = os.path.join(workdir, f"due-{n}.jsonl")
    for f in (db, db + "-wal", db + "-shm"):
        if os.path.exists(f):
            os.remove(f)
    t0 = time.perf_counter()
    write_jsonl(d, jsonl)
    with crmkit.Store(db, "USD", synchronous="off") as store:
        store.import_jsonl(jsonl)
    os.remove(jsonl)
    print(f"store: {n:,} customers, {len(d['i_customer']):,} interactions "
          f"(set-up, untimed: {time.perf_counter() - t0:.0f} s)", flush=True)


def time_store(db: str, runs: int) -> None:
    import crmkit

    as_of = "2025-06-30T00:00:00Z"
    with crmkit.Store(db, "USD") as store:
        print(f"store: {store.count_customers():,} customers, {store.count_events():,} events",
              flush=True)
        for label, kwargs in (("Store.due_list (DataFrames, stage actions)", {}),):
            best = float("inf")
            for _ in range(runs):
                t0 = time.perf_counter()
                due = store.due_list(as_of, **kwargs)
                best = min(best, time.perf_counter() - t0)
            print(f"{label}: {best:.3f} s   peak RSS {peak_mib():.1f} MiB   due {len(due.due):,}, "
                  f"unreachable {len(due.unreachable):,}, at_limit {len(due.at_limit):,}",
                  flush=True)


# ---- driver -------------------------------------------------------------------------------------

def same(a: dict, b: dict, who: str) -> None:
    for name in ("due", "unreachable", "at_limit"):
        for col in ("customer_id", "due_at", "channel", "next"):
            x = np.asarray(a[name][col], dtype=np.int64)
            y = np.asarray(b[name][col], dtype=np.int64)
            if x.shape != y.shape or not np.array_equal(x, y):
                raise SystemExit(f"{who}: {name}.{col} differs from crmkit "
                                 f"({len(x)} vs {len(y)} rows)")


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--check", action="store_true", help="compare the three at small sizes")
    ap.add_argument("--store", type=int, default=0,
                    help="instead: time Store.due_list on a store of this many customers")
    ap.add_argument("--dir", default="/var/tmp/crmkit-bench-due", help="where --store's file goes")
    ap.add_argument("--build-only", action="store_true", help="with --store: only build the file")
    ap.add_argument("--reuse", action="store_true", help="with --store: reuse a built file")
    args = ap.parse_args()
    if args.store:
        run_store(args.store, args.runs, args.dir, args.build_only, args.reuse)
        return
    if args.check:
        for n, seed in ((50, 1), (1000, 2), (20_000, 3)):
            d = generate(n, seed)
            ref = run_crmkit(d)
            same(ref, run_polars(d), f"polars n={n}")
            same(ref, run_duckdb(d), f"duckdb n={n}")
            print(f"n={n}: crmkit, polars and duckdb agree "
                  f"(due {len(ref['due']['customer_id'])}, unreachable "
                  f"{len(ref['unreachable']['customer_id'])}, at_limit "
                  f"{len(ref['at_limit']['customer_id'])})")
        return
    d = generate(args.customers)
    print(f"customers: {args.customers:,}; consent rows: {len(d['k_customer']):,}; "
          f"interactions: {len(d['i_customer']):,}; best of {args.runs} runs", flush=True)
    results = {}
    for name, fn in (("crmkit", run_crmkit), ("polars", run_polars), ("duckdb", run_duckdb)):
        best = float("inf")
        for _ in range(args.runs):
            t0 = time.perf_counter()
            r = fn(d)
            best = min(best, time.perf_counter() - t0)
        results[name] = r
        if name != "crmkit":
            same(results["crmkit"], r, name)
        sizes = {k: len(v["customer_id"]) for k, v in r.items()}
        print(f"{name:7s} {best:7.3f} s   peak RSS so far {peak_mib():8.1f} MiB   {sizes}",
              flush=True)
        results[name + "_time"] = best
    faster = min(results["polars_time"], results["duckdb_time"])
    print(f"ratio (faster of polars and duckdb) / crmkit: {faster / results['crmkit_time']:.2f} "
          f"(above 1 = crmkit faster)")


if __name__ == "__main__":
    sys.exit(main())
