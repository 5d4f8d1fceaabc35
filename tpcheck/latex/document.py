"""A checked proof file as a LaTeX document: theorems with their declarations and claims,
derivations as ``align*`` chains with each step's justification and verdict, and an
evidence appendix (instances, digits, Monte-Carlo sizes and seeds, version, sha256)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tpcheck.kernel import StepResult, TheoremResult, Verdict, reproved_all, reproved_by, verdict_label
from tpcheck.kernel.rules import lookup
from tpcheck.lang import ast
from tpcheck.latex.expressions import name, to_latex
from tpcheck.version import __version__

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage{amsmath,amssymb,amsthm}
\usepackage[margin=2.3cm]{geometry}
\usepackage{xcolor}
\usepackage{hyperref}
\hypersetup{colorlinks=true, linkcolor=blue!50!black, citecolor=green!40!black, urlcolor=blue!50!black}
\newtheorem{theorem}{Theorem}
\newcommand{\verdict}[1]{\textsc{#1}}
\newcommand{\failed}[1]{\textcolor{red!75!black}{\textbf{\textsc{#1}}}}
\newcommand{\weak}[1]{\textcolor{orange!70!black}{\textsc{#1}}}
\allowdisplaybreaks
"""

RELATIONS = {"=": "=", "<=": r"\le", "<": "<", ">=": r"\ge", ">": ">", "~=": r"\approx"}


def within_tex(tolerance: ast.Node | None) -> str:
    """``within 10^{-4}`` after an approximate relation, nothing otherwise."""
    return "" if tolerance is None else rf"\quad\text{{within }} {to_latex(tolerance)}"
DOMAINS = {
    "integer": "an integer", "natural": "a natural number", "positive integer": "a positive integer",
    "real": "real", "positive real": "positive real", "nonnegative real": "non-negative real",
    "complex": "complex",
}
LAW_NAMES = {"Normal": r"\mathcal{N}", "Uniform": r"\mathcal{U}"}
_TEXT_SPECIALS = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "^": r"\^{}", "_": r"\_", "%": r"\%", "~": r"\~{}",
}
_UNICODE = {"≤": r"$\le$", "≥": r"$\ge$", "→": r"$\to$", "∞": r"$\infty$", "—": "---",
            "–": "--", "π": r"$\pi$", "±": r"$\pm$", "√": r"$\surd$", "×": r"$\times$",
            "·": r"$\cdot$", "’": "'", "“": "``", "”": "''"}


def text(s: str) -> str:
    """Plain text for LaTeX: specials escaped, common symbols mapped, other non-ASCII and every
    control character (which TeX would read as markup or reject, and a terminal would act on)
    shown as ``?``."""
    out = []
    for ch in s:
        if ch in _TEXT_SPECIALS:
            out.append(_TEXT_SPECIALS[ch])
        elif ch in _UNICODE:
            out.append(_UNICODE[ch])
        elif " " <= ch <= "~":
            out.append(ch)
        else:
            out.append("?")
    return "".join(out)


_CITE_KEY = re.compile(r"[A-Za-z0-9_]+")  # what the parser lets through; never markup in \cite{}


def label(s: str) -> str:
    return "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in s)


@dataclass
class Citations:
    """How to render \\cite: real citations when a .bib file will be there."""

    resolve: bool = True

    def cite(self, keys: list[str]) -> str:
        if not keys:
            return ""
        if self.resolve and all(_CITE_KEY.fullmatch(k) for k in keys):
            return r"~\cite{" + ",".join(keys) + "}"
        return " [" + ", ".join(text(k) for k in keys) + "]"


# ---- pieces --------------------------------------------------------------------------------


def law_tex(call: ast.Call) -> str:
    head = LAW_NAMES.get(call.func, rf"\mathrm{{{call.func}}}")
    return head + r"\left(" + ", ".join(to_latex(a) for a in call.args) + r"\right)"


