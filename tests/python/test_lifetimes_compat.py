"""crmkit against numbers recorded from lifetimes 0.11.3 (tests/data/lifetimes/api.json, written by
tests/data/lifetimes/record_api.py in the lifetimes environment; this test does not import
lifetimes). docs/lifetimes-compat.md lists the names and the deliberate differences.

Tolerances: where crmkit evaluates a formula at lifetimes' parameters (predictions, matrices,
CLV), rtol 1e-9; where both fit, the optimum is the same but lifetimes' optimiser stops earlier
(scipy tol 1e-7): parameters within rtol 2e-6 (1e-4 for Pareto/NBD), and crmkit's
log-likelihood is at least lifetimes'."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import crmkit
from crmkit import datasets, generate_data, utils

API = json.loads((Path(__file__).resolve().parents[1] / "data" / "lifetimes" / "api.json")
                 .read_text())
TRANSACTION_FITTERS = ["BetaGeoFitter", "ModifiedBetaGeoFitter", "ParetoNBDFitter"]
PARAM_RTOL = {"BetaGeoFitter": 2e-6, "ModifiedBetaGeoFitter": 2e-6, "ParetoNBDFitter": 1e-4,
              "BetaGeoBetaBinomFitter": 2e-6, "GammaGammaFitter": 2e-6}


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return datasets.load_cdnow_summary(index_col=[0])


@pytest.fixture(scope="module")
def donations() -> pd.DataFrame:
    return datasets.load_donations()


def _fit(name: str, cdnow: pd.DataFrame, **kwargs):
    return getattr(crmkit, name)().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"],
                                       **kwargs)


def _at_lifetimes_params(name: str):
    f = getattr(crmkit, name)()
    f.params_ = API[name]["params"]
    return f


def _frame(rec: dict) -> pd.DataFrame:
    return pd.DataFrame(rec["values"], index=rec["index"], columns=rec["columns"])


# ---- fits, summary, confidence intervals, __repr__ -------------------------------------------


@pytest.mark.parametrize("name", TRANSACTION_FITTERS)
def test_fit_matches_lifetimes(name, cdnow):
    f = _fit(name, cdnow)
    rec = API[name]
    expected = pd.Series(rec["params"])
    np.testing.assert_allclose(f.params_[expected.index], expected, rtol=PARAM_RTOL[name])
    core = getattr(crmkit._core, f._core_class.__name__)(list(expected.to_numpy()))
    lifetimes_ll = core.log_likelihood(cdnow["frequency"].to_numpy(float),
                                       cdnow["recency"].to_numpy(float),
                                       cdnow["T"].to_numpy(float))
    assert f.log_likelihood_ >= lifetimes_ll
    assert repr(f) == rec["repr"].replace("<lifetimes.", "<crmkit.")


@pytest.mark.parametrize("name", ["BetaGeoFitter", "ModifiedBetaGeoFitter"])
def test_summary_and_confidence_intervals_match_lifetimes(name, cdnow):
    f = _fit(name, cdnow)
    rec = API[name]
    summary = _frame(rec["summary"])
    assert list(f.summary.columns) == list(summary.columns)
    assert list(f.summary.index) == list(summary.index)
    # the standard errors are the same delta-method ones; the optimum differs by < 2e-6
    np.testing.assert_allclose(f.summary.to_numpy(), summary.to_numpy(), rtol=2e-5)
    ci = _frame(rec["confidence_intervals"])
    np.testing.assert_allclose(f.confidence_intervals_[ci.columns].to_numpy(), ci.to_numpy(),
                               rtol=2e-5)
    np.testing.assert_allclose(f.standard_errors_, pd.Series(rec["standard_errors"]), rtol=2e-5)


def test_pareto_summary_exists_where_lifetimes_has_none(cdnow):
    # lifetimes 0.11.3's ParetoNBDFitter has no standard errors (AttributeError); crmkit's has
    assert "AttributeError" in API["ParetoNBDFitter"]["summary"]["error"]
    f = _fit("ParetoNBDFitter", cdnow)
    se = f.standard_errors_
    assert se.index.tolist() == ["r", "alpha", "s", "beta"]
    assert np.all(np.isfinite(se)) and np.all(se > 0)
    np.testing.assert_allclose(f.summary["lower 95% bound"], f.params_ - 1.96 * se, rtol=1e-12)


def test_bgbb_and_gamma_gamma_fits_match_lifetimes(donations):
    b = crmkit.BetaGeoBetaBinomFitter().fit(donations["frequency"], donations["recency"],
                                            donations["periods"], weights=donations["weights"])
    rec = API["BetaGeoBetaBinomFitter"]
    np.testing.assert_allclose(b.params_, pd.Series(rec["params"])[b.params_.index], rtol=2e-6)
    np.testing.assert_allclose(b.summary.to_numpy(), _frame(rec["summary"]).to_numpy(),
                               rtol=1e-6)
    assert repr(b) == rec["repr"].replace("<lifetimes.", "<crmkit.")

    data = datasets.load_cdnow_summary_data_with_monetary_value()
    rep = data[data["frequency"] > 0]
    g = crmkit.GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
    rec = API["GammaGammaFitter"]
    np.testing.assert_allclose(g.params_, pd.Series(rec["params"])[g.params_.index], rtol=2e-6)
    np.testing.assert_allclose(g.summary.to_numpy(), _frame(rec["summary"]).to_numpy(),
                               rtol=1e-6)
    assert repr(g) == rec["repr"].replace("<lifetimes.", "<crmkit.")
    assert repr(g) == "<crmkit.GammaGammaFitter: fitted with 946 subjects, p: 6.25, q: 3.74, v: 15.45>"


# ---- fit keyword arguments -------------------------------------------------------------------


def test_fit_keywords(cdnow, capsys):
    np.random.seed(3)
    f = _fit("BetaGeoFitter", cdnow, iterative_fitting=3, verbose=True, tol=1e-10,
             index=cdnow.index)
    out = capsys.readouterr().out
    assert out.count("fit 2 of 3") == 1 and out.count("fit 3 of 3") == 1
    assert "BetaGeoFitter: converged=True" in out
    np.testing.assert_allclose(f.params_, pd.Series(API["BetaGeoFitter"]["params"]), rtol=2e-6)
    assert f.data.index.equals(cdnow.index)
    # a poor start plus refits reaches the same optimum as the default start
    g = _fit("BetaGeoFitter", cdnow, initial_params=[5.0, 0.1, 9.0, 0.2], iterative_fitting=2)
    np.testing.assert_allclose(g.params_, f.params_, rtol=1e-6)
    with pytest.raises(crmkit.ValidationError, match="iterative_fitting"):
        _fit("BetaGeoFitter", cdnow, iterative_fitting=0)


def test_iterative_fitting_keeps_the_best(cdnow):
    # one evaluation from a poor start does not converge; the refits from perturbed copies of
    # the best so far are kept only when better
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", crmkit.ConvergenceWarning)
        one = _fit("ParetoNBDFitter", cdnow, initial_params=[3.0, 3.0, 3.0, 3.0],
                   max_iterations=5)
        np.random.seed(1)
        many = _fit("ParetoNBDFitter", cdnow, initial_params=[3.0, 3.0, 3.0, 3.0],
                    max_iterations=5, iterative_fitting=6)
    assert many.log_likelihood_ >= one.log_likelihood_


# ---- predictions at lifetimes' parameters ----------------------------------------------------


@pytest.mark.parametrize("name", TRANSACTION_FITTERS)
def test_expected_number_of_purchases_up_to_time(name):
    f = _at_lifetimes_params(name)
    rec = API[name]["expected_number_of_purchases_up_to_time"]
    np.testing.assert_allclose(f.expected_number_of_purchases_up_to_time(rec["t"]),
                               rec["values"], rtol=1e-9)


def test_bgbb_expected_number_of_purchases_up_to_time():
    f = _at_lifetimes_params("BetaGeoBetaBinomFitter")
    rec = API["BetaGeoBetaBinomFitter"]["expected_number_of_purchases_up_to_time"]
    # lifetimes' BG/BB has no such method; its P(X(n) = x) table (frequencies 0..6 of the
    # data) gives the mean for n <= 6
    assert rec["method_exists"] is False
    n = [t for t in rec["t"] if t <= 6]
    np.testing.assert_allclose(f.expected_number_of_purchases_up_to_time(n),
                               rec["values"][:len(n)], rtol=1e-9)


@pytest.mark.parametrize("name", TRANSACTION_FITTERS)
def test_conditional_probability_alive_matrix(name, cdnow):
    rec = API[name]
    fitted = _fit(name, cdnow)
    assert list(fitted.conditional_probability_alive_matrix().shape) == \
        rec["alive_matrix_default_shape"]
    f = _at_lifetimes_params(name)
    m = f.conditional_probability_alive_matrix(max_frequency=5, max_recency=10)
    expected = np.array(rec["alive_matrix_5_10"])
    assert m.shape == expected.shape == (11, 6)  # [recency, frequency]
    possible = ~np.isnan(m)
    np.testing.assert_array_equal(possible[:, 0], np.arange(11) == 0)  # x = 0: only recency 0
    assert possible[:, 1:].all()
    np.testing.assert_allclose(m[possible], expected[possible], rtol=1e-9)


# ---- save_model / load_model -----------------------------------------------------------------


def test_save_and_load_like_lifetimes(cdnow, tmp_path):
    f = _fit("BetaGeoFitter", cdnow)
    rec = API["save_load"]
    f.save_model(tmp_path / "a.pkl")
    f.save_model(tmp_path / "b.pkl", save_data=False)
    f.save_model(tmp_path / "c.pkl", save_data=False, values_to_save=["dropped"])
    loaded = {}
    for k in "abc":
        g = crmkit.BetaGeoFitter()
        g.load_model(tmp_path / f"{k}.pkl")
        loaded[k] = g
        pd.testing.assert_series_equal(g.params_, f.params_)
        assert repr(g) == rec[k]["repr"].replace("<lifetimes.", "<crmkit.")
    assert list(loaded["a"].data.shape) == rec["a"]["data"] == [2357, 4]
    assert loaded["b"].data is None and rec["b"]["data"] is None
    assert loaded["c"].data == rec["c"]["data"] == "dropped"
    np.testing.assert_allclose(loaded["a"].predict(10), f.predict(10), rtol=0)


# ---- generate_data -----------------------------------------------------------------------------


GENERATORS = {
    "beta_geometric_nbd_model":
        (11, lambda: generate_data.beta_geometric_nbd_model(30, 0.24, 4.41, 0.79, 2.43, size=40)),
    "pareto_nbd_model":
        (12, lambda: generate_data.pareto_nbd_model(30, 0.55, 10.6, 0.61, 11.7, size=40)),
    "modified_beta_geometric_nbd_model":
        (13, lambda: generate_data.modified_beta_geometric_nbd_model(30, 0.24, 4.41, 0.79, 2.43,
                                                                     size=40)),
    "beta_geometric_beta_binom_model":
        (14, lambda: generate_data.beta_geometric_beta_binom_model(6, 1.204, 0.750, 0.657, 2.783,
                                                                   size=40)),
    "T_array":
        (15, lambda: generate_data.beta_geometric_nbd_model(np.array([5.0, 10.0, 20.0, 40.0]),
                                                            1.2, 2.0, 0.5, 3.0, size=4)),
}


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generate_data_same_numbers_as_lifetimes(name):
    seed, call = GENERATORS[name]
    np.random.seed(seed)
    df = call()
    rec = API["generate_data"][name]
    assert list(df.columns) == rec["columns"]
    assert [str(i) for i in df.index] == rec["index"]
    np.testing.assert_array_equal(df.to_numpy(), np.array(rec["values"]))


def test_transactional_data_same_rows_as_lifetimes():
    # lifetimes 0.11.3 raises on pandas 2 (DataFrame.append); the recorder replayed its code
    # with append = concat, the rows it gives on pandas 1
    assert "append" in API["generate_data"]["transactional_data_on_this_pandas"]
    np.random.seed(16)
    t = generate_data.beta_geometric_nbd_model_transactional_data(
        30, 0.24, 4.41, 0.79, 2.43, observation_period_end="2019-1-1", freq="D", size=10)
    rec = API["generate_data"]["beta_geometric_nbd_model_transactional_data"]
    assert t["customer_id"].tolist() == rec["customer_id"]
    assert [str(v) for v in t["date"]] == rec["date"]


def test_generated_sample_recovers_parameters():
    np.random.seed(2024)
    true = {"r": 0.24, "alpha": 4.41, "a": 0.79, "b": 2.43}
    df = generate_data.beta_geometric_nbd_model(39, size=4000, **true)
    f = crmkit.BetaGeoFitter().fit(df["frequency"], df["recency"], df["T"])
    for k, v in true.items():
        assert abs(f.params_[k] - v) < 3 * f.standard_errors_[k], (k, f.params_[k], v)
    np.random.seed(2025)
    d = generate_data.beta_geometric_beta_binom_model(6, 1.204, 0.750, 0.657, 2.783, size=4000)
    b = crmkit.BetaGeoBetaBinomFitter().fit(d["frequency"], d["recency"], d["n_periods"])
    for k, v in {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}.items():
        assert abs(b.params_[k] - v) < 3 * b.standard_errors_[k], (k, b.params_[k], v)


def test_generate_data_checks_its_arguments():
    with pytest.raises(crmkit.ValidationError, match="alpha"):
        generate_data.pareto_nbd_model(30, 0.5, -1.0, 0.6, 11.7)
    with pytest.raises(crmkit.ValidationError, match="size"):
        generate_data.beta_geometric_nbd_model(30, 0.24, 4.41, 0.79, 2.43, size=0)


# ---- utils ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cdnow_log() -> pd.DataFrame:
    raw = datasets.load_cdnow_sample()
    raw["dollar_value"] = raw["dollar_value"].astype(float)
    return raw


def test_find_first_transactions(cdnow_log):
    ft = utils.find_first_transactions(cdnow_log, "customer_id", "date", "dollar_value",
                                       observation_period_end="1997-09-30")
    rec = API["find_first_transactions"]
    assert len(ft) == rec["rows"] == 4814
    assert list(ft.columns) == rec["columns"]
    assert ft["customer_id"].tolist() == rec["customer_id"]
    assert [str(v) for v in ft["date"]] == rec["date"]
    np.testing.assert_allclose(ft["dollar_value"], rec["dollar_value"], rtol=1e-12)
    assert ft["first"].tolist() == rec["first"]
    fw = utils.find_first_transactions(cdnow_log, "customer_id", "date", freq="W")
    rec = API["find_first_transactions_W"]
    assert len(fw) == rec["rows"] and int(fw["first"].sum()) == rec["first_count"] == 2357
    assert [[int(a), str(b), bool(c)] for a, b, c in fw.head(15).to_numpy()] == rec["head"]


def test_customer_lifetime_value_with_lifetimes_arguments():
    rec = API["GammaGammaFitter"]
    bg = crmkit.BetaGeoFitter()
    bg.params_ = rec["bg_params"]
    c = rec["clv"]
    clv = utils.customer_lifetime_value(
        bg, pd.Series(c["frequency"]), pd.Series(c["recency"]), pd.Series(c["T"]),
        pd.Series(c["monetary_value"]), time=c["time"], discount_rate=c["discount_rate"],
        freq=c["freq"])
    assert clv.name == "clv"
    np.testing.assert_allclose(clv, c["values"], rtol=1e-9, atol=1e-12)
    assert clv.iloc[0] == pytest.approx(18.062386288471988, rel=1e-9)


def test_expected_cumulative_transactions(cdnow_log):
    rec = API["expected_cumulative_transactions"]
    bg = crmkit.BetaGeoFitter()
    bg.params_ = rec["params"]
    ect = utils.expected_cumulative_transactions(bg, cdnow_log, "date", "customer_id", 273,
                                                 freq="D", freq_multiplier=7)
    assert ect["actual"].tolist() == rec["actual"]
    np.testing.assert_allclose(ect["predicted"], rec["predicted"], rtol=1e-9)
    # lifetimes 0.11.3's positional order: ..., datetime_format, freq, freq_multiplier,
    # set_index_date
    positional = utils.expected_cumulative_transactions(bg, cdnow_log, "date", "customer_id", 273,
                                                        None, "D", 7, False)
    pd.testing.assert_frame_equal(positional, ect)


def test_observation_end_before_the_data(cdnow_log):
    # lifetimes returns an empty frame; crmkit says what is wrong
    assert API["observation_end_before_data"]["error"] is None
    with pytest.raises(crmkit.ValidationError,
                       match=r"observation_period_end: 1996-12-01 00:00:00 is before the first "
                             r"transaction \(1997-01-01 00:00:00\)"):
        utils.summary_data_from_transaction_data(cdnow_log, "customer_id", "date",
                                                 observation_period_end="1996-12-01")
    assert API["calibration_end_after_observation_end"]["error"].startswith(
        "ValueError: There is no data available")
    with pytest.raises(crmkit.ValidationError,
                       match="observation_period_end: .* is before calibration_period_end"):
        utils.calibration_and_holdout_data(cdnow_log, "customer_id", "date",
                                           calibration_period_end="1997-03-01",
                                           observation_period_end="1997-02-01")


# ---- BG/BB: Fader, Hardie and Shang (2010), P(alive in 2002) -----------------------------------


def test_bgbb_probability_alive_2002(donations):
    rec = API["BetaGeoBetaBinomFitter"]["alive_2002"]
    paper = crmkit.BetaGeoBetaBinomFitter()
    paper.params_ = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
    alive = paper.conditional_probability_alive(1, donations["frequency"], donations["recency"],
                                                donations["periods"])
    np.testing.assert_allclose(alive, rec["paper_params"], rtol=1e-9)
    fitted = _at_lifetimes_params("BetaGeoBetaBinomFitter")
    np.testing.assert_allclose(
        fitted.conditional_probability_alive(1, donations["frequency"], donations["recency"],
                                             donations["periods"]), rec["fitted"], rtol=1e-9)
    # (x, t_x) = (6, 6): 0.9; (0, 0) after six periods: 0.11 (docs/lifetimes-compat.md)
    by_pattern = dict(zip(zip(donations["frequency"], donations["recency"]), alive))
    assert by_pattern[(6, 6)] == pytest.approx(rec["paper_params"][
        list(zip(rec["frequency"], rec["recency"])).index((6, 6))], rel=1e-12)


# ---- Gamma-Gamma q_constraint ------------------------------------------------------------------


def test_q_constraint_inactive_gives_the_unconstrained_fit():
    data = datasets.load_cdnow_summary_data_with_monetary_value()
    rep = data[data["frequency"] > 0]
    free = crmkit.GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
    held = crmkit.GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"],
                                         q_constraint=True)
    pd.testing.assert_series_equal(held.params_, free.params_)
    # lifetimes' bounded optimiser (L-BFGS-B) stops a little earlier on the same optimum
    rec = pd.Series(API["GammaGammaFitter"]["q_constraint_params"])
    np.testing.assert_allclose(held.params_[rec.index], rec, rtol=5e-5)


def test_q_constraint_at_the_bound_matches_lifetimes():
    rec = API["q_constraint_binding"]
    x, m = np.array(rec["frequency"], float), np.array(rec["monetary_value"])
    free = crmkit.GammaGammaFitter().fit(x, m)
    expected_free = pd.Series(rec["params"])
    np.testing.assert_allclose(free.params_[expected_free.index], expected_free, rtol=2e-5)
    assert free.params_["q"] < 1
    held = crmkit.GammaGammaFitter().fit(x, m, q_constraint=True)
    expected = pd.Series(rec["q_constraint_params"])
    assert held.params_["q"] == 1.0 == expected["q"]
    np.testing.assert_allclose(held.params_[expected.index], expected, rtol=2e-5)
    assert "q held at the bound q = 1" in held.fit_report_.message
    assert held.log_likelihood_ <= free.log_likelihood_
    with pytest.raises(crmkit.ValidationError, match="q_constraint"):
        crmkit.GammaGammaFitter().fit(x, m, q_constraint="yes")


# ---- variance_matrix_ --------------------------------------------------------------------------


def _variance_cases(cdnow, donations):
    data = datasets.load_cdnow_summary_data_with_monetary_value()
    rep = data[data["frequency"] > 0]
    yield "BetaGeoFitter", _fit("BetaGeoFitter", cdnow)
    yield "ModifiedBetaGeoFitter", _fit("ModifiedBetaGeoFitter", cdnow)
    yield "BetaGeoBetaBinomFitter", crmkit.BetaGeoBetaBinomFitter().fit(
        donations["frequency"], donations["recency"], donations["periods"],
        weights=donations["weights"])
    yield "GammaGammaFitter", crmkit.GammaGammaFitter().fit(rep["frequency"],
                                                            rep["monetary_value"])


def test_variance_matrix(cdnow, donations):
    for name, f in _variance_cases(cdnow, donations):
        v = f.variance_matrix_
        names = list(f.params_.index)
        assert list(v.index) == list(v.columns) == names
        np.testing.assert_allclose(v.to_numpy(), v.to_numpy().T, rtol=1e-12, err_msg=name)
        np.testing.assert_allclose(np.diag(v), f.standard_errors_ ** 2, rtol=1e-7, err_msg=name)
        lifetimes = _frame(API[name]["variance_matrix"]).loc[names, names].to_numpy()
        # same diagonal; lifetimes scales column j by p_j^2 where the covariance has p_i p_j
        np.testing.assert_allclose(np.diag(v), np.diag(lifetimes), rtol=5e-5, err_msg=name)
        p = f.params_.to_numpy()
        as_lifetimes = v.to_numpy() * (p[None, :] / p[:, None])
        np.testing.assert_allclose(as_lifetimes, lifetimes, rtol=5e-5, atol=1e-12, err_msg=name)
    pareto = _fit("ParetoNBDFitter", cdnow)
    # the same finite-difference Hessian as the fit's standard errors, summed in another order
    np.testing.assert_allclose(np.diag(pareto.variance_matrix_), pareto.standard_errors_ ** 2,
                               rtol=1e-7)


def test_variance_matrix_survives_save_without_data(cdnow, tmp_path):
    f = _fit("BetaGeoFitter", cdnow)
    f.save_model(tmp_path / "m.pkl", save_data=False)
    g = crmkit.BetaGeoFitter()
    g.load_model(tmp_path / "m.pkl")
    assert g.data is None
    pd.testing.assert_frame_equal(g.variance_matrix_, f.variance_matrix_)
    pd.testing.assert_frame_equal(g.summary, f.summary)
    h = crmkit.BetaGeoFitter()
    h.params_ = f.params_
    with pytest.raises(crmkit.ValidationError, match="variance_matrix_: needs the fitted data"):
        h.variance_matrix_


def test_pareto_conditional_probability_of_n_purchases_matches_lifetimes():
    # lifetimes' own fitted CDNOW parameters, so the formula is compared, not the optimiser
    f = crmkit.ParetoNBDFitter()
    f.params_ = pd.Series(API["ParetoNBDFitter"]["params"])
    for case in API["pareto_conditional_n"]:
        got = f.conditional_probability_of_n_purchases_up_to_time(
            case["n"], case["t"], case["frequency"], case["recency"], case["T"])
        np.testing.assert_allclose(got, case["value"], rtol=1e-9)
    # columns in, one value per customer out; the probabilities over n sum to 1
    x, tx, T = np.array([0.0, 2, 5]), np.array([0.0, 30.43, 35]), np.array([38.86, 38.86, 38])
    total = sum(np.asarray(f.conditional_probability_of_n_purchases_up_to_time(n, 20, x, tx, T))
                for n in range(500))
    np.testing.assert_allclose(total, 1.0, rtol=1e-10)
    with pytest.raises(crmkit.ValidationError, match="^n: must be a non-negative integer"):
        f.conditional_probability_of_n_purchases_up_to_time(0.5, 20, x, tx, T)
    with pytest.raises(crmkit.ValidationError, match="^t: must be one number"):
        f.conditional_probability_of_n_purchases_up_to_time(1, [1, 2], x, tx, T)


# ---- histories with frequency 0 and recency > 0 (difference 4) ---------------------------------

IMPOSSIBLE = json.loads((Path(__file__).resolve().parents[1] / "data" / "lifetimes"
                         / "impossible.json").read_text())


@pytest.mark.parametrize("name", TRANSACTION_FITTERS)
def test_impossible_histories_are_rejected_by_default_and_evaluated_on_request(name, cdnow):
    rec = API[name]["zero_frequency_recency"]
    f = _at_lifetimes_params(name)
    assert f.impossible_histories == "reject"
    x, tx, T = np.zeros(3), np.array(rec["recency"]), np.full(3, rec["T"])
    with pytest.raises(crmkit.ValidationError,
                       match=r"^recency\[1\]: must be 0 when frequency is 0, got 5"):
        f.conditional_probability_alive(x, tx, T)
    with pytest.raises(crmkit.ValidationError, match=r"^recency\[1\]: must be 0 when frequency"):
        f.conditional_expected_number_of_purchases_up_to_time(10, x, tx, T)
    # the default's answer at recency 0 is lifetimes' there
    np.testing.assert_allclose(f.conditional_probability_alive(x[:1], tx[:1], T[:1]),
                               rec["alive"][:1], rtol=1e-9)
    g = getattr(crmkit, name)(impossible_histories="evaluate")
    g.params_ = API[name]["params"]
    np.testing.assert_allclose(g.conditional_probability_alive(x, tx, T), rec["alive"], rtol=1e-9)
    np.testing.assert_allclose(g.conditional_expected_number_of_purchases_up_to_time(10, x, tx, T),
                               rec["expected_10"], rtol=1e-9)
    np.testing.assert_allclose(g.predict([10, 10, 10], x, tx, T), rec["expected_10"], rtol=1e-9)
    # every cell of lifetimes' matrix, the frequency-0 column included
    m = g.conditional_probability_alive_matrix(max_frequency=5, max_recency=10)
    np.testing.assert_allclose(m, np.array(API[name]["alive_matrix_5_10"]), rtol=1e-9)
    # the setting survives pickling and save_model
    import pickle
    h = pickle.loads(pickle.dumps(g))
    assert h.impossible_histories == "evaluate"
    np.testing.assert_allclose(h.conditional_probability_alive(x, tx, T), rec["alive"], rtol=1e-9)
    # a fit still refuses such rows: the likelihood has no value there
    with pytest.raises(crmkit.ValidationError, match=r"^recency\[1\]: must be 0 when frequency"):
        g.fit(x, tx, T)


def test_impossible_histories_setting_is_checked():
    with pytest.raises(crmkit.ValidationError,
                       match='^impossible_histories: must be "reject" or "evaluate", got \'lifetimes\''):
        crmkit.BetaGeoFitter(impossible_histories="lifetimes")
    f = crmkit.BetaGeoFitter()
    with pytest.raises(crmkit.ValidationError, match="^impossible_histories: "):
        f.impossible_histories = "yes"
    assert f.impossible_histories == "reject"


def test_pareto_conditional_probability_of_n_for_impossible_histories():
    f = crmkit.ParetoNBDFitter(impossible_histories="evaluate")
    f.params_ = API["ParetoNBDFitter"]["params"]
    x, tx, T = np.zeros(2), np.array([5.0, 20.0]), np.full(2, 30.0)
    total = sum(np.asarray(f.conditional_probability_of_n_purchases_up_to_time(n, 10, x, tx, T))
                for n in range(300))
    np.testing.assert_allclose(total, 1.0, rtol=1e-10)
    mean = sum(n * np.asarray(f.conditional_probability_of_n_purchases_up_to_time(n, 10, x, tx, T))
               for n in range(300))
    np.testing.assert_allclose(mean, API["ParetoNBDFitter"]["zero_frequency_recency"]
                               ["expected_10"][1:], rtol=1e-8)


def test_bgbb_impossible_histories_match_lifetimes():
    rec = IMPOSSIBLE
    x, tx, n = (np.array(rec[k]) for k in ("frequency", "recency", "n_periods"))
    f = crmkit.BetaGeoBetaBinomFitter()
    f.params_ = rec["params"]
    with pytest.raises(crmkit.ValidationError, match=r"^recency\[1\]: must be 0 when frequency"):
        f.conditional_probability_alive(0, x, tx, n)
    g = crmkit.BetaGeoBetaBinomFitter(impossible_histories="evaluate")
    g.params_ = rec["params"]
    for m, values in rec["alive"].items():
        np.testing.assert_allclose(g.conditional_probability_alive(int(m), x, tx, n), values,
                                   rtol=1e-9)
    for m, values in rec["expected"].items():
        np.testing.assert_allclose(
            g.conditional_expected_number_of_purchases_up_to_time(int(m), x, tx, n), values,
            rtol=1e-9)
