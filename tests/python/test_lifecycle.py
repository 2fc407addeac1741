"""crmkit.Machine, the default machines and crmkit.History (crmkit/lifecycle/*.hpp)."""

import json

import numpy as np
import pandas as pd
import pytest

import crmkit

STANDARD = {
    **{
        name: "integer"
        for name in [
            "purchase_count",
            "purchases_365d",
            "days_since_first_purchase",
            "days_since_last_purchase",
            "days_since_last_interaction",
            "interactions_365d",
            "interactions_365d.hospitality",
            "interactions_365d.site_visit",
            "interactions_365d.care",
            "interactions_365d.gift",
            "interactions_365d.intelligence",
            "interactions_365d.deal",
            "commitments_obtained_365d",
            "referrals_made",
            "days_since_last_service_contact",
        ]
    },
    "p_alive": "number",
    "consent_any": "bool",
}

SMALL = {
    "name": "m",
    "parameters": {"big": 10},
    "states": [
        {"name": "a", "initial": True, "playbook": ["call"]},
        {"name": "b", "active": True, "probability": 0.5},
        {"name": "c", "terminal": True},
    ],
    "transitions": [
        {"name": "up", "from": "a", "to": "b", "when": {">=": [{"var": "x"}, {"param": "big"}]}},
        {"name": "done", "from": "b", "to": "c", "reason_required": True},
        {"name": "flag", "from": "b", "to": "c", "manual": False, "when": {"var": "ok"}},
    ],
}


@pytest.fixture
def facts():
    return crmkit.FactSchema(STANDARD)


def small_facts():
    return crmkit.FactSchema({"x": "integer", "ok": "bool"})


def test_exports():
    for name in ["Machine", "History", "default_machine", "default_machine_names", "default_machine_json"]:
        assert name in crmkit.__all__
        assert hasattr(crmkit, name)


def test_machine_from_dict_or_json_with_states_and_transitions_as_dicts():
    m = crmkit.Machine(SMALL, small_facts())
    m2 = crmkit.Machine(json.dumps(SMALL), small_facts(), parameters={"big": 3})
    assert m.name == "m"
    assert m.initial_state == "a"
    assert m.state_names == ["a", "b", "c"]
    assert m.states[0] == {
        "name": "a",
        "order": 0,
        "initial": True,
        "active": False,
        "terminal": False,
        "description": "",
        "playbook": ["call"],
        "probability": None,
    }
    assert m.state("b")["probability"] == 0.5
    assert m.transitions[0]["when"] == {">=": [{"var": "x"}, 10]}
    assert m2.transitions[0]["when"] == {">=": [{"var": "x"}, 3]}
    assert m.transitions[0]["from"] == ["a"]
    assert m.parameters == {"big": 10.0}
    assert m.facts_used == ["x", "ok"]
    assert m.has_state("b") and not m.has_state("z")
    with pytest.raises(crmkit.NotFoundError, match="machine 'm': unknown state 'z'"):
        m.state("z")


def test_load_errors_name_their_json_path():
    bad = json.loads(json.dumps(SMALL))
    bad["states"].append({"name": "island", "terminal": True})
    with pytest.raises(crmkit.ValidationError, match=r"^states\[3\]: state 'island' cannot be reached"):
        crmkit.Machine(bad, small_facts())
    bad = json.loads(json.dumps(SMALL))
    bad["transitions"][0]["when"] = {"and": [{"var": "ok"}, {">": [{"var": "nope"}, 1]}]}
    with pytest.raises(crmkit.ValidationError, match=r"^transitions\[0\]\.when\.and\[1\].*unknown fact 'nope'"):
        crmkit.Machine(bad, small_facts())
    bad = json.loads(json.dumps(SMALL))
    bad["transitions"].append({"name": "down", "from": "b", "to": "a", "when": {">": [{"var": "x"}, 3]}})
    with pytest.raises(crmkit.ValidationError, match=r"^transitions\[3\]\.when: automatic cycle a -> b -> a"):
        crmkit.Machine(bad, small_facts())
    bad = json.loads(json.dumps(SMALL))
    bad["states"][1]["initial"] = True
    with pytest.raises(crmkit.ValidationError, match=r"^states\[1\]\.initial: 'b' is a second initial state"):
        crmkit.Machine(bad, small_facts())
    bad = json.loads(json.dumps(SMALL))
    bad["transitions"].append({"name": "back", "from": "c", "to": "a"})
    with pytest.raises(crmkit.ValidationError, match=r"^transitions\[3\]\.from: state 'c' is terminal"):
        crmkit.Machine(bad, small_facts())
    with pytest.raises(crmkit.ValidationError, match="parameters.nope: machine 'm' declares no such parameter"):
        crmkit.Machine(SMALL, small_facts(), parameters={"nope": 1})


