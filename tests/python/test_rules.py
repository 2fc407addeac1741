"""JSON Logic from Python: the conformance suites through crmkit.jsonlogic_apply (loose mode), and
strict rules (crmkit.Rule) on one row, on a DataFrame and on a dict of numpy columns."""
from __future__ import annotations

import datetime
import json
import pathlib

import numpy as np
import pandas as pd
import pytest

import crmkit

SUITES = pathlib.Path(__file__).resolve().parents[1] / "data" / "jsonlogic" / "suites"

# (file, 0-based case index) -> reason, for cases crmkit does not pass on purpose. Empty: all pass.
EXPECTED_FAILURES: dict[tuple[str, int], str] = {}


def same(a, b) -> bool:
    """JSON equality that tells true from 1 (Python's == does not) and 1 from 1.0 apart only by
    value."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def run_case(case):
    try:
        return "result", crmkit.jsonlogic_apply(case["rule"], case.get("data"))
    except crmkit.JsonLogicError as e:
        return "error", e.error


def test_every_case_of_the_jsonlogic_suites_passes(capsys):
    index = json.loads((SUITES / "index.json").read_text(encoding="utf-8"))
    assert len(index) == 48
    total = passed = 0
    unexpected = []
    lines = []
    for name in index:
        cases = [c for c in json.loads((SUITES / name).read_text(encoding="utf-8")) if isinstance(c, dict)]
        ok = 0
        for i, case in enumerate(cases):
            kind, got = run_case(case)
            want_kind = "result" if "result" in case else "error"
            if kind == want_kind and same(got, case[want_kind]):
                ok += 1
                assert (name, i) not in EXPECTED_FAILURES, f"{name} case {i} passes: unlist it"
            elif (name, i) not in EXPECTED_FAILURES:
                unexpected.append(f"{name} case {i}: rule {json.dumps(case['rule'])}: "
                                  f"expected {want_kind} {case[want_kind]!r}, got {kind} {got!r}")
        lines.append(f"{name}: {ok}/{len(cases)}")
        total += len(cases)
        passed += ok
    with capsys.disabled():
        print("\n" + "\n".join(lines))
        print(f"JSON Logic suites (Python): {passed}/{total} passed")
    assert total == 1138
    assert unexpected == []
    assert passed + len(EXPECTED_FAILURES) == total


def test_jsonlogic_errors_carry_their_type():
    with pytest.raises(crmkit.JsonLogicError) as e:
        crmkit.jsonlogic_apply({"/": [1, 0]})
    assert e.value.error == {"type": "NaN"}
    assert e.value.type == "NaN"
    assert isinstance(e.value, crmkit.ValidationError)
    assert str(e.value) == 'rule: JSON Logic error {"type":"NaN"}'
    with pytest.raises(crmkit.JsonLogicError) as e:
        crmkit.jsonlogic_apply({"throw": {"var": "x"}}, {"x": {"type": "Oops", "why": 1}})
    assert e.value.error == {"type": "Oops", "why": 1}
    with pytest.raises(crmkit.ValidationError, match=r"^rule\.or\[0\]: unknown operator 'nope'$"):
        crmkit.jsonlogic_apply({"or": [{"nope": 1}]})
    assert crmkit.jsonlogic_apply({"cat": ["a", {"var": "b"}]}, {"b": "c"}) == "ac"
    assert crmkit.jsonlogic_apply("apple") == "apple"  # a str is a string, not JSON text
    assert crmkit.jsonlogic_apply({"var": "x"}, {"x": "text data"}) == "text data"


SCHEMA = {
    "purchase_count": "integer",
    "net_revenue": "number",
    "segment": "text",
    "consent": "bool",
    "signup": "date",
    "tags": "list of text",
    "days_since_last_purchase": "integer",
}


def test_fact_schema_declares_typed_facts():
    s = crmkit.FactSchema(SCHEMA)
    assert len(s) == 7
    assert s.names[:2] == ["purchase_count", "net_revenue"]
    assert s.slot("segment") == 2
    assert s.find("nope") is None
    assert s.type_of("tags") == crmkit.FactType.text_list
    assert "consent" in s
    assert s.add("rfm.segment", crmkit.FactType.text) == 7
    with pytest.raises(crmkit.ConflictError):
        s.add("segment", "text")
    with pytest.raises(crmkit.ValidationError, match="unknown fact type 'float'"):
        crmkit.FactSchema({"x": "float"})
    assert crmkit.FactSchema([("a", "number"), ("b", "bool", "a flag")]).names == ["a", "b"]


def test_strict_load_errors_name_their_json_path():
    s = crmkit.FactSchema(SCHEMA)
    rule = {"and": [{">": [{"var": "purchase_count"}, 1]}, {"var": "x"}]}
    with pytest.raises(crmkit.ValidationError) as e:
        crmkit.Rule(rule, s, path="transitions[3].when")
    assert str(e.value) == "transitions[3].when.and[1]: unknown fact 'x'"
    with pytest.raises(crmkit.ValidationError) as e:
        crmkit.Rule({"<": [{"var": "segment"}, 5]}, s)
    assert str(e.value) == ("rule.<[1]: cannot compare or combine a text with an integer (strict "
                            "rules do not convert types)")
    with pytest.raises(crmkit.ValidationError) as e:
        crmkit.Rule({">": [{"var": "signup"}, "next year"]}, s)
    assert str(e.value) == ("rule.>[1]: a date is compared with the text 'next year', which is no "
                            'date literal ("YYYY-MM-DD")')
    with pytest.raises(crmkit.ValidationError, match=r"^rule\.if\[0\]: unknown operator 'foo'$"):
        crmkit.Rule({"if": [{"foo": []}, 1, 2]}, s)


def test_strict_rule_on_one_row_and_its_missing_values():
    s = crmkit.FactSchema(SCHEMA)
    dormant = crmkit.Rule({">": [{"var": "days_since_last_purchase"}, 180]}, s)
    assert dormant.dependencies == ["days_since_last_purchase"]
    assert dormant.result_type == crmkit.FactType.boolean
    assert dormant.test({"days_since_last_purchase": 200}) is True
    assert dormant.test({"days_since_last_purchase": 20}) is False
    assert dormant.test({"days_since_last_purchase": None}) is False   # missing: comparison false
    assert dormant.test({}) is False
    not_dormant = crmkit.Rule({"!": {">": [{"var": "days_since_last_purchase"}, 180]}}, s)
    assert not_dormant.test({}) is True                                 # ! negates the false
    value = crmkit.Rule({"??": [{"var": "days_since_last_purchase"}, -1]}, s)
    assert value.evaluate({}) == -1
    assert crmkit.Rule({"-": [{"var": "signup"}, "2024-01-01"]}, s).evaluate(
        {"signup": datetime.date(2024, 3, 1)}) == 60
    assert crmkit.Rule({"+": [{"var": "signup"}, 1]}, s).evaluate({"signup": "2024-02-28"}) == \
        datetime.date(2024, 2, 29)
    assert crmkit.Rule({"missing": ["segment", "consent"]}, s).evaluate({"consent": True}) == ["segment"]
    assert crmkit.Rule({"in": ["vip", {"var": "tags"}]}, s).test({"tags": ["vip"]}) is True
    assert crmkit.Rule({"/": [{"var": "net_revenue"}, 0]}, s).evaluate({"net_revenue": 5.0}) is None
    with pytest.raises(crmkit.ValidationError, match="an integer fact needs an int"):
        crmkit.Rule({"var": "purchase_count"}, s).test({"purchase_count": "3"})


RULE = {"and": [
    {">=": [{"var": "purchase_count"}, 2]},
    {">": [{"var": "net_revenue"}, 50]},
    {"<": [{"var": "days_since_last_purchase"}, 200]},
    {"==": [{"var": "consent"}, True]},
    {">=": [{"var": "signup"}, "2022-01-01"]},
]}


def test_strict_rule_over_dataframe_columns():
    s = crmkit.FactSchema(SCHEMA)
    rule = crmkit.Rule(RULE, s)
    df = pd.DataFrame({
        "purchase_count": pd.array([3, 1, 5, None, 4, 2], dtype="Int64"),
        "net_revenue": [120.0, 80.0, np.nan, 90.0, 60.0, 51.0],
        "days_since_last_purchase": [10.0, 10.0, 10.0, 10.0, 250.0, 199.0],
        "consent": [True, True, True, True, True, None],
        "signup": pd.to_datetime(["2023-05-01", "2023-05-01", "2023-05-01", "2023-05-01",
                                  "2023-05-01", "2021-12-31"]),
        "segment": ["a", "b", "c", "d", "e", "f"],  # not read by the rule
    })
    out = rule.test(df)
    assert out.dtype == np.bool_
    assert out.tolist() == [True, False, False, False, False, False]
    df.loc[5, "consent"] = True
    df.loc[5, "signup"] = pd.Timestamp("2022-01-01")
    assert rule.test_all(df).tolist() == [True, False, False, False, False, True]
    # the same from a dict of numpy columns; NaN is missing
    cols = {
        "purchase_count": np.array([3, 3, 3]),
        "net_revenue": np.array([60.0, np.nan, 60.0]),
        "days_since_last_purchase": np.array([1, 1, 1]),
        "consent": np.array([True, True, False]),
        "signup": np.array(["2023-01-01", "2023-01-01", "2023-01-01"], dtype="datetime64[D]"),
    }
    assert rule.test(cols).tolist() == [True, False, False]
    negated = crmkit.Rule({"!": RULE}, s)
    assert negated.test(cols).tolist() == [False, True, True]
    tags = crmkit.Rule({"some": [{"var": "tags"}, {"==": [{"var": ""}, "vip"]}]}, s)
    assert tags.test(pd.DataFrame({"tags": [["vip"], [], None, ["b2b", "vip"]]})).tolist() == \
        [True, False, False, True]
    texts = crmkit.Rule({"in": [{"var": "segment"}, ["champions", "loyal"]]}, s)
    assert texts.test({"segment": np.array(["loyal", None, "lost"], dtype=object)}).tolist() == \
        [True, False, False]
    with pytest.raises(crmkit.NotFoundError, match="no column for this fact"):
        rule.test(pd.DataFrame({"purchase_count": [1]}))


def test_strict_rule_columns_keep_missing_bools_and_infinities():
    # Review fixes: Store.facts gives bool facts as pandas' nullable "boolean"; an NA there is
    # missing (the comparison is false, "!" makes it true), not an error and not False.
    s = crmkit.FactSchema(SCHEMA)
    consent = pd.DataFrame({"consent": pd.array([True, None, False], dtype="boolean")})
    assert crmkit.Rule({"==": [{"var": "consent"}, True]}, s).test(consent).tolist() == \
        [True, False, False]
    assert crmkit.Rule({"!": {"==": [{"var": "consent"}, False]}}, s).test(consent).tolist() == \
        [True, True, False]
    # A number fact is finite (facts.hpp): an infinity is refused in columns as on one row (in
    # columns it was read as missing, a wrong answer without an error).
    big = crmkit.Rule({">": [{"var": "net_revenue"}, 50]}, s)
    with pytest.raises(crmkit.ValidationError, match="net_revenue: row 0: a number fact must be finite"):
        big.test({"net_revenue": float("inf")})
    with pytest.raises(crmkit.ValidationError, match="net_revenue: row 0: a number fact must be finite"):
        big.test(pd.DataFrame({"net_revenue": [np.inf, 10.0, np.nan]}))
    assert big.test(pd.DataFrame({"net_revenue": [60.0, 10.0, np.nan]})).tolist() == \
        [True, False, False]
    # An infinity or a float beyond int64 is no integer (it was cast, undefined behaviour).
    count = crmkit.Rule({">=": [{"var": "purchase_count"}, 2]}, s)
    with pytest.raises(crmkit.ValidationError, match=r"purchase_count: row 1: inf is not a whole"):
        count.test(pd.DataFrame({"purchase_count": [3.0, np.inf]}))
    with pytest.raises(crmkit.ValidationError, match=r"purchase_count: row 0: .* 64-bit integer"):
        count.test(pd.DataFrame({"purchase_count": [1e19]}))
    with pytest.raises(crmkit.ValidationError, match="an integer fact needs a whole number"):
        count.test({"purchase_count": float("inf")})
    # A numpy integer on one row is read exactly, not through a double.
    value = crmkit.Rule({"var": "purchase_count"}, s)
    assert value.evaluate({"purchase_count": np.int64(2**53 + 1)}) == 2**53 + 1
