"""LaTeX and PDF output of checked proofs."""

from tpcheck.latex.document import render_document, render_theorem
from tpcheck.latex.expressions import to_latex

__all__ = ["render_document", "render_theorem", "to_latex"]
