"""crmkit.spark: on a local[2] SparkSession, the Spark summary, fit and predictions give the
in-memory numbers (summaries exactly, parameters identically, predictions and CLV to 1e-12).

pyspark is in requirements-dev.txt and Java 17 is on every machine of the project, so this module
runs in scripts/test: it is not skipped when pyspark is missing, it fails."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import crmkit
import crmkit.value as cv

from pyspark.sql import SparkSession  # noqa: E402  (a failure here is a failure, not a skip)
from pyspark.sql import functions as F  # noqa: E402
from pyspark.sql import types as T  # noqa: E402

import crmkit.spark as cs  # noqa: E402

END = "1998-06-30"

# pyspark 4 warns that it does not yet fully support pandas 3 (and uses a keyword pandas 3
# deprecates); this module is the check that what crmkit.spark uses works.
pytestmark = [
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]


@pytest.fixture(scope="module")
def spark():
    # The Python workers must be this interpreter (with crmkit, pandas and pyarrow).
    # Everything on loopback: Spark would otherwise bind the machine's outward address.
    names = ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON", "SPARK_LOCAL_IP")
    saved = {k: os.environ.get(k) for k in names}
    os.environ["PYSPARK_PYTHON"] = os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    session = (SparkSession.builder.master("local[2]").appName("crmkit-test-spark")
               .config("spark.driver.host", "127.0.0.1")
               .config("spark.driver.bindAddress", "127.0.0.1")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "4")
               .config("spark.sql.session.timeZone", "UTC")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    """The CDNOW sample as published. Spark hands the rows to crmkit in another order; the
    summaries must still be identical (a period's amounts are summed exactly, rounded once)."""
    return crmkit.datasets.load_cdnow_sample()[["customer_id", "date", "dollar_value"]]


@pytest.fixture(scope="module")
def cdnow_sdf(spark, cdnow):
    """The CDNOW sample in Spark: long ids, DATE times, DECIMAL(10,2) amounts, 3 partitions."""
    sdf = spark.createDataFrame(cdnow.assign(date=cdnow["date"].dt.date))
    sdf = sdf.withColumn("dollar_value", F.col("dollar_value").cast("decimal(10,2)"))
    return sdf.repartition(3)


@pytest.fixture(scope="module")
def memory(cdnow) -> pd.DataFrame:
    return crmkit.utils.summary_data_from_transaction_data(
        cdnow, "customer_id", "date", "dollar_value", observation_period_end=END, freq="W")


@pytest.fixture(scope="module")
def spark_summary(cdnow_sdf):
    return cs.summary(cdnow_sdf, "customer_id", "date", "dollar_value",
                      observation_period_end=END, freq="W").cache()


def _collected(sdf, key: str) -> pd.DataFrame:
    """A Spark summary as the in-memory one: indexed by customer id, sorted."""
    return sdf.toPandas().set_index(key).sort_index()


# ---- summaries ----------------------------------------------------------------------------------


def test_importing_crmkit_does_not_import_pyspark():
    code = "import sys, crmkit; print('pyspark' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_cdnow_summary_equals_the_in_memory_one(spark_summary, memory):
    got = _collected(spark_summary, "customer_id")
    assert list(got.columns) == ["frequency", "recency", "T", "monetary_value"]
    assert len(got) == 2357
    pd.testing.assert_frame_equal(got, memory.sort_index(), check_exact=True,
                                  check_index_type=False)
    assert spark_summary.schema["customer_id"].dataType == T.LongType()
    assert all(spark_summary.schema[c].dataType == T.DoubleType()
               for c in ("frequency", "recency", "T", "monetary_value"))


@pytest.mark.parametrize("options", [
    dict(buckets=1),
    dict(buckets=7, freq="D", include_first_transaction=True),
    dict(buckets=5, freq="M", monetary=False),
    dict(buckets=3, freq="D", freq_multiplier=7, observation_period_end="1997-09-30"),
])
def test_cdnow_summary_options_and_buckets(cdnow, cdnow_sdf, options):
    options = dict(options)
    money = "dollar_value" if options.pop("monetary", True) else None
    expected = crmkit.utils.summary_data_from_transaction_data(
        cdnow, "customer_id", "date", money,
        **{k: v for k, v in options.items() if k != "buckets"})
    got = _collected(cs.summary(cdnow_sdf, "customer_id", "date", money, **options),
                     "customer_id")
    pd.testing.assert_frame_equal(got, expected.sort_index(), check_exact=True,
                                  check_index_type=False)


def _synthetic(rng: np.random.Generator, customers: int = 300) -> pd.DataFrame:
    """Text ids, times with microseconds spread over two years, double amounts."""
    n = customers * 4
    ids = rng.integers(0, customers, n)
    base = np.datetime64("2024-01-01T00:00:00", "us")
    micros = rng.integers(0, 730 * 86_400_000_000, n)
    return pd.DataFrame({
        "customer": np.array([f"cust-{i:04d}" for i in ids], dtype=object),
        "at": base + micros.astype("timedelta64[us]"),
        "amount": np.round(rng.uniform(1, 200, n), 2),
        "note": ["x"] * n,
    })


def test_synthetic_summary_reads_instants_in_utc_whatever_the_session_time_zone(spark):
    tx = _synthetic(np.random.default_rng(7))
    expected = crmkit.utils.summary_data_from_transaction_data(tx, "customer", "at", "amount")
    spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    try:
        # TimestampType from UTC-aware pandas times: instants; the session zone must not shift
        # their days.
        sdf = spark.createDataFrame(tx.assign(at=tx["at"].dt.tz_localize("UTC")))
        assert sdf.schema["at"].dataType == T.TimestampType()
        got = _collected(cs.summary(sdf, "customer", "at", "amount", buckets=6), "customer")
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
    assert len(got) == len(expected) == 294
    pd.testing.assert_frame_equal(got, expected.sort_index(), check_exact=True,
                                  check_index_type=False)
    assert (got["frequency"] > 0).sum() > 200  # the data have repeat buyers to compare


def test_synthetic_summary_of_wall_clock_times_and_integer_ids(spark):
    rng = np.random.default_rng(11)
    tx = _synthetic(rng)
    tx["id"] = tx["customer"].str[5:].astype(np.int32)
    expected = crmkit.utils.summary_data_from_transaction_data(tx, "id", "at", freq="W",
                                                         include_first_transaction=True)
    schema = T.StructType([T.StructField("id", T.IntegerType()),
                           T.StructField("at", T.TimestampNTZType())])
    sdf = spark.createDataFrame(
        [(int(i), t.to_pydatetime()) for i, t in zip(tx["id"], tx["at"])], schema)
    # Wall-clock times are not shifted by the session's time zone either.
    spark.conf.set("spark.sql.session.timeZone", "Asia/Kolkata")
    try:
        got = cs.summary(sdf, "id", "at", freq="W", include_first_transaction=True, buckets=4)
        assert got.schema["id"].dataType == T.IntegerType()
        assert got.columns == ["id", "frequency", "recency", "T"]
        got_pd = _collected(got, "id")  # int32 ids, as in sdf; the in-memory index is int64
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
    assert got_pd.index.tolist() == expected.index.tolist()
    pd.testing.assert_frame_equal(got_pd.reset_index(drop=True),
                                  expected.reset_index(drop=True), check_exact=True)


def test_summary_leaves_out_customers_who_start_after_the_end(spark):
    tx = pd.DataFrame({"c": ["a", "a", "b", "c", "c"],
                       "t": pd.to_datetime(["2024-01-01", "2024-01-10", "2024-02-05",
                                            "2024-01-03", "2024-03-01"]),
                       "m": [10.0, 20.0, 5.0, 1.0, 3.0]})
    sdf = spark.createDataFrame(tx.assign(t=tx["t"].dt.date))
    got = _collected(cs.summary(sdf, "c", "t", "m", observation_period_end="2024-01-31",
                                buckets=2), "c")
    assert got.index.tolist() == ["a", "c"]
    assert got.loc["a"].tolist() == [1.0, 9.0, 30.0, 20.0]
    assert got.loc["c"].tolist() == [0.0, 0.0, 28.0, 0.0]


def test_hourly_summary_equals_the_in_memory_one(spark):
    """freq="H" in Spark: the synthetic hourly log of tests/data/lifetimes/hourly.json."""
    import json
    from pathlib import Path

    rec = json.loads((Path(__file__).resolve().parents[1] / "data" / "lifetimes" / "hourly.json")
                     .read_text())
    tx = pd.DataFrame({"id": rec["log"]["id"], "at": pd.to_datetime(rec["log"]["t"],
                                                                     format="ISO8601"),
                       "amount": rec["log"]["amount"]})
    end = rec["observation_period_end"]
    expected = crmkit.utils.summary_data_from_transaction_data(
        tx, "id", "at", "amount", observation_period_end=end, freq="H")
    schema = T.StructType([T.StructField("id", T.LongType()),
                           T.StructField("at", T.TimestampNTZType()),
                           T.StructField("amount", T.DoubleType())])
    sdf = spark.createDataFrame([(int(i), t.to_pydatetime(), float(a)) for i, t, a in
                                 zip(tx["id"], tx["at"], tx["amount"])], schema).repartition(3)
    got = _collected(cs.summary(sdf, "id", "at", "amount", observation_period_end=end,
                                freq="H", buckets=3), "id")
    assert got.index.tolist() == expected.index.tolist() == [1, 2, 3, 4, 5, 6]
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True),
                                  check_exact=True)
    assert got.loc[1].tolist() == [4.0, 29.0, 49.0, 16.2725]  # lifetimes' freq="h" numbers


