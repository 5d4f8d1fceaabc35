"""The Monte-Carlo witness: seeded simulation of the random objects in a step.

Every ``E[f]`` in the step is estimated by the sample mean of f over ``samples`` independent
draws (one shared draw for all expectations of the step). The difference D = lhs - rhs, a
function of the expectations, gets its standard error by the delta method from the sample
covariance of the integrands; z = D / se is compared with the family-wise threshold of
:mod:`tpcheck.witness.stats`. Each ``crosscheck montecarlo`` line of a theorem is one run (its own
sample size, seed, fixed parameters and concrete laws for iid families declared by moments).
"""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np
import sympy

from tpcheck.engines.equality import numbers_differ
from tpcheck.engines.heads import Expectation, TracePower, expectations
from tpcheck.engines.laws import GaussianComponent, IIDFamily, Law, MatrixEnsemble
from tpcheck.engines.mpmath_eval import evaluate
from tpcheck.engines.numeric_heads import head_hooks
from tpcheck.engines.random_matrices import tridiagonal_hermite, tridiagonal_trace_powers
from tpcheck.errors import EvaluationError
from tpcheck.expectations.forms import expectation_form
from tpcheck.kernel import Context, Evidence, Goal, Judgement, MontecarloSettings, Verdict, WitnessSettings
from tpcheck.witness.instances import witness_instances
from tpcheck.witness.stats import Z_THRESHOLD, mean_and_covariance, t_threshold

DEFAULT_SAMPLES = 20_000
MAX_SAMPLES = 5_000_000
MAX_DRAWS = 60_000_000  # samples x family members
MAX_FAMILY_SIZE = 10_000


class NotApplicable(Exception):
    """The step cannot be simulated with this configuration (the reason is reported)."""


def _difference(goal: Goal, atoms: list[Expectation], values: list[Any], env: dict,
                heads: dict) -> Any:
    table = dict(zip(atoms, values, strict=True))

    def hook(e: Expectation, _env: dict) -> Any:
        if e not in table:
            raise EvaluationError(f"{e} was not simulated")
        return table[e]

    return (evaluate(goal.lhs, env, "mpmath", hook, heads)
            - evaluate(goal.rhs, env, "mpmath", hook, heads))


def _laws_for(ctx: Context, cfg: MontecarloSettings
              ) -> tuple[dict[sympy.Symbol, Any], dict[sympy.Symbol, Any]]:
    """The laws to simulate (with the configuration's concrete laws put in) and the symbol
    values those concrete laws imply for the families' named moments."""
    laws = dict(ctx.laws)
    implied: dict[sympy.Symbol, sympy.Expr] = {}
    for label, law in cfg.laws.items():
        fam = laws[label]
        for j, declared in fam.moments:
            actual = law.moment(j)
            pending = declared.xreplace(implied)
            unknown = sorted(pending.free_symbols, key=str)
            if len(unknown) == 1:
                (sym,) = unknown
                solutions = [v for v in sympy.solve(sympy.Eq(pending, actual), sym)
                             if v.is_real and (not sym.is_positive or v.is_positive)
                             and (not sym.is_nonnegative or v.is_nonnegative)]
                if len(solutions) != 1:
                    raise NotApplicable(f"E[{label}^{j}] = {declared} does not fix {sym} for "
                                        f"{law.describe()}")
                implied[sym] = solutions[0]
            elif unknown:
                raise NotApplicable(f"moment E[{label}^{j}] = {declared} cannot be matched to "
                                    f"{law.describe()}")
            elif numbers_differ(actual, pending) is not False:
                raise NotApplicable(f"{law.describe()} has E[{label}^{j}] = {actual}, but the "
                                    f"family declares {declared}")
        laws[label] = fam.with_law(law)
    return laws, implied