def test_check_manual_allows_or_refuses_with_the_reason():
    m = crmkit.Machine(SMALL, small_facts())
    assert m.check_manual("a", "b")["name"] == "up"
    assert m.check_manual("b", "c", reason="signed")["name"] == "done"
    with pytest.raises(crmkit.InvalidTransitionError, match="transition 'done' requires a reason"):
        m.check_manual("b", "c")
    with pytest.raises(crmkit.InvalidTransitionError, match="from 'a' to 'c': no such transition"):
        m.check_manual("a", "c")
    with pytest.raises(crmkit.NotFoundError):
        m.check_manual("a", "z")


def test_evaluate_one_row_and_columns():
    m = crmkit.Machine(SMALL, small_facts())
    assert m.evaluate("a", 0, {"x": 12}) == [{"from": "a", "to": "b", "transition": "up"}]
    assert m.evaluate("a", 0, {"x": 12, "ok": True}) == [
        {"from": "a", "to": "b", "transition": "up"},
        {"from": "b", "to": "c", "transition": "flag"},
    ]
    assert m.evaluate("a", 0, {}) == []
    assert m.evaluate("a", 0, {"x": None}) == []
    frame = pd.DataFrame({"x": [12, 1, None, 20], "ok": [True, True, None, False]})
    states, changes = m.evaluate_columns(["a", "a", "a", "b"], [0, 0, 0, 0], frame)
    assert states.tolist() == ["c", "a", "a", "b"]
    assert changes.to_dict("list") == {
        "row": [0, 0],
        "from": ["a", "b"],
        "to": ["b", "c"],
        "transition": ["up", "flag"],
    }
    # A dict of columns works too, and state indexes.
    states, _ = m.evaluate_columns(np.array([0, 0]), [0, 0], {"x": np.array([10, 9]), "ok": [False, False]})
    assert states.tolist() == ["b", "a"]
    with pytest.raises(crmkit.NotFoundError, match="ok: no column for this fact"):
        m.evaluate_columns(["a"], [0], pd.DataFrame({"x": [1]}))
    with pytest.raises(crmkit.ValidationError, match=r"x: row 0: an integer fact needs a whole number"):
        m.evaluate_columns(["a"], [0], pd.DataFrame({"x": [1.5], "ok": [True]}))
    # Review fix: an infinity in an integer fact was cast to an integer (undefined behaviour).
    with pytest.raises(crmkit.ValidationError, match=r"x: row 1: an integer fact needs a whole number"):
        m.evaluate_columns(["a", "a"], [0, 0], pd.DataFrame({"x": [1.0, np.inf], "ok": [True, True]}))
    with pytest.raises(crmkit.ValidationError, match=r"x: row 0: outside the 64-bit integer range"):
        m.evaluate_columns(["a"], [0], pd.DataFrame({"x": [1e19], "ok": [True]}))