# ---- fits ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fitter", [crmkit.BetaGeoFitter, crmkit.ModifiedBetaGeoFitter,
                                    crmkit.ParetoNBDFitter])
def test_fit_equals_the_in_memory_fit(spark_summary, memory, fitter):
    direct = fitter().fit(memory["frequency"], memory["recency"], memory["T"])
    fitted = cs.fit(fitter, spark_summary.repartition(5))
    np.testing.assert_allclose(fitted.params_, direct.params_, rtol=0, atol=1e-9)
    assert list(fitted.params_) == list(direct.params_)  # identical, in fact
    assert fitted.fit_report_.log_likelihood == direct.fit_report_.log_likelihood


def test_statistics_are_the_merged_distinct_rows(spark_summary, memory):
    stats = cs.statistics(crmkit.BetaGeoFitter, spark_summary.repartition(4))
    assert stats == cv.transaction_statistics(memory["frequency"], memory["recency"], memory["T"])
    assert stats.total_weight == 2357


def test_gamma_gamma_fit_equals_the_in_memory_fit(spark_summary, memory):
    repeat = memory[memory["frequency"] > 0]
    direct = crmkit.GammaGammaFitter(penalizer_coef=0.001).fit(repeat["frequency"],
                                                               repeat["monetary_value"])
    fitted = cs.fit(crmkit.GammaGammaFitter(penalizer_coef=0.001),
                    spark_summary.where("frequency > 0"))
    np.testing.assert_allclose(fitted.params_, direct.params_, rtol=0, atol=1e-9)
    assert list(fitted.params_) == list(direct.params_)


