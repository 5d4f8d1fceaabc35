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
  O(k^2 s^2) work per node. Integers: computed modulo primes p of about 22 bits (float64-exact,
  :func:`_modulus_limit`) with every node of one level of the recursion in one numpy array and
  the truncated polynomial products as batched matrix products with Toeplitz matrices, and put
  together by the Chinese remainder theorem, with enough primes for the bound of
  :func:`hafnian_bound`: |haf(A)| <= haf(|A|) <= sqrt(per(|A|)), and per(|A|) at most the
  product of the row sums and at most n!/n^(n/2) times the product of the rows' Euclidean
  norms (Carlen, Lieb & Loss 2006). Rationals: haf(A) = haf(D A) / D^k for a common
  denominator D. Other entries: the same recursion over the polynomial ring sympy builds for
  them.
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

_LEVEL_ELEMENTS = 1 << 18  # largest batch of one recursion level held at once (cache sized)
_COEFFICIENT_BLOCKS = 2  # blocks of coefficients in the Toeplitz products


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


def _modulus_limit(k: int) -> int:
    """L = isqrt(2^51 / max(2 (k - 1)^2, 2 k)): for moduli p <= L every value the recursion forms
    stays below 2^52 (see :func:`_bjorklund_levels`), so float64 arithmetic on them is exact."""
    return math.isqrt((1 << 51) // max(2 * (k - 1) ** 2, 2 * k))


@cache
def _primes_below(limit: int, count: int) -> tuple[int, ...]:
    """The ``count`` largest primes below ``limit``."""
    out: list[int] = []
    p = limit
    while len(out) < count:
        p = sympy.prevprime(p)
        out.append(p)
    return tuple(out)


@cache
def _coefficient_blocks(k: int) -> tuple[tuple[int, int, int], ...]:
    """(lo, hi, r): the coefficients t^e, lo <= e < hi, of t u v get contributions only from
    u_d v_f with d + f = e - 1, that is from the last k - r rows (r = k - hi + 1) of the reversed
    Toeplitz matrix; splitting e into blocks skips most of its zero triangle."""
    cuts = sorted({round(k * i / _COEFFICIENT_BLOCKS) for i in range(_COEFFICIENT_BLOCKS + 1)})
    return tuple((lo, hi, k - hi + 1) for lo, hi in zip(cuts, cuts[1:], strict=False) if hi > lo)


def _reduce(x: np.ndarray, p: np.ndarray) -> None:
    """x <- x mod p in place, for integer-valued float64 x >= 0 and integer p with x + p < 2^53.

    With x = q p + r, 0 < r < p, rounding x / p = q + r/p up to q + 1 takes an error
    (p - r)/p >= 1/p, more than half an ulp of q + 1 (at most 2^-53 (x + p) / p < 1/p); so the
    floor of the correctly rounded quotient is q, and q p <= x and x - q p are exact."""
    q = x / p
    np.floor(q, out=q)
    q *= p
    x -= q


def _shifted_products(x: np.ndarray, y: np.ndarray, k: int, out: np.ndarray) -> None:
    """out[n, i, e, j] = sum_{c = 0, 1} sum_{d + f = e - 1} x[n, c, d, i] y[n, c, f, j] for e < k:
    the coefficients of t (x_0i y_0j + x_1i y_1j) truncated at t^k, as batched matrix products
    of the reversed x with a Toeplitz matrix of y (rows (c, d'), columns (e, j)), read from a
    zero-padded copy of y as a strided view; a block of coefficients e < hi uses only the rows
    d' >= k - hi + 1, the others being zero."""
    n, _, _, mi = x.shape
    mj = y.shape[3]
    pad = np.zeros((n, 2, 2 * k, mj))
    pad[:, :, k:, :] = y  # pad[n, c, d' + e, j] = y[n, c, e - 1 - d, j] with d' = k - 1 - d
    left = np.ascontiguousarray(x[:, :, ::-1, :].transpose(0, 3, 1, 2))  # (n, mi, 2, k): x reversed
    flat = out.reshape(n, mi, k * mj)
    item = pad.itemsize
    for lo, hi, r in _coefficient_blocks(k):
        if r >= k:  # e = 0: no products
            flat[:, :, lo * mj:hi * mj] = 0
            continue
        toeplitz = np.ndarray((n, 2, k - r, (hi - lo) * mj), float, pad, (r + lo) * mj * item,
                              (pad.strides[0], pad.strides[1], mj * item, item))
        np.matmul(left[:, :, :, r:].reshape(n, mi, 2 * (k - r)),
                  toeplitz.reshape(n, 2 * (k - r), (hi - lo) * mj), out=flat[:, :, lo * mj:hi * mj])


def _times_one_plus_ta(g: np.ndarray, a: np.ndarray, k: int) -> np.ndarray:
    """g (1 + t a) truncated at t^(k+1), for g (N, k + 1) and a (N, k)."""
    pad = np.zeros((g.shape[0], 2 * k))
    pad[:, k:] = a
    toeplitz = np.ndarray((g.shape[0], k, k + 1), float, pad, (k - 1) * pad.itemsize,
                          (pad.strides[0], -pad.itemsize, pad.itemsize))  # [d, e] = a[e - 1 - d]
    out = np.matmul(g[:, None, :k], toeplitz)[:, 0, :]
    out += g
    return out


def _top_coefficient(g: np.ndarray, a: np.ndarray, k: int) -> np.ndarray:
    """[t^(k-1)] g a = sum_d g[d] a[k - 1 - d], for each row."""
    return np.einsum("nd,nd->n", g[:, :k], a[:, ::-1])


def _bjorklund_levels(b: np.ndarray, g: np.ndarray, mod: np.ndarray | None, k: int) -> np.ndarray:
    """sum over the leaves below each node of a batch of ±[t^k] g, in Björklund's recursion.

    b: (N, s, k, s) with b[n, i, e, j] the coefficient of t^e of B_ij; g: (N, k + 1); mod: (N,)
    the modulus of each node, or None for plain floating point. One step, with the last pair
    (u, v) = (s - 2, s - 1) and m = s - 2 (Björklund 2012, Algorithm 2):

        F(B, g) = F(B', g (1 + t B_uv)) - F(B|_{<u}, g),   B'_ij = B_ij + t (B_ui B_vj + B_vi B_uj),

    every node of a level in one array (the pair left out first), depth first in halves when a
    level would exceed ``_LEVEL_ELEMENTS``. At s = 4 the last two steps in closed form:
    F = [t^(k-1)] (g (1 + t B_32) C_10) - [t^(k-1)] (g B_10), C_10 = B_10 + t (B_20 B_31 + B_30 B_21);
    at s = 2, F = [t^(k-1)] g B_10.

    Exactness modulo p <= :func:`_modulus_limit` (all values are integers >= 0 in float64):
    the rows u, v and g are reduced before every product, so one step adds to B at most
    2 (k - 1) (p - 1)^2 (two products per pair d + f = e - 1, at most k - 1 pairs); a path
    has at most k - 1 steps, so every entry stays below p + 2 (k - 1)^2 p^2 < 2^52, as does every
    partial sum inside a matrix product (all terms are >= 0), every coefficient of
    g (1 + t a) < p + k p^2 and every leaf value (< 2 k p^2 at s = 4); B itself is never reduced.
    Leaf residues are summed with their signs in int64 (below 2^(k-1) p per node). Returns (N,)
    sums: int64 residues in [0, p) with a modulus, float64 values without."""
    n0 = b.shape[0]
    exact = mod is not None
    mods = mod if exact else np.ones(n0)
    origin = np.arange(n0)
    w = np.ones(n0, dtype=np.int64)
    totals = np.zeros(n0, dtype=np.int64 if exact else float)

    def reduce(x: np.ndarray, p: np.ndarray) -> None:
        if exact:
            _reduce(x, p)

    while b.shape[1] > 4:
        n, s = b.shape[0], b.shape[1]
        m = s - 2
        if n > 1 and n * (2 * m * m * k + 2 * m * k * k) > _LEVEL_ELEMENTS:
            half = n // 2  # depth first above this size, breadth first below
            for part in (slice(0, half), slice(half, n)):
                sub = _bjorklund_levels(b[part], g[part], mods[part] if exact else None, k)
                np.add.at(totals, origin[part], w[part] * sub)
            return np.mod(totals, mod.astype(np.int64)) if exact else totals
        rows = np.array(b[:, m:, :, :m + 1])  # (n, 2, k, m + 1): the rows u, v
        reduce(rows, mods[:, None, None, None])
        nb = np.empty((2 * n, m, k, m))
        nb[:n] = b[:, :m, :, :m]  # the pair left out
        included = nb[n:]  # the pair kept
        _shifted_products(rows[:, :, :, :m], rows[:, ::-1, :, :m], k, included)
        included += nb[:n]
        ng = np.empty((2 * n, k + 1))
        ng[:n] = g
        ng[n:] = _times_one_plus_ta(g, rows[:, 1, :, m], k)
        reduce(ng[n:], mods[:, None])
        b, g = nb, ng
        w = np.concatenate([-w, w])
        origin = np.concatenate([origin, origin])
        mods = np.concatenate([mods, mods])
    n, s = b.shape[0], b.shape[1]
    rows = np.array(b[:, 1:, :, :s - 1])  # rows 1 .. s - 1, columns < s - 1
    reduce(rows, mods[:, None, None, None])
    if s == 2:
        leaf = _top_coefficient(g, rows[:, 0, :, 0], k)
    else:
        c10 = np.empty((n, 1, k, 1))
        _shifted_products(rows[:, 1:, :, 1:2], rows[:, :0:-1, :, 0:1], k, c10)  # (B_21, B_31) x (B_30, B_20)
        c10 = c10[:, 0, :, 0] + rows[:, 0, :, 0]
        reduce(c10, mods[:, None])
        g_in = _times_one_plus_ta(g, rows[:, 2, :, 2], k)
        reduce(g_in, mods[:, None])
        leaf = _top_coefficient(g_in, c10, k) - _top_coefficient(g, rows[:, 0, :, 0], k)
        if exact:
            leaf += k * mods * mods  # >= 0 for the reduction
    if exact:
        _reduce(leaf, mods)
        leaf = leaf.astype(np.int64)
    np.add.at(totals, origin, w * leaf)
    return np.mod(totals, mod.astype(np.int64)) if exact else totals


def _crt_symmetric(residues: Sequence[int], primes: Sequence[int]) -> int:
    """The integer x with |x| < prod(p) / 2 and x = r_i mod p_i (Chinese remainder theorem)."""
    x, modulus = 0, 1
    for r, p in zip(residues, primes, strict=True):
        x += modulus * ((r - x) * pow(modulus, -1, p) % p)
        modulus *= p
    return x - modulus if 2 * x > modulus else x


def hafnian_bound(matrix: Sequence[Sequence[int]]) -> int:
    """An integer H >= |haf(A)| for a symmetric integer matrix A (the diagonal is not used).

    With A' = |A| off the diagonal (0 on it), haf(A')^2 <= per(A') (a pair of perfect matchings,
    their union oriented from each cycle's smallest vertex, is a cycle cover: an injection of
    equal weight), |haf(A)| <= haf(A'), and two bounds on the permanent of an n x n matrix:

        per(A') <= prod_i r_i,                                r_i = sum_j A'_ij   (expand rows),
        per(A') <= n! / n^(n/2) prod_i ||a'_i||_2                               (Carlen, Lieb &
                   Loss, "An inequality of Hadamard type for permanents", Methods Appl. Anal. 13,
                   2006),

    so H = min(floor(sqrt(prod r_i)), floor(((n!)^2 prod_i ||a'_i||^2 / n^n)^(1/4))) + 1, in
    exact integer arithmetic."""
    n = len(matrix)
    off = [[abs(int(x)) if i != j else 0 for j, x in enumerate(row)] for i, row in enumerate(matrix)]
    row_sums = math.isqrt(math.prod(sum(row) for row in off))
    squares = math.factorial(n) ** 2 * math.prod(sum(x * x for x in row) for row in off)
    hadamard = math.isqrt(math.isqrt(-(-squares // n**n)))
    return min(row_sums, hadamard) + 1


def hafnian_int(matrix: Sequence[Sequence[int]]) -> int:
    """haf(A) of a symmetric integer matrix, exactly: Björklund's recursion modulo the fewest
    primes p <= :func:`_modulus_limit` whose product M exceeds 2 H, H = :func:`hafnian_bound`
    (float64-exact residue arithmetic, :func:`_bjorklund_levels`), then the Chinese remainder
    theorem: haf(A) is the unique residue mod M in (-M/2, M/2) since |haf(A)| <= H < M/2
    (Björklund 2012; Björklund, Gupt & Quesada 2019). The diagonal is not used."""
    a = [[int(x) for x in row] for row in matrix]
    size = _check_square(a)
    if size % 2:
        return 0
    if size == 0:
        return 1
    k = size // 2
    if size == 2:
        return a[1][0]
    bound = hafnian_bound(a)
    limit = _modulus_limit(k)
    count = 1
    while math.prod(_primes_below(limit, count)) <= 2 * bound:
        count += 1
    primes = _primes_below(limit, count)
    b = np.zeros((count, size, k, size))
    for i, p in enumerate(primes):
        b[i, :, 0, :] = [[x % p for x in row] for row in a]
    g = np.zeros((count, k + 1))
    g[:, 0] = 1
    residues = _bjorklund_levels(b, g, np.array(primes, dtype=float), k)
    return _crt_symmetric([int(r) for r in residues], primes)


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
    b = np.zeros((1, size, k, size))
    b[0, :, 0, :] = a
    g = np.zeros((1, k + 1))
    g[0, 0] = 1.0
    return float(_bjorklund_levels(b, g, None, k)[0])


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
