"""Transaction-log summaries with lifetimes' names (lifetimes.utils), on the crmkit C++ core.

``summary_data_from_transaction_data`` and ``calibration_and_holdout_data`` take the same arguments
and return the same columns as lifetimes 0.11.3. This module only converts columns: ids are
factorised to int64 codes, times become UTC microseconds (naive times are taken as UTC), money
becomes float64; the C++ core (crmkit/value/summary.hpp) does all the grouping and arithmetic with the
GIL released, and the result comes back as a DataFrame indexed by customer id (integer ids sorted,
other ids in order of first appearance).

Time units: ``freq`` is "H" or "h" (the UTC clock hour), "D" (day), "W" (week, Monday..Sunday)
or "M" (calendar month), as in lifetimes; ``freq_multiplier`` divides recency, T and
duration_holdout ("D" with 7 gives weeks counted in days, as the CDNOW data sets use; "h" with 24
gives days counted in hours). Hours are counted as lifetimes counts them with freq="h" (lifetimes
0.11.3 itself raises TypeError for "H" with numpy >= 1.25). Any other ``freq`` raises
crmkit.ValidationError naming freq and listing the accepted units.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from . import _arrow, _core
from .errors import ValidationError

__all__ = [
    "summary_data_from_transaction_data",
    "calibration_and_holdout_data",
    "summary_from_store",
    "cumulative_repeat_transactions",
    "expected_cumulative_transactions",
    "calculate_alive_path",
    "default_rfm_segments",
    "rfm_scores",
    "find_first_transactions",
    "customer_lifetime_value",
]


def _time_unit(freq: Any) -> Any:
    if not isinstance(freq, str):
        raise ValidationError(f"freq: expected 'H', 'h', 'D', 'W' or 'M', got {freq!r}")
    return _core.parse_time_unit(freq, "freq")


def _period_frequency(freq: Any) -> Any:
    """``freq`` for pandas' to_period: lifetimes' "H" is "h" (pandas 3 refuses "H")."""
    return "h" if freq == "H" else freq


def _check_multiplier(freq_multiplier: Any) -> float:
    try:
        value = float(freq_multiplier)
    except (TypeError, ValueError):
        raise ValidationError(
            f"freq_multiplier: expected a number, got {freq_multiplier!r}"
        ) from None
    if not (np.isfinite(value) and value > 0):
        raise ValidationError(f"freq_multiplier: must be finite and > 0, got {freq_multiplier!r}")
    return value


def _to_timestamp(value: Any, field: str, datetime_format: str | None) -> pd.Timestamp | None:
    """A point in time as a naive-UTC pandas Timestamp (None stays None)."""
    if value is None:
        return None
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        if datetime_format is None:
            raise ValidationError(
                f"{field}: {value!r} is a number, not a date or time; pass datetime_format to "
                'read it as text (datetime_format="%Y%m%d" for 19970101)'
            )
        value = _number_text(value)
    try:
        ts = pd.to_datetime(value, format=datetime_format)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{field}: cannot be read as a date or time: {exc}") from None
    if not isinstance(ts, pd.Timestamp) or pd.isna(ts):
        raise ValidationError(f"{field}: expected one date or time, got {value!r}")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts


def _number_text(value: Any) -> str:
    """The text of a number read as a date: 19970101 and 19970101.0 both give "19970101"."""
    if isinstance(value, (float, np.floating)) and np.isfinite(value) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _is_number_column(column: pd.Series) -> bool:
    """True for a column of numbers (int/float dtype, or objects that are all numbers): pandas
    would read them as nanoseconds since 1970, which is never what a date column means."""
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return False
    if pd.api.types.is_numeric_dtype(dtype):
        return True
    if dtype == object and len(column):
        return pd.api.types.infer_dtype(column, skipna=True) in (
            "integer", "floating", "mixed-integer-float", "decimal"
        )
    return False


def _micros(column: Any, field: str, datetime_format: str | None, name: Any = None) -> np.ndarray:
    """int64 UTC microseconds of a column of times (datetime64, strings, datetimes; a pandas
    Series or a pyarrow Array / ChunkedArray).

    The one reader of datetime columns for crmkit.utils (and the plots that call it). A column of
    numbers (int64 19970101 from a plain pd.read_csv) is read as text in ``datetime_format``;
    without a format it raises ValidationError naming the column, instead of being taken as
    nanoseconds since 1970. An Arrow timestamp column (any unit, any time zone) is read as its UTC
    counts, without a copy when they are microseconds in one chunk; any other Arrow column (text,
    dates, numbers) goes through pandas and the rules above (``name`` names it in messages)."""
    if _arrow.is_column(column):
        micros = _arrow.timestamp_micros(column, field)
        if micros is not None:
            return micros
        column = _arrow.to_pandas(column).rename(name)
    if not pd.api.types.is_datetime64_any_dtype(column.dtype):
        if _is_number_column(column):
            if datetime_format is None:
                raise ValidationError(
                    f"{field}: column {column.name!r} holds numbers ({column.dtype}), not dates or "
                    "times; pass datetime_format to read them as text "
                    '(datetime_format="%Y%m%d" for 19970101)'
                )
            # 19970101 with "%Y%m%d", as lifetimes users pass it
            if pd.api.types.is_integer_dtype(column.dtype):
                column = column.astype(str)
            else:
                column = column.map(_number_text, na_action="ignore")
        try:
            column = pd.to_datetime(column, format=datetime_format)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"{field}: cannot be read as dates or times: {exc}") from None
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        column = column.dt.tz_convert("UTC").dt.tz_localize(None)
    values = column.to_numpy(dtype="datetime64[us]")
    missing = np.flatnonzero(np.isnat(values))
    if missing.size:
        raise ValidationError(f"{field}[{int(missing[0])}]: is missing (NaT)")
    return values.view(np.int64)


def _amounts(column: Any, field: str) -> np.ndarray:
    """float64 major units of a money column (numbers, decimal.Decimal or numeric strings; a
    pandas Series or a pyarrow column: float64 in one chunk is not copied, a null is refused)."""
    if _arrow.is_column(column):
        import pyarrow as pa

        if pa.types.is_floating(column.type) or pa.types.is_integer(column.type):
            values = _arrow.to_numpy(column, field, np.float64)
            bad = np.flatnonzero(~np.isfinite(values))
            if bad.size:
                raise ValidationError(f"{field}[{int(bad[0])}]: not a finite number")
            return values
        if column.null_count:
            _arrow.to_numpy(column, field)  # raises naming the first null
        column = _arrow.to_pandas(column)
    try:
        values = column.to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{field}: cannot be read as amounts: {exc}") from None
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise ValidationError(f"{field}[{int(bad[0])}]: not a finite number")
    return values


def _transaction_columns(transactions: Any, customer_id_col: Any, datetime_col: Any,
                         monetary_value_col: Any, datetime_format: str | None) -> tuple:
    """The ids, int64 UTC micros and (if a money column is named) float64 amounts of a log."""
    ids = _column(transactions, customer_id_col, "customer_id_col")
    times = _micros(_column(transactions, datetime_col, "datetime_col"), "datetime_col",
                    datetime_format, datetime_col)
    amounts = None
    if monetary_value_col is not None:
        amounts = _amounts(_column(transactions, monetary_value_col, "monetary_value_col"),
                           "monetary_value_col")
    return ids, times, amounts


def _factorize(ids: Any) -> tuple[np.ndarray, Any]:
    """int64 keys of the ids for the core, and the ids the keys stand for (None: the keys are the
    ids). Integer ids pass through (the core groups sparse ids itself, and sorts them); other ids
    are factorised to dense codes in order of first appearance (sorting a million strings would
    cost several times the summary itself). An Arrow column of integers passes through the same
    way (int64 in one chunk without a copy); other Arrow ids are dictionary-encoded in Arrow (the
    ids then stay a pyarrow Array)."""
    if _arrow.is_column(ids):
        import pyarrow as pa

        t = ids.type
        if pa.types.is_signed_integer(t) or (pa.types.is_unsigned_integer(t) and t.bit_width < 64):
            return _arrow.to_numpy(ids, "customer_id_col", np.int64), None
        return _arrow.factorize(ids, "customer_id_col")
    dtype = ids.dtype
    if (
        isinstance(dtype, np.dtype)
        and dtype.kind in "iu"
        and (dtype.kind == "i" or dtype.itemsize < 8)
    ):
        return ids.to_numpy(dtype=np.int64), None
    if ids.isna().any():
        row = int(np.flatnonzero(ids.isna().to_numpy())[0])
        raise ValidationError(f"customer_id_col[{row}]: is missing")
    codes, uniques = pd.factorize(ids, sort=False)
    return codes.astype(np.int64, copy=False), uniques


def _column(transactions: Any, name: Any, argument: str) -> Any:
    """The column ``name`` of a pandas DataFrame (a Series) or of a pyarrow Table / RecordBatch
    (a ChunkedArray / Array)."""
    if _arrow.is_table(transactions):
        return _arrow.table_column(transactions, name, argument, "transactions")
    if not isinstance(transactions, pd.DataFrame):
        raise ValidationError(
            "transactions: expected a pandas DataFrame or a pyarrow Table, got "
            f"{type(transactions).__name__}"
        )
    if name not in transactions.columns:
        raise ValidationError(f"{argument}: no column {name!r} in transactions")
    return transactions[name]


def _index(uniques: Any, keys: np.ndarray, name: Any) -> pd.Index:
    if uniques is None:
        index = pd.Index(keys)
    elif _arrow.is_arrow(uniques):
        index = pd.Index(uniques.take(_arrow.array(keys)).to_pandas())
    else:
        index = pd.Index(uniques).take(keys)
    index.name = name
    return index


def _id_column(uniques: Any, keys: np.ndarray, output: str) -> Any:
    """The customer ids of a summary's rows as a numpy array ("numpy") or pyarrow Array
    ("pyarrow"): the int64 keys themselves (not copied) when the ids were integers."""
    if uniques is None:
        return keys if output == "numpy" else _arrow.array(keys)
    if _arrow.is_arrow(uniques):
        ids = uniques.take(_arrow.array(keys))
        return ids.to_numpy(zero_copy_only=False) if output == "numpy" else ids
    ids = pd.Index(uniques).take(keys)
    if output == "numpy":
        return ids.to_numpy()
    return _arrow.pyarrow().array(ids.to_numpy(), from_pandas=True)


def _summary_result(columns: dict[str, np.ndarray], uniques: Any, keys: np.ndarray,
                    name: Any, output: str | None) -> Any:
    """A per-customer summary as asked: a DataFrame indexed by customer id (None, "pandas"), a
    dict of numpy arrays ("numpy") or a pyarrow Table ("pyarrow"), both with the customer id
    first, under the name of the id column."""
    if output is None or output == "pandas":
        return pd.DataFrame(columns, index=_index(uniques, keys, name))
    data = {str(name): _id_column(uniques, keys, output), **columns}
    return data if output == "numpy" else _arrow.table(data)


def summary_data_from_transaction_data(
    transactions: pd.DataFrame,
    customer_id_col: Any,
    datetime_col: Any,
    monetary_value_col: Any = None,
    datetime_format: str | None = None,
    observation_period_end: Any = None,
    freq: str = "D",
    freq_multiplier: float = 1,
    include_first_transaction: bool = False,
    *,
    output: str | None = None,
    _partition: bool = False,
) -> Any:
    """Per-customer frequency, recency, T (and monetary_value) of a transaction log.

    Same arguments, semantics and columns as lifetimes.utils.summary_data_from_transaction_data
    (crmkit/value/summary.hpp states them exactly): frequency counts repeat periods, recency and T are in
    units of ``freq`` divided by ``freq_multiplier``, monetary_value is the mean of the repeat
    periods' amounts (0 without repeats). All columns are float64, as in lifetimes; the index is
    the customer id (named ``customer_id_col``): sorted for integer ids, in order of first
    appearance for other ids. ``observation_period_end`` defaults to
    the last transaction's time; transactions after its period are ignored. Customers whose first
    purchase is after it are left out, as lifetimes does.

    ``transactions`` is a pandas DataFrame or a pyarrow Table / RecordBatch (docs/arrow.md: Arrow
    columns are read without a copy where their layout allows). ``output``: None or "pandas" (the
    DataFrame above), "pyarrow" (a pyarrow Table: the customer id first, as a column named
    ``customer_id_col``, then the summary columns) or "numpy" (a dict of the same columns as
    numpy arrays).

    Raises crmkit.ValidationError naming the argument for a missing column, an unreadable time or
    amount, a missing value (``datetime_col[3]: is missing``), an unknown ``freq`` or ``output``,
    a ``freq_multiplier`` that is not > 0, or an ``observation_period_end`` before every
    transaction (lifetimes returns an empty frame there; docs/lifetimes-compat.md).
    """
    output = _arrow.check_output(output)
    ids, times, amounts = _transaction_columns(transactions, customer_id_col, datetime_col,
                                               monetary_value_col, datetime_format)
    unit = _time_unit(freq)
    multiplier = _check_multiplier(freq_multiplier)
    end = _to_timestamp(observation_period_end, "observation_period_end", datetime_format)
    codes, uniques = _factorize(ids)
    out = _core.summary_data_from_transaction_data(
        codes,
        times,
        amounts=amounts,
        unit=unit,
        multiplier=multiplier,
        observation_period_end=end,
        include_first_transaction=include_first_transaction,
        drop_customers_after_end=True,
    )
    columns = {
        "frequency": out["frequency"].astype(np.float64),
        "recency": out["recency"],
        "T": out["T"],
    }
    if amounts is not None:
        columns["monetary_value"] = out["monetary_value"]
    # (crmkit.dask and crmkit.spark summarise parts of a log with _partition=True: a part whose
    # customers all start after the end is empty, not an error)
    if len(out["customer_id"]) == 0 and len(codes) > 0 and end is not None and not _partition:
        first = pd.Timestamp(int(times.min()), unit="us")
        raise ValidationError(
            f"observation_period_end: {end} is before the first transaction ({first}); no "
            "customer was observed (lifetimes returns an empty frame)"
        )
    return _summary_result(columns, uniques, out["customer_id"], customer_id_col, output)


def calibration_and_holdout_data(
    transactions: pd.DataFrame,
    customer_id_col: Any,
    datetime_col: Any,
    calibration_period_end: Any,
    observation_period_end: Any = None,
    freq: str = "D",
    freq_multiplier: float = 1,
    datetime_format: str | None = None,
    monetary_value_col: Any = None,
    include_first_transaction: bool = False,
    *,
    output: str | None = None,
) -> Any:
    """The calibration/holdout split of a transaction log, as lifetimes.utils'.

    Columns: frequency_cal, recency_cal, T_cal, [monetary_value_cal], frequency_holdout,
    [monetary_value_holdout], duration_holdout (all float64), one row per customer whose first
    purchase is at or before ``calibration_period_end``, indexed by customer id (ordered as in
    summary_data_from_transaction_data). The
    holdout is the transactions after ``calibration_period_end`` and at or before
    ``observation_period_end`` (default: the last transaction). Raises crmkit.ValidationError as
    summary_data_from_transaction_data, and when ``observation_period_end`` is before
    ``calibration_period_end`` or the holdout is empty. ``transactions`` and ``output`` as in
    summary_data_from_transaction_data (a Table or dict has the customer id first).
    """
    output = _arrow.check_output(output)
    ids, times, amounts = _transaction_columns(transactions, customer_id_col, datetime_col,
                                               monetary_value_col, datetime_format)
    unit = _time_unit(freq)
    multiplier = _check_multiplier(freq_multiplier)
    cal_end = _to_timestamp(calibration_period_end, "calibration_period_end", datetime_format)
    if cal_end is None:
        raise ValidationError("calibration_period_end: is required")
    end = _to_timestamp(observation_period_end, "observation_period_end", datetime_format)
    codes, uniques = _factorize(ids)
    out = _core.calibration_and_holdout_data(
        codes,
        times,
        cal_end,
        amounts=amounts,
        unit=unit,
        multiplier=multiplier,
        observation_period_end=end,
        include_first_transaction=include_first_transaction,
    )
    n = len(out["customer_id"])
    columns = {
        "frequency_cal": out["frequency_cal"].astype(np.float64),
        "recency_cal": out["recency_cal"],
        "T_cal": out["T_cal"],
    }
    if amounts is not None:
        columns["monetary_value_cal"] = out["monetary_value_cal"]
    columns["frequency_holdout"] = out["frequency_holdout"].astype(np.float64)
    if amounts is not None:
        columns["monetary_value_holdout"] = out["monetary_value_holdout"]
    columns["duration_holdout"] = np.full(n, out["duration_holdout"], dtype=np.float64)
    return _summary_result(columns, uniques, out["customer_id"], customer_id_col, output)


def summary_from_store(
    store: Any,
    freq: str = "D",
    freq_multiplier: float = 1,
    observation_period_end: Any = None,
    include_first_transaction: bool = False,
    index: str = "customer_id",
) -> pd.DataFrame:
    """The summary (frequency, recency, T, monetary_value) of every purchase in a crmkit.Store.

    Wraps the C++ analytics call of the same name (crmkit/analytics/analytics.hpp), which reads the
    store's purchases with exact money: each purchase counts with its net amount (amount minus
    refunds so far, in the store currency's major units); a fully refunded purchase still counts
    as a purchase, with amount 0. Columns and end-of-period rules as
    summary_data_from_transaction_data; customers whose first purchase is after
    ``observation_period_end`` are left out.

    ``index`` chooses the key: "customer_id" (the default) indexes the rows by the store's customer
    id, as before; "external_id" indexes them by the customer's external id (named
    ``external_id``) and adds the store's id as a last column ``customer_id``. Rows are in
    ascending customer id either way. Raises crmkit.ValidationError for another ``index``, an
    unknown ``freq`` or a ``freq_multiplier`` that is not > 0.
    """
    if index not in ("customer_id", "external_id"):
        raise ValidationError(f"index: expected 'customer_id' or 'external_id', got {index!r}")
    out = _core.summary_from_store(
        store,
        unit=_time_unit(freq),
        multiplier=_check_multiplier(freq_multiplier),
        observation_period_end=_to_timestamp(observation_period_end, "observation_period_end",
                                             None),
        include_first_transaction=include_first_transaction,
    )
    columns = {
        "frequency": out["frequency"],
        "recency": out["recency"],
        "T": out["T"],
        "monetary_value": out["monetary_value"],
    }
    if index == "customer_id":
        return pd.DataFrame(columns, index=pd.Index(out["customer_id"], name="customer_id"))
    columns["customer_id"] = out["customer_id"]
    return pd.DataFrame(columns, index=pd.Index(out["external_id"], name="external_id",
                                                dtype=object))


def cumulative_repeat_transactions(
    transactions: pd.DataFrame,
    customer_id_col: Any,
    datetime_col: Any,
    freq: str = "W",
    start: Any = None,
    periods: int = 0,
    datetime_format: str | None = None,
    *,
    output: str | None = None,
) -> Any:
    """Cumulative repeat transactions across all customers at the end of each period (int64).

    Element k-1 counts the repeat purchase days (a customer's purchase days other than the first,
    several purchases on one day counting once) up to the end of period k. Periods are ``freq``
    ("D" days, "W" 7-day blocks from ``start``, "M" calendar months; hours are refused with
    crmkit.ValidationError) starting at ``start`` (default:
    the day of the earliest transaction); ``periods`` = 0 runs through the last transaction. The
    CDNOW sample gives 1359, 1414, 1484, 1517, 1573, 1672 at the end of weeks 20..25.

    ``transactions`` is a pandas DataFrame or a pyarrow Table / RecordBatch. ``output``: None or
    "numpy" (the int64 numpy array), "pandas" (a Series named "cumulative_repeat_transactions"
    indexed by period number 1, 2, ...) or "pyarrow" (an int64 pyarrow Array).
    """
    output = _arrow.check_output(output)
    ids = _column(transactions, customer_id_col, "customer_id_col")
    times = _micros(_column(transactions, datetime_col, "datetime_col"), "datetime_col",
                    datetime_format, datetime_col)
    unit = _time_unit(freq)
    if unit == _core.TimeUnit.hour:
        raise ValidationError(f"freq: {freq!r} (hours) is not supported here: repeat transactions "
                              "are counted per UTC day (use 'D', 'W' or 'M')")
    codes, _ = _factorize(ids)
    out = _core.cumulative_repeat_transactions(
        codes,
        times,
        unit=unit,
        start=_to_timestamp(start, "start", datetime_format),
        periods=int(periods),
    )
    if output == "pandas":
        return pd.Series(out, index=pd.RangeIndex(1, len(out) + 1, name="period"),
                         name="cumulative_repeat_transactions", copy=False)
    if output == "pyarrow":
        return _arrow.array(out)
    return out


def _period_ordinals(column: Any, datetime_format: str | None, freq: str,
                     name: Any = None) -> np.ndarray:
    """Integer period numbers (pandas Period ordinals of ``freq``) of a column of times, read by
    the shared reader (_micros: aware times in UTC, naive ones as they are, numbers only with
    ``datetime_format``)."""
    micros = _micros(column, "datetime_col", datetime_format, name)
    series = pd.Series(micros.view("datetime64[us]"))
    return pd.PeriodIndex(series.dt.to_period(_period_frequency(freq))).asi8.astype(np.int64)


def _repeats_and_births(codes: np.ndarray, period: np.ndarray, t: int) -> tuple:
    """Per period 0..t: the number of repeat transactions and of births (first purchases) of the
    customers ``codes``, a customer's purchases in one period counting once."""
    inside = period <= t
    # One row per (customer, period), sorted by customer then period: first rows are births.
    pairs = np.unique(codes[inside].astype(np.int64) * (t + 1) + period[inside])
    customer, when = np.divmod(pairs, t + 1)
    birth = np.ones(pairs.size, dtype=bool)
    birth[1:] = customer[1:] != customer[:-1]
    repeats = np.bincount(when[~birth], minlength=t + 1)
    births = np.bincount(when[birth], minlength=t + 1)
    return repeats, births


