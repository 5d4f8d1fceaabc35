"""The main job: the whole proof library checks, with the verdicts its files promise."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tpcheck import check
from tpcheck.kernel import Options, Verdict


@pytest.fixture(scope="module")
def library(request):
    """The library's verdicts (the rules' judgements; the witnesses run in the slow tier)."""
    from tests.conftest import ROOT

    return check(ROOT / "proofs", Options(witnesses=False))


@pytest.mark.slow
def test_library_checks_with_every_witness(root):
    """The README's main command: every theorem passes and no witness contradicts a step."""
    report = check(root / "proofs")
    assert report.exit_code == 0, report.to_text()
    assert not report.summary()["disagreements"]
    assert {t.name: t.verdict.value for t in report.theorems if t.name in EXPECTED} == EXPECTED


@pytest.mark.slow
def test_library_checks(library):
    report = library
    assert report.exit_code == 0, report.to_text()
    assert len(report.theorems) >= 10
    by_name = {t.name: t for t in report.theorems}
    assert by_name["gaussian_even_moments"].verdict is Verdict.PROVED
    assert by_name["binomial_row_sum"].verdict is Verdict.VERIFIED
    assert by_name["binomial_row_sum"].range == {"k": [0, 40]}


EXPECTED = {
    # issue 3: Gaussian moments, Isserlis, Stein, LLN, CLT
    "gaussian_even_moments_by_induction": "PROVED",
    "gaussian_odd_moments_by_induction": "PROVED",
    "gaussian_scaled_moments": "PROVED",
    "gaussian_mgf": "PROVED",
    "isserlis_four": "PROVED",
    "isserlis_six": "PROVED",
    "stein_polynomial": "PROVED",
    "stein_tanh": "PROVED",
    "variance_of_the_mean": "PROVED",
    "weak_law_bound": "PROVED",
    "weak_law_bound_vanishes": "PROVED",
    "clt_fourth_moment": "PROVED",
    "clt_eighth_moment": "PROVED",
    "clt_even_moments_all_k": "PROVED",
    "clt_odd_moments_all_k": "PROVED",
    # issue 4: random matrices
    "semicircle_law_gue": "PROVED",
    "gue_exact_moments": "PROVED",
    "gue_eighth_moment_at_finite_n": "PROVED",
    "goe_exact_moments": "PROVED",
    "semicircle_law_wigner": "VERIFIED",
    "wigner_universality_fourth_moment": "PROVED",
    "semicircle_even_moments": "PROVED",
    "semicircle_odd_moments": "PROVED",
    "stieltjes_quadratic": "PROVED",
    "stieltjes_at_three": "PROVED",
    "stieltjes_at_three_numerically": "CORROBORATED",
    "wishart_second_moment": "PROVED",
    "marchenko_pastur_moments": "VERIFIED",
    # issue 6: tensor programs
    "semicircle_by_tensor_programs": "PROVED",
    "semicircle_odd_by_tensor_programs": "PROVED",
    "semicircle_by_tensor_programs_instances": "VERIFIED",
    "marchenko_pastur_by_tensor_programs": "PROVED",
    "mlp_nngp_relu": "PROVED",
    "mlp_nngp_erf": "PROVED",
    "mlp_nngp_identity": "PROVED",
    "mlp_nngp_relu_value": "PROVED",
    "mlp_nngp_erf_value": "PROVED",
    "zdot_with_a_nonlinearity": "CORROBORATED",
    "residual_block": "PROVED",
    "weight_tied_rnn_step": "PROVED",
    "layer_normalisation_netsor_plus": "PROVED",
    # issue 13: deep kernels of declared MLPs
    "nngp_relu_depth3": "PROVED",
    "ntk_relu_depth3": "PROVED",
    "nngp_erf_depth3": "PROVED",
    "ntk_erf_depth3": "PROVED",
    "ntk_identity_depth3": "PROVED",
    "ntk_identity_with_bias_depth3": "PROVED",
    "ntk_relu_depth1_symbolic": "PROVED",
    "mlp_declaration_is_its_program": "PROVED",
    "nngp_relu_all_depths": "PROVED",
    "ntk_relu_all_depths": "PROVED",
    "ntk_erf_all_depths": "PROVED",
    "gp_limit_relu_depth2": "PROVED",
    "gp_limit_erf_depth2": "PROVED",
    "clt_in_distribution": "PROVED",
    "clt_in_distribution_scaled": "PROVED",
    # issue 14: abc-parametrizations
    "sp_is_unstable": "PROVED",
    "sp_r": "PROVED",
    "sp_slow_is_kernel": "PROVED",
    "sp_slow_r": "PROVED",
    "ntp_is_kernel": "PROVED",
    "ntp_admits_no_feature_learning": "PROVED",
    "ntp_r": "PROVED",
    "mup_is_maximal_feature_learning": "PROVED",
    "mup_r": "PROVED",
    "sp_adam_is_unstable": "PROVED",
    "mup_adam_is_maximal_feature_learning": "PROVED",
    "mean_field_is_feature_learning": "PROVED",
    "mean_field_is_mup": "PROVED",
    "mup_tp4_exponents": "PROVED",
    "mup_unique_sgd_depth1": "PROVED",
    "mup_unique_sgd_depth2": "PROVED",
    "mup_unique_sgd_depth3": "PROVED",
    "mup_unique_adam_depth2": "PROVED",
    "mup_unique_adam_depth3": "PROVED",
    "mup_adam_hidden_lr": "PROVED",
    "mup_adam_output_lr": "PROVED",
    "mup_sgd_hidden_lr": "PROVED",
    "one_step_sp_h1": "PROVED",
    "one_step_sp_h2": "PROVED",
    "one_step_sp_f": "PROVED",
    "one_step_sp_slow_h1": "PROVED",
    "one_step_sp_slow_h2": "PROVED",
    "one_step_sp_slow_f": "PROVED",
    "one_step_ntp_h1": "PROVED",
    "one_step_ntp_h2": "PROVED",
    "one_step_ntp_f": "PROVED",
    "one_step_mup_h1": "PROVED",
    "one_step_mup_h2": "PROVED",
    "one_step_mup_f": "PROVED",
    "one_step_sp_adam_h1": "PROVED",
    "one_step_sp_adam_h2": "PROVED",
    "one_step_sp_adam_f": "PROVED",
    "one_step_mup_adam_h1": "PROVED",
    "one_step_mup_adam_h2": "PROVED",
    "one_step_mup_adam_f": "PROVED",
    "one_step_mean_field_h1": "PROVED",
    "one_step_mean_field_f": "PROVED",
}


@pytest.mark.slow
def test_library_verdicts(library):
    report = library
    got = {t.name: t.verdict.value for t in report.theorems}
    assert {k: got.get(k) for k in EXPECTED} == EXPECTED
    assert not report.summary()["disagreements"]


@pytest.mark.slow
def test_every_rule_is_used_by_the_library(library):
    from tpcheck.kernel import REGISTRY

    used = {s.rule for t in library.theorems for s in t.steps}
    assert set(REGISTRY) <= used


def test_ruff_is_clean(root):
    out = subprocess.run([sys.executable, "-m", "ruff", "check", "tpcheck", "tests"], cwd=root,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
