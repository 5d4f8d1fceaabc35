"""Finite-width mirror of :mod:`tpcheck.engines.deep_kernels`: seeded numpy MLPs, their empirical
NNGP and NTK, with standard errors.

The network is the one of :mod:`tpcheck.engines.deep_kernels` (theory facts §5.1): all W, b entries
iid N(0, 1), h^1 = (sigma_w,1/sqrt(d)) W^1 x + sigma_b,1 b^1, x^l = phi(h^l),
h^{l+1} = (sigma_w,l+1/sqrt(n_l)) W^{l+1} x^l + sigma_b,l+1 b^{l+1}, f = h^{L+1} (a scalar).

Empirical NNGP, per network: either the readout integrated out,
    K_hat(x, x') = E[f(x) f(x') | hidden layers] = sigma_w,L+1^2 x^L(x).x^L(x') / n_L + sigma_b,L+1^2,
or the readout sampled, K_hat = f(x) f(x') (Lee et al. 2018, §2.3). Both have mean E[f(x) f(x')],
which is Sigma^{L+1} + O(1/n); the first fluctuates like n^(-1/2), the second like 1.

Empirical NTK, per network, from a forward and a backward pass (Jacot et al. 2018, eq. 2; theory
facts §5.1):
    Theta_hat(x, x') = sum_{l=1}^{L+1} (g_w,l x^{l-1}(x).x^{l-1}(x') + g_b,l) delta^l(x).delta^l(x'),
    delta^{L+1} = 1,  delta^l = phi'(h^l) * (sigma_w,l+1/sqrt(n_l)) W^{l+1 T} delta^{l+1},
with (g_w,l, g_b,l) = (sigma_w,l^2 / n_{l-1}, sigma_b,l^2) in the NTK parametrization and (1, 1) in the
standard one (there the trained entries are the effective weights and biases), x^0 = x, n_0 = d.

Heavy tails: each K_hat is a quadratic form in Gaussians (at the readout a product of two
correlated chi-square-like factors), so thresholds built on normal tails are not safe;
:func:`readout_deviation_bound` gives a Laurent-Massart bound for the sampled readout.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from tpcheck.engines.deep_kernels import (
    DeepKernelError,
    KernelActivation,
    as_inputs,
    check_network_settings,
    kernel_activation,
)


@dataclass(frozen=True)
class MLP:
    """One draw of the network: ``weights[l]`` of shape (n_{l+1}, n_l) and ``biases[l]`` of shape
    (n_{l+1},), iid N(0, 1), for l = 0..L (the last one is the readout, n_{L+1} = 1)."""

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]


@dataclass(frozen=True)
class EmpiricalKernel:
    """Mean over ``samples`` networks of a per-network kernel estimate, its standard error
    (sample standard deviation / sqrt(samples)) and, if kept, every per-network estimate."""

    mean: np.ndarray
    standard_error: np.ndarray
    samples: int
    widths: tuple[int, ...]
    per_sample: np.ndarray | None = None
    integrated_per_sample: np.ndarray | None = None


def draw_mlp(rng: np.random.Generator, dimension: int, widths: Sequence[int]) -> MLP:
    """Draw all weights and biases iid N(0, 1) from ``rng``, layer by layer."""
    sizes = [dimension, *widths, 1]
    weights, biases = [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        weights.append(rng.standard_normal((fan_out, fan_in)))
        biases.append(rng.standard_normal(fan_out))
    return MLP(tuple(weights), tuple(biases))


def forward(mlp: MLP, x: np.ndarray, act: KernelActivation, sw2: Sequence[float], sb2: Sequence[float]
            ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Forward pass for all inputs at once (rows of x): returns the pre-activations h^1..h^{L+1}
    (arrays of shape (count, n_l)) and the activities x^0..x^L (x^0 = x)."""
    activities, pre = [x], []
    for layer, (w, b) in enumerate(zip(mlp.weights, mlp.biases, strict=True)):
        h = math.sqrt(sw2[layer] / w.shape[1]) * (activities[-1] @ w.T) + math.sqrt(sb2[layer]) * b
        pre.append(h)
        if layer < len(mlp.weights) - 1:
            activities.append(act.np_fn(h))
    return pre, activities


