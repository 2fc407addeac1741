"""Arrow in and out (issue 10 item 1, docs/arrow.md): the column functions take pyarrow Arrays,
ChunkedArrays, Tables and RecordBatches as well as numpy and pandas, give exactly the same results
(==), read single-chunk primitive columns without a copy, refuse nulls naming the column and row,
and return pandas, pyarrow or numpy as ``output=`` asks."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pyarrow as pa  # a test dependency (requirements-dev.txt): never skipped
import pytest

import crmkit
from crmkit import _arrow, datasets, utils

END = "1997-09-30"
OUTPUT_ERROR = r"^output: expected None, 'pandas', 'pyarrow' or 'numpy', got 'polars'$"


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    """The CDNOW sample (6,919 purchases of 2,357 customers), date datetime64, dollar_value text."""
    return datasets.load_cdnow_sample()


@pytest.fixture(scope="module")
def sample_table(sample) -> pa.Table:
    return pa.Table.from_pandas(sample, preserve_index=False)


@pytest.fixture(scope="module")
def summary(sample) -> pd.DataFrame:
    return utils.summary_data_from_transaction_data(
        sample, "customer_id", "date", "dollar_value", observation_period_end=END,
        freq="D", freq_multiplier=7)


@pytest.fixture(scope="module")
def bgf(summary) -> crmkit.BetaGeoFitter:
    return crmkit.BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])


def address(array: np.ndarray) -> int:
    return array.__array_interface__["data"][0]


# ---- reading Arrow: no copy where the layout allows ------------------------------------------


@pytest.mark.parametrize("arrow_type, values, dtype", [
    (pa.float64(), [1.5, -2.25, 3.0], np.float64),
    (pa.int64(), [7, -1, 2**40], np.int64),
    (pa.timestamp("us"), [0, 86_400_000_000, -1], None),
    (pa.timestamp("us", tz="America/New_York"), [5, 6, 7], None),
])
def test_a_single_chunk_primitive_column_is_not_copied(arrow_type, values, dtype):
    chunk = pa.array(values, type=arrow_type)
    for column in (chunk, pa.chunked_array([chunk])):
        if pa.types.is_timestamp(arrow_type):
            out = _arrow.timestamp_micros(column, "at")
            assert out.dtype == np.int64 and out.tolist() == values  # UTC counts, any zone
        else:
            out = _arrow.to_numpy(column, "x", dtype)
            assert out.dtype == dtype and out.tolist() == values
        assert address(out) == chunk.buffers()[1].address
        assert not out.flags.writeable  # a view of the Arrow buffer


def test_the_readers_of_each_function_do_not_copy(sample_table):
    table = sample_table.select(["customer_id", "date"]).cast(
        pa.schema([("customer_id", pa.int64()), ("date", pa.timestamp("us"))]))
    table = table.combine_chunks()
    ids, date = table.column("customer_id"), table.column("date")
    id_buffer, date_buffer = ids.chunk(0).buffers()[1].address, date.chunk(0).buffers()[1].address
    # crmkit.utils: the one reader of times, and the ids
    assert address(utils._micros(utils._column(table, "date", "datetime_col"), "datetime_col",
                                 None)) == date_buffer
    codes, uniques = utils._factorize(utils._column(table, "customer_id", "customer_id_col"))
    assert uniques is None and address(codes) == id_buffer
    # the fitters, rfm_scores, facts and cohorts
    x = pa.chunked_array([pa.array([0.0, 2.0, 5.0])])
    assert address(crmkit.fitters._as_column(x, "frequency")[0]) == x.chunk(0).buffers()[1].address
    assert address(utils._score_column(x, "recency")[0]) == x.chunk(0).buffers()[1].address
    assert address(crmkit.facts._micros(date, "purchases.at")) == date_buffer
    assert address(crmkit.facts._ids(ids, "purchases.customer_id")) == id_buffer
    assert address(crmkit.loyalty_metrics._time_micros(date)) == date_buffer
    assert address(crmkit.loyalty_metrics._customer_codes(ids)) == id_buffer


def test_numpy_results_become_arrow_without_a_copy(bgf, summary):
    p = bgf.conditional_probability_alive(summary["frequency"], summary["recency"],
                                          summary["T"], output="numpy")
    assert address(p) == _arrow.array(p).buffers()[1].address
    table = utils.summary_data_from_transaction_data(
        pa.Table.from_pandas(datasets.load_cdnow_sample()), "customer_id", "date",
        observation_period_end=END, output="pyarrow")
    as_numpy = utils.summary_data_from_transaction_data(
        datasets.load_cdnow_sample(), "customer_id", "date", observation_period_end=END,
        output="numpy")
    assert table.column_names == ["customer_id", "frequency", "recency", "T"]
    assert table.to_pydict() == {k: v.tolist() for k, v in as_numpy.items()}


def test_several_chunks_are_concatenated_and_nulls_named():
    column = pa.chunked_array([[1.0, 2.0], [], [3.0]])
    out = _arrow.to_numpy(column, "x")
    assert out.tolist() == [1.0, 2.0, 3.0]
    assert _arrow.to_numpy(pa.chunked_array([], pa.float64()), "x").tolist() == []
    with pytest.raises(crmkit.ValidationError, match=r"^frequency\[3\]: is missing$"):
        _arrow.to_numpy(pa.chunked_array([[1.0, 2.0], [3.0, None]]), "frequency")
    with pytest.raises(crmkit.ValidationError, match=r"^at\[1\]: is missing \(NaT\)$"):
        _arrow.timestamp_micros(pa.array([1, None], pa.timestamp("ms")), "at")


def test_timestamps_of_any_unit_and_zone_read_as_utc_microseconds():
    ns = pa.array([1_500, -1_500, 86_400_000_000_999], pa.timestamp("ns"))
    # floored as numpy and pandas floor: -1.5 us is -2 us
    assert _arrow.timestamp_micros(ns, "at").tolist() == [1, -2, 86_400_000_000]
    assert _arrow.timestamp_micros(pa.array([2], pa.timestamp("s", tz="+05:00")),
                                   "at").tolist() == [2_000_000]
    assert _arrow.timestamp_micros(pa.array([3], pa.timestamp("ms", tz="UTC")),
                                   "at").tolist() == [3_000]
    assert _arrow.timestamp_micros(pa.array(["x"]), "at") is None  # not a timestamp


# ---- summaries: the same from pandas and from Arrow -------------------------------------------


def test_cdnow_summary_from_a_table_equals_the_pandas_one(sample, sample_table, summary):
    assert sample_table.schema.field("date").type == pa.timestamp("us")  # pandas 3: us
    nanos = sample_table.set_column(2, "date", sample_table.column("date").cast(
        pa.timestamp("ns")))
    chunked = pa.Table.from_batches(nanos.to_batches(max_chunksize=1000))
    assert chunked.column("date").num_chunks == 7
    for source in (sample_table, pa.RecordBatch.from_pandas(sample), nanos, chunked):
        out = utils.summary_data_from_transaction_data(
            source, "customer_id", "date", "dollar_value", observation_period_end=END,
            freq="D", freq_multiplier=7)
        pd.testing.assert_frame_equal(out, summary, check_exact=True)
    assert len(summary) == 2357 and summary["frequency"].sum() == 2457
    assert summary.index.name == "customer_id"


def test_cdnow_summary_with_microsecond_utc_times_and_float_amounts(sample, summary):
    table = pa.table({
        "customer_id": pa.array(sample["customer_id"].to_numpy()),
        "date": pa.array(sample["date"].to_numpy().astype("datetime64[us]")).cast(
            pa.timestamp("us", tz="Asia/Tokyo")),
        "dollar_value": pa.array(sample["dollar_value"].astype(float).to_numpy()),
    })
    out = utils.summary_data_from_transaction_data(
        table, "customer_id", "date", "dollar_value", observation_period_end=END,
        freq="D", freq_multiplier=7)
    pd.testing.assert_frame_equal(out, summary, check_exact=True)


def test_text_ids_from_arrow_equal_text_ids_from_pandas(sample):
    named = sample.assign(customer_id="c" + sample["customer_id"].astype(str))
    want = utils.summary_data_from_transaction_data(named, "customer_id", "date",
                                                    observation_period_end=END)
    got = utils.summary_data_from_transaction_data(pa.Table.from_pandas(named), "customer_id",
                                                   "date", observation_period_end=END)
    assert got.index.tolist() == want.index.tolist()
    assert got.index.tolist()[:3] == ["c1", "c2", "c3"]  # order of first appearance
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True),
                                  check_exact=True)
    table = utils.summary_data_from_transaction_data(pa.Table.from_pandas(named), "customer_id",
                                                     "date", observation_period_end=END,
                                                     output="pyarrow")
    # text ids keep the Arrow type of the input column (pandas 3 text is large_string)
    assert table.schema.field("customer_id").type == \
        pa.Table.from_pandas(named).schema.field("customer_id").type
    assert table.column("customer_id").to_pylist() == want.index.tolist()
    assert table.column("frequency").to_pylist() == want["frequency"].tolist()
    arrays = utils.summary_data_from_transaction_data(named, "customer_id", "date",
                                                      observation_period_end=END, output="numpy")
    assert arrays["customer_id"].tolist() == want.index.tolist()


def test_other_arrow_types_go_through_the_pandas_readers(sample):
    # dictionary ids (pandas categories, here not in order of appearance): rows in order of
    # appearance, as from pandas
    named = sample.assign(customer_id="c" + sample["customer_id"].astype(str))
    categories = sorted(set(named["customer_id"]), reverse=True)
    cat = named.assign(customer_id=pd.Categorical(named["customer_id"], categories=categories))
    table = pa.Table.from_pandas(cat)
    assert pa.types.is_dictionary(table.schema.field("customer_id").type)
    want = utils.summary_data_from_transaction_data(cat, "customer_id", "date",
                                                    observation_period_end=END)
    got = utils.summary_data_from_transaction_data(table, "customer_id", "date",
                                                   observation_period_end=END)
    assert got.index.tolist()[:3] == want.index.tolist()[:3] == ["c1", "c2", "c3"]
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True),
                                  check_exact=True)
    # int64 19970101 dates: refused without a format, naming the column; read with one
    plain = pd.read_csv(datasets.data_path("CDNOW_sample.txt"), sep=r"\s+", header=None,
                        names=["master_id", "customer_id", "date", "number_of_cds",
                               "dollar_value"])
    with pytest.raises(crmkit.ValidationError,
                       match=r"^datetime_col: column 'date' holds numbers \(int64\)"):
        utils.summary_data_from_transaction_data(pa.Table.from_pandas(plain), "customer_id",
                                                 "date")
    kwargs = dict(datetime_format="%Y%m%d", observation_period_end="19970930",
                  freq_multiplier=7)
    pd.testing.assert_frame_equal(
        utils.summary_data_from_transaction_data(pa.Table.from_pandas(plain), "customer_id",
                                                 "date", **kwargs),
        utils.summary_data_from_transaction_data(plain, "customer_id", "date", **kwargs),
        check_exact=True)
    # date32: midnight UTC
    days = pa.table({"c": [1, 1, 2], "d": pa.array([0, 3, 5], pa.date32())})
    frame = pd.DataFrame({"c": [1, 1, 2], "d": pd.to_datetime(["1970-01-01", "1970-01-04",
                                                               "1970-01-06"])})
    out = utils.summary_data_from_transaction_data(days, "c", "d")
    pd.testing.assert_frame_equal(out, utils.summary_data_from_transaction_data(frame, "c", "d"),
                                  check_exact=True)
    assert out.to_dict("index") == {1: {"frequency": 1.0, "recency": 3.0, "T": 5.0},
                                    2: {"frequency": 0.0, "recency": 0.0, "T": 0.0}}


def test_expected_cumulative_transactions_codes_large_integer_ids_densely():
    day = 86_400_000_000
    log = pa.table({"c": pa.array([10**18, 10**18, 7, 10**18]),
                    "d": pa.array([0, 8 * day, day, 12 * day], pa.timestamp("us"))})
    bgf = crmkit.BetaGeoFitter()
    bgf.params_ = [0.24, 4.4, 0.79, 2.43]
    got = utils.expected_cumulative_transactions(bgf, log, "d", "c", 14)
    pd.testing.assert_frame_equal(
        got, utils.expected_cumulative_transactions(bgf, log.to_pandas(), "d", "c", 14),
        check_exact=True)
    # repeat purchases of 10**18 on days 8 and 12: counted at the end of periods 8 and 12
    assert got["actual"].tolist() == [0] * 8 + [1] * 4 + [2] * 2


def test_summary_outputs(sample, sample_table, summary):
    kwargs = dict(observation_period_end=END, freq="D", freq_multiplier=7)
    same = utils.summary_data_from_transaction_data(sample_table, "customer_id", "date",
                                                    "dollar_value", output="pandas", **kwargs)
    pd.testing.assert_frame_equal(same, summary, check_exact=True)
    table = utils.summary_data_from_transaction_data(sample_table, "customer_id", "date",
                                                     "dollar_value", output="pyarrow", **kwargs)
    assert isinstance(table, pa.Table)
    assert table.schema == pa.schema([("customer_id", pa.int64()), ("frequency", pa.float64()),
                                      ("recency", pa.float64()), ("T", pa.float64()),
                                      ("monetary_value", pa.float64())])
    assert table.to_pandas().set_index("customer_id").equals(summary)
    arrays = utils.summary_data_from_transaction_data(sample, "customer_id", "date",
                                                      "dollar_value", output="numpy", **kwargs)
    assert list(arrays) == ["customer_id", "frequency", "recency", "T", "monetary_value"]
    assert (arrays["customer_id"] == summary.index.to_numpy()).all()
    for name in ("frequency", "recency", "T", "monetary_value"):
        assert (arrays[name] == summary[name].to_numpy()).all()
    assert arrays["customer_id"][:3].tolist() == [1, 2, 3]
    assert arrays["frequency"][:3].tolist() == [2.0, 1.0, 0.0]


def test_calibration_and_holdout_from_a_table(sample, sample_table):
    kwargs = dict(calibration_period_end=END, observation_period_end="1998-06-30",
                  freq="D", freq_multiplier=7, monetary_value_col="dollar_value")
    want = utils.calibration_and_holdout_data(sample, "customer_id", "date", **kwargs)
    got = utils.calibration_and_holdout_data(sample_table, "customer_id", "date", **kwargs)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert len(want) == 2357 and want["frequency_holdout"].sum() == 1882
    table = utils.calibration_and_holdout_data(sample_table, "customer_id", "date",
                                               output="pyarrow", **kwargs)
    assert table.column_names == ["customer_id", "frequency_cal", "recency_cal", "T_cal",
                                  "monetary_value_cal", "frequency_holdout",
                                  "monetary_value_holdout", "duration_holdout"]
    assert table.to_pandas().set_index("customer_id").equals(want)
    arrays = utils.calibration_and_holdout_data(sample, "customer_id", "date", output="numpy",
                                                **kwargs)
    assert arrays["duration_holdout"][0] == want["duration_holdout"].iloc[0]
    assert arrays["frequency_holdout"].sum() == 1882


def test_cumulative_repeat_transactions_from_a_table(sample, sample_table):
    kwargs = dict(freq="W", start="1997-01-01", periods=78)
    want = utils.cumulative_repeat_transactions(sample, "customer_id", "date", **kwargs)
    got = utils.cumulative_repeat_transactions(sample_table, "customer_id", "date", **kwargs)
    assert isinstance(got, np.ndarray) and (got == want).all()
    assert got[19:25].tolist() == [1359, 1414, 1484, 1517, 1573, 1672]
    series = utils.cumulative_repeat_transactions(sample_table, "customer_id", "date",
                                                  output="pandas", **kwargs)
    assert series.name == "cumulative_repeat_transactions" and series.index.name == "period"
    assert series.loc[20:25].tolist() == [1359, 1414, 1484, 1517, 1573, 1672]
    array = utils.cumulative_repeat_transactions(sample_table, "customer_id", "date",
                                                 output="pyarrow", **kwargs)
    assert array.type == pa.int64() and array.to_pylist() == want.tolist()
    assert (utils.cumulative_repeat_transactions(sample, "customer_id", "date", output="numpy",
                                                 **kwargs) == want).all()


def test_expected_cumulative_transactions_from_a_table(sample, sample_table, bgf):
    want = utils.expected_cumulative_transactions(bgf, sample, "date", "customer_id", 25 * 7,
                                                  freq_multiplier=7)
    got = utils.expected_cumulative_transactions(bgf, sample_table, "date", "customer_id",
                                                 25 * 7, freq_multiplier=7)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert want["actual"].iloc[19:25].tolist() == [1359, 1414, 1484, 1517, 1573, 1672]
    table = utils.expected_cumulative_transactions(bgf, sample_table, "date", "customer_id",
                                                   14, set_index_date=True, output="pyarrow")
    assert table.column_names == ["period", "actual", "predicted"]
    dated = utils.expected_cumulative_transactions(bgf, sample, "date", "customer_id", 14,
                                                   set_index_date=True)
    assert table.column("period").to_pylist()[-2:] == ["1997-01-13", "1997-01-14"]
    assert table.column("actual").to_pylist() == dated["actual"].tolist()
    assert table.column("predicted").to_pylist() == dated["predicted"].tolist()
    arrays = utils.expected_cumulative_transactions(bgf, sample, "date", "customer_id",
                                                    25 * 7, freq_multiplier=7, output="numpy")
    assert list(arrays) == ["actual", "predicted"]
    assert (arrays["predicted"] == want["predicted"].to_numpy()).all()


# ---- nulls and missing columns ----------------------------------------------------------------


def test_summary_refuses_nulls_naming_the_column_and_row():
    table = pa.table({
        "who": pa.array([1, 2, None, 4]),
        "when": pa.array([0, 1, 2, 3], pa.timestamp("us")),
        "amount": pa.array([1.0, 2.0, 3.0, 4.0]),
    })
    with pytest.raises(crmkit.ValidationError, match=r"^customer_id_col\[2\]: is missing$"):
        utils.summary_data_from_transaction_data(table, "who", "when", "amount")
    table = table.set_column(0, "who", pa.array(["a", "b", None, "d"]))
    with pytest.raises(crmkit.ValidationError, match=r"^customer_id_col\[2\]: is missing$"):
        utils.summary_data_from_transaction_data(table, "who", "when")
    table = table.set_column(0, "who", pa.array([1, 2, 3, 4]))
    table = table.set_column(1, "when", pa.chunked_array([pa.array([0, 1], pa.timestamp("us")),
                                                         pa.array([None, 3], pa.timestamp("us"))]))
    with pytest.raises(crmkit.ValidationError, match=r"^datetime_col\[2\]: is missing \(NaT\)$"):
        utils.calibration_and_holdout_data(table, "who", "when", "1970-01-01")
    table = table.set_column(1, "when", pa.array([0, 1, 2, 3], pa.timestamp("us")))
    table = table.set_column(2, "amount", pa.array([1.0, None, 3.0, 4.0]))
    with pytest.raises(crmkit.ValidationError, match=r"^monetary_value_col\[1\]: is missing$"):
        utils.summary_data_from_transaction_data(table, "who", "when", "amount")
    table = table.set_column(2, "amount", pa.array(["1.5", "2", None, "4"]))
    with pytest.raises(crmkit.ValidationError, match=r"^monetary_value_col\[2\]: is missing$"):
        utils.summary_data_from_transaction_data(table, "who", "when", "amount")


def test_a_missing_column_in_a_table_is_named():
    table = pa.table({"who": [1, 2], "when": pa.array([0, 1], pa.timestamp("us"))})
    batch = table.to_batches()[0]
    for source in (table, batch):
        with pytest.raises(crmkit.ValidationError,
                           match=r"^datetime_col: no column 'at' in transactions$"):
            utils.summary_data_from_transaction_data(source, "who", "at")
        with pytest.raises(crmkit.ValidationError,
                           match=r"^customer_id_col: no column 'id' in transactions$"):
            utils.cumulative_repeat_transactions(source, "id", "when")
        with pytest.raises(crmkit.ValidationError,
                           match=r"^monetary_value_col: no column 'amount' in transactions$"):
            utils.calibration_and_holdout_data(source, "who", "when", "1970-01-01",
                                               monetary_value_col="amount")
    with pytest.raises(crmkit.ValidationError,
                       match=r"^purchases\.amount_minor: no column 'amount_minor' in purchases$"):
        crmkit.facts_from_columns(pa.table({"customer_id": [1]}), "2024-01-01",
                                  purchases=pa.table({"customer_id": [1],
                                                      "at": pa.array([0], pa.timestamp("us"))}))


def test_a_bad_output_is_refused_by_every_function(sample, bgf, summary):
    f, r, t = summary["frequency"], summary["recency"], summary["T"]
    calls = [
        lambda: utils.summary_data_from_transaction_data(sample, "customer_id", "date",
                                                         output="polars"),
        lambda: utils.calibration_and_holdout_data(sample, "customer_id", "date", END,
                                                   output="polars"),
        lambda: utils.cumulative_repeat_transactions(sample, "customer_id", "date",
                                                     output="polars"),
        lambda: utils.expected_cumulative_transactions(bgf, sample, "date", "customer_id", 14,
                                                       output="polars"),
        lambda: crmkit.rfm_scores(r, f, f, output="polars"),
        lambda: crmkit.facts_from_columns({"customer_id": [1]}, "2024-01-01", output="polars"),
        lambda: crmkit.cohort_retention([1], pd.to_datetime(["2024-01-01"]), output="polars"),
        lambda: bgf.conditional_probability_alive(f, r, t, output="polars"),
        lambda: bgf.predict(1.0, f, r, t, output="polars"),
        lambda: bgf.expected_number_of_purchases_up_to_time([1.0], output="polars"),
        lambda: bgf.probability_of_n_purchases_up_to_time(1.0, 1, output="polars"),
        # checked before anything else: unfitted models give the same error
        lambda: crmkit.ParetoNBDFitter().conditional_expected_number_of_purchases_up_to_time(
            1.0, f, r, t, output="polars"),
        lambda: crmkit.BetaGeoBetaBinomFitter().predict(1, f, r, t, output="polars"),
        lambda: crmkit.BetaGeoBetaBinomFitter().conditional_probability_alive(
            1, f, r, t, output="polars"),
        lambda: crmkit.BetaGeoBetaBinomFitter().expected_number_of_purchases_up_to_time(
            [1], output="polars"),
        lambda: crmkit.BetaGeoBetaBinomFitter().probability_of_n_purchases_up_to_time(
            1, 1, output="polars"),
        lambda: crmkit.GammaGammaFitter().conditional_expected_average_profit(
            f, t, output="polars"),
        lambda: crmkit.GammaGammaFitter().customer_lifetime_value(
            bgf, f, r, t, t, output="polars"),
    ]
    for call in calls:
        with pytest.raises(crmkit.ValidationError, match=OUTPUT_ERROR):
            call()
    with pytest.raises(crmkit.ValidationError, match=r"^output: expected .* got 3$"):
        crmkit.rfm_scores(r, f, f, output=3)


def test_crmkit_imports_and_runs_without_pyarrow():
    code = textwrap.dedent("""
        import sys
        sys.modules["pyarrow"] = None  # import pyarrow now fails
        import crmkit
        from crmkit import datasets, utils
        assert "pyarrow" not in [m for m in sys.modules if sys.modules[m] is not None]
        s = utils.summary_data_from_transaction_data(datasets.load_cdnow_sample(),
                                                     "customer_id", "date", output="numpy")
        print(len(s["frequency"]), int(s["frequency"].sum()))
        try:
            utils.summary_data_from_transaction_data(datasets.load_cdnow_sample(),
                                                     "customer_id", "date", output="pyarrow")
        except crmkit.ValidationError as exc:
            print(exc)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out == ("2357 4339\n"
                   "output: 'pyarrow' needs the pyarrow package (pip install pyarrow)\n")


