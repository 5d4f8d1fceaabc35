"""Properties of the trusted core that mutation testing showed no other test pinned down.

Each test states one fact about a verdict or about the mathematics; a change to the kernel,
the exact-equality engine, the limits engine or the eval, limit and induction rules that breaks
the fact fails it (tests/test_mutation_core.py runs the mutation tool on the kernel).
"""

from __future__ import annotations

import os
import resource
import signal
import sys
import time
import zlib

import pytest
import sympy

from tests.conftest import run
from tpcheck.engines.asymptotics import (
    _admissible,
    asymptotic_order,
    limit_at_infinity,
    limit_cases,
    restrict,
    vanishing_set,
)
from tpcheck.engines.equality import (
    canonical,
    carry_out_finite,
    certify_difference,
    decide_constant_equal,
    decide_equal,
    decide_exact_constant_equality,
    exact_value,
    find_counterexample,
    numbers_differ,
    plain_symbols,
    render_instance,
)
from tpcheck.engines.heads import Expectation
from tpcheck.engines.hypergeometric import LinearCondition, NonvanishingPolynomial, term_ratio
from tpcheck.engines.instances import InstanceSpace
from tpcheck.errors import ProofStructureError
from tpcheck.kernel import (
    REGISTRY,
    Evidence,
    Judgement,
    Options,
    Verdict,
    Witness,
    WitnessSettings,
    bounded,
    rule,
    weakest,
)
from tpcheck.kernel.bounded import RunClock, cpu_limits, cpu_seconds, lowered, run_bounded
from tpcheck.kernel.check import (
    capped,
    check_step,
    check_theorem,
    compose_relations,
    intersect_ranges,
)
from tpcheck.kernel.proof import Context, Goal, Step, Theorem
from tpcheck.lang.elaborate import elaborate_theorem
from tpcheck.lang.parser import parse


@pytest.fixture
def fixed_rule():
    """Register throw-away rules that return a fixed judgement, for one test (unlike conftest's
    ``fake_rule``, one may judge tolerances itself)."""
    names = []

    def make(name, judgement, relations=("=",), tolerances=False):
        def verifier(goal, args, ctx):
            """A rule for tests only: returns a fixed judgement."""
            return judgement

        rule(name, relations=relations, human=name, tolerances=tolerances)(verifier)
        names.append(name)

    yield make
    for n in names:
        REGISTRY.pop(n, None)


def theorem(header: str, claim: str, chain: str, name: str = "t", after: str = "") -> str:
    """A one-theorem file: ``header`` lines, the claim, the chain (first line the start)."""
    lines = [f"theorem {name}", '  "a statement"',
             *(f"  {h}" for h in header.strip().splitlines() if h.strip()),
             f"  claim {claim}", "proof", *(f"  {c}" for c in chain.strip().splitlines()), "qed"]
    return "\n".join(lines) + "\n" + after


def checked(text: str, **options):
    """The one theorem of ``text``, checked in this process without witnesses."""
    options = {"budget": None, "witnesses": False, **options}
    report = run(text, **options)
    assert not report.errors and not report.internal_errors, (report.errors,
                                                               report.internal_errors)
    (result,) = report.theorems
    return result


def by_fake(judgement, fixed_rule, header="let x : real", claim="x = x", chain="x\n= x by fake",
            **options):
    fixed_rule("fake", judgement)
    return checked(theorem(header, claim, chain), **options)


# --- the kernel: verdicts ------------------------------------------------------------------


def test_no_step_is_not_a_pass():
    assert weakest([]) is Verdict.UNDECIDED


def test_the_verdicts_that_pass_are_exactly_the_four_strongest():
    strongest_first = [Verdict.PROVED, Verdict.VERIFIED, Verdict.PARTIAL, Verdict.CORROBORATED,
                       Verdict.UNDECIDED, Verdict.DISPUTED, Verdict.REFUTED]
    assert [v.passes for v in strongest_first] == [True] * 4 + [False] * 3
    strengths = [v.strength for v in strongest_first]
    assert strengths == sorted(strengths, reverse=True) and len(set(strengths)) == 7
    for i, v in enumerate(strongest_first):
        assert weakest(strongest_first[:i + 1]) is v
        assert weakest(list(reversed(strongest_first[:i + 1]))) is v


def test_evidence_and_judgement_records():
    e = Evidence("mpmath", True, "agrees", {"digits": 30})
    assert e.to_json() == {"kind": "mpmath", "ok": True, "detail": "agrees", "digits": 30}
    j = Judgement.undecided("why")
    assert (j.verdict, j.detail, j.range, j.counterexample, j.evidence) == (
        Verdict.UNDECIDED, "why", None, None, [])


# --- the kernel: a rule's judgement must have the shape its verdict needs -------------------


@pytest.mark.parametrize("judgement, reason", [
    (None, "fake: verifier returned no judgement"),
    (Judgement("PROVED", "a string, not a verdict"), "fake: verifier returned no judgement"),
    (Judgement(Verdict.PARTIAL, "x"), "fake: a rule cannot judge a step PARTIAL"),
    (Judgement(Verdict.DISPUTED, "x"), "fake: a rule cannot judge a step DISPUTED"),
    (Judgement(Verdict.REFUTED, "x"), "fake: REFUTED without a counterexample"),
    (Judgement(Verdict.REFUTED, "x", counterexample={}), "fake: REFUTED without a counterexample"),
])
def test_a_judgement_without_its_shape_is_undecided_with_the_rule_named(
        fixed_rule, judgement, reason):
    (step,) = by_fake(judgement, fixed_rule).steps
    assert step.verdict is Verdict.UNDECIDED
    assert step.detail == reason


@pytest.mark.parametrize("rng", [
    None, {}, {"k": [3, 1]}, {"k": [0]}, {"k": [0, 2.0]}, {"k": [False, True]}, {"k": "0..2"},
    {"k": [0, 2], "j": [1, 0]},
])
def test_verified_needs_a_nonempty_integer_range(fixed_rule, rng):
    (step,) = by_fake(Judgement(Verdict.VERIFIED, "x", range=rng), fixed_rule,
                      header="k in 0..2\nj in 0..2", claim="k = k", chain="k\n= k by fake").steps
    assert step.verdict is Verdict.UNDECIDED
    assert "VERIFIED without a stated, non-empty range" in step.detail


@pytest.mark.parametrize("rng", [{"k": [2, 2]}, {"k": (0, 2)}])
def test_a_single_instance_or_a_tuple_is_a_range(fixed_rule, rng):
    result = by_fake(Judgement(Verdict.VERIFIED, "x", range=rng), fixed_rule, header="k in 2..2",
                     claim="k = k", chain="k\n= k by fake")
    assert result.verdict is Verdict.VERIFIED and result.range == {"k": [2, 2]}


@pytest.mark.parametrize("evidence, passes", [
    ([Evidence("mpmath", True, "15 digits", {"digits": 15})], True),
    ([Evidence("mpmath", True, "14 digits", {"digits": 14})], False),
    ([Evidence("mpmath", True, "no digits stated")], False),
    ([Evidence("mpmath", False, "disagrees", {"digits": 40})], False),
    ([Evidence("montecarlo", True, "z = 0.3")], True),
    ([Evidence("montecarlo", None, "inconclusive")], False),
    ([Evidence("symbolic", True, "trust me", {"digits": 40})], False),
    ([], False),
])
def test_corroborated_needs_numeric_evidence_of_at_least_15_digits(fixed_rule, evidence, passes):
    (step,) = by_fake(Judgement(Verdict.CORROBORATED, "x", evidence=evidence), fixed_rule).steps
    assert step.verdict is (Verdict.CORROBORATED if passes else Verdict.UNDECIDED)
    if not passes:
        assert step.detail.startswith("fake: CORROBORATED without numeric evidence")


# --- the kernel: one step ------------------------------------------------------------------


def test_a_step_records_where_it_is_and_what_it_says():
    text = theorem("let x : real", "x + x = 2x", "x + x\n= 2x      by algebra")
    (step,) = checked(text).steps
    assert (step.line, step.col, step.rule, step.relation) == (7, 3, "algebra", "=")
    assert step.source == "= 2x      by algebra"


def test_an_unknown_rule_is_undecided_by_name():
    x = sympy.Symbol("x")
    step = Step(3, 1, Goal(x, "=", x), "no_such_rule", (), "= x by no_such_rule")
    result = check_step(step, None, Options(budget=None), [], 0, NO_SETTINGS)
    assert result.verdict is Verdict.UNDECIDED
    assert result.detail == "unknown rule 'no_such_rule'"


def test_a_rule_is_refused_for_a_relation_it_does_not_justify(fixed_rule):
    fixed_rule("lower", Judgement(Verdict.PROVED, "x"), relations=("=", "<="))
    (step,) = checked(theorem("let x : real", "x >= x", "x\n>= x by lower")).steps
    assert step.verdict is Verdict.UNDECIDED
    assert step.detail == "lower: justifies only <=, = steps, not '>='"


def test_an_approximate_limit_is_proved_by_proving_the_exact_limit():
    # the limit rule does not judge tolerances: the kernel hands it the exact '->' statement,
    # keeping the limit variable
    text = theorem("let n : positive integer", "(n + 1)/n -> 1 within 1/10 as n -> oo",
                   "(n + 1)/n\n-> 1 within 1/10 as n -> oo   by limit")
    result = checked(text)
    assert result.verdict is Verdict.PROVED, result.steps[0].detail


def test_a_rule_that_judges_tolerances_gets_the_approximate_statement(fixed_rule):
    seen = []

    def verifier(goal, args, ctx):
        """Records the goal it was given."""
        seen.append(goal)
        return Judgement(Verdict.PROVED, "ok")

    rule("approx", relations=("~=",), human="approx", tolerances=True)(verifier)
    try:
        checked(theorem("", "1/3 ~= 0.33 within 1/100", "1/3\n~= 0.33 within 1/100 by approx"))
    finally:
        REGISTRY.pop("approx")
    (goal,) = seen
    assert goal.rel == "~=" and goal.tolerance == sympy.Rational(1, 100)


def test_a_refutation_of_the_exact_statement_does_not_refute_an_approximate_one(fixed_rule):
    fixed_rule("exact_no", Judgement(Verdict.REFUTED, "differ", counterexample={"instance": {}}))
    result = checked(theorem("", "1/3 ~= 0.33 within 1/100", "1/3\n~= 0.33 within 1/100 by exact_no"))
    (step,) = result.steps
    assert step.verdict is Verdict.UNDECIDED
    assert "refutes the exact statement (differ), but does not judge the tolerance 1e-2" in step.detail


@pytest.mark.parametrize("tolerance, shown", [
    ("1e-1000", "1/<a 1001-digit integer 1000...0000>"),
    ("1/2^2999", "1/<a 903-digit integer 6151...4688>"),  # 3000 bits: abbreviated
    ("1/2^2998", f"1/{2**2998}"),  # 2999 bits: written out
])
def test_a_long_tolerance_is_abbreviated_in_the_reason(fixed_rule, tolerance, shown):
    fixed_rule("exact_no", Judgement(Verdict.REFUTED, "differ", counterexample={"instance": {}}))
    text = theorem("", f"1/3 ~= 0 within {tolerance}", f"1/3\n~= 0 within {tolerance} by exact_no")
    (step,) = checked(text).steps
    assert step.detail.endswith(f"but does not judge the tolerance {shown}")


