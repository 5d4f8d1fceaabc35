"""The decision procedures (exact equality, hypergeometric term ratios, exact limits), held to
the behaviour that mutation testing showed no other test pinned down.

tests/test_mutation_core.py runs the mutation tool on tpcheck/engines/equality.py,
tpcheck/engines/hypergeometric.py and tpcheck/engines/asymptotics.py against these tests,
tests/test_core_mutants.py and tests/test_equality.py. Each test states one fact a user sees:
every branch of a case split, the exact reason text, the boundary of a range, the instance of a
counterexample.
"""

from __future__ import annotations

import random

import pytest
import sympy

from tpcheck.engines.asymptotics import (
    LimitCase,
    LimitResult,
    asymptotic_order,
    limit_at_infinity,
    limit_cases,
)
from tpcheck.engines.equality import (
    Decision,
    _vanishing_by_conjugates,
    canonical,
    certify_difference,
    decide_constant_equal,
    decide_equal,
    decide_exact_constant_equality,
    exact_value,
    find_counterexample,
    vanishing_denominator,
)
from tpcheck.engines.heads import (
    Expectation,
    GenusSum,
    MomentSum,
    Probability,
    Variance,
    narayana,
    ncpairings,
    pairings,
)
from tpcheck.engines.instances import InstanceSpace
from tpcheck.trusted import with_ledger

N = sympy.Symbol("n", integer=True, positive=True)
X, Y, A = sympy.symbols("x y a", real=True)
K = sympy.Symbol("k", integer=True, nonnegative=True)
I_SUM = sympy.Symbol("i", integer=True)
PI, E_, Q, oo = sympy.pi, sympy.E, sympy.Rational, sympy.oo
SQRT2 = sympy.sqrt(2)
CONSTANT = "exact algebraic check + arb sign"
# sqrt(2 + sqrt(3)) = (sqrt(2) + sqrt(6))/2, which no canonical form sees
NESTED, DENESTED = sympy.sqrt(2 + sympy.sqrt(3)), (SQRT2 + sympy.sqrt(6)) / 2
# Zeros that sympy leaves unevaluated: the canonical form expands the first two to 0 and does
# not see the third; Arb encloses neither zeta(3) nor a quotient by a ball around 0.
ZERO = (SQRT2 + 1) * (SQRT2 - 1) - 1
ZERO_TOO = (SQRT2 + 1) ** 2 - 3 - 2 * SQRT2
HIDDEN_ZERO = sympy.asinh(SQRT2) - sympy.log(SQRT2 + sympy.sqrt(3))
ZERO_OUTSIDE_ARB = sympy.zeta(3) * ZERO
# sqrt((pi + 1)^2) and sqrt((e + 1)^2), expanded: pi + 1 and e + 1 to a reader, generators to
# the canonical form
ROOT_PI, ROOT_E = sympy.sqrt(PI**2 + 2 * PI + 1), sympy.sqrt(E_**2 + 2 * E_ + 1)


# --- exact equality of constants -----------------------------------------------------------------

@pytest.mark.parametrize("scale", [1, Q(1, 2), Q(1, 10), Q(-1, 2), -3])
def test_equal_squares_of_the_same_strict_sign_prove_equality(scale):
    d = decide_constant_equal(scale * NESTED, scale * DENESTED)
    assert d is not None and (d.status, d.method) == ("equal", CONSTANT)
    assert d.reason.startswith("lhs^2 - rhs^2 reduces to 0 over Q, and lhs in [")
    assert d.reason.endswith(" have the same strict sign")


@pytest.mark.parametrize("scale", [1, Q(1, 2), Q(1, 10)])
def test_equal_squares_of_opposite_signs_prove_nothing_at_any_size(scale):
    assert decide_constant_equal(-scale * NESTED, scale * DENESTED) is None
    assert decide_constant_equal(scale * NESTED, -scale * DENESTED) is None