def _simulate(laws: dict, randoms: list, env_np: dict, samples: int,
              rng: np.random.Generator, atoms: list) -> dict:
    draws: dict[sympy.Basic, np.ndarray] = {}
    for z in randoms:
        law = laws[z]
        if z in draws:
            continue
        if isinstance(law, GaussianComponent):
            vec = law.vector
            mean = np.array([float(evaluate(m, env_np, "numpy")) for m in vec.mean])
            cov = np.array([[float(evaluate(x, env_np, "numpy")) for x in row] for row in vec.cov])
            w, v = np.linalg.eigh(cov)
            if w.min() < -1e-9 * max(1.0, abs(w).max()):
                raise NotApplicable("the covariance matrix is not positive semidefinite here")
            block = mean[:, None] + (v * np.sqrt(np.clip(w, 0, None))) @ rng.standard_normal(
                (len(mean), samples))
            for i, name in enumerate(vec.names):
                draws[name] = block[i]
            continue
        if isinstance(law, MatrixEnsemble):
            draws[z] = _power_sums(law, _max_power(atoms, z, env_np), env_np, samples, rng)
            continue
        if isinstance(law, IIDFamily):
            if law.law is None:
                raise NotApplicable(f"family {z} has no concrete law; give one with "
                                    f"'crosscheck montecarlo law {z} ~ Rademacher()'")
            lo = int(evaluate(law.lo, env_np, "numpy"))
            hi = int(evaluate(law.hi, env_np, "numpy"))
            size = hi - lo + 1
            if size > MAX_FAMILY_SIZE or size * samples > MAX_DRAWS:
                raise NotApplicable(f"family {z} of size {size} is too large to simulate")
            params = [float(evaluate(p, env_np, "numpy")) for p in law.law.parameters]
            block = law.law.sample(rng, (size, samples), *params)
            for j in range(lo, hi + 1):
                draws[law.base[sympy.Integer(j)]] = block[j - lo]
        else:
            assert isinstance(law, Law)
            params = [float(evaluate(p, env_np, "numpy")) for p in law.parameters]
            draws[z] = law.sample(rng, samples, *params)
    return draws


MAX_MATRIX_ENTRIES = 40_000_000  # samples x n x n for dense sampling
MAX_TRIDIAGONAL = 200_000_000  # samples x n for the tridiagonal models
DENSE_UP_TO = 48  # GOE/GUE above this size use the Dumitriu-Edelman tridiagonal model


def _power_sums(law: MatrixEnsemble, kmax: int, env_np: dict, samples: int,
                rng: np.random.Generator) -> np.ndarray:
    """tr M^j for j = 0..kmax over ``samples`` independent draws (samples x (kmax + 1)):
    dense sampling and eigenvalues for small n or Wigner entries; for GOE/GUE with
    n > DENSE_UP_TO the tridiagonal model (same eigenvalue law) and banded trace powers."""
    n = int(round(float(evaluate(law.n, env_np, "numpy"))))
    if law.kind == "Wishart":
        cols = int(evaluate(law.columns, env_np, "numpy"))
        if abs(float(evaluate(law.n, env_np, "numpy")) - n) > 1e-9:
            raise NotApplicable("the number of rows p is not an integer at this instance")
        if samples * n * cols > MAX_MATRIX_ENTRIES:
            raise NotApplicable(f"{samples} samples of a {n} x {cols} matrix are too many")
        if law.law is not None:
            params = [float(evaluate(p, env_np, "numpy")) for p in law.law.parameters]
            x = law.law.sample(rng, (samples, n, cols), *params)
        elif any(not (v.is_Integer or v.is_Rational) for _, v in law.moments):
            raise NotApplicable("the Wishart entries have no concrete law; give one with "
                                "'crosscheck montecarlo law S ~ Rademacher()'")
        else:
            x = rng.standard_normal((samples, n, cols))
        eig = np.linalg.eigvalsh(x @ np.swapaxes(x, 1, 2) / cols)
        return _eigenvalue_power_sums(eig, kmax)
    if law.kind in ("GOE", "GUE") and n > DENSE_UP_TO:
        if samples * n > MAX_TRIDIAGONAL:
            raise NotApplicable(f"{samples} samples of a {n} x {n} matrix are too many to simulate")
        beta = 1 if law.kind == "GOE" else 2
        out = np.empty((samples, kmax + 1))
        out[:, 0] = n
        for s in range(samples):
            d, e = tridiagonal_hermite(n, beta, rng)
            out[s, 1:] = tridiagonal_trace_powers(d, e, kmax) if kmax else []
        return out
    if samples * n * n > MAX_MATRIX_ENTRIES:
        raise NotApplicable(f"{samples} samples of a {n} x {n} matrix are too many to simulate")
    if law.kind == "GOE":
        a = rng.standard_normal((samples, n, n))
        m = (a + np.swapaxes(a, 1, 2)) / np.sqrt(2)
    elif law.kind == "GUE":
        g = rng.standard_normal((samples, n, n)) + 1j * rng.standard_normal((samples, n, n))
        m = (g + np.conj(np.swapaxes(g, 1, 2))) / 2
    else:
        if law.law is None:
            raise NotApplicable("the Wigner matrix has no concrete entry law; give one with "
                                "'crosscheck montecarlo law X ~ Rademacher()'")
        params = [float(evaluate(p, env_np, "numpy")) for p in law.law.parameters]
        entries = law.law.sample(rng, (samples, n, n), *params)
        upper = np.triu(entries, 1)
        m = upper + np.swapaxes(upper, 1, 2)
    eig = np.linalg.eigvalsh(m)
    return _eigenvalue_power_sums(eig, kmax)


