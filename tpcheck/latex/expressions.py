"""Expressions in LaTeX, printed from the syntax tree: what the reader sees is what the author
wrote and the checker checked, without re-simplification.

Every node is printed once (a printer that printed a sub-tree twice to choose its brackets
would take time exponential in the nesting), and chains ``a + b - c``, ``a * b / c`` are
folded in a loop, so a sum of 10^4 terms is one level of recursion, not 10^4.
"""

from __future__ import annotations

import re

from tpcheck.lang import ast
from tpcheck.lang.parser import PRECEDENCE, chain_group, fold_chain

GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi",
    "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Phi", "Psi", "Omega",
}
ALIASES = {"eps": r"\varepsilon", "epsilon": r"\varepsilon", "oo": r"\infty", "lam": r"\lambda"}

OPERATORS = {
    "sqrt": None, "exp": r"\exp", "log": r"\log", "sin": r"\sin", "cos": r"\cos", "tan": r"\tan",
    "tanh": r"\tanh", "sinh": r"\sinh", "cosh": r"\cosh", "arctan": r"\arctan",
    "arcsin": r"\arcsin", "arccos": r"\arccos", "erf": r"\operatorname{erf}",
    "gamma": r"\Gamma", "relu": r"\operatorname{relu}", "step": r"\operatorname{step}",
    "sech": r"\operatorname{sech}", "abs": None, "factorial": None,
    # the law a claim converges to in distribution (X ~> Normal(m, v)), as declarations print it
    "Normal": r"\mathcal{N}",
}

#: A sum, product or integral sign binds its body to the right: looser than a product.
BIG_OPERATOR = 15


def name(identifier: str) -> str:
    """A name in math mode: Greek letters, trailing digits as subscripts (m4 -> m_{4})."""
    if identifier in ALIASES:
        return ALIASES[identifier]
    m = re.fullmatch(r"([A-Za-z]+?)_?(\d+)", identifier)
    if m and m.group(1) not in ("",):
        return f"{name(m.group(1))}_{{{m.group(2)}}}"
    if identifier in GREEK:
        return "\\" + identifier
    if len(identifier) == 1:
        return identifier
    if "_" in identifier:
        head, _, tail = identifier.partition("_")
        return f"{name(head)}_{{\\mathrm{{{tail}}}}}"
    return f"\\mathit{{{identifier}}}"


def to_latex(node: ast.Node) -> str:
    """LaTeX for an expression tree."""
    return _tex(node, 0)


def _wrap(text: str, inner: int, outer: int) -> str:
    return rf"\left({text}\right)" if inner < outer else text


def _tex(n: ast.Node, ctx: int) -> str:  # noqa: C901
    if isinstance(n, ast.Num):
        mantissa, _, exponent = n.text.lower().partition("e")
        if exponent:
            power = f"10^{{{int(exponent)}}}"
            return power if mantissa == "1" else rf"{mantissa} \cdot {power}"
        return n.text
    if isinstance(n, ast.Name):
        return name(n.id)
    if chain_group(n) is not None:
        return _chain(n, ctx)
    if isinstance(n, ast.BinOp):
        p = PRECEDENCE[n.op]
        if n.op == "^":
            if isinstance(n.left, ast.Call | ast.Postfix | ast.Expect | ast.Var | ast.Prob):
                base = rf"\left({_tex(n.left, 0)}\right)"
            else:
                base = _tex(n.left, p + 1)
            return _wrap(f"{{{base}}}^{{{_tex(n.right, 0)}}}", p, ctx)
        return _wrap(f"{_tex(n.left, p)}{_tex(n.right, p + 1)}", p, ctx)  # implicit: 2k
    if isinstance(n, ast.Neg):
        return _wrap(f"-{_tex(n.operand, PRECEDENCE['neg'])}", PRECEDENCE["neg"], ctx)
    if isinstance(n, ast.Postfix):
        if isinstance(n.operand, ast.Num | ast.Name):
            return f"{_tex(n.operand, PRECEDENCE['postfix'])}{n.op}"
        return rf"\left({_tex(n.operand, 0)}\right){n.op}"
    if isinstance(n, ast.Abs):
        return rf"\left\lvert {_tex(n.operand, 0)} \right\rvert"
    if isinstance(n, ast.Expect):
        return rf"\mathbb{{E}}\left[{_tex(n.arg, 0)}\right]"
    if isinstance(n, ast.Var):
        return rf"\operatorname{{Var}}\left[{_tex(n.arg, 0)}\right]"
    if isinstance(n, ast.Prob):
        rel = {"=": "=", "<=": r"\le", "<": "<", ">=": r"\ge", ">": ">"}[n.rel]
        return rf"\mathbb{{P}}\left[{_tex(n.lhs, 0)} {rel} {_tex(n.rhs, 0)}\right]"
    if isinstance(n, ast.Index):
        return f"{name(n.name)}_{{{', '.join(_tex(i, 0) for i in n.indices)}}}"
    if isinstance(n, ast.ListExpr):
        return r"\left(" + ", ".join(_tex(i, 0) for i in n.items) + r"\right)"
    if isinstance(n, ast.Binding):
        return f"{name(n.var)} = {_tex(n.lo, 0)}, \\dots, {_tex(n.hi, 0)}"
    if isinstance(n, ast.Member):
        return rf"{name(n.var)} \in {_tex(n.collection, 0)}"
    if isinstance(n, ast.Keyword):
        known = {"sigma_w2": r"\sigma_w^2", "sigma_b2": r"\sigma_b^2", "phi": r"\phi"}
        key = known.get(n.var, rf"\text{{{n.var.replace('_', ' ')}}}")
        return f"{key} = {_tex(n.value, 0)}"
    if isinstance(n, ast.Call):
        return _call(n, ctx)
    raise TypeError(f"cannot print {type(n).__name__}")


