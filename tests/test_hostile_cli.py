"""Bad command-line arguments end in a one-line usage error (exit 2), never a traceback, a hang
or an unbounded run; unreadable inputs and outputs are clean errors too."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tpcheck import cli
from tpcheck.cli import main
from tpcheck.kernel.check import DEFAULT_RUN_BUDGET

GOOD = 'theorem t\n  "s"\n  let x : real\n  claim x = x\nproof\n  x\n    = x by algebra\nqed\n'


@pytest.fixture
def good(tmp_path):
    p = tmp_path / "good.tp"
    p.write_text(GOOD)
    return p


@pytest.fixture
def semicircle(root):
    return str(root / "proofs" / "semicircle.tp")


def usage_error(argv: list[str], capsys) -> str:
    """The one line a usage error prints (argparse exits with 2)."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.endswith("\n")
    lines = captured.err.split("\n")[:-1]
    assert len(lines) == 1, captured.err
    return lines[0]


SECONDS = "must be more than 0 and at most 86400 seconds"


@pytest.mark.parametrize("value", ["inf", "1e300", "0", "-1", "nan", "-inf", "86401"])
@pytest.mark.parametrize("flag", ["--budget", "--witness-budget", "--run-budget"])
def test_budgets_are_positive_finite_and_bounded(good, capsys, flag, value):
    line = usage_error(["check", f"{flag}={value}", str(good)], capsys)
    assert line == (f"tpcheck check: error: argument {flag}: {SECONDS}, got '{value}' "
                    "(see tpcheck check --help)")


@pytest.mark.parametrize("command", ["latex", "trust"])
def test_run_budget_is_validated_for_latex_and_trust(good, capsys, command):
    line = usage_error([command, "--run-budget", "0", str(good)], capsys)
    assert line == (f"tpcheck {command}: error: argument --run-budget: {SECONDS}, got '0' "
                    f"(see tpcheck {command} --help)")


def test_a_budget_that_is_not_a_number(good, capsys):
    line = usage_error(["check", "--budget", "soon", str(good)], capsys)
    assert line == ("tpcheck check: error: argument --budget: expected a number of seconds, got "
                    "'soon' (see tpcheck check --help)")


def test_budgets_reach_the_options(good, monkeypatch):
    seen = []
    real_check = cli.check
    monkeypatch.setattr(cli, "check", lambda paths, options, require=None:
                        seen.append(options) or real_check(paths, options, require))
    assert main(["check", "--budget", "2.5", "--witness-budget", "86400", str(good)]) == 0
    assert (seen[0].budget, seen[0].witness_budget) == (2.5, 86400.0)


@pytest.mark.parametrize("command", ["check", "latex", "trust"])
def test_run_budget_reaches_the_kernel(good, monkeypatch, capsys, command):
    seen = []

    def fake_check(paths, options, *args, **kwargs):
        seen.append(options)
        raise cli.TpcheckError("stop here")

    monkeypatch.setattr(cli, "check", fake_check)
    monkeypatch.setattr("tpcheck.latex_build.check_text",
                        lambda text, path, options, *rest: fake_check([path], options))
    assert main([command, "--run-budget", "30", str(good)]) == 2
    assert seen[0].run_budget == 30.0 and capsys.readouterr().err == "tpcheck: stop here\n"
    assert main([command, str(good)]) == 2
    assert seen[1].run_budget == DEFAULT_RUN_BUDGET


@pytest.mark.parametrize("scale", ["0", "-2", "nan", "inf", "1001"])
def test_mc_scale_is_bounded(good, capsys, scale):
    line = usage_error(["check", "--mc-scale", scale, str(good)], capsys)
    assert line == (f"tpcheck check: error: argument --mc-scale: must be more than 0 and at most "
                    f"1000, got '{scale}' (see tpcheck check --help)")


def test_json_into_a_folder_or_a_missing_folder(good, tmp_path, capsys):
    line = usage_error(["check", "--json", str(tmp_path), str(good)], capsys)
    assert line == (f"tpcheck check: error: argument --json: {tmp_path} is a folder, not a file "
                    "(see tpcheck check --help)")
    missing = tmp_path / "nope" / "r.json"
    line = usage_error(["check", "--json", str(missing), str(good)], capsys)
    assert line == (f"tpcheck check: error: argument --json: no such folder: {missing.parent} "
                    "(see tpcheck check --help)")
    assert not missing.parent.exists()


