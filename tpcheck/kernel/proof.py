"""Elaborated proof objects: what the kernel checks.

These hold mathematics (sympy expressions over declared symbols), never source text to run.
"""

from __future__ import annotations

from collections.abc import Mapping
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


@dataclass(frozen=True)
class RuleSettings:
    """What a rule may read of the file besides the mathematics: the names of its definitions
    (``definition(name)`` unfolds only those) and the digits it asks for (``crosscheck mpmath
    digits D``; None: the numeric checks' default)."""

    definitions: frozenset[str] = frozenset()
    digits: int | None = None


@dataclass(frozen=True)
class MpmathSettings:
    """``crosscheck mpmath digits D instances K [for k in a..b]``; None: the witness's default."""

    digits: int | None = None
    instances: int | None = None
    range: tuple[sympy.Symbol, int, int] | None = None  # every instance of k in a..b


@dataclass(frozen=True)
class MontecarloSettings:
    """One ``crosscheck montecarlo samples S seed s [law X ~ L] [at n = v]`` line; None: the
    witness's default."""

    samples: int | None = None
    seed: int | None = None
    range: tuple[sympy.Symbol, int, int] | None = None
    laws: Mapping[Any, Any] = field(default_factory=dict)  # family label or matrix -> its law
    fixed: Mapping[sympy.Symbol, sympy.Expr] = field(default_factory=dict)  # symbol -> rational


@dataclass(frozen=True)
class Crosschecks:
    """The witnesses' settings a theorem declares, read by the elaborator in one place."""

    mpmath: MpmathSettings = MpmathSettings()
    montecarlo: tuple[MontecarloSettings, ...] = ()


@dataclass(frozen=True)
class WitnessSettings:
    """What every witness of a step gets: the theorem's crosschecks and the run's scale of the
    Monte-Carlo samples (``--montecarlo-scale``)."""

    crosschecks: Crosschecks = Crosschecks()
    montecarlo_scale: float = 1.0


@dataclass
class Context:
    """Everything a rule may consult about the theorem a step belongs to."""

    symbols: dict[str, sympy.Symbol]
    parameters: list[Parameter]
    laws: dict[sympy.Symbol, Any]  # random symbol -> law (tpcheck.engines.laws)
    assumptions: list[tuple[sympy.Expr, str, sympy.Expr]]
    settings: RuleSettings = RuleSettings()
    # declared networks by name (tpcheck.engines.networks.NetworkSpec): their settings and inputs
    networks: dict[str, Any] = field(default_factory=dict)

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
    crosschecks: Crosschecks = Crosschecks()

def working_digits(requested: object) -> int:
    """The digits a numeric check works to: the file's request, but never fewer than
    :data:`tpcheck.kernel.verdict.FLOAT_DIGITS_FLOOR`."""
    return max(FLOAT_DIGITS_FLOOR, int(requested))  # type: ignore[call-overload]
