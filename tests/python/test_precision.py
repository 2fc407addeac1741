"""Issue 11, item 4: the BG/NBD and MBG/NBD predictions against high-precision references, the
Gamma-Gamma expected spend per row, and the speed-ups of Gamma-Gamma and CLV kept to the old
results.

The references are tests/data/mpmath/references.csv, written by record_references.py beside it
(mpmath at rising precision until two precisions agree to 20 digits); this test does not import
mpmath.
"""

from __future__ import annotations

import csv
import math
import os

import numpy as np
import pytest

import crmkit
from crmkit import _core

REFERENCES = os.path.join(os.path.dirname(__file__), "..", "data", "mpmath", "references.csv")

# Relative tolerance of every reference point.
RTOL = 1e-10
# Expected purchases where the expectation given alive is evaluated by quadrature: u = t / (alpha
# + T) > 9 (z > 0.9, outside the series' reach) with more than about 1e7 terms of the positive
# series (r u + 40 (1 + u) > 1e7: alpha tiny against t, or r large). The integrand over the
# dropout probability p has a transition at p ~ 1 / u that tanh-sinh resolves to about 1e-9
# (largest seen 7.9e-9, at r = a = b = 0.001, alpha = 0.001, t = 1e5): bound 2e-8.
RTOL_QUADRATURE = 2e-8
# Probabilities below the smallest normal double are compared in absolute terms.
TINY = 1e-300


def _rows():
    with open(REFERENCES, newline="") as fh:
        return list(csv.DictReader(fh))


ROWS = _rows()


def _model(row):
    params = [float(row[k]) for k in ("r", "alpha", "a", "b")]
    cls = _core.ModifiedBetaGeoModel if row["model"] == "mbg" else _core.BetaGeoModel
    return cls(params)


def _quadrature_route(r, alpha, t):
    u = t / alpha
    return u > 9 and r * u + 40 * (1 + u) > 1e7


def _value(row):
    m = _model(row)
    x, tx, T, t, n = (float(row[k]) for k in ("x", "tx", "T", "t", "n"))
    q = row["quantity"]
    r, alpha = float(row["r"]), float(row["alpha"])
    if q == "p_alive":
        return float(m.conditional_probability_alive([x], [tx], [T])[0]), RTOL
    if q == "conditional_expected":
        tol = RTOL_QUADRATURE if _quadrature_route(r + x, alpha + T, t) else RTOL
        return float(m.conditional_expected_number_of_purchases_up_to_time(t, [x], [tx], [T])[0]), tol
    if q == "expected":
        tol = RTOL_QUADRATURE if _quadrature_route(r, alpha, t) else RTOL
        return float(m.expected_number_of_purchases_up_to_time([t])[0]), tol
    assert q == "probability_n"
    return float(m.probability_of_n_purchases_up_to_time(t, n)), RTOL


def test_references_cover_the_ranges_of_the_issue():
    assert len(ROWS) >= 2000
    r = np.array([float(row["r"]) for row in ROWS])
    x = np.array([float(row["x"]) for row in ROWS])
    t = np.array([float(row["t"]) for row in ROWS])
    assert r.min() <= 1e-3 and r.max() >= 999
    assert x.max() >= 9999
    assert t.min() <= 1.001e-3 and t.max() >= 0.99e5
    for col in ("alpha", "a", "b"):
        v = np.array([float(row[col]) for row in ROWS])
        assert v.min() <= 1.001e-3 and v.max() >= 0.99e4
    assert {row["quantity"] for row in ROWS} == {
        "p_alive", "conditional_expected", "expected", "probability_n"}


def test_issue_case_large_r():
    # r = 100, alpha = 5, a = 0.8, b = 2.4, x = 0, T = 1, t = 52: 26.729379 (was 9,071,954).
    m = _core.BetaGeoModel([100.0, 5.0, 0.8, 2.4])
    got = m.conditional_expected_number_of_purchases_up_to_time(52.0, [0.0], [0.0], [1.0])[0]
    ref = [row for row in ROWS if row["model"] == "bg" and row["quantity"] == "conditional_expected"
           and row["r"] == "100.0" and row["alpha"] == "5.0" and row["T"] == "1.0"]
    assert len(ref) == 1
    assert got == pytest.approx(float(ref[0]["value"]), rel=RTOL)
    assert round(got, 6) == 26.729379


