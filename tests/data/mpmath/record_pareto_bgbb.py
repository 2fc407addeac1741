#!/usr/bin/env python3
"""High-precision reference values for the Pareto/NBD and BG/BB predictions (issue 11, item 4).

    python tests/data/mpmath/record_pareto_bgbb.py pareto   # writes pareto_references.csv beside it
    python tests/data/mpmath/record_pareto_bgbb.py bgbb     # writes bgbb_references.csv

Needs only mpmath (1.4.1 from bench/value/requirements-lifetimes.txt):

    bench/value/.venv-lifetimes/bin/python tests/data/mpmath/record_pareto_bgbb.py pareto

The same scheme as record_references.py (BG/NBD, MBG/NBD): every value is computed from closed forms
written here independently of crmkit's code, with mpmath at rising precision, 30, 60, 120 then 240
digits, and accepted once two consecutive precisions agree to 20 significant digits. Each value
gets SECONDS_PER_POINT (20 s); a value that does not settle in time (or at the last rung) is left
out and named on stderr. Two safeguards the BG/NBD script does not need:
  - a difference of two terms that is not resolved at the working precision (fewer than 8 bits
    left, see sub()) is NaN, so that two rungs cannot "agree" on a difference that cancelled to
    exactly 0 (the dead term of P(X(t) = 20) at t = 0.0023 is 4e-148 of terms of 1e-17: it is 0.0
    at 30, 60 and 120 digits); the Pareto/NBD 2F1 forms get one more rung, 480 digits, for that;
  - the quadrature fallback must also pass its own error estimate (1e-24 relative): tanh-sinh's
    discretisation error does not shrink with the precision, so rungs can agree on a wrong value.
When the file was made every value settled in its closed form (no quadrature, nothing left out):
1,275 Pareto/NBD values at 255 points in 42 s, 1,016 BG/BB values at 254 points in 77 s (one
process).

Pareto/NBD (Fader & Hardie's notes, 2005 "Deriving the Pareto/NBD model and related expressions",
2006 "Deriving an expression for P(X(t) = x) under the Pareto/NBD model"):
  - the likelihood's A0 term and so P(alive) through Gauss' 2F1 (mpmath.hyp2f1, taking the larger
    of alpha and beta so that the argument lies in [0, 1));
  - E[X(t)] and E[Y(t) | x, t_x, T] in closed form;
  - P(X(t) = n) from the 2006 note: the alive-through-t NBD term plus
    alpha^r beta^s B(r+n, s+1) / B(r, s) [B1 - sum_{j<=n} (r+s)_j / j! t^j B2_j], B1 and B2_j 2F1's;
  - P(Y(t) = n | x, t_x, T) = [n = 0] (1 - P(alive)) + (r+x)_n / n! / L' [t^n (alpha+T+t)^-(r+x+n)
    (beta+T+t)^-s + D], where L' is the bracket of the likelihood and D = s int_0^t tau^n
    (alpha+T+tau)^-(r+x+n) (beta+T+tau)^-(s+1) dtau is the dead-in-(T, T+t) term of the same
    2006 closed form with r -> r + x, alpha -> alpha + T, beta -> beta + T.
  Where a 2F1 form does not settle (its difference cancels beyond 240 digits, or hyp2f1 gives up),
  the integral it stands for is taken by mpmath.quad instead (tanh-sinh, split at alpha, beta and
  t), accepted by the same rule.
  Inputs: r, s log-uniform in [1e-3, 1e2], alpha, beta in [1e-3, 1e4], x in {0} or [1, 1e4]
  (integer), T and t in [1e-3, 1e5], recency uniform in [0, T] (0 when x = 0), n in
  {0, 1, 2, 5, 20}; plus an edge grid of the extremes and the CDNOW fit (r 0.5533, alpha 10.578,
  s 0.6062, beta 11.667).

BG/BB (Fader, Hardie & Shang 2010):
  - the likelihood as its finite sum over the death period;
  - P(alive at n + m) = B(a+x, b+n-x)/B(a, b) B(g, d+n+m)/B(g, d) / L;
  - E[X(n, n+m) | x, t_x, n] = B(a+x+1, b+n-x)/B(a, b) / L * d/(g-1) Gamma(g+d)/Gamma(1+d)
    [Gamma(1+d+n)/Gamma(g+d+n) - Gamma(1+d+n+m)/Gamma(g+d+n+m)]  (eq. 13; at g = 1 the sum
    sum_{k=n+1}^{n+m} B(1, d+k)/B(1, d) it came from);
  - E[X(n)] = a/(a+b) d/(g-1) [1 - Gamma(g+d) Gamma(1+d+n) / (Gamma(g+d+n) Gamma(1+d))] (eq. 10);
  - P(X(n) = x) as the paper's finite sum (eq. 8).
  Inputs: alpha, beta, gamma, delta log-uniform in [1e-3, 1e3], n_periods integer log-uniform in
  [1, 1000], frequency <= recency <= n_periods integers (recency 0 when frequency is 0), m in
  {0, 1, 10} or [1, 1000]; plus an edge grid (the extremes, the donations fit, gamma = 1 and
  1.0005, m = 5000).

Inputs are doubles written with repr, so the tests read the exact same numbers.
Pareto columns: quantity (p_alive, conditional_expected, expected, probability_n,
conditional_probability_n), r, alpha, s, beta, x, tx, T, t, n, value.
BG/BB columns: quantity (p_alive, conditional_expected, expected, probability_n), alpha, beta,
gamma, delta, x, tx, n_periods, m, value (m is the future periods of p_alive and
conditional_expected; for probability_n x is the count and n_periods the periods).
Columns a quantity does not use are 0.
"""

