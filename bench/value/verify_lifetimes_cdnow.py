#!/usr/bin/env python3
"""Check that the lifetimes env reproduces the published CDNOW fits (run with .venv-lifetimes).

BG/NBD on data/cdnow_customers_summary.csv: r=0.243, alpha=4.414, a=0.793, b=2.426 (3 decimals).
Gamma-Gamma on the x > 0 rows of data/cdnow_customers_summary_with_transactions.csv:
p=6.25, q=3.74, v=15.44 (within 0.01). Prints the fitted values; exits 1 on a mismatch.
"""
import os
import sys

import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data")

bg_data = pd.read_csv(os.path.join(DATA, "cdnow_customers_summary.csv"))
bgf = BetaGeoFitter().fit(bg_data["frequency"], bg_data["recency"], bg_data["T"])
gg_data = pd.read_csv(os.path.join(DATA, "cdnow_customers_summary_with_transactions.csv"))
gg_data = gg_data[gg_data["x"] > 0]
ggf = GammaGammaFitter().fit(gg_data["x"], gg_data["zbar"])

ok = True
for name, fitted, want, tol in (
    ("BG/NBD", bgf.params_, {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, 0.0005),
    ("Gamma-Gamma", ggf.params_, {"p": 6.25, "q": 3.74, "v": 15.44}, 0.01),
):
    good = all(abs(fitted[k] - v) <= tol for k, v in want.items())
    ok &= good
    got = ", ".join(f"{k}={fitted[k]:.4f}" for k in want)
    print(f"{name:12s} {got}  {'ok' if good else 'MISMATCH, want ' + str(want)}")
sys.exit(0 if ok else 1)
