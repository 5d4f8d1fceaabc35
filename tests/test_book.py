"""The book (``tpcheck book``) and the statements' mathematics: formulas between dollars are
typeset when they use only harmless commands and shown as text otherwise; the whole library
builds into one PDF whose text has no font-encoding slips, no Python reprs and no undefined
references. The tests that run pdflatex on the whole book are slow."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tpcheck.book import CHAPTERS, OTHER, add_book_parser, build_book, chapter_of, render_book
from tpcheck.kernel import Options
from tpcheck.latex.document import (
    UnsafeMath,
    math_tex,
    plain_detail,
    statement_parts,
    statement_plain,
    statement_problems,
    statement_tex,
    text,
)
from tpcheck.latex_build import check_files

ROOT = Path(__file__).parent.parent
PROOFS = ROOT / "proofs"
HAVE_TEX = bool(shutil.which("pdflatex") and shutil.which("bibtex"))
HAVE_POPPLER = bool(shutil.which("pdftotext") and shutil.which("pdftoppm"))
needs_tex = pytest.mark.skipif(not (HAVE_TEX and HAVE_POPPLER),
                               reason="needs pdflatex, bibtex, pdftotext and pdftoppm")

# ---- the statements' mathematics (fast) -----------------------------------------------------

SAFE = [
    (r"\frac{1}{n} x^\top W^{2k} x \to C_k", r"\frac{1}{n} x^\top W^{2k} x \to C_k"),
    (r"\mathbb{E}[S^{2j}] \to (2j-1)!!", r"\mathbb{E}[S^{2j}] \to (2j-1)!!"),
    (r"\Pr(|\bar{X}_n - \mu| \ge \varepsilon)", r"\Pr(|\bar{X}_n - \mu| \ge \varepsilon)"),
    (r"\left( \sqrt{n} \right)^2", r"\left( \sqrt{n} \right)^2"),
    (r"\operatorname{tr} M^{4}", r"\operatorname{tr} M^{4}"),
    (r" \sum_{i=0}^{m} C_i\, C_{m-i} ", r"\sum_{i=0}^{m} C_i\, C_{m-i}"),
]

UNSAFE = [
    (r"\input{/etc/passwd}", r"\input is not among"),
    (r"\def\x{}", r"\def is not among"),
    (r"^^5cinput{/etc/passwd}", "^^ (a character code)"),
    (r"x^^5c", "^^ (a character code)"),
    (r"\csname input\endcsname", r"\csname"),
    (r"\write18{rm -rf /}", r"\write"),
    (r"\catcode`\^=7", r"\catcode"),
    (r"\immediate\openout1=x", r"\immediate"),
    (r"\text{\input{x}}", r"\input"),
    (r"\text{#1}", "character '#'"),
    (r"x % a comment eats the rest", "character '%'"),
    (r"a & b", "character '&'"),
    ("x~y", "character '~'"),
    (r"\frac{1}", r"\frac needs 2"),
    (r"x^", "^ needs an argument"),
    (r"x^2^3", "double superscript"),
    (r"x_1_2", "double subscript"),
    (r"{x", "unbalanced"),
    (r"x}", "unbalanced"),
    (r"\left( x", r"\left without \right"),
    (r"x \right)", r"\right without \left"),
    ("\\", "backslash at the end"),
    (r"\sqrt[3]{x}", r"\sqrt"),
    ("  ", "empty"),
    ("{" * 40 + "x" + "}" * 40, "nested"),
    ("x\u00e9", "character"),
    (r"\\", r"\\ is not among"),
]


@pytest.mark.parametrize(("formula", "tex"), SAFE)
def test_harmless_formulas_are_typeset_as_written(formula, tex):
    assert math_tex(formula) == tex
    assert statement_tex(f"Claim: ${formula}$.") == f"Claim: ${tex}$."


@pytest.mark.parametrize(("formula", "why"), UNSAFE, ids=lambda x: x[:24])
def test_unsafe_formulas_are_refused_and_shown_as_text(formula, why):
    with pytest.raises(UnsafeMath) as info:
        math_tex(formula)
    assert why in str(info.value)
    if formula.endswith("\\"):
        return  # in a statement, a backslash before the closing dollar makes it a dollar sign
    tex = statement_tex(f"Before ${formula}$ after")
    assert tex.startswith("Before \\$") and tex.endswith("\\$ after")
    inner = tex[len("Before \\$"):-len("\\$ after")]
    assert inner == text(formula)
    # Escaped: no backslash begins a command, no brace, caret or dollar is left raw.
    assert not re.search(r"\\(?!textbackslash\{\}|[{}$#%&_]|textasciicircum|textasciitilde|ttfamily)",
                         inner)
    assert "^^" not in tex and statement_problems(f"${formula}$")


def test_text_outside_dollars_is_escaped_and_relations_are_symbols():
    assert statement_tex("a -> b, c <= d, e >= f") == r"a $\to$ b, c $\le$ d, e $\ge$ f"
    tex = statement_tex("s^2 and x_1 and 50% & #1 {x} ~ \\input")
    assert "^" not in tex.replace(r"\textasciicircum", "") and "_" not in tex.replace(r"\_", "")
    assert r"\%" in tex and r"\&" in tex and r"\#" in tex and r"\{x\}" in tex
    assert r"\textbackslash{}input" in tex


def test_dollars_pair_up_and_a_lone_or_escaped_dollar_is_text():
    assert statement_parts("a $x$ b $y$") == [(False, "a "), (True, "x"), (False, " b "), (True, "y")]
    assert statement_tex("costs $5") == r"costs \$5"
    assert statement_tex(r"costs \$5 and $x$") == r"costs \$5 and $x$"
    assert statement_tex("$$") == r"\$\$"  # an empty formula is not display math


def test_statements_read_plainly_in_a_terminal():
    assert statement_plain(r"For every $j \ge 1$, $\mathbb{E}[S^{2j}] \to (2j-1)!!$") == \
        "For every j >= 1, E[S^(2j)] -> (2j-1)!!"
    assert statement_plain(r"$\frac{1}{n} x^\top W^{2k} x \to C_k$") == "(1)/(n) x^T W^(2k) x -> C_k"
    assert statement_plain(r"$\sigma^2/n$ and $\sqrt{n}$") == "sigma^2/n and sqrt(n)"
    assert statement_plain(r"bad $\input{x}$") == r"bad $\input{x}$"  # as written


def test_every_library_statement_is_typeset():
    from tpcheck.lang.parser import parse

    for path in sorted(PROOFS.glob("*.tp")):
        for t in parse(path.read_text()).theorems:
            assert statement_problems(t.statement) == [], (path.name, t.name)
            plain = statement_plain(t.statement)
            assert "$" not in plain and "\\" not in plain, (t.name, plain)


def test_witness_details_lose_their_python_reprs():
    assert plain_detail("not evaluated: {'n': '2'}: iid families") == "not evaluated: n = 2: iid families"
    assert plain_detail("x (digits 30; instances [{}])") == "x (digits 30)"
    assert plain_detail("at {'m3': '1', 'n': '5'}") == "at m3 = 1, n = 5"


def test_the_terminal_report_shows_a_failing_statement_plainly(tmp_path):
    from tpcheck import check

    p = tmp_path / "t.tp"
    p.write_text('theorem t\n  "Wrong: $x^{2} \\to 1$."\n  let x : real\n  claim x = x + 1\n'
                 "proof\n  x\n    = x + 1 by algebra\nqed\n")
    shown = check(p, Options(witnesses=False)).to_text()
    assert "Wrong: x^2 -> 1." in shown and "$" not in shown


# ---- chapters ----------------------------------------------------------------------------


def test_chapters_follow_the_theory_and_every_library_file_has_one():
    assert [c.key for c in CHAPTERS] == ["gaussian", "lln", "clt", "semicircle", "mp", "tp", "nngp",
                                         "abc"]
    for path in PROOFS.glob("*.tp"):
        assert chapter_of(str(path), "any_theorem") != OTHER.key, path.name
    assert chapter_of("proofs/semicircle.tp", "marchenko_pastur_moments") == "mp"
    assert chapter_of("elsewhere/unknown_topic.tp", "marchenko_pastur_moments") == OTHER.key


def test_an_unknown_file_goes_to_the_last_chapter(tmp_path):
    p = tmp_path / "my_new_topic.tp"
    p.write_text('theorem mine\n  "A sum: $\\sum_{j=1}^{k} j$."\n  k in 0..4\n'
                 "  claim sum(j, j = 1..k) = k*(k + 1)/2\nproof\n  sum(j, j = 1..k)\n"
                 "    = k*(k + 1)/2   by eval\nqed\n")
    entries, report, _bibs, cites = check_files([str(p)], Options(witnesses=False), bibs=[])
    tex = render_book(entries, report, cites, None, set(), [])
    assert tex.index(r"\chapter{Other results}") < tex.index(r"\begin{theorem}[\texttt{mine}]")
    assert r"A sum: $\sum_{j=1}^{k} j$." in tex
    assert r"\chapter{Evidence}" in tex


def test_the_book_command_parses():
    parser = argparse.ArgumentParser()
    add_book_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["book", "proofs/", "-o", "b.pdf", "--no-figures"])
    assert args.paths == ["proofs/"] and args.output == "b.pdf" and args.no_figures


# ---- the whole book (slow) -----------------------------------------------------------------


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    out = tmp_path_factory.mktemp("book") / "book.pdf"
    return build_book([str(PROOFS)], out, Options(witnesses=True))


def pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, timeout=120,
                          check=True).stdout.decode("utf-8", "replace")


@pytest.mark.slow
@needs_tex
def test_the_book_builds_with_chapters_figures_and_bibliography(book):
    assert book.pdf is not None and book.pdf.read_bytes()[:5] == b"%PDF-"
    assert book.report.exit_code == 0
    assert len(book.figures) >= 6
    words = re.sub(r"\s+", " ", pdf_text(book.pdf))
    for c in CHAPTERS:
        assert c.title in words, c.title
    for needle in ("Contents", "Summary of verdicts", "Evidence", "Bibliography",
                   "Kolmogorov-Smirnov distance", "fitted log-log slope", "Coord check"):
        assert needle in words, needle


@pytest.mark.slow
@needs_tex
def test_the_books_text_has_no_encoding_slips_or_python_reprs(book):
    words = pdf_text(book.pdf)
    assert "¿" not in words and "¡" not in words
    assert "^(" not in words and "ˆ" not in words
    assert "{'" not in words and "[{" not in words and "{}" not in words
    assert "instances [" not in words
    assert words.count("(samples ") == 0  # the Monte-Carlo numbers are in the tables, once
    from tpcheck.lang.parser import parse

    for path in sorted(PROOFS.glob("*.tp")):
        for t in parse(path.read_text()).theorems:
            for is_formula, piece in statement_parts(t.statement):
                if not is_formula:  # statement text outside math reaches the PDF as written
                    assert "_" not in piece and "^" not in piece, t.name


@pytest.mark.slow
@needs_tex
def test_the_books_log_has_no_undefined_references_or_missing_glyphs(book):
    log = book.log
    assert "undefined" not in log.lower(), re.findall(r".*undefined.*", log, re.I)[:5]
    assert "Missing character" not in log
    assert "Font shape" not in log or "undefined" not in log
    overfull = [float(m) for m in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]
    assert [o for o in overfull if o > 20] == []  # every display fits the line (issue 17)


@pytest.mark.slow
@needs_tex
def test_the_first_pages_render_and_are_not_blank(book, tmp_path):
    np = pytest.importorskip("numpy")
    matplotlib_image = pytest.importorskip("matplotlib.image")
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "3", str(book.pdf),
                    str(tmp_path / "page")], check=True, timeout=120)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == 3
    for page in pages:
        pixels = np.asarray(matplotlib_image.imread(page), dtype=float)
        assert pixels.std() > 0.01, page.name  # not one flat colour


@needs_tex
def test_an_unsafe_statement_is_never_executed_in_the_pdf(tmp_path):
    marker = tmp_path / "MARKER"
    project = tmp_path / "project"
    project.mkdir()
    hostile = (rf"Visible 246813579 $\input{{/etc/passwd}}$ $\def\x{{}}$ $^^5cinput$ "
               rf"$\immediate\write18{{touch {marker}}}$ and $\frac{{1}}{{2}}$")
    (project / "hostile.tp").write_text(
        f'theorem t\n  "{hostile}"\n  let x : real\n  claim x = x\nproof\n  x\n    = x by algebra\nqed\n')
    result = build_book([str(project)], tmp_path / "h.pdf", Options(witnesses=False), figures=False)
    words = pdf_text(result.pdf)
    assert "246813579" in words and "root:" not in words and not marker.exists()
    assert r"\input{/etc/passwd}" in words  # shown as the author wrote it
    assert r"$\frac{1}{2}$" in result.tex
