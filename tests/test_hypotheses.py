"""Impossible hypotheses are refused when the file is read; limits hold for every parameter.

A declaration that no random object can satisfy (a covariance that is not positive
semidefinite, a negative second moment, a kernel at an impossible covariance) would let a rule
prove anything, so the elaborator refuses it with its position. A limit is PROVED only if it
holds at every admissible value of the parameters, including the values where a leading
coefficient vanishes.
"""

from __future__ import annotations

import pytest
import sympy

from tests.conftest import run
from tpcheck.engines.asymptotics import asymptotic_order, limit_at_infinity, limit_cases
from tpcheck.engines.instances import InstanceSpace
from tpcheck.engines.laws import moment_contradiction, positive_semidefinite


def theorem(header: str, claim: str, chain: str) -> str:
    """A one-theorem file: ``header`` lines, the claim, the chain (first line the start)."""
    lines = ["theorem t", '  "a statement"', *(f"  {h}" for h in header.strip().splitlines()),
             f"  claim {claim}", "proof", *(f"  {c}" for c in chain.strip().splitlines()), "qed"]
    return "\n".join(lines) + "\n"


def error_of(text: str) -> str:
    report = run(text, budget=None, witnesses=False)
    assert not report.theorems and not report.internal_errors
    assert len(report.errors) == 1, report.errors
    return report.errors[0]


def accepted(text: str):
    report = run(text, budget=None, witnesses=False)
    assert not report.errors and not report.internal_errors, report.errors
    return report.theorems[0]


def step_of(text: str):
    (step,) = accepted(text).steps
    return step


# --- covariances ---------------------------------------------------------------------------

AVG_UV = "avg(u*v)\n  -> 2 as n -> oo   by master_theorem"


def test_vector_covariance_that_is_not_psd_is_refused_with_its_position():
    text = theorem("let n : positive integer\nlet u, v ~ Vector(n, [[1, 2], [2, 1]])",
                   "avg(u*v) -> 2 as n -> oo", AVG_UV)
    err = error_of(text)
    assert err.startswith("<test>:4:")
    assert "Vector: the covariance [[1, 2], [2, 1]] is not positive semidefinite" in err


def test_vector_covariance_must_be_symmetric():
    text = theorem("let n : positive integer\nlet u, v ~ Vector(n, [[1, 0], [1/2, 1]])",
                   "avg(u*v) -> 2 as n -> oo", AVG_UV)
    assert "symmetric" in error_of(text)


def test_a_singular_psd_vector_covariance_is_accepted():
    text = theorem("let n : positive integer\nlet u, v ~ Vector(n, [[1, 1], [1, 1]])",
                   "avg(u*v) -> 1 as n -> oo", "avg(u*v)\n  -> 1 as n -> oo   by master_theorem")
    assert accepted(text).verdict.value == "PROVED"


def test_symbolic_vector_covariance_must_be_shown_psd():
    header = "let n : positive integer\nlet q1, q2 : positive real\nlet c : real\n" \
             "let u, v ~ Vector(n, [[q1, c], [c, q2]])"
    text = theorem(header, "avg(u*v) -> c as n -> oo",
                   "avg(u*v)\n  -> c as n -> oo   by master_theorem")
    assert "Vector: cannot show that the covariance [[q1, c], [c, q2]] is positive " \
           "semidefinite" in error_of(text)
    # the assumption c^2 <= q1 q2 is exactly the missing minor
    assert accepted(text.replace("  claim", "  assume c^2 <= q1*q2\n  claim"))


def test_vector_variance_from_an_assumption():
    header = "let n : positive integer\nlet v : real\nlet x ~ Vector(n, v)"
    text = theorem(header, "avg(x*x) -> v as n -> oo",
                   "avg(x*x)\n  -> v as n -> oo   by master_theorem")
    assert "cannot show that the variances are >= 0" in error_of(text)
    assert accepted(text.replace("  claim", "  assume v >= 0\n  claim"))


