"""The ``zdot_recursion`` rule: semicircle moments of a power iteration for every k, from the Z
rules at a symbolic step, base cases held against the Z-calculus, and strong induction."""

from __future__ import annotations

import pytest
import sympy

import tpcheck.rules.power_iteration  # noqa: F401  (registers zdot_recursion until rules/__init__ does)
from tests.conftest import run
from tpcheck.api import theorem_from_text
from tpcheck.engines.combinatorics import catalan_number
from tpcheck.engines.z_covariance import (
    PowerRecurrence,
    ZCalculusError,
    catalan_solution,
    derive_power_iteration_recurrence,
)
from tpcheck.expectations.programs import average_limit
from tpcheck.kernel import Verdict

THEOREM = """theorem t
  {param}
  let n : positive integer
  let s : real
  let A ~ {matrix}
  let B ~ Matrix(n)
  let x ~ {vector}
  let W = {w}
  claim {lhs} -> {rhs} as n -> oo
proof
  {lhs}
    -> {rhs} as n -> oo    by zdot_recursion
qed
"""

SEMICIRCLE = "(A + transpose(A))/sqrt(2)"


def text(rhs: str, power: str = "2k", w: str = SEMICIRCLE, lhs: str | None = None,
         param: str = "for all k >= 0", matrix: str = "Matrix(n)", vector: str = "Vector(n)") -> str:
    """A theorem whose one step is ``LHS -> RHS by zdot_recursion``."""
    lhs = lhs or f"avg(x * (W^({power}) * x))"
    return THEOREM.format(param=param, matrix=matrix, vector=vector, w=w, lhs=lhs, rhs=rhs)


def step(source: str):
    report = run(source, budget=None, witnesses=False)
    (theorem,) = report.theorems
    (result,) = theorem.steps
    return theorem, result


# ---- the rule proves the moments for all k ---------------------------------------------------


def test_semicircle_even_moments_for_all_k():
    theorem, result = step(text("catalan(k)"))
    assert theorem.verdict is Verdict.PROVED, result.detail
    assert "strong induction" in result.detail and "Assumed" in result.detail
    assert "Tensor Programs III" in result.detail
    assert {"z-calculus", "pairings"} <= set(result.rests_on)


def test_semicircle_odd_moments_for_all_k():
    theorem, result = step(text("0", power="2k + 1"))
    assert theorem.verdict is Verdict.PROVED, result.detail


def test_other_forms_of_the_same_closed_form():
    assert step(text("(2k)!/(k! * (k + 1)!)"))[0].verdict is Verdict.PROVED
    assert step(text("catalan(k + 1)", power="2k + 2"))[0].verdict is Verdict.PROVED
    assert step(text("catalan(k)", param="for all k >= 3"))[0].verdict is Verdict.PROVED


def test_scaled_matrix_gives_s_to_the_2k_times_catalan():
    theorem, result = step(text("s^(2k) * catalan(k)", w=f"s * {SEMICIRCLE}"))
    assert theorem.verdict is Verdict.PROVED, result.detail
    assert "kappa = s**2" in result.detail


def test_variances_enter_through_kappa_and_v():
    # A ~ Matrix(n, 3): kappa = 3; x ~ Vector(n, 2): M(0) = 2
    theorem, result = step(text("2 * 3^k * catalan(k)", matrix="Matrix(n, 3)", vector="Vector(n, 2)"))
    assert theorem.verdict is Verdict.PROVED, result.detail


def test_antisymmetric_combination_alternates_in_sign():
    theorem, result = step(text("(-1)^k * catalan(k)", w="(A - transpose(A))/sqrt(2)"))
    assert theorem.verdict is Verdict.PROVED, result.detail


# ---- wrong claims are refuted at the first k where the Z-calculus differs ---------------------