def test_a_side_far_from_zero_is_enclosed_at_the_first_precision():
    """The enclosures stop at 128 bits once they exclude 0, also for a side whose value is 1."""
    verdict, detail = decide_exact_constant_equality(NESTED / DENESTED, sympy.Integer(1))
    assert verdict == "proved"
    assert detail.startswith(f"{CONSTANT}: lhs^2 - rhs^2 reduces to 0 over Q, and lhs in "
                             "[1.0000000000000000000 +/- ")
    assert detail.endswith("] (Arb, 128 bits), rhs in [1.0000000000000000000 +/- 0] (Arb, 128 bits) "
                           "have the same strict sign")


def test_a_side_close_to_zero_is_enclosed_at_the_first_precision_that_excludes_zero():
    """sqrt(2) - 1.414213562373 = 9.5e-14 has only about 80 correct bits at 128 bits of
    working precision, enough to fix its sign: the proof does not ask for more."""
    rhs = SQRT2 - sympy.floor(SQRT2 * 10**12) / sympy.Integer(10) ** 12
    verdict, detail = decide_exact_constant_equality(sympy.sqrt(sympy.expand(rhs**2)), rhs)
    assert verdict == "proved"
    assert detail.endswith("] (Arb, 128 bits), rhs in [9.5048801688724209698e-14 +/- 1.18e-38] "
                           "(Arb, 128 bits) have the same strict sign")


def test_equal_cubes_prove_equality():
    # (1 + sqrt(2))^3 = 7 + 5 sqrt(2)
    assert decide_exact_constant_equality(sympy.cbrt(7 + 5 * SQRT2), 1 + SQRT2) == (
        "proved", f"{CONSTANT}: lhs^3 - rhs^3 reduces to 0 over Q, and x -> x^3 is injective on "
                  "the reals")


def test_a_side_outside_the_arb_engine_proves_nothing_by_powers():
    lhs = NESTED + ZERO_OUTSIDE_ARB
    assert decide_constant_equal(lhs, DENESTED) is None
    assert decide_exact_constant_equality(lhs, DENESTED) == (
        "unknown", "lhs - rhs reduces to -sqrt(6)/2 - sqrt(2)/2 + sqrt(sqrt(3) + 2), not 0; the Arb "
                   "ball [0 +/- 3.07e-308] (Arb, 1024 bits) of the difference contains 0")


def test_arguments_equal_by_their_canonical_form_make_applications_equal():
    lhs, rhs = sympy.sin(1 / (PI + 1) + 1 / (PI - 1)), sympy.sin(2 * PI / (PI**2 - 1))
    assert decide_exact_constant_equality(lhs, rhs) == (
        "proved", f"{CONSTANT}: sin(2*pi/(-1 + pi**2)) = sin(1/(1 + pi) + 1/(-1 + pi)) since "
                  "2*pi/(-1 + pi**2) = 1/(1 + pi) + 1/(-1 + pi) (canonical form); then lhs - rhs "
                  "reduces to 0 over Q")


@pytest.mark.parametrize("x, y", [(2 * PI / (PI**2 - 1), 1 / (PI + 1) + 1 / (PI - 1)),
                                  (1 / (PI + 1) + 1 / (PI - 1), 2 * PI / (PI**2 - 1))])
def test_an_application_that_is_not_a_real_number_is_never_unified(x, y):
    """sin(x) and sin(y + 0/0) with x = y: the arguments have the same canonical form (it
    expands the numerator to 0 and does not see that the denominator is 0), but the second
    application has no Arb enclosure (it is undefined), so congruence does not apply, whichever
    of the two comes first."""
    defined, undefined = sympy.sin(x), sympy.sin(y + ZERO_TOO / HIDDEN_ZERO)
    assert canonical(defined.args[0] - undefined.args[0]) == 0
    assert decide_constant_equal(defined, undefined) is None
    assert decide_exact_constant_equality(defined, undefined)[0] == "unknown"


