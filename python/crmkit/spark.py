"""crmkit on Spark: summaries per bucket of whole customers, one fit on merged statistics,
predictions per partition (docs/spark.md).

    import crmkit.spark as cs
    summary = cs.summary(transactions, "customer_id", "date", "amount")   # a Spark DataFrame
    bgf = cs.fit(crmkit.BetaGeoFitter, summary)          # one small fit on the driver
    expected = cs.predict(bgf, summary, t=30)            # summary's columns + predicted_purchases
    ggf = cs.fit(crmkit.GammaGammaFitter, summary.where("frequency > 0"))
    clv = cs.customer_lifetime_value(ggf, bgf, summary, time=12, discount_rate=0.01)

Partitioning rule: a customer's summary needs all of its transactions in one pandas frame.
``summary`` groups the transactions by ``pmod(hash(customer), buckets)`` and runs
crmkit.summary_data_from_transaction_data once per bucket (``applyInPandas``): every transaction
of a customer lands in the same bucket, whatever the frame's partitioning, so a customer is never
split. A bucket is held in memory by one Python worker: choose ``buckets`` so that one bucket's
transactions fit in it (default: spark.sql.shuffle.partitions).

Times: a TimestampType column holds instants and is read in UTC, whatever
spark.sql.session.timeZone says (crmkit works in UTC); a TimestampNTZType column holds wall-clock
times and is taken as UTC, as crmkit takes naive times; a DateType column is midnight of that
date. Other column types are refused: convert text with ``pyspark.sql.functions.to_timestamp``.

Every function calls the crmkit function of the in-memory API, so the numbers are those of
crmkit.summary_data_from_transaction_data, crmkit.value.fit and the fitters' methods: the summary
rows are identical, the parameters identical to a fit in one process.

Importing this module imports pyspark (``pip install pyspark``; it needs Java 17 or 21), which
also needs pandas and pyarrow on the workers. Workers must run a Python with crmkit installed
(PYSPARK_PYTHON).
"""

from __future__ import annotations

import re
import warnings
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd

from pyspark.errors import PythonException
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from . import value as _value
from .errors import ValidationError
from .fitters import BetaGeoBetaBinomFitter, GammaGammaFitter
from .utils import _check_multiplier, _time_unit, _to_timestamp, summary_data_from_transaction_data

__all__ = [
    "conditional_probability_alive",
    "customer_lifetime_value",
    "fit",
    "predict",
    "statistics",
    "summary",
]

_SUMMARY_COLUMNS = ("frequency", "recency", "T")
_NUMBER_TYPES = (T.ByteType, T.ShortType, T.IntegerType, T.LongType, T.FloatType, T.DoubleType,
                 T.DecimalType)
_TIME_TYPES = (T.TimestampType, T.TimestampNTZType, T.DateType)


def _check_frame(sdf: Any, argument: str) -> None:
    if not isinstance(sdf, DataFrame):
        raise ValidationError(
            f"{argument}: expected a Spark DataFrame, got {type(sdf).__name__}")


def _check_columns(sdf: Any, argument: str, **named: Any) -> None:
    _value._check_columns(sdf.columns, argument, **named)


def _type(sdf: Any, name: str) -> Any:
    return sdf.schema[name].dataType


def _crmkit_errors(argument: str, action: Callable[[], Any]) -> Any:
    """Runs a Spark action; a crmkit.ValidationError raised in a Python worker comes back as
    crmkit.ValidationError naming ``argument``, with the worker's message (Spark wraps it in a
    PythonException; the row number in it counts within one batch of one partition)."""
    try:
        with warnings.catch_warnings():
            # toPandas repeats the worker's traceback as a UserWarning before raising it.
            warnings.filterwarnings("ignore", message="toPandas attempted Arrow optimization")
            return action()
    except PythonException as exc:
        found = re.findall(r"crmkit\.errors\.ValidationError: (.*)", str(exc))
        if found:
            raise ValidationError(
                f"{argument}: {found[-1].strip()} (row number within a batch of a partition)"
            ) from exc
        raise


# ---- summaries ----------------------------------------------------------------------------------


def _time_column(sdf: Any, datetime_col: str) -> tuple[Any, bool]:
    """The time column as Spark will hand it to pandas: (column, as_micros). An instant
    (TimestampType) becomes int64 UTC microseconds (Spark would convert it to the session's
    local time); wall-clock times (TimestampNTZType, DateType) stay naive."""
    kind = _type(sdf, datetime_col)
    column = F.col(datetime_col)
    if isinstance(kind, T.TimestampNTZType):
        return column, False
    if isinstance(kind, T.TimestampType):
        return F.unix_micros(column), True
    if isinstance(kind, T.DateType):
        return column.cast(T.TimestampNTZType()), False
    raise ValidationError(
        f"datetime_col: column {datetime_col!r} is {kind.simpleString()}, not a timestamp or "
        "date; convert it first (pyspark.sql.functions.to_timestamp or to_date)")


