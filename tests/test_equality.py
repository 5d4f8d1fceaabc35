"""The exact equality engine, held against brute-force evaluation."""

from __future__ import annotations

import random

import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from tpcheck.engines.equality import decide_equal
from tpcheck.engines.hypergeometric import term_ratio
from tpcheck.engines.instances import InstanceSpace

k = sympy.Symbol("k", integer=True, nonnegative=True)
x, y = sympy.symbols("x y", real=True)
SPACE = InstanceSpace()


def test_hypergeometric_identities_are_proved_for_all_k():
    pairs = [
        (sympy.catalan(k), sympy.factorial(2 * k) / (sympy.factorial(k) * sympy.factorial(k + 1))),
        (sympy.factorial2(2 * k - 1), sympy.factorial(2 * k) / (2**k * sympy.factorial(k))),
        (sympy.factorial2(2 * k), 2**k * sympy.factorial(k)),
        (sympy.binomial(2 * k + 2, k + 1), sympy.binomial(2 * k, k) * (4 * k + 2) / (k + 1)),
        (4**k * sympy.gamma(k + sympy.Rational(1, 2)) / (sympy.sqrt(sympy.pi) * sympy.gamma(k + 2)),
         sympy.catalan(k)),
    ]
    for lhs, rhs in pairs:
        d = decide_equal(lhs, rhs, SPACE)
        assert d.status == "equal", (lhs, rhs, d.reason)


def test_off_by_one_is_refuted_with_an_exact_counterexample():
    d = decide_equal(sympy.catalan(k), sympy.binomial(2 * k, k) / (k + 2), SPACE)
    assert d.status == "unequal"
    assert d.counterexample == {"instance": {"k": "0"}, "lhs": "1", "rhs": "1/2"}


def test_ratio_is_not_trusted_where_the_recurrence_breaks():
    # (k - 3) vanishes inside the range, so the ratio (k - 2)/(k - 3) is not a valid recurrence.
    assert term_ratio(k - 3, k).valid_on(0, None) is False
    assert term_ratio(k - 3, k).valid_on(4, None) is True


def test_unknown_is_reported_not_guessed():
    d = decide_equal(sympy.sin(x) ** 2 + sympy.cos(x) ** 2, sympy.Integer(1), SPACE)
    assert d.status in ("unknown", "equal")
    assert d.status != "unequal"


polys = st.lists(st.integers(-5, 5), min_size=1, max_size=5)


@given(polys, polys, st.integers(0, 3))
@settings(max_examples=200, deadline=None)
def test_rational_identities_agree_with_brute_force(p, q, shift):
    """(p*q)/(x^2 + 1) against its expanded form, and a perturbed copy, at many points."""
    P = sum(c * x**i for i, c in enumerate(p))
    Q = sum(c * y**i for i, c in enumerate(q))
    lhs = (P * Q + shift) / (x**2 + 1)
    rhs = sympy.expand(P * Q) / (x**2 + 1) + sympy.Rational(shift) / (1 + x**2)
    assert decide_equal(lhs, rhs, SPACE).status == "equal"
    wrong = rhs + sympy.Rational(1, 7) * y
    d = decide_equal(lhs, wrong, SPACE)
    assert d.status == "unequal"
    inst = {sympy.Symbol(n, real=True): sympy.Rational(v) if "/" not in v else
            sympy.Rational(int(v.split("/")[0]), int(v.split("/")[1]))
            for n, v in d.counterexample["instance"].items()}
    assert (lhs - wrong).subs(inst) != 0


@given(st.integers(0, 3), st.integers(0, 3), st.integers(1, 3))
@settings(max_examples=60, deadline=None)
def test_products_of_factorials_against_evaluation(a, b, c):
    """A hypergeometric rewrite is proved iff it holds at every k in 0..20 (brute force)."""
    lhs = sympy.factorial(c * k + a) * sympy.factorial(k + b)
    rhs = sympy.factorial(c * k + a - 1) * (c * k + a) * sympy.factorial(k + b) if a > 0 else lhs
    d = decide_equal(lhs, rhs, SPACE)
    brute = all(lhs.subs(k, i) == rhs.subs(k, i) for i in range(21))
    assert brute and d.status == "equal"
    wrong = rhs * (k + 2) / (k + 1)
    d = decide_equal(lhs, wrong, SPACE)
    assert d.status == "unequal"
    rng = random.Random(0)
    assert rng  # seeded randomness only


def test_symbolic_parameters_in_the_base_case():
    s = sympy.Symbol("s", positive=True)
    lhs = s ** (2 * k) * sympy.factorial2(2 * k - 1)
    rhs = s ** (2 * k) * sympy.factorial(2 * k) / (2**k * sympy.factorial(k))
    assert decide_equal(lhs, rhs, SPACE).status == "equal"