def _chain(n: ast.BinOp, ctx: int) -> str:
    """A chain ``a + b - c`` or ``a * b / c`` (``/`` as nested fractions), folded in a loop.
    Inside the chain no link needs brackets; only the whole chain is wrapped for ``ctx``."""
    first, links = fold_chain(n)
    text, p = "", PRECEDENCE[links[0].op]
    plus, times = PRECEDENCE["+"], PRECEDENCE["*"]
    for i, link in enumerate(links):
        if link.op == "/":
            denominator = _tex(link.right, 0)
            if i == 0 and isinstance(first, ast.Neg):  # -a/b reads better as -\frac{a}{b}
                text, p = rf"-\frac{{{_tex(first.operand, 0)}}}{{{denominator}}}", PRECEDENCE["neg"]
            else:
                numerator = text if i else _tex(first, 0)
                text, p = rf"\frac{{{numerator}}}{{{denominator}}}", times
        elif link.op == "*":
            left = text if i else _tex(first, times)
            right = _tex(link.right, times + 1)
            sep = r" \cdot " if _starts_with_digit(right) else r"\, "
            text, p = f"{left}{sep}{right}", times
        else:
            left = text if i else _tex(first, plus)
            text, p = f"{left} {link.op} {_tex(link.right, plus + 1)}", plus
    return _wrap(text, p, ctx)


def _starts_with_digit(text: str) -> bool:
    return bool(text) and (text[0].isdigit() or text.startswith(r"\frac"))


def _args(n: ast.Call) -> list[str]:
    return [_tex(a, 0) for a in n.args]


#: The special forms of calls, by name, with their number of arguments; a call with another
#: number (an error the elaborator reports) is printed plainly, ``f(a, b)``.
_ARITY = {"sqrt": 1, "abs": 1, "factorial": 1, "binomial": 2, "catalan": 1, "narayana": 2,
          "ff": 2, "rf": 2, "pairings": 1, "ncpairings": 1, "genus_sum": 2, "moment_sum": 3,
          "tr": 1}


