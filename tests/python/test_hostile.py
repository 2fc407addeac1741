"""The hostile-input table (issue 9, item 1): every row is one hostile input fed to one call of
the documented Python API, with the outcome it must have:

    accepted(X)                  the call succeeds and what is read back is exactly X
    refused(ErrorClass, "text")  the call raises ErrorClass whose message contains "text"

For every refused call the store's export_jsonl bytes are taken before and after the call and
must be identical: nothing is half-written. Every accepted call on a store is followed by a
round trip (export, import into an empty store, export again: identical bytes), so whatever a
call stores can be restored.

Rows the current code gets wrong, in code other helpers own, carry the CORRECT outcome and
xfail(strict=True) naming the owner; the lead removes the mark after merging their fix.

The module writes one line per row and a summary line to build/hostile.txt (scripts/test prints
it): "HOSTILE: N cases, N as expected (R refused, A accepted), ...".
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest

import crmkit
from crmkit import (
    Consent,
    Customer,
    Demographics,
    Event,
    FieldDef,
    FieldType,
    Interaction,
    Money,
    Purchase,
)

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "build" / "hostile.txt"

MiB = 1 << 20
BIG = 20 * MiB  # "20 MB strings": 20,971,520 bytes
DEEP = 100_000  # nesting depth of the deep JSON cases
BATCH = 1_000_000  # events in the big batch cases

# SQL-looking text: quotes of both kinds, a statement separator, comment markers, a UNION, a
# LIKE wildcard and a backslash. Stored verbatim, it must read back identical.
SQL = "x'); DROP TABLE customers; -- \" OR 1=1 /* UNION SELECT * FROM events */ %_\\"
SQL_TAG = "'; DELETE FROM events WHERE ''='"


# ---- the outcomes ----


@dataclass(frozen=True)
class Accepted:
    stored: Any

    def __str__(self) -> str:
        return f"accepted, stored as {_short(self.stored)}"


@dataclass(frozen=True)
class Refused:
    error: type
    text: str

    def __str__(self) -> str:
        return f"refused: {self.error.__name__} with message containing {self.text!r}"


def accepted(stored: Any) -> Accepted:
    return Accepted(stored)


def refused(error: type, text: str) -> Refused:
    return Refused(error, text)


@dataclass(frozen=True)
class Lazy:
    """A large input, built only when its row runs (the table itself stays small)."""

    what: str
    make: Callable[[], Any]

    def __repr__(self) -> str:
        return self.what


def _short(value: Any) -> str:
    if isinstance(value, Lazy):
        return value.what
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _value(value: Any) -> Any:
    return value.make() if isinstance(value, Lazy) else value


# ---- hostile values ----


def deep_list(depth: int = DEEP) -> Any:
    v: Any = 1
    for _ in range(depth):
        v = [v]
    return v


def deep_dict(depth: int = DEEP) -> Any:
    v: Any = 1
    for _ in range(depth):
        v = {"and": [v]}
    return v


def deep_text(depth: int = DEEP) -> str:
    return "[" * depth + "1" + "]" * depth


def deep_object_text(depth: int = DEEP) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def big_text(n: int = BIG, unit: str = "x") -> str:
    return unit * n


def bad_utf8_json(raw: bytes) -> str:
    """JSON text for a customer whose name holds `raw` bytes, as a Python str: the bytes that are
    not UTF-8 arrive as surrogateescape code points, which the binding turns back into the
    bytes (that is how a str read with errors="surrogateescape" reaches crmkit)."""
    body = b'{"external_id": "h-1", "name": "' + raw + b'"}'
    return body.decode("utf-8", "surrogateescape")


def bad_utf8_event_json(raw: bytes) -> str:
    body = (b'{"customer": 1, "at": "2024-01-05T00:00:00Z", "type": "interaction", '
            b'"interaction": {"kind": "call", "note": "' + raw + b'"}}')
    return body.decode("utf-8", "surrogateescape")


# ---- the calls ----
#
# Each call takes (ctx, value) and returns what the store (or parser) gives back, in the form
# the table compares against. ctx.store is a fresh store: "base" calls get one with declared
# fields, a customer c-base (id 1) and a purchase (event id 1); "empty" calls an empty one.


@dataclass
class Ctx:
    store: Any
    tmp: Path
    base: int = 0
    notes: list[str] = field(default_factory=list)


def _customer(ctx: Ctx, **fields: Any) -> Customer:
    fields.setdefault("external_id", "h-1")
    fields.setdefault("name", "Hostile Test")
    c = ctx.store.create_customer(Customer(**fields))
    return ctx.store.get_customer(c.id)


def _event(ctx: Ctx, payload: Any = None, **fields: Any) -> Event:
    fields.setdefault("customer", ctx.base)
    fields.setdefault("at", "2024-02-01T10:00:00Z")
    if payload is None:
        payload = Purchase(amount=Money("1.00", "USD"))
    e = ctx.store.append_event(Event(payload=payload, **fields))
    return ctx.store.get_event(e.id)


def call_name(ctx: Ctx, v: Any) -> Any:
    return _customer(ctx, name=v).name


def call_external_id(ctx: Ctx, v: Any) -> Any:
    c = _customer(ctx, external_id=v)
    found = ctx.store.get_customer_by_external_id(v)
    assert found.id == c.id
    return found.external_id


def call_tags(ctx: Ctx, v: Any) -> Any:
    return _customer(ctx, tags=list(v)).tags


def call_custom(name: str) -> Callable[[Ctx, Any], Any]:
    def call(ctx: Ctx, v: Any) -> Any:
        return _customer(ctx, custom={name: v}).custom[name]

    call.__name__ = f"call_custom_{name}"
    return call


def call_custom_date(ctx: Ctx, v: Any) -> Any:
    """v: date text, made a crmkit.Date (a str custom value is text, not a date)."""
    return _customer(ctx, custom={"born": crmkit.Date(v)}).custom["born"]


def call_lookup_external_id(ctx: Ctx, v: Any) -> Any:
    return ctx.store.get_customer_by_external_id(v).id


def call_declare_field(ctx: Ctx, v: Any) -> Any:
    ctx.store.declare_field(FieldDef(name=v, type=FieldType.text))
    return [f.name for f in ctx.store.fields()]


def call_consent_source(ctx: Ctx, v: Any) -> Any:
    c = _customer(ctx, consents=[Consent(channel=crmkit.Channel.email, purpose="marketing",
                                         at="2024-01-01", source=v)])
    return c.consents[0].source


def call_consent_at(ctx: Ctx, v: Any) -> Any:
    c = _customer(ctx, consents=[Consent(channel=crmkit.Channel.email, purpose="marketing",
                                         at=v, source="web-form")])
    return c.consents[0].at.to_string()


def call_acquisition_source(ctx: Ctx, v: Any) -> Any:
    return _customer(ctx, acquisition_source=v).acquisition_source


def call_birth_date(ctx: Ctx, v: Any) -> Any:
    return _customer(ctx, demographics=Demographics(birth_date=v)).demographics.birth_date


def call_write_source(ctx: Ctx, v: Any) -> Any:
    c = ctx.store.create_customer(Customer(external_id="h-1", name="Hostile Test"), source=v)
    return ctx.store.audit_log(c.id)[-1].source


def call_write_actor(ctx: Ctx, v: Any) -> Any:
    c = ctx.store.create_customer(Customer(external_id="h-1", name="Hostile Test"), actor=v)
    return ctx.store.audit_log(c.id)[-1].actor


def call_event_source(ctx: Ctx, v: Any) -> Any:
    return _event(ctx, source=v).source


def call_idempotency_key(ctx: Ctx, v: Any) -> Any:
    first = _event(ctx, idempotency_key=v)
    again = ctx.store.append_event(Event(customer=ctx.base, at="2024-02-01T10:00:00Z",
                                         idempotency_key=v,
                                         payload=Purchase(amount=Money("1.00", "USD"))))
    assert again.id == first.id and ctx.store.count_events() == 2  # the repeat added nothing
    return first.idempotency_key


def call_order_id(ctx: Ctx, v: Any) -> Any:
    return _event(ctx, payload=Purchase(order_id=v, amount=Money("1.00", "USD"))).payload.order_id


def call_category(ctx: Ctx, v: Any) -> Any:
    return _event(ctx, payload=Purchase(category=v, amount=Money("1.00", "USD"))).payload.category


def call_note(ctx: Ctx, v: Any) -> Any:
    return _event(ctx, payload=Interaction(kind=crmkit.InteractionKind.call, note=v)).payload.note


def call_event_at(ctx: Ctx, v: Any) -> Any:
    return _event(ctx, at=v).at.to_string()


def call_purchase_amount(ctx: Ctx, v: Any) -> Any:
    """Money(v, "USD") as a purchase amount; read back as the stored amount string."""
    e = _event(ctx, payload=Purchase(amount=Money(v, "USD")))
    return e.payload.amount.amount_string()


def call_purchase_money(ctx: Ctx, v: Any) -> Any:
    """A crmkit.Money built beforehand (v is the amount text) as a purchase amount."""
    amount = Money(v, "USD")
    e = _event(ctx, payload=Purchase(amount=amount))
    return e.payload.amount.amount_string()


def call_import_amount(ctx: Ctx, v: Any) -> Any:
    frame = pd.DataFrame({"customer": ["c-base"], "at": ["2024-03-01T00:00:00Z"], "amount": [v]})
    report = ctx.store.import_purchases(frame)
    assert report.purchases_added == 1
    return ctx.store.get_event(2).payload.amount.amount_string()


def call_import_customer(ctx: Ctx, v: Any) -> Any:
    # dtype=object: pandas' Arrow-backed str columns cannot hold a lone surrogate at all.
    frame = pd.DataFrame({"customer": pd.Series([v], dtype=object), "at": ["2024-03-01T00:00:00Z"],
                          "amount": ["5.00"]})
    report = ctx.store.import_purchases(frame)
    assert report.customers_created == 1
    return ctx.store.get_customer_by_external_id(v).external_id


def call_import_key(ctx: Ctx, v: Any) -> Any:
    frame = pd.DataFrame({"customer": ["c-base"], "at": ["2024-03-01T00:00:00Z"],
                          "amount": ["5.00"], "key": [v]})
    ctx.store.import_purchases(frame, idempotency_key="key")
    again = ctx.store.import_purchases(frame, idempotency_key="key")
    assert again.duplicates_skipped == 1 and ctx.store.count_events() == 2
    return ctx.store.get_event(2).idempotency_key


def call_import_at(ctx: Ctx, v: Any) -> Any:
    frame = pd.DataFrame({"customer": ["c-base"], "at": [v], "amount": ["5.00"]})
    ctx.store.import_purchases(frame)
    return ctx.store.get_event(2).at.to_string()


def call_append_events(ctx: Ctx, v: Any) -> Any:
    """v: a list of events for customer 1. Returns (events added, revenue)."""
    started = time.perf_counter()
    try:
        ids = ctx.store.append_events(v)
    finally:
        ctx.notes.append(f"{len(v):,} events in {time.perf_counter() - started:.1f} s")
    s = ctx.store.summary()
    return (len(ids), s.events, s.revenue.to_string())


def call_import_purchases_spec(ctx: Ctx, v: Any) -> Any:
    started = time.perf_counter()
    try:
        report = ctx.store.import_purchases(v)
    finally:
        ctx.notes.append(f"{len(v.amount):,} rows in {time.perf_counter() - started:.1f} s")
    s = ctx.store.summary()
    return (report.purchases_added, s.events, s.revenue.to_string())


def call_customer_from_json(ctx: Ctx, v: Any) -> Any:
    c = Customer.from_json(v)
    return (c.external_id, c.name)


def call_event_from_json(ctx: Ctx, v: Any) -> Any:
    """Returns (at, type, the purchase amount or the payload's repr)."""
    e = Event.from_json(v)
    detail = (e.payload.amount.amount_string() if e.type == crmkit.EventType.purchase
              else repr(e.payload))
    return (e.at.to_string(), e.type.name, detail)


def call_rule(ctx: Ctx, v: Any) -> Any:
    schema = crmkit.FactSchema([("orders", "integer")])
    return crmkit.Rule(v, schema).source


def call_jsonlogic_rule(ctx: Ctx, v: Any) -> Any:
    return crmkit.jsonlogic_apply(v, {"x": 1})


def call_jsonlogic_data(ctx: Ctx, v: Any) -> Any:
    return crmkit.jsonlogic_apply({"var": "x"}, v)


def call_campaign_rule(ctx: Ctx, v: Any) -> Any:
    return len(ctx.store.campaign_audience("2024-06-01", rule=v))


def call_segment_rules(ctx: Ctx, v: Any) -> Any:
    return len(ctx.store.segments("2024-06-01", rules=v))


def call_window_fact(ctx: Ctx, v: Any) -> Any:
    return crmkit.window_fact(v)


def call_points_program(ctx: Ctx, v: Any) -> Any:
    return ctx.store.define_points_program(v)["name"]


def call_import_jsonl(ctx: Ctx, v: Any) -> Any:
    """v: bytes of a JSON Lines export (see export_with). Imported into the empty ctx.store;
    returns (customers, events) of the result."""
    path = ctx.tmp / "hostile.jsonl"
    path.write_bytes(v)
    ctx.store.import_jsonl(path)
    return (ctx.store.count_customers(include_deleted=True), ctx.store.count_events())


@dataclass(frozen=True)
class Call:
    fn: Callable[[Ctx, Any], Any]
    setup: str = "base"  # "base" or "empty"


CALLS: dict[str, Call] = {
    "create_customer(name=)": Call(call_name),
    "create_customer(external_id=)": Call(call_external_id),
    "create_customer(tags=)": Call(call_tags),
    "create_customer(custom text)": Call(call_custom("notes")),
    "create_customer(custom date)": Call(call_custom_date),
    "create_customer(custom decimal)": Call(call_custom("score")),
    "create_customer(custom money)": Call(call_custom("budget")),
    "create_customer(custom integer)": Call(call_custom("visits")),
    "create_customer(consents[0].source=)": Call(call_consent_source),
    "get_customer_by_external_id": Call(call_lookup_external_id),
    "declare_field(FieldDef(name=))": Call(call_declare_field),
    "create_customer(consents[0].at=)": Call(call_consent_at),
    "create_customer(acquisition_source=)": Call(call_acquisition_source),
    "create_customer(birth_date=)": Call(call_birth_date),
    "create_customer(..., source=)": Call(call_write_source),
    "create_customer(..., actor=)": Call(call_write_actor),
    "append_event(source=)": Call(call_event_source),
    "append_event(idempotency_key=)": Call(call_idempotency_key),
    "append_event(Purchase(order_id=))": Call(call_order_id),
    "append_event(Purchase(category=))": Call(call_category),
    "append_event(Interaction(note=))": Call(call_note),
    "append_event(at=)": Call(call_event_at),
    "append_event(Purchase(amount=Money(v)))": Call(call_purchase_amount),
    "import_purchases(amount column)": Call(call_import_amount),
    "import_purchases(customer column)": Call(call_import_customer),
    "import_purchases(idempotency_key column)": Call(call_import_key),
    "import_purchases(at column)": Call(call_import_at),
    "append_events(batch)": Call(call_append_events),
    "import_purchases(PurchaseImport)": Call(call_import_purchases_spec),
    "Customer.from_json": Call(call_customer_from_json),
    "Event.from_json": Call(call_event_from_json),
    "Rule(rule, schema)": Call(call_rule),
    "jsonlogic_apply(rule)": Call(call_jsonlogic_rule),
    "jsonlogic_apply(data)": Call(call_jsonlogic_data),
    "campaign_audience(rule=)": Call(call_campaign_rule),
    "segments(rules=)": Call(call_segment_rules),
    "window_fact(declaration)": Call(call_window_fact),
    "define_points_program(program)": Call(call_points_program),
    "import_jsonl": Call(call_import_jsonl, setup="empty"),
}


def open_store(path: Path) -> Any:
    return crmkit.Store(path, "USD", synchronous="off")


def setup_base(store: Any) -> int:
    store.declare_field(FieldDef(name="notes", type=FieldType.text))
    store.declare_field(FieldDef(name="born", type=FieldType.date))
    store.declare_field(FieldDef(name="score", type=FieldType.decimal))
    store.declare_field(FieldDef(name="budget", type=FieldType.money))
    store.declare_field(FieldDef(name="visits", type=FieldType.integer))
    c = store.create_customer(Customer(external_id="c-base", name="Base Customer"))
    store.append_event(Event(customer=c.id, at="2024-01-10T10:00:00Z",
                             payload=Purchase(amount=Money("10.00", "USD"))))
    return c.id


_EXPORT_TEMPLATE: dict[str, bytes] = {}


def export_template() -> list[bytes]:
    """The lines of a small valid export: header, one customer, one purchase (and its audit)."""
    if "lines" not in _EXPORT_TEMPLATE:
        import tempfile

        with tempfile.TemporaryDirectory() as d:
            with open_store(Path(d) / "t.db") as s:
                c = s.create_customer(Customer(external_id="c-1", name="Ann Lee"))
                s.append_event(Event(customer=c.id, at="2024-01-10T10:00:00Z",
                                     payload=Purchase(amount=Money("10.00", "USD"))))
                s.export_jsonl(Path(d) / "t.jsonl")
            _EXPORT_TEMPLATE["lines"] = (Path(d) / "t.jsonl").read_bytes()
    return _EXPORT_TEMPLATE["lines"].splitlines(keepends=True)


def line_index(prefix: bytes) -> int:
    lines = export_template()
    for i, line in enumerate(lines):
        if line.startswith(prefix):
            return i
    raise AssertionError(f"no export line starts with {prefix!r}")


def export_with(prefix: bytes, new_line: bytes) -> bytes:
    """The template export with the line starting with `prefix` replaced by `new_line`."""
    lines = export_template()
    i = line_index(prefix)
    return b"".join(lines[:i] + [new_line.rstrip(b"\n") + b"\n"] + lines[i + 1:])


def compact(value: Any) -> bytes:
    """JSON as export_jsonl writes it (nlohmann's dump: compact, keys sorted, UTF-8 as is)."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def customer_line(**changes: Any) -> bytes:
    """The template's customer line, with top-level keys of the customer object replaced by raw
    JSON fragments (bytes)."""
    line = export_template()[line_index(b'{"customer"')]
    assert compact(json.loads(line)) == line.rstrip(b"\n"), "compact() must rewrite the line as is"
    obj = json.loads(line)["customer"]
    parts = []
    for key in sorted(set(obj) | set(changes)):
        raw = changes[key] if key in changes else compact(obj[key])
        parts.append(b'"' + key.encode() + b'":' + raw)
    return b'{"customer":{' + b",".join(parts) + b"}}"


def event_line(**changes: Any) -> bytes:
    line = export_template()[line_index(b'{"event"')]
    assert compact(json.loads(line)) == line.rstrip(b"\n"), "compact() must rewrite the line as is"
    obj = json.loads(line)["event"]
    parts = []
    for key in sorted(set(obj) | set(changes)):
        raw = changes[key] if key in changes else compact(obj[key])
        parts.append(b'"' + key.encode() + b'":' + raw)
    return b'{"event":{' + b",".join(parts) + b"}}"


def jsonl_customer(**changes: Any) -> Lazy:
    desc = ", ".join(f"{k}={_short(v)}" for k, v in changes.items())
    return Lazy(f"export with customer line ({desc})",
                lambda: export_with(b'{"customer"', customer_line(**{
                    k: (v() if callable(v) else v) for k, v in changes.items()})))


def jsonl_event(**changes: Any) -> Lazy:
    desc = ", ".join(f"{k}={_short(v)}" for k, v in changes.items())
    return Lazy(f"export with event line ({desc})",
                lambda: export_with(b'{"event"', event_line(**{
                    k: (v() if callable(v) else v) for k, v in changes.items()})))


START_MICROS = 1_706_745_600_000_000  # 2024-02-01T00:00:00Z


def purchases(n: int, last_amount: str = "1.00") -> Lazy:
    def make() -> list[Event]:
        ev = Event(customer=1, at="2024-02-01T10:00:00Z", payload=Purchase(amount=Money("1.00", "USD")))
        batch = [ev] * (n - 1)
        batch.append(Event(customer=1, at="2024-02-01T10:00:00Z",
                           payload=Purchase(amount=Money(last_amount, "USD"))))
        return batch

    return Lazy(f"{n:,} purchase events (the last of {last_amount})", make)


def purchase_import(n: int, last_amount: str = "1.00") -> Lazy:
    """A crmkit.PurchaseImport (what import_purchases makes of a DataFrame, passed through) of
    `n` purchases of c-base a second apart."""

    def make() -> Any:
        spec = crmkit.PurchaseImport()
        spec.currency = "USD"
        spec.customer_external_id = ["c-base"] * n
        spec._set_at_micros(np.arange(n, dtype=np.int64) * 1_000_000 + START_MICROS)
        amounts = ["1.00"] * n
        amounts[-1] = last_amount
        spec.amount = amounts
        return spec

    return Lazy(f"PurchaseImport of {n:,} purchases (the last of {last_amount})", make)


# ---- the table ----

# Where the template export holds its customer and its event (1-based line numbers).
CUSTOMER_LINE = line_index(b'{"customer"') + 1
EVENT_LINE = line_index(b'{"event"') + 1

V = crmkit.ValidationError
O = crmkit.MoneyOverflowError
C = crmkit.CorruptError

SURROGATE = "\ud800"
LONE_LOW = "\udcff"  # a surrogateescape code point: the byte 0xFF, not UTF-8
NUL = "a\x00b"


# Owners of the holes this table finds outside this helper's code (see the module docstring).
STORE_CTX = "the lead (core/src/store, the write scope)"
BINDINGS_STORE = "the lead (bindings/python/store.cpp)"
BINDINGS_RULES = "the lead (bindings/python/rules.cpp)"
RESTORE_CORRUPT = ("a damaged record line is refused with ValidationError, not Error{corrupt} "
                   "naming the line")


def xfail(owner: str, why: str) -> Any:
    return pytest.mark.xfail(strict=True, reason=f"owned by {owner}: {why}")


@dataclass(frozen=True)
class Row:
    name: str
    call: str
    input: Any
    expect: Accepted | Refused
    marks: tuple = ()


def row(name: str, call: str, value: Any, expect: Accepted | Refused, *marks: Any) -> Row:
    assert call in CALLS, call
    return Row(name, call, value, expect, tuple(marks))


TABLE: list[Row] = [
    # -- SQL-looking text in every text field: stored verbatim, read back identical --
    row("sql-name", "create_customer(name=)", SQL, accepted(SQL)),
    row("sql-external-id", "create_customer(external_id=)", SQL, accepted(SQL)),
    row("sql-tag", "create_customer(tags=)", [SQL_TAG, SQL], accepted([SQL_TAG, SQL])),
    row("sql-custom-text", "create_customer(custom text)", SQL, accepted(SQL)),
    row("sql-consent-source", "create_customer(consents[0].source=)", SQL, accepted(SQL)),
    row("sql-acquisition-source", "create_customer(acquisition_source=)", SQL, accepted(SQL)),
    row("sql-write-source", "create_customer(..., source=)", SQL, accepted(SQL)),
    row("sql-write-actor", "create_customer(..., actor=)", SQL, accepted(SQL)),
    row("sql-event-source", "append_event(source=)", SQL, accepted(SQL)),
    row("sql-idempotency-key", "append_event(idempotency_key=)", SQL, accepted(SQL)),
    row("sql-order-id", "append_event(Purchase(order_id=))", SQL, accepted(SQL)),
    row("sql-category", "append_event(Purchase(category=))", SQL, accepted(SQL)),
    row("sql-note", "append_event(Interaction(note=))", SQL, accepted(SQL)),
    row("sql-import-customer", "import_purchases(customer column)", SQL, accepted(SQL)),
    row("sql-import-key", "import_purchases(idempotency_key column)", SQL, accepted(SQL)),
    row("sql-lookup", "get_customer_by_external_id", "c-base' OR '1'='1",
        refused(crmkit.NotFoundError,
                "customer.external_id: no customer with external id 'c-base' OR '1'='1'")),
    row("sql-field-name", "declare_field(FieldDef(name=))", "x; DROP TABLE fields",
        refused(V, "field.name: must match [a-z][a-z0-9_]{0,63}, got 'x; DROP TABLE fields'")),
    # -- 20 MB strings: refused with the documented limit of each field --
    row("20mb-name", "create_customer(name=)", Lazy("20 MiB of 'x'", big_text),
        refused(V, f"name: is {BIG} bytes, longer than the limit of 512")),
    row("20mb-external-id", "create_customer(external_id=)", Lazy("20 MiB of 'x'", big_text),
        refused(V, f"external_id: is {BIG} bytes, longer than the limit of 256")),
    row("20mb-tag", "create_customer(tags=)", Lazy("[20 MiB of 'x']", lambda: [big_text()]),
        refused(V, f"tags[0]: is {BIG} bytes, longer than the limit of 256")),
    row("20mb-custom-text", "create_customer(custom text)", Lazy("20 MiB of 'x'", big_text),
        refused(V, f"custom.notes: is {BIG} bytes, longer than the limit of 4096")),
    row("20mb-consent-source", "create_customer(consents[0].source=)",
        Lazy("20 MiB of 'x'", big_text),
        refused(V, f"consents[0].source: is {BIG} bytes, longer than the limit of 256")),
    row("20mb-event-source", "append_event(source=)", Lazy("20 MiB of 'x'", big_text),
        refused(V, f"source: is {BIG} bytes, longer than the limit of 256")),
    row("20mb-idempotency-key", "append_event(idempotency_key=)", Lazy("20 MiB of 'x'", big_text),
        refused(V, f"idempotency_key: is {BIG} bytes, longer than the limit of 256")),
    row("20mb-note", "append_event(Interaction(note=))", Lazy("20 MiB of 'x'", big_text),
        refused(V, f"interaction.note: is {BIG} bytes, longer than the limit of 4096")),
    row("20mb-write-source", "create_customer(..., source=)", Lazy("20 MiB of 'x'", big_text),
        refused(V, f"source: is {BIG} bytes, longer than the limit of 256")),
    row("20mb-amount-digits", "append_event(Purchase(amount=Money(v)))",
        Lazy("'1' and 20 MiB of '0'", lambda: "1" + big_text(unit="0")),
        refused(O, "amount: '1000000000")),
    row("20mb-customer-json", "Customer.from_json",
        Lazy("customer JSON with a 20 MiB name",
             lambda: '{"external_id": "h-1", "name": "' + big_text() + '"}'),
        refused(V, f"customer: JSON text is {BIG + 34} bytes, over the limit of 16777216")),
    row("20mb-rule-text", "Rule(rule, schema)",
        Lazy("a rule with a 20 MiB text literal",
             lambda: '{"==": [{"var": "orders"}, "' + big_text() + '"]}'),
        refused(V, f"rule: JSON text is {BIG + 31} bytes, over the limit of 16777216")),
    row("100k-tags", "create_customer(tags=)", Lazy("100,000 tags", lambda: [f"t{i}" for i in range(100_000)]),
        refused(V, "tags: at most 1000 items, got 100000")),
    row("20mb-jsonl-line", "import_jsonl", jsonl_customer(name=lambda: b'"' + b"x" * BIG + b'"'),
        refused(C, f"import: line {CUSTOMER_LINE}: JSON text is")),
    # -- NUL characters inside strings --
    row("nul-name", "create_customer(name=)", NUL, refused(V, "name: contains a NUL byte (at byte 1)")),
    row("nul-external-id", "create_customer(external_id=)", NUL,
        refused(V, "external_id: contains a NUL byte (at byte 1)")),
    row("nul-tag", "create_customer(tags=)", [NUL], refused(V, "tags[0]: contains a NUL byte (at byte 1)")),
    row("nul-custom-text", "create_customer(custom text)", NUL,
        refused(V, "custom.notes: contains a NUL byte (at byte 1)")),
    row("nul-event-source", "append_event(source=)", NUL,
        refused(V, "source: contains a NUL byte (at byte 1)")),
    row("nul-idempotency-key", "append_event(idempotency_key=)", NUL,
        refused(V, "idempotency_key: contains a NUL byte (at byte 1)")),
    row("nul-note", "append_event(Interaction(note=))", NUL,
        refused(V, "interaction.note: contains a NUL byte (at byte 1)")),
    row("nul-write-actor", "create_customer(..., actor=)", NUL,
        refused(V, "actor: contains a NUL byte (at byte 1)")),
    row("nul-import-customer", "import_purchases(customer column)", NUL,
        refused(V, "contains a NUL byte (at byte 1)")),
    row("nul-raw-in-customer-json", "Customer.from_json",
        '{"external_id": "h-1", "name": "a\x00b"}',
        refused(V, "customer: malformed JSON at byte 34: NUL byte in the text")),
    row("nul-escaped-in-customer-json", "Customer.from_json",
        '{"external_id": "h-1", "name": "a\\u0000b"}', accepted(("h-1", NUL))),
    row("nul-escaped-in-jsonl", "import_jsonl", jsonl_customer(name=b'"a\\u0000b"'),
        refused(C, f"import: line {CUSTOMER_LINE}: name: contains a NUL byte (at byte 1)")),
    # -- lone surrogates from Python --
    row("surrogate-name", "create_customer(name=)", SURROGATE,
        refused(V, "name: is not valid UTF-8 text (it holds a lone surrogate)")),
    row("surrogate-escape-name", "create_customer(name=)", "a" + LONE_LOW,
        refused(V, "name: is not valid UTF-8 (at byte 1)")),
    row("surrogate-tag", "create_customer(tags=)", [SURROGATE],
        refused(V, "tags[0]: is not valid UTF-8 text (it holds a lone surrogate)")),
    row("surrogate-custom-text", "create_customer(custom text)", SURROGATE,
        refused(V, "custom.notes: is not valid UTF-8 text (it holds a lone surrogate)")),
    row("surrogate-idempotency-key", "append_event(idempotency_key=)", SURROGATE,
        refused(V, "idempotency_key: is not valid UTF-8 text (it holds a lone surrogate)")),
    row("surrogate-amount", "append_event(Purchase(amount=Money(v)))", SURROGATE,
        refused(V, "amount: is not valid UTF-8 text (it holds a lone surrogate)")),
    row("surrogate-write-source", "create_customer(..., source=)", SURROGATE,
        refused(V, "source: is not valid UTF-8 text (it holds a lone surrogate)")),
    row("surrogate-import-customer", "import_purchases(customer column)", SURROGATE,
        refused(V, "rows[0].customer: is not valid UTF-8 text (it holds a lone surrogate)")),
    row("surrogate-customer-json", "Customer.from_json",
        '{"external_id": "h-1", "name": "' + SURROGATE + '"}',
        refused(V, "customer: is not valid UTF-8 text (it holds a lone surrogate)")),
    row("surrogate-escaped-customer-json", "Customer.from_json",
        '{"external_id": "h-1", "name": "\\ud800"}',
        refused(V, "customer: malformed JSON at byte")),
    row("surrogate-escaped-jsonl", "import_jsonl", jsonl_customer(name=b'"\\ud800"'),
        refused(C, f"import: line {CUSTOMER_LINE}: malformed JSON at byte")),
    # -- invalid UTF-8 bytes in JSON text --
    row("utf8-ff-customer-json", "Customer.from_json", bad_utf8_json(b"\xff"),
        refused(V, "customer: malformed JSON at byte 33: syntax error while parsing value - "
                   "invalid string: ill-formed UTF-8 byte")),
    row("utf8-overlong-customer-json", "Customer.from_json", bad_utf8_json(b"\xc0\xaf"),
        refused(V, "customer: malformed JSON at byte 33: syntax error while parsing value - "
                   "invalid string: ill-formed UTF-8 byte")),
    row("utf8-cesu-surrogate-event-json", "Event.from_json", bad_utf8_event_json(b"\xed\xa0\x80"),
        refused(V, "event: malformed JSON at byte")),
    row("utf8-ff-jsonl", "import_jsonl", jsonl_customer(name=b'"\xff"'),
        refused(C, f"import: line {CUSTOMER_LINE}: malformed JSON at byte")),
    row("utf8-truncated-jsonl", "import_jsonl", jsonl_customer(name=b'"\xe4\xb8"'),
        refused(C, f"import: line {CUSTOMER_LINE}: malformed JSON at byte")),
    # -- NaN, infinities, 1e400 and 30-digit amounts --
    row("nan-float-amount", "append_event(Purchase(amount=Money(v)))", float("nan"),
        refused(V, "amount: binary floating-point numbers are not accepted as money")),
    row("inf-float-amount", "append_event(Purchase(amount=Money(v)))", float("inf"),
        refused(V, "amount: binary floating-point numbers are not accepted as money")),
    row("-inf-float-amount", "append_event(Purchase(amount=Money(v)))", float("-inf"),
        refused(V, "amount: binary floating-point numbers are not accepted as money")),
    row("nan-decimal-amount", "append_event(Purchase(amount=Money(v)))", Decimal("NaN"),
        refused(V, "amount: 'NaN' is not a decimal number")),
    row("snan-decimal-amount", "append_event(Purchase(amount=Money(v)))", Decimal("sNaN"),
        refused(V, "amount: 'sNaN' is not a decimal number")),
    row("inf-decimal-amount", "append_event(Purchase(amount=Money(v)))", Decimal("Infinity"),
        refused(V, "amount: 'Infinity' is not a decimal number")),
    row("-inf-decimal-amount", "append_event(Purchase(amount=Money(v)))", Decimal("-Infinity"),
        refused(V, "amount: '-Infinity' is not a decimal number")),
    row("1e400-decimal-amount", "append_event(Purchase(amount=Money(v)))", Decimal("1e400"),
        refused(O, "amount: '1000000000")),
    row("nan-text-amount", "append_event(Purchase(amount=Money(v)))", "NaN",
        refused(V, "amount: 'NaN' is not a decimal number")),
    row("inf-text-amount", "append_event(Purchase(amount=Money(v)))", "inf",
        refused(V, "amount: 'inf' is not a decimal number")),
    row("-inf-text-amount", "append_event(Purchase(amount=Money(v)))", "-inf",
        refused(V, "amount: '-inf' is not a decimal number")),
    row("1e400-text-amount", "append_event(Purchase(amount=Money(v)))", "1e400",
        refused(V, "amount: '1e400' is not a decimal number")),
    row("30-digit-text-amount", "append_event(Purchase(amount=Money(v)))",
        "123456789012345678901234567890",
        refused(V, "purchase.amount: 123456789012345678901234567890.00 USD is over the ledger's "
                   "limit of 92233720368547758.07 USD")),
    row("30-digit-decimal-amount", "append_event(Purchase(amount=Money(v)))",
        Decimal("123456789012345678901234567890"),
        refused(V, "purchase.amount: 123456789012345678901234567890.00 USD is over the ledger's "
                   "limit of 92233720368547758.07 USD")),
    row("largest-ledger-amount", "append_event(Purchase(amount=Money(v)))", "92233720368547758.07",
        accepted("92233720368547758.07")),
    row("30-decimals-amount", "append_event(Purchase(amount=Money(v)))",
        "1.000000000000000000000000000001",
        refused(V, "amount: 1.000000000000000000000000000001 has more decimals than USD allows (2)")),
    row("30-digit-custom-money", "create_customer(custom money)",
        Lazy("Money('123456789012345678901234567890', 'USD')",
             lambda: Money("123456789012345678901234567890", "USD")),
        accepted(Money("123456789012345678901234567890", "USD"))),
    row("30-digit-custom-decimal", "create_customer(custom decimal)",
        Decimal("123456789012345678901234567890.123"),
        accepted(Decimal("123456789012345678901234567890.123"))),
    row("nan-custom-decimal", "create_customer(custom decimal)", Decimal("NaN"),
        refused(V, "custom.score: 'NaN' is not a decimal number")),
    row("inf-float-custom-decimal", "create_customer(custom decimal)", float("inf"),
        refused(V, "custom.score: binary floating-point numbers are not accepted")),
    row("1e400-custom-integer", "create_customer(custom integer)", 10 ** 400,
        refused(O, "custom.visits: 1000000000")),
    row("nan-import-amount", "import_purchases(amount column)", float("nan"),
        refused(V, "rows[0].amount: binary floating-point numbers are not accepted as money")),
    row("inf-decimal-import-amount", "import_purchases(amount column)", Decimal("Infinity"),
        refused(V, "rows[0].purchase.amount: 'Infinity' is not a decimal number")),
    row("30-digit-import-amount", "import_purchases(amount column)",
        "123456789012345678901234567890",
        refused(V, "rows[0].purchase.amount: 123456789012345678901234567890.00 USD is over the "
                   "ledger's limit of 92233720368547758.07 USD")),
    row("nan-json-number-amount", "Event.from_json",
        '{"customer": 1, "at": "2024-01-05T00:00:00Z", "type": "purchase", '
        '"purchase": {"amount": {"amount": NaN, "currency": "USD"}}}',
        refused(V, "event: malformed JSON at byte")),
    row("1e400-json-number-amount", "Event.from_json",
        '{"customer": 1, "at": "2024-01-05T00:00:00Z", "type": "purchase", '
        '"purchase": {"amount": {"amount": 1e400, "currency": "USD"}}}',
        refused(V, "event: malformed JSON")),
    row("number-json-amount", "Event.from_json",
        '{"customer": 1, "at": "2024-01-05T00:00:00Z", "type": "purchase", '
        '"purchase": {"amount": {"amount": 12.5, "currency": "USD"}}}',
        refused(V, "purchase.amount.amount: expected a decimal string, got number")),
    row("inf-json-text-amount", "Event.from_json",
        '{"customer": 1, "at": "2024-01-05T00:00:00Z", "type": "purchase", '
        '"purchase": {"amount": {"amount": "Infinity", "currency": "USD"}}}',
        refused(V, "purchase.amount.amount: 'Infinity' is not a decimal number")),
    row("30-digit-json-amount", "Event.from_json",
        '{"customer": 1, "at": "2024-01-05T00:00:00Z", "type": "purchase", '
        '"purchase": {"amount": {"amount": "123456789012345678901234567890.00", '
        '"currency": "USD"}}}',
        accepted(("2024-01-05T00:00:00Z", "purchase", "123456789012345678901234567890.00"))),
    row("nan-jsonl-amount", "import_jsonl",
        jsonl_event(purchase=b'{"amount":{"amount":NaN,"currency":"USD"},"category":"",'
                             b'"essential":true,"item_count":1,"order_id":""}'),
        refused(C, f"import: line {EVENT_LINE}: malformed JSON at byte")),
    row("1e400-jsonl-amount", "import_jsonl",
        jsonl_event(purchase=b'{"amount":{"amount":1e400,"currency":"USD"},"category":"",'
                             b'"essential":true,"item_count":1,"order_id":""}'),
        refused(C, f"import: line {EVENT_LINE}: malformed JSON")),
    row("30-digit-jsonl-amount", "import_jsonl",
        jsonl_event(purchase=b'{"amount":{"amount":"123456789012345678901234567890.00",'
                             b'"currency":"USD"},"category":"","essential":true,'
                             b'"item_count":1,"order_id":""}'),
        refused(C, f"import: line {EVENT_LINE}: purchase.amount: 123456789012345678901234567890.00 "
                   "USD is over the ledger's limit of 92233720368547758.07 USD")),
    # -- duplicate keys in JSON objects --
    row("dup-key-customer-json", "Customer.from_json",
        '{"external_id": "h-1", "name": "A", "name": "B"}',
        refused(V, "customer: duplicate key 'name' in one JSON object")),
    row("dup-key-event-json", "Event.from_json",
        '{"customer": 1, "customer": 2, "at": "2024-01-05T00:00:00Z", "type": "interaction", '
        '"interaction": {"kind": "call"}}',
        refused(V, "event: duplicate key 'customer' in one JSON object")),
    row("dup-key-nested-event-json", "Event.from_json",
        '{"customer": 1, "at": "2024-01-05T00:00:00Z", "type": "purchase", "purchase": '
        '{"amount": {"amount": "1.00", "amount": "1000.00", "currency": "USD"}}}',
        refused(V, "event: duplicate key 'amount' in one JSON object")),
    row("dup-key-jsonl", "import_jsonl", jsonl_customer(name=b'"A","name":"B"'),
        refused(C, f"import: line {CUSTOMER_LINE}: duplicate key 'name' in one JSON object")),
    row("dup-key-rule", "Rule(rule, schema)", '{"==": [{"var": "orders"}, 1], "==": [1, 1]}',
        refused(V, "rule: duplicate key '==' in one JSON object")),
    # -- 100,000-deep nesting: a clear error, never a stack overflow --
    row("deep-array-jsonl", "import_jsonl", jsonl_customer(tags=lambda: deep_text().encode()),
        refused(C, f"import: line {CUSTOMER_LINE}: JSON nesting is deeper than 32 levels")),
    row("deep-object-jsonl", "import_jsonl",
        jsonl_customer(custom=lambda: deep_object_text().encode()),
        refused(C, f"import: line {CUSTOMER_LINE}: JSON nesting is deeper than 32 levels")),
    row("deep-custom-json", "Customer.from_json",
        Lazy("customer JSON with a 100,000-deep custom value",
             lambda: '{"external_id": "h-1", "name": "n", "custom": {"notes": '
                     + deep_text() + '}}'),
        refused(V, "customer: JSON nesting is deeper than 32 levels")),
    row("deep-custom-value", "create_customer(custom text)",
        Lazy("a 100,000-deep Python list", deep_list),
        refused(TypeError, "custom.notes: expected bool, int, str, decimal.Decimal")),
    row("deep-event-json", "Event.from_json",
        Lazy("event JSON 100,000 objects deep", deep_object_text),
        refused(V, "event: JSON nesting is deeper than 32 levels")),
    row("deep-rule-text", "Rule(rule, schema)", Lazy("100,000-deep JSON text", deep_text),
        refused(V, "rule: JSON nesting is deeper than 32 levels")),
    row("deep-rule-value", "Rule(rule, schema)", Lazy("100,000-deep dict of 'and'", deep_dict),
        refused(V, "rule: JSON nesting is deeper than 32 levels")),
    row("deep-jsonlogic-rule", "jsonlogic_apply(rule)", Lazy("100,000-deep dict of 'and'", deep_dict),
        refused(V, "rule: JSON nesting is deeper than 32 levels")),
    row("deep-jsonlogic-data", "jsonlogic_apply(data)", Lazy("100,000-deep list", deep_list),
        refused(V, "data: JSON nesting is deeper than 256 levels")),
    row("deep-campaign-rule", "campaign_audience(rule=)", Lazy("100,000-deep dict of 'and'", deep_dict),
        refused(V, "rule: JSON nesting is deeper than 32 levels")),
    row("deep-segment-rules", "segments(rules=)",
        Lazy("segments whose rule is a 100,000-deep dict",
             lambda: [{"name": "deep", "when": deep_dict()}]),
        refused(V, "JSON nesting is deeper than 32 levels")),
    row("deep-window-declaration", "window_fact(declaration)",
        Lazy("a window whose 'kind' is a 100,000-deep list",
             lambda: {"name": "calls_30d", "event": "interaction", "kind": deep_list(),
                      "window_days": 30}),
        refused(V, "windows[0]: JSON nesting is deeper than 32 levels")),
    row("deep-points-program", "define_points_program(program)",
        Lazy("a programme dict holding a 100,000-deep list",
             lambda: {"name": "deep", "currency": "USD", "rules": deep_list()}),
        refused(V, "program: JSON nesting is deeper than 32 levels")),
    # -- impossible dates and times --
    row("feb-30-event-at", "append_event(at=)", "2023-02-30T10:00:00Z",
        refused(V, "'2023-02-30T10:00:00Z': day 30 does not exist in that month")),
    row("month-13-event-at", "append_event(at=)", "2023-13-01T10:00:00Z",
        refused(V, "'2023-13-01T10:00:00Z': month 13 is")),
    row("hour-24-event-at", "append_event(at=)", "2023-01-01T24:00:00Z",
        refused(V, "'2023-01-01T24:00:00Z': hour 24 is outside 0..23")),
    row("leap-second-event-at", "append_event(at=)", "2016-12-31T23:59:60Z",
        refused(V, "'2016-12-31T23:59:60Z': second 60 is outside 0..59")),
    row("year-0-event-at", "append_event(at=)", "0000-01-01T00:00:00Z",
        refused(V, "'0000-01-01T00:00:00Z': year 0 is outside")),
    row("negative-year-event-at", "append_event(at=)", "-0001-01-01T00:00:00Z",
        refused(V, "'-0001-01-01T00:00:00Z' is not an ISO 8601 time")),
    row("feb-30-names-at", "append_event(at=)", "2023-02-30",
        refused(V, "at: '2023-02-30'")),
    row("year-0-datetime64-event-at", "append_event(at=)", np.datetime64("0000-01-01T00:00:00"),
        refused(V, "at: ")),
    row("negative-year-datetime64-event-at", "append_event(at=)",
        np.datetime64("-0001-06-01T00:00:00"),
        refused(V, "at: ")),
    row("year-20000-datetime64-event-at", "append_event(at=)",
        np.datetime64("20000-01-01T00:00:00"),
        refused(V, "at: ")),
    row("feb-30-birth-date", "create_customer(birth_date=)", "2023-02-30",
        refused(V, "'2023-02-30': day 30 does not exist in that month")),
    row("month-13-birth-date", "create_customer(birth_date=)", "2023-13-01",
        refused(V, "'2023-13-01': month 13 is")),
    row("year-0-birth-date", "create_customer(birth_date=)", "0000-06-01",
        refused(V, "'0000-06-01': year 0 is outside")),
    row("feb-30-names-birth-date", "create_customer(birth_date=)", "2023-02-30",
        refused(V, "birth_date: '2023-02-30'")),
    row("feb-30-custom-date", "create_customer(custom date)", "2023-02-30",
        refused(V, "'2023-02-30': day 30 does not exist in that month")),
    row("year-0-custom-date", "create_customer(custom date)", "0000-12-31",
        refused(V, "'0000-12-31': year 0 is outside 0001..9999")),
    row("leap-day-custom-date", "create_customer(custom date)", "2024-02-29",
        accepted(dt.date(2024, 2, 29))),
    row("leap-second-consent-at", "create_customer(consents[0].at=)", "2016-12-31T23:59:60Z",
        refused(V, "'2016-12-31T23:59:60Z': second 60 is outside 0..59")),
    row("feb-30-import-at", "import_purchases(at column)", "2023-02-30",
        refused(V, "rows[0].at: ")),
    row("feb-30-event-json", "Event.from_json",
        '{"customer": 1, "at": "2023-02-30T00:00:00Z", "type": "interaction", '
        '"interaction": {"kind": "call"}}',
        refused(V, "at: '2023-02-30T00:00:00Z': day 30 does not exist in that month")),
    row("feb-30-jsonl", "import_jsonl", jsonl_event(at=b'"2023-02-30T10:00:00Z"'),
        refused(C, f"import: line {EVENT_LINE}: at: '2023-02-30T10:00:00Z': day 30 does not "
                   "exist in that month")),
    row("year-0-jsonl", "import_jsonl", jsonl_event(at=b'"0000-01-01T10:00:00Z"'),
        refused(C, f"import: line {EVENT_LINE}: at: '0000-01-01T10:00:00Z': year 0 is outside")),
    # -- 1,000,000-event batches: accepted in one transaction, or refused whole --
    # (one accepted and one refused batch: each costs about as much as the rest of the table)
    row("1m-append-events", "append_events(batch)", purchases(BATCH),
        accepted((BATCH, BATCH + 1, "1000010.00 USD"))),
    row("1m-import-purchases-last-bad", "import_purchases(PurchaseImport)",
        purchase_import(BATCH, "1.005"),
        refused(V, f"rows[{BATCH - 1}].purchase.amount: 1.005 has more decimals than USD allows "
                   "(2)")),
]

assert len({r.name for r in TABLE}) == len(TABLE), "row names must be unique"


# ---- the runner ----

RESULTS: list[dict[str, Any]] = []
# The million-event rows skip the export round trip (it would double their time); the store's
# own tests cover export and import of purchases.
BIG_CALLS = ("append_events(batch)", "import_purchases(PurchaseImport)")
# A million-event batch lands (or is refused) within this time, even on a loaded CI machine.
BIG_SECONDS = 60.0


def export_bytes(store: Any, path: Path) -> bytes:
    store.export_jsonl(path)
    return path.read_bytes()


def round_trip(store: Any, tmp: Path) -> None:
    """Whatever a call stored can be exported and restored: export, import into an empty store,
    export again, identical bytes."""
    first = export_bytes(store, tmp / "rt-1.jsonl")
    with open_store(tmp / "rt.db") as copy:
        copy.import_jsonl(tmp / "rt-1.jsonl")
        assert export_bytes(copy, tmp / "rt-2.jsonl") == first


@pytest.fixture(scope="module", autouse=True)
def hostile_report():
    RESULTS.clear()
    yield
    lines = []
    for r in RESULTS:
        lines.append(f"hostile {r['name']}: {r['call']}: {r['actual']}"
                     + ("" if r["as_expected"] else f"  [NOT AS EXPECTED: {r['expected']}]")
                     + (f"  [{r['xfail']}]" if r["xfail"] else "")
                     + (f"  ({'; '.join(r['notes'])})" if r["notes"] else "")
                     + f"  {r['seconds']:.2f} s")
    ok = [r for r in RESULTS if r["as_expected"]]
    n_ref = sum(1 for r in ok if isinstance(r["expect"], Refused))
    holes = [r for r in RESULTS if not r["as_expected"] and r["xfail"]]
    wrong = [r for r in RESULTS if not r["as_expected"] and not r["xfail"]]
    refused_calls = [r for r in RESULTS if r["refused"]]
    changed = [r["name"] for r in refused_calls if not r["export_unchanged"]]
    summary = (f"HOSTILE: {len(RESULTS)} cases, {len(ok)} as expected ({n_ref} refused, "
               f"{len(ok) - n_ref} accepted)")
    if holes:
        owners: dict[str, int] = {}
        for r in holes:
            owner = r["xfail"].split(":")[0].removeprefix("owned by ")
            owners[owner] = owners.get(owner, 0) + 1
        summary += f", {len(holes)} known holes xfail (" + ", ".join(
            f"{k}: {v}" for k, v in sorted(owners.items())) + ")"
    if wrong:
        summary += f", {len(wrong)} NOT as expected ({', '.join(r['name'] for r in wrong)})"
    if changed:
        summary += f", export CHANGED after {len(changed)} refused calls ({', '.join(changed)})"
    else:
        summary += f", export unchanged after every refused call ({len(refused_calls)})"
    total = sum(r["seconds"] for r in RESULTS)
    summary += f"; the calls took {total:.1f} s"
    lines.append(summary)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text("\n".join(lines) + "\n")
    print("\n" + summary)


def _describe(exc: BaseException) -> str:
    text = str(exc)
    if len(text) > 160:
        text = text[:157] + "..."
    return f"refused: {type(exc).__name__}: {text}"


@pytest.mark.parametrize("r", [pytest.param(r, id=r.name, marks=list(r.marks)) for r in TABLE])
def test_hostile(r: Row, tmp_path: Path) -> None:
    call = CALLS[r.call]
    value = _value(r.input)
    record: dict[str, Any] = {
        "name": r.name, "call": r.call, "expect": r.expect, "expected": str(r.expect),
        "xfail": r.marks[0].kwargs["reason"] if r.marks else "", "notes": [],
        "refused": False, "export_unchanged": True, "as_expected": False, "seconds": 0.0,
    }
    RESULTS.append(record)
    with open_store(tmp_path / "hostile.db") as store:
        ctx = Ctx(store=store, tmp=tmp_path, notes=record["notes"])
        if call.setup == "base":
            ctx.base = setup_base(store)
        before = export_bytes(store, tmp_path / "before.jsonl")
        started = time.perf_counter()
        error: BaseException | None = None
        try:
            got = call.fn(ctx, value)
        except AssertionError:
            raise  # a check inside the call failed: not an outcome of the hostile input
        except Exception as exc:  # noqa: BLE001 - every exception is an outcome, compared below
            error = exc
        record["seconds"] = time.perf_counter() - started
        expect = r.expect
        in_time = r.call not in BIG_CALLS or record["seconds"] < BIG_SECONDS
        if error is not None:
            record["refused"] = True
            record["actual"] = _describe(error)
            after = export_bytes(store, tmp_path / "after.jsonl")
            record["export_unchanged"] = after == before
            record["as_expected"] = (isinstance(expect, Refused) and isinstance(error, expect.error)
                                     and expect.text in str(error) and after == before and in_time)
            assert after == before, f"{r.name}: the refused call changed the export"
            assert isinstance(expect, Refused), f"{r.name}: expected {expect}, got {_describe(error)}"
            assert isinstance(error, expect.error), f"{r.name}: expected {expect}, got {_describe(error)}"
            assert expect.text in str(error), f"{r.name}: expected {expect}, got {_describe(error)}"
        else:
            record["actual"] = f"accepted, stored as {_short(got)}"
            assert isinstance(expect, Accepted), f"{r.name}: expected {expect}, got {record['actual']}"
            assert got == expect.stored, f"{r.name}: expected {expect}, got {record['actual']}"
            if r.call not in BIG_CALLS:
                round_trip(store, tmp_path)
            record["as_expected"] = in_time
        assert in_time, f"{r.name}: {record['seconds']:.1f} s, over {BIG_SECONDS:.0f} s"
