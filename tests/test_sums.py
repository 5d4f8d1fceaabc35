"""Sums of iid variables: the partition formula against enumeration, expansion and simulation."""

from __future__ import annotations

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from tpcheck.engines.iid_sums import (
    normalized_sum_moment,
    normalized_sum_moment_limit,
    normalized_sum_moment_mc,
    sum_moment,
    sum_moment_by_expansion,
    sum_moment_by_set_partitions,
)
from tpcheck.engines.laws import CentredExponential, Rademacher, TwoPoint, Uniform
from tpcheck.witness.stats import Z_THRESHOLD

n = sympy.Symbol("n", integer=True, positive=True)
m3, m4 = sympy.Symbol("m3", real=True), sympy.Symbol("m4", real=True)


def test_fact_sheet_rows():
    assert normalized_sum_moment(4, n) == sympy.expand(3 + (m4 - 3) / n)
    assert normalized_sum_moment(3, n) == m3 / sympy.sqrt(n)
    assert normalized_sum_moment(2, n) == 1


@given(st.integers(1, 7))
@settings(max_examples=7, deadline=None)
def test_partition_types_equal_enumeration(k):
    assert sympy.expand(sum_moment(k, n) - sum_moment_by_set_partitions(k, n)) == 0


@given(st.integers(1, 6), st.integers(1, 4))
@settings(max_examples=24, deadline=None)
def test_formula_equals_direct_expansion(k, size):
    assert sympy.expand(sum_moment(k, sympy.Integer(size)) - sum_moment_by_expansion(k, size)) == 0


def test_t3_test_vectors_exactly():
    two_point = TwoPoint(sympy.Integer(2), sympy.Rational(-1, 2), sympy.Rational(1, 5))
    expected = {4: [1, 2, sympy.Rational(7, 3), sympy.Rational(13, 5)],
                6: [1, 4, sympy.Rational(61, 9), sympy.Rational(241, 25)]}
    for k, values in expected.items():
        got = [normalized_sum_moment(k, sympy.Integer(v), Rademacher().moment) for v in (1, 2, 3, 5)]
        assert got == values
    assert [normalized_sum_moment(4, sympy.Integer(v), two_point.moment) for v in (1, 2, 3, 5)] == [
        sympy.Rational(13, 4), sympy.Rational(25, 8), sympy.Rational(37, 12), sympy.Rational(61, 20)]


def test_limits_are_the_gaussian_moments():
    for k in range(1, 9):
        limit = sympy.limit(normalized_sum_moment(k, n), n, sympy.oo)
        assert limit == normalized_sum_moment_limit(k)


LAWS = [(Rademacher(), (1.0, -1.0, 0.5)), (Uniform(-sympy.sqrt(3), sympy.sqrt(3)), (-3**0.5, 3**0.5)),
        (CentredExponential(), ())]


@pytest.mark.parametrize("law,params", LAWS, ids=lambda x: getattr(x, "name", ""))
@pytest.mark.parametrize("size", [5, 20])
def test_finite_n_formula_against_simulation(law, params, size):
    for k in (3, 4, 6):
        exact = float(normalized_sum_moment(k, sympy.Integer(size), law.moment))
        est, se = normalized_sum_moment_mc(k, size, law, 100_000, 1000 * k + size, params)
        assert abs(est - exact) <= Z_THRESHOLD * se, (k, est, exact, se)


def test_simulation_separates_the_finite_n_value_from_a_wrong_one():
    """At n = 5 with 400000 Rademacher samples, 3 + (m4 - 2)/n is off by 1/5: far beyond
    the threshold, while the true value passes."""
    law, params = Rademacher(), (1.0, -1.0, 0.5)
    est, se = normalized_sum_moment_mc(4, 5, law, 400_000, 3, params)
    right = 3 + (1 - 3) / 5
    wrong = 3 + (1 - 2) / 5
    assert abs(est - right) <= Z_THRESHOLD * se
    assert abs(est - wrong) > Z_THRESHOLD * se


def test_split_power_reads_the_power_of_n_and_names_a_factor_that_depends_on_it():
    import sympy

    from tpcheck.rules.common import split_power

    n, c, k = sympy.symbols("n c k", positive=True)
    assert split_power(3 * c * n ** (-k / 2) * n, n) == (1 - k / 2, [3, c], None)
    power, const, bad = split_power(c * sympy.log(n), n)
    assert bad == sympy.log(n)
