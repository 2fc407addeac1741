"""The timed steps of the value benchmark, shared by run_crmkit.py and run_lifetimes.py.

Both scripts call main() with a Peer that names the library and the few things that really differ
between the two (see Peer). This module imports only the standard library at import time; numpy,
pandas and the library are imported inside main(), timed as meta.import_seconds, so it runs in the
project venv (crmkit) and in bench/value/.venv-lifetimes (lifetimes, numpy 1.26, pandas 2.0) alike.

Steps (each timed with time.perf_counter, wall time, as "seconds"; "cpu_seconds" is
time.process_time over the step, all threads of the process; one process, nothing cached between
steps; the 1-minute load average before and after the run is recorded to flag a busy machine):

    load             np.load + the pandas transaction log (customer_id, date, amount in dollars);
                     not library work, reported for context
    summary          <lib>.utils.summary_data_from_transaction_data(freq="D", freq_multiplier=7,
                     monetary_value_col="amount", observation_period_end=start + weeks)
                     -> frequency, recency, T (weeks), monetary_value
    bgnbd_fit        BetaGeoFitter().fit(frequency, recency, T) (+ Peer.after_fit)
    repeat_buyers    the customers with frequency > 0 (pandas boolean indexing of frequency
                     and monetary_value: the same code for both, not library work)
    gamma_gamma_fit  GammaGammaFitter().fit on those customers
    predict          conditional_probability_alive +
                     conditional_expected_number_of_purchases_up_to_time(39) for every customer
    clv              GammaGammaFitter.customer_lifetime_value(bgf, ..., time=12 (months),
                     discount_rate=0.01, freq="W") for every customer

Peak memory: before each step the process's RSS high-water mark is reset by writing "5" to
/proc/self/clear_refs (Linux >= 4.0); after the step VmHWM from /proc/self/status is the peak RSS
*during that step* (peak_rss_mib, the whole process, including what earlier steps still hold),
and peak_rss_mib - rss_start_mib is the extra memory the step needed (step_extra_mib). Where
clear_refs cannot be written, the fallback is getrusage(RUSAGE_SELF).ru_maxrss, whose deltas only
show growth above the previous peak ("rss_method" in the output says which was used).

--customers N keeps the customers with id <= N from the data file (ids are 1..N in generation
order, so that is an unbiased sub-population of the same model).

The result, a JSON object {"meta": ..., "steps": {step: {seconds, peak_rss_mib, ...,
"params" for fits, "check" with a few aggregates for parity}}, "total_seconds": ...}, goes to
stdout or --out. Progress lines go to stderr.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import sys
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.join(HERE, "out", "value_1000000_seed42.npz")
START = "2020-01-06"  # generate.py's window start (a Monday, UTC)


class Rss:
    """Per-step peak RSS, via /proc/self/clear_refs + VmHWM, else ru_maxrss."""

    def __init__(self):
        self.method = "clear_refs+VmHWM"
        try:
            self._reset()
            self._status("VmHWM")
        except OSError:
            self.method = "ru_maxrss"

    @staticmethod
    def _status(key: str) -> float:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024.0  # kB -> MiB
        raise OSError(f"{key} not in /proc/self/status")

    @staticmethod
    def _reset() -> None:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")

    @staticmethod
    def _maxrss() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kB on Linux

    def start(self):
        gc.collect()
        if self.method == "ru_maxrss":
            return self._maxrss(), self._maxrss()
        self._reset()
        return self._status("VmRSS"), None

    def stop(self, token):
        rss_start, maxrss_start = token
        if self.method == "ru_maxrss":
            peak = self._maxrss()
            return {"peak_rss_mib": round(peak, 1), "step_extra_mib": round(peak - maxrss_start, 1)}
        peak = self._status("VmHWM")
        return {"peak_rss_mib": round(peak, 1), "rss_start_mib": round(rss_start, 1),
                "step_extra_mib": round(peak - rss_start, 1)}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


FitHook = Callable[[str, Any, dict], None]  # (step name, fitted fitter, step record)


@dataclass
class Library:
    """What Peer.load returns: the imported library and the three names the steps use."""
    module: Any  # for __version__
    BetaGeoFitter: Any
    GammaGammaFitter: Any
    summary_data_from_transaction_data: Callable
    extra_versions: Optional[dict] = None  # after numpy/pandas in meta.versions (e.g. scipy)


@dataclass
class Peer:
    """One side of the benchmark; only the real differences between the two scripts."""
    name: str                     # "crmkit" / "lifetimes": meta.peer, log prefix, version key
    script: str                   # file name for messages
    description: str              # argparse description
    load: Callable[[], Library]   # imports the library; timed with numpy/pandas as import_seconds
    # Inside the timed fit step, after fit and before params are read (crmkit: standard errors).
    after_fit: Optional[FitHook] = None
    # Inside the timed fit step, after params/customers are recorded (report, likelihood).
    record_fit: Optional[FitHook] = None
    seconds_digits: int = 3       # rounding of seconds / cpu_seconds in the JSON
    log_digits: int = 2           # digits of the per-step progress line
    clv_as_array: bool = False    # convert the CLV result to a float array inside the clv step


def _parser(peer: Peer) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=peer.description)
    ap.add_argument("--data", default=DEFAULT_DATA, help="npz from generate.py")
    ap.add_argument("--customers", type=int, help="keep customers with id <= N (default: all)")
    ap.add_argument("--weeks", type=float, default=None,
                    help="observation window in weeks (default: from the .json beside --data, "
                         "else 78)")
    ap.add_argument("--out", help="write the JSON result here instead of stdout")
    ap.add_argument("--save-results", metavar="NPZ",
                    help="also save per-customer outputs (id, frequency, recency, T, "
                         "monetary_value, p_alive, expected_39w, clv) for parity checks")
    return ap


def main(peer: Peer, argv=None) -> int:
    args = _parser(peer).parse_args(argv)
    tag = f"[{peer.name}]"

    if not os.path.exists(args.data):
        log(f"{peer.script}: {args.data} not found; run bench/value/generate.py first")
        return 2

    t_import = time.perf_counter()
    import numpy as np
    import pandas as pd
    lib = peer.load()
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
    nd = peer.seconds_digits

    @contextmanager
    def step(name: str):
        log(f"{tag} {name} ...")
        rec: dict = {}
        token = rss.start()
        t0, c0 = time.perf_counter(), time.process_time()
        yield rec
        seconds = time.perf_counter() - t0
        out = {"seconds": round(seconds, nd), "cpu_seconds": round(time.process_time() - c0, nd)}
        out.update(rss.stop(token))
        out.update(rec)
        steps[name] = out
        log(f"{tag} {name}: {seconds:.{peer.log_digits}f} s, "
            f"peak RSS {out['peak_rss_mib']:.0f} MiB")

    def fitted(name: str, fitter, rec: dict) -> None:
        """The part of a fit step after fit(); runs inside the timed step."""
        if peer.after_fit:
            peer.after_fit(name, fitter, rec)
        rec["params"] = {k: float(v) for k, v in fitter.params_.items()}

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
        summary = lib.summary_data_from_transaction_data(
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
        bgf = lib.BetaGeoFitter(penalizer_coef=0.0)
        bgf.fit(f, r, T)
        fitted("bgnbd_fit", bgf, rec)
        if peer.record_fit:
            peer.record_fit("bgnbd_fit", bgf, rec)

    # Until 2026-12-03 the selection was inside gamma_gamma_fit; it is pandas work, the same for
    # both, and took 27 ms of crmkit's 35 ms step.
    with step("repeat_buyers") as rec:
        rep = f > 0
        f_rep, m_rep = f[rep], m[rep]
        rec["customers"] = int(rep.sum())

    with step("gamma_gamma_fit") as rec:
        ggf = lib.GammaGammaFitter(penalizer_coef=0.0)
        ggf.fit(f_rep, m_rep)
        fitted("gamma_gamma_fit", ggf, rec)
        rec["customers"] = int(rep.sum())
        if peer.record_fit:
            peer.record_fit("gamma_gamma_fit", ggf, rec)

    with step("predict") as rec:
        p_alive = bgf.conditional_probability_alive(f, r, T)
        expected = bgf.conditional_expected_number_of_purchases_up_to_time(39, f, r, T)
        rec["check"] = {"mean_p_alive": float(np.mean(p_alive)),
                        "sum_expected_39w": float(np.sum(expected))}

    with step("clv") as rec:
        clv = ggf.customer_lifetime_value(bgf, f, r, T, m, time=12, discount_rate=0.01, freq="W")
        if peer.clv_as_array:
            clv = np.asarray(clv, dtype=float)
        rec["check"] = {"sum_clv": float(clv.sum()), "mean_clv": float(clv.mean())}

    total = time.perf_counter() - t_total

    result = {
        "meta": {
            "peer": peer.name,
            "versions": {peer.name: lib.module.__version__, "numpy": np.__version__,
                         "pandas": pd.__version__, **(lib.extra_versions or {}),
                         "python": platform.python_version()},
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
            expected_39w=np.asarray(expected, dtype=float), clv=np.asarray(clv, dtype=float))

    text = json.dumps(result, indent=2) + "\n"
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as fh:
            fh.write(text)
        log(f"{tag} total {total:.1f} s; wrote {args.out}")
    else:
        sys.stdout.write(text)
        log(f"{tag} total {total:.1f} s")
    return 0
