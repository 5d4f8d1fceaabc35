"""``tpcheck book``: the proof library as one book.

A title page, a table of contents, the verdict summary, one chapter per topic in the order of
the theory (Gaussian moments, the law of large numbers, the central limit theorem, random
matrices and the semicircle law, Marchenko-Pastur, Tensor Programs, NNGP and NTK,
abc-parametrizations and muP), each with its theorems, their checked derivations and the
figures the simulation mirrors draw (:mod:`tpcheck.book_figures`); then the evidence appendix
and the bibliography.

Files are mapped to chapters by name (:data:`FILE_CHAPTERS`, with a few theorems placed by
name, :data:`THEOREM_CHAPTERS`); a file the map does not know goes to a last chapter, so any
folder of proofs makes a book. The PDF is compiled by :func:`tpcheck.latex_build.compile_pdf`,
with all of its hardening: TeX reads only what tpcheck wrote and the figures it drew.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tpcheck.book_figures import Figure
from tpcheck.errors import TpcheckError, printable
from tpcheck.kernel import Options, Verdict, verdict_label
from tpcheck.kernel.check import DEFAULT_RUN_BUDGET
from tpcheck.latex.document import (
    EVIDENCE_INTRO,
    PREAMBLE,
    Citations,
    evidence_section,
    label,
    render_theorem,
    statement_problems,
    statement_tex,
    text,
)
from tpcheck.latex_build import (
    Entry,
    bib_keys,
    bibliography_names,
    check_files,
    compile_pdf_with_log,
    drawn_figures,
    evidence_figure_map,
)
from tpcheck.report import Report
from tpcheck.version import __version__


@dataclass(frozen=True)
class Chapter:
    """A chapter of the book: its key, title, a paragraph of introduction (LaTeX written here,
    with the citation keys it uses) and the proof files (by stem) it holds."""

    key: str
    title: str
    intro: str
    cites: tuple[str, ...] = ()
    files: tuple[str, ...] = ()


CHAPTERS: tuple[Chapter, ...] = (
    Chapter("gaussian", "Gaussian moments",
            r"Moments of Gaussian variables are counts of pairings (Isserlis, Wick); Stein's lemma "
            r"turns $\mathbb{E}[Z f(Z)]$ into $\mathbb{E}[f'(Z)]$. Everything later reduces to "
            r"these identities.", ("isserlis1918", "stein1981"),
            ("gaussian_moments", "independence", "combinatorics")),
    Chapter("lln", "The law of large numbers",
            r"The mean of $n$ iid variables concentrates: its variance is $\sigma^2/n$, so "
            r"Chebyshev gives convergence in probability, and the fourth moment, of order "
            r"$1/n^2$, the strong law.", ("billingsley1995",), ("law_of_large_numbers",)),
    Chapter("clt", "The central limit theorem",
            r"The moments of $S = (X_1 + \dots + X_n)/\sqrt{n}$ tend to the Gaussian moments: "
            r"in the expansion over set partitions only pairings survive.", ("billingsley1995",),
            ("clt_moments", "limits")),
    Chapter("semicircle", "Random matrices and the semicircle law",
            r"The normalised trace moments of Wigner matrices tend to the Catalan numbers, the "
            r"moments of the semicircle law: only non-crossing pairings (genus 0) survive.",
            ("wigner1955", "wigner1958", "harer1986", "anderson2010"),
            ("semicircle", "semicircle_density")),
    Chapter("mp", "The Marchenko-Pastur law",
            r"The spectrum of a sample covariance matrix $X X^\top/N$ with $p/N \to \lambda$ has "
            r"the Narayana polynomials as its limiting moments.", ("marchenko1967",)),
    Chapter("tp", "Tensor Programs",
            r"A Tensor Program's vectors have coordinates that become iid in the infinite-width "
            r"limit, with a law computed by the Master Theorem; random-matrix limits follow.",
            ("yang2019tp1", "yang2020tp2", "yang2020tp3"), ("tensor_programs",)),
    Chapter("nngp", "NNGP and NTK",
            r"At infinite width a randomly initialised network is a Gaussian process (NNGP) and "
            r"its training under gradient descent follows the neural tangent kernel.",
            ("williams1997", "cho2009", "lee2018", "jacot2018"), ("neural_kernels",)),
    Chapter("abc", "abc-parametrizations and muP",
            r"How the multipliers, initialisations and learning rates scale with width decides "
            r"whether features learn; the maximal update parametrization (muP) lets a learning "
            r"rate tuned at one width transfer to others.", ("yang2021tp4", "yang2022tp5"),
            ("abc_parametrizations",)),
)
#: The last chapter: the files no chapter names.
OTHER = Chapter("other", "Other results", "Proof files that no chapter of the book names.")

#: Theorems of the library's files that belong to another chapter than their file's.
THEOREM_CHAPTERS = {
    "catalan_closed_form": "semicircle", "catalan_values": "semicircle",
    "narayana_row_sums_are_catalan": "mp", "catalan_segner_recurrence": "semicircle",
    "goe_fourth_moment_limit": "semicircle", "wishart_second_moment": "mp",
    "marchenko_pastur_moments": "mp", "marchenko_pastur_moments_numerically": "mp",
    "marchenko_pastur_by_tensor_programs": "mp", "mlp_nngp_relu": "nngp",
    "mlp_nngp_relu_value": "nngp", "mlp_nngp_erf": "nngp", "mlp_nngp_erf_value": "nngp",
    "mlp_nngp_identity": "nngp", "residual_block": "nngp",
}
FILE_CHAPTERS = {stem: c.key for c in CHAPTERS for stem in c.files}

BOOK_PREAMBLE = (PREAMBLE.replace(r"\documentclass[11pt]{article}", r"\documentclass[11pt,oneside]{book}")
                 .replace(r"\newtheorem{theorem}{Theorem}", r"\newtheorem{theorem}{Theorem}[chapter]")
                 + "\\usepackage{longtable}\n\\usepackage[nottoc]{tocbibind}\n")


@dataclass
class BookResult:
    """What :func:`build_book` made: the PDF (None with ``pdf=False``), the LaTeX source, the
    check report, the figures drawn, the last pdflatex log and the seconds each part took."""

    pdf: Path | None
    tex: str
    report: Report
    figures: list[str] = field(default_factory=list)
    log: str = ""
    seconds: dict[str, float] = field(default_factory=dict)


def chapter_of(path: str, theorem: str) -> str:
    """The chapter key of a theorem of the file ``path``."""
    stem = Path(path).stem
    if stem not in FILE_CHAPTERS:
        return OTHER.key
    return THEOREM_CHAPTERS.get(theorem, FILE_CHAPTERS[stem])


def _file_order(entries: list[Entry]) -> list[Entry]:
    """The files known to the map in the order of its chapters, then the others by path."""
    position = {stem: i for i, stem in enumerate(s for c in CHAPTERS for s in c.files)}
    return sorted(entries, key=lambda e: (position.get(Path(e[0]).stem, len(position)), e[0]))


def _figure_tex(figure: Figure) -> str:
    """A figure with its caption; the caption's ``$...$`` pass the statements' checks."""
    width = r"\textwidth" if figure.wide else r"0.78\textwidth"
    return (r"\begin{figure}[tbp]\centering" + "\n"
            + rf"\includegraphics[width={width}]{{{figure.name}}}" + "\n"
            + rf"\caption{{{statement_tex(figure.caption)}}}\label{{fig:{label(figure.name)}}}" + "\n"
            + r"\end{figure}")


def _heading(path: str) -> str:
    """A file's path as a section title: typewriter (medium weight, which the fonts have) in
    the text, plain characters in the PDF's bookmarks."""
    bookmark = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "./-") else " " for ch in path)
    return rf"\texorpdfstring{{\textmd{{\texttt{{{text(path)}}}}}}}{{{bookmark}}}"


