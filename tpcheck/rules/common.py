"""Shared pieces of rule verifiers: turning an exact decision into a judgement."""

from __future__ import annotations

import sympy

from tpcheck.equality import Decision, decide_equal
from tpcheck.instances import InstanceSpace
from tpcheck.kernel import Evidence, Judgement, Verdict


def judge_equal(
    rule: str, lhs: sympy.Expr, rhs: sympy.Expr, space: InstanceSpace, refutable: bool = True
) -> Judgement:
    """PROVED, REFUTED (only if ``refutable``) or UNDECIDED from :func:`decide_equal`."""
    d: Decision = decide_equal(lhs, rhs, space)
    if d.status == "equal":
        return Judgement(Verdict.PROVED, f"{rule}: {d.reason}",
                         evidence=[Evidence("symbolic", True, f"{d.method}: {d.reason}")])
    if d.status == "unequal" and refutable:
        return Judgement(Verdict.REFUTED, f"{rule}: {d.reason}", counterexample=d.counterexample,
                         evidence=[Evidence("exact-instances", True, d.reason,
                                            {"instances": d.instances_tried})])
    return Judgement.undecided(f"{rule}: {d.reason}")


def evaluate_expectations(side: sympy.Expr, ctx, value) -> sympy.Expr:  # noqa: ANN001
    """``side`` in linear normal form, with every E[.] that ``value(atom, ctx)`` can value
    (a result other than None) replaced by that value."""
    from tpcheck.expectation import linear_normal_form
    from tpcheck.heads import Expectation

    nf = linear_normal_form(side, ctx.random_symbols)
    table = {}
    for atom in nf.atoms(Expectation):
        v = value(atom, ctx)
        if v is not None:
            table[atom] = v
    return nf.xreplace(table)


def range_args(args: tuple) -> list[tuple[sympy.Symbol, int, int]]:
    return [(a[1], a[2], a[3]) for a in args if isinstance(a, tuple) and a and a[0] == "range"]


def or_refute(verifier):  # noqa: ANN001, ANN201
    """Wrap an expectation rule: when it cannot justify an '=' step, every expectation is
    evaluated exactly (Gaussian moments, Isserlis, family moments, moments of sums); if the
    sides are then free of expectations and differ, the step is REFUTED with the instance."""
    import functools

    @functools.wraps(verifier)
    def wrapped(goal, args, ctx):  # noqa: ANN001, ANN202
        judgement = verifier(goal, args, ctx)
        if judgement.verdict is not Verdict.UNDECIDED or goal.rel != "=":
            return judgement
        refuted = refute_by_exact_expectations(goal.lhs, goal.rhs, ctx)
        return refuted if refuted is not None else judgement

    return wrapped


def refute_by_exact_expectations(lhs: sympy.Expr, rhs: sympy.Expr, ctx) -> Judgement | None:  # noqa: ANN001
    from tpcheck.equality import decide_equal
    from tpcheck.heads import Expectation
    from tpcheck.rules.induction import exact_expectations
    from tpcheck.rules.sums import _Missing, unfold_variance

    try:
        a = exact_expectations(unfold_variance(lhs), ctx)
        b = exact_expectations(unfold_variance(rhs), ctx)
    except _Missing:
        return None
    if a.has(Expectation) or b.has(Expectation):
        return None
    d = decide_equal(a, b, ctx.space)
    if d.status != "unequal":
        return None
    return Judgement(Verdict.REFUTED,
                     "evaluating every expectation exactly, the sides differ: "
                     f"{a} against {b}", counterexample=d.counterexample,
                     evidence=[Evidence("exact-instances", True, d.reason)])
