"""Confidence intervals for the fitters' predictions and CLV (crmkit/value/uncertainty.hpp).

Mixins of the fitters in crmkit.fitters: ``*_interval`` methods that return a DataFrame with the
columns ``estimate``, ``lower``, ``upper`` and ``standard_error`` (one row per customer, the
index of the first Series input), and ``log_parameter_covariance_``. Every number is computed in
the C++ core (delta method or parametric bootstrap, docs/value-uncertainty.md); this module only
finds the fitted rows and converts.

Arguments shared by the interval methods:
  ci       two-sided coverage in (0, 1), default 0.95
  method   "delta" (default) or "bootstrap" (parameters drawn from the asymptotic normal of the
           log-parameters; the same seed gives the same intervals)
  n_boot   bootstrap draws (default 1000)
  seed     bootstrap seed (default 0)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from . import _core
from .errors import ValidationError

_COLUMNS = ("estimate", "lower", "upper", "standard_error")


def _frame(result: dict[str, np.ndarray], index: Any) -> pd.DataFrame:
    n = len(result["estimate"])
    if index is not None and len(index) != n:
        index = None
    return pd.DataFrame({c: result[c] for c in _COLUMNS}, index=index)


def _concat(parts: list[tuple[np.ndarray, dict[str, np.ndarray]]], n: int) -> dict[str, np.ndarray]:
    out = {c: np.empty(n, dtype=np.float64) for c in _COLUMNS}
    for mask, res in parts:
        for c in _COLUMNS:
            out[c][mask] = res[c]
    return out


def _per_value(call: Any, cols: Any, name: str, third: str) -> pd.DataFrame:
    """call(value, frequency, recency, third) once per distinct value of the column ``name`` (the
    core takes one horizon per call), the rows assembled in input order."""
    values = cols[name]
    parts = []
    for value in np.unique(values):
        mask = values == value
        parts.append((mask, call(float(value),
                                 *(np.ascontiguousarray(cols[c][mask])
                                   for c in ("frequency", "recency", third)))))
    return _frame(_concat(parts, len(values)), cols.index)


class _Intervals:
    """What the transaction and spend fitters share: the covariance of the fitted model's
    log-parameters, from the fitted rows, computed once per fit."""

    @property
    def log_parameter_covariance_(self) -> pd.DataFrame:
        """Covariance of the log-parameters (the inverse of the negative Hessian of the
        penalised log-likelihood in log-parameters) on the fitted rows, as a DataFrame indexed
        by parameter name both ways: variance_matrix_ divided by params_[i] * params_[j]. All
        NaN when the Hessian is not negative definite (the fit is then reported as not
        converged). Computed once per fit; kept by save_model(save_data=False)."""
        model = self._fitted()  # type: ignore[attr-defined]
        if getattr(self, "_variance", None) is None and getattr(self, "data", None) is None:
            raise ValidationError(
                f"{type(self).__name__}: the interval needs the fitted data (the parameter "
                "covariance comes from the rows of the fit); fit the model, or load it with "
                "its data"
            )
        natural = self.variance_matrix_  # type: ignore[attr-defined]
        theta = np.asarray(list(model.params), dtype=np.float64)
        return natural / np.outer(theta, theta)

    def _cov(self) -> np.ndarray:
        return np.ascontiguousarray(self.log_parameter_covariance_.to_numpy(), dtype=np.float64)


class TransactionIntervals(_Intervals):
    """Intervals of BG/NBD, MBG/NBD and Pareto/NBD predictions."""

    def conditional_expected_number_of_purchases_up_to_time_interval(
        self, t: Any, frequency: Any = None, recency: Any = None, T: Any = None, *,
        ci: float = 0.95, method: str = "delta", n_boot: int = 1000, seed: int = 0,
    ) -> pd.DataFrame:
        """conditional_expected_number_of_purchases_up_to_time with a confidence interval:
        columns estimate, lower, upper, standard_error. t may be a number or a column."""
        from .fitters import _Columns

        model = self._fitted()  # type: ignore[attr-defined]
        cov = self._cov()
        cols = _Columns(t=t, **self._history(frequency, recency, T))  # type: ignore[attr-defined]
        args = dict(level=float(ci), method=method, n_boot=n_boot, seed=seed)
        return _per_value(
            lambda t_, x, tx, T_: _core.conditional_expected_number_of_purchases_interval(
                model, cov, t_, x, tx, T_, **args), cols, "t", "T")

    def conditional_probability_alive_interval(
        self, frequency: Any = None, recency: Any = None, T: Any = None, *,
        ci: float = 0.95, method: str = "delta", n_boot: int = 1000, seed: int = 0,
    ) -> pd.DataFrame:
        """conditional_probability_alive with a confidence interval (logit scale for the
        delta method, so the bounds stay in [0, 1])."""
        from .fitters import _Columns

        model = self._fitted()  # type: ignore[attr-defined]
        cov = self._cov()
        cols = _Columns(**self._history(frequency, recency, T))  # type: ignore[attr-defined]
        res = _core.conditional_probability_alive_interval(
            model, cov, cols["frequency"], cols["recency"], cols["T"], level=float(ci),
            method=method, n_boot=n_boot, seed=seed)
        return _frame(res, cols.index)


class DiscreteIntervals(_Intervals):
    """Intervals of BG/BB predictions (periods are integers)."""

    def conditional_expected_number_of_purchases_up_to_time_interval(
        self, m_periods_in_future: Any, frequency: Any = None, recency: Any = None,
        n_periods: Any = None, *, ci: float = 0.95, method: str = "delta", n_boot: int = 1000,
        seed: int = 0,
    ) -> pd.DataFrame:
        """Expected transactions in periods n+1 .. n+m with a confidence interval."""
        from .fitters import _Columns

        model = self._fitted()  # type: ignore[attr-defined]
        cov = self._cov()
        cols = _Columns(m=m_periods_in_future,
                        **self._history(frequency, recency, n_periods))  # type: ignore[attr-defined]
        args = dict(level=float(ci), method=method, n_boot=n_boot, seed=seed)
        return _per_value(
            lambda m, x, tx, n: _core.conditional_expected_number_of_purchases_interval(
                model, cov, m, x, tx, n, **args), cols, "m", "n_periods")

    def conditional_probability_alive_interval(
        self, m_periods_in_future: Any, frequency: Any = None, recency: Any = None,
        n_periods: Any = None, *, ci: float = 0.95, method: str = "delta", n_boot: int = 1000,
        seed: int = 0,
    ) -> pd.DataFrame:
        """P(alive at period n + m_periods_in_future) with a confidence interval."""
        from .fitters import _Columns

        model = self._fitted()  # type: ignore[attr-defined]
        cov = self._cov()
        cols = _Columns(m=m_periods_in_future,
                        **self._history(frequency, recency, n_periods))  # type: ignore[attr-defined]
        args = dict(level=float(ci), method=method, n_boot=n_boot, seed=seed)
        return _per_value(
            lambda m, x, tx, n: _core.conditional_probability_alive_interval(
                model, cov, x, tx, n, m_periods_in_future=m, **args), cols, "m", "n_periods")


class SpendIntervals(_Intervals):
    """The interval of lifetimes' customer lifetime value (Gamma-Gamma)."""

    def customer_lifetime_value_interval(
        self, transaction_prediction_model: Any, frequency: Any, recency: Any, T: Any,
        monetary_value: Any, time: int = 12, discount_rate: float = 0.01, freq: str = "D", *,
        ci: float = 0.95, method: str = "delta", n_boot: int = 1000, seed: int = 0,
    ) -> pd.DataFrame:
        """customer_lifetime_value with a confidence interval. Both models' parameter
        uncertainty counts; they are taken as independent (fitted separately), so both fitters
        need their fitted data."""
        from .fitters import GammaGammaFitter, _BaseFitter, _Columns

        model = self._fitted()  # type: ignore[attr-defined]
        tm = transaction_prediction_model
        if not isinstance(tm, _BaseFitter) or isinstance(tm, GammaGammaFitter) \
                or not isinstance(tm, _Intervals):
            raise ValidationError(
                "transaction_prediction_model: expected a fitted crmkit BetaGeoFitter, "
                "ModifiedBetaGeoFitter, ParetoNBDFitter or BetaGeoBetaBinomFitter, got "
                f"{type(tm).__name__}"
            )
        transactions = tm._fitted()
        if not isinstance(freq, str):
            raise ValidationError(f"freq: expected 'D', 'W', 'M' or 'H', got {freq!r}")
        periods = _core.periods_per_month(freq)
        cols = _Columns(frequency=frequency, recency=recency, T=T, monetary_value=monetary_value)
        res = _core.customer_lifetime_value_interval(
            model, self._cov(), transactions, tm._cov(), cols["frequency"], cols["recency"],
            cols["T"], cols["monetary_value"], months=int(time),
            discount_rate=float(discount_rate), periods_per_month=periods, level=float(ci),
            method=method, n_boot=n_boot, seed=seed)
        return _frame(res, cols.index)
