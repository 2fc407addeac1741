"""crmkit.ShiftedBetaGeometricFitter and BetaDiscreteWeibullFitter (crmkit.contractual) on Fader and
Hardie's (2007) two cohorts: the paper's parameters, an independent scipy fit recorded in
tests/data/contractual/reference.json (record_reference.py), projections against closed forms,
DERT against brute-force sums, several cohorts, pickling and errors naming the period."""

from __future__ import annotations

import json
import math
import pathlib
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

import crmkit
from crmkit.datasets import load_retention_cohorts

REFERENCE = json.loads(
    (pathlib.Path(__file__).resolve().parents[1] / "data" / "contractual" / "reference.json")
    .read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def cohorts() -> pd.DataFrame:
    return load_retention_cohorts()


def calibration(cohorts: pd.DataFrame, name: str) -> pd.Series:
    return cohorts[name].iloc[:8]  # years 0-7, as the paper fits


def sbg_survival(a: float, b: float, t: int) -> float:
    """S(t) as the product of retention rates (beta + i - 1) / (alpha + beta + i - 1)."""
    s = 1.0
    for i in range(1, t + 1):
        s *= (b + i - 1) / (a + b + i - 1)
    return s


def test_dataset_is_the_papers_table(cohorts):
    assert list(cohorts.columns) == ["year", "regular", "high_end"]
    assert (cohorts["regular"] / 10).tolist() == [
        100.0, 63.1, 46.8, 38.2, 32.6, 28.9, 26.2, 24.1, 22.3, 20.7, 19.4, 18.3, 17.3]
    assert (cohorts["high_end"] / 10).tolist() == [
        100.0, 86.9, 74.3, 65.3, 59.3, 55.1, 51.7, 49.1, 46.8, 44.5, 42.7, 40.9, 39.4]


@pytest.mark.parametrize("name, alpha, beta", [("regular", 0.704, 1.182),
                                               ("high_end", 0.668, 3.806)])
def test_sbg_reproduces_the_papers_parameters(cohorts, name, alpha, beta):
    f = crmkit.ShiftedBetaGeometricFitter().fit(calibration(cohorts, name))
    assert f.fit_report_.converged
    assert round(f.params_["alpha"], 3) == alpha
    assert round(f.params_["beta"], 3) == beta
    ref = REFERENCE[name]["sbg"]
    assert f.params_["alpha"] == pytest.approx(ref["alpha"], rel=1e-6)
    assert f.params_["beta"] == pytest.approx(ref["beta"], rel=1e-6)
    assert f.log_likelihood_ == pytest.approx(ref["log_likelihood"], abs=1e-6)
    assert list(f.summary.columns) == ["coef", "se(coef)", "lower 95% bound", "upper 95% bound"]
    assert (f.standard_errors_ > 0).all()


def test_sbg_projections(cohorts):
    f = crmkit.ShiftedBetaGeometricFitter().fit(calibration(cohorts, "regular"))
    a, b = f.params_["alpha"], f.params_["beta"]
    t = np.arange(13)
    S = f.survival_function(t)
    assert isinstance(S, np.ndarray)
    np.testing.assert_allclose(S, [sbg_survival(a, b, i) for i in t], rtol=1e-12)
    # Years 8-12 projected from years 0-7: 22.0 20.4 19.1 18.0 17.0 % (actual 22.3 ... 17.3).
    assert np.round(100 * S[8:], 1).tolist() == [22.0, 20.4, 19.1, 18.0, 17.0]
    r = f.retention_rate(t[1:])
    np.testing.assert_allclose(r, S[1:] / S[:-1], rtol=1e-12)
    assert f.retention_rate(1) == pytest.approx(b / (a + b), rel=1e-15)
    np.testing.assert_allclose(f.churn_probability(t[1:]), S[:-1] - S[1:], rtol=1e-11)
    series = f.survival_function(pd.Series([1, 2], index=["a", "b"]))
    assert list(series.index) == ["a", "b"]
    assert f.expected_lifetime() == math.inf  # alpha < 1

    high = crmkit.ShiftedBetaGeometricFitter().fit(calibration(cohorts, "high_end"))
    S = high.survival_function(t)
    assert np.round(100 * S[8:], 1).tolist() == [46.0, 43.6, 41.4, 39.5, 37.8]


def test_sbg_dert_equals_brute_force_sum():
    f = crmkit.ShiftedBetaGeometricFitter()
    f.params_ = {"alpha": 0.668, "beta": 3.806}
    a, b = 0.668, 3.806
    for d in (0.1, 0.05):
        for n in (0, 1, 5):
            total, ratio, disc = 0.0, 1.0, 1.0
            for k in range(100000):
                i = n + 1 + k
                ratio *= (b + i - 1) / (a + b + i - 1)
                total += ratio * disc
                disc /= 1 + d
                if ratio * disc < 1e-20:
                    break
            assert f.discounted_expected_residual_lifetime(d, n) == pytest.approx(total, rel=1e-12)
    np.testing.assert_allclose(
        f.discounted_expected_residual_lifetime(0.1, [0, 5]),
        [f.discounted_expected_residual_lifetime(0.1, 0), f.discounted_expected_residual_lifetime(0.1, 5)])
    assert f.discounted_expected_lifetime(0.1) == pytest.approx(
        1 + f.discounted_expected_residual_lifetime(0.1, 0) / 1.1, rel=1e-15)
    g = crmkit.ShiftedBetaGeometricFitter()
    g.params_ = [2.5, 4.0]
    assert g.discounted_expected_residual_lifetime(0, 3) == pytest.approx(7.0 / 1.5, rel=1e-15)
    assert g.expected_lifetime() == pytest.approx(5.5 / 1.5, rel=1e-15)


def test_bdw_with_c_1_is_the_sbg_and_fits_at_least_as_well(cohorts):
    w = crmkit.BetaDiscreteWeibullFitter()
    w.params_ = {"alpha": 0.704, "beta": 1.182, "c": 1.0}
    g = crmkit.ShiftedBetaGeometricFitter()
    g.params_ = {"alpha": 0.704, "beta": 1.182}
    t = np.arange(40)
    assert (w.survival_function(t) == g.survival_function(t)).all()
    data = calibration(cohorts, "regular")
    assert w.log_likelihood(data) == g.log_likelihood(data)
    for name in ("regular", "high_end"):
        data = calibration(cohorts, name)
        bdw = crmkit.BetaDiscreteWeibullFitter().fit(data)
        sbg = crmkit.ShiftedBetaGeometricFitter().fit(data)
        assert bdw.fit_report_.converged
        assert bdw.log_likelihood_ >= sbg.log_likelihood_
        ref = REFERENCE[name]["bdw"]
        for p in ("alpha", "beta", "c"):
            assert bdw.params_[p] == pytest.approx(ref[p], rel=1e-5)
        assert bdw.log_likelihood_ == pytest.approx(ref["log_likelihood"], abs=1e-6)


def test_bdw_dert_against_brute_force():
    f = crmkit.BetaDiscreteWeibullFitter()
    a, b, c = 0.455, 0.779, 1.283
    f.params_ = [a, b, c]

    def S(t):
        x = b + t ** c
        return math.exp(math.lgamma(x) - math.lgamma(a + x) - math.lgamma(b) + math.lgamma(a + b))

    for d in (0.1, 0.3):
        for n in (0, 2):
            total = sum(S(n + 1 + k) / S(n) * (1 + d) ** -k for k in range(3000))
            assert f.discounted_expected_residual_lifetime(d, n) == pytest.approx(total, rel=1e-10)


def test_several_cohorts(cohorts):
    one = crmkit.ShiftedBetaGeometricFitter().fit(calibration(cohorts, "regular"))
    frame = pd.DataFrame({"a": cohorts["regular"].iloc[:8], "b": cohorts["regular"].iloc[:8]})
    both = crmkit.ShiftedBetaGeometricFitter().fit(frame)
    assert both.params_["alpha"] == pytest.approx(one.params_["alpha"], rel=1e-6)
    assert both.log_likelihood_ == pytest.approx(2 * one.log_likelihood_, rel=1e-10)
    # A younger cohort: trailing NaNs in a DataFrame, or a shorter list.
    ragged = pd.DataFrame({"2019": [1000.0, 640, 470, 390], "2020": [800.0, 500, np.nan, np.nan]})
    f = crmkit.ShiftedBetaGeometricFitter().fit(ragged)
    g = crmkit.ShiftedBetaGeometricFitter().fit([[1000, 640, 470, 390], [800, 500]])
    assert f.params_.tolist() == g.params_.tolist()
    assert f.log_likelihood([[1000, 640, 470, 390], [800, 500]]) == pytest.approx(
        f.log_likelihood([1000, 640, 470, 390]) + f.log_likelihood([800, 500]), rel=1e-14)
    assert list(f.data.columns) == ["2019", "2020"]
    assert crmkit.survivors_from_lost(1000, [369, 163]).tolist() == [1000, 631, 468]


def test_pickle_and_save_model(cohorts, tmp_path):
    f = crmkit.BetaDiscreteWeibullFitter().fit(calibration(cohorts, "high_end"))
    g = pickle.loads(pickle.dumps(f))
    assert g.params_.tolist() == f.params_.tolist()
    assert g.standard_errors_.tolist() == f.standard_errors_.tolist()
    assert g.fit_report_.converged and g.log_likelihood_ == f.log_likelihood_
    assert g.discounted_expected_residual_lifetime(0.1, 2) == f.discounted_expected_residual_lifetime(0.1, 2)
    core = pickle.loads(pickle.dumps(f._model))
    assert core.params == f._model.params
    path = tmp_path / "bdw.pkl"
    f.save_model(path)
    h = crmkit.BetaDiscreteWeibullFitter()
    h.load_model(path)
    assert h.params_.tolist() == f.params_.tolist()
    assert h.data.equals(f.data)
    assert "BetaDiscreteWeibullFitter: fitted on 1 cohort(s) of 1000 customers" in repr(h)


def test_errors_name_the_period():
    f = crmkit.ShiftedBetaGeometricFitter()
    with pytest.raises(crmkit.ValidationError,
                       match=r"^survivors\[2\]: 640 is more than the 631 active at period 1"):
        f.fit([1000, 631, 640])
    with pytest.raises(crmkit.ValidationError, match=r"^survivors\[1\]: must be finite and >= 0"):
        f.fit([1000, -5])
    with pytest.raises(crmkit.ValidationError, match=r"^survivors: must hold at least two counts"):
        f.fit([])
    with pytest.raises(crmkit.ValidationError, match=r"^cohorts\[1\]\[2\]: 401 is more than"):
        f.fit([[1000, 600], [500, 400, 401]])
    with pytest.raises(crmkit.ValidationError, match=r"^lost\[1\]: 50 is more than the 40"):
        crmkit.survivors_from_lost(100, [60, 50])
    with pytest.raises(crmkit.ValidationError, match="is not fitted"):
        f.survival_function(1)
    f.params_ = [1.0, 1.0]
    with pytest.raises(crmkit.ValidationError, match=r"^t\[1\]: must be a non-negative integer"):
        f.survival_function([0, 1.5])
    with pytest.raises(crmkit.ValidationError, match=r"^discount_rate: must be 0 or in"):
        f.discounted_expected_residual_lifetime(-0.1)
    with pytest.raises(crmkit.ValidationError, match=r"^renewals: must be a non-negative integer"):
        f.discounted_expected_residual_lifetime(0.1, 1.5)


def test_no_churn_is_not_converged():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = crmkit.ShiftedBetaGeometricFitter().fit([100, 100, 100])
    assert not f.fit_report_.converged
    assert any(issubclass(w.category, crmkit.ConvergenceWarning) for w in caught)


@pytest.mark.parametrize("name", ["regular", "high_end"])
def test_sbg_dert_matches_scipy_hyp2f1(cohorts, name):
    # The reference evaluates 2F1 with scipy at the scipy fit's parameters: compare there.
    ref = REFERENCE[name]["sbg"]
    f = crmkit.ShiftedBetaGeometricFitter()
    f.params_ = {"alpha": ref["alpha"], "beta": ref["beta"]}
    for n, value in ref["dert_0.1"].items():
        assert f.discounted_expected_residual_lifetime(0.1, int(n)) == pytest.approx(value, rel=1e-12)
    assert f.discounted_expected_lifetime(0.1) == pytest.approx(ref["del_0.1"], rel=1e-12)


def test_fit_keywords(cohorts):
    data = calibration(cohorts, "regular")
    base = crmkit.ShiftedBetaGeometricFitter().fit(data)
    other = crmkit.ShiftedBetaGeometricFitter().fit(data, initial_params={"alpha": 3.0, "beta": 0.2})
    assert other.params_["alpha"] == pytest.approx(base.params_["alpha"], rel=1e-6)
    with pytest.warns(crmkit.ConvergenceWarning):
        short = crmkit.ShiftedBetaGeometricFitter().fit(data, max_iterations=2)
    assert not short.fit_report_.converged
    with pytest.raises(TypeError, match="unexpected keyword arguments: bogus"):
        crmkit.ShiftedBetaGeometricFitter().fit(data, bogus=1)
    penalized = crmkit.ShiftedBetaGeometricFitter(penalizer_coef=0.1).fit(data)
    assert penalized.log_likelihood_ < base.log_likelihood_