def declarations(t: ast.Theorem) -> list[str]:
    out = []
    for p in t.params:
        if p.hi is None:
            out.append(rf"for every integer ${name(p.var)} \ge {to_latex(p.lo)}$")
        else:
            out.append(rf"for ${name(p.var)} = {to_latex(p.lo)}, \dots, {to_latex(p.hi)}$")
    for item in t.lets:
        if isinstance(item, ast.LetDomain):
            names = ", ".join(name(n) for n, _ in item.names)
            out.append(f"${names}$ {DOMAINS[item.domain]}")
        elif isinstance(item, ast.LetLaw):
            names = ", ".join(name(n) for n, _ in item.names)
            rel = r"\sim" if len(item.names) == 1 else r"\sim"
            entry = f"${names} {rel} {law_tex(item.law)}$"
            if item.moments:
                entry += " with entries of moments " + ", ".join(
                    f"${to_latex(a)} = {to_latex(b)}$" for a, b in item.moments)
            out.append(entry)
        elif isinstance(item, ast.LetFamily):
            x = name(item.name)
            members = rf"${x}_{{{to_latex(item.lo)}}}, \dots, {x}_{{{to_latex(item.hi)}}}$"
            desc = f"{members} i.i.d."
            if item.law is not None:
                desc += f" with law ${law_tex(item.law)}$"
            if item.moments:
                desc += ", " + ", ".join(f"${to_latex(a)} = {to_latex(b)}$" for a, b in item.moments)
            out.append(desc)
        elif isinstance(item, ast.LetDef):
            head = name(item.name)
            if item.params:
                head += r"\left(" + ", ".join(name(p) for p in item.params) + r"\right)"
            out.append(f"${head} = {to_latex(item.body)}$")
    for a in t.assumptions:
        out.append(f"assume ${to_latex(a.lhs)} {RELATIONS[a.rel]} {to_latex(a.rhs)}$")
    return out


def relation_tex(rel: str, limit_var: str | None) -> str:
    if rel == "->":
        return rf"\xrightarrow[{name(limit_var or 'n')} \to \infty]{{}}"
    return RELATIONS[rel]


def claim_tex(c: ast.Relation) -> str:
    return (f"{to_latex(c.lhs)} {relation_tex(c.rel, c.limit_var)} {to_latex(c.rhs)}"
            + within_tex(c.tolerance))


def verdict_tag(step: StepResult) -> str:
    """The step's verdict, said honestly and briefly, with the external checkers (Coq) that
    re-proved it."""
    checkers = "".join(rf" + \verdict{{{c}}}" for c in reproved_by(step.verdict, step.evidence))
    return _verdict_tag(step).replace("}", "}" + checkers, 1)  # after the verdict's macro


def _verdict_tag(step: StepResult) -> str:
    v = step.verdict
    if v is Verdict.PROVED:
        return r"\verdict{proved}"
    if v is Verdict.VERIFIED:
        rng = ", ".join(rf"${name(k)} = {lo}, \dots, {hi}$" for k, (lo, hi) in (step.range or {}).items())
        return rf"\verdict{{verified}} for {rng}"
    if v is Verdict.CORROBORATED:
        digits = [e.data.get("digits") for e in step.evidence if e.kind == "mpmath" and e.ok]
        mc = [e for e in step.evidence if e.kind == "montecarlo" and e.ok and "z" in e.data]
        parts = []
        within = [e.data["tolerance"] for e in step.evidence if "tolerance" in e.data]
        if within:
            parts.append(f"in floating point at {max(d for d in digits if d)} digits")
        elif digits:
            parts.append(f"to {max(d for d in digits if d)} digits")
        if mc:
            e = mc[0]
            parts.append(rf"Monte-Carlo $z = {e.data['z']:.2f}$ ({e.data['samples']} samples)")
        return r"\weak{corroborated} " + "; ".join(parts)
    if v is Verdict.PARTIAL:
        rng = ", ".join(rf"${name(k)} = {lo}, \dots, {hi}$" for k, (lo, hi) in (step.range or {}).items())
        return rf"\weak{{checked}} for {rng} only"
    if v is Verdict.REFUTED:
        return r"\failed{refuted}"
    if v is Verdict.DISPUTED:
        return r"\failed{disputed}"
    return r"\failed{undecided}"


