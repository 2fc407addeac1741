"""Simulated customers from the buy-till-you-die models, lifetimes.generate_data's functions.

Each function draws from numpy's global random state (``numpy.random``) in the same order as
lifetimes 0.11.3, so after ``numpy.random.seed(s)`` it returns the same numbers as its lifetimes
namesake (tests/python/test_lifetimes_compat.py compares them with numbers recorded from
lifetimes). That draw order is the reason this module is Python: a simulator that reproduces
lifetimes' streams must make the same numpy calls one customer at a time. The columns and index
are lifetimes': every column float64 (alive is 1.0 or 0.0), the customer number (0, 1, ...) as
a float64 index named ``customer_id`` (a column for beta_geometric_beta_binom_model).

Differences from lifetimes: ``beta_geometric_nbd_model_transactional_data`` works on pandas 2
(lifetimes 0.11.3 calls DataFrame.append, removed in pandas 2, and raises AttributeError there);
its rows are the ones lifetimes gives on pandas 1. Parameters are checked (> 0, size >= 1, T
and N >= 0): a bad value raises crmkit.ValidationError naming it, where numpy would raise its
own error or draw NaN.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy import random

from .errors import ValidationError

__all__ = [
    "beta_geometric_nbd_model",
    "beta_geometric_nbd_model_transactional_data",
    "pareto_nbd_model",
    "modified_beta_geometric_nbd_model",
    "beta_geometric_beta_binom_model",
]


def _check(size: Any, **params: Any) -> int:
    for name, value in params.items():
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ValidationError(f"{name}: expected a number, got {value!r}") from None
        if not (np.isfinite(v) and v > 0):
            raise ValidationError(f"{name}: must be finite and > 0, got {value!r}")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValidationError(f"size: expected an integer >= 1, got {size!r}")
    return int(size)


def _ages(T: Any, size: int, name: str = "T",
          scalar_types: tuple = (float, int)) -> np.ndarray:
    # lifetimes: a Python float or int is repeated `size` times, anything else is taken as the
    # per-customer array (of length >= size)
    if type(T) in scalar_types:
        ages = T * np.ones(size)
    else:
        ages = np.asarray(T, dtype=np.float64)
    if ages.ndim != 1 or ages.size < size:
        raise ValidationError(f"{name}: expected a number or {size} values, got shape {ages.shape}")
    if not np.all(np.isfinite(ages[:size]) & (ages[:size] >= 0)):
        raise ValidationError(f"{name}: every value must be finite and >= 0")
    return ages


def _purchase_summary(times: list[float]) -> tuple[int, float]:
    """lifetimes' (frequency, recency) of inter-purchase times: frequency counts the distinct
    whole time units of the purchase times, recency is the last purchase time (0 if none)."""
    cumulative = np.array(times).cumsum()
    frequency = np.unique(np.array(cumulative).astype(int)).shape[0]
    recency = np.max(cumulative if cumulative.shape[0] > 0 else 0)
    return frequency, float(recency)


def _frame(rows: list[tuple], columns: list[str], index: bool = True) -> pd.DataFrame:
    df = pd.DataFrame(np.array(rows, dtype=np.float64).reshape(len(rows), len(columns)),
                      columns=columns)
    return df.set_index("customer_id") if index else df


def beta_geometric_nbd_model(T: Any, r: float, alpha: float, a: float, b: float,
                             size: int = 1) -> pd.DataFrame:
    """``size`` customers simulated from BG/NBD (Fader, Hardie, Lee 2005) observed for T time
    units each (a number, or one value per customer). Columns frequency, recency, T, lambda
    (purchase rate), p (drop-out probability after each purchase), alive (1.0/0.0 at T), indexed
    by customer_id."""
    size = _check(size, r=r, alpha=alpha, a=a, b=b)
    T = _ages(T, size)
    probability_of_post_purchase_death = random.beta(a, b, size=size)
    lambda_ = random.gamma(r, scale=1.0 / alpha, size=size)
    rows = []
    for i in range(size):
        p = probability_of_post_purchase_death[i]
        l = lambda_[i]
        times: list[float] = []
        next_purchase_in = random.exponential(scale=1.0 / l)
        alive = True
        while (np.sum(times) + next_purchase_in < T[i]) and alive:
            times.append(next_purchase_in)
            next_purchase_in = random.exponential(scale=1.0 / l)
            alive = random.random() > p
        frequency, recency = _purchase_summary(times)
        rows.append((frequency, recency, T[i], l, p, alive, i))
    return _frame(rows, ["frequency", "recency", "T", "lambda", "p", "alive", "customer_id"])


def beta_geometric_nbd_model_transactional_data(
    T: Any, r: float, alpha: float, a: float, b: float,
    observation_period_end: Any = "2019-1-1", freq: str = "D", size: int = 1,
) -> pd.DataFrame:
    """A transaction log (columns customer_id, date) of ``size`` BG/NBD customers: customer i's
    first purchase is T[i] units of ``freq`` before ``observation_period_end`` (counting the end's
    unit), then the repeat purchases of the model. lifetimes' rows and draw order."""
    size = _check(size, r=r, alpha=alpha, a=a, b=b)
    observation_period_end = pd.to_datetime(observation_period_end)
    if type(T) in [float, int]:
        start_date = [observation_period_end - pd.Timedelta(T - 1, unit=freq)] * size
        T = T * np.ones(size)
    else:
        T = _ages(T, size)
        start_date = [observation_period_end - pd.Timedelta(T[i] - 1, unit=freq)
                      for i in range(size)]
    probability_of_post_purchase_death = random.beta(a, b, size=size)
    lambda_ = random.gamma(r, scale=1.0 / alpha, size=size)
    purchases: list[list[Any]] = []
    for i in range(size):
        s = start_date[i]
        p = probability_of_post_purchase_death[i]
        l = lambda_[i]
        age = T[i]
        purchases.append([i, s - pd.Timedelta(1, unit=freq)])
        next_purchase_in = random.exponential(scale=1.0 / l)
        alive = True
        while next_purchase_in < age and alive:
            purchases.append([i, s + pd.Timedelta(next_purchase_in, unit=freq)])
            next_purchase_in += random.exponential(scale=1.0 / l)
            alive = random.random() > p
    return pd.DataFrame(purchases, columns=["customer_id", "date"])


