"""Check files, write their LaTeX, and compile it to PDF with pdflatex and bibtex.

Proof files and their ``references/*.bib`` are untrusted input, so nothing from the checked
folder runs and TeX reads nothing but what tpcheck wrote:

- the PDF is built in a fresh temporary folder holding only the ``.tex`` tpcheck wrote and
  copies of the ``.bib`` files it read (regular files, UTF-8, under names it chose), then
  copied to the requested place; latexmk is not used, so no rc file (Perl) is read anywhere;
- pdflatex runs with ``-no-shell-escape``, and pdflatex and bibtex get an environment of only
  ``PATH``, ``HOME`` (the build folder), ``LC_ALL=C`` and kpathsea's ``openin_any=p``,
  ``openout_any=p`` (no absolute paths, no ``..``, no dotfiles) and ``shell_escape=f``: no
  ``TEXINPUTS``, ``TEXMFOUTPUT`` or ``TEXMFCNF`` of the user's reaches them;
- the bibliography bibtex writes (the only text TeX reads that tpcheck did not escape) may use
  only plain bibliographic markup (:data:`BIBLIOGRAPHY_COMMANDS`); any other control sequence
  or a ``^^`` character code stops the build before TeX reads it. Paranoid mode alone is not
  enough: kpathsea expands variables after checking a name, so ``\\openin`` of
  ``$SELFAUTOPARENT/etc/passwd`` would read ``/etc/passwd``;
- figures (``tpcheck book``) are PDFs tpcheck itself drew into a folder of its own; they are
  copied in under names of the form ``fig-NAME.pdf`` that tpcheck chose;
- every run has a CPU-time, file-size and wall-clock limit.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tpcheck.api import check_text, proof_files, read_proof_file
from tpcheck.errors import TpcheckError
from tpcheck.kernel import Options
from tpcheck.kernel.bounded import RunClock
from tpcheck.latex.document import Citations, render_document
from tpcheck.report import Report
from tpcheck.version import __version__

_BIB_KEY = re.compile(r"@\w+\s*\{\s*([^,\s]+)\s*,")
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_CONTROL_SEQUENCE = re.compile(rb"\\([A-Za-z]+|.)", re.DOTALL)
FIGURE_NAME = re.compile(r"fig-[a-z0-9-]+\.pdf")

MAX_BIB_BYTES = 4 * 1024 * 1024
TEX_CPU_SECONDS = 120  # one pdflatex or bibtex run; the whole library takes about 2 s
TEX_WALL_SECONDS = 300
TEX_MAX_FILE_BYTES = 256 * 1024 * 1024
JOB = "document"  # the build folder's .tex, whatever the PDF is called

# What a bibliography may use: accents, special letters, font switches, dashes and quotes,
# math symbols and \url. None of them reads or writes a file, changes category codes or builds
# a control sequence; the environment names are checked separately (thebibliography only).
BIBLIOGRAPHY_COMMANDS = frozenset(
    # accents and special letters
    ['"', "'", "`", "^", "~", "=", ".", "c", "v", "u", "H", "d", "b", "t", "r", "k",
     "i", "j", "o", "O", "l", "L", "ss", "SS", "aa", "AA", "ae", "AE", "oe", "OE"]
    # escaped specials and spacing
    + ["&", "%", "$", "#", "_", "{", "}", " ", "\n", "\r", "\t", ",", ";", ":", "!", "/", "-",
       "@", "\\", "|"]
    # text
    + ["emph", "em", "textit", "it", "textbf", "bf", "textsc", "sc", "textrm", "rm", "textsf",
       "sf", "texttt", "tt", "textsl", "sl", "textup", "textnormal", "textsuperscript",
       "textsubscript", "mbox", "relax", "ldots", "dots", "textendash", "textemdash",
       "textquoteleft", "textquoteright", "textquotedblleft", "textquotedblright", "url",
       "TeX", "LaTeX", "bibitem", "newblock", "begin", "end"]
    # math
    + ["alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
       "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "varpi", "rho", "varrho",
       "sigma", "varsigma", "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma",
       "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
       "sqrt", "frac", "dfrac", "tfrac", "binom", "infty", "log", "ln", "exp", "sin", "cos",
       "tan", "det", "max", "min", "sup", "inf", "lim", "sum", "prod", "int", "partial",
       "nabla", "pm", "mp", "cdot", "cdots", "times", "le", "leq", "ge", "geq", "ne", "neq",
       "approx", "sim", "simeq", "equiv", "propto", "to", "rightarrow", "mapsto", "in",
       "subset", "subseteq", "cup", "cap", "ell", "prime", "circ", "star", "ast", "otimes",
       "oplus", "langle", "rangle", "left", "right", "big", "Big", "mid", "vert", "Vert", "hat",
       "tilde", "bar", "overline", "vec", "mathcal", "mathbb", "mathrm", "mathbf", "mathit",
       "mathsf", "operatorname", "text"]
)
_ENVIRONMENT = re.compile(rb"\s*\{thebibliography\}")


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


def read_bibliography(path: Path) -> str:
    """The text of a ``.bib`` file: a regular file (not a link to somewhere else), UTF-8, at
    most :data:`MAX_BIB_BYTES`."""
    if path.is_symlink():
        raise TpcheckError(f"{path}: is a symbolic link; tpcheck reads only regular .bib files")
    try:
        if path.stat().st_size > MAX_BIB_BYTES:
            raise TpcheckError(f"{path}: larger than {MAX_BIB_BYTES} bytes")
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TpcheckError(f"{path}: not UTF-8 text ({exc.reason} at byte offset {exc.start})") from exc
    except OSError as exc:
        raise TpcheckError(f"{path}: cannot read: {exc.strerror or exc}") from exc


def bib_keys(bibs: list[Path]) -> set[str]:
    keys: set[str] = set()
    for b in bibs:
        keys |= set(_BIB_KEY.findall(read_bibliography(b)))
    return keys


def bibliography_names(bibs: list[Path]) -> list[str]:
    """The names the ``.bib`` files get in the build folder and in ``\\bibliography{...}``:
    their own where plain (letters, digits, ``-``, ``_``), ``references-N`` otherwise."""
    return [b.stem if _PLAIN_NAME.fullmatch(b.stem) else f"references-{i}"
            for i, b in enumerate(bibs, 1)]


#: One checked file for the printers: (path, sha256, syntax tree, FileReport).
Entry = tuple[str, str, Any, Any]


def check_files(paths: list[str], options: Options | None = None, bibs: list[Path] | None = None,
                after_check: Callable[[Report], None] | None = None,
                ) -> tuple[list[Entry], Report, list[Path], Citations]:
    """Check the proof files under ``paths`` for a printer: (entries of the files that parsed,
    the report, the bibliography files, how to cite). Raises TpcheckError when a cited key is
    missing from the bibliography."""
    files = proof_files(paths)
    texts = [(f, read_proof_file(f)) for f in files]  # every file readable before any check
    bibs = find_bibliographies(files) if bibs is None else bibs
    options = options or Options()
    clock = RunClock(options.run_budget)  # one budget for the whole run, as for check
    report = Report(__version__)
    entries: list[Entry] = []
    for f, text in texts:
        file_report = check_text(text, str(f), options, clock)
        report.files.append(file_report)
        if file_report.tree is not None:
            entries.append((str(f), file_report.sha256, file_report.tree, file_report))
    if after_check is not None:
        after_check(report)
    keys = bib_keys(bibs)
    cited = {k for _, _, tree, _ in entries for t in tree.theorems for k in t.cites}
    missing = sorted(cited - keys)
    if missing and bibs:
        raise TpcheckError("cited but not in the bibliography: " + ", ".join(missing))
    return entries, report, bibs, Citations(resolve=bool(bibs))


def evidence_figure_map(entries: list[Entry], folder: Path | None = None,
                        ) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(path, theorem) -> [(figure file name, caption)] for every figure the checked theorems'
    evidence carries (:mod:`tpcheck.evidence_figures`); drawn into ``folder`` when one is given."""
    from tpcheck.evidence_figures import draw, evidence_figures

    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    for path, _, _, file_report in entries:
        for result in getattr(file_report, "theorems", []):
            for figure in evidence_figures(result):
                if folder is not None:
                    draw(figure, folder)
                found.setdefault((path, result.name), []).append((figure.name, figure.caption))
    return found


