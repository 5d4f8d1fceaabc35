"""The deep-kernel engine against an independent mpmath recursion, quadrature and the theory-facts
test vectors (theory facts §5 and T4)."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from tpcheck.engines import deep_kernels as dk
from tpcheck.nn import DeepKernelError, nngp_kernel, nt_kernels, ntk_kernel

SETTINGS = [(2.0, 0.0), (1.5, 0.1), (0.8, 0.5)]  # (sigma_w^2, sigma_b^2)
ACTIVATIONS = ["relu", "erf", "identity"]
WIDTH = 64

# ---- the oracle: a separate mpmath recursion -------------------------------------------------
# E[f(u) g(v)] = int f(s1 z) E[g(s2 rho z + s2 r Z)] phi(z) dz: one tanh-sinh quadrature over the
# bivariate Gaussian, the inner Gaussian integral done by the smoothing formulas below; neither
# the arc-cosine nor Williams' arcsin form is used.


def _smooth(name: str, a, b):
    """E[g(a + b Z)], Z ~ N(0, 1), b > 0, for g and g'."""
    if name == "relu":
        return a * mpmath.ncdf(a / b) + b * mpmath.npdf(a / b), mpmath.ncdf(a / b)
    if name == "erf":
        s = mpmath.sqrt(1 + 2 * b * b)
        return mpmath.erf(a / s), 2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-a * a / (s * s)) / s
    return a, mpmath.mpf(1)


def _pointwise(name: str, x):
    if name == "relu":
        return (x if x > 0 else mpmath.mpf(0)), (mpmath.mpf(1) if x > 0 else mpmath.mpf(0))
    if name == "erf":
        return mpmath.erf(x), 2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-x * x)
    return x, mpmath.mpf(1)


def oracle_expectations(name: str, q1, q2, c):
    """(E phi(u) phi(v), E phi'(u) phi'(v)) by quadrature over z1 at the working precision."""
    s1, s2 = mpmath.sqrt(q1), mpmath.sqrt(q2)
    rho = c / (s1 * s2)
    r2 = 1 - rho * rho
    out = []
    for which in (0, 1):
        if r2 <= mpmath.mpf(10) ** (-mpmath.mp.dps + 5):
            def integrand(z, which=which):
                return _pointwise(name, s1 * z)[which] * _pointwise(name, s2 * z)[which] * mpmath.npdf(z)
        else:
            r = mpmath.sqrt(r2)

            def integrand(z, which=which, r=r):
                inner = _smooth(name, s2 * rho * z, s2 * r)[which]
                return _pointwise(name, s1 * z)[which] * inner * mpmath.npdf(z)
        # |z| > cut carries Gaussian mass below 10^-(dps + 8): finite intervals converge faster
        cut = mpmath.sqrt(2 * mpmath.log(10) * (mpmath.mp.dps + 8)) + 1
        out.append(mpmath.quad(integrand, [-cut, 0, cut]))
    return out


def oracle_layers(name: str, x, y, depth: int, sw2, sb2, width: int, dps: int = 16):
    """Per layer l = 1..depth+1: (Sigma^l(x,y), Theta_ntk^l(x,y), Theta_standard^l(x,y))."""
    with mpmath.workdps(dps):
        x = [mpmath.mpf(float(v)) for v in x]
        y = [mpmath.mpf(float(v)) for v in y]
        sw2, sb2 = mpmath.mpf(sw2), mpmath.mpf(sb2)
        d = len(x)
        dot = mpmath.fsum(a * b for a, b in zip(x, y, strict=True))
        qx = sw2 * mpmath.fsum(a * a for a in x) / d + sb2
        qy = sw2 * mpmath.fsum(b * b for b in y) / d + sb2
        sigma = sw2 * dot / d + sb2
        ntk, sp = sigma, dot + 1
        rows = [(sigma, ntk, sp)]
        for _ in range(depth):
            e, de = oracle_expectations(name, qx, qy, sigma)
            sigma = sw2 * e + sb2
            ntk = sigma + sw2 * de * ntk
            sp = width * e + 1 + sw2 * de * sp
            qx_next = sw2 * oracle_expectations(name, qx, qx, qx)[0] + sb2
            qy = qx_next if qy == qx else sw2 * oracle_expectations(name, qy, qy, qy)[0] + sb2
            qx = qx_next
            rows.append((sigma, ntk, sp))
        return [tuple(float(v) for v in row) for row in rows]


