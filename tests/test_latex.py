"""LaTeX output: faithful expressions, honest verdicts, snapshots, PDFs of the whole library."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tpcheck import check
from tpcheck.kernel import Options
from tpcheck.lang.parser import parse, parse_expression
from tpcheck.latex import render_theorem, to_latex
from tpcheck.latex.document import LINE_WIDTH, Citations, inline_tex, statement_tex
from tpcheck.latex.expressions import tex_width, to_latex_lines
from tpcheck.latex_build import build_latex, compile_pdf, compile_pdf_with_log

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


NESTED = ("3/2 * erf_dual(3/2 * erf_dual(8/5, 8/5, 8/5) + 1/10, 3/2 * erf_dual(8/5, 8/5, 8/5) + 1/10, "
          "3/2 * erf_dual(8/5, 8/5, 3/5) + 1/10) + 1/10")
TENSOR_PROGRAMS = Path(__file__).parent.parent / "proofs" / "tensor_programs.tp"
OVERFULL_LIMIT_PT = 20.0


def test_width_estimates_follow_what_is_printed():
    assert tex_width("abcdefghij") == pytest.approx(53.4, rel=0.1)  # pdflatex: 53.4pt
    assert tex_width(r"\frac{3}{2}\, \mathit{erf}_{\mathrm{dual}}\left(\frac{8}{5}, \frac{8}{5}, "
                     r"\frac{3}{5}\right) + \frac{1}{10}") == pytest.approx(119.6, rel=0.15)
    assert tex_width(r"by expanding the power of the sum over set partitions; \verdict{proved}",
                     math=False) == pytest.approx(305.3, rel=0.1)


def test_a_short_expression_is_one_line_and_a_long_one_breaks_between_arguments():
    short = parse_expression("E[Z^4] + 2")
    assert to_latex_lines(short, 400) == [to_latex(short)]
    lines = to_latex_lines(parse_expression(NESTED), 200)
    assert len(lines) > 1 and all(tex_width(line) <= 200 for line in lines)
    assert lines[0].count(r"\biggl(") == 1 and lines[-1].endswith(r"\frac{1}{10}")
    assert r"\left(" not in lines[0].split(r"\biggl(")[0]  # no \left( left open across lines
    for line in lines:
        assert line.count(r"\left(") == line.count(r"\right)")
    total = parse_expression(" + ".join(f"x{i}^2" for i in range(60)))
    rows = to_latex_lines(total, 150)
    assert len(rows) > 3 and all(row.startswith("{}+ ") for row in rows[1:])


def test_long_displays_break_or_scale_and_short_ones_keep_their_layout():
    tree = parse(TENSOR_PROGRAMS.read_text())
    theorems = {t.name: t for t in tree.theorems}
    for theorem in ("mlp_nngp_erf", "mlp_nngp_erf_value"):
        tex = render_theorem(theorems[theorem], None, Citations())
        assert r"\begin{multline*}" in tex, theorem
        derivation = tex[tex.index(r"\begin{align*}"):tex.index(r"\end{align*}")]
        rows = derivation.split("\\\\\n")
        assert len(rows) > 3, theorem  # the nested erf_dual(...) is broken over rows
        for row in rows:
            formula = row.split(" && ")[0]
            assert r"\fitmath" in formula or tex_width(formula) <= LINE_WIDTH, row
    small = render_theorem(theorems["mlp_nngp_identity"], None, Citations())
    assert r"\[ " in small and "multline" not in small and r"\parbox" not in small


def test_long_formulas_in_running_text_get_places_to_break():
    law = parse_expression("[[1, a, 0, 0, 0, b], [a, 1, 0, 0, 0, 0], [0, 0, 1, c, 0, 0], "
                           "[0, 0, c, 1, 0, 0], [0, 0, 0, 0, 1, 0], [b, 0, 0, 0, 0, 1]]")
    assert r"\allowbreak" in inline_tex(law) and r"\left(\left(" not in inline_tex(law)
    assert inline_tex(parse_expression("x + 1")) == "x + 1"
    assert statement_tex("$x = 0.60570550960215882558$") == (
        r"$x = 0.60570\allowbreak 55096\allowbreak 02158\allowbreak 82558$")


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


def overfull_boxes(log: str) -> list[float]:
    """The overflows (points) of the overfull boxes pdflatex reported."""
    return [float(m) for m in re.findall(r"Overfull \\[hv]box \(([\d.]+)pt too (?:wide|high)\)", log)]


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_TEX, reason="TeX (latexmk or pdflatex) is not installed")
def test_tensor_programs_fit_the_page(tmp_path):
    tex, _, bibs = build_latex([str(TENSOR_PROGRAMS)], Options(witnesses=False))
    _, log = compile_pdf_with_log(tex, bibs, tmp_path / "tensor_programs.pdf")
    overfull = [o for o in overfull_boxes(log) if o > OVERFULL_LIMIT_PT]
    assert overfull == [], re.findall(r"Overfull.*\n.*\n.*", log)
    assert "LaTeX Warning" not in log
    loose = [int(b) for b in re.findall(r"Underfull \\hbox \(badness (\d+)\)", log)]
    assert all(b <= 2000 for b in loose), loose  # a line a little loose, never a gap


def test_a_limit_law_prints_as_the_declarations_do():
    from tpcheck.lang.parser import parse
    from tpcheck.latex.expressions import to_latex

    tree = parse('theorem t\n  "x"\n  let n : positive integer\n  claim x ~> Normal(0, 1) as n -> oo\n'
                 'proof\n  x\n    ~> Normal(0, 1) as n -> oo    by moment_method\nqed\n')
    assert to_latex(tree.theorems[0].claim.rhs).startswith(r"\mathcal{N}\left(")
