"""The check loop: the only place where a rule's judgement becomes a verdict.

For a theorem: (1) the chain must start at the claim's left side, end at its right side, and
its relations must compose to the claim's; (2) each step is judged by its rule's verifier, in
a bounded child process; (3) each judgement is set beside independent witnesses (mpmath at
high precision; seeded Monte-Carlo for random objects). A witness that contradicts an exact
judgement is an internal disagreement, reported loudly; (4) the theorem gets its weakest
step's verdict.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tpcheck.errors import Position, ProofStructureError
from tpcheck.kernel.bounded import run_bounded
from tpcheck.kernel.proof import Context, Goal, Step, Theorem
from tpcheck.kernel.rules import lookup
from tpcheck.kernel.verdict import Evidence, Judgement, Verdict, weakest

Witness = Callable[[Goal, Context, Judgement, dict[str, Any], int], list[Evidence]]


@dataclass
class Options:
    budget: float | None = 10.0  # seconds per rule verifier; None runs in-process, unbounded
    witness_budget: float | None = 60.0
    witnesses: bool = True
    montecarlo_scale: float = 1.0


@dataclass
class StepResult:
    line: int
    col: int
    rule: str
    relation: str
    source: str
    verdict: Verdict
    detail: str
    range: dict[str, list[int]] | None = None
    counterexample: dict[str, Any] | None = None
    evidence: list[Evidence] = field(default_factory=list)
    disagreement: str | None = None


@dataclass
class TheoremResult:
    name: str
    statement: str
    line: int
    verdict: Verdict
    steps: list[StepResult]
    range: dict[str, list[int]] | None
    cites: list[str]
    seed: int

    @property
    def disagreements(self) -> list[str]:
        return [s.disagreement for s in self.steps if s.disagreement]


_ORDER_UP = {"<=", "<"}
_ORDER_DOWN = {">=", ">"}


def compose_relations(theorem: Theorem) -> tuple[str, Any]:
    """Check the chain's shape and return the relation it establishes between its ends."""
    claim, steps = theorem.claim, theorem.steps
    first = steps[0]
    if theorem.start != claim.lhs:
        raise ProofStructureError(
            f"the derivation starts at {theorem.start} but the claim's left side is {claim.lhs}",
            Position(first.line, first.col),
        )
    current, limit_var = "=", None
    previous = theorem.start
    for step in steps:
        pos = Position(step.line, step.col)
        g = step.goal
        if g.lhs != previous:
            raise ProofStructureError("step does not continue from the previous expression", pos)
        if limit_var is not None:
            if g.rel != "=":
                raise ProofStructureError(
                    f"after the limit in {limit_var} only '=' steps may follow", pos
                )
            if limit_var in g.rhs.free_symbols:
                raise ProofStructureError(
                    f"after the limit, expressions must not depend on {limit_var}", pos
                )
        if g.rel == "->":
            if current != "=":
                raise ProofStructureError("a limit cannot follow an inequality in one chain", pos)
            current, limit_var = "->", g.limit_var
        elif g.rel in _ORDER_UP | _ORDER_DOWN:
            if current == "->":
                raise ProofStructureError("an inequality cannot follow a limit in one chain", pos)
            same = _ORDER_UP if g.rel in _ORDER_UP else _ORDER_DOWN
            if current != "=" and current not in same:
                raise ProofStructureError("inequalities in both directions do not compose", pos)
            strict = g.rel in ("<", ">") or current in ("<", ">")
            current = (("<" if strict else "<=") if g.rel in _ORDER_UP
                       else (">" if strict else ">="))
        previous = g.rhs
    last = steps[-1]
    if previous != claim.rhs:
        raise ProofStructureError(
            f"the derivation ends at {previous} but the claim's right side is {claim.rhs}",
            Position(last.line, last.col),
        )
    weaker = {"<": "<=", ">": ">="}
    if claim.rel != current and weaker.get(current) != claim.rel:
        raise ProofStructureError(
            f"the steps establish '{current}' but the claim states '{claim.rel}'",
            Position(last.line, last.col),
        )
    if claim.rel == "->" and claim.limit_var != limit_var:
        raise ProofStructureError(
            f"the claim's limit is in {claim.limit_var}, the derivation's in {limit_var}",
            Position(last.line, last.col),
        )
    return current, limit_var


