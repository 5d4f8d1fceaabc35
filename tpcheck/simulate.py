"""``tpcheck simulate``: a theorem's Monte-Carlo witness over a sweep of sizes n.

For a claim ``E[...] -> c as n -> oo`` (or an exact finite-n claim), each size n gets a
seeded simulation of the left side: the estimate of lhs - c, its standard error and, where
the derivation states an exact finite-n value, the z-score against it. The log-log slope of
|estimate - c| against n is fitted and set beside the slope predicted by the exact value's
leading correction. ``--plot`` draws the eigenvalue histogram of a random matrix against the
semicircle density and the error against n (matplotlib, the ``plot`` extra).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy

from tpcheck.api import read_proof_file, theorem_from_text
from tpcheck.engines.asymptotics import asymptotic_order
from tpcheck.engines.heads import Expectation
from tpcheck.engines.laws import MatrixEnsemble
from tpcheck.engines.mpmath_eval import evaluate
from tpcheck.errors import TpcheckError, printable
from tpcheck.kernel import Context, Goal, Judgement, MontecarloSettings, Theorem, Verdict
from tpcheck.progress import progress as progress_bar
from tpcheck.sweeps import mapper_from_args
from tpcheck.witness.montecarlo import MAX_SAMPLES, NotApplicable, one_run
from tpcheck.witness.stats import loglog_slope

if TYPE_CHECKING:
    from tpcheck.engines.coord_check import Mapper

MAX_SIZE = 100_000  # the --plot spectrum at n = 1e5 takes about 10 s; at 2e6 it took minutes
MAX_SIZES = 20
MIN_SAMPLES = 100  # the Monte-Carlo witness's own floor: fewer would be silently raised to it
MAX_SEED = 2**63 - 1
MAX_FIXED = 1000  # |value| of --at: k = 1e5 spends half a minute before simulating anything


@dataclass
class SweepRow:
    n: int
    estimate: float  # of lhs - limit
    std_error: float
    exact: float | None  # exact lhs - limit at this n, where the derivation gives it
    z: float | None
    samples: int


@dataclass
class Sweep:
    theorem: str
    limit: str
    rows: list[SweepRow] = field(default_factory=list)
    fitted_slope: float | None = None
    predicted_slope: float | None = None
    seed: int = 0

    def table(self) -> str:
        out = [f"{self.theorem}: lhs - ({self.limit}), seed {self.seed}",
               f"{'n':>8} {'estimate':>12} {'std.err':>10} {'exact':>12} {'z':>7} {'samples':>8}"]
        for r in self.rows:
            exact = f"{r.exact:12.5g}" if r.exact is not None else f"{'-':>12}"
            z = f"{r.z:7.2f}" if r.z is not None else f"{'-':>7}"
            out.append(f"{r.n:>8} {r.estimate:12.5g} {r.std_error:10.3g} {exact} {z} {r.samples:>8}")
        fit = "n/a" if self.fitted_slope is None else f"{self.fitted_slope:.3f}"
        pred = "n/a" if self.predicted_slope is None else f"{self.predicted_slope:.3f}"
        out.append(f"log-log slope of |estimate - limit| against n: fitted {fit}, predicted {pred}")
        return "\n".join(out)


def load_theorem(path: str, name: str | None) -> Theorem:
    """The elaborated theorem ``name`` of a proof file (its only one when ``name`` is None),
    read, parsed and elaborated as ``tpcheck check`` reads it
    (:func:`tpcheck.api.theorem_from_text`: bounded elaboration in a child process)."""
    return theorem_from_text(read_proof_file(path), path, name)


def exact_finite_value(theorem: Theorem) -> sympy.Expr | None:
    """The first expression of the derivation with no expectation left (the exact finite-n
    value the chain establishes), if any comes before the limit."""
    for step in theorem.steps:
        if step.goal.rel == "->":
            return None
        if not step.goal.rhs.has(Expectation):
            return step.goal.rhs
    return None


def check_sweep_arguments(sizes: list[int], samples: int, seed: int, fixed: dict[str, int]) -> None:
    """Refuse a sweep that could not finish in reasonable time, naming the limit."""
    if not sizes or len(sizes) > MAX_SIZES:
        raise TpcheckError(f"give between 1 and {MAX_SIZES} sizes n (got {len(sizes)})")
    if not all(1 <= n <= MAX_SIZE for n in sizes):
        raise TpcheckError(f"every size n must be in 1..{MAX_SIZE} (got {sizes})")
    if not MIN_SAMPLES <= samples <= MAX_SAMPLES:
        raise TpcheckError(f"samples must be in {MIN_SAMPLES}..{MAX_SAMPLES} (got {samples})")
    if not 0 <= seed <= MAX_SEED:
        raise TpcheckError(f"the seed must be in 0..{MAX_SEED} (got {seed})")
    for key, value in fixed.items():
        if not -MAX_FIXED <= value <= MAX_FIXED:
            raise TpcheckError(f"{key} = {value} is beyond the limit |{key}| <= {MAX_FIXED}")


@dataclass(frozen=True)
class SimulationAtSize:
    """One size n of a sweep: the Monte-Carlo witness of ``goal`` with ``settings`` (which fix n)
    and its own ``seed``; picklable, so a Dask worker can run it."""

    goal: Goal
    context: Context
    settings: MontecarloSettings
    seed: int
    atoms: tuple[Expectation, ...]
    size: int


def simulate_at_size(cell: SimulationAtSize) -> dict[str, Any]:
    """The Monte-Carlo evidence's data (estimate of lhs - rhs, std_error, samples, instance) at one
    size, seeded by the cell alone."""
    try:
        with np.errstate(all="ignore"):  # a non-finite integrand is reported as NotApplicable
            ev = one_run(cell.goal, cell.context, Judgement(Verdict.PROVED, ""), cell.settings, cell.seed,
                         1.0, list(cell.atoms))
    except NotApplicable as exc:
        raise TpcheckError(f"cannot simulate at n = {cell.size}: {exc}") from exc
    return ev.data


def sweep(theorem: Theorem, sizes: list[int], samples: int, seed: int,
          fixed: dict[str, int], progress: bool = True, map: Mapper = map) -> Sweep:
    """Simulate the claim's left side at each size n (seed ``seed + i`` at the i-th size) and fit
    the log-log slope of the error against n. The sizes are independent cells
    (``simulate_at_size``) run through ``map`` (see ``tpcheck.sweeps``); every map gives the same
    sweep. ``progress`` draws a bar on stderr, if it is a terminal, as each cell is taken (by the
    serial map: as it starts)."""
    check_sweep_arguments(sizes, samples, seed, fixed)
    claim = theorem.claim
    n = claim.limit_var or theorem.context.symbols.get("n")
    if n is None:
        raise TpcheckError("the theorem has no size parameter n")
    limit = claim.rhs if claim.rel == "->" else sympy.Integer(0)
    exact = exact_finite_value(theorem)
    base = (theorem.crosschecks.montecarlo or (MontecarloSettings(),))[0]
    at = dict(base.fixed)
    for key, value in fixed.items():
        sym = theorem.context.symbols.get(key)
        if sym is None:
            raise TpcheckError(f"'{key}' is not a symbol of the theorem")
        at[sym] = sympy.Integer(value)
    goal = Goal(claim.lhs, "=", limit if claim.rel == "->" else claim.rhs)
    predicted = None
    if exact is not None and claim.rel == "->":
        order = asymptotic_order(sympy.expand((exact - limit).xreplace(at)), n)
        if order is not None:
            predicted = float(order[1])
    result = Sweep(theorem.name, str(limit), seed=seed, predicted_slope=predicted)
    atoms = tuple(dict.fromkeys(_atoms(goal)))
    cells = [SimulationAtSize(goal, theorem.context,
                              replace(base, samples=samples, fixed={**at, n: sympy.Integer(size)}),
                              seed + i, atoms, size)
             for i, size in enumerate(sizes)]
    results = map(simulate_at_size, progress_bar(cells, len(cells), "sizes n") if progress else cells)
    for size, data in zip(sizes, results, strict=True):
        est, se = data["estimate"], data["std_error"]
        exact_here = None
        z = None
        if exact is not None:
            inst = {**at, n: sympy.Integer(size)}
            for s, v in data.get("instance", {}).items():
                sym = theorem.context.symbols.get(s)
                if sym is not None and sym not in inst:
                    if re.fullmatch(r"-?[0-9]+(/[0-9]+)?", v):
                        num, _, den = v.partition("/")
                        inst[sym] = sympy.Rational(int(num), int(den) if den else 1)
            try:
                exact_here = float(evaluate(exact - limit, inst, "mpmath"))
                z = (est - exact_here) / se if se > 0 else None
            except Exception:  # noqa: BLE001  (an exact value is optional here)
                exact_here = None
        result.rows.append(SweepRow(size, est, se, exact_here, z, data["samples"]))
    usable = [r for r in result.rows if abs(r.estimate) > 2 * r.std_error]
    if len(usable) >= 2:
        result.fitted_slope = loglog_slope([r.n for r in usable], [r.estimate for r in usable])
    return result


def _atoms(goal: Goal) -> list[Expectation]:
    from tpcheck.engines.heads import expectations
    from tpcheck.expectations.forms import expectation_form

    return expectations(expectation_form(goal.lhs)) + expectations(expectation_form(goal.rhs))


def plot(theorem: Theorem, result: Sweep, path: str, seed: int) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise TpcheckError("--plot needs matplotlib: pip install 'tpcheck[plot]'") from exc
    from tpcheck.engines.random_matrices import semicircle_cdf, sturm_counts, tridiagonal_hermite

    matrices = [law for law in theorem.context.laws.values() if isinstance(law, MatrixEnsemble)]
    fig, axes = plt.subplots(1, 2 if matrices else 1, figsize=(11 if matrices else 5.5, 4.2))
    axes = np.atleast_1d(axes)
    ax = axes[-1]
    ns = np.array([r.n for r in result.rows], float)
    est = np.abs([r.estimate for r in result.rows])
    ses = np.array([r.std_error for r in result.rows])
    ax.errorbar(ns, est, yerr=ses, fmt="o", label="|estimate - limit| (± s.e.)")
    if any(r.exact is not None for r in result.rows):
        ax.plot(ns, [abs(r.exact) if r.exact is not None else np.nan for r in result.rows], "k--",
                label="exact finite-n correction")
    if result.fitted_slope is not None:
        ax.plot(ns, est[-1] * (ns / ns[-1]) ** result.fitted_slope, ":",
                label=f"fitted slope {result.fitted_slope:.2f}")
    if result.predicted_slope is not None:
        ax.plot(ns, est[-1] * (ns / ns[-1]) ** result.predicted_slope, "-", alpha=0.5,
                label=f"predicted slope {result.predicted_slope:.2f}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("n")
    ax.set_title("error against n")
    ax.legend(fontsize=8)
    if matrices:
        law = matrices[0]
        size = max(result.rows[-1].n, 2000)
        rng = np.random.default_rng(seed)
        beta = 2 if law.kind == "GUE" else 1
        d, e = tridiagonal_hermite(size, beta, rng)
        edges = np.linspace(-2.5, 2.5, 101)
        counts = np.diff(sturm_counts(d, e, edges * np.sqrt(size))) / size / np.diff(edges)
        xs = np.linspace(-2, 2, 400)
        a = axes[0]
        a.bar(edges[:-1], counts, width=np.diff(edges), align="edge", alpha=0.5,
              label=f"eigenvalues of {law.kind}({size})/sqrt(n)")
        a.plot(xs, np.sqrt(4 - xs**2) / (2 * np.pi), "r", label="semicircle density")
        grid = np.linspace(-2.5, 2.5, 2001)
        ks = np.max(np.abs(sturm_counts(d, e, grid * np.sqrt(size)) / size - semicircle_cdf(grid)))
        a.set_title(f"empirical spectral density (KS distance {ks:.4f})")
        a.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main_simulate(args: Any) -> int:
    """``tpcheck simulate``, on arguments the CLI has parsed and bounded (``args.sizes`` a list
    of ints, ``args.at`` a list of (name, int) pairs; ``--dask``, ``--workers``, ``--scheduler``
    where the CLI offers them: ``tpcheck.sweeps.add_sweep_arguments``)."""
    mapper = mapper_from_args(args)
    theorem = load_theorem(args.path, args.theorem)
    # The serial bar marks each size as it starts; dask_map draws its own.
    result = sweep(theorem, args.sizes, args.samples, args.seed, dict(args.at or []),
                   progress=mapper is map, map=mapper)
    print(printable(result.table(), keep_newlines=True))
    if args.plot:
        plot(theorem, result, args.plot, args.seed)
        print(printable(f"plot written to {args.plot}"))
    return 0
