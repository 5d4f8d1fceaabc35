"""The tests the rules' mutants are held against (tests/test_mutation_core.py, part "rules").

Everything is checked in this process (``budget=None``: no forked child), so that mutmut sees
which rule each test runs and runs it against that rule's mutants:

- every theorem of the proof library, which must keep the verdict test_library promises;
- every file of tests/bad_proofs/, which must be rejected the way its first line says;
- a fixed sample of the library's mutants (tests/mutation/library.py), true and false. A false
  mutant (by the harness's independent oracle) must never pass.

Each of them must also give, step by step, the report recorded in
tests/snapshots/rule_mutants.json: verdict, reason, evidence, counterexample and what the step
rests on. A mutated rule that turns a refutation into UNDECIDED, proves less, names the wrong
rule or records the wrong evidence is caught there.

Rewrite the snapshot after an intended change with ``TPCHECK_UPDATE_SNAPSHOTS=1``.
"""

from __future__ import annotations

import json
import os
import re
import zlib
from pathlib import Path

import pytest

from tests.mutation.library import (
    FALSE,
    FULL_PER_THEOREM,
    PROOFS,
    judge_mutant,
    library_mutants,
    per_theorem,
    select,
    theorem_sources,
)
from tests.test_bad_proofs import BAD, expectation
from tests.test_library import EXPECTED
from tpcheck.api import check, check_text
from tpcheck.kernel import Options

pytestmark = pytest.mark.slow  # about 30 s idle; run by the mutation test's "rules" part

IN_PROCESS = Options(budget=None, witnesses=False, run_budget=None)
SNAPSHOT = Path(__file__).parent / "snapshots" / "rule_mutants.json"
SAMPLE, SEED = 160, 20261130
PASSING = {"PROVED", "VERIFIED", "PARTIAL", "CORROBORATED"}
#: Theorems that take seconds each; they are checked by test_library, and their rules are
#: exercised by faster theorems here.
SLOW = {"semicircle_by_tensor_programs_instances", "nngp_relu_depth3", "ntk_relu_depth3",
        "nngp_erf_depth3", "ntk_erf_depth3", "ntk_identity_depth3", "ntk_identity_with_bias_depth3",
        "mlp_declaration_is_its_program", "nngp_relu_all_depths", "ntk_relu_all_depths",
        "ntk_erf_all_depths"}


def report_of(text: str, label: str, name: str) -> tuple[str, list]:
    """The theorem's verdict and, step by step, what the report says of it."""
    report = check_text(text, label, IN_PROCESS)
    if report.errors:
        return "FILE ERROR", [e.splitlines()[0] for e in report.errors]
    (result,) = [t for t in report.theorems if t.name == name]
    return result.verdict.value, [step_record(s) for s in result.steps]


#: Rules whose evidence is a floating-point experiment (numpy training at several widths): their
#: numbers may differ in the last digits from one machine's BLAS to another's, so the snapshot
#: keeps their verdict, the words of their detail and the kinds of their evidence.
EXPERIMENTS = {"coord_check", "lr_transfer"}
DECIMAL = re.compile(r"[+-]?\d+\.\d+")


def step_record(step) -> list:  # noqa: ANN001
    if step.rule in EXPERIMENTS:
        return [step.verdict.value, DECIMAL.sub("#", step.detail), [[e.kind, e.ok] for e in step.evidence],
                None, sorted(step.rests_on), step.range]
    cex = json.loads(json.dumps(step.counterexample, default=str, sort_keys=True))
    evidence = [[e.kind, e.ok, e.detail, json.loads(json.dumps(e.data, default=str, sort_keys=True))]
                for e in step.evidence]
    return [step.verdict.value, step.detail, evidence, cex, sorted(step.rests_on), step.range]


def recorded(label: str, verdict: str, steps: list, snapshot: dict, oracle: str = "") -> None:
    """Compare with the snapshot (or write it, when updating)."""
    if os.environ.get("TPCHECK_UPDATE_SNAPSHOTS") == "1":
        snapshot[label] = {"oracle": oracle, "verdict": verdict, "steps": steps}
        return
    entry = RECORDED.get(label)
    assert entry is not None, f"not in the snapshot (set TPCHECK_UPDATE_SNAPSHOTS=1): {label}"
    assert (verdict, steps) == (entry["verdict"], entry["steps"]), label


