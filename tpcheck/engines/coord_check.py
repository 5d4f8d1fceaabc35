"""The coord check: a numpy MLP under any abc-parametrization, as a witness of the exponents.

Simulation mirror of ``abc_parametrizations`` (theory facts §6.4, §7.2; the coord check of the
``mup`` package [TP5 §D; mup README]): an MLP with L hidden layers, written by hand (forward,
backward, SGD and sign-like Adam), trained a few steps on one fixed batch at several widths. For
each layer the root-mean-square coordinate of its output h^l (and f) and of its change since
initialisation is recorded per step, width and seed; the log-log slope against the width is fitted
per seed, averaged, given a standard error over seeds, and held against the predicted exponent
by a z-score.

Width factors are powers of m = n / base_width: W^l = m^{-a_l} w^l, w^l ~ N(0, sigma_l^2 m^{-2 b_l})
with sigma_l^2 = 1/fan_in at the base width (1/d for the input layer), learning rate eta m^{-c_l}.
Slopes in n do not depend on base_width; the base only sets the constants (at base_width the
Table 3 muP network is the standard one, as in TP5's muTransfer).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np

from tpcheck.engines.abc_parametrizations import AbcParametrization, one_step_exponents
from tpcheck.errors import TpcheckError

ACTIVATIONS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]] = {
    "tanh": (np.tanh, lambda h: 1.0 - np.tanh(h) ** 2),
    "relu": (lambda h: np.maximum(h, 0.0), lambda h: (h > 0).astype(h.dtype)),
}


Mapper = Callable[[Callable[[Any], Any], Iterable[Any]], Iterable[Any]]
"""How a sweep runs its independent cells: ``mapper(cell_function, cells)`` yields the results in the
order of ``cells``. The built-in ``map`` runs them one after another in this process;
``tpcheck.sweeps.dask_map`` runs them on a Dask cluster. Each cell is a picklable frozen dataclass and
each cell function a top-level function seeded only by its cell, so every mapper gives the same numbers.
"""


class CoordCheckError(TpcheckError):
    """A malformed coord-check or transfer request."""


@dataclass
class MLP:
    """Trainable weights w^l and the width factors of an abc-parametrized MLP (see module doc).

    ``weights[l-1]`` has shape (fan_out, fan_in); ``multipliers[l-1]`` = m^{-a_l};
    ``learning_rates[l-1]`` = eta m^{-c_l}; Adam moments live in ``first_moments`` /
    ``second_moments``.
    """

    parametrization: AbcParametrization
    width: int
    weights: list[np.ndarray]
    multipliers: list[float]
    learning_rates: list[float]
    activation: str = "tanh"
    steps_taken: int = 0
    first_moments: list[np.ndarray] = field(default_factory=list)
    second_moments: list[np.ndarray] = field(default_factory=list)


def width_factor(width: int, base_width: int, exponent: Fraction) -> float:
    """(n / base_width)^exponent; the exponent is exact, only the power is taken in floats."""
    return float((width / base_width) ** float(exponent))


def init_mlp(p: AbcParametrization, width: int, input_dim: int, eta: float, rng: np.random.Generator,
             base_width: int = 64, output_dim: int = 1, activation: str = "tanh",
             dtype: type = np.float64) -> MLP:
    """Draw w^l ~ N(0, sigma_l^2 m^{-2 b_l}), sigma_l^2 = 1/fan_in at base width [TP4 §3; TP5 §2]."""
    if activation not in ACTIVATIONS:
        raise CoordCheckError(f"activation {activation!r}: expected one of {sorted(ACTIVATIONS)}")
    if width < 1 or base_width < 1 or input_dim < 1:
        raise CoordCheckError("width, base_width and input_dim must be positive")
    layers = p.hidden_layers + 1
    shapes = [(width, input_dim)] + [(width, width)] * (layers - 2) + [(output_dim, width)]
    weights, multipliers, rates = [], [], []
    for index, (shape, a, b, c) in enumerate(zip(shapes, p.a, p.b, p.c, strict=True)):
        base_fan_in = input_dim if index == 0 else base_width
        std = width_factor(width, base_width, -b) / np.sqrt(base_fan_in)
        weight = rng.standard_normal(shape, dtype=dtype)
        weight *= std  # in place: the largest arrays of a run, drawn once and scaled once
        weights.append(weight)
        multipliers.append(width_factor(width, base_width, -a))
        rates.append(eta * width_factor(width, base_width, -c))
    return MLP(p, width, weights, multipliers, rates, activation)


def forward(net: MLP, inputs: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """h^1 = W^1 xi, x^l = phi(h^l), h^{l+1} = W^{l+1} x^l, f = W^{L+1} x^L (rows are samples).

    Returns the preactivations h^1..h^L, the activations x^0 = xi, x^1..x^L, and f.
    """
    phi = ACTIVATIONS[net.activation][0]
    hs: list[np.ndarray] = []
    xs = [inputs]
    for w, mult in zip(net.weights[:-1], net.multipliers[:-1], strict=True):
        h = mult * (xs[-1] @ w.T)
        hs.append(h)
        xs.append(phi(h))
    f = net.multipliers[-1] * (xs[-1] @ net.weights[-1].T)
    return hs, xs, f


def backward(net: MLP, hs: list[np.ndarray], xs: list[np.ndarray], dloss_df: np.ndarray) -> list[np.ndarray]:
    """Gradients dLoss/dw^l by the chain rule, written out:

    dw^{L+1} = m^{-a_{L+1}} df^T x^L; dx^L = m^{-a_{L+1}} df w^{L+1}; dh^l = dx^l * phi'(h^l);
    dw^l = m^{-a_l} dh^l^T x^{l-1}; dx^{l-1} = m^{-a_l} dh^l w^l.
    """
    dphi = ACTIVATIONS[net.activation][1]
    grads: list[np.ndarray] = [np.empty(0)] * len(net.weights)
    upstream = dloss_df
    for i in range(len(net.weights) - 1, -1, -1):
        grads[i] = net.multipliers[i] * (upstream.T @ xs[i])
        if i > 0:
            upstream = net.multipliers[i] * (upstream @ net.weights[i]) * dphi(hs[i - 1])
    return grads


def sgd_update(net: MLP, grads: list[np.ndarray]) -> None:
    """w^l <- w^l - eta m^{-c_l} dLoss/dw^l [TP4 §3]."""
    for w, g, lr in zip(net.weights, grads, net.learning_rates, strict=True):
        w -= lr * g
    net.steps_taken += 1


def adam_update(net: MLP, grads: list[np.ndarray], beta1: float = 0.9, beta2: float = 0.999,
                epsilon: float = 0.0) -> None:
    """Adam (Kingma & Ba 2015) with bias correction: w <- w - eta m^{-c_l} mhat / (sqrt(vhat) + eps).

    epsilon = 0 keeps the Adam symmetry exact (theory facts §6.1); a coordinate with zero second
    moment gets a zero update.
    """
    if not net.first_moments:
        net.first_moments = [np.zeros_like(w) for w in net.weights]
        net.second_moments = [np.zeros_like(w) for w in net.weights]
    t = net.steps_taken + 1
    for w, g, m, v, lr in zip(net.weights, grads, net.first_moments, net.second_moments, net.learning_rates,
                              strict=True):
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t)
        denominator = np.sqrt(v / (1 - beta2**t)) + epsilon
        step = np.divide(m_hat, denominator, out=np.zeros_like(m_hat), where=denominator > 0)
        w -= lr * step
    net.steps_taken = t


def train_step(net: MLP, inputs: np.ndarray, targets: np.ndarray) -> float:
    """One step on the loss (1/2B) sum_i (f(xi_i) - y_i)^2 with the parametrization's optimizer."""
    hs, xs, f = forward(net, inputs)
    residual = f - targets
    loss = 0.5 * float(np.mean(np.sum(residual**2, axis=1)))
    grads = backward(net, hs, xs, residual / inputs.shape[0])
    if net.parametrization.optimizer == "adam":
        adam_update(net, grads)
    else:
        sgd_update(net, grads)
    return loss


