"""Checking in worker processes (``tpcheck check -j N``) reports exactly what the serial run
does, in file order, with the rules' CPU-time budgets still working in the workers; and the
progress bars (tpcheck/progress.py) are drawn on a terminal only."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tpcheck.api import check, default_jobs, run_settings
from tpcheck.cli import main
from tpcheck.kernel import Judgement, Options, Verdict
from tpcheck.progress import progress, shown

FIRST = """\
theorem doubled
  "x + x is 2x."
  let x : real
  claim x + x = 2*x
proof
  x + x
    = 2*x      by algebra
qed

theorem tripled_wrongly
  "x + x is not 3x."
  let x : real
  claim x + x = 3*x
proof
  x + x
    = 3*x      by algebra
qed

theorem doubled
  "Defined twice."
  let x : real
  claim x = x
proof
  x
    = x      by algebra
qed
"""

SECOND = """\
theorem vanishing
  "1/n tends to 0."
  let n : positive integer
  claim 1/n -> 0 as n -> oo
proof
  1/n
    -> 0 as n -> oo   by limit
qed

theorem unknown_symbol
  "Reads a symbol it does not declare."
  let x : real
  claim x = y
proof
  x
    = y      by algebra
qed

theorem square
  "(x+1)^2 expands."
  let x : real
  claim (x+1)^2 = x^2 + 2*x + 1
proof
  (x+1)^2
    = x^2 + 2*x + 1      by algebra
qed
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "a.tp").write_text(FIRST)
    (tmp_path / "b.tp").write_text(SECOND)
    (tmp_path / "c.tp").write_text("theorem broken\n  claim\n")
    return tmp_path


def report_json(folder: Path, jobs: int, tmp_path: Path) -> tuple[int, str]:
    out = tmp_path / f"report-{jobs}.json"
    code = main(["check", "--no-cache", "-j", str(jobs), "--json", str(out), str(folder)])
    return code, out.read_text()


def test_two_processes_report_what_one_does(folder: Path, tmp_path: Path) -> None:
    serial = report_json(folder, 1, tmp_path)
    parallel = report_json(folder, 2, tmp_path)
    assert parallel == serial
    data = json.loads(serial[1])
    names = [[t["name"] for t in f["theorems"]] for f in data["files"]]
    assert names == [["doubled", "tripled_wrongly"], ["vanishing", "square"], []]
    assert [len(f["errors"]) for f in data["files"]] == [1, 1, 1]


def test_the_text_report_is_in_file_order(folder: Path, capsys: pytest.CaptureFixture) -> None:
    main(["check", "--no-cache", "-j", "1", str(folder)])
    serial = capsys.readouterr().out
    main(["check", "--no-cache", "-j", "2", str(folder)])
    assert capsys.readouterr().out == serial


def test_the_api_takes_jobs_directly_or_from_run_settings(folder: Path) -> None:
    serial = check(folder, Options(witnesses=False)).to_json()
    assert check(folder, Options(witnesses=False), jobs=3).to_json() == serial
    with run_settings(jobs=2):
        assert check(folder, Options(witnesses=False)).to_json() == serial


SPIN = """\
theorem first
  "Spins."
  let x : real
  claim x = x
proof
  x
    = x      by parallel_spin
qed

theorem second
  "Spins too."
  let x : real
  claim x = x
proof
  x
    = x      by parallel_spin
qed
"""


@pytest.mark.slow
def test_a_rule_in_a_worker_still_runs_out_of_its_budget(tmp_path: Path) -> None:
    from tpcheck.kernel import REGISTRY, rule

    REGISTRY.pop("parallel_spin", None)

    @rule("parallel_spin", human="spin")
    def spin(goal, args, ctx) -> Judgement:  # noqa: ANN001
        """Never ends (for tests only)."""
        while True:
            pass

    try:
        (tmp_path / "spin.tp").write_text(SPIN)
        report = check(tmp_path, Options(budget=0.5, witnesses=False), jobs=2)
    finally:
        REGISTRY.pop("parallel_spin", None)
    assert [t.verdict for t in report.theorems] == [Verdict.UNDECIDED] * 2
    assert all("budget" in t.steps[0].detail for t in report.theorems)
    assert report.files[0].internal_errors == []


@pytest.mark.parametrize("jobs", ["0", "-1", "x", "1.5", "100000"])
def test_a_bad_number_of_jobs_is_a_usage_error(jobs: str, folder: Path,
                                               capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["check", "-j", jobs, str(folder)])
    assert exc.value.code == 2
    assert "number of processes" in capsys.readouterr().err


def test_the_api_refuses_a_bad_number_of_jobs(folder: Path) -> None:
    from tpcheck.errors import TpcheckError

    with pytest.raises(TpcheckError, match="jobs"):
        check(folder, jobs=0)


def test_the_default_is_the_cpus_this_process_may_use() -> None:
    assert default_jobs() >= 1


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_bar_where_standard_error_is_not_a_terminal() -> None:
    items = [1, 2, 3]
    stream = io.StringIO()
    assert not shown(stream)
    assert progress(items, total=3, desc="x", stream=stream) is items
    assert stream.getvalue() == ""


def test_a_bar_on_a_terminal_yields_every_item() -> None:
    stream = Terminal()
    assert shown(stream)
    assert list(progress(iter(range(5)), total=5, desc="checking", stream=stream)) == list(range(5))
    assert "checking" in stream.getvalue()


def test_a_closed_stream_shows_no_bar() -> None:
    stream = io.StringIO()
    stream.close()
    assert not shown(stream)
