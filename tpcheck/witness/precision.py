"""The mpmath witness: both sides of a step evaluated separately at high precision.

Expectations of functions of declared random objects are computed by tanh-sinh quadrature
against their densities (up to two random objects); limits by evaluating the left side at
n = 10^8, 10^16, 10^32 and 10^64 and watching it approach the claimed value.
"""

from __future__ import annotations

from typing import Any

import mpmath
import sympy

from tpcheck.engines.law_quadrature import quadrature_hook
from tpcheck.engines.mpmath_eval import DEFAULT_DIGITS, GUARD_DIGITS, evaluate
from tpcheck.engines.numeric_heads import head_hooks
from tpcheck.errors import EvaluationError
from tpcheck.expectations.forms import expectation_form
from tpcheck.kernel import Context, Evidence, Goal, Judgement, Verdict
from tpcheck.kernel.proof import WitnessSettings, tolerance_text, working_digits
from tpcheck.witness.instances import witness_instances

DEFAULT_INSTANCES = 3


def _close(a: Any, b: Any, digits: int) -> tuple[bool, float]:
    scale = max(mpmath.mpf(1), abs(a), abs(b))
    err = abs(a - b) / scale
    return bool(err <= mpmath.mpf(10) ** (-(digits - 3))), float(err)


def _to_mp(v: sympy.Expr) -> Any:
    return evaluate(v, {}, "mpmath")


def mpmath_witness(
    goal: Goal, ctx: Context, judgement: Judgement, settings: WitnessSettings, seed: int
) -> list[Evidence]:
    if goal.rel == "~>":
        return []  # a law on the right: no number to evaluate
    cfg = settings.crosschecks.mpmath
    digits = working_digits(DEFAULT_DIGITS if cfg.digits is None else cfg.digits)
    count = DEFAULT_INSTANCES if cfg.instances is None else cfg.instances
    instances = witness_instances(goal, ctx, judgement, cfg.range, {}, count, seed)
    if not instances:
        return [Evidence("mpmath", None, "no instance satisfies the assumptions")]
    hook = quadrature_hook(ctx)
    heads = head_hooks(ctx.laws)
    worst, shown, skipped = 0.0, [], []
    with mpmath.workdps(digits + GUARD_DIGITS):
        for inst in instances:
            env = {s: _to_mp(v) for s, v in inst.items()}
            inst_text = {str(s): str(v) for s, v in inst.items()}
            try:
                if goal.rel == "->":
                    ev = _limit_evidence(goal, env, hook, digits, inst, heads)
                    if judgement.verdict is Verdict.REFUTED and ev.ok is not None:
                        ev.ok = not ev.ok
                        ev.detail = "at the counterexample: " + ev.detail
                    if ev.ok is None and len(skipped) + 1 < len(instances):
                        skipped.append(f"{inst_text}: {ev.detail}")
                        continue
                    return [ev]
                a = evaluate(expectation_form(goal.lhs), env, "mpmath", hook, heads)
                b = evaluate(expectation_form(goal.rhs), env, "mpmath", hook, heads)
            except (EvaluationError, ZeroDivisionError, ValueError, TypeError, OverflowError) as exc:
                skipped.append(f"{inst_text}: {exc}")
                continue
            if goal.tolerance is not None:
                # |lhs - rhs| <= t, up to the working precision's own rounding.
                slack = mpmath.mpf(10) ** (-(digits - 3)) * max(1, abs(a), abs(b))
                excess = abs(a - b) - _to_mp(goal.tolerance)
                ok, err = bool(excess <= slack), float(max(excess, 0))
            elif isinstance(a, mpmath.mpc) or isinstance(b, mpmath.mpc):
                ok, err = _close(a, b, digits)
            elif goal.rel in ("<=", "<", ">=", ">"):
                tol = mpmath.mpf(10) ** (-(digits - 3)) * max(1, abs(a), abs(b))
                ok = bool(a <= b + tol) if goal.rel in ("<=", "<") else bool(a + tol >= b)
                err = 0.0 if ok else float(abs(a - b))
            else:
                ok, err = _close(a, b, digits)
            if judgement.verdict is Verdict.REFUTED:
                confirms = not ok
                return [Evidence(
                    "mpmath", True if confirms else False,
                    f"at the counterexample the sides are {mpmath.nstr(a, 15)} and "
                    f"{mpmath.nstr(b, 15)}" + ("" if confirms else f" (equal to {digits} digits)"),
                    {"digits": digits, "instances": [inst_text]},
                )]
            worst = max(worst, err)
            shown.append(inst_text)
            if not ok:
                return [Evidence(
                    "mpmath", False,
                    f"at {inst_text}: lhs = {mpmath.nstr(a, 20)}, rhs = {mpmath.nstr(b, 20)}",
                    {"digits": digits, "instances": shown, "relative_error": err},
                )]
    if not shown:
        return [Evidence("mpmath", None, f"not evaluated: {skipped[0] if skipped else 'no instance'}")]
    detail = (f"{len(shown)} instance(s) agree to {digits} digits" if goal.tolerance is None
              else f"{len(shown)} instance(s) within {tolerance_text(goal.tolerance)} (at {digits} digits)")
    if skipped:
        detail += f" ({len(skipped)} not evaluated: {skipped[0]})"
    return [Evidence("mpmath", True, detail,
                     {"digits": digits, "instances": shown, "relative_error": worst})]


def _limit_evidence(goal: Goal, env: dict, hook: Any, digits: int, inst: dict,
                    heads: dict) -> Evidence:
    n = goal.limit_var
    target = evaluate(goal.rhs, env, "mpmath", hook, heads)
    if abs(target) == mpmath.inf:
        return Evidence("mpmath", None, "an infinite limit is not witnessed numerically")
    errs = []
    allowed = _to_mp(goal.tolerance) if goal.tolerance is not None else 0
    with mpmath.workdps(160):
        for e in (8, 16, 32, 64):
            value = evaluate(goal.lhs, {**env, n: mpmath.mpf(10) ** e}, "mpmath", hook, heads)
            errs.append(max(0, abs(value - target) - allowed) / max(1, abs(target)))
    inst_text = {str(s): str(v) for s, v in inst.items()}
    data = {"digits": digits, "instances": [inst_text], "errors": [float(x) for x in errs],
            "n": ["1e8", "1e16", "1e32", "1e64"]}
    if errs[-1] < mpmath.mpf(10) ** -6 and errs[-1] <= errs[0]:
        return Evidence("mpmath", True, f"|f(n) - limit| = {mpmath.nstr(errs[-1], 3)} at n = 1e64",
                        data)
    if errs[-1] > mpmath.mpf(10) ** -2 and errs[-1] >= errs[0] / 10:
        return Evidence("mpmath", False, f"f(n) stays {mpmath.nstr(errs[-1], 3)} away from the "
                        "claimed limit up to n = 1e64", data)
    return Evidence("mpmath", None, "slow convergence: the numeric limit is inconclusive", data)
