"""Records what lifetimes 0.11.3's plots draw, for tests/python/test_plotting.py.

Run with the lifetimes environment (bench/value/setup_lifetimes.sh, plus matplotlib from
bench/value/requirements-lifetimes.txt), from the repository root:

    bench/value/.venv-lifetimes/bin/python tests/data/lifetimes/record_plots.py

It writes tests/data/lifetimes/plots.json: the parameters of each lifetimes fit used, and for each
plot call its arguments and the artists lifetimes drew (the lines' x/y data from
``Line2D.get_xydata()``, the purchase markers' segments, title, axis labels, limits, legend
texts, the figure's suptitle), plus utils.calculate_alive_path's values and the exceptions
lifetimes raises where a call cannot work. Dates on a date axis are matplotlib date numbers (days
since 1970-01-01); a PeriodIndex axis (set_index_date=True) holds pandas' period ordinals, as
pandas draws it. NaN and infinity are written as JSON's NaN / Infinity (Python's json reads them).

The tests give crmkit's fitters lifetimes' recorded parameters (``params_ = ...``) before
plotting, so the comparison does not depend on the two optimisers agreeing in the 7th digit.
"""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import lifetimes  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from lifetimes import (  # noqa: E402
    BetaGeoBetaBinomFitter,
    BetaGeoFitter,
    ModifiedBetaGeoFitter,
    ParetoNBDFitter,
    plotting,
    utils,
)
from matplotlib import pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "data"
OUT = Path(__file__).with_name("plots.json")


def floats(values) -> list:
    return [float(v) for v in np.asarray(values, dtype=float).ravel()]


def xy(line) -> list:
    return [floats(row) for row in line.get_xydata()]


def legend_texts(ax) -> list | None:
    legend = ax.get_legend()
    return None if legend is None else [t.get_text() for t in legend.get_texts()]


def axes_record(ax) -> dict:
    fig = ax.figure
    suptitle = getattr(fig, "_suptitle", None)
    return {
        "title": ax.get_title(),
        "xlabel": ax.get_xlabel(),
        "ylabel": ax.get_ylabel(),
        "legend": legend_texts(ax),
        "lines": [{"label": line.get_label(), "xy": xy(line),
                   "linestyle": line.get_linestyle()} for line in ax.lines],
        "suptitle": None if suptitle is None else {
            "text": suptitle.get_text(),
            "fontsize": float(suptitle.get_fontsize()),
            "fontweight": suptitle.get_fontweight(),
        },
    }


def error(call) -> dict:
    try:
        call()
    except Exception as exc:  # what lifetimes raises is the record
        return {"exception": type(exc).__name__, "message": str(exc)}
    finally:
        plt.close("all")
    raise AssertionError("expected lifetimes to raise")


