"""The rule registry. A rule is a name, its documentation and a verifier; nothing else.

The kernel accepts a step only through the verifier of the rule the step names.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

from tpcheck.kernel.proof import Context, Goal
from tpcheck.kernel.verdict import Judgement

Verifier = Callable[[Goal, tuple, Context], Judgement]


@dataclass(frozen=True)
class Rule:
    name: str
    verifier: Verifier
    relations: frozenset[str]
    human: str  # "Wick's theorem"
    latex: str  # "by Wick's theorem"
    tolerances: bool = False  # judges ``within`` tolerances itself (else: the exact statement)

    @property
    def doc(self) -> str:
        return inspect.getdoc(self.verifier) or ""

    @property
    def summary(self) -> str:
        return self.doc.splitlines()[0] if self.doc else ""


REGISTRY: dict[str, Rule] = {}


def rule(
    name: str, *, relations: tuple[str, ...] = ("=",), human: str, latex: str | None = None,
    tolerances: bool = False,
) -> Callable[[Verifier], Verifier]:
    """Register ``verifier`` as rule ``name``; its docstring must give formula and reference."""

    def register(verifier: Verifier) -> Verifier:
        if name in REGISTRY:
            raise ValueError(f"rule {name!r} registered twice")
        if not inspect.getdoc(verifier):
            raise ValueError(f"rule {name!r} has no docstring")
        REGISTRY[name] = Rule(name, verifier, frozenset(relations), human, latex or f"by {human}",
                              tolerances)
        return verifier

    return register


def lookup(name: str) -> Rule | None:
    return REGISTRY.get(name)
