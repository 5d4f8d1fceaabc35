"""The pytest plugin: proof files as test items, failures shown like tpcheck check."""

from __future__ import annotations

import subprocess
import sys

GOOD = """
theorem square
  "A binomial square."
  let x : real
  claim (x + 1)^2 = x^2 + 2x + 1
proof
  (x + 1)^2
    = x^2 + 2x + 1   by algebra
qed
"""

BAD = GOOD.replace("2x + 1   by", "2x + 2   by").replace("claim (x + 1)^2 = x^2 + 2x + 1",
                                                         "claim (x + 1)^2 = x^2 + 2x + 2")


def run_pytest(tmp_path, files: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(tmp_path), *args], capture_output=True, text=True, cwd=tmp_path)


def test_theorems_are_collected_and_pass(tmp_path):
    out = run_pytest(tmp_path, {"good.tp": GOOD})
    assert out.returncode == 0, out.stdout
    assert "1 passed" in out.stdout


def test_a_refuted_theorem_fails_with_its_counterexample(tmp_path):
    out = run_pytest(tmp_path, {"bad.tp": BAD})
    assert out.returncode == 1
    assert "REFUTED by algebra" in out.stdout and "counterexample" in out.stdout
    assert "bad.tp:8" in out.stdout


def test_required_strength_option(tmp_path):
    ranged = GOOD.replace('  let x : real\n', '  k in 0..3\n').replace(
        "(x + 1)^2 = x^2 + 2x + 1", "sum(j, j = 1..k) = k*(k + 1)/2").replace(
        "  (x + 1)^2\n    = x^2 + 2x + 1   by algebra", "  sum(j, j = 1..k)\n    = k*(k + 1)/2   by eval")
    assert run_pytest(tmp_path, {"r.tp": ranged}).returncode == 0
    strict = run_pytest(tmp_path, {"r.tp": ranged}, "--tpcheck-require", "proved")
    assert strict.returncode == 1 and "required: PROVED" in strict.stdout


def test_parse_errors_are_reported_as_failing_items(tmp_path):
    out = run_pytest(tmp_path, {"broken.tp": "theorem t\n  claim (x = 1\nproof\n x\n = 1 by algebra\nqed\n"})
    assert out.returncode == 1 and "parse error" in out.stdout


def test_a_partially_checked_theorem_fails_require_verified(tmp_path):
    partial = GOOD.replace('  let x : real\n', '  for all k >= 0\n').replace(
        "(x + 1)^2 = x^2 + 2x + 1", "sum(j, j = 1..k) = k*(k + 1)/2").replace(
        "  (x + 1)^2\n    = x^2 + 2x + 1   by algebra",
        "  sum(j, j = 1..k)\n    = k*(k + 1)/2   by eval(k in 0..5)")
    assert run_pytest(tmp_path, {"p.tp": partial}).returncode == 0
    strict = run_pytest(tmp_path, {"p.tp": partial}, "--tpcheck-require", "verified")
    assert strict.returncode == 1
    assert "PARTIAL: checked on k in 0..5 only (claimed for all k >= 0)" in strict.stdout
