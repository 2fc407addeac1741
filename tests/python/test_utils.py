"""crmkit.utils (summaries with lifetimes' names) and crmkit.datasets, against the CDNOW data."""

from __future__ import annotations

import decimal

import numpy as np
import pandas as pd
import pytest

import crmkit
from crmkit import datasets, utils


@pytest.fixture(scope="module")
def cdnow_sample() -> pd.DataFrame:
    return datasets.load_cdnow_sample()


def test_load_cdnow_sample_reads_the_raw_file(cdnow_sample):
    assert list(cdnow_sample.columns) == [
        "master_id", "customer_id", "date", "number_of_cds", "dollar_value"
    ]
    assert len(cdnow_sample) == 6919
    assert cdnow_sample["customer_id"].nunique() == 2357
    assert pd.api.types.is_datetime64_any_dtype(cdnow_sample["date"])
    assert cdnow_sample["date"].min() == pd.Timestamp("1997-01-01")
    assert cdnow_sample["date"].max() == pd.Timestamp("1998-06-30")
    assert cdnow_sample["number_of_cds"].sum() == 16479
    # Exact money: the dollar values are kept as text and add up to the published total.
    total = sum(decimal.Decimal(v) for v in cdnow_sample["dollar_value"])
    assert total == decimal.Decimal("244091.94")


def test_loaders_keep_lifetimes_names_and_shapes():
    summary = datasets.load_cdnow_summary()
    assert list(summary.columns) == ["ID", "frequency", "recency", "T"]
    assert len(summary) == 2357 and summary["frequency"].sum() == 2457
    indexed = datasets.load_cdnow_summary(index_col=[0])
    assert indexed.index.name == "ID"
    money = datasets.load_cdnow_summary_data_with_monetary_value()
    assert money.index.name == "customer_id"
    assert list(money.columns) == ["frequency", "recency", "T", "monetary_value"]
    assert (money["frequency"] > 0).sum() == 946
    donations = datasets.load_donations()
    assert list(donations.columns) == ["frequency", "recency", "periods", "weights"]
    assert donations["weights"].sum() == 11104
    tx = datasets.load_transaction_data()
    assert list(tx.columns) == ["date", "id"] and len(tx) == 15273
    master = datasets.load_cdnow_master()
    assert len(master) == 69659 and master["customer_id"].nunique() == 23570


def test_cdnow_summary_equals_the_published_summary(cdnow_sample):
    summary = utils.summary_data_from_transaction_data(
        cdnow_sample, "customer_id", "date", observation_period_end="1997-09-30",
        freq="D", freq_multiplier=7,
    )
    expected = datasets.load_cdnow_summary(index_col=[0])
    assert list(summary.columns) == ["frequency", "recency", "T"]
    assert summary.index.name == "customer_id"
    assert len(summary) == 2357
    assert (summary.index.to_numpy() == expected.index.to_numpy()).all()
    assert (summary["frequency"].to_numpy() == expected["frequency"].to_numpy()).all()
    assert np.abs(summary["recency"].to_numpy() - expected["recency"].to_numpy()).max() < 0.01
    assert np.abs(summary["T"].to_numpy() - expected["T"].to_numpy()).max() < 0.01
    assert summary.dtypes.tolist() == [np.float64] * 3


def read_cdnow_sample_plainly() -> pd.DataFrame:
    """CDNOW_sample.txt as a new user reads it: plain pd.read_csv, so date is int64 19970101."""
    return pd.read_csv(
        datasets.data_path("CDNOW_sample.txt"), sep=r"\s+", header=None,
        names=["master_id", "customer_id", "date", "number_of_cds", "dollar_value"],
    )


