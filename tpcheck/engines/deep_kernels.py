"""Deep kernels of wide multilayer perceptrons: the NNGP and the NTK of a depth-L MLP.

Network (theory facts §5.1; docs/nn.md). Input x in R^d, L >= 1 hidden layers of widths n_1..n_L,
per-layer weight and bias variances sigma_w,l^2 and sigma_b,l^2 (l = 1..L+1):

    h^1 = (sigma_w,1 / sqrt(d)) W^1 x + sigma_b,1 b^1,      x^l = phi(h^l),
    h^{l+1} = (sigma_w,l+1 / sqrt(n_l)) W^{l+1} x^l + sigma_b,l+1 b^{l+1},   f = h^{L+1},

with all W, b entries iid N(0, 1) (NTK parametrization). The standard parametrization draws
W^l ~ N(0, sigma_w,l^2 / n_{l-1}), b^l ~ N(0, sigma_b,l^2) and trains those entries directly: the
same function at initialisation, hence the same NNGP, but another tangent kernel.

Recursions (Lee et al. 2018, eq. 4; Jacot et al. 2018, Thm 1; Arora et al. 2019, eq. 7):

    Sigma^1(x, x') = sigma_w,1^2 x.x' / d + sigma_b,1^2,
    Sigma^{l+1}    = sigma_w,l+1^2 E[phi(u) phi(v)] + sigma_b,l+1^2,
    Sigma_dot^{l+1} = sigma_w,l+1^2 E[phi'(u) phi'(v)],      (u, v) ~ N(0, Lambda^l),
    NTK parametrization:       Theta^1 = Sigma^1,      Theta^{l+1} = Sigma^{l+1} + Sigma_dot^{l+1} Theta^l,
    standard parametrization:  Theta^1 = x.x' + 1,     Theta^{l+1} = n_l E[phi(u) phi(v)] + 1
                                                                      + Sigma_dot^{l+1} Theta^l,

where Lambda^l is the 2x2 matrix of Sigma^l on {x, x'}. The output NNGP is Sigma^{L+1}, the output
NTK Theta^{L+1}. In the standard parametrization the "+ 1" is the gradient of the trained bias,
present whatever its initial variance; the NTK grows like n and has no finite limit.

Bivariate expectations ("duals"). Closed forms for relu and its derivative step (arc-cosine
kernels of degree 1 and 0, Cho & Saul 2009, eq. 6), erf (Williams 1997, eq. 11) and its
derivative, identity and polynomials (Isserlis: exact moments E[u^j v^k]); a product
Gauss-Hermite rule at double precision for any other activation (tanh, gelu, sigmoid, sin, ...
or a sympy expression), and mpmath tanh-sinh quadrature, kink-aligned, for single entries at a
requested precision. Sympy forms of the relu, step, erf, identity and polynomial steps, which
Arb encloses (:func:`kernel_entry_enclosure`).

Derivative convention: phi' is the derivative almost everywhere, what backpropagation computes.
For step it is 0, so Sigma_dot = 0 and a step network's NTK is its readout kernel (the
distributional derivative would give E[delta(u) delta(v)] = 1 / (2 pi sqrt(q1 q2 - c^2)), infinite
on the diagonal).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import sympy

from tpcheck.engines.gaussian import erf_derivative_kernel, erf_kernel, np_erf, relu_kernel, step_kernel
from tpcheck.errors import TpcheckError

Dual = Callable[[Any, Any, Any], Any]
DiagonalDual = Callable[[Any], Any]

PARAMETRIZATIONS = ("ntk", "standard")
DEFAULT_NODES = 96


class DeepKernelError(TpcheckError, ValueError):
    """An argument the deep-kernel engine cannot work with (bad shape, depth, variance...)."""


# ---- scalar helpers shared by the numpy, mpmath and sympy paths ---------------------------


def _polynomial_moment(j: int, k: int, q1: Any, q2: Any, c: Any) -> Any:
    """E[u^j v^k] for (u, v) ~ N(0, [[q1, c], [c, q2]]) (Isserlis 1918): sum over the number m of
    u-v pairs, binom(j, m) binom(k, m) m! c^m (j-m-1)!! q1^((j-m)/2) (k-m-1)!! q2^((k-m)/2), j-m and
    k-m even. Works for numbers, numpy arrays, mpf and sympy expressions alike."""
    total: Any = 0
    for m in range(min(j, k) + 1):
        if (j - m) % 2 or (k - m) % 2:
            continue
        coeff = math.comb(j, m) * math.comb(k, m) * math.factorial(m)
        coeff *= _double_factorial(j - m - 1) * _double_factorial(k - m - 1)
        total = total + coeff * c**m * q1 ** ((j - m) // 2) * q2 ** ((k - m) // 2)
    return total


def _double_factorial(n: int) -> int:
    return 1 if n <= 0 else n * _double_factorial(n - 2)


def _polynomial_dual(coeffs: Sequence[Any]) -> Dual:
    """E[p(u) p(v)] = sum_{j,k} p_j p_k E[u^j v^k] for p(x) = sum_j p_j x^j (exact)."""

    def dual(q1: Any, q2: Any, c: Any) -> Any:
        total: Any = 0
        for j, pj in enumerate(coeffs):
            for k, pk in enumerate(coeffs):
                if pj != 0 and pk != 0 and (j + k) % 2 == 0:
                    total = total + pj * pk * _polynomial_moment(j, k, q1, q2, c)
        return total

    return dual


# ---- closed forms (numpy, vectorised) -----------------------------------------------------


def relu_dual(q1: Any, q2: Any, c: Any) -> np.ndarray:
    """E[relu(u) relu(v)] = (sqrt(q1 q2 - c^2) + (pi - t) c) / (2 pi), t = atan2(sqrt(q1 q2 - c^2), c)
    (arc-cosine kernel of degree 1, Cho & Saul 2009, eq. 6: sqrt(q1 q2)(sin t + (pi - t) cos t)/(2 pi)).
    Written with atan2 so that the diagonal (c^2 = q1 q2) gives t = 0 exactly."""
    s = np.sqrt(np.maximum(q1 * q2 - c * c, 0.0))
    t = np.arctan2(s, c)
    return (s + (np.pi - t) * c) / (2 * np.pi)


def step_dual(q1: Any, q2: Any, c: Any) -> np.ndarray:
    """E[step(u) step(v)] = (pi - t) / (2 pi), t = atan2(sqrt(q1 q2 - c^2), c)
    (arc-cosine kernel of degree 0, Cho & Saul 2009); relu' = step."""
    s = np.sqrt(np.maximum(q1 * q2 - c * c, 0.0))
    return (np.pi - np.arctan2(s, c)) / (2 * np.pi)


