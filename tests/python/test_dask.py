"""crmkit.dask and crmkit.value's sufficient statistics: the distributed pipeline gives the
in-memory numbers (summaries exactly, parameters identically), on the threaded scheduler and on a
LocalCluster of 2 worker processes; models and statistics pickle; crmkit calls run in parallel
in Dask threads (the GIL is released)."""

from __future__ import annotations

import pickle
import threading
import time

import numpy as np
import pandas as pd
import pytest

import crmkit
import crmkit.value as cv

dask = pytest.importorskip("dask")  # in requirements-dev.txt: always present in scripts/test
import dask.dataframe as dd  # noqa: E402
import crmkit.dask as cd  # noqa: E402

END = "1998-06-30"


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    tx = crmkit.datasets.load_cdnow_sample()
    tx["amount"] = tx["dollar_value"].astype(float)
    return tx[["customer_id", "date", "amount"]]


@pytest.fixture(scope="module")
def memory(cdnow: pd.DataFrame) -> pd.DataFrame:
    return crmkit.utils.summary_data_from_transaction_data(
        cdnow, "customer_id", "date", "amount", observation_period_end=END, freq="W")


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_index()


# ---- sufficient statistics ------------------------------------------------------------------


def test_statistics_are_the_distinct_rows_with_counts():
    s = cv.transaction_statistics([2, 0, 2, 1, 0], [5, 0, 5, 3, 0], [9, 7, 9, 8, 7])
    assert list(s.frequency) == [0, 1, 2]
    assert list(s.recency) == [0, 3, 5]
    assert list(s.T) == [7, 8, 9]
    assert list(s.weight) == [2, 1, 2]
    assert len(s) == 3 and s.total_weight == 5
    assert s.kind == cv.StatisticsKind.continuous
    assert repr(s) == "<crmkit.value.TransactionStatistics continuous: 3 distinct rows, total weight 5>"
    frame = s.to_frame()
    assert list(frame.columns) == ["frequency", "recency", "T", "weight"]
    with pytest.raises(ValueError):
        s.weight[0] = 7  # read-only views of the statistics


def test_merge_in_any_grouping_and_fit_equal_the_whole_data(memory: pd.DataFrame):
    parts = [memory.iloc[i::5] for i in range(5)]  # customers dealt out to 5 parts
    stats = [cv.transaction_statistics(p.frequency, p.recency, p["T"]) for p in parts]
    whole = cv.transaction_statistics(memory.frequency, memory.recency, memory["T"])
    assert cv.merge(stats) == whole
    assert cv.merge(stats[::-1]) == whole
    assert stats[0].merge(stats[1]).merge(stats[2].merge(stats[3].merge(stats[4]))) == whole
    assert whole.total_weight == 2357

    for fitter in (crmkit.BetaGeoFitter, crmkit.ModifiedBetaGeoFitter, crmkit.ParetoNBDFitter):
        direct = fitter().fit(memory.frequency, memory.recency, memory["T"])
        merged = cv.fit(fitter, cv.merge(stats))
        assert list(merged.params_) == list(direct.params_), fitter.__name__
        assert merged.fit_report_.log_likelihood == direct.fit_report_.log_likelihood
        np.testing.assert_array_equal(merged.standard_errors_, direct.standard_errors_)

    repeat = memory[memory.frequency > 0]
    spend = cv.merge(cv.spend_statistics(p.frequency, p.monetary_value)
                     for p in (repeat.iloc[:300], repeat.iloc[300:]))
    direct = crmkit.GammaGammaFitter().fit(repeat.frequency, repeat.monetary_value)
    assert list(cv.fit(crmkit.GammaGammaFitter, spend).params_) == list(direct.params_)


def test_bgbb_statistics_are_discrete_and_fit_the_donations_exactly():
    d = crmkit.datasets.load_donations()
    halves = [d.iloc[:11], d.iloc[11:]]
    stats = cv.merge(cv.transaction_statistics(h.frequency, h.recency, h.periods, h.weights,
                                               discrete=True) for h in halves)
    assert stats.kind == cv.StatisticsKind.discrete and stats.total_weight == d.weights.sum()
    direct = crmkit.BetaGeoBetaBinomFitter().fit(d.frequency, d.recency, d.periods, d.weights)
    assert list(cv.fit(crmkit.BetaGeoBetaBinomFitter, stats).params_) == list(direct.params_)
    # Fader, Hardie, Shang (2010): alpha 1.204, beta 0.750, gamma 0.657, delta 2.783
    assert np.allclose(direct.params_, [1.204, 0.750, 0.657, 2.783], atol=5e-4)


