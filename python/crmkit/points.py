"""Points programmes and the replay of a points ledger with pandas (crmkit/loyalty/points.hpp,
docs/points.md).

``PointsProgram`` comes from the core. ``replay_points`` takes a ledger as a DataFrame and returns
every customer's balances as of a date; it only converts columns and calls the core.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from . import _core
from .errors import ValidationError
from .lifecycle import _micros

PointsProgram = _core.PointsProgram

__all__ = ["PointsProgram", "replay_points"]

_REQUIRED = ("customer", "at", "kind", "points")
BALANCE_COLUMNS = ["customer", "available", "pending", "debt", "earned", "redeemed", "reversed",
                   "expired", "tier"]


def _times_or(values: Any, fallback: np.ndarray, field: str) -> tuple[np.ndarray, np.ndarray]:
    """Microseconds of a column that may hold missing times, and a mask of the present ones;
    missing cells take `fallback`."""
    series = pd.Series(values)
    present = (~series.isna()).to_numpy()
    out = fallback.copy()
    if present.any():
        out[present] = _micros(series[present].reset_index(drop=True), field)
    return out, present.astype(np.uint8)


def _ints(df: pd.DataFrame, name: str, default: int = 0) -> np.ndarray:
    if name not in df.columns:
        return np.full(len(df), default, dtype=np.int64)
    col = df[name]
    if col.isna().any():
        col = col.fillna(default)
    if pd.api.types.is_float_dtype(col.dtype) and not np.all(np.mod(col.to_numpy(), 1) == 0):
        raise ValidationError(f"{name}: expected whole numbers")
    return col.to_numpy(dtype=np.int64)


def _texts(df: pd.DataFrame, name: str) -> list[str]:
    if name not in df.columns:
        return [""] * len(df)
    return ["" if (v is None or (isinstance(v, float) and np.isnan(v))) else str(v)
            for v in df[name].tolist()]


def replay_points(program: PointsProgram, entries: pd.DataFrame, as_of: Any) -> pd.DataFrame:
    """Every customer's points balances as of ``as_of``, by replaying the ledger ``entries``.

    ``entries`` has one row per ledger entry with the columns ``customer``, ``at``, ``kind``
    (earn, redeem, reversal, adjustment, spend) and ``points``, and optionally ``available_at``
    and ``expires_at`` (grants; missing: available at ``at``, never expiring), ``event``,
    ``rule``, ``amount`` (spend rows: a decimal string or Decimal in the programme's currency) and
    ``id`` (the replay order within one time; missing: the row number). Entries after ``as_of``
    are ignored. Returns one row per customer with an entry, ascending by customer: customer,
    available, pending, debt, earned, redeemed, reversed, expired and tier.
    """
    if not isinstance(program, PointsProgram):
        raise TypeError(f"program: expected a crmkit.PointsProgram, got {type(program).__name__}")
    if not isinstance(entries, pd.DataFrame):
        raise TypeError(f"entries: expected a pandas DataFrame, got {type(entries).__name__}")
    missing = [c for c in _REQUIRED if c not in entries.columns]
    if missing:
        raise ValidationError(f"entries: missing column {missing[0]!r}")
    df = entries.reset_index(drop=True)
    at = _micros(df["at"], "at") if len(df) else np.zeros(0, dtype=np.int64)
    if "available_at" in df.columns and len(df):
        available_at, _ = _times_or(df["available_at"], at, "available_at")
    else:
        available_at = at.copy()
    if "expires_at" in df.columns and len(df):
        expires_at, has_expiry = _times_or(df["expires_at"], np.zeros(len(df), dtype=np.int64),
                                           "expires_at")
    else:
        expires_at = np.zeros(len(df), dtype=np.int64)
        has_expiry = np.zeros(len(df), dtype=np.uint8)
    ids = _ints(df, "id") if "id" in df.columns else np.arange(1, len(df) + 1, dtype=np.int64)
    amount = _texts(df, "amount") if "amount" in df.columns else None
    cols = _core._replay_points(
        program, ids, _ints(df, "customer"), at, _texts(df, "kind"), _ints(df, "points"),
        available_at, expires_at, has_expiry, _ints(df, "event"), _texts(df, "rule"), amount,
        as_of)
    return pd.DataFrame({name: cols[name] for name in BALANCE_COLUMNS})
