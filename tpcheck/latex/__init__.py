"""LaTeX printing of checked proofs: pure printers of syntax trees and results. The driver
that checks files and builds the PDF sits above them, in :mod:`tpcheck.latex_build`."""

from tpcheck.latex.document import render_document, render_theorem
from tpcheck.latex.expressions import to_latex

__all__ = ["render_document", "render_theorem", "to_latex"]
