"""Lifecycle machines and history reporting with pandas (crmkit/lifecycle/*.hpp, docs/lifecycle.md).

``Machine`` and ``default_machine`` come from the core; this module adds
``Machine.evaluate_columns`` (states per row and a DataFrame of changes) and ``History``, the
history arithmetic over a DataFrame of transition rows. Both only convert columns and call the
core.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import pandas as pd

from . import _core
from .errors import ValidationError

Machine = _core.Machine
default_machine = _core.default_machine
default_machine_names = _core.default_machine_names
default_machine_json = _core.default_machine_json

__all__ = ["Machine", "History", "default_machine", "default_machine_names", "default_machine_json"]

_US = pd.Timedelta(microseconds=1)
_EPOCH = pd.Timestamp(0, tz="UTC")


def _micros(values: Any, field: str) -> np.ndarray:
    """UTC microseconds since the epoch of a column of times (naive times are taken as UTC).
    Numbers are refused: pandas reads them as nanoseconds, so int64 microseconds (the unit of
    crmkit's columns) would silently become dates in January 1970."""
    series = pd.Series(values)
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_datetime64_any_dtype(series.dtype):
        raise ValidationError(f"{field}: expected datetimes (datetime64, datetime or ISO text), "
                              f"got {series.dtype}")
    times = pd.to_datetime(series, utc=True)
    if times.isna().any():
        raise ValidationError(f"{field}: row {int(np.flatnonzero(times.isna().to_numpy())[0])}: missing time")
    return ((times - _EPOCH) // _US).to_numpy(dtype=np.int64)


def _time(micros: int) -> pd.Timestamp:
    return _EPOCH + pd.Timedelta(microseconds=int(micros))


def _state_codes(machine: Any, states: Any) -> Any:
    """The current states as the core takes them: an integer numpy array of state indexes when
    that can be had without a per-row Python step (indexes; a Categorical of names, its categories
    mapped once), else the sequence or object array itself (names and indexes, looked up in C++)."""
    if isinstance(states, pd.Series):
        states = states.array if isinstance(states.dtype, pd.CategoricalDtype) else states.to_numpy()
    if isinstance(states, pd.Categorical):
        # Categories map to indexes once; a missing cell (code -1) is refused by name.
        cat_codes = np.asarray(states.codes)
        if cat_codes.size and cat_codes.min() < 0:
            row = int(np.flatnonzero(cat_codes < 0)[0])
            raise ValidationError(f"states: row {row}: missing state")
        cats = [str(c) for c in states.categories]
        lut = np.array([machine.state_index(c) if machine.has_state(c) else -1 for c in cats] + [-1],
                       dtype=np.int64)
        codes = lut[cat_codes]
        if codes.size and codes.min() < 0:
            # A category in use that names no state: the core's not-found error for it.
            machine.state_index(cats[int(cat_codes[int(np.flatnonzero(codes < 0)[0])])])
        return codes
    if isinstance(states, np.ndarray):
        if states.dtype.kind in "iu":
            return states
        if states.dtype.kind == "U":
            states = states.astype(object)
        return states
    if isinstance(states, (list, tuple)):
        return states
    return list(states)


def _evaluate_columns(
    self: Any, states: Any, days_in_stage: Any, facts: Any, *, as_codes: bool = False
) -> tuple[Any, pd.DataFrame]:
    """Automatic evaluation of every row of ``facts`` (a DataFrame or dict of columns).

    ``states``: each row's current state: names or indexes (a list, a numpy array, a pandas
    Series, or a ``pandas.Categorical`` / category Series of names); ``days_in_stage``: whole days
    in it. Returns the new state of each row (a Series of names, dtype object) and the changes, a
    DataFrame with columns row, from, to, transition (names, as categoricals over the machine's
    state and transition names; by row, then in the order taken). With ``as_codes=True``: the new states as an int32 numpy array of indexes into
    ``state_names`` and the changes' from, to and transition as int32 indexes (into
    ``state_names`` and ``transitions``), the fastest form.
    """
    new, row, frm, to, tr = self._evaluate_columns(
        _state_codes(self, states), np.asarray(days_in_stage, dtype=np.int64), facts
    )
    if as_codes:
        return new, pd.DataFrame({"row": row, "from": frm, "to": to, "transition": tr}, copy=False)
    # The new states by position out of an object array of the few names: one pointer per row,
    # no string built per row and no per-cell type inference (dtype object is given). The
    # changes' names are categoricals over the names (their codes are the core's indexes).
    names = np.array(self.state_names, dtype=object)
    tnames = np.array([t["name"] for t in self.transitions], dtype=object)
    state_type = pd.CategoricalDtype(pd.Index(names, dtype=object))
    transition_type = pd.CategoricalDtype(pd.Index(tnames, dtype=object))

    def cat(codes: np.ndarray, dtype: pd.CategoricalDtype) -> pd.Categorical:
        return pd.Categorical.from_codes(codes, dtype=dtype, validate=False)

    changes = pd.DataFrame(
        {"row": row, "from": cat(frm, state_type), "to": cat(to, state_type),
         "transition": cat(tr, transition_type)},
        copy=False,
    )
    return pd.Series(names[new], dtype=object, copy=False, name="state"), changes


Machine.evaluate_columns = _evaluate_columns


class History:
    """Reporting over the transition history of one machine (crmkit/lifecycle/history.hpp).

    ``rows``: a DataFrame with one row per transition: the entity id (int), the state it leaves
    (``None``/NaN for the row that creates the entity), the state it enters, and the time
    (datetime-like; naive times are UTC). Column names are given by ``entity``, ``from_state``,
    ``to_state`` and ``at``. States are names of ``machine``'s states (a Machine, or a list of
    names). Durations are in days: (exit - entry) / 86,400 s, not rounded.
    """

    def __init__(
        self,
        rows: pd.DataFrame,
        machine: Any,
        *,
        entity: str = "entity",
        from_state: str = "from",
        to_state: str = "to",
        at: str = "at",
    ) -> None:
        names = list(machine.state_names) if hasattr(machine, "state_names") else list(machine)
        self.state_names: list[str] = names
        index = {n: i for i, n in enumerate(names)}

        def codes(column: str, allow_none: bool) -> np.ndarray:
            # Vectorised: positions in the machine's states; -1 for missing or unknown. factorize
            # hashes each cell once in its own dtype; only the distinct values are looked up.
            values = rows[column]
            missing = values.isna().to_numpy()
            distinct, uniques = pd.factorize(values)
            lookup = pd.Index(names, dtype=object).get_indexer(pd.Index(uniques, dtype=object))
            out = np.where(distinct < 0, -1, lookup[distinct]).astype(np.int32)
            unknown = np.flatnonzero((out < 0) & ~missing)
            if unknown.size:
                i = int(unknown[0])
                raise ValidationError(f"{column}: row {i}: unknown state {values.iloc[i]!r}")
            if not allow_none and missing.any():
                raise ValidationError(f"{column}: row {int(np.flatnonzero(missing)[0])}: missing state")
            return out

        self._core = _core._History(
            rows[entity].to_numpy(dtype=np.int64),
            codes(from_state, True),
            codes(to_state, False),
            _micros(rows[at], at),
            len(names),
            names,
        )

    @classmethod
    def _from_core(cls, core: Any, state_names: list[str]) -> "History":
        """A History over a built _core._History (Store.stage_history)."""
        self = cls.__new__(cls)
        self.state_names = list(state_names)
        self._core = core
        return self

    def _name(self, codes: np.ndarray) -> pd.Series:
        """State names for state codes, None for -1 (an object column: None stays None)."""
        names = np.asarray(self.state_names + [None], dtype=object)
        return pd.Series(names[np.where(codes < 0, len(self.state_names), codes)], dtype=object)

    @property
    def entities(self) -> np.ndarray:
        """The distinct entity ids, ascending (the order of per-entity results)."""
        return self._core.entities()

    def stages_as_of(self, as_of: Any) -> pd.DataFrame:
        """Each entity's state as of ``as_of`` (rows at or before it count): columns entity, state
        (None before the entity's first row)."""
        return pd.DataFrame({"entity": self.entities, "state": self._name(self._core.stages_as_of(as_of))})

    def stage_times(self, as_of: Any) -> pd.DataFrame:
        """Per entity and state entered by ``as_of``: first_entered, last_exited (NaT if never
        left), latest_entered, current, stints (entries) and days (cumulative, the open stint up
        to ``as_of``)."""
        entity, state, first, has_exit, exited, latest, current, stints, days = self._core.stage_times(as_of)
        to_time = lambda m: pd.to_datetime(m, unit="us", utc=True)  # noqa: E731
        last_exited = to_time(exited).where(has_exit.astype(bool))
        return pd.DataFrame(
            {
                "entity": entity,
                "state": self._name(state),
                "first_entered": to_time(first),
                "last_exited": last_exited,
                "latest_entered": to_time(latest),
                "current": current.astype(bool),
                "stints": stints,
                "days": days,
            }
        )

    def distribution(self, dates: Iterable[Any]) -> pd.DataFrame:
        """Entities per state at each date: one row per date (in the given order), one column per
        state."""
        dates = list(dates)
        micros = _micros(dates, "dates")
        counts = self._core.distribution(micros).reshape(len(dates), len(self.state_names))
        index = pd.DatetimeIndex([_time(m) for m in micros], name="date")
        return pd.DataFrame(counts, index=index, columns=self.state_names)

    def transition_counts(self, start: Any, end: Any) -> pd.DataFrame:
        """Rows with start <= time < end by (from, to): columns from (None: creation), to, count."""
        frm, to, count = self._core.transition_counts(start, end)
        return pd.DataFrame({"from": self._name(frm), "to": self._name(to), "count": count})

    def funnel(self, start: Any, end: Any) -> pd.DataFrame:
        """For each pair of states (a, b): of the entities that entered a in [start, end), how
        many entered b later (before ``end``): columns from, to, entered, reached, rate; pairs
        whose ``entered`` is 0 are left out."""
        entered, reached = self._core.funnel(start, end)
        n = len(self.state_names)
        reached = reached.reshape(n, n)
        rows = [
            (self.state_names[a], self.state_names[b], int(entered[a]), int(reached[a, b]), reached[a, b] / entered[a])
            for a in range(n)
            if entered[a] > 0
            for b in range(n)
        ]
        return pd.DataFrame(rows, columns=["from", "to", "entered", "reached", "rate"])

    def median_durations(self, as_of: Any) -> pd.DataFrame:
        """Each state's median completed stint in days (NaN when none by ``as_of``)."""
        return pd.DataFrame({"state": self.state_names, "median_days": self._core.median_durations(as_of)})
