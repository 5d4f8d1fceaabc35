"""The one error family of tpcheck.

Every error a user can meet is a :class:`TpcheckError`; those tied to a place in a proof file
carry its position and render as ``file:line:col: message`` with the offending line and a caret.
"""

from __future__ import annotations

from dataclasses import dataclass


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
            lines = text.splitlines()
            if 1 <= self.pos.line <= len(lines):
                self.source_line = lines[self.pos.line - 1]
        return self

    def render(self) -> str:
        """``file:line:col: kind: message``, then the line and a caret under the column."""
        where = self.path or "<input>"
        if self.pos is not None:
            where += f":{self.pos.line}:{self.pos.col}"
        out = f"{where}: {self.kind}: {self.message}"
        if self.source_line is not None and self.pos is not None:
            shown = self.source_line.expandtabs(1)
            out += "\n  " + shown + "\n  " + " " * (self.pos.col - 1) + "^"
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


class InternalDisagreement(TpcheckError):
    """An independent witness contradicts an exact judgement: the checker is wrong somewhere."""
