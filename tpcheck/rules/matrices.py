"""Rules of the moment method for random matrices: ``genus_expansion``, ``trace_expansion``,
``noncrossing_count``, ``catalan_recurrence``, ``semicircle_moment``."""

from __future__ import annotations

import sympy

from tpcheck.engines.equality import decide_equal
from tpcheck.engines.heads import Expectation, GenusSum, ncpairings
from tpcheck.expectations.traces import exact_traces, gue_genus_form
from tpcheck.kernel import Context, Evidence, Goal, Judgement, Verdict, rule
from tpcheck.rules.common import does_its_own_work, judge_equal
from tpcheck.trusted import rests_on


@rule("genus_expansion", relations=("=", "->"), human="the genus expansion",
      latex="by the genus expansion (Harer--Zagier)")
@does_its_own_work
def genus_expansion(goal: Goal, args: tuple, ctx: Context) -> Judgement:
    """GUE: E tr M^{2k} = sum over pairings pi of the 2k steps of n^{#cycles(gamma o pi)};
    genus_sum(n, k) -> ncpairings(2k) as n -> oo.

    '=' steps: Wick's theorem with E[M_ab M_cd] = d_ad d_bc makes each pairing pi of the 2k
    factors of tr M^{2k} = sum_i M_{i1 i2} ... M_{i2k i1} contribute n^{#cycles(gamma o pi)},
    gamma the 2k-cycle; so E tr M^{2k} = n^{k+1} genus_sum(n, k) for every k, odd traces vanish,
    and for a concrete k genus_sum(n, k) is the Harer-Zagier polynomial divided by n^{k+1}.
    '->' steps: #cycles(gamma o pi) = k + 1 - 2 g(pi) with g >= 0 and g = 0 exactly for the
    non-crossing pairings, so genus_sum(n, k) -> ncpairings(2k) (finitely many terms).
    Reference: Harer & Zagier (1986); theory facts §3.4; Mingo & Speicher, Free Probability
    and Random Matrices, ch. 1.
    """
    if goal.rel == "->":
        n = goal.limit_var
        found = [f for f in sympy.Mul.make_args(goal.lhs) if isinstance(f, GenusSum)]
        if len(found) != 1 or found[0].args[0] != n:
            return Judgement.undecided(f"genus_expansion: the left side must be c genus_sum({n}, k)")
        (gs,) = found
        rest = goal.lhs / gs
        if n in rest.free_symbols:
            return Judgement.undecided(f"genus_expansion: the factor {rest} depends on {n}")
        k = gs.args[1]
        return judge_equal("genus_expansion", rest * ncpairings(2 * k), goal.rhs, ctx.space)
    lhs, rhs = gue_genus_form(goal.lhs, ctx), gue_genus_form(goal.rhs, ctx)
    return judge_equal("genus_expansion", lhs, rhs, ctx.space)


@rule("trace_expansion", relations=("=", "->"), human="the trace expansion over closed walks",
      latex="by expanding the trace over closed walks")