def _call(n: ast.Call, ctx: int) -> str:  # noqa: C901
    f, a = n.func, n.args
    if _ARITY.get(f, len(a)) != len(a):
        f = ""
    if f == "sqrt":
        return rf"\sqrt{{{_tex(a[0], 0)}}}"
    if f == "abs":
        return rf"\left\lvert {_tex(a[0], 0)} \right\rvert"
    if f == "factorial":
        return rf"\left({_tex(a[0], 0)}\right)!"
    if f == "binomial":
        return rf"\binom{{{_tex(a[0], 0)}}}{{{_tex(a[1], 0)}}}"
    if f == "catalan":
        return rf"C_{{{_tex(a[0], 0)}}}"
    if f == "narayana":
        return rf"N\left({_tex(a[0], 0)}, {_tex(a[1], 0)}\right)"
    if f == "ff":
        return rf"\left({_tex(a[0], 0)}\right)_{{{_tex(a[1], 0)}}}"
    if f == "rf":
        return rf"{_tex(a[0], PRECEDENCE['^'] + 1)}^{{\overline{{{_tex(a[1], 0)}}}}}"
    if f == "pairings":
        return rf"\#\mathcal{{P}}_2\left({_tex(a[0], 0)}\right)"
    if f == "ncpairings":
        return rf"\#\mathrm{{NC}}_2\left({_tex(a[0], 0)}\right)"
    if f == "genus_sum" and isinstance(a[1], ast.Num | ast.Name):
        # k is shown twice: only a name or a number, or nesting would double the text each time
        nn, k = _args(n)
        return (rf"\sum_{{\pi \in \mathcal{{P}}_2(2{k})}} "
                rf"{{{nn}}}^{{\#(\gamma\pi) - {k} - 1}}")
    if f == "moment_sum":
        x, nn, k = _args(n)
        return (rf"\sum_{{\pi \in \Pi({k}),\ |B| \ge 2}} ({nn})_{{|\pi|}} "
                rf"\prod_{{B \in \pi}} \mathbb{{E}}\left[{x}^{{|B|}}\right]")
    if f == "tr":
        return rf"\operatorname{{tr}}\left({_tex(a[0], 0)}\right)"
    if f in ("sum", "prod") and len(a) == 2 and isinstance(a[1], ast.Binding):
        b = a[1]
        op = r"\sum" if f == "sum" else r"\prod"
        body = _tex(a[0], PRECEDENCE["*"])
        out = rf"{op}_{{{name(b.var)}={_tex(b.lo, 0)}}}^{{{_tex(b.hi, 0)}}} {body}"
        return _wrap(out, BIG_OPERATOR, ctx)
    if f == "integral" and (len(a) == 4 or (len(a) == 2 and isinstance(a[1], ast.Binding))):
        if len(a) == 4:
            body, var, lo, hi = a
            v = _tex(var, 0)
        else:
            body, b = a
            v, lo, hi = name(b.var), b.lo, b.hi
        integrand = _tex(body, PRECEDENCE["*"])
        return _wrap(rf"\int_{{{_tex(lo, 0)}}}^{{{_tex(hi, 0)}}} {integrand} \,\mathrm{{d}}{v}",
                     BIG_OPERATOR, ctx)
    op = OPERATORS.get(n.func)
    head = op if op is not None else function_name(n.func)
    return rf"{head}\left({', '.join(_args(n))}\right)"


def function_name(identifier: str) -> str:
    """A called function's name: words joined by underscores (``update_exponent``,
    ``nngp_limit``) are one upright name, not a subscript; ``phi_w`` or ``f_1`` stay subscripted."""
    head = identifier.partition("_")[0]
    if "_" in identifier and len(head) > 1 and head not in GREEK and head not in ALIASES \
            and re.fullmatch(r"[A-Za-z]+(_[A-Za-z0-9]+)+", identifier):
        return r"\operatorname{" + identifier.replace("_", r"\_") + "}"
    return name(identifier)


# ---- widths and line breaks -----------------------------------------------------------------
#
# A display that is wider than the line is broken where the expression allows it: before the
# ``+`` and ``-`` of a sum, between the arguments of a function or the items of a list, inside
# ``E[...]``, around the widest factor of a product. Widths are estimated from the printed LaTeX
# in points of an 11pt document (measured with pdflatex: a math letter 5.3pt, a digit 5.5pt, a
# binary operator with its spaces 13.2pt, a relation 14.6pt); the estimate errs on the wide side.

#: Widths of control words in points: symbols, spaces, operators.
_WORD_WIDTHS = {
    ",": 1.9, ";": 3.1, ":": 2.5, "!": -1.9, " ": 3.7, "quad": 11.0, "qquad": 22.0, "cdot": 8.6,
    "times": 13.2, "pm": 13.2, "mp": 13.2, "le": 14.6, "ge": 14.6, "leq": 14.6, "geq": 14.6,
    "approx": 14.6, "to": 17.1, "sim": 14.6, "in": 13.4, "ne": 14.6, "neq": 14.6,
    "dots": 14.7, "ldots": 14.7, "cdots": 14.7, "infty": 11.0, "sum": 16.0, "prod": 14.0,
    "int": 10.0, "#": 9.2, "{": 5.5, "}": 5.5, "lvert": 3.1, "rvert": 3.1, "_": 5.8,
    "textbackslash": 5.8, "textasciicircum": 5.8, "textasciitilde": 5.8, "$": 5.5, "&": 8.5,
    "%": 9.2, "dagger": 5.5, "top": 8.6, "partial": 6.3, "nabla": 9.2, "ell": 4.6,
}
#: Control words that print their argument in a font of about this many points a character.
_FONT_WIDTHS = {"mathit": 4.8, "mathrm": 5.0, "operatorname": 4.6, "mathbf": 6.0, "mathbb": 7.7,
                "mathcal": 8.5, "mathfrak": 7.0, "mathsf": 5.0, "texttt": 5.8, "textsc": 6.5,
                "verdict": 6.5, "weak": 6.5, "failed": 7.0, "textmd": 5.4, "emph": 5.0,
                "textbf": 6.1, "textit": 5.0, "text": 5.4}
