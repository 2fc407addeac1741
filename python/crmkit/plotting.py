"""Plots of the value models: lifetimes' plotting functions, same names and arguments.

Every function takes a fitted model (crmkit.BetaGeoFitter, ParetoNBDFitter, ...), draws on ``ax``
(a new figure when ``ax`` is None) and returns the matplotlib Axes it drew on. matplotlib is
imported inside each function, so ``import crmkit.plotting`` works without it.

The numbers behind a plot come from the model's own prediction methods
(``conditional_probability_alive``, ``conditional_expected_number_of_purchases_up_to_time``,
``probability_of_n_purchases_up_to_time``, ``expected_number_of_purchases_up_to_time``), called
once on whole columns; these functions only arrange the results. Unlike lifetimes, nothing here is
simulated: plot_period_transactions shows the model's expected counts, so a plot is reproducible.

These functions only draw: the numbers behind plot_cumulative_transactions and
plot_incremental_transactions (the repeat counting and the model's expectations) are
crmkit.utils.expected_cumulative_transactions, and those behind plot_history_alive are
crmkit.utils.calculate_alive_path, lifetimes' functions with lifetimes' arguments, both also
importable from here as lifetimes users may expect. The heterogeneity plots evaluate the gamma and
beta mixing densities and their 99% points here (crmkit does not depend on scipy).

The arguments are lifetimes 0.11.3's, in its order and with its defaults; crmkit's additions are
``ax`` where lifetimes has none and keyword-only arguments. docs/value.md (section 8) lists the
deliberate differences.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .errors import ValidationError
from .utils import _column, _micros, _purchase_periods, _resample_frequency, _to_timestamp
from .utils import calculate_alive_path
from .utils import expected_cumulative_transactions

__all__ = [
    "plot_frequency_recency_matrix",
    "plot_probability_alive_matrix",
    "plot_period_transactions",
    "plot_calibration_purchases_vs_holdout_purchases",
    "plot_cumulative_transactions",
    "plot_incremental_transactions",
    "plot_history_alive",
    "plot_transaction_rate_heterogeneity",
    "plot_dropout_rate_heterogeneity",
    "expected_cumulative_transactions",
    "calculate_alive_path",
]


# --------------------------------------------------------------------------------------------
# helpers


def _new_axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    from matplotlib import pyplot as plt

    _fig, new_ax = plt.subplots()
    return new_ax


def _fitted_data(model: Any, function: str) -> Any:
    data = getattr(model, "data", None)
    if data is None:
        raise ValueError(
            f"{function}: {type(model).__name__} is not fitted (it holds no data): call fit() first"
        )
    return data


def _frame_column(frame: Any, name: str, argument: str) -> Any:
    """frame[name], or ValidationError naming the argument and the missing column."""
    columns = getattr(frame, "columns", None)
    if columns is None or name not in columns:
        raise ValidationError(f"{argument}: no column {name!r}")
    return frame[name]


def _is_discrete(model: Any, data: Any) -> bool:
    """True for BG/BB: its rows are (frequency, recency, n_periods) counted in periods."""
    return "n_periods" in getattr(data, "columns", ()) or hasattr(
        model, "expected_number_of_transactions_in_first_n_periods"
    )


def _row_weights(data: Any) -> np.ndarray:
    if "weights" in data.columns:
        return np.asarray(data["weights"], dtype=float)
    return np.ones(len(data), dtype=float)


def _require(model: Any, method: str, function: str) -> Any:
    found = getattr(model, method, None)
    if found is None:
        raise TypeError(f"{function}: model: {type(model).__name__} has no {method}()")
    return found


def _grid(data: Any, max_frequency: Any, max_recency: Any, discrete: bool,
          evaluate_impossible: bool = False):
    """The frequency and recency of each cell of a matrix plot (2-D arrays, rows = recency,
    columns = frequency), the mask of the cells that describe a possible customer (frequency 0
    only with recency 0, unless evaluate_impossible; for BG/BB also frequency <= recency) and the
    age of those cells."""
    if max_frequency is None:
        max_frequency = int(np.max(data["frequency"]))
    if max_recency is None:
        max_recency = int(np.max(data["n_periods" if discrete else "T"]))
    max_frequency, max_recency = int(max_frequency), int(max_recency)
    if max_frequency < 0 or max_recency < 0:
        raise ValueError("max_frequency, max_recency: must be >= 0")
    recency, frequency = np.meshgrid(
        np.arange(max_recency + 1, dtype=float),
        np.arange(max_frequency + 1, dtype=float),
        indexing="ij",
    )
    valid = (frequency > 0) | (recency == 0) | evaluate_impossible
    if discrete:
        valid &= frequency <= recency
    age = np.full(int(valid.sum()), float(max_recency))
    return frequency, recency, valid, age


def _evaluates_impossible(model: Any) -> bool:
    return getattr(model, "impossible_histories", "reject") == "evaluate"


def _draw_matrix(ax: Any, z: np.ndarray, title: str, xlabel: str, ylabel: str, kwargs: dict) -> Any:
    kwargs.setdefault("interpolation", "none")
    kwargs.setdefault("aspect", "auto")
    kwargs.setdefault("origin", "upper")
    image = ax.imshow(np.ma.masked_invalid(z), **kwargs)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.figure.colorbar(image, ax=ax)
    return ax


# --------------------------------------------------------------------------------------------
# matrices


def plot_frequency_recency_matrix(
    model: Any,
    T: float = 1,
    max_frequency: int | None = None,
    max_recency: int | None = None,
    title: str | None = None,
    xlabel: str = "Customer's Historical Frequency",
    ylabel: str = "Customer's Recency",
    ax: Any = None,
    **kwargs: Any,
) -> Any:
    """Heat map of the expected purchases in the next ``T`` time units, by frequency (columns,
    0..max_frequency) and recency (rows, 0..max_recency) of a customer whose age is max_recency.

    max_frequency defaults to the largest fitted frequency, max_recency to the largest fitted T
    (n_periods for BG/BB), as in lifetimes. Cells that no customer can have (frequency 0 with
    recency > 0; for BG/BB also frequency > recency) are left blank instead of being fed to the
    model; with the fitter's impossible_histories="evaluate" the frequency-0 cells are filled as
    lifetimes fills them. ``kwargs`` go to ``Axes.imshow``. Returns the Axes.
    """
    data = _fitted_data(model, "plot_frequency_recency_matrix")
    discrete = _is_discrete(model, data)
    frequency, recency, valid, age = _grid(data, max_frequency, max_recency, discrete,
                                           _evaluates_impossible(model))
    z = np.full(frequency.shape, np.nan)
    expected = model.conditional_expected_number_of_purchases_up_to_time(
        T, frequency[valid], recency[valid], age
    )
    z[valid] = np.asarray(expected, dtype=float)
    if title is None:
        unit = "Unit" if T == 1 else "Units"
        title = (
            f"Expected Number of Future Purchases for {T} {unit} of Time,"
            "\nby Frequency and Recency of a Customer"
        )
    return _draw_matrix(_new_axes(ax), z, title, xlabel, ylabel, kwargs)


def plot_probability_alive_matrix(
    model: Any,
    max_frequency: int | None = None,
    max_recency: int | None = None,
    title: str = "Probability Customer is Alive,\nby Frequency and Recency of a Customer",
    xlabel: str = "Customer's Historical Frequency",
    ylabel: str = "Customer's Recency",
    ax: Any = None,
    **kwargs: Any,
) -> Any:
    """Heat map of P(alive) by frequency (columns) and recency (rows) of a customer whose age is
    max_recency; the grid and its blank cells are as in plot_frequency_recency_matrix.
    ``kwargs`` go to ``Axes.imshow``. Returns the Axes.
    """
    data = _fitted_data(model, "plot_probability_alive_matrix")
    discrete = _is_discrete(model, data)
    frequency, recency, valid, age = _grid(data, max_frequency, max_recency, discrete,
                                           _evaluates_impossible(model))
    z = np.full(frequency.shape, np.nan)
    if discrete:
        # lifetimes puts m_periods_in_future first, the core last: keywords fit both.
        alive = model.conditional_probability_alive(
            m_periods_in_future=0, frequency=frequency[valid], recency=recency[valid], n_periods=age
        )
    else:
        alive = model.conditional_probability_alive(frequency[valid], recency[valid], age)
    z[valid] = np.asarray(alive, dtype=float)
    kwargs.setdefault("vmin", 0.0)
    kwargs.setdefault("vmax", 1.0)
    return _draw_matrix(_new_axes(ax), z, title, xlabel, ylabel, kwargs)


# --------------------------------------------------------------------------------------------
# period transactions


def _expected_period_counts(model: Any, data: Any, max_frequency: int) -> np.ndarray:
    """Expected number of fitted customers with k = 0..max_frequency-1 repeat purchases:
    sum over customers of P(X(age) = k), age = T (n_periods for BG/BB). Customers are grouped by
    age, so the model is asked once per distinct age and k."""
    discrete = _is_discrete(model, data)
    probability = _require(
        model, "probability_of_n_purchases_up_to_time", "plot_period_transactions"
    )
    ages = np.asarray(data["n_periods" if discrete else "T"], dtype=float)
    distinct, inverse = np.unique(ages, return_inverse=True)
    customers_by_age = np.bincount(
        inverse.ravel(), weights=_row_weights(data), minlength=distinct.size
    )
    ks = np.arange(max_frequency, dtype=float)
    ages_by_k = np.repeat(distinct, max_frequency)
    p = np.asarray(probability(ages_by_k, np.tile(ks, distinct.size)), dtype=float)
    return customers_by_age @ p.reshape(distinct.size, max_frequency)


def plot_period_transactions(
    model: Any,
    max_frequency: int = 7,
    title: str = "Frequency of Repeat Transactions",
    xlabel: str = "Number of Calibration Period Transactions",
    ylabel: str = "Customers",
    ax: Any = None,
    **kwargs: Any,
) -> Any:
    """Bars of the number of fitted customers with 0, 1, ..., max_frequency-1 repeat purchases:
    the actual counts (the fitted ``frequency`` column, weighted by ``weights`` when the model
    was fitted on compressed rows) beside the model's expected counts, the sum over customers of
    P(X(T) = k) from ``probability_of_n_purchases_up_to_time`` (for BG/BB, P(X(n_periods) = k)).

    lifetimes draws the model bars from a simulation; these are the exact expectations.
    ``label`` (a pair, default ("Actual", "Model")) names the two bar series; other ``kwargs``
    go to ``Axes.bar``. Returns the Axes; ``ax.containers[0]`` holds the actual bars and
    ``ax.containers[1]`` the model bars. Raises TypeError for a model without
    probability_of_n_purchases_up_to_time.
    """
    max_frequency = int(max_frequency)
    if max_frequency < 1:
        raise ValueError("max_frequency: must be >= 1")
    data = _fitted_data(model, "plot_period_transactions")
    labels = kwargs.pop("label", ("Actual", "Model"))
    expected = _expected_period_counts(model, data, max_frequency)
    frequency = np.asarray(data["frequency"], dtype=np.int64)
    keep = frequency < max_frequency
    actual = np.bincount(
        frequency[keep], weights=_row_weights(data)[keep], minlength=max_frequency
    )

    ax = _new_axes(ax)
    positions = np.arange(max_frequency)
    width = kwargs.pop("width", 0.4)
    ax.bar(positions - width / 2, actual, width, label=labels[0], **kwargs)
    ax.bar(positions + width / 2, expected, width, label=labels[1], **kwargs)
    ax.set_xticks(positions)
    ax.set_xticklabels([str(k) for k in positions])
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    return ax


# --------------------------------------------------------------------------------------------
# calibration vs holdout

_CALIBRATION_XLABELS = {
    "frequency_cal": "Purchases in calibration period",
    "recency_cal": "Age of customer at last purchase",
    "T_cal": "Age of customer at the end of calibration period",
    "time_since_last_purchase": "Time since user made last purchase",
}


def plot_calibration_purchases_vs_holdout_purchases(
    model: Any,
    calibration_holdout_matrix: Any,
    kind: str = "frequency_cal",
    n: int = 7,
    title: str = "Actual Purchases in Holdout Period vs Predicted Purchases",
    xlabel: str | None = None,
    ylabel: str = "Average of Purchases in Holdout Period",
    ax: Any = None,
    **kwargs: Any,
) -> Any:
    """Mean actual holdout purchases and mean predicted holdout purchases, grouped by ``kind``
    (frequency_cal, recency_cal, T_cal or time_since_last_purchase = T_cal - recency_cal), for
    the first ``n`` groups in ascending order.

    ``calibration_holdout_matrix`` is the frame of crmkit.utils.calibration_and_holdout_data.
    The prediction for each customer is
    ``model.conditional_expected_number_of_purchases_up_to_time(duration_holdout, frequency_cal,
    recency_cal, T_cal)``. Draws two lines labelled "frequency_holdout" (actual) and
    "model_predictions" (as lifetimes' legend); ``kwargs`` go to ``Axes.plot``. Returns the Axes.
    """
    if kind not in _CALIBRATION_XLABELS:
        raise ValueError(f"kind: {kind!r} is not one of {', '.join(_CALIBRATION_XLABELS)}")
    summary = calibration_holdout_matrix

    def column(name: str) -> np.ndarray:
        return np.asarray(_frame_column(summary, name, "calibration_holdout_matrix"), dtype=float)

    duration = column("duration_holdout")
    if duration.size == 0:
        raise ValueError("calibration_holdout_matrix: is empty")
    frequency = column("frequency_cal")
    recency = column("recency_cal")
    age = column("T_cal")
    predicted = np.asarray(
        model.conditional_expected_number_of_purchases_up_to_time(
            float(duration[0]), frequency, recency, age
        ),
        dtype=float,
    )
    if kind == "time_since_last_purchase":
        key = age - recency
    else:
        key = column(kind)
    groups, inverse = np.unique(key, return_inverse=True)
    inverse = inverse.ravel()
    sizes = np.bincount(inverse, minlength=groups.size)
    holdout = column("frequency_holdout")
    actual_mean = np.bincount(inverse, weights=holdout, minlength=groups.size) / sizes
    predicted_mean = np.bincount(inverse, weights=predicted, minlength=groups.size) / sizes
    shown = slice(0, int(n))

    ax = _new_axes(ax)
    ax.plot(groups[shown], actual_mean[shown], label="frequency_holdout", **kwargs)
    ax.plot(groups[shown], predicted_mean[shown], label="model_predictions", **kwargs)
    ax.set_title(title)
    ax.set_xlabel(_CALIBRATION_XLABELS[kind] if xlabel is None else xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    return ax


# --------------------------------------------------------------------------------------------
# cumulative and incremental transactions


def _tracking(function: str, model: Any, transactions: Any, datetime_col: str,
              customer_id_col: str, t: int, t_cal: float, datetime_format: str | None, freq: str,
              set_index_date: bool, freq_multiplier: int, title: str, xlabel: str, ylabel: str,
              ax: Any, kwargs: dict) -> Any:
    table = expected_cumulative_transactions(
        model,
        transactions,
        datetime_col,
        customer_id_col,
        t,
        datetime_format=datetime_format,
        freq=freq,
        set_index_date=set_index_date,
        freq_multiplier=freq_multiplier,
    )
    if function == "plot_incremental_transactions":
        table = table.astype(float).diff()  # row 0 has no previous row: NaN, as lifetimes
    ax = table.plot(ax=_new_axes(ax), title=title, **kwargs)
    if set_index_date:
        marker = table.index[int(t_cal)]
        # lifetimes writes "date" whatever xlabel says; crmkit keeps an xlabel that was given
        xlabel = "date" if xlabel == "day" else xlabel
    else:
        marker = t_cal
    ax.axvline(x=marker, color="r", linestyle="--")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def plot_cumulative_transactions(
    model: Any,
    transactions: Any,
    datetime_col: str,
    customer_id_col: str,
    t: int,
    t_cal: float,
    datetime_format: str | None = None,
    freq: str = "D",
    set_index_date: bool = False,
    title: str = "Tracking Cumulative Transactions",
    xlabel: str = "day",
    ylabel: str = "Cumulative Transactions",
    ax: Any = None,
    *,
    freq_multiplier: int = 1,
    **kwargs: Any,
) -> Any:
    """lifetimes' plot: the actual and the model's cumulative repeat transactions over time (the
    table of crmkit.utils.expected_cumulative_transactions with the same arguments, drawn by
    ``DataFrame.plot``: lines "actual" and "predicted", a legend, ``title``) and a dashed red
    vertical line at ``t_cal``, the end of the calibration period, in rows of the table.

    With set_index_date the x axis is the periods (pandas draws a PeriodIndex: x values are
    period ordinals), the marker is at row int(t_cal), and the x label is "date" unless an
    xlabel other than the default was given (lifetimes always writes "date").
    ``freq_multiplier`` (keyword only; lifetimes' plot does not have it) groups periods into rows:
    freq="D", freq_multiplier=7 counts weeks in whole days. ``kwargs`` go to
    ``pandas.DataFrame.plot``. Returns the Axes; its lines are actual, predicted and the marker.
    """
    return _tracking("plot_cumulative_transactions", model, transactions, datetime_col,
                     customer_id_col, t, t_cal, datetime_format, freq, set_index_date,
                     freq_multiplier, title, xlabel, ylabel, ax, kwargs)


def plot_incremental_transactions(
    model: Any,
    transactions: Any,
    datetime_col: str,
    customer_id_col: str,
    t: int,
    t_cal: float,
    datetime_format: str | None = None,
    freq: str = "D",
    set_index_date: bool = False,
    title: str = "Tracking Daily Transactions",
    xlabel: str = "day",
    ylabel: str = "Transactions",
    ax: Any = None,
    *,
    freq_multiplier: int = 1,
    **kwargs: Any,
) -> Any:
    """lifetimes' plot: actual and expected repeat transactions per row (the differences of
    consecutive rows of expected_cumulative_transactions; row 0 is NaN, as in lifetimes), with
    the calibration marker at ``t_cal``. Arguments, axes and lines as
    plot_cumulative_transactions.
    """
    return _tracking("plot_incremental_transactions", model, transactions, datetime_col,
                     customer_id_col, t, t_cal, datetime_format, freq, set_index_date,
                     freq_multiplier, title, xlabel, ylabel, ax, kwargs)


# --------------------------------------------------------------------------------------------
# one customer's P(alive) over time


def plot_history_alive(
    model: Any,
    t: int,
    transactions: Any,
    datetime_col: str,
    freq: str = "D",
    start_date: Any = None,
    ax: Any = None,
    **kwargs: Any,
) -> Any:
    """lifetimes' plot of one customer's P(alive) over time: the line "P_alive" (the values of
    crmkit.utils.calculate_alive_path(model, transactions, datetime_col, t, freq), drawn at
    ``pd.date_range(first purchase, periods=len(path), freq=freq)``), dashed red vertical lines
    "purchases" at the periods with a purchase (labelled as pandas resample labels them: the
    day, the week's Sunday, the month's last day), y from 0 to 1 with ticks every 0.1, x from
    ``start_date`` (default: the first purchase) to the path's last date, the legend at lower left,
    y label "P_alive", title "History of P_alive".

    ``transactions`` holds one customer's purchases. Times may be datetime64 (naive or aware,
    taken in UTC), datetimes or text; lifetimes (on pandas 2) raises TypeError for a datetime64
    column and cannot set the x limits without a datetime ``start_date``. ``start_date`` is
    anything pandas reads as one time. ``kwargs`` go to the P_alive ``Axes.plot`` (lifetimes
    ignores them). Returns the Axes.
    """
    freq = _resample_frequency(freq)
    path = calculate_alive_path(model, transactions, datetime_col, t, freq)
    purchases = _purchase_periods(transactions, datetime_col, freq)
    times = _micros(_column(transactions, datetime_col, "datetime_col"), "datetime_col", None,
                    datetime_col)
    first = pd.Timestamp(times.min().astype("datetime64[us]"))
    start = first if start_date is None else _to_timestamp(start_date, "start_date", None)
    path_dates = pd.date_range(start=first, periods=len(path), freq=freq)

    ax = _new_axes(ax)
    ax.plot(path_dates, path.to_numpy(), "-", label="P_alive", **kwargs)
    ax.vlines(purchases.index[purchases.to_numpy() >= 1].values, ymin=0, ymax=1, colors="r",
              linestyles="dashed", label="purchases")
    ax.set_ylim(0, 1.0)
    ax.set_yticks(np.arange(0, 1.1, 0.1))
    ax.set_xlim(start, path_dates[-1])
    ax.legend(loc=3)
    ax.set_ylabel("P_alive")
    ax.set_title("History of P_alive")
    return ax


# --------------------------------------------------------------------------------------------
# heterogeneity of the mixing distributions
#
# The densities and 99% quantiles of the gamma and beta mixing distributions, in Python (crmkit
# does not depend on scipy, which lifetimes uses here): the regularised incomplete gamma and
# beta functions by series and continued fractions (Numerical Recipes, 3rd ed., 6.2 and 6.4)
# and the quantile by bisection on them, to double precision.

_EPS = 1e-16
_TINY = 1e-300


def _continued_fraction(a_n: Any, b_n: Any, first: float) -> float:
    """Modified Lentz: b0 + a1/(b1 + a2/(b2 + ...)) with b0 = first; a_n(n), b_n(n), n >= 1."""
    f = first if first != 0 else _TINY
    c, d = f, 0.0
    for n in range(1, 100_000):
        d = b_n(n) + a_n(n) * d
        d = _TINY if d == 0 else d
        c = b_n(n) + a_n(n) / c
        c = _TINY if c == 0 else c
        d = 1.0 / d
        delta = c * d
        f *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return f


def _gamma_cdf(x: float, r: float) -> float:
    """P(r, x): the regularised lower incomplete gamma function."""
    import math

    if x <= 0:
        return 0.0
    log_front = r * math.log(x) - x - math.lgamma(r)
    if x < r + 1:
        term = total = 1.0 / r
        n = 1
        while abs(term) > abs(total) * _EPS:
            term *= x / (r + n)
            total += term
            n += 1
        return min(1.0, total * math.exp(log_front))
    # Q(r, x) = exp(log_front) / (x + 1 - r - 1*(1-r)/(x + 3 - r - ...))
    tail = _continued_fraction(lambda n: -n * (n - r), lambda n: x + 2 * n + 1 - r, x + 1 - r)
    return max(0.0, 1.0 - math.exp(log_front) / tail)


def _beta_cdf(x: float, a: float, b: float) -> float:
    """I_x(a, b): the regularised incomplete beta function."""
    import math

    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    if x > (a + 1) / (a + b + 2):
        return 1.0 - _beta_cdf(1.0 - x, b, a)
    log_front = (a * math.log(x) + b * math.log1p(-x)
                 - (math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)))

    def a_n(n: int) -> float:
        m = n // 2
        if n % 2 == 0:
            return m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        return -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))

    return math.exp(log_front) / (a * _continued_fraction(a_n, lambda n: 1.0, 1.0))


def _quantile(cdf: Any, p: float, upper: float | None) -> float:
    """The x with cdf(x) = p, by bisection (upper: the end of the support, None for infinity)."""
    lo, hi = 0.0, 1.0 if upper is None else upper
    if upper is None:
        while cdf(hi) < p:
            lo, hi = hi, 2 * hi
    while True:
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            return hi
        if cdf(mid) < p:
            lo = mid
        else:
            hi = mid


def _density(log_kernel: np.ndarray, x: np.ndarray, shape: float, log_norm: float) -> np.ndarray:
    """exp((shape - 1) log x + log_kernel - log_norm), with lifetimes' (scipy's) value at x = 0:
    infinite for shape < 1, exp(log_kernel - log_norm) for shape = 1, 0 above."""
    with np.errstate(divide="ignore", invalid="ignore"):
        power = np.where(x == 0, 0.0, (shape - 1.0) * np.log(np.where(x == 0, 1.0, x)))
        y = np.exp(power + log_kernel - log_norm)
    if shape < 1:
        y = np.where(x == 0, np.inf, y)
    elif shape > 1:
        y = np.where(x == 0, 0.0, y)
    return y


def _parameters(model: Any, names: tuple[str, ...], function: str, family: str) -> list[float]:
    try:
        params = model.params_
    except (AttributeError, ValidationError):
        raise ValueError(
            f"{function}: {type(model).__name__} is not fitted: call fit() first"
        ) from None
    missing = [name for name in names if name not in params.index]
    if missing:
        raise TypeError(
            f"{function}: model: {type(model).__name__} has no parameter {missing[0]!r}; "
            f"this plot is for {family}"
        )
    values = [float(params[name]) for name in names]
    return values


def _draw_density(x: np.ndarray, y: np.ndarray, mean: float, var: float,
                  suptitle: str, xlabel: str, ylabel: str, suptitle_fontsize: float, ax: Any,
                  kwargs: dict) -> Any:
    if ax is None:
        from matplotlib import pyplot as plt

        fig, ax = plt.subplots(1)
        new_figure = True
    else:
        fig, new_figure = ax.figure, False
    fig.suptitle(suptitle, fontsize=suptitle_fontsize, fontweight="bold")
    ax.set_title(f"mean: {mean:.3f}, var: {var:.3f}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if new_figure:
        fig.tight_layout(rect=[0, 0.03, 1, 0.95])
    ax.plot(x, y, **kwargs)
    return ax


def plot_transaction_rate_heterogeneity(
    model: Any,
    suptitle: str = "Heterogeneity in Transaction Rate",
    xlabel: str = "Transaction Rate",
    ylabel: str = "Density",
    suptitle_fontsize: float = 14,
    ax: Any = None,
    **kwargs: Any,
) -> Any:
    """lifetimes' plot of the gamma(r, alpha) distribution of the customers' purchase rates
    lambda (BG/NBD, MBG/NBD, Pareto/NBD): its density at 100 points from 0 to its 99% quantile
    (infinite at 0 when r < 1), the title "mean: r/alpha, var: r/alpha^2" (3 decimals) and the
    figure's bold ``suptitle``. lifetimes always writes its default suptitle; crmkit writes the
    one given. ``ax=None`` (crmkit only; lifetimes always opens a new figure) draws on a new
    figure laid out with tight_layout. ``kwargs`` go to ``Axes.plot``. Returns the Axes.

    Raises ValueError for an unfitted model, TypeError for a model without r and alpha (BG/BB:
    lifetimes raises KeyError).
    """
    import math

    function = "plot_transaction_rate_heterogeneity"
    r, alpha = _parameters(model, ("r", "alpha"), function, "BG/NBD, MBG/NBD and Pareto/NBD")
    lim = _quantile(lambda z: _gamma_cdf(z, r), 0.99, None) / alpha
    x = np.linspace(0, lim, 100)
    z = x * alpha
    y = _density(-z, z, r, math.lgamma(r)) * alpha
    return _draw_density(x, y, r / alpha, r / alpha**2, suptitle, xlabel, ylabel,
                         suptitle_fontsize, ax, kwargs)


def plot_dropout_rate_heterogeneity(
    model: Any,
    suptitle: str = "Heterogeneity in Dropout Probability",
    xlabel: str = "Dropout Probability p",
    ylabel: str = "Density",
    suptitle_fontsize: float = 14,
    ax: Any = None,
    **kwargs: Any,
) -> Any:
    """lifetimes' plot of the beta(a, b) distribution of the customers' probability p of dropping
    out after a purchase (BG/NBD, MBG/NBD): its density at 100 points from 0 to its 99%
    quantile, the title "mean: a/(a+b), var: ab/((a+b)^2 (a+b+1))" (3 decimals) and the
    figure's bold ``suptitle``. ``ax`` and ``kwargs`` as plot_transaction_rate_heterogeneity.
    Returns the Axes.

    Raises ValueError for an unfitted model, TypeError for a model without a and b (Pareto/NBD,
    BG/BB: lifetimes raises KeyError).
    """
    import math

    function = "plot_dropout_rate_heterogeneity"
    a, b = _parameters(model, ("a", "b"), function, "BG/NBD and MBG/NBD")
    lim = _quantile(lambda z: _beta_cdf(z, a, b), 0.99, 1.0)
    x = np.linspace(0, lim, 100)
    with np.errstate(divide="ignore"):
        kernel = (b - 1.0) * np.log1p(-x)
    log_beta = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    y = _density(kernel, x, a, log_beta)
    mean = a / (a + b)
    var = a * b / ((a + b) ** 2) / (a + b + 1)
    return _draw_density(x, y, mean, var, suptitle, xlabel, ylabel, suptitle_fontsize,
                         ax, kwargs)
