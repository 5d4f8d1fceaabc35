"""Width experiments as evidence: the ``coord_check`` and ``lr_transfer`` rules, the exact
interval of the best learning rate's exponent, and the figures drawn from their evidence."""

from __future__ import annotations

import json
from fractions import Fraction as F

import numpy as np
import pytest
import sympy

from tpcheck.api import check_text
from tpcheck.engines.abc_parametrizations import named_parametrization, parametrization_head
from tpcheck.engines.coord_check import CoordCheckError, optimum_exponents
from tpcheck.evidence_figures import draw, evidence_figures
from tpcheck.kernel import Goal, Options, Verdict
from tpcheck.latex.expressions import function_name
from tpcheck.rules.experiments import _combined, _holds, _linear_form

OPTIONS = Options(witnesses=False)


def _theorem(claim: str, steps: str, declarations: str) -> str:
    return (f'theorem t\n  "an experiment"\n{declarations}\n  claim {claim}\nproof\n{steps}\nqed\n')


def _check(claim: str, steps: str, declarations: str):
    report = check_text(_theorem(claim, steps, declarations), options=OPTIONS)
    assert not report.errors, report.errors
    return report.theorems[0]


# --- the best learning rate's exponent, exactly --------------------------------------------------


def test_optimum_interval_is_exact_and_uses_every_pair():
    grid = [-3, -2, -1, 0, 1]
    losses = np.array([[5, 4, 1, 2, 3], [5, 4, 3, 1, 2], [5, 4, 1, 2, 3]], dtype=float)
    track = optimum_exponents([128, 512, 2048], grid, losses)
    assert track.best == {128: F(-1), 512: F(0), 2048: F(-1)}
    # 128 -> 512: s in [0, 1]; 512 -> 2048: s in [-1, 0]; 128 -> 2048: s in [-1/4, 1/4]
    assert (track.low, track.high) == (F(0), F(0))
    assert track.at_edge == ()


def test_optimum_interval_of_a_steady_drift():
    grid = list(range(-8, 2))
    widths = [128, 256, 512, 1024, 2048]
    losses = np.full((5, 10), 9.0)
    for i in range(5):
        losses[i, 5 - i] = 1.0  # best at -3, -4, ..., -7
    track = optimum_exponents(widths, grid, losses)
    assert (track.low, track.high) == (F(-5, 4), F(-3, 4))


def test_optimum_at_the_grid_edge_is_reported_and_divergence_is_skipped():
    losses = np.array([[1, 2, np.inf], [2, 1, np.inf]], dtype=float)
    track = optimum_exponents([64, 128], [0, 1, 2], losses)
    assert track.at_edge == (64,)
    with pytest.raises(CoordCheckError, match="diverged"):
        optimum_exponents([64, 128], [0, 1, 2], np.array([[np.inf] * 3, [1, 2, 3]]))


def test_optimum_needs_an_even_grid_and_powers_of_two():
    losses = np.ones((2, 3))
    with pytest.raises(CoordCheckError, match="evenly spaced"):
        optimum_exponents([64, 128], [0, 1, 3], losses)
    with pytest.raises(CoordCheckError, match="powers of 2"):
        optimum_exponents([64, 100], [0, 1, 2], losses)


def test_no_power_law_gives_an_empty_interval():
    grid = list(range(0, 10))
    losses = np.full((3, 10), 9.0)
    for i, j in enumerate([1, 8, 1]):  # jumps far up and back down
        losses[i, j] = 1.0
    track = optimum_exponents([64, 128, 256], grid, losses)
    assert track.low is None and track.high is None


# --- the step's linear form and interval arithmetic ----------------------------------------------


def _head(kind, name="mup", layer=None):
    p = named_parametrization(name, 2)
    return parametrization_head(kind, [p], [] if layer is None else [layer])


def test_linear_form_of_a_step_in_two_questions():
    h2, h3 = _head("update_exponent", layer=2), _head("update_exponent", layer=3)
    goal = Goal(h2 + 2 * h3, "=", h3 + sympy.Rational(3, 2))
    coefficients, constant = _linear_form(goal, ("update_exponent",))
    assert coefficients == {h2: F(1), h3: F(1)} and constant == F(-3, 2)
    low, high = _combined(coefficients, constant, {h2: (0.4, 0.6), h3: (0.9, 1.1)})
    assert low == pytest.approx(-0.2) and high == pytest.approx(0.2)
    assert _holds("=", low, high) is True and _holds("<", low, high) is None
    assert _holds(">", 0.1, 0.3) is True and _holds("<=", 0.1, 0.3) is False


