"""The ``enclosure`` rule: numbers proved by certified ball arithmetic (Arb)."""

from __future__ import annotations

import sympy
from flint import arb

from tpcheck.engines.arb_balls import decide_within, gaussian_expectation_ball
from tpcheck.engines.equality import decide_exact_constant_equality
from tpcheck.engines.heads import Expectation
from tpcheck.engines.laws import Normal
from tpcheck.kernel import Context, Evidence, Goal, Judgement, Verdict, rule
from tpcheck.kernel.proof import tolerance_text


def _gaussian_atom(atom: Expectation, ctx: Context) -> tuple[sympy.Expr, sympy.Symbol,
                                                             sympy.Expr] | None:
    """E[g(Z)] with Z ~ N(mu, v), mu and v numbers, as (f, x, v) with E[g(Z)] = E[f(X)],
    X ~ N(0, v) and f(x) = g(mu + x); None for anything else."""
    inner = atom.args[0]
    randoms = inner.free_symbols & ctx.random_symbols
    if len(randoms) != 1 or inner.free_symbols - randoms:
        return None
    (z,) = randoms
    law = ctx.laws[z]
    if not isinstance(law, Normal) or law.mean.free_symbols or law.variance.free_symbols:
        return None
    x = sympy.Dummy("x", real=True)
    return inner.xreplace({z: law.mean + x}), x, law.variance


def _atom_balls(atoms: list[Expectation], ctx: Context):  # noqa: ANN202
    """Balls of the expectations at each precision, or None if one cannot be enclosed."""
    forms = [(a, _gaussian_atom(a, ctx)) for a in atoms]

    def at(bits: int) -> dict[sympy.Basic, arb] | None:
        out = {}
        for a, form in forms:
            ball = None if form is None else gaussian_expectation_ball(*form, prec_bits=bits)
            if ball is None:
                return None
            out[a] = ball
        return out

    return at


@rule("enclosure", relations=("=", "~="), human="certified ball arithmetic",
      latex="by certified ball arithmetic (Arb)", tolerances=True)
def enclosure(goal: Goal, args: tuple, ctx: Context) -> Judgement:
    """A numeric claim decided by rigorous enclosures (Arb ball arithmetic).

    ``lhs ~= rhs within t``: a ball D provably containing lhs - rhs is computed (closed forms:
    Arb's functions; E[g(Z)] for Z ~ N(mu, v) with numeric mu, v and g analytic: Arb's ball
    quadrature on [-L, L] plus a proved Gaussian tail bound); PROVED when sup |D| <= t, REFUTED
    when inf |D| > t, else UNDECIDED; the precision doubles from 128 to 4096 bits.
    ``lhs = rhs`` between constants: PROVED by exact algebra with Arb-certified signs
    (equal arguments of one injective function, equal squares of numbers of one sign),
    REFUTED when a ball of lhs - rhs excludes 0. Both sides must be free of symbols other
    than Gaussian variables inside E. F. Johansson, "Arb", IEEE Trans. Computers 66 (2017);
    "Numerical integration in arbitrary-precision ball arithmetic", ICMS 2018.
    """
    atoms = sorted(goal.lhs.atoms(Expectation) | goal.rhs.atoms(Expectation), key=str)
    free = (goal.lhs.free_symbols | goal.rhs.free_symbols) - {
        s for a in atoms for s in a.free_symbols}
    if free:
        names = ", ".join(sorted(map(str, free)))
        return Judgement.undecided(f"enclosure: the sides are not constants (free: {names})")
    if goal.rel == "=":
        if atoms:
            return Judgement.undecided("enclosure: exact equality of expectations is not decided "
                                       "by balls; state it with '~= ... within t'")
        status, detail = decide_exact_constant_equality(goal.lhs, goal.rhs)
        if status == "proved":
            return Judgement(Verdict.PROVED, f"enclosure: {detail}",
                             evidence=[Evidence("symbolic", True, detail)])
        if status == "refuted":
            return Judgement(Verdict.REFUTED, f"enclosure: {detail}",
                             counterexample={"instance": {}, "lhs": str(goal.lhs),
                                             "rhs": str(goal.rhs), "certified": detail})
        return Judgement.undecided(f"enclosure: {detail}")
    status, detail = decide_within(goal.lhs, goal.rhs, goal.tolerance,
                                   _atom_balls(atoms, ctx) if atoms else None)
    if status == "proved":
        return Judgement(Verdict.PROVED, f"enclosure: {detail}",
                         evidence=[Evidence("symbolic", True, f"Arb: {detail}")])
    if status == "refuted":
        return Judgement(Verdict.REFUTED, f"enclosure: {detail}",
                         counterexample={"instance": {}, "lhs - rhs": detail,
                                         "tolerance": tolerance_text(goal.tolerance)})
    return Judgement.undecided(f"enclosure: {detail}")
