"""The public entry point: check proof files and get a :class:`~tpcheck.report.Report`.

Proof files are untrusted input, and reading one is bounded like checking it: only regular
files of at most :data:`MAX_FILE_BYTES` are read (a FIFO, a device or a symlink loop is refused
before it is opened for reading); the parser and the elaborator refuse sizes beyond their
limits with an error naming the limit; each theorem is elaborated in a bounded child process
with a step's CPU-time budget (``Options.budget``); and the whole run has a CPU-time budget
(``Options.run_budget``): a theorem not started when it is spent is UNDECIDED, with the note
that it was not checked, like a step whose budget ran out.

:func:`check` may check theorems in worker processes (``jobs``; each worker runs the rules in
bounded children, as a serial run does) and take unchanged theorems' results from a signed
verdict cache (:mod:`tpcheck.cache`); neither changes the report.
"""

from __future__ import annotations

import contextvars
import hashlib
import multiprocessing as mp
import os
import stat
import zlib
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tpcheck.rules  # noqa: F401  (registers the rules)
from tpcheck.cache import VerdictCache, theorem_source
from tpcheck.errors import ElaborationError, SourceError, TpcheckError
from tpcheck.kernel import Options, TheoremResult, Verdict, check_theorem
from tpcheck.kernel.bounded import RunClock, run_bounded, single_threaded_blas
from tpcheck.kernel.check import capped, run_budget_spent
from tpcheck.kernel.proof import Theorem
from tpcheck.lang import ast
from tpcheck.lang.elaborate import elaborate_theorem
from tpcheck.lang.parser import parse
from tpcheck.progress import progress
from tpcheck.report import FileReport, Report
from tpcheck.text import safe
from tpcheck.version import __version__
from tpcheck.witness import DEFAULT_WITNESSES

SUFFIX = ".tp"
#: Bytes of the largest proof file read: a hundred times the library's largest (9 KB), and
#: tokenized and parsed in about a second.
MAX_FILE_BYTES = 1_000_000

class UnreadableFile(TpcheckError):
    """A path that is not read as a proof file: not a regular file, too large, not UTF-8."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _refuse_unless_proof_file(path: Path, st: os.stat_result) -> None:
    """Refuse a file with status ``st`` unless it is regular and at most MAX_FILE_BYTES."""
    if not stat.S_ISREG(st.st_mode):
        kind = next((k for test, k in _KINDS if test(st.st_mode)), "a special file")
        raise UnreadableFile(path, f"not a regular file ({kind}); only regular proof files "
                                   "are read")
    if st.st_size > MAX_FILE_BYTES:
        raise UnreadableFile(path, f"file is too large ({st.st_size} bytes; file size limit "
                                   f"{MAX_FILE_BYTES} bytes)")


def _status(path: Path) -> os.stat_result:
    try:
        return path.stat()
    except OSError as exc:
        raise UnreadableFile(path, f"cannot be read: {exc.strerror or exc}") from None


def proof_files(paths: Iterable[str | Path]) -> list[Path]:
    """The proof files named by ``paths`` (folders are searched for ``*.tp``); a path, or a
    ``*.tp`` found in a folder, that is not a regular file of at most MAX_FILE_BYTES is refused
    with :class:`UnreadableFile` (reading a FIFO would wait forever, /dev/zero never end)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            for f in sorted(p.rglob(f"*{SUFFIX}")):
                st = _status(f)
                if stat.S_ISDIR(st.st_mode):
                    continue  # a folder named like a proof file; rglob searches it already
                _refuse_unless_proof_file(f, st)
                out.append(f)
            continue
        if not os.path.lexists(p):
            raise TpcheckError(f"{p}: no such file or folder")
        _refuse_unless_proof_file(p, _status(p))
        out.append(p)
    return out


