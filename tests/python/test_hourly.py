"""Hourly summaries (freq "H" / "h") against lifetimes 0.11.3's numbers with freq="h"
(tests/data/lifetimes/hourly.json, written by record_hourly.py): a synthetic log with purchases
at different hours of a day, and the CDNOW sample (dates only: 24 hours per day). lifetimes
itself raises TypeError for "H" with numpy >= 1.25; crmkit reads "H", "h" and "hour" alike.

Customers, frequencies, recencies, T and duration_holdout are compared exactly; monetary means
within 1e-15 relative where a mean of several amounts is involved: crmkit sums each period
correctly rounded, pandas in sequence, so a few means differ in the last bit (at most 5.4e-16
relative on CDNOW, 153 of 2,357 customers).
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import crmkit
from crmkit import datasets, utils

REC = json.loads((Path(__file__).resolve().parents[1] / "data" / "lifetimes" / "hourly.json")
                 .read_text())
END = REC["observation_period_end"]
HOURS = ["H", "h", "hour"]


def _frame(rec: dict) -> pd.DataFrame:
    return pd.DataFrame(rec["values"], index=[int(i) for i in rec["index"]],
                        columns=rec["columns"])


def _same(ours: pd.DataFrame, rec: dict, money_rtol: float = 0.0) -> None:
    """The recorded frame exactly (index, columns, counts and spans); monetary means within
    money_rtol (0: exactly)."""
    expected = _frame(rec)
    assert ours.index.tolist() == expected.index.tolist()
    assert list(ours.columns) == list(expected.columns)
    for column in expected.columns:
        if column.startswith("monetary_value") and money_rtol:
            np.testing.assert_allclose(ours[column].to_numpy(), expected[column].to_numpy(),
                                       rtol=money_rtol, atol=0)
        else:
            np.testing.assert_array_equal(ours[column].to_numpy(), expected[column].to_numpy(),
                                          err_msg=column)


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    raw = REC["log"]
    return pd.DataFrame({"id": raw["id"], "t": pd.to_datetime(raw["t"], format="ISO8601"),
                         "amount": raw["amount"]})


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    raw = datasets.load_cdnow_sample()
    raw["dollar_value"] = raw["dollar_value"].astype(float)
    return raw


def test_lifetimes_refuses_capital_h_with_this_numpy():
    assert REC["lifetimes_version"] == "0.11.3" and REC["numpy_version"] == "1.26.4"
    error = 'TypeError: Invalid datetime unit "H" in metadata'
    assert REC["synthetic"]["summary_H"] == {"error": error}
    assert REC["synthetic"]["calibration_0_H"] == {"error": error}
    assert REC["cdnow"]["summary_H"] == {"error": error}


@pytest.mark.parametrize("freq", HOURS)
def test_synthetic_summary_equals_lifetimes_h(log, freq):
    rec = REC["synthetic"]
    out = utils.summary_data_from_transaction_data(log, "id", "t", "amount",
                                                   observation_period_end=END, freq=freq)
    _same(out, rec["summary_h"])  # monetary values exactly, too
    # Spot checks of the hour arithmetic: customer 1 bought in hours 09 (twice), 11, 23, 00, 14.
    assert out.loc[1].tolist() == [4.0, 29.0, 49.0, 16.2725]
    assert 7 not in out.index  # bought only after the end, left out as lifetimes does
    days = utils.summary_data_from_transaction_data(log, "id", "t", "amount",
                                                    observation_period_end=END, freq=freq,
                                                    freq_multiplier=24)
    _same(days, rec["summary_h_x24"])
    first = utils.summary_data_from_transaction_data(log, "id", "t", "amount",
                                                     observation_period_end=END, freq=freq,
                                                     include_first_transaction=True)
    _same(first, rec["summary_h_first"], money_rtol=1e-15)
    default_end = utils.summary_data_from_transaction_data(log, "id", "t", freq=freq)
    _same(default_end, rec["summary_h_default_end"])


@pytest.mark.parametrize("freq", HOURS)
@pytest.mark.parametrize("k", [0, 1])
def test_synthetic_calibration_and_holdout_equals_lifetimes_h(log, freq, k):
    rec = REC["synthetic"]
    cal_end = REC["calibration_period_ends"][k]
    out = utils.calibration_and_holdout_data(log, "id", "t", calibration_period_end=cal_end,
                                             observation_period_end=END, freq=freq,
                                             monetary_value_col="amount")
    _same(out, rec[f"calibration_{k}_h"], money_rtol=1e-15)
    if k == 0:
        # The 00:20 purchase of customer 2 is in the calibration end's hour but after it.
        assert out.loc[2, "frequency_holdout"] == 3.0
        assert out["duration_holdout"].tolist() == [34.0] * 4
        days = utils.calibration_and_holdout_data(log, "id", "t", calibration_period_end=cal_end,
                                                  observation_period_end=END, freq=freq,
                                                  freq_multiplier=24, monetary_value_col="amount")
        _same(days, rec["calibration_0_h_x24"], money_rtol=1e-15)


@pytest.mark.parametrize("freq", ["H", "h"])
def test_find_first_transactions_in_hours(log, freq):
    rec = REC["synthetic"]["find_first_transactions_h"]
    ft = utils.find_first_transactions(log, "id", "t", "amount", observation_period_end=END,
                                       freq=freq)
    assert ft["id"].tolist() == rec["id"]
    assert [str(v) for v in ft["t"]] == rec["t"]
    np.testing.assert_allclose(ft["amount"], rec["amount"], rtol=1e-15)
    assert ft["first"].tolist() == rec["first"]


@pytest.mark.parametrize("freq", ["H", "h"])
def test_cdnow_in_hours_equals_lifetimes_h(cdnow, freq):
    rec = REC["cdnow"]
    out = utils.summary_data_from_transaction_data(cdnow, "customer_id", "date", "dollar_value",
                                                   observation_period_end="1998-06-30",
                                                   freq=freq)
    assert len(out) == 2357
    _same(out, rec["summary_h"], money_rtol=1e-15)
    # Dates only: hours are 24 times the days.
    daily = utils.summary_data_from_transaction_data(cdnow, "customer_id", "date",
                                                     observation_period_end="1998-06-30")
    np.testing.assert_array_equal(out["T"].to_numpy(), 24 * daily["T"].to_numpy())
    weeks = utils.summary_data_from_transaction_data(cdnow, "customer_id", "date",
                                                     observation_period_end="1997-09-30",
                                                     freq=freq, freq_multiplier=168)
    _same(weeks, rec["summary_h_x168"])
    cal = utils.calibration_and_holdout_data(cdnow, "customer_id", "date",
                                             calibration_period_end="1997-09-30",
                                             observation_period_end="1998-06-30", freq=freq,
                                             monetary_value_col="dollar_value")
    _same(cal, rec["calibration_h"], money_rtol=1e-15)
    assert cal["duration_holdout"].iloc[0] == 273 * 24


def test_unknown_freq_names_freq_and_lists_the_units(log):
    message = r"^freq: 'X' is not a time unit \(hour, day, week, month, H, h, D, W, M\)$"
    with pytest.raises(crmkit.ValidationError, match=message):
        utils.summary_data_from_transaction_data(log, "id", "t", freq="X")
    with pytest.raises(crmkit.ValidationError, match=message):
        utils.calibration_and_holdout_data(log, "id", "t", calibration_period_end=END, freq="X")
    with pytest.raises(crmkit.ValidationError, match=r"^freq: expected 'H', 'h', 'D', 'W' or 'M'"):
        utils.summary_data_from_transaction_data(log, "id", "t", freq=1)
    with pytest.raises(crmkit.ValidationError,
                       match=r"^freq: 'H' \(hours\) is not supported here: repeat transactions "
                             r"are counted per UTC day"):
        utils.cumulative_repeat_transactions(log, "id", "t", freq="H")


def test_time_unit_enum_and_parser():
    assert crmkit.TimeUnit.hour.name == "hour"
    for text in HOURS:
        assert crmkit._core.parse_time_unit(text, "freq") == crmkit.TimeUnit.hour


def test_expected_cumulative_transactions_and_alive_path_take_capital_h(log):
    model = crmkit.BetaGeoFitter()
    model.params_ = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.4}
    upper = utils.expected_cumulative_transactions(model, log, "t", "id", 40, freq="H",
                                                   set_index_date=True)
    lower = utils.expected_cumulative_transactions(model, log, "t", "id", 40, freq="h",
                                                   set_index_date=True)
    pd.testing.assert_frame_equal(upper, lower)
    # Hours from 2024-03-04 09:00: hour 40 is 2024-03-06 01:00; repeat purchase hours before it:
    # customer 1's 11, 23, 00, 14; 2's 00, 23; 4's 13 (5's second hour, 10:00 on 03-06, is later).
    assert upper["actual"].iloc[-1] == 7
    assert str(upper.index[-1]) == "2024-03-06 00:00"
    one = log[log["id"] == 1]
    a = utils.calculate_alive_path(model, one, "t", 30, freq="H")
    b = utils.calculate_alive_path(model, one, "t", 30, freq="h")
    pd.testing.assert_series_equal(a, b)
    assert len(a) == 31


def test_dask_summary_in_hours_equals_in_memory(log):
    dd = pytest.importorskip("dask.dataframe")
    from crmkit import dask as cd

    ddf = dd.from_pandas(log, npartitions=2)
    lazy = cd.summary(ddf, "id", "t", "amount", observation_period_end=END, freq="H")
    out = lazy.compute().sort_index()
    out.index.name = None
    _same(out, REC["synthetic"]["summary_h"])


def test_store_summary_and_facts_in_hours(tmp_path):
    sample = datasets.load_cdnow_sample()
    end = "1997-09-30"
    with crmkit.Store(tmp_path / "cdnow.db", "USD", synchronous="off") as store:
        store.import_purchases(sample.assign(customer=sample["customer_id"].astype(str)),
                               customer="customer", at="date", amount="dollar_value")
        weeks = utils.summary_from_store(store, freq="D", freq_multiplier=7,
                                         observation_period_end=end)
        hours = utils.summary_from_store(store, freq="H", freq_multiplier=168,
                                         observation_period_end=end)
        # Dates only: weeks counted in hours are weeks counted in days.
        np.testing.assert_array_equal(hours["recency"].to_numpy(), weeks["recency"].to_numpy())
        np.testing.assert_array_equal(hours["T"].to_numpy(), weeks["T"].to_numpy())
        mbg = crmkit.ModifiedBetaGeoFitter().fit(hours["frequency"], hours["recency"], hours["T"])
        frame = store.facts(end, facts=["p_alive", "expected_purchases_365d"], model=mbg,
                            unit="H", multiplier=168)
        expected = mbg.conditional_expected_number_of_purchases_up_to_time(
            365 * 24 / 168, hours["frequency"], hours["recency"], hours["T"])
        alive = mbg.conditional_probability_alive(hours["frequency"], hours["recency"],
                                                  hours["T"])
        assert np.array_equal(frame["p_alive"].to_numpy(), np.asarray(alive))
        assert np.array_equal(frame["expected_purchases_365d"].to_numpy(), np.asarray(expected))


@pytest.mark.parametrize("freq", ["H", "h"])
def test_api_json_hourly_entry_equals_lifetimes_h(freq):
    """The small hourly log of record_api.py (api.json "freq_H"): lifetimes' "h" answers."""
    api = json.loads((Path(__file__).resolve().parents[1] / "data" / "lifetimes" / "api.json")
                     .read_text())["freq_H"]
    assert api["H"] == {"error": 'TypeError: Invalid datetime unit "H" in metadata'}
    hours = pd.DataFrame({
        "id": [1, 1, 1, 2, 2, 3, 3, 3, 4],
        "t": pd.to_datetime(["2024-01-01 00:10", "2024-01-01 05:30", "2024-01-02 01:00",
                             "2024-01-01 02:00", "2024-01-01 02:45", "2024-01-01 03:00",
                             "2024-01-01 20:59", "2024-01-02 08:15", "2024-01-02 09:00"]),
        "amount": [10.0, 20.0, 30.0, 5.0, 7.0, 1.0, 2.0, 4.0, 9.0]})
    out = utils.summary_data_from_transaction_data(hours, "id", "t", "amount", freq=freq,
                                                   observation_period_end="2024-01-02 10:30")
    _same(out, api["h"]["summary"])
    cal = utils.calibration_and_holdout_data(
        hours, "id", "t", calibration_period_end="2024-01-01 12:00",
        observation_period_end="2024-01-02 10:30", freq=freq, monetary_value_col="amount")
    _same(cal, api["h"]["calibration"])
