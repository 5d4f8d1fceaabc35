"""A checked folder cannot make ``tpcheck latex --pdf`` run anything or read a file outside the
build folder: no rc file runs, no shell escape, no file outside reaches the PDF or the output,
and a bibliography with anything but plain markup is refused before TeX reads it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from tpcheck import latex_build as build
from tpcheck.errors import TpcheckError
from tpcheck.kernel import Options
from tpcheck.latex.document import PREAMBLE
from tpcheck.latex_build import bibliography_names, build_latex, compile_pdf

HAVE_TEX = bool(shutil.which("pdflatex") and shutil.which("bibtex"))
needs_tex = pytest.mark.skipif(not HAVE_TEX, reason="TeX (pdflatex and bibtex) is not installed")

# Digits only, so that they come out of a PDF's text in one piece (no kerning between digits).
VISIBLE = "246813579"  # in the proof file's statement: must be in the PDF
SECRET = "7318264905"  # in a file outside the build folder: must never be in the PDF or output
HOSTILE = "864209753"  # typeset by a hostile package file: must never be in the PDF

PROOF = f"""theorem fourth_moment
  "Visible {VISIBLE}."
  cite isserlis1918
  let s : positive real
  let Z ~ Normal(0, s^2)
  claim E[Z^4] = 3s^4
proof
  E[Z^4]
    = 3s^4   by gaussian_moment
qed
"""
ENTRY = """@article{{isserlis1918,
  author  = {{Isserlis, L.}},
  title   = {{{title}}},
  journal = {{Biometrika}},
  year    = {{1918}},
  note    = {{{note}}}
}}
"""
NOTE_LINE = 6


def pdf_text(pdf: Path) -> str:
    """The PDF's text: pdftotext where installed, else the strings of its inflated streams."""
    if shutil.which("pdftotext"):
        out = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, timeout=60)
        return out.stdout.decode("utf-8", "replace")
    data = pdf.read_bytes()
    chunks = []
    for m in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.DOTALL):
        try:
            chunks.append(zlib.decompress(m.group(1)))
        except zlib.error:
            chunks.append(m.group(1))
    return b"".join(b"".join(re.findall(rb"\((.*?)(?<!\\)\)", c)) for c in chunks).decode("latin-1")


@pytest.fixture
def secret(tmp_path):
    """A file outside every build folder whose content must not leak."""
    outside = tmp_path / "outside"
    outside.mkdir()
    path = outside / "secret.txt"
    path.write_text(f"{SECRET}\n")
    return path


def make_project(root: Path, title: str = "On a formula", note: str = "Plain note.") -> Path:
    project = root / "project"
    (project / "references").mkdir(parents=True)
    (project / "proof.tp").write_text(PROOF)
    (project / "references" / "refs.bib").write_text(ENTRY.format(title=title, note=note))
    return project


def run_latex(project: Path, tmp: Path, *extra: str, env: dict[str, str] | None = None):
    tmp.mkdir(exist_ok=True)
    environment = {"PATH": "/usr/local/bin:/usr/bin:/bin", "TMPDIR": str(tmp), **(env or {})}
    if "PYTHONPATH" in os.environ:
        environment["PYTHONPATH"] = os.environ["PYTHONPATH"]
    environment["PATH"] = str(Path(sys.executable).parent) + ":" + environment["PATH"]
    return subprocess.run([sys.executable, "-m", "tpcheck.cli", "latex", "--pdf", "--no-witnesses",
                           *extra, "proof.tp"], cwd=project, env=environment, capture_output=True,
                          text=True, timeout=600)


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@needs_tex
def test_rc_files_packages_and_texinputs_of_the_checked_folder_are_never_used(tmp_path):
    project = make_project(tmp_path)
    marker = tmp_path / "MARKER"
    perl = f'system("touch {marker}");\n'
    hostile_sty = (r"\ProvidesPackage{geometry}\AtBeginDocument{" + HOSTILE
                   + r"\immediate\write18{touch " + str(marker) + "}}\n")
    (project / "tpcheck-proofs.build").mkdir()
    for rc in ["tpcheck-proofs.build/latexmkrc", "tpcheck-proofs.build/.latexmkrc", "latexmkrc",
               ".latexmkrc", "out/latexmkrc", "out/.latexmkrc"]:
        (project / rc).parent.mkdir(exist_ok=True)
        (project / rc).write_text(perl)
    for folder in [".", "references", "tpcheck-proofs.build", "out"]:
        (project / folder / "geometry.sty").write_text(hostile_sty)
    before = files_under(project)
    tmp = tmp_path / "tmp"
    # The user's environment points TeX at the checked folder; latexmk would read $HOME/.latexmkrc.
    out = run_latex(project, tmp, "-o", "out/proofs.pdf",
                    env={"TEXINPUTS": f"{project}//:", "HOME": str(project),
                         "TEXMFOUTPUT": "/", "shell_escape": "t", "openin_any": "a"})
    assert out.returncode == 0, out.stderr
    assert out.stderr == "wrote out/proofs.pdf\n"
    assert not marker.exists()
    text = pdf_text(project / "out" / "proofs.pdf")
    assert VISIBLE in text and "Isserlis" in text  # the extraction sees the document
    assert HOSTILE not in text
    assert files_under(project) - before == {"out/proofs.pdf"}  # nothing else written there
    assert list(tmp.iterdir()) == []  # the build folder is gone