def test_linear_form_refuses_other_questions_and_nonlinear_steps():
    h2 = _head("update_exponent", layer=2)
    assert "nothing else" in _linear_form(Goal(h2 + _head("r"), "=", sympy.Integer(0)), ("update_exponent",))
    assert "not linear" in _linear_form(Goal(h2 * h2, "=", sympy.Integer(0)), ("update_exponent",))
    assert "cancel" in _linear_form(Goal(h2, "=", h2), ("update_exponent",))
    assert "nothing else" in _linear_form(Goal(sympy.Integer(1), "=", sympy.Integer(1)), ("update_exponent",))


# --- the rules on proofs --------------------------------------------------------------------------

MUP = "  let mu ~ Parametrization(mup, depth = 2)"
SP = "  let sp ~ Parametrization(standard, depth = 2)"


def test_coord_check_corroborates_the_exponent_with_its_seeds_and_z():
    t = _check("update_exponent(sp, 2) = 1/2", "  update_exponent(sp, 2)\n    = 1/2    by coord_check", SP)
    assert t.verdict is Verdict.CORROBORATED
    (step,) = t.steps
    assert "seeds 0..7, widths 64..2048" in step.detail and "z = " in step.detail
    (evidence,) = [e for e in step.evidence if e.kind == "montecarlo"]
    assert evidence.ok is True and evidence.data["seeds"] == list(range(8))
    assert abs(evidence.data["z"]) < 5 and evidence.data["figure"]["kind"] == "coord_check"
    assert step.rests_on == ["width-experiments"]


def test_coord_check_does_not_pass_a_wrong_exponent():
    t = _check("update_exponent(sp, 2) = 0", "  update_exponent(sp, 2)\n    = 0    by coord_check", SP)
    assert t.verdict is Verdict.UNDECIDED
    assert "contradicts the claim" in t.steps[0].detail


def test_coord_check_inequality_and_a_sum_of_questions():
    t = _check("update_exponent(sp, 2) + update_exponent(sp, 3) > 1",
               "  update_exponent(sp, 2) + update_exponent(sp, 3)\n    > 1    by coord_check", SP)
    assert t.verdict is Verdict.CORROBORATED
    assert "over 2 question(s)" in t.steps[0].detail


def test_coord_check_is_not_resolved_with_too_few_seeds():
    t = _check("update_exponent(mu, 2) = 0",
               "  update_exponent(mu, 2)\n    = 0    by coord_check(seeds = 2, max_width = 256)", MUP)
    assert t.verdict is Verdict.UNDECIDED
    assert "not resolved" in t.steps[0].detail


@pytest.mark.parametrize("options, message", [
    ("(width = 64)", "unknown option 'width'"),
    ("(max_width = 1000)", "a power of 2"),
    ("(max_width = 8192)", "a power of 2 up to 4096"),
    ("(seeds = 1)", "between 2 and 32"),
    ("(min_width = 256, max_width = 128)", "below max_width"),
    ("(64)", "named options"),
    ("(seeds = 10^100)", "between 2 and 32"),
    ("(max_width = 2^60)", "a power of 2 up to 4096"),
    ("(seeds = 0)", "a positive integer"),
    ("(seeds = 1/2)", "a positive integer"),
])
def test_coord_check_refuses_bad_options_before_anything_runs(options, message):
    t = _check("update_exponent(mu, 2) = 0",
               f"  update_exponent(mu, 2)\n    = 0    by coord_check{options}", MUP)
    assert t.verdict is Verdict.UNDECIDED and message in t.steps[0].detail


def test_coord_check_needs_an_exponent_question():
    t = _check("stable(mu) = 1", "  stable(mu)\n    = 1    by coord_check", MUP)
    assert t.verdict is Verdict.UNDECIDED and "nothing else" in t.steps[0].detail


def test_the_optimal_learning_rate_is_measured_not_derived():
    t = _check("optimal_lr_exponent(mu) = 0",
               "  optimal_lr_exponent(mu)\n    = 0    by abc_classification", MUP)
    assert t.verdict is Verdict.UNDECIDED and "measured, not derived" in t.steps[0].detail


