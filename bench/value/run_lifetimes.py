#!/usr/bin/env python3
"""Time the lifetimes (0.11.3) side of the value benchmark, step by step.

Run it with the interpreter of bench/value/.venv-lifetimes (see setup_lifetimes.sh) on a file
written by generate.py:

    bench/value/.venv-lifetimes/bin/python bench/value/run_lifetimes.py \
        [--data bench/value/out/value_1000000_seed42.npz] [--customers N] [--out result.json]

The steps (load, summary, bgnbd_fit, gamma_gamma_fit, predict, clv), their timing, the per-step
peak RSS and the JSON result are the shared code in steps.py (see its docstring), run with
lifetimes.BetaGeoFitter, lifetimes.GammaGammaFitter and
lifetimes.utils.summary_data_from_transaction_data. What is lifetimes' own:

    bgnbd_fit        fit includes lifetimes' Hessian / standard errors, which fit always computes;
                     the step also records lifetimes' neg_log_likelihood
    meta.versions    also lists scipy
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import steps  # noqa: E402  (the shared steps, timing and RSS method)


def _load() -> steps.Library:
    import lifetimes
    import scipy
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import summary_data_from_transaction_data
    return steps.Library(lifetimes, BetaGeoFitter, GammaGammaFitter,
                         summary_data_from_transaction_data,
                         extra_versions={"scipy": scipy.__version__})


def _neg_log_likelihood(name: str, fitter, rec: dict) -> None:
    if name == "bgnbd_fit":
        rec["neg_log_likelihood"] = float(fitter._negative_log_likelihood_)


PEER = steps.Peer(name="lifetimes", script="run_lifetimes.py",
                  description=__doc__.split("\n\n")[0], load=_load,
                  record_fit=_neg_log_likelihood, seconds_digits=3, log_digits=2)


def main(argv=None) -> int:
    return steps.main(PEER, argv)


if __name__ == "__main__":
    sys.exit(main())
