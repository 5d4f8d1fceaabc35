"""Engine slips found in review: step in the tensor-program engine, moment 0 of the spectral
laws, E[c] in eval, and instances that make every law a law."""

from __future__ import annotations

import random

import numpy as np
import pytest
import sympy

from tests.conftest import run
from tpcheck.engines.heads import relu
from tpcheck.engines.netsor import Program, ProgramError, master_theorem_limit, orthant_probability, simulate
from tpcheck.kernel import Verdict
from tpcheck.lang.elaborate import elaborate_theorem
from tpcheck.lang.parser import parse
from tpcheck.witness.stats import Z_THRESHOLD

R = sympy.Symbol
H = sympy.Heaviside


def real(name: str) -> sympy.Symbol:
    return R(name, real=True)


def master(claim: str, lets: str = "") -> tuple[Verdict, str]:
    """Verdict and detail of a one-step ``master_theorem`` proof of ``claim`` (LHS -> RHS)."""
    lhs, rhs = (s.strip() for s in claim.split("->", 1))
    text = ("theorem t\n let n : positive integer\n let A ~ Matrix(n)\n let x ~ Vector(n)\n"
            f" let h = A*x\n{lets} claim {claim}\nproof\n {lhs}\n -> {rhs} by master_theorem\nqed\n")
    report = run(text, witnesses=False)
    assert not report.errors, report.errors
    step = report.theorems[0].steps[0]
    return step.verdict, step.detail


def theorem(text: str):
    return elaborate_theorem(parse(text).theorems[0], text.splitlines())


# ---- 1. step throughout the tensor-program engine --------------------------------------------


@pytest.mark.parametrize("claim", [
    "avg(step(h)) -> 1/2 as n -> oo",
    "avg(step(h)^2) -> 1/2 as n -> oo",
    "avg(relu(h)*step(h)) -> 1/sqrt(2*pi) as n -> oo",
    "avg(step(h)*step(-h)) -> 0 as n -> oo",
    "avg(step(h)*step(x)) -> 1/4 as n -> oo",
])
def test_averages_of_steps_are_proved_exactly(claim):
    verdict, detail = master(claim)
    assert verdict is Verdict.PROVED, detail


def test_a_wrong_average_of_a_step_is_refuted():
    verdict, detail = master("avg(step(h)) -> 1/3 as n -> oo")
    assert verdict is Verdict.REFUTED and "the limit is 1/2" in detail


def test_two_correlated_steps_give_the_arc_cosine_kernel():
    lets = " let u, w ~ Vector(n, [[1, 1/2], [1/2, 1]])\n"
    # 1/2 - arccos(1/2)/(2 pi) = 1/3
    assert master("avg(step(u)*step(w)) -> 1/3 as n -> oo", lets)[0] is Verdict.PROVED


@pytest.mark.parametrize("phi, limit", [
    ("step(h)", "1/sqrt(2*pi)"),     # E[delta(Zhat)] = density of N(0, 1) at 0
    ("step(h)^2", "1/sqrt(2*pi)"),   # step^2 = step off a null set
    ("relu(h)", "1/2"),              # E[step(Zhat)]
    ("step(h)*step(x)", "1/(2*sqrt(2*pi))"),
    ("step(h + 1)", "exp(-1/2)/sqrt(2*pi)"),  # the density of Zhat + 1 at 0
])
def test_zdot_through_step_is_the_gaussian_density_at_zero(phi, limit):
    verdict, detail = master(f"avg(x*y) -> {limit} as n -> oo", f" let y = transpose(A)*({phi})\n")
    assert verdict is Verdict.PROVED, detail


@pytest.mark.parametrize("claim, lets, reason", [
    ("avg(x*y) -> 0 as n -> oo", " let y = transpose(A)*(step(h)*step(2*h))\n",
     "same direction is undefined"),
    ("avg(step(z)) -> 1/2 as n -> oo", " let z ~ Vector(n, 0)\n", "variance 0"),
    ("avg(step(h + 1)*step(h + x)) -> 1/2 as n -> oo", "", "not all centred"),
    ("avg(step(h)*step(x)*step(h - x)*step(h + 2*x)) -> 1/2 as n -> oo", "",
     "orthant probability of 4"),
])
def test_what_has_no_exact_method_is_refused_with_the_reason(claim, lets, reason):
    verdict, detail = master(claim, lets)
    assert verdict is Verdict.UNDECIDED and reason in detail


