"""The buy-till-you-die fitters with lifetimes' names, on the crmkit C++ core (crmkit/value/models.hpp).

``BetaGeoFitter``, ``ModifiedBetaGeoFitter``, ``ParetoNBDFitter``, ``BetaGeoBetaBinomFitter`` and
``GammaGammaFitter`` take the arguments of their lifetimes namesakes (fit's ``initial_params``,
``verbose``, ``tol``, ``index``, ``iterative_fitting``; Gamma-Gamma's ``q_constraint``) and offer
the same attributes (``params_``, ``summary``, ``data``, ``standard_errors_``,
``confidence_intervals_``, ``variance_matrix_``) and prediction methods, so that ``from crmkit
import BetaGeoFitter`` replaces the lifetimes import; docs/lifetimes-compat.md lists every name
and each deliberate difference with both numbers. These classes only convert: every likelihood, fit and prediction is computed in
C++ with the GIL released.

Differences from lifetimes, on purpose:
  - ``log_likelihood_`` is the total (weighted) log-likelihood at the fitted parameters (-9582.4
    for BG/NBD on CDNOW), and ``fit_report_`` says how the optimiser ended. A fit that does not
    converge warns with crmkit.ConvergenceWarning and keeps its report (lifetimes raises).
  - ``initial_params`` are natural-scale (positive) parameters in ``params_`` order.
  - ``tol`` is the optimiser's relative tolerance on the objective and log-parameters (1e-10).
  - ``variance_matrix_`` is the symmetric delta-method covariance; lifetimes' has the same
    diagonal but scales column j by params_[j]^2 (not symmetric).
  - ``conditional_probability_alive_matrix`` leaves the impossible cells (frequency 0, recency
    > 0) NaN, as every method refuses those histories (lifetimes evaluates its formulas there).
  - Inputs are checked, not coerced: a non-integer frequency, recency > T or columns of different
    lengths raise crmkit.ValidationError naming the argument (lifetimes truncates or broadcasts).

Inputs may be pandas Series, numpy arrays, pyarrow Arrays / ChunkedArrays (float64 in one chunk
without nulls is read without a copy; a null raises crmkit.ValidationError naming the argument
and row), lists or scalars. A prediction returns a pandas Series with the index of the first
Series among its inputs, a numpy array for other array input, and a float when every input is a
scalar. ``output=`` asks for one type instead: "pandas" (a Series: the index of the first Series
input, else 0..n-1), "numpy" (a float64 array) or "pyarrow" (a float64 pyarrow Array over the
result's buffer, rows in input order: no id column, append it to your table); with output given,
scalar inputs give a column of length 1 (docs/arrow.md).
"""

from __future__ import annotations

import pickle
import warnings
from typing import Any

import numpy as np
import pandas as pd

from . import _arrow, _core
from ._uncertainty import DiscreteIntervals, SpendIntervals, TransactionIntervals
from .errors import ValidationError

__all__ = [
    "ConvergenceWarning",
    "BetaGeoFitter",
    "ModifiedBetaGeoFitter",
    "ParetoNBDFitter",
    "BetaGeoBetaBinomFitter",
    "GammaGammaFitter",
]

_Z95 = 1.96  # two-sided 95% normal quantile, as lifetimes uses

# The saved form of a fitter (save_model, pickle): a dict with this format name and version.
# Bump the version when the dict changes; load_model refuses versions it does not know.
_SAVED_FORMAT = "crmkit.fitter"
_SAVED_VERSION = 1


class ConvergenceWarning(UserWarning):
    """A fit ended without converging; the fitter's ``fit_report_`` says how it ended."""


# ---- conversions ----------------------------------------------------------------------------


def _as_column(value: Any, name: str) -> tuple[np.ndarray, pd.Index | None, bool]:
    """(1-D float64 array, the Series' index or None, whether the value was a scalar)."""
    if _arrow.is_column(value):  # float64 in one chunk: not copied; a null is refused
        return _arrow.to_numpy(value, name, np.float64), None, False
    if _arrow.is_table(value):
        raise ValidationError(f"{name}: expected a column (Array, Series, list or number), got a "
                              f"pyarrow {type(value).__name__}")
    index = value.index if isinstance(value, pd.Series) else None
    if isinstance(value, pd.DataFrame):
        raise ValidationError(f"{name}: expected a column (Series, array, list or number), got a DataFrame")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValidationError(
            f"{name}: expected numbers, got {type(value).__name__} that cannot be read as float64"
        ) from None
    if arr.ndim == 0:
        return arr.reshape(1), None, True
    if arr.ndim != 1:
        raise ValidationError(f"{name}: must be 1-dimensional, got shape {arr.shape}")
    return np.ascontiguousarray(arr), index, False


class _Columns:
    """Named inputs as equal-length float64 columns: scalars are repeated to the length of the
    array inputs; arrays of different lengths are passed through for the core to refuse."""

    def __init__(self, **named: Any) -> None:
        converted = {name: _as_column(value, name) for name, value in named.items()}
        self.index = next((ix for _, ix, _ in converted.values() if ix is not None), None)
        self.scalar = all(s for _, _, s in converted.values())
        lengths = [len(a) for a, _, s in converted.values() if not s]
        n = lengths[0] if lengths else 1
        self.values = {
            name: (np.full(n, a[0]) if s else a) for name, (a, _, s) in converted.items()
        }

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]

    def wrap(self, result: np.ndarray, name: str | None = None, output: str | None = None) -> Any:
        if output == "numpy":
            return result
        if output == "pyarrow":
            return _arrow.array(result)
        if output == "pandas":
            index = self.index if self.index is not None and len(self.index) == len(result) \
                else None
            return pd.Series(result, index=index, name=name, copy=False)
        if self.scalar:
            return float(result[0])
        if self.index is not None and len(self.index) == len(result):
            # result is a fresh array from the core: wrap it without pandas' defensive copy
            return pd.Series(result, index=self.index, name=name, copy=False)
        return result