def read_proof_file(path: str | Path) -> str:
    """The text of a proof file, read only if it is a regular file of at most MAX_FILE_BYTES
    (checked on the open file, so a file swapped for a FIFO meanwhile is refused too)."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise UnreadableFile(path, f"cannot be read: {exc.strerror or exc}") from None
    try:
        _refuse_unless_proof_file(path, os.fstat(fd))
        chunks, size = [], 0
        while size <= MAX_FILE_BYTES:
            chunk = os.read(fd, MAX_FILE_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise UnreadableFile(path, f"cannot be read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if size > MAX_FILE_BYTES:
        raise UnreadableFile(path, f"file is too large (more than {MAX_FILE_BYTES} bytes; file "
                                   f"size limit {MAX_FILE_BYTES} bytes)")
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(path, f"cannot be read: not UTF-8 text ({exc.reason} at byte "
                                   f"{exc.start})") from None


def _render(exc: SourceError, path: str, text: str) -> str:
    """A source error as ``file:line:col: kind: message`` with its line and caret; long numbers
    in the message abbreviated, the whole cut to a readable length."""
    exc.message = safe(exc.message)
    return safe(exc.attach(path, text).render())


def read_theorem(t: ast.Theorem, lines: list[str]) -> tuple[Any, ...]:
    """Elaborate one theorem (in a bounded child): ("ok", theorem) or ("error", class,
    message, position) for a source error, which is sent back as its parts."""
    try:
        return ("ok", elaborate_theorem(t, lines))
    except SourceError as exc:
        return ("error", type(exc), exc.message, exc.pos)
    except RecursionError:  # sympy recursing through a deep expression, or without end
        return ("error", ElaborationError, f"theorem '{t.name}' is nested too deeply to read "
                "(Python's recursion limit)", t.pos)


class RunBudgetSpent(TpcheckError):
    """The run's CPU-time budget was spent before a theorem could be read."""


class _ReadingFailed(Exception):
    """Elaboration failed other than with a source error: a bug, reported as internal."""


def elaborate_bounded(t: ast.Theorem, lines: list[str], options: Options | None = None,
                      clock: RunClock | None = None) -> Theorem:
    """The theorem ``t`` (of a text split at "\\n" into ``lines``) elaborated in a child process
    within a step's CPU-time budget, ``options.budget`` (in this process when it is None).

    The size model keeps reading fast; the budget is the backstop for the hypotheses' checks,
    which do algebra. Raises the SourceError elaboration raises, an ElaborationError when the
    budget runs out, :class:`RunBudgetSpent` when ``clock`` says the run's budget is spent."""
    options = options or Options()
    clock = clock or RunClock(options.run_budget)
    if clock.exhausted():
        raise RunBudgetSpent(run_budget_spent(options))
    budget = capped(options.budget, clock.left)
    outcome = run_bounded(read_theorem, (t, lines), budget)
    if outcome.ok:
        status, *rest = outcome.value
        if status == "ok":
            return rest[0]
        cls, message, pos = rest
        raise cls(message, pos)
    if outcome.kind in ("cpu", "killed", "wall"):
        if clock.exhausted():
            raise RunBudgetSpent(run_budget_spent(options))
        raise ElaborationError(f"reading theorem '{t.name}' ran out of its CPU-time budget of "
                               f"{budget:g} s (a step's budget, --budget)", t.pos)
    if outcome.kind == "memory":
        raise ElaborationError(f"reading theorem '{t.name}' ran out of its memory budget", t.pos)
    raise _ReadingFailed(outcome.reason)


def _not_checked(t: ast.Theorem, options: Options) -> TheoremResult:
    """The result of a theorem the run's budget left unchecked: UNDECIDED, with the reason."""
    return TheoremResult(t.name, t.statement, t.pos.line, Verdict.UNDECIDED, [], None,
                         list(t.cites), zlib.crc32(t.name.encode()) % (2**31),
                         note=run_budget_spent(options))


#: What came of one theorem: ("theorem", its result), ("unchecked", its result) when the run's
#: budget was spent before it was read, ("error", the rendered source error) or ("internal",
#: the message of a failure of tpcheck's own).
Outcome = tuple[str, Any]


