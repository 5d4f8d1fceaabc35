"""Finite-width mirror: backward pass against finite differences, Monte-Carlo kernels against the
limit with distribution-free thresholds, and the n^(-1/2) rate."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tpcheck.engines import finite_width as fw
from tpcheck.engines.deep_kernels import deep_kernels, kernel_activation

X = np.array([[1.0, 1.0, 1.0], [1.0, 1.0, -1.0], [0.3, -2.0, 0.5]])


@pytest.mark.parametrize("name", ["erf", "tanh", "identity"])
@pytest.mark.parametrize("parametrization", ["ntk", "standard"])
def test_backward_pass_against_finite_differences(name: str, parametrization: str) -> None:
    act = kernel_activation(name)
    sw2, sb2 = [1.5, 0.7, 2.0], [0.1, 0.3, 0.2]
    mlp = fw.draw_mlp(np.random.default_rng(3), 3, [7, 5])
    x = X[2]
    grad = fw.parameter_gradient(mlp, x, act, sw2, sb2, parametrization)
    numeric, h = [], 1e-6
    for layer, (w, b) in enumerate(zip(mlp.weights, mlp.biases, strict=True)):
        scales = (math.sqrt(sw2[layer] / w.shape[1]), math.sqrt(sb2[layer]))
        for array, scale in zip((w, b), scales, strict=True):
            for idx in np.ndindex(array.shape):
                old = array[idx]
                array[idx] = old + h
                up = fw.network_output(mlp, x, act, sw2, sb2)[0]
                array[idx] = old - h
                down = fw.network_output(mlp, x, act, sw2, sb2)[0]
                array[idx] = old
                slope = (up - down) / (2 * h)  # df/d(N(0,1) entry)
                numeric.append(slope if parametrization == "ntk" else slope / scale)
    assert np.max(np.abs(np.array(numeric) - grad)) < 1e-7 * np.max(np.abs(grad))


def test_factorised_ntk_equals_gradient_gram_matrix() -> None:
    act = kernel_activation("relu")
    sw2, sb2 = [2.0] * 4, [0.1] * 4
    mlp = fw.draw_mlp(np.random.default_rng(5), 3, [6, 4, 5])
    for parametrization in ("ntk", "standard"):
        jac = np.array([fw.parameter_gradient(mlp, x, act, sw2, sb2, parametrization) for x in X])
        pre, acts = fw.forward(mlp, X, act, sw2, sb2)
        theta = fw._ntk_of_network(pre, acts, fw.backward(mlp, pre, act, sw2), sw2, sb2, parametrization)
        assert np.allclose(theta, jac @ jac.T, rtol=1e-13, atol=0)


# Thresholds. Each per-network estimate is a quadratic form in Gaussians, not normal, so the
# threshold is Chebyshev's: |mean - E| <= K se fails with probability <= 1/K^2 for any law with a
# variance (K = 10: 1%). The O(1/n) bias of the finite-width mean (Yaida 2020) gets an allowance
# of 8 |limit| / n, and the seed is fixed, so the outcome is the same on every run.
CHEBYSHEV_K = 10.0


@pytest.mark.parametrize("name", ["relu", "erf"])
@pytest.mark.parametrize("parametrization", ["ntk", "standard"])
def test_empirical_kernels_match_limit(name: str, parametrization: str) -> None:
    width, samples = 512, 12
    kw = dict(depth=2, activation=name, sigma_w2=1.5, sigma_b2=0.1)
    limit = deep_kernels(X, parametrization=parametrization, width=width, **kw)
    ntk = fw.empirical_ntk(X, width=width, samples=samples, seed=11, parametrization=parametrization, **kw)
    nngp = fw.empirical_nngp(X, width=width, samples=samples, seed=12, **kw)
    for est, lim in ((ntk, limit.ntk), (nngp, limit.nngp)):
        allowance = CHEBYSHEV_K * est.standard_error + 8 * np.abs(lim) / width
        assert np.all(np.abs(est.mean - lim) <= allowance)
        assert np.all(est.standard_error < 0.1 * np.abs(lim).max())  # the test has power


def test_sampled_readout_nngp_within_chi_square_bound() -> None:
    """f(x) f(x') averaged over networks: the readout noise is bounded by Laurent-Massart
    (probability >= 1 - 4 e^-20 per entry), the rest by Chebyshev as above."""
    kw = dict(depth=2, activation="erf", sigma_w2=2.0, sigma_b2=0.0, width=256)
    limit = deep_kernels(X, depth=2, activation="erf", sigma_w2=2.0, sigma_b2=0.0).nngp
    est = fw.empirical_nngp(X, samples=1000, seed=3, readout="sampled", keep_samples=True, **kw)
    conditional = est.integrated_per_sample.mean(axis=0)
    conditional_se = est.integrated_per_sample.std(axis=0, ddof=1) / math.sqrt(est.samples)
    bound = fw.readout_deviation_bound(est, t=20.0)
    assert np.all(np.abs(est.mean - conditional) <= bound)
    assert np.all(np.abs(conditional - limit) <= CHEBYSHEV_K * conditional_se + 8 * np.abs(limit) / 256)
    assert np.all(bound < 0.6 * np.abs(limit).max())  # catches a kernel off by a factor 2


def test_same_seed_same_numbers() -> None:
    a = fw.empirical_ntk(X, depth=1, activation="relu", width=64, samples=3, seed=9)
    b = fw.empirical_ntk(X, depth=1, activation="relu", width=64, samples=3, seed=9)
    assert np.array_equal(a.mean, b.mean) and np.array_equal(a.standard_error, b.standard_error)


def _log_log_slope(widths, errors) -> float:
    return float(np.polyfit(np.log(widths), np.log(errors), 1)[0])


@pytest.mark.slow
@pytest.mark.parametrize("name", ["relu", "erf"])
def test_error_falls_like_inverse_square_root_of_width(name: str) -> None:
    """RMS over networks of (single-network kernel - limit) against the width, 256..4096: the fitted
    log-log slope is -1/2 within 0.12 (with 16 networks a width, the RMS has ~18% relative noise,
    a slope error of about 0.05 over this range)."""
    widths, samples = [256, 512, 1024, 2048, 4096], 16
    kw = dict(depth=2, activation=name, sigma_w2=1.5, sigma_b2=0.1)
    limit = deep_kernels(X, **kw)
    ntk_rms, nngp_rms = [], []
    for n in widths:
        ntk = fw.empirical_ntk(X, width=n, samples=samples, seed=n, keep_samples=True, **kw)
        nngp = fw.empirical_nngp(X, width=n, samples=samples, seed=n + 1, keep_samples=True, **kw)
        ntk_rms.append(np.sqrt(np.mean((ntk.per_sample - limit.ntk) ** 2)))
        nngp_rms.append(np.sqrt(np.mean((nngp.per_sample - limit.nngp) ** 2)))
    for rms in (ntk_rms, nngp_rms):
        assert abs(_log_log_slope(widths, rms) + 0.5) < 0.12, rms
