"""A verdict means exactly what it says: ranges speak of the claim's declared domain, a
contradicted step is DISPUTED, budgets count CPU time."""

from __future__ import annotations

import json
import time

import pytest

from tests.conftest import run
from tpcheck import check_text
from tpcheck.kernel import REGISTRY, Judgement, Options, Verdict, rule
from tpcheck.kernel.bounded import run_bounded
from tpcheck.report import EXIT_DISAGREEMENT, EXIT_OK, EXIT_UNDECIDED, Report, verdict_phrase


def report_of(text: str, require: str | None = None, **options) -> Report:
    report = Report("test", [run(text, **options)],
                    require=Verdict(require.upper()) if require else None)
    return report


FALSE_FOR_ALL_K = """
theorem odd_double_factorial
  "A false claim that holds at k = 0."
  for all k >= 0
  let Z ~ Normal(0, 1)
  claim E[Z^(2k)] = (2k+1)!!
proof
  E[Z^(2k)]
    = (2k-1)!!   by gaussian_moment
    = (2k+1)!!   by eval(k in 0..0)
qed
"""


def test_a_for_all_claim_checked_on_one_instance_is_partial_not_verified():
    report = report_of(FALSE_FOR_ALL_K, witnesses=False)
    t = report.theorems[0]
    assert t.verdict is Verdict.PARTIAL
    assert t.range == {"k": [0, 0]} and t.domain == {"k": [0, None]}
    assert verdict_phrase(t) == "PARTIAL: checked on k in 0..0 only (claimed for all k >= 0)"
    assert t.steps[1].verdict is Verdict.PARTIAL and t.steps[1].judged is Verdict.VERIFIED
    assert "PARTIAL: checked on k in 0..0 only" in report.to_text()
    data = json.loads(report.to_json())["files"][0]["theorems"][0]
    assert data["verdict"] == "PARTIAL" and data["domain"] == {"k": [0, None]}
    assert data["steps"][1]["judged"] == "VERIFIED"


def test_partial_fails_require_verified_and_passes_require_partial():
    assert report_of(FALSE_FOR_ALL_K, "verified", witnesses=False).exit_code == EXIT_UNDECIDED
    assert report_of(FALSE_FOR_ALL_K, "partial", witnesses=False).exit_code == EXIT_OK


def test_steps_checked_on_disjoint_ranges_leave_the_theorem_undecided():
    text = """
theorem disjoint
  "k^2 = 1, false; the two steps are checked on different instances."
  for all k >= 0
  claim k^2 = 1
proof
  k^2
    = k   by eval(k in 0..0)
    = 1   by eval(k in 1..1)
qed
"""
    t = report_of(text, witnesses=False).theorems[0]
    assert t.verdict is Verdict.UNDECIDED and t.range is None
    assert "no instance of k is checked by every step" in t.note


def test_a_declared_range_must_be_covered():
    text = """
theorem declared
  "2^k = 2^k on k = 0..6, checked at 0 only."
  k in 0..6
  claim 2^k = 2^k
proof
  2^k
    = 2^k  by eval(k in 0..0)
qed
"""
    t = report_of(text, witnesses=False).theorems[0]
    assert t.verdict is Verdict.PARTIAL and t.range == {"k": [0, 0]}
    assert "claimed for k in 0..6" in verdict_phrase(t)


def test_a_range_outside_the_declared_one_checks_nothing():
    text = """
theorem elsewhere
  "checked at k = 10, declared on 1..3."
  k in 1..3
  claim 2^k = 2^k
proof
  2^k
    = 2^k  by eval(k in 10..10)
qed
"""
    t = report_of(text, witnesses=False).theorems[0]
    assert t.verdict is Verdict.UNDECIDED


