"""crmkit.plotting on the CDNOW sample and the donations data: each plot returns the Axes it drew
on, with the expected artists, labels and data (the 'actual' series equal to exact counts)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402

import crmkit  # noqa: E402
import crmkit.utils  # noqa: E402
from crmkit import plotting  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def transactions() -> pd.DataFrame:
    """The raw CDNOW sample with lifetimes' column names; dates stay YYYYMMDD integers."""
    return pd.read_csv(
        DATA / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["id_total", "id_sample", "date", "num_cd_purc", "total_value"],
    )


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    return pd.read_csv(DATA / "cdnow_customers_summary.csv")


@pytest.fixture(scope="module")
def bgf(summary):
    return crmkit.BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])


@pytest.fixture(scope="module")
def donations() -> pd.DataFrame:
    return pd.read_csv(DATA / "donations.csv")


@pytest.fixture(scope="module")
def bgbb(donations):
    return crmkit.BetaGeoBetaBinomFitter().fit(
        donations["frequency"], donations["recency"], donations["periods"], weights=donations["weights"]
    )


def test_importing_plotting_does_not_import_matplotlib():
    code = "import sys, crmkit, crmkit.plotting; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------------------------------
# period transactions


def test_period_transactions_actual_bars_are_the_frequency_counts(bgf, summary):
    ax = plotting.plot_period_transactions(bgf)
    assert len(ax.containers) == 2
    actual, model = ax.containers
    assert len(actual) == 7 and len(model) == 7
    heights = [bar.get_height() for bar in actual]
    assert heights == [int((summary["frequency"] == k).sum()) for k in range(7)]
    assert heights[:3] == [1411, 439, 214]
    assert ax.get_xlabel() == "Number of Calibration Period Transactions"
    assert ax.get_ylabel() == "Customers"
    assert ax.get_title() == "Frequency of Repeat Transactions"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Actual", "Model"]
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(k) for k in range(7)]


def test_period_transactions_model_bars_are_expected_counts(bgf, summary):
    ax = plotting.plot_period_transactions(bgf, max_frequency=4)
    model_heights = np.array([bar.get_height() for bar in ax.containers[1]])
    expected = np.array(
        [
            sum(bgf.probability_of_n_purchases_up_to_time(T, k) for T in summary["T"])
            for k in range(4)
        ]
    )
    np.testing.assert_allclose(model_heights, expected, rtol=1e-9)
    # A well-fitting model: within 5% of the 1411 one-time buyers and 439 with one repeat.
    assert abs(model_heights[0] - 1411) < 0.05 * 1411
    assert abs(model_heights[1] - 439) < 0.05 * 439


def test_period_transactions_draws_on_the_given_axes(bgf):
    fig, ax = plt.subplots()
    assert plotting.plot_period_transactions(bgf, ax=ax, label=("seen", "fitted")) is ax
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["seen", "fitted"]
    assert len(fig.axes) == 1


def test_period_transactions_bgbb_uses_weights_and_the_whole_distribution(bgbb, donations):
    ax = plotting.plot_period_transactions(bgbb)
    actual = [bar.get_height() for bar in ax.containers[0]]
    by_frequency = donations.groupby("frequency")["weights"].sum()
    assert actual == [float(by_frequency.get(k, 0)) for k in range(7)]
    assert sum(actual) == 11104
    model = np.array([bar.get_height() for bar in ax.containers[1]])
    # Six opportunities: 0..6 repeat donations is the whole distribution, so the model's expected
    # counts add up to every donor.
    assert model.sum() == pytest.approx(11104, rel=1e-9)
    assert model[0] == pytest.approx(3464, rel=0.05)


def test_period_transactions_refuses_max_frequency_below_one(bgf):
    with pytest.raises(ValueError, match="max_frequency"):
        plotting.plot_period_transactions(bgf, max_frequency=0)


def test_plots_refuse_an_unfitted_model():
    with pytest.raises(ValueError, match=r"^plot_probability_alive_matrix: BetaGeoFitter is not "
                                         r"fitted \(it holds no data\): call fit\(\) first$"):
        plotting.plot_probability_alive_matrix(crmkit.BetaGeoFitter())


# ------------------------------------------------------------------------------------------
# matrices


