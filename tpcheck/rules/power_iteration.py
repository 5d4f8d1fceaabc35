"""The ``zdot_recursion`` rule: the moments of a power iteration for every power, by the Z rules
at a symbolic step and strong induction."""

from __future__ import annotations

import sympy

from tpcheck.engines.equality import decide_equal
from tpcheck.engines.heads import Avg, MatPowVec
from tpcheck.engines.laws import GaussianMatrix, InitialVectors
from tpcheck.engines.netsor import MAX_UNROLL, Program, ProgramError, master_theorem_limit, z_calculus
from tpcheck.engines.z_covariance import (
    PowerRecurrence,
    ZCalculusError,
    catalan_solution,
    derive_power_iteration_recurrence,
)
from tpcheck.kernel import Context, Evidence, Goal, Judgement, Verdict, rule
from tpcheck.trusted import rests_on

#: The powers j = 0..CHECKED_POWERS at which the recursion is held against the Z-calculus of
#: the concrete program: j = 0, 1 are the initial values, j >= 2 check kappa and the step.
CHECKED_POWERS = 4
#: At most this many instances are tried, in order, for the counterexample of a wrong claim.
COUNTEREXAMPLE_INSTANCES = 16

ASSUMED = "the Z rules (ZInit, ZHat, ZDot, ZLinComb) and the Master Theorem (Yang, Tensor Programs III)"


class OutOfScope(Exception):
    """The step is not a moment of a power iteration this rule handles (the message says why)."""


def _power_iteration(goal: Goal, ctx: Context) -> tuple[sympy.Symbol, MatPowVec, GaussianMatrix]:
    """(x, W^p x, the law of the matrix) for a left side avg(x * (W^p * x)), with its conditions:
    x an initial vector, W = sum_o c_o M_o of one square matrix A (M_o = A or A^T) of width n,
    coefficients free of n and of the power's parameters."""
    n = goal.limit_var
    if not isinstance(goal.lhs, Avg):
        raise OutOfScope(f"the left side {goal.lhs} is not avg(x * (W^p * x))")
    factors = sympy.Mul.make_args(goal.lhs.args[0])
    powers = [f for f in factors if isinstance(f, MatPowVec)]
    rest = [f for f in factors if not isinstance(f, MatPowVec)]
    if len(powers) != 1 or len(rest) != 1:
        raise OutOfScope(f"{goal.lhs.args[0]} is not x * (W^p * x) for an initial vector x")
    (pv,), (x,) = powers, rest
    spec, power, y = pv.args
    if y != x or not isinstance(ctx.laws.get(x), InitialVectors):
        raise OutOfScope(f"{goal.lhs.args[0]}: W^p multiplies {y}, the average is against {x}; "
                         "both must be the same initial vector")
    matrices = {entry[0] for entry in spec}
    if len(matrices) != 1:
        raise OutOfScope(f"W uses {len(matrices)} matrices ({', '.join(sorted(map(str, matrices)))}); "
                         "the recursion is derived for one matrix and its transpose")
    (a,) = matrices
    law = ctx.laws.get(a)
    if not isinstance(law, GaussianMatrix):
        raise OutOfScope(f"{a} is not a Gaussian matrix")
    if sympy.expand(law.variance - law.transpose_variance) != 0:
        raise OutOfScope(f"{a} is not square: its transpose multiplier {law.transpose_variance} "
                         f"differs from {law.variance}, so W^p x is not defined")
    for width in (law.n, ctx.laws[x].n):
        if sympy.expand(width - n) != 0:
            raise OutOfScope(f"width {width} differs from the limit variable {n}")
    randoms = ctx.random_symbols | {n}
    for _, _, c in spec:
        if c.free_symbols & randoms or any(ctx.parameter(s) for s in c.free_symbols):
            raise OutOfScope(f"the coefficient {c} of W depends on {n}, a random object or a parameter")
    return x, pv, law


