"""Follow-up due lists and campaigns from Python (crmkit/analytics/engage.hpp via crmkit.engage)."""

from __future__ import annotations

import pandas as pd
import pytest

import crmkit
from crmkit import Channel, Consent, ContactPurpose, Event, Interaction, InteractionKind, Money
from crmkit import Purchase

from conftest import person

AS_OF = "2030-01-01T00:00:00Z"


def consent(channel, purpose, at="2026-01-01T00:00:00Z"):
    return Consent(channel=channel, purpose=purpose, at=at, source="test")


@pytest.fixture
def crm(store):
    """a: service e-mail and sms, prefers sms; b: marketing e-mail only; c: service phone with a
    limit of 1 contact per 30 days and a call on 2029-12-20."""
    a = store.create_customer(person("a", "Ann", preferred_channel=Channel.sms,
                                     consents=[consent(Channel.email, "service"),
                                               consent(Channel.sms, "service"),
                                               consent(Channel.sms, "marketing")]))
    b = store.create_customer(person("b", "Bob", consents=[consent(Channel.email, "marketing")]))
    c = store.create_customer(person("c", "Cy", max_contacts_per_30_days=1,
                                     consents=[consent(Channel.phone, "service")]))
    store.append_event(Event(customer=c.id, at="2028-12-20T00:00:00Z",
                             payload=Interaction(kind=InteractionKind.call,
                                                 purpose=ContactPurpose.service)))
    store.append_event(Event(customer=c.id, at="2029-12-20T00:00:00Z",
                             payload=Interaction(kind=InteractionKind.call,
                                                 purpose=ContactPurpose.service)))
    store.append_event(Event(customer=b.id, at="2029-06-01T00:00:00Z",
                             payload=Purchase(amount=Money("10.00", "USD"))))
    for day in ("2029-01-01", "2029-02-01"):
        store.append_event(Event(customer=a.id, at=day + "T00:00:00Z",
                                 payload=Purchase(amount=Money("5.00", "USD"))))
    return store, a, b, c


def test_default_due_list_frames(crm):
    store, a, b, c = crm
    d = store.due_list(AS_OF)
    assert isinstance(d, crmkit.DueList)
    assert len(d) == 2
    due = d.due
    assert list(due.columns) == ["customer_id", "external_id", "last_contact", "due_at",
                                 "days_overdue", "status", "rule", "purpose", "channel", "action",
                                 "contacts_30d", "next_contact_at"]
    assert due["external_id"].tolist() == ["a"]
    row = due.iloc[0]
    assert row["channel"] == "sms"
    assert row["status"] == "overdue"
    assert row["rule"] == "default"
    assert row["purpose"] == "service"
    assert pd.isna(row["last_contact"])
    assert row["action"] == "screen leads: quality over quantity"
    assert d.unreachable["external_id"].tolist() == ["b"]
    assert d.unreachable["channel"].tolist() == [None]
    # c was called 12 days ago: not due for a year.
    assert d.at_limit.empty


def test_policy_rules_horizon_and_contact_limit(crm):
    store, a, b, c = crm
    policy = crmkit.FollowUpPolicy.from_json({
        "rules": [{"name": "frequent", "when": {">=": [{"var": "interactions_365d"}, 1]},
                   "every_days": 10, "action": "call back"}],
        "default_every_days": 365,
    })
    assert policy.rule_names == ["frequent"]
    assert crmkit.FollowUpPolicy.from_json(policy.to_json()) == policy
    d = store.due_list(AS_OF, policy=policy)
    # c: last call 2029-12-20 + 10 days = 2029-12-30: overdue, but 1 contact in 30 days = limit.
    assert d.at_limit["external_id"].tolist() == ["c"]
    lim = d.at_limit.iloc[0]
    assert lim["rule"] == "frequent"
    assert lim["action"] == "call back"
    assert lim["days_overdue"] == 2
    assert lim["contacts_30d"] == 1
    assert lim["next_contact_at"] == pd.Timestamp("2030-01-19T00:00:00Z")
    assert lim["channel"] is None
    # Horizon: as of 2029-12-25 c is not yet due (due 2029-12-30) unless the horizon reaches it.
    assert "c" not in store.due_list("2029-12-25", policy=policy).at_limit["external_id"].tolist()
    h = store.due_list("2029-12-25", policy=policy, horizon_days=5)
    assert h.at_limit["status"].tolist() == ["due"]


