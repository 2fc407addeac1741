#!/usr/bin/env python3
"""The value benchmark in one command: crmkit against lifetimes 0.11.3 on the same synthetic data.

    python3 bench/value/run.py [--customers N] [--seed S] [--repeat K]

1. makes (or reuses) lifetimes' own venv: bench/value/setup_lifetimes.sh (idempotent);
2. generates the transaction log with generate.py, cached as bench/value/out/value_<N>_seed<S>.npz;
3. runs run_crmkit.py with the project's venv (<repo>/.venv) and run_lifetimes.py with
   bench/value/.venv-lifetimes, each in its own process, never both at once, K times each
   (default 3) alternating crmkit, lifetimes, crmkit, ...; each step counts its fastest run on
   each side, which damps the noise of a shared machine the same way for both;
4. prints, per step, both times, the ratio lifetimes/crmkit (above 1: crmkit faster), both peak
   RSS figures, the fitted parameters of both with their relative differences, a per-customer
   parity check of the summaries and predictions, both models' log-likelihoods at both parameter
   sets, and PASS/FAIL lines against the bars of issue 3.

It is a measurement, not a test: it exits non-zero when a run fails, not when a bar is missed.
The script re-executes itself with the project venv's interpreter (numpy and crmkit are needed
for the parity checks), so any python3 can start it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import project_venv  # noqa: E402  (bench/project_venv.py)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PROJECT_PYTHON = os.path.join(ROOT, ".venv", "bin", "python")
LIFETIMES_PYTHON = os.path.join(HERE, ".venv-lifetimes", "bin", "python")

STEPS = ["load", "summary", "bgnbd_fit", "repeat_buyers", "gamma_gamma_fit", "predict", "clv"]
# Issue 3, "Done when": minimum speed-up (lifetimes seconds / crmkit seconds) per step.
# gamma_gamma_fit and clv: issue 11 item 5 (at least 50x lifetimes at 1,000,000 customers).
BARS = {"summary": 20.0, "bgnbd_fit": 50.0, "gamma_gamma_fit": 50.0, "predict": 10.0, "clv": 50.0}
PARAM_BAR = 1e-4  # maximum relative difference of every fitted parameter
FITS = {"bgnbd_fit": ["r", "alpha", "a", "b"], "gamma_gamma_fit": ["p", "q", "v"]}


def say(msg: str = "") -> None:
    print(msg, flush=True)


def run(cmd: list[str], what: str) -> None:
    """Run a subprocess, its output passed through; exit 1 if it fails."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT)
    if proc.returncode != 0:
        say(f"run.py: {what} failed (exit {proc.returncode}): {' '.join(cmd)}")
        sys.exit(1)
    say(f"  ({what}: {time.perf_counter() - t0:.1f} s)")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def fmt_s(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.4f}" if x < 1 else f"{x:.2f}"


def rel_diff(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-300)


# ------------------------------------------------------------------------------------------------
# Per-customer parity and likelihood checks (numpy and crmkit, in the project venv)

def parity(crm_npz: str, lt_npz: str) -> dict:
    import numpy as np

    c, l = np.load(crm_npz), np.load(lt_npz)
    out: dict = {"same_customers": bool(c["customer_id"].shape == l["customer_id"].shape
                                        and np.array_equal(c["customer_id"], l["customer_id"]))}
    if not out["same_customers"]:
        return out
    out["frequency_equal"] = bool(np.array_equal(c["frequency"], l["frequency"]))
    out["frequency_rows_differing"] = int(np.count_nonzero(c["frequency"] != l["frequency"]))
    for col in ("recency", "T"):
        out[f"{col}_max_abs_diff"] = float(np.max(np.abs(c[col] - l[col])))
    mv_c, mv_l = c["monetary_value"], l["monetary_value"]
    out["monetary_value_max_rel_diff"] = float(
        np.max(np.abs(mv_c - mv_l) / np.maximum(np.abs(mv_l), 1e-300)))
    for col in ("p_alive", "expected_39w", "clv"):
        a, b = c[col], l[col]
        out[f"{col}_finite"] = bool(np.all(np.isfinite(a)))
        out[f"{col}_max_rel_diff"] = float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-12)))
    return out