def check_theorem_source(t: ast.Theorem, text: str, path: str, lines: list[str], options: Options,
                         clock: RunClock) -> tuple[Outcome, bool]:
    """Read and check the theorem ``t`` of the proof text ``text`` (split at "\\n" into
    ``lines``) of file ``path``: its outcome, and whether every step had its whole budget (the
    run's budget never shortened one), so that a fresh check would give the same result."""
    where = f"{path}:{t.pos.line}:{t.pos.col}"
    try:
        theorem = elaborate_bounded(t, lines, options, clock)
        outcome: Outcome = ("theorem", check_theorem(theorem, options, DEFAULT_WITNESSES,
                                                     clock.left))
    except RunBudgetSpent:
        outcome = ("unchecked", _not_checked(t, options))
    except SourceError as exc:
        outcome = ("error", _render(exc, path, text))
    except RecursionError:
        outcome = ("error", f"{where}: error: theorem '{t.name}' is too deeply nested to check")
    except _ReadingFailed as exc:
        outcome = ("internal", f"{where}: internal error while reading '{t.name}': "
                               f"{safe(str(exc))}")
    except Exception as exc:  # noqa: BLE001  (an internal failure must be reported, not raised)
        outcome = ("internal", f"{where}: internal error while checking '{t.name}': "
                               f"{type(exc).__name__}: {safe(str(exc))}")
    left = clock.left()
    whole = left is None or all(b is None or left >= b for b in (options.budget, options.witness_budget))
    return outcome, whole


def _record(report: FileReport, t: ast.Theorem, outcome: Outcome) -> None:
    """Add what came of theorem ``t`` to its file's report."""
    kind, value = outcome
    if kind in ("theorem", "unchecked"):
        report.theorems.append(value)
        report.trees[t.name] = t
    elif kind == "error":
        report.errors.append(value)
    else:
        report.internal_errors.append(value)


def _twice(t: ast.Theorem, path: str, text: str) -> str:
    return _render(SourceError(f"theorem '{t.name}' is defined twice in this file", t.pos), path, text)


def parse_text(text: str, path: str = "<input>") -> FileReport:
    """The proof text of one file, parsed once: a report with the file's syntax tree
    (``tree``) and no theorem checked yet, or with the errors that stopped the parser."""
    report = FileReport(path, hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest())
    if len(text) > MAX_FILE_BYTES:
        report.errors.append(f"{path}: error: file is too large ({len(text)} characters; file "
                             f"size limit {MAX_FILE_BYTES})")
        return report
    try:
        tree = parse(text)
    except SourceError as exc:
        report.errors.append(_render(exc, path, text))
        return report
    except RecursionError:
        report.errors.append(f"{path}: error: nested too deeply to read")
        return report
    except Exception as exc:  # noqa: BLE001  (a reader's bug is reported, never a traceback)
        report.internal_errors.append(f"{path}: internal error while parsing: "
                                      f"{type(exc).__name__}: {safe(str(exc))}")
        return report
    report.tree = tree
    return report


def theorem_from_text(text: str, path: str = "<input>", name: str | None = None,
                      options: Options | None = None) -> Theorem:
    """The elaborated theorem ``name`` of a proof text (its only one when ``name`` is None),
    parsed by :func:`parse_text` and elaborated by :func:`elaborate_bounded`, as
    :func:`check_text` reads it; for front-ends that use a theorem without checking it
    (``tpcheck simulate``). Any failure is one :class:`TpcheckError` naming the file."""
    parsed = parse_text(text, path)
    if parsed.tree is None:
        raise TpcheckError("\n".join(parsed.errors + parsed.internal_errors))
    candidates = [t for t in parsed.tree.theorems if name is None or t.name == name]
    if not candidates:
        raise TpcheckError(f"no theorem named {name!r} in {path}")
    if name is None and len(candidates) > 1:
        names = ", ".join(t.name for t in candidates)
        raise TpcheckError(f"{path} has several theorems; pick one with --theorem ({names})")
    t = candidates[0]
    try:
        return elaborate_bounded(t, text.split("\n"), options)
    except SourceError as exc:
        exc.message = safe(exc.message)
        raise exc.attach(path, text) from None
    except RecursionError:
        raise TpcheckError(f"{path}: nested too deeply to read") from None
    except _ReadingFailed as exc:
        raise TpcheckError(f"{path}:{t.pos.line}:{t.pos.col}: internal error while reading "
                           f"'{t.name}': {safe(str(exc))}") from None