def erf_dual(q1: Any, q2: Any, c: Any) -> np.ndarray:
    """E[erf(u) erf(v)] = (2/pi) arcsin(2c / sqrt((1 + 2 q1)(1 + 2 q2))) (Williams 1997, eq. 11),
    evaluated as (2/pi) atan2(2c, sqrt((1 + 2 q1)(1 + 2 q2) - 4 c^2))."""
    return (2 / np.pi) * np.arctan2(2 * c, np.sqrt((1 + 2 * q1) * (1 + 2 * q2) - 4 * c * c))


def erf_derivative_dual(q1: Any, q2: Any, c: Any) -> np.ndarray:
    """E[erf'(u) erf'(v)] = (4/pi) ((1 + 2 q1)(1 + 2 q2) - 4 c^2)^(-1/2), erf'(x) = (2/sqrt(pi)) e^(-x^2)
    (a Gaussian integral; theory facts §5.2)."""
    return (4 / np.pi) / np.sqrt((1 + 2 * q1) * (1 + 2 * q2) - 4 * c * c)


def _identity_dual(q1: Any, q2: Any, c: Any) -> Any:
    return c


def _constant_one_dual(q1: Any, q2: Any, c: Any) -> Any:
    return c * 0 + 1


def _zero_dual(q1: Any, q2: Any, c: Any) -> Any:
    return c * 0


# ---- the same closed forms in mpmath -------------------------------------------------------


def _relu_dual_mp(q1: Any, q2: Any, c: Any) -> mpmath.mpf:
    s = mpmath.sqrt(max(q1 * q2 - c * c, 0))
    return (s + (mpmath.pi - mpmath.atan2(s, c)) * c) / (2 * mpmath.pi)


def _step_dual_mp(q1: Any, q2: Any, c: Any) -> mpmath.mpf:
    s = mpmath.sqrt(max(q1 * q2 - c * c, 0))
    return (mpmath.pi - mpmath.atan2(s, c)) / (2 * mpmath.pi)


def _erf_dual_mp(q1: Any, q2: Any, c: Any) -> mpmath.mpf:
    return 2 / mpmath.pi * mpmath.atan2(2 * c, mpmath.sqrt((1 + 2 * q1) * (1 + 2 * q2) - 4 * c * c))


def _erf_derivative_dual_mp(q1: Any, q2: Any, c: Any) -> mpmath.mpf:
    return 4 / mpmath.pi / mpmath.sqrt((1 + 2 * q1) * (1 + 2 * q2) - 4 * c * c)


