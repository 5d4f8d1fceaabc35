"""The Gaussian engine: exact moments of polynomials in jointly Gaussian vectors, and
high-precision expectations of non-polynomial functions of one or two Gaussians.

Exact part (Isserlis 1918; theory facts §1.2). For X ~ N(mu, C) with entries that may be
symbols, E[prod_i X_i^{a_i}] follows from the Gaussian integration by parts

    E[X_i f(X)] = mu_i E[f(X)] + sum_j C_ij E[d_j f(X)],

applied to f = X^{a - e_i} and memoised on exponent vectors, so repeated factors are never
expanded into all their pairings. :func:`isserlis_by_matchings` is the brute-force reference:
the sum over partial matchings of prod C_ab prod mu_i.

Numeric part. E[f(u)] and E[f(u) g(v)] for (u, v) ~ N(0, [[q1, c], [c, q2]]) at a requested
precision with mpmath: writing u = sqrt(q1) z1, v = sqrt(q2)(rho z1 + sqrt(1 - rho^2) z2), the
inner expectation over z2 is done in closed form where g allows it (relu, step, erf, exp, sin,
cos, polynomials), leaving one tanh-sinh quadrature with a breakpoint at the kink of f;
otherwise a two-dimensional quadrature. Closed forms: the arc-cosine kernels (Cho & Saul
2009), the erf kernel (Williams 1997) and E[exp(tZ)] = exp(t^2/2).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import sympy
from sympy.polys.constructor import construct_domain

from tpcheck.engines.combinatorics import partial_matchings, perfect_matchings
from tpcheck.engines.hafnian import gaussian_moment as hafnian_moment
from tpcheck.trusted import rests_on

# ---- exact moments -----------------------------------------------------------------------


def _as_matrix(cov: Any) -> list[list[sympy.Expr]]:
    rows = [list(r) for r in (cov.tolist() if hasattr(cov, "tolist") else cov)]
    return [[sympy.Integer(x) if isinstance(x, int) else x for x in r] for r in rows]


def isserlis_moment(
    exponents: Sequence[int], cov: Any, mean: Sequence[Any] | None = None
) -> sympy.Expr:
    """E[prod_i X_i^{a_i}] for X ~ N(mean, cov), exactly (entries may be symbolic).

    Integer and rational entries go to :func:`tpcheck.engines.hafnian.gaussian_moment` (a
    hafnian by Bjorklund's recursion, or Kan's formula with a mean); symbolic entries to
    :func:`isserlis_by_parts`."""
    return _isserlis(exponents, cov, mean, numbers_by_hafnian=True)


def isserlis_by_parts(
    exponents: Sequence[int], cov: Any, mean: Sequence[Any] | None = None
) -> sympy.Expr:
    """E[prod_i X_i^{a_i}] by the Gaussian integration by parts E[X_i f] = mu_i E[f] +
    sum_j C_ij E[d_j f], memoised on exponent vectors, for any entries (Isserlis 1918): the
    symbolic path of :func:`isserlis_moment`, and the reference its numeric path is tested
    against."""
    return _isserlis(exponents, cov, mean, numbers_by_hafnian=False)


def _isserlis(exponents: Sequence[int], cov: Any, mean: Sequence[Any] | None,
              numbers_by_hafnian: bool) -> sympy.Expr:
    rests_on("isserlis")
    c = _as_matrix(cov)
    d = len(exponents)
    mu = [sympy.Integer(0)] * d if mean is None else [sympy.Integer(m) if isinstance(m, int) else m
                                                      for m in mean]
    if any(a < 0 for a in exponents) or len(c) != d or len(mu) != d:
        raise ValueError("exponents, mean and covariance must agree in dimension; exponents >= 0")
    centred = all(m == 0 for m in mu)
    if centred and sum(exponents) % 2:
        return sympy.Integer(0)
    flat = [x for row in c for x in row] + list(mu)
    domain, elems = construct_domain(flat + [sympy.Integer(1)])
    if numbers_by_hafnian and (domain.is_ZZ or domain.is_QQ):
        # numbers: the hafnian of the 2^k class, or Kan's formula (tpcheck.engines.hafnian)
        return hafnian_moment(exponents, c, mu)
    C = [elems[i * d : (i + 1) * d] for i in range(d)]
    M = elems[d * d : d * d + d]
    one = elems[-1]
    zero = domain.zero
    memo: dict[tuple[int, ...], Any] = {}

    def moment(a: tuple[int, ...]) -> Any:
        if a in memo:
            return memo[a]
        if not any(a):
            return one
        if centred and sum(a) % 2:
            return zero
        i = next(j for j, x in enumerate(a) if x)
        b = list(a)
        b[i] -= 1
        tb = tuple(b)
        total = M[i] * moment(tb) if M[i] != zero else zero
        for j in range(d):
            if b[j] and C[i][j] != zero:
                e = list(b)
                e[j] -= 1
                total += C[i][j] * b[j] * moment(tuple(e))
        memo[a] = total
        return total

    return domain.to_sympy(moment(tuple(int(a) for a in exponents)))


def isserlis_by_matchings(
    exponents: Sequence[int], cov: Any, mean: Sequence[Any] | None = None
) -> sympy.Expr:
    """Brute-force reference: sum over (partial) matchings of the repeated factors."""
    c = _as_matrix(cov)
    factors = [i for i, a in enumerate(exponents) for _ in range(a)]
    points = list(range(len(factors)))
    total = sympy.Integer(0)
    if mean is None or all(m == 0 for m in mean):
        if len(points) % 2:
            return total
        for m in perfect_matchings(points):
            total += sympy.Mul(*[c[factors[a]][factors[b]] for a, b in m])
        return sympy.expand(total)
    for m, free in partial_matchings(points):
        total += sympy.Mul(*[c[factors[a]][factors[b]] for a, b in m]) * sympy.Mul(
            *[mean[factors[i]] for i in free])
    return sympy.expand(total)


def polynomial_expectation(
    p: sympy.Expr, variables: Sequence[sympy.Symbol], cov: Any, mean: Sequence[Any] | None = None
) -> sympy.Expr:
    """E[p(X)] for a polynomial p in ``variables``, X ~ N(mean, cov), by linearity."""
    poly = sympy.Poly(sympy.expand(p), *variables)
    total = sympy.Integer(0)
    for monom, coeff in poly.terms():
        total += coeff * isserlis_moment(monom, cov, mean)
    return sympy.expand(total)


# ---- activations -------------------------------------------------------------------------


@dataclass(frozen=True)
class Activation:
    """A function of one real variable with its mpmath and numpy forms, the point where it is
    not smooth (if any) and, when known, its Gaussian smoothing E[f(a + bZ)] (b > 0)."""

    name: str
    mp: Callable[[Any], Any]
    np: Callable[[np.ndarray], np.ndarray]
    kink: bool = False
    smooth: Callable[[Any, Any], Any] | None = None


def _phi(x: Any) -> Any:
    return mpmath.exp(-x * x / 2) / mpmath.sqrt(2 * mpmath.pi)


def _Phi(x: Any) -> Any:  # noqa: N802
    return mpmath.ncdf(x)


def np_erf(x: Any) -> np.ndarray:
    """erf elementwise at double precision (math.erf; numpy has none and scipy is not required)."""
    import math

    return np.vectorize(math.erf, otypes=[float])(np.asarray(x, dtype=float))


ACTIVATIONS: dict[str, Activation] = {
    "identity": Activation("identity", lambda x: x, lambda x: x, smooth=lambda a, b: a),
    "relu": Activation("relu", lambda x: x if x > 0 else mpmath.mpf(0),
                       lambda x: np.maximum(x, 0.0), kink=True,
                       smooth=lambda a, b: a * _Phi(a / b) + b * _phi(a / b)),
    "step": Activation("step", lambda x: mpmath.mpf(1) if x > 0 else mpmath.mpf(0),
                       lambda x: (x > 0).astype(float), kink=True,
                       smooth=lambda a, b: _Phi(a / b)),
    "erf": Activation("erf", mpmath.erf, np_erf,
                      smooth=lambda a, b: mpmath.erf(a / mpmath.sqrt(1 + 2 * b * b))),
    "tanh": Activation("tanh", mpmath.tanh, np.tanh),
    "sin": Activation("sin", mpmath.sin, np.sin,
                      smooth=lambda a, b: mpmath.sin(a) * mpmath.exp(-b * b / 2)),
    "cos": Activation("cos", mpmath.cos, np.cos,
                      smooth=lambda a, b: mpmath.cos(a) * mpmath.exp(-b * b / 2)),
    "exp": Activation("exp", mpmath.exp, np.exp,
                      smooth=lambda a, b: mpmath.exp(a + b * b / 2)),
}


def polynomial_activation(coeffs: Sequence[int | sympy.Rational]) -> Activation:
    """f(x) = sum_j coeffs[j] x^j, with its exact Gaussian smoothing."""
    cs = [mpmath.mpf(sympy.Rational(c).p) / sympy.Rational(c).q for c in coeffs]

    def f(x: Any) -> Any:
        return mpmath.fsum(c * x**j for j, c in enumerate(cs))

    def smooth(a: Any, b: Any) -> Any:
        # E[(a + bZ)^j] = sum_i binom(j, i) a^(j-i) b^i E[Z^i], E[Z^i] = (i-1)!! for even i
        total = mpmath.mpf(0)
        for j, c in enumerate(cs):
            total += c * mpmath.fsum(
                mpmath.binomial(j, i) * a ** (j - i) * b**i * mpmath.fac2(i - 1)
                for i in range(0, j + 1, 2))
        return total

    return Activation(f"poly{list(coeffs)}", f,
                      lambda x: sum(float(c) * x**j for j, c in enumerate(cs)), smooth=smooth)


def activation(f: str | Activation) -> Activation:
    if isinstance(f, Activation):
        return f
    if f not in ACTIVATIONS:
        raise ValueError(f"unknown activation {f!r} (known: {', '.join(sorted(ACTIVATIONS))})")
    return ACTIVATIONS[f]


# ---- high-precision expectations ---------------------------------------------------------


def gaussian_expectation(f: str | Activation, q: Any = 1, dps: int = 30) -> mpmath.mpf:
    """E[f(u)], u ~ N(0, q), to ``dps`` digits (tanh-sinh, breakpoint at 0)."""
    act = activation(f)
    with mpmath.workdps(dps + 10):
        sd = mpmath.sqrt(mpmath.mpf(q))
        value = mpmath.quad(lambda z: act.mp(sd * z) * _phi(z), [-mpmath.inf, 0, mpmath.inf])
    return value


def bivariate_expectation(
    f: str | Activation, g: str | Activation, q1: Any, q2: Any, c: Any, dps: int = 30
) -> mpmath.mpf:
    """E[f(u) g(v)] for (u, v) ~ N(0, [[q1, c], [c, q2]]), to ``dps`` digits."""
    fa, ga = activation(f), activation(g)
    if ga.smooth is None and fa.smooth is not None:
        fa, ga, q1, q2 = ga, fa, q2, q1
    with mpmath.workdps(dps + 10):
        q1, q2, c = mpmath.mpf(q1), mpmath.mpf(q2), mpmath.mpf(c)
        s1, s2 = mpmath.sqrt(q1), mpmath.sqrt(q2)
        rho = c / (s1 * s2)
        if abs(rho) > 1:
            raise ValueError("not a covariance matrix: |c| > sqrt(q1 q2)")
        r = mpmath.sqrt(1 - rho * rho)
        if r == 0:
            value = mpmath.quad(lambda z: fa.mp(s1 * z) * ga.mp(s2 * rho * z) * _phi(z),
                                [-mpmath.inf, 0, mpmath.inf])
        elif ga.smooth is not None:
            value = mpmath.quad(
                lambda z: fa.mp(s1 * z) * ga.smooth(s2 * rho * z, s2 * r) * _phi(z),
                [-mpmath.inf, 0, mpmath.inf])
        else:
            def inner(z1: Any) -> Any:
                kink = -rho * z1 / r  # where v = 0
                return fa.mp(s1 * z1) * _phi(z1) * mpmath.quad(
                    lambda z2: ga.mp(s2 * (rho * z1 + r * z2)) * _phi(z2),
                    [-mpmath.inf, kink, mpmath.inf])

            value = mpmath.quad(inner, [-mpmath.inf, 0, mpmath.inf])
    return value


def bivariate_expectation_mc(
    f: str | Activation, g: str | Activation, q1: float, q2: float, c: float,
    samples: int, seed: int,
) -> tuple[float, float]:
    """Simulation mirror of :func:`bivariate_expectation`: (estimate, standard error)."""
    fa, ga = activation(f), activation(g)
    rng = np.random.default_rng(seed)
    z1, z2 = rng.standard_normal(samples), rng.standard_normal(samples)
    s1, s2 = np.sqrt(q1), np.sqrt(q2)
    rho = c / (s1 * s2)
    u = s1 * z1
    v = s2 * (rho * z1 + np.sqrt(max(0.0, 1 - rho * rho)) * z2)
    vals = fa.np(u) * ga.np(v)
    return float(vals.mean()), float(vals.std(ddof=1) / np.sqrt(samples))


def isserlis_moment_mc(
    exponents: Sequence[int], cov: Any, mean: Sequence[float] | None, samples: int, seed: int
) -> tuple[float, float]:
    """Simulation mirror of :func:`isserlis_moment` for a numeric covariance."""
    c = np.asarray(cov, dtype=float)
    d = len(exponents)
    mu = np.zeros(d) if mean is None else np.asarray(mean, dtype=float)
    w, v = np.linalg.eigh(c)
    root = v * np.sqrt(np.clip(w, 0, None))
    rng = np.random.default_rng(seed)
    x = mu[:, None] + root @ rng.standard_normal((d, samples))
    vals = np.prod([x[i] ** a for i, a in enumerate(exponents)], axis=0)
    return float(vals.mean()), float(vals.std(ddof=1) / np.sqrt(samples))


# ---- closed forms ------------------------------------------------------------------------


def relu_kernel(q1: sympy.Expr, q2: sympy.Expr, c: sympy.Expr) -> sympy.Expr:
    """E[relu(u) relu(v)] = sqrt(q1 q2)/(2 pi) (sin t + (pi - t) cos t), t = arccos(rho)
    (Cho & Saul 2009, arc-cosine kernel of degree 1)."""
    rests_on("gaussian-closed-forms")
    rho = c / sympy.sqrt(q1 * q2)
    t = sympy.acos(rho)
    return sympy.sqrt(q1 * q2) / (2 * sympy.pi) * (sympy.sin(t) + (sympy.pi - t) * sympy.cos(t))


def step_kernel(q1: sympy.Expr, q2: sympy.Expr, c: sympy.Expr) -> sympy.Expr:
    """E[step(u) step(v)] = (pi - arccos(rho)) / (2 pi) (arc-cosine kernel of degree 0)."""
    rests_on("gaussian-closed-forms")
    return (sympy.pi - sympy.acos(c / sympy.sqrt(q1 * q2))) / (2 * sympy.pi)


def erf_kernel(q1: sympy.Expr, q2: sympy.Expr, c: sympy.Expr) -> sympy.Expr:
    """E[erf(u) erf(v)] = (2/pi) arcsin(2c / sqrt((1 + 2 q1)(1 + 2 q2))) (Williams 1997)."""
    rests_on("gaussian-closed-forms")
    return 2 / sympy.pi * sympy.asin(2 * c / sympy.sqrt((1 + 2 * q1) * (1 + 2 * q2)))


def erf_derivative_kernel(q1: sympy.Expr, q2: sympy.Expr, c: sympy.Expr) -> sympy.Expr:
    """E[erf'(u) erf'(v)] = (4/pi) ((1 + 2 q1)(1 + 2 q2) - 4 c^2)^(-1/2)."""
    rests_on("gaussian-closed-forms")
    return 4 / sympy.pi / sympy.sqrt((1 + 2 * q1) * (1 + 2 * q2) - 4 * c**2)


def gaussian_mgf(t: sympy.Expr, variance: sympy.Expr | int = 1) -> sympy.Expr:
    """E[exp(t Z)] = exp(variance t^2 / 2) for Z ~ N(0, variance)."""
    rests_on("gaussian-closed-forms")
    return sympy.exp(variance * t**2 / 2)


def bivariate_expectation_hermite(
    f: str | Activation, g: str | Activation, q1: float, q2: float, c: float, nodes: int = 80
) -> float:
    """E[f(u) g(v)] in double precision by a product Gauss-Hermite rule: fast, about 10 digits
    for analytic f and g (tanh, erf, sin), only about 5 near a kink (relu, step); use
    :func:`bivariate_expectation` where precision matters."""
    fa, ga = activation(f), activation(g)
    x, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / np.sqrt(2 * np.pi)
    s1, s2 = np.sqrt(q1), np.sqrt(q2)
    rho = c / (s1 * s2)
    r = np.sqrt(max(0.0, 1 - rho * rho))
    z1, z2 = np.meshgrid(x, x, indexing="ij")
    weights = np.outer(w, w)
    return float(np.sum(weights * fa.np(s1 * z1) * ga.np(s2 * (rho * z1 + r * z2))))
