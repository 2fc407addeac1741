"""Issue 9, item 2, from Python: one valid time range on every conversion and write, every
time and integer error naming its field, exact sums past 2^63 minor units, and currencies that
hold money. Each test failed on the code before the fix."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import crmkit
from crmkit import Event, Money, Purchase

from conftest import person

RANGE = "is outside 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999Z"
YEAR_20000 = 568971820800000000  # numpy.datetime64('20000-01-01') in microseconds


def purchase(customer: int, at, amount: str = "1.00") -> Event:
    return Event(customer=customer, at=at, payload=Purchase(amount=Money(amount, "USD")))


# ---- times ---------------------------------------------------------------------------------


def test_numpy_datetime64_outside_the_range_is_refused_naming_the_field(store, snapshot):
    c = store.create_customer(person())
    before = snapshot(store)
    with pytest.raises(crmkit.ValidationError) as e:
        purchase(c.id, np.datetime64("20000-01-01"))
    assert str(e.value) == f"at: 20000-01-01 (year 20000) {RANGE}"
    with pytest.raises(crmkit.ValidationError) as e:
        crmkit.Timestamp(np.datetime64("-0001-01-01"))
    assert str(e.value) == f"time: -001-01-01 (year -1) {RANGE}"
    assert snapshot(store) == before


def test_from_micros_is_checked_and_names_micros():
    assert crmkit.Timestamp.from_micros(0).to_string() == "1970-01-01T00:00:00Z"
    top = crmkit.Timestamp.from_micros(253402300799999999)
    assert top.to_string() == "9999-12-31T23:59:59.999999Z"
    with pytest.raises(crmkit.ValidationError) as e:
        crmkit.Timestamp.from_micros(YEAR_20000)
    assert str(e.value) == (f"micros: {YEAR_20000} microseconds since 1970-01-01 {RANGE} "
                            "(years 0001..9999)")
    with pytest.raises(crmkit.ValidationError) as e:
        crmkit.Timestamp.from_micros(2**63)
    assert str(e.value) == ("micros: 9223372036854775808 is outside "
                            "-9223372036854775808..9223372036854775807")
    with pytest.raises(crmkit.ValidationError) as e:
        crmkit.Timestamp.from_seconds(2**62)
    assert str(e.value).startswith("seconds: 4611686018427387904 is outside -62135596800..")


def test_an_aware_datetime_moved_out_of_the_range_by_its_offset_is_refused():
    early = dt.datetime(1, 1, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    with pytest.raises(crmkit.ValidationError) as e:
        purchase(1, early)
    assert str(e.value) == (f"at: -62135598600000000 microseconds since 1970-01-01 {RANGE} "
                            "(years 0001..9999)")


def test_time_errors_name_the_member_not_time():
    with pytest.raises(crmkit.ValidationError) as e:
        Event(customer=1, at="2024-02-30")
    assert str(e.value).startswith("at: '2024-02-30': day 30 does not exist")
    with pytest.raises(crmkit.ValidationError) as e:
        crmkit.Consent(channel=crmkit.Channel.email, purpose="news", at="nope")
    assert str(e.value).startswith("at: 'nope' is not an ISO 8601 time")
    with pytest.raises(crmkit.ValidationError) as e:
        crmkit.Demographics(birth_date="1990-13-01")
    assert str(e.value) == "birth_date: '1990-13-01': month 13 is outside 1..12"
    with pytest.raises(TypeError) as e:
        Event(customer=1, at=12)
    assert str(e.value).startswith("at: expected a crmkit.Timestamp")


def test_store_arguments_name_the_time_field(store):
    with pytest.raises(crmkit.ValidationError) as e:
        store.facts("2024-13-01")
    assert str(e.value).startswith("as_of: '2024-13-01': month 13")


def test_import_purchases_refuses_a_datetime64_column_past_9999_naming_the_row(store, snapshot):
    before = snapshot(store)
    at = np.array(["2024-01-01", "20000-01-01"], dtype="datetime64[s]")
    frame = pd.DataFrame({"customer": ["a", "b"], "amount": ["1.00", "2.00"]})
    frame["at"] = pd.Series(at) if pd.__version__ >= "2" else list(at)
    with pytest.raises(crmkit.ValidationError) as e:
        store.import_purchases(frame)
    assert str(e.value).startswith("rows[1].at: ")
    assert snapshot(store) == before


# ---- integers ------------------------------------------------------------------------------


@pytest.mark.parametrize("make, message", [
    (lambda: Event(customer=2**63),
     "customer: 9223372036854775808 is outside -9223372036854775808..9223372036854775807"),
    (lambda: Purchase(item_count=2**31),
     "item_count: 2147483648 is outside -2147483648..2147483647"),
    (lambda: crmkit.SurveyResponse(nps=2**31),
     "nps: 2147483648 is outside -2147483648..2147483647"),
    (lambda: crmkit.Customer(max_contacts_per_30_days=2**31),
     "max_contacts_per_30_days: 2147483648 is outside -2147483648..2147483647"),
    (lambda: crmkit.Demographics(household_size=-2**31 - 1),
     "household_size: -2147483649 is outside -2147483648..2147483647"),
    (lambda: crmkit.Date(2**31, 1, 1), "year: 2147483648 is outside -2147483648..2147483647"),
])
def test_integers_out_of_range_name_the_field(make, message):
    with pytest.raises(crmkit.ValidationError) as e:
        make()
    assert str(e.value) == message


def test_integer_members_refuse_other_types_naming_the_field():
    with pytest.raises(TypeError) as e:
        Purchase(item_count="3")
    assert str(e.value) == "item_count: expected int, got str"
    with pytest.raises(TypeError) as e:
        Purchase(item_count=2.0)
    assert str(e.value) == "item_count: expected int, got float"
    assert Purchase(item_count=np.int64(3)).item_count == 3


def test_store_integer_arguments_name_the_field(store):
    store.create_customer(person())
    with pytest.raises(crmkit.ValidationError) as e:
        store.get_customer(2**63)
    assert str(e.value) == "id: 9223372036854775808 is outside -9223372036854775808..9223372036854775807"
    with pytest.raises(crmkit.NotFoundError):
        store.get_customer(2**31)  # fits: an unknown id
    with pytest.raises(crmkit.ValidationError) as e:
        store.events_of(-2**63 - 1)
    assert str(e.value).startswith("customer: -9223372036854775809 is outside")
    with pytest.raises(crmkit.ValidationError) as e:
        store.due_list("2024-01-01", horizon_days=2**31)
    assert str(e.value) == "horizon_days: 2147483648 is outside -2147483648..2147483647"
    store.define_points_program({"name": "club", "currency": "USD",
                                 "rules": [{"name": "spend", "kind": "spend",
                                            "points_per_unit": "1"}]})
    with pytest.raises(crmkit.ValidationError) as e:
        store.redeem_points("club", 1, 2**63, "2024-01-01")
    assert str(e.value) == ("points: 9223372036854775808 is outside "
                            "-9223372036854775808..9223372036854775807")


def test_import_purchases_item_count_past_int32_names_the_row(store):
    frame = pd.DataFrame({"customer": ["a"], "at": ["2024-01-01"], "amount": ["1.00"],
                          "n": [2**31]})
    with pytest.raises(crmkit.ValidationError) as e:
        store.import_purchases(frame, item_count="n")
    assert str(e.value) == "rows[0].n: must be between 1 and 100000, got 2147483648"


# ---- sums, currencies, zero amounts ---------------------------------------------------------


def test_summary_is_exact_past_2_63_minor_units(store):
    c = store.create_customer(person())
    for day in (1, 2, 3):
        store.append_event(Event(customer=c.id, at=f"2024-01-0{day}",
                                 payload=Purchase(amount=Money.from_minor(2**62, "USD"))))
    s = store.summary()
    assert s.revenue == Money.from_minor(3 * 2**62, "USD")
    assert s.revenue.minor_units == 13835058055282163712
    assert s.net_revenue == s.revenue


@pytest.mark.parametrize("code, why", [("XTS", "reserved for testing"), ("XXX", "no currency"),
                                       ("XAU", "gold"), ("XDR", "the IMF special drawing right")])
def test_a_store_refuses_a_currency_that_cannot_hold_money(tmp_path, code, why):
    with pytest.raises(crmkit.ValidationError) as e:
        crmkit.Store(tmp_path / "x.db", code)
    assert str(e.value) == f"currency: '{code}' cannot hold money ({why})"
    assert not crmkit.Currency.holds_money(code)
    assert crmkit.Currency.holds_money("XOF")


def test_zero_amount_purchases_are_accepted_on_every_path(store, tmp_path):
    c = store.create_customer(person())
    store.append_event(purchase(c.id, "2024-01-01", "0.00"))
    store.append_events([purchase(c.id, "2024-01-02", "0")])
    store.import_purchases(pd.DataFrame({"customer": ["c-1"], "at": ["2024-01-03"],
                                         "amount": ["0.00"]}))
    store.export_jsonl(tmp_path / "e.jsonl")
    with crmkit.Store(":memory:", "USD") as other:
        other.import_jsonl(tmp_path / "e.jsonl")
        assert other.summary().purchases == 3
    with pytest.raises(crmkit.ValidationError) as e:
        store.append_event(purchase(c.id, "2024-01-04", "-0.01"))
    assert str(e.value) == "purchase.amount: must not be negative, got -0.01 USD"


def test_import_purchases_names_the_row_and_column_of_a_bad_time_once(store):
    frame = pd.DataFrame({"customer": ["a", "b"], "at": ["2024-01-01", "2024-13-01"],
                          "amount": ["1.00", "2.00"]})
    with pytest.raises(crmkit.ValidationError) as e:
        store.import_purchases(frame)
    assert str(e.value) == "rows[1].at: '2024-13-01': month 13 is outside 1..12"