def test_probability_alive_matrix_cells_are_the_model_predictions(bgf, summary):
    ax = plotting.plot_probability_alive_matrix(bgf)
    assert len(ax.images) == 1
    z = ax.images[0].get_array()
    max_frequency = int(summary["frequency"].max())
    max_T = int(summary["T"].max())
    assert z.shape == (max_T + 1, max_frequency + 1)
    # Frequency 0 with recency > 0 describes nobody: blank cells.
    assert z.mask[1:, 0].all() and not z.mask[0, 0] and not z.mask[:, 1:].any()
    for recency, frequency in [(0, 0), (30, 2), (38, max_frequency), (5, 10)]:
        want = bgf.conditional_probability_alive(
            np.array([frequency], float), np.array([recency], float), np.array([max_T], float)
        )
        assert z[recency, frequency] == pytest.approx(float(np.asarray(want)[0]), rel=1e-12)
    assert z[0, 0] == pytest.approx(1.0)
    assert ax.get_xlabel() == "Customer's Historical Frequency"
    assert ax.get_ylabel() == "Customer's Recency"
    assert ax.get_title().startswith("Probability Customer is Alive")
    assert len(ax.figure.axes) == 2  # the matrix and its colour bar


def test_frequency_recency_matrix_cells_are_expected_purchases(bgf):
    ax = plotting.plot_frequency_recency_matrix(bgf, T=5, max_frequency=6, max_recency=20)
    z = ax.images[0].get_array()
    assert z.shape == (21, 7)
    want = bgf.conditional_expected_number_of_purchases_up_to_time(
        5, np.array([3.0]), np.array([12.0]), np.array([20.0])
    )
    assert z[12, 3] == pytest.approx(float(np.asarray(want)[0]), rel=1e-12)
    assert ax.get_title().startswith("Expected Number of Future Purchases for 5 Units of Time")
    # More recent buyers of the same frequency are expected to buy more.
    assert z[20, 3] > z[5, 3]


# ------------------------------------------------------------------------------------------
# calibration vs holdout


@pytest.fixture(scope="module")
def calibration_holdout(transactions):
    return crmkit.utils.calibration_and_holdout_data(
        transactions,
        "id_sample",
        "date",
        calibration_period_end="19970930",
        observation_period_end="19980630",
        datetime_format="%Y%m%d",
        freq="D",
        freq_multiplier=7,
    )


def test_calibration_vs_holdout_lines_are_group_means(calibration_holdout):
    cal = calibration_holdout
    model = crmkit.BetaGeoFitter().fit(cal["frequency_cal"], cal["recency_cal"], cal["T_cal"])
    ax = plotting.plot_calibration_purchases_vs_holdout_purchases(model, cal, n=7)
    assert len(ax.lines) == 2
    actual, predicted = ax.lines
    assert list(actual.get_xdata()) == list(range(7))
    means = cal.groupby("frequency_cal")["frequency_holdout"].mean().iloc[:7]
    np.testing.assert_allclose(actual.get_ydata(), means.to_numpy(), rtol=1e-12)
    prediction = np.asarray(
        model.conditional_expected_number_of_purchases_up_to_time(
            float(cal["duration_holdout"].iloc[0]), cal["frequency_cal"], cal["recency_cal"], cal["T_cal"]
        )
    )
    want = pd.Series(prediction).groupby(cal["frequency_cal"].to_numpy()).mean().iloc[:7]
    np.testing.assert_allclose(predicted.get_ydata(), want.to_numpy(), rtol=1e-12)
    assert ax.get_xlabel() == "Purchases in calibration period"
    assert ax.get_ylabel() == "Average of Purchases in Holdout Period"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["frequency_holdout", "model_predictions"]


def test_calibration_vs_holdout_by_time_since_last_purchase(calibration_holdout):
    cal = calibration_holdout
    model = crmkit.BetaGeoFitter().fit(cal["frequency_cal"], cal["recency_cal"], cal["T_cal"])
    ax = plotting.plot_calibration_purchases_vs_holdout_purchases(model, cal, kind="time_since_last_purchase", n=5)
    gap = cal["T_cal"] - cal["recency_cal"]
    means = cal["frequency_holdout"].groupby(gap).mean().iloc[:5]
    np.testing.assert_allclose(ax.lines[0].get_xdata(), means.index.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), means.to_numpy(), rtol=1e-12)
    assert ax.get_xlabel() == "Time since user made last purchase"
    with pytest.raises(ValueError, match="kind"):
        plotting.plot_calibration_purchases_vs_holdout_purchases(model, cal, kind="monetary")
    with pytest.raises(crmkit.ValidationError,
                       match=r"^calibration_holdout_matrix: no column 'duration_holdout'$"):
        plotting.plot_calibration_purchases_vs_holdout_purchases(
            model, cal.drop(columns="duration_holdout"))


# ------------------------------------------------------------------------------------------
# cumulative transactions


@pytest.fixture(scope="module")
def weekly_pnbd(transactions):
    """Pareto/NBD in weeks fitted on the daily summary divided by 7, as the BTYD walkthrough
    (and lifetimes' test of it)."""
    s = crmkit.utils.summary_data_from_transaction_data(
        transactions,
        "id_sample",
        "date",
        datetime_format="%Y%m%d",
        observation_period_end="19970930",
        freq="D",
        freq_multiplier=7,
    )
    return crmkit.ParetoNBDFitter().fit(s["frequency"], s["recency"], s["T"])


