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

import sympy

from tpcheck.errors import Position, ProofStructureError
from tpcheck.kernel.bounded import run_bounded
from tpcheck.kernel.proof import Context, Goal, Step, Theorem, WitnessSettings, tolerance_text
from tpcheck.kernel.rules import lookup
from tpcheck.kernel.verdict import (
    FLOAT_DIGITS_FLOOR,
    KERNEL_ONLY,
    Evidence,
    Judgement,
    Verdict,
    weakest,
)
from tpcheck.text import expr_text, safe
from tpcheck.trusted import with_ledger

#: CPU seconds of one rule verifier and of one witness: generous, since a budget guards
#: against hangs and must never decide a verdict on a normal machine.
DEFAULT_BUDGET = 60.0
DEFAULT_WITNESS_BUDGET = 120.0
#: CPU seconds of a whole run (every file, this process and its children): the proof library
#: takes about half a minute without witnesses and a few minutes with them; an hour stops a
#: hostile or runaway input from running for days at 60 s a step.
DEFAULT_RUN_BUDGET = 3600.0

@dataclass(frozen=True)
class Witness:
    """An independent check of a rule's judgement, run in a bounded child after the rule:
    ``run(goal, context, judgement, settings, seed)`` returns evidence; ``kind`` names the
    evidence recorded when it does not finish."""

    kind: str
    run: Callable[[Goal, Context, Judgement, WitnessSettings, int], list[Evidence]]
#: Seconds left of the run's budget (<= 0 when spent), or None when it has none.
TimeLeft = Callable[[], float | None]


@dataclass(frozen=True)
class Options:
    #: CPU seconds per rule verifier, and for reading (elaborating) one theorem; None runs
    #: them in this process, without a budget (for Python users; the CLI refuses it)
    budget: float | None = DEFAULT_BUDGET
    witness_budget: float | None = DEFAULT_WITNESS_BUDGET
    witnesses: bool = True
    montecarlo_scale: float = 1.0
    #: CPU seconds of the whole run; what is not started when it is spent is UNDECIDED
    run_budget: float | None = DEFAULT_RUN_BUDGET


def run_budget_spent(options: Options) -> str:
    """The reason given for what was not checked because the run's budget is spent."""
    return (f"not checked: the run's CPU-time budget of {options.run_budget:g} s is spent "
            "(run budget)")


def capped(budget: float | None, time_left: TimeLeft | None) -> float | None:
    """A step's budget, no more than what is left of the run's."""
    left = time_left() if time_left is not None else None
    if budget is None or left is None or budget <= left:
        return budget
    return max(0.0, round(left, 2))


def spent(time_left: TimeLeft | None) -> bool:
    """Whether the run's budget is spent."""
    left = time_left() if time_left is not None else None
    return left is not None and left <= 0


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
    judged: Verdict | None = None  # the rule's own verdict, where the kernel changed it
    rests_on: list[str] = field(default_factory=list)  # keys of tpcheck.trusted.CATALOGUE


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
    domain: dict[str, list[int | None]] = field(default_factory=dict)  # declared: [lo, hi or None]
    note: str = ""  # why the kernel weakened the verdict, where it did

    @property
    def rests_on(self) -> dict[str, list[str]]:
        """What the passing steps trusted: their rules, and the algorithms in their ledgers."""
        passing = [s for s in self.steps if s.verdict.passes]
        rules = list(dict.fromkeys(s.rule for s in passing))
        algorithms = list(dict.fromkeys(a for s in passing for a in s.rests_on))
        return {"rules": rules, "algorithms": algorithms}

    @property
    def disagreements(self) -> list[str]:
        return [s.disagreement for s in self.steps if s.disagreement]


_ORDER_UP = {"<=", "<"}
_ORDER_DOWN = {">=", ">"}