def test_bgbb_fit_on_weighted_rows(spark):
    donations = crmkit.datasets.load_donations()
    direct = crmkit.BetaGeoBetaBinomFitter().fit(donations["frequency"], donations["recency"],
                                                 donations["periods"], weights=donations["weights"])
    sdf = spark.createDataFrame(donations).repartition(3)
    fitted = cs.fit(crmkit.BetaGeoBetaBinomFitter, sdf, n_periods_col="periods",
                    weights_col="weights")
    assert list(fitted.params_) == list(direct.params_)
    expected = direct.conditional_expected_number_of_purchases_up_to_time(
        5, donations["frequency"], donations["recency"], donations["periods"])
    got = (cs.predict(fitted, sdf, 5, n_periods_col="periods").toPandas()
           .sort_values(["frequency", "recency"]))
    want = donations.assign(p=np.asarray(expected)).sort_values(["frequency", "recency"])
    np.testing.assert_allclose(got["predicted_purchases"], want["p"], rtol=1e-12, atol=0)
    alive = cs.conditional_probability_alive(fitted, sdf, n_periods_col="periods",
                                             m_periods_in_future=2).toPandas()
    assert alive["probability_alive"].between(0, 1).all() and len(alive) == len(donations)


# ---- predictions --------------------------------------------------------------------------------


