"""Records reference fits of the sBG and BdW models on data/retention_cohorts.csv (years 0-7, as
Fader and Hardie 2007 fit them) with scipy, independently of crmkit, into reference.json.

Run with any Python that has numpy and scipy (for example the lifetimes environment,
bench/value/.venv-lifetimes/bin/python tests/data/contractual/record_reference.py). The
log-likelihood is written directly from the papers' formulas with scipy.special.betaln and
maximised by Nelder-Mead in log-parameters from the sBG optimum, then polished by BFGS. For the
sBG fits it also records DERT at a 10% discount rate after 0, 4 and 10 renewals and DEL, with
scipy.special.hyp2f1 (Fader and Hardie 2010's closed form).
"""

import json
import pathlib

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, hyp2f1

HERE = pathlib.Path(__file__).resolve().parent
DATA = HERE.parents[2] / "data" / "retention_cohorts.csv"


def negll(u, s, bdw):
    a, b = np.exp(u[0]), np.exp(u[1])
    c = np.exp(u[2]) if bdw else 1.0
    t = np.arange(len(s), dtype=float)
    S = np.exp(betaln(a, b + t ** c) - betaln(a, b))
    lost = s[:-1] - s[1:]
    return -(np.sum(lost * np.log(S[:-1] - S[1:])) + s[-1] * np.log(S[-1]))


def fit(s, bdw, start):
    opts = dict(xatol=1e-13, fatol=1e-13, maxiter=50000, maxfev=50000)
    r = minimize(negll, start, args=(s, bdw), method="Nelder-Mead", options=opts)
    r = minimize(negll, r.x, args=(s, bdw), method="BFGS", options=dict(gtol=1e-10))
    return [float(v) for v in np.exp(r.x)], float(-r.fun)


def main():
    table = np.genfromtxt(DATA, delimiter=",", names=True)
    out = {}
    for name in ("regular", "high_end"):
        s = np.asarray(table[name][:8], dtype=float)
        p2, ll2 = fit(s, False, [0.0, 0.0])
        p3, ll3 = fit(s, True, [np.log(p2[0]), np.log(p2[1]), 0.0])
        a, b, z = p2[0], p2[1], 1 / 1.1
        # DERT at d = 0.1 after n renewals (Fader and Hardie 2010) with scipy's 2F1, and DEL.
        dert = {str(n): float((b + n) / (a + b + n) * hyp2f1(1, b + n + 1, a + b + n + 1, z))
                for n in (0, 4, 10)}
        out[name] = {"sbg": {"alpha": p2[0], "beta": p2[1], "log_likelihood": ll2,
                             "dert_0.1": dert, "del_0.1": float(hyp2f1(1, b, a + b, z))},
                     "bdw": {"alpha": p3[0], "beta": p3[1], "c": p3[2], "log_likelihood": ll3}}
    (HERE / "reference.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
