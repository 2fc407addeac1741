#!/usr/bin/env python3
"""One side of the Dask benchmark, in its own process; started by bench/dask/run.py.

    python sides.py --side {crmkit-dask,lifetimes-dask,crmkit-local} --customers N
        --per-partition P --seed S --out result.json [--workers 2] [--threads-per-worker 1]
        [--save-results DIR]

crmkit-dask and crmkit-local run with the project venv (.venv), lifetimes-dask with
bench/value/.venv-lifetimes. The result JSON is rewritten after every step (and a "running" record
names the step in progress), so run.py can report what was measured when it stops a step that
runs past its time limit, or when the process dies.

Steps (every side): summary (frequency, recency, T in weeks, monetary_value: freq="D",
freq_multiplier=7, observation_period_end = 2021-07-05, the value benchmark's arguments),
bgnbd_fit, gamma_gamma_fit (customers with frequency > 0), predict (P(alive) and the expected
purchases in the next 39 weeks for every customer), clv (12 months, discount 0.01 a month,
freq="W"). The Dask sides first generate the log into the workers' memory (step "generate",
persisted, so the summary step times the summary alone, not the generator); the one-process side
generates and summarises one partition at a time, and reports the two parts separately.

Peak memory: before a step every process of the side resets its high-water mark
(/proc/self/clear_refs, "5") and after it reports VmHWM from /proc/self/status: the peak RSS of
that process during the step. On a LocalCluster that is the client process (which also runs the
scheduler: LocalCluster starts it in the client's process), each worker process and each nanny
(the small process that starts and watches a worker).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate  # noqa: E402

OBS_END = generate.OBSERVATION_END
SUMMARY_KW = dict(observation_period_end=OBS_END, freq="D", freq_multiplier=7)
HORIZON = 39  # weeks, for the expected purchases
CLV_KW = dict(time=12, discount_rate=0.01, freq="W")


# ------------------------------------------------------------------------------------------------
# Memory: per-process high-water marks

def hwm_reset() -> int:
    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return os.getpid()


def hwm_read() -> dict:
    out = {"pid": os.getpid()}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmHWM:", "VmRSS:")):
                out[line.split(":")[0]] = int(line.split()[1]) / 1024.0  # kB -> MiB
    return out


class Processes:
    """Every process of a side: this one, and (with a Dask client) the scheduler, the workers and
    their nannies. reset() before a step, read() after it: {name: {"pid", "VmHWM", "VmRSS"}}."""

    def __init__(self, client=None):
        self.client = client

    def reset(self) -> None:
        hwm_reset()
        if self.client is not None:
            self.client.run(hwm_reset)
            self.client.run(hwm_reset, nanny=True)
            self.client.run_on_scheduler(hwm_reset)

    def read(self) -> dict:
        """{name: {"pid", "VmHWM", "VmRSS"[, "roles"]}}, one entry per process: on a LocalCluster
        the scheduler and the nannies are objects in the client's process (same pid), listed in
        its "roles"."""
        procs = {"client": hwm_read()}
        if self.client is not None:
            client_pid = procs["client"]["pid"]
            roles = []
            sched = self.client.run_on_scheduler(hwm_read)
            if sched["pid"] == client_pid:
                roles.append("scheduler")
            else:
                procs["scheduler"] = sched
            for i, (_, rec) in enumerate(sorted(self.client.run(hwm_read).items())):
                procs[f"worker{i}"] = rec
            for i, (_, rec) in enumerate(sorted(self.client.run(hwm_read, nanny=True).items())):
                if rec["pid"] == client_pid:
                    roles.append(f"nanny{i}")
                else:
                    procs[f"nanny{i}"] = rec
            if roles:
                procs["client"]["roles"] = roles
        return procs


# ------------------------------------------------------------------------------------------------

class Recorder:
    def __init__(self, path: str, meta: dict, processes: Processes):
        self.path = path
        self.result = {"meta": meta, "steps": {}, "params": {}, "checks": {}, "running": None,
                       "error": None}
        self.processes = processes
        self.write()

    def write(self) -> None:
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.result, f, indent=1, default=float)
        os.replace(tmp, self.path)

    def step(self, name: str, fn):
        """Run fn() as step `name`: wall time, per-process peaks; returns fn's result."""
        self.processes.reset()
        self.result["running"] = {"step": name, "started": time.time()}
        self.write()
        log(f"  {name} ...")
        t0 = time.perf_counter()
        c0 = time.process_time()
        try:
            value = fn()
        except BaseException as exc:  # MemoryError included: recorded, then the side stops
            self.result["error"] = {"step": name, "type": type(exc).__name__,
                                    "message": str(exc)[:2000],
                                    "seconds": time.perf_counter() - t0,
                                    "traceback": traceback.format_exc()[-4000:]}
            self.result["running"] = None
            try:
                self.result["error"]["memory"] = self.processes.read()
            except Exception:  # noqa: BLE001 (a dead cluster: the error above is what counts)
                pass
            self.write()
            raise
        rec = {"seconds": time.perf_counter() - t0,
               "client_cpu_seconds": time.process_time() - c0,
               "memory": self.processes.read()}
        if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], dict):
            value, extra = value
            rec.update(extra)
        self.result["steps"][name] = rec
        self.result["running"] = None
        self.write()
        log(f"  {name}: {rec['seconds']:.2f} s, peak MiB "
            + ", ".join(f"{k} {v['VmHWM']:.0f}" for k, v in rec["memory"].items()))
        return value


