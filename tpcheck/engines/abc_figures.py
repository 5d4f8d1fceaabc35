"""Figures for abc-parametrizations: the coord check, a slice of abc-space, muTransfer curves.

matplotlib with the Agg backend, written as vector PDF; every function returns the caption text
(seeds, sizes, settings) beside the path so a report can print it under the figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402

from tpcheck.engines.abc_parametrizations import (  # noqa: E402
    AbcParametrization,
    classify,
    equivalent,
    invariants,
)
from tpcheck.engines.coord_check import CoordCheckData, TransferResult, predicted_exponent  # noqa: E402

REGIMES = ("unstable", "trivial", "kernel", "feature learning")
REGIME_COLOURS = ("#f2c4c4", "#e6e6e6", "#4c72b0", "#dd8452")


def plot_coord_check(data: CoordCheckData, path: str | Path, changes: bool = True) -> tuple[Path, str]:
    """One panel per layer output (h^1..h^L, f), width on a log axis, one line per step.

    ``changes`` plots the RMS change since init (else the RMS size); the mean over seeds is drawn
    with +-1 standard error bars, and a dashed line of the predicted slope n^s through the step-1
    (changes) or step-0 (sizes) curve at the smallest width.
    """
    names = [name for name in data.sizes if name.startswith("Delta ") == changes]
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3.0), squeeze=False)
    widths = np.asarray(data.widths, dtype=float)
    first_step = 1 if changes else 0
    for ax, name in zip(axes[0], names, strict=True):
        values = data.sizes[name]
        for t in range(first_step, data.steps + 1):
            logs = np.log(values[t])
            mean, se = np.exp(logs.mean(axis=1)), logs.std(axis=1, ddof=1) / np.sqrt(logs.shape[1])
            ax.errorbar(widths, mean, yerr=[mean - mean * np.exp(-se), mean * np.exp(se) - mean],
                        marker="o", ms=3, label=f"t = {t}")
            if t == first_step:
                predicted = predicted_exponent(data.parametrization, name, t)
                if predicted is not None:
                    ax.plot(widths, mean[0] * (widths / widths[0]) ** float(predicted), "k--", lw=0.8,
                            label=f"n^{predicted}")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("width n")
        ax.legend(fontsize=6)
    axes[0][0].set_ylabel("RMS change since init" if changes else "RMS coordinate")
    label = data.parametrization.name or data.parametrization.describe()
    fig.suptitle(f"coord check: {label}", fontsize=10)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, format="pdf")
    plt.close(fig)
    return out, data.caption()


def slice_point(base: AbcParametrization, output_a: Fraction, c: Fraction) -> AbcParametrization:
    """``base`` with the output layer's a_{L+1} and the shared c replaced (the slice's point)."""
    a = (*base.a[:-1], output_a)
    return AbcParametrization(a, base.b, (c,) * len(a), base.optimizer)


def place_on_slice(base: AbcParametrization, point: AbcParametrization) -> tuple[Fraction, Fraction] | None:
    """(a_{L+1}, c) of the slice point equivalent to ``point``, or None if the orbit misses the slice.

    The output layer's invariants fix them: a_{L+1} = (a+b)_{L+1} - b_{L+1}, c = (k a + c)_{L+1} - k a_{L+1};
    the candidate is kept only if it is equivalent to ``point`` in every layer.
    """
    if point.optimizer != base.optimizer or len(point.a) != len(base.a):
        return None
    ab_out, update_out = invariants(point)[-1]
    k = 2 if base.optimizer == "sgd" else 1
    output_a = ab_out - base.b[-1]
    c = update_out - k * output_a
    return (output_a, c) if equivalent(slice_point(base, output_a, c), point).holds else None


def plot_abc_slice(base: AbcParametrization, path: str | Path, named: dict[str, AbcParametrization],
                   output_a_range: tuple[Fraction, Fraction] = (Fraction(-1, 2), Fraction(2)),
                   c_range: tuple[Fraction, Fraction] = (Fraction(-2), Fraction(2)),
                   step: Fraction = Fraction(1, 20)) -> tuple[Path, str]:
    """The (a_{L+1}, c) plane through ``base``: every rational grid point classified exactly.

    Stable-trivial and unstable fill areas; the nontrivial points (kernel regime and feature
    learning) lie on lines, drawn as markers; named points equivalent to a slice point are marked.
    """
    span_a, span_c = output_a_range[1] - output_a_range[0], c_range[1] - c_range[0]
    xs = [output_a_range[0] + i * step for i in range(int(span_a / step) + 1)]
    ys = [c_range[0] + j * step for j in range(int(span_c / step) + 1)]
    codes = np.array([[REGIMES.index(classify(slice_point(base, x, y)).regime) for x in xs] for y in ys])
    fig, ax = plt.subplots(figsize=(5.6, 4.6))
    half = float(step) / 2
    edges_x = np.array([float(x) for x in xs] + [float(xs[-1]) + 2 * half]) - half
    edges_y = np.array([float(y) for y in ys] + [float(ys[-1]) + 2 * half]) - half
    ax.pcolormesh(edges_x, edges_y, np.where(codes >= 2, 1, codes), cmap=ListedColormap(REGIME_COLOURS[:2]),
                  vmin=0, vmax=1, shading="flat", rasterized=False)
    for code in (2, 3):
        jj, ii = np.nonzero(codes == code)
        if len(ii):
            ax.scatter([float(xs[i]) for i in ii], [float(ys[j]) for j in jj], s=6 if code == 2 else 30,
                       color=REGIME_COLOURS[code], label=REGIMES[code], zorder=3)
    for regime, colour in zip(REGIMES[:2], REGIME_COLOURS[:2], strict=True):
        ax.scatter([], [], marker="s", color=colour, label=regime)
    placed = []
    for name, point in named.items():
        where = place_on_slice(base, point)
        if where is not None:
            placed.append(f"{name} at (a_out, c) = ({where[0]}, {where[1]})")
            ax.scatter([float(where[0])], [float(where[1])], marker="o", s=120, facecolors="none",
                       edgecolors="k", zorder=4)
            ax.annotate(name, (float(where[0]), float(where[1])), textcoords="offset points", xytext=(6, 4),
                        fontsize=8)
    out_layer = base.output_layer
    ax.set_xlabel(f"a_{out_layer} (output multiplier n^-a)")
    ax.set_ylabel("c (learning rate eta n^-c, all layers)")
    ax.legend(fontsize=7, loc="upper right")
    fixed = (", ".join(f"a_{layer}={base.a[layer - 1]}" for layer in range(1, out_layer))
             + ", b = (" + ", ".join(str(v) for v in base.b) + ")")
    ax.set_title(f"abc-space slice ({base.optimizer}), {fixed}", fontsize=8)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, format="pdf")
    plt.close(fig)
    caption = (f"Slice of abc-space through {base.describe()}: a_{out_layer} in [{output_a_range[0]}, "
               f"{output_a_range[1]}], c in [{c_range[0]}, {c_range[1]}], grid step {step}, each point "
               f"classified in exact arithmetic. Named points on the slice (up to symmetry): "
               f"{'; '.join(placed) or 'none'}.")
    return out, caption


def plot_transfer(results: Sequence[TransferResult], path: str | Path) -> tuple[Path, str]:
    """Loss against log2 learning rate, one curve per width, one panel per parametrization."""
    fig, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results), 3.4), squeeze=False, sharey=True)
    for ax, result in zip(axes[0], results, strict=True):
        means = result.mean_losses()
        best = result.best_log2_learning_rate()
        for i, width in enumerate(result.widths):
            finite = np.where(np.isfinite(means[i]), means[i], np.nan)
            line, = ax.plot(result.log2_learning_rates, finite, marker="o", ms=3, label=f"n = {width}")
            ax.axvline(best[width], color=line.get_color(), lw=0.6, ls=":")
        ax.set_yscale("log")
        ax.set_xlabel("log2 learning rate")
        ax.set_title(result.label, fontsize=9)
        ax.legend(fontsize=6)
    axes[0][0].set_ylabel("training loss (mean over seeds)")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, format="pdf")
    plt.close(fig)
    caption = " | ".join(f"{r.caption()}; best log2 lr per width {r.best_log2_learning_rate()}"
                         for r in results)
    return out, caption
