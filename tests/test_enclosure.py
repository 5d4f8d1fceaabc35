"""Certified Arb enclosures: closed forms, Gaussian expectations, the approximate relation and
the exact-equality paths that rest on them. Every check has a wrong twin that must fail."""

from __future__ import annotations

import flint
import mpmath
import pytest
import sympy
from flint import arb

from tpcheck.engines.arb_balls import (
    bivariate_gaussian_expectation_ball,
    certified_nonzero,
    decide_within,
    enclose,
    enclose_adaptive,
    gaussian_expectation_ball,
    gaussian_smoothing,
)
from tpcheck.engines.equality import (
    CONSTANT_METHOD,
    certify_difference,
    decide_constant_equal,
    decide_equal,
    decide_exact_constant_equality,
)
from tpcheck.engines.gaussian import bivariate_expectation, erf_kernel, relu_kernel, step_kernel
from tpcheck.engines.heads import relu, sech
from tpcheck.engines.instances import InstanceSpace
from tpcheck.engines.mpmath_eval import evaluate
from tpcheck.errors import EvaluationError
from tpcheck.trusted import with_ledger

pi, E = sympy.pi, sympy.E
R = sympy.Rational
x, u, v = sympy.symbols("x u v", real=True)
SPACE = InstanceSpace()
# Two spellings of one number (relu_dual(1, 1, 1/pi) produces the second).
A = sympy.sqrt(-1 + pi**2) / pi**2
B = sympy.sqrt(1 - 1 / pi**2) / pi
# sqrt(-1 + pi^2)/pi^2 - sqrt(1 - 1/pi^2)/pi: 0, but not syntactically, so its ball straddles 0.
ZERO = A + sympy.Mul(-1, B, evaluate=False)
# 1e-60, spelled so that its 128-bit ball contains 0 (atan(1/pi) + atan(pi) = pi/2).
TINY = sympy.atan(1 / pi) + sympy.atan(pi) - pi / 2 + R(1, 10**60)
SECH2 = "0.6057055096021588255835402"  # E[sech(Z)^2], Z ~ N(0, 1), 25 digits


def contains_value(ball: arb, value: mpmath.mpf | str, slack: str = "1e-45") -> bool:
    """Whether ``ball`` overlaps the decimal ``value`` +/- ``slack`` (decimal rounding)."""
    with flint.ctx.workprec(256):
        text = value if isinstance(value, str) else mpmath.nstr(value, 60)
        return ball.overlaps(arb(text, slack))


def shifted(ball: arb, by: str) -> arb:
    """``ball + by``, computed at 256 bits (not at the default 53)."""
    with flint.ctx.workprec(256):
        return ball + arb(by)


# ---- enclose -------------------------------------------------------------------------------


@pytest.mark.parametrize("expr, digits", [
    (sympy.sqrt(2), "1.41421356237309504880168872420969807857"),
    (pi**2 / 6, "1.64493406684822643647241516664602518922"),
    (sympy.gamma(R(1, 3)), "2.67893853470774763365569294097467764412"),
    (sympy.EulerGamma + sympy.log(2), "1.27036284546147817002374421154057899912"),
    (sympy.erf(R(1, 2)) * sympy.atan(3), "0.65012817191619376431485022907375685019"),
    (sympy.Max(pi, 3, E) - sympy.Min(pi, E), "0.42331082513074800310235591192684038643"),
    (2**pi, "8.82497782707628762385642960420800158170"),
])
def test_enclosures_contain_the_value_and_a_wrong_digit_is_outside(expr, digits):
    ball = enclose(expr, 128)  # the digits are mpmath's, at 50 digits
    assert ball is not None and ball.rad() < arb("1e-36")
    assert contains_value(ball, digits, "1e-38")
    wrong = digits[:-3] + str((int(digits[-3]) + 1) % 10) + digits[-2:]
    assert not contains_value(ball, wrong, "1e-38")


