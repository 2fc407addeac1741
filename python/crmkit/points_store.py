"""The store's points ledger (docs/points-store.md): the Store methods for points programmes,
earning, redemption, adjustment and the as-of tables (entries, lots, balances, tier history, tier
counts) as pandas DataFrames. Every rule is the C++ core's; this module converts only.

Programmes are given as a crmkit.PointsProgram, a dict or JSON text (the JSON form of
docs/points.md); customers by internal id (int), external id (str) or a crmkit.Customer.
"""

from __future__ import annotations

import json
import numbers
from typing import Any

import numpy as np

from . import _core
from ._json import json_text
from .errors import ValidationError

__all__: list[str] = []

_NAT = np.iinfo(np.int64).min


def _program_json(program: Any) -> str:
    if isinstance(program, str):
        return program
    if isinstance(program, dict):
        return json_text(program, "program")
    for attr in ("to_json", "to_json_text"):
        fn = getattr(program, attr, None)
        if callable(fn):
            text = fn()
            return text if isinstance(text, str) else json_text(text, "program")
    raise ValidationError(
        f"program: expected a crmkit.PointsProgram, a dict or JSON text, got "
        f"{type(program).__name__}"
    )


def _program_name(program: Any) -> str:
    if isinstance(program, str) and not program.lstrip().startswith("{"):
        return program
    name = getattr(program, "name", None)
    if isinstance(name, str):
        return name
    return str(json.loads(_program_json(program))["name"])


def _customer(store: Any, customer: Any) -> int:
    if isinstance(customer, _core.Customer):
        return int(customer.id)
    if isinstance(customer, str):
        return int(store.get_customer_by_external_id(customer).id)
    if isinstance(customer, (bool, np.bool_)) or not isinstance(customer, numbers.Integral):
        raise ValidationError(
            f"customer: expected a customer id (int), an external id (str) or a Customer, got "
            f"{type(customer).__name__}"
        )
    return int(customer)


def _utc(micros: Any) -> Any:
    import pandas as pd

    values = np.asarray(micros, dtype=np.int64)
    at = pd.to_datetime(np.where(values == _NAT, 0, values), unit="us", utc=True)
    at = at.as_unit("ns") if hasattr(at, "as_unit") else at
    if (values == _NAT).any():
        at = pd.Series(at).mask(values == _NAT)
        return pd.DatetimeIndex(at)
    return at


def _keyed(store: Any, frame_cols: dict[str, Any], customer_ids: Any) -> Any:
    import pandas as pd

    ids = np.asarray(customer_ids, dtype=np.int64)
    cols = {
        "customer_id": ids,
        "external_id": pd.Series(_core.external_ids_of(store.customer_keys(), ids), dtype=object),
    }
    cols.update(frame_cols)
    return pd.DataFrame(cols)