#: Control words whose argument is typeset and measured as it is (accents, boxes, styles).
_TRANSPARENT = frozenset({"hat", "widehat", "tilde", "widetilde", "bar", "overline", "underline",
                          "vec", "dot", "ddot", "boldsymbol", "mathop", "mathopen", "mathclose",
                          "displaystyle", "textstyle", "upshape"})
#: Control words that print nothing: delimiter sizes, penalties, style switches.
_INVISIBLE = frozenset({"bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr",
                        "big", "Big", "bigg", "allowbreak", "nolimits", "limits", "ttfamily",
                        "relax", "noindent", "par", "footnotesize", "small"})
#: Operator names set upright: about 5pt a letter and a thin space.
_OPERATOR_WORDS = frozenset({"exp", "log", "ln", "sin", "cos", "tan", "tanh", "sinh", "cosh",
                             "arctan", "arcsin", "arccos", "det", "max", "min", "sup", "inf",
                             "lim", "Pr", "deg", "dim", "ker"})
_TEX_TOKEN = re.compile(r"\\([A-Za-z]+|.)|(.)", re.DOTALL)
_MATH_LETTER, _CAPITAL, _DIGIT, _BINARY, _RELATION, _TEXT_CHARACTER = 5.4, 7.8, 5.5, 13.2, 14.6, 5.4
_MATH_MARGIN = 1.05  # the estimate of mathematics errs on the wide side by this factor
_SCRIPT = 0.7  # a sub- or superscript is typeset at about 70% of the size


class _WidthReader:
    """Recursive descent over printed LaTeX, adding up estimated widths."""

    def __init__(self, tex: str) -> None:
        self.tokens = [(m.group(1), m.group(2)) for m in _TEX_TOKEN.finditer(tex)]
        self.i = 0

    def group(self, math: bool, scale: float) -> float:
        """The width of one argument: a braced group or a single token."""
        if self.i >= len(self.tokens):
            return 0.0
        if self.tokens[self.i] == (None, "{"):
            self.i += 1
            width = self.sequence(math, scale, stop="}")
            self.i += 1
            return width
        return self.atom(math, scale)

    def sequence(self, math: bool, scale: float, stop: str | None = None) -> float:
        width = 0.0
        while self.i < len(self.tokens) and self.tokens[self.i] != (None, stop):
            width += self.atom(math, scale)
        return width

    def scripts(self, scale: float) -> float:
        """Consecutive ``^`` and ``_`` stack: the wider of the two counts."""
        widths = []
        while self.i < len(self.tokens) and self.tokens[self.i] in ((None, "^"), (None, "_")):
            self.i += 1
            widths.append(self.group(True, scale * _SCRIPT))
        return max(widths, default=0.0)

    def atom(self, math: bool, scale: float) -> float:  # noqa: C901
        word, ch = self.tokens[self.i]
        self.i += 1
        if word is None:
            if ch == "{":
                width = self.sequence(math, scale, stop="}")
                self.i += 1
                return width
            if ch in "^_" and math:
                self.i -= 1
                return self.scripts(scale)
            if ch == "$":
                return 0.0 if math else self.sequence(True, scale, stop="$") + self._skip()
            return scale * self._character(ch, math)
        if word in ("frac", "dfrac", "tfrac", "binom"):
            inner = scale if word != "tfrac" else scale * _SCRIPT
            widths = max(self.group(math, inner), self.group(math, inner)) + 2.4 * scale
            return widths + (10.0 * scale if word == "binom" else 0.0)
        if word == "sqrt":
            return self.group(math, scale) + 9.0 * scale
        if word in ("xrightarrow", "xleftarrow"):
            under = 0.0
            if self.i < len(self.tokens) and self.tokens[self.i] == (None, "["):
                self.i += 1
                under = self.sequence(math, scale * _SCRIPT, stop="]")
                self.i += 1
            return max(self.group(math, scale * _SCRIPT), under, 16.0 * scale) + 12.0 * scale
        if word in ("sum", "prod", "int"):
            return max(_WORD_WIDTHS[word] * scale, self.scripts(scale))
        if word in _FONT_WIDTHS:
            per = _FONT_WIDTHS[word] * scale
            if self.i >= len(self.tokens) or self.tokens[self.i] != (None, "{"):
                return per
            return self.group(word not in ("text", "verdict", "weak", "failed", "textmd", "emph",
                                           "textbf", "textit", "texttt", "textsc")
                              and math, per / _TEXT_CHARACTER)
        if word in _TRANSPARENT:
            return self.group(math, scale) if word not in ("displaystyle", "textstyle",
                                                           "upshape") else 0.0
        if word in _INVISIBLE:
            return 0.0
        if word in ("left", "right"):
            return 1.8 * scale  # \left...\right is an inner atom: thin spaces around it
        if word in _OPERATOR_WORDS:
            return scale * (5.0 * len(word) + 1.7)
        if word in ("\\", "hline", "label", "ref", "pageref", "cite"):
            if word in ("label", "ref", "pageref", "cite"):
                self.group(False, scale)
            return 0.0 if word != "pageref" and word != "ref" else 15.0 * scale
        if word in ("parbox", "resizebox", "fitmath"):
            return 0.0  # measured by whoever chose its width
        return scale * _WORD_WIDTHS.get(word, 6.0)

    def _skip(self) -> float:
        self.i += 1  # the closing dollar
        return 0.0

    @staticmethod
    def _character(ch: str, math: bool) -> float:
        if not math:
            return 3.7 if ch == " " else 2.7 if ch in ".,;:!'|()[]" else _TEXT_CHARACTER
        if ch == " ":
            return 0.0
        if ch.isdigit():
            return _DIGIT
        if ch in "+-*":
            return _BINARY
        if ch in "=<>":
            return _RELATION
        if ch in ",;":
            return 4.7
        if ch in "()[]|":
            return 4.3
        if ch in ".!'":
            return 3.1
        return _CAPITAL if ch.isupper() else _MATH_LETTER