@pytest.mark.parametrize("model", ["bg", "mbg"])
@pytest.mark.parametrize("quantity", ["p_alive", "conditional_expected", "expected", "probability_n"])
def test_predictions_match_mpmath(model, quantity):
    bad = []
    rows = [row for row in ROWS if row["model"] == model and row["quantity"] == quantity]
    assert rows
    for row in rows:
        ref = float(row["value"])
        got, tol = _value(row)
        if abs(ref) < TINY:
            ok = abs(got - ref) <= TINY
        else:
            ok = math.isfinite(got) and abs(got - ref) <= tol * abs(ref)
        if not ok:
            bad.append((dict(row), got, abs(got - ref) / max(abs(ref), TINY)))
    assert not bad, f"{len(bad)} of {len(rows)} points off, first: {bad[:3]}"


# ---- Gamma-Gamma: the expected spend per row -------------------------------------------------

def test_gamma_gamma_spend_is_nan_only_where_it_does_not_exist():
    gg = _core.GammaGammaModel([2.0, 0.5, 10.0])  # q <= 1: no population mean
    out = gg.conditional_expected_average_profit([0.0, 1.0, 0.0, 3.0], [0.0, 5.0, 7.0, 2.0])
    assert math.isnan(out[0]) and math.isnan(out[2])
    assert out[1] == pytest.approx(2 * (10 + 5) / 1.5, rel=1e-15)
    assert out[3] == pytest.approx(2 * (10 + 3 * 2) / 5.5, rel=1e-15)
    # p x + q <= 1 with x > 0 (p = 0.25, q = 0.5, x = 2): NaN too; x = 3 exists.
    small = _core.GammaGammaModel([0.25, 0.5, 10.0])
    out = small.conditional_expected_average_profit([2.0, 3.0], [4.0, 4.0])
    assert math.isnan(out[0])
    assert out[1] == pytest.approx(0.25 * (10 + 12) / 0.25, rel=1e-15)
    # q > 1: frequency 0 gets the population mean p v / (q - 1).
    gg2 = _core.GammaGammaModel([6.25, 3.74, 15.44])
    assert gg2.conditional_expected_average_profit([0.0], [0.0])[0] == pytest.approx(
        6.25 * 15.44 / 2.74, rel=1e-15)


def test_clv_rows_without_spend_are_nan_and_the_others_unchanged():
    bg = _core.BetaGeoModel([0.243, 4.414, 0.793, 2.426])
    gg = _core.GammaGammaModel([2.0, 0.5, 10.0])
    x = np.array([0.0, 1.0, 4.0])
    tx = np.array([0.0, 10.0, 30.0])
    T = np.array([38.0, 38.0, 38.0])
    m = np.array([0.0, 5.0, 20.0])
    clv = gg.customer_lifetime_value(bg, x, tx, T, m, months=12, discount_rate=0.01,
                                     periods_per_month=4.345)
    assert math.isnan(clv[0])
    expected = _clv_by_months(bg, gg, x[1:], tx[1:], T[1:], m[1:], 12, 0.01, 4.345)
    np.testing.assert_allclose(clv[1:], expected, rtol=1e-13, atol=0)


def _clv_by_months(bg, gg, x, tx, T, m, months, rate, k):
    """lifetimes' loop (and crmkit's before issue 11): one prediction call per month."""
    spend = gg.conditional_expected_average_profit(x, m)
    clv = np.zeros(len(x))
    prev = np.zeros(len(x))
    for i in range(1, months + 1):
        cur = bg.conditional_expected_number_of_purchases_up_to_time(i * k, x, tx, T)
        clv += spend * (cur - prev) / (1 + rate) ** i
        prev = cur
    return clv


