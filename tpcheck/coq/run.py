"""Run coqc on exported lemmas and say, lemma by lemma, which ones Coq accepted.

coqc runs in a fresh temporary folder, with the prelude compiled there first, under a CPU-time
and memory limit (``setrlimit`` in the child, so a loaded machine gives the same answers; the
wall-clock limit is only a backstop). A lemma counts as accepted only when coqc compiled it
*and* ``Print Assumptions`` shows that it rests on nothing beyond the axioms of Coq's standard
real numbers (:data:`ALLOWED_AXIOMS`): an ``Admitted`` lemma or an ``Axiom`` shows up there as an
assumption and is refused. A file that fails is re-run one lemma at a time, so one refused
lemma does not hide the others.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from tpcheck.coq.export import (
    LIBRARY,
    PRELUDE_MODULE,
    SHARE_KINDS,
    Lemma,
    StepExport,
    TheoremExport,
    export_theorem,
    prelude_text,
    write_exports,
)

#: The axioms of Coq's standard library real numbers (Coq 8.12 and later): R is built from
#: Dedekind cuts with these; a lemma over R rests on them and on nothing else.
ALLOWED_AXIOMS = frozenset({
    "ClassicalDedekindReals.sig_forall_dec",
    "ClassicalDedekindReals.sig_not_dec",
    "FunctionalExtensionality.functional_extensionality_dep",
})
#: CPU seconds and bytes of memory of one coqc process: generous guards against a hang.
COQ_CPU_SECONDS = 600
COQ_MEMORY_BYTES = 4 * 2**30
#: Commands that would let a lemma rest on something unproved; refused before coqc runs.
_FORBIDDEN = re.compile(r"\b(Admitted|admit|Axiom|Axioms|Parameter|Parameters|Conjecture|"
                        r"Hypothesis|Hypotheses|Variable|Variables|Abort\s+All)\b")
_MARK = "@@tpcheck-lemma "


class CoqUnavailable(Exception):  # noqa: N818  (a condition, reported to the user)
    """coqc is not installed (or not runnable); the message says how to get it."""


def find_coqc() -> str | None:
    """The coqc to use: ``$TPCHECK_COQC`` if set, else the one on PATH; None if there is none."""
    explicit = os.environ.get("TPCHECK_COQC")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    return shutil.which("coqc")


def coq_version(coqc: str) -> str:
    """coqc's version line (``The Coq Proof Assistant, version 8.16.1``)."""
    out = subprocess.run([coqc, "--version"], capture_output=True, text=True, timeout=60)
    return out.stdout.splitlines()[0].strip() if out.stdout else "unknown"


def unavailable_reason() -> str:
    """Why Coq cannot be used here, or '' when it can."""
    return "" if find_coqc() else ("coqc was not found (install Coq, e.g. `apt-get install coq`, "
                                   "or set TPCHECK_COQC to a coqc executable)")


@dataclass
class LemmaOutcome:
    """What Coq said about one lemma."""

    name: str
    accepted: bool
    detail: str
    axioms: list[str] = field(default_factory=list)


@dataclass
class CoqRun:
    """The outcome of running coqc on exports."""

    version: str
    outcomes: dict[str, LemmaOutcome]
    seconds: float  # CPU seconds of the coqc children


def _limits() -> None:  # pragma: no cover  (runs in the child)
    resource.setrlimit(resource.RLIMIT_CPU, (COQ_CPU_SECONDS, COQ_CPU_SECONDS + 5))
    resource.setrlimit(resource.RLIMIT_AS, (COQ_MEMORY_BYTES, COQ_MEMORY_BYTES))


