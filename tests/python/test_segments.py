"""Segments and drift from Python (crmkit/analytics/segments.hpp, crmkit/loyalty/segments.hpp):
the hand-made store of tests/cpp/test_segments.cpp with the same exact memberships and drift
counts, rule-segment load errors with their paths, the CDNOW sample's monthly RFM series, the pure
segment_drift (checked against pandas crosstab), purchase_segments and the plot."""

from __future__ import annotations

import os
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

import crmkit

os.environ.setdefault("MPLBACKEND", "Agg")

RULES = {
    "segments": [
        {"name": "VIP", "when": {">=": [{"var": "net_revenue"}, 100]}},
        {"name": "Lapsed", "when": {">": [{"var": "days_since_last_purchase"}, 30]}},
    ],
    "fallback": "Other",
}
JAN, FEB, MAR = ("2024-01-31T23:59:59.999999Z", "2024-02-29T23:59:59.999999Z",
                 "2024-03-31T23:59:59.999999Z")


@pytest.fixture()
def shop():
    s = crmkit.Store(":memory:", "USD")
    ids = {}
    for ext in "abcd":
        ids[ext] = s.create_customer(crmkit.Customer(external_id=ext, name=ext)).id

    def buy(ext, amount, at):
        return s.append_event(crmkit.Event(customer=ids[ext], at=at, payload=crmkit.Purchase(
            amount=crmkit.Money(amount, "USD")))).id

    def refund(ext, of, amount, at):
        s.append_event(crmkit.Event(customer=ids[ext], at=at, payload=crmkit.Refund(
            purchase=of, amount=crmkit.Money(amount, "USD"))))

    buy("a", "100.00", "2024-01-10T10:00:00Z")
    a2 = buy("a", "50.00", "2024-02-15T10:00:00Z")
    buy("b", "20.00", "2024-01-20T10:00:00Z")
    c1 = buy("c", "300.00", "2024-02-10T10:00:00Z")
    refund("c", c1, "300.00", "2024-02-20T10:00:00Z")
    buy("d", "10.00", "2024-03-05T10:00:00Z")
    refund("a", a2, "25.00", "2024-03-10T10:00:00Z")
    yield s, ids
    s.close()


def test_segments_as_of_each_month_end(shop):
    s, ids = shop
    jan = s.segments(JAN, RULES)
    assert list(jan.columns) == ["customer_id", "external_id", "segment"]
    assert list(jan["customer_id"]) == [ids["a"], ids["b"]]
    assert list(jan["external_id"]) == ["a", "b"]
    assert list(jan["segment"]) == ["VIP", "Other"]
    assert list(jan["segment"].cat.categories) == ["VIP", "Lapsed", "Other"]
    assert list(s.segments(FEB, RULES)["segment"]) == ["VIP", "Lapsed", "Other"]
    assert list(s.segments(MAR, RULES)["segment"]) == ["VIP", "Lapsed", "Other", "Other"]
    # JSON text and a plain list of segments work too.
    import json

    assert s.segments(MAR, json.dumps(RULES)).equals(s.segments(MAR, RULES))
    as_list = s.segments(MAR, RULES["segments"])
    assert list(as_list["segment"]) == ["VIP", "Lapsed", "Other", "Other"]


def test_drift_between_two_dates_sums_to_the_sizes(shop):
    s, _ = shop
    m = s.segment_drift(JAN, MAR, RULES)
    assert list(m.index) == ["VIP", "Lapsed", "Other", "none"]
    assert list(m.columns) == ["VIP", "Lapsed", "Other"]
    assert m.index.name == "from" and m.columns.name == "to"
    assert m.to_numpy().tolist() == [[1, 0, 0], [0, 0, 0], [0, 1, 0], [0, 0, 2]]
    jan = s.segments(JAN, RULES)["segment"].value_counts()
    mar = s.segments(MAR, RULES)["segment"].value_counts()
    assert m.drop(index="none").sum(axis=1).to_dict() == jan.to_dict()
    assert m.sum(axis=0).to_dict() == mar.to_dict()