# ---- rfm_scores -------------------------------------------------------------------------------


def test_rfm_scores_from_numpy_pandas_and_arrow(summary):
    r = (summary["T"] - summary["recency"])
    f, m = summary["frequency"], summary["monetary_value"]
    want = crmkit.rfm_scores(r, f, m)
    from_numpy = crmkit.rfm_scores(r.to_numpy(), f.to_numpy(), m.to_numpy())
    from_arrow = crmkit.rfm_scores(pa.array(r.to_numpy()), pa.chunked_array([f.to_numpy()]),
                                   pa.chunked_array([m.to_numpy()[:1000], m.to_numpy()[1000:]]))
    pd.testing.assert_frame_equal(from_numpy, want.reset_index(drop=True), check_exact=True)
    pd.testing.assert_frame_equal(from_arrow, from_numpy, check_exact=True)
    table = crmkit.rfm_scores(pa.array(r.to_numpy()), f, m, output="pyarrow")
    assert table.schema == pa.schema([("r_score", pa.int32()), ("f_score", pa.int32()),
                                      ("m_score", pa.int32()), ("fm_score", pa.int32()),
                                      ("segment", pa.string())])
    assert table.to_pandas().equals(from_numpy)
    arrays = crmkit.rfm_scores(r, f, m, output="numpy")
    assert arrays["segment"].dtype == object
    assert arrays["segment"].tolist() == want["segment"].tolist()
    assert (arrays["fm_score"] == want["fm_score"].to_numpy()).all()
    same = crmkit.rfm_scores(r, f, m, output="pandas")
    pd.testing.assert_frame_equal(same, want, check_exact=True)
    with pytest.raises(crmkit.ValidationError, match=r"^monetary\[1\]: is missing$"):
        crmkit.rfm_scores([1.0, 2.0], [1.0, 2.0], pa.array([1.0, None]))


