"""Exact limits as n -> oo of algebraic expressions in powers of n.

For ``f`` built from the symbols, rational numbers and powers n^r (r rational) by +, *, / and
integer powers: substitute n = t^(-q) (q the common denominator of the exponents), reduce to
P(t)/Q(t) with polynomial P, Q in t over the other symbols, and read the limit t -> 0+ off the
lowest-order coefficients (Puiseux expansion at infinity). A lowest coefficient that might
vanish for some parameter values makes the limit undecided rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import lcm

import sympy

from tpcheck.heads import Expectation


@dataclass
class LimitResult:
    value: sympy.Expr | None
    method: str
    reason: str


def _exponents(expr: sympy.Expr, n: sympy.Symbol) -> list[sympy.Rational] | None:
    """Exponents r of every occurrence n^r, or None if n occurs some other way."""
    found: list[sympy.Rational] = []

    def walk(e: sympy.Basic) -> bool:
        if e == n:
            found.append(sympy.Integer(1))
            return True
        if e.is_Pow and e.base == n:
            if not e.exp.is_Rational:
                return False
            found.append(e.exp)
            return True
        if n not in e.free_symbols:
            return True
        if e.is_Add or e.is_Mul or (e.is_Pow and e.exp.is_Rational):
            return all(walk(a) for a in e.args)
        return False

    return found if walk(expr) else None


def _lowest(poly: sympy.Poly) -> tuple[int, sympy.Expr] | None:
    """(degree, coefficient) of the lowest-order term whose coefficient is not identically 0."""
    terms = sorted(poly.terms(), key=lambda tc: tc[0][0])
    for (deg,), coeff in terms:
        c = sympy.cancel(coeff)
        if c != 0:
            return deg, c
    return None


def limit_at_infinity(expr: sympy.Expr, n: sympy.Symbol) -> LimitResult:
    """lim_{n -> oo} expr, exactly, or a reason why it was not decided."""
    if expr.has(Expectation):
        return LimitResult(None, "none", "the expression still contains expectations")
    if n not in expr.free_symbols:
        return LimitResult(expr, "constant", f"the expression does not depend on {n}")
    exps = _exponents(expr, n)
    if exps is None:
        return LimitResult(None, "none", f"{n} occurs other than in powers with rational exponents")
    q = lcm(*[int(r.q) for r in exps]) if exps else 1
    t = sympy.Symbol("t", positive=True)
    in_t = sympy.cancel(sympy.together(expr.xreplace({n: t ** (-q)})))
    num, den = sympy.fraction(in_t)
    try:
        pn, pd = sympy.Poly(num, t), sympy.Poly(den, t)
    except sympy.PolynomialError:
        return LimitResult(None, "none", "not a rational function of the powers of n")
    low_d = _lowest(pd)
    low_n = _lowest(pn)
    if low_d is None:
        return LimitResult(None, "none", "the denominator vanishes identically")
    if low_n is None:
        return LimitResult(sympy.Integer(0), "Puiseux", "the numerator vanishes identically")
    (i, a), (j, b) = low_n, low_d
    if b.is_zero is not False:
        return LimitResult(None, "none", f"the leading coefficient {b} of the denominator may vanish")
    if i > j:
        return LimitResult(sympy.Integer(0), "Puiseux", f"numerator order {i} > denominator {j} in 1/n")
    if i == j:
        return LimitResult(sympy.cancel(a / b), "Puiseux", "equal leading orders")
    if a.is_zero is not False:
        return LimitResult(None, "none", f"the leading coefficient {a} may vanish for some parameters")
    sign = sympy.sign(a / b)
    if sign in (1, -1):
        return LimitResult(sign * sympy.oo, "Puiseux", "the numerator dominates")
    return LimitResult(None, "none", "the sign of the divergent leading term is not determined")


def asymptotic_order(expr: sympy.Expr, n: sympy.Symbol) -> tuple[sympy.Expr, sympy.Rational] | None:
    """(c, e) with expr ~ c n^e as n -> oo, for the expressions :func:`limit_at_infinity`
    handles (None if the leading coefficient may vanish or the form is not covered)."""
    if n not in expr.free_symbols:
        return (expr, sympy.Integer(0)) if expr != 0 else None
    exps = _exponents(expr, n)
    if exps is None:
        return None
    q = lcm(*[int(r.q) for r in exps]) if exps else 1
    t = sympy.Symbol("t", positive=True)
    num, den = sympy.fraction(sympy.cancel(sympy.together(expr.xreplace({n: t ** (-q)}))))
    try:
        low_n, low_d = _lowest(sympy.Poly(num, t)), _lowest(sympy.Poly(den, t))
    except sympy.PolynomialError:
        return None
    if low_n is None or low_d is None:
        return None
    (i, a), (j, b) = low_n, low_d
    if a.is_zero is not False or b.is_zero is not False:
        return None
    return sympy.cancel(a / b), sympy.Rational(-(i - j), q)