def test_monthly_drift_series_long_form(shop):
    s, _ = shop
    series = s.segment_drift_series(JAN, MAR, "month", RULES)
    assert list(series.columns) == ["date", "from", "to", "count"]
    assert series["date"].nunique() == 2
    moves = series[series["count"] > 0]
    feb = moves[moves["date"] == pd.Timestamp(FEB)]
    mar = moves[moves["date"] == pd.Timestamp(MAR)]
    assert sorted(zip(feb["from"], feb["to"], feb["count"])) == [
        ("Other", "Lapsed", 1), ("VIP", "VIP", 1), ("none", "Other", 1)]
    assert sorted(zip(mar["from"], mar["to"], mar["count"])) == [
        ("Lapsed", "Lapsed", 1), ("Other", "Other", 1), ("VIP", "VIP", 1), ("none", "Other", 1)]
    assert series.attrs["start"] == pd.Timestamp(JAN)


def test_mainstream_segments_with_exact_revenue(shop):
    s, _ = shop
    m = s.mainstream_segments(MAR, k=2, rules=RULES)
    assert list(m.index) == ["VIP", "Lapsed", "Other"]
    assert list(m["customers"]) == [1, 1, 2]
    assert list(m["revenue"]) == [Decimal("125.00"), Decimal("20.00"), Decimal("10.00")]
    assert m.attrs["by_customers"] == ["Other", "Lapsed"]
    assert m.attrs["by_revenue"] == ["VIP", "Lapsed"]
    assert m["customers_rank"].tolist() == [pd.NA, 2, 1]
    assert m["revenue_rank"].tolist() == [1, 2, pd.NA]
    assert m["mainstream"].tolist() == [True, True, True]
    assert s.mainstream_segments(FEB, rules=RULES)["revenue"]["VIP"] == Decimal("150.00")


def test_rule_segment_load_errors_name_the_path(shop):
    s, _ = shop
    with pytest.raises(crmkit.ValidationError) as info:
        s.segments(MAR, {"segments": [{"name": "A", "when": {"<": [{"var": "nope"}, 1]}}]})
    assert str(info.value) == "segments.segments[0].when.<[0]: unknown fact 'nope'"
    with pytest.raises(crmkit.ValidationError) as info:
        s.segment_drift(JAN, MAR, {"segments": [{"name": "A", "when": True},
                                                {"name": "A", "when": True}]})
    assert str(info.value) == "segments.segments[1].name: 'A' is used twice"
    with pytest.raises(crmkit.ValidationError) as info:
        s.segments(MAR, {"segments": [{"name": "A", "when": True, "colour": 1}]})
    assert str(info.value) == "segments.segments[0].colour: unknown member"
    with pytest.raises(crmkit.ValidationError):
        s.segments(MAR, 42)


def test_cdnow_monthly_rfm_series_counts_the_customers_acquired_so_far():
    sample = crmkit.datasets.load_cdnow_sample()
    with crmkit.Store(":memory:", "USD") as store:
        store.import_purchases(sample.assign(customer=sample["customer_id"].astype(str)),
                               customer="customer", at="date", amount="dollar_value")
        ends = pd.date_range("1997-01-31", "1998-12-31", freq="ME", tz="UTC") + \
            pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
        series = store.segment_drift_series(ends[0], ends[-1])
        first = sample.groupby("customer_id")["date"].min().dt.tz_localize("UTC")
        totals = series.groupby("date")["count"].sum()
        assert len(totals) == 23
        for date, total in totals.items():
            assert total == int((first <= date).sum())
        assert totals.iloc[-1] == 2357
        arrivals = series[series["from"] == "none"].groupby("date")["count"].sum()
        assert arrivals.sum() == 2357 - int((first <= ends[0]).sum())
        assert set(series["to"]) == set(crmkit.rfm_segment_names())
        # Membership as of a date: every customer with a purchase by then, one RFM segment each.
        june = store.segments(ends[5])
        assert len(june) == int((first <= ends[5]).sum())
        assert list(june["segment"].cat.categories) == crmkit.rfm_segment_names()
        ms = store.mainstream_segments(ends[5])
        assert ms["customers"].sum() == len(june)
        assert sum(ms["revenue"]) == sum(
            Decimal(v) for v in sample.loc[sample["date"] <= "1997-06-30", "dollar_value"])


