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

__all__ = ["PointsProgram", "PointsAccountView", "replay_points", "replay_points_account"]

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


def _entry_columns(program: Any, entries: Any) -> tuple:
    """The ledger DataFrame as the columns the core takes (see replay_points)."""
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
    return (program, ids, _ints(df, "customer"), at, _texts(df, "kind"), _ints(df, "points"),
            available_at, expires_at, has_expiry, _ints(df, "event"), _texts(df, "rule"), amount)


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
    cols = _core._replay_points(*_entry_columns(program, entries), as_of)
    return pd.DataFrame({name: cols[name] for name in BALANCE_COLUMNS})


def _times(micros: np.ndarray, present: np.ndarray | None = None) -> pd.Series:
    out = pd.Series(pd.to_datetime(np.asarray(micros, dtype=np.int64), unit="us", utc=True))
    if present is not None:
        out[~np.asarray(present, dtype=bool)] = pd.NaT
    return out


class PointsAccountView:
    """One customer's points account as of a date (``replay_points_account``): ``balances`` (a
    dict: available, pending, debt, earned, redeemed, reversed, expired, redeemable, balance,
    tier), ``lots`` (a DataFrame, one row per lot in grant order, spent and expired lots
    included) and ``tier_history`` (a DataFrame of at, from, to)."""

    def __init__(self, balances: dict, lots: pd.DataFrame, tier_history: pd.DataFrame):
        self.balances = balances
        self.lots = lots
        self.tier_history = tier_history

    def __repr__(self) -> str:
        return (f"PointsAccountView(customer={self.balances['customer']}, "
                f"available={self.balances['available']}, debt={self.balances['debt']}, "
                f"tier={self.balances['tier']!r}, lots={len(self.lots)})")


def replay_points_account(program: PointsProgram, entries: pd.DataFrame, customer: int,
                          as_of: Any) -> PointsAccountView:
    """One customer's balances, lots and tier history as of ``as_of``, by replaying the rows of
    ``entries`` (same columns as ``replay_points``) that belong to ``customer``."""
    balances, lots, history = _core._replay_points_account(
        *_entry_columns(program, entries), int(customer), as_of)
    lots_df = pd.DataFrame({
        "entry": lots["entry"], "event": lots["event"], "rule": lots["rule"],
        "granted_at": _times(lots["granted_at"]), "available_at": _times(lots["available_at"]),
        "expires_at": _times(lots["expires_at"], lots["has_expiry"]),
        "granted": lots["granted"], "paid_to_debt": lots["paid_to_debt"],
        "redeemed": lots["redeemed"], "reversed": lots["reversed"], "expired": lots["expired"],
        "remaining": lots["remaining"], "pending": np.asarray(lots["pending"], dtype=bool),
    })
    history_df = pd.DataFrame({"at": _times(history["at"]), "from": history["from"],
                               "to": history["to"]})
    return PointsAccountView(dict(balances), lots_df, history_df)
