"""Tensor Programs: the Z-calculus against the fact sheet, closed forms and simulation."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from tpcheck.engines.heads import relu
from tpcheck.engines.netsor import Program, ProgramError, master_theorem_limit, simulate, z_calculus
from tpcheck.engines.random_matrices import semicircle_moment
from tpcheck.witness.stats import Z_THRESHOLD, loglog_slope

R = sympy.Symbol


def semicircle_program(k_max: int) -> Program:
    p = Program()
    p.initial("x0")
    p.matrix("A")
    for k in range(k_max):
        p.matmul(f"a{k}", "A", f"x{k}")
        p.matmul(f"b{k}", "A", f"x{k}", transpose=True)
        p.lincomb(f"x{k + 1}", {f"a{k}": 1 / sympy.sqrt(2), f"b{k}": 1 / sympy.sqrt(2)})
    return p


def moments(p: Program, k_max: int, drop: bool = False) -> list[sympy.Expr]:
    law = z_calculus(p, drop_zdot=drop)
    return [sympy.expand(law.expect(law.z["x0"] * law.z[f"x{k}"])) for k in range(k_max + 1)]


def test_semicircle_through_zdot_is_catalan_exactly():
    assert moments(semicircle_program(12), 12) == [semicircle_moment(k) for k in range(13)]


def test_dropping_zdot_breaks_the_semicircle():
    got = moments(semicircle_program(6), 6, drop=True)
    assert got != [semicircle_moment(k) for k in range(7)]
    assert got[2] == 0  # instead of 1


def test_marchenko_pastur_through_a_and_its_transpose():
    lam = R("lambda", positive=True)
    p = Program()
    p.initial("x0")
    p.matrix("A", 1, lam)
    for k in range(5):
        p.matmul(f"y{k}", "A", f"x{k}", transpose=True)
        p.matmul(f"x{k + 1}", "A", f"y{k}")
    from tpcheck.engines.random_matrices import marchenko_pastur_moment

    got = moments(p, 5)
    assert all(sympy.expand(got[k] - marchenko_pastur_moment(k, lam)) == 0 for k in range(1, 6))


def mlp(phi, sw2, sb2) -> Program:
    """Two hidden layers on inputs (1,1,1) and (1,1,-1): Sigma^1 = sw2 + sb2, sw2/3 + sb2."""
    p = Program()
    p.initial("h1a", sw2 + sb2)
    p.initial("h1b", sw2 + sb2)
    p.covary("h1a", "h1b", sw2 / 3 + sb2)
    bias = {}
    if sb2 != 0:
        p.initial("b2", sb2)
        bias = {"b2": 1}
    p.matrix("W2", sw2)
    for s in "ab":
        p.nonlin(f"x1{s}", phi(R(f"h1{s}")), [f"h1{s}"])
        p.matmul(f"g2{s}", "W2", f"x1{s}")
        p.lincomb(f"h2{s}", {f"g2{s}": 1, **bias})
        p.nonlin(f"x2{s}", phi(R(f"h2{s}")), [f"h2{s}"])
    return p


PSI = R("x2a", real=True) * R("x2b", real=True)
CASES = [
    (relu, 2, 0, "1.221771735973907766082"),
    (relu, sympy.Rational(3, 2), sympy.Rational(1, 10), "0.7366144039178773107079"),
    (sympy.erf, 2, 0, "0.2622214073830774698608"),
    (sympy.erf, sympy.Rational(3, 2), sympy.Rational(1, 10), "0.3550631866891593876496"),
]


@pytest.mark.parametrize("phi,sw2,sb2,expected", CASES)
def test_nngp_of_the_two_layer_mlp_is_exact_and_matches_the_fact_sheet(phi, sw2, sb2, expected):
    sw2, sb2 = sympy.sympify(sw2), sympy.sympify(sb2)
    value, exact = master_theorem_limit(mlp(phi, sw2, sb2), PSI, ["x2a", "x2b"])
    kernel = sw2 * value + sb2
    assert exact
    assert abs(sympy.N(kernel, 30) - sympy.Float(expected, 30)) < 1e-21


def test_identity_network_is_rational():
    sw2, sb2 = sympy.Rational(3, 2), sympy.Rational(1, 10)
    value, exact = master_theorem_limit(mlp(lambda h: h, sw2, sb2), PSI, ["x2a", "x2b"])
    assert exact and sw2 * value + sb2 == sympy.Rational(8, 5)


@pytest.mark.parametrize("phi,sw2,sb2,expected", CASES[:3])
def test_nngp_against_simulation(phi, sw2, sb2, expected):
    p = mlp(phi, sympy.sympify(sw2), sympy.sympify(sb2))
    est, se = simulate(p, PSI, ["x2a", "x2b"], n=512, samples=40, seed=3)
    target = (float(expected) - float(sb2)) / float(sw2)
    assert abs(est - target) <= Z_THRESHOLD * se


def test_nonlinear_zdot_example_of_the_fact_sheet():
    """u = A^T tanh(A x): (1/n) x.u -> sigma^2 E sech^2(sigma Z) = 0.60570550960 (sigma = 1),
    and 0 when Zdot is dropped."""
    p = Program()
    p.initial("x")
    p.matrix("A")
    p.matmul("g", "A", "x")
    p.nonlin("t", sympy.tanh(R("g")), ["g"])
    p.matmul("u", "A", "t", transpose=True)
    psi = R("x", real=True) * R("u", real=True)
    value, exact = master_theorem_limit(p, psi, ["x", "u"])
    assert not exact
    assert abs(float(value) - 0.6057055096021588255835402) < 1e-20
    dropped, _ = master_theorem_limit(p, psi, ["x", "u"], drop_zdot=True)
    assert dropped == 0
    est, se = simulate(p, psi, ["x", "u"], n=1000, samples=30, seed=5)
    assert abs(est - float(value)) <= Z_THRESHOLD * se


def test_fluctuations_shrink_like_one_over_sqrt_n():
    p = semicircle_program(2)
    psi = R("x0", real=True) * R("x2", real=True)
    sizes = [64, 256, 1024]
    sds = []
    for n in sizes:
        _, se = simulate(p, psi, ["x0", "x2"], n=n, samples=60, seed=n)
        sds.append(se * np.sqrt(60))
    slope = loglog_slope(sizes, sds)
    assert abs(slope + 0.5) < 0.2


def test_well_formedness_errors():
    p = Program(fragment="NETSOR")
    p.initial("x")
    p.matrix("W")
    with pytest.raises(ProgramError, match="before it is defined"):
        p.matmul("y", "W", "nope")
    with pytest.raises(ProgramError, match="forbids the transpose"):
        p.matmul("y", "W", "x", transpose=True)
    with pytest.raises(ProgramError, match="not a matrix"):
        p.matmul("y", "x", "x")
    with pytest.raises(ProgramError, match="defined twice"):
        p.initial("x")
    with pytest.raises(ProgramError, match="undefined"):
        p.nonlin("z", R("x") * R("q"), ["x"])


@given(st.lists(st.tuples(st.integers(0, 3), st.booleans(), st.integers(-2, 2)), min_size=1,
                max_size=5), st.integers(0, 10**6))
@settings(max_examples=15, deadline=None)
def test_random_linear_programs_agree_with_simulation(steps, seed):
    """Random linear programs: the Z prediction of (1/n) x0 . last holds against simulation,
    and renaming every vector does not change it."""
    def build(prefix: str) -> tuple[Program, str]:
        p = Program()
        p.initial(f"{prefix}0")
        p.matrix("A")
        names = [f"{prefix}0"]
        for i, (src, transpose, coeff) in enumerate(steps):
            x = names[src % len(names)]
            out = f"{prefix}{i + 1}m"
            p.matmul(out, "A", x, transpose=transpose)
            comb = f"{prefix}{i + 1}"
            p.lincomb(comb, {out: 1, x: coeff})
            names.append(comb)
        return p, names[-1]

    p, last = build("v")
    q, last_q = build("w")
    value, exact = master_theorem_limit(p, R("v0", real=True) * R(last, real=True), ["v0", last])
    renamed, _ = master_theorem_limit(q, R("w0", real=True) * R(last_q, real=True), ["w0", last_q])
    assert exact and sympy.expand(value - renamed) == 0
    est, se = simulate(p, R("v0", real=True) * R(last, real=True), ["v0", last], n=200,
                       samples=30, seed=seed)
    assert abs(est - float(value)) <= Z_THRESHOLD * se + 1e-9


def test_reordering_independent_instructions_keeps_the_limit():
    def build(order: str) -> Program:
        p = Program()
        p.initial("x")
        p.matrix("A")
        p.matrix("B")
        first, second = (("a", "A"), ("b", "B")) if order == "ab" else (("b", "B"), ("a", "A"))
        for out, m in (first, second):
            p.matmul(out, m, "x")
        p.nonlin("y", relu(R("a", real=True)) + R("b", real=True) ** 2, ["a", "b"])
        return p

    psi = R("y", real=True) ** 2
    one, _ = master_theorem_limit(build("ab"), psi, ["y"])
    two, _ = master_theorem_limit(build("ba"), psi, ["y"])
    assert sympy.expand(one - two) == 0


@pytest.mark.slow
def test_library_master_theorem_steps_carry_width_simulations(root):
    from tpcheck import check

    report = check(root / "proofs" / "tensor_programs.tp")
    thm = {t.name: t for t in report.theorems}["mlp_nngp_relu"]
    runs = [e for e in thm.steps[0].evidence if e.kind == "montecarlo"]
    assert [e.data["width"] for e in runs] == [256, 1024, 4096]
    assert all(e.ok is True for e in runs)


def test_netsor_plus_scalars_feed_later_nonlinearities():
    """theta = (1/n) |relu(A x)|^2 -> sigma^2/2; y = relu(A x)/sqrt(theta) has (1/n)|y|^2 -> 1."""
    p = Program()
    p.initial("x")
    p.matrix("A", 2)
    p.matmul("g", "A", "x")
    p.nonlin("r", relu(R("g", real=True)), ["g"])
    p.moment("theta", R("r", real=True) ** 2, ["r"])
    p.nonlin("y", R("r", real=True) / sympy.sqrt(R("theta", real=True)), ["r"])
    law = z_calculus(p)
    assert law.scalars["theta"] == 1
    value, exact = master_theorem_limit(p, R("y", real=True) ** 2, ["y"])
    assert exact and value == 1
    est, se = simulate(p, R("y", real=True) ** 2, ["y"], n=400, samples=10, seed=2)
    assert abs(est - 1) < 1e-9  # exactly 1 at every width, by construction
    with pytest.raises(ProgramError, match="undefined"):
        p.moment("bad", R("nope", real=True), ["y"])