def main() -> None:
    transactions = pd.read_csv(
        DATA / "CDNOW_sample.txt", sep=r"\s+", header=None,
        names=["id_total", "id_sample", "date", "num_cd_purc", "total_value"],
    )
    # lifetimes' plot_history_alive resamples the date column itself: under pandas 2 it only
    # works on text dates (a datetime64 column makes resample().sum() raise).
    transactions["day"] = pd.to_datetime(
        transactions["date"].astype(str), format="%Y%m%d").dt.strftime("%Y-%m-%d")
    weeks = pd.read_csv(DATA / "cdnow_customers_summary.csv")
    days = utils.summary_data_from_transaction_data(
        transactions, "id_sample", "date", datetime_format="%Y%m%d",
        observation_period_end="19970930", freq="D")
    donations = pd.read_csv(DATA / "donations.csv")

    fits = {
        "bgf_weeks": BetaGeoFitter().fit(weeks["frequency"], weeks["recency"], weeks["T"]),
        "mbgf_weeks": ModifiedBetaGeoFitter().fit(weeks["frequency"], weeks["recency"], weeks["T"]),
        "pnbd_weeks": ParetoNBDFitter().fit(weeks["frequency"], weeks["recency"], weeks["T"]),
        "bgf_days": BetaGeoFitter().fit(days["frequency"], days["recency"], days["T"]),
        "bgbb_donations": BetaGeoBetaBinomFitter().fit(
            donations["frequency"], donations["recency"], donations["periods"],
            weights=donations["weights"]),
    }
    record: dict = {
        "versions": {"lifetimes": lifetimes.__version__, "matplotlib": matplotlib.__version__,
                     "pandas": pd.__version__, "numpy": np.__version__,
                     "python": sys.version.split()[0]},
        "models": {name: {"class": type(m).__name__,
                          "params": {k: float(v) for k, v in m.params_.items()}}
                   for name, m in fits.items()},
    }

    # ---- utils.calculate_alive_path: customers with 4 purchases (1), one purchase (3), two
    # purchases on one day (15: 1997-01-04 twice) and many purchases (1140), in days and weeks.
    paths = []
    for model, customer, t, freq in [
        ("bgf_days", 1, 400, "D"), ("bgf_days", 1, 100, "D"), ("bgf_days", 3, 30, "D"),
        ("bgf_days", 15, 60, "D"), ("bgf_weeks", 1, 60, "W"), ("bgf_weeks", 1140, 70, "W"),
        ("mbgf_weeks", 1, 60, "W"), ("pnbd_weeks", 1140, 70, "W"), ("bgf_weeks", 1, 12, "M"),
    ]:
        history = transactions[transactions["id_sample"] == customer]
        path = utils.calculate_alive_path(fits[model], history, "day", t, freq)
        paths.append({"model": model, "customer": customer, "t": t, "freq": freq,
                      "index": [int(i) for i in path.index],
                      "values": [float(np.asarray(v).ravel()[0]) for v in path]})
    record["calculate_alive_path"] = paths

    # ---- plot_history_alive (start_date given: lifetimes fails on text dates without it).
    history_plots = []
    for model, customer, t, freq, start in [
        ("bgf_weeks", 1, 60, "W", "1997-01-01"), ("bgf_days", 1, 400, "D", "1996-12-01"),
        ("pnbd_weeks", 1140, 70, "W", "1997-02-01"),
    ]:
        history = transactions[transactions["id_sample"] == customer]
        ax = plotting.plot_history_alive(fits[model], t, history, "day", freq=freq,
                                         start_date=pd.Timestamp(start))
        entry = {"model": model, "customer": customer, "t": t, "freq": freq,
                 "start_date": start, **axes_record(ax)}
        vlines = ax.collections[0]
        entry["vlines"] = {"label": vlines.get_label(),
                           "segments": [[floats(p) for p in seg] for seg in vlines.get_segments()],
                           "linestyle": "dashed"}
        entry["xlim"] = floats(ax.get_xlim())
        entry["ylim"] = floats(ax.get_ylim())
        entry["yticks"] = floats(ax.get_yticks())
        entry["legend_loc"] = int(ax.get_legend()._loc)
        history_plots.append(entry)
        plt.close("all")
    record["plot_history_alive"] = history_plots
    one = transactions[transactions["id_sample"] == 1]
    record["plot_history_alive_errors"] = {
        "text_dates_without_start_date": error(
            lambda: plotting.plot_history_alive(fits["bgf_weeks"], 60, one, "day", freq="W")),
        "datetime64_dates": error(lambda: plotting.plot_history_alive(
            fits["bgf_weeks"], 60, one.assign(day=pd.to_datetime(one["day"])), "day", freq="W",
            start_date=pd.Timestamp("1997-01-01"))),
    }

    # ---- heterogeneity plots
    rate, dropout = [], []
    for model, kwargs in [("bgf_weeks", {}), ("mbgf_weeks", {}), ("pnbd_weeks", {}),
                          ("bgf_days", {"suptitle": "Rates", "xlabel": "lambda",
                                        "ylabel": "pdf", "suptitle_fontsize": 10})]:
        ax = plotting.plot_transaction_rate_heterogeneity(fits[model], **kwargs)
        rate.append({"model": model, "kwargs": kwargs, **axes_record(ax)})
        plt.close("all")
    for model, kwargs in [("bgf_weeks", {}), ("mbgf_weeks", {}),
                          ("bgf_days", {"suptitle": "Dropouts", "xlabel": "p",
                                        "ylabel": "pdf", "suptitle_fontsize": 10})]:
        ax = plotting.plot_dropout_rate_heterogeneity(fits[model], **kwargs)
        dropout.append({"model": model, "kwargs": kwargs, **axes_record(ax)})
        plt.close("all")
    record["plot_transaction_rate_heterogeneity"] = rate
    record["plot_dropout_rate_heterogeneity"] = dropout
    record["heterogeneity_errors"] = {
        "dropout_pnbd": error(lambda: plotting.plot_dropout_rate_heterogeneity(fits["pnbd_weeks"])),
        "dropout_bgbb": error(
            lambda: plotting.plot_dropout_rate_heterogeneity(fits["bgbb_donations"])),
        "rate_bgbb": error(
            lambda: plotting.plot_transaction_rate_heterogeneity(fits["bgbb_donations"])),
    }

    # ---- cumulative and incremental transactions (the CDNOW sample's 78 weeks)
    tracking = []
    for function in ("plot_cumulative_transactions", "plot_incremental_transactions"):
        for model, t, t_cal, kwargs in [
            ("bgf_weeks", 78, 39, {"freq": "W"}),
            ("bgf_weeks", 78, 39, {"freq": "W", "set_index_date": True}),
            ("bgf_days", 120, 60, {"freq": "D", "title": "T", "xlabel": "x", "ylabel": "y"}),
        ]:
            ax = getattr(plotting, function)(fits[model], transactions, "date", "id_sample", t,
                                             t_cal, datetime_format="%Y%m%d", **kwargs)
            tracking.append({"function": function, "model": model, "t": t, "t_cal": t_cal,
                             "kwargs": kwargs, "xlim": floats(ax.get_xlim()), **axes_record(ax)})
            plt.close("all")
    record["tracking"] = tracking
    record["tracking_errors"] = {
        "bgbb": error(lambda: plotting.plot_cumulative_transactions(
            fits["bgbb_donations"], transactions, "date", "id_sample", 78, 39,
            datetime_format="%Y%m%d", freq="W")),
    }

    # ---- the signatures: names, kinds and defaults of the parameters
    def signature(function) -> list:
        return [{"name": p.name, "kind": p.kind.name,
                 "default": None if p.default is inspect.Parameter.empty else repr(p.default)}
                for p in inspect.signature(function).parameters.values()]

    record["signatures"] = {
        name: signature(getattr(plotting, name)) for name in (
            "plot_history_alive", "plot_cumulative_transactions", "plot_incremental_transactions",
            "plot_transaction_rate_heterogeneity", "plot_dropout_rate_heterogeneity")
    }
    record["signatures"]["calculate_alive_path"] = signature(utils.calculate_alive_path)

    OUT.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
