"""Records lifetimes 0.11.3's hourly summaries (freq="h", and what it does with freq="H") for
tests/python/test_hourly.py into hourly.json next to this file.

Run with the lifetimes environment (bench/value/setup_lifetimes.sh):
    bench/value/.venv-lifetimes/bin/python tests/data/lifetimes/record_hourly.py
It reads data/CDNOW_sample.txt (dates only, so every purchase is at 00:00) and builds a small
synthetic log with purchases at different hours of a day (the same log is written into
hourly.json, so the tests read exactly what lifetimes was given).
"""

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import lifetimes
from lifetimes import utils

warnings.simplefilter("ignore")
HERE = Path(__file__).resolve().parent
DATA = HERE.parents[2] / "data"
out = {"lifetimes_version": lifetimes.__version__, "numpy_version": np.__version__,
       "pandas_version": pd.__version__}


def frame(df):
    return {"index": [str(i) for i in df.index], "columns": [str(c) for c in df.columns],
            "values": [[float(v) for v in row] for row in df.to_numpy(dtype=float)]}


def attempt(fn):
    try:
        return frame(fn())
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


# Synthetic log: several purchases per day at different hours, two in one hour, purchases one
# second either side of midnight, first purchases at 23:xx, purchases on hour boundaries (and one
# microsecond before), a purchase after the (mid-hour) observation end but in its hour, and a
# customer whose only purchase is after the observation end.
rows = [
    (1, "2024-03-04 09:15:00", 12.50), (1, "2024-03-04 09:40:00", 7.25),
    (1, "2024-03-04 11:05:00", 3.10), (1, "2024-03-04 23:59:59", 20.00),
    (1, "2024-03-05 00:00:01", 1.99), (1, "2024-03-05 14:30:00", 40.00),
    (2, "2024-03-04 23:10:00", 5.00), (2, "2024-03-05 00:20:00", 6.00),
    (2, "2024-03-05 23:45:00", 7.00), (2, "2024-03-06 07:00:00", 8.00),
    (3, "2024-03-05 23:30:00", 99.99),
    (4, "2024-03-04 12:00:00", 10.00), (4, "2024-03-04 12:59:59.999999", 0.01),
    (4, "2024-03-04 13:00:00", 2.00), (4, "2024-03-06 10:29:59", 4.00),
    (5, "2024-03-04 23:01:00", 15.00), (5, "2024-03-06 10:05:00", 25.00),
    (5, "2024-03-06 10:50:00", 35.00),
    (6, "2024-03-05 08:00:00", 11.00), (6, "2024-03-06 11:10:00", 13.00),
    (7, "2024-03-06 11:30:00", 50.00),
]
log = pd.DataFrame(rows, columns=["id", "t", "amount"])
log["t"] = pd.to_datetime(log["t"], format="ISO8601")
out["log"] = {"id": [r[0] for r in rows], "t": [r[1] for r in rows],
              "amount": [r[2] for r in rows]}
END = "2024-03-06 10:30"
out["observation_period_end"] = END
CAL_ENDS = ["2024-03-05 00:10", "2024-03-04 23:30"]
out["calibration_period_ends"] = CAL_ENDS

synthetic = {}
for fq in ["h", "H"]:
    synthetic[f"summary_{fq}"] = attempt(lambda: utils.summary_data_from_transaction_data(
        log, "id", "t", "amount", observation_period_end=END, freq=fq))
synthetic["summary_h_x24"] = attempt(lambda: utils.summary_data_from_transaction_data(
    log, "id", "t", "amount", observation_period_end=END, freq="h", freq_multiplier=24))
synthetic["summary_h_first"] = attempt(lambda: utils.summary_data_from_transaction_data(
    log, "id", "t", "amount", observation_period_end=END, freq="h",
    include_first_transaction=True))
synthetic["summary_h_default_end"] = attempt(lambda: utils.summary_data_from_transaction_data(
    log, "id", "t", freq="h"))
for k, cal_end in enumerate(CAL_ENDS):
    for fq in ["h", "H"]:
        synthetic[f"calibration_{k}_{fq}"] = attempt(lambda: utils.calibration_and_holdout_data(
            log, "id", "t", calibration_period_end=cal_end, observation_period_end=END, freq=fq,
            monetary_value_col="amount"))
synthetic["calibration_0_h_x24"] = attempt(lambda: utils.calibration_and_holdout_data(
    log, "id", "t", calibration_period_end=CAL_ENDS[0], observation_period_end=END, freq="h",
    freq_multiplier=24, monetary_value_col="amount"))
ft = utils._find_first_transactions(log, "id", "t", "amount", observation_period_end=END,
                                    freq="h")
synthetic["find_first_transactions_h"] = {
    "id": ft["id"].tolist(), "t": [str(v) for v in ft["t"]],
    "amount": [float(v) for v in ft["amount"]], "first": [bool(v) for v in ft["first"]]}
out["synthetic"] = synthetic

# CDNOW sample (dates only): hours are 24 per day.
raw = pd.read_csv(DATA / "CDNOW_sample.txt", sep=r"\s+", header=None,
                  names=["master_id", "customer_id", "date", "number_of_cds", "dollar_value"])
raw["date"] = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d")
cdnow = {}
for fq in ["h", "H"]:
    cdnow[f"summary_{fq}"] = attempt(lambda: utils.summary_data_from_transaction_data(
        raw, "customer_id", "date", "dollar_value", observation_period_end="1998-06-30",
        freq=fq))
cdnow["summary_h_x168"] = attempt(lambda: utils.summary_data_from_transaction_data(
    raw, "customer_id", "date", observation_period_end="1997-09-30", freq="h",
    freq_multiplier=168))
cdnow["calibration_h"] = attempt(lambda: utils.calibration_and_holdout_data(
    raw, "customer_id", "date", calibration_period_end="1997-09-30",
    observation_period_end="1998-06-30", freq="h", monetary_value_col="dollar_value"))
out["cdnow"] = cdnow

# One line per innermost list (a row of a frame, a column of the log) keeps the file small.
text = re.sub(r"\[\s+([^\[\]{}]*?)\s+\]",
              lambda m: "[" + re.sub(r"\s*\n\s*", " ", m.group(1)) + "]", json.dumps(out, indent=1))
(HERE / "hourly.json").write_text(text + "\n")
print("wrote", HERE / "hourly.json")
