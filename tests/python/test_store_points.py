"""The stored points ledger from Python (docs/points-store.md): programmes, earn_points over real
purchase / refund / referral / survey events, redemption (an overdraw refused, the export
unchanged), debt, balances and tiers as of several dates as DataFrames, the facts, erasure,
export/import and a tampered import refused."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import crmkit
from crmkit import Event, Purchase, Refund, Referral, SurveyResponse

from conftest import person, reseal

CLUB = {
    "name": "club",
    "currency": "USD",
    "rules": [
        {"name": "spend", "kind": "spend", "points_per_unit": "1"},
        {"name": "referral", "kind": "referral", "points": 50},
        {"name": "survey", "kind": "survey", "points": 20},
    ],
    "tiers": {"tiers": [{"name": "basic", "threshold": 0}, {"name": "silver", "threshold": 200}],
              "basis": "active_points", "downgrade": "automatic"},
}


def usd(text: str) -> crmkit.Money:
    return crmkit.Money(text, "USD")


@pytest.fixture
def club(store):
    a = store.create_customer(person("A", "Ann"))
    b = store.create_customer(person("B", "Bob"))
    store.define_points_program(CLUB)
    store.append_event(Event(customer=a.id, at="2024-01-10T10:00:00Z",
                             payload=Purchase(amount=usd("120.50"))))
    store.append_event(Event(customer=a.id, at="2024-01-15T10:00:00Z",
                             payload=Referral(referred=b.id)))
    store.append_event(Event(customer=b.id, at="2024-01-20T10:00:00Z",
                             payload=SurveyResponse(nps=9)))
    big = store.append_event(Event(customer=a.id, at="2024-02-01T10:00:00Z",
                                   payload=Purchase(amount=usd("100.00"))))
    return store, a, b, big


def test_earn_is_idempotent_and_entries_are_a_frame(club):
    store, a, b, _ = club
    r = store.earn_points("club")
    assert r["events_read"] == 4
    assert r["entries_added"] == 4
    assert r["points_granted"] == 120 + 50 + 20 + 100
    again = store.earn_points("club")
    assert again["entries_added"] == 0
    e = store.points_entries("club")
    assert list(e["points"]) == [120, 50, 100, 20]
    assert list(e["external_id"]) == ["A", "A", "A", "B"]
    assert list(e["kind"]) == ["earn"] * 4
    assert e["expires_at"].isna().all()
    assert len(store.points_entries("club", "B")) == 1
    assert store.points_programs()[0]["last_event"] == 4


def test_refunds_reverse_exactly_what_was_earned_and_tiers_as_of(club):
    store, a, b, big = club
    store.earn_points("club")
    store.append_event(Event(customer=a.id, at="2024-02-10T10:00:00Z",
                             payload=Refund(purchase=big.id, amount=usd("40.00"))))
    assert store.earn_points("club")["points_reversed"] == 40
    store.append_event(Event(customer=a.id, at="2024-02-20T10:00:00Z",
                             payload=Refund(purchase=big.id, amount=usd("60.00"))))
    assert store.earn_points("club")["points_reversed"] == 60

    feb5 = store.points_balances("club", "2024-02-05T00:00:00Z")
    assert list(feb5["external_id"]) == ["A", "B"]
    assert list(feb5["available"]) == [270, 20]
    assert list(feb5["tier"]) == ["silver", "basic"]
    mar = store.points_balances("club", "2024-03-01T00:00:00Z")
    assert list(mar["available"]) == [170, 20]
    assert list(mar["reversed"]) == [100, 0]
    assert list(mar["tier"]) == ["basic", "basic"]
    counts = store.tier_counts("club", "2024-02-05T00:00:00Z")
    assert counts.to_dict("list") == {"tier": ["basic", "silver"], "customers": [1, 1]}
    h = store.tier_history("club", "2024-03-01T00:00:00Z")
    assert list(h["to"]) == ["basic", "silver", "basic", "basic"]
    assert list(h["external_id"]) == ["A", "A", "A", "B"]
    assert h["at"].iloc[1] == pd.Timestamp("2024-02-01T10:00:00Z")
    lots = store.points_lots("club", "A", "2024-03-01T00:00:00Z")
    assert list(lots["granted"]) == [120, 50, 100]
    assert list(lots["reversed"]) == [0, 0, 100]
    assert list(lots["remaining"]) == [120, 50, 0]
    assert lots.attrs["tier"] == "basic"


def test_overdraw_refused_export_unchanged_then_debt(club, snapshot):
    store, a, b, big = club
    store.earn_points("club")
    before = snapshot(store)
    with pytest.raises(crmkit.ConflictError, match=r"^points: 271 asked, 270 redeemable$"):
        store.redeem_points("club", "A", 271, "2024-03-01T00:00:00Z")
    assert snapshot(store) == before
    red = store.redeem_points("club", a, 200, "2024-03-01T00:00:00Z", "r-1", "voucher")
    assert red["points"] == 200 and red["kind"] == "redeem"
    assert store.redeem_points("club", a, 200, "2024-03-01T00:00:00Z", "r-1")["id"] == red["id"]
    # Refund the whole 100.00 purchase: its lot was partly spent; what is missing becomes debt.
    store.append_event(Event(customer=a.id, at="2024-03-05T10:00:00Z",
                             payload=Refund(purchase=big.id, amount=usd("100.00"))))
    store.earn_points("club")
    acct = store.points_account("club", "A", "2024-03-06T00:00:00Z")
    assert acct["available"] == 0
    assert acct["debt"] == 30
    assert acct["redeemable"] == 0
    with pytest.raises(crmkit.ConflictError):
        store.redeem_points("club", "A", 1, "2024-03-06T00:00:00Z")


def test_adjustment_and_points_facts(club):
    store, a, b, _ = club
    store.earn_points("club")
    store.adjust_points("club", "B", 500, "2024-02-02T00:00:00Z", "goodwill")
    f = store.facts("2024-02-05T00:00:00Z",
                    facts=["points.club.redeemable", "points.club.tier"])
    assert list(f["points.club.redeemable"]) == [270, 520]
    assert list(f["points.club.tier"]) == ["silver", "silver"]
    schema = store.fact_schema()
    assert "points.club.tier" in schema.names
    assert "points.club.redeemable" in schema.names


def test_erasure_and_export_import_round_trip(club, tmp_path: Path):
    store, a, b, _ = club
    store.earn_points("club")
    store.redeem_points("club", "A", 110, "2024-03-01T00:00:00Z", "k", "gift for Ann")
    path = tmp_path / "export.jsonl"
    store.export_jsonl(path)
    text = path.read_text()
    assert '"points_program"' in text and "gift for Ann" in text
    with crmkit.Store(tmp_path / "copy.db", "USD", synchronous="off") as copy:
        copy.import_jsonl(path)
        again = tmp_path / "again.jsonl"
        copy.export_jsonl(again)
        assert again.read_bytes() == path.read_bytes()
        assert copy.earn_points("club")["entries_added"] == 0
    lines = text.splitlines()
    n = next(i for i, line in enumerate(lines) if '"kind":"redeem"' in line)
    lines[n] = lines[n].replace('"points":110', '"points":300')
    bad = tmp_path / "bad.jsonl"
    bad.write_text(reseal("\n".join(lines) + "\n"))  # counts and checksum agree: the replay refuses
    with crmkit.Store(tmp_path / "bad.db", "USD", synchronous="off") as target:
        with pytest.raises(crmkit.CorruptError,
                           match=rf"^import: line {n + 1}: points_entry 5: points: 300 asked, "
                                 r"270 redeemable$"):
            target.import_jsonl(bad)
        assert target.count_customers() == 0
    store.erase_customer(a.id)
    e = store.points_entries("club", a.id)
    assert list(e["reason"]) == ["", "", "", ""]
    assert list(e["points"]) == [120, 50, 100, 110]


def test_program_as_json_text_points_program_and_errors(store):
    info = store.define_points_program(json.dumps(CLUB))
    assert info["name"] == "club"
    assert info["last_event"] == 0
    program = store.points_program("club")
    assert isinstance(program, crmkit.PointsProgram)
    assert program == crmkit.PointsProgram.from_json(CLUB)
    replaced = store.define_points_program(crmkit.PointsProgram.from_json({**CLUB,
                                                                         "pending_days": 7}))
    assert replaced["defined_at"] == info["defined_at"]
    assert json.loads(replaced["json"])["pending_days"] == 7
    with pytest.raises(crmkit.ValidationError):
        store.define_points_program({**CLUB, "currency": "EUR"})
    with pytest.raises(crmkit.NotFoundError):
        store.earn_points("nope")
