"""crmkit on Dask: summaries per partition, one fit on merged statistics, predictions per
partition (docs/beyond-one-machine.md).

    import crmkit.dask as cd
    summary = cd.summary(transactions, "customer_id", "date", "amount",
                         observation_period_end="2026-06-30")
    bgf = cd.fit(crmkit.BetaGeoFitter, summary)            # one small fit on the client
    expected = cd.predict(bgf, summary, t=30)              # a lazy Dask Series
    ggf = cd.fit(crmkit.GammaGammaFitter, summary[summary.frequency > 0])
    clv = cd.customer_lifetime_value(ggf, bgf, summary, time=12, discount_rate=0.01)

Partitioning rule: a customer's transactions must all be in one partition, or its summary would be
computed from part of its history. ``summary`` makes sure of it: a frame indexed by the customer
column with known divisions (``ddf.set_index(customer)``, or read sorted with divisions) is used as
it is, and each partition checks that its customers lie inside its division (a customer split
across partitions is a ValidationError, never a wrong number); any other frame is first shuffled by
customer (``ddf.shuffle(on=customer)``, one all-to-all exchange of the transactions).

Every function here calls the crmkit function of the in-memory API on each partition, so the
numbers are those of crmkit.summary_data_from_transaction_data, crmkit.value.fit and the fitters'
methods: the summary rows are identical, the parameters identical to a fit in one process. The
crmkit calls release the GIL, so threaded workers run them in parallel.

Importing this module imports dask (``pip install "dask[dataframe]" distributed``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

import dask
import dask.dataframe as dd

from . import value as _value
from .errors import ValidationError
from .utils import _micros, _to_timestamp, summary_data_from_transaction_data

__all__ = [
    "conditional_probability_alive",
    "customer_lifetime_value",
    "fit",
    "predict",
    "statistics",
    "summary",
]


def _check_frame(ddf: Any, argument: str) -> None:
    if not isinstance(ddf, dd.DataFrame):
        raise ValidationError(f"{argument}: expected a dask DataFrame, got {type(ddf).__name__}")


def _check_columns(ddf: Any, argument: str, **named: Any) -> None:
    _value._check_columns(ddf.columns, argument, **named)


# ---- summaries ----------------------------------------------------------------------------------


def _max_time(ddf: Any, datetime_col: str, datetime_format: str | None) -> pd.Timestamp:
    """The last transaction's time over every partition (what the in-memory default takes)."""

    def part_max(pdf: pd.DataFrame) -> pd.Series:
        micros = _micros(pdf[datetime_col], "datetime_col", datetime_format)
        return pd.Series([micros.max() if len(micros) else np.iinfo(np.int64).min],
                         dtype=np.int64)

    per_part = ddf.map_partitions(part_max, meta=pd.Series(dtype=np.int64)).compute()
    if len(per_part) == 0 or int(per_part.max()) == np.iinfo(np.int64).min:
        raise ValidationError("transactions: no rows (the observation period end cannot be "
                              "taken from the data; pass observation_period_end)")
    return pd.Timestamp(int(per_part.max()), unit="us")


