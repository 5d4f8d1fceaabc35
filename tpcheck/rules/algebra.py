"""Rules of exact algebra: ``algebra`` and ``definition(name)``."""

from __future__ import annotations

from collections.abc import Callable

import sympy

from tpcheck.engines.heads import narayana
from tpcheck.kernel import Context, Goal, Judgement, rule
from tpcheck.rules.common import judge_equal


@rule("algebra", human="algebra", latex="by algebra")
def algebra(goal: Goal, args: tuple, ctx: Context) -> Judgement:
    """Exact equality of closed forms.

    Accepts ``lhs = rhs`` when lhs - rhs reduces to 0 as a fraction over Q in its generators
    (expand, together, cancel), or, for hypergeometric terms in an integer parameter k with a
    lower bound, when both sides satisfy the same recurrence f(k+1) = r(k) f(k) on the whole
    range and agree at its start (induction; Petkovsek-Wilf-Zeilberger, A = B, ch. 5).
    A drawn exact instance where the sides differ refutes the step. ``simplify`` is never
    consulted. Expectations are opaque atoms here: use linearity for E.
    """
    return judge_equal("algebra", goal.lhs, goal.rhs, ctx.space)


def _catalan(m: sympy.Expr) -> sympy.Expr:
    return sympy.binomial(2 * m, m) / (m + 1)


def _binomial(a: sympy.Expr, b: sympy.Expr) -> sympy.Expr:
    return sympy.factorial(a) / (sympy.factorial(b) * sympy.factorial(a - b))


def _factorial2(x: sympy.Expr) -> sympy.Expr | None:
    if ((x + 1) / 2).is_integer and (x + 1).is_nonnegative:
        h = (x + 1) / 2
        return sympy.factorial(2 * h) / (2**h * sympy.factorial(h))
    if (x / 2).is_integer and x.is_nonnegative:
        return 2 ** (x / 2) * sympy.factorial(x / 2)
    return None


def _narayana(k: sympy.Expr, j: sympy.Expr) -> sympy.Expr:
    return sympy.binomial(k, j) * sympy.binomial(k, j - 1) / k


# name -> (head, unfolding, condition on the arguments, statement of the definition)
DEFINITIONS: dict[str, tuple[type, Callable[..., sympy.Expr | None], Callable[..., bool], str]] = {
    "catalan": (sympy.catalan, _catalan, lambda m: bool(m.is_integer and m.is_nonnegative),
                "catalan(m) = binomial(2m, m)/(m + 1), m >= 0"),
    "binomial": (sympy.binomial, _binomial,
                 lambda a, b: bool(a.is_integer and b.is_integer and b.is_nonnegative
                                   and (a - b).is_nonnegative),
                 "binomial(a, b) = a!/(b! (a - b)!), 0 <= b <= a integers"),
    "doublefactorial": (sympy.factorial2, _factorial2, lambda x: True,
                        "(2h - 1)!! = (2h)!/(2^h h!), (2h)!! = 2^h h!, h >= 0"),
    "factorial": (sympy.factorial, lambda x: sympy.gamma(x + 1),
                  lambda x: bool(x.is_integer and x.is_nonnegative), "x! = gamma(x + 1)"),
    "ff": (sympy.FallingFactorial, lambda x, j: sympy.factorial(x) / sympy.factorial(x - j),
           lambda x, j: bool(x.is_integer and j.is_integer and j.is_nonnegative
                             and (x - j).is_nonnegative),
           "(x)_j = x!/(x - j)!, 0 <= j <= x integers"),
    "narayana": (narayana, _narayana, lambda k, j: bool(k.is_integer and k.is_positive),
                 "N(k, j) = binomial(k, j) binomial(k, j - 1)/k"),
}


def unfold(expr: sympy.Expr, name: str) -> tuple[sympy.Expr, list[str]]:
    """``expr`` with every occurrence of the named head replaced by its definition."""
    head, body, condition, _ = DEFINITIONS[name]
    problems: list[str] = []

    def replace(e: sympy.Basic) -> sympy.Basic:
        if not e.args:
            return e
        e = e.func(*[replace(a) for a in e.args])
        if isinstance(e, head):
            if not condition(*e.args):
                problems.append(f"cannot show the conditions of the definition for {e}")
                return e
            out = body(*e.args)
            if out is None:
                problems.append(f"the parity of the argument of {e} is not determined")
                return e
            return out
        return e

    return replace(expr), problems


@rule("definition", human="definition", latex="by definition")
def definition(goal: Goal, args: tuple, ctx: Context) -> Judgement:
    """Unfold a named definition on both sides, then compare exactly (as ``algebra``).

    Definitions: catalan(m) = binomial(2m, m)/(m+1); binomial(a, b) = a!/(b!(a-b)!);
    doublefactorial: (2h-1)!! = (2h)!/(2^h h!) and (2h)!! = 2^h h!; factorial: x! = gamma(x+1);
    ff: (x)_j = x!/(x-j)!; narayana: N(k, j) = binomial(k, j) binomial(k, j-1)/k. Each is
    applied only where its side conditions (integrality, signs, parity) follow from the
    declared domains (Graham-Knuth-Patashnik, Concrete Mathematics, ch. 5). The name of a
    ``let`` definition is also accepted: those are expanded when the file is read.
    """
    if len(args) != 1 or not isinstance(args[0], str):
        return Judgement.undecided("definition: name one definition, e.g. definition(catalan)")
    name = args[0]
    if name in ctx.settings.definitions:
        return judge_equal(f"definition({name})", goal.lhs, goal.rhs, ctx.space)
    if name not in DEFINITIONS:
        return Judgement.undecided(
            f"definition: unknown definition '{name}' (known: {', '.join(sorted(DEFINITIONS))})"
        )
    lhs, p1 = unfold(goal.lhs, name)
    rhs, p2 = unfold(goal.rhs, name)
    if p1 or p2:
        return Judgement.undecided(f"definition({name}): {(p1 + p2)[0]}")
    return judge_equal(f"definition({name})", lhs, rhs, ctx.space)
