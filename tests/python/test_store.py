"""The store from Python: events, bulk import from pandas, columns as numpy, erasure, JSON Lines."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

import crmkit
from crmkit import Event, Money, Purchase, Refund

from conftest import person, reseal

UTC = dt.timezone.utc


def purchase(customer: int, amount, at="2024-01-10T10:00:00Z", idempotency_key="", **kw) -> Event:
    if not isinstance(amount, Money):
        amount = Money(amount, "USD")
    return Event(customer=customer, at=at, idempotency_key=idempotency_key,
                 payload=Purchase(amount=amount, **kw))


def test_opening_a_file_that_is_not_a_store_names_the_path(tmp_path):
    import sqlite3

    text = tmp_path / "notes.txt"
    text.write_text("this is not a database at all\n" * 200)
    with pytest.raises(crmkit.CorruptError) as info:
        crmkit.Store(text, "USD")
    assert str(info.value) == f"store: '{text}' is not a crmkit store (file is not a database)"
    empty = tmp_path / "empty.crmkit"
    empty.touch()
    fresh = crmkit.Store(empty, "USD")  # an empty file is a new store, as in SQLite
    assert fresh.count_customers() == 0
    fresh.close()
    assert empty.stat().st_size > 0
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t(x)")
    con.commit()
    con.close()
    with pytest.raises(crmkit.CorruptError) as info:
        crmkit.Store(other, "USD")
    assert str(info.value) == (f"store: '{other}' is not a crmkit store "
                               "(tables of another application, no crmkit version)")


def test_open_options_and_context_manager(tmp_path):
    path = tmp_path / "a.db"
    with crmkit.Store(path, "USD", synchronous=crmkit.SyncMode.normal, actor="tester") as s:
        assert isinstance(s, crmkit.Store)
        assert s.path == str(path)
        assert s.currency == crmkit.Currency.of("USD")
        assert s.schema_version() == crmkit.Store.current_schema_version()
    assert s.is_closed()
    with pytest.raises(crmkit.StorageError):
        s.count_customers()
    with crmkit.Store.open(path) as again:
        assert isinstance(again, crmkit.Store)
        assert again.currency.code == "USD"
    with pytest.raises(crmkit.ConflictError):
        crmkit.Store(path, "EUR")
    with pytest.raises(crmkit.NotFoundError):
        crmkit.Store(tmp_path / "missing.db", "USD", create_if_missing=False)
    with pytest.raises(crmkit.ValidationError) as info:
        crmkit.Store(tmp_path / "b.db", "USD", synchronous="sometimes")
    assert str(info.value).startswith("synchronous:")
    with pytest.raises(crmkit.ValidationError):
        crmkit.Store(tmp_path / "c.db")  # a new store needs a currency


def test_events_and_refunds(store, snapshot):
    c = store.create_customer(person())
    e = store.append_event(purchase(c.id, "100.00", order_id="A-1", category="tea"), actor="pos-7")
    assert e.id == 1 and e.type == crmkit.EventType.purchase
    assert e.actor == "pos-7"
    assert e.payload.amount == Money("100.00", "USD")
    assert store.get_event(e.id) == e
    r = store.append_event(
        Event(customer=c.id, at=dt.datetime(2024, 1, 11, tzinfo=UTC),
              payload=Refund(purchase=e.id, amount=Money("30.00", "USD"), reason="broken"))
    )
    assert r.type == crmkit.EventType.refund
    assert store.refundable_amount(e.id) == Money("70.00", "USD")
    assert [x.id for x in store.events_of(c.id)] == [e.id, r.id]
    summary = store.summary()
    assert (summary.purchases, summary.refunds, summary.events) == (1, 1, 2)
    assert summary.net_revenue == Money("70.00", "USD")
    assert Event.from_json(e.to_json()) == e

    before = snapshot(store)
    with pytest.raises(crmkit.ValidationError) as info:
        store.append_event(Event(customer=c.id, at="2024-01-12",
                                 payload=Refund(purchase=e.id, amount=Money("70.01", "USD"))))
    assert "refund.amount" in str(info.value)
    for bad in [Money("-1.00", "USD"), Money("1.00", "EUR")]:
        with pytest.raises(crmkit.ValidationError) as info:
            store.append_event(purchase(c.id, bad))
        assert "purchase.amount" in str(info.value)
    with pytest.raises(crmkit.NotFoundError):
        store.append_event(purchase(999, "1.00"))
    with pytest.raises(crmkit.ValidationError) as info:
        store.append_events([purchase(c.id, "1.00"), purchase(c.id, "-2.00")])
    assert "events[1].purchase.amount" in str(info.value)
    assert snapshot(store) == before


def test_append_events_is_idempotent_by_key(store):
    c = store.create_customer(person())
    events = [purchase(c.id, "1.00", idempotency_key="k1"), purchase(c.id, "2.00", idempotency_key="k2")]
    ids = store.append_events(events)
    assert store.append_events(events) == ids
    assert store.count_events() == 2


@pytest.mark.parametrize("amount", [float("nan"), float("inf"), 1.5])
def test_float_amounts_never_reach_the_store(amount):
    with pytest.raises(crmkit.ValidationError):
        Purchase(amount=Money(amount, "USD"))


@pytest.mark.parametrize("amount", [Decimal("NaN"), Decimal("Infinity"), Decimal("1.001")])
def test_bad_decimal_amounts(amount):
    with pytest.raises(crmkit.ValidationError) as info:
        Money(amount, "USD")
    assert str(info.value).startswith("amount:")


def _frame(amounts):
    return pd.DataFrame(
        {
            "customer": ["c-1", "c-2", "c-1"],
            "at": pd.to_datetime(["2024-01-01 10:00", "2024-01-02 11:30", "2024-01-03 12:00:00.5"], format="ISO8601"),
            "amount": amounts,
            "order": ["o1", "o2", "o3"],
            "cat": ["tea", None, "cups"],
            "n": [1, 2, 3],
        }
    )


@pytest.mark.parametrize("amounts", [["12.34", "0.01", "1000.00"],
                                     [Decimal("12.34"), Decimal("0.01"), Decimal("1000")]])
def test_import_purchases_from_a_dataframe(store, amounts):
    report = store.import_purchases(_frame(amounts), order_id="order", category="cat",
                                    item_count="n", idempotency_key="order")
    assert (report.rows, report.purchases_added, report.duplicates_skipped,
            report.customers_created) == (3, 3, 0, 2)
    again = store.import_purchases(_frame(amounts), order_id="order", category="cat",
                                   item_count="n", idempotency_key="order")
    assert (again.purchases_added, again.duplicates_skipped, again.customers_created) == (0, 3, 0)
    assert store.count_events() == 3

    frame = store.purchases_frame()
    assert list(frame.columns) == ["event_id", "customer_id", "external_id", "at", "amount",
                                   "amount_minor", "refunded_minor", "item_count", "essential",
                                   "currency"]
    assert frame["amount"].tolist() == [Decimal("12.34"), Decimal("0.01"), Decimal("1000.00")]
    assert all(type(v) is Decimal for v in frame["amount"])
    assert frame["amount_minor"].tolist() == [1234, 1, 100000]
    assert frame["refunded_minor"].tolist() == [0, 0, 0]
    assert frame["item_count"].tolist() == [1, 2, 3]
    assert frame["essential"].tolist() == [True, True, True]
    assert frame["currency"].tolist() == ["USD"] * 3
    assert str(frame["at"].dtype) == "datetime64[ns, UTC]"
    assert frame["at"].tolist() == [
        pd.Timestamp("2024-01-01 10:00", tz="UTC"),
        pd.Timestamp("2024-01-02 11:30", tz="UTC"),
        pd.Timestamp("2024-01-03 12:00:00.5", tz="UTC"),
    ]
    ids = frame["customer_id"].tolist()
    assert ids[0] == ids[2] != ids[1]
    assert store.get_customer(ids[0]).external_id == "c-1"
    assert frame["external_id"].tolist() == ["c-1", "c-2", "c-1"]
    e = store.get_event(int(frame["event_id"][1]))
    assert e.payload.order_id == "o2" and e.payload.category == ""


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA, pd.NaT])
def test_import_purchases_refuses_a_missing_external_id_naming_the_row(store, snapshot, missing):
    # str() would have made a customer called "None", "nan", "<NA>" or "NaT" (issue 9).
    df = _frame(["1.00", "2.00", "3.00"])
    df["who"] = pd.Series(["c-1", missing, "c-3"], dtype=object)
    before = snapshot(store)
    with pytest.raises(crmkit.ValidationError) as info:
        store.import_purchases(df, customer="who")
    assert str(info.value) == f"rows[1].who: the external id is missing ({missing!r})"
    assert snapshot(store) == before
    assert store.count_customers() == 0


def test_import_purchases_refuses_float_external_ids_and_takes_ints(store, snapshot):
    # An int id column with a hole becomes float in pandas: 1 would come back as "1.0".
    df = _frame(["1.00", "2.00", "3.00"])
    df["who"] = [1.0, 2.0, 1.0]
    before = snapshot(store)
    with pytest.raises(crmkit.ValidationError) as info:
        store.import_purchases(df, customer="who")
    assert str(info.value).startswith("rows[0].who: expected an external id as str or int, "
                                      "got the float 1.0")
    assert snapshot(store) == before
    df["who"] = [1, 2, 1]
    report = store.import_purchases(df, customer="who")
    assert report.customers_created == 2
    assert store.get_customer_by_external_id("1").external_id == "1"


def test_import_purchases_refuses_float_columns_naming_row_and_column(store, snapshot):
    df = _frame(["1.00", "2.00", "3.00"])
    df["price"] = [1.0, 2.5, 3.0]
    before = snapshot(store)
    with pytest.raises(crmkit.ValidationError) as info:
        store.import_purchases(df, amount="price")
    assert str(info.value).startswith("rows[0].price: binary floating-point")
    df["mixed"] = ["1.00", 2.5, "3.00"]
    with pytest.raises(crmkit.ValidationError) as info:
        store.import_purchases(df, amount="mixed")
    assert str(info.value).startswith("rows[1].mixed:")
    with pytest.raises(crmkit.ValidationError) as info:
        store.import_purchases(_frame(["1.00", "2.001", "3.00"]))
    assert str(info.value).startswith("rows[1].purchase.amount: ")
    assert snapshot(store) == before


def test_import_purchases_with_iso_strings_and_aware_times(store):
    df = pd.DataFrame({"customer": [7, 8],
                       "at": ["2024-03-01T12:30:00+08:00", "2024-03-02"],
                       "amount": ["5", "6.5"]})
    store.import_purchases(df)
    aware = pd.DataFrame({"customer": ["x"], "amount": ["1"],
                          "at": pd.to_datetime(["2024-03-01 12:30"]).tz_localize("Asia/Shanghai")})
    store.import_purchases(aware)
    cols = store.purchase_columns()
    assert len(cols) == 3
    assert cols.at_micros.tolist() == [
        crmkit.Timestamp("2024-03-01T04:30:00Z").micros,
        crmkit.Timestamp("2024-03-02T00:00:00Z").micros,
        crmkit.Timestamp("2024-03-01T04:30:00Z").micros,
    ]
    assert store.get_customer_by_external_id("7").name == "7"
    assert cols.amount_minor.tolist() == [500, 650, 100]
    assert cols.amount_minor.dtype == np.int64
    assert cols.essential.dtype == np.bool_
    assert cols.item_count.dtype == np.int32
    assert not cols.amount_minor.flags.writeable
    with pytest.raises(crmkit.ValidationError) as info:
        store.import_purchases(pd.DataFrame({"customer": ["a"], "at": ["2023-02-29"], "amount": ["1"]}))
    assert str(info.value).startswith("rows[0].at:")


def test_purchase_columns_are_views_not_copies(store):
    store.import_purchases(_frame(["1.00", "2.00", "3.00"]))
    cols = store.purchase_columns()
    a = cols.amount_minor
    b = cols.amount_minor
    assert a.ctypes.data == b.ctypes.data
    del cols
    assert a.tolist() == [100, 200, 300]  # the array keeps the columns alive


def test_erase_customer_from_python(store):
    c = store.create_customer(person(external_id="gone", contacts=[
        crmkit.ContactPoint(kind=crmkit.ContactKind.email, value="gone@example.com")]))
    store.append_event(purchase(c.id, "10.00"))
    report = store.erase_customer(c.id, actor="dpo")
    assert report.customer == c.id
    assert report.suppression_hashes >= 2
    erased = store.get_customer(c.id)
    assert erased.erased is True
    assert erased.contacts == []
    assert store.summary().revenue == Money("10.00", "USD")
    assert store.is_suppressed("gone")
    assert store.is_suppressed("", email="GONE@example.com")
    with pytest.raises(crmkit.SuppressedError):
        store.create_customer(person(external_id="gone"))
    with pytest.raises(crmkit.ConflictError):
        store.create_customer(person(external_id="new", contacts=[
            crmkit.ContactPoint(kind=crmkit.ContactKind.email, value="gone@example.com")]))
    assert store.erase_customer(c.id) == crmkit.EraseReport(customer=c.id)


def test_export_import_jsonl_is_byte_identical(store, tmp_path):
    store.declare_field(crmkit.FieldDef(name="visits", type=crmkit.FieldType.integer))
    a = store.create_customer(person(custom={"visits": 2}))
    b = store.create_customer(person(external_id="c-2", name="Bo"))
    store.append_event(purchase(a.id, "12.34"))
    store.append_event(Event(customer=a.id, at="2024-02-01",
                             payload=crmkit.Referral(referred=b.id)))
    store.erase_customer(b.id)
    first = tmp_path / "first.jsonl"
    store.export_jsonl(first)
    with crmkit.Store(tmp_path / "copy.db", "USD") as copy:
        copy.import_jsonl(first)
        second = tmp_path / "second.jsonl"
        copy.export_jsonl(str(second))
        assert copy.get_customer(a.id) == store.get_customer(a.id)
        with pytest.raises(crmkit.ConflictError):
            copy.import_jsonl(first)  # not empty any more
    assert second.read_bytes() == first.read_bytes()


def test_a_truncated_export_is_refused_whole(store, tmp_path):
    # Issue 9: an export cut before its events, audit log or suppression list used to import
    # what was there. Now the trailer (counts and SHA-256) is missing and nothing is imported.
    a = store.create_customer(person(external_id="c-1"))
    p = store.append_event(purchase(a.id, "12.34"))
    store.append_event(Event(customer=a.id, at="2024-01-11T10:00:00Z",
                             payload=Refund(purchase=p.id, amount=Money("2.00", "USD"))))
    b = store.create_customer(person(external_id="c-2", name="Bo",
                                     contacts=[crmkit.ContactPoint(kind=crmkit.ContactKind.email,
                                                                   value="bo@example.com")]))
    store.erase_customer(b.id)
    path = tmp_path / "whole.jsonl"
    store.export_jsonl(path)
    lines = path.read_text().splitlines(keepends=True)
    assert lines[-1].startswith('{"trailer":{"counts":{"audit":3,"customer":2,"event":2,')
    for kind in ("event", "audit", "suppression", "trailer"):
        n = next(i for i, line in enumerate(lines) if line.startswith('{"' + kind))
        cut = tmp_path / f"cut-before-{kind}.jsonl"
        cut.write_text("".join(lines[:n]))
        with crmkit.Store(tmp_path / f"copy-{kind}.db", "USD") as copy:
            with pytest.raises(crmkit.CorruptError,
                               match=r"^import: the export has no trailer \(truncated\?\)$"):
                copy.import_jsonl(cut)
            assert copy.count_customers(include_deleted=True) == 0
            assert copy.audit_log() == []
            # The whole file still imports, and the erased customer stays suppressed.
            copy.import_jsonl(path)
            with pytest.raises(crmkit.SuppressedError):
                copy.create_customer(person(external_id="c-2", name="Bo"))
    # The refund raised above its purchase, the trailer recomputed: the restore's own checks
    # refuse it, naming the line.
    n = next(i for i, line in enumerate(lines) if '"type":"refund"' in line)
    raised = tmp_path / "raised.jsonl"
    lines[n] = lines[n].replace('"2.00"', '"20.00"')
    raised.write_text(reseal("".join(lines)))
    with crmkit.Store(tmp_path / "copy-raised.db", "USD") as copy:
        with pytest.raises(crmkit.CorruptError,
                           match=rf"^import: line {n + 1}: refund.amount: 20.00 USD is more than "
                                 r"the 12.34 USD left of purchase 1$"):
            copy.import_jsonl(raised)
        assert copy.count_customers(include_deleted=True) == 0


def test_long_calls_release_the_gil(store):
    store.import_purchases(_frame(["1.00", "2.00", "3.00"]))
    errors = []

    def work():
        try:
            for _ in range(20):
                assert store.summary().purchases == 3
                assert len(store.list_customers()) == 2
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_referral_columns(store):
    a = store.create_customer(person(external_id="a"))
    b = store.create_customer(person(external_id="b"))
    assert len(store.referral_columns()) == 0
    store.append_event(Event(customer=a.id, at="2024-02-01T00:00:00Z",
                             payload=crmkit.Referral(referred=b.id)))
    cols = store.referral_columns()
    assert list(cols.referrer) == [a.id] and list(cols.referred) == [b.id]
    assert list(cols.at_micros) == [1706745600000000]


def test_customer_keys_and_external_ids_of(store):
    a = store.create_customer(person("a-1")).id
    b = store.create_customer(person("b-2", name="Bo")).id
    store.delete_customer(b)
    keys = store.customer_keys()
    assert isinstance(keys, crmkit.CustomerKeys) and len(keys) == 2
    assert keys.customer_id.tolist() == [a, b]
    assert keys.external_id == ["a-1", "b-2"]
    assert crmkit._core.external_ids_of(keys, np.array([b, a, b])) == ["b-2", "a-1", "b-2"]
    with pytest.raises(crmkit.NotFoundError, match=r"ids\[1\]: no customer 99 in the store"):
        crmkit._core.external_ids_of(keys, np.array([a, 99]))
