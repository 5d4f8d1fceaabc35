"""Verdicts do not depend on the machine's load: budgets count the child's CPU time."""

from __future__ import annotations

import multiprocessing as mp

import pytest

from tpcheck import check
from tpcheck.kernel import Options


def _busy() -> None:
    while True:
        pass


def _verdicts(root) -> dict[str, str]:  # noqa: ANN001
    report = check([root / "proofs"], Options(witnesses=False))
    assert not any(f.errors for f in report.files)
    return {t.name: t.verdict.value for t in report.theorems}


@pytest.mark.slow
def test_library_verdicts_are_the_same_beside_two_busy_processes(root):
    idle = _verdicts(root)
    hogs = [mp.get_context("fork").Process(target=_busy, daemon=True) for _ in range(2)]
    for h in hogs:
        h.start()
    try:
        loaded = _verdicts(root)
    finally:
        for h in hogs:
            h.kill()
            h.join()
    assert loaded == idle
