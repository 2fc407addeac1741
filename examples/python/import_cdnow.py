# Imports the CDNOW sample (data/CDNOW_sample.txt) into a crmkit store as purchases in one batch
# and prints the store's totals; a second run on the same store adds nothing (idempotency keys).
"""Usage: import_cdnow.py [STORE_PATH] [--data PATH]

STORE_PATH  the store file to open or create (default: cdnow.crmkit in the current directory)
--data      the CDNOW sample file (default: <repo>/data/CDNOW_sample.txt)

The file is whitespace separated with CRLF line ends and no header:
    master_id sample_id YYYYMMDD number_of_cds dollar_value
Each line becomes one purchase of customer "cdnow-<sample_id>" at midnight UTC of the date, for
the dollar_value text exactly as written (it never passes through a float), with
item_count = number_of_cds and idempotency key "cdnow-sample:<line number>".
The C++ twin is examples/cpp/import_cdnow.cpp.
"""

from __future__ import annotations

import argparse
import os
import sys
from decimal import Decimal
from pathlib import Path

import pandas as pd

import crmkit

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "data" / "CDNOW_sample.txt"


def read_cdnow_sample(path: Path) -> pd.DataFrame:
    """The sample as a frame with one row per purchase; amounts stay text."""
    rows = []
    with open(path, encoding="ascii", newline="") as f:
        for line_number, line in enumerate(f, start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 5:
                raise ValueError(f"{path}:{line_number}: expected 5 fields: "
                                 "master_id sample_id date cds dollars")
            _master_id, sample_id, date, cds, dollars = fields
            if not (sample_id.isdigit() and cds.isdigit()):
                raise ValueError(f"{path}:{line_number}: bad sample_id or number_of_cds")
            rows.append((
                f"cdnow-{int(sample_id)}",  # sample ids are zero-padded ("00001")
                date,
                dollars,  # the decimal text itself: crmkit parses it exactly
                int(cds),
                f"cdnow-sample:{line_number}",
            ))
    frame = pd.DataFrame(rows, columns=["customer", "date", "amount", "item_count", "key"])
    frame["at"] = pd.to_datetime(frame["date"], format="%Y%m%d", utc=True)  # midnight UTC
    return frame


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Import the CDNOW sample into a crmkit store.")
    parser.add_argument("store", nargs="?", default="cdnow.crmkit", help="store file")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="CDNOW_sample.txt")
    args = parser.parse_args(argv)

    frame = read_cdnow_sample(args.data)
    with crmkit.Store(args.store, currency="USD") as store:
        report = store.import_purchases(
            frame,
            customer="customer",
            at="at",
            amount="amount",
            currency="USD",
            item_count="item_count",
            idempotency_key="key",
            source="cdnow-sample",
        )
        summary = store.summary()

    revenue = Decimal(summary.revenue.amount_string())
    print(f"store:      {os.path.abspath(args.store)}")
    print(f"customers:  {summary.customers:,}")
    print(f"purchases:  {summary.purchases:,}")
    print(f"revenue:    ${revenue:,}")
    print(f"this run:   added {report.purchases_added:,} purchases, "
          f"{report.customers_created:,} customers "
          f"({report.duplicates_skipped:,} duplicates skipped)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