def check_text(text: str, path: str = "<input>", options: Options | None = None,
               clock: RunClock | None = None, only: str | None = None,
               parsed: FileReport | None = None) -> FileReport:
    """Check the proof text of one file (with ``only``, just the theorem of that name), each
    theorem by :func:`check_theorem_source`: the one path by which the CLI, the LaTeX driver,
    the pytest plugin and :func:`check` check text (``tpcheck simulate``, which runs a theorem
    without checking it, reads it through :func:`theorem_from_text`: the same parse and the
    same bounded elaboration).

    ``clock`` counts the run's CPU time against ``options.run_budget`` (a new one by default;
    pass one to share a budget between files); ``parsed``, the :func:`parse_text` of ``text``,
    saves parsing it again."""
    parsed = parsed or parse_text(text, path)
    report = FileReport(parsed.path, parsed.sha256, errors=list(parsed.errors),
                        internal_errors=list(parsed.internal_errors), tree=parsed.tree)
    if parsed.tree is None:
        return report
    options = options or Options()
    clock = clock or RunClock(options.run_budget)
    lines = text.split("\n")  # lines as the tokenizer counts them
    seen: set[str] = set()
    with single_threaded_blas():
        for t in parsed.tree.theorems:
            if only is not None and t.name != only:
                continue
            if t.name in seen:
                report.errors.append(_twice(t, path, text))
                continue
            seen.add(t.name)
            _record(report, t, check_theorem_source(t, text, path, lines, options, clock)[0])
    return report


@dataclass
class _Task:
    """A theorem to check: ``source`` is its file's text with the other theorems blanked out
    (all its check reads, and what the cache's key covers), ``slot`` its place in the file."""

    theorem: ast.Theorem
    source: str
    path: str
    file: int
    slot: int
    key: str | None


_RUN_SETTINGS: contextvars.ContextVar[tuple[int, VerdictCache | None]] = contextvars.ContextVar(
    "tpcheck_run_settings", default=(1, None))


@contextmanager
def run_settings(jobs: int = 1, cache: VerdictCache | None = None) -> Iterator[None]:
    """Within this block, :func:`check` checks in ``jobs`` processes with ``cache`` unless its
    call says otherwise (how the CLI passes ``-j`` and the cache to the check it runs)."""
    token = _RUN_SETTINGS.set((jobs, cache))
    try:
        yield
    finally:
        _RUN_SETTINGS.reset(token)


