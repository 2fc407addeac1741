"""crmkit.PointsProgram and crmkit.replay_points (crmkit/loyalty/points.hpp, docs/points.md)."""
from __future__ import annotations

import json
import pickle

import pandas as pd
import pytest

import crmkit

PROGRAM = {
    "name": "club",
    "currency": "USD",
    "pending_days": 14,
    "expiry": {"mode": "after_days", "days": 30},
    "spend_order": "first_to_expire",
    "rules": [
        {"name": "base", "kind": "spend", "points_per_unit": "1.5",
         "category_multipliers": {"books": "2"}},
        {"name": "referral", "kind": "referral", "points": 200},
    ],
    "tiers": {"tiers": [{"name": "member", "threshold": 0}, {"name": "gold", "threshold": 100}],
              "basis": "active_points", "downgrade": "automatic"},
}


def test_program_from_dict_and_text_round_trips():
    p = crmkit.PointsProgram.from_json(PROGRAM)
    assert p.name == "club"
    assert p.currency == "USD"
    assert p.pending_days == 14
    assert p.expiry_mode == "after_days"
    assert p.expiry_days == 30
    assert p.spend_order == "first_to_expire"
    assert p.rule_names == ["base", "referral"]
    assert p.tier_names == ["member", "gold"]
    assert p.rules[0]["points_per_unit"] == "1.5"
    assert p.tiers["basis"] == "active_points"
    q = crmkit.PointsProgram.from_json(p.to_json())
    assert q == p
    assert crmkit.PointsProgram(json.dumps(PROGRAM)) == p
    assert p.to_dict()["rules"][1] == {"name": "referral", "kind": "referral", "points": 200,
                                       "tier_multipliers": {}, "cap_per_period": 0,
                                       "cap_period": "month"}
    assert hash(p) == hash(q)
    assert p != crmkit.PointsProgram.from_json({"name": "other", "currency": "USD"})
    assert p != "club"


def test_program_is_read_only_and_pickles():
    p = crmkit.PointsProgram.from_json(PROGRAM)
    with pytest.raises(AttributeError):
        p.name = "x"
    assert pickle.loads(pickle.dumps(p)) == p


def test_program_errors_name_the_json_path():
    bad = dict(PROGRAM, pending_days=4000)
    with pytest.raises(crmkit.ValidationError, match=r"^pending_days: must be in 0\.\.3650, got 4000$"):
        crmkit.PointsProgram.from_json(bad)
    bad = dict(PROGRAM, rules=[{"name": "a", "condition": {"==": [{"var": "x"}, 1]}}])
    with pytest.raises(crmkit.ValidationError, match=r"^rules\[0\]\.condition\.==\[0\]: unknown fact 'x'$"):
        crmkit.PointsProgram.from_json(bad)
    with pytest.raises(crmkit.ValidationError, match="^colour: unknown key"):
        crmkit.PointsProgram.from_json(dict(PROGRAM, colour="red"))
    with pytest.raises(TypeError):
        crmkit.PointsProgram.from_json(42)


def ledger() -> pd.DataFrame:
    t = pd.Timestamp
    return pd.DataFrame({
        "customer": [7, 7, 7, 3, 7],
        "at": [t("2024-01-01"), t("2024-01-02"), t("2024-01-20"), t("2024-01-05"), t("2024-01-21")],
        "kind": ["earn", "earn", "redeem", "earn", "reversal"],
        "points": [150, 40, 100, 10, 150],
        "available_at": [t("2024-01-15"), t("2024-01-16"), pd.NaT, t("2024-01-19"), pd.NaT],
        "expires_at": [t("2024-02-14"), t("2024-02-15"), pd.NaT, pd.NaT, pd.NaT],
        "event": [1, 2, 0, 3, 1],
        "rule": ["base", "base", None, "base", None],
    })