def _random_lifecycle_frame(n: int, seed: int) -> pd.DataFrame:
    """customer_lifecycle facts as nullable columns (about one cell in six missing)."""
    rng = np.random.default_rng(seed)

    def ints(high: int) -> pd.Series:
        v = pd.Series(rng.integers(0, high, size=n), dtype="Int64")
        return v.mask(rng.random(n) < 0.16)

    p_alive = rng.random(n)
    p_alive[rng.random(n) < 0.16] = np.nan
    return pd.DataFrame({"purchase_count": ints(7), "purchases_365d": ints(7),
                         "days_since_first_purchase": ints(500), "days_since_last_purchase": ints(500),
                         "p_alive": p_alive})


def test_evaluate_columns_agrees_with_row_by_row_on_a_random_table(facts):
    m = crmkit.default_machine("customer_lifecycle", facts)
    n = 150_000  # large enough to be split over the cores
    frame = _random_lifecycle_frame(n, 3)
    rng = np.random.default_rng(4)
    codes = rng.integers(0, len(m.state_names), size=n)
    names = np.array(m.state_names, dtype=object)[codes]
    days = rng.integers(0, 400, size=n)
    states, changes = m.evaluate_columns(names, days, frame)
    assert states.dtype == object and states.name == "state" and len(states) == n
    assert changes["from"].cat.categories.tolist() == m.state_names
    assert changes["transition"].cat.categories.tolist() == [t["name"] for t in m.transitions]
    # Every form of the states gives the same result.
    for given in (codes, codes.astype(np.int32), list(names), pd.Series(names), codes.astype(float),
                  pd.Categorical(names, categories=list(reversed(m.state_names))),
                  pd.Series(pd.Categorical(names))):
        again, again_changes = m.evaluate_columns(given, days, frame)
        assert again.tolist() == states.tolist()
        assert again_changes.equals(changes)
    new_codes, code_changes = m.evaluate_columns(codes, days, frame, as_codes=True)
    assert new_codes.dtype == np.int32
    assert (np.array(m.state_names, dtype=object)[new_codes] == states.to_numpy()).all()
    tnames = [t["name"] for t in m.transitions]
    assert code_changes["row"].tolist() == changes["row"].tolist()
    assert [m.state_names[i] for i in code_changes["from"]] == changes["from"].tolist()
    assert [m.state_names[i] for i in code_changes["to"]] == changes["to"].tolist()
    assert [tnames[i] for i in code_changes["transition"]] == changes["transition"].tolist()
    # The changes are by row, and each sampled row's moves are those of evaluate().
    assert changes["row"].is_monotonic_increasing
    moved = set(changes["row"].tolist())
    assert n // 10 < len(moved) < n
    by_row = changes.groupby("row")
    for r in rng.choice(n, size=400, replace=False).tolist():
        cells = frame.iloc[r]
        row = {k: (None if pd.isna(v) else (float(v) if k == "p_alive" else int(v))) for k, v in cells.items()}
        expected = m.evaluate(names[r], int(days[r]), row)
        got = by_row.get_group(r)[["from", "to", "transition"]].to_dict("records") if r in moved else []
        assert got == expected, r
        assert states[r] == (expected[-1]["to"] if expected else names[r])


def test_evaluate_columns_repeated_calls_give_fresh_results(facts):
    # Calls of the same size reuse the memory of the previous call's fact table: every cell of
    # the second frame must be read (values and missing cells), nothing kept from the first.
    m = crmkit.default_machine("customer_lifecycle", facts)
    other = crmkit.default_machine("customer_lifecycle", facts)
    n = 1000
    codes = np.random.default_rng(5).integers(0, len(m.state_names), size=n)
    days = np.zeros(n, dtype=np.int64)
    first, second = _random_lifecycle_frame(n, 6), _random_lifecycle_frame(n, 7)
    a, _ = m.evaluate_columns(codes, days, first)
    b, b_changes = m.evaluate_columns(codes, days, second)
    fresh, fresh_changes = other.evaluate_columns(codes, days, second)
    assert b.tolist() == fresh.tolist()
    assert b_changes.equals(fresh_changes)
    assert a.tolist() != b.tolist()
    again, _ = m.evaluate_columns(codes, days, first)
    assert again.tolist() == a.tolist()