@needs_tex
def test_shell_escape_never_runs(tmp_path, monkeypatch):
    marker = tmp_path / "MARKER"
    monkeypatch.setenv("shell_escape", "t")  # the user's environment cannot turn it on
    tex = (PREAMBLE + r"\begin{document}" + VISIBLE + r"\immediate\write18{touch " + str(marker)
           + "}\n" + r"\end{document}" + "\n")
    pdf = compile_pdf(tex, [], tmp_path / "w.pdf")
    assert not marker.exists()
    assert VISIBLE in pdf_text(pdf)
    with pytest.raises(TpcheckError, match="pdflatex failed") as info:
        compile_pdf(PREAMBLE + r"\begin{document}\input|" + f'"touch {marker}"' + r"\end{document}",
                    [], tmp_path / "p.pdf")
    assert not marker.exists() and not (tmp_path / "p.pdf").exists()
    assert "Traceback" not in str(info.value)


@needs_tex
def test_tex_reads_no_file_outside_the_build_folder(tmp_path, secret, monkeypatch):
    monkeypatch.setenv("TEXINPUTS", f"{secret.parent}//:")
    monkeypatch.setenv("TEXMFOUTPUT", "/")  # would let paranoid mode read absolute paths
    monkeypatch.setenv("openin_any", "a")
    attempts = [str(secret), "secret.txt", f"../outside/{secret.name}", rf"\string~/{secret.name}",
                "../" * 12 + str(secret).lstrip("/")]
    monkeypatch.setenv("HOME", str(secret.parent))
    body = "".join(r"\openin1=" + a + r" \ifeof1 closed\else\read1 to\x [\x]\fi\closein1 "
                   for a in attempts)
    tex = PREAMBLE + r"\begin{document}" + VISIBLE + " " + body + "\n" + r"\end{document}" + "\n"
    pdf = compile_pdf(tex, [], tmp_path / "r.pdf")
    text = pdf_text(pdf)
    assert VISIBLE in text and text.count("closed") == len(attempts)
    assert SECRET not in text
    with pytest.raises(TpcheckError) as info:
        compile_pdf(PREAMBLE + r"\begin{document}\input{" + str(secret) + r"}\end{document}",
                    [], tmp_path / "i.pdf")
    assert SECRET not in str(info.value)


HOSTILE_NOTES = [
    (r"\openin1={secret} \read1 to\x \x", r"\openin"),
    (r"\input{{{secret}}}", r"\input"),
    (r"\include{{{secret}}}", r"\include"),
    # kpathsea's paranoid mode checks the name before expanding variables: this one it lets by
    (r"\openin1=$SELFAUTOPARENT{secret} \read1 to\x \x", r"\openin"),
    (r"^^5cinput{{{secret}}}", "^^"),
    (r"\csname input\endcsname{{{secret}}}", r"\csname"),
    (r"\immediate\write18{{touch {marker}}}", r"\immediate"),
    (r"\usepackage{{geometry}}", r"\usepackage"),
    (r"\begin{{filecontents*}}{{x.tex}}\end{{filecontents*}}",
     r"\begin of an environment other than thebibliography"),
]


@needs_tex
@pytest.mark.parametrize(("note", "refused"), HOSTILE_NOTES, ids=lambda x: x[:20])
def test_a_bibliography_beyond_plain_markup_is_refused_before_tex_reads_it(
        tmp_path, secret, note, refused):
    marker = tmp_path / "MARKER"
    project = make_project(tmp_path, note=note.format(secret=secret, marker=marker))
    start = time.monotonic()
    out = run_latex(project, tmp_path / "tmp")
    assert time.monotonic() - start < 300
    bib = project / "references" / "refs.bib"
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr == (f"tpcheck: {bib}:{NOTE_LINE}: the bibliography uses {refused}; tpcheck "
                          "gives TeX only plain bibliographic markup (accents, special letters, "
                          "font commands, math symbols, \\url)\n")
    assert SECRET not in out.stderr and not marker.exists()
    assert not (project / "tpcheck-proofs.pdf").exists()


