"""The transaction log of the Dask benchmark, generated one partition at a time (numpy + pandas).

Imported by every side (the project venv with numpy 2 / pandas 3, and bench/value/.venv-lifetimes
with numpy 1.26 / pandas 2.0), so it uses nothing else. The population is the value benchmark's
(bench/value/generate.py: BG/NBD with lifetimes' CDNOW parameters r=0.243, alpha=4.414, a=0.793,
b=2.426 in weeks, Gamma-Gamma spend with p=6.25, q=3.74, v=15.44 in dollars, a 78-week window
from Monday 2020-01-06 UTC, trial purchases uniform over the first 12 weeks), but the log is never
built whole: partition k holds customers ``k*P+1 .. min((k+1)*P, N)`` (P customers per
partition), drawn with ``numpy.random.default_rng([seed, k])``, so any process can make any
partition and gets the same rows. Every customer has a trial purchase inside the window, so
partition k's smallest customer id is ``k*P+1`` and the divisions are known in advance.

A partition is a pandas DataFrame indexed by ``customer_id`` (int64, sorted; a customer's rows are
in time order) with the columns ``date`` (datetime64[ns], naive UTC) and ``amount`` (float64
dollars: a whole number of cents / 100, as the value benchmark feeds both libraries).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}
START = pd.Timestamp("2020-01-06")  # a Monday, UTC
WEEKS = 78.0
COHORT_WEEKS = 12.0
START_US = int(START.value // 1000)
US_PER_WEEK = 7 * 86_400 * 1_000_000
OBSERVATION_END = START + pd.Timedelta(weeks=WEEKS)


class Layout:
    """N customers cut into partitions of P customers (the last may be smaller)."""

    def __init__(self, customers: int, per_partition: int, seed: int):
        if customers < 1 or per_partition < 1:
            raise ValueError("customers and per_partition must be >= 1")
        self.customers = customers
        self.per_partition = per_partition
        self.seed = seed
        self.npartitions = -(-customers // per_partition)

    def bounds(self, k: int) -> tuple[int, int]:
        """First and last customer id of partition k."""
        lo = k * self.per_partition + 1
        return lo, min(lo + self.per_partition - 1, self.customers)

    def specs(self) -> list[tuple[int, int, int, int]]:
        """(k, first id, last id, seed) of every partition: the arguments of partition()."""
        return [(k, *self.bounds(k), self.seed) for k in range(self.npartitions)]

    def divisions(self) -> list[int]:
        return [self.bounds(k)[0] for k in range(self.npartitions)] + [self.customers]


def meta() -> pd.DataFrame:
    """The empty frame with partition()'s columns, dtypes and index."""
    return pd.DataFrame({"date": pd.Series([], dtype="datetime64[ns]"),
                         "amount": pd.Series([], dtype="float64")},
                        index=pd.Index([], dtype="int64", name="customer_id"))


def arrays(spec: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(customer_id, time_us, amount_cents) of one partition, sorted by (customer, time)."""
    k, lo, hi, seed = spec
    n = hi - lo + 1
    rng = np.random.default_rng([seed, k])
    lam = rng.gamma(BGNBD["r"], 1.0 / BGNBD["alpha"], n)
    pdrop = rng.beta(BGNBD["a"], BGNBD["b"], n)
    nu = rng.gamma(GAMMA_GAMMA["q"], 1.0 / GAMMA_GAMMA["v"], n)
    window_us = int(round(WEEKS * US_PER_WEEK))
    first_us = rng.integers(0, int(round(COHORT_WEEKS * US_PER_WEEK)), n, dtype=np.int64)
    ids_parts = [np.arange(n, dtype=np.int64)]
    t_parts = [first_us]
    active = np.arange(n, dtype=np.int64)
    t_weeks = first_us / US_PER_WEEK
    end_weeks = window_us / US_PER_WEEK
    while active.size:  # one vectorised round per purchase number, as bench/value/generate.py
        t_weeks = t_weeks + rng.exponential(1.0, active.size) / lam[active]
        inside = t_weeks < end_weeks
        active, t_weeks = active[inside], t_weeks[inside]
        if not active.size:
            break
        ids_parts.append(active)
        t_parts.append(np.minimum(np.rint(t_weeks * US_PER_WEEK).astype(np.int64), window_us - 1))
        alive = rng.random(active.size) >= pdrop[active]
        active, t_weeks = active[alive], t_weeks[alive]
    idx = np.concatenate(ids_parts)
    t_us = np.concatenate(t_parts)
    dollars = rng.gamma(GAMMA_GAMMA["p"], 1.0, idx.size) / nu[idx]
    cents = np.maximum(np.rint(dollars * 100.0), 1.0).astype(np.int64)
    order = np.lexsort((t_us, idx))
    return idx[order] + lo, t_us[order] + START_US, cents[order]


def partition(spec: tuple[int, int, int, int]) -> pd.DataFrame:
    """One partition as a pandas DataFrame (see the module docstring)."""
    cid, t_us, cents = arrays(spec)
    return pd.DataFrame({"date": (t_us * 1000).astype("datetime64[ns]"),
                         "amount": cents / 100.0},
                        index=pd.Index(cid, name="customer_id"))


def dask_frame(layout: Layout):
    """The lazy Dask DataFrame of the whole log: dask.dataframe.from_map over the partitions."""
    import dask.dataframe as dd
    return dd.from_map(partition, layout.specs(), meta=meta(), divisions=layout.divisions(),
                       enforce_metadata=False)