@pytest.mark.parametrize("claim", [
    "avg(relu(h + 1)) -> 1/sqrt(pi) as n -> oo",   # the centred relu mean with Var(h + 1) = 2
    "avg(erf(h + 1)) -> 0 as n -> oo",             # the centred erf mean
    "avg(tanh(h + 1)) -> 0 as n -> oo",            # quadrature against N(0, 2)
])
def test_an_offset_is_a_mean_not_a_variance(claim):
    assert master(claim)[0] is not Verdict.PROVED
    assert master(claim)[0] is not Verdict.CORROBORATED


def test_relu_and_step_of_an_offset_direction_are_exact():
    # E[relu(Z + 1)] = phi(1) + Phi(1), E[step(Z + 1)] = Phi(1)
    phi1, big_phi1 = "exp(-1/2)/sqrt(2*pi)", "(1 + erf(1/sqrt(2)))/2"
    assert master(f"avg(relu(h + 1)) -> {phi1} + {big_phi1} as n -> oo")[0] is Verdict.PROVED
    assert master(f"avg(step(h + 1)^2) -> {big_phi1} as n -> oo")[0] is Verdict.PROVED


def test_erf_of_an_offset_direction_by_quadrature():
    # E[erf(1 + Z)] = erf(1/sqrt(3)) (Gaussian smoothing of erf)
    verdict, detail = master("avg(erf(h + 1)) -> erf(1/sqrt(3)) as n -> oo")
    assert verdict is Verdict.CORROBORATED, detail


COV = [[1, sympy.Rational(1, 2), sympy.Rational(1, 5)],
       [sympy.Rational(1, 2), 2, sympy.Rational(-7, 10)],
       [sympy.Rational(1, 5), sympy.Rational(-7, 10), sympy.Rational(3, 2)]]


def correlated() -> Program:
    p = Program()
    for i, name in enumerate("abc"):
        p.initial(name, COV[i][i])
    for i, j in ((0, 1), (0, 2), (1, 2)):
        p.covary("abc"[i], "abc"[j], COV[i][j])
    return p


a, b, c = real("a"), real("b"), real("c")


@pytest.mark.parametrize("psi, sample", [
    (relu(a) * H(b), lambda a, b, c: np.maximum(a, 0) * (b > 0)),
    (H(a) * H(b) * H(c), lambda a, b, c: (a > 0) * (b > 0) * (c > 0)),
    (H(a - b) * H(c + a), lambda a, b, c: (a > b) * (c + a > 0)),
    (b**2 * H(a) * H(-b), lambda a, b, c: b**2 * (a > 0) * (b < 0)),
    (relu(a) ** 3 * H(b), lambda a, b, c: np.maximum(a, 0) ** 3 * (b > 0)),
    (relu(a) * relu(b) * relu(c), lambda a, b, c: np.maximum(a, 0) * np.maximum(b, 0)
     * np.maximum(c, 0)),
    (relu(2 * a + c) * H(-a), lambda a, b, c: np.maximum(2 * a + c, 0) * (a < 0)),
    (relu(a + 1) ** 2 * H(a + 1), lambda a, b, c: np.maximum(a + 1, 0) ** 2),
    (b * H(sympy.Rational(1, 2) - a), lambda a, b, c: b * (a < 0.5)),
])
def test_piecewise_linear_expectations_are_exact_and_match_monte_carlo(psi, sample):
    value, exact = master_theorem_limit(correlated(), psi, ["a", "b", "c"])
    assert exact and not value.has(sympy.Float)
    rng = np.random.default_rng(11)
    z = rng.multivariate_normal(np.zeros(3), np.array(COV, dtype=float), size=400_000)
    draws = sample(*z.T).astype(float)
    se = draws.std(ddof=1) / np.sqrt(len(draws))
    assert abs(draws.mean() - float(value)) <= Z_THRESHOLD * se


def test_a_gaussian_with_a_mean_under_relu_and_step():
    p = Program()
    p.initial("x", 2, mean=sympy.Rational(1, 2))
    psi = real("x") * relu(real("x")) + H(-real("x"))
    value, exact = master_theorem_limit(p, psi, ["x"])
    assert exact and not value.has(sympy.Float)
    z = np.random.default_rng(3).normal(0.5, np.sqrt(2), 400_000)
    draws = z * np.maximum(z, 0) + (z < 0)
    assert abs(draws.mean() - float(value)) <= Z_THRESHOLD * draws.std(ddof=1) / np.sqrt(len(z))