def _eigenvalue_power_sums(eig: np.ndarray, kmax: int) -> np.ndarray:
    """sum_i lambda_i^j for j = 0..kmax, per row of eigenvalues (repeated products, not pow)."""
    out = np.empty((eig.shape[0], kmax + 1))
    power = np.ones_like(eig)
    for j in range(kmax + 1):
        out[:, j] = power.sum(axis=1)
        if j < kmax:
            power *= eig
    return out


def _trace_power(e: TracePower, env: dict) -> np.ndarray:
    m, k = e.args
    sums = env.get(m)
    kk = int(evaluate(k, env, "numpy"))
    if sums is None or kk >= sums.shape[1]:
        raise EvaluationError(f"tr({m}^{kk}) was not simulated")
    return sums[:, kk]


def _max_power(atoms: list, m: sympy.Symbol, env_np: dict) -> int:
    powers = [int(evaluate(t.args[1], env_np, "numpy")) for a in atoms
              for t in a.args[0].atoms(TracePower) if t.args[0] == m]
    return max(powers, default=0)


def montecarlo_witness(
    goal: Goal, ctx: Context, judgement: Judgement, settings: WitnessSettings, seed: int
) -> list[Evidence]:
    if goal.rel == "~>":
        return []  # a law on the right: no value to estimate
    if goal.rel == "->":
        return _average_limit_runs(goal, ctx, judgement, settings, seed)
    goal = Goal(expectation_form(goal.lhs), goal.rel, expectation_form(goal.rhs), goal.limit_var,
                goal.tolerance)
    atoms = list(dict.fromkeys(expectations(goal.lhs) + expectations(goal.rhs)))
    if not atoms or not all(a.args[0].free_symbols & ctx.random_symbols for a in atoms):
        return []
    configs = settings.crosschecks.montecarlo or (MontecarloSettings(),)
    scale = float(settings.montecarlo_scale)
    out = []
    for i, cfg in enumerate(configs):
        cfg_seed = seed + i if cfg.seed is None else cfg.seed
        try:
            out.append(one_run(goal, ctx, judgement, cfg, cfg_seed, scale, atoms))
        except NotApplicable as exc:
            out.append(Evidence("montecarlo", None, f"not simulated: {exc}"))
    return out


