"""Runs every Python example as a user would (a fresh interpreter) and checks what it prints;
runs the C++ twin of value_from_store (built in build/cpp, or CRMKIT_CPP_EXAMPLES) and checks that
both print the same numbers."""
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import crmkit
from crmkit import datasets, utils

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "python"
# Where the C++ examples are built (scripts/setup builds them before the Python tests run).
CPP_EXAMPLES = Path(os.environ.get("CRMKIT_CPP_EXAMPLES",
                                   ROOT / "build" / "cpp" / "examples" / "cpp"))


def run(script, *args):
    return subprocess.run([sys.executable, str(EXAMPLES / script), *map(str, args)],
                          capture_output=True, text=True, check=True).stdout


def test_every_python_example_is_covered():
    covered = {"import_cdnow.py", "lifecycle_cdnow.py", "loyalty_cdnow.py", "value_from_store.py"}
    assert {p.name for p in EXAMPLES.glob("*.py")} == covered


def test_import_cdnow_reports_the_sample_and_is_idempotent(tmp_path):
    store = tmp_path / "cdnow.crmkit"
    first = run("import_cdnow.py", store).splitlines()
    assert first == [
        f"store:      {store}",
        "customers:  2,357",
        "purchases:  6,919",
        "revenue:    $244,091.94",
        "this run:   added 6,919 purchases, 2,357 customers (0 duplicates skipped)",
    ]
    second = run("import_cdnow.py", store).splitlines()
    assert second[1:4] == first[1:4]
    assert second[4] == "this run:   added 0 purchases, 0 customers (6,919 duplicates skipped)"


# ---- value_from_store: the C++ and Python twins agree ----------------------------------------

NUMBER = re.compile(r"^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")


def _fields(line: str) -> list[str]:
    """The values of a line "label:  k=v k=v ..." (words without "=" count as values too)."""
    _, _, rest = line.partition(":")
    return [word.partition("=")[2] if "=" in word else word for word in rest.split()]


def _numbers(line: str) -> dict[str, float]:
    _, _, rest = line.partition(":")
    return {k: float(v) for k, _, v in (w.partition("=") for w in rest.split() if "=" in w)}