@pytest.mark.parametrize("cls", [_core.BetaGeoModel, _core.ModifiedBetaGeoModel])
def test_clv_fast_path_matches_the_per_month_loop(cls):
    rng = np.random.default_rng(5)
    n = 30000  # above the threshold of the worker threads
    T = np.round(rng.uniform(1, 78, n) * 7) / 7
    x = np.minimum(rng.poisson(2.0, n), 300).astype(float)
    tx = np.where(x > 0, np.round(T * rng.uniform(0, 1, n) * 7) / 7, 0.0)
    m = np.where(x > 0, np.round(rng.gamma(3, 12, n), 2) + 0.01, 0.0)
    model = cls([0.243, 4.414, 0.793, 2.426])
    gg = _core.GammaGammaModel([6.25, 3.74, 15.44])
    clv = gg.customer_lifetime_value(model, x, tx, T, m, months=12, discount_rate=0.01,
                                     periods_per_month=4.345)
    np.testing.assert_allclose(clv, _clv_by_months(model, gg, x, tx, T, m, 12, 0.01, 4.345),
                               rtol=1e-12, atol=0)
    # A Pareto/NBD model takes the generic per-month path: the same loop exactly.
    pnbd = _core.ParetoNBDModel([0.55, 10.6, 0.61, 11.7])
    clv = gg.customer_lifetime_value(pnbd, x[:2000], tx[:2000], T[:2000], m[:2000], months=3,
                                     discount_rate=0.01, periods_per_month=4.345)
    np.testing.assert_allclose(
        clv, _clv_by_months(pnbd, gg, x[:2000], tx[:2000], T[:2000], m[:2000], 3, 0.01, 4.345),
        rtol=1e-13, atol=0)


def test_gamma_gamma_fit_unchanged_by_the_speed_up():
    # Recorded with crmkit at commit d17699f (before the blocked, threaded likelihood): the same
    # data, fitted with the default options. That fit was L-BFGS, which stopped on its tolerance
    # 1.3e-7 (relative) from the optimum along a flat direction (the log-likelihoods differ only
    # by the rounding of the sum, 7e-14); Newton's method on the analytic Hessian (since issue 11)
    # ends with the gradient at rounding level, the same point to 2e-7.
    rng = np.random.default_rng(11)
    n = 60000
    x = rng.integers(1, 30, n).astype(float)
    m = np.round(rng.gamma(3.0, 12.0, n) + 0.01, 2)
    g = crmkit.GammaGammaFitter().fit(x, m)
    lbfgs = {"p": 0.6653585929604979, "q": 4.152493382239839, "v": 175.88061459744102}
    newton = {"p": 0.6653586770755885, "q": 4.15249327289638, "v": 175.88058579011135}
    for k in lbfgs:
        assert g.params_[k] == pytest.approx(newton[k], rel=1e-10)
        assert g.params_[k] == pytest.approx(lbfgs[k], rel=2e-7)
    assert g.fit_report_.message == "Newton: converged"
    assert g.fit_report_.gradient_norm < 1e-10
    ll = _core.GammaGammaModel([lbfgs["p"], lbfgs["q"], lbfgs["v"]]).log_likelihood(x, m)
    assert ll == pytest.approx(-265458.6714194423, rel=1e-13)
    assert g.log_likelihood_ == pytest.approx(ll, rel=1e-13)