def test_cumulative_transactions_match_the_btyd_walkthrough(weekly_pnbd, transactions):
    ax = plotting.plot_cumulative_transactions(
        weekly_pnbd, transactions, "date", "id_sample", 78 * 7, 39,
        datetime_format="%Y%m%d", freq="D", freq_multiplier=7, xlabel="week",
    )
    assert len(ax.lines) == 3  # actual, predicted, the end of calibration
    actual, predicted, marker = ax.lines
    assert list(actual.get_xdata()) == list(range(78))
    assert list(actual.get_ydata()[19:25]) == [1359, 1414, 1484, 1517, 1573, 1672]
    # The data README: 2,457 repeat transactions in weeks 1-39, 4,339 in weeks 1-78.
    assert actual.get_ydata()[38] == 2457
    assert actual.get_ydata()[77] == 4339
    # BTYD walkthrough's expected cumulative repeat transactions at weeks 20..25.
    np.testing.assert_allclose(predicted.get_ydata()[19:25], [1309, 1385, 1460, 1533, 1604, 1674], atol=1)
    assert list(marker.get_xdata()) == [39, 39]
    assert marker.get_linestyle() == "--"
    assert ax.get_xlabel() == "week"
    assert ax.get_ylabel() == "Cumulative Transactions"
    assert ax.get_title() == "Tracking Cumulative Transactions"


def test_expected_cumulative_transactions_is_the_sum_over_customers(weekly_pnbd, transactions):
    table = plotting.expected_cumulative_transactions(
        weekly_pnbd, transactions, "date", "id_sample", 25 * 7, datetime_format="%Y%m%d", freq_multiplier=7
    )
    assert list(table.columns) == ["actual", "predicted"]
    assert len(table) == 25
    # Each customer's expected purchases from the first purchase to the end of week 25, summed.
    birth = pd.to_datetime(transactions.groupby("id_sample")["date"].min().astype(str), format="%Y%m%d")
    age_weeks = ((pd.Timestamp("1997-01-01") + pd.Timedelta(days=175) - birth).dt.days / 7).to_numpy()
    want = float(np.sum(weekly_pnbd.expected_number_of_purchases_up_to_time(age_weeks)))
    assert table["predicted"].iloc[24] == pytest.approx(want, rel=1e-12)
    increments = table.diff().iloc[19:25]
    np.testing.assert_allclose(increments["actual"], [73, 55, 70, 33, 56, 99])
    np.testing.assert_allclose(increments["predicted"], [78.31, 76.42, 74.65, 72.98, 71.41, 69.93], atol=0.05)


def test_cumulative_transactions_by_date(transactions):
    daily = crmkit.utils.summary_data_from_transaction_data(
        transactions, "id_sample", "date", datetime_format="%Y%m%d", observation_period_end="19970930", freq="D"
    )
    model = crmkit.BetaGeoFitter().fit(daily["frequency"], daily["recency"], daily["T"])
    table = plotting.expected_cumulative_transactions(
        model, transactions, "date", "id_sample", 14, datetime_format="%Y%m%d", freq="D", set_index_date=True
    )
    assert [str(p) for p in table.index[-4:]] == ["1997-01-11", "1997-01-12", "1997-01-13", "1997-01-14"]
    assert list(table["actual"].iloc[-4:]) == [11, 12, 15, 19]
    np.testing.assert_allclose(table["predicted"].iloc[-4:], [10.67, 12.67, 14.87, 17.24], atol=0.05)

    ax = plotting.plot_cumulative_transactions(
        model, transactions, "date", "id_sample", 14, 7, datetime_format="%Y%m%d", set_index_date=True
    )
    assert ax.get_xlabel() == "date"
    assert list(ax.lines[0].get_ydata()[-4:]) == [11, 12, 15, 19]


def test_cumulative_transactions_take_timezone_aware_times(weekly_pnbd, transactions):
    aware = transactions.assign(at=pd.to_datetime(transactions["date"].astype(str), format="%Y%m%d", utc=True))
    table = plotting.expected_cumulative_transactions(weekly_pnbd, aware, "at", "id_sample", 25 * 7, freq_multiplier=7)
    assert list(table["actual"].iloc[19:25]) == [1359, 1414, 1484, 1517, 1573, 1672]


def test_cumulative_transactions_refuse_a_horizon_shorter_than_one_row(weekly_pnbd, transactions):
    with pytest.raises(ValueError, match="t:"):
        plotting.expected_cumulative_transactions(
            weekly_pnbd, transactions, "date", "id_sample", 6, datetime_format="%Y%m%d", freq_multiplier=7
        )