@does_its_own_work
def trace_expansion(goal: Goal, args: tuple, ctx: Context) -> Judgement:
    """E tr X^k = sum over closed walks i_1 -> ... -> i_k -> i_1 of E[X_{i1 i2} ... X_{ik i1}].

    Exact for concrete k: walks are grouped by shape (which steps share an index); a shape
    with t indices occurs (n)_t times and weighs prod over its distinct edges of the entry
    moment of the edge's multiplicity (Wigner, k <= 10); GOE by Wick's theorem with the two
    terms of E[M_ab M_cd] = d_ac d_bd + d_ad d_bc (k <= 10); GUE by the Harer-Zagier
    recursion; Wishart S = X X^T / N by bipartite closed walks i_1 -> j_1 -> i_2 -> ... with
    (p)_{rows} (N)_{columns} occurrences of a shape (k <= 5). For a ranged parameter
    (k in a..b) the step is checked on every instance: '=' exactly, '->' by the exact
    limit of the exact finite-n value (VERIFIED on the range).
    Reference: Anderson, Guionnet & Zeitouni (2010), §2.1; theory facts §3.1, §3.4.
    """
    from tpcheck.engines.asymptotics import limit_at_infinity

    free = goal.lhs.free_symbols | goal.rhs.free_symbols
    ranged = [p for p in ctx.parameters if p.hi is not None and p.symbol in free]
    if len(ranged) > 1:
        return Judgement.undecided("trace_expansion: at most one ranged parameter")
    values = range(ranged[0].lo, ranged[0].hi + 1) if ranged else [None]
    for v in values:
        inst = {ranged[0].symbol: sympy.Integer(v)} if ranged else {}
        lhs = exact_traces(goal.lhs, ctx, inst)
        rhs = goal.rhs.xreplace(inst)
        if lhs.has(Expectation):
            return Judgement.undecided(
                f"trace_expansion: no exact value for {lhs.atoms(Expectation)} "
                "(concrete k up to 10, or declare the entry moments)")
        if goal.rel == "->":
            res = limit_at_infinity(lhs, goal.limit_var)
            if res.value is None:
                return Judgement.undecided(f"trace_expansion: limit not decided: {res.reason}")
            lhs = res.value
        else:
            rhs = exact_traces(goal.rhs, ctx, inst)
        d = decide_equal(lhs, rhs, ctx.space)
        at = {str(ranged[0].symbol): str(v)} if ranged else {}
        if d.status == "unequal" and not rhs.has(Expectation):
            cex = d.counterexample or {"instance": {}}
            cex["instance"] = {**at, **cex.get("instance", {})}
            if "lhs" not in cex:
                cex["lhs"], cex["rhs"] = str(lhs), str(rhs)
            where = f" at {at}" if at else ""
            return Judgement(Verdict.REFUTED, f"trace_expansion: the sides differ{where}",
                             counterexample=cex)
        if d.status != "equal":
            return Judgement.undecided(f"trace_expansion: at {at}: {d.reason}")
    if ranged:
        p = ranged[0]
        rng = {str(p.symbol): [p.lo, p.hi]}
        return Judgement(Verdict.VERIFIED, f"trace_expansion: exact on every instance of {rng}",
                         range=rng, evidence=[Evidence("exact-instances", True,
                                                       f"{p.hi - p.lo + 1} instances", {"range": rng})])
    return Judgement(Verdict.PROVED, "trace_expansion: exact closed-walk count",
                     evidence=[Evidence("symbolic", True, "exact enumeration")])


@rule("noncrossing_count", human="counting non-crossing pairings",
      latex="since non-crossing pairings of $2k$ points are counted by $C_k$")
@does_its_own_work
def noncrossing_count(goal: Goal, args: tuple, ctx: Context) -> Judgement:
    """ncpairings(2k) = catalan(k), ncpairings(2k + 1) = 0.

    Pairing the first point with the 2j-th splits the circle into an inside of 2j - 2 points
    and an outside of 2k - 2j points, each paired non-crossingly on its own: N_k =
    sum_j N_{j-1} N_{k-j}, N_0 = 1, the Catalan recurrence. Every ncpairings(m) whose parity
    follows from the declarations is replaced; then the sides are compared exactly.
    Reference: Stanley, Catalan Numbers (2015), §2; theory facts §3.2.
    """
    problems = []

    def replace(e: sympy.Basic) -> sympy.Basic:
        m = e.args[0]
        if (m / 2).is_integer and m.is_nonnegative:
            return sympy.catalan(m / 2)
        if ((m - 1) / 2).is_integer and m.is_nonnegative:
            return sympy.Integer(0)
        problems.append(str(e))
        return e

    sides = [s.replace(lambda e: isinstance(e, ncpairings), replace) for s in (goal.lhs, goal.rhs)]
    if problems:
        return Judgement.undecided(f"noncrossing_count: the parity of {problems[0]} is not determined")
    return judge_equal("noncrossing_count", sides[0], sides[1], ctx.space)


