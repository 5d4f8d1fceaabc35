"""Exact evaluators of expectations: each takes one ``E[...]`` atom and the laws of the random
symbols, and returns its exact value, or None when the evaluator does not apply.

They are pure functions over the engines (``tpcheck.engines``); the rules choose which of
them a step may use and compare the sides exactly. ``laws`` maps each random symbol (or iid
family label) to its law from :mod:`tpcheck.engines.laws`; the kernel's ``Context`` is one
such :class:`Randoms`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

import sympy

from tpcheck.engines.gaussian import isserlis_moment
from tpcheck.engines.heads import Expectation, MomentSum, Variance
from tpcheck.engines.iid_sums import sum_moment
from tpcheck.engines.laws import GaussianComponent, IIDFamily, Normal, joint_gaussian
from tpcheck.expectations.forms import (
    independence_class,
    linear_normal_form,
    monomial_exponents,
    polynomially_bounded,
    random_atoms,
    split_random,
)
from tpcheck.trusted import rests_on


class Randoms(Protocol):
    """What an evaluator reads: the law of every random symbol."""

    laws: Mapping[Any, Any]

    @property
    def random_symbols(self) -> set[sympy.Symbol]: ...


class MissingMoment(Exception):
    """An evaluator needs a moment (or range) the declarations do not give."""


Evaluator = Callable[[Expectation, Randoms], sympy.Expr | None]


def evaluate_expectations(side: sympy.Expr, ctx: Randoms, value: Evaluator) -> sympy.Expr:
    """``side`` in linear normal form, with every E[.] that ``value(atom, ctx)`` can value
    (a result other than None) replaced by that value."""
    nf = linear_normal_form(side, ctx.random_symbols)
    table = {}
    for atom in nf.atoms(Expectation):
        v = value(atom, ctx)
        if v is not None:
            table[atom] = v
    return nf.xreplace(table)


# Gaussian moments, the mgf, Wick and Stein.

def gaussian_mgf_value(arg: sympy.Expr, ctx: Randoms) -> sympy.Expr | None:
    """E[exp(a Z + b)] = exp(b + a mu + a^2 v / 2) for one Gaussian Z ~ N(mu, v).

    Reference: the moment generating function of the normal law (Billingsley, Probability and
    Measure, (21.22))."""
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


def gaussian_moment_value(atom: Expectation, ctx: Randoms) -> sympy.Expr | None:
    """E[Z^m] for one Gaussian Z ~ N(mu, v): v^(m/2) (m-1)!! (even m), 0 (odd m) when mu = 0;
    for mu != 0 and integer m, sum_j binomial(m, j) mu^(m-j) E[(Z-mu)^j]; and the moment
    generating function E[exp(a Z + b)] = exp(b + a mu + a^2 v/2).

    Reference: Isserlis (1918); theory facts §1.1. Brute-force reference: :func:`wick_value`
    (Isserlis by recursion) for concrete m."""
    rests_on("gaussian-closed-forms")
    mgf = gaussian_mgf_value(atom.args[0], ctx)
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


def wick_value(atom: Expectation, ctx: Randoms) -> sympy.Expr | None:
    """E[prod X_i^{a_i}] for jointly Gaussian X_i (concrete exponents) by Isserlis:
    E[X_i f] = mu_i E[f] + sum_j C_ij E[d_j f].

    Reference: Isserlis (1918); theory facts §1.2. Brute-force reference: the sum over
    (partial) perfect matchings, :func:`tpcheck.engines.gaussian.isserlis_moment`'s tests."""
    arg = atom.args[0]
    variables = random_atoms(arg, ctx.laws)
    if not variables or any(isinstance(v, sympy.Indexed) for v in variables):
        return None
    exps = monomial_exponents(arg, variables)
    joint = joint_gaussian(variables, ctx.laws)
    if exps is None or joint is None:
        return None
    mean, cov = joint
    return isserlis_moment(exps, cov, mean)


