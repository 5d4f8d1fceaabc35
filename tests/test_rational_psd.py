"""The exact PSD test of law conditions (``rational_psd``) against Sylvester's criterion over
every principal minor, which it replaces for rational matrices."""

from __future__ import annotations

import random
from fractions import Fraction as F
from itertools import combinations

import pytest
import sympy

from tpcheck.engines.instances import rational_psd


def sylvester_psd(a) -> bool:
    d = len(a)
    if any(a[i][j] != a[j][i] for i in range(d) for j in range(i)):
        return False
    return all(sympy.Matrix([[a[i][j] for j in idx] for i in idx]).det(method="bareiss") >= 0
               for size in range(1, d + 1) for idx in combinations(range(d), size))


def _random_matrix(rng: random.Random, d: int):
    kind = rng.choice(["gram", "gram-deficient", "random", "perturbed"])
    if kind == "random":
        a = [[F(rng.randint(-3, 3), rng.randint(1, 3)) for _ in range(d)] for _ in range(d)]
        return [[a[max(i, j)][min(i, j)] for j in range(d)] for i in range(d)]
    rank = d if kind != "gram-deficient" else rng.randint(0, d - 1)
    b = [[F(rng.randint(-2, 2), rng.randint(1, 2)) for _ in range(max(rank, 1))] for _ in range(d)]
    if rank == 0:
        b = [[F(0)] for _ in range(d)]
    g = [[sum(x * y for x, y in zip(b[i], b[j], strict=True)) for j in range(d)] for i in range(d)]
    if kind == "perturbed":
        i = rng.randrange(d)
        g[i][i] -= F(1, rng.randint(1, 4))
    return g


@pytest.mark.parametrize("seed", range(6))
def test_rational_psd_agrees_with_every_principal_minor(seed):
    rng = random.Random(seed)
    seen = {True: 0, False: 0}
    for _ in range(60):
        a = _random_matrix(rng, rng.randint(1, 5))
        expected = sylvester_psd(a)
        assert rational_psd(a) is expected, a
        seen[expected] += 1
    assert seen[True] and seen[False]


def test_rational_psd_edge_cases():
    assert rational_psd([[F(0)]]) and not rational_psd([[F(-1)]])
    assert not rational_psd([[F(0), F(1)], [F(1), F(0)]])  # zero diagonal, nonzero beside it
    assert rational_psd([[F(1), F(1)], [F(1), F(1)]])  # singular, PSD
    assert not rational_psd([[F(1), F(2)], [F(0), F(1)]])  # not symmetric
    hankel = [[F(1), F(0), F(1)], [F(0), F(1), F(0)], [F(1), F(0), F(1)]]  # Rademacher, m4 = 1
    assert rational_psd(hankel)
    hankel[2][2] = F(9, 10)  # m4 < m2^2: no law has these moments
    assert not rational_psd(hankel)


def minors_reference(rows, instance):
    """The condition as Sylvester states it: every principal minor the instance fixes >= 0."""
    d = len(rows)
    m = [[None if x is None else sympy.expand(x.xreplace(instance)) for x in r] for r in rows]

    def fixed(x):
        return x is not None and not x.free_symbols

    decided = None
    for i in range(d):
        for j in range(i):
            if fixed(m[i][j]) and fixed(m[j][i]):
                if sympy.expand(m[i][j] - m[j][i]) != 0:
                    return False
                decided = True
    for size in range(1, d + 1):
        for idx in combinations(range(d), size):
            if all(fixed(m[i][j]) for i in idx for j in idx):
                if sympy.Matrix([[m[i][j] for j in idx] for i in idx]).det() < 0:
                    return False
                decided = True
    return decided


@pytest.mark.parametrize("seed", range(4))
def test_partly_fixed_hankel_matrices_match_every_fixed_minor(seed):
    from tpcheck.engines.instances import _psd_holds

    rng = random.Random(seed)
    moments = sympy.symbols("m0:9")
    for _ in range(40):
        top = rng.randint(1, 4)
        rows = tuple(tuple(moments[i + j] for j in range(top + 1)) for i in range(top + 1))
        known = rng.randint(0, 2 * top)  # moments above this order stay free
        values = _random_matrix(rng, top + 1)
        instance = {moments[i + j]: sympy.Rational(values[min(i, j)][max(i, j)].numerator,
                                                   values[min(i, j)][max(i, j)].denominator)
                    for i in range(top + 1) for j in range(top + 1) if i + j <= known}
        assert _psd_holds(rows, instance) == minors_reference(rows, instance)