def _per_time(
    cols: _Columns, time_name: str, call: Any, *names: str
) -> np.ndarray:
    """Calls call(t, *columns) once per distinct value of the time column (the core takes one
    horizon per call) and assembles the results in input order."""
    t = cols[time_name]
    args = [cols[n] for n in names]
    distinct = np.unique(t)
    if len(distinct) == 1:
        return call(float(distinct[0]), *args)
    out = np.empty(len(t), dtype=np.float64)
    for value in distinct:
        mask = t == value
        out[mask] = call(float(value), *(np.ascontiguousarray(a[mask]) for a in args))
    return out


def _fit_options(tol: float, kwargs: dict[str, Any]) -> dict[str, Any]:
    options: dict[str, Any] = {"tolerance": float(tol)}
    for key in ("max_iterations", "maxiter"):
        if key in kwargs:
            options["max_iterations"] = int(kwargs.pop(key))
    if kwargs:
        raise TypeError(
            "fit() got unexpected keyword arguments: " + ", ".join(sorted(kwargs))
            + " (crmkit's fit takes max_iterations; it has no scipy options)"
        )
    return options


def _initial(initial_params: Any, names: tuple[str, ...]) -> list[float]:
    if initial_params is None:
        return []
    if isinstance(initial_params, (dict, pd.Series)):
        missing = [n for n in names if n not in initial_params]
        if missing:
            raise ValidationError(f"initial_params: missing {', '.join(missing)}")
        initial_params = [initial_params[n] for n in names]
    return [float(v) for v in np.asarray(initial_params, dtype=np.float64).ravel()]


def _check_iterative(iterative_fitting: Any) -> int:
    if isinstance(iterative_fitting, bool) or not isinstance(iterative_fitting, (int, np.integer)):
        raise ValidationError(
            f"iterative_fitting: expected an integer >= 1, got {iterative_fitting!r}")
    if iterative_fitting < 1:
        raise ValidationError(
            f"iterative_fitting: must be >= 1 (the number of fits), got {iterative_fitting}")
    return int(iterative_fitting)


def _best_of(fit_from: Any, initial: list[float], iterative_fitting: int, verbose: bool,
             name: str) -> Any:
    """lifetimes' iterative_fitting: ``iterative_fitting`` fits, the first from ``initial`` (the
    default start if empty), each next one from the best parameters so far multiplied by
    exp(N(0, 0.5)) per parameter (numpy's global random state, as lifetimes draws its starts,
    so numpy.random.seed makes it repeatable); keeps the fit with the largest log-likelihood
    among the converged ones (among all if none converged)."""
    best = fit_from(initial)
    for k in range(1, iterative_fitting):
        start = np.asarray(best.params, dtype=np.float64)
        start = start * np.exp(np.random.normal(0.0, 0.5, size=start.size))
        model = fit_from([float(v) for v in start])
        if verbose:
            print(f"{name}: fit {k + 1} of {iterative_fitting} from "
                  f"{np.array2string(start, precision=4)}: log-likelihood "
                  f"{model.report.log_likelihood:.6f}, converged={model.report.converged}")
        better = model.report.log_likelihood > best.report.log_likelihood
        if (model.report.converged and (better or not best.report.converged)) or (
                not best.report.converged and not model.report.converged and better):
            best = model
    return best


# ---- the fitters ----------------------------------------------------------------------------


