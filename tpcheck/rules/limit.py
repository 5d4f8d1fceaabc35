"""The ``limit`` rule: exact limits as n -> oo, for every admissible parameter value."""

from __future__ import annotations

import random

import sympy

from tpcheck.engines.asymptotics import INFINITIES, LimitCase, limit_cases, restrict
from tpcheck.engines.equality import decide_equal, exact_value, plain_symbols, render_instance
from tpcheck.engines.instances import InstanceSpace
from tpcheck.kernel import Context, Evidence, Goal, Judgement, Verdict, rule
from tpcheck.trusted import rests_on

GRUNTZ = "Gruntz algorithm (sympy.limit)"


@rule("limit", relations=("->",), human="passing to the limit", latex="passing to the limit")
def limit(goal: Goal, args: tuple, ctx: Context) -> Judgement:
    """lim_{n -> oo} lhs = rhs for every admissible value of the parameters.

    Substituting n = t^(-q) turns lhs into P(t)/Q(t); the limit t -> 0+ is read off the
    lowest-order coefficients (a Puiseux expansion at infinity), and exp, log, powers and
    continuous functions of such parts by continuity (:mod:`tpcheck.engines.asymptotics`). Where a leading
    coefficient may vanish, the limit is taken in every case: the coefficient nonzero, and
    each parameter value (solved exactly over the declared domains and assumptions) where it
    vanishes. PROVED if every case gives rhs; REFUTED at an admissible parameter value where
    the limit is another; UNDECIDED naming a case that was not decided. Only an lhs with no
    parameter besides n falls back to sympy's Gruntz algorithm (Gruntz 1996), an exact
    algorithm for exp-log functions that would otherwise assume generic parameter values; the
    judgement says so. The rhs must not depend on n.
    """
    n = goal.limit_var
    if n is None or n in goal.rhs.free_symbols:
        return Judgement.undecided("limit: the limit value must not depend on the limit variable")
    cases = limit_cases(goal.lhs, n, ctx.space)
    only_n = not plain_symbols(goal.lhs) or plain_symbols(goal.lhs) == [n]
    if len(cases) == 1 and cases[0].result.value is None and not cases[0].unsolved and only_n \
            and cases[0].result.method != "undefined":
        return _by_gruntz(goal, ctx, cases[0].result.reason)
    undecided: list[str] = []
    for case in cases:
        outcome = _judge_case(case, goal, ctx)
        if isinstance(outcome, Judgement):
            return outcome
        if outcome is not None:
            undecided.append(outcome)
    if undecided:
        return Judgement.undecided("limit: " + "; ".join(undecided))
    method = cases[0].result.method
    if len(cases) == 1 and not cases[0].nonzero:
        value = cases[0].result.value
        return Judgement(Verdict.PROVED, f"limit: {method}: the limit is {value}",
                         evidence=[Evidence("symbolic", True, f"{method}; limit {value}")])
    by_case = "; ".join(c.summary() for c in cases)
    return Judgement(Verdict.PROVED, f"limit: {method}, in every parameter case: {by_case}",
                     evidence=[Evidence("symbolic", True, f"{method}; by cases: {by_case}")])


def _judge_case(case: LimitCase, goal: Goal, ctx: Context) -> Judgement | str | None:
    """None if the case's limit is the claimed value, a REFUTED judgement at an admissible
    instance of the case, else why the case was not decided."""
    value = case.result.value
    general = not (case.where or case.nonzero or case.unsolved)
    if value is None:
        return case.result.reason if general else f"where {case.describe()}: {case.result.reason}"
    claimed = goal.rhs.xreplace(case.where)
    where = "" if general else f" where {case.describe()}"
    if claimed.has(sympy.nan, sympy.zoo):
        return f"the claimed value is undefined{where}"
    if value in INFINITIES or claimed in INFINITIES:
        if value == claimed:
            return None
        why = f"the limit{where} is {value}, not {claimed}, but no admissible instance was found"
    else:
        d = decide_equal(value, claimed, restrict(ctx.space, case.where))
        if d.status == "equal":
            return None
        why = f"the limit{where} is {value}; comparing with {claimed}: {d.reason}"
    cex = _counterexample(value, claimed, case, ctx)
    if cex is None:
        return why
    return Judgement(Verdict.REFUTED, f"limit: the limit{where} is {value}, not {claimed}",
                     counterexample=cex)


