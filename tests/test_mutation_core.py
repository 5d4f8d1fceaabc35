"""Mutation testing of the trusted kernel (slow tier): mutmut on a seeded sample of the mutants
of tpcheck/kernel/, in a temporary copy of the package, must see at least 95% of them killed.

A mutant is one small change to the source (``<`` for ``<=``, ``and`` for ``or``, a constant
off by one, an argument dropped); a test suite that lets it pass without noticing would let the
same slip in the kernel through. Timeouts count as killed (the mutant hangs the checker, which
a user notices); "no tests" counts as survived. Survivors known to be equivalent to the original
(no test can tell them apart) are listed in ``EQUIVALENT`` with the reason and left out of the
rate; any other survivor is printed with its diff when the rate is below the bar.

The whole kernel (about 900 mutants) takes about an hour on two loaded cores; the sample (the
mutants whose number ends in a digit chosen by ``SEED``) takes a few minutes.
Run the whole set by hand with ``TPCHECK_MUTATION_SAMPLE=all``.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

mutmut = pytest.importorskip("mutmut")

ROOT = Path(__file__).resolve().parent.parent
KERNEL = ["tpcheck/kernel/check.py", "tpcheck/kernel/verdict.py", "tpcheck/kernel/bounded.py"]
TESTS = ["tests/test_core_mutants.py", "tests/test_kernel.py"]
SEED = 20240611
DIGITS = 1  # of the ten final digits of a mutant's number: a sample of about a tenth
KILL_RATE = 0.95
TIME_LIMIT = 480.0  # seconds of wall time for the sampled run, on two cores

# The survivors no test can tell from the original, as mutmut prints their change (function,
# the line it removes, the lines it may put instead), with the reason. A stale entry only makes
# its mutant count as a survivor.
_REAPED = "the child has answered, died or been killed, so it is exiting: the wait ends as soon as it has"
_EQUIVALENT_GROUPS = [
    ("check_step", 'Verdict.UNDECIDED, "")', ['Verdict.UNDECIDED, None)', 'Verdict.UNDECIDED, "XXXX")'],
     "the initial detail is overwritten on every path that returns the result"),
    ("check_step", 'reason = safe(out.reason.strip()).splitlines() or [""]',
     ['reason = safe(out.reason.strip()).splitlines() or ["XXXX"]'],
     "a failed outcome always has a reason (an exception's type name at least)"),
    ("_validated",
     '(e.kind == "mpmath" and e.ok and int(e.data.get("digits", 0)) >= FLOAT_DIGITS_FLOOR)',
     ['(e.kind == "mpmath" and e.ok and int(e.data.get("digits", 1)) >= FLOAT_DIGITS_FLOOR)'],
     "a missing digit count read as 0 or as 1 is below the floor of 15 either way"),
    ("cpu_limits",
     "new_soft = min(cpu, new_hard) if soft == resource.RLIM_INFINITY else min(cpu, soft, new_hard)",
     ["new_soft = min(cpu, new_hard) if soft == resource.RLIM_INFINITY else min(cpu, soft, )"],
     "a soft limit never exceeds its hard one and cpu <= cpu + 2, so min(cpu, soft) is already "
     "at most min(cpu + 2, hard)"),
    ("run_bounded", 'ctx = mp.get_context("fork")', ["ctx = mp.get_context(None)"],
     "fork is the default start method on Linux, where the CPU budgets apply"),
    ("run_bounded", "parent, child = ctx.Pipe(duplex=False)",
     ["parent, child = ctx.Pipe(duplex=None)", "parent, child = ctx.Pipe(duplex=True)"],
     "a two-way pipe used one way"),
    ("run_bounded",
     "proc = ctx.Process(target=_child, args=(child, fn, args, memory, seconds), daemon=True)",
     ["proc = ctx.Process(target=_child, args=(child, fn, args, memory, seconds), daemon=None)",
      "proc = ctx.Process(target=_child, args=(child, fn, args, memory, seconds), daemon=False)",
      "proc = ctx.Process(target=_child, args=(child, fn, args, memory, seconds), )"],
     "the finally block kills and reaps the child on every path; daemon matters only at exit"),
    ("run_bounded", "proc.join(1)", ["proc.join(None)", "proc.join(2)"], _REAPED),
    ("run_bounded", "proc.join(10)", ["proc.join(None)", "proc.join(11)"], _REAPED),
    ("run_bounded", "proc.join(10)  # reaped, its CPU time counts in the run's (RUSAGE_CHILDREN)",
     ["proc.join(None)  # reaped, its CPU time counts in the run's (RUSAGE_CHILDREN)",
      "proc.join(11)  # reaped, its CPU time counts in the run's (RUSAGE_CHILDREN)"], _REAPED),
    ("run_bounded", "if proc.pid and proc.exitcode is None:",
     ["if proc.pid or proc.exitcode is None:", "if proc.pid and proc.exitcode is not None:"],
     "the child was joined just before, so this reaps nothing; reaping a reaped child raises "
     "ChildProcessError, which is caught"),
    ("run_bounded", "os.waitpid(proc.pid, os.WNOHANG)",
     ["os.waitpid(None, os.WNOHANG)", "os.waitpid(proc.pid, None)", "os.waitpid(os.WNOHANG)",
      "os.waitpid(proc.pid, )"],
     "not reached: the child was joined just before, so its exit code is known"),
]
EQUIVALENT: dict[tuple[str, str, str], str] = {
    (function, removed, added): reason
    for function, removed, replacements, reason in _EQUIVALENT_GROUPS for added in replacements
}


def _sample_patterns() -> list[str]:
    """Name patterns of the sampled mutants: those whose number ends in one of the chosen
    digits (the whole kernel with TPCHECK_MUTATION_SAMPLE=all)."""
    if os.environ.get("TPCHECK_MUTATION_SAMPLE") == "all":
        return []
    digits = sorted(random.Random(SEED).sample(range(10), DIGITS))
    return [f"tpcheck.kernel.*__mutmut_*{d}" for d in digits]


def _config(source: str) -> str:
    """The project's pyproject.toml with a [tool.mutmut] section of our own."""
    text = re.sub(r"(?ms)^\[tool\.mutmut\].*?(?=^\[|\Z)", "", source)
    quoted = ", ".join(f'"{p}"' for p in KERNEL)
    tests = ", ".join(f'"{t}"' for t in TESTS)
    return (text + "\n[tool.mutmut]\n"
            'source_paths = ["tpcheck"]\n'
            f"only_mutate = [{quoted}]\n"
            f"pytest_add_cli_args_test_selection = [{tests}]\n"
            "timeout_multiplier = 3.0\n"
            "use_git_change_detection = false\n")


