"""Numeric evaluation of heads whose value depends on the theorem's laws (moment_sum, genus
sums, non-crossing pairings), for the mpmath and Monte-Carlo evaluations."""

from __future__ import annotations

from typing import Any

import mpmath

from tpcheck.engines.combinatorics import gamma_pi_cycles, noncrossing_pairings_by_filter, perfect_matchings
from tpcheck.engines.heads import GenusSum, MomentSum, ncpairings
from tpcheck.engines.iid_sums import moment_sum_by_set_partitions
from tpcheck.engines.laws import IIDFamily
from tpcheck.engines.mpmath_eval import HeadHook, evaluate
from tpcheck.errors import EvaluationError

MAX_PARTITION_POINTS = 12


def head_hooks(laws: dict) -> dict[type, HeadHook]:
    """Evaluators for ``moment_sum(X, n, k)``: enumeration of the set partitions (an
    independent path from the rules' closed-form count), with the family's moments."""

    def moment_sum(e: MomentSum, env: dict) -> Any:
        label, n, k = e.args
        fam = laws.get(label)
        if not isinstance(fam, IIDFamily):
            raise EvaluationError(f"{label} is not an iid family")
        kv = evaluate(k, env, "mpmath")
        if kv != int(kv) or not 0 <= kv <= MAX_PARTITION_POINTS:
            raise EvaluationError(f"moment_sum is enumerated only for k <= {MAX_PARTITION_POINTS}")

        def moment(j: int) -> Any:
            m = fam.moment(j)
            if m is None:
                raise EvaluationError(f"E[{label}^{j}] has no value here")
            return evaluate(m, env, "mpmath")

        return mpmath.mpf(1) * moment_sum_by_set_partitions(int(kv), evaluate(n, env, "mpmath"),
                                                            moment)

    def genus_sum(e: GenusSum, env: dict) -> Any:
        n, k = (evaluate(a, env, "mpmath") for a in e.args)
        if k != int(k) or not 0 <= k <= MAX_PARTITION_POINTS // 2:
            raise EvaluationError(f"genus_sum is enumerated only for k <= {MAX_PARTITION_POINTS // 2}")
        k = int(k)
        return mpmath.fsum(n ** (gamma_pi_cycles(p, 2 * k) - k - 1)
                           for p in perfect_matchings(list(range(2 * k))))

    def nc_pairings(e: ncpairings, env: dict) -> Any:
        m = evaluate(e.args[0], env, "mpmath")
        if m != int(m) or not 0 <= m <= MAX_PARTITION_POINTS:
            raise EvaluationError(f"ncpairings is enumerated only for m <= {MAX_PARTITION_POINTS}")
        return mpmath.mpf(sum(1 for _ in noncrossing_pairings_by_filter(list(range(int(m))))))

    return {MomentSum: moment_sum, GenusSum: genus_sum, ncpairings: nc_pairings}