@pytest.mark.slow
def test_lr_transfer_corroborates_mup_and_the_drift_of_sp():
    one = "  let mu ~ Parametrization(mup, depth = 1)\n  let sp ~ Parametrization(standard, depth = 1)"
    t = _check("optimal_lr_exponent(mu) - optimal_lr_exponent(sp) > 1/4",
               "  optimal_lr_exponent(mu) - optimal_lr_exponent(sp)\n    > 1/4    by lr_transfer", one)
    assert t.verdict is Verdict.CORROBORATED, t.steps[0].detail
    figures = [e.data["figure"] for e in t.steps[0].evidence if e.kind == "montecarlo"]
    assert [f["kind"] for f in figures] == ["lr_transfer", "lr_transfer"]
    wrong = _check("optimal_lr_exponent(sp) = 0", "  optimal_lr_exponent(sp)\n    = 0    by lr_transfer",
                   "  let sp ~ Parametrization(standard, depth = 1)")
    assert wrong.verdict is Verdict.UNDECIDED and "contradicts the claim" in wrong.steps[0].detail


# --- figures from the evidence --------------------------------------------------------------------


def test_figures_are_drawn_from_the_evidence_and_survive_json(tmp_path):
    t = _check("update_exponent(mu, 2) = 0",
               "  update_exponent(mu, 2)\n    = 0    by coord_check(max_width = 512)", MUP)
    assert t.verdict is Verdict.CORROBORATED
    (figure,) = evidence_figures(t)
    assert figure.name == "fig-ev-t-1.pdf" and "seeds 0..7" in figure.caption
    again = json.loads(json.dumps(figure.data))  # what a cached or JSON report holds
    path = draw(type(figure)(figure.name, figure.theorem, figure.line, again), tmp_path)
    assert path.read_bytes().startswith(b"%PDF")


def test_latex_names_the_figure_and_draws_it_beside_the_tex(tmp_path):
    from tpcheck.latex_build import build_latex, drawn_figures

    proof = tmp_path / "coord.tp"
    proof.write_text(_theorem("update_exponent(mu, 2) = 0",
                              "  update_exponent(mu, 2)\n    = 0    by coord_check(max_width = 512)", MUP))
    tex, report, _ = build_latex([str(proof)], OPTIONS, figure_folder=tmp_path / "figs")
    assert report.theorems[0].verdict is Verdict.CORROBORATED
    assert r"\includegraphics[width=\textwidth]{fig-ev-t-1.pdf}" in tex
    assert list(drawn_figures(tmp_path / "figs")) == ["fig-ev-t-1.pdf"]
    assert r"\operatorname{update\_exponent}" in tex


def test_function_names_of_words_are_upright():
    assert function_name("optimal_lr_exponent") == r"\operatorname{optimal\_lr\_exponent}"
    assert function_name("phi_w") == r"\phi_{\mathrm{w}}"
    assert function_name("f_1") == "f_{1}"


def test_checking_runs_blas_on_one_thread_and_restores_it():
    from threadpoolctl import threadpool_info

    from tpcheck.kernel.bounded import single_threaded_blas

    before = [pool["num_threads"] for pool in threadpool_info()]
    with single_threaded_blas():
        assert all(pool["num_threads"] == 1 for pool in threadpool_info())
    assert [pool["num_threads"] for pool in threadpool_info()] == before



def test_latex_on_standard_output_names_a_figure_it_did_not_draw(tmp_path):
    from tpcheck.latex_build import build_latex

    proof = tmp_path / "weird.tp"
    text = _theorem("update_exponent(mu, 2) = 0",
                    "  update_exponent(mu, 2)\n    = 0    by coord_check(max_width = 512)", MUP)
    proof.write_text(text.replace("theorem t\n", "theorem Coord_check_2\n"))
    tex, report, _ = build_latex([str(proof)], OPTIONS)  # no folder: nothing is drawn
    assert report.theorems[0].verdict is Verdict.CORROBORATED
    assert r"\IfFileExists{fig-ev-coord-check-2-1.pdf}" in tex and "was not drawn" in tex
    assert not list(tmp_path.glob("*.pdf"))
