"""Where a theorem's symbols live, and how to draw exact instances from there.

An :class:`InstanceSpace` knows each symbol's domain (from its sympy assumptions), the bounds
of integer parameters (``for all k >= 2``, ``k in 0..12``), the theorem's assumptions and its
laws; it draws exact rational instances (for counterexample search and for witnesses) that
respect all four: at an instance every law must be a law (:func:`law_conditions`: variances
>= 0, covariance matrices positive semidefinite, probabilities in [0, 1], moment sequences
with positive semidefinite Hankel matrices, matrix sizes positive integers), decided in exact
arithmetic.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass, field, replace
from fractions import Fraction
from itertools import combinations
from typing import Any

import sympy

from tpcheck.engines import laws as laws_module

Relation = tuple[sympy.Expr, str, sympy.Expr]
# What a law needs of its parameters: ("psd", rows): a symmetric positive semidefinite matrix;
# (">=", e) or (">", e): a sign; ("size", e): a positive integer.
Condition = tuple[str, Any]
SHRINK_RETRIES = 4
MAX_HANKEL_ORDER = 3  # moments up to order 6 enter the Hankel condition: 15 principal minors

_SIGN_OPS = {
    "=": lambda s: s == 0,
    "<=": lambda s: s <= 0,
    "<": lambda s: s < 0,
    ">=": lambda s: s >= 0,
    ">": lambda s: s > 0,
}


def _certified_sign(d: sympy.Expr) -> int | None:
    """The sign of a real constant: 0 when it reduces to 0 exactly, +-1 when an Arb ball of it
    excludes 0; None otherwise (never a floating-point guess)."""
    from tpcheck.engines.arb_balls import enclose_adaptive

    d = sympy.cancel(sympy.together(sympy.expand(d)))
    if d == 0:
        return 0
    if d.is_Rational:
        return 1 if d > 0 else -1
    found = enclose_adaptive(d, lambda ball: not ball.contains(0), max_bits=1024)
    if found is None or found.ball.contains(0):
        return None
    return 1 if found.ball > 0 else -1


_OPS = {
    "=": lambda a, b: a == b,
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
}


@dataclass(frozen=True)
class InstanceSpace:
    bounds: dict[sympy.Symbol, tuple[int | None, int | None]] = field(default_factory=dict)
    assumptions: tuple[Relation, ...] = ()
    laws: tuple[Any, ...] = ()  # the theorem's laws (tpcheck.engines.laws), repeats allowed

    def integer_range(self, s: sympy.Symbol) -> tuple[int | None, int | None]:
        """Integer bounds of ``s``: declared ones, else what its domain implies."""
        if s in self.bounds:
            return self.bounds[s]
        if s.is_positive:
            return (1, None)
        if s.is_nonnegative:
            return (0, None)
        return (None, None)

    def fix(self, s: sympy.Symbol, value: int) -> InstanceSpace:
        """The space with ``s`` fixed (used by induction's base case)."""
        bounds = dict(self.bounds)
        bounds[s] = (value, value)
        return replace(self, bounds=bounds)

    def with_bounds(self, s: sympy.Symbol, lo: int | None, hi: int | None) -> InstanceSpace:
        bounds = dict(self.bounds)
        bounds[s] = (lo, hi)
        return replace(self, bounds=bounds)

    def candidates(self, s: sympy.Symbol, rng: random.Random, spread: int = 6) -> sympy.Rational:
        """One exact value for ``s`` drawn from its domain."""
        if s.is_integer:
            lo, hi = self.integer_range(s)
            if lo is None:
                lo = -3 if hi is None else hi - spread
            if hi is None:
                hi = lo + spread
            return sympy.Integer(rng.randint(lo, hi))
        q = rng.randint(1, 7)
        p = rng.randint(1, 3 * q)
        value = sympy.Rational(p, q)
        if not (s.is_positive or s.is_nonnegative) and rng.random() < 0.4:
            value = -value
        return value

    def laws_hold(self, instance: dict[sympy.Symbol, sympy.Expr]) -> bool:
        """Whether every law is a law at this instance, decided exactly; a condition on
        symbols the instance leaves free does not constrain it, and one whose truth cannot be
        decided exactly rejects the instance."""
        for law in dict.fromkeys(self.laws):
            for condition in law_conditions(law):
                if condition_holds(condition, instance) is False:
                    return False
        return True

    def satisfies(self, instance: dict[sympy.Symbol, sympy.Expr]) -> bool:
        """Whether an instance certainly meets every assumption and makes every law a law
        (an undecided assumption counts as not met: see :meth:`admits`)."""
        return self.admits(instance) is True

    def admits(self, instance: dict[sympy.Symbol, sympy.Expr]) -> bool | None:
        """Whether an instance meets every assumption and makes every law a law: True or False
        when decided exactly (rational arithmetic, or the sign of lhs - rhs certified by an Arb
        ball), None when some assumption could not be decided at the instance."""
        if not self.laws_hold(instance):
            return False
        undecided = False
        for lhs, op, rhs in self.assumptions:
            a, b = lhs.subs(instance), rhs.subs(instance)
            if a.free_symbols or b.free_symbols:
                continue  # an assumption about symbols not drawn here does not constrain them
            # sympy's own comparison of irrational numbers evaluates in floating point, so
            # only rationals are compared directly; other signs are certified by Arb.
            sign = _certified_sign(a - b)
            if sign is None:
                undecided = True
            elif not _SIGN_OPS[op](sign):
                return False
        return None if undecided else True

    def sample(
        self, symbols: list[sympy.Symbol], count: int, rng: random.Random, tries: int = 50
    ) -> list[dict[sympy.Symbol, sympy.Expr]]:
        """Up to ``count`` distinct instances of ``symbols`` satisfying the assumptions and the
        laws. A draw that makes a law fail is retried with its signed real symbols halved (up
        to ``SHRINK_RETRIES`` times): correlations drawn too large for a covariance matrix
        shrink into it."""
        symbols = sorted(symbols, key=lambda s: s.name)
        signed = [s for s in symbols if not (s.is_integer or s.is_nonnegative)]
        out: list[dict[sympy.Symbol, sympy.Expr]] = []
        seen: set[tuple] = set()
        for _ in range(count * tries):
            if len(out) >= count:
                break
            inst = {s: self.candidates(s, rng) for s in symbols}
            for _ in range(SHRINK_RETRIES if signed else 0):
                if self.laws_hold(inst):
                    break
                inst = {**inst, **{s: inst[s] / 2 for s in signed}}
            key = tuple(inst[s] for s in symbols)
            if key in seen:
                continue
            seen.add(key)
            if self.satisfies(inst):
                out.append(inst)
        return out


# ---- the validity conditions of the laws --------------------------------------------------


@functools.lru_cache(maxsize=256)
def law_conditions(law: Any) -> tuple[Condition, ...]:
    """What the parameters of ``law`` must satisfy for it to be a law: a Normal variance >= 0;
    0 <= p <= 1 for a two-point law; a < b for a uniform law; a Gaussian vector's (or initial
    vectors') covariance symmetric positive semidefinite; a Tensor Programs matrix's variances
    >= 0; for a law known by its moments (iid family, Wigner or Wishart entries) the Hankel
    matrix (m_{i+j}) positive semidefinite (Hamburger); matrix sizes positive integers."""
    out: list[Condition] = []
    if isinstance(law, laws_module.Normal):
        out.append((">=", law.variance))
    elif isinstance(law, laws_module.TwoPoint):
        out += [(">=", law.p), (">=", 1 - law.p)]
    elif isinstance(law, laws_module.Uniform):
        out.append((">", law.b - law.a))
    elif isinstance(law, laws_module.GaussianComponent):
        out.append(("psd", law.vector.cov))
    elif isinstance(law, laws_module.GaussianVector | laws_module.InitialVectors):
        out.append(("psd", law.cov))
    elif isinstance(law, laws_module.GaussianMatrix):
        out += [(">=", law.variance), (">=", law.transpose_variance)]
    elif isinstance(law, laws_module.IIDFamily):
        out += [*(law_conditions(law.law) if law.law is not None else ()),
                *_hankel(law.moment, [j for j, _ in law.moments])]
    elif isinstance(law, laws_module.MatrixEnsemble):
        out += [("size", law.n), *((("size", law.columns),) if law.columns is not None else ()),
                *(law_conditions(law.law) if law.law is not None else ()),
                *_hankel(law.entry_moment, [j for j, _ in law.moments])]
    return tuple(out)


def _hankel(moment: Any, declared: list[int]) -> list[Condition]:
    """The Hankel matrix (m_{i+j})_{i,j <= K} of a moment sequence, K = half the highest
    declared order, at most ``MAX_HANKEL_ORDER``; ``None`` marks a moment nobody gave (only
    fully known principal submatrices are checked)."""
    top = min(max(declared, default=0) // 2, MAX_HANKEL_ORDER)
    if top < 1:
        return []
    return [("psd", tuple(tuple(moment(i + j) for j in range(top + 1)) for i in range(top + 1)))]


def _sign(value: sympy.Expr) -> int | None:
    """The sign of a number: exact for rationals (every drawn instance of a law with rational
    parameters), else by sympy's assumption system (structural facts such as pi/2 > 0, and
    evaluation with a precision check); None when undecided."""
    if value.is_Rational:
        return (value.p > 0) - (value.p < 0)
    if value.is_zero:
        return 0
    if value.is_extended_positive:
        return 1
    if value.is_extended_negative:
        return -1
    return None


def condition_holds(condition: Condition, instance: dict[sympy.Symbol, sympy.Expr]) -> bool | None:
    """True or False when the condition is decided at ``instance``; None when the instance
    leaves it free (a symbol of it keeps no value). An undecidable sign counts as False."""
    kind, what = condition
    entries = [x for r in what for x in r if x is not None] if kind == "psd" else [what]
    free = set().union(*[x.free_symbols for x in entries])
    return _condition_holds_at(condition, tuple(sorted(
        ((s, instance[s]) for s in free if s in instance), key=lambda kv: kv[0].name)))


@functools.lru_cache(maxsize=4096)
def _condition_holds_at(condition: Condition, values: tuple) -> bool | None:
    kind, what = condition
    instance = dict(values)
    if kind == "psd":
        return _psd_holds(what, instance)
    value = sympy.expand(what.xreplace(instance))
    if value.free_symbols:
        return None
    if kind == "size":
        return bool(value.is_Integer and value >= 1)
    sign = _sign(value)
    if sign is None:
        return False
    return sign >= 0 if kind == ">=" else sign > 0


def rational_psd(a: list[list[Fraction]]) -> bool:
    """Whether a square matrix of rationals is symmetric positive semidefinite, exactly: LDL^T
    with the largest remaining diagonal entry as pivot. A negative pivot, or a zero largest
    diagonal with a nonzero entry beside it, is a principal minor < 0; otherwise the Schur
    complement of a positive pivot is PSD iff the matrix is (the same answer as Sylvester's
    criterion over all principal minors, in O(d^3) operations instead of 2^d determinants)."""
    d = len(a)
    if any(a[i][j] != a[j][i] for i in range(d) for j in range(i)):
        return False
    m = [row[:] for row in a]
    active = list(range(d))
    while active:
        k = max(active, key=lambda i: m[i][i])
        pivot = m[k][k]
        if pivot < 0:
            return False
        if pivot == 0:
            return all(m[i][j] == 0 for i in active for j in active)
        active.remove(k)
        for i in active:
            factor = m[i][k] / pivot
            if factor:
                row_k, row_i = m[k], m[i]
                for j in active:
                    row_i[j] -= factor * row_k[j]
    return True


def _psd_holds(rows: tuple, instance: dict[sympy.Symbol, sympy.Expr]) -> bool | None:
    """Whether a symmetric matrix is positive semidefinite: every principal minor whose entries
    the instance fixes is >= 0 (Sylvester's criterion for semidefinite matrices needs all
    principal minors, not only the leading ones), and fixed mirror entries agree."""
    d = len(rows)
    m = [[None if x is None else sympy.expand(x.xreplace(instance)) for x in r] for r in rows]
    if d and all(x is not None and x.is_Rational for r in m for x in r):
        return rational_psd([[Fraction(int(x.p), int(x.q)) for x in r] for r in m])

    def fixed(x: sympy.Expr | None) -> bool:
        return x is not None and not x.free_symbols

    decided = None
    for i in range(d):
        for j in range(i):
            if fixed(m[i][j]) and fixed(m[j][i]):
                if sympy.expand(m[i][j] - m[j][i]) != 0:
                    return False
                decided = True
    # The principal minors the instance fixes are those of the index sets whose entries are
    # all fixed; each lies inside a maximal such set, and a rational block is PSD (all its
    # principal minors >= 0) iff rational_psd says so. Other blocks: minor by minor.
    blocks = [idx for size in range(d, 0, -1) for idx in combinations(range(d), size)
              if all(fixed(m[i][j]) for i in idx for j in idx)]
    maximal = [idx for k, idx in enumerate(blocks)
               if not any(set(idx) < set(other) for other in blocks[:k])]
    for block in maximal:
        entries = [[m[i][j] for j in block] for i in block]
        if all(x.is_Rational for r in entries for x in r):
            if not rational_psd([[Fraction(int(x.p), int(x.q)) for x in r] for r in entries]):
                return False
            decided = True
            continue
        for size in range(1, len(block) + 1):
            for idx in combinations(block, size):
                minor = sympy.Matrix([[m[i][j] for j in idx] for i in idx]).det(method="bareiss")
                sign = _sign(sympy.expand(minor))
                if sign is None or sign < 0:
                    return False
                decided = True
    return decided
