"""Customer facts as of a date (crmkit/analytics/facts.hpp) from Python: Store.facts,
Store.customer_facts, crmkit.facts_from_columns, declared windows and model facts, with exact
values worked out by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import crmkit
from crmkit import (Channel, Consent, ContactPurpose, Event, FieldDef, FieldType, Interaction,
                    InteractionKind, Money, Purchase, Refund, SurveyResponse)

from conftest import person

AS_OF = "2030-06-30T12:00:00Z"


def usd(text: str) -> Money:
    return Money(text, "USD")


@pytest.fixture
def ledger(store):
    """a: purchases 100.00 (30.00 refunded before as_of, 20.00 after) and 40.00, a service visit,
    an NPS 8 survey, email consent, tag vip, tier gold; b: one purchase fully refunded."""
    store.declare_field(FieldDef(name="tier", type=FieldType.text))
    store.declare_field(FieldDef(name="since", type=FieldType.date))
    a = store.create_customer(person("a", "Ann", tags=["vip"],
                                     custom={"tier": "gold", "since": dt.date(2029, 12, 31)}))
    b = store.create_customer(person("b", "Bob"))
    store.set_consent(a.id, Consent(channel=Channel.email, purpose="marketing",
                                    at="2030-01-01T00:00:00Z", source="web-form"))
    p1 = store.append_event(Event(customer=a.id, at="2030-03-01T00:00:00Z",
                                  payload=Purchase(amount=usd("100.00"))))
    store.append_event(Event(customer=a.id, at="2030-04-01T00:00:00Z",
                             payload=Refund(purchase=p1.id, amount=usd("30.00"))))
    store.append_event(Event(customer=a.id, at="2030-08-01T00:00:00Z",
                             payload=Refund(purchase=p1.id, amount=usd("20.00"))))
    store.append_event(Event(customer=a.id, at="2030-06-01T00:00:00Z",
                             payload=Purchase(amount=usd("40.00"))))
    store.append_event(Event(customer=a.id, at="2030-06-20T00:00:00Z",
                             payload=Interaction(kind=InteractionKind.visit,
                                                 purpose=ContactPurpose.service)))
    store.append_event(Event(customer=a.id, at="2030-05-01T00:00:00Z",
                             payload=SurveyResponse(nps=8)))
    p2 = store.append_event(Event(customer=b.id, at="2030-05-01T00:00:00Z",
                                  payload=Purchase(amount=usd("15.00"))))
    store.append_event(Event(customer=b.id, at="2030-05-02T00:00:00Z",
                             payload=Refund(purchase=p2.id, amount=usd("15.00"))))
    return store, a, b


def test_store_facts_frame(ledger):
    store, a, b = ledger
    frame = store.facts(AS_OF)
    assert frame.index.name == "customer_id"
    assert frame.index.tolist() == [a.id, b.id]
    assert frame.columns[0] == "external_id"
    assert frame["external_id"].tolist() == ["a", "b"]
    assert len(frame.columns) == 1 + 57 + 2  # external_id, the standard facts, two fields
    # a: 100 - 30 (the later 20.00 refund is after as_of) + 40; b: fully refunded.
    assert frame.loc[a.id, "net_revenue"] == 110.0
    assert frame["purchase_count"].tolist() == [2, 0]
    assert str(frame["purchase_count"].dtype) == "Int64"
    assert frame.loc[a.id, "days_since_first_purchase"] == 121  # 2030-03-01 -> 06-30 12:00
    assert frame.loc[a.id, "days_since_last_purchase"] == 29
    assert frame.loc[b.id, "days_since_last_purchase"] is pd.NA
    assert np.isnan(frame.loc[b.id, "average_order_value"])
    assert frame.loc[a.id, "average_order_value"] == 55.0
    assert frame.loc[a.id, "days_since_last_service_contact"] == 10
    assert frame.loc[a.id, "interactions_365d.visit"] == 1
    assert frame.loc[a.id, "last_nps"] == 8
    assert frame.loc[b.id, "last_nps"] is pd.NA
    assert str(frame["consent_any"].dtype) == "boolean"
    assert frame["consent.email"].tolist() == [True, False]
    assert frame.loc[a.id, "tags"] == ["vip"]
    assert frame.loc[b.id, "tags"] == []
    assert frame.loc[a.id, "field.tier"] == "gold"
    assert pd.isna(frame.loc[b.id, "field.tier"])
    assert str(frame["field.since"].dtype) == "datetime64[ns]"
    assert frame.loc[a.id, "field.since"] == pd.Timestamp("2029-12-31")
    assert pd.isna(frame.loc[b.id, "field.since"])
    assert frame.loc[a.id, "rfm.segment"] == "Potential Loyalist"  # the only buyer: R = FM = 3
    assert frame.loc[b.id, "rfm.r"] is pd.NA
    assert np.isnan(frame.loc[a.id, "p_alive"])  # no model handed in


def test_store_column_reads(ledger):
    store, a, b = ledger
    refunds = store.refund_columns()
    assert len(refunds) == 3
    assert refunds.purchase_id.tolist() == [1, 1, 7]  # events: p1 = 1, p2 = 7
    assert refunds.amount_minor.tolist() == [3000, 2000, 1500]
    assert refunds.customer_id.tolist() == [a.id, a.id, b.id]
    interactions = store.interaction_columns()
    assert interactions.kind.tolist() == [int(InteractionKind.visit)]
    assert interactions.purpose.tolist() == [int(ContactPurpose.service)]
    assert interactions.commitment_obtained.tolist() == [False]
    surveys = store.survey_columns()
    assert (surveys.nps.tolist(), surveys.csat.tolist()) == ([8], [-1])
    assert len(store.participation_columns()) == 0
    with pytest.raises(ValueError):
        refunds.amount_minor[0] = 1  # read-only views


def test_customer_facts_equal_the_row(ledger):
    store, a, b = ledger
    frame = store.facts(AS_OF, facts=["purchase_count", "net_revenue", "days_since_last_purchase",
                                      "tags", "field.since", "rfm.r"])
    assert frame.columns.tolist() == ["external_id", "purchase_count", "net_revenue",
                                      "days_since_last_purchase", "tags", "field.since", "rfm.r"]
    row = store.customer_facts("a", AS_OF, facts=list(frame.columns[1:]))
    assert row == {"customer_id": a.id, "external_id": "a", "purchase_count": 2,
                   "net_revenue": 110.0, "days_since_last_purchase": 29, "tags": ["vip"],
                   "field.since": dt.date(2029, 12, 31), "rfm.r": 3}
    assert store.customer_facts(b.id, AS_OF, facts=["days_since_last_purchase"]) == {
        "customer_id": b.id, "external_id": "b", "days_since_last_purchase": None}
    with pytest.raises(crmkit.NotFoundError):
        store.customer_facts(999, AS_OF)
    with pytest.raises(crmkit.ValidationError, match="does not exist as of"):
        store.customer_facts(a.id, "2001-01-01")


def test_declared_windows_and_their_errors(ledger):
    store, a, b = ledger
    frame = store.facts(AS_OF, facts=["visits_30d", "spend_120d"], windows=[
        {"name": "visits_30d", "event": "interaction", "kind": "visit", "window_days": 30},
        '{"name": "spend_120d", "event": "purchase", "window_days": 120, "aggregate": "sum"}',
    ])
    assert frame["visits_30d"].tolist() == [1, 0]
    # 2030-03-01 is 121 days before as_of: only the 40.00 purchase is inside 120 days.
    assert frame["spend_120d"].tolist() == [40.0, 0.0]
    assert crmkit.window_fact({"name": "m", "event": "interaction", "window_days": 7}) == {
        "name": "m", "event": "interaction", "window_days": 7, "aggregate": "count"}
    with pytest.raises(crmkit.ValidationError) as info:
        store.facts(AS_OF, windows=[{"name": "x", "event": "purchase", "window_days": 30},
                                    {"name": "y", "event": "referral", "window_days": 0}])
    assert str(info.value) == "windows[1].window_days: must be an integer in 1..36500, got 0"
    with pytest.raises(crmkit.ValidationError) as info:
        crmkit.window_fact({"name": "x", "event": "survey_response", "window_days": 9,
                            "aggregate": "mean"})
    assert str(info.value) == ("window.aggregate: mean needs event purchase or refund, "
                               "not survey_response")
    with pytest.raises(crmkit.ValidationError) as info:
        store.facts(AS_OF, facts=["purchase_count", "nope"])
    assert str(info.value) == "facts[1]: unknown fact 'nope'"


def test_standard_facts_catalogue():
    cat = crmkit.standard_facts(machines=["customer_lifecycle"])
    assert cat.columns.tolist() == ["name", "type", "description"]
    assert len(cat) == 57 + 2  # the standard facts and the machine's two
    assert cat["name"].iloc[0] == "purchase_count"
    assert cat.set_index("name").loc["tags", "type"] == "list of text"
    assert cat.set_index("name").loc["consent.email.purposes", "type"] == "list of text"
    assert cat.set_index("name").loc["days_in_stage.customer_lifecycle", "type"] == "integer"


def test_facts_from_columns():
    customers = pd.DataFrame({"customer_id": [10, 20],
                              "created_at": pd.to_datetime(["2024-01-01", "2024-07-01"])})
    purchases = pd.DataFrame({
        "event_id": [1, 2, 3],
        "customer_id": [10, 10, 20],
        "at": pd.to_datetime(["2024-04-01 12:00:00", "2024-04-01 12:00:01",
                              "2024-06-01 00:00:00"]),
        "amount_minor": [10000, 5000, 700],
    })
    refunds = pd.DataFrame({"purchase_id": [2, 2], "amount_minor": [2000, 1000],
                            "at": pd.to_datetime(["2024-05-01", "2024-07-15"])})
    interactions = pd.DataFrame({"customer_id": [10], "at": pd.to_datetime(["2024-06-20"]),
                                 "kind": ["meeting"], "purpose": ["deal"],
                                 "commitment_obtained": [True]})
    surveys = pd.DataFrame({"customer_id": [10, 10], "at": pd.to_datetime(["2024-05-01",
                                                                            "2024-06-01"]),
                            "nps": [9, np.nan], "csat": [np.nan, 2]})
    frame = crmkit.facts_from_columns(
        customers, "2024-06-30T12:00:00Z", purchases=purchases, refunds=refunds,
        interactions=interactions, surveys=surveys,
        facts=["purchase_count", "purchases_90d", "net_revenue", "days_since_created",
               "commitments_obtained_365d", "last_nps", "last_csat"])
    # 20 was created after as_of but bought before it: a row, without days_since_created.
    assert frame.index.tolist() == [10, 20]
    assert "external_id" not in frame.columns
    assert frame["purchase_count"].tolist() == [2, 1]
    assert frame["purchases_90d"].tolist() == [1, 1]  # exactly 90 days before is outside
    assert frame["net_revenue"].tolist() == [130.0, 7.0]  # the 10.00 refund after as_of kept
    assert frame.loc[10, "days_since_created"] == 181
    assert frame.loc[20, "days_since_created"] is pd.NA
    assert frame["commitments_obtained_365d"].tolist() == [1, 0]
    assert frame.loc[10, "last_nps"] == 9 and frame.loc[10, "last_csat"] == 2
    with pytest.raises(crmkit.ValidationError) as info:
        crmkit.facts_from_columns(customers, "2024-06-30", purchases=purchases.assign(
            customer_id=[10, 10, 99]))
    assert str(info.value) == "purchase_customer_id[2]: no customer 99"


def test_p_alive_from_a_fitted_mbg_nbd_equals_its_prediction(tmp_path):
    sample = crmkit.datasets.load_cdnow_sample()
    end = "1997-09-30"
    with crmkit.Store(tmp_path / "cdnow.db", "USD", synchronous="off") as store:
        store.import_purchases(sample.assign(customer=sample["customer_id"].astype(str)),
                               customer="customer", at="date", amount="dollar_value")
        summary = crmkit.utils.summary_from_store(store, freq="D", freq_multiplier=7,
                                                  observation_period_end=end)
        mbg = crmkit.ModifiedBetaGeoFitter().fit(summary["frequency"], summary["recency"],
                                                 summary["T"])
        frame = store.facts(end, facts=["p_alive", "expected_purchases_365d"], model=mbg,
                            unit="day", multiplier=7)
        alive = mbg.conditional_probability_alive(summary["frequency"], summary["recency"],
                                                  summary["T"])
        expected = mbg.conditional_expected_number_of_purchases_up_to_time(
            365 / 7, summary["frequency"], summary["recency"], summary["T"])
        assert frame.index.tolist() == summary.index.tolist()
        assert np.array_equal(frame["p_alive"].to_numpy(), np.asarray(alive))
        assert np.array_equal(frame["expected_purchases_365d"].to_numpy(), np.asarray(expected))
        one_time = (summary["frequency"] == 0).to_numpy()
        assert (frame["p_alive"].to_numpy()[one_time] < 1).all()  # MBG/NBD, not BG/NBD
        row = store.customer_facts(summary.index[0], end, facts=["p_alive"], model=mbg,
                                   multiplier=7)
        assert row["p_alive"] == frame["p_alive"].iloc[0]
        with pytest.raises(crmkit.ValidationError, match="model: the fitter is not fitted"):
            store.facts(end, model=crmkit.ModifiedBetaGeoFitter())


def test_facts_from_columns_refuses_silent_coercions():
    # Review fixes: int8 / int64 / uint8 casts used to change the data without an error.
    customers = pd.DataFrame({"customer_id": [10]})
    at = pd.to_datetime(["2024-05-01", "2024-06-01"])

    def last_nps(nps, csat=(np.nan, np.nan)):
        surveys = pd.DataFrame({"customer_id": [10, 10], "at": at, "nps": list(nps),
                                "csat": list(csat)})
        frame = crmkit.facts_from_columns(customers, "2024-06-30", surveys=surveys,
                                          facts=["last_nps", "last_csat"])
        return frame.loc[10, "last_nps"], frame.loc[10, "last_csat"]

    assert last_nps([3, 8.0], [np.nan, 5]) == (8, 5)
    # 255 wrapped to -1 ("not given": last_nps was 3), 300 to 44, 7.9 was truncated to 7.
    for nps, shown in ((255, "255.0"), (300, "300.0"), (7.9, "7.9"), (-2, "-2.0")):
        with pytest.raises(crmkit.ValidationError,
                           match=rf"^surveys\.nps\[1\]: {shown} is not a whole number in 0\.\.10$"):
            last_nps([3, nps])
    with pytest.raises(crmkit.ValidationError, match=r"^surveys\.csat\[0\]: 0\.0 is not .* 1\.\.5$"):
        last_nps([3, 8], [0, np.nan])

    def revenue(amount_minor, event_id=(1, 2)):
        purchases = pd.DataFrame({"customer_id": [10, 10], "at": at,
                                  "amount_minor": amount_minor, "event_id": list(event_id)})
        frame = crmkit.facts_from_columns(customers, "2024-06-30", purchases=purchases,
                                          facts=["net_revenue"])
        return frame.loc[10, "net_revenue"]

    # A float column of whole minor units is read exactly; a fraction or NaN is refused (it was
    # truncated, and NaN became -9223372036854775808).
    assert revenue([1999.0, 1.0]) == 20.0
    with pytest.raises(crmkit.ValidationError,
                       match=r"^purchases\.amount_minor\[1\]: 0\.5 is not a whole number"):
        revenue([1999.0, 0.5])
    with pytest.raises(crmkit.ValidationError, match=r"^purchases\.amount_minor\[0\]: nan"):
        revenue([np.nan, 100.0])
    with pytest.raises(crmkit.ValidationError, match=r"^purchases\.event_id\[1\]"):
        revenue([100, 100], event_id=(1.0, 2.5))
    # An interaction kind code beyond uint8 wrapped to a valid code (259 -> 3).
    interactions = pd.DataFrame({"customer_id": [10], "at": at[:1], "kind": [259],
                                 "purpose": ["deal"]})
    with pytest.raises(crmkit.ValidationError,
                       match=r"^interactions\.kind\[0\]: unknown InteractionKind code 259$"):
        crmkit.facts_from_columns(customers, "2024-06-30", interactions=interactions,
                                  facts=["interactions_365d"])
