"""Loyalty metrics from Python (crmkit.cohort_retention, the Store methods, the heat map): the CDNOW
sample's cohort matrix against one computed here with pandas, and hand-made stores with exact NPS,
CSAT, retention, churn, repeat rate, referral rate and word of mouth."""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import pytest

import crmkit
from conftest import person

os.environ.setdefault("MPLBACKEND", "Agg")

END_JUNE_1998 = "1998-06-30T23:59:59.999999Z"


def pandas_cohorts(customer: pd.Series, date: pd.Series) -> tuple[pd.DataFrame, pd.Series]:
    """The cohort matrix computed independently with pandas: counts (cohort x k) and sizes."""
    month = date.dt.year * 12 + date.dt.month - 1
    df = pd.DataFrame({"c": customer.to_numpy(), "m": month.to_numpy()}).drop_duplicates()
    first = df.groupby("c")["m"].transform("min")
    df["k"] = df["m"] - first
    df["cohort"] = first
    counts = df.groupby(["cohort", "k"]).size().unstack(fill_value=0)
    sizes = df[df["k"] == 0].groupby("cohort").size()
    return counts, sizes


def label(month_index: int) -> str:
    return f"{month_index // 12:04d}-{month_index % 12 + 1:02d}"


# ---- the pure function ----------------------------------------------------------------------


def test_cdnow_cohort_matrix_equals_pandas():
    log = crmkit.datasets.load_cdnow_sample()
    m = crmkit.cohort_retention(log["customer_id"], log["date"], "month", as_of=END_JUNE_1998)
    assert isinstance(m, crmkit.CohortRetention)
    assert list(m.sizes.index) == ["1997-01", "1997-02", "1997-03"]
    assert list(m.sizes) == [781, 857, 719]
    assert m.customers == 2357 == int(m.sizes.sum())
    assert m.counts.shape == (3, 18)
    assert not m.incomplete
    assert (m.shares[0] == 1.0).all()
    observed = m.shares.to_numpy()[~np.isnan(m.shares.to_numpy())]
    assert ((observed >= 0) & (observed <= 1)).all()

    counts, sizes = pandas_cohorts(log["customer_id"], log["date"])
    assert [label(i) for i in sizes.index] == list(m.sizes.index)
    assert list(sizes) == list(m.sizes)
    for row, cohort in enumerate(counts.index):
        for k in range(18):
            want = int(counts.loc[cohort, k]) if k in counts.columns else 0
            cell = m.counts.iloc[row, k]
            if cohort + k > 1997 * 12 + 17:  # after 1998-06: not observable
                assert cell is pd.NA
                assert math.isnan(m.shares.iloc[row, k])
            else:
                assert cell == want
                assert m.shares.iloc[row, k] == pytest.approx(want / sizes[cohort], abs=0)


def test_cohort_input_kinds_and_default_as_of():
    log = crmkit.datasets.load_cdnow_sample()
    a = crmkit.cohort_retention(log["customer_id"], log["date"])
    # numpy arrays, datetime64[ns] and string ids give the same matrix
    b = crmkit.cohort_retention(log["customer_id"].to_numpy(), log["date"].to_numpy())
    c = crmkit.cohort_retention(log["customer_id"].astype(str), log["date"].dt.tz_localize("UTC"))
    for other in (b, c):
        pd.testing.assert_frame_equal(a.counts, other.counts)
        pd.testing.assert_series_equal(a.sizes, other.sizes)
    # as_of None: the latest purchase (1998-06-30 00:00), so June is incomplete
    assert a.as_of == pd.Timestamp("1998-06-30", tz="UTC")
    assert a.incomplete
    assert a.last_period == "1998-06"
    assert a.incomplete_cells.iloc[0, 17]
    assert not a.incomplete_cells.iloc[0, 16]
    assert int(a.incomplete_cells.to_numpy().sum()) == 3


def test_cohort_pyarrow_columns():
    import pyarrow as pa  # a test dependency (requirements-dev.txt): never skipped

    log = crmkit.datasets.load_cdnow_sample()
    a = crmkit.cohort_retention(log["customer_id"], log["date"], as_of=END_JUNE_1998)
    table = pa.Table.from_pandas(log[["customer_id", "date"]])
    b = crmkit.cohort_retention(table["customer_id"], table["date"], as_of=END_JUNE_1998)
    pd.testing.assert_frame_equal(a.counts, b.counts)


