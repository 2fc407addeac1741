"""Shared fixtures for the crmkit Python tests."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

import crmkit


@pytest.fixture
def store(tmp_path: Path):
    """A fresh USD store in a temporary file (synchronous=off: scratch data)."""
    with crmkit.Store(tmp_path / "crm.db", "USD", synchronous="off") as s:
        yield s


@pytest.fixture
def snapshot(tmp_path: Path):
    """Returns a function giving (summary, count including deleted, export bytes) of a store, to
    check that a refused call changed nothing."""
    counter = {"n": 0}

    def take(s: crmkit.Store):
        counter["n"] += 1
        path = tmp_path / f"snapshot-{counter['n']}.jsonl"
        s.export_jsonl(path)
        return (repr(s.summary()), s.count_customers(include_deleted=True), path.read_bytes())

    return take


def person(external_id: str = "c-1", name: str = "Ann Lee", **fields) -> crmkit.Customer:
    return crmkit.Customer(external_id=external_id, name=name, **fields)


_RECORD_KINDS = ("field", "customer", "event", "opportunity", "state", "transition",
                 "points_program", "points_entry", "audit", "suppression")


def reseal(text: str) -> str:
    """An export's text with its trailer line recomputed for its lines as they are now (a trailer
    already there dropped first): a tampered export whose counts and SHA-256 agree, to test the
    checks behind the trailer (issue 9)."""
    lines = [line for line in text.splitlines() if not line.startswith('{"trailer":')]
    counts = {kind: 0 for kind in _RECORD_KINDS}
    for line in lines[1:]:
        kind = line[2:line.index('"', 2)]
        if kind in counts:
            counts[kind] += 1
    body = "".join(line + "\n" for line in lines)
    trailer = {"trailer": {"counts": dict(sorted(counts.items())),
                           "sha256": hashlib.sha256(body.encode()).hexdigest()}}
    return body + json.dumps(trailer, separators=(",", ":"), sort_keys=True) + "\n"