@rule("catalan_recurrence", human="the Catalan recurrence", latex="by the Catalan recurrence")
@does_its_own_work
def catalan_recurrence(goal: Goal, args: tuple, ctx: Context) -> Judgement:
    """catalan(m + 1) = sum_{i=0}^{m} catalan(i) catalan(m - i), m >= 0.

    Checked: one side is catalan(m + 1) and the other the convolution sum over i = 0..m (any
    name for i), for an m that is a natural number by its declaration; the identity is
    Segner's recurrence (the first-return decomposition of Dyck paths). For a concrete m the
    sum is also evaluated. Reference: Stanley, Catalan Numbers (2015), (1.1).
    """
    for lhs, rhs in ((goal.lhs, goal.rhs), (goal.rhs, goal.lhs)):
        if not isinstance(lhs, sympy.catalan) or not isinstance(rhs, sympy.Sum):
            continue
        (i, lo, hi), = rhs.limits
        m = lhs.args[0] - 1
        expected = sympy.catalan(i) * sympy.catalan(m - i)
        if lo == 0 and sympy.expand(hi - m) == 0 and sympy.expand(rhs.function - expected) == 0:
            if m.is_integer and m.is_nonnegative:
                return Judgement(Verdict.PROVED, "catalan_recurrence: Segner's recurrence",
                                 evidence=[Evidence("symbolic", True, "the recurrence's shape")])
            return Judgement.undecided(f"catalan_recurrence: cannot show {m} is a natural number")
    return Judgement.undecided("catalan_recurrence: the step is not catalan(m+1) = "
                               "sum(catalan(i) * catalan(m - i), i = 0..m)")


def _beta_integral(integral: sympy.Integral) -> sympy.Expr | None:
    """int_{-r}^{r} c x^m (r^2 - x^2)^q dx = 0 for odd m and
    c r^{m + 2q + 1} Gamma((m+1)/2) Gamma(q+1) / Gamma((m+1)/2 + q + 1) for even m (q > -1)."""
    if len(integral.limits) != 1 or len(integral.limits[0]) != 3:
        return None
    x, lo, hi = integral.limits[0]
    r = hi
    if sympy.expand(lo + hi) != 0 or r.is_positive is not True:
        return None
    c, m, q = sympy.Integer(1), sympy.Integer(0), sympy.Integer(0)
    for f in sympy.Mul.make_args(integral.function):
        base, e = (f.base, f.exp) if f.is_Pow else (f, sympy.Integer(1))
        if x not in f.free_symbols:
            c *= f
        elif base == x and x not in e.free_symbols:
            m += e
        elif x not in e.free_symbols and sympy.expand(base - (r**2 - x**2)) == 0:
            q += e
        else:
            return None
    if not (m.is_integer and m.is_nonnegative) or (q + 1).is_positive is not True:
        return None
    if ((m - 1) / 2).is_integer:
        return sympy.Integer(0)
    if not (m / 2).is_integer:
        return None
    a = (m + 1) / 2
    return c * r ** (m + 2 * q + 1) * sympy.gamma(a) * sympy.gamma(q + 1) / sympy.gamma(a + q + 1)


@rule("semicircle_moment", human="the Beta integral", latex="by the Beta integral")
@does_its_own_work
def semicircle_moment(goal: Goal, args: tuple, ctx: Context) -> Judgement:
    """int_{-r}^{r} x^m (r^2 - x^2)^q dx = r^{m+2q+1} B((m+1)/2, q+1) for even m, 0 for odd m.

    With x = r sqrt(t) on each half-line the integral is the Beta function
    B(a, b) = Gamma(a) Gamma(b)/Gamma(a+b); odd m integrate to 0 by symmetry. For the
    semicircle density sqrt(4 - x^2)/(2 pi) on [-2, 2] this gives
    int x^{2k} rho = 4^k Gamma(k + 1/2)/(sqrt(pi) Gamma(k + 2)) = C_k. Every such integral
    (m a natural number whose parity follows from the declarations, q > -1) is replaced by its
    closed form; then the sides are compared exactly. Reference: Anderson, Guionnet & Zeitouni
    (2010), (2.1.3); theory facts §3.3.
    """
    def replace(e: sympy.Basic) -> sympy.Basic:
        v = _beta_integral(e)
        return v if v is not None else e

    sides = [s.replace(lambda e: isinstance(e, sympy.Integral), replace)
             for s in (goal.lhs, goal.rhs)]
    if any(s.has(sympy.Integral) for s in sides):
        return Judgement.undecided("semicircle_moment: an integral is not of the form "
                                   "int_{-r}^{r} c x^m (r^2 - x^2)^q dx")
    return judge_equal("semicircle_moment", sides[0], sides[1], ctx.space)


