"""Elaborated proof objects: what the kernel checks.

These hold mathematics (sympy expressions over declared symbols), never source text to run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy

from tpcheck.engines.instances import InstanceSpace
from tpcheck.kernel.verdict import FLOAT_DIGITS_FLOOR


@dataclass(frozen=True)
class Goal:
    """``lhs REL rhs`` (for ``->``: lhs tends to rhs as ``limit_var`` -> oo).

    With a ``tolerance`` t: ``~=`` means |lhs - rhs| <= t; ``->`` means lhs has a limit L
    with |L - rhs| <= t.
    """

    lhs: sympy.Expr
    rel: str
    rhs: sympy.Expr
    limit_var: sympy.Symbol | None = None
    tolerance: sympy.Rational | None = None


def tolerance_text(t: sympy.Expr) -> str:
    """A tolerance as written by people: ``1e-25`` for 10^-25, else the exact number."""
    if t.is_Rational and t.p == 1 and t.q > 1 and str(t.q).strip("0") == "1":
        return f"1e-{len(str(t.q)) - 1}"
    return str(t)


@dataclass(frozen=True)
class Parameter:
    """A natural parameter: universal (``hi`` None) or ranged."""

    symbol: sympy.Symbol
    lo: int
    hi: int | None


@dataclass
class Context:
    """Everything a rule may consult about the theorem a step belongs to."""

    symbols: dict[str, sympy.Symbol]
    parameters: list[Parameter]
    laws: dict[sympy.Symbol, Any]  # random symbol -> law (tpcheck.engines.laws)
    assumptions: list[tuple[sympy.Expr, str, sympy.Expr]]
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def space(self) -> InstanceSpace:
        bounds = {p.symbol: (p.lo, p.hi) for p in self.parameters}
        return InstanceSpace(bounds, tuple(self.assumptions), tuple(self.laws.values()))

    @property
    def random_symbols(self) -> set[sympy.Symbol]:
        return set(self.laws)

    def parameter(self, symbol: sympy.Symbol) -> Parameter | None:
        for p in self.parameters:
            if p.symbol == symbol:
                return p
        return None


@dataclass(frozen=True)
class Step:
    """One link of a derivation: ``goal`` justified by ``rule(args)`` at ``line:col``."""

    line: int
    col: int
    goal: Goal
    rule: str
    args: tuple[Any, ...]
    source: str


@dataclass
class Theorem:
    name: str
    statement: str
    line: int
    claim: Goal
    start: sympy.Expr
    steps: list[Step]
    context: Context
    cites: list[str] = field(default_factory=list)
    crosschecks: dict[str, dict[str, Any]] = field(default_factory=dict)

def working_digits(requested: object) -> int:
    """The digits a numeric check works to: the file's request, but never fewer than
    :data:`tpcheck.kernel.verdict.FLOAT_DIGITS_FLOOR`."""
    return max(FLOAT_DIGITS_FLOOR, int(requested))  # type: ignore[call-overload]
