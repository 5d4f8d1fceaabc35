"""The Gaussian engine against its references: pairings, Monte-Carlo, quadrature."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from tpcheck.engines.gaussian import (
    bivariate_expectation,
    bivariate_expectation_mc,
    erf_derivative_kernel,
    erf_kernel,
    gaussian_expectation,
    isserlis_by_matchings,
    isserlis_moment,
    isserlis_moment_mc,
    polynomial_activation,
    relu_kernel,
    step_kernel,
)
from tpcheck.witness.stats import Z_THRESHOLD


def symbolic_cov(d):
    c = [[None] * d for _ in range(d)]
    for i in range(d):
        for j in range(d):
            a, b = min(i, j), max(i, j)
            c[i][j] = sympy.Symbol(f"c{a}{b}", real=True)
    return c


def test_fact_sheet_examples():
    c = symbolic_cov(4)
    assert isserlis_moment([1, 1, 1, 1], c) == c[0][1] * c[2][3] + c[0][2] * c[1][3] + c[0][3] * c[1][2]
    assert sympy.expand(isserlis_moment([2, 2, 0, 0], c) - (c[0][0] * c[1][1] + 2 * c[0][1] ** 2)) == 0
    assert sympy.expand(isserlis_moment([3, 1, 0, 0], c) - 3 * c[0][0] * c[0][1]) == 0
    assert sympy.expand(isserlis_moment([4, 2, 0, 0], c)
                        - (3 * c[0][0] ** 2 * c[1][1] + 12 * c[0][0] * c[0][1] ** 2)) == 0
    assert [isserlis_moment([2 * k], [[1]]) for k in range(7)] == [1, 1, 3, 15, 105, 945, 10395]


@given(st.lists(st.integers(0, 3), min_size=1, max_size=3), st.booleans())
@settings(max_examples=60, deadline=None)
def test_recursion_equals_matchings_with_symbolic_entries(exps, with_mean):
    d = len(exps)
    cov = symbolic_cov(d)
    mean = [sympy.Symbol(f"m{i}", real=True) for i in range(d)] if with_mean else None
    assert sympy.expand(isserlis_moment(exps, cov, mean) - isserlis_by_matchings(exps, cov, mean)) == 0


@given(st.lists(st.integers(0, 4), min_size=2, max_size=3), st.integers(0, 10**6))
@settings(max_examples=20, deadline=None)
def test_recursion_against_monte_carlo(exps, seed):
    rng = np.random.default_rng(seed)
    d = len(exps)
    a = rng.integers(-3, 4, size=(d, d))
    cov_int = a @ a.T + np.eye(d, dtype=int)
    cov = [[sympy.Rational(int(x), 4) for x in row] for row in cov_int]
    exact = float(isserlis_moment(exps, cov))
    est, se = isserlis_moment_mc(exps, np.asarray(cov_int) / 4, None, 200_000, seed)
    assert abs(est - exact) <= Z_THRESHOLD * se + 1e-12


DUALS = [
    # (f, g, q1, q2, c, closed form)
    ("relu", "relu", "1.3", "0.7", "0.4", relu_kernel),
    ("step", "step", "1.3", "0.7", "0.4", step_kernel),
    ("relu", "relu", "1", "1", "1/3", relu_kernel),
    ("erf", "erf", "1", "1", "1/2", erf_kernel),
    ("erf", "erf", "2", "0.5", "-0.3", erf_kernel),
]


@pytest.mark.parametrize("f,g,q1,q2,c,closed", DUALS)
def test_quadrature_matches_closed_forms_to_the_requested_digits(f, g, q1, q2, c, closed):
    r = sympy.Rational
    exact = closed(r(q1), r(q2), r(c))
    digits = 30
    with mpmath.workdps(digits + 5):
        value = bivariate_expectation(f, g, mpmath.mpf(r(q1).p) / r(q1).q,
                                      mpmath.mpf(r(q2).p) / r(q2).q, mpmath.mpf(r(c).p) / r(c).q,
                                      dps=digits)
        target = mpmath.mpf(str(sympy.N(exact, digits + 10)))
        assert abs(value - target) < mpmath.mpf(10) ** (-digits + 2)


def test_fact_sheet_numbers():
    with mpmath.workdps(30):
        assert mpmath.almosteq(bivariate_expectation("relu", "relu", 1, 1, mpmath.mpf(1) / 3),
                               mpmath.mpf("0.2514149606877497998973906"), 1e-24)
        assert mpmath.almosteq(gaussian_expectation(polynomial_activation([0, 0, 1]), 1), 1, 1e-28)
        sech2 = gaussian_expectation("tanh", 1)  # odd: 0
        assert abs(sech2) < 1e-28
        erfp = erf_derivative_kernel(sympy.Integer(1), sympy.Integer(1), sympy.Rational(1, 2))
        assert abs(sympy.N(erfp, 25) - sympy.Float("0.4501581580785530347775996", 25)) < 1e-22


def test_mgf_closed_form_against_quadrature():
    from tpcheck.engines.gaussian import ACTIVATIONS, gaussian_mgf

    with mpmath.workdps(30):
        value = gaussian_expectation(ACTIVATIONS["exp"], 1)
        assert mpmath.almosteq(value, mpmath.exp(mpmath.mpf(1) / 2), 1e-27)
    assert gaussian_mgf(sympy.Integer(2)) == sympy.exp(2)


@pytest.mark.parametrize("f,g", [("relu", "relu"), ("erf", "tanh"), ("step", "sin")])
def test_bivariate_against_monte_carlo(f, g):
    with mpmath.workdps(20):
        exact = float(bivariate_expectation(f, g, 1.3, 0.7, 0.4, dps=15))
    est, se = bivariate_expectation_mc(f, g, 1.3, 0.7, 0.4, 200_000, 11)
    assert abs(est - exact) <= Z_THRESHOLD * se