def test_nested_applications_are_unified_level_by_level():
    assert decide_exact_constant_equality(sympy.sin(1 + sympy.atan(NESTED)),
                                          sympy.sin(1 + sympy.atan(DENESTED))) == (
        "proved", f"{CONSTANT}: sin(1 + atan(sqrt(2)/2 + sqrt(6)/2)) = sin(1 + atan(sqrt(sqrt(3) + 2))) "
                  "since 1 + atan(sqrt(2)/2 + sqrt(6)/2) = 1 + atan(sqrt(sqrt(3) + 2)) (exact algebraic "
                  "check + arb sign); atan(sqrt(2)/2 + sqrt(6)/2) = atan(sqrt(sqrt(3) + 2)) since "
                  "sqrt(2)/2 + sqrt(6)/2 = sqrt(sqrt(3) + 2) (exact algebraic check + arb sign); then lhs "
                  "- rhs reduces to 0 over Q")


def test_only_the_applications_in_the_difference_are_unified():
    """sin(x) is on both sides and cancels: only sin(y) = sin(w) is a step."""
    x = 2 * PI / (PI**2 - 1)
    y, w = 1 / (PI + 1) + 1 / (PI - 1), x * NESTED / DENESTED
    assert decide_exact_constant_equality(sympy.sin(x) + sympy.sin(y), sympy.sin(x) + sympy.sin(w)) == (
        "proved", f"{CONSTANT}: sin(2*pi*sqrt(sqrt(3) + 2)/((-1 + pi**2)*(sqrt(2)/2 + sqrt(6)/2))) = "
                  "sin(1/(1 + pi) + 1/(-1 + pi)) since 2*pi*sqrt(sqrt(3) + 2)/((-1 + pi**2)*(sqrt(2)/2 "
                  "+ sqrt(6)/2)) = 1/(1 + pi) + 1/(-1 + pi) (exact algebraic check + arb sign); then lhs "
                  "- rhs reduces to 0 over Q")


@pytest.mark.parametrize("head", [
    Expectation(sympy.Integer(2)),
    Variance(sympy.Integer(2)),
    Probability(sympy.Lt(PI, 4, evaluate=False)),
    MomentSum(sympy.Integer(1), sympy.Integer(3), sympy.Integer(2)),
], ids=str)
def test_a_random_quantity_is_neither_a_constant_nor_an_exact_value(head):
    assert decide_exact_constant_equality(head, Q(1, 2)) == ("unknown", "not a claim about constants")
    assert decide_constant_equal(head, Q(1, 2)) is None
    assert exact_value(head, {}) is None


def test_constants_with_the_same_canonical_form_are_equal_by_it():
    assert decide_constant_equal((1 + SQRT2) ** 2, 3 + 2 * SQRT2) == Decision(
        "equal", "canonical form", "lhs - rhs reduces to 0 over Q")


def test_a_difference_vanishing_with_its_square_root_conjugates_is_zero():
    d = decide_constant_equal(ROOT_PI + ROOT_E, PI + E_ + 2)
    assert d is not None and (d.status, d.method) == ("equal", CONSTANT)
    assert d.reason == (
        "(lhs - rhs) times its 3 square-root conjugate(s) reduces to 0 over Q, and each conjugate "
        "is nonzero: -sqrt(1 + 2*E + exp(2)) - pi - E - 2 + sqrt(1 + 2*pi + pi**2) in "
        "[-7.4365636569180904707 +/- 1.12e-37] (Arb, 128 bits); -sqrt(1 + 2*pi + pi**2) - pi - E - "
        "2 + sqrt(1 + 2*E + exp(2)) in [-8.2831853071795864769 +/- 1.12e-37] (Arb, 128 bits); "
        "-sqrt(1 + 2*pi + pi**2) - sqrt(1 + 2*E + exp(2)) - pi - E - 2 in [-15.719748964097676948 "
        "+/- 1.83e-37] (Arb, 128 bits)")


