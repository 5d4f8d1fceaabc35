"""The ``moment_method`` rule: convergence in distribution to a Gaussian law, by moments."""

from __future__ import annotations

import sympy

from tpcheck.engines.equality import decide_equal
from tpcheck.engines.heads import Expectation, LimitLaw, MomentSum
from tpcheck.engines.laws import IIDFamily
from tpcheck.engines.netsor import ProgramCompiler, ProgramError
from tpcheck.engines.networks import NetworkOutput
from tpcheck.expectations.evaluators import MissingMoment, expand_sums
from tpcheck.expectations.programs import average_limit
from tpcheck.kernel import Context, Evidence, Goal, Judgement, Verdict, rule
from tpcheck.rules.common import split_power
from tpcheck.trusted import rests_on

CARLEMAN = ("a Gaussian law is determined by its moments: its even moments satisfy "
            "m_2j = (2j-1)!! s^(2j) <= (2j s^2)^j, so sum_j m_2j^(-1/(2j)) >= sum_j 1/(s sqrt(2j)) "
            "diverges (Carleman's condition; for a vector, for every direction, Cramer-Wold)")


def _gaussian_law(law: LimitLaw) -> tuple[list[sympy.Expr], list[list[sympy.Expr]]] | None:
    name, mean, cov = law.args
    if str(name) != "Normal":
        return None
    return list(mean), [list(r) for r in cov]


def _scalar_sum(goal: Goal, ctx: Context, mean: sympy.Expr, var: sympy.Expr) -> Judgement:
    """lhs a normalised sum of an iid family: E[lhs^k] = c^k n^(-k/2) moment_sum(X, n, k) for
    every k (E[X] = 0), whose limit is c^k pairings(k) m_2^(k/2), the k-th moment of
    N(0, c^2 m_2)."""
    n = goal.limit_var
    k = sympy.Symbol("moment.k", integer=True, nonnegative=True)
    try:
        moment = expand_sums(Expectation(goal.lhs ** k), ctx)
    except MissingMoment as exc:
        return Judgement.undecided(f"moment_method: {exc}")
    ms = [f for f in sympy.Mul.make_args(moment) if isinstance(f, MomentSum)]
    if len(ms) != 1 or ms[0].args[2] != k or ms[0].args[1] != n:
        return Judgement.undecided("moment_method: the k-th moment of the left side is not a "
                                   f"normalised moment sum over {n} members ({moment})")
    (m,) = ms
    rest = sympy.powsimp(sympy.expand_power_base(moment / m, force=False), combine="exp")
    power, const, bad = split_power(rest, n)
    if bad is not None:
        return Judgement.undecided(f"moment_method: the factor {bad} of the moments depends on {n}")
    if sympy.expand(power + k / 2) != 0:
        return Judgement.undecided(f"moment_method: the moments scale like {n}^({power}), not "
                                   f"{n}^(-k/2): no finite non-degenerate limit")
    fam = ctx.laws.get(m.args[0])
    m2 = fam.moment(2) if isinstance(fam, IIDFamily) else None
    if m2 is None:
        return Judgement.undecided(f"moment_method: E[{m.args[0]}^2] is not declared")
    c = sympy.Mul(*const)
    # c must be (scale)^k: the k-th moment's constant at k = 1 is the scale
    scale = c.xreplace({k: 1})
    if sympy.expand(sympy.powsimp(c - scale ** k, force=False)) != 0 and \
            decide_equal(c, scale ** k, ctx.space).status != "equal":
        return Judgement.undecided(f"moment_method: the constant {c} is not a k-th power")
    limit_var = sympy.expand(scale**2 * m2)
    rests_on("iid-sums")
    rests_on("pairings")
    checks = [("mean", sympy.Integer(0), mean), ("variance", limit_var, var)]
    for what, got, want in checks:
        d = decide_equal(got, want, ctx.space)
        if d.status == "unequal":
            return Judgement(Verdict.REFUTED, f"moment_method: the limit law has {what} {got}, "
                             f"not {want}", counterexample={**(d.counterexample or {"instance": {}}),
                                                            what: str(got), "claimed": str(want)})
        if d.status != "equal":
            return Judgement.undecided(f"moment_method: the {what}: {d.reason}")
    why = (f"E[lhs^k] = ({scale})^k {n}^(-k/2) moment_sum(X, {n}, k) for every k; only pairings "
           f"survive, so the k-th moment tends to pairings(k) ({limit_var})^(k/2), the k-th moment "
           f"of N(0, {limit_var}); {CARLEMAN}. Assumed: every moment of {m.args[0]} is finite")
    return Judgement(Verdict.PROVED, f"moment_method: {why}", evidence=[Evidence("symbolic", True, why)])


