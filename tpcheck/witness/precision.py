"""The mpmath witness: both sides of a step evaluated separately at high precision.

Expectations of functions of declared random objects are computed by tanh-sinh quadrature
against their densities (up to two random objects); limits by evaluating the left side at
n = 10^8, 10^16, 10^32 and 10^64 and watching it approach the claimed value.
"""

from __future__ import annotations

from typing import Any

import mpmath
import sympy

from tpcheck.engines.heads import Expectation
from tpcheck.engines.laws import GaussianComponent, IIDFamily, MatrixEnsemble, Normal, joint_gaussian
from tpcheck.engines.mpmath_eval import evaluate, quad
from tpcheck.errors import EvaluationError
from tpcheck.expectations.forms import expectation_form
from tpcheck.kernel import Context, Evidence, Goal, Judgement, Verdict
from tpcheck.kernel.proof import tolerance_text
from tpcheck.kernel.verdict import FLOAT_DIGITS_FLOOR
from tpcheck.witness.hooks import head_hooks
from tpcheck.witness.instances import witness_instances

DEFAULT_DIGITS = 30
#: The fewest significant digits floating-point agreement may rest on; a file cannot lower it.
MIN_DIGITS = FLOAT_DIGITS_FLOOR


def working_digits(requested: object) -> int:
    """The digits a check works to: the file's request, but never fewer than MIN_DIGITS."""
    return max(MIN_DIGITS, int(requested))  # type: ignore[call-overload]


def digits_seen(a: object, b: object, cap: int) -> int:
    """Significant digits on which two floating values agree: floor(-log10 |a - b| / max(1,
    |a|, |b|)), capped at ``cap`` (the digits asked for: the guard digits are not claimed)."""
    scale = max(mpmath.mpf(1), abs(a), abs(b))
    err = abs(a - b) / scale
    if err == 0:
        return cap
    return max(0, min(cap, int(mpmath.floor(-mpmath.log10(err)))))
DEFAULT_INSTANCES = 3
GUARD_DIGITS = 15


def quadrature_hook(ctx: Context):  # noqa: ANN201
    """An ``E[.]`` evaluator by nested quadrature over the laws of the random symbols: each
    independent block (one random symbol, or the coordinates of one Gaussian vector that
    occur) is integrated against its law; at most two random coordinates in all."""

    def expect(e: Expectation, env: dict) -> Any:
        arg = e.args[0]
        randoms = sorted(arg.free_symbols & ctx.random_symbols, key=lambda s: s.name)
        if len(randoms) > 2:
            raise EvaluationError("quadrature witness handles at most two random objects")
        if any(isinstance(ctx.laws[z], IIDFamily | MatrixEnsemble) for z in randoms):
            raise EvaluationError("iid families and random matrices are witnessed by "
                                  "Monte-Carlo, not by quadrature")
        blocks: list[list[sympy.Symbol]] = []
        for z in randoms:
            law = ctx.laws[z]
            for b in blocks:
                other = ctx.laws[b[0]]
                if (isinstance(law, GaussianComponent) and isinstance(other, GaussianComponent)
                        and law.vector == other.vector):
                    b.append(z)
                    break
            else:
                blocks.append([z])

        def integrate(i: int, inner_env: dict) -> Any:
            if i == len(blocks):
                return evaluate(arg, inner_env, "mpmath", expect)
            block = blocks[i]
            law = ctx.laws[block[0]]
            if isinstance(law, GaussianComponent | Normal):
                mean, cov = joint_gaussian(block, ctx.laws)
                mu = [evaluate(m, inner_env, "mpmath") for m in mean]
                c = [[evaluate(x, inner_env, "mpmath") for x in row] for row in cov]
                return _gaussian_block(block, mu, c, lambda vals: integrate(
                    i + 1, {**inner_env, **dict(zip(block, vals, strict=True))}),
                    _degree(arg, block))
            params = [evaluate(p, inner_env, "mpmath") for p in law.parameters]
            z = block[0]
            return law.mpmath_expectation(lambda x: integrate(i + 1, {**inner_env, z: x}), *params)

        return integrate(0, env)

    return expect


def _degree(arg: sympy.Expr, block: list) -> int | None:
    """Total degree of ``arg`` as a polynomial in the block's variables, or None."""
    try:
        return sympy.Poly(arg, *block).total_degree()
    except (sympy.PolynomialError, sympy.GeneratorsNeeded):
        return None


_HERMITE: dict[tuple[int, int], tuple[list, list]] = {}


def _hermite_rule(n: int) -> tuple[list, list]:
    """Nodes and weights of E[g(Z)], Z ~ N(0, 1), exact for polynomials of degree < 2n."""
    key = (n, mpmath.mp.prec)
    if key not in _HERMITE:
        if n == 1:
            _HERMITE[key] = ([mpmath.mpf(0)], [mpmath.mpf(1)])
        else:
            xs, ws = mpmath.gauss_quadrature(n, "hermite")
            root_pi = mpmath.sqrt(mpmath.pi)
            _HERMITE[key] = ([mpmath.sqrt(2) * x for x in xs], [w / root_pi for w in ws])
    return _HERMITE[key]


def _gaussian_block(block: list, mu: list, c: list, f: Any, degree: int | None = None) -> Any:
    """E[f(X)] for X ~ N(mu, c) of dimension 1 or 2 (Cholesky: x = mu + L z); a polynomial
    integrand of known degree by Gauss-Hermite quadrature (exact), others by tanh-sinh."""
    norm = 1 / mpmath.sqrt(2 * mpmath.pi)
    line = [-mpmath.inf, 0, mpmath.inf]
    if len(block) == 1:
        sd = mpmath.sqrt(c[0][0])
        if degree is not None:
            zs, ws = _hermite_rule(degree // 2 + 1)
            return mpmath.fsum(w * f([mu[0] + sd * z]) for z, w in zip(zs, ws, strict=True))
        return quad(lambda z: f([mu[0] + sd * z]) * mpmath.exp(-z * z / 2) * norm, line)
    l11 = mpmath.sqrt(c[0][0])
    l21 = c[1][0] / l11 if l11 else mpmath.mpf(0)
    l22 = mpmath.sqrt(max(mpmath.mpf(0), c[1][1] - l21 * l21))
    if degree is not None:
        zs, ws = _hermite_rule(degree // 2 + 1)
        return mpmath.fsum(
            w1 * w2 * f([mu[0] + l11 * z1, mu[1] + l21 * z1 + l22 * z2])
            for z1, w1 in zip(zs, ws, strict=True) for z2, w2 in zip(zs, ws, strict=True))
    return quad(
        lambda z1, z2: f([mu[0] + l11 * z1, mu[1] + l21 * z1 + l22 * z2])
        * mpmath.exp(-(z1 * z1 + z2 * z2) / 2) * norm * norm, line, line)


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
    digits = working_digits(cfg.get("digits", DEFAULT_DIGITS))
    count = int(cfg.get("instances", DEFAULT_INSTANCES))
    instances = witness_instances(goal, ctx, judgement, cfg.get("range"), {}, count, seed)
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