class _BaseFitter:
    _core_class: Any = None

    def __init__(self, penalizer_coef: float = 0.0, *,
                 impossible_histories: str = "reject") -> None:
        self.penalizer_coef = penalizer_coef
        self.impossible_histories = impossible_histories
        self._model: Any = None
        self._data: pd.DataFrame | None = None
        self._data_parts: tuple[Any, ...] | None = None  # (columns, weights, index) until built
        self._se: list[float] | None = None  # standard errors, once computed
        self._se_rows: tuple[Any, ...] | None = None  # (x, recency, T, weights, penalizer)
        self._variance: list[float] | None = None  # variance_matrix_ (row-major), once computed

    @property
    def impossible_histories(self) -> str:
        """How the prediction methods, the P(alive) matrix and the matrix plots treat histories
        with frequency 0 and recency > 0, which no model can produce: "reject" (the default:
        ValidationError naming the row; NaN cells in the matrices) or "evaluate" (the model's
        formulas evaluated there, lifetimes' answer; docs/lifetimes-compat.md, difference 4)."""
        return self._impossible_histories

    @impossible_histories.setter
    def impossible_histories(self, value: str) -> None:
        if value not in ("reject", "evaluate"):
            raise ValidationError(
                f'impossible_histories: must be "reject" or "evaluate", got {value!r}')
        self._impossible_histories = value

    # -- the fitted data, built on first access --

    @property
    def data(self) -> pd.DataFrame | None:
        """The rows of the last fit (one column per input and weights), or None before a fit.
        Built on first access, from copies taken at fit time."""
        if self._data is None and self._data_parts is not None:
            self._data = self._data_frame(*self._data_parts)
            self._data_parts = None
        return self._data

    @data.setter
    def data(self, value: pd.DataFrame | None) -> None:
        self._data, self._data_parts = value, None

    def _keep_data(self, columns: dict[str, np.ndarray], weights: np.ndarray | None,
                   index: Any) -> None:
        """Keeps private copies of the fitted columns for `data` and lazy standard errors."""
        self._data = None
        self._data_parts = ({k: np.array(v, dtype=np.float64) for k, v in columns.items()},
                            None if weights is None else np.array(weights, dtype=np.float64),
                            index)

    # -- parameters and fit results --

    def _fitted(self) -> Any:
        if self._model is None:
            raise ValidationError(f"{type(self).__name__} is not fitted: call fit() first")
        return self._model

    @property
    def params_(self) -> pd.Series:
        """The parameters as a Series indexed by name (lifetimes' order)."""
        if self._model is None:
            raise AttributeError(f"params_: {type(self).__name__} is not fitted: call fit() first")
        return pd.Series(self._model.params, index=list(self._core_class.param_names),
                         dtype=np.float64)

    @params_.setter
    def params_(self, values: Any) -> None:
        """Sets known parameters (a Series or dict by name, or a sequence in order); predictions
        then use them. The fit report and standard errors are cleared."""
        names = self._core_class.param_names
        if isinstance(values, (dict, pd.Series)):
            missing = [n for n in names if n not in values]
            if missing:
                raise ValidationError(f"params_: missing {', '.join(missing)}")
            values = [values[n] for n in names]
        self._model = self._core_class([float(v) for v in values])
        self._se, self._se_rows, self._variance = None, None, None

    @property
    def standard_errors_(self) -> pd.Series:
        """Delta-method standard errors (NaN when the Hessian is not negative definite; the fit
        is then reported as not converged, with a ConvergenceWarning)."""
        model = self._fitted()
        if self._se is None:
            if self._se_rows is not None:  # fitted without them: computed now, once
                x, tx, t_, w, penalizer = self._se_rows
                # The core gives the model with them, and its report: not converged if any is
                # NaN (crmkit/value/models.hpp, "Degenerate fits").
                self._model = model = model.with_standard_errors(x, tx, t_, w, penalizer=penalizer)
                self._se_rows = None
                if np.isnan(np.asarray(model.standard_errors, dtype=np.float64)).any():
                    self._warn_not_converged(model.report, stacklevel=3)
            self._se = list(model.standard_errors)
        return pd.Series(self._se, index=list(self._core_class.param_names), dtype=np.float64)

    @property
    def variance_matrix_(self) -> pd.DataFrame:
        """The delta-method covariance matrix of params_ on the fitted data (with the fit's
        penalizer), a DataFrame indexed and labelled by parameter name; its diagonal is
        standard_errors_ squared. lifetimes' matrix has the same diagonal but scales column j
        by params_[j]^2 where the covariance scales entry (i, j) by params_[i] * params_[j]
        (lifetimes' matrix is not symmetric; docs/lifetimes-compat.md). Needs the fitted data:
        a fitter saved with save_data=False keeps the matrix it had when saved."""
        model = self._fitted()
        names = list(self._core_class.param_names)
        k = len(names)
        if self._variance is None:
            data = getattr(self, "data", None)
            if not isinstance(data, pd.DataFrame):
                raise ValidationError(
                    "variance_matrix_: needs the fitted data (this model was not fitted here, "
                    "or was saved without its data)")
            columns = [np.ascontiguousarray(data[c], dtype=np.float64)
                       for c in data.columns if c != "weights"]
            weights = np.ascontiguousarray(data["weights"], dtype=np.float64)
            self._variance = [float(v) for v in model.covariance(
                *columns, weights, penalizer=float(self.penalizer_coef))]
        return pd.DataFrame(np.array(self._variance, dtype=np.float64).reshape(k, k),
                            index=names, columns=names)

    @property
    def confidence_intervals_(self) -> pd.DataFrame:
        """95% bounds params_ -/+ 1.96 standard errors, as lifetimes."""
        p, se = self.params_, self.standard_errors_
        return pd.DataFrame(
            {"lower 95% bound": p - _Z95 * se, "upper 95% bound": p + _Z95 * se}, index=p.index
        )

    @property
    def summary(self) -> pd.DataFrame:
        """coef, se(coef), lower 95% bound, upper 95% bound per parameter."""
        ci = self.confidence_intervals_
        df = pd.DataFrame(index=self.params_.index)
        df["coef"] = self.params_
        df["se(coef)"] = self.standard_errors_
        df["lower 95% bound"] = ci["lower 95% bound"]
        df["upper 95% bound"] = ci["upper 95% bound"]
        return df

    @property
    def fit_report_(self) -> Any:
        """crmkit.FitReport: converged, iterations, log_likelihood, gradient_norm, message."""
        return self._fitted().report

    @property
    def log_likelihood_(self) -> float:
        """The total weighted log-likelihood at the fitted parameters."""
        return float(self._fitted().report.log_likelihood)

    def __repr__(self) -> str:
        name = type(self).__name__
        if self._model is None:
            return f"<crmkit.{name}>"
        subjects = ""
        shape = getattr(getattr(self, "data", None), "shape", None)
        if shape:  # lifetimes' rule: a data value without a shape (values_to_save) names none
            subjects = f" fitted with {shape[0]:d} subjects,"
        params = ", ".join(f"{k}: {v:.2f}" for k, v in sorted(self.params_.items()))
        return f"<crmkit.{name}:{subjects} {params}>"

    def _finish_fit(self, model: Any, verbose: bool) -> None:
        self._model = model
        self._se = None
        self._variance = None
        report = model.report
        if verbose:
            print(
                f"{type(self).__name__}: converged={report.converged}, "
                f"iterations={report.iterations}, log-likelihood={report.log_likelihood:.4f}, "
                f"gradient norm={report.gradient_norm:.3g}; {report.message}"
            )
        if not report.converged:
            self._warn_not_converged(report, stacklevel=4)

    def _warn_not_converged(self, report: Any, stacklevel: int) -> None:
        warnings.warn(
            ConvergenceWarning(
                f"{type(self).__name__}.fit did not converge: {report.message} "
                f"(gradient norm {report.gradient_norm:.3g} after {report.iterations} "
                "evaluations); see fit_report_. A larger penalizer_coef may help."
            ),
            stacklevel=stacklevel,
        )

    # -- pickling, copying, saving --

    def _state(self, save_data: bool = True, data_value: Any = None) -> dict[str, Any]:
        """The fitter as plain values: format and version, class, penalizer, and (once fitted)
        params_, standard errors and the fit report; with the fitted data unless save_data is
        False (then ``data_value`` stands in for it)."""
        state: dict[str, Any] = {
            "format": _SAVED_FORMAT,
            "version": _SAVED_VERSION,
            "class": type(self).__name__,
            "penalizer_coef": self.penalizer_coef,
            "impossible_histories": self.impossible_histories,
            "params": None,
            "standard_errors": None,
            "report": None,
        }
        model = self._model
        if model is not None:
            report = model.report
            state["params"] = [float(v) for v in model.params]
            state["standard_errors"] = [float(v) for v in model.standard_errors]
            state["report"] = {
                "converged": bool(report.converged),
                "iterations": int(report.iterations),
                "log_likelihood": float(report.log_likelihood),
                "gradient_norm": float(report.gradient_norm),
                "message": str(report.message),
            }
        state["covariance"] = getattr(self, "_variance", None)
        if save_data:
            state["data"] = self._data
            state["data_parts"] = self._data_parts
            state["se"] = self._se
            state["se_rows"] = self._se_rows
        else:
            if model is not None and state["covariance"] is None and self.data is not None:
                try:  # kept: neither can be computed without the data
                    self.standard_errors_
                    self.variance_matrix_
                except ValidationError:
                    pass
                state["covariance"] = self._variance
                state["standard_errors"] = [float(v) for v in self._model.standard_errors]
                state["report"]["converged"] = bool(self._model.report.converged)
                state["report"]["message"] = str(self._model.report.message)
            state["data"], state["data_parts"] = data_value, None
            # Without the data, standard errors not yet computed cannot be computed later.
            state["se"], state["se_rows"] = self._se, None
        return state

    def _restore(self, state: Any, source: str) -> None:
        """Sets this fitter from _state(); ValidationError naming ``source`` for anything that is
        not a saved crmkit fitter of a known version and of this class."""
        if not isinstance(state, dict) or state.get("format") != _SAVED_FORMAT:
            raise ValidationError(f"{source}: is not a saved crmkit model")
        version = state.get("version")
        if version != _SAVED_VERSION:
            raise ValidationError(
                f"{source}: saved model format version {version!r} is not supported (this "
                f"crmkit reads version {_SAVED_VERSION})"
            )
        if state.get("class") != type(self).__name__:
            raise ValidationError(
                f"{source}: holds a {state.get('class')}, not a {type(self).__name__}"
            )
        model = None
        if state["params"] is not None:
            r = state["report"]
            report = _core.FitReport(
                converged=r["converged"], iterations=r["iterations"],
                log_likelihood=r["log_likelihood"], gradient_norm=r["gradient_norm"],
                message=r["message"],
            )
            model = self._core_class(state["params"], state["standard_errors"], report)
        self.penalizer_coef = state["penalizer_coef"]
        self.impossible_histories = state.get("impossible_histories", "reject")
        self._model = model
        self._data = state["data"]
        self._data_parts = state["data_parts"]
        self._se = state["se"]
        self._se_rows = state["se_rows"]
        self._variance = state.get("covariance")

    def __getstate__(self) -> dict[str, Any]:
        return self._state()

    def __setstate__(self, state: Any) -> None:
        self._restore(state, "pickled state")

    def save_model(self, path: Any, save_data: bool = True,
                   save_generating_function: bool = False, values_to_save: Any = None) -> None:
        """Saves the fitter to ``path`` (lifetimes' name and arguments): params_, the standard
        errors and fit_report_, with a format version; the fitted data too unless
        ``save_data`` is False. ``values_to_save`` (a one-element sequence, as lifetimes takes
        one value per dropped attribute) is what stands in for the dropped data (default None).
        ``save_generating_function`` is accepted for lifetimes' signature; crmkit fitters have
        no generating function, so it changes nothing. The file is a pickle: load only files
        you trust."""
        data_value = None
        if not save_data and values_to_save is not None:
            values = list(values_to_save)
            if len(values) != 1:
                raise ValidationError(
                    "values_to_save: expected one value (for the dropped data), got "
                    f"{len(values)}"
                )
            data_value = values[0]
        with open(path, "wb") as f:
            pickle.dump(self._state(save_data, data_value), f, protocol=pickle.HIGHEST_PROTOCOL)

    def load_model(self, path: Any) -> None:
        """Replaces this fitter's state with the one save_model wrote to ``path`` (lifetimes'
        name: ``BetaGeoFitter().load_model(path)``). Raises crmkit.ValidationError naming the
        path for a file that is not a saved crmkit model, a format version this crmkit does not
        know, or a model of another class. Unpickles the file: load only files you trust."""
        with open(path, "rb") as f:
            try:
                state = pickle.load(f)
            except (pickle.UnpicklingError, EOFError, AttributeError, ImportError,
                    IndexError, TypeError, ValueError) as exc:
                raise ValidationError(f"{path}: is not a saved crmkit model ({exc})") from None
        self._restore(state, str(path))

    def _data_frame(self, columns: dict[str, np.ndarray], weights: np.ndarray | None,
                    index: Any) -> pd.DataFrame:
        n = len(next(iter(columns.values())))
        data = dict(columns)
        data["weights"] = np.ones(n, dtype=np.int64) if weights is None else weights
        return pd.DataFrame(data, index=index)