def test_a_sum_of_square_roots_vanishing_with_its_one_conjugate_is_zero():
    """sqrt((pi + 1)^2) - (pi + 1) sqrt((e + 1)^2)/(e + 1): flipping one root gives the only
    conjugate (flipping the other gives its negative, flipping both the negative of d)."""
    d = decide_constant_equal(ROOT_PI - (PI + 1) * ROOT_E / (E_ + 1), sympy.Integer(0))
    assert d is not None and (d.status, d.method) == ("equal", CONSTANT)
    assert d.reason == (
        "(lhs - rhs) times its 1 square-root conjugate(s) reduces to 0 over Q, and each conjugate "
        "is nonzero: (sqrt(1 + 2*E + exp(2)) + sqrt(1 + 2*pi + pi**2) + E*sqrt(1 + 2*pi + pi**2) + "
        "pi*sqrt(1 + 2*E + exp(2)))/(1 + E) in [8.2831853071795864769 +/- 2.68e-37] (Arb, 128 bits)")


def test_conjugates_prove_nothing_when_one_of_them_vanishes_or_there_are_too_many():
    # sqrt((pi + 1)^2) + pi + 1 = 2 (pi + 1) != 0, yet its product with the conjugate
    # -sqrt((pi + 1)^2) + pi + 1 = 0 reduces to 0
    assert _vanishing_by_conjugates(canonical(ROOT_PI + PI + 1)) is None
    # four square-root bases: 2, 3, 6 and sqrt(3) + 2
    assert _vanishing_by_conjugates(canonical(NESTED - DENESTED)) is None


def test_a_difference_finer_than_128_bits_is_certified_at_a_higher_precision():
    approx = sympy.floor(SQRT2 * 10**50) / sympy.Integer(10) ** 50
    assert certify_difference(SQRT2, approx) == (
        True, "the Arb ball [8.0731766797379907325e-51 +/- 3.45e-77] (Arb, 256 bits) of the "
              "difference excludes 0")


@pytest.mark.parametrize("size, differ", [(Q(1, 10**30), None), (-Q(1, 10**30), None),
                                          (Q(2, 10**30), True), (-Q(2, 10**30), True)])
def test_sympy_strict_evaluation_certifies_only_differences_above_1e_minus_30(size, differ):
    # zeta(3) is outside the Arb engine: only sympy's N(strict=True) evaluates this difference
    tiny = sympy.zeta(3) / sympy.Integer(10) ** 80 * sympy.sign(size)
    assert certify_difference(size + tiny, sympy.Integer(0))[0] is differ


@pytest.mark.parametrize("head, value", [
    (sympy.Sum(I_SUM, (I_SUM, 1, K)), 10), (sympy.Product(I_SUM, (I_SUM, 1, K)), 24),
    (narayana(K, 2), 6), (pairings(K), 3), (ncpairings(K), 2), (GenusSum(K - 1, K - 2), Q(19, 9)),
], ids=str)
def test_an_exact_value_carries_out_every_counting_head(head, value):
    assert exact_value(head, {K: sympy.Integer(4)}) == value


@pytest.mark.parametrize("value", [oo * X, -oo * X, sympy.zoo * X, 1 / (X - 1)], ids=str)
def test_an_infinite_or_undefined_value_is_no_exact_value(value):
    assert exact_value(value, {X: sympy.Integer(1)}) is None
    assert exact_value(2 * X, {X: sympy.Integer(1)}) == 2


# --- exact equality with symbols -------------------------------------------------------------

@pytest.mark.parametrize("head", [
    sympy.Sum(I_SUM, (I_SUM, 1, K)), sympy.Product(I_SUM, (I_SUM, 1, K)), narayana(K, 2),
    pairings(K), ncpairings(K), GenusSum(K, 2),
], ids=str)
def test_a_decision_on_a_counting_head_rests_on_its_finite_evaluation(head):
    d, ledger = with_ledger(decide_equal, head, 2 * head, InstanceSpace())
    assert d.status == "unequal"
    # genus sums are evaluated by the exact GUE moments (the Harer-Zagier numbers)
    extra = ["random-matrix-moments"] if isinstance(head, GenusSum) else []
    assert ledger == ["canonical-form", "finite-evaluation", *extra]
    assert with_ledger(decide_equal, K, 2 * K, InstanceSpace())[1] == ["canonical-form"]


