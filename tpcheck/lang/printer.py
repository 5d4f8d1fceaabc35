"""Print syntax trees back to proof-language text (fully parenthesised where needed), and
turn mathematics into text that is safe to show: integers too long to read (or beyond
Python's 4300-digit limit on converting them) are abbreviated as ``<a 5000-digit integer
1234...6789>``, and long texts are cut."""

from __future__ import annotations

import math
import re
from typing import Any

import flint
import sympy
from sympy.printing.str import StrPrinter

from tpcheck.lang import ast
from tpcheck.lang.parser import chain_group, fold_chain

#: Integers with more digits than this are shown abbreviated: nobody reads them digit by
#: digit, and Python refuses to convert integers beyond 4300 digits to text.
MAX_DIGITS_SHOWN = 200
#: An expression inside a message is cut after this many characters.
MAX_EXPRESSION_CHARS = 2_000
#: A detail, reason or counterexample value is cut after this many characters.
MAX_TEXT_CHARS = 20_000
#: Beyond this many bits an integer's digits are not computed at all, only estimated.
_EXACT_DIGITS_BITS = 10_000_000
_LONG_DIGITS = re.compile(rf"(\.?)(\d{{{MAX_DIGITS_SHOWN + 1},}})")

_PREC = {"+": 10, "-": 10, "*": 20, "/": 20, "implicit": 25, "^": 30}


def to_source(node: ast.Node) -> str:
    """Text that parses back to a tree of the same shape as ``node``."""
    return _src(node, 0)


def _wrap(text: str, inner: int, outer: int) -> str:
    return f"({text})" if inner < outer else text


def _src(n: ast.Node, ctx: int) -> str:  # noqa: C901
    if isinstance(n, ast.Num):
        return n.text
    if isinstance(n, ast.Name):
        return n.id
    if chain_group(n) is not None:
        first, links = fold_chain(n)
        p = _PREC[links[0].op]
        text = _src(first, p)
        for link in links:  # a loop, not recursion: a sum of 10^4 terms is one level
            text += f" {link.op} {_src(link.right, p + 1)}"
        return _wrap(text, p, ctx)
    if isinstance(n, ast.BinOp):
        p = _PREC[n.op]
        if n.op == "^":
            return _wrap(f"{_src(n.left, 31)}^{_src(n.right, 30)}", p, ctx)
        if n.op == "implicit":  # each sub-tree printed once: no time exponential in nesting
            if (isinstance(n.right, ast.Name | ast.Call | ast.Index | ast.Expect)
                    or (isinstance(n.right, ast.BinOp) and n.right.op == "^"
                        and isinstance(n.right.left, ast.Name))):
                right = _src(n.right, 30)
            else:
                right = f"({_src(n.right, 0)})"
            return _wrap(f"{_src(n.left, 40)}{right}", p, ctx)
    if isinstance(n, ast.Neg):
        return _wrap(f"-{_src(n.operand, 26)}", 26, ctx)
    if isinstance(n, ast.Postfix):
        inner = _src(n.operand, 40)
        if isinstance(n.operand, ast.Postfix):
            inner = f"({inner})"  # "(n!)!" is not "n!!"
        return f"{inner}{n.op}"
    if isinstance(n, ast.Abs):
        return f"|{_src(n.operand, 0)}|"
    if isinstance(n, ast.Expect):
        return f"E[{_src(n.arg, 0)}]"
    if isinstance(n, ast.Var):
        return f"Var[{_src(n.arg, 0)}]"
    if isinstance(n, ast.Prob):
        return f"P[{_src(n.lhs, 0)} {n.rel} {_src(n.rhs, 0)}]"
    if isinstance(n, ast.Index):
        return f"{n.name}[{', '.join(_src(i, 0) for i in n.indices)}]"
    if isinstance(n, ast.ListExpr):
        return f"[{', '.join(_src(i, 0) for i in n.items)}]"
    if isinstance(n, ast.Binding):
        return f"{n.var} = {_src(n.lo, 0)}..{_src(n.hi, 0)}"
    if isinstance(n, ast.Member):
        return f"{n.var} in {_src(n.collection, 0)}"
    if isinstance(n, ast.Call):
        return f"{n.func}({', '.join(_src(a, 0) for a in n.args)})"
    raise TypeError(f"cannot print {type(n).__name__}")