def _relative(a: float, b: float) -> float:
    return abs(a - b) / abs(b)


def _check_against_oracle(inputs: np.ndarray, pairs, activations, settings_, depth: int = 3) -> float:
    worst = 0.0
    for name in activations:
        for sw2, sb2 in settings_:
            ntk = dk.deep_kernels(inputs, depth=depth, activation=name, sigma_w2=sw2, sigma_b2=sb2,
                                  layers=True)
            sp = dk.deep_kernels(inputs, depth=depth, activation=name, sigma_w2=sw2, sigma_b2=sb2,
                                 parametrization="standard", width=WIDTH, layers=True)
            for i, j in pairs:
                rows = oracle_layers(name, inputs[i], inputs[j], depth, sw2, sb2, WIDTH)
                for layer, (sigma, theta, theta_sp) in enumerate(rows):
                    got = (ntk.sigmas[layer][i, j], ntk.thetas[layer][i, j], sp.thetas[layer][i, j])
                    for g, want in zip(got, (sigma, theta, theta_sp), strict=True):
                        worst = max(worst, _relative(g, want))
                        assert _relative(g, want) < 1e-12, (name, sw2, sb2, layer, i, j, g, want)
                assert np.array_equal(ntk.sigmas[-1], sp.sigmas[-1])  # one NNGP for both
    return worst


def test_against_independent_mpmath_recursion() -> None:
    """relu, erf, identity; depths 1-3 (every layer of a depth-3 net); three (sigma_w^2, sigma_b^2);
    both parametrizations; random inputs; 1e-12 relative on every layer of one pair (the slow tier
    adds diagonals and more pairs)."""
    inputs = np.random.default_rng(20240513).standard_normal((2, 4))
    _check_against_oracle(inputs, [(0, 1)], ACTIVATIONS, SETTINGS)


@pytest.mark.slow
def test_against_independent_mpmath_recursion_more_inputs() -> None:
    inputs = np.random.default_rng(7).standard_normal((5, 6)) * np.array([0.2, 1, 3, 1, 1, 0.5])
    pairs = [(i, j) for i in range(5) for j in range(i, 5)]
    _check_against_oracle(inputs, pairs, ACTIVATIONS, SETTINGS)


# ---- closed forms against quadrature --------------------------------------------------------

COVARIANCES = [(1.3, 0.7, 0.4), (1.0, 1.0, 0.5), (2.0, 0.3, -0.7), (0.5, 4.0, 1.3), (1.0, 1.0, 0.999)]


@pytest.mark.parametrize("q1,q2,c", COVARIANCES)
def test_closed_forms_against_quadrature(q1: float, q2: float, c: float) -> None:
    with mpmath.workdps(25):
        for name, dual, ddual in (("relu", dk.relu_dual, dk.step_dual),
                                  ("erf", dk.erf_dual, dk.erf_derivative_dual)):
            e, de = oracle_expectations(name, mpmath.mpf(q1), mpmath.mpf(q2), mpmath.mpf(c))
            assert _relative(float(dual(q1, q2, c)), float(e)) < 1e-13
            assert _relative(float(ddual(q1, q2, c)), float(de)) < 1e-13


