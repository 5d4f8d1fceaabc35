"""Check files, write their LaTeX, and compile it to PDF with latexmk (or pdflatex + bibtex)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from tpcheck.api import check_text, proof_files
from tpcheck.errors import TpcheckError
from tpcheck.kernel import Options
from tpcheck.lang.parser import parse
from tpcheck.latex.document import Citations, render_document
from tpcheck.report import Report
from tpcheck.version import __version__

_BIB_KEY = re.compile(r"@\w+\s*\{\s*([^,\s]+)\s*,")


def find_bibliographies(paths: list[Path]) -> list[Path]:
    """The ``references/*.bib`` files of the nearest folder above the proof files that has one."""
    for p in paths:
        for folder in [p.resolve().parent, *p.resolve().parents]:
            refs = folder / "references"
            if refs.is_dir():
                found = sorted(refs.glob("*.bib"))
                if found:
                    return found
    return []


def bib_keys(bibs: list[Path]) -> set[str]:
    keys: set[str] = set()
    for b in bibs:
        keys |= set(_BIB_KEY.findall(b.read_text(encoding="utf-8")))
    return keys


def build_latex(paths: list[str], options: Options | None = None, body_only: bool = False,
                bibs: list[Path] | None = None) -> tuple[str, Report, list[Path]]:
    """(LaTeX source, check report, bibliography files) for the proof files under ``paths``."""
    files = proof_files(paths)
    bibs = find_bibliographies(files) if bibs is None else bibs
    report = Report(__version__)
    entries = []
    for f in files:
        text = f.read_text(encoding="utf-8")
        file_report = check_text(text, str(f), options)
        report.files.append(file_report)
        try:
            tree = parse(text)
        except TpcheckError:
            tree = None
        if tree is not None:
            entries.append((str(f), file_report.sha256, tree, file_report))
    keys = bib_keys(bibs)
    cited = {k for _, _, tree, _ in entries for t in tree.theorems for k in t.cites}
    missing = sorted(cited - keys)
    if missing and bibs:
        raise TpcheckError("cited but not in the bibliography: " + ", ".join(missing))
    cites = Citations(resolve=bool(bibs))
    bib_arg = ",".join(b.stem for b in bibs) if bibs else None
    return render_document(entries, cites, bib_arg, body_only), report, bibs


def compile_pdf(tex: str, bibs: list[Path], out_pdf: Path) -> Path:
    """Compile ``tex`` to ``out_pdf`` (halting on the first error); undefined references or
    citations are errors. Raises TpcheckError when TeX is not installed or the run fails."""
    out_pdf = out_pdf.resolve()
    build = out_pdf.parent / (out_pdf.stem + ".build")
    build.mkdir(parents=True, exist_ok=True)
    source = build / (out_pdf.stem + ".tex")
    source.write_text(tex, encoding="utf-8")
    for b in bibs:
        shutil.copy(b, build / b.name)
    if shutil.which("latexmk"):
        cmd = [["latexmk", "-pdf", "-halt-on-error", "-interaction=nonstopmode", source.name]]
    elif shutil.which("pdflatex"):
        run = ["pdflatex", "-halt-on-error", "-interaction=nonstopmode", source.name]
        cmd = [run, ["bibtex", source.stem], run, run] if bibs else [run, run]
    else:
        raise TpcheckError("TeX is not installed (need latexmk or pdflatex); the .tex was written "
                           f"to {source}")
    for c in cmd:
        out = subprocess.run(c, cwd=build, capture_output=True, text=True, timeout=300)
        if out.returncode != 0 and c[0] != "bibtex":
            log = (build / (source.stem + ".log"))
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else out.stdout[-3000:]
            raise TpcheckError(f"{c[0]} failed on {source}:\n{tail}")
    log = (build / (source.stem + ".log")).read_text(errors="replace")
    problems = re.findall(r"(?:Citation|Reference) `[^']+' on page \d+ undefined", log)
    if problems or "There were undefined references" in log:
        raise TpcheckError(f"undefined references in {source}: " + "; ".join(problems[:5]))
    shutil.copy(build / (source.stem + ".pdf"), out_pdf)
    return out_pdf
