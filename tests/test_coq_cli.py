"""The Coq re-check through the command line: ``tpcheck coq FILE... -o DIR`` and
``tpcheck check --coq``; the kernel's handling of external evidence (a decisive refusal of an
exact judgement is DISPUTED, exit 4); and Coq's absence, said clearly.

The tests that run coqc are skipped, with the reason, where it is not installed; the DISPUTED
path uses a fake coqc runner, so it runs everywhere and fast.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import tpcheck.coq
from tpcheck.cli import main
from tpcheck.coq.run import CoqRun, LemmaOutcome, unavailable_reason
from tpcheck.kernel import (
    Evidence,
    StepResult,
    TheoremResult,
    Verdict,
    apply_external_evidence,
    rejudge_theorem,
    verdict_label,
)
from tpcheck.report import EXIT_DISAGREEMENT, EXIT_OK, EXIT_REFUTED

ROOT = Path(__file__).resolve().parent.parent
needs_coq = pytest.mark.skipif(bool(unavailable_reason()), reason=unavailable_reason() or "coqc")

TRUE = """
theorem square
  "A binomial square."
  let x : real
  claim (x + 1)^2 = x^2 + 2x + 1
proof
  (x + 1)^2
    = x^2 + 2x + 1   by algebra
qed

theorem row_sum
  "A row of binomials."
  k in 0..3
  claim sum(binomial(k, j), j = 0..k) = 2^k
proof
  sum(binomial(k, j), j = 0..k)
    = 2^k   by eval
qed
"""

MIXED = TRUE + """
theorem gaussian_fourth
  "The fourth Gaussian moment."
  let s : positive real
  let Z ~ Normal(0, s^2)
  claim E[Z^4] = 3s^4
proof
  E[Z^4]
    = 3s^4    by gaussian_moment
