"""The Python-level Store: crmkit._core.Store plus pandas adapters.

``Store.import_purchases`` also takes a pandas DataFrame, and ``Store.purchases_frame`` returns the
ledger's purchases as a DataFrame. Both only convert columns and call the core; every rule (amount
signs, decimals per currency, idempotency) is checked in C++.

The lifecycle engine (docs/lifecycle-store.md): ``Store.transition``, ``state``, ``states``,
``history``, ``add_transition_listener``, opportunities and ``pipeline_value``. Entities are
given by internal id (int), external id (str), a crmkit.Customer, or a crmkit.Opportunity; every
check (allowed edge, manual, reason) is the core's.
"""

from __future__ import annotations

import decimal
import numbers
from typing import Any

import numpy as np

from . import _core
from .errors import ValidationError
from .points_store import PointsStoreMixin

__all__ = ["Store"]



def _entity(store: Any, entity: Any) -> tuple[str, int]:
    """(kind, id) of a customer id, an external id, a Customer or an Opportunity."""
    if isinstance(entity, _core.Opportunity):
        return "opportunity", int(entity.id)
    if isinstance(entity, _core.Customer):
        return "customer", int(entity.id)
    if isinstance(entity, str):
        return "customer", int(store.get_customer_by_external_id(entity).id)
    if isinstance(entity, (bool, np.bool_)) or not isinstance(entity, numbers.Integral):
        raise ValidationError(
            f"entity: expected a customer id (int), an external id (str), a Customer or an "
            f"Opportunity, got {type(entity).__name__}"
        )
    return "customer", int(entity)


def _utc(micros: Any) -> Any:
    import pandas as pd

    at = pd.to_datetime(np.asarray(micros, dtype=np.int64), unit="us", utc=True)
    return at.as_unit("ns") if hasattr(at, "as_unit") else at


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        import pandas as pd

        result = pd.isna(value)
    except (TypeError, ValueError):
        return False
    return bool(result) if isinstance(result, (bool, np.bool_)) else False