def test_the_declared_range_checked_whole_is_verified_on_it():
    text = """
theorem whole
  "2^k = 2^k on k = 0..6."
  k in 0..6
  claim 2^k + 0 = 2^k
proof
  2^k + 0
    = 2^k  by eval(k in 0..9)
qed
"""
    t = report_of(text, witnesses=False).theorems[0]
    assert t.verdict is Verdict.VERIFIED and t.range == {"k": [0, 6]}
    assert verdict_phrase(t) == "VERIFIED on k in 0..6"


def test_a_range_over_an_integer_symbol_is_partial():
    text = """
theorem symbol
  "n^2 >= n for positive integers n, checked on 1..5 only."
  let n : positive integer
  claim n*n = n^2
proof
  n*n
    = n^2  by eval(n in 1..5)
qed
"""
    t = report_of(text, witnesses=False).theorems[0]
    assert t.verdict is Verdict.PARTIAL


def test_proved_with_a_universal_parameter_says_so():
    text = FALSE_FOR_ALL_K.replace("(2k+1)!!", "(2k-1)!!").replace(
        "    = (2k-1)!!   by eval(k in 0..0)\n", "")
    report = report_of(text, witnesses=False)
    t = report.theorems[0]
    assert t.verdict is Verdict.PROVED
    assert "PROVED for all k >= 0" in report.to_text()


def test_a_rule_cannot_return_the_kernel_verdicts(fake_rule):
    fake_rule("sneaky", Judgement(Verdict.PARTIAL, "half", range={"x": [0, 1]}))
    fake_rule("empty", Judgement(Verdict.VERIFIED, "none", range={"k": [1, 0]}))
    fake_rule("liar", Judgement(Verdict.DISPUTED, "?"))
    head = 'theorem t\n "s"\n for all k >= 0\n claim k = k\nproof\n k\n = k by '
    for name in ("sneaky", "empty", "liar"):
        step = run(head + name + "\nqed\n", witnesses=False).theorems[0].steps[0]
        assert step.verdict is Verdict.UNDECIDED, name


CONTRADICTED = ('theorem t\n "s"\n let x : real\n claim x + 1 = x + 2\nproof\n x + 1\n'
                ' = x + 2 by unsound\nqed\n')


def test_a_contradicted_step_is_disputed_everywhere(fake_rule):
    fake_rule("unsound", Judgement(Verdict.PROVED, "always yes"))
    report = report_of(CONTRADICTED)
    t = report.theorems[0]
    step = t.steps[0]
    assert step.verdict is Verdict.DISPUTED and step.judged is Verdict.PROVED
    assert t.verdict is Verdict.DISPUTED and not t.verdict.passes
    assert report.exit_code == EXIT_DISAGREEMENT
    data = json.loads(report.to_json())["files"][0]["theorems"][0]
    assert data["verdict"] == "DISPUTED" and data["steps"][0]["verdict"] == "DISPUTED"
    assert "PROVED" not in report.to_text().split("\n")[1]


def test_a_contradicted_step_is_disputed_in_latex(fake_rule, tmp_path):
    from tpcheck.latex_build import build_latex

    fake_rule("unsound", Judgement(Verdict.PROVED, "always yes"))
    p = tmp_path / "x.tp"
    p.write_text(CONTRADICTED)
    tex, _, _ = build_latex([str(p)], Options(), bibs=[])
    assert r"\failed{disputed}" in tex and r"\verdict{proved}" not in tex


def test_the_budget_is_cpu_time_not_wall_time():
    # Sleeping uses no CPU: a wall-clock budget would stop it, a CPU budget does not.
    out = run_bounded(time.sleep, (2.0,), seconds=1)
    assert out.ok, out.reason


def _spin() -> None:
    while True:
        pass


def test_a_verifier_that_spins_runs_out_of_cpu_time():
    start = time.monotonic()
    out = run_bounded(_spin, (), seconds=1)
    assert not out.ok and "CPU-time budget" in out.reason
    assert time.monotonic() - start < 30