def gaussian_block(z: sympy.Symbol, ctx: Randoms) -> list[sympy.Symbol]:
    """The Gaussian variables jointly Gaussian with ``z``: its vector's coordinates, or itself."""
    law = ctx.laws[z]
    if isinstance(law, GaussianComponent):
        return list(law.vector.names)
    return [z]


def stein_rewrite(atom: Expectation, z: sympy.Symbol, ctx: Randoms) -> sympy.Expr | None:
    """E[Z h] = mu_Z E[h] + sum_j C_{Z j} E[d h / d X_j] (j over Z's Gaussian block), when
    h is polynomially bounded with polynomially bounded derivative; None otherwise.

    Reference: Stein (1981), Lemma 1; theory facts §1.3."""
    arg = atom.args[0]
    h = sympy.powsimp(arg / z, combine="exp")
    randoms = ctx.random_symbols
    for f in sympy.Mul.make_args(h):
        if f.is_Pow and f.base == z and not (f.exp.is_nonnegative and f.exp.is_integer):
            return None
    block = gaussian_block(z, ctx)
    joint = joint_gaussian(block, ctx.laws)
    if joint is None:
        return None
    mean, cov = joint
    i = block.index(z)
    total = mean[i] * Expectation(h) if mean[i] != 0 else sympy.Integer(0)
    for j, x in enumerate(block):
        if cov[i][j] == 0:
            continue
        dh = sympy.powsimp(sympy.diff(h, x), combine="exp")
        if not (polynomially_bounded(h, randoms) and polynomially_bounded(dh, randoms)):
            return None
        total += cov[i][j] * Expectation(dh)
    return total


# Independence and iid families.

def factorise(atom: Expectation, ctx: Randoms) -> sympy.Expr:
    """E[prod of factors] = prod over independence classes of E[their factors].

    Reference: Billingsley, Probability and Measure, Theorem 21.4."""
    groups: dict[tuple, list[sympy.Expr]] = {}
    for f in sympy.Mul.make_args(atom.args[0]):
        keys = {independence_class(v, ctx.laws) for v in random_atoms(f, ctx.laws)}
        if None in keys or len(keys) != 1:
            return atom  # a factor mixing classes, or an undetermined class: no factorisation
        groups.setdefault(keys.pop(), []).append(f)
    if len(groups) < 2:
        return atom
    return sympy.Mul(*[Expectation(sympy.Mul(*fs)) for fs in groups.values()])


def member_moment(atom: Expectation, ctx: Randoms) -> sympy.Expr | None:
    """E[X[i]^j] = the family's j-th moment (declared, or from its law)."""
    arg = atom.args[0]
    base, e = (arg.base, arg.exp) if arg.is_Pow else (arg, sympy.Integer(1))
    if not isinstance(base, sympy.Indexed) or not e.is_Integer or e < 0:
        return None
    fam = ctx.laws.get(base.base.label)
    if not isinstance(fam, IIDFamily):
        return None
    return fam.moment(int(e))


def declared_moments(fam: IIDFamily) -> Callable[[int], sympy.Expr]:
    """j -> E[X^j] of the family, raising :class:`MissingMoment` for an undeclared moment."""

    def moment(j: int) -> sympy.Expr:
        m = fam.moment(j)
        if m is None:
            raise MissingMoment(f"E[{fam.base}^{j}] is not declared")
        return m

    return moment


def family_of_sum(base: sympy.Sum, ctx: Randoms, strict: bool = False) -> IIDFamily | None:
    """The iid family summed over, if the sum is sum_i X[i] over part of the family's range
    (outside it: None, or with ``strict`` a :class:`MissingMoment` that says so)."""
    i, lo, hi = base.limits[0]
    body = base.function
    if not (isinstance(body, sympy.Indexed) and body.indices == (i,)):
        return None
    fam = ctx.laws.get(body.base.label)
    if not isinstance(fam, IIDFamily):
        return None
    if (lo - fam.lo).is_nonnegative is not True or (fam.hi - hi).is_nonnegative is not True:
        if strict:
            raise MissingMoment(f"the sum over {lo}..{hi} is not inside the family's range "
                                f"{fam.lo}..{fam.hi}")
        return None
    return fam


