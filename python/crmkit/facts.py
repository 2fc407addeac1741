"""Customer facts as of a date (crmkit/analytics/facts.hpp) as pandas DataFrames and dicts.

``Store.facts(as_of)`` gives one row per customer, ``Store.customer_facts(customer, as_of)`` one
dict, and ``facts_from_columns`` computes the same facts from pandas/numpy columns without a store.
Every rule (as-of, windows, refunds, RFM, model facts) is computed in C++; this module only
converts columns. docs/facts.md has the catalogue.

Column types of the DataFrame: number -> float64 (NaN when missing), integer -> Int64 and bool ->
boolean (pandas' nullable dtypes, <NA> when missing), date -> datetime64[ns] (NaT), text -> pandas'
default text column (missing: NaN with pandas 3's str dtype, None with pandas 2's object dtype;
pd.isna is true either way), list of text -> object holding Python lists.
"""

from __future__ import annotations

import datetime
import json
from typing import Any, Iterable, Mapping

import numpy as np

from . import _arrow, _core
from ._json import json_text
from .errors import ValidationError

__all__ = ["facts_from_columns", "standard_facts", "window_fact"]

_UNITS = {"day": _core.TimeUnit.day, "week": _core.TimeUnit.week, "month": _core.TimeUnit.month,
          "D": _core.TimeUnit.day, "W": _core.TimeUnit.week, "M": _core.TimeUnit.month,
          "hour": _core.TimeUnit.hour, "H": _core.TimeUnit.hour, "h": _core.TimeUnit.hour}


def _unit(unit: Any) -> Any:
    if isinstance(unit, _core.TimeUnit):
        return unit
    try:
        return _UNITS[unit]
    except (KeyError, TypeError):
        raise ValidationError(f"unit: expected hour, day, week or month, got {unit!r}") from None


def _window_texts(windows: Iterable[Any] | None) -> list[str] | None:
    """Window declarations as JSON texts: each a dict or a JSON string."""
    if windows is None:
        return None
    out = []
    for i, w in enumerate(windows):
        if isinstance(w, str):
            out.append(w)
        elif isinstance(w, Mapping):
            out.append(json_text(dict(w), f"windows[{i}]"))
        else:
            raise ValidationError(f"windows[{i}]: expected a dict or a JSON string, "
                                  f"got {type(w).__name__}")
    return out


def window_fact(declaration: Any) -> dict[str, Any]:
    """Validates one window declaration (a dict or JSON text) and returns it in canonical form,
    defaults filled in: ``{"name": "meetings_180d", "event": "interaction", "kind": "meeting",
    "window_days": 180}`` gets ``"aggregate": "count"``. Raises ValidationError naming the path
    (``window.window_days: ...``)."""
    text = _window_texts([declaration])[0]  # type: ignore[index]
    return json.loads(_core.window_fact_json(text))


def standard_facts(machines: Iterable[str] = (), windows: Iterable[Any] | None = None) -> Any:
    """The standard fact catalogue as a DataFrame (columns name, type, description), with
    stage.<machine> / days_in_stage.<machine> for each machine and the declared windows."""
    import pandas as pd

    rows = _core.standard_facts(list(machines), _window_texts(windows))
    return pd.DataFrame(rows, columns=["name", "type", "description"])


def _column_series(kind: str, values: Any, present: np.ndarray) -> Any:
    import pandas as pd

    missing = present == 0
    if kind == "number":
        out = np.array(values, dtype=np.float64)
        out[missing] = np.nan
        return out
    if kind == "integer":
        return pd.arrays.IntegerArray(np.asarray(values, dtype=np.int64), missing.copy())
    if kind == "bool":
        return pd.arrays.BooleanArray(np.asarray(values, dtype=bool), missing.copy())
    if kind == "date":
        days = np.asarray(values, dtype=np.int64).astype("datetime64[D]").astype("datetime64[ns]")
        days[missing] = np.datetime64("NaT")
        return days
    if kind == "text":
        return pd.Series([None if m else v for v, m in zip(values, missing)], dtype=object).array
    return pd.Series(list(values), dtype=object).array  # list of text: always present