def test_rules_that_spin_are_undecided_with_the_cpu_budget_named(fake_rule):
    def spin(goal, args, ctx):
        """Never returns."""
        _spin()

    rule("spin", human="spin")(spin)
    try:
        text = 'theorem t\n "s"\n let x : real\n claim x = x\nproof\n x\n = x by spin\nqed\n'
        report = check_text(text, "<test>", Options(budget=1, witnesses=False))
    finally:
        REGISTRY.pop("spin")
    step = report.theorems[0].steps[0]
    assert step.verdict is Verdict.UNDECIDED and "CPU-time budget of 1 s" in step.detail


# ---- approximate claims, and the floor under floating-point agreement ----

def one_step(claim_rhs: str, step: str, lhs: str = "E[Z^6]", crosscheck: str = "",
             decl: str = "let Z ~ Normal(0, 1)") -> str:
    return (f'theorem t\n "s"\n {decl}\n claim {lhs} {claim_rhs}\nproof\n {lhs}\n'
            f"   {step}\nqed\n{crosscheck}")


@pytest.mark.parametrize("claim, step, lhs, crosscheck", [
    ("= 16", "= 16 by numeric", "E[Z^6]", "crosscheck mpmath digits 3"),
    ("= 0.3291", "= 0.3291 by numeric", "1/pi", "crosscheck mpmath digits 2"),
    ("= 3.1416", "= 3.1416 by numeric", "pi", ""),
])
def test_a_file_cannot_lower_the_digits_floor(claim, step, lhs, crosscheck):
    t = run(one_step(claim, step, lhs, crosscheck), witnesses=False).theorems[0]
    assert t.verdict is Verdict.REFUTED


def test_numeric_reports_the_digits_it_saw():
    t = run(one_step("= 15", "= 15 by numeric"), witnesses=False).theorems[0]
    assert t.verdict is Verdict.CORROBORATED
    ev = t.steps[0].evidence[0]
    assert ev.data["digits"] >= 30 and "significant digits" in t.steps[0].detail


def test_numeric_judges_a_tolerance():
    ok = run(one_step("~= 3.1416 within 1e-4", "~= 3.1416 within 1e-4 by numeric", "pi"),
             witnesses=False).theorems[0]
    assert ok.verdict is Verdict.CORROBORATED
    bad = run(one_step("~= 3.1416 within 1e-6", "~= 3.1416 within 1e-6 by numeric", "pi"),
              witnesses=False).theorems[0]
    assert bad.verdict is Verdict.REFUTED


def test_tolerances_add_up_along_the_chain():
    text = ('theorem t\n "s"\n claim pi ~= 3.14 within 1/500\nproof\n pi\n'
            ' ~= 3.1416 within 1/10000 by numeric\n ~= 3.14 within 1/625 by numeric\nqed\n')
    report = run(text, witnesses=False)
    assert not report.errors and report.theorems[0].verdict is Verdict.CORROBORATED
    over = text.replace("within 1/500", "within 1/1000")
    assert "tolerances add up to 17/10000" in run(over).errors[0]


def test_an_approximate_chain_never_proves_an_exact_claim():
    text = ('theorem t\n "s"\n claim pi = 3.1416\nproof\n pi\n'
            ' ~= 3.1416 within 1e-4 by numeric\nqed\n')
    assert "establish '~='" in run(text).errors[0]


def test_no_approximation_before_a_limit():
    text = ('theorem t\n "s"\n let n : positive integer\n claim 1/n -> 0 within 1e-3 as n -> oo\n'
            'proof\n 1/n\n ~= 1/n + 1e-4 within 1e-3 by numeric\n -> 0 as n -> oo by limit\nqed\n')
    assert "a limit of an approximation need not exist" in run(text).errors[0]


def test_a_tolerance_must_be_a_positive_rational():
    text = one_step("~= 3 within -1", "~= 3 within -1 by numeric", "pi")
    assert "positive rational" in run(text).errors[0]
    assert "needs its tolerance" in run(one_step("~= 3", "~= 3 by numeric", "pi")).errors[0]


