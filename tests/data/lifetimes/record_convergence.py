"""Records what lifetimes 0.11.3 does on the data sets where a fit has no finite maximum or is
numerically hard (issue 11 item 4): tests/data/lifetimes/convergence.json.

Run with the lifetimes environment (bench/value/setup_lifetimes.sh):
    bench/value/.venv-lifetimes/bin/python tests/data/lifetimes/record_convergence.py

The data sets are built here and in tests/python/test_uncertainty.py the same way (no random
numbers): see `cases()`. For each case the JSON holds either the parameters lifetimes returned
, its mean negative log-likelihood, whether any parameter or standard error is NaN, and the
distinct warning messages it emitted) or the exception it raised (class name and first line of the message).
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from lifetimes import (BetaGeoBetaBinomFitter, BetaGeoFitter, ModifiedBetaGeoFitter,
                       ParetoNBDFitter)

ROOT = Path(__file__).resolve().parents[3]
OUT = Path(__file__).resolve().parent / "convergence.json"


def cases() -> dict[str, tuple[str, tuple[np.ndarray, ...]]]:
    cdnow = pd.read_csv(ROOT / "data" / "cdnow_customers_summary.csv")
    n = 200
    one_time_T = 10.0 + np.arange(n) % 41  # 200 one-time buyers, T = 10 .. 50
    zero = np.zeros(n)
    head50 = cdnow.head(50)
    head3 = cdnow.head(3)
    big = cdnow.copy()  # CDNOW with five customers of frequency 301 .. 1000
    big.loc[:4, "frequency"] = [301, 350, 420, 500, 1000]
    big.loc[:4, "recency"] = (big.loc[:4, "T"] * 0.9).round(2)
    col = lambda d: (d["frequency"].to_numpy(float), d["recency"].to_numpy(float),
                     d["T"].to_numpy(float))
    out = {}
    for name in ("BetaGeoFitter", "ModifiedBetaGeoFitter", "ParetoNBDFitter"):
        out[f"{name}/one_time_buyers"] = (name, (zero, zero, one_time_T))
        out[f"{name}/cdnow_head3"] = (name, col(head3))
        out[f"{name}/cdnow_frequency_above_300"] = (name, col(big))
    out["ParetoNBDFitter/cdnow_head50"] = ("ParetoNBDFitter", col(head50))
    # CDNOW customers 351 .. 400 (rows 350:400): the Pareto/NBD likelihood rises as s and beta
    # go to infinity together (no heterogeneity in the dropout rate).
    out["ParetoNBDFitter/cdnow_rows_350_400"] = ("ParetoNBDFitter", col(cdnow.iloc[350:400]))
    out["BetaGeoBetaBinomFitter/all_zero"] = (
        "BetaGeoBetaBinomFitter", (np.zeros(20), np.zeros(20), np.full(20, 6.0)))
    return out


FITTERS = {c.__name__: c for c in (BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter,
                                   BetaGeoBetaBinomFitter)}


def record(name: str, columns: tuple[np.ndarray, ...]) -> dict:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            m = FITTERS[name]().fit(*columns)
        except Exception as exc:  # what lifetimes raises is the record
            return {"outcome": "raises", "error": type(exc).__name__,
                    "message": str(exc).strip().splitlines()[0]}
        params = {k: float(v) for k, v in m.params_.items()}
        try:
            se = [float(v) for v in m.summary["se(coef)"]]
            se_record = any(math.isnan(v) for v in se)
        except Exception as exc:  # lifetimes cannot give them at all
            se_record = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}"
    return {"outcome": "fits", "params": params,
            "params_nan": any(math.isnan(v) for v in params.values()),
            "standard_errors_nan": se_record,
            # lifetimes' objective: the mean negative log-likelihood (plus penalty, 0 here)
            "mean_negative_log_likelihood": float(m._negative_log_likelihood_),
            "warnings": sorted({str(w.message) for w in caught})}


def main() -> None:
    import lifetimes

    result = {"lifetimes_version": lifetimes.__version__, "cases": {}}
    for key, (name, columns) in cases().items():
        result["cases"][key] = record(name, columns)
        print(key, result["cases"][key].get("outcome"), result["cases"][key].get("error", ""))
    OUT.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
