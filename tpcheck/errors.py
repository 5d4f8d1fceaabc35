"""The one error family of tpcheck.

Every error a user can meet is a :class:`TpcheckError`; those tied to a place in a proof file
carry its position and render as ``file:line:col: message`` with the offending line and a caret.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# Characters a terminal may act on rather than show: controls (C0, DEL, C1), format characters
# (bidirectional overrides, zero-width), line and paragraph separators, surrogates.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def printable(text: str, keep_newlines: bool = False) -> str:
    """``text`` safe to print to a terminal: every control, format or separator character is
    written as a Python escape (``\\x1b``, ``\\u202e``); ``keep_newlines`` keeps ``\\n``."""
    out = []
    for ch in text:
        if unicodedata.category(ch) not in _HIDDEN_CATEGORIES or (keep_newlines and ch == "\n"):
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000
                       else f"\\U{code:08x}")
    return "".join(out)


@dataclass(frozen=True)
class Position:
    """A place in a source text (1-based line and column)."""

    line: int
    col: int


class TpcheckError(Exception):
    """Base class of every error tpcheck raises on purpose."""


class SourceError(TpcheckError):
    """An error at a position of a proof file."""

    kind = "error"

    def __init__(self, message: str, pos: Position | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.path: str | None = None
        self.source_line: str | None = None

    def attach(self, path: str, text: str) -> SourceError:
        """Record the file this error belongs to (for rendering)."""
        self.path = path
        if self.pos is not None:
            # Lines as the tokenizer counts them: only "\n" ends one (not "\f", "\x1c", ...).
            lines = text.split("\n")
            if 1 <= self.pos.line <= len(lines):
                self.source_line = lines[self.pos.line - 1].removesuffix("\r")
        return self

    def render(self) -> str:
        """``file:line:col: kind: message``, then the line and a caret under the column; every
        character a terminal would act on is escaped (see :func:`printable`)."""
        where = self.path or "<input>"
        if self.pos is not None:
            where += f":{self.pos.line}:{self.pos.col}"
        out = printable(f"{where}: {self.kind}: {self.message}")
        if self.source_line is not None and self.pos is not None:
            line = self.source_line.replace("\t", " ")  # a tab is one column to the tokenizer
            before = printable(line[: self.pos.col - 1])
            out += "\n  " + before + printable(line[self.pos.col - 1:]) + "\n  " + " " * len(before) + "^"
        return out

    def __str__(self) -> str:
        return self.render()


class ParseError(SourceError):
    """The text is not a well-formed proof file."""

    kind = "parse error"


class ElaborationError(SourceError):
    """The text parses but does not make sense (undeclared name, wrong arity, unknown rule...)."""

    kind = "error"


class ProofStructureError(SourceError):
    """The derivation does not prove its claim (wrong start, wrong end, relations that do not compose)."""

    kind = "proof error"


class EvaluationError(TpcheckError):
    """A quantity could not be evaluated (unsupported head, too large, no numeric method)."""