def _frame(result: dict[str, Any]) -> Any:
    import pandas as pd

    data: dict[str, Any] = {}
    if result["external_id"]:
        data["external_id"] = pd.Series(result["external_id"], dtype=object).array
    for name, kind, values, present in result["columns"]:
        data[name] = _column_series(kind, values, np.asarray(present))
    index = pd.Index(np.asarray(result["customer_id"], dtype=np.int64), name="customer_id")
    return pd.DataFrame(data, index=index)


def _cell(kind: str, values: Any, present: np.ndarray, row: int) -> Any:
    if not present[row]:
        return None
    v = values[row]
    if kind == "number":
        return float(v)
    if kind == "integer":
        return int(v)
    if kind == "bool":
        return bool(v)
    if kind == "date":
        return datetime.date(1970, 1, 1) + datetime.timedelta(days=int(v))
    if kind == "list of text":
        return list(v)
    return v


def _row_dict(result: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"customer_id": int(result["customer_id"][0]),
                           "external_id": result["external_id"][0]}
    for name, kind, values, present in result["columns"]:
        out[name] = _cell(kind, values, np.asarray(present), 0)
    return out


def _initial_states(machines: Iterable[Any] | None) -> dict[str, str]:
    """{machine name: initial state} of the Machines given to Store.facts."""
    out: dict[str, str] = {}
    for i, m in enumerate(machines or ()):
        if not hasattr(m, "initial_state") or not hasattr(m, "name"):
            raise ValidationError(f"machines[{i}]: expected a crmkit.Machine, got "
                                  f"{type(m).__name__}")
        out[m.name] = m.initial_state
    return out


def store_facts(store: Any, as_of: Any, facts: Iterable[str] | None = None,
                windows: Iterable[Any] | None = None, model: Any = None, *,
                unit: Any = "day", multiplier: float = 1.0,
                machines: Iterable[Any] | None = None) -> Any:
    """Store.facts: see crmkit.Store.facts."""
    result = _core.facts_as_of(store, as_of, facts=None if facts is None else list(facts),
                               windows=_window_texts(windows), model=model, unit=_unit(unit),
                               multiplier=float(multiplier),
                               initial_states=_initial_states(machines))
    return _frame(result)


def store_customer_facts(store: Any, customer: Any, as_of: Any,
                         facts: Iterable[str] | None = None, windows: Iterable[Any] | None = None,
                         model: Any = None, *, unit: Any = "day",
                         multiplier: float = 1.0,
                         machines: Iterable[Any] | None = None) -> dict[str, Any]:
    """Store.customer_facts: see crmkit.Store.customer_facts."""
    if isinstance(customer, str):
        customer = store.get_customer_by_external_id(customer).id
    elif isinstance(customer, _core.Customer):
        customer = customer.id
    result = _core.customer_facts(store, int(customer), as_of,
                                  facts=None if facts is None else list(facts),
                                  windows=_window_texts(windows), model=model, unit=_unit(unit),
                                  multiplier=float(multiplier),
                                  initial_states=_initial_states(machines))
    return _row_dict(result)


# ---- facts_from_columns ----------------------------------------------------------------------

def _arrow_integers(values: Any, field: str) -> np.ndarray | None:
    """int64 of an Arrow integer column (int64 in one chunk: not copied; a null refused), None for
    another Arrow type."""
    import pyarrow as pa

    t = values.type
    if pa.types.is_signed_integer(t) or (pa.types.is_unsigned_integer(t) and t.bit_width < 64):
        return _arrow.to_numpy(values, field, np.int64)
    return None