def _pid(goal, ctx, judgement, settings, seed):
    return [Evidence("mpmath", True, "agrees", {"pid": os.getpid(), "seed": seed})]


def _crash(goal, ctx, judgement, settings, seed):
    raise RuntimeError("kaboom")


def _crash_with_two_lines(goal, ctx, judgement, settings, seed):
    raise ValueError("first line\nsecond line")


def _against(goal, ctx, judgement, settings, seed):
    return [Evidence("montecarlo", False, "z = 9.1")]


def _not_evidence(goal, ctx, judgement, settings, seed):
    return [sympy.Symbol("x") + 1, Evidence("mpmath", True, "agrees")]


NO_SETTINGS = WitnessSettings()
_pid_witness = Witness("mpmath", _pid)
_crashing_witness = Witness("mpmath", _crash)
_anonymous_crash = Witness("witness", _crash_with_two_lines)
_against_witness = Witness("witness", _against)
_not_evidence_witness = Witness("witness", _not_evidence)


def _proved_step(fixed_rule):
    fixed_rule("yes", Judgement(Verdict.PROVED, "always yes"))
    x = sympy.Symbol("x")
    return Step(7, 3, Goal(x, "=", x), "yes", (), "= x by yes")


def test_a_rule_runs_bounded_in_a_child_process(fixed_rule):
    def verifier(goal, args, ctx):
        """Says where it ran."""
        return Judgement(Verdict.PROVED, f"pid {os.getpid()}")

    rule("where", human="where")(verifier)
    try:
        x = sympy.Symbol("x")
        step = Step(7, 3, Goal(x, "=", x), "where", (), "= x by where")
        bounded_step = check_step(step, None, Options(budget=30, witnesses=False), [], 0, NO_SETTINGS)
        in_process = check_step(step, None, Options(budget=None, witnesses=False), [], 0, NO_SETTINGS)
    finally:
        REGISTRY.pop("where")
    assert bounded_step.verdict is Verdict.PROVED and bounded_step.detail != f"pid {os.getpid()}"
    assert in_process.detail == f"pid {os.getpid()}"


def test_witnesses_run_bounded_in_a_child_and_every_one_runs(fixed_rule):
    step = _proved_step(fixed_rule)
    witnesses = [_crashing_witness, _anonymous_crash, _pid_witness]
    result = check_step(step, None, Options(budget=None, witness_budget=30), witnesses, 11, NO_SETTINGS)
    crash, anonymous, ran = result.evidence
    assert (crash.kind, crash.ok) == ("mpmath", None)
    assert crash.detail.startswith("witness did not finish: RuntimeError: kaboom")
    assert (anonymous.kind, anonymous.ok) == ("witness", None)
    assert anonymous.detail.startswith("witness did not finish: ValueError: first line")
    assert "second line" not in anonymous.detail
    assert ran.ok and ran.data["pid"] != os.getpid() and ran.data["seed"] == 11
    assert result.verdict is Verdict.PROVED and result.disagreement is None


def test_a_witness_against_the_judgement_disputes_the_step(fixed_rule):
    step = _proved_step(fixed_rule)
    result = check_step(step, None, Options(budget=None, witness_budget=30),
                        [_pid_witness, _against_witness], 0, NO_SETTINGS)
    assert result.verdict is Verdict.DISPUTED and result.judged is Verdict.PROVED
    assert result.disagreement == ("montecarlo witness contradicts the PROVED judgement of rule "
                                   "yes: z = 9.1")


def test_what_a_witness_returns_that_is_not_evidence_is_recorded_as_inconclusive(fixed_rule):
    step = _proved_step(fixed_rule)
    result = check_step(step, None, Options(budget=None, witness_budget=30),
                        [_not_evidence_witness], 0, NO_SETTINGS)
    odd, fine = result.evidence
    assert (odd.kind, odd.ok, odd.detail) == ("witness", None, "x + 1")
    assert (fine.kind, fine.ok, fine.detail) == ("mpmath", True, "agrees")
    assert result.verdict is Verdict.PROVED


def test_no_witness_runs_on_an_undecided_step_or_when_witnesses_are_off(fixed_rule):
    fixed_rule("dunno", Judgement.undecided("dunno: cannot tell"))
    x = sympy.Symbol("x")
    step = Step(7, 3, Goal(x, "=", x), "dunno", (), "= x by dunno")
    result = check_step(step, None, Options(budget=None), [_against_witness], 0, NO_SETTINGS)
    assert result.verdict is Verdict.UNDECIDED and not result.evidence
    proved = _proved_step(fixed_rule)
    result = check_step(proved, None, Options(budget=None, witnesses=False), [_against_witness],
                        0, NO_SETTINGS)
    assert result.verdict is Verdict.PROVED and not result.evidence


# --- the kernel: ranges --------------------------------------------------------------------


def test_verified_ranges_are_intersected_not_united():
    assert intersect_ranges([{"k": [0, 10]}, {"k": [2, 5]}]) == {"k": [2, 5]}
    assert intersect_ranges([{"k": [2, 5]}, {"k": [0, 10]}]) == {"k": [2, 5]}
    assert intersect_ranges([{"k": [0, 4]}, {"k": [2, 9]}]) == {"k": [2, 4]}
    assert intersect_ranges([{"k": [0, 3]}, {"j": [1, 2]}]) == {"k": [0, 3], "j": [1, 2]}
    assert intersect_ranges([]) is None


def test_a_range_that_covers_the_declared_domain_exactly_is_verified():
    text = theorem("for k in 0..5", "sum(i, i = 0..k) = k*(k+1)/2",
                   "sum(i, i = 0..k)\n= k*(k+1)/2 by eval")
    result = checked(text)
    assert result.verdict is Verdict.VERIFIED and result.range == {"k": [0, 5]}


def test_a_refutation_with_a_range_stays_refuted(fixed_rule):
    wrong = Judgement(Verdict.REFUTED, "differ at k = 2", range={"k": [0, 3]},
                      counterexample={"instance": {"k": "2"}})
    result = by_fake(wrong, fixed_rule, header="for all k >= 0", claim="k = k", chain="k\n= k by fake")
    assert result.verdict is Verdict.REFUTED and result.steps[0].verdict is Verdict.REFUTED


@pytest.mark.parametrize("header, declared", [
    ("for all k >= 0", "k >= 0"),
    ("for k in 0..10", "k in 0..10"),
    ("let k : integer", "every integer k"),
])
def test_a_verified_step_short_of_the_declared_domain_is_partial(fixed_rule, header, declared):
    result = by_fake(Judgement(Verdict.VERIFIED, "checked", range={"k": [0, 3]}), fixed_rule,
                     header=header, claim="k = k", chain="k\n= k by fake")
    (step,) = result.steps
    assert step.verdict is Verdict.PARTIAL and step.judged is Verdict.VERIFIED
    assert step.detail == f"checked [checked on k in 0..3 only; the claim is declared for {declared}]"
    assert result.verdict is Verdict.PARTIAL and result.range == {"k": [0, 3]}


def test_each_variable_is_held_against_its_own_declared_range(fixed_rule):
    both = Judgement(Verdict.VERIFIED, "checked", range={"k": [0, 5], "j": [0, 3]})
    result = by_fake(both, fixed_rule, header="for k in 0..5\nfor j in 0..3", claim="k + j = j + k",
                     chain="k + j\n= j + k by fake")
    assert result.verdict is Verdict.VERIFIED and result.range == {"k": [0, 5], "j": [0, 3]}


@pytest.mark.parametrize("domain, rng, declared, checked_on", [
    ("natural", [-3, 3], "m >= 0", [0, 3]),
    ("positive integer", [0, 3], "m >= 1", [1, 3]),
    ("integer", [-3, 3], "every integer m", [-3, 3]),
])
def test_the_domain_of_an_integer_symbol_bounds_a_range_over_it(fixed_rule, domain, rng, declared,
                                                                  checked_on):
    result = by_fake(Judgement(Verdict.VERIFIED, "checked", range={"m": rng}), fixed_rule,
                     header=f"let m : {domain}", claim="m = m", chain="m\n= m by fake")
    assert result.steps[0].detail.endswith(f"declared for {declared}]")
    assert result.verdict is Verdict.PARTIAL and result.range == {"m": checked_on}


def test_a_range_over_a_name_the_claim_does_not_declare_covers_nothing(fixed_rule):
    result = by_fake(Judgement(Verdict.VERIFIED, "checked", range={"q": [0, 3]}), fixed_rule)
    assert result.steps[0].detail.endswith("declared for every integer q]")
    assert result.verdict is Verdict.PARTIAL


def test_the_short_variables_are_listed_together(fixed_rule):
    both = Judgement(Verdict.VERIFIED, "checked", range={"k": [0, 1], "j": [0, 1]})
    result = by_fake(both, fixed_rule, header="for k in 0..5\nfor j in 0..5", claim="k + j = j + k",
                     chain="k + j\n= j + k by fake")
    assert result.steps[0].detail.endswith("declared for k in 0..5, j in 0..5]")


def test_the_checked_range_is_clipped_to_the_declared_domain(fixed_rule):
    wide = Judgement(Verdict.VERIFIED, "checked", range={"k": [-5, 20]})
    result = by_fake(wide, fixed_rule, header="for k in 0..10", claim="k = k", chain="k\n= k by fake")
    assert result.verdict is Verdict.VERIFIED and result.range == {"k": [0, 10]}


def test_a_proved_step_with_a_stray_range_does_not_narrow_the_checked_range(fixed_rule):
    fixed_rule("few", Judgement(Verdict.PROVED, "for all k", range={"k": [0, 2]}))
    fixed_rule("every", Judgement(Verdict.VERIFIED, "checked", range={"k": [0, 10]}))
    result = checked(theorem("for k in 0..10", "k = k", "k\n= k by few\n= k by every"))
    assert result.verdict is Verdict.VERIFIED and result.range == {"k": [0, 10]}


def test_a_theorem_that_does_not_pass_reports_no_checked_range(fixed_rule):
    fixed_rule("checked", Judgement(Verdict.VERIFIED, "checked", range={"k": [0, 10]}))
    fixed_rule("wrong", Judgement(Verdict.REFUTED, "no", counterexample={"instance": {"k": "3"}}))
    fixed_rule("numbers", Judgement(Verdict.CORROBORATED, "close",
                                   evidence=[Evidence("montecarlo", True, "z = 0.1")]))
    refuted = checked(theorem("for k in 0..10", "k = k", "k\n= k by checked\n= k by wrong"))
    assert refuted.verdict is Verdict.REFUTED and refuted.range is None
    corroborated = checked(theorem("for k in 0..10", "k = k", "k\n= k by checked\n= k by numbers"))
    assert corroborated.verdict is Verdict.CORROBORATED and corroborated.range is None


