#!/usr/bin/env python3
"""Coverage of the covariate fits (issue 11's bar): simulate from the model's own generative
process (crmkit.covariates.simulate, numpy, seeded), fit, and count how often each known
coefficient lies within 2 standard errors of its estimate.

    python3 bench/value/covariate_recovery.py [--seeds 100] [--customers 4000] [--model bg|pnbd|both]

Design (per seed s = 0..seeds-1, numpy.random.default_rng(s) for the covariates and
default_rng(10_000 + s) for the histories): purchase covariates u ~ N(0, 1) and v ~ Bernoulli(0.5),
dropout covariate v, ages T ~ Uniform(30, 50). BG/NBD truth: r 0.9, alpha 3, a 0.8, b 2.5,
alpha[u] 0.5, alpha[v] -0.4, a[v] 0.5, b[v] -0.3. Pareto/NBD truth: r 0.9, alpha 3, s 1.2,
beta 8, alpha[u] 0.5, alpha[v] -0.4, beta[v] 0.6.

Prints, per model and parameter, how many seeds have |estimate - truth| <= 2 se, the mean
estimate minus the truth, the standard deviation of the estimates across seeds beside the mean
standard error (their ratio near 1 says the standard errors are right), the pooled
coverage of the coefficients with a 95% binomial (Wilson) interval, and PASS/FAIL against 95%.
(Correct standard errors give 95.45% coverage per interval, so with 100 seeds a single
coefficient's count varies by about +-2; the pooled figure is the steadier one.) A measurement:
it exits 0 unless a fit raises.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import project_venv  # noqa: E402  (bench/project_venv.py)

TRUTH = {
    "bg": {"r": 0.9, "alpha": 3.0, "a": 0.8, "b": 2.5, "alpha[u]": 0.5, "alpha[v]": -0.4,
           "a[v]": 0.5, "b[v]": -0.3},
    "pnbd": {"r": 0.9, "alpha": 3.0, "s": 1.2, "beta": 8.0, "alpha[u]": 0.5, "alpha[v]": -0.4,
             "beta[v]": 0.6},
}


def design(seed: int, customers: int):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    cov = pd.DataFrame({"u": rng.normal(size=customers),
                        "v": (rng.random(customers) < 0.5).astype(float)})
    T = rng.uniform(30.0, 50.0, size=customers)
    return cov, T


def fit_one(model: str, seed: int, customers: int):
    import crmkit

    cov, T = design(seed, customers)
    kind = "beta_geo" if model == "bg" else "pareto_nbd"
    data = crmkit.covariates.simulate(kind, TRUTH[model], cov, T, ["u", "v"], ["v"],
                                      seed=10_000 + seed)
    cls = crmkit.BetaGeoCovariatesFitter if model == "bg" else crmkit.ParetoNBDCovariatesFitter
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = cls().fit(data["frequency"], data["recency"], data["T"], cov,
                      purchase_covariate_cols=["u", "v"], dropout_covariate_cols=["v"])
    return f


def wilson(k: int, n: int) -> tuple[float, float]:
    z = 1.96
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return mid - half, mid + half


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--customers", type=int, default=4000)
    parser.add_argument("--model", choices=["bg", "pnbd", "both"], default="both")
    args = parser.parse_args()
    project_venv.reexec(__file__, sys.argv[1:])
    models = ["bg", "pnbd"] if args.model == "both" else [args.model]
    ok_all = True
    for model in models:
        truth = TRUTH[model]
        inside = {k: 0 for k in truth}
        estimates: dict[str, list[float]] = {k: [] for k in truth}
        ses: dict[str, list[float]] = {k: [] for k in truth}
        not_converged = 0
        start = time.perf_counter()
        for seed in range(args.seeds):
            f = fit_one(model, seed, args.customers)
            if not f.fit_report_.converged:
                not_converged += 1
            est, se = f.params_, f.standard_errors_
            for k, v in truth.items():
                estimates[k].append(float(est[k]))
                ses[k].append(float(se[k]))
                if abs(est[k] - v) <= 2 * se[k]:
                    inside[k] += 1
        elapsed = time.perf_counter() - start
        name = "BG/NBD" if model == "bg" else "Pareto/NBD"
        print(f"{name} with covariates: {args.seeds} seeds x {args.customers} customers, "
              f"{elapsed:.1f} s, {not_converged} fits not converged")
        print("  parameter  (kind)         within 2 se   mean est - truth   sd of est   mean se   sd/se")
        for k, c in inside.items():
            kind = "coefficient" if "[" in k else "base"
            mean = sum(estimates[k]) / len(estimates[k])
            sd = math.sqrt(sum((e - mean) ** 2 for e in estimates[k]) / (len(estimates[k]) - 1))
            mse = sum(ses[k]) / len(ses[k])
            print(f"  {k:10s} ({kind:11s}) {c:3d}/{args.seeds} ({100 * c / args.seeds:3.0f}%)"
                  f"   {mean - truth[k]:+.4f}            {sd:.4f}      {mse:.4f}    {sd / mse:.2f}")
        coefs = [k for k in truth if "[" in k]
        k_in = sum(inside[k] for k in coefs)
        n_all = len(coefs) * args.seeds
        lo, hi = wilson(k_in, n_all)
        cover = k_in / n_all
        verdict = "PASS" if cover >= 0.95 else "FAIL"
        ok_all = ok_all and cover >= 0.95
        print(f"  coefficients pooled: {k_in}/{n_all} = {100 * cover:.1f}% within 2 se "
              f"(95% interval {100 * lo:.1f}-{100 * hi:.1f}%; nominal 95.4%) {verdict} (bar: 95%)")
    print("overall:", "PASS" if ok_all else "FAIL")


if __name__ == "__main__":
    main()