def _micros(values: Any, field: str) -> np.ndarray:
    """UTC microseconds of a datetime64 column (naive = UTC) or of int64 microseconds; an Arrow
    timestamp (any unit and zone) or integer column likewise, microseconds in one chunk without a
    copy."""
    import pandas as pd

    if _arrow.is_column(values):
        micros = _arrow.timestamp_micros(values, field)
        if micros is None:
            micros = _arrow_integers(values, field)
        if micros is None:
            raise ValidationError(f"{field}: expected timestamps or int64 UTC microseconds, "
                                  f"got {values.type}")
        return micros
    s = pd.Series(values)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        if s.isna().any():
            raise ValidationError(f"{field}[{int(np.flatnonzero(s.isna().to_numpy())[0])}]: "
                                  "is missing (NaT)")
        return s.to_numpy(dtype="datetime64[us]").astype(np.int64)
    if pd.api.types.is_integer_dtype(s.dtype):
        return s.to_numpy(dtype=np.int64)
    raise ValidationError(f"{field}: expected datetime64 values or int64 UTC microseconds, "
                          f"got {s.dtype}")


def _ids(values: Any, field: str) -> np.ndarray:
    import pandas as pd

    if _arrow.is_column(values):
        ids = _arrow_integers(values, field)
        if ids is None:
            raise ValidationError(f"{field}: expected integer customer ids, got {values.type}")
        return ids
    s = pd.Series(values)
    if not pd.api.types.is_integer_dtype(s.dtype):
        raise ValidationError(f"{field}: expected integer customer ids, got {s.dtype}")
    return s.to_numpy(dtype=np.int64)


def _ints(values: Any, field: str) -> np.ndarray:
    """int64 of an integer column, or of a float column holding whole numbers only (a float
    column of integers, e.g. read from a CSV); a fraction, NaN or infinity is refused naming the
    row (to_numpy(dtype=int64) would truncate 19.99 to 19 and turn NaN into a huge negative)."""
    import pandas as pd

    if _arrow.is_column(values):
        ints = _arrow_integers(values, field)
        if ints is not None:
            return ints
        _arrow.to_numpy(values, field)  # a null raises, naming its row
        values = _arrow.to_pandas(values)  # floats: checked below
    s = pd.Series(values)
    if pd.api.types.is_bool_dtype(s.dtype):
        raise ValidationError(f"{field}: expected integers, got {s.dtype}")
    if pd.api.types.is_integer_dtype(s.dtype):
        if s.isna().any():
            raise ValidationError(f"{field}[{int(np.flatnonzero(s.isna().to_numpy())[0])}]: "
                                  "is missing")
        return s.to_numpy(dtype=np.int64)
    if pd.api.types.is_float_dtype(s.dtype):
        f = s.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(f) | (f != np.floor(f)) | (np.abs(f) >= 2.0**63)
        bad[~bad] = np.abs(f[~bad]) > 2.0**53  # beyond 2**53 a float no longer holds every integer
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValidationError(f"{field}[{i}]: {float(f[i])!r} is not a whole number in range")
        return f.astype(np.int64)
    raise ValidationError(f"{field}: expected integers, got {s.dtype}")


def _codes(values: Any, field: str, enum: Any) -> np.ndarray:
    """uint8 codes of an enum column given by name ("meeting") or code."""
    import pandas as pd

    if _arrow.is_column(values):
        _arrow.to_numpy(values, field)  # a null raises, naming its row
        values = _arrow.to_pandas(values)
    s = pd.Series(values)
    if pd.api.types.is_integer_dtype(s.dtype) or pd.api.types.is_float_dtype(s.dtype):
        codes = _ints(s, field)
        known = sorted(int(v) for v in enum.__members__.values())
        bad = ~np.isin(codes, known)
        if bad.any():  # uint8 would wrap 259 to 3, a valid code
            i = int(np.flatnonzero(bad)[0])
            raise ValidationError(f"{field}[{i}]: unknown {enum.__name__} code {int(codes[i])}")
        return codes.astype(np.uint8)
    names = {name: int(v) for name, v in enum.__members__.items()}
    out = np.empty(len(s), dtype=np.uint8)
    for i, v in enumerate(s):
        try:
            out[i] = names[v]
        except (KeyError, TypeError):
            raise ValidationError(f"{field}[{i}]: unknown {enum.__name__} {v!r}") from None
    return out