def test_a_refutation_says_how_many_instances_were_tried():
    lhs, rhs = X**2, X**2 + X * (X - 1)  # equal at x = 0 and x = 1 only
    d = decide_equal(lhs, rhs, InstanceSpace())
    cex, tried, how = find_counterexample(lhs, rhs, InstanceSpace())
    assert (d.status, d.counterexample, d.instances_tried) == ("unequal", cex, tried)
    assert d.reason == f"the sides differ at an instance ({how})"
    assert tried >= 1


def _factorial_chain(m: int) -> tuple[sympy.Expr, sympy.Expr, InstanceSpace]:
    """(k_2!)^k_1 ... (k_m!)^(k_{m-1}) (k_m + 1)! against the same with (k_m + 1) k_m!:
    hypergeometric in k_1 only, then, once k_1 is fixed, in k_2 only, and so on."""
    ks = sympy.symbols(f"k1:{m + 1}", integer=True, positive=True)
    common = sympy.Mul(*[sympy.factorial(ks[i + 1]) ** ks[i] for i in range(m - 1)])
    last = ks[-1]
    return (common * sympy.factorial(last + 1), common * (last + 1) * sympy.factorial(last),
            InstanceSpace({s: (1, 3) for s in ks}))


def test_hypergeometric_induction_nests_at_most_four_symbols_deep():
    for m in range(1, 5):
        d = decide_equal(*_factorial_chain(m))
        assert (d.status, d.method) == ("equal", "hypergeometric induction"), m
    d = decide_equal(*_factorial_chain(5))
    assert d.status == "unknown" and d.reason.endswith("and the 24 exact instances tried agree")


def test_an_instance_where_a_side_is_undefined_is_not_counted():
    # k = 2 is one of the 7 instances of k in 0..6; there 1/(k - 2) is undefined
    space = InstanceSpace({K: (0, 6)})
    d = decide_equal(sympy.sin(K) ** 2 + sympy.cos(K) ** 2 + 1 / (K - 2), 1 + 1 / (K - 2), space)
    assert (d.status, d.instances_tried) == ("unknown", 6)
    assert d.reason == ("lhs - rhs reduces to sin(k)**2 + cos(k)**2 - 1, not 0, and the 6 exact "
                        "instances tried agree")


@pytest.mark.parametrize("seed", range(5))
def test_the_instances_searched_are_drawn_from_the_seed(seed):
    space = InstanceSpace()
    (drawn,) = space.sample([X], 1, random.Random(seed))
    cex, tried, _ = find_counterexample(X, X + 1, space, count=1, seed=seed)
    assert tried == 1 and cex["instance"] == {"x": str(drawn[X])}


# --- exact limits ------------------------------------------------------------------------------

CONTINUITY = "Puiseux expansion and continuity"
NOT_PUISEUX = "n occurs other than in powers with rational exponents"
# 0 for every n, unevaluated: a quotient by it is undefined
ZERO_N = (N + 1) ** 2 - N**2 - 2 * N - 1
MINUS_ZERO_N = N**2 - (N + 1) ** 2 + 2 * N + 1