def test_integer_date_column_without_a_format_names_the_column():
    plain = read_cdnow_sample_plainly()
    assert plain["date"].dtype == np.int64
    message = (
        r"^datetime_col: column 'date' holds numbers \(int64\), not dates or times; pass "
        r"datetime_format to read them as text \(datetime_format=\"%Y%m%d\" for 19970101\)$"
    )
    with pytest.raises(crmkit.ValidationError, match=message):
        utils.summary_data_from_transaction_data(
            plain, "customer_id", "date", observation_period_end="1997-09-30",
            freq="D", freq_multiplier=7,
        )
    # Every entry point that reads the column through the shared reader refuses it too.
    with pytest.raises(crmkit.ValidationError, match=r"^datetime_col: column 'date'"):
        utils.calibration_and_holdout_data(plain, "customer_id", "date", "1997-09-30")
    with pytest.raises(crmkit.ValidationError, match=r"^datetime_col: column 'date'"):
        utils.cumulative_repeat_transactions(plain, "customer_id", "date")
    # Float dates (an int column with a gap) and numbers held as objects are numbers too.
    with pytest.raises(crmkit.ValidationError, match=r"holds numbers \(float64\)"):
        utils.summary_data_from_transaction_data(
            plain.assign(date=plain["date"].astype(float)), "customer_id", "date")
    with pytest.raises(crmkit.ValidationError, match=r"holds numbers \(object\)"):
        utils.summary_data_from_transaction_data(
            plain.assign(date=plain["date"].astype(object)), "customer_id", "date")
    # A number as a point in time needs the format as well.
    with pytest.raises(crmkit.ValidationError,
                       match=r"^observation_period_end: 19970930 is a number, not a date"):
        utils.summary_data_from_transaction_data(
            load_plain_with_dates(plain), "customer_id", "date", observation_period_end=19970930)


def load_plain_with_dates(plain: pd.DataFrame) -> pd.DataFrame:
    return plain.assign(date=pd.to_datetime(plain["date"].astype(str), format="%Y%m%d"))


def test_integer_date_column_with_a_format_gives_the_published_summary():
    plain = read_cdnow_sample_plainly()
    summary = utils.summary_data_from_transaction_data(
        plain, "customer_id", "date", datetime_format="%Y%m%d",
        observation_period_end="19970930", freq="D", freq_multiplier=7,
    )
    expected = datasets.load_cdnow_summary(index_col=[0])
    assert len(summary) == 2357
    assert (summary.index.to_numpy() == expected.index.to_numpy()).all()
    assert (summary["frequency"].to_numpy() == expected["frequency"].to_numpy()).all()
    assert np.abs(summary["recency"].to_numpy() - expected["recency"].to_numpy()).max() < 0.01
    assert np.abs(summary["T"].to_numpy() - expected["T"].to_numpy()).max() < 0.01
    # An int end with the format is read as text too; float dates with the format as well.
    same = utils.summary_data_from_transaction_data(
        plain.assign(date=plain["date"].astype(float)), "customer_id", "date",
        datetime_format="%Y%m%d", observation_period_end=19970930, freq="D", freq_multiplier=7,
    )
    pd.testing.assert_frame_equal(same, summary)


def test_cdnow_monetary_value_from_text_amounts(cdnow_sample):
    # dollar_value is a str column: it is converted to float64 for the model arithmetic.
    summary = utils.summary_data_from_transaction_data(
        cdnow_sample, "customer_id", "date", monetary_value_col="dollar_value",
        observation_period_end="1997-09-30", freq="D", freq_multiplier=7,
    )
    expected = datasets.load_cdnow_summary_data_with_monetary_value()
    assert list(summary.columns) == ["frequency", "recency", "T", "monetary_value"]
    diff = np.abs(summary["monetary_value"].to_numpy() - expected["monetary_value"].to_numpy())
    assert diff.max() < 0.01
    assert (summary.loc[summary["frequency"] == 0, "monetary_value"] == 0).all()


