"""Sufficient statistics of the value models: fit data that do not fit in one place.

A fit of BG/NBD, MBG/NBD, Pareto/NBD, BG/BB or Gamma-Gamma depends on its rows only through the
distinct rows and how often each occurs. ``transaction_statistics`` and ``spend_statistics`` build
that compressed form of one part of the data (a Dask or Spark partition), ``merge`` adds parts in
any grouping and order, and ``fit`` fits the result: the parameters are the same, bit for bit, as
a fit on all the rows in one process (the weights are row counts, whose sums are exact). The
statistics pickle, so they travel between processes; they are small (one row per distinct
history, not per customer).

    import crmkit.value as cv
    parts = [cv.transaction_statistics(p.frequency, p.recency, p.T) for p in partitions]
    bgf = cv.fit(crmkit.BetaGeoFitter, cv.merge(parts))

The work is in the core (crmkit/value/statistics.hpp); this module converts columns and picks the
kind of statistics each fitter needs. crmkit.dask and crmkit.spark build on it.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, NamedTuple

import numpy as np
import pandas as pd

from . import _core
from .errors import ValidationError
from .fitters import (
    _BaseFitter,
    BetaGeoBetaBinomFitter,
    BetaGeoFitter,
    GammaGammaFitter,
    ModifiedBetaGeoFitter,
    ParetoNBDFitter,
    _as_column,
)

__all__ = [
    "SpendStatistics",
    "StatisticsKind",
    "TransactionStatistics",
    "fit",
    "merge",
    "spend_statistics",
    "statistics",
    "transaction_statistics",
]

TransactionStatistics = _core.TransactionStatistics
SpendStatistics = _core.SpendStatistics
StatisticsKind = _core.StatisticsKind

_CONTINUOUS = (BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter)


def _column(value: Any, name: str) -> np.ndarray:
    return _as_column(value, name)[0]


def transaction_statistics(frequency: Any, recency: Any, T: Any, weights: Any = None,
                           discrete: bool = False) -> TransactionStatistics:
    """The distinct (frequency, recency, T) rows, sorted, with their summed weights (each row
    counts 1 without weights). ``discrete=True`` for BG/BB (T is then n_periods). Raises
    crmkit.ValidationError naming the column and row for a row the fit would refuse."""
    kind = StatisticsKind.discrete if discrete else StatisticsKind.continuous
    w = None if weights is None else _column(weights, "weights")
    return TransactionStatistics(_column(frequency, "frequency"), _column(recency, "recency"),
                                 _column(T, "T"), w, kind)


def spend_statistics(frequency: Any, monetary_value: Any, weights: Any = None) -> SpendStatistics:
    """The distinct (frequency, monetary_value) rows of the repeat buyers, sorted, with their
    summed weights: the Gamma-Gamma fit's data. Like GammaGammaFitter.fit, it refuses frequency 0
    rows (filter them first) and monetary values <= 0."""
    w = None if weights is None else _column(weights, "weights")
    return SpendStatistics(_column(frequency, "frequency"),
                           _column(monetary_value, "monetary_value"), w)


def merge(parts: Iterable[Any]) -> Any:
    """The statistics of all ``parts`` (an iterable of TransactionStatistics, or of
    SpendStatistics): equal rows' weights added. Any grouping gives the same result."""
    items = list(parts)
    if not items:
        raise ValidationError("parts: no statistics to merge")
    first = type(items[0])
    if first not in (TransactionStatistics, SpendStatistics):
        raise ValidationError(
            f"parts[0]: expected TransactionStatistics or SpendStatistics, got {first.__name__}")
    for i, s in enumerate(items):
        if type(s) is not first:
            raise ValidationError(
                f"parts[{i}]: expected {first.__name__} like parts[0], got {type(s).__name__}")
    # A balanced tree of merges: each row is copied O(log k) times, not O(k).
    while len(items) > 1:
        items = [items[i].merge(items[i + 1]) if i + 1 < len(items) else items[i]
                 for i in range(0, len(items), 2)]
    return items[0]


def _fitter(model: Any) -> Any:
    if isinstance(model, type):
        if not issubclass(model, (*_CONTINUOUS, BetaGeoBetaBinomFitter, GammaGammaFitter)):
            raise ValidationError(f"model: {model.__name__} is not a crmkit fitter")
        return model()
    if not isinstance(model, (*_CONTINUOUS, BetaGeoBetaBinomFitter, GammaGammaFitter)):
        raise ValidationError(
            "model: expected a crmkit fitter (class or instance: BetaGeoFitter, "
            "ModifiedBetaGeoFitter, ParetoNBDFitter, BetaGeoBetaBinomFitter, GammaGammaFitter), "
            f"got {type(model).__name__}")
    return model


def _check_columns(columns: Any, where: str, **named: str | None) -> None:
    """ValidationError "<argument>: no column '<name>' in <where>" for the first named column not
    in ``columns`` (a frame's column names; pandas, Dask and Spark alike)."""
    for argument, name in named.items():
        if name is not None and name not in columns:
            raise ValidationError(f"{argument}: no column {name!r} in {where}")


