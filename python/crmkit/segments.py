"""Segments and their drift (crmkit/loyalty/segments.hpp, crmkit/analytics/segments.hpp;
docs/segments.md).

Store-level calls (Store.segments, segment_drift, segment_drift_series, mainstream_segments) run
the C++ analytics layer and only shape its results into DataFrames. ``rules`` is None for RFM
segments (the value engine's), or rule segments: a dict ``{"segments": [{"name": ..., "when":
<JSON Logic>}, ...], "fallback": "Other"}``, a list of such segments (fallback "Other"), or the
same as JSON text. Rules are compiled against the store's fact schema (Store.fact_schema), with
declared ``windows``.

Pure calls: crmkit.segment_drift(labels_a, labels_b) on two label columns of the same customers,
crmkit.purchase_segments on a purchase log at several dates, and crmkit.plot_segment_drift.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Iterable

import numpy as np

from . import _core
from ._json import json_text
from .errors import ValidationError

__all__ = ["segment_drift", "purchase_segments", "plot_segment_drift", "rfm_segment_names"]

NONE = "none"


def rfm_segment_names() -> list[str]:
    """The default RFM grid's segment names, best first (the order of RFM rows and columns)."""
    return list(_core.rfm_segment_names())


def _rules_text(rules: Any) -> str | None:
    if rules is None:
        return None
    if isinstance(rules, str):
        return rules
    if isinstance(rules, Mapping):
        return json_text(dict(rules), "rules")
    if isinstance(rules, (list, tuple)):
        return json_text({"segments": list(rules)}, "rules")
    raise ValidationError(f"rules: expected a dict, a list of segments or a JSON string, got "
                          f"{type(rules).__name__}")


def _utc(micros: Any) -> Any:
    import pandas as pd

    return pd.to_datetime(np.asarray(micros, dtype=np.int64), unit="us", utc=True)


def _matrix_frame(d: Mapping[str, Any]) -> Any:
    import pandas as pd

    frame = pd.DataFrame(np.asarray(d["counts"], dtype=np.int64),
                         index=pd.Index(list(d["from"]), name="from"),
                         columns=pd.Index(list(d["to"]), name="to"))
    return frame


# ---- store level (wrapped by crmkit.Store methods) ----


def store_segments(store: Any, as_of: Any, rules: Any = None, windows: Any = None) -> Any:
    import pandas as pd

    from .facts import _window_texts

    d = _core.store_segments(store, as_of, _rules_text(rules), _window_texts(windows))
    code = np.asarray(d["code"], dtype=np.int32)
    keep = code >= 0
    names = list(d["names"])
    return pd.DataFrame({
        "customer_id": np.asarray(d["customer_id"], dtype=np.int64)[keep],
        "external_id": pd.Series(np.asarray(d["external_id"], dtype=object)[keep], dtype=object),
        "segment": pd.Categorical.from_codes(code[keep], categories=names),
    })


def store_segment_drift(store: Any, start: Any, end: Any, rules: Any = None,
                        windows: Any = None) -> Any:
    from .facts import _window_texts

    return _matrix_frame(_core.store_segment_drift(store, start, end, _rules_text(rules),
                                                   _window_texts(windows)))


def store_segment_drift_series(store: Any, start: Any, end: Any, period: str = "month",
                               rules: Any = None, windows: Any = None) -> Any:
    import pandas as pd

    from .facts import _window_texts

    d = _core.store_segment_drift_series(store, start, end, period, _rules_text(rules),
                                         _window_texts(windows))
    dates = _utc(d["dates_micros"])
    parts = []
    for i, step in enumerate(d["steps"]):
        counts = np.asarray(step["counts"], dtype=np.int64)
        rows, cols = counts.shape
        parts.append(pd.DataFrame({
            "date": pd.Series([dates[i + 1]] * (rows * cols), dtype=dates.dtype),
            "from": np.repeat(np.asarray(list(step["from"]), dtype=object), cols),
            "to": np.tile(np.asarray(list(step["to"]), dtype=object), rows),
            "count": counts.reshape(-1),
        }))
    if not parts:
        return pd.DataFrame({"date": pd.Series([], dtype=dates.dtype), "from": [], "to": [],
                             "count": np.array([], dtype=np.int64)})
    out = pd.concat(parts, ignore_index=True)
    out.attrs["start"] = dates[0]
    return out


