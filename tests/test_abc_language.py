"""abc-parametrizations in the proof language: declarations, opaque heads and the
``abc_classification`` rule (docs/abc.md, "In the proof language")."""

from __future__ import annotations

import pickle
import re
from fractions import Fraction as F
from pathlib import Path

import pytest
import sympy

import tpcheck.lang.elaborate as elaborate_module
import tpcheck.rules  # noqa: F401  (registers the other rules, whose verdicts on heads are checked)
import tpcheck.rules.abc  # noqa: F401  (registers abc_classification before rules/__init__ imports it)
from tpcheck.engines.abc_parametrizations import (
    HEADS,
    MAX_HIDDEN_LAYERS,
    ParametrizationError,
    ParametrizationHead,
    claimed_consequences,
    evaluate_head,
    invariants,
    maximal_update_invariants,
    mean_field,
    mup,
    named_parametrization,
    ntk,
    parametrization_atom,
    parametrization_from_atom,
    parametrization_head,
    standard,
)
from tpcheck.engines.equality import decide_equal
from tpcheck.errors import ElaborationError
from tpcheck.kernel import REGISTRY, Context, Goal, Verdict
from tpcheck.lang.parametrizations import (
    PARAMETRIZATION_HEADS,
    declare_parametrization,
    declared_parametrizations,
)
from tpcheck.lang.parametrizations import parametrization_head as elaborate_head
from tpcheck.lang.parser import parse

ROOT = Path(__file__).resolve().parent.parent
H = F(1, 2)
ONE, ZERO = sympy.Integer(1), sympy.Integer(0)


def named(p, name):  # noqa: ANN001, ANN201
    """p under a declared name (the name is a label: it takes no part in equality)."""
    return type(p)(p.a, p.b, p.c, p.optimizer, name)


def head(kind, *points, layers=()):  # noqa: ANN001, ANN201
    return parametrization_head(kind, list(points), list(layers))


def judge(lhs, rel, rhs, rule="abc_classification"):  # noqa: ANN001, ANN201
    verifier = REGISTRY[rule].verifier
    return verifier(Goal(sympy.sympify(lhs), rel, sympy.sympify(rhs)), (), Context({}, [], {}, []))


SP = named(standard(2, 0), "sp")
SLOW = named(standard(2, 1), "slow")
NTP = named(ntk(2), "ntp")
MU = named(mup(2), "mu")
SPA = named(standard(2, 0, "adam"), "spa")
MUA = named(mup(2, "adam"), "mua")
MF = named(mean_field(1), "mf")


# --- the heads: exact values ---------------------------------------------------------------

@pytest.mark.parametrize(("p", "stable", "nontrivial", "feature_learning", "kernel", "maximal", "r"), [
    (SP, 0, 0, 0, 0, 0, F(-1)),
    (SLOW, 1, 1, 0, 1, 0, H),
    (NTP, 1, 1, 0, 1, 0, H),
    (MU, 1, 1, 1, 0, 1, F(0)),
    (SPA, 0, 0, 0, 0, 0, F(-1)),
    (MUA, 1, 1, 1, 0, 1, F(0)),
    (MF, 1, 1, 1, 0, 1, F(0)),
])
def test_classification_of_the_named_points(p, stable, nontrivial, feature_learning, kernel, maximal, r):
    kinds = ("stable", "nontrivial", "feature_learning", "kernel_regime", "maximal_update", "r")
    values = {kind: evaluate_head(head(kind, p)).value for kind in kinds}
    assert values == {"stable": stable, "nontrivial": nontrivial, "feature_learning": feature_learning,
                      "kernel_regime": kernel, "maximal_update": maximal, "r": r}
    assert all(isinstance(v, F) for v in values.values())
    assert evaluate_head(head("unique_maximal_update", p)).value == maximal


