#!/usr/bin/env python3
"""Time the crmkit side of the value benchmark, step by step, as run_lifetimes.py does lifetimes.

Run it with the project's interpreter (the venv crmkit is installed in) on a file written by
generate.py:

    .venv/bin/python bench/value/run_crmkit.py \
        [--data bench/value/out/value_1000000_seed42.npz] [--customers N] [--out result.json]

The steps, their arguments, the timing (time.perf_counter as "seconds", time.process_time as
"cpu_seconds") and the per-step peak RSS (the same Rss class as run_lifetimes.py: VmHWM after
resetting it through /proc/self/clear_refs) are those of run_lifetimes.py, with crmkit's
lifetimes-named API in place of lifetimes:

    load             np.load + the same pandas transaction log (customer_id, date, amount in
                     dollars)
    summary          crmkit.utils.summary_data_from_transaction_data(freq="D", freq_multiplier=7,
                     monetary_value_col="amount", observation_period_end=start + weeks)
    bgnbd_fit        crmkit.BetaGeoFitter().fit(frequency, recency, T), then standard_errors_
                     (crmkit computes them on first use; lifetimes inside fit)
    gamma_gamma_fit  crmkit.GammaGammaFitter().fit on the customers with frequency > 0
    predict          conditional_probability_alive +
                     conditional_expected_number_of_purchases_up_to_time(39)
    clv              GammaGammaFitter.customer_lifetime_value(bgf, ..., time=12, discount_rate=0.01,
                     freq="W")

The JSON result has the same shape as run_lifetimes.py's (meta, steps, total_seconds); fit steps
also carry crmkit's convergence report. --save-results writes the same per-customer arrays.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from contextlib import contextmanager

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from run_lifetimes import DEFAULT_DATA, START, Rss, log  # noqa: E402  (same RSS method)


def _report(fitter) -> dict:
    """crmkit's fit report (fit_report_: converged, iterations, log-likelihood, gradient norm,
    message)."""
    rep = fitter.fit_report_
    return {"converged": bool(rep.converged), "iterations": int(rep.iterations),
            "log_likelihood": float(rep.log_likelihood),
            "gradient_norm": float(rep.gradient_norm), "message": str(rep.message)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=DEFAULT_DATA, help="npz from generate.py")
    ap.add_argument("--customers", type=int, help="keep customers with id <= N (default: all)")
    ap.add_argument("--weeks", type=float, default=None,
                    help="observation window in weeks (default: from the .json beside --data, "
                         "else 78)")
    ap.add_argument("--out", help="write the JSON result here instead of stdout")
    ap.add_argument("--save-results", metavar="NPZ",
                    help="also save per-customer outputs (id, frequency, recency, T, "
                         "monetary_value, p_alive, expected_39w, clv) for parity checks")
    args = ap.parse_args(argv)

    if not os.path.exists(args.data):
        log(f"run_crmkit.py: {args.data} not found; run bench/value/generate.py first")
        return 2

    t_import = time.perf_counter()
    import numpy as np
    import pandas as pd
    import crmkit
    from crmkit import BetaGeoFitter, GammaGammaFitter
    from crmkit.utils import summary_data_from_transaction_data
    t_import = time.perf_counter() - t_import

    weeks = args.weeks
    meta_path = args.data[:-4] + ".json" if args.data.endswith(".npz") else None
    gen_meta = {}
    if meta_path and os.path.exists(meta_path):
        with open(meta_path) as f:
            gen_meta = json.load(f)
    if weeks is None:
        weeks = float(gen_meta.get("weeks", 78.0))
    start = pd.Timestamp(gen_meta.get("start", START)).tz_localize(None)
    observation_end = start + pd.Timedelta(weeks=weeks)

    rss = Rss()
    steps: dict[str, dict] = {}

    @contextmanager
    def step(name: str):
        log(f"[crmkit] {name} ...")
        rec: dict = {}
        token = rss.start()
        t0, c0 = time.perf_counter(), time.process_time()
        yield rec
        seconds = time.perf_counter() - t0
        out = {"seconds": round(seconds, 4), "cpu_seconds": round(time.process_time() - c0, 4)}
        out.update(rss.stop(token))
        out.update(rec)
        steps[name] = out
        log(f"[crmkit] {name}: {seconds:.3f} s, peak RSS {out['peak_rss_mib']:.0f} MiB")

    load_before = os.getloadavg()
    t_total = time.perf_counter()
    warnings.simplefilter("ignore", FutureWarning)

    with step("load") as rec:
        with np.load(args.data) as z:
            cid, t_us, cents = z["customer_id"], z["time"], z["amount_cents"]
        if args.customers:
            keep = cid <= args.customers
            cid, t_us, cents = cid[keep], t_us[keep], cents[keep]
        transactions = pd.DataFrame({
            "customer_id": cid,
            "date": pd.to_datetime(t_us, unit="us"),
            "amount": cents / 100.0,
        })
        del cid, t_us, cents
        rec["transactions"] = len(transactions)

    with step("summary") as rec:
        summary = summary_data_from_transaction_data(
            transactions, "customer_id", "date", monetary_value_col="amount",
            observation_period_end=observation_end, freq="D", freq_multiplier=7)
        rec["check"] = {
            "customers": int(len(summary)),
            "repeaters": int((summary["frequency"] > 0).sum()),
            "sum_frequency": float(summary["frequency"].sum()),
            "mean_recency": float(summary["recency"].mean()),
            "mean_T": float(summary["T"].mean()),
            "mean_monetary_value_repeaters": float(
                summary.loc[summary["frequency"] > 0, "monetary_value"].mean()),
        }
    del transactions
    n_customers = len(summary)
    f, r, T, m = summary["frequency"], summary["recency"], summary["T"], summary["monetary_value"]

    with step("bgnbd_fit") as rec:
        bgf = BetaGeoFitter(penalizer_coef=0.0)
        bgf.fit(f, r, T)
        # crmkit computes standard errors on first use; lifetimes computes its Hessian inside
        # fit. Reading them here keeps the step like for like (parameters + standard errors).
        rec["standard_errors"] = {k: float(v) for k, v in bgf.standard_errors_.items()}
        rec["params"] = {k: float(v) for k, v in bgf.params_.items()}
        rec["report"] = _report(bgf)

    with step("gamma_gamma_fit") as rec:
        rep = f > 0
        ggf = GammaGammaFitter(penalizer_coef=0.0)
        ggf.fit(f[rep], m[rep])
        rec["params"] = {k: float(v) for k, v in ggf.params_.items()}
        rec["customers"] = int(rep.sum())
        rec["report"] = _report(ggf)

    with step("predict") as rec:
        p_alive = bgf.conditional_probability_alive(f, r, T)
        expected = bgf.conditional_expected_number_of_purchases_up_to_time(39, f, r, T)
        rec["check"] = {"mean_p_alive": float(np.mean(p_alive)),
                        "sum_expected_39w": float(np.sum(expected))}

    with step("clv") as rec:
        clv = ggf.customer_lifetime_value(bgf, f, r, T, m, time=12, discount_rate=0.01, freq="W")
        clv_arr = np.asarray(clv, dtype=float)
        rec["check"] = {"sum_clv": float(clv_arr.sum()), "mean_clv": float(clv_arr.mean())}

    total = time.perf_counter() - t_total

    result = {
        "meta": {
            "peer": "crmkit",
            "versions": {"crmkit": crmkit.__version__, "numpy": np.__version__,
                         "pandas": pd.__version__, "python": platform.python_version()},
            "data": os.path.abspath(args.data),
            "customers": n_customers,
            "transactions": steps["load"]["transactions"],
            "observation_period_end": observation_end.isoformat(),
            "cpus": os.cpu_count(),
            "machine": platform.machine(),
            "loadavg_1min_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
            "rss_method": rss.method,
            "import_seconds": round(t_import, 3),
        },
        "steps": steps,
        "total_seconds": round(total, 3),
    }

    if args.save_results:
        np.savez_compressed(
            args.save_results,
            customer_id=np.asarray(summary.index, dtype=np.int64),
            frequency=np.asarray(f, dtype=float), recency=np.asarray(r, dtype=float),
            T=np.asarray(T, dtype=float), monetary_value=np.asarray(m, dtype=float),
            p_alive=np.asarray(p_alive, dtype=float),
            expected_39w=np.asarray(expected, dtype=float), clv=clv_arr)

    text = json.dumps(result, indent=2) + "\n"
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as fh:
            fh.write(text)
        log(f"[crmkit] total {total:.1f} s; wrote {args.out}")
    else:
        sys.stdout.write(text)
        log(f"[crmkit] total {total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