qed
"""


def _write(tmp_path: Path, text: str, name: str = "t.tp") -> Path:
    f = tmp_path / name
    f.write_text(text)
    return f


# -- the kernel: external evidence --------------------------------------------------------------
def _step(verdict: Verdict, judged: Verdict | None = None) -> StepResult:
    return StepResult(7, 5, "algebra", "=", "= x", verdict, "ok", judged=judged)


def test_a_decisive_refusal_of_an_exact_judgement_is_disputed() -> None:
    for verdict, judged in ((Verdict.PROVED, None), (Verdict.VERIFIED, None),
                            (Verdict.PARTIAL, Verdict.VERIFIED)):
        s = _step(verdict, judged)
        found = apply_external_evidence(s, Evidence("coq", False, "coqc refused lemma l"))
        assert found == s.disagreement and "coq contradicts the" in found
        assert s.verdict is Verdict.DISPUTED and s.judged is (judged or verdict)
        assert s.evidence[-1].kind == "coq"


def test_other_external_evidence_changes_no_verdict() -> None:
    cases = [(Verdict.PROVED, Evidence("coq", None, "tactics do not decide it"), True),
             (Verdict.PROVED, Evidence("coq", True, "accepted"), True),
             (Verdict.PROVED, Evidence("coq-reduced", False, "refused"), False),  # not the step
             (Verdict.REFUTED, Evidence("coq", False, "refused"), True),  # Coq agrees: false
             (Verdict.UNDECIDED, Evidence("coq", False, "refused"), True),
             (Verdict.CORROBORATED, Evidence("coq", False, "refused"), True)]
    for verdict, ev, about_step in cases:
        s = _step(verdict)
        assert apply_external_evidence(s, ev, about_step=about_step) is None
        assert s.verdict is verdict and s.disagreement is None and s.evidence == [ev]


def test_the_theorem_takes_its_weakest_step_again() -> None:
    a, b = _step(Verdict.PROVED), _step(Verdict.VERIFIED)
    t = TheoremResult("t", "", 1, Verdict.VERIFIED, [a, b], {"k": [0, 3]}, [], 0)
    rejudge_theorem(t)
    assert t.verdict is Verdict.VERIFIED and t.range == {"k": [0, 3]}
    apply_external_evidence(a, Evidence("coq", False, "refused"))
    rejudge_theorem(t)
    assert t.verdict is Verdict.DISPUTED and t.range is None and t.disagreements


def test_labels() -> None:
    yes, no, unsure = Evidence("coq", True, ""), Evidence("coq", False, ""), Evidence("coq", None, "")
    assert verdict_label(Verdict.PROVED, [[yes]]) == "PROVED + coq"
    assert verdict_label(Verdict.VERIFIED, [[yes, yes]]) == "VERIFIED + coq"
    assert verdict_label(Verdict.PROVED, [[yes, unsure]]) == "PROVED"
    assert verdict_label(Verdict.PROVED, [[yes], []]) == "PROVED"  # one step not re-proved
    assert verdict_label(Verdict.DISPUTED, [[no]]) == "DISPUTED"
    assert verdict_label(Verdict.CORROBORATED, [[yes]]) == "CORROBORATED"
    assert verdict_label(Verdict.PROVED, []) == "PROVED"


# -- check --coq: the DISPUTED path with a fake coqc that refuses every lemma --------------------
def _fake_coq(monkeypatch: pytest.MonkeyPatch, accept: bool) -> None:
    def answer(lemmas, coqc=None):  # noqa: ANN001, ANN202
        return CoqRun("fake coqc", {lem.name: LemmaOutcome(lem.name, accept, "fake answer")
                                    for lem in lemmas}, 0.0)

    monkeypatch.setattr(tpcheck.coq, "unavailable_reason", lambda: "")
    monkeypatch.setattr(tpcheck.coq, "check_lemmas", answer)


def _refusing_coq(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_coq(monkeypatch, accept=False)


def test_latex_says_what_coq_re_proved(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _fake_coq(monkeypatch, accept=True)
    f = _write(tmp_path, MIXED)
    assert main(["latex", "--coq", "--no-witnesses", str(f)]) == EXIT_OK
    captured = capsys.readouterr()
    tex = captured.out
    assert "coq: re-proved 2 of the 2 exported steps" in captured.err
    assert r"\verdict{proved} + \verdict{coq}" in tex  # the step's tag and the verdict line
    assert r"\verdict{proved} + \verdict{coq} (the weakest of its steps" in tex
    assert r"\verdict{verified} + \verdict{coq} for $k = 0, \dots, 3$" in tex
    assert "PROVED + coq &" in tex and "VERIFIED + coq (" in tex  # the summary table
    assert r"fourth}} & PROVED &" in tex  # its step is not exported: no + coq
    assert r"\texttt{algebra} & proved + coq &" in tex and "coq agrees: fake coqc accepted" in tex
    assert "coq-reduced agrees" in tex


def test_a_coq_refusal_of_a_proved_step_is_an_internal_disagreement(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _refusing_coq(monkeypatch)
    f = _write(tmp_path, TRUE)
    assert main(["check", "--coq", "--no-witnesses", str(f)]) == EXIT_DISAGREEMENT
    out = capsys.readouterr().out
    assert "coq: re-proved 0 of the 2 exported steps" in out and "2 disagreements" in out
    assert "square      DISPUTED" in out and "row_sum     DISPUTED" in out
    assert "INTERNAL DISAGREEMENT: coq contradicts the PROVED judgement of rule algebra" in out
    assert "coq REFUSES it: fake coqc refused lemma" in out
    j = tmp_path / "r.json"
    assert main(["check", "--coq", "--no-witnesses", "--json", str(j), str(f)]) == EXIT_DISAGREEMENT
    step = json.loads(j.read_text())["files"][0]["theorems"][0]["steps"][0]
    assert (step["verdict"], step["judged"], step["reproved_by"]) == ("DISPUTED", "PROVED", [])
    assert [e["ok"] for e in step["evidence"] if e["kind"] == "coq"] == [False]


def test_without_coq_the_check_says_why_and_keeps_its_exit_code(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(tpcheck.coq, "unavailable_reason", lambda: "coqc was not found (test)")
    for text, code in ((TRUE, EXIT_OK), (TRUE.replace("2x + 1", "2x + 2"), EXIT_REFUTED)):
        f = _write(tmp_path, text)
        assert main(["check", "--no-witnesses", str(f)]) == code
        plain = capsys.readouterr().out
        assert main(["check", "--coq", "--no-witnesses", str(f)]) == code
        out = capsys.readouterr().out
        assert out.startswith("coq: not checked: coqc was not found (test)\n")
        assert out.removeprefix("coq: not checked: coqc was not found (test)\n") == plain
    assert main(["check", "--coq", "--no-witnesses", "--json", "-", str(f)]) == EXIT_REFUTED
    captured = capsys.readouterr()
    assert "coq: not checked" in captured.err and json.loads(captured.out)["exit_code"] == 1


def test_the_coq_command_without_coqc_still_writes_the_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    f = _write(tmp_path, MIXED)
    out_dir = tmp_path / "v"
    assert main(["coq", str(f), "-o", str(out_dir), "--no-check"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "not exported (expectation)" in out and "gaussian_fourth" in out
    assert "re-proved by Coq: 0/2 (0%) (coqc not run)" in out
    assert {p.name for p in out_dir.iterdir()} >= {"tp_prelude.v", "_CoqProject"}
    assert len(list(out_dir.glob("*.v"))) == 4  # the prelude and one file per theorem
    assert "Lemma" in (out_dir / next(p.name for p in out_dir.glob("*square*.v"))).read_text()
    monkeypatch.setenv("TPCHECK_COQC", str(tmp_path / "no-coqc"))
    assert main(["coq", str(f), "-o", str(out_dir)]) == EXIT_OK
    assert "coq: not checked: coqc was not found" in capsys.readouterr().out
    with pytest.raises(SystemExit) as usage:
        main(["coq", str(f), "-o", str(f)])
    assert usage.value.code == 2 and "is a file, not a folder" in capsys.readouterr().err


# -- with coqc -----------------------------------------------------------------------------------
@pytest.mark.slow
@needs_coq
def test_check_coq_labels_a_true_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = _write(tmp_path, TRUE)
    j = tmp_path / "r.json"
    assert main(["check", "--coq", "--no-witnesses", "--json", str(j), str(f)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "coq: re-proved 2 of the 2 exported steps" in out and "no disagreement" in out
    assert "square      PROVED + coq" in out and "row_sum     VERIFIED + coq on k in 0..3" in out
    theorems = json.loads(j.read_text())["files"][0]["theorems"]
    assert [t["label"] for t in theorems] == ["PROVED + coq", "VERIFIED + coq"]
    step = theorems[0]["steps"][0]
    assert step["verdict"] == "PROVED" and step["reproved_by"] == ["coq"]
    (ev,) = [e for e in step["evidence"] if e["kind"] == "coq"]
    assert ev["ok"] is True and ev["lemmas"] and "accepted" in ev["detail"]


@pytest.mark.slow  # a second coqc run; the default tier has the engine's refusal of false counts
@needs_coq
def test_the_coq_command_prints_the_share_and_refuses_a_false_count(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    false_count = MIXED + """
theorem catalan_five
  "A wrong Catalan number."
  claim catalan(5) = 43