def expected_cumulative_transactions(
    model: Any,
    transactions: Any,
    datetime_col: str,
    customer_id_col: str,
    t: int,
    datetime_format: str | None = None,
    freq: str = "D",
    freq_multiplier: int = 1,
    set_index_date: bool = False,
    *,
    output: str | None = None,
) -> Any:
    """Actual and expected cumulative repeat transactions of a transaction log, lifetimes' table
    (the numbers behind crmkit.plotting.plot_cumulative_transactions).

    Times are cut into periods of ``freq`` ("H" or "h", "D", "W", "M", ...) counted from the
    period of the earliest transaction (period 0) to period ``t``; a customer's purchases in one
    period count once, the first is their birth, the others are repeat transactions. Every
    ``freq_multiplier`` periods (a model fitted in weeks on daily periods: freq="D",
    freq_multiplier=7) there is one row k = 1..t // freq_multiplier:

    - actual: repeat transactions in periods 0 .. k*freq_multiplier - 1;
    - predicted: sum over customers born before period p = k*freq_multiplier of
      ``model.expected_number_of_purchases_up_to_time((p - birth) / freq_multiplier)``.

    The index is 0..t//freq_multiplier - 1, or with set_index_date the pandas Period of the
    row's last period. Returns a DataFrame with columns ``actual`` (int) and ``predicted``.
    ``transactions`` is a pandas DataFrame or a pyarrow Table / RecordBatch. ``output``: None or
    "pandas" (the DataFrame), "pyarrow" (a Table with columns actual and predicted, after a column
    "period" holding the Period's text when set_index_date) or "numpy" (a dict of the same
    columns).

    Raises crmkit.ValidationError naming the argument for a missing column or unreadable times
    (numbers need ``datetime_format``).
    """
    output = _arrow.check_output(output)
    t = int(t)
    freq_multiplier = int(freq_multiplier)
    if freq_multiplier < 1:
        raise ValueError("freq_multiplier: must be >= 1")
    if t < freq_multiplier:
        raise ValueError(f"t: {t} must be at least freq_multiplier ({freq_multiplier})")
    expected_up_to = getattr(model, "expected_number_of_purchases_up_to_time", None)
    if expected_up_to is None:
        raise TypeError(
            f"expected_cumulative_transactions: model: {type(model).__name__} has no "
            "expected_number_of_purchases_up_to_time()"
        )
    ordinals = _period_ordinals(_column(transactions, datetime_col, "datetime_col"),
                                datetime_format, freq, datetime_col)
    if ordinals.size == 0:
        raise ValueError("transactions: is empty")
    ids = _column(transactions, customer_id_col, "customer_id_col")
    start = int(ordinals.min())
    if _arrow.is_column(ids):  # dense codes: integer ids pass _factorize as they are
        codes, uniques = _factorize(ids)
        if uniques is None:
            codes, _ = pd.factorize(codes)
    else:
        codes, _ = pd.factorize(ids.to_numpy())
    repeats, births = _repeats_and_births(codes, ordinals - start, t)
    # Row k covers periods 0 .. rows[k-1] - 1.
    rows = np.arange(1, t // freq_multiplier + 1) * freq_multiplier
    actual = np.cumsum(repeats)[rows - 1]
    # expected[m - 1] = E[X(m / freq_multiplier)] for a customer m periods old; a row sums
    # births[d] * expected[row - d - 1] over d < row: a convolution.
    expected = np.asarray(
        expected_up_to(np.arange(1, t + 1, dtype=float) / freq_multiplier), dtype=float
    )
    predicted = np.convolve(births[:t].astype(float), expected)[rows - 1]

    if set_index_date:
        freq = _period_frequency(freq)
        first = pd.Period(ordinal=start, freq=freq)
        index = pd.period_range(first, periods=t + 1, freq=freq)[rows - 1]
    else:
        index = pd.RangeIndex(rows.size)
    columns = {"actual": actual.astype(np.int64), "predicted": predicted}
    if output is None or output == "pandas":
        return pd.DataFrame(columns, index=index)
    if set_index_date:
        columns = {"period": index.astype(str).to_numpy(dtype=object), **columns}
    return columns if output == "numpy" else _arrow.table(columns)


def default_rfm_segments() -> list[str]:
    """The 25 default RFM segment names (crmkit/value/rfm.hpp): element (R - 1) * 5 + (FM - 1) names
    the segment of scores R and FM, so R = 1 comes first."""
    return list(_core.default_rfm_segments())


def _segment_grid(segments: Any) -> list[str] | None:
    if segments is None:
        return None
    if isinstance(segments, str):
        raise ValidationError("segments: expected 25 names or 5 rows of 5, got a str")
    rows = list(segments)
    if len(rows) == 5 and all(not isinstance(r, str) for r in rows):
        flat = [name for row in rows for name in row]
    else:
        flat = rows
    if len(flat) != 25 or not all(isinstance(name, str) for name in flat):
        raise ValidationError(
            "segments: expected 25 names (or 5 rows of 5, R = 1 first, FM = 1..5 in each row)"
        )
    return flat


def _score_column(value: Any, name: str) -> tuple[np.ndarray, pd.Index | None]:
    if _arrow.is_column(value):  # float64 in one chunk: not copied; a null is refused
        return _arrow.to_numpy(value, name, np.float64), None
    index = value.index if isinstance(value, pd.Series) else None
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValidationError(f"{name}: expected numbers") from None
    if arr.ndim != 1:
        raise ValidationError(f"{name}: must be 1-dimensional, got shape {arr.shape}")
    return np.ascontiguousarray(arr), index


_RFM_TIES = {"shared": _core.RfmTies.shared, "row_order": _core.RfmTies.row_order}


def rfm_scores(recency: Any, frequency: Any, monetary: Any, segments: Any = None,
               ties: str = "shared", *, output: str | None = None) -> Any:
    """RFM quintile scores and segments (crmkit/value/rfm.hpp), one row per customer in input order.

    ``recency`` is any recency where lower is better (days since the last purchase, or T - recency
    of a summary); ``frequency`` and ``monetary`` score 5 for the largest values. Columns: r_score,
    f_score, m_score, fm_score (int32, 1..5) and segment (str). ``segments`` replaces the default
    grid (default_rfm_segments()): 25 names, or 5 rows (R = 1..5) of 5 names (FM = 1..5). The index
    is that of the first pandas Series among the inputs, else 0..n-1.

    Each column is ranked and its ranks cut into 5 equal-count bins (pandas qcut of the ranks).
    ``ties="shared"`` (the default): tied values share the lowest score any of their ranks gets
    (F and M: pandas qcut on rank(method="min"); every one-time buyer gets the same F), so scores
    do not depend on the order of the rows. ``ties="row_order"``: ties broken by position, the
    earlier row ranking lower (rank(method="first"), crmkit 0.1.0's rule).

    The columns may be pandas Series, numpy arrays, lists or pyarrow Arrays / ChunkedArrays.
    ``output``: None or "pandas" (the DataFrame), "pyarrow" (a Table of the same columns, rows in
    input order, no index) or "numpy" (a dict of numpy arrays; segment an object array).

    Raises crmkit.ValidationError for columns of different lengths, a NaN or null, or an unknown
    ``ties`` or ``output``, naming the argument.
    """
    output = _arrow.check_output(output)
    if not isinstance(ties, str) or ties not in _RFM_TIES:
        raise ValidationError(f"ties: expected 'shared' or 'row_order', got {ties!r}")
    r, r_index = _score_column(recency, "recency")
    f, f_index = _score_column(frequency, "frequency")
    m, m_index = _score_column(monetary, "monetary")
    index = next((ix for ix in (r_index, f_index, m_index) if ix is not None), None)
    try:
        out = _core.rfm_scores(r, f, m, _segment_grid(segments), _RFM_TIES[ties])
    except ValidationError as exc:
        raise ValidationError(str(exc).replace("recency_value", "recency")) from None
    columns = {
        "r_score": out["r"],
        "f_score": out["f"],
        "m_score": out["m"],
        "fm_score": out["fm"],
        "segment": out["segment"],
    }
    if output == "numpy":
        return {**columns, "segment": np.array(out["segment"], dtype=object)}
    if output == "pyarrow":
        pa = _arrow.pyarrow()
        return _arrow.table({**columns, "segment": pa.array(out["segment"], type=pa.string())})
    return pd.DataFrame(columns, index=index)


def find_first_transactions(
    transactions: pd.DataFrame,
    customer_id_col: Any,
    datetime_col: Any,
    monetary_value_col: Any = None,
    datetime_format: str | None = None,
    observation_period_end: Any = None,
    freq: str = "D",
) -> pd.DataFrame:
    """lifetimes.utils._find_first_transactions: the log cut to one row per customer and period
    of ``freq`` (transactions after ``observation_period_end``'s period dropped), with a column
    ``first`` that is True on each customer's first period.

    Columns customer_id_col, datetime_col (a pandas Period of ``freq``), monetary_value_col (the
    sum of the period's amounts, if named) and first; rows sorted by period, then customer id,
    as lifetimes returns them. A pandas convenience over the log (the summaries themselves are
    computed in the core). Raises crmkit.ValidationError naming the argument for a missing
    column or unreadable times."""
    if not isinstance(transactions, pd.DataFrame):
        raise ValidationError(
            f"transactions: expected a pandas DataFrame, got {type(transactions).__name__}")
    select = [customer_id_col, datetime_col] + ([monetary_value_col] if monetary_value_col else [])
    for name, argument in zip(select, ("customer_id_col", "datetime_col", "monetary_value_col")):
        if name not in transactions.columns:
            raise ValidationError(f"{argument}: no column {name!r} in transactions")
    frame = transactions[select].copy()
    micros = _micros(frame[datetime_col], "datetime_col", datetime_format, datetime_col)
    frame[datetime_col] = micros.view("datetime64[us]")
    if observation_period_end is None:
        end = frame[datetime_col].max()
    elif isinstance(observation_period_end, pd.Period):
        end = observation_period_end.to_timestamp()
    else:
        end = _to_timestamp(observation_period_end, "observation_period_end", datetime_format)
    frame = frame.sort_values(select)
    freq = _period_frequency(freq)
    start = frame.set_index(datetime_col).to_period(freq).to_timestamp()
    start = start.loc[start.index <= end].reset_index()
    groups = start.groupby([datetime_col, customer_id_col], sort=False, as_index=False)
    periods = groups.sum() if monetary_value_col else groups.head(1)
    periods["first"] = False
    firsts = periods.groupby(customer_id_col, sort=True, as_index=False).head(1).index
    periods.loc[firsts, "first"] = True
    periods[datetime_col] = pd.Index(periods[datetime_col]).to_period(freq)
    return periods[select + ["first"]]


def customer_lifetime_value(
    transaction_prediction_model: Any,
    frequency: Any,
    recency: Any,
    T: Any,
    monetary_value: Any,
    time: int = 12,
    discount_rate: float = 0.01,
    freq: str = "D",
) -> pd.Series:
    """lifetimes.utils._customer_lifetime_value: for each customer, the sum over months
    i = 1..``time`` of monetary_value times the expected purchases in month i (the model's
    conditional expectation at i*k minus that at (i-1)*k time units, k = 30 for "D", 4.345 for
    "W", 1 for "M", 720 for "H"), discounted by (1 + discount_rate)^i. ``monetary_value`` is used
    as given (GammaGammaFitter.customer_lifetime_value puts the Gamma-Gamma expected spend in its
    place). A Series named "clv" with the index of ``frequency`` (a Series) or 0..n-1.

    Raises crmkit.ValidationError for a time < 1, a negative discount_rate or an unknown freq."""
    predict = getattr(transaction_prediction_model, "predict", None)
    if predict is None:
        raise ValidationError(
            "transaction_prediction_model: expected a fitted crmkit transaction fitter, got "
            f"{type(transaction_prediction_model).__name__}")
    if isinstance(time, bool) or not isinstance(time, (int, np.integer)) or time < 1:
        raise ValidationError(f"time: expected an integer >= 1 (months), got {time!r}")
    if not (np.isfinite(float(discount_rate)) and float(discount_rate) >= 0):
        raise ValidationError(f"discount_rate: must be finite and >= 0, got {discount_rate!r}")
    if not isinstance(freq, str):
        raise ValidationError(f"freq: expected 'D', 'W', 'M' or 'H', got {freq!r}")
    factor = _core.periods_per_month(freq)
    index = frequency.index if isinstance(frequency, pd.Series) else None
    m = np.asarray(monetary_value, dtype=np.float64)
    previous = 0.0
    clv = 0.0
    for i in range(1, int(time) + 1):
        current = np.asarray(predict(i * factor, frequency, recency, T, output="numpy"))
        clv = clv + m * (current - previous) / (1.0 + float(discount_rate)) ** i
        previous = current
    return pd.Series(np.asarray(clv, dtype=np.float64), index=index, name="clv")
# lifetimes-era pandas frequencies that pandas 3 renamed (the old names are refused there).
_RENAMED_FREQUENCIES = {"M": "ME", "Q": "QE", "Y": "YE", "A": "YE", "H": "h", "T": "min",
                        "S": "s", "L": "ms", "U": "us", "N": "ns", "BM": "BME", "BQ": "BQE",
                        "BA": "BYE", "BY": "BYE", "SM": "SME"}


def _resample_frequency(freq: Any) -> str:
    """``freq`` as this pandas reads it: the name lifetimes' docs use ("M", "H") when pandas
    takes it, else its pandas 3 name ("ME", "h"). ValidationError for anything else."""
    from pandas.tseries.frequencies import to_offset

    if not isinstance(freq, str):
        raise ValidationError(f"freq: expected a pandas frequency such as 'D', got {freq!r}")
    digits = len(freq) - len(freq.lstrip("0123456789"))
    candidates = [freq]
    renamed = _RENAMED_FREQUENCIES.get(freq[digits:])
    if renamed is not None:
        candidates.append(freq[:digits] + renamed)
    for candidate in candidates:
        try:
            to_offset(candidate)
        except (TypeError, ValueError):
            continue
        return candidate
    raise ValidationError(f"freq: {freq!r} is not a pandas frequency")


def _purchase_periods(transactions: Any, datetime_col: Any, freq: str) -> pd.Series:
    """The number of purchases in each period of ``freq`` from the period of the first purchase
    to the period of the last (pandas resample bins, as lifetimes counts them: "D" days, "W"
    weeks Monday..Sunday labelled by their Sunday, "M" calendar months labelled by their last
    day, or any other pandas frequency), indexed by the periods' labels. Times are read by the
    shared reader (_micros): aware times in UTC, numbers refused."""
    times = _micros(_column(transactions, datetime_col, "datetime_col"), "datetime_col", None,
                    datetime_col)
    if times.size == 0:
        raise ValidationError("transactions: holds no purchase")
    when = pd.DatetimeIndex(np.sort(times).view("datetime64[us]"))
    series = pd.Series(np.ones(when.size, dtype=np.int64), index=when)
    return series.resample(_resample_frequency(freq)).sum()


def calculate_alive_path(model: Any, transactions: Any, datetime_col: Any, t: int,
                         freq: str = "D") -> pd.Series:
    """P(alive) of one customer over time, lifetimes' ``calculate_alive_path`` (same arguments,
    same numbers): ``transactions`` (a pandas DataFrame or a pyarrow Table) holds one customer's
    purchases, ``datetime_col`` their times.

    Time is cut into periods of ``freq`` from the period of the first purchase (period 0); a
    period with any purchase counts once. For each period T = 0 .. max(t, last purchase period)
    the customer's history at the end of T is frequency = purchase periods so far - 1, recency =
    the last purchase period, age T, and the value is
    ``model.conditional_probability_alive(frequency, recency, T)``, one vectorised call. A
    history never has frequency 0 with recency above 0 (recency moves only with a purchase).

    Returns a float Series indexed 0, 1, ... (lifetimes returns the same values in an object
    Series of one-element arrays). A BG/BB model (crmkit.BetaGeoBetaBinomFitter) gets
    ``conditional_probability_alive(0, frequency, recency, n_periods=T)`` for T >= 1 and 1 at
    T = 0 (the first purchase, before any chance to drop out): the path in periods (lifetimes
    raises TypeError there).

    Raises crmkit.ValidationError for a missing column, no purchases, times that cannot be read
    (numbers such as 19970101 are refused: lifetimes would read them as nanoseconds since 1970)
    or an unknown ``freq``; ValueError for t not a non-negative integer; TypeError for a model
    without conditional_probability_alive.
    """
    try:
        whole = not isinstance(t, bool) and float(t).is_integer() and float(t) >= 0
    except (TypeError, ValueError, OverflowError):
        whole = False
    if not whole:
        raise ValueError(f"t: must be a non-negative integer, got {t!r}")
    alive = getattr(model, "conditional_probability_alive", None)
    if alive is None:
        raise TypeError(
            f"calculate_alive_path: model: {type(model).__name__} has no "
            "conditional_probability_alive()"
        )
    freq = _resample_frequency(freq)
    bought = _purchase_periods(transactions, datetime_col, freq).to_numpy() > 0
    n = max(int(t) + 1, bought.size)
    bought = np.concatenate([bought, np.zeros(n - bought.size, dtype=bool)])
    age = np.arange(n, dtype=np.float64)
    frequency = np.cumsum(bought) - 1.0
    recency = np.maximum.accumulate(np.where(bought, age, 0.0))
    if hasattr(model, "expected_number_of_transactions_in_first_n_periods"):  # BG/BB
        # Period 0 is the first purchase, before any opportunity to drop out: alive.
        values = np.ones(n, dtype=np.float64)
        if n > 1:
            values[1:] = alive(0, frequency[1:], recency[1:], age[1:])
    else:
        values = alive(frequency, recency, age)
    return pd.Series(np.asarray(values, dtype=np.float64), index=pd.RangeIndex(n))