def test_calibration_and_holdout_totals(cdnow_sample):
    out = utils.calibration_and_holdout_data(
        cdnow_sample, "customer_id", "date", calibration_period_end="1997-09-30",
        observation_period_end="1998-06-30", freq="D", freq_multiplier=7,
        monetary_value_col="dollar_value",
    )
    assert list(out.columns) == [
        "frequency_cal", "recency_cal", "T_cal", "monetary_value_cal",
        "frequency_holdout", "monetary_value_holdout", "duration_holdout",
    ]
    assert len(out) == 2357
    assert out["frequency_cal"].sum() == 2457
    assert out["frequency_holdout"].sum() == 1882
    # 1997-09-30 .. 1998-06-30 is 273 days = 39 weeks.
    assert (out["duration_holdout"] == 39.0).all()
    assert (out.loc[out["frequency_holdout"] == 0, "monetary_value_holdout"] == 0).all()
    plain = utils.calibration_and_holdout_data(
        cdnow_sample, "customer_id", "date", "1997-09-30", "1998-06-30", freq="D",
        freq_multiplier=7,
    )
    assert list(plain.columns) == [
        "frequency_cal", "recency_cal", "T_cal", "frequency_holdout", "duration_holdout"
    ]


def test_cumulative_repeat_transactions_match_the_btyd_walkthrough(cdnow_sample):
    curve = utils.cumulative_repeat_transactions(
        cdnow_sample, "customer_id", "date", freq="W", start="1997-01-01", periods=78
    )
    assert curve.dtype == np.int64 and len(curve) == 78
    assert curve[19:25].tolist() == [1359, 1414, 1484, 1517, 1573, 1672]
    assert curve[-1] == 2457 + 1882


def small_log() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "who": ["a", "a", "b", "a", "a", "c"],
            "when": pd.to_datetime(
                ["2020-01-01 09:00", "2020-01-01 18:00", "2020-01-10 00:00", "2020-01-04 00:00",
                 "2020-01-11 00:00", "2020-01-20 00:00"]
            ),
            "amount": [decimal.Decimal("10"), decimal.Decimal("5"), decimal.Decimal("7"),
                       decimal.Decimal("20"), decimal.Decimal("30"), decimal.Decimal("1")],
        }
    )


def test_small_log_by_day_with_decimal_amounts():
    out = utils.summary_data_from_transaction_data(
        small_log(), "who", "when", "amount", observation_period_end="2020-01-15"
    )
    # c first buys after the end and is left out, as in lifetimes.
    assert out.index.tolist() == ["a", "b"] and out.index.name == "who"
    assert out.loc["a"].tolist() == [2.0, 10.0, 14.0, 25.0]  # same-day 10 + 5 merged
    assert out.loc["b"].tolist() == [0.0, 0.0, 5.0, 0.0]
    first = utils.summary_data_from_transaction_data(
        small_log(), "who", "when", "amount", observation_period_end="2020-01-15",
        include_first_transaction=True,
    )
    assert first.loc["a", "frequency"] == 3.0
    assert first.loc["a", "monetary_value"] == pytest.approx((15 + 20 + 30) / 3)
    assert first.loc["b"].tolist() == [1.0, 0.0, 5.0, 7.0]


def test_small_log_by_week_and_timezones():
    log = small_log()
    # Monday..Sunday weeks: 2020-01-01 and -04 share the week of 2019-12-30, -10 and -11 the week
    # of 2020-01-06; the end (Wed 2020-01-15) is in the week of 2020-01-13.
    out = utils.summary_data_from_transaction_data(
        log, "who", "when", observation_period_end="2020-01-15", freq="W"
    )
    assert out.loc["a"].tolist() == [1.0, 1.0, 2.0]
    assert out.loc["b"].tolist() == [0.0, 0.0, 1.0]
    # Aware times are converted to UTC: 2020-01-01 09:00+10:00 is 2019-12-31 23:00 UTC.
    aware = log.copy()
    aware["when"] = aware["when"].dt.tz_localize("Etc/GMT-10")
    shifted = utils.summary_data_from_transaction_data(
        aware, "who", "when", observation_period_end="2020-01-15"
    )
    assert shifted.loc["a", "T"] == 15.0
    # Times given as strings are parsed with datetime_format.
    text = log.assign(when=log["when"].dt.strftime("%d/%m/%Y"))
    parsed = utils.summary_data_from_transaction_data(
        text, "who", "when", datetime_format="%d/%m/%Y", observation_period_end="15/01/2020"
    )
    assert parsed.loc["a"].tolist() == [2.0, 10.0, 14.0]
    # Integer dates such as 19970101 with a format, as lifetimes users pass them.
    numbers = log.assign(when=log["when"].dt.strftime("%Y%m%d").astype(int))
    from_ints = utils.summary_data_from_transaction_data(
        numbers, "who", "when", datetime_format="%Y%m%d", observation_period_end=20200115
    )
    assert from_ints.loc["a"].tolist() == [2.0, 10.0, 14.0]


