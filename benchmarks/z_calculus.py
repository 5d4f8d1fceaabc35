"""Benchmark: the recursive Z-calculus (tpcheck.engines.z_covariance) against the expanded one
(tpcheck.engines.netsor.expanded_limit, the engine that expands every Z), side by side in one run.

Cases: (1/n) x^T W^(2k) x with W = A + A^T, entries of variance 1/(2n) (rational program), and
with W = (A + A^T)/sqrt(2) (over QQ<sqrt(2)>); (1/n) x^T (A A^T)^k x with lambda = n/m symbolic
(Marchenko-Pastur); a polynomial program with a non-Gaussian Zdot. The baseline runs in a child
with a CPU-time limit (default 60 s). Times are single runs (the engines memoise nothing across
runs); on a loaded machine they are noisy.

    python benchmarks/z_calculus.py [--timeout SECONDS]
"""

from __future__ import annotations

import argparse
import time

import sympy

from tpcheck.engines.netsor import Program, expanded_limit
from tpcheck.engines.z_covariance import z_calculus_of_program
from tpcheck.kernel.bounded import run_bounded

HALF = sympy.Rational(1, 2)


def semicircle(k: int, sqrt2: bool) -> Program:
    p = Program()
    p.matrix("A", 1 if sqrt2 else HALF)
    p.initial("x0")
    c = 1 / sympy.sqrt(2) if sqrt2 else 1
    for j in range(2 * k):
        p.matmul(f"a{j}", "A", f"x{j}")
        p.matmul(f"b{j}", "A", f"x{j}", transpose=True)
        p.lincomb(f"x{j + 1}", {f"a{j}": c, f"b{j}": c})
    return p


def marchenko_pastur(k: int) -> Program:
    p = Program()
    p.matrix("A", 1, sympy.Symbol("lambda", positive=True))
    p.initial("x0")
    for j in range(k):
        p.matmul(f"y{j}", "A", f"x{j}", transpose=True)
        p.matmul(f"x{j + 1}", "A", f"y{j}")
    return p


def polynomial(depth: int) -> Program:
    """x -> y = A x -> p = y^3 - y -> A^T p -> ... alternating, ``depth`` MatMuls."""
    p = Program()
    p.matrix("A", 1)
    p.initial("x0")
    prev = "x0"
    for j in range(depth):
        out = f"h{j}"
        p.matmul(out, "A", prev, transpose=bool(j % 2))
        s = sympy.Symbol(out, real=True)
        p.nonlin(f"p{j}", s**3 - s if j % 2 == 0 else s, [out])
        prev = f"p{j}"
    return p


def ours(program: Program, a: str, b: str) -> sympy.Expr:
    return z_calculus_of_program(program).second_moment(a, b)


def baseline(program: Program, a: str, b: str) -> sympy.Expr:
    sa, sb = sympy.Symbol(a, real=True), sympy.Symbol(b, real=True)
    return expanded_limit(program, sa * sb, [a] if a == b else [a, b])[0]


def timed(fn, *args):
    t = time.perf_counter()
    value = fn(*args)
    return (time.perf_counter() - t) * 1000, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    cases = []
    for k in (2, 5, 10, 20, 30):
        cases.append((f"x.W^{2 * k}x, W = A + A^T (var 1/2)", semicircle(k, False), "x0", f"x{2 * k}"))
    for k in (2, 5, 10, 30):
        cases.append((f"x.W^{2 * k}x, W = (A + A^T)/sqrt 2", semicircle(k, True), "x0", f"x{2 * k}"))
    for k in (3, 6, 10):
        cases.append((f"x.(A A^T)^{k}x, lambda symbolic", marchenko_pastur(k), "x0", f"x{k}"))
    for depth in (3, 4, 5):
        cases.append((f"polynomial program, {depth} MatMuls", polynomial(depth), "x0", f"p{depth - 1}"))
    header = f"{'case':<40} {'new ms':>9} {'expand ms':>10} {'ratio':>9}  agree  value"
    print(header)
    print("-" * len(header))
    for name, program, a, b in cases:
        ms, value = timed(ours, program, a, b)
        out = run_bounded(timed, (baseline, program, a, b), args.timeout)
        shown = str(sympy.factor(value))[:28]
        if out.ok:
            base_ms, base_value = out.value
            agree = sympy.expand(base_value - value) == 0
            print(f"{name:<40} {ms:>9.1f} {base_ms:>10.1f} {base_ms / ms:>8.1f}x  {agree!s:<5}  {shown}")
        else:
            reason = f"> {args.timeout:g} s" if "budget" in out.reason else out.reason[:10]
            print(f"{name:<40} {ms:>9.1f} {reason:>10} {'-':>9}  {'-':<5}  {shown}")


if __name__ == "__main__":
    main()