# ---- activations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class KernelActivation:
    """An activation phi with what the kernel recursions need: phi and phi' in numpy and mpmath,
    and, where known, the duals E[phi(u) phi(v)] and E[phi'(u) phi'(v)] in closed form (numpy,
    mpmath, sympy). ``kink``: phi or phi' is not smooth at 0 (quadrature breaks there)."""

    name: str
    np_fn: Callable[[np.ndarray], np.ndarray]
    np_derivative: Callable[[np.ndarray], np.ndarray]
    mp_fn: Callable[[Any], Any]
    mp_derivative: Callable[[Any], Any]
    kink: bool = False
    dual: Dual | None = None
    derivative_dual: Dual | None = None
    mp_dual: Dual | None = None
    mp_derivative_dual: Dual | None = None
    sympy_dual: Dual | None = None
    sympy_derivative_dual: Dual | None = None
    sympy_diagonal: tuple[DiagonalDual, DiagonalDual] | None = None

    @property
    def closed_form(self) -> bool:
        return self.dual is not None and self.derivative_dual is not None


def _relu_np(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def _step_np(x: np.ndarray) -> np.ndarray:
    return (np.asarray(x) > 0).astype(float)


def _zero_np(x: np.ndarray) -> np.ndarray:
    return np.zeros_like(np.asarray(x, dtype=float))


def _erf_derivative_np(x: np.ndarray) -> np.ndarray:
    return 2 / np.sqrt(np.pi) * np.exp(-np.asarray(x) ** 2)


RELU = KernelActivation(
    "relu", _relu_np, _step_np,
    lambda x: x if x > 0 else mpmath.mpf(0), lambda x: mpmath.mpf(1) if x > 0 else mpmath.mpf(0),
    kink=True, dual=relu_dual, derivative_dual=step_dual,
    mp_dual=_relu_dual_mp, mp_derivative_dual=_step_dual_mp,
    sympy_dual=relu_kernel, sympy_derivative_dual=step_kernel,
    sympy_diagonal=(lambda q: q / 2, lambda q: sympy.Rational(1, 2)),
)
STEP = KernelActivation(
    "step", _step_np, _zero_np,
    lambda x: mpmath.mpf(1) if x > 0 else mpmath.mpf(0), lambda x: mpmath.mpf(0),
    kink=True, dual=step_dual, derivative_dual=_zero_dual,
    mp_dual=_step_dual_mp, mp_derivative_dual=_zero_dual,
    sympy_dual=step_kernel, sympy_derivative_dual=lambda q1, q2, c: sympy.Integer(0),
    sympy_diagonal=(lambda q: sympy.Rational(1, 2), lambda q: sympy.Integer(0)),
)
ERF = KernelActivation(
    "erf", np_erf, _erf_derivative_np,
    mpmath.erf, lambda x: 2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-x * x),
    dual=erf_dual, derivative_dual=erf_derivative_dual,
    mp_dual=_erf_dual_mp, mp_derivative_dual=_erf_derivative_dual_mp,
    sympy_dual=erf_kernel, sympy_derivative_dual=erf_derivative_kernel,
    sympy_diagonal=(lambda q: 2 / sympy.pi * sympy.asin(2 * q / (1 + 2 * q)),
                    lambda q: 4 / sympy.pi / sympy.sqrt(1 + 4 * q)),
)
IDENTITY = KernelActivation(
    "identity", lambda x: np.asarray(x, dtype=float), lambda x: np.ones_like(np.asarray(x, dtype=float)),
    lambda x: x, lambda x: mpmath.mpf(1),
    dual=_identity_dual, derivative_dual=_constant_one_dual,
    mp_dual=_identity_dual, mp_derivative_dual=_constant_one_dual,
    sympy_dual=_identity_dual, sympy_derivative_dual=lambda q1, q2, c: sympy.Integer(1),
    sympy_diagonal=(lambda q: q, lambda q: sympy.Integer(1)),
)

_X = sympy.Symbol("x", real=True)

ELEMENTARY: dict[str, sympy.Expr] = {
    "tanh": sympy.tanh(_X),
    "sigmoid": 1 / (1 + sympy.exp(-_X)),
    "gelu": _X * (1 + sympy.erf(_X / sympy.sqrt(2))) / 2,
    "silu": _X / (1 + sympy.exp(-_X)),
    "softplus": sympy.log(1 + sympy.exp(_X)),
    "sin": sympy.sin(_X),
    "cos": sympy.cos(_X),
    "exp": sympy.exp(_X),
}


