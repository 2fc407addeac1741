"""Retention models for contractual (subscription) customers, fitted on cohort survivor counts, on
the crmkit C++ core (crmkit/value/contractual.hpp; docs/contractual.md).

``ShiftedBetaGeometricFitter`` is the sBG of Fader and Hardie (2007, "How to Project Customer
Retention"); ``BetaDiscreteWeibullFitter`` its duration-dependent extension, the BdW of Fader,
Hardie, Liu, Davin and Steenburgh (2018). Both follow the conventions of crmkit's other fitters:
``fit(...)`` returns the fitter, ``params_``, ``standard_errors_``, ``confidence_intervals_``,
``summary``, ``fit_report_``, ``log_likelihood_``, pickling and ``save_model``/``load_model``.
Every likelihood, fit and projection is computed in C++; these classes only convert.

Data: ``survivors`` is the number of a cohort's customers still active at the start of periods
0, 1, ..., n (survivors[0] the cohort's size). Pass one cohort as a 1-D array-like or Series, several
cohorts (observed for different numbers of periods) as a list of them or as a DataFrame with one
column per cohort (trailing NaNs, the periods a younger cohort has not reached, are dropped).
``survivors_from_lost(initial, lost)`` turns a cohort's size and per-period losses into survivor
counts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from . import _arrow, _core
from .errors import ValidationError
from .fitters import _BaseFitter, _Columns, _fit_options, _initial

__all__ = [
    "ShiftedBetaGeometricFitter",
    "BetaDiscreteWeibullFitter",
    "survivors_from_lost",
]


def survivors_from_lost(initial: float, lost: Any) -> np.ndarray:
    """Survivor counts [initial, initial - lost[0], ...] of one cohort. Raises
    crmkit.ValidationError naming the period for a negative count or more lost than remain."""
    return _core.survivors_from_lost(float(initial), np.asarray(lost, dtype=np.float64))


def _cohorts(survivors: Any) -> tuple[list[np.ndarray], list[str], bool]:
    """(cohorts as float64 arrays, their names, whether one cohort was given)."""
    if isinstance(survivors, pd.DataFrame):
        if survivors.shape[1] == 0:
            raise ValidationError("survivors: the DataFrame has no columns (one per cohort)")
        cohorts, names = [], []
        for name in survivors.columns:
            col = np.asarray(survivors[name], dtype=np.float64)
            nan = np.isnan(col)
            if nan.any():
                last = len(col) - int(np.argmax(~nan[::-1])) if (~nan).any() else 0
                if nan[:last].any():
                    raise ValidationError(
                        f"survivors[{name!r}][{int(np.argmax(nan))}]: NaN before the cohort's last "
                        "count (only trailing NaNs, periods not yet reached, are allowed)")
                col = col[:last]
            cohorts.append(np.ascontiguousarray(col))
            names.append(str(name))
        return cohorts, names, len(cohorts) == 1
    if isinstance(survivors, (list, tuple)) and survivors and all(
            np.ndim(c) == 1 for c in survivors):
        cohorts = [np.ascontiguousarray(np.asarray(c, dtype=np.float64)) for c in survivors]
        return cohorts, [f"cohort_{i}" for i in range(len(cohorts))], False
    try:
        arr = np.asarray(survivors, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValidationError(
            "survivors: expected counts (a 1-D array, Series or list), a list of them or a "
            f"DataFrame, got {type(survivors).__name__}") from None
    if arr.ndim != 1:
        raise ValidationError(f"survivors: must be 1-dimensional, got shape {arr.shape}")
    name = survivors.name if isinstance(survivors, pd.Series) and survivors.name is not None \
        else "survivors"
    return [np.ascontiguousarray(arr)], [str(name)], True


class _RetentionFitter(_BaseFitter):
    """What the sBG and BdW fitters share."""

    def fit(
        self,
        survivors: Any,
        initial_params: Any = None,
        verbose: bool = False,
        tol: float = 1e-10,
        **kwargs: Any,
    ) -> Any:
        """Fits by maximum likelihood on the survivor counts of one cohort or several (see the
        module docstring) and returns self. Raises crmkit.ValidationError naming the cohort and
        period for counts that are negative, increase or are too few."""
        options = _fit_options(tol, kwargs)
        cohorts, names, single = _cohorts(survivors)
        common = dict(penalizer=float(self.penalizer_coef),
                      initial=_initial(initial_params, self._core_class.param_names), **options)
        if single:
            model = self._core_class.fit(cohorts[0], **common)
        else:
            model = self._core_class.fit_cohorts(cohorts, **common)
        longest = max(len(c) for c in cohorts)
        frame = pd.DataFrame(
            {n: np.concatenate([c, np.full(longest - len(c), np.nan)])
             for n, c in zip(names, cohorts)},
            index=pd.RangeIndex(longest, name="period"))
        self._data, self._data_parts = frame, None
        self._se, self._se_rows = None, None
        self._finish_fit(model, verbose)
        return self

    def __repr__(self) -> str:
        name = type(self).__name__
        if self._model is None:
            return f"<crmkit.{name}>"
        fitted = ""
        data = self.data
        if data is not None:
            fitted = (f" fitted on {data.shape[1]:d} cohort(s) of "
                      f"{float(data.iloc[0].sum()):g} customers,")
        params = ", ".join(f"{k}: {v:.3f}" for k, v in self.params_.items())
        return f"<crmkit.{name}:{fitted} {params}>"

    # -- projections --

    def _periods(self, method: str, t: Any, output: str | None) -> Any:
        output = _arrow.check_output(output)
        cols = _Columns(t=t)
        return cols.wrap(getattr(self._fitted(), method)(cols["t"]), name=method, output=output)

    def survival_function(self, t: Any, *, output: str | None = None) -> Any:
        """S(t): the share of a new cohort still active after t renewals (t = 0, 1, ...)."""
        return self._periods("survival_function", t, output)

    def retention_rate(self, t: Any, *, output: str | None = None) -> Any:
        """r(t) = S(t) / S(t-1): the share of those active in period t who renew (t >= 1)."""
        return self._periods("retention_rate", t, output)

    def churn_probability(self, t: Any, *, output: str | None = None) -> Any:
        """P(T = t): the probability that a new customer's last period is t (t >= 1)."""
        return self._periods("churn_probability", t, output)

    def discounted_expected_residual_lifetime(self, discount_rate: float,
                                              renewals: Any = 0) -> Any:
        """DERT: the expected discounted number of future payments of a customer who has made
        ``renewals`` renewals, valued just before its next renewal decision (Fader and Hardie
        2010). ``renewals`` may be a scalar (a float comes back) or an array / Series."""
        model = self._fitted()
        cols = _Columns(renewals=renewals)
        r = cols["renewals"]
        out = np.empty(len(r), dtype=np.float64)
        for value in np.unique(r):
            out[r == value] = model.discounted_expected_residual_lifetime(
                float(discount_rate), float(value))
        return cols.wrap(out, name="DERT")

    def discounted_expected_lifetime(self, discount_rate: float) -> float:
        """DEL: the expected discounted number of payments of a customer about to be acquired
        (the first payment undiscounted): 1 + DERT(d, 0) / (1 + d)."""
        return float(self._fitted().discounted_expected_lifetime(float(discount_rate)))

    def log_likelihood(self, survivors: Any) -> float:
        """The log-likelihood of survivor counts (one cohort or several) under params_."""
        cohorts, _, single = _cohorts(survivors)
        model = self._fitted()
        if single:
            return float(model.log_likelihood(cohorts[0]))
        return float(model.log_likelihood_cohorts(cohorts))


class ShiftedBetaGeometricFitter(_RetentionFitter):
    """sBG (Fader and Hardie 2007): each period an active customer churns with probability theta,
    theta ~ Beta(alpha, beta). params_: alpha, beta."""

    _core_class = _core.ShiftedBetaGeometricModel

    def expected_lifetime(self) -> float:
        """E[T] = (alpha + beta - 1) / (alpha - 1) periods; inf when alpha <= 1."""
        return float(self._fitted().expected_lifetime())


class BetaDiscreteWeibullFitter(_RetentionFitter):
    """BdW (Fader, Hardie, Liu, Davin, Steenburgh 2018): P(T > t | theta) = (1 - theta)^(t^c),
    theta ~ Beta(alpha, beta); c = 1 is the sBG. params_: alpha, beta, c."""

    _core_class = _core.BetaDiscreteWeibullModel
