#!/usr/bin/env python3
"""Time the crmkit side of the value benchmark, step by step, as run_lifetimes.py does lifetimes.

Run it with the project's interpreter (the venv crmkit is installed in) on a file written by
generate.py:

    .venv/bin/python bench/value/run_crmkit.py \
        [--data bench/value/out/value_1000000_seed42.npz] [--customers N] [--out result.json]

The steps, their arguments, the timing and the per-step peak RSS are those of run_lifetimes.py:
both run the shared code in steps.py (see its docstring), with crmkit's lifetimes-named API
(crmkit.BetaGeoFitter, crmkit.GammaGammaFitter, crmkit.utils.summary_data_from_transaction_data)
in place of lifetimes. What differs here:

    bgnbd_fit        reads standard_errors_ inside the timed step (crmkit computes them on first
                     use; lifetimes inside fit), so the step is like for like
    fit steps        also carry crmkit's convergence report ("report")
    seconds          rounded to 4 digits (crmkit's steps are short)

The JSON result has the same shape as run_lifetimes.py's (meta, steps, total_seconds).
--save-results writes the same per-customer arrays.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import steps  # noqa: E402  (the shared steps, timing and RSS method)


def _load() -> steps.Library:
    import crmkit
    from crmkit import BetaGeoFitter, GammaGammaFitter
    from crmkit.utils import summary_data_from_transaction_data
    return steps.Library(crmkit, BetaGeoFitter, GammaGammaFitter,
                         summary_data_from_transaction_data)


def _standard_errors(name: str, fitter, rec: dict) -> None:
    # crmkit computes standard errors on first use; lifetimes computes its Hessian inside fit.
    # Reading them here keeps the step like for like (parameters + standard errors).
    if name == "bgnbd_fit":
        rec["standard_errors"] = {k: float(v) for k, v in fitter.standard_errors_.items()}


def _report(name: str, fitter, rec: dict) -> None:
    """crmkit's fit report (fit_report_: converged, iterations, log-likelihood, gradient norm,
    message)."""
    rep = fitter.fit_report_
    rec["report"] = {"converged": bool(rep.converged), "iterations": int(rep.iterations),
                     "log_likelihood": float(rep.log_likelihood),
                     "gradient_norm": float(rep.gradient_norm), "message": str(rep.message)}


PEER = steps.Peer(name="crmkit", script="run_crmkit.py", description=__doc__.split("\n\n")[0],
                  load=_load, after_fit=_standard_errors, record_fit=_report,
                  seconds_digits=4, log_digits=3, clv_as_array=True)


def main(argv=None) -> int:
    return steps.main(PEER, argv)


if __name__ == "__main__":
    sys.exit(main())
