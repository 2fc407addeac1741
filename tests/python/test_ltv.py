"""Lifetime value in three parts (crmkit.ltv.lifetime_value_parts) from a summary frame, a
transaction frame and a Store, and calibration-vs-holdout validation on the CDNOW sample."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

import crmkit
from crmkit import Event, Money, Purchase, Referral, Refund, _core, datasets
from crmkit.ltv import calibration_vs_holdout, lifetime_value_parts

from conftest import person

BG_PARAMS = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


@pytest.fixture(scope="module")
def bgf() -> crmkit.BetaGeoFitter:
    model = crmkit.BetaGeoFitter()
    model.params_ = BG_PARAMS
    return model


@pytest.fixture(scope="module")
def ggf() -> crmkit.GammaGammaFitter:
    """p = 1, q = 2, v = 10: E[Z | x, m] = (10 + x m) / (x + 1)."""
    model = crmkit.GammaGammaFitter()
    model.params_ = {"p": 1.0, "q": 2.0, "v": 10.0}
    return model


def _summary() -> pd.DataFrame:
    # 10 and 11 have repeat purchases (model); 12 and 13 bought once (run rate).
    return pd.DataFrame(
        {
            "frequency": [1.0, 3.0, 0.0, 0.0],
            "recency": [5.0, 8.0, 0.0, 0.0],
            "T": [10.0, 10.0, 5.0, 0.0],
            "monetary_value": [10.25, 30.0, 0.0, 0.0],
            "historical": ["40.00", "120.00", "15.00", "9.99"],
        },
        index=pd.Index([10, 11, 12, 13], name="customer_id"),
    )


def test_parts_from_a_summary_frame(bgf, ggf):
    s = _summary()
    # 10 -> 12 and 10 -> 13 are converted (both bought); 11 -> 500 is not (500 never bought).
    referrals = pd.DataFrame({"referrer_id": [10, 10, 11], "referred_id": [12, 13, 500]})
    out = lifetime_value_parts(s, bgf, ggf, 4.0, referrals=referrals, currency="USD",
                               uplift="0.1")
    assert list(out.columns) == ["customer_id", "historical", "current", "potential", "total",
                                 "method", "converted_referrals"]
    assert list(out["customer_id"]) == [10, 11, 12, 13]
    assert list(out["method"]) == ["model", "model", "run_rate", "run_rate"]
    assert list(out["historical"]) == [Decimal("40.00"), Decimal("120.00"), Decimal("15.00"),
                                       Decimal("9.99")]
    # Model rows: BG/NBD expected purchases over 4 units x (10 + x m) / (x + 1), rounded half even.
    expected = bgf.conditional_expected_number_of_purchases_up_to_time(
        4.0, s["frequency"], s["recency"], s["T"]).to_numpy()
    spend = [(10 + 1 * 10.25) / 2, (10 + 3 * 30.0) / 4]
    for row in (0, 1):
        money = Money.from_model_value(float(expected[row] * spend[row]), "USD")
        assert out["current"][row] == money.amount
    # Run rate: 15.00 / 5 x 4 = 12.00; 9.99 / max(0, 1) x 4 = 39.96.
    assert out["current"][2] == Decimal("12.00")
    assert out["current"][3] == Decimal("39.96")
    # Value of a converted referral: (15.00 + 9.99) / 2 = 12.495 -> 12.50 (half even).
    assert out.attrs["referral_value"] == Decimal("12.50")
    assert out.attrs["currency"] == "USD"
    assert list(out["converted_referrals"]) == [2, 0, 0, 0]
    assert out["potential"][2] == Decimal("1.20")  # 0.1 x 12.00
    assert out["potential"][3] == Decimal("4.00")  # 0.1 x 39.96 = 3.996
    assert out["potential"][0] == Decimal("25.00") + (out["current"][0] / 10).quantize(
        Decimal("0.01"), rounding="ROUND_HALF_EVEN")
    for row in range(4):
        assert out["total"][row] == (out["historical"][row] + out["current"][row]
                                     + out["potential"][row])
        assert isinstance(out["total"][row], Decimal)


def test_options_reach_the_core(bgf, ggf):
    s = _summary()
    out = lifetime_value_parts(s, bgf, ggf, 4.0, currency="USD", min_repeat_purchases=2)
    # 10 (one repeat purchase) now uses the run rate: 40.00 / 10 x 4 = 16.00.
    assert out["method"][0] == "run_rate"
    assert out["current"][0] == Decimal("16.00")
    out = lifetime_value_parts(s, bgf, ggf, 2.0, currency="USD", discount_rate=1.0)
    # 12: 3.00 per unit discounted over two unit steps: 3 / 2 + 3 / 4 = 2.25.
    assert out["current"][2] == Decimal("2.25")
    out = lifetime_value_parts(s, bgf, ggf, 4.0, currency="USD", referral_value="7.00",
                               referrals=([10], [11]))
    assert out["potential"][0] == Decimal("7.00")
    assert out.attrs["referral_value"] == Decimal("7.00")


def test_errors_name_the_field(bgf, ggf):
    s = _summary()
    with pytest.raises(crmkit.ValidationError, match=r"^referral_value: currency EUR differs from USD"):
        lifetime_value_parts(s, bgf, ggf, 4.0, currency="USD", referral_value=Money("5.00", "EUR"))
    with pytest.raises(crmkit.ValidationError, match=r"^horizon: must be finite and >= 0, got -1"):
        lifetime_value_parts(s, bgf, ggf, -1, currency="USD")
    with pytest.raises(crmkit.ValidationError, match="uplift: binary floating-point"):
        lifetime_value_parts(s, bgf, ggf, 4.0, currency="USD", uplift=0.1)
    bad = s.copy()
    bad.loc[11, "monetary_value"] = np.nan
    with pytest.raises(crmkit.ValidationError, match=r"^monetary_value\[1\]: must be finite"):
        lifetime_value_parts(bad, bgf, ggf, 4.0, currency="USD")
    with pytest.raises(ValueError, match="^BetaGeoFitter is not fitted: call fit\\(\\) first$"):
        lifetime_value_parts(s, crmkit.BetaGeoFitter(), ggf, 4.0, currency="USD")


def test_parts_from_a_transaction_frame_with_refunds(bgf, ggf):
    tx = pd.DataFrame(
        {
            "customer_id": ["ann", "ann", "bob", "cy"],
            "date": ["2024-01-01", "2024-01-08", "2024-01-03", "2024-01-05"],
            "amount": ["30.00", Decimal("20.00"), "10.00", "8.00"],
            "refunded": ["0", "5.00", "10.00", "0"],
        }
    )
    out = lifetime_value_parts(tx, bgf, ggf, 7.0, currency="USD", refunded_col="refunded",
                               observation_period_end="2024-01-11",
                               referrals=(["ann", "bob"], ["cy", "dan"]))
    assert list(out["customer_id"]) == ["ann", "bob", "cy"]
    assert list(out["historical"]) == [Decimal("45.00"), Decimal("0.00"), Decimal("8.00")]
    assert list(out["method"]) == ["model", "run_rate", "run_rate"]
    # bob: 0.00 in 8 days; cy: 8.00 / 6 days x 7 = 9.333... -> 9.33.
    assert out["current"][1] == Decimal("0.00")
    assert out["current"][2] == Decimal("9.33")
    # ann referred cy (a buyer), bob referred dan (never bought): value = cy's 8.00.
    assert list(out["converted_referrals"]) == [1, 0, 0]
    assert out["potential"][0] == Decimal("8.00")
    with pytest.raises(crmkit.ValidationError, match=r"amount\[0\]: binary floating-point"):
        lifetime_value_parts(tx.assign(amount=[30.0, 20.0, 10.0, 8.0]), bgf, ggf, 7.0,
                             currency="USD")


def test_parts_from_a_store(store, bgf, ggf):
    ann = store.create_customer(person("ann")).id
    bob = store.create_customer(person("bob")).id
    cy = store.create_customer(person("cy")).id

    def buy(customer, amount, at):
        return store.append_event(Event(customer=customer, at=at,
                                        payload=Purchase(amount=Money(amount, "USD"))))

    first = buy(ann, "30.00", "2024-01-01T10:00:00Z")
    buy(ann, "20.00", "2024-01-08T10:00:00Z")
    buy(bob, "12.00", "2024-01-04T10:00:00Z")
    store.append_event(Event(customer=ann, at="2024-01-09T10:00:00Z",
                             payload=Refund(purchase=first.id, amount=Money("10.00", "USD"))))
    store.append_event(Event(customer=ann, at="2024-01-09T11:00:00Z",
                             payload=Referral(referred=bob)))
    store.append_event(Event(customer=bob, at="2024-01-09T12:00:00Z",
                             payload=Referral(referred=cy)))  # cy never bought
    out = lifetime_value_parts(store, bgf, ggf, 7.0, observation_period_end="2024-01-10")
    assert list(out["customer_id"]) == [ann, bob]
    assert list(out["historical"]) == [Decimal("40.00"), Decimal("12.00")]
    assert list(out["converted_referrals"]) == [1, 0]
    assert out.attrs["referral_value"] == Decimal("12.00")
    assert out["potential"][0] == Decimal("12.00")
    # bob: 12.00 over 6 days of tenure x 7 = 14.00.
    assert out["method"][1] == "run_rate"
    assert out["current"][1] == Decimal("14.00")


def test_core_columns_and_historical_value():
    h = _core.historical_value(np.array([3, 1, 3]), np.array([1000, 2500, 500]),
                               np.array([200, 0, 500]), "USD")
    assert h["customer_id"].tolist() == [1, 3]
    assert h["net_minor"].tolist() == [2500, 800]
    assert h["purchases"].tolist() == [1, 2]
    with pytest.raises(crmkit.ValidationError, match=r"^refunded_minor\[0\]: 700 exceeds"):
        _core.historical_value(np.array([1]), np.array([500]), np.array([700]), "USD")


# ---- validation -----------------------------------------------------------------------------


def test_calibration_vs_holdout_by_hand():
    frame = pd.DataFrame({"frequency_cal": [0, 0, 1, 2, 8, 9],
                          "frequency_holdout": [0, 1, 1, 3, 8, 8]})
    v = calibration_vs_holdout(None, frame, predicted=[0.5, 0.25, 1, 2, 7, 10])
    assert v.customers["error"].tolist() == [0.5, -0.75, 0, -1, -1, 2]
    assert list(v.buckets.index) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert v.buckets["count"].tolist() == [2, 1, 1, 0, 0, 0, 0, 2]
    assert v.buckets["mean_predicted"].tolist() == [0.375, 1, 2, 0, 0, 0, 0, 8.5]
    assert v.total_predicted == 20.75 and v.total_actual == 21
    assert v.mae == pytest.approx(5.25 / 6)
    assert v.rmse == pytest.approx((6.8125 / 6) ** 0.5)
    assert v.bias == pytest.approx(-0.25 / 6)
    assert v.total_relative_error == pytest.approx(-0.25 / 21)
    assert v.summary()["total_actual"] == 21
    none = calibration_vs_holdout(None, frame.assign(frequency_holdout=0), predicted=[0] * 6)
    assert none.total_relative_error is None
    with pytest.raises(crmkit.ValidationError, match=r"^buckets: must be >= 1, got 0"):
        calibration_vs_holdout(None, frame, predicted=[0] * 6, buckets=0)


def test_calibration_vs_holdout_on_cdnow():
    summary = datasets.load_cdnow_summary(index_col=[0])
    bgf = crmkit.BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    log = datasets.load_cdnow_sample()
    ch = crmkit.utils.calibration_and_holdout_data(
        log, "customer_id", "date", calibration_period_end="1997-09-30",
        observation_period_end="1998-06-30", freq="D", freq_multiplier=7)
    v = calibration_vs_holdout(bgf, ch)
    assert v.total_actual == 1882
    assert v.total_predicted == pytest.approx(1653.42, abs=0.5)
    assert v.buckets["count"].tolist() == [1411, 439, 214, 100, 62, 38, 29, 64]
    assert v.buckets.loc["0", "mean_actual"] == pytest.approx(0.2367116, abs=1e-7)
    assert len(v.customers) == 2357


def test_parts_from_a_store_as_of_a_date_with_external_ids(store, bgf, ggf):
    ann = store.create_customer(person("ann")).id
    bob = store.create_customer(person("bob")).id
    for customer, amount, at in ((ann, "30.00", "2024-01-01T10:00:00Z"),
                                 (bob, "12.00", "2024-01-04T10:00:00Z"),
                                 (ann, "20.00", "2024-01-08T10:00:00Z"),
                                 (ann, "99.00", "2024-02-01T10:00:00Z")):  # after the end below
        store.append_event(Event(customer=customer, at=at,
                                 payload=Purchase(amount=Money(amount, "USD"))))
    out = lifetime_value_parts(store, bgf, ggf, 7.0, observation_period_end="2024-01-10",
                               referrals=([bob], [ann]))
    assert list(out.columns) == ["customer_id", "external_id", "historical", "current",
                                 "potential", "total", "method", "converted_referrals"]
    assert out["external_id"].tolist() == ["ann", "bob"]
    assert out["customer_id"].tolist() == [ann, bob]
    # The 99.00 of February is after the end: left out of every part (it used to be an error).
    assert list(out["historical"]) == [Decimal("50.00"), Decimal("12.00")]
    # The given referral (bob brought ann) replaces the store's: bob's potential is ann's 50.00.
    assert list(out["converted_referrals"]) == [0, 1]
    assert list(out["potential"]) == [Decimal("0.00"), Decimal("50.00")]
    # bob: 12.00 over 6 days of tenure x 7 = 14.00, as without the later purchase.
    assert out["current"][1] == Decimal("14.00")
    later = lifetime_value_parts(store, bgf, ggf, 7.0)
    assert list(later["historical"]) == [Decimal("149.00"), Decimal("12.00")]
    assert later["external_id"].tolist() == ["ann", "bob"]


def test_a_numeric_date_column_needs_a_format(bgf, ggf):
    tx = pd.DataFrame({"customer_id": ["ann", "ann", "bob"],
                       "date": [19970101, 19970118, 19970105],
                       "amount": ["10.00", "20.00", "5.00"]})
    with pytest.raises(crmkit.ValidationError,
                       match=r"^datetime_col: column 'date' holds numbers \(int64\)"):
        lifetime_value_parts(tx, bgf, ggf, 7.0, currency="USD")
    parsed = lifetime_value_parts(tx, bgf, ggf, 7.0, currency="USD", datetime_format="%Y%m%d")
    as_dates = lifetime_value_parts(tx.assign(date=pd.to_datetime(tx["date"].astype(str))),
                                    bgf, ggf, 7.0, currency="USD")
    pd.testing.assert_frame_equal(parsed, as_dates)
    assert list(parsed["historical"]) == [Decimal("30.00"), Decimal("5.00")]


def test_one_rule_for_python_amounts_in_every_entry_point(store, bgf, ggf):
    """Money(), money columns of lifetime_value_parts and Store.import_purchases share the
    binding's conversion: the same message for the same bad amount, naming the place."""
    tail = "binary floating-point numbers are not accepted as money; pass a str or decimal.Decimal"
    with pytest.raises(crmkit.ValidationError) as info:
        Money(1.5, "USD")
    assert str(info.value) == f"amount: {tail}"
    tx = pd.DataFrame({"customer_id": ["a"], "date": pd.to_datetime(["2024-01-01"]),
                       "amount": [1.5]})
    with pytest.raises(crmkit.ValidationError) as info:
        lifetime_value_parts(tx, bgf, ggf, 7.0, currency="USD")
    assert str(info.value) == f"amount[0]: {tail}"
    frame = pd.DataFrame({"customer": ["a"], "at": pd.to_datetime(["2024-01-01"]),
                          "amount": [1.5]})
    with pytest.raises(crmkit.ValidationError) as info:
        store.import_purchases(frame)
    assert str(info.value) == f"rows[0].amount: {tail}"
    with pytest.raises(crmkit.ValidationError) as info:
        lifetime_value_parts(_summary(), bgf, ggf, 7.0, currency="USD", referral_value=2.5)
    assert str(info.value) == f"referral_value: {tail}"
    # Too many decimals and another currency's Money, named the same way.
    with pytest.raises(crmkit.ValidationError) as info:
        lifetime_value_parts(tx.assign(amount=["1.005"]), bgf, ggf, 7.0, currency="USD")
    assert str(info.value) == "amount[0]: 1.005 has more decimals than USD allows (2)"
    with pytest.raises(crmkit.ValidationError) as info:
        lifetime_value_parts(tx.assign(amount=[Money("1.00", "EUR")]), bgf, ggf, 7.0,
                             currency="USD")
    assert str(info.value) == "amount[0]: currency EUR differs from USD"
