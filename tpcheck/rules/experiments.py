"""Width experiments as evidence for exponent claims: the coord check and learning-rate transfer.

Both rules train the numpy MLP of :mod:`tpcheck.engines.coord_check` at several widths, seeded,
and compare what they measure with the claimed exponent. A finite-width experiment can agree
with an exponent but never prove one, so the strongest verdict is CORROBORATED, with the widths,
seeds, slope, standard error and z (or the best learning rate per width) in the evidence; a claim
the experiment contradicts, or cannot resolve, is UNDECIDED with the numbers that say so.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache
from typing import Any

import numpy as np
import sympy

from tpcheck.engines.abc_parametrizations import (
    AbcParametrization,
    ParametrizationHead,
    parametrization_from_atom,
)
from tpcheck.engines.coord_check import (
    CoordCheckError,
    coord_check,
    fit_slopes,
    optimum_exponents,
    student_t_threshold,
    transfer_experiment,
)
from tpcheck.kernel import Context, Evidence, Goal, Judgement, Verdict, rule
from tpcheck.trusted import rests_on

#: The trusted-base entry of both rules (tpcheck/trusted.py).
TRUSTED = "width-experiments"
#: The per-claim false-alarm rate of the coord check's t interval (two-sided).
COORD_ALPHA = 1e-3
#: An interval wider than this cannot tell neighbouring exponents (multiples of 1/2) apart.
RESOLUTION = Fraction(1, 2)
#: Bounds on what a proof may ask an experiment to run.
MAX_WIDTH, MAX_SEEDS = 4096, 32
_RELATIONS = ("=", "<=", "<", ">=", ">")


def _options(args: tuple, allowed: dict[str, int]) -> dict[str, int] | str:
    """The ``name = value`` options of the step over the rule's defaults, or why they are refused."""
    chosen = dict(allowed)
    for arg in args:
        if not (isinstance(arg, tuple) and arg and arg[0] == "option"):
            return f"arguments are named options ({', '.join(f'{k} = {v}' for k, v in allowed.items())})"
        _, name, value = arg
        if name not in allowed:
            return f"unknown option '{name}' (known: {', '.join(allowed)})"
        if not (isinstance(value, sympy.Integer) and value > 0):
            return f"option {name} = {value}: a positive integer"
        chosen[name] = int(value)
    for name in ("min_width", "max_width"):
        w = chosen[name]
        if w & (w - 1) or w > MAX_WIDTH:
            return f"{name} = {w}: a power of 2 up to {MAX_WIDTH}"
    if chosen["min_width"] >= chosen["max_width"]:
        return "min_width must be below max_width"
    if not 2 <= chosen["seeds"] <= MAX_SEEDS:
        return f"seeds = {chosen['seeds']}: between 2 and {MAX_SEEDS}"
    return chosen


def _doubling(low: int, high: int) -> tuple[int, ...]:
    widths = [low]
    while widths[-1] < high:
        widths.append(widths[-1] * 2)
    return tuple(widths)


LinearForm = tuple[dict[ParametrizationHead, Fraction], Fraction]


