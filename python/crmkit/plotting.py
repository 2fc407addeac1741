"""Plots of the value models: lifetimes' plotting functions, same names and arguments.

Every function takes a fitted model (crmkit.BetaGeoFitter, ParetoNBDFitter, ...), draws on ``ax``
(a new figure when ``ax`` is None) and returns the matplotlib Axes it drew on. matplotlib is
imported inside each function, so ``import crmkit.plotting`` works without it.

The numbers behind a plot come from the model's own prediction methods
(``conditional_probability_alive``, ``conditional_expected_number_of_purchases_up_to_time``,
``probability_of_n_purchases_up_to_time``, ``expected_number_of_purchases_up_to_time``), called
once on whole columns; these functions only arrange the results. Unlike lifetimes, nothing here is
simulated: plot_period_transactions shows the model's expected counts, so a plot is reproducible.

These functions only draw: the numbers behind plot_cumulative_transactions (the repeat counting
and the model's expectations) are crmkit.utils.expected_cumulative_transactions, lifetimes' table
with lifetimes' arguments, also importable from here as lifetimes users may expect.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import ValidationError
from .utils import expected_cumulative_transactions

__all__ = [
    "plot_frequency_recency_matrix",
    "plot_probability_alive_matrix",
    "plot_period_transactions",
    "plot_calibration_purchases_vs_holdout_purchases",
    "plot_cumulative_transactions",
    "expected_cumulative_transactions",
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


def _grid(data: Any, max_frequency: Any, max_recency: Any, discrete: bool):
    """The frequency and recency of each cell of a matrix plot (2-D arrays, rows = recency,
    columns = frequency), the mask of the cells that describe a possible customer (frequency 0
    only with recency 0; for BG/BB also frequency <= recency) and the age of those cells."""
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
    valid = (frequency > 0) | (recency == 0)
    if discrete:
        valid &= frequency <= recency
    age = np.full(int(valid.sum()), float(max_recency))
    return frequency, recency, valid, age


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
    model. ``kwargs`` go to ``Axes.imshow``. Returns the Axes.
    """
    data = _fitted_data(model, "plot_frequency_recency_matrix")
    discrete = _is_discrete(model, data)
    frequency, recency, valid, age = _grid(data, max_frequency, max_recency, discrete)
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
    frequency, recency, valid, age = _grid(data, max_frequency, max_recency, discrete)
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
# cumulative transactions


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
    freq_multiplier: int = 1,
    title: str = "Tracking Cumulative Transactions",
    xlabel: str = "day",
    ylabel: str = "Cumulative Transactions",
    ax: Any = None,
    **kwargs: Any,
) -> Any:
    """Lines of the actual and the model's cumulative repeat transactions over time (the table
    of expected_cumulative_transactions, same arguments), and a dashed red vertical line at
    ``t_cal``, the end of the calibration period (in rows: with freq="D", freq_multiplier=7 the
    x axis counts weeks from 0). With set_index_date the x axis shows the periods' dates and the
    line is at row int(t_cal). ``kwargs`` go to ``Axes.plot``. Returns the Axes; its lines are
    actual, predicted and the calibration marker, in that order.
    """
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
    ax = _new_axes(ax)
    if set_index_date:
        x = table.index.to_timestamp()
        marker = x[int(t_cal)]
        xlabel = "date" if xlabel == "day" else xlabel
    else:
        x = np.asarray(table.index)
        marker = t_cal
    ax.plot(x, table["actual"].to_numpy(), label="actual", **kwargs)
    ax.plot(x, table["predicted"].to_numpy(), label="predicted", **kwargs)
    ax.axvline(x=marker, color="r", linestyle="--")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    return ax