from __future__ import annotations

import csv
import itertools
import math
import os
import random
import signal
import sys
import time

import mpmath as mp

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20261203
SECONDS_PER_POINT = 20
N_GRID = {"pareto": 80, "bgbb": 80}
N_RANDOM = {"pareto": 170, "bgbb": 170}


class Unsettled(Exception):
    pass


class Slow(Exception):
    pass


def _alarm(signum, frame):
    raise Slow()


def settled(fn, *args, ladder=(30, 60, 120, 240)):
    """fn(*args) at 30, 60, 120, 240 digits until two consecutive results agree to 20 digits."""
    prev = None
    for dps in ladder:
        with mp.workdps(dps):
            val = fn(*[mp.mpf(v) if isinstance(v, float) else v for v in args])
        if prev is not None:
            if val == prev or abs(val - prev) <= mp.mpf(10) ** -20 * abs(val):
                return val
        prev = val
    raise Unsettled(f"{fn.__name__}: not settled at {ladder[-1]} digits ({prev})")


METHODS = {"closed": 0, "quad": 0}


def settled_either(closed, quad, *args):
    """The closed form if it settles (one more rung, 480 digits: at tiny t the 2F1 difference
    of the dead term cancels by up to ~250 digits), else the quadrature (by the rule of settled
    and its own error estimate)."""
    try:
        v = settled(closed, *args, ladder=(30, 60, 120, 240, 480))
        METHODS["closed"] += 1
        return v
    except (Unsettled, ValueError, ZeroDivisionError, mp.libmp.NoConvergence):
        v = settled(quad, *args)
        METHODS["quad"] += 1
        return v


def sub(a, b):
    """a - b, or NaN when the difference is not resolved at the working precision (fewer than 8
    bits left): then no two rungs of the ladder agree until one resolves it. Without this, a
    difference that cancels to exactly 0 at 30, 60 and 120 digits would be accepted as settled
    (seen for the dead term at t = 0.0023, n = 20, where it is 4e-148 of terms of 1e-17)."""
    d = a - b
    if abs(d) <= mp.ldexp(max(abs(a), abs(b)), 8 - mp.mp.prec):
        return mp.nan
    return d


def _pts(lo, hi, *marks):
    return sorted({lo, hi} | {m for m in marks if lo < m < hi})


def quad(f, pts):
    """mpmath.quad (tanh-sinh) that refuses a result its own error estimate does not support:
    tanh-sinh's discretisation error does not shrink with the working precision, so two
    precisions can agree on a wrong value (seen: 7e-6 off at t = 0.0023, n = 20)."""
    v, err = mp.quad(f, pts, error=True, maxdegree=10)
    if not err <= mp.mpf(10) ** -24 * abs(v):
        raise Unsettled(f"quadrature error estimate {mp.nstr(err, 3)} of {mp.nstr(v, 5)}")
    return v