def pareto_nbd_model(T: Any, r: float, alpha: float, s: float, beta: float,
                     size: int = 1) -> pd.DataFrame:
    """``size`` customers simulated from Pareto/NBD (Schmittlein, Morrison, Colombo 1987)
    observed for T time units each. Columns frequency, recency, T, lambda (purchase rate), mu
    (drop-out rate), alive (1.0 if the customer's lifetime exceeds T), indexed by customer_id."""
    size = _check(size, r=r, alpha=alpha, s=s, beta=beta)
    T = _ages(T, size)
    lambda_ = random.gamma(r, scale=1.0 / alpha, size=size)
    mus = random.gamma(s, scale=1.0 / beta, size=size)
    rows = []
    for i in range(size):
        l = lambda_[i]
        mu = mus[i]
        time_of_death = random.exponential(scale=1.0 / mu)
        times: list[float] = []
        next_purchase_in = random.exponential(scale=1.0 / l)
        while np.sum(times) + next_purchase_in < min(time_of_death, T[i]):
            times.append(next_purchase_in)
            next_purchase_in = random.exponential(scale=1.0 / l)
        frequency, recency = _purchase_summary(times)
        rows.append((frequency, recency, T[i], l, mu, time_of_death > T[i], i))
    return _frame(rows, ["frequency", "recency", "T", "lambda", "mu", "alive", "customer_id"])


def modified_beta_geometric_nbd_model(T: Any, r: float, alpha: float, a: float, b: float,
                                      size: int = 1) -> pd.DataFrame:
    """``size`` customers simulated from MBG/NBD (Batislam et al. 2007): BG/NBD where a customer
    may also drop out right after the first purchase. Columns as beta_geometric_nbd_model."""
    size = _check(size, r=r, alpha=alpha, a=a, b=b)
    T = _ages(T, size)
    probability_of_post_purchase_death = random.beta(a, b, size=size)
    lambda_ = random.gamma(r, scale=1.0 / alpha, size=size)
    rows = []
    for i in range(size):
        p = probability_of_post_purchase_death[i]
        l = lambda_[i]
        times: list[float] = []
        next_purchase_in = random.exponential(scale=1.0 / l)
        alive = random.random() > p  # the drop-out chance at the first purchase
        while (np.sum(times) + next_purchase_in < T[i]) and alive:
            times.append(next_purchase_in)
            next_purchase_in = random.exponential(scale=1.0 / l)
            alive = random.random() > p
        frequency, recency = _purchase_summary(times)
        rows.append((frequency, recency, T[i], l, p, alive, i))
    return _frame(rows, ["frequency", "recency", "T", "lambda", "p", "alive", "customer_id"])


def beta_geometric_beta_binom_model(N: Any, alpha: float, beta: float, gamma: float,
                                    delta: float, size: int = 1) -> pd.DataFrame:
    """``size`` customers simulated from BG/BB (Fader, Hardie, Shang 2010) with N transaction
    opportunities each. Columns frequency, recency, n_periods, p (transaction probability while
    alive), theta (drop-out probability per period), alive, customer_id (a column, as lifetimes
    returns it). Each period a living customer first survives with probability 1 - theta, then
    transacts with probability p; a customer alive after the N periods faces one more drop-out
    chance (lifetimes' rule, to agree with the paper's P(alive) one period on)."""
    size = _check(size, alpha=alpha, beta=beta, gamma=gamma, delta=delta)
    N = _ages(N, size, "N", (float, int, np.int64))
    probability_of_post_purchase_death = random.beta(a=alpha, b=beta, size=size)
    thetas = random.beta(a=gamma, b=delta, size=size)
    rows = []
    for i in range(size):
        p = probability_of_post_purchase_death[i]
        theta = thetas[i]
        current_t = 0
        alive = True
        times: list[int] = []
        while current_t < N[i] and alive:
            alive = random.binomial(1, theta) == 0
            if alive and random.binomial(1, p) == 1:
                times.append(current_t)
            current_t += 1
        if alive:
            alive = random.binomial(1, theta) == 0
        rows.append((len(times), times[-1] + 1 if len(times) != 0 else 0, N[i], p, theta,
                     alive, i))
    return _frame(rows, ["frequency", "recency", "n_periods", "p", "theta", "alive",
                         "customer_id"], index=False)