class PointsStoreMixin:
    """The points methods of crmkit.Store (mixed into it by crmkit/store.py)."""

    def define_points_program(self, program: Any, *, actor: str = "", source: str = "") -> dict:
        """Stores a new programme or replaces the one of that name (Store::define_points_program).

        ``program``: a crmkit.PointsProgram, a dict or JSON text. Returns a dict with name,
        json, defined_at, updated_at and last_event (the earn_points watermark)."""
        return self._define_points_program(_program_json(program), actor, source)

    def points_program(self, name: str) -> Any:
        """The stored programme: a crmkit.PointsProgram when the binding has it, else a dict."""
        text = self._points_program_json(name)
        cls = getattr(_core, "PointsProgram", None)
        if cls is not None and hasattr(cls, "from_json"):
            return cls.from_json(text)
        return json.loads(text)

    def points_programs(self) -> list[dict]:
        """Every stored programme (dicts as define_points_program returns), by name."""
        return self._points_programs()

    def earn_points(self, program: Any, *, actor: str = "", source: str = "") -> dict:
        """Processes every ledger event not yet processed for the programme (Store::earn_points).

        Returns events_read, entries_added, points_granted, points_reversed and last_event.
        Running it twice adds nothing."""
        return self._earn_points(_program_name(program), actor, source)

    def redeem_points(self, program: Any, customer: Any, points: int, at: Any,
                      idempotency_key: str = "", reason: str = "", *, actor: str = "",
                      source: str = "") -> dict:
        """Redeems ``points`` atomically; an overdraw raises ConflictError and changes nothing.

        Returns the stored entry as a dict."""
        return self._redeem_points(_program_name(program), _customer(self, customer), int(points),
                                   at, idempotency_key, reason, actor, source)

    def adjust_points(self, program: Any, customer: Any, points: int, at: Any, reason: str,
                      idempotency_key: str = "", *, actor: str = "", source: str = "") -> dict:
        """A manual grant (points > 0) or take-back (< 0) with a required reason."""
        return self._adjust_points(_program_name(program), _customer(self, customer), int(points),
                                   at, reason, idempotency_key, actor, source)

    def points_entries(self, program: Any, customer: Any = None) -> Any:
        """The programme's entries in id order (all, or one customer's) as a DataFrame.

        Columns: id, customer_id, external_id, at, kind, points, available_at, expires_at (NaT:
        never), event, rule, idempotency_key, reason."""
        import pandas as pd

        cid = None if customer is None else _customer(self, customer)
        c = self._points_entries(_program_name(program), cid)
        frame = _keyed(self, {
            "at": _utc(c["at_micros"]),
            "kind": pd.Series(c["kind"], dtype=object),
            "points": c["points"],
            "available_at": _utc(c["available_at_micros"]),
            "expires_at": _utc(c["expires_at_micros"]),
            "event": c["event"],
            "rule": pd.Series(c["rule"], dtype=object),
            "idempotency_key": pd.Series(c["idempotency_key"], dtype=object),
            "reason": pd.Series(c["reason"], dtype=object),
        }, c["customer_id"])
        frame.insert(0, "id", c["id"])
        return frame

    def points_account(self, program: Any, customer: Any, as_of: Any) -> dict:
        """The customer's balances as of a date: available, pending, debt, earned, redeemed,
        reversed, expired, redeemable and tier (the lots: points_lots)."""
        a = self._points_account(_program_name(program), _customer(self, customer), as_of)
        a.pop("lots")
        return a

    def points_lots(self, program: Any, customer: Any, as_of: Any) -> Any:
        """The customer's lots as of a date, in grant order, as a DataFrame.

        Columns: entry, event, rule, granted_at, available_at, expires_at (NaT: never), granted,
        paid_to_debt, redeemed, reversed, expired, remaining, pending (bool). ``.attrs`` holds the
        account's balances and tier."""
        import pandas as pd

        a = self._points_account(_program_name(program), _customer(self, customer), as_of)
        lots = a.pop("lots")
        frame = pd.DataFrame({
            "entry": lots["entry"],
            "event": lots["event"],
            "rule": pd.Series(lots["rule"], dtype=object),
            "granted_at": _utc(lots["granted_at_micros"]),
            "available_at": _utc(lots["available_at_micros"]),
            "expires_at": _utc(lots["expires_at_micros"]),
            "granted": lots["granted"],
            "paid_to_debt": lots["paid_to_debt"],
            "redeemed": lots["redeemed"],
            "reversed": lots["reversed"],
            "expired": lots["expired"],
            "remaining": lots["remaining"],
            "pending": np.asarray(lots["pending"], dtype=bool),
        })
        frame.attrs.update(a)
        return frame

    def points_balances(self, program: Any, as_of: Any) -> Any:
        """Balances of every customer with an entry at or before ``as_of``, by customer id.

        Columns: customer_id, external_id, available, pending, debt, earned, redeemed, reversed,
        expired, redeemable (available - debt, at least 0), tier."""
        import pandas as pd

        b = self._points_balances(_program_name(program), as_of)
        avail = np.asarray(b["available"], dtype=np.int64)
        debt = np.asarray(b["debt"], dtype=np.int64)
        return _keyed(self, {
            "available": avail,
            "pending": b["pending"],
            "debt": debt,
            "earned": b["earned"],
            "redeemed": b["redeemed"],
            "reversed": b["reversed"],
            "expired": b["expired"],
            "redeemable": np.maximum(avail - debt, 0),
            "tier": pd.Series(b["tier"], dtype=object),
        }, b["customer_id"])

    def tier_history(self, program: Any, as_of: Any = None) -> Any:
        """Every customer's tier changes up to ``as_of`` (default: now), by customer then time.

        Columns: customer_id, external_id, at, from ("" for the first tier), to."""
        import pandas as pd

        when = as_of if as_of is not None else _core.Timestamp.now()
        h = self._tier_history(_program_name(program), when)
        return _keyed(self, {
            "at": _utc(h["at_micros"]),
            "from": pd.Series(h["from"], dtype=object),
            "to": pd.Series(h["to"], dtype=object),
        }, h["customer_id"])

    def tier_counts(self, program: Any, as_of: Any) -> Any:
        """Customers per tier as of a date (customers with an entry by then), in tier order.

        Columns: tier, customers."""
        import pandas as pd

        c = self._tier_counts(_program_name(program), as_of)
        return pd.DataFrame({"tier": pd.Series(c["tier"], dtype=object),
                             "customers": np.asarray(c["customers"], dtype=np.int64)})