def test_current_value_rows_without_spend_use_the_run_rate():
    bg = _core.BetaGeoModel([0.243, 4.414, 0.793, 2.426])
    gg = _core.GammaGammaModel([2.0, 0.5, 10.0])  # q <= 1: no spend for frequency 0
    args = dict(customer_id=np.array([1, 2], dtype=np.int64), frequency=np.array([0.0, 2.0]),
                recency=np.array([0.0, 20.0]), T=np.array([30.0, 30.0]),
                monetary_value=np.array([0.0, 15.0]),
                historical_minor=np.array([3000, 9000], dtype=np.int64), currency="USD",
                transaction_model=bg, spend_model=gg, horizon=10.0, discount_rate=0.01,
                discount_step=1.0)
    out = _core.current_value(**args, min_repeat_purchases=0)
    assert out["method_code"].tolist() == [1, 0]  # run_rate, model
    # Row 1: 30.00 USD over 30 units of tenure, times the discounted horizon sum_k 1.01^-k.
    effective = sum(1.01 ** -k for k in range(1, 11))
    assert out["value_minor"][0] == round(30.00 / 30 * effective * 100)
    # Row 2 is the model's value, the same as when row 1 is not a model row at all.
    alone = _core.current_value(**args, min_repeat_purchases=1)
    assert out["value_minor"][1] == alone["value_minor"][1]
    spend = 2 * (10 + 2 * 15.0) / (2 * 2 + 0.5 - 1)
    purchases = _clv_by_months(bg, _core.GammaGammaModel([2.0, 0.5, 10.0]), np.array([2.0]),
                               np.array([20.0]), np.array([30.0]), np.array([15.0]), 10, 0.01, 1.0)
    assert out["value_minor"][1] == round(purchases[0] * 100)
    assert purchases[0] == pytest.approx(spend * float(
        sum((bg.conditional_expected_number_of_purchases_up_to_time(k, [2.0], [20.0], [30.0])[0]
             - bg.conditional_expected_number_of_purchases_up_to_time(k - 1, [2.0], [20.0], [30.0])[0])
            / 1.01 ** k for k in range(1, 11))), rel=1e-13)


# ---- Pareto/NBD and BG/BB against high-precision references ----------------------------------
#
# tests/data/mpmath/pareto_references.csv and bgbb_references.csv, written by
# record_pareto_bgbb.py beside them with the same rule as references.csv (mpmath at 30, 60, 120,
# 240 digits until two precisions agree to 20 digits; values that do not settle within 20 s are
# left out and named by the script).

PARETO_REFERENCES = os.path.join(os.path.dirname(REFERENCES), "pareto_references.csv")
BGBB_REFERENCES = os.path.join(os.path.dirname(REFERENCES), "bgbb_references.csv")