def _coqc(coqc: str, folder: Path, file: str) -> tuple[int, str, str, float]:
    """Run coqc on ``folder/file`` (the folder mapped to the prelude's library)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        p = subprocess.run([coqc, "-q", "-Q", str(folder), LIBRARY, file], cwd=folder,
                           capture_output=True, text=True, preexec_fn=_limits,
                           timeout=COQ_CPU_SECONDS * 4)
        rc, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        rc, out, err = -9, "", f"coqc ran past {COQ_CPU_SECONDS * 4} s of wall time"
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if rc < 0:
        err = (err + f"\ncoqc was stopped by signal {-rc} (CPU limit {COQ_CPU_SECONDS} s, "
               f"memory limit {COQ_MEMORY_BYTES >> 30} GiB)").strip()
    return rc, out, err, cpu


def _checked_text(lemmas: list[Lemma], header: str) -> tuple[str, list[int]]:
    """A file of lemmas, each followed by a marker and ``Print Assumptions``, and the line
    each lemma ends on."""
    text, ends = header, []
    for lem in lemmas:
        text += "\n" + lem.text()
        ends.append(text.count("\n") + 1)
        text += f'Goal True. idtac "{_MARK}{lem.name}". Abort.\nPrint Assumptions {lem.name}.\n'
    return text, ends


def _header() -> str:
    return (f"From {LIBRARY} Require Import {PRELUDE_MODULE}.\n"
            "Require Import Reals Lra Lia ZArith.\nOpen Scope R_scope.\n")


def _without_comments(text: str) -> str:
    while "(*" in text:
        start = text.index("(*")
        end = text.find("*)", start)
        text = text[:start] + (text[end + 2:] if end >= 0 else "")
    return text


def _assumptions(stdout: str) -> dict[str, list[str] | None]:
    """Lemma name -> the axioms ``Print Assumptions`` lists (None: output not understood)."""
    out: dict[str, list[str] | None] = {}
    chunks = stdout.split(_MARK)[1:]
    for chunk in chunks:
        name, _, rest = chunk.partition("\n")
        name = name.strip()
        if "Closed under the global context" in rest and "Axioms:" not in rest:
            out[name] = []
        elif "Axioms:" in rest:
            body = rest.split("Axioms:", 1)[1]
            out[name] = [m.group(1) for m in re.finditer(r"^(\S+)(?:\s*:|\s*$)", body, re.M)
                         if m.group(1) != ":"]
        else:
            out[name] = None
    return out


def _judge(lemmas: list[Lemma], stdout: str) -> dict[str, LemmaOutcome]:
    found = _assumptions(stdout)
    result = {}
    for lem in lemmas:
        axioms = found.get(lem.name)
        if axioms is None:
            result[lem.name] = LemmaOutcome(lem.name, False, "Print Assumptions gave no answer")
            continue
        extra = [a for a in axioms if a not in ALLOWED_AXIOMS]
        if extra:
            result[lem.name] = LemmaOutcome(lem.name, False, "rests on assumptions beyond Coq's "
                                            f"real numbers: {', '.join(extra)}", axioms)
        else:
            result[lem.name] = LemmaOutcome(lem.name, True, "accepted by coqc; rests only on "
                                            "the axioms of Coq's real numbers" if axioms else
                                            "accepted by coqc; closed under the global context",
                                            axioms)
    return result


def _error(stderr: str, stdout: str) -> str:
    text = (stderr or stdout).strip()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return " ".join(lines[-3:])[:500] if lines else "coqc failed without a message"


def check_lemmas(lemmas: list[Lemma], coqc: str | None = None) -> CoqRun:
    """Run coqc on ``lemmas`` (all files in one temporary folder); raises CoqUnavailable."""
    coqc = coqc or find_coqc()
    if coqc is None:
        raise CoqUnavailable(unavailable_reason())
    version = coq_version(coqc)
    outcomes: dict[str, LemmaOutcome] = {}
    cpu = 0.0
    with tempfile.TemporaryDirectory(prefix="tpcheck-coq-") as tmp:
        folder = Path(tmp)
        (folder / f"{PRELUDE_MODULE}.v").write_text(prelude_text())
        rc, out, err, t = _coqc(coqc, folder, f"{PRELUDE_MODULE}.v")
        cpu += t
        if rc != 0:
            raise CoqUnavailable(f"the Coq prelude does not compile with {version}: "
                                 f"{_error(err, out)}")
        groups: dict[str, list[Lemma]] = {}
        for lem in lemmas:
            groups.setdefault(lem.path or lem.theorem, []).append(lem)
        for i, group in enumerate(groups.values()):
            cpu += _check_group(coqc, folder, f"tp_check_{i}", group, outcomes)
    return CoqRun(version, outcomes, cpu)


def _check_group(coqc: str, folder: Path, stem: str, group: list[Lemma],
                 outcomes: dict[str, LemmaOutcome]) -> float:
    """Check ``group`` in one file; when coqc stops at a lemma, record it as refused and go on
    with the lemmas after it. Returns the CPU seconds used."""
    cpu, attempt = 0.0, 0
    while group:
        body, ends = _checked_text(group, _header())
        bad = _FORBIDDEN.search(_without_comments(body))
        if bad:
            for lem in group:
                outcomes[lem.name] = LemmaOutcome(lem.name, False,
                                                  f"refused before coqc: '{bad.group(0)}'")
            return cpu
        name = f"{stem}_{attempt}.v"
        attempt += 1
        (folder / name).write_text(body)
        rc, out, err, t = _coqc(coqc, folder, name)
        cpu += t
        if rc == 0:
            outcomes.update(_judge(group, out))
            return cpu
        where = re.search(r'line (\d+)', err)
        line = int(where.group(1)) if where else 0
        failed = next((j for j, end in enumerate(ends) if line <= end), None) if where else None
        if failed is None:  # not at a lemma: refuse them all with the message
            for lem in group:
                outcomes[lem.name] = LemmaOutcome(lem.name, False,
                                                  f"coqc failed: {_error(err, out)}")
            return cpu
        outcomes.update(_judge(group[:failed], out))
        lem = group[failed]
        outcomes[lem.name] = LemmaOutcome(lem.name, False, f"coqc refused it: {_error(err, out)}")
        group = group[failed + 1:]
    return cpu


# -- reading proof files ----------------------------------------------------------------------
def read_exports(paths: Iterable[str | Path]) -> tuple[list[TheoremExport], list[str]]:
    """Parse, elaborate (bounded, as ``tpcheck check`` does) and export every theorem of the
    proof files ``paths``; returns the exports and the errors met reading them."""
    from tpcheck.api import elaborate_bounded, parse_text, proof_files, read_proof_file
    from tpcheck.errors import SourceError, TpcheckError

    exports, errors = [], []
    for f in proof_files(paths):
        try:
            text = read_proof_file(f)
        except TpcheckError as exc:
            errors.append(f"{f}: {exc}")
            continue
        parsed = parse_text(text, str(f))  # the parse every front-end shares
        errors.extend(e.splitlines()[0] for e in [*parsed.errors, *parsed.internal_errors])
        if parsed.tree is None:
            continue
        lines = text.split("\n")
        for t in parsed.tree.theorems:
            try:
                theorem = elaborate_bounded(t, lines)
            except SourceError as exc:
                errors.append(f"{f}:{exc.pos.line if exc.pos else '?'}: {exc.message}")
                continue
            except TpcheckError as exc:
                errors.append(f"{f}: theorem '{t.name}': {exc}")
                continue
            exports.append(export_theorem(theorem, str(f)))
    return exports, errors


# -- per-step evidence and the share ----------------------------------------------------------
@dataclass
class StepCoq:
    """Coq's answer about one step: ``ok`` True (every lemma of the step accepted), False
    (a lemma refused that Coq's tactics decide), None (not exported, or refused by a tactic
    that does not decide the statement)."""

    ok: bool | None
    detail: str
    lemmas: list[str]
    reduced_ok: bool | None = None
    reduced_detail: str = ""


def step_outcome(step: StepExport, run: CoqRun) -> StepCoq:
    """Summarise the outcomes of a step's lemmas."""
    reduced_ok, reduced_detail = None, ""
    if step.reduced:
        outs = [run.outcomes.get(lem.name) for lem in step.reduced]
        reduced_ok = all(o is not None and o.accepted for o in outs)
        reduced_detail = (f"{run.version}: the identity under the expectations "
                          + ("re-proved" if reduced_ok else "not re-proved: " + "; ".join(
                              o.detail for o in outs if o is not None and not o.accepted)))
    if not step.lemmas:
        return StepCoq(None, f"not exported to Coq: {step.reason}", [], reduced_ok, reduced_detail)
    names = [lem.name for lem in step.lemmas]
    refused = [(lem, run.outcomes.get(lem.name)) for lem in step.lemmas
               if not (run.outcomes.get(lem.name) and run.outcomes[lem.name].accepted)]
    if not refused:
        what = (f"{len(names)} instance lemmas" if step.lemmas[0].role == "instance"
                else f"lemma {names[0]}")
        return StepCoq(True, f"{run.version} accepted {what}", names, reduced_ok, reduced_detail)
    lem, o = refused[0]
    reason = o.detail if o else "not run"
    if lem.decisive:
        return StepCoq(False, f"{run.version} refused lemma {lem.name}: {reason}", names,
                       reduced_ok, reduced_detail)
    return StepCoq(None, f"{run.version} did not prove lemma {lem.name} (its tactics do not "
                   f"decide this statement): {reason}", names, reduced_ok, reduced_detail)


