"""Timestamp and Date conversions from datetime, pandas, numpy and ISO strings."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import crmkit
from crmkit import Date, Timestamp

UTC = dt.timezone.utc
MICROS_2024_03_01_0430 = 1709267400 * 1_000_000


def test_parse_and_accessors():
    t = Timestamp.parse("2024-03-01T12:30:00+08:00")
    assert t.micros == MICROS_2024_03_01_0430
    assert t.to_string() == "2024-03-01T04:30:00Z"
    assert str(t) == "2024-03-01T04:30:00Z"
    assert repr(t) == "Timestamp('2024-03-01T04:30:00Z')"
    assert Timestamp.from_micros(MICROS_2024_03_01_0430) == t
    assert t.to_datetime() == dt.datetime(2024, 3, 1, 4, 30, tzinfo=UTC)
    assert t.to_datetime().tzinfo is UTC
    assert t.date() == Date(2024, 3, 1)


@pytest.mark.parametrize(
    "value",
    [
        "2024-03-01T04:30:00Z",
        dt.datetime(2024, 3, 1, 4, 30, tzinfo=UTC),
        dt.datetime(2024, 3, 1, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        dt.datetime(2024, 3, 1, 4, 30),  # naive: taken as UTC
        pd.Timestamp("2024-03-01T04:30:00Z"),
        pd.Timestamp("2024-03-01T04:30:00"),
        np.datetime64("2024-03-01T04:30:00"),
        np.datetime64("2024-03-01T04:30:00.000000000"),
    ],
)
def test_every_accepted_form_gives_the_same_instant(value):
    assert Timestamp(value).micros == MICROS_2024_03_01_0430
    consent = crmkit.Consent(at=value)
    assert consent.at.micros == MICROS_2024_03_01_0430


def test_microseconds_and_times_before_the_epoch_are_exact():
    t = Timestamp(dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))
    assert t.micros == -1
    assert Timestamp(dt.datetime(2024, 1, 1, 0, 0, 0, 250000)).to_string() == "2024-01-01T00:00:00.250000Z"
    assert Timestamp.from_micros(-1).to_datetime() == dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def test_ordering_and_hash():
    a = Timestamp("2024-01-01")
    b = Timestamp("2024-01-02")
    assert a < b and a <= b and b > a and b >= a and a != b
    assert a < dt.datetime(2024, 1, 1, 0, 0, 1)
    assert hash(a) == hash(Timestamp.from_micros(a.micros))
    assert (a == "not a time") is False


@pytest.mark.parametrize("text", ["2023-02-29", "2024-13-01", "24:00:01", "yesterday", ""])
def test_impossible_or_malformed_times_are_validation_errors(text):
    with pytest.raises(crmkit.ValidationError) as info:
        Timestamp(text)
    assert str(info.value).startswith("time:")


def test_not_a_time_values_are_refused():
    with pytest.raises(crmkit.ValidationError):
        Timestamp(np.datetime64("NaT"))
    with pytest.raises(crmkit.ValidationError):
        Timestamp(pd.NaT)
    with pytest.raises(TypeError):
        Timestamp(1709267400)
    with pytest.raises(TypeError):
        Timestamp(1.5)


def test_dates():
    d = Date(dt.date(2024, 2, 29))
    assert (d.year, d.month, d.day) == (2024, 2, 29)
    assert Date("2024-02-29") == d
    assert d.to_date() == dt.date(2024, 2, 29)
    assert str(d) == "2024-02-29"
    assert repr(d) == "Date('2024-02-29')"
    assert d.start() == Timestamp("2024-02-29T00:00:00Z")
    assert Date.from_days_since_epoch(d.days_since_epoch()) == d
    with pytest.raises(crmkit.ValidationError):
        Date("2023-02-29")
    with pytest.raises(crmkit.ValidationError):
        Date(2023, 2, 29)
    with pytest.raises(TypeError):
        Date(dt.datetime(2024, 1, 1))  # an instant is not a date


def test_optional_date_members_take_datetime_date():
    demo = crmkit.Demographics(birth_date=dt.date(1990, 5, 17))
    assert demo.birth_date == Date(1990, 5, 17)
    demo.birth_date = "1991-01-02"
    assert demo.birth_date == Date(1991, 1, 2)
    demo.birth_date = None
    assert demo.birth_date is None