def test_steps_with_no_common_instance_leave_the_theorem_undecided(fixed_rule):
    fixed_rule("low", Judgement(Verdict.VERIFIED, "low", range={"k": [0, 1], "j": [0, 1]}))
    fixed_rule("high", Judgement(Verdict.VERIFIED, "high", range={"k": [5, 6], "j": [5, 6]}))
    result = checked(theorem("for k in 0..10\nfor j in 0..10", "k + j = j + k",
                             "k + j\n= j + k by low\n= j + k by high"))
    assert result.verdict is Verdict.UNDECIDED and result.range is None
    assert result.note == ("no instance of k, j is checked by every step and lies in the declared "
                           "domain (the steps check k in 0..1, j in 0..1; k in 5..6, j in 5..6)")


# --- the kernel: the chain and the seed ----------------------------------------------------


def test_a_chain_error_points_at_the_step():
    report = run(theorem("let x : real", "x + 1 = 1 + x", "x + 2\n= 1 + x by algebra"))
    assert report.errors[0].startswith("<test>:7:3: ")
    assert "starts at x + 2" in report.errors[0]


def test_the_seed_comes_from_the_name_and_lies_below_2_to_the_31():
    assert zlib.crc32(b"t") >= 2**31  # so that the reduction matters
    result = checked(theorem("", "1 = 1", "1\n= 1 by algebra"))
    assert result.seed == zlib.crc32(b"t") % 2**31 and isinstance(result.seed, int)


def test_a_theorem_built_without_witness_settings_is_checked(fixed_rule):
    x = sympy.Symbol("x", real=True)
    step = _proved_step(fixed_rule)
    theorem_ = Theorem("t", "s", 1, Goal(x, "=", x), x,
                       [Step(3, 1, Goal(x, "=", x), step.rule, (), step.source)],
                       Context({"x": x}, [], {}, []))
    result = check_theorem(theorem_, Options(budget=None, witnesses=False), [])
    assert result.verdict is Verdict.PROVED and result.seed == zlib.crc32(b"t") % 2**31


def _settings(goal, ctx, judgement, settings, seed):
    data = {"scale": settings.montecarlo_scale, "digits": settings.crosschecks.mpmath.digits,
            "samples": [c.samples for c in settings.crosschecks.montecarlo], "seed": seed}
    return [Evidence("montecarlo", None, "settings", data)]


_settings_witness = Witness("witness", _settings)


def test_the_witnesses_get_the_theorems_settings_seed_and_scale(fixed_rule):
    fixed_rule("fake", Judgement(Verdict.PROVED, "yes"))
    text = theorem("let x : real", "x = x", "x\n= x by fake",
                   after="crosscheck mpmath digits 40\ncrosscheck montecarlo samples 100 seed 7\n")
    (tree,) = parse(text).theorems
    theorem_ = elaborate_theorem(tree, text.split("\n"))
    result = check_theorem(theorem_, Options(budget=None, witness_budget=None, montecarlo_scale=0.25),
                           [_settings_witness])
    (evidence,) = result.steps[0].evidence
    assert evidence.data == {"scale": 0.25, "digits": 40, "samples": [100], "seed": 7}


def test_a_theorems_result_says_what_and_where_it_is():
    text = "\n\n" + theorem("cite isserlis1918\nlet x : real", "x + x = 2x", "x + x\n= 2x by algebra",
                            name="doubling")
    result = checked(text)
    assert (result.name, result.statement, result.line) == ("doubling", "a statement", 3)
    assert result.cites == ["isserlis1918"] and result.verdict is Verdict.PROVED


def test_a_theorem_started_with_its_run_budget_spent_checks_no_step(fixed_rule):
    step = _proved_step(fixed_rule)
    x = sympy.Symbol("x", real=True)
    theorem_ = Theorem("t", "s", 1, Goal(x, "=", x), x,
                       [Step(3, 1, Goal(x, "=", x), step.rule, (), step.source)],
                       Context({"x": x}, [], {}, []))
    result = check_theorem(theorem_, Options(budget=5.0, run_budget=10.0), [], lambda: 0.0)
    assert result.verdict is Verdict.UNDECIDED
    assert result.steps[0].detail.endswith("not checked: the run's CPU-time budget of 10 s is "
                                           "spent (run budget)")


def test_a_montecarlo_seed_setting_is_the_theorems_seed():
    text = theorem("", "1 = 1", "1\n= 1 by algebra",
                   after="crosscheck montecarlo samples 100\ncrosscheck montecarlo seed 7\n")
    assert checked(text).seed == 7


# --- the kernel: the relations of a chain compose to the claim's ---------------------------

ALL_RELATIONS = ("=", "<=", "<", ">=", ">", "->", "~=")
LIMIT_HEADER = "let n : positive integer\nlet m : positive integer\nlet x : real"


def chain_error(fixed_rule, claim: str, chain: str, header: str = LIMIT_HEADER) -> str | None:
    """The chain-shape error of a proof whose every step a rule accepts, or None."""
    fixed_rule("ok", Judgement(Verdict.PROVED, "accepted"), relations=ALL_RELATIONS,
              tolerances=True)
    report = run(theorem(header, claim, chain), budget=None, witnesses=False)
    assert not report.internal_errors, report.internal_errors
    if report.errors:
        return report.errors[0]
    assert report.theorems[0].verdict is Verdict.PROVED
    return None


@pytest.mark.parametrize("claim, chain", [
    ("x < x + 2", "x\n<= x + 1 by ok\n< x + 2 by ok"),
    ("x < x + 2", "x\n< x + 1 by ok\n<= x + 2 by ok"),
    ("x <= x + 2", "x\n< x + 1 by ok\n<= x + 2 by ok"),  # a strict chain proves a weak claim
    ("x <= x + 2", "x\n= x + 0 by ok\n<= x + 2 by ok"),
    ("x > x - 2", "x\n>= x - 1 by ok\n> x - 2 by ok"),
    ("x >= x - 2", "x\n> x - 1 by ok\n>= x - 2 by ok"),
    ("x > x - 2", "x\n> x - 1 by ok\n= x - 1 + 0 by ok\n>= x - 2 by ok"),
    ("x ~= x + 1/100 within 1/10", "x\n= x + 0 by ok\n~= x + 1/100 within 1/10 by ok"),
    ("x ~= x + 2/100 within 2/10",
     "x\n~= x + 1/100 within 1/10 by ok\n~= x + 2/100 within 1/10 by ok"),  # tolerances add up
    ("x ~= x + 2/100 within 1/10",
     "x\n~= x + 1/100 within 1/10 by ok\n= x + 2/100 by ok"),
    ("1/n -> 0 as n -> oo", "1/n\n= 1/n by ok\n-> 0 as n -> oo by ok\n= 0 by ok"),
    ("1/n -> 0 within 1/10 as n -> oo",
     "1/n\n-> 1/100 within 1/20 as n -> oo by ok\n~= 0 within 1/20 by ok"),
    ("x ~= x within 1/10", "x\n= x by ok"),  # an exact chain proves an approximate claim
])
def test_chains_that_compose_to_the_claim(fixed_rule, claim, chain):
    assert chain_error(fixed_rule, claim, chain) is None


@pytest.mark.parametrize("claim, chain, at, error", [
    # a non-strict chain cannot prove a strict claim, nor an '=' chain an inequality
    ("x < x + 2", "x\n<= x + 1 by ok\n<= x + 2 by ok", 2,
     "the steps establish '<=' but the claim states '<'"),
    ("x > x - 2", "x\n>= x - 1 by ok\n>= x - 2 by ok", 2,
     "the steps establish '>=' but the claim states '>'"),
    ("x <= x", "x\n= x by ok", 1, "the steps establish '=' but the claim states '<='"),
    ("x = x + 1", "x\n< x + 1 by ok", 1, "the steps establish '<' but the claim states '='"),
    ("x <= x + 1", "x\n>= x - 1 by ok\n<= x + 1 by ok", 2,
     "inequalities in both directions do not compose"),
    ("x >= x - 2", "x\n<= x + 1 by ok\n>= x - 2 by ok", 2,
     "inequalities in both directions do not compose"),
    # an approximation and an exact claim, or an approximation mixed with inequalities
    ("x = x + 1/100", "x\n~= x + 1/100 within 1/10 by ok", 1,
     "the steps establish '~=' but the claim states '='"),
    ("x ~= x + 2/100 within 1/10",
     "x\n~= x + 1/100 within 1/10 by ok\n~= x + 2/100 within 1/10 by ok", 2,
     "the steps' tolerances add up to 1/5, more than the claim's 1/10"),
    ("x <= x + 1", "x\n~= x + 1/100 within 1/10 by ok\n<= x + 1 by ok", 2,
     "after an approximation ('~=') only '=' and '~=' steps may follow (a limit of an "
     "approximation need not exist)"),
    ("x <= x + 1", "x\n<= x + 1/2 by ok\n~= x + 1 within 1/2 by ok", 2,
     "an approximation cannot follow an inequality in one chain"),
    # limits: after equalities only, followed by n-free equalities, in the claim's variable
    ("1/n -> 0 as n -> oo", "1/n\n<= 1/n by ok\n-> 0 as n -> oo by ok", 2,
     "a limit cannot follow an inequality in one chain"),
    ("1/n -> 0 as n -> oo", "1/n\n~= 1/n within 1/10 by ok\n-> 0 as n -> oo by ok", 2,
     "after an approximation ('~=') only '=' and '~=' steps may follow (a limit of an "
     "approximation need not exist)"),
    ("1/n -> 0 as n -> oo", "1/n\n-> 0 as n -> oo by ok\n<= 0 by ok", 2,
     "after the limit in n only '=' and '~=' steps may follow"),
    ("1/n -> 0 as n -> oo", "1/n\n-> 0 as n -> oo by ok\n= sin(n)^2 + cos(n)^2 - 1 by ok\n= 0 by ok",
     2, "after the limit, expressions must not depend on n"),
    ("1/n -> 0 as n -> oo", "1/n\n-> 0 as m -> oo by ok", 1,
     "the claim's limit is in n, the derivation's in m"),
    ("1/n -> 0 as n -> oo", "1/n\n-> 1/100 within 1/20 as n -> oo by ok\n~= 0 within 1/20 by ok",
     2, "the steps' tolerances add up to 1/10, more than the claim's 0 (the claim is exact)"),
    ("x = x + 1", "x\n= x + 2 by ok", 1,
     "the derivation ends at x + 2 but the claim's right side is x + 1"),
    ("x + 1 = x + 2", "x\n= x + 2 by ok", 1,
     "the derivation starts at x but the claim's left side is x + 1"),
])
def test_chains_that_do_not_compose_to_the_claim(fixed_rule, claim, chain, at, error):
    err = chain_error(fixed_rule, claim, chain)
    line = 8 + at  # the header has three lines; the chain starts on line 8
    assert err is not None and err.splitlines()[0] == f"<test>:{line}:3: proof error: {error}", err


def _goal(lhs, rel, rhs, limit_var=None):
    return Goal(sympy.sympify(lhs), rel, sympy.sympify(rhs), limit_var)