class _TransactionFitter(TransactionIntervals, _BaseFitter):
    """BG/NBD, MBG/NBD and Pareto/NBD: continuous time, columns frequency, recency, T."""

    def fit(
        self,
        frequency: Any,
        recency: Any,
        T: Any,
        weights: Any = None,
        initial_params: Any = None,
        verbose: bool = False,
        tol: float = 1e-10,
        index: Any = None,
        iterative_fitting: int = 1,
        **kwargs: Any,
    ) -> "_TransactionFitter":
        """Fits by maximum likelihood and returns self. frequency (repeat purchases), recency
        (age at the last purchase) and T (age) are columns of one length, recency and T in one
        time unit; weights (optional) count each row. Raises crmkit.ValidationError naming the
        argument for malformed columns; warns with ConvergenceWarning if the fit does not
        converge. iterative_fitting (lifetimes' keyword): the number of fits, each after the
        first from the best parameters so far, perturbed; the best is kept (see _best_of).
        verbose prints how each fit ended; index sets the index of ``data``."""
        options = _fit_options(tol, kwargs)
        runs = _check_iterative(iterative_fitting)
        x, _, _ = _as_column(frequency, "frequency")
        tx, _, _ = _as_column(recency, "recency")
        t_, _, _ = _as_column(T, "T")
        w = None if weights is None else _as_column(weights, "weights")[0]
        # Standard errors come with the fit: the optimiser evaluates the Hessian at its end point
        # anyway (to decide whether to probe for a boundary maximum), so they cost next to
        # nothing there, where computing them on first read would compress the rows again.
        penalizer = float(self.penalizer_coef)
        model = _best_of(
            lambda start: self._core_class.fit(x, tx, t_, w, penalizer=penalizer, initial=start,
                                               **options),
            _initial(initial_params, self._core_class.param_names), runs, verbose,
            type(self).__name__)
        self._keep_data({"frequency": x, "recency": tx, "T": t_}, w, index)
        self._finish_fit(model, verbose)
        return self

    def _history(self, frequency: Any, recency: Any, T: Any) -> dict[str, Any]:
        given = [v is None for v in (frequency, recency, T)]
        if all(given):
            data = getattr(self, "data", None)
            if data is None:
                raise ValidationError(
                    "frequency: required when the model holds no fitted data (pass frequency, "
                    "recency and T)"
                )
            return {"frequency": data["frequency"], "recency": data["recency"], "T": data["T"]}
        if any(given):
            missing = [n for n, g in zip(("frequency", "recency", "T"), given) if g]
            raise ValidationError(f"{missing[0]}: pass frequency, recency and T together")
        return {"frequency": frequency, "recency": recency, "T": T}

    def conditional_probability_alive(
        self, frequency: Any = None, recency: Any = None, T: Any = None, *,
        output: str | None = None,
    ) -> Any:
        """P(alive at T) for customers with history (frequency, recency, T); None = the fitted
        data. ``output``: None, "pandas", "numpy" or "pyarrow" (module docstring)."""
        output = _arrow.check_output(output)
        model = self._fitted()
        cols = _Columns(**self._history(frequency, recency, T))
        return cols.wrap(
            model.conditional_probability_alive(cols["frequency"], cols["recency"], cols["T"],
                                                impossible_histories=self.impossible_histories),
            output=output,
        )

    def conditional_expected_number_of_purchases_up_to_time(
        self, t: Any, frequency: Any = None, recency: Any = None, T: Any = None, *,
        output: str | None = None,
    ) -> Any:
        """Expected repeat purchases in the next t time units for customers with history
        (frequency, recency, T); None = the fitted data. t may be a number or a column.
        ``output``: None, "pandas", "numpy" or "pyarrow" (module docstring)."""
        output = _arrow.check_output(output)
        model = self._fitted()
        if (not _arrow.is_arrow(t) and np.ndim(t) == 0
                and not isinstance(t, pd.Series)):  # one horizon: one call
            cols = _Columns(**self._history(frequency, recency, T))
            t_value = _as_column(t, "t")[0][0]
            return cols.wrap(model.conditional_expected_number_of_purchases_up_to_time(
                float(t_value), cols["frequency"], cols["recency"], cols["T"],
                impossible_histories=self.impossible_histories), output=output)
        cols = _Columns(t=t, **self._history(frequency, recency, T))
        rule = self.impossible_histories
        out = _per_time(
            cols, "t",
            lambda t_, x, tx, T_: model.conditional_expected_number_of_purchases_up_to_time(
                t_, x, tx, T_, impossible_histories=rule),
            "frequency", "recency", "T",
        )
        return cols.wrap(out, output=output)

    def predict(self, t: Any, frequency: Any = None, recency: Any = None, T: Any = None, *,
                output: str | None = None) -> Any:
        """Alias of conditional_expected_number_of_purchases_up_to_time."""
        return self.conditional_expected_number_of_purchases_up_to_time(
            t, frequency, recency, T, output=output)

    def conditional_probability_alive_matrix(self, max_frequency: Any = None,
                                             max_recency: Any = None) -> np.ndarray:
        """lifetimes' matrix: element [recency, frequency] is P(alive) of a customer with that
        frequency (0..max_frequency) and recency (0..max_recency) whose age T is max_recency; an
        array of shape (max_recency + 1, max_frequency + 1). max_frequency defaults to the
        largest fitted frequency, max_recency to the largest fitted T (both cut to integers).

        Cells with frequency 0 and recency > 0 are histories the models cannot produce: they are
        NaN, or with impossible_histories="evaluate" the formula's value there, as lifetimes
        fills them (1 for BG/NBD, other values for MBG/NBD and Pareto/NBD;
        docs/lifetimes-compat.md)."""
        model = self._fitted()
        if max_frequency is None or max_recency is None:
            data = getattr(self, "data", None)
            if data is None:
                raise ValidationError(
                    "max_frequency: required when the model holds no fitted data")
            if max_frequency is None:
                max_frequency = int(data["frequency"].max())
            if max_recency is None:
                max_recency = int(data["T"].max())
        max_frequency, max_recency = int(max_frequency), int(max_recency)
        if max_frequency < 0 or max_recency < 0:
            raise ValidationError("max_frequency, max_recency: must be >= 0")
        recency, frequency = np.meshgrid(np.arange(max_recency + 1, dtype=np.float64),
                                         np.arange(max_frequency + 1, dtype=np.float64),
                                         indexing="ij")
        valid = (frequency > 0) | (recency == 0) | (self.impossible_histories == "evaluate")
        out = np.full(recency.shape, np.nan)
        x, tx = frequency[valid], recency[valid]
        out[valid] = model.conditional_probability_alive(
            np.ascontiguousarray(x), np.ascontiguousarray(tx), np.full(x.size, float(max_recency)),
            impossible_histories=self.impossible_histories)
        return out

    def expected_number_of_purchases_up_to_time(self, t: Any, *,
                                                output: str | None = None) -> Any:
        """Expected purchases of a new customer in (0, t], for each t."""
        output = _arrow.check_output(output)
        model = self._fitted()
        cols = _Columns(t=t)
        return cols.wrap(model.expected_number_of_purchases_up_to_time(cols["t"]), output=output)


