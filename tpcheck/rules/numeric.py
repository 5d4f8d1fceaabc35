"""The ``numeric`` rule: agreement in high-precision floating point (CORROBORATED only)."""

from __future__ import annotations

import mpmath

from tpcheck.errors import EvaluationError
from tpcheck.expectation import expectation_form
from tpcheck.kernel import Context, Evidence, Goal, Judgement, Verdict, rule
from tpcheck.numeric import evaluate
from tpcheck.witness.hooks import head_hooks
from tpcheck.witness.instances import witness_instances
from tpcheck.witness.precision import DEFAULT_DIGITS, GUARD_DIGITS, quadrature_hook

INSTANCES = 4


@rule("numeric", human="numerical evaluation", latex="numerically")
def numeric(goal: Goal, args: tuple, ctx: Context) -> Judgement:
    """Both sides agree in mpmath to the theorem's digits (default 30) on sampled instances.

    Never more than CORROBORATED: agreement in floating point is evidence, not proof.
    Expectations are computed by tanh-sinh quadrature against the laws (at most two random
    coordinates). A relative difference above 10^(-digits/2) at an instance refutes the step,
    with both values; a smaller one leaves it UNDECIDED.
    """
    digits = int(ctx.settings.get("digits", DEFAULT_DIGITS))
    pending = Judgement(Verdict.UNDECIDED, "")
    instances = witness_instances(goal, ctx, pending, None, {}, INSTANCES, 12345)
    if not instances:
        return Judgement.undecided("numeric: no instance satisfies the assumptions")
    hook = quadrature_hook(ctx)
    heads = head_hooks(ctx.laws)
    shown = []
    with mpmath.workdps(digits + GUARD_DIGITS):
        for inst in instances:
            env = {s: evaluate(v, {}, "mpmath") for s, v in inst.items()}
            try:
                a = evaluate(expectation_form(goal.lhs), env, "mpmath", hook, heads)
                b = evaluate(expectation_form(goal.rhs), env, "mpmath", hook, heads)
            except (EvaluationError, ZeroDivisionError, ValueError, TypeError) as exc:
                return Judgement.undecided(f"numeric: not evaluated: {exc}")
            err = abs(a - b) / max(1, abs(a), abs(b))
            text = {str(s): str(v) for s, v in inst.items()}
            if err > mpmath.mpf(10) ** (-(digits // 2)):
                return Judgement(
                    Verdict.REFUTED, f"numeric: the sides differ at {text}",
                    counterexample={"instance": text, "lhs": mpmath.nstr(a, 20),
                                    "rhs": mpmath.nstr(b, 20), "numeric": True})
            if err > mpmath.mpf(10) ** (-(digits - 3)):
                return Judgement.undecided(f"numeric: agreement to only {mpmath.nstr(err, 3)}")
            shown.append(text)
    return Judgement(
        Verdict.CORROBORATED, f"numeric: agree to {digits} digits on {len(shown)} instance(s)",
        evidence=[Evidence("mpmath", True, f"{len(shown)} instance(s) agree to {digits} digits",
                           {"digits": digits, "instances": shown})])
