"""Run a computation in a forked child with a wall-clock and a memory budget.

A verifier that hangs (a sympy call that does not return) or blows up memory ends as an
outcome with a reason, never as a hung or crashed checker.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DEFAULT_MEMORY = 4 * 1024**3


@dataclass
class Outcome:
    ok: bool
    value: Any = None
    reason: str = ""


def _child(conn, fn, args, memory):  # noqa: ANN001
    try:
        if memory:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        result = fn(*args)
        conn.send(("ok", result))
    except MemoryError:
        conn.send(("error", "ran out of its memory budget"))
    except BaseException as exc:  # noqa: BLE001  (report every failure as an outcome)
        tb = traceback.format_exc(limit=3)
        conn.send(("error", f"{type(exc).__name__}: {exc}\n{tb}"))
    finally:
        conn.close()


def run_bounded(
    fn: Callable[..., Any], args: tuple, seconds: float | None, memory: int | None = DEFAULT_MEMORY
) -> Outcome:
    """``fn(*args)`` in a forked child; ``seconds=None`` runs it in this process instead."""
    if seconds is None:
        try:
            return Outcome(True, fn(*args))
        except Exception as exc:  # noqa: BLE001
            return Outcome(False, reason=f"{type(exc).__name__}: {exc}")
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, fn, args, memory), daemon=True)
    proc.start()
    child.close()
    try:
        if parent.poll(seconds):
            try:
                status, payload = parent.recv()
            except EOFError:
                proc.join(1)
                return Outcome(False, reason=f"the computation died (exit code {proc.exitcode})")
            proc.join(1)
            if status == "ok":
                return Outcome(True, payload)
            return Outcome(False, reason=payload)
        return Outcome(False, reason=f"time budget of {seconds:g} s ran out")
    finally:
        if proc.is_alive():
            proc.kill()
            proc.join(1)
        parent.close()
        if proc.pid and proc.exitcode is None:
            try:
                os.waitpid(proc.pid, os.WNOHANG)
            except ChildProcessError:
                pass
