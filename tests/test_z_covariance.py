"""The recursive Z-calculus engine against tpcheck.engines.netsor (the expanded one), closed forms and the
fact sheet (§4.3-4.5)."""

from __future__ import annotations

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from tpcheck.engines.combinatorics import catalan_number, narayana_number
from tpcheck.engines.netsor import Program, expanded_limit
from tpcheck.engines.z_covariance import (
    ZCalculus,
    ZCalculusError,
    derive_power_iteration_recurrence,
    marchenko_pastur_iteration,
    power_iteration,
    z_calculus_of_program,
)

HALF = sympy.Rational(1, 2)
LAM = sympy.Symbol("lambda", positive=True)


def semicircle_program(k: int, sqrt2: bool = False) -> Program:
    """x^{j+1} = W x^j with W = (A + A^T)/sqrt(2) (sqrt2) or A + A^T with variance 1/2."""
    p = Program()
    p.matrix("A", 1 if sqrt2 else HALF)
    p.initial("x0")
    c = 1 / sympy.sqrt(2) if sqrt2 else 1
    for j in range(k):
        p.matmul(f"a{j}", "A", f"x{j}")
        p.matmul(f"b{j}", "A", f"x{j}", transpose=True)
        p.lincomb(f"x{j + 1}", {f"a{j}": c, f"b{j}": c})
    return p


