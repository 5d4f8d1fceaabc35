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


def range_args(args: tuple) -> list[tuple[sympy.Symbol, int, int]]:
    return [(a[1], a[2], a[3]) for a in args if isinstance(a, tuple) and a and a[0] == "range"]
