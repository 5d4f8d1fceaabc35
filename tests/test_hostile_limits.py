"""Resource limits that hold under any outer limit: a child never asks for more than the
limits the checker runs under, the whole run has a CPU-time budget, reading a theorem has a
step's budget, and only regular files of bounded size are read."""

from __future__ import annotations

import json
import os
import resource
import shlex
import subprocess
import sys
import textwrap
import time

import pytest

from tests.conftest import ROOT
from tpcheck import Options, check, check_text
from tpcheck.api import MAX_FILE_BYTES, UnreadableFile, read_proof_file
from tpcheck.kernel import Verdict
from tpcheck.kernel.bounded import RunClock, cpu_limits, lowered, run_bounded
from tpcheck.kernel.check import DEFAULT_RUN_BUDGET
from tpcheck.report import EXIT_ERROR, EXIT_OK, EXIT_UNDECIDED, Report

GB = 1024**3
INF = resource.RLIM_INFINITY

EASY = 'theorem easy\n "s"\n let x : real\n claim x + x = 2x\nproof\n x + x\n = 2x by algebra\nqed\n'
SLOW = ('theorem slow\n "s"\n let x, y, z, w : real\n'
        " claim (x + y + z + w + 1)^80 = (x + y + z + w + 1)^79 * (x + y + z + w + 2)"
        " - (x + y + z + w + 1)^79\nproof\n (x + y + z + w + 1)^80\n"
        " = (x + y + z + w + 1)^79 * (x + y + z + w + 2) - (x + y + z + w + 1)^79 by algebra\n"
        "qed\n")
# A covariance whose symmetry check expands a 4-variable polynomial of degree 80.
SLOW_TO_READ = (
    'theorem t\n "s"\n let x, y, z, w : real\n'
    " let Z1, Z2 ~ Normal([0, 0], [[1, (x+y+z+w+1)^80], [(x+y+z+w+1)^79*(x+y+z+w+2) - "
    "(x+y+z+w+1)^79, 1]])\n claim E[Z1] = 0\nproof\n E[Z1]\n = 0 by gaussian_moment\nqed\n")


def isolated(code: str, limits: dict[int, tuple[int, int]] | None = None,
             timeout: float = 120) -> dict:
    """Run ``code`` in a fresh interpreter under the resource ``limits`` (set before it starts,
    as ``ulimit`` would); it prints one JSON object, returned with the wall seconds."""
    def set_limits() -> None:
        for which, value in (limits or {}).items():
            resource.setrlimit(which, value)

    start = time.monotonic()
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                         capture_output=True, text=True, timeout=timeout, preexec_fn=set_limits)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    return {**json.loads(out.stdout.strip().splitlines()[-1]), "seconds": time.monotonic() - start}


CHECK_EASY = f"""
    import json
    from tpcheck import Options, check_text
    r = check_text({EASY!r}, "f.tp", Options(witnesses=False))
    print(json.dumps({{"errors": r.errors, "verdicts": [t.verdict.value for t in r.theorems],
                      "details": [s.detail for t in r.theorems for s in t.steps]}}))
"""


# ---- limits of the child processes -------------------------------------------------------


@pytest.mark.parametrize("outer, expected", [
    ((INF, INF), (4 * GB, 4 * GB)),
    ((3 * GB, 3 * GB), (3 * GB, 3 * GB)),
    ((2 * GB, INF), (2 * GB, 2 * GB)),
    ((INF, 3 * GB), (3 * GB, 3 * GB)),
])
def test_the_memory_limit_only_ever_lowers_the_outer_one(outer, expected):
    assert lowered(4 * GB, outer) == expected


@pytest.mark.parametrize("seconds, outer, expected", [
    (60, (INF, INF), (60, 62)),
    (0.2, (INF, INF), (1, 3)),
    (60, (30, 30), (30, 30)),
    (60, (INF, 61), (60, 61)),
    (60, (10, INF), (10, 62)),
])
def test_the_cpu_limit_only_ever_lowers_the_outer_one(seconds, outer, expected):
    assert cpu_limits(seconds, outer) == expected