def test_integer_ids_and_default_end():
    log = small_log().assign(who=[7, 7, 3, 7, 7, 9])
    out = utils.summary_data_from_transaction_data(log, "who", "when")
    # The end defaults to the last transaction (2020-01-20), so customer 9 has T = 0.
    assert out.index.tolist() == [3, 7, 9]
    assert out.loc[9].tolist() == [0.0, 0.0, 0.0]
    assert out.loc[7, "T"] == 19.0


def test_bad_input_raises_validation_error_naming_the_argument():
    log = small_log()
    with pytest.raises(crmkit.ValidationError, match="^freq:"):
        utils.summary_data_from_transaction_data(log, "who", "when", freq="fortnight")
    with pytest.raises(crmkit.ValidationError, match="^datetime_col:"):
        utils.summary_data_from_transaction_data(log, "who", "nope")
    with pytest.raises(crmkit.ValidationError, match="multiplier"):
        utils.summary_data_from_transaction_data(log, "who", "when", freq_multiplier=0)
    missing = log.copy()
    missing.loc[2, "when"] = pd.NaT
    with pytest.raises(crmkit.ValidationError, match=r"^datetime_col\[2\]: is missing"):
        utils.summary_data_from_transaction_data(missing, "who", "when")
    words = log.assign(amount=["1", "2", "x", "4", "5", "6"])
    with pytest.raises(crmkit.ValidationError, match="^monetary_value_col:"):
        utils.summary_data_from_transaction_data(words, "who", "when", "amount")
    with pytest.raises(crmkit.ValidationError, match="calibration"):
        utils.calibration_and_holdout_data(
            log, "who", "when", calibration_period_end="2020-02-01",
            observation_period_end="2020-01-15",
        )


def test_summary_from_store_uses_exact_net_amounts(store):
    frame = pd.DataFrame(
        {
            "customer": ["x", "x", "x", "y"],
            "at": pd.to_datetime(["2021-03-01 00:00", "2021-03-01 12:00", "2021-03-08 00:00", "2021-03-05 00:00"]),
            "amount": ["10.10", "0.20", "5.55", "3.00"],
        }
    )
    store.import_purchases(frame)
    out = utils.summary_from_store(store, observation_period_end="2021-03-10")
    x = store.get_customer_by_external_id("x").id
    y = store.get_customer_by_external_id("y").id
    assert out.index.name == "customer_id"
    assert out.loc[x].tolist() == [1.0, 7.0, 9.0, 5.55]
    assert out.loc[y].tolist() == [0.0, 0.0, 5.0, 0.0]
    weeks = utils.summary_from_store(store, freq="D", freq_multiplier=7,
                                     observation_period_end="2021-03-10")
    assert weeks.loc[x, "T"] == pytest.approx(9 / 7)