def _ranges_tex(r: dict[str, list[int]]) -> str:
    return ", ".join(rf"${name(k)} = {lo}, \dots, {hi}$" for k, (lo, hi) in r.items())


def _domain_tex(domain: dict[str, list[int | None]]) -> str:
    return ", ".join(rf"${name(k)} \ge {lo}$" if hi is None else rf"${name(k)} = {lo}, \dots, {hi}$"
                     for k, (lo, hi) in domain.items())


def rule_phrase(rule_name: str) -> str:
    r = lookup(rule_name)  # a rule's phrase is LaTeX written in the code, not file text
    return r.latex if r is not None else text(f"by {rule_name}")


def render_theorem(t: ast.Theorem, result: TheoremResult | None, cites: Citations) -> str:
    """One theorem: statement, setting, claim, and the checked derivation."""
    lines = [rf"\begin{{theorem}}[\texttt{{{text(t.name)}}}]\label{{thm:{label(t.name)}}}"]
    stmt = text(t.statement) + cites.cite(t.cites)
    if stmt.strip():
        lines.append(stmt)
    setting = declarations(t)
    if setting:
        lines.append(r"\par\noindent{\upshape\emph{Setting:} " + "; ".join(setting) + ".}")
    assert t.claim is not None and t.chain is not None
    lines.append(r"\[ " + claim_tex(t.claim) + r" \]")
    lines.append(r"\end{theorem}")
    steps = result.steps if result is not None else []
    lines.append(r"\begin{proof}[Derivation]")
    lines.append(r"\begin{align*}")
    rows = [f"  & {to_latex(t.chain.start)}"]
    for i, link in enumerate(t.chain.links):
        step = steps[i] if i < len(steps) else None
        tag = verdict_tag(step) if step is not None else r"\weak{not checked}"
        rel = relation_tex(link.rel, link.limit_var)
        rows.append(rf"  &{rel} {to_latex(link.expr)}{within_tex(link.tolerance)} && "
                    rf"\text{{{rule_phrase(link.rule.name)}; {tag}}}")
    lines.append(" \\\\\n".join(rows))
    lines.append(r"\end{align*}")
    problems = [s for s in steps if s.verdict in (Verdict.REFUTED, Verdict.UNDECIDED,
                                                   Verdict.DISPUTED, Verdict.PARTIAL)]
    for s in problems:
        kind = (r"\weak{partial}" if s.verdict is Verdict.PARTIAL
                else rf"\failed{{{s.verdict.value.lower()}}}")
        detail = text(s.detail)
        if s.disagreement:
            detail += "; " + text(s.disagreement)
        lines.append(rf"\par\noindent Step at line {s.line} is {kind}: {detail}.")
        if s.counterexample:
            pairs = ", ".join(
                f"{text(k)} $= {text(str(v))}$" if k != "instance" else
                "at " + ", ".join(f"${name(a)} = {text(b)}$" for a, b in v.items())
                for k, v in s.counterexample.items() if not (k == "instance" and not v))
            lines.append(rf"\par\noindent Counterexample: {pairs}.")
    if result is not None:
        overall = result.verdict.value.lower()
        macro = r"\verdict" if result.verdict.passes else r"\failed"
        where = ""
        if result.range:
            where = " for " + _ranges_tex(result.range)
            if result.verdict is Verdict.PARTIAL:
                where += " only, while the claim is stated for " + _domain_tex(result.domain)
        elif result.verdict is Verdict.PROVED and result.domain:
            where = " for " + _domain_tex(result.domain)
        note = f" {text(result.note)}." if result.note else ""
        checkers = "".join(rf" + \verdict{{{c}}}" for c in reproved_all(
            result.verdict, [s.evidence for s in result.steps]))
        lines.append(rf"\par\noindent\emph{{Verdict:}} {macro}{{{overall}}}{checkers}{where}"
                     rf" (the weakest of its steps; evidence in Appendix~\ref{{ev:{label(t.name)}}}).{note}")
    lines.append(r"\end{proof}")
    return "\n".join(lines)