def compose_relations(theorem: Theorem) -> tuple[str, Any]:
    """Check the chain's shape and return the relation it establishes between its ends.

    Tolerances add: ``a = b ~= c within s ~= d within t`` gives ``a ~= d within s + t``; a
    limit may carry one (``-> c within t``) and be followed by ``~=`` steps, whose tolerances
    add to it. An approximation may not come before a limit (|a_n - b_n| <= t and b_n -> L do
    not make a_n converge) nor mix with inequalities, and an approximate chain never proves an
    exact claim. A convergence in distribution (``~>``, a law on its right) may follow only
    equalities, and nothing may follow it.
    """
    claim, steps = theorem.claim, theorem.steps
    first = steps[0]
    if theorem.start != claim.lhs:
        raise ProofStructureError(
            f"the derivation starts at {expr_text(theorem.start)} but the claim's left side is "
            f"{expr_text(claim.lhs)}",
            Position(first.line, first.col),
        )
    current, limit_var = "=", None
    slack = sympy.Integer(0)  # the sum of the steps' tolerances
    previous = theorem.start
    for step in steps:
        pos = Position(step.line, step.col)
        g = step.goal
        if g.lhs != previous:
            raise ProofStructureError("step does not continue from the previous expression", pos)
        if current == "~>":
            raise ProofStructureError("nothing may follow a convergence in distribution ('~>') "
                                      "in one chain", pos)
        if g.rel == "~>":
            if current != "=" or g.tolerance is not None:
                raise ProofStructureError("a convergence in distribution ('~>') may follow only "
                                          "equalities", pos)
            current, limit_var, previous = "~>", g.limit_var, g.rhs
            continue
        if g.tolerance is not None:
            slack += g.tolerance
        if g.rel == "~=" and current not in ("=", "~=", "->"):
            raise ProofStructureError("an approximation cannot follow an inequality in one chain",
                                      pos)
        if current == "~=" and g.rel not in ("=", "~="):
            raise ProofStructureError(
                "after an approximation ('~=') only '=' and '~=' steps may follow (a limit of "
                "an approximation need not exist)", pos)
        if limit_var is not None:
            if g.rel not in ("=", "~="):
                raise ProofStructureError(
                    f"after the limit in {expr_text(limit_var)} only '=' and '~=' steps may follow",
                    pos
                )
            if limit_var in g.rhs.free_symbols:
                raise ProofStructureError(
                    f"after the limit, expressions must not depend on {expr_text(limit_var)}", pos
                )
        if g.rel == "~=":
            if current == "=":
                current = "~="
        elif g.rel == "->":
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
            f"the derivation ends at {expr_text(previous)} but the claim's right side is "
            f"{expr_text(claim.rhs)}",
            Position(last.line, last.col),
        )
    weaker = {"<": "<=", ">": ">=", "=": "~="}
    if claim.rel != current and weaker.get(current) != claim.rel:
        raise ProofStructureError(
            f"the steps establish '{current}' but the claim states '{claim.rel}'",
            Position(last.line, last.col),
        )
    allowed = claim.tolerance if claim.tolerance is not None else sympy.Integer(0)
    if slack > allowed:
        raise ProofStructureError(
            f"the steps' tolerances add up to {expr_text(slack)}, more than the claim's "
            f"{expr_text(allowed)}"
            + ("" if claim.tolerance is not None else " (the claim is exact)"),
            Position(last.line, last.col),
        )
    if claim.rel in ("->", "~>") and claim.limit_var != limit_var:
        raise ProofStructureError(
            f"the claim's limit is in {expr_text(claim.limit_var)}, the derivation's in "
            f"{expr_text(limit_var)}",
            Position(last.line, last.col),
        )
    return current, limit_var


def theorem_seed(theorem: Theorem) -> int:
    """The theorem's seed: the first one its Monte-Carlo settings give, else from its name."""
    for cfg in theorem.crosschecks.montecarlo:
        if cfg.seed is not None:
            return cfg.seed
    return zlib.crc32(theorem.name.encode()) % (2**31)


