"""Graded verdicts, evidence records and rule judgements."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    """How strongly a step or theorem was established (strongest first)."""

    PROVED = "PROVED"  # symbolically, for all values of the parameters
    VERIFIED = "VERIFIED"  # exactly, on every instance of the claim's declared finite range
    PARTIAL = "PARTIAL"  # exactly, but on part of the claim's declared domain only
    CORROBORATED = "CORROBORATED"  # floating point (>= 15 digits seen) or Monte-Carlo only
    UNDECIDED = "UNDECIDED"  # the rule did not apply or ran out of budget; never a pass
    DISPUTED = "DISPUTED"  # a witness contradicts the rule's judgement; never a pass
    REFUTED = "REFUTED"  # a counterexample was found

    @property
    def strength(self) -> int:
        return _STRENGTH[self]

    @property
    def passes(self) -> bool:
        return self in (Verdict.PROVED, Verdict.VERIFIED, Verdict.PARTIAL, Verdict.CORROBORATED)


_STRENGTH = {
    Verdict.PROVED: 6,
    Verdict.VERIFIED: 5,
    Verdict.PARTIAL: 4,
    Verdict.CORROBORATED: 3,
    Verdict.UNDECIDED: 2,
    Verdict.DISPUTED: 1,
    Verdict.REFUTED: 0,
}

#: The fewest significant digits a floating-point agreement may rest on (CORROBORATED).
FLOAT_DIGITS_FLOOR = 15

#: Verdicts only the kernel gives; a rule's verifier never returns them.
KERNEL_ONLY = frozenset({Verdict.PARTIAL, Verdict.DISPUTED})


def weakest(verdicts: list[Verdict]) -> Verdict:
    """The weakest verdict of a list (a theorem's verdict is its weakest step's)."""
    return min(verdicts, key=lambda v: v.strength) if verdicts else Verdict.UNDECIDED


@dataclass
class Evidence:
    """One piece of evidence: how a step was checked and what came out.

    ``kind`` is ``symbolic``, ``exact-instances``, ``mpmath`` or ``montecarlo``; ``ok`` is True
    (agrees), False (disagrees) or None (not applicable / inconclusive, with the reason).
    """

    kind: str
    ok: bool | None
    detail: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "ok": self.ok, "detail": self.detail, **self.data}


#: Evidence kinds of external proof checkers, which re-prove a step in a logic of their own.
EXTERNAL_CHECKERS = ("coq",)


def reproved_by(verdict: Verdict, evidence: list[Evidence]) -> list[str]:
    """The external proof checkers that re-proved a passing exact step: each has evidence of
    its kind, and every such record agrees."""
    if verdict not in (Verdict.PROVED, Verdict.VERIFIED, Verdict.PARTIAL):
        return []
    return [k for k in EXTERNAL_CHECKERS
            if (mine := [e for e in evidence if e.kind == k]) and all(e.ok is True for e in mine)]


def reproved_all(verdict: Verdict, steps_evidence: list[list[Evidence]]) -> list[str]:
    """The external checkers that re-proved every one of the steps whose evidence is given."""
    if not steps_evidence:
        return []
    return [k for k in EXTERNAL_CHECKERS if all(k in reproved_by(verdict, ev) for ev in steps_evidence)]


def verdict_label(verdict: Verdict, steps_evidence: list[list[Evidence]]) -> str:
    """The verdict with the external checkers that re-proved every one of the steps whose
    evidence is given: ``PROVED + coq`` for one step (``[step.evidence]``) or a theorem."""
    return " + ".join([verdict.value, *reproved_all(verdict, steps_evidence)])


@dataclass(frozen=True)
class Judgement:
    """What a rule's verifier concluded about one step."""

    verdict: Verdict
    detail: str
    range: dict[str, list[int]] | None = None  # VERIFIED: {"k": [lo, hi]}
    counterexample: dict[str, Any] | None = None  # REFUTED: instance and both sides' values
    evidence: list[Evidence] = field(default_factory=list)

    @classmethod
    def undecided(cls, reason: str) -> Judgement:
        return cls(Verdict.UNDECIDED, reason)
