"""Notebook display of checked theorems and reports (``_repr_latex_``, ``_repr_html_``)."""

from __future__ import annotations

import html
from dataclasses import dataclass

from tpcheck.kernel import TheoremResult, Verdict, verdict_label
from tpcheck.kernel.rules import lookup
from tpcheck.lang import ast
from tpcheck.latex.document import claim_tex, relation_tex, within_tex
from tpcheck.latex.expressions import to_latex

_HTML_COLOUR = {
    Verdict.PROVED: "#1a7f37", Verdict.VERIFIED: "#1a7f37", Verdict.PARTIAL: "#9a6700",
    Verdict.CORROBORATED: "#9a6700", Verdict.UNDECIDED: "#8250df", Verdict.DISPUTED: "#cf222e",
    Verdict.REFUTED: "#cf222e",
}


def _bounds(lo: int | None, hi: int | None) -> str:
    if hi is None:
        return f">= {lo}" if lo is not None else "in Z"
    return f"in {lo}..{hi}"


def domain_phrase(t: TheoremResult) -> str:
    """The claim's declared parameters: ``for all k >= 0``, ``for k in 0..6``."""
    if not t.domain:
        return ""
    parts = [f"{k} {_bounds(lo, hi)}" for k, (lo, hi) in t.domain.items()]
    universal = any(hi is None for _, hi in t.domain.values())
    return ("for all " if universal else "for ") + ", ".join(parts)


def verdict_phrase(t: TheoremResult) -> str:
    """The verdict with what it speaks of: ``PROVED for all k >= 0``, ``VERIFIED on k in 0..6``,
    ``PARTIAL: checked on k in 0..0 only (claimed for all k >= 0)``; with the external checkers
    that re-proved every step, ``PROVED + coq for all k >= 0``."""
    checked = ", ".join(f"{k} in {lo}..{hi}" for k, (lo, hi) in (t.range or {}).items())
    declared = domain_phrase(t)
    label = theorem_label(t)
    if t.verdict is Verdict.PARTIAL:
        return f"{label}: checked on {checked} only" + (f" (claimed {declared})" if declared else "")
    if t.verdict is Verdict.VERIFIED:
        return f"{label} on {checked}"
    if t.verdict is Verdict.PROVED and declared:
        return f"{label} {declared}"
    return label


def theorem_label(t: TheoremResult) -> str:
    """The theorem's verdict with the external checkers that re-proved every step of it."""
    return verdict_label(t.verdict, [s.evidence for s in t.steps])


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
