"""The Monte-Carlo witness: seeded simulation of the random objects in a step.

Every ``E[f]`` in the step is estimated by the sample mean of f over ``samples`` independent
draws (one shared draw for all expectations of the step). The difference D = lhs - rhs, a
function of the expectations, gets its standard error by the delta method from the sample
covariance of the integrands; z = D / se is compared with the family-wise threshold of
:mod:`tpcheck.stats`.
"""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np

from tpcheck.errors import EvaluationError
from tpcheck.heads import Expectation, expectations
from tpcheck.kernel import Context, Evidence, Goal, Judgement, Verdict
from tpcheck.numeric import evaluate
from tpcheck.stats import Z_THRESHOLD, mean_and_covariance
from tpcheck.witness.instances import witness_instances

DEFAULT_SAMPLES = 20_000
MAX_SAMPLES = 5_000_000


def _difference(goal: Goal, atoms: list[Expectation], values: list[Any], env: dict) -> Any:
    table = dict(zip(atoms, values, strict=True))

    def hook(e: Expectation, _env: dict) -> Any:
        if e not in table:
            raise EvaluationError(f"{e} was not simulated")
        return table[e]

    return evaluate(goal.lhs, env, "mpmath", hook) - evaluate(goal.rhs, env, "mpmath", hook)


def montecarlo_witness(
    goal: Goal, ctx: Context, judgement: Judgement, settings: dict[str, Any], seed: int
) -> list[Evidence]:
    if goal.rel == "->":
        return []
    atoms = [a for a in expectations(goal.lhs) + expectations(goal.rhs)]
    atoms = list(dict.fromkeys(atoms))
    if not atoms or not all(a.args[0].free_symbols & ctx.random_symbols for a in atoms):
        return []
    cfg = settings.get("montecarlo", {})
    scale = float(settings.get("montecarlo_scale", 1.0))
    samples = int(min(MAX_SAMPLES, max(100, int(cfg.get("samples", DEFAULT_SAMPLES)) * scale)))
    instances = witness_instances(goal, ctx, judgement, cfg, 1, seed)
    if not instances:
        return [Evidence("montecarlo", None, "no instance satisfies the assumptions")]
    inst = instances[0]
    step_seed = seed
    rng = np.random.default_rng(step_seed)
    try:
        with mpmath.workdps(30):
            env_mp = {s: evaluate(v, {}, "mpmath") for s, v in inst.items()}
        env_np = {s: float(v) for s, v in env_mp.items()}
        randoms = sorted(ctx.random_symbols, key=lambda s: s.name)
        draws = {}
        for z in randoms:
            law = ctx.laws[z]
            params = [float(evaluate(p, env_np, "numpy")) for p in law.parameters]
            draws[z] = law.sample(rng, samples, *params)
        columns = np.vstack([
            np.broadcast_to(np.asarray(evaluate(a.args[0], {**env_np, **draws}, "numpy"), float),
                            (samples,))
            for a in atoms
        ])
    except (EvaluationError, ValueError, TypeError, OverflowError) as exc:
        return [Evidence("montecarlo", None, f"not simulated: {exc}")]
    if not np.all(np.isfinite(columns)):
        return [Evidence("montecarlo", None, "the simulated integrand is not finite")]
    means, cov = mean_and_covariance(columns)
    with mpmath.workdps(30):
        mvals = [mpmath.mpf(float(m)) for m in means]
        try:
            d0 = _difference(goal, atoms, mvals, env_mp)
            grad = []
            for i in range(len(atoms)):
                h = mpmath.mpf(10) ** -7 * max(1, abs(mvals[i]))
                up = list(mvals)
                dn = list(mvals)
                up[i] += h
                dn[i] -= h
                grad.append(float((_difference(goal, atoms, up, env_mp)
                                   - _difference(goal, atoms, dn, env_mp)) / (2 * h)))
        except (EvaluationError, ZeroDivisionError, ValueError, TypeError) as exc:
            return [Evidence("montecarlo", None, f"not evaluated: {exc}")]
    g = np.asarray(grad)
    se = float(np.sqrt(max(0.0, g @ cov @ g)))
    diff = float(d0)
    if se == 0.0:
        scale = 1.0 + float(np.max(np.abs(means)))
        same = abs(diff) <= 1e-9 * scale
        refuted = judgement.verdict is Verdict.REFUTED
        # No sampling error here: the float comparison alone speaks (the mpmath witness
        # re-checks a counterexample at high precision, so a tiny exact difference is its job).
        ok = (None if refuted else True) if same else (True if refuted else False)
        return [Evidence(
            "montecarlo", ok,
            "the sides are the same function of the simulated expectations" if same
            else f"the sides differ by {diff:.4g} whatever the simulated values",
            {"estimate": diff, "std_error": 0.0, "samples": samples, "seed": step_seed},
        )]
    z = diff / se if se > 0 else (0.0 if abs(diff) < 1e-12 else float("inf"))
    if goal.rel in ("<=", "<"):
        flagged = z > Z_THRESHOLD
    elif goal.rel in (">=", ">"):
        flagged = z < -Z_THRESHOLD
    else:
        flagged = abs(z) > Z_THRESHOLD
    data = {
        "estimate": diff, "std_error": se, "z": z, "threshold": Z_THRESHOLD,
        "samples": samples, "seed": step_seed,
        "instance": {str(s): str(v) for s, v in inst.items()},
    }
    text = (f"lhs - rhs = {diff:.4g} ± {se:.3g} (z = {z:.2f}, {samples} samples, "
            f"seed {step_seed})")
    if judgement.verdict is Verdict.REFUTED:
        return [Evidence("montecarlo", True if flagged else None,
                         text + (" flags the difference" if flagged else " does not resolve it"),
                         data)]
    return [Evidence("montecarlo", not flagged, text, data)]


