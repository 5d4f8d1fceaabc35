"""abc-parametrizations: exact classification, symmetry, muP derived and compared with TP5's tables."""

from __future__ import annotations

from fractions import Fraction as F

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tpcheck.engines.abc_parametrizations import (
    PUBLISHED_MUP_TABLES,
    AbcParametrization,
    ParametrizationError,
    canonical_form,
    classify,
    compare_with_published,
    decide_feature_learning,
    decide_mup_learning_rate,
    decide_stable,
    derive_mup,
    equivalent,
    fan_expression,
    invariants,
    is_maximal_update,
    mean_field,
    mup,
    named_points,
    ntk,
    one_step_exponents,
    per_layer_table,
    standard,
    symmetry_shift,
    width_exponent_of,
)

H = F(1, 2)
NAMED = {depth: named_points(depth) for depth in (2, 3, 5)}


# --- named points: r and class (theory facts §6.3, test vector T5) -------------------------

@pytest.mark.parametrize("depth", [2, 3, 5])
@pytest.mark.parametrize(("name", "r", "r_first_step", "regime"), [
    ("SP", F(-1), F(-1, 2), "unstable"),
    ("SP, eta ~ 1/n", H, H, "kernel"),
    ("NTP", H, H, "kernel"),
    ("muP", F(0), F(0), "feature learning"),
    ("SP (Adam)", F(-1), F(-1), "unstable"),
    ("muP (Adam)", F(0), F(0), "feature learning"),
])
def test_named_points_classification(depth, name, r, r_first_step, regime):
    cls = classify(NAMED[depth][name])
    assert (cls.r, cls.r_first_step, cls.regime) == (r, r_first_step, regime)
    assert isinstance(cls.r, F)


def test_one_hidden_layer_values():
    assert classify(standard(1, 1)).r == F(3, 2)
    mf = mean_field(1)
    assert classify(mf).regime == "feature learning"
    assert equivalent(mf, mup(1)).holds
    assert symmetry_shift(mup(1), H) == mf
    with pytest.raises(ParametrizationError):
        mean_field(2)


def test_named_point_exponents_as_published():
    assert mup(2) == AbcParametrization((-H, 0, H), (H, H, H), (0, 0, 0))
    assert mup(3, "adam") == AbcParametrization((-H, 0, 0, H), (H,) * 4, (H, 1, 1, H), "adam")
    assert ntk(2) == AbcParametrization((0, H, H), (0, 0, 0), (0, 0, 0))


def test_reasons_name_condition_layer_and_exponent():
    reasons = classify(standard(2)).reasons()
    assert any("layer 2: r = -1 < 0" in text for text in reasons)
    assert any("layer 3: 2a_3+c_3 = 0 < 1" in text for text in reasons)
    kernel = classify(ntk(2)).reasons()
    assert any("feature learning: r = 1/2 != 0" in text for text in kernel)
    trivial = classify(standard(2, 2))
    assert trivial.regime == "trivial"
    assert all("!=" in text for text in trivial.reasons())


def test_stable_trivial_with_moving_features():
    # muP with a smaller readout: r = 0 but f is frozen (both nontriviality equalities fail).
    p = AbcParametrization((-H, 0, 1), (H, H, H), (-H, -H, -H))
    cls = classify(p)
    assert cls.stable and cls.r == 0 and cls.regime == "trivial"


def test_init_instability_is_named():
    p = AbcParametrization((0, 0, 0), (0, 0, H), (1, 1, 1))
    bad = decide_stable(p)
    assert not bad.holds
    assert [(ce.layer, ce.quantity, ce.exponent) for ce in bad.counterexamples][0] == (2, "a_2+b_2", F(0))


# --- the three false statements of the issue ------------------------------------------------