def _scores(values: Any, field: str, low: int, high: int) -> np.ndarray:
    """int8 scores (-1: not given, from NaN / None / NA). A score must be a whole number in
    low..high (NPS 0..10, CSAT 1..5, as SurveyResponse): int8 would wrap 300 to 44 and 255 to
    -1 (not given), and truncate 7.9 to 7."""
    import pandas as pd

    if _arrow.is_column(values):  # nulls are scores not given
        values = _arrow.to_pandas(values)
    s = pd.to_numeric(pd.Series(values), errors="raise")
    f = s.to_numpy(dtype=np.float64, na_value=np.nan)
    given = ~np.isnan(f)
    bad = given & ((f != np.floor(f)) | (f < low) | (f > high))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValidationError(f"{field}[{i}]: {float(f[i])!r} is not a whole number in {low}..{high}")
    return np.where(given, f, -1).astype(np.int8)


class _ArrowTable:
    """The columns of a pyarrow Table / RecordBatch by name, as the DataFrame calls below use
    them (``name in t``, ``t[name]``, ``len(t)``); a missing column raises ValidationError
    "purchases.at: no column 'at' in purchases"."""

    def __init__(self, table: Any, what: str) -> None:
        self.table, self.what = table, what

    def __contains__(self, name: str) -> bool:
        return name in self.table.schema.names

    def __getitem__(self, name: str) -> Any:
        return _arrow.table_column(self.table, name, f"{self.what}.{name}", self.what)

    def __len__(self) -> int:
        return self.table.num_rows


def _table(value: Any, what: str) -> Any:
    import pandas as pd

    if _arrow.is_table(value):
        return _ArrowTable(value, what)
    return pd.DataFrame(value)


def _facts_columns(result: dict[str, Any], output: str) -> dict[str, Any]:
    """The facts as columns: customer_id first, then one per fact; "pyarrow" gives Arrow arrays
    with nulls where a fact is missing (number float64, integer int64, bool bool, date date32,
    text string, list of text list<string>), "numpy" numpy masked arrays (numpy.ma, mask True
    where missing; text and lists as object arrays)."""
    customer_id = np.asarray(result["customer_id"], dtype=np.int64)
    data: dict[str, Any] = {"customer_id": customer_id}
    pa = _arrow.pyarrow() if output == "pyarrow" else None
    for name, kind, values, present in result["columns"]:
        missing = np.asarray(present) == 0
        if kind in ("text", "list of text"):
            values = np.array(list(values) + [None], dtype=object)[:-1]  # 1-D even for lists
        else:
            dtype = {"number": np.float64, "integer": np.int64, "bool": np.bool_,
                     "date": np.int32}[kind]
            values = np.asarray(values, dtype=dtype)
        if pa is None:
            data[name] = np.ma.MaskedArray(values, mask=missing)
            continue
        arrow_type = {"number": pa.float64(), "integer": pa.int64(), "bool": pa.bool_(),
                      "date": pa.date32(), "text": pa.string(),
                      "list of text": pa.list_(pa.string())}[kind]
        if kind in ("text", "list of text"):
            data[name] = pa.array([None if m else (list(v) if kind == "list of text" else v)
                                   for v, m in zip(values, missing)], type=arrow_type)
        else:
            data[name] = pa.array(values, type=arrow_type,
                                  mask=missing if missing.any() else None)
    return data


