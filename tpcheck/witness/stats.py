"""Statistics of the Monte-Carlo witnesses: thresholds from a family-wise false-alarm rate.

The library targets a family-wise false-alarm rate of ``FAMILYWISE_ALPHA`` = 1e-6 over at most
``DESIGN_CHECKS`` = 10^4 Monte-Carlo comparisons per run, split evenly (Bonferroni): each
two-sided check has level alpha = 1e-10, i.e. |z| > 6.47. The z-score is a CLT statement about
the estimator; for heavy-tailed integrands at small sample sizes the real tail is heavier, so
witnesses use sample sizes at which the estimator is close to normal.
"""

from __future__ import annotations

import mpmath
import numpy as np

FAMILYWISE_ALPHA = 1e-6
DESIGN_CHECKS = 10_000


def z_threshold(familywise: float = FAMILYWISE_ALPHA, checks: int = DESIGN_CHECKS) -> float:
    """Two-sided normal quantile for per-check level familywise / checks."""
    alpha = mpmath.mpf(familywise) / checks
    with mpmath.workdps(30):
        return float(mpmath.sqrt(2) * mpmath.erfinv(1 - alpha))


Z_THRESHOLD = z_threshold()


def t_threshold(dof: int, familywise: float = FAMILYWISE_ALPHA, checks: int = DESIGN_CHECKS) -> float:
    """Two-sided Student-t quantile with ``dof`` degrees of freedom for per-check level
    familywise / checks: the threshold for a mean of a few runs whose standard error is
    estimated from those runs (a studentised mean has t tails, heavier than normal; with 9
    degrees of freedom at level 1e-10 it is about 5 times the normal quantile). The tail
    P(|T| > t) = I_{dof / (dof + t^2)}(dof/2, 1/2) is inverted by bisection in mpmath."""
    alpha = mpmath.mpf(familywise) / checks
    with mpmath.workdps(30):
        def tail(t: mpmath.mpf) -> mpmath.mpf:
            return mpmath.betainc(mpmath.mpf(dof) / 2, mpmath.mpf(1) / 2, 0,
                                  dof / (dof + t * t), regularized=True)

        lo, hi = mpmath.mpf(0), mpmath.mpf(1)
        while tail(hi) > alpha:
            hi *= 2
        for _ in range(200):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if tail(mid) > alpha else (lo, mid)
        return float(hi)


def mean_and_covariance(columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample means of the rows of ``columns`` (k x N) and the covariance of those means."""
    k, n = columns.shape
    means = columns.mean(axis=1)
    cov = np.atleast_2d(np.cov(columns, ddof=1)) / n if n > 1 else np.zeros((k, k))
    return means, cov


def loglog_slope(ns: list[float], errors: list[float]) -> float:
    """Least-squares slope of log |error| against log n."""
    x, y = np.log(np.asarray(ns, float)), np.log(np.abs(np.asarray(errors, float)))
    return float(np.polyfit(x, y, 1)[0])
