"""Where a theorem's symbols live, and how to draw exact instances from there.

An :class:`InstanceSpace` knows each symbol's domain (from its sympy assumptions), the bounds
of integer parameters (``for all k >= 2``, ``k in 0..12``) and the theorem's assumptions; it
draws exact rational instances (for counterexample search and for witnesses) that respect all
three.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace

import mpmath
import sympy

from tpcheck.errors import EvaluationError
from tpcheck.numeric import evaluate

Relation = tuple[sympy.Expr, str, sympy.Expr]

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

    def satisfies(self, instance: dict[sympy.Symbol, sympy.Expr]) -> bool:
        """Whether an instance meets every assumption (decided exactly, else at 40 digits)."""
        for lhs, op, rhs in self.assumptions:
            a, b = lhs.subs(instance), rhs.subs(instance)
            if a.free_symbols or b.free_symbols:
                continue  # an assumption about symbols not drawn here does not constrain them
            truth = _OPS[op](a, b)
            if truth in (sympy.true, sympy.false, True, False):
                if not bool(truth):
                    return False
                continue
            try:
                with mpmath.workdps(40):
                    if not _OPS[op](evaluate(a, {}), evaluate(b, {})):
                        return False
            except (EvaluationError, TypeError, ValueError, ZeroDivisionError):
                return False
        return True

    def sample(
        self, symbols: list[sympy.Symbol], count: int, rng: random.Random, tries: int = 50
    ) -> list[dict[sympy.Symbol, sympy.Expr]]:
        """Up to ``count`` distinct instances of ``symbols`` satisfying the assumptions."""
        symbols = sorted(symbols, key=lambda s: s.name)
        out: list[dict[sympy.Symbol, sympy.Expr]] = []
        seen: set[tuple] = set()
        for _ in range(count * tries):
            if len(out) >= count:
                break
            inst = {s: self.candidates(s, rng) for s in symbols}
            key = tuple(inst[s] for s in symbols)
            if key in seen:
                continue
            seen.add(key)
            if self.satisfies(inst):
                out.append(inst)
        return out
