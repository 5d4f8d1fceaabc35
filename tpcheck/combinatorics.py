"""Combinatorics of the moment method: pairings, matchings, set partitions and their counts.

Lazy generators for enumeration (the brute-force references) and exact counts by formula.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cache
from math import factorial, prod


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
    return prod(range(m, 0, -2)) if m > 0 else 1


def catalan_number(m: int) -> int:
    """C_m = binomial(2m, m) / (m + 1)."""
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
    k = sum(blocks)
    mult: dict[int, int] = {}
    for b in blocks:
        mult[b] = mult.get(b, 0) + 1
    return factorial(k) // (prod(factorial(b) for b in blocks) * prod(factorial(m) for m in mult.values()))


@cache
def count_set_partitions(k: int, min_block: int = 1) -> int:
    """Set partitions of k points with blocks of size >= min_block (Bell numbers for 1,
    OEIS A000296 for 2)."""
    return sum(set_partitions_of_type(p) for p in integer_partitions(k, min_block))
