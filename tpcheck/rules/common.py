"""Shared pieces of rule verifiers: turning an exact decision into a judgement, and the
wrappers that make a rule do its own work and refute a wrong step. It registers no rule; rule
modules import it and nothing else of ``tpcheck.rules``."""

from __future__ import annotations

import sympy

from tpcheck.engines.equality import Decision, decide_equal
from tpcheck.engines.heads import Expectation
from tpcheck.engines.instances import InstanceSpace
from tpcheck.expectations.evaluators import MissingMoment, exact_expectations, unfold_variance
from tpcheck.kernel import Evidence, Judgement, Verdict


def judge_equal(
    rule: str, lhs: sympy.Expr, rhs: sympy.Expr, space: InstanceSpace, refutable: bool = True
) -> Judgement:
    """PROVED, REFUTED (only if ``refutable``) or UNDECIDED from :func:`decide_equal`."""
    d: Decision = decide_equal(lhs, rhs, space)
    if d.status == "equal":
        return Judgement(Verdict.PROVED, f"{rule}: {d.reason}",
                         evidence=[Evidence("symbolic", True, f"{d.method}: {d.reason}")])
    if d.status == "unequal" and refutable:
        return Judgement(Verdict.REFUTED, f"{rule}: {d.reason}", counterexample=d.counterexample,
                         evidence=[Evidence("exact-instances", True, d.reason,
                                            {"instances": d.instances_tried})])
    return Judgement.undecided(f"{rule}: {d.reason}")


def split_power(product: sympy.Expr, n: sympy.Symbol
                ) -> tuple[sympy.Expr, list[sympy.Expr], sympy.Expr | None]:
    """A product as n^power times factors free of n: (power, those factors, None), or (power so
    far, factors so far, the first factor that depends on n otherwise)."""
    power, const = sympy.Integer(0), []
    for f in sympy.Mul.make_args(product):
        if f == n:
            power += 1
        elif f.is_Pow and f.base == n and n not in f.exp.free_symbols:
            power += f.exp
        elif n in f.free_symbols:
            return power, const, f
        else:
            const.append(f)
    return power, const, None


def range_args(args: tuple) -> list[tuple[sympy.Symbol, int, int]]:
    return [(a[1], a[2], a[3]) for a in args if isinstance(a, tuple) and a and a[0] == "range"]


#: Rules that may be suggested for a true step that the cited rule does not give.
SUGGESTIONS = ("linearity", "gaussian_moment", "wick", "stein", "independence", "iid_moment",
               "moment_expansion", "variance_of_sum", "algebra")


def by_algebra_alone(goal, ctx) -> bool:  # noqa: ANN001
    """Whether ``lhs = rhs`` holds by exact algebra with every expectation an opaque atom (no
    counterexample is searched for: only "equal" matters here)."""
    return goal.rel == "=" and decide_equal(goal.lhs, goal.rhs, ctx.space, search=False).status == "equal"


def not_by(rule: str, goal, ctx, suggestions: list[str]) -> Judgement:  # noqa: ANN001
    """UNDECIDED for a true step that ``rule`` does not give, naming the rules that do."""
    hint = f": try {' or '.join(suggestions)}" if suggestions else ""
    return Judgement.undecided(f"{rule}: true, but not by {rule}{hint}")


def suggest(goal, args, ctx, exclude: str) -> list[str]:  # noqa: ANN001
    """The rules among :data:`SUGGESTIONS` whose own verifier proves the step."""
    from tpcheck.kernel import REGISTRY

    found = []
    for name in SUGGESTIONS:
        r = REGISTRY.get(name)
        if r is None or name == exclude:
            continue
        verifier = getattr(r.verifier, "__wrapped__", r.verifier)
        try:
            judgement = verifier(goal, (), ctx)
        except Exception:  # noqa: BLE001  (a failed suggestion is no suggestion)
            continue
        if judgement.verdict in (Verdict.PROVED, Verdict.VERIFIED) and not (
                name != "algebra" and by_algebra_alone(goal, ctx)):
            found.append(name)
    return found


def does_its_own_work(verifier):  # noqa: ANN001, ANN201
    """Wrap a rule about specific mathematics: an '=' step it judges true must not be true by
    algebra alone (expectations, traces and counts as opaque atoms), or the rule did not do
    the work and the step is UNDECIDED with "true, but not by RULE: try algebra"."""
    import functools

    name = verifier.__name__

    @functools.wraps(verifier)
    def wrapped(goal, args, ctx):  # noqa: ANN001, ANN202
        judgement = verifier(goal, args, ctx)
        if judgement.verdict in (Verdict.PROVED, Verdict.VERIFIED) and by_algebra_alone(goal, ctx):
            return not_by(_rule_name(verifier, name), goal, ctx, ["algebra"])
        return judgement

    return wrapped


def _rule_name(original, fallback: str) -> str:  # noqa: ANN001
    """The registered name of the rule whose verifier wraps ``original``."""
    from tpcheck.kernel import REGISTRY

    for r in REGISTRY.values():
        if getattr(r.verifier, "__wrapped__", r.verifier) is original:
            return r.name
    return fallback


def or_refute(verifier):  # noqa: ANN001, ANN201
    """Wrap an expectation rule: it must do the work of the steps it accepts
    (:func:`does_its_own_work`); when it cannot justify an '=' step, every expectation is
    evaluated exactly (Gaussian moments, Isserlis, family moments, moments of sums): if the
    sides then differ, the step is REFUTED with the instance (whatever rule it names); if they
    agree, it is UNDECIDED with "true, but not by RULE" and the rules that give it."""
    import functools

    inner = does_its_own_work(verifier)

    @functools.wraps(verifier)
    def wrapped(goal, args, ctx):  # noqa: ANN001, ANN202
        judgement = inner(goal, args, ctx)
        if judgement.verdict is not Verdict.UNDECIDED or goal.rel != "=":
            return judgement
        if "true, but not by" in judgement.detail:
            return judgement
        decided = refute_by_exact_expectations(goal.lhs, goal.rhs, ctx)
        if isinstance(decided, Judgement):
            return decided
        if decided == "equal":
            name = _rule_name(verifier, verifier.__name__)
            return not_by(name, goal, ctx, suggest(goal, args, ctx, name))
        return judgement

    return wrapped


def refute_by_exact_expectations(lhs: sympy.Expr, rhs: sympy.Expr, ctx  # noqa: ANN001
                                  ) -> Judgement | str | None:
    """REFUTED when the sides differ once every expectation is evaluated exactly; "equal" when
    they are then equal; None when that does not decide."""
    try:
        a = exact_expectations(unfold_variance(lhs), ctx)
        b = exact_expectations(unfold_variance(rhs), ctx)
    except MissingMoment:
        return None
    if a.has(Expectation) or b.has(Expectation):
        return None
    d = decide_equal(a, b, ctx.space)
    if d.status == "equal":
        return "equal"
    if d.status != "unequal":
        return None
    return Judgement(Verdict.REFUTED,
                     "evaluating every expectation exactly, the sides differ: "
                     f"{a} against {b}", counterexample=d.counterexample,
                     evidence=[Evidence("exact-instances", True, d.reason)])
