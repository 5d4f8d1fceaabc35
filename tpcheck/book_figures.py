"""Figures for the book (``tpcheck book``), drawn from the simulation mirrors: seeded, small
sizes, vector PDF (matplotlib's Agg backend). Each function draws one figure into a folder and
returns a :class:`Figure` whose caption gives its seed, its sizes and the number it shows (a
Kolmogorov-Smirnov distance, a fitted log-log slope, an error at the largest width).

A front-end: the engines compute, this module draws (beside the abc figures of
:mod:`tpcheck.engines.abc_figures`, which it reuses).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tpcheck.engines.random_matrices import sample_goe, semicircle_cdf


@dataclass(frozen=True)
class Figure:
    """A drawn figure: the PDF, the chapter it belongs to (a key of the book's chapter map),
    its caption (text with ``$...$`` formulas, typeset like a statement), whether it spans the
    text width, and the name the book includes it by
    (``fig-NAME.pdf``)."""

    name: str
    path: Path
    chapter: str
    caption: str
    wide: bool = False


def _pyplot():  # noqa: ANN202  (matplotlib.pyplot, imported only when a figure is drawn)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 8, "pdf.fonttype": 42, "svg.hashsalt": "tpcheck",
                         "path.simplify": True})
    return plt


def _save(fig, path: Path) -> Path:  # noqa: ANN001  (a matplotlib figure)
    fig.tight_layout()
    fig.savefig(path, format="pdf", metadata={"CreationDate": None, "ModDate": None})
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def loglog_slope(xs: np.ndarray, ys: np.ndarray) -> float:
    """The least-squares slope of log y against log x."""
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def semicircle_spectrum(folder: Path, n: int = 400, seed: int = 0) -> Figure:
    """Eigenvalues of one GOE matrix M / sqrt(n) (``sample_goe``: (A + A^T)/sqrt(2), A with iid
    N(0, 1) entries) against the semicircle density sqrt(4 - x^2)/(2 pi); the caption gives the
    Kolmogorov-Smirnov distance sup_x |F_n(x) - F(x)| between the empirical and the semicircle
    distribution functions (Wigner 1958)."""
    plt = _pyplot()
    eigenvalues = np.linalg.eigvalsh(sample_goe(n, np.random.default_rng(seed))) / np.sqrt(n)
    ordered = np.sort(eigenvalues)
    cdf = semicircle_cdf(ordered)
    ranks = np.arange(1, n + 1) / n
    ks = float(max(np.max(np.abs(ranks - cdf)), np.max(np.abs(ranks - 1 / n - cdf))))
    fig, ax = plt.subplots(figsize=(4.6, 2.9))
    ax.hist(eigenvalues, bins=40, density=True, color="#9db4d6", edgecolor="white", lw=0.3,
            label=f"eigenvalues, n = {n}")
    xs = np.linspace(-2, 2, 401)
    ax.plot(xs, np.sqrt(4 - xs * xs) / (2 * np.pi), "k", lw=1.2, label="semicircle density")
    ax.set_xlabel("x")
    ax.legend(fontsize=7, loc="upper right", frameon=False)
    path = _save(fig, folder / "fig-semicircle.pdf")
    caption = (f"The spectrum of one GOE matrix $M/\\sqrt{{n}}$, $n = {n}$, seed {seed}, against the "
               f"semicircle density: Kolmogorov-Smirnov distance {ks:.4f} (of order $1/n$).")
    return Figure("fig-semicircle.pdf", path, "semicircle", caption)


def law_of_large_numbers_rate(folder: Path, sizes: tuple[int, ...] = tuple(4 ** k for k in range(2, 8)),
                              repeats: int = 400, seed: int = 0) -> Figure:
    """The root-mean-square error of the mean of n iid Rademacher variables (|X_bar_n - 0|,
    exactly 1/sqrt(n) in mean square) over ``repeats`` seeded repetitions, against n on log-log
    axes, with the fitted slope beside the predicted -1/2."""
    plt = _pyplot()
    rng = np.random.default_rng(seed)
    errors = []
    for n in sizes:
        ones = rng.binomial(n, 0.5, size=repeats)  # the number of +1 among n signs
        means = (2.0 * ones - n) / n
        errors.append(float(np.sqrt(np.mean(means ** 2))))
    ns, errs = np.asarray(sizes, float), np.asarray(errors)
    slope = loglog_slope(ns, errs)
    fig, ax = plt.subplots(figsize=(4.6, 2.9))
    ax.loglog(ns, errs, "o-", ms=3, label=f"RMS error, fitted slope {slope:.3f}")
    ax.loglog(ns, 1 / np.sqrt(ns), "k--", lw=0.8, label="1/sqrt(n) (slope -1/2)")
    ax.set_xlabel("n")
    ax.set_ylabel("RMS of the sample mean's error")
    ax.legend(fontsize=7, frameon=False)
    path = _save(fig, folder / "fig-lln-rate.pdf")
    caption = (f"The law of large numbers at its rate: the root-mean-square error of the mean of "
               f"$n$ Rademacher signs, {repeats} repetitions per $n = {', '.join(map(str, sizes))}$, "
               f"seed {seed}; fitted log-log slope {slope:.3f} against the predicted $-1/2$.")
    return Figure("fig-lln-rate.pdf", path, "lln", caption)


def goe_fourth_moment_rate(folder: Path, sizes: tuple[int, ...] = (8, 16, 32, 64, 128),
                           samples: int = 200, seed: int = 0) -> Figure:
    """(1/n) tr (M/sqrt(n))^4 of GOE matrices, averaged over ``samples`` seeded draws per n:
    its distance to the limit C_2 = 2 against n, beside the exact 5/n + 5/n^2 (the finite-n
    moment of ``goe_trace_moment``), with the fitted log-log slope (predicted -1)."""
    plt = _pyplot()
    rng = np.random.default_rng(seed)
    estimates, errors = [], []
    for n in sizes:
        values = []
        for _ in range(samples):
            w = sample_goe(n, rng) / np.sqrt(n)
            w2 = w @ w
            values.append(float(np.sum(w2 * w2)) / n)
        estimates.append(float(np.mean(values)) - 2)
        errors.append(float(np.std(values, ddof=1) / np.sqrt(samples)))
    ns = np.asarray(sizes, float)
    exact = 5 / ns + 5 / ns ** 2
    slope = loglog_slope(ns, np.abs(np.asarray(estimates)))
    fig, ax = plt.subplots(figsize=(4.6, 2.9))
    ax.errorbar(ns, estimates, yerr=2 * np.asarray(errors), fmt="o", ms=3, capsize=2,
                label=f"Monte-Carlo, fitted slope {slope:.2f}")
    ax.plot(ns, exact, "k--", lw=0.8, label="exact 5/n + 5/n^2")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("n")
    ax.set_ylabel("(1/n) E tr (M/sqrt(n))^4 - 2")
    ax.legend(fontsize=7, frameon=False)
    path = _save(fig, folder / "fig-goe-fourth-moment.pdf")
    caption = (f"The fourth GOE moment approaches the Catalan number $C_2 = 2$ like $5/n$: {samples} "
               f"matrices per $n = {', '.join(map(str, sizes))}$, seed {seed}, error bars two "
               f"standard errors; fitted log-log slope {slope:.2f} against the predicted $-1$.")
    return Figure("fig-goe-fourth-moment.pdf", path, "semicircle", caption)


def nngp_at_finite_width(folder: Path, widths: tuple[int, ...] = (16, 64, 256, 1024),
                         samples: int = 64, seed: int = 0) -> Figure:
    """The empirical NNGP of a two-hidden-layer ReLU network (sigma_w^2 = 2, sigma_b^2 = 0,
    inputs (1, 1, 1) and (1, 1, -1), the theorem ``mlp_nngp_relu``) at finite widths
    (``empirical_nngp``, readout integrated out) against its infinite-width limit
    (``nngp_kernel``, the arc-cosine recursion)."""
    from tpcheck.engines.finite_width import empirical_nngp
    from tpcheck.nn import nngp_kernel

    plt = _pyplot()
    x = np.array([[1.0, 1.0, 1.0], [1.0, 1.0, -1.0]])
    limit = nngp_kernel(x, depth=2, activation="relu", sigma_w2=2.0, sigma_b2=0.0)
    means, errors = [], []
    for i, width in enumerate(widths):
        k = empirical_nngp(x, depth=2, activation="relu", width=width, samples=samples,
                           seed=seed + i, sigma_w2=2.0, sigma_b2=0.0)
        means.append(float(k.mean[0, 1]))
        errors.append(float(k.standard_error[0, 1]))
    target = float(limit[0, 1])
    fig, ax = plt.subplots(figsize=(4.6, 2.9))
    ax.errorbar(widths, means, yerr=2 * np.asarray(errors), fmt="o", ms=3, capsize=2,
                label=f"empirical NNGP, {samples} networks per width")
    ax.axhline(target, color="k", ls="--", lw=0.8, label=f"infinite-width limit {target:.4f}")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("width n")
    ax.set_ylabel("K(x, x')")
    ax.legend(fontsize=7, frameon=False)
    path = _save(fig, folder / "fig-nngp-width.pdf")
    caption = (f"The NNGP of a two-hidden-layer ReLU network ($\\sigma_w^2 = 2$, $\\sigma_b^2 = 0$) "
               f"between $x = (1, 1, 1)$ and $x' = (1, 1, -1)$ at widths {', '.join(map(str, widths))}, "
               f"{samples} networks per width, seeds {seed}..{seed + len(widths) - 1}, error bars "
               f"two standard errors, against the limit {target:.6f} of the arc-cosine "
               f"recursion; at width {widths[-1]} the estimate is {means[-1]:.4f} "
               f"$\\pm$ {errors[-1]:.4f}.")
    return Figure("fig-nngp-width.pdf", path, "nngp", caption)


def coord_check_figures(folder: Path, widths: tuple[int, ...] = (32, 64, 128, 256),
                        seeds: tuple[int, ...] = (0, 1, 2)) -> list[Figure]:
    """The coord check of the standard parametrization and of muP (two hidden tanh layers, one
    SGD step; ``coord_check`` and ``plot_coord_check``), small widths."""
    from tpcheck.engines.abc_figures import plot_coord_check
    from tpcheck.engines.abc_parametrizations import mup, standard
    from tpcheck.engines.coord_check import coord_check

    out = []
    for key, label, p in (("sp", "standard parametrization", standard(2)), ("mup", "muP", mup(2))):
        data = coord_check(p, widths=widths, seeds=seeds, steps=1)
        path, _ = plot_coord_check(data, folder / f"fig-coord-{key}.pdf")
        caption = (f"Coord check, {label}: the RMS change of each layer's output after one SGD "
                   f"step (learning rate {data.eta}, batch {data.batch}, tanh, base width "
                   f"{data.base_width}) at widths {', '.join(map(str, widths))}, seeds "
                   f"{', '.join(map(str, seeds))}; dashed: the predicted power of $n$.")
        out.append(Figure(f"fig-coord-{key}.pdf", path, "abc", caption, wide=True))
    return out


def transfer_figure(folder: Path, widths: tuple[int, ...] = (32, 64, 128),
                    log2_learning_rates: tuple[int, ...] = (-10, -8, -6, -4, -2),
                    seeds: tuple[int, ...] = (0,), steps: int = 20) -> Figure:
    """muTransfer: training loss against the learning rate at several widths, standard
    parametrization beside muP with Adam (``transfer_experiment``, ``plot_transfer``)."""
    from tpcheck.engines.abc_figures import plot_transfer
    from tpcheck.engines.abc_parametrizations import mup, standard
    from tpcheck.engines.coord_check import transfer_experiment

    settings = {"widths": widths, "log2_learning_rates": log2_learning_rates, "seeds": seeds,
                "steps": steps, "batch": 16, "base_width": widths[0]}
    results = [transfer_experiment(standard(2, optimizer="adam"), "SP, Adam", **settings),
               transfer_experiment(mup(2, "adam"), "muP, Adam", **settings)]
    path, _ = plot_transfer(results, folder / "fig-transfer.pdf")
    best = "; ".join(f"{r.label}: " + ", ".join(f"n = {w}: {v:g}" for w, v in
                                                 r.best_log2_learning_rate().items())
                     for r in results)
    caption = (f"Learning-rate transfer: training loss of a two-hidden-layer tanh MLP on a "
               f"teacher task after {steps} Adam steps (batch 16, base width {widths[0]}) at "
               f"widths {', '.join(map(str, widths))}, log2 learning rates "
               f"{', '.join(map(str, log2_learning_rates))}, seeds {', '.join(map(str, seeds))}. "
               f"Best log2 learning rate per width: {best}.")
    return Figure("fig-transfer.pdf", path, "abc", caption, wide=True)


#: Every figure of the book, in the order drawn.
FIGURES: tuple[Callable[[Path], Figure | list[Figure]], ...] = (
    semicircle_spectrum, goe_fourth_moment_rate, law_of_large_numbers_rate, nngp_at_finite_width,
    coord_check_figures, transfer_figure,
)


def draw_figures(folder: Path) -> list[Figure]:
    """Every figure of :data:`FIGURES`, drawn into ``folder``."""
    out: list[Figure] = []
    for draw in FIGURES:
        drawn = draw(folder)
        out.extend(drawn if isinstance(drawn, list) else [drawn])
    return out