def test_an_exact_rule_may_justify_an_approximate_step_but_not_refute_it():
    good = ('theorem t\n "s"\n let x : real\n claim x + x ~= 2x within 1e-9\nproof\n x + x\n'
            ' ~= 2x within 1e-9 by algebra\nqed\n')
    assert run(good, witnesses=False).theorems[0].verdict is Verdict.PROVED
    near = good.replace("2x", "2x + 1e-12")
    step = run(near, witnesses=False).theorems[0].steps[0]
    assert step.verdict is Verdict.UNDECIDED and "does not judge the tolerance" in step.detail


def test_scientific_notation_is_exact():
    from sympy import Rational

    from tpcheck.lang.elaborate import _rational

    assert _rational("1e-19") == Rational(1, 10**19)
    assert _rational("2.5E+3") == 2500


# ---- numbers proved by ball arithmetic ----

@pytest.mark.parametrize("claim, verdict", [
    ("= 3.1416", Verdict.REFUTED),
    ("~= 3.1416 within 1e-4", Verdict.PROVED),
    ("~= 3.1416 within 1e-6", Verdict.REFUTED),
    ("~= 3.14159265358979323846 within 1e-20", Verdict.PROVED),
])
def test_enclosure_decides_numbers(claim, verdict):
    text = one_step(claim, claim + " by enclosure", "pi", decl="let x : real")
    assert run(text, witnesses=False).theorems[0].verdict is verdict


def test_enclosure_proves_a_gaussian_integral_and_refutes_a_wrong_digit():
    text = """
theorem t
  "s"
  let Z ~ Normal(0, 1)
  claim E[Z * tanh(Z)] ~= 0.6057055096021588255835402 within 1e-25
proof
  E[Z * tanh(Z)]
    = E[1 - tanh(Z)^2]                           by stein
    ~= 0.6057055096021588255835402 within 1e-25  by enclosure
qed
"""
    t = run(text, witnesses=False).theorems[0]
    assert t.verdict is Verdict.PROVED
    assert "arb" in t.rests_on["algorithms"]
    wrong = text.replace("0.6057055096021588255835402", "0.6057055096021588255835412")
    assert run(wrong, witnesses=False).theorems[0].verdict is Verdict.REFUTED


def test_enclosure_refuses_symbols():
    text = one_step("~= 1 within 1e-3", "~= 1 within 1e-3 by enclosure", "x", decl="let x : real")
    step = run(text, witnesses=False).theorems[0].steps[0]
    assert step.verdict is Verdict.UNDECIDED and "not constants" in step.detail


# ---- what a verdict rests on ----

def test_each_theorem_names_what_it_rests_on():
    text = """
theorem gauss
  "s"
  for all k >= 0
  let Z ~ Normal(0, 1)
  claim E[Z^(2k)] = (2k)!/(2^k * k!)
proof
  E[Z^(2k)]
    = (2k - 1)!!          by gaussian_moment
    = (2k)!/(2^k * k!)    by definition(doublefactorial)
qed

theorem interest
  "s"
  let n : positive integer
  claim (1 + 1/n)^n -> exp(1) as n -> oo
proof
  (1 + 1/n)^n
    -> exp(1) as n -> oo    by limit
qed
"""
    report = report_of(text, witnesses=False)
    gauss, interest = report.theorems
    assert gauss.rests_on["rules"] == ["gaussian_moment", "definition"]
    assert {"gaussian-closed-forms", "canonical-form"} <= set(
        gauss.rests_on["algorithms"])
    assert interest.rests_on["rules"] == ["limit"]
    data = json.loads(report.to_json())["files"][0]["theorems"][0]
    assert data["rests_on"] == gauss.rests_on


def test_trust_command_prints_the_base(tmp_path, capsys):
    from tpcheck.cli import main

    p = tmp_path / "x.tp"
    p.write_text(one_step("~= 3.1416 within 1e-4", "~= 3.1416 within 1e-4 by enclosure", "pi",
                          decl="let x : real"))
    assert main(["trust", str(p)]) == 0
    out = capsys.readouterr().out
    assert "rules: enclosure" in out and "rests on: arb" in out
    assert "arb: Arb ball arithmetic" in out and "kernel:" in out