def tex_width(tex: str, math: bool = True) -> float:
    """The estimated width in points (11pt type) of printed LaTeX: mathematics in display
    style, or text (``math=False``) with mathematics between dollars."""
    return _WidthReader(tex).sequence(math, 1.0) * (_MATH_MARGIN if math else 1.0)


#: How deep the breaker looks for places to break; below, a piece is kept whole (it is then
#: scaled to the line), which bounds the printing at a few times that of one line.
_MAX_BREAK_DEPTH = 8
#: Opening and closing delimiters that size themselves to a broken formula's content, which
#: ``\left`` and ``\right`` cannot do across lines.
_SIZED = {True: (r"\biggl", r"\biggr"), False: (r"\bigl", r"\bigr")}
_TALL = re.compile(r"\\(?:frac|dfrac|binom|sum|prod|int)\b")


def to_latex_lines(node: ast.Node, width: float, display: bool = True) -> list[str]:
    """LaTeX for an expression in lines of at most ``width`` points (as :func:`tex_width`
    estimates), broken before the ``+`` and ``-`` of a sum, between the arguments of a call or
    the items of a list, inside ``E[...]``, ``Var[...]`` and around the widest factor of a
    product, the shallowest places first. A piece that cannot be broken (a fraction, a power)
    is one line, wider than ``width``. Joined with spaces, the lines are one formula; brackets
    around a broken part are ``\\bigl(``/``\\bigr)`` sizes (``\\biggl`` around fractions in a
    ``display``), not ``\\left``/``\\right``, which cannot span lines. In running text
    (``display=False``) every piece of a broken part is a line of its own, so that the
    paragraph chooses where to break."""
    lines = _lines(node, 0, width, 0, display)
    return [lines[0], *("{}" + line if line[:2] in ("+ ", "- ") else line for line in lines[1:])]


def _delimiters(content: str, display: bool) -> tuple[str, str]:
    left, right = _SIZED[display and bool(_TALL.search(content))]
    return left, right


#: One piece of a broken formula: ``prefix`` + the node printed for ``ctx`` + ``suffix``.
_Piece = tuple[str, ast.Node, int, str]