def build_latex(paths: list[str], options: Options | None = None, body_only: bool = False,
                bibs: list[Path] | None = None,
                after_check: Callable[[Report], None] | None = None,
                figure_folder: Path | None = None,
                ) -> tuple[str, Report, list[Path]]:
    """(LaTeX source, check report, bibliography files) for the proof files under ``paths``;
    ``after_check`` runs on the report before it is written (the Coq re-check of ``--coq``).
    The figures of width experiments are drawn into ``figure_folder`` when one is given (the
    LaTeX names them either way)."""
    entries, report, bibs, cites = check_files(paths, options, bibs, after_check)
    bib_arg = ",".join(bibliography_names(bibs)) if bibs else None
    figures = evidence_figure_map(entries, figure_folder)
    return render_document(entries, cites, bib_arg, body_only, figures), report, bibs


def drawn_figures(folder: Path) -> dict[str, Path]:
    """The figures tpcheck drew into ``folder``, by name (what :func:`compile_pdf` takes)."""
    return {p.name: p for p in sorted(folder.glob("fig-*.pdf")) if FIGURE_NAME.fullmatch(p.name)}


def unsafe_bibliography_markup(bbl: bytes) -> str | None:
    """The first control sequence (or ``^^`` code) of bibtex's output that is not plain
    bibliographic markup, or None when there is none."""
    if b"^^" in bbl:
        return "^^"
    for m in _CONTROL_SEQUENCE.finditer(bbl):
        word = m.group(1).decode("latin-1")
        if word not in BIBLIOGRAPHY_COMMANDS:
            return "\\" + word
        if word in ("begin", "end") and not _ENVIRONMENT.match(bbl, m.end()):
            return "\\" + word + " of an environment other than thebibliography"
    return None


