"""Rules about independence and identical distribution: ``independence`` and ``iid_moment``."""

from __future__ import annotations

import sympy

from tpcheck.engines.heads import Expectation
from tpcheck.engines.laws import IIDFamily
from tpcheck.expectations.forms import independence_class, random_atoms
from tpcheck.kernel import Context, Goal, Judgement, rule
from tpcheck.rules.common import evaluate_expectations, judge_equal, or_refute


def factorise(atom: Expectation, ctx: Context) -> sympy.Expr:
    """E[prod of factors] = prod over independence classes of E[their factors]."""
    groups: dict[tuple, list[sympy.Expr]] = {}
    for f in sympy.Mul.make_args(atom.args[0]):
        keys = {independence_class(v, ctx.laws) for v in random_atoms(f, ctx.laws)}
        if None in keys or len(keys) != 1:
            return atom  # a factor mixing classes, or an undetermined class: no factorisation
        groups.setdefault(keys.pop(), []).append(f)
    if len(groups) < 2:
        return atom
    return sympy.Mul(*[Expectation(sympy.Mul(*fs)) for fs in groups.values()])


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


def member_moment(atom: Expectation, ctx: Context) -> sympy.Expr | None:
    """E[X[i]^j] = the family's j-th moment (declared, or from its law)."""
    arg = atom.args[0]
    base, e = (arg.base, arg.exp) if arg.is_Pow else (arg, sympy.Integer(1))
    if not isinstance(base, sympy.Indexed) or not e.is_Integer or e < 0:
        return None
    fam = ctx.laws.get(base.base.label)
    if not isinstance(fam, IIDFamily):
        return None
    return fam.moment(int(e))


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