def _statistics_columns(fitter: Any, frequency_col: str, recency_col: str, T_col: str,
                        monetary_value_col: str, n_periods_col: str,
                        weights_col: str | None) -> dict[str, str]:
    """The columns (argument name -> column name) the statistics of ``fitter`` read."""
    if isinstance(fitter, GammaGammaFitter):
        needed = {"frequency_col": frequency_col, "monetary_value_col": monetary_value_col}
    elif isinstance(fitter, BetaGeoBetaBinomFitter):
        needed = {"frequency_col": frequency_col, "recency_col": recency_col,
                  "n_periods_col": n_periods_col}
    else:
        needed = {"frequency_col": frequency_col, "recency_col": recency_col, "T_col": T_col}
    if weights_col is not None:
        needed["weights_col"] = weights_col
    return needed


def statistics(model: Any, frame: Any, frequency_col: str = "frequency",
               recency_col: str = "recency", T_col: str = "T",
               monetary_value_col: str = "monetary_value", n_periods_col: str = "n_periods",
               weights_col: str | None = None) -> Any:
    """The statistics ``model`` (a fitter class or instance) needs, of one pandas frame of
    summaries (a partition): SpendStatistics of frequency and monetary_value for Gamma-Gamma,
    discrete TransactionStatistics of frequency, recency and n_periods for BG/BB, continuous ones
    of frequency, recency and T otherwise. Raises ValidationError for a missing column."""
    fitter = _fitter(model)
    if not isinstance(frame, pd.DataFrame):
        raise ValidationError(f"frame: expected a pandas DataFrame, got {type(frame).__name__}")
    needed = _statistics_columns(fitter, frequency_col, recency_col, T_col, monetary_value_col,
                                 n_periods_col, weights_col)
    _check_columns(frame.columns, "the frame", **needed)
    cols = {arg: frame[name].to_numpy(dtype=np.float64) for arg, name in needed.items()}
    w = cols.get("weights_col")
    if isinstance(fitter, GammaGammaFitter):
        return spend_statistics(cols["frequency_col"], cols["monetary_value_col"], w)
    third = cols["n_periods_col"] if "n_periods_col" in cols else cols["T_col"]
    return transaction_statistics(cols["frequency_col"], cols["recency_col"], third, w,
                                  discrete=isinstance(fitter, BetaGeoBetaBinomFitter))


def fit(model: Any, statistics: Any, **fit_kwargs: Any) -> Any:
    """Fits ``model`` (a fitter class, or an instance whose penalizer_coef is used) on merged
    ``statistics`` and returns the fitted fitter. fit_kwargs are the fitter's fit() keywords
    (initial_params, tol, verbose, max_iterations). The parameters equal a fit on the rows the
    statistics were built from. Raises ValidationError when the statistics are not the kind the
    model needs, or hold no rows."""
    fitter = _fitter(model)
    if isinstance(fitter, GammaGammaFitter):
        if not isinstance(statistics, SpendStatistics):
            raise ValidationError(
                "statistics: GammaGammaFitter needs SpendStatistics (crmkit.value.spend_statistics), "
                f"got {type(statistics).__name__}")
    elif not isinstance(statistics, TransactionStatistics):
        raise ValidationError(
            f"statistics: {type(fitter).__name__} needs TransactionStatistics "
            f"(crmkit.value.transaction_statistics), got {type(statistics).__name__}")
    else:
        want = (StatisticsKind.discrete if isinstance(fitter, BetaGeoBetaBinomFitter)
                else StatisticsKind.continuous)
        if statistics.kind != want:
            raise ValidationError(
                f"statistics: {type(fitter).__name__} needs {want.name} statistics, got "
                f"{statistics.kind.name} ones")
    if len(statistics) == 0:
        raise ValidationError("statistics: no rows to fit (every part was empty)")
    # The read-only views go in as they are: the fitter keeps its own copies of what it fits.
    if isinstance(fitter, GammaGammaFitter):
        return fitter.fit(statistics.frequency, statistics.monetary_value,
                          weights=statistics.weight, **fit_kwargs)
    return fitter.fit(statistics.frequency, statistics.recency, statistics.T,
                      weights=statistics.weight, **fit_kwargs)


# ---- per-partition calls shared by crmkit.dask and crmkit.spark ----------------------------------


class _PartitionCall(NamedTuple):
    """What an engine applies to each partition: the columns it reads (argument name -> column
    name, for the engine to check up front) and the function of one pandas partition."""

    columns: dict[str, str]
    call: Callable[[pd.DataFrame], Any]


def _shippable(model: Any, argument: str) -> Any:
    """A copy of a fitted fitter without its fitted data (a few hundred bytes when pickled), to
    send to the workers. ValidationError naming ``argument`` if it is not a fitted fitter."""
    if not isinstance(model, _BaseFitter):
        raise ValidationError(
            f"{argument}: expected a fitted crmkit fitter, got {type(model).__name__}")
    model._fitted()  # ValidationError if not fitted
    slim = type(model).__new__(type(model))
    slim._restore(model._state(save_data=False), argument)
    return slim


