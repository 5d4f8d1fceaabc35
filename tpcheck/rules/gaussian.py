"""Rules of Gaussian calculus: ``wick`` (Isserlis) and ``stein`` (Gaussian integration by parts)."""

from __future__ import annotations

import itertools

import sympy

from tpcheck.engines.heads import Expectation
from tpcheck.engines.laws import GaussianComponent, Normal
from tpcheck.expectations.evaluators import evaluate_expectations, stein_rewrite, wick_value
from tpcheck.expectations.forms import linear_normal_form
from tpcheck.kernel import Context, Goal, Judgement, rule
from tpcheck.rules.common import judge_equal, or_refute

MAX_STEIN_CHOICES = 256


@rule("wick", human="Wick's theorem", latex="by Wick's (Isserlis') theorem")
@or_refute
def wick(goal: Goal, args: tuple, ctx: Context) -> Judgement:
    """E[X_1 ... X_m] = sum over pairings of prod C_ab (plus means: partial pairings).

    For X jointly Gaussian with mean mu and covariance C (entries may be symbols), every
    expectation of a monomial with concrete exponents is replaced by its exact value,
    computed by the recursion E[X_i f] = mu_i E[f] + sum_j C_ij E[d_j f] (memoised on exponent
    vectors); then the sides are compared exactly. Separately declared Gaussians are
    independent; coordinates of one vector share its covariance.
    Reference: Isserlis (1918); theory facts §1.2.
    """
    lhs, rhs = (evaluate_expectations(s, ctx, wick_value) for s in (goal.lhs, goal.rhs))
    return judge_equal("wick", lhs, rhs, ctx.space)


def _stein_candidates(nf: sympy.Expr, ctx: Context) -> list[dict]:
    """For each expectation, the Stein rewrites available (one Gaussian factor pulled out)."""
    options = []
    for atom in sorted(nf.atoms(Expectation), key=str):
        choices = [None]
        for z in sorted(atom.args[0].free_symbols & ctx.random_symbols, key=str):
            if isinstance(ctx.laws[z], Normal | GaussianComponent):
                r = stein_rewrite(atom, z, ctx)
                if r is not None:
                    choices.append(r)
        options.append((atom, choices))
    combos = []
    for pick in itertools.islice(itertools.product(*[c for _, c in options]), MAX_STEIN_CHOICES):
        table = {atom: v for (atom, _), v in zip(options, pick, strict=True) if v is not None}
        if table:
            combos.append(table)
    return combos


@rule("stein", human="Stein's lemma", latex="by Stein's lemma (Gaussian integration by parts)")
@or_refute
def stein(goal: Goal, args: tuple, ctx: Context) -> Judgement:
    """E[Z f(Z)] = s^2 E[f'(Z)] for Z ~ N(0, s^2); E[X_i f(X)] = mu_i E[f] + sum_j C_ij E[d_j f].

    Applies Gaussian integration by parts to expectations on one side (one Gaussian factor
    pulled out of each rewritten expectation; the rule tries the choices) and compares the
    result with the other side exactly, after linearity. Conditions, checked: f is built from
    polynomials, |.|, relu, sin, cos, tanh, erf, step and exp of affine functions (absolutely
    continuous, f and f' polynomially bounded). Reference: Stein (1981), Lemma 1; theory
    facts §1.3.
    """
    randoms = ctx.random_symbols
    lhs = linear_normal_form(goal.lhs, randoms)
    rhs = linear_normal_form(goal.rhs, randoms)
    last = None
    for side, other, flip in ((lhs, rhs, False), (rhs, lhs, True)):
        for table in _stein_candidates(side, ctx):
            rewritten = linear_normal_form(side.xreplace(table), randoms)
            pair = (other, rewritten) if flip else (rewritten, other)
            j = judge_equal("stein", pair[0], pair[1], ctx.space, refutable=False)
            if j.verdict.passes:
                return j
            last = j
    if last is None:
        return Judgement.undecided("stein: no expectation of a Gaussian times a function to rewrite")
    return Judgement.undecided("stein: no choice of Gaussian factor makes the sides equal; "
                               + last.detail.removeprefix("stein: "))