def _direct_theorem(claim, start, goals):
    steps = [Step(10 + i, 5, g, "ok", (), "") for i, g in enumerate(goals)]
    return Theorem("t", "s", 1, claim, sympy.sympify(start), steps, Context({}, [], {}, []))


def test_the_kernel_checks_that_each_step_continues_from_the_previous_one():
    # the elaborator always chains the steps; the kernel does not rely on it
    theorem_ = _direct_theorem(_goal(1, "=", 3), 1, [_goal(1, "=", 2), _goal(5, "=", 3)])
    with pytest.raises(ProofStructureError) as info:
        compose_relations(theorem_)
    assert info.value.message == "step does not continue from the previous expression"
    assert (info.value.pos.line, info.value.pos.col) == (11, 5)


def test_an_inequality_cannot_follow_a_limit_even_without_a_limit_variable():
    n = sympy.Symbol("n", positive=True, integer=True)
    theorem_ = _direct_theorem(_goal(1 / n, "<=", 0), 1 / n,
                               [_goal(1 / n, "->", 0), _goal(0, "<=", 0)])
    with pytest.raises(ProofStructureError) as info:
        compose_relations(theorem_)
    assert info.value.message == "an inequality cannot follow a limit in one chain"
    assert (info.value.pos.line, info.value.pos.col) == (11, 5)


def _law_goal(lhs, limit_var, tolerance=None):
    from tpcheck.engines.heads import LimitLaw

    law = LimitLaw(sympy.Symbol("Normal"), sympy.Tuple(0), sympy.Tuple(sympy.Tuple(1)))
    return Goal(sympy.sympify(lhs), "~>", law, limit_var, tolerance), law


def test_convergence_in_distribution_composes_after_equalities_only():
    n = sympy.Symbol("n", positive=True, integer=True)
    m = sympy.Symbol("m", positive=True, integer=True)
    x = sympy.Symbol("x")
    step, law = _law_goal(x, n)
    claim = Goal(2 * x / 2, "~>", law, n)
    assert compose_relations(_direct_theorem(claim, x, [_goal(x, "=", x), step])) == ("~>", n)
    # the claim's limit variable must be the chain's
    with pytest.raises(ProofStructureError) as info:
        compose_relations(_direct_theorem(Goal(x, "~>", law, m), x, [step]))
    assert "the claim's limit is in m" in info.value.message
    assert (info.value.pos.line, info.value.pos.col) == (10, 5)
    # nothing follows it
    with pytest.raises(ProofStructureError) as info:
        compose_relations(_direct_theorem(Goal(x, "~>", law, n), x, [step, Goal(law, "=", law)]))
    assert info.value.message == ("nothing may follow a convergence in distribution ('~>') in one "
                                  "chain")
    assert (info.value.pos.line, info.value.pos.col) == (11, 5)
    # it follows equalities only, and carries no tolerance
    bound = Goal(x, "<=", x + 1)
    after, _ = _law_goal(x + 1, n)
    with pytest.raises(ProofStructureError) as info:
        compose_relations(_direct_theorem(Goal(x, "~>", law, n), x, [bound, after]))
    assert info.value.message == "a convergence in distribution ('~>') may follow only equalities"
    assert (info.value.pos.line, info.value.pos.col) == (11, 5)
    tolerant, _ = _law_goal(x, n, sympy.Rational(1, 10))
    with pytest.raises(ProofStructureError) as info:
        compose_relations(_direct_theorem(Goal(x, "~>", law, n), x, [tolerant]))
    assert info.value.message == "a convergence in distribution ('~>') may follow only equalities"
    # a limit claim is not proved by a law
    with pytest.raises(ProofStructureError):
        compose_relations(_direct_theorem(Goal(x, "->", law, n), x, [step]))


# --- the eval rule ---------------------------------------------------------------------------


def eval_step(header: str, claim: str, rule_call: str = "eval"):
    lhs, rhs = claim.rsplit(" = ", 1)
    result = checked(theorem(header, claim, f"{lhs}\n= {rhs}   by {rule_call}"))
    return result, result.steps[0]


# k(k-1)(k-2)(k-3)(k-4) vanishes at k = 0..4 and is 120 at k = 5
FALLING_5 = "k*(k-1)*(k-2)*(k-3)*(k-4) = 0"


@pytest.mark.parametrize("header, rule_call", [("for k in 0..5", "eval"),
                                               ("for all k >= 0", "eval(k in 0..5)")])
def test_eval_checks_the_last_instance_of_a_range(header, rule_call):
    result, step = eval_step(header, FALLING_5, rule_call)
    assert result.verdict is Verdict.REFUTED
    assert step.detail == "eval: the sides differ at {'k': '5'}"
    assert step.counterexample["instance"] == {"k": "5"}
    assert (step.counterexample["lhs"], step.counterexample["rhs"]) == ("120", "0")


def test_eval_checks_the_first_instance_of_a_range():
    result, step = eval_step("for k in 0..5", "(k-1)*(k-2)*(k-3)*(k-4)*(k-5) = 0")
    assert result.verdict is Verdict.REFUTED and step.counterexample["instance"] == {"k": "0"}


def test_eval_checks_the_last_corner_of_two_ranges():
    result, step = eval_step("for k in 0..3\nfor j in 0..2", "k*(k-1)*(k-2)*j*(j-1) = 0")
    assert result.verdict is Verdict.REFUTED
    assert step.counterexample["instance"] == {"k": "3", "j": "2"}


def test_eval_verified_on_the_whole_range_says_how_many_instances():
    result, step = eval_step("for k in 0..4", FALLING_5)
    assert result.verdict is Verdict.VERIFIED and result.range == {"k": [0, 4]}
    assert step.detail == "eval: equal on all 5 instances of {'k': [0, 4]}"
    (evidence,) = step.evidence
    assert (evidence.kind, evidence.ok) == ("exact-instances", True)
    assert evidence.data == {"instances": 5, "range": {"k": [0, 4]}}


def test_eval_skips_the_instances_the_assumptions_exclude():
    result, step = eval_step("for k in 0..7\nassume k >= 5", FALLING_5.replace("= 0", "= k!/(k-5)!"))
    assert result.verdict is Verdict.VERIFIED
    assert step.detail == "eval: equal on all 3 instances of {'k': [0, 7]}"


def test_eval_keeps_the_other_symbols_symbolic():
    result, step = eval_step("for k in 0..3\nlet x : real", "sum(x^i, i = 0..k)*(x - 1) = x^(k+1) - 1")
    assert result.verdict is Verdict.VERIFIED and step.range == {"k": [0, 3]}
    result, step = eval_step("for k in 0..3\nlet x : real", "sum(x^i, i = 0..k)*(x - 1) = x^(k+1) + 1")
    assert result.verdict is Verdict.REFUTED and step.counterexample["instance"]["k"] == "0"


def test_a_range_argument_takes_precedence_over_the_declared_range():
    result, step = eval_step("for k in 0..10", FALLING_5, "eval(k in 0..4)")
    assert step.range == {"k": [0, 4]} and result.verdict is Verdict.PARTIAL


def test_eval_without_a_range_is_proved_once_symbolically():
    result, step = eval_step("for k in 0..3\nlet x : real", "sum(x, i = 1..3) = 3x")
    assert result.verdict is Verdict.PROVED and step.range is None
    assert step.detail == "eval: both sides evaluate to the same closed form"


@pytest.mark.parametrize("hi, allowed", [(5000, True), (5001, False)])
def test_eval_checks_at_most_5000_instances(hi, allowed):
    result, step = eval_step(f"for k in 1..{hi}", "k = k + 0")
    if allowed:
        assert result.verdict is Verdict.VERIFIED
        assert step.detail == "eval: equal on all 5000 instances of {'k': [1, 5000]}"
    else:
        assert result.verdict is Verdict.UNDECIDED
        assert step.detail == "eval: the range has 5001 instances; eval checks at most 5000"


def test_eval_counts_the_instances_of_a_product_of_ranges():
    result, step = eval_step("for k in 3..103\nfor j in 0..49", "k + j = j + k")
    assert step.detail == "eval: the range has 5050 instances; eval checks at most 5000"


# --- the induction rule ----------------------------------------------------------------------


def induction_step(header: str, claim: str, how: str = "(k)"):
    lhs, rhs = claim.rsplit(" = ", 1)
    result = checked(theorem(header, claim, f"{lhs}\n= {rhs}   by induction{how}"))
    return result, result.steps[0]


def test_the_base_case_of_induction_is_checked_at_the_declared_lower_bound():
    # 0^k = 0 for every k >= 1, and the step 0^(k+1) = 0 holds; only k = 0 fails
    result, step = induction_step("for all k >= 0", "0^k = 0")
    assert result.verdict is Verdict.REFUTED
    assert step.detail == "induction: the base case k = 0 fails"
    assert step.counterexample["instance"] == {"k": "0"}


@pytest.mark.parametrize("lo", [0, 1, 3])
def test_induction_on_a_sum_starts_where_the_parameter_is_declared(lo):
    result, step = induction_step(f"for all k >= {lo}", "sum(i, i = 1..k) = k*(k+1)/2", "(k, sum)")
    assert result.verdict is Verdict.PROVED
    assert step.detail.startswith(f"induction on k >= {lo}: base case k = {lo} (")
    assert "step by splitting off the last term of sums and products and the hypothesis" in step.detail


def test_induction_splits_the_last_factor_off_a_product():
    result, _ = induction_step("for all k >= 1", "prod(2i, i = 1..k) = 2^k * k!", "(k, sum)")
    assert result.verdict is Verdict.PROVED


def test_induction_by_algebra_does_not_split_sums():
    for how in ("(k)", "(k, algebra)"):
        result, step = induction_step("for all k >= 0", "sum(i, i = 1..k) = k*(k+1)/2", how)
        assert result.verdict is Verdict.UNDECIDED
        assert step.detail.startswith("induction: the step (algebra alone, then the hypothesis) "
                                      "gives ")


def test_a_wrong_step_is_not_proved_by_induction():
    # right at k = 0 and k = 1, wrong from k = 2 on
    result, step = induction_step("for all k >= 0", "sum(i, i = 1..k) = k^2", "(k, sum)")
    assert result.verdict is Verdict.REFUTED


def test_induction_with_stein_steps_uses_the_hypothesis_on_a_multiple_of_the_moment():
    header = "for all k >= 0\nlet s : positive real\nlet Z ~ Normal(0, s^2)"
    result, step = induction_step(header, "3E[Z^(2k)] = 3s^(2k) * (2k - 1)!!", "(k, stein)")
    assert result.verdict is Verdict.PROVED, step.detail
    assert "step by one Gaussian integration by parts (Stein's lemma)" in step.detail
    result, step = induction_step(header, "E[Z^(2k)] = s^(2k) * (2k)!!", "(k, stein)")
    assert not result.verdict.passes


