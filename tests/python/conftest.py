"""Shared fixtures for the crmkit Python tests."""

from __future__ import annotations

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