def _power(pv: MatPowVec, ctx: Context) -> tuple[sympy.Expr, sympy.Symbol | None, int]:
    """The power p = a k + b of W^p x: (p, k or None for a constant power, the lowest k)."""
    p = sympy.expand(pv.args[1])
    free = p.free_symbols
    if not free:
        if not p.is_Integer or p < 0:
            raise OutOfScope(f"the power {p} is not a natural number")
        return p, None, 0
    if len(free) > 1:
        raise OutOfScope(f"the power {p} depends on more than one parameter")
    (k,) = free
    param = ctx.parameter(k)
    if param is None:
        raise OutOfScope(f"{k} in the power {p} is not a natural parameter of the theorem")
    if not p.is_polynomial(k) or sympy.degree(p, k) != 1:
        raise OutOfScope(f"the power {p} is not a k + b")
    a, b = sympy.Poly(p, k).all_coeffs()
    if not (a.is_Integer and b.is_Integer and a > 0 and a * param.lo + b >= 0):
        raise OutOfScope(f"the power {p} is not a k + b with integers a > 0 and a k0 + b >= 0 "
                         f"on {k} >= {param.lo}")
    return p, k, param.lo


def _initial_second_moment(x: sympy.Symbol, ctx: Context) -> sympy.Expr:
    """E[(Z^x)^2] = Var + mean^2 from the initial vector's law (ZInit)."""
    law = ctx.laws[x]
    i = law.names.index(x)
    return sympy.expand(law.cov[i][i] + law.mean[i] ** 2)


def power_iteration_program(spec: sympy.Tuple, x: sympy.Symbol, power: int, ctx: Context) -> Program:
    """The tensor program of W^power x from the declared laws: x^0 = x (ZInit with the law's
    variance and mean), the matrix A with its multipliers, and for j < power the MatMuls
    M_o x^j (A, or A^T) and the LinComb x^{j+1} = sum_o c_o M_o x^j (as the compiler unrolls
    W^k x, with symbolic coefficients allowed)."""
    law = ctx.laws[x]
    i = law.names.index(x)
    (a,) = {entry[0] for entry in spec}
    prog = Program()
    prog.initial("x0", law.cov[i][i], law.mean[i])
    prog.matrix(a.name, ctx.laws[a].variance, ctx.laws[a].transpose_variance)
    for j in range(power):
        terms = {}
        for _, tr, c in spec:
            out = prog.matmul(f"m{j}_{int(tr)}", a.name, f"x{j}", transpose=bool(tr))
            terms[out] = c
        prog.lincomb(f"x{j + 1}", terms)
    return prog


def moment_limit(spec: sympy.Tuple, x: sympy.Symbol, power: int, ctx: Context) -> sympy.Expr:
    """lim avg(x * (W^power * x)) = E[Z^{x^0} Z^{x^power}] by the Master Theorem (exact)."""
    prog = power_iteration_program(spec, x, power, ctx)
    psi = sympy.Symbol("x0", real=True) * sympy.Symbol(f"x{power}", real=True)
    value, exact = master_theorem_limit(prog, psi, ["x0", f"x{power}"])
    if not exact:
        raise OutOfScope(f"the Z-expectation of M({power}) is not exact")
    return value


