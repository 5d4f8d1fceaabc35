"""The exact evaluators of tpcheck.expectations (Gaussian, iid, trace moments, tensor-program
averages) against brute-force references (hypothesis)."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field

import mpmath
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from tpcheck.engines.heads import (
    Avg,
    Expectation,
    GenusSum,
    MatPowVec,
    MatVec,
    MomentSum,
    TracePower,
    Variance,
)
from tpcheck.engines.laws import GaussianMatrix, IIDFamily, InitialVectors, MatrixEnsemble, Normal
from tpcheck.engines.netsor import ProgramError
from tpcheck.engines.random_matrices import gue_trace_moment_by_genus
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
from tpcheck.expectations.programs import average_limit
from tpcheck.expectations.traces import (
    MAX_GOE_LENGTH,
    exact_traces,
    genus_sum_value,
    gue_genus_form,
    trace_moment_value,
    trace_of,
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


# Trace moments of the ensembles, against sums over index tuples.

def pairings_of(points: list[int]) -> list[list[tuple[int, int]]]:
    """Every perfect matching of ``points``, by brute recursion."""
    if not points:
        return [[]]
    first, rest = points[0], points[1:]
    return [[(first, q), *p] for j, q in enumerate(rest) for p in pairings_of(rest[:j] + rest[j + 1:])]


def brute_force_gaussian_trace(kind: str, k: int, n: int) -> sympy.Expr:
    """E tr M^k = sum over (i_1, ..., i_k) and pairings of the factors M_{i_t i_{t+1}} of the
    product of E[M_ab M_cd]: d_ad d_bc (GUE), d_ac d_bd + d_ad d_bc (GOE); tr M^0 = n."""
    if k == 0:
        return sympy.Integer(n)
    total = 0
    for idx in itertools.product(range(n), repeat=k):
        entries = [(idx[t], idx[(t + 1) % k]) for t in range(k)]
        for pairing in pairings_of(list(range(k))):
            term = 1
            for p, q in pairing:
                (a, b), (c, d) = entries[p], entries[q]
                term *= (a == d and b == c) + (kind == "GOE" and a == c and b == d)
            total += term
    return sympy.Integer(total)


def brute_force_entry_trace(k: int, n: int, moments: dict) -> sympy.Expr:
    """Wigner (zero diagonal): sum over (i_1, ..., i_k) of prod over distinct edges {a, b} of
    the entry moment of the edge's multiplicity; tr M^0 = n."""
    if k == 0:
        return sympy.Integer(n)
    total = sympy.Integer(0)
    for idx in itertools.product(range(n), repeat=k):
        edges = [frozenset((idx[t], idx[(t + 1) % k])) for t in range(k)]
        if any(len(e) == 1 for e in edges):
            continue
        total += sympy.Mul(*[moments[c] for c in Counter(edges).values()])
    return sympy.expand(total)


def brute_force_wishart_trace(k: int, p: int, columns: int, moments: dict) -> sympy.Expr:
    """tr (X X^T / N)^k = N^-k sum over (i_t), (j_t) of prod_t X_{i_t j_t} X_{i_{t+1} j_t}, each
    distinct entry weighing the entries' moment of its multiplicity."""
    total = sympy.Integer(0)
    for rows in itertools.product(range(p), repeat=k):
        for cols in itertools.product(range(columns), repeat=k):
            entries = [e for t in range(k) for e in ((rows[t], cols[t]), (rows[(t + 1) % k], cols[t]))]
            total += sympy.Mul(*[moments[c] for c in Counter(entries).values()])
    return sympy.expand(total / sympy.Integer(columns) ** k)


M = sympy.Symbol("M")
size, columns = sympy.symbols("n N", integer=True, positive=True)
entry_moments = {1: sympy.Integer(0), 2: sympy.Integer(1),
                 **{j: sympy.Symbol(f"m{j}", real=True) for j in range(3, 11)}}


def trace(k: int) -> Expectation:
    return Expectation(TracePower(M, sympy.Integer(k)))


@settings(max_examples=20, deadline=None)
@given(kind=st.sampled_from(["GUE", "GOE"]), k=st.integers(0, 6), n=st.integers(1, 3))
def test_gaussian_ensemble_traces_against_wick_over_entries(kind, k, n):
    law = MatrixEnsemble(kind, size)
    assert trace_of(trace(k), Laws({M: law})) == (law, k)
    value = trace_moment_value(law, k)
    assert value.subs(size, n) == brute_force_gaussian_trace(kind, k, n)


@settings(max_examples=20, deadline=None)
@given(k=st.integers(0, 6), n=st.integers(1, 3))
def test_wigner_traces_against_closed_walks_over_indices(k, n):
    law = MatrixEnsemble("Wigner", size, tuple(entry_moments.items()))
    value = trace_moment_value(law, k)
    assert sympy.expand(value.subs(size, n) - brute_force_entry_trace(k, n, entry_moments)) == 0


@settings(max_examples=15, deadline=None)
@given(k=st.integers(1, 4), p=st.integers(1, 2), cols=st.integers(1, 2))
def test_wishart_traces_against_bipartite_walks_over_indices(k, p, cols):
    law = MatrixEnsemble("Wishart", size, tuple(entry_moments.items()), None, columns)
    value = trace_moment_value(law, k)
    brute = brute_force_wishart_trace(k, p, cols, entry_moments)
    assert sympy.expand(value.subs({size: p, columns: cols}) - brute) == 0


