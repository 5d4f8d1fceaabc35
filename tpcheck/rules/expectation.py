"""Rules about expectations: ``linearity`` and ``gaussian_moment``."""

from __future__ import annotations

from tpcheck.expectations.evaluators import evaluate_expectations, gaussian_moment_value
from tpcheck.expectations.forms import linear_normal_form
from tpcheck.kernel import Context, Goal, Judgement, rule
from tpcheck.rules.common import judge_equal, or_refute


@rule("linearity", human="linearity of expectation", latex="by linearity of expectation")
@or_refute
def linearity(goal: Goal, args: tuple, ctx: Context) -> Judgement:
    """E[a X + b Y + c] = a E[X] + b E[Y] + c for deterministic a, b, c.

    Both sides are brought to their linear normal form (every E[.] pushed through sums and
    deterministic factors; E[c] = c) and compared exactly with the E[monomial] terms as
    opaque atoms. Conditions: the expectations exist (true for polynomials of the Gaussian and
    finite-moment laws declared here). Reference: Billingsley, Probability and Measure, §21.
    """
    randoms = ctx.random_symbols
    lhs = linear_normal_form(goal.lhs, randoms)
    rhs = linear_normal_form(goal.rhs, randoms)
    return judge_equal("linearity", lhs, rhs, ctx.space)


@rule("gaussian_moment", human="the Gaussian moments", latex="by the Gaussian moment formula")
@or_refute
def gaussian_moment(goal: Goal, args: tuple, ctx: Context) -> Judgement:
    """E[Z^m] = s^m (m-1)!! for even m >= 0 and 0 for odd m, Z ~ N(0, s^2); all m.

    Each expectation of a single power of one declared Gaussian is replaced by its moment:
    for symbolic m the parity must follow from its domain (m = 2k or 2k+1 with k a natural
    parameter). For a mean mu != 0 and integer m, E[(mu + sY)^m] is expanded binomially.
    Also the moment generating function: E[exp(a Z + b)] = exp(b + a mu + a^2 s^2 / 2).
    The sides, after linearity and this replacement, are compared exactly.
    Reference: Isserlis (1918); theory facts §1.1.
    """
    lhs, rhs = (evaluate_expectations(s, ctx, gaussian_moment_value) for s in (goal.lhs, goal.rhs))
    return judge_equal("gaussian_moment", lhs, rhs, ctx.space)