def rms(values: np.ndarray) -> float:
    """Root-mean-square coordinate: sqrt(mean of squares over samples and coordinates)."""
    return float(np.sqrt(np.mean(np.square(values, dtype=np.float64))))


def quantity_names(hidden_layers: int) -> list[str]:
    """h^1..h^L and f, then their changes since init."""
    sizes = [f"h^{layer}" for layer in range(1, hidden_layers + 1)] + ["f"]
    return sizes + [f"Delta {name}" for name in sizes]


@dataclass
class CoordCheckData:
    """RMS sizes ``sizes[quantity]`` of shape (steps + 1, len(widths), len(seeds)); t = 0 is init."""

    parametrization: AbcParametrization
    widths: tuple[int, ...]
    seeds: tuple[int, ...]
    steps: int
    eta: float
    activation: str
    input_dim: int
    batch: int
    base_width: int
    sizes: dict[str, np.ndarray]

    def caption(self) -> str:
        return (f"{self.parametrization.describe()}; {self.activation} MLP, d = {self.input_dim}, batch "
                f"{self.batch} (one fixed batch per seed), eta = {self.eta}, base width {self.base_width}; "
                f"widths {', '.join(map(str, self.widths))}; seeds {', '.join(map(str, self.seeds))}; "
                f"{self.steps} step(s); RMS coordinate of each layer's output and of its change since init")


