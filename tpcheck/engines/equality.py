"""Exact decision of ``lhs = rhs`` for all admissible values of the symbols.

Four exact paths, in order:

1. *canonical form*: ``lhs - rhs`` is expanded and brought to a reduced fraction over Q in its
   generators (sympy ``expand``, ``together``, ``cancel``); 0 means equal for all values.
2. *hypergeometric induction*: for an integer symbol k with a lower bound, if both sides are
   hypergeometric products with the same ratio r(k) (valid on the range) and agree at the
   start of the range (decided recursively), they agree for every k.
3. *constants* (no free symbols): exact algebra whose side conditions are signs certified by
   Arb ball arithmetic (:func:`decide_constant_equal`, method "exact algebraic check + arb
   sign"): applications of one head are unified when their arguments are provably equal, a
   difference whose square or cube vanishes is 0 given Arb signs, and a difference whose
   product with its square-root conjugates reduces to 0 over Q is 0 when the ball of every
   conjugate excludes 0.
4. *exact instances*: both sides are evaluated exactly at drawn instances; a nonzero
   difference is a counterexample (:func:`certify_difference`: certain when it is rational or a
   nonzero rational function of pi alone or of e alone; otherwise certified by an Arb
   enclosure that excludes 0, or, for expressions outside the Arb engine only, by sympy's
   adaptive-precision evaluation with ``strict=True``).

Anything else is "unknown", with the canonical form of the difference in the reason.
``simplify`` is never consulted.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from itertools import combinations

import sympy

from tpcheck.engines.arb_balls import DEFAULT_BITS, enclose, enclose_adaptive
from tpcheck.engines.heads import (
    Expectation,
    GenusSum,
    MomentSum,
    Probability,
    Variance,
    narayana,
    ncpairings,
    pairings,
)
from tpcheck.engines.hypergeometric import TermRatio, term_ratio
from tpcheck.engines.instances import InstanceSpace
from tpcheck.trusted import memoised, rests_on

MAX_INDUCTION_DEPTH = 4
MAX_CONSTANT_DEPTH = 3  # nesting of heads unified by decide_constant_equal
MAX_CONJUGATE_RADICALS = 3  # square-root bases flipped: at most 2^3 - 1 conjugates
DIFFERENCE_MAX_BITS = 1024  # precision cap when certifying that two numbers differ
CONSTANT_METHOD = "exact algebraic check + arb sign"


@dataclass
class Decision:
    status: str  # "equal" | "unequal" | "unknown"
    method: str
    reason: str
    counterexample: dict | None = None
    instances_tried: int = 0

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


@memoised
def canonical(expr: sympy.Expr) -> sympy.Expr:
    """Reduced fraction p/q over Q in the generators of ``expr`` (0 iff identically 0 there).
    Memoised: a pure function of the expression, asked again for the same subterms."""
    e = sympy.expand(carry_out_finite(expr))
    if e == 0:
        return e
    return sympy.cancel(sympy.together(e))


def vanishing_denominator(expr: sympy.Expr) -> sympy.Expr | None:
    """A denominator of ``expr`` that is identically 0, or None.

    Such an expression is undefined for every value of its symbols, and the canonical form
    would cancel the 0/0 away: ((n+1)^2 - n^2 - 2n - 1)/(n^2 - (n+1)^2 + 2n + 1) reduces to -1.
    Every base raised to a negative power is reduced to its canonical form (exact, over Q and
    the radicals in it); ``zoo`` or ``nan`` (a division by a literal 0) count too."""
    for bad in (sympy.zoo, sympy.nan):
        if expr.has(bad):
            return sympy.Integer(0)
    for sub in sympy.preorder_traversal(expr):
        if isinstance(sub, sympy.Pow) and sub.exp.is_negative and canonical(sub.base) == 0:
            return sub.base
    return None


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


def _transcendence(d: sympy.Expr) -> str | None:
    """The theorem by which the canonical form ``d`` != 0 is a nonzero number, when ``d`` is a
    rational function over Q of pi alone (Lindemann 1882) or of e alone (Hermite 1873): its
    numerator is then a nonzero polynomial over Q at a transcendental number. (Nothing is
    claimed for pi and e together: their algebraic independence is open.)"""
    num, _ = sympy.fraction(d)
    for t, theorem in ((sympy.pi, "pi is transcendental (Lindemann 1882)"),
                       (sympy.E, "e is transcendental (Hermite 1873)")):
        try:
            poly = sympy.Poly(num, t, domain=sympy.QQ)
        except sympy.polys.polyerrors.BasePolynomialError:
            continue
        if not poly.is_zero:
            return theorem
    return None


def certify_difference(a: sympy.Expr, b: sympy.Expr) -> tuple[bool | None, str]:
    """Whether the numbers ``a`` and ``b`` differ (True/False, or None), and what decided it.

    In order: the canonical form of a - b is 0 (False); a nonzero rational (True); a nonzero
    rational function over Q of pi alone or of e alone (True, by transcendence); an Arb
    enclosure of a - b that excludes 0, the precision doubled from 128 to 1024 bits (True;
    F. Johansson, "Arb", IEEE Trans. Computers 2017). Only when a - b is outside the Arb engine
    (:func:`tpcheck.engines.arb_balls.enclose` gives None) is sympy's ``N(strict=True)`` at 40 digits
    consulted (True when |a - b| > 1e-30).
    """
    d = canonical(a - b)
    if d == 0:
        return False, "canonical form"
    if d.is_Rational:
        return True, "nonzero rational difference"
    theorem = _transcendence(d)
    if theorem is not None:
        rests_on("transcendence")
        return True, theorem
    found = enclose_adaptive(d, lambda ball: not ball.contains(0), max_bits=DIFFERENCE_MAX_BITS)
    if found is not None:
        if not found.ball.contains(0):
            rests_on("arb")
            return True, f"the Arb ball {found.describe()} of the difference excludes 0"
        return None, f"the Arb ball {found.describe()} of the difference contains 0"
    try:
        approx = sympy.N(d, 40, strict=True)
        if approx.is_Float and abs(approx) > sympy.Float("1e-30", 40):
            rests_on("sympy-evalf-strict")
            return True, f"sympy N(strict=True) gives {sympy.N(approx, 15)}"
    except (sympy.core.evalf.PrecisionExhausted, ValueError, TypeError):
        return None, "no certified evaluation"
    return None, "no certified evaluation"


def numbers_differ(a: sympy.Expr, b: sympy.Expr) -> bool | None:
    """True/False when ``a != b`` is decided, else None: :func:`certify_difference` (exact
    algebra, transcendence of pi or e, an Arb enclosure, or sympy's strict evaluation only for
    expressions outside the Arb engine)."""
    return certify_difference(a, b)[0]


def find_counterexample(
    lhs: sympy.Expr, rhs: sympy.Expr, space: InstanceSpace, count: int = 24, seed: int = 0
) -> tuple[dict | None, int, str]:
    """An exact instance where the two sides differ, the number of instances tried, and what
    certified the difference (:func:`certify_difference`; empty when none was found)."""
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
        differ, how = certify_difference(lv, rv)
        if differ:
            return {"instance": render_instance(inst), "lhs": str(lv), "rhs": str(rv)}, tried, how
    return None, tried, ""


def decide_equal(
    lhs: sympy.Expr, rhs: sympy.Expr, space: InstanceSpace, depth: int = 0, search: bool = True
) -> Decision:
    """Decide whether ``lhs = rhs`` for every value of the free symbols in ``space``. With
    ``search`` False no counterexample is looked for: the answer is "equal" exactly when it
    would be, and "unknown" instead of "unequal" (for callers that only ask whether a step
    is an identity)."""
    rests_on("canonical-form")
    if (lhs - rhs).has(sympy.Sum, sympy.Product, narayana, pairings, ncpairings, GenusSum):
        rests_on("finite-evaluation")
    for side, which in ((lhs, "left"), (rhs, "right")):
        zero = vanishing_denominator(side)
        if zero is not None:
            return Decision("unknown", "undefined",
                            f"the {which} side is undefined: it divides by {zero}, which is "
                            "identically 0")
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
    if not plain_symbols(diff):
        d = decide_constant_equal(lhs, rhs)
        if d is not None:
            return d
    if not search:
        return Decision("unknown", "none", f"lhs - rhs reduces to {diff}, not 0 (no instance "
                                           "was tried)")
    cex, tried, how = find_counterexample(lhs, rhs, space)
    if cex is None and tried == 0 and not diff.has(Expectation):
        # The expectations cancel: lhs - rhs = diff whatever their values.
        cex, tried, how = find_counterexample(diff, sympy.Integer(0), space)
        if cex is not None:
            cex = {"instance": cex["instance"], "lhs - rhs": cex["lhs"]}
    if cex is not None:
        return Decision("unequal", "exact instance", f"the sides differ at an instance ({how})",
                        cex, tried)
    if tried == 0:
        why = "no instance could be evaluated exactly" + (
            " (expectations remain)" if diff.has(Expectation) else "")
    else:
        why = f"the {tried} exact instances tried agree"
    return Decision("unknown", "none", f"lhs - rhs reduces to {diff}, not 0, and {why}",
                    instances_tried=tried)


def _is_constant(e: sympy.Expr) -> bool:
    return not e.free_symbols and not e.has(Expectation, Variance, Probability, MomentSum)


def decide_constant_equal(lhs: sympy.Expr, rhs: sympy.Expr, depth: int = 0) -> Decision | None:
    """Prove ``lhs = rhs`` for two real constants by exact algebra whose side conditions are
    signs certified by Arb enclosures; an "equal" Decision (method "exact algebraic check +
    arb sign") or None. It never answers "unequal": a difference is certified elsewhere.

    The argument, in three steps, each sound on its own:

    1. *Congruence.* f(x_1, ..., x_n) = f(y_1, ..., y_n) when every x_i = y_i, for any head f
       (and x^r = y^r when x = y, r a non-integer rational); x_i = y_i is decided
       recursively (canonical form, then this function, to depth ``MAX_CONSTANT_DEPTH``), and
       both applications must have Arb enclosures, so they are defined real numbers. For f
       injective on its real domain (exp, log, sqrt, asin, acos, atan, tanh, erf, ...) nothing
       is lost: there f(x) = f(y) iff x = y. Subterms proved equal are replaced by one
       representative, which changes neither side's value; a canonical form 0 then proves
       equality.
    2. *Powers.* If lhs^k - rhs^k has canonical form 0 for k = 3, then lhs = rhs (x -> x^3 is
       injective on the reals); for k = 2, when moreover the Arb balls of lhs and rhs are both
       > 0 or both < 0 (then lhs + rhs != 0 and (lhs - rhs)(lhs + rhs) = 0).
    3. *Square-root conjugates.* Let d = lhs - rhs (canonical form) and let e_1..e_m be the
       distinct conjugates of d obtained by flipping the sign of sqrt(u) (every u^(p/2), p
       odd) for nonempty sets of at most ``MAX_CONJUGATE_RADICALS`` bases u, leaving out
       those equal to +-d or to +-an earlier one. If the canonical form of d e_1 ... e_m is 0,
       the product is the number 0; if moreover every e_j has an Arb ball excluding 0, then
       d = 0. (Example: d = sqrt(pi^2 - 1)/pi^2 - sqrt(1 - 1/pi^2)/pi and e_1 =
       -sqrt(pi^2 - 1)/pi^2 - sqrt(1 - 1/pi^2)/pi < 0 give d e_1 = (1 - 1/pi^2)/pi^2 -
       (pi^2 - 1)/pi^4 = 0, so d = 0: the argument "a^2 = b^2 and a, b of the same strict
       sign" in general form.)

    pi and e stay generators of the canonical form (an identity in indeterminates holds at
    their values). Arb: F. Johansson, IEEE Trans. Computers 66(8), 2017.
    """
    if depth > MAX_CONSTANT_DEPTH or not (_is_constant(lhs) and _is_constant(rhs)):
        return None
    diff = canonical(lhs - rhs)
    if diff == 0:
        return Decision("equal", "canonical form", "lhs - rhs reduces to 0 over Q")
    quick = enclose(diff, DEFAULT_BITS)
    if quick is None or not quick.contains(0):
        return None  # outside the engine, or certainly unequal
    steps: list[str] = []
    replace = _unify_heads(lhs - rhs, depth, steps)
    if replace:
        diff = canonical(lhs.xreplace(replace) - rhs.xreplace(replace))
        if diff == 0:
            return _constant_decision([*steps, "then lhs - rhs reduces to 0 over Q"])
    lhs, rhs = lhs.xreplace(replace), rhs.xreplace(replace)
    why = _equal_by_power(lhs, rhs) or _vanishing_by_conjugates(diff)
    if why is None:
        return None
    return _constant_decision([*steps, why])


def _constant_decision(steps: list[str]) -> Decision:
    rests_on("algebraic-constants")
    rests_on("arb")
    return Decision("equal", CONSTANT_METHOD, "; ".join(steps))


def _constants_equal(x: sympy.Expr, y: sympy.Expr, depth: int) -> Decision | None:
    if canonical(x - y) == 0:
        return Decision("equal", "canonical form", "difference reduces to 0 over Q")
    return decide_constant_equal(x, y, depth)


def _head_key(e: sympy.Basic) -> tuple | None:
    if isinstance(e, sympy.Function) and all(isinstance(a, sympy.Expr) for a in e.args):
        return (e.func, len(e.args))
    if e.is_Pow and e.exp.is_Rational and not e.exp.is_Integer:
        return (sympy.Pow, e.exp)
    return None


def _same_by_congruence(g: sympy.Expr, h: sympy.Expr, depth: int) -> str | None:
    """Why g = h (step 1 of :func:`decide_constant_equal`), or None."""
    if enclose(g, DEFAULT_BITS) is None or enclose(h, DEFAULT_BITS) is None:
        return None
    pairs = [(g.base, h.base)] if g.is_Pow else list(zip(g.args, h.args, strict=True))
    reasons = []
    for x, y in pairs:
        if x == y:
            continue
        sub = _constants_equal(x, y, depth + 1)
        if sub is None or not sub.equal:
            return None
        reasons.append(f"{x} = {y} ({sub.method})")
    return f"{g} = {h} since " + " and ".join(reasons)


def _unify_heads(expr: sympy.Expr, depth: int, steps: list[str]) -> dict:
    """Subterms of ``expr`` proved equal to another one with the same head, mapped to that
    representative; the reasons are appended to ``steps``."""
    groups: dict[tuple, list[sympy.Expr]] = {}
    for e in sympy.preorder_traversal(expr):
        key = _head_key(e)
        if key is not None and e not in groups.setdefault(key, []):
            groups[key].append(e)
    replace: dict[sympy.Expr, sympy.Expr] = {}
    for members in groups.values():
        members.sort(key=sympy.default_sort_key)
        for g, h in combinations(members, 2):
            if g in replace or h in replace:
                continue
            why = _same_by_congruence(g, h, depth)
            if why is not None:
                replace[h] = g
                steps.append(why)
    return replace


def _equal_by_power(lhs: sympy.Expr, rhs: sympy.Expr) -> str | None:
    """Why lhs = rhs by step 2 of :func:`decide_constant_equal`, or None. Both sides must have
    Arb enclosures (real numbers: for complex ones a^3 = b^3 does not give a = b)."""
    a = enclose_adaptive(lhs, lambda ball: not ball.contains(0))
    b = enclose_adaptive(rhs, lambda ball: not ball.contains(0))
    if a is None or b is None:
        return None
    if canonical(lhs**3 - rhs**3) == 0:
        return "lhs^3 - rhs^3 reduces to 0 over Q, and x -> x^3 is injective on the reals"
    same_sign = a.ball > 0 and b.ball > 0 or a.ball < 0 and b.ball < 0
    if not same_sign or canonical(lhs**2 - rhs**2) != 0:
        return None
    return (f"lhs^2 - rhs^2 reduces to 0 over Q, and lhs in {a.describe()}, rhs in "
            f"{b.describe()} have the same strict sign")


def _vanishing_by_conjugates(d: sympy.Expr) -> str | None:
    """Why the number d (a canonical form) is 0 (step 3 of :func:`decide_constant_equal`)."""
    radicals = [p for p in d.atoms(sympy.Pow) if p.exp.is_Rational and p.exp.q == 2]
    bases = sorted({p.base for p in radicals}, key=sympy.default_sort_key)
    if not bases or len(bases) > MAX_CONJUGATE_RADICALS:
        return None
    conjugates: list[sympy.Expr] = []
    for size in range(1, len(bases) + 1):
        for flipped in combinations(bases, size):
            e = d.xreplace({p: -p for p in radicals if p.base in flipped})
            if any(canonical(e - s) == 0 or canonical(e + s) == 0 for s in [d, *conjugates]):
                continue
            conjugates.append(e)
    if not conjugates or canonical(d * sympy.Mul(*conjugates)) != 0:
        return None
    balls = []
    for e in conjugates:
        found = enclose_adaptive(e, lambda ball: not ball.contains(0))
        if found is None or found.ball.contains(0):
            return None
        balls.append(f"{e} in {found.describe()}")
    return (f"(lhs - rhs) times its {len(conjugates)} square-root conjugate(s) reduces to 0 "
            f"over Q, and each conjugate is nonzero: " + "; ".join(balls))


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
        rests_on("hypergeometric-induction")
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


def decide_exact_constant_equality(lhs: sympy.Expr, rhs: sympy.Expr) -> tuple[str, str]:
    """``lhs = rhs`` exactly, for two real constants: ("proved" | "refuted" | "unknown", detail).

    "proved" by :func:`decide_constant_equal` (canonical form, or exact algebra with signs
    certified by Arb); "refuted" when :func:`certify_difference` certifies lhs - rhs != 0 (for
    ``pi = 3.1416``: pi - 3927/1250 is a nonzero polynomial in pi, and its Arb ball excludes 0);
    otherwise "unknown". A claim with free symbols is "unknown" here (see :func:`decide_equal`).
    """
    lhs, rhs = sympy.sympify(lhs), sympy.sympify(rhs)
    if not (_is_constant(lhs) and _is_constant(rhs)):
        return "unknown", "not a claim about constants"
    d = decide_constant_equal(lhs, rhs)
    if d is not None:
        return "proved", f"{d.method}: {d.reason}"
    differ, how = certify_difference(lhs, rhs)
    if differ:
        return "refuted", f"lhs - rhs != 0: {how}"
    return "unknown", f"lhs - rhs reduces to {canonical(lhs - rhs)}, not 0; {how}"