def _summary_tex(report: Report, chapters: dict[str, list[tuple[str, str]]],
                 titles: dict[str, str]) -> list[str]:
    """The verdict summary: the counts, then one row a theorem, chapter by chapter."""
    s = report.summary()
    counts = ", ".join(f"{s[v.value]} {v.value.lower()}" for v in Verdict if s[v.value])
    errors = f"; {s['errors']} file errors" if s["errors"] else ""
    results = {t.name: t for t in report.theorems}
    out = [r"\chapter*{Summary of verdicts}\addcontentsline{toc}{chapter}{Summary of verdicts}",
           rf"\noindent {s['theorems']} theorems: {counts}{errors}. A theorem's verdict is the "
           r"weakest of its steps' verdicts: \verdict{proved} for every value of its variables, "
           r"\verdict{verified} on the range shown, \weak{corroborated} in floating point or by "
           r"simulation only.",
           r"\begin{center}\small\begin{longtable}{@{}llr@{}}\toprule",
           r"theorem & verdict & page \\ \midrule\endhead"]
    for key, names in chapters.items():
        if not names:
            continue
        out.append(rf"\multicolumn{{3}}{{@{{}}l}}{{\emph{{{titles[key]}}}}} \\")
        for name, _path in names:
            r = results.get(name)
            verdict = (text(verdict_label(r.verdict, [st.evidence for st in r.steps]))
                       if r is not None else "not checked")
            out.append(rf"\quad\hyperref[thm:{label(name)}]{{\texttt{{{text(name)}}}}} & {verdict} & "
                       rf"\pageref{{thm:{label(name)}}} \\")
    out.append(r"\bottomrule\end{longtable}\end{center}")
    return out


