"""Exact limits and the numeric evaluators, against values from the theory fact sheet."""

from __future__ import annotations

import mpmath
import sympy

from tpcheck.engines.asymptotics import limit_at_infinity
from tpcheck.engines.heads import Expectation
from tpcheck.engines.law_quadrature import quadrature_hook
from tpcheck.engines.laws import Normal
from tpcheck.engines.mpmath_eval import evaluate
from tpcheck.kernel import Context

n = sympy.Symbol("n", integer=True, positive=True)
m4 = sympy.Symbol("m4", real=True)


def test_rational_limits():
    assert limit_at_infinity(3 + (m4 - 3) / n, n).value == 3
    assert limit_at_infinity((2 * n**3 + 5 * n**2 + 5 * n) / n**3, n).value == 2
    assert limit_at_infinity(m4 / sympy.sqrt(n), n).value == 0
    assert limit_at_infinity((n**2 + 1) / n, n).value == sympy.oo


def test_a_leading_coefficient_that_may_vanish_is_not_guessed():
    res = limit_at_infinity(m4 * n / (n + 1) + (m4 - 3) * n**2 / (n + 1), n)
    assert res.value is None and "may vanish" in res.reason


def test_numeric_evaluator_matches_fact_sheet_values():
    z = sympy.Symbol("Z", real=True)
    ctx = Context({}, [], {z: Normal(sympy.Integer(0), sympy.Integer(1))}, [])
    hook = quadrature_hook(ctx)
    with mpmath.workdps(40):
        e_abs = evaluate(Expectation(sympy.Abs(z)), {}, "mpmath", hook)
        assert mpmath.almosteq(e_abs, mpmath.mpf("0.7978845608028653558798921"), 1e-24)
        tanh2 = evaluate(Expectation(sympy.tanh(z) ** 2), {}, "mpmath", hook)
        assert mpmath.almosteq(tanh2, mpmath.mpf("0.3942944903978411744164598"), 1e-24)
        z8 = evaluate(Expectation(z**8), {}, "mpmath", hook)
        assert mpmath.almosteq(z8, 105, 1e-30)


def test_numpy_and_mpmath_backends_agree():
    x = sympy.Symbol("x", real=True)
    e = sympy.erf(x) * sympy.tanh(x) + sympy.binomial(6, 3) * x**2 - sympy.catalan(5)
    with mpmath.workdps(30):
        a = evaluate(e, {x: mpmath.mpf("0.37")}, "mpmath")
    b = evaluate(e, {x: 0.37}, "numpy")
    assert abs(float(a) - b) < 1e-12