# ---- Pareto/NBD ---------------------------------------------------------------------------------

def pnbd_sI_closed(r, alpha, s, beta, x, tx, T):
    """s int_{tx}^{T} (alpha+y)^-(r+x) (beta+y)^-(s+1) dy = s / (r+s+x) A0 (FH 2005, eq. 19-20)."""
    R = r + s + x
    if alpha >= beta:
        f = lambda y: mp.hyp2f1(R, s + 1, R + 1, (alpha - beta) / (alpha + y)) / (alpha + y) ** R  # noqa: E731
    else:
        f = lambda y: mp.hyp2f1(R, r + x, R + 1, (beta - alpha) / (beta + y)) / (beta + y) ** R  # noqa: E731
    return s / R * sub(f(tx), f(T))


def pnbd_sI_quad(r, alpha, s, beta, x, tx, T):
    g = lambda y: s * (alpha + y) ** -(r + x) * (beta + y) ** -(s + 1)  # noqa: E731
    return quad(g, _pts(tx, T, tx + alpha, tx + beta))


def pnbd_p_alive(sI, r, alpha, s, beta, x, tx, T):
    if tx == T:
        return mp.mpf(1)
    first = (alpha + T) ** -(r + x) * (beta + T) ** -s
    return first / (first + sI(r, alpha, s, beta, x, tx, T))


def pnbd_p_alive_closed(*a):
    return pnbd_p_alive(pnbd_sI_closed, *a)


def pnbd_p_alive_quad(*a):
    return pnbd_p_alive(pnbd_sI_quad, *a)


def pnbd_growth(s, b, t):
    """b / (s-1) [1 - (b/(b+t))^(s-1)], b log(1 + t/b) at s = 1."""
    if s == 1:
        return b * mp.log1p(t / b)
    return b / (s - 1) * sub(1, (b / (b + t)) ** (s - 1))


def pnbd_conditional_expected(p_alive, r, alpha, s, beta, x, tx, T, t):
    return p_alive(r, alpha, s, beta, x, tx, T) * (r + x) / (alpha + T) * pnbd_growth(s, beta + T, t)


def pnbd_conditional_expected_closed(*a):
    return pnbd_conditional_expected(pnbd_p_alive_closed, *a)


def pnbd_conditional_expected_quad(*a):
    return pnbd_conditional_expected(pnbd_p_alive_quad, *a)


def pnbd_expected(r, alpha, s, beta, t):
    return r / alpha * pnbd_growth(s, beta, t)


def pnbd_dead_closed(r, a, s, b, n, t):
    """D = s int_0^t tau^n (a+tau)^-(r+n) (b+tau)^-(s+1) dtau from FH 2006:
    Gamma(r+n)/(Gamma(r) n!) a^r b^s D = a^r b^s B(r+n, s+1)/B(r, s) [B1 - sum_j ...]."""
    c = r + s + n + 1
    if a >= b:
        B1 = mp.hyp2f1(r + s, s + 1, c, (a - b) / a) / a ** (r + s)
        B2 = lambda j: mp.hyp2f1(r + s + j, s + 1, c, (a - b) / (a + t)) / (a + t) ** (r + s + j)  # noqa: E731
    else:
        B1 = mp.hyp2f1(r + s, r + n, c, (b - a) / b) / b ** (r + s)
        B2 = lambda j: mp.hyp2f1(r + s + j, r + n, c, (b - a) / (b + t)) / (b + t) ** (r + s + j)  # noqa: E731
    S = mp.fsum(mp.rf(r + s, j) / mp.factorial(j) * t ** j * B2(j) for j in range(n + 1))
    return mp.factorial(n) * s * mp.exp(mp.loggamma(r + s) - mp.loggamma(c)) * sub(B1, S)


def pnbd_dead_quad(r, a, s, b, n, t):
    g = lambda u: s * u ** n * (a + u) ** -(r + n) * (b + u) ** -(s + 1)  # noqa: E731
    return quad(g, _pts(mp.mpf(0), t, a, b))


