"""The lifecycle engine from Python: manual transitions on the default machines (allowed and
refused), a refused move leaves the export unchanged, listeners, history and states as
DataFrames, opportunities and the weighted pipeline value."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pandas as pd
import pytest

import crmkit

from conftest import person

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 1, 1, tzinfo=UTC)

# The standard facts the default machines may read, {name: type}.
STANDARD_FACTS: dict[str, str] = {
    **{n: "integer" for n in (
        "purchase_count", "days_since_first_purchase", "days_since_last_purchase",
        "purchases_30d", "purchases_90d", "purchases_180d", "purchases_365d",
        "days_since_created", "interactions_90d", "interactions_365d",
        "commitments_obtained_365d", "days_since_last_interaction",
        "days_since_last_service_contact", "referrals_made", "events_attended",
        "events_attended_365d", "last_nps", "last_csat", "rfm.r", "rfm.f", "rfm.m")},
    **{f"interactions_365d.{k}": "integer" for k in (
        "call", "visit", "email", "message", "gift", "hospitality", "site_visit", "event",
        "meeting", "other", "care", "information", "deal", "service", "intelligence")},
    **{n: "number" for n in (
        "net_revenue", "average_order_value", "net_revenue_90d", "net_revenue_365d", "p_alive",
        "expected_purchases_365d")},
    "consent_any": "bool",
    **{f"consent.{c}": "bool" for c in ("email", "phone", "sms", "im", "post", "visit")},
    "tags": "list of text",
    "rfm.segment": "text",
}

PIPELINE = """{
  "name": "deals",
  "states": [
    {"name": "lead", "initial": true, "probability": 0.1},
    {"name": "proposal", "probability": 0.5},
    {"name": "won", "terminal": true, "probability": 1},
    {"name": "lost", "terminal": true, "probability": 0}
  ],
  "transitions": [
    {"name": "propose", "from": "lead", "to": "proposal"},
    {"name": "win", "from": "proposal", "to": "won"},
    {"name": "lose", "from": "*", "to": "lost", "reason_required": true}
  ]
}"""


def exported(store: crmkit.Store, tmp_path, tag: str) -> bytes:
    path = tmp_path / f"{tag}.jsonl"
    store.export_jsonl(path)
    return path.read_bytes()


def path_to(machine: crmkit.Machine, target: str) -> list[tuple[str, str, str]]:
    """(from, to, rule) steps from the initial state to `target`, breadth first."""
    prev: dict[str, tuple[str, str]] = {}
    todo, seen = [machine.initial_state], {machine.initial_state}
    while todo:
        cur = todo.pop(0)
        for t in machine.transitions:
            if cur in t["from"] and t["to"] not in seen:
                seen.add(t["to"])
                prev[t["to"]] = (cur, t["name"])
                todo.append(t["to"])
    steps = []
    at = target
    while at != machine.initial_state:
        frm, rule = prev[at]
        steps.insert(0, (frm, at, rule))
        at = frm
    return steps


@pytest.mark.parametrize("name", crmkit.default_machine_names())
def test_every_default_machine_allows_its_manual_moves_and_refuses_the_rest(store, tmp_path, name):
    machine = crmkit.default_machine(name, crmkit.FactSchema(STANDARD_FACTS))
    pipeline = any(s["probability"] is not None for s in machine.states)
    owner = store.create_customer(person("owner"))
    serial = iter(range(1, 10_000))

    def entity_in(state: str):
        n = next(serial)
        if pipeline:
            entity = store.create_opportunity(owner, f"deal {n}", "10.00", "2025-01-01",
                                              pipeline=machine.name)
            kind, ident = "opportunity", entity.id
        else:
            entity = store.create_customer(person(f"c-{n}"))
            kind, ident = "customer", entity.id
        store.apply_transitions(machine, [
            {"kind": kind, "entity": ident, "from": f, "to": t, "rule": r, "at": T0}
            for f, t, r in path_to(machine, state)])
        assert store.state(machine, entity)["state"] == state
        return entity

    allowed = refused = 0
    for frm in machine.states:
        if frm["terminal"]:
            continue
        for to in machine.states:
            manual = [t for t in machine.transitions
                      if frm["name"] in t["from"] and t["to"] == to["name"] and t["manual"]]
            entity = entity_in(frm["name"])
            if manual:
                if manual[0]["reason_required"]:
                    before = exported(store, tmp_path, "before")
                    with pytest.raises(crmkit.InvalidTransitionError, match="requires a reason"):
                        store.transition(machine, entity, to["name"])
                    assert exported(store, tmp_path, "after") == before
                row = store.transition(machine, entity, to["name"], reason="by hand", actor="sam")
                assert (row["from"], row["to"], row["actor"]) == (frm["name"], to["name"], "sam")
                assert store.state(machine, entity)["state"] == to["name"]
                allowed += 1
            else:
                before = exported(store, tmp_path, "before")
                with pytest.raises(crmkit.InvalidTransitionError):
                    store.transition(machine, entity, to["name"], reason="by hand")
                assert exported(store, tmp_path, "after") == before
                refused += 1
    assert allowed > 0 and refused > 0


def test_customer_lifecycle_by_external_id_with_history_and_states_frames(store, tmp_path):
    machine = crmkit.default_machine("customer_lifecycle", crmkit.FactSchema(STANDARD_FACTS))
    ann = store.create_customer(person("ann"))
    bob = store.create_customer(person("bob", "Bob Byte"))
    first = machine.initial_state
    initial = store.state(machine, "ann")
    assert (initial["state"], initial["recorded"]) == (first, False)
    assert initial["since"] == pd.Timestamp(ann.created_at.to_string()).to_pydatetime()
    # An unknown state is refused before anything is written.
    before = exported(store, tmp_path, "before")
    with pytest.raises(crmkit.NotFoundError):
        store.transition(machine, "ann", "no_such_state", reason="x")
    with pytest.raises(crmkit.NotFoundError):
        store.transition(machine, "nobody", first)
    with pytest.raises(crmkit.ValidationError, match="entity: expected a customer id"):
        store.transition(machine, 1.5, first)
    assert exported(store, tmp_path, "after") == before

    manual = [t for t in machine.transitions if first in t["from"] and t["manual"]]
    assert manual, "customer_lifecycle has a manual move out of its initial state"
    target = manual[0]["to"]
    row = store.transition(machine, "ann", target, reason="called in", actor="kim", at=T0)
    assert row["from"] == first and row["to"] == target
    assert row["at"] == T0 and row["reason"] == "called in" and row["rule"] == ""
    assert store.state(machine, ann.id) == {"state": target, "since": T0, "recorded": True}

    history = store.history(machine)
    assert list(history.columns) == ["id", "entity_kind", "entity_id", "customer_id",
                                     "external_id", "from", "to", "at", "rule", "actor",
                                     "reason", "recorded_at"]
    assert history["external_id"].tolist() == ["ann"]
    assert history["customer_id"].tolist() == [ann.id]
    assert history["at"].iloc[0] == pd.Timestamp(T0)
    assert store.history("customer_lifecycle", "bob").empty

    states = store.states(machine)
    assert states["external_id"].tolist() == ["ann", "bob"]
    assert states["state"].tolist() == [target, first]
    assert states["recorded"].tolist() == [True, False]
    assert states["customer_id"].tolist() == [ann.id, bob.id]


def test_listeners_get_a_dict_per_commit_and_their_exceptions_are_reported(store):
    machine = crmkit.Machine(PIPELINE, crmkit.FactSchema())
    owner = store.create_customer(person("acme"))
    deal = store.create_opportunity("acme", "Fleet", "100.00", "2025-03-31", pipeline="deals")
    heard: list[tuple[int, str, str, str]] = []
    threads: list[int] = []

    def good(row):
        heard.append((row["id"], row["entity_kind"], row["from"], row["to"]))
        threads.append(threading.get_ident())

    def bad(row):
        raise RuntimeError(f"bad listener on {row['to']}")

    store.add_transition_listener(good)
    bad_id = store.add_transition_listener(bad)
    store.transition(machine, deal, "proposal", at=T0)
    with pytest.raises(crmkit.InvalidTransitionError):
        store.transition(machine, deal, "lost")  # reason required: refused, nobody hears it
    assert store.apply_transitions(machine, [
        {"kind": "opportunity", "entity": deal.id, "from": "proposal", "to": "won",
         "rule": "win", "at": T0}], dry_run=True)[0]["id"] == 0
    store.apply_transitions(machine, [
        {"kind": "opportunity", "entity": deal.id, "from": "proposal", "to": "won",
         "rule": "win", "at": T0}])
    assert heard == [(1, "opportunity", "lead", "proposal"), (2, "opportunity", "proposal", "won")]
    assert threads == [threading.get_ident()] * 2
    assert store.listener_errors() == [
        {"listener": bad_id, "transition_id": 1, "message": "RuntimeError: bad listener on proposal"},
        {"listener": bad_id, "transition_id": 2, "message": "RuntimeError: bad listener on won"},
    ]
    assert store.listener_errors() == []
    assert store.state(machine, deal)["state"] == "won"  # the commit stood
    assert store.remove_transition_listener(bad_id)
    assert owner.id == 1


def test_apply_transitions_conflict_refuses_the_whole_batch(store, tmp_path):
    machine = crmkit.Machine(PIPELINE, crmkit.FactSchema())
    store.create_customer(person("acme"))
    a = store.create_opportunity("acme", "A", "1.00", "2025-01-01", pipeline="deals")
    b = store.create_opportunity("acme", "B", "1.00", "2025-01-01", pipeline="deals")
    before = exported(store, tmp_path, "before")
    with pytest.raises(crmkit.ConflictError,
                       match=r"changes\[1\]\.from: opportunity 2 is in 'lead', not 'proposal'"):
        store.apply_transitions(machine, [
            {"kind": "opportunity", "entity": a.id, "from": "lead", "to": "proposal",
             "rule": "propose", "at": T0},
            {"kind": "opportunity", "entity": b.id, "from": "proposal", "to": "won",
             "rule": "win", "at": T0}])
    assert exported(store, tmp_path, "after") == before


def test_pipeline_value_is_exact_with_half_even_rounding(store):
    machine = crmkit.Machine(PIPELINE, crmkit.FactSchema())
    store.create_customer(person("acme"))
    # proposal at 50%: 0.25 -> 0.125 and 0.35 -> 0.175 are ties.
    p1 = store.create_opportunity("acme", "p1", "0.25", "2025-03-10", owner="kim", pipeline="deals")
    p2 = store.create_opportunity("acme", "p2", Decimal("0.35"), dt.date(2025, 4, 2), owner="kim",
                                  pipeline="deals")
    store.create_opportunity("acme", "l1", "1000.05", "2025-03-31", owner="sam", pipeline="deals")
    for deal in (p1, p2):
        store.transition(machine, deal, "proposal", at=T0)
    value = store.pipeline_value(machine)
    assert list(value.columns) == ["stage", "owner", "close_month", "count", "amount", "weighted",
                                   "weighted_exact", "currency"]
    assert value["stage"].tolist() == ["lead", "proposal", "proposal"]
    assert value["owner"].tolist() == ["sam", "kim", "kim"]
    assert value["close_month"].tolist() == ["2025-03", "2025-03", "2025-04"]
    assert value["count"].tolist() == [1, 1, 1]
    assert value["amount"].tolist() == [Decimal("1000.05"), Decimal("0.25"), Decimal("0.35")]
    assert value["weighted"].tolist() == [Decimal("100.00"), Decimal("0.12"), Decimal("0.18")]
    assert value["weighted_exact"].tolist() == [Decimal("100.005"), Decimal("0.125"),
                                                Decimal("0.175")]
    by_stage = store.pipeline_value(machine, by="stage")
    assert list(by_stage.columns)[:2] == ["stage", "count"]
    assert by_stage["weighted"].tolist() == [Decimal("100.00"), Decimal("0.30")]
    with pytest.raises(crmkit.ValidationError, match="by: unknown group key 'region'"):
        store.pipeline_value(machine, by=("stage", "region"))
    frame = store.opportunities()
    assert frame["amount"].tolist() == [Decimal("0.25"), Decimal("0.35"), Decimal("1000.05")]
    assert frame["expected_close"].tolist()[1] == dt.date(2025, 4, 2)
    assert frame["external_id"].tolist() == ["acme"] * 3
    assert crmkit.probability_decimal(0.1) == Decimal("0.1")


def test_export_import_round_trip_keeps_states_history_and_opportunities(store, tmp_path):
    machine = crmkit.Machine(PIPELINE, crmkit.FactSchema())
    store.create_customer(person("acme"))
    deal = store.create_opportunity("acme", "A", "12.50", "2025-01-01", pipeline="deals")
    store.transition(machine, deal, "proposal", reason="sent", at=T0)
    path = tmp_path / "out.jsonl"
    store.export_jsonl(path)
    with crmkit.Store(tmp_path / "copy.db", "USD", synchronous="off") as copy:
        copy.import_jsonl(path)
        again = tmp_path / "again.jsonl"
        copy.export_jsonl(again)
        assert again.read_bytes() == path.read_bytes()
        assert copy.state(machine, copy.get_opportunity(deal.id))["state"] == "proposal"
        assert copy.history("deals")["reason"].tolist() == ["sent"]


def test_a_listener_runs_on_the_writing_thread_with_the_gil(store):
    machine = crmkit.Machine(PIPELINE, crmkit.FactSchema())
    store.create_customer(person("acme"))
    deals = [store.create_opportunity("acme", f"d{i}", "1.00", "2025-01-01", pipeline="deals")
             for i in range(8)]
    heard: list[tuple[int, int]] = []
    store.add_transition_listener(lambda row: heard.append((row["entity_id"], threading.get_ident())))
    workers: dict[int, int] = {}

    def work(deal):
        workers[deal.id] = threading.get_ident()
        store.transition(machine, deal, "proposal")

    threads = [threading.Thread(target=work, args=(d,)) for d in deals]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(e for e, _ in heard) == [d.id for d in deals]
    assert all(workers[e] == ident for e, ident in heard)
    assert store.listener_errors() == []
    assert store.states(machine, "opportunity")["state"].tolist() == ["proposal"] * 8
