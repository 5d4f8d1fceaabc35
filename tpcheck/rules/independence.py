"""Rules about independence and identical distribution: ``independence`` and ``iid_moment``."""

from __future__ import annotations

from tpcheck.expectations.evaluators import evaluate_expectations, factorise, member_moment
from tpcheck.kernel import Context, Goal, Judgement, rule
from tpcheck.rules.common import judge_equal, or_refute


@rule("independence", human="independence", latex="by independence")
@or_refute
def independence(goal: Goal, args: tuple, ctx: Context) -> Judgement:
    """E[f(X) g(Y)] = E[f(X)] E[g(Y)] for independent X and Y.

    Each expectation of a product is split into a product of expectations over independence
    classes: separately declared random objects are independent; members X[i], X[j] of an
    iid family with distinct concrete indices are independent; the coordinates of one Gaussian
    vector form one class. A factor that mixes classes, or a member with a symbolic index,
    blocks the split. The sides are then compared exactly. Reference: Billingsley,
    Probability and Measure, Theorem 21.4 (E of a product of independent integrable variables).
    """
    lhs, rhs = (evaluate_expectations(s, ctx, factorise) for s in (goal.lhs, goal.rhs))
    return judge_equal("independence", lhs, rhs, ctx.space)


@rule("iid_moment", human="the family's moments", latex="since the family is identically distributed")
@or_refute
def iid_moment(goal: Goal, args: tuple, ctx: Context) -> Judgement:
    """E[X_i^j] = m_j for every member X_i of an iid family with E[X^j] = m_j.

    Every expectation of a power of one family member is replaced by the family's moment
    (declared with ``with E[X^j] = ...`` or given by its law); then the sides are compared
    exactly. Reference: definition of identically distributed variables.
    """
    lhs, rhs = (evaluate_expectations(s, ctx, member_moment) for s in (goal.lhs, goal.rhs))
    return judge_equal("iid_moment", lhs, rhs, ctx.space)
