#!/usr/bin/env python3
"""High-precision reference values for the BG/NBD and MBG/NBD predictions (issue 11, item 4).

    python tests/data/mpmath/record_references.py            # writes references.csv beside it
    python record_references.py 0 2 & python record_references.py 1 2; wait   # or in 2 shards,
    python record_references.py --merge 2                                     # then merged

Needs only mpmath (any 1.x; the lifetimes venv of bench/value has mpmath 1.3.0):

    bench/value/.venv-lifetimes/bin/python tests/data/mpmath/record_references.py

Every value is computed from the closed forms (Fader, Hardie & Lee 2005; Batislam et al. 2007 for
MBG/NBD) with mpmath at rising precision, 30, 60, 120 then 240 digits, and accepted once two
consecutive precisions agree to 20 significant digits. A point whose values do not settle within
SECONDS_PER_POINT (20 s) is left out and named on stderr (mpmath's 2F1 and quadrature can take
minutes at the extremes): 16 of the 283 points were left out when references.csv was made.
Inputs are doubles (written with repr, so the C++ and Python tests read the exact same numbers)
drawn log-uniform over r in [1e-3, 1e3], alpha, a, b in [1e-3, 1e4], x in {0} or [1, 1e4] (integer),
T and t in [1e-3, 1e5], recency uniform in [0, T] (0 when x = 0), plus an edge grid of the extreme
and the typical values, plus the cases of the issue (r = 30, 50, 100 with alpha = 5, a = 0.8,
b = 2.4, x = 0, T = 1, t = 52).

Columns: model (bg, mbg), quantity (p_alive, conditional_expected, expected, probability_n), r, alpha,
a, b, x, tx, T, t, n, value (20 significant digits). Columns a quantity does not use are 0.
"""

from __future__ import annotations

import csv
import itertools
import math
import os
import random
import signal
import sys

import mpmath as mp

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20261202
N_GRID = 120  # edge-grid combinations drawn
N_RANDOM = 160
SECONDS_PER_POINT = 20  # per model: each random point gives p_alive, conditional_expected, expected, probability_n


def kc(r, alpha, a, b2, t):
    """E_{p ~ Beta(a, b2)}[(1 - (1 + p t / alpha)^-r) / p]
    = (a + b2 - 1) / (a - 1) [1 - (alpha / (alpha + t))^r 2F1(r, b2; a + b2 - 1; t / (alpha + t))]
    = (a + b2 - 1) / (a - 1) [1 - 2F1(r, a - 1; a + b2 - 1; -t / alpha)]   (Pfaff).
    When mpmath's 2F1 does not converge, the integral over p (tanh-sinh, split at alpha / t)."""
    c = a + b2 - 1
    u = t / alpha
    try:
        return c / (a - 1) * (1 - mp.hyp2f1(r, a - 1, c, -u))
    except (ValueError, mp.libmp.NoConvergence):
        lB = mp.log(mp.beta(a, b2))

        def f(p):
            return mp.exp((a - 2) * mp.log(p) + (b2 - 1) * mp.log1p(-p) - lB) * -mp.expm1(
                -r * mp.log1p(p * u))

        pts = [0, 1] if u <= 2 else [0, 1 / u, 1]
        return mp.quad(f, pts)


def p_alive(mod, r, alpha, a, b, x, tx, T):
    if x == 0 and not mod:
        return mp.mpf(1)
    shift = 1 if mod else 0
    odds = a / (b + x - 1 + shift) * ((alpha + T) / (alpha + tx)) ** (r + x)
    return 1 / (1 + odds)


def conditional_expected(mod, r, alpha, a, b, x, tx, T, t):
    shift = 1 if mod else 0
    return p_alive(mod, r, alpha, a, b, x, tx, T) * kc(r + x, alpha + T, a, b + x + shift, t)


def expected(mod, r, alpha, a, b, t):
    if mod:
        return b / (a + b) * kc(r, alpha, a, b + 1, t)
    return kc(r, alpha, a, b, t)


def probability_n(mod, r, alpha, a, b, t, n):
    k = 1 if mod else 0
    B = mp.beta
    z = t / (alpha + t)
    first = (B(a, b + n + k) / B(a, b) * mp.rf(r, n) / mp.factorial(n)
             * (alpha / (alpha + t)) ** r * z ** n)
    if n == 0:
        second = B(a + 1, b) / B(a, b) if mod else 0
    else:
        second = B(a + 1, b + n - 1 + k) / B(a, b) * mp.betainc(n, r, 0, z, regularized=True)
    return first + second


def settled(fn, *args):
    """fn(*args) at 30, 60, 120, 240 digits until two consecutive results agree to 20 digits."""
    prev = None
    for dps in (30, 60, 120, 240):
        with mp.workdps(dps):
            val = fn(*[mp.mpf(v) if isinstance(v, float) else v for v in args])
        if prev is not None:
            if val == prev or abs(val - prev) <= mp.mpf(10) ** -20 * abs(val):
                return val
        prev = val
    raise RuntimeError(f"{fn.__name__}{args}: not settled at 240 digits ({prev})")


def loguniform(rng, lo, hi):
    return 10 ** rng.uniform(math.log10(lo), math.log10(hi))