def test_symbolic_vector_covariance_psd_from_domains():
    header = "let n : positive integer\nlet s : positive real\n" \
             "let u, v ~ Vector(n, [[s^2, s], [s, 1]])"
    text = theorem(header, "avg(u*v) -> s as n -> oo",
                   "avg(u*v)\n  -> s as n -> oo   by master_theorem")
    assert accepted(text)


def test_normal_covariance_psd_is_decided_exactly_not_in_floating_point():
    # 1 + 10^-20 rounds to 1.0 in double precision, where the matrix looks singular and PSD
    cov = "[[1, 1 + 10^-20], [1 + 10^-20, 1]]"
    text = theorem(f"let X, Y ~ Normal([0, 0], {cov})", "E[X*Y] = 1 + 10^-20",
                   "E[X*Y]\n  = 1 + 10^-20   by wick")
    assert "is not positive semidefinite" in error_of(text)


@pytest.mark.parametrize("law", ["Normal([0, 0], [[p, c], [c, q]])", "Vector(n, [[p, c], [c, q]])"])
@pytest.mark.parametrize("domain, refused", [("complex", True), ("real", False)])
def test_a_covariance_entry_must_be_real(law, domain, refused):
    header = f"let n : positive integer\nlet p, q : positive real\nlet c : {domain}\n" \
             f"assume c^2 <= p*q\nlet X, Y ~ {law}"
    if law.startswith("Normal"):
        text = theorem(header, "E[X*Y] = c", "E[X*Y]\n  = c   by wick")
    else:
        text = theorem(header, "avg(X*Y) -> c as n -> oo", "avg(X*Y)\n  -> c as n -> oo   by master_theorem")
    if refused:
        assert "has an entry not shown to be real (c)" in error_of(text)
    else:
        assert accepted(text)


def test_exact_psd_decision():
    r = sympy.Rational
    assert positive_semidefinite([[1, 1], [1, 1]]) is True
    assert positive_semidefinite([[0, 0], [0, 3]]) is True
    assert positive_semidefinite([[0, 1], [1, 0]]) is False
    assert positive_semidefinite([[1, 2], [2, 1]]) is False
    # every 2x2 principal minor is positive, the determinant is not
    m = [[1, r(9, 10), r(-9, 10)], [r(9, 10), 1, r(9, 10)], [r(-9, 10), r(9, 10), 1]]
    assert positive_semidefinite(m) is False
    assert positive_semidefinite([[2, r(2, 3)], [r(2, 3), 2]]) is True


def test_symbolic_psd_decision():
    a = sympy.Symbol("a", real=True)
    p = sympy.Symbol("p", positive=True)
    assert positive_semidefinite([[p, 0], [0, p]]) is True
    assert positive_semidefinite([[a**2, a], [a, 1]]) is True  # (a, 1)(a, 1)^T
    assert positive_semidefinite([[1, a], [a, 1]]) is None
    assert positive_semidefinite([[-p, 0], [0, 1]]) is False
    assert positive_semidefinite([[1, a], [a, 1]], slacks=[1 - a**2]) is True


# --- kernel closed forms -------------------------------------------------------------------

@pytest.mark.parametrize("call", ["relu_dual(2, 2, 6)", "step_dual(1, 1, -2)",
                                  "erf_dual(-1, 1, 0)", "relu_dual(1, -1, 0)",
                                  "erf_dual(1, 1, 2)", "relu_dual(0, 1, 0)"])
def test_kernel_closed_form_at_an_impossible_covariance_is_refused(call):
    text = theorem("", f"{call} = 0", f"{call}\n  = 0   by numeric")
    err = error_of(text)
    assert err.startswith("<test>:3:") and call.split("(")[0] in err


def test_nngp_with_an_impossible_first_layer_is_refused():
    header = "let n : positive integer\nlet W2 ~ Matrix(n, 2)\n" \
             "let h1a, h1b ~ Vector(n, [[2, 6], [6, 2]])\n" \
             "let h2a = W2 * relu(h1a)\nlet h2b = W2 * relu(h1b)"
    text = theorem(header, "2 * avg(relu(h2a) * relu(h2b)) -> 2 * relu_dual(2, 2, 6) as n -> oo",
                   "2 * avg(relu(h2a) * relu(h2b))\n"
                   "  -> 2 * relu_dual(2, 2, 6) as n -> oo   by master_theorem")
    assert "not positive semidefinite" in error_of(text)