def sum_power_value(atom: Expectation, ctx: Randoms) -> sympy.Expr | None:
    """E[(X_lo + ... + X_hi)^k] = sum over set partitions pi of {1..k} of
    (n)_{|pi|} prod_B m_|B| (n = hi - lo + 1) for a family X with the needed moments; for a
    symbolic k (and E[X] = 0), the partition sum moment_sum(X, n, k).

    Reference: theory facts §2; Billingsley, Probability and Measure, §30. Brute-force
    reference: :func:`tpcheck.engines.iid_sums.sum_moment`'s tests (index tuples)."""
    arg = atom.args[0]
    base, k = (arg.base, arg.exp) if arg.is_Pow else (arg, sympy.Integer(1))
    if not isinstance(base, sympy.Sum) or len(base.limits) != 1:
        return None
    if not k.is_Integer:
        return _symbolic_power(base, k, ctx)
    if k < 0:
        return None
    fam = family_of_sum(base, ctx, strict=True)
    if fam is None:
        return None
    _, lo, hi = base.limits[0]
    return sum_moment(int(k), hi - lo + 1, declared_moments(fam))


def _symbolic_power(base: sympy.Sum, k: sympy.Expr, ctx: Randoms) -> sympy.Expr | None:
    fam = family_of_sum(base, ctx)
    if fam is None or not (k.is_integer and k.is_nonnegative) or fam.moment(1) != 0:
        return None
    _, lo, hi = base.limits[0]
    return MomentSum(fam.base.label, hi - lo + 1, k)


def moment_sum_value(ms: MomentSum, ctx: Randoms) -> sympy.Expr | None:
    """moment_sum(X, n, k) for a concrete k, with the family's moments: the sum over set
    partitions of {1..k} without singletons of (n)_{|pi|} prod_B m_|B|."""
    label, n, k = ms.args
    fam = ctx.laws.get(label)
    if not isinstance(fam, IIDFamily) or not k.is_Integer or k < 0:
        return None
    return sum_moment(int(k), n, declared_moments(fam), min_block=2)


def expand_sums(side: sympy.Expr, ctx: Randoms) -> sympy.Expr:
    """``side`` with every concrete moment_sum, every moment of a sum of family members and
    every moment of one member replaced by its value (linear normal form)."""
    side = side.replace(lambda e: isinstance(e, MomentSum),
                        lambda e: v if (v := moment_sum_value(e, ctx)) is not None else e)
    nf = linear_normal_form(side, ctx.random_symbols)
    table = {}
    for a in nf.atoms(Expectation):
        v = sum_power_value(a, ctx)
        if v is None:
            v = member_moment(a, ctx)
        if v is not None:
            table[a] = v
    return nf.xreplace(table)


def unfold_variance(expr: sympy.Expr) -> sympy.Expr:
    """Var[Y] -> E[Y^2] - E[Y]^2 everywhere."""
    return expr.replace(lambda e: isinstance(e, Variance),
                        lambda e: Expectation(e.args[0] ** 2) - Expectation(e.args[0]) ** 2)


# Everything exact at once.

EXACT_EVALUATORS: tuple[Evaluator, ...] = (gaussian_moment_value, wick_value, member_moment,
                                           sum_power_value)


def exact_expectations(expr: sympy.Expr, ctx: Randoms) -> sympy.Expr:
    """Every expectation that an exact evaluator can value, valued: the first of
    :data:`EXACT_EVALUATORS` (Gaussian moments, Isserlis, family moments, moments of sums)
    that applies; a missing moment leaves the expectation as it is."""
    def first_exact(atom: Expectation, ctx: Randoms) -> sympy.Expr | None:
        for method in EXACT_EVALUATORS:
            try:
                v = method(atom, ctx)
            except MissingMoment:
                v = None
            if v is not None:
                return v
        return None

    return evaluate_expectations(expr, ctx, first_exact)
