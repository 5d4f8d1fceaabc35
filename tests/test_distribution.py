"""Convergence in distribution (``~>``): the relation in the language and the kernel, and the
``moment_method`` rule for normalised iid sums (the CLT) and a network's outputs (its GP limit)."""

from __future__ import annotations

import pytest

from tests.conftest import run
from tpcheck.errors import ElaborationError, ParseError
from tpcheck.kernel import Verdict


def theorem(header: str, lhs: str, law: str, rule: str = "moment_method", before: str = "") -> str:
    return f'''theorem t
  "t"
  let n : positive integer
{header}
  claim {lhs} ~> {law} as n -> oo
proof
  {lhs}
{before}    ~> {law} as n -> oo    by {rule}
qed
'''


IID = "  let X[1..n] iid with E[X] = 0, E[X^2] = 1"


def result(text: str):
    report = run(text, witnesses=False)
    assert not report.errors, report.errors
    (t,) = report.theorems
    return t


def test_the_clt_in_distribution_is_proved_with_carleman_named() -> None:
    t = result(theorem(IID, "sum(X[i], i = 1..n)/sqrt(n)", "Normal(0, 1)"))
    assert t.verdict is Verdict.PROVED
    assert "Carleman" in t.steps[0].detail and "pairings" in t.steps[0].detail


def test_a_wrong_variance_or_mean_is_refuted() -> None:
    t = result(theorem(IID, "sum(X[i], i = 1..n)/sqrt(n)", "Normal(0, 2)"))
    assert t.verdict is Verdict.REFUTED and t.steps[0].counterexample["variance"] == "1"
    t = result(theorem(IID, "sum(X[i], i = 1..n)/sqrt(n)", "Normal(1, 1)"))
    assert t.verdict is Verdict.REFUTED and t.steps[0].counterexample["mean"] == "0"


def test_a_wrong_normalisation_is_never_proved() -> None:
    t = result(theorem(IID, "sum(X[i], i = 1..n)/n", "Normal(0, 1)"))
    assert t.verdict is Verdict.UNDECIDED


def test_a_family_with_a_mean_is_not_taken() -> None:
    t = result(theorem("  let X[1..n] iid with E[X] = 1, E[X^2] = 2", "sum(X[i], i = 1..n)/sqrt(n)",
                       "Normal(0, 1)"))
    assert not t.verdict.passes


def test_equalities_may_come_before_the_law_and_nothing_after() -> None:
    text = theorem(IID + "\n  let S = sum(X[i], i = 1..n)/sqrt(n)", "2 * S / 2", "Normal(0, 1)",
                   before="    = S    by algebra\n")
    assert result(text).verdict is Verdict.PROVED
    bad = text.replace("by moment_method\nqed", "by moment_method\n    = 1    by algebra\nqed")
    report = run(bad, witnesses=False)
    assert not report.theorems or report.theorems[0].verdict is not Verdict.PROVED


def test_the_law_must_be_a_gaussian_law() -> None:
    with pytest.raises((ElaborationError, AssertionError)):
        result(theorem(IID, "sum(X[i], i = 1..n)/sqrt(n)", "1"))
    report = run(theorem(IID, "sum(X[i], i = 1..n)/sqrt(n)", "Normal([0, 0], [[1, 2], [2, 1]])"),
                 witnesses=False)
    assert report.errors  # not positive semidefinite, and two means for a scalar


def test_another_rule_cannot_claim_convergence_in_distribution() -> None:
    report = run(theorem(IID, "sum(X[i], i = 1..n)/sqrt(n)", "Normal(0, 1)", rule="limit"),
                 witnesses=False)
    assert not report.theorems or report.theorems[0].verdict is not Verdict.PROVED


def test_lists_are_random_vectors_only_before_the_law() -> None:
    with pytest.raises((ElaborationError, ParseError, AssertionError)):
        result('''theorem t
  "t"
  claim [1, 2] = [1, 2]
proof
  [1, 2]
    = [1, 2]    by algebra
qed
''')


NET = "  let f ~ MLP(n, depth = 2, phi = relu, sigma_w2 = 2, sigma_b2 = 0)"
OUT = "[output(f, [1, 0]), output(f, [0, 1])]"


def kernel(a: str, b: str) -> str:
    return f"nngp_limit(f, {a}, {b})"


def test_a_networks_outputs_tend_to_the_nngp_gaussian() -> None:
    x, y = "[1, 0]", "[0, 1]"
    cov = f"[[{kernel(x, x)}, {kernel(x, y)}], [{kernel(x, y)}, {kernel(y, y)}]]"
    t = result(theorem(NET, OUT, f"Normal([0, 0], {cov})"))
    assert t.verdict is Verdict.PROVED, t.steps[0].detail
    assert "Isserlis" in t.steps[0].detail


def test_a_wrong_covariance_entry_is_refuted_with_the_entry() -> None:
    x, y = "[1, 0]", "[0, 1]"
    cov = f"[[{kernel(x, x)}, 0], [0, {kernel(y, y)}]]"  # orthogonal inputs are still correlated
    t = result(theorem(NET, OUT, f"Normal([0, 0], {cov})"))
    assert t.verdict is Verdict.REFUTED and t.steps[0].counterexample["entry"] == [1, 2]


def test_a_single_output_and_a_shifted_mean() -> None:
    x = "[1, 0]"
    t = result(theorem(NET, f"output(f, {x})", f"Normal(0, {kernel(x, x)})"))
    assert t.verdict is Verdict.PROVED
    t = result(theorem(NET, f"output(f, {x})", f"Normal(1, {kernel(x, x)})"))
    assert t.verdict is Verdict.REFUTED
