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