def polynomial(coeffs: Sequence[int | float | sympy.Rational], name: str | None = None) -> KernelActivation:
    """phi(x) = sum_j coeffs[j] x^j, with exact duals: E[phi(u) phi(v)] = sum_{j,k} p_j p_k E[u^j v^k]
    and the same for phi' (Isserlis 1918; theory facts §1.2)."""
    exact = [sympy.Rational(c) if not isinstance(c, float) else sympy.Float(c) for c in coeffs]
    floats = [float(c) for c in exact]
    dfloats = [j * floats[j] for j in range(1, len(floats))] or [0.0]
    mps = [mpmath.mpf(c.p) / c.q if isinstance(c, sympy.Rational) else mpmath.mpf(str(c)) for c in exact]
    dmps = [j * mps[j] for j in range(1, len(mps))] or [mpmath.mpf(0)]
    dexact = [j * exact[j] for j in range(1, len(exact))] or [sympy.Integer(0)]

    def horner(cs: Sequence[Any]) -> Callable[[Any], Any]:
        def f(x: Any) -> Any:
            total: Any = x * 0
            for c in reversed(cs):
                total = total * x + c
            return total
        return f

    def diagonal(dual: Dual) -> DiagonalDual:
        return lambda q: dual(q, q, q)

    sym, dsym = _polynomial_dual(exact), _polynomial_dual(dexact)
    return KernelActivation(
        name or f"polynomial{tuple(str(c) for c in exact)}",
        horner(floats), horner(dfloats), horner(mps), horner(dmps),
        dual=_polynomial_dual(floats), derivative_dual=_polynomial_dual(dfloats),
        mp_dual=_polynomial_dual(mps), mp_derivative_dual=_polynomial_dual(dmps),
        sympy_dual=sym, sympy_derivative_dual=dsym, sympy_diagonal=(diagonal(sym), diagonal(dsym)),
    )