def test_json_write_failure_is_a_clean_error(good, tmp_path, capsys):
    target = tmp_path / "r.json"
    target.symlink_to(target)  # a link loop: writing it fails with ELOOP
    assert main(["check", "--json", str(target), str(good)]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"tpcheck: {target}: Too many levels of symbolic links\n"


SIMULATE_ERRORS = [
    (["--sizes", "abc"], "argument --sizes: each size n must be an integer in 1..100000, got 'abc'"),
    (["--sizes", ""], "argument --sizes: each size n must be an integer in 1..100000, got ''"),
    (["--sizes", "8,,16"], "argument --sizes: each size n must be an integer in 1..100000, got ''"),
    (["--sizes", "0"], "argument --sizes: each size n must be an integer in 1..100000, got '0'"),
    (["--sizes", "١٢"], "argument --sizes: each size n must be an integer in 1..100000, got '١٢'"),
    (["--sizes", ",".join(["8"] * 21)], "argument --sizes: at most 20 sizes, got 21"),
    (["--sizes", "2000000", "--plot", "x.png"],
     "argument --sizes: each size n must be an integer in 1..100000, got '2000000'"),
    (["--seed", "-1"], "argument --seed: the seed must be an integer in 0..9223372036854775807, "
                       "got '-1'"),
    (["--seed", "1e3"], "argument --seed: the seed must be an integer in 0..9223372036854775807, "
                        "got '1e3'"),
    (["--at", "k=abc"], "argument --at: the value of k must be an integer in -1000..1000, "
                        "got 'abc'"),
    (["--at", "k=100000"], "argument --at: the value of k must be an integer in -1000..1000, "
                           "got '100000'"),
    (["--at", "=3"], "argument --at: expected NAME=INTEGER, e.g. k=2, got '=3'"),
    (["--samples", "0"], "argument --samples: the number of samples must be an integer in "
                         "100..5000000, got '0'"),
    (["--samples", "-5"], "argument --samples: the number of samples must be an integer in "
                          "100..5000000, got '-5'"),
    (["--plot", "/nonexistent-folder/x.png"],
     "argument --plot: no such folder: /nonexistent-folder"),
]


@pytest.mark.parametrize(("args", "message"), SIMULATE_ERRORS, ids=lambda a: repr(a)[:40])
def test_simulate_arguments(semicircle, capsys, args, message):
    start = time.process_time()
    line = usage_error(["simulate", semicircle, "--theorem", "goe_fourth_moment_correction",
                        *args], capsys)
    assert line == f"tpcheck simulate: error: {message} (see tpcheck simulate --help)"
    assert time.process_time() - start < 5


def test_simulate_api_refuses_what_the_cli_refuses(semicircle):
    from tpcheck.errors import TpcheckError
    from tpcheck.simulate import load_theorem, sweep

    thm = load_theorem(semicircle, "goe_fourth_moment_correction")
    with pytest.raises(TpcheckError, match=r"every size n must be in 1\.\.100000"):
        sweep(thm, [2_000_000], samples=100, seed=0, fixed={}, progress=False)
    with pytest.raises(TpcheckError, match=r"the seed must be in 0\.\."):
        sweep(thm, [8], samples=100, seed=-1, fixed={}, progress=False)


def not_utf8(tmp_path):
    p = tmp_path / "latin1.tp"
    p.write_bytes(GOOD.replace('"s"', '"caf\xe9"').encode("latin-1"))
    return p


@pytest.mark.parametrize("command", [["latex"], ["latex", "--pdf"], ["simulate"], ["check"],
                                     ["trust"]])
def test_a_file_that_is_not_utf8(tmp_path, capsys, command):
    p = not_utf8(tmp_path)
    assert main([*command, str(p)]) == 2
    captured = capsys.readouterr()
    if command[0] in ("check", "trust"):  # a file-level error in the report, the rest checked
        assert (f"  {p}: error: cannot be read: not UTF-8 text (invalid continuation byte at "
                "byte 16)\n") in captured.out
    else:
        assert captured.err == (f"tpcheck: {p}: cannot be read: not UTF-8 text (invalid continuation "
                                "byte at byte 16)\n")


def test_latex_on_a_symlink_loop(tmp_path, capsys):
    loop = tmp_path / "loop.tp"
    loop.symlink_to(loop)
    assert main(["latex", str(loop)]) == 2
    assert capsys.readouterr().err == f"tpcheck: {loop}: cannot be read: Too many levels of symbolic links\n"
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "good.tp").write_text(GOOD)
    (folder / "loop.tp").symlink_to(folder / "loop.tp")
    (folder / "up").symlink_to(folder)  # a folder loop
    start = time.monotonic()
    assert main(["latex", str(folder)]) == 2
    assert time.monotonic() - start < 60
    assert capsys.readouterr().err == (f"tpcheck: {folder / 'loop.tp'}: cannot be read: "
                                       "Too many levels of symbolic links\n")


def test_latex_output_into_a_folder_or_a_missing_folder(good, tmp_path, capsys):
    line = usage_error(["latex", "-o", str(tmp_path), str(good)], capsys)
    assert line == (f"tpcheck latex: error: argument -o/--output: {tmp_path} is a folder, not a "
                    "file (see tpcheck latex --help)")
    line = usage_error(["latex", "-o", str(tmp_path / "no" / "x.tex"), str(good)], capsys)
    assert line == (f"tpcheck latex: error: argument -o/--output: no such folder: {tmp_path / 'no'} "
                    "(see tpcheck latex --help)")


def test_usage_errors_are_one_line_without_traceback(good, tmp_path):
    cases = [
        ["check", "--budget", "nan", str(good)],
        ["check", "--json", str(tmp_path), str(good)],
        ["simulate", str(good), "--sizes", "abc"],
        ["simulate", str(good), "--seed", "-1"],
        ["frobnicate"],
    ]
    for argv in cases:
        out = subprocess.run([sys.executable, "-m", "tpcheck.cli", *argv], capture_output=True,
                             text=True, timeout=120)
        assert out.returncode == 2, argv
        assert "Traceback" not in out.stderr and out.stdout == ""
        assert out.stderr.count("\n") == 1 and out.stderr.startswith("tpcheck"), out.stderr


def test_an_unexpected_exception_is_one_line_exit_4(good, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(cli, "check", broken)
    monkeypatch.delenv("TPCHECK_DEBUG", raising=False)
    assert main(["check", str(good)]) == 4
    assert capsys.readouterr().err == ("tpcheck: internal error: ZeroDivisionError: division by "
                                       "zero (TPCHECK_DEBUG=1 shows the traceback)\n")