@pytest.mark.parametrize(("p", "delta_h1", "delta_h2", "delta_f"), [
    (SP, -H, H, F(1)),
    (SLOW, F(-3, 2), -H, F(0)),
    (NTP, -H, -H, F(0)),
    (MU, F(0), F(0), F(0)),
    (SPA, F(0), F(1), F(3, 2)),
    (MUA, F(0), F(0), F(0)),
])
def test_one_step_exponents_as_heads(p, delta_h1, delta_h2, delta_f):
    got = [evaluate_head(head("update_exponent", p, layers=[layer])).value for layer in (1, 2, 3)]
    assert got == [delta_h1, delta_h2, delta_f]


def test_per_layer_columns_in_tp4_gauge():
    lr = [evaluate_head(head("lr_exponent", MUA, layers=[layer])).value for layer in (1, 2, 3)]
    assert lr == [-H, F(-1), -H]  # TP5 Table 9: 1/sqrt(fan_out), 1/fan_in, 1/sqrt(fan_in)
    assert evaluate_head(head("init_variance_exponent", MU, layers=[3])).value == -1
    assert evaluate_head(head("multiplier_exponent", MU, layers=[1])).value == H
    assert evaluate_head(head("own_update_exponent", SP, layers=[2])).value == -1
    assert evaluate_head(head("init_exponent", MU, layers=[3])).value == -H
    assert "1/fan_in" in evaluate_head(head("lr_exponent", MUA, layers=[2])).reasons[0]


def test_equivalence_names_the_layer_and_invariant():
    assert evaluate_head(head("equivalent", MF, named(mup(1), "mu1"))).value == 1
    different = evaluate_head(head("equivalent", NTP, MU))
    assert different.value == 0
    assert {(e.layer, e.quantity, e.exponent) for e in different.evidence} == {
        (1, "2a_1+c_1", F(0)), (2, "2a_2+c_2", F(1)), (3, "a_3+b_3", H)}
    assert evaluate_head(head("equivalent", MU, MUA)).reasons == ("optimizers differ: sgd vs adam",)


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_uniqueness_of_mup(depth, optimizer):
    unique = evaluate_head(head("unique_maximal_update", named(mup(depth, optimizer), "mu")))
    assert unique.value == 1 and "on every solution" in unique.reasons[0]
    # a point that is not muP: the uniqueness claim about it is false, with the failing layer
    other = evaluate_head(head("unique_maximal_update", named(ntk(depth, optimizer), "ntp")))
    assert other.value == 0 and other.evidence and all(e.layer for e in other.evidence)


@pytest.mark.parametrize("depth", [1, 2, 4])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_mup_conditions_force_the_invariants(depth, optimizer):
    """Solved branch by branch without the inequalities (a cover of every solution), independently
    of derive_mup, which gives the named point."""
    fixed, why = maximal_update_invariants(depth, optimizer)
    assert fixed == invariants(mup(depth, optimizer))
    assert "linsolve over Q" in why


# --- the three false statements of the issue -----------------------------------------------

def test_sp_with_constant_lr_is_not_stable():
    value = evaluate_head(head("stable", SP))
    assert value.value == 0
    assert (value.evidence[0].layer, value.evidence[0].exponent) == (2, F(-1))
    judgement = judge(head("stable", SP), "=", 1)
    assert judgement.verdict is Verdict.REFUTED
    cex = judgement.counterexample
    assert (cex["layer"], cex["exponent"], cex["lhs"], cex["rhs"]) == (2, "-1", "0", "1")
    assert "stability in training: layer 2: r = -1 < 0" in cex["condition"]
    assert judge(head("stable", SP), "=", 0).verdict is Verdict.PROVED


def test_ntk_admits_no_feature_learning():
    judgement = judge(head("feature_learning", NTP), "=", 1)
    assert judgement.verdict is Verdict.REFUTED
    cex = judgement.counterexample
    assert (cex["layer"], cex["quantity"], cex["exponent"]) == (1, "e_1 (own update of layer 1)", "1/2")
    assert "layer 2" in cex["further"]
    assert "r = 1/2 != 0" in judgement.detail