def log(msg: str) -> None:
    print(msg, flush=True)


def summary_checks(f, r, T, m) -> dict:
    import numpy as np
    f, r, T, m = (np.asarray(x, dtype=float) for x in (f, r, T, m))
    return {"customers": int(f.size), "repeaters": int((f > 0).sum()),
            "sum_frequency": float(f.sum()), "sum_recency": float(r.sum()),
            "sum_T": float(T.sum()), "sum_monetary_value": float(m.sum())}


def save(dirname: str, side: str, **arrays) -> None:
    import numpy as np
    os.makedirs(dirname, exist_ok=True)
    for name, arr in arrays.items():
        np.save(os.path.join(dirname, f"{side}_{name}.npy"), np.asarray(arr, dtype=float))


# ------------------------------------------------------------------------------------------------
# The Dask cluster

def start_cluster(args):
    from dask.distributed import Client, LocalCluster
    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=args.threads_per_worker,
                           processes=True, dashboard_address=":0")
    return cluster, Client(cluster)


def wait_done(futures) -> None:
    """Wait for the futures; raise the first task error (wait() alone returns on errors too)."""
    from dask.distributed import wait
    wait(futures)
    for fut in futures:
        if fut.status == "error":
            fut.result()  # raises the task's exception here, on the client


def wait_persisted(client, collection):
    from dask.distributed import futures_of
    collection = client.persist(collection)
    wait_done(futures_of(collection))
    return collection


# ------------------------------------------------------------------------------------------------
# crmkit on Dask (crmkit.dask)

def run_crmkit_dask(args, rec: Recorder, client) -> None:
    import crmkit
    import crmkit.dask as cdask

    layout = generate.Layout(args.customers, args.per_partition, args.seed)
    tx = rec.step("generate", lambda: (wait_persisted(client, generate.dask_frame(layout)), {}))
    rec.result["checks"]["transactions"] = int(tx.map_partitions(len).compute().sum())  # untimed
    summary = rec.step("summary", lambda: (wait_persisted(client, cdask.summary(
        tx, "customer_id", "date", "amount", **SUMMARY_KW)), {}))
    del tx  # the log is no longer needed: the workers free it
    bgf = rec.step("bgnbd_fit", lambda: cdask.fit(crmkit.BetaGeoFitter(), summary))
    ggf = rec.step("gamma_gamma_fit", lambda: cdask.fit(
        crmkit.GammaGammaFitter(), summary[summary["frequency"] > 0]))
    rec.result["params"] = {"bgnbd_fit": {k: float(v) for k, v in bgf.params_.items()},
                            "gamma_gamma_fit": {k: float(v) for k, v in ggf.params_.items()}}

    def predict():
        from dask.distributed import futures_of
        p_alive = cdask.conditional_probability_alive(bgf, summary)
        expected = cdask.predict(bgf, summary, HORIZON)
        both = client.persist([p_alive, expected])
        wait_done(futures_of(both))
        return both

    preds = rec.step("predict", predict)
    clv = rec.step("clv", lambda: wait_persisted(client, cdask.customer_lifetime_value(
        ggf, bgf, summary, **CLV_KW)))
    finish_dask(args, rec, summary, preds[0], preds[1], clv)


def finish_dask(args, rec, summary, p_alive, expected, clv) -> None:
    """Untimed: collect the results to the client for the parity checks."""
    s = summary.compute()
    rec.result["checks"]["summary"] = summary_checks(s["frequency"], s["recency"], s["T"],
                                                     s["monetary_value"])
    p, e, c = p_alive.compute(), expected.compute(), clv.compute()
    rec.result["checks"]["ids_sorted_complete"] = bool(
        len(s) == args.customers and s.index.is_monotonic_increasing
        and int(s.index[0]) == 1 and int(s.index[-1]) == args.customers
        and p.index.equals(s.index) and e.index.equals(s.index) and c.index.equals(s.index))
    rec.result["checks"]["sum_p_alive"] = float(p.sum())
    rec.result["checks"]["sum_expected"] = float(e.sum())
    rec.result["checks"]["sum_clv"] = float(c.sum())
    if args.save_results:
        save(args.save_results, args.side, frequency=s["frequency"], recency=s["recency"],
             T=s["T"], monetary_value=s["monetary_value"], p_alive=p, expected=e, clv=c)