def test_cohort_empty_cohort_and_missing_cells():
    customer = [10, 10, 10, 11, 12, 12]
    time = pd.to_datetime(["2024-01-03", "2024-02-03", "2024-04-01", "2024-01-31", "2024-03-15",
                           "2024-04-10"])
    m = crmkit.cohort_retention(customer, time, "month", as_of="2024-04-15T00:00:00Z")
    assert list(m.sizes.index) == ["2024-01", "2024-02", "2024-03"]
    assert list(m.sizes) == [2, 0, 1]
    assert m.counts.loc["2024-01"].tolist() == [2, 1, 0, 1]
    assert m.counts.loc["2024-02"].tolist()[:3] == [0, 0, 0]
    assert m.counts.loc["2024-02", 3] is pd.NA
    assert m.shares.loc["2024-02"].isna().all()
    assert m.incomplete
    assert "last period incomplete" in repr(m)


def test_cohort_errors():
    with pytest.raises(crmkit.ValidationError, match="time: has 1 rows, customer has 2"):
        crmkit.cohort_retention([1, 2], pd.to_datetime(["2024-01-01"]))
    with pytest.raises(crmkit.ValidationError, match=r"time\[1\]: is missing"):
        crmkit.cohort_retention([1, 2], pd.to_datetime(["2024-01-01", None]))
    with pytest.raises(crmkit.ValidationError, match="unknown period 'fortnight'"):
        crmkit.cohort_retention([1], pd.to_datetime(["2024-01-01"]), "fortnight")


def test_plot_cohort_retention_returns_axes():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    log = crmkit.datasets.load_cdnow_sample()
    m = crmkit.cohort_retention(log["customer_id"], log["date"])
    ax = crmkit.plot_cohort_retention(m)
    assert ax.get_ylabel() == "cohort (first purchase)"
    assert "1998-06 incomplete" in ax.get_title()
    fig, ax2 = plt.subplots()
    assert crmkit.plot_cohort_retention(m, ax=ax2, annotate=False) is ax2
    plt.close("all")
    with pytest.raises(crmkit.ValidationError):
        crmkit.plot_cohort_retention(m.shares)


# ---- from a store --------------------------------------------------------------------------


def buy(store, customer, amount, at):
    return store.append_event(crmkit.Event(customer=customer, at=at,
                                           payload=crmkit.Purchase(amount=crmkit.Money(amount, "USD"))))


def refund(store, customer, purchase, amount, at):
    store.append_event(crmkit.Event(customer=customer, at=at, payload=crmkit.Refund(
        purchase=purchase.id, amount=crmkit.Money(amount, "USD"))))


def survey(store, customer, at, nps=None, csat=None):
    store.append_event(crmkit.Event(customer=customer, at=at,
                                    payload=crmkit.SurveyResponse(nps=nps, csat=csat)))


@pytest.fixture
def shop(store):
    a, b, c, d = (store.create_customer(person(x, x.upper())).id for x in "abcd")
    buy(store, a, "10.00", "2024-01-05T00:00:00Z")
    buy(store, a, "12.00", "2024-02-05T00:00:00Z")
    bj = buy(store, b, "20.00", "2024-01-07T00:00:00Z")       # fully refunded
    refund(store, b, bj, "5.00", "2024-01-09T00:00:00Z")
    refund(store, b, bj, "15.00", "2024-01-10T00:00:00Z")
    buy(store, b, "8.00", "2024-03-02T00:00:00Z")
    cj = buy(store, c, "30.00", "2024-01-20T00:00:00Z")       # partly refunded: counts
    refund(store, c, cj, "29.99", "2024-01-21T00:00:00Z")
    dj = buy(store, d, "9.00", "2024-02-10T00:00:00Z")        # refunded after March
    refund(store, d, dj, "9.00", "2024-04-10T00:00:00Z")
    survey(store, a, "2024-01-15T00:00:00Z", nps=6)
    survey(store, a, "2024-02-01T00:00:00Z", nps=10, csat=5)
    survey(store, b, "2024-02-02T00:00:00Z", nps=3)
    survey(store, c, "2024-02-03T00:00:00Z", csat=4)
    survey(store, d, "2024-03-04T00:00:00Z", nps=8, csat=2)
    store.append_event(crmkit.Event(customer=a, at="2024-03-03T00:00:00Z",
                                    payload=crmkit.Referral(referred=d)))
    return store