def _row_text(value: Any, row: int, column: str) -> str:
    """str(value), refused naming the row and column if it is not valid UTF-8 text (a lone
    surrogate), as the core refuses such text."""
    text = str(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(
            f"rows[{row}].{column}: is not valid UTF-8 text (it holds a lone surrogate)") from None
    return text


def _optional_texts(series: Any, column: str) -> list[str]:
    out = []
    for row, value in enumerate(series):
        out.append("" if _is_missing(value) else _row_text(value, row, column))
    return out


def _external_ids(series: Any, column: str) -> list[str]:
    """The external ids of an import column as text. A missing value (None, NaN, pd.NA, NaT) is
    refused naming the row, as is a float: str() would turn it into a customer called "nan", or
    an id 1 read back as 1.0 (pandas makes an int column float when it holds a NaN) into a second
    customer "1.0"."""
    out = []
    for row, value in enumerate(series):
        if _is_missing(value):
            raise ValidationError(f"rows[{row}].{column}: the external id is missing ({value!r})")
        if isinstance(value, (float, np.floating)):
            raise ValidationError(
                f"rows[{row}].{column}: expected an external id as str or int, got the float "
                f"{value!r} (convert the column, e.g. with .astype('Int64').astype(str))")
        out.append(_row_text(value, row, column))
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
            # The conversion names the value "time"; the row and column name it here instead.
            message = str(exc).removeprefix("time: ")
            raise ValidationError(f"rows[{row}].{column}: {message}") from None
    return values


class Store(PointsStoreMixin, _core.Store):
    """The embedded store; see crmkit/store/store.hpp. ``Store(path, currency=None, *, ...)``.

    A context manager: ``with crmkit.Store(path, "USD") as store: ...`` closes it on exit.

    ``suppression_key``: 32 bytes (for example ``bytes.fromhex(os.environ["CRM_SUPPRESSION_KEY"])``)
    that key the suppression hashes of erased customers; never written to the file or an export,
    and needed for every later open (StoreOptions::suppression_key, docs/guide.md). ``None`` keeps
    the weaker default key stored in the file.
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
        arguments name its columns: ``customer`` (external ids: str, or int converted with str();
        a missing id or a float is refused naming the row), ``at``
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
        spec.customer_external_id = _external_ids(frame[customer], customer)
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
                if not 1 <= int(v) <= 100000:
                    # The core's rule (purchase.item_count), named by the frame's column; a value
                    # past int32 would otherwise fail in the conversion without the row.
                    raise ValidationError(
                        f"rows[{i}].{item_count}: must be between 1 and 100000, got {int(v)}")
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

    # ---- the lifecycle engine (crmkit/store/store.hpp, the engine block) ----

    def transition(
        self,
        machine: Any,
        customer: Any,
        to: str,
        reason: str | None = None,
        actor: str | None = None,
        at: Any = None,
        *,
        source: str = "",
    ) -> dict[str, Any]:
        """Moves a customer (or an opportunity) to state ``to`` of ``machine`` by hand.

        ``customer`` is an internal id, an external id, a Customer or an Opportunity. The move is
        checked by the machine (an allowed edge, manual allowed, a reason when required); a
        refused move raises InvalidTransitionError and changes nothing. ``actor`` is who decided
        (also the audit entry's actor; default the store's), ``at`` when it took effect (default
        now). Returns the history row as a dict (id, machine, entity_kind, entity_id, from, to,
        at, rule, actor, reason, recorded_at). Listeners are called before it returns.
        """
        kind, ident = _entity(self, customer)
        return self._transition(
            machine, kind, ident, to, reason or "", actor or "", at, source=source
        )

    def state(self, machine: Any, entity: Any) -> dict[str, Any]:
        """The entity's current state: {"state", "since" (UTC datetime), "recorded"}.

        ``recorded`` is False for an entity that never moved: it is in the machine's initial
        state since its creation.
        """
        kind, ident = _entity(self, entity)
        return self._state(machine, kind, ident)

    def states(self, machine: Any, kind: str = "customer") -> Any:
        """Every entity's current state in ``machine`` as a DataFrame, ascending by id.

        Customers (every one, deleted and erased included): columns customer_id, external_id,
        state, since (datetime64[ns, UTC]), recorded. Opportunities of the pipeline
        (kind="opportunity"): opportunity_id, customer_id, external_id, state, since, recorded.
        """
        import pandas as pd

        cols = self._states(machine, kind)
        ids = np.asarray(cols["entity_id"], dtype=np.int64)
        frame: dict[str, Any] = {}
        if kind == "opportunity":
            opp = self._opportunity_columns(machine.name)
            by_id = dict(zip(opp["id"].tolist(), opp["customer_id"].tolist()))
            customer_ids = np.array([by_id.get(int(i), 0) for i in ids], dtype=np.int64)
            frame["opportunity_id"] = ids
        else:
            customer_ids = ids
        frame["customer_id"] = customer_ids
        frame["external_id"] = pd.Series(
            _core.external_ids_of(self.customer_keys(), customer_ids), dtype=object
        )
        frame["state"] = pd.Series(cols["state"], dtype=object)
        frame["since"] = _utc(cols["since_micros"])
        frame["recorded"] = np.asarray(cols["recorded"], dtype=bool)
        return pd.DataFrame(frame)

    def history(self, machine: Any, entity: Any = None) -> Any:
        """The transition history of ``machine`` (a Machine or its name) as a DataFrame.

        All entities, or one (``entity`` as in ``transition``), in history order. Columns: id,
        entity_kind, entity_id, customer_id (the customer, or the opportunity's customer),
        external_id, from, to, at, rule (the automatic rule's name, "" for a manual move), actor,
        reason, recorded_at (times datetime64[ns, UTC]).
        """
        import pandas as pd

        name = machine if isinstance(machine, str) else machine.name
        if entity is None:
            cols = self._history(name)
        else:
            kind, ident = _entity(self, entity)
            cols = self._history(name, kind, ident)
        entity_ids = np.asarray(cols["entity_id"], dtype=np.int64)
        kinds = cols["entity_kind"]
        opp_customer: dict[int, int] = {}
        if "opportunity" in kinds:
            opp = self._opportunity_columns()
            opp_customer = dict(zip(opp["id"].tolist(), opp["customer_id"].tolist()))
        customer_ids = np.array(
            [
                opp_customer.get(int(i), 0) if k == "opportunity" else int(i)
                for k, i in zip(kinds, entity_ids)
            ],
            dtype=np.int64,
        )
        return pd.DataFrame(
            {
                "id": np.asarray(cols["id"], dtype=np.int64),
                "entity_kind": pd.Series(kinds, dtype=object),
                "entity_id": entity_ids,
                "customer_id": customer_ids,
                "external_id": pd.Series(
                    _core.external_ids_of(self.customer_keys(), customer_ids), dtype=object
                ),
                "from": pd.Series(cols["from"], dtype=object),
                "to": pd.Series(cols["to"], dtype=object),
                "at": _utc(cols["at_micros"]),
                "rule": pd.Series(cols["rule"], dtype=object),
                "actor": pd.Series(cols["actor"], dtype=object),
                "reason": pd.Series(cols["reason"], dtype=object),
                "recorded_at": _utc(cols["recorded_at_micros"]),
            }
        )

    # ---- opportunities ----

    def create_opportunity(  # type: ignore[override]
        self,
        customer: Any,
        name: str | None = None,
        amount: Any = None,
        expected_close: Any = None,
        owner: str = "",
        pipeline: str = "sales_pipeline",
        *,
        actor: str = "",
        source: str = "",
    ) -> _core.Opportunity:
        """Creates an opportunity and returns it as stored.

        Either ``create_opportunity(crmkit.Opportunity(...))`` or
        ``create_opportunity(customer, name, amount, expected_close, owner, pipeline)`` with the
        customer as an id, external id or Customer, the amount a str or decimal.Decimal in the
        store's currency (or a Money) and the close date a datetime.date or "YYYY-MM-DD".
        """
        if isinstance(customer, _core.Opportunity):
            return super().create_opportunity(customer, actor=actor, source=source)
        kind, ident = _entity(self, customer)
        if kind != "customer":
            raise ValidationError("opportunity.customer: must be a customer")
        opp = _core.Opportunity()
        opp.customer = ident
        opp.name = name if name is not None else ""
        opp.amount = amount if isinstance(amount, _core.Money) else _core.Money(amount, self.currency)
        opp.expected_close = expected_close
        opp.owner = owner
        opp.pipeline = pipeline
        return super().create_opportunity(opp, actor=actor, source=source)

    def opportunities(self, pipeline: str | None = None) -> Any:
        """Every opportunity (or one pipeline's) as a DataFrame, ascending by id.

        Columns: opportunity_id, customer_id, external_id, name, amount (decimal.Decimal, exact),
        expected_close (datetime.date), owner, pipeline, created_at (datetime64[ns, UTC]).
        """
        import datetime

        import pandas as pd

        cols = self._opportunity_columns(pipeline or "")
        digits = cols["currency"].minor_units
        epoch = datetime.date(1970, 1, 1)
        customer_ids = np.asarray(cols["customer_id"], dtype=np.int64)
        return pd.DataFrame(
            {
                "opportunity_id": np.asarray(cols["id"], dtype=np.int64),
                "customer_id": customer_ids,
                "external_id": pd.Series(
                    _core.external_ids_of(self.customer_keys(), customer_ids), dtype=object
                ),
                "name": pd.Series(cols["name"], dtype=object),
                "amount": pd.Series(
                    [decimal.Decimal(int(v)).scaleb(-digits) for v in cols["amount_minor"]],
                    dtype=object,
                ),
                "expected_close": pd.Series(
                    [epoch + datetime.timedelta(days=int(d)) for d in cols["expected_close_days"]],
                    dtype=object,
                ),
                "owner": pd.Series(cols["owner"], dtype=object),
                "pipeline": pd.Series(cols["pipeline"], dtype=object),
                "created_at": _utc(cols["created_at_micros"]),
            }
        )

    def pipeline_value(
        self,
        machine: Any,
        by: Any = ("stage", "owner", "close_month"),
        include_terminal: bool = False,
    ) -> Any:
        """The weighted value of a pipeline's open opportunities as a DataFrame.

        One row per group of ``by`` (any of "stage", "owner", "close_month"), ordered by stage
        (the machine's order), owner, close month. Columns: the group keys, count, amount,
        weighted (amount x stage probability summed exactly, rounded half to even to the
        currency's minor unit), weighted_exact (unrounded), all amounts decimal.Decimal, and
        currency. Terminal stages (won, lost) only with include_terminal=True.
        """
        import pandas as pd

        keys = (by,) if isinstance(by, str) else tuple(by)
        unknown = [k for k in keys if k not in ("stage", "owner", "close_month")]
        if unknown:
            raise ValidationError(
                f"by: unknown group key {unknown[0]!r} (expected stage, owner or close_month)"
            )
        cols = self._pipeline_value(
            machine,
            by_stage="stage" in keys,
            by_owner="owner" in keys,
            by_close_month="close_month" in keys,
            include_terminal=include_terminal,
        )
        frame: dict[str, Any] = {}
        for k in ("stage", "owner", "close_month"):
            if k in keys:
                frame[k] = pd.Series(cols[k], dtype=object)
        frame["count"] = np.asarray(cols["count"], dtype=np.int64)
        frame["amount"] = pd.Series(cols["amount"], dtype=object)
        frame["weighted"] = pd.Series(cols["weighted"], dtype=object)
        frame["weighted_exact"] = pd.Series(cols["weighted_exact"], dtype=object)
        frame["currency"] = pd.Series([cols["currency"].code] * len(cols["count"]), dtype=object)
        return pd.DataFrame(frame)

    # ---- customer facts as of a date (crmkit/analytics/facts.hpp) ----

    def facts(self, as_of: Any, facts: Any = None, windows: Any = None, model: Any = None, *,
              unit: Any = "day", multiplier: float = 1.0, machines: Any = None) -> Any:
        """Customer facts as of a date (crmkit/analytics/facts.hpp facts_as_of; docs/facts.md).

        A pandas DataFrame indexed by customer_id, one row per customer that exists as of the
        date (not soft-deleted), with an external_id column and one column per fact: ``facts``
        (names, in that order; None = the whole catalogue), ``windows`` (declarations, each a dict
        or JSON text: ``{"name": "meetings_180d", "event": "interaction", "kind": "meeting",
        "window_days": 180}``). ``model`` is a fitted BetaGeoFitter, ModifiedBetaGeoFitter or
        ParetoNBDFitter (or its core model) for p_alive and expected_purchases_365d, fitted in
        ``unit`` ("hour", "day", "week", "month") divided by ``multiplier``; without one those facts are
        missing. Integers and bools are nullable (Int64, boolean), dates datetime64, missing
        numbers NaN, tags Python lists. ``machines`` (crmkit.Machine objects) give the initial
        state of the machines whose stage.<m> facts are asked for: a customer that never moved
        in one is then in its initial state (else its stage facts are missing).
        """
        from .facts import store_facts

        return store_facts(self, as_of, facts, windows, model, unit=unit, multiplier=multiplier,
                           machines=machines)

    def customer_facts(self, customer: Any, as_of: Any, facts: Any = None, windows: Any = None,
                       model: Any = None, *, unit: Any = "day",
                       multiplier: float = 1.0, machines: Any = None) -> dict[str, Any]:
        """The facts of one customer (an id, an external id str or a Customer) as of a date: a
        dict of customer_id, external_id and each fact (None when missing; dates as
        datetime.date), equal to that customer's row of ``facts(as_of, ...)``. Raises
        NotFoundError for an unknown customer, ValidationError for one soft-deleted or not yet
        existing as of the date.
        """
        from .facts import store_customer_facts

        return store_customer_facts(self, customer, as_of, facts, windows, model, unit=unit,
                                    multiplier=multiplier, machines=machines)

    # ---- segments and drift (crmkit/analytics/segments.hpp; docs/segments.md) ----

    def segments(self, as_of: Any, rules: Any = None, *, windows: Any = None) -> Any:
        """Segment membership as of a date: a DataFrame with customer_id, external_id and
        segment (a Categorical whose categories are the segments in order), one row per customer
        in a segment, ascending by id. ``rules`` None: RFM segments of the customers with a
        purchase as of the date; otherwise rule segments (a dict {"segments": [{"name", "when"},
        ...], "fallback": "Other"}, a list of segments or JSON text) over every customer that
        exists as of the date, first match wins."""
        from .segments import store_segments

        return store_segments(self, as_of, rules, windows)

    def segment_drift(self, start: Any, end: Any, rules: Any = None, *,
                      windows: Any = None) -> Any:
        """The drift matrix from ``start`` to ``end``: a DataFrame indexed by "from" (the
        segments at start, then "none": customers without one then), columns "to", cells the
        customer counts. Row sums are start's segment sizes, column sums end's."""
        from .segments import store_segment_drift

        return store_segment_drift(self, start, end, rules, windows)

    def segment_drift_series(self, start: Any, end: Any, period: str = "month",
                             rules: Any = None, *, windows: Any = None) -> Any:
        """The drift of each step between ``start``, every period end in between and ``end``
        (period "day", "week", "month", "quarter", "year"): a long DataFrame with date (the
        step's end), from, to and count, every cell of every step; attrs["start"] is start."""
        from .segments import store_segment_drift_series

        return store_segment_drift_series(self, start, end, period, rules, windows)

    def mainstream_segments(self, as_of: Any, k: int = 3, rules: Any = None, *,
                            windows: Any = None) -> Any:
        """Every segment's size and net revenue as of a date (exact decimal.Decimal), indexed by
        segment in segmentation order, with customers_rank and revenue_rank (1..k for the k
        largest by customers / by revenue, ties by name; NA otherwise) and mainstream (in either
        top k). attrs["by_customers"] and attrs["by_revenue"] list the top k names."""
        from .segments import store_mainstream_segments

        return store_mainstream_segments(self, as_of, k, rules, windows)

    # ---- lifecycle machines on the store (crmkit/analytics/lifecycle.hpp) ----

    def fact_schema(self, machines: Any = (), windows: Any = None) -> Any:
        """The FactSchema machines on this store are loaded against: the standard facts, the
        store's custom fields as field.<name>, stage.<m> / days_in_stage.<m> for each machine name
        in ``machines``, and declared ``windows`` (dicts or JSON texts; docs/facts.md)."""
        from .facts import _window_texts

        return _core.store_fact_schema(self, list(machines), _window_texts(windows))

    def evaluate(self, machine: Any, as_of: Any, customer: Any = None, *, dry_run: bool = False,
                 windows: Any = None, model: Any = None, unit: Any = "day",
                 multiplier: float = 1.0, actor: str = "", source: str = "",
                 kind: str = "customer") -> Any:
        """Runs ``machine``'s automatic transitions as of ``as_of`` for every customer that exists
        then, or for one (an id, an external id or a Customer), and writes the moves in one
        transaction (``dry_run``: computes and checks them, writes nothing). The facts the rules
        read are computed as of the date (``windows`` and ``model`` as in ``facts``).

        Returns a DataFrame of the moves in history order: id (0 in a dry run), customer_id,
        external_id, from, to, rule, at, actor; ``.attrs["evaluated"]`` is the number of
        customers evaluated. Raises ValidationError when a customer's recorded state is newer than
        ``as_of`` (history runs forwards: evaluate dates in order).

        ``kind="opportunity"`` runs a pipeline machine (reading only stage and days_in_stage, as
        the shipped sales_pipeline's ``stale`` rule) over the opportunities of the pipeline named
        like it; the DataFrame then has an opportunity_id column before customer_id.
        """
        import pandas as pd

        from .facts import _unit, _window_texts

        ident = None
        if customer is not None:
            kind, ident = _entity(self, customer)
            if kind != "customer":
                raise ValidationError("customer: evaluate runs on customers, got an Opportunity")
        r = _core.evaluate_machine(self, machine, as_of, customer=ident, dry_run=dry_run,
                                   windows=_window_texts(windows), model=model, unit=_unit(unit),
                                   multiplier=float(multiplier), actor=actor, source=source,
                                   kind=kind)
        ids = np.asarray(r["customer_id"], dtype=np.int64)
        head: dict[str, Any] = {"id": np.asarray(r["id"], dtype=np.int64)}
        if kind == "opportunity":
            opp = self._opportunity_columns(machine.name)
            by_id = dict(zip(opp["id"].tolist(), opp["customer_id"].tolist()))
            head["opportunity_id"] = ids
            ids = np.array([by_id.get(int(i), 0) for i in ids], dtype=np.int64)
        frame = pd.DataFrame({
            **head,
            "customer_id": ids,
            "external_id": pd.Series(_core.external_ids_of(self.customer_keys(), ids),
                                     dtype=object),
            "from": pd.Series(r["from"], dtype=object),
            "to": pd.Series(r["to"], dtype=object),
            "rule": pd.Series(r["rule"], dtype=object),
            "at": _utc(r["at_micros"]),
            "actor": pd.Series(r["actor"], dtype=object),
        })
        frame.attrs["evaluated"] = int(r["evaluated"])
        return frame

    def stage_history(self, machine: Any, kind: str = "customer") -> Any:
        """The stored history of ``machine`` as a crmkit.History (docs/lifecycle.md) whose
        entities are this store's customer ids (or opportunity ids, kind="opportunity"), with one
        creation row per entity: it is in the initial state from its record's created_at (or its
        first transition, if earlier) until its first transition. Every report of History then
        works on the store: stages_as_of, stage_times, distribution, transition_counts (creation
        rows have from None), funnel, median_durations."""
        from .lifecycle import History

        core = _core.store_history(self, machine, kind)
        return History._from_core(core, list(machine.state_names))

    def stages_as_of(self, machine: Any, as_of: Any) -> Any:
        """Every customer's stage in ``machine`` as of ``as_of``: a DataFrame with customer_id,
        external_id and stage (None for a customer that did not exist yet)."""
        import pandas as pd

        h = self.stage_history(machine)
        st = h.stages_as_of(as_of)
        ids = np.asarray(st["entity"], dtype=np.int64)
        return pd.DataFrame({
            "customer_id": ids,
            "external_id": pd.Series(_core.external_ids_of(self.customer_keys(), ids),
                                     dtype=object),
            "stage": st["state"],
        })

    # ---- loyalty metrics (issue 8 item 2; crmkit/analytics/loyalty.hpp, docs/loyalty-metrics.md) ----
    # as_of None means the store's latest purchase, survey or referral. Purchases are net of fully
    # refunded ones as of the date. Overall figures come back as dicts, per-period tables as
    # DataFrames indexed by period label (start, end, the counts and rates; attrs holds
    # last_period_incomplete).

    def cohort_retention(self, period: str = "month", as_of: Any = None) -> Any:
        """The cohort retention matrix as of a date: a crmkit.CohortRetention (.counts, .shares
        indexed by cohort label, .sizes, .incomplete)."""
        from .loyalty_metrics import store_cohort_retention

        return store_cohort_retention(self, period, as_of)

    def retention(self, period: str = "month", start: Any = None, end: Any = None, *,
                  active_days: int = 365) -> Any:
        """Retention and churn per period from ``start``'s period (None: the first purchase's) to
        ``end``'s (the as-of date; None: the latest event): S, E, N (active_start, active_end,
        acquired), retained, reactivated, churned, retention_rate = (E - N) / S, churn_rate,
        strict_retention_rate = retained / S, strict_churn_rate. Active = a purchase in the
        trailing ``active_days``."""
        from .loyalty_metrics import store_retention

        return store_retention(self, period, start, end, active_days)

    def repeat_purchase_rate(self, as_of: Any = None, period: str | None = None,
                             start: Any = None) -> Any:
        """Customers with >= 2 purchases over customers with >= 1: a dict as of the date, or
        (period given) a DataFrame per period (buyers, repeat_buyers, rate within the period;
        customers, repeat_customers, cumulative_rate as of its end)."""
        from .loyalty_metrics import store_repeat_purchase_rate

        return store_repeat_purchase_rate(self, as_of, period, start)

    def nps(self, as_of: Any = None, period: str | None = None, *, latest_only: bool = False,
            start: Any = None) -> Any:
        """Net Promoter Score (promoters 9-10, passives 7-8, detractors 0-6; score = %promoters
        - %detractors): a dict, or a DataFrame per period. ``latest_only`` counts each
        customer's latest answer in the window only."""
        from .loyalty_metrics import store_nps

        return store_nps(self, as_of, period, latest_only=latest_only, start=start)

    def csat(self, as_of: Any = None, period: str | None = None, *, latest_only: bool = False,
             start: Any = None) -> Any:
        """CSAT: the share of 4-5 answers among CSAT answers; a dict, or a DataFrame per period."""
        from .loyalty_metrics import store_csat

        return store_csat(self, as_of, period, latest_only=latest_only, start=start)

    def referral_rate(self, as_of: Any = None, period: str | None = None,
                      start: Any = None) -> Any:
        """Customers who referred someone over customers (with a purchase by the window's end);
        a dict, or a DataFrame per period."""
        from .loyalty_metrics import store_referral_rate

        return store_referral_rate(self, as_of, period, start)

    def word_of_mouth(self, as_of: Any = None, period: str | None = None, *,
                      tell_satisfied: float = 3.0, tell_dissatisfied: float = 10.0,
                      start: Any = None) -> Any:
        """Word-of-mouth reach: satisfied customers (latest answer: NPS 9-10, or CSAT 4-5) tell
        ``tell_satisfied`` people, dissatisfied ones (NPS 0-6, or CSAT 1-2) ``tell_dissatisfied``
        (seed 004: 3 and 10); a dict, or a DataFrame per period."""
        from .loyalty_metrics import store_word_of_mouth

        return store_word_of_mouth(self, as_of, period, tell_satisfied=tell_satisfied,
                                   tell_dissatisfied=tell_dissatisfied, start=start)

    def customer_loyalty(self, as_of: Any = None, period: str = "month", *,
                         active_days: int = 365) -> Any:
        """One row per customer with a counted purchase, a survey answer or a referral, indexed
        by customer_id: external_id, cohort (label), purchases, first_purchase, last_purchase,
        active, referrals, satisfaction ("satisfied", "neutral", "dissatisfied" or None)."""
        from .loyalty_metrics import store_customer_loyalty

        return store_customer_loyalty(self, as_of, period, active_days)
    # ---- engagement: follow-up and campaigns (docs/engagement.md) ----
    def due_list(self, as_of: Any, policy: Any = None, horizon_days: int = 0,
                 channel_order: Any = None) -> Any:
        """Who should be contacted as of ``as_of``: a crmkit.DueList with DataFrames ``due``,
        ``unreachable`` and ``at_limit``. ``policy`` is a crmkit.FollowUpPolicy, a dict or JSON
        text (None: every customer every 365 days); ``horizon_days`` also lists customers due
        within that many days (status "due")."""
        from .engage import due_list

        return due_list(self, as_of, policy, horizon_days, channel_order)

    def campaign_audience(self, as_of: Any, rule: Any = None, customers: Any = None,
                          purpose: str = "marketing", channels: Any = None,
                          odds: Any = None) -> Any:
        """A crmkit.Audience: the customers a rule (JSON Logic over facts, dict or text) or a list
        selects (everyone when neither), reachable through a channel consented for ``purpose``;
        ``odds`` overrides the response odds ({"prospect": 0.06, "first_time": 0.15,
        "repeat": 0.5})."""
        from .engage import campaign_audience

        return campaign_audience(self, as_of, rule, customers, purpose, channels, odds)

    def record_campaign_touches(self, name: str, touches: Any, at: Any,
                                purpose: str | None = None, *, actor: str = "",
                                source: str = "") -> list[int]:
        """Appends one Interaction per touch (source "campaign:<name>"), all or nothing;
        ConsentRequiredError names a customer without consent for the channel and purpose;
        ConflictError one at its contact limit (max_contacts_per_30_days reached in the 30 days
        up to ``at``)."""
        from .engage import record_campaign_touches

        return record_campaign_touches(self, name, touches, at, purpose, actor=actor,
                                       source=source)

    def record_campaign_responses(self, name: str, customers: Any, at: Any, *, actor: str = "",
                                  source: str = "") -> list[int]:
        """Records that ``customers`` (touched by the campaign) responded."""
        from .engage import record_campaign_responses

        return record_campaign_responses(self, name, customers, at, actor=actor, source=source)

    def campaign_report(self, name: str, cost_per_contact: Any, odds: Any = None) -> Any:
        """The realised figures of campaign ``name`` by class and in all: a DataFrame."""
        from .engage import campaign_report

        return campaign_report(self, name, cost_per_contact, odds)