@pytest.mark.parametrize("how, reason", [
    ("", "induction: name the parameter, e.g. induction(k, stein)"),
    ("(2)", "induction: name the parameter, e.g. induction(k, stein)"),
    ("(k, telescope)", "induction: unknown step 'telescope' (known: stein, sum, algebra)"),
    ("(x)", "induction: x is not a natural parameter of the theorem"),
])
def test_induction_names_what_is_missing(how, reason):
    result, step = induction_step("for all k >= 0\nlet x : real", "sum(i, i = 1..k) = k*(k+1)/2",
                                  how)
    assert result.verdict is Verdict.UNDECIDED
    assert step.detail == reason


# --- the kernel: bounded computations ----------------------------------------------------------

INF = resource.RLIM_INFINITY


@pytest.mark.parametrize("wanted, current, limits", [
    (100, (INF, INF), (100, 100)),
    (100, (50, INF), (50, 50)),
    (100, (INF, 70), (70, 70)),
    (100, (200, 300), (100, 100)),
    (100, (100, 100), (100, 100)),
])
def test_a_child_lowers_its_memory_limit_and_never_raises_it(wanted, current, limits):
    assert lowered(wanted, current) == limits


@pytest.mark.parametrize("seconds, current, limits", [
    (0.2, (INF, INF), (1, 3)),  # a forked child starts with no CPU time: at least one second
    (5.5, (INF, INF), (6, 8)),  # SIGXCPU at the budget, SIGKILL two seconds on
    (10, (INF, 7), (7, 7)),
    (10, (5, INF), (5, 12)),
    (10, (20, 30), (10, 12)),
    (10, (20, 11), (10, 11)),
    (10, (4, 11), (4, 11)),
])
def test_a_child_lowers_its_cpu_limit_and_never_raises_it(seconds, current, limits):
    assert cpu_limits(seconds, current) == limits


def _raise_value_error():
    raise ValueError("boom")


def _spin():
    while True:
        pass


def _burn(seconds):
    start = time.process_time()
    while time.process_time() - start < seconds:
        pass
    return "done"


def _exhaust_memory():
    raise MemoryError


def _die(code):
    os._exit(code)


def _kill_self():
    os.kill(os.getpid(), signal.SIGKILL)


def _unreadable_in_parent():
    raise RuntimeError("cannot be rebuilt")


class _Unreadable:
    def __reduce__(self):
        return (_unreadable_in_parent, ())


def _return_unreadable():
    return _Unreadable()


def test_a_computation_in_this_process_reports_its_failure():
    assert run_bounded(sum, ([1, 2],), None) == bounded.Outcome(True, 3)
    out = run_bounded(_raise_value_error, (), None)
    assert (out.ok, out.kind) == (False, "error")
    assert out.reason.startswith("ValueError: boom (at test_core_mutants.py:")


def test_a_bounded_computation_returns_its_value_from_a_child():
    out = run_bounded(os.getpid, (), 10)
    assert out.ok and out.kind == "ok" and out.value != os.getpid()


@pytest.mark.parametrize("fn, args, seconds, kind, reason", [
    (_raise_value_error, (), 10, "error", "ValueError: boom (at test_core_mutants.py:"),
    (_spin, (), 0.5, "cpu", "CPU-time budget of 0.5 s ran out"),
    (_exhaust_memory, (), 10, "memory", "ran out of its memory budget"),
    (_die, (3,), 10, "died", "the computation died (exit code 3)"),
    (_kill_self, (), 7, "killed", "the computation was killed (its CPU-time budget of 7 s, or the "
                                  "system)"),
    (_return_unreadable, (), 10, "error", "its result could not be read back: RuntimeError"),
])
def test_every_failure_of_a_bounded_computation_is_an_outcome(fn, args, seconds, kind, reason):
    out = run_bounded(fn, args, seconds)
    assert (out.ok, out.kind) == (False, kind)
    assert out.reason.startswith(reason), out.reason


def test_a_child_that_waits_without_computing_is_stopped_by_the_wall_clock(monkeypatch):
    monkeypatch.setattr(bounded, "WALL_MINIMUM", 0.5)
    start = time.monotonic()
    out = run_bounded(time.sleep, (30,), 0.01)
    assert time.monotonic() - start < 10
    assert (out.ok, out.kind) == (False, "wall")
    assert out.reason == "no answer within 0.5 s of wall time (the CPU-time budget is 0.01 s)"


def test_the_wall_clock_backstop_is_twenty_times_the_budget(monkeypatch):
    monkeypatch.setattr(bounded, "WALL_MINIMUM", 0.0)
    out = run_bounded(time.sleep, (30,), 0.05)
    assert out.reason == "no answer within 1 s of wall time (the CPU-time budget is 0.05 s)"


def test_the_child_sets_its_limits_before_it_computes(monkeypatch):
    """``_child`` run in this process, with the calls that would change it recorded."""
    calls = []
    current = {resource.RLIMIT_CPU: (INF, INF), resource.RLIMIT_AS: (600, 900)}
    monkeypatch.setattr(bounded.resource, "getrlimit", lambda which: current[which])
    monkeypatch.setattr(bounded.resource, "setrlimit", lambda which, lim: calls.append((which, lim)))
    monkeypatch.setattr(bounded.signal, "signal", lambda sig, handler: calls.append((sig, handler)))
    monkeypatch.setattr(bounded.sys, "set_int_max_str_digits", lambda n: calls.append(("digits", n)))

    class Conn:
        sent, closed = [], False

        def send(self, message):
            self.sent.append(message)

        def close(self):
            self.closed = True

    def outcome(fn, memory=1000, seconds=2.5):
        conn = Conn()
        conn.sent = []
        calls.clear()
        bounded._child(conn, fn, (), memory, seconds)
        assert conn.closed
        (message,) = conn.sent
        return message

    assert outcome(lambda: 42) == ("ok", 42)
    assert calls == [(signal.SIGXCPU, bounded._on_cpu_limit),
                     (resource.RLIMIT_CPU, (3, 5)), (resource.RLIMIT_AS, (600, 600)),
                     ("digits", 0)]
    assert outcome(lambda: 42, memory=None) == ("ok", 42)
    assert resource.RLIMIT_AS not in [c[0] for c in calls]

    def over_budget():
        bounded._on_cpu_limit(signal.SIGXCPU, None)

    assert outcome(over_budget) == ("cpu", "CPU-time budget of 2.5 s ran out")
    assert outcome(_exhaust_memory) == ("memory", "ran out of its memory budget")
    status, reason = outcome(_raise_value_error)
    assert status == "error" and reason.startswith("ValueError: boom (at test_core_mutants.py:")


def _call_raise_value_error():
    _raise_value_error()


def test_where_names_the_innermost_frame_only_of_a_raised_exception():
    assert bounded._where(ValueError("never raised")) == ""
    try:
        _call_raise_value_error()
    except ValueError as exc:
        where = bounded._where(exc)
    line = _raise_value_error.__code__.co_firstlineno + 1
    assert where == f" (at test_core_mutants.py:{line})"


def test_a_run_clock_counts_the_cpu_time_of_its_children():
    before = cpu_seconds()
    clock = RunClock(1000.0)
    assert run_bounded(_burn, (0.3,), 10).value == "done"
    spent = clock.spent()
    left = clock.left()
    used = cpu_seconds() - before  # read last: the clock's readings lie within it
    assert 0.25 <= spent <= used
    assert 1000.0 - used <= left <= 1000.0 - spent
    assert not clock.exhausted()


def test_a_run_clock_without_a_budget_never_runs_out():
    clock = RunClock(None)
    assert clock.left() is None and not clock.exhausted()
    assert RunClock(0.0).exhausted() and RunClock(0.0).left() <= 0
    assert not RunClock(0.5).exhausted()  # half a second of CPU time is not spent at once
    assert not RunClock(sys.float_info.max).exhausted()


@pytest.mark.parametrize("budget, left, result", [
    (60.0, None, 60.0), (None, 5.0, None), (60.0, 5.0, 5.0), (2.0, 5.0, 2.0), (60.0, -3.0, 0.0),
    (0.123, 0.123, 0.123),  # all that is left, when that is the step's own budget
    (60.0, 5.4321, 5.43),  # what is left, to the hundredth of a second
])
def test_a_step_gets_no_more_than_what_is_left_of_the_run(budget, left, result):
    assert capped(budget, lambda: left) == result
    assert capped(budget, None) == budget


def test_a_step_is_not_started_when_the_run_budget_is_spent(fixed_rule):
    step = _proved_step(fixed_rule)
    result = check_step(step, None, Options(budget=5.0, run_budget=10.0), [], 0, NO_SETTINGS, lambda: 0.0)
    assert result.verdict is Verdict.UNDECIDED
    assert result.detail == "yes: not checked: the run's CPU-time budget of 10 s is spent (run budget)"
    result = check_step(step, None, Options(budget=5.0, witness_budget=5.0, run_budget=10.0),
                        [_pid_witness, _crashing_witness], 0, NO_SETTINGS, _left_after_the_rule())
    assert result.verdict is Verdict.PROVED
    assert [(e.kind, e.ok, e.detail) for e in result.evidence] == [
        ("mpmath", None, "not checked: the run's CPU-time budget of 10 s is spent (run budget)")] * 2
    result = check_step(step, None, Options(budget=5.0, witness_budget=5.0, run_budget=10.0),
                        [_pid_witness], 0, NO_SETTINGS, lambda: 0.5)
    (evidence,) = result.evidence
    assert evidence.ok and evidence.data["pid"] != os.getpid()  # half a second is enough


def test_a_step_cut_short_by_the_run_budget_says_so():
    def spin(goal, args, ctx):
        """Never returns."""
        _spin()

    def boom(goal, args, ctx):
        """Crashes."""
        _raise_value_error()

    rule("spin", human="spin")(spin)
    rule("boom", human="boom")(boom)
    try:
        x = sympy.Symbol("x")
        spinning = Step(7, 3, Goal(x, "=", x), "spin", (), "= x by spin")
        capped_run = check_step(spinning, None, Options(budget=60.0, witnesses=False), [], 0, NO_SETTINGS,
                                lambda: 0.5)
        own_budget = check_step(spinning, None, Options(budget=0.5, witnesses=False), [], 0, NO_SETTINGS,
                                lambda: 100.0)
        crashing = Step(7, 3, Goal(x, "=", x), "boom", (), "= x by boom")
        crashed = check_step(crashing, None, Options(budget=60.0, witnesses=False), [], 0, NO_SETTINGS,
                             lambda: 30.0)
    finally:
        REGISTRY.pop("spin")
        REGISTRY.pop("boom")
    assert capped_run.verdict is Verdict.UNDECIDED
    assert capped_run.detail == ("spin: CPU-time budget of 0.5 s ran out (all that was left of the "
                                 "run budget)")
    assert own_budget.detail == "spin: CPU-time budget of 0.5 s ran out"
    line = _raise_value_error.__code__.co_firstlineno + 1
    assert crashed.detail == f"boom: ValueError: boom (at test_core_mutants.py:{line})"


def _left_after_the_rule():
    """A run clock with time for the rule and none for the witnesses."""
    calls = []

    def left():
        calls.append(1)
        return 100.0 if len(calls) == 1 else 0.0

    return left


