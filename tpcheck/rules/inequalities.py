"""Probability inequalities: ``markov`` and ``chebyshev``."""

from __future__ import annotations

import sympy

from tpcheck.engines.equality import decide_equal
from tpcheck.engines.heads import Expectation, Probability, Variance
from tpcheck.expectations.evaluators import MissingMoment, expand_sums
from tpcheck.expectations.forms import linear_normal_form
from tpcheck.kernel import Context, Evidence, Goal, Judgement, Verdict, rule


def _event(goal: Goal) -> tuple[sympy.Expr, sympy.Expr] | None:
    """(Y, a) for a left side P[Y >= a] (or P[Y > a])."""
    if not isinstance(goal.lhs, Probability):
        return None
    ev = goal.lhs.args[0]
    if isinstance(ev, sympy.GreaterThan | sympy.StrictGreaterThan):
        return ev.lhs, ev.rhs
    return None


def _same(a: sympy.Expr, b: sympy.Expr, ctx: Context) -> bool:
    r = ctx.random_symbols
    d = decide_equal(linear_normal_form(a, r), linear_normal_form(b, r), ctx.space)
    return d.status == "equal"


def _proved(name: str, why: str) -> Judgement:
    return Judgement(Verdict.PROVED, f"{name}: {why}", evidence=[Evidence("symbolic", True, why)])


@rule("markov", relations=("<=",), human="Markov's inequality", latex="by Markov's inequality")
def markov(goal: Goal, args: tuple, ctx: Context) -> Judgement:
    """P[Y >= a] <= E[Y^p] / a^p for Y >= 0, a > 0, p > 0 (p = 1 unless given: markov(p)).

    Checked: the step is ``P[Y >= a] <= rhs`` with rhs equal to E[Y^p]/a^p (exactly, after
    linearity), a provably positive and Y provably non-negative (|.|, even powers, squares,
    non-negative symbols). Reference: Billingsley, Probability and Measure, (21.11).
    """
    ev = _event(goal)
    if ev is None:
        return Judgement.undecided("markov: the left side must be P[Y >= a]")
    y, a = ev
    p = args[0] if args and isinstance(args[0], sympy.Expr) else sympy.Integer(1)
    if a.is_positive is not True:
        return Judgement.undecided(f"markov: cannot show a = {a} > 0")
    if y.is_nonnegative is not True:
        return Judgement.undecided(f"markov: cannot show Y = {y} >= 0")
    if p.is_positive is not True:
        return Judgement.undecided(f"markov: cannot show p = {p} > 0")
    if not _same(goal.rhs, Expectation(y**p) / a**p, ctx):
        return Judgement.undecided(f"markov: the right side is not E[({y})^{p}]/({a})^{p}")
    return _proved("markov", f"P[Y >= a] <= E[Y^{p}]/a^{p} with Y = {y} >= 0 and a = {a} > 0")


@rule("chebyshev", relations=("<=",), human="Chebyshev's inequality",
      latex="by Chebyshev's inequality")
def chebyshev(goal: Goal, args: tuple, ctx: Context) -> Judgement:
    """P[|Y - c| >= a] <= E[(Y - c)^2] / a^2 for a > 0; = Var[Y]/a^2 when c = E[Y].

    Checked: the step is ``P[|Y - c| >= a] <= rhs`` with a provably positive and rhs equal
    (exactly, after linearity) to E[(Y - c)^2]/a^2, or to Var[Y]/a^2 where E[Y] - c reduces to
    0 (by linearity, the family's moments and the moment expansion of sums).
    Reference: Billingsley, Probability and Measure, (21.12).
    """
    ev = _event(goal)
    if ev is None:
        return Judgement.undecided("chebyshev: the left side must be P[|Y - c| >= a]")
    # sympy writes |S/n| as |S|/n for positive n: put such a factor back inside the bars
    factor, absolute = sympy.Integer(1), None
    for f in sympy.Mul.make_args(ev[0]):
        if isinstance(f, sympy.Abs) and absolute is None:
            absolute = f
        elif f.is_positive and not f.free_symbols & ctx.random_symbols:
            factor *= f
        else:
            absolute = None
            break
    if absolute is None:
        return Judgement.undecided("chebyshev: the left side must be P[|Y - c| >= a]")
    inner, a = factor * absolute.args[0], ev[1]
    if a.is_positive is not True:
        return Judgement.undecided(f"chebyshev: cannot show a = {a} > 0")
    randoms = ctx.random_symbols
    terms = sympy.Add.make_args(sympy.expand(inner))
    y0 = sympy.Add(*[t for t in terms if t.free_symbols & randoms])
    c0 = -sympy.Add(*[t for t in terms if not t.free_symbols & randoms])
    # |Y - c| = |c - Y|: sympy may have written the argument either way round.
    for y, c in ((y0, c0), (-y0, -c0)):
        if _same(goal.rhs, Expectation((y - c) ** 2) / a**2, ctx):
            return _proved("chebyshev", f"Markov's inequality for (Y - c)^2 with Y = {y}, c = {c}")
        if _same(goal.rhs, Variance(y) / a**2, ctx):
            try:
                mean = expand_sums(Expectation(y), ctx)
            except MissingMoment as exc:
                return Judgement.undecided(f"chebyshev: cannot compute E[Y]: {exc}")
            d = decide_equal(mean, c, ctx.space)
            if d.status == "equal":
                return _proved("chebyshev", f"E[Y] = {c}, so E[(Y - c)^2] = Var[Y] for Y = {y}")
            return Judgement.undecided(f"chebyshev: cannot show E[Y] = {c} ({d.reason})")
    return Judgement.undecided("chebyshev: the right side is neither E[(Y - c)^2]/a^2 nor Var[Y]/a^2")
