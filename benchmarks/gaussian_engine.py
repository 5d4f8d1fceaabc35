"""Benchmark: tpcheck's exact Gaussian engine against sympy.stats, side by side in one run.

Cases: E[Z^(2k)] for k up to 40; E[X1^2 X2^2 X3^2] with a numeric 3x3 covariance (all
correlations 1/3); E[X1^2 X2^2] and E[X1 X2 X3 X4] with symbolic covariance. sympy.stats runs
in a child process with a time limit (default 60 s); a case that does not return in time is
reported as such. Each tpcheck time is the best of several repetitions (fresh memo each time).

    python benchmarks/gaussian_engine.py [--timeout SECONDS]
"""

from __future__ import annotations

import argparse
import time

import sympy

from tpcheck.engines.gaussian import isserlis_moment
from tpcheck.kernel.bounded import run_bounded


def best_ms(fn, repeat: int = 5) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t)
    return best * 1000, value


def symbolic_cov(d: int) -> list[list[sympy.Symbol]]:
    names = {}
    for i in range(d):
        for j in range(i, d):
            names[(i, j)] = names[(j, i)] = sympy.Symbol(f"c{i + 1}{j + 1}", real=True)
    return [[names[(i, j)] for j in range(d)] for i in range(d)]


def third_cov() -> list[list[sympy.Rational]]:
    r = sympy.Rational(1, 3)
    return [[1, r, r], [r, 1, r], [r, r, 1]]


# ---- sympy.stats versions (run in a child with a time limit) -----------------------------

def stats_scalar(k: int) -> sympy.Expr:
    from sympy.stats import E, Normal

    z = Normal("Z", 0, 1)
    return E(z ** (2 * k))


def stats_multi(exps: tuple[int, ...], cov: list) -> sympy.Expr:
    from sympy.stats import E, MultivariateNormal

    d = len(exps)
    x = MultivariateNormal("X", [0] * d, sympy.Matrix(cov))
    return E(sympy.Mul(*[x[i] ** a for i, a in enumerate(exps)]))


def timed(fn, *args):
    t = time.perf_counter()
    value = fn(*args)
    return (time.perf_counter() - t) * 1000, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()

    cases = []
    for k in (5, 10, 20, 40):
        cases.append((f"E[Z^{2 * k}]", lambda k=k: isserlis_moment([2 * k], [[1]]),
                      stats_scalar, (k,)))
    cases.append(("E[X1^2 X2^2 X3^2], corr 1/3", lambda: isserlis_moment([2, 2, 2], third_cov()),
                  stats_multi, ((2, 2, 2), third_cov())))
    cases.append(("E[X1^2 X2^2], symbolic C", lambda: isserlis_moment([2, 2], symbolic_cov(2)),
                  stats_multi, ((2, 2), symbolic_cov(2))))
    cases.append(("E[X1 X2 X3 X4], symbolic C",
                  lambda: isserlis_moment([1, 1, 1, 1], symbolic_cov(4)),
                  stats_multi, ((1, 1, 1, 1), symbolic_cov(4))))

    header = f"{'case':<32} {'tpcheck ms':>11} {'sympy.stats ms':>15} {'ratio':>9}  agree"
    print(header)
    print("-" * len(header))
    for name, ours, theirs, targs in cases:
        ms, value = best_ms(ours)
        out = run_bounded(timed, (theirs, *targs), args.timeout)
        if out.ok:
            their_ms, their_value = out.value
            agree = sympy.simplify(sympy.expand(their_value) - sympy.expand(value)) == 0
            print(f"{name:<32} {ms:>11.3f} {their_ms:>15.1f} {their_ms / ms:>8.0f}x  {agree}")
        else:
            reason = f"no answer in {args.timeout:g}s" if "budget" in out.reason else out.reason[:40]
            print(f"{name:<32} {ms:>11.3f} {reason:>15} {'-':>9}  -")


if __name__ == "__main__":
    main()
