"""``let f ~ MLP(...)`` with nngp/ntk heads: the network as a tensor program, its limits by the
Master Theorem against the deep-kernel engine, and the Z-law pieces they need (independent
blocks, Gaussian exponentials, Student-t thresholds)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from tpcheck.engines.heads import relu
from tpcheck.engines.netsor import Program, ProgramCompiler, ZLaw, simulate, simulate_runs
from tpcheck.errors import ElaborationError
from tpcheck.expectations.forms import polynomially_bounded
from tpcheck.expectations.programs import average_limit
from tpcheck.kernel.rules import REGISTRY
from tpcheck.lang.elaborate import elaborate_theorem
from tpcheck.lang.parser import parse
from tpcheck.nn import nt_kernels
from tpcheck.witness.stats import Z_THRESHOLD, t_threshold

X, Y = [1, 1, 1], [1, 1, -1]


def theorem_text(head: str, depth: int, phi: str, sw2: str, sb2: str, value: str = "0",
                 extra: str = "") -> str:
    return f'''theorem t
  "t"
  let n : positive integer
  let f ~ MLP(n, depth = {depth}, phi = {phi}, sigma_w2 = {sw2}, sigma_b2 = {sb2}{extra})
  claim {head}(f, {X}, {Y}) -> {value} as n -> oo
proof
  {head}(f, {X}, {Y})
    -> {value} as n -> oo    by master_theorem
qed
'''


def elaborate(text: str):
    (t,) = parse(text).theorems
    return elaborate_theorem(t, text.splitlines())


def head_limit(text: str) -> tuple[sympy.Expr, bool]:
    """The Master Theorem limit of the claim's left side, with whether it is exact."""
    th = elaborate(text)
    exact = True
    table = {}
    for avg in ProgramCompiler.averages(th.claim.lhs):
        value, ok = average_limit(avg, th.context, th.claim.limit_var, 40)
        exact &= ok
        table[avg] = value
    return th.claim.lhs.xreplace(table), exact


@pytest.mark.parametrize("phi", ["relu", "erf", "identity"])
@pytest.mark.parametrize("head", ["nngp", "ntk"])
def test_depth_two_heads_agree_with_the_kernel_engine(phi: str, head: str) -> None:
    limit, exact = head_limit(theorem_text(head, 2, phi, "3/2", "1/10"))
    assert exact
    k, t = nt_kernels(np.array([X, Y], float), 2, phi, np.sqrt(1.5), np.sqrt(0.1), "ntk")
    want = (k if head == "nngp" else t)[0, 1]
    assert abs(float(sympy.N(limit, 30)) - want) <= 1e-12 * abs(want)


@pytest.mark.slow
@pytest.mark.parametrize("phi", ["relu", "erf", "identity"])
@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("sw2,sb2", [("2", "0"), ("3/2", "1/10"), ("1", "1/2")])
def test_heads_agree_with_the_kernel_engine_on_the_grid(phi: str, depth: int, sw2: str, sb2: str) -> None:
    k, t = nt_kernels(np.array([X, Y], float), depth, phi, float(sympy.sqrt(sympy.Rational(sw2))),
                      float(sympy.sqrt(sympy.Rational(sb2))), "ntk")
    for head, want in (("nngp", k[0, 1]), ("ntk", t[0, 1])):
        limit, exact = head_limit(theorem_text(head, depth, phi, sw2, sb2))
        assert exact
        assert abs(float(sympy.N(limit, 30)) - want) <= 1e-12 * abs(want)


def test_identity_network_kernels_are_rational() -> None:
    # identity, sigma_w^2 = 2, no bias: K^l = 2^l x.y/3 with x.y = 1, and every layer adds
    # the same term: Theta = (L + 1) K^{L+1} = 4 * 16/3
    limit, exact = head_limit(theorem_text("ntk", 3, "identity", "2", "0"))
    assert exact and sympy.simplify(limit - sympy.Rational(64, 3)) == 0


def test_the_network_and_its_heads_are_checked_by_the_master_theorem() -> None:
    th = elaborate(theorem_text("ntk", 2, "relu", "2", "0"))
    assert th.steps[0].rule == "master_theorem" and "master_theorem" in REGISTRY


@pytest.mark.parametrize("decl,message", [
    ("let f ~ MLP(n, phi = relu)", "depth"),
    ("let f ~ MLP(n, depth = 2, phi = relu, width = 3)", "unknown argument 'width'"),
    ("let f ~ MLP(n, depth = 0, phi = relu)", "depth must be in"),
    ("let f ~ MLP(n, depth = 2, phi = nosuch)", "unknown activation"),
    ("let f ~ MLP(n, depth = 2, phi = relu, sigma_w2 = -1)", "sigma_w2 >= 0"),
    ("let f ~ MLP(n, depth = 2, phi = relu, parametrization = mean_field)", "parametrization"),
])
def test_bad_declarations_are_refused(decl: str, message: str) -> None:
    text = theorem_text("nngp", 1, "relu", "1", "0").replace(
        "let f ~ MLP(n, depth = 1, phi = relu, sigma_w2 = 1, sigma_b2 = 0)", decl)
    with pytest.raises(ElaborationError, match=message):
        elaborate(text)


def test_ntk_of_the_standard_parametrization_and_of_a_step_network_are_refused() -> None:
    with pytest.raises(ElaborationError, match="grows"):
        elaborate(theorem_text("ntk", 2, "relu", "2", "0", extra=", parametrization = standard"))
    with pytest.raises(ElaborationError, match="delta"):
        elaborate(theorem_text("ntk", 2, "step", "2", "0"))
    # the NNGP of both is fine
    elaborate(theorem_text("nngp", 2, "relu", "2", "0", extra=", parametrization = standard"))
    elaborate(theorem_text("nngp", 2, "step", "2", "0"))


