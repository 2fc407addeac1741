# Imports the CDNOW sample into a store, then computes straight from the store: the customer
# summary, the BG/NBD and Gamma-Gamma fits, the 12-month CLV and lifetime value in three parts.
"""Usage: value_from_store.py [STORE_PATH] [--data PATH]

STORE_PATH  the store file to open or create (default: cdnow-value.crmkit)
--data      the CDNOW sample file (default: <repo>/data/CDNOW_sample.txt)

The time unit is the week: days divided by 7 (freq "D", freq_multiplier 7), as the published
CDNOW numbers use, with the calibration period ending 1997-09-30 (Fader, Hardie and Lee 2005).
The CLV is lifetimes' customer_lifetime_value over 12 months of 4.345 weeks with a 1% monthly
discount rate; lifetime value uses a horizon of the same 12 months (52.14 weeks), undiscounted,
as of 1997-09-30, with a 10% uplift on current value as potential value (CDNOW has no
referrals). Numbers print with %.17g and money as exact decimals, so that a test can compare them
with the C++ twin, examples/cpp/value_from_store.cpp.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import crmkit
from crmkit import utils
from import_cdnow import DEFAULT_DATA, read_cdnow_sample  # the twin importer in this folder

END = "1997-09-30"
WEEKS = {"freq": "D", "freq_multiplier": 7, "observation_period_end": END}


def g17(value: float) -> str:
    """A float with 17 significant digits (printf's %.17g): enough to tell any two apart."""
    return "%.17g" % value


def total(values) -> float:
    """The sum in row order, as the C++ twin adds."""
    out = 0.0
    for v in values:
        out += float(v)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="CDNOW value metrics straight from a store.")
    parser.add_argument("store", nargs="?", default="cdnow-value.crmkit", help="store file")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="CDNOW_sample.txt")
    args = parser.parse_args(argv)

    with crmkit.Store(args.store, currency="USD") as store:
        store.import_purchases(read_cdnow_sample(args.data), customer="customer", at="at",
                               amount="amount", item_count="item_count", idempotency_key="key",
                               source="cdnow-sample")  # a repeated run adds nothing

        # The summary as of the end of the calibration period, in weeks, keyed by external id.
        s = utils.summary_from_store(store, index="external_id", **WEEKS)

        # The two fits: BG/NBD on every customer, Gamma-Gamma on those with repeat purchases.
        bgf = crmkit.BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
        repeat = s[(s["frequency"] >= 1) & (s["monetary_value"] > 0)]
        ggf = crmkit.GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])

        # lifetimes' 12-month CLV: 12 months of 4.345 weeks, 1% discount a month.
        clv = ggf.customer_lifetime_value(bgf, s["frequency"], s["recency"], s["T"],
                                          s["monetary_value"], time=12, discount_rate=0.01,
                                          freq="W")

        # Lifetime value in three parts over the same 12 months, as of 1997-09-30.
        ltv = crmkit.lifetime_value_parts(store, bgf, ggf, 12 * 4.345, uplift="0.1", **WEEKS)
        purchases = store.summary().purchases

    bg, gg = bgf.params_, ggf.params_
    first = s.iloc[0]
    by_model = int((ltv["method"] == "model").sum())
    print(f"store:          {os.path.abspath(args.store)}")
    print(f"purchases:      {purchases}")
    print(f"summary:        {len(s)} customers as of {END}, in weeks")
    print(f"first row:      {s.index[0]} customer_id={first['customer_id']:.0f} "
          f"frequency={g17(first['frequency'])} recency={g17(first['recency'])} "
          f"T={g17(first['T'])} monetary_value={g17(first['monetary_value'])}")
    print(f"summary sums:   frequency={g17(total(s['frequency']))} "
          f"recency={g17(total(s['recency']))} T={g17(total(s['T']))} "
          f"monetary_value={g17(total(s['monetary_value']))}")
    print(f"bg/nbd:         r={g17(bg['r'])} alpha={g17(bg['alpha'])} a={g17(bg['a'])} "
          f"b={g17(bg['b'])} log_likelihood={g17(bgf.log_likelihood_)}")
    print(f"gamma-gamma:    p={g17(gg['p'])} q={g17(gg['q'])} v={g17(gg['v'])} "
          f"log_likelihood={g17(ggf.log_likelihood_)} customers={len(repeat)}")
    print(f"clv 12 months:  total={g17(total(clv))} first={g17(clv.iloc[0])}")
    print(f"ltv parts:      historical={sum(ltv['historical'])} current={sum(ltv['current'])} "
          f"potential={sum(ltv['potential'])} total={sum(ltv['total'])} model={by_model} "
          f"run_rate={len(ltv) - by_model}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
