"""Notebook display of checked theorems and reports (``_repr_latex_``, ``_repr_html_``)."""

from __future__ import annotations

import html
from dataclasses import dataclass

from tpcheck.kernel import TheoremResult, Verdict
from tpcheck.kernel.rules import lookup
from tpcheck.lang import ast
from tpcheck.latex.document import claim_tex, relation_tex, within_tex
from tpcheck.latex.expressions import to_latex
from tpcheck.report import verdict_phrase

_HTML_COLOUR = {
    Verdict.PROVED: "#1a7f37", Verdict.VERIFIED: "#1a7f37", Verdict.PARTIAL: "#9a6700",
    Verdict.CORROBORATED: "#9a6700", Verdict.UNDECIDED: "#8250df", Verdict.DISPUTED: "#cf222e",
    Verdict.REFUTED: "#cf222e",
}


@dataclass
class TheoremView:
    """A checked theorem together with the syntax it was written in."""

    tree: ast.Theorem
    result: TheoremResult

    @property
    def verdict(self) -> Verdict:
        return self.result.verdict

    def _repr_latex_(self) -> str:
        t, r = self.tree, self.result
        assert t.claim is not None and t.chain is not None
        rows = [rf"&\textbf{{{_math_text(t.name)}}}:\ \text{{{_math_text(verdict_phrase(r))}}} \\",
                rf"&{claim_tex(t.claim)} \\[4pt]", rf"&{to_latex(t.chain.start)}"]
        for link, step in zip(t.chain.links, r.steps, strict=False):
            rule = lookup(link.rule.name)
            phrase = rule.latex if rule is not None else f"by {link.rule.name}"
            colour = "" if step.verdict.passes else r"\color{red}"
            rows.append(rf"\\ &{relation_tex(link.rel, link.limit_var)} {to_latex(link.expr)}"
                        + within_tex(link.tolerance)
                        + rf" &&{colour}\text{{{_math_text(phrase)}: {step.verdict.value}}}")
        return "$$\\begin{aligned}" + "\n".join(rows) + "\\end{aligned}$$"

    def _repr_html_(self) -> str:
        return theorem_html(self.result)


def _math_text(s: str) -> str:
    return s.replace("_", r"\_").replace("$", "")


def theorem_html(r: TheoremResult) -> str:
    colour = _HTML_COLOUR[r.verdict]
    rows = "".join(
        f"<tr><td>{s.line}</td><td><code>{html.escape(s.rule)}</code></td>"
        f"<td style='color:{_HTML_COLOUR[s.verdict]}'><b>{s.verdict.value}</b></td>"
        f"<td>{html.escape(s.detail)}</td></tr>"
        for s in r.steps)
    return (f"<div><b><code>{html.escape(r.name)}</code></b> "
            f"<span style='color:{colour}'><b>{html.escape(verdict_phrase(r))}</b></span> "
            f"<i>{html.escape(r.statement)}</i>"
            f"<table><tr><th>line</th><th>rule</th><th>verdict</th><th>detail</th></tr>{rows}"
            "</table></div>")
