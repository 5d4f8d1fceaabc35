"""Exact random-matrix moments against their references and against simulation."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from tests.conftest import run
from tpcheck.engines.random_matrices import (
    bidiagonal_laguerre,
    gaussian_moment_of,
    goe_trace_moment,
    gue_trace_moment,
    gue_trace_moment_by_genus,
    ks_to_semicircle,
    marchenko_pastur_moment,
    semicircle_moment,
    spectral_moments_mc,
    sturm_counts,
    tridiagonal_hermite,
    tridiagonal_trace_powers,
    wigner_trace_moment,
    wishart_trace_moment,
)
from tpcheck.kernel import Verdict
from tpcheck.witness.stats import Z_THRESHOLD

n = sympy.Symbol("n", integer=True, positive=True)


def test_gue_recursion_against_genus_enumeration():
    for k in range(0, 15, 2):
        assert sympy.expand(gue_trace_moment(k, n) - gue_trace_moment_by_genus(k, n)) == 0


def test_fact_sheet_polynomials():
    assert gue_trace_moment(12, n) == 132 * n**7 + 2310 * n**5 + 6468 * n**3 + 1485 * n
    assert goe_trace_moment(8, n) == 14 * n**5 + 93 * n**4 + 374 * n**3 + 690 * n**2 + 509 * n
    assert [goe_trace_moment(2 * k, sympy.Integer(4)) for k in range(1, 5)] == [20, 228, 3684, 75156]
    assert [gue_trace_moment(2 * k, sympy.Integer(10)) for k in range(1, 5)] == [100, 2010, 51000, 1470210]


def test_goe_wick_against_closed_walks_with_gaussian_entries():
    for k in (2, 4, 6, 8):
        walks = wigner_trace_moment(k, n, gaussian_moment_of(1), gaussian_moment_of(2))
        assert sympy.expand(goe_trace_moment(k, n) - walks) == 0


def test_wigner_with_diagonal_fact_sheet():
    m4, d2, d4 = sympy.symbols("m4 d2 d4", real=True)
    off = {1: 0, 2: 1, 3: sympy.Symbol("m3"), 4: m4}
    dia = {1: 0, 2: d2, 3: sympy.Symbol("d3"), 4: d4}
    got = wigner_trace_moment(4, n, off.__getitem__, dia.__getitem__)
    assert sympy.expand(got - (2 * n**3 + (4 * d2 + m4 - 6) * n**2 + (d4 - 4 * d2 - m4 + 4) * n)) == 0


def test_gue_harer_zagier_up_to_k_30_is_fast_and_limits_are_catalan():
    poly = gue_trace_moment(60, n)
    assert sympy.limit(poly / n**31, n, sympy.oo) == semicircle_moment(60)


def test_wishart_and_marchenko_pastur():
    p, N, m4 = sympy.symbols("p N m4", positive=True)
    moments = {1: 0, 2: 1, 3: sympy.Symbol("m3"), 4: m4}
    assert sympy.expand(wishart_trace_moment(2, p, N, moments.__getitem__) - p * N * (N + p + m4 - 2)) == 0
    assert wishart_trace_moment(2, sympy.Integer(3), sympy.Integer(5), gaussian_moment_of(1)) == 135
    lam = sympy.Symbol("lambda")
    for k in range(1, 5):
        exact = wishart_trace_moment(k, lam * N, N, gaussian_moment_of(1)) / (lam * N * N**k)
        assert sympy.expand(sympy.limit(exact, N, sympy.oo) - marchenko_pastur_moment(k, lam)) == 0


@pytest.mark.slow
def test_tridiagonal_model_has_the_exact_moments():
    """Tridiagonal GOE/GUE at n = 6 and the Laguerre bidiagonal at (3, 5) against exact values."""
    rng = np.random.default_rng(5)
    samples = 40_000
    for beta, exact in ((1, goe_trace_moment), (2, gue_trace_moment)):
        vals = np.array([tridiagonal_trace_powers(*tridiagonal_hermite(6, beta, rng), 4)[3]
                         for _ in range(samples)])
        target = float(exact(4, sympy.Integer(6)))
        assert abs(vals.mean() - target) <= Z_THRESHOLD * vals.std() / np.sqrt(samples)
    vals = []
    for _ in range(samples):
        diag, sub = bidiagonal_laguerre(3, 5, 1, rng)
        b = np.diag(diag) + np.diag(sub, -1)
        s = b @ b.T
        vals.append(np.trace(s @ s))
    vals = np.array(vals)
    assert abs(vals.mean() - 135) <= Z_THRESHOLD * vals.std() / np.sqrt(samples)


def test_sturm_counts_equal_dense_eigenvalues():
    rng = np.random.default_rng(1)
    d, e = tridiagonal_hermite(50, 1, rng)
    t = np.diag(d) + np.diag(e, 1) + np.diag(e, -1)
    ev = np.linalg.eigvalsh(t)
    xs = np.linspace(-20, 20, 81)
    assert list(sturm_counts(d, e, xs)) == [int(np.sum(ev < x)) for x in xs]


def test_ks_distance_shrinks_with_n():
    rng = np.random.default_rng(2)
    ks = [ks_to_semicircle(*tridiagonal_hermite(size, 1, rng), np.sqrt(size)) for size in (400, 40_000)]
    assert ks[1] < ks[0] and ks[1] < 0.01


@pytest.mark.slow
@pytest.mark.parametrize("ensemble,exact", [("GUE", gue_trace_moment), ("GOE", goe_trace_moment)])
def test_monte_carlo_at_n4_tells_exact_from_limit(ensemble, exact):
    """At n = 4 the 1/n corrections are resolved: the exact value passes, the limit fails."""
    mean, se = spectral_moments_mc(ensemble, 4, 4, 100_000, 7)
    value = float(exact(4, sympy.Integer(4))) / 4**3
    assert abs(mean[3] - value) <= Z_THRESHOLD * se[3]
    assert abs(mean[3] - semicircle_moment(4)) > Z_THRESHOLD * se[3]


GUE_N4 = """
theorem t
  "E tr W^4 at n = 4."
  let M ~ GUE(4)
  claim E[tr((M/2)^4)]/4 = VALUE
