"""The mpmath witness: both sides of a step evaluated separately at high precision.

Expectations of functions of declared random objects are computed by tanh-sinh quadrature
against their densities (up to two random objects); limits by evaluating the left side at
n = 10^8, 10^16, 10^32 and 10^64 and watching it approach the claimed value.
"""

from __future__ import annotations

from typing import Any

import mpmath
import sympy

from tpcheck.errors import EvaluationError
from tpcheck.heads import Expectation
from tpcheck.kernel import Context, Evidence, Goal, Judgement, Verdict
from tpcheck.laws import IIDFamily
from tpcheck.numeric import evaluate
from tpcheck.witness.instances import witness_instances

DEFAULT_DIGITS = 30
DEFAULT_INSTANCES = 3
GUARD_DIGITS = 15


def quadrature_hook(ctx: Context):  # noqa: ANN201
    """An ``E[.]`` evaluator by nested quadrature over the laws of the random symbols."""

    def expect(e: Expectation, env: dict) -> Any:
        arg = e.args[0]
        randoms = sorted(arg.free_symbols & ctx.random_symbols, key=lambda s: s.name)
        if len(randoms) > 2:
            raise EvaluationError("quadrature witness handles at most two random objects")
        if any(isinstance(ctx.laws[z], IIDFamily) for z in randoms):
            raise EvaluationError("iid families are witnessed by Monte-Carlo, not by quadrature")

        def integrate(i: int, inner_env: dict) -> Any:
            if i == len(randoms):
                return evaluate(arg, inner_env, "mpmath", expect)
            z = randoms[i]
            law = ctx.laws[z]
            params = [evaluate(p, inner_env, "mpmath") for p in law.parameters]

            def f(x: Any) -> Any:
                return integrate(i + 1, {**inner_env, z: x})

            return law.mpmath_expectation(f, *params)

        return integrate(0, env)

    return expect


def _close(a: Any, b: Any, digits: int) -> tuple[bool, float]:
    scale = max(mpmath.mpf(1), abs(a), abs(b))
    err = abs(a - b) / scale
    return bool(err <= mpmath.mpf(10) ** (-(digits - 3))), float(err)


def _to_mp(v: sympy.Expr) -> Any:
    return evaluate(v, {}, "mpmath")


def mpmath_witness(
    goal: Goal, ctx: Context, judgement: Judgement, settings: dict[str, Any], seed: int
) -> list[Evidence]:
    cfg = settings.get("mpmath", {})
    digits = int(cfg.get("digits", DEFAULT_DIGITS))
    count = int(cfg.get("instances", DEFAULT_INSTANCES))
    instances = witness_instances(goal, ctx, judgement, cfg.get("range"), {}, count, seed)
    if not instances:
        return [Evidence("mpmath", None, "no instance satisfies the assumptions")]
    hook = quadrature_hook(ctx)
    worst, shown = 0.0, []
    with mpmath.workdps(digits + GUARD_DIGITS):
        for inst in instances:
            env = {s: _to_mp(v) for s, v in inst.items()}
            try:
                if goal.rel == "->":
                    ev = _limit_evidence(goal, env, hook, digits, inst)
                    if judgement.verdict is Verdict.REFUTED and ev.ok is not None:
                        ev.ok = not ev.ok
                        ev.detail = "at the counterexample: " + ev.detail
                    return [ev]
                a = evaluate(goal.lhs, env, "mpmath", hook)
                b = evaluate(goal.rhs, env, "mpmath", hook)
            except (EvaluationError, ZeroDivisionError, ValueError, TypeError, OverflowError) as exc:
                return [Evidence("mpmath", None, f"not evaluated: {exc}")]
            if isinstance(a, mpmath.mpc) or isinstance(b, mpmath.mpc):
                ok, err = _close(a, b, digits)
            elif goal.rel in ("<=", "<", ">=", ">"):
                tol = mpmath.mpf(10) ** (-(digits - 3)) * max(1, abs(a), abs(b))
                ok = bool(a <= b + tol) if goal.rel in ("<=", "<") else bool(a + tol >= b)
                err = 0.0 if ok else float(abs(a - b))
            else:
                ok, err = _close(a, b, digits)
            inst_text = {str(s): str(v) for s, v in inst.items()}
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
    return [Evidence("mpmath", True,
                     f"{len(shown)} instance(s) agree to {digits} digits",
                     {"digits": digits, "instances": shown, "relative_error": worst})]


def _limit_evidence(goal: Goal, env: dict, hook: Any, digits: int, inst: dict) -> Evidence:
    n = goal.limit_var
    target = evaluate(goal.rhs, env, "mpmath", hook)
    if abs(target) == mpmath.inf:
        return Evidence("mpmath", None, "an infinite limit is not witnessed numerically")
    errs = []
    with mpmath.workdps(160):
        for e in (8, 16, 32, 64):
            value = evaluate(goal.lhs, {**env, n: mpmath.mpf(10) ** e}, "mpmath", hook)
            errs.append(abs(value - target) / max(1, abs(target)))
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