END_MARCH = "2024-03-31T23:59:59.999999Z"


def test_store_cohorts_net_of_fully_refunded_purchases(shop):
    m = shop.cohort_retention("month", as_of=END_MARCH)
    assert list(m.sizes.items()) == [("2024-01", 2), ("2024-02", 1), ("2024-03", 1)]
    assert m.counts.loc["2024-01"].tolist() == [2, 1, 0]
    assert not m.incomplete
    # By the end of April D's only purchase is refunded in full: February is empty but shown.
    later = shop.cohort_retention("month", as_of="2024-04-30T23:59:59.999999Z")
    assert list(later.sizes.items()) == [("2024-01", 2), ("2024-02", 0), ("2024-03", 1)]
    assert later.shares.loc["2024-02"].isna().all()
    # Default as_of: the latest event (D's refund on April 10 is not an as-of event; D's survey
    # on March 4 is the latest of purchases, surveys and referrals).
    assert shop.cohort_retention().as_of == pd.Timestamp("2024-03-04", tz="UTC")
    assert shop.cohort_retention().incomplete


def test_store_retention_and_churn(shop):
    r = shop.retention("month", end=END_MARCH)
    assert list(r.index) == ["2024-01", "2024-02", "2024-03"]
    assert r["acquired"].tolist() == [2, 1, 1]
    assert r["active_start"].tolist() == [0, 2, 3]
    assert r["active_end"].tolist() == [2, 3, 4]
    assert r["retained"].tolist() == [0, 2, 3]
    assert r["churned"].tolist() == [0, 0, 0]
    assert math.isnan(r["retention_rate"].iloc[0])
    assert r["retention_rate"].tolist()[1:] == [1.0, 1.0]
    assert r["churn_rate"].tolist()[1:] == [0.0, 0.0]
    assert r.attrs["last_period_incomplete"] is False
    # 30-day activity: A (Feb 5) is not active at the end of March
    s = shop.retention("month", start="2024-03-01", end=END_MARCH, active_days=30)
    assert list(s.index) == ["2024-03"]
    assert s["active_start"].tolist() == [2]      # A (Feb 5), D (Feb 10) at Feb 29
    assert s["active_end"].tolist() == [1]        # B (Mar 2)
    assert s["acquired"].tolist() == [1]
    assert s["churned"].tolist() == [2]
    assert s["retention_rate"].tolist() == [0.0]
    assert s["churn_rate"].tolist() == [1.0]


def test_store_repeat_purchase_rate(shop):
    assert shop.repeat_purchase_rate(END_MARCH) == {
        "customers": 4, "repeat_customers": 1, "rate": 0.25}
    t = shop.repeat_purchase_rate(END_MARCH, period="month")
    assert t["buyers"].tolist() == [2, 2, 1]
    assert t["customers"].tolist() == [2, 3, 4]
    assert t["repeat_customers"].tolist() == [0, 1, 1]


def test_store_nps_csat_word_of_mouth(shop):
    n = shop.nps(END_MARCH)
    assert n == {"responses": 4, "promoters": 1, "passives": 1, "detractors": 2, "score": -25.0}
    latest = shop.nps(END_MARCH, latest_only=True)
    assert latest["responses"] == 3
    assert latest["score"] == 0.0
    monthly = shop.nps(END_MARCH, period="month")
    assert monthly["responses"].tolist() == [1, 2, 1]
    assert monthly["score"].tolist() == [-100.0, 0.0, 0.0]
    c = shop.csat(END_MARCH)
    assert c["responses"] == 3 and c["satisfied"] == 2
    assert c["score"] == pytest.approx(2 / 3)
    w = shop.word_of_mouth(END_MARCH)
    # latest answers: A NPS 10 (satisfied), B NPS 3 (dissatisfied), C CSAT 4 (satisfied),
    # D NPS 8 (neutral: the NPS answer decides over its CSAT 2)
    assert w == {"satisfied": 2, "neutral": 1, "dissatisfied": 1, "positive_reach": 6.0,
                 "negative_reach": 10.0, "net_reach": -4.0}
    w2 = shop.word_of_mouth(END_MARCH, tell_satisfied=4, tell_dissatisfied=2)
    assert w2["net_reach"] == 6.0