def test_mup_adam_hidden_lr_is_not_inverse_sqrt_fan_in():
    lr = head("lr_exponent", MUA, layers=[2])
    judgement = judge(lr, "=", sympy.Rational(-1, 2))
    assert judgement.verdict is Verdict.REFUTED
    cex = judgement.counterexample
    assert (cex["layer"], cex["exponent"], cex["lhs"]) == (2, "-1/2", "-1")
    assert "not updated maximally" in cex["further"]
    assert "1/fan_in" in judgement.detail
    assert judge(lr, "=", -1).verdict is Verdict.PROVED
    consequences = claimed_consequences(lr, -H)
    assert any(c.layer == 2 and c.exponent == -H for c in consequences)
    assert claimed_consequences(head("r", MUA), 1) == ()


# --- the rule ------------------------------------------------------------------------------

def test_rule_decides_relations_and_arithmetic_of_heads():
    conjunction = sympy.Mul(*(head(kind, MU) for kind in ("stable", "nontrivial", "feature_learning")))
    assert judge(conjunction, "=", 1).verdict is Verdict.PROVED
    assert judge(head("r", NTP), ">", 0).verdict is Verdict.PROVED
    assert judge(head("r", SP), ">=", 0).verdict is Verdict.REFUTED
    assert judge(head("r", NTP), "=", head("r", SLOW)).verdict is Verdict.PROVED
    proved = judge(head("stable", MU), "=", 1)
    assert proved.evidence and "stability at init" in proved.detail


def test_rule_leaves_other_steps_undecided():
    assert judge(sympy.Integer(2), "=", 2).verdict is Verdict.UNDECIDED  # no head: not this rule's work
    x = sympy.Symbol("x", real=True)
    assert judge(head("r", MU) + x, "=", x).verdict is Verdict.UNDECIDED


@pytest.mark.parametrize("rule", ["algebra", "eval", "linearity", "gaussian_moment", "master_theorem"])
def test_other_rules_do_not_decide_a_head(rule):
    """A head is opaque: a rule that does not know it never decides it (true or false)."""
    for rhs in (ONE, ZERO):
        judgement = judge(head("stable", SP), "=", rhs, rule)
        assert judgement.verdict is Verdict.UNDECIDED, (rule, rhs, judgement.detail)


def test_heads_are_opaque_to_sympy_and_equality():
    h = head("stable", SP)
    assert isinstance(h, ParametrizationHead) and not h.free_symbols
    assert decide_equal(h, ONE, Context({}, [], {}, []).space).status == "unknown"
    assert decide_equal(h, ZERO, Context({}, [], {}, []).space).status == "unknown"
    assert not sympy.N(h - 1, 30).is_Number
    assert str(head("update_exponent", MU, layers=[2])) == "update_exponent(mu, 2)"
    assert str(head("equivalent", MU, NTP)) == "equivalent(mu, ntp)"
    assert pickle.loads(pickle.dumps(h)) == h


def test_atoms_round_trip_and_refuse_nonsense():
    for p in (SP, MUA, MF):
        back = parametrization_from_atom(parametrization_atom(p))
        assert back == p and back.name == p.name
    with pytest.raises(ParametrizationError):
        parametrization_from_atom(sympy.Tuple(1, 2))
    with pytest.raises(ParametrizationError):
        head("update_exponent", MU, layers=[4])
    with pytest.raises(ParametrizationError):
        head("own_update_exponent", MU, layers=[3])  # the readout has no own-update exponent e_l
    with pytest.raises(ParametrizationError):
        head("stable", MU, NTP)
    with pytest.raises(ParametrizationError):
        head("volatile", MU)
    with pytest.raises(ParametrizationError):
        named_parametrization("mean_field", 2)
    with pytest.raises(ParametrizationError):
        named_parametrization("mup", MAX_HIDDEN_LAYERS + 1)