def test_period_transactions_of_the_modified_bgnbd(summary):
    mbg = crmkit.ModifiedBetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    ax = plotting.plot_period_transactions(mbg)
    actual, model = ax.containers
    # The model's bars are the sums over customers of P(X(T) = k), k = 0..6.
    for k, bar in enumerate(model):
        expected = sum(mbg.probability_of_n_purchases_up_to_time(T, k) for T in summary["T"])
        assert bar.get_height() == pytest.approx(expected, rel=1e-9)
    assert [int(b.get_height()) for b in actual][:3] == [1411, 439, 214]
    # Its matrices work as for BG/NBD.
    ax = plotting.plot_probability_alive_matrix(mbg, max_frequency=3, max_recency=5)
    assert ax.images[0].get_array().shape == (6, 4)


def test_bgbb_probability_alive_matrix_blanks_more_purchases_than_periods(bgbb):
    ax = plotting.plot_probability_alive_matrix(bgbb)
    z = ax.images[0].get_array()
    assert z.shape == (7, 7)  # recency and frequency 0..6 for six opportunities
    frequency, recency = np.meshgrid(np.arange(7), np.arange(7))
    impossible = (frequency > recency) | ((frequency == 0) & (recency > 0))
    assert (z.mask == impossible).all()
    want = bgbb.conditional_probability_alive(0, np.array([2.0]), np.array([4.0]), np.array([6.0]))
    assert z[4, 2] == pytest.approx(float(np.asarray(want)[0]), rel=1e-12)


# ------------------------------------------------------------------------------------------
# lifetimes' own drawings (tests/data/lifetimes/plots.json, written by record_plots.py with
# lifetimes 0.11.3): crmkit's fitters get lifetimes' recorded parameters (params_ = ...), so
# both sides evaluate the same model and the only differences left are floating-point
# rounding: measured at most 1.3e-13 relative (the cumulative sums), 8e-15 in the densities.
# rtol 1e-9 leaves room for another libm, and is far below any visible difference.

RECORDED = Path(__file__).resolve().parents[1] / "data" / "lifetimes" / "plots.json"
RTOL = 1e-9


@pytest.fixture(scope="module")
def recorded() -> dict:
    return json.loads(RECORDED.read_text())


def lifetimes_fit(recorded: dict, name: str):
    """A crmkit fitter holding the parameters lifetimes fitted (recorded in plots.json)."""
    entry = recorded["models"][name]
    fitter = getattr(crmkit, entry["class"])()
    fitter.params_ = entry["params"]
    return fitter


@pytest.fixture(scope="module")
def text_days(transactions) -> pd.DataFrame:
    """The CDNOW sample with a text date column "day" (YYYY-MM-DD), as record_plots.py uses."""
    return transactions.assign(
        day=pd.to_datetime(transactions["date"].astype(str), format="%Y%m%d").dt.strftime("%Y-%m-%d")
    )


def one_customer(text_days: pd.DataFrame, customer: int) -> pd.DataFrame:
    return text_days[text_days["id_sample"] == customer]


def assert_lines(ax, want: list) -> None:
    assert [line.get_label() for line in ax.lines] == [w["label"] for w in want]
    for line, w in zip(ax.lines, want):
        np.testing.assert_allclose(line.get_xydata(), np.array(w["xy"], dtype=float), rtol=RTOL)
        assert line.get_linestyle() == w["linestyle"]


def legend_texts(ax) -> list | None:
    legend = ax.get_legend()
    return None if legend is None else [t.get_text() for t in legend.get_texts()]


def test_recorded_with_lifetimes_0_11_3(recorded):
    assert recorded["versions"]["lifetimes"] == "0.11.3"
    # lifetimes' BG/NBD on the CDNOW summary, as its docs print it
    assert recorded["models"]["bgf_weeks"]["params"]["r"] == pytest.approx(0.242593, abs=1e-6)


@pytest.mark.parametrize(
    "name", ["calculate_alive_path", "plot_history_alive", "plot_cumulative_transactions",
             "plot_incremental_transactions", "plot_transaction_rate_heterogeneity",
             "plot_dropout_rate_heterogeneity"])
def test_signature_takes_lifetimes_arguments_in_lifetimes_order(recorded, name):
    import inspect

    function = getattr(crmkit.utils if name == "calculate_alive_path" else plotting, name)
    ours = list(inspect.signature(function).parameters.values())
    theirs = [p for p in recorded["signatures"][name] if p["kind"] != "VAR_KEYWORD"]
    positional = [p for p in ours if p.kind == p.POSITIONAL_OR_KEYWORD]
    # lifetimes' parameters first, same names, same defaults; crmkit's additions come after
    # them (ax) or are keyword-only (freq_multiplier), so a positional lifetimes call is the same
    assert [p.name for p in positional[: len(theirs)]] == [p["name"] for p in theirs]
    for p, q in zip(positional, theirs):
        default = None if p.default is p.empty else repr(p.default)
        assert default == q["default"], p.name
    has_kwargs = any(p["kind"] == "VAR_KEYWORD" for p in recorded["signatures"][name])
    assert any(p.kind == p.VAR_KEYWORD for p in ours) == has_kwargs
    extra = [p.name for p in ours[len(theirs):] if p.kind != p.VAR_KEYWORD]
    assert extra == {"plot_cumulative_transactions": ["freq_multiplier"],
                     "plot_incremental_transactions": ["freq_multiplier"],
                     "plot_transaction_rate_heterogeneity": ["ax"],
                     "plot_dropout_rate_heterogeneity": ["ax"]}.get(name, [])


