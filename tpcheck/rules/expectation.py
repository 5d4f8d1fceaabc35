"""Rules about expectations: ``linearity`` and ``gaussian_moment``."""

from __future__ import annotations

import sympy

from tpcheck.engines.heads import Expectation
from tpcheck.engines.laws import Normal
from tpcheck.expectations.forms import linear_normal_form, split_random
from tpcheck.kernel import Context, Goal, Judgement, rule
from tpcheck.rules.common import evaluate_expectations, judge_equal, or_refute
from tpcheck.trusted import rests_on


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


def _gaussian_mgf_value(arg: sympy.Expr, ctx: Context) -> sympy.Expr | None:
    """E[exp(a Z + b)] = exp(b + a mu + a^2 v / 2) for one Gaussian Z ~ N(mu, v)."""
    if not isinstance(arg, sympy.exp):
        return None
    inner = arg.args[0]
    zs = list(inner.free_symbols & ctx.random_symbols)
    if len(zs) != 1 or not isinstance(ctx.laws[zs[0]], Normal):
        return None
    z, law = zs[0], ctx.laws[zs[0]]
    try:
        poly = sympy.Poly(inner, z)
    except sympy.PolynomialError:
        return None
    if poly.degree() > 1:
        return None
    a, b = poly.coeff_monomial(z), poly.coeff_monomial(1)
    return sympy.exp(b + a * law.mean + a**2 * law.variance / 2)


def gaussian_moment_value(atom: Expectation, ctx: Context) -> sympy.Expr | None:
    """E[Z^m] for one Gaussian Z ~ N(mu, v): v^(m/2) (m-1)!! (even m), 0 (odd m) when mu = 0;
    for mu != 0 and integer m, the binomial expansion over the centred moments; and the
    moment generating function E[exp(a Z + b)] = exp(b + a mu + a^2 v/2)."""
    rests_on("gaussian-closed-forms")
    mgf = _gaussian_mgf_value(atom.args[0], ctx)
    if mgf is not None:
        return mgf
    _, r = split_random(atom.args[0], ctx.random_symbols)
    if r != atom.args[0]:
        return None
    base, m = (r.base, r.exp) if r.is_Pow else (r, sympy.Integer(1))
    law = ctx.laws.get(base) if base.is_Symbol else None
    if not isinstance(law, Normal):
        return None
    if law.mean == 0:
        return law.centred_moment(m)
    if not (m.is_Integer and m >= 0):
        return None
    return sympy.Add(*[
        sympy.binomial(m, j) * law.mean ** (m - j) * law.centred_moment(sympy.Integer(j))
        for j in range(int(m) + 1)
    ])


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