# --- the language, through its functions ----------------------------------------------------

class _Theorem:
    """The elaboration of one theorem's declarations and claim by the functions of
    tpcheck.lang.parametrizations, with the elaborator's own expression builder."""

    def __init__(self, text: str) -> None:
        self.theorem = parse(text).theorems[0]
        self.el = elaborate_module.Elaborator(elaborate_module._Scope())

    def declare(self, name: str, pos, **assumptions: bool) -> sympy.Symbol:  # noqa: ANN001
        if name in self.el.scope.symbols:
            raise ElaborationError(f"'{name}' is declared twice", pos)
        symbol = sympy.Symbol(name, **assumptions)
        self.el.scope.symbols[name] = symbol
        return symbol

    def elaborate(self) -> sympy.Expr:
        for item in self.theorem.lets:
            declare_parametrization(self.el, item, self.declare)
        return elaborate_head(self.el, self.theorem.claim.lhs)


def theorem(lets: str, claim: str) -> str:
    return f"theorem t\n  {lets}\n  claim {claim} = 1\nproof\n  {claim} = 1 by abc_classification\nqed\n"


@pytest.mark.parametrize(("lets", "claim", "expected"), [
    ("let sp ~ Parametrization(standard, depth = 2)", "stable(sp)", 0),
    ("let sp ~ Parametrization(standard, depth = 2, optimizer = sgd, c = 1)", "r(sp)", H),
    ("let mu ~ Parametrization(mup, depth = 2, optimizer = adam)", "lr_exponent(mu, 2)", F(-1)),
    ("let q ~ Parametrization(a = [0, 1/2, 1/2], b = 0, c = 0)", "kernel_regime(q)", 1),
    ("let q ~ Parametrization(depth = 1, a = [0, 1], b = 0, c = -1)\n"
     "  let mu ~ Parametrization(mup, depth = 1)", "equivalent(q, mu)", 1),
    ("let q ~ Parametrization(a = [-1/2, 0, 0, 1/2], b = 1/2, c = [1/2, 1, 1, 1/2], optimizer = adam)",
     "unique_maximal_update(q)", 1),
    ("let mf ~ Parametrization(mean_field, depth = 1)", "update_exponent(mf, 2)", 0),
])
def test_declarations_and_heads(lets, claim, expected):
    t = _Theorem(theorem(lets, claim))
    h = t.elaborate()
    assert isinstance(h, ParametrizationHead)
    assert evaluate_head(h).value == expected
    assert not t.el.scope.symbols  # a parametrization's name is no symbol of the theorem
    assert set(declared_parametrizations(t.el.scope)) <= {"sp", "mu", "q", "mf"}


def test_declared_exponents_are_exact():
    t = _Theorem(theorem("let q ~ Parametrization(standard, depth = 3, b = [0, 1/2, 1/2, 0.75], c = 1)",
                         "stable(q)"))
    t.elaborate()
    q = declared_parametrizations(t.el.scope)["q"]
    assert q.b == (0, H, H, F(3, 4)) and q.c == (1, 1, 1, 1) and q.a == (0, 0, 0, 0)
    assert q.name == "q"


