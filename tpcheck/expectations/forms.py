"""Linearity of expectation: the linear normal form of expressions containing E[.].

Each ``E[arg]`` is rewritten as sum_t c_t E[R_t] where ``arg = sum_t c_t R_t`` is the expanded
argument, c_t is free of random symbols and R_t is a product of powers of random symbols;
``E[c] = c`` for deterministic c. Two expressions with equal normal forms are equal whenever
the expectations involved exist (linearity of the Lebesgue integral).
"""

from __future__ import annotations

import sympy

from tpcheck.engines.equality import plain_symbols
from tpcheck.engines.heads import Expectation


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


def expectation_form(expr: sympy.Expr) -> sympy.Expr:
    """Var[Y] -> E[Y^2] - E[Y]^2 and P[event] -> E[1{event}] everywhere (for the witnesses)."""
    from tpcheck.engines.heads import Probability, Variance

    expr = expr.replace(lambda e: isinstance(e, Variance),
                        lambda e: Expectation(e.args[0] ** 2) - Expectation(e.args[0]) ** 2)
    return expr.replace(
        lambda e: isinstance(e, Probability),
        lambda e: Expectation(sympy.Piecewise((1, e.args[0]), (0, True))))


def monomial_exponents(r: sympy.Expr, variables: list[sympy.Basic]) -> list[int] | None:
    """Exponents of ``r`` as a monomial in ``variables`` (concrete non-negative integers)."""
    exps = {v: 0 for v in variables}
    for f in sympy.Mul.make_args(r):
        base, e = (f.base, f.exp) if f.is_Pow else (f, sympy.Integer(1))
        if base not in exps or not e.is_Integer or e < 0:
            return None
        exps[base] += int(e)
    return [exps[v] for v in variables]


def random_atoms(expr: sympy.Expr, laws: dict) -> list[sympy.Basic]:
    """The random variables occurring in ``expr``: declared random symbols and members X[i]
    of iid families, in a deterministic order."""
    from tpcheck.engines.laws import IIDFamily

    out: set[sympy.Basic] = set()
    for s in expr.free_symbols:
        if s in laws and not isinstance(laws[s], IIDFamily):
            out.add(s)
    for idx in expr.atoms(sympy.Indexed):
        if idx.base.label in laws:
            out.add(idx)
    return sorted(out, key=str)


def independence_class(v: sympy.Basic, laws: dict) -> tuple | None:
    """A key such that random variables with different keys are independent; None if the
    variable's class cannot be determined (a family member with a symbolic index)."""
    from tpcheck.engines.laws import GaussianComponent

    if isinstance(v, sympy.Indexed):
        (i,) = v.indices
        return ("member", v.base.label, i) if i.is_Integer else None
    law = laws[v]
    if isinstance(law, GaussianComponent):
        return ("vector", law.vector)
    return ("symbol", v)


_BOUNDED = (sympy.sin, sympy.cos, sympy.tanh, sympy.erf, sympy.Heaviside, sympy.sign,
            sympy.atan)


def polynomially_bounded(expr: sympy.Expr, randoms: set[sympy.Basic]) -> bool:
    """Whether ``expr`` is built from the random variables by +, *, non-negative integer
    powers, |.|, relu and functions bounded by polynomials (sin, cos, tanh, erf, step,
    arctan), and exp of an affine function (all integrable against Gaussian tails)."""
    from tpcheck.engines.heads import relu

    if not (expr.free_symbols & randoms or expr.atoms(sympy.Indexed) & randoms):
        return True
    if expr.is_Symbol or isinstance(expr, sympy.Indexed):
        return True
    if expr.is_Add or expr.is_Mul:
        return all(polynomially_bounded(a, randoms) for a in expr.args)
    if expr.is_Pow:
        e = expr.exp
        if e.free_symbols & randoms:
            return False
        return bool(e.is_integer and e.is_nonnegative) and polynomially_bounded(expr.base, randoms)
    if isinstance(expr, _BOUNDED) or isinstance(expr, sympy.Abs | relu):
        return all(polynomially_bounded(a, randoms) for a in expr.args)
    if isinstance(expr, sympy.exp):
        arg = expr.args[0]
        vs = [v for v in randoms if arg.has(v)]
        try:
            degree = sympy.Poly(arg, *vs).total_degree() if vs else 0
        except sympy.PolynomialError:
            return False
        return degree <= 1 or (degree == 2 and _bounded_above_quadratic(arg, vs))
    return False


def _bounded_above_quadratic(p: sympy.Expr, vs: list[sympy.Basic]) -> bool:
    """Whether a quadratic polynomial p(z) = z^T H z / 2 + b^T z + c is bounded above on R^d:
    exactly when H is negative semidefinite and b lies in the range of H (then exp(p) is
    bounded, as erf'(u) = 2 exp(-u^2)/sqrt(pi) is)."""
    h = sympy.hessian(p, vs)
    b = sympy.Matrix([sympy.diff(p, v).subs({w: 0 for w in vs}) for v in vs])
    if (-h).is_positive_semidefinite is not True:
        return False
    return h.rank() == h.row_join(b).rank()


def free_deterministic_symbols(lhs: sympy.Expr, rhs: sympy.Expr, laws: dict,
                               limit_var: sympy.Symbol | None = None) -> list[sympy.Symbol]:
    """The deterministic symbols a step's value depends on (those of the sides and of the
    laws of the random symbols in them; not the limit variable), sorted by name."""
    free = set(plain_symbols(lhs, rhs)) | ((lhs.free_symbols | rhs.free_symbols) & set(laws))
    for law in {id(laws[s]): laws[s] for s in free if s in laws}.values():
        for p in law.parameters:
            free |= set(plain_symbols(p))
    free -= set(laws)
    if limit_var is not None:
        free.discard(limit_var)
    return sorted(free, key=lambda s: s.name)