# ---- the fitters ------------------------------------------------------------------------------


def test_fits_and_predictions_from_arrow_equal_pandas(summary, bgf):
    arrow = pa.Table.from_pandas(summary.reset_index())
    f, r, t = arrow.column("frequency"), arrow.column("recency"), arrow.column("T")
    other = crmkit.BetaGeoFitter().fit(f, r, t)
    assert other.params_.tolist() == bgf.params_.tolist()
    assert round(bgf.params_["r"], 4) == 0.2426 and round(bgf.params_["alpha"], 3) == 4.414
    pandas_p = bgf.conditional_probability_alive(summary["frequency"], summary["recency"],
                                                 summary["T"])
    numpy_p = bgf.conditional_probability_alive(summary["frequency"].to_numpy(),
                                                summary["recency"].to_numpy(),
                                                summary["T"].to_numpy())
    arrow_p = bgf.conditional_probability_alive(f, r, t)
    assert isinstance(arrow_p, np.ndarray)
    assert (arrow_p == numpy_p).all() and (pandas_p.to_numpy() == numpy_p).all()
    # predictions over a ChunkedArray of several chunks and per-row horizons
    chunked = pa.chunked_array([summary["frequency"].to_numpy()[:7],
                                summary["frequency"].to_numpy()[7:]])
    horizon = pa.array(np.resize([10.0, 20.0, 39.0], len(summary)))
    got = bgf.predict(horizon, chunked, r, t)
    want = bgf.predict(horizon.to_numpy(), summary["frequency"], summary["recency"],
                       summary["T"]).to_numpy()
    assert (got == want).all()
    with pytest.raises(crmkit.ValidationError, match=r"^T\[1\]: is missing$"):
        bgf.conditional_probability_alive([1.0, 1.0], [1.0, 1.0], pa.array([2.0, None]))
    with pytest.raises(crmkit.ValidationError, match=r"^frequency: expected a column .* got a "
                                                     r"pyarrow Table$"):
        bgf.conditional_probability_alive(arrow, r, t)


