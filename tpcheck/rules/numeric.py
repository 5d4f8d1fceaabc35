"""The ``numeric`` rule: agreement in high-precision floating point (CORROBORATED only)."""

from __future__ import annotations

import random

import mpmath
import sympy

from tpcheck.engines.law_quadrature import quadrature_hook
from tpcheck.engines.mpmath_eval import DEFAULT_DIGITS, GUARD_DIGITS, digits_seen, evaluate
from tpcheck.engines.numeric_heads import head_hooks
from tpcheck.errors import EvaluationError
from tpcheck.expectations.forms import expectation_form, free_deterministic_symbols
from tpcheck.kernel import Context, Evidence, Goal, Judgement, Verdict, rule
from tpcheck.kernel.proof import tolerance_text, working_digits
from tpcheck.kernel.verdict import FLOAT_DIGITS_FLOOR
from tpcheck.trusted import rests_on

INSTANCES = 4
SEED = 12345


def sample_instances(goal: Goal, ctx: Context) -> list[dict[sympy.Symbol, sympy.Expr]]:
    """Up to INSTANCES seeded instances of the step's deterministic symbols inside the
    declared domains and assumptions, at which every law of the theorem is a law."""
    symbols = free_deterministic_symbols(goal.lhs, goal.rhs, ctx.laws, goal.limit_var)
    space = ctx.space
    if not symbols:
        drawn = [{}] if space.satisfies({}) else []
    else:
        drawn = [inst for inst in space.sample(symbols, 4 * INSTANCES, random.Random(SEED))
                 if space.satisfies(inst)]
    return [inst for inst in drawn if space.laws_hold(inst)][:INSTANCES]


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
    requested = DEFAULT_DIGITS if ctx.settings.digits is None else ctx.settings.digits
    digits = working_digits(requested)
    floor_note = (f" (the file asked for {requested}; the floor is {FLOAT_DIGITS_FLOOR})"
                  if requested < FLOAT_DIGITS_FLOOR else "")
    rests_on("mpmath-quadrature")
    instances = sample_instances(goal, ctx)
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