class _ProbabilityOfN:
    def probability_of_n_purchases_up_to_time(self, t: Any, n: Any, *,
                                              output: str | None = None) -> Any:
        """P(a new customer makes exactly n purchases in (0, t])."""
        output = _arrow.check_output(output)
        model = self._fitted()  # type: ignore[attr-defined]
        cols = _Columns(t=t, n=n)
        out = np.array(
            [model.probability_of_n_purchases_up_to_time(float(a), float(b))
             for a, b in zip(cols["t"], cols["n"])],
            dtype=np.float64,
        )
        return cols.wrap(out, output=output)


class BetaGeoFitter(_ProbabilityOfN, _TransactionFitter):
    """BG/NBD (Fader, Hardie, Lee 2005). params_: r, alpha, a, b."""

    _core_class = _core.BetaGeoModel


class ModifiedBetaGeoFitter(_ProbabilityOfN, _TransactionFitter):
    """MBG/NBD (Batislam et al. 2007): BG/NBD where a customer may also drop out right after the
    first purchase. params_: r, alpha, a, b."""

    _core_class = _core.ModifiedBetaGeoModel


class ParetoNBDFitter(_ProbabilityOfN, _TransactionFitter):
    """Pareto/NBD (Schmittlein, Morrison, Colombo 1987). params_: r, alpha, s, beta."""

    _core_class = _core.ParetoNBDModel

    def conditional_probability_of_n_purchases_up_to_time(
        self, n: Any, t: Any, frequency: Any = None, recency: Any = None, T: Any = None, *,
        output: str | None = None,
    ) -> Any:
        """P(exactly n purchases in the next t time units) for customers with history
        (frequency, recency, T); None = the fitted data. n: a non-negative integer; t: a number.
        Summed over n it is 1; its mean is conditional_expected_number_of_purchases_up_to_time.
        lifetimes' argument order. ``output``: None, "pandas", "numpy" or "pyarrow"."""
        output = _arrow.check_output(output)
        model = self._fitted()
        n_values, t_values = _as_column(n, "n")[0], _as_column(t, "t")[0]
        if n_values.size != 1:
            raise ValidationError(f"n: must be one number, got {n_values.size} values")
        if t_values.size != 1:
            raise ValidationError(f"t: must be one number, got {t_values.size} values")
        n_value, t_value = n_values[0], t_values[0]
        cols = _Columns(**self._history(frequency, recency, T))
        return cols.wrap(model.conditional_probability_of_n_purchases_up_to_time(
            float(n_value), float(t_value), cols["frequency"], cols["recency"], cols["T"],
            impossible_histories=self.impossible_histories), output=output)