def test_orthant_probabilities_against_the_arcsine_form():
    half, quarter = sympy.Rational(1, 2), sympy.Rational(1, 4)
    assert orthant_probability([[2]]) == half
    assert orthant_probability([[1, 0], [0, 1]]) == quarter
    assert orthant_probability([[1, 0, 0], [0, 1, 0], [0, 0, 1]]) == sympy.Rational(1, 8)
    rho = [half, -sympy.Rational(1, 3), sympy.Rational(1, 4)]
    cov = [[1, rho[0], rho[1]], [rho[0], 1, rho[2]], [rho[1], rho[2], 1]]
    sheppard = sympy.Rational(1, 8) + sum(sympy.asin(r) for r in rho) / (4 * sympy.pi)
    assert abs(sympy.N(orthant_probability(cov) - sheppard, 40)) < 1e-35
    # a repeated direction reduces three to two
    assert sympy.expand(orthant_probability([[1, 1, half], [1, 1, half], [half, half, 1]])
                        - orthant_probability([[1, half], [half, 1]])) == 0
    with pytest.raises(ProgramError, match="4 Gaussian directions"):
        orthant_probability([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])


def test_the_simulation_mirror_runs_step_and_agrees_with_zdot():
    p = Program()
    p.initial("x")
    p.matrix("A")
    p.matmul("h", "A", "x")
    p.nonlin("g", H(real("h")), ["h"])
    p.matmul("y", "A", "g", transpose=True)
    psi = real("x") * real("y")
    value, exact = master_theorem_limit(p, psi, ["x", "y"])
    assert exact and sympy.expand(value - 1 / sympy.sqrt(2 * sympy.pi)) == 0
    est, se = simulate(p, psi, ["x", "y"], n=400, samples=30, seed=5)
    assert abs(est - float(value)) <= Z_THRESHOLD * se


# ---- 2. moment 0 of the spectral laws ----------------------------------------------------


def test_moment_zero_of_the_spectral_laws():
    from tpcheck.engines.random_matrices import (
        gaussian_moment_of,
        goe_trace_moment,
        marchenko_pastur_moment,
        wigner_trace_moment,
        wishart_trace_moment,
    )

    n, big_n, lam = R("n"), R("N"), R("lambda", positive=True)
    assert marchenko_pastur_moment(0, lam) == 1
    assert goe_trace_moment(0, n) == n
    assert wigner_trace_moment(0, n, gaussian_moment_of(1), gaussian_moment_of(2)) == n
    assert wishart_trace_moment(0, n, big_n, gaussian_moment_of(1)) == n


def test_trace_of_the_identity_by_trace_expansion():
    text = ("theorem t\n let n : positive integer\n let M ~ GOE(n)\n claim E[tr(M^0)] = n\n"
            "proof\n E[tr(M^0)]\n = n by trace_expansion\nqed\n")
    assert run(text, witnesses=False).theorems[0].verdict is Verdict.PROVED
    mp = ("theorem t\n k in 0..2\n let N : positive integer\n let lambda : positive real\n"
          " let S ~ Wishart(lambda*N, N)\n claim E[tr(S^k)]/(lambda*N) -> 1 + k*(k - 1)*lambda/2"
          " as N -> oo\nproof\n E[tr(S^k)]/(lambda*N)\n -> 1 + k*(k - 1)*lambda/2 as N -> oo"
          " by trace_expansion\nqed\n")
    assert run(mp, witnesses=False).theorems[0].verdict is Verdict.VERIFIED


# ---- 3. E[c] = c in eval -----------------------------------------------------------------

EVAL = ("theorem t\n let a : real\n let Z ~ Normal(0, 1)\n claim {lhs} = {rhs}\nproof\n {lhs}\n"
        " = {rhs} by eval\nqed\n")


@pytest.mark.parametrize("lhs, rhs, verdict", [
    ("E[1]", "1", Verdict.PROVED),
    ("E[a^2 + 1]", "a^2 + 1", Verdict.PROVED),
    ("E[Z] + E[2]", "2 + E[Z]", Verdict.PROVED),
    ("E[1]", "2", Verdict.REFUTED),
    ("E[Z]", "0", Verdict.UNDECIDED),   # eval does not compute expectations of random objects
])
def test_eval_takes_the_expectation_of_a_constant(lhs, rhs, verdict):
    step = run(EVAL.format(lhs=lhs, rhs=rhs), witnesses=False).theorems[0].steps[0]
    assert step.verdict is verdict, step.detail


# ---- 4. instances make every law a law ---------------------------------------------------

CORRELATED = """
theorem t
  let c : real
  let Z1, Z2 ~ Normal([0, 0], [[1, c], [c, 1]])
  claim sqrt((1 - c^2)^2) = 1 - c^2
proof
  sqrt((1 - c^2)^2)
    = 1 - c^2    by algebra
qed
"""


