"""Exact hafnians and Gaussian moments of the 2^k class.

Isserlis (1918; theory facts §1.2): for X ~ N(0, C) and a list of indices i_1..i_{2k} (repeats
allowed),

    E[X_{i_1} ... X_{i_{2k}}] = haf(C[i, i]) = sum over perfect matchings P of {1..2k} of
                                prod_{(a, b) in P} C_{i_a i_b},

a sum of (2k - 1)!! terms. Two exact algorithms replace the walk over subsets:

- :func:`hafnian` -- Björklund's algorithm (A. Björklund, "Counting perfect matchings as fast
  as Ryser", SODA 2012, Algorithm 2; the same recursion is thewalrus' ``recursive_hafnian``,
  Björklund, Gupt & Quesada, "A faster hafnian formula for complex matrices and its
  benchmarking", ACM JEA 2019). Pair the vertices as (2j, 2j+1). For a matrix B over R[t]/(t^k)
  and a polynomial g, with the last pair (u, v) = (s-2, s-1) of the s remaining vertices,

      F(B, g) = F(B', g (1 + t B_uv)) - F(B|_{<u}, g),   F(empty, g) = [t^k] g,
      B'_ij = B_ij + t (B_ui B_vj + B_vi B_uj)   (i, j < u),

  and haf(A) = F(A, 1) for a 2k x 2k matrix A. It uses ring operations only (no division), so
  it runs over Z, over Z/p and over polynomial rings alike, with 2^k leaves and
  O(k^2 s^2) work per node. Integers: computed modulo primes p < 2^24 (float64-exact) with every node of one
  level of the recursion in one numpy array, and put together by the Chinese remainder theorem,
  with enough primes for the bound |haf(A)| <= haf(|A|) <= sqrt(per(|A|)) <=
  sqrt(prod_i sum_{j != i} |A_ij|) (the square of the hafnian of a nonnegative symmetric
  matrix is at most its permanent: a pair of matchings is a cycle cover oriented from its
  smallest vertex). Rationals: haf(A) = haf(D A) / D^k for a common denominator D. Other
  entries: the same recursion over the polynomial ring sympy builds for them.
- :func:`kan_moment` -- Kan's formula for repeated variables (R. Kan, "From moments of sum to
  moments of product", J. Multivariate Anal. 99, 2008, Proposition 1): with s = sum_i a_i,
  h = a/2 - v,

      E[prod_i X_i^{a_i}] = sum_{0 <= v <= a} (-1)^{|v|} prod_i binom(a_i, v_i)
                            sum_{r <= s/2} (h.mu)^{s-2r} (h' C h / 2)^r / (r! (s - 2r)!),

  (polarisation of prod x_i^{a_i} into powers of linear forms, then the moments of the normal
  h.X), prod_i (a_i + 1) terms, halved by the symmetry v -> a - v; cheaper than the hafnian of
  the repeated matrix when the exponents are large (E[Z^40] has 21 terms).

:func:`gaussian_moment` chooses between them. :func:`hafnian_by_matchings` is the brute-force
reference; :func:`hafnian_float` is the same recursion in floating point, a numeric witness
only (theory facts: exact first).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np
import sympy
from sympy.polys.constructor import construct_domain

_LEVEL_ELEMENTS = 1 << 21  # largest batch of one recursion level held in memory at once


class HafnianError(ValueError):
    """A matrix or moment the hafnian engine cannot take (not square, odd size, not symmetric)."""


# ---- references -----------------------------------------------------------------------------


def hafnian_by_matchings(matrix: Any) -> sympy.Expr:
    """Brute force: haf(A) = sum over perfect matchings P of prod_{(a,b) in P} A_ab, by pairing
    the first vertex with each other one ((2k - 1)!! terms; Isserlis 1918)."""
    a = _entries(matrix)

    def rec(points: tuple[int, ...]) -> sympy.Expr:
        if not points:
            return sympy.Integer(1)
        first, rest = points[0], points[1:]
        return sympy.Add(*[a[first][p] * rec(rest[:i] + rest[i + 1:]) for i, p in enumerate(rest)])

    if len(a) % 2:
        return sympy.Integer(0)
    return sympy.expand(rec(tuple(range(len(a)))))


# ---- Björklund's recursion, one level at a time ---------------------------------------------


def _prime_bits(k: int) -> int:
    """Bits of the moduli for 2k x 2k matrices: 2k + 1 sums of products of two residues stay
    below 2^52, so float64 arithmetic (and BLAS) is exact."""
    return (52 - (2 * k + 1).bit_length()) // 2


@cache
def _primes(count: int, bits: int) -> tuple[int, ...]:
    """The ``count`` largest primes below 2^bits."""
    out: list[int] = []
    p = 1 << bits
    while len(out) < count:
        p = sympy.prevprime(p)
        out.append(p)
    return tuple(out)


@cache
def _toeplitz_index(k: int) -> np.ndarray:
    """index[d, e] = e - 1 - d where that is >= 0, else k (a zero pad)."""
    idx = np.arange(k)[None, :] - 1 - np.arange(k)[:, None]
    return np.where(idx >= 0, idx, k)


def _shifted_products(u: np.ndarray, v: np.ndarray, k: int) -> np.ndarray:
    """q[n, i, j, e] = sum_{d + f = e - 1} u[n, i, d] v[n, j, f] (e < k): t u_i v_j truncated at
    t^k, as one batched matrix product with a Toeplitz matrix of v (a loop over d for tiny m)."""
    n, m, _ = u.shape
    if m >= 4:
        padded = np.concatenate([v, np.zeros((n, m, 1))], axis=2)
        toeplitz = padded[:, :, _toeplitz_index(k)].transpose(0, 2, 1, 3).reshape(n, k, m * k)
        return (u @ toeplitz).reshape(n, m, m, k)
    q = np.zeros((n, m, m, k))
    for d in range(k - 1):
        q[:, :, :, d + 1:] += u[:, :, None, d:d + 1] * v[:, None, :, :k - 1 - d]
    return q


def _bjorklund_levels(b: np.ndarray, g: np.ndarray, w: np.ndarray, mod: np.ndarray | None,
                      k: int) -> np.ndarray:
    """sum over the leaves below each node of a batch of w [t^k] g, in Björklund's recursion.

    b: (N, s, s, k) coefficients of the remaining matrix over R[t]/(t^k); g: (N, k + 1);
    w: (N,) signs; mod: (N,) the modulus of each node, or None for plain floating point (all
    float64; residues below 2^bits of :func:`_prime_bits` keep every sum exact). One step:
    F(B, g) = F(B', g (1 + t B_uv)) - F(B|_{<u}, g), B'_ij = B_ij + t (B_ui B_vj + B_vi B_uj)
    (Björklund 2012, Algorithm 2). Returns (N,) sums, reduced modulo each node's modulus."""
    n0 = b.shape[0]
    mod0 = mod
    origin = np.arange(n0)
    while b.shape[1]:
        n, s = b.shape[0], b.shape[1]
        m = s - 2
        if n > 1 and 2 * n * max(m, 1) ** 2 * k > _LEVEL_ELEMENTS:
            half = n // 2  # depth first above this size, breadth first below
            totals = np.zeros(n0)
            for part in (slice(0, half), slice(half, n)):
                sub = _bjorklund_levels(b[part], g[part], w[part], None if mod is None else mod[part], k)
                np.add.at(totals, origin[part], sub)
            return totals if mod0 is None else _reduce(totals, mod0)
        u, v, a = b[:, m, :m, :], b[:, m + 1, :m, :], b[:, m + 1, m, :]
        q = _shifted_products(u, v, k)
        nb = np.empty((2 * n, m, m, k))
        nb[:n] = b[:, :m, :m, :]  # the pair left out
        included = nb[n:]
        np.add(nb[:n], q, out=included)  # the pair kept
        included += q.transpose(0, 2, 1, 3)
        ng = np.empty((2 * n, k + 1))
        ng[:n] = g
        g_in = ng[n:]
        g_in[:] = g
        for d in range(k):  # g (1 + t a)
            g_in[:, d + 1:] += g[:, d:d + 1] * a[:, :k - d]
        if mod is not None:
            _reduce_in_place(included, mod[:, None, None, None])
            _reduce_in_place(g_in, mod[:, None])
        b, g = nb, ng
        w = np.concatenate([-w, w])
        origin = np.concatenate([origin, origin])
        if mod is not None:
            mod = np.concatenate([mod, mod])
    totals = np.zeros(n0)
    np.add.at(totals, origin, w * g[:, k])
    return totals if mod0 is None else _reduce(totals, mod0)


def _reduce(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    """x mod p for integer-valued float64 arrays with |x| < 2^52."""
    r = np.array(x, dtype=float)
    _reduce_in_place(r, p)
    return r


def _reduce_in_place(x: np.ndarray, p: np.ndarray) -> None:
    """x <- x mod p for integer-valued float64 x with |x| < 2^52 and p < 2^26: q = floor(x / p)
    of the correctly rounded quotient is the true floor or one more (when x / p is just below
    an integer), so x - q p is exact and in [-p, p); one correction (np.fmod is exact too, but
    several times slower)."""
    quotient = np.floor(x / p)
    quotient *= p
    x -= quotient
    x += np.where(x < 0, p, 0.0)


def _crt_symmetric(residues: Sequence[int], primes: Sequence[int]) -> int:
    """The integer x with |x| < prod(p) / 2 and x = r_i mod p_i (Chinese remainder theorem)."""
    x, modulus = 0, 1
    for r, p in zip(residues, primes, strict=True):
        x += modulus * ((r - x) * pow(modulus, -1, p) % p)
        modulus *= p
    return x - modulus if 2 * x > modulus else x


def hafnian_int(matrix: Sequence[Sequence[int]]) -> int:
    """haf(A) of a symmetric integer matrix, exactly: Björklund's recursion modulo enough primes
    p < 2^bits (float64-exact residue arithmetic) for the bound
    |haf(A)| <= sqrt(prod_i sum_{j != i} |A_ij|), then the Chinese remainder theorem (Björklund
    2012; Björklund, Gupt & Quesada 2019). The diagonal is not used."""
    a = [[int(x) for x in row] for row in matrix]
    size = _check_square(a)
    if size % 2:
        return 0
    if size == 0:
        return 1
    k = size // 2
    bound_sq = math.prod(sum(abs(x) for j, x in enumerate(row) if j != i) for i, row in enumerate(a))
    if bound_sq == 0:
        return 0
    bits = (math.isqrt(bound_sq) + 1).bit_length() + 2
    pbits = _prime_bits(k)
    primes = _primes(-(-bits // (pbits - 1)), pbits)
    mod = np.array(primes, dtype=float)
    b = np.zeros((len(primes), size, size, k))
    for i, p in enumerate(primes):
        b[i, :, :, 0] = [[x % p for x in row] for row in a]
    g = np.zeros((len(primes), k + 1))
    g[:, 0] = 1
    residues = _bjorklund_levels(b, g, np.ones(len(primes)), mod, k)
    return _crt_symmetric([int(r) % p for r, p in zip(residues, primes, strict=True)], primes)


def hafnian_float(matrix: Any) -> float:
    """haf(A) in double precision by the same recursion (a numeric witness, never a verdict:
    cancellation can lose every digit on a badly scaled matrix)."""
    a = np.asarray(matrix, dtype=float)
    size = _check_square(a.tolist())
    if size % 2:
        return 0.0
    if size == 0:
        return 1.0
    k = size // 2
    b = np.zeros((1, size, size, k))
    b[0, :, :, 0] = a
    g = np.zeros((1, k + 1))
    g[0, 0] = 1.0
    return float(_bjorklund_levels(b, g, np.ones(1), None, k)[0])


def _hafnian_ring(a: list[list[Any]], zero: Any, one: Any) -> Any:
    """Björklund's recursion over any commutative ring (elements with + and *): depth first,
    truncated polynomials as lists (the symbolic fallback)."""
    size = len(a)
    k = size // 2

    def times_t(x: list[Any], y: list[Any]) -> list[Any]:
        out = [zero] * k
        for d in range(k - 1):
            if x[d]:
                for e in range(k - 1 - d):
                    if y[e]:
                        out[d + e + 1] += x[d] * y[e]
        return out

    def rec(b: list[list[list[Any]]], g: list[Any], sign: int) -> Any:
        s = len(b)
        if s == 0:
            return g[k] if sign > 0 else -g[k]
        m = s - 2
        excluded = [row[:m] for row in b[:m]]
        total = rec(excluded, g, -sign)
        u, v, av = b[m], b[m + 1], b[m + 1][m]
        included = [[[x + y + z for x, y, z in zip(b[i][j], times_t(u[i], v[j]), times_t(v[i], u[j]),
                                                    strict=True)] if i != j else b[i][j]
                     for j in range(m)] for i in range(m)]
        g_in = list(g)
        for d in range(k):
            if g[d]:
                for e in range(k - d):
                    if av[e]:
                        g_in[d + e + 1] += g[d] * av[e]
        return total + rec(included, g_in, sign)

    start = [[[x] + [zero] * (k - 1) for x in row] for row in a]
    return rec(start, [one] + [zero] * k, 1)


def hafnian(matrix: Any) -> sympy.Expr:
    """haf(A) = sum over perfect matchings P of prod_{(a,b) in P} A_ab, exactly (Björklund 2012).

    Integer entries: :func:`hafnian_int`; rational entries: haf(D A) / D^k with D the least
    common denominator; other entries (symbols, algebraic numbers): Björklund's recursion over
    the polynomial ring or field sympy's ``construct_domain`` builds for them."""
    a = _entries(matrix)
    size = _check_square(a)
    _check_symmetric(a)
    if size % 2:
        return sympy.Integer(0)
    if size == 0:
        return sympy.Integer(1)
    k = size // 2
    if all(x.is_Rational for row in a for x in row):
        den = math.lcm(*[int(x.q) for row in a for x in row])
        scaled = [[int(x.p) * (den // int(x.q)) for x in row] for row in a]
        return sympy.Rational(hafnian_int(scaled), den**k)
    domain, elems = construct_domain([x for row in a for x in row])
    ring = [elems[i * size:(i + 1) * size] for i in range(size)]
    return sympy.expand(domain.to_sympy(_hafnian_ring(ring, domain.zero, domain.one)))


# ---- Kan's formula for repeated variables ---------------------------------------------------


def kan_moment(exponents: Sequence[int], cov: Any, mean: Sequence[Any] | None = None) -> sympy.Expr:
    """E[prod_i X_i^{a_i}] for X ~ N(mean, cov) by Kan's formula (Kan 2008, Proposition 1):

        sum_{0 <= v <= a} (-1)^{|v|} prod_i binom(a_i, v_i)
            sum_{r <= s/2} (h.mu)^{s-2r} (h' C h / 2)^r / (r! (s - 2r)!),   h = a/2 - v, s = |a|,

    with prod_i (a_i + 1) / 2 terms (v and a - v give the same term). Exact over Q for rational
    entries (integer sums, one division at the end); over sympy's domain otherwise."""
    a, c, mu = _moment_arguments(exponents, cov, mean)
    keep = [i for i, x in enumerate(a) if x]
    a = [a[i] for i in keep]
    c = [[c[i][j] for j in keep] for i in keep]
    mu = [mu[i] for i in keep]
    s = sum(a)
    centred = all(x == 0 for x in mu)
    if centred and s % 2:
        return sympy.Integer(0)
    if not a:
        return sympy.Integer(1)
    flat = [x for row in c for x in row] + mu
    if centred and all(x.is_Rational for x in flat):
        return _kan_centred_rational(a, c)
    domain, elems = construct_domain(flat + [sympy.Integer(1)])
    d = len(a)
    cd = [elems[i * d:(i + 1) * d] for i in range(d)]
    md = elems[d * d:d * d + d]
    # scaled by L = 2^(s + s//2) s! so that every coefficient is an integer:
    # L / (2^(s-2r) 8^r r! (s-2r)!) = 2^(s//2 - r) s! / (r! (s-2r)!)
    scale = 2 ** (s + s // 2) * math.factorial(s)
    coef = [2 ** (s // 2 - r) * math.factorial(s) // (math.factorial(r) * math.factorial(s - 2 * r))
            for r in range(s // 2 + 1)]
    total = domain.zero
    for v, weight in _kan_terms(a):
        h2 = [ai - 2 * vi for ai, vi in zip(a, v, strict=True)]  # 2h, an integer vector
        lin = sum((md[i] * h2[i] for i in range(d) if h2[i]), domain.zero)
        quad = sum((cd[i][j] * (h2[i] * h2[j]) for i in range(d) for j in range(d)
                    if h2[i] and h2[j]), domain.zero)
        inner = domain.zero
        for r in range(s // 2 + 1):
            if (centred or not lin) and s - 2 * r:
                continue
            inner += _power(lin, s - 2 * r, domain) * _power(quad, r, domain) * coef[r]
        total += inner * weight
    return sympy.expand(domain.to_sympy(total) / scale)


def _power(x: Any, e: int, domain: Any) -> Any:
    """x^e in ``domain`` with x^0 = 1 (sympy's ring elements refuse 0**0)."""
    return domain.one if e == 0 else x**e


def _kan_terms(a: list[int]) -> list[tuple[tuple[int, ...], int]]:
    """(v, (-1)^|v| prod binom(a_i, v_i) * multiplicity) for 0 <= v <= a up to v -> a - v, with
    the last coordinate in 0..a_d / 2 (multiplicity 2, or 1 on the fixed slice v_d = a_d / 2)."""
    *head, last = a
    ranges = [range(x + 1) for x in head] + [range(last // 2 + 1)]
    out = []
    for v in itertools.product(*ranges):
        weight = math.prod(math.comb(x, y) for x, y in zip(a, v, strict=True))
        weight *= -1 if sum(v) % 2 else 1
        if 2 * v[-1] != last:
            weight *= 2
        out.append((v, weight))
    return out


def _kan_centred_rational(a: list[int], c: list[list[sympy.Expr]]) -> sympy.Expr:
    """Kan's centred formula for a rational covariance in integers: with C = C'/D and H = a - 2v,
    E = sum_v weight_v (H' C' H)^k / (8^k k! D^k), k = s/2; the terms are grouped by the value of
    the quadratic form (numpy enumerates the v's)."""
    d, k = len(a), sum(a) // 2
    den = math.lcm(*[int(x.q) for row in c for x in row])
    ci = [[int(x.p) * (den // int(x.q)) for x in row] for row in c]
    shape = [x + 1 for x in a[:-1]] + [a[-1] // 2 + 1]
    count = math.prod(shape)
    v = np.stack(np.unravel_index(np.arange(count), shape), axis=1).astype(np.int64)
    h = np.asarray(a, dtype=np.int64)[None, :] - 2 * v
    cmax = max(abs(x) for row in ci for x in row)
    if cmax * sum(a) ** 2 < 1 << 62:
        q = np.einsum("ti,ij,tj->t", h, np.asarray(ci, dtype=np.int64), h)
    else:
        q = np.einsum("ti,ij,tj->t", h.astype(object), np.asarray(ci, dtype=object), h.astype(object))
    weights: dict[int, int] = {}
    for (_, weight), value in zip(_kan_terms(a), q.tolist(), strict=True):
        weights[value] = weights.get(value, 0) + weight
    total = sum(weight * value**k for value, weight in weights.items())
    return sympy.Rational(total, 8**k * math.factorial(k) * den**k) if d else sympy.Integer(1)


# ---- Gaussian moments -----------------------------------------------------------------------


def gaussian_moment(exponents: Sequence[int], cov: Any, mean: Sequence[Any] | None = None) -> sympy.Expr:
    """E[prod_i X_i^{a_i}] for X ~ N(mean, cov), exactly (Isserlis 1918).

    Centred: the hafnian of the covariance of the repeated list (:func:`hafnian`, 2^{s/2}
    leaves) or Kan's formula (:func:`kan_moment`, prod (a_i + 1) / 2 terms), whichever has
    fewer terms; with a mean, Kan's formula."""
    a, c, mu = _moment_arguments(exponents, cov, mean)
    s = sum(a)
    centred = all(x == 0 for x in mu)
    if centred and s % 2:
        return sympy.Integer(0)
    kan_terms = math.prod(x + 1 for x in a if x) // 2 + 1
    if not centred or kan_terms <= 4 * 2 ** (s // 2):
        return kan_moment(a, c, mu)
    rep = [i for i, x in enumerate(a) for _ in range(x)]
    return hafnian([[c[i][j] for j in rep] for i in rep])


# ---- argument handling ----------------------------------------------------------------------


def _entries(matrix: Any) -> list[list[sympy.Expr]]:
    rows = matrix.tolist() if hasattr(matrix, "tolist") else matrix
    return [[sympy.sympify(x) for x in row] for row in rows]


def _check_square(a: list[list[Any]]) -> int:
    size = len(a)
    if any(len(row) != size for row in a):
        raise HafnianError(f"hafnian: the matrix is not square ({size} rows, row lengths "
                           f"{sorted({len(row) for row in a})})")
    return size


def _check_symmetric(a: list[list[sympy.Expr]]) -> None:
    for i, row in enumerate(a):
        for j in range(i):
            if row[j] != a[j][i] and sympy.expand(row[j] - a[j][i]) != 0:
                raise HafnianError(f"hafnian: the matrix is not symmetric at ({i}, {j})")


def _moment_arguments(exponents: Sequence[int], cov: Any, mean: Sequence[Any] | None
                      ) -> tuple[list[int], list[list[sympy.Expr]], list[sympy.Expr]]:
    a = [int(x) for x in exponents]
    c = _entries(cov)
    d = len(a)
    mu = [sympy.Integer(0)] * d if mean is None else [sympy.sympify(x) for x in mean]
    if any(x < 0 for x in a) or len(c) != d or len(mu) != d or any(len(r) != d for r in c):
        raise HafnianError("gaussian moment: exponents, mean and covariance must agree in "
                           "dimension, exponents >= 0")
    _check_symmetric(c)
    return a, c, mu
