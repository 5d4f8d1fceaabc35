"""Check reports: the result of checking files, as text for a terminal and as JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tpcheck.display import TheoremView, theorem_html, verdict_phrase
from tpcheck.errors import printable
from tpcheck.kernel import StepResult, TheoremResult, Verdict, reproved_all, reproved_by, verdict_label
from tpcheck.latex.document import statement_plain

EXIT_OK, EXIT_REFUTED, EXIT_ERROR, EXIT_UNDECIDED, EXIT_DISAGREEMENT = 0, 1, 2, 3, 4

_COLOURS = {
    Verdict.PROVED: "\033[32m", Verdict.VERIFIED: "\033[32m", Verdict.PARTIAL: "\033[33m",
    Verdict.CORROBORATED: "\033[33m", Verdict.UNDECIDED: "\033[35m",
    Verdict.DISPUTED: "\033[31m", Verdict.REFUTED: "\033[31m",
}


_RESET = "\033[0m"


@dataclass
class FileReport:
    path: str
    sha256: str
    theorems: list[TheoremResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    internal_errors: list[str] = field(default_factory=list)
    trees: dict[str, Any] = field(default_factory=dict)  # theorem name -> its syntax tree
    tree: Any = None  # the file's syntax tree, when it parsed


@dataclass
class Report:
    version: str
    files: list[FileReport] = field(default_factory=list)
    require: Verdict | None = None

    @property
    def theorems(self) -> list[TheoremResult]:
        return [t for f in self.files for t in f.theorems]

    def theorem(self, name: str) -> Any:
        """The checked theorem ``name`` with its syntax (displays itself in notebooks)."""
        for f in self.files:
            for t in f.theorems:
                if t.name == name:
                    return TheoremView(f.trees[name], t) if name in f.trees else t
        raise KeyError(name)

    def _repr_html_(self) -> str:
        s = self.summary()
        head = ", ".join(f"{s[v.value]} {v.value}" for v in Verdict if s[v.value]) or "none"
        errors = f"; {s['errors']} errors" if s["errors"] else ""
        body = "".join(theorem_html(t) for t in self.theorems)
        return f"<div><b>tpcheck</b>: {s['theorems']} theorems: {head}{errors}{body}</div>"

    def _repr_latex_(self) -> str:
        parts = []
        for f in self.files:
            for t in f.theorems:
                view = self.theorem(t.name)
                if hasattr(view, "_repr_latex_"):
                    parts.append(view._repr_latex_().strip("$"))
        return "$$" + r"\[10pt]".join(parts) + "$$"

    def summary(self) -> dict[str, int]:
        counts = {"theorems": len(self.theorems)}
        for v in Verdict:
            counts[v.value] = sum(1 for t in self.theorems if t.verdict is v)
        counts["errors"] = sum(len(f.errors) for f in self.files)
        counts["disagreements"] = sum(len(t.disagreements) for t in self.theorems) + sum(
            len(f.internal_errors) for f in self.files)
        return counts

    def below_requirement(self, t: TheoremResult) -> bool:
        return self.require is not None and t.verdict.strength < self.require.strength

    @property
    def exit_code(self) -> int:
        s = self.summary()
        if s["disagreements"]:
            return EXIT_DISAGREEMENT
        if s[Verdict.REFUTED.value]:
            return EXIT_REFUTED
        if s["errors"]:
            return EXIT_ERROR
        if s[Verdict.UNDECIDED.value] or any(self.below_requirement(t) for t in self.theorems):
            return EXIT_UNDECIDED
        return EXIT_OK

    @property
    def ok(self) -> bool:
        return self.exit_code == EXIT_OK

    # ---- JSON ----
    def to_dict(self) -> dict[str, Any]:
        return {
            "tool": "tpcheck",
            "version": self.version,
            "files": [
                {
                    "path": f.path,
                    "sha256": f.sha256,
                    "theorems": [_theorem_json(t) for t in f.theorems],
                    "errors": f.errors + f.internal_errors,
                }
                for f in self.files
            ],
            "summary": self.summary(),
            "seeds": sorted({t.seed for t in self.theorems}),
            "exit_code": self.exit_code,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, default=str)

    # ---- text ----
    def to_text(self, colour: bool = False) -> str:
        """The report for a terminal; text from proof files (names, paths, statements, reasons)
        has every character a terminal would act on escaped. A theorem that does not pass shows
        its statement, plainly (:func:`tpcheck.latex.document.statement_plain`)."""
        out: list[str] = []

        def paint(v: Verdict, text: str) -> str:
            return f"{_COLOURS[v]}{text}{_RESET}" if colour else text

        width = max([len(t.name) for t in self.theorems] + [10])
        for f in self.files:
            out.append(printable(f.path))
            for t in f.theorems:
                phrase = verdict_phrase(t)
                head, rest = phrase[: len(t.verdict.value)], phrase[len(t.verdict.value):]
                out.append(printable(f"  {t.name:<{width}}  ") + paint(t.verdict, head) + printable(rest))
                if not t.verdict.passes and t.statement:
                    out.append(printable(f"    {statement_plain(t.statement)}"))
                if t.note:
                    out.append(printable(f"    {t.note}"))
                coq = coq_summary(t)
                if coq:
                    out.append(printable(f"    {coq}"))
                for s in t.steps:
                    if s.verdict in (Verdict.PROVED, Verdict.VERIFIED) and not s.disagreement:
                        continue
                    out.extend(printable("    " + line, keep_newlines=True) for line in step_text(f.path, s))
            for e in f.errors + f.internal_errors:
                out.extend(printable("  " + line) for line in e.split("\n"))
        s = self.summary()
        parts = [f"{s[v.value]} {v.value}" for v in Verdict if s[v.value]]
        line = f"{s['theorems']} theorem{'s' if s['theorems'] != 1 else ''}: " + (
            ", ".join(parts) or "none")
        if s["errors"]:
            line += f"; {s['errors']} error{'s' if s['errors'] != 1 else ''}"
        if s["disagreements"]:
            line += f"; {s['disagreements']} INTERNAL DISAGREEMENT(S): the checker is wrong somewhere"
        if self.require is not None:
            below = sum(1 for t in self.theorems if self.below_requirement(t))
            line += f"; {below} below the required {self.require.value}"
        out.append(line)
        return "\n".join(out)


def step_text(path: str, s: StepResult) -> list[str]:
    judged = f" (the rule judged it {s.judged.value})" if s.judged else ""
    lines = [f"{path}:{s.line}: {s.verdict.value}{judged} by {s.rule}: {s.detail}"]
    if s.counterexample:
        lines.append(f"  counterexample: {json.dumps(s.counterexample, default=str)}")
    for e in s.evidence:
        if e.kind in ("mpmath", "montecarlo"):
            mark = {True: "agrees", False: "DISAGREES", None: "inconclusive"}[e.ok]
            lines.append(f"  {e.kind} witness {mark}: {e.detail}")
        elif e.kind == "coq":
            mark = {True: "re-proved it", False: "REFUSES it", None: "inconclusive"}[e.ok]
            lines.append(f"  coq {mark}: {e.detail}")
    if s.disagreement:
        lines.append(f"  INTERNAL DISAGREEMENT: {s.disagreement}")
    return lines


def coq_summary(t: TheoremResult) -> str:
    """What Coq re-proved of a theorem it was asked about, where the label does not say it all:
    the steps (when not every one), and the identities under the steps' expectations."""
    if not any(e.kind in ("coq", "coq-reduced") for s in t.steps for e in s.evidence):
        return ""
    done = [s.line for s in t.steps if "coq" in reproved_by(s.verdict, s.evidence)]
    parts = []
    if len(done) != len(t.steps):
        steps = "step" if len(t.steps) == 1 else "steps"
        parts.append(f"re-proved {len(done)} of {len(t.steps)} {steps}" + _at_lines(done))
    reduced = [(s.line, e.ok) for s in t.steps for e in s.evidence if e.kind == "coq-reduced"]
    for ok, what in ((True, "re-proved"), (False, "did not re-prove")):
        lines = [line for line, answer in reduced if (answer is True) is ok]
        if lines:
            identities = "identity" if len(lines) == 1 else "identities"
            parts.append(f"{what} the {identities} under the expectations" + _at_lines(lines))
    return "coq: " + "; ".join(parts) if parts else ""


