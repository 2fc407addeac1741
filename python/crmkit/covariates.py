"""BG/NBD and Pareto/NBD with time-invariant covariates, on the crmkit C++ core
(crmkit/value/covariates.hpp; docs/value-covariates.md).

``BetaGeoCovariatesFitter`` and ``ParetoNBDCovariatesFitter`` fit Fader and Hardie's note 019
models by maximum likelihood (analytic gradients, standard errors from the Hessian) and predict
per customer, each at the customer's own covariates:

- BG/NBD:     alpha_i = alpha * exp(-sum_j alpha[j] x_ij),  a_i = a * exp(sum_k a[k] z_ik),
              b_i = b * exp(sum_k b[k] z_ik)
- Pareto/NBD: alpha_i = alpha * exp(-sum_j alpha[j] x_ij),  beta_i = beta * exp(-sum_k beta[k] z_ik)

with x the purchase covariates and z the dropout covariates (two column lists of one covariate
frame; they may differ, overlap or be empty). ``params_`` is indexed "r", "alpha", "a", "b" (or
"r", "alpha", "s", "beta"), then "alpha[<column>]", "a[<column>]", "b[<column>]" (or
"beta[<column>]"). All coefficients 0 is the plain model: the same likelihood and predictions as
crmkit.BetaGeoFitter / ParetoNBDFitter.

These classes only convert (covariate frames to float64 matrices, results to Series); every
likelihood, fit and prediction runs in C++ with the GIL released. Pickling, ``save_model`` /
``load_model``, ``summary``, ``confidence_intervals_``, ``fit_report_`` and ``log_likelihood_``
work as for the plain fitters (crmkit.fitters).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from . import _arrow, _core
from .errors import ValidationError
from .fitters import _as_column, _BaseFitter, _Columns, _fit_options

__all__ = ["BetaGeoCovariatesFitter", "ParetoNBDCovariatesFitter"]


def _covariate_frame(covariates: Any, name: str = "covariates") -> pd.DataFrame:
    """The covariates as a DataFrame of float64 columns (names as str)."""
    if isinstance(covariates, pd.Series):
        covariates = covariates.to_frame(name=str(covariates.name) if covariates.name is not None
                                         else "x0")
    if isinstance(covariates, pd.DataFrame):
        frame = covariates.copy()
        frame.columns = [str(c) for c in frame.columns]
        if len(set(frame.columns)) != len(frame.columns):
            raise ValidationError(f"{name}: column names must be distinct, got {list(frame.columns)}")
    else:
        try:
            arr = np.asarray(covariates, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValidationError(
                f"{name}: expected a DataFrame or a 2-dimensional array of numbers, got "
                f"{type(covariates).__name__}") from None
        if arr.ndim == 1:
            arr = arr.reshape(-1, 1)
        if arr.ndim != 2:
            raise ValidationError(f"{name}: must be 2-dimensional (customers x columns), got "
                                  f"shape {arr.shape}")
        frame = pd.DataFrame(arr, columns=[f"x{j}" for j in range(arr.shape[1])])
    for col in frame.columns:
        try:
            frame[col] = frame[col].astype(np.float64)
        except (TypeError, ValueError):
            raise ValidationError(
                f"{name}.{col}: must be numeric, got dtype {frame[col].dtype} (encode categories "
                "as 0/1 columns first)") from None
    return frame


def _select(frame: pd.DataFrame, cols: Sequence[Any] | None, arg: str) -> list[str]:
    if cols is None:
        return list(frame.columns)
    if isinstance(cols, str):
        cols = [cols]
    out = []
    for c in cols:
        if isinstance(c, (int, np.integer)) and not isinstance(c, bool) and str(c) not in frame:
            if not 0 <= int(c) < frame.shape[1]:
                raise ValidationError(f"{arg}: column position {c} is outside 0..{frame.shape[1] - 1}")
            c = frame.columns[int(c)]
        c = str(c)
        if c not in frame.columns:
            raise ValidationError(f"{arg}: column {c!r} is not in covariates (columns: "
                                  f"{list(frame.columns)})")
        if c in out:
            raise ValidationError(f"{arg}: column {c!r} is named twice")
        out.append(c)
    return out


def _matrix(frame: pd.DataFrame, cols: list[str]) -> np.ndarray | None:
    if not cols:
        return None
    return np.ascontiguousarray(frame[cols].to_numpy(dtype=np.float64))


class _CovariatesFitter(_BaseFitter):
    _kind = "beta_geo"
    _core_class = _core.CovariatesModel

    def __init__(self, penalizer_coef: float = 0.0) -> None:
        super().__init__(penalizer_coef)
        self._covariates: pd.DataFrame | None = None  # the fitted rows' covariate columns

    # -- fit --

    def fit(
        self,
        frequency: Any,
        recency: Any,
        T: Any,
        covariates: Any = None,
        purchase_covariate_cols: Sequence[Any] | None = None,
        dropout_covariate_cols: Sequence[Any] | None = None,
        weights: Any = None,
        initial_params: Any = None,
        verbose: bool = False,
        tol: float = 1e-10,
        index: Any = None,
        **kwargs: Any,
    ) -> "_CovariatesFitter":
        """Fits by maximum likelihood and returns self.

        frequency, recency, T: one row per customer, as for crmkit.BetaGeoFitter.fit.
        covariates: a DataFrame (or 2-D array, columns named x0, x1, ...) with one row per
        customer, in the same order; None = no covariates (the plain model).
        purchase_covariate_cols / dropout_covariate_cols: the columns of each process (names, or
        positions for an array); None = every column. Pass [] for none.
        initial_params: natural-scale start in params_ order (a dict/Series by name or a
        sequence); default: the plain fit with every coefficient 0.
        Raises crmkit.ValidationError naming the argument, column and row for malformed input
        (a NaN covariate, a wrong row count, a constant or collinear column); warns with
        crmkit.ConvergenceWarning if the fit does not converge.
        """
        options = _fit_options(tol, kwargs)
        x, _, _ = _as_column(frequency, "frequency")
        tx, _, _ = _as_column(recency, "recency")
        t_, _, _ = _as_column(T, "T")
        w = None if weights is None else _as_column(weights, "weights")[0]
        if covariates is None:
            frame = pd.DataFrame(index=range(len(x)))
        else:
            frame = _covariate_frame(covariates)
        pcols = _select(frame, purchase_covariate_cols, "purchase_covariate_cols")
        dcols = _select(frame, dropout_covariate_cols, "dropout_covariate_cols")
        names = self._names(pcols, dcols)
        initial: list[float] = []
        if initial_params is not None:
            if isinstance(initial_params, (dict, pd.Series)):
                missing = [n for n in names if n not in initial_params]
                if missing:
                    raise ValidationError(f"initial_params: missing {', '.join(missing)}")
                initial_params = [initial_params[n] for n in names]
            initial = [float(v) for v in np.asarray(initial_params, dtype=np.float64).ravel()]
        model = _core.CovariatesModel.fit(
            self._kind, x, tx, t_, _matrix(frame, pcols), pcols, _matrix(frame, dcols), dcols,
            w, penalizer=float(self.penalizer_coef), initial=initial, **options,
        )
        used = list(dict.fromkeys(pcols + dcols))
        self._keep_data({"frequency": x, "recency": tx, "T": t_}, w, index)
        self._covariates = frame[used].reset_index(drop=True).copy()
        self._finish_fit(model, verbose)
        return self

    def _names(self, pcols: list[str], dcols: list[str]) -> list[str]:
        return list(_core.CovariatesModel(
            self._kind, [1.0] * (4 + len(pcols) + (2 if self._kind == "beta_geo" else 1)
                                 * len(dcols)), [], _core.FitReport(), pcols, dcols).param_names)

    # -- parameters --

    @property
    def params_(self) -> pd.Series:
        """Base parameters and coefficients as a Series indexed by name (module docstring)."""
        if self._model is None:
            raise AttributeError(f"params_: {type(self).__name__} is not fitted: call fit() first")
        return pd.Series(list(self._model.params), index=list(self._model.param_names),
                         dtype=np.float64)

    @params_.setter
    def params_(self, values: Any) -> None:
        """Sets known parameters of the fitted columns (a Series/dict by name or a sequence in
        params_ order); the fit report and standard errors are cleared."""
        model = self._fitted()
        names = list(model.param_names)
        if isinstance(values, (dict, pd.Series)):
            missing = [n for n in names if n not in values]
            if missing:
                raise ValidationError(f"params_: missing {', '.join(missing)}")
            values = [values[n] for n in names]
        self._model = _core.CovariatesModel(self._kind, [float(v) for v in values], [],
                                            _core.FitReport(), list(model.purchase_columns),
                                            list(model.dropout_columns))
        self._se = None

    @property
    def standard_errors_(self) -> pd.Series:
        """Standard errors from the inverted Hessian (delta method for the base parameters); NaN
        when the Hessian is not negative definite (the fit is then not converged)."""
        model = self._fitted()
        return pd.Series(list(model.standard_errors), index=list(model.param_names),
                         dtype=np.float64)

    @property
    def variance_matrix_(self) -> pd.DataFrame:
        """Not available for covariate models (lifetimes has none to match): ValidationError.
        standard_errors_ holds the standard errors."""
        self._fitted()
        raise ValidationError(
            f"variance_matrix_: not available for {type(self).__name__}; standard_errors_ "
            "holds the standard errors")

    @property
    def purchase_covariate_cols(self) -> list[str]:
        return list(self._fitted().purchase_columns)

    @property
    def dropout_covariate_cols(self) -> list[str]:
        return list(self._fitted().dropout_columns)

    # -- pickling and saving --

    def _state(self, save_data: bool = True, data_value: Any = None) -> dict[str, Any]:
        state = super()._state(save_data, data_value)
        model = self._model
        state["kind"] = self._kind
        state["purchase_columns"] = None if model is None else list(model.purchase_columns)
        state["dropout_columns"] = None if model is None else list(model.dropout_columns)
        state["covariates"] = self._covariates if save_data else None
        return state

    def _restore(self, state: Any, source: str) -> None:
        if not isinstance(state, dict) or state.get("format") != "crmkit.fitter" \
                or "kind" not in state:
            raise ValidationError(f"{source}: is not a saved crmkit covariates model")
        if state.get("class") != type(self).__name__:
            raise ValidationError(
                f"{source}: holds a {state.get('class')}, not a {type(self).__name__}")
        model = None
        if state["params"] is not None:
            r = state["report"]
            report = _core.FitReport(
                converged=r["converged"], iterations=r["iterations"],
                log_likelihood=r["log_likelihood"], gradient_norm=r["gradient_norm"],
                message=r["message"],
            )
            model = _core.CovariatesModel(state["kind"], state["params"],
                                          state["standard_errors"], report,
                                          state["purchase_columns"], state["dropout_columns"])
        self.penalizer_coef = state["penalizer_coef"]
        self._model = model
        self._data = state["data"]
        self._data_parts = state["data_parts"]
        self._se = state["se"]
        self._se_rows = None
        self._covariates = state.get("covariates")

    # -- predictions --

    def _rows(self, frequency: Any, recency: Any, T: Any, covariates: Any,
              extra: dict[str, Any] | None = None) -> tuple[_Columns, pd.DataFrame]:
        model = self._fitted()
        given = [v is None for v in (frequency, recency, T)]
        if all(given):
            data = self.data
            if data is None or self._covariates is None:
                raise ValidationError("frequency: required when the model holds no fitted data "
                                      "(pass frequency, recency, T and covariates)")
            cols = _Columns(frequency=data["frequency"], recency=data["recency"], T=data["T"],
                            **(extra or {}))
            return cols, self._covariates
        if any(given):
            missing = [n for n, g in zip(("frequency", "recency", "T"), given) if g]
            raise ValidationError(f"{missing[0]}: pass frequency, recency and T together")
        cols = _Columns(frequency=frequency, recency=recency, T=T, **(extra or {}))
        return cols, self._prediction_covariates(model, covariates, len(cols["frequency"]))

    def _prediction_covariates(self, model: Any, covariates: Any, n: int) -> pd.DataFrame:
        needed = list(dict.fromkeys(list(model.purchase_columns) + list(model.dropout_columns)))
        if covariates is None:
            if needed:
                raise ValidationError(
                    f"covariates: required with frequency, recency and T (columns {needed})")
            return pd.DataFrame(index=range(n))
        frame = _covariate_frame(covariates)
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise ValidationError(f"covariates: missing column(s) {missing} of the fitted model")
        return frame

    def _matrices(self, model: Any, frame: pd.DataFrame) -> tuple[Any, Any]:
        return (_matrix(frame, list(model.purchase_columns)),
                _matrix(frame, list(model.dropout_columns)))

    def conditional_probability_alive(
        self, frequency: Any = None, recency: Any = None, T: Any = None, covariates: Any = None,
        *, output: str | None = None,
    ) -> Any:
        """P(alive at T) per customer, at the customer's covariates (a DataFrame with the fitted
        columns, rows in the order of frequency); all None = the fitted data."""
        output = _arrow.check_output(output)
        model = self._fitted()
        cols, frame = self._rows(frequency, recency, T, covariates)
        P, D = self._matrices(model, frame)
        return cols.wrap(model.conditional_probability_alive(
            cols["frequency"], cols["recency"], cols["T"], P, D), output=output)

    def conditional_expected_number_of_purchases_up_to_time(
        self, t: Any, frequency: Any = None, recency: Any = None, T: Any = None,
        covariates: Any = None, *, output: str | None = None,
    ) -> Any:
        """Expected repeat purchases in (T, T + t] per customer at its covariates; t a number or
        a column; frequency, recency, T and covariates all None = the fitted data."""
        output = _arrow.check_output(output)
        model = self._fitted()
        cols, frame = self._rows(frequency, recency, T, covariates, {"t": t})
        P, D = self._matrices(model, frame)
        tv = cols["t"]
        distinct = np.unique(tv)
        args = [cols["frequency"], cols["recency"], cols["T"]]
        if len(distinct) == 1:
            out = model.conditional_expected_number_of_purchases_up_to_time(
                float(distinct[0]), *args, P, D)
        else:
            out = np.empty(len(tv), dtype=np.float64)
            for value in distinct:
                mask = tv == value
                sub = [np.ascontiguousarray(a[mask]) for a in args]
                out[mask] = model.conditional_expected_number_of_purchases_up_to_time(
                    float(value), *sub, None if P is None else np.ascontiguousarray(P[mask]),
                    None if D is None else np.ascontiguousarray(D[mask]))
        return cols.wrap(out, output=output)

    def predict(self, t: Any, frequency: Any = None, recency: Any = None, T: Any = None,
                covariates: Any = None, *, output: str | None = None) -> Any:
        """Alias of conditional_expected_number_of_purchases_up_to_time."""
        return self.conditional_expected_number_of_purchases_up_to_time(
            t, frequency, recency, T, covariates, output=output)

    def expected_number_of_purchases_up_to_time(self, t: Any, covariates: Any = None, *,
                                                output: str | None = None) -> Any:
        """E[X(t)] for a new customer with each row's covariates (None = the fitted customers'
        covariates); t a number. A Series indexed like a covariates DataFrame comes back."""
        output = _arrow.check_output(output)
        model = self._fitted()
        t_value = float(_as_column(t, "t")[0][0]) if np.ndim(t) == 0 else None
        if t_value is None:
            raise ValidationError("t: must be a number (one horizon per call)")
        if covariates is None:
            if self._covariates is None:
                raise ValidationError("covariates: required when the model holds no fitted data")
            frame, index = self._covariates, None
        else:
            frame = self._prediction_covariates(model, covariates, 0)
            index = covariates.index if isinstance(covariates, (pd.DataFrame, pd.Series)) else None
        P, D = self._matrices(model, frame)
        out = model.expected_number_of_purchases_up_to_time(t_value, P, D, len(frame))
        if output == "numpy" or (output is None and index is None):
            return out
        if output == "pyarrow":
            return _arrow.array(out)
        return pd.Series(out, index=index, copy=False)

    def individual_parameters(self, covariates: Any = None) -> pd.DataFrame:
        """Each customer's own parameters (columns alpha, a, b or alpha, beta) at its covariates
        (None = the fitted customers)."""
        model = self._fitted()
        if covariates is None:
            if self._covariates is None:
                raise ValidationError("covariates: required when the model holds no fitted data")
            frame, index = self._covariates, None
        else:
            frame = self._prediction_covariates(model, covariates, 0)
            index = covariates.index if isinstance(covariates, (pd.DataFrame, pd.Series)) else None
        P, D = self._matrices(model, frame)
        values = model.individual_parameters(P, D, len(frame))
        names = ["alpha", "a", "b"] if self._kind == "beta_geo" else ["alpha", "beta"]
        return pd.DataFrame(dict(zip(names, values)), index=index)

    def log_likelihood(self, frequency: Any, recency: Any, T: Any, covariates: Any = None,
                       weights: Any = None) -> float:
        """Total (weighted) log-likelihood of the given rows at params_."""
        model = self._fitted()
        cols, frame = self._rows(frequency, recency, T, covariates)
        P, D = self._matrices(model, frame)
        w = None if weights is None else _as_column(weights, "weights")[0]
        return float(model.log_likelihood(cols["frequency"], cols["recency"], cols["T"], P, D, w))


class BetaGeoCovariatesFitter(_CovariatesFitter):
    """BG/NBD with time-invariant covariates (Fader and Hardie, note 019; pymc-marketing's
    BetaGeoModel form): alpha_i = alpha exp(-alpha[.]' x_i), a_i = a exp(a[.]' z_i),
    b_i = b exp(b[.]' z_i). params_: r, alpha, a, b, alpha[<col>]..., a[<col>]..., b[<col>]..."""

    _kind = "beta_geo"


class ParetoNBDCovariatesFitter(_CovariatesFitter):
    """Pareto/NBD with time-invariant covariates (Fader and Hardie, note 019):
    alpha_i = alpha exp(-alpha[.]' x_i), beta_i = beta exp(-beta[.]' z_i).
    params_: r, alpha, s, beta, alpha[<col>]..., beta[<col>]..."""

    _kind = "pareto_nbd"


def simulate(
    kind: str,
    params: Any,
    covariates: Any,
    T: Any,
    purchase_covariate_cols: Sequence[Any] | None = None,
    dropout_covariate_cols: Sequence[Any] | None = None,
    seed: Any = None,
) -> pd.DataFrame:
    """Draws one history per row of ``covariates`` from the model's own generative process
    (numpy, seeded): frequency, recency and T as a DataFrame indexed like ``covariates``.

    kind: "beta_geo" or "pareto_nbd". params: a dict or Series by the fitter's params_ names
    (e.g. {"r": .9, "alpha": 3, "a": .8, "b": 2.5, "alpha[u]": .5, "a[v]": .5, "b[v]": -.3};
    coefficients not given are 0). T: each customer's age (a number or a column). seed: what
    numpy.random.default_rng takes.

    BG/NBD: lambda_i ~ Gamma(r, rate alpha_i), p_i ~ Beta(a_i, b_i); repeat purchases arrive as a
    Poisson process and after each one the customer drops out with probability p_i, so
    x = min(N(T), J) with N(T) ~ Poisson(lambda_i T) and J ~ Geometric(p_i), and the last
    purchase is the x-th arrival (T times a Beta(x, N - x + 1) draw). Pareto/NBD: mu_i ~ Gamma(s,
    rate beta_i), lifetime tau ~ Exponential(mu_i), N ~ Poisson(lambda_i min(tau, T)) and the
    last purchase min(tau, T) times a Beta(N, 1) draw.
    """
    if kind not in ("beta_geo", "pareto_nbd"):
        raise ValidationError(f"kind: must be 'beta_geo' or 'pareto_nbd', got {kind!r}")
    frame = _covariate_frame(covariates)
    n = len(frame)
    pcols = _select(frame, purchase_covariate_cols, "purchase_covariate_cols")
    dcols = _select(frame, dropout_covariate_cols, "dropout_covariate_cols")
    p = dict(params)

    def lin(prefix: str, cols: list[str]) -> np.ndarray:
        out = np.zeros(n)
        for c in cols:
            out += float(p.get(f"{prefix}[{c}]", 0.0)) * frame[c].to_numpy()
        return out

    rng = np.random.default_rng(seed)
    t_ = np.broadcast_to(np.asarray(T, dtype=np.float64), (n,)).copy()
    r = float(p["r"])
    alpha_i = float(p["alpha"]) * np.exp(-lin("alpha", pcols))
    lam = rng.gamma(r, 1.0 / alpha_i)
    if kind == "beta_geo":
        a_i = float(p["a"]) * np.exp(lin("a", dcols))
        b_i = float(p["b"]) * np.exp(lin("b", dcols))
        drop = rng.beta(a_i, b_i)
        arrivals = rng.poisson(lam * t_)
        limit = rng.geometric(np.clip(drop, 1e-300, 1.0))
        x = np.minimum(arrivals, limit)
        end = t_
        extra = arrivals - x + 1
    else:
        beta_i = float(p["beta"]) * np.exp(-lin("beta", dcols))
        mu = rng.gamma(float(p["s"]), 1.0 / beta_i)
        tau = rng.exponential(1.0 / mu)
        end = np.minimum(tau, t_)
        x = rng.poisson(lam * end)
        extra = np.ones(n, dtype=np.int64)
    positive = x > 0
    recency = np.zeros(n)
    recency[positive] = end[positive] * rng.beta(x[positive], extra[positive])
    index = covariates.index if isinstance(covariates, (pd.DataFrame, pd.Series)) else None
    return pd.DataFrame({"frequency": x.astype(np.float64), "recency": recency, "T": t_},
                        index=index)


__all__.append("simulate")