@dataclass
class Share:
    """Steps per kind: how many, how many exported, how many re-proved by Coq."""

    counts: dict[str, list[int]]  # kind -> [steps, exported, accepted]
    not_proved: list[tuple[str, str, int, str]]  # (kind, theorem, line, reason)

    @property
    def share(self) -> tuple[int, int]:
        """(re-proved, total) over the algebraic and finite combinatorial steps."""
        done = sum(self.counts.get(k, [0, 0, 0])[2] for k in SHARE_KINDS)
        total = sum(self.counts.get(k, [0, 0, 0])[0] for k in SHARE_KINDS)
        return done, total


def library_share(exports: list[TheoremExport], run: CoqRun | None) -> Share:
    """Count, per kind of step, the steps, the exported ones and those Coq re-proved."""
    counts: dict[str, list[int]] = {}
    missing = []
    for e in exports:
        for s in e.steps:
            c = counts.setdefault(s.kind, [0, 0, 0])
            c[0] += 1
            c[1] += bool(s.lemmas)
            ok = run is not None and s.lemmas and step_outcome(s, run).ok is True
            c[2] += bool(ok)
            if not ok:
                reason = s.reason or (step_outcome(s, run).detail if run else "coqc not run")
                missing.append((s.kind, e.name, s.line, reason))
    return Share(counts, missing)