@pytest.fixture(scope="module")
def value_runs(tmp_path_factory):
    """Both examples, each on a fresh store: (C++ lines, Python lines, Python store path)."""
    binary = CPP_EXAMPLES / "example_value_from_store"
    assert binary.exists(), f"{binary}: build the C++ examples first (scripts/setup)"
    tmp = tmp_path_factory.mktemp("value")
    cpp = subprocess.run([str(binary), str(tmp / "cpp.crmkit")], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    py_store = tmp / "py.crmkit"
    py = run("value_from_store.py", py_store).splitlines()
    return cpp, py, py_store


def test_value_from_store_cpp_and_python_print_the_same_numbers(value_runs):
    cpp, py, _ = value_runs
    assert len(cpp) == len(py) == 9
    assert cpp[0].startswith("store:          /") and py[0].endswith("py.crmkit")
    compared = 0
    for c_line, p_line in zip(cpp[1:], py[1:]):
        label = c_line.partition(":")[0]
        assert label == p_line.partition(":")[0]
        c_fields, p_fields = _fields(c_line), _fields(p_line)
        assert len(c_fields) == len(p_fields), (c_line, p_line)
        for c, p in zip(c_fields, p_fields):
            if label != "ltv parts" and NUMBER.match(c) and NUMBER.match(p):
                # Doubles (summary sums, fits, CLV): the same to 1e-9 relative.
                assert float(c) == pytest.approx(float(p), rel=1e-9, abs=0), (label, c, p)
            else:
                # Text, counts and money (exact decimals): the same characters.
                assert c == p, (label, c, p)
            compared += 1
    assert compared == 36


def test_value_from_store_gives_the_published_cdnow_numbers(value_runs):
    cpp, _, py_store = value_runs
    assert cpp[1] == "purchases:      6919"
    assert cpp[2] == "summary:        2357 customers as of 1997-09-30, in weeks"
    assert cpp[3].startswith("first row:      cdnow-1 customer_id=1 frequency=2 ")
    sums = _numbers(cpp[4])
    published = datasets.load_cdnow_summary(index_col=[0])
    assert sums["frequency"] == 2457 == published["frequency"].sum()
    # Each row's recency and T are within 0.01 of the published (2-decimal) values.
    assert sums["recency"] == pytest.approx(published["recency"].sum(), abs=2357 * 0.005)
    assert sums["T"] == pytest.approx(published["T"].sum(), abs=2357 * 0.005)
    bg = _numbers(cpp[5])
    assert bg["r"] == pytest.approx(0.243, abs=5e-4)
    assert bg["alpha"] == pytest.approx(4.414, abs=5e-4)
    assert bg["a"] == pytest.approx(0.793, abs=5e-4)
    assert bg["b"] == pytest.approx(2.426, abs=5e-4)
    assert bg["log_likelihood"] == pytest.approx(-9582.4, abs=0.05)
    gg = _numbers(cpp[6])
    assert gg["customers"] == 946
    assert gg["p"] == pytest.approx(6.25, abs=5e-3)
    assert gg["q"] == pytest.approx(3.74, abs=5e-3)
    assert gg["v"] == pytest.approx(15.44, abs=1e-2)
    assert gg["log_likelihood"] == pytest.approx(-4055.9, abs=0.05)
    # The store the Python example left behind, row by row against the published summary.
    with crmkit.Store(py_store) as store:
        s = utils.summary_from_store(store, freq="D", freq_multiplier=7,
                                     observation_period_end="1997-09-30", index="external_id")
    ids = [int(e.removeprefix("cdnow-")) for e in s.index]
    expected = published.loc[ids]
    assert np.array_equal(s["frequency"].to_numpy(), expected["frequency"].to_numpy())
    assert np.abs(s["recency"].to_numpy() - expected["recency"].to_numpy()).max() < 0.01
    assert np.abs(s["T"].to_numpy() - expected["T"].to_numpy()).max() < 0.01


# ---- lifecycle_cdnow: the customer_lifecycle machine month by month, twins agree ---------------


def test_lifecycle_cdnow_cpp_and_python_print_the_same_table_and_rerun_adds_nothing(tmp_path):
    binary = CPP_EXAMPLES / "example_lifecycle_cdnow"
    assert binary.exists(), f"{binary}: build the C++ examples first (scripts/setup)"
    cpp = subprocess.run([str(binary), str(tmp_path / "cpp.crmkit")], capture_output=True,
                         text=True, check=True).stdout.splitlines()
    py_store = tmp_path / "py.crmkit"
    py = run("lifecycle_cdnow.py", py_store).splitlines()
    assert py == cpp
    assert py[0] == "customer_lifecycle on CDNOW (2357 customers, 9012 transitions written this run)"
    assert py[1].split() == ["month", "introduction", "growth", "maturity", "dormancy", "churned",
                             "acquired"]
    rows = [line.split() for line in py[2:]]
    assert [r[0] for r in rows] == [f"{y}-{m:02d}" for y in (1997, 1998) for m in range(1, 13)]
    # Every month, the stages hold exactly the customers acquired by then.
    for r in rows:
        assert sum(map(int, r[1:6])) == int(r[6])
    assert rows[0] == ["1997-01", "700", "81", "0", "0", "0", "781"]
    assert rows[2][6] == "2357"
    assert rows[-1] == ["1998-12", "0", "0", "0", "515", "1842", "2357"]
    # A second run evaluates nothing again and prints the same table.
    again = run("lifecycle_cdnow.py", py_store).splitlines()
    assert again[0].endswith("(2357 customers, 0 transitions written this run)")
    assert again[1:] == py[1:]


# ---- loyalty_cdnow: points, tiers, cohorts and the due list on CDNOW, twins agree ---------------


def test_loyalty_cdnow_cpp_and_python_print_the_same_report_checked_independently(tmp_path):
    import pandas as pd

    binary = CPP_EXAMPLES / "example_loyalty_cdnow"
    assert binary.exists(), f"{binary}: build the C++ examples first (scripts/setup)"
    cpp = subprocess.run([str(binary), str(tmp_path / "cpp.crmkit")], capture_output=True,
                         text=True, check=True).stdout.splitlines()
    py_store = tmp_path / "py.crmkit"
    py = run("loyalty_cdnow.py", py_store).splitlines()
    assert py == cpp

    # The same figures computed here from the raw file with pandas: 1 point per whole dollar of
    # each purchase; lots of 1997 expired on 1998-01-01; tiers on the points of the last 365 days.
    raw = pd.read_csv(ROOT / "data" / "CDNOW_sample.txt", sep=r"\s+", header=None,
                      names=["customer", "id", "date", "items", "amount"])
    raw["at"] = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d")
    raw["points"] = np.floor(raw["amount"]).astype(int)
    with_points = raw[raw["points"] > 0]
    earned = int(raw["points"].sum())
    expired = int(raw.loc[raw["at"] < "1998-01-01", "points"].sum())
    assert py[0] == "loyalty on CDNOW (2357 customers), as of 1998-06-30"
    assert py[1] == f"points: {len(with_points)} ledger entries written this run"
    assert py[2] == f"points earned {earned}, expired {expired}, available {earned - expired}"
    # (as_of - 365 days, as_of] with as_of the last microsecond of 1998-06-30: from 1997-07-01 on.
    window = with_points[with_points["at"] >= pd.Timestamp("1997-07-01")]
    recent = window.groupby("customer")["points"].sum().reindex(
        with_points["customer"].unique(), fill_value=0)
    gold, silver = int((recent >= 300).sum()), int(((recent >= 100) & (recent < 300)).sum())
    member = len(recent) - gold - silver
    assert py[3] == (f"tiers of the {len(recent)} customers with points: member {member}, "
                     f"silver {silver}, gold {gold}")
    # Cohorts: month of the first purchase; share of the cohort buying in month k.
    raw["month"] = raw["at"].dt.to_period("M")
    first = raw.groupby("customer")["month"].min().rename("cohort")
    k = raw.join(first, on="customer")
    k["k"] = (k["month"] - k["cohort"]).apply(lambda d: d.n)
    cells = k.groupby(["cohort", "k"])["customer"].nunique().unstack()
    sizes = first.value_counts().sort_index()
    assert py[5].split() == ["cohort", "size"] + [f"k={i}" for i in range(7)]
    for line, (cohort, size) in zip(py[6:9], sizes.items()):
        shares = [f"{cells.loc[cohort, i] / size:.1%}" for i in range(7)]
        assert line.split() == [str(cohort), str(size)] + shares
    assert sizes.sum() == 2357
    # Every customer bought first in 1997-Q1, none was ever contacted, none gave consent: all are
    # overdue (a year after the first purchase) and none is offered a channel.
    assert py[9] == ("due list for 1998-06: 0 to contact through a consented channel, "
                     "2357 due with no consented channel, 0 at their contact limit")
    # A second run writes nothing and prints the same figures.
    again = run("loyalty_cdnow.py", py_store).splitlines()
    assert again[1] == "points: 0 ledger entries written this run"
    assert again[2:] == py[2:]
