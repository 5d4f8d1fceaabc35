"""The identity under the probability: what an expectation step reduces to once the exact
engines have evaluated every expectation (Gaussian moments, Isserlis/Wick, moments of iid
family members, moments of sums by set partitions).

For ``E[X1 X2 X3 X4] = c12 c34 + c13 c24 + c14 c23 by wick`` the engines give the sum over the
pairings of products of covariances; the reduced identity states that this value equals the
right side, a polynomial identity Coq can re-check, so the algebra under the probability is
re-checked even where the probability is not. The lemma names the engine's value, so what it
re-checks is exactly "engine value = right side", not the expectation step itself.
"""

from __future__ import annotations

import sympy

from tpcheck.coq.export import Lemma, goal_lemma
from tpcheck.coq.translate import PROBABILITY_HEADS, NotExportable
from tpcheck.kernel.proof import Goal, Step, Theorem


def reduced_identity(theorem: Theorem, step: Step) -> tuple[sympy.Expr, sympy.Expr] | None:
    """Both sides of an '=' step with every expectation evaluated exactly, or None when an
    expectation remains (or the engines do not apply)."""
    from tpcheck.rules.induction import exact_expectations
    from tpcheck.rules.sums import unfold_variance

    goal, ctx = step.goal, theorem.context
    if goal.rel != "=" or goal.tolerance is not None:
        return None
    try:
        sides = [exact_expectations(unfold_variance(s), ctx) for s in (goal.lhs, goal.rhs)]
    except Exception:  # noqa: BLE001  (an engine that cannot value a term gives no reduction)
        return None
    randoms = ctx.random_symbols
    for s in sides:
        if s.has(*PROBABILITY_HEADS) or s.free_symbols & randoms or any(
                i.base.label in randoms for i in s.atoms(sympy.Indexed)):
            return None
    return sides[0], sides[1]


def reduced_lemma(name: str, theorem: Theorem, step: Step) -> Lemma | None:
    """The lemma "engine value of the left side = engine value of the right side", or None."""
    pair = reduced_identity(theorem, step)
    if pair is None:
        return None
    try:
        return goal_lemma(name, Goal(pair[0], "=", pair[1]), theorem.context, step, "reduced")
    except NotExportable:
        return None