def test_sp_with_width_independent_lr_is_not_stable():
    decision = decide_stable(standard(2, 0))
    assert not decision.holds
    found = {(ce.layer, ce.quantity, ce.exponent) for ce in decision.counterexamples}
    assert (2, "e_2 (own update of layer 2)", F(-1)) in found
    assert (3, "2a_3+c_3", F(0)) in found
    assert (3, "a_3+b_3+r", F(-1, 2)) in found
    assert decide_stable(standard(2, 1)).holds


def test_ntk_admits_no_feature_learning():
    decision = decide_feature_learning(ntk(3))
    assert not decision.holds
    assert {(ce.layer, ce.exponent) for ce in decision.counterexamples} == {(1, H), (2, H), (3, H)}
    assert decide_feature_learning(mup(3)).holds


def test_mup_hidden_adam_lr_is_not_inverse_sqrt_fan_in():
    decision = decide_mup_learning_rate(2, "adam", layer=2, claimed_learning_rate=-H)
    assert not decision.holds
    assert "1/fan_in" in decision.reasons[0]
    assert any(ce.layer == 2 and ce.exponent == -H for ce in decision.counterexamples)
    assert decide_mup_learning_rate(2, "adam", layer=2, claimed_learning_rate=-1).holds
    # TP5 Table 9's output layer (multiplier 1/sqrt(fan_in)): Adam LR 1/sqrt(fan_in) is right.
    assert decide_mup_learning_rate(2, "adam", layer=3, claimed_learning_rate=-H, multiplier=-H).holds
    wrong_readout = decide_mup_learning_rate(2, "sgd", layer=3, claimed_learning_rate=0, multiplier=0)
    assert not wrong_readout.holds
    assert any(ce.layer == 3 and ce.quantity == "2a_3+c_3" and ce.exponent == 0
               for ce in wrong_readout.counterexamples)


# --- muP derived from its conditions -------------------------------------------------------

@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("depth", [1, 2, 4])
def test_mup_unique_modulo_symmetry(optimizer, depth):
    for shared in (True, False):
        derivation = derive_mup(depth, optimizer, shared_learning_rate=shared)
        assert derivation.unique_modulo_symmetry
        assert len(derivation.directions) == (1 if shared else depth + 1)
        point = derivation.in_gauge(multipliers=[0] * (depth + 1)) if not shared else mup(depth, optimizer)
        assert is_maximal_update(point).holds


@pytest.mark.parametrize("name", ["SP", "SP, eta ~ 1/n", "NTP", "SP (Adam)"])
def test_other_named_points_are_not_maximal(name):
    verdict = is_maximal_update(NAMED[2][name])
    assert not verdict.holds and verdict.reasons


@pytest.mark.parametrize("table", PUBLISHED_MUP_TABLES, ids=lambda t: t.name)
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_derived_tables_agree_with_tp5(table, optimizer):
    comparison = compare_with_published(table, optimizer)
    assert comparison.agrees, comparison.mismatches
    assert equivalent(comparison.derived, mup(2, optimizer)).holds


def test_table_comparison_detects_a_wrong_entry():
    table = PUBLISHED_MUP_TABLES[0]
    wrong = type(table)(table.name, table.source, {**table.columns, "hidden": ("1/fan_in", "1", "1",
                                                                                "1/sqrt(fan_in)")})
    comparison = compare_with_published(wrong, "adam")
    assert not comparison.agrees
    assert comparison.mismatches == ("layer 2 (hidden) adam learning rate: derived n^-1, TP5 Table 3 says "
                                     "1/sqrt(fan_in) = n^-1/2",)


def test_fan_expressions_round_trip():
    for kind in ("hidden", "output"):
        for e in (F(-2), F(-1), -H, F(0), H, F(1)):
            assert width_exponent_of(fan_expression(e, kind), kind) == e
    assert width_exponent_of("1/fan_in", "input") == 0
    assert width_exponent_of("sqrt(fan_out)", "input") == H
    hidden_row = per_layer_table(mup(2, "adam"))[1]
    assert hidden_row.as_fan_expressions() == ("1/fan_in", "1", "1/fan_in")