def test_statistics_errors_name_the_problem():
    with pytest.raises(crmkit.ValidationError, match=r"recency\[1\]: must be finite and in \[0, T\]"):
        cv.transaction_statistics([1, 2], [1, 5], [3, 4])
    with pytest.raises(crmkit.ValidationError, match=r"frequency\[0\]: must be an integer >= 1"):
        cv.spend_statistics([0], [3.5])
    c = cv.transaction_statistics([1], [1], [3])
    d = cv.transaction_statistics([1], [1], [3], discrete=True)
    with pytest.raises(crmkit.ValidationError, match="kind: cannot merge continuous statistics with discrete"):
        c.merge(d)
    with pytest.raises(crmkit.ValidationError, match="BetaGeoBetaBinomFitter needs discrete"):
        cv.fit(crmkit.BetaGeoBetaBinomFitter, c)
    with pytest.raises(crmkit.ValidationError, match="GammaGammaFitter needs SpendStatistics"):
        cv.fit(crmkit.GammaGammaFitter, c)
    with pytest.raises(crmkit.ValidationError, match=r"parts\[1\]: expected TransactionStatistics"):
        cv.merge([c, cv.spend_statistics([1], [2.0])])
    with pytest.raises(crmkit.ValidationError, match="parts: no statistics to merge"):
        cv.merge([])
    with pytest.raises(crmkit.ValidationError, match="no rows to fit"):
        cv.fit(crmkit.BetaGeoFitter, cv.transaction_statistics([], [], []))
    with pytest.raises(crmkit.ValidationError, match="model: expected a crmkit fitter"):
        cv.fit(object(), c)


# ---- pickling -----------------------------------------------------------------------------


def test_every_fitted_model_and_statistics_pickle(memory: pd.DataFrame):
    repeat = memory[memory.frequency > 0]
    d = crmkit.datasets.load_donations()
    fitted = [
        crmkit.BetaGeoFitter().fit(memory.frequency, memory.recency, memory["T"]),
        crmkit.ModifiedBetaGeoFitter().fit(memory.frequency, memory.recency, memory["T"]),
        crmkit.ParetoNBDFitter().fit(memory.frequency, memory.recency, memory["T"]),
        crmkit.BetaGeoBetaBinomFitter().fit(d.frequency, d.recency, d.periods, d.weights),
        crmkit.GammaGammaFitter().fit(repeat.frequency, repeat.monetary_value),
    ]
    for model in fitted:
        back = pickle.loads(pickle.dumps(model))
        assert type(back) is type(model)
        assert list(back.params_) == list(model.params_)
        assert back.fit_report_.log_likelihood == model.fit_report_.log_likelihood
        assert back.fit_report_.converged == model.fit_report_.converged
    bgf, pnbd = fitted[0], fitted[2]
    for model in (bgf, pnbd):
        back = pickle.loads(pickle.dumps(model))
        np.testing.assert_array_equal(
            back.conditional_expected_number_of_purchases_up_to_time(10, memory.frequency,
                                                                     memory.recency, memory["T"]),
            model.conditional_expected_number_of_purchases_up_to_time(10, memory.frequency,
                                                                      memory.recency, memory["T"]))
    stats = cv.transaction_statistics(memory.frequency, memory.recency, memory["T"])
    assert pickle.loads(pickle.dumps(stats)) == stats
    spend = cv.spend_statistics(repeat.frequency, repeat.monetary_value)
    assert pickle.loads(pickle.dumps(spend)) == spend