def _broadcasting(f: Callable[[np.ndarray], Any]) -> Callable[[np.ndarray], np.ndarray]:
    def g(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        with np.errstate(over="ignore"):
            return np.asarray(f(x), dtype=float) + np.zeros_like(x)
    return g


def elementary(expr: sympy.Expr | str, symbol: sympy.Symbol | None = None,
               name: str | None = None) -> KernelActivation:
    """An activation given by an elementary sympy expression in one variable (or a name in
    ``ELEMENTARY``); phi' by sympy.diff. Its duals are computed by quadrature: Gauss-Hermite for
    Gram matrices, mpmath for single entries."""
    if isinstance(expr, str):
        if expr not in ELEMENTARY:
            raise DeepKernelError(f"unknown activation {expr!r}")
        name, expr, symbol = expr, ELEMENTARY[expr], _X
    if symbol is None:
        free = sorted(expr.free_symbols, key=str)
        if len(free) != 1:
            raise DeepKernelError(f"activation {expr} must have exactly one free symbol")
        symbol = free[0]
    derivative = sympy.diff(expr, symbol)
    np_modules = [{"erf": np_erf}, "numpy"]
    kink = any(expr.has(h) for h in (sympy.Abs, sympy.Max, sympy.Min, sympy.Heaviside, sympy.sign))
    return KernelActivation(
        name or str(expr),
        _broadcasting(sympy.lambdify(symbol, expr, modules=np_modules)),
        _broadcasting(sympy.lambdify(symbol, derivative, modules=np_modules)),
        sympy.lambdify(symbol, expr, modules="mpmath"),
        sympy.lambdify(symbol, derivative, modules="mpmath"),
        kink=kink,
    )


CLOSED_FORM: dict[str, KernelActivation] = {a.name: a for a in (RELU, STEP, ERF, IDENTITY)}


def kernel_activation(activation: str | KernelActivation | sympy.Expr) -> KernelActivation:
    """Resolve a name ('relu', 'step', 'erf', 'identity', or one of ``ELEMENTARY``), a sympy
    expression in one variable, or a ready :class:`KernelActivation`."""
    if isinstance(activation, KernelActivation):
        return activation
    if isinstance(activation, str):
        if activation in CLOSED_FORM:
            return CLOSED_FORM[activation]
        return elementary(activation)
    if isinstance(activation, sympy.Expr):
        return elementary(activation)
    raise DeepKernelError(f"cannot read activation {activation!r}")


# ---- quadrature ---------------------------------------------------------------------------


def gauss_hermite_dual(f: Callable[[np.ndarray], np.ndarray], g: Callable[[np.ndarray], np.ndarray],
                       q1: Any, q2: Any, c: Any, nodes: int = DEFAULT_NODES) -> np.ndarray:
    """E[f(u) g(v)], (u, v) ~ N(0, [[q1, c], [c, q2]]), elementwise over broadcast arrays, by the
    product Gauss-Hermite rule on u = sqrt(q1) z1, v = sqrt(q2)(rho z1 + sqrt(1 - rho^2) z2)
    (theory facts §1.4). Exact for polynomials of degree < 2 nodes in (z1, z2); for analytic f, g
    the error falls geometrically in sqrt(nodes). Not for kinks (relu, step): use the closed forms."""
    q1, q2, c = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (q1, q2, c)))
    shape = c.shape
    q1, q2, c = q1.ravel(), q2.ravel(), c.ravel()
    z, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / math.sqrt(2 * math.pi)
    s1, s2 = np.sqrt(q1), np.sqrt(q2)
    scale = s1 * s2
    rho = np.divide(c, scale, out=np.zeros_like(c), where=scale > 0)
    rho = np.clip(rho, -1.0, 1.0)
    r = np.sqrt(1 - rho * rho)
    out = np.empty_like(c)
    chunk = max(1, 2_000_000 // (nodes * nodes))
    for start in range(0, c.size, chunk):
        sl = slice(start, start + chunk)
        fu = f(s1[sl, None] * z[None, :]) * w[None, :]
        mean_part = rho[sl, None, None] * z[None, :, None]
        v = s2[sl, None, None] * (mean_part + r[sl, None, None] * z[None, None, :])
        out[sl] = np.einsum("pa,pab,b->p", fu, g(v), w)
    return out.reshape(shape)


def _mp_bivariate(f: Callable[[Any], Any], g: Callable[[Any], Any], q1: Any, q2: Any, c: Any,
                  kink: bool) -> mpmath.mpf:
    """E[f(u) g(v)] by nested tanh-sinh quadrature at the current mpmath precision, on
    u = sqrt(q1) z1, v = sqrt(q2)(rho z1 + sqrt(1 - rho^2) z2), with the inner breakpoint at
    z2 = -rho z1 / sqrt(1 - rho^2), where v = 0 (theory facts §1.4: without it a kink costs ten
    digits). The Gaussian is cut at |z| <= s + sqrt(2 ln(10) (dps + 10)), s = max(sqrt(q1), sqrt(q2)),
    which loses less than 10^-(dps+10) relative for f, g growing at most like exp(|x|)."""
    s1, s2 = mpmath.sqrt(q1), mpmath.sqrt(q2)
    rho = c / (s1 * s2) if s1 * s2 > 0 else mpmath.mpf(0)
    rho = max(min(rho, mpmath.mpf(1)), mpmath.mpf(-1))
    r = mpmath.sqrt(1 - rho * rho)
    cut = max(s1, s2) + mpmath.sqrt(2 * mpmath.log(10) * (mpmath.mp.dps + 10))
    norm = 1 / mpmath.sqrt(2 * mpmath.pi)
    # analytic pieces on finite intervals: Gauss-Legendre converges fastest; tanh-sinh at a kink
    method = "tanh-sinh" if kink else "gauss-legendre"

    def density(z: Any) -> Any:
        return mpmath.exp(-z * z / 2) * norm

    if r == 0:
        return mpmath.quad(lambda z: f(s1 * z) * g(s2 * rho * z) * density(z), [-cut, 0, cut], method=method)

    def inner(z1: Any) -> Any:
        kink_at = -rho * z1 / r
        points = [-cut, kink_at, cut] if kink and -cut < kink_at < cut else [-cut, cut]
        return f(s1 * z1) * density(z1) * mpmath.quad(lambda z2: g(s2 * (rho * z1 + r * z2)) * density(z2),
                                                        points, method=method)

    return mpmath.quad(inner, [-cut, 0, cut], method=method)


# ---- the recursion --------------------------------------------------------------------------


def _per_layer(value: Any, count: int, what: str) -> list[Any]:
    if isinstance(value, (list, tuple, np.ndarray)):
        values = list(value)
        if len(values) != count:
            raise DeepKernelError(f"{what}: expected {count} per-layer values, got {len(values)}")
    else:
        values = [value] * count
    return values


def _numeric_value(v: Any) -> float:
    """A float for validation: numbers, numeric strings ('1/3') and sympy numbers; nan otherwise
    (symbols pass, since a symbolic variance is the caller's to constrain)."""
    try:
        if isinstance(v, str):
            return float(sympy.Rational(v))
        value = float(v)
    except (TypeError, ValueError):
        return math.inf if isinstance(v, sympy.Basic) and v.free_symbols else math.nan
    return value


def check_network_settings(depth: int, parametrization: str, sigma_w2: Any, sigma_b2: Any, width: Any
                  ) -> tuple[list[Any], list[Any], list[Any] | None]:
    if not isinstance(depth, (int, np.integer)) or isinstance(depth, bool) or depth < 1:
        raise DeepKernelError(f"depth must be an integer >= 1 (the number of hidden layers), got {depth!r}")
    if parametrization not in PARAMETRIZATIONS:
        raise DeepKernelError(f"parametrization must be 'ntk' or 'standard', got {parametrization!r}")
    sw2 = _per_layer(sigma_w2, depth + 1, "sigma_w2")
    sb2 = _per_layer(sigma_b2, depth + 1, "sigma_b2")
    for v in sw2 + sb2:
        if not _numeric_value(v) >= 0:
            raise DeepKernelError(f"variances must be >= 0, got {v!r}")
    widths = None
    if parametrization == "standard":
        if width is None:
            raise DeepKernelError("the standard-parametrization NTK depends on the width: give width")
        widths = _per_layer(width, depth, "width")
        for n in widths:
            if not _numeric_value(n) > 0:
                raise DeepKernelError(f"widths must be positive, got {n!r}")
    return sw2, sb2, widths


@dataclass(frozen=True)
class DeepKernels:
    """Output kernels of a depth-L MLP: ``nngp`` = Sigma^{L+1}, ``ntk`` = Theta^{L+1}; with
    ``layers``, the lists Sigma^1..Sigma^{L+1}, Sigma_dot^2..Sigma_dot^{L+1}, Theta^1..Theta^{L+1}.
    ``method`` says how the duals were evaluated."""

    nngp: np.ndarray
    ntk: np.ndarray
    parametrization: str
    method: str
    sigmas: tuple[np.ndarray, ...] = ()
    sigma_dots: tuple[np.ndarray, ...] = ()
    thetas: tuple[np.ndarray, ...] = ()


def as_inputs(x: Any) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[1] == 0:
        raise DeepKernelError(f"inputs must be an array of shape (count, dimension), got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise DeepKernelError("inputs must be finite")
    return a


def _upper_triangle(dual: Dual, q: np.ndarray, c: np.ndarray) -> np.ndarray:
    """A symmetric Gram matrix of duals from its upper triangle (halves the quadrature work)."""
    rows, cols = np.triu_indices(q.size)
    values = dual(q[rows], q[cols], c[rows, cols])
    out = np.empty_like(c)
    out[rows, cols] = values
    out[cols, rows] = values
    return out


def deep_kernels(
    x1: Any, x2: Any = None, *, depth: int, activation: str | KernelActivation | sympy.Expr,
    sigma_w2: float | Sequence[float] = 1.0, sigma_b2: float | Sequence[float] = 0.0,
    parametrization: str = "ntk", width: int | Sequence[int] | None = None,
    nodes: int = DEFAULT_NODES, layers: bool = False,
) -> DeepKernels:
    """NNGP and NTK Gram matrices of a depth-``depth`` MLP between the rows of ``x1`` and those of
    ``x2`` (default ``x1``), by the recursions of the module docstring (Lee et al. 2018, eq. 4;
    Jacot et al. 2018, Thm 1), vectorised over all pairs at double precision.

    ``sigma_w2``, ``sigma_b2``: a number, or depth + 1 per-layer values (layers 1..L+1, the last the
    readout). ``width``: the hidden width, or depth per-layer widths, needed only for the
    standard-parametrization NTK. Duals in closed form where the activation has one, otherwise
    Gauss-Hermite with ``nodes`` nodes per dimension.
    """
    act = kernel_activation(activation)
    sw2, sb2, widths = check_network_settings(depth, parametrization, sigma_w2, sigma_b2, width)
    a = as_inputs(x1)
    symmetric = x2 is None
    b = a if symmetric else as_inputs(x2)
    if b.shape[1] != a.shape[1]:
        raise DeepKernelError(f"inputs of dimensions {a.shape[1]} and {b.shape[1]}")
    d = a.shape[1]
    if act.closed_form:
        phi_dual, dphi_dual = act.dual, act.derivative_dual
        method = "closed form"
    else:
        def phi_dual(q1: Any, q2: Any, c: Any) -> np.ndarray:
            return gauss_hermite_dual(act.np_fn, act.np_fn, q1, q2, c, nodes)

        def dphi_dual(q1: Any, q2: Any, c: Any) -> np.ndarray:
            return gauss_hermite_dual(act.np_derivative, act.np_derivative, q1, q2, c, nodes)

        method = f"Gauss-Hermite, {nodes} x {nodes} nodes"
    assert phi_dual is not None and dphi_dual is not None

    dot = a @ b.T
    sigma = sw2[0] * dot / d + sb2[0]
    if symmetric:
        qa = qb = np.diag(sigma).copy()
    else:
        qa = sw2[0] * np.einsum("ij,ij->i", a, a) / d + sb2[0]
        qb = sw2[0] * np.einsum("ij,ij->i", b, b) / d + sb2[0]
    theta = sigma.copy() if parametrization == "ntk" else dot + 1.0
    sigmas, sigma_dots, thetas = [sigma], [], [theta]
    for layer in range(1, depth + 1):
        if symmetric and not act.closed_form:
            expect, dexpect = _upper_triangle(phi_dual, qa, sigma), _upper_triangle(dphi_dual, qa, sigma)
        elif symmetric:
            expect = phi_dual(qa[:, None], qa[None, :], sigma)
            dexpect = dphi_dual(qa[:, None], qa[None, :], sigma)
        else:
            expect = phi_dual(qa[:, None], qb[None, :], sigma)
            dexpect = dphi_dual(qa[:, None], qb[None, :], sigma)
            qa = sw2[layer] * phi_dual(qa, qa, qa) + sb2[layer]
            qb = sw2[layer] * phi_dual(qb, qb, qb) + sb2[layer]
        sigma = sw2[layer] * expect + sb2[layer]
        sigma_dot = sw2[layer] * dexpect
        if parametrization == "ntk":
            theta = sigma + sigma_dot * theta
        else:
            assert widths is not None
            theta = widths[layer - 1] * expect + 1.0 + sigma_dot * theta
        if symmetric:
            qa = np.diag(sigma).copy()
        if layers:
            sigmas.append(sigma)
            sigma_dots.append(sigma_dot)
            thetas.append(theta)
    return DeepKernels(sigma, theta, parametrization, method,
                       tuple(sigmas) if layers else (), tuple(sigma_dots), tuple(thetas) if layers else ())


# ---- single entries: mpmath at a requested precision, sympy, Arb ---------------------------


def _entry_recursion(dot: Any, sq1: Any, sq2: Any, d: int, depth: int, sw2: list[Any], sb2: list[Any],
                     parametrization: str, widths: list[Any] | None,
                     cross: Callable[[Any, Any, Any], tuple[Any, Any]],
                     diagonal: Callable[[Any], Any]) -> tuple[Any, Any]:
    """The recursion on one pair, generic in the arithmetic (mpmath or sympy): ``cross(q1, q2, c)``
    returns (E phi phi, E phi' phi'), ``diagonal(q)`` returns E phi(u)^2 for u ~ N(0, q)."""
    sigma = sw2[0] * dot / d + sb2[0]
    q1 = sw2[0] * sq1 / d + sb2[0]
    q2 = sw2[0] * sq2 / d + sb2[0]
    theta = sigma if parametrization == "ntk" else dot + 1
    for layer in range(1, depth + 1):
        expect, dexpect = cross(q1, q2, sigma)
        sigma_new = sw2[layer] * expect + sb2[layer]
        if parametrization == "ntk":
            theta = sigma_new + sw2[layer] * dexpect * theta
        else:
            assert widths is not None
            theta = widths[layer - 1] * expect + 1 + sw2[layer] * dexpect * theta
        q1 = sw2[layer] * diagonal(q1) + sb2[layer]
        q2 = sw2[layer] * diagonal(q2) + sb2[layer]
        sigma = sigma_new
    return sigma, theta


def kernel_entry_mp(
    x: Sequence[Any], x_prime: Sequence[Any], *, depth: int,
    activation: str | KernelActivation | sympy.Expr,
    sigma_w2: Any = 1, sigma_b2: Any = 0, parametrization: str = "ntk", width: Any = None, dps: int = 30,
) -> tuple[mpmath.mpf, mpmath.mpf]:
    """(Sigma^{L+1}(x, x'), Theta^{L+1}(x, x')) for one pair of inputs with mpmath at ``dps``
    digits: closed-form duals where the activation has them, otherwise kink-aligned nested
    tanh-sinh quadrature (slow: seconds per layer). Arguments as :func:`deep_kernels`; numbers may
    be strings ('1/3') read exactly by mpmath."""
    act = kernel_activation(activation)
    sw2, sb2, widths = check_network_settings(depth, parametrization, sigma_w2, sigma_b2, width)
    if len(x) != len(x_prime) or len(x) == 0:
        raise DeepKernelError("the two inputs must have the same positive dimension")
    with mpmath.workdps(dps + 15):
        mp = _mp_number
        xs, ys = [mp(v) for v in x], [mp(v) for v in x_prime]
        sw2m, sb2m = [mp(v) for v in sw2], [mp(v) for v in sb2]
        widths_m = None if widths is None else [mp(v) for v in widths]
        if act.mp_dual is not None and act.mp_derivative_dual is not None:
            phi_dual, dphi_dual = act.mp_dual, act.mp_derivative_dual
        else:
            def phi_dual(q1: Any, q2: Any, c: Any) -> Any:
                return _mp_bivariate(act.mp_fn, act.mp_fn, q1, q2, c, act.kink)

            def dphi_dual(q1: Any, q2: Any, c: Any) -> Any:
                return _mp_bivariate(act.mp_derivative, act.mp_derivative, q1, q2, c, act.kink)

        sigma, theta = _entry_recursion(
            mpmath.fsum(a * b for a, b in zip(xs, ys, strict=True)), mpmath.fsum(a * a for a in xs),
            mpmath.fsum(b * b for b in ys), len(xs), depth, sw2m, sb2m, parametrization, widths_m,
            lambda q1, q2, c: (phi_dual(q1, q2, c), dphi_dual(q1, q2, c)),
            lambda q: phi_dual(q, q, q))
    with mpmath.workdps(dps):
        return +sigma, +theta


def _mp_number(v: Any) -> mpmath.mpf:
    if isinstance(v, sympy.Basic):
        return mpmath.mpf(sympy.N(v, mpmath.mp.dps + 5))
    if isinstance(v, str) and "/" in v:
        num, den = v.split("/")
        return mpmath.mpf(num) / mpmath.mpf(den)
    return mpmath.mpf(v)


def kernel_entry_symbolic(
    x: Sequence[Any], x_prime: Sequence[Any], *, depth: int, activation: str | KernelActivation,
    sigma_w2: Any = 1, sigma_b2: Any = 0, parametrization: str = "ntk", width: Any = None,
) -> tuple[sympy.Expr, sympy.Expr]:
    """(Sigma^{L+1}(x, x'), Theta^{L+1}(x, x')) as exact sympy expressions (inputs and variances may
    be rationals or symbols) for relu, step, erf, identity and polynomials: the recursion of the
    module docstring with the closed-form duals, diagonal entries by their own exact forms
    (relu q/2, step 1/2, erf (2/pi) asin(2q/(1+2q)), erf' (4/pi)(1+4q)^(-1/2), identity q, 1)."""
    act = kernel_activation(activation)
    if act.sympy_dual is None or act.sympy_derivative_dual is None or act.sympy_diagonal is None:
        raise DeepKernelError(f"no closed form for activation {act.name!r}")
    sw2, sb2, widths = check_network_settings(depth, parametrization, 1, 1, width)
    sw2 = [sympy.sympify(v) for v in _per_layer(sigma_w2, depth + 1, "sigma_w2")]
    sb2 = [sympy.sympify(v) for v in _per_layer(sigma_b2, depth + 1, "sigma_b2")]
    xs, ys = [sympy.nsimplify(v) for v in x], [sympy.nsimplify(v) for v in x_prime]
    if len(xs) != len(ys) or not xs:
        raise DeepKernelError("the two inputs must have the same positive dimension")
    diag = act.sympy_diagonal[0]
    dual, ddual = act.sympy_dual, act.sympy_derivative_dual
    return _entry_recursion(
        sum(a * b for a, b in zip(xs, ys, strict=True)), sum(a * a for a in xs), sum(b * b for b in ys),
        len(xs), depth, sw2, sb2, parametrization,
        None if widths is None else [sympy.sympify(v) for v in widths],
        lambda q1, q2, c: (dual(q1, q2, c), ddual(q1, q2, c)), diag)


def kernel_entry_enclosure(
    x: Sequence[Any], x_prime: Sequence[Any], *, depth: int, activation: str | KernelActivation,
    sigma_w2: Any = 1, sigma_b2: Any = 0, parametrization: str = "ntk", width: Any = None,
    prec_bits: int = 128,
) -> tuple[Any, Any]:
    """Arb balls (python-flint) that provably contain Sigma^{L+1}(x, x') and Theta^{L+1}(x, x'):
    :func:`kernel_entry_symbolic` enclosed by :func:`tpcheck.engines.arb_balls.enclose` (Johansson 2017).
    None for an entry Arb cannot enclose (for example x = x', where arccos sits at 1)."""
    from tpcheck.engines.arb_balls import enclose

    sigma, theta = kernel_entry_symbolic(
        x, x_prime, depth=depth, activation=activation, sigma_w2=sigma_w2, sigma_b2=sigma_b2,
        parametrization=parametrization, width=width)
    return enclose(sigma, prec_bits), enclose(theta, prec_bits)