@pytest.mark.parametrize("expr, value, method, reason", [
    ((2 * N**2 + 1) / N**2, 2, "Puiseux", "equal leading orders"),
    (N / (N**2 + 1), 0, "Puiseux", "numerator order 1 > denominator 0 in 1/n"),
    (-(N**2) / (N + 1), -oo, "Puiseux", "the numerator dominates"),
    (ZERO_N, 0, "Puiseux", "the numerator vanishes identically"),
    (1 / ZERO_N, None, "undefined", f"the expression is undefined: it divides by {ZERO_N}, which is "
                                    "identically 0"),
    (N + ZERO_N / MINUS_ZERO_N, None, "undefined", f"the expression is undefined: it divides by "
                                                   f"{MINUS_ZERO_N}, which is identically 0"),
    (N * Expectation(X), None, "none", "the expression still contains expectations"),
    (3 + 0 / N, 3, "constant", "the expression does not depend on n"),
    (1 / sympy.sqrt(N + 1) + 2, 2, CONTINUITY, "limits of the terms"),
    (N + sympy.log(N), oo, CONTINUITY, "the infinite terms agree in sign"),
    (N - sympy.log(N), None, "none", f"{NOT_PUISEUX}; oo - oo"),
    (-sympy.exp(N), -oo, CONTINUITY, "a product with an infinite factor"),
    (sympy.exp(N) / sympy.log(N + 1), None, "none",
     f"{NOT_PUISEUX}; 0 * oo or an undetermined sign (0)"),
    (sympy.sin(N) + 1, None, "none",
     f"{NOT_PUISEUX}; a term's limit is not decided for every parameter value"),
    (sympy.sqrt(2 + 1 / N), SQRT2, CONTINUITY, "continuity of a power"),
    ((sympy.cos(1 / N) - 2) ** 3, -1, CONTINUITY, "continuity of a power"),
    (1 / (sympy.cos(1 / N) - 2), -1, CONTINUITY, "continuity of a power"),
    ((sympy.cos(1 / N) - 1) ** 2, 0, CONTINUITY, "continuity of a power"),
    (1 / (sympy.cos(1 / N) - 1), None, "none", f"{NOT_PUISEUX}; the power 0^-1"),
    (sympy.sqrt(sympy.cos(1 / N) - 2), None, "none", f"{NOT_PUISEUX}; the power -1^1/2"),
    (sympy.sqrt(N + 1), oo, CONTINUITY, "a positive power of oo"),
    (1 / sympy.log(N + 1), 0, CONTINUITY, "a negative power of oo"),
    ((1 + 2 / N) ** (3 * N), sympy.exp(6), CONTINUITY, "g^h -> exp(lim h (g - 1)) as g -> 1"),
    ((1 + 1 / N) ** (N**2), oo, CONTINUITY, "g^h -> exp(lim h (g - 1)) as g -> 1"),
    ((1 - 1 / N) ** (N**2), 0, CONTINUITY, "g^h -> exp(lim h (g - 1)) as g -> 1"),
    ((1 + 1 / N) ** (ZERO_N / MINUS_ZERO_N), None, "undefined",
     f"the expression is undefined: it divides by {MINUS_ZERO_N}, which is identically 0"),
    ((1 + 1 / N) ** (1 / ZERO_N), None, "undefined",
     f"the expression is undefined: it divides by {ZERO_N}, which is identically 0"),
    ((2 + 1 / N) ** (3 + 1 / N), 8, CONTINUITY, "continuity of a power"),
    ((-1 - 1 / N) ** Q(1, 2), None, "none",
     "not a rational function of the powers of n; the power -1^1/2"),
    (2**N, oo, CONTINUITY, "a power growing without bound"),
    (Q(1, 2) ** N, 0, CONTINUITY, "a power tending to 0"),
    (N ** (-1 / N), None, "none", f"{NOT_PUISEUX}; the power oo^0"),
    (sympy.log(N), oo, CONTINUITY, "log of oo"),
    (sympy.log(2 + 1 / N), sympy.log(2), CONTINUITY, "continuity of log"),
    (sympy.log(1 / N), None, "none", f"{NOT_PUISEUX}; log at the limit 0"),
    (sympy.cosh(1 / N), 1, CONTINUITY, "continuity of cosh"),
    (sympy.atan(N), PI / 2, CONTINUITY, "atan at oo"),
    (sympy.exp(-N), 0, CONTINUITY, "exp at -oo"),
    (sympy.sin(N), None, "none", f"{NOT_PUISEUX}; sin at the limit oo"),
    (sympy.exp(A * N / (A * N + 1)), None, "none", f"{NOT_PUISEUX}; exp at the limit None"),
    (sympy.gamma(1 / N + 1), None, "none", f"{NOT_PUISEUX}; n occurs inside gamma"),
    (A * N**2 / (N + 1), None, "none",
     "the leading coefficient a may vanish for some parameters (cases: a != 0: the sign of the "
     "divergent leading term a depends on the parameters; a = 0: 0)"),
    (A * N / (A * N + 1), None, "none",
     "the leading coefficient a may vanish for some parameters (cases: a != 0: 1; a = 0: 0)"),
    ((A * N**2 + N) / (A * N**2 + N + 1), 1, "Puiseux",
     "equal leading orders; the same in every case: a != 0; a = 0"),
    # the generic value at x = y, (2 y^2 + 2)/(y^2 + 1), is the case's limit 2 in another form
    (((X - Y) * (X**2 + Y**2 + 2) * N**2 + 2 * N) / ((X - Y) * (Y**2 + 1) * N**2 + N + 1),
     (X**2 + Y**2 + 2) / (Y**2 + 1), "Puiseux",
     "equal leading orders; the same in every case: x*y**2 + x - y**3 - y != 0; x = y"),
    # at x = 0 the expression is undefined: no case there
    (N / (X * N + 1) + 1 / X, 2 / X, "Puiseux", "equal leading orders; the same in every case: x**2 != 0"),
], ids=str)
def test_a_limit_with_its_method_and_reason(expr, value, method, reason):
    assert limit_at_infinity(expr, N) == LimitResult(value, method, reason)


