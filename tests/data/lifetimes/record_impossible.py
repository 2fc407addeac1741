#!/usr/bin/env python3
"""Records lifetimes 0.11.3's BG/BB answers for histories with frequency 0 and recency > 0, which
the model cannot produce (recency is the period of the last repeat transaction), into
impossible.json beside this script. The continuous-time models' answers are in api.json
(`zero_frequency_recency`, `alive_matrix_5_10`), written by record_api.py.

    bench/value/.venv-lifetimes/bin/python tests/data/lifetimes/record_impossible.py

Parameters: lifetimes' own BG/BB fit on the donations data (api.json), so only the formulas are
compared. tests/python/test_lifetimes_compat.py compares crmkit's impossible_histories="evaluate"
with these numbers.
"""

from __future__ import annotations

import json
from pathlib import Path

import lifetimes
import numpy as np
import pandas as pd
from lifetimes import BetaGeoBetaBinomFitter

HERE = Path(__file__).resolve().parent
api = json.loads((HERE / "api.json").read_text())
f = BetaGeoBetaBinomFitter()
f.params_ = pd.Series(api["BetaGeoBetaBinomFitter"]["params"])
recency = np.array([0.0, 2.0, 4.0, 6.0])
frequency = np.zeros_like(recency)
n_periods = np.full_like(recency, 6.0)
out = {
    "lifetimes_version": lifetimes.__version__,
    "params": api["BetaGeoBetaBinomFitter"]["params"],
    "frequency": frequency.tolist(), "recency": recency.tolist(), "n_periods": n_periods.tolist(),
    "alive": {str(m): np.asarray(f.conditional_probability_alive(m, frequency, recency, n_periods),
                                 dtype=float).tolist() for m in (0, 1)},
    "expected": {str(m): np.asarray(f.conditional_expected_number_of_purchases_up_to_time(
        m, frequency, recency, n_periods), dtype=float).tolist() for m in (1, 5)},
}
(HERE / "impossible.json").write_text(json.dumps(out, indent=1) + "\n")
print(json.dumps(out, indent=1))
