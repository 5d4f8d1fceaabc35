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
from tpcheck.latex.expressions import name, tex_width, to_latex, to_latex_lines
from tpcheck.version import __version__

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[T1]{fontenc}
\IfFileExists{lmodern.sty}{\usepackage{lmodern}}{\IfFileExists{ae.sty}{\usepackage{ae,aecompl}}{}}
\usepackage{amsmath,amssymb,amsthm}
\usepackage[margin=2.3cm]{geometry}
\usepackage{xcolor}
\usepackage{booktabs}
\usepackage{graphicx}
\usepackage{tabularx}
\usepackage{hyperref}
\hypersetup{colorlinks=true, linkcolor=blue!50!black, citecolor=green!40!black, urlcolor=blue!50!black}
\newtheorem{theorem}{Theorem}
\newcommand{\verdict}[1]{\textsc{#1}}
\newcommand{\failed}[1]{\textcolor{red!75!black}{\textbf{\textsc{#1}}}}
\newcommand{\weak}[1]{\textcolor{orange!70!black}{\textsc{#1}}}
\tracinglostchars=1
\allowdisplaybreaks
\emergencystretch=2em
\newsavebox{\fitmathbox}
\newcommand{\fitmath}[2]{\sbox{\fitmathbox}{$\displaystyle #2$}%
  \ifdim\wd\fitmathbox>#1\relax\resizebox{#1}{!}{\usebox{\fitmathbox}}\else\usebox{\fitmathbox}\fi}
"""
# \fitmath{WIDTH}{FORMULA} sets the formula in display style, scaled down to WIDTH when it is
# wider (never up): the last resort for a piece of a display that does not break.

#: The text width of the documents in points: 11pt type, margins of 2.3cm on letter paper.
LINE_WIDTH = 483.4
#: The share of a line a formula is laid out to: the width estimate may be 10% short.
FIT = 0.9
#: The widest the justification column of a derivation gets, as a share of the line.
JUSTIFICATION_SHARE = 0.34
_COLUMN_GAP = 12.0  # points between a derivation's formulas and its justifications
_CONTINUATION = r"\qquad "  # indent of a broken formula's next lines in a derivation

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
    "%": r"\%",
    # typewriter glyphs: the text font's caret and tilde are accents, its underscore a rule
    "^": r"{\ttfamily\textasciicircum}", "_": r"{\ttfamily\_}", "~": r"{\ttfamily\textasciitilde}",
}
_UNICODE = {"≤": r"$\le$", "≥": r"$\ge$", "→": r"$\to$", "∞": r"$\infty$", "—": "---",
            "–": "--", "π": r"$\pi$", "±": r"$\pm$", "√": r"$\surd$", "×": r"$\times$",
            "·": r"$\cdot$", "’": "'", "“": "``", "”": "''"}
#: ASCII spellings of relations, typeset as the symbols they stand for ("->" is an arrow, not
#: a hyphen and a "greater than").
_TEXT_RELATIONS = {"->": r"$\to$", "<=": r"$\le$", ">=": r"$\ge$", "!=": r"$\ne$", "--": "-{}-"}


def text(s: str) -> str:
    """Plain text for LaTeX: specials escaped, ``->``, ``<=``, ``>=`` as the relations they
    spell, common symbols mapped, other non-ASCII and every control character (which TeX would
    read as markup or reject, and a terminal would act on) shown as ``?``."""
    out = []
    i = 0
    while i < len(s):
        ch = s[i]
        pair = s[i:i + 2]
        if pair in _TEXT_RELATIONS:
            out.append(_TEXT_RELATIONS[pair])
            i += 2
            continue
        if ch in _TEXT_SPECIALS:
            out.append(_TEXT_SPECIALS[ch])
        elif ch in _UNICODE:
            out.append(_UNICODE[ch])
        elif " " <= ch <= "~":
            out.append(ch)
        else:
            out.append("?")
        i += 1
    return "".join(out)


# ---- statements: text with inline mathematics between dollars ------------------------------

#: Control words a statement's mathematics may use: symbols, operators, fonts and delimiters of
#: LaTeX and amsmath. None reads or writes a file, defines a macro, changes a category code or
#: builds a control sequence; anything else makes the formula print as plain text.
MATH_COMMANDS = frozenset(
    # Greek
    ["alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
     "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "varpi", "rho", "varrho",
     "sigma", "varsigma", "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma",
     "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega"]
    # operators and functions
    + ["frac", "dfrac", "tfrac", "binom", "sqrt", "sum", "prod", "int", "oint", "lim", "limsup",
       "liminf", "log", "ln", "exp", "sin", "cos", "tan", "tanh", "sinh", "cosh", "arctan",
       "det", "max", "min", "sup", "inf", "Pr", "deg", "dim", "ker", "partial", "nabla"]
    # relations, arrows and symbols
    + ["to", "rightarrow", "leftarrow", "Rightarrow", "Leftarrow", "iff", "implies", "mapsto",
       "longrightarrow", "le", "leq", "ge", "geq", "ne", "neq", "ll", "gg", "approx", "sim",
       "simeq", "cong", "equiv", "propto", "in", "notin", "subset", "subseteq", "supset",
       "cup", "cap", "setminus", "forall", "exists", "emptyset", "infty", "pm", "mp", "cdot",
       "cdots", "ldots", "dots", "vdots", "ddots", "times", "div", "circ", "star", "ast",
       "otimes", "oplus", "top", "perp", "parallel", "prime", "ell", "hbar", "mid", "vert",
       "Vert", "langle", "rangle", "lfloor", "rfloor", "lceil", "rceil", "left", "right",
       "big", "Big", "bigg", "quad", "qquad", "wedge", "vee", "neg", "dagger", "natural",
       "sharp", "flat", "bot", "angle", "triangle", "square", "Box", "odot"]
    # accents and fonts (their argument is checked like any other formula)
    + ["hat", "widehat", "tilde", "widetilde", "bar", "overline", "underline", "vec", "dot",
       "ddot", "mathcal", "mathbb", "mathrm", "mathbf", "mathit", "mathsf", "mathfrak",
       "boldsymbol", "operatorname", "text"]
)
#: Control words that take arguments: how many.
_MATH_ARITY = {"frac": 2, "dfrac": 2, "tfrac": 2, "binom": 2, "sqrt": 1, "hat": 1, "widehat": 1,
               "tilde": 1, "widetilde": 1, "bar": 1, "overline": 1, "underline": 1, "vec": 1,
               "dot": 1, "ddot": 1, "mathcal": 1, "mathbb": 1, "mathrm": 1, "mathbf": 1,
               "mathit": 1, "mathsf": 1, "mathfrak": 1, "boldsymbol": 1, "operatorname": 1,
               "text": 1}
#: Control words whose argument is text, not a formula: only plain characters may be in it.
_TEXT_ARGUMENT = frozenset({"text", "operatorname"})
_PLAIN_TEXT = re.compile(r"[A-Za-z0-9 ,.;:'()!?/+=*-]*")
#: Control symbols (a backslash and one character) a formula may use: spaces and braces.
_MATH_SYMBOLS = frozenset(", ; : ! { } |".split() + [" "])
_MATH_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                             " +-*/=<>()[]|,.;:!'?")
_DELIMITERS = frozenset("()[]|./")
_DELIMITER_WORDS = frozenset({"{", "}", "|", "langle", "rangle", "vert", "Vert", "lfloor",
                              "rfloor", "lceil", "rceil"})
_MAX_MATH_NESTING = 32
_MATH_TOKEN = re.compile(r"\\([A-Za-z]+|.?)|(.)", re.DOTALL)


class UnsafeMath(ValueError):
    """A formula in a statement that tpcheck will not give TeX; the message says why."""


def _math_tokens(formula: str) -> list[tuple[str, str]]:
    """(kind, value) tokens: ``cs`` control word or symbol, ``{``, ``}``, ``^``, ``_`` or
    ``char``; spaces dropped. Raises UnsafeMath on anything outside the whitelist."""
    tokens: list[tuple[str, str]] = []
    for m in _MATH_TOKEN.finditer(formula):
        word, ch = m.group(1), m.group(2)
        if word is not None:
            if word == "":
                raise UnsafeMath("a backslash at the end")
            if word not in MATH_COMMANDS and word not in _MATH_SYMBOLS:
                raise UnsafeMath(f"\\{word} is not among the commands a statement may use")
            tokens.append(("cs", word))
        elif ch in "{}^_":
            tokens.append((ch, ch))
        elif ch == " ":
            continue
        elif ch in _MATH_CHARACTERS:
            tokens.append(("char", ch))
        else:
            raise UnsafeMath(f"the character {ch!r} is not allowed in a formula")
    return tokens


class _MathChecker:
    """Recursive descent over a formula's tokens: braces balance, every command has its
    arguments, ``^`` and ``_`` have an argument and are not doubled, ``\\left`` meets
    ``\\right`` in the same group -- so TeX neither reads past the formula nor stops on it."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def sequence(self, depth: int) -> None:
        """Atoms up to a ``}`` (not taken) or the end."""
        if depth > _MAX_MATH_NESTING:
            raise UnsafeMath(f"nested more than {_MAX_MATH_NESTING} deep")
        lefts, scripts = 0, set()
        while (token := self.peek()) is not None and token[0] != "}":
            kind, value = token
            if kind in "^_":
                self.take()
                if kind in scripts:
                    raise UnsafeMath(f"a double {'superscript' if kind == '^' else 'subscript'}")
                scripts.add(kind)
                self.argument(depth, f"{kind} needs an argument")
                continue
            scripts = set()
            if kind == "cs" and value in ("left", "right"):
                self.take()
                self.delimiter(value)
                lefts += 1 if value == "left" else -1
                if lefts < 0:
                    raise UnsafeMath("\\right without \\left")
                continue
            self.atom(depth)
        if lefts:
            raise UnsafeMath("\\left without \\right")

    def atom(self, depth: int) -> None:
        kind, value = self.take()
        if kind == "{":
            self.sequence(depth + 1)
            if self.peek() is None:
                raise UnsafeMath("an unbalanced {")
            self.take()
        elif kind == "cs" and value in _MATH_ARITY:
            if value == "sqrt" and self.peek() == ("char", "["):
                raise UnsafeMath("\\sqrt[...] is not supported; write a power")
            for _ in range(_MATH_ARITY[value]):
                if value in _TEXT_ARGUMENT:
                    self.text_argument(value)
                else:
                    self.argument(depth, f"\\{value} needs {_MATH_ARITY[value]} argument(s)")

    def argument(self, depth: int, message: str) -> None:
        token = self.peek()
        if token is None or token[0] in "}^_" or token in (("cs", "left"), ("cs", "right")):
            raise UnsafeMath(message)
        self.atom(depth + 1)

    def text_argument(self, command: str) -> None:
        """``{plain text}`` after ``\\text`` or ``\\operatorname``."""
        if self.peek() != ("{", "{"):
            raise UnsafeMath(f"\\{command} needs its text in braces")
        self.take()
        while (token := self.peek()) is not None and token[0] == "char":
            self.take()
        if self.peek() != ("}", "}"):
            raise UnsafeMath(f"\\{command}{{...}} may hold only letters, digits and punctuation")
        self.take()

    def delimiter(self, side: str) -> None:
        token = self.peek()
        if token is None or not ((token[0] == "char" and token[1] in _DELIMITERS)
                                 or (token[0] == "cs" and token[1] in _DELIMITER_WORDS)):
            raise UnsafeMath(f"\\{side} needs a delimiter")
        self.take()


def math_tex(formula: str) -> str:
    """A statement's formula (what stood between two dollars), checked and returned as the
    LaTeX it is; raises UnsafeMath when it uses anything beyond :data:`MATH_COMMANDS` and
    plain characters, or is not well formed enough to typeset (then TeX never sees it)."""
    if "^^" in formula:  # TeX reads ^^5c as a backslash before any command is seen
        raise UnsafeMath("^^ (a character code)")
    if not formula.strip():
        raise UnsafeMath("an empty formula")
    tokens = _math_tokens(formula)
    checker = _MathChecker(tokens)
    checker.sequence(0)
    if checker.peek() is not None:
        raise UnsafeMath("an unbalanced }")
    return formula.strip()


def statement_parts(statement: str) -> list[tuple[bool, str]]:
    """A statement cut at its dollars: (is_formula, text) pieces. ``\\$`` is a dollar sign; a
    last dollar without its partner is text."""
    parts: list[tuple[bool, str]] = []
    buffer, formula, i = [], False, 0
    while i < len(statement):
        if statement.startswith("\\$", i):
            buffer.append("\\$" if formula else "$")
            i += 2
            continue
        if statement[i] == "$":
            parts.append((formula, "".join(buffer)))
            buffer, formula = [], not formula
        else:
            buffer.append(statement[i])
        i += 1
    if formula:  # an unmatched dollar: the rest is text, dollar included
        parts.append((False, "$" + "".join(buffer)))
    else:
        parts.append((False, "".join(buffer)))
    return [(f, t) for f, t in parts if t or f]


def statement_tex(statement: str) -> str:
    """A theorem's statement in LaTeX: text escaped (:func:`text`), each ``$...$`` typeset as
    mathematics when :func:`math_tex` accepts it and shown literally, as text, when not."""
    out = []
    for is_formula, piece in statement_parts(statement):
        if not is_formula:
            out.append(text(piece))
            continue
        try:
            out.append("$" + _LONG_NUMBER.sub(_breakable_number, math_tex(piece)) + "$")
        except UnsafeMath:
            out.append(text("$" + piece + "$"))
    return "".join(out)


_LONG_NUMBER = re.compile(r"\d{16,}")


def _breakable_number(m: re.Match[str]) -> str:
    """A long run of digits (``0.6057055096021588255835402``) with places to break the line
    after every fifth digit, which TeX would otherwise push into the margin whole."""
    digits = m.group(0)
    return r"\allowbreak ".join(digits[i:i + 5] for i in range(0, len(digits), 5))


def statement_problems(statement: str) -> list[str]:
    """Why each refused formula of a statement is shown as text (empty when all typeset)."""
    problems = []
    for is_formula, piece in statement_parts(statement):
        if is_formula:
            try:
                math_tex(piece)
            except UnsafeMath as exc:
                problems.append(f"${piece}$: {exc}")
    return problems


_PLAIN_COMMANDS = {"to": "->", "le": "<=", "leq": "<=", "ge": ">=", "geq": ">=", "ne": "!=",
                   "neq": "!=", "infty": "oo", "cdot": "*", "times": "x", "approx": "~=",
                   "sim": "~", "in": "in", "ldots": "...", "dots": "...", "cdots": "...",
                   "top": "T", "pm": "+-", "sum": "sum", "prod": "prod", "mapsto": "|->",
                   "rightarrow": "->", "quad": " ", "qquad": " "}


def statement_plain(statement: str) -> str:
    """A statement for a terminal: dollars gone, formulas kept readable (``\\frac{a}{b}`` as
    ``(a)/(b)``, ``\\to`` as ``->``, Greek letters by name, braces and spacing commands
    dropped); a formula refused by :func:`math_tex` stays as written, dollars and all."""
    out = []
    for is_formula, piece in statement_parts(statement):
        if not is_formula:
            out.append(piece)
            continue
        try:
            out.append(_formula_plain(math_tex(piece)))
        except UnsafeMath:
            out.append("$" + piece + "$")  # as written: it was not typeset either
    return "".join(out)


def _formula_plain(formula: str) -> str:
    s = re.sub(r"\\[td]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}", r"(\1)/(\2)", formula)
    s = re.sub(r"\\sqrt\s*\{([^{}]*)\}", r"sqrt(\1)", s)
    s = re.sub(r"\\(?:text|operatorname|math[a-z]+|boldsymbol)\s*\{([^{}]*)\}", r"\1", s)
    s = re.sub(r"\\(left|right|big|Big|bigg)\b\s*", "", s)
    s = re.sub(r"\\([A-Za-z]+)", lambda m: _PLAIN_COMMANDS.get(m.group(1), m.group(1)), s)
    s = re.sub(r"\\[,;:! ]", " ", s).replace("\\{", "{").replace("\\}", "}").replace("\\|", "||")
    s = re.sub(r"([\^_])\{([^{}]*)\}", lambda m: m.group(1) + (m.group(2) if len(m.group(2)) == 1
                                                                 else f"({m.group(2)})"), s)
    s = s.replace("{", "").replace("}", "")
    return re.sub(r"\s+", " ", s).strip()


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


#: Formulas in running text wider than this (points) get places where the line may break.
INLINE_LIMIT = 0.3 * LINE_WIDTH


def inline_tex(node: ast.Node) -> str:
    """An expression in running text: :func:`to_latex` when it is short; when long, its pieces
    (:func:`to_latex_lines`) joined by ``\\allowbreak``, so that the paragraph may break the
    line there (TeX breaks a formula in text only after a relation or an operator, and never
    inside ``\\left...\\right``)."""
    flat = to_latex(node)
    if tex_width(flat) <= INLINE_LIMIT:
        return flat
    return r" \allowbreak ".join(to_latex_lines(node, INLINE_LIMIT / 2, display=False))


def law_tex(call: ast.Call) -> str:
    head = LAW_NAMES.get(call.func, rf"\mathrm{{{call.func}}}")
    flat = head + r"\left(" + ", ".join(to_latex(a) for a in call.args) + r"\right)"
    if tex_width(flat) <= INLINE_LIMIT or not call.args:
        return flat
    return head + inline_tex(ast.ListExpr(call.pos, tuple(call.args)))


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
            out.append(f"${head} = {inline_tex(item.body)}$")
    for a in t.assumptions:
        out.append(f"assume ${to_latex(a.lhs)} {RELATIONS[a.rel]} {to_latex(a.rhs)}$")
    return out


def relation_tex(rel: str, limit_var: str | None) -> str:
    """A relation of a claim or step; ``->`` a limit, ``~>`` a limit in distribution."""
    if rel == "->":
        return rf"\xrightarrow[{name(limit_var or 'n')} \to \infty]{{}}"
    if rel == "~>":
        return rf"\xrightarrow[{name(limit_var or 'n')} \to \infty]{{\mathrm{{d}}}}"
    return RELATIONS[rel]


def claim_tex(c: ast.Relation) -> str:
    return (f"{to_latex(c.lhs)} {relation_tex(c.rel, c.limit_var)} {to_latex(c.rhs)}"
            + within_tex(c.tolerance))


def _share(width: float) -> str:
    """A width in points as a share of ``\\linewidth`` (the printed documents' line)."""
    return f"{max(width, 0.0) / LINE_WIDTH:.2f}\\linewidth"


def fitted(line: str, width: float) -> str:
    """A line of a display, scaled down to ``width`` points by ``\\fitmath`` when its
    estimated width is over it (it could not be broken further)."""
    return line if tex_width(line) <= width else rf"\fitmath{{{_share(width / FIT)}}}{{{line}}}"


def relation_lines(lhs: ast.Node, rel: str, rhs: ast.Node, tail: str, width: float) -> list[str]:
    """``lhs rel rhs tail`` in lines of about ``width`` points: each side broken by
    :func:`to_latex_lines`, the relation starting the line of the right-hand side unless it
    fits after the left one, ``tail`` (a tolerance) on the last line when it fits there."""
    lines = to_latex_lines(lhs, width)
    right = to_latex_lines(rhs, width - tex_width(rel) - 5.0)
    joined = f"{lines[-1]} {rel} {right[0]}"
    if tex_width(joined) <= width:
        lines[-1] = joined
    else:
        lines.append(f"{{}} {rel} {right[0]}")
    lines += right[1:]
    if tail:
        if tex_width(lines[-1] + tail) <= width:
            lines[-1] += tail
        else:
            lines.append(tail)
    return lines


def claim_display(c: ast.Relation) -> str:
    """The claim as a display: ``\\[ ... \\]`` when it fits the line, else a ``multline*``
    broken by :func:`relation_lines`, a line that does not break scaled to the line."""
    flat = claim_tex(c)
    width = FIT * LINE_WIDTH
    if tex_width(flat) <= width:
        return r"\[ " + flat + r" \]"
    lines = relation_lines(c.lhs, relation_tex(c.rel, c.limit_var), c.rhs, within_tex(c.tolerance),
                           width - 20.0)  # multline indents its first and last lines
    if len(lines) == 1:
        return r"\[ " + fitted(lines[0], width) + r" \]"
    return ("\\begin{multline*}\n" + " \\\\\n".join(fitted(line, width - 20.0) for line in lines)
            + "\n\\end{multline*}")


#: A row of a derivation: the relation (None for the first expression), the expression, the
#: tolerance's LaTeX and the justification's (text mode).
DerivationRow = tuple[str | None, ast.Node, str, str]


def derivation_rows(rows: list[DerivationRow]) -> list[str]:
    """The rows of a derivation's ``align*``: ``& rel expression && \\text{justification}``.
    When the widest expression and the widest justification do not fit the line together, a
    justification wider than its column (at most :data:`JUSTIFICATION_SHARE` of the line, more
    where the expressions leave room) wraps in a ``\\parbox``, and an expression wider than
    the rest of the line is broken over rows (:func:`relation_lines_after`), a piece that does
    not break scaled to it. Widths are in points; a formula's estimate is taken as :data:`FIT`
    of its width, a text's as its width."""
    flat = [(f"{rel} " if rel else " ") + to_latex(expr) + tail for rel, expr, tail, _ in rows]
    widest = max(tex_width(f) for f in flat) / FIT
    justification = max((tex_width(j, math=False) for *_, j in rows if j), default=0.0)
    if widest + justification + _COLUMN_GAP <= LINE_WIDTH:
        return [f"  &{f}" + (rf" && \text{{{j}}}" if j else "")
                for f, (*_, j) in zip(flat, rows, strict=True)]
    column = min(justification, max(JUSTIFICATION_SHARE * LINE_WIDTH, LINE_WIDTH - widest - _COLUMN_GAP))
    room = FIT * (LINE_WIDTH - column - _COLUMN_GAP)  # for the formulas' estimates
    indent = tex_width(_CONTINUATION)
    out = []
    for f, (rel, expr, tail, j) in zip(flat, rows, strict=True):
        if not j:
            note = ""
        elif tex_width(j, math=False) <= column:
            note = rf" && \text{{{j}}}"
        else:
            note = rf" && \parbox[t]{{{_share(column)}}}{{\raggedright {j}}}"
        if tex_width(f) <= room + 0.5:
            out.append(f"  &{f}{note}")
            continue
        if rel is None:
            lines = to_latex_lines(expr, room - indent)
            lines[-1] += tail
        else:
            lines = relation_lines_after(rel, expr, tail, room - indent)
        out.append(f"  &{fitted(lines[0], room)}{note}")
        out += [f"  &{_CONTINUATION}{fitted(more, room - indent)}" for more in lines[1:]]
    return out


def relation_lines_after(rel: str, expr: ast.Node, tail: str, width: float) -> list[str]:
    """``rel expr tail`` (a step of a derivation) in lines of about ``width`` points."""
    lines = to_latex_lines(expr, width - tex_width(rel) - 5.0)
    lines[0] = f"{rel} {lines[0]}"
    if tail and tex_width(lines[-1] + tail) > width:
        return [*lines, tail]
    lines[-1] += tail
    return lines


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


def figure_tex(name: str, caption: str) -> str:
    """A figure tpcheck drew (``name``, a file the build folder holds), with its caption as text;
    where the file is missing (the LaTeX went to standard output) a line says so instead."""
    missing = rf"\fbox{{\footnotesize figure \texttt{{{text(name)}}} was not drawn}}"
    return (r"\begin{figure}[htbp]\centering" + "\n"
            + rf"\IfFileExists{{{name}}}{{\includegraphics[width=\textwidth]{{{name}}}}}{{{missing}}}" + "\n"
            + rf"\caption{{{text(caption)}}}" + "\n" + r"\end{figure}")


def render_theorem(t: ast.Theorem, result: TheoremResult | None, cites: Citations,
                   figures: list[tuple[str, str]] | None = None) -> str:
    """One theorem: statement, setting, claim, and the checked derivation, then the figures
    (file name, caption) drawn from its evidence."""
    lines = [rf"\begin{{theorem}}[\texttt{{{text(t.name)}}}]\label{{thm:{label(t.name)}}}"]
    stmt = statement_tex(t.statement) + cites.cite(t.cites)
    if stmt.strip():
        lines.append(stmt)
    setting = declarations(t)
    if setting:
        # ragged right (to the theorem's end): a long formula's pieces end lines, not stretch them
        lines.append(r"\par\raggedright\noindent{\upshape\emph{Setting:} " + "; ".join(setting) + ".}")
    assert t.claim is not None and t.chain is not None
    lines.append(claim_display(t.claim))
    lines.append(r"\end{theorem}")
    steps = result.steps if result is not None else []
    lines.append(r"\begin{proof}[Derivation]")
    lines.append(r"\begin{align*}")
    rows: list[DerivationRow] = [(None, t.chain.start, "", "")]
    for i, link in enumerate(t.chain.links):
        step = steps[i] if i < len(steps) else None
        tag = verdict_tag(step) if step is not None else r"\weak{not checked}"
        rows.append((relation_tex(link.rel, link.limit_var), link.expr, within_tex(link.tolerance),
                     f"{rule_phrase(link.rule.name)}; {tag}"))
    lines.append(" \\\\\n".join(derivation_rows(rows)))
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
                     rf" (the weakest of its steps; evidence on page~\pageref{{ev:{label(t.name)}}}).{note}")
    lines.append(r"\end{proof}")
    lines.extend(figure_tex(name, caption) for name, caption in figures or [])
    return "\n".join(lines)


def evidence_section(t: ast.Theorem, result: TheoremResult, path: str, sha: str,
                     heading: str = r"\subsection*") -> str:
    """A theorem's evidence: where it comes from (file, line, sha256, seed), one table row a
    step (rule, verdict, instances or range, digits, Monte-Carlo size, seed, z), what the
    witnesses could not do or disputed, and its trust ledger in one line."""
    out = [rf"{heading}{{\textmd{{\texttt{{{text(t.name)}}}}}}}\label{{ev:{label(t.name)}}}",
           rf"{{\raggedright\noindent File \texttt{{{text(path)}}}, line {t.pos.line}; sha256 "
           rf"\texttt{{{sha[:16]}}}\dots; seed {result.seed}.\par}}",
           # the instances wrap in what the line leaves them (tabularx's X column)
           r"\begin{center}\footnotesize"
           r"\begin{tabularx}{\linewidth}{@{}rll>{\raggedright\arraybackslash}Xrrll@{}}\toprule",
           r"line & rule & verdict & instances or range & digits & Monte-Carlo & seed & $z$ \\"
           r"\midrule"]
    for s in result.steps:
        row = [str(s.line), rf"\texttt{{{text(s.rule)}}}",
               text(verdict_label(s.verdict, [s.evidence]).lower()), _instances_tex(s),
               *_witness_cells(s)]
        out.append(" & ".join(row) + r" \\")
    out.append(r"\bottomrule\end{tabularx}\end{center}")
    notes = _evidence_notes(result)
    if notes:
        out.append(r"{\footnotesize\noindent " + r"\\ ".join(notes) + r"\par}")
    out.append(_rests_on_tex(result))
    return "\n".join(out)


_TT_UNDERSCORE = _TEXT_SPECIALS["_"]
_DICT_REPR = re.compile(r"\{((?:'[^'{}]*': '[^'{}]*'(?:, )?)*)\}")
_PAIR_REPR = re.compile(r"'([^'{}]*)': '([^'{}]*)'")


def plain_detail(detail: str) -> str:
    """A witness's detail without Python's notation: ``{'n': '4'}`` reads ``n = 4``,
    ``instances [{}]`` goes."""
    detail = re.sub(r";?\s*instances \[\{\}\]", "", detail)

    def pairs(m: re.Match[str]) -> str:
        found = _PAIR_REPR.findall(m.group(1))
        return ", ".join(f"{k} = {v}" for k, v in found) if found else "no parameters"

    return _DICT_REPR.sub(pairs, detail)


def _instance_values(instances: list[dict[str, Any]]) -> str:
    """``n = 5, 20; m4 = 1`` for the instances a witness used: per name its distinct values."""
    values: dict[str, list[str]] = {}
    for inst in instances:
        for k, v in (inst or {}).items():
            if str(v) not in values.setdefault(str(k), []):
                values[str(k)].append(str(v))
    shown = []
    for k, vs in values.items():
        more = f", \\dots\\ ({len(vs)} values)" if len(vs) > 4 else ""
        shown.append(f"${name(k)} = {', '.join(text(v) for v in vs[:4])}${more}")
    return "; ".join(shown)


def _instances_tex(s: StepResult) -> str:
    if s.range:
        return _ranges_tex(s.range)
    for e in s.evidence:
        if e.kind == "mpmath" and e.data.get("n") and e.ok is not None:
            return r"limit at $10^{8}, \dots, 10^{64}$"
    mc = [e.data["instance"] for e in s.evidence
          if e.kind == "montecarlo" and isinstance(e.data.get("instance"), dict)]
    mp = [i for e in s.evidence if e.kind == "mpmath" and e.ok is not None
          for i in (e.data.get("instances") or []) if isinstance(i, dict)]
    shown = _instance_values(mc or mp)
    if mp and not mc and len(mp) > 1:
        shown = f"{len(mp)} instances: " + shown if shown else f"{len(mp)} instances"
    return shown or "--"


def _witness_cells(s: StepResult) -> list[str]:
    """digits, Monte-Carlo size, seeds and the z of largest size, or dashes."""
    digits = [e.data["digits"] for e in s.evidence
              if e.kind == "mpmath" and e.ok is not None and isinstance(e.data.get("digits"), int)]
    runs = [e.data for e in s.evidence if e.kind == "montecarlo" and "samples" in e.data]
    cells = [str(max(digits)) if digits else "--"]
    if not runs:
        return [*cells, "--", "--", "--"]
    sizes = sorted({int(r["samples"]) for r in runs})
    size = (f"{len(runs)} $\\times$ {sizes[0]}" if len(runs) > 1 and len(sizes) == 1
            else ", ".join(map(str, sizes)))
    seeds = sorted(int(r["seed"]) for r in runs if isinstance(r.get("seed"), int))
    seed = (str(seeds[0]) if len(seeds) == 1 else f"{seeds[0]}--{seeds[-1]}" if seeds else "--")
    zs = [float(r["z"]) for r in runs if isinstance(r.get("z"), int | float)]
    z = f"${max(zs, key=abs):.2f}$" if zs else "--"
    return [*cells, size, seed, z]


def _evidence_notes(result: TheoremResult) -> list[str]:
    """What the table does not say, once each: why a witness did not run, what one disputed,
    what a failing step's rule said, what Coq said."""
    notes: dict[str, list[int]] = {}
    for s in result.steps:
        if not s.verdict.passes or s.verdict is Verdict.PARTIAL:
            notes.setdefault(f"the rule: {plain_detail(s.detail)}", []).append(s.line)
        if s.disagreement:
            notes.setdefault(f"disagreement: {plain_detail(s.disagreement)}", []).append(s.line)
        for e in s.evidence:
            if e.kind == "symbolic" or (e.ok is True and e.kind in ("mpmath", "montecarlo")):
                continue
            mark = {True: "agrees", False: "disagrees", None: "not used"}[e.ok]
            notes.setdefault(f"{e.kind} {mark}: {plain_detail(e.detail)}", []).append(s.line)
    out = []
    for note, lines in notes.items():
        where = "line" + ("s " if len(lines) > 1 else " ") + ", ".join(map(str, sorted(set(lines))))
        out.append(f"{where}: {text(note)}")
    return out


def _rests_on_tex(result: TheoremResult) -> str:
    """What the verdict rests on beyond the kernel, the elaborator and sympy's arithmetic, in
    one line."""
    r = result.rests_on
    if not r["rules"]:
        return r"\par\noindent\emph{Rests on} nothing beyond the foundation: no step passed."
    rules = ", ".join(rf"\texttt{{{text(n)}}}" for n in r["rules"])
    algorithms = ", ".join(rf"\texttt{{{text(a)}}}" for a in r["algorithms"]) or "nothing more"
    # ragged right: long typewriter names would stretch a justified line's spaces too far
    return (rf"\par{{\raggedright\noindent\emph{{Rests on}} the rules {rules}; the algorithms "
            rf"{algorithms}.\par}}")


#: The evidence appendix's first paragraph: how to read its tables.
EVIDENCE_INTRO = (
    rf"\noindent Checked by tpcheck {text(__version__)}. Per theorem: its file, the sha256 of the "
    r"file and the seed of its witnesses; per step the rule, the verdict, the instances or range "
    r"checked, the digits of the mpmath witness, the Monte-Carlo sample size (runs $\times$ "
    r"samples), its seeds and the $z$-score of largest size; then what each theorem rests on "
    r"beyond the kernel, the elaborator and sympy's exact arithmetic (the trusted base, "
    r"\texttt{docs/design.md}).")


def render_document(files: list[tuple[str, str, ast.ProofFile, Any]], cites: Citations,
                    bib: str | None = None, body_only: bool = False,
                    figures: dict[tuple[str, str], list[tuple[str, str]]] | None = None) -> str:
    """A standalone document (or, with ``body_only``, the theorem bodies) for checked files:
    each entry is (path, sha256, tree, FileReport); ``figures`` maps (path, theorem) to the
    figures drawn from its evidence (file name, caption)."""
    body: list[str] = []
    appendix: list[str] = []
    for path, sha, tree, report in files:
        results = {r.name: r for r in report.theorems} if report is not None else {}
        if not body_only:
            body.append(rf"\section{{\texttt{{{text(path)}}}}}")
        for t in tree.theorems:
            result = results.get(t.name)
            body.append(render_theorem(t, result, cites, (figures or {}).get((path, t.name))))
            if result is not None:
                appendix.append(evidence_section(t, result, path, sha))
        for e in getattr(report, "errors", []):
            body.append(r"\par\noindent\failed{error}: \texttt{" + text(e.splitlines()[0]) + "}")
    if body_only:
        return "\n\n".join(body) + "\n"
    # names break after their underscores and verdicts (with their ranges) wrap, in what the
    # files' names leave them
    ragged = r">{\raggedright\arraybackslash}X"
    summary = [rf"\begin{{center}}\small\begin{{tabularx}}{{\linewidth}}{{@{{}}{ragged}{ragged}l@{{}}}}",
               r"theorem & verdict & file \\ \hline"]
    for path, _, _tree, report in files:
        for r in report.theorems if report is not None else []:
            where = ""
            if r.range:
                where = " (" + _ranges_tex(r.range) + (" only" if r.verdict is Verdict.PARTIAL else "") + ")"
            breakable = text(r.name).replace(_TT_UNDERSCORE, _TT_UNDERSCORE + r"\allowbreak ")
            summary.append(rf"\hyperref[thm:{label(r.name)}]{{\texttt{{{breakable}}}}} & "
                           rf"{text(verdict_label(r.verdict, [s.evidence for s in r.steps]))}{where} & "
                           rf"\texttt{{{text(path)}}} \\")
    summary.append(r"\end{tabularx}\end{center}")
    doc = [PREAMBLE, r"\title{Checked derivations}", rf"\author{{tpcheck {text(__version__)}}}",
           r"\date{}", r"\begin{document}", r"\maketitle", *summary, *body,
           r"\appendix", r"\section{Evidence}", EVIDENCE_INTRO, *appendix]
    if bib is not None:
        doc += [r"\bibliographystyle{plain}", rf"\bibliography{{{bib}}}"]
    doc.append(r"\end{document}")
    return "\n\n".join(doc) + "\n"