def _linear_form(goal: Goal, kinds: tuple[str, ...]) -> LinearForm | str:
    """lhs - rhs as sum_h c_h h + d over questions h of ``kinds`` (at least one; no other
    question), with rational c_h and d: ({h: c_h}, d); otherwise why the step is not of that form.
    The step then claims sum_h c_h h + d REL 0."""
    difference = sympy.expand(goal.lhs - goal.rhs)
    heads = sorted(difference.atoms(ParametrizationHead), key=sympy.default_sort_key)
    if not heads and (goal.lhs.atoms(ParametrizationHead) | goal.rhs.atoms(ParametrizationHead)):
        return "the questions cancel: the step does not depend on the experiment"
    others = [str(h) for h in heads if str(h.args[0]) not in kinds]
    if not heads or others:
        wanted = " or ".join(k + "(p, ...)" for k in kinds)
        return (f"the step must ask {wanted} and nothing else"
                + (f"; it asks {', '.join(others)}" if others else ""))
    dummies = {h: sympy.Dummy(f"h{i}") for i, h in enumerate(heads)}
    linear = difference.xreplace(dummies)
    poly = sympy.Poly(linear, *dummies.values()) if linear.free_symbols else None
    if poly is None or poly.total_degree() > 1 or linear.free_symbols - set(dummies.values()):
        return "the step is not linear in its questions (sum of rational multiples of them, plus a number)"
    coefficients: dict[ParametrizationHead, Fraction] = {}
    for h, x in dummies.items():
        c = poly.coeff_monomial(x)
        if not isinstance(c, sympy.Rational):
            return f"the coefficient of {h} is {c}, not a rational number"
        if c != 0:
            coefficients[h] = Fraction(int(c.p), int(c.q))
    constant = poly.coeff_monomial(1)
    if not isinstance(constant, sympy.Rational):
        return f"the number in the step, {constant}, is not rational"
    if not coefficients:
        return "the questions cancel: the step does not depend on the experiment"
    return coefficients, Fraction(int(constant.p), int(constant.q))


Design = tuple[dict[ParametrizationHead, Fraction], Fraction, tuple[int, ...], tuple[int, ...]]


def _design(rule_name: str, goal: Goal, args: tuple, kinds: tuple[str, ...],
            defaults: dict[str, int]) -> Design | Judgement:
    """The step's linear form and the experiment's widths and seeds (the options over
    ``defaults``), or the UNDECIDED judgement that says why the step cannot be run."""
    form = _linear_form(goal, kinds)
    if isinstance(form, str):
        return Judgement.undecided(f"{rule_name}: {form}")
    options = _options(args, defaults)
    if isinstance(options, str):
        return Judgement.undecided(f"{rule_name}: {options}")
    widths = _doubling(options["min_width"], options["max_width"])
    return (*form, widths, tuple(range(options["seeds"])))


def _combined(coefficients: dict[ParametrizationHead, Fraction], constant: Fraction,
              intervals: dict[ParametrizationHead, tuple[Any, Any]]) -> tuple[Any, Any]:
    """The interval of sum_h c_h h + d when each h lies in its interval (interval arithmetic)."""
    low = high = constant
    for h, c in coefficients.items():
        lo, hi = intervals[h]
        low, high = (low + c * lo, high + c * hi) if c > 0 else (low + c * hi, high + c * lo)
    return low, high


def _holds(rel: str, low: Any, high: Any) -> bool | None:
    """Whether every value in [low, high] satisfies ``value REL 0`` (True), none does (False), or
    the interval straddles the claim (None)."""
    if rel == "=":
        return low <= 0 <= high
    inside = {"<": (high < 0, low >= 0), "<=": (high <= 0, low > 0),
              ">": (low > 0, high <= 0), ">=": (low >= 0, high < 0)}[rel]
    return True if inside[0] else False if inside[1] else None


def _form_text(coefficients: dict[ParametrizationHead, Fraction], constant: Fraction, rel: str) -> str:
    terms = [f"{'' if c == 1 else '-' if c == -1 else f'{c} '}{h}" for h, c in coefficients.items()]
    form = " + ".join(terms).replace("+ -", "- ")
    if not constant:
        return f"{form} {rel} 0"
    return f"{form} {'+' if constant > 0 else '-'} {abs(constant)} {rel} 0"


def _parametrization_data(p: AbcParametrization) -> dict[str, Any]:
    return {"name": p.name, "optimizer": p.optimizer, "a": [str(x) for x in p.a],
            "b": [str(x) for x in p.b], "c": [str(x) for x in p.c]}


def _point(head: ParametrizationHead) -> AbcParametrization:
    return parametrization_from_atom(head.args[1].args[0])


