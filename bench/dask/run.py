#!/usr/bin/env python3
"""The Dask benchmark in one command: crmkit on Dask, lifetimes on Dask, crmkit in one process.

    python3 bench/dask/run.py [--customers N] [--lifetimes-customers M] [--step-timeout S] ...

For N customers (default 10,000,000) whose transaction log is generated partition by partition
(bench/dask/generate.py; never one pandas frame), three sides run one after the other, each in its
own process (sides.py):

1. crmkit-dask: crmkit.dask on a dask.distributed LocalCluster (2 worker processes, 1 thread each
   by default): summary, fit (BG/NBD, Gamma-Gamma), predictions, CLV;
2. lifetimes-dask: the same pipeline as a lifetimes 0.11.3 user writes it on the same cluster
   shape (summaries by lifetimes' own function per partition with map_partitions, the fits in
   lifetimes on the collected summary, predictions and CLV with map_partitions and the fitted
   parameters), in bench/value/.venv-lifetimes (made by bench/value/setup_lifetimes.sh, which
   also installs dask and distributed there);
3. crmkit-local: crmkit in one process, the partitions generated and summarised one at a time,
   the fits and predictions on the concatenated 10,000,000-row summary.

It prints every step's wall time, the peak RSS of every process in every step, the largest
per-process peak of each side, PASS/FAIL for "no crmkit process above 2 GiB", the ratio
lifetimes-on-Dask / crmkit-on-Dask per step and in total (above 1 = crmkit faster), and parity:
crmkit-on-Dask against crmkit-local (parameters, summaries and every customer's predictions must
be identical) and against lifetimes (relative differences).

A step that runs longer than --step-timeout (1800 s) is stopped (its process group is killed) and
reported as a time-out with what was measured before; an exception in a step (MemoryError
included) or a killed process is reported the same way. --lifetimes-customers M runs the lifetimes
side on the first M customers only (the same partitions); its times are then also shown scaled by
N/M, labelled EXTRAPOLATED.

It is a measurement, not a test: it exits non-zero when a side fails to run, not when a bar is
missed. It re-executes itself with the project venv's interpreter, so any python3 can start it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import project_venv  # noqa: E402  (bench/project_venv.py)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PROJECT_PYTHON = os.path.join(ROOT, ".venv", "bin", "python")
LIFETIMES_PYTHON = os.path.join(ROOT, "bench", "value", ".venv-lifetimes", "bin", "python")
SETUP_LIFETIMES = os.path.join(ROOT, "bench", "value", "setup_lifetimes.sh")

SIDES = ["crmkit-dask", "crmkit-local", "lifetimes-dask"]
STEPS = ["summary", "bgnbd_fit", "gamma_gamma_fit", "predict", "clv"]
FITS = {"bgnbd_fit": ["r", "alpha", "a", "b"], "gamma_gamma_fit": ["p", "q", "v"]}
LIMIT_MIB = 2048.0  # issue 10: no process above 2 GiB


def say(msg: str = "") -> None:
    print(msg, flush=True)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# ------------------------------------------------------------------------------------------------
# Running one side with a per-step time limit

def run_side(side: str, customers: int, args, out_json: str) -> dict:
    python = LIFETIMES_PYTHON if side == "lifetimes-dask" else sys.executable
    cmd = [python, os.path.join(HERE, "sides.py"), "--side", side, "--customers", str(customers),
           "--per-partition", str(args.per_partition), "--seed", str(args.seed),
           "--workers", str(args.workers), "--threads-per-worker", str(args.threads_per_worker),
           "--out", out_json, "--save-results", os.path.join(args.out_dir, "results")]
    if os.path.exists(out_json):
        os.remove(out_json)
    say(f"== {side}: {customers:,} customers ==")
    t0 = time.perf_counter()
    # Its own session: on a time-out the whole group (the side and its Dask worker processes,
    # all started by this run) is killed by its id.
    proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True)
    timed_out = None
    while proc.poll() is None:
        time.sleep(1.0)
        try:
            with open(out_json) as f:
                running = json.load(f).get("running")
        except (OSError, ValueError):
            running = None
        if running and time.time() - running["started"] > args.step_timeout:
            timed_out = running["step"]
            say(f"run.py: {side}: step {timed_out} still running after {args.step_timeout:.0f} s:"
                f" stopping it (process group {proc.pid})")
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    try:
        with open(out_json) as f:
            res = json.load(f)
    except (OSError, ValueError):
        res = {"meta": {"side": side, "customers": customers}, "steps": {}, "params": {},
               "checks": {}, "running": None, "error": None}
    res["returncode"] = proc.returncode
    if timed_out:
        res["error"] = {"step": timed_out, "type": "TimeOut",
                        "message": f"stopped after {args.step_timeout:.0f} s"}
    elif proc.returncode != 0 and not res.get("error"):
        step = (res.get("running") or {}).get("step", "?")
        how = (f"killed by signal {-proc.returncode}" if proc.returncode < 0
               else f"exit {proc.returncode}")
        res["error"] = {"step": step, "type": "ProcessDied", "message": how}
    say(f"  ({side}: {time.perf_counter() - t0:.1f} s, exit {proc.returncode})")
    return res


# ------------------------------------------------------------------------------------------------
# Report

def step_seconds(res: dict, step: str):
    """Wall seconds of a step; for crmkit-local the summary part of generate+summary."""
    steps = res.get("steps", {})
    if step in steps:
        return steps[step]["seconds"]
    if step == "summary" and "generate+summary" in steps:
        return steps["generate+summary"]["summary_only_seconds"]
    if step == "generate" and "generate+summary" in steps:
        return steps["generate+summary"]["generate_seconds"]
    return None


def fmt_s(x) -> str:
    if x is None:
        return "-"
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-300)


def peaks(res: dict) -> dict:
    """{process: largest VmHWM over the steps} (process names as sides.py gives them)."""
    out: dict = {}
    recs = [s["memory"] for s in res.get("steps", {}).values() if "memory" in s]
    if res.get("error") and res["error"].get("memory"):
        recs.append(res["error"]["memory"])
    for mem in recs:
        for name, rec in mem.items():
            out[name] = max(out.get(name, 0.0), rec["VmHWM"])
    return out


def report(args, results: dict, lt_customers: int) -> dict:
    summary: dict = {"customers": args.customers, "lifetimes_customers": lt_customers,
                     "sides": {}}
    any_res = next(iter(results.values()))
    meta = any_res["meta"]
    say()
    say(f"== Dask benchmark: {args.customers:,} customers, {meta.get('npartitions', '?')} "
        f"partitions of {args.per_partition:,} customers (seed {args.seed}) ==")
    tx = {side: res.get("checks", {}).get("transactions") for side, res in results.items()}
    if any(v is not None for v in tx.values()):
        say("transactions: " + ", ".join(f"{side} {v:,}" for side, v in tx.items()
                                         if v is not None))
    say(f"machine: {os.cpu_count()} cores, {cpu_model()}; {time.strftime('%Y-%m-%d %H:%M %Z')}; "
        f"LocalCluster: {args.workers} worker processes x {args.threads_per_worker} thread(s)")
    for side, res in results.items():
        m = res["meta"]
        v = ", ".join(f"{k} {val}" for k, val in m.get("versions", {}).items())
        say(f"  {side}: {m.get('customers', '?'):,} customers; {v}; 1-min load "
            f"{m.get('loadavg_1min_before', 0):.2f} before, "
            f"{m.get('loadavg_1min_after', float('nan')):.2f} after")
    scale = args.customers / lt_customers if lt_customers != args.customers else 1.0

    # Times
    say()
    cols = ["crmkit-dask", "lifetimes-dask", "crmkit-local"]
    head = (f"{'step':<18}{'crmkit-dask s':>15}{'lifetimes-dask s':>18}{'ratio':>9}"
            f"{'crmkit-1-process s':>20}")
    if scale != 1.0:
        head += f"{'lifetimes x N/M':>17}{'EXTRAP. ratio':>15}"
    say(head)
    say("-" * len(head))
    totals = {c: 0.0 for c in cols}
    complete = {c: True for c in cols}
    ratios = {}
    for step in ["generate"] + STEPS:
        secs = {c: step_seconds(results[c], step) if c in results else None for c in cols}
        for c in cols:
            if step != "generate":
                if secs[c] is None:
                    complete[c] = False
                else:
                    totals[c] += secs[c]
        ratio = None
        if secs["crmkit-dask"] and secs["lifetimes-dask"] is not None:
            ratio = secs["lifetimes-dask"] * scale / secs["crmkit-dask"]
            if step != "generate":
                ratios[step] = ratio
        line = (f"{step:<18}{fmt_s(secs['crmkit-dask']):>15}{fmt_s(secs['lifetimes-dask']):>18}"
                f"{(f'{ratio:.1f}x' if ratio is not None and scale == 1.0 else '-'):>9}"
                f"{fmt_s(secs['crmkit-local']):>20}")
        if scale != 1.0:
            ext = secs["lifetimes-dask"] * scale if secs["lifetimes-dask"] is not None else None
            line += f"{fmt_s(ext):>17}{(f'{ratio:.1f}x' if ratio else '-'):>15}"
        say(line)
    total_ratio = (totals["lifetimes-dask"] * scale / totals["crmkit-dask"]
                   if complete["lifetimes-dask"] and complete["crmkit-dask"]
                   and totals["crmkit-dask"] > 0 else None)
    line = (f"{'total (no gen.)':<18}"
            + "".join(f"{(fmt_s(totals[c]) if complete[c] else 'incomplete'):>{w}}"
                      for c, w in (("crmkit-dask", 15), ("lifetimes-dask", 18)))
            + f"{(f'{total_ratio:.1f}x' if total_ratio and scale == 1.0 else '-'):>9}"
            + f"{(fmt_s(totals['crmkit-local']) if complete['crmkit-local'] else 'incomplete'):>20}")
    if scale != 1.0:
        line += (f"{fmt_s(totals['lifetimes-dask'] * scale) if complete['lifetimes-dask'] else '-':>17}"
                 f"{(f'{total_ratio:.1f}x' if total_ratio else '-'):>15}")
    say(line)
    say("(wall seconds; ratio = lifetimes-dask / crmkit-dask, above 1 = crmkit faster; generate: "
        "the log generated into the workers' memory (persisted), not part of the total; "
        "crmkit-1-process: generate and summary are the summed parts of one partition-at-a-time "
        "loop)")
    if scale != 1.0:
        say(f"EXTRAPOLATED: lifetimes ran on {lt_customers:,} customers, not {args.customers:,}; "
            f"'lifetimes x N/M' multiplies its times by {scale:g} (linear in customers, an "
            f"assumption, not a measurement), and so does the EXTRAP. ratio")
    lt_extra = results.get("lifetimes-dask", {}).get("steps", {}).get("bgnbd_fit", {})
    if "collect_seconds" in lt_extra:
        say(f"  lifetimes bgnbd_fit includes collecting the summary to the client: "
            f"{lt_extra['collect_seconds']:.2f} s")
    for side, res in results.items():
        if res.get("error"):
            e = res["error"]
            secs = e.get("seconds")
            say(f"  {side}: step {e['step']} FAILED: {e['type']}: {e['message'][:300]}"
                + (f" (after {secs:.1f} s)" if secs else ""))

    # Memory
    say()
    say("peak RSS per process and step (MiB; VmHWM after clear_refs at the step's start):")
    verdicts = {}
    for side, res in results.items():
        say(f"  {side}:")
        names = []
        for s in res.get("steps", {}).values():
            for n in s.get("memory", {}):
                if n not in names:
                    names.append(n)
        if not names:
            say("    (no step finished)")
            continue
        roles = {}
        for s in res["steps"].values():
            for n, rec in s.get("memory", {}).items():
                if rec.get("roles"):
                    roles[n] = "+".join(rec["roles"])
        say("    " + f"{'step':<18}" + "".join(
            f"{n + ('(' + roles[n] + ')' if n in roles else ''):>{max(12, len(n) + len(roles.get(n, '')) + 4)}}"
            for n in names))
        for step, s in res["steps"].items():
            say("    " + f"{step:<18}" + "".join(
                f"{s['memory'][n]['VmHWM'] if n in s['memory'] else float('nan'):>{max(12, len(n) + len(roles.get(n, '')) + 4)}.0f}"
                for n in names))
        pk = peaks(res)
        worst = max(pk.items(), key=lambda kv: kv[1])
        summary["sides"].setdefault(side, {})["largest_peak_mib"] = worst[1]
        line = f"    largest per-process peak: {worst[1]:.0f} MiB ({worst[0]})"
        if side.startswith("crmkit"):
            ok = worst[1] <= LIMIT_MIB and not res.get("error")
            verdicts[side] = ok
            line += (f"  -> {'PASS' if ok else 'FAIL'}: no process above 2 GiB"
                     + ("" if not res.get("error") else " (the side did not finish)"))
        say(line)

    # Parity
    say()
    say("parity:")
    cd, cl, lt = (results.get(s) for s in ("crmkit-dask", "crmkit-local", "lifetimes-dask"))
    parity = {}
    if cd and cl and cd.get("params") and cl.get("params"):
        same = all(cd["params"][f][k] == cl["params"][f][k] for f in FITS for k in FITS[f])
        worst = max(rel(cd["params"][f][k], cl["params"][f][k]) for f in FITS for k in FITS[f])
        per_customer = compare_arrays(args, "crmkit-dask", "crmkit-local")
        sums_same = cd["checks"].get("summary") == cl["checks"].get("summary")
        parity["crmkit_dask_vs_local"] = {"params_identical": same, "max_rel": worst,
                                          "per_customer": per_customer,
                                          "summary_sums_identical": sums_same}
        say(f"  crmkit-dask vs crmkit-1-process: parameters "
            f"{'IDENTICAL' if same else f'differ (max rel {worst:.2e})'}; summary sums "
            f"{'identical' if sums_same else 'DIFFER'}; per customer: {per_customer['text']}")
        for f in FITS:
            say(f"    {f}: " + ", ".join(f"{k} {cd['params'][f][k]:.10g}" for k in FITS[f]))
    if cd and lt and cd.get("params") and lt.get("params"):
        say(f"  crmkit-dask vs lifetimes-dask"
            + (f" (lifetimes on {lt_customers:,} customers: parameters of different data)"
               if scale != 1.0 else "") + ":")
        for f in FITS:
            say(f"    {f}: " + ", ".join(
                f"{k} {cd['params'][f][k]:.6g} / {lt['params'][f][k]:.6g} "
                f"(rel {rel(cd['params'][f][k], lt['params'][f][k]):.1e})" for k in FITS[f])
                + "   [crmkit / lifetimes]")
        parity["crmkit_dask_vs_lifetimes_max_rel"] = max(
            rel(cd["params"][f][k], lt["params"][f][k]) for f in FITS for k in FITS[f])
        if scale == 1.0:
            pc = compare_arrays(args, "crmkit-dask", "lifetimes-dask")
            parity["crmkit_dask_vs_lifetimes_per_customer"] = pc
            say(f"    per customer (each side with its own parameters): {pc['text']}")

    say()
    for side, ok in verdicts.items():
        say(f"{'PASS' if ok else 'FAIL'}  {side}: largest per-process peak "
            f"{summary['sides'][side]['largest_peak_mib']:.0f} MiB (limit 2048 MiB)")
    if total_ratio:
        say(f"{'EXTRAPOLATED ' if scale != 1.0 else ''}ratio lifetimes-dask / crmkit-dask, "
            f"summary to CLV: {total_ratio:.1f}x")
    summary.update(totals=totals, ratios=ratios, total_ratio=total_ratio, parity=parity,
                   verdicts=verdicts)
    return summary


def compare_arrays(args, a: str, b: str) -> dict:
    import numpy as np
    d = os.path.join(args.out_dir, "results")
    out, parts = {}, []
    for name in ("frequency", "recency", "T", "monetary_value", "p_alive", "expected", "clv"):
        pa, pb = (os.path.join(d, f"{s}_{name}.npy") for s in (a, b))
        if not (os.path.exists(pa) and os.path.exists(pb)):
            return {"text": "not available (a side did not save its results)"}
        x, y = np.load(pa), np.load(pb)
        if x.shape != y.shape:
            return {"text": f"{name}: different numbers of customers ({x.size} / {y.size})"}
        if np.array_equal(x, y):
            out[name] = 0.0
            parts.append(f"{name} identical")
        else:
            r = float(np.max(np.abs(x - y) / np.maximum(np.abs(y), 1e-12)))
            out[name] = r
            parts.append(f"{name} max rel {r:.1e}")
    out["text"] = ", ".join(parts)
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--customers", type=int, default=10_000_000, help="N (10,000,000)")
    ap.add_argument("--lifetimes-customers", type=int,
                    help="run the lifetimes side on the first M customers only (default N); "
                         "its times are then extrapolated, and labelled so")
    ap.add_argument("--per-partition", type=int, default=100_000,
                    help="customers per partition (100,000)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--workers", type=int, default=2, help="worker processes (2)")
    ap.add_argument("--threads-per-worker", type=int, default=1, help="(1)")
    ap.add_argument("--step-timeout", type=float, default=1800.0,
                    help="seconds a step may run before it is stopped (1800)")
    ap.add_argument("--sides", default=",".join(SIDES), help=f"comma-separated ({','.join(SIDES)})")
    ap.add_argument("--out-dir", default=os.path.join(HERE, "out"))
    args = ap.parse_args(argv)
    sides = [s for s in args.sides.split(",") if s]
    if any(s not in SIDES for s in sides):
        ap.error(f"--sides: unknown side in {args.sides!r}")
    if args.customers < 1 or args.per_partition < 1:
        ap.error("--customers and --per-partition must be >= 1")
    lt_customers = args.lifetimes_customers or args.customers
    if not 1 <= lt_customers <= args.customers:
        ap.error("--lifetimes-customers must be between 1 and --customers")
    os.makedirs(os.path.join(args.out_dir, "results"), exist_ok=True)

    if "lifetimes-dask" in sides:
        say("== setup: lifetimes env (with dask) ==")
        if subprocess.run(["bash", SETUP_LIFETIMES], cwd=ROOT).returncode != 0:
            say("run.py: setup_lifetimes.sh failed")
            return 1
    results = {}
    for side in sides:
        n = lt_customers if side == "lifetimes-dask" else args.customers
        results[side] = run_side(side, n, args, os.path.join(args.out_dir, f"{side}_{n}.json"))
    if not results:
        return 0
    summary = report(args, results, lt_customers)
    path = os.path.join(args.out_dir, f"report_{args.customers}.json")
    with open(path, "w") as f:
        json.dump({"summary": summary, "results": results}, f, indent=1, default=float)
    say(f"(all figures: {os.path.relpath(path, ROOT)})")
    return 0 if all(r.get("returncode") == 0 for r in results.values()) else 1


if __name__ == "__main__":
    project_venv.reexec(__file__, sys.argv[1:])
    sys.exit(main(sys.argv[1:]))