# ------------------------------------------------------------------------------------------------
# lifetimes on Dask, as a lifetimes user writes it

def _lt_summary(part):
    from lifetimes.utils import summary_data_from_transaction_data
    return summary_data_from_transaction_data(part.reset_index(), "customer_id", "date",
                                              monetary_value_col="amount", **SUMMARY_KW)


def _lt_models(bgnbd_params, gg_params):
    """Fresh lifetimes fitters carrying only the fitted parameters (a fitted lifetimes model keeps
    its training data in .data: shipping it to every task would send the whole summary)."""
    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    bgf = BetaGeoFitter()
    bgf.params_ = pd.Series(bgnbd_params)
    bgf.predict = bgf.conditional_expected_number_of_purchases_up_to_time  # as fit() sets it
    ggf = None
    if gg_params is not None:
        ggf = GammaGammaFitter()
        ggf.params_ = pd.Series(gg_params)
    return bgf, ggf


def _lt_predict(part, bgnbd_params):
    import pandas as pd
    bgf, _ = _lt_models(bgnbd_params, None)
    f, r, T = part["frequency"], part["recency"], part["T"]
    return pd.DataFrame({
        "p_alive": bgf.conditional_probability_alive(f, r, T),
        "expected": bgf.conditional_expected_number_of_purchases_up_to_time(HORIZON, f, r, T)},
        index=part.index)


def _lt_clv(part, bgnbd_params, gg_params):
    bgf, ggf = _lt_models(bgnbd_params, gg_params)
    return ggf.customer_lifetime_value(bgf, part["frequency"], part["recency"], part["T"],
                                       part["monetary_value"], **CLV_KW)


def run_lifetimes_dask(args, rec: Recorder, client) -> None:
    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    layout = generate.Layout(args.customers, args.per_partition, args.seed)
    tx = rec.step("generate", lambda: (wait_persisted(client, generate.dask_frame(layout)), {}))
    rec.result["checks"]["transactions"] = int(tx.map_partitions(len).compute().sum())  # untimed
    summary_meta = pd.DataFrame({c: pd.Series([], dtype="float64")
                                 for c in ("frequency", "recency", "T", "monetary_value")},
                                index=pd.Index([], dtype="int64", name="customer_id"))
    summary = rec.step("summary", lambda: (wait_persisted(
        client, tx.map_partitions(_lt_summary, meta=summary_meta)), {}))
    del tx
    collected = {}

    def bgnbd():
        t0 = time.perf_counter()
        s = summary.compute()  # the fit runs on the client, on the collected summary
        collected["s"] = s
        t_collect = time.perf_counter() - t0
        bgf = BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
        return bgf, {"collect_seconds": t_collect}

    bgf = rec.step("bgnbd_fit", bgnbd)

    def gamma_gamma():
        s = collected["s"]
        rep = s[s["frequency"] > 0]
        return GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])

    ggf = rec.step("gamma_gamma_fit", gamma_gamma)
    bparams = {k: float(v) for k, v in bgf.params_.items()}
    gparams = {k: float(v) for k, v in ggf.params_.items()}
    rec.result["params"] = {"bgnbd_fit": bparams, "gamma_gamma_fit": gparams}
    del collected["s"], bgf, ggf  # free the client's copy (and the fitters' .data) before predict
    pred_meta = pd.DataFrame({"p_alive": pd.Series([], dtype="float64"),
                              "expected": pd.Series([], dtype="float64")},
                             index=pd.Index([], dtype="int64", name="customer_id"))
    preds = rec.step("predict", lambda: wait_persisted(
        client, summary.map_partitions(_lt_predict, bparams, meta=pred_meta)))
    clv = rec.step("clv", lambda: wait_persisted(
        client, summary.map_partitions(_lt_clv, bparams, gparams,
                                       meta=pd.Series([], dtype="float64", name="clv"))))
    finish_dask(args, rec, summary, preds["p_alive"], preds["expected"], clv)


# ------------------------------------------------------------------------------------------------
# crmkit in one process

