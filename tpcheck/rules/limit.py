"""The ``limit`` rule: exact limits as n -> oo."""

from __future__ import annotations

import sympy

from tpcheck.equality import decide_equal
from tpcheck.kernel import Context, Evidence, Goal, Judgement, Verdict, rule
from tpcheck.limits import limit_at_infinity


@rule("limit", relations=("->",), human="passing to the limit", latex="passing to the limit")
def limit(goal: Goal, args: tuple, ctx: Context) -> Judgement:
    """lim_{n -> oo} lhs = rhs for algebraic expressions in powers of n.

    Substituting n = t^(-q) turns lhs into P(t)/Q(t); the limit t -> 0+ is read off the
    lowest-order coefficients (a Puiseux expansion at infinity), refusing to guess when a
    leading coefficient might vanish for some parameter values. Other expressions fall back to
    sympy's Gruntz algorithm (Gruntz 1996), an exact algorithm for exp-log functions, and the
    judgement says so. The rhs must not depend on n.
    """
    n = goal.limit_var
    if n is None or n in goal.rhs.free_symbols:
        return Judgement.undecided("limit: the limit value must not depend on the limit variable")
    res = limit_at_infinity(goal.lhs, n)
    method = res.method
    value = res.value
    if value is None:
        try:
            value = sympy.limit(goal.lhs, n, sympy.oo)
            method = "Gruntz algorithm (sympy.limit)"
        except (NotImplementedError, ValueError, TypeError) as exc:
            return Judgement.undecided(f"limit: {res.reason}; Gruntz failed: {exc}")
        if value.has(sympy.Limit) or value.has(sympy.AccumBounds) or value is sympy.nan:
            return Judgement.undecided(f"limit: {res.reason}; Gruntz returned {value}")
    if value in (sympy.oo, -sympy.oo) or goal.rhs in (sympy.oo, -sympy.oo):
        if value == goal.rhs:
            return Judgement(Verdict.PROVED, f"limit: {method}: the limit is {value}")
        return Judgement(Verdict.REFUTED, f"limit: the limit is {value}, not {goal.rhs}",
                         counterexample={"instance": {}, "lhs": str(value), "rhs": str(goal.rhs)})
    d = decide_equal(value, goal.rhs, ctx.space)
    if d.status == "equal":
        return Judgement(Verdict.PROVED, f"limit: {method}: the limit is {value}",
                         evidence=[Evidence("symbolic", True, f"{method}; limit {value}")])
    if d.status == "unequal":
        cex = d.counterexample or {"instance": {}}
        cex = {**cex, "limit": str(value), "claimed": str(goal.rhs)}
        return Judgement(Verdict.REFUTED, f"limit: the limit is {value}, not {goal.rhs}",
                         counterexample=cex)
    return Judgement.undecided(f"limit: the limit is {value}; comparing with {goal.rhs}: {d.reason}")