def facts_from_columns(customers: Any, as_of: Any, *, purchases: Any = None,
                       refunds: Any = None, interactions: Any = None, referrals: Any = None,
                       surveys: Any = None, participations: Any = None, scale: int = 2,
                       facts: Iterable[str] | None = None, windows: Iterable[Any] | None = None,
                       model: Any = None, unit: Any = "day", multiplier: float = 1.0,
                       output: str | None = None) -> Any:
    """The facts of facts.hpp compute_facts from pandas DataFrames, pyarrow Tables /
    RecordBatches (or dicts of columns), without a store; a DataFrame indexed by customer_id (no
    external_id column), typed as Store.facts.

    ``output``: None or "pandas" (that DataFrame), "pyarrow" (a pyarrow Table: customer_id first,
    then one column per fact, null where missing) or "numpy" (a dict: customer_id an int64
    array, each fact a numpy masked array, masked where missing). Arrow columns of int64 ids,
    amounts and microsecond timestamps are read without a copy; a null in a column that needs a
    value raises crmkit.ValidationError naming it (``purchases.at[2]: is missing (NaT)``).

    Columns (times are datetime64, naive taken as UTC, or int64 UTC microseconds; amounts are
    int64 minor units with ``scale`` digits):
      customers: customer_id, and created_at (optional: without it every customer is a row)
      purchases: customer_id, at, amount_minor, and event_id (needed when refunds are given)
      refunds: purchase_id, at, amount_minor
      interactions: customer_id, at, kind, purpose (names or codes), commitment_obtained
        (optional bool)
      referrals: customer_id (the referrer), at
      surveys: customer_id, at, nps, csat (NaN when not given)
      participations: customer_id, at
    """
    output = _arrow.check_output(output)
    args: dict[str, Any] = {}
    c = _table(customers, "customers")
    customer_id = _ids(c["customer_id"], "customers.customer_id")
    if "created_at" in c:
        args["created_at"] = _micros(c["created_at"], "customers.created_at")
    if purchases is not None:
        p = _table(purchases, "purchases")
        args["purchase_customer_id"] = _ids(p["customer_id"], "purchases.customer_id")
        args["purchase_at"] = _micros(p["at"], "purchases.at")
        args["purchase_amount_minor"] = _ints(p["amount_minor"], "purchases.amount_minor")
        if "event_id" in p:
            args["purchase_event_id"] = _ints(p["event_id"], "purchases.event_id")
    if refunds is not None:
        r = _table(refunds, "refunds")
        args["refund_purchase_id"] = _ints(r["purchase_id"], "refunds.purchase_id")
        args["refund_at"] = _micros(r["at"], "refunds.at")
        args["refund_amount_minor"] = _ints(r["amount_minor"], "refunds.amount_minor")
    if interactions is not None:
        i = _table(interactions, "interactions")
        args["interaction_customer_id"] = _ids(i["customer_id"], "interactions.customer_id")
        args["interaction_at"] = _micros(i["at"], "interactions.at")
        args["interaction_kind"] = _codes(i["kind"], "interactions.kind", _core.InteractionKind)
        args["interaction_purpose"] = _codes(i["purpose"], "interactions.purpose",
                                             _core.ContactPurpose)
        if "commitment_obtained" in i:
            commitment = i["commitment_obtained"]
            if _arrow.is_column(commitment):
                commitment = _arrow.to_numpy(commitment, "interactions.commitment_obtained")
            args["interaction_commitment_obtained"] = np.asarray(commitment, dtype=np.uint8)
    if referrals is not None:
        f = _table(referrals, "referrals")
        args["referral_customer_id"] = _ids(f["customer_id"], "referrals.customer_id")
        args["referral_at"] = _micros(f["at"], "referrals.at")
    if surveys is not None:
        s = _table(surveys, "surveys")
        args["survey_customer_id"] = _ids(s["customer_id"], "surveys.customer_id")
        args["survey_at"] = _micros(s["at"], "surveys.at")
        args["survey_nps"] = _scores(s["nps"] if "nps" in s else [np.nan] * len(s), "surveys.nps", 0, 10)
        args["survey_csat"] = _scores(s["csat"] if "csat" in s else [np.nan] * len(s), "surveys.csat", 1, 5)
    if participations is not None:
        e = _table(participations, "participations")
        args["participation_customer_id"] = _ids(e["customer_id"], "participations.customer_id")
        args["participation_at"] = _micros(e["at"], "participations.at")
    result = _core.compute_facts(customer_id, as_of=as_of, scale=scale,
                                 facts=None if facts is None else list(facts),
                                 windows=_window_texts(windows), model=model, unit=_unit(unit),
                                 multiplier=float(multiplier), **args)
    if output is None or output == "pandas":
        return _frame(result)
    data = _facts_columns(result, output)
    return data if output == "numpy" else _arrow.table(data)
