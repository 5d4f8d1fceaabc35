"""The verdict cache (tpcheck/cache.py): a cached run reports exactly what a fresh one does; a
changed theorem, option, code or position is checked again; entries a proof folder could
forge, tamper with or truncate are ignored; ``--no-cache`` neither reads nor writes."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

import tpcheck.api
import tpcheck.cache
from tpcheck.api import check
from tpcheck.cache import CACHE_DIR, KEY_ENV, VerdictCache, load_key, storable
from tpcheck.cli import main
from tpcheck.kernel import Options, TheoremResult, Verdict

TWO = """\
# two theorems
theorem doubled
  "x + x is 2x."
  let x : real
  claim x + x = 2*x
proof
  x + x
    = 2*x      by algebra
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
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder (the current folder) with one proof file, the key outside it."""
    monkeypatch.setenv(KEY_ENV, str(tmp_path / "home" / "tpcheck" / "key"))
    root = tmp_path / "project"
    (root / "proofs").mkdir(parents=True)
    (root / "proofs" / "two.tp").write_text(TWO)
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the theorems actually checked (not taken from the cache)."""
    names: list[str] = []
    real = tpcheck.api.check_theorem_source

    def spy(t, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        names.append(t.name)
        return real(t, *args, **kwargs)

    monkeypatch.setattr(tpcheck.api, "check_theorem_source", spy)
    return names


def run(*args: str) -> tuple[int, dict]:
    """``tpcheck check -j 1 --json FILE ARGS proofs``: the exit code and the JSON report."""
    out = Path("report.json")
    code = main(["check", "-j", "1", "--json", str(out), *args, "proofs"])
    return code, json.loads(out.read_text())


def entries() -> list[Path]:
    return sorted((Path(CACHE_DIR) / "v1").glob("*.json"))


def test_a_cached_run_reports_what_a_fresh_run_does(project: Path, checked: list[str]) -> None:
    fresh = run("--no-cache")
    first = run()
    assert checked == ["doubled", "square"] * 2
    cached = run()
    assert checked == ["doubled", "square"] * 2  # nothing checked the third time
    assert fresh == first == cached
    assert len(entries()) == 2
    assert (Path(CACHE_DIR) / ".gitignore").read_text().splitlines()[-1] == "*"


def test_the_text_report_is_the_same_from_the_cache(project: Path, capsys: pytest.CaptureFixture) -> None:
    main(["check", "-j", "1", "--no-cache", "proofs"])
    fresh = capsys.readouterr().out
    main(["check", "-j", "1", "proofs"])
    main(["check", "-j", "1", "proofs"])
    assert capsys.readouterr().out == fresh * 2


def test_a_changed_theorem_is_checked_again_and_the_other_is_not(project: Path,
                                                                  checked: list[str]) -> None:
    run()
    checked.clear()
    (project / "proofs" / "two.tp").write_text(TWO.replace("= x^2 + 2*x + 1", "= x^2 + 3*x + 1"))
    code, report = run()
    assert checked == ["square"]
    assert code == 1
    assert [t["verdict"] for t in report["files"][0]["theorems"]] == ["PROVED", "REFUTED"]


def test_a_moved_theorem_is_checked_again_at_its_new_lines(project: Path, checked: list[str]) -> None:
    run()
    checked.clear()
    (project / "proofs" / "two.tp").write_text(TWO.replace("# two theorems\n", "# two theorems\n\n"))
    _, report = run()
    assert checked == ["doubled", "square"]
    assert report["files"][0]["theorems"][0]["line"] == 3


def test_a_comment_outside_every_theorem_is_read_as_part_of_each(project: Path,
                                                                 checked: list[str]) -> None:
    run()
    checked.clear()
    (project / "proofs" / "two.tp").write_text(TWO.replace("# two theorems", "# two theorem"))
    run()
    assert checked == ["doubled", "square"]


@pytest.mark.parametrize("option", [["--budget", "30"], ["--no-witnesses"], ["--mc-scale", "2"],
                                    ["--run-budget", "1000"]])
def test_a_changed_option_is_checked_again(project: Path, checked: list[str], option: list[str]) -> None:
    run()
    checked.clear()
    run(*option)
    assert checked == ["doubled", "square"]


def test_changed_code_is_checked_again(project: Path, checked: list[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    run()
    checked.clear()
    monkeypatch.setattr(tpcheck.cache, "code_digest", lambda: "edited")
    run()
    assert checked == ["doubled", "square"]


def test_a_changed_library_version_is_checked_again(project: Path, checked: list[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    run()
    checked.clear()
    real = tpcheck.cache._library_version
    monkeypatch.setattr(tpcheck.cache, "_library_version",
                        lambda name: "0.0" if name == "sympy" else real(name))
    run()
    assert checked == ["doubled", "square"]


def test_a_rule_registered_outside_the_package_turns_the_cache_off(project: Path, checked: list[str],
                                                                   fake_rule) -> None:  # noqa: ANN001
    run()
    checked.clear()
    fake_rule("cache_test_rule", None)
    run()
    run()
    assert checked == ["doubled", "square"] * 2


def _tamper(entry: Path, change) -> None:  # noqa: ANN001
    data = json.loads(entry.read_text())
    change(data)
    entry.write_text(json.dumps(data))


def test_a_forged_verdict_is_ignored_and_rewritten(project: Path, checked: list[str]) -> None:
    (project / "proofs" / "two.tp").write_text(TWO.replace("= 2*x      by", "= 3*x      by")
                                               .replace("claim x + x = 2*x", "claim x + x = 3*x"))
    code, fresh = run()
    assert code == 1
    refuted = next(e for e in entries() if '"verdict":"REFUTED"' in e.read_text())

    def proved(data: dict) -> None:
        data["payload"]["verdict"] = "PROVED"
        for s in data["payload"]["steps"]:
            s["verdict"] = "PROVED"

    _tamper(refuted, proved)
    checked.clear()
    code, again = run()
    assert checked == ["doubled"]
    assert (code, again) == (1, fresh)
    assert '"verdict":"REFUTED"' in refuted.read_text()  # rewritten


def test_an_entry_signed_with_another_key_is_ignored(project: Path, checked: list[str],
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    _, fresh = run()
    monkeypatch.setenv(KEY_ENV, str(tmp_path / "other" / "key"))
    checked.clear()
    _, again = run()
    assert checked == ["doubled", "square"]
    assert again == fresh


@pytest.mark.parametrize("damage", [
    lambda e: e.write_bytes(e.read_bytes()[: len(e.read_bytes()) // 2]),
    lambda e: e.write_bytes(b"\xff\xfe not json"),
    lambda e: e.write_text("[]"),
    lambda e: e.write_text(json.dumps({**json.loads(e.read_text()), "format": 99})),
    lambda e: e.write_text(json.dumps({**json.loads(e.read_text()), "key": "0" * 64})),
    lambda e: e.write_text(json.dumps({**json.loads(e.read_text()), "hmac": None})),
    lambda e: e.write_text(json.dumps({**json.loads(e.read_text()), "payload": {"name": "x"}})),
])
def test_a_damaged_entry_is_ignored_silently_and_rewritten(project: Path, checked: list[str],
                                                           capsys: pytest.CaptureFixture,
                                                           damage) -> None:  # noqa: ANN001
    _, fresh = run()
    good = {e.name: e.read_bytes() for e in entries()}
    for e in entries():
        damage(e)
    checked.clear()
    capsys.readouterr()
    _, again = run()
    assert checked == ["doubled", "square"]
    assert again == fresh
    assert capsys.readouterr().err == ""
    assert {e.name: e.read_bytes() for e in entries()} == good


def test_an_entry_that_is_not_a_regular_file_is_not_read(project: Path, checked: list[str]) -> None:
    run()
    victim = entries()[0]
    victim.unlink()
    os.mkfifo(victim)
    checked.clear()
    run()  # a FIFO would block a reader forever
    assert len(checked) == 1


def test_no_cache_neither_reads_nor_writes(project: Path, checked: list[str]) -> None:
    run("--no-cache")
    assert not Path(CACHE_DIR).exists()
    run()
    before = {e.name: e.stat().st_mtime_ns for e in entries()}
    checked.clear()
    run("--no-cache")
    assert checked == ["doubled", "square"]
    assert {e.name: e.stat().st_mtime_ns for e in entries()} == before


def test_clear_cache_removes_the_folder_and_checks_afresh(project: Path, checked: list[str]) -> None:
    run()
    checked.clear()
    run("--clear-cache")
    assert checked == ["doubled", "square"]
    assert len(entries()) == 2


def test_a_cache_folder_that_is_a_link_is_neither_read_nor_written(project: Path, checked: list[str],
                                                                   tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    Path(CACHE_DIR).symlink_to(elsewhere)
    run()
    run()
    assert checked == ["doubled", "square"] * 2
    assert list(elsewhere.iterdir()) == []


def test_the_key_is_private_and_made_once(tmp_path: Path) -> None:
    path = tmp_path / "a" / "key"
    key = load_key(path)
    assert key is not None and len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key(path) == key


def test_a_key_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_bytes(b"k" * 32)
    path.chmod(0o644)
    assert load_key(path) is None
    link = tmp_path / "link"
    link.symlink_to(path)
    path.chmod(0o600)
    assert load_key(link) is None


def test_a_key_inside_the_cache_folder_is_refused(project: Path) -> None:
    assert not VerdictCache(key_path=Path(CACHE_DIR) / "key").usable
    assert VerdictCache().usable


UNDECIDED = """\
theorem unknown
  "A rule that does not apply."
  let x : real
  claim x = x + 0
proof
  x
    = x + 0      by wick
qed
"""


def test_undecided_results_are_not_stored(project: Path, checked: list[str]) -> None:
    (project / "proofs" / "two.tp").write_text(UNDECIDED)
    _, report = run()
    if report["files"][0]["theorems"][0]["verdict"] != "UNDECIDED":
        pytest.skip("the wick rule decides this step")
    assert entries() == []
    run()
    assert checked == ["unknown", "unknown"]


@pytest.mark.parametrize("verdict", list(Verdict))
def test_only_results_a_fresh_check_gives_again_are_storable(verdict: Verdict) -> None:
    result = TheoremResult("t", "", 1, verdict, [], None, [], 0)
    assert storable(result) == (verdict not in (Verdict.UNDECIDED, Verdict.DISPUTED))


def test_the_api_caches_only_when_asked(project: Path, checked: list[str]) -> None:
    check("proofs", Options())
    assert not Path(CACHE_DIR).exists()
    cache = VerdictCache()
    first = check("proofs", Options(), cache=cache).to_json()
    again = check("proofs", Options(), cache=VerdictCache()).to_json()
    assert first == again
    assert checked == ["doubled", "square"] * 2