def test_the_model_travels_to_the_workers_without_its_data(memory):
    cloudpickle = pytest.importorskip("cloudpickle")  # what Dask and Spark pickle tasks with
    bgf = crmkit.BetaGeoFitter().fit(memory.frequency, memory.recency, memory["T"])
    whole = len(pickle.dumps(bgf))
    call = cv._predict_call(bgf, 10, "frequency", "recency", "T", "n_periods")
    shipped = len(cloudpickle.dumps(call.call))
    assert whole > 50_000  # the fitted data: 2,357 rows of 4 float64 columns
    assert shipped < 5_000, shipped
    assert call.columns == {"frequency_col": "frequency", "recency_col": "recency", "T_col": "T"}


# ---- crmkit.dask on the threaded scheduler ----------------------------------------------------


@pytest.fixture(scope="module")
def threaded():
    with dask.config.set(scheduler="threads", num_workers=2):
        yield


def test_summary_of_an_unindexed_frame_is_shuffled_and_exact(cdnow, memory, threaded):
    ddf = dd.from_pandas(cdnow.sample(frac=1.0, random_state=7), npartitions=4)  # customers straddle
    got = cd.summary(ddf, "customer_id", "date", "amount", observation_period_end=END, freq="W")
    assert got.npartitions == 4
    pd.testing.assert_frame_equal(_sorted(got.compute()), memory, check_exact=True)


def test_summary_with_text_ids_text_amounts_and_empty_partitions(cdnow, threaded):
    tx = crmkit.datasets.load_cdnow_sample()
    tx["cid"] = "c" + tx["customer_id"].astype(str)
    tx = tx[["cid", "date", "dollar_value"]]  # amounts as exact text, "29.33"
    ddf = dd.from_pandas(tx, npartitions=3)
    got = cd.summary(ddf, "cid", "date", "dollar_value", observation_period_end=END,
                     npartitions=40).compute()
    want = crmkit.utils.summary_data_from_transaction_data(tx, "cid", "date", "dollar_value",
                                                           observation_period_end=END)
    # Dask keeps text as Arrow strings; the ids and every number are the same.
    pd.testing.assert_frame_equal(got.sort_index(), want.sort_index(), check_exact=True,
                                  check_index_type=False)
    few = cd.summary(dd.from_pandas(tx.head(5), npartitions=1), "cid", "date",
                     npartitions=8).compute()  # most of the 8 partitions hold no customer
    assert sorted(few.index) == ["c1", "c2"]
    assert few.loc["c1"].tolist() == [3.0, 345.0, 345.0]


def test_summary_of_a_frame_indexed_by_customer_is_used_as_is(cdnow, memory, threaded):
    ddf = dd.from_pandas(cdnow.set_index("customer_id"), npartitions=3, sort=True)
    assert ddf.known_divisions
    got = cd.summary(ddf, "customer_id", "date", "amount", observation_period_end=END, freq="W")
    pd.testing.assert_frame_equal(got.compute(), memory, check_exact=True)


def test_summary_default_end_is_the_last_transaction(cdnow, threaded):
    ddf = dd.from_pandas(cdnow, npartitions=3)
    got = cd.summary(ddf, "customer_id", "date").compute()
    want = crmkit.utils.summary_data_from_transaction_data(cdnow, "customer_id", "date")
    pd.testing.assert_frame_equal(_sorted(got), want, check_exact=True)


def test_customers_split_across_divisions_are_an_error_not_a_wrong_number(cdnow, threaded):
    frame = cdnow.set_index("customer_id").sort_index()
    # Divisions that claim customer 5 starts partition 1 while its rows sit in partition 0.
    first = frame.loc[:5]
    second = frame.loc[6:]
    parts = [dd.from_pandas(first, npartitions=1), dd.from_pandas(second, npartitions=1)]
    ddf = dd.concat(parts)
    ddf = ddf.clear_divisions()
    ddf = dd.from_delayed(ddf.to_delayed(), meta=ddf._meta, divisions=(1, 5, 2357))
    got = cd.summary(ddf, "customer_id", "date", observation_period_end=END)
    with pytest.raises(crmkit.ValidationError,
                       match=r"customer_id: customer 5 of partition 0 lies outside its division \[1, 5\)"):
        got.compute()


