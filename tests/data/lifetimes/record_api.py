"""Records lifetimes 0.11.3's answers for the lifetimes-compatibility tests
(tests/python/test_lifetimes_compat.py) into api.json next to this file.

Run with the lifetimes environment (bench/value/setup_lifetimes.sh):
    bench/value/.venv-lifetimes/bin/python tests/data/lifetimes/record_api.py
It reads the data files of data/ (the same files crmkit.datasets loads) and writes api.json.
"""

import json
import os
import pickle
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import lifetimes
from lifetimes import (BetaGeoBetaBinomFitter, BetaGeoFitter, GammaGammaFitter,
                       ModifiedBetaGeoFitter, ParetoNBDFitter, generate_data, utils)

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
        return fn()
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


def series(s):
    return {str(k): float(v) for k, v in s.items()}


summary = pd.read_csv(DATA / "cdnow_customers_summary.csv")
x, tx, T = summary["frequency"], summary["recency"], summary["T"]
ts = [0.5, 1, 10, 39, 52, 100]

fits = {}
for name, cls in [("BetaGeoFitter", BetaGeoFitter), ("ModifiedBetaGeoFitter", ModifiedBetaGeoFitter),
                  ("ParetoNBDFitter", ParetoNBDFitter)]:
    f = cls().fit(x, tx, T)
    fits[name] = f
    rec = {"params": series(f.params_), "summary": attempt(lambda: frame(f.summary)),
           "variance_matrix": attempt(lambda: frame(f.variance_matrix_)),
           "confidence_intervals": attempt(lambda: frame(f.confidence_intervals_)),
           "standard_errors": attempt(lambda: series(f.standard_errors_)), "repr": repr(f),
           "expected_number_of_purchases_up_to_time": {
               "t": ts, "values": [float(f.expected_number_of_purchases_up_to_time(t)) for t in ts]},
           "alive_matrix_default_shape": list(f.conditional_probability_alive_matrix().shape),
           "alive_matrix_5_10": np.asarray(
               f.conditional_probability_alive_matrix(max_frequency=5, max_recency=10)).tolist(),
           # histories with frequency 0 and recency > 0 (impossible in the models)
           "zero_frequency_recency": {
               "recency": [0.0, 5.0, 20.0], "T": 30.0,
               "alive": [float(f.conditional_probability_alive(0, r, 30.0)) for r in [0.0, 5.0, 20.0]],
               "expected_10": [float(f.conditional_expected_number_of_purchases_up_to_time(
                   10, 0, r, 30.0)) for r in [0.0, 5.0, 20.0]]},
           }
    out[name] = rec

# Pareto/NBD P(n purchases in (T, T+t] | history), lifetimes' signature (n, t, frequency, recency, T)
pnbd = fits["ParetoNBDFitter"]
cases = [(0, 10, 0, 0, 38.86), (1, 10, 0, 0, 38.86), (2, 39, 2, 30.43, 38.86),
         (0, 52, 5, 20.0, 38.0), (3, 52, 5, 35.0, 38.0), (1, 1, 1, 1.71, 38.86)]
out["pareto_conditional_n"] = [
    {"n": n, "t": t, "frequency": fx, "recency": r, "T": TT,
     "value": float(pnbd.conditional_probability_of_n_purchases_up_to_time(n, t, fx, r, TT))}
    for n, t, fx, r, TT in cases]

# BG/BB on the donations data
don = pd.read_csv(DATA / "donations.csv")
bgbb = BetaGeoBetaBinomFitter().fit(don["frequency"], don["recency"], don["periods"],
                                    weights=don["weights"])