proof
  E[tr((M/2)^4)]/4
    = VALUE    by genus_expansion
qed
crosscheck montecarlo samples 100000 seed 11
"""


def test_the_limit_value_at_n4_is_refuted_and_flagged():
    right = run(GUE_N4.replace("VALUE", "2 + 1/16"))
    assert right.theorems[0].verdict is Verdict.PROVED
    wrong = run(GUE_N4.replace("VALUE", "2")).theorems[0].steps[0]
    assert wrong.verdict is Verdict.REFUTED
    (mc,) = [e for e in wrong.evidence if e.kind == "montecarlo"]
    assert mc.ok is True and abs(mc.data["z"]) > Z_THRESHOLD


def test_wigner_and_wishart_mirrors_against_exact_values():
    from tpcheck.engines.random_matrices import wigner_moments_mc, wishart_moments_mc

    m4 = {1: 0, 2: 1, 3: 0, 4: 1}
    mean, se = wigner_moments_mc(6, 4, 20_000, 3)
    exact = wigner_trace_moment(4, sympy.Integer(6), m4.__getitem__, lambda j: sympy.Integer(0))
    assert abs(mean[3] - float(exact) / 6**3) <= Z_THRESHOLD * se[3]
    for method in ("bidiagonal", "dense"):
        mean, se = wishart_moments_mc(3, 5, 2, 20_000, 4, method)
        exact = wishart_trace_moment(2, sympy.Integer(3), sympy.Integer(5), gaussian_moment_of(1))
        assert abs(mean[1] - float(exact) / (3 * 25)) <= Z_THRESHOLD * se[1]


def test_duplicate_theorem_names_are_an_error():
    text = 'theorem t\n "s"\n let x : real\n claim x = x\nproof\n x\n = x by algebra\nqed\n'
    report = run(text + text)
    assert len(report.theorems) == 1 and "defined twice" in report.errors[0]