def test_store_referral_rate_and_customer_table(shop):
    assert shop.referral_rate(END_MARCH) == {
        "customers": 4, "referrers": 1, "referrers_without_purchase": 0, "referrals": 1,
        "rate": 0.25}
    t = shop.referral_rate(END_MARCH, period="month")
    assert t["rate"].tolist() == [0.0, 0.0, 0.25]
    cl = shop.customer_loyalty(END_MARCH)
    assert cl.index.name == "customer_id"
    assert cl["external_id"].tolist() == ["a", "b", "c", "d"]
    assert cl["cohort"].tolist() == ["2024-01", "2024-03", "2024-01", "2024-02"]
    assert cl["purchases"].tolist() == [2, 1, 1, 1]
    assert cl["satisfaction"].tolist() == ["satisfied", "dissatisfied", "satisfied", "neutral"]
    assert cl["referrals"].tolist() == [1, 0, 0, 0]


def test_store_cdnow_matrix_equals_pure(tmp_path):
    log = crmkit.datasets.load_cdnow_sample()
    with crmkit.Store(tmp_path / "cdnow.db", "USD", synchronous="off") as s:
        rows = pd.DataFrame({"customer": "cdnow-" + log["customer_id"].astype(str),
                             "at": log["date"], "amount": log["dollar_value"]})
        s.import_purchases(rows)
        m = s.cohort_retention("month", as_of=END_JUNE_1998)
    p = crmkit.cohort_retention(log["customer_id"], log["date"], as_of=END_JUNE_1998)
    pd.testing.assert_frame_equal(m.counts, p.counts)
    assert m.customers == 2357


def test_metrics_over_columns():
    lm = crmkit.loyalty_metrics
    customer = [1, 4, 2, 3, 1, 4]
    time = pd.to_datetime(["2024-01-10 12:00", "2023-01-15 12:00", "2024-01-20 12:00",
                           "2024-02-15 12:00", "2024-03-05 12:00", "2024-03-20 12:00"])
    r = lm.retention(customer, time, "month", "2024-03-31T23:59:59.999999Z", start="2024-01-01")
    assert r["active_start"].tolist() == [1, 2, 3]
    assert r["reactivated"].tolist() == [0, 0, 1]
    assert r["retention_rate"].tolist()[0] == 0.0
    assert lm.repeat_purchase_rate(customer, time) == {
        "customers": 4, "repeat_customers": 2, "rate": 0.5}
    answers = pd.Series([10, None, 6, 9])
    when = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"])
    assert lm.nps([1, 2, 3, 4], when, answers)["score"] == pytest.approx(100 / 3)
    assert lm.csat([1, 2, 3, 4], when, [5, 4, None, 1])["score"] == pytest.approx(2 / 3)
    with pytest.raises(crmkit.ValidationError, match=r"score\[0\]: an NPS answer"):
        lm.nps([1], when[:1], [11])


def test_referral_rate_and_word_of_mouth_over_columns():
    lm = crmkit.loyalty_metrics
    buyers = ["a", "b", "c", "d"]
    bought = pd.to_datetime(["2024-01-05", "2024-01-07", "2024-02-01", "2024-03-01"])
    r = lm.referral_rate(buyers, bought, ["a", "a", "x"],
                         pd.to_datetime(["2024-02-01", "2024-03-01", "2024-03-02"]),
                         as_of="2024-03-31T23:59:59.999999Z")
    assert r == {"customers": 4, "referrers": 1, "referrers_without_purchase": 1,
                 "referrals": 3, "rate": 0.25}
    monthly = lm.referral_rate(buyers, bought, ["a"], pd.to_datetime(["2024-02-01"]),
                               as_of="2024-03-31T23:59:59.999999Z", period="month")
    assert monthly["customers"].tolist() == [2, 3, 4]
    assert monthly["rate"].tolist() == [0.0, 1 / 3, 0.0]
    when = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"])
    w = lm.word_of_mouth([1, 2, 3, 3], when, [10, None, 8, 2], [None, 1, None, 5])
    # 1: NPS 10 satisfied; 2: CSAT 1 dissatisfied; 3: latest NPS 2 dissatisfied (its CSAT 5 unread)
    assert w["satisfied"] == 1 and w["dissatisfied"] == 2 and w["net_reach"] == 3 - 20