def test_fit_predict_and_clv_equal_the_in_memory_ones(memory, threaded):
    sddf = dd.from_pandas(memory, npartitions=4)
    bgf = cd.fit(crmkit.BetaGeoFitter, sddf)
    direct = crmkit.BetaGeoFitter().fit(memory.frequency, memory.recency, memory["T"])
    np.testing.assert_allclose(bgf.params_, direct.params_, rtol=1e-9, atol=0)
    assert list(bgf.params_) == list(direct.params_)  # in fact identical

    expected = cd.predict(bgf, sddf, t=10).compute()
    assert expected.name == "predicted_purchases"
    pd.testing.assert_series_equal(
        expected,
        direct.conditional_expected_number_of_purchases_up_to_time(
            10, memory.frequency, memory.recency, memory["T"]).rename("predicted_purchases"),
        check_exact=True)
    alive = cd.conditional_probability_alive(bgf, sddf).compute()
    np.testing.assert_array_equal(
        alive, direct.conditional_probability_alive(memory.frequency, memory.recency, memory["T"]))

    repeat = sddf[sddf.frequency > 0]
    ggf = cd.fit(crmkit.GammaGammaFitter, repeat)
    gg_direct = crmkit.GammaGammaFitter().fit(memory.frequency[memory.frequency > 0],
                                              memory.monetary_value[memory.frequency > 0])
    assert list(ggf.params_) == list(gg_direct.params_)
    clv = cd.customer_lifetime_value(ggf, bgf, sddf, time=12, discount_rate=0.01, freq="W")
    want = gg_direct.customer_lifetime_value(direct, memory.frequency, memory.recency, memory["T"],
                                             memory.monetary_value, time=12, discount_rate=0.01,
                                             freq="W")
    pd.testing.assert_series_equal(clv.compute(), want, check_exact=True)


def test_bgbb_on_dask_fits_the_donations(threaded):
    d = crmkit.datasets.load_donations().rename(columns={"periods": "n_periods"})
    ddf = dd.from_pandas(d, npartitions=3)
    bgbb = cd.fit(crmkit.BetaGeoBetaBinomFitter, ddf, weights_col="weights")
    stats = cv.merge(cv.statistics(crmkit.BetaGeoBetaBinomFitter, p, weights_col="weights")
                     for p in (d.iloc[:8], d.iloc[8:]))
    assert list(cv.fit(crmkit.BetaGeoBetaBinomFitter, stats).params_) == list(bgbb.params_)
    direct = crmkit.BetaGeoBetaBinomFitter().fit(d.frequency, d.recency, d.n_periods, d.weights)
    assert list(bgbb.params_) == list(direct.params_)
    got = cd.predict(bgbb, ddf, t=5).compute()
    np.testing.assert_array_equal(
        got, direct.conditional_expected_number_of_purchases_up_to_time(5, d.frequency, d.recency,
                                                                        d.n_periods))


def test_dask_errors_name_the_argument(cdnow, memory, threaded):
    ddf = dd.from_pandas(cdnow, npartitions=2)
    with pytest.raises(crmkit.ValidationError, match="ddf: expected a dask DataFrame, got DataFrame"):
        cd.summary(cdnow, "customer_id", "date")
    with pytest.raises(crmkit.ValidationError, match="datetime_col: no column 'when' in ddf"):
        cd.summary(ddf, "customer_id", "when")
    sddf = dd.from_pandas(memory, npartitions=2)
    with pytest.raises(crmkit.ValidationError, match="T_col: no column 'age' in summary_ddf"):
        cd.fit(crmkit.BetaGeoFitter, sddf, T_col="age")
    with pytest.raises(crmkit.ValidationError, match="BetaGeoFitter is not fitted"):
        cd.predict(crmkit.BetaGeoFitter(), sddf, t=1)
    with pytest.raises(crmkit.ValidationError, match=r"frequency\[\d+\]: must be an integer >= 1"):
        cd.fit(crmkit.GammaGammaFitter, sddf)  # the one-time buyers were not filtered out


# ---- the GIL ------------------------------------------------------------------------------