def _validated(j: Any, rule_name: str) -> Judgement:
    """A rule's judgement, after checking it has the shape its verdict requires."""
    if not isinstance(j, Judgement) or not isinstance(j.verdict, Verdict):
        return Judgement.undecided(f"{rule_name}: verifier returned no judgement")
    if j.verdict in KERNEL_ONLY:
        return Judgement.undecided(f"{rule_name}: a rule cannot judge a step {j.verdict.value}")
    if j.verdict is Verdict.VERIFIED and not _well_formed_range(j.range):
        return Judgement.undecided(
            f"{rule_name}: VERIFIED without a stated, non-empty range ({j.range})")
    if j.verdict is Verdict.REFUTED and not j.counterexample:
        return Judgement.undecided(f"{rule_name}: REFUTED without a counterexample")
    if j.verdict is Verdict.CORROBORATED and not any(
        (e.kind == "mpmath" and e.ok and int(e.data.get("digits", 0)) >= FLOAT_DIGITS_FLOOR)
        or (e.kind == "montecarlo" and e.ok) for e in j.evidence
    ):
        return Judgement.undecided(
            f"{rule_name}: CORROBORATED without numeric evidence (Monte-Carlo, or floating point "
            f"agreeing to at least {FLOAT_DIGITS_FLOOR} digits)")
    return j


def _well_formed_range(r: Any) -> bool:
    """``{"k": [lo, hi]}`` with integers lo <= hi for every variable, and at least one."""
    if not isinstance(r, dict) or not r:
        return False
    return all(
        isinstance(v, list | tuple) and len(v) == 2
        and all(isinstance(b, int) and not isinstance(b, bool) for b in v) and v[0] <= v[1]
        for v in r.values())


def _safe_evidence(e: Any) -> Evidence:
    if not isinstance(e, Evidence):
        return Evidence("witness", None, expr_text(e))
    return Evidence(safe(e.kind), e.ok, safe(e.detail), safe(e.data))


def _safe_judgement(j: Judgement) -> Judgement:
    """A judgement from a child, made safe to print: long numbers abbreviated (they are text
    in reports, JSON and LaTeX, and Python refuses to print integers beyond 4300 digits)."""
    return Judgement(j.verdict, safe(j.detail), j.range, safe(j.counterexample),
                     [_safe_evidence(e) for e in j.evidence])


def check_step(
    step: Step, context: Context, options: Options, witnesses: list[Witness], seed: int,
    settings: WitnessSettings, time_left: TimeLeft | None = None,
) -> StepResult:
    rule = lookup(step.rule)
    result = StepResult(step.line, step.col, step.rule, step.goal.rel, step.source,
                        Verdict.UNDECIDED, "")
    if rule is None:
        result.detail = f"unknown rule '{step.rule}'"
        return result
    goal = step.goal
    if goal.tolerance is not None and not rule.tolerances:
        # The rule judges the exact statement, which implies the approximate one.
        goal = Goal(goal.lhs, "=" if goal.rel == "~=" else goal.rel, goal.rhs, goal.limit_var)
    if goal.rel not in rule.relations:
        result.detail = (
            f"{rule.name}: justifies only {', '.join(sorted(rule.relations))} steps, "
            f"not '{step.goal.rel}'"
        )
        return result
    if spent(time_left):
        result.detail = f"{rule.name}: {run_budget_spent(options)}"
        return result
    budget = capped(options.budget, time_left)
    outcome = run_bounded(with_ledger, (rule.verifier, goal, step.args, context), budget)
    if not outcome.ok:
        reason = safe(outcome.reason.strip())
        if outcome.kind in ("cpu", "killed") and budget != options.budget:
            reason += " (all that was left of the run budget)"
        judgement = Judgement.undecided(f"{rule.name}: {reason}")
    else:
        judgement = _safe_judgement(_validated(outcome.value[0], rule.name))
        result.rests_on = list(outcome.value[1])
    if goal is not step.goal and judgement.verdict is Verdict.REFUTED:
        judgement = Judgement.undecided(
            f"{rule.name}: refutes the exact statement ({judgement.detail}), but does not judge "
            f"the tolerance {_tolerance_text(step.goal.tolerance)}")
    result.verdict, result.detail = judgement.verdict, judgement.detail
    result.range, result.counterexample = judgement.range, judgement.counterexample
    result.evidence = list(judgement.evidence)
    if not options.witnesses or judgement.verdict is Verdict.UNDECIDED:
        return result
    for witness in witnesses:
        kind = witness.kind
        if spent(time_left):
            result.evidence.append(Evidence(kind, None, run_budget_spent(options)))
            continue
        out = run_bounded(witness.run, (step.goal, context, judgement, settings, seed),
                          capped(options.witness_budget, time_left))
        if not out.ok:
            reason = safe(out.reason.strip()).splitlines() or [""]
            result.evidence.append(Evidence(kind, None, f"witness did not finish: {reason[0]}"))
            continue
        result.evidence.extend(_safe_evidence(e) for e in out.value)
    against = [e for e in result.evidence if e.ok is False]
    if against:
        result.disagreement = (
            f"{against[0].kind} witness contradicts the {judgement.verdict.value} judgement of "
            f"rule {rule.name}: {against[0].detail}"
        )
        result.judged, result.verdict = judgement.verdict, Verdict.DISPUTED
    return result