def test_evaluate_columns_refuses_bad_states():
    m = crmkit.Machine(SMALL, small_facts())
    frame = pd.DataFrame({"x": [1, 2], "ok": [True, False]})
    with pytest.raises(crmkit.ValidationError, match=r"^states: row 1: state index 7 is out of range \(3 states\)"):
        m.evaluate_columns(np.array([0, 7]), [0, 0], frame)
    with pytest.raises(crmkit.ValidationError, match=r"^states: row 1: missing state"):
        m.evaluate_columns(pd.Categorical(["a", None]), [0, 0], frame)
    with pytest.raises(crmkit.NotFoundError, match="unknown state 'zz'"):
        m.evaluate_columns(np.array(["a", "zz"], dtype=object), [0, 0], frame)
    with pytest.raises(crmkit.NotFoundError, match="unknown state 'zz'"):
        m.evaluate_columns(pd.Categorical(["a", "zz"]), [0, 0], frame)


def test_default_machines(facts):
    assert crmkit.default_machine_names() == [
        "customer_lifecycle",
        "implementation",
        "prospect",
        "relationship_level",
        "sales_pipeline",
    ]
    assert json.loads(crmkit.default_machine_json("prospect"))["name"] == "prospect"
    with pytest.raises(crmkit.NotFoundError, match="no default machine 'nope'"):
        crmkit.default_machine_json("nope")
    life = crmkit.default_machine("customer_lifecycle", facts)
    assert life.evaluate("dormancy", 30, {"days_since_last_purchase": 20}) == [
        {"from": "dormancy", "to": "growth", "transition": "reactivated"}
    ]
    quick = crmkit.default_machine("customer_lifecycle", facts, parameters={"dormant_after_days": 90})
    assert quick.evaluate("growth", 0, {"days_since_last_purchase": 100})[0]["to"] == "dormancy"
    assert life.evaluate("growth", 0, {"days_since_last_purchase": 100}) == []
    prospect = crmkit.default_machine("prospect", facts)
    assert prospect.evaluate("captured", 0, {"consent_any": False, "interactions_365d": 5}) == []
    assert prospect.evaluate("captured", 0, {"consent_any": True})[0]["to"] == "consented"
    with pytest.raises(crmkit.InvalidTransitionError, match="'consent_given' is automatic only"):
        prospect.check_manual("captured", "consented")
    assert prospect.check_manual("opportunity", "nurtured", reason="budget frozen")["name"] == "lost"
    pipeline = crmkit.default_machine("sales_pipeline", facts)
    assert [s["probability"] for s in pipeline.states] == [0.1, 0.2, 0.5, 0.8, 1.0, 0.0]
    assert pipeline.evaluate("proposal", 180, {}) == [{"from": "proposal", "to": "lost", "transition": "stale"}]
    states, changes = pipeline.evaluate_columns(["proposal", "qualification"], [200, 3], {})
    assert states.tolist() == ["lost", "qualification"]
    assert changes["transition"].tolist() == ["stale"]


def history_rows():
    # Entity 1: p (day 0) -> a (day 10) -> b (day 15) -> a (day 40) -> c (day 50);
    # entity 2: p, a, b all on day 5; entity 3: p on day 20.
    day = lambda d: pd.Timestamp("2024-01-01") + pd.Timedelta(days=d)  # noqa: E731
    return pd.DataFrame(
        {
            "entity": [3, 1, 2, 1, 2, 1, 1, 2, 1],
            "from": [None, "a", None, None, "p", "p", "b", "a", "a"],
            "to": ["p", "c", "p", "p", "a", "a", "a", "b", "b"],
            "at": [day(20), day(50), day(5), day(0), day(5), day(10), day(40), day(5), day(15)],
        }
    )