def test_the_design_doc_lists_the_trusted_base(root):
    from tpcheck.trusted import CATALOGUE, FOUNDATION

    text = (root / "docs" / "design.md").read_text()
    section = text.split("## The trusted base", 1)[1].split("\n## ", 1)[0]
    for key in [*FOUNDATION, *CATALOGUE]:
        assert f"`{key}`" in section, key


def test_only_catalogued_names_can_be_recorded():
    from tpcheck.trusted import rests_on

    with pytest.raises(KeyError):
        rests_on("my-own-oracle")


def test_corroboration_below_the_digits_floor_is_not_accepted(fake_rule):
    from tpcheck.kernel import Evidence

    fake_rule("few_digits", Judgement(Verdict.CORROBORATED, "3 digits",
                                      evidence=[Evidence("mpmath", True, "3", {"digits": 3})]))
    text = 'theorem t\n "s"\n let x : real\n claim x = x\nproof\n x\n = x by few_digits\nqed\n'
    step = run(text, witnesses=False).theorems[0].steps[0]
    assert step.verdict is Verdict.UNDECIDED and "at least 15 digits" in step.detail


ZDOT = """
theorem zdot
  "u = A^T tanh(A x): (1/n) x.u -> E sech^2(Z)."
  let n : positive integer
  let A ~ Matrix(n)
  let x ~ Vector(n)
  let u = transpose(A) * tanh(A*x)
  claim avg(x * u) -> VALUE as n -> oo
proof
  avg(x * u)
    -> VALUE as n -> oo    by master_theorem
qed
CROSSCHECK
"""


@pytest.mark.parametrize("value, crosscheck, verdict", [
    ("0.6057055096021588255835402 within 1e-25", "", Verdict.CORROBORATED),
    ("0.6057055096021588255835402", "", Verdict.UNDECIDED),  # a truncated decimal, exactly
    ("0.6 within 1e-2", "", Verdict.CORROBORATED),
    ("0.6", "crosscheck mpmath digits 4", Verdict.REFUTED),
    ("0.6 within 1e-3", "", Verdict.REFUTED),
])
def test_master_theorem_numeric_limits_are_approximate(value, crosscheck, verdict):
    text = ZDOT.replace("VALUE", value).replace("CROSSCHECK", crosscheck)
    t = run(text, witnesses=False).theorems[0]
    assert t.verdict is verdict, t.steps[0].detail


def test_master_theorem_proves_an_exact_limit_within_a_tolerance():
    text = """
theorem relu_mean
  "avg(relu(h)) -> 1/sqrt(2 pi) = 0.3989422804..."
  let n : positive integer
  let A ~ Matrix(n)
  let x ~ Vector(n)
  claim avg(relu(A*x)) -> 0.3989422804 within 1e-10 as n -> oo
proof
  avg(relu(A*x))
    -> 0.3989422804 within 1e-10 as n -> oo    by master_theorem
qed
"""
    t = run(text, witnesses=False).theorems[0]
    assert t.verdict is Verdict.PROVED and "arb" in t.rests_on["algorithms"]
    wrong = text.replace("0.3989422804 within", "0.3989422904 within")
    assert run(wrong, witnesses=False).theorems[0].verdict is Verdict.REFUTED


# ---- the cited rule must do the work ----

def test_a_closed_form_step_citing_wick_is_not_accepted():
    text = ('theorem t\n "s"\n for all k >= 0\n claim (2k-1)!! = (2k)!/(2^k * k!)\nproof\n'
            ' (2k-1)!!\n = (2k)!/(2^k * k!) by wick\nqed\n')
    step = run(text, witnesses=False).theorems[0].steps[0]
    assert step.verdict is Verdict.UNDECIDED
    assert "true, but not by wick: try algebra" in step.detail


