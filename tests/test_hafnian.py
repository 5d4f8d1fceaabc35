"""Exact hafnians (Björklund) and Kan's moments against brute-force pairings and
tpcheck.engines.gaussian.isserlis_by_parts, the memoised integration by parts."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from tpcheck.engines.gaussian import isserlis_by_matchings, isserlis_by_parts
from tpcheck.engines.hafnian import (
    HafnianError,
    gaussian_moment,
    hafnian,
    hafnian_bound,
    hafnian_by_matchings,
    hafnian_float,
    hafnian_int,
    kan_moment,
)


def symmetric(draw, size: int, elements) -> list[list]:
    a = [[0] * size for _ in range(size)]
    for i in range(size):
        for j in range(i, size):
            a[i][j] = a[j][i] = draw(elements)
    return a


@st.composite
def integer_matrices(draw, max_size: int = 10, bound: int = 20):
    size = 2 * draw(st.integers(0, max_size // 2))
    return symmetric(draw, size, st.integers(-bound, bound))


@st.composite
def rational_matrices(draw, max_size: int = 8):
    size = 2 * draw(st.integers(0, max_size // 2))
    frac = st.builds(sympy.Rational, st.integers(-9, 9), st.integers(1, 7))
    return symmetric(draw, size, frac)


@st.composite
def moments(draw, max_dim: int = 4, max_total: int = 8):
    d = draw(st.integers(1, max_dim))
    a = draw(st.lists(st.integers(0, 4), min_size=d, max_size=d).filter(lambda x: sum(x) <= max_total))
    frac = st.builds(sympy.Rational, st.integers(-6, 6), st.integers(1, 4))
    return a, symmetric(draw, d, frac)


def test_fact_sheet_examples():
    c = [[sympy.Symbol(f"c{min(i, j)}{max(i, j)}", real=True) for j in range(4)] for i in range(4)]
    assert hafnian(c) == c[0][1] * c[2][3] + c[0][2] * c[1][3] + c[0][3] * c[1][2]
    assert gaussian_moment([2, 2, 0, 0], c) == sympy.expand(c[0][0] * c[1][1] + 2 * c[0][1] ** 2)
    assert gaussian_moment([3, 1, 0, 0], c) == 3 * c[0][0] * c[0][1]
    assert gaussian_moment([4, 2, 0, 0], c) == sympy.expand(3 * c[0][0] ** 2 * c[1][1]
                                                            + 12 * c[0][0] * c[0][1] ** 2)
    assert hafnian([[1] * 4] * 4) == 3  # E Z^4
    assert gaussian_moment([40], [[1]]) == math.prod(range(1, 40, 2))


@settings(max_examples=60, deadline=None)
@given(integer_matrices())
def test_integer_hafnian_against_pairings(a):
    assert hafnian_int(a) == hafnian_by_matchings(a)
    assert hafnian_int(a) == isserlis_by_matchings([1] * len(a), a)


@settings(max_examples=30, deadline=None)
@given(integer_matrices(max_size=8, bound=10**30))
def test_huge_entries_many_primes(a):
    assert hafnian_int(a) == hafnian_by_matchings(a)


@settings(max_examples=30, deadline=None)
@given(rational_matrices())
def test_rational_hafnian_against_isserlis(a):
    assert hafnian(a) == isserlis_by_parts([1] * len(a), a)


@settings(max_examples=40, deadline=None)
@given(moments())
def test_moments_against_isserlis(case):
    a, c = case
    expected = isserlis_by_parts(a, c)
    assert gaussian_moment(a, c) == expected
    assert kan_moment(a, c) == expected
    rep = [i for i, x in enumerate(a) for _ in range(x)]
    assert hafnian([[c[i][j] for j in rep] for i in rep]) == expected


@settings(max_examples=25, deadline=None)
@given(moments(max_dim=3, max_total=6), st.lists(st.integers(-3, 3), min_size=3, max_size=3))
def test_non_centred_moments(case, mu):
    a, c = case
    mean = [sympy.Rational(m, 2) for m in mu[: len(a)]]
    assert gaussian_moment(a, c, mean) == isserlis_by_parts(a, c, mean)


def test_symbolic_hafnian_and_moments():
    x, y = sympy.symbols("x y")
    c6 = [[sympy.Symbol(f"c{min(i, j)}{max(i, j)}") for j in range(6)] for i in range(6)]
    assert sympy.expand(hafnian(c6) - hafnian_by_matchings(c6)) == 0
    c = [[1, x], [x, y]]
    for a in ([2, 2], [3, 1], [4, 2], [1, 5], [3, 3]):
        assert sympy.expand(gaussian_moment(a, c) - isserlis_by_parts(a, c)) == 0
    mean = [x, 1]
    assert sympy.expand(gaussian_moment([2, 1], c, mean) - isserlis_by_parts([2, 1], c, mean)) == 0
    s2 = [[sympy.sqrt(2), 1, 0, 1], [1, 2, sympy.sqrt(2), 0], [0, sympy.sqrt(2), 1, 1], [1, 0, 1, 3]]
    assert sympy.expand(hafnian(s2) - hafnian_by_matchings(s2)) == 0


def test_float_witness():
    rng = np.random.default_rng(3)
    a = rng.integers(-3, 4, (12, 12))
    a = a + a.T
    exact = hafnian_int(a.tolist())
    assert abs(hafnian_float(a) - exact) <= 1e-9 * max(1, abs(exact))


def test_depth_first_split_agrees(monkeypatch):
    import tpcheck.engines.hafnian as engine

    rng = np.random.default_rng(5)
    a = rng.integers(-4, 5, (12, 12))
    a = (a + a.T).tolist()
    expected = hafnian_int(a)
    monkeypatch.setattr(engine, "_LEVEL_ELEMENTS", 64)
    assert hafnian_int(a) == expected


@settings(max_examples=40, deadline=None)
@given(integer_matrices(max_size=10, bound=10**6))
def test_bound_holds_for_the_absolute_matrix(a):
    off = [[abs(x) if i != j else 0 for j, x in enumerate(row)] for i, row in enumerate(a)]
    assert abs(hafnian_int(a)) <= hafnian_int(off) <= hafnian_bound(a)


def test_bound_on_extremal_matrices():
    for size in (2, 4, 8, 12):
        ones = [[1] * size for _ in range(size)]
        assert hafnian_int(ones) == math.prod(range(1, size, 2)) <= hafnian_bound(ones)
    assert hafnian_bound([[5, 0], [0, 7]]) == 1  # the diagonal is not used; haf = 0


@settings(max_examples=15, deadline=None)
@given(integer_matrices(max_size=16, bound=6).filter(lambda a: len(a) >= 10))
def test_larger_integer_hafnians_against_isserlis(a):
    assert hafnian_int(a) == isserlis_by_parts([1] * len(a), a)


@settings(max_examples=10, deadline=None)
@given(integer_matrices(max_size=12, bound=2**62).filter(lambda a: len(a) >= 8))
def test_large_and_negative_entries_against_isserlis(a):
    assert hafnian_int(a) == isserlis_by_parts([1] * len(a), a)


@settings(max_examples=8, deadline=None)
@given(rational_matrices(max_size=12).filter(lambda a: len(a) >= 10))
def test_larger_rational_hafnians_against_isserlis(a):
    assert hafnian(a) == isserlis_by_parts([1] * len(a), a)


def test_every_residue_at_its_largest():
    # A = -J: every residue is p - 1, the largest values the lazy accumulation can meet
    for size in (4, 6, 10, 16, 20):
        a = [[-1] * size for _ in range(size)]
        assert hafnian_int(a) == (-1) ** (size // 2) * math.prod(range(1, size, 2))


def test_modulus_limit_keeps_float64_exact():
    import tpcheck.engines.hafnian as engine

    for k in range(2, 64):
        p = engine._modulus_limit(k)
        assert p + 2 * (k - 1) ** 2 * p**2 + p < 2**52  # the entries of B, plus a modulus
        assert 2 * k * p**2 < 2**52  # g (1 + t a) and the leaves


def test_coefficient_blocks_agree(monkeypatch):
    import tpcheck.engines.hafnian as engine

    rng = np.random.default_rng(7)
    a = rng.integers(-5, 6, (14, 14))
    a = (a + a.T).tolist()
    expected = isserlis_by_parts([1] * 14, a)
    for blocks in (1, 2, 3, 7, 20):
        monkeypatch.setattr(engine, "_COEFFICIENT_BLOCKS", blocks)
        engine._coefficient_blocks.cache_clear()
        assert hafnian_int(a) == expected
        assert abs(hafnian_float(a) - expected) <= 1e-9 * max(1, abs(expected))
    engine._coefficient_blocks.cache_clear()


def test_zero_small_and_odd():
    assert hafnian_int([[0] * 8 for _ in range(8)]) == 0
    assert hafnian_int([[1, 2, 3], [2, 1, 4], [3, 4, 1]]) == 0
    assert hafnian_int([[9, -4], [-4, 9]]) == -4
    assert hafnian_int([]) == 1
    a = [[0, 1, 2, 3], [1, 0, 4, 5], [2, 4, 0, 6], [3, 5, 6, 0]]
    a[3] = [0, 0, 0, 0]
    for row in a:
        row[3] = 0
    assert hafnian_int(a) == 0  # a vertex without edges
    assert hafnian_float([[0] * 6 for _ in range(6)]) == 0.0
    assert hafnian_float([[1, 3], [3, 1]]) == 3.0
    assert hafnian_float([[0, 1, 2, 3], [1, 0, 4, 5], [2, 4, 0, 6], [3, 5, 6, 0]]) == 1 * 6 + 2 * 5 + 3 * 4


def test_odd_and_empty():
    assert hafnian([]) == 1
    assert hafnian([[1, 2, 3], [2, 1, 4], [3, 4, 1]]) == 0
    assert gaussian_moment([1, 2], [[1, 0], [0, 1]]) == 0


def test_refusals():
    with pytest.raises(HafnianError, match="not square"):
        hafnian([[1, 2], [3]])
    with pytest.raises(HafnianError, match="not symmetric"):
        hafnian([[0, 1], [2, 0]])
    with pytest.raises(HafnianError, match="agree in dimension"):
        gaussian_moment([1, 1], [[1]])


@pytest.mark.slow
def test_size_20_against_isserlis():
    rng = np.random.default_rng(11)
    a = rng.integers(-2, 3, (20, 20))
    a = (a + a.T).tolist()
    assert hafnian_int(a) == isserlis_by_parts([1] * 20, a)