@dataclass(frozen=True)
class CoordCheckCell:
    """One width and one seed of a coord check, with every setting its run needs."""

    parametrization: AbcParametrization
    width: int
    seed: int
    steps: int
    eta: float
    input_dim: int
    batch: int
    base_width: int
    activation: str


def coord_check_cell(cell: CoordCheckCell) -> dict[str, np.ndarray]:
    """The RMS size of each quantity (``quantity_names``) at steps 0..steps, for one width and seed.

    Seeded by the cell alone: the batch from ``default_rng([seed])`` (the same at every width), the
    init from ``default_rng([seed, width])``; so the result does not depend on where or in which
    order the cells run.
    """
    data_rng = np.random.default_rng([cell.seed])
    inputs = data_rng.standard_normal((cell.batch, cell.input_dim))
    targets = data_rng.standard_normal((cell.batch, 1))
    names = quantity_names(cell.parametrization.hidden_layers)
    sizes = {name: np.full(cell.steps + 1, np.nan) for name in names}
    net = init_mlp(cell.parametrization, cell.width, cell.input_dim, cell.eta,
                   np.random.default_rng([cell.seed, cell.width]), cell.base_width,
                   activation=cell.activation)
    with np.errstate(over="ignore", invalid="ignore"):
        hs0, _, f0 = forward(net, inputs)
        for t in range(cell.steps + 1):
            if t > 0:
                train_step(net, inputs, targets)
            hs, _, f = forward(net, inputs)
            for name, now, then in zip(names[: len(hs) + 1], [*hs, f], [*hs0, f0], strict=True):
                sizes[name][t] = rms(now)
                sizes[f"Delta {name}"][t] = rms(now - then)
    return sizes