def test_prediction_outputs(summary, bgf):
    f, r, t = summary["frequency"], summary["recency"], summary["T"]
    want = bgf.conditional_probability_alive(f, r, t)  # a Series with the summary's index
    array = bgf.conditional_probability_alive(f, r, t, output="pyarrow")
    assert isinstance(array, pa.Array) and array.type == pa.float64()
    assert array.to_pylist() == want.tolist()
    numpy_out = bgf.conditional_probability_alive(pa.array(f.to_numpy()), r, t, output="numpy")
    assert isinstance(numpy_out, np.ndarray) and (numpy_out == want.to_numpy()).all()
    series = bgf.conditional_probability_alive(f.to_numpy(), r.to_numpy(), t.to_numpy(),
                                               output="pandas")
    assert isinstance(series, pd.Series) and series.index.equals(pd.RangeIndex(len(summary)))
    assert (series.to_numpy() == want.to_numpy()).all()
    indexed = bgf.conditional_probability_alive(f, r, t, output="pandas")
    assert indexed.index.equals(summary.index)
    # scalars with output give a column of one
    one = bgf.predict(39.0, 2.0, 30.43, 38.86, output="numpy")
    assert one.shape == (1,) and one[0] == bgf.predict(39.0, 2.0, 30.43, 38.86)
    assert bgf.predict(39.0, 2.0, 30.43, 38.86, output="pyarrow").to_pylist() == [one[0]]
    assert bgf.expected_number_of_purchases_up_to_time(
        pa.array([10.0, 20.0]), output="pyarrow").to_pylist() == \
        bgf.expected_number_of_purchases_up_to_time(np.array([10.0, 20.0])).tolist()
    assert bgf.probability_of_n_purchases_up_to_time(
        [10.0, 20.0], pa.array([1.0, 2.0]), output="numpy").tolist() == \
        bgf.probability_of_n_purchases_up_to_time(np.array([10.0, 20.0]),
                                                  np.array([1.0, 2.0])).tolist()
    pd.testing.assert_series_equal(bgf.predict(10.0, output="pandas"),
                                   bgf.predict(10.0), check_exact=True)