def _certified_sign(value: sympy.Expr) -> int | None:
    """The sign of a real constant: exactly when rational, else certified at 50 digits."""
    if value.is_Rational:
        return int(sympy.sign(value))
    try:
        rests_on("sympy-evalf-strict")
        approx = sympy.N(value, 50, strict=True)
    except (sympy.core.evalf.PrecisionExhausted, ValueError, TypeError):
        return None
    if approx.is_Float and abs(approx) > sympy.Float("1e-40", 50):
        return 1 if approx > 0 else -1
    return None


@rule("stieltjes", human="the Stieltjes transform of the semicircle",
      latex="by the self-consistent equation of the Stieltjes transform")
@does_its_own_work
def stieltjes(goal: Goal, args: tuple, ctx: Context) -> Judgement:
    """int_{-2}^{2} sqrt(4 - x^2)/(2 pi (z - x)) dx = F for a point z off [-2, 2] when
    F^2 - z F + 1 = 0 and |F| < 1.

    G(z) = int rho(x)/(z - x) dx satisfies G^2 - z G + 1 = 0 off the support (its Laurent
    series sum_k C_k z^(-2k-1) obeys the Catalan recurrence) and |G(z)| < 1 there; the two
    roots of the quadratic have product 1, so exactly one has modulus below 1, and it is G(z).
    Checked: the integrand is the semicircle density over (z - x) for a concrete z (free of
    the integration variable and of symbols), z is off [-2, 2], F solves the quadratic exactly,
    and |F|^2 - 1 < 0 (rational, or certified at 50 digits).
    Reference: Anderson, Guionnet & Zeitouni (2010), §2.4; theory facts §3.3.
    """
    lhs, rhs = goal.lhs, goal.rhs
    if not isinstance(lhs, sympy.Integral):
        lhs, rhs = rhs, lhs
    if not isinstance(lhs, sympy.Integral) or len(lhs.limits) != 1 or len(lhs.limits[0]) != 3:
        return Judgement.undecided("stieltjes: one side must be int_{-2}^{2} rho(x)/(z - x) dx")
    x, lo, hi = lhs.limits[0]
    if lo != -2 or hi != 2:
        return Judgement.undecided("stieltjes: the integral must run over [-2, 2]")
    density = sympy.sqrt(4 - x**2) / (2 * sympy.pi)
    inverse = sympy.cancel(density / lhs.function)  # should be z - x
    z = sympy.expand(inverse + x)
    if x in z.free_symbols or z.free_symbols:
        return Judgement.undecided("stieltjes: the integrand is not rho(x)/(z - x) for a concrete z")
    re, im = z.as_real_imag()
    if im == 0 or _certified_sign(im) is None:
        off = _certified_sign(sympy.Abs(re) - 2) == 1
    else:
        off = True
    if not off:
        return Judgement.undecided(f"stieltjes: cannot show that z = {z} lies off [-2, 2]")
    if sympy.expand(rhs**2 - z * rhs + 1) != 0:
        return Judgement(Verdict.REFUTED, f"stieltjes: {rhs} does not solve G^2 - z G + 1 = 0",
                         counterexample={"instance": {"z": str(z)},
                                         "G^2 - z G + 1": str(sympy.expand(rhs**2 - z * rhs + 1))})
    modulus = sympy.expand(rhs * sympy.conjugate(rhs)) - 1
    sign = _certified_sign(modulus)
    if sign == 1:
        return Judgement(Verdict.REFUTED, f"stieltjes: {rhs} is the root with |F| > 1",
                         counterexample={"instance": {"z": str(z)}, "|F|^2": str(modulus + 1)})
    if sign != -1:
        return Judgement.undecided(f"stieltjes: cannot decide |{rhs}| < 1")
    G = sympy.Symbol("G")
    quadratic = G**2 - z * G + 1
    return Judgement(Verdict.PROVED, f"stieltjes: {rhs} is the root of {quadratic} with |G| < 1",
                     evidence=[Evidence("symbolic", True, "root of the quadratic with |G| < 1")])