SOURCES = [s for f in sorted(PROOFS.glob("*.tp")) for s in theorem_sources(f)
           if s.tree.name in EXPECTED and s.tree.name not in SLOW]


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.tree.name)
def test_a_library_theorem_keeps_its_verdict(source, snapshot):
    name = source.tree.name
    label = f"{source.file}::{name}"
    verdict, steps = report_of(source.render({}), label, name)
    assert verdict == EXPECTED[name]
    recorded(label, verdict, steps, snapshot)


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_a_bad_proof_is_rejected_as_its_first_line_says(path, snapshot):
    expected = expectation(path)
    report = check(path, IN_PROCESS)
    if expected == "error":
        assert report.files[0].errors and not report.theorems
        errors = [e.splitlines()[0].replace(str(path), path.name) for e in report.files[0].errors]
        recorded(path.name, "FILE ERROR", errors, snapshot)
    else:
        assert [t.verdict.value for t in report.theorems] == [expected]
        recorded(path.name, expected, [step_record(s) for s in report.theorems[0].steps], snapshot)


def _sample():
    return select(per_theorem(library_mutants(), FULL_PER_THEOREM), SAMPLE, SEED)


def _recorded() -> dict[str, dict[str, str]]:
    if os.environ.get("TPCHECK_UPDATE_SNAPSHOTS") == "1" or not SNAPSHOT.exists():
        return {}
    return json.loads(SNAPSHOT.read_text())


MUTANTS = [m for m in _sample() if m.theorem not in SLOW]
RECORDED = _recorded()


@pytest.fixture(scope="session")
def snapshot():
    """Mutants' verdicts as checked now, written to the snapshot when updating."""
    seen: dict[str, dict[str, str]] = {}
    yield seen
    if os.environ.get("TPCHECK_UPDATE_SNAPSHOTS") == "1" and seen:
        # entries of tests that did not run (a -k selection) are kept
        old = json.loads(SNAPSHOT.read_text()) if SNAPSHOT.exists() else {}
        SNAPSHOT.write_text(json.dumps(dict(sorted({**old, **seen}.items())), indent=1) + "\n")


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: f"{m.theorem}-{zlib.crc32(m.text.encode()):08x}")
def test_a_library_mutant_keeps_its_recorded_verdict(mutant, snapshot):
    verdict, steps = report_of(mutant.text, f"{mutant.file}::{mutant.theorem}", mutant.theorem)
    if os.environ.get("TPCHECK_UPDATE_SNAPSHOTS") == "1":
        oracle = judge_mutant(mutant).status
    else:
        oracle = RECORDED.get(mutant.label, {}).get("oracle", "")
    assert not (oracle == FALSE and verdict in PASSING), (mutant.label, verdict)
    recorded(mutant.label, verdict, steps, snapshot, oracle)


def theorem(header: str, claim: str, chain: str) -> str:
    """A one-theorem file named t: ``header`` lines, the claim, the chain (first line the start)."""
    lines = ["theorem t", '  "a statement"', *(f"  {h}" for h in header.strip().splitlines() if h.strip()),
             f"  claim {claim}", "proof", *(f"  {c}" for c in chain.strip().splitlines()), "qed"]
    return "\n".join(lines) + "\n"


GAUSSIAN = "let s : positive real\nlet Z ~ Normal(0, s^2)"
IID = "let n : positive integer\nlet X[1..n] iid with E[X] = 0, E[X^2] = 1, E[X^3] = m3, E[X^4] = m4"
RHO = "let rho(x) = sqrt(4 - x^2)/(2pi)"

