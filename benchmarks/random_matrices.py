"""Benchmark: fast random-matrix engines against their brute-force references, side by side.

1. Non-crossing pairings of 2m points: the recursive generator and the Catalan count against
   filtering all (2m - 1)!! pairings by a crossing test.
2. Exact GUE moments E tr M^{2k}: the Harer-Zagier recursion against the genus expansion
   (Wick enumeration of all pairings).
3. GOE spectra at n = 1000 and 2000: the Dumitriu-Edelman tridiagonal model (eigenvalue counts
   by Sturm sequences, trace powers by banded products) against dense sampling and a dense
   eigendecomposition.

    python benchmarks/random_matrices.py
"""

from __future__ import annotations

import time

import numpy as np
import sympy

from tpcheck.engines.combinatorics import (
    catalan_number,
    noncrossing_pairings,
    noncrossing_pairings_by_filter,
)
from tpcheck.engines.random_matrices import (
    gue_trace_moment,
    gue_trace_moment_by_genus,
    sample_goe,
    tridiagonal_hermite,
    tridiagonal_trace_powers,
)


def best(fn, repeat: int = 3) -> tuple[float, object]:
    t_best, value = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        value = fn()
        t_best = min(t_best, time.perf_counter() - t)
    return t_best, value


def row(name: str, fast: float, slow: float, agree: object) -> None:
    print(f"{name:<46} {fast * 1e3:>10.3f} {slow * 1e3:>12.1f} {slow / fast:>9.0f}x  {agree}")


def main() -> None:
    print(f"{'case':<46} {'fast ms':>10} {'reference ms':>12} {'ratio':>10}  agree")
    print("-" * 92)
    for m in (4, 5, 6):
        pts = list(range(2 * m))
        tf, a = best(lambda pts=pts: sum(1 for _ in noncrossing_pairings(pts)))
        ts, b = best(lambda pts=pts: sum(1 for _ in noncrossing_pairings_by_filter(pts)), 1)
        row(f"NC pairings of {2 * m} points, enumerate", tf, ts, a == b)
    for m in (6, 200):
        tf, a = best(lambda m=m: catalan_number(m))
        if m <= 6:
            ts, b = best(lambda m=m: sum(1 for _ in noncrossing_pairings_by_filter(list(range(2 * m)))), 1)
            row(f"NC pairings of {2 * m} points, count", tf, ts, a == b)
        else:
            print(f"{'NC pairings of 400 points, count':<46} {tf * 1e3:>10.3f}"
                  "   (filter: ~10^500 pairings, not run)")
    n = sympy.Symbol("n", positive=True, integer=True)
    for k in (4, 5, 6):
        tf, a = best(lambda k=k: gue_trace_moment(2 * k, n))
        ts, b = best(lambda k=k: gue_trace_moment_by_genus(2 * k, n), 1)
        row(f"GUE E tr M^{2 * k}: recursion vs genus enumeration", tf, ts, sympy.expand(a - b) == 0)
    tf, _ = best(lambda: gue_trace_moment(60, n))
    print(f"{'GUE E tr M^60 by recursion':<46} {tf * 1e3:>10.3f}")
    rng = np.random.default_rng(0)
    for size in (1000, 2000):
        def tri(size=size):
            d, e = tridiagonal_hermite(size, 1, rng)
            return tridiagonal_trace_powers(d / np.sqrt(size), e / np.sqrt(size), 8) / size

        def dense(size=size):
            ev = np.linalg.eigvalsh(sample_goe(size, rng) / np.sqrt(size))
            return np.array([np.sum(ev**j) for j in range(1, 9)]) / size

        tf, a = best(tri)
        ts, b = best(dense, 1)
        # one sample each: the even moments should be near 1, 2, 5, 14 (Catalan)
        shown = f"{a[3]:.2f}/{b[3]:.2f}"
        row(f"GOE n={size} moments k<=8: tridiagonal vs dense", tf, ts, f"m4 {shown}")
    for size in (10**5,):
        tf, a = best(lambda size=size: tridiagonal_trace_powers(
            *[x / np.sqrt(size) for x in tridiagonal_hermite(size, 1, rng)], 8))
        print(f"{'GOE n=100000 moments k<=8, tridiagonal':<46} {tf * 1e3:>10.3f}"
              f"   (dense: {size}^2 doubles = {size**2 * 8 / 1e9:.0f} GB, not run)")


if __name__ == "__main__":
    main()
