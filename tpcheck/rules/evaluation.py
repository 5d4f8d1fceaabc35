"""The ``eval`` rule: exact evaluation of both sides, instance by instance."""

from __future__ import annotations

import itertools

import sympy

from tpcheck.engines.equality import decide_equal, render_instance
from tpcheck.engines.heads import Expectation, narayana
from tpcheck.kernel import Context, Evidence, Goal, Judgement, Verdict, rule
from tpcheck.rules.common import range_args
from tpcheck.trusted import rests_on

MAX_INSTANCES = 5000


def _carry_out(e: sympy.Expr, randoms: set[sympy.Symbol]) -> sympy.Expr:
    """Finite sums and products carried out; closed-form summation where sympy has one; and
    E[c] = c for every c free of random objects."""
    e = e.replace(lambda x: isinstance(x, Expectation) and not x.args[0].free_symbols & randoms,
                  lambda x: x.args[0])
    if not e.has(sympy.Sum, sympy.Product, sympy.Integral, narayana):
        return e
    if e.has(sympy.Integral):
        rests_on("sympy-integrate")
    symbolic = [s for s in e.atoms(sympy.Sum, sympy.Product)
                if not all(lo.is_Integer and hi.is_Integer for _, lo, hi in s.limits)]
    rests_on("sympy-summation" if symbolic else "finite-evaluation")
    return e.doit(deep=True)


@rule("eval", human="evaluation", latex="by direct evaluation")
def evaluate_sides(goal: Goal, args: tuple, ctx: Context) -> Judgement:
    """Evaluate both sides exactly on every instance of a finite range, and compare.

    Ranges come from the rule's arguments (a binding ``k in 0..12``) or from the theorem's ranged
    parameters (``for k in 0..12``). For each instance both sides are substituted, finite sums
    and products carried out, the expectation of an expression free of random objects replaced
    by the expression (E[c] = c), and the results compared exactly (as ``algebra``, so symbols
    other than the ranged ones stay symbolic). With no range the sides are evaluated once,
    symbolically. Verdict: VERIFIED on the stated range (PROVED when no range was needed);
    REFUTED with the first instance that differs; UNDECIDED when no instance of the range meets
    the assumptions, or one cannot be decided to. Integrals and symbolic sums are carried out by
    sympy (``integrate``, ``Sum.doit``), and the step's ledger says so. At most 5000 instances.
    """
    free = goal.lhs.free_symbols | goal.rhs.free_symbols
    ranges = range_args(args)
    named = {r[0] for r in ranges}
    for p in ctx.parameters:
        if p.hi is not None and p.symbol in free and p.symbol not in named:
            ranges.append((p.symbol, p.lo, p.hi))
    size = 1
    for _, lo, hi in ranges:
        size *= hi - lo + 1
    if size > MAX_INSTANCES:
        return Judgement.undecided(
            f"eval: the range has {size} instances; eval checks at most {MAX_INSTANCES}"
        )
    space = ctx.space
    for sym, lo, _ in ranges:
        space = space.fix(sym, lo)  # the remaining symbols are compared symbolically
    symbols = [r[0] for r in ranges]
    checked = 0
    for values in itertools.product(*[range(lo, hi + 1) for _, lo, hi in ranges]):
        inst = {s: sympy.Integer(v) for s, v in zip(symbols, values, strict=True)}
        admitted = ctx.space.admits(inst)
        if admitted is None:
            return Judgement.undecided(
                f"eval: cannot decide whether {render_instance(inst)} meets the assumptions")
        if not admitted:
            continue
        lhs = _carry_out(goal.lhs.xreplace(inst), ctx.random_symbols)
        rhs = _carry_out(goal.rhs.xreplace(inst), ctx.random_symbols)
        d = decide_equal(lhs, rhs, space)
        checked += 1
        if d.status == "unequal" and not (lhs.has(Expectation) or rhs.has(Expectation)):
            cex = d.counterexample or {"instance": {}, "lhs": str(lhs), "rhs": str(rhs)}
            cex["instance"] = {**render_instance(inst), **cex["instance"]}
            return Judgement(Verdict.REFUTED, f"eval: the sides differ at {render_instance(inst)}",
                             counterexample=cex)
        if d.status != "equal":
            return Judgement.undecided(f"eval: at {render_instance(inst)}: {d.reason}")
    if not ranges:
        return Judgement(Verdict.PROVED, "eval: both sides evaluate to the same closed form",
                         evidence=[Evidence("symbolic", True, "evaluated once, symbolically")])
    rng = {str(s): [lo, hi] for s, lo, hi in ranges}
    if checked == 0:
        return Judgement.undecided(f"eval: no instance of {rng} meets the assumptions")
    return Judgement(
        Verdict.VERIFIED, f"eval: equal on all {checked} instances of {rng}", range=rng,
        evidence=[Evidence("exact-instances", True, f"{checked} instances, exact arithmetic",
                           {"instances": checked, "range": rng})],
    )
