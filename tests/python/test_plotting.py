"""crmkit.plotting on the CDNOW sample and the donations data: each plot returns the Axes it drew
on, with the expected artists, labels and data (the 'actual' series equal to exact counts)."""

from __future__ import annotations

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
