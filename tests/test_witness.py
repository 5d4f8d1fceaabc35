"""Witness statistics: the threshold follows from the family-wise rate; wrong constants fail."""

from __future__ import annotations

import mpmath

from tests.conftest import run
from tpcheck.kernel import Verdict
from tpcheck.witness.stats import DESIGN_CHECKS, FAMILYWISE_ALPHA, Z_THRESHOLD, z_threshold


def test_threshold_is_the_bonferroni_normal_quantile():
    alpha = FAMILYWISE_ALPHA / DESIGN_CHECKS
    tail = mpmath.erfc(Z_THRESHOLD / mpmath.sqrt(2))
    assert abs(float(tail) / alpha - 1) < 1e-6
    assert 6.4 < Z_THRESHOLD < 6.5
    assert z_threshold(0.05, 1) < 2.0


WRONG = """
theorem t
  "A wrong constant in a Gaussian moment."
  let Z ~ Normal(0, 1)
  claim E[Z^4 + Z^2] = 5
proof
  E[Z^4 + Z^2]
    = E[Z^4] + E[Z^2]   by linearity
    = 5                 by gaussian_moment
qed
crosscheck montecarlo samples 200000 seed 7
"""


def test_wrong_constant_is_refuted_and_flagged_by_monte_carlo():
    step = run(WRONG).theorems[0].steps[1]
    assert step.verdict is Verdict.REFUTED
    mc = [e for e in step.evidence if e.kind == "montecarlo"][0]
    assert mc.ok is True and abs(mc.data["z"]) > Z_THRESHOLD
    assert mc.data["seed"] == 7 and mc.data["samples"] == 200000


def test_right_constant_passes_the_witnesses_with_reported_numbers():
    step = run(WRONG.replace("= 5 ", "= 4 ").replace("= 5\n", "= 4\n")).theorems[0].steps[1]
    assert step.verdict is Verdict.PROVED
    mc = [e for e in step.evidence if e.kind == "montecarlo"][0]
    assert mc.ok is True and abs(mc.data["z"]) < Z_THRESHOLD
    assert {"estimate", "std_error", "z", "samples", "seed"} <= set(mc.data)
    mp = [e for e in step.evidence if e.kind == "mpmath"][0]
    assert mp.ok is True and mp.data["digits"] >= 30


def test_wrong_clt_constant_is_refuted_exactly_and_flagged_by_monte_carlo(root):
    from tpcheck import check

    report = check(root / "tests" / "bad_proofs" / "wrong_clt_constant.tp")
    step = report.theorems[0].steps[0]
    assert step.verdict is Verdict.REFUTED
    (mc,) = [e for e in step.evidence if e.kind == "montecarlo"]
    assert mc.ok is True and abs(mc.data["z"]) > Z_THRESHOLD
    assert mc.data["samples"] == 400000 and mc.data["seed"] == 3
    assert mc.data["instance"]["n"] == "5"
