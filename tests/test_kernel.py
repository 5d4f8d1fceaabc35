"""The kernel: chain composition, judgement validation, witnesses against judgements."""

from __future__ import annotations

from tests.conftest import run
from tpcheck.kernel import REGISTRY, Judgement, Verdict, rule, weakest
from tpcheck.report import EXIT_DISAGREEMENT

HEADER = 'theorem t\n "s"\n let x : real\n let n : positive integer\n'


def test_weakest_orders_the_lattice():
    v = Verdict
    assert weakest([v.PROVED, v.VERIFIED]) is v.VERIFIED
    assert weakest([v.PROVED, v.CORROBORATED, v.VERIFIED]) is v.CORROBORATED
    assert weakest([v.CORROBORATED, v.UNDECIDED]) is v.UNDECIDED
    assert weakest([v.UNDECIDED, v.REFUTED, v.PROVED]) is v.REFUTED


def test_chain_must_start_at_the_claim():
    report = run(HEADER + " claim x + 1 = 1 + x\nproof\n x + 2\n = 1 + x by algebra\nqed\n")
    assert "starts at" in report.errors[0]


def test_inequalities_compose_and_strictness_is_kept():
    text = HEADER + (" claim x^2 < x^2 + 2\nproof\n x^2\n <= x^2 by algebra\n"
                     " < x^2 + 2 by algebra\nqed\n")
    report = run(text, budget=None)
    assert not report.errors  # composes to '<'; algebra then cannot justify '<'
    assert report.theorems[0].verdict is Verdict.UNDECIDED
    assert "justifies only =" in report.theorems[0].steps[0].detail


def test_inequalities_in_both_directions_do_not_compose():
    text = HEADER + " claim x <= x\nproof\n x\n <= x by algebra\n >= x by algebra\nqed\n"
    assert "both directions" in run(text).errors[0]


def test_nothing_but_equalities_after_a_limit():
    text = HEADER + (" claim 1/n -> 0 as n -> oo\nproof\n 1/n\n -> 0 as n -> oo by limit\n"
                     " <= 0 by algebra\nqed\n")
    assert "after the limit" in run(text).errors[0]


def test_verified_without_range_is_not_accepted(fake_rule):
    fake_rule("no_range", Judgement(Verdict.VERIFIED, "trust me"))
    report = run(HEADER + " claim x = x\nproof\n x\n = x by no_range\nqed\n")
    step = report.theorems[0].steps[0]
    assert step.verdict is Verdict.UNDECIDED and "without a stated, non-empty range" in step.detail


def test_refuted_without_counterexample_is_not_accepted(fake_rule):
    fake_rule("no_cex", Judgement(Verdict.REFUTED, "trust me"))
    report = run(HEADER + " claim x = x\nproof\n x\n = x by no_cex\nqed\n")
    assert report.theorems[0].verdict is Verdict.UNDECIDED


def test_corroborated_needs_numeric_evidence(fake_rule):
    fake_rule("no_numbers", Judgement(Verdict.CORROBORATED, "looks right"))
    report = run(HEADER + " claim x = x\nproof\n x\n = x by no_numbers\nqed\n")
    assert report.theorems[0].verdict is Verdict.UNDECIDED


def test_a_wrong_proved_judgement_is_caught_by_the_mpmath_witness(fake_rule):
    fake_rule("unsound", Judgement(Verdict.PROVED, "always yes"))
    report = run(HEADER + " claim x + 1 = x + 2\nproof\n x + 1\n = x + 2 by unsound\nqed\n")
    step = report.theorems[0].steps[0]
    assert step.disagreement and "mpmath" in step.disagreement
    assert report_exit(report) == EXIT_DISAGREEMENT


def test_a_wrong_proved_expectation_is_caught_by_monte_carlo(fake_rule):
    fake_rule("unsound_e", Judgement(Verdict.PROVED, "always yes"))
    text = (' theorem t\n "s"\n let Z ~ Normal(0, 1)\n claim E[Z^4] = 2\nproof\n E[Z^4]\n'
            " = 2 by unsound_e\nqed\n")
    report = run(text)
    kinds = {e.kind for e in report.theorems[0].steps[0].evidence if e.ok is False}
    assert kinds == {"mpmath", "montecarlo"}


def test_rule_for_the_wrong_relation_is_undecided():
    text = HEADER + " claim 1/n -> 0 as n -> oo\nproof\n 1/n\n -> 0 as n -> oo by algebra\nqed\n"
    step = run(text).theorems[0].steps[0]
    assert step.verdict is Verdict.UNDECIDED and "justifies only" in step.detail


def test_a_verifier_that_crashes_is_undecided_with_its_reason(fake_rule):
    def boom(goal, args, ctx):
        """Crashes."""
        raise RuntimeError("kaboom")

    rule("boom", human="boom")(boom)
    try:
        step = run(HEADER + " claim x = x\nproof\n x\n = x by boom\nqed\n").theorems[0].steps[0]
    finally:
        REGISTRY.pop("boom")
    assert step.verdict is Verdict.UNDECIDED and "kaboom" in step.detail


def report_exit(file_report):
    from tpcheck.report import Report

    return Report("test", [file_report]).exit_code


def test_a_witness_that_runs_out_of_time_is_recorded_with_its_kind():
    from tpcheck.kernel import Options

    text = (' theorem t\n "s"\n let Z ~ Normal(0, 1)\n claim E[Z^4] = 3\nproof\n E[Z^4]\n'
            " = 3 by gaussian_moment\nqed\n")
    from tpcheck import check_text

    report = check_text(text, "<test>", Options(witness_budget=0.001))
    kinds = {e.kind for e in report.theorems[0].steps[0].evidence}
    assert kinds <= {"symbolic", "exact-instances", "mpmath", "montecarlo"}
    assert report.theorems[0].verdict is Verdict.PROVED