def _check_base_cases(rec: PowerRecurrence, x: sympy.Symbol, spec: sympy.Tuple, ctx: Context) -> str:
    """Hold the derivation against the Z-calculus of the concrete program: (H1)-(H2) at j = 1
    (Z^{x^1} = sum_o c_o T(1) Zhat^o_0), and M(j) for j = 0..CHECKED_POWERS from the closed
    recurrence and the derived M(0), M(1) against the Master Theorem limit; raises OutOfScope
    naming the first mismatch."""
    m_fn, t_fn = sympy.Function("M"), sympy.Function("T")
    law = z_calculus(power_iteration_program(spec, x, 1, ctx))
    hats = {tr: sympy.Symbol(f"zhat_{h}_m0_{int(tr)}", real=True) for h, (_, tr, _) in enumerate(spec)}
    expected = sympy.Add(*[c * rec.base[t_fn(1)] * hats[tr] for _, tr, c in spec])
    if sympy.expand(law.z["x1"] - expected) != 0:
        raise OutOfScope(f"base case: the Z-calculus gives Z^(W x) = {law.z['x1']}, the derivation "
                         f"{expected} (T(1) = {rec.base[t_fn(1)]})")
    values: dict[int, sympy.Expr] = {0: rec.base[m_fn(0)], 1: rec.base[m_fn(1)]}
    nn = rec.closed.lhs.args[0]
    for j in range(2, CHECKED_POWERS + 1):
        unrolled = rec.closed.rhs.subs(nn, j).doit()
        values[j] = sympy.expand(unrolled.replace(m_fn, lambda e: values[int(e)]))
    for j in range(CHECKED_POWERS + 1):
        limit = moment_limit(spec, x, j, ctx)
        if decide_equal(limit, values[j], ctx.space).status != "equal":
            raise OutOfScope(f"base case M({j}): the Z-calculus gives {limit}, the derived "
                             f"recurrence {values[j]}")
    return (f"Z^(W x) = sum_o c_o Zhat^o_0 (T(1) = 1) and M(0..{CHECKED_POWERS}) = "
            f"{[values[j] for j in range(CHECKED_POWERS + 1)]} agree with the Z-calculus")


def _counterexample(goal: Goal, k: sympy.Symbol | None, lo: int, power: sympy.Expr,
                    x: sympy.Symbol, spec: sympy.Tuple, ctx: Context) -> Judgement | None:
    """REFUTED at the first k of the declared domain (from lo) whose exact Master Theorem limit
    differs from the claim (at most COUNTEREXAMPLE_INSTANCES instances, powers up to the
    compiler's unrolling limit), or None."""
    hi = ctx.parameter(k).hi if k is not None else None
    last = lo + COUNTEREXAMPLE_INSTANCES if hi is None else min(hi + 1, lo + COUNTEREXAMPLE_INSTANCES)
    for kk in range(lo, last) if k is not None else [None]:
        inst = {k: sympy.Integer(kk)} if k is not None else {}
        p = int(power.xreplace(inst))
        if p > MAX_UNROLL:
            break
        limit = moment_limit(spec, x, p, ctx)
        claimed = goal.rhs.xreplace(inst)
        d = decide_equal(limit, claimed, ctx.space.fix(k, kk) if k is not None else ctx.space)
        if d.status == "unequal":
            cex = d.counterexample or {"instance": {}}
            at = {str(k): str(kk)} if k is not None else {}
            where = f"at {k} = {kk} " if k is not None else ""
            return Judgement(Verdict.REFUTED, f"zdot_recursion: {where}the limit is {limit}, not {claimed}",
                             counterexample={**cex, "instance": {**at, **cex.get("instance", {})},
                                             "limit": str(limit), "claimed": str(claimed)})
    return None


@rule("zdot_recursion", relations=("->",), human="the Zdot recursion of the power iteration",
      latex="by the Zdot recursion of the power iteration and induction")