def test_kernel_closed_form_at_a_possible_covariance_is_accepted():
    text = theorem("", "2 * relu_dual(2, 2, 2 * relu_dual(2, 2, 2/3)) = 1.221771735973907766082",
                   "2 * relu_dual(2, 2, 2 * relu_dual(2, 2, 2/3))\n"
                   "  = 1.221771735973907766082   by numeric")
    assert accepted(text + "crosscheck mpmath digits 21\n").verdict.value == "CORROBORATED"


def test_symbolic_kernel_arguments_refused_only_when_provably_impossible():
    ok = theorem("let q : positive real\nlet c : real", "relu_dual(q, q, c) = relu_dual(q, q, c)",
                 "relu_dual(q, q, c)\n  = relu_dual(q, q, c)   by algebra")
    assert accepted(ok)
    bad = theorem("let q : positive real", "relu_dual(q, q, 2q) = relu_dual(q, q, 2q)",
                  "relu_dual(q, q, 2q)\n  = relu_dual(q, q, 2q)   by algebra")
    assert "relu_dual" in error_of(bad)
    negative = theorem("let q : positive real", "erf_dual(-q, q, 0) = erf_dual(-q, q, 0)",
                       "erf_dual(-q, q, 0)\n  = erf_dual(-q, q, 0)   by algebra")
    assert "erf_dual" in error_of(negative)


# --- iid family moments --------------------------------------------------------------------

MARKOV = "P[|X[1]| >= 1]\n  <= E[X[1]^2]/1^2   by markov\n  = -1   by iid_moment"


def test_negative_second_moment_is_refused():
    text = theorem("let X[1..2] iid with E[X] = 0, E[X^2] = -1", "P[|X[1]| >= 1] <= -1", MARKOV)
    err = error_of(text)
    assert err.startswith("<test>:3:") and "E[X^2] = -1" in err


def test_even_moment_must_be_shown_nonnegative():
    text = theorem("let s : real\nlet X[1..2] iid with E[X^2] = s", "E[X[1]^2] = s",
                   "E[X[1]^2]\n  = s   by iid_moment")
    assert "cannot show" in error_of(text)
    assert accepted(text.replace("  claim", "  assume s >= 0\n  claim"))


def test_an_undeclared_name_for_an_even_moment_is_nonnegative():
    text = theorem("let X[1..2] iid with E[X] = 0, E[X^2] = 1, E[X^4] = m4", "E[X[1]^4] = m4",
                   "E[X[1]^4]\n  = m4   by iid_moment")
    t = accepted(text)
    assert t.verdict.value == "PROVED"


def test_variance_below_zero_is_refused():
    text = theorem("let X[1..2] iid with E[X] = 1, E[X^2] = 1/2", "E[X[1]] = 1",
                   "E[X[1]]\n  = 1   by iid_moment")
    assert "not positive semidefinite" in error_of(text)


def test_hankel_moment_matrix_is_checked():
    # E[X^4] >= E[X^2]^2 = 1
    text = theorem("let X[1..2] iid with E[X] = 0, E[X^2] = 1, E[X^4] = 1/2", "E[X[1]] = 0",
                   "E[X[1]]\n  = 0   by iid_moment")
    assert "not positive semidefinite" in error_of(text)
    assert moment_contradiction({1: 0, 2: 1, 4: 1}) is None  # Rademacher
    assert moment_contradiction({1: 0, 2: 1, 3: 0, 4: 3, 6: 15}) is None  # Gaussian
    assert moment_contradiction({2: 1, 4: 3, 6: 8}) is not None  # m2 m6 >= m4^2 fails
    s = sympy.Symbol("s", positive=True)
    assert moment_contradiction({1: 1, 2: 1 - s**2}) is not None  # variance -s^2
    assert moment_contradiction({1: 1, 2: 1 + s**2}) is None


