"""Runs every Python example as a user would (a fresh interpreter) and checks what it prints."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "python"


def run(script, *args):
    return subprocess.run([sys.executable, str(EXAMPLES / script), *map(str, args)],
                          capture_output=True, text=True, check=True).stdout


def test_every_python_example_is_covered():
    covered = {"import_cdnow.py"}
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
