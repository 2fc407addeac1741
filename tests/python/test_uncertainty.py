"""Prediction intervals (crmkit/value/uncertainty.hpp, python/crmkit/_uncertainty.py) and the fits'
convergence rules (multi-start, no finite maximum), compared with what lifetimes 0.11.3 does on the
same data (tests/data/lifetimes/convergence.json, recorded by record_convergence.py there)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import crmkit
from crmkit import _core, datasets

RECORDED = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "lifetimes" / "convergence.json").read_text()
)["cases"]
NO_MAX = "no finite maximum: the log-likelihood keeps increasing as "
Z95 = 1.959963984540054


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return datasets.load_cdnow_summary(index_col=[0])


def one_time_buyers() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """As record_convergence.py: 200 one-time buyers, T = 10 .. 50."""
    z = np.zeros(200)
    return z, z, 10.0 + np.arange(200) % 41


def with_big_frequencies(cdnow: pd.DataFrame) -> pd.DataFrame:
    """As record_convergence.py: CDNOW with five customers of frequency 301 .. 1000."""
    big = cdnow.reset_index(drop=True)  # a 0-based index, as record_convergence.py
    big.loc[:4, "frequency"] = [301, 350, 420, 500, 1000]
    big.loc[:4, "recency"] = (big.loc[:4, "T"] * 0.9).round(2)
    return big


def fit_warns(cls, *columns):
    with pytest.warns(crmkit.ConvergenceWarning, match="did not converge") as caught:
        m = cls().fit(*columns)
    return m, caught


# ---- convergence ------------------------------------------------------------------------------


@pytest.mark.parametrize("name, direction", [
    ("BetaGeoFitter", "parameters r and b -> 0 together"),
    ("ModifiedBetaGeoFitter", "parameter r -> 0"),
    ("ParetoNBDFitter", ""),
])
def test_all_one_time_buyers_have_no_finite_maximum(name, direction):
    m, caught = fit_warns(getattr(crmkit, name), *one_time_buyers())
    report = m.fit_report_
    assert not report.converged
    assert NO_MAX + direction in report.message
    assert NO_MAX in str(caught[0].message)
    assert -1e-5 < report.log_likelihood < 0  # the supremum, 0, is approached, never reached
    # lifetimes returns parameters, NaN standard errors (BG/NBD, MBG/NBD) and no warning of its
    # own about convergence.
    rec = RECORDED[f"{name}/one_time_buyers"]
    assert rec["outcome"] == "fits"
    if name != "ParetoNBDFitter":
        assert rec["standard_errors_nan"] is True
    assert 0 < rec["mean_negative_log_likelihood"] < 1e-7


def test_an_all_zero_bgbb_sample_has_no_finite_maximum():
    z = np.zeros(20)
    m, _ = fit_warns(crmkit.BetaGeoBetaBinomFitter, z, z, np.full(20, 6.0))
    assert not m.fit_report_.converged
    assert NO_MAX + "parameter alpha -> 0" in m.fit_report_.message
    rec = RECORDED["BetaGeoBetaBinomFitter/all_zero"]
    assert rec["outcome"] == "fits" and rec["standard_errors_nan"] is True


def test_a_lazy_standard_error_fit_reports_no_finite_maximum_at_fit_time():
    # BetaGeoFitter computes standard errors on first read; the probe does not need them.
    m, _ = fit_warns(crmkit.BetaGeoFitter, *one_time_buyers())
    assert m._se is None  # not computed yet
    assert not m.fit_report_.converged


@pytest.mark.parametrize("name", ["BetaGeoFitter", "ModifiedBetaGeoFitter"])
def test_a_tiny_sample_runs_the_multi_start_and_says_so(cdnow, name):
    h = cdnow.head(3)
    m, _ = fit_warns(getattr(crmkit, name), h["frequency"], h["recency"], h["T"])
    msg = m.fit_report_.message
    assert not m.fit_report_.converged
    assert "multi-start: 17 starts tried (the default and the 16 corners of [0.1, 10]^4)" in msg
    assert " of 17 agreed with the best" in msg
    # lifetimes raises ConvergenceError on the same three customers.
    rec = RECORDED[f"{name}/cdnow_head3"]
    assert rec == {"outcome": "raises", "error": "ConvergenceError",
                   "message": "The model did not converge. Try adding a larger penalizer to see "
                              "if that helps convergence."}


def test_pareto_on_a_tiny_sample_says_no_finite_maximum(cdnow):
    h = cdnow.head(3)
    m, _ = fit_warns(crmkit.ParetoNBDFitter, h["frequency"], h["recency"], h["T"])
    assert "no finite maximum" in m.fit_report_.message
    # lifetimes returns parameters (r = 169, alpha = 3954) without a warning about them.
    assert RECORDED["ParetoNBDFitter/cdnow_head3"]["outcome"] == "fits"


def test_pareto_on_the_first_50_cdnow_customers_converges_as_lifetimes(cdnow):
    h = cdnow.head(50)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = crmkit.ParetoNBDFitter().fit(h["frequency"], h["recency"], h["T"])
    assert m.fit_report_.converged
    rec = RECORDED["ParetoNBDFitter/cdnow_head50"]["params"]
    for k in ("r", "alpha", "s", "beta"):
        assert m.params_[k] == pytest.approx(rec[k], rel=1e-3)  # lifetimes stops early


def test_pareto_on_50_cdnow_customers_without_a_finite_maximum(cdnow):
    # Customers 351 .. 400: the likelihood rises as s and beta go to infinity together.
    h = cdnow.iloc[350:400]
    m, caught = fit_warns(crmkit.ParetoNBDFitter, h["frequency"], h["recency"], h["T"])
    assert not m.fit_report_.converged
    assert "no finite maximum: " in m.fit_report_.message
    assert m.params_["s"] > 1e6 and m.params_["beta"] > 1e6
    # lifetimes returns s 220, beta 6554 with numpy overflow warnings.
    rec = RECORDED["ParetoNBDFitter/cdnow_rows_350_400"]
    assert rec["outcome"] == "fits" and "overflow encountered in exp" in rec["warnings"]


@pytest.mark.parametrize("name", ["BetaGeoFitter", "ModifiedBetaGeoFitter", "ParetoNBDFitter"])
def test_frequencies_above_300_fit(cdnow, name):
    big = with_big_frequencies(cdnow)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = getattr(crmkit, name)().fit(big["frequency"], big["recency"], big["T"])
    assert m.fit_report_.converged
    rec = RECORDED[f"{name}/cdnow_frequency_above_300"]
    lt_params = [rec["params"][k] for k in m.params_.index]
    crmkit_mean_nll = -m.log_likelihood_ / len(big)
    if name == "ParetoNBDFitter":
        # lifetimes' likelihood overflows (mean negative log-likelihood -13041); its parameters
        # are not the maximum: crmkit's log-likelihood is higher than at lifetimes' parameters.
        assert rec["mean_negative_log_likelihood"] < -13000
        at_lifetimes = m._core_class(lt_params).log_likelihood(
            big["frequency"].to_numpy(float), big["recency"].to_numpy(float),
            big["T"].to_numpy(float))
        assert m.log_likelihood_ > at_lifetimes
    else:
        # Same parameters as lifetimes; lifetimes' objective value is wrong (negative).
        assert rec["mean_negative_log_likelihood"] < 0 < crmkit_mean_nll
        assert m.params_.to_numpy() == pytest.approx(lt_params, rel=2e-4)


def test_cdnow_fits_are_unchanged(cdnow):
    m = crmkit.BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert m.fit_report_.converged and m.fit_report_.message == "L-BFGS: success"
    assert m.params_.to_numpy() == pytest.approx([0.2425929, 4.4135316, 0.7928861, 2.4257534],
                                                 rel=1e-6)


# ---- intervals --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bgf(cdnow):
    return crmkit.BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])


def test_the_covariance_gives_the_standard_errors(bgf):
    cov = bgf.log_parameter_covariance_
    assert list(cov.index) == list(cov.columns) == ["r", "alpha", "a", "b"]
    se = bgf.params_ * np.sqrt(np.diag(cov.to_numpy()))
    assert se.to_numpy() == pytest.approx(bgf.standard_errors_.to_numpy(), rel=1e-5)


def test_delta_intervals_equal_a_brute_force_computation(bgf):
    x = pd.Series([0.0, 2, 10, 1], index=["a", "b", "c", "d"])
    tx = pd.Series([0.0, 30.43, 35, 1.71], index=x.index)
    T = pd.Series([38.86] * 4, index=x.index)
    iv = bgf.conditional_expected_number_of_purchases_up_to_time_interval(10, x, tx, T)
    assert list(iv.columns) == ["estimate", "lower", "upper", "standard_error"]
    assert list(iv.index) == ["a", "b", "c", "d"]
    est = bgf.conditional_expected_number_of_purchases_up_to_time(10, x, tx, T)
    assert iv["estimate"].tolist() == est.tolist()
    # Brute force in numpy: central differences in log-parameters, g' cov g, log-scale bounds.
    cov = bgf.log_parameter_covariance_.to_numpy()
    theta = bgf.params_.to_numpy()
    h = 1e-5
    grad = []
    for k in range(4):
        up, dn = theta.copy(), theta.copy()
        up[k] *= np.exp(h)
        dn[k] *= np.exp(-h)
        fp = _core.BetaGeoModel(list(up)).conditional_expected_number_of_purchases_up_to_time(
            10, x.to_numpy(), tx.to_numpy(), T.to_numpy())
        fm = _core.BetaGeoModel(list(dn)).conditional_expected_number_of_purchases_up_to_time(
            10, x.to_numpy(), tx.to_numpy(), T.to_numpy())
        grad.append((fp - fm) / (2 * h))
    g = np.array(grad)
    se = np.sqrt(np.einsum("ai,ab,bi->i", g, cov, g))
    assert iv["standard_error"].to_numpy() == pytest.approx(se, rel=1e-6)
    e = est.to_numpy()
    assert iv["lower"].to_numpy() == pytest.approx(e * np.exp(-Z95 * se / e), rel=1e-6)
    assert iv["upper"].to_numpy() == pytest.approx(e * np.exp(Z95 * se / e), rel=1e-6)
    # A column of horizons is split by horizon, rows kept in order.
    mixed = bgf.conditional_expected_number_of_purchases_up_to_time_interval(
        pd.Series([10.0, 5, 10, 5], index=x.index), x, tx, T)
    assert mixed.loc[["a", "c"]].equals(iv.loc[["a", "c"]])
    five = bgf.conditional_expected_number_of_purchases_up_to_time_interval(5, x, tx, T)
    assert mixed.loc[["b", "d"]].equals(five.loc[["b", "d"]])


def test_probability_alive_intervals_stay_in_0_1(bgf):
    iv = bgf.conditional_probability_alive_interval([0, 2, 10], [0, 30.43, 35], [38.86] * 3,
                                                    ci=0.9)
    assert iv.loc[0].tolist() == [1.0, 1.0, 1.0, 0.0]  # no repeat purchase: alive for sure
    assert (iv["lower"][1:] > 0).all() and (iv["upper"][1:] < 1).all()
    assert (iv["lower"][1:] < iv["estimate"][1:]).all()
    assert (iv["estimate"][1:] < iv["upper"][1:]).all()
    assert iv["estimate"].tolist() == bgf.conditional_probability_alive(
        [0, 2, 10], [0, 30.43, 35], [38.86] * 3).tolist()


def test_bootstrap_is_reproducible_with_a_seed(bgf):
    args = ([2, 10], [30.43, 35], [38.86, 38.86])
    a = bgf.conditional_expected_number_of_purchases_up_to_time_interval(
        10, *args, method="bootstrap", n_boot=300, seed=5)
    b = bgf.conditional_expected_number_of_purchases_up_to_time_interval(
        10, *args, method="bootstrap", n_boot=300, seed=5)
    c = bgf.conditional_expected_number_of_purchases_up_to_time_interval(
        10, *args, method="bootstrap", n_boot=300, seed=6)
    pd.testing.assert_frame_equal(a, b)
    assert not a["lower"].equals(c["lower"])
    d = bgf.conditional_expected_number_of_purchases_up_to_time_interval(10, *args)
    assert a["lower"].to_numpy() == pytest.approx(d["lower"].to_numpy(), rel=0.02)
    assert a["upper"].to_numpy() == pytest.approx(d["upper"].to_numpy(), rel=0.02)


def simulate_bgnbd(rng, n, r, alpha, a, b):
    """BG/NBD histories: Poisson(lambda) purchases, lambda ~ Gamma(r, 1/alpha); after each repeat
    purchase the customer drops out with probability p ~ Beta(a, b). T uniform in 20 .. 52."""
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    T = rng.uniform(20, 52, n).round(2)
    x = np.zeros(n)
    tx = np.zeros(n)
    for i in range(n):
        t = 0.0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > T[i]:
                break
            x[i] += 1
            tx[i] = t
            if rng.uniform() < p[i]:
                break
    return x, tx.round(4), T


@pytest.mark.parametrize("method", ["delta", "bootstrap"])
def test_intervals_cover_the_true_value_on_simulated_data(method):
    # 20 data sets of 1,500 customers from known parameters; the 95% interval of the expected
    # purchases of three fixed histories must hold the true value in most of them (a sanity
    # check of the coverage: 16 of 20 or more; 19 expected).
    truth = [0.25, 4.0, 0.8, 2.5]
    hist = (np.array([0.0, 2, 8]), np.array([0.0, 20, 30]), np.array([40.0, 40, 40]))
    true_value = _core.BetaGeoModel(truth).conditional_expected_number_of_purchases_up_to_time(
        10, *hist)
    covered = np.zeros(3)
    rng = np.random.default_rng(20261202)
    for _ in range(20):
        x, tx, T = simulate_bgnbd(rng, 1500, *truth)
        m = crmkit.BetaGeoFitter().fit(x, tx, T)
        iv = m.conditional_expected_number_of_purchases_up_to_time_interval(
            10, *hist, method=method, n_boot=200, seed=1)
        covered += (iv["lower"].to_numpy() <= true_value) & (true_value <= iv["upper"].to_numpy())
    assert (covered >= 16).all(), covered


def test_clv_intervals(cdnow):
    s = datasets.load_cdnow_summary_data_with_monetary_value()
    bgf = crmkit.BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
    rep = s[s["frequency"] > 0]
    ggf = crmkit.GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
    q = rep.head(4)
    iv = ggf.customer_lifetime_value_interval(bgf, q["frequency"], q["recency"], q["T"],
                                              q["monetary_value"], time=12, freq="W")
    clv = ggf.customer_lifetime_value(bgf, q["frequency"], q["recency"], q["T"],
                                      q["monetary_value"], time=12, freq="W")
    assert iv["estimate"].tolist() == clv.tolist()
    assert list(iv.index) == list(q.index)
    assert (iv["lower"] < iv["estimate"]).all() and (iv["estimate"] < iv["upper"]).all()
    boot = ggf.customer_lifetime_value_interval(bgf, q["frequency"], q["recency"], q["T"],
                                                q["monetary_value"], freq="W",
                                                method="bootstrap", n_boot=300, seed=3)
    again = ggf.customer_lifetime_value_interval(bgf, q["frequency"], q["recency"], q["T"],
                                                 q["monetary_value"], freq="W",
                                                 method="bootstrap", n_boot=300, seed=3)
    pd.testing.assert_frame_equal(boot, again)
    assert boot["lower"].to_numpy() == pytest.approx(iv["lower"].to_numpy(), rel=0.1)


def test_bgbb_intervals():
    d = datasets.load_donations()
    m = crmkit.BetaGeoBetaBinomFitter().fit(d["frequency"], d["recency"], d["periods"],
                                            weights=d["weights"])
    iv = m.conditional_expected_number_of_purchases_up_to_time_interval(
        5, [0, 3, 6], [0, 4, 6], [6, 6, 6])
    est = m.conditional_expected_number_of_purchases_up_to_time(5, [0, 3, 6], [0, 4, 6], [6, 6, 6])
    assert iv["estimate"].tolist() == list(est)
    assert (iv["lower"] < iv["estimate"]).all() and (iv["estimate"] < iv["upper"]).all()
    pa = m.conditional_probability_alive_interval(2, [0, 3, 6], [0, 4, 6], [6, 6, 6])
    assert pa["estimate"].tolist() == list(m.conditional_probability_alive(
        2, [0, 3, 6], [0, 4, 6], [6, 6, 6]))
    assert (pa["lower"] < pa["estimate"]).all() and (pa["upper"] <= 1).all()


def test_interval_errors(bgf):
    with pytest.raises(crmkit.ValidationError, match="^method: must be 'delta' or 'bootstrap'"):
        bgf.conditional_probability_alive_interval([1], [1], [2], method="jackknife")
    with pytest.raises(crmkit.ValidationError, match=r"^level: must be in \(0, 1\)"):
        bgf.conditional_probability_alive_interval([1], [1], [2], ci=95)
    no_data = crmkit.BetaGeoFitter()
    no_data.params_ = bgf.params_
    with pytest.raises(crmkit.ValidationError, match="needs the fitted data"):
        no_data.conditional_probability_alive_interval([1], [1], [2])
    flat = crmkit.BetaGeoFitter()
    with pytest.warns(crmkit.ConvergenceWarning):
        flat.fit(*one_time_buyers())
    with pytest.raises(crmkit.ValidationError, match="Hessian is not negative definite"):
        flat.conditional_expected_number_of_purchases_up_to_time_interval(1, [1], [1], [2])


def test_covariance_is_shared_with_variance_matrix_and_kept_without_data(bgf, tmp_path):
    # variance_matrix_ (lifetimes' name) and log_parameter_covariance_ are one matrix on two
    # scales, in either order of first use
    theta = bgf.params_.to_numpy()
    natural = bgf.variance_matrix_.to_numpy()
    log_cov = bgf.log_parameter_covariance_.to_numpy()
    np.testing.assert_allclose(log_cov, natural / np.outer(theta, theta), rtol=1e-15)
    np.testing.assert_allclose(bgf.variance_matrix_.to_numpy(), natural, rtol=0)
    np.testing.assert_allclose(np.sqrt(np.diag(log_cov)) * theta, bgf.standard_errors_,
                               rtol=1e-12)
    before = bgf.conditional_probability_alive_interval([2, 5], [30.0, 20.0], [38.0, 38.0])
    bgf.save_model(tmp_path / "m.pkl", save_data=False)
    loaded = crmkit.BetaGeoFitter()
    loaded.load_model(tmp_path / "m.pkl")
    assert loaded.data is None
    after = loaded.conditional_probability_alive_interval([2, 5], [30.0, 20.0], [38.0, 38.0])
    pd.testing.assert_frame_equal(after, before)
