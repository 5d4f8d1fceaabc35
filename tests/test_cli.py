"""The command line: exit codes, the JSON report's shape, help and rule listing."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tpcheck.cli import main

GOOD = """
theorem square
  "A binomial square."
  let x : real
  claim (x + 1)^2 = x^2 + 2x + 1
proof
  (x + 1)^2
    = x^2 + 2x + 1   by algebra
qed

theorem ranged
  "A sum on a range."
  k in 0..5
  claim sum(j, j = 1..k) = k*(k + 1)/2
proof
  sum(j, j = 1..k)
    = k*(k + 1)/2   by eval
qed
"""


@pytest.fixture
def good(tmp_path):
    p = tmp_path / "good.tp"
    p.write_text(GOOD)
    return p


def test_exit_zero_and_verdicts(good, capsys):
    assert main(["check", str(good)]) == 0
    out = capsys.readouterr().out
    assert "square" in out and "PROVED" in out and "VERIFIED on k in 0..5" in out
    assert out.strip().splitlines()[-1] == "2 theorems: 1 PROVED, 1 VERIFIED"


def test_require_proved_fails_a_verified_theorem(good, capsys):
    assert main(["check", "--require", "proved", str(good)]) == 3
    assert main(["check", "--require", "verified", str(good)]) == 0


def test_json_shape(good, capsys):
    assert main(["check", "--json", "-", str(good)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["tool"] == "tpcheck" and report["version"]
    f = report["files"][0]
    assert f["path"].endswith("good.tp") and len(f["sha256"]) == 64
    names = {t["name"]: t for t in f["theorems"]}
    assert set(names) == {"square", "ranged"}
    for t in f["theorems"]:
        assert {"name", "statement", "line", "verdict", "range", "steps"} <= set(t)
        for s in t["steps"]:
            assert {"line", "rule", "verdict", "detail", "evidence"} <= set(s)
            for e in s["evidence"]:
                assert e["kind"] in ("symbolic", "exact-instances", "mpmath", "montecarlo")
                assert e["ok"] in (True, False, None)
    assert names["ranged"]["range"] == {"k": [0, 5]}
    assert names["square"]["verdict"] == "PROVED"
    summary = report["summary"]
    assert summary["theorems"] == 2 and summary["PROVED"] == 1 and summary["VERIFIED"] == 1
    assert isinstance(report["seeds"], list) and report["seeds"]


def test_json_to_a_file(good, tmp_path):
    out = tmp_path / "r.json"
    assert main(["check", "--json", str(out), str(good)]) == 0
    assert json.loads(out.read_text())["summary"]["theorems"] == 2


def test_missing_path_is_a_usage_error(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nope.tp")]) == 2


def test_unknown_option_is_a_usage_error():
    with pytest.raises(SystemExit) as info:
        main(["check", "--frobnicate", "x"])
    assert info.value.code == 2


def test_refuted_exit_code(tmp_path):
    p = tmp_path / "bad.tp"
    p.write_text(GOOD.replace("x^2 + 2x + 1", "x^2 + 2x + 2"))
    assert main(["check", str(p)]) == 1


def test_rules_lists_every_rule_with_its_documentation(capsys):
    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    for name in ("algebra", "definition", "eval", "limit", "linearity", "gaussian_moment"):
        assert f"\n{name}  [" in "\n" + out
    assert "Isserlis" in out


def test_console_script_version_and_help():
    exe = [sys.executable, "-m", "tpcheck.cli"]
    v = subprocess.run([*exe, "--version"], capture_output=True, text=True, check=True)
    assert v.stdout.startswith("tpcheck ")
    h = subprocess.run([*exe, "check", "--help"], capture_output=True, text=True, check=True)
    assert "--json" in h.stdout and "Exit codes" in h.stdout


def test_no_colour_when_not_a_terminal(good, capsys):
    main(["check", str(good)])
    assert "\033[" not in capsys.readouterr().out
