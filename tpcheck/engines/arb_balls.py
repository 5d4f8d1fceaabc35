"""Certified enclosures of real constants in ball arithmetic (Arb, through python-flint).

A *ball* [m +/- r] is a midpoint and a radius; every Arb operation returns a ball that provably
contains the exact result for every point of its input balls (F. Johansson, "Arb: efficient
arbitrary-precision midpoint-radius interval arithmetic", IEEE Trans. Computers 66(8), 2017).
So the enclosure of a closed-form constant is a theorem about it: a ball that excludes 0
certifies that the constant is nonzero, and ``|lhs - rhs| <= tol`` is proved when the upper end
of the ball of ``|lhs - rhs|`` is at most ``tol``.

- :func:`enclose` walks a sympy expression (integers, rationals, binary floats, pi, E,
  EulerGamma, Catalan, +, *, powers, and the elementary and special functions listed in
  ``_FUNCTIONS``) at one precision; :func:`enclose_adaptive` doubles the precision from 128 up
  to 4096 bits until a caller's question is answered. Anything outside the engine, or a ball
  that touches a singularity or leaves a function's real domain (log of a ball containing 0,
  sqrt of a ball with a negative part, acos outside [-1, 1], division by a ball containing 0),
  gives None: never a guess.
- :func:`gaussian_expectation_ball` encloses E[f(Z)], Z ~ N(0, s^2), for f built from entire
  and meromorphic functions, by rigorous ball quadrature on [-L, L] (F. Johansson, "Numerical
  integration in arbitrary-precision ball arithmetic", ICMS 2018, LNCS 10931) plus a bound on
  the tails from an exponential envelope |f(x)| <= A exp(B |x|);
  :func:`bivariate_gaussian_expectation_ball` reduces E[f(u) g(v)] to it through a closed
  inner expectation.
- :func:`decide_within` proves or refutes ``lhs ~= rhs within tol``.

The precision is always set with ``flint.ctx.workprec`` around the computation; the global
precision is never changed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import sympy
from flint import acb, arb, ctx, fmpq, fmpz

from tpcheck.engines.heads import relu
from tpcheck.errors import EvaluationError
from tpcheck.trusted import rests_on

DEFAULT_BITS = 128
MAX_BITS = 4096
EXACT_INTEGER_LIMIT = 10_000  # factorials and binomials up to this n are computed exactly


class _Unsupported(Exception):
    """The expression is outside the engine: more precision cannot help."""


class _Indeterminate(Exception):
    """A ball touches a singularity or a domain boundary: more precision may help."""


@dataclass(frozen=True)
class Enclosure:
    """A ball that provably contains a value, and the working precision that produced it."""

    ball: arb
    prec_bits: int

    def describe(self) -> str:
        """``[m +/- r] (Arb, N bits)`` with the midpoint to 20 digits and the radius."""
        return describe_ball(self.ball, self.prec_bits)


def describe_ball(ball: arb, prec_bits: int) -> str:
    """Midpoint (20 significant digits), radius (3 digits) and the precision of ``ball``."""
    mid = ball.mid().str(20, radius=False)
    rad = ball.rad().str(3, radius=False)
    return f"[{mid} +/- {rad}] (Arb, {prec_bits} bits)"


# ---- the walker ----------------------------------------------------------------------------


def _checked(value: arb) -> arb:
    if not value.is_finite():
        raise _Indeterminate
    return value


def _require_positive(x: arb) -> arb:
    if x > 0:
        return x
    if x <= 0:
        raise _Unsupported  # not real (log, fractional power of a negative number) or infinite
    raise _Indeterminate


def _log(x: arb) -> arb:
    return _require_positive(x).log()


def _in_closed_unit_interval(x: arb) -> arb:
    if x >= -1 and x <= 1:
        return x
    if x < -1 or x > 1:
        raise _Unsupported  # complex value
    raise _Indeterminate


def _in_open_unit_interval(x: arb) -> arb:
    if x > -1 and x < 1:
        return x
    if x <= -1 or x >= 1:
        raise _Unsupported
    raise _Indeterminate


def _at_least_one(x: arb) -> arb:
    if x >= 1:
        return x
    if x < 1:
        raise _Unsupported
    raise _Indeterminate


def _heaviside(x: arb, *_: arb) -> arb:
    # The value at 0 is a convention (1/2 in sympy, 0 in the witnesses): refuse to choose.
    if x > 0:
        return arb(1)
    if x < 0:
        return arb(0)
    raise _Unsupported if x.is_zero() else _Indeterminate


def _sign(x: arb) -> arb:
    if x > 0:
        return arb(1)
    if x < 0:
        return arb(-1)
    if x.is_zero():
        return arb(0)
    raise _Indeterminate


def _nonnegative_integer(e: sympy.Expr) -> int:
    if not (e.is_Integer and e >= 0):
        raise _Unsupported
    return int(e)


def _extremum(pick: Callable[[arb, arb], arb]) -> Callable[..., arb]:
    def fold(*xs: arb) -> arb:
        out = xs[0]
        for x in xs[1:]:
            out = pick(out, x)
        return out

    return fold


# Real functions: each receives the enclosures of its arguments and returns a ball for the
# image, or raises when an argument ball leaves the real domain.
_FUNCTIONS: dict[type, Callable[..., arb]] = {
    sympy.exp: arb.exp,
    sympy.log: _log,
    sympy.sin: arb.sin,
    sympy.cos: arb.cos,
    sympy.tan: arb.tan,
    sympy.cot: arb.cot,
    sympy.sec: arb.sec,
    sympy.csc: arb.csc,
    sympy.sinh: arb.sinh,
    sympy.cosh: arb.cosh,
    sympy.tanh: arb.tanh,
    sympy.sech: arb.sech,
    sympy.asin: lambda x: _in_closed_unit_interval(x).asin(),
    sympy.acos: lambda x: _in_closed_unit_interval(x).acos(),
    sympy.atan: arb.atan,
    sympy.asinh: arb.asinh,
    sympy.acosh: lambda x: _at_least_one(x).acosh(),
    sympy.atanh: lambda x: _in_open_unit_interval(x).atanh(),
    sympy.erf: arb.erf,
    sympy.erfc: arb.erfc,
    sympy.gamma: arb.gamma,
    sympy.Abs: abs,
    sympy.Max: _extremum(arb.max),
    sympy.Min: _extremum(arb.min),
    sympy.Heaviside: _heaviside,
    sympy.sign: _sign,
    relu: lambda x: x.max(arb(0)),
}

_CONSTANTS: dict[sympy.Basic, Callable[[], arb]] = {
    sympy.pi: arb.pi,
    sympy.E: arb.const_e,
    sympy.EulerGamma: arb.const_euler,
    sympy.Catalan: arb.const_catalan,
}


class _Walker:
    """Enclosures of the subterms of one expression at the current context precision."""

    def __init__(self) -> None:
        self.memo: dict[sympy.Basic, arb] = {}

    def ball(self, e: sympy.Basic) -> arb:
        if e not in self.memo:
            self.memo[e] = _checked(self._ball(e))
        return self.memo[e]

    def _ball(self, e: sympy.Basic) -> arb:  # noqa: C901
        if e.is_Integer:
            return arb(fmpz(int(e)))
        if e.is_Rational:
            return arb(fmpq(int(e.p), int(e.q)))
        if e.is_Float:
            sign, man, exp, _ = e._mpf_
            if man == 0 and exp != 0:
                raise _Unsupported  # inf or nan
            return arb((-man if sign else man, exp))  # the float's exact binary value
        if e in _CONSTANTS:
            return _CONSTANTS[e]()
        if e.is_Add:
            total = arb(0)
            for a in e.args:
                total += self.ball(a)
            return total
        if e.is_Mul:
            total = arb(1)
            for a in e.args:
                total *= self.ball(a)
            return total
        if e.is_Pow:
            return self._power(e.base, e.exp)
        if isinstance(e, sympy.factorial):
            n = _nonnegative_integer(e.args[0])
            return arb(fmpz.fac_ui(n)) if n <= EXACT_INTEGER_LIMIT else arb.fac_ui(n)
        if isinstance(e, sympy.binomial):
            n, k = (_nonnegative_integer(a) for a in e.args)
            return arb(fmpz.bin_uiui(n, k)) if n <= EXACT_INTEGER_LIMIT else arb.bin_uiui(n, k)
        f = _FUNCTIONS.get(type(e))
        if f is None:
            raise _Unsupported
        return f(*(self.ball(a) for a in e.args))

    def _power(self, base: sympy.Expr, exponent: sympy.Expr) -> arb:
        b = self.ball(base)
        if exponent.is_Integer:
            n = int(exponent)
            if n >= 0:
                return b ** fmpz(n)
            if b.contains(0):
                raise _Unsupported if b.is_zero() else _Indeterminate
            return 1 / b ** fmpz(-n)
        if exponent.is_Rational and exponent > 0 and b.is_zero():
            return arb(0)
        b = _require_positive(b)  # sympy's x^r with x < 0 and r not an integer is complex
        if exponent.is_Rational:
            p, q = int(exponent.p), int(exponent.q)
            root = b.sqrt() if q == 2 else b.root(q)
            return root ** fmpz(p) if p >= 0 else 1 / root ** fmpz(-p)
        return b ** self.ball(exponent)


#: Balls of opaque atoms (an expectation, say) at a given precision, or None if there are none.
AtomBalls = Callable[[int], Mapping[sympy.Basic, arb] | None]


def _enclose_all(exprs: list[sympy.Expr], prec_bits: int, atoms: AtomBalls | None = None
                 ) -> list[arb]:
    with ctx.workprec(prec_bits):
        walker = _Walker()
        if atoms is not None:
            seeded = atoms(prec_bits)
            if seeded is None:
                raise _Unsupported
            walker.memo.update(seeded)
        return [walker.ball(sympy.sympify(e)) for e in exprs]


def enclose(expr: sympy.Expr, prec_bits: int = DEFAULT_BITS) -> arb | None:
    """A ball that provably contains the real constant ``expr``, computed at ``prec_bits``.

    Supported: integers, rationals, binary floats (their exact value), pi, E, EulerGamma,
    Catalan; +, *, integer powers, rational powers of positive bases, real powers of positive
    bases; exp, log, sin, cos, tan, cot, sec, csc, sinh, cosh, tanh, sech, asin, acos, atan,
    asinh, acosh, atanh, erf, erfc, gamma, Abs, Max, Min, sign, Heaviside and relu away from 0,
    and factorial/binomial at non-negative integers. The kernel closed forms (``relu_dual``,
    ``step_dual``, ``erf_dual``, built by :mod:`tpcheck.engines.gaussian`) are expressions in these.

    Returns None for a free symbol, an unsupported head, a complex value (log or a fractional
    power of a negative number, asin/acos outside [-1, 1]) and a ball touching a singularity or
    a domain boundary (log, sqrt or a negative power of a ball containing 0, tan at a pole,
    gamma at a pole). Arb: Johansson, IEEE Trans. Computers 66(8), 2017.
    """
    try:
        return _enclose_all([expr], prec_bits)[0]
    except (_Unsupported, _Indeterminate):
        return None


def _adaptive(
    exprs: list[sympy.Expr],
    settled: Callable[[list[arb]], bool],
    start_bits: int = DEFAULT_BITS,
    max_bits: int = MAX_BITS,
    atoms: AtomBalls | None = None,
) -> tuple[list[arb], int] | None:
    """Enclosures of ``exprs`` at start_bits, 2 start_bits, ... until ``settled`` holds or
    ``max_bits`` is passed; the last enclosures computed, or None if there were none."""
    last: tuple[list[arb], int] | None = None
    bits = start_bits
    while bits <= max_bits:
        with ctx.workprec(bits):
            try:
                balls = _enclose_all(exprs, bits, atoms)
            except _Unsupported:
                return None
            except _Indeterminate:
                bits *= 2
                continue
            last = (balls, bits)
            if settled(balls):
                return last
        bits *= 2
    return last


def enclose_adaptive(
    expr: sympy.Expr,
    accept: Callable[[arb], bool] | None = None,
    start_bits: int = DEFAULT_BITS,
    max_bits: int = MAX_BITS,
) -> Enclosure | None:
    """:func:`enclose` at start_bits, then twice as many bits, ... up to ``max_bits``, until
    ``accept(ball)`` holds (by default: at least start_bits - 10 bits of relative accuracy, or
    an exact 0). Returns the last enclosure computed, which is rigorous whether or not it was
    accepted, or None when the engine cannot enclose ``expr`` at any of these precisions."""

    def default(b: arb) -> bool:
        return b.is_zero() or b.rel_accuracy_bits() >= start_bits - 10

    test = accept or default
    found = _adaptive([expr], lambda balls: test(balls[0]), start_bits, max_bits)
    return None if found is None else Enclosure(found[0][0], found[1])


def certified_nonzero(expr: sympy.Expr, max_bits: int = MAX_BITS) -> Enclosure | None:
    """An enclosure of ``expr`` that excludes 0 (a proof that ``expr != 0``), found by
    doubling the precision up to ``max_bits``; None when no such ball was found."""
    found = enclose_adaptive(expr, lambda b: not b.contains(0), max_bits=max_bits)
    if found is None or found.ball.contains(0):
        return None
    rests_on("arb")
    return found


# ---- the approximate relation --------------------------------------------------------------


def _tolerance(tol: sympy.Expr | str | int | float) -> sympy.Expr:
    """``tol`` as an exact sympy number; strings and floats are read as the decimal they
    spell (``"1e-19"`` and ``1e-19`` both mean 10^-19 exactly)."""
    if isinstance(tol, str | float):
        return sympy.Rational(str(tol))
    return sympy.sympify(tol)


def decide_within(
    lhs: sympy.Expr, rhs: sympy.Expr, tol: sympy.Expr | str | int | float,
    atoms: AtomBalls | None = None,
) -> tuple[str, str]:
    """Decide ``|lhs - rhs| <= tol`` for real constants by enclosure.

    With D a ball containing |lhs - rhs| (the difference as one sympy expression, so that
    identical terms cancel exactly; Arb, Johansson 2017): "proved" when
    upper(D) <= tol, "refuted" when lower(D) > tol, otherwise "unknown"; the precision is
    doubled from 128 to 4096 bits until one of the first two holds. The detail states the
    ball of lhs - rhs (midpoint, radius, bits). A ``tol`` that is certainly negative is an
    :class:`EvaluationError`. ``atoms`` gives balls, at each precision, for subterms the engine
    cannot enclose itself (expectations enclosed by :func:`gaussian_expectation_ball`).
    """
    t = _tolerance(tol)
    diff = sympy.sympify(lhs) - sympy.sympify(rhs)

    def verdict(balls: list[arb]) -> str | None:
        dist, tb = abs(balls[0]), balls[1]
        if dist <= tb:
            return "proved"
        if dist > tb:
            return "refuted"
        return None

    found = _adaptive([diff, t], lambda balls: verdict(balls) is not None, atoms=atoms)
    if found is None:
        return "unknown", f"no enclosure of {diff} or {t} up to {MAX_BITS} bits"
    (db, tb), bits = found
    if tb < 0:
        raise EvaluationError(f"the tolerance {t} is negative")
    with ctx.workprec(bits):
        status = verdict([db, tb]) or "unknown"
    if status != "unknown":
        rests_on("arb")
    ball = describe_ball(db, bits)
    relation = {"proved": "<=", "refuted": ">", "unknown": "not separated from"}[status]
    decimal = t.is_Rational and t.p == 1 and str(t.q).strip("0") == "1"
    shown = f"1e-{len(str(t.q)) - 1}" if decimal else str(t)
    return status, f"lhs - rhs in {ball}, so |lhs - rhs| {relation} {shown}"


# ---- Gaussian expectations -----------------------------------------------------------------

# Entire or meromorphic heads: acb.integral needs no analyticity check for them, since a pole
# inside an evaluation ball gives a non-finite ball (Johansson 2018, section 3).
_ENTIRE: dict[type, Callable[[acb], acb]] = {
    sympy.exp: acb.exp,
    sympy.sin: acb.sin,
    sympy.cos: acb.cos,
    sympy.sinh: acb.sinh,
    sympy.cosh: acb.cosh,
    sympy.tanh: acb.tanh,
    sympy.sech: acb.sech,
    sympy.erf: acb.erf,
    sympy.erfc: acb.erfc,
}

# sup over the reals of |h(y)|, for heads bounded on the whole real line.
_BOUNDED: dict[type, int] = {
    sympy.sin: 1, sympy.cos: 1, sympy.tanh: 1, sympy.sech: 1, sympy.erf: 1, sympy.erfc: 2,
}


def _complex_function(e: sympy.Expr, x: sympy.Symbol, walker: _Walker) -> Callable[[acb], acb]:
    """z -> e(z) in complex ball arithmetic (constants enclosed at the current precision)."""
    if x not in e.free_symbols:
        c = acb(walker.ball(e))
        return lambda z: c
    if e == x:
        return lambda z: z
    parts = [_complex_function(a, x, walker) for a in e.args]
    if e.is_Add:
        def total(z: acb) -> acb:
            out = acb(0)
            for p in parts:
                out += p(z)
            return out
        return total
    if e.is_Mul:
        def product(z: acb) -> acb:
            out = acb(1)
            for p in parts:
                out *= p(z)
            return out
        return product
    if e.is_Pow and e.exp.is_Integer:
        base, n = parts[0], int(e.exp)
        return lambda z: base(z) ** n
    if type(e) in _ENTIRE and len(parts) == 1:
        head, (inner,) = _ENTIRE[type(e)], parts
        return lambda z: head(inner(z))
    raise _Unsupported


@dataclass(frozen=True)
class _Envelope:
    """For all real x: |e(x)| <= a |x| + b (when ``linear`` is known) and |e(x)| <= A e^{B|x|}."""

    linear: tuple[arb, arb] | None
    A: arb  # noqa: N815  (the names of the formula)
    B: arb  # noqa: N815


def _constant_envelope(bound: arb) -> _Envelope:
    return _Envelope((arb(0), bound), bound, arb(0))


def _envelope(e: sympy.Expr, x: sympy.Symbol, walker: _Walker) -> _Envelope:  # noqa: C901
    """A growth bound of e on the real line, by structural induction (raises _Unsupported)."""
    if x not in e.free_symbols:
        return _constant_envelope(abs(walker.ball(e)))
    if e == x:
        return _Envelope((arb(1), arb(0)), arb(-1).exp(), arb(1))  # |x| <= e^{|x| - 1}
    if type(e) in _BOUNDED:
        return _constant_envelope(arb(_BOUNDED[type(e)]))
    if e.is_Pow and isinstance(e.base, sympy.cosh) and e.exp.is_Integer and e.exp < 0:
        return _constant_envelope(arb(1))  # cosh >= 1 on the reals
    if isinstance(e, sympy.exp | sympy.sinh | sympy.cosh):
        inner = _envelope(e.args[0], x, walker).linear
        if inner is None:
            raise _Unsupported  # faster than exponential growth: no Gaussian tail bound here
        a, b = inner
        return _Envelope((arb(0), b.exp()) if a.is_zero() else None, b.exp(), a)
    parts = [_envelope(a, x, walker) for a in e.args]
    if e.is_Add:
        lin = None
        if all(p.linear is not None for p in parts):
            lin = (sum((p.linear[0] for p in parts), arb(0)), sum((p.linear[1] for p in parts), arb(0)))
        big_b = parts[0].B
        for p in parts[1:]:
            big_b = big_b.max(p.B)
        return _Envelope(lin, sum((p.A for p in parts), arb(0)), big_b)
    if e.is_Mul:
        return _product_envelope(parts)
    if e.is_Pow and e.exp.is_Integer and e.exp >= 0:
        return _product_envelope(parts[:1] * int(e.exp))
    raise _Unsupported


def _product_envelope(parts: list[_Envelope]) -> _Envelope:
    lin: tuple[arb, arb] | None = (arb(0), arb(1))
    big_a, big_b = arb(1), arb(0)
    for p in parts:
        big_a, big_b = big_a * p.A, big_b + p.B
        if lin is None or p.linear is None:
            lin = None
        elif lin[0].is_zero():
            lin = (lin[1] * p.linear[0], lin[1] * p.linear[1])
        elif p.linear[0].is_zero():
            lin = (lin[0] * p.linear[1], lin[1] * p.linear[1])
        else:
            lin = None  # a product of two growing factors is not linearly bounded
    return _Envelope(lin, big_a, big_b)


def gaussian_expectation_ball(
    f: sympy.Expr, x: sympy.Symbol, variance: sympy.Expr | int = 1, prec_bits: int = DEFAULT_BITS
) -> arb | None:
    """A ball containing E[f(Z)], Z ~ N(0, s^2) with s^2 = ``variance``.

    E[f(Z)] = int_{-L}^{L} f(x) phi_s(x) dx + T,  phi_s(x) = exp(-x^2/(2 s^2)) / sqrt(2 pi s^2),
    where the integral is enclosed by Arb's rigorous Gauss-Legendre ball quadrature
    (``acb.integral``; F. Johansson, "Numerical integration in arbitrary-precision ball
    arithmetic", ICMS 2018) and the tails by |f(x)| <= A e^{B|x|} (an envelope derived from
    the structure of f) and completing the square:

        |T| <= 2 A int_L^oo e^{B x} phi_s(x) dx = A e^{B^2 s^2 / 2} erfc((L - B s^2) / (s sqrt 2)).

    L is chosen so that this is below 2^-(prec_bits + 20). f may be built from x, constants,
    +, *, integer powers and exp, sin, cos, sinh, cosh, tanh, sech, erf, erfc (entire or
    meromorphic, so the quadrature needs no analyticity test). Returns None for anything else
    (log, sqrt, Abs, relu, other symbols), for f without an exponential envelope (exp(x^2),
    1/(1 + x^2)), when s^2 is not certified positive, or when the quadrature does not converge.
    """
    f = sympy.sympify(f)
    if f.free_symbols - {x}:
        return None
    with ctx.workprec(prec_bits):
        try:
            walker = _Walker()
            var = walker.ball(sympy.sympify(variance))
            if not var > 0:
                return None
            env = _envelope(f, x, walker)
            integrand = _complex_function(f, x, walker)
        except (_Unsupported, _Indeterminate):
            return None
        s_hi = float(var.upper().sqrt())
        a_hi, b_hi = float(env.A.upper()), float(env.B.upper())
        t = math.sqrt(2 * ((prec_bits + 20) * math.log(2) + max(0.0, math.log(max(a_hi, 1e-300)))
                           + b_hi**2 * s_hi**2 / 2))
        half_width = arb(math.ceil(b_hi * s_hi**2 + s_hi * t))
        norm = (2 * arb.pi() * var).sqrt()

        def weighted(z: acb, _analytic: bool) -> acb:
            return integrand(z) * (-z * z / (2 * var)).exp() / norm

        body = acb.integral(weighted, -half_width, half_width).real
        s = var.sqrt()
        tail = env.A * (env.B**2 * var / 2).exp() * ((half_width - env.B * var) / (s * arb(2).sqrt())).erfc()
        if not (body.is_finite() and tail.is_finite()):
            return None
        rests_on("arb")
        return body + arb(0, 1) * tail.upper()


def _linear_in(e: sympy.Expr, v: sympy.Symbol) -> tuple[sympy.Expr, sympy.Expr] | None:
    """(a, b) with e = a v + b, a and b free of v; None if e is not affine in v."""
    a = sympy.expand(e).coeff(v, 1)
    b = sympy.expand(e - a * v)
    return (a, b) if v not in a.free_symbols | b.free_symbols else None


def gaussian_smoothing(g: sympy.Expr, v: sympy.Symbol, m: sympy.Expr, tau2: sympy.Expr) -> sympy.Expr | None:
    """E[g(m + tau W)], W ~ N(0, 1), in closed form (exact sympy), or None.

    Linear in g; polynomials by E[W^j] = (j - 1)!! (j even); and for a v + b affine:
    E[exp(a V + b)] = exp(a m + b + a^2 tau^2 / 2), E[sin(a V + b)] = e^{-a^2 tau^2/2} sin(a m + b)
    (cos likewise), E[erf(a V + b)] = erf((a m + b) / sqrt(1 + 2 a^2 tau^2)) (Williams 1997,
    from E[Phi(alpha + beta W)] = Phi(alpha / sqrt(1 + beta^2))).
    """
    if v not in g.free_symbols:
        return g
    if g.is_Add:
        terms = [gaussian_smoothing(t, v, m, tau2) for t in g.args]
        return None if any(t is None for t in terms) else sympy.Add(*terms)
    if g.is_polynomial(v):
        w = sympy.Dummy("w")
        poly = sympy.Poly(sympy.expand(g.xreplace({v: m + w})), w)
        return sum((c * tau2 ** (j // 2) * sympy.factorial2(j - 1)
                    for (j,), c in poly.terms() if j % 2 == 0), sympy.Integer(0))
    if g.is_Mul:
        const, rest = g.as_independent(v, as_Add=False)
        if const != 1:
            inner = gaussian_smoothing(rest, v, m, tau2)
            return None if inner is None else const * inner
        return None
    if isinstance(g, sympy.exp | sympy.sin | sympy.cos | sympy.erf):
        ab = _linear_in(g.args[0], v)
        if ab is None:
            return None
        a, b = ab
        mean = a * m + b
        if isinstance(g, sympy.exp):
            return sympy.exp(mean + a**2 * tau2 / 2)
        if isinstance(g, sympy.erf):
            return sympy.erf(mean / sympy.sqrt(1 + 2 * a**2 * tau2))
        return sympy.exp(-(a**2) * tau2 / 2) * type(g)(mean)
    return None


def bivariate_gaussian_expectation_ball(
    f: sympy.Expr,
    g: sympy.Expr,
    u: sympy.Symbol,
    v: sympy.Symbol,
    q1: sympy.Expr | int,
    q2: sympy.Expr | int,
    c: sympy.Expr | int,
    prec_bits: int = DEFAULT_BITS,
) -> arb | None:
    """A ball containing E[f(u) g(v)] for (u, v) ~ N(0, [[q1, c], [c, q2]]).

    Given u, v is N(m, tau^2) with m = (c / q1) u and tau^2 = q2 - c^2 / q1, so
    E[f(u) g(v)] = E_u[f(u) h(u)] with h(u) = E[g(m + tau W)] in closed form
    (:func:`gaussian_smoothing`); the outer expectation is :func:`gaussian_expectation_ball`.
    None when g has no closed smoothing (tanh, products of transcendental factors), when q1 > 0
    and tau^2 >= 0 are not certified, or when the outer expectation is not enclosed.
    """
    q1, q2, c = (sympy.sympify(a) for a in (q1, q2, c))
    tau2 = sympy.cancel(q2 - c**2 / q1)
    if not tau2.is_zero:
        ball = enclose(tau2, prec_bits)
        if ball is None or not ball > 0:
            return None
    h = gaussian_smoothing(sympy.sympify(g), v, c / q1 * u, tau2)
    if h is None:
        return None
    return gaussian_expectation_ball(sympy.sympify(f) * h, u, q1, prec_bits)
