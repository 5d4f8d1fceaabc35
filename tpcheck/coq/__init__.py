"""Coq export and re-check of tpcheck's algebraic and finite combinatorial steps.

``export`` states steps as Coq lemmas over R (``translate`` writes the terms, ``prelude.v``
defines the counting functions and tactics), ``reduce`` adds the identity under an expectation
step, ``run`` runs coqc and judges its answers. This module joins them to tpcheck's reports:
:func:`attach_coq_evidence` adds a ``coq`` evidence record to each checked step.
"""

from __future__ import annotations

import time
from typing import TextIO

from tpcheck.coq.export import Lemma, TheoremExport, export_theorem, write_exports
from tpcheck.coq.run import (
    CoqRun,
    CoqUnavailable,
    StepCoq,
    check_lemmas,
    coq_command,
    find_coqc,
    library_share,
    read_exports,
    step_outcome,
    unavailable_reason,
)
from tpcheck.kernel import (
    Evidence,
    Verdict,
    apply_external_evidence,
    rejudge_theorem,
    reproved_by,
    verdict_label,
)

__all__ = [
    "CoqRun", "CoqUnavailable", "Lemma", "StepCoq", "TheoremExport", "attach_coq_evidence",
    "check_lemmas", "coq_command", "coq_evidence", "coq_label", "export_theorem", "find_coqc",
    "library_share", "read_exports", "recheck", "step_outcome", "theorem_coq_label",
    "unavailable_reason", "write_exports",
]

StepKey = tuple[str, str, int, int]  # (file, theorem, line, col)


def coq_evidence(exports: list[TheoremExport], run: CoqRun) -> dict[StepKey, list[Evidence]]:
    """The evidence records Coq gives each exported or reduced step: kind ``coq`` (the step
    itself; ok True, False for a refused lemma Coq's tactics decide, None otherwise) and kind
    ``coq-reduced`` (the identity under the step's expectations, which is not the step)."""
    out: dict[StepKey, list[Evidence]] = {}
    for e in exports:
        for s in e.steps:
            o = step_outcome(s, run)
            records = []
            if s.lemmas:
                records.append(Evidence("coq", o.ok, o.detail, {"lemmas": o.lemmas}))
            if s.reduced:
                records.append(Evidence("coq-reduced", o.reduced_ok, o.reduced_detail,
                                        {"lemmas": [lem.name for lem in s.reduced]}))
            if records:
                out[(e.path, e.name, s.line, s.col)] = records
    return out


def attach_coq_evidence(report, coqc: str | None = None) -> list[str]:  # noqa: ANN001
    """Re-check the steps of a :class:`tpcheck.report.Report` with Coq: the files are read
    again and exported, coqc runs, and every step gets its ``coq`` evidence through the kernel
    (:func:`tpcheck.kernel.apply_external_evidence`), which makes a PROVED or VERIFIED step
    that Coq decisively refuses DISPUTED, as with a contradicting witness; the theorem then
    takes its weakest step's verdict. Returns the disagreements; raises
    :class:`CoqUnavailable` when coqc is absent."""
    paths = [f.path for f in report.files]
    exports, _ = read_exports(paths)
    run = check_lemmas([lem for e in exports for lem in e.lemmas], coqc)
    evidence = coq_evidence(exports, run)
    found = []
    for f in report.files:
        for t in f.theorems:
            for s in t.steps:
                for ev in evidence.get((f.path, t.name, s.line, s.col), []):
                    disagreement = apply_external_evidence(s, ev, about_step=ev.kind == "coq")
                    if disagreement:
                        found.append(f"{f.path}:{s.line}: {t.name}: {disagreement}")
            rejudge_theorem(t)
    return found


def coq_label(verdict: Verdict, evidence: list[Evidence]) -> str:
    """``PROVED + coq`` when Coq re-proved the step (every ``coq`` record agrees), else the
    verdict alone."""
    return verdict_label(verdict, [evidence])


def theorem_coq_label(verdict: Verdict, steps_evidence: list[list[Evidence]]) -> str:
    """``PROVED + coq`` for a theorem when Coq re-proved every one of its steps."""
    return verdict_label(verdict, steps_evidence)


def recheck(report, out: TextIO) -> None:  # noqa: ANN001
    """``check --coq``: re-check ``report`` with Coq and say what came of it on ``out``; where
    Coq is absent, say why and leave the report as it is."""
    reason = unavailable_reason()
    if reason:
        print(f"coq: not checked: {reason}", file=out)
        return
    start = time.monotonic()
    try:
        disagreements = attach_coq_evidence(report)
    except CoqUnavailable as exc:
        print(f"coq: not checked: {exc}", file=out)
        return
    steps = [s for t in report.theorems for s in t.steps]
    asked = [s for s in steps if any(e.kind == "coq" for e in s.evidence)]
    done = [s for s in asked if "coq" in reproved_by(s.verdict, s.evidence)]
    reduced = [e for s in steps for e in s.evidence if e.kind == "coq-reduced"]
    against = _count(len(disagreements), "disagreement") if disagreements else "no disagreement"
    print(f"coq: re-proved {len(done)} of the {len(asked)} exported steps "
          f"({_count(len(steps), 'step')} in all) and {sum(e.ok is True for e in reduced)} of "
          f"{len(reduced)} identities under expectations; {against} "
          f"({time.monotonic() - start:.1f} s)", file=out)


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"
