"""The ``induction`` rule: a claim about a natural parameter, by base case and step."""

from __future__ import annotations

import sympy

from tpcheck.engines.equality import decide_equal
from tpcheck.engines.heads import Expectation
from tpcheck.engines.laws import GaussianComponent, Normal
from tpcheck.expectations.evaluators import exact_expectations, stein_rewrite
from tpcheck.expectations.forms import linear_normal_form
from tpcheck.kernel import Context, Evidence, Goal, Judgement, Verdict, rule
from tpcheck.rules.common import or_refute


def _stein_once(expr: sympy.Expr, k: sympy.Symbol, ctx: Context) -> sympy.Expr:
    """One Gaussian integration by parts in every expectation whose argument depends on k."""
    nf = linear_normal_form(expr, ctx.random_symbols)
    table = {}
    for a in nf.atoms(Expectation):
        if k not in a.free_symbols:
            continue
        for z in sorted(a.args[0].free_symbols & ctx.random_symbols, key=str):
            if isinstance(ctx.laws[z], Normal | GaussianComponent):
                r = stein_rewrite(a, z, ctx)
                if r is not None:
                    table[a] = r
                    break
    return linear_normal_form(nf.xreplace(table), ctx.random_symbols)


def _peel_last(expr: sympy.Expr, k: sympy.Symbol) -> sympy.Expr:
    """sum_{i=a}^{b} f(i) -> sum_{i=a}^{b-1} f(i) + f(b) (likewise products) when b depends on k."""

    def peel(e: sympy.Basic) -> sympy.Basic:
        (i, lo, hi), = e.limits
        if k not in hi.free_symbols:
            return e
        last = e.function.xreplace({i: hi})
        rest = e.func(e.function, (i, lo, hi - 1))
        return rest + last if isinstance(e, sympy.Sum) else rest * last

    return expr.replace(lambda e: isinstance(e, sympy.Sum | sympy.Product) and len(e.limits) == 1,
                        peel)


STEPS = {
    "stein": "one Gaussian integration by parts (Stein's lemma)",
    "sum": "splitting off the last term of sums and products",
    "algebra": "algebra alone",
}


@rule("induction", human="induction", latex="by induction")
@or_refute
def induction(goal: Goal, args: tuple, ctx: Context) -> Judgement:
    """Induction on a natural parameter k: lhs(k) = rhs(k) for all k >= k0.

    Written ``induction(k, STEP)`` with STEP one of ``stein`` (rewrite lhs(k+1) by one
    Gaussian integration by parts), ``sum`` (split the last term off sums and products whose
    upper limit depends on k) or ``algebra``. Checked: the base case lhs(k0) = rhs(k0) exactly
    (expectations evaluated by the exact Gaussian, family and sum engines); the step: after
    STEP, replacing lhs(k) by rhs(k) (the hypothesis) in lhs(k+1) gives rhs(k+1) exactly.
    Reference: any text on mathematical induction; Stein (1981) for the Gaussian step.
    """
    if not args or not isinstance(args[0], sympy.Symbol):
        return Judgement.undecided("induction: name the parameter, e.g. induction(k, stein)")
    k = args[0]
    how = args[1] if len(args) > 1 and isinstance(args[1], str) else "algebra"
    if how not in STEPS:
        return Judgement.undecided(f"induction: unknown step '{how}' (known: {', '.join(STEPS)})")
    param = ctx.parameter(k)
    if param is None:
        return Judgement.undecided(f"induction: {k} is not a natural parameter of the theorem")
    lo = param.lo
    base_l = exact_expectations(goal.lhs.xreplace({k: sympy.Integer(lo)}), ctx)
    base_r = exact_expectations(goal.rhs.xreplace({k: sympy.Integer(lo)}), ctx)
    base = decide_equal(base_l, base_r, ctx.space.fix(k, lo))
    if base.status == "unequal" and not (base_l.has(Expectation) or base_r.has(Expectation)):
        cex = base.counterexample or {"instance": {}}
        cex["instance"][str(k)] = str(lo)
        return Judgement(Verdict.REFUTED, f"induction: the base case {k} = {lo} fails",
                         counterexample=cex)
    if base.status != "equal":
        return Judgement.undecided(f"induction: base case {k} = {lo}: {base.reason}")
    nxt = goal.lhs.xreplace({k: k + 1})
    if how == "stein":
        nxt = _stein_once(nxt, k, ctx)
    elif how == "sum":
        nxt = _peel_last(nxt, k)
    hyp_l = linear_normal_form(goal.lhs, ctx.random_symbols)
    stepped = nxt.xreplace({goal.lhs: goal.rhs})
    stepped = linear_normal_form(stepped, ctx.random_symbols)
    atoms = list(hyp_l.atoms(Expectation))
    if len(atoms) == 1:
        (atom,) = atoms
        coeff = sympy.cancel(hyp_l / atom)
        if not coeff.has(Expectation) and coeff != 0:
            stepped = stepped.xreplace({atom: goal.rhs / coeff})
    target = goal.rhs.xreplace({k: k + 1})
    step = decide_equal(stepped, target, ctx.space)
    if step.status != "equal":
        return Judgement.undecided(
            f"induction: the step ({STEPS[how]}, then the hypothesis) gives {stepped}, "
            f"not shown equal to {target}: {step.reason}")
    why = (f"base case {k} = {lo} ({base.method}); step by {STEPS[how]} and the hypothesis "
           f"({step.method})")
    return Judgement(Verdict.PROVED, f"induction on {k} >= {lo}: {why}",
                     evidence=[Evidence("symbolic", True, why)])
