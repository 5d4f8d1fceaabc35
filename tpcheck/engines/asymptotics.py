"""Exact limits as n -> oo, for every admissible value of the parameters.

For ``f`` built from the symbols, rational numbers and powers n^r (r rational) by +, *, / and
integer powers: substitute n = t^(-q) (q the common denominator of the exponents), reduce to
P(t)/Q(t) with polynomial P, Q in t over the other symbols, and read the limit t -> 0+ off the
lowest-order coefficients (Puiseux expansion at infinity).

A lowest coefficient may vanish for some parameter values, and there the limit is another one
(a n/(a n + 1) -> 1 for a != 0, but it is 0 at a = 0). So the limit is split into cases: the
coefficient nonzero (the generic limit) and each parameter value where it vanishes, found
exactly over the symbols' domains, substituted, and the limit taken again. Where the zeros of a
coefficient cannot be listed exactly the case is left undecided, never guessed.

Other expressions reduce to these by continuity: sums and products of limits (not oo - oo or
0 * oo), exp, log, continuous functions at a finite limit, g^c, and g^h with g -> 1, where
h log g = h (g - 1)(1 + O(g - 1)) -> lim h (g - 1) (theory facts §2).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from math import lcm

import sympy
from sympy.polys.polyerrors import BasePolynomialError

from tpcheck.engines.equality import vanishing_denominator
from tpcheck.engines.heads import Expectation
from tpcheck.engines.instances import InstanceSpace
from tpcheck.trusted import rests_on

MAX_CASE_DEPTH = 4  # nested vanishing coefficients followed
MAX_CASES = 16

INFINITIES = (sympy.oo, -sympy.oo)


@dataclass
class LimitResult:
    value: sympy.Expr | None
    method: str
    reason: str


@dataclass(frozen=True)
class LimitCase:
    """The limit on one part of the parameter space: where the substitution ``where`` holds
    (empty: no equation) and every expression of ``nonzero`` is nonzero."""

    where: dict[sympy.Symbol, sympy.Expr]
    nonzero: tuple[sympy.Expr, ...]
    result: LimitResult
    unsolved: tuple[sympy.Expr, ...] = field(default=())  # "where these vanish", not listed

    def describe(self) -> str:
        parts = [f"{s} = {v}" for s, v in sorted(self.where.items(), key=lambda kv: kv[0].name)]
        parts += [f"{c} != 0" for c in self.nonzero]
        parts += [f"{c} = 0" for c in self.unsolved]
        return ", ".join(parts) if parts else "every parameter value"

    def summary(self) -> str:
        """'a = 0: 0', or the case and why it was not decided."""
        v = self.result.value
        return f"{self.describe()}: {v if v is not None else self.result.reason}"


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


def _puiseux_form(expr: sympy.Expr, n: sympy.Symbol
                  ) -> tuple[sympy.Poly, sympy.Poly, int] | str:
    """(P, Q, q) with expr = P(t)/Q(t) at n = t^(-q), or why expr has no such form."""
    exps = _exponents(expr, n)
    if exps is None:
        return f"{n} occurs other than in powers with rational exponents"
    q = lcm(*[int(r.q) for r in exps]) if exps else 1
    t = sympy.Symbol("t", positive=True)
    num, den = sympy.fraction(sympy.cancel(sympy.together(expr.xreplace({n: t ** (-q)}))))
    try:
        return sympy.Poly(num, t), sympy.Poly(den, t), q
    except sympy.PolynomialError:
        return "not a rational function of the powers of n"


def _admissible(s: sympy.Symbol, value: sympy.Expr, space: InstanceSpace) -> bool:
    """False when ``value`` is provably outside the domain of ``s`` (its assumptions, its
    declared bounds, an assumption of the theorem that becomes false), else True."""
    for prop in ("integer", "rational", "real", "positive", "nonnegative", "negative",
                 "nonpositive", "nonzero"):
        if getattr(s, f"is_{prop}") is True and getattr(value, f"is_{prop}") is False:
            return False
    if s.is_integer and value.is_Integer:
        lo, hi = space.integer_range(s)
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            return False
    for lhs, op, rhs in space.assumptions:
        rel = {"=": sympy.Eq, "<=": sympy.Le, "<": sympy.Lt, ">=": sympy.Ge, ">": sympy.Gt}[op]
        try:
            if rel(lhs.xreplace({s: value}), rhs.xreplace({s: value})) is sympy.false:
                return False
        except TypeError:  # a non-real value in an inequality: not decided here
            continue
    return True


def vanishing_set(coeff: sympy.Expr, space: InstanceSpace) -> list[dict] | None:
    """Substitutions covering every admissible parameter value where ``coeff`` = 0, or None
    when they cannot be listed exactly.

    The numerator of ``coeff`` is factored over Q; each factor must be a polynomial in the
    symbols. A factor in one symbol gives its roots (exact: rationals or algebraic numbers,
    real ones only for a real symbol), kept where the symbol's domain allows them; a factor of
    degree 1 in some symbol s with a constant coefficient gives s = (the rest)/(-coefficient),
    which covers its whole zero set. Anything else (sin(a), a b - 1) is not listed.
    """
    num = sympy.fraction(sympy.cancel(sympy.together(coeff)))[0]
    if num.is_zero is False:
        return []
    try:
        _, factors = sympy.factor_list(num)
    except BasePolynomialError:
        return None
    cases: list[dict] = []
    for f, _ in factors:
        syms = sorted(f.free_symbols, key=lambda s: s.name)
        if not syms or not f.is_polynomial(*syms):
            return None
        solved = _solve_linear(f, syms)
        if solved is not None:
            cases += [solved] if _admissible(*next(iter(solved.items())), space) else []
            continue
        if len(syms) != 1:
            return None
        s = syms[0]
        try:
            poly = sympy.Poly(f, s, domain="QQ")
            roots = poly.real_roots() if s.is_real else poly.all_roots()
        except (BasePolynomialError, NotImplementedError):
            return None
        cases += [{s: r} for r in dict.fromkeys(roots) if _admissible(s, r, space)]
    return cases


def _solve_linear(f: sympy.Expr, syms: list[sympy.Symbol]) -> dict | None:
    """{s: value} when f is of degree 1 in a symbol s with a nonzero constant coefficient."""
    for s in syms:
        poly = sympy.Poly(f, s)
        lead = poly.LC()
        if poly.degree() == 1 and lead.is_number and lead != 0:
            return {s: sympy.expand(-(f - lead * s) / lead)}
    return None


def restrict(space: InstanceSpace, where: dict) -> InstanceSpace:
    """The space of the remaining symbols once ``where`` is substituted in the assumptions."""
    assumptions = tuple((a.xreplace(where), op, b.xreplace(where)) for a, op, b in space.assumptions)
    return replace(space, assumptions=assumptions)


def limit_cases(expr: sympy.Expr, n: sympy.Symbol, space: InstanceSpace | None = None,
                depth: int = 0) -> list[LimitCase]:
    """lim_{n -> oo} expr on each part of the parameter space, exactly.

    The generic case comes first, with the coefficients it needs nonzero; then one case per
    parameter value where one of them vanishes (recursively). A case whose ``result.value`` is
    None was not decided, and says why.
    """
    rests_on("puiseux-limit")
    space = space or InstanceSpace()
    if expr.has(Expectation):
        return [LimitCase({}, (), LimitResult(None, "none",
                                              "the expression still contains expectations"))]
    if n not in expr.free_symbols:
        return [LimitCase({}, (), LimitResult(expr, "constant",
                                              f"the expression does not depend on {n}"))]
    zero = vanishing_denominator(expr)
    if zero is not None:
        return [LimitCase({}, (), LimitResult(
            None, "undefined", f"the expression is undefined: it divides by {zero}, which is identically 0"))]
    form = _puiseux_form(expr, n)
    if isinstance(form, str):
        return [LimitCase({}, (), _by_continuity(expr, n, space, depth, form))]
    pn, pd, _ = form
    low_d, low_n = _lowest(pd), _lowest(pn)
    if low_d is None:
        return [LimitCase({}, (), LimitResult(None, "none", "the denominator vanishes identically"))]
    if low_n is None:
        return [LimitCase({}, (), LimitResult(sympy.Integer(0), "Puiseux",
                                              "the numerator vanishes identically"))]
    (i, a), (j, b) = low_n, low_d
    split = [] if b.is_zero is False else [b]
    if i > j:
        generic = LimitResult(sympy.Integer(0), "Puiseux",
                              f"numerator order {i} > denominator {j} in 1/n")
    elif i == j:
        generic = LimitResult(sympy.cancel(a / b), "Puiseux", "equal leading orders")
    else:
        if a.is_zero is not False:
            split.append(a)
        sign = sympy.sign(sympy.cancel(a / b))
        generic = (LimitResult(sign * sympy.oo, "Puiseux", "the numerator dominates")
                   if sign in (1, -1) else
                   LimitResult(None, "none", f"the sign of the divergent leading term {a/b} "
                                             "depends on the parameters"))
    cases = [LimitCase({}, tuple(split), generic)]
    for coeff in split:
        where_zero = vanishing_set(coeff, space)
        if where_zero is None or depth >= MAX_CASE_DEPTH:
            cases.append(LimitCase({}, (), LimitResult(
                None, "none", f"the leading coefficient {coeff} may vanish for some parameters, "
                              "and where it does cannot be listed exactly"), (coeff,)))
            continue
        for where in where_zero:
            reduced = expr.xreplace(where)
            if reduced.has(sympy.nan, sympy.zoo):
                continue  # the expression itself is undefined there: nothing to claim
            for inner in limit_cases(reduced, n, restrict(space, where), depth + 1):
                merged = {s: v.xreplace(inner.where) for s, v in where.items()} | inner.where
                cases.append(LimitCase(merged, inner.nonzero, inner.result, inner.unsolved))
    if len(cases) > MAX_CASES:
        return [LimitCase({}, (), LimitResult(None, "none",
                                              f"more than {MAX_CASES} parameter cases"))]
    return cases


def _uniform(cases: list[LimitCase]) -> LimitResult:
    """The limit when every case gives the generic value (else None, with the cases)."""
    generic = cases[0].result
    if len(cases) == 1 and not cases[0].nonzero and not cases[0].unsolved:
        return generic
    same = generic.value is not None and all(
        c.result.value is not None and not c.unsolved and (
            c.result.value == generic.value.xreplace(c.where)
            or sympy.cancel(c.result.value - generic.value.xreplace(c.where)) == 0)
        for c in cases[1:])
    if same:
        return LimitResult(generic.value, generic.method,
                           f"{generic.reason}; the same in every case: "
                           + "; ".join(c.describe() for c in cases))
    cases_text = "; ".join(c.summary() for c in cases)
    coeffs = ", ".join(str(c) for c in cases[0].nonzero)
    return LimitResult(None, "none",
                       f"the leading coefficient {coeffs} may vanish for some parameters "
                       f"(cases: {cases_text})" if coeffs else f"cases: {cases_text}")


def limit_at_infinity(expr: sympy.Expr, n: sympy.Symbol,
                      space: InstanceSpace | None = None) -> LimitResult:
    """lim_{n -> oo} expr when it is one expression valid for every admissible parameter value,
    or a reason why it was not decided (:func:`limit_cases` gives the cases)."""
    return _uniform(limit_cases(expr, n, space))


def _finite(v: sympy.Expr) -> bool:
    return not v.has(sympy.oo, -sympy.oo, sympy.zoo, sympy.nan)


# f(L) for a finite limit L; limits at +oo and -oo
CONTINUOUS = {
    sympy.sin: None, sympy.cos: None, sympy.sinh: None, sympy.cosh: None,
    sympy.atan: (sympy.pi / 2, -sympy.pi / 2), sympy.tanh: (1, -1), sympy.erf: (1, -1),
    sympy.exp: (sympy.oo, 0), sympy.Abs: (sympy.oo, sympy.oo),
}


def _by_continuity(expr: sympy.Expr, n: sympy.Symbol, space: InstanceSpace, depth: int,
                   why: str) -> LimitResult:
    """The limit of a sum, product, power or continuous function of parts whose limits are the
    same for every parameter value (each part by :func:`limit_cases`)."""
    method = "Puiseux expansion and continuity"

    def part(e: sympy.Expr) -> sympy.Expr | None:
        return _uniform(limit_cases(e, n, space, depth)).value

    def undecided(reason: str) -> LimitResult:
        return LimitResult(None, "none", f"{why}; {reason}")

    if expr.is_Add or expr.is_Mul:
        values = [part(a) for a in expr.args]
        if any(v is None for v in values):
            return undecided("a term's limit is not decided for every parameter value")
        infinite = [v for v in values if v in INFINITIES]
        if not infinite:
            return LimitResult(sympy.Add(*values) if expr.is_Add else sympy.Mul(*values),
                               method, "limits of the terms")
        if any(not _finite(v) for v in values if v not in INFINITIES):
            return undecided("a part's limit is not finite")
        if expr.is_Add:
            if len(set(infinite)) == 1:
                return LimitResult(infinite[0], method, "the infinite terms agree in sign")
            return undecided("oo - oo")
        sign = 1
        for v in values:
            s = 1 if (v == sympy.oo or v.is_positive) else -1 if (v == -sympy.oo or v.is_negative) \
                else None
            if s is None:
                return undecided(f"0 * oo or an undetermined sign ({v})")
            sign *= s
        return LimitResult(sign * sympy.oo, method, "a product with an infinite factor")
    if expr.is_Pow:
        base, exponent = expr.args
        lb = part(base)
        if lb is None:
            return undecided(f"the limit of the base {base} is not decided")
        if n not in exponent.free_symbols:
            if _finite(lb) and (lb.is_positive or (exponent.is_integer and (
                    exponent.is_nonnegative or lb.is_zero is False))):
                return LimitResult(lb**exponent, method, "continuity of a power")
            if lb == sympy.oo and exponent.is_positive:
                return LimitResult(sympy.oo, method, "a positive power of oo")
            if lb == sympy.oo and exponent.is_negative:
                return LimitResult(sympy.Integer(0), method, "a negative power of oo")
            return undecided(f"the power {lb}^{exponent}")
        if lb == 1:
            # g^h = exp(h log g) and h log g = h (g - 1)(1 + O(g - 1)) as g -> 1
            m = part(sympy.expand(exponent * (base - 1)))
            if m is None:
                return undecided(f"the limit of {exponent * (base - 1)} is not decided")
            value = sympy.exp(m) if _finite(m) else sympy.oo if m == sympy.oo else \
                sympy.Integer(0) if m == -sympy.oo else None
            if value is None:
                return undecided(f"the limit {m} of h (g - 1)")
            return LimitResult(value, method, "g^h -> exp(lim h (g - 1)) as g -> 1")
        le = part(exponent)
        if le is None or not (_finite(lb) and lb.is_positive):
            return undecided(f"the power {lb}^{le}")
        if _finite(le):
            return LimitResult(lb**le, method, "continuity of a power")
        grows = (lb - 1).is_positive if le == sympy.oo else (lb - 1).is_negative
        shrinks = (lb - 1).is_negative if le == sympy.oo else (lb - 1).is_positive
        if grows:
            return LimitResult(sympy.oo, method, "a power growing without bound")
        if shrinks:
            return LimitResult(sympy.Integer(0), method, "a power tending to 0")
        return undecided(f"the power {lb}^{le}")
    if expr.func is sympy.log:
        inner = part(expr.args[0])
        if inner == sympy.oo:
            return LimitResult(sympy.oo, method, "log of oo")
        if inner is not None and _finite(inner) and inner.is_positive:
            return LimitResult(sympy.log(inner), method, "continuity of log")
        return undecided(f"log at the limit {inner}")
    if expr.func in CONTINUOUS and len(expr.args) == 1:
        inner = part(expr.args[0])
        at_infinity = CONTINUOUS[expr.func]
        if inner is not None and _finite(inner):
            return LimitResult(expr.func(inner), method, f"continuity of {expr.func}")
        if inner in INFINITIES and at_infinity is not None:
            return LimitResult(sympy.sympify(at_infinity[0 if inner == sympy.oo else 1]), method,
                               f"{expr.func} at {inner}")
        return undecided(f"{expr.func} at the limit {inner}")
    return undecided(f"{n} occurs inside {expr.func}")


def asymptotic_order(expr: sympy.Expr, n: sympy.Symbol) -> tuple[sympy.Expr, sympy.Rational] | None:
    """(c, e) with expr ~ c n^e as n -> oo, for the expressions :func:`limit_at_infinity`
    handles: None if the form is not covered or the leading coefficient c may vanish for some
    parameter values (then the order there is another one)."""
    if n not in expr.free_symbols:
        return (expr, sympy.Integer(0)) if expr.is_zero is False else None
    if vanishing_denominator(expr) is not None:
        return None
    form = _puiseux_form(expr, n)
    if isinstance(form, str):
        return None
    pn, pd, q = form
    low_n, low_d = _lowest(pn), _lowest(pd)
    if low_n is None or low_d is None:
        return None
    (i, a), (j, b) = low_n, low_d
    if a.is_zero is not False or b.is_zero is not False:
        return None
    return sympy.cancel(a / b), sympy.Rational(-(i - j), q)