def format_share(share: Share, run: CoqRun | None) -> str:
    """The table of kinds and the share, as printed by ``tpcheck coq``."""
    lines = [f"{'kind of step':24} {'steps':>6} {'exported':>9} {'re-proved':>10}"]
    for kind in sorted(share.counts, key=lambda k: (k not in SHARE_KINDS, k)):
        n, x, a = share.counts[kind]
        lines.append(f"{kind:24} {n:>6} {x:>9} {a if run else '-':>10}")
    done, total = share.share
    pct = f"{100 * done / total:.0f}%" if total else "n/a"
    lines.append(f"algebraic and finite combinatorial steps re-proved by Coq: {done}/{total} "
                 f"({pct})" + ("" if run else " (coqc not run)"))
    return "\n".join(lines)


def coq_command(paths: list[str], outdir: str | None, check: bool = True,
                out: TextIO | None = None) -> int:
    """``tpcheck coq FILE... -o DIR``: write one .v file per theorem, list the steps not
    exported with reasons, run coqc (when ``check`` and it is installed) and print the share.
    Exit status 0, 1 when Coq refused a lemma that it decides, 2 on a reading error."""
    out = out or sys.stdout
    start = time.monotonic()
    exports, errors = read_exports(paths)
    for e in errors:
        print(f"error: {e}", file=out)
    if outdir:
        written = write_exports(exports, outdir)
        print(f"wrote {len(written)} theorem files and the prelude to {outdir}", file=out)
    run = None
    if check:
        reason = unavailable_reason()
        if reason:
            print(f"coq: not checked: {reason}", file=out)
        else:
            run = check_lemmas([lem for e in exports for lem in e.lemmas])
    refused = 0
    for e in exports:
        for s in e.steps:
            if not s.lemmas:
                print(f"{e.path}:{s.line}: {e.name}: not exported ({s.kind}): {s.reason}", file=out)
            elif run is not None:
                o = step_outcome(s, run)
                if o.ok is not True:
                    refused += o.ok is False
                    print(f"{e.path}:{s.line}: {e.name}: {o.detail}", file=out)
    share = library_share(exports, run)
    print(format_share(share, run), file=out)
    if run is not None:
        reduced = [lem for e in exports for lem in e.lemmas if lem.role == "reduced"]
        ok = sum(run.outcomes[lem.name].accepted for lem in reduced if lem.name in run.outcomes)
        print(f"identities under expectations re-proved: {ok}/{len(reduced)}", file=out)
        print(f"coqc: {run.version}; {run.seconds:.1f} s of CPU time "
              f"({time.monotonic() - start:.1f} s in all)", file=out)
    return 2 if errors else 1 if refused else 0