def default_jobs() -> int:
    """The number of processes ``tpcheck check`` uses by default: the CPUs this process may
    run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def check(
    paths: str | Path | Iterable[str | Path],
    options: Options | None = None,
    require: str | None = None,
    *,
    jobs: int | None = None,
    cache: VerdictCache | None = None,
) -> Report:
    """Check proof files or folders; the result's ``exit_code`` follows the CLI's. The run's
    CPU time (``options.run_budget``) is shared by all files.

    With ``jobs`` > 1, theorems are checked in that many worker processes at once; the report
    is the same as with one, in file order (the run's budget is then counted as the workers
    finish their theorems, so it may be overrun by what the busy workers are checking). With a
    ``cache``, a theorem whose signed result is there is not checked again, and new results
    that a fresh check would give again are stored. Left out (None), ``jobs`` and ``cache``
    are those of the enclosing :func:`run_settings` (one process and no cache outside one)."""
    default_jobs_, default_cache = _RUN_SETTINGS.get()
    jobs = default_jobs_ if jobs is None else jobs
    cache = default_cache if cache is None else cache
    options = options or Options()
    if isinstance(paths, str | Path):
        paths = [paths]
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise TpcheckError(f"jobs must be a positive integer, got {jobs!r}")
    clock = RunClock(options.run_budget)
    report = Report(__version__, require=Verdict(require.upper()) if require else None)
    slots: list[list[tuple[ast.Theorem, Outcome | None]]] = []
    tasks: list[_Task] = []
    for f in proof_files(paths):
        try:
            text = read_proof_file(f)
        except UnreadableFile as exc:
            report.files.append(FileReport(str(f), "", errors=[f"{f}: error: {exc.reason}"]))
            slots.append([])
            continue
        path = str(f)
        parsed = parse_text(text, path)
        report.files.append(FileReport(parsed.path, parsed.sha256, errors=list(parsed.errors),
                                       internal_errors=list(parsed.internal_errors),
                                       tree=parsed.tree))
        slots.append(file_slots := [])
        theorems = parsed.tree.theorems if parsed.tree is not None else []
        starts = [(t.pos.line, t.pos.col) for t in theorems]
        seen: set[str] = set()
        for i, t in enumerate(theorems):
            if t.name in seen:
                file_slots.append((t, ("error", _twice(t, path, text))))
                continue
            seen.add(t.name)
            source = theorem_source(text, starts, i)
            key = cache.entry_key(path, t.name, source, options) if cache is not None else None
            hit = cache.get(key) if cache is not None and key is not None else None
            file_slots.append((t, None if hit is None else ("theorem", hit)))
            if hit is None:
                tasks.append(_Task(t, source, path, len(slots) - 1, len(file_slots) - 1, key))
    runs = (_in_workers(tasks, options, clock, jobs) if jobs > 1 and len(tasks) > 1
            else _in_this_process(tasks, options, clock))
    with single_threaded_blas():
        for index, outcome, whole in progress(runs, total=len(tasks), desc="checking theorems"):
            task = tasks[index]
            slots[task.file][task.slot] = (task.theorem, outcome)
            if cache is not None and task.key is not None and whole and outcome[0] == "theorem":
                cache.put(task.key, outcome[1])
    for file_report, file_slots in zip(report.files, slots, strict=True):
        for t, slot in file_slots:
            assert slot is not None  # every task has run
            _record(file_report, t, slot)
    return report


Run = tuple[int, Outcome, bool]


def _in_this_process(tasks: list[_Task], options: Options, clock: RunClock) -> Iterator[Run]:
    """Check the tasks one after another: (index, outcome, whole budgets) in order."""
    for index, task in enumerate(tasks):
        outcome, whole = check_theorem_source(task.theorem, task.source, task.path,
                                              task.source.split("\n"), options, clock)
        yield index, outcome, whole


def _check_in_worker(task: _Task, options: Options,
                     budget_left: float | None) -> tuple[Outcome, bool, float]:
    """A worker's check of one task, with what is left of the run's budget: its outcome,
    whether every step had its whole budget, and the CPU seconds it took."""
    clock = RunClock(budget_left)
    outcome, whole = check_theorem_source(task.theorem, task.source, task.path,
                                          task.source.split("\n"), options, clock)
    return outcome, whole, clock.spent()


def _in_workers(tasks: list[_Task], options: Options, clock: RunClock, jobs: int) -> Iterator[Run]:
    """Check the tasks in ``jobs`` forked worker processes (each runs its rules in bounded
    children of its own, as this process does), started in order, no more than ``jobs`` at a
    time so that each starts with what is left of the run's budget: (index, outcome, whole
    budgets) as they finish."""
    workers = min(jobs, len(tasks))
    spent_by_workers = 0.0

    def budget_left() -> float | None:
        if options.run_budget is None:
            return None
        return options.run_budget - clock.spent() - spent_by_workers

    todo = list(range(len(tasks)))[::-1]
    pending: dict[Future, int] = {}
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork")) as pool:
        try:
            while todo or pending:
                while todo and len(pending) < workers:
                    index = todo.pop()
                    left = budget_left()
                    if left is not None and left <= 0:
                        yield index, ("unchecked", _not_checked(tasks[index].theorem, options)), False
                        continue
                    pending[pool.submit(_check_in_worker, tasks[index], options, left)] = index
                if not pending:
                    continue
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=pending.__getitem__):
                    index = pending.pop(future)
                    try:
                        outcome, whole, spent = future.result()
                    except Exception as exc:  # noqa: BLE001  (a worker that died is reported)
                        t = tasks[index].theorem
                        outcome, whole, spent = (
                            ("internal", f"{tasks[index].path}:{t.pos.line}:{t.pos.col}: internal "
                                         f"error while checking '{t.name}': its worker process "
                                         f"failed: {type(exc).__name__}: {safe(str(exc))}"),
                            False, 0.0)
                    spent_by_workers += spent
                    yield index, outcome, whole
        finally:
            for future in pending:
                future.cancel()