def backward(mlp: MLP, pre: list[np.ndarray], act: KernelActivation,
             sw2: Sequence[float]) -> list[np.ndarray]:
    """Backward pass: delta^l = df/dh^l for l = 1..L+1 (shape (count, n_l)), from delta^{L+1} = 1 and
    delta^l = phi'(h^l) * (sigma_w,l+1 / sqrt(n_l)) W^{l+1 T} delta^{l+1}."""
    deltas = [np.ones_like(pre[-1])]
    for layer in range(len(mlp.weights) - 1, 0, -1):
        w = mlp.weights[layer]
        back = math.sqrt(sw2[layer] / w.shape[1]) * (deltas[0] @ w)
        deltas.insert(0, act.np_derivative(pre[layer - 1]) * back)
    return deltas


def parameter_gradient(mlp: MLP, x: np.ndarray, act: KernelActivation, sw2: Sequence[float],
                       sb2: Sequence[float], parametrization: str) -> np.ndarray:
    """df/dtheta for one input x (1-d), flattened over layers as (W^1, b^1, ..., W^{L+1}, b^{L+1}),
    where theta are the N(0, 1) entries (NTK parametrization) or the effective weights
    sqrt(sigma_w^2/n) W and biases sigma_b b (standard parametrization)."""
    pre, activities = forward(mlp, x[None, :], act, sw2, sb2)
    deltas = backward(mlp, pre, act, sw2)
    parts = []
    for layer, (delta, a) in enumerate(zip(deltas, activities, strict=True)):
        fan_in = a.shape[1]
        if parametrization == "ntk":
            gw, gb = math.sqrt(sw2[layer] / fan_in), math.sqrt(sb2[layer])
        else:
            gw, gb = 1.0, 1.0
        parts += [gw * np.outer(delta[0], a[0]).ravel(), gb * delta[0]]
    return np.concatenate(parts)


def network_output(mlp: MLP, x: np.ndarray, act: KernelActivation, sw2: Sequence[float],
                   sb2: Sequence[float]) -> np.ndarray:
    """f(x) for each row of x."""
    pre, _ = forward(mlp, np.atleast_2d(x), act, sw2, sb2)
    return pre[-1][:, 0]


def _ntk_of_network(pre: list[np.ndarray], activities: list[np.ndarray], deltas: list[np.ndarray],
                    sw2: Sequence[float], sb2: Sequence[float], parametrization: str) -> np.ndarray:
    """Theta_hat = sum_l (g_w,l x^{l-1}.x^{l-1}' + g_b,l) delta^l.delta^l' (module docstring)."""
    theta = np.zeros((activities[0].shape[0],) * 2)
    for layer, (delta, a) in enumerate(zip(deltas, activities, strict=True)):
        if parametrization == "ntk":
            gw, gb = sw2[layer] / a.shape[1], sb2[layer]
        else:
            gw, gb = 1.0, 1.0
        theta += (gw * (a @ a.T) + gb) * (delta @ delta.T)
    return theta


def _summary(values: np.ndarray, widths: Sequence[int], keep: bool,
             integrated: np.ndarray | None = None) -> EmpiricalKernel:
    samples = values.shape[0]
    se = values.std(axis=0, ddof=1) / math.sqrt(samples) if samples > 1 else np.full(values.shape[1:], np.inf)
    return EmpiricalKernel(values.mean(axis=0), se, samples, tuple(int(n) for n in widths),
                           values if keep else None, integrated if keep else None)


def _setup(x: Any, depth: int, activation: Any, sigma_w2: Any, sigma_b2: Any, width: Any, samples: int,
           parametrization: str = "ntk") -> tuple[np.ndarray, KernelActivation, list[float], list[float],
                                                  list[int]]:
    if width is None:
        raise DeepKernelError("a finite-width network needs a width")
    sw2, sb2, widths = check_network_settings(depth, "standard", sigma_w2, sigma_b2, width)
    if parametrization not in ("ntk", "standard"):
        raise DeepKernelError(f"parametrization must be 'ntk' or 'standard', got {parametrization!r}")
    assert widths is not None
    if any(int(n) != n for n in widths):
        raise DeepKernelError(f"widths must be integers, got {widths}")
    if not isinstance(samples, int) or samples < 1:
        raise DeepKernelError(f"samples must be a positive integer, got {samples!r}")
    act = kernel_activation(activation)
    return as_inputs(x), act, [float(v) for v in sw2], [float(v) for v in sb2], [int(n) for n in widths]


