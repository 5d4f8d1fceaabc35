"""Linearity of expectation: the linear normal form of expressions containing E[.].

Each ``E[arg]`` is rewritten as sum_t c_t E[R_t] where ``arg = sum_t c_t R_t`` is the expanded
argument, c_t is free of random symbols and R_t is a product of powers of random symbols;
``E[c] = c`` for deterministic c. Two expressions with equal normal forms are equal whenever
the expectations involved exist (linearity of the Lebesgue integral).
"""

from __future__ import annotations

import sympy

from tpcheck.heads import Expectation


def split_random(term: sympy.Expr, randoms: set[sympy.Symbol]) -> tuple[sympy.Expr, sympy.Expr]:
    """(deterministic factor, random factor) of a product."""
    det, rnd = [], []
    for f in sympy.Mul.make_args(term):
        (rnd if f.free_symbols & randoms else det).append(f)
    return sympy.Mul(*det), sympy.Mul(*rnd)


def linear_normal_form(expr: sympy.Expr, randoms: set[sympy.Symbol]) -> sympy.Expr:
    """``expr`` with every expectation pushed through sums and deterministic factors."""

    def push(e: sympy.Basic) -> sympy.Basic:
        if isinstance(e, Expectation):
            inner = sympy.expand(push(e.args[0]), power_exp=False)
            total = sympy.Integer(0)
            for term in sympy.Add.make_args(inner):
                c, r = split_random(term, randoms)
                total += c if r == 1 else c * Expectation(sympy.powsimp(r, combine="exp"))
            return total
        if not e.args:
            return e
        return e.func(*[push(a) for a in e.args])

    return push(expr)