def theorem_seed(theorem: Theorem) -> int:
    """The theorem's seed: the first one its Monte-Carlo settings give, else from its name."""
    for cfg in theorem.crosschecks.get("montecarlo", []):
        if "seed" in cfg:
            return int(cfg["seed"])
    return zlib.crc32(theorem.name.encode()) % (2**31)


def _validated(j: Any, rule_name: str) -> Judgement:
    """A rule's judgement, after checking it has the shape its verdict requires."""
    if not isinstance(j, Judgement) or not isinstance(j.verdict, Verdict):
        return Judgement.undecided(f"{rule_name}: verifier returned no judgement")
    if j.verdict is Verdict.VERIFIED and not j.range:
        return Judgement.undecided(f"{rule_name}: VERIFIED without a stated range")
    if j.verdict is Verdict.REFUTED and not j.counterexample:
        return Judgement.undecided(f"{rule_name}: REFUTED without a counterexample")
    if j.verdict is Verdict.CORROBORATED and not any(
        e.kind in ("mpmath", "montecarlo") and e.ok for e in j.evidence
    ):
        return Judgement.undecided(f"{rule_name}: CORROBORATED without numeric evidence")
    return j


def check_step(
    step: Step, context: Context, options: Options, witnesses: list[Witness], seed: int,
    settings: dict[str, Any],
) -> StepResult:
    rule = lookup(step.rule)
    result = StepResult(step.line, step.col, step.rule, step.goal.rel, step.source,
                        Verdict.UNDECIDED, "")
    if rule is None:
        result.detail = f"unknown rule '{step.rule}'"
        return result
    if step.goal.rel not in rule.relations:
        result.detail = (
            f"{rule.name}: justifies only {', '.join(sorted(rule.relations))} steps, "
            f"not '{step.goal.rel}'"
        )
        return result
    outcome = run_bounded(rule.verifier, (step.goal, step.args, context), options.budget)
    if not outcome.ok:
        judgement = Judgement.undecided(f"{rule.name}: {outcome.reason.strip()}")
    else:
        judgement = _validated(outcome.value, rule.name)
    result.verdict, result.detail = judgement.verdict, judgement.detail
    result.range, result.counterexample = judgement.range, judgement.counterexample
    result.evidence = list(judgement.evidence)
    if not options.witnesses or judgement.verdict is Verdict.UNDECIDED:
        return result
    for witness in witnesses:
        out = run_bounded(
            witness, (step.goal, context, judgement, settings, seed), options.witness_budget
        )
        if not out.ok:
            result.evidence.append(
                Evidence(getattr(witness, "kind", "witness"), None,
                         f"witness did not finish: {out.reason.strip().splitlines()[0]}")
            )
            continue
        result.evidence.extend(out.value)
    against = [e for e in result.evidence if e.ok is False]
    if against:
        result.disagreement = (
            f"{against[0].kind} witness contradicts the {judgement.verdict.value} judgement of "
            f"rule {rule.name}: {against[0].detail}"
        )
    return result


def intersect_ranges(ranges: list[dict[str, list[int]]]) -> dict[str, list[int]] | None:
    out: dict[str, list[int]] = {}
    for r in ranges:
        for var, (lo, hi) in r.items():
            if var in out:
                out[var] = [max(out[var][0], lo), min(out[var][1], hi)]
            else:
                out[var] = [lo, hi]
    return out or None


def check_theorem(
    theorem: Theorem, options: Options, witnesses: list[Witness]
) -> TheoremResult:
    """Check every step of ``theorem``; raises ProofStructureError if the chain is misshapen."""
    compose_relations(theorem)
    seed = theorem_seed(theorem)
    settings = dict(theorem.crosschecks)
    settings["montecarlo_scale"] = options.montecarlo_scale
    steps = [check_step(s, theorem.context, options, witnesses, seed, settings)
             for s in theorem.steps]
    verdict = weakest([s.verdict for s in steps])
    ranges = [s.range for s in steps if s.verdict is Verdict.VERIFIED and s.range]
    return TheoremResult(
        theorem.name, theorem.statement, theorem.line, verdict, steps,
        intersect_ranges(ranges) if verdict is Verdict.VERIFIED else None,
        list(theorem.cites), seed,
    )
