"""Checking an untrusted file never runs code from it, and hostile sizes end cleanly."""

from __future__ import annotations

import pytest

from tests.conftest import run
from tpcheck.kernel import Verdict

ATTEMPTS = [
    "__import__('os').system('touch {s}')",
    "os.system('touch {s}')",
    "exec(\"open('{s}', 'w')\")",
    "eval(\"open('{s}', 'w')\")",
    "(lambda: open('{s}', 'w'))()",
    "x.__class__",
    "open('{s}', 'w')",
    "getattr(x, 'y')",
    "sympify('open(\"{s}\", \"w\")')",
]


@pytest.mark.parametrize("payload", ATTEMPTS)
def test_python_in_a_proof_file_is_rejected_and_never_runs(tmp_path, payload):
    sentinel = tmp_path / "SENTINEL"
    body = payload.format(s=sentinel)
    for text in (
        f'theorem t\n "s"\n let x : real\n claim x = {body}\nproof\n x\n = x by algebra\nqed\n',
        f'theorem t\n "s"\n let x : real\n claim x = x\nproof\n x\n = x by {body}\nqed\n',
        f'theorem t\n "{body}"\n let x : real\n claim x = x\nproof\n x\n = x by algebra\nqed\n',
    ):
        report = run(text, budget=None, witnesses=False)
        assert not sentinel.exists()
        assert not report.internal_errors
        if body not in text.split("\n")[1]:
            assert report.errors, text


def test_no_eval_exec_or_sympify_in_the_package(root):
    import re

    pattern = re.compile(r"(^|[^._a-zA-Z])(eval|exec|sympify|parse_expr)\(")
    for path in (root / "tpcheck").rglob("*.py"):
        for i, line in enumerate(path.read_text().splitlines(), 1):
            assert not pattern.search(line), f"{path}:{i}: {line}"


def test_tower_of_powers_is_refused():
    report = run('theorem t\n "s"\n claim 10^10^10 = 1\nproof\n 10^10^10\n = 1 by algebra\nqed\n')
    assert report.errors and "too large" in report.errors[0]


def test_huge_factorial_literal_is_refused():
    report = run('theorem t\n "s"\n claim (10^6)! = 1\nproof\n (10^6)!\n = 1 by eval\nqed\n')
    assert report.errors and "too large" in report.errors[0]


def test_huge_range_is_undecided_not_a_hang():
    text = ('theorem t\n "s"\n k in 0..10^9\n claim sum(j, j = 1..k) = k*(k + 1)/2\nproof\n'
            ' sum(j, j = 1..k)\n = k*(k + 1)/2 by eval\nqed\n')
    report = run(text, budget=20)
    assert report.theorems[0].verdict is Verdict.UNDECIDED
    assert "instances" in report.theorems[0].steps[0].detail


def test_deep_nesting_is_a_parse_error():
    deep = "(" * 10_000 + "x" + ")" * 10_000
    report = run(f'theorem t\n "s"\n let x : real\n claim {deep} = x\nproof\n x\n = x by algebra\nqed\n')
    assert report.errors and "nested" in report.errors[0]


def test_a_step_that_would_hang_sympy_ends_undecided_within_its_budget():
    text = (
        'theorem t\n "s"\n let x, y, z, w : real\n'
        " claim (x + y + z + w + 1)^80 = (x + y + z + w + 1)^79 * (x + y + z + w + 2)"
        " - (x + y + z + w + 1)^79\nproof\n"
        " (x + y + z + w + 1)^80\n = (x + y + z + w + 1)^79 * (x + y + z + w + 2)"
        " - (x + y + z + w + 1)^79 by algebra\nqed\n"
    )
    report = run(text, budget=1.0, witnesses=False)
    step = report.theorems[0].steps[0]
    assert step.verdict is Verdict.UNDECIDED and "time budget of 1 s ran out" in step.detail


def test_memory_budget_turns_a_blow_up_into_undecided():
    from tpcheck.kernel.bounded import run_bounded

    out = run_bounded(lambda: bytearray(8 * 1024**3), (), seconds=20, memory=512 * 1024**2)
    assert not out.ok and ("memory" in out.reason or "MemoryError" in out.reason)