def likelihoods(crm_npz: str, crm: dict, lt: dict) -> dict:
    """Both fits' log-likelihoods (crmkit's C++ models) at both parameter sets, on one summary."""
    import numpy as np
    from crmkit import _core

    z = np.load(crm_npz)
    f, r, T, m = (np.ascontiguousarray(z[k], dtype=float)
                  for k in ("frequency", "recency", "T", "monetary_value"))
    rep = f > 0
    out = {}
    for fit, model_cls, cols in (("bgnbd_fit", _core.BetaGeoModel, (f, r, T)),
                                 ("gamma_gamma_fit", _core.GammaGammaModel, (f[rep], m[rep]))):
        n = cols[0].size
        row = {}
        for side, res in (("crmkit", crm), ("lifetimes", lt)):
            theta = np.array([res["steps"][fit]["params"][k] for k in FITS[fit]])
            ll = float(model_cls(list(theta)).log_likelihood(*cols))
            # Gradient of the mean log-likelihood with respect to log-parameters (central
            # differences, step 1e-5): the quantity lifetimes' BFGS stops on (scipy minimize,
            # tol=1e-7 -> gtol, infinity norm).
            grad = []
            for k in range(theta.size):
                up, down = theta.copy(), theta.copy()
                up[k] *= np.exp(1e-5)
                down[k] *= np.exp(-1e-5)
                grad.append((model_cls(list(up)).log_likelihood(*cols)
                             - model_cls(list(down)).log_likelihood(*cols)) / 2e-5 / n)
            row[side] = {"log_likelihood": ll, "mean_log_likelihood": ll / n,
                         "grad_log_params_mean_inf_norm": float(np.max(np.abs(grad)))}
        row["ll_crmkit_minus_lifetimes"] = (row["crmkit"]["log_likelihood"]
                                            - row["lifetimes"]["log_likelihood"])
        out[fit] = row
    return out


# ------------------------------------------------------------------------------------------------

def best_of(results: list[dict]) -> dict:
    """One result whose step records are each the fastest (wall seconds) of the runs; params and
    checks are those of the first run (the runs are deterministic); every run's seconds are kept
    in steps[...]["runs_seconds"]."""
    best = json.loads(json.dumps(results[0]))
    for name in STEPS:
        recs = [res["steps"][name] for res in results]
        fastest = min(recs, key=lambda rec: rec["seconds"])
        merged = dict(results[0]["steps"][name])
        for key in ("seconds", "cpu_seconds", "peak_rss_mib", "rss_start_mib", "step_extra_mib"):
            if key in fastest:
                merged[key] = fastest[key]
        merged["runs_seconds"] = [rec["seconds"] for rec in recs]
        best["steps"][name] = merged
    loads = [res["meta"]["loadavg_1min_before_after"] for res in results]
    best["meta"]["loadavg_1min_before_after"] = [min(l[0] for l in loads),
                                                 max(l[1] for l in loads)]
    best["meta"]["runs"] = len(results)
    return best


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--customers", type=int, default=1_000_000, help="customers (1,000,000)")
    ap.add_argument("--seed", type=int, default=42, help="generate.py's seed (42)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs of each side, alternating; each step counts its fastest (3)")
    ap.add_argument("--out-dir", default=os.path.join(HERE, "out"),
                    help="data and results (bench/value/out)")
    args = ap.parse_args(argv)
    if args.customers < 1:
        ap.error("--customers must be >= 1")
    if args.repeat < 1:
        ap.error("--repeat must be >= 1")

    os.makedirs(args.out_dir, exist_ok=True)
    tag = f"{args.customers}_seed{args.seed}"
    data = os.path.join(args.out_dir, f"value_{tag}.npz")
    sides = {
        "crmkit": (sys.executable, os.path.join(HERE, "run_crmkit.py")),
        "lifetimes": (LIFETIMES_PYTHON, os.path.join(HERE, "run_lifetimes.py")),
    }
    npz = {side: os.path.join(args.out_dir, f"{side}_{tag}_results.npz") for side in sides}

    say("== setup: lifetimes env ==")
    run(["bash", os.path.join(HERE, "setup_lifetimes.sh")], "setup_lifetimes.sh")

    say("== data ==")
    if os.path.exists(data) and os.path.exists(data[:-4] + ".json"):
        say(f"  cached: {data}")
    else:
        run([sys.executable, os.path.join(HERE, "generate.py"), "--customers", str(args.customers),
             "--seed", str(args.seed), "--out", data], "generate.py")

    results: dict[str, list[dict]] = {side: [] for side in sides}
    for i in range(1, args.repeat + 1):
        for side, (python, script) in sides.items():
            say(f"== {side}, run {i} of {args.repeat} ==")
            out = os.path.join(args.out_dir, f"{side}_{tag}_run{i}.json")
            cmd = [python, script, "--data", data, "--out", out]
            if i == 1:  # per-customer results once; saving happens after the timed steps
                cmd += ["--save-results", npz[side]]
            for stale in [out] + ([npz[side]] if i == 1 else []):
                if os.path.exists(stale):
                    os.remove(stale)
            run(cmd, os.path.basename(script))
            with open(out) as f:
                results[side].append(json.load(f))

    report(args, best_of(results["crmkit"]), best_of(results["lifetimes"]), npz["crmkit"],
           npz["lifetimes"])
    return 0