def points(rng):
    """(r, alpha, a, b, x, tx, T, t, n) tuples: the issue's cases, the edge grid, random points."""
    out = []
    for r in (30.0, 50.0, 100.0):
        out.append((r, 5.0, 0.8, 2.4, 0.0, 0.0, 1.0, 52.0, 3))
    grid_r = (1e-3, 0.243, 1.0, 100.0, 1000.0)
    grid_alpha = (1e-3, 4.414, 1e4)
    grid_a = (1e-3, 0.793, 1.5, 1e4)
    grid_b = (1e-3, 2.426, 1e4)
    grid_x = (0.0, 3.0, 1e4)
    grid_tT = ((1e-3, 1e5), (1.0, 52.0), (39.0, 39.0), (1e5, 1e-3), (1e5, 1e5))
    grid = list(itertools.product(grid_r, grid_alpha, grid_a, grid_b, grid_x, grid_tT))
    # A random quarter of the 2,700 combinations (mpmath's 2F1 takes seconds at the extremes).
    for r, alpha, a, b, x, (T, t) in rng.sample(grid, N_GRID):
        tx = 0.0 if x == 0 else T * 0.5
        out.append((r, alpha, a, b, x, tx, T, t, 2))
    for _ in range(N_RANDOM):
        r = loguniform(rng, 1e-3, 1e3)
        alpha = loguniform(rng, 1e-3, 1e4)
        a = loguniform(rng, 1e-3, 1e4)
        b = loguniform(rng, 1e-3, 1e4)
        x = 0.0 if rng.random() < 0.25 else float(round(loguniform(rng, 1.0, 1e4)))
        T = loguniform(rng, 1e-3, 1e5)
        tx = 0.0 if x == 0 else T * rng.random()
        t = loguniform(rng, 1e-3, 1e5)
        n = rng.choice((0, 1, 2, 5, 20))
        out.append((r, alpha, a, b, x, tx, T, t, n))
    return out


class Slow(Exception):
    pass


def _alarm(signum, frame):
    raise Slow()


def main() -> int:
    # python record_references.py [SHARD COUNT]: the points i with i % COUNT == SHARD, written to
    # references.<SHARD>.csv (run the shards at once, then merge with --merge COUNT).
    if len(sys.argv) == 3 and sys.argv[1] == "--merge":
        count = int(sys.argv[2])
        parts = [os.path.join(HERE, f"references.{k}.csv") for k in range(count)]
        header, rows = None, []
        for part in parts:
            with open(part, newline="") as fh:
                rd = csv.reader(fh)
                header = next(rd)
                rows.extend(rd)
        with open(os.path.join(HERE, "references.csv"), "w", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(header)
            w.writerows(rows)
        for part in parts:
            os.remove(part)
        print(f"merged {len(rows)} references")
        return 0
    shard, count = (int(sys.argv[1]), int(sys.argv[2])) if len(sys.argv) == 3 else (0, 1)
    rng = random.Random(SEED)
    pts = points(rng)
    path = os.path.join(HERE, "references.csv" if count == 1 else f"references.{shard}.csv")
    rows = 0
    dropped = []
    signal.signal(signal.SIGALRM, _alarm)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["model", "quantity", "r", "alpha", "a", "b", "x", "tx", "T", "t", "n", "value"])
        for i, (r, alpha, a, b, x, tx, T, t, n) in enumerate(pts):
            if i % count != shard:
                continue
            fmt = lambda v: mp.nstr(v, 20, min_fixed=0, max_fixed=0)  # noqa: E731
            out = []
            # A point whose values do not settle within SECONDS_PER_POINT is left out of the
            # file (and listed): mpmath's 2F1 and quadrature can take minutes at the extremes.
            signal.alarm(SECONDS_PER_POINT)
            try:
                for model, mod in (("bg", False), ("mbg", True)):
                    vals = [
                        ("p_alive", (r, alpha, a, b, x, tx, T, 0.0, 0),
                         settled(p_alive, mod, r, alpha, a, b, x, tx, T)),
                        ("conditional_expected", (r, alpha, a, b, x, tx, T, t, 0),
                         settled(conditional_expected, mod, r, alpha, a, b, x, tx, T, t)),
                        ("expected", (r, alpha, a, b, 0.0, 0.0, 0.0, t, 0),
                         settled(expected, mod, r, alpha, a, b, t)),
                        ("probability_n", (r, alpha, a, b, 0.0, 0.0, 0.0, t, n),
                         settled(probability_n, mod, r, alpha, a, b, t, n)),
                    ]
                    for q, (rr, al, aa, bb, xx, txx, TT, tt, nn), v in vals:
                        out.append([model, q, repr(rr), repr(al), repr(aa), repr(bb), repr(xx),
                                    repr(txx), repr(TT), repr(tt), nn, fmt(v)])
            except (Slow, RuntimeError) as e:
                dropped.append((i, pts[i], type(e).__name__))
                print(f"left out point {i} {pts[i]}: {type(e).__name__}", file=sys.stderr, flush=True)
                continue
            finally:
                signal.alarm(0)
            w.writerows(out)
            rows += len(out)
            fh.flush()
    print(f"wrote {rows} references to {path}; {len(dropped)} of the points left out")
    return 0


if __name__ == "__main__":
    sys.exit(main())