def zdot_recursion(goal: Goal, args: tuple, ctx: Context) -> Judgement:
    """avg(x * (W^p * x)) -> M(p) as n -> oo for every power p, W = sum_o c_o M_o, M_o in {A, A^T}.

    With x an initial vector (E[(Z^x)^2] = v), A an n x n matrix of multiplier m (A ~ Matrix(n, m)),
    kappa = sum_o c_o c_{o'} m (o' the transposed orientation):
        M(2j) = v kappa^j C_j,   M(2j + 1) = 0     (C_j = catalan(j)),
    so for W = s (A + A^T)/sqrt(2), m = 1, v = 1: avg(x * (W^(2k) * x)) -> s^(2k) catalan(k).
    The power p = a k + b (a natural parameter k; a even, or p constant, fixes the parity).
    Derived, at a symbolic step (``derive_power_iteration_recurrence``): ZDot and ZLinComb give
    Z^{x^{j+1}} = sum_o c_o Zhat^o_j + sum_{i<j} f(j-i) Z^{x^i}, f = kappa T, the chain rule
    T(d) = [d = 1] + sum f(d-1-e) T(e), and E[Z^x .] the moment recursion
    M(n) = sum_{i=0}^{n-2} f(n-1-i) M(i); eliminating T (T(d) = M(d-1)/v by strong induction)
    M(n) = (kappa/v) sum_{i=0}^{n-2} M(n-2-i) M(i). Checked against the Z-calculus of the
    concrete program: Z^{W x} = sum_o c_o Zhat^o_0 (T(1) = 1) and M(0), M(1) (the initial
    values), M(2..4) (kappa). Proved (``catalan_solution``): v kappa^j C_j and 0 satisfy the
    recursion and the initial values (Segner's recurrence), hence equal M by strong induction;
    the claim must equal that closed form exactly (``decide_equal``). A wrong claim is REFUTED
    at the first k whose exact Master Theorem limit differs. Out of scope (UNDECIDED): two
    matrices, a non-square matrix, nonlinearities, kappa = 0, anything but avg(x * (W^p * x)).
    Assumed: the Z rules and the Master Theorem. Reference: Yang, Tensor Programs III (2020),
    the semicircle warm-up; theory facts §4.3; Stanley, Catalan Numbers (2015), (1.1).
    """
    if args:
        return Judgement.undecided("zdot_recursion: takes no arguments")
    if goal.tolerance is not None:
        return Judgement.undecided("zdot_recursion: a limit within a tolerance is not judged; "
                                   "claim the exact limit")
    n = goal.limit_var
    if n in goal.rhs.free_symbols:
        return Judgement.undecided(f"zdot_recursion: the claimed limit depends on {n}")
    rests_on("z-calculus")
    try:
        x, pv, law = _power_iteration(goal, ctx)
        power, k, lo = _power(pv, ctx)
        spec = pv.args[0]
        orientations = [(bool(tr), c) for _, tr, c in spec]
        v = _initial_second_moment(x, ctx)
        rec = derive_power_iteration_recurrence(orientations, (law.variance, law.transpose_variance), v)
        if rec.closed is None:
            raise OutOfScope(f"E[(Z^x)^2] = {v} is not known to be nonzero: T is not eliminated")
        solution = catalan_solution(rec)
        checked = _check_base_cases(rec, x, spec, ctx)
    except (OutOfScope, ZCalculusError, ProgramError) as exc:
        return Judgement.undecided(f"zdot_recursion: {exc}")
    closed_form = solution.at(power)
    if closed_form is not None:
        d = decide_equal(closed_form, goal.rhs, ctx.space)
        if d.status == "equal":
            why = (f"derived from the Z rules at a symbolic step: M(n) = {rec.closed.rhs} with "
                   f"kappa = {rec.kappa}, v = {v}; {checked}; {'; '.join(solution.checked)}; so "
                   f"M(2j) = {solution.even.xreplace({solution.m: sympy.Symbol('j')})}, M(2j + 1) = 0 "
                   f"by strong induction, and M({power}) = {closed_form} is the claim ({d.method}). "
                   f"Assumed: {ASSUMED}")
            return Judgement(Verdict.PROVED, f"zdot_recursion: {why}",
                             evidence=[Evidence("symbolic", True, why)])
        reason = f"M({power}) = {closed_form}, not shown equal to {goal.rhs}: {d.reason}"
    else:
        reason = f"the parity of the power {power} is not fixed"
    try:
        refuted = _counterexample(goal, k, lo, power, x, spec, ctx)
    except (OutOfScope, ZCalculusError, ProgramError) as exc:
        return Judgement.undecided(f"zdot_recursion: {reason}; {exc}")
    return refuted or Judgement.undecided(f"zdot_recursion: {reason}")