def test_no_counterexample_outside_the_positive_semidefinite_covariances():
    # true for |c| <= 1, the only values at which the covariance is one
    step = run(CORRELATED, witnesses=False).theorems[0].steps[0]
    assert step.verdict is Verdict.UNDECIDED, step.counterexample


def test_sampled_instances_keep_the_covariance_positive_semidefinite():
    ctx = theorem(CORRELATED).context
    c_sym = ctx.symbols["c"]
    drawn = ctx.space.sample([c_sym], 24, random.Random(0))
    assert len(drawn) == 24 and all(abs(inst[c_sym]) <= 1 for inst in drawn)
    assert not ctx.space.satisfies({c_sym: sympy.Integer(3)})
    assert ctx.space.satisfies({c_sym: sympy.Integer(1)})  # singular is still a covariance


def test_the_witness_sampler_decides_positive_semidefiniteness_exactly():
    from tpcheck.witness.instances import laws_admissible

    text = """
theorem t
  let c : real
  let d : positive real
  let Z1, Z2 ~ Normal([0, 0], [[1, c], [c, d]])
  claim c = c
proof
  c
    = c    by algebra
qed
"""
    ctx = theorem(text).context
    c_sym, d_sym = ctx.symbols["c"], ctx.symbols["d"]
    tiny = sympy.Rational(1, 10**20)
    # det = d - c^2: a float eigenvalue check cannot see -1e-20
    assert not laws_admissible(ctx, {c_sym: sympy.Rational(1, 2), d_sym: sympy.Rational(1, 4) - tiny})
    assert laws_admissible(ctx, {c_sym: sympy.Rational(1, 2), d_sym: sympy.Rational(1, 4) + tiny})


def test_declared_moments_form_a_moment_sequence():
    text = """
theorem t
  let n : positive integer
  let X[1..n] iid with E[X] = 0, E[X^2] = 1, E[X^4] = m4
  claim sqrt((m4 - 1)^2) = m4 - 1
proof
  sqrt((m4 - 1)^2)
    = m4 - 1    by algebra
qed
"""
    step = run(text, witnesses=False).theorems[0].steps[0]
    assert step.verdict is Verdict.UNDECIDED, step.counterexample  # m4 >= (E X^2)^2 = 1
    ctx = theorem(text).context
    m4 = ctx.symbols["m4"]
    assert not ctx.space.satisfies({m4: sympy.Rational(1, 2)})


def test_instances_respect_every_kind_of_law():
    from tpcheck.engines.instances import InstanceSpace
    from tpcheck.engines.laws import GaussianMatrix, InitialVectors, TwoPoint

    c_sym, v, p = real("c"), real("v"), real("p")
    one, zero = sympy.Integer(1), sympy.Integer(0)
    space = InstanceSpace({}, (), (
        InitialVectors(R("n"), (real("u"), real("w")), ((one, c_sym), (c_sym, one)), (zero, zero)),
        GaussianMatrix(R("n"), v, v),
        TwoPoint(one, zero, p),
    ))
    drawn = space.sample([c_sym, v, p], 12, random.Random(1))
    assert len(drawn) == 12
    assert all(abs(i[c_sym]) <= 1 and i[v] >= 0 and 0 <= i[p] <= 1 for i in drawn)
    assert space.satisfies({c_sym: sympy.Rational(-1, 2)})  # v and p left free
    assert not space.satisfies({p: sympy.Rational(3, 2)})


def test_correlations_drawn_too_large_shrink_into_a_covariance():
    cov = "[[1, c12, c13, c14], [c12, 1, c23, c24], [c13, c23, 1, c34], [c14, c24, c34, 1]]"
    text = ("theorem t\n let c12, c13, c14, c23, c24, c34 : real\n"
            f" let X1, X2, X3, X4 ~ Normal([0, 0, 0, 0], {cov})\n claim E[X1*X2] = c12\n"
            "proof\n E[X1*X2]\n = c12 by wick\nqed\n")
    ctx = theorem(text).context
    names = ["c12", "c13", "c14", "c23", "c24", "c34"]
    syms = [ctx.symbols[s] for s in names]
    drawn = ctx.space.sample(syms, 12, random.Random(2))
    assert len(drawn) == 12
    vector = next(iter(ctx.laws.values())).vector
    for inst in drawn:
        cov = np.array(sympy.Matrix(vector.cov).xreplace(inst), dtype=float)
        assert np.linalg.eigvalsh(cov).min() > -1e-12