def test_named_arguments_stand_only_in_mlp_and_the_network_is_not_a_number() -> None:
    with pytest.raises(ElaborationError, match="only allowed in MLP"):
        elaborate(theorem_text("nngp", 1, "relu", "1", "0").replace(
            "claim nngp(f, [1, 1, 1], [1, 1, -1])", "claim exp(x = 1) + nngp(f, [1, 1, 1], [1, 1, -1])"))
    with pytest.raises(ElaborationError, match="is a network"):
        elaborate(theorem_text("nngp", 1, "relu", "1", "0").replace(
            "claim nngp(f, [1, 1, 1], [1, 1, -1])", "claim f + nngp(f, [1, 1, 1], [1, 1, -1])"))


def test_inputs_of_different_dimensions_are_refused() -> None:
    text = theorem_text("nngp", 1, "relu", "1", "0").replace(
        "claim nngp(f, [1, 1, 1], [1, 1, -1])", "claim nngp(f, [1, 1], [1, 1, -1])")
    with pytest.raises(ElaborationError, match="different dimensions"):
        elaborate(text)


def test_a_let_defined_activation_is_a_polynomial_network() -> None:
    text = theorem_text("nngp", 2, "rho", "1", "0").replace(
        "  let f ~", "  let rho(y) = y^2 - 1\n  let f ~")
    limit, exact = head_limit(text)
    # K^1(x, y) = x.y/3 = 1/3, K^1(x, x) = 1; Sigma^2 = E[phi(u) phi(v)] = 2 c^2: [[2, 2/9], [2/9, 2]];
    # nngp = E[(a^2 - 1)(b^2 - 1)] = q1 q2 + 2 c^2 - q1 - q2 + 1 = 1 + 8/81
    assert exact and sympy.simplify(limit - sympy.Rational(89, 81)) == 0


# ---- the Z-law pieces ------------------------------------------------------------------------

u, v, w, x = sympy.symbols("u v w x", real=True)


def law(cov: dict) -> ZLaw:
    full = {}
    for (a, b), c in cov.items():
        full[(a, b)] = full[(b, a)] = sympy.nsimplify(c)
    return ZLaw(z={}, base=[u, v, w, x], cov=full, mean={})


def quad(f, s: list[list[float]]) -> float:
    """E f(z) for z ~ N(0, s) by a 2-D Gauss-Hermite rule (80 nodes a side; the integrands
    here are smooth, so this is good to far below the tolerance)."""
    t, wt = np.polynomial.hermite_e.hermegauss(80)
    chol = np.linalg.cholesky(np.array(s, float))
    a, b = np.meshgrid(t, t, indexing="ij")
    z = chol @ np.stack([a.ravel(), b.ravel()])
    weights = np.outer(wt, wt).ravel() / (2 * np.pi)
    return float(np.sum(weights * f(z[0], z[1])))


def test_independent_blocks_factorise() -> None:
    z = law({(u, u): 2, (v, v): 2, (u, v): 1, (w, w): 1, (x, x): 3, (w, x): 1})
    got = z.expect(relu(u) * relu(v) * w * x)
    from tpcheck.engines.gaussian import relu_kernel
    assert sympy.simplify(got - relu_kernel(2, 2, 1) * 1) == 0
    assert not z.numeric_used
    # a centred block alone makes the whole product vanish, whatever the other block is
    assert z.expect(w * sympy.cos(u) ** 3 * sympy.tanh(v)) == 0


@pytest.mark.parametrize("expr", [
    lambda a, b: a**2 * sympy.exp(-a**2),
    lambda a, b: a * b * sympy.exp(-a**2 - b**2 / 2),
    lambda a, b: sympy.exp(-a**2) * sympy.exp(-b**2) * (1 + a * b),
    lambda a, b: sympy.exp(-(a - b) ** 2),
])
def test_gaussian_exponentials_against_quadrature(expr) -> None:
    z = law({(u, u): 2, (v, v): 3, (u, v): 1})
    got = z.expect(expr(u, v))
    assert not z.numeric_used
    f = sympy.lambdify((u, v), expr(u, v), "numpy")
    assert abs(float(sympy.N(got, 20)) - quad(f, [[2, 1], [1, 3]])) < 1e-9


def test_exp_of_a_nonpositive_quadratic_is_polynomially_bounded_and_nothing_more() -> None:
    r = {u, v}
    assert polynomially_bounded(sympy.exp(-u**2 - v**2), r)
    assert polynomially_bounded(sympy.exp(-(u - v) ** 2 + (u - v)), r)  # linear part in the range
    assert not polynomially_bounded(sympy.exp(u**2), r)
    assert not polynomially_bounded(sympy.exp(-u**2 + v), r)  # unbounded along v
    assert not polynomially_bounded(sympy.exp(u * v), r)


def test_simulate_runs_shares_one_realisation_per_row() -> None:
    p = Program()
    p.initial("x")
    p.matrix("A")
    p.matmul("y", "A", "x")
    runs = simulate_runs(p, [(sympy.Symbol("y", real=True) ** 2, ["y"]),
                             (sympy.Symbol("x", real=True) ** 2, ["x"])], 64, 5, 3)
    assert runs.shape == (5, 2)
    est, se = simulate(p, sympy.Symbol("y", real=True) ** 2, ["y"], 64, 5, 3)
    assert est == pytest.approx(runs[:, 0].mean()) and se > 0


def test_student_threshold_is_heavier_than_normal_and_tends_to_it() -> None:
    assert t_threshold(9) > 4 * Z_THRESHOLD
    assert t_threshold(19) > t_threshold(39) > Z_THRESHOLD
    assert abs(t_threshold(10**6) - Z_THRESHOLD) < 1e-3
