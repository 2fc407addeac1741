"""Reference data sets, with lifetimes' loader names (lifetimes.datasets).

The files are the project's data/ directory (see its README.md for provenance and figures),
installed into this package by CMake, so a wheel carries them. From a source checkout that was not
installed, the loaders read data/ directly.

  load_cdnow_summary()                           cdnow_customers_summary.csv (ID, frequency, recency, T)
  load_cdnow_summary_data_with_monetary_value()  the same with monetary_value, indexed by customer_id
  load_transaction_data()                        example_transactions.csv (date, id)
  load_donations()                               donations.csv (BG/BB: frequency, recency, periods, weights)
  load_cdnow_sample()                            CDNOW_sample.txt, the raw transactions of 2,357 customers
  load_cdnow_master()                            CDNOW_master.txt, the raw transactions of 23,570 customers
  load_retention_cohorts()                       retention_cohorts.csv (sBG paper: year, regular, high_end)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "data_path",
    "load_dataset",
    "load_cdnow_summary",
    "load_cdnow_summary_data_with_monetary_value",
    "load_transaction_data",
    "load_donations",
    "load_cdnow_sample",
    "load_cdnow_master",
    "load_retention_cohorts",
]

_HERE = Path(__file__).resolve().parent
_SOURCE_DATA = _HERE.parents[2] / "data"


def data_path(filename: str) -> Path:
    """The path of an installed data file (or of data/<filename> in a source checkout).
    Raises FileNotFoundError naming the file if neither exists."""
    for directory in (_HERE, _SOURCE_DATA):
        path = directory / filename
        if path.is_file():
            return path
    raise FileNotFoundError(f"crmkit.datasets: no data file {filename!r} in {_HERE}")


def load_dataset(filename: str, **kwargs: Any) -> pd.DataFrame:
    """pandas.read_csv of a data file; keyword arguments go to read_csv."""
    return pd.read_csv(data_path(filename), **kwargs)


def load_cdnow_summary(**kwargs: Any) -> pd.DataFrame:
    """The CDNOW sample's calibration summary (weeks 1-39): columns ID, frequency, recency, T
    (2,357 rows). Pass index_col=[0] to index by ID, as the lifetimes docs do."""
    return load_dataset("cdnow_customers_summary.csv", **kwargs)


def load_cdnow_summary_data_with_monetary_value(**kwargs: Any) -> pd.DataFrame:
    """The same summary with the mean repeat spend: columns frequency, recency, T, monetary_value,
    indexed by customer_id."""
    df = load_dataset("cdnow_customers_summary_with_transactions.csv", **kwargs)
    df.columns = ["customer_id", "frequency", "recency", "T", "monetary_value"]
    return df.set_index("customer_id")


def load_transaction_data(**kwargs: Any) -> pd.DataFrame:
    """lifetimes' synthetic transaction log: columns date (str, "YYYY-MM-DD HH:MM:SS") and id
    (15,273 rows, 5,000 customers)."""
    return load_dataset("example_transactions.csv", **kwargs)


def load_donations(**kwargs: Any) -> pd.DataFrame:
    """The BG/BB donations data: columns frequency, recency, periods, weights (22 rows)."""
    return load_dataset("donations.csv", **kwargs)


def _read_cdnow(filename: str, names: list[str]) -> pd.DataFrame:
    df = pd.read_csv(
        data_path(filename),
        sep=r"\s+",
        header=None,
        names=names,
        dtype={"date": str, "dollar_value": str},
    )
    df["date"] = pd.to_datetime(df["date"], format="%Y%m%d")
    return df


def load_cdnow_sample() -> pd.DataFrame:
    """The raw CDNOW 1/10 sample, one row per transaction (6,919 rows, 2,357 customers):
    master_id (int), customer_id (the sample id 1..2357, int), date (datetime64), number_of_cds
    (int) and dollar_value (str, exact: pass it to crmkit.Money or Store.import_purchases)."""
    return _read_cdnow(
        "CDNOW_sample.txt", ["master_id", "customer_id", "date", "number_of_cds", "dollar_value"]
    )


def load_cdnow_master() -> pd.DataFrame:
    """The raw CDNOW cohort, one row per transaction (69,659 rows, 23,570 customers):
    customer_id (int), date (datetime64), number_of_cds (int) and dollar_value (str)."""
    df = pd.read_csv(
        data_path("CDNOW_master.txt"),
        sep=r"\s+",
        header=None,
        skiprows=1,
        names=["customer_id", "date", "number_of_cds", "dollar_value"],
        dtype={"date": str, "dollar_value": str},
    )
    df["date"] = pd.to_datetime(df["date"], format="%Y%m%d")
    return df


def load_retention_cohorts(**kwargs: Any) -> pd.DataFrame:
    """Fader and Hardie's (2007) two contractual cohorts: columns year (0..12), regular and
    high_end, the customers (of 1,000) still active at the start of each year (13 rows)."""
    return load_dataset("retention_cohorts.csv", **kwargs)