def coord_check(p: AbcParametrization, widths: Sequence[int] = (64, 128, 256, 512, 1024, 2048),
                seeds: Sequence[int] = tuple(range(8)), steps: int = 1, eta: float | None = None,
                input_dim: int = 16, batch: int = 8, base_width: int = 64,
                activation: str = "tanh", map: Mapper = map) -> CoordCheckData:
    """Train at each width and seed for ``steps`` steps on one fixed batch and record the RMS sizes.

    Seeded: the batch (xi ~ N(0, I_d), y ~ N(0, 1)) comes from ``default_rng([seed])`` and is the
    same at every width; the init at width n from ``default_rng([seed, n])``. eta defaults to 0.05
    (SGD; at 0.5, SP's Delta h^L ~ n^{1/2} saturates tanh and bends the Delta f slope) and 0.01 (Adam).
    The width x seed cells (``coord_check_cell``) are independent and run through ``map`` (see
    ``Mapper``); every mapper gives the same arrays.
    """
    if eta is None:
        eta = 0.05 if p.optimizer == "sgd" else 0.01
    if steps < 0 or not widths or not seeds:
        raise CoordCheckError("need steps >= 0, at least one width and one seed")
    if activation not in ACTIVATIONS:
        raise CoordCheckError(f"activation {activation!r}: expected one of {sorted(ACTIVATIONS)}")
    if min(widths) < 1 or base_width < 1 or input_dim < 1:
        raise CoordCheckError("width, base_width and input_dim must be positive")
    cells = [CoordCheckCell(p, width, seed, steps, eta, input_dim, batch, base_width, activation)
             for seed in seeds for width in widths]
    shape = (steps + 1, len(widths), len(seeds))
    sizes = {name: np.full(shape, np.nan) for name in quantity_names(p.hidden_layers)}
    for index, cell_sizes in enumerate(map(coord_check_cell, cells)):
        j, i = divmod(index, len(widths))
        for name, values in cell_sizes.items():
            sizes[name][:, i, j] = values
    return CoordCheckData(p, tuple(widths), tuple(seeds), steps, eta, activation, input_dim, batch,
                          base_width, sizes)


@dataclass(frozen=True)
class SlopeFit:
    """The log-log slope of a quantity's size against width at step t, against a prediction.

    ``slope`` is the mean over seeds of the per-seed least-squares slopes, ``std_error`` their
    standard deviation over sqrt(seeds); z = (slope - predicted) / std_error.
    """

    quantity: str
    step: int
    predicted: Fraction | None
    slope: float
    std_error: float
    per_seed: tuple[float, ...]

    @property
    def z(self) -> float | None:
        if self.predicted is None or not np.isfinite(self.slope):
            return None
        difference = self.slope - float(self.predicted)
        if self.std_error == 0:
            return 0.0 if difference == 0 else float(np.sign(difference)) * float("inf")
        return difference / self.std_error


def loglog_slope_per_seed(widths: Sequence[int], sizes: np.ndarray) -> np.ndarray:
    """Least-squares slope of log(size) on log(width) for each column (seed) of ``sizes``."""
    x = np.log(np.asarray(widths, dtype=float))
    y = np.log(np.asarray(sizes, dtype=float))
    xc = x - x.mean()
    return (xc @ (y - y.mean(axis=0))) / (xc @ xc)


def predicted_exponent(p: AbcParametrization, quantity: str, step: int) -> Fraction | None:
    """The exponent ``one_step_exponents`` predicts for a recorded quantity at step 0 or 1.

    Sizes at init, changes after one step, and sizes after one step only where the init size and
    the change have the same exponent; None otherwise.
    """
    prediction = one_step_exponents(p)
    changed = quantity.startswith("Delta ")
    base = quantity.removeprefix("Delta ")
    if step == 0:
        if changed:
            return None
        return prediction.f_init if base == "f" else prediction.h_init[int(base[2:]) - 1]
    if step == 1:
        index = None if base == "f" else int(base[2:]) - 1
        change = prediction.delta_f if index is None else prediction.delta_h[index]
        if changed:
            return change
        initial = prediction.f_init if index is None else prediction.h_init[index]
        # init + change is n^max(...) only asymptotically; with unequal exponents the crossover
        # biases any finite-width slope, so no prediction is claimed.
        return initial if initial == change else None
    return None