def store_mainstream_segments(store: Any, as_of: Any, k: int = 3, rules: Any = None,
                              windows: Any = None) -> Any:
    import pandas as pd

    from .facts import _window_texts

    d = _core.store_mainstream_segments(store, as_of, int(k), _rules_text(rules),
                                        _window_texts(windows))
    segments = list(d["segment"])
    by_c = list(d["by_customers"])
    by_r = list(d["by_revenue"])
    rank_c = pd.array([by_c.index(s) + 1 if s in by_c else None for s in segments], dtype="Int64")
    rank_r = pd.array([by_r.index(s) + 1 if s in by_r else None for s in segments], dtype="Int64")
    frame = pd.DataFrame({
        "customers": np.asarray(d["customers"], dtype=np.int64),
        "revenue": np.array([m.amount for m in d["revenue"]], dtype=object),
        "customers_rank": rank_c,
        "revenue_rank": rank_r,
    }, index=pd.Index(segments, name="segment"))
    frame["mainstream"] = frame["customers_rank"].notna().to_numpy() | \
        frame["revenue_rank"].notna().to_numpy()
    frame.attrs["by_customers"] = by_c
    frame.attrs["by_revenue"] = by_r
    return frame


# ---- pure ----


def _codes(labels: Any, field: str) -> tuple[list[str], np.ndarray]:
    """Segment names and int32 codes (-1 = none) of a label column: a pandas Categorical or
    categorical Series (its categories, in order), or any array of names where None, NaN, "" and
    "none" mean no segment (names sorted)."""
    import pandas as pd

    if isinstance(labels, pd.Series) and isinstance(labels.dtype, pd.CategoricalDtype):
        labels = labels.array
    if isinstance(labels, pd.Categorical):
        names = [str(c) for c in labels.categories]
        codes = np.asarray(labels.codes, dtype=np.int32)
        if NONE in names:
            codes = codes.copy()
            codes[codes == names.index(NONE)] = -1
            # The "none" category stays among the names but no customer refers to it; drop it.
            keep = [i for i, n in enumerate(names) if n != NONE]
            remap = np.full(len(names) + 1, -1, dtype=np.int32)
            for new, old in enumerate(keep):
                remap[old + 1] = new
            codes = remap[codes + 1]
            names = [names[i] for i in keep]
        return names, codes
    values = pd.Series(np.asarray(labels, dtype=object), dtype=object)
    blank = values.isna() | (values == "") | (values == NONE)
    values = values.where(~blank, None)
    cat = pd.Categorical(values)
    return [str(c) for c in cat.categories], np.asarray(cat.codes, dtype=np.int32)


def segment_drift(labels_a: Any, labels_b: Any) -> Any:
    """The drift matrix between two label columns of the same customers (same length and order):
    a DataFrame indexed by "from" (a's segments, then "none": customers without a segment in a),
    columns "to" (b's segments, then "none" only if a customer with a segment in a has none in
    b), cells the customer counts. Row sums are a's segment sizes, column sums b's.

    A label column is a pandas Categorical (or categorical Series: its categories give the order)
    or an array of names, where None, NaN, "" and "none" mean no segment (names then sorted).
    Segments: a's, then b's that a lacks. Raises ValidationError for columns of different lengths.
    """
    names_a, codes_a = _codes(labels_a, "labels_a")
    names_b, codes_b = _codes(labels_b, "labels_b")
    return _matrix_frame(_core.segment_drift_codes(names_a, codes_a, names_b, codes_b))