@pytest.mark.parametrize("moments", ["E[X^2] = 1, E[X^2] = 1", "E[X^2] = 1, E[X^2] = 2"])
def test_a_moment_given_twice_is_refused(moments):
    text = theorem(f"let X[1..2] iid with {moments}", "E[X[1]^2] = 1",
                   "E[X[1]^2]\n  = 1   by iid_moment")
    assert "given twice" in error_of(text)


def test_a_wigner_entry_moment_given_twice_is_refused():
    text = theorem("let n : positive integer\nlet M ~ Wigner(n) with E[X^4] = 2, E[X^4] = 3",
                   "tr(M^2) = tr(M^2)", "tr(M^2)\n  = tr(M^2)   by algebra")
    assert "given twice" in error_of(text)


def test_a_wigner_fourth_moment_below_one_is_refused():
    text = theorem("let n : positive integer\nlet M ~ Wigner(n) with E[X^4] = 1/2",
                   "tr(M^2) = tr(M^2)", "tr(M^2)\n  = tr(M^2)   by algebra")
    assert "not positive semidefinite" in error_of(text)


def test_a_law_and_contradicting_moments_are_refused():
    text = theorem("let X[1..2] iid ~ Rademacher() with E[X^2] = 2", "E[X[1]^2] = 2",
                   "E[X[1]^2]\n  = 2   by iid_moment")
    assert "contradicts" in error_of(text)


@pytest.mark.parametrize("where", ["claim", "definition", "sum"])
def test_a_member_outside_the_declared_range_is_refused(where):
    header = "let X[1..2] iid with E[X] = 0, E[X^2] = 1"
    if where == "claim":
        text = theorem(header, "E[X[5]^2] = 1", "E[X[5]^2]\n  = 1   by iid_moment")
    elif where == "definition":
        text = theorem(header + "\nlet f(i) = X[i]^2", "E[f(5)] = 1",
                       "E[f(5)]\n  = 1   by iid_moment")
    else:
        text = theorem(header, "E[sum(X[i]^2, i = 1..5)] = 5",
                       "E[sum(X[i]^2, i = 1..5)]\n  = 5   by iid_moment")
    assert "outside" in error_of(text)


def test_members_inside_the_range_are_accepted():
    text = theorem("let X[1..2] iid with E[X] = 0, E[X^2] = 1", "E[X[2]^2] = 1",
                   "E[X[2]^2]\n  = 1   by iid_moment")
    assert accepted(text).verdict.value == "PROVED"


# --- limits for every parameter value ------------------------------------------------------

def limit_text(header: str, lhs: str, value: str) -> str:
    return theorem(f"let n : positive integer\n{header}", f"{lhs} -> {value} as n -> oo",
                   f"{lhs}\n  -> {value} as n -> oo   by limit")


def test_limit_refuted_where_the_denominator_coefficient_vanishes():
    # n = 1/t: a/(a + t); the denominator's lowest coefficient is a, and a = 0 gives 0
    step = step_of(limit_text("let a : real", "a*n/(a*n + 1)", "1"))
    assert step.verdict.value == "REFUTED"
    assert step.counterexample["instance"] == {"a": "0"}
    assert "Gruntz" not in step.detail


def test_limit_refuted_where_the_leading_term_vanishes_and_the_limit_diverges():
    step = step_of(limit_text("let a : real", "(a*n^2 + n)/(a*n^2 + 1)", "1"))
    assert step.verdict.value == "REFUTED"
    assert step.counterexample["instance"] == {"a": "0"}


def test_a_vanishing_case_is_refuted_at_an_instance_of_the_other_parameters():
    step = step_of(limit_text("let a, b : real", "(a*n + b)/(a*n + 1)", "1"))
    assert step.verdict.value == "REFUTED"
    instance = step.counterexample["instance"]
    assert instance["a"] == "0" and instance["b"] != "1"
    # the coefficient a - b vanishes on the line a = b, where the limit is 0
    step = step_of(limit_text("let a : positive real\nlet b : real",
                              "(a - b)*n/((a - b)*n + 1)", "1"))
    assert step.verdict.value == "REFUTED"
    instance = step.counterexample["instance"]
    assert instance["a"] == instance["b"] and sympy.Rational(instance["a"]) > 0


