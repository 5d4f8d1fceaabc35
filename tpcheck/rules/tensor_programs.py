"""The ``master_theorem`` rule: width-n averages of a tensor program tend to Z-expectations."""

from __future__ import annotations

import mpmath
import sympy

from tpcheck.engines.arb_balls import decide_within
from tpcheck.engines.equality import decide_equal
from tpcheck.engines.mpmath_eval import DEFAULT_DIGITS
from tpcheck.engines.netsor import ProgramCompiler, ProgramError
from tpcheck.expectations.programs import average_limit
from tpcheck.kernel import Context, Evidence, Goal, Judgement, Verdict, rule
from tpcheck.kernel.proof import tolerance_text, working_digits
from tpcheck.trusted import rests_on


@rule("master_theorem", relations=("->",), human="the Master Theorem",
      latex="by the Master Theorem of Tensor Programs", tolerances=True)
def master_theorem(goal: Goal, args: tuple, ctx: Context) -> Judgement:
    """(1/n) sum_alpha psi(h^1_alpha, ..., h^k_alpha) -> E psi(Z^{h^1}, ..., Z^{h^k}) as n -> oo.

    Every avg(.) of the left side is compiled into a tensor program (initial vectors,
    MatMul by A or A^T, coordinatewise nonlinearities) and replaced by its Z-expectation: ZInit
    Gaussian; Z^{W y} = Zhat + Zdot with Cov(Zhat^{W y}, Zhat^{W y'}) = sigma^2 E[Z^y Z^{y'}] per
    orientation and Zdot^{W y} = sigma^2 sum_x Z^x E[d Z^y / d Zhat^{W^T x}]. Conditions checked:
    one width n for every vector and matrix; nonlinearities and psi polynomially bounded
    (pseudo-Lipschitz for the smooth ones; relu and step as in TP1's controlled class).
    PROVED when the expectations are exact (Isserlis, arc-cosine and erf kernels, and for
    polynomials in relu and step of centred directions Gaussian integration by parts with
    orthant probabilities; a delta from differentiating a step, in Zdot, by the Gaussian density
    at 0); CORROBORATED when one rests on mpmath quadrature (computed at D + 10 digits, D the
    theorem's digits, at least 15; the limit must agree with the claim to D significant
    digits, and the verdict states the digits seen). With ``-> c within t``: an exact limit L is
    PROVED within t by an Arb enclosure of |L - c|, a numeric one CORROBORATED when
    |L - c| <= t in floating point. A ranged parameter is checked instance by instance
    (VERIFIED). Reference: Yang, Tensor Programs I (2019), III (2020); theory facts §4.2.
    """
    n = goal.limit_var
    digits = working_digits(DEFAULT_DIGITS if ctx.settings.digits is None else ctx.settings.digits)
    dps = digits + 10
    rests_on("z-calculus")
    seen: list[int] = []
    free = goal.lhs.free_symbols | goal.rhs.free_symbols
    ranged = [p for p in ctx.parameters if p.hi is not None and p.symbol in free]
    if len(ranged) > 1:
        return Judgement.undecided("master_theorem: at most one ranged parameter")
    values = range(ranged[0].lo, ranged[0].hi + 1) if ranged else [None]
    numeric = False
    for v in values:
        inst = {ranged[0].symbol: sympy.Integer(v)} if ranged else {}
        lhs, rhs = goal.lhs.xreplace(inst), goal.rhs.xreplace(inst)
        table = {}
        try:
            for avg in ProgramCompiler.averages(lhs):
                value, exact = average_limit(avg, ctx, n, dps)
                numeric |= not exact
                table[avg] = value
        except ProgramError as exc:
            return Judgement.undecided(f"master_theorem: {exc}")
        limit = lhs.xreplace(table)
        if n in limit.free_symbols:
            return Judgement.undecided(f"master_theorem: the left side still depends on {n}")
        at = {str(ranged[0].symbol): str(v)} if ranged else {}
        if numeric:
            rests_on("mpmath-quadrature")
            with mpmath.workdps(dps):
                a = sympy.N(limit, dps)
                b = sympy.N(rhs, dps)
            if not (a.is_number and b.is_number):
                return Judgement.undecided("master_theorem: a numeric limit with free symbols")
            scale = max(1, abs(a), abs(b))
            excess = max(0, abs(a - b) - (goal.tolerance or 0)) / scale
            if excess > sympy.Float(10) ** (-(digits // 2)):
                return Judgement(Verdict.REFUTED, f"master_theorem: the limit is {a}, not {b}"
                                 + (f" within {tolerance_text(goal.tolerance)}"
                                    if goal.tolerance else ""),
                                 counterexample={"instance": at, "limit": str(a), "claimed": str(b),
                                                 "numeric": True})
            if excess > sympy.Float(10) ** (-digits):
                return Judgement.undecided(f"master_theorem: agreement to only {excess} relative, "
                                           f"short of {digits} digits")
            seen.append(digits if goal.tolerance else
                        min(dps, int(-mpmath.log10(float(abs(a - b) / scale) or 1e-300))))
            continue
        if goal.tolerance is not None:
            status, detail = decide_within(limit, rhs, goal.tolerance)
            if status == "refuted":
                return Judgement(Verdict.REFUTED, f"master_theorem: the limit is {limit}: {detail}",
                                 counterexample={"instance": at, "limit": str(limit),
                                                 "claimed": str(rhs), "certified": detail})
            if status != "proved":
                return Judgement.undecided(f"master_theorem: limit {limit}; {detail}")
            continue
        d = decide_equal(limit, rhs, ctx.space)
        if d.status == "unequal":
            cex = d.counterexample or {"instance": {}}
            return Judgement(Verdict.REFUTED, f"master_theorem: the limit is {limit}, not {rhs}",
                             counterexample={**cex, "instance": {**at, **cex.get("instance", {})},
                                             "limit": str(limit), "claimed": str(rhs)})
        if d.status != "equal":
            return Judgement.undecided(f"master_theorem: limit {limit}; {d.reason}")
    how = "mpmath quadrature" if numeric else "exact Z-expectations"
    if numeric:
        what = (f"within {tolerance_text(goal.tolerance)} at {digits} digits" if goal.tolerance
                else f"agree to {min(seen)} significant digits")
        return Judgement(Verdict.CORROBORATED, f"master_theorem: limits by {how}, {what}",
                         evidence=[Evidence("mpmath", True, f"Z-expectations at {dps} digits: {what}",
                                            {"digits": digits if goal.tolerance else min(seen)})])
    if ranged:
        p = ranged[0]
        rng = {str(p.symbol): [p.lo, p.hi]}
        return Judgement(Verdict.VERIFIED, f"master_theorem: exact on every instance of {rng}",
                         range=rng, evidence=[Evidence("exact-instances", True, how, {"range": rng})])
    return Judgement(Verdict.PROVED, f"master_theorem: {how}",
                     evidence=[Evidence("symbolic", True, how)])