@needs_tex
def test_bibtex_case_changes_cannot_make_a_command(tmp_path, secret):
    r"""plain.bst lowercases titles: \INPUT would become \input in the bibliography."""
    project = make_project(tmp_path, title=rf"\INPUT{{{secret}}}")
    out = run_latex(project, tmp_path / "tmp")
    assert out.returncode == 2
    assert out.stderr.startswith(f"tpcheck: {project / 'references' / 'refs.bib'}:3: the "
                                 r"bibliography uses \input;")
    assert SECRET not in out.stderr


@needs_tex
def test_a_preamble_is_checked_too(tmp_path, secret):
    project = make_project(tmp_path)
    bib = project / "references" / "refs.bib"
    bib.write_text(f'@preamble{{"\\input{{{secret}}}"}}\n' + bib.read_text())
    out = run_latex(project, tmp_path / "tmp")
    assert out.returncode == 2
    assert out.stderr.startswith(f"tpcheck: {bib}:1: the bibliography uses \\input;")


@needs_tex
def test_plain_bibliographic_markup_still_compiles(tmp_path):
    project = make_project(tmp_path, title=r"On {G}aussian moments of $\mathcal{N}(0, \sigma^2)$",
                           note=r"Erd\H{o}s, G\"odel, \v{C}ech, {\em see} \url{https://x.org/a_b}")
    out = run_latex(project, tmp_path / "tmp")
    assert out.returncode == 0, out.stderr
    assert VISIBLE in pdf_text(project / "tpcheck-proofs.pdf")


def test_a_bib_file_that_links_outside_is_refused(tmp_path, secret, capsys):
    from tpcheck.cli import main

    project = make_project(tmp_path)
    bib = project / "references" / "refs.bib"
    bib.unlink()
    bib.symlink_to(secret)
    assert main(["latex", "--no-witnesses", str(project / "proof.tp")]) == 2
    captured = capsys.readouterr()
    assert captured.err == (f"tpcheck: {bib}: is a symbolic link; tpcheck reads only regular .bib "
                            "files\n")
    assert SECRET not in captured.out + captured.err


def test_a_bib_file_that_is_not_utf8_is_a_clean_error(tmp_path, capsys):
    from tpcheck.cli import main

    project = make_project(tmp_path)
    bib = project / "references" / "refs.bib"
    latin1 = ENTRY.format(title="G\xf6del", note="n").encode("latin-1")
    bib.write_bytes(latin1)
    assert main(["latex", "--no-witnesses", str(project / "proof.tp")]) == 2
    assert capsys.readouterr().err == (f"tpcheck: {bib}: not UTF-8 text (invalid start byte at "
                                       f"byte offset {latin1.index(0xf6)})\n")


def test_bib_file_names_never_reach_tex_as_markup(tmp_path):
    names = [Path("refs.bib"), Path(r"a}\input{b.bib"), Path("x,y.bib"), Path(".hidden.bib")]
    assert bibliography_names(names) == ["refs", "references-2", "references-3", "references-4"]
    project = make_project(tmp_path)
    bib = project / "references" / "refs.bib"
    bib.rename(bib.with_name(r"a}\input{b.bib"))
    tex, _, _ = build_latex([str(project / "proof.tp")], Options(witnesses=False))
    assert r"\bibliography{references-1}" in tex and r"\input{b" not in tex


@needs_tex
def test_a_run_past_its_cpu_limit_is_a_clean_error(tmp_path, monkeypatch):
    monkeypatch.setattr(build, "TEX_CPU_SECONDS", 1)
    start = time.monotonic()
    with pytest.raises(TpcheckError) as info:
        compile_pdf(PREAMBLE + r"\begin{document}\loop\iftrue\repeat\end{document}", [],
                    tmp_path / "loop.pdf")
    assert time.monotonic() - start < 60
    assert str(info.value) == ("pdflatex was stopped by SIGXCPU on loop.pdf (limits: 1 s of CPU "
                               f"time, {build.TEX_MAX_FILE_BYTES} bytes a file)")


def test_output_in_a_missing_folder_is_refused_before_tex_runs(tmp_path):
    with pytest.raises(TpcheckError, match="no such folder"):
        compile_pdf("", [], tmp_path / "missing" / "x.pdf")
    with pytest.raises(TpcheckError, match="is a folder"):
        compile_pdf("", [], tmp_path)
