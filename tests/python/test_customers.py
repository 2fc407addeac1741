"""Customer records through the Python API: the life cycle, and bad input refused with the right
error type, a message naming the field, and the store left unchanged."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

import crmkit
from crmkit import Channel, ContactKind, ContactPoint, Customer

from conftest import person


def test_create_get_update_delete_restore(store):
    created = store.create_customer(
        person(
            contacts=[
                ContactPoint(kind=ContactKind.email, value="  Ann.Lee@Example.COM "),
                ContactPoint(kind=ContactKind.phone, value="+86 138-0013-8000"),
            ],
            tags=["vip"],
        ),
        actor="alice",
        source="test",
    )
    assert created.id == 1
    assert created.contacts[0].value == "ann.lee@example.com"
    assert created.contacts[1].value == "+8613800138000"
    assert created.contacts[0].primary is True
    assert store.get_customer(1) == created
    assert store.get_customer_by_external_id("c-1") == created
    assert store.get_customer_by_email("ANN.LEE@example.com").id == 1
    assert store.get_customer_by_phone("0086 13800138000").id == 1
    assert store.find_customer_by_external_id("nobody") is None

    changed = store.get_customer(1)
    changed.name = "Ann Lee-Smith"
    changed.tags = changed.tags + ["newsletter"]  # list members are copies: assign a new list
    updated = store.update_customer(changed, actor="bob")
    assert updated.name == "Ann Lee-Smith"
    assert updated.tags == ["vip", "newsletter"]
    assert store.get_customer(1).name == "Ann Lee-Smith"
    entries = store.audit_log(1)
    assert [e.action for e in entries][:1] == ["create"]
    assert any(e.field == "name" and e.actor == "bob" for e in entries)

    store.delete_customer(1)
    assert store.count_customers() == 0
    assert store.count_customers(include_deleted=True) == 1
    assert store.get_customer(1).deleted is True
    with pytest.raises(crmkit.ConflictError):
        store.delete_customer(1)
    store.restore_customer(1)
    assert store.get_customer(1).deleted is False
    assert store.count_customers() == 1


def test_get_or_create_customer_creates_once_and_returns_the_stored_one(store, snapshot):
    first, created = store.get_or_create_customer(person("g-1", "Grace"), actor="alice")
    assert created is True
    assert first.id == 1 and first.name == "Grace"
    assert [e.action for e in store.audit_log(first.id)] == ["create"]
    assert store.audit_log(first.id)[0].actor == "alice"
    before = snapshot(store)
    # Run again with other data: the stored record comes back as stored, nothing is written.
    again, created = store.get_or_create_customer(person("g-1", "Grace Hopper"))
    assert created is False
    assert again == first and again.name == "Grace"
    assert snapshot(store) == before
    with pytest.raises(crmkit.ValidationError) as info:
        store.get_or_create_customer(person("g-2", ""))
    assert str(info.value) == "name: must not be empty"
    store.erase_customer(first.id)
    with pytest.raises(crmkit.SuppressedError) as info:
        store.get_or_create_customer(person("g-1", "Grace"))
    assert str(info.value) == "customer.external_id: 'g-1' belongs to an erased customer"


def test_list_member_copies_do_not_write_through():
    c = person(tags=["a"])
    c.tags.append("b")
    assert c.tags == ["a"]


def test_struct_repr_and_eq_and_unknown_keyword():
    p = ContactPoint(kind=ContactKind.phone, value="+4915112345678")
    assert repr(p) == (
        "ContactPoint(kind=<ContactKind.phone: 1>, value='+4915112345678', label='', primary=False)"
    )
    assert p == ContactPoint(kind=ContactKind.phone, value="+4915112345678")
    assert p != ContactPoint(kind=ContactKind.phone, value="+4915112345679")
    with pytest.raises(TypeError) as info:
        ContactPoint(valu="x")
    assert "valu" in str(info.value)


def test_json_round_trip():
    c = person(tags=["vip"], custom={"visits": 3})
    text = c.to_json()
    assert json.loads(text)["external_id"] == "c-1"
    assert Customer.from_json(text) == c


def test_custom_field_values_round_trip(store):
    for name, ftype in [
        ("visits", crmkit.FieldType.integer),
        ("credit", crmkit.FieldType.money),
        ("score", crmkit.FieldType.decimal),
        ("since", crmkit.FieldType.date),
        ("vip", crmkit.FieldType.boolean),
        ("note", crmkit.FieldType.text),
    ]:
        store.declare_field(crmkit.FieldDef(name=name, type=ftype))
    values = {
        "visits": 3,
        "credit": crmkit.Money("12.50", "USD"),
        "score": Decimal("4.75"),
        "since": dt.date(2020, 1, 31),
        "vip": True,
        "note": "likes tea",
    }
    stored = store.create_customer(person(custom=values))
    assert stored.custom == values
    assert type(stored.custom["vip"]) is bool and type(stored.custom["visits"]) is int
    assert store.get_customer(stored.id).custom == values


def test_float_custom_value_is_refused_naming_the_field():
    with pytest.raises(crmkit.ValidationError) as info:
        person(custom={"score": 4.75})
    assert str(info.value).startswith("custom.score: binary floating-point")


def test_sql_looking_strings_are_stored_verbatim(store):
    evil = "Robert'); DROP TABLE customers;--"
    c = store.create_customer(person(external_id="x'; DELETE FROM events; --", name=evil,
                                     tags=["' OR 1=1 --"]))
    again = store.get_customer_by_external_id("x'; DELETE FROM events; --")
    assert again.name == evil
    assert again.tags == ["' OR 1=1 --"]
    assert store.count_customers() == 1
    assert c == again


# ---- bad input: type, field in the message, store unchanged ----

@pytest.fixture
def populated(store):
    store.declare_field(crmkit.FieldDef(name="visits", type=crmkit.FieldType.integer))
    store.create_customer(person(external_id="first", name="First"))
    return store


def _refused(store, snapshot, exc_type, field, call):
    before = snapshot(store)
    with pytest.raises(exc_type) as info:
        call()
    assert field in str(info.value)
    assert snapshot(store) == before
    return info.value


def test_malformed_json(populated, snapshot):
    _refused(populated, snapshot, crmkit.ValidationError, "customer",
             lambda: populated.create_customer(Customer.from_json('{"external_id": "x", ')))


def test_unknown_json_key(populated, snapshot):
    err = _refused(populated, snapshot, crmkit.ValidationError, "customer.bogus",
                   lambda: Customer.from_json('{"external_id": "x", "name": "y", "bogus": 1}'))
    assert str(err).startswith("customer")


def test_duplicate_json_key(populated, snapshot):
    _refused(populated, snapshot, crmkit.ValidationError, "duplicate key 'name'",
             lambda: Customer.from_json('{"external_id": "x", "name": "a", "name": "b"}'))


def test_wrong_json_type(populated, snapshot):
    _refused(populated, snapshot, crmkit.ValidationError, "customer.name:",
             lambda: Customer.from_json('{"external_id": "x", "name": 5}'))


def test_undeclared_custom_field(populated, snapshot):
    _refused(populated, snapshot, crmkit.ValidationError, "custom.nope",
             lambda: populated.create_customer(person(external_id="n", custom={"nope": 1})))


def test_wrong_custom_type(populated, snapshot):
    _refused(populated, snapshot, crmkit.ValidationError, "custom.visits",
             lambda: populated.create_customer(person(external_id="n", custom={"visits": "3"})))


def test_wrong_python_type_for_a_member():
    with pytest.raises(TypeError):
        Customer(name=5)


def test_invalid_utf8_through_surrogateescape(populated, snapshot):
    bad = b"Ann \xff Lee".decode("utf-8", "surrogateescape")
    err = _refused(populated, snapshot, crmkit.ValidationError, "name",
                   lambda: populated.create_customer(person(external_id="u", name=bad)))
    assert str(err).startswith("name: is not valid UTF-8")


def test_invalid_utf8_in_json_text(populated, snapshot):
    text = b'{"external_id": "u", "name": "Ann \xff"}'.decode("utf-8", "surrogateescape")
    _refused(populated, snapshot, crmkit.ValidationError, "customer",
             lambda: Customer.from_json(text))


def test_empty_name(populated, snapshot):
    err = _refused(populated, snapshot, crmkit.ValidationError, "name",
                   lambda: populated.create_customer(person(external_id="e", name="")))
    assert str(err).startswith("name:")


def test_oversized_external_id(populated, snapshot):
    err = _refused(populated, snapshot, crmkit.ValidationError, "external_id",
                   lambda: populated.create_customer(person(external_id="x" * 257)))
    assert str(err).startswith("external_id:")


def test_bad_email(populated, snapshot):
    c = person(external_id="m", contacts=[ContactPoint(kind=ContactKind.email, value="not-an-email")])
    _refused(populated, snapshot, crmkit.ValidationError, "contacts[0].value",
             lambda: populated.create_customer(c))


def test_bad_phone(populated, snapshot):
    c = person(external_id="p", contacts=[ContactPoint(kind=ContactKind.phone, value="12ab")])
    _refused(populated, snapshot, crmkit.ValidationError, "contacts[0].value",
             lambda: populated.create_customer(c))


def test_impossible_birth_date(populated, snapshot):
    _refused(populated, snapshot, crmkit.ValidationError, "date",
             lambda: populated.create_customer(
                 person(external_id="d", demographics=crmkit.Demographics(birth_date="2023-02-29"))))


def test_future_birth_date(populated, snapshot):
    future = dt.date.today() + dt.timedelta(days=400)
    _refused(populated, snapshot, crmkit.ValidationError, "demographics.birth_date",
             lambda: populated.create_customer(
                 person(external_id="d", demographics=crmkit.Demographics(birth_date=future))))


def test_duplicate_external_id(populated, snapshot):
    _refused(populated, snapshot, crmkit.ConflictError, "external_id",
             lambda: populated.create_customer(person(external_id="first")))


def test_unknown_customer(populated, snapshot):
    _refused(populated, snapshot, crmkit.NotFoundError, "999",
             lambda: populated.get_customer(999))
    _refused(populated, snapshot, crmkit.NotFoundError, "999",
             lambda: populated.delete_customer(999))


def test_deeply_nested_json(populated, snapshot):
    text = '{"external_id": "x", "name": "y", "custom": {"visits": ' + "[" * 200 + "]" * 200 + "}}"
    _refused(populated, snapshot, crmkit.ValidationError, "customer",
             lambda: Customer.from_json(text))


def test_consent_needs_a_source(populated, snapshot):
    consent = crmkit.Consent(channel=Channel.email, purpose="marketing", at="2024-01-01T00:00:00Z")
    _refused(populated, snapshot, crmkit.ValidationError, "source",
             lambda: populated.set_consent(1, consent))
    consent.source = "web-form"
    updated = populated.set_consent(1, consent)
    assert updated.has_consent(Channel.email, "marketing") is True
    assert updated.has_consent(Channel.sms, "marketing") is False