def _number(value: Any, argument: str) -> float:
    """One finite number (a horizon), checked before any partition runs."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{argument}: expected a number, got {value!r}") from None
    if not np.isfinite(number):
        raise ValidationError(f"{argument}: must be finite, got {value!r}")
    return number


def _transaction_model(model: Any, argument: str) -> tuple[Any, bool]:
    """(shippable copy, whether it is BG/BB) of a fitted transaction model."""
    slim = _shippable(model, argument)
    if isinstance(slim, GammaGammaFitter):
        raise ValidationError(
            f"{argument}: GammaGammaFitter predicts spend, not purchases (use "
            "customer_lifetime_value)")
    return slim, isinstance(slim, BetaGeoBetaBinomFitter)


def _history_columns(bgbb: bool, frequency_col: str, recency_col: str, T_col: str,
                     n_periods_col: str) -> dict[str, str]:
    third = ("n_periods_col", n_periods_col) if bgbb else ("T_col", T_col)
    return {"frequency_col": frequency_col, "recency_col": recency_col, third[0]: third[1]}


def _predict_call(model: Any, t: Any, frequency_col: str, recency_col: str, T_col: str,
                  n_periods_col: str) -> _PartitionCall:
    """Expected repeat purchases in the next ``t`` (conditional_expected_number_of_purchases_
    up_to_time) per row of a partition of summaries."""
    slim, bgbb = _transaction_model(model, "model")
    third = n_periods_col if bgbb else T_col
    horizon = _number(t, "t")

    def call(pdf: pd.DataFrame) -> Any:
        return slim.conditional_expected_number_of_purchases_up_to_time(
            horizon, pdf[frequency_col], pdf[recency_col], pdf[third])

    return _PartitionCall(_history_columns(bgbb, frequency_col, recency_col, T_col,
                                           n_periods_col), call)


def _alive_call(model: Any, m_periods_in_future: Any, frequency_col: str, recency_col: str,
                T_col: str, n_periods_col: str) -> _PartitionCall:
    """P(alive) per row (BG/BB: ``m_periods_in_future`` periods ahead)."""
    slim, bgbb = _transaction_model(model, "model")
    third = n_periods_col if bgbb else T_col
    m = _number(m_periods_in_future, "m_periods_in_future")

    def call(pdf: pd.DataFrame) -> Any:
        if bgbb:
            return slim.conditional_probability_alive(m, pdf[frequency_col], pdf[recency_col],
                                                      pdf[third])
        return slim.conditional_probability_alive(pdf[frequency_col], pdf[recency_col],
                                                  pdf[third])

    return _PartitionCall(_history_columns(bgbb, frequency_col, recency_col, T_col,
                                           n_periods_col), call)


def _clv_call(gamma_gamma: Any, transaction_model: Any, time: Any, discount_rate: Any,
              freq: Any, frequency_col: str, recency_col: str, T_col: str,
              monetary_value_col: str) -> _PartitionCall:
    """lifetimes' CLV (GammaGammaFitter.customer_lifetime_value) per row."""
    gg = _shippable(gamma_gamma, "gamma_gamma")
    if not isinstance(gg, GammaGammaFitter):
        raise ValidationError(
            f"gamma_gamma: expected a fitted GammaGammaFitter, got {type(gg).__name__}")
    tm, _ = _transaction_model(transaction_model, "transaction_model")
    if not isinstance(freq, str):
        raise ValidationError(f"freq: expected 'D', 'W', 'M' or 'H', got {freq!r}")
    _core.periods_per_month(freq)  # ValidationError for an unknown unit, before any partition
    months, rate = int(time), _number(discount_rate, "discount_rate")

    def call(pdf: pd.DataFrame) -> Any:
        return gg.customer_lifetime_value(tm, pdf[frequency_col], pdf[recency_col], pdf[T_col],
                                          pdf[monetary_value_col], time=months,
                                          discount_rate=rate, freq=freq)

    return _PartitionCall({"frequency_col": frequency_col, "recency_col": recency_col,
                           "T_col": T_col, "monetary_value_col": monetary_value_col}, call)


def _to_frame(self: Any) -> pd.DataFrame:
    """The rows as a DataFrame (float64 columns, weight last)."""
    if isinstance(self, SpendStatistics):
        cols = {"frequency": self.frequency, "monetary_value": self.monetary_value}
    else:
        cols = {"frequency": self.frequency, "recency": self.recency, "T": self.T}
    cols["weight"] = self.weight
    return pd.DataFrame({k: np.array(v) for k, v in cols.items()})


def _repr(self: Any) -> str:
    kind = f" {self.kind.name}" if isinstance(self, TransactionStatistics) else ""
    return (f"<crmkit.value.{type(self).__name__}{kind}: {len(self)} distinct rows, "
            f"total weight {self.total_weight:g}>")


for _cls in (TransactionStatistics, SpendStatistics):
    _cls.to_frame = _to_frame
    _cls.__repr__ = _repr
    _cls.__module__ = "crmkit.value"
del _cls
