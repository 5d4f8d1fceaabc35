"""Inputs that used to hang the checker (sympy evaluating at construction, thousands of steps,
a FIFO, /dev/zero, algebra while reading a file) end quickly with a clean error or verdict.

Each runs in a fresh interpreter with a wall-clock timeout and an address-space limit, so that
a regression fails the test instead of hanging the suite or exhausting the machine's memory.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest

from tests.conftest import ROOT

GB = 1024**3
#: Wall seconds a fresh interpreter gets to import tpcheck and end (each refusal below takes
#: milliseconds once imported).
TIMEOUT = 90


def run_isolated(code: str, timeout: float = TIMEOUT) -> dict:
    """Run ``code`` (which prints one JSON object last) in a fresh interpreter limited to 3 GB
    of address space; the object, with the wall seconds taken."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (3 * GB, 3 * GB))

    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as script:
        script.write(textwrap.dedent(code))
    start = time.monotonic()
    try:
        out = subprocess.run([sys.executable, script.name], cwd=ROOT, capture_output=True,
                             text=True, timeout=timeout, preexec_fn=limit)
    finally:
        os.unlink(script.name)
    assert out.returncode == 0 and "Traceback" not in out.stderr + out.stdout, out.stderr
    return {**json.loads(out.stdout.strip().splitlines()[-1]), "seconds": time.monotonic() - start}


def check_isolated(text: str, budget: float = 10) -> dict:
    """check_text in a fresh interpreter: the first line of each error, verdicts, exit code."""
    return run_isolated(f"""
        import json
        from tpcheck import Options, check_text
        from tpcheck.report import Report
        r = check_text({text!r}, "f.tp", Options(budget={budget}, witnesses=False))
        print(json.dumps({{"errors": [e.splitlines()[0] for e in r.errors + r.internal_errors],
                          "verdicts": [t.verdict.value for t in r.theorems],
                          "exit": Report("t", [r]).exit_code}}))
    """)


def theorem(lhs: str, rhs: str = "1", lets: str = "let x : real\n") -> str:
    return (f'theorem t\n "s"\n {lets} claim {lhs} = {rhs}\nproof\n {lhs}\n = {rhs} by algebra\n'
            "qed\n")


@pytest.mark.parametrize("lhs, message", [
    ("sqrt(2)^(10^12)", "f.tp:4:15: error: exponent 1000000000000 is too large (exponent limit "
                        "10000)"),
    ("sqrt(3)^(10^9)", "f.tp:4:15: error: exponent 1000000000 is too large (exponent limit "
                       "10000)"),
    ("gamma(1/2)^(10^9)", "f.tp:4:18: error: exponent 1000000000 is too large (exponent limit "
                          "10000)"),
    ("exp(10^12 * log(2))", "f.tp:4:8: error: exp(1000000000000*log(2)) is a power with an "
                            "exponent beyond the exponent limit 10000"),
    ("ff(x, 5000)", "f.tp:4:8: error: 5000 factors are too many to multiply out (expanded-factor "
                    "limit 200); keep the number of factors symbolic"),
    ("sqrt(10^8000 + 1)", "f.tp:4:8: error: a root of a 26576-bit number is too costly to take "
                          "exactly (root limit 4000 bits)"),
])
def test_what_sympy_would_evaluate_at_construction_is_refused_before(lhs, message):
    result = check_isolated(theorem(lhs))
    assert (result["errors"], result["exit"]) == ([message], 2)
    assert result["seconds"] < TIMEOUT / 2


def test_a_chain_of_5000_steps_is_refused_at_once():
    chain = "".join(f" = x + {i} - {i} by algebra\n" for i in range(5000))
    result = check_isolated(f'theorem t\n "s"\n let x : real\n claim x = x\nproof\n x\n{chain}qed\n')
    assert result["errors"] == ["f.tp:207:2: parse error: a derivation has at most 200 steps (the "
                                "step limit); split it into lemmas"]
    assert result["seconds"] < TIMEOUT / 2


def test_sixteen_nested_definitions_are_refused_at_once():
    lets = "let x : real\n let g0(y) = y + 1\n" + "".join(
        f" let g{i}(y) = g{i - 1}(g{i - 1}(y))\n" for i in range(1, 17))
    result = check_isolated(theorem("g16(x)", "x", lets=lets))
    assert result["errors"] == ["f.tp:19:15: error: this expression, with its definitions "
                                "expanded, takes more than 100000 steps to build (work limit "
                                "100000) (in the expansion of 'g14')"]
    assert result["seconds"] < TIMEOUT / 2


def test_algebra_while_reading_a_theorem_is_bounded_by_a_steps_budget():
    text = ('theorem t\n "s"\n let x, y, z, w : real\n'
            " let Z1, Z2 ~ Normal([0, 0], [[1, (x+y+z+w+1)^80], [(x+y+z+w+1)^79*(x+y+z+w+2) - "
            "(x+y+z+w+1)^79, 1]])\n claim E[Z1] = 0\nproof\n E[Z1]\n = 0 by gaussian_moment\nqed\n")
    result = check_isolated(text, budget=2)
    assert result["errors"] == ["f.tp:1:1: error: reading theorem 't' ran out of its CPU-time "
                                "budget of 2 s (a step's budget, --budget)"]
    assert result["seconds"] < TIMEOUT / 2


CHECK_PATH = """
    import json, sys
    from tpcheck import Options, check
    from tpcheck.errors import TpcheckError
    try:
        check(sys.argv[1] if len(sys.argv) > 1 else {path!r}, Options(witnesses=False))
        print(json.dumps({{"error": None}}))
    except TpcheckError as exc:
        print(json.dumps({{"error": str(exc)}}))
"""


def test_a_fifo_in_a_checked_folder_is_refused_not_waited_on(tmp_path):
    (tmp_path / "ok.tp").write_text(theorem("x + x", "2x"))
    os.mkfifo(tmp_path / "pipe.tp")
    result = run_isolated(CHECK_PATH.format(path=str(tmp_path)))
    assert result["error"] == (f"{tmp_path}/pipe.tp: not a regular file (a FIFO); only regular "
                               "proof files are read")
    assert result["seconds"] < TIMEOUT / 2


@pytest.mark.parametrize("path, kind", [("/dev/zero", "a character device"),
                                        ("/dev/urandom", "a character device")])
def test_a_device_as_the_path_is_refused_not_read(path, kind):
    result = run_isolated(CHECK_PATH.format(path=path))
    assert result["error"] == f"{path}: not a regular file ({kind}); only regular proof files are read"
    assert result["seconds"] < TIMEOUT / 2


def test_a_huge_file_as_the_path_is_refused_not_read(tmp_path):
    path = tmp_path / "huge.tp"
    with open(path, "wb") as fh:
        fh.truncate(3 * GB)
    result = run_isolated(CHECK_PATH.format(path=str(path)))
    assert result["error"] == (f"{path}: file is too large (3221225472 bytes; file size limit "
                               "1000000 bytes)")
    assert result["seconds"] < TIMEOUT / 2
