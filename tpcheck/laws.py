"""Laws of random objects: exact moments, high-precision densities and seeded samplers.

Every law takes sympy expressions as parameters (which may contain the theorem's symbols); the
numeric methods take an environment that gives those symbols values.
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
import numpy as np
import sympy


@dataclass(frozen=True)
class Normal:
    """N(mean, variance): density exp(-(x - mean)^2 / (2 variance)) / sqrt(2 pi variance)."""

    mean: sympy.Expr
    variance: sympy.Expr

    name = "Normal"

    @property
    def parameters(self) -> tuple[sympy.Expr, ...]:
        return (self.mean, self.variance)

    def centred_moment(self, m: sympy.Expr) -> sympy.Expr | None:
        """E[(X - mean)^m] = variance^(m/2) (m - 1)!! for even m >= 0, 0 for odd m >= 1.

        Returns None when the parity of ``m`` cannot be decided from its assumptions
        (Isserlis 1918; theory facts 1.1).
        """
        half = m / 2
        if m.is_nonnegative is not True or m.is_integer is not True:
            return None
        if half.is_integer:
            return self.variance**half * sympy.factorial2(m - 1)
        if ((m - 1) / 2).is_integer:
            return sympy.Integer(0)
        return None

    def mpmath_expectation(self, f, mean: mpmath.mpf, variance: mpmath.mpf):  # noqa: ANN001, ANN201
        """E[f(X)] by tanh-sinh quadrature against the standard normal density."""
        sd = mpmath.sqrt(variance)
        norm = 1 / mpmath.sqrt(2 * mpmath.pi)
        return mpmath.quad(
            lambda z: f(mean + sd * z) * mpmath.exp(-z * z / 2) * norm, [-mpmath.inf, 0, mpmath.inf]
        )

    def sample(self, rng: np.random.Generator, size: int, mean: float, variance: float) -> np.ndarray:
        return mean + np.sqrt(variance) * rng.standard_normal(size)


LAWS: dict[str, tuple[type, int]] = {"Normal": (Normal, 2)}
