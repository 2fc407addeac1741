#!/usr/bin/env python3
"""Where crmkit.dask.fit spends its time: a diagnostic beside bench/dask/run.py, not a benchmark.

    flock /tmp/crmkit-bench.lock .venv/bin/python bench/dask/profile_fit.py [--customers N]

On the benchmark's cluster (2 worker processes, 1 thread each) and data (run.py's generator,
100,000 customers a partition, seed 42), with the crmkit summary persisted, it times for BG/NBD
and for Gamma-Gamma (repeat buyers): the per-partition statistics on the workers
(crmkit.value.statistics), crmkit.dask.statistics (those plus its tree merge, to the client),
crmkit.value.fit on the merged statistics, and the alternative of gathering the per-partition
statistics and merging them once on the client (crmkit.value.merge).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--customers", type=int, default=10_000_000)
    ap.add_argument("--per-partition", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args(argv)

    import dask
    from dask.distributed import Client, LocalCluster, wait

    import crmkit
    import crmkit.dask as cd
    import crmkit.value as cv
    import generate
    import sides

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=":0")
    client = Client(cluster)
    try:
        layout = generate.Layout(args.customers, args.per_partition, args.seed)
        tx = client.persist(generate.dask_frame(layout))
        wait(tx)
        summary = client.persist(cd.summary(tx, "customer_id", "date", "amount",
                                            **sides.SUMMARY_KW))
        wait(summary)
        del tx
        repeaters = summary[summary["frequency"] > 0]
        for name, model, ddf in (("BG/NBD", crmkit.BetaGeoFitter, summary),
                                 ("Gamma-Gamma", crmkit.GammaGammaFitter, repeaters)):
            t0 = time.perf_counter()
            parts = client.compute([dask.delayed(cv.statistics)(model, p)
                                    for p in ddf.to_delayed()])
            wait(parts)
            t1 = time.perf_counter()
            sizes = client.gather(client.map(len, parts))
            t2 = time.perf_counter()
            stats = cd.statistics(model, ddf)
            t3 = time.perf_counter()
            cv.fit(model, stats)
            t4 = time.perf_counter()
            local = client.gather(parts)
            t5 = time.perf_counter()
            cv.merge(local)
            t6 = time.perf_counter()
            print(f"{name}: per-partition statistics on the workers {t1 - t0:.2f} s "
                  f"({sum(sizes):,} rows in {len(sizes)} parts); crmkit.dask.statistics (with "
                  f"its tree merge, to the client) {t3 - t2:.2f} s -> {len(stats):,} distinct "
                  f"rows; crmkit.value.fit on them {t4 - t3:.2f} s; gathering the parts "
                  f"{t5 - t4:.2f} s + one crmkit.value.merge on the client {t6 - t5:.2f} s",
                  flush=True)
    finally:
        client.close()
        cluster.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