def test_summary_from_store_keyed_by_external_id_nets_refunds_in_cpp(store):
    frame = pd.DataFrame(
        {
            "customer": ["x", "x", "y", "z"],
            "at": pd.to_datetime(["2021-03-01", "2021-03-08", "2021-03-05", "2021-03-12"]),
            "amount": ["10.00", "5.55", "3.00", "7.00"],
        }
    )
    store.import_purchases(frame)
    cols = store.purchase_columns()
    # Refund 1.55 of x's second purchase and all of y's only one: y still counts (amount 0).
    store.append_event(crmkit.Event(customer=int(cols.customer_id[1]), at="2021-03-09T00:00:00Z",
                                    payload=crmkit.Refund(purchase=int(cols.event_id[1]),
                                                          amount=crmkit.Money("1.55", "USD"))))
    store.append_event(crmkit.Event(customer=int(cols.customer_id[2]), at="2021-03-09T00:00:00Z",
                                    payload=crmkit.Refund(purchase=int(cols.event_id[2]),
                                                          amount=crmkit.Money("3.00", "USD"))))
    out = utils.summary_from_store(store, observation_period_end="2021-03-10",
                                   index="external_id")
    # z first bought after the end: left out. The rows stay in customer-id order.
    assert out.index.name == "external_id"
    assert out.index.tolist() == ["x", "y"]
    assert list(out.columns) == ["frequency", "recency", "T", "monetary_value", "customer_id"]
    assert out.loc["x", ["frequency", "recency", "T", "monetary_value"]].tolist() == [
        1.0, 7.0, 9.0, 4.0]
    assert out.loc["y", ["frequency", "recency", "T", "monetary_value"]].tolist() == [
        0.0, 0.0, 5.0, 0.0]
    assert out["customer_id"].tolist() == [store.get_customer_by_external_id(e).id
                                           for e in ("x", "y")]
    by_id = utils.summary_from_store(store, observation_period_end="2021-03-10")
    assert np.array_equal(by_id.index.to_numpy(), out["customer_id"].to_numpy())
    assert by_id.to_numpy().tolist() == out.drop(columns="customer_id").to_numpy().tolist()
    # The same numbers as the C++ call the function wraps.
    core = crmkit._core.summary_from_store(store, observation_period_end="2021-03-10")
    assert core["external_id"] == ["x", "y"]
    assert core["monetary_value"].tolist() == [4.0, 0.0]
    with pytest.raises(crmkit.ValidationError, match=r"^index: expected 'customer_id' or "
                                                     r"'external_id', got 'name'$"):
        utils.summary_from_store(store, index="name")


def test_missing_columns_are_validation_errors_naming_the_column(cdnow_sample):
    with pytest.raises(crmkit.ValidationError,
                       match=r"^customer_id_col: no column 'who' in transactions$"):
        utils.summary_data_from_transaction_data(cdnow_sample, "who", "date")
    with pytest.raises(crmkit.ValidationError,
                       match=r"^monetary_value_col: no column 'spend' in transactions$"):
        utils.calibration_and_holdout_data(cdnow_sample, "customer_id", "date", "1997-09-30",
                                           monetary_value_col="spend")
    model = crmkit.BetaGeoFitter()
    model.params_ = {"r": 0.24, "alpha": 4.4, "a": 0.79, "b": 2.4}
    with pytest.raises(crmkit.ValidationError, match=r"^datetime_col: no column 'when'"):
        utils.expected_cumulative_transactions(model, cdnow_sample, "when", "customer_id", 14)
    with pytest.raises(crmkit.ValidationError, match=r"^customer_id_col: no column 'who'"):
        utils.expected_cumulative_transactions(model, cdnow_sample, "date", "who", 14)
    # Integer dates need the format here too.
    plain = read_cdnow_sample_plainly()
    with pytest.raises(crmkit.ValidationError, match=r"^datetime_col: column 'date' holds numbers"):
        utils.expected_cumulative_transactions(model, plain, "date", "customer_id", 14)
    with_format = utils.expected_cumulative_transactions(
        model, plain, "date", "customer_id", 14, datetime_format="%Y%m%d")
    pd.testing.assert_frame_equal(
        with_format,
        utils.expected_cumulative_transactions(model, cdnow_sample, "date", "customer_id", 14))
