"""Choosing the parameter instances a witness evaluates at."""

from __future__ import annotations

import random

import sympy

from tpcheck.expectations.forms import free_deterministic_symbols
from tpcheck.kernel import Context, Goal, Judgement, Verdict


def parse_exact(text: str) -> sympy.Rational | None:
    """An exact rational from a counterexample's rendering ("7", "-3/4"); None otherwise."""
    num, _, den = text.partition("/")
    try:
        return sympy.Rational(int(num), int(den) if den else 1)
    except ValueError:
        return None


def deterministic_symbols(goal: Goal, ctx: Context) -> list[sympy.Symbol]:
    return free_deterministic_symbols(goal.lhs, goal.rhs, ctx.laws, goal.limit_var)


def laws_admissible(ctx: Context, inst: dict[sympy.Symbol, sympy.Expr]) -> bool:
    """Whether every law of the theorem is a law at this instance (variances >= 0,
    covariance matrices positive semidefinite, probabilities in [0, 1], ...), decided in exact
    arithmetic (:meth:`tpcheck.engines.instances.InstanceSpace.laws_hold`)."""
    return ctx.space.laws_hold(inst)


def witness_instances(
    goal: Goal, ctx: Context, judgement: Judgement, crange: tuple | None,
    fixed: dict[sympy.Symbol, sympy.Expr], count: int, seed: int,
) -> list[dict[sympy.Symbol, sympy.Expr]]:
    """Instances for a witness: the counterexample of a REFUTED step, else a seeded sample
    inside the verified range (or the crosscheck range ``crange``) and the declared domains;
    the symbols in ``fixed`` keep their given values."""
    out = _witness_instances(goal, ctx, judgement, crange, fixed, count * 4, seed)
    admissible = [inst for inst in out if laws_admissible(ctx, inst)]
    if judgement.verdict is Verdict.REFUTED:
        return admissible[:1]
    return admissible if crange is not None else admissible[:count]


def _witness_instances(
    goal: Goal, ctx: Context, judgement: Judgement, crange: tuple | None,
    fixed: dict[sympy.Symbol, sympy.Expr], count: int, seed: int,
) -> list[dict[sympy.Symbol, sympy.Expr]]:
    symbols = [s for s in deterministic_symbols(goal, ctx) if s not in fixed]
    by_name = {s.name: s for s in symbols}
    if judgement.verdict is Verdict.REFUTED and judgement.counterexample:
        inst = {}
        for name, text in judgement.counterexample.get("instance", {}).items():
            v = parse_exact(text)
            if name in by_name and v is not None:
                inst[by_name[name]] = v
        if set(inst) == set(symbols):
            return [{**inst, **fixed}]
    space = ctx.space
    exhaustive: list[tuple[sympy.Symbol, int, int]] = []
    for var, (lo, hi) in (judgement.range or {}).items():
        if var in by_name:
            space = space.with_bounds(by_name[var], lo, hi)
    if crange is not None and crange[0] in symbols:
        exhaustive.append(crange)
    rng = random.Random(seed)
    if exhaustive:
        sym, lo, hi = exhaustive[0]
        rest = [s for s in symbols if s != sym]
        out = []
        for v in range(lo, hi + 1):
            base = space.sample(rest, 1, rng) if rest else [{}]
            if base:
                inst = {**base[0], sym: sympy.Integer(v), **fixed}
                if space.satisfies(inst):
                    out.append(inst)
        return out
    if not symbols:
        return [dict(fixed)] if space.satisfies(fixed) else []
    return [{**inst, **fixed} for inst in space.sample(symbols, count, rng)
            if space.satisfies({**inst, **fixed})]
