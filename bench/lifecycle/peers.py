"""The peers of the lifecycle benchmark: the same facts, rules and as-of stages written as a user of
DuckDB, Polars or pandas would write them. Each function takes the benchmark's numpy columns
(data.py) and returns numpy arrays, so every side can be checked against crmkit's result."""

from __future__ import annotations

import numpy as np

DAY_US = 86_400_000_000

# The facts every side computes (docs/facts.md has their definitions).
FACTS = ["purchase_count", "net_revenue", "average_order_value", "days_since_first_purchase",
         "days_since_last_purchase", "purchases_90d", "purchases_365d", "net_revenue_365d"]


def _facts_sql(as_of: int) -> str:
    d = DAY_US
    return f"""
    WITH r AS (
      SELECT purchase_id, sum(amount_minor) AS refunded
      FROM refunds WHERE at_us <= {as_of} GROUP BY purchase_id),
    p AS (
      SELECT p.customer_id, p.at_us, p.amount_minor - coalesce(r.refunded, 0) AS net,
             (p.amount_minor > 0 AND coalesce(r.refunded, 0) = p.amount_minor) AS gone
      FROM purchases p LEFT JOIN r ON r.purchase_id = p.event_id
      WHERE p.at_us <= {as_of}),
    g AS (
      SELECT customer_id,
             count(*) FILTER (WHERE NOT gone) AS purchase_count,
             sum(net) AS net_minor,
             min(at_us) FILTER (WHERE NOT gone) AS first_us,
             max(at_us) FILTER (WHERE NOT gone) AS last_us,
             count(*) FILTER (WHERE NOT gone AND at_us > {as_of - 90 * d}) AS purchases_90d,
             count(*) FILTER (WHERE NOT gone AND at_us > {as_of - 365 * d}) AS purchases_365d,
             sum(net) FILTER (WHERE at_us > {as_of - 365 * d}) AS net_365_minor
      FROM p GROUP BY customer_id)
    SELECT c.customer_id,
           coalesce(g.purchase_count, 0) AS purchase_count,
           coalesce(g.net_minor, 0) / 100.0 AS net_revenue,
           CASE WHEN g.purchase_count > 0 THEN g.net_minor / 100.0 / g.purchase_count END
             AS average_order_value,
           ({as_of} - g.first_us) // {d} AS days_since_first_purchase,
           ({as_of} - g.last_us) // {d} AS days_since_last_purchase,
           coalesce(g.purchases_90d, 0) AS purchases_90d,
           coalesce(g.purchases_365d, 0) AS purchases_365d,
           coalesce(g.net_365_minor, 0) / 100.0 AS net_revenue_365d
    FROM customers c LEFT JOIN g USING (customer_id)
    WHERE c.created_us <= {as_of} OR g.customer_id IS NOT NULL
    ORDER BY c.customer_id"""


def facts_duckdb(con, as_of: int) -> dict[str, np.ndarray]:
    """DuckDB SQL over tables customers, purchases, refunds registered on `con`."""
    return con.execute(_facts_sql(as_of)).fetchnumpy()


def facts_polars(customers, purchases, refunds, as_of: int):
    """Polars (lazy) over DataFrames customers, purchases, refunds; returns a polars DataFrame."""
    import polars as pl

    d = DAY_US
    r = (refunds.lazy().filter(pl.col("at_us") <= as_of)
         .group_by("purchase_id").agg(pl.col("amount_minor").sum().alias("refunded")))
    p = (purchases.lazy().filter(pl.col("at_us") <= as_of)
         .join(r, left_on="event_id", right_on="purchase_id", how="left")
         .with_columns(pl.col("refunded").fill_null(0))
         .with_columns((pl.col("amount_minor") - pl.col("refunded")).alias("net"),
                       ((pl.col("amount_minor") > 0)
                        & (pl.col("refunded") == pl.col("amount_minor"))).alias("gone")))
    kept = ~pl.col("gone")
    g = p.group_by("customer_id").agg(
        kept.sum().alias("purchase_count"),
        pl.col("net").sum().alias("net_minor"),
        pl.col("at_us").filter(kept).min().alias("first_us"),
        pl.col("at_us").filter(kept).max().alias("last_us"),
        (kept & (pl.col("at_us") > as_of - 90 * d)).sum().alias("purchases_90d"),
        (kept & (pl.col("at_us") > as_of - 365 * d)).sum().alias("purchases_365d"),
        pl.col("net").filter(pl.col("at_us") > as_of - 365 * d).sum().alias("net_365_minor"),
    )
    out = (customers.lazy().join(g, on="customer_id", how="left")
           .filter((pl.col("created_us") <= as_of) | pl.col("net_minor").is_not_null())
           .select(
               "customer_id",
               pl.col("purchase_count").fill_null(0).cast(pl.Int64),
               (pl.col("net_minor").fill_null(0) / 100.0).alias("net_revenue"),
               pl.when(pl.col("purchase_count") > 0)
                 .then(pl.col("net_minor") / 100.0 / pl.col("purchase_count"))
                 .alias("average_order_value"),
               ((as_of - pl.col("first_us")) // d).alias("days_since_first_purchase"),
               ((as_of - pl.col("last_us")) // d).alias("days_since_last_purchase"),
               pl.col("purchases_90d").fill_null(0).cast(pl.Int64),
               pl.col("purchases_365d").fill_null(0).cast(pl.Int64),
               (pl.col("net_365_minor").fill_null(0) / 100.0).alias("net_revenue_365d"))
           .sort("customer_id"))
    return out.collect()


def stage_as_of_duckdb(con, as_of: int) -> dict[str, np.ndarray]:
    """The stage of every customer as of a time from table history(customer_id, from_stage,
    to_stage, at_us) with DuckDB's ASOF JOIN against a probe table of (customer_id, as_of)."""
    return con.execute(f"""
        SELECT p.customer_id, h.to_stage
        FROM (SELECT customer_id, {as_of}::BIGINT AS t FROM customers) p
        ASOF LEFT JOIN history h ON p.customer_id = h.customer_id AND h.at_us <= p.t
        ORDER BY p.customer_id""").fetchnumpy()