def test_history_frames():
    h = crmkit.History(history_rows(), ["p", "a", "b", "c"])
    assert h.entities.tolist() == [1, 2, 3]
    assert h.stages_as_of("2024-01-13").to_dict("list") == {"entity": [1, 2, 3], "state": ["a", "b", None]}
    times = h.stage_times("2024-03-01")  # day 60
    one = times[times.entity == 1].set_index("state")
    assert one.loc["a", "stints"] == 2
    assert one.loc["a", "days"] == 15.0
    assert one.loc["a", "last_exited"] == pd.Timestamp("2024-02-20", tz="UTC")
    assert pd.isna(one.loc["c", "last_exited"])
    assert bool(one.loc["c", "current"])
    dist = h.distribution(["2024-01-13", "2024-01-06", "2024-02-15"])
    assert dist.to_dict("list") == {"p": [0, 1, 1], "a": [1, 0, 1], "b": [1, 1, 1], "c": [0, 0, 0]}
    counts = h.transition_counts("2024-01-01", "2024-01-21")
    assert counts.to_dict("list") == {"from": [None, "p", "a"], "to": ["p", "a", "b"], "count": [2, 2, 2]}
    funnel = h.funnel("2024-01-01", "2024-04-10").set_index(["from", "to"])
    assert funnel.loc[("p", "a"), "entered"] == 3
    assert funnel.loc[("p", "a"), "reached"] == 2
    assert funnel.loc[("p", "a"), "rate"] == pytest.approx(2 / 3)
    medians = h.median_durations("2024-03-01").set_index("state")["median_days"]
    assert medians["p"] == 5.0 and medians["a"] == 5.0 and medians["b"] == 25.0
    assert np.isnan(medians["c"])


def test_history_refuses_unknown_states_and_broken_chains():
    rows = history_rows()
    rows.loc[0, "to"] = "zz"
    with pytest.raises(crmkit.ValidationError, match=r"to: row 0: unknown state 'zz'"):
        crmkit.History(rows, ["p", "a", "b", "c"])
    rows = history_rows()
    rows.loc[1, "from"] = "b"  # entity 1 is in a on day 50, not b
    with pytest.raises(crmkit.ValidationError, match="row 1: entity 1 moves from 'b' but is in 'a'"):
        crmkit.History(rows, ["p", "a", "b", "c"])


def test_evaluate_columns_refuses_an_infinite_number(facts):
    # Review fix: an infinity went into a number fact unchecked (FactTable refuses it on set).
    m = crmkit.default_machine("customer_lifecycle", facts)
    frame = pd.DataFrame({name: [np.nan] for name in m.facts_used})
    frame["days_since_last_purchase"] = [70.0]
    frame["p_alive"] = [0.1]
    states, _ = m.evaluate_columns(["growth"], [0], frame)
    assert states.tolist() == ["dormancy"]
    frame["p_alive"] = [-np.inf]
    with pytest.raises(crmkit.ValidationError, match="p_alive: row 0: a number fact must be finite"):
        m.evaluate_columns(["growth"], [0], frame)


def test_history_refuses_numeric_times():
    # Review fix: pandas reads integers as nanoseconds, so int64 microseconds (crmkit's unit)
    # became January 1970 without an error.
    rows = history_rows()
    micros = (rows["at"].dt.tz_localize("UTC") - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(microseconds=1)
    with pytest.raises(crmkit.ValidationError, match=r"^at: expected datetimes .* got int64$"):
        crmkit.History(rows.assign(at=micros.astype(np.int64)), ["p", "a", "b", "c"])
    # Aware times in another zone are converted to UTC: the same answers as naive UTC.
    aware = rows.assign(at=rows["at"].dt.tz_localize("UTC").dt.tz_convert("America/New_York"))
    h = crmkit.History(aware, ["p", "a", "b", "c"])
    assert h.stages_as_of("2024-01-13").to_dict("list") == {"entity": [1, 2, 3], "state": ["a", "b", None]}