def empirical_nngp(
    x: Any, *, depth: int, activation: str | KernelActivation | sympy.Expr, width: int | Sequence[int],
    samples: int, seed: int, sigma_w2: float | Sequence[float] = 1.0, sigma_b2: float | Sequence[float] = 0.0,
    readout: str = "integrated", keep_samples: bool = False,
) -> EmpiricalKernel:
    """Empirical NNGP Gram matrix of the rows of x over ``samples`` seeded networks of the given
    width: mean of K_hat (readout ``"integrated"``: sigma_w^2 x^L.x^L'/n_L + sigma_b^2) or of
    f(x) f(x') (readout ``"sampled"``), with standard errors. Mirror of
    :func:`tpcheck.engines.deep_kernels.deep_kernels` (``.nngp``)."""
    if readout not in ("integrated", "sampled"):
        raise DeepKernelError(f"readout must be 'integrated' or 'sampled', got {readout!r}")
    a, act, sw2, sb2, widths = _setup(x, depth, activation, sigma_w2, sigma_b2, width, samples)
    rng = np.random.default_rng(seed)
    integrated = np.empty((samples, a.shape[0], a.shape[0]))
    sampled = np.empty_like(integrated)
    for s in range(samples):
        mlp = draw_mlp(rng, a.shape[1], widths)
        pre, activities = forward(mlp, a, act, sw2, sb2)
        last = activities[-1]
        integrated[s] = sw2[-1] * (last @ last.T) / last.shape[1] + sb2[-1]
        f = pre[-1][:, 0]
        sampled[s] = np.outer(f, f)
    if readout == "integrated":
        return _summary(integrated, widths, keep_samples)
    return _summary(sampled, widths, keep_samples, integrated)


def empirical_ntk(
    x: Any, *, depth: int, activation: str | KernelActivation | sympy.Expr, width: int | Sequence[int],
    samples: int, seed: int, sigma_w2: float | Sequence[float] = 1.0, sigma_b2: float | Sequence[float] = 0.0,
    parametrization: str = "ntk", keep_samples: bool = False,
) -> EmpiricalKernel:
    """Empirical NTK Gram matrix of the rows of x over ``samples`` seeded networks, each from a
    numpy forward and backward pass (module docstring), with standard errors. Mirror of
    :func:`tpcheck.engines.deep_kernels.deep_kernels` (``.ntk``); in the standard parametrization
    it grows like the width, as the analytic one with the same ``width`` does."""
    a, act, sw2, sb2, widths = _setup(x, depth, activation, sigma_w2, sigma_b2, width, samples,
                                      parametrization)
    rng = np.random.default_rng(seed)
    values = np.empty((samples, a.shape[0], a.shape[0]))
    for s in range(samples):
        mlp = draw_mlp(rng, a.shape[1], widths)
        pre, activities = forward(mlp, a, act, sw2, sb2)
        deltas = backward(mlp, pre, act, sw2)
        values[s] = _ntk_of_network(pre, activities, deltas, sw2, sb2, parametrization)
    return _summary(values, widths, keep_samples)


def readout_deviation_bound(kernel: EmpiricalKernel, t: float) -> np.ndarray:
    """A bound B_ij, holding with probability >= 1 - 4 e^(-t) for each entry, on
    |mean_s f_s(x_i) f_s(x_j) - mean_s K_hat_s(x_i, x_j)| for a sampled-readout NNGP estimate.

    Given the hidden layers, f(x_i) +- f(x_j) ~ N(0, a_s) with a_s = K_ii + K_jj +- 2 K_ij (K = K_hat_s),
    and f_i f_j = ((f_i + f_j)^2 - (f_i - f_j)^2) / 4. Laurent & Massart 2000 (Lemma 1): for
    Z_s iid N(0, 1), P(|sum_s a_s (Z_s^2 - 1)| >= 2 |a|_2 sqrt(t) + 2 |a|_inf t) <= 2 e^(-t). No normal
    approximation is used: the chi-square tail is the exact shape of the readout noise."""
    k = kernel.integrated_per_sample
    if k is None:
        raise DeepKernelError(
            "readout_deviation_bound needs empirical_nngp(readout='sampled', keep_samples=True)")
    diag = np.einsum("sii->si", k)
    total = np.zeros(k.shape[1:])
    for sign in (1.0, -1.0):
        a = np.maximum(diag[:, :, None] + diag[:, None, :] + 2 * sign * k, 0.0)
        total += 2 * np.sqrt((a * a).sum(axis=0)) * math.sqrt(t) + 2 * a.max(axis=0) * t
    return total / (4 * kernel.samples)