def test_a_true_step_by_the_wrong_rule_names_the_rules_that_give_it():
    step = run(one_step("= 3", "= 3 by linearity", "E[Z^4]"), witnesses=False).theorems[0].steps[0]
    assert step.verdict is Verdict.UNDECIDED
    assert "true, but not by linearity: try gaussian_moment or wick" in step.detail


def test_a_false_step_is_refuted_whatever_rule_it_names():
    t = run(one_step("= 2", "= 2 by linearity", "E[Z^4]"), witnesses=False).theorems[0]
    assert t.verdict is Verdict.REFUTED


@pytest.mark.parametrize("rule_name", ["genus_expansion", "pairings_count", "catalan_recurrence",
                                       "independence", "stein"])
def test_specific_rules_refuse_steps_that_algebra_alone_gives(rule_name):
    text = ('theorem t\n "s"\n let x : real\n claim (x + 1)^2 = x^2 + 2x + 1\nproof\n'
            f' (x + 1)^2\n = x^2 + 2x + 1 by {rule_name}\nqed\n')
    step = run(text, witnesses=False).theorems[0].steps[0]
    assert step.verdict is Verdict.UNDECIDED, step.detail


def test_eval_with_no_admissible_instance_is_undecided():
    text = ('theorem t\n "s"\n k in 0..3\n assume k >= 10\n claim 2^k = 2^k + 0\nproof\n'
            ' 2^k\n = 2^k + 0 by eval\nqed\n')
    step = run(text, witnesses=False).theorems[0].steps[0]
    assert step.verdict is Verdict.UNDECIDED and "no instance" in step.detail


def test_eval_names_the_integrator_it_trusts():
    text = ('theorem t\n "s"\n claim integral(x^2*exp(-x), x, 0, 1) = 2 - 5*exp(-1)'
            '\nproof\n integral(x^2*exp(-x), x, 0, 1)\n = 2 - 5*exp(-1) by eval\nqed\n')
    t = run(text, witnesses=False).theorems[0]
    assert t.verdict is Verdict.PROVED and "sympy-integrate" in t.rests_on["algorithms"]


def test_assumptions_on_instances_are_decided_exactly_or_not_at_all():
    import sympy

    from tpcheck.engines.instances import InstanceSpace

    k = sympy.Symbol("k", integer=True)
    space = InstanceSpace(assumptions=((sympy.pi * k, "<=", sympy.Integer(22) * k / 7),))
    assert space.admits({k: sympy.Integer(1)}) is True  # pi <= 22/7, certified by Arb
    assert space.admits({k: sympy.Integer(-1)}) is False
    assert space.admits({k: sympy.Integer(0)}) is True
    undecidable = InstanceSpace(assumptions=((sympy.zeta(3) * k, ">", sympy.Integer(0)),))
    assert undecidable.admits({k: sympy.Integer(1)}) is None
    assert not undecidable.satisfies({k: sympy.Integer(1)})


def test_a_memoised_answer_records_its_ledger_again():
    from tpcheck.trusted import memoised, rests_on, with_ledger

    calls = []

    @memoised
    def square(x):
        calls.append(x)
        rests_on("arb")
        return x * x

    assert with_ledger(square, 3) == (9, ["arb"])
    assert with_ledger(square, 3) == (9, ["arb"])  # remembered, and still on the ledger
    assert calls == [3]


def test_nested_memoised_calls_each_keep_their_own_ledger():
    from tpcheck.trusted import memoised, rests_on, with_ledger

    @memoised
    def inner(x):
        return x  # records nothing: its list of names stays empty, like the outer's so far

    @memoised
    def outer(x):
        inner(x)
        rests_on("arb")
        return x

    assert with_ledger(outer, 1) == (1, ["arb"])
    assert with_ledger(outer, 1) == (1, ["arb"])  # the memo kept "arb" for the outer call
