"""Mutation testing of the trusted core (slow tier): mutmut on a seeded sample of the mutants
of each part of the core (the kernel; the decision procedures: equality, hypergeometric
induction, asymptotics; the rules with the exact-expectation layer), in a temporary copy of
the package, must see at least 95% of them killed.

A mutant is one small change to the source (``<`` for ``<=``, ``and`` for ``or``, a constant
off by one, an argument dropped); a test suite that lets it pass without noticing would let the
same slip in the core through. Timeouts count as killed (the mutant hangs the checker, which
a user notices); "no tests" counts as survived. Survivors known to be equivalent to the original
(no test can tell them apart) are listed in ``tests/mutation/*_equivalents.py`` with the reason
and left out of the rate; any other survivor is printed with its diff when the rate is below the
bar.

A part has about 1000-2000 mutants, hours on two cores; the sample (the mutants whose number
ends in a digit chosen by ``SEED``) takes a few minutes a part. Run every mutant with
``TPCHECK_MUTATION_SAMPLE=all``, or other final digits with ``TPCHECK_MUTATION_SAMPLE=3,7``.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.mutation import decision_equivalents, kernel_equivalents, rule_equivalents

pytestmark = pytest.mark.slow

mutmut = pytest.importorskip("mutmut")

ROOT = Path(__file__).resolve().parent.parent
# The trusted core in parts: the modules mutated, the tests run against their mutants, and the
# package pattern of their mutants' names.
RULE_MODULES = ("algebra", "common", "enclosure", "evaluation", "expectation", "gaussian", "independence",
                "induction", "inequalities", "limit", "matrices", "numeric", "sums", "tensor_programs")
PARTS = {
    "kernel": (["tpcheck/kernel/check.py", "tpcheck/kernel/verdict.py", "tpcheck/kernel/bounded.py"],
               ["tests/test_core_mutants.py", "tests/test_kernel.py"], "tpcheck.kernel"),
    "decisions": (["tpcheck/engines/equality.py", "tpcheck/engines/hypergeometric.py",
                   "tpcheck/engines/asymptotics.py"],
                  ["tests/test_core_mutants.py", "tests/test_equality.py", "tests/test_decision_mutants.py"],
                  "tpcheck.engines"),
    # the rule modules of the trust issue; the rules added since (networks, distribution,
    # power_iteration, abc) are held by their own tests and bad proofs, not yet by mutants
    "rules": ([f"tpcheck/rules/{m}.py" for m in RULE_MODULES] + ["tpcheck/expectations/*"],
              ["tests/test_rule_mutants.py", "tests/test_core_mutants.py", "tests/test_evaluators.py",
               "tests/test_mlp_language.py"],
              "tpcheck"),
}
SEED = 20240611
DIGITS = 1  # of the ten final digits of a mutant's number: a sample of about a tenth
KILL_RATE = 0.95
CHILDREN = max(1, min(4, os.cpu_count() or 1))  # mutants run side by side
TIME_LIMIT = float(os.environ.get("TPCHECK_MUTATION_TIME", 480.0))  # wall seconds a part, 2 cores

# The survivors no test can tell from the original, per part, as mutmut prints their change
# (function, the line it removes, the lines it may put instead), with the reason. A stale entry
# only makes its mutant count as a survivor.
EQUIVALENT: dict[tuple[str, str, str], str] = {
    (function, removed, added): reason
    for groups in (kernel_equivalents.GROUPS, decision_equivalents.GROUPS, rule_equivalents.GROUPS)
    for function, removed, replacements, reason in groups for added in replacements
}


def _sample_patterns(package: str) -> list[str]:
    """Name patterns of the sampled mutants: those whose number ends in one of the chosen
    digits (every mutant of the part with TPCHECK_MUTATION_SAMPLE=all, other final digits with
    TPCHECK_MUTATION_SAMPLE=3,7)."""
    chosen = os.environ.get("TPCHECK_MUTATION_SAMPLE", "")
    if chosen == "all":
        return []
    digits = ([int(d) for d in chosen.split(",")] if chosen
              else sorted(random.Random(SEED).sample(range(10), DIGITS)))
    return [f"{package}.*__mutmut_*{d}" for d in digits]


def _config(source: str, modules: list[str], tests: list[str]) -> str:
    """The project's pyproject.toml with a [tool.mutmut] section of our own."""
    text = re.sub(r"(?ms)^\[tool\.mutmut\].*?(?=^\[|\Z)", "", source)
    # mutmut runs the tests in its own forked children: no pytest-xdist workers inside them
    text = text.replace(" -n 2", "")
    quoted = ", ".join(f'"{p}"' for p in modules)
    tests = ", ".join(f'"{t}"' for t in tests)
    return (text + "\n[tool.mutmut]\n"
            'source_paths = ["tpcheck"]\n'
            f"only_mutate = [{quoted}]\n"
            f"pytest_add_cli_args_test_selection = [{tests}]\n"
            'also_copy = ["proofs"]\n'
            'pytest_add_cli_args = ["-m", "slow or not slow"]\n'
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


@pytest.mark.parametrize("part", sorted(PARTS))
def test_the_trusted_core_kills_its_mutants(part):
    # A folder of its own, not pytest's tmp_path: pytest removes all but its three latest base
    # folders, which another pytest run on the machine may do in the middle of this one.
    with tempfile.TemporaryDirectory(prefix=f"tpcheck-mutation-{part}-") as tmp:
        _kill_mutants(Path(tmp) / "copy", part)


def _kill_mutants(workdir: Path, part: str) -> None:
    modules, tests, package = PARTS[part]
    workdir.mkdir()
    shutil.copytree(ROOT / "tpcheck", workdir / "tpcheck",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "tests", workdir / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "proofs", workdir / "proofs")
    (workdir / "pyproject.toml").write_text(
        _config((ROOT / "pyproject.toml").read_text(), modules, tests))

    start = time.monotonic()
    run = _mutmut(workdir, "run", "--max-children", str(CHILDREN), *_sample_patterns(package),
                  timeout=TIME_LIMIT)
    elapsed = time.monotonic() - start
    assert "Failed to run clean test" not in run.stdout, run.stdout[-4000:]

    listed = _mutmut(workdir, "results", "--all", "true", timeout=120).stdout
    status = dict(re.findall(r"^\s+(\S+): (.+)$", listed, re.MULTILINE))
    if _sample_patterns(package):
        status = {k: v for k, v in status.items() if v != "not checked"}
    assert len(status) >= 50, (run.stdout[-4000:], run.stderr[-4000:])
    killed = [k for k, v in status.items() if v in ("killed", "timeout", "segfault")]
    survivors = sorted(set(status) - set(killed))
    equivalent, unexplained = [], []
    for name in survivors:
        diff = _diff(workdir, name)
        (equivalent if diff in EQUIVALENT else unexplained).append((name, status[name], diff))
    rate = len(killed) / max(1, len(status) - len(equivalent))
    timeouts = sum(1 for k in killed if status[k] == "timeout")
    print(f"mutation [{part}]: {len(status)} mutants sampled, {len(killed)} killed ({timeouts} by "
          f"timeout), {len(equivalent)} equivalent, {len(unexplained)} not killed: {rate:.1%} "
          f"in {elapsed:.0f} s")
    for name, why, (fn, old, new) in unexplained:
        print(f"  not killed [{why}]: {name}: in {fn}: - {old}  + {new}")
    report = "\n".join(f"{name} [{why}]: in {fn}: - {old}  + {new}"
                       for name, why, (fn, old, new) in unexplained)
    assert rate >= KILL_RATE, (f"{len(killed)} of {len(status) - len(equivalent)} mutants killed "
                               f"({rate:.1%}) in {elapsed:.0f} s; not killed:\n{report}")
