"""Random matrices: exact finite-n spectral moments, their limits, and simulation mirrors.

Normalisations (theory facts §3):

- **GUE(n)**: Hermitian M, M_ii ~ N(0, 1), M_ij = (a + i b)/sqrt(2) for i < j with a, b ~ N(0, 1),
  so E|M_ij|^2 = 1; density proportional to exp(-tr M^2 / 2). Wick: E[M_ab M_cd] = d_ad d_bc.
- **GOE(n)**: real symmetric M, M_ij ~ N(0, 1) for i < j and M_ii ~ N(0, 2), i.e.
  M = (A + A^T)/sqrt(2); density proportional to exp(-tr M^2 / 4).
  Wick: E[M_ab M_cd] = d_ac d_bd + d_ad d_bc.
- **Wigner(n)**: real symmetric X with X_ij (i < j) iid, mean 0, variance 1, moments m_j, and
  X_ii iid with moments d_j; W = X / sqrt(n).
- **Wishart(p, N)**: X p x N with iid entries of mean 0, variance 1 and moments m_j;
  S = X X^T / N, ratio lambda = p / N.

Exact moments are polynomials in n (and the entry moments), from enumerations that are the
brute-force references of the fast formulas: the Harer-Zagier recursion (GUE) against the
genus expansion, Wick pairings with twists (GOE) against closed-walk counting with Gaussian
entry moments. Limits: (1/n) E tr W^k -> C_{k/2} (semicircle); (1/p) E tr S^k ->
sum_j N(k, j) lambda^(j-1) (Marchenko-Pastur).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from itertools import product

import numpy as np
import sympy

from tpcheck.engines.combinatorics import (
    catalan_number,
    double_factorial,
    gamma_pi_cycles,
    harer_zagier_polynomials,
    narayana_number,
    perfect_matchings,
)
from tpcheck.trusted import rests_on

Moment = Callable[[int], sympy.Expr]

# ---- exact moments -----------------------------------------------------------------------


def gue_trace_moment(k: int, n: sympy.Expr) -> sympy.Expr:
    """E tr M^k for GUE(n): the Harer-Zagier polynomial for even k, 0 for odd k."""
    rests_on("random-matrix-moments")
    if k % 2:
        return sympy.Integer(0)
    poly = harer_zagier_polynomials(max(k // 2, 1))[k // 2]
    return sympy.Add(*[c * n**p for p, c in poly.items()])


def gue_trace_moment_by_genus(k: int, n: sympy.Expr) -> sympy.Expr:
    """Reference: sum over pairings pi of the k steps of n^{#cycles(gamma o pi)}."""
    rests_on("random-matrix-moments")
    if k % 2:
        return sympy.Integer(0)
    return sympy.Add(*[n ** gamma_pi_cycles(p, k) for p in perfect_matchings(list(range(k)))])


def _classes(k: int, identify: list[tuple[int, int]]) -> int:
    parent = list(range(k))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in identify:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb
    return len({find(x) for x in range(k)})


def goe_trace_moment(k: int, n: sympy.Expr) -> sympy.Expr:
    """E tr M^k for GOE(n) by Wick: sum over pairings of the k steps and, for each pair, the
    two terms of E[M_ab M_cd] = d_ac d_bd + d_ad d_bc, of n^{#free index classes}
    (tr M^0 = tr I = n)."""
    rests_on("random-matrix-moments")
    if k == 0:
        return n
    if k % 2:
        return sympy.Integer(0)
    total = sympy.Integer(0)
    # step s goes from index position s to position s + 1 (mod k)
    for pairing in perfect_matchings(list(range(k))):
        for twists in product((False, True), repeat=k // 2):
            ident = []
            for (s, t), twisted in zip(pairing, twists, strict=True):
                if twisted:  # d_ac d_bd: i_s = i_t, i_{s+1} = i_{t+1}
                    ident += [(s, t), ((s + 1) % k, (t + 1) % k)]
                else:  # d_ad d_bc: i_s = i_{t+1}, i_{s+1} = i_t
                    ident += [(s, (t + 1) % k), ((s + 1) % k, t)]
            total += n ** _classes(k, ident)
    return sympy.expand(total)


def restricted_growth_strings(k: int) -> Iterator[tuple[int, ...]]:
    """Closed-walk shapes: i_1 = 0 and each i_j at most one more than the largest before."""

    def grow(prefix: list[int], top: int) -> Iterator[tuple[int, ...]]:
        if len(prefix) == k:
            yield tuple(prefix)
            return
        for v in range(top + 2):
            prefix.append(v)
            yield from grow(prefix, max(top, v))
            prefix.pop()

    if k == 0:
        yield ()
        return
    yield from grow([0], 0)


def wigner_trace_moment(k: int, n: sympy.Expr, offdiag: Moment, diag: Moment) -> sympy.Expr:
    """E tr X^k for a Wigner matrix by closed walks i_1 -> i_2 -> ... -> i_k -> i_1 grouped by
    shape (which positions share an index): a shape with t distinct indices occurs (n)_t times
    and contributes prod over distinct edges of E[X_e^{multiplicity}] (m_j off the diagonal,
    d_j on it); tr X^0 = tr I = n."""
    rests_on("random-matrix-moments")
    if k == 0:
        return n
    off_values = {j: offdiag(j) for j in range(1, k + 1)}
    diag_values = {j: diag(j) for j in range(1, k + 1)}
    # walks with the same number of distinct indices and the same edge multiplicities on and
    # off the diagonal contribute the same term: count them in integers, build each term once
    shapes: Counter[tuple[int, tuple[int, ...], tuple[int, ...]]] = Counter()
    for walk in restricted_growth_strings(k):
        edges: dict[tuple[int, int], int] = {}
        for j in range(k):
            a, b = walk[j], walk[(j + 1) % k]
            e = (min(a, b), max(a, b))
            edges[e] = edges.get(e, 0) + 1
        on = tuple(sorted(m for (a, b), m in edges.items() if a == b))
        off = tuple(sorted(m for (a, b), m in edges.items() if a != b))
        shapes[(max(walk) + 1, on, off)] += 1
    total = sympy.Integer(0)
    for (distinct, on, off), count in shapes.items():
        weight = sympy.Mul(*(diag_values[m] for m in on), *(off_values[m] for m in off))
        if weight != 0:
            total += count * sympy.ff(n, distinct) * weight
    return sympy.expand(sympy.expand_func(total))


def gaussian_moment_of(variance: int) -> Moment:
    """Moments of N(0, variance): E[Y^j] = variance^(j/2) (j-1)!! for even j, else 0."""
    return lambda j: (sympy.Integer(variance) ** (j // 2) * double_factorial(j - 1)
                      if j % 2 == 0 else sympy.Integer(0))


def wishart_trace_moment(k: int, p: sympy.Expr, N: sympy.Expr, moment: Moment) -> sympy.Expr:
    """E tr (X X^T)^k for X p x N with iid entries (moments ``moment``), by bipartite closed
    walks i_1 -> j_1 -> i_2 -> j_2 -> ... -> i_1 grouped by the shapes of the row and column
    indices: (p)_{rows} (N)_{columns} prod over distinct entries of E[X_e^{multiplicity}];
    tr (X X^T)^0 = tr I = p."""
    rests_on("random-matrix-moments")
    if k == 0:
        return p
    values = {j: moment(j) for j in range(1, 2 * k + 1)}
    # shapes with the same numbers of distinct rows and columns and the same entry
    # multiplicities contribute the same term: count them in integers, build each term once
    shapes: Counter[tuple[int, int, tuple[int, ...]]] = Counter()
    for rows in restricted_growth_strings(k):
        for cols in restricted_growth_strings(k):
            edges: dict[tuple[int, int], int] = {}
            for t in range(k):
                for e in ((rows[t], cols[t]), (rows[(t + 1) % k], cols[t])):
                    edges[e] = edges.get(e, 0) + 1
            shapes[(max(rows) + 1, max(cols) + 1, tuple(sorted(edges.values())))] += 1
    total = sympy.Integer(0)
    for (row_count, col_count, mults), count in shapes.items():
        weight = sympy.Mul(*(values[m] for m in mults))
        if weight != 0:
            total += count * sympy.ff(p, row_count) * sympy.ff(N, col_count) * weight
    return sympy.expand(sympy.expand_func(total))


def semicircle_moment(k: int) -> int:
    """lim (1/n) E tr W^k = C_{k/2} for even k, 0 for odd k."""
    return catalan_number(k // 2) if k % 2 == 0 else 0


def marchenko_pastur_moment(k: int, lam: sympy.Expr) -> sympy.Expr:
    """lim (1/p) E tr S^k = sum_{j=1}^k N(k, j) lambda^(j-1) (Narayana polynomial) for k >= 1,
    and 1 for k = 0 (the law has total mass 1)."""
    if k == 0:
        return sympy.Integer(1)
    return sympy.Add(*[narayana_number(k, j) * lam ** (j - 1) for j in range(1, k + 1)])


# ---- simulation mirrors ------------------------------------------------------------------


def sample_goe(n: int, rng: np.random.Generator) -> np.ndarray:
    a = rng.standard_normal((n, n))
    return (a + a.T) / np.sqrt(2)


def sample_gue(n: int, rng: np.random.Generator) -> np.ndarray:
    g = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
    return (g + g.conj().T) / 2


def tridiagonal_hermite(n: int, beta: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Dumitriu-Edelman (2002) tridiagonal model with the eigenvalue law of GOE (beta = 1) or
    GUE (beta = 2) in the normalisations above: diagonal N(0, 2/beta) and off-diagonal
    chi_{beta(n-1)}, ..., chi_beta, divided by sqrt(beta)."""
    d = rng.normal(0.0, np.sqrt(2.0 / beta), n)
    e = np.sqrt(rng.chisquare(beta * np.arange(n - 1, 0, -1))) / np.sqrt(beta)
    return d, e


def bidiagonal_laguerre(p: int, N: int, beta: int, rng: np.random.Generator
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Dumitriu-Edelman bidiagonal B (p x p, p <= N) such that B B^T has the eigenvalue law of
    X X^T for X p x N Gaussian (beta = 1 real, 2 complex with E|X_ij|^2 = 1): diagonal
    chi_{beta N}, chi_{beta(N-1)}, ..., subdiagonal chi_{beta(p-1)}, ..., chi_beta, all / sqrt(beta)."""
    diag = np.sqrt(rng.chisquare(beta * np.arange(N, N - p, -1))) / np.sqrt(beta)
    sub = np.sqrt(rng.chisquare(beta * np.arange(p - 1, 0, -1))) / np.sqrt(beta)
    return diag, sub


def tridiagonal_trace_powers(d: np.ndarray, e: np.ndarray, kmax: int) -> np.ndarray:
    """tr T^k for k = 1..kmax of the symmetric tridiagonal T (diagonal d, off-diagonal e), in
    O(n kmax^2): P = T^j is symmetric and banded, kept as band[o][i] = P[i, i + o], o >= 0,
    and (P T)[i, i+o] = P[i, i+o-1] e[i+o-1] + P[i, i+o] d[i+o] + P[i, i+o+1] e[i+o]."""
    n = len(d)
    band: dict[int, np.ndarray] = {0: np.asarray(d, float).copy()}
    if n > 1:
        band[1] = np.asarray(e, float).copy()
    traces = [float(band[0].sum())]
    for _ in range(2, kmax + 1):
        new: dict[int, np.ndarray] = {}
        for o in range(min(max(band) + 1, n - 1) + 1):
            acc = band[o] * d[o:] if o in band else np.zeros(n - o)
            if o >= 1 and (o - 1) in band:
                acc = acc + band[o - 1][: n - o] * e[o - 1 : n - 1]
            if o == 0 and 1 in band:
                acc = acc.copy()
                acc[1:] += band[1][: n - 1] * e[: n - 1]
            if (o + 1) in band:
                acc = acc.copy()
                acc[: n - o - 1] += band[o + 1] * e[o : n - 1]
            new[o] = acc
        band = new
        traces.append(float(band[0].sum()))
    return np.asarray(traces)


def sturm_counts(d: np.ndarray, e: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Number of eigenvalues below each x of the symmetric tridiagonal (d, e): the negative
    pivots of the LDL^T factorisation of T - x I (Sturm sequence), vectorised over x."""
    xs = np.asarray(xs, float)
    count = np.zeros(xs.shape, int)
    q = d[0] - xs
    count += q < 0
    tiny = np.finfo(float).tiny
    for i in range(1, len(d)):
        q = np.where(q == 0, tiny, q)
        q = d[i] - xs - e[i - 1] ** 2 / q
        count += q < 0
    return count


def semicircle_cdf(x: np.ndarray) -> np.ndarray:
    """CDF of the semicircle law on [-2, 2]: 1/2 + x sqrt(4 - x^2)/(4 pi) + arcsin(x/2)/pi."""
    x = np.clip(x, -2.0, 2.0)
    return 0.5 + x * np.sqrt(4 - x * x) / (4 * np.pi) + np.arcsin(x / 2) / np.pi


def ks_to_semicircle(d: np.ndarray, e: np.ndarray, scale: float, points: int = 2001) -> float:
    """Kolmogorov-Smirnov distance between the ESD of T / scale and the semicircle law, on a
    grid of ``points`` in [-2.5, 2.5] (eigenvalue counts by Sturm sequences)."""
    xs = np.linspace(-2.5, 2.5, points)
    empirical = sturm_counts(d, e, xs * scale) / len(d)
    return float(np.max(np.abs(empirical - semicircle_cdf(xs))))


def spectral_moments_mc(
    ensemble: str, n: int, kmax: int, samples: int, seed: int, method: str = "tridiagonal"
) -> tuple[np.ndarray, np.ndarray]:
    """Simulation mirror: estimates and standard errors of (1/n) E tr W^k, k = 1..kmax, for
    W = M / sqrt(n) with M ~ GOE(n) or GUE(n) (``method`` "tridiagonal" or "dense")."""
    rng = np.random.default_rng(seed)
    beta = {"GOE": 1, "GUE": 2}[ensemble]
    rows = []
    for _ in range(samples):
        if method == "tridiagonal":
            d, e = tridiagonal_hermite(n, beta, rng)
            tr = tridiagonal_trace_powers(d / np.sqrt(n), e / np.sqrt(n), kmax)
        else:
            m = (sample_goe if beta == 1 else sample_gue)(n, rng) / np.sqrt(n)
            ev = np.linalg.eigvalsh(m)
            tr = np.array([np.sum(ev**k) for k in range(1, kmax + 1)])
        rows.append(tr / n)
    data = np.asarray(rows)
    return data.mean(axis=0), data.std(axis=0, ddof=1) / np.sqrt(samples)


def wigner_moments_mc(
    n: int, kmax: int, samples: int, seed: int, entries: Callable | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Simulation mirror of :func:`wigner_trace_moment` (zero diagonal): estimates and
    standard errors of (1/n) E tr W^k, W = X/sqrt(n), k = 1..kmax; ``entries(rng, shape)`` draws
    the off-diagonal entries (default Rademacher)."""
    rng = np.random.default_rng(seed)
    draw = entries or (lambda r, shape: r.choice([-1.0, 1.0], size=shape))
    x = np.triu(draw(rng, (samples, n, n)), 1)
    w = (x + np.swapaxes(x, 1, 2)) / np.sqrt(n)
    ev = np.linalg.eigvalsh(w)
    data = np.stack([np.sum(ev**k, axis=1) / n for k in range(1, kmax + 1)], axis=1)
    return data.mean(axis=0), data.std(axis=0, ddof=1) / np.sqrt(samples)


def wishart_moments_mc(
    p: int, N: int, kmax: int, samples: int, seed: int, method: str = "bidiagonal"
) -> tuple[np.ndarray, np.ndarray]:
    """Simulation mirror of :func:`wishart_trace_moment` with Gaussian entries: estimates and
    standard errors of (1/p) E tr S^k, S = X X^T / N, k = 1..kmax; ``method`` "bidiagonal"
    (Dumitriu-Edelman, p <= N) or "dense"."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(samples):
        if method == "bidiagonal":
            diag, sub = bidiagonal_laguerre(p, N, 1, rng)
            b = np.diag(diag) + np.diag(sub, -1)
            ev = np.linalg.eigvalsh(b @ b.T / N)
        else:
            x = rng.standard_normal((p, N))
            ev = np.linalg.eigvalsh(x @ x.T / N)
        rows.append([np.sum(ev**k) / p for k in range(1, kmax + 1)])
    data = np.asarray(rows)
    return data.mean(axis=0), data.std(axis=0, ddof=1) / np.sqrt(samples)