# ---- utils.calculate_alive_path


def test_calculate_alive_path_matches_lifetimes(recorded, text_days):
    assert len(recorded["calculate_alive_path"]) == 9
    for want in recorded["calculate_alive_path"]:
        model = lifetimes_fit(recorded, want["model"])
        path = crmkit.utils.calculate_alive_path(
            model, one_customer(text_days, want["customer"]), "day", want["t"], want["freq"])
        assert isinstance(path, pd.Series) and path.dtype == np.float64
        assert list(path.index) == want["index"], want
        np.testing.assert_allclose(path.to_numpy(), want["values"], rtol=RTOL)


def test_calculate_alive_path_is_the_model_at_each_period(recorded, text_days):
    # Customer 1 bought on 1997-01-01, 01-18, 08-02 and 12-12: in weeks (Monday..Sunday, from
    # the week of 1997-01-01) periods 0, 2, 30 and 49.
    bgf = lifetimes_fit(recorded, "bgf_weeks")
    path = crmkit.utils.calculate_alive_path(bgf, one_customer(text_days, 1), "day", 60, "W")
    assert len(path) == 61
    age = np.arange(61.0)
    frequency = np.searchsorted([0, 2, 30, 49], age, side="right") - 1.0
    recency = np.array([0, 2, 30, 49], dtype=float)[frequency.astype(int)]
    want = bgf.conditional_probability_alive(frequency, recency, age)
    np.testing.assert_array_equal(path.to_numpy(), np.asarray(want))
    assert path[2] == pytest.approx(0.7536579508317098, rel=RTOL)  # one repeat at once: 1 - p
    assert path[1] == 1.0  # BG/NBD: alive until the first repeat purchase


def test_calculate_alive_path_shorter_t_keeps_the_whole_history(recorded, text_days):
    bgf = lifetimes_fit(recorded, "bgf_days")
    history = one_customer(text_days, 1)
    # The last purchase is day 345: a path always reaches it, as in lifetimes.
    assert len(crmkit.utils.calculate_alive_path(bgf, history, "day", 100)) == 346
    assert len(crmkit.utils.calculate_alive_path(bgf, history, "day", 0)) == 346
    assert len(crmkit.utils.calculate_alive_path(bgf, history, "day", 400)) == 401


def test_calculate_alive_path_one_time_buyer_never_has_recency_without_frequency(recorded, text_days):
    # A customer with one purchase (customer 3) stays at frequency 0, recency 0: no history of
    # frequency 0 with recency > 0 (which the fitters refuse) can arise in a path.
    pnbd = lifetimes_fit(recorded, "pnbd_weeks")
    path = crmkit.utils.calculate_alive_path(pnbd, one_customer(text_days, 3), "day", 20, "W")
    age = np.arange(21.0)
    want = pnbd.conditional_probability_alive(np.zeros(21), np.zeros(21), age)
    np.testing.assert_array_equal(path.to_numpy(), np.asarray(want))
    assert path.is_monotonic_decreasing and path[0] == 1.0


def test_calculate_alive_path_reads_datetimes_of_every_kind(recorded, text_days):
    bgf = lifetimes_fit(recorded, "bgf_days")
    history = one_customer(text_days, 15)  # two purchases on 1997-01-04: one period
    text = crmkit.utils.calculate_alive_path(bgf, history, "day", 60)
    naive = history.assign(day=pd.to_datetime(history["day"]))
    aware = history.assign(day=pd.to_datetime(history["day"]).dt.tz_localize("UTC"))
    shuffled = naive.iloc[::-1]
    import pyarrow as pa

    table = pa.Table.from_pandas(naive[["day"]], preserve_index=False)
    for frame in (naive, aware, shuffled, table):
        pd.testing.assert_series_equal(crmkit.utils.calculate_alive_path(bgf, frame, "day", 60), text)
    want = recorded["calculate_alive_path"][3]
    assert (want["customer"], want["t"]) == (15, 60)
    np.testing.assert_allclose(text.to_numpy(), want["values"], rtol=RTOL)