def _runs_while(first_call, second_call) -> bool:
    """Runs first_call and second_call in two Dask threads: the second thread waits until the
    first is about to call, sleeps 20 ms, then records the time and makes its own call. True if it
    got to record that time (which needs the GIL) before the first call returned: the first call
    let go of the GIL. A call that holds the GIL keeps the second thread waiting until it returns,
    whatever the load of the machine. Best of 3 tries (a try counts only if the second thread
    started after the first call did)."""
    for _ in range(3):
        ready = threading.Event()
        times: dict[str, float] = {}

        def first(_: int) -> None:
            ready.set()
            times["first_start"] = time.perf_counter()
            first_call()
            times["first_end"] = time.perf_counter()

        def second(_: int) -> None:
            ready.wait()
            time.sleep(0.02)
            times["second_start"] = time.perf_counter()
            second_call()

        dask.compute(dask.delayed(first)(0), dask.delayed(second)(1), scheduler="threads",
                     num_workers=2)
        if times["second_start"] > times["first_start"]:
            return times["second_start"] < times["first_end"]
    return False


def test_two_dask_threads_run_crmkit_predictions_at_once():
    rng = np.random.default_rng(3)
    n = 400_000
    T = rng.uniform(1, 100, n).round()
    x = rng.integers(0, 20, n).astype(float)
    tx = np.where(x > 0, np.minimum(T, rng.uniform(0, 100, n).round()), 0.0)
    bgf = crmkit.BetaGeoFitter()
    bgf.params_ = {"r": 0.24, "alpha": 4.41, "a": 0.79, "b": 2.43}
    repeats = 1
    while True:  # one "call" of at least 0.4 s, so the second thread has time to start
        t0 = time.perf_counter()
        for _ in range(repeats):
            bgf.conditional_probability_alive(x, tx, T)
        if time.perf_counter() - t0 > 0.4:
            break
        repeats *= 2
    # One crmkit call of that length: the same rows, repeated.
    big = [np.tile(a, repeats) for a in (x, tx, T)]

    def predict() -> None:
        bgf.conditional_probability_alive(*big)

    spins = 1_000_000
    while True:  # a C loop that never lets go of the GIL, of at least 0.4 s
        t0 = time.perf_counter()
        sum(range(spins))
        if time.perf_counter() - t0 > 0.4:
            break
        spins *= 2

    def hold_the_gil() -> None:
        sum(range(spins))

    assert not _runs_while(hold_the_gil, predict)  # the test can tell a call that holds the GIL
    assert _runs_while(predict, predict)  # crmkit's prediction lets the other thread run


# ---- a LocalCluster of 2 worker processes -------------------------------------------------------


def test_local_cluster_with_two_worker_processes_gives_the_in_memory_results(cdnow, memory):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        ddf = dd.from_pandas(cdnow, npartitions=4)
        sddf = cd.summary(ddf, "customer_id", "date", "amount", observation_period_end=END,
                          freq="W").persist()
        pd.testing.assert_frame_equal(_sorted(sddf.compute()), memory, check_exact=True)
        # Both workers held partitions of the summary.
        assert len({w for ws in client.who_has(sddf).values() for w in ws}) == 2

        bgf = cd.fit(crmkit.BetaGeoFitter, sddf)
        direct = crmkit.BetaGeoFitter().fit(memory.frequency, memory.recency, memory["T"])
        np.testing.assert_allclose(bgf.params_, direct.params_, rtol=1e-9, atol=0)
        expected = cd.predict(bgf, sddf, t=10).compute()
        np.testing.assert_allclose(
            expected.sort_index(),
            direct.conditional_expected_number_of_purchases_up_to_time(
                10, memory.frequency, memory.recency, memory["T"]),
            rtol=1e-12, atol=0)
        ggf = cd.fit(crmkit.GammaGammaFitter, sddf[sddf.frequency > 0])
        gg_direct = crmkit.GammaGammaFitter().fit(memory.frequency[memory.frequency > 0],
                                                  memory.monetary_value[memory.frequency > 0])
        np.testing.assert_allclose(ggf.params_, gg_direct.params_, rtol=1e-9, atol=0)
        clv = cd.customer_lifetime_value(ggf, bgf, sddf, freq="W").compute().sort_index()
        want = gg_direct.customer_lifetime_value(direct, memory.frequency, memory.recency,
                                                 memory["T"], memory.monetary_value, freq="W")
        np.testing.assert_allclose(clv, want, rtol=1e-12, atol=0)