def render_book(entries: list[Entry], report: Report, cites: Citations, bib: str | None,
                keys: set[str], figures: list[Figure],
                evidence: dict[tuple[str, str], list[tuple[str, str]]] | None = None) -> str:
    """The book's LaTeX, with the figures drawn (each in its chapter) and, under a theorem, the
    figures of its own evidence (``evidence``: (path, theorem) -> [(file name, caption)])."""
    chapters = [*CHAPTERS, OTHER]
    titles = {c.key: c.title for c in chapters}
    placed: dict[str, list[tuple[str, str]]] = {c.key: [] for c in chapters}
    by_name = {}
    for path, sha, tree, file_report in _file_order(entries):
        results = {r.name: r for r in file_report.theorems}
        for t in tree.theorems:
            placed[chapter_of(path, t.name)].append((t.name, path))
            by_name[t.name] = (t, results.get(t.name), path, sha)
    errors = [(f.path, e) for f in report.files for e in f.errors]
    body = [BOOK_PREAMBLE, r"\title{Large-$N$ limits, checked\\[1ex]\large the tpcheck proof library}",
            rf"\author{{tpcheck {text(__version__)}}}", r"\date{}", r"\begin{document}",
            r"\frontmatter", r"\pagenumbering{Alph}\maketitle\pagenumbering{roman}",
            r"\tableofcontents",
            *_summary_tex(report, placed, titles), r"\mainmatter"]
    appendix = []
    for c in chapters:
        mine = [f for f in figures if f.chapter == c.key]
        if c.key == OTHER.key and not placed[c.key] and not any(
                chapter_of(path, "") == c.key for path, _ in errors):
            continue
        body.append(rf"\chapter{{{c.title}}}\label{{ch:{c.key}}}")
        cite = cites.cite([k for k in c.cites if k in keys]) if keys else ""
        body.append(c.intro + cite)
        if not placed[c.key]:
            body.append(r"\par No theorem of the checked files belongs here; the figures show "
                        r"the simulations of this chapter.")
        body.extend(_figure_tex(f) for f in mine)
        last_path = None
        if placed[c.key]:
            appendix.append(rf"\section{{{c.title}}}")
        for theorem_name, path in placed[c.key]:
            t, result, _, sha = by_name[theorem_name]
            if path != last_path:
                body.append(rf"\section{{{_heading(path)}}}")
                last_path = path
            body.append(render_theorem(t, result, cites, (evidence or {}).get((path, t.name))))
            problems = statement_problems(t.statement)
            if problems:
                body.append(r"\par\noindent\weak{statement}: shown as written, not typeset: "
                            + text("; ".join(problems)) + ".")
            if result is not None:
                appendix.append(evidence_section(t, result, path, sha))
        for path, e in errors:
            if chapter_of(path, "") == c.key:
                body.append(r"\par\noindent\failed{error} in \texttt{" + text(path) + "}: "
                            r"\texttt{" + text(e.splitlines()[0]) + "}")
    body += [r"\appendix", r"\chapter{Evidence}\label{ch:evidence}", EVIDENCE_INTRO, *appendix]
    body.append(r"\backmatter")
    if bib is not None:
        body += [r"\bibliographystyle{plain}", rf"\bibliography{{{bib}}}"]
    body.append(r"\end{document}")
    return "\n\n".join(part for part in body if part) + "\n"