def test_steps_are_judged_under_an_address_space_limit_below_the_default_memory_budget():
    """Under a hard RLIMIT_AS of 3 GB (below the 4 GB budget) every step used to fail with
    'not allowed to raise maximum limit'."""
    result = isolated(CHECK_EASY, {resource.RLIMIT_AS: (3 * GB, 3 * GB)})
    assert result["errors"] == [] and result["verdicts"] == ["PROVED"]
    assert result["details"] == ["algebra: lhs - rhs reduces to 0 over Q"]


def test_steps_are_judged_under_a_hard_cpu_limit_below_the_step_budget():
    result = isolated(CHECK_EASY, {resource.RLIMIT_CPU: (50, 50)})
    assert result["errors"] == [] and result["verdicts"] == ["PROVED"]


def test_ulimit_v_in_a_shell_gives_the_same_verdicts():
    out = subprocess.run(["bash", "-c", f"ulimit -v {3 * 1024**2} && {shlex.quote(sys.executable)} "
                                        f"-c {shlex.quote(textwrap.dedent(CHECK_EASY))}"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["verdicts"] == ["PROVED"]


def test_the_memory_budget_still_holds_under_an_outer_limit():
    code = """
        import json
        from tpcheck.kernel.bounded import run_bounded
        out = run_bounded(lambda: bytearray(6 * 1024**3), (), seconds=20, memory=8 * 1024**3)
        print(json.dumps({"ok": out.ok, "kind": out.kind, "reason": out.reason}))
    """
    result = isolated(code, {resource.RLIMIT_AS: (3 * GB, 3 * GB)})
    assert (result["ok"], result["kind"]) == (False, "memory")
    assert result["reason"] == "ran out of its memory budget"


def test_a_failing_child_reports_its_reason_without_a_traceback():
    out = run_bounded(lambda: 1 / 0, (), seconds=5)
    assert (out.ok, out.kind) == (False, "error")
    assert out.reason.startswith("ZeroDivisionError: division by zero (at ")
    assert "Traceback" not in out.reason and "\n" not in out.reason


# ---- the run's budget --------------------------------------------------------------------


def test_the_run_budget_defaults_to_an_hour():
    assert Options().run_budget == DEFAULT_RUN_BUDGET == 3600.0


def test_theorems_not_started_when_the_run_budget_is_spent_are_undecided():
    file_report = check_text(EASY, "f.tp", Options(run_budget=1e-9, witnesses=False))
    (t,) = file_report.theorems
    assert (t.verdict, t.steps, file_report.errors) == (Verdict.UNDECIDED, [], [])
    assert t.note == "not checked: the run's CPU-time budget of 1e-09 s is spent (run budget)"
    report = Report("test", [file_report])
    assert report.exit_code == EXIT_UNDECIDED
    assert "not checked: the run's CPU-time budget" in report.to_text()


def test_a_step_gets_no_more_than_what_is_left_of_the_run_budget():
    start = time.monotonic()
    file_report = check_text(SLOW + EASY, "f.tp",
                             Options(budget=60, run_budget=2, witnesses=False))
    assert time.monotonic() - start < 30
    slow, easy = file_report.theorems
    assert slow.verdict is Verdict.UNDECIDED
    detail = slow.steps[0].detail
    assert detail.startswith("algebra: ") and detail.endswith(
        " (all that was left of the run budget)")
    assert (easy.verdict, easy.steps) == (Verdict.UNDECIDED, [])
    assert easy.note == "not checked: the run's CPU-time budget of 2 s is spent (run budget)"


def test_the_run_budget_is_shared_by_the_files_of_a_run(tmp_path):
    for name in ("a.tp", "b.tp"):
        (tmp_path / name).write_text(EASY)
    report = check(tmp_path, Options(run_budget=1e-9, witnesses=False))
    assert [t.verdict for t in report.theorems] == [Verdict.UNDECIDED, Verdict.UNDECIDED]
    assert report.exit_code == EXIT_UNDECIDED


def test_the_run_clock_counts_the_cpu_time_of_children():
    clock = RunClock(100.0)
    out = run_bounded(lambda: sum(i * i for i in range(3_000_000)), (), seconds=20)
    assert out.ok and clock.spent() > 0.05
    assert RunClock(None).left() is None and not RunClock(None).exhausted()


def test_reading_a_theorem_has_a_steps_budget():
    """Elaborating checks that the covariance is symmetric, which expands a degree-80
    polynomial in 4 variables: it ran for ever in the checker's own process."""
    start = time.monotonic()
    file_report = check_text(SLOW_TO_READ, "f.tp", Options(budget=1, witnesses=False))
    assert time.monotonic() - start < 30
    assert [e.splitlines()[0] for e in file_report.errors] == [
        "f.tp:1:1: error: reading theorem 't' ran out of its CPU-time budget of 1 s (a step's "
        "budget, --budget)"]
    assert Report("test", [file_report]).exit_code == EXIT_ERROR


def test_the_in_process_mode_stays_for_python_users():
    file_report = check_text(EASY, "f.tp", Options(budget=None, witnesses=False))
    assert [t.verdict for t in file_report.theorems] == [Verdict.PROVED]


# ---- files -----------------------------------------------------------------------------------


def test_a_file_beyond_the_size_limit_is_refused_without_being_read(tmp_path):
    """A sparse 3 GB file: read_text used to read all of it."""
    code = f"""
        import json
        from pathlib import Path
        from tpcheck import check
        from tpcheck.errors import TpcheckError
        path = Path({str(tmp_path)!r}) / "big.tp"
        with open(path, "wb") as fh:
            fh.truncate(3 * 1024**3)
        try:
            check(path)
            print(json.dumps({{"error": None}}))
        except TpcheckError as exc:
            print(json.dumps({{"error": str(exc)}}))
    """
    result = isolated(code, {resource.RLIMIT_AS: (2 * GB, 2 * GB)}, timeout=60)
    assert result["error"] == (f"{tmp_path}/big.tp: file is too large (3221225472 bytes; file size "
                               f"limit {MAX_FILE_BYTES} bytes)")
    assert result["seconds"] < 30


def test_symlink_loops_are_refused(tmp_path):
    os.symlink(tmp_path / "a.tp", tmp_path / "b.tp")
    os.symlink(tmp_path / "b.tp", tmp_path / "a.tp")
    for path in (tmp_path, tmp_path / "a.tp"):
        with pytest.raises(UnreadableFile) as info:
            check(path)
        assert str(info.value) == f"{tmp_path}/a.tp: cannot be read: Too many levels of symbolic links"


def test_a_file_that_is_not_utf8_is_an_error_of_its_own(tmp_path):
    (tmp_path / "bad.tp").write_bytes(b"theorem \xff\n")
    (tmp_path / "good.tp").write_text(EASY)
    report = check(tmp_path, Options(witnesses=False))
    assert report.files[0].errors == [
        f"{tmp_path}/bad.tp: error: cannot be read: not UTF-8 text (invalid start byte at byte 8)"]
    assert [t.verdict for t in report.theorems] == [Verdict.PROVED]
    assert report.exit_code == EXIT_ERROR


def test_a_fifo_is_refused_when_opened_not_waited_on(tmp_path):
    os.mkfifo(tmp_path / "pipe.tp")
    with pytest.raises(UnreadableFile, match=r"not a regular file \(a FIFO\)"):
        read_proof_file(tmp_path / "pipe.tp")


def test_a_regular_file_of_the_size_limit_is_read(tmp_path):
    path = tmp_path / "full.tp"
    path.write_text(EASY + "#" * (MAX_FILE_BYTES - len(EASY)))
    report = check(path, Options(witnesses=False))
    assert report.exit_code == EXIT_OK