def _mutmut(workdir: Path, *args: str, timeout: float) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MUTANT_", "MUTMUT_"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run([sys.executable, "-m", "mutmut", *args], cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _diff(workdir: Path, name: str) -> tuple[str, str, str]:
    """(function, removed lines, added lines) of a mutant, stripped, as ``EQUIVALENT`` keys it."""
    shown = _mutmut(workdir, "show", name, timeout=120).stdout
    removed = " ".join(line[1:].strip() for line in shown.splitlines()
                       if line.startswith("-") and not line.startswith("---"))
    added = " ".join(line[1:].strip() for line in shown.splitlines()
                     if line.startswith("+") and not line.startswith("+++"))
    function = name.rsplit(".", 1)[1].removeprefix("x_").split("__mutmut_")[0]
    return function, removed, added


def test_the_kernel_kills_its_mutants(tmp_path):
    workdir = tmp_path / "copy"
    workdir.mkdir()
    shutil.copytree(ROOT / "tpcheck", workdir / "tpcheck",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "tests", workdir / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    (workdir / "pyproject.toml").write_text(_config((ROOT / "pyproject.toml").read_text()))

    start = time.monotonic()
    run = _mutmut(workdir, "run", "--max-children", "1", *_sample_patterns(), timeout=TIME_LIMIT)
    elapsed = time.monotonic() - start
    assert "Failed to run clean test" not in run.stdout, run.stdout[-4000:]

    listed = _mutmut(workdir, "results", "--all", "true", timeout=120).stdout
    status = dict(re.findall(r"^\s+(\S+): (.+)$", listed, re.MULTILINE))
    if _sample_patterns():
        status = {k: v for k, v in status.items() if v != "not checked"}
    assert len(status) >= 50, (run.stdout[-4000:], run.stderr[-4000:])
    killed = [k for k, v in status.items() if v in ("killed", "timeout", "segfault")]
    survivors = sorted(set(status) - set(killed))
    equivalent, unexplained = [], []
    for name in survivors:
        diff = _diff(workdir, name)
        (equivalent if diff in EQUIVALENT else unexplained).append((name, status[name], diff))
    rate = len(killed) / max(1, len(status) - len(equivalent))
    report = "\n".join(f"{name} [{why}]: in {fn}: - {old}  + {new}"
                       for name, why, (fn, old, new) in unexplained)
    assert rate >= KILL_RATE, (f"{len(killed)} of {len(status) - len(equivalent)} mutants killed "
                               f"({rate:.1%}) in {elapsed:.0f} s; not killed:\n{report}")