def _summary_meta(ids: Any, customer_id_col: str, with_money: bool) -> pd.DataFrame:
    columns = ["frequency", "recency", "T"] + (["monetary_value"] if with_money else [])
    index = pd.Index(ids.iloc[:0], name=customer_id_col)
    return pd.DataFrame({c: pd.Series(dtype=np.float64) for c in columns}, index=index)


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (for messages)."""
    return value.item() if isinstance(value, np.generic) else value


def _check_division(pdf: pd.DataFrame, divisions: tuple, number: int,
                    customer_id_col: str) -> None:
    """Each customer of partition `number` lies in [divisions[number], divisions[number + 1])
    (the last partition includes its upper bound): no customer is in two partitions."""
    if len(pdf) == 0:
        return
    low, high = _plain(divisions[number]), _plain(divisions[number + 1])
    last = number + 1 == len(divisions) - 1
    ids = pdf.index
    below = ids < low
    above = ids > high if last else ids >= high
    bad = np.flatnonzero(np.asarray(below | above))
    if bad.size:
        raise ValidationError(
            f"{customer_id_col}: customer {_plain(ids[int(bad[0])])!r} of partition {number} lies outside "
            f"its division [{low!r}, {high!r}{']' if last else ')'}: the frame's divisions do not "
            "hold whole customers (set_index(customer) again, or pass an unindexed frame to be "
            "shuffled by customer)")


def summary(
    ddf: Any,
    customer_id_col: str,
    datetime_col: str,
    monetary_value_col: str | None = None,
    *,
    datetime_format: str | None = None,
    observation_period_end: Any = None,
    freq: str = "D",
    freq_multiplier: float = 1,
    include_first_transaction: bool = False,
    npartitions: int | None = None,
) -> Any:
    """Per-customer frequency, recency, T (and monetary_value) of a Dask frame of transactions,
    as a lazy Dask DataFrame indexed by customer id: crmkit.summary_data_from_transaction_data
    on each partition, with the same arguments and the same rows.

    ``ddf`` either is indexed by ``customer_id_col`` with known divisions (each partition then
    checks that its customers lie in its division), or has ``customer_id_col`` as a column and is
    shuffled by it first (into ``npartitions`` partitions, default: as many as it has).
    ``observation_period_end`` defaults to the last transaction's time, found by one pass over
    the data now; pass it to keep the call lazy. Raises ValidationError for a frame that is not a
    Dask DataFrame, a missing column, an empty frame without observation_period_end; the
    partitions raise the in-memory function's errors when computed.
    """
    _check_frame(ddf, "ddf")
    indexed = ddf.index.name == customer_id_col and customer_id_col not in ddf.columns
    _check_columns(ddf, "ddf", datetime_col=datetime_col, monetary_value_col=monetary_value_col,
                   customer_id_col=None if indexed else customer_id_col)
    if indexed and not ddf.known_divisions:
        ddf = ddf.reset_index()
        indexed = False
    if not indexed:
        ddf = ddf.shuffle(on=customer_id_col, npartitions=npartitions)
    if observation_period_end is None:
        end = _max_time(ddf, datetime_col, datetime_format)
    else:
        end = _to_timestamp(observation_period_end, "observation_period_end", datetime_format)
    ids_meta = ddf._meta.index.to_series() if indexed else ddf._meta[customer_id_col]
    meta = _summary_meta(ids_meta, customer_id_col, monetary_value_col is not None)
    divisions = ddf.divisions if indexed else None

    def part(pdf: pd.DataFrame, partition_info: dict | None = None) -> pd.DataFrame:
        if indexed:
            if partition_info is not None:
                _check_division(pdf, divisions, partition_info["number"], customer_id_col)
            pdf = pdf.reset_index()
        if len(pdf) == 0:
            return meta
        return summary_data_from_transaction_data(
            pdf, customer_id_col, datetime_col, monetary_value_col,
            datetime_format=datetime_format, observation_period_end=end, freq=freq,
            freq_multiplier=freq_multiplier,
            include_first_transaction=include_first_transaction, _partition=True)

    return ddf.map_partitions(part, meta=meta, align_dataframes=False)


# ---- fits ---------------------------------------------------------------------------------------


def statistics(model: Any, summary_ddf: Any, frequency_col: str = "frequency",
               recency_col: str = "recency", T_col: str = "T",
               monetary_value_col: str = "monetary_value", n_periods_col: str = "n_periods",
               weights_col: str | None = None, split_every: int = 8) -> Any:
    """The merged sufficient statistics ``model`` (a fitter class or instance) needs of a Dask
    frame of summaries: crmkit.value.statistics per partition, merged in a tree of
    ``split_every`` parts per task, computed now. Small: one row per distinct history.
    ``weights_col`` names a column of row counts for summaries already aggregated."""
    _check_frame(summary_ddf, "summary_ddf")
    fitter = _value._fitter(model)
    kind = type(fitter)
    needed = _value._statistics_columns(fitter, frequency_col, recency_col, T_col,
                                        monetary_value_col, n_periods_col, weights_col)
    _check_columns(summary_ddf, "summary_ddf", **needed)
    if split_every < 2:
        raise ValidationError(f"split_every: must be >= 2, got {split_every}")

    def part(pdf: pd.DataFrame) -> Any:
        return _value.statistics(kind, pdf, frequency_col, recency_col, T_col,
                                 monetary_value_col, n_periods_col, weights_col)

    def combine(*parts: Any) -> Any:
        return _value.merge(parts)

    level = [dask.delayed(part)(p) for p in summary_ddf.to_delayed()]
    while len(level) > 1:
        level = [dask.delayed(combine)(*level[i:i + split_every])
                 for i in range(0, len(level), split_every)]
    return level[0].compute()


def fit(model: Any, summary_ddf: Any, frequency_col: str = "frequency",
        recency_col: str = "recency", T_col: str = "T",
        monetary_value_col: str = "monetary_value", n_periods_col: str = "n_periods",
        weights_col: str | None = None, **fit_kwargs: Any) -> Any:
    """Fits ``model`` (a fitter class, or an instance whose penalizer_coef is used) on a Dask
    frame of summaries and returns the fitted fitter: per-partition statistics, merged, one fit
    on the client (crmkit.value.fit). The parameters equal those of fitting the collected frame
    in one process. For GammaGammaFitter pass the repeat buyers (``summary[summary.frequency >
    0]``), as for its in-memory fit. fit_kwargs are the fitter's fit() keywords."""
    stats = statistics(model, summary_ddf, frequency_col, recency_col, T_col,
                       monetary_value_col, n_periods_col, weights_col)
    return _value.fit(model, stats, **fit_kwargs)


