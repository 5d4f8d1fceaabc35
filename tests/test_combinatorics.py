"""Fast combinatorial counts against brute-force enumeration (hypothesis)."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from tpcheck.engines.combinatorics import (
    catalan_number,
    count_noncrossing_pairings,
    count_set_partitions,
    double_factorial,
    genus,
    harer_zagier,
    is_noncrossing,
    narayana_number,
    noncrossing_pairings,
    noncrossing_pairings_by_filter,
    noncrossing_partitions,
    perfect_matchings,
    set_partitions,
)


def canon(pairings):
    return sorted(sorted(tuple(sorted(p)) for p in m) for m in pairings)


@given(st.integers(0, 6))
@settings(max_examples=7, deadline=None)
def test_noncrossing_generator_equals_filter(m):
    pts = list(range(2 * m))
    fast = canon(noncrossing_pairings(pts))
    assert fast == canon(noncrossing_pairings_by_filter(pts))
    assert len(fast) == catalan_number(m) == count_noncrossing_pairings(2 * m)
    assert all(is_noncrossing(p) for p in noncrossing_pairings(pts))


def test_counts_match_the_fact_sheet():
    assert [double_factorial(2 * k - 1) for k in range(9)] == [1, 1, 3, 15, 105, 945, 10395,
                                                               135135, 2027025]
    assert [catalan_number(m) for m in range(11)] == [1, 1, 2, 5, 14, 42, 132, 429, 1430, 4862, 16796]
    assert [count_set_partitions(k, 2) for k in range(9)] == [1, 0, 1, 1, 4, 11, 41, 162, 715]
    rows = {1: [1], 2: [1, 1], 3: [1, 3, 1], 4: [1, 6, 6, 1], 5: [1, 10, 20, 10, 1],
            6: [1, 15, 50, 50, 15, 1]}
    for k, row in rows.items():
        assert [narayana_number(k, j) for j in range(1, k + 1)] == row


def test_catalan_counts_for_large_k_exactly():
    # C_200 by formula, held against the recurrence C_{m+1} = sum C_i C_{m-i}
    c = [1]
    for m in range(200):
        c.append(sum(c[i] * c[m - i] for i in range(m + 1)))
    assert count_noncrossing_pairings(400) == c[200]


@given(st.integers(1, 7))
@settings(max_examples=7, deadline=None)
def test_set_partition_counts_against_enumeration(k):
    pts = list(range(k))
    assert sum(1 for _ in set_partitions(pts)) == count_set_partitions(k)
    assert sum(1 for _ in set_partitions(pts, 2)) == count_set_partitions(k, 2)


@given(st.integers(1, 6))
@settings(max_examples=6, deadline=None)
def test_noncrossing_partitions_by_blocks_are_narayana(k):
    by_blocks = Counter(len(p) for p in noncrossing_partitions(list(range(k))))
    assert [by_blocks[j] for j in range(1, k + 1)] == [narayana_number(k, j) for j in range(1, k + 1)]


@given(st.integers(1, 5))
@settings(max_examples=5, deadline=None)
def test_harer_zagier_against_genus_enumeration(k):
    counts = Counter(genus(p, 2 * k) for p in perfect_matchings(list(range(2 * k))))
    assert [counts[g] for g in range(k // 2 + 1)] == harer_zagier(k)


def test_genus_zero_is_exactly_noncrossing():
    for p in perfect_matchings(list(range(8))):
        assert (genus(p, 8) == 0) == is_noncrossing(p)
