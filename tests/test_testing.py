"""The property-testing API: strategies, assertions, error rates, the documented examples."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from tpcheck.engines.combinatorics import is_noncrossing
from tpcheck.engines.gaussian import bivariate_expectation_hermite, relu_kernel
from tpcheck.testing import (
    activations,
    assert_close,
    assert_identity,
    assert_montecarlo,
    detectable_deviation,
    gaussian_polynomials,
    matrix_ensembles,
    pairings,
    psd_matrices,
    set_partitions,
    tensor_programs,
)


@given(psd_matrices(3))
@settings(max_examples=30, deadline=None)
def test_psd_matrices_are_psd(c):
    m = sympy.Matrix(c)
    assert m == m.T and all(ev >= 0 for ev in np.linalg.eigvalsh(np.array(m, dtype=float)) + 1e-9)


@given(pairings(8), set_partitions(6))
@settings(max_examples=30, deadline=None)
def test_pairings_and_partitions_are_valid(p, blocks):
    assert sorted(x for pair in p for x in pair) == list(range(8))
    assert sorted(x for b in blocks for x in b) == list(range(6))
    assert isinstance(is_noncrossing(p), bool)


@given(gaussian_polynomials(sympy.symbols("x y")))
@settings(max_examples=20, deadline=None)
def test_polynomials_are_polynomials(p):
    assert p.is_polynomial(*sympy.symbols("x y"))


@given(tensor_programs("relu", 3))
@settings(max_examples=5, deadline=None)
def test_random_relu_programs_agree_with_simulation(drawn):
    from tpcheck.engines.netsor import master_theorem_limit, simulate
    from tpcheck.witness.stats import Z_THRESHOLD

    value, _ = master_theorem_limit(drawn.program, drawn.psi, drawn.inputs)
    est, se = simulate(drawn.program, drawn.psi, drawn.inputs, n=300, samples=20, seed=0)
    assert abs(est - float(value)) <= Z_THRESHOLD * se + 1e-9


def test_assert_identity_passes_and_shrinks_a_counterexample():
    x, y = sympy.symbols("x y")
    assert_identity((x + y) ** 2, x**2 + 2 * x * y + y**2, ["x", "y"])
    with pytest.raises(AssertionError, match="not an identity") as info:
        assert_identity(sympy.catalan(x), sympy.binomial(2 * x, x) / (x + 2), ["x"],
                        values=st.integers(0, 30))
    assert "'x': 0" in str(info.value)  # shrunk to the smallest k


def test_worked_example_wrong_tanh_kernel_is_found_and_shrunk():
    def tanh_kernel(rho):
        return bivariate_expectation_hermite("tanh", "tanh", 1.0, 1.0, float(rho))

    def guess(rho):
        return 2 / mpmath.pi * mpmath.asin(2 * mpmath.mpf(rho.numerator) / rho.denominator / 3)

    rhos = st.fractions(min_value=Fraction(-9, 10), max_value=Fraction(9, 10), max_denominator=10)
    with pytest.raises(AssertionError, match="not equal to 6 digits") as info:
        assert_close(tanh_kernel, guess, ["rho"], digits=6, values=rhos)
    shrunk = eval_fraction(str(info.value))
    assert shrunk is not None and shrunk.denominator <= 10


def eval_fraction(message: str) -> Fraction | None:
    import re

    m = re.search(r"Fraction\((-?\d+), (\d+)\)", message)
    return Fraction(int(m.group(1)), int(m.group(2))) if m else None


def test_hermite_rule_against_the_fact_sheet_tanh_dual():
    assert abs(bivariate_expectation_hermite("tanh", "tanh", 1, 1, 0.5)
               - 0.18632441320344808611) < 1e-9


X, XP, D, N = np.array([1.0, 1.0, 1.0]), np.array([1.0, 1.0, -1.0]), 3, 64


def network_kernel_draws(rng, samples):
    w = rng.standard_normal((samples, N, D)) * np.sqrt(2 / D)
    v = rng.standard_normal((samples, N))
    f = (v * np.maximum(w @ X, 0)).sum(1) / np.sqrt(N)
    fp = (v * np.maximum(w @ XP, 0)).sum(1) / np.sqrt(N)
    return f * fp


def test_worked_example_kernel_claim_against_simulation():
    claimed = float(relu_kernel(2, 2, sympy.Rational(2, 3)))
    result = assert_montecarlo(network_kernel_draws, claimed, samples=20_000, seed=1)
    assert abs(claimed - 1.00565984275099919959 / 2) < 1e-12  # sigma_w^2 = 2 gives 2x this
    assert result.detectable < 0.1
    with pytest.raises(AssertionError, match="rejected"):
        assert_montecarlo(network_kernel_draws, claimed * 1.3, samples=20_000, seed=1)


@pytest.mark.slow
def test_false_alarm_rate_and_power():
    """A true claim over 300 seeds at level 0.02: the false alarms stay within the binomial
    bound; a 1% perturbation at the size where the reported detectable deviation is 1% is
    caught in at least 80% of 60 seeds (the stated power is 90%)."""
    def draws(rng, samples):
        return rng.exponential(1.0, samples)

    alarms = 0
    for seed in range(300):
        try:
            assert_montecarlo(draws, 1.0, samples=400, seed=seed, false_alarm=0.02)
        except AssertionError:
            alarms += 1
    assert alarms <= 16  # P(Binomial(300, 0.02) > 16) < 1e-4

    threshold = 4.0  # level false_alarm=6.3e-5
    samples = int(((threshold + 1.2816) * 1.0 / 0.01) ** 2) + 1
    assert detectable_deviation(1.0 / np.sqrt(samples), threshold) <= 0.0101
    caught = 0
    for seed in range(60):
        try:
            assert_montecarlo(draws, 1.01, samples=samples, seed=10_000 + seed, false_alarm=6.3e-5)
        except AssertionError:
            caught += 1
    assert caught >= 48


@settings(max_examples=20, deadline=None)
@given(drawn=matrix_ensembles(max_n=5))
def test_matrix_ensembles_draw_known_ensembles_and_sizes(drawn):
    ensemble, n = drawn
    assert ensemble in ("GOE", "GUE", "Wigner") and 1 <= n <= 5


@settings(max_examples=20, deadline=None)
@given(name=activations(), smooth=activations(smooth_only=True))
def test_activations_are_the_gaussian_engines(name, smooth):
    from tpcheck.engines.gaussian import ACTIVATIONS

    assert name in ACTIVATIONS
    assert smooth in ACTIVATIONS and not ACTIVATIONS[smooth].kink