def pnbd_probability_n(dead, r, alpha, s, beta, t, n):
    lc = mp.loggamma(r + n) - mp.loggamma(r) - mp.loggamma(n + 1)
    alive = mp.exp(lc + r * mp.log(alpha / (alpha + t)) + n * mp.log(t / (alpha + t))
                   + s * mp.log(beta / (beta + t)))
    return alive + mp.exp(lc + r * mp.log(alpha) + s * mp.log(beta)) * dead(r, alpha, s, beta, n, t)


def pnbd_probability_n_closed(*a):
    return pnbd_probability_n(pnbd_dead_closed, *a)


def pnbd_probability_n_quad(*a):
    return pnbd_probability_n(pnbd_dead_quad, *a)


def pnbd_conditional_probability_n(sI, dead, r, alpha, s, beta, x, tx, T, t, n):
    a, b = alpha + T, beta + T
    first = a ** -(r + x) * b ** -s
    Lb = first + (sI(r, alpha, s, beta, x, tx, T) if tx < T else 0)  # bracket of the likelihood
    lc = mp.loggamma(r + x + n) - mp.loggamma(r + x) - mp.loggamma(n + 1)
    alive = t ** n * (a + t) ** -(r + x + n) * (b + t) ** -s
    out = mp.exp(lc) * (alive + dead(r + x, a, s, b, n, t)) / Lb
    if n == 0 and tx < T:
        out += sub(1, first / Lb)
    return out


def pnbd_conditional_probability_n_closed(*a):
    return pnbd_conditional_probability_n(pnbd_sI_closed, pnbd_dead_closed, *a)


def pnbd_conditional_probability_n_quad(*a):
    return pnbd_conditional_probability_n(pnbd_sI_quad, pnbd_dead_quad, *a)


def loguniform(rng, lo, hi):
    return 10 ** rng.uniform(math.log10(lo), math.log10(hi))


def pareto_points(rng):
    """(r, alpha, s, beta, x, tx, T, t, n): the CDNOW fit, the edge grid, random points."""
    out = []
    cdnow = (0.5533, 10.578, 0.6062, 11.667)
    for x, tx, T, t, n in ((0.0, 0.0, 38.86, 39.0, 0), (2.0, 30.43, 38.86, 39.0, 1),
                           (7.0, 35.71, 38.86, 52.0, 2), (10.0, 36.0, 39.0, 100.0, 5),
                           (0.0, 0.0, 1e-3, 1e5, 20)):
        out.append((*cdnow, x, tx, T, t, n))
    grid_r = (1e-3, 0.5533, 1.0, 100.0)
    grid_alpha = (1e-3, 10.578, 1e4)
    grid_s = (1e-3, 0.6062, 1.0, 100.0)
    grid_beta = (1e-3, 11.667, 1e4)
    grid_x = (0.0, 3.0, 1e4)
    grid_tT = ((1e-3, 1e5), (1.0, 52.0), (39.0, 39.0), (1e5, 1e-3), (1e5, 1e5))
    grid = list(itertools.product(grid_r, grid_alpha, grid_s, grid_beta, grid_x, grid_tT))
    for r, alpha, s, beta, x, (T, t) in rng.sample(grid, N_GRID["pareto"]):
        tx = 0.0 if x == 0 else T * 0.5
        out.append((r, alpha, s, beta, x, tx, T, t, 2))
    for _ in range(N_RANDOM["pareto"]):
        r = loguniform(rng, 1e-3, 1e2)
        alpha = loguniform(rng, 1e-3, 1e4)
        s = loguniform(rng, 1e-3, 1e2)
        beta = loguniform(rng, 1e-3, 1e4)
        x = 0.0 if rng.random() < 0.25 else float(round(loguniform(rng, 1.0, 1e4)))
        T = loguniform(rng, 1e-3, 1e5)
        tx = 0.0 if x == 0 else T * rng.random()
        t = loguniform(rng, 1e-3, 1e5)
        n = rng.choice((0, 1, 2, 5, 20))
        out.append((r, alpha, s, beta, x, tx, T, t, n))
    return out