def test_relu_closed_form_matches_theory_facts_quadrature() -> None:
    """Theory facts §5.2: kink-aligned quadrature at (q1, q2, c) = (1.3, 0.7, 0.4), 25 digits."""
    with mpmath.workdps(30):
        assert abs(dk._relu_dual_mp(mpmath.mpf("1.3"), mpmath.mpf("0.7"), mpmath.mpf("0.4"))
                   - mpmath.mpf("0.2653780915189423349576935")) < 1e-24
        assert abs(dk._step_dual_mp(mpmath.mpf("1.3"), mpmath.mpf("0.7"), mpmath.mpf("0.4"))
                   - mpmath.mpf("0.3188646691587358064496546")) < 1e-24


def test_gauss_hermite_tanh_against_theory_facts() -> None:
    """T4: tanh dual at q1 = q2 = 1, c = 1/2 (20 digits). Measured error at 96 nodes: 4e-13 and 1e-11."""
    act = dk.kernel_activation("tanh")
    e = dk.gauss_hermite_dual(act.np_fn, act.np_fn, 1.0, 1.0, 0.5)
    de = dk.gauss_hermite_dual(act.np_derivative, act.np_derivative, 1.0, 1.0, 0.5)
    assert abs(e - 0.18632441320344808611) < 1e-12
    assert abs(de - 0.38474702844103890153) < 5e-11


def test_gauss_hermite_agrees_with_closed_forms_for_smooth_activation() -> None:
    q1, q2, c = np.array([1.0, 0.4, 2.5]), np.array([1.0, 1.7, 0.3]), np.array([0.5, -0.6, 0.8])
    assert np.allclose(dk.gauss_hermite_dual(dk.ERF.np_fn, dk.ERF.np_fn, q1, q2, c, 128),
                       dk.erf_dual(q1, q2, c), rtol=1e-13, atol=0)


@pytest.mark.parametrize("coeffs", [[0, 1], [1, 0, -1], [0, 2, 0, -1], [1, -1, 0.5, 0, 0.25]])
def test_polynomial_duals_exact(coeffs) -> None:
    """Exact Isserlis duals = Gauss-Hermite (exact for polynomials with enough nodes)."""
    act = dk.polynomial(coeffs)
    q1, q2, c = np.array([1.0, 0.4, 2.5]), np.array([1.0, 1.7, 0.3]), np.array([0.5, -0.6, 0.8])
    assert np.allclose(act.dual(q1, q2, c), dk.gauss_hermite_dual(act.np_fn, act.np_fn, q1, q2, c, 20),
                       rtol=1e-12, atol=1e-12)
    assert np.allclose(act.derivative_dual(q1, q2, c),
                       dk.gauss_hermite_dual(act.np_derivative, act.np_derivative, q1, q2, c, 20),
                       rtol=1e-12, atol=1e-12)


def test_polynomial_sympy_dual_matches_isserlis() -> None:
    from tpcheck.engines.gaussian import isserlis_moment

    q1, q2, c = sympy.symbols("q1 q2 c")
    act = dk.polynomial([1, 0, -1, 1])  # 1 - x^2 + x^3
    expect = sympy.expand(act.sympy_dual(q1, q2, c))
    direct = sum(a * b * isserlis_moment([j, k], [[q1, c], [c, q2]])
                 for j, a in enumerate([1, 0, -1, 1]) for k, b in enumerate([1, 0, -1, 1]))
    assert sympy.expand(expect - direct) == 0


# ---- theory-facts test vectors (T4; inputs (1,1,1) and (1,1,-1)) -------------------------------