# ---- predictions --------------------------------------------------------------------------------


def _series(summary_ddf: Any, partition: Any, name: str) -> Any:
    """A lazy Series ``name`` aligned with summary_ddf: partition.call on each partition, the
    columns it reads checked first (crmkit.value's per-partition calls, shared with Spark)."""
    _check_columns(summary_ddf, "summary_ddf", **partition.columns)
    call = partition.call

    def part(pdf: pd.DataFrame) -> pd.Series:
        if len(pdf) == 0:
            return pd.Series(np.empty(0), index=pdf.index, name=name, dtype=np.float64)
        return pd.Series(np.asarray(call(pdf), dtype=np.float64), index=pdf.index, name=name)

    meta = pd.Series(dtype=np.float64, name=name, index=summary_ddf._meta.index)
    return summary_ddf.map_partitions(part, meta=meta)


def predict(model: Any, summary_ddf: Any, t: float, frequency_col: str = "frequency",
            recency_col: str = "recency", T_col: str = "T",
            n_periods_col: str = "n_periods") -> Any:
    """Expected repeat purchases in the next ``t`` time units (periods for BG/BB) per customer:
    the fitter's conditional_expected_number_of_purchases_up_to_time on each partition, a lazy
    Dask Series named "predicted_purchases" aligned with summary_ddf. The model travels without
    its fitted data. Raises ValidationError for a model that is not a fitted transaction model,
    a ``t`` that is not a finite number, or a missing column."""
    _check_frame(summary_ddf, "summary_ddf")
    partition = _value._predict_call(model, t, frequency_col, recency_col, T_col, n_periods_col)
    return _series(summary_ddf, partition, "predicted_purchases")


def conditional_probability_alive(model: Any, summary_ddf: Any, frequency_col: str = "frequency",
                                  recency_col: str = "recency", T_col: str = "T",
                                  n_periods_col: str = "n_periods",
                                  m_periods_in_future: float = 0) -> Any:
    """P(alive) per customer (BG/BB: ``m_periods_in_future`` periods ahead), a lazy Dask Series
    named "probability_alive" aligned with summary_ddf."""
    _check_frame(summary_ddf, "summary_ddf")
    partition = _value._alive_call(model, m_periods_in_future, frequency_col, recency_col, T_col,
                                   n_periods_col)
    return _series(summary_ddf, partition, "probability_alive")


def customer_lifetime_value(gamma_gamma: Any, transaction_model: Any, summary_ddf: Any,
                            time: int = 12, discount_rate: float = 0.01, freq: str = "D",
                            frequency_col: str = "frequency", recency_col: str = "recency",
                            T_col: str = "T",
                            monetary_value_col: str = "monetary_value") -> Any:
    """lifetimes' CLV per customer (GammaGammaFitter.customer_lifetime_value on each partition):
    a lazy Dask Series named "clv" aligned with summary_ddf. The result is a model estimate in
    the currency's major units (a float, not money); round it to money explicitly."""
    _check_frame(summary_ddf, "summary_ddf")
    partition = _value._clv_call(gamma_gamma, transaction_model, time, discount_rate, freq,
                                 frequency_col, recency_col, T_col, monetary_value_col)
    return _series(summary_ddf, partition, "clv")