#: Judgements an external proof checker's decisive refusal contradicts (a PARTIAL step is a
#: VERIFIED judgement the kernel narrowed; its checked instances are what was exported).
_EXACT_JUDGEMENTS = frozenset({Verdict.PROVED, Verdict.VERIFIED, Verdict.PARTIAL})


def apply_external_evidence(step: StepResult, evidence: Evidence,
                            about_step: bool = True) -> str | None:
    """Record what an external proof checker (Coq) said about a checked step.

    The evidence is appended. ``ok`` False means the checker decides the statement and refuses
    it (an inconclusive answer is ``ok`` None). Such a refusal of a statement ``about_step``
    whose judgement is exact (PROVED, VERIFIED, or VERIFIED narrowed to PARTIAL) is an
    internal disagreement, exactly as with a contradicting witness: the step becomes DISPUTED
    and keeps its rule's judgement in ``judged``. Evidence about something else (the identity
    under a step's expectations) is only recorded. Returns the disagreement, or None.
    Evidence never makes a verdict stronger.
    """
    step.evidence.append(_safe_evidence(evidence))
    if not about_step or evidence.ok is not False or step.verdict not in _EXACT_JUDGEMENTS:
        return None
    judged = step.judged or step.verdict
    step.disagreement = (f"{safe(evidence.kind)} contradicts the {judged.value} judgement of "
                         f"rule {step.rule}: {safe(evidence.detail)}")
    step.judged, step.verdict = judged, Verdict.DISPUTED
    return step.disagreement


def rejudge_theorem(theorem: TheoremResult) -> None:
    """Give a theorem its weakest step's verdict again, after external evidence disputed a
    step; a verdict only ever becomes weaker, and the checked range goes with a lost pass."""
    verdict = weakest([s.verdict for s in theorem.steps])
    if verdict.strength < theorem.verdict.strength:
        theorem.verdict = verdict
        if verdict not in (Verdict.VERIFIED, Verdict.PARTIAL):
            theorem.range = None


def _tolerance_text(t: sympy.Expr) -> str:
    return tolerance_text(t) if max(abs(t.p), t.q).bit_length() < 3000 else expr_text(t)


def intersect_ranges(ranges: list[dict[str, list[int]]]) -> dict[str, list[int]] | None:
    out: dict[str, list[int]] = {}
    for r in ranges:
        for var, (lo, hi) in r.items():
            if var in out:
                out[var] = [max(out[var][0], lo), min(out[var][1], hi)]
            else:
                out[var] = [lo, hi]
    return out or None


def declared_domain(theorem: Theorem) -> dict[str, list[int | None]]:
    """The integer parameters of the claim and their declared bounds (``hi`` None: unbounded)."""
    return {p.symbol.name: [p.lo, p.hi] for p in theorem.context.parameters}