def test_calculate_alive_path_refusals(recorded, text_days):
    bgf = lifetimes_fit(recorded, "bgf_days")
    history = one_customer(text_days, 1)
    with pytest.raises(crmkit.ValidationError, match=r"^datetime_col: column 'date' holds numbers"):
        crmkit.utils.calculate_alive_path(bgf, history, "date", 10)  # 19970101: not nanoseconds
    with pytest.raises(crmkit.ValidationError, match=r"^datetime_col: no column 'when' in transactions$"):
        crmkit.utils.calculate_alive_path(bgf, history, "when", 10)
    with pytest.raises(crmkit.ValidationError, match=r"^transactions: holds no purchase$"):
        crmkit.utils.calculate_alive_path(bgf, history.iloc[:0], "day", 10)
    with pytest.raises(crmkit.ValidationError, match=r"^freq: 'fortnight' is not a pandas frequency$"):
        crmkit.utils.calculate_alive_path(bgf, history, "day", 10, freq="fortnight")
    for t in (-1, 2.5, "ten", True):
        with pytest.raises(ValueError, match=r"^t: must be a non-negative integer"):
            crmkit.utils.calculate_alive_path(bgf, history, "day", t)
    with pytest.raises(TypeError, match=r"^calculate_alive_path: model: GammaGammaFitter has no "
                                        r"conditional_probability_alive\(\)$"):
        crmkit.utils.calculate_alive_path(crmkit.GammaGammaFitter(), history, "day", 10)
    with pytest.raises(crmkit.ValidationError, match="not fitted"):
        crmkit.utils.calculate_alive_path(crmkit.BetaGeoFitter(), history, "day", 10)


def test_calculate_alive_path_of_a_bgbb_donor_in_years(recorded):
    # lifetimes raises TypeError here (BG/BB's P(alive) takes m_periods_in_future first);
    # crmkit asks P(alive at the end of period T) with n_periods = T.
    bgbb = lifetimes_fit(recorded, "bgbb_donations")
    donor = pd.DataFrame({"at": ["1995-06-01", "1997-03-01", "1997-11-30", "1999-09-01"]})
    path = crmkit.utils.calculate_alive_path(bgbb, donor, "at", 6, freq="Y")
    # years 1995..2001: donations in periods 0, 2 (twice: one period) and 4
    frequency = np.array([0, 0, 1, 1, 2, 2, 2], dtype=float)
    recency = np.array([0, 0, 2, 2, 4, 4, 4], dtype=float)
    want = bgbb.conditional_probability_alive(0, frequency[1:], recency[1:], np.arange(1.0, 7.0))
    # period 0 is the first donation: alive before any chance to drop out
    np.testing.assert_array_equal(path.to_numpy(), np.concatenate([[1.0], np.asarray(want)]))
    # a donation in the period itself means alive in it; a year without one lowers P(alive)
    assert path[2] == path[4] == 1.0
    assert path[6] < path[5] < 1.0 and path[1] < 1.0
    ax = plotting.plot_history_alive(bgbb, 6, donor, "at", freq="Y")
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), path.to_numpy())
    # drawn at the years' ends (1995-12-31 ...), the donations at their years' ends
    from matplotlib import dates

    drawn_at = dates.num2date(ax.lines[0].get_xydata()[:, 0])
    assert [str(d.date()) for d in drawn_at[:2]] == ["1995-12-31", "1996-12-31"]
    assert [s[0][0] for s in ax.collections[0].get_segments()] == [
        dates.datestr2num(d) for d in ("1995-12-31", "1997-12-31", "1999-12-31")]


# ---- plot_history_alive


def test_history_alive_matches_lifetimes(recorded, text_days):
    assert len(recorded["plot_history_alive"]) == 3
    for want in recorded["plot_history_alive"]:
        model = lifetimes_fit(recorded, want["model"])
        ax = plotting.plot_history_alive(model, want["t"], one_customer(text_days, want["customer"]),
                                         "day", freq=want["freq"], start_date=want["start_date"])
        assert_lines(ax, want["lines"])
        assert len(ax.collections) == 1
        purchases = ax.collections[0]
        assert purchases.get_label() == want["vlines"]["label"] == "purchases"
        assert [s.tolist() for s in purchases.get_segments()] == want["vlines"]["segments"]
        assert purchases.get_linestyle()[0][1] is not None  # dashed
        np.testing.assert_array_equal(ax.get_xlim(), want["xlim"])
        np.testing.assert_array_equal(ax.get_ylim(), want["ylim"])
        np.testing.assert_allclose(ax.get_yticks(), want["yticks"], rtol=1e-15)
        assert legend_texts(ax) == want["legend"] == ["P_alive", "purchases"]
        assert ax.get_legend()._loc == want["legend_loc"] == 3
        assert (ax.get_title(), ax.get_ylabel(), ax.get_xlabel()) == (
            want["title"], want["ylabel"], want["xlabel"])
        plt.close("all")