def test_pure_segment_drift_equals_a_pandas_crosstab():
    rng = np.random.default_rng(3)
    names = np.array(["A", "B", "C", None], dtype=object)
    a = names[rng.integers(0, 4, 1000)]
    b = names[rng.integers(0, 3, 1000)]
    m = crmkit.segment_drift(a, b)
    want = pd.crosstab(pd.Series(a).fillna("none"), pd.Series(b).fillna("none"))
    assert list(m.index) == ["A", "B", "C", "none"]
    assert list(m.columns) == ["A", "B", "C"]
    assert m.to_numpy().tolist() == want.loc[list(m.index), list(m.columns)].to_numpy().tolist()
    # Categoricals keep their category order; a segment left empty keeps its row and column.
    ca = pd.Categorical(["x", "y", "y"], categories=["y", "x", "z"])
    cb = pd.Categorical(["y", "y", None], categories=["y", "x", "z"])
    m = crmkit.segment_drift(ca, cb)
    assert list(m.index) == ["y", "x", "z", "none"]
    assert list(m.columns) == ["y", "x", "z", "none"]
    assert m.loc["y", "none"] == 1 and m.loc["x", "y"] == 1 and m.loc["y", "y"] == 1
    with pytest.raises(crmkit.ValidationError) as info:
        crmkit.segment_drift(["a"], ["a", "b"])
    assert str(info.value) == "to: 2 customers, from has 1"


def test_purchase_segments_at_two_dates():
    day = 86_400_000_000
    feb10 = pd.Timestamp("2024-02-10").value // 1000
    times = np.array([feb10 + day // 2, pd.Timestamp("2024-02-01").value // 1000,
                      pd.Timestamp("2024-01-05").value // 1000], dtype=np.int64)
    rules = {"segments": [{"name": "High", "when": {">=": [{"var": "monetary"}, 100]}},
                          {"name": "Repeat", "when": {">=": [{"var": "frequency"}, 2]}}],
             "fallback": "Low"}
    feb, jan = crmkit.purchase_segments([0, 1, 0], times, [3000, 20000, 1000],
                                        [FEB, JAN], rules, customers=3)
    assert feb.tolist()[:2] == ["Repeat", "High"]
    assert pd.isna(feb[2])
    assert jan.tolist()[0] == "Low" and pd.isna(jan[1])
    m = crmkit.segment_drift(jan, feb)
    assert m.loc["Low", "Repeat"] == 1 and m.loc["none", "High"] == 1
    assert int(m.to_numpy().sum()) == 2
    with pytest.raises(crmkit.ValidationError) as info:
        crmkit.purchase_segments([0], times[:1], [1], [JAN],
                                 {"segments": [{"name": "X", "when": {">": [{"var": "age"}, 1]}}]})
    assert str(info.value) == "segments.segments[0].when.>[0]: unknown fact 'age'"


def test_plot_segment_drift_returns_the_axes(shop):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    s, _ = shop
    ax = crmkit.plot_segment_drift(s.segment_drift(JAN, MAR, RULES))
    assert ax.get_xlabel() == "to" and ax.get_ylabel() == "from"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["VIP", "Lapsed", "Other", "none"]
    plt.close(ax.figure)
    fig, given = plt.subplots()
    ax = crmkit.plot_segment_drift(s.segment_drift_series(JAN, MAR, rules=RULES), ax=given)
    assert ax is given
    assert len(ax.get_xticklabels()) == 2
    plt.close(fig)