@pytest.mark.parametrize(("rhs", "first"), [("catalan(k) + 1", 0), ("2^k", 1), ("catalan(k) + k*(k - 1)", 2)])
def test_wrong_right_sides_are_refuted_at_the_first_bad_k(rhs, first):
    theorem, result = step(text(rhs))
    assert theorem.verdict is Verdict.REFUTED, result.detail
    assert result.counterexample["instance"]["k"] == str(first)
    assert f"at k = {first}" in result.detail


def test_wrong_scale_is_refuted_with_an_instance_of_s():
    theorem, result = step(text("s^(2k) * catalan(k)"))
    assert theorem.verdict is Verdict.REFUTED
    assert result.counterexample["instance"]["k"] == "1"


def test_odd_moment_claimed_nonzero_is_refuted():
    theorem, result = step(text("catalan(k)", power="2k + 1"))
    assert theorem.verdict is Verdict.REFUTED
    assert result.counterexample["instance"]["k"] == "0"


def test_a_base_case_that_differs_is_not_proved():
    """x ~ Vector(n, 2): M(0) = 2, so catalan(k) fails at k = 0 (the initial value is read from
    the program, not assumed to be 1)."""
    theorem, result = step(text("catalan(k)", vector="Vector(n, 2)"))
    assert theorem.verdict is Verdict.REFUTED
    assert result.counterexample["instance"]["k"] == "0"


def test_the_base_case_check_runs(monkeypatch):
    """A derivation whose initial values or kappa disagree with the Z-calculus of the program is
    refused by the check against it, not trusted."""
    import tpcheck.rules.power_iteration as module

    def wrong_initial(orientations, multipliers, v):
        rec = derive_power_iteration_recurrence(orientations, multipliers, v)
        m_fn = sympy.Function("M")
        return PowerRecurrence(rec.zdot_coefficient, rec.derivative, rec.moment, rec.closed,
                               {**rec.base, m_fn(1): sympy.Integer(1)}, rec.kappa, rec.assumptions, v)

    monkeypatch.setattr(module, "catalan_solution", lambda rec: catalan_solution(
        derive_power_iteration_recurrence([(False, 1), (True, 1)], (1, 1), rec.initial)))
    monkeypatch.setattr(module, "derive_power_iteration_recurrence", wrong_initial)
    theorem, result = step(text("catalan(k)"))
    assert theorem.verdict is Verdict.UNDECIDED
    assert "base case M(1)" in result.detail


def test_a_wrong_kappa_is_caught_by_the_check_against_the_program(monkeypatch):
    import tpcheck.rules.power_iteration as module

    def doubled(orientations, multipliers, v):
        return derive_power_iteration_recurrence(orientations, (2 * multipliers[0], 2 * multipliers[1]), v)

    monkeypatch.setattr(module, "derive_power_iteration_recurrence", doubled)
    theorem, result = step(text("2^k * catalan(k)"))
    assert theorem.verdict is Verdict.UNDECIDED
    assert "base case M(2)" in result.detail


# ---- out of scope: UNDECIDED with the reason ------------------------------------------------


@pytest.mark.parametrize(("source", "reason"), [
    (text("catalan(k)", w="(A + transpose(B))/sqrt(2)"), "2 matrices"),
    (text("catalan(k)", matrix="Matrix(n, 1, 2)"), "not square"),
    (text("catalan(k)", lhs="avg(x * (W^(2k) * relu(x)))"), "same initial vector"),
    (text("catalan(k)", lhs="avg(x * relu(W^(2k) * x))"), "not x * (W^p * x)"),
    (text("catalan(k)", lhs="avg(x^2 * (W^(2k) * x))"), "same initial vector"),
    (text("0", w="A"), "kappa = 0"),
    (text("catalan(k)", power="k^2"), "not a k + b"),
])
def test_out_of_scope_programs_are_undecided(source, reason):
    theorem, result = step(source)
    assert theorem.verdict is Verdict.UNDECIDED
    assert reason in result.detail, result.detail