def test_gamma_gamma_and_clv_from_arrow(summary, bgf):
    repeat = summary[summary["frequency"] > 0]
    gg = crmkit.GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    arrow = pa.Table.from_pandas(repeat.reset_index())
    gg_arrow = crmkit.GammaGammaFitter().fit(arrow.column("frequency"),
                                             arrow.column("monetary_value"))
    assert gg_arrow.params_.tolist() == gg.params_.tolist()
    want = gg.customer_lifetime_value(bgf, repeat["frequency"], repeat["recency"], repeat["T"],
                                      repeat["monetary_value"], time=12, freq="W")
    got = gg.customer_lifetime_value(bgf, arrow.column("frequency"), arrow.column("recency"),
                                     arrow.column("T"), arrow.column("monetary_value"), time=12,
                                     freq="W", output="pyarrow")
    assert got.to_pylist() == want.tolist()
    assert want.name == "clv"
    series = gg.customer_lifetime_value(bgf, arrow.column("frequency"), arrow.column("recency"),
                                        arrow.column("T"), arrow.column("monetary_value"),
                                        time=12, freq="W", output="pandas")
    assert series.name == "clv" and series.tolist() == want.tolist()
    profit = gg.conditional_expected_average_profit(arrow.column("frequency"),
                                                    arrow.column("monetary_value"),
                                                    output="numpy")
    assert profit.tolist() == gg.conditional_expected_average_profit(
        repeat["frequency"], repeat["monetary_value"]).tolist()