# --- hypergeometric term ratios and induction ------------------------------------------------

K = sympy.Symbol("k", integer=True)
HALF = sympy.Rational(1, 2)

# f and the first k from which f(k+1) = r(k) f(k) holds for every later k (and not from k - 1)
RATIO_CASES = [
    (sympy.factorial(K - 3), 3),
    (sympy.factorial(2 * K - 5), 3),
    (sympy.gamma(K - 2), 3),
    (sympy.gamma(2 * K + HALF), 0),
    (sympy.binomial(K, 3), 3),
    (sympy.binomial(2 * K, K), 0),
    (sympy.catalan(K), 0),
    (sympy.factorial2(2 * K + 1), -1),
    (sympy.factorial2(2 * K), 0),
    (sympy.factorial2(2 * K - 3), 1),
    (sympy.FallingFactorial(K, 2), 2),
    (sympy.FallingFactorial(2 * K + 1, K), 0),
    ((K - 3) * (K + 2), 4),
    ((K + 1) ** 2, 0),
    ((K + 2) ** -1 * sympy.factorial(K) * 3**K, 0),
    (5 * (K - 1) ** 3 / sympy.factorial(K + 1), 2),
]


@pytest.mark.parametrize("f, first", RATIO_CASES, ids=lambda v: str(v))
def test_a_term_ratio_is_exact_exactly_where_it_claims_to_be(f, first):
    tr = term_ratio(f, K)
    assert tr is not None
    assert tr.valid_on(first, None) and tr.valid_on(first, first + 10)
    assert not tr.valid_on(first - 1, None)
    for j in range(first, first + 8):
        at_j, at_next = f.xreplace({K: j}), f.xreplace({K: j + 1})
        assert at_next == tr.ratio.xreplace({K: j}) * at_j, (j, at_j, at_next, tr.ratio)


@pytest.mark.parametrize("f, ratio", [
    (sympy.Integer(7), 1),
    (2 ** (3 * K + 1), 8),
    (sympy.Rational(1, 3) ** (2 * K), sympy.Rational(1, 9)),
    (sympy.factorial(2 * K) * 4**K, 4 * (2 * K + 1) * (2 * K + 2)),
    (sympy.gamma(3 * K + 1), (3 * K + 1) * (3 * K + 2) * (3 * K + 3)),
    (K**2 + 1, ((K + 1) ** 2 + 1) / (K**2 + 1)),
])
def test_term_ratios_of_powers_factorials_and_polynomials(f, ratio):
    tr = term_ratio(f, K)
    assert sympy.cancel(tr.ratio - ratio) == 0
    assert tr.valid_on(0, None)


@pytest.mark.parametrize("f", [
    sympy.Symbol("x", real=True) ** K,  # x may be 0
    sympy.Integer(0) ** K,
    2 ** (K**2),
    2 ** (K / 2),
    sympy.sqrt(K),
    sympy.factorial(K**2),
    sympy.factorial(K / 2),
    sympy.factorial(3 - K),
    sympy.factorial(K + HALF),
    sympy.gamma(K**2),
    sympy.gamma(-K),
    sympy.gamma(sympy.Symbol("x", real=True) * K),
    sympy.binomial(K**2, K),
    sympy.catalan(K**2),
    sympy.factorial2(K),
    sympy.factorial2(K**2),
    sympy.binomial(K + 4, 2 * K),  # (4 - k)! has a decreasing argument
    sympy.FallingFactorial(K, HALF),
    sympy.Symbol("a", real=True) * K + 1,
    sympy.sin(K),
    sympy.factorial(K) * sympy.sin(K),
    (sympy.sin(K) + 1) ** 2,
])
def test_terms_that_are_not_hypergeometric_have_no_ratio(f):
    assert term_ratio(f, K) is None


@pytest.mark.parametrize("a, b, bound, strict, lo, hi, holds", [
    (1, -3, 0, False, 3, None, True),
    (1, -3, 0, False, 2, None, False),
    (1, -3, 0, True, 3, None, False),
    (1, -3, 0, True, 4, None, True),
    (2, 1, -1, False, -1, None, True),
    (2, 1, -1, False, -2, None, False),
    (0, 5, 0, False, -100, None, True),
    (0, -1, 0, False, 0, 10, False),
    (0, 0, 0, True, 0, 10, False),
    (-1, 10, 0, False, 0, 10, True),  # decreasing: the last k of the range is the smallest
    (-1, 10, 0, False, 0, 11, False),
    (-1, 10, 0, True, 0, 10, False),
    (-1, 10, 0, True, 0, 9, True),
    (-1, 10, 0, False, 0, None, False),  # decreasing on an unbounded range
])
def test_a_linear_condition_holds_on_the_whole_range(a, b, bound, strict, lo, hi, holds):
    cond = LinearCondition(sympy.Integer(a), sympy.Integer(b), bound, strict)
    assert cond.holds(lo, hi) is holds


@pytest.mark.parametrize("poly, lo, hi, holds", [
    (K - 3, 0, 2, True),
    (K - 3, 0, 3, False),
    (K - 3, 3, None, False),
    (K - 3, 4, None, True),
    (K - 3, 0, None, False),
    (2 * K - 1, 0, None, True),  # its root 1/2 is not an integer
    (K**2 + 1, -10, None, True),
    ((K + 2) * (K - 5), -1, 4, True),
    ((K + 2) * (K - 5), -2, 4, False),
    (sympy.Symbol("a", real=True) * K - 1, 0, None, False),  # not over Q
])
def test_a_polynomial_factor_has_no_integer_root_in_the_range(poly, lo, hi, holds):
    assert NonvanishingPolynomial(sympy.Poly(poly, K)).holds(lo, hi) is holds


def test_the_base_case_of_hypergeometric_induction_is_checked():
    k0 = sympy.Symbol("k", integer=True, nonnegative=True)
    d = decide_equal(sympy.binomial(2 * k0, k0), 2 * sympy.binomial(2 * k0, k0), InstanceSpace())
    assert d.status == "unequal" and d.reason == "the sides differ at k = 0"
    assert d.counterexample == {"instance": {"k": "0"}, "lhs": "1", "rhs": "2"}
    space = InstanceSpace({K: (4, None)})
    d = decide_equal(sympy.binomial(K, 3) * 5, sympy.binomial(K, 3) * 6, space)
    assert d.status == "unequal" and d.reason == "the sides differ at k = 4"
    assert d.counterexample["instance"] == {"k": "4"}


@pytest.mark.parametrize("f, lo", [
    (1 / sympy.factorial(K - 3), 2),  # 1/(k-3)! is 0 at k = 2 and 1 at k = 3
    (1 / sympy.gamma(K - 2), 2),  # 1/gamma(k-2) is 0 at k = 2 and 1 at k = 3
    ((K - 2) * 2**K, 2),  # (k-2) 2^k is 0 at k = 2 and 8 at k = 3
])
def test_an_off_by_one_in_the_range_of_an_induction_is_caught(f, lo):
    """f and 2f have the same term ratio and agree at k = lo (both are 0 there), but the
    recurrence fails at k = lo: they differ from k = lo + 1 on."""
    space = InstanceSpace({K: (lo, None)})
    d = decide_equal(f, 2 * f, space)
    assert d.status == "unequal", d.reason
    assert d.counterexample["instance"] == {"k": str(lo + 1)}
    assert decide_equal(f, f * 1, space).status == "equal"


def test_hypergeometric_induction_proves_an_identity_from_its_start():
    space = InstanceSpace({K: (3, None)})
    d = decide_equal(sympy.binomial(K, 3), K * (K - 1) * (K - 2) / 6 + 0 * K, space)
    assert d.status == "equal"
    d = decide_equal(sympy.factorial(K - 3) * (K - 2), sympy.factorial(K - 2), space)
    assert (d.status, d.method) == ("equal", "hypergeometric induction")
    assert d.reason == ("both sides satisfy f(k+1) = (k - 1) f(k) for k >= 3 and agree at k = 3 "
                        "(canonical form)")


# --- exact equality ------------------------------------------------------------------------------

X_REAL = sympy.Symbol("x", real=True)
I_SUM = sympy.Symbol("i", integer=True)
N_POS = sympy.Symbol("n", integer=True, positive=True)
PI, E_ = sympy.pi, sympy.E
SQRT2, SQRT3, SQRT6 = sympy.sqrt(2), sympy.sqrt(3), sympy.sqrt(6)
# sqrt(2 + sqrt(3)) = (sqrt(2) + sqrt(6))/2, which no canonical form sees
NESTED, DENESTED = sympy.sqrt(2 + SQRT3), (SQRT2 + SQRT6) / 2


def test_finite_sums_are_carried_out_and_symbolic_ones_are_kept():
    expr = sympy.Sum(I_SUM, (I_SUM, 1, 4)) + sympy.Sum(I_SUM, (I_SUM, 1, N_POS))
    assert carry_out_finite(expr) == sympy.Sum(I_SUM, (I_SUM, 1, N_POS)) + 10
    assert canonical(sympy.Product(I_SUM, (I_SUM, 1, 5)) - 120) == 0
    assert canonical(X_REAL / (X_REAL**2 - 1) - 1 / (2 * (X_REAL - 1)) - 1 / (2 * (X_REAL + 1))) == 0


def test_the_label_of_an_indexed_family_is_not_a_parameter():
    family = sympy.IndexedBase("X")
    expr = sympy.Sum(family[I_SUM], (I_SUM, 1, N_POS)) * X_REAL
    assert plain_symbols(expr) == [N_POS, X_REAL]


def test_an_exact_value_is_a_number_or_nothing():
    k = sympy.Symbol("k", integer=True, nonnegative=True)
    assert exact_value(sympy.Sum(I_SUM, (I_SUM, 1, k)), {k: sympy.Integer(4)}) == 10
    assert exact_value(1 / X_REAL, {X_REAL: sympy.Integer(0)}) is None
    assert exact_value(X_REAL + k, {X_REAL: sympy.Integer(1)}) is None
    assert exact_value(Expectation(X_REAL), {X_REAL: sympy.Integer(1)}) is None
    assert render_instance({X_REAL: sympy.Integer(2), k: sympy.Rational(1, 3)}) == {
        "k": "1/3", "x": "2"}


@pytest.mark.parametrize("a, b, differ, how", [
    (SQRT2 * SQRT3, SQRT6, False, "canonical form"),
    (1, 2, True, "nonzero rational difference"),
    (PI, sympy.Rational(3927, 1250), True, "pi is transcendental (Lindemann 1882)"),
    (1 / PI, sympy.Rational(7, 22), True, "pi is transcendental (Lindemann 1882)"),
    (E_**2, sympy.Rational(739, 100), True, "e is transcendental (Hermite 1873)"),
    (PI, E_ + sympy.Rational(2, 5), True, "the Arb ball"),  # pi and e together: Arb decides
    (PI + E_, sympy.Rational(58598744820488, 10**13), True, "the Arb ball"),
    (NESTED, DENESTED, None, "the Arb ball"),
    (sympy.zeta(3), sympy.Rational(12020569, 10**7), True, "sympy N(strict=True) gives"),
    (sympy.zeta(3), sympy.zeta(3) + sympy.Rational(1, 10**40), True, "nonzero rational"),
    (X_REAL, 1, None, "no certified evaluation"),
])
def test_a_difference_of_numbers_is_certified_or_left_open(a, b, differ, how):
    result, reason = certify_difference(sympy.sympify(a), sympy.sympify(b))
    assert result is differ
    assert reason.startswith(how)
    if how == "the Arb ball":
        assert reason.endswith("of the difference excludes 0" if differ else
                               "of the difference contains 0")
    assert numbers_differ(sympy.sympify(a), sympy.sympify(b)) is differ