@lru_cache(maxsize=16)
def _coord_check_run(p: AbcParametrization, label: str, widths: tuple[int, ...], seeds: tuple[int, ...]):  # noqa: ANN202
    del label  # part of the cache key only: the parametrization's name is not part of its equality
    return coord_check(p, widths=widths, seeds=seeds, steps=1)


def _measured_quantity(head: ParametrizationHead) -> tuple[str, int]:
    """The coord check's quantity and step for ``init_exponent(p, l)`` / ``update_exponent(p, l)``."""
    p = _point(head)
    layer = int(head.args[2].args[0])
    base = "f" if layer == p.output_layer else f"h^{layer}"
    return (base, 0) if str(head.args[0]) == "init_exponent" else (f"Delta {base}", 1)


@rule("coord_check", relations=_RELATIONS, human="the coord check",
      latex="by the coord check (a width experiment)")
def coord_check_rule(goal: Goal, args: tuple, ctx: Context) -> Judgement:
    """``init_exponent(p, l) = s`` or ``update_exponent(p, l) = s`` (l = L+1: the output f), or any
    relation linear in such questions, corroborated by a coord check: the MLP declared by each p
    (tanh, d = 16, one fixed batch of 8 per seed, SGD eta = 0.05 or Adam eta = 0.01) is trained one
    step at widths n = min_width, 2 min_width, ..., max_width (default 64..2048) for seeds
    0..seeds-1 (default 8). Per seed the least-squares slope of log RMS(h^l) at t = 0, or of
    log RMS(h^l_1 - h^l_0), on log n estimates the exponent; the mean slope m over seeds has
    standard error se (their standard deviation / sqrt(seeds)) and the exponent is taken in
    m +- t se, t the two-sided Student-t quantile for seeds - 1 degrees of freedom at level 1e-3
    divided among the k questions (Bonferroni). The claim is CORROBORATED when it holds on the
    whole interval these give it (interval arithmetic) and every t se < 1/4 (the experiment tells
    exponents 1/2 apart); otherwise UNDECIDED: contradicted (with z) or not resolved.
    Reference: Yang et al., Tensor Programs V (2022), §3 and App. D (the coord check); Yang & Hu,
    Tensor Programs IV (2021), §3 (the exponents it measures).
    """
    design = _design("coord_check", goal, args, ("init_exponent", "update_exponent"),
                     {"min_width": 64, "max_width": 2048, "seeds": 8})
    if isinstance(design, Judgement):
        return design
    coefficients, constant, widths, seeds = design
    dof = len(seeds) - 1
    t = student_t_threshold(dof, familywise_alpha=COORD_ALPHA, checks=len(coefficients))
    runs: dict[tuple[AbcParametrization, str], Any] = {}
    intervals: dict[ParametrizationHead, tuple[float, float]] = {}
    fits = {}
    lines = []
    for h in coefficients:
        p = _point(h)
        try:
            data = _coord_check_run(p, p.name, widths, seeds)  # once per parametrization
        except CoordCheckError as exc:
            return Judgement.undecided(f"coord_check: {exc}")
        runs[(p, p.name)] = data
        quantity, step = _measured_quantity(h)
        fit = next(f for f in fit_slopes(data, steps=[step]) if f.quantity == quantity)
        if not (np.isfinite(fit.slope) and np.isfinite(fit.std_error)):
            return Judgement.undecided(f"coord_check: {h}: the size of {quantity} is not finite at every "
                                       "width (the run diverged)")
        fits[h] = fit
        half = t * fit.std_error
        intervals[h] = (fit.slope - half, fit.slope + half)
        lines.append(f"{h}: {quantity} at t = {step}, slope {fit.slope:+.4f} +- {fit.std_error:.4f} "
                     f"(interval +-{half:.3f})")
    rests_on(TRUSTED)
    estimate = float(constant) + sum(float(c) * fits[h].slope for h, c in coefficients.items())
    spread = float(np.sqrt(sum(float(c) ** 2 * fits[h].std_error ** 2 for h, c in coefficients.items())))
    z = estimate / spread if spread > 0 else (0.0 if estimate == 0 else float("inf"))
    low, high = _combined(coefficients, constant, intervals)
    claim = _form_text(coefficients, constant, goal.rel)
    measured = (f"{'; '.join(lines)}; seeds 0..{len(seeds) - 1}, widths {widths[0]}..{widths[-1]}, "
                f"t = {t:.2f} ({dof} degrees of freedom, level {COORD_ALPHA:g} over {len(coefficients)} "
                f"question(s)); the claim {claim} has left side {estimate:+.4f} +- {spread:.4f}, z = "
                f"{z:+.2f}, within [{low:+.3f}, {high:+.3f}]")
    wide = [str(h) for h in coefficients if intervals[h][1] - intervals[h][0] >= float(RESOLUTION)]
    if wide:
        return Judgement.undecided(f"coord_check: not resolved: the interval of {', '.join(wide)} is "
                                   f"{RESOLUTION} wide or more (more seeds or widths); {measured}")
    holds = _holds(goal.rel, low, high)
    if holds is not True:
        why = "contradicts the claim" if holds is False else "cannot tell whether the claim holds"
        return Judgement.undecided(f"coord_check: the experiment {why}: {measured}")
    evidence = [Evidence("montecarlo", True, f"the rule's own coord check of {p.name or 'p'}: "
                         f"{len(seeds)} seeds x {len(widths)} widths, z = {z:+.2f}", {
        "samples": len(widths) * len(seeds), "seed": seeds[0], "seeds": list(seeds), "z": z,
        "instance": {"n": f"{widths[0]}..{widths[-1]}"}, "threshold": t,
        "slopes": {str(h): [fits[h].slope, fits[h].std_error] for h in coefficients if _point(h) == p},
        "figure": {"kind": "coord_check", "parametrization": _parametrization_data(p),
                   "widths": list(widths), "seeds": list(seeds), "eta": data.eta,
                   "activation": data.activation, "input_dim": data.input_dim, "batch": data.batch,
                   "base_width": data.base_width, "steps": data.steps,
                   "sizes": {k: v.tolist() for k, v in data.sizes.items()}}})
        for (p, _), data in runs.items()]
    return Judgement(Verdict.CORROBORATED, f"coord_check: {measured}", evidence=evidence)


