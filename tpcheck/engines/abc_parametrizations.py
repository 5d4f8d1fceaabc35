"""abc-parametrizations of a deep MLP: symmetry, classification and muP, in exact arithmetic.

Network [TP4 §3]: L >= 1 hidden layers of width n, fixed input dimension d and output dimension;
h^1 = W^1 xi, x^l = phi(h^l), h^{l+1} = W^{l+1} x^l, f = W^{L+1} x^L. Layer 1 is the *input*
layer (fan-in d fixed), layers 2..L are *hidden* (n x n), layer L+1 is the *output* (readout).

An abc-parametrization gives each layer l = 1..L+1
    W^l = n^{-a_l} w^l,   w^l_{ij} ~ N(0, n^{-2 b_l}) at init,   learning rate of w^l = eta n^{-c_l},
with eta independent of n. TP4 uses one c for all layers; per-layer c_l follow [EV24]. The
optimizer is SGD or Adam (Adam taken sign-like: epsilon = 0, so an update has O(1) entries).

Every decision here is exact rational arithmetic on the exponents (``fractions.Fraction``); no
float enters a decision. The conditions below are those of theory facts §6.2 (TP4 Thm 3.3 and the
Dynamical Dichotomy; statement wording UNVERIFIED against the paper, the classification checked
against scaling experiments):

- own-update exponent of layer l <= L (Delta h^l from Delta W^l alone has coordinates n^{-e_l}):
  SGD  e_l = g + c_l + 2 a_l - 1 + [l = 1],  g = min(a_{L+1} + b_{L+1}, 2 a_{L+1} + c_{L+1})
       (at the first step the readout has not moved: g = a_{L+1} + b_{L+1});
  Adam e_l = a_l + c_l - 1 + [l = 1];
- r = min_{l <= L} e_l (Delta x^L has coordinates n^{-r});
- stable at init: a_1 + b_1 = 0, a_l + b_l = 1/2 (hidden), a_{L+1} + b_{L+1} >= 1/2;
- stable in training: r >= 0, a_{L+1} + b_{L+1} + r >= 1, readout update 2 a_{L+1} + c_{L+1} >= 1
  (Adam: a_{L+1} + c_{L+1} >= 1);
- nontrivial (f moves by Theta(1)): a_{L+1} + b_{L+1} + r = 1 or the readout bound holds with =;
- feature learning: r = 0; kernel regime: r > 0 (for stable, nontrivial parametrizations).

The proof language asks questions of declared parametrizations through the opaque
:class:`ParametrizationHead` (``stable(p)``, ``r(p)``, ``update_exponent(p, l)``, ...); the
``abc_classification`` rule answers them with :func:`evaluate_head`.

References: [TP4] Yang & Hu 2021, Tensor Programs IV (arXiv:2011.14522), §3 and §5;
[TP5] Yang et al. 2022, Tensor Programs V (arXiv:2203.03466), Tables 3, 8, 9;
[EV24] Everett et al. 2024, Scaling exponents across parameterizations and optimizers.
"""

from __future__ import annotations

import itertools
import numbers
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import sympy
from sympy.core.symbol import Str

from tpcheck.errors import TpcheckError

OPTIMIZERS = ("sgd", "adam")
HALF = Fraction(1, 2)

ExponentLike = int | str | Fraction | sympy.Rational


class ParametrizationError(TpcheckError):
    """A malformed abc-parametrization or an impossible request about one."""


