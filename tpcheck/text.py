"""Mathematics as text that is safe to show: integers too long to read (or beyond Python's
4300-digit limit on converting them) are abbreviated as ``<a 5000-digit integer 1234...6789>``,
and long texts are cut. Part of the foundation: the kernel, the rules and the front-ends all
print with it."""

from __future__ import annotations

import math
import re
from typing import Any

import flint
import sympy
from sympy.printing.str import StrPrinter

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