def _read(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


PARETO_ROWS = _read(PARETO_REFERENCES)
BGBB_ROWS = _read(BGBB_REFERENCES)
PARETO_QUANTITIES = ["p_alive", "conditional_expected", "expected", "probability_n",
                     "conditional_probability_n"]
BGBB_QUANTITIES = ["p_alive", "conditional_expected", "expected", "probability_n"]


def _pareto_value(row):
    m = _core.ParetoNBDModel([float(row[k]) for k in ("r", "alpha", "s", "beta")])
    x, tx, T, t, n = (float(row[k]) for k in ("x", "tx", "T", "t", "n"))
    q = row["quantity"]
    if q == "p_alive":
        return float(m.conditional_probability_alive([x], [tx], [T])[0])
    if q == "conditional_expected":
        return float(m.conditional_expected_number_of_purchases_up_to_time(t, [x], [tx], [T])[0])
    if q == "expected":
        return float(m.expected_number_of_purchases_up_to_time([t])[0])
    if q == "probability_n":
        return float(m.probability_of_n_purchases_up_to_time(t, n))
    assert q == "conditional_probability_n"
    return float(m.conditional_probability_of_n_purchases_up_to_time(n, t, [x], [tx], [T])[0])


def _bgbb_value(row):
    m = _core.BetaGeoBetaBinomModel([float(row[k]) for k in ("alpha", "beta", "gamma", "delta")])
    x, tx, n, fut = (float(row[k]) for k in ("x", "tx", "n_periods", "m"))
    q = row["quantity"]
    if q == "p_alive":
        return float(m.conditional_probability_alive([x], [tx], [n], fut)[0])
    if q == "conditional_expected":
        return float(m.conditional_expected_number_of_purchases_up_to_time(fut, [x], [tx], [n])[0])
    if q == "expected":
        return float(m.expected_number_of_transactions_in_first_n_periods([n])[0])
    assert q == "probability_n"
    return float(m.probability_of_n_purchases_up_to_time(n, x))


def _misses(rows, value, tol):
    """Rows where crmkit is off the reference by more than tol (relative; absolute below TINY)."""
    bad, worst = [], 0.0
    for row in rows:
        ref = float(row["value"])
        got = value(row)
        if abs(ref) < TINY:
            ok = abs(got - ref) <= TINY
        else:
            err = abs(got - ref) / abs(ref) if math.isfinite(got) else math.inf
            worst = max(worst, err)
            ok = err <= tol(row)
        if not ok:
            bad.append((dict(row), got))
    return bad, worst


def test_pareto_and_bgbb_references_cover_the_ranges_of_the_issue():
    assert len(PARETO_ROWS) >= 1000 and len(BGBB_ROWS) >= 800
    assert {row["quantity"] for row in PARETO_ROWS} == set(PARETO_QUANTITIES)
    assert {row["quantity"] for row in BGBB_ROWS} == set(BGBB_QUANTITIES)
    col = lambda rows, k: np.array([float(row[k]) for row in rows])  # noqa: E731
    for k in ("r", "s"):
        assert col(PARETO_ROWS, k).min() <= 1.001e-3 and col(PARETO_ROWS, k).max() >= 99
    for k in ("alpha", "beta"):
        assert col(PARETO_ROWS, k).min() <= 1.001e-3 and col(PARETO_ROWS, k).max() >= 0.99e4
    assert col(PARETO_ROWS, "x").max() >= 9999
    for k in ("t", "T"):
        v = col([row for row in PARETO_ROWS if float(row[k]) > 0], k)
        assert v.min() <= 1.001e-3 and v.max() >= 0.99e5
    for k in ("alpha", "beta", "gamma", "delta"):
        assert col(BGBB_ROWS, k).min() <= 1.001e-3 and col(BGBB_ROWS, k).max() >= 999
    assert col(BGBB_ROWS, "n_periods").max() == 1000
    assert col(BGBB_ROWS, "m").max() >= 5000


# Pareto/NBD: E[X(t)] is a closed form (RTOL). P(alive), hence E[Y(t) | x, t_x, T], and both
# P(X(t) = n) forms integrate numerically: the likelihood's s I term and the dead-by-t term are
# integrals of a log-concave integrand that crmkit evaluates with 8-point Gauss-Legendre panels in
# log time (special.cpp, log_concave_integral). Predictions use panels at most 1 unit of log time
# wide (kPredictionPanel): worst seen 2.4e-11 (conditional P(X(t) = n)), 6.3e-12 (P(alive)). The
# fits keep 3 units (kFitPanel, about 1e-10 relative, 3.7e-10 worst for P(alive) when predictions
# used it too): the likelihood surface the optimiser and the boundary probe were tuned on.
RTOL_PARETO_INTEGRAL = 1e-10


@pytest.mark.parametrize("quantity", PARETO_QUANTITIES)
def test_pareto_nbd_predictions_match_mpmath(quantity):
    rows = [row for row in PARETO_ROWS if row["quantity"] == quantity]
    assert len(rows) >= 250
    tol = RTOL if quantity == "expected" else RTOL_PARETO_INTEGRAL
    bad, worst = _misses(rows, _pareto_value, lambda row: tol)
    assert not bad, f"{len(bad)} of {len(rows)} points off, first: {bad[:3]}"
    print(f"Pareto/NBD {quantity}: {len(rows)} points, worst relative error {worst:.2e}")


@pytest.mark.parametrize("quantity", BGBB_QUANTITIES)
def test_bgbb_predictions_match_mpmath(quantity):
    # Closed forms and finite sums (the likelihood, eq. 8) accumulated in log space: RTOL.
    rows = [row for row in BGBB_ROWS if row["quantity"] == quantity]
    assert len(rows) >= 250
    bad, worst = _misses(rows, _bgbb_value, lambda row: RTOL)
    assert not bad, f"{len(bad)} of {len(rows)} points off, first: {bad[:3]}"
    print(f"BG/BB {quantity}: {len(rows)} points, worst relative error {worst:.2e}")