out["BetaGeoBetaBinomFitter"] = {
    "params": series(bgbb.params_), "summary": frame(bgbb.summary),
    "variance_matrix": frame(bgbb.variance_matrix_), "repr": repr(bgbb),
    "expected_number_of_purchases_up_to_time": {
        "t": [1, 2, 6, 10], "method_exists": hasattr(bgbb, "expected_number_of_purchases_up_to_time"),
        # lifetimes has no E[X(n)] for BG/BB: the mean of its P(X(n) = x) table
        "values": [float((lambda tab: (tab.index.to_numpy() * tab["model"].to_numpy()).sum()
                                      / tab["model"].sum())(
                       bgbb.expected_number_of_transactions_in_first_n_periods(n)))
                   for n in [1, 2, 6, 10]]},
    # P(alive in 2002) (one period after the six observed) for every (x, t_x) pattern of the data
    "alive_2002": {"frequency": don["frequency"].tolist(), "recency": don["recency"].tolist(),
                   "fitted": bgbb.conditional_probability_alive(
                       1, don["frequency"], don["recency"], don["periods"]).tolist()},
}
paper = BetaGeoBetaBinomFitter()
paper.params_ = pd.Series({"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783})
out["BetaGeoBetaBinomFitter"]["alive_2002"]["paper_params"] = paper.conditional_probability_alive(
    1, don["frequency"], don["recency"], don["periods"]).tolist()

# Gamma-Gamma on the CDNOW summary with monetary values (repeat buyers)
sm = pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")
sm.columns = ["customer_id", "frequency", "recency", "T", "monetary_value"]
rep = sm[sm["frequency"] > 0]
gg = GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
ggq = GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"], q_constraint=True)
bg_m = BetaGeoFitter().fit(sm["frequency"], sm["recency"], sm["T"])
head = sm.head(20)
out["GammaGammaFitter"] = {
    "params": series(gg.params_), "summary": frame(gg.summary),
    "variance_matrix": frame(gg.variance_matrix_), "repr": repr(gg),
    "q_constraint_params": series(ggq.params_),
    "bg_params": series(bg_m.params_),
    "clv": {"time": 6, "discount_rate": 0.02, "freq": "W",
            "frequency": head["frequency"].tolist(), "recency": head["recency"].tolist(),
            "T": head["T"].tolist(), "monetary_value": head["monetary_value"].tolist(),
            "values": utils._customer_lifetime_value(
                bg_m, head["frequency"], head["recency"], head["T"], head["monetary_value"],
                time=6, discount_rate=0.02, freq="W").tolist()},
}
# q_constraint where it binds: a heavy-tailed sample whose unconstrained q is below 1
rng = np.random.RandomState(7)
xs = rng.randint(1, 3, size=300)
ms = np.exp(rng.normal(3.0, 2.0, size=300))
g1 = GammaGammaFitter().fit(xs, ms)
g2 = GammaGammaFitter().fit(xs, ms, q_constraint=True)
out["q_constraint_binding"] = {"frequency": xs.tolist(), "monetary_value": ms.tolist(),
                               "params": series(g1.params_), "q_constraint_params": series(g2.params_)}

# save_model / load_model
with tempfile.TemporaryDirectory() as d:
    f = fits["BetaGeoFitter"]
    f.save_model(os.path.join(d, "a.pkl"))
    f.save_model(os.path.join(d, "b.pkl"), save_data=False)
    f.save_model(os.path.join(d, "c.pkl"), save_data=False, values_to_save=["dropped"])
    res = {}
    for k in "abc":
        g = BetaGeoFitter()
        g.load_model(os.path.join(d, k + ".pkl"))
        data = g.data
        res[k] = {"params": series(g.params_),
                  "data": None if data is None else (data if isinstance(data, str) else list(data.shape)),
                  "repr": repr(g)}
    out["save_load"] = res

# generate_data with fixed seeds
gen = {}
np.random.seed(11)
gen["beta_geometric_nbd_model"] = frame(generate_data.beta_geometric_nbd_model(30, 0.24, 4.41, 0.79, 2.43, size=40))
np.random.seed(12)
gen["pareto_nbd_model"] = frame(generate_data.pareto_nbd_model(30, 0.55, 10.6, 0.61, 11.7, size=40))
np.random.seed(13)
gen["modified_beta_geometric_nbd_model"] = frame(
    generate_data.modified_beta_geometric_nbd_model(30, 0.24, 4.41, 0.79, 2.43, size=40))
np.random.seed(14)
gen["beta_geometric_beta_binom_model"] = frame(
    generate_data.beta_geometric_beta_binom_model(6, 1.204, 0.750, 0.657, 2.783, size=40))
np.random.seed(15)
gen["T_array"] = frame(generate_data.beta_geometric_nbd_model(
    np.array([5.0, 10.0, 20.0, 40.0]), 1.2, 2.0, 0.5, 3.0, size=4))
np.random.seed(16)
try:
    generate_data.beta_geometric_nbd_model_transactional_data(30, 0.24, 4.41, 0.79, 2.43, size=2)
    gen["transactional_data_on_this_pandas"] = "ok"
except Exception as exc:  # pandas 2 removed DataFrame.append
    gen["transactional_data_on_this_pandas"] = f"{type(exc).__name__}: {exc}"
    # record the rows lifetimes gives on pandas 1: DataFrame.append(other) was concat([self, other])
    pd.DataFrame.append = lambda self, other: pd.concat([self, other])
np.random.seed(16)
try:
    t = generate_data.beta_geometric_nbd_model_transactional_data(
        30, 0.24, 4.41, 0.79, 2.43, observation_period_end="2019-1-1", freq="D", size=10)
    gen["beta_geometric_nbd_model_transactional_data"] = {
        "customer_id": [int(v) for v in t["customer_id"]], "date": [str(v) for v in t["date"]]}
except Exception as exc:  # pandas 2 removed DataFrame.append
    gen["beta_geometric_nbd_model_transactional_data"] = {"error": f"{type(exc).__name__}: {exc}"}
out["generate_data"] = gen

# utils on the CDNOW sample
raw = pd.read_csv(DATA / "CDNOW_sample.txt", sep=r"\s+", header=None,
                  names=["master_id", "customer_id", "date", "number_of_cds", "dollar_value"])
raw["date"] = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d")
ft = utils._find_first_transactions(raw, "customer_id", "date", "dollar_value",
                                    observation_period_end="1997-09-30", freq="D")
out["find_first_transactions"] = {
    "rows": len(ft), "columns": list(ft.columns), "customer_id": ft["customer_id"].tolist(),
    "date": [str(v) for v in ft["date"]], "dollar_value": ft["dollar_value"].tolist(),
    "first": [bool(v) for v in ft["first"]]}
ftw = utils._find_first_transactions(raw, "customer_id", "date", freq="W")
out["find_first_transactions_W"] = {
    "rows": len(ftw), "first_count": int(ftw["first"].sum()),
    "head": [[int(a), str(b), bool(c)] for a, b, c in ftw.head(15).to_numpy()]}

weekly = utils.summary_data_from_transaction_data(raw, "customer_id", "date", freq="W")
bgw = BetaGeoFitter().fit(weekly["frequency"], weekly["recency"], weekly["T"])
ect = utils.expected_cumulative_transactions(bgw, raw, "date", "customer_id", 273, freq="D",
                                            freq_multiplier=7)
out["expected_cumulative_transactions"] = {"params": series(bgw.params_),
                                           "actual": ect["actual"].tolist(),
                                           "predicted": ect["predicted"].tolist()}

try:
    utils.summary_data_from_transaction_data(raw, "customer_id", "date",
                                             observation_period_end="1996-12-01")
    out["observation_end_before_data"] = {"error": None}
except Exception as exc:
    out["observation_end_before_data"] = {"error": f"{type(exc).__name__}: {exc}"}
try:
    utils.calibration_and_holdout_data(raw, "customer_id", "date",
                                       calibration_period_end="1997-03-01",
                                       observation_period_end="1997-02-01")
    out["calibration_end_after_observation_end"] = {"error": None}
except Exception as exc:
    out["calibration_end_after_observation_end"] = {"error": f"{type(exc).__name__}: {exc}"}

# freq="H" summaries
hours = pd.DataFrame({
    "id": [1, 1, 1, 2, 2, 3, 3, 3, 4],
    "t": pd.to_datetime(["2024-01-01 00:10", "2024-01-01 05:30", "2024-01-02 01:00",
                         "2024-01-01 02:00", "2024-01-01 02:45", "2024-01-01 03:00",
                         "2024-01-01 20:59", "2024-01-02 08:15", "2024-01-02 09:00"]),
    "amount": [10.0, 20.0, 30.0, 5.0, 7.0, 1.0, 2.0, 4.0, 9.0]})
freq_h = {}
for fq in ["H", "h"]:
    try:
        sh = utils.summary_data_from_transaction_data(hours, "id", "t", "amount", freq=fq,
                                                      observation_period_end="2024-01-02 10:30")
        cal = utils.calibration_and_holdout_data(
            hours, "id", "t", calibration_period_end="2024-01-01 12:00",
            observation_period_end="2024-01-02 10:30", freq=fq, monetary_value_col="amount")
        freq_h[fq] = {"summary": frame(sh), "calibration": frame(cal)}
    except Exception as exc:
        freq_h[fq] = {"error": f"{type(exc).__name__}: {exc}"}
out["freq_H"] = freq_h

(HERE / "api.json").write_text(json.dumps(out, indent=1) + "\n")
print("wrote", HERE / "api.json")