def fit_slopes(data: CoordCheckData, steps: Sequence[int] | None = None) -> list[SlopeFit]:
    """Slopes with standard errors over seeds and z-scores for every quantity and step."""
    fits = []
    for t in range(data.steps + 1) if steps is None else steps:
        for name, values in data.sizes.items():
            if name.startswith("Delta ") and t == 0:
                continue
            per_seed = loglog_slope_per_seed(data.widths, values[t])
            s = len(per_seed)
            se = float(np.std(per_seed, ddof=1) / np.sqrt(s)) if s > 1 else float("nan")
            fits.append(SlopeFit(name, t, predicted_exponent(data.parametrization, name, t),
                                 float(np.mean(per_seed)), se, tuple(float(v) for v in per_seed)))
    return fits


def student_t_threshold(degrees_of_freedom: int, familywise_alpha: float = 0.01, checks: int = 1) -> float:
    """Two-sided Student-t quantile t with P(|T_dof| > t) = familywise_alpha / checks (Bonferroni).

    The z of a slope is a t statistic: its standard error is estimated from the seeds, with
    seeds - 1 degrees of freedom. P(|T| > t) = I_{dof/(dof+t^2)}(dof/2, 1/2) (regularized beta).
    """
    if degrees_of_freedom < 1:
        raise CoordCheckError("a t threshold needs at least two seeds")
    alpha = mpmath.mpf(familywise_alpha) / checks
    nu = mpmath.mpf(degrees_of_freedom)

    def tail(t: mpmath.mpf) -> mpmath.mpf:
        return mpmath.betainc(nu / 2, mpmath.mpf(1) / 2, 0, nu / (nu + t * t), regularized=True) - alpha

    low, high = mpmath.mpf(0), mpmath.mpf(1)
    while tail(high) > 0:
        high *= 2
    for _ in range(200):
        mid = (low + high) / 2
        low, high = (mid, high) if tail(mid) > 0 else (low, mid)
    return float(high)


def slope_table(fits_by_name: dict[str, list[SlopeFit]]) -> str:
    """A text table: parametrization, step, quantity, predicted, measured, SE, z."""
    lines = [f"{'parametrization':<16} {'t':>2} {'quantity':<12} {'pred':>6} {'slope':>8} {'SE':>7} {'z':>7}"]
    for label, fits in fits_by_name.items():
        for fit in fits:
            pred = "-" if fit.predicted is None else str(fit.predicted)
            z = "-" if fit.z is None else f"{fit.z:+.2f}"
            lines.append(f"{label:<16} {fit.step:>2} {fit.quantity:<12} {pred:>6} {fit.slope:>+8.3f} "
                         f"{fit.std_error:>7.3f} {z:>7}")
    return "\n".join(lines)


# --- muTransfer ------------------------------------------------------------------------------


@dataclass
class TransferResult:
    """Final training losses ``losses[width, lr, seed]`` on a learning-rate grid (log2 eta)."""

    label: str
    parametrization: AbcParametrization
    widths: tuple[int, ...]
    log2_learning_rates: tuple[float, ...]
    seeds: tuple[int, ...]
    losses: np.ndarray
    steps: int
    batch: int
    base_width: int

    def mean_losses(self) -> np.ndarray:
        return np.mean(self.losses, axis=2)

    def best_log2_learning_rate(self) -> dict[int, float]:
        """Per width the grid point of least mean loss over seeds (diverged runs count as inf)."""
        means = self.mean_losses()
        return {w: self.log2_learning_rates[int(np.argmin(means[i]))] for i, w in enumerate(self.widths)}

    def caption(self) -> str:
        return (f"{self.label}: {self.parametrization.describe()}; {self.steps} steps, batch {self.batch}, "
                f"base width {self.base_width}; widths {', '.join(map(str, self.widths))}; seeds "
                f"{', '.join(map(str, self.seeds))}; loss = mean training MSE of the last 10 steps")