def _counterexample(value: sympy.Expr, claimed: sympy.Expr, case: LimitCase,
                    ctx: Context) -> dict | None:
    """An exact instance inside the case (its coefficients nonzero, its substituted symbols
    inside their domains, the assumptions met) where the limit and the claimed value differ."""
    symbols = [s for s in plain_symbols(value, claimed, *case.nonzero, *case.where.values())
               if s not in case.where]
    space = restrict(ctx.space, case.where)
    instances = space.sample(symbols, 24, random.Random(0)) if symbols else [{}]
    instances.sort(key=lambda inst: sum(abs(v.p) + v.q for v in inst.values()))
    for inst in instances:
        if any(getattr(exact_value(c, inst), "is_zero", None) is not False for c in case.nonzero):
            continue  # not shown inside this case
        full = {**{s: v.xreplace(inst) for s, v in case.where.items()}, **inst}
        if not _instance_admissible(full, ctx.space):
            continue
        lv = value if value in INFINITIES else exact_value(value, inst)
        rv = claimed if claimed in INFINITIES else exact_value(claimed, inst)
        if lv is None or rv is None:
            continue
        differ = lv != rv if (lv in INFINITIES or rv in INFINITIES) else \
            decide_equal(lv, rv, InstanceSpace()).status == "unequal"
        if differ:
            return {"instance": render_instance(full), "limit": str(lv), "claimed": str(rv)}
    return None


def _instance_admissible(instance: dict[sympy.Symbol, sympy.Expr], space: InstanceSpace) -> bool:
    """Whether every value lies in its symbol's domain and bounds and the assumptions hold."""
    for s, v in instance.items():
        if v.free_symbols:
            return False
        for prop in ("integer", "real", "positive", "nonnegative", "negative", "nonpositive"):
            if getattr(s, f"is_{prop}") is True and getattr(v, f"is_{prop}") is not True:
                return False
        if s.is_integer:
            lo, hi = space.integer_range(s)
            if (lo is not None and v < lo) or (hi is not None and v > hi):
                return False
    return space.satisfies(instance)


def _by_gruntz(goal: Goal, ctx: Context, why: str) -> Judgement:
    """The Gruntz fallback, for an lhs whose only symbol is the limit variable."""
    try:
        rests_on("gruntz-limit")
        value = sympy.limit(goal.lhs, goal.limit_var, sympy.oo)
    except (NotImplementedError, ValueError, TypeError) as exc:
        return Judgement.undecided(f"limit: {why}; Gruntz failed: {exc}")
    if value.has(sympy.Limit) or value.has(sympy.AccumBounds) or value is sympy.nan:
        return Judgement.undecided(f"limit: {why}; Gruntz returned {value}")
    if value in INFINITIES or goal.rhs in INFINITIES:
        if value == goal.rhs:
            return Judgement(Verdict.PROVED, f"limit: {GRUNTZ}: the limit is {value}")
        return Judgement(Verdict.REFUTED, f"limit: the limit is {value}, not {goal.rhs}",
                         counterexample={"instance": {}, "lhs": str(value), "rhs": str(goal.rhs)})
    d = decide_equal(value, goal.rhs, ctx.space)
    if d.status == "equal":
        return Judgement(Verdict.PROVED, f"limit: {GRUNTZ}: the limit is {value}",
                         evidence=[Evidence("symbolic", True, f"{GRUNTZ}; limit {value}")])
    if d.status == "unequal":
        cex = d.counterexample or {"instance": {}}
        cex = {**cex, "limit": str(value), "claimed": str(goal.rhs)}
        return Judgement(Verdict.REFUTED, f"limit: the limit is {value}, not {goal.rhs}",
                         counterexample=cex)
    return Judgement.undecided(f"limit: the limit is {value}; comparing with {goal.rhs}: {d.reason}")