def test_traces_beyond_the_declarations_or_the_limits_are_not_valued():
    bare = MatrixEnsemble("Wigner", size, ((1, sympy.Integer(0)), (2, sympy.Integer(1))))
    assert sympy.expand(trace_moment_value(bare, 2) - size * (size - 1)) == 0
    assert trace_moment_value(bare, 4) is None  # needs E[X^4]
    assert trace_moment_value(MatrixEnsemble("GOE", size), MAX_GOE_LENGTH + 2) is None
    ctx = Laws({M: MatrixEnsemble("GOE", size)})
    assert exact_traces(2 * trace(2) + trace(MAX_GOE_LENGTH + 2), ctx, {}) == (
        2 * (size**2 + size) + trace(MAX_GOE_LENGTH + 2))


def test_gue_genus_form_against_the_genus_enumeration():
    k = sympy.Symbol("k", integer=True, nonnegative=True)
    ctx = Laws({M: MatrixEnsemble("GUE", size)})
    assert gue_genus_form(Expectation(TracePower(M, 2 * k + 1)), ctx) == 0
    assert gue_genus_form(Expectation(TracePower(M, 2 * k)), ctx) == size ** (k + 1) * GenusSum(size, k)
    for j in range(5):
        expected = gue_trace_moment_by_genus(2 * j, size) / size ** (j + 1)
        assert sympy.expand(genus_sum_value(GenusSum(size, sympy.Integer(j))) - expected) == 0


# Tensor-program averages, against the moments of the semicircle and Marchenko-Pastur laws
# (non-crossing pairings and partitions, enumerated) and Isserlis' theorem.

x, A = sympy.symbols("x A", real=True)


def program_laws(v: sympy.Expr, s: sympy.Expr, s_t: sympy.Expr) -> Laws:
    v, s, s_t = map(sympy.sympify, (v, s, s_t))
    return Laws({x: InitialVectors(size, (x,), ((v,),), (sympy.Integer(0),)),
                 A: GaussianMatrix(size, s, s_t)})


def noncrossing_partitions_by_blocks(m: int) -> Counter:
    """#blocks -> the number of non-crossing partitions of m points with that many blocks."""
    counts: Counter = Counter()

    def partitions(points: list[int]) -> list[list[list[int]]]:
        if not points:
            return [[]]
        first, rest = points[0], points[1:]
        out = []
        for r in range(len(rest) + 1):
            for block in itertools.combinations(rest, r):
                others = [q for q in rest if q not in block]
                out += [[[first, *block], *p] for p in partitions(others)]
        return out

    for partition in partitions(list(range(m))):
        if not any(a < c < b < d for b1 in partition for b2 in partition if b1 != b2
                   for a in b1 for b in b1 for c in b2 for d in b2):
            counts[len(partition)] += 1
    return counts


@settings(max_examples=6, deadline=None)
@given(k=st.integers(0, 3), v=variances, s=variances)
def test_goe_program_averages_against_noncrossing_pairings(k, v, s):
    half = 1 / sympy.sqrt(2)
    w = sympy.Tuple(sympy.Tuple(A, 0, half), sympy.Tuple(A, 1, half))
    avg = Avg(x * MatPowVec(w, sympy.Integer(2 * k), x))
    limit, exact = average_limit(avg, program_laws(v, s, s), size, 30)
    noncrossing = sum(1 for p in pairings_of(list(range(2 * k)))
                      if not any(a < c < b < d for a, b in p for c, d in p))
    assert exact and sympy.expand(limit - v * s**k * noncrossing) == 0


@settings(max_examples=6, deadline=None)
@given(j=st.integers(1, 3), lam=variances)
def test_wishart_program_averages_against_noncrossing_partitions(j, lam):
    y = x
    for _ in range(j):
        y = MatVec(A, sympy.Integer(0), MatVec(A, sympy.Integer(1), y))
    limit, exact = average_limit(Avg(x * y), program_laws(1, 1, lam), size, 30)
    expected = sum(c * lam ** (b - 1) for b, c in noncrossing_partitions_by_blocks(j).items())
    assert exact and sympy.expand(limit - expected) == 0


@settings(max_examples=10, deadline=None)
@given(a=st.integers(0, 4), b=st.integers(0, 4), v=variances, s=variances)
def test_linear_program_averages_against_isserlis(a, b, v, s):
    avg = Avg(x**a * MatVec(A, sympy.Integer(0), x) ** b)
    limit, exact = average_limit(avg, program_laws(v, s, s), size, 30)
    moment = lambda m, var: len(pairings_of(list(range(m)))) * var ** sympy.Rational(m, 2)  # noqa: E731
    assert exact and sympy.expand(limit - moment(a, v) * moment(b, s * v)) == 0


def test_a_program_outside_the_master_theorem_is_refused():
    laws = program_laws(1, 1, 1)
    with pytest.raises(ProgramError, match="not polynomially bounded"):
        average_limit(Avg(sympy.exp(x**2)), laws, size, 30)
    with pytest.raises(ProgramError, match="width"):
        average_limit(Avg(x**2), laws, columns, 30)
