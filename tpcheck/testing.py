"""Property testing of one's own claims: hypothesis strategies and assertions.

Strategies (all built on hypothesis, so failures shrink to minimal examples):

- :func:`psd_matrices` — positive semidefinite covariance matrices L L^T, exact (sympy
  rationals) or float;
- :func:`gaussian_polynomials` — polynomials with small integer coefficients in given symbols;
- :func:`pairings` and :func:`set_partitions` — perfect matchings and set partitions of range(m);
- :func:`matrix_ensembles` — (ensemble, n) pairs for GOE, GUE and Wigner with Rademacher entries;
- :func:`activations` — names of the activations the Gaussian engine knows;
- :func:`tensor_programs` — well-formed random programs (linear, polynomial, relu or erf
  nonlinearities) with a test function, ready for :func:`tpcheck.engines.netsor.master_theorem_limit` and
  :func:`tpcheck.engines.netsor.simulate`.

Assertions:

- :func:`assert_identity` — an exact identity, checked on drawn instances in exact arithmetic;
  a failure is shrunk to a minimal counterexample;
- :func:`assert_close` — agreement to a number of digits (mpmath), with shrinking;
- :func:`assert_montecarlo` — a Monte-Carlo estimate against a claimed value, with the
  threshold derived from a stated false-alarm rate and the smallest deviation the test would
  catch with probability 0.9 (its power) reported.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import sympy
from hypothesis import HealthCheck, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from tpcheck.engines.equality import canonical
from tpcheck.engines.gaussian import ACTIVATIONS
from tpcheck.engines.heads import relu
from tpcheck.engines.mpmath_eval import evaluate
from tpcheck.witness.stats import z_threshold

# ---- strategies ----------------------------------------------------------------------------


def psd_matrices(dim: int, exact: bool = True, max_entry: int = 3) -> st.SearchStrategy:
    """Covariance matrices L L^T / d (L with integer entries in [-max_entry, max_entry], d a
    small positive integer): exact sympy rationals, or floats with ``exact=False``."""

    def build(entries: list[int], d: int) -> Any:
        L = np.array(entries, dtype=object).reshape(dim, dim)
        C = L.dot(L.T)
        if exact:
            return [[sympy.Rational(int(C[i, j]), d) for j in range(dim)] for i in range(dim)]
        return np.array(C, dtype=float) / d

    cells = st.lists(st.integers(-max_entry, max_entry), min_size=dim * dim, max_size=dim * dim)
    return st.builds(build, cells, st.integers(1, 4))


def gaussian_polynomials(symbols: Sequence[sympy.Symbol], max_degree: int = 4,
                         max_terms: int = 4) -> st.SearchStrategy:
    """Polynomials sum c x^a with integer c in [-3, 3] and total degree <= max_degree."""
    monomial = st.tuples(st.integers(-3, 3),
                         st.lists(st.integers(0, max_degree), min_size=len(symbols),
                                  max_size=len(symbols)))

    def build(terms: list[tuple[int, list[int]]]) -> sympy.Expr:
        out = sympy.Integer(0)
        for c, exps in terms:
            if sum(exps) <= max_degree:
                out += c * sympy.Mul(*[s**e for s, e in zip(symbols, exps, strict=True)])
        return out

    return st.lists(monomial, min_size=1, max_size=max_terms).map(build)


def pairings(m: int) -> st.SearchStrategy:
    """A perfect matching of range(m) (m even), as a list of pairs."""
    if m % 2:
        raise ValueError("pairings need an even number of points")
    return st.permutations(list(range(m))).map(
        lambda p: [tuple(sorted(p[i : i + 2])) for i in range(0, m, 2)])


def set_partitions(k: int) -> st.SearchStrategy:
    """A set partition of range(k), as a list of blocks (a random restricted growth string)."""

    def build(labels: list[int]) -> list[list[int]]:
        blocks: dict[int, list[int]] = {}
        for i, lab in enumerate(labels):
            blocks.setdefault(lab, []).append(i)
        return list(blocks.values())

    return st.lists(st.integers(0, max(k - 1, 0)), min_size=k, max_size=k).map(build)


def matrix_ensembles(max_n: int = 8) -> st.SearchStrategy:
    """(ensemble name, size n): GOE, GUE, or Wigner with Rademacher entries."""
    return st.tuples(st.sampled_from(["GOE", "GUE", "Wigner"]), st.integers(1, max_n))


def activations(smooth_only: bool = False) -> st.SearchStrategy:
    """Names of activations of :mod:`tpcheck.engines.gaussian` (relu, step, erf, tanh, sin, cos, ...)."""
    names = sorted(ACTIVATIONS)
    if smooth_only:
        names = [a for a in names if not ACTIVATIONS[a].kink]
    return st.sampled_from(names)


@dataclass(frozen=True)
class DrawnProgram:
    """A random tensor program with a test function psi of two of its vectors."""

    program: Any
    psi: sympy.Expr
    inputs: list[str]


def tensor_programs(kind: str = "linear", max_steps: int = 4) -> st.SearchStrategy:
    """Well-formed random programs: one matrix used as A and A^T, an initial vector, steps of
    MatMul followed by a linear combination (``linear``), a square (``polynomial``), or relu /
    erf; psi is the product of the first and the last vector."""
    from tpcheck.engines.netsor import Program

    phis = {"linear": None, "polynomial": lambda t: t**2, "relu": relu, "erf": sympy.erf}
    if kind not in phis:
        raise ValueError(f"kind must be one of {sorted(phis)}")
    step = st.tuples(st.integers(0, 10), st.booleans(), st.integers(-2, 2))

    def build(steps: list[tuple[int, bool, int]]) -> DrawnProgram:
        p = Program()
        p.initial("v0")
        p.matrix("A")
        names = ["v0"]
        for i, (src, transpose, coeff) in enumerate(steps):
            x = names[src % len(names)]
            p.matmul(f"m{i}", "A", x, transpose=transpose)
            body = sympy.Symbol(f"m{i}", real=True)
            if phis[kind] is not None and i == len(steps) - 1:
                body = phis[kind](body)
            p.nonlin(f"v{i + 1}", body + coeff * sympy.Symbol(x, real=True), [f"m{i}", x])
            names.append(f"v{i + 1}")
        last = names[-1]
        psi = sympy.Symbol("v0", real=True) * sympy.Symbol(last, real=True)
        return DrawnProgram(p, psi, ["v0", last])

    return st.lists(step, min_size=1, max_size=max_steps).map(build)


# ---- assertions ----------------------------------------------------------------------------

Side = sympy.Expr | Callable[..., Any]


def _value(side: Side, instance: dict[str, Any]) -> Any:
    if callable(side) and not isinstance(side, sympy.Basic):
        return side(**instance)
    subs = {s: (sympy.Rational(v.numerator, v.denominator) if isinstance(v, Fraction) else v)
            for s in side.free_symbols for k, v in instance.items() if s.name == k}
    return sympy.expand(side.xreplace(subs).doit())


def _instances(symbols: Sequence[str], values: st.SearchStrategy | None) -> st.SearchStrategy:
    if values is None:
        values = st.fractions(min_value=-5, max_value=5, max_denominator=7)
    return st.fixed_dictionaries({s: values for s in symbols})


def _minimal(condition: Callable[[dict], bool], strategy: st.SearchStrategy,
             max_examples: int) -> dict | None:
    try:
        return find(strategy, condition, settings=settings(
            max_examples=max_examples, database=None, deadline=None,
            suppress_health_check=list(HealthCheck)))
    except NoSuchExample:
        return None


def assert_identity(lhs: Side, rhs: Side, symbols: Sequence[str],
                    values: st.SearchStrategy | None = None, max_examples: int = 200) -> None:
    """``lhs == rhs`` exactly on drawn instances (sympy expressions are evaluated exactly;
    callables are called with the instance as keyword arguments). A failure raises
    AssertionError with the minimal counterexample hypothesis shrinks to."""

    def differs(inst: dict) -> bool:
        a, b = _value(lhs, inst), _value(rhs, inst)
        if isinstance(a, sympy.Basic) or isinstance(b, sympy.Basic):
            return canonical(sympy.Add(a, -b)) != 0
        return a != b

    cex = _minimal(differs, _instances(symbols, values), max_examples)
    if cex is not None:
        raise AssertionError(f"not an identity: at {cex}, lhs = {_value(lhs, cex)}, "
                             f"rhs = {_value(rhs, cex)}")


def assert_close(lhs: Side, rhs: Side, symbols: Sequence[str], digits: int = 30,
                 values: st.SearchStrategy | None = None, max_examples: int = 50) -> None:
    """``lhs`` and ``rhs`` agree to ``digits`` significant digits (mpmath) on drawn instances;
    a failure is shrunk to a minimal counterexample."""

    def numeric(side: Side, inst: dict) -> Any:
        with mpmath.workdps(digits + 10):
            if callable(side) and not isinstance(side, sympy.Basic):
                return mpmath.mpmathify(side(**inst))
            env = {s: mpmath.mpf(inst[s.name].numerator) / inst[s.name].denominator
                   if isinstance(inst[s.name], Fraction) else mpmath.mpf(inst[s.name])
                   for s in side.free_symbols if s.name in inst}
            return evaluate(side, env, "mpmath")

    def differs(inst: dict) -> bool:
        with mpmath.workdps(digits + 10):
            a, b = numeric(lhs, inst), numeric(rhs, inst)
            return bool(abs(a - b) > mpmath.mpf(10) ** (-digits) * max(1, abs(a), abs(b)))

    cex = _minimal(differs, _instances(symbols, values), max_examples)
    if cex is not None:
        with mpmath.workdps(digits):
            a, b = numeric(lhs, cex), numeric(rhs, cex)
        raise AssertionError(f"not equal to {digits} digits: at {cex}, lhs = {mpmath.nstr(a, 15)},"
                             f" rhs = {mpmath.nstr(b, 15)}")


@dataclass
class MonteCarloResult:
    estimate: float
    std_error: float
    z: float
    threshold: float
    detectable: float  # the deviation caught with probability 0.9 at this size
    samples: int
    seed: int

    def __str__(self) -> str:
        return (f"estimate {self.estimate:.6g} ± {self.std_error:.3g} (z = {self.z:.2f}, threshold "
                f"{self.threshold:.2f}; {self.samples} samples, seed {self.seed}; detects a "
                f"deviation of {self.detectable:.3g} with probability 0.9)")


POWER = 0.9


def detectable_deviation(std_error: float, threshold: float, power: float = POWER) -> float:
    """The smallest |mean - claimed| that a two-sided z-test with this threshold rejects with
    probability ``power``: (threshold + z_power) std_error (normal approximation)."""
    with mpmath.workdps(20):
        z_power = float(mpmath.sqrt(2) * mpmath.erfinv(2 * power - 1))
    return (threshold + z_power) * std_error


def assert_montecarlo(estimator: Callable[[np.random.Generator, int], np.ndarray], claimed: float,
                      samples: int, seed: int, false_alarm: float = 1e-6,
                      checks: int = 1) -> MonteCarloResult:
    """The mean of ``estimator(rng, samples)`` (an array of independent draws) against
    ``claimed``: two-sided z-test at level ``false_alarm / checks`` (Bonferroni over the
    ``checks`` a suite makes). Raises AssertionError past the threshold; returns the numbers."""
    rng = np.random.default_rng(seed)
    draws = np.asarray(estimator(rng, samples), dtype=float)
    if draws.shape != (samples,):
        raise ValueError(f"the estimator must return {samples} draws, got shape {draws.shape}")
    se = float(draws.std(ddof=1) / np.sqrt(samples))
    est = float(draws.mean())
    threshold = z_threshold(false_alarm, checks)
    z = (est - claimed) / se if se > 0 else (0.0 if est == claimed else float("inf"))
    result = MonteCarloResult(est, se, z, threshold, detectable_deviation(se, threshold),
                              samples, seed)
    if abs(z) > threshold:
        raise AssertionError(f"claimed {claimed} rejected: {result}")
    return result
