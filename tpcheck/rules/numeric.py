"""The ``numeric`` rule: agreement in high-precision floating point (CORROBORATED only)."""

from __future__ import annotations

import mpmath

from tpcheck.engines.mpmath_eval import evaluate
from tpcheck.errors import EvaluationError
from tpcheck.expectations.forms import expectation_form
from tpcheck.kernel import Context, Evidence, Goal, Judgement, Verdict, rule
from tpcheck.kernel.proof import tolerance_text
from tpcheck.trusted import rests_on
from tpcheck.witness.hooks import head_hooks
from tpcheck.witness.instances import witness_instances
from tpcheck.witness.precision import (
    DEFAULT_DIGITS,
    GUARD_DIGITS,
    MIN_DIGITS,
    digits_seen,
    quadrature_hook,
    working_digits,
)

INSTANCES = 4


@rule("numeric", relations=("=", "~="), human="numerical evaluation", latex="numerically",
      tolerances=True)
def numeric(goal: Goal, args: tuple, ctx: Context) -> Judgement:
    """Both sides agree in mpmath on sampled instances (never more than CORROBORATED).

    ``lhs = rhs``: the relative difference |a - b| / max(1, |a|, |b|) must be below 10^-D, D the
    theorem's digits (default 30, never fewer than 15 whatever the file asks); the verdict
    states the digits actually seen. ``lhs ~= rhs within t``: |a - b| <= t in D-digit
    arithmetic. Computed at D + 15 digits; expectations by tanh-sinh quadrature against the
    laws (at most two random coordinates). A difference beyond 10^-(D/2) (beyond t + 10^-(D/2)
    for a tolerance) refutes the step with both values; one in between leaves it UNDECIDED.
    Agreement in floating point is evidence, not proof: for a certified bound use
    ``enclosure``.
    """
    requested = int(ctx.settings.get("digits", DEFAULT_DIGITS))
    digits = working_digits(requested)
    floor_note = (f" (the file asked for {requested}; the floor is {MIN_DIGITS})"
                  if requested < MIN_DIGITS else "")
    rests_on("mpmath-quadrature")
    pending = Judgement(Verdict.UNDECIDED, "")
    instances = witness_instances(goal, ctx, pending, None, {}, INSTANCES, 12345)
    if not instances:
        return Judgement.undecided("numeric: no instance satisfies the assumptions")
    hook = quadrature_hook(ctx)
    heads = head_hooks(ctx.laws)
    shown, seen = [], []
    with mpmath.workdps(digits + GUARD_DIGITS):
        tol = mpmath.mpf(goal.tolerance.p) / goal.tolerance.q if goal.tolerance is not None else 0
        for inst in instances:
            env = {s: evaluate(v, {}, "mpmath") for s, v in inst.items()}
            try:
                a = evaluate(expectation_form(goal.lhs), env, "mpmath", hook, heads)
                b = evaluate(expectation_form(goal.rhs), env, "mpmath", hook, heads)
            except (EvaluationError, ZeroDivisionError, ValueError, TypeError) as exc:
                return Judgement.undecided(f"numeric: not evaluated: {exc}")
            scale = max(1, abs(a), abs(b))
            excess = max(0, abs(a - b) - tol) / scale
            text = {str(s): str(v) for s, v in inst.items()}
            if excess > mpmath.mpf(10) ** (-(digits // 2)):
                return Judgement(
                    Verdict.REFUTED, f"numeric: the sides differ at {text}" + (
                        f" by more than the tolerance {tolerance_text(goal.tolerance)}" if tol else ""),
                    counterexample={"instance": text, "lhs": mpmath.nstr(a, 20),
                                    "rhs": mpmath.nstr(b, 20), "numeric": True})
            if excess > mpmath.mpf(10) ** (-digits):
                return Judgement.undecided(
                    f"numeric: agreement to only {mpmath.nstr(excess, 3)} relative, short of "
                    f"{digits} digits{floor_note}")
            shown.append(text)
            seen.append(digits_seen(a, b, digits))
    least = min(seen)
    what = (f"within {tolerance_text(goal.tolerance)} (at {digits} digits)" if tol
            else f"agree to {least} significant digits")
    return Judgement(
        Verdict.CORROBORATED, f"numeric: {what} on {len(shown)} instance(s){floor_note}",
        evidence=[Evidence("mpmath", True, f"{len(shown)} instance(s): {what}",
                           {"digits": digits if tol else least, "instances": shown,
                            **({"tolerance": str(goal.tolerance)} if tol else {})})])