def purchase_segments(customer_index: Any, times: Any, amounts_minor: Any, dates: Iterable[Any],
                      rules: Any, *, customers: int | None = None, scale: int = 2) -> list[Any]:
    """Rule segments of every customer at each of ``dates`` from a purchase log in one pass
    (crmkit/loyalty/segments.hpp purchase_segments): customers are dense indexes 0..customers-1
    (``customers`` defaults to max + 1), times datetime64 (naive = UTC) or int64 UTC
    microseconds, amounts int64 minor units with ``scale`` digits. The rules read the facts
    recency_days (whole days since the last purchase), frequency (purchases) and monetary (their
    sum, major units). Returns one pandas Categorical per date (NaN: no purchase yet), to pass
    to segment_drift."""
    import pandas as pd

    from .facts import _ints, _micros

    def plain(values: Any) -> bool:  # int64 numpy columns go to the core as they are
        return isinstance(values, np.ndarray) and values.dtype == np.int64 and values.ndim == 1

    idx = customer_index if plain(customer_index) else _ints(customer_index, "customer_index")
    t = times if plain(times) else _micros(times, "times")
    a = amounts_minor if plain(amounts_minor) else _ints(amounts_minor, "amounts_minor")
    if customers is None:
        customers = int(idx.max()) + 1 if len(idx) else 0
    text = _rules_text(rules)
    if text is None:
        raise ValidationError("rules: purchase_segments needs rule segments")
    out = _core.purchase_segments(int(customers), idx, t, a, list(dates), text, int(scale))
    return [pd.Categorical.from_codes(np.asarray(d["code"], dtype=np.int32),
                                      categories=list(d["names"])) for d in out]


def plot_segment_drift(drift: Any, ax: Any = None, **kwargs: Any) -> Any:
    """Draws a drift matrix (segment_drift, Store.segment_drift) as a heat map with the counts in
    the cells, or a drift series (Store.segment_drift_series) as stacked bars of segment sizes per
    date with the customers who changed segment as a line. Returns the matplotlib Axes (a new
    figure when ``ax`` is None); matplotlib is imported here."""
    import pandas as pd

    from .plotting import _new_axes

    ax = _new_axes(ax)
    if isinstance(drift, pd.DataFrame) and {"date", "from", "to", "count"} <= set(drift.columns):
        if drift.empty:
            raise ValidationError("drift: the series has no step")
        sizes = drift.groupby(["date", "to"], sort=False)["count"].sum().unstack("to").fillna(0)
        sizes = sizes.drop(columns=[NONE], errors="ignore")
        moved = drift[(drift["from"] != drift["to"]) & (drift["from"] != NONE)]
        moved = moved.groupby("date", sort=False)["count"].sum().reindex(sizes.index, fill_value=0)
        labels = [pd.Timestamp(d).strftime("%Y-%m-%d") for d in sizes.index]
        x = np.arange(len(labels))
        bottom = np.zeros(len(labels))
        for column in sizes.columns:
            values = sizes[column].to_numpy(dtype=float)
            ax.bar(x, values, bottom=bottom, label=str(column), **kwargs)
            bottom += values
        ax.plot(x, moved.to_numpy(dtype=float), color="black", marker="o",
                label="changed segment")
        ax.set_xticks(x)
        ax.set_xticklabels(labels, rotation=90)
        ax.set_ylabel("customers")
        ax.set_title("Segment sizes and moves")
        ax.legend(fontsize="small")
        return ax
    if not isinstance(drift, pd.DataFrame):
        raise ValidationError(f"drift: expected a drift matrix or series DataFrame, got "
                              f"{type(drift).__name__}")
    z = drift.to_numpy(dtype=float)
    kwargs.setdefault("aspect", "auto")
    kwargs.setdefault("interpolation", "none")
    kwargs.setdefault("cmap", "Blues")
    image = ax.imshow(z, **kwargs)
    ax.set_xticks(np.arange(z.shape[1]))
    ax.set_xticklabels([str(c) for c in drift.columns], rotation=90)
    ax.set_yticks(np.arange(z.shape[0]))
    ax.set_yticklabels([str(r) for r in drift.index])
    ax.set_xlabel("to")
    ax.set_ylabel("from")
    ax.set_title("Segment drift")
    high = z.max() if z.size else 0
    for r in range(z.shape[0]):
        for c in range(z.shape[1]):
            if z[r, c]:
                ax.text(c, r, f"{int(z[r, c]):,}", ha="center", va="center", fontsize="x-small",
                        color="white" if z[r, c] > high / 2 else "black")
    ax.figure.colorbar(image, ax=ax)
    return ax