# --- symmetry (property tests) -------------------------------------------------------------

exponents = st.fractions(min_value=-3, max_value=3, max_denominator=4)


@st.composite
def parametrizations(draw):
    layers = draw(st.integers(2, 5))
    optimizer = draw(st.sampled_from(["sgd", "adam"]))
    row = st.lists(exponents, min_size=layers, max_size=layers)
    shared = draw(st.booleans())
    c = [draw(exponents)] * layers if shared else draw(row)
    return AbcParametrization(tuple(draw(row)), tuple(draw(row)), tuple(c), optimizer)


def _summary(p):
    cls = classify(p)
    return (cls.r, cls.r_first_step, cls.regime, cls.own_update_exponents,
            tuple((ch.family, ch.layer, ch.value, ch.holds) for ch in cls.checks), one_step_exponents(p))


@settings(max_examples=60, deadline=None)
@given(parametrizations(), st.data())
def test_classification_invariant_under_symmetry(p, data):
    thetas = data.draw(st.lists(exponents, min_size=len(p.a), max_size=len(p.a)))
    shifted = symmetry_shift(p, thetas)
    assert _summary(shifted) == _summary(p)
    assert equivalent(p, shifted).holds
    assert canonical_form(shifted) == canonical_form(p)


@settings(max_examples=60, deadline=None)
@given(parametrizations())
def test_canonical_form_idempotent_and_equivalent(p):
    canon = canonical_form(p)
    assert canonical_form(canon) == canon
    assert all(a == 0 for a in canon.a)
    assert equivalent(canon, p).holds and invariants(canon) == invariants(p)


@settings(max_examples=40, deadline=None)
@given(parametrizations(), st.integers(0, 4), st.sampled_from([F(1, 4), F(-1, 2), F(1)]))
def test_breaking_an_invariant_is_detected(p, layer_index, delta):
    layer = layer_index % len(p.a)
    b = list(p.b)
    b[layer] += delta
    other = AbcParametrization(p.a, tuple(b), p.c, p.optimizer)
    verdict = equivalent(p, other)
    assert not verdict.holds and f"layer {layer + 1}: a+b" in verdict.reasons[0]


def test_dichotomy_on_a_grid():
    """Stable nontrivial points are in exactly one of feature learning and kernel regime."""
    quarter = [F(k, 4) for k in range(-6, 9)]
    for a_out in quarter:
        for c in quarter:
            cls = classify(AbcParametrization((-H, 0, a_out), (H, H, H), (c, c, c)))
            if cls.stable and cls.nontrivial:
                assert cls.feature_learning != cls.kernel_regime
                assert cls.feature_learning == (cls.r == 0)


def test_floats_refused():
    with pytest.raises(ParametrizationError):
        AbcParametrization((0.5, 0), (0, 0), (0, 0))
    with pytest.raises(ParametrizationError):
        AbcParametrization((0,), (0,), (0,))
    assert AbcParametrization(("1/2", 0), (0, 0), (0, 0)).a[0] == H


# --- one-step predictions (theory facts §6.4) ---------------------------------------------

@pytest.mark.parametrize(("name", "delta_h", "delta_f"), [
    ("SP", (-H, H), F(1)),
    ("SP, eta ~ 1/n", (F(-3, 2), -H), F(0)),
    ("NTP", (-H, -H), F(0)),
    ("muP", (F(0), F(0)), F(0)),
    ("SP (Adam)", (F(0), F(1)), F(3, 2)),
    ("muP (Adam)", (F(0), F(0)), F(0)),
])
def test_one_step_exponents(name, delta_h, delta_f):
    prediction = one_step_exponents(NAMED[2][name])
    assert prediction.delta_h == delta_h and prediction.delta_f == delta_f
    assert prediction.h_init == (0, 0)
    assert prediction.f_init == (-H if name.startswith("muP") else 0)