def test_predictions_and_clv_equal_the_in_memory_ones(spark_summary, memory):
    bgf = crmkit.BetaGeoFitter().fit(memory["frequency"], memory["recency"], memory["T"])
    repeat = memory[memory["frequency"] > 0]
    ggf = crmkit.GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    # an extra text column and a timestamp column ride along unchanged
    frame = spark_summary.withColumn("label", F.concat(F.lit("c"), F.col("customer_id")))
    frame = frame.withColumn("seen", F.lit(dt.datetime(2024, 5, 6, 7, 8, 9)))

    predicted = cs.predict(bgf, frame, 10)
    assert predicted.columns == frame.columns + ["predicted_purchases"]
    alive = cs.conditional_probability_alive(bgf, frame)
    clv = cs.customer_lifetime_value(ggf, bgf, frame, time=6, discount_rate=0.02, freq="W")
    results = {
        "predicted_purchases": (predicted, bgf.predict(10, memory["frequency"],
                                                       memory["recency"], memory["T"])),
        "probability_alive": (alive, bgf.conditional_probability_alive(
            memory["frequency"], memory["recency"], memory["T"])),
        "clv": (clv, ggf.customer_lifetime_value(
            bgf, memory["frequency"], memory["recency"], memory["T"],
            memory["monetary_value"], time=6, discount_rate=0.02, freq="W")),
    }
    for name, (sdf, expected) in results.items():
        got = _collected(sdf, "customer_id")
        assert (got["label"] == "c" + got.index.astype(str)).all()
        assert (got["seen"] == pd.Timestamp("2024-05-06 07:08:09")).all()
        pd.testing.assert_frame_equal(got[["frequency", "recency", "T", "monetary_value"]],
                                      memory.sort_index(), check_exact=True,
                                      check_index_type=False)
        np.testing.assert_allclose(got[name].to_numpy(),
                                   expected.sort_index().to_numpy(), rtol=1e-12, atol=0,
                                   err_msg=name)


def test_the_fitted_data_is_not_shipped_to_the_workers(memory):
    bgf = crmkit.BetaGeoFitter().fit(memory["frequency"], memory["recency"], memory["T"])
    slim = crmkit.value._shippable(bgf, "model")  # what crmkit.spark ships
    assert slim.data is None and bgf.data is not None
    assert list(slim.params_) == list(bgf.params_)


# ---- errors -------------------------------------------------------------------------------------