def _domain_of(var: str, theorem: Theorem) -> tuple[int | None, int | None]:
    """Declared bounds of ``var``: a parameter's, else what an integer symbol's domain implies,
    else unbounded (a range over a name the claim does not bound never covers it)."""
    for p in theorem.context.parameters:
        if p.symbol.name == var:
            return p.lo, p.hi
    sym = theorem.context.symbols.get(var)
    if sym is not None and sym.is_integer:
        return theorem.context.space.integer_range(sym)
    return None, None


def _render(r: dict[str, list[int]]) -> str:
    return ", ".join(f"{k} in {lo}..{hi}" for k, (lo, hi) in r.items())


def judge_range(step: StepResult, theorem: Theorem) -> None:
    """A VERIFIED step speaks of the claim only where its range covers the declared domain of
    every variable it ranges over; otherwise it is PARTIAL (exact on part of the domain)."""
    if step.verdict is not Verdict.VERIFIED or not step.range:
        return
    short = []
    for var, (lo, hi) in step.range.items():
        dlo, dhi = _domain_of(var, theorem)
        if dlo is None or dhi is None or lo > dlo or hi < dhi:
            short.append(f"{var} in {dlo}..{dhi}" if dhi is not None
                         else f"{var} >= {dlo}" if dlo is not None else f"every integer {var}")
    if short:
        step.judged, step.verdict = step.verdict, Verdict.PARTIAL
        step.detail = (f"{step.detail} [checked on {_render(step.range)} only; the claim is "
                       f"declared for {', '.join(short)}]")


def _checked_range(
    steps: list[StepResult], theorem: Theorem
) -> tuple[dict[str, list[int]] | None, str]:
    """The instances every finitely checked step covers, inside the declared domain; an empty
    one is reported with the reason."""
    ranges = [s.range for s in steps if s.verdict in (Verdict.VERIFIED, Verdict.PARTIAL) and s.range]
    common = intersect_ranges(ranges)
    if common is None:
        return None, ""
    for var, (lo, hi) in common.items():
        dlo, dhi = _domain_of(var, theorem)
        common[var] = [lo if dlo is None else max(lo, dlo), hi if dhi is None else min(hi, dhi)]
    empty = [v for v, (lo, hi) in common.items() if lo > hi]
    if empty:
        return None, (f"no instance of {', '.join(empty)} is checked by every step and lies in "
                      f"the declared domain (the steps check {'; '.join(map(_render, ranges))})")
    return common, ""


def check_theorem(
    theorem: Theorem, options: Options, witnesses: list[Witness],
    time_left: TimeLeft | None = None,
) -> TheoremResult:
    """Check every step of ``theorem``; raises ProofStructureError if the chain is misshapen.

    The verdict speaks of the claim as declared: VERIFIED only when the finitely checked steps
    cover every instance of the declared range; PARTIAL (with the instances checked) when they
    cover part of it; UNDECIDED when no instance is covered by every such step.

    ``time_left`` gives what is left of the run's CPU-time budget: no step or witness gets
    more, and those not started when it is spent are UNDECIDED (not checked).
    """
    compose_relations(theorem)
    seed = theorem_seed(theorem)
    settings = WitnessSettings(theorem.crosschecks, options.montecarlo_scale)
    steps = [check_step(s, theorem.context, options, witnesses, seed, settings, time_left)
             for s in theorem.steps]
    for s in steps:
        judge_range(s, theorem)
    verdict = weakest([s.verdict for s in steps])
    checked, note = _checked_range(steps, theorem)
    if note and verdict.passes:
        verdict = Verdict.UNDECIDED
    return TheoremResult(
        theorem.name, theorem.statement, theorem.line, verdict, steps,
        checked if verdict in (Verdict.VERIFIED, Verdict.PARTIAL) else None,
        list(theorem.cites), seed, declared_domain(theorem), note,
    )
