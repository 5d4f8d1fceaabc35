"""Hypergeometric term ratios: f(k+1) = r(k) f(k) with r rational in k.

For products of powers c^(a k + b), factorials, gamma functions, binomials, Catalan numbers,
double factorials and falling factorials of integer-linear arguments, and polynomials in k,
:func:`term_ratio` returns the rational function r together with the conditions under which
the recurrence holds for every integer k in a range. Two such terms with the same r that agree
at the start of the range agree on all of it (induction on k); see Petkovsek, Wilf and
Zeilberger, *A = B* (1996), ch. 5.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy


@dataclass(frozen=True)
class LinearCondition:
    """``a*k + b >= bound`` (``> bound`` when strict) for every integer k of the range."""

    a: sympy.Expr
    b: sympy.Expr
    bound: int
    strict: bool = False

    def holds(self, lo: int, hi: int | None) -> bool:
        if self.a.is_nonnegative:
            value = self.a * lo + self.b - self.bound
        elif hi is not None and self.a.is_negative:
            value = self.a * hi + self.b - self.bound
        else:
            return False
        return bool(value.is_positive if self.strict else value.is_nonnegative)


@dataclass(frozen=True)
class NonvanishingPolynomial:
    """The polynomial ``p(k)`` has no integer root in the range."""

    poly: sympy.Poly

    def holds(self, lo: int, hi: int | None) -> bool:
        if not self.poly.domain.is_QQ and not self.poly.domain.is_ZZ:
            return False
        for root in self.poly.ground_roots():
            if root.is_Integer and root >= lo and (hi is None or root <= hi):
                return False
        return True


Condition = LinearCondition | NonvanishingPolynomial


@dataclass(frozen=True)
class TermRatio:
    ratio: sympy.Expr
    conditions: tuple[Condition, ...]

    def valid_on(self, lo: int, hi: int | None) -> bool:
        return all(c.holds(lo, hi) for c in self.conditions)


def _linear(arg: sympy.Expr, k: sympy.Symbol) -> tuple[sympy.Expr, sympy.Expr] | None:
    """(a, b) with arg = a*k + b, a and b free of k and integer; else None."""
    try:
        poly = sympy.Poly(arg, k)
    except sympy.PolynomialError:
        return None
    if poly.degree() > 1:
        return None
    a = poly.coeff_monomial(k) if poly.degree() == 1 else sympy.Integer(0)
    b = poly.coeff_monomial(1)
    if a.free_symbols & {k} or b.free_symbols & {k}:
        return None
    if not (a.is_Integer and b.is_integer):
        return None
    return a, b


def _product(terms: list[sympy.Expr]) -> sympy.Expr:
    return sympy.Mul(*terms) if terms else sympy.Integer(1)


def term_ratio(f: sympy.Expr, k: sympy.Symbol) -> TermRatio | None:  # noqa: C901
    """r(k) = f(k+1)/f(k) for a hypergeometric product ``f``, with its validity conditions."""
    if k not in f.free_symbols:
        return TermRatio(sympy.Integer(1), ())
    if f.is_Mul:
        ratios, conds = [], []
        for factor in f.args:
            tr = term_ratio(factor, k)
            if tr is None:
                return None
            ratios.append(tr.ratio)
            conds.extend(tr.conditions)
        return TermRatio(_product(ratios), tuple(conds))
    if f.is_Pow:
        base, exp = f.args
        if k not in base.free_symbols:
            lin = _linear(exp, k)
            if lin is None or base.is_zero is not False:
                return None
            return TermRatio(base ** lin[0], ())
        if exp.is_Integer:
            tr = term_ratio(base, k)
            if tr is None:
                return None
            return TermRatio(tr.ratio**exp, tr.conditions)
        return None
    if isinstance(f, sympy.factorial):
        lin = _linear(f.args[0], k)
        if lin is None or not lin[0].is_nonnegative:
            return None
        a, b = lin
        ratio = _product([a * k + b + j for j in range(1, int(a) + 1)])
        return TermRatio(ratio, (LinearCondition(a, b, 0),))
    if isinstance(f, sympy.gamma):
        try:
            poly = sympy.Poly(f.args[0], k)
        except sympy.PolynomialError:
            return None
        if poly.degree() != 1:
            return None
        a, b = poly.coeff_monomial(k), poly.coeff_monomial(1)
        if not (a.is_Integer and a > 0 and b.is_rational):
            return None
        ratio = _product([a * k + b + j for j in range(int(a))])
        # gamma(x + 1) = x gamma(x) holds wherever gamma has no pole, i.e. for x > 0 here.
        return TermRatio(ratio, (LinearCondition(a, b, 0, strict=True),))
    if isinstance(f, sympy.binomial):
        p, q = f.args
        lp, lq = _linear(p, k), _linear(q, k)
        if lp is None or lq is None:
            return None
        rewritten = sympy.factorial(p) / (sympy.factorial(q) * sympy.factorial(p - q))
        tr = term_ratio(rewritten, k)
        if tr is None:
            return None
        return tr
    if isinstance(f, sympy.catalan):
        m = f.args[0]
        if _linear(m, k) is None:
            return None
        return term_ratio(sympy.binomial(2 * m, m) / (m + 1), k)
    if isinstance(f, sympy.factorial2):
        lin = _linear(f.args[0], k)
        if lin is None:
            return None
        a, b = lin
        if a % 2 != 0:
            return None
        x = f.args[0]
        if (b % 2) == 1:
            half = (x + 1) / 2
            tr = term_ratio(sympy.factorial(x + 1) / (2**half * sympy.factorial(half)), k)
            extra = LinearCondition(a, b, -1)
        else:
            half = x / 2
            tr = term_ratio(2**half * sympy.factorial(half), k)
            extra = LinearCondition(a, b, 0)
        if tr is None:
            return None
        return TermRatio(tr.ratio, (*tr.conditions, extra))
    if isinstance(f, sympy.FallingFactorial):
        x, j = f.args
        if _linear(x, k) is None or _linear(j, k) is None:
            return None
        return term_ratio(sympy.factorial(x) / sympy.factorial(x - j), k)
    if f.is_polynomial(k):
        poly = sympy.Poly(f, k)
        if poly.free_symbols_in_domain:
            return None
        return TermRatio(sympy.cancel(f.subs(k, k + 1) / f), (NonvanishingPolynomial(poly),))
    return None
