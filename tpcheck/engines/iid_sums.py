"""Sums of iid variables: exact finite-n moments by set partitions (theory facts §2).

For X_1, ..., X_n iid with E X = 0, E X^2 = 1 and moments m_j = E X^j,

    E[(X_1 + ... + X_n)^k] = sum over set partitions pi of {1..k} without singletons
                              of (n)_{|pi|} prod_{B in pi} m_{|B|},

because expanding the power and grouping index tuples by their equality pattern gives one term
per set partition (distinct indices for distinct blocks: (n)_{|pi|} ways), and a block of size
one contributes m_1 = 0. Partitions with the same block sizes contribute alike, so the sum runs
over integer partitions of k into parts >= 2, weighted by the number of set partitions of that
type. With S_n = n^{-1/2}(X_1 + ... + X_n), E[S_n^k] -> (k-1)!! for even k and 0 for odd k.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import sympy

from tpcheck.engines.combinatorics import (
    double_factorial,
    integer_partitions,
    set_partitions,
    set_partitions_of_type,
)
from tpcheck.engines.laws import Law
from tpcheck.trusted import rests_on

MomentFn = Callable[[int], sympy.Expr]


def standard_moments(j: int) -> sympy.Expr:
    """m_1 = 0, m_2 = 1, m_j = the symbol m<j> otherwise."""
    if j == 1:
        return sympy.Integer(0)
    if j == 2:
        return sympy.Integer(1)
    return sympy.Symbol(f"m{j}", real=True)


def sum_moment(
    k: int, n: sympy.Expr, moments: MomentFn = standard_moments, min_block: int = 1
) -> sympy.Expr:
    """E[(X_1 + ... + X_n)^k] exactly, as a polynomial in n and the moments (with
    ``min_block=2``: the same sum without the partitions that have singleton blocks)."""
    rests_on("iid-sums")
    total = sympy.Integer(0)
    for blocks in integer_partitions(k, min_block):
        factors = []
        for b in sorted(blocks):  # smallest first: a vanishing m_1 ends the term early
            m = moments(b)
            factors.append(m)
            if m == 0:
                break
        if factors and factors[-1] == 0:
            continue
        weight = set_partitions_of_type(blocks)
        total += weight * sympy.ff(n, len(blocks)) * sympy.Mul(*factors)
    return sympy.expand(sympy.expand_func(total))


def normalized_sum_moment(k: int, n: sympy.Expr, moments: MomentFn = standard_moments) -> sympy.Expr:
    """E[S_n^k] for S_n = n^{-1/2}(X_1 + ... + X_n), exactly."""
    return sympy.expand(sum_moment(k, n, moments) / n ** sympy.Rational(k, 2))


def sum_moment_by_set_partitions(k: int, n: sympy.Expr, moments: MomentFn = standard_moments) -> sympy.Expr:
    """Reference: the same sum, enumerating every set partition."""
    total = sympy.Integer(0)
    for p in set_partitions(list(range(k))):
        total += sympy.ff(n, len(p)) * sympy.Mul(*[moments(len(b)) for b in p])
    return sympy.expand(sympy.expand_func(total))


def sum_moment_by_expansion(k: int, n: int, moments: MomentFn = standard_moments) -> sympy.Expr:
    """Reference for a concrete n: expand (X_1 + ... + X_n)^k over all index tuples."""
    total = sympy.Integer(0)
    for idx in itertools.product(range(n), repeat=k):
        counts: dict[int, int] = {}
        for i in idx:
            counts[i] = counts.get(i, 0) + 1
        total += sympy.Mul(*[moments(c) for c in counts.values()])
    return sympy.expand(total)


def normalized_sum_moment_limit(k: int) -> int:
    """lim_{n -> oo} E[S_n^k]: (k-1)!! for even k, 0 for odd k (the N(0, 1) moments)."""
    return double_factorial(k - 1) if k % 2 == 0 else 0


def normalized_sum_moment_mc(
    k: int, n: int, law: Law, samples: int, seed: int, params: tuple[float, ...] = ()
) -> tuple[float, float]:
    """Simulation mirror: (estimate, standard error) of E[S_n^k] with summands from ``law``."""
    rng = np.random.default_rng(seed)
    x = law.sample(rng, (samples, n), *params)
    s = x.sum(axis=1) / np.sqrt(n)
    vals = s**k
    return float(vals.mean()), float(vals.std(ddof=1) / np.sqrt(samples))


def moment_sum_by_set_partitions(k: int, n: object, moment: Callable[[int], object]) -> object:
    """sum over set partitions of {1..k} without singletons of (n)_{|pi|} prod m_|B|, by
    enumeration, with any numbers (the witnesses' independent path)."""
    import mpmath

    total = 0
    for p in set_partitions(list(range(k)), min_block=2):
        term = mpmath.ff(n, len(p))
        for b in p:
            term *= moment(len(b))
        total += term
    return total