def test_bg_bb_from_arrow():
    donations = datasets.load_donations()
    bb = crmkit.BetaGeoBetaBinomFitter().fit(donations["frequency"], donations["recency"],
                                             donations["periods"], donations["weights"])
    arrow = pa.Table.from_pandas(donations)
    other = crmkit.BetaGeoBetaBinomFitter().fit(*(arrow.column(c) for c in
                                                  ("frequency", "recency", "periods", "weights")))
    assert other.params_.tolist() == bb.params_.tolist()
    cols = [arrow.column(c) for c in ("frequency", "recency", "periods")]
    assert bb.conditional_probability_alive(5, *cols, output="pyarrow").to_pylist() == \
        bb.conditional_probability_alive(5, donations["frequency"], donations["recency"],
                                         donations["periods"]).tolist()
    assert bb.predict(5, *cols, output="numpy").tolist() == bb.predict(
        5, donations["frequency"], donations["recency"], donations["periods"]).tolist()
    assert bb.expected_number_of_purchases_up_to_time(pa.array([1.0, 6.0]),
                                                      output="numpy").tolist() == \
        bb.expected_number_of_purchases_up_to_time([1.0, 6.0]).tolist()
    assert bb.probability_of_n_purchases_up_to_time(6, pa.array([0.0, 1.0]),
                                                    output="pyarrow").to_pylist() == \
        bb.probability_of_n_purchases_up_to_time([6, 6], [0.0, 1.0]).tolist()


# ---- facts_from_columns -----------------------------------------------------------------------


def fact_columns() -> dict[str, pd.DataFrame]:
    return {
        "customers": pd.DataFrame({"customer_id": [10, 20, 30],
                                   "created_at": pd.to_datetime(["2024-01-01", "2024-07-01",
                                                                 "2024-02-01"])}),
        "purchases": pd.DataFrame({
            "event_id": [1, 2, 3],
            "customer_id": [10, 10, 20],
            "at": pd.to_datetime(["2024-04-01 12:00:00", "2024-04-01 12:00:01",
                                  "2024-06-01 00:00:00"]),
            "amount_minor": [10000, 5000, 700],
        }),
        "refunds": pd.DataFrame({"purchase_id": [2, 2], "amount_minor": [2000, 1000],
                                 "at": pd.to_datetime(["2024-05-01", "2024-07-15"])}),
        "interactions": pd.DataFrame({"customer_id": [10], "at": pd.to_datetime(["2024-06-20"]),
                                      "kind": ["meeting"], "purpose": ["deal"],
                                      "commitment_obtained": [True]}),
        "surveys": pd.DataFrame({"customer_id": [10, 10],
                                 "at": pd.to_datetime(["2024-05-01", "2024-06-01"]),
                                 "nps": [9, np.nan], "csat": [np.nan, 2]}),
    }


FACTS = ["purchase_count", "net_revenue", "average_order_value", "days_since_created",
         "commitments_obtained_365d", "last_nps", "last_csat", "rfm.segment", "consent_any",
         "tags"]


def test_facts_from_arrow_tables_equal_pandas():
    frames = fact_columns()
    want = crmkit.facts_from_columns(frames.pop("customers"), "2024-06-30T12:00:00Z",
                                     facts=FACTS, **frames)
    frames = fact_columns()
    tables = {k: pa.Table.from_pandas(v, preserve_index=False) for k, v in frames.items()}
    tables["purchases"] = tables["purchases"].to_batches()[0]  # a RecordBatch too
    got = crmkit.facts_from_columns(tables.pop("customers"), "2024-06-30T12:00:00Z",
                                    facts=FACTS, **tables)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert want["purchase_count"].tolist() == [2, 1, 0]
    assert want["net_revenue"].tolist() == [130.0, 7.0, 0.0]
    assert want["tags"].tolist() == [[], [], []]


def test_facts_outputs():
    frames = fact_columns()
    customers = frames.pop("customers")
    table = crmkit.facts_from_columns(customers, "2024-06-30T12:00:00Z", facts=FACTS,
                                      output="pyarrow", **frames)
    assert table.schema == pa.schema([
        ("customer_id", pa.int64()), ("purchase_count", pa.int64()),
        ("net_revenue", pa.float64()), ("average_order_value", pa.float64()),
        ("days_since_created", pa.int64()), ("commitments_obtained_365d", pa.int64()),
        ("last_nps", pa.int64()), ("last_csat", pa.int64()), ("rfm.segment", pa.string()),
        ("consent_any", pa.bool_()), ("tags", pa.list_(pa.string()))])
    rows = table.to_pydict()
    assert rows["customer_id"] == [10, 20, 30]
    assert rows["purchase_count"] == [2, 1, 0]
    assert rows["average_order_value"] == [65.0, 7.0, None]
    assert rows["days_since_created"] == [181, None, 150]
    assert rows["last_nps"] == [9, None, None] and rows["last_csat"] == [2, None, None]
    assert rows["tags"] == [[], [], []]
    want = crmkit.facts_from_columns(customers, "2024-06-30T12:00:00Z", facts=FACTS, **frames)
    assert rows["rfm.segment"] == [None if pd.isna(v) else v for v in want["rfm.segment"]]
    assert rows["consent_any"] == [None if v is pd.NA else bool(v) for v in want["consent_any"]]
    arrays = crmkit.facts_from_columns(customers, "2024-06-30T12:00:00Z", facts=FACTS,
                                       output="numpy", **frames)
    assert list(arrays) == ["customer_id", *FACTS]
    assert arrays["customer_id"].tolist() == [10, 20, 30]
    aov = arrays["average_order_value"]
    assert isinstance(aov, np.ma.MaskedArray) and aov.mask.tolist() == [False, False, True]
    assert aov.compressed().tolist() == [65.0, 7.0]
    assert arrays["days_since_created"].tolist() == [181, None, 150]
    assert arrays["tags"].tolist() == [[], [], []]
    pd.testing.assert_frame_equal(crmkit.facts_from_columns(
        customers, "2024-06-30T12:00:00Z", facts=FACTS, output="pandas", **frames), want)


