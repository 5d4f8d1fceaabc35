"""Benchmark: the coord check of SP, NTP and muP against the exact exponents (issue 14).

For each parametrization a tanh MLP with 2 hidden layers (d = 16, batch 8, 16 seeds) is trained
one SGD step at widths 64..2048 (``--widths`` to change, e.g. up to 4096); the log-log slope of
each layer's RMS size at init and of its RMS change after one step is fitted per seed and set
beside the exponent predicted in exact arithmetic: predicted, measured (mean over seeds), standard
error, z. A slope passes when |z| is below the two-sided Student-t threshold (seeds - 1 degrees of
freedom) at family-wise level 0.01 over all slopes (Bonferroni). Adam rows (SP and muP, eta 0.01)
are printed too; they are outside the pass criterion (SP-Adam's n^1 change has an n^0 companion
term that biases slopes at these widths).

With ``--transfer`` it also runs the muTransfer experiment: SP and muP (TP5 Table 3 gauge, base
width 128), a tanh MLP on a synthetic teacher task, SGD with minibatches of 32, a grid of learning
rates, widths 128..2048, 3 seeds; the best learning rate per width is printed and plotted.

    python benchmarks/coord_check.py [--widths 64,...,2048] [--seeds 16] [--eta 0.05] [--plots DIR]
                                     [--transfer]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from tpcheck.engines.abc_parametrizations import (
    PUBLISHED_MUP_TABLES,
    compare_with_published,
    mup,
    named_points,
    ntk,
    standard,
)
from tpcheck.engines.coord_check import (
    coord_check,
    fit_slopes,
    slope_table,
    student_t_threshold,
    transfer_experiment,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", default="64,128,256,512,1024,2048")
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--eta", type=float, default=0.05, help="SGD learning rate (Adam uses 0.01)")
    parser.add_argument("--plots", default=None, help="folder for the coord-check and abc-slice PDFs")
    parser.add_argument("--no-adam", action="store_true")
    parser.add_argument("--transfer", action="store_true",
                        help="also run the muTransfer experiment (SP vs muP, SGD; a few minutes)")
    args = parser.parse_args(argv)
    widths = tuple(int(w) for w in args.widths.split(","))
    seeds = tuple(range(args.seeds))
    checked = {"SP": standard(2, 0), "SP, eta ~ 1/n": standard(2, 1), "NTP": ntk(2), "muP": mup(2)}
    extra = {} if args.no_adam else {"SP (Adam)": standard(2, 0, "adam"), "muP (Adam)": mup(2, "adam")}
    start = time.perf_counter()
    fits, data_by_name = {}, {}
    for name, p in {**checked, **extra}.items():
        data = coord_check(p, widths=widths, seeds=seeds, eta=args.eta if p.optimizer == "sgd" else 0.01)
        data_by_name[name] = data
        fits[name] = [f for f in fit_slopes(data, steps=[0, 1])]
    elapsed = time.perf_counter() - start
    tested = [f for name in checked for f in fits[name] if f.predicted is not None]
    threshold = student_t_threshold(len(seeds) - 1, 0.01, checks=len(tested))
    print(f"coord check: widths {widths}, {len(seeds)} seeds, tanh, d = 16, batch 8, SGD eta = {args.eta}, "
          f"Adam eta = 0.01; {elapsed:.1f} s")
    print(slope_table(fits))
    failing = [(name, f) for name in checked for f in fits[name] if f.predicted is not None
               and abs(f.z) > threshold]
    print(f"\n{len(tested)} predicted slopes of SP, SP (eta ~ 1/n), NTP, muP; |z| threshold {threshold:.2f} "
          f"(t with {len(seeds) - 1} dof, family-wise 0.01); failing: {len(failing)}")
    for name, f in failing:
        print(f"  FAIL {name} t={f.step} {f.quantity}: slope {f.slope:+.3f}, predicted {f.predicted}, "
              f"z {f.z:+.2f}")
    if args.plots:
        from tpcheck.engines.abc_figures import plot_abc_slice, plot_coord_check

        folder = Path(args.plots)
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in data_by_name.items():
            slug = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")
            print(plot_coord_check(data, folder / f"coord_check_{slug}.pdf")[0])
        points = named_points(2)
        for base, slug in ((mup(2), "mup"), (standard(2), "sp")):
            path, caption = plot_abc_slice(base, folder / f"abc_slice_{slug}.pdf", points)
            print(path, "\n ", caption)
    if args.transfer:
        failing += run_transfer(args.plots)
    return 1 if failing else 0


def run_transfer(plots: str | None) -> list:
    """SP and muP (TP5 Table 3 gauge, base width 128) on a learning-rate grid, widths 128..2048."""
    sp = standard(2, 0)
    mu = compare_with_published(PUBLISHED_MUP_TABLES[0], "sgd").derived
    start = time.perf_counter()
    results = [transfer_experiment(p, label) for label, p in (("SP", sp), ("muP (Table 3)", mu))]
    print(f"\nmuTransfer: {results[0].caption()} ({time.perf_counter() - start:.1f} s)")
    failing = []
    for result in results:
        best = result.best_log2_learning_rate()
        spread = max(best.values()) - min(best.values())
        print(f"{result.label:<14} best log2 lr per width {best}; spread {spread:g} grid steps")
        for width, row in zip(result.widths, result.mean_losses(), strict=True):
            print(f"  n = {width:>5}: " + " ".join(f"{v:7.4f}" for v in row))
        if result.label.startswith("muP") and spread > 1:
            failing.append(result)
    if plots:
        from tpcheck.engines.abc_figures import plot_transfer

        path, caption = plot_transfer(results, Path(plots) / "transfer.pdf")
        print(path, "\n ", caption)
    return failing


if __name__ == "__main__":
    sys.exit(main())
