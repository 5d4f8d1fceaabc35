"""Rules about sums of iid variables: ``moment_expansion``, ``variance_of_sum``,
``pairings_count``."""

from __future__ import annotations

from dataclasses import replace

import sympy

from tpcheck.engines.heads import MomentSum, pairings
from tpcheck.engines.laws import IIDFamily
from tpcheck.expectations.evaluators import MissingMoment, expand_sums, unfold_variance
from tpcheck.kernel import Context, Goal, Judgement, Verdict, rule
from tpcheck.rules.common import does_its_own_work, judge_equal, or_refute, split_power


@rule("moment_expansion", human="the moment expansion of a sum",
      latex="by expanding the power of the sum over set partitions")
@or_refute
def moment_expansion(goal: Goal, args: tuple, ctx: Context) -> Judgement:
    """E[(X_1 + ... + X_n)^k] = sum over set partitions pi of {1..k} of (n)_{|pi|} prod_B m_|B|.

    For an iid family X with moments m_j = E[X^j]: expanding the k-th power and grouping the
    index tuples by their equality pattern gives one term per set partition pi (distinct
    indices for distinct blocks: (n)_{|pi|} choices; a block B contributes m_|B|). Every such
    expectation (a sum of family members over part of the family's range) and every E[X_i^j]
    is replaced by its value and the sides are compared exactly. For a symbolic k, and a family
    with E[X] = 0 (so blocks of size one vanish), the expectation becomes the partition sum
    moment_sum(X, n, k); a concrete moment_sum is evaluated.
    Reference: theory facts §2; Billingsley, Probability and Measure, §30 (method of moments).
    """
    try:
        lhs, rhs = expand_sums(goal.lhs, ctx), expand_sums(goal.rhs, ctx)
    except MissingMoment as exc:
        return Judgement.undecided(f"moment_expansion: {exc}")
    j = judge_equal("moment_expansion", lhs, rhs, ctx.space)
    if j.verdict is Verdict.PROVED and (lhs.has(MomentSum) or rhs.has(MomentSum)):
        j = replace(j, detail=j.detail + " (for every k, assuming the family's moments are finite)")
    return j


@rule("variance_of_sum", human="the variance of a sum",
      latex="since variances of independent summands add")
@or_refute
def variance_of_sum(goal: Goal, args: tuple, ctx: Context) -> Judgement:
    """Var[c (X_1 + ... + X_n) + d] = c^2 n (m_2 - m_1^2) for an iid family.

    Var[Y] is unfolded to E[Y^2] - E[Y]^2, the powers of sums are expanded over set
    partitions (as ``moment_expansion``) and the family's moments put in; the sides are then
    compared exactly. Reference: Billingsley, Probability and Measure, (21.13).
    """
    try:
        lhs = expand_sums(unfold_variance(goal.lhs), ctx)
        rhs = expand_sums(unfold_variance(goal.rhs), ctx)
    except MissingMoment as exc:
        return Judgement.undecided(f"variance_of_sum: {exc}")
    return judge_equal("variance_of_sum", lhs, rhs, ctx.space)


def pairings_formula(m: sympy.Expr) -> sympy.Expr | None:
    if (m / 2).is_integer and m.is_nonnegative:
        return sympy.factorial2(m - 1)
    if ((m - 1) / 2).is_integer and m.is_nonnegative:
        return sympy.Integer(0)
    return None


@rule("pairings_count", human="counting pairings", latex="since $2k$ points have $(2k-1)!!$ pairings")
@does_its_own_work
def pairings_count(goal: Goal, args: tuple, ctx: Context) -> Judgement:
    """pairings(m) = (m - 1)!! for even m >= 0, and 0 for odd m.

    The point 1 is paired with one of the m - 1 others and the remaining m - 2 points are
    paired in pairings(m - 2) ways: p(m) = (m - 1) p(m - 2), p(0) = 1, p(1) = 0. Every
    pairings(m) whose parity follows from the declarations is replaced; then the sides are
    compared exactly. Reference: theory facts §1.2 and T1.
    """
    problems = []

    def replace(e: sympy.Basic) -> sympy.Basic:
        v = pairings_formula(e.args[0])
        if v is None:
            problems.append(str(e))
            return e
        return v

    sides = [s.replace(lambda e: isinstance(e, pairings), replace) for s in (goal.lhs, goal.rhs)]
    if problems:
        return Judgement.undecided(f"pairings_count: the parity of {problems[0]} is not determined")
    return judge_equal("pairings_count", sides[0], sides[1], ctx.space)


@rule("leading_order", relations=("->",), human="the leading order in n",
      latex="since only pairings survive at order $n^0$")
def leading_order(goal: Goal, args: tuple, ctx: Context) -> Judgement:
    """c n^(-k/2) moment_sum(X, n, k) -> c pairings(k) m_2^(k/2) as n -> oo, for every k.

    A set partition of {1..k} without singletons has at most k/2 blocks, with equality
    exactly for the pair partitions; (n)_j / n^(k/2) tends to 1 for j = k/2 and to 0 for
    j < k/2; the sum has finitely many terms (its number does not depend on n) and the
    moments are finite. So only the pairings survive, each contributing m_2^(k/2). Checked:
    the left side is a product of a factor free of n, n^e with e = -k/2 exactly, and one
    moment_sum(X, n, k); then the claimed limit is compared exactly.
    Reference: theory facts §2; Billingsley, Probability and Measure, Example 30.1 (CLT by
    moments).
    """
    n = goal.limit_var
    ms = [f for f in sympy.Mul.make_args(goal.lhs) if isinstance(f, MomentSum)]
    if len(ms) != 1:
        return Judgement.undecided("leading_order: the left side must contain one moment_sum")
    (m,) = ms
    label, size, k = m.args
    if size != n:
        return Judgement.undecided(f"leading_order: moment_sum must run over {n} members")
    rest = sympy.powsimp(goal.lhs / m, combine="exp")
    power, const, bad = split_power(rest, n)
    if bad is not None:
        return Judgement.undecided(f"leading_order: the factor {bad} depends on {n}")
    if sympy.expand(power + k / 2) != 0:
        return Judgement.undecided(f"leading_order: the power of {n} is {power}, not -{k}/2")
    fam = ctx.laws.get(label)
    m2 = fam.moment(2) if isinstance(fam, IIDFamily) else None
    if m2 is None:
        return Judgement.undecided(f"leading_order: E[{label}^2] is not declared")
    value = sympy.Mul(*const) * pairings(k) * m2 ** (k / 2)
    j = judge_equal("leading_order", value, goal.rhs, ctx.space)
    if j.verdict is Verdict.PROVED:
        j = replace(j, detail=j.detail + f" (assuming every moment of {label} is finite)")
    return j