@lru_cache(maxsize=8)
def _transfer_run(p: AbcParametrization, label: str, widths: tuple[int, ...], seeds: tuple[int, ...]):  # noqa: ANN202
    return transfer_experiment(p, label=label, widths=widths, seeds=seeds, base_width=widths[0])


@rule("lr_transfer", relations=_RELATIONS, human="a learning-rate transfer experiment",
      latex="by a learning-rate transfer experiment")
def lr_transfer(goal: Goal, args: tuple, ctx: Context) -> Judgement:
    """``optimal_lr_exponent(p) REL s`` (or a relation linear in such questions): how the best
    width-independent learning rate eta*(n) scales with width, corroborated by a grid experiment.
    The MLP declared by each p (tanh) is trained 60 steps of minibatch 32 on a seeded teacher task
    at widths min_width..max_width (default 128..2048, doubling; multipliers relative to the
    smallest) for each log2 eta in -8..1 and seeds 0..seeds-1 (default 3); b(n) is the grid point
    of least mean loss over seeds. The exponents s consistent with every b(n) within half a grid
    step D of beta + s log2 n form the exact interval
    max (b_j - b_i - D)/(x_j - x_i) <= s <= min (b_j - b_i + D)/(x_j - x_i) (x = log2 n). The claim
    is CORROBORATED when it holds on the whole interval these give it (exact interval arithmetic),
    each interval is at most 1/2 wide and no width's best point is at the grid's edge; otherwise
    UNDECIDED. The intervals are the grid's resolution; the seeds' noise is reported, not bounded.
    Reference: Yang et al., Tensor Programs V (2022), §1-3 (muTransfer: under muP eta* converges
    as n -> oo; under SP it shifts with width).
    """
    design = _design("lr_transfer", goal, args, ("optimal_lr_exponent",),
                     {"min_width": 128, "max_width": 2048, "seeds": 3})
    if isinstance(design, Judgement):
        return design
    coefficients, constant, widths, seeds = design
    intervals: dict[ParametrizationHead, tuple[Fraction, Fraction]] = {}
    lines, evidence = [], []
    for h in coefficients:
        p = _point(h)
        try:
            result = _transfer_run(p, p.name or "p", widths, seeds)
            track = optimum_exponents(widths, result.log2_learning_rates, result.mean_losses())
            per_seed = [optimum_exponents(widths, result.log2_learning_rates, result.losses[:, :, k])
                        for k in range(len(seeds))]
        except CoordCheckError as exc:
            return Judgement.undecided(f"lr_transfer: {h}: {exc}")
        grid = result.log2_learning_rates
        best = ", ".join(f"{w}: {track.best[w]}" for w in widths)
        seed_tracks = " | ".join(", ".join(str(s.best[w]) for w in widths) for s in per_seed)
        measured = (f"{h}: best log2 eta by width {best} (grid {grid[0]:g}..{grid[-1]:g} step "
                    f"{track.grid_step}, mean loss over seeds 0..{len(seeds) - 1}; per seed: {seed_tracks})")
        if track.at_edge:
            return Judgement.undecided(f"lr_transfer: the best learning rate is at the grid's edge at "
                                       f"width(s) {', '.join(map(str, track.at_edge))}: {measured}")
        if track.low is None or track.high is None:
            return Judgement.undecided(f"lr_transfer: no power law n^s fits the optimum within half a "
                                       f"grid step: {measured}")
        if track.high - track.low > RESOLUTION:
            return Judgement.undecided(f"lr_transfer: not resolved: {h} in [{track.low}, {track.high}] is "
                                       f"wider than {RESOLUTION}; {measured}")
        intervals[h] = (track.low, track.high)
        lines.append(f"{measured}, so {h} in [{track.low}, {track.high}]")
        size = f"{len(seeds)} seeds x {len(widths)} widths x {len(grid)} rates"
        evidence.append(Evidence("montecarlo", True, f"the rule's own learning-rate grid for "
                                 f"{p.name or 'p'}: {size}", {
            "samples": len(widths) * len(grid) * len(seeds), "seed": seeds[0], "seeds": list(seeds),
            "instance": {"n": f"{widths[0]}..{widths[-1]}"},
            "best_log2_lr": {str(w): str(track.best[w]) for w in widths},
            "exponent_interval": [str(track.low), str(track.high)],
            "figure": {"kind": "lr_transfer", "parametrization": _parametrization_data(p),
                       "label": result.label, "widths": list(widths), "seeds": list(seeds),
                       "log2_learning_rates": list(grid), "steps": result.steps, "batch": result.batch,
                       "base_width": result.base_width,
                       "losses": [[[v if math.isfinite(v) else None for v in cell] for cell in row]
                                  for row in result.losses.tolist()]}}))
    rests_on(TRUSTED)
    low, high = _combined(coefficients, constant, intervals)
    claim = _form_text(coefficients, constant, goal.rel)
    detail = f"{'; '.join(lines)}; the claim {claim} has left side in [{low}, {high}]"
    holds = _holds(goal.rel, low, high)
    if holds is not True:
        why = "contradicts the claim" if holds is False else "cannot tell whether the claim holds"
        return Judgement.undecided(f"lr_transfer: the experiment {why}: {detail}")
    return Judgement(Verdict.CORROBORATED, f"lr_transfer: {detail}", evidence=evidence)