def pareto_values(p):
    r, alpha, s, beta, x, tx, T, t, n = p
    z = 0.0
    return [
        ("p_alive", (r, alpha, s, beta, x, tx, T, z, 0),
         lambda: settled_either(pnbd_p_alive_closed, pnbd_p_alive_quad, r, alpha, s, beta, x, tx, T)),
        ("conditional_expected", (r, alpha, s, beta, x, tx, T, t, 0),
         lambda: settled_either(pnbd_conditional_expected_closed, pnbd_conditional_expected_quad,
                                r, alpha, s, beta, x, tx, T, t)),
        ("expected", (r, alpha, s, beta, z, z, z, t, 0),
         lambda: settled(pnbd_expected, r, alpha, s, beta, t)),
        ("probability_n", (r, alpha, s, beta, z, z, z, t, n),
         lambda: settled_either(pnbd_probability_n_closed, pnbd_probability_n_quad,
                                r, alpha, s, beta, t, n)),
        ("conditional_probability_n", (r, alpha, s, beta, x, tx, T, t, n),
         lambda: settled_either(pnbd_conditional_probability_n_closed,
                                pnbd_conditional_probability_n_quad,
                                r, alpha, s, beta, x, tx, T, t, n)),
    ]


# ---- BG/BB --------------------------------------------------------------------------------------

def lB(a, b):
    return mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(a + b)


def bgbb_likelihood(al, be, ga, de, x, tx, n):
    """FHS 2010 eq. (5): the alive-through-n term plus the sum over the death period."""
    base = -lB(al, be) - lB(ga, de)
    terms = [mp.exp(lB(al + x, be + n - x) + lB(ga, de + n) + base)]
    for i in range(int(n - tx)):
        terms.append(mp.exp(lB(al + x, be + tx - x + i) + lB(ga + 1, de + tx + i) + base))
    return mp.fsum(terms)


def bgbb_p_alive(al, be, ga, de, x, tx, n, m):
    la = lB(al + x, be + n - x) - lB(al, be) + lB(ga, de + n + m) - lB(ga, de)
    return mp.exp(la) / bgbb_likelihood(al, be, ga, de, x, tx, n)


def bgbb_alive_periods(ga, de, n, m):
    """sum_{k=n+1}^{n+m} B(g, d+k)/B(g, d), in closed form (FHS eq. 13) for g != 1."""
    if m == 0:
        return mp.mpf(0)
    if ga == 1:
        return mp.fsum(de / (de + k) for k in range(int(n) + 1, int(n + m) + 1))
    lead = de / (ga - 1) * mp.exp(mp.loggamma(ga + de) - mp.loggamma(1 + de))
    return lead * sub(mp.exp(mp.loggamma(1 + de + n) - mp.loggamma(ga + de + n)),
                      mp.exp(mp.loggamma(1 + de + n + m) - mp.loggamma(ga + de + n + m)))


def bgbb_conditional_expected(al, be, ga, de, x, tx, n, m):
    lead = mp.exp(lB(al + x + 1, be + n - x) - lB(al, be))
    return lead * bgbb_alive_periods(ga, de, n, m) / bgbb_likelihood(al, be, ga, de, x, tx, n)


def bgbb_expected(al, be, ga, de, n):
    if ga == 1:
        return al / (al + be) * bgbb_alive_periods(ga, de, 0, n)
    return al / (al + be) * de / (ga - 1) * sub(1, mp.exp(
        mp.loggamma(ga + de) + mp.loggamma(1 + de + n) - mp.loggamma(ga + de + n)
        - mp.loggamma(1 + de)))


def bgbb_probability_n(al, be, ga, de, n, x):
    """FHS eq. (8): P(X(n) = x)."""
    base = -lB(al, be) - lB(ga, de)
    lch = lambda N: mp.loggamma(N + 1) - mp.loggamma(x + 1) - mp.loggamma(N - x + 1)  # noqa: E731
    terms = [mp.exp(lch(n) + lB(al + x, be + n - x) + lB(ga, de + n) + base)]
    for i in range(int(x), int(n)):
        terms.append(mp.exp(lch(i) + lB(al + x, be + i - x) + lB(ga + 1, de + i) + base))
    return mp.fsum(terms)