def run_crmkit_local(args, rec: Recorder) -> None:
    import numpy as np
    import pandas as pd
    import crmkit
    from crmkit.utils import summary_data_from_transaction_data

    layout = generate.Layout(args.customers, args.per_partition, args.seed)

    def summary():
        parts, t_gen, t_sum, rows = [], 0.0, 0.0, 0
        for spec in layout.specs():  # one partition at a time: generate, summarise, drop
            t0 = time.perf_counter()
            part = generate.partition(spec)
            t1 = time.perf_counter()
            rows += len(part)
            parts.append(summary_data_from_transaction_data(
                part.reset_index(), "customer_id", "date", "amount", **SUMMARY_KW))
            t_sum += time.perf_counter() - t1
            t_gen += t1 - t0
            del part
        s = pd.concat(parts)
        rec.result["checks"]["transactions"] = rows
        return s, {"generate_seconds": t_gen, "summary_only_seconds": t_sum}

    s = rec.step("generate+summary", summary)
    f, r, T, m = (np.ascontiguousarray(s[c].to_numpy(dtype=float))
                  for c in ("frequency", "recency", "T", "monetary_value"))
    bgf = rec.step("bgnbd_fit", lambda: crmkit.BetaGeoFitter().fit(f, r, T))
    rep = f > 0
    ggf = rec.step("gamma_gamma_fit", lambda: crmkit.GammaGammaFitter().fit(f[rep], m[rep]))
    rec.result["params"] = {"bgnbd_fit": {k: float(v) for k, v in bgf.params_.items()},
                            "gamma_gamma_fit": {k: float(v) for k, v in ggf.params_.items()}}
    p_alive, expected = rec.step("predict", lambda: (
        bgf.conditional_probability_alive(f, r, T),
        bgf.conditional_expected_number_of_purchases_up_to_time(HORIZON, f, r, T)))
    clv = rec.step("clv", lambda: ggf.customer_lifetime_value(bgf, f, r, T, m, **CLV_KW))
    rec.result["checks"]["summary"] = summary_checks(f, r, T, m)
    rec.result["checks"]["ids_sorted_complete"] = bool(
        len(s) == args.customers and s.index.is_monotonic_increasing
        and int(s.index[0]) == 1 and int(s.index[-1]) == args.customers)
    rec.result["checks"]["sum_p_alive"] = float(np.sum(p_alive))
    rec.result["checks"]["sum_expected"] = float(np.sum(expected))
    rec.result["checks"]["sum_clv"] = float(np.sum(clv))
    if args.save_results:
        save(args.save_results, args.side, frequency=f, recency=r, T=T, monetary_value=m,
             p_alive=p_alive, expected=expected, clv=clv)


# ------------------------------------------------------------------------------------------------

def versions(side: str) -> dict:
    import numpy
    import pandas
    out = {"python": platform.python_version(), "numpy": numpy.__version__,
           "pandas": pandas.__version__}
    if side != "crmkit-local":
        import dask
        import distributed
        out["dask"] = dask.__version__
        out["distributed"] = distributed.__version__
    if side.startswith("crmkit"):
        import crmkit
        out["crmkit"] = getattr(crmkit, "__version__", "?")
    else:
        import lifetimes
        import scipy
        out["lifetimes"] = lifetimes.__version__
        out["scipy"] = scipy.__version__
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--side", required=True,
                    choices=["crmkit-dask", "lifetimes-dask", "crmkit-local"])
    ap.add_argument("--customers", type=int, required=True)
    ap.add_argument("--per-partition", type=int, required=True)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads-per-worker", type=int, default=1)
    ap.add_argument("--out", required=True)
    ap.add_argument("--save-results", help="directory for the per-customer .npy files")
    args = ap.parse_args(argv)

    meta = {"side": args.side, "customers": args.customers, "per_partition": args.per_partition,
            "npartitions": generate.Layout(args.customers, args.per_partition,
                                           args.seed).npartitions,
            "seed": args.seed, "versions": versions(args.side),
            "loadavg_1min_before": os.getloadavg()[0]}
    if args.side == "crmkit-local":
        rec = Recorder(args.out, meta, Processes())
        try:
            run_crmkit_local(args, rec)
        except BaseException:
            traceback.print_exc()
            return 1
    else:
        meta.update(workers=args.workers, threads_per_worker=args.threads_per_worker)
        cluster, client = start_cluster(args)
        rec = Recorder(args.out, meta, Processes(client))
        try:
            (run_crmkit_dask if args.side == "crmkit-dask" else run_lifetimes_dask)(
                args, rec, client)
        except BaseException:
            traceback.print_exc()
            return 1
        finally:
            client.close()
            cluster.close()
    rec.result["meta"]["loadavg_1min_after"] = os.getloadavg()[0]
    rec.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