def one_run(goal: Goal, ctx: Context, judgement: Judgement, cfg: MontecarloSettings, seed: int,
             scale: float, atoms: list[Expectation]) -> Evidence:
    requested = DEFAULT_SAMPLES if cfg.samples is None else cfg.samples
    samples = int(min(MAX_SAMPLES, max(100, requested * scale)))
    laws, implied = _laws_for(ctx, cfg)
    fixed = {**cfg.fixed, **implied}
    instances = witness_instances(goal, ctx, judgement, None, fixed, 1, seed)
    if not instances:
        raise NotApplicable("no instance satisfies the assumptions")
    inst = instances[0]
    rng = np.random.default_rng(seed)
    randoms = sorted({z for a in atoms for z in a.args[0].free_symbols & ctx.random_symbols},
                     key=lambda s: s.name)
    try:
        with mpmath.workdps(30):
            env_mp = {s: evaluate(v, {}, "mpmath") for s, v in inst.items()}
        env_np = {s: float(v) for s, v in env_mp.items()}
        draws = _simulate(laws, randoms, env_np, samples, rng, atoms)
        columns = np.vstack([
            np.broadcast_to(np.asarray(evaluate(a.args[0], {**env_np, **draws}, "numpy",
                                                heads={TracePower: _trace_power}), float),
                            (samples,))
            for a in atoms
        ])
    except (EvaluationError, ValueError, TypeError, OverflowError) as exc:
        raise NotApplicable(str(exc)) from exc
    if not np.all(np.isfinite(columns)):
        raise NotApplicable("the simulated integrand is not finite")
    means, cov = mean_and_covariance(columns)
    heads = head_hooks(laws)
    with mpmath.workdps(30):
        mvals = [mpmath.mpf(float(m)) for m in means]
        try:
            d0 = _difference(goal, atoms, mvals, env_mp, heads)
            grad = []
            for i in range(len(atoms)):
                h = mpmath.mpf(10) ** -7 * max(1, abs(mvals[i]))
                up, dn = list(mvals), list(mvals)
                up[i] += h
                dn[i] -= h
                grad.append(float((_difference(goal, atoms, up, env_mp, heads)
                                   - _difference(goal, atoms, dn, env_mp, heads)) / (2 * h)))
        except (EvaluationError, ZeroDivisionError, ValueError, TypeError) as exc:
            raise NotApplicable(f"not evaluated: {exc}") from exc
    g = np.asarray(grad)
    se = float(np.sqrt(max(0.0, g @ cov @ g)))
    diff = float(d0)
    refuted = judgement.verdict is Verdict.REFUTED
    law_text = {str(k): v.describe() for k, v in cfg.laws.items()}
    data = {"estimate": diff, "std_error": se, "samples": samples, "seed": seed,
            "instance": {str(s): str(v) for s, v in inst.items()}, "threshold": Z_THRESHOLD}
    if law_text:
        data["laws"] = law_text
    if goal.tolerance is not None:  # |lhs - rhs| <= t: only the excess over t can flag
        diff = float(np.sign(diff)) * max(0.0, abs(diff) - float(goal.tolerance))
    if se == 0.0:
        same = abs(diff) <= 1e-9 * (1.0 + float(np.max(np.abs(means))))
        # No sampling error: the float comparison alone speaks (the mpmath witness re-checks a
        # counterexample at high precision, so a tiny exact difference is its job).
        ok = (None if refuted else True) if same else (True if refuted else False)
        text = ("the sides are the same function of the simulated expectations" if same
                else f"the sides differ by {diff:.4g} whatever the simulated values")
        return Evidence("montecarlo", ok, text, data)
    z = diff / se
    data["z"] = z
    if goal.rel in ("<=", "<"):
        flagged = z > Z_THRESHOLD
    elif goal.rel in (">=", ">"):
        flagged = z < -Z_THRESHOLD
    else:
        flagged = abs(z) > Z_THRESHOLD
    at = ", ".join(f"{k} = {v}" for k, v in data["instance"].items())
    text = (f"lhs - rhs = {diff:.4g} ± {se:.3g} (z = {z:.2f}; {samples} samples, seed {seed}"
            + (f"; {at}" if at else "") + (f"; {', '.join(f'{k} ~ {v}' for k, v in law_text.items())}"
                                            if law_text else "") + ")")
    if refuted:
        return Evidence("montecarlo", True if flagged else None,
                        text + (": flags the difference" if flagged else ": does not resolve it"),
                        data)
    return Evidence("montecarlo", not flagged, text, data)