def shape(node: Any) -> Any:
    """The tree without source positions (for comparing trees)."""
    if isinstance(node, ast.Node):
        fields = [(k, v) for k, v in vars(node).items() if k != "pos"]
        return (type(node).__name__, tuple((k, shape(v)) for k, v in fields))
    if isinstance(node, tuple):
        return tuple(shape(x) for x in node)
    return node


def _digits_text(digits: str, fraction: bool = False) -> str:
    """A long run of digits, abbreviated."""
    head, tail = digits[:4], digits[-4:]
    if fraction:
        return f"<{len(digits)} digits {head}...{tail}>"
    return f"<a {len(digits)}-digit integer {head}...{tail}>"


def number_text(n: int) -> str:
    """An integer as text, abbreviated beyond :data:`MAX_DIGITS_SHOWN` digits (computed with
    FLINT, never with Python's quadratic, limited ``str``)."""
    n = int(n)
    m = abs(n)
    sign = "-" if n < 0 else ""
    if m.bit_length() <= 3 * MAX_DIGITS_SHOWN:  # under 10^MAX_DIGITS_SHOWN
        return str(n)
    if m.bit_length() > _EXACT_DIGITS_BITS:
        digits = int(m.bit_length() * math.log10(2)) + 1
        return f"{sign}<an integer of about {digits} digits>"
    text = flint.fmpz(m).str()
    return sign + (text if len(text) <= MAX_DIGITS_SHOWN else _digits_text(text))


def abbreviate_digits(text: str) -> str:
    """``text`` with every run of more than :data:`MAX_DIGITS_SHOWN` digits abbreviated."""
    if len(text) <= MAX_DIGITS_SHOWN:
        return text
    return _LONG_DIGITS.sub(lambda m: m.group(1) + _digits_text(m.group(2), bool(m.group(1))),
                            text)


def cut(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """``text`` cut after ``limit`` characters, saying how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]} ... [{len(text)} characters in all]"


class _SafeStrPrinter(StrPrinter):
    """sympy's text with long integers abbreviated."""

    def _print_int(self, expr: int) -> str:
        return number_text(expr)

    def _print_Integer(self, expr: sympy.Integer) -> str:
        return number_text(expr.p)

    def _print_Rational(self, expr: sympy.Rational) -> str:
        if expr.q == 1:
            return number_text(expr.p)
        return f"{number_text(expr.p)}/{number_text(expr.q)}"


def expr_text(obj: Any, limit: int = MAX_EXPRESSION_CHARS) -> str:
    """Text for a sympy expression (or a number, list, ...) inside a message: long integers
    abbreviated, cut after ``limit`` characters; never raises."""
    try:
        text = _SafeStrPrinter().doprint(obj)
    except RecursionError:
        return "<an expression nested too deeply to print>"
    except Exception as exc:  # noqa: BLE001  (a message must never fail to print)
        return f"<an expression that cannot be printed: {type(exc).__name__}>"
    return cut(abbreviate_digits(text), limit)


def safe(obj: Any) -> Any:
    """A result that came from a rule or a witness, made safe to print and to write as JSON:
    strings with long digit runs abbreviated and cut, long integers and sympy objects turned
    into abbreviated text, containers walked."""
    if isinstance(obj, str):
        return cut(abbreviate_digits(obj))
    if isinstance(obj, bool) or obj is None or isinstance(obj, float):
        return obj
    if isinstance(obj, int):
        return obj if obj.bit_length() <= 3 * MAX_DIGITS_SHOWN else number_text(obj)
    if isinstance(obj, dict):
        return {safe(k): safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [safe(v) for v in obj]
    if isinstance(obj, sympy.Basic):
        return expr_text(obj, MAX_TEXT_CHARS)
    return obj
