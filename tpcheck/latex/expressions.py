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
    head = op if op is not None else name(n.func)
    return rf"{head}\left({', '.join(_args(n))}\right)"