def _where_in(bibs: list[Path], markup: str) -> str:
    """``references/x.bib:12`` for the first line of the .bib files containing ``markup``."""
    needle = markup.split(" ")[0].lower()  # bibtex may have changed the case of a title
    for b in bibs:
        for number, line in enumerate(read_bibliography(b).split("\n"), 1):
            if needle in line.lower():
                return f"{b}:{number}"
    return ", ".join(map(str, bibs))


def _tex_environment(build: Path) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": str(build), "LC_ALL": "C",
           "openin_any": "p", "openout_any": "p", "shell_escape": "f"}
    for name in ("TMPDIR", "SOURCE_DATE_EPOCH", "FORCE_SOURCE_DATE"):  # reproducible PDFs
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def _limit_resources() -> None:
    # SIGXCPU at the soft limit, SIGKILL a little later should it be caught
    resource.setrlimit(resource.RLIMIT_CPU, (TEX_CPU_SECONDS, TEX_CPU_SECONDS + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (TEX_MAX_FILE_BYTES, TEX_MAX_FILE_BYTES))


def _run(cmd: list[str], build: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(cmd, cwd=build, env=_tex_environment(build), stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=TEX_WALL_SECONDS,
                              preexec_fn=_limit_resources)
    except subprocess.TimeoutExpired as exc:
        raise TpcheckError(f"{cmd[0]} did not finish within {TEX_WALL_SECONDS} s") from exc


def _latex_pass(latex: list[str], build: Path, name: str) -> str:
    """One pdflatex run in ``build``; its log."""
    out = _run(latex, build)
    log = build / (JOB + ".log")
    text = log.read_bytes().decode("utf-8", "replace") if log.exists() else ""
    if out.returncode < 0:
        raise TpcheckError(f"pdflatex was stopped by {signal.Signals(-out.returncode).name} on "
                           f"{name} (limits: {TEX_CPU_SECONDS} s of CPU time, "
                           f"{TEX_MAX_FILE_BYTES} bytes a file)")
    if out.returncode != 0:
        tail = text[-3000:] or out.stdout.decode("utf-8", "replace")[-3000:]
        raise TpcheckError(f"pdflatex failed on {name}:\n{tail}")
    return text


def compile_pdf(tex: str, bibs: list[Path], out_pdf: Path,
                figures: dict[str, Path] | None = None) -> Path:
    """Compile ``tex`` to ``out_pdf`` (halting on the first error) in a fresh folder, as the
    module's docstring says; undefined references or citations are errors. ``figures`` maps
    the names the document includes (``fig-NAME.pdf``) to PDFs tpcheck drew. Raises
    TpcheckError when TeX is not installed, the bibliography is not plain, or the run fails."""
    return compile_pdf_with_log(tex, bibs, out_pdf, figures)[0]


def compile_pdf_with_log(tex: str, bibs: list[Path], out_pdf: Path,
                         figures: dict[str, Path] | None = None) -> tuple[Path, str]:
    """:func:`compile_pdf`, returning the last pdflatex log beside the PDF's path."""
    out_pdf = Path(out_pdf)
    if out_pdf.is_dir():
        raise TpcheckError(f"{out_pdf}: is a folder")
    if not out_pdf.parent.is_dir():
        raise TpcheckError(f"{out_pdf.parent}: no such folder")
    figures = figures or {}
    for figure_name, figure in figures.items():
        if not FIGURE_NAME.fullmatch(figure_name) or figure.is_symlink() or not figure.is_file():
            raise TpcheckError(f"figure {figure_name!r}: not a figure tpcheck drew")
    pdflatex, bibtex = shutil.which("pdflatex"), shutil.which("bibtex")
    if pdflatex is None or (bibs and bibtex is None):
        raise TpcheckError("TeX is not installed (need pdflatex and bibtex); "
                           "write the LaTeX with -o OUT.tex instead")
    latex = [pdflatex, "-no-shell-escape", "-halt-on-error", "-interaction=nonstopmode",
             "-file-line-error", JOB + ".tex"]
    with tempfile.TemporaryDirectory(prefix="tpcheck-latex-") as folder:
        build = Path(folder)
        (build / (JOB + ".tex")).write_text(tex, encoding="utf-8")
        for name, b in zip(bibliography_names(bibs), bibs, strict=True):
            (build / (name + ".bib")).write_text(read_bibliography(b), encoding="utf-8")
        for figure_name, figure in figures.items():
            shutil.copyfile(figure, build / figure_name)
        log = _latex_pass(latex, build, out_pdf.name)
        if bibs:
            _run([bibtex, JOB], build)  # its failures show as undefined citations below
            bbl = build / (JOB + ".bbl")
            unsafe = unsafe_bibliography_markup(bbl.read_bytes()) if bbl.exists() else None
            if unsafe is not None:
                raise TpcheckError(
                    f"{_where_in(bibs, unsafe)}: the bibliography uses {unsafe}; tpcheck gives "
                    "TeX only plain bibliographic markup (accents, special letters, font "
                    "commands, math symbols, \\url)")
            log = _latex_pass(latex, build, out_pdf.name)
        log = _latex_pass(latex, build, out_pdf.name)
        for _ in range(2):  # hyperref, the contents or the bibliography may move labels once more
            if "Rerun to get" not in log and "Label(s) may have changed" not in log:
                break
            log = _latex_pass(latex, build, out_pdf.name)
        problems = re.findall(r"(?:Citation|Reference) `[^']+' on page \d+ undefined", log)
        if problems or "There were undefined references" in log:
            raise TpcheckError(f"undefined references in {out_pdf.name}: " + "; ".join(problems[:5]))
        shutil.copyfile(build / (JOB + ".pdf"), out_pdf)
    return out_pdf, log