def _default_buckets(sdf: Any) -> int:
    try:
        return max(1, int(sdf.sparkSession.conf.get("spark.sql.shuffle.partitions")))
    except (TypeError, ValueError):  # "auto" on some platforms
        return 200


def summary(
    sdf: Any,
    customer_id_col: str,
    datetime_col: str,
    monetary_value_col: str | None = None,
    *,
    observation_period_end: Any = None,
    freq: str = "D",
    freq_multiplier: float = 1,
    include_first_transaction: bool = False,
    buckets: int | None = None,
) -> Any:
    """Per-customer frequency, recency, T (and monetary_value) of a Spark DataFrame of
    transactions, as a Spark DataFrame with columns ``customer_id_col`` (its type in ``sdf``),
    frequency, recency, T[, monetary_value] (doubles): the rows of
    crmkit.summary_data_from_transaction_data with the same arguments.

    The transactions are grouped into ``buckets`` groups by ``pmod(hash(customer), buckets)``
    and each group is summarised in one call (``applyInPandas``), so every customer is whole.
    One aggregation runs now: it checks for null ids, times and amounts and NaN or infinite
    amounts, and takes the last transaction's time as ``observation_period_end`` when that is
    not given; the summary itself is lazy.

    Raises crmkit.ValidationError naming the argument for a frame that is not a Spark DataFrame,
    a missing column, a time column that is not a timestamp or date, an amount column that is
    not numeric, null ids, times or amounts, an empty frame, a bad ``freq``,
    ``freq_multiplier`` or ``buckets``.
    """
    _check_frame(sdf, "sdf")
    _check_columns(sdf, "sdf", customer_id_col=customer_id_col, datetime_col=datetime_col,
                   monetary_value_col=monetary_value_col)
    if customer_id_col in _SUMMARY_COLUMNS + ("monetary_value",):
        raise ValidationError(
            f"customer_id_col: {customer_id_col!r} is also the name of a summary column; rename "
            "it first")
    id_type = _type(sdf, customer_id_col)
    if isinstance(id_type, (T.ArrayType, T.MapType, T.StructType)):
        raise ValidationError(
            f"customer_id_col: column {customer_id_col!r} is {id_type.simpleString()}; customer "
            "ids must be single values (numbers or text)")
    if monetary_value_col is not None and not isinstance(_type(sdf, monetary_value_col),
                                                         _NUMBER_TYPES):
        raise ValidationError(
            f"monetary_value_col: column {monetary_value_col!r} is "
            f"{_type(sdf, monetary_value_col).simpleString()}, not a number; cast it to "
            "decimal or double first")
    _time_unit(freq)
    multiplier = _check_multiplier(freq_multiplier)
    if buckets is None:
        buckets = _default_buckets(sdf)
    elif isinstance(buckets, bool) or not isinstance(buckets, (int, np.integer)) or buckets < 1:
        raise ValidationError(f"buckets: expected an integer >= 1, got {buckets!r}")
    buckets = int(buckets)
    end = _to_timestamp(observation_period_end, "observation_period_end", None)

    time_column, as_micros = _time_column(sdf, datetime_col)
    columns = [F.col(customer_id_col), time_column.alias(datetime_col)]
    if monetary_value_col is not None:
        columns.append(F.col(monetary_value_col))
    narrow = sdf.select(*columns)

    # One pass: row count, nulls, non-finite amounts, and the last time.
    checks = [F.count(F.lit(1)).alias("rows"),
              F.count_if(F.col(customer_id_col).isNull()).alias("null_ids"),
              F.count_if(F.col(datetime_col).isNull()).alias("null_times"),
              F.max(datetime_col).alias("last")]
    if monetary_value_col is not None:
        amount = F.col(monetary_value_col)
        bad = amount.isNull()
        if isinstance(_type(sdf, monetary_value_col), (T.FloatType, T.DoubleType)):
            bad = bad | F.isnan(amount) | (F.abs(amount) == F.lit(float("inf")))
        checks.append(F.count_if(bad).alias("bad_amounts"))
    row = narrow.agg(*checks).collect()[0]
    if row["rows"] == 0:
        raise ValidationError("sdf: has no transactions (no rows)")
    if row["null_ids"]:
        raise ValidationError(
            f"customer_id_col: {row['null_ids']} rows have no customer id (null in column "
            f"{customer_id_col!r})")
    if row["null_times"]:
        raise ValidationError(
            f"datetime_col: {row['null_times']} rows have no time (null in column "
            f"{datetime_col!r})")
    if monetary_value_col is not None and row["bad_amounts"]:
        raise ValidationError(
            f"monetary_value_col: {row['bad_amounts']} rows have a null, NaN or infinite amount "
            f"in column {monetary_value_col!r}")
    if end is None:
        end = pd.Timestamp(row["last"], unit="us") if as_micros else pd.Timestamp(row["last"])

    fields = [T.StructField(customer_id_col, id_type, True)]
    fields += [T.StructField(c, T.DoubleType(), False) for c in _SUMMARY_COLUMNS]
    if monetary_value_col is not None:
        fields.append(T.StructField("monetary_value", T.DoubleType(), False))
    schema = T.StructType(fields)

    def per_bucket(pdf: pd.DataFrame) -> pd.DataFrame:
        if as_micros:
            micros = pdf[datetime_col].to_numpy(dtype=np.int64)
            pdf[datetime_col] = pd.Series(micros.view("datetime64[us]"), index=pdf.index)
        if monetary_value_col is not None:
            # Spark hands a group's rows over in no set order; the core sums a period's amounts
            # exactly (rounded once), so the order does not change the result.
            pdf[monetary_value_col] = pdf[monetary_value_col].astype(np.float64)
        out = summary_data_from_transaction_data(
            pdf, customer_id_col, datetime_col, monetary_value_col,
            observation_period_end=end, freq=freq, freq_multiplier=multiplier,
            include_first_transaction=include_first_transaction, _partition=True)
        return out.reset_index()

    bucket = F.pmod(F.hash(F.col(customer_id_col)), F.lit(buckets))
    return narrow.groupBy(bucket).applyInPandas(per_bucket, schema)


