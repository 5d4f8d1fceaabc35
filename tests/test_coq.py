"""Coq export and re-check (tpcheck.coq): exact statements, refusals of false identities and
counts, the reasons of steps not exported, and (slow) the share of the library re-proved."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tpcheck.coq import attach_coq_evidence, coq_label
from tpcheck.coq.export import Lemma
from tpcheck.coq.run import (
    ALLOWED_AXIOMS,
    _judge,
    check_lemmas,
    coq_command,
    read_exports,
    step_outcome,
    unavailable_reason,
)
from tpcheck.kernel import Evidence, Verdict

ROOT = Path(__file__).resolve().parent.parent
needs_coq = pytest.mark.skipif(shutil.which("coqc") is None,
                               reason="coqc is not installed (apt-get install coq)")


def _exports(tmp_path: Path, text: str):  # noqa: ANN202
    f = tmp_path / "t.tp"
    f.write_text(text)
    exports, errors = read_exports([f])
    assert not errors
    return exports


def _theorem(name: str, claim: str, steps: list[tuple[str, str]], lets: str = "",
             params: str = "") -> str:
    chain = "\n".join(f"    = {rhs}    by {rule}" for rhs, rule in steps)
    lhs = claim.rsplit(" = ", 1)[0]
    return (f'theorem {name}\n  "test"\n{params}{lets}  claim {claim}\nproof\n  {lhs}\n{chain}\nqed\n')


TRUE_AND_FALSE = (
    _theorem("square_true", "(x + 1)^2 = x^2 + 2x + 1", [("x^2 + 2x + 1", "algebra")],
             "  let x : real\n")
    + _theorem("square_false", "(x + 1)^2 = x^2 + 2x + 2", [("x^2 + 2x + 2", "algebra")],
               "  let x : real\n")
    + _theorem("row_true", "sum(binomial(6, j), j = 0..6) = 64", [("64", "eval")])
    + _theorem("row_false", "sum(binomial(6, j), j = 0..6) = 65", [("65", "eval")])
    + _theorem("narayana_false", "sum(narayana(k, j), j = 1..k) = catalan(k) + 1",
               [("catalan(k) + 1", "eval")], params="  k in 1..3\n")
)


def _outcomes(tmp_path: Path) -> dict[str, bool | None]:
    exports = _exports(tmp_path, TRUE_AND_FALSE)
    run = check_lemmas([lem for e in exports for lem in e.lemmas])
    return {e.name: step_outcome(e.steps[0], run).ok for e in exports}


@pytest.mark.slow
@needs_coq
def test_coq_accepts_true_and_refuses_false_identities_and_counts(tmp_path: Path) -> None:
    ok = _outcomes(tmp_path)
    assert ok == {"square_true": True, "square_false": False, "row_true": True,
                  "row_false": False, "narayana_false": False}


def test_statements_are_exact(tmp_path: Path) -> None:
    exports = _exports(tmp_path, TRUE_AND_FALSE + _theorem(
        "ratio", "(3n^2 + n*m)/n^2 = 3 + m/n", [("3 + m/n", "algebra")],
        "  let n : positive integer\n  let m : real\n"))
    by_name = {e.name: e for e in exports}
    (lem,) = by_name["ratio"].lemmas
    assert lem.statement.startswith("forall (v_n : nat) (v_m : R), (1 <= v_n)%nat -> ")
    assert lem.decisive
    assert [len(by_name["narayana_false"].steps[0].lemmas)] == [3]  # one lemma per k in 1..3
    for e in exports:
        assert "Admitted" not in e.text() and "Axiom" not in e.text()


def test_steps_not_exported_say_why(tmp_path: Path) -> None:
    text = ('theorem m\n  "t"\n  let s : positive real\n  let Z ~ Normal(0, s^2)\n'
            '  claim E[Z^4] = 3s^4\nproof\n  E[Z^4]\n    = 3s^4    by gaussian_moment\nqed\n'
            'theorem g\n  "t"\n  for all k >= 0\n  claim gamma(k + 1) = k!\nproof\n  gamma(k + 1)\n'
            '    = k!    by algebra\nqed\n')
    exports = _exports(tmp_path, text)
    (m,), (g,) = exports[0].steps, exports[1].steps
    assert m.kind == "expectation" and not m.lemmas and "expectation" in m.reason
    assert m.reduced and m.reduced[0].role == "reduced"  # 3 s^4 = 3 s^4 under E
    assert not g.lemmas and "gamma" in g.reason


def test_assumptions_beyond_the_reals_are_refused() -> None:
    lem = Lemma("l", "t", 1, 1, "step", "1 = 1", "reflexivity.", True, "")
    out = "@@tpcheck-lemma l\nAxioms:\nmy_axiom : False\n"
    assert not _judge([lem], out)["l"].accepted
    reals = "@@tpcheck-lemma l\nAxioms:\n" + "\n".join(f"{a}\n  : P" for a in ALLOWED_AXIOMS)
    assert _judge([lem], reals)["l"].accepted


@needs_coq
def test_admitted_is_refused_before_coqc() -> None:
    lem = Lemma("l", "t", 1, 1, "step", "1 = 2", "admit.", True, "")
    lem.proof = "idtac.\nAdmitted.\n(*"  # never a generated proof: the runner must refuse it
    run = check_lemmas([lem])
    assert not run.outcomes["l"].accepted


def test_without_coq_it_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    monkeypatch.setenv("TPCHECK_COQC", str(tmp_path / "no-coqc"))
    assert "coqc was not found" in unavailable_reason()
    f = tmp_path / "t.tp"
    f.write_text(TRUE_AND_FALSE)
    coq_command([str(f)], str(tmp_path / "out"))
    assert "not checked: coqc was not found" in capsys.readouterr().out
    assert (tmp_path / "out" / "tp_prelude.v").exists()


def test_label() -> None:
    assert coq_label(Verdict.PROVED, [Evidence("coq", True, "")]) == "PROVED + coq"
    assert coq_label(Verdict.PROVED, [Evidence("coq", None, "")]) == "PROVED"


@needs_coq
def test_a_refused_lemma_on_a_proved_step_is_a_disagreement(tmp_path: Path) -> None:
    from tpcheck.api import check
    from tpcheck.kernel import Options

    f = tmp_path / "t.tp"
    f.write_text(TRUE_AND_FALSE.split("theorem square_false")[0])
    report = check(f, Options(witnesses=False))
    assert attach_coq_evidence(report) == []
    step = report.files[0].theorems[0].steps[0]
    assert coq_label(step.verdict, step.evidence) == "PROVED + coq"


@pytest.mark.slow
@needs_coq
def test_a_wrong_identity_in_a_library_copy_is_refused_by_coq_and_tpcheck(tmp_path: Path) -> None:
    from tpcheck.api import check
    from tpcheck.kernel import Options

    text = (ROOT / "proofs" / "limits.tp").read_text()
    wrong = text.replace("= 3 + (m4 - 3)/n      by algebra", "= 3 + (m4 - 2)/n      by algebra")
    assert wrong != text
    f = tmp_path / "limits.tp"
    f.write_text(wrong)
    report = check(f, Options(witnesses=False))
    theorem = next(t for t in report.files[0].theorems if t.name == "clt_fourth_moment_limit")
    assert theorem.verdict is Verdict.REFUTED
    exports, _ = read_exports([f])
    (e,) = [x for x in exports if x.name == "clt_fourth_moment_limit"]
    run = check_lemmas(e.lemmas)
    assert step_outcome(e.steps[0], run).ok is False