def test_facts_refuse_arrow_nulls_naming_the_column_and_row():
    purchases = pa.table({"customer_id": [10, 10], "at": pa.array([0, None], pa.timestamp("us")),
                          "amount_minor": [1, 2]})
    with pytest.raises(crmkit.ValidationError, match=r"^purchases\.at\[1\]: is missing \(NaT\)$"):
        crmkit.facts_from_columns(pa.table({"customer_id": [10]}), "2024-01-01",
                                  purchases=purchases)
    purchases = purchases.set_column(1, "at", pa.array([0, 1], pa.timestamp("us")))
    purchases = purchases.set_column(2, "amount_minor", pa.array([None, 2], pa.int64()))
    with pytest.raises(crmkit.ValidationError,
                       match=r"^purchases\.amount_minor\[0\]: is missing$"):
        crmkit.facts_from_columns(pa.table({"customer_id": [10]}), "2024-01-01",
                                  purchases=purchases)
    with pytest.raises(crmkit.ValidationError,
                       match=r"^customers\.customer_id: expected integer customer ids, got string$"):
        crmkit.facts_from_columns(pa.table({"customer_id": ["a"]}), "2024-01-01")


# ---- cohort_retention -------------------------------------------------------------------------


def test_cohorts_from_numpy_pandas_and_arrow(sample):
    end = "1998-06-30T23:59:59.999999Z"
    want = crmkit.cohort_retention(sample["customer_id"], sample["date"], as_of=end)
    from_numpy = crmkit.cohort_retention(sample["customer_id"].to_numpy(),
                                         sample["date"].to_numpy(), as_of=end)
    ids = pa.chunked_array([sample["customer_id"].to_numpy()])
    times = pa.array(sample["date"].to_numpy().astype("datetime64[us]"))
    from_arrow = crmkit.cohort_retention(ids, times, as_of=end)
    text_ids = pa.array(("c" + sample["customer_id"].astype(str)).tolist())
    from_text = crmkit.cohort_retention(text_ids, pa.array(sample["date"]), as_of=end)
    for other in (from_numpy, from_arrow, from_text):
        pd.testing.assert_frame_equal(other.counts, want.counts, check_exact=True)
        pd.testing.assert_frame_equal(other.shares, want.shares, check_exact=True)
        pd.testing.assert_series_equal(other.sizes, want.sizes, check_exact=True)
    assert want.sizes.tolist() == [781, 857, 719]
    with pytest.raises(crmkit.ValidationError, match=r"^customer\[1\]: is missing$"):
        crmkit.cohort_retention(pa.array([1, None]), times[:2], as_of=end)
    with pytest.raises(crmkit.ValidationError, match=r"^time\[0\]: is missing \(NaT\)$"):
        crmkit.cohort_retention(pa.array([1, 2]), pa.array([None, 0], pa.timestamp("us")),
                                as_of=end)


def test_cohort_outputs():
    customer = [10, 10, 10, 11, 12, 12]
    time = pd.to_datetime(["2024-01-03", "2024-02-03", "2024-04-01", "2024-01-31",
                           "2024-03-15", "2024-04-10"])
    table = crmkit.cohort_retention(pa.array(customer), pa.array(time), "month",
                                    as_of="2024-04-15", output="pyarrow")
    assert table.schema == pa.schema([("cohort", pa.string()), ("k", pa.int64()),
                                      ("size", pa.int64()), ("customers", pa.int64()),
                                      ("share", pa.float64()), ("incomplete", pa.bool_())])
    rows = table.to_pydict()
    # cohorts January (10 and 11), February (no one: shown, share null) and March (12); cells
    # after April are not observable (null); April's cells may still grow (as_of mid-month)
    assert rows["cohort"] == ["2024-01"] * 4 + ["2024-02"] * 4 + ["2024-03"] * 4
    assert rows["k"] == [0, 1, 2, 3] * 3
    assert rows["size"] == [2] * 4 + [0] * 4 + [1] * 4
    assert rows["customers"] == [2, 1, 0, 1, 0, 0, 0, None, 1, 1, None, None]
    assert rows["share"] == [1.0, 0.5, 0.0, 0.5, None, None, None, None, 1.0, 1.0, None, None]
    assert rows["incomplete"] == [False, False, False, True, False, False, True, False,
                                  False, True, False, False]
    arrays = crmkit.cohort_retention(customer, time, "month", as_of="2024-04-15",
                                     output="numpy")
    assert arrays["customers"].tolist() == [-1 if v is None else v for v in rows["customers"]]
    assert np.isnan(arrays["share"][4]) and arrays["share"][1] == 0.5
    assert arrays["cohort"].tolist() == rows["cohort"]
    m = crmkit.cohort_retention(customer, time, "month", as_of="2024-04-15", output="pandas")
    assert isinstance(m, crmkit.CohortRetention)
    assert m.counts.to_numpy(dtype=float, na_value=-1).ravel().tolist() == \
        [float(v) for v in arrays["customers"]]


# ---- threads: the core calls release the GIL --------------------------------------------------


