"""The ``abc_classification`` rule: questions about abc-parametrizations, decided exactly."""

from __future__ import annotations

from fractions import Fraction

import sympy

from tpcheck.engines.abc_parametrizations import (
    Counterexample,
    HeadValue,
    ParametrizationError,
    ParametrizationHead,
    claimed_consequences,
    evaluate_head,
)
from tpcheck.kernel import Context, Evidence, Goal, Judgement, Verdict, rule
from tpcheck.trusted import rests_on

#: The trusted-base entry of this rule (tpcheck/trusted.py), recorded where the catalogue has it.
TRUSTED = "abc-conditions"

_HOLDS = {"=": lambda x, y: x == y, "<=": lambda x, y: x <= y, "<": lambda x, y: x < y,
          ">=": lambda x, y: x >= y, ">": lambda x, y: x > y}


@rule("abc_classification", relations=("=", "<=", "<", ">=", ">"),
      human="the classification of abc-parametrizations",
      latex="by the classification of abc-parametrizations")
def abc_classification(goal: Goal, args: tuple, ctx: Context) -> Judgement:
    """A relation between exact numbers once every question about a declared parametrization is
    answered: ``stable(p) = 1``, ``feature_learning(p) = 0``, ``lr_exponent(p, 2) = -1``, ...

    Each head (``stable``, ``nontrivial``, ``feature_learning``, ``kernel_regime``,
    ``maximal_update``, ``equivalent``, ``unique_maximal_update``: 1 or 0; ``r``,
    ``own_update_exponent``, ``update_exponent``, ``init_exponent``, ``lr_exponent``,
    ``init_variance_exponent``, ``multiplier_exponent``: an exponent of n) is evaluated in exact
    rational arithmetic on the exponents (a_l, b_l, c_l) by ``tpcheck.engines.abc_parametrizations``:
    stable iff a_1+b_1 = 0, a_l+b_l = 1/2 (hidden), a_{L+1}+b_{L+1} >= 1/2, r >= 0,
    a_{L+1}+b_{L+1}+r >= 1 and u >= 1; nontrivial iff a_{L+1}+b_{L+1}+r = 1 or u = 1; feature
    learning iff stable and r = 0; kernel regime iff stable, nontrivial and r > 0, with
    r = min_{l <= L} e_l, e_l = g + c_l + 2a_l - 1 + [l = 1] (SGD) or a_l + c_l - 1 + [l = 1]
    (sign-like Adam), u = 2a_{L+1}+c_{L+1} (SGD) or a_{L+1}+c_{L+1} (Adam); equivalent iff the
    symmetry's invariants agree layer by layer; unique_maximal_update(p) iff p meets muP's
    conditions and their solution set, solved by linsolve over Q, is one orbit of the symmetry.
    Then the sides, rational numbers, are compared exactly: PROVED, or REFUTED with the violated
    condition, its layer and its exponent. A step without a head, or whose sides are not
    rational numbers once the heads are answered, is UNDECIDED.
    Reference: Yang & Hu, Tensor Programs IV (ICML 2021), §3 (Thm 3.3, the Dynamical Dichotomy)
    and §5; Yang et al., Tensor Programs V (2022), Tables 3, 8, 9; Everett et al. 2024 (per-layer
    learning rates, Adam).
    """
    heads = sorted(goal.lhs.atoms(ParametrizationHead) | goal.rhs.atoms(ParametrizationHead),
                   key=sympy.default_sort_key)
    if not heads:
        return Judgement.undecided("abc_classification: the step asks no question of a declared "
                                   "parametrization (stable(p), r(p), lr_exponent(p, l), ...)")
    values: dict[ParametrizationHead, HeadValue] = {}
    for head in heads:
        try:
            values[head] = evaluate_head(head)
        except ParametrizationError as exc:
            return Judgement.undecided(f"abc_classification: {head}: {exc}")
    table = {head: sympy.Rational(v.value.numerator, v.value.denominator) for head, v in values.items()}
    lhs, rhs = goal.lhs.xreplace(table), goal.rhs.xreplace(table)
    if not (isinstance(lhs, sympy.Rational) and isinstance(rhs, sympy.Rational)):
        return Judgement.undecided(f"abc_classification: with the heads answered the sides are {lhs} "
                                   f"and {rhs}, not rational numbers")
    rests_on(TRUSTED)
    answers = "; ".join(f"{v.question} = {v.value} ({'; '.join(v.reasons)})" for v in values.values())
    if _HOLDS[goal.rel](lhs, rhs):
        return Judgement(Verdict.PROVED, f"abc_classification: {answers}",
                         evidence=[Evidence("symbolic", True, answers)])
    first = next(iter(values.values()))
    claimed = _claimed(goal, values)
    witnesses = claimed or [e for v in values.values() for e in v.evidence]
    counterexample: dict[str, object] = {"lhs": str(lhs), "rhs": str(rhs), "answers": answers}
    if witnesses:
        top = witnesses[0]
        counterexample.update({"layer": "all" if top.layer is None else top.layer,
                               "quantity": top.quantity, "exponent": str(top.exponent),
                               "condition": top.condition})
        if len(witnesses) > 1:
            counterexample["further"] = "; ".join(
                f"layer {w.layer}: {w.quantity} = {w.exponent} ({w.condition})" for w in witnesses[1:])
    consequence = f"; with the claimed value instead: {claimed[0].condition}" if claimed else ""
    return Judgement(Verdict.REFUTED,
                     f"abc_classification: {first.question} = {first.value} ({first.reasons[0]}), so "
                     f"{lhs} {goal.rel} {rhs} is false{consequence}",
                     counterexample=counterexample,
                     evidence=[Evidence("symbolic", True, answers)])


def _claimed(goal: Goal, values: dict[ParametrizationHead, HeadValue]) -> list[Counterexample]:
    """For ``head = number`` (either way round) about a layer's exponent: what the claimed value
    would break."""
    for head, claimed in ((goal.lhs, goal.rhs), (goal.rhs, goal.lhs)):
        if goal.rel == "=" and head in values and isinstance(claimed, sympy.Rational):
            return list(claimed_consequences(head, Fraction(int(claimed.p), int(claimed.q))))
    return []
