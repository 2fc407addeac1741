"""Loyalty metrics (crmkit/loyalty/metrics.hpp, crmkit/analytics/loyalty.hpp; docs/loyalty-metrics.md).

``crmkit.cohort_retention(customer, time, period="month", as_of=None)`` computes the cohort
retention matrix of any purchase columns (numpy, pandas or pyarrow); the Store methods
(``Store.cohort_retention``, ``retention``, ``repeat_purchase_rate``, ``nps``, ``csat``,
``referral_rate``, ``word_of_mouth``, ``customer_loyalty``) compute the metrics from a store as of
a date, purchases net of fully refunded ones. Every number comes from the C++ core; this module
only converts columns and arranges the results as pandas objects. ``plot_cohort_retention`` draws
the matrix as a heat map (matplotlib imported when called) and returns the Axes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _arrow, _core
from .errors import ValidationError

__all__ = ["CohortRetention", "cohort_retention", "plot_cohort_retention"]


# --------------------------------------------------------------------------------------------
# conversions


def _utc(micros: Any) -> Any:
    import pandas as pd

    at = pd.to_datetime(np.asarray(micros, dtype=np.int64), unit="us", utc=True)
    return at.as_unit("ns") if hasattr(at, "as_unit") else at


def _timestamp(micros: int) -> Any:
    import pandas as pd

    return pd.Timestamp(int(micros), unit="us", tz="UTC")


def _to_numpy(values: Any, argument: str) -> np.ndarray:
    """A 1-dimensional numpy array of a numpy array, pandas Series/Index, pyarrow (Chunked)Array
    or sequence. Timezone-aware pandas datetimes come back as UTC datetime64."""
    import pandas as pd

    if hasattr(values, "to_numpy") and type(values).__module__.startswith("pyarrow"):
        import pyarrow as pa

        if pa.types.is_timestamp(values.type):
            values = values.cast(pa.timestamp("us", tz=values.type.tz))
        try:
            values = values.to_numpy(zero_copy_only=False)
        except TypeError:  # ChunkedArray.to_numpy takes no zero_copy_only
            values = values.to_numpy()
    if isinstance(values, (pd.Series, pd.Index)):
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            values = values.tz_convert("UTC").tz_localize(None) if isinstance(values, pd.Index) \
                else values.dt.tz_convert("UTC").dt.tz_localize(None)
        values = values.to_numpy()
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValidationError(f"{argument}: must be 1-dimensional, got {array.ndim} dimensions")
    return array


def _customer_codes(customer: Any) -> np.ndarray:
    """int64 ids as they are; any other ids (strings, objects) as dense int64 codes. Arrow ids:
    integers (int64 in one chunk without a copy) as they are, others dictionary-encoded in
    Arrow; a null raises ValidationError naming its row."""
    if _arrow.is_column(customer):
        import pyarrow as pa

        t = customer.type
        if pa.types.is_signed_integer(t) or (pa.types.is_unsigned_integer(t)
                                             and t.bit_width < 64):
            return _arrow.to_numpy(customer, "customer", np.int64)
        return _arrow.factorize(customer, "customer")[0]
    array = _to_numpy(customer, "customer")
    if array.dtype.kind in "iu":
        return array.astype(np.int64, copy=False)
    import pandas as pd

    codes, _uniques = pd.factorize(array, use_na_sentinel=True)
    missing = np.flatnonzero(codes < 0)
    if missing.size:
        raise ValidationError(f"customer[{int(missing[0])}]: is missing")
    return codes.astype(np.int64, copy=False)


def _time_micros(time: Any) -> np.ndarray:
    """int64 microseconds since the epoch (UTC) of a datetime column; naive times are UTC. An
    Arrow timestamp column (any unit and zone) is read as its UTC counts (microseconds in one
    chunk without a copy)."""
    import pandas as pd

    if _arrow.is_column(time):
        micros = _arrow.timestamp_micros(time, "time")
        if micros is not None:
            return micros
    array = _to_numpy(time, "time")
    if array.dtype.kind != "M":
        if array.dtype == object:
            array = pd.to_datetime(pd.Series(array), utc=True).dt.tz_localize(None).to_numpy()
        else:
            raise ValidationError(
                f"time: expected datetime values (datetime64, pandas or pyarrow timestamps), got "
                f"dtype {array.dtype}"
            )
    missing = np.flatnonzero(np.isnat(array))
    if missing.size:
        raise ValidationError(f"time[{int(missing[0])}]: is missing (NaT)")
    if array.dtype != np.dtype("datetime64[us]"):
        array = array.astype("datetime64[us]")
    return array.view(np.int64)


def _period_frame(d: dict[str, Any], columns: list[str]) -> Any:
    """A per-period table: indexed by period label, with start, end and the metric columns;
    ``attrs`` holds period and last_period_incomplete."""
    import pandas as pd

    frame = pd.DataFrame(
        {"start": _utc(d["start_micros"]), "end": _utc(d["end_micros"]),
         **{c: np.asarray(d[c]) for c in columns}},
        index=pd.Index(list(d["label"]), name="period", dtype=object),
    )
    frame.attrs["period"] = d["period"]
    frame.attrs["last_period_incomplete"] = bool(d["last_period_incomplete"])
    return frame


# --------------------------------------------------------------------------------------------
# the cohort matrix


class CohortRetention:
    """A cohort retention matrix (crmkit/loyalty/metrics.hpp CohortMatrix).

    - ``counts``: DataFrame indexed by cohort label (the period of the customers' first
      purchase), one column per age k = 0, 1, ... (periods since the first); nullable Int64,
      <NA> where the cell's period is after as_of (not observable yet).
    - ``shares``: the same cells divided by the cohort size (floats, NaN where missing: not
      observable, or an empty cohort).
    - ``sizes``: Series of customers per cohort (0 for a period that acquired nobody, still shown).
    - ``incomplete``: True when as_of is not the last microsecond of its period, so the cells of
      that period (``incomplete_cells``, a boolean DataFrame) may still grow.
    - ``period``, ``as_of`` (pandas Timestamp, UTC), ``last_period`` (label of as_of's period).
    """

    def __init__(self, d: dict[str, Any]):
        import pandas as pd

        labels = list(d["label"])
        ages = int(d["ages"])
        rows = len(labels)
        index = pd.Index(labels, name="cohort", dtype=object)
        columns = pd.RangeIndex(ages, name="k")
        counts = np.asarray(d["counts"], dtype=np.int64).reshape(rows, ages)
        shares = np.asarray(d["shares"], dtype=np.float64).reshape(rows, ages)
        self.period: str = d["period"]
        self.as_of = _timestamp(d["as_of_micros"])
        self.incomplete: bool = bool(d["last_period_incomplete"])
        self.last_period: str = d["as_of_label"]
        self.counts = pd.DataFrame(counts, index=index, columns=columns).astype("Int64").mask(
            counts < 0)
        self.shares = pd.DataFrame(shares, index=index, columns=columns)
        self.sizes = pd.Series(np.asarray(d["size"], dtype=np.int64), index=index, name="size")
        cohort = np.asarray(d["cohort"], dtype=np.int64)
        periods = cohort[:, None] + np.arange(ages)[None, :]
        self.incomplete_cells = pd.DataFrame(
            self.incomplete & (periods == int(d["as_of_period"])), index=index, columns=columns)

    @property
    def customers(self) -> int:
        """Customers in every cohort (those with a purchase at or before as_of)."""
        return int(self.sizes.sum())

    def __repr__(self) -> str:
        flag = ", last period incomplete" if self.incomplete else ""
        return (f"CohortRetention({len(self.sizes)} cohorts by {self.period}, "
                f"{self.counts.shape[1]} ages, {self.customers} customers, "
                f"as of {self.as_of.isoformat()}{flag})")


def _cohort_columns(d: dict[str, Any], output: str) -> dict[str, Any]:
    """The matrix as one row per (cohort, k) cell, cohorts in order then k = 0, 1, ...: cohort
    (label), k, size, customers (null / -1 where not observable), share (null / NaN where not
    observable or the cohort is empty), incomplete (the cell's period may still grow)."""
    labels = np.array(list(d["label"]) + [None], dtype=object)[:-1]
    rows, ages = len(labels), int(d["ages"])
    counts = np.asarray(d["counts"], dtype=np.int64).reshape(rows * ages)
    shares = np.asarray(d["shares"], dtype=np.float64).reshape(rows * ages)
    cohort = np.asarray(d["cohort"], dtype=np.int64)
    periods = (cohort[:, None] + np.arange(ages)[None, :]).reshape(rows * ages)
    data = {
        "cohort": np.repeat(labels, ages),
        "k": np.tile(np.arange(ages, dtype=np.int64), rows),
        "size": np.repeat(np.asarray(d["size"], dtype=np.int64), ages),
        "customers": counts,
        "share": shares,
        "incomplete": bool(d["last_period_incomplete"]) & (periods == int(d["as_of_period"])),
    }
    if output == "pyarrow":
        pa = _arrow.pyarrow()
        data["cohort"] = pa.array(data["cohort"], type=pa.string())
        data["customers"] = pa.array(counts, mask=counts < 0)
        data["share"] = pa.array(shares, mask=np.isnan(shares))
    return data


def cohort_retention(customer: Any, time: Any, period: str = "month", as_of: Any = None, *,
                     threads: int = 0, output: str | None = None) -> Any:
    """The cohort retention matrix of purchases: customer[i] bought at time[i].

    ``customer``: ids (integers, or any hashable values such as strings, coded densely);
    ``time``: datetimes (numpy datetime64, pandas datetime Series, naive = UTC, or pyarrow
    timestamps). ``period``: "day", "week", "month", "quarter" or "year". ``as_of``: only
    purchases at or before it count (None: the latest purchase). Returns a CohortRetention.
    Raises ValidationError for columns of different lengths or missing values.

    ``customer`` and ``time`` may be pyarrow Arrays / ChunkedArrays (int64 ids and microsecond
    timestamps in one chunk are read without a copy). ``output``: None or "pandas" (the
    CohortRetention), "pyarrow" (a pyarrow Table with one row per cell, cohorts in order and
    k = 0, 1, ... within each: cohort, k, size, customers and share (null where the cell is not
    observable yet, share also for an empty cohort) and incomplete) or "numpy" (a dict of the
    same columns, customers -1 and share NaN where missing).
    """
    output = _arrow.check_output(output)
    ids = _customer_codes(customer)
    at = _time_micros(time)
    if len(ids) != len(at):
        raise ValidationError(f"time: has {len(at)} rows, customer has {len(ids)}")
    if as_of is None:
        if len(at) == 0:
            raise ValidationError("as_of: needed when there are no purchases")
        as_of = _core.Timestamp.from_micros(int(at.max()))
    d = _core.cohort_retention(ids, at, period, as_of, threads=int(threads))
    if output is None or output == "pandas":
        return CohortRetention(d)
    data = _cohort_columns(d, output)
    return data if output == "numpy" else _arrow.table(data)


def plot_cohort_retention(matrix: CohortRetention, ax: Any = None, *, annotate: bool | None = None,
                          cmap: str = "Blues", **kwargs: Any) -> Any:
    """Draws ``matrix.shares`` as a heat map (rows: cohorts, columns: periods since the first
    purchase; missing cells blank) on ``ax`` (a new figure when None) and returns the Axes.
    ``annotate`` writes each share as a percentage (default: when the matrix has at most 24
    columns). Extra keyword arguments go to ``ax.imshow``."""
    if not isinstance(matrix, CohortRetention):
        raise ValidationError(
            f"matrix: expected a crmkit CohortRetention, got {type(matrix).__name__}")
    if ax is None:
        from matplotlib import pyplot as plt

        _fig, ax = plt.subplots()
    shares = matrix.shares.to_numpy(dtype=float)
    masked = np.ma.masked_invalid(shares)
    image = ax.imshow(masked, aspect="auto", cmap=cmap, vmin=0.0, vmax=1.0,
                      interpolation="nearest", **kwargs)
    rows, cols = shares.shape
    ax.set_yticks(range(rows))
    ax.set_yticklabels([f"{c} (n={s})" for c, s in zip(matrix.sizes.index, matrix.sizes)])
    step = max(1, cols // 24)
    ax.set_xticks(range(0, cols, step))
    ax.set_xticklabels([str(k) for k in range(0, cols, step)])
    ax.set_xlabel(f"{matrix.period}s since the first purchase")
    ax.set_ylabel("cohort (first purchase)")
    title = f"Cohort retention by {matrix.period}, as of {matrix.as_of.date().isoformat()}"
    if matrix.incomplete:
        title += f" ({matrix.last_period} incomplete)"
    ax.set_title(title)
    if annotate is None:
        annotate = cols <= 24 and rows <= 40
    if annotate:
        for r in range(rows):
            for k in range(cols):
                v = shares[r, k]
                if np.isnan(v):
                    continue
                ax.text(k, r, f"{100 * v:.0f}%", ha="center", va="center", fontsize=7,
                        color="white" if v > 0.6 else "black")
    ax.figure.colorbar(image, ax=ax, label="share of the cohort")
    return ax


# --------------------------------------------------------------------------------------------
# other metrics over columns (crmkit/loyalty/metrics.hpp; the Store methods below are the usual
# entry point). Overall figures are dicts, per-period tables DataFrames as the Store methods'.


def _columns(customer: Any, time: Any) -> tuple[np.ndarray, np.ndarray]:
    ids = _customer_codes(customer)
    at = _time_micros(time)
    if len(ids) != len(at):
        raise ValidationError(f"time: has {len(at)} rows, customer has {len(ids)}")
    return ids, at


def _as_of(at: np.ndarray, as_of: Any) -> Any:
    if as_of is not None:
        return as_of
    if len(at) == 0:
        raise ValidationError("as_of: needed when there are no rows")
    return _core.Timestamp.from_micros(int(at.max()))


def _scores(score: Any, n: int) -> np.ndarray:
    """Answers as int8, -1 where missing (NaN / None / <NA>)."""
    import pandas as pd

    values = pd.to_numeric(pd.Series(_to_numpy(score, "score")), errors="raise")
    if len(values) != n:
        raise ValidationError(f"score: has {len(values)} rows, customer has {n}")
    return values.fillna(-1).to_numpy(dtype=np.int64).astype(np.int8)


def retention(customer: Any, time: Any, period: str = "month", as_of: Any = None, *,
              start: Any = None, active_days: int = 365) -> Any:
    """Retention and churn per period of purchase columns (see Store.retention)."""
    ids, at = _columns(customer, time)
    d = _core.retention(ids, at, period, _as_of(at, as_of), active_days=int(active_days),
                        start=start)
    return _period_frame(d, _RETENTION)


def repeat_purchase_rate(customer: Any, time: Any, as_of: Any = None, period: str | None = None,
                         start: Any = None) -> Any:
    """The repeat purchase rate of purchase columns (see Store.repeat_purchase_rate)."""
    ids, at = _columns(customer, time)
    d = _core.repeat_purchase_rate(ids, at, _as_of(at, as_of), period=period, start=start)
    return _overall_or_table(d, _REPEAT)


def nps(customer: Any, time: Any, score: Any, as_of: Any = None, period: str | None = None, *,
        latest_only: bool = False, start: Any = None) -> Any:
    """NPS of answer columns (score 0..10, missing values ignored); see Store.nps."""
    ids, at = _columns(customer, time)
    d = _core.nps(ids, at, _scores(score, len(ids)), _as_of(at, as_of), period=period,
                  latest_only=bool(latest_only), start=start)
    return _overall_or_table(d, _NPS)


def csat(customer: Any, time: Any, score: Any, as_of: Any = None, period: str | None = None, *,
         latest_only: bool = False, start: Any = None) -> Any:
    """CSAT of answer columns (score 1..5, missing values ignored); see Store.csat."""
    ids, at = _columns(customer, time)
    d = _core.csat(ids, at, _scores(score, len(ids)), _as_of(at, as_of), period=period,
                   latest_only=bool(latest_only), start=start)
    return _overall_or_table(d, _CSAT)


def referral_rate(customer: Any, time: Any, referrer: Any, referral_time: Any, as_of: Any = None,
                  period: str | None = None, start: Any = None) -> Any:
    """The referral rate of purchase columns (customer, time) and referral columns (referrer,
    referral_time); ids must be of one kind in both (integers, or values coded together). See
    Store.referral_rate."""
    ids = _to_numpy(customer, "customer")
    refs = _to_numpy(referrer, "referrer")
    if ids.dtype.kind in "iu" and refs.dtype.kind in "iu":
        ids, refs = ids.astype(np.int64), refs.astype(np.int64)
    else:
        codes = _customer_codes(np.concatenate([ids.astype(object), refs.astype(object)]))
        ids, refs = codes[: len(ids)], codes[len(ids):]
    at = _time_micros(time)
    ref_at = _time_micros(referral_time)
    if len(ids) != len(at):
        raise ValidationError(f"time: has {len(at)} rows, customer has {len(ids)}")
    if len(refs) != len(ref_at):
        raise ValidationError(f"referral_time: has {len(ref_at)} rows, referrer has {len(refs)}")
    if as_of is None:
        as_of = _as_of(np.concatenate([at, ref_at]), None)
    d = _core.referral_rate(ids, at, refs, ref_at, as_of, period=period, start=start)
    return _overall_or_table(d, _REFERRAL)


def word_of_mouth(customer: Any, time: Any, nps: Any, csat: Any, as_of: Any = None,
                  period: str | None = None, *, tell_satisfied: float = 3.0,
                  tell_dissatisfied: float = 10.0, start: Any = None) -> Any:
    """Word-of-mouth reach of survey columns (NPS 0..10 and CSAT 1..5 answers, missing values
    where a response gives none); see Store.word_of_mouth."""
    ids, at = _columns(customer, time)
    d = _core.word_of_mouth(ids, at, _scores(nps, len(ids)), _scores(csat, len(ids)),
                            _as_of(at, as_of), period=period,
                            tell_satisfied=float(tell_satisfied),
                            tell_dissatisfied=float(tell_dissatisfied), start=start)
    return _overall_or_table(d, _WOM)


# --------------------------------------------------------------------------------------------
# from a store (Store methods call these)


def _store_as_of(store: Any, as_of: Any) -> Any:
    """as_of, or (None) the latest purchase, survey or referral of the store (now if none)."""
    if as_of is not None:
        return as_of
    last = _core.store_loyalty_last_micros(store)
    if last is None:
        return _core.Timestamp.now()
    return _core.Timestamp.from_micros(int(last))


def store_cohort_retention(store: Any, period: str = "month", as_of: Any = None) -> CohortRetention:
    return CohortRetention(_core.store_cohort_retention(store, period, _store_as_of(store, as_of)))


_RETENTION = ["active_start", "active_end", "acquired", "retained", "reactivated", "churned",
              "retention_rate", "churn_rate", "strict_retention_rate", "strict_churn_rate"]
_REPEAT = ["buyers", "repeat_buyers", "rate", "customers", "repeat_customers", "cumulative_rate"]
_NPS = ["responses", "promoters", "passives", "detractors", "score"]
_CSAT = ["responses", "satisfied", "score"]
_REFERRAL = ["customers", "referrers", "referrers_without_purchase", "referrals", "rate"]
_WOM = ["satisfied", "neutral", "dissatisfied", "positive_reach", "negative_reach", "net_reach"]


def store_retention(store: Any, period: str = "month", start: Any = None, end: Any = None,
                    active_days: int = 365) -> Any:
    d = _core.store_retention(store, period, _store_as_of(store, end), active_days=int(active_days),
                              start=start)
    return _period_frame(d, _RETENTION)


def _overall_or_table(d: dict[str, Any], columns: list[str]) -> Any:
    if "label" in d:
        return _period_frame(d, columns)
    return {k: (float(v) if isinstance(v, float) else int(v)) for k, v in d.items()}


def store_repeat_purchase_rate(store: Any, as_of: Any = None, period: str | None = None,
                               start: Any = None) -> Any:
    d = _core.store_repeat_purchase_rate(store, _store_as_of(store, as_of), period=period,
                                         start=start)
    return _overall_or_table(d, _REPEAT)


def store_nps(store: Any, as_of: Any = None, period: str | None = None, *,
              latest_only: bool = False, start: Any = None) -> Any:
    d = _core.store_nps(store, _store_as_of(store, as_of), period=period,
                        latest_only=bool(latest_only), start=start)
    return _overall_or_table(d, _NPS)


def store_csat(store: Any, as_of: Any = None, period: str | None = None, *,
               latest_only: bool = False, start: Any = None) -> Any:
    d = _core.store_csat(store, _store_as_of(store, as_of), period=period,
                         latest_only=bool(latest_only), start=start)
    return _overall_or_table(d, _CSAT)


def store_referral_rate(store: Any, as_of: Any = None, period: str | None = None,
                        start: Any = None) -> Any:
    d = _core.store_referral_rate(store, _store_as_of(store, as_of), period=period, start=start)
    return _overall_or_table(d, _REFERRAL)


def store_word_of_mouth(store: Any, as_of: Any = None, period: str | None = None, *,
                        tell_satisfied: float = 3.0, tell_dissatisfied: float = 10.0,
                        start: Any = None) -> Any:
    d = _core.store_word_of_mouth(store, _store_as_of(store, as_of), period=period,
                                  tell_satisfied=float(tell_satisfied),
                                  tell_dissatisfied=float(tell_dissatisfied), start=start)
    return _overall_or_table(d, _WOM)


_SATISFACTION = {1: "satisfied", 0: "neutral", -1: "dissatisfied"}


def store_customer_loyalty(store: Any, as_of: Any = None, period: str = "month",
                           active_days: int = 365) -> Any:
    import pandas as pd

    d = _core.store_customer_loyalty(store, period, _store_as_of(store, as_of),
                                     active_days=int(active_days))
    purchases = np.asarray(d["purchases"], dtype=np.int64)
    bought = purchases > 0
    first = _utc(d["first_purchase_micros"])
    last = _utc(d["last_purchase_micros"])
    frame = pd.DataFrame(
        {
            "external_id": pd.Series(list(d["external_id"]), dtype=object),
            "cohort": pd.Series([c if c else None for c in d["cohort_label"]], dtype=object),
            "purchases": purchases,
            "first_purchase": pd.Series(first).where(bought),
            "last_purchase": pd.Series(last).where(bought),
            "active": np.asarray(d["active"], dtype=bool),
            "referrals": np.asarray(d["referrals"], dtype=np.int64),
            "satisfaction": pd.Series(
                [_SATISFACTION.get(int(v)) for v in d["satisfaction"]], dtype=object),
        },
    )
    frame.index = pd.Index(np.asarray(d["customer_id"], dtype=np.int64), name="customer_id")
    return frame