def test_semicircle_catalan_against_tp():
    for sqrt2 in (False, True):
        p = semicircle_program(6, sqrt2)
        z = z_calculus_of_program(p)
        for j in range(7):
            expected = catalan_number(j // 2) if j % 2 == 0 else 0
            assert z.second_moment("x0", f"x{j}") == expected
        x, y = sympy.symbols("x0 x4", real=True)
        assert z.expect(x * y, ["x0", "x4"]) == expanded_limit(p, x * y, ["x0", "x4"])[0]


def test_fact_sheet_zdot_table():
    """Theory facts §4.3: Z^{x^{k+1}} = Zhat part + sum_{j<k} M_{k-1-j} Z^{x^j}."""
    z, names = power_iteration(8, [(False, 1), (True, 1)], (HALF, HALF))
    for k in range(1, 8):
        zdot = z.zdot(f"m{k}_0")
        moments = [catalan_number(m // 2) if m % 2 == 0 else 0 for m in range(k)]
        # the A-part carries half of the lincomb's Zdot (the A^T-part the other half)
        assert {x: 2 * c for x, c in zdot.items()} == {f"x{j}": moments[k - 1 - j] for j in range(k)
                                                       if moments[k - 1 - j]}


def test_catalan_k30_exact():
    z, names = power_iteration(60, [(False, 1), (True, 1)], (HALF, HALF))
    assert z.second_moment("x0", names[60]) == catalan_number(30)
    assert z.second_moment(names[20], names[40]) == catalan_number(30)  # Hankel Gram matrix
    assert z.second_moment("x0", names[59]) == 0


def test_marchenko_pastur_narayana_symbolic():
    z, names = marchenko_pastur_iteration(6, LAM)
    for k in range(1, 7):
        expected = sum(narayana_number(k, r) * LAM ** (r - 1) for r in range(1, k + 1))
        assert sympy.expand(z.second_moment("x0", names[k]) - expected) == 0


def test_marchenko_pastur_against_tp():
    p = Program()
    p.matrix("A", 1, LAM)
    p.initial("x0")
    for j in range(3):
        p.matmul(f"y{j}", "A", f"x{j}", transpose=True)
        p.matmul(f"x{j + 1}", "A", f"y{j}")
    z = z_calculus_of_program(p)
    for names in (("x0", "x3"), ("x1", "x2"), ("y0", "y2"), ("x2", "x2")):
        s = [sympy.Symbol(n, real=True) for n in names]
        expected = expanded_limit(p, s[0] * s[1], list(names))[0]
        assert sympy.expand(z.second_moment(*names) - expected) == 0
    x, u = sympy.symbols("x0 x2", real=True)
    expected = expanded_limit(p, x**2 * u**2, ["x0", "x2"])[0]
    assert sympy.expand(z.expect(x**2 * u**2, ["x0", "x2"]) - expected) == 0


def polynomial_zdot_program() -> Program:
    """y = A x, p = y^3 + y, u = A^T p (Zdot = 4 Z^x), w = A u (Zdot = Z^p: non-Gaussian)."""
    p = Program()
    p.matrix("A", 2)
    p.initial("x", 1)
    p.initial("g", 3, mean=1)
    p.covary("x", "g", HALF)
    p.matmul("y", "A", "x")
    y = sympy.Symbol("y", real=True)
    p.nonlin("p", y**3 + y, ["y"])
    p.matmul("u", "A", "p", transpose=True)
    p.lincomb("v", {"u": 1, "g": -2})
    p.matmul("w", "A", "v")
    p.matmul("r", "A", "w", transpose=True)
    return p


def test_polynomial_program_against_tp():
    prog = polynomial_zdot_program()
    z = z_calculus_of_program(prog)
    assert not z.is_gaussian("w")
    assert z.zdot("u") == {"x": 2 * (3 * 2 + 1)}  # m E[3 y^2 + 1], Var y = 2
    s = {n: sympy.Symbol(n, real=True) for n in ["x", "g", "y", "p", "u", "v", "w", "r"]}
    cases = [
        (s["x"] * s["u"], ["x", "u"]),
        (s["u"] ** 2, ["u"]),
        (s["w"] * s["x"] ** 2, ["w", "x"]),
        (s["r"] * s["x"] + s["g"] * s["w"], ["r", "x", "g", "w"]),
        (s["w"] ** 2, ["w"]),
    ]
    for psi, inputs in cases:
        expected, exact = expanded_limit(prog, psi, inputs)
        assert exact
        assert sympy.expand(z.expect(psi, inputs) - expected) == 0, psi


def test_derived_catalan_recursion():
    for orientations, mult in (([(False, 1), (True, 1)], (HALF, HALF)),
                               ([(False, 1 / sympy.sqrt(2)), (True, 1 / sympy.sqrt(2))], (1, 1))):
        r = derive_power_iteration_recurrence(orientations, mult)
        assert r.kappa == 1
        m, n, i = sympy.Function("M"), sympy.Symbol("n", integer=True), sympy.Symbol("i", integer=True)
        assert r.closed == sympy.Eq(m(n), sympy.Sum(m(i) * m(n - 2 - i), (i, 0, n - 2)))
        # the closed recurrence from its base values gives the Catalan numbers
        values = [1, 0]
        for k in range(2, 16):
            values.append(int(r.closed.rhs.subs(n, k).doit().replace(m, lambda a, v=values: v[int(a)])))
        assert values == [catalan_number(k // 2) if k % 2 == 0 else 0 for k in range(16)]


def test_derived_recurrences_match_concrete_engine():
    """f(d) and T(d) of the derivation are the concrete engine's Zdot coefficients and
    derivatives dZ^{x^j}/dZhat_i."""
    r = derive_power_iteration_recurrence([(False, 1), (True, 1)], (HALF, HALF))
    f, t, d = sympy.Function("f"), sympy.Function("T"), sympy.Symbol("d", integer=True)
    tv = {1: 1}
    for dd in range(2, 12):
        rhs = r.derivative.rhs.subs(d, dd).doit().replace(f, lambda a: r.kappa * t(a))
        tv[dd] = rhs.replace(t, lambda a: tv[int(a)])
    z, names = power_iteration(12, [(False, 1), (True, 1)], (HALF, HALF))
    for j in range(1, 12):
        for i in range(j):
            hat = z._hat_of[f"m{i}_0"]
            assert z.domain.to_sympy(z._c[z._atom_of[names[j]], hat]) == tv[j - i]


def test_netsor_program_is_gaussian_process():
    z, names = power_iteration(5, [(False, 1)], (1, 1))
    assert all(z.zdot(f"m{j}_0") == {} for j in range(5))
    assert [z.second_moment("x0", n) for n in names] == [1, 0, 0, 0, 0, 0]
    assert z.second_moment(names[5], names[5]) == 1


def test_refuses_non_polynomial():
    z = ZCalculus()
    z.initial("x", {"x": 1})
    with pytest.raises(ZCalculusError, match="not a polynomial"):
        z.nonlin("h", sympy.tanh(sympy.Symbol("x")), ["x"])


@st.composite
def linear_programs(draw):
    p = Program()
    p.matrix("A", draw(st.sampled_from([1, HALF, 2])))
    p.matrix("B", 1)
    p.initial("v0", draw(st.sampled_from([1, 2])))
    p.initial("v1", 1)
    p.covary("v0", "v1", draw(st.sampled_from([0, HALF, -HALF])))
    names = ["v0", "v1"]
    for j in range(draw(st.integers(1, 5))):
        out = f"v{j + 2}"
        kind = draw(st.sampled_from(["matmul", "matmul", "lincomb", "square"]))
        x = draw(st.sampled_from(names))
        if kind == "matmul":
            p.matmul(out, draw(st.sampled_from(["A", "B"])), x, transpose=draw(st.booleans()))
        elif kind == "lincomb":
            y = draw(st.sampled_from(names))
            if y == x:
                p.lincomb(out, {x: draw(st.integers(-2, 2))})
            else:
                p.lincomb(out, {x: draw(st.integers(-2, 2)), y: 1})
        else:
            s = sympy.Symbol(x, real=True)
            p.nonlin(out, s**2 - 1, [x])
        names.append(out)
    a, b = draw(st.sampled_from(names)), names[-1]
    return p, a, b


@settings(max_examples=20, deadline=None)
@given(linear_programs())
def test_random_programs_against_tp(case):
    prog, a, b = case
    z = z_calculus_of_program(prog)
    sa, sb = sympy.Symbol(a, real=True), sympy.Symbol(b, real=True)
    inputs = [a] if a == b else [a, b]
    expected, exact = expanded_limit(prog, sa * sb, inputs)
    assert exact
    assert sympy.expand(z.expect(sa * sb, inputs) - expected) == 0
