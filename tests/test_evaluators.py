"""The exact evaluators of tpcheck.expectations against brute-force references (hypothesis)."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field

import mpmath
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from tpcheck.engines.heads import Expectation, MomentSum, Variance
from tpcheck.engines.laws import IIDFamily, Normal
from tpcheck.expectations.evaluators import (
    MissingMoment,
    exact_expectations,
    expand_sums,
    factorise,
    gaussian_moment_value,
    member_moment,
    stein_rewrite,
    sum_power_value,
    unfold_variance,
    wick_value,
)


@dataclass
class Laws:
    laws: dict = field(default_factory=dict)

    @property
    def random_symbols(self) -> set:
        return set(self.laws)


Z, W = sympy.symbols("Z W")
X = sympy.IndexedBase("X")
i = sympy.Symbol("i", integer=True)
rationals = st.fractions(min_value=-3, max_value=3, max_denominator=5).map(sympy.Rational)
variances = st.fractions(min_value=sympy.Rational(1, 5), max_value=4, max_denominator=5).map(sympy.Rational)


@settings(max_examples=40, deadline=None)
@given(mean=rationals, variance=variances, m=st.integers(1, 8))
def test_gaussian_moment_against_isserlis(mean, variance, m):
    ctx = Laws({Z: Normal(mean, variance)})
    atom = Expectation(Z**m)
    assert sympy.expand(gaussian_moment_value(atom, ctx) - wick_value(atom, ctx)) == 0


@settings(max_examples=15, deadline=None)
@given(a=rationals.filter(lambda x: x != 0), b=rationals, mean=rationals, variance=variances)
def test_gaussian_mgf_against_quadrature(a, b, mean, variance):
    ctx = Laws({Z: Normal(mean, variance)})
    value = gaussian_moment_value(Expectation(sympy.exp(a * Z + b)), ctx)
    with mpmath.workdps(30):
        mu, v = mpmath.mpf(mean.p) / mean.q, mpmath.mpf(variance.p) / variance.q
        density = lambda x: mpmath.exp(-(x - mu) ** 2 / (2 * v)) / mpmath.sqrt(2 * mpmath.pi * v)  # noqa: E731
        f = lambda x: mpmath.exp(float(a) * x + float(b)) * density(x)  # noqa: E731
        approx = mpmath.quad(f, [-mpmath.inf, mu, mpmath.inf])
        exact = mpmath.mpf(sympy.N(value, 30))
    assert abs(approx - exact) <= mpmath.mpf(10) ** -8 * max(1, abs(exact))


@settings(max_examples=30, deadline=None)
@given(a=st.integers(1, 4), b=st.integers(1, 4), s=variances, t=variances)
def test_factorise_then_moments_against_isserlis_on_the_pair(a, b, s, t):
    ctx = Laws({Z: Normal(0, s), W: Normal(0, t)})
    atom = Expectation(Z**a * W**b)
    split = factorise(atom, ctx)
    assert split == Expectation(Z**a) * Expectation(W**b)
    valued = split.replace(lambda e: isinstance(e, Expectation), lambda e: gaussian_moment_value(e, ctx))
    assert sympy.expand(valued - wick_value(atom, ctx)) == 0


@settings(max_examples=30, deadline=None)
@given(a=st.integers(1, 4), s=variances)
def test_stein_against_isserlis(a, s):
    ctx = Laws({Z: Normal(0, s)})
    valued = exact_expectations(stein_rewrite(Expectation(Z**a), Z, ctx), ctx)
    assert sympy.expand(valued - wick_value(Expectation(Z**a), ctx)) == 0


def brute_force_sum_moment(k: int, n: int, moments: dict[int, sympy.Expr]) -> sympy.Expr:
    """E[(X_1 + ... + X_n)^k] by expanding over all n^k index tuples."""
    total = sympy.Integer(0)
    for idx in itertools.product(range(n), repeat=k):
        total += sympy.Mul(*[moments[c] for c in Counter(idx).values()])
    return total


@settings(max_examples=30, deadline=None)
@given(k=st.integers(1, 5), n=st.integers(1, 4),
       ms=st.lists(rationals, min_size=5, max_size=5))
def test_sum_power_against_index_tuples(k, n, ms):
    moments = {j + 1: m for j, m in enumerate(ms)}
    fam = IIDFamily(X, 1, n, tuple(moments.items()))
    ctx = Laws({X.label: fam})
    value = sum_power_value(Expectation(sympy.Sum(X[i], (i, 1, n)) ** k), ctx)
    assert sympy.expand(value - brute_force_sum_moment(k, n, {0: 1, **moments})) == 0


def test_member_and_missing_moments():
    fam = IIDFamily(X, 1, 10, ((2, sympy.Integer(3)),))
    ctx = Laws({X.label: fam})
    assert member_moment(Expectation(X[2] ** 2), ctx) == 3
    assert member_moment(Expectation(X[2] ** 3), ctx) is None
    try:
        sum_power_value(Expectation(sympy.Sum(X[i], (i, 1, 10)) ** 3), ctx)
    except MissingMoment as exc:
        assert "E[X^1]" in str(exc) or "E[X^3]" in str(exc)
    else:
        raise AssertionError("a missing moment must be reported")


def test_variance_of_a_sum_and_the_exact_path():
    fam = IIDFamily(X, 1, 5, ((1, sympy.Integer(0)), (2, sympy.Integer(2))))
    ctx = Laws({X.label: fam, Z: Normal(0, 1)})
    s = sympy.Sum(X[i], (i, 1, 5))
    assert expand_sums(unfold_variance(Variance(s)), ctx) == 10
    assert exact_expectations(Expectation(Z**4) + Expectation(s**2), ctx) == 3 + 10
    assert expand_sums(MomentSum(X.label, 5, 2), ctx) == 10


def test_the_wrong_linearity_step_is_refuted_by_value():
    s = sympy.Symbol("s", positive=True)
    ctx = Laws({Z: Normal(0, s**2)})
    assert exact_expectations(Expectation(Z**4), ctx) == 3 * s**4 != 2 * s**4
