"""Figures drawn from a checked theorem's own evidence: the coord check and the learning-rate grid.

A width-experiment rule (``coord_check``, ``lr_transfer``) keeps what it measured in its
evidence (``data["figure"]``); this front-end draws it with the abc figures of
:mod:`tpcheck.engines.abc_figures`, so the figure under a theorem in the LaTeX output shows the
very runs its verdict rests on, not a second experiment. Each figure is named
``fig-ev-THEOREM-K.pdf`` (the names :data:`tpcheck.latex_build.FIGURE_NAME` admits).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class EvidenceFigure:
    """One figure a theorem's evidence asks for: its file name, the step's line and the data."""

    name: str
    theorem: str
    line: int
    data: dict[str, Any]

    @property
    def caption(self) -> str:
        d = self.data
        who = d["parametrization"].get("name") or "p"
        seeds = d["seeds"]
        sizes = (f"widths {d['widths'][0]}..{d['widths'][-1]}, seeds {seeds[0]}..{seeds[-1]}")
        if d["kind"] == "coord_check":
            return (f"Coord check behind line {self.line} of {self.theorem}: {who}, {d['activation']} MLP, "
                    f"one step of eta = {d['eta']} on a fixed batch of {d['batch']}, {sizes}; RMS change "
                    f"of each layer's output since init against width (mean over seeds, +-1 standard "
                    f"error; dashed: the predicted slope).")
        return (f"Learning-rate grid behind line {self.line} of {self.theorem}: {who}, {d['steps']} steps of "
                f"minibatch {d['batch']}, {sizes}; training loss (mean over seeds) against log2 eta, one "
                f"curve per width; dotted: the best grid point.")


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "theorem"


def evidence_figures(result: Any) -> list[EvidenceFigure]:
    """The figures a theorem result's passing steps carry, in step order."""
    found = []
    for step in getattr(result, "steps", []):
        if not step.verdict.passes:
            continue
        for e in step.evidence:
            figure = e.data.get("figure") if isinstance(e.data, dict) else None
            if isinstance(figure, dict) and figure.get("kind") in ("coord_check", "lr_transfer"):
                found.append(EvidenceFigure(f"fig-ev-{_slug(result.name)}-{len(found) + 1}.pdf",
                                            result.name, step.line, figure))
    return found


def _parametrization(data: dict[str, Any]):  # noqa: ANN202  (an AbcParametrization)
    from tpcheck.engines.abc_parametrizations import AbcParametrization

    return AbcParametrization(tuple(Fraction(x) for x in data["a"]), tuple(Fraction(x) for x in data["b"]),
                              tuple(Fraction(x) for x in data["c"]), data["optimizer"], data.get("name", ""))


def draw(figure: EvidenceFigure, folder: Path) -> Path:
    """Draw ``figure`` into ``folder`` (vector PDF) and return its path."""
    from tpcheck.engines.abc_figures import plot_coord_check, plot_transfer
    from tpcheck.engines.coord_check import CoordCheckData, TransferResult

    d = figure.data
    p = _parametrization(d["parametrization"])
    path = folder / figure.name
    if d["kind"] == "coord_check":
        sizes = {k: np.asarray(v, dtype=float) for k, v in d["sizes"].items()}
        data = CoordCheckData(p, tuple(d["widths"]), tuple(d["seeds"]), int(d["steps"]), float(d["eta"]),
                              d["activation"], int(d["input_dim"]), int(d["batch"]), int(d["base_width"]),
                              sizes)
        plot_coord_check(data, path, changes=True)
    else:
        losses = np.asarray([[[math.inf if v is None else v for v in cell] for cell in row]
                             for row in d["losses"]], dtype=float)
        result = TransferResult(d["label"], p, tuple(d["widths"]), tuple(d["log2_learning_rates"]),
                                tuple(d["seeds"]), losses, int(d["steps"]), int(d["batch"]),
                                int(d["base_width"]))
        plot_transfer([result], path)
    return path