def test_history_alive_where_lifetimes_fails(recorded, text_days):
    # lifetimes cannot draw text dates without a datetime start_date, nor a datetime64 column
    # (pandas 2): crmkit draws both, starting at the first purchase.
    errors = recorded["plot_history_alive_errors"]
    assert errors["text_dates_without_start_date"]["exception"] == "ConversionError"
    assert errors["datetime64_dates"]["exception"] == "TypeError"
    want = recorded["plot_history_alive"][0]
    assert (want["customer"], want["freq"], want["start_date"]) == (1, "W", "1997-01-01")
    model = lifetimes_fit(recorded, "bgf_weeks")
    history = one_customer(text_days, 1)
    for frame in (history, history.assign(day=pd.to_datetime(history["day"]))):
        fig, ax = plt.subplots()
        assert plotting.plot_history_alive(model, 60, frame, "day", freq="W", ax=ax, lw=3) is ax
        assert_lines(ax, want["lines"])
        assert ax.lines[0].get_linewidth() == 3  # kwargs reach the P_alive line
        # 1997-01-01 is day 9862 of matplotlib's calendar: the first purchase
        np.testing.assert_array_equal(ax.get_xlim(), want["xlim"])


# ---- heterogeneity


@pytest.mark.parametrize("function", ["plot_transaction_rate_heterogeneity",
                                      "plot_dropout_rate_heterogeneity"])
def test_heterogeneity_matches_lifetimes(recorded, function):
    assert len(recorded[function]) >= 3
    for want in recorded[function]:
        model = lifetimes_fit(recorded, want["model"])
        ax = getattr(plotting, function)(model, **want["kwargs"])
        assert_lines(ax, want["lines"])
        assert len(ax.lines[0].get_xdata()) == 100
        assert np.isinf(ax.lines[0].get_ydata()[0])  # r < 1 and a < 1: infinite at 0
        assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == (
            want["title"], want["xlabel"], want["ylabel"])
        suptitle = ax.figure._suptitle
        # lifetimes' rate plot writes its default suptitle whatever it is given; crmkit writes
        # the one given (the same text when none is given)
        assert suptitle.get_text() == want["kwargs"].get("suptitle", want["suptitle"]["text"])
        assert suptitle.get_fontsize() == want["suptitle"]["fontsize"]
        assert suptitle.get_fontweight() == want["suptitle"]["fontweight"] == "bold"
        plt.close("all")


def test_heterogeneity_numbers(recorded):
    bgf = lifetimes_fit(recorded, "bgf_weeks")
    ax = plotting.plot_transaction_rate_heterogeneity(bgf)
    assert ax.get_title() == "mean: 0.055, var: 0.012"
    r, alpha = bgf.params_["r"], bgf.params_["alpha"]
    x, y = ax.lines[0].get_xdata(), ax.lines[0].get_ydata()
    # the gamma(r, alpha) density, and its 99% point at the end (the integral of the density
    # from x[-1] on is 1%: checked by the trapezoid rule on a fine grid of the log tail)
    from math import gamma as gamma_function

    np.testing.assert_allclose(
        y[1:], alpha**r * x[1:] ** (r - 1) * np.exp(-alpha * x[1:]) / gamma_function(r), rtol=1e-12)
    tail = np.exp(np.linspace(np.log(x[-1]), np.log(x[-1]) + 8, 200_001))
    density = alpha**r * tail ** (r - 1) * np.exp(-alpha * tail) / gamma_function(r)
    trapezoid = getattr(np, "trapezoid", None) or np.trapz  # numpy 1 calls it trapz
    assert trapezoid(density, tail) == pytest.approx(0.01, rel=1e-6)
    ax = plotting.plot_dropout_rate_heterogeneity(bgf)
    assert ax.get_title() == "mean: 0.246, var: 0.044"
    assert ax.figure._suptitle.get_text() == "Heterogeneity in Dropout Probability"


def test_heterogeneity_on_given_axes_and_refusals(recorded):
    bgf = lifetimes_fit(recorded, "bgf_weeks")
    fig, ax = plt.subplots()
    got = plotting.plot_dropout_rate_heterogeneity(bgf, ax=ax, color="k", suptitle="Dropout")
    assert got is ax and len(fig.axes) == 1
    assert ax.lines[0].get_color() == "k" and fig._suptitle.get_text() == "Dropout"
    np.testing.assert_allclose(ax.lines[0].get_xydata(),
                               recorded["plot_dropout_rate_heterogeneity"][0]["lines"][0]["xy"], rtol=RTOL)
    # lifetimes raises KeyError for these models (no a, b; no r): crmkit a TypeError that says why
    errors = recorded["heterogeneity_errors"]
    assert {e["exception"] for e in errors.values()} == {"KeyError"}
    with pytest.raises(TypeError, match=r"^plot_dropout_rate_heterogeneity: model: ParetoNBDFitter "
                                        r"has no parameter 'a'; this plot is for BG/NBD and MBG/NBD$"):
        plotting.plot_dropout_rate_heterogeneity(lifetimes_fit(recorded, "pnbd_weeks"))
    with pytest.raises(TypeError, match=r"BetaGeoBetaBinomFitter has no parameter 'a'"):
        plotting.plot_dropout_rate_heterogeneity(lifetimes_fit(recorded, "bgbb_donations"))
    with pytest.raises(TypeError, match=r"^plot_transaction_rate_heterogeneity: model: "
                                        r"BetaGeoBetaBinomFitter has no parameter 'r'"):
        plotting.plot_transaction_rate_heterogeneity(lifetimes_fit(recorded, "bgbb_donations"))
    with pytest.raises(ValueError, match=r"^plot_transaction_rate_heterogeneity: BetaGeoFitter is "
                                         r"not fitted: call fit\(\) first$"):
        plotting.plot_transaction_rate_heterogeneity(crmkit.BetaGeoFitter())