def _network_outputs(goal: Goal, ctx: Context, mean: list, cov: list) -> Judgement:
    """lhs (f(x_1), ..., f(x_m)) of one declared network of concrete depth: given the hidden
    layers the outputs are exactly Gaussian, N(0, K_n) with K_n the empirical NNGP; every joint
    moment E[prod f(x_i)^(a_i)] = E[Isserlis(K_n)] is a polynomial in the averages of K_n, which
    converge (the Master Theorem) with bounded moments, so it tends to Isserlis(K): the moments
    of N(0, K)."""
    outputs = list(goal.lhs) if isinstance(goal.lhs, sympy.Tuple) else [goal.lhs]
    if not all(isinstance(o, NetworkOutput) for o in outputs):
        return Judgement.undecided("moment_method: the left side is a normalised iid sum or a "
                                   "list of outputs of one network")
    names = {str(o.args[0]) for o in outputs}
    if len(names) != 1:
        return Judgement.undecided("moment_method: the outputs of one network")
    spec = ctx.networks.get(names.pop())
    if spec is None or not spec.depth.is_Integer:
        return Judgement.undecided("moment_method: a declared network of concrete depth")
    if len(mean) != len(outputs):
        return Judgement.undecided(f"moment_method: {len(outputs)} outputs need a law of dimension "
                                   f"{len(outputs)}")
    n = goal.limit_var
    if sympy.expand(spec.width - n) != 0:
        return Judgement.undecided(f"moment_method: the limit is in the width {spec.width}")
    rests_on("z-calculus")
    xs = [tuple(o.args[1]) for o in outputs]
    for i, x in enumerate(xs):
        d = decide_equal(sympy.Integer(0), mean[i], ctx.space)
        if d.status == "unequal":
            return Judgement(Verdict.REFUTED, f"moment_method: the outputs are centred, not of mean "
                             f"{mean[i]}", counterexample={"output": i + 1, "mean": "0",
                                                           "claimed": str(mean[i])})
        if d.status != "equal":
            return Judgement.undecided(f"moment_method: the mean of output {i + 1}: {d.reason}")
        for j, y in enumerate(xs):
            if j < i:
                continue
            try:
                kernel = spec.nngp(x, y)
                table = {}
                for avg in ProgramCompiler.averages(kernel):
                    value, exact = average_limit(avg, ctx, n, 30)
                    if not exact:
                        return Judgement.undecided("moment_method: an NNGP limit rests on quadrature")
                    table[avg] = value
            except ProgramError as exc:
                return Judgement.undecided(f"moment_method: {exc}")
            got = kernel.xreplace(table)
            d = decide_equal(got, cov[i][j], ctx.space)
            if d.status == "unequal":
                return Judgement(Verdict.REFUTED, f"moment_method: the limit covariance of outputs "
                                 f"{i + 1}, {j + 1} is {got}, not {cov[i][j]}",
                                 counterexample={"entry": [i + 1, j + 1], "limit": str(got),
                                                 "claimed": str(cov[i][j])})
            if d.status != "equal":
                return Judgement.undecided(f"moment_method: covariance {i + 1}, {j + 1}: {d.reason}")
    why = ("given the hidden layers the outputs are N(0, K_n), K_n the empirical NNGP; every joint "
           "moment is Isserlis' polynomial in K_n, whose entries converge by the Master Theorem "
           f"(with bounded moments), to the claimed covariance; {CARLEMAN}")
    return Judgement(Verdict.PROVED, f"moment_method: {why}", evidence=[Evidence("symbolic", True, why)])


@rule("moment_method", relations=("~>",), human="the method of moments",
      latex="by the method of moments")
def moment_method(goal: Goal, args: tuple, ctx: Context) -> Judgement:
    """X_n ~> N(mu, Sigma): every (joint) moment of X_n converges to that of the Gaussian law,
    which is determined by its moments (Carleman's condition), so X_n converges in distribution.

    Two shapes. (1) X_n = c (X_1 + ... + X_n)/sqrt(n) for an iid family with E[X] = 0: E[X_n^k] =
    c^k n^(-k/2) moment_sum(X, n, k) for every k, and only pair partitions survive, so the k-th
    moment tends to pairings(k) (c^2 m_2)^(k/2), that of N(0, c^2 m_2) (the CLT; every moment
    of X assumed finite). (2) X_n = (f(x_1), ..., f(x_m)), the outputs of a declared MLP of
    concrete depth (``output(f, x)``): given the hidden layers they are N(0, K_n), K_n the
    empirical NNGP, so every joint moment is Isserlis' polynomial in K_n; its entries converge
    by the Master Theorem (exact Z-expectations) and have bounded moments, so the moments tend
    to those of N(0, K), K the limit NNGP, compared entry by entry with the claimed covariance.
    The claimed mean and covariance are decided exactly; a wrong one is REFUTED.
    Reference: Billingsley, Probability and Measure, Theorems 30.1-30.2 (method of moments,
    Carleman); Lee et al. (2018) and Yang, Tensor Programs I (2019) for the network's GP limit.
    """
    if not isinstance(goal.rhs, LimitLaw):
        return Judgement.undecided("moment_method: the right side is a law, Normal(m, v)")
    law = _gaussian_law(goal.rhs)
    if law is None:
        return Judgement.undecided("moment_method: the limit law must be Normal")
    mean, cov = law
    if isinstance(goal.lhs, sympy.Tuple) or isinstance(goal.lhs, NetworkOutput):
        return _network_outputs(goal, ctx, mean, cov)
    if len(mean) != 1:
        return Judgement.undecided("moment_method: a scalar on the left needs a scalar law")
    if not goal.lhs.free_symbols & ctx.random_symbols and not goal.lhs.has(sympy.Sum):
        return Judgement.undecided("moment_method: the left side is not random")
    return _scalar_sum(goal, ctx, mean[0], cov[0][0])

