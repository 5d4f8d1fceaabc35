"""Run a computation in a forked child with a CPU-time and a memory budget.

A verifier that hangs (a sympy call that does not return) or blows up memory ends as an
outcome with a reason, never as a hung or crashed checker. The budget counts the child's own
CPU seconds (``RLIMIT_CPU``), not wall time, so a verdict does not depend on what else the
machine is doing; a wall-clock limit of ``WALL_FACTOR`` times the budget is only a backstop
against a child that waits without computing.

The child's limits never exceed limits the checker was started under (``ulimit -v``,
``ulimit -t``, a container's): it lowers them, it never asks to raise them. :class:`RunClock`
counts the CPU time of a whole run, this process and its children together.
"""

from __future__ import annotations

import gc
import math
import multiprocessing as mp
import os
import resource
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from threadpoolctl import threadpool_limits

DEFAULT_MEMORY = 4 * 1024**3
WALL_FACTOR = 20
WALL_MINIMUM = 60.0


class CpuBudgetExceeded(BaseException):
    """Raised in the child by SIGXCPU, when its CPU seconds are spent."""


def _on_cpu_limit(signum, frame):  # noqa: ANN001, ARG001
    raise CpuBudgetExceeded


@dataclass
class Outcome:
    """What came of a bounded computation: ``kind`` is ``ok``, ``cpu`` (its CPU-time budget ran
    out), ``memory``, ``killed``, ``died``, ``wall`` (no answer in wall time) or ``error``."""

    ok: bool
    value: Any = None
    reason: str = ""
    kind: str = "ok"


def lowered(wanted: int, current: tuple[int, int]) -> tuple[int, int]:
    """Soft and hard limits of at most ``wanted`` that never exceed the ``current`` ones (a
    process may lower its hard limit but not raise it)."""
    soft, hard = current
    limit = wanted
    for existing in (soft, hard):
        if existing != resource.RLIM_INFINITY:
            limit = min(limit, existing)
    return limit, limit


def cpu_limits(seconds: float, current: tuple[int, int]) -> tuple[int, int]:
    """(soft, hard) CPU limits for a child: SIGXCPU at the budget (at least 1 s: a forked child
    starts with no CPU time of its own), SIGKILL two seconds on; never beyond ``current``."""
    cpu = max(1, math.ceil(seconds))
    soft, hard = current
    new_hard = cpu + 2 if hard == resource.RLIM_INFINITY else min(cpu + 2, hard)
    new_soft = min(cpu, new_hard) if soft == resource.RLIM_INFINITY else min(cpu, soft, new_hard)
    return new_soft, new_hard


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Within this block the BLAS and OpenMP libraries numpy loaded use one thread (restored
    after), and so do the children forked in it. A budget counts a process's CPU seconds over all
    its threads, and an idle BLAS thread spins: with one thread per core-count the CPU a rule
    spends, and so whether its budget runs out, would depend on the machine. It also keeps
    parallel checking (``-j N``) from running N x cores BLAS threads on N cores."""
    with threadpool_limits(limits=1):
        yield


def _where(exc: BaseException) -> str:
    """The innermost frame of an exception, ``file:line`` (a traceback is never shown)."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    last = frames[-1]
    return f" (at {os.path.basename(last.filename)}:{last.lineno})"


def _child(conn, fn, args, memory, seconds):  # noqa: ANN001
    # the objects inherited from the parent go to the collector's permanent generation: a
    # collection in the child then never walks them, and so never copies their pages
    gc.freeze()
    try:
        signal.signal(signal.SIGXCPU, _on_cpu_limit)
        resource.setrlimit(resource.RLIMIT_CPU,
                           cpu_limits(seconds, resource.getrlimit(resource.RLIMIT_CPU)))
        if memory:
            resource.setrlimit(resource.RLIMIT_AS,
                               lowered(memory, resource.getrlimit(resource.RLIMIT_AS)))
        # Python limits converting integers beyond 4300 digits to text because the conversion
        # takes quadratic time; here the CPU budget bounds it, and the parent abbreviates every
        # long number it receives (tpcheck.lang.printer), so a rule may print any number.
        sys.set_int_max_str_digits(0)
        result = fn(*args)
        conn.send(("ok", result))
    except CpuBudgetExceeded:
        conn.send(("cpu", f"CPU-time budget of {seconds:g} s ran out"))
    except MemoryError:
        conn.send(("memory", "ran out of its memory budget"))
    except BaseException as exc:  # noqa: BLE001  (report every failure as an outcome)
        conn.send(("error", f"{type(exc).__name__}: {exc}{_where(exc)}"))
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
            return Outcome(False, reason=f"{type(exc).__name__}: {exc}{_where(exc)}",
                           kind="error")
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
            except EOFError:  # the child died without a word: wait to learn how
                proc.join(10)
                if proc.exitcode == -signal.SIGKILL:
                    return Outcome(False, reason=f"the computation was killed (its CPU-time "
                                                 f"budget of {seconds:g} s, or the system)",
                                   kind="killed")
                return Outcome(False, reason=f"the computation died (exit code {proc.exitcode})",
                               kind="died")
            except Exception as exc:  # noqa: BLE001  (a result that cannot be read back)
                return Outcome(False, reason=f"its result could not be read back: "
                                             f"{type(exc).__name__}", kind="error")
            proc.join(1)
            if status == "ok":
                return Outcome(True, payload)
            return Outcome(False, reason=payload, kind=status)
        return Outcome(False, reason=f"no answer within {wall:g} s of wall time "
                                     f"(the CPU-time budget is {seconds:g} s)", kind="wall")
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(10)  # reaped, its CPU time counts in the run's (RUSAGE_CHILDREN)
        parent.close()
        if proc.pid and proc.exitcode is None:
            try:
                os.waitpid(proc.pid, os.WNOHANG)
            except ChildProcessError:
                pass


def cpu_seconds() -> float:
    """CPU seconds used so far by this process and its finished children."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


class RunClock:
    """The CPU time of one run (checking files: this process and its children) against a
    budget of ``budget`` seconds (None: unlimited)."""

    def __init__(self, budget: float | None) -> None:
        self.budget = budget
        self.start = cpu_seconds()

    def spent(self) -> float:
        return cpu_seconds() - self.start

    def left(self) -> float | None:
        """Seconds left (<= 0 when spent), or None without a budget."""
        return None if self.budget is None else self.budget - self.spent()

    def exhausted(self) -> bool:
        left = self.left()
        return left is not None and left <= 0