def test_exact_inputs_stay_exact():
    exact = sympy.factorial(25, evaluate=False) * sympy.binomial(60, 30, evaluate=False) / 2**10
    assert enclose(exact, 128) == arb(int(sympy.factorial(25) * sympy.binomial(60, 30) // 2**10))
    # A binary float is its exact value: 0.1 as a double is 3602879701896397 / 2^55.
    assert enclose(sympy.Float(0.1), 64) == arb((3602879701896397, -55))


@pytest.mark.parametrize("expr", [
    sympy.log(ZERO),                       # log of a ball touching 0
    sympy.sqrt(ZERO),                      # sqrt of a ball with a negative part
    1 / ZERO,                              # division by a ball containing 0
    sympy.acos(1 + ZERO),                  # acos of a ball poking out of [-1, 1]
    sympy.acos(R(11, 10)),                 # acos outside [-1, 1]: complex
    sympy.sqrt(-2),                        # complex
    sympy.Heaviside(ZERO),                 # step at (possibly) 0
    sympy.tan(pi / 2 + ZERO),              # a pole
    x + 1,                                 # a free symbol
    sympy.zeta(3),                         # outside the engine
])
def test_no_enclosure_rather_than_a_guess(expr):
    before = flint.ctx.prec
    assert enclose(expr, 128) is None
    assert enclose_adaptive(expr, max_bits=512) is None
    assert flint.ctx.prec == before


def test_relu_and_step_at_constants():
    assert enclose(relu(1 - pi), 64) == 0
    assert enclose(relu(pi) - pi, 64).contains(0)
    assert enclose(sympy.Heaviside(pi - 3), 64) == 1
    assert enclose(sympy.Heaviside(3 - pi), 64) == 0


@pytest.mark.parametrize("q1, q2, c", [(1, 1, 1 / pi), (1, 2, R(3, 10)), (R(1, 2), 3, -R(2, 3)),
                                       (pi, 1, R(1, 7))])
@pytest.mark.parametrize("kernel", [relu_kernel, step_kernel, erf_kernel])
def test_kernel_closed_forms_against_the_mpmath_walker(kernel, q1, q2, c):
    expr = kernel(q1, q2, c)
    ball = enclose(expr, 160)
    with mpmath.workdps(60):
        reference = evaluate(expr, {})
    assert ball is not None and ball.rad() < arb("1e-40")
    assert contains_value(ball, reference)
    assert not contains_value(ball, reference * (1 + mpmath.mpf("1e-30")))


@pytest.mark.parametrize("name, kernel", [("relu", relu_kernel), ("step", step_kernel),
                                          ("erf", erf_kernel)])
def test_kernel_closed_forms_against_quadrature(name, kernel):
    ball = enclose(kernel(1, 2, R(3, 10)), 128)
    value = bivariate_expectation(name, name, 1, 2, "0.3", dps=20)
    assert contains_value(ball, value, "1e-18")


def test_adaptive_precision_and_nonzero_certificates():
    tiny = pi - R(314159265358979323846264338327950288419716939937510582, 10**53)
    found = certified_nonzero(tiny)
    assert found is not None and found.prec_bits >= 256 and found.ball > 0
    assert "bits" in found.describe()
    assert certified_nonzero(ZERO, max_bits=512) is None
    accurate = enclose_adaptive(sympy.exp(sympy.Integer(10) ** 4), lambda b: b.rel_accuracy_bits() > 200)
    assert accurate is not None and accurate.ball.rel_accuracy_bits() > 200


# ---- decide_within -------------------------------------------------------------------------


def test_within_is_proved_and_a_wrong_digit_is_refuted():
    status, detail = decide_within(sympy.sqrt(2), R("1.4142135623730950488"), "1e-19")
    assert status == "proved" and "bits" in detail and "+/-" in detail
    assert decide_within(sympy.sqrt(2), R("1.4142135623730950498"), "1e-19")[0] == "refuted"
    assert decide_within(pi, R("3.1416"), R(1, 10**4))[0] == "proved"
    assert decide_within(pi, R("3.1416"), 1e-6)[0] == "refuted"
    assert decide_within(pi, pi, 0)[0] == "proved"


def test_within_unknown_when_not_separated_and_errors_at_the_boundary():
    assert decide_within(pi, 0, pi)[0] == "unknown"  # |pi - 0| = pi exactly: not separable
    assert decide_within(x, 1, "0.1")[0] == "unknown"
    with pytest.raises(EvaluationError):
        decide_within(pi, 3, -1)


def test_exact_constant_equality():
    status, detail = decide_exact_constant_equality(pi, R("3.1416"))
    assert status == "refuted" and "transcendental" in detail
    assert decide_exact_constant_equality(sympy.sqrt(2), R(14142135623730951, 10**16))[0] == "refuted"
    assert decide_exact_constant_equality(sympy.acos(A), sympy.acos(B))[0] == "proved"
    assert decide_exact_constant_equality(sympy.acos(A), sympy.acos(-B))[0] == "refuted"
    assert decide_exact_constant_equality(x, x + 0)[0] == "unknown"


# ---- exact equality of constants -----------------------------------------------------------


@pytest.mark.parametrize("lhs, rhs", [
    (sympy.acos(A), sympy.acos(B)),
    (sympy.asin(A) / pi + 1, 1 + sympy.asin(B) / pi),
    (sympy.atan(sympy.sqrt(1 - 1 / pi**2)), sympy.atan(sympy.sqrt(pi**2 - 1) / pi)),
    (relu_kernel(1, 1, sympy.sqrt(-1 + pi**2) / pi**2),
     relu_kernel(1, 1, sympy.sqrt(1 - 1 / pi**2) / pi)),
    (sympy.sqrt(2) + sympy.sqrt(3), sympy.sqrt(5 + 2 * sympy.sqrt(6))),
    (sympy.sqrt(3 - 2 * sympy.sqrt(2)), sympy.sqrt(2) - 1),
    (sympy.acos(sympy.sqrt(3 - 2 * sympy.sqrt(2))), sympy.acos(sympy.sqrt(2) - 1)),
])
def test_two_spellings_of_one_constant_are_proved_equal(lhs, rhs):
    d = decide_equal(lhs, rhs, SPACE)
    assert d.status == "equal", d.reason
    assert d.method == CONSTANT_METHOD


@pytest.mark.parametrize("lhs, rhs", [
    (sympy.acos(A), sympy.acos(-B)),
    (sympy.sqrt(2) + sympy.sqrt(3), -sympy.sqrt(5 + 2 * sympy.sqrt(6))),
    (sympy.sqrt(3 - 2 * sympy.sqrt(2)), 1 - sympy.sqrt(2)),
    (sympy.acos(A), sympy.acos(B) + R(1, 10**40)),
    # Equal squares, opposite signs; and a vanishing conjugate (sqrt(pi^2 - 2 pi + 1) = pi - 1).
    (TINY * (sympy.sqrt(2) + sympy.sqrt(3)), -TINY * sympy.sqrt(5 + 2 * sympy.sqrt(6))),
    (TINY * sympy.sqrt(pi**2 - 2 * pi + 1), -TINY * (pi - 1)),
])
def test_wrong_spellings_are_refuted_not_proved(lhs, rhs):
    assert decide_constant_equal(lhs, rhs) is None
    d = decide_equal(lhs, rhs, SPACE)
    assert d.status == "unequal" and "Arb ball" in d.reason


def test_the_ledger_names_arb_and_the_algebraic_argument():
    d, ledger = with_ledger(decide_equal, sympy.acos(A), sympy.acos(B), SPACE)
    assert d.equal and {"algebraic-constants", "arb"} <= set(ledger)
    assert with_ledger(decide_within, pi, R("3.1416"), "1e-4")[1] == ["arb"]
    assert with_ledger(decide_within, x, 1, "1e-4")[1] == []


def test_certify_difference_names_what_decided():
    assert certify_difference(pi**2, R(987, 100)) == (True, "pi is transcendental (Lindemann 1882)")
    assert certify_difference(E + 1, R(37, 10))[1] == "e is transcendental (Hermite 1873)"
    differ, how = certify_difference(sympy.sqrt(2), R(14142135623730951, 10**16))
    assert differ and how.startswith("the Arb ball")
    differ, how = certify_difference(sympy.zeta(3), R(6, 5))  # outside the Arb engine
    assert differ and how.startswith("sympy N")
    assert certify_difference(A, B) == (False, "canonical form")
    assert certify_difference(sympy.acos(A), sympy.acos(B))[0] is None


# ---- Gaussian expectations -----------------------------------------------------------------


def test_sech_squared_to_25_digits_and_a_wrong_digit_is_outside():
    ball = gaussian_expectation_ball(sech(x) ** 2, x)
    assert ball is not None and ball.rad() < arb("1e-30")
    assert contains_value(ball, SECH2, "5e-26")  # the 26th digit is 2
    assert not contains_value(ball, SECH2[:-1] + "3", "5e-26")
    assert gaussian_expectation_ball(sympy.sech(x) ** 2, x).overlaps(ball)


@pytest.mark.parametrize("f, variance, exact", [
    (sympy.exp(x), 1, sympy.exp(R(1, 2))),
    (sympy.cos(x), 1, sympy.exp(-R(1, 2))),
    (sympy.tanh(x) ** 2 + sech(x) ** 2, 1, sympy.Integer(1)),
    (x**4 - 3 * x**2, 3, sympy.Integer(27 - 9)),
    (x**2 * sympy.exp(2 * x), R(1, 2), R(3, 2) * E),   # E[Z^2 e^{2Z}] = (s^2 + 4 s^4) e^{2 s^2}
    (sympy.sin(x) ** 2, pi, (1 - sympy.exp(-2 * pi)) / 2),
])
def test_gaussian_expectations_enclose_the_closed_form(f, variance, exact):
    ball = gaussian_expectation_ball(f, x, variance)
    target = enclose(exact, 128)
    assert ball is not None and ball.rad() < arb("1e-28")
    assert ball.overlaps(target)
    assert not ball.overlaps(shifted(target, "1e-25"))


def test_tanh_squared_against_mpmath_quadrature():
    ball = gaussian_expectation_ball(sympy.tanh(x) ** 2, x, 2)
    with mpmath.workdps(30):
        reference = mpmath.quad(lambda z: mpmath.tanh(z) ** 2 * mpmath.npdf(z, 0, mpmath.sqrt(2)),
                                [-mpmath.inf, 0, mpmath.inf])
    assert contains_value(ball, reference, "1e-25")


@pytest.mark.parametrize("f, variance", [
    (sympy.exp(x**2), 1),           # no exponential envelope
    (sympy.log(1 + x**2), 1),       # branch cut: not entire
    (sympy.Abs(x), 1),              # not analytic
    (sympy.tanh(x) * v, 1),         # another symbol
    (sympy.cos(x), 0),              # variance not positive
    (sympy.cos(x), ZERO),           # variance not certified positive
])
def test_gaussian_expectation_gives_up_without_a_proof(f, variance):
    assert gaussian_expectation_ball(f, x, variance, 64) is None


def test_bivariate_erf_kernel_and_exponential_moment():
    q1, q2, c = 1, 2, R(1, 3)
    ball = bivariate_gaussian_expectation_ball(sympy.erf(u), sympy.erf(v), u, v, q1, q2, c)
    closed = enclose(erf_kernel(q1, q2, c), 128)
    assert ball.overlaps(closed) and ball.rad() < arb("1e-28")
    assert not ball.overlaps(shifted(closed, "1e-25"))
    mgf = bivariate_gaussian_expectation_ball(sympy.exp(u), sympy.exp(v), u, v, q1, q2, c)
    assert mgf.overlaps(enclose(sympy.exp((q1 + q2 + 2 * c) / 2), 128))
    assert bivariate_gaussian_expectation_ball(u, sympy.tanh(v), u, v, 1, 1, R(1, 2)) is None
    assert bivariate_gaussian_expectation_ball(u, v, u, v, 1, 1, 2) is None  # c^2 > q1 q2


def test_gaussian_smoothing_is_exact():
    m, t2 = sympy.symbols("m t2", positive=True)
    assert sympy.expand(gaussian_smoothing(v**4, v, m, t2) - (m**4 + 6 * m**2 * t2 + 3 * t2**2)) == 0
    assert gaussian_smoothing(3 * sympy.sin(2 * v), v, m, t2) == 3 * sympy.exp(-2 * t2) * sympy.sin(2 * m)
    assert gaussian_smoothing(sympy.tanh(v), v, m, t2) is None