def test_powers_4k_and_of_unfixed_parity():
    assert step(text("catalan(2k)", power="4k"))[0].verdict is Verdict.PROVED
    theorem, result = step(text("catalan(k)", power="4k"))
    assert theorem.verdict is Verdict.REFUTED and result.counterexample["instance"]["k"] == "1"
    # M(k) = [k even] C_(k/2): true, but the rule does not split k by parity
    theorem, result = step(text("ncpairings(k)", power="k", param="k in 0..3"))
    assert theorem.verdict is Verdict.UNDECIDED
    assert "parity" in result.detail


def test_counterexamples_stay_in_the_declared_range():
    """k in 1..3: k^2 - 2k + 2 is 1, 2, 5 = C_1, C_2, C_3 there (and 10 != C_4 = 14 at k = 4,
    which the claim does not speak of): never REFUTED."""
    theorem, result = step(text("k^2 - 2k + 2", param="k in 1..3"))
    assert theorem.verdict in (Verdict.PROVED, Verdict.UNDECIDED), result.detail
    assert result.counterexample is None


# ---- the derivation against the Z-calculus, independently -----------------------------------


def test_derived_recursion_matches_master_theorem_limits_to_k_12():
    """M(n) from the derived closed recurrence equals lim avg(x * (W^n * x)) by the Master
    Theorem (the compiled program, the recursive Z-calculus) for n = 0..12."""
    source = text("catalan(k)", power="k", param="for all k >= 0")
    theorem = theorem_from_text(source)
    k = theorem.context.parameters[0].symbol
    n = theorem.claim.limit_var
    rec = derive_power_iteration_recurrence([(False, 1 / sympy.sqrt(2)), (True, 1 / sympy.sqrt(2))], (1, 1))
    m_fn, nn = sympy.Function("M"), rec.closed.lhs.args[0]
    values = {0: rec.base[m_fn(0)], 1: rec.base[m_fn(1)]}
    for j in range(2, 13):
        values[j] = rec.closed.rhs.subs(nn, j).doit().replace(m_fn, lambda e: values[int(e)])
    for j in range(13):
        limit, exact = average_limit(theorem.claim.lhs.xreplace({k: j}), theorem.context, n, 30)
        assert exact and limit == values[j], j
    assert [values[j] for j in range(13)] == [catalan_number(j // 2) if j % 2 == 0 else 0 for j in range(13)]


def test_general_kappa_and_initial_variance():
    v = sympy.Symbol("v", positive=True)
    s = sympy.Symbol("s", real=True)
    c = s / sympy.sqrt(2)
    rec = derive_power_iteration_recurrence([(False, c), (True, c)], (1, 1), v)
    assert rec.kappa == s ** 2
    assert rec.base[sympy.Function("M")(0)] == v
    sol = catalan_solution(rec)
    m = sol.m
    assert sympy.expand(sol.even - v * s ** (2 * m) * sympy.catalan(m)) == 0
    k = sympy.Symbol("k", integer=True, nonnegative=True)
    assert sol.at(2 * k + 1) == 0 and sol.at(k) is None


def test_derivation_refuses_a_repeated_orientation():
    with pytest.raises(ZCalculusError, match="at most once"):
        derive_power_iteration_recurrence([(False, 1), (False, 1)])


def test_catalan_solution_needs_the_closed_recurrence():
    rec = derive_power_iteration_recurrence([(False, 1), (True, 1)], (1, 1), sympy.Symbol("v"))
    assert rec.closed is None  # v may be 0: T is not eliminated
    with pytest.raises(ZCalculusError, match="not closed"):
        catalan_solution(rec)


@pytest.mark.slow
def test_library_semicircle_theorems_are_proved(root):
    from tpcheck import check
    from tpcheck.kernel import Options

    report = check(root / "proofs" / "tensor_programs.tp", Options(witnesses=False))
    got = {t.name: t.verdict for t in report.theorems}
    assert got["semicircle_by_tensor_programs"] is Verdict.PROVED
    assert got["semicircle_odd_by_tensor_programs"] is Verdict.PROVED
    assert got["semicircle_by_tensor_programs_instances"] is Verdict.VERIFIED