def test_a_limit_is_taken_on_the_space_given():
    expr = (A - 1) * N / ((A - 1) * N + 1)
    assert limit_at_infinity(expr, N).value is None
    above_one = InstanceSpace(assumptions=((A, ">", sympy.Integer(1)),))
    assert limit_at_infinity(expr, N, above_one) == LimitResult(
        1, "Puiseux", "equal leading orders; the same in every case: a - 1 != 0")


@pytest.mark.parametrize("expr, method, reason", [
    (sympy.sin(N), "none", f"{NOT_PUISEUX}; sin at the limit oo"),
    (1 / ZERO_N, "undefined", f"the expression is undefined: it divides by {ZERO_N}, which is identically 0"),
], ids=str)
def test_an_undecided_limit_is_one_case_of_every_parameter_value(expr, method, reason):
    assert limit_cases(expr, N) == [LimitCase({}, (), LimitResult(None, method, reason))]


def test_four_nested_vanishing_coefficients_are_followed_and_no_more():
    """n^5/(a n^5 + b n^4 + c n^3 + d n^2 + e n + 1): where a = b = c = d = 0 (four nested
    cases) the coefficient e is not followed further."""
    b, c, d, e = sympy.symbols("b c d e", real=True)
    cases = limit_cases(N**5 / (A * N**5 + b * N**4 + c * N**3 + d * N**2 + e * N + 1), N)
    zero = sympy.Integer(0)
    nested = [{}, {A: zero}, {A: zero, b: zero}, {A: zero, b: zero, c: zero},
              {A: zero, b: zero, c: zero, d: zero}]
    assert [case.where for case in cases] == [*nested, nested[-1]]
    assert cases[-1].unsolved == (e,) and cases[-1].result == LimitResult(
        None, "none", "the leading coefficient e may vanish for some parameters, and where it does "
                      "cannot be listed exactly")


def test_the_sign_of_a_divergent_limit_is_that_of_the_quotient_of_the_leading_coefficients():
    # x n^2/(x n + 1): the quotient x/x = 1 is positive where x != 0, though x * x may be 0
    assert limit_cases(X * N**2 / (X * N + 1), N)[0].result == LimitResult(
        oo, "Puiseux", "the numerator dominates")
    assert limit_cases(-X * N**2 / (X * N + 1), N)[0].result == LimitResult(
        -oo, "Puiseux", "the numerator dominates")
    assert limit_cases(Y * N**2 / (X * N + 1), N)[0].result == LimitResult(
        None, "none", "the sign of the divergent leading term y/x depends on the parameters")