# ---- fits ---------------------------------------------------------------------------------------


def statistics(model: Any, summary_sdf: Any, frequency_col: str = "frequency",
               recency_col: str = "recency", T_col: str = "T",
               monetary_value_col: str = "monetary_value", n_periods_col: str = "n_periods",
               weights_col: str | None = None) -> Any:
    """The merged sufficient statistics ``model`` (a fitter class or instance) needs of a Spark
    frame of summaries, computed now: crmkit.value.statistics of each partition
    (``mapInPandas``), returned as their distinct rows with weights, collected (small: one row
    per distinct history and partition) and merged with crmkit.value.merge. ``weights_col``
    names a column of row counts for summaries already aggregated. Raises ValidationError for a
    bad model or frame, a missing column, a frame without rows, and a row the fit refuses."""
    _check_frame(summary_sdf, "summary_sdf")
    fitter = _value._fitter(model)
    kind = type(fitter)
    spend = isinstance(fitter, GammaGammaFitter)
    needed = _value._statistics_columns(fitter, frequency_col, recency_col, T_col,
                                        monetary_value_col, n_periods_col, weights_col)
    _check_columns(summary_sdf, "summary_sdf", **needed)
    for what, name in needed.items():
        if not isinstance(_type(summary_sdf, name), _NUMBER_TYPES):
            raise ValidationError(
                f"{what}: column {name!r} is {_type(summary_sdf, name).simpleString()}, not a "
                "number")
    names = list(dict.fromkeys(needed.values()))
    row_columns = (["frequency", "monetary_value"] if spend
                   else ["frequency", "recency", "T"])
    schema = T.StructType([T.StructField("part", T.IntegerType(), False)]
                          + [T.StructField(c, T.DoubleType(), False) for c in row_columns]
                          + [T.StructField("weight", T.DoubleType(), False)])

    def per_partition(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        from pyspark import TaskContext

        parts = [_value.statistics(kind, pdf, frequency_col, recency_col, T_col,
                                   monetary_value_col, n_periods_col, weights_col)
                 for pdf in batches if len(pdf)]
        if not parts:
            return
        frame = _value.merge(parts).to_frame()
        frame.insert(0, "part", np.int32(TaskContext.get().partitionId()))
        yield frame

    rows = _crmkit_errors(
        "summary_sdf", lambda: summary_sdf.select(*names).mapInPandas(per_partition, schema).toPandas())
    if len(rows) == 0:
        raise ValidationError("summary_sdf: has no rows to fit")
    parts = []
    for _, part in rows.groupby("part", sort=True):
        weights = part["weight"].to_numpy()
        if spend:
            parts.append(_value.spend_statistics(part["frequency"].to_numpy(),
                                                 part["monetary_value"].to_numpy(), weights))
        else:
            parts.append(_value.transaction_statistics(
                part["frequency"].to_numpy(), part["recency"].to_numpy(),
                part["T"].to_numpy(), weights,
                discrete=isinstance(fitter, BetaGeoBetaBinomFitter)))
    return _value.merge(parts)


def fit(model: Any, summary_sdf: Any, frequency_col: str = "frequency",
        recency_col: str = "recency", T_col: str = "T",
        monetary_value_col: str = "monetary_value", n_periods_col: str = "n_periods",
        weights_col: str | None = None, **fit_kwargs: Any) -> Any:
    """Fits ``model`` (a fitter class, or an instance whose penalizer_coef is used) on a Spark
    frame of summaries and returns the fitted fitter: per-partition statistics, merged, one fit
    on the driver (crmkit.value.fit). The parameters equal those of fitting the collected frame
    in one process. For GammaGammaFitter pass the repeat buyers
    (``summary.where("frequency > 0")``), as for its in-memory fit; for BetaGeoBetaBinomFitter a
    frame with frequency, recency and n_periods. fit_kwargs are the fitter's fit() keywords."""
    stats = statistics(model, summary_sdf, frequency_col, recency_col, T_col,
                       monetary_value_col, n_periods_col, weights_col)
    return _value.fit(model, stats, **fit_kwargs)


# ---- predictions --------------------------------------------------------------------------------


def _with_column(summary_sdf: Any, output_col: str, call: Callable[[pd.DataFrame], Any]) -> Any:
    """summary_sdf's rows and columns plus ``output_col`` (double) = call(partition batch)."""
    if not isinstance(output_col, str) or not output_col:
        raise ValidationError(f"output_col: expected a column name, got {output_col!r}")
    if output_col in summary_sdf.columns:
        raise ValidationError(f"output_col: summary_sdf already has a column {output_col!r}")
    schema = T.StructType(list(summary_sdf.schema.fields)
                          + [T.StructField(output_col, T.DoubleType(), True)])

    def per_batch(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for pdf in batches:
            if len(pdf) == 0:
                pdf[output_col] = np.empty(0, dtype=np.float64)
            else:
                pdf[output_col] = np.asarray(call(pdf), dtype=np.float64)
            yield pdf

    return summary_sdf.mapInPandas(per_batch, schema)


def predict(model: Any, summary_sdf: Any, t: float, frequency_col: str = "frequency",
            recency_col: str = "recency", T_col: str = "T", n_periods_col: str = "n_periods",
            output_col: str = "predicted_purchases") -> Any:
    """Expected repeat purchases in the next ``t`` time units (periods for BG/BB) per customer:
    the fitter's conditional_expected_number_of_purchases_up_to_time on each partition
    (``mapInPandas``, the fitted parameters shipped in the function), as a lazy Spark DataFrame
    of summary_sdf's columns plus ``output_col``. Raises ValidationError for a model that is not
    a fitted transaction model, a missing column, or an ``output_col`` already there."""
    _check_frame(summary_sdf, "summary_sdf")
    partition = _value._predict_call(model, t, frequency_col, recency_col, T_col, n_periods_col)
    _check_columns(summary_sdf, "summary_sdf", **partition.columns)
    return _with_column(summary_sdf, output_col, partition.call)


def conditional_probability_alive(model: Any, summary_sdf: Any, frequency_col: str = "frequency",
                                  recency_col: str = "recency", T_col: str = "T",
                                  n_periods_col: str = "n_periods",
                                  m_periods_in_future: float = 0,
                                  output_col: str = "probability_alive") -> Any:
    """P(alive) per customer (BG/BB: ``m_periods_in_future`` periods ahead), as a lazy Spark
    DataFrame of summary_sdf's columns plus ``output_col``."""
    _check_frame(summary_sdf, "summary_sdf")
    partition = _value._alive_call(model, m_periods_in_future, frequency_col, recency_col, T_col,
                                   n_periods_col)
    _check_columns(summary_sdf, "summary_sdf", **partition.columns)
    return _with_column(summary_sdf, output_col, partition.call)


def customer_lifetime_value(gamma_gamma: Any, transaction_model: Any, summary_sdf: Any,
                            time: int = 12, discount_rate: float = 0.01, freq: str = "D",
                            frequency_col: str = "frequency", recency_col: str = "recency",
                            T_col: str = "T", monetary_value_col: str = "monetary_value",
                            output_col: str = "clv") -> Any:
    """lifetimes' CLV per customer (GammaGammaFitter.customer_lifetime_value on each
    partition), as a lazy Spark DataFrame of summary_sdf's columns plus ``output_col``. The
    result is a model estimate in the currency's major units (a double, not money); round it
    to money explicitly."""
    _check_frame(summary_sdf, "summary_sdf")
    partition = _value._clv_call(gamma_gamma, transaction_model, time, discount_rate, freq,
                                 frequency_col, recency_col, T_col, monetary_value_col)
    _check_columns(summary_sdf, "summary_sdf", **partition.columns)
    return _with_column(summary_sdf, output_col, partition.call)
