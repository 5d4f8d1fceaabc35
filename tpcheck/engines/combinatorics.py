"""Combinatorics of the moment method: pairings, matchings, set partitions and their counts.

Lazy generators for enumeration (the brute-force references) and exact counts by formula.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cache
from math import factorial, prod

from tpcheck.trusted import rests_on


def perfect_matchings(points: Sequence[int]) -> Iterator[list[tuple[int, int]]]:
    """All pairings of ``points`` (an even number of them); there are (m - 1)!! of them."""
    if not points:
        yield []
        return
    first, rest = points[0], points[1:]
    for i, partner in enumerate(rest):
        remaining = rest[:i] + rest[i + 1 :]
        for m in perfect_matchings(remaining):
            yield [(first, partner), *m]


def partial_matchings(points: Sequence[int]) -> Iterator[tuple[list[tuple[int, int]], list[int]]]:
    """All (matching, unmatched points) pairs: sets of disjoint pairs among ``points``."""
    if not points:
        yield [], []
        return
    first, rest = points[0], points[1:]
    for m, free in partial_matchings(rest):
        yield m, [first, *free]
    for i, partner in enumerate(rest):
        remaining = rest[:i] + rest[i + 1 :]
        for m, free in partial_matchings(remaining):
            yield [(first, partner), *m], free


def set_partitions(points: Sequence[int], min_block: int = 1) -> Iterator[list[list[int]]]:
    """All set partitions of ``points`` whose blocks have at least ``min_block`` elements."""
    if not points:
        yield []
        return
    first, rest = points[0], list(points[1:])
    # choose the other members of the block of `first`, then partition the remainder
    n = len(rest)
    for mask in range(1 << n):
        block = [first] + [rest[i] for i in range(n) if mask >> i & 1]
        if len(block) < min_block:
            continue
        remainder = [rest[i] for i in range(n) if not mask >> i & 1]
        for p in set_partitions(remainder, min_block):
            yield [block, *p]


def double_factorial(m: int) -> int:
    """m!! = m (m - 2) (m - 4) ... (1 or 2); (-1)!! = 0!! = 1."""
    rests_on("pairings")
    return prod(range(m, 0, -2)) if m > 0 else 1


def catalan_number(m: int) -> int:
    """C_m = binomial(2m, m) / (m + 1)."""
    rests_on("pairings")
    return factorial(2 * m) // (factorial(m) * factorial(m + 1))


def integer_partitions(k: int, min_part: int = 1, max_part: int | None = None) -> Iterator[tuple[int, ...]]:
    """Partitions of k into parts >= ``min_part``, parts in non-increasing order."""
    max_part = k if max_part is None else max_part
    if k == 0:
        yield ()
        return
    for first in range(min(k, max_part), min_part - 1, -1):
        for rest in integer_partitions(k - first, min_part, first):
            yield (first, *rest)


def set_partitions_of_type(blocks: Sequence[int]) -> int:
    """Number of set partitions of {1..sum(blocks)} with these block sizes:
    k! / (prod_i b_i! * prod_j mult_j!)."""
    rests_on("pairings")
    k = sum(blocks)
    mult: dict[int, int] = {}
    for b in blocks:
        mult[b] = mult.get(b, 0) + 1
    return factorial(k) // (prod(factorial(b) for b in blocks) * prod(factorial(m) for m in mult.values()))


def count_set_partitions(k: int, min_block: int = 1) -> int:
    """Set partitions of k points with blocks of size >= min_block (Bell numbers for 1,
    OEIS A000296 for 2)."""
    rests_on("pairings")
    return _count_set_partitions(k, min_block)


@cache
def _count_set_partitions(k: int, min_block: int) -> int:
    return sum(set_partitions_of_type(p) for p in integer_partitions(k, min_block))


# ---- non-crossing structures and genus (random matrices) ---------------------------------


def crosses(p: tuple[int, int], q: tuple[int, int]) -> bool:
    """Whether two pairs cross: a < c < b < d for {a, b}, {c, d} (after sorting)."""
    a, b = sorted(p)
    c, d = sorted(q)
    return a < c < b < d or c < a < d < b


def is_noncrossing(pairing: Sequence[tuple[int, int]]) -> bool:
    return not any(crosses(p, q) for i, p in enumerate(pairing) for q in pairing[i + 1 :])


def noncrossing_pairings(points: Sequence[int]) -> Iterator[list[tuple[int, int]]]:
    """Non-crossing pairings of points in circular order: the first point is paired with one
    at odd distance, splitting the rest into an inside and an outside (C_m of them)."""
    if not points:
        yield []
        return
    first = points[0]
    for j in range(1, len(points), 2):
        inside, outside = points[1:j], points[j + 1 :]
        for a in noncrossing_pairings(inside):
            for b in noncrossing_pairings(outside):
                yield [(first, points[j]), *a, *b]


def noncrossing_pairings_by_filter(points: Sequence[int]) -> Iterator[list[tuple[int, int]]]:
    """Reference: every pairing, kept when no two pairs cross."""
    return (p for p in perfect_matchings(points) if is_noncrossing(p))


def block_crosses(b1: Sequence[int], b2: Sequence[int]) -> bool:
    return any(crosses((a, b), (c, d)) for a in b1 for b in b1 if a < b for c in b2 for d in b2 if c < d)


def noncrossing_partitions(points: Sequence[int]) -> Iterator[list[list[int]]]:
    """Non-crossing set partitions (filter of all set partitions; C_k of them)."""
    for p in set_partitions(points):
        if not any(block_crosses(p[i], p[j]) for i in range(len(p)) for j in range(i + 1, len(p))):
            yield p


def count_noncrossing_pairings(m: int) -> int:
    """Non-crossing pairings of m points: C_{m/2} for even m, 0 for odd m."""
    rests_on("pairings")
    return catalan_number(m // 2) if m % 2 == 0 else 0


def narayana_number(k: int, j: int) -> int:
    """N(k, j) = binomial(k, j) binomial(k, j - 1) / k: non-crossing partitions of k points
    with j blocks."""
    rests_on("pairings")
    from math import comb

    if k == 0:
        return 1 if j == 0 else 0
    return comb(k, j) * comb(k, j - 1) // k


def cycles_of(perm: Sequence[int]) -> int:
    """Number of cycles of a permutation given as a list i -> perm[i]."""
    seen = [False] * len(perm)
    count = 0
    for i in range(len(perm)):
        if not seen[i]:
            count += 1
            j = i
            while not seen[j]:
                seen[j] = True
                j = perm[j]
    return count


def gamma_pi_cycles(pairing: Sequence[tuple[int, int]], m: int) -> int:
    """#cycles(gamma o pi) for the long cycle gamma = (0 1 ... m-1) and the involution pi; the
    empty gluing (m = 0) counts as one face, so that E tr M^0 = n."""
    if m == 0:
        return 1
    pi = list(range(m))
    for a, b in pairing:
        pi[a], pi[b] = b, a
    return cycles_of([(pi[i] + 1) % m for i in range(m)])


def genus(pairing: Sequence[tuple[int, int]], m: int) -> int:
    """Genus of the surface glued from an m-gon by the pairing: (m/2 + 1 - #cycles(gamma pi))/2."""
    rests_on("pairings")
    c = gamma_pi_cycles(pairing, m)
    g2 = m // 2 + 1 - c
    assert g2 % 2 == 0 and g2 >= 0
    return g2 // 2


def harer_zagier(k: int) -> list[int]:
    """epsilon_g(k) for g = 0, 1, ...: gluings of a 2k-gon into a genus-g surface, from the
    Harer-Zagier recursion on T_k(n) = E tr M^{2k} = sum_g epsilon_g(k) n^{k+1-2g}:
    (k+2) T_{k+1} = (4k+2) n T_k + k (4k^2 - 1) T_{k-1}, T_0 = n, T_1 = n^2."""
    rests_on("pairings")
    coeffs = harer_zagier_polynomials(k)[k]
    return [coeffs.get(k + 1 - 2 * g, 0) for g in range(k // 2 + 1)]


def harer_zagier_polynomials(kmax: int) -> list[dict[int, int]]:
    """T_0, ..., T_kmax as {power of n: coefficient} (exact integers)."""
    polys: list[dict[int, int]] = [{1: 1}, {2: 1}]
    for k in range(1, kmax):
        nxt: dict[int, int] = {}
        for p, c in polys[k].items():
            nxt[p + 1] = nxt.get(p + 1, 0) + (4 * k + 2) * c
        for p, c in polys[k - 1].items():
            nxt[p] = nxt.get(p, 0) + k * (4 * k * k - 1) * c
        assert all(v % (k + 2) == 0 for v in nxt.values())
        polys.append({p: v // (k + 2) for p, v in nxt.items()})
    return polys[: kmax + 1]