def test_a_case_that_cannot_be_listed_is_one_undecided_case():
    expr = (sympy.sin(A) * N + 1) / (sympy.sin(A) * N + 2)
    assert limit_cases(expr, N)[-1] == LimitCase({}, (), LimitResult(
        None, "none", "the leading coefficient sin(a) may vanish for some parameters, and where it "
                      "does cannot be listed exactly"), (sympy.sin(A),))


def test_an_expression_with_expectations_is_one_undecided_case():
    (case,) = limit_cases(N * Expectation(X), N)
    assert case == LimitCase({}, (), LimitResult(None, "none",
                                                 "the expression still contains expectations"))
    assert case.describe() == "every parameter value"


@pytest.mark.parametrize("roots, cases", [(14, 15), (15, 16), (16, 1)])
def test_at_most_sixteen_parameter_cases(roots, cases):
    """n/(p(x) n + 1) with p(x) = (x - 1) ... (x - roots): the generic case and one per root,
    while there are at most 16; beyond that one undecided case."""
    p = sympy.Mul(*[X - r for r in range(1, roots + 1)])
    found = limit_cases(N / (p * N + 1), N)
    assert len(found) == cases
    if cases == 1:
        assert found == [LimitCase({}, (), LimitResult(None, "none", "more than 16 parameter cases"))]
        assert found[0].describe() == "every parameter value"
    else:
        assert sorted(c.where[X] for c in found[1:]) == list(range(1, roots + 1))
        assert all(c.result.value == oo for c in found[1:])


def test_an_expression_undefined_for_every_n_has_no_order():
    assert asymptotic_order(1 / ZERO_N, N) is None
    assert asymptotic_order(sympy.Integer(3), N) == (3, 0)
    assert asymptotic_order(sympy.Integer(0), N) is None


# ---- expressions undefined everywhere ------------------------------------------------------


N_ = sympy.Symbol("n", integer=True, positive=True)
N_ZERO = (N_ + 1) ** 2 - N_**2 - 2 * N_ - 1  # identically 0, not simplified by sympy


@pytest.mark.parametrize("lhs, rhs", [
    (N_ZERO / -N_ZERO, sympy.Integer(-1)),
    (sympy.Integer(2), 2 + N_ZERO / N_ZERO**2),
    (1 / sympy.sqrt(N_ZERO), sympy.Integer(0)),
])
def test_a_side_that_divides_by_an_identical_zero_is_not_proved(lhs, rhs):
    d = decide_equal(lhs, rhs, InstanceSpace())
    assert d.status == "unknown" and d.method == "undefined"
    assert "identically 0" in d.reason


def test_a_quotient_defined_almost_everywhere_is_still_decided():
    x = sympy.Symbol("x", positive=True)
    assert decide_equal((x**2 - 1) / (x - 1), x + 1, InstanceSpace()).status == "equal"
    assert vanishing_denominator((x**2 - 1) / (x - 1)) is None


def test_the_limit_of_an_expression_undefined_everywhere_is_not_taken():
    (case,) = limit_cases(N_ZERO / -N_ZERO, N_)
    assert case.result.value is None and case.result.method == "undefined"


def test_the_limit_rule_refuses_an_undefined_expression_without_gruntz():
    text = ("theorem t\n \"s\"\n let n : positive integer\n"
            " claim ((n + 1)^2 - n^2 - 2n - 1)/(n^2 - (n + 1)^2 + 2n + 1) -> -1 as n -> oo\nproof\n"
            " ((n + 1)^2 - n^2 - 2n - 1)/(n^2 - (n + 1)^2 + 2n + 1)\n -> -1 as n -> oo by limit\nqed\n")
    from tpcheck.api import check_text
    from tpcheck.kernel import Options

    (t,) = check_text(text, "t", Options(budget=None, witnesses=False, run_budget=None)).theorems
    assert t.verdict.value == "UNDECIDED"
    assert "identically 0" in t.steps[0].detail and "Gruntz" not in t.steps[0].detail