def _lines(n: ast.Node, ctx: int, width: float, depth: int, display: bool) -> list[str]:  # noqa: C901
    flat = _tex(n, ctx)
    if tex_width(flat) <= width or depth >= _MAX_BREAK_DEPTH:
        return [flat]
    pieces: list[_Piece] = []
    head, tail = "", ""
    group = chain_group(n)
    if group is not None and isinstance(n, ast.BinOp) and n.op in "+-":
        first, links = fold_chain(n)
        plus = PRECEDENCE["+"]
        pieces = [("", first, plus, "")] + [(f"{link.op} ", link.right, plus + 1, "") for link in links]
        if plus < ctx:
            head, tail = _delimiters(flat, display)
            head, tail = head + "(", tail + ")"
    elif group is not None and isinstance(n, ast.BinOp):
        first, links = fold_chain(n)
        last_fraction = max((i for i, link in enumerate(links) if link.op == "/"), default=-1)
        if last_fraction == len(links) - 1:
            return [flat]  # a fraction does not break
        times = PRECEDENCE["*"]
        # the chain up to its last "/" is one fraction; the factors after it may break
        lead: ast.Node = links[last_fraction] if last_fraction >= 0 else first
        factors = [(lead, times)] + [(link.right, times + 1) for link in links[last_fraction + 1:]]
        texts = [_tex(f, c) for f, c in factors]
        widest = max(range(len(texts)), key=lambda i: tex_width(texts[i]))
        sep = [r" \cdot " if _starts_with_digit(t) else r"\, " for t in texts]
        before = "".join(t + sep[i + 1] for i, t in enumerate(texts[:widest]))
        after = "".join(sep[i] + t for i, t in enumerate(texts) if i > widest)
        pieces = [(before, factors[widest][0], factors[widest][1], after)]
        if PRECEDENCE["*"] < ctx:
            head, tail = _delimiters(flat, display)
            head, tail = head + "(", tail + ")"
    elif isinstance(n, ast.Expect | ast.Var):
        left, right = _delimiters(flat, display)
        word = r"\mathbb{E}" if isinstance(n, ast.Expect) else r"\operatorname{Var}"
        head, tail = f"{word}{left}[", f"{right}]"
        pieces = [("", n.arg, 0, "")]
    elif isinstance(n, ast.Neg):
        pieces = [("-", n.operand, PRECEDENCE["neg"], "")]
        if PRECEDENCE["neg"] < ctx:
            head, tail = _delimiters(flat, display)
            head, tail = head + "(", tail + ")"
    elif isinstance(n, ast.ListExpr | ast.Call) and _plain_call(n):
        items = n.items if isinstance(n, ast.ListExpr) else n.args
        if not items:
            return [flat]
        left, right = _delimiters(flat, display)
        call_head = "" if isinstance(n, ast.ListExpr) else (OPERATORS.get(n.func) or name(n.func))
        head, tail = f"{call_head}{left}(", f"{right})"
        pieces = [("", item, 0, "," if i < len(items) - 1 else "") for i, item in enumerate(items)]
    else:
        return [flat]
    return _fill(head, pieces, tail, width, depth, display)


def _plain_call(n: ast.ListExpr | ast.Call) -> bool:
    """Whether a call is printed ``f\\left(a, b\\right)`` (or is a list), so it breaks between
    its arguments; the special forms (``\\binom``, ``\\sum``, ...) do not."""
    if isinstance(n, ast.ListExpr):
        return True
    special = n.func in _ARITY and _ARITY[n.func] == len(n.args)
    big = n.func in ("sum", "prod", "integral")
    return not special and not big and n.func not in ("sqrt", "abs", "factorial")


def _fill(head: str, pieces: list[_Piece], tail: str, width: float, depth: int,
          display: bool) -> list[str]:
    """Pieces set greedily into lines of ``width``: a piece too wide for a line of its own is
    broken in turn; ``head`` opens the first line, ``tail`` closes the last."""
    lines: list[str] = []
    current = head
    for i, (prefix, node, ctx, suffix) in enumerate(pieces):
        if i == len(pieces) - 1:
            suffix += tail
        piece = prefix + _tex(node, ctx) + suffix
        joined = f"{current} {piece}" if current and current != head else current + piece
        if tex_width(joined) <= width and (display or current == head):
            current = joined
            continue
        if current and current != head:
            lines.append(current)
            current = ""
        start = current + prefix
        if tex_width(start + piece[len(prefix):]) <= width:
            current = start + piece[len(prefix):]
            continue
        broken = _lines(node, ctx, width - tex_width(start), depth + 1, display)
        broken[0] = start + broken[0]
        broken[-1] += suffix
        lines.extend(broken[:-1])
        current = broken[-1]
    lines.append(current)
    return lines
