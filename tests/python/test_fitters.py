"""The lifetimes-compatible fitters (crmkit.fitters) against the published CDNOW and donations
numbers, plus input handling, warnings and a finiteness sweep."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest

import crmkit
from crmkit import datasets


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return datasets.load_cdnow_summary(index_col=[0])


@pytest.fixture(scope="module")
def bgf(cdnow) -> crmkit.BetaGeoFitter:
    return crmkit.BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])


@pytest.fixture(scope="module")
def pnbd(cdnow) -> crmkit.ParetoNBDFitter:
    return crmkit.ParetoNBDFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])


@pytest.fixture(scope="module")
def ggf() -> crmkit.GammaGammaFitter:
    data = datasets.load_cdnow_summary_data_with_monetary_value()
    repeat = data[data["frequency"] > 0]
    return crmkit.GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])


def test_bgnbd_matches_fader_hardie_lee(bgf, cdnow):
    p = bgf.params_
    assert list(p.index) == ["r", "alpha", "a", "b"]
    assert p["r"] == pytest.approx(0.243, abs=5e-4)
    assert p["alpha"] == pytest.approx(4.414, abs=5e-4)
    assert p["a"] == pytest.approx(0.793, abs=5e-4)
    assert p["b"] == pytest.approx(2.426, abs=5e-4)
    assert bgf.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)
    report = bgf.fit_report_
    assert report.converged and report.iterations > 0 and report.gradient_norm < 1e-3
    assert report.log_likelihood == bgf.log_likelihood_
    assert list(bgf.data.columns) == ["frequency", "recency", "T", "weights"]
    assert len(bgf.data) == 2357
    # 39 weeks ahead for x = 2, t_x = 30.43, T = 38.86 (Fader, Hardie, Lee 2005).
    assert bgf.conditional_expected_number_of_purchases_up_to_time(39, 2, 30.43, 38.86) == (
        pytest.approx(1.226, abs=5e-4)
    )
    assert bgf.predict(39, 2, 30.43, 38.86) == bgf.conditional_expected_number_of_purchases_up_to_time(
        39, 2, 30.43, 38.86
    )
    assert "fitted with 2357 subjects" in repr(bgf)


def test_summary_and_standard_errors(bgf):
    s = bgf.summary
    assert list(s.columns) == ["coef", "se(coef)", "lower 95% bound", "upper 95% bound"]
    assert list(s.index) == ["r", "alpha", "a", "b"]
    se = bgf.standard_errors_
    assert (se > 0).all() and np.isfinite(se).all()
    assert (s["coef"] == bgf.params_).all()
    assert np.allclose(s["upper 95% bound"] - s["coef"], 1.96 * se)
    assert np.allclose(s["coef"] - s["lower 95% bound"], 1.96 * se)
    # Standard errors shrink with more data: four copies of CDNOW halve them.
    cd = bgf.data
    quad = crmkit.BetaGeoFitter().fit(cd["frequency"], cd["recency"], cd["T"],
                                      weights=np.full(len(cd), 4.0))
    assert np.allclose(quad.params_, bgf.params_, rtol=1e-5)
    assert np.allclose(quad.standard_errors_ * 2, se, rtol=1e-3)


def test_lazy_standard_errors_use_the_data_as_fitted(cdnow, bgf):
    x = cdnow["frequency"].to_numpy(copy=True)
    tx = cdnow["recency"].to_numpy(copy=True)
    T = cdnow["T"].to_numpy(copy=True)
    fitted = crmkit.BetaGeoFitter().fit(x, tx, T)
    x[:] = 0  # changing the caller's arrays after fit must not change the standard errors
    tx[:] = 0
    assert np.array_equal(fitted.standard_errors_.to_numpy(), bgf.standard_errors_.to_numpy())
    # Setting known parameters forgets the fit's standard errors.
    fitted.params_ = bgf.params_
    assert not np.array_equal(fitted.standard_errors_.to_numpy(), bgf.standard_errors_.to_numpy())


def test_model_threads_do_not_change_results(cdnow):
    before = crmkit.model_threads()
    try:
        big = pd.concat([cdnow] * 10, ignore_index=True)  # 23,570 rows: above the thread threshold
        crmkit.set_model_threads(1)
        one = crmkit.BetaGeoFitter().fit(big["frequency"], big["recency"], big["T"])
        p1 = one.conditional_probability_alive(big["frequency"], big["recency"], big["T"])
        crmkit.set_model_threads(2)
        assert crmkit.model_threads() == 2
        two = crmkit.BetaGeoFitter().fit(big["frequency"], big["recency"], big["T"])
        p2 = two.conditional_probability_alive(big["frequency"], big["recency"], big["T"])
        assert np.array_equal(one.params_.to_numpy(), two.params_.to_numpy())
        assert np.array_equal(np.asarray(p1), np.asarray(p2))
    finally:
        crmkit.set_model_threads(0)
        assert crmkit.model_threads() == before


def test_pareto_nbd_matches_fader_hardie(pnbd):
    p = pnbd.params_
    assert list(p.index) == ["r", "alpha", "s", "beta"]
    assert p["r"] == pytest.approx(0.553, abs=5e-4)
    assert p["alpha"] == pytest.approx(10.578, abs=5e-4)
    assert p["s"] == pytest.approx(0.606, abs=5e-4)
    # Excel's solver stopped at 11.669; the exact optimum is 11.668 (see tests/cpp/test_models.cpp).
    assert p["beta"] == pytest.approx(11.669, abs=2e-3)
    assert pnbd.log_likelihood_ == pytest.approx(-9595.0, abs=0.05)
    assert pnbd.conditional_probability_alive(26, 30.86, 31) == pytest.approx(0.9979, abs=5e-5)
    assert pnbd.conditional_expected_number_of_purchases_up_to_time(52, 26, 30.86, 31) == (
        pytest.approx(25.46, abs=5e-3)
    )
    probs = pnbd.probability_of_n_purchases_up_to_time(20, np.arange(300))
    assert probs.sum() == pytest.approx(1.0, abs=1e-8)
    assert (probs * np.arange(300)).sum() == pytest.approx(
        pnbd.expected_number_of_purchases_up_to_time(20), rel=1e-6
    )


def test_modified_bgnbd_matches_lifetimes(cdnow):
    m = crmkit.ModifiedBetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    p = m.params_
    assert p["r"] == pytest.approx(0.525, abs=5e-4)
    assert p["alpha"] == pytest.approx(6.183, abs=5e-4)
    assert p["a"] == pytest.approx(0.891, abs=5e-4)
    assert p["b"] == pytest.approx(1.614, abs=5e-4)
    assert m.fit_report_.converged


def test_gamma_gamma_matches_fader_hardie_lee(ggf):
    p = ggf.params_
    assert list(p.index) == ["p", "q", "v"]
    assert len(ggf.data) == 946
    assert p["p"] == pytest.approx(6.25, abs=5e-3)
    assert p["q"] == pytest.approx(3.74, abs=5e-3)
    # The paper's 15.44 is Excel's; the exact optimum is 15.448 (see tests/cpp/test_models.cpp).
    assert p["v"] == pytest.approx(15.44, abs=1e-2)
    assert ggf.log_likelihood_ == pytest.approx(-4055.9, abs=0.05)
    spend = ggf.conditional_expected_average_profit()
    assert isinstance(spend, pd.Series) and spend.index.equals(ggf.data.index)
    population = p["p"] * p["v"] / (p["q"] - 1)
    assert ggf.conditional_expected_average_profit(0, 0) == pytest.approx(population)


def test_clv_sums_discounted_monthly_purchases(bgf, ggf):
    x = pd.Series([2.0, 0.0], index=["u", "v"])
    tx = pd.Series([30.43, 0.0], index=x.index)
    T = pd.Series([38.86, 38.86], index=x.index)
    m = pd.Series([22.35, 0.0], index=x.index)
    clv = ggf.customer_lifetime_value(bgf, x, tx, T, m, time=12, discount_rate=0.01, freq="W")
    assert isinstance(clv, pd.Series) and clv.name == "clv" and clv.index.equals(x.index)
    spend = ggf.conditional_expected_average_profit(2, 22.35)
    expect, prev = 0.0, 0.0
    for i in range(1, 13):
        cur = bgf.conditional_expected_number_of_purchases_up_to_time(i * 4.345, 2, 30.43, 38.86)
        expect += spend * (cur - prev) / 1.01**i
        prev = cur
    assert clv["u"] == pytest.approx(expect, rel=1e-12)
    assert clv["v"] > 0
    with pytest.raises(crmkit.ValidationError, match="^transaction_prediction_model:"):
        ggf.customer_lifetime_value(ggf, x, tx, T, m)
    with pytest.raises(crmkit.ValidationError, match="^freq:"):
        ggf.customer_lifetime_value(bgf, x, tx, T, m, freq="Y")


def test_bgbb_matches_fader_hardie_shang():
    d = datasets.load_donations()
    bb = crmkit.BetaGeoBetaBinomFitter().fit(d["frequency"], d["recency"], d["periods"],
                                             weights=d["weights"])
    p = bb.params_
    assert list(p.index) == ["alpha", "beta", "gamma", "delta"]
    assert p["alpha"] == pytest.approx(1.204, abs=5e-4)
    assert p["beta"] == pytest.approx(0.750, abs=5e-4)
    assert p["gamma"] == pytest.approx(0.657, abs=5e-4)
    assert p["delta"] == pytest.approx(2.783, abs=5e-4)
    assert bb.log_likelihood_ == pytest.approx(-33225.6, abs=0.05)
    assert list(bb.data.columns) == ["frequency", "recency", "n_periods", "weights"]
    # lifetimes' table: expected donors per repeat count over the 6 years adds up to all donors
    # seen with those counts (every count 0..6 is observed).
    table = bb.expected_number_of_transactions_in_first_n_periods(6)
    assert list(table.columns) == ["model"] and table.index.name == "frequency"
    assert table.index.tolist() == [0, 1, 2, 3, 4, 5, 6]
    assert table["model"].sum() == pytest.approx(11104, rel=1e-9)
    e6 = bb.expected_number_of_purchases_up_to_time(6)
    assert (table["model"] * table.index).sum() / 11104 == pytest.approx(e6, rel=1e-9)
    alive = bb.conditional_probability_alive(0, d["frequency"], d["recency"], d["periods"])
    assert isinstance(alive, pd.Series) and ((alive >= 0) & (alive <= 1)).all()
    ahead = bb.conditional_expected_number_of_purchases_up_to_time(5, 6, 6, 6)
    assert 0 < ahead <= 5
    assert bb.predict(5, 6, 6, 6) == ahead
    # A donor who gave every year is likelier alive than one who stopped after year 1.
    assert bb.conditional_probability_alive(0, 6, 6, 6) > bb.conditional_probability_alive(0, 1, 1, 6)


def test_series_in_series_out_arrays_and_scalars(bgf, cdnow):
    head = cdnow.head(5)
    out = bgf.conditional_probability_alive(head["frequency"], head["recency"], head["T"])
    assert isinstance(out, pd.Series) and out.index.equals(head.index)
    arr = bgf.conditional_probability_alive(head["frequency"].to_numpy(),
                                            head["recency"].to_numpy(), head["T"].to_numpy())
    assert isinstance(arr, np.ndarray) and np.array_equal(arr, out.to_numpy())
    lst = bgf.conditional_probability_alive(list(head["frequency"]), list(head["recency"]),
                                            list(head["T"]))
    assert isinstance(lst, np.ndarray) and np.array_equal(lst, arr)
    one = bgf.conditional_probability_alive(2, 30.43, 38.86)
    assert isinstance(one, float)
    # None means the fitted data.
    everyone = bgf.conditional_expected_number_of_purchases_up_to_time(10)
    assert isinstance(everyone, pd.Series) and everyone.index.equals(bgf.data.index)
    # t as a column: one horizon per row.
    per_row = bgf.conditional_expected_number_of_purchases_up_to_time(
        np.array([0.0, 10.0, 39.0]), 2, 30.43, 38.86)
    assert per_row[0] == 0 and per_row[2] == pytest.approx(1.226, abs=5e-4)
    assert per_row[1] == bgf.conditional_expected_number_of_purchases_up_to_time(10, 2, 30.43, 38.86)
    ts = bgf.expected_number_of_purchases_up_to_time(pd.Series([1.0, 39.0], index=["a", "b"]))
    assert isinstance(ts, pd.Series) and ts.index.tolist() == ["a", "b"] and ts["a"] < ts["b"]
    pn = bgf.probability_of_n_purchases_up_to_time(39, np.arange(200))
    assert pn.sum() == pytest.approx(1.0, abs=1e-9)


def test_known_parameters_without_fit():
    m = crmkit.BetaGeoFitter()
    assert not hasattr(m, "params_")
    with pytest.raises(ValueError, match="fit"):
        m.conditional_probability_alive(1, 1, 2)
    m.params_ = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert m.conditional_expected_number_of_purchases_up_to_time(39, 2, 30.43, 38.86) == (
        pytest.approx(1.226, abs=5e-4)
    )
    with pytest.raises(crmkit.ValidationError, match="^params_: missing b"):
        m.params_ = {"r": 1, "alpha": 1, "a": 1}
    with pytest.raises(crmkit.ValidationError):
        m.params_ = [1.0, -1.0, 1.0, 1.0]


def test_bad_input_raises_validation_error_naming_the_argument(bgf):
    with pytest.raises(crmkit.ValidationError, match=r"^recency\[1\]:"):
        bgf.conditional_probability_alive([1, 2], [1, 5], [3, 4])
    with pytest.raises(crmkit.ValidationError, match=r"^frequency\[0\]:"):
        bgf.conditional_probability_alive([-1], [0], [3])
    with pytest.raises(crmkit.ValidationError, match=r"^recency:.*length"):
        bgf.conditional_probability_alive([1, 2, 3], [1, 1], [3, 4, 5])
    with pytest.raises(crmkit.ValidationError, match=r"^recency\[0\]:.*\[0, T\]"):
        crmkit.BetaGeoFitter().fit([1], [2], [1])
    with pytest.raises(crmkit.ValidationError, match="^frequency:"):
        bgf.conditional_probability_alive(["a"], [0], [1])
    with pytest.raises(crmkit.ValidationError, match="^recency: pass frequency"):
        bgf.conditional_probability_alive(frequency=[1])
    with pytest.raises(crmkit.ValidationError, match="^t:"):
        bgf.conditional_expected_number_of_purchases_up_to_time(-1, 1, 1, 2)
    with pytest.raises(crmkit.ValidationError, match=r"^monetary_value\[0\]:"):
        crmkit.GammaGammaFitter().fit([1], [-5.0])
    with pytest.raises(TypeError, match="method"):
        crmkit.BetaGeoFitter().fit([1], [1], [2], method="Nelder-Mead")


def test_a_fit_that_does_not_converge_warns_and_keeps_its_report(cdnow):
    with pytest.warns(crmkit.ConvergenceWarning, match="did not converge"):
        m = crmkit.BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"],
                                       max_iterations=2)
    assert not m.fit_report_.converged
    assert m.fit_report_.message
    assert issubclass(crmkit.ConvergenceWarning, UserWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        crmkit.BetaGeoFitter(penalizer_coef=0.01).fit(cdnow["frequency"], cdnow["recency"],
                                                      cdnow["T"])


def test_no_nan_or_inf_from_any_prediction_over_extreme_inputs(bgf, pnbd, ggf):
    frequencies = [0.0, 1.0, 10.0, 1e3, 1e5]
    ages = [1e-6, 1.0, 52.0, 1e4]
    fractions = [0.0, 1e-9, 0.5, 1.0]
    rows = []
    for x, T, f in itertools.product(frequencies, ages, fractions):
        rows.append((x, 0.0 if x == 0 else f * T, T))
    x, tx, T = (np.array(c) for c in zip(*rows))
    models = [
        bgf,
        pnbd,
        crmkit.ModifiedBetaGeoFitter().fit(bgf.data["frequency"], bgf.data["recency"],
                                           bgf.data["T"]),
    ]
    # Singular and extreme parameters: a + b < 1 (one-time buyers), a = 1, s = 1.
    for params in ({"r": 0.2, "alpha": 5.0, "a": 0.3, "b": 0.4},
                   {"r": 1e-3, "alpha": 1e3, "a": 1.0, "b": 1e-3}):
        m = crmkit.BetaGeoFitter()
        m.params_ = params
        models.append(m)
        mm = crmkit.ModifiedBetaGeoFitter()
        mm.params_ = params
        models.append(mm)
    for params in ({"r": 0.5, "alpha": 10.0, "s": 1.0, "beta": 12.0},
                   {"r": 50.0, "alpha": 1e-3, "s": 1e-3, "beta": 1e3}):
        m = crmkit.ParetoNBDFitter()
        m.params_ = params
        models.append(m)
    for m in models:
        for t in (0.0, 1.0, 1e4):
            e = m.conditional_expected_number_of_purchases_up_to_time(t, x, tx, T)
            assert np.isfinite(e).all() and (e >= 0).all(), (m, t)
        p = m.conditional_probability_alive(x, tx, T)
        assert np.isfinite(p).all() and ((p >= 0) & (p <= 1)).all(), m
        n = m.expected_number_of_purchases_up_to_time([0.0, 1.0, 1e4])
        assert np.isfinite(n).all(), m
        clv = ggf.customer_lifetime_value(m, x, tx, T, np.full(len(x), 50.0))
        assert np.isfinite(clv).all(), m
    spend = ggf.conditional_expected_average_profit(x, np.full(len(x), 1e6))
    assert np.isfinite(spend).all()
    bb = crmkit.BetaGeoBetaBinomFitter()
    bb.params_ = {"alpha": 0.1, "beta": 0.1, "gamma": 0.1, "delta": 0.1}
    xs = np.array([0, 1, 500, 1000.0])
    txs = np.array([0, 1, 900, 1000.0])
    ns = np.array([1, 1000, 1000, 1000.0])
    for m_future in (0, 1, 1000):
        assert np.isfinite(bb.conditional_probability_alive(m_future, xs, txs, ns)).all()
        assert np.isfinite(
            bb.conditional_expected_number_of_purchases_up_to_time(m_future, xs, txs, ns)).all()


def test_modified_bgnbd_probability_of_n_purchases(cdnow):
    mbg = crmkit.ModifiedBetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    pn = mbg.probability_of_n_purchases_up_to_time(39, np.arange(400))
    assert pn.sum() == pytest.approx(1.0, abs=1e-12)
    assert (pn * np.arange(400)).sum() == pytest.approx(
        float(mbg.expected_number_of_purchases_up_to_time(39)), rel=1e-10)


NO_INFORMATION = "no information: every row has T = 0"
NAN_SE = "Hessian not negative definite: standard errors are NaN"


def test_a_fit_on_all_zero_rows_is_not_converged_and_warns():
    # CDNOW with int64 dates read as nanoseconds gave every summary row 0.
    zero = np.zeros(100)
    for cls in (crmkit.BetaGeoFitter, crmkit.ModifiedBetaGeoFitter, crmkit.ParetoNBDFitter):
        with pytest.warns(crmkit.ConvergenceWarning, match=NO_INFORMATION):
            m = cls().fit(zero, zero, zero)
        assert not m.fit_report_.converged
        assert NO_INFORMATION in m.fit_report_.message


def test_nan_standard_errors_computed_later_mark_the_fit_not_converged(cdnow):
    zero = np.zeros(10)
    with pytest.warns(crmkit.ConvergenceWarning):
        m = crmkit.BetaGeoFitter().fit(zero, zero, zero)
    # The standard errors come with the fit: NaN here, and the report says so.
    assert NAN_SE in m.fit_report_.message and not m.fit_report_.converged
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        se = m.standard_errors_
    assert se.isna().all()
    # A model saved by a crmkit that computed them on first read (se_rows in the state): a
    # converged fit whose standard errors come out NaN turns not converged, with a warning.
    fitted = crmkit.BetaGeoFitter()
    fitted.params_ = {"r": 0.24, "alpha": 4.4, "a": 0.79, "b": 2.4}
    good = _core_model_with_report(fitted, converged=True)
    fitted._model = good
    fitted._se_rows = (zero, zero, zero, None, 0.0)
    assert fitted.fit_report_.converged
    with pytest.warns(crmkit.ConvergenceWarning, match=NAN_SE):
        fitted.standard_errors_
    assert not fitted.fit_report_.converged
    # On CDNOW the lazily computed errors are finite and the report stays converged, silently.
    bgf = crmkit.BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert bgf.standard_errors_.notna().all()
    assert bgf.fit_report_.converged


def _core_model_with_report(fitter, converged: bool):
    from crmkit import _core

    report = _core.FitReport(converged=converged, iterations=3, log_likelihood=-1.0,
                             gradient_norm=0.0, message="L-BFGS: xtol reached")
    return type(fitter._model)(list(fitter._model.params), [float("nan")] * 4, report)


def fitted_models():
    """One fitted model of every fitter, with a prediction of each to compare."""
    cdnow = datasets.load_cdnow_summary(index_col=[0])
    x, tx, T = cdnow["frequency"], cdnow["recency"], cdnow["T"]
    d = datasets.load_donations()
    money = datasets.load_cdnow_summary_data_with_monetary_value()
    repeat = money[money["frequency"] > 0]
    return {
        "BetaGeoFitter": (crmkit.BetaGeoFitter().fit(x, tx, T), (x, tx, T)),
        "ModifiedBetaGeoFitter": (crmkit.ModifiedBetaGeoFitter().fit(x, tx, T), (x, tx, T)),
        "ParetoNBDFitter": (crmkit.ParetoNBDFitter().fit(x, tx, T), (x, tx, T)),
        "BetaGeoBetaBinomFitter": (
            crmkit.BetaGeoBetaBinomFitter().fit(d["frequency"], d["recency"], d["periods"],
                                                weights=d["weights"]),
            (d["frequency"], d["recency"], d["periods"]),
        ),
        "GammaGammaFitter": (
            crmkit.GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"]),
            (repeat["frequency"], repeat["monetary_value"]),
        ),
    }


def predictions(model, columns):
    if isinstance(model, crmkit.GammaGammaFitter):
        return [model.conditional_expected_average_profit(*columns)]
    if isinstance(model, crmkit.BetaGeoBetaBinomFitter):
        return [model.conditional_expected_number_of_purchases_up_to_time(5, *columns),
                model.conditional_probability_alive(5, *columns)]
    return [model.conditional_expected_number_of_purchases_up_to_time(10, *columns),
            model.conditional_probability_alive(*columns)]


def assert_same_fitter(copy, original, columns):
    assert type(copy) is type(original)
    assert copy.params_.equals(original.params_)
    assert copy.fit_report_ == original.fit_report_
    for got, want in zip(predictions(copy, columns), predictions(original, columns)):
        assert np.array_equal(np.asarray(got), np.asarray(want))  # exactly the same


def test_every_fitter_pickles_deep_copies_and_saves(tmp_path):
    import copy
    import pickle

    for name, (model, columns) in fitted_models().items():
        assert_same_fitter(pickle.loads(pickle.dumps(model)), model, columns)
        assert_same_fitter(copy.deepcopy(model), model, columns)
        path = tmp_path / f"{name}.pkl"
        model.save_model(path)
        loaded = getattr(crmkit, name)()
        loaded.load_model(path)
        assert_same_fitter(loaded, model, columns)
        pd.testing.assert_frame_equal(loaded.data, model.data)
        assert loaded.standard_errors_.equals(model.standard_errors_)
        # Without the data: predictions on given columns are the same, data is None.
        model.save_model(path, save_data=False)
        light = getattr(crmkit, name)()
        light.load_model(path)
        assert light.data is None
        assert_same_fitter(light, model, columns)


def test_lazy_standard_errors_survive_a_pickle(cdnow):
    import pickle

    m = crmkit.BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    copy = pickle.loads(pickle.dumps(m))  # before the standard errors were read
    assert copy.standard_errors_.equals(m.standard_errors_)


def test_an_unfitted_model_pickles_and_saves(tmp_path):
    import pickle

    m = crmkit.BetaGeoFitter(penalizer_coef=0.1)
    copy = pickle.loads(pickle.dumps(m))
    assert copy.penalizer_coef == 0.1 and not hasattr(copy, "params_") and copy.data is None
    m.save_model(tmp_path / "empty.pkl")
    loaded = crmkit.BetaGeoFitter()
    loaded.load_model(tmp_path / "empty.pkl")
    assert loaded.penalizer_coef == 0.1
    with pytest.raises(crmkit.ValidationError, match="^BetaGeoFitter is not fitted: call fit\\(\\) first$"):
        loaded.conditional_probability_alive(1, 1, 2)


def test_load_model_refuses_unknown_versions_and_other_files(tmp_path, bgf):
    import pickle

    path = tmp_path / "model.pkl"
    bgf.save_model(path)
    with open(path, "rb") as f:
        state = pickle.load(f)
    assert state["format"] == "crmkit.fitter" and state["version"] == 1
    state["version"] = 99
    with open(path, "wb") as f:
        pickle.dump(state, f)
    with pytest.raises(crmkit.ValidationError,
                       match=r"saved model format version 99 is not supported \(this crmkit "
                             r"reads version 1\)"):
        crmkit.BetaGeoFitter().load_model(path)
    other = tmp_path / "other.pkl"
    other.write_bytes(b"not a pickle")
    with pytest.raises(crmkit.ValidationError, match="is not a saved crmkit model"):
        crmkit.BetaGeoFitter().load_model(other)
    bgf.save_model(path)
    with pytest.raises(crmkit.ValidationError, match="holds a BetaGeoFitter, not a ParetoNBDFitter"):
        crmkit.ParetoNBDFitter().load_model(path)
    with pytest.raises(crmkit.ValidationError, match="^values_to_save: expected one value"):
        bgf.save_model(path, save_data=False, values_to_save=[1, 2])


def test_core_models_and_fit_reports_pickle(bgf):
    import pickle

    from crmkit import _core

    model = bgf._model
    again = pickle.loads(pickle.dumps(model))
    assert again.params == model.params
    assert again.report == model.report
    report = pickle.loads(pickle.dumps(model.report))
    assert isinstance(report, _core.FitReport) and report == model.report


def test_not_fitted_names_the_model_and_missing_names_give_validation_errors():
    for cls in (crmkit.BetaGeoFitter, crmkit.ModifiedBetaGeoFitter, crmkit.ParetoNBDFitter,
                crmkit.BetaGeoBetaBinomFitter, crmkit.GammaGammaFitter):
        m = cls()
        name = cls.__name__
        with pytest.raises(crmkit.ValidationError, match=f"^{name} is not fitted: call fit\\(\\) first$"):
            m.fit_report_
        with pytest.raises(AttributeError, match=f"^params_: {name} is not fitted"):
            m.params_
    with pytest.raises(crmkit.ValidationError, match="^initial_params: missing a, b$"):
        crmkit.BetaGeoFitter().fit([1, 2], [1, 2], [3, 4], initial_params={"r": 1, "alpha": 1})
