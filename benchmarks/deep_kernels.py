"""Benchmark: NNGP and NTK Gram matrices of depth-L MLPs, tpcheck against a plain numpy
implementation of the same recursion (and neural-tangents' analytic kernels if installed),
side by side in one run: time (best of a few), peak traced memory, and the scaling in the number
of inputs and the depth. Inputs: standard normal in R^10, sigma_w^2 = 2, sigma_b^2 = 0.1.

    python benchmarks/deep_kernels.py [--inputs 1000] [--depth 3] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from tpcheck.engines.deep_kernels import deep_kernels


def plain_numpy(x: np.ndarray, depth: int, activation: str, sw2: float, sb2: float):
    """The textbook recursion written directly: arccos of the clipped correlation, arcsin for erf."""
    d = x.shape[1]
    sigma = sw2 * x @ x.T / d + sb2
    theta = sigma
    for _ in range(depth):
        q = np.sqrt(np.diag(sigma))
        norms = np.outer(q, q)
        rho = np.clip(sigma / norms, -1, 1)
        if activation == "relu":
            t = np.arccos(rho)
            e = norms * (np.sin(t) + (np.pi - t) * np.cos(t)) / (2 * np.pi)
            de = (np.pi - t) / (2 * np.pi)
        else:
            a = 1 + 2 * np.diag(sigma)
            e = 2 / np.pi * np.arcsin(2 * sigma / np.sqrt(np.outer(a, a)))
            de = 4 / np.pi / np.sqrt(np.outer(a, a) - 4 * sigma**2)
        new = sw2 * e + sb2
        theta = new + sw2 * de * theta
        sigma = new
    return sigma, theta


def measure(fn, repeat: int) -> tuple[float, float, object]:
    best, value = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return best, peak / 2**20, value


def library_fn(depth: int, activation: str, sw2: float, sb2: float):
    try:
        import jax

        jax.config.update("jax_enable_x64", True)
        from neural_tangents import stax
    except ImportError:
        return None
    act = {"relu": stax.Relu, "erf": stax.Erf}[activation]
    layers = []
    for _ in range(depth):
        layers += [stax.Dense(512, W_std=sw2**0.5, b_std=sb2**0.5), act()]
    _, _, kernel_fn = stax.serial(*layers, stax.Dense(1, W_std=sw2**0.5, b_std=sb2**0.5))

    def run(x: np.ndarray):
        k = kernel_fn(x, None, ("nngp", "ntk"))
        return np.asarray(k.nngp), np.asarray(k.ntk)

    return run


def row(label: str, x: np.ndarray, depth: int, activation: str, repeat: int, sw2=2.0, sb2=0.1) -> None:
    ours = measure(lambda: deep_kernels(x, depth=depth, activation=activation, sigma_w2=sw2, sigma_b2=sb2),
                   repeat)
    plain = measure(lambda: plain_numpy(x, depth, activation, sw2, sb2), repeat)
    diff = max(np.max(np.abs(ours[2].nngp - plain[2][0])) / np.max(np.abs(plain[2][0])),
               np.max(np.abs(ours[2].ntk - plain[2][1])) / np.max(np.abs(plain[2][1])))
    text = (f"{label:<22} {ours[0] * 1e3:9.1f} {ours[1]:8.1f} | {plain[0] * 1e3:9.1f} {plain[1]:8.1f}"
            f" | {plain[0] / ours[0]:6.2f}x  {diff:8.1e}")
    lib = library_fn(depth, activation, sw2, sb2)
    if lib is not None:
        lib(x)  # compile
        nt = measure(lambda: lib(x), repeat)
        ndiff = max(np.max(np.abs(ours[2].nngp - nt[2][0])) / np.max(np.abs(nt[2][0])),
                    np.max(np.abs(ours[2].ntk - nt[2][1])) / np.max(np.abs(nt[2][1])))
        text += f" | {nt[0] * 1e3:9.1f} {nt[0] / ours[0]:6.2f}x  {ndiff:8.1e}"
    print(text, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=1000)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    head = f"{'case':<22} {'tpcheck ms':>9} {'MiB':>8} | {'numpy ms':>9} {'MiB':>8} | {'ratio':>7}"
    print(head + f"  {'rel diff':>8} | [neural-tangents ms, ratio, rel diff]")
    for activation in ("relu", "erf"):
        x = rng.standard_normal((args.inputs, 10))
        row(f"{activation} N={args.inputs} L={args.depth}", x, args.depth, activation, args.repeat)
    print("scaling in the number of inputs (relu, L = 3)")
    for n in (250, 500, 1000, 2000):
        row(f"relu N={n} L=3", rng.standard_normal((n, 10)), 3, "relu", args.repeat)
    print("scaling in the depth (erf, N = 1000)")
    for depth in (1, 3, 6, 12):
        row(f"erf N=1000 L={depth}", rng.standard_normal((1000, 10)), depth, "erf", args.repeat)


if __name__ == "__main__":
    main()
