"""The Python-level Store: crmkit._core.Store plus pandas adapters.

``Store.import_purchases`` also takes a pandas DataFrame, and ``Store.purchases_frame`` returns the
ledger's purchases as a DataFrame. Both only convert columns and call the core; every rule (amount
signs, decimals per currency, idempotency) is checked in C++.
"""

from __future__ import annotations

import decimal
import numbers
from typing import Any

import numpy as np

from . import _core
from .errors import ValidationError

__all__ = ["Store"]



def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        import pandas as pd

        result = pd.isna(value)
    except (TypeError, ValueError):
        return False
    return bool(result) if isinstance(result, (bool, np.bool_)) else False


def _optional_texts(series: Any, column: str) -> list[str]:
    out = []
    for value in series:
        out.append("" if _is_missing(value) else str(value))
    return out


def _at_micros(series: Any, column: str) -> np.ndarray | list[Any]:
    """int64 microseconds for a datetime64 column (naive = UTC), else the values themselves."""
    import pandas as pd

    dtype = series.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        if isinstance(dtype, pd.DatetimeTZDtype):
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        missing = np.flatnonzero(series.isna().to_numpy())
        if missing.size:
            raise ValidationError(f"rows[{int(missing[0])}].{column}: is missing (NaT)")
        return series.to_numpy(dtype="datetime64[us]").astype(np.int64)
    values = []
    for row, value in enumerate(series):
        try:
            values.append(_core.Timestamp(value))
        except (ValidationError, TypeError) as exc:
            raise ValidationError(f"rows[{row}].{column}: {exc}") from None
    return values


