# Runs a loyalty programme over the CDNOW sample: imports the purchases, defines a points
# programme with tiers, earns the points, and prints the monthly cohort retention matrix, the
# tier counts and the follow-up due list of the last month of the data.
"""Usage: loyalty_cdnow.py [STORE_PATH] [--data PATH]

STORE_PATH  the store file to open or create (default: cdnow-loyalty.crmkit)
--data      the CDNOW sample file (default: <repo>/data/CDNOW_sample.txt)

The import and the earning are idempotent (idempotency keys; earn_points processes each ledger
event once), so a second run prints the same report and writes nothing. "As of" is the end of
the data, 1998-06-30 (the last microsecond of June 1998). The due list uses the default
follow-up policy (every customer at least once every 365 days, seed 001); the CDNOW sample holds
no contact details and no consent, so every due customer is listed as having no consented
channel: crmkit never offers a channel without consent. The C++ twin is
examples/cpp/loyalty_cdnow.cpp; both print the same report.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import crmkit
from import_cdnow import DEFAULT_DATA, read_cdnow_sample  # the twin importer in this folder

# One point per whole dollar spent; lots expire at the end of the year after they unlock;
# tiers on the points earned in the last 365 days, re-checked on every change.
PROGRAM = {
    "name": "cdnow_rewards",
    "currency": "USD",
    "pending_days": 0,
    "expiry": {"mode": "end_of_year"},
    "spend_order": "first_to_expire",
    "rules": [{"name": "spend", "kind": "spend", "points_per_unit": "1"}],
    "tiers": {"tiers": [{"name": "member", "threshold": 0},
                        {"name": "silver", "threshold": 100},
                        {"name": "gold", "threshold": 300}],
              "basis": "points_earned_window", "window_days": 365,
              "downgrade": "automatic"},
}
AS_OF = "1998-06-30T23:59:59.999999Z"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A loyalty programme over CDNOW.")
    parser.add_argument("store", nargs="?", default="cdnow-loyalty.crmkit", help="store file")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="CDNOW_sample.txt")
    args = parser.parse_args(argv)

    with crmkit.Store(args.store, currency="USD") as store:
        store.import_purchases(read_cdnow_sample(args.data), customer="customer", at="at",
                               amount="amount", item_count="item_count", idempotency_key="key",
                               source="cdnow-sample")  # a repeated run adds nothing
        store.define_points_program(PROGRAM)
        earned = store.earn_points("cdnow_rewards")
        print(f"loyalty on CDNOW ({store.count_customers()} customers), as of 1998-06-30")
        print(f"points: {earned['entries_added']} ledger entries written this run")

        balances = store.points_balances("cdnow_rewards", AS_OF)
        print(f"points earned {int(balances['earned'].sum())}, expired "
              f"{int(balances['expired'].sum())}, available {int(balances['available'].sum())}")
        tiers = store.tier_counts("cdnow_rewards", AS_OF)
        print(f"tiers of the {int(tiers['customers'].sum())} customers with points: " + ", ".join(f"{row.tier} {int(row.customers)}"
                                     for row in tiers.itertuples()))

        cohorts = store.cohort_retention("month", AS_OF)
        print("cohort retention (share of each monthly cohort buying in month k):")
        months = list(cohorts.shares.columns[:7])
        print("cohort     size" + "".join(f" {f'k={k}':>6}" for k in months))
        for label, row in cohorts.shares.iterrows():
            size = int(cohorts.sizes[label])
            print(f"{label:<8} {size:>6}" + "".join(f" {row[k]:>6.1%}" for k in months))
        if int(cohorts.sizes.sum()) != store.count_customers():
            print("the cohorts do not hold every customer", file=sys.stderr)
            return 1

        due = store.due_list(AS_OF)
        print(f"due list for 1998-06: {len(due.due)} to contact through a consented channel, "
              f"{len(due.unreachable)} due with no consented channel, "
              f"{len(due.at_limit)} at their contact limit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