class BetaGeoBetaBinomFitter(DiscreteIntervals, _BaseFitter):
    """BG/BB (Fader, Hardie, Shang 2010), discrete time. params_: alpha, beta, gamma, delta.

    Data: frequency (repeat transactions), recency (the period of the last one, 0 if none) and
    n_periods (transaction opportunities), all integers.
    """

    _core_class = _core.BetaGeoBetaBinomModel

    def fit(
        self,
        frequency: Any,
        recency: Any,
        n_periods: Any,
        weights: Any = None,
        initial_params: Any = None,
        verbose: bool = False,
        tol: float = 1e-10,
        index: Any = None,
        iterative_fitting: int = 1,
        **kwargs: Any,
    ) -> "BetaGeoBetaBinomFitter":
        """Fits by maximum likelihood and returns self; weights count each (compressed) row.
        iterative_fitting, verbose, index: as BetaGeoFitter.fit."""
        options = _fit_options(tol, kwargs)
        runs = _check_iterative(iterative_fitting)
        x, _, _ = _as_column(frequency, "frequency")
        tx, _, _ = _as_column(recency, "recency")
        n, _, _ = _as_column(n_periods, "n_periods")
        w = None if weights is None else _as_column(weights, "weights")[0]
        model = _best_of(
            lambda start: self._core_class.fit(x, tx, n, w, penalizer=float(self.penalizer_coef),
                                               initial=start, **options),
            _initial(initial_params, self._core_class.param_names), runs, verbose,
            type(self).__name__)
        self._keep_data({"frequency": x, "recency": tx, "n_periods": n}, w, index)
        self._finish_fit(model, verbose)
        return self

    def _history(self, frequency: Any, recency: Any, n_periods: Any) -> dict[str, Any]:
        given = [v is None for v in (frequency, recency, n_periods)]
        if all(given):
            data = getattr(self, "data", None)
            if data is None:
                raise ValidationError(
                    "frequency: required when the model holds no fitted data (pass frequency, "
                    "recency and n_periods)"
                )
            return {"frequency": data["frequency"], "recency": data["recency"],
                    "n_periods": data["n_periods"]}
        if any(given):
            missing = [n for n, g in zip(("frequency", "recency", "n_periods"), given) if g]
            raise ValidationError(f"{missing[0]}: pass frequency, recency and n_periods together")
        return {"frequency": frequency, "recency": recency, "n_periods": n_periods}

    def conditional_expected_number_of_purchases_up_to_time(
        self, m_periods_in_future: Any, frequency: Any = None, recency: Any = None,
        n_periods: Any = None, *, output: str | None = None,
    ) -> Any:
        """Expected transactions in periods n+1 .. n+m given the history; None = fitted data."""
        output = _arrow.check_output(output)
        model = self._fitted()
        cols = _Columns(m_periods_in_future=m_periods_in_future,
                        **self._history(frequency, recency, n_periods))
        rule = self.impossible_histories
        out = _per_time(
            cols, "m_periods_in_future",
            lambda m, x, tx, n: model.conditional_expected_number_of_purchases_up_to_time(
                m, x, tx, n, impossible_histories=rule),
            "frequency", "recency", "n_periods",
        )
        return cols.wrap(out, output=output)

    def predict(self, m_periods_in_future: Any, frequency: Any = None, recency: Any = None,
                n_periods: Any = None, *, output: str | None = None) -> Any:
        """Alias of conditional_expected_number_of_purchases_up_to_time."""
        return self.conditional_expected_number_of_purchases_up_to_time(
            m_periods_in_future, frequency, recency, n_periods, output=output)

    def conditional_probability_alive(
        self, m_periods_in_future: Any, frequency: Any = None, recency: Any = None,
        n_periods: Any = None, *, output: str | None = None,
    ) -> Any:
        """P(alive at period n + m_periods_in_future) given the history; None = fitted data."""
        output = _arrow.check_output(output)
        model = self._fitted()
        cols = _Columns(m_periods_in_future=m_periods_in_future,
                        **self._history(frequency, recency, n_periods))

        def call(m: float, x: np.ndarray, tx: np.ndarray, n: np.ndarray) -> np.ndarray:
            return model.conditional_probability_alive(
                x, tx, n, m, impossible_histories=self.impossible_histories)

        out = _per_time(cols, "m_periods_in_future", call, "frequency", "recency", "n_periods")
        return cols.wrap(out, output=output)

    def expected_number_of_transactions_in_first_n_periods(self, n: Any) -> pd.DataFrame:
        """lifetimes' table: for each frequency x seen in the fitted data, the expected number of
        customers (of the fitted total weight) with exactly x transactions in the first n
        periods; a DataFrame with column "model" indexed by "frequency"."""
        model = self._fitted()
        data = getattr(self, "data", None)
        if data is None:
            raise ValidationError("n: needs the fitted data (call fit first)")
        counts = data.groupby("frequency")["weights"].sum()
        total = float(counts.sum())
        n_value = float(n)
        probs = [model.probability_of_n_purchases_up_to_time(n_value, float(x))
                 for x in counts.index]
        idx = pd.Index(counts.index, name="frequency")
        return pd.DataFrame({"model": np.asarray(probs) * total}, index=idx)

    def expected_number_of_purchases_up_to_time(self, n_periods: Any, *,
                                                output: str | None = None) -> Any:
        """E[X(n)]: expected transactions of a new customer in the first n periods."""
        output = _arrow.check_output(output)
        model = self._fitted()
        cols = _Columns(n_periods=n_periods)
        return cols.wrap(model.expected_number_of_transactions_in_first_n_periods(
            cols["n_periods"]), output=output)

    def probability_of_n_purchases_up_to_time(self, n_periods: Any, n: Any, *,
                                              output: str | None = None) -> Any:
        """P(a new customer makes exactly n transactions in the first n_periods periods)."""
        output = _arrow.check_output(output)
        model = self._fitted()
        cols = _Columns(n_periods=n_periods, n=n)
        out = np.array(
            [model.probability_of_n_purchases_up_to_time(float(a), float(b))
             for a, b in zip(cols["n_periods"], cols["n"])],
            dtype=np.float64,
        )
        return cols.wrap(out, output=output)