class Store(_core.Store):
    """The embedded store; see crmkit/store/store.hpp. ``Store(path, currency=None, *, ...)``.

    A context manager: ``with crmkit.Store(path, "USD") as store: ...`` closes it on exit.
    """

    @classmethod
    def open(cls, path: Any, currency: Any = None, **options: Any) -> "Store":  # type: ignore[override]
        """The same as ``Store(path, currency, **options)``."""
        return cls(path, currency, **options)

    def import_purchases(  # type: ignore[override]
        self,
        rows: Any,
        customer: str = "customer",
        at: str = "at",
        amount: str = "amount",
        currency: str | None = None,
        order_id: str | None = None,
        category: str | None = None,
        item_count: str | None = None,
        idempotency_key: str | None = None,
        source: str = "import",
        create_missing_customers: bool = True,
        *,
        actor: str = "",
    ) -> _core.ImportReport:
        """Imports purchases in one transaction (all rows or none) and returns an ImportReport.

        ``rows`` is a pandas DataFrame (or a crmkit.PurchaseImport, passed through). The column
        arguments name its columns: ``customer`` (external ids, converted with str()), ``at``
        (datetime64, naive taken as UTC, or ISO strings), ``amount`` (str or decimal.Decimal in
        major units; floats and ints are refused naming the row and column), and the optional
        ``order_id``, ``category``, ``item_count`` and ``idempotency_key`` columns (a repeated
        key skips the row, so importing the same frame twice adds nothing). ``currency`` defaults
        to the store's. Errors name the row: ``rows[3].purchase.amount: ...`` (the core's
        rule for every purchase), ``rows[3].price: ...`` for a column refused here.
        """
        if isinstance(rows, _core.PurchaseImport):
            return super().import_purchases(rows, actor=actor, source=source)
        frame = rows
        spec = _core.PurchaseImport()
        spec.currency = currency if currency is not None else self.currency.code
        spec.customer_external_id = [str(v) for v in frame[customer]]
        at_values = _at_micros(frame[at], at)
        if isinstance(at_values, np.ndarray):
            spec._set_at_micros(at_values)
        else:
            spec.at = at_values
        # The binding's one rule for Python amounts (str / decimal.Decimal; no floats or ints).
        spec.amount = _core.amount_texts(list(frame[amount]), amount)
        if order_id is not None:
            spec.order_id = _optional_texts(frame[order_id], order_id)
        if category is not None:
            spec.category = _optional_texts(frame[category], category)
        if idempotency_key is not None:
            spec.idempotency_key = _optional_texts(frame[idempotency_key], idempotency_key)
        if item_count is not None:
            counts = []
            for i, v in enumerate(frame[item_count]):
                if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
                    raise ValidationError(f"rows[{i}].{item_count}: expected an int, got {v!r}")
                counts.append(int(v))
            spec.item_count = counts
        spec.source = source
        spec.create_missing_customers = create_missing_customers
        return super().import_purchases(spec, actor=actor, source=source)

    def purchases_frame(self) -> Any:
        """Every purchase of the ledger as a pandas DataFrame, in event-id order.

        Columns: event_id, customer_id, external_id (the customer's external id, str), at
        (datetime64[ns, UTC]), amount (decimal.Decimal, exact), amount_minor, refunded_minor,
        item_count, essential (bool), currency (the ISO code). Times after 2262-04-11 do not fit
        datetime64[ns] and raise.
        """
        import pandas as pd

        cols = self.purchase_columns()
        # Read after the purchases, so every purchase's customer is there (customer rows are
        # never removed); the look-up is the C++ one (crmkit/analytics/analytics.hpp).
        external_ids = _core.external_ids_of(self.customer_keys(), cols.customer_id)
        digits = cols.currency.minor_units
        minor = cols.amount_minor
        amounts = [decimal.Decimal(int(v)).scaleb(-digits) for v in minor]
        at = pd.to_datetime(np.asarray(cols.at_micros, dtype=np.int64), unit="us", utc=True)
        return pd.DataFrame(
            {
                "event_id": np.array(cols.event_id, dtype=np.int64),
                "customer_id": np.array(cols.customer_id, dtype=np.int64),
                "external_id": pd.Series(external_ids, dtype=object),
                "at": at.as_unit("ns") if hasattr(at, "as_unit") else at,
                "amount": pd.Series(amounts, dtype=object),
                "amount_minor": np.array(minor, dtype=np.int64),
                "refunded_minor": np.array(cols.refunded_minor, dtype=np.int64),
                "item_count": np.array(cols.item_count, dtype=np.int32),
                "essential": np.array(cols.essential, dtype=bool),
                "currency": pd.Series([cols.currency.code] * len(cols), dtype=object),
            }
        )

    def facts(self, as_of: Any, facts: Any = None, windows: Any = None, model: Any = None, *,
              unit: Any = "day", multiplier: float = 1.0) -> Any:
        """Customer facts as of a date (crmkit/analytics/facts.hpp facts_as_of; docs/facts.md).

        A pandas DataFrame indexed by customer_id, one row per customer that exists as of the
        date (not soft-deleted), with an external_id column and one column per fact: ``facts``
        (names, in that order; None = the whole catalogue), ``windows`` (declarations, each a dict
        or JSON text: ``{"name": "meetings_180d", "event": "interaction", "kind": "meeting",
        "window_days": 180}``). ``model`` is a fitted BetaGeoFitter, ModifiedBetaGeoFitter or
        ParetoNBDFitter (or its core model) for p_alive and expected_purchases_365d, fitted in
        ``unit`` ("day", "week", "month") divided by ``multiplier``; without one those facts are
        missing. Integers and bools are nullable (Int64, boolean), dates datetime64, missing
        numbers NaN, tags Python lists.
        """
        from .facts import store_facts

        return store_facts(self, as_of, facts, windows, model, unit=unit, multiplier=multiplier)

    def customer_facts(self, customer: Any, as_of: Any, facts: Any = None, windows: Any = None,
                       model: Any = None, *, unit: Any = "day",
                       multiplier: float = 1.0) -> dict[str, Any]:
        """The facts of one customer (an id, an external id str or a Customer) as of a date: a
        dict of customer_id, external_id and each fact (None when missing; dates as
        datetime.date), equal to that customer's row of ``facts(as_of, ...)``. Raises
        NotFoundError for an unknown customer, ValidationError for one soft-deleted or not yet
        existing as of the date.
        """
        from .facts import store_customer_facts

        return store_customer_facts(self, customer, as_of, facts, windows, model, unit=unit,
                                    multiplier=multiplier)