def test_a_tiny_difference_outside_arb_is_not_certified_by_low_precision():
    tiny = sympy.zeta(3) * sympy.Rational(1, 10**35)
    assert certify_difference(sympy.zeta(3) + tiny, sympy.zeta(3))[0] is None


@pytest.mark.parametrize("lhs, rhs, verdict, how", [
    (NESTED, DENESTED, "proved", "exact algebraic check + arb sign: lhs^2 - rhs^2 reduces to 0"),
    (-NESTED, -DENESTED, "proved", "exact algebraic check + arb sign: lhs^2 - rhs^2 reduces to 0"),
    (-NESTED, DENESTED, "refuted", "lhs - rhs != 0: the Arb ball"),
    (sympy.log(NESTED), sympy.log(DENESTED), "proved", "exact algebraic check + arb sign: log("),
    (sympy.exp(NESTED) + 1, 1 + sympy.exp(DENESTED), "proved", "exact algebraic check + arb sign"),
    (sympy.cbrt(2) * sympy.cbrt(4) + 0, sympy.Integer(2), "proved", "canonical form"),
    (PI, sympy.Rational(3927, 1250), "refuted", "lhs - rhs != 0: pi is transcendental"),
    (X_REAL, X_REAL, "unknown", "not a claim about constants"),
])
def test_exact_equality_of_constants(lhs, rhs, verdict, how):
    result, detail = decide_exact_constant_equality(lhs, rhs)
    assert result == verdict
    assert detail.startswith(how), detail


def test_a_sum_of_square_roots_is_proved_equal_to_its_nested_form():
    # (sqrt(2) + sqrt(3))^2 = 5 + 2 sqrt(6), and both sides are positive
    d = decide_constant_equal(SQRT2 + SQRT3, sympy.sqrt(5 + 2 * SQRT6))
    assert d is not None and d.status == "equal" and d.method == "exact algebraic check + arb sign"


def test_equal_squares_of_opposite_signs_prove_nothing():
    assert decide_constant_equal(-NESTED, DENESTED) is None
    assert decide_constant_equal(NESTED + 1, DENESTED) is None


def test_a_true_identity_with_no_proof_is_unknown_with_the_instances_tried():
    d = decide_equal(sympy.sin(X_REAL) ** 2 + sympy.cos(X_REAL) ** 2, sympy.Integer(1),
                     InstanceSpace())
    assert d.status == "unknown" and d.instances_tried == 24
    assert d.reason == ("lhs - rhs reduces to sin(x)**2 + cos(x)**2 - 1, not 0, and the 24 exact "
                        "instances tried agree")


def test_expectations_that_cancel_leave_a_difference_that_is_decided():
    z = sympy.Symbol("Z", real=True)
    d = decide_equal(Expectation(z**2) + X_REAL, Expectation(z**2) + X_REAL + 1, InstanceSpace())
    assert d.status == "unequal" and d.counterexample == {"instance": {}, "lhs - rhs": "-1"}
    d = decide_equal(Expectation(z**2), sympy.Integer(1), InstanceSpace())
    assert d.status == "unknown"
    assert d.reason == ("lhs - rhs reduces to E[Z**2] - 1, not 0, and no instance could be "
                        "evaluated exactly (expectations remain)")


def test_a_counterexample_is_as_small_as_the_instances_allow():
    # x^2 and x^2 + x(x - 1) agree at 0 and 1 only
    space = InstanceSpace()
    cex, tried, how = find_counterexample(X_REAL**2, X_REAL**2 + X_REAL * (X_REAL - 1), space)
    assert how == "nonzero rational difference" and tried >= 1
    value = sympy.Rational(cex["instance"]["x"])
    assert value not in (0, 1) and abs(value.p) + value.q <= 3


# --- exact limits --------------------------------------------------------------------------------

A_REAL, B_REAL = sympy.symbols("a b", real=True)
P_POS = sympy.Symbol("p", positive=True)
M_INT = sympy.Symbol("m", integer=True)
C_CPLX = sympy.Symbol("c", complex=True)
Q = sympy.Rational
N = N_POS
oo = sympy.oo


@pytest.mark.parametrize("expr, value, reason", [
    ((2 * N**2 + 1) / N**2, 2, "equal leading orders"),
    (N / (N**2 + 1), 0, "numerator order 1 > denominator 0 in 1/n"),
    (N**2 / (N + 1), oo, "the numerator dominates"),
    (-(N**2) / (N + 1), -oo, "the numerator dominates"),
    (sympy.sqrt(N) / (N + 1), 0, "numerator order 1 > denominator 0 in 1/n"),
    ((N + sympy.sqrt(N)) / N, 1, "equal leading orders"),
    (N ** Q(3, 2) / (N + 1), oo, "the numerator dominates"),
    ((sympy.sqrt(N) + 1) ** 2 / N, 1, "equal leading orders"),
    (-1 / N**3, 0, "numerator order 3 > denominator 0 in 1/n"),
    (1 / (-1 - 1 / N), -1, "equal leading orders"),
    (sympy.exp(1 / N), 1, "continuity of exp"),
    (sympy.log(N), oo, "log of oo"),
    (sympy.log(1 + 1 / N), 0, "continuity of log"),
    (sympy.atan(N), PI / 2, "atan at oo"),
    (sympy.atan(-N), -PI / 2, "limits of the terms"),
    (sympy.tanh(-N), -1, "limits of the terms"),
    (sympy.erf(N), 1, "erf at oo"),
    (sympy.exp(-N), 0, "exp at -oo"),
    (sympy.cosh(1 / N), 1, "continuity of cosh"),
    ((1 + 1 / N) ** N, E_, "g^h -> exp(lim h (g - 1)) as g -> 1"),
    ((1 + 2 / N) ** (3 * N), sympy.exp(6), "g^h -> exp(lim h (g - 1)) as g -> 1"),
    ((1 + 1 / N) ** (N**2), oo, "g^h -> exp(lim h (g - 1)) as g -> 1"),
    ((1 - 1 / N) ** (N**2), 0, "g^h -> exp(lim h (g - 1)) as g -> 1"),
    (2**N, oo, "a power growing without bound"),
    (Q(1, 2) ** N, 0, "a power tending to 0"),
    (2 ** (-N), 0, "a power tending to 0"),
    (Q(1, 2) ** (-N), oo, "a power growing without bound"),
    ((2 + 1 / N) ** (3 + 1 / N), 8, "continuity of a power"),
    (sympy.cos(1 / N) ** 2, 1, "continuity of a power"),
    (sympy.sqrt(N + 1), oo, "a positive power of oo"),
    (1 / sympy.sqrt(N + 1) + 2, 2, "limits of the terms"),
    (sympy.log(N + 1) ** -1, 0, "a negative power of oo"),
    (N + sympy.log(N), oo, "the infinite terms agree in sign"),
    (-sympy.exp(N), -oo, "a product with an infinite factor"),
    (-N * sympy.exp(1 / N), -oo, "a product with an infinite factor"),
    (sympy.exp(N) * sympy.exp(N + 1), oo, "a product with an infinite factor"),
    (sympy.exp(N) / sympy.log(N + 1), None, "0 * oo or an undetermined sign"),
    (N * sympy.sin(1 / N), None, "0 * oo or an undetermined sign (0)"),
    (N - sympy.log(N), None, "oo - oo"),
    (sympy.log(1 / N), None, "log at the limit 0"),
    (sympy.sin(N), None, "sin at the limit oo"),
    (sympy.sinh(N), None, "sinh at the limit oo"),
    (N ** (-1 / N), None, "the power oo^0"),
    ((1 + 1 / N) ** (N * sympy.sin(N)), None, "is not decided"),
    (sympy.exp(sympy.sin(N)), None, "exp at the limit None"),
    (sympy.sin(N) + 1, None, "a term's limit is not decided for every parameter value"),
    (sympy.gamma(1 / N + 1), None, "occurs inside gamma"),
    ((-1 - 1 / N) ** Q(1, 2), None, "the power -1^1/2"),
    ((1 / N) ** Q(1, 2) * 0 + sympy.Integer(3), 3, "does not depend on n"),
])
def test_limits_at_infinity(expr, value, reason):
    result = limit_at_infinity(expr, N)
    assert result.value == value, result.reason
    assert reason in result.reason


def test_a_limit_is_split_where_a_leading_coefficient_vanishes():
    # a n/(a n + 1) -> 1 for a != 0, but it is 0 at a = 0: the denominator's leading
    # coefficient vanishes there, and the limit is not accepted as 1
    cases = limit_cases(A_REAL * N / (A_REAL * N + 1), N, InstanceSpace())
    assert [(c.where, c.nonzero, c.result.value) for c in cases] == [({}, (A_REAL,), 1),
                                                                     ({A_REAL: 0}, (), 0)]
    result = limit_at_infinity(A_REAL * N / (A_REAL * N + 1), N)
    assert result.value is None
    assert result.reason == ("the leading coefficient a may vanish for some parameters (cases: "
                             "a != 0: 1; a = 0: 0)")
    cases = limit_cases((A_REAL * N**2 + N) / (A_REAL * N**2 + 1), N, InstanceSpace())
    assert [(c.where, c.result.value) for c in cases] == [({}, 1), ({A_REAL: 0}, oo)]


def test_a_vanishing_numerator_coefficient_is_split_when_the_limit_diverges():
    cases = limit_cases(A_REAL * N**2 / (N + 1), N, InstanceSpace())
    assert [(c.where, c.nonzero, c.result.value) for c in cases] == [
        ({}, (A_REAL,), None), ({A_REAL: 0}, (), 0)]
    assert "the sign of the divergent leading term a depends on the parameters" in \
        cases[0].result.reason
    assert limit_at_infinity(P_POS * N**2 / (N + 1), N).value == oo


def test_a_limit_that_is_the_same_in_every_case_is_one_limit():
    result = limit_at_infinity((A_REAL * N**2 + N) / (A_REAL * N**2 + N + 1), N)
    assert result.value == 1
    assert result.reason == ("equal leading orders; the same in every case: a != 0; a = 0")
    result = limit_at_infinity((A_REAL * N + 1) / (N + 1), N)
    assert (result.value, result.reason) == (A_REAL, "equal leading orders")


