"""Exact decision of ``lhs = rhs`` for all admissible values of the symbols.

Three exact paths, in order:

1. *canonical form*: ``lhs - rhs`` is expanded and brought to a reduced fraction over Q in its
   generators (sympy ``expand``, ``together``, ``cancel``); 0 means equal for all values.
2. *hypergeometric induction*: for an integer symbol k with a lower bound, if both sides are
   hypergeometric products with the same ratio r(k) (valid on the range) and agree at the
   start of the range (decided recursively), they agree for every k.
3. *exact instances*: both sides are evaluated exactly at drawn instances; a nonzero
   difference is a counterexample (certain when it is rational; otherwise certified by sympy's
   adaptive-precision evaluation with ``strict=True``).

Anything else is "unknown", with the canonical form of the difference in the reason.
``simplify`` is never consulted.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import sympy

from tpcheck.heads import (
    Expectation,
    GenusSum,
    MomentSum,
    Probability,
    Variance,
    narayana,
    ncpairings,
    pairings,
)
from tpcheck.hypergeometric import TermRatio, term_ratio
from tpcheck.instances import InstanceSpace

MAX_INDUCTION_DEPTH = 4


@dataclass
class Decision:
    status: str  # "equal" | "unequal" | "unknown"
    method: str
    reason: str
    counterexample: dict | None = None
    instances_tried: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return self.status == "equal"


def carry_out_finite(expr: sympy.Expr) -> sympy.Expr:
    """Finite sums and products with integer bounds carried out, and the counting heads at
    integer arguments evaluated (exact arithmetic; symbolic bounds stay)."""
    def finite(e: sympy.Basic) -> bool:
        if isinstance(e, sympy.Sum | sympy.Product):
            return all(lo.is_Integer and hi.is_Integer for _, lo, hi in e.limits)
        if isinstance(e, narayana | pairings | ncpairings | GenusSum):
            return all(a.is_Integer for a in e.args)
        return False

    return expr.replace(finite, lambda e: e.doit())


def canonical(expr: sympy.Expr) -> sympy.Expr:
    """Reduced fraction p/q over Q in the generators of ``expr`` (0 iff identically 0 there)."""
    e = sympy.expand(carry_out_finite(expr))
    if e == 0:
        return e
    return sympy.cancel(sympy.together(e))


def plain_symbols(*exprs: sympy.Expr) -> list[sympy.Symbol]:
    """The free plain symbols of ``exprs`` (sympy also lists X[i] and X for an indexed X[i],
    even where i is bound by a sum: those are not parameters one may give values to)."""
    out: set[sympy.Symbol] = set()
    for e in exprs:
        labels = {i.base.label for i in e.atoms(sympy.Indexed)}
        out |= {s for s in e.free_symbols if isinstance(s, sympy.Symbol) and s not in labels}
    return sorted(out, key=lambda s: s.name)


def render_instance(instance: dict[sympy.Symbol, sympy.Expr]) -> dict[str, str]:
    return {str(s): str(v) for s, v in sorted(instance.items(), key=lambda kv: kv[0].name)}


def exact_value(expr: sympy.Expr, instance: dict[sympy.Symbol, sympy.Expr]) -> sympy.Expr | None:
    """Exact value of ``expr`` at ``instance`` (finite sums and products carried out), or None."""
    if expr.has(Expectation, Variance, Probability, MomentSum, sympy.Indexed):
        return None
    value = expr.xreplace(instance)
    if value.has(sympy.Sum, sympy.Product, narayana, pairings, ncpairings, GenusSum):
        value = value.doit()
    if value.free_symbols or value.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        return None
    return value


def numbers_differ(a: sympy.Expr, b: sympy.Expr) -> bool | None:
    """True/False when ``a != b`` is decided (exactly, or by certified evaluation); else None."""
    d = canonical(a - b)
    if d == 0:
        return False
    if d.is_Rational:
        return True
    try:
        approx = sympy.N(d, 40, strict=True)
        if approx.is_Float and abs(approx) > sympy.Float("1e-30", 40):
            return True
    except (sympy.core.evalf.PrecisionExhausted, ValueError, TypeError):
        return None
    return None


def find_counterexample(
    lhs: sympy.Expr, rhs: sympy.Expr, space: InstanceSpace, count: int = 24, seed: int = 0
) -> tuple[dict | None, int]:
    """An exact instance where the two sides differ, and the number of instances tried."""
    symbols = plain_symbols(lhs, rhs)
    rng = random.Random(seed)
    instances = space.sample(symbols, count, rng) if symbols else [{}]
    # Smallest instances first, so that a reported counterexample is as simple as possible.
    instances.sort(key=lambda inst: sum(abs(v.p) + v.q for v in inst.values()))
    tried = 0
    for inst in instances:
        lv, rv = exact_value(lhs, inst), exact_value(rhs, inst)
        if lv is None or rv is None:
            continue
        tried += 1
        if numbers_differ(lv, rv):
            return {"instance": render_instance(inst), "lhs": str(lv), "rhs": str(rv)}, tried
    return None, tried


def decide_equal(
    lhs: sympy.Expr, rhs: sympy.Expr, space: InstanceSpace, depth: int = 0
) -> Decision:
    """Decide whether ``lhs = rhs`` for every value of the free symbols in ``space``."""
    diff = canonical(lhs - rhs)
    if diff == 0:
        return Decision("equal", "canonical form", "lhs - rhs reduces to 0 over Q")
    if depth < MAX_INDUCTION_DEPTH:
        for k in plain_symbols(diff):
            if not k.is_integer:
                continue
            lo, hi = space.integer_range(k)
            if lo is None:
                continue
            d = _by_induction(lhs, rhs, k, lo, hi, space, depth)
            if d is not None:
                return d
    cex, tried = find_counterexample(lhs, rhs, space)
    if cex is None and tried == 0 and not diff.has(Expectation):
        # The expectations cancel: lhs - rhs = diff whatever their values.
        cex, tried = find_counterexample(diff, sympy.Integer(0), space)
        if cex is not None:
            cex = {"instance": cex["instance"], "lhs - rhs": cex["lhs"]}
    if cex is not None:
        return Decision("unequal", "exact instance", "the sides differ at an instance", cex, tried)
    if tried == 0:
        why = "no instance could be evaluated exactly" + (
            " (expectations remain)" if diff.has(Expectation) else "")
    else:
        why = f"the {tried} exact instances tried agree"
    return Decision("unknown", "none", f"lhs - rhs reduces to {diff}, not 0, and {why}",
                    instances_tried=tried)


def _ratio(f: sympy.Expr, k: sympy.Symbol) -> TermRatio | None:
    """The term ratio of f, or of its factored form when f is a sum (exact either way)."""
    r = term_ratio(f, k)
    if r is None and (f.is_Add or f.is_Mul):
        r = term_ratio(sympy.factor(f), k)
    return r


def _by_induction(
    lhs: sympy.Expr,
    rhs: sympy.Expr,
    k: sympy.Symbol,
    lo: int,
    hi: int | None,
    space: InstanceSpace,
    depth: int,
) -> Decision | None:
    rl, rr = _ratio(lhs, k), _ratio(rhs, k)
    if rl is None or rr is None or not rl.valid_on(lo, hi) or not rr.valid_on(lo, hi):
        return None
    if canonical(rl.ratio - rr.ratio) != 0:
        return None
    base = decide_equal(
        lhs.xreplace({k: sympy.Integer(lo)}),
        rhs.xreplace({k: sympy.Integer(lo)}),
        space.fix(k, lo),
        depth + 1,
    )
    ratio = sympy.factor(rl.ratio)
    if base.status == "equal":
        return Decision(
            "equal",
            "hypergeometric induction",
            f"both sides satisfy f({k}+1) = ({ratio}) f({k}) for {k} >= {lo} "
            f"and agree at {k} = {lo} ({base.method})",
        )
    if base.status == "unequal":
        base.reason = f"the sides differ at {k} = {lo}"
        if base.counterexample is not None:
            base.counterexample["instance"][str(k)] = str(lo)
        return base
    return None