def test_recording_a_contact_takes_the_customer_off(crm):
    store, a, b, c = crm
    store.append_event(Event(customer=a.id, at="2029-12-31T00:00:00Z",
                             payload=Interaction(kind=InteractionKind.call,
                                                 purpose=ContactPurpose.care)))
    assert store.due_list(AS_OF).due.empty


def test_policy_errors_name_the_path(crm):
    store = crm[0]
    with pytest.raises(crmkit.ValidationError, match=r"policy\.rules\[0\]\.every_days"):
        crmkit.FollowUpPolicy.from_json({"rules": [{"name": "x", "every_days": 0}]})
    with pytest.raises(crmkit.ValidationError, match=r"policy\.rules\[0\]\.when"):
        store.due_list(AS_OF, policy={"rules": [{"name": "x", "every_days": 5,
                                                  "when": {"var": "nope"}}]})


def test_the_source_text_campaign_case():
    plan = crmkit.campaign_plan(10_000, Money("0.08", "CNY"), 0.20)
    assert plan.cost == Money("800.00", "CNY")
    assert plan.expected_responses == 2000.0
    assert plan.wasted_spend == Money("640.00", "CNY")


def test_campaign_audience_touches_responses_report(crm):
    store, a, b, c = crm
    aud = store.campaign_audience(AS_OF)
    assert isinstance(aud, crmkit.Audience)
    assert aud.members["external_id"].tolist() == ["a", "b"]
    assert aud.members["channel"].tolist() == ["sms", "email"]
    assert aud.members["customer_class"].tolist() == ["repeat", "first_time"]
    assert aud.members["response_probability"].tolist() == [0.5, 0.15]
    assert aud.unreachable["external_id"].tolist() == ["c"]

    buyers2 = store.campaign_audience(AS_OF, rule={">=": [{"var": "purchase_count"}, 2]})
    assert buyers2.members["external_id"].tolist() == ["a"]
    listed = store.campaign_audience(AS_OF, customers=["c", "b"])
    assert listed.members["external_id"].tolist() == ["b"]

    cmp = crmkit.compare_plans(crmkit.campaign_plan(buyers2, Money("0.10", "USD")),
                               crmkit.campaign_plan(aud, Money("0.10", "USD")))
    assert cmp.cost_saved == Money("0.10", "USD")
    assert cmp.responses_lost == pytest.approx(0.15)
    # blanket: responders 0.65 x 10 cents = 6.5 -> 6 (half-even): waste 0.14; targeted 0.05.
    assert cmp.blanket.wasted_spend == Money("0.14", "USD")
    assert cmp.targeted.wasted_spend == Money("0.05", "USD")

    before = store.count_events()
    with pytest.raises(crmkit.ConsentRequiredError, match=r"customer .* \('c'\)"):
        store.record_campaign_touches("winter", [("a", "sms"), ("c", "sms")], AS_OF)
    assert store.count_events() == before

    ids = store.record_campaign_touches("winter", aud, AS_OF)
    assert len(ids) == 2
    assert store.get_event(ids[0]).source == "campaign:winter"
    store.record_campaign_responses("winter", ["a"], "2030-01-02T00:00:00Z")
    report = store.campaign_report("winter", Money("0.08", "USD"))
    assert report.index.tolist() == ["prospect", "first_time", "repeat", "all"]
    assert report.loc["all", "touches"] == 2
    assert report.loc["all", "responses"] == 1
    assert report.loc["all", "response_rate"] == 0.5
    assert report.loc["all", "cost"] == Money("0.16", "USD")
    assert report.loc["all", "cost_per_response"] == Money("0.16", "USD")
    assert report.loc["first_time", "cost_per_response"] is None
    # Touches count as contacts: a and b are off the due list (b was unreachable for service).
    assert store.due_list(AS_OF).due.empty