#: Steps the library does not take, each on a path of a rule that only such a step reaches:
#: name -> (header, claim, chain, the verdict the mathematics asks for).
CASES = {
    # definitions
    "narayana_by_definition": ("let k : positive integer", "narayana(k, 2) = binomial(k, 2)*binomial(k, 1)/k",
                               "narayana(k, 2)\n= binomial(k, 2)*binomial(k, 1)/k by definition(narayana)",
                               "PROVED"),
    "narayana_number": ("", "narayana(4, 2) = 6",
                        "narayana(4, 2)\n= binomial(4, 2)*binomial(4, 1)/4 by definition(narayana)\n"
                        "= 6 by eval", "PROVED"),
    "even_double_factorial": ("let k : nonnegative integer", "(2k)!! = 2^k * k!",
                              "(2k)!!\n= 2^k * k! by definition(doublefactorial)", "PROVED"),
    "even_double_factorial_off_by_one": ("let k : nonnegative integer", "(2k)!! = 2^k * (k + 1)!",
                                         "(2k)!!\n= 2^k * (k + 1)! by definition(doublefactorial)",
                                         "REFUTED"),
    # a true step that the cited rule does not give names the rules that do
    "gaussian_moment_cited_as_linearity": (GAUSSIAN, "E[Z^2] = s^2", "E[Z^2]\n= s^2 by linearity",
                                           "UNDECIDED"),
    "algebra_cited_as_gaussian_moment": (GAUSSIAN, "2*E[Z^2] = E[Z^2] + E[Z^2]",
                                         "2*E[Z^2]\n= E[Z^2] + E[Z^2] by gaussian_moment", "UNDECIDED"),
    "family_moment_cited_as_wick": (IID, "E[X[1]^4] = m4", "E[X[1]^4]\n= m4 by wick", "UNDECIDED"),
    "wick_cited_as_independence": (GAUSSIAN, "E[Z^4] = 3s^4", "E[Z^4]\n= 3s^4 by independence", "UNDECIDED"),
    # evaluation
    "eval_finite_product": ("", "prod(i, i = 1..5) = 120", "prod(i, i = 1..5)\n= 120 by eval", "PROVED"),
    "eval_expectation_of_a_constant": ("let a : real\nlet Z ~ Normal(0, 1)", "E[a^2] + E[Z^2] = a^2 + E[Z^2]",
                                       "E[a^2] + E[Z^2]\n= a^2 + E[Z^2] by eval", "PROVED"),
    "eval_symbolic_sum": ("let n : positive integer", "sum(i, i = 1..n) = n*(n + 1)/2",
                          "sum(i, i = 1..n)\n= n*(n + 1)/2 by eval", "PROVED"),
    "eval_symbolic_sum_wrong": ("let n : positive integer", "sum(i, i = 1..n) = n^2/2",
                                "sum(i, i = 1..n)\n= n^2/2 by eval", "REFUTED"),
    # Stein's lemma with a mean
    "stein_with_mean_one": ("let s : positive real\nlet Z ~ Normal(1, s^2)", "E[Z^3] = E[Z^2] + 2s^2*E[Z]",
                            "E[Z^3]\n= E[Z^2] + 2s^2*E[Z] by stein", "PROVED"),
    "stein_forgetting_the_mean": ("let s : positive real\nlet Z ~ Normal(1, s^2)", "E[Z^3] = 2s^2*E[Z]",
                                  "E[Z^3]\n= 2s^2*E[Z] by stein", "REFUTED"),
    "gaussian_moment_with_mean": ("let Z ~ Normal(2, 1)", "E[Z^3] = 14", "E[Z^3]\n= 14 by gaussian_moment",
                                  "PROVED"),
    # sums of iid variables
    "zeroth_moment_of_a_sum": (IID + "\nlet S = sum(X[i], i = 1..n)/sqrt(n)", "E[S^0] = 1",
                               "E[S^0]\n= 1 by moment_expansion", "PROVED"),
    "second_moment_of_a_sum": (IID + "\nlet S = sum(X[i], i = 1..n)/sqrt(n)", "E[S^2] = 1",
                               "E[S^2]\n= 1 by moment_expansion", "PROVED"),
    "third_moment_of_a_sum_wrong": (IID + "\nlet S = sum(X[i], i = 1..n)/sqrt(n)", "E[S^3] = m3",
                                    "E[S^3]\n= m3 by moment_expansion", "REFUTED"),
    "pairings_of_an_odd_number": ("let k : nonnegative integer", "pairings(2k + 1) = 0",
                                  "pairings(2k + 1)\n= 0 by pairings_count", "PROVED"),
    "pairings_of_an_even_number": ("let k : nonnegative integer", "pairings(2k) = (2k - 1)!!",
                                   "pairings(2k)\n= (2k - 1)!! by pairings_count", "PROVED"),
    # random matrices
    "gue_two_moments_at_once": ("let n : positive integer\nlet M ~ GUE(n)", "E[tr(M^3)] + E[tr(M^2)] = n^2",
                                "E[tr(M^3)] + E[tr(M^2)]\n= n^2 by genus_expansion", "PROVED"),
    "beta_integral_on_half_the_support": ("", "integral(x^2 * sqrt(4 - x^2), x, 0, 2) = 2pi",
                                          "integral(x^2 * sqrt(4 - x^2), x, 0, 2)\n"
                                          "= 2pi by semicircle_moment", "UNDECIDED"),
    "stieltjes_the_other_root": (RHO, "integral(rho(x)/(3 - x), x, -2, 2) = (3 + sqrt(5))/2",
                                 "integral(rho(x)/(3 - x), x, -2, 2)\n= (3 + sqrt(5))/2 by stieltjes",
                                 "REFUTED"),
    "stieltjes_at_four": (RHO, "integral(rho(x)/(4 - x), x, -2, 2) = 2 - sqrt(3)",
                          "integral(rho(x)/(4 - x), x, -2, 2)\n= 2 - sqrt(3) by stieltjes", "PROVED"),
    "stieltjes_at_minus_three": (RHO, "integral(rho(x)/(-3 - x), x, -2, 2) = (sqrt(5) - 3)/2",
                                 "integral(rho(x)/(-3 - x), x, -2, 2)\n= (sqrt(5) - 3)/2 by stieltjes",
                                 "PROVED"),
    # limits over integer parameters with declared ranges
    "limit_with_a_ranged_integer": ("for k in 2..5\nlet a : real\nlet n : positive integer",
                                    "(a*n + k*n)/(n + 1) -> 2 as n -> oo",
                                    "(a*n + k*n)/(n + 1)\n-> 2 as n -> oo by limit", "REFUTED"),
    "limit_infinite_against_finite": ("let a : real\nlet n : positive integer",
                                      "a*n^2/(n + 1) -> 5 as n -> oo",
                                      "a*n^2/(n + 1)\n-> 5 as n -> oo by limit", "REFUTED"),
    "limit_fails_only_where_the_coefficient_is_nonzero": (
        "let a : real\nlet n : positive integer", "(a*n^2 + 2n)/(a*n^2 + n + 1) -> 2 as n -> oo",
        "(a*n^2 + 2n)/(a*n^2 + n + 1)\n-> 2 as n -> oo by limit", "REFUTED"),
    "limit_infinite_with_a_large_parameter": (
        "let a : positive real\nassume a > 1000\nlet n : positive integer", "a*n^2/(n + 1) -> 0 as n -> oo",
        "a*n^2/(n + 1)\n-> 0 as n -> oo by limit", "REFUTED"),
    # more paths of the expectation rules
    "fourth_moment_of_a_sum_without_the_fourth_moment": (
        "let n : positive integer\nlet X[1..n] iid with E[X] = 0, E[X^2] = 1\n"
        "let S = sum(X[i], i = 1..n)/sqrt(n)", "E[S^4] = 3",
        "E[S^4]\n= 3 by moment_expansion", "UNDECIDED"),
    "moment_sum_of_no_factor": (IID, "moment_sum(X, n, 0) = 1",
                                "moment_sum(X, n, 0)\n= 1 by moment_expansion", "PROVED"),
    "moment_sum_of_two_factors": (IID, "moment_sum(X, n, 2) = n",
                                  "moment_sum(X, n, 2)\n= n by moment_expansion", "PROVED"),
    "stein_on_an_exponential": (GAUSSIAN + "\nlet a : real", "E[Z*exp(a*Z)] = a*s^2*E[exp(a*Z)]",
                                "E[Z*exp(a*Z)]\n= a*s^2*E[exp(a*Z)] by stein", "PROVED"),
    "algebra_cited_as_stein": (GAUSSIAN, "2*E[Z^2] = E[Z^2] + E[Z^2]",
                               "2*E[Z^2]\n= E[Z^2] + E[Z^2] by stein", "UNDECIDED"),
    "algebra_cited_as_independence": (GAUSSIAN, "2*E[Z^4] = E[Z^4] + E[Z^4]",
                                      "2*E[Z^4]\n= E[Z^4] + E[Z^4] by independence", "UNDECIDED"),
    "eval_symbolic_product": ("let n : positive integer", "prod(i, i = 1..n) = n!",
                              "prod(i, i = 1..n)\n= n! by eval", "PROVED"),
    # numerical evaluation: probabilities, variances, parameters of the laws
    "numeric_probability": ("let Z ~ Normal(0, 1)", "P[Z > 0] ~= 0.5 within 1e-20",
                            "P[Z > 0]\n~= 0.5 within 1e-20 by numeric", "CORROBORATED"),
    "numeric_variance": (GAUSSIAN, "Var[Z] = s^2", "Var[Z]\n= s^2 by numeric", "CORROBORATED"),
    "numeric_law_parameter_only": (GAUSSIAN + "\nlet Y ~ Normal(0, s^2)", "E[Z^2] - E[Y^2] = 0",
                                   "E[Z^2] - E[Y^2]\n= 0 by numeric", "CORROBORATED"),
    "numeric_with_a_parameter": ("let a : positive real\nlet Z ~ Normal(0, 1)", "E[cos(a*Z)] = exp(-a^2/2)",
                                 "E[cos(a*Z)]\n= exp(-a^2/2) by numeric", "CORROBORATED"),
    # random matrices and programs
    "stieltjes_at_root_five": (RHO, "integral(rho(x)/(sqrt(5) - x), x, -2, 2) = (sqrt(5) - 1)/2",
                               "integral(rho(x)/(sqrt(5) - x), x, -2, 2)\n= (sqrt(5) - 1)/2 by stieltjes",
                               "PROVED"),
    "gue_beside_gaussian_moments": (
        "let n : positive integer\nlet M ~ GUE(n)\nlet Z ~ Normal(0, 1)",
        "E[tr(M^2)] + E[Z^2] + E[Z^4] + E[Z^6] = n^2 + E[Z^2] + E[Z^4] + E[Z^6]",
        "E[tr(M^2)] + E[Z^2] + E[Z^4] + E[Z^6]\n= n^2 + E[Z^2] + E[Z^4] + E[Z^6] by genus_expansion",
        "PROVED"),
    "master_theorem_unbounded_inner_average": (
        "let n : positive integer\nlet x ~ Vector(n)", "avg(x^2 * avg(exp(x^2/4))) -> sqrt(2) as n -> oo",
        "avg(x^2 * avg(exp(x^2/4)))\n-> sqrt(2) as n -> oo by master_theorem", "UNDECIDED"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_step_off_the_library_gets_its_verdict(name, snapshot):
    header, claim, chain, expected = CASES[name]
    verdict, steps = report_of(theorem(header, claim, chain), name, "t")
    assert verdict == expected, steps
    recorded(f"case::{name}", verdict, steps, snapshot)


@pytest.mark.parametrize("k, value", [(1, 0), (2, 3), (3, 0), (4, 27)])
def test_the_moment_of_an_iid_sum_at_small_powers(k, value):
    """E[(X_1 + X_2 + X_3)^k] by set partitions without singletons, with E X = 0, E X^2 = 1 and
    E X^4 = 3: n m4 + 3 n (n - 1) m2^2 = 27 at k = 4. (No power reaches the evaluator with
    exponent 0: sympy evaluates S^0 to 1 first.)"""
    import sympy

    from tpcheck.engines.heads import Expectation
    from tpcheck.expectations.evaluators import sum_power_value
    from tpcheck.lang.elaborate import elaborate_theorem
    from tpcheck.lang.parser import parse

    text = theorem("let X[1..3] iid with E[X] = 0, E[X^2] = 1, E[X^3] = 0, E[X^4] = 3", "E[X[1]] = 0",
                   "E[X[1]]\n= 0 by iid_moment")
    (tree,) = parse(text).theorems
    ctx = elaborate_theorem(tree, text.split("\n")).context
    (x,) = [s for s in ctx.laws if getattr(s, "name", "") == "X"]
    i = sympy.Symbol("i", integer=True)
    total = sympy.Sum(sympy.Indexed(x, i), (i, 1, 3))
    assert sum_power_value(Expectation(total**k), ctx) == value
