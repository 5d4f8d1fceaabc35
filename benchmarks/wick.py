"""Benchmark: exact Wick moments by Björklund's hafnian and Kan's formula
(tpcheck.engines.hafnian) against the memoised integration by parts
(tpcheck.engines.gaussian.isserlis_by_parts) and a
floating-point hafnian, side by side in one run.

Floating-point reference: thewalrus' compiled ``hafnian(A, method="recursive")`` (the same
algorithm, numba) when ``/tmp/hafvenv/bin/python`` has thewalrus (``python -m venv /tmp/hafvenv;
/tmp/hafvenv/bin/pip install thewalrus``), else this package's numpy float version of the
recursion (``hafnian_float``), measured in the same run, so the ratio exact/float is side by side
for integer and for rational covariances. The baseline runs in a child with a CPU-time limit
(default 60 s). Times are the best of several repetitions; on a loaded machine they are noisy, so
the load average is printed before and after.

    python benchmarks/wick.py [--timeout SECONDS] [--max-size 24]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

import numpy as np
import sympy

from tpcheck.engines.gaussian import isserlis_by_parts
from tpcheck.engines.hafnian import gaussian_moment, hafnian, hafnian_float, hafnian_int
from tpcheck.kernel.bounded import run_bounded

WALRUS_PYTHON = Path("/tmp/hafvenv/bin/python")
WALRUS_SCRIPT = """
import json, sys, time
import numpy as np
from thewalrus import hafnian
out = []
for a in json.loads(sys.stdin.read()):
    a = np.array(a, dtype=float)
    hafnian(a, method="recursive")
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        value = hafnian(a, method="recursive")
        best = min(best, time.perf_counter() - t)
    out.append([best * 1000, float(np.real(value))])
print(json.dumps(out))
"""


def best_ms(fn, repeat: int = 5) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t)
    return best * 1000, value


def timed(fn, *args):
    t = time.perf_counter()
    value = fn(*args)
    return (time.perf_counter() - t) * 1000, value


def walrus_times(matrices: list[list[list[float]]]) -> list[tuple[float, float]] | None:
    if not WALRUS_PYTHON.exists():
        return None
    try:
        done = subprocess.run([str(WALRUS_PYTHON), "-c", WALRUS_SCRIPT], input=json.dumps(matrices),
                              capture_output=True, text=True, timeout=600, check=True)
    except (subprocess.SubprocessError, OSError):
        return None
    return [tuple(x) for x in json.loads(done.stdout)]


def load() -> str:
    """The 1, 5 and 15 minute load averages (the machine may be shared)."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"


def random_symmetric(size: int, seed: int, bound: int = 3) -> list[list[int]]:
    a = np.random.default_rng(seed).integers(-bound, bound + 1, (size, size))
    return (a + a.T).tolist()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--max-size", type=int, default=24)
    args = parser.parse_args()

    print(f"load average {load()}")
    sizes = list(range(8, args.max_size + 1, 4))
    mats = [random_symmetric(s, s) for s in sizes]
    rational_sizes = [s for s in sizes if s >= 16]
    rationals = [[[sympy.Rational(x, 7) for x in row] for row in random_symmetric(s, s + 1)]
                 for s in rational_sizes]
    walrus = walrus_times(mats + [[[float(x) for x in row] for row in a] for a in rationals])
    ref_name = "thewalrus recursive (float)" if walrus else "numpy float recursion"
    print(f"hafnians of random symmetric integer matrices, entries in [-6, 6]; float reference: {ref_name}")
    header = (f"{'2k':>3} {'exact ms':>9} {'float ms':>9} {'exact/float':>11} {'isserlis ms':>12} "
              f"{'isserlis/exact':>14}  agree")
    print(header)
    print("-" * len(header))
    for i, (size, a) in enumerate(zip(sizes, mats, strict=True)):
        ms, value = best_ms(lambda a=a: hafnian_int(a))
        if walrus:
            fms, fvalue = walrus[i]
        else:
            fms, fvalue = best_ms(lambda a=a: hafnian_float(a))
        out = run_bounded(timed, (isserlis_by_parts, [1] * size, a), args.timeout)
        if out.ok:
            base_ms, base_value = out.value
            base = f"{base_ms:>12.1f} {base_ms / ms:>13.1f}x"
            agree = base_value == value
        else:
            base = f"{'> ' + format(args.timeout, 'g') + ' s':>12} {'-':>14}"
            agree = "-"
        close = abs(fvalue - value) <= 1e-6 * max(1, abs(value))
        print(f"{size:>3} {ms:>9.2f} {fms:>9.2f} {ms / fms:>10.1f}x {base}  {agree} (float {close})")

    print()
    print(f"rational covariances, entries m/7 with m in [-6, 6] (tpcheck.engines.hafnian.hafnian, exact); "
          f"float reference: {ref_name}")
    header = f"{'2k':>3} {'exact ms':>9} {'float ms':>9} {'exact/float':>11}  float agrees"
    print(header)
    print("-" * len(header))
    for i, (size, a) in enumerate(zip(rational_sizes, rationals, strict=True)):
        ms, value = best_ms(lambda a=a: hafnian(a))
        if walrus:
            fms, fvalue = walrus[len(mats) + i]
        else:
            fms, fvalue = best_ms(lambda a=a: hafnian_float([[float(x) for x in row] for row in a]))
        close = abs(fvalue - float(value)) <= 1e-6 * max(1, abs(float(value)))
        print(f"{size:>3} {ms:>9.2f} {fms:>9.2f} {ms / fms:>10.1f}x  {close}")

    print()
    print("other moments (exact engines)")
    third = sympy.Rational(1, 3)
    rational24 = [[sympy.Rational(x, 7) for x in row] for row in random_symmetric(24, 1)]
    x, y = sympy.symbols("x y")
    sym = [[sympy.Symbol(f"c{min(i, j)}{max(i, j)}") for j in range(8)] for i in range(8)]
    cases = [
        ("haf 24x24, entries m/7", lambda: hafnian(rational24),
         (isserlis_by_parts, [1] * 24, rational24)),
        ("E[X1^4 X2^4 X3^4 X4^4], corr 1/3",
         lambda: gaussian_moment([4] * 4, [[1 if i == j else third for j in range(4)] for i in range(4)]),
         (isserlis_by_parts, [4] * 4, [[1 if i == j else third for j in range(4)] for i in range(4)])),
        ("E[Z^60]", lambda: gaussian_moment([60], [[1]]), (isserlis_by_parts, [60], [[1]])),
        ("E[X^6 Y^6], C = [[1, x], [x, y]]", lambda: gaussian_moment([6, 6], [[1, x], [x, y]]),
         (isserlis_by_parts, [6, 6], [[1, x], [x, y]])),
        ("haf 8x8 all-symbolic", lambda: hafnian(sym), (isserlis_by_parts, [1] * 8, sym)),
    ]
    header = f"{'case':<36} {'new ms':>9} {'isserlis ms':>12} {'ratio':>9}  agree"
    print(header)
    print("-" * len(header))
    for name, ours, base in cases:
        ms, value = best_ms(ours)
        out = run_bounded(timed, base, args.timeout)
        if out.ok:
            base_ms, base_value = out.value
            agree = sympy.expand(base_value - value) == 0
            print(f"{name:<36} {ms:>9.2f} {base_ms:>12.1f} {base_ms / ms:>8.1f}x  {agree}")
        else:
            print(f"{name:<36} {ms:>9.2f} {'> ' + format(args.timeout, 'g') + ' s':>12} {'-':>9}  -")
    print()
    print(f"load average {load()}")


if __name__ == "__main__":
    main()