def teacher_task(seed: int, samples: int = 256, input_dim: int = 16, teacher_width: int = 32
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic regression: y = a tanh(U xi) / sqrt(k) for a fixed random teacher, standardised."""
    rng = np.random.default_rng([seed, 10**6])
    inputs = rng.standard_normal((samples, input_dim))
    u = rng.standard_normal((teacher_width, input_dim)) / np.sqrt(input_dim)
    v = rng.standard_normal(teacher_width) / np.sqrt(teacher_width)
    y = np.tanh(2.0 * inputs @ u.T) @ v
    y = (y - y.mean()) / y.std()
    return inputs, y[:, None]


@dataclass(frozen=True)
class TransferCell:
    """One (width, learning rate, seed) point of a learning-rate grid, with every setting it needs."""

    parametrization: AbcParametrization
    width: int
    log2_learning_rate: float
    seed: int
    steps: int
    batch: int
    base_width: int
    activation: str
    divergence: float


def transfer_cell(cell: TransferCell) -> float:
    """The mean minibatch loss over the last 10 of ``steps`` steps at one grid point (inf if diverged).

    Seeded by the cell alone: the task from ``teacher_task(seed)``, the minibatches from
    ``default_rng([seed, 1])`` (the same at every width and learning rate), the init from
    ``default_rng([seed, width])`` (the same at every learning rate); float32 throughout.
    """
    inputs, targets = teacher_task(cell.seed)
    inputs, targets = inputs.astype(np.float32), targets.astype(np.float32)
    order = np.random.default_rng([cell.seed, 1]).integers(0, len(inputs), size=(cell.steps, cell.batch))
    net = init_mlp(cell.parametrization, cell.width, inputs.shape[1], 1.0,
                   np.random.default_rng([cell.seed, cell.width]), cell.base_width,
                   activation=cell.activation, dtype=np.float32)
    net.learning_rates = [2.0**cell.log2_learning_rate * lr for lr in net.learning_rates]
    recent = []
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(cell.steps):
            loss = train_step(net, inputs[order[t]], targets[order[t]])
            if not np.isfinite(loss) or loss > cell.divergence:
                return float("inf")
            if t >= cell.steps - 10:
                recent.append(loss)
    return float(np.mean(recent))


def transfer_experiment(p: AbcParametrization, label: str = "",
                        widths: Sequence[int] = (128, 256, 512, 1024, 2048),
                        log2_learning_rates: Sequence[float] = tuple(range(-8, 2)),
                        seeds: Sequence[int] = (0, 1, 2), steps: int = 60, batch: int = 32,
                        base_width: int = 128, activation: str = "tanh", divergence: float = 1e3,
                        map: Mapper = map) -> TransferResult:
    """Train the MLP on ``teacher_task`` over a grid of learning rates and widths (float32).

    Minibatches of ``batch`` points drawn with ``default_rng([seed, 1])`` (the same at every width
    and learning rate); init from ``default_rng([seed, width])``. The loss is the mean minibatch
    loss over the last 10 steps; a run that is not finite or exceeds ``divergence`` counts as inf.
    muTransfer [TP5 §1-3]: under muP the best learning rate should stay put as width grows;
    under SP it drifts (theory facts §7.1). The grid points (``transfer_cell``) are independent and
    run through ``map`` (see ``Mapper``); every mapper gives the same losses.
    """
    if steps < 1 or not widths or not log2_learning_rates or not seeds:
        raise CoordCheckError("need steps >= 1, at least one width, one learning rate and one seed")
    if activation not in ACTIVATIONS:
        raise CoordCheckError(f"activation {activation!r}: expected one of {sorted(ACTIVATIONS)}")
    if min(widths) < 1 or base_width < 1:
        raise CoordCheckError("width and base_width must be positive")
    cells = [TransferCell(p, width, float(log2_lr), seed, steps, batch, base_width, activation, divergence)
             for width in widths for log2_lr in log2_learning_rates for seed in seeds]
    losses = np.fromiter(map(transfer_cell, cells), dtype=float, count=len(cells))
    return TransferResult(label or p.name, p, tuple(widths), tuple(float(v) for v in log2_learning_rates),
                          tuple(seeds), losses.reshape(len(widths), len(log2_learning_rates), len(seeds)),
                          steps, batch, base_width)


@dataclass(frozen=True)
class OptimumTrack:
    """Where the best learning rate sits at each width, and the exponents s that agree with it.

    ``best[n]`` is the grid point (log2 eta) of least loss at width n; ``low``..``high`` the
    exponents s for which some beta puts every best point within half a grid step of
    beta + s log2 n (None when no s does); ``at_edge`` the widths whose best point is the grid's
    first or last, where the optimum may lie outside the grid.
    """

    best: dict[int, Fraction]
    low: Fraction | None
    high: Fraction | None
    at_edge: tuple[int, ...]
    grid_step: Fraction


def _exact_log2(width: int) -> int:
    if width < 1 or width & (width - 1):
        raise CoordCheckError(f"width {width}: the optimum's exponent needs widths that are powers of 2")
    return width.bit_length() - 1


def optimum_exponents(widths: Sequence[int], grid: Sequence[float], losses: np.ndarray) -> OptimumTrack:
    """The exponents s of eta*(n) = Theta(n^s) consistent with the best grid point at each width.

    ``losses[i, j]`` is the loss at width ``widths[i]`` and ``grid[j]`` (log2 eta, evenly spaced
    by D; inf for a diverged run). With x_i = log2 n_i and b_i the best grid point, the true
    optimum lies within D/2 of b_i, so s is consistent iff some beta has |b_i - beta - s x_i| <= D/2
    for every i. Eliminating beta (Fourier-Motzkin) leaves, exactly in rationals,

        max_{x_i < x_j} (b_j - b_i - D)/(x_j - x_i)  <=  s  <=  min_{x_i < x_j} (b_j - b_i + D)/(x_j - x_i).

    The grid's resolution only: the seeds' noise in the losses is not in the interval.
    """
    points = [Fraction(v).limit_denominator(1 << 20) for v in grid]
    if len(points) < 2:
        raise CoordCheckError("a learning-rate grid needs at least two points")
    step = points[1] - points[0]
    if step <= 0 or any(b - a != step for a, b in zip(points, points[1:], strict=False)):
        raise CoordCheckError("the learning-rate grid must be increasing and evenly spaced in log2")
    xs = [_exact_log2(int(w)) for w in widths]
    if len(set(xs)) < 2:
        raise CoordCheckError("an exponent needs at least two distinct widths")
    best: dict[int, Fraction] = {}
    edge = []
    for i, width in enumerate(widths):
        row = np.asarray(losses[i], dtype=float)
        if not np.isfinite(row).any():
            raise CoordCheckError(f"width {width}: every learning rate of the grid diverged")
        j = int(np.argmin(np.where(np.isfinite(row), row, np.inf)))
        best[int(width)] = points[j]
        if j in (0, len(points) - 1):
            edge.append(int(width))
    low: Fraction | None = None
    high: Fraction | None = None
    for i, (xi, wi) in enumerate(zip(xs, widths, strict=True)):
        for xj, wj in zip(xs[i + 1:], widths[i + 1:], strict=True):
            if xi == xj:
                continue
            (x0, b0), (x1, b1) = sorted([(xi, best[int(wi)]), (xj, best[int(wj)])])
            span = Fraction(x1 - x0)
            lo, hi = (b1 - b0 - step) / span, (b1 - b0 + step) / span
            low = lo if low is None else max(low, lo)
            high = hi if high is None else min(high, hi)
    if low is not None and high is not None and low > high:
        low = high = None
    return OptimumTrack(best, low, high, tuple(edge), step)