def test_due_list_from_columns_matches_the_rules():
    customers = pd.DataFrame({"customer_id": [1, 2, 3],
                              "created_at": pd.to_datetime(["2020-01-01"] * 3, utc=True),
                              "preferred_channel": ["sms", None, None],
                              "max_contacts_per_30_days": [-1, -1, 0]})
    consents = pd.DataFrame({"customer_id": [1, 1, 3, 3],
                             "channel": ["sms", "sms", "email", "phone"],
                             "purpose": ["service"] * 4,
                             "granted": [True, False, True, True],
                             "at": pd.to_datetime(["2020-01-01", "2030-06-01", "2020-01-01",
                                                   "2020-01-01"], utc=True)})
    interactions = pd.DataFrame({"customer_id": [2], "at": pd.to_datetime(["2029-06-01"], utc=True)})
    d = crmkit.due_list_from_columns(customers, consents, interactions, AS_OF)
    # 1: sms granted (the withdrawal comes after as_of); 2: contacted 7 months ago, not due;
    # 3: reachable but its limit is 0.
    assert d.due["customer_id"].tolist() == [1]
    assert d.due["channel"].tolist() == ["sms"]
    assert d.unreachable.empty
    assert d.at_limit["customer_id"].tolist() == [3]
    assert d.at_limit["next_contact_at"].isna().tolist() == [True]
    with pytest.raises(crmkit.ValidationError, match=r"reads facts"):
        crmkit.due_list_from_columns(customers, consents, interactions, AS_OF,
                                     policy={"rules": [{"name": "x", "every_days": 5,
                                                        "when": {"var": "gold"}}]})


def test_campaign_audience_keeps_customers_at_their_contact_limit_apart(store):
    def call(customer, at):
        store.append_event(Event(customer=customer.id, at=at,
                                 payload=Interaction(kind=InteractionKind.call,
                                                     purpose=ContactPurpose.service)))

    # d: limit 2, calls on Dec 10 and Dec 20 (at its limit until Jan 9); e: limit 2, one call;
    # f: limit 0 (never); g: no limit.
    d = store.create_customer(person("d", "Dee", max_contacts_per_30_days=2,
                                     consents=[consent(Channel.sms, "marketing")]))
    e = store.create_customer(person("e", "Eve", max_contacts_per_30_days=2,
                                     consents=[consent(Channel.sms, "marketing")]))
    f = store.create_customer(person("f", "Fay", max_contacts_per_30_days=0,
                                     consents=[consent(Channel.sms, "marketing")]))
    g = store.create_customer(person("g", "Gus", consents=[consent(Channel.sms, "marketing")]))
    call(d, "2029-12-10T00:00:00Z")
    call(d, "2029-12-20T00:00:00Z")
    call(e, "2029-12-20T00:00:00Z")
    for day in ("2029-12-05", "2029-12-15", "2029-12-25"):
        call(g, day + "T00:00:00Z")

    aud = store.campaign_audience(AS_OF)
    assert aud.members["external_id"].tolist() == ["e", "g"]
    assert aud.unreachable.empty
    assert list(aud.at_limit.columns) == ["customer_id", "external_id", "contacts_30d",
                                          "max_contacts_per_30_days", "next_contact_at"]
    assert aud.at_limit["customer_id"].tolist() == [d.id, f.id]
    assert aud.at_limit["external_id"].tolist() == ["d", "f"]
    assert aud.at_limit["contacts_30d"].tolist() == [2, 0]
    assert aud.at_limit["max_contacts_per_30_days"].tolist() == [2, 0]
    assert aud.at_limit["next_contact_at"].iloc[0] == pd.Timestamp("2030-01-09T00:00:00Z")
    assert pd.isna(aud.at_limit["next_contact_at"].iloc[1])
    assert "at_limit=2" in repr(aud)
    assert len(aud) == 2
    assert crmkit.campaign_plan(aud, Money("0.10", "USD")).contacts == 2

    # Touching the audience touches members only; touching d or f is refused, nothing written.
    assert len(store.record_campaign_touches("winter", aud, AS_OF)) == 2
    before = store.count_events()
    with pytest.raises(crmkit.ConflictError,
                       match=r"^touches\[1\]: customer \d+ \('d'\) is at its contact limit: "
                             r"max_contacts_per_30_days 2, contacts in the 30 days up to "
                             r"2030-01-01T00:00:00Z: 2$"):
        store.record_campaign_touches("spring", [("g", "sms"), ("d", "sms")], AS_OF)
    with pytest.raises(crmkit.ConflictError, match=r"\('f'\) is at its contact limit"):
        store.record_campaign_touches("spring", [("f", "sms")], "2031-01-01")
    # e's winter touch counts: it is at 2 of 2 now for another campaign.
    with pytest.raises(crmkit.ConflictError, match=r"\('e'\)"):
        store.record_campaign_touches("spring", [("e", "sms")], AS_OF)
    assert store.count_events() == before
    # d is free again at its next_contact_at.
    assert len(store.record_campaign_touches("spring", [("d", "sms")], "2030-01-09")) == 1
    assert store.count_events() == before + 1