def bgbb_points(rng):
    """(alpha, beta, gamma, delta, x, tx, n, m, k): k the count of probability_n."""
    out = []
    donations = (1.204, 0.750, 0.657, 2.783)
    for x, tx, n, m, k in ((0.0, 0.0, 6.0, 5.0, 0), (3.0, 4.0, 6.0, 10.0, 3),
                           (6.0, 6.0, 6.0, 1.0, 6), (1.0, 1.0, 6.0, 0.0, 1)):
        out.append((*donations, x, tx, n, m, k))
    g = (1e-3, 1.204, 1e3)
    grid_gamma = (1e-3, 0.657, 1.0, 1.0005, 1e3)
    grid_n = ((0.0, 0.0, 1.0), (1.0, 1.0, 1.0), (0.0, 0.0, 1000.0), (3.0, 500.0, 1000.0),
              (1000.0, 1000.0, 1000.0), (2.0, 3.0, 6.0))
    grid_m = (0.0, 5.0, 5000.0)
    grid = list(itertools.product(g, g, grid_gamma, g, grid_n, grid_m))
    for al, be, ga, de, (x, tx, n), m in rng.sample(grid, N_GRID["bgbb"]):
        out.append((al, be, ga, de, x, tx, n, m, int(min(x, n))))
    for _ in range(N_RANDOM["bgbb"]):
        al, be, ga, de = (loguniform(rng, 1e-3, 1e3) for _ in range(4))
        n = float(round(loguniform(rng, 1.0, 1000.0)))
        if rng.random() < 0.25:
            x = tx = 0.0
        else:
            tx = float(rng.randint(1, int(n)))
            x = float(rng.randint(1, int(tx)))
        m = float(rng.choice((0, 1, 10, round(loguniform(rng, 1.0, 1000.0)))))
        k = rng.choice((0, 1, 2, 5, 20, int(x), int(n)))
        out.append((al, be, ga, de, x, tx, n, m, min(k, int(n))))
    return out


def bgbb_values(p):
    al, be, ga, de, x, tx, n, m, k = p
    z = 0.0
    return [
        ("p_alive", (al, be, ga, de, x, tx, n, m),
         lambda: settled(bgbb_p_alive, al, be, ga, de, x, tx, n, m)),
        ("conditional_expected", (al, be, ga, de, x, tx, n, m),
         lambda: settled(bgbb_conditional_expected, al, be, ga, de, x, tx, n, m)),
        ("expected", (al, be, ga, de, z, z, n, z),
         lambda: settled(bgbb_expected, al, be, ga, de, n)),
        ("probability_n", (al, be, ga, de, float(k), z, n, z),
         lambda: settled(bgbb_probability_n, al, be, ga, de, n, float(k))),
    ]


MODELS = {
    "pareto": ("pareto_references.csv", pareto_points, pareto_values,
               ["quantity", "r", "alpha", "s", "beta", "x", "tx", "T", "t", "n", "value"]),
    "bgbb": ("bgbb_references.csv", bgbb_points, bgbb_values,
             ["quantity", "alpha", "beta", "gamma", "delta", "x", "tx", "n_periods", "m", "value"]),
}


def main() -> int:
    model = sys.argv[1] if len(sys.argv) > 1 else ""
    if model not in MODELS:
        print(__doc__)
        return 2
    name, make_points, make_values, header = MODELS[model]
    pts = make_points(random.Random(SEED))
    path = os.path.join(HERE, name)
    fmt = lambda v: mp.nstr(v, 20, min_fixed=0, max_fixed=0)  # noqa: E731
    rows = 0
    dropped = []
    start = time.time()
    signal.signal(signal.SIGALRM, _alarm)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for i, p in enumerate(pts):
            for q, inputs, compute in make_values(p):
                signal.alarm(SECONDS_PER_POINT)
                try:
                    v = compute()
                except (Slow, Unsettled, ValueError, ZeroDivisionError,
                        mp.libmp.NoConvergence) as e:
                    dropped.append((i, q, p, type(e).__name__))
                    print(f"left out point {i} {q} {p}: {type(e).__name__}", file=sys.stderr,
                          flush=True)
                    continue
                finally:
                    signal.alarm(0)
                w.writerow([q, *(repr(v) if isinstance(v, float) else v for v in inputs), fmt(v)])
                rows += 1
            fh.flush()
    print(f"wrote {rows} references at {len(pts)} points to {path} in {time.time() - start:.0f} s; "
          f"{len(dropped)} values left out; closed forms {METHODS['closed']}, "
          f"quadrature {METHODS['quad']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
