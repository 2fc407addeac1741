"""Store.evaluate, Store.stage_history and Store.stages_as_of (crmkit/analytics/lifecycle.hpp):
the automatic transitions of a machine run on a store as of a date, and reports from history."""
import pandas as pd
import pytest

import crmkit


@pytest.fixture()
def store():
    s = crmkit.Store(":memory:", "USD")
    s.import_purchases(
        pd.DataFrame({"customer": ["ann", "ann", "bob", "cy"],
                      "at": pd.to_datetime(["2024-01-05", "2024-01-20", "2024-01-10",
                                            "2024-03-02"]),
                      "amount": ["40.00", "25.00", "90.00", "10.00"]}),
        customer="customer", at="at", amount="amount")
    yield s
    s.close()


def lifecycle(store):
    return crmkit.default_machine("customer_lifecycle", store.fact_schema())


def test_evaluate_writes_the_moves_keyed_by_id_and_external_id_and_tells_listeners(store):
    machine = lifecycle(store)
    heard = []
    store.add_transition_listener(lambda row: heard.append((row["entity_id"], row["to"])))
    moves = store.evaluate(machine, "2024-01-31T23:59:59", actor="nightly")
    assert moves.attrs["evaluated"] == 2  # cy buys in March: it does not exist yet
    assert moves["external_id"].tolist() == ["ann", "ann", "bob"]
    assert moves["from"].tolist() == ["prospect", "introduction", "prospect"]
    assert moves["to"].tolist() == ["introduction", "growth", "introduction"]
    assert moves["rule"].tolist() == ["first_purchase", "repeat_purchase", "first_purchase"]
    assert (moves["id"] > 0).all()
    assert set(moves["actor"]) == {"nightly"}
    assert str(moves["at"].iloc[0]) == "2024-01-31 23:59:59+00:00"
    assert heard == [(1, "introduction"), (1, "growth"), (2, "introduction")]
    assert store.state(machine, "ann")["state"] == "growth"
    # Evaluating the same date again finds nothing to do.
    assert len(store.evaluate(machine, "2024-01-31T23:59:59")) == 0


def test_a_dry_run_and_one_customer(store):
    machine = lifecycle(store)
    before = store.history(machine)
    preview = store.evaluate(machine, "2024-03-31T23:59:59", dry_run=True)
    assert preview["id"].tolist() == [0, 0, 0, 0]
    assert len(store.history(machine)) == len(before) == 0
    one = store.evaluate(machine, "2024-03-31T23:59:59", customer="cy")
    assert one.attrs["evaluated"] == 1
    assert one["external_id"].tolist() == ["cy"]
    assert store.state(machine, "cy")["state"] == "introduction"
    assert store.state(machine, "bob")["state"] == "prospect"  # not evaluated


def test_history_runs_forwards(store):
    machine = lifecycle(store)
    store.evaluate(machine, "2024-03-31T23:59:59")
    with pytest.raises(crmkit.ValidationError, match="history runs forwards"):
        store.evaluate(machine, "2024-02-15")
    with pytest.raises(crmkit.NotFoundError):
        store.evaluate(machine, "2024-04-30", customer="nobody")


def test_reports_from_the_stored_history(store):
    machine = lifecycle(store)
    for end in ["2024-01-31T23:59:59", "2024-03-31T23:59:59", "2024-09-30T23:59:59"]:
        store.evaluate(machine, end)
    stages = store.stages_as_of(machine, "2024-06-01")
    assert stages["external_id"].tolist() == ["ann", "bob", "cy"]
    assert stages["stage"].tolist() == ["growth", "introduction", "introduction"]
    before = store.stages_as_of(machine, "2024-02-01")
    assert before["stage"].tolist() == ["growth", "introduction", None]  # cy did not exist yet
    history = store.stage_history(machine)
    dist = history.distribution(pd.to_datetime(["2024-02-01", "2024-10-01"], utc=True))
    assert dist[["introduction", "growth", "dormancy"]].values.tolist() == [[1, 1, 0], [0, 0, 3]]
    counts = history.transition_counts("2024-01-01", "2025-01-01")
    gone = counts[(counts["from"] == "growth") & (counts["to"] == "dormancy")]
    assert gone["count"].tolist() == [1]
    # The stage facts read the same history back.
    facts = store.facts("2024-06-01", facts=["stage.customer_lifecycle",
                                             "days_in_stage.customer_lifecycle"])
    assert facts["stage.customer_lifecycle"].tolist() == ["growth", "introduction",
                                                          "introduction"]
    assert facts["days_in_stage.customer_lifecycle"].tolist() == [121, 121, 61]


def test_evaluate_runs_a_pipeline_over_its_opportunities(store):
    pipeline = crmkit.default_machine("sales_pipeline", crmkit.FactSchema())
    old = store.create_opportunity("ann", "Old", "100.00", "2025-01-01")
    fresh = store.create_opportunity("bob", "New", "50.00", "2025-01-01")
    now = pd.Timestamp.now(tz="UTC")
    store.transition(pipeline, old, "needs_analysis", at=now - pd.Timedelta(days=200))
    moves = store.evaluate(pipeline, now, kind="opportunity")
    assert moves.attrs["evaluated"] == 2
    assert moves["opportunity_id"].tolist() == [old.id]
    assert moves["external_id"].tolist() == ["ann"]
    assert moves[["from", "to", "rule"]].values.tolist() == [["needs_analysis", "lost", "stale"]]
    assert store.state(pipeline, fresh)["state"] == "qualification"
    with pytest.raises(crmkit.ValidationError, match="reads customer facts"):
        store.evaluate(lifecycle(store), now, kind="opportunity")


def test_stage_facts_of_a_customer_that_never_moved_take_the_machines_initial_state(store):
    machine = lifecycle(store)
    store.evaluate(machine, "2024-01-31T23:59:59")
    wanted = ["stage.customer_lifecycle"]
    plain = store.facts("2024-03-31", facts=wanted)
    assert plain["stage.customer_lifecycle"].tolist()[:2] == ["growth", "introduction"]
    assert pd.isna(plain["stage.customer_lifecycle"].iloc[2])  # cy never moved: missing
    given = store.facts("2024-03-31", facts=wanted, machines=[machine])
    assert given["stage.customer_lifecycle"].tolist() == ["growth", "introduction", "prospect"]
    one = store.customer_facts("cy", "2024-03-31", facts=wanted, machines=[machine])
    assert one["stage.customer_lifecycle"] == "prospect"
    with pytest.raises(crmkit.ValidationError, match=r"machines\[0\]"):
        store.facts("2024-03-31", facts=wanted, machines=["customer_lifecycle"])