proof
  catalan(5)
    = 43   by eval
qed
"""  # last, so that coqc need not run again on lemmas after it
    f = _write(tmp_path, false_count)
    assert main(["coq", str(f), "-o", str(tmp_path / "v")]) == 1
    out = capsys.readouterr().out
    assert "catalan_five: The Coq Proof Assistant" in out and "refused lemma" in out
    assert "gaussian_fourth: not exported (expectation)" in out
    assert "re-proved by Coq: 2/3 (67%)" in out
    assert "identities under expectations re-proved: 1/1" in out


@pytest.mark.slow
@needs_coq
def test_a_wrong_identity_in_a_library_copy_is_refused_through_the_cli(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (ROOT / "proofs" / "limits.tp").read_text()
    wrong = text.replace("= 3 + (m4 - 3)/n      by algebra", "= 3 + (m4 - 2)/n      by algebra")
    assert wrong != text
    f = _write(tmp_path, wrong, "limits.tp")
    j = tmp_path / "r.json"
    assert main(["check", "--coq", "--no-witnesses", "--json", str(j), str(f)]) == EXIT_REFUTED
    out = capsys.readouterr().out
    assert "clt_fourth_moment_limit" in out and "coq REFUSES it" in out
    (t,) = [t for t in json.loads(j.read_text())["files"][0]["theorems"]
            if t["name"] == "clt_fourth_moment_limit"]
    step = t["steps"][0]
    assert step["verdict"] == "REFUTED" and step["disagreement"] is None  # both refuse it
    assert [e["ok"] for e in step["evidence"] if e["kind"] == "coq"] == [False]
    assert main(["coq", str(f), "-o", str(tmp_path / "v")]) == 1
    assert "clt_fourth_moment_limit: The Coq Proof Assistant" in capsys.readouterr().out


@pytest.mark.slow
@needs_coq
def test_the_library_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["coq", str(ROOT / "proofs"), "-o", str(tmp_path / "v")]) == EXIT_OK
    out = capsys.readouterr().out
    share = next(line for line in out.splitlines() if "re-proved by Coq:" in line)
    done, total = map(int, share.split(": ")[1].split(" ")[0].split("/"))
    assert total and done / total >= 0.8, out