T4 = [
    ("relu", 2.0, 0.0, [(1, "1.00565984275099919959", "1.411108808063927686142"),
                        (2, "1.221771735973907766082", "2.163980088839314796984"),
                        (3, "1.370487881267659640853", "2.905153521895417639208")]),
    ("relu", 1.5, 0.1, [(1, "0.7341581765441785630782", "1.014218958636783969481"),
                        (2, "0.7366144039178773107079", "1.262250427415811034295"),
                        (3, "0.6959016482079361672833", "1.396730033831701287739")]),
    ("erf", 2.0, 0.0, [(1, "0.3436891100760122208124", "0.6959763936998394347962"),
                       (2, "0.2622214073830774698608", "0.8008613255011446527914"),
                       (3, "0.2249832790025171875319", "0.9193560672186845626674")]),
    ("erf", 1.5, 0.1, [(1, "0.3766924933170038996589", "0.6613975106838747230496"),
                       (2, "0.3550631866891593876496", "0.8138667863203814992747"),
                       (3, "0.3694334605128157996069", "1.003949676782779867941")]),
]
T4_ERF_DIAGONAL = {(2.0, 0.0): [("1.180668941203466193403", "2.878321667517016441605"),
                                ("0.9917306144171213978051", "4.055667896102888015769"),
                                ("0.9259650817400377167454", "5.559994743360855984956")],
                   (1.5, 0.1): [("0.927206774263574029846", "2.050531971124399380942"),
                                ("0.7752729115854469388221", "2.580000057132576651673"),
                                ("0.723996105803381576375", "3.157159959071200351754")]}
PAIR = np.array([[1.0, 1.0, 1.0], [1.0, 1.0, -1.0]])


@pytest.mark.parametrize("name,sw2,sb2,rows", T4)
def test_theory_facts_vectors(name: str, sw2: float, sb2: float, rows) -> None:
    for depth, sigma, theta in rows:
        k = dk.deep_kernels(PAIR, depth=depth, activation=name, sigma_w2=sw2, sigma_b2=sb2)
        assert _relative(k.nngp[0, 1], float(sigma)) < 1e-14
        assert _relative(k.ntk[0, 1], float(theta)) < 1e-14
        if name == "erf":
            dsigma, dtheta = T4_ERF_DIAGONAL[(sw2, sb2)][depth - 1]
            assert _relative(k.nngp[0, 0], float(dsigma)) < 1e-14
            assert _relative(k.ntk[0, 0], float(dtheta)) < 1e-14
        e_sigma, e_theta = dk.kernel_entry_mp(PAIR[0], PAIR[1], depth=depth, activation=name,
                                              sigma_w2=str(sw2), sigma_b2=str(sb2), dps=25)
        with mpmath.workdps(30):
            assert abs(e_sigma - mpmath.mpf(sigma)) < mpmath.mpf(10) ** -20
            assert abs(e_theta - mpmath.mpf(theta)) < mpmath.mpf(10) ** -20


def test_identity_rows_are_exact_rationals() -> None:
    """Theory facts §5.4, identity with sigma_w^2 = 3/2, sigma_b^2 = 1/10: Theta(x, x') = 1.9, 4.45, 9.175."""
    for depth, sigma, theta in [(1, 1, "19/10"), (2, "8/5", "89/20"), (3, "5/2", "367/40")]:
        s, t = dk.kernel_entry_symbolic([1, 1, 1], [1, 1, -1], depth=depth, activation="identity",
                                        sigma_w2=sympy.Rational(3, 2), sigma_b2=sympy.Rational(1, 10))
        assert sympy.nsimplify(s) == sympy.Rational(sigma) and sympy.nsimplify(t) == sympy.Rational(theta)


def test_he_relu_diagonal() -> None:
    """Theory facts §5.2: relu with sigma_w^2 = 2, sigma_b^2 = 0 keeps the diagonal and
    Theta^{L+1}(x, x) = (L + 1) Sigma^1(x, x)."""
    x = np.random.default_rng(3).standard_normal((4, 7))
    sigma1 = 2 * np.einsum("ij,ij->i", x, x) / 7
    for depth in (1, 2, 3, 6):
        k = dk.deep_kernels(x, depth=depth, activation="relu", sigma_w2=2.0)
        assert np.allclose(np.diag(k.nngp), sigma1, rtol=1e-14)
        assert np.allclose(np.diag(k.ntk), (depth + 1) * sigma1, rtol=1e-14)


