#!/usr/bin/env python3
"""The covariate BG/NBD fit timed beside the plain BG/NBD fit on the same data (issue 11 item 5).

    python3 bench/value/bench_covariates.py [--customers 100000] [--seed 1] [--repeat 3]

Data: crmkit.covariates.simulate (numpy, seeded) draws BG/NBD histories for N customers with two
covariates, u ~ N(0, 1) and v ~ Bernoulli(0.5), both in the purchase and in the dropout process
(10 parameters: r, alpha, a, b, alpha[u], alpha[v], a[u], a[v], b[u], b[v]); ages are 26 to 78
weeks, and recency and T are whole days, as a transaction log summarised by day gives them.

Each measurement runs in its own process (this script with --one), K times alternating plain,
covariates, plain, ...; the fastest run of each counts. Timed: the fit with its standard errors
(crmkit.BetaGeoFitter().fit(...) and reading standard_errors_, which the plain fitter computes on
first read; BetaGeoCovariatesFitter computes them in fit). The plain fit compresses identical
(frequency, recency, T) rows first; the covariate fit cannot (covariates make rows distinct), which
is most of the ratio. Prints both times, the ratio, and each process's peak RSS. Run it under
flock /tmp/crmkit-bench.lock on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import project_venv  # noqa: E402  (bench/project_venv.py)

TRUTH = {"r": 0.9, "alpha": 3.0, "a": 0.8, "b": 2.5, "alpha[u]": 0.5, "alpha[v]": -0.4,
         "a[u]": 0.2, "a[v]": 0.5, "b[u]": 0.1, "b[v]": -0.3}


def make_data(customers: int, seed: int):
    import numpy as np
    import pandas as pd

    import crmkit

    rng = np.random.default_rng(seed)
    cov = pd.DataFrame({"u": rng.normal(size=customers),
                        "v": (rng.random(customers) < 0.5).astype(float)})
    T_weeks = rng.uniform(26.0, 78.0, size=customers)
    data = crmkit.covariates.simulate("beta_geo", TRUTH, cov, T_weeks, ["u", "v"], ["u", "v"],
                                      seed=seed + 1)
    T_days = np.floor(data["T"].to_numpy() * 7.0)
    recency_days = np.minimum(np.floor(data["recency"].to_numpy() * 7.0), T_days)
    return data["frequency"].to_numpy(), recency_days, T_days, cov


def one(kind: str, customers: int, seed: int) -> None:
    import crmkit

    x, tx, T, cov = make_data(customers, seed)
    start = time.perf_counter()
    if kind == "plain":
        f = crmkit.BetaGeoFitter().fit(x, tx, T)
        f.standard_errors_
    else:
        f = crmkit.BetaGeoCovariatesFitter().fit(x, tx, T, cov, ["u", "v"], ["u", "v"])
    elapsed = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": elapsed, "peak_mib": peak_kib / 1024.0,
                      "converged": bool(f.fit_report_.converged),
                      "iterations": int(f.fit_report_.iterations),
                      "log_likelihood": float(f.log_likelihood_),
                      "params": {k: float(v) for k, v in f.params_.items()},
                      "se": {k: float(v) for k, v in f.standard_errors_.items()}}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--one", choices=["plain", "covariates"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    project_venv.reexec(__file__, sys.argv[1:])
    if args.one:
        one(args.one, args.customers, args.seed)
        return
    import crmkit

    results: dict[str, list[dict]] = {"plain": [], "covariates": []}
    for _ in range(args.repeat):
        for kind in ("plain", "covariates"):
            out = subprocess.run([sys.executable, os.path.abspath(__file__), "--one", kind,
                                  "--customers", str(args.customers), "--seed", str(args.seed)],
                                 check=True, capture_output=True, text=True,
                                 env=dict(os.environ, CRMKIT_BENCH_REEXEC="1"))
            results[kind].append(json.loads(out.stdout.strip().splitlines()[-1]))
    best = {k: min(v, key=lambda r: r["seconds"]) for k, v in results.items()}
    print(f"covariate BG/NBD vs plain BG/NBD: {args.customers:,} customers, 2 covariates in both "
          f"processes, seed {args.seed}, fastest of {args.repeat}; crmkit {crmkit.__version__}, "
          f"{os.cpu_count()} cores, model threads {crmkit.model_threads()}, "
          f"{platform.python_implementation()} {platform.python_version()}")
    for kind in ("plain", "covariates"):
        b = best[kind]
        print(f"  {kind:10s} fit + standard errors: {b['seconds']:.3f} s  peak RSS "
              f"{b['peak_mib']:.0f} MiB  converged={b['converged']}  evaluations={b['iterations']}"
              f"  log-likelihood={b['log_likelihood']:.2f}")
    print(f"  ratio covariates / plain: {best['covariates']['seconds'] / best['plain']['seconds']:.1f}x")
    cov = best["covariates"]
    print("  covariate fit (truth in brackets):")
    for k, v in cov["params"].items():
        # The histories are simulated in weeks and summarised in days: alpha (a rate's scale) is
        # 7 times the weekly truth.
        truth = TRUTH[k] * 7 if k == "alpha" else TRUTH[k]
        print(f"    {k:9s} {v:9.4f} +- {cov['se'][k]:.4f}  [{truth:g}]")


if __name__ == "__main__":
    main()