def longest_stall(call, repeat: int = 1) -> tuple[float, float]:
    """(duration of ``call()`` run ``repeat`` times in this thread, the longest stretch of it
    during which a Python thread counting in a tight loop could not run). A core call that held
    the GIL would stall the counter for its whole duration; one that releases it, for at most an
    OS scheduling slice."""
    import threading
    import time

    stalls: list[tuple[float, float]] = []  # (last tick before a pause, first tick after)
    done = threading.Event()

    def count() -> None:
        last = time.perf_counter()
        while not done.is_set():
            now = time.perf_counter()
            if now - last > 0.001:
                stalls.append((last, now))
            last = now
        stalls.append((last, time.perf_counter()))

    counter = threading.Thread(target=count)
    counter.start()
    time.sleep(0.05)  # the counter is running
    t0 = time.perf_counter()
    for _ in range(repeat):
        call()
    t1 = time.perf_counter()
    done.set()
    counter.join()
    overlap = max((min(b, t1) - max(a, t0) for a, b in stalls if b > t0 and a < t1),
                  default=0.0)
    return t1 - t0, overlap


def big_log(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    ids = rng.integers(0, n // 4, n).astype(np.int64)
    micros = (rng.integers(0, 540, n) * 86_400_000_000).astype(np.int64)
    return ids, micros, rng.integers(100, 10_000, n).astype(np.float64) / 100


def test_the_core_calls_of_the_column_functions_release_the_gil(bgf):
    from crmkit import _core

    import math
    import time

    ids, micros, amounts = big_log(400_000)
    f = np.floor(amounts / 10)
    t = np.full(len(f), 600.0)
    r = np.minimum(f * 5.0, t)
    model = bgf._model
    gg = crmkit.GammaGammaFitter()
    gg.params_ = [6.25, 3.74, 15.44]
    calls = {
        "summary_data_from_transaction_data": lambda: _core.summary_data_from_transaction_data(
            ids, micros, amounts=amounts),
        "calibration_and_holdout_data": lambda: _core.calibration_and_holdout_data(
            ids, micros, "1970-10-01"),
        "cumulative_repeat_transactions": lambda: _core.cumulative_repeat_transactions(
            ids, micros),
        "rfm_scores": lambda: _core.rfm_scores(r[:100_000], f[:100_000], amounts[:100_000]),
        "cohort_retention": lambda: _core.cohort_retention(ids, micros, "month",
                                                           "1971-12-31T00:00:00Z"),
        # numeric facts: turning text and list facts into Python objects holds the GIL
        # (docs/arrow.md, "Threads: the GIL")
        "compute_facts": lambda: _core.compute_facts(
            np.arange(25_000, dtype=np.int64), as_of="1971-12-31T00:00:00Z",
            facts=["purchase_count", "purchases_90d", "net_revenue", "average_order_value",
                   "days_since_first_purchase", "days_since_last_purchase", "rfm.r", "rfm.f",
                   "rfm.m"],
            purchase_customer_id=ids[:100_000] % 25_000, purchase_at=micros[:100_000],
            purchase_amount_minor=(amounts[:100_000] * 100).astype(np.int64)),
        "BetaGeoModel.fit": lambda: _core.BetaGeoModel.fit(f[:20_000], r[:20_000],
                                                           t[:20_000]),
        "conditional_probability_alive": lambda: model.conditional_probability_alive(f, r, t),
        "conditional_expected_number_of_purchases_up_to_time":
            lambda: model.conditional_expected_number_of_purchases_up_to_time(10.0, f, r, t),
        "customer_lifetime_value": lambda: gg._model.customer_lifetime_value(
            model, f, r, t, amounts, months=12, discount_rate=0.01, periods_per_month=4.345),
    }
    for name, call in calls.items():
        # Run for about 0.15 s; a stall of half the run means the GIL was held (three tries,
        # for a machine busy enough to deschedule the counter for that long).
        t0 = time.perf_counter()
        call()
        repeat = max(1, math.ceil(0.15 / (time.perf_counter() - t0)))
        for _ in range(3):
            duration, stall = longest_stall(call, repeat)
            if stall < 0.5 * duration:
                break
        assert stall < 0.5 * duration, (name, duration, stall)


def test_longest_stall_sees_a_call_that_holds_the_gil():
    # The check above can fail: a pure-Python loop (holding the GIL between switch intervals)
    # interleaves, but a call that never lets go, such as this regex on a long text, stalls.
    import re

    text = "a" * 31 + "!"
    duration, stall = longest_stall(lambda: re.match(r"(a|aa)+$", text))
    assert duration > 0.1 and stall > 0.8 * duration, (duration, stall)


def test_the_stub_declares_output():
    import ast
    import pathlib

    stub = pathlib.Path(crmkit.__file__).with_name("__init__.pyi")
    tree = ast.parse(stub.read_text(encoding="utf-8"))  # the whole stub is valid Python
    outputs: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in ("facts_from_columns",
                                                               "cohort_retention"):
            arg = next(a for a in node.args.kwonlyargs if a.arg == "output")
            outputs.setdefault(node.name, []).append(ast.unparse(arg.annotation))
    want = ["Literal['pandas'] | None", "Literal['numpy']", "Literal['pyarrow']"]
    assert outputs == {"facts_from_columns": want, "cohort_retention": want}


def test_sufficient_statistics_from_arrow_columns(summary):
    # crmkit.value reads its columns with the fitters' reader, so Arrow columns work there too
    import crmkit.value as cv

    table = pa.Table.from_pandas(summary.reset_index(), preserve_index=False)
    want = cv.transaction_statistics(summary["frequency"], summary["recency"], summary["T"])
    got = cv.transaction_statistics(table["frequency"], table["recency"], table["T"])
    assert len(got) == len(want) and got.total_weight == want.total_weight == 2357
    for name in ("frequency", "recency", "T", "weight"):
        assert (getattr(got, name) == getattr(want, name)).all()
    assert cv.fit(crmkit.BetaGeoFitter, got).params_.tolist() == \
        crmkit.BetaGeoFitter().fit(table["frequency"], table["recency"],
                                   table["T"]).params_.tolist()