def test_replay_points_balances_as_of_dates():
    p = crmkit.PointsProgram.from_json(PROGRAM)
    b = crmkit.replay_points(p, ledger(), "2024-01-10")
    assert list(b.columns) == ["customer", "available", "pending", "debt", "earned", "redeemed",
                               "reversed", "expired", "tier"]
    assert b["customer"].tolist() == [3, 7]
    assert b["pending"].tolist() == [10, 190]
    assert b["available"].tolist() == [0, 0]
    assert b["tier"].tolist() == ["member", "member"]
    b = crmkit.replay_points(p, ledger(), pd.Timestamp("2024-01-16"))
    assert b["available"].tolist() == [0, 190]
    assert b["tier"].tolist() == ["member", "gold"]
    # 100 redeemed from the first lot to expire (the first), then the refund of event 1 takes its
    # 50 left, then 40 from the second lot: 60 points of debt.
    b = crmkit.replay_points(p, ledger(), "2024-01-21")
    row = b.set_index("customer").loc[7]
    assert (row["available"], row["debt"], row["earned"], row["redeemed"], row["reversed"]) == \
        (0, 60, 190, 100, 150)
    assert row["tier"] == "member"
    # Before the first entry of customer 7 only customer 3 ... who has none yet either.
    assert crmkit.replay_points(p, ledger(), "2023-12-31").empty


def test_replay_points_with_spend_entries_and_ids():
    prog = dict(PROGRAM, pending_days=0,
                tiers={"tiers": [{"name": "member", "threshold": 0}, {"name": "vip", "threshold": 100}],
                       "basis": "spend_window", "window_days": 30})
    p = crmkit.PointsProgram.from_json(prog)
    entries = pd.DataFrame({
        "id": [2, 1],
        "customer": [1, 1],
        "at": ["2024-03-01T00:00:00Z", "2024-03-01T00:00:00Z"],
        "kind": ["spend", "spend"],
        "points": [0, 0],
        "amount": ["-20.00", "110.50"],
    })
    b = crmkit.replay_points(p, entries, "2024-03-02")
    assert b["tier"].tolist() == ["member"]  # 90.50 net
    b = crmkit.replay_points(p, entries.iloc[[1]], "2024-03-02")
    assert b["tier"].tolist() == ["vip"]


def test_replay_points_refuses_bad_entries():
    p = crmkit.PointsProgram.from_json(PROGRAM)
    bad = ledger().assign(kind=["earn", "gift", "redeem", "earn", "reversal"])
    with pytest.raises(crmkit.ValidationError, match=r"^entries row 1: kind: unknown value 'gift'"):
        crmkit.replay_points(p, bad, "2024-02-01")
    with pytest.raises(crmkit.ValidationError, match="missing column 'points'"):
        crmkit.replay_points(p, ledger().drop(columns="points"), "2024-02-01")
    with pytest.raises(TypeError):
        crmkit.replay_points(PROGRAM, ledger(), "2024-02-01")


def test_replay_points_account_lots_and_tier_history():
    p = crmkit.PointsProgram.from_json(PROGRAM)
    view = crmkit.replay_points_account(p, ledger(), 7, "2024-03-01")
    assert view.balances["debt"] == 60
    assert view.balances["balance"] == -60
    assert view.balances["redeemable"] == 0
    assert view.balances["tier"] == "member"
    lots = view.lots
    assert lots["entry"].tolist() == [1, 2]
    assert lots["rule"].tolist() == ["base", "base"]
    assert lots["redeemed"].tolist() == [100, 0]
    assert lots["reversed"].tolist() == [50, 40]
    assert lots["remaining"].tolist() == [0, 0]
    assert lots["pending"].tolist() == [False, False]
    assert lots["expires_at"].tolist() == [pd.Timestamp("2024-02-14", tz="UTC"),
                                           pd.Timestamp("2024-02-15", tz="UTC")]
    h = view.tier_history
    assert h["to"].tolist() == ["member", "gold", "member"]
    assert h["from"].tolist() == ["", "member", "gold"]
    assert h["at"].tolist() == [pd.Timestamp("2024-01-01", tz="UTC"),
                                pd.Timestamp("2024-01-15", tz="UTC"),  # the first lot unlocks
                                pd.Timestamp("2024-01-20", tz="UTC")]
    # Pending lots and no expiry are shown as such.
    view = crmkit.replay_points_account(p, ledger(), 3, "2024-01-10")
    assert view.lots["pending"].tolist() == [True]
    assert view.lots["expires_at"].isna().tolist() == [True]
    assert view.balances["pending"] == 10