def test_errors_name_the_argument(spark, cdnow, cdnow_sdf, spark_summary, memory):
    null_ids = int((cdnow["customer_id"] % 100 == 1).sum())
    nan_amounts = int((cdnow["customer_id"] == 1).sum())
    bgf = crmkit.BetaGeoFitter().fit(memory["frequency"], memory["recency"], memory["T"])
    repeat = memory[memory["frequency"] > 0]
    ggf = crmkit.GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    cases = [
        (lambda: cs.summary(cdnow, "c", "t"), "sdf: expected a Spark DataFrame"),
        (lambda: cs.summary(cdnow_sdf, "nope", "date"), "customer_id_col: no column 'nope'"),
        (lambda: cs.summary(cdnow_sdf, "customer_id", "when"), "datetime_col: no column 'when'"),
        (lambda: cs.summary(cdnow_sdf, "customer_id", "date", "cash"),
         "monetary_value_col: no column 'cash'"),
        (lambda: cs.summary(cdnow_sdf.withColumn("date", F.col("date").cast("string")),
                            "customer_id", "date"),
         "datetime_col: column 'date' is string, not a timestamp or date"),
        (lambda: cs.summary(cdnow_sdf.withColumn("dollar_value", F.lit("1.00")),
                            "customer_id", "date", "dollar_value"),
         "monetary_value_col: column 'dollar_value' is string, not a number"),
        (lambda: cs.summary(cdnow_sdf.where("customer_id < 0"), "customer_id", "date"),
         "sdf: has no transactions (no rows)"),
        (lambda: cs.summary(cdnow_sdf, "customer_id", "date", freq="X"), "freq"),
        (lambda: cs.summary(cdnow_sdf, "customer_id", "date", freq_multiplier=0),
         "freq_multiplier: must be finite and > 0"),
        (lambda: cs.summary(cdnow_sdf, "customer_id", "date", buckets=0),
         "buckets: expected an integer >= 1, got 0"),
        (lambda: cs.summary(cdnow_sdf.withColumnRenamed("customer_id", "T"), "T", "date"),
         "customer_id_col: 'T' is also the name of a summary column"),
        (lambda: cs.summary(cdnow_sdf.withColumn(
            "customer_id", F.when(F.col("customer_id") % 100 == 1, None)
            .otherwise(F.col("customer_id"))), "customer_id", "date"),
         f"customer_id_col: {null_ids} rows have no customer id"),
        (lambda: cs.summary(cdnow_sdf.withColumn("amount", F.when(
            F.col("customer_id") == 1, float("nan")).otherwise(1.0)),
            "customer_id", "date", "amount"),
         f"monetary_value_col: {nan_amounts} rows have a null, NaN or infinite amount in column 'amount'"),
        (lambda: cs.fit("BetaGeoFitter", spark_summary), "model: expected a crmkit fitter"),
        (lambda: cs.fit(crmkit.BetaGeoFitter, spark_summary.drop("recency")),
         "recency_col: no column 'recency' in summary_sdf"),
        (lambda: cs.fit(crmkit.BetaGeoFitter, spark_summary.where("T < 0")),
         "summary_sdf: has no rows to fit"),
        (lambda: cs.fit(crmkit.GammaGammaFitter, spark_summary),
         "]: must be an integer >= 1 (filter out frequency 0 rows) (row number within a batch "
         "of a partition)"),  # summary_sdf: frequency[i]: ... the worker's error, on the driver
        (lambda: cs.predict(crmkit.BetaGeoFitter(), spark_summary, 10),
         "BetaGeoFitter is not fitted"),
        (lambda: cs.predict("bgf", spark_summary, 10), "model: expected a fitted crmkit fitter"),
        (lambda: cs.predict(bgf, spark_summary, 10, output_col="T"),
         "output_col: summary_sdf already has a column 'T'"),
        (lambda: cs.predict(bgf, spark_summary.drop("T"), 10), "T_col: no column 'T'"),
        (lambda: cs.predict(bgf, spark_summary, "soon"), "t: expected a number, got 'soon'"),
        (lambda: cs.predict(bgf, spark_summary, float("inf")), "t: must be finite"),
        (lambda: cs.conditional_probability_alive(crmkit.GammaGammaFitter(), spark_summary),
         "GammaGammaFitter is not fitted"),
        (lambda: cs.conditional_probability_alive(ggf, spark_summary),
         "model: GammaGammaFitter predicts spend, not purchases"),
        (lambda: cs.customer_lifetime_value(bgf, bgf, spark_summary),
         "gamma_gamma: expected a fitted GammaGammaFitter, got BetaGeoFitter"),
        (lambda: cs.customer_lifetime_value(ggf, bgf, spark_summary, freq="X"),
         "freq: must be one of D, W, M, H, got 'X'"),
    ]
    for call, message in cases:
        with pytest.raises(crmkit.ValidationError) as info:
            call()
        assert message in str(info.value), (message, str(info.value))
