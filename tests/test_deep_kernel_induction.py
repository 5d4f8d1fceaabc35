"""Networks of symbolic depth: the heads stay opaque, the recursions are the deep-kernel
engine's, and ``deep_kernel_induction`` proves the limits for every depth (or refutes)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from tests.conftest import run
from tpcheck.engines.networks import DUALS, KernelRecursion, NetworkHead, kernel_recursion
from tpcheck.errors import ElaborationError
from tpcheck.kernel import Verdict
from tpcheck.lang.elaborate import elaborate_theorem
from tpcheck.lang.parser import parse
from tpcheck.nn import nt_kernels

X, Y = "[1, 1, 1]", "[1, 1, -1]"


def text(lhs: str, rhs: str, phi: str = "relu", sw2: str = "2", sb2: str = "0",
         extra: str = "", depth: str = "L", lower: int = 1) -> str:
    return f'''theorem t
  "t"
  for all L >= {lower}
  let n : positive integer
  let f ~ MLP(n, depth = {depth}, phi = {phi}, sigma_w2 = {sw2}, sigma_b2 = {sb2})
{extra}  claim {lhs} -> {rhs} as n -> oo
proof
  {lhs}
    -> {rhs} as n -> oo    by deep_kernel_induction
qed
'''


def verdict(source: str):
    report = run(source, witnesses=False)
    (t,) = report.theorems
    return t


@pytest.mark.parametrize("phi,sw2,sb2,kind", [
    pytest.param("relu", "2", "0", "ntk", marks=pytest.mark.slow),
    ("identity", "3/2", "1/10", "ntk"),
    pytest.param("erf", "3/2", "1/10", "nngp", marks=pytest.mark.slow),
])
def test_every_depth_is_proved(phi: str, sw2: str, sb2: str, kind: str) -> None:
    t = verdict(text(f"{kind}(f, {X}, {Y})", f"{kind}_limit(f, {X}, {Y})", phi, sw2, sb2))
    assert t.verdict is Verdict.PROVED, t.steps[0].detail
    reason = t.steps[0].detail
    assert "for every L >= 1" in reason and "base case" in reason
    assert ("gradient independence" in reason) == (kind == "ntk")


@pytest.mark.slow
def test_a_depth_offset_starts_the_induction_where_the_parameter_starts() -> None:
    t = verdict(text(f"nngp(f, {X}, {Y})", f"nngp_limit(f, {X}, {Y})", depth="L + 1", lower=0))
    assert t.verdict is Verdict.PROVED, t.steps[0].detail


def test_the_wrong_kernel_is_refuted_at_the_base_depth() -> None:
    t = verdict(text(f"ntk(f, {X}, {Y})", f"nngp_limit(f, {X}, {Y})"))
    assert t.verdict is Verdict.REFUTED
    assert t.steps[0].counterexample["instance"] == {"L": "1"}


def test_another_networks_recursion_is_refuted() -> None:
    extra = "  let g ~ MLP(n, depth = L, phi = relu, sigma_w2 = 1, sigma_b2 = 0)\n"
    t = verdict(text(f"ntk(f, {X}, {Y})", f"ntk_limit(g, {X}, {Y})", extra=extra))
    assert t.verdict is Verdict.REFUTED


def test_a_network_without_closed_form_duals_is_undecided() -> None:
    t = verdict(text(f"nngp(f, {X}, {Y})", f"nngp_limit(f, {X}, {Y})", phi="tanh"))
    assert t.verdict is Verdict.UNDECIDED


def test_the_master_theorem_does_not_take_a_symbolic_depth() -> None:
    source = text(f"ntk(f, {X}, {Y})", f"ntk_limit(f, {X}, {Y})").replace(
        "by deep_kernel_induction", "by master_theorem")
    assert verdict(source).verdict is Verdict.UNDECIDED


def test_symbolic_depth_heads_are_opaque_and_concrete_ones_are_values() -> None:
    (t,) = parse(text(f"ntk(f, {X}, {Y})", f"ntk_limit(f, {X}, {Y})")).theorems
    th = elaborate_theorem(t, [])
    assert isinstance(th.claim.lhs, NetworkHead) and isinstance(th.claim.rhs, KernelRecursion)
    (t,) = parse(text(f"ntk(f, {X}, {Y})", f"ntk_limit(f, {X}, {Y})", depth="3")).theorems
    rhs = elaborate_theorem(t, []).claim.rhs
    k, theta = nt_kernels(np.array([[1, 1, 1], [1, 1, -1]], float), 3, "relu", np.sqrt(2), 0.0, "ntk")
    assert abs(float(sympy.N(rhs, 30)) - theta[0, 1]) < 1e-12 * theta[0, 1]


def test_a_depth_that_may_be_zero_is_refused() -> None:
    (t,) = parse(text(f"ntk(f, {X}, {Y})", f"ntk_limit(f, {X}, {Y})", lower=0)).theorems
    with pytest.raises(ElaborationError, match="at least 1"):
        elaborate_theorem(t, [])


@pytest.mark.slow
@pytest.mark.parametrize("phi", ["relu", "erf", "identity"])
def test_the_recursion_agrees_with_the_kernel_engine(phi: str) -> None:
    k, theta = nt_kernels(np.array([[1, 1, 1], [1, 1, -1]], float), 3, phi, np.sqrt(1.5),
                          np.sqrt(0.1), "ntk")
    half, tenth = sympy.Rational(3, 2), sympy.Rational(1, 10)
    q = half + tenth
    c = half / 3 + tenth
    for kind, want in (("nngp", k[0, 1]), ("ntk", theta[0, 1])):
        got = kernel_recursion(kind, 3, q, q, c, half, tenth, *DUALS[phi])
        assert abs(float(sympy.N(got, 30)) - want) < 1e-12 * abs(want)