def _average_limit_runs(goal: Goal, ctx: Context, judgement: Judgement, settings: WitnessSettings,
                        seed: int) -> list[Evidence]:
    """For a limit of a function of averages of a tensor program (an NNGP or NTK head is a sum
    of products of averages): simulate the program at each width that a ``crosscheck
    montecarlo ... at n = N`` fixes, evaluate the left side in every run (all its averages from
    one realisation), and set the mean over the runs beside the claimed limit. The standard
    error is estimated from the runs themselves, so z is compared with the Student-t threshold
    for runs - 1 degrees of freedom (heavier tails than the normal), not the normal one. A
    finite width carries a bias of its own, so a large z is reported as inconclusive, never as
    agreement; only a small z counts as agreement."""
    from tpcheck.engines.netsor import ProgramCompiler, ProgramError, simulate_runs

    n = goal.limit_var
    atoms = ProgramCompiler.averages(goal.lhs)
    configs = [c for c in settings.crosschecks.montecarlo if n in c.fixed]
    if not atoms or not configs:
        return []
    dummies = [sympy.Dummy(f"avg{i}") for i in range(len(atoms))]
    lhs = goal.lhs.xreplace(dict(zip(atoms, dummies, strict=True)))
    if n in lhs.free_symbols:
        return [Evidence("montecarlo", None, f"the left side depends on {n} outside its averages")]
    out = []
    for i, cfg in enumerate(configs):
        fixed = dict(cfg.fixed)
        width = int(fixed[n])
        run_seed = seed + i if cfg.seed is None else cfg.seed
        samples = 20 if cfg.samples is None else cfg.samples
        try:
            inst = {k: v for k, v in fixed.items() if k != n}
            comp = ProgramCompiler(ctx.laws, n, inst)
            compiled = [comp.average(a.xreplace(inst)) for a in atoms]
            runs = simulate_runs(comp.program, compiled, width, samples, run_seed)
            with mpmath.workdps(30):
                form = lhs.xreplace(inst)
                values = np.array([float(evaluate(form, dict(zip(dummies, (float(x) for x in row),
                                                                 strict=True)), "mpmath"))
                                   for row in runs])
                target = float(evaluate(goal.rhs.xreplace(inst), {}, "mpmath"))
        except (ProgramError, EvaluationError, ValueError, TypeError) as exc:
            out.append(Evidence("montecarlo", None, f"not simulated: {exc}"))
            continue
        value = float(values.mean())
        err = float(values.std(ddof=1) / np.sqrt(samples)) if samples > 1 else 0.0
        z = (value - target) / err if err > 0 else 0.0
        threshold = t_threshold(samples - 1) if samples > 1 else Z_THRESHOLD
        at = ", ".join(f"{k} = {v}" for k, v in fixed.items())
        data = {"estimate": value, "std_error": err, "z": z, "samples": samples, "seed": run_seed,
                "width": width, "limit": target, "threshold": threshold}
        text = (f"at width {width}: {value:.5g} ± {err:.2g} against the limit {target:.5g} "
                f"(z = {z:.2f}, Student-t threshold {threshold:.3g}; {samples} runs, "
                f"seed {run_seed}; {at})")
        ok = True if abs(z) <= threshold else None
        if judgement.verdict is Verdict.REFUTED:
            ok = None
        out.append(Evidence("montecarlo", ok, text + ("" if ok else
                            ": a finite-width bias or a wrong limit"), data))
    return out
