"""Tokenizer of the proof language.

Plain ASCII outside comments (``# ...``) and statement strings (``"..."``). No token can name a
Python object: identifiers with a double underscore are refused outright, and there is no
attribute access (a single ``.`` is not a token; ``..`` is the range operator).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from tpcheck.errors import ParseError, Position, printable

MAX_NUMBER_DIGITS = 2000
MAX_EXPONENT = 2000
MAX_TEXT_CHARS = 2_000_000

# Numbers are ASCII digits only: str.isdigit also accepts "１", "٣", "१" and "²".
DIGITS = frozenset("0123456789")

KEYWORDS = frozenset(
    {
        "theorem", "proof", "qed", "let", "for", "all", "in", "claim", "assume", "cite", "by",
        "as", "crosscheck", "iid", "with", "within",
    }
)

# Longest first, so that "->" wins over "-", "<=" over "<", "!!" over "!", ".." over nothing.
SYMBOLS = (
    "->", "<=", ">=", "~=", "~>", "!!", "..", "+", "-", "*", "/", "^", "!", "(", ")", "[", "]", "{", "}",
    ",", ":", "~", "=", "<", ">", "|",
)


@dataclass(frozen=True)
class Token:
    kind: str  # "num", "ident", "kw", "sym", "str", "eof"
    text: str
    pos: Position
    end_col: int
    space_before: bool

    def __repr__(self) -> str:
        return f"Token({self.kind}, {self.text!r}, {self.pos.line}:{self.pos.col})"


def describe_character(c: str) -> str:
    """``'²' (U+00B2 SUPERSCRIPT TWO)``: the character, escaped if a terminal would act on it,
    with its code point and name, so that look-alikes of ASCII can be told apart."""
    shown = printable(c)
    name = unicodedata.name(c, "")
    where = f"U+{ord(c):04X}" + (f" {name}" if name else "")
    note = "; numbers are written with the ASCII digits 0-9" if unicodedata.digit(c, None) is not None else ""
    return f"'{shown}' ({where}{note})"


def tokenize(text: str) -> list[Token]:
    """Split proof text into tokens; raise :class:`ParseError` at the first bad character."""
    if len(text) > MAX_TEXT_CHARS:
        raise ParseError(f"file is too large ({len(text)} characters; limit {MAX_TEXT_CHARS})")
    tokens: list[Token] = []
    line, col, i = 1, 1, 0
    space = True
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line, col, i, space = line + 1, 1, i + 1, True
            continue
        if c in " \t\r":
            i, col, space = i + 1, col + 1, True
            continue
        if c == "#":
            while i < n and text[i] != "\n":
                i += 1
            continue
        pos = Position(line, col)
        if c == '"':
            j = i + 1
            while j < n and text[j] not in '"\n':
                j += 1
            if j >= n or text[j] != '"':
                raise ParseError("unterminated string (statements are one line in double quotes)", pos)
            tokens.append(Token("str", text[i + 1 : j], pos, col + j - i, space))
            col += j + 1 - i
            i = j + 1
            space = False
            continue
        if c in DIGITS:
            j = i
            while j < n and text[j] in DIGITS:
                j += 1
            # A decimal point needs a digit after it, so that "0..12" stays a range.
            if j + 1 < n and text[j] == "." and text[j + 1] in DIGITS:
                j += 1
                while j < n and text[j] in DIGITS:
                    j += 1
            # A decimal exponent ("1e-19", "2.5E+3"): 'e' with an optional sign, then digits.
            if j < n and text[j] in "eE":
                k = j + 1
                if k < n and text[k] in "+-":
                    k += 1
                if k < n and text[k] in DIGITS:
                    j = k
                    while j < n and text[j] in DIGITS:
                        j += 1
                    digits = text[k:j].lstrip("0") or "0"
                    # counted before converted: Python refuses int() of more than 4300 digits
                    if len(digits) > len(str(MAX_EXPONENT)) or int(digits) > MAX_EXPONENT:
                        raise ParseError(f"decimal exponent beyond {MAX_EXPONENT}", pos)
            lexeme = text[i:j]
            if len(lexeme) > MAX_NUMBER_DIGITS:
                raise ParseError(f"number literal has more than {MAX_NUMBER_DIGITS} digits", pos)
            tokens.append(Token("num", lexeme, pos, col + j - i, space))
            col += j - i
            i = j
            space = False
            continue
        if c.isascii() and (c.isalpha() or c == "_"):
            j = i
            while j < n and text[j].isascii() and (text[j].isalnum() or text[j] == "_"):
                j += 1
            word = text[i:j]
            if "__" in word:
                raise ParseError(f"name '{word}' is not allowed (double underscores are reserved)", pos)
            kind = "kw" if word in KEYWORDS else "ident"
            tokens.append(Token(kind, word, pos, col + j - i, space))
            col += j - i
            i = j
            space = False
            continue
        for sym in SYMBOLS:
            if text.startswith(sym, i):
                tokens.append(Token("sym", sym, pos, col + len(sym), space))
                i += len(sym)
                col += len(sym)
                space = False
                break
        else:
            raise ParseError(f"unexpected character {describe_character(c)}", pos)
    tokens.append(Token("eof", "", Position(line, col), col, True))
    return tokens