def test_enclosure_contains_float_value() -> None:
    for name in ("relu", "erf"):
        for param in ("ntk", "standard"):
            balls = dk.kernel_entry_enclosure([1, 2, -1], [1, -1, 1], depth=3, activation=name,
                                              sigma_w2="3/2", sigma_b2="1/10", parametrization=param,
                                              width=100)
            k = dk.deep_kernels(np.array([[1, 2, -1], [1, -1, 1.0]]), depth=3, activation=name,
                                sigma_w2=1.5, sigma_b2=0.1, parametrization=param, width=100)
            for ball, value in zip(balls, (k.nngp[0, 1], k.ntk[0, 1]), strict=True):
                assert ball is not None and float(ball.rad()) < 1e-14 * abs(value)
                assert abs(float(ball.mid()) - value) < 1e-13 * abs(value)


def test_step_network_ntk_is_readout_kernel() -> None:
    """phi' = 0 almost everywhere for step, so Theta^{L+1} = Sigma^{L+1} (NTK parametrization)."""
    x = np.random.default_rng(4).standard_normal((5, 3))
    k = dk.deep_kernels(x, depth=2, activation="step", sigma_w2=1.3, sigma_b2=0.2)
    assert np.array_equal(k.ntk, k.nngp)
    # arc-cosine degree 0 on the diagonal: E step(u)^2 = 1/2
    assert np.allclose(np.diag(k.nngp), 1.3 * 0.5 + 0.2, rtol=1e-15)


def test_per_layer_variances() -> None:
    x = np.random.default_rng(5).standard_normal((3, 4))
    same = dk.deep_kernels(x, depth=2, activation="erf", sigma_w2=1.2, sigma_b2=0.3)
    listed = dk.deep_kernels(x, depth=2, activation="erf", sigma_w2=[1.2] * 3, sigma_b2=(0.3, 0.3, 0.3))
    assert np.array_equal(same.ntk, listed.ntk)
    other = dk.deep_kernels(x, depth=2, activation="erf", sigma_w2=[1.2, 1.2, 2.0], sigma_b2=0.3)
    # only the readout changes: Sigma^3 = 2 E[phi phi] + 0.3 instead of 1.2 E[phi phi] + 0.3
    assert np.allclose((other.nngp - 0.3) / 2.0, (same.nngp - 0.3) / 1.2, rtol=1e-13)


def test_arguments_are_checked() -> None:
    x = np.ones((2, 3))
    with pytest.raises(DeepKernelError, match="depth"):
        dk.deep_kernels(x, depth=0, activation="relu")
    with pytest.raises(DeepKernelError, match="width"):
        dk.deep_kernels(x, depth=1, activation="relu", parametrization="standard")
    with pytest.raises(DeepKernelError, match="per-layer"):
        dk.deep_kernels(x, depth=2, activation="relu", sigma_w2=[1.0, 2.0])
    with pytest.raises(DeepKernelError, match=">= 0"):
        dk.deep_kernels(x, depth=1, activation="relu", sigma_b2=-1.0)
    with pytest.raises(DeepKernelError, match="activation"):
        nt_kernels(x, 1, "tanh", 1.0, 0.0, "ntk")
    with pytest.raises(DeepKernelError, match="unknown activation"):
        dk.deep_kernels(x, depth=1, activation="swoosh")


def test_general_activation_from_sympy_expression() -> None:
    """A sympy expression is an activation; x*erf-free polynomial through the quadrature path
    equals the exact polynomial path."""
    t = sympy.Symbol("t")
    x = np.random.default_rng(6).standard_normal((4, 3))
    by_quadrature = dk.deep_kernels(x, depth=2, activation=t**3 - t, nodes=24, sigma_b2=0.2)
    exact = dk.deep_kernels(x, depth=2, activation=dk.polynomial([0, -1, 0, 1]), sigma_b2=0.2)
    assert by_quadrature.method.startswith("Gauss-Hermite") and exact.method == "closed form"
    assert np.allclose(by_quadrature.ntk, exact.ntk, rtol=1e-11)


