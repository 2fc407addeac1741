# Imports the CDNOW sample into a store, evaluates the default customer_lifecycle machine at the
# end of every month of 1997 and 1998, and prints the stage distribution per month.
"""Usage: lifecycle_cdnow.py [STORE_PATH] [--data PATH]

STORE_PATH  the store file to open or create (default: cdnow-lifecycle.crmkit)
--data      the CDNOW sample file (default: <repo>/data/CDNOW_sample.txt)

The import is idempotent and a month already evaluated (the machine's history reaches its end)
is not evaluated again, so a second run prints the same table. The machine runs with its
documented default thresholds and without a fitted model (its P(alive) rule never fires).
"acquired" is the number of customers with a first purchase by the month's end; the stage counts
of every month add up to it. The C++ twin is examples/cpp/lifecycle_cdnow.cpp; both print the
same table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import crmkit
from import_cdnow import DEFAULT_DATA, read_cdnow_sample  # the twin importer in this folder


def month_ends() -> list[pd.Timestamp]:
    """The last microsecond of each month of 1997-1998 (UTC)."""
    starts = pd.date_range("1997-02-01", "1999-01-01", freq="MS", tz="UTC")
    return [s - pd.Timedelta(microseconds=1) for s in starts]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="customer_lifecycle month by month on CDNOW.")
    parser.add_argument("store", nargs="?", default="cdnow-lifecycle.crmkit", help="store file")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="CDNOW_sample.txt")
    args = parser.parse_args(argv)

    with crmkit.Store(args.store, currency="USD") as store:
        store.import_purchases(read_cdnow_sample(args.data), customer="customer", at="at",
                               amount="amount", item_count="item_count", idempotency_key="key",
                               source="cdnow-sample")  # a repeated run adds nothing
        machine = crmkit.default_machine("customer_lifecycle", store.fact_schema())
        done = store.history(machine)
        until = done["at"].max() if len(done) else None

        ends = month_ends()
        moves = 0
        for end in ends:
            if until is not None and end <= until:
                continue  # evaluated by an earlier run
            moves += len(store.evaluate(machine, end))

        dist = store.stage_history(machine).distribution(ends)
        purchases = store.purchases_frame()
        first = purchases.groupby("customer_id")["at"].min()
        print(f"customer_lifecycle on CDNOW ({store.count_customers()} customers, "
              f"{moves} transitions written this run)")
        stages = machine.state_names[1:]
        print("month  " + "".join(f" {s:>12}" for s in stages) + f" {'acquired':>9}")
        for end, (_, row) in zip(ends, dist.iterrows()):
            acquired = int((first <= end).sum())
            counts = [int(row[s]) for s in stages]
            print(f"{end:%Y-%m}" + "".join(f" {c:>12}" for c in counts) + f" {acquired:>9}")
            if sum(counts) != acquired or int(row[machine.state_names[0]]) != 0:
                print(f"{end:%Y-%m}: the stages hold {sum(counts)} customers, but {acquired} "
                      "were acquired", file=sys.stderr)
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