def test_a_case_split_on_a_product_of_parameters():
    cases = limit_cases(N / (A_REAL * B_REAL * N + 1), N, InstanceSpace())
    assert [(c.where, c.result.value) for c in cases] == [
        ({}, 1 / (A_REAL * B_REAL)), ({A_REAL: 0}, oo), ({B_REAL: 0}, oo)]
    assert cases[0].describe() == "a*b != 0" and cases[1].describe() == "a = 0"
    assert cases[1].summary() == "a = 0: oo"


def test_a_case_that_cannot_be_listed_is_undecided_not_guessed():
    cases = limit_cases((sympy.sin(A_REAL) * N + 1) / (sympy.sin(A_REAL) * N + 2), N,
                        InstanceSpace())
    assert cases[-1].unsolved == (sympy.sin(A_REAL),) and cases[-1].result.value is None
    assert cases[-1].describe() == "sin(a) = 0"
    assert limit_at_infinity((sympy.sin(A_REAL) * N + 1) / (sympy.sin(A_REAL) * N + 2), N).value \
        is None


def test_nested_vanishing_coefficients_are_followed():
    # at a = 1 the leading coefficient a - 1 vanishes, and then b does
    expr = N**2 / ((A_REAL - 1) * N**2 + B_REAL * N + 1)
    cases = limit_cases(expr, N, InstanceSpace())
    assert [(c.where, c.result.value) for c in cases] == [
        ({}, 1 / (A_REAL - 1)), ({A_REAL: 1}, None), ({A_REAL: 1, B_REAL: 0}, oo)]


@pytest.mark.parametrize("coeff, space, where", [
    (A_REAL * (A_REAL - 2), InstanceSpace(), [{A_REAL: 2}, {A_REAL: 0}]),
    (P_POS * (P_POS - 2), InstanceSpace(), [{P_POS: 2}]),
    (A_REAL**2 + 1, InstanceSpace(), []),
    (C_CPLX**2 + 1, InstanceSpace(), [{C_CPLX: -sympy.I}, {C_CPLX: sympy.I}]),
    (A_REAL**2 - 2, InstanceSpace(), [{A_REAL: -SQRT2}, {A_REAL: SQRT2}]),
    (A_REAL + B_REAL, InstanceSpace(), [{A_REAL: -B_REAL}]),
    (2 * A_REAL + 3, InstanceSpace(), [{A_REAL: Q(-3, 2)}]),
    (2 * M_INT + 3, InstanceSpace(), []),
    (A_REAL * (A_REAL - 1), InstanceSpace(assumptions=((A_REAL, ">", sympy.Integer(1)),)), []),
    (A_REAL * (A_REAL - 1), InstanceSpace(assumptions=((A_REAL, ">=", sympy.Integer(1)),)),
     [{A_REAL: 1}]),
    (A_REAL * (A_REAL - 1), InstanceSpace(assumptions=((A_REAL, "<", sympy.Integer(1)),)),
     [{A_REAL: 0}]),
    (A_REAL * (A_REAL - 1), InstanceSpace(assumptions=((A_REAL, "<=", sympy.Integer(0)),)),
     [{A_REAL: 0}]),
    (A_REAL * (A_REAL - 1), InstanceSpace(assumptions=((A_REAL, "=", sympy.Integer(1)),)),
     [{A_REAL: 1}]),
    (M_INT * (M_INT - 5), InstanceSpace({M_INT: (0, 3)}), [{M_INT: 0}]),
    (M_INT * (M_INT - 5), InstanceSpace({M_INT: (1, None)}), [{M_INT: 5}]),
    ((A_REAL - 1) ** 2, InstanceSpace(), [{A_REAL: 1}]),
    (A_REAL / (A_REAL + 1), InstanceSpace(), [{A_REAL: 0}]),
    (sympy.Integer(3), InstanceSpace(), []),
    (sympy.sin(A_REAL), InstanceSpace(), None),
    (A_REAL * B_REAL - 1, InstanceSpace(), None),
    (A_REAL**2 * B_REAL + B_REAL**2 * A_REAL + 1, InstanceSpace(), None),
])
def test_where_a_coefficient_vanishes_is_listed_exactly_inside_the_domain(coeff, space, where):
    assert vanishing_set(coeff, space) == where


@pytest.mark.parametrize("symbol, value, admissible", [
    (sympy.Symbol("r", rational=True), SQRT2, False),
    (sympy.Symbol("w", nonnegative=True), sympy.Integer(-1), False),
    (sympy.Symbol("v", negative=True), sympy.Integer(0), False),
    (sympy.Symbol("u", nonpositive=True), sympy.Integer(1), False),
    (sympy.Symbol("z", nonzero=True), sympy.Integer(0), False),
    (sympy.Symbol("v", negative=True), sympy.Integer(-2), True),
    (A_REAL, sympy.I, False),
    (A_REAL, sympy.Integer(0), True),
])
def test_a_root_outside_the_domain_of_its_symbol_is_not_a_case(symbol, value, admissible):
    assert _admissible(symbol, value, InstanceSpace()) is admissible


def test_a_case_restricts_the_assumptions_of_the_remaining_symbols():
    space = InstanceSpace(assumptions=((A_REAL + B_REAL, ">", sympy.Integer(0)),))
    restricted = restrict(space, {A_REAL: sympy.Integer(0)})
    assert restricted.assumptions == ((B_REAL, ">", sympy.Integer(0)),)


def test_the_asymptotic_order_of_a_term():
    assert asymptotic_order(3 * N**2 + N, N) == (3, 2)
    assert asymptotic_order((2 * N + 1) / N**3, N) == (2, -2)
    assert asymptotic_order(sympy.sqrt(N) / 5 + 1 / N, N) == (Q(1, 5), Q(1, 2))
    assert asymptotic_order(A_REAL * N, N) is None
    assert asymptotic_order(sympy.sin(N), N) is None
    assert asymptotic_order(sympy.Integer(0), N) is None


# --- the limit rule ------------------------------------------------------------------------------

GRUNTZ_PROVED = "limit: Gruntz algorithm (sympy.limit): the limit is "


@pytest.mark.parametrize("header, claim, verdict, detail, counterexample", [
    ("", "1/n -> n as n -> oo", "UNDECIDED",
     "limit: the limit value must not depend on the limit variable", None),
    ("", "(2n^2 + 1)/n^2 -> 2 as n -> oo", "PROVED", "limit: Puiseux: the limit is 2", None),
    ("", "n^2/(n + 1) -> oo as n -> oo", "PROVED", "limit: Puiseux: the limit is oo", None),
    ("", "n^2/(n + 1) -> 2 as n -> oo", "REFUTED", "limit: the limit is oo, not 2",
     {"instance": {}, "limit": "oo", "claimed": "2"}),
    ("", "(2n^2 + 1)/n^2 -> 3 as n -> oo", "REFUTED", "limit: the limit is 2, not 3",
     {"instance": {}, "limit": "2", "claimed": "3"}),
    # only a limit with no parameter falls back to Gruntz
    ("", "n*sin(1/n) -> 1 as n -> oo", "PROVED", GRUNTZ_PROVED + "1", None),
    ("", "n*sin(1/n) -> 2 as n -> oo", "REFUTED", "limit: the limit is 1, not 2",
     {"instance": {}, "lhs": "1", "rhs": "2", "limit": "1", "claimed": "2"}),
    ("", "n^(1/n)*n -> oo as n -> oo", "PROVED", GRUNTZ_PROVED + "oo", None),
    ("", "n^(1/n)*n -> 1 as n -> oo", "REFUTED", "limit: the limit is oo, not 1",
     {"instance": {}, "lhs": "oo", "rhs": "1"}),
    ("", "n^(1/n)*n -> -oo as n -> oo", "REFUTED", "limit: the limit is oo, not -oo",
     {"instance": {}, "lhs": "oo", "rhs": "-oo"}),
    ("", "sin(n) -> 0 as n -> oo", "UNDECIDED",
     "limit: n occurs other than in powers with rational exponents; sin at the limit oo; Gruntz "
     "returned AccumBounds(-1, 1)", None),
    ("let a : real", "a*n*sin(1/n) -> a as n -> oo", "UNDECIDED",
     "limit: n occurs other than in powers with rational exponents; 0 * oo or an undetermined "
     "sign (a)", None),
    # every parameter case, including where a leading coefficient vanishes
    ("let a : real", "(a*n^2 + n)/(a*n^2 + n + 1) -> 1 as n -> oo", "PROVED",
     "limit: Puiseux, in every parameter case: a != 0: 1; a = 0: 1", None),
    ("let a : real", "a*n/(a*n + 1) -> 1 as n -> oo", "REFUTED",
     "limit: the limit where a = 0 is 0, not 1", {"instance": {"a": "0"}, "limit": "0",
                                                   "claimed": "1"}),
    ("let a : real", "(a*n^2 + n)/(a*n^2 + 1) -> 1 as n -> oo", "REFUTED",
     "limit: the limit where a = 0 is oo, not 1", {"instance": {"a": "0"}, "limit": "oo",
                                                    "claimed": "1"}),
    ("let a : real", "n/(a*n + 1) -> 1/a as n -> oo", "UNDECIDED",
     "limit: the claimed value is undefined where a = 0", None),
    ("let a : positive real", "(a - 1)*n/((a - 1)*n + 1) -> 1 as n -> oo", "REFUTED",
     "limit: the limit where a = 1 is 0, not 1", {"instance": {"a": "1"}, "limit": "0",
                                                   "claimed": "1"}),
    ("let a : positive real\nassume a > 1", "(a - 1)*n/((a - 1)*n + 1) -> 1 as n -> oo", "PROVED",
     "limit: Puiseux, in every parameter case: a - 1 != 0: 1", None),
    ("let a, b : real", "(a*n + b)/(n + 1) -> b as n -> oo", "REFUTED",
     "limit: the limit is a, not b", {"instance": {"a": "2", "b": "1/3"}, "limit": "2",
                                      "claimed": "1/3"}),
    ("let a : real", "a*n^2/(n + 1) -> oo as n -> oo", "REFUTED",
     "limit: the limit where a = 0 is 0, not oo", {"instance": {"a": "0"}, "limit": "0",
                                                    "claimed": "oo"}),
    ("let a : positive real", "a*n^2/(n + 1) -> oo as n -> oo", "PROVED",
     "limit: Puiseux: the limit is oo", None),
    ("let a : positive real", "a*n^2/(n + 1) -> 0 as n -> oo", "REFUTED",
     "limit: the limit is oo, not 0", {"instance": {}, "limit": "oo", "claimed": "0"}),
    ("let a : real", "(sin(a)*n + 1)/(sin(a)*n + 2) -> 1 as n -> oo", "UNDECIDED",
     "limit: where sin(a) = 0: the leading coefficient sin(a) may vanish for some parameters, and "
     "where it does cannot be listed exactly", None),
])
def test_the_limit_rule(header, claim, verdict, detail, counterexample):
    lhs, rest = claim.split(" -> ", 1)
    result = checked(theorem("let n : positive integer\n" + header, claim,
                             f"{lhs}\n-> {rest}   by limit"))
    (step,) = result.steps
    assert (result.verdict.value, step.detail) == (verdict, detail)
    assert step.counterexample == counterexample