def report(args, crm: dict, lt: dict, crm_npz: str, lt_npz: str) -> None:
    cm, lm = crm["meta"], lt["meta"]
    say()
    say(f"== value benchmark: {cm['customers']:,} customers, {cm['transactions']:,} transactions "
        f"(seed {args.seed}) ==")
    say(f"machine: {os.cpu_count()} cores, {cpu_model()}; {time.strftime('%Y-%m-%d %H:%M %Z')}")
    say(f"crmkit {cm['versions']['crmkit']} (numpy {cm['versions']['numpy']}, pandas "
        f"{cm['versions']['pandas']}); lifetimes {lm['versions']['lifetimes']} (numpy "
        f"{lm['versions']['numpy']}, pandas {lm['versions']['pandas']}, scipy "
        f"{lm['versions']['scipy']})")
    runs = (f"{cm['runs']} alternating runs of each side, each step's fastest counts"
            if cm["runs"] > 1 else "1 run of each side")
    say(f"{runs}; 1-min load "
        f"average (lowest before, highest after): crmkit {cm['loadavg_1min_before_after']}, "
        f"lifetimes {lm['loadavg_1min_before_after']}; peak RSS: {cm['rss_method']}")
    say()
    head = (f"{'step':<16}{'crmkit s':>10}{'lifetimes s':>13}{'ratio':>9}{'cpu ratio':>11}"
            f"{'bar':>7}   {'crmkit MiB':>16}{'lifetimes MiB':>18}")
    say(head)
    say("-" * len(head))
    ratios = {}
    for name in STEPS:
        c, l = crm["steps"][name], lt["steps"][name]
        ratio = l["seconds"] / max(c["seconds"], 1e-9)
        cpu_ratio = l["cpu_seconds"] / max(c["cpu_seconds"], 1e-9)
        ratios[name] = ratio
        bar = f">={BARS[name]:g}x" if name in BARS else ""
        mem_c = f"{c['peak_rss_mib']:.0f} (+{c['step_extra_mib']:.0f})"
        mem_l = f"{l['peak_rss_mib']:.0f} (+{l['step_extra_mib']:.0f})"
        say(f"{name:<16}{fmt_s(c['seconds']):>10}{fmt_s(l['seconds']):>13}{ratio:>8.1f}x"
            f"{cpu_ratio:>10.1f}x{bar:>7}   {mem_c:>16}{mem_l:>18}")
    c_tot = sum(crm["steps"][s]["seconds"] for s in STEPS[1:])
    l_tot = sum(lt["steps"][s]["seconds"] for s in STEPS[1:])
    say(f"{'all but load':<16}{fmt_s(c_tot):>10}{fmt_s(l_tot):>13}{l_tot / c_tot:>8.1f}x")
    say("(seconds: wall time of the step, fastest of the runs; ratio = lifetimes/crmkit, "
        "above 1 = crmkit faster; "
        "cpu ratio: the same with process CPU time; MiB: peak RSS of the process during the step "
        "(+ what the step added))")

    say()
    say("fitted parameters:")
    max_rel = {}
    for fit, names in FITS.items():
        cp, lp = crm["steps"][fit]["params"], lt["steps"][fit]["params"]
        diffs = {k: rel_diff(cp[k], lp[k]) for k in names}
        max_rel[fit] = max(diffs.values())
        say(f"  {fit}: " + ", ".join(
            f"{k} {cp[k]:.6g} / {lp[k]:.6g} (rel {diffs[k]:.1e})" for k in names)
            + f"   [crmkit / lifetimes; max rel diff {max_rel[fit]:.2e}]")
        rep = crm["steps"][fit].get("report") or {}
        if rep:
            say(f"    crmkit report: converged={rep.get('converged')}, "
                f"iterations={rep.get('iterations')}, message={rep.get('message')!r}")

    say()
    say("per-customer parity (crmkit vs lifetimes):")
    par = parity(crm_npz, lt_npz)
    summary_same = False
    if not par["same_customers"]:
        say("  the two summaries hold different customers")
    else:
        summary_same = (par["frequency_equal"] and par["recency_max_abs_diff"] < 1e-9
                        and par["T_max_abs_diff"] < 1e-9
                        and par["monetary_value_max_rel_diff"] < 1e-9)
        freq = ("identical" if par["frequency_equal"]
                else f"differs in {par['frequency_rows_differing']} rows")
        say(f"  summary: frequency {freq}; max |diff| recency "
            f"{par['recency_max_abs_diff']:.1e}, T {par['T_max_abs_diff']:.1e}; "
            f"monetary_value max rel diff {par['monetary_value_max_rel_diff']:.1e}")
        say(f"  predictions (each side with its own parameters): max rel diff p_alive "
            f"{par['p_alive_max_rel_diff']:.1e}, expected_39w "
            f"{par['expected_39w_max_rel_diff']:.1e}, "
            f"clv {par['clv_max_rel_diff']:.1e}; crmkit all finite: "
            f"{par['p_alive_finite'] and par['expected_39w_finite'] and par['clv_finite']}")

    lls = None
    try:
        lls = likelihoods(crm_npz, crm, lt)
    except (ImportError, AttributeError, TypeError) as exc:  # binding without the C++ models
        say(f"  (log-likelihood check skipped: {exc})")
    if lls:
        say()
        say("log-likelihood of the crmkit summary at each side's parameters (crmkit's C++ models):")
        for fit, row in lls.items():
            c, l = row["crmkit"], row["lifetimes"]
            say(f"  {fit}: at crmkit's {c['log_likelihood']:.6f}, at lifetimes' "
                f"{l['log_likelihood']:.6f} (crmkit - lifetimes = "
                f"{row['ll_crmkit_minus_lifetimes']:+.3e}); |grad| of the mean LL in "
                f"log-parameters: {c['grad_log_params_mean_inf_norm']:.1e} / "
                f"{l['grad_log_params_mean_inf_norm']:.1e}")

    say()
    for name, bar in BARS.items():
        ok = ratios[name] >= bar
        say(f"{'PASS' if ok else 'FAIL'}  {name}: {ratios[name]:.1f}x (bar >= {bar:g}x)")
    for fit in FITS:
        ok = max_rel[fit] < PARAM_BAR
        say(f"{'PASS' if ok else 'FAIL'}  {fit} parameters: max relative difference "
            f"{max_rel[fit]:.2e} (bar < {PARAM_BAR:g})")
    say(f"{'PASS' if summary_same else 'FAIL'}  summaries identical (frequency exact, recency, T, "
        f"monetary_value to 1e-9)")

    combined = {"crmkit": crm, "lifetimes": lt, "ratios": ratios, "param_max_rel_diff": max_rel,
                "parity": par, "log_likelihoods": lls}
    path = os.path.join(args.out_dir, f"compare_{args.customers}_seed{args.seed}.json")
    with open(path, "w") as f:
        json.dump(combined, f, indent=2)
        f.write("\n")
    say(f"(all figures: {path})")


if __name__ == "__main__":
    project_venv.reexec(__file__, sys.argv[1:])
    sys.exit(main(sys.argv[1:]))
