"""Run a computation in a forked child with a CPU-time and a memory budget.

A verifier that hangs (a sympy call that does not return) or blows up memory ends as an
outcome with a reason, never as a hung or crashed checker. The budget counts the child's own
CPU seconds (``RLIMIT_CPU``), not wall time, so a verdict does not depend on what else the
machine is doing; a wall-clock limit of ``WALL_FACTOR`` times the budget is only a backstop
against a child that waits without computing.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import resource
import signal
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DEFAULT_MEMORY = 4 * 1024**3
WALL_FACTOR = 20
WALL_MINIMUM = 60.0


class CpuBudgetExceeded(BaseException):
    """Raised in the child by SIGXCPU, when its CPU seconds are spent."""


def _on_cpu_limit(signum, frame):  # noqa: ANN001, ARG001
    raise CpuBudgetExceeded


@dataclass
class Outcome:
    ok: bool
    value: Any = None
    reason: str = ""


def _child(conn, fn, args, memory, seconds):  # noqa: ANN001
    try:
        cpu = max(1, math.ceil(seconds))  # a forked child starts with no CPU time of its own
        signal.signal(signal.SIGXCPU, _on_cpu_limit)
        # Soft limit: SIGXCPU, reported as an outcome; hard limit two seconds on: SIGKILL.
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 2))
        if memory:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        result = fn(*args)
        conn.send(("ok", result))
    except CpuBudgetExceeded:
        conn.send(("cpu", f"CPU-time budget of {seconds:g} s ran out"))
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
    """``fn(*args)`` in a forked child with ``seconds`` of CPU time; ``seconds=None`` runs it in
    this process instead."""
    if seconds is None:
        try:
            return Outcome(True, fn(*args))
        except Exception as exc:  # noqa: BLE001
            return Outcome(False, reason=f"{type(exc).__name__}: {exc}")
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, fn, args, memory, seconds), daemon=True)
    proc.start()
    child.close()
    wall = max(WALL_MINIMUM, WALL_FACTOR * seconds)
    try:
        if parent.poll(wall):
            try:
                status, payload = parent.recv()
            except EOFError:
                proc.join(1)
                if proc.exitcode == -signal.SIGKILL:
                    return Outcome(False, reason=f"the computation was killed (its CPU-time "
                                                 f"budget of {seconds:g} s, or the system)")
                return Outcome(False, reason=f"the computation died (exit code {proc.exitcode})")
            proc.join(1)
            if status == "ok":
                return Outcome(True, payload)
            return Outcome(False, reason=payload)
        return Outcome(False, reason=f"no answer within {wall:g} s of wall time "
                                     f"(the CPU-time budget is {seconds:g} s)")
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