@pytest.mark.parametrize("shape", [0.5, 1.0, 3.0, 250.0])
def test_heterogeneity_densities_for_shapes_around_one(shape):
    # x = 0: infinite below shape 1, the rate at 1, 0 above, as scipy gives lifetimes
    model = crmkit.BetaGeoFitter()
    model.params_ = {"r": shape, "alpha": 2.0, "a": shape, "b": 1.5}
    y = plotting.plot_transaction_rate_heterogeneity(model).lines[0].get_ydata()
    assert y[0] == (np.inf if shape < 1 else 2.0 if shape == 1 else 0.0)
    x = plotting.plot_dropout_rate_heterogeneity(model).lines[0].get_xdata()
    # I_x(a, 1.5) at the last point is 0.99: beta(1, 1.5) has the closed form 1 - (1 - x)^1.5
    if shape == 1.0:
        assert 1 - (1 - x[-1]) ** 1.5 == pytest.approx(0.99, rel=1e-13)
    # gamma(1, 2) is exponential: its 99% point is log(100) / 2
    if shape == 1.0:
        x = plotting.plot_transaction_rate_heterogeneity(model).lines[0].get_xdata()
        assert x[-1] == pytest.approx(np.log(100) / 2, rel=1e-13)


# ---- cumulative and incremental transactions


def test_tracking_plots_match_lifetimes(recorded, transactions):
    assert len(recorded["tracking"]) == 6
    for want in recorded["tracking"]:
        model = lifetimes_fit(recorded, want["model"])
        ax = getattr(plotting, want["function"])(
            model, transactions, "date", "id_sample", want["t"], want["t_cal"],
            datetime_format="%Y%m%d", **want["kwargs"])
        # NaN in row 0 of the incremental lines on both sides
        assert_lines(ax, want["lines"])
        np.testing.assert_allclose(ax.get_xlim(), want["xlim"], rtol=1e-12)
        assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == (
            want["title"], want["xlabel"], want["ylabel"])
        assert legend_texts(ax) == want["legend"] == ["actual", "predicted"]
        plt.close("all")


def test_tracking_plots_positional_lifetimes_call(recorded, transactions):
    # lifetimes' positional order: ..., datetime_format, freq, set_index_date, title, xlabel
    want = recorded["tracking"][5]
    assert want["function"] == "plot_incremental_transactions"
    ax = plotting.plot_incremental_transactions(
        lifetimes_fit(recorded, "bgf_days"), transactions, "date", "id_sample", 120, 60,
        "%Y%m%d", "D", False, "T", "x", "y")
    assert_lines(ax, want["lines"])
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("T", "x", "y")


def test_tracking_plots_of_bgbb_count_in_periods(recorded, transactions):
    # lifetimes' BG/BB has no expected_number_of_purchases_up_to_time (AttributeError);
    # crmkit's gives E[X(n)] for n whole periods, so the cumulative plot works in periods.
    assert recorded["tracking_errors"]["bgbb"]["exception"] == "AttributeError"
    bgbb = lifetimes_fit(recorded, "bgbb_donations")
    ax = plotting.plot_cumulative_transactions(
        bgbb, transactions, "date", "id_sample", 6, 3, datetime_format="%Y%m%d", freq="M")
    births = transactions.groupby("id_sample")["date"].min().astype(str).str[4:6].astype(int)
    # months Jan..Mar 1997 hold all first purchases; row k (k = 0..5) is month k + 1
    per_month = births.value_counts().reindex(range(1, 13), fill_value=0).to_numpy()
    expected = np.asarray(bgbb.expected_number_of_purchases_up_to_time(np.arange(1.0, 7.0)))
    want = [sum(per_month[d] * expected[k - d] for d in range(k + 1)) for k in range(6)]
    np.testing.assert_allclose(ax.lines[1].get_ydata(), want, rtol=1e-12)
