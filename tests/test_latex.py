"""LaTeX output: faithful expressions, honest verdicts, snapshots, PDFs of the whole library."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tpcheck import check
from tpcheck.kernel import Options
from tpcheck.lang.parser import parse_expression
from tpcheck.latex import to_latex
from tpcheck.latex_build import build_latex, compile_pdf

SNAPSHOTS = Path(__file__).parent / "snapshots"


def test_expressions_are_printed_as_written_not_simplified():
    assert to_latex(parse_expression("x + 0")) == "x + 0"
    assert to_latex(parse_expression("(2k)!/(2^k * k!)")) == r"\frac{\left(2k\right)!}{{2}^{k}\, k!}"
    assert to_latex(parse_expression("E[Z^4]")) == r"\mathbb{E}\left[{Z}^{4}\right]"
    assert to_latex(parse_expression("m4 - 3")) == "m_{4} - 3"
    assert to_latex(parse_expression("sigma^2/eps")) == r"\frac{{\sigma}^{2}}{\varepsilon}"
    assert to_latex(parse_expression("catalan(k)")) == "C_{k}"
    assert to_latex(parse_expression("-5/2")) == r"-\frac{5}{2}"


def test_body_snapshot():
    tex, report, _ = build_latex([str(SNAPSHOTS / "small.tp")], Options(witnesses=False),
                                 body_only=True)
    expected = SNAPSHOTS / "small.body.tex"
    if os.environ.get("TPCHECK_UPDATE_SNAPSHOTS") == "1":
        expected.write_text(tex)
    assert tex == expected.read_text()


def test_failures_are_shown_not_dropped():
    tex, report, _ = build_latex([str(SNAPSHOTS / "small.tp")], Options(witnesses=False))
    assert r"\failed{refuted}" in tex and "Counterexample" in tex
    assert r"\failed{undecided}" in tex and "algebra:" in tex
    assert r"\verdict{verified} for $k = 0, \dots, 6$" in tex
    assert r"\cite{isserlis1918}" in tex and r"\bibliography{tpcheck}" in tex
    assert "sha256" in tex and "Evidence" in tex
    assert report.exit_code == 1


def test_evidence_appendix_reports_witness_numbers_once_in_a_table():
    tex, _, _ = build_latex([str(SNAPSHOTS / "small.tp")], Options())
    appendix = tex[tex.index(r"\section{Evidence}"):]
    assert r"line & rule & verdict & instances or range & digits & Monte-Carlo & seed & $z$" in appendix
    row = next(line for line in appendix.split("\n") if line.startswith("10 & "))  # by gaussian_moment
    cells = row.split(" & ")
    assert cells[4] == "30" and cells[5].isdigit() and cells[6].isdigit() and cells[7].startswith("$")
    assert "(samples" not in appendix and "{'" not in appendix and "[{" not in appendix
    assert appendix.count(r"\emph{Rests on}") == 4  # one line a theorem


def test_statements_are_typeset_as_mathematics():
    tex, _, _ = build_latex([str(SNAPSHOTS / "small.tp")], Options(witnesses=False))
    assert r"The fourth moment of $\mathcal{N}(0, s^2)$ is $3 s^4$ (Isserlis)" in tex
    assert r"plain text keeps s{\ttfamily\textasciicircum}2 $\to$ 3." in tex
    assert r"\usepackage[T1]{fontenc}" in tex


def test_notebook_display():
    report = check(SNAPSHOTS / "small.tp", Options(witnesses=False))
    view = report.theorem("fourth_moment")
    assert view._repr_latex_().startswith("$$\\begin{aligned}")
    assert "PROVED" in view._repr_html_()
    assert "REFUTED" in report._repr_html_() and report._repr_latex_().startswith("$$")


HAVE_TEX = bool(shutil.which("latexmk") or shutil.which("pdflatex"))
PROOF_FILES = sorted((Path(__file__).parent.parent / "proofs").glob("*.tp"))


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_TEX, reason="TeX (latexmk or pdflatex) is not installed")
@pytest.mark.parametrize("path", PROOF_FILES, ids=lambda p: p.stem)
def test_every_proof_file_compiles_to_pdf(path, tmp_path):
    tex, report, bibs = build_latex([str(path)], Options(witnesses=False))
    assert bibs, "the proofs' bibliography was not found"
    pdf = compile_pdf(tex, bibs, tmp_path / f"{path.stem}.pdf")  # raises on undefined refs
    assert pdf.read_bytes()[:5] == b"%PDF-"


@pytest.mark.skipif(not HAVE_TEX, reason="TeX (latexmk or pdflatex) is not installed")
def test_undefined_citation_fails(tmp_path):
    src = tmp_path / "cites.tp"
    src.write_text((SNAPSHOTS / "small.tp").read_text().replace("isserlis1918", "nosuchkey2099"))
    refs = tmp_path / "references"
    refs.mkdir()
    shutil.copy(Path(__file__).parent.parent / "references" / "tpcheck.bib", refs)
    from tpcheck.errors import TpcheckError

    with pytest.raises(TpcheckError, match="nosuchkey2099"):
        build_latex([str(src)], Options(witnesses=False))
