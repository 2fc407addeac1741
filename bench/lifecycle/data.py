"""Synthetic customers, purchases and lifecycle history for the lifecycle benchmark (numpy only).

Deterministic for a seed. Times are UTC microseconds; amounts are integer cents.

* N customers, ids 1..N, created uniformly over 2023 (``created_us``).
* Purchases: each customer makes 0..12 purchases (0 for 10%: prospects; otherwise 1 + a
  geometric count with mean 3, capped at 12), at times uniform between the customer's creation
  and the end of 2024. Amounts 1.00..500.99 USD. 5% of purchases are refunded: half of those in
  full, half by a random part, the refund dated 1..30 days after the purchase and never after the
  end of 2024. Rows are in time order (as a ledger is).
* History of one machine: per customer 1..6 transitions at increasing times over 2023-2024,
  each to one of six stages (codes 0..5, names STAGES), the first from "prospect" (code 0).
"""

from __future__ import annotations

import numpy as np

DAY_US = 86_400_000_000
START_US = 1_672_531_200_000_000  # 2023-01-01T00:00:00Z
END_US = 1_735_689_600_000_000    # 2025-01-01T00:00:00Z
STAGES = ["prospect", "introduction", "growth", "maturity", "dormancy", "churned"]


def customers(n: int, seed: int = 7) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    created = START_US + rng.integers(0, 365 * DAY_US, size=n, dtype=np.int64)
    return {"customer_id": np.arange(1, n + 1, dtype=np.int64), "created_us": created}


def purchases(cust: dict[str, np.ndarray], seed: int = 7) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed + 1)
    n = len(cust["customer_id"])
    counts = np.minimum(1 + rng.geometric(1 / 3, size=n) - 1, 12).astype(np.int64)
    counts[rng.random(n) < 0.10] = 0
    owner = np.repeat(np.arange(n), counts)
    m = len(owner)
    created = cust["created_us"][owner]
    at = created + (rng.random(m) * (END_US - 1 - created)).astype(np.int64)
    amount = rng.integers(100, 50_100, size=m, dtype=np.int64)
    refunded = np.zeros(m, dtype=np.int64)
    refund_at = np.zeros(m, dtype=np.int64)
    hit = rng.random(m) < 0.05
    full = hit & (rng.random(m) < 0.5)
    part = hit & ~full
    refunded[full] = amount[full]
    refunded[part] = (amount[part] * rng.random(part.sum())).astype(np.int64).clip(1)
    refund_at[hit] = np.minimum(at[hit] + rng.integers(1, 31, size=hit.sum()) * DAY_US, END_US - 1)
    order = np.argsort(at, kind="stable")
    return {
        "customer_id": cust["customer_id"][owner][order],
        "at_us": at[order],
        "amount_minor": amount[order],
        "refunded_minor": refunded[order],
        "refund_at_us": refund_at[order],
    }


def history(cust: dict[str, np.ndarray], seed: int = 7) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed + 2)
    n = len(cust["customer_id"])
    counts = rng.integers(1, 7, size=n)
    owner = np.repeat(np.arange(n), counts)
    m = len(owner)
    at = START_US + rng.integers(0, END_US - START_US, size=m, dtype=np.int64)
    # sort by (customer, time) to chain from -> to, then shuffle rows into time order
    order = np.lexsort((at, owner))
    owner, at = owner[order], at[order]
    to = rng.integers(1, len(STAGES), size=m).astype(np.int32)
    frm = np.empty(m, dtype=np.int32)
    frm[0] = 0
    frm[1:] = to[:-1]
    first = np.ones(m, dtype=bool)
    first[1:] = owner[1:] != owner[:-1]
    frm[first] = 0
    bytime = np.argsort(at, kind="stable")
    return {
        "customer_id": cust["customer_id"][owner][bytime],
        "from_stage": frm[bytime],
        "to_stage": to[bytime],
        "at_us": at[bytime],
    }