def _at_lines(lines: list[int]) -> str:
    return f" (line{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines))})" if lines else ""


def _theorem_json(t: TheoremResult) -> dict[str, Any]:
    return {
        "name": t.name,
        "statement": t.statement,
        "line": t.line,
        "verdict": t.verdict.value,
        "label": verdict_label(t.verdict, [s.evidence for s in t.steps]),
        "reproved_by": reproved_all(t.verdict, [s.evidence for s in t.steps]),
        "range": t.range,
        "domain": t.domain,
        "note": t.note,
        "rests_on": t.rests_on,
        "cites": t.cites,
        "seed": t.seed,
        "steps": [
            {
                "line": s.line,
                "rule": s.rule,
                "relation": s.relation,
                "source": s.source,
                "verdict": s.verdict.value,
                "label": verdict_label(s.verdict, [s.evidence]),
                "reproved_by": reproved_by(s.verdict, s.evidence),
                "judged": s.judged.value if s.judged else None,
                "rests_on": s.rests_on,
                "detail": s.detail,
                "range": s.range,
                "counterexample": s.counterexample,
                "disagreement": s.disagreement,
                "evidence": [e.to_json() for e in s.evidence],
            }
            for s in t.steps
        ],
    }


def trust_text(report: Report) -> str:
    """Per theorem, the rules and algorithms its passing steps trusted (like Lean's
    ``#print axioms``), then the trusted base those come from; escaped for a terminal."""
    from tpcheck.trusted import CATALOGUE, FOUNDATION

    out: list[str] = []
    used: list[str] = []
    for f in report.files:
        out.append(f.path)
        for t in f.theorems:
            r = t.rests_on
            used.extend(r["algorithms"])
            out.append(f"  {t.name}  {verdict_phrase(t)}")
            if t.statement:
                out.append(f"    {statement_plain(t.statement)}")
            out.append(f"    rules: {', '.join(r['rules']) or '(none)'}")
            out.append(f"    rests on: {', '.join(r['algorithms']) or '(the foundation only)'}")
        for e in f.errors + f.internal_errors:
            out.append("  " + e.split("\n")[0])
    out.append("")
    out.append("Every step rests on:")
    out.extend(f"  {k}: {v}" for k, v in FOUNDATION.items())
    out.append("These verdicts also rest on:")
    out.extend(f"  {k}: {CATALOGUE[k]}" for k in CATALOGUE if k in used)
    return "\n".join(printable(line) for line in out) + "\n"
