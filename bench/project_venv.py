"""Shared by the bench drivers (bench/value/run.py, bench/dask/run.py): continue a script in the
project's <repo>/.venv interpreter, which has numpy and crmkit, so that any python3 can start it."""

from __future__ import annotations

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROJECT_PYTHON = os.path.join(ROOT, ".venv", "bin", "python")


def reexec(script: str, argv: list[str]) -> None:
    """Re-executes ``script`` with ``argv`` in <repo>/.venv's interpreter unless already there."""
    if os.environ.get("CRMKIT_BENCH_REEXEC") == "1":
        return
    if not os.path.exists(PROJECT_PYTHON):
        sys.exit(f"{os.path.basename(script)}: {PROJECT_PYTHON} not found; run scripts/setup first")
    if os.path.realpath(sys.prefix) == os.path.realpath(os.path.join(ROOT, ".venv")):
        return
    env = dict(os.environ, CRMKIT_BENCH_REEXEC="1")
    os.execve(PROJECT_PYTHON, [PROJECT_PYTHON, os.path.abspath(script), *argv], env)