@pytest.mark.parametrize(("lets", "claim", "message"), [
    ("let p ~ Parametrization(standard)", "stable(p)", "give the depth"),
    ("let p ~ Parametrization(standard, depth = 2, width = 3)", "stable(p)", "unknown argument 'width'"),
    ("let p ~ Parametrization(standard, depth = 2, optimizer = rmsprop)", "stable(p)", "sgd, adam"),
    ("let p ~ Parametrization(spectral, depth = 2)", "stable(p)", "unknown parametrization"),
    ("let p ~ Parametrization(standard, depth = 0)", "stable(p)", "integer >= 1"),
    ("let p ~ Parametrization(standard, depth = 3/2)", "stable(p)", "integer >= 1"),
    ("let p ~ Parametrization(standard, depth = 100)", "stable(p)", "at most 32"),
    ("let p ~ Parametrization(mean_field, depth = 2)", "stable(p)", "one hidden layer"),
    ("let p ~ Parametrization(a = [0, 0, 0], b = [0, 0], c = 0)", "stable(p)", "b needs 3 exponents"),
    ("let p ~ Parametrization(a = 0, b = 0, c = 0)", "stable(p)", "give the depth"),
    ("let p ~ Parametrization(a = [0, 0], b = 0)", "stable(p)", "missing: c"),
    ("let p ~ Parametrization(a = [0, 0], b = 0, c = sqrt(2))", "stable(p)", "rational number"),
    ("let p ~ Parametrization(a = [0, 0], b = 0, c = 0, depth = 2)", "stable(p)", "a needs 3"),
    ("let p ~ Parametrization(standard, depth = 2)", "stable(q)", "not a declared parametrization"),
    ("let p ~ Parametrization(standard, depth = 2)", "stable(p, p)", "write stable(p)"),
    ("let p ~ Parametrization(standard, depth = 2)", "update_exponent(p, 4)", "outside 1..3"),
    ("let p ~ Parametrization(standard, depth = 2)", "lr_exponent(p, 1/2)", "a layer is an integer"),
    ("let p ~ Parametrization(standard, depth = 2)\n  let p ~ Parametrization(ntk, depth = 2)", "stable(p)",
     "declared twice"),
    ("let p, q ~ Parametrization(standard, depth = 2)", "stable(p)", "declare one parametrization"),
])
def test_declaration_errors(lets, claim, message):
    with pytest.raises(ElaborationError, match=re.escape(message)):
        _Theorem(theorem(lets, claim)).elaborate()


def test_every_head_has_a_name_in_the_language():
    assert set(PARAMETRIZATION_HEADS) == set(HEADS)


# --- end to end, once tpcheck.lang.elaborate dispatches to tpcheck.lang.parametrizations ----

HOOKED = "PARAMETRIZATION_HEADS" in vars(elaborate_module) and "abc_classification" in REGISTRY
needs_hooks = pytest.mark.skipif(not HOOKED, reason="elaborate.py does not dispatch to "
                                 "tpcheck.lang.parametrizations yet")


@needs_hooks
def test_library_file_proves_every_theorem():
    from tpcheck import check
    from tpcheck.kernel import Options

    report = check(ROOT / "proofs" / "abc_parametrizations.tp", Options(witnesses=False))
    assert report.exit_code == 0, report.to_text()
    assert len(report.theorems) >= 40
    # every theorem the exponent conditions decide is PROVED; the width experiments
    # (coord_check, lr_transfer) are evidence only, and every one of them is CORROBORATED
    experiments = {"coord_check", "lr_transfer"}
    for t in report.theorems:
        rules = {s.rule for s in t.steps}
        expected = Verdict.CORROBORATED if rules & experiments else Verdict.PROVED
        assert t.verdict is expected, (t.name, t.verdict)
    assert sum(t.verdict is Verdict.CORROBORATED for t in report.theorems) >= 5


@needs_hooks
@pytest.mark.parametrize("name", ["sp_constant_lr_stable", "ntk_feature_learning", "mup_adam_hidden_lr_sqrt"])
def test_false_statements_are_refuted_with_layer_and_exponent(name):
    from tpcheck import check

    report = check(ROOT / "tests" / "bad_proofs" / f"{name}.tp")
    (t,) = report.theorems
    assert t.verdict is Verdict.REFUTED and not report.summary()["disagreements"]
    (step,) = t.steps
    assert {"layer", "exponent", "condition"} <= set(step.counterexample)


@needs_hooks
def test_a_bare_parametrization_is_not_a_number():
    from tests.conftest import run

    report = run(theorem("let p ~ Parametrization(standard, depth = 2)", "p"))
    assert report.errors and "parametrization" in str(report.errors[0])
