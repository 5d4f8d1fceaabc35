"""Progress bars for long work, on a terminal only.

A bar is drawn (by tqdm) only when the stream it would go to, standard error by default, is a
terminal: tests, CI logs, pipes and JSON output see nothing of it. Any front-end may wrap a
loop in :func:`progress`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TextIO, TypeVar

T = TypeVar("T")


def shown(stream: TextIO | None = None) -> bool:
    """Whether a bar would be drawn on ``stream`` (standard error by default): a terminal."""
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # closed, or not a real stream
        return False


def progress(iterable: Iterable[T], total: int | None = None, desc: str | None = None,
             stream: TextIO | None = None) -> Iterable[T]:
    """``iterable``, drawing a progress bar of ``total`` items labelled ``desc`` on ``stream``
    (standard error by default) while it is consumed, if that is a terminal; else
    ``iterable`` itself, untouched. The bar is erased when the loop ends."""
    if not shown(stream):
        return iterable
    from tqdm import tqdm  # only where a bar is drawn: a run without one does not import it

    return _drawn(tqdm(iterable, total=total, desc=desc, file=stream or sys.stderr, leave=False,
                       dynamic_ncols=True, unit="it"))


def _drawn(bar: Iterable[T]) -> Iterator[T]:
    """Iterate over a bar, closing it (and erasing it) however the loop ends."""
    try:
        yield from bar
    finally:
        bar.close()  # type: ignore[attr-defined]
