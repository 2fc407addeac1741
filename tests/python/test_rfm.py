"""crmkit.rfm_scores and default_rfm_segments (crmkit/value/rfm.hpp) from Python."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crmkit


def test_default_grid_layout_is_r_major_starting_at_r1():
    grid = crmkit.default_rfm_segments()
    assert len(grid) == 25
    assert grid[0] == "Lost"                 # R = 1, FM = 1
    assert grid[4] == "Can't Lose Them"      # R = 1, FM = 5
    assert grid[20] == "Recent Customers"    # R = 5, FM = 1
    assert grid[24] == "Champions"           # R = 5, FM = 5
    assert grid[2 * 5 + 1] == "Need Attention"  # R = 3, FM = 2


def test_scores_and_segments_of_a_small_frame():
    frame = pd.DataFrame(
        {
            "days_since": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
            "orders": [10, 9, 8, 7, 6, 5, 4, 3, 2, 1],
            "spend": [5, 5, 5, 5, 5, 1, 1, 1, 1, 1],
        },
        index=pd.Index(list("abcdefghij"), name="customer"),
    )
    out = crmkit.rfm_scores(frame["days_since"], frame["orders"], frame["spend"])
    assert list(out.columns) == ["r_score", "f_score", "m_score", "fm_score", "segment"]
    assert out.index.equals(frame.index)
    # n = 10 ranks cut into quintiles score 1,1,2,2,3,3,4,4,5,5; recency is reversed.
    assert out["r_score"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert out["f_score"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    # Tied values share the score of their first rank: the five 1s that of rank 1 (1), the five
    # 5s that of rank 6 (ceil(5 * 5 / 9) = 3).
    assert out["m_score"].tolist() == [3, 3, 3, 3, 3, 1, 1, 1, 1, 1]
    # FM = (F + M) / 2 with halves rounded up.
    assert out["fm_score"].tolist() == [4, 4, 4, 4, 3, 2, 2, 2, 1, 1]
    assert out["segment"].tolist() == [
        "Champions", "Champions", "Loyal Customers", "Loyal Customers", "Potential Loyalist",
        "Need Attention", "Need Attention", "Need Attention", "Lost", "Lost",
    ]
    # ties="row_order" keeps the rule of crmkit 0.1.0.
    out = crmkit.rfm_scores(frame["days_since"], frame["orders"], frame["spend"],
                            ties="row_order")
    assert out["r_score"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert out["f_score"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    # Ties are ranked by position: the five 1s take ranks 1..5, the five 5s ranks 6..10.
    assert out["m_score"].tolist() == [3, 4, 4, 5, 5, 1, 1, 2, 2, 3]
    # FM = (F + M) / 2 with halves rounded up.
    assert out["fm_score"].tolist() == [4, 5, 4, 5, 4, 2, 2, 2, 2, 2]
    assert out["segment"].tolist() == [
        "Champions", "Champions", "Loyal Customers", "Champions", "Loyal Customers",
        "Need Attention", "Need Attention", "Need Attention", "Hibernating", "Hibernating",
    ]


def test_custom_grid_as_rows_and_arrays_without_index():
    rows = [[f"R{r}FM{fm}" for fm in range(1, 6)] for r in range(1, 6)]
    out = crmkit.rfm_scores(np.array([3.0, 1.0]), [1, 2], [10.0, 20.0], segments=rows)
    assert out.index.tolist() == [0, 1]
    assert out["r_score"].tolist() == [1, 5]
    assert out["fm_score"].tolist() == [1, 5]
    assert out["segment"].tolist() == ["R1FM1", "R5FM5"]
    flat = [name for row in rows for name in row]
    again = crmkit.rfm_scores([3.0, 1.0], [1, 2], [10.0, 20.0], segments=flat)
    assert again["segment"].tolist() == ["R1FM1", "R5FM5"]
    # One customer scores 3 everywhere (qcut cannot split a single value).
    single = crmkit.rfm_scores([4.0], [2.0], [9.0])
    assert single.iloc[0].tolist() == [3, 3, 3, 3, "Potential Loyalist"]


def test_bad_input_names_the_argument():
    with pytest.raises(crmkit.ValidationError, match=r"^frequency\[1\]: is NaN"):
        crmkit.rfm_scores([1.0, 2.0], [1.0, float("nan")], [1.0, 2.0])
    with pytest.raises(crmkit.ValidationError, match="monetary"):
        crmkit.rfm_scores([1.0, 2.0], [1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(crmkit.ValidationError, match="^segments:"):
        crmkit.rfm_scores([1.0], [1.0], [1.0], segments=["only one"])
    with pytest.raises(crmkit.ValidationError, match=r"^ties: expected 'shared' or 'row_order'"):
        crmkit.rfm_scores([1.0], [1.0], [1.0], ties="first")


def cdnow_master_rfm() -> pd.DataFrame:
    """The CDNOW master summary (23,570 customers, weeks counted in days) as RFM inputs."""
    summary = crmkit.utils.summary_data_from_transaction_data(
        crmkit.datasets.load_cdnow_master(), "customer_id", "date", "dollar_value",
        freq="D", freq_multiplier=7,
    )
    return pd.DataFrame({
        "recency": summary["T"] - summary["recency"],
        "frequency": summary["frequency"],
        "monetary": summary["monetary_value"],
    })


def scores_of(frame: pd.DataFrame, **kwargs) -> pd.DataFrame:
    return crmkit.rfm_scores(frame["recency"], frame["frequency"], frame["monetary"], **kwargs)


def test_row_order_changes_no_score_on_the_cdnow_master_summary():
    frame = cdnow_master_rfm()
    assert len(frame) == 23570
    scores = scores_of(frame)
    for reordered in (frame.iloc[::-1], frame.sample(frac=1.0, random_state=7)):
        again = scores_of(reordered).loc[frame.index]
        pd.testing.assert_frame_equal(again, scores)
    # Every one-time buyer has F = 1.
    assert set(scores.loc[frame["frequency"] == 0, "f_score"]) == {1}
    # By row order (crmkit 0.1.0), reversing moved 11,619 customers to another segment and gave
    # one-time buyers F scores 1 to 3.
    old = scores_of(frame, ties="row_order")
    old_reversed = scores_of(frame.iloc[::-1], ties="row_order").loc[frame.index]
    assert int((old["segment"] != old_reversed["segment"]).sum()) == 11619
    assert set(old.loc[frame["frequency"] == 0, "f_score"]) == {1, 2, 3}