@pytest.mark.slow
def test_quadrature_activations_against_mpmath_entries() -> None:
    """tanh and gelu Gram entries (Gauss-Hermite, 128 nodes) against kink-free mpmath quadrature."""
    pair = np.array([[0.3, -1.0, 0.8], [1.1, 0.2, -0.4]])
    for name in ("tanh", "gelu"):
        k = dk.deep_kernels(pair, depth=1, activation=name, sigma_w2=1.5, sigma_b2=0.1, nodes=128)
        s, t = dk.kernel_entry_mp(pair[0], pair[1], depth=1, activation=name, sigma_w2="1.5",
                                  sigma_b2="0.1", dps=16)
        assert _relative(k.nngp[0, 1], float(s)) < 1e-12 and _relative(k.ntk[0, 1], float(t)) < 1e-12


# ---- properties ---------------------------------------------------------------------------------

def _random_inputs(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((4, 3)) * rng.uniform(0.2, 3)


inputs_strategy = st.integers(0, 2**32 - 1).map(_random_inputs)


@settings(max_examples=30, deadline=None)
@given(x=inputs_strategy, depth=st.integers(1, 4), name=st.sampled_from(["relu", "erf", "identity", "step"]),
       sw2=st.floats(0.1, 3.0), sb2=st.floats(0.0, 1.0))
def test_gram_matrices_are_symmetric_psd_and_blocks_agree(x, depth, name, sw2, sb2) -> None:
    """NNGP and NTK Gram matrices are symmetric positive semidefinite, and the cross Gram matrix
    between two sets is the block of the Gram matrix of their union."""
    k = dk.deep_kernels(x, depth=depth, activation=name, sigma_w2=sw2, sigma_b2=sb2)
    for m in (k.nngp, k.ntk):
        assert np.allclose(m, m.T, rtol=1e-14, atol=0)
        assert np.linalg.eigvalsh(m).min() >= -1e-10 * np.abs(m).max()
    cross = dk.deep_kernels(x[:2], x[2:], depth=depth, activation=name, sigma_w2=sw2, sigma_b2=sb2)
    assert np.allclose(cross.nngp, k.nngp[:2, 2:], rtol=1e-12, atol=1e-15 * np.abs(k.nngp).max())
    assert np.allclose(cross.ntk, k.ntk[:2, 2:], rtol=1e-12, atol=1e-15 * np.abs(k.ntk).max())


@settings(max_examples=30, deadline=None)
@given(x=inputs_strategy, depth=st.integers(1, 3), sw2=st.floats(0.1, 3.0), sb2=st.floats(0.0, 1.0),
       width=st.integers(1, 10_000))
def test_standard_ntk_is_affine_in_width(x, depth, sw2, sb2, width) -> None:
    """With equal hidden widths, Theta_standard(n) = A + n B with B independent of n (and the NNGP
    does not depend on the parametrization)."""
    def sp(n: int) -> np.ndarray:
        return ntk_kernel(x, depth=depth, activation="erf", sigma_w2=sw2, sigma_b2=sb2,
                          parametrization="standard", width=n)

    a, b = sp(0 + 1) - (sp(2) - sp(1)), sp(2) - sp(1)
    assert np.allclose(sp(width), a + width * b, rtol=1e-9, atol=1e-9 * np.abs(sp(width)).max())
    assert np.array_equal(nngp_kernel(x, depth=depth, activation="erf", sigma_w2=sw2, sigma_b2=sb2),
                          dk.deep_kernels(x, depth=depth, activation="erf", sigma_w2=sw2, sigma_b2=sb2,
                                          parametrization="standard", width=width).nngp)
