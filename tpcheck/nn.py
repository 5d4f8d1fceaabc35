"""Wide MLPs: NNGP and NTK kernels, their finite-width mirrors, and the bridge to neural-tangents.

Conventions (docs/nn.md; theory facts §5.1): ``depth`` L is the number of hidden layers; layer
l = 1..L+1 has weight variance sigma_w2[l-1] and bias variance sigma_b2[l-1] (a number means the
same for all layers); the last layer is the scalar readout. In the NTK parametrization all
trained entries are N(0, 1) and the variances are multipliers; in the standard one the trained
entries are W ~ N(0, sigma_w^2 / fan_in) and b ~ N(0, sigma_b^2), every bias trained. The NNGPs
agree; the standard NTK grows like the width.

neural-tangents (Novak et al. 2020) ``stax.Dense(width, W_std, b_std, parameterization)`` is
this network with sigma_w^2 = W_std^2 and sigma_b^2 = b_std^2, hidden widths ``width``, the
input kernel x.x'/d, and ``parameterization`` 'ntk' or 'standard' meaning the same as here
(including the bias-gradient term 1 per layer in 'standard' when b_std = 0). :func:`nt_kernels`
returns what ``stax.serial(Dense, act, ..., Dense(1))`` returns for the same settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy

from tpcheck.engines.deep_kernels import (
    DeepKernelError,
    DeepKernels,
    KernelActivation,
    deep_kernels,
    elementary,
    kernel_entry_enclosure,
    kernel_entry_mp,
    kernel_entry_symbolic,
    polynomial,
)
from tpcheck.engines.finite_width import EmpiricalKernel, empirical_nngp, empirical_ntk

__all__ = [
    "DeepKernelError", "DeepKernels", "EmpiricalKernel", "KernelActivation", "deep_kernels", "elementary",
    "empirical_nngp", "empirical_ntk", "from_neural_tangents", "kernel_entry_enclosure", "kernel_entry_mp",
    "kernel_entry_symbolic", "nngp_kernel", "nt_kernels", "ntk_kernel", "polynomial",
]

NT_ACTIVATIONS = ("relu", "erf", "identity")

Activation = str | KernelActivation | sympy.Expr


def from_neural_tangents(W_std: float, b_std: float, parameterization: str) -> dict[str, Any]:  # noqa: N803
    """tpcheck's (sigma_w2, sigma_b2, parametrization) for neural-tangents' Dense(W_std, b_std,
    parameterization): sigma_w^2 = W_std^2, sigma_b^2 = b_std^2, same parametrization name."""
    if parameterization not in ("ntk", "standard"):
        raise DeepKernelError(f"parameterization must be 'ntk' or 'standard', got {parameterization!r}")
    if not (W_std >= 0 and b_std >= 0):
        raise DeepKernelError(f"W_std and b_std must be >= 0, got {W_std!r}, {b_std!r}")
    return {"sigma_w2": float(W_std) ** 2, "sigma_b2": float(b_std) ** 2, "parametrization": parameterization}


def nt_kernels(X: Any, depth: int, activation: str, W_std: float, b_std: float,  # noqa: N803
               parameterization: str, width: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(NNGP, NTK) Gram matrices of the rows of X for neural-tangents'
    ``stax.serial(*[Dense(width, W_std, b_std, parameterization), act] * depth,
    Dense(1, W_std, b_std, parameterization))`` with act = Relu(), Erf() or Identity(): the
    recursions of :mod:`tpcheck.engines.deep_kernels` (Lee et al. 2018; Jacot et al. 2018) with
    sigma_w^2 = W_std^2, sigma_b^2 = b_std^2. ``width`` is required for 'standard', whose NTK
    depends on it, and ignored for 'ntk'."""
    if activation not in NT_ACTIVATIONS:
        raise DeepKernelError(f"nt_kernels: activation must be one of {NT_ACTIVATIONS}, got {activation!r}")
    conv = from_neural_tangents(W_std, b_std, parameterization)
    k = deep_kernels(X, depth=depth, activation=activation, sigma_w2=conv["sigma_w2"],
                     sigma_b2=conv["sigma_b2"], parametrization=parameterization,
                     width=width if parameterization == "standard" else None)
    return k.nngp, k.ntk


def nngp_kernel(x1: Any, x2: Any = None, *, depth: int, activation: Activation,
                sigma_w2: float | Sequence[float] = 1.0,
                sigma_b2: float | Sequence[float] = 0.0) -> np.ndarray:
    """The NNGP Sigma^{L+1} between the rows of x1 and x2 (default x1): Sigma^1 = sigma_w^2 x.x'/d
    + sigma_b^2, Sigma^{l+1} = sigma_w^2 E[phi(u) phi(v)] + sigma_b^2 (Lee et al. 2018, eq. 4)."""
    return deep_kernels(x1, x2, depth=depth, activation=activation, sigma_w2=sigma_w2,
                        sigma_b2=sigma_b2).nngp


def ntk_kernel(x1: Any, x2: Any = None, *, depth: int, activation: Activation,
               sigma_w2: float | Sequence[float] = 1.0, sigma_b2: float | Sequence[float] = 0.0,
               parametrization: str = "ntk", width: int | Sequence[int] | None = None) -> np.ndarray:
    """The NTK Theta^{L+1} between the rows of x1 and x2: Theta^{l+1} = Sigma^{l+1} + Sigma_dot^{l+1}
    Theta^l (Jacot et al. 2018, Thm 1), or its standard-parametrization form at hidden width
    ``width`` (docs/nn.md)."""
    return deep_kernels(x1, x2, depth=depth, activation=activation, sigma_w2=sigma_w2, sigma_b2=sigma_b2,
                        parametrization=parametrization, width=width).ntk