def build_book(paths: list[str], output: str | Path | None, options: Options | None = None,
               figures: bool = True, tex_output: str | Path | None = None,
               pdf: bool = True) -> BookResult:
    """Check the proof files under ``paths``, draw the figures, write the book's LaTeX (to
    ``tex_output`` if given) and compile it to ``output`` (with ``pdf``)."""
    seconds: dict[str, float] = {}
    start = time.monotonic()
    entries, report, bibs, cites = check_files(paths, options)
    seconds["check"] = time.monotonic() - start
    keys = bib_keys(bibs)
    bib_arg = ",".join(bibliography_names(bibs)) if bibs else None
    with tempfile.TemporaryDirectory(prefix="tpcheck-figures-") as folder:
        drawn = []
        if figures:
            from tpcheck.book_figures import draw_figures

            start = time.monotonic()
            drawn = draw_figures(Path(folder))
            seconds["figures"] = time.monotonic() - start
        evidence = evidence_figure_map(entries, Path(folder) if figures else None)
        tex = render_book(entries, report, cites, bib_arg, keys, drawn, evidence)
        if tex_output is not None:
            Path(tex_output).write_text(tex, encoding="utf-8")
        out_pdf, log = None, ""
        if pdf:
            start = time.monotonic()
            out_pdf, log = compile_pdf_with_log(tex, bibs, Path(output or "tpcheck-book.pdf"),
                                                {**drawn_figures(Path(folder)),
                                                 **{f.name: f.path for f in drawn}})
            seconds["pdflatex"] = time.monotonic() - start
    return BookResult(out_pdf, tex, report, [f.name for f in drawn], log, seconds)


def _budget(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {value!r}") from None
    if not 0 < seconds <= 86_400:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 86400 seconds, got {value!r}")
    return seconds


def add_book_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``tpcheck book`` to the CLI's subcommands; its handler is :func:`book_command`."""
    p = subparsers.add_parser(
        "book", help="check a proof library and write it as one book (PDF)",
        description="Check the proof files and write one PDF: title page, contents, the verdict "
                    "summary, one chapter per topic with its theorems and figures drawn by the "
                    "simulation mirrors (seeded, small sizes), the evidence appendix and the "
                    "bibliography. Exit code as for check.")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("-o", "--output", metavar="BOOK.pdf", default="tpcheck-book.pdf",
                   help="the PDF to write (default tpcheck-book.pdf)")
    p.add_argument("--tex", metavar="BOOK.tex", help="also write the LaTeX source")
    p.add_argument("--no-figures", action="store_true", help="leave out the figures (faster)")
    p.add_argument("--no-witnesses", action="store_true",
                   help="skip the mpmath and Monte-Carlo witnesses (faster; the appendix says less)")
    p.add_argument("--run-budget", type=_budget, default=DEFAULT_RUN_BUDGET, metavar="SECONDS",
                   help=f"CPU-time budget of the whole check, up to 86400 s (default "
                        f"{DEFAULT_RUN_BUDGET:g} s)")
    return p


def book_command(args: argparse.Namespace) -> int:
    """The handler of ``tpcheck book``: build the book, say where it is, exit as check does."""
    output = Path(args.output).with_suffix(".pdf")
    if output.is_dir():
        raise TpcheckError(f"{output}: is a folder")
    result = build_book(args.paths, output, Options(run_budget=args.run_budget,
                                                    witnesses=not args.no_witnesses),
                        figures=not args.no_figures, tex_output=args.tex)
    print(printable(f"wrote {output}"), file=sys.stderr)
    return result.report.exit_code