def evidence_section(t: ast.Theorem, result: TheoremResult, path: str, sha: str) -> str:
    out = [rf"\subsection*{{\texttt{{{text(t.name)}}}}}\label{{ev:{label(t.name)}}}",
           rf"File \texttt{{{text(path)}}}, line {t.pos.line}; sha256 \texttt{{{sha[:16]}\dots}};"
           rf" tpcheck {text(__version__)}; seed {result.seed}.",
           _rests_on_tex(result),
           r"\begin{itemize}"]
    for s in result.steps:
        items = [f"{e.kind}: " + ("agrees" if e.ok else "disagrees" if e.ok is False else "n/a")
                 + " --- " + text(_evidence_text(e.data, e.detail)) for e in s.evidence]
        out.append(rf"\item line {s.line}, \texttt{{{text(s.rule)}}}: "
                   + text(verdict_label(s.verdict, [s.evidence]).lower())
                   + f" --- {text(s.detail)}"
                   + (r"\begin{itemize}" + "".join(rf"\item {i}" for i in items) + r"\end{itemize}"
                      if items else ""))
    out.append(r"\end{itemize}")
    return "\n".join(out)


def _rests_on_tex(result: TheoremResult) -> str:
    """What the verdict rests on beyond the kernel, the elaborator and sympy's arithmetic."""
    r = result.rests_on
    rules = ", ".join(rf"\texttt{{{text(n)}}}" for n in r["rules"]) or "none"
    algorithms = ", ".join(rf"\texttt{{{text(a)}}}" for a in r["algorithms"]) or "nothing more"
    return (rf"\par\noindent Rests on the rules {rules} and the algorithms {algorithms} "
            r"(see the trusted base in \texttt{docs/design.md}).")


def _evidence_text(data: dict[str, Any], detail: str) -> str:
    keys = ("digits", "instances", "samples", "seed", "z", "std_error", "range")
    extra = []
    for k in keys:
        if k in data:
            v = data[k]
            if isinstance(v, float):
                v = f"{v:.3g}"
            extra.append(f"{k} {v}")
    return detail + (" (" + "; ".join(extra) + ")" if extra else "")


def render_document(files: list[tuple[str, str, ast.ProofFile, Any]], cites: Citations,
                    bib: str | None = None, body_only: bool = False) -> str:
    """A standalone document (or, with ``body_only``, the theorem bodies) for checked files:
    each entry is (path, sha256, tree, FileReport)."""
    body: list[str] = []
    appendix: list[str] = []
    for path, sha, tree, report in files:
        results = {r.name: r for r in report.theorems} if report is not None else {}
        if not body_only:
            body.append(rf"\section{{\texttt{{{text(path)}}}}}")
        for t in tree.theorems:
            result = results.get(t.name)
            body.append(render_theorem(t, result, cites))
            if result is not None:
                appendix.append(evidence_section(t, result, path, sha))
        for e in getattr(report, "errors", []):
            body.append(r"\par\noindent\failed{error}: \texttt{" + text(e.splitlines()[0]) + "}")
    if body_only:
        return "\n\n".join(body) + "\n"
    summary = [r"\begin{center}\begin{tabular}{lll}", r"theorem & verdict & file \\ \hline"]
    for path, _, _tree, report in files:
        for r in report.theorems if report is not None else []:
            where = ""
            if r.range:
                where = " (" + _ranges_tex(r.range) + (" only" if r.verdict is Verdict.PARTIAL else "") + ")"
            summary.append(rf"\hyperref[thm:{label(r.name)}]{{\texttt{{{text(r.name)}}}}} & "
                           rf"{text(verdict_label(r.verdict, [s.evidence for s in r.steps]))}{where} & "
                           rf"\texttt{{{text(path)}}} \\")
    summary.append(r"\end{tabular}\end{center}")
    doc = [PREAMBLE, r"\title{Checked derivations}", rf"\author{{tpcheck {text(__version__)}}}",
           r"\date{}", r"\begin{document}", r"\maketitle", *summary, *body,
           r"\appendix", r"\section{Evidence}", *appendix]
    if bib is not None:
        doc += [r"\bibliographystyle{plain}", rf"\bibliography{{{bib}}}"]
    doc.append(r"\end{document}")
    return "\n\n".join(doc) + "\n"