def exponent(value: ExponentLike) -> Fraction:
    """An exact exponent from an int, a Fraction, a sympy Rational or a string like ``"-1/2"``.

    Floats are refused: a decision must never rest on a rounded exponent.
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise ParametrizationError(f"exponent {value!r}: give an exact rational (int, Fraction, '1/2')")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, numbers.Integral):
        return Fraction(int(value))
    if isinstance(value, sympy.Rational):
        return Fraction(int(value.p), int(value.q))
    if isinstance(value, str):
        try:
            return Fraction(value.strip())
        except (ValueError, ZeroDivisionError) as err:
            raise ParametrizationError(f"exponent {value!r} is not a rational number") from err
    raise ParametrizationError(f"exponent {value!r} of type {type(value).__name__} is not exact")


def _exponents(values: Iterable[ExponentLike]) -> tuple[Fraction, ...]:
    return tuple(exponent(v) for v in values)


@dataclass(frozen=True)
class AbcParametrization:
    """Exponents (a_l, b_l, c_l), l = 1..L+1, of an MLP with L = len(a) - 1 hidden layers.

    W^l = n^{-a_l} w^l, w^l ~ N(0, n^{-2 b_l}), learning rate of w^l = eta n^{-c_l} [TP4 §3; EV24].
    ``name`` is a label only and takes no part in equality.
    """

    a: tuple[Fraction, ...]
    b: tuple[Fraction, ...]
    c: tuple[Fraction, ...]
    optimizer: str = "sgd"
    name: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        for attr in ("a", "b", "c"):
            object.__setattr__(self, attr, _exponents(getattr(self, attr)))
        if len(self.a) < 2:
            raise ParametrizationError("an MLP needs an input layer and an output layer (len(a) >= 2)")
        if not len(self.a) == len(self.b) == len(self.c):
            raise ParametrizationError(
                f"a, b, c must have one entry per layer: lengths {len(self.a)}, {len(self.b)}, {len(self.c)}")
        if self.optimizer not in OPTIMIZERS:
            raise ParametrizationError(f"optimizer {self.optimizer!r}: expected one of {OPTIMIZERS}")

    @classmethod
    def with_shared_learning_rate(cls, a: Sequence[ExponentLike], b: Sequence[ExponentLike],
                                  c: ExponentLike, optimizer: str = "sgd",
                                  name: str = "") -> AbcParametrization:
        """TP4's form: one exponent c for every layer's learning rate."""
        return cls(_exponents(a), _exponents(b), (exponent(c),) * len(a), optimizer, name)

    @property
    def hidden_layers(self) -> int:
        """L, the number of hidden layers (layers are numbered 1..L+1)."""
        return len(self.a) - 1

    @property
    def output_layer(self) -> int:
        return len(self.a)

    @property
    def shared_learning_rate(self) -> bool:
        return len(set(self.c)) == 1

    def layer_kind(self, layer: int) -> str:
        """"input" (l = 1, fan-in d fixed), "hidden" (2 <= l <= L) or "output" (l = L+1)."""
        return layer_kind(layer, self.hidden_layers)

    def layers(self) -> range:
        return range(1, self.output_layer + 1)

    def ab(self, layer: int) -> Fraction:
        """a_l + b_l: W^l has entries of size n^{-(a_l + b_l)} at init."""
        return self.a[layer - 1] + self.b[layer - 1]

    def describe(self) -> str:
        def row(values: tuple[Fraction, ...]) -> str:
            return "(" + ", ".join(str(v) for v in values) + ")"

        c = str(self.c[0]) if self.shared_learning_rate else row(self.c)
        label = f"{self.name}: " if self.name else ""
        return f"{label}a = {row(self.a)}, b = {row(self.b)}, c = {c} [{self.optimizer}]"


def layer_kind(layer: int, hidden_layers: int) -> str:
    """The kind of layer l in an MLP with L hidden layers: input (1), hidden (2..L), output (L+1)."""
    if not 1 <= layer <= hidden_layers + 1:
        raise ParametrizationError(f"layer {layer} outside 1..{hidden_layers + 1}")
    if layer == 1:
        return "input"
    return "output" if layer == hidden_layers + 1 else "hidden"


# --- the symmetry --------------------------------------------------------------------------


def learning_rate_shift(optimizer: str) -> int:
    """k in the symmetry (a, b, c) -> (a + t, b - t, c - k t): k = 2 for SGD, k = 1 for Adam.

    SGD: Delta W = n^{-2a-c} (gradient in W), so 2a + c is invariant [TP4 §3]. Sign-like Adam:
    Delta W = n^{-a-c} (update of O(1) entries), so a + c is invariant [EV24]. Epsilon > 0 breaks
    the Adam symmetry (theory facts §6.1).
    """
    if optimizer not in OPTIMIZERS:
        raise ParametrizationError(f"optimizer {optimizer!r}: expected one of {OPTIMIZERS}")
    return 2 if optimizer == "sgd" else 1


def symmetry_shift(p: AbcParametrization,
                   theta: ExponentLike | Sequence[ExponentLike]) -> AbcParametrization:
    """Apply (a_l, b_l, c_l) -> (a_l + t_l, b_l - t_l, c_l - k t_l), k = 2 (SGD) or 1 (Adam).

    ``theta`` is one shift for all layers (keeps a shared c shared) or one per layer. The
    function f_t(xi) is unchanged for every t [TP4 §3; EV24; verified in theory facts §6.1].
    """
    if isinstance(theta, (list, tuple)):
        thetas = _exponents(theta)
    else:
        thetas = (exponent(theta),) * len(p.a)
    if len(thetas) != len(p.a):
        raise ParametrizationError(f"{len(thetas)} shifts for {len(p.a)} layers")
    k = learning_rate_shift(p.optimizer)
    return AbcParametrization(
        tuple(x + t for x, t in zip(p.a, thetas, strict=True)),
        tuple(x - t for x, t in zip(p.b, thetas, strict=True)),
        tuple(x - k * t for x, t in zip(p.c, thetas, strict=True)),
        p.optimizer, p.name)


def invariants(p: AbcParametrization) -> tuple[tuple[Fraction, Fraction], ...]:
    """Per layer the two symmetry invariants (a_l + b_l, k a_l + c_l), k = 2 (SGD), 1 (Adam).

    They determine the dynamics up to the symmetry: the init scale of W^l and the scale of its
    update.
    """
    k = learning_rate_shift(p.optimizer)
    return tuple((a + b, k * a + c) for a, b, c in zip(p.a, p.b, p.c, strict=True))


def canonical_form(p: AbcParametrization) -> AbcParametrization:
    """The representative with every multiplier 1 (a_l = 0): shift layer l by t_l = -a_l.

    Then b_l = a_l + b_l and c_l = k a_l + c_l are the invariants; this is the gauge of TP5's
    Table 3. The map is idempotent and constant on symmetry orbits.
    """
    return symmetry_shift(p, [-a for a in p.a])


@dataclass(frozen=True)
class Equivalence:
    """Whether two parametrizations are equal up to the (per-layer) symmetry, and why not."""

    holds: bool
    reasons: tuple[str, ...]


def equivalent(p: AbcParametrization, q: AbcParametrization) -> Equivalence:
    """p ~ q iff same optimizer, same depth and equal invariants layer by layer [TP4 §3; EV24]."""
    if p.optimizer != q.optimizer:
        return Equivalence(False, (f"optimizers differ: {p.optimizer} vs {q.optimizer}",))
    if len(p.a) != len(q.a):
        return Equivalence(False, (f"depths differ: {len(p.a)} vs {len(q.a)} layers",))
    k = learning_rate_shift(p.optimizer)
    reasons = []
    for layer, (ip, iq) in enumerate(zip(invariants(p), invariants(q), strict=True), start=1):
        if ip[0] != iq[0]:
            reasons.append(f"layer {layer}: a+b = {ip[0]} vs {iq[0]}")
        if ip[1] != iq[1]:
            reasons.append(f"layer {layer}: {k}a+c = {ip[1]} vs {iq[1]}")
    return Equivalence(not reasons, tuple(reasons))


# --- exponents of the dynamics --------------------------------------------------------------


def backward_exponent(p: AbcParametrization, first_step: bool = False) -> Fraction:
    """g: the gradient dL/dx^L has coordinates n^{-g}.

    g = a_{L+1} + b_{L+1} from W^{L+1}_0, and 2 a_{L+1} + c_{L+1} from Delta W^{L+1} once the readout
    has moved (SGD), so g = min of the two; at the first step only the first. [TP4 §3; theory
    facts §6.2, per-step meaning.]
    """
    out = p.output_layer
    init = p.ab(out)
    if first_step:
        return init
    return min(init, 2 * p.a[out - 1] + p.c[out - 1])


def own_update_exponent(p: AbcParametrization, layer: int, first_step: bool = False) -> Fraction:
    """e_l: Delta W^l x^{l-1} has coordinates n^{-e_l} (l <= L).

    SGD:  e_l = g + c_l + 2 a_l - 1 + [l = 1]   (x^{l-1} . x^{l-1} = Theta(n), or Theta(d) at l = 1);
    Adam: e_l = a_l + c_l - 1 + [l = 1]          (sign-like update, independent of g).
    [TP4 §3 r formula, derived in theory facts §6.2 and §6.4; EV24 for Adam.]
    """
    if not 1 <= layer <= p.hidden_layers:
        raise ParametrizationError(f"own-update exponents are for layers 1..{p.hidden_layers}, not {layer}")
    i = layer - 1
    fixed_fan_in = 1 if layer == 1 else 0
    if p.optimizer == "adam":
        return p.a[i] + p.c[i] - 1 + fixed_fan_in
    return backward_exponent(p, first_step) + p.c[i] + 2 * p.a[i] - 1 + fixed_fan_in


def r_exponent(p: AbcParametrization, first_step: bool = False) -> Fraction:
    """r = min_{l <= L} e_l: Delta h^L and Delta x^L have coordinates n^{-r} [TP4 Def. of r].

    For SGD with shared c: r = min(a_{L+1}+b_{L+1}, 2a_{L+1}+c) + c - 1 + min_l (2 a_l + [l = 1]).
    """
    return min(own_update_exponent(p, layer, first_step) for layer in range(1, p.hidden_layers + 1))


def readout_update_exponent(p: AbcParametrization) -> Fraction:
    """u: Delta W^{L+1} x^L = n^{-u} ... precisely Delta f from the readout's own update is n^{1-u}.

    SGD u = 2 a_{L+1} + c_{L+1}; Adam u = a_{L+1} + c_{L+1} [TP4 §3; EV24].
    """
    out = p.output_layer - 1
    k = learning_rate_shift(p.optimizer)
    return k * p.a[out] + p.c[out]


# --- classification -------------------------------------------------------------------------


@dataclass(frozen=True)
class ConditionCheck:
    """One exponent condition of TP4's classification, evaluated exactly.

    ``family`` is "stability at init", "stability in training", "nontriviality" or "feature
    learning"; ``layer`` names the layer the quantity belongs to (None for a whole-network one).
    """

    family: str
    layer: int | None
    quantity: str
    value: Fraction
    relation: str
    bound: Fraction
    meaning: str

    @property
    def holds(self) -> bool:
        if self.relation == "=":
            return self.value == self.bound
        if self.relation == ">=":
            return self.value >= self.bound
        if self.relation == ">":
            return self.value > self.bound
        raise ParametrizationError(f"unknown relation {self.relation!r}")

    def reason(self) -> str:
        negation = {"=": "!=", ">=": "<", ">": "<="}[self.relation]
        rel = self.relation if self.holds else negation
        where = f"layer {self.layer}: " if self.layer is not None else ""
        return f"{self.family}: {where}{self.quantity} = {self.value} {rel} {self.bound} ({self.meaning})"


@dataclass(frozen=True)
class Classification:
    """The regime of an abc-parametrization with the conditions that decide it [TP4 §3, §5].

    ``regime`` is "unstable", "trivial", "kernel" or "feature learning" (the Dynamical Dichotomy:
    a stable nontrivial parametrization is in exactly one of the last two).
    """

    parametrization: AbcParametrization
    r: Fraction
    r_first_step: Fraction
    own_update_exponents: tuple[Fraction, ...]
    checks: tuple[ConditionCheck, ...]
    stable: bool
    nontrivial: bool
    feature_learning: bool
    kernel_regime: bool

    @property
    def regime(self) -> str:
        if not self.stable:
            return "unstable"
        if not self.nontrivial:
            return "trivial"
        return "feature learning" if self.feature_learning else "kernel"

    def violated(self, family: str | None = None) -> tuple[ConditionCheck, ...]:
        return tuple(ch for ch in self.checks if not ch.holds and family in (None, ch.family))

    def satisfied(self, family: str | None = None) -> tuple[ConditionCheck, ...]:
        return tuple(ch for ch in self.checks if ch.holds and family in (None, ch.family))

    def r_layers(self) -> tuple[int, ...]:
        """The layers attaining the minimum in r."""
        return tuple(i for i, e in enumerate(self.own_update_exponents, start=1) if e == self.r)

    def reasons(self) -> list[str]:
        """Why the regime is what it is: the violated conditions, or the satisfied ones that decide."""
        if not self.stable:
            return [ch.reason() for ch in self.checks
                    if ch.family.startswith("stability") and not ch.holds]
        decisive = [ch for ch in self.checks if ch.family == "nontriviality"]
        if self.nontrivial:
            decisive = [ch for ch in decisive if ch.holds]
            decisive += [ch for ch in self.checks if ch.family == "feature learning"]
        return [ch.reason() for ch in decisive]


def _stability_at_init(p: AbcParametrization) -> list[ConditionCheck]:
    checks = []
    for layer in p.layers():
        kind = p.layer_kind(layer)
        quantity = f"a_{layer}+b_{layer}"
        if kind == "input":
            checks.append(ConditionCheck("stability at init", layer, quantity, p.ab(layer), "=", Fraction(0),
                                         f"h^{layer}_0 = Theta(n^{-p.ab(layer)}) must be Theta(1)"))
        elif kind == "hidden":
            checks.append(ConditionCheck("stability at init", layer, quantity, p.ab(layer), "=", HALF,
                                         f"h^{layer}_0 = Theta(n^{HALF - p.ab(layer)}) must be Theta(1)"))
        else:
            checks.append(ConditionCheck("stability at init", layer, quantity, p.ab(layer), ">=", HALF,
                                         f"f_0 = Theta(n^{HALF - p.ab(layer)}) must be O(1)"))
    return checks


def classify(p: AbcParametrization) -> Classification:
    """Stable / trivial / kernel / feature learning, each with the condition that decides it.

    Conditions of TP4 Thm 3.3 and §3 (theory facts §6.2), per-layer c_l and Adam per EV24:
    stable iff stable at init and r >= 0, a_{L+1}+b_{L+1}+r >= 1, u >= 1 (u = readout update
    exponent); nontrivial iff a_{L+1}+b_{L+1}+r = 1 or u = 1; feature learning iff r = 0,
    kernel regime iff r > 0 (stable, nontrivial).
    """
    out = p.output_layer
    own = tuple(own_update_exponent(p, layer) for layer in range(1, p.hidden_layers + 1))
    r = min(own)
    r_layers = [i for i, e in enumerate(own, start=1) if e == r]
    r_where = r_layers[0] if len(r_layers) == 1 else None
    r_meaning = (f"Delta x^L = Theta(n^{-r}); min attained at layer(s) "
                 f"{', '.join(str(i) for i in r_layers)}")
    u = readout_update_exponent(p)
    k = learning_rate_shift(p.optimizer)
    u_name = f"{'2' if k == 2 else ''}a_{out}+c_{out}"
    propagation = p.ab(out) + r
    checks = _stability_at_init(p)
    checks += [
        ConditionCheck("stability in training", r_where, "r", r, ">=", Fraction(0), r_meaning),
        ConditionCheck("stability in training", out, f"a_{out}+b_{out}+r", propagation, ">=", Fraction(1),
                       f"W^{out}_0 Delta x^L = Theta(n^{1 - propagation})"),
        ConditionCheck("stability in training", out, u_name, u, ">=", Fraction(1),
                       f"Delta W^{out} x^L = Theta(n^{1 - u})"),
        ConditionCheck("nontriviality", out, f"a_{out}+b_{out}+r", propagation, "=", Fraction(1),
                       f"W^{out}_0 Delta x^L = Theta(n^{1 - propagation})"),
        ConditionCheck("nontriviality", out, u_name, u, "=", Fraction(1),
                       f"Delta W^{out} x^L = Theta(n^{1 - u})"),
        ConditionCheck("feature learning", r_where, "r", r, "=", Fraction(0), r_meaning),
    ]
    stable = all(ch.holds for ch in checks if ch.family.startswith("stability"))
    nontrivial = stable and any(ch.holds for ch in checks if ch.family == "nontriviality")
    feature_learning = stable and r == 0
    kernel = stable and nontrivial and r > 0
    return Classification(p, r, r_exponent(p, first_step=True), own, tuple(checks), stable, nontrivial,
                          feature_learning, kernel)


# --- named points ---------------------------------------------------------------------------


def _check_depth(hidden_layers: int) -> None:
    if not isinstance(hidden_layers, int) or hidden_layers < 1:
        raise ParametrizationError(f"hidden_layers = {hidden_layers!r}: need an integer >= 1")


def standard(hidden_layers: int = 2, c: ExponentLike = 0, optimizer: str = "sgd") -> AbcParametrization:
    """SP: multipliers 1, init variance 1/fan_in (d fixed for the input), learning rate eta n^{-c}.

    a = 0, b = (0, 1/2, ..., 1/2) [TP4 §3]. c = 0 is the width-independent learning rate, c = 1
    the eta ~ 1/n one.
    """
    _check_depth(hidden_layers)
    b = (0,) + (HALF,) * hidden_layers
    name = "SP" if exponent(c) == 0 else f"SP, eta ~ n^-{exponent(c)}"
    return AbcParametrization.with_shared_learning_rate((0,) * (hidden_layers + 1), b, c, optimizer, name)


def ntk(hidden_layers: int = 2, optimizer: str = "sgd") -> AbcParametrization:
    """NTP: a = (0, 1/2, ..., 1/2), b = 0, c = 0 [TP4 §3; Jacot et al. 2018]."""
    _check_depth(hidden_layers)
    a = (0,) + (HALF,) * hidden_layers
    return AbcParametrization.with_shared_learning_rate(a, (0,) * (hidden_layers + 1), 0, optimizer, "NTP")


def mean_field(hidden_layers: int = 1) -> AbcParametrization:
    """Mean-field parametrization of a one-hidden-layer net: a = (0, 1), b = (0, 0), c = -1 (SGD).

    f = n^{-1} sum_i v_i phi(u_i . xi) with O(1) parameters and learning rate eta n [Mei et al.
    2018; TP4 §3]. Defined here for L = 1 only, where it is muP up to the symmetry.
    """
    if hidden_layers != 1:
        raise ParametrizationError("the mean-field parametrization is defined here for one hidden layer only")
    return AbcParametrization.with_shared_learning_rate((0, 1), (0, 0), -1, "sgd", "MF")


# --- muP derived from its conditions --------------------------------------------------------


@dataclass(frozen=True)
class ExponentCondition:
    """A named linear condition lhs REL rhs on the symbols a_l, b_l, c_l (sympy, with Min)."""

    name: str
    layer: int | None
    lhs: sympy.Expr
    relation: str  # "=" or ">="
    rhs: sympy.Expr


@dataclass(frozen=True)
class MupDerivation:
    """The solution set of muP's conditions and the check that it is one symmetry orbit.

    ``particular`` + span(``directions``) is the set of all solutions (exact rationals);
    ``unique_modulo_symmetry`` says the directions span exactly the symmetry's directions.
    """

    hidden_layers: int
    optimizer: str
    shared_learning_rate: bool
    conditions: tuple[ExponentCondition, ...]
    symbols: tuple[sympy.Symbol, ...]
    particular: dict[sympy.Symbol, sympy.Rational]
    directions: tuple[dict[sympy.Symbol, sympy.Rational], ...]
    symmetry_directions: tuple[dict[sympy.Symbol, sympy.Rational], ...]
    unique_modulo_symmetry: bool
    branches_tried: int

    def in_gauge(self, multipliers: Sequence[ExponentLike] | None = None,
                 learning_rate: ExponentLike | None = None, name: str = "muP") -> AbcParametrization:
        """The solution with the given multiplier exponents a_l (or, shared c, the given c).

        Solved exactly: the gauge equations are added to the conditions' solution set.
        """
        equations = []
        a_syms, b_syms, c_syms = _abc_symbols(self.hidden_layers, self.shared_learning_rate)
        if multipliers is not None:
            values = _exponents(multipliers)
            if len(values) != len(a_syms):
                raise ParametrizationError(f"{len(values)} multipliers for {len(a_syms)} layers")
            equations += [s - _rational(v) for s, v in zip(a_syms, values, strict=True)]
        if learning_rate is not None:
            equations += [c_syms[0] - _rational(exponent(learning_rate))]
        free = sympy.symbols(f"t0:{len(self.directions)}")
        general = {s: self.particular[s] + sum(t * d[s] for t, d in zip(free, self.directions, strict=True))
                   for s in self.symbols}
        solutions = sympy.linsolve([eq.xreplace(general) for eq in equations], list(free))
        if not solutions:
            raise ParametrizationError("no muP solution has this gauge")
        (values_t,) = solutions
        if any(v.free_symbols for v in values_t):
            raise ParametrizationError("the gauge does not fix a unique representative")
        point = {s: general[s].xreplace(dict(zip(free, values_t, strict=True))) for s in self.symbols}
        layers = self.hidden_layers + 1
        c_values = [point[c_syms[0]]] * layers if self.shared_learning_rate else [point[s] for s in c_syms]
        return AbcParametrization(_exponents(point[s] for s in a_syms), _exponents(point[s] for s in b_syms),
                                  _exponents(c_values), self.optimizer, name)


def _rational(value: Fraction) -> sympy.Rational:
    return sympy.Rational(value.numerator, value.denominator)


def _abc_symbols(hidden_layers: int, shared_learning_rate: bool
                 ) -> tuple[tuple[sympy.Symbol, ...], tuple[sympy.Symbol, ...], tuple[sympy.Symbol, ...]]:
    layers = hidden_layers + 1
    a = sympy.symbols(f"a1:{layers + 1}")
    b = sympy.symbols(f"b1:{layers + 1}")
    c = (sympy.Symbol("c"),) if shared_learning_rate else sympy.symbols(f"c1:{layers + 1}")
    return a, b, c


def maximal_update_conditions(hidden_layers: int, optimizer: str = "sgd",
                              shared_learning_rate: bool = False) -> tuple[ExponentCondition, ...]:
    """muP's defining conditions as linear conditions with Min, in symbols a_l, b_l, c(_l).

    muP [TP4 §5; theory facts §6.2] is stable and every layer is updated maximally:
    (1) stable at init: a_1 + b_1 = 0, a_l + b_l = 1/2 (hidden);
    (2) every layer's features move maximally: e_l = 0 for every l <= L (so r = 0);
    (3) the readout update is maximal: 2 a_{L+1} + c_{L+1} = 1 (Adam: a_{L+1} + c_{L+1} = 1);
    (4) the learned features reach f maximally: a_{L+1} + b_{L+1} + r = 1.
    Stability's inequalities (a_{L+1}+b_{L+1} >= 1/2 etc.) follow and are checked on the solution.
    """
    _check_depth(hidden_layers)
    k = learning_rate_shift(optimizer)
    a, b, c_syms = _abc_symbols(hidden_layers, shared_learning_rate)
    layers = hidden_layers + 1
    c = c_syms * layers if shared_learning_rate else c_syms
    out = layers - 1
    g = sympy.Min(a[out] + b[out], 2 * a[out] + c[out])
    conditions = [ExponentCondition("stable at init", 1, a[0] + b[0], "=", sympy.Integer(0))]
    conditions += [ExponentCondition("stable at init", i + 1, a[i] + b[i], "=", sympy.Rational(1, 2))
                   for i in range(1, hidden_layers)]
    for i in range(hidden_layers):
        fixed_fan_in = 1 if i == 0 else 0
        e_i = (a[i] + c[i] - 1 + fixed_fan_in if optimizer == "adam"
               else g + c[i] + 2 * a[i] - 1 + fixed_fan_in)
        conditions.append(ExponentCondition("maximal feature update (e_l = 0)", i + 1, e_i, "=",
                                            sympy.Integer(0)))
    conditions.append(ExponentCondition("maximal readout update", layers, k * a[out] + c[out], "=",
                                        sympy.Integer(1)))
    conditions.append(ExponentCondition("maximal feature propagation (r = 0)", layers, a[out] + b[out], "=",
                                        sympy.Integer(1)))
    conditions.append(ExponentCondition("stable at init", layers, a[out] + b[out], ">=",
                                        sympy.Rational(1, 2)))
    return tuple(conditions)


def _symmetry_directions(hidden_layers: int, optimizer: str, shared_learning_rate: bool
                         ) -> tuple[dict[sympy.Symbol, sympy.Rational], ...]:
    """Tangent directions of the symmetry orbit: (da, db, dc) = (1, -1, -k) per layer (or shared)."""
    k = learning_rate_shift(optimizer)
    a, b, c = _abc_symbols(hidden_layers, shared_learning_rate)
    zero = {s: sympy.Integer(0) for s in (*a, *b, *c)}
    if shared_learning_rate:
        direction = dict(zero)
        for s in a:
            direction[s] = sympy.Integer(1)
        for s in b:
            direction[s] = sympy.Integer(-1)
        direction[c[0]] = sympy.Integer(-k)
        return (direction,)
    out = []
    for i in range(hidden_layers + 1):
        direction = dict(zero)
        direction[a[i]], direction[b[i]], direction[c[i]] = 1, -1, -k
        out.append({s: sympy.Integer(v) for s, v in direction.items()})
    return tuple(out)


def _solve_piecewise_linear(conditions: Sequence[ExponentCondition], symbols: Sequence[sympy.Symbol]
                            ) -> tuple[list[tuple[dict, list[dict]]], int]:
    """All affine solution sets of equalities with Min: one branch per choice of Min arguments.

    In a branch each Min(u, v) is replaced by the chosen argument and the branch's own
    inequalities (chosen <= the others) and the conditions' inequalities are checked on the
    solution; a branch is kept only if they hold on its whole solution set (exactly).
    """
    mins = sorted({m for cond in conditions for m in cond.lhs.atoms(sympy.Min)}, key=sympy.default_sort_key)
    found: list[tuple[dict, list[dict]]] = []
    branches = list(itertools.product(*(range(len(m.args)) for m in mins)))
    for choice in branches:
        pick = {m: m.args[i] for m, i in zip(mins, choice, strict=True)}
        equalities = [(cond.lhs.xreplace(pick) - cond.rhs) for cond in conditions if cond.relation == "="]
        inequalities = [(cond.lhs.xreplace(pick) - cond.rhs) for cond in conditions if cond.relation == ">="]
        inequalities += [other - chosen for m, chosen in pick.items() for other in m.args if other != chosen]
        solution = sympy.linsolve(equalities, list(symbols))
        if not solution:
            continue
        (values,) = solution
        params = sorted(set().union(*(v.free_symbols for v in values)), key=sympy.default_sort_key)
        point = dict(zip(symbols, values, strict=True))
        on_solutions = [sympy.expand(ineq.xreplace(point)) for ineq in inequalities]
        if not all(_nonnegative_everywhere(value, params) for value in on_solutions):
            continue
        particular = {s: sympy.Rational(point[s].xreplace(dict.fromkeys(params, 0))) for s in symbols}
        directions = [{s: sympy.Rational(sympy.diff(point[s], t)) for s in symbols} for t in params]
        found.append((particular, directions))
    return found, len(branches)


def _nonnegative_everywhere(expr: sympy.Expr, params: Sequence[sympy.Symbol]) -> bool:
    """An affine expression is >= 0 on all of R^params iff it is a nonnegative constant."""
    return not (expr.free_symbols & set(params)) and bool(expr >= 0)


def _span_equal(first: Sequence[dict], second: Sequence[dict], symbols: Sequence[sympy.Symbol]) -> bool:
    """Whether two families of vectors span the same subspace (exact ranks over Q)."""
    m1 = sympy.Matrix([[v[s] for s in symbols] for v in first]) if first else sympy.zeros(0, len(symbols))
    m2 = sympy.Matrix([[v[s] for s in symbols] for v in second]) if second else sympy.zeros(0, len(symbols))
    rank1, rank2 = m1.rank(), m2.rank()
    return rank1 == rank2 == sympy.Matrix.vstack(m1, m2).rank()


def derive_mup(hidden_layers: int = 2, optimizer: str = "sgd",
               shared_learning_rate: bool | None = None) -> MupDerivation:
    """Solve muP's conditions exactly and show the solution set is one symmetry orbit.

    The conditions (``maximal_update_conditions``) are linear but for the Min in the backward
    exponent; each branch is solved by sympy's ``linsolve`` over Q. Uniqueness up to symmetry
    [TP4 §5]: there is one solution set, and its directions span the symmetry's tangent space.
    Default: SGD with a shared c (TP4), Adam with per-layer c_l (TP5 Table 3, EV24).
    """
    if shared_learning_rate is None:
        shared_learning_rate = optimizer == "sgd"
    conditions = maximal_update_conditions(hidden_layers, optimizer, shared_learning_rate)
    a, b, c = _abc_symbols(hidden_layers, shared_learning_rate)
    symbols = (*a, *b, *c)
    solutions, branches = _solve_piecewise_linear(conditions, symbols)
    if not solutions:
        raise ParametrizationError("muP's conditions have no solution")
    symmetry = _symmetry_directions(hidden_layers, optimizer, shared_learning_rate)
    particular, directions = solutions[0]
    one_set = all(_same_affine_set(particular, directions, other, other_dirs, symbols)
                  for other, other_dirs in solutions[1:])
    unique = one_set and _span_equal(directions, symmetry, symbols)
    return MupDerivation(hidden_layers, optimizer, shared_learning_rate, conditions, symbols, particular,
                         tuple(directions), symmetry, unique, branches)


def _same_affine_set(p1: dict, d1: Sequence[dict], p2: dict, d2: Sequence[dict],
                     symbols: Sequence[sympy.Symbol]) -> bool:
    offset = {s: p2[s] - p1[s] for s in symbols}
    return _span_equal(d1, d2, symbols) and _span_equal([*d1, offset], d1, symbols)


def mup(hidden_layers: int = 2, optimizer: str = "sgd") -> AbcParametrization:
    """muP as derived from its conditions, in TP4's gauge a = (-1/2, 0, ..., 0, 1/2).

    SGD (shared c): b = 1/2 everywhere, c = 0. Adam (per-layer c_l): c = (1/2, 1, ..., 1, 1/2).
    """
    derivation = derive_mup(hidden_layers, optimizer)
    multipliers = (-HALF,) + (Fraction(0),) * (hidden_layers - 1) + (HALF,)
    return derivation.in_gauge(multipliers=multipliers, name=f"muP ({optimizer})")


def named_points(hidden_layers: int = 2) -> dict[str, AbcParametrization]:
    """The named parametrizations of TP4 §3 and TP5 (SGD unless the name says Adam)."""
    points = {
        "SP": standard(hidden_layers, 0),
        "SP, eta ~ 1/n": standard(hidden_layers, 1),
        "NTP": ntk(hidden_layers),
        "muP": mup(hidden_layers, "sgd"),
        "SP (Adam)": standard(hidden_layers, 0, "adam"),
        "muP (Adam)": mup(hidden_layers, "adam"),
    }
    if hidden_layers == 1:
        points["MF"] = mean_field(1)
    return points


def is_maximal_update(p: AbcParametrization) -> Equivalence:
    """Whether p satisfies muP's conditions (stable, e_l = 0 for every l <= L, both readout
    conditions with equality); the reasons name each failing layer and exponent."""
    cls = classify(p)
    reasons = [ch.reason() for ch in cls.violated() if ch.family != "nontriviality"]
    reasons += [f"maximal feature update: layer {layer}: e_{layer} = {e} != 0 (Delta h^{layer} from "
                f"Delta W^{layer} is Theta(n^{-e}))"
                for layer, e in enumerate(cls.own_update_exponents, start=1) if e != 0]
    reasons += [ch.reason() for ch in cls.checks if ch.family == "nontriviality" and not ch.holds]
    return Equivalence(not reasons, tuple(dict.fromkeys(reasons)))


# --- per-layer tables -----------------------------------------------------------------------


@dataclass(frozen=True)
class LayerScaling:
    """One column of a muP table: exponents of n in init variance, multiplier and learning rate."""

    layer: int
    kind: str
    init_variance: Fraction  # n^{-2b}
    multiplier: Fraction  # n^{-a}
    learning_rate: Fraction  # n^{-c}

    def as_fan_expressions(self) -> tuple[str, str, str]:
        """(init variance, multiplier, learning rate) written as TP5 writes them."""
        return (fan_expression(self.init_variance, self.kind), fan_expression(self.multiplier, self.kind),
                fan_expression(self.learning_rate, self.kind))


def per_layer_table(p: AbcParametrization) -> tuple[LayerScaling, ...]:
    """Per layer the n-exponents of init variance (-2 b_l), multiplier (-a_l) and LR (-c_l)."""
    return tuple(LayerScaling(layer, p.layer_kind(layer), -2 * p.b[layer - 1], -p.a[layer - 1],
                              -p.c[layer - 1]) for layer in p.layers())


def fan_expression(width_exponent: Fraction, kind: str) -> str:
    """n^e written as TP5 writes it: "fan_in" for the output and hidden layers, "fan_out" for the
    input layer (whose fan_in d does not grow)."""
    fan = "fan_out" if kind == "input" else "fan_in"
    e = width_exponent
    if e == 0:
        return "1"
    power = abs(e)
    base = (fan if power == 1 else f"sqrt({fan})" if power == HALF else f"{fan}^{power}")
    return base if e > 0 else f"1/{base}"


_FAN_TERM = re.compile(
    r"^(?P<inv>1/)?(?:(?P<sqrt>sqrt\()?(?P<fan>fan_in|fan_out)\)?(?:\^(?P<pow>[0-9/]+))?|1)$")


def width_exponent_of(expression: str, kind: str) -> Fraction:
    """Exponent of n in a table entry like "1/fan_in^2", "sqrt(fan_out)", "1" for a layer kind.

    fan_in is n except for the input layer (d, fixed); fan_out is n except for the output layer.
    """
    text = expression.replace(" ", "")
    match = _FAN_TERM.match(text)
    if match is None:
        raise ParametrizationError(f"cannot read table entry {expression!r}")
    if match.group("fan") is None:
        return Fraction(0)
    fan = match.group("fan")
    grows = not ((fan == "fan_in" and kind == "input") or (fan == "fan_out" and kind == "output"))
    power = Fraction(match.group("pow") or 1) * (HALF if match.group("sqrt") else 1)
    value = power if grows else Fraction(0)
    return -value if match.group("inv") else value


@dataclass(frozen=True)
class PublishedTable:
    """A muP table as published: per layer kind (init variance, multiplier, SGD LR, Adam LR).

    Data for comparison only; nothing is derived from it but the gauge (its multipliers).
    """

    name: str
    source: str
    columns: dict[str, tuple[str, str, str, str]]


PUBLISHED_MUP_TABLES = (
    PublishedTable("TP5 Table 3", "Yang et al. 2022, Tensor Programs V, Table 3 (muP for general NNs)",
                   {"input": ("1/fan_in", "1", "fan_out", "1"),
                    "output": ("1/fan_in^2", "1", "1/fan_in", "1/fan_in"),
                    "hidden": ("1/fan_in", "1", "1", "1/fan_in")}),
    PublishedTable("TP5 Table 8", "Tensor Programs V, Table 8 (the mup package; mup issue #7)",
                   {"input": ("1/fan_in", "1", "fan_out", "1"),
                    "output": ("1", "1/fan_in", "fan_in", "1"),
                    "hidden": ("1/fan_in", "1", "1", "1/fan_in")}),
    PublishedTable("TP5 Table 9", "Tensor Programs V, Table 9 (TP4-style)",
                   {"input": ("1/fan_out", "sqrt(fan_out)", "1", "1/sqrt(fan_out)"),
                    "output": ("1/fan_in", "1/sqrt(fan_in)", "1", "1/sqrt(fan_in)"),
                    "hidden": ("1/fan_in", "1", "1", "1/fan_in")}),
)


@dataclass(frozen=True)
class TableComparison:
    """Derived muP column against a published one; ``mismatches`` name layer, entry and exponents."""

    table: str
    optimizer: str
    derived: AbcParametrization
    agrees: bool
    mismatches: tuple[str, ...]


def compare_with_published(table: PublishedTable, optimizer: str, hidden_layers: int = 2) -> TableComparison:
    """Derive muP in the gauge of ``table`` (its multipliers) and compare init variance and LR.

    Every entry is compared as an exponent of n (``width_exponent_of``), so "1/fan_in" for the
    input layer (fan_in = d fixed) is n^0.
    """
    kinds = [layer_kind(layer, hidden_layers) for layer in range(1, hidden_layers + 2)]
    multipliers = [-width_exponent_of(table.columns[kind][1], kind) for kind in kinds]
    derivation = derive_mup(hidden_layers, optimizer, shared_learning_rate=False)
    derived = derivation.in_gauge(multipliers=multipliers, name=f"muP ({optimizer}) in {table.name}'s gauge")
    lr_column = 2 if optimizer == "sgd" else 3
    mismatches = []
    for row in per_layer_table(derived):
        published = table.columns[row.kind]
        for label, mine, theirs in (("init variance", row.init_variance, published[0]),
                                    (f"{optimizer} learning rate", row.learning_rate, published[lr_column])):
            expected = width_exponent_of(theirs, row.kind)
            if mine != expected:
                mismatches.append(f"layer {row.layer} ({row.kind}) {label}: derived n^{mine}, "
                                  f"{table.name} says {theirs} = n^{expected}")
    return TableComparison(table.name, optimizer, derived, not mismatches, tuple(mismatches))


# --- claims decided with counterexamples ----------------------------------------------------


@dataclass(frozen=True)
class Counterexample:
    """The layer and the exponent that break a claim."""

    layer: int | None
    quantity: str
    exponent: Fraction
    condition: str


@dataclass(frozen=True)
class ClaimDecision:
    """A claim about parametrizations decided exactly: ``holds``, or counterexamples."""

    claim: str
    holds: bool
    reasons: tuple[str, ...]
    counterexamples: tuple[Counterexample, ...] = ()


def _counterexamples(checks: Iterable[ConditionCheck], cls: Classification) -> tuple[Counterexample, ...]:
    out = []
    for ch in checks:
        layers = cls.r_layers() if ch.quantity == "r" and ch.layer is None else (ch.layer,)
        for layer in layers:
            quantity = f"e_{layer} (own update of layer {layer})" if ch.quantity == "r" else ch.quantity
            value = cls.own_update_exponents[layer - 1] if ch.quantity == "r" and layer else ch.value
            out.append(Counterexample(layer, quantity, value, ch.reason()))
    return tuple(out)


def decide_stable(p: AbcParametrization) -> ClaimDecision:
    """Claim "p is stable" [TP4 Thm 3.3]; refuted by each violated stability condition."""
    cls = classify(p)
    bad = [ch for ch in cls.checks if ch.family.startswith("stability") and not ch.holds]
    return ClaimDecision(f"{p.describe()} is stable", not bad,
                         tuple(ch.reason() for ch in (bad or cls.satisfied())), _counterexamples(bad, cls))


def decide_feature_learning(p: AbcParametrization) -> ClaimDecision:
    """Claim "p admits feature learning": stable and r = 0 [TP4 §3, Thm on r]."""
    cls = classify(p)
    bad = [ch for ch in cls.checks if ch.family.startswith("stability") and not ch.holds]
    if not bad and cls.r != 0:
        bad = [ch for ch in cls.checks if ch.family == "feature learning"]
    reasons = tuple(ch.reason() for ch in bad) or tuple(cls.reasons())
    return ClaimDecision(f"{p.describe()} admits feature learning", not bad, reasons,
                         _counterexamples(bad, cls))


def decide_mup_learning_rate(hidden_layers: int, optimizer: str, layer: int,
                             claimed_learning_rate: ExponentLike,
                             multiplier: ExponentLike = 0) -> ClaimDecision:
    """Claim "muP's learning rate of layer l is n^{claimed}" (with that layer's multiplier n^{mult}).

    Derive muP with the layer's multiplier fixed (TP4 gauge elsewhere), compare the LR exponent,
    and if it differs show what the claimed value breaks: muP with the claimed c_l is classified,
    and each violated condition is a counterexample naming the layer and exponent.
    """
    derivation = derive_mup(hidden_layers, optimizer, shared_learning_rate=False)
    multipliers = [-HALF] + [Fraction(0)] * (hidden_layers - 1) + [HALF]
    multipliers[layer - 1] = -exponent(multiplier)
    derived = derivation.in_gauge(multipliers=multipliers)
    kind = derived.layer_kind(layer)
    claimed_c = -exponent(claimed_learning_rate)
    derived_c = derived.c[layer - 1]
    claim = (f"muP ({optimizer}) {kind} layer {layer} with multiplier n^{exponent(multiplier)} has learning "
             f"rate n^{exponent(claimed_learning_rate)}")
    if claimed_c == derived_c:
        return ClaimDecision(claim, True, (f"derived c_{layer} = {derived_c}",))
    altered = altered_exponent(derived, "c", layer, claimed_c, "muP with the claimed LR")
    broken, counter = consequences_of_change(derived, altered, layer)
    reasons = [f"derived from muP's conditions: c_{layer} = {derived_c} (learning rate "
               f"{fan_expression(-derived_c, kind)}), claimed c_{layer} = {claimed_c} "
               f"({fan_expression(-claimed_c, kind)})"]
    reasons += [ch.reason() for ch in broken]
    return ClaimDecision(claim, False, tuple(reasons), counter)


def altered_exponent(p: AbcParametrization, which: str, layer: int, value: ExponentLike,
                     name: str = "") -> AbcParametrization:
    """p with one exponent changed: ``which`` is "a", "b" or "c", of layer ``layer``."""
    if which not in ("a", "b", "c"):
        raise ParametrizationError(f"no exponent {which!r}: a, b or c")
    if not 1 <= layer <= p.output_layer:
        raise ParametrizationError(f"layer {layer} outside 1..{p.output_layer}")
    values = {"a": list(p.a), "b": list(p.b), "c": list(p.c)}
    values[which][layer - 1] = exponent(value)
    return AbcParametrization(tuple(values["a"]), tuple(values["b"]), tuple(values["c"]), p.optimizer,
                              name or p.name)


def consequences_of_change(p: AbcParametrization, altered: AbcParametrization, layer: int
                           ) -> tuple[list[ConditionCheck], tuple[Counterexample, ...]]:
    """What changing layer ``layer``'s exponents of p into ``altered`` breaks: the stability
    conditions ``altered`` violates, and (each a counterexample with layer and exponent) a
    maximal own update e_l = 0 or a maximal readout update u = 1 of p that ``altered`` loses."""
    cls = classify(altered)
    broken = [ch for ch in cls.checks if not ch.holds and ch.family.startswith("stability")]
    counter = list(_counterexamples(broken, cls))
    if layer <= p.hidden_layers:
        own = cls.own_update_exponents[layer - 1]
        if own != 0 and own_update_exponent(p, layer) == 0:
            counter.append(Counterexample(layer, f"e_{layer} (own update of layer {layer})", own,
                                          f"Delta h^{layer} = Theta(n^{-own}) instead of Theta(1): "
                                          f"layer {layer} is not updated maximally"))
    else:
        u = readout_update_exponent(altered)
        if u != 1 and readout_update_exponent(p) == 1:
            counter.append(Counterexample(layer, "readout update exponent", u,
                                          f"Delta W^{layer} x^L = Theta(n^{1 - u}) instead of Theta(1)"))
    return broken, tuple(dict.fromkeys(counter))


# --- predicted sizes after one step ---------------------------------------------------------


@dataclass(frozen=True)
class OneStepExponents:
    """Predicted exponents s (size Theta(n^s)) of coordinates at init and after one step.

    ``h_init[l-1]`` and ``delta_h[l-1]`` for l = 1..L, ``f_init`` and ``delta_f`` for the output;
    ``h_after`` / ``f_after`` = max(init, change).
    """

    h_init: tuple[Fraction, ...]
    f_init: Fraction
    delta_h: tuple[Fraction, ...]
    delta_f: Fraction

    @property
    def h_after(self) -> tuple[Fraction, ...]:
        return tuple(max(x, d) for x, d in zip(self.h_init, self.delta_h, strict=True))

    @property
    def f_after(self) -> Fraction:
        return max(self.f_init, self.delta_f)


def one_step_exponents(p: AbcParametrization) -> OneStepExponents:
    """Coordinate-size exponents at init and of the change after one step (theory facts §6.4).

    At init (phi bounded with phi'(0) != 0, like tanh, so x^l = Theta(n^{min(0, s(h^l))})):
    h^1 = n^{-(a_1+b_1)}, h^l = n^{1/2-(a_l+b_l)} x^{l-1}, f = n^{1/2-(a_{L+1}+b_{L+1})} x^L.
    After one step: Delta h^l = n^{-min_{l' <= l} e_{l'}} with the first-step e (lower layers'
    changes pass through iid W^l_0 at unchanged size); Delta f = n^{max(1-u, 1-(a_{L+1}+b_{L+1})-r_1)}
    with u the readout update exponent. Derived by a size count [TP4 §3; theory facts §6.4].
    """
    h_init: list[Fraction] = []
    x_prev = Fraction(0)
    for layer in range(1, p.hidden_layers + 1):
        s = -p.ab(1) if layer == 1 else HALF - p.ab(layer) + x_prev
        h_init.append(s)
        x_prev = min(Fraction(0), s)
    f_init = HALF - p.ab(p.output_layer) + x_prev
    own = [own_update_exponent(p, layer, first_step=True) for layer in range(1, p.hidden_layers + 1)]
    delta_h = tuple(-min(own[:layer]) for layer in range(1, p.hidden_layers + 1))
    r1 = min(own)
    delta_f = max(1 - readout_update_exponent(p), 1 - p.ab(p.output_layer) - r1)
    return OneStepExponents(tuple(h_init), f_init, delta_h, delta_f)


# --- questions of the proof language: opaque heads and their exact values ------------------

#: 1/0 questions about one parametrization.
PREDICATES = ("stable", "nontrivial", "feature_learning", "kernel_regime", "maximal_update")
#: exponent questions about one layer: head -> (what it is, whether the output layer L+1 has one).
LAYER_EXPONENTS = {
    "own_update_exponent": ("e_l: Delta W^l x^{l-1} = Theta(n^{-e_l})", False),
    "update_exponent": ("s: Delta h^l after one step = Theta(n^s) (l = L+1: Delta f)", True),
    "init_exponent": ("s: h^l at init = Theta(n^s) (l = L+1: f_0)", True),
    "lr_exponent": ("-c_l: the learning rate of w^l is eta n^{-c_l}", True),
    "init_variance_exponent": ("-2 b_l: w^l_ij ~ N(0, n^{-2 b_l})", True),
    "multiplier_exponent": ("-a_l: W^l = n^{-a_l} w^l", True),
}
#: exponents changed by a claim about them, and which of a, b, c they change: lr -c, variance -2b,
#: multiplier -a (a claim n^v is the exponent v of that column).
_CLAIMED_COLUMNS = {"lr_exponent": ("c", Fraction(-1)), "init_variance_exponent": ("b", Fraction(-1, 2)),
                    "multiplier_exponent": ("a", Fraction(-1))}
#: exponents that only an experiment measures (no exact rule decides them): head -> what it is.
MEASURED_EXPONENTS = {
    "optimal_lr_exponent": "s: the best width-independent learning rate factor eta*(n) = Theta(n^s) "
                           "(muTransfer: s = 0; measured by the lr_transfer rule)",
}
#: every head: its arity (parametrizations, then layers).
HEADS: dict[str, tuple[int, int]] = {
    **{name: (1, 0) for name in PREDICATES},
    "equivalent": (2, 0),
    "unique_maximal_update": (1, 0),
    "r": (1, 0),
    **{name: (1, 1) for name in LAYER_EXPONENTS},
    **{name: (1, 0) for name in MEASURED_EXPONENTS},
}
#: the deepest network a head may speak of (muP's derivation solves 3(L+1) unknowns).
MAX_HIDDEN_LAYERS = 32


class ParametrizationHead(sympy.Function):
    """An opaque question about declared abc-parametrizations, ``stable(p)``, ``equivalent(p, q)``,
    ``update_exponent(p, 2)``...: args (kind, parametrizations, layers), each parametrization the
    tuple of :func:`parametrization_atom`. Nothing in sympy evaluates it; the
    ``abc_classification`` rule gives it its exact value with :func:`evaluate_head`."""

    nargs = 3

    def _sympystr(self, printer) -> str:  # noqa: ANN001
        kind, points, layers = self.args
        names = [str(point.args[0]) for point in points.args]
        return f"{kind}({', '.join([*names, *(printer.doprint(x) for x in layers.args)])})"


def parametrization_atom(p: AbcParametrization) -> sympy.Tuple:
    """p as a sympy object without free symbols: (name, optimizer, a, b, c), exponents exact."""
    def row(values: tuple[Fraction, ...]) -> sympy.Tuple:
        return sympy.Tuple(*(_rational(v) for v in values))

    return sympy.Tuple(Str(p.name or "p"), Str(p.optimizer), row(p.a), row(p.b), row(p.c))


def parametrization_from_atom(atom: sympy.Basic) -> AbcParametrization:
    """The inverse of :func:`parametrization_atom`; a malformed atom is a ParametrizationError."""
    if not isinstance(atom, sympy.Tuple) or len(atom.args) != 5 or \
            not all(isinstance(x, Str) for x in atom.args[:2]) or \
            not all(isinstance(x, sympy.Tuple) for x in atom.args[2:]):
        raise ParametrizationError(f"not a parametrization: {atom}")
    name, optimizer, a, b, c = atom.args
    if not all(isinstance(v, sympy.Rational) for row in (a, b, c) for v in row.args):
        raise ParametrizationError(f"the exponents of {name} are not rational numbers")
    return AbcParametrization(a.args, b.args, c.args, str(optimizer), str(name))


def parametrization_head(kind: str, points: Sequence[AbcParametrization],
                         layers: Sequence[int] = ()) -> ParametrizationHead:
    """The head ``kind(p, ..., layer)``, checked: a known kind, its arity, layers in range."""
    if kind not in HEADS:
        raise ParametrizationError(f"unknown question {kind!r} (known: {', '.join(HEADS)})")
    arity = HEADS[kind]
    if (len(points), len(layers)) != arity:
        raise ParametrizationError(f"{kind} takes {arity[0]} parametrization(s) and {arity[1]} layer(s)")
    for p in points:
        if p.hidden_layers > MAX_HIDDEN_LAYERS:
            raise ParametrizationError(f"{p.name}: at most {MAX_HIDDEN_LAYERS} hidden layers")
    for layer in layers:
        last = points[0].hidden_layers + (1 if LAYER_EXPONENTS[kind][1] else 0)
        if isinstance(layer, bool) or not isinstance(layer, int) or not 1 <= layer <= last:
            raise ParametrizationError(f"{kind}: layer {layer!r} outside 1..{last}")
    return ParametrizationHead(Str(kind), sympy.Tuple(*(parametrization_atom(p) for p in points)),
                               sympy.Tuple(*(sympy.Integer(x) for x in layers)))


@dataclass(frozen=True)
class HeadValue:
    """The exact value of a head (1/0 for a question, an exponent of n otherwise), the reasons
    that decide it, and the conditions behind it, each with its layer and exponent (for a
    false predicate: the violated conditions; for a true one: those that make it hold)."""

    question: str
    value: Fraction
    reasons: tuple[str, ...]
    evidence: tuple[Counterexample, ...] = ()


def evaluate_head(head: ParametrizationHead) -> HeadValue:
    """The value of ``head`` by exact rational arithmetic on the exponents [TP4 §3, §5; EV24]."""
    kind_atom, points_atom, layers_atom = head.args
    kind = str(kind_atom)
    points = [parametrization_from_atom(x) for x in points_atom.args]
    layers = [int(x) for x in layers_atom.args]
    checked = parametrization_head(kind, points, layers)  # arity and layer ranges
    question = str(checked)
    if kind in MEASURED_EXPONENTS:
        raise ParametrizationError(f"{kind} is measured, not derived: {MEASURED_EXPONENTS[kind]}; "
                                   "the exponent conditions do not determine it")
    if kind in PREDICATES:
        value, reasons, evidence = _predicate(kind, points[0])
    elif kind == "equivalent":
        value, reasons, evidence = _equivalence(points[0], points[1])
    elif kind == "unique_maximal_update":
        value, reasons, evidence = _uniqueness(points[0])
    else:
        value, reasons, evidence = _exponent(kind, points[0], layers)
    return HeadValue(question, value, tuple(reasons), tuple(evidence))


def claimed_consequences(head: ParametrizationHead, claimed: ExponentLike) -> tuple[Counterexample, ...]:
    """For ``lr_exponent(p, l) = v`` (likewise the init variance and multiplier exponents) with v
    not p's value: what p with that layer's exponent set to the claimed value would break
    (:func:`consequences_of_change`); empty for other heads."""
    kind = str(head.args[0])
    if kind not in _CLAIMED_COLUMNS:
        return ()
    p = parametrization_from_atom(head.args[1].args[0])
    layer = int(head.args[2].args[0])
    column, scale = _CLAIMED_COLUMNS[kind]
    altered = altered_exponent(p, column, layer, scale * exponent(claimed),
                               f"{p.name} with the claimed value")
    return consequences_of_change(p, altered, layer)[1]


Answer = tuple[Fraction, list[str], list[Counterexample]]


def _from_checks(value: bool, checks: Sequence[ConditionCheck], cls: Classification) -> Answer:
    return Fraction(int(value)), [ch.reason() for ch in checks], list(_counterexamples(checks, cls))


def _predicate(kind: str, p: AbcParametrization) -> Answer:
    """stable, nontrivial, feature_learning, kernel_regime (TP4 Thm 3.3, the Dynamical
    Dichotomy) and maximal_update (muP's conditions), each with the conditions that decide it."""
    cls = classify(p)
    stability = [ch for ch in cls.checks if ch.family.startswith("stability")]
    if kind == "maximal_update":
        return _maximal_update(p, cls)
    if not cls.stable:
        return _from_checks(False, [ch for ch in stability if not ch.holds], cls)
    nontriviality = [ch for ch in cls.checks if ch.family == "nontriviality"]
    learning = [ch for ch in cls.checks if ch.family == "feature learning"]
    if kind == "stable":
        return _from_checks(True, stability, cls)
    if kind == "nontrivial":
        return _from_checks(cls.nontrivial, [ch for ch in nontriviality if ch.holds] or nontriviality, cls)
    if kind == "feature_learning":
        return _from_checks(cls.feature_learning, learning, cls)
    if not cls.nontrivial:
        return _from_checks(False, nontriviality, cls)
    return _from_checks(cls.kernel_regime, learning, cls)


def _maximal_update(p: AbcParametrization, cls: Classification) -> Answer:
    """muP's conditions (``maximal_update_conditions``) on p, each failure with layer and exponent."""
    failing = [ch for ch in cls.checks if not ch.holds and ch.family in ("stability at init",
                                                                        "stability in training")]
    failing += [ch for ch in cls.checks if ch.family == "nontriviality" and not ch.holds]
    _, reasons, evidence = _from_checks(False, failing, cls)
    for layer, e in enumerate(cls.own_update_exponents, start=1):
        if e != 0:
            condition = (f"maximal feature update: layer {layer}: e_{layer} = {e} != 0 (Delta h^{layer} "
                         f"from Delta W^{layer} is Theta(n^{-e}))")
            reasons.append(condition)
            evidence.append(Counterexample(layer, f"e_{layer} (own update of layer {layer})", e, condition))
    if reasons:
        return Fraction(0), reasons, evidence
    held = [ch for ch in cls.checks if ch.family == "nontriviality"]
    _, reasons, evidence = _from_checks(True, held, cls)
    reasons.insert(0, "stable; e_l = 0 for every l <= L: " + ", ".join(
        f"e_{layer} = 0" for layer in range(1, p.hidden_layers + 1)))
    return Fraction(1), reasons, evidence


def _equivalence(p: AbcParametrization, q: AbcParametrization) -> Answer:
    """p ~ q: equal invariants (a_l + b_l, k a_l + c_l) layer by layer (the symmetry)."""
    decision = equivalent(p, q)
    if decision.holds:
        k = "2" if learning_rate_shift(p.optimizer) == 2 else ""
        pairs = "; ".join(f"layer {layer}: ({ab}, {kc})"
                          for layer, (ab, kc) in enumerate(invariants(p), start=1))
        return Fraction(1), [f"equal invariants (a_l+b_l, {k}a_l+c_l): {pairs}"], []
    evidence = []
    if p.optimizer == q.optimizer and len(p.a) == len(q.a):
        k = "2" if learning_rate_shift(p.optimizer) == 2 else ""
        for layer, (ip, iq) in enumerate(zip(invariants(p), invariants(q), strict=True), start=1):
            for index, label in ((0, f"a_{layer}+b_{layer}"), (1, f"{k}a_{layer}+c_{layer}")):
                if ip[index] != iq[index]:
                    evidence.append(Counterexample(layer, label, ip[index],
                                                   f"{label} = {ip[index]} for {p.name}, {iq[index]} "
                                                   f"for {q.name}: an invariant of the symmetry"))
    return Fraction(0), list(decision.reasons), evidence


def _uniqueness(p: AbcParametrization) -> Answer:
    """p meets muP's conditions, and every parametrization of p's depth and optimizer (per-layer
    learning rates) that meets them is equivalent to p (:func:`maximal_update_invariants`)."""
    member, member_reasons, evidence = _maximal_update(p, classify(p))
    if member != 1:
        return Fraction(0), [f"{p.name} does not meet muP's conditions: ", *member_reasons], evidence
    fixed, why = maximal_update_invariants(p.hidden_layers, p.optimizer)
    if fixed != invariants(p):
        raise ParametrizationError(f"{p.name} meets muP's conditions but its invariants {invariants(p)} "
                                   f"are not the conditions' {fixed}")
    return Fraction(1), [why, f"{p.name} meets them ({'; '.join(member_reasons)})"], []


def maximal_update_invariants(hidden_layers: int, optimizer: str = "sgd"
                              ) -> tuple[tuple[tuple[Fraction, Fraction], ...], str]:
    """The symmetry invariants (a_l + b_l, k a_l + c_l) that muP's conditions force, and how.

    Every Min in ``maximal_update_conditions`` (per-layer learning rates) is replaced by each of
    its arguments in turn; a solution of the conditions satisfies the equalities of the branch
    of its own Min choice. Each branch's equalities are solved by ``linsolve`` over Q, and the
    invariants must be the same constants on every branch's whole solution set. The
    inequalities are not used, so the branches cover every solution: every parametrization that
    meets the conditions has these invariants, that is, it is equivalent to any other that does
    [TP4 §5]. Raises ParametrizationError when the equalities do not force them.
    """
    conditions = maximal_update_conditions(hidden_layers, optimizer, shared_learning_rate=False)
    a, b, c = _abc_symbols(hidden_layers, shared_learning_rate=False)
    symbols = (*a, *b, *c)
    k = learning_rate_shift(optimizer)
    wanted = [(a[i] + b[i], k * a[i] + c[i]) for i in range(hidden_layers + 1)]
    mins = sorted({m for cond in conditions for m in cond.lhs.atoms(sympy.Min)}, key=sympy.default_sort_key)
    forced: set[tuple[tuple[Fraction, Fraction], ...]] = set()
    branches = list(itertools.product(*(range(len(m.args)) for m in mins)))
    for choice in branches:
        pick = {m: m.args[i] for m, i in zip(mins, choice, strict=True)}
        equalities = [cond.lhs.xreplace(pick) - cond.rhs for cond in conditions if cond.relation == "="]
        solution = sympy.linsolve(equalities, list(symbols))
        if not solution:
            continue
        (values,) = solution
        point = dict(zip(symbols, values, strict=True))
        found = [tuple(sympy.expand(x.xreplace(point)) for x in pair) for pair in wanted]
        if any(not x.is_Rational for pair in found for x in pair):
            raise ParametrizationError("muP's equalities do not fix every invariant on the branch "
                                       f"{choice} of the min in g")
        forced.add(tuple((exponent(x), exponent(y)) for x, y in found))
    if len(forced) != 1:
        raise ParametrizationError(f"muP's equalities give {len(forced)} sets of invariants")
    (fixed,) = forced
    shown = "; ".join(f"layer {layer}: ({ab}, {kc})" for layer, (ab, kc) in enumerate(fixed, start=1))
    count = sum(1 for cond in conditions if cond.relation == "=")
    why = (f"muP's {count} equalities for L = {hidden_layers} ({optimizer}, per-layer learning rates), "
           f"solved by linsolve over Q on every branch of the min in g ({len(branches)}), force the "
           f"invariants (a_l+b_l, {'2' if k == 2 else ''}a_l+c_l) = {shown} on every solution: every "
           "parametrization meeting them is equivalent to every other")
    return fixed, why


def _exponent(kind: str, p: AbcParametrization, layers: Sequence[int]) -> Answer:
    """r, e_l, the one-step and init coordinate exponents, and the columns of the per-layer table."""
    if kind == "r":
        cls = classify(p)
        own = ", ".join(f"e_{layer} = {e}" for layer, e in enumerate(cls.own_update_exponents, start=1))
        evidence = [Counterexample(layer, f"e_{layer} (own update of layer {layer})", cls.r,
                                   f"attains the min in r = min_l e_l ({own})") for layer in cls.r_layers()]
        return cls.r, [f"r = min_l e_l = min({own}) = {cls.r}: Delta x^L = Theta(n^{-cls.r})"], evidence
    (layer,) = layers
    i = layer - 1
    out = layer == p.output_layer
    if kind == "own_update_exponent":
        e = own_update_exponent(p, layer)
        return e, [f"e_{layer} = {e} ({p.optimizer}, g = {backward_exponent(p)})"], []
    if kind in ("update_exponent", "init_exponent"):
        step = one_step_exponents(p)
        what = ("f" if out else f"h^{layer}")
        if kind == "init_exponent":
            value = step.f_init if out else step.h_init[i]
            return value, [f"{what} at init = Theta(n^{value})"], []
        value = step.delta_f if out else step.delta_h[i]
        firsts = [own_update_exponent(p, x, first_step=True) for x in range(1, p.hidden_layers + 1)]
        if out:
            why = (f"Delta f = Theta(n^{value}) = n^max(1 - u, 1 - (a_{layer}+b_{layer}) - r_1), u = "
                   f"{readout_update_exponent(p)}, r_1 = {min(firsts)}")
        else:
            why = (f"Delta h^{layer} = Theta(n^{value}) = n^-min(e_1..e_{layer}) at the first step, e = "
                   f"({', '.join(str(e) for e in firsts[:layer])})")
        return value, [why], []
    column = {"lr_exponent": -p.c[i], "init_variance_exponent": -2 * p.b[i],
              "multiplier_exponent": -p.a[i]}[kind]
    kind_of_layer = p.layer_kind(layer)
    return column, [f"{LAYER_EXPONENTS[kind][0]}: n^{column} = {fan_expression(column, kind_of_layer)} "
                    f"({kind_of_layer} layer {layer})"], []


def named_parametrization(name: str, hidden_layers: int, optimizer: str = "sgd") -> AbcParametrization:
    """The named points of the proof language: ``standard`` (SP, c = 0), ``ntk`` (NTP), ``mup``
    (derived from its conditions, TP4's gauge) and ``mean_field`` (L = 1, SGD)."""
    _check_depth(hidden_layers)
    if hidden_layers > MAX_HIDDEN_LAYERS:
        raise ParametrizationError(f"at most {MAX_HIDDEN_LAYERS} hidden layers")
    if name == "standard":
        return standard(hidden_layers, 0, optimizer)
    if name == "ntk":
        return ntk(hidden_layers, optimizer)
    if name == "mup":
        return mup(hidden_layers, optimizer)
    if name == "mean_field":
        if optimizer != "sgd":
            raise ParametrizationError("the mean-field parametrization is defined here for SGD only")
        return mean_field(hidden_layers)
    raise ParametrizationError(f"unknown parametrization {name!r} (known: {', '.join(NAMED_POINTS)})")


NAMED_POINTS = ("standard", "ntk", "mup", "mean_field")