def test_limit_proved_when_the_domain_excludes_the_vanishing_value():
    assert step_of(limit_text("let a : positive real", "a*n/(a*n + 1)", "1")).verdict.value \
        == "PROVED"
    assumed = limit_text("let a : real\nassume a > 0", "a*n/(a*n + 1)", "1")
    assert step_of(assumed).verdict.value == "PROVED"


def test_limit_proved_when_every_case_agrees():
    # n = 1/t: (a + t)/(a + t + t^2); a != 0: a/a = 1; a = 0: 1/(1 + t) -> 1
    step = step_of(limit_text("let a : real", "(a*n^2 + n)/(a*n^2 + n + 1)", "1"))
    assert step.verdict.value == "PROVED"
    assert "a = 0" in step.detail


def test_denominator_coefficient_identically_zero_after_cancellation():
    lhs = "n/(((a + 1)^2 - a^2 - 2a - 1)*n^2 + n + 1)"
    assert step_of(limit_text("let a : real", lhs, "1")).verdict.value == "PROVED"
    assert step_of(limit_text("let a : real", lhs, "0")).verdict.value == "REFUTED"


def test_limit_undecided_when_the_vanishing_set_cannot_be_enumerated():
    # sin(a) = 0 at a = 0, where the limit is 1/2; Gruntz would say 1 for a generic a
    step = step_of(limit_text("let a : real", "(sin(a)*n + 1)/(sin(a)*n + 2)", "1"))
    assert step.verdict.value == "UNDECIDED"
    assert "sin(a)" in step.detail


def test_parameter_free_limits_may_still_use_gruntz():
    step = step_of(limit_text("", "n*sin(1/n)", "1"))
    assert step.verdict.value == "PROVED"
    assert "Gruntz algorithm (sympy.limit)" in step.detail


def test_gruntz_is_not_used_with_parameters():
    step = step_of(limit_text("let a : real", "a*n*sin(1/n)", "a"))
    assert step.verdict.value == "UNDECIDED"
    assert "Gruntz" not in step.detail


def test_compound_interest_is_exact_for_every_parameter():
    step = step_of(limit_text("let x : real", "(1 + x/n)^n", "exp(x)"))
    assert step.verdict.value == "PROVED" and "Gruntz" not in step.detail
    step = step_of(limit_text("let a, b : real", "(1 + a/n)^(b*n)", "exp(a*b)"))
    assert step.verdict.value == "PROVED"
    step = step_of(limit_text("let x : real", "(1 + x/n)^n", "exp(2x)"))
    assert step.verdict.value == "REFUTED"


def test_limit_cases_split_on_the_vanishing_coefficient():
    n = sympy.Symbol("n", integer=True, positive=True)
    a = sympy.Symbol("a", real=True)
    cases = limit_cases(a * n / (a * n + 1), n, InstanceSpace())
    assert [(c.where, c.result.value) for c in cases] == [({}, 1), ({a: 0}, 0)]
    assert cases[0].nonzero == (a,)
    res = limit_at_infinity(a * n / (a * n + 1), n)
    assert res.value is None and "may vanish" in res.reason
    # a ranged parameter outside the root's range has no vanishing case
    k = sympy.Symbol("k", integer=True, positive=True)
    assert [c.where for c in limit_cases(n / ((k - 3) * n + 1), n, InstanceSpace())] \
        == [{}, {k: 3}]
    space = InstanceSpace({k: (5, 9)})
    assert [c.where for c in limit_cases(n / ((k - 3) * n + 1), n, space)] == [{}]


def test_asymptotic_order_refuses_a_coefficient_that_may_vanish():
    n = sympy.Symbol("n", integer=True, positive=True)
    m4 = sympy.Symbol("m4", real=True)
    assert asymptotic_order(m4 - 3, n) is None
    assert asymptotic_order((m4 - 3) / n, n) is None
    assert asymptotic_order(3 + 2 / n - 3, n) == (2, -1)
    assert asymptotic_order(sympy.Integer(2), n) == (2, 0)