class GammaGammaFitter(SpendIntervals, _BaseFitter):
    """Gamma-Gamma spend model (Fader, Hardie, Lee 2005). params_: p, q, v.

    Fit on customers with at least one repeat purchase (frequency > 0), as lifetimes requires.
    """

    _core_class = _core.GammaGammaModel

    def fit(
        self,
        frequency: Any,
        monetary_value: Any,
        weights: Any = None,
        initial_params: Any = None,
        verbose: bool = False,
        tol: float = 1e-10,
        index: Any = None,
        q_constraint: bool = False,
        iterative_fitting: int = 1,
        **kwargs: Any,
    ) -> "GammaGammaFitter":
        """Fits by maximum likelihood and returns self. Every frequency must be >= 1 and every
        monetary_value > 0 (filter first). q_constraint (lifetimes' meaning): maximise over
        q >= 1, so that the population mean spend p v / (q - 1) exists; where the unconstrained
        maximum has q < 1, q is held at exactly 1 and p, v fitted (as lifetimes' bounded
        optimiser ends), and fit_report_.message says so. iterative_fitting, verbose, index: as
        BetaGeoFitter.fit."""
        if not isinstance(q_constraint, (bool, np.bool_)):
            raise ValidationError(f"q_constraint: expected True or False, got {q_constraint!r}")
        options = _fit_options(tol, kwargs)
        runs = _check_iterative(iterative_fitting)
        x, _, _ = _as_column(frequency, "frequency")
        mv, _, _ = _as_column(monetary_value, "monetary_value")
        w = None if weights is None else _as_column(weights, "weights")[0]
        model = _best_of(
            lambda start: self._core_class.fit(x, mv, w, penalizer=float(self.penalizer_coef),
                                               initial=start, q_constraint=bool(q_constraint),
                                               **options),
            _initial(initial_params, self._core_class.param_names), runs, verbose,
            type(self).__name__)
        self._keep_data({"frequency": x, "monetary_value": mv}, w, index)
        self._finish_fit(model, verbose)
        return self

    def conditional_expected_average_profit(
        self, frequency: Any = None, monetary_value: Any = None, *, output: str | None = None
    ) -> Any:
        """Expected mean spend per transaction given (frequency, monetary_value); None = the
        fitted data. Customers with frequency 0 get the population mean. ``output``: None,
        "pandas", "numpy" or "pyarrow" (module docstring)."""
        output = _arrow.check_output(output)
        model = self._fitted()
        if frequency is None and monetary_value is None:
            data = getattr(self, "data", None)
            if data is None:
                raise ValidationError("frequency: required when the model holds no fitted data")
            frequency, monetary_value = data["frequency"], data["monetary_value"]
        elif frequency is None or monetary_value is None:
            missing = "frequency" if frequency is None else "monetary_value"
            raise ValidationError(f"{missing}: pass frequency and monetary_value together")
        cols = _Columns(frequency=frequency, monetary_value=monetary_value)
        return cols.wrap(model.conditional_expected_average_profit(
            cols["frequency"], cols["monetary_value"]), output=output)

    def customer_lifetime_value(
        self,
        transaction_prediction_model: Any,
        frequency: Any,
        recency: Any,
        T: Any,
        monetary_value: Any,
        time: int = 12,
        discount_rate: float = 0.01,
        freq: str = "D",
        *,
        output: str | None = None,
    ) -> Any:
        """lifetimes' CLV: expected spend times expected purchases in each of ``time`` months,
        discounted monthly by ``discount_rate``; ``freq`` is the time unit of recency and T ("D",
        "W", "M" or "H"). transaction_prediction_model is a fitted crmkit BetaGeoFitter,
        ModifiedBetaGeoFitter, ParetoNBDFitter or BetaGeoBetaBinomFitter. A Series input gives a
        Series named "clv"; ``output``: None, "pandas", "numpy" or "pyarrow" (module
        docstring)."""
        output = _arrow.check_output(output)
        model = self._fitted()
        if not isinstance(transaction_prediction_model, _BaseFitter) or isinstance(
            transaction_prediction_model, GammaGammaFitter
        ):
            raise ValidationError(
                "transaction_prediction_model: expected a fitted crmkit BetaGeoFitter, "
                "ModifiedBetaGeoFitter, ParetoNBDFitter or BetaGeoBetaBinomFitter, got "
                f"{type(transaction_prediction_model).__name__}"
            )
        transactions = transaction_prediction_model._fitted()
        if not isinstance(freq, str):
            raise ValidationError(f"freq: expected 'D', 'W', 'M' or 'H', got {freq!r}")
        periods = _core.periods_per_month(freq)
        cols = _Columns(frequency=frequency, recency=recency, T=T, monetary_value=monetary_value)
        out = model.customer_lifetime_value(
            transactions, cols["frequency"], cols["recency"], cols["T"], cols["monetary_value"],
            months=int(time), discount_rate=float(discount_rate), periods_per_month=periods,
        )
        return cols.wrap(out, name="clv", output=output)
