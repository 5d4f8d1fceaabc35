"""Mutation testing of the proof library.

Every theorem of ``proofs/*.tp`` is mutated (numbers, signs, exponents, names, rules, ranges,
relations, tolerances, dropped steps; the claim together with the chain's end, so that the
chain still connects), each mutant is sorted by an *independent oracle* into TRUE, FALSE or
UNKNOWN, and checked by tpcheck. A FALSE mutant that tpcheck passes (PROVED, VERIFIED, PARTIAL
or CORROBORATED) is ACCEPTED: a soundness bug; PARTIAL ones are counted apart, since a claim
checked exactly on part of its domain only may be false elsewhere.

The oracle uses none of tpcheck's rules, engines or elaborator, only its parser. It evaluates
the claim's two sides at admissible instances: exact rationals (``Fraction``) wherever the
value is rational, Arb balls (python-flint, 320 bits) otherwise, and mpmath quadrature at 40
and 60 digits, compared, for integrals and non-polynomial Gaussian expectations. Expectations
come from its own formulas: Gaussian moments by the Stein recursion
E[X_a f] = mu_a E[f] + sum_b C_ab E[d_b f]; iid sums by set partitions; GUE traces by the
Harer-Zagier recursion; GOE, Wigner and Wishart traces by enumerating closed walks; NETSOR
programs (no transposes) as Gaussian processes. iid families and Wigner or Wishart entries known
only by some moments get a concrete law from a small catalogue that meets every declared
moment, so a counterexample is a real one. A mutant is FALSE only on a certain counterexample
(exact arithmetic, disjoint balls, or for a limit a clear separation at n = 10^4 ... 10^12 that
does not shrink); what the oracle cannot evaluate is UNKNOWN and counted neither way.

Run ``python -m tests.mutation.library [--sample N] [--seed S] [--json OUT]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import random
import signal
import sys
import threading
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import flint
import mpmath

from tpcheck.errors import TpcheckError
from tpcheck.lang import ast
from tpcheck.lang.parser import parse
from tpcheck.lang.printer import shape, to_source

ROOT = Path(__file__).resolve().parents[2]
PROOFS = ROOT / "proofs"

#: Bits of the Arb balls; decimal digits of the two quadratures that must agree; wall seconds
#: of the oracle on one mutant.
PRECISION_BITS = 320
QUADRATURE_DIGITS = (40, 60)
ORACLE_SECONDS = 30.0


class Undefined(Exception):
    """The expression has no value at this instance ((-1)!, 1/0, X[3] of X[1..2])."""


class Unknown(Exception):
    """The oracle cannot evaluate this (a construct it does not model, an undecided sign)."""


class Inadmissible(Exception):
    """The instance breaks a declaration (a covariance that is not PSD, an impossible law)."""


class OracleTimeout(BaseException):  # not caught by the handlers of one instance
    """The oracle ran out of its wall time on one mutant."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`OracleTimeout` after ``seconds`` (a real-time alarm; main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise OracleTimeout

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def arb_precision(bits: int = PRECISION_BITS) -> Iterator[None]:
    """Arb's working precision for the oracle, restored afterwards (flint keeps it globally)."""
    saved = flint.ctx.prec
    flint.ctx.prec = bits
    try:
        yield
    finally:
        flint.ctx.prec = saved


# ---- scalars: exact rationals, else Arb balls ------------------------------------------------


def _fraction_ball(q: Fraction) -> flint.acb:
    return flint.acb(flint.fmpq(q.numerator, q.denominator))


def _iroot(n: int, k: int) -> int | None:
    """The exact k-th root of n >= 0, or None (integer Newton iteration)."""
    if n < 2:
        return n
    x = 1 << ((n.bit_length() + k - 1) // k)
    while True:
        y = ((k - 1) * x + n // x ** (k - 1)) // k
        if y >= x:
            break
        x = y
    return x if x**k == n else None


class Sc:
    """A number: an exact ``Fraction`` when it is rational and known exactly, else an acb ball."""

    __slots__ = ("q", "z")

    def __init__(self, q: Fraction | None = None, z: flint.acb | None = None) -> None:
        self.q = q
        self.z = z

    @staticmethod
    def of(x: Any) -> Sc:
        if isinstance(x, Sc):
            return x
        if isinstance(x, int | Fraction):
            return Sc(Fraction(x))
        if isinstance(x, flint.acb):
            return Sc(z=x)
        if isinstance(x, flint.arb):
            return Sc(z=flint.acb(x))
        raise TypeError(f"not a number: {x!r}")

    @property
    def exact(self) -> bool:
        return self.q is not None

    def ball(self) -> flint.acb:
        return _fraction_ball(self.q) if self.q is not None else self.z

    def integer(self) -> int | None:
        """The value as an int when it is an exact integer."""
        if self.q is not None and self.q.denominator == 1:
            return int(self.q)
        return None

    def is_real(self) -> bool:
        return self.q is not None or self.z.imag.is_zero()

    def sign(self) -> int | None:
        """-1, 0 or 1 when certain (0 only exactly), None when the ball does not tell."""
        if self.q is not None:
            return (self.q > 0) - (self.q < 0)
        if not self.z.imag.is_zero():
            raise Unknown("a real comparison of a complex number")
        re = self.z.real
        if re > 0:
            return 1
        if re < 0:
            return -1
        return 0 if re.is_exact() and re.is_zero() else None

    def is_zero(self) -> bool:
        return self.q == 0 if self.q is not None else self.z.is_zero()

    def mp(self) -> mpmath.mpf:
        """The midpoint as an mpmath number (for quadrature)."""
        if self.q is not None:
            return mpmath.mpf(self.q.numerator) / self.q.denominator
        re = mpmath.mpf(self.z.real.mid().str(80, radius=False))
        if self.z.imag.is_zero():
            return re
        return mpmath.mpc(re, mpmath.mpf(self.z.imag.mid().str(80, radius=False)))

    def magnitude(self) -> float:
        return float(abs(self.q)) if self.q is not None else float(abs(self.z).upper())

    def __repr__(self) -> str:
        return str(self.q) if self.q is not None else str(self.z)

    def key(self) -> Any:
        return self.q if self.q is not None else str(self.z)

    def _bin(self, other: Any, exact: Callable, ball: Callable) -> Sc:
        o = Sc.of(other)
        if self.q is not None and o.q is not None:
            return Sc(exact(self.q, o.q))
        return Sc(z=ball(self.ball(), o.ball()))

    def __add__(self, o: Any) -> Sc:
        return self._bin(o, lambda a, b: a + b, lambda a, b: a + b)

    def __radd__(self, o: Any) -> Sc:
        return Sc.of(o) + self

    def __sub__(self, o: Any) -> Sc:
        return self._bin(o, lambda a, b: a - b, lambda a, b: a - b)

    def __rsub__(self, o: Any) -> Sc:
        return Sc.of(o) - self

    def __mul__(self, o: Any) -> Sc:
        return self._bin(o, lambda a, b: a * b, lambda a, b: a * b)

    def __rmul__(self, o: Any) -> Sc:
        return Sc.of(o) * self

    def __neg__(self) -> Sc:
        return Sc(-self.q) if self.q is not None else Sc(z=-self.z)

    def __truediv__(self, o: Any) -> Sc:
        o = Sc.of(o)
        if o.q is not None and o.q == 0:
            raise Undefined("division by zero")
        if o.q is None and o.z.contains(0):
            raise Unknown("division by a number not known to be nonzero")
        return self._bin(o, lambda a, b: a / b, lambda a, b: a / b)

    def __rtruediv__(self, o: Any) -> Sc:
        return Sc.of(o) / self

    def __pow__(self, o: Any) -> Sc:
        return power(self, Sc.of(o))


ZERO, ONE = Sc(Fraction(0)), Sc(Fraction(1))


def power(a: Sc, b: Sc) -> Sc:
    """a^b: exact for rational results of modest size, else the principal value in Arb."""
    e = b.integer()
    if e is not None:
        if a.q is not None:
            if a.q == 0:
                if e < 0:
                    raise Undefined("0 to a negative power")
                return ONE if e == 0 else ZERO
            if abs(a.q) == 1:
                return Sc(a.q**e)
            size = abs(e) * max(a.q.numerator.bit_length(), a.q.denominator.bit_length())
            if size <= 200_000:
                return Sc(a.q**e)
            return Sc(z=a.ball() ** e)
        if e < 0 and a.z.contains(0):
            raise Unknown("a negative power of a number not known to be nonzero")
        return Sc(z=a.z**e)
    if a.q is not None and b.q is not None:
        p, k = b.q.numerator, b.q.denominator
        if a.q < 0:
            if k == 2:
                return power(Sc(z=sqrt(a).ball()), Sc(Fraction(p)))
            raise Unknown("a fractional power of a negative number")
        if a.q == 0:
            if b.q > 0:
                return ZERO
            raise Undefined("0 to a negative power")
        num, den = _iroot(a.q.numerator, k), _iroot(a.q.denominator, k)
        if num is not None and den is not None:
            return power(Sc(Fraction(num, den)), Sc(Fraction(p)))
    if a.is_real() and a.sign() is not None and a.sign() <= 0 and not b.exact:
        raise Unknown("a real power of a non-positive number")
    if a.is_real() and a.sign() is None:
        raise Unknown("a power of a number of unknown sign")
    return Sc(z=a.ball() ** b.ball())


# ---- functions of the language, on numbers ---------------------------------------------------


def _real_ball(x: Sc, what: str) -> flint.arb:
    if not x.is_real():
        raise Unknown(f"{what} of a complex number")
    return x.ball().real


def sqrt(x: Sc) -> Sc:
    if x.q is not None:
        if x.q >= 0:
            num, den = _iroot(x.q.numerator, 2), _iroot(x.q.denominator, 2)
            if num is not None and den is not None:
                return Sc(Fraction(num, den))
        return Sc(z=x.ball().sqrt())
    if x.is_real() and x.sign() is None:
        raise Unknown("sqrt of a number of unknown sign")
    return Sc(z=x.z.sqrt())


def _ball_function(method: str, at_zero: Fraction | None = None) -> Callable[[Sc], Sc]:
    def f(x: Sc) -> Sc:
        if at_zero is not None and x.q == 0:
            return Sc(at_zero)
        return Sc(z=getattr(x.ball(), method)())

    return f


def log(x: Sc) -> Sc:
    if x.q == 1:
        return ZERO
    s = x.sign() if x.is_real() else 1
    if s is None:
        raise Unknown("log of a number of unknown sign")
    if s <= 0:
        raise Undefined("log of a non-positive number")
    return Sc(z=x.ball().log())


def _inverse_trig(method: str) -> Callable[[Sc], Sc]:
    def f(x: Sc) -> Sc:
        r = _real_ball(x, method)
        if not (r >= -1 and r <= 1):
            raise Unknown(f"{method} outside [-1, 1]")
        return Sc(z=flint.acb(getattr(r, method)()))

    return f


def absolute(x: Sc) -> Sc:
    if x.q is not None:
        return Sc(abs(x.q))
    if x.is_real():
        s = x.sign()
        if s is None:
            return Sc(z=flint.acb(abs(x.z.real)))
        return x if s >= 0 else -x
    return Sc(z=flint.acb(abs(x.z)))


def relu(x: Sc) -> Sc:
    s = x.sign()
    if s is None:
        raise Unknown("relu of a number of unknown sign")
    return x if s > 0 else ZERO


def step(x: Sc) -> Sc:
    s = x.sign()
    if s is None or s == 0:
        raise Unknown("step at 0 (or of unknown sign)")
    return ONE if s > 0 else ZERO


def nonnegative_integer(x: Sc, what: str) -> int:
    k = x.integer()
    if k is None:
        if x.q is not None or x.is_real():
            raise Unknown(f"{what} of a non-integer")
        raise Unknown(f"{what} of a complex number")
    if k < 0:
        raise Undefined(f"{what} of a negative integer")
    if k > 5000:
        raise Unknown(f"{what} too large")
    return k


def factorial(x: Sc) -> Sc:
    return Sc(Fraction(math.factorial(nonnegative_integer(x, "factorial"))))


def double_factorial(x: Sc) -> Sc:
    k = x.integer()
    if k == -1:
        return ONE
    k = nonnegative_integer(x, "double factorial")
    return Sc(Fraction(math.prod(range(k, 0, -2))))


def gamma(x: Sc) -> Sc:
    k = x.integer()
    if k is not None:
        if k <= 0:
            raise Undefined("gamma at a non-positive integer")
        return factorial(Sc(Fraction(k - 1)))
    return Sc(z=x.ball().gamma())


def falling(x: Sc, j: int) -> Sc:
    out = ONE
    for i in range(j):
        out = out * (x - i)
    return out


def rising(x: Sc, j: int) -> Sc:
    out = ONE
    for i in range(j):
        out = out * (x + i)
    return out


def binomial(n: Sc, k: Sc) -> Sc:
    kk = k.integer()
    if kk is None:
        raise Unknown("binomial with a non-integer lower entry")
    if kk < 0:
        return ZERO
    nn = n.integer()
    if nn is not None and nn >= 0:
        return Sc(Fraction(math.comb(nn, kk)))
    return falling(n, nonnegative_integer(k, "binomial")) / math.factorial(kk)


def catalan(k: Sc) -> Sc:
    kk = k.integer()
    if kk is None or kk < 0:
        raise Unknown("catalan off the natural numbers")
    kk = nonnegative_integer(k, "catalan")
    return Sc(Fraction(math.comb(2 * kk, kk), kk + 1))


def narayana(k: Sc, j: Sc) -> Sc:
    kk, jj = k.integer(), j.integer()
    if kk is None or jj is None or kk < 1:
        raise Unknown("narayana off k >= 1 and integer j")
    if not 1 <= jj <= kk:
        return ZERO
    return Sc(Fraction(math.comb(kk, jj) * math.comb(kk, jj - 1), kk))


def pairings(m: Sc) -> Sc:
    mm = nonnegative_integer(m, "pairings")
    return double_factorial(Sc(Fraction(mm - 1))) if mm % 2 == 0 else ZERO


def ncpairings(m: Sc) -> Sc:
    mm = nonnegative_integer(m, "ncpairings")
    return catalan(Sc(Fraction(mm // 2))) if mm % 2 == 0 else ZERO


def harer_zagier(n: Sc, k: int) -> Sc:
    """E tr M^(2k) for GUE(n), E|M_ij|^2 = 1: (k+1) b_k = (4k-2) n b_{k-1} + (k-1)(2k-1)(2k-3) b_{k-2},
    b_0 = n, b_1 = n^2 (Harer and Zagier 1986)."""
    b = [n, n * n]
    for j in range(2, k + 1):
        b.append(((4 * j - 2) * n * b[j - 1] + (j - 1) * (2 * j - 1) * (2 * j - 3) * b[j - 2]) / (j + 1))
    return b[k]


def genus_sum(n: Sc, k: Sc) -> Sc:
    kk = nonnegative_integer(k, "genus_sum")
    return harer_zagier(n, kk) / power(n, Sc(Fraction(kk + 1)))


def _arc_angle(q1: Sc, q2: Sc, c: Sc) -> flint.arb:
    for q in (q1, q2):
        if q.sign() is None or q.sign() <= 0:
            raise Unknown("a kernel at a variance not known to be positive")
    rho = _real_ball(c / sqrt(q1 * q2), "kernel")
    if not (rho >= -1 and rho <= 1):
        raise Undefined("a correlation outside [-1, 1]")
    return rho.acos()


def relu_dual(q1: Sc, q2: Sc, c: Sc) -> Sc:
    """E relu(u) relu(v) = sqrt(q1 q2)/(2 pi) (sin t + (pi - t) cos t), cos t = c/sqrt(q1 q2)
    (Cho and Saul 2009)."""
    t = _arc_angle(q1, q2, c)
    pi = flint.arb.pi()
    return sqrt(q1 * q2) * Sc(z=flint.acb((t.sin() + (pi - t) * t.cos()) / (2 * pi)))


def step_dual(q1: Sc, q2: Sc, c: Sc) -> Sc:
    """E step(u) step(v) = (pi - t)/(2 pi)."""
    t = _arc_angle(q1, q2, c)
    pi = flint.arb.pi()
    return Sc(z=flint.acb((pi - t) / (2 * pi)))


def erf_dual(q1: Sc, q2: Sc, c: Sc) -> Sc:
    """E erf(u) erf(v) = (2/pi) arcsin(2c / sqrt((1 + 2 q1)(1 + 2 q2))) (Williams 1997)."""
    r = _real_ball(2 * c / sqrt((1 + 2 * q1) * (1 + 2 * q2)), "erf kernel")
    if not (r >= -1 and r <= 1):
        raise Undefined("erf kernel off its domain")
    return Sc(z=flint.acb(2 * r.asin() / flint.arb.pi()))


UNARY: dict[str, Callable[[Sc], Sc]] = {
    "sqrt": sqrt,
    "exp": _ball_function("exp", Fraction(1)),
    "log": log,
    "sin": _ball_function("sin", Fraction(0)),
    "cos": _ball_function("cos", Fraction(1)),
    "tan": _ball_function("tan", Fraction(0)),
    "tanh": _ball_function("tanh", Fraction(0)),
    "sinh": _ball_function("sinh", Fraction(0)),
    "cosh": _ball_function("cosh", Fraction(1)),
    "sech": _ball_function("sech", Fraction(1)),
    "arctan": _ball_function("atan", Fraction(0)),
    "arcsin": _inverse_trig("asin"),
    "arccos": _inverse_trig("acos"),
    "erf": _ball_function("erf", Fraction(0)),
    "gamma": gamma,
    "factorial": factorial,
    "catalan": catalan,
    "abs": absolute,
    "relu": relu,
    "step": step,
    "pairings": pairings,
    "ncpairings": ncpairings,
}

#: The same functions on mpmath numbers, for quadrature.
UNARY_MP: dict[str, Callable[[Any], Any]] = {
    "sqrt": mpmath.sqrt, "exp": mpmath.exp, "log": mpmath.log, "sin": mpmath.sin,
    "cos": mpmath.cos, "tan": mpmath.tan, "tanh": mpmath.tanh, "sinh": mpmath.sinh,
    "cosh": mpmath.cosh, "sech": mpmath.sech, "arctan": mpmath.atan, "arcsin": mpmath.asin,
    "arccos": mpmath.acos, "erf": mpmath.erf, "gamma": mpmath.gamma, "abs": abs,
    "relu": lambda x: x if x > 0 else mpmath.mpf(0),
    "step": lambda x: mpmath.mpf(1) if x > 0 else mpmath.mpf(0),
}

#: Nonlinearities with a kink at 0, where quadrature splits its interval.
KINKED = frozenset({"relu", "step", "abs"})


# ---- random quantities: polynomials in random atoms ------------------------------------------

Mono = tuple[tuple[int, int], ...]  # ((atom id, power), ...) sorted by atom id


def _mono_mul(a: Mono, b: Mono) -> Mono:
    if not a:
        return b
    if not b:
        return a
    d = dict(a)
    for k, p in b:
        d[k] = d.get(k, 0) + p
    return tuple(sorted(d.items()))


class R:
    """A polynomial in random atoms (Gaussians, iid members and sums, traces, nonlinearities of
    random quantities) with numeric coefficients."""

    __slots__ = ("terms",)

    def __init__(self, terms: dict[Mono, Sc]) -> None:
        self.terms = {m: c for m, c in terms.items() if not (c.q is not None and c.q == 0)}

    @staticmethod
    def atom(i: int) -> R:
        return R({((i, 1),): ONE})

    def key(self) -> tuple:
        return tuple(sorted((m, c.key()) for m, c in self.terms.items()))

    def atoms(self) -> set[int]:
        return {a for m in self.terms for a, _ in m}

    def constant(self) -> Sc:
        return self.terms.get((), ZERO)


def lift(x: Sc | R) -> R:
    return x if isinstance(x, R) else R({(): x})


def settle(x: Sc | R) -> Sc | R:
    """A polynomial with no random atom is a number."""
    if isinstance(x, R) and all(m == () for m in x.terms):
        return x.constant()
    return x


def r_add(a: Sc | R, b: Sc | R, sign: int = 1) -> Sc | R:
    if isinstance(a, Sc) and isinstance(b, Sc):
        return a + b if sign > 0 else a - b
    out = dict(lift(a).terms)
    for m, c in lift(b).terms.items():
        out[m] = out.get(m, ZERO) + (c if sign > 0 else -c)
    return settle(R(out))


MAX_TERMS = 100_000


def r_mul(a: Sc | R, b: Sc | R) -> Sc | R:
    if isinstance(a, Sc) and isinstance(b, Sc):
        return a * b
    ta, tb = lift(a).terms, lift(b).terms
    if len(ta) * len(tb) > MAX_TERMS:
        raise Unknown("polynomial too large")
    out: dict[Mono, Sc] = {}
    for ma, ca in ta.items():
        for mb, cb in tb.items():
            m = _mono_mul(ma, mb)
            out[m] = out.get(m, ZERO) + ca * cb
    return settle(R(out))


def r_pow(a: R, e: int) -> Sc | R:
    out: Sc | R = ONE
    for _ in range(e):
        out = r_mul(out, a)
    return out


@dataclass
class Atom:
    kind: str  # "gauss", "member", "famsum", "trace", "nonlin"
    data: tuple


@dataclass
class Law:
    """A concrete law: finitely many atoms with probabilities, or a + b N(0, 1)."""

    name: str
    support: list[tuple[Sc, Fraction]] | None
    shift: Sc = ZERO
    scale: Sc = ONE
    _moments: dict[int, Sc] = field(default_factory=dict)

    def moment(self, j: int) -> Sc:
        if j not in self._moments:
            if self.support is not None:
                self._moments[j] = sum((Sc(p) * power(v, Sc(Fraction(j))) for v, p in self.support), ZERO)
            else:
                self._moments[j] = sum(
                    (Sc(Fraction(math.comb(j, i))) * power(self.shift, Sc(Fraction(j - i)))
                     * power(self.scale, Sc(Fraction(i))) * _standard_gaussian_moment(i)
                     for i in range(j + 1)), ZERO)
        return self._moments[j]


def _standard_gaussian_moment(i: int) -> Sc:
    return double_factorial(Sc(Fraction(i - 1))) if i % 2 == 0 else ZERO


def _discrete(name: str, atoms: list[tuple[Fraction, Fraction]]) -> Law:
    return Law(name, [(Sc(v), p) for v, p in atoms])


#: Laws with mean 0 and variance 1; a family known by its moments takes an affine image of one
#: of them that meets every declared moment.
CATALOGUE: tuple[Law, ...] = (
    _discrete("Rademacher", [(Fraction(1), Fraction(1, 2)), (Fraction(-1), Fraction(1, 2))]),
    Law("Normal(0, 1)", None),
    _discrete("TwoPoint(2, -1/2; 1/5)", [(Fraction(2), Fraction(1, 5)), (Fraction(-1, 2), Fraction(4, 5))]),
    _discrete("ThreePoint(0, +-2; 3/4)", [(Fraction(0), Fraction(3, 4)), (Fraction(2), Fraction(1, 8)),
                                         (Fraction(-2), Fraction(1, 8))]),
    _discrete("TwoPoint(3, -1/3; 1/10)",
              [(Fraction(3), Fraction(1, 10)), (Fraction(-1, 3), Fraction(9, 10))]),
)


def affine(law: Law, shift: Sc, scale: Sc) -> Law:
    if law.support is not None:
        return Law(f"{shift} + {scale} {law.name}", [(shift + scale * v, p) for v, p in law.support])
    return Law(f"Normal({shift}, {scale * scale})", None, shift, scale)


@dataclass
class Family:
    name: str
    lo: int
    hi: int
    law: Law


@dataclass
class MatrixLaw:
    kind: str  # GUE, GOE, Wigner, Wishart
    dims: tuple[Sc, ...]
    entry: Law | None = None


@dataclass(frozen=True)
class FamilyRef:
    name: str


@dataclass(frozen=True)
class MatrixRef:
    name: str


@dataclass(frozen=True)
class NetMatrix:
    """A Tensor Programs matrix with iid N(0, v/n) entries."""

    name: str


@dataclass(frozen=True)
class NetMatrixPower:
    name: str
    k: int


class World:
    """The random objects of one instance: atoms, the joint Gaussian law of the Gaussian atoms,
    iid families, matrices, and the MatMuls of a tensor program."""

    def __init__(self) -> None:
        self.atoms: list[Atom] = []
        self.index: dict[Any, int] = {}
        self.mean: dict[int, Sc] = {}
        self.cov: dict[tuple[int, int], Sc] = {}
        self.families: dict[str, Family] = {}
        self.matrices: dict[str, MatrixLaw] = {}
        self.net_variance: dict[str, Sc] = {}
        self.matmuls: dict[str, list[tuple[int, Sc | R]]] = defaultdict(list)

    def new_atom(self, kind: str, data: tuple, key: Any = None) -> int:
        if key is not None and key in self.index:
            return self.index[key]
        self.atoms.append(Atom(kind, data))
        i = len(self.atoms) - 1
        if key is not None:
            self.index[key] = i
        return i

    def gaussian(self, label: str, mean: Sc, covariances: dict[int, Sc], variance: Sc) -> int:
        i = self.new_atom("gauss", (label,))
        self.mean[i] = mean
        self.cov[(i, i)] = variance
        for j, c in covariances.items():
            self.cov[(i, j)] = self.cov[(j, i)] = c
        return i

    def c(self, i: int, j: int) -> Sc:
        return self.cov.get((i, j), ZERO)

    def nonlinear(self, fname: str, arg: R) -> R:
        return R.atom(self.new_atom("nonlin", (fname, arg), ("nonlin", fname, arg.key())))

    def gaussian_support(self, x: R | int) -> set[int]:
        """The Gaussian atoms a polynomial (or an atom) depends on, through nonlinearities."""
        ids = x.atoms() if isinstance(x, R) else {x}
        out: set[int] = set()
        for i in ids:
            a = self.atoms[i]
            if a.kind == "gauss":
                out.add(i)
            elif a.kind == "nonlin":
                out |= self.gaussian_support(a.data[1])
            else:
                raise Unknown(f"a {a.kind} atom among Gaussian ones")
        return out

    def kinds_below(self, x: R) -> set[str]:
        out: set[str] = set()
        for i in x.atoms():
            a = self.atoms[i]
            out.add(a.kind)
            if a.kind == "nonlin":
                out |= self.kinds_below(a.data[1])
        return out

    # ---- tensor programs (NETSOR: no transposes) ----
    def matmul(self, name: str, y: Sc | R) -> R:
        """Z^{W y}: centred Gaussian, Cov(Z^{W y}, Z^{W y'}) = v E[Z^y Z^{y'}], independent of
        everything else (Yang, Tensor Programs I, NETSOR master theorem)."""
        key = ("matmul", name, lift(y).key())
        if key in self.index:
            return R.atom(self.index[key])
        v = self.net_variance[name]
        covs = {j: v * expectation(self, r_mul(y, y2)) for j, y2 in self.matmuls[name]}
        i = self.gaussian(f"{name}*", ZERO, covs, v * expectation(self, r_mul(y, y)))
        self.index[key] = i
        self.matmuls[name].append((i, y))
        return R.atom(i)


# ---- expectations ----------------------------------------------------------------------------


def expectation(world: World, x: Sc | R) -> Sc:
    if isinstance(x, Sc):
        return x
    try:
        return sum((c * monomial_expectation(world, m) for m, c in x.terms.items()), ZERO)
    except NeedsEnumeration:
        return enumerate_expectation(world, x)


class NeedsEnumeration(Unknown):
    """A nonlinearity of iid members: only an enumeration of a discrete law can take it."""


def monomial_expectation(world: World, mono: Mono) -> Sc:
    """E of a product of atoms: independent groups (each family, the Gaussians, a trace)
    multiply."""
    if not mono:
        return ONE
    gauss: dict[int, int] = {}
    members: dict[str, dict[int, int]] = defaultdict(dict)
    sums: dict[str, dict[tuple[int, int], int]] = defaultdict(dict)
    traces = []
    for i, p in mono:
        a = world.atoms[i]
        if a.kind in ("gauss", "nonlin"):
            if a.kind == "nonlin" and world.kinds_below(a.data[1]) - {"gauss", "nonlin"}:
                raise NeedsEnumeration("a nonlinearity of a non-Gaussian quantity")
            gauss[i] = p
        elif a.kind == "member":
            members[a.data[0]][a.data[1]] = p
        elif a.kind == "famsum":
            sums[a.data[0]][(a.data[1], a.data[2])] = p
        else:
            traces.append((i, p))
    out = ONE
    if traces:
        if len(mono) != 1 or traces[0][1] != 1:
            raise Unknown("a product with a trace")
        data = world.atoms[traces[0][0]].data
        return trace_expectation(world.matrices[data[0]], data[1])
    for fam in set(members) | set(sums):
        out = out * family_expectation(world.families[fam], members.get(fam, {}), sums.get(fam, {}))
    if gauss:
        out = out * gaussian_expectation(world, gauss)
    return out


def integer_partitions(k: int, largest: int | None = None) -> Iterator[list[int]]:
    largest = k if largest is None else largest
    if k == 0:
        yield []
        return
    for first in range(min(k, largest), 0, -1):
        for rest in integer_partitions(k - first, first):
            yield [first, *rest]


def set_partition_count(blocks: list[int]) -> int:
    """The number of set partitions of {1..sum} with these block sizes."""
    out = math.factorial(sum(blocks))
    for b in blocks:
        out //= math.factorial(b)
    for mult in Counter(blocks).values():
        out //= math.factorial(mult)
    return out


def power_sum_moment(count: Sc, k: int, moment: Callable[[int], Sc], singletons: bool = True) -> Sc:
    """E[(X_1 + ... + X_c)^k] = sum over set partitions pi of {1..k} of (c)_{|pi|} prod_B m_|B|."""
    total = ZERO
    for blocks in integer_partitions(k):
        if not singletons and 1 in blocks:
            continue
        term = Sc(Fraction(set_partition_count(blocks))) * falling(count, len(blocks))
        for b in blocks:
            term = term * moment(b)
        total = total + term
    return total


def family_expectation(fam: Family, members: dict[int, int], sums: dict[tuple[int, int], int]) -> Sc:
    if len(sums) > 1:
        raise Unknown("two sums over one family")
    out = ONE
    for (lo, hi), p in sums.items():
        if any(lo <= i <= hi for i in members):
            raise Unknown("a member inside a sum over its family")
        out = out * power_sum_moment(Sc(Fraction(hi - lo + 1)), p, fam.law.moment)
    for p in members.values():
        out = out * fam.law.moment(p)
    return out


# ---- Gaussian expectations ---------------------------------------------------------------------

TPoly = list  # a polynomial in one variable t: coefficients (Sc), lowest first


def _tp_add(a: TPoly, b: TPoly) -> TPoly:
    out = list(a) + [ZERO] * max(0, len(b) - len(a))
    for i, c in enumerate(b):
        out[i] = out[i] + c
    return out


def _tp_mul(a: TPoly, b: TPoly) -> TPoly:
    if not a or not b:
        return []
    out = [ZERO] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            out[i + j] = out[i + j] + x * y
    return out


def stein_moment(atoms: list[int], powers: tuple[int, ...], mean: Callable[[int], TPoly],
                 cov: Callable[[int, int], Sc]) -> TPoly:
    """E prod X_a^{p_a} for jointly Gaussian X (means may be polynomials in t) by Stein's
    identity E[X_a f(X)] = mu_a E[f] + sum_b C_ab E[d_b f]."""

    @cache
    def e(p: tuple[int, ...]) -> tuple:
        if not any(p):
            return (ONE,)
        a = next(i for i, x in enumerate(p) if x)
        q = list(p)
        q[a] -= 1
        q = tuple(q)
        out = _tp_mul(mean(atoms[a]), list(e(q)))
        for b, qb in enumerate(q):
            if qb:
                c = cov(atoms[a], atoms[b])
                if not c.is_zero():
                    r = list(q)
                    r[b] -= 1
                    out = _tp_add(out, [Sc(Fraction(qb)) * c * x for x in e(tuple(r))])
        return tuple(out)

    return list(e(tuple(powers)))


def _components(world: World, supports: list[set[int]]) -> list[set[int]]:
    """Groups of Gaussian atoms that are not independent of each other: joined by a nonzero
    covariance or by appearing in one factor."""
    parent = {i: i for s in supports for i in s}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for s in supports:
        first, *rest = sorted(s)
        for j in rest:
            parent[find(j)] = find(first)
    ids = sorted(parent)
    for a, i in enumerate(ids):
        for j in ids[a + 1:]:
            if not world.c(i, j).is_zero():
                parent[find(j)] = find(i)
    groups: dict[int, set[int]] = defaultdict(set)
    for i in ids:
        groups[find(i)].add(i)
    return list(groups.values())


def gaussian_expectation(world: World, factors: dict[int, int]) -> Sc:
    """E of a product of Gaussian atoms and nonlinearities of them: factorised over independent
    components; each component exactly (Stein), by a closed form, or by 1-d quadrature."""
    support: dict[int, set[int]] = {i: world.gaussian_support(i) for i in factors}
    out = ONE
    for comp in _components(world, list(support.values())):
        part = {i: p for i, p in factors.items() if support[i] & comp}
        out = out * _component_expectation(world, part, sorted(comp))
    return out


def _linear_form(world: World, x: R) -> tuple[Sc, dict[int, Sc]] | None:
    """x = const + sum a_i g_i over Gaussian atoms, or None."""
    const, coeffs = ZERO, {}
    for m, c in x.terms.items():
        if not m:
            const = c
        elif len(m) == 1 and m[0][1] == 1 and world.atoms[m[0][0]].kind == "gauss":
            coeffs[m[0][0]] = c
        else:
            return None
    return const, coeffs


def _form_cov(world: World, a: dict[int, Sc], b: dict[int, Sc]) -> Sc:
    return sum((ca * cb * world.c(i, j) for i, ca in a.items() for j, cb in b.items()), ZERO)


def _component_expectation(world: World, part: dict[int, int], comp: list[int]) -> Sc:
    plain = {i: p for i, p in part.items() if world.atoms[i].kind == "gauss"}
    nonlin = {i: p for i, p in part.items() if world.atoms[i].kind == "nonlin"}
    if not nonlin:
        atoms = sorted(plain)
        return stein_moment(atoms, tuple(plain[i] for i in atoms), lambda i: [world.mean[i]],
                            world.c)[0]
    if len(comp) == 1:
        return _quadrature_one_atom(world, part, comp[0])
    if len(nonlin) == 2 and not plain and all(p == 1 for p in nonlin.values()):
        return _kernel_pair(world, list(nonlin))
    if len(nonlin) == 1:
        return _conditioned(world, plain, *next(iter(nonlin.items())))
    raise Unknown("a Gaussian expectation with several nonlinearities")


def _kernel_pair(world: World, pair: list[int]) -> Sc:
    """E phi(L1) phi(L2) for centred linear forms L1, L2: arc-cosine and erf kernels."""
    (f1, x1), (f2, x2) = (world.atoms[i].data for i in pair)
    forms = [_linear_form(world, x1), _linear_form(world, x2)]
    if f1 != f2 or None in forms or any(not f[0].is_zero() for f in forms):
        raise Unknown("a pair of nonlinearities without a closed form")
    if any(not world.mean[i].is_zero() for f in forms for i in f[1]):
        raise Unknown("a kernel of non-centred Gaussians")
    (_, a), (_, b) = forms
    q1, q2, c = _form_cov(world, a, a), _form_cov(world, b, b), _form_cov(world, a, b)
    if f1 == "relu":
        return relu_dual(q1, q2, c)
    if f1 == "step":
        return step_dual(q1, q2, c)
    if f1 == "erf":
        return erf_dual(q1, q2, c)
    raise Unknown(f"no kernel for {f1}")


def _conditioned(world: World, plain: dict[int, int], nl: int, q: int) -> Sc:
    """E[prod g_j^{p_j} phi(L)^q]: write g_j = mu_j + beta_j t + R_j with t = L - E L and R
    independent of t, take E over R exactly (a polynomial in t), then quadrature in t."""
    fname, arg = world.atoms[nl].data
    form = _linear_form(world, arg)
    if form is None:
        raise Unknown("a nonlinearity of a non-linear form of several Gaussians")
    const, a = form
    mean_l = const + sum((c * world.mean[i] for i, c in a.items()), ZERO)
    v = _form_cov(world, a, a)
    atoms = sorted(plain)
    if v.is_zero():
        inner = stein_moment(atoms, tuple(plain[i] for i in atoms), lambda i: [world.mean[i]], world.c)[0]
        return inner * power(UNARY[fname](mean_l), Sc(Fraction(q)))
    beta = {j: _form_cov(world, {j: ONE}, a) / v for j in atoms}

    def residual_cov(i: int, j: int) -> Sc:
        return world.c(i, j) - beta[i] * beta[j] * v

    poly = stein_moment(atoms, tuple(plain[i] for i in atoms),
                        lambda i: [world.mean[i], beta[i]], residual_cov)
    if not all(c.is_real() for c in poly) or not (mean_l.is_real() and v.is_real()):
        raise Unknown("complex Gaussian data")
    closed = _closed_one_dimensional(fname, q, mean_l, v) if len(poly) == 1 else None
    if closed is not None:
        return poly[0] * closed
    coeffs = [c.mp() for c in poly]
    f = UNARY_MP[fname]

    def integrand(t: Any) -> Any:
        return mpmath.polyval(coeffs[::-1], t) * f(mean_l.mp() + t) ** q

    kinks = [-mean_l.mp()] if fname in KINKED else []
    return gaussian_quadrature(integrand, v, kinks)


def _closed_one_dimensional(fname: str, q: int, mean: Sc, v: Sc) -> Sc | None:
    """E phi(L)^q for L ~ N(0, v), where a closed form is standard."""
    if not mean.is_zero():
        return None
    pi = Sc(z=flint.acb.pi())
    if fname == "relu" and q == 1:
        return sqrt(v / (2 * pi))
    if fname == "relu" and q == 2:
        return v / 2
    if fname == "step":
        return Sc(Fraction(1, 2))
    if fname == "erf" and q % 2 == 1:
        return ZERO
    if fname == "erf" and q == 2:
        return erf_dual(v, v, v)
    return None


def gaussian_quadrature(integrand: Callable[[Any], Any], v: Sc, kinks: list[Any]) -> Sc:
    """E f(t) for t ~ N(0, v) by tanh-sinh quadrature at two precisions, which must agree."""
    values = []
    for dps in QUADRATURE_DIGITS:
        with mpmath.workdps(dps):
            s = mpmath.sqrt(v.mp())
            points = [-mpmath.inf, *sorted({mpmath.mpf(k) / s for k in kinks}), mpmath.inf]
            values.append(mpmath.quad(lambda u, s=s: integrand(s * u) * mpmath.npdf(u), points))
    return numeric_ball(values)


def numeric_ball(values: list[Any]) -> Sc:
    """A ball around the more precise of two quadratures, as wide as their disagreement (x10),
    and at least 10^-35 relative; refused when they disagree beyond 10^-25."""
    lo, hi = values
    with mpmath.workdps(QUADRATURE_DIGITS[-1]):
        if not (mpmath.isfinite(mpmath.re(hi)) and mpmath.isfinite(mpmath.im(hi))):
            raise Unknown("quadrature did not converge")
        diff = abs(hi - lo)
        scale = max(mpmath.mpf(1), abs(hi))
        if diff > mpmath.mpf(10) ** -25 * scale:
            raise Unknown("quadratures at two precisions disagree")
        rad = max(10 * diff, mpmath.mpf(10) ** -35 * scale)
        re = flint.arb(mpmath.nstr(mpmath.re(hi), 60), mpmath.nstr(rad, 5))
        im_val = mpmath.im(hi)
        im = flint.arb(mpmath.nstr(im_val, 60), mpmath.nstr(rad, 5)) if im_val else flint.arb(0)
        return Sc(z=flint.acb(re, im))


def _quadrature_one_atom(world: World, part: dict[int, int], g: int) -> Sc:
    mean, v = world.mean[g], world.c(g, g)
    if not (mean.is_real() and v.is_real()):
        raise Unknown("complex Gaussian data")
    if v.is_zero():
        return evaluate_exact(world, R({tuple(sorted(part.items())): ONE}), {g: mean})
    if len(part) == 1:
        (i, q), = part.items()
        a = world.atoms[i]
        if a.kind == "nonlin":
            form = _linear_form(world, a.data[1])
            if form is not None and form[0].is_zero() and world.mean[g].is_zero():
                closed = _closed_one_dimensional(a.data[0], q, ZERO, _form_cov(world, form[1], form[1]))
                if closed is not None:
                    return closed
    mono = tuple(sorted(part.items()))
    kinks = []
    for i in part:
        a = world.atoms[i]
        if a.kind == "nonlin" and a.data[0] in KINKED:
            form = _linear_form(world, a.data[1])
            slope = form[1].get(g, ZERO) if form is not None else ZERO
            if not slope.is_zero():
                kinks.append(-(form[0] / slope).mp())
    m = mean.mp()
    return gaussian_quadrature(lambda t: evaluate_mp(world, mono, {g: m + t}), v,
                               [k - m for k in kinks])


def evaluate_mp(world: World, mono: Mono, values: dict[int, Any]) -> Any:
    out = mpmath.mpf(1)
    for i, p in mono:
        out *= _atom_mp(world, i, values) ** p
    return out


def _atom_mp(world: World, i: int, values: dict[int, Any]) -> Any:
    if i in values:
        return values[i]
    a = world.atoms[i]
    if a.kind != "nonlin":
        raise Unknown("an atom without a value")
    fname, arg = a.data
    if fname not in UNARY_MP:
        raise Unknown(f"{fname} in quadrature")
    inner = sum(c.mp() * evaluate_mp(world, m, values) for m, c in arg.terms.items())
    return UNARY_MP[fname](inner)


def evaluate_exact(world: World, x: Sc | R, values: dict[int, Sc]) -> Sc:
    """A random polynomial at given values of its atoms (iid sums add their members)."""
    if isinstance(x, Sc):
        return x
    total = ZERO
    for m, c in x.terms.items():
        term = c
        for i, p in m:
            term = term * power(_atom_exact(world, i, values), Sc(Fraction(p)))
        total = total + term
    return total


def _atom_exact(world: World, i: int, values: dict[int, Sc]) -> Sc:
    if i in values:
        return values[i]
    a = world.atoms[i]
    if a.kind == "famsum":
        fam, lo, hi = a.data
        return sum((values[world.index[("member", fam, j)]] for j in range(lo, hi + 1)), ZERO)
    if a.kind == "nonlin":
        return UNARY[a.data[0]](evaluate_exact(world, a.data[1], values))
    raise Unknown(f"no value for a {a.kind} atom")


# ---- enumeration over discrete laws (nonlinear functions of iid members, probabilities) -------

MAX_OUTCOMES = 100_000


def _members_below(world: World, x: R) -> set[int]:
    out: set[int] = set()
    for i in x.atoms():
        a = world.atoms[i]
        if a.kind == "member":
            out.add(i)
        elif a.kind == "famsum":
            fam, lo, hi = a.data
            for j in range(lo, hi + 1):
                out.add(member_atom(world, fam, j))
        elif a.kind == "nonlin":
            out |= _members_below(world, a.data[1])
        else:
            raise Unknown(f"enumeration over a {a.kind} atom")
    return out


def member_atom(world: World, fam: str, j: int) -> int:
    f = world.families[fam]
    if not f.lo <= j <= f.hi:
        raise Undefined(f"{fam}[{j}] is not a member of {fam}[{f.lo}..{f.hi}]")
    return world.new_atom("member", (fam, j), ("member", fam, j))


def outcomes(world: World, xs: list[Sc | R]) -> Iterator[tuple[Fraction, dict[int, Sc]]]:
    """Every joint outcome of the iid members the quantities depend on, with its probability."""
    members = sorted(set().union(*(_members_below(world, x) for x in xs if isinstance(x, R))))
    supports = []
    count = 1
    for i in members:
        law = world.families[world.atoms[i].data[0]].law
        if law.support is None:
            raise Unknown("enumeration over a continuous law")
        supports.append(law.support)
        count *= len(law.support)
    if count > MAX_OUTCOMES:
        raise Unknown("too many outcomes to enumerate")

    def rec(k: int, prob: Fraction, values: dict[int, Sc]) -> Iterator[tuple[Fraction, dict[int, Sc]]]:
        if k == len(members):
            yield prob, dict(values)
            return
        for v, p in supports[k]:
            values[members[k]] = v
            yield from rec(k + 1, prob * p, values)

    yield from rec(0, Fraction(1), {})


def enumerate_expectation(world: World, x: R) -> Sc:
    return sum((Sc(p) * evaluate_exact(world, x, vals) for p, vals in outcomes(world, [x])), ZERO)


def holds(lhs: Sc, rel: str, rhs: Sc) -> bool | None:
    """Whether ``lhs REL rhs`` holds, when certain."""
    if rel == "=":
        st = compare_equal(lhs, rhs)
        return None if st is None else st
    s = (lhs - rhs).sign()
    if s is None:
        return None
    return {"<=": s <= 0, "<": s < 0, ">=": s >= 0, ">": s > 0}[rel]


def compare_equal(a: Sc, b: Sc) -> bool | None:
    """True when equal (exactly, or balls overlapping and narrower than 10^-15: agreement, not
    proof), False when certainly different (disjoint balls), None when the balls cannot tell."""
    if a.q is not None and b.q is not None:
        return a.q == b.q
    x, y = a.ball(), b.ball()
    if not x.overlaps(y):
        return False
    width = max(float(abs(x - y).upper()), 0.0)
    scale = max(1.0, a.magnitude(), b.magnitude())
    return True if width <= 1e-15 * scale else None


def probability(world: World, lhs: Sc | R, rel: str, rhs: Sc | R) -> Sc:
    """P[lhs REL rhs]: by enumeration of discrete iid members, or for one Gaussian atom from the
    real roots of a polynomial event and the normal distribution function."""
    if isinstance(lhs, Sc) and isinstance(rhs, Sc):
        h = holds(lhs, rel, rhs)
        if h is None:
            raise Unknown("an undecided deterministic event")
        return ONE if h else ZERO
    kinds = set()
    for x in (lhs, rhs):
        if isinstance(x, R):
            kinds |= world.kinds_below(x)
    if kinds <= {"member", "famsum", "nonlin"}:
        total = Fraction(0)
        for p, vals in outcomes(world, [lhs, rhs]):
            h = holds(evaluate_exact(world, lhs, vals), rel, evaluate_exact(world, rhs, vals))
            if h is None:
                raise Unknown("an outcome on the event's boundary, undecided")
            if h:
                total += p
        return Sc(total)
    if kinds <= {"gauss", "nonlin"}:
        return _gaussian_event(world, lhs, rel, rhs)
    raise Unknown("an event of mixed random objects")


def _gaussian_event(world: World, lhs: Sc | R, rel: str, rhs: Sc | R) -> Sc:
    support = set()
    for x in (lhs, rhs):
        if isinstance(x, R):
            support |= world.gaussian_support(x)
    if len(support) != 1:
        raise Unknown("an event of several Gaussians")
    g = support.pop()
    if isinstance(lhs, R) and isinstance(rhs, Sc) and len(lhs.terms) == 1:
        (m, c), = lhs.terms.items()
        if len(m) == 1 and m[0][1] == 1 and c.q == 1 and world.atoms[m[0][0]].data[0] == "abs":
            s = rhs.sign()
            if s is None:
                raise Unknown("an undecided threshold")
            if s < 0:
                return ONE if rel in (">=", ">") else ZERO
            inner = world.atoms[m[0][0]].data[1]
            lhs, rhs = r_mul(inner, inner), rhs * rhs
    h = lift(r_add(lhs, rhs, -1))
    coeffs: dict[int, Fraction] = {}
    for m, c in h.terms.items():
        if c.q is None or any(i != g for i, _ in m):
            raise Unknown("an event that is not a rational polynomial in one Gaussian")
        coeffs[sum(p for _, p in m)] = c.q
    mean, v = world.mean[g], world.c(g, g)
    if mean.q is None or v.q is None or v.q <= 0:
        raise Unknown("a Gaussian event with inexact or degenerate parameters")
    coeffs = {j: c for j, c in coeffs.items() if c}
    if not coeffs or max(coeffs) == 0:
        return ONE if holds(Sc(coeffs.get(0, Fraction(0))), rel, ZERO) else ZERO
    deg = max(coeffs)
    poly = flint.fmpq_poly([flint.fmpq(coeffs.get(j, Fraction(0)).numerator,
                                       coeffs.get(j, Fraction(0)).denominator) for j in range(deg + 1)])
    roots = sorted((r.real for r, _ in poly.complex_roots() if r.imag.is_zero()), key=lambda r: r.mid())
    for a, b in zip(roots, roots[1:], strict=False):
        if a.overlaps(b):
            raise Unknown("roots not separated")
    edges = [None, *roots, None]
    s = flint.arb(v.q.numerator) / v.q.denominator
    s = s.sqrt()
    mu = flint.arb(mean.q.numerator) / mean.q.denominator
    def cdf(x: flint.arb | None, default: int) -> flint.arb:
        if x is None:
            return flint.arb(default)
        return 1 - ((x - mu) / (s * flint.arb(2).sqrt())).erfc() / 2

    total = flint.arb(0)
    for lo, hi in zip(edges, edges[1:], strict=False):
        point = _rational_between(lo, hi)
        value = sum((c * point**j for j, c in coeffs.items()), Fraction(0))
        if holds(Sc(value), rel, ZERO):
            total += cdf(hi, 1) - cdf(lo, 0)
    return Sc(z=flint.acb(total))


def _rational_between(lo: flint.arb | None, hi: flint.arb | None) -> Fraction:
    if lo is None and hi is None:
        return Fraction(0)
    if lo is None:
        return Fraction(math.floor(float(hi.lower())) - 1)
    if hi is None:
        return Fraction(math.ceil(float(lo.upper())) + 1)
    a = Fraction(lo.upper().mid().str(50, radius=False))
    b = Fraction(hi.lower().mid().str(50, radius=False))
    return (a + b) / 2


# ---- random matrices: traces by closed walks ---------------------------------------------------


def trace_expectation(law: MatrixLaw, k: int) -> Sc:
    """E tr M^k (for Wishart, E tr S^k with S = X X^T / N)."""
    if law.kind == "GUE":
        return ZERO if k % 2 else harer_zagier(law.dims[0], k // 2)
    if law.kind == "GOE":
        off = tuple(_standard_gaussian_moment(j).q for j in range(k + 1))
        diag = tuple((Fraction(2) ** (j // 2)) * _standard_gaussian_moment(j).q for j in range(k + 1))
        return _walk_sum(closed_walks(k, off, diag), law.dims[0])
    if law.kind == "Wigner":
        return _walk_sum(closed_walks(k, _exact_moments(law.entry, k), None), law.dims[0])
    if law.kind == "Wishart":
        p, n = law.dims
        total = ZERO
        for (a, b), w in bipartite_walks(k, _exact_moments(law.entry, 2 * k)).items():
            total = total + Sc(w) * falling(p, a) * falling(n, b)
        return total / power(n, Sc(Fraction(k)))
    raise Unknown(f"no trace for {law.kind}")


def _exact_moments(law: Law, k: int) -> tuple[Fraction, ...]:
    ms = tuple(law.moment(j).q for j in range(k + 1))
    if None in ms:
        raise Unknown("inexact entry moments")
    return ms


def _walk_sum(weights: dict[int, Fraction], n: Sc) -> Sc:
    return sum((Sc(w) * falling(n, b) for b, w in weights.items()), ZERO)


MAX_WALK, MAX_BIPARTITE_WALK = 12, 7  # about a second each at most


@lru_cache(maxsize=256)
def closed_walks(k: int, off: tuple[Fraction, ...], diag: tuple[Fraction, ...] | None) -> dict[int, Fraction]:
    """Sum over closed walks i_0 -> i_1 -> ... -> i_0 of k steps, up to relabelling of the
    vertices, of prod over edges E[X_e^{multiplicity}], by the number of distinct vertices; loops
    use ``diag`` (None: zero diagonal). Needs centred entries (a once-used edge gives 0)."""
    if k > MAX_WALK:
        raise Unknown(f"closed walks of length {k}")
    if off[1] != 0 or (diag is not None and diag[1] != 0):
        raise Unknown("walks of non-centred entries")
    out: dict[int, Fraction] = defaultdict(Fraction)
    edges: Counter = Counter()

    def weight() -> Fraction:
        w = Fraction(1)
        for (a, b), m in edges.items():
            w *= (diag[m] if a == b else off[m]) if m else 1
        return w

    def walk(t: int, cur: int, nvert: int, singles: int) -> None:
        last = t == k - 1
        for nxt in ([0] if last else range(nvert + 1)):
            if nxt == cur and diag is None:
                continue
            e = (min(cur, nxt), max(cur, nxt))
            m = edges[e]
            s = singles + (1 if m == 0 else -1 if m == 1 else 0)
            if s > k - t - 1:
                continue
            edges[e] = m + 1
            if last:
                w = weight()
                if w:
                    out[nvert] += w
            else:
                walk(t + 1, nxt, max(nvert, nxt + 1), s)
            edges[e] = m

    if k == 0:
        return {1: Fraction(1)}
    walk(0, 0, 1, 0)
    return dict(out)


@lru_cache(maxsize=256)
def bipartite_walks(k: int, moments: tuple[Fraction, ...]) -> dict[tuple[int, int], Fraction]:
    """tr (X X^T)^k = sum over i_1 j_1 i_2 j_2 ... i_k j_k of prod X_{i_t j_t} X_{i_{t+1} j_t}:
    closed walks of 2k steps between row and column vertices, by (rows, columns) used."""
    if k > MAX_BIPARTITE_WALK:
        raise Unknown(f"bipartite walks of length {2 * k}")
    if moments[1] != 0:
        raise Unknown("walks of non-centred entries")
    out: dict[tuple[int, int], Fraction] = defaultdict(Fraction)
    edges: Counter = Counter()
    steps = 2 * k

    def walk(t: int, cur: int, rows: int, cols: int, singles: int) -> None:
        to_column = t % 2 == 0
        last = t == steps - 1
        choices = [0] if last else range((cols if to_column else rows) + 1)
        for nxt in choices:
            e = (cur, nxt) if to_column else (nxt, cur)
            m = edges[e]
            s = singles + (1 if m == 0 else -1 if m == 1 else 0)
            if s > steps - t - 1:
                continue
            edges[e] = m + 1
            if last:
                w = Fraction(1)
                for mult in edges.values():
                    w *= moments[mult] if mult else 1
                if w:
                    out[(rows, cols)] += w
            elif to_column:
                walk(t + 1, nxt, rows, max(cols, nxt + 1), s)
            else:
                walk(t + 1, nxt, max(rows, nxt + 1), cols, s)
            edges[e] = m

    if k == 0:
        return {(1, 0): Fraction(1)}
    walk(0, 0, 1, 0, 0)
    return dict(out)


# ---- the evaluator: syntax tree -> numbers and random quantities --------------------------------


class _AtInfinity:
    """The limit variable of a tensor program: only a width, never a number."""


AT_INFINITY = _AtInfinity()
MAX_TERMS_OF_A_SUM = 5000
NONLINEAR = frozenset({"sqrt", "exp", "log", "sin", "cos", "tan", "tanh", "sinh", "cosh", "sech",
                       "arctan", "arcsin", "arccos", "erf", "abs", "relu", "step"})


def number(text: str) -> Sc:
    return Sc(Fraction(text))


class Evaluator:
    """Evaluates expressions of one theorem at one instance, in one world of random objects."""

    def __init__(self, world: World, names: dict[str, Any], defs: dict[str, ast.LetDef]) -> None:
        self.world = world
        self.names = names
        self.defs = defs
        self.abbreviations: dict[str, Any] = {}
        self.bound: list[dict[str, Any]] = []

    # ---- names ----
    def lookup(self, name: str) -> Any:
        for scope in reversed(self.bound):
            if name in scope:
                return scope[name]
        if name in self.names:
            v = self.names[name]
            if v is AT_INFINITY:
                raise Unknown(f"'{name}' used as a number in a limit of a tensor program")
            return v
        if name in self.defs and not self.defs[name].params:
            if name not in self.abbreviations:
                saved, self.bound = self.bound, []
                try:
                    self.abbreviations[name] = self.ev(self.defs[name].body)
                finally:
                    self.bound = saved
            return self.abbreviations[name]
        if name == "pi":
            return Sc(z=flint.acb.pi())
        raise Unknown(f"the name '{name}' is not declared")

    def with_bound(self, scope: dict[str, Any], node: ast.Node) -> Any:
        self.bound.append(scope)
        try:
            return self.ev(node)
        finally:
            self.bound.pop()

    def scalar(self, node: ast.Node) -> Sc:
        v = self.ev(node)
        if not isinstance(v, Sc):
            raise Unknown("a random quantity where a number is needed")
        return v

    def integer(self, node: ast.Node) -> int:
        k = self.scalar(node).integer()
        if k is None:
            raise Unknown("a non-integer where an integer is needed")
        return k

    # ---- expressions ----
    def ev(self, node: ast.Node) -> Any:  # noqa: C901
        if isinstance(node, ast.Num):
            return number(node.text)
        if isinstance(node, ast.Name):
            return self.lookup(node.id)
        if isinstance(node, ast.BinOp):
            return self.binop(node)
        if isinstance(node, ast.Neg):
            v = self.ev(node.operand)
            return self.arith(v, Sc(Fraction(-1)), "*")
        if isinstance(node, ast.Postfix):
            v = self.scalar(node.operand)
            return factorial(v) if node.op == "!" else double_factorial(v)
        if isinstance(node, ast.Abs):
            return self.apply("abs", self.ev(node.operand))
        if isinstance(node, ast.Expect):
            return expectation(self.world, self.random_or_number(self.ev(node.arg)))
        if isinstance(node, ast.Var):
            x = self.random_or_number(self.ev(node.arg))
            m = expectation(self.world, x)
            return expectation(self.world, r_mul(x, x)) - m * m
        if isinstance(node, ast.Prob):
            return probability(self.world, self.random_or_number(self.ev(node.lhs)), node.rel,
                               self.random_or_number(self.ev(node.rhs)))
        if isinstance(node, ast.Index):
            fam = self.lookup(node.name)
            if not isinstance(fam, FamilyRef) or len(node.indices) != 1:
                raise Unknown("an index into something other than an iid family")
            return R.atom(member_atom(self.world, fam.name, self.integer(node.indices[0])))
        if isinstance(node, ast.Call):
            return self.call(node)
        raise Unknown(f"{type(node).__name__} is not modelled")

    @staticmethod
    def random_or_number(v: Any) -> Sc | R:
        if not isinstance(v, Sc | R):
            raise Unknown(f"{type(v).__name__} inside an expectation")
        return v

    def arith(self, a: Any, b: Any, op: str) -> Any:
        if isinstance(a, Sc | R) and isinstance(b, Sc | R):
            if op == "+":
                return r_add(a, b)
            if op == "-":
                return r_add(a, b, -1)
            if op == "*":
                return r_mul(a, b)
            if op == "/":
                if not isinstance(b, Sc):
                    raise Unknown("division by a random quantity")
                return r_mul(a, ONE / b)
        if op == "*" and isinstance(a, NetMatrix | NetMatrixPower) and isinstance(b, Sc | R):
            k = a.k if isinstance(a, NetMatrixPower) else 1
            out = b
            for _ in range(k):
                out = self.world.matmul(a.name, out)
            return out
        raise Unknown(f"'{op}' between {type(a).__name__} and {type(b).__name__}")

    def binop(self, node: ast.BinOp) -> Any:
        a = self.ev(node.left)
        op = "*" if node.op == "implicit" else node.op
        if op == "^":
            if isinstance(a, NetMatrix):
                k = self.integer(node.right)
                if k < 0:
                    raise Unknown("a negative matrix power")
                return NetMatrixPower(a.name, k)
            b = self.ev(node.right)
            if isinstance(a, Sc) and isinstance(b, Sc):
                return power(a, b)
            if isinstance(a, R) and isinstance(b, Sc):
                k = b.integer()
                if k is None or k < 0 or k > 64:
                    raise Unknown("a random quantity to a power that is not a small natural")
                return r_pow(a, k)
            raise Unknown("a power with a random exponent")
        return self.arith(a, self.ev(node.right), op)

    def apply(self, fname: str, v: Any) -> Any:
        if isinstance(v, Sc):
            return UNARY[fname](v)
        if isinstance(v, R) and fname in NONLINEAR:
            return self.world.nonlinear(fname, v)
        raise Unknown(f"{fname} of a {type(v).__name__}")

    def call(self, node: ast.Call) -> Any:  # noqa: C901
        f, args = node.func, node.args
        if f in ("sum", "prod"):
            return self.sum_or_product(node)
        if f == "integral":
            return self.integral(node)
        if f == "tr":
            return self.trace(node)
        if f == "avg":
            return expectation(self.world, self.random_or_number(self.ev(args[0])))
        if f == "transpose":
            raise Unknown("transposes (NETSOR-T) are not modelled")
        if f in self.defs and self.defs[f].params:
            d = self.defs[f]
            if len(d.params) != len(args):
                raise Unknown("a definition called with the wrong number of arguments")
            scope = {p: self.ev(a) for p, a in zip(d.params, args, strict=True)}
            saved, self.bound = self.bound, [scope]
            try:
                return self.ev(d.body)
            finally:
                self.bound = saved
        if f == "moment_sum":
            fam = self.ev(args[0])
            if not isinstance(fam, FamilyRef):
                raise Unknown("moment_sum of something other than an iid family")
            k = self.integer(args[2])
            if k < 0:
                raise Undefined("moment_sum of a negative order")
            return power_sum_moment(self.scalar(args[1]), k, self.world.families[fam.name].law.moment,
                                    singletons=False)
        values = [self.ev(a) for a in args]
        if f in UNARY and len(values) == 1:
            return self.apply(f, values[0])
        if not all(isinstance(v, Sc) for v in values):
            raise Unknown(f"{f} of a random quantity")
        two = {"binomial": binomial, "narayana": narayana, "genus_sum": genus_sum,
               "ff": lambda x, j: falling(x, nonnegative_integer(j, "ff")),
               "rf": lambda x, j: rising(x, nonnegative_integer(j, "rf"))}
        three = {"relu_dual": relu_dual, "step_dual": step_dual, "erf_dual": erf_dual}
        if f in two and len(values) == 2:
            return two[f](*values)
        if f in three and len(values) == 3:
            return three[f](*values)
        raise Unknown(f"the function {f}/{len(values)} is not modelled")

    def sum_or_product(self, node: ast.Call) -> Any:
        if len(node.args) != 2 or not isinstance(node.args[1], ast.Binding):
            raise Unknown("a sum without a range")
        body, b = node.args
        lo, hi = self.integer(b.lo), self.integer(b.hi)
        if hi < lo - 1:
            raise Undefined("a sum over a range that ends before it starts")
        if (node.func == "sum" and isinstance(body, ast.Index) and len(body.indices) == 1
                and body.indices[0] == ast.Name(body.indices[0].pos, b.var)
                and b.var not in self.names):
            fam = self.lookup(body.name)
            if isinstance(fam, FamilyRef):
                for j in (lo, hi):
                    member_atom(self.world, fam.name, j)
                if hi < lo:
                    return ZERO
                key = ("famsum", fam.name, lo, hi)
                return R.atom(self.world.new_atom("famsum", (fam.name, lo, hi), key))
        if hi - lo + 1 > MAX_TERMS_OF_A_SUM:
            raise Unknown("a sum with too many terms")
        out: Any = ZERO if node.func == "sum" else ONE
        for i in range(lo, hi + 1):
            term = self.with_bound({b.var: Sc(Fraction(i))}, body)
            out = self.arith(out, term, "+" if node.func == "sum" else "*")
        return out

    def trace(self, node: ast.Call) -> R:
        """tr(M^k), tr((M/c)^k), tr((c*M)^k), tr(M)."""
        (arg,) = node.args
        k = 1
        if isinstance(arg, ast.BinOp) and arg.op == "^":
            k = self.integer(arg.right)
            arg = arg.left
        scale = ONE
        if isinstance(arg, ast.BinOp) and arg.op in ("/", "*", "implicit"):
            left_is_matrix = (isinstance(arg.left, ast.Name)
                              and isinstance(self.lookup(arg.left.id), MatrixRef))
            if arg.op == "/" and left_is_matrix:
                scale, arg = ONE / self.scalar(arg.right), arg.left
            elif arg.op != "/" and left_is_matrix:
                scale, arg = self.scalar(arg.right), arg.left
            elif arg.op != "/" and isinstance(arg.right, ast.Name):
                scale, arg = self.scalar(arg.left), arg.right
        m = self.ev(arg)
        if not isinstance(m, MatrixRef) or k < 0:
            raise Unknown("a trace of something other than a power of a random matrix")
        atom = self.world.new_atom("trace", (m.name, k), ("trace", m.name, k))
        return R({((atom, 1),): power(scale, Sc(Fraction(k)))})

    def integral(self, node: ast.Call) -> Sc:
        args = node.args
        if len(args) == 2 and isinstance(args[1], ast.Binding):
            var, lo, hi = args[1].var, args[1].lo, args[1].hi
        elif len(args) == 4 and isinstance(args[1], ast.Name):
            var, lo, hi = args[1].id, args[2], args[3]
        else:
            raise Unknown("an integral of an unknown form")
        a, b = self.scalar(lo), self.scalar(hi)
        if not (a.is_real() and b.is_real()):
            raise Unknown("complex bounds")
        f = compile_mp(self, args[0], (var,))
        values = []
        for dps in QUADRATURE_DIGITS:
            with mpmath.workdps(dps):
                values.append(mpmath.quad(lambda x: f({var: x}), [a.mp(), b.mp()]))
        return numeric_ball(values)


def compile_mp(ev: Evaluator, node: ast.Node, variables: tuple[str, ...]) -> Callable[[dict], Any]:
    """A fast mpmath evaluator of a deterministic integrand (its variables, function definitions
    of the theorem, constants, elementary functions)."""
    if isinstance(node, ast.Num):
        q = Fraction(node.text)
        return lambda env: mpmath.mpf(q.numerator) / q.denominator
    if isinstance(node, ast.Name):
        if node.id in variables:
            name = node.id
            return lambda env: env[name]
        value = ev.lookup(node.id)
        if not isinstance(value, Sc):
            raise Unknown("a random quantity inside an integral")
        return lambda env: value.mp()
    if isinstance(node, ast.BinOp):
        a, b = compile_mp(ev, node.left, variables), compile_mp(ev, node.right, variables)
        op = node.op
        if op in ("*", "implicit"):
            return lambda env: a(env) * b(env)
        if op == "+":
            return lambda env: a(env) + b(env)
        if op == "-":
            return lambda env: a(env) - b(env)
        if op == "/":
            return lambda env: a(env) / b(env)
        return lambda env: mpmath.power(a(env), b(env))
    if isinstance(node, ast.Neg):
        a = compile_mp(ev, node.operand, variables)
        return lambda env: -a(env)
    if isinstance(node, ast.Abs):
        a = compile_mp(ev, node.operand, variables)
        return lambda env: abs(a(env))
    if isinstance(node, ast.Call) and node.func in ev.defs and ev.defs[node.func].params:
        d = ev.defs[node.func]
        body = compile_mp(ev, d.body, tuple(d.params))
        args = [compile_mp(ev, x, variables) for x in node.args]
        params = d.params
        return lambda env: body({p: a(env) for p, a in zip(params, args, strict=True)})
    if isinstance(node, ast.Call) and node.func in UNARY_MP and len(node.args) == 1:
        fn, a = UNARY_MP[node.func], compile_mp(ev, node.args[0], variables)
        return lambda env: fn(a(env))
    if not _mentions(node, set(variables)):
        value = ev.scalar(node)
        return lambda env: value.mp()
    raise Unknown(f"{type(node).__name__} inside an integral is not modelled")


def _mentions(node: Any, names: set[str]) -> bool:
    if isinstance(node, ast.Name):
        return node.id in names
    if isinstance(node, ast.Node):
        return any(_mentions(getattr(node, f.name), names) for f in dataclasses.fields(node))
    if isinstance(node, tuple):
        return any(_mentions(x, names) for x in node)
    return False


# ---- instances of a theorem -------------------------------------------------------------------

#: Values of declared symbols by domain: two canonical instances first (small, "nice" values
#: where bounds are often tight), then draws from the pools.
CANONICAL: dict[str, tuple[Any, Any]] = {
    "positive integer": (1, 2), "natural": (0, 1), "integer": (0, 1), "real": (0, 1),
    "positive real": (1, 2), "nonnegative real": (0, 1), "complex": ((1, 1), (-2, 1)),
}
POOLS: dict[str, tuple[Any, ...]] = {
    "positive integer": (1, 2, 3, 4, 5, 7),
    "natural": (0, 1, 2, 3, 5),
    "integer": (-3, -2, -1, 0, 1, 2, 4),
    "real": (0, 1, -1, Fraction(1, 2), Fraction(-1, 2), Fraction(1, 3), Fraction(-1, 4), Fraction(1, 5),
             2, Fraction(-3, 2), Fraction(5, 2), 3, Fraction(-7, 3)),
    "positive real": (Fraction(1, 4), Fraction(1, 3), Fraction(1, 2), Fraction(2, 3), 1, Fraction(3, 2), 2,
                      Fraction(5, 2), 3),
    "nonnegative real": (0, Fraction(1, 2), 1, 2, 3),
    "complex": ((Fraction(1, 2), 1), (3, Fraction(-1, 2)), (Fraction(1, 3), Fraction(1, 4)), (2, 1), (-1, 2)),
}
FREE_MEANS = (0, Fraction(1, 2), -1, 2, Fraction(1, 3))
FREE_SCALES = (1, 2, Fraction(1, 2), Fraction(3, 2))
LIMIT_SIZES = (10**4, 10**6, 10**8, 10**10, 10**12)


def _domain_value(domain: str, v: Any) -> Sc:
    if domain == "complex":
        re, im = v
        return Sc(z=flint.acb(flint.fmpq(Fraction(re).numerator, Fraction(re).denominator),
                              flint.fmpq(Fraction(im).numerator, Fraction(im).denominator)))
    return Sc(Fraction(v))


@dataclass
class Instance:
    values: dict[str, Sc]
    seed: int
    index: int

    laws: str = ""

    def describe(self) -> str:
        parts = [f"{k} = {v}" for k, v in self.values.items()]
        return ", ".join([*parts, self.laws] if self.laws else parts)


def constant_evaluator() -> Evaluator:
    return Evaluator(World(), {}, {})


def draw_instances(t: ast.Theorem, seed: int, count: int, skip: set[str]) -> Iterator[Instance]:
    """Instances of the declared symbols and parameters (``skip``: the limit variable)."""
    rng = random.Random(seed)
    domains = {name: d.domain for d in t.lets if isinstance(d, ast.LetDomain) for name, _ in d.names}
    params = []
    for p in t.params:
        ce = constant_evaluator()
        lo = ce.integer(p.lo)
        hi = ce.integer(p.hi) if p.hi is not None else None
        params.append((p.var, lo, hi))
    for index in range(count):
        values: dict[str, Sc] = {}
        for var, lo, hi in params:
            if index == 0:
                k = lo
            elif index == 1:
                k = hi if hi is not None else lo + 1
            elif hi is None:
                k = lo + rng.randrange(0, 6)
            else:
                k = rng.randint(lo, max(lo, hi)) if hi >= lo else lo
            values[var] = Sc(Fraction(k))
        for name, domain in domains.items():
            if name in skip:
                continue
            v = CANONICAL[domain][index] if index < 2 else rng.choice(POOLS[domain])
            values[name] = _domain_value(domain, v)
        yield Instance(values, rng.randrange(2**31), index)


def build(t: ast.Theorem, inst: Instance, limit: tuple[str, Any] | None = None) -> Evaluator:
    """The world of random objects and the names of one instance (``limit``: the limit variable
    and its value)."""
    world = World()
    names: dict[str, Any] = dict(inst.values)
    defs: dict[str, ast.LetDef] = {}
    ev = Evaluator(world, names, defs)
    rng = random.Random(inst.seed)
    if limit is not None:
        names[limit[0]] = limit[1]
    for item in t.lets:
        if isinstance(item, ast.LetDomain):
            for name, _ in item.names:
                if name not in names:
                    raise Unknown(f"no value for '{name}'")
        elif isinstance(item, ast.LetDef):
            defs[item.name] = item
        elif isinstance(item, ast.LetFamily):
            _declare_family(ev, item, rng, inst.index)
        else:
            _declare_law(ev, item, rng, inst.index)
    chosen = [f"{f.name} ~ {f.law.name}" for f in world.families.values()]
    chosen += [f"entries of {name} ~ {m.entry.name}" for name, m in world.matrices.items() if m.entry]
    inst.laws = ", ".join(chosen)
    for a in t.assumptions:
        h = holds(ev.scalar(a.lhs), a.rel, ev.scalar(a.rhs))
        if h is None:
            raise Unknown("an assumption not decided at this instance")
        if not h:
            raise Inadmissible("the instance breaks an assumption")
    return ev


def _moment_specs(ev: Evaluator, name: str | None, specs: tuple[tuple[ast.Node, ast.Node], ...]
                  ) -> list[tuple[int, Sc | str]]:
    """``E[X^j] = rhs``: (j, value), or (j, NAME) for a bare undeclared name (a free moment).
    ``name``: the family's name (None: a matrix's entry, whatever its name)."""
    out: list[tuple[int, Sc | str]] = []
    entries = set()
    for lhs, rhs in specs:
        if not isinstance(lhs, ast.Expect):
            raise Unknown("a moment that is not E[X^j]")
        arg = lhs.arg
        base = arg.left if isinstance(arg, ast.BinOp) and arg.op == "^" else arg
        if isinstance(base, ast.Name):
            entries.add(base.id)
        if len(entries) > 1:
            raise Unknown("moments of two different names")
        if isinstance(arg, ast.Name) and arg.id == (name or arg.id):
            j = 1
        elif (isinstance(arg, ast.BinOp) and arg.op == "^" and isinstance(arg.left, ast.Name)
              and arg.left.id == (name or arg.left.id)):
            j = ev.integer(arg.right)
        else:
            raise Unknown("a moment that is not E[X^j]")
        if j < 1:
            raise Unknown("a moment of order below 1")
        if isinstance(rhs, ast.Name) and rhs.id not in ev.names and rhs.id not in ev.defs:
            out.append((j, rhs.id))
        else:
            out.append((j, ev.scalar(rhs)))
    return out


def choose_law(specs: list[tuple[int, Sc | str]], rng: random.Random, index: int, standard: bool
               ) -> tuple[Law, dict[str, Sc]]:
    """A catalogue law, shifted and scaled, that meets every declared moment; free moment names
    take its values. ``standard``: mean 0 and variance 1 by definition (matrix entries)."""
    given = {j: v for j, v in specs if isinstance(v, Sc)}
    if standard:
        mean, scale = ZERO, ONE
    else:
        free_mean = FREE_MEANS[0] if index == 0 else rng.choice(FREE_MEANS)
        mean = given[1] if 1 in given else Sc(Fraction(free_mean))
        if 2 in given:
            var = given[2] - mean * mean
            s = var.sign()
            if s is None:
                raise Unknown("a variance of unknown sign")
            if s <= 0:
                raise Inadmissible("a non-positive variance")
            scale = sqrt(var)
        else:
            scale = Sc(Fraction(FREE_SCALES[0] if index == 0 else rng.choice(FREE_SCALES)))
    start = index if index < len(CATALOGUE) else rng.randrange(len(CATALOGUE))
    for t in range(len(CATALOGUE)):
        law = affine(CATALOGUE[(start + t) % len(CATALOGUE)], mean, scale)
        assigned: dict[str, Sc] = {}
        ok = True
        for j, v in specs:
            m = law.moment(j)
            if isinstance(v, str):
                if v in assigned:
                    ok = ok and compare_equal(assigned[v], m) is True
                else:
                    assigned[v] = m
            else:
                ok = ok and compare_equal(m, v) is True
        if ok:
            return law, assigned
    raise Inadmissible("no law of the catalogue has the declared moments")


def _declare_family(ev: Evaluator, item: ast.LetFamily, rng: random.Random, index: int) -> None:
    lo, hi = ev.integer(item.lo), ev.integer(item.hi)
    specs = _moment_specs(ev, item.name, item.moments)
    if item.law is not None:
        law = _concrete_law(ev, item.law)
        for j, v in specs:
            if isinstance(v, str):
                ev.names[v] = law.moment(j)
            elif compare_equal(law.moment(j), v) is not True:
                raise Inadmissible("a law whose moments contradict the declared ones")
    else:
        law, assigned = choose_law(specs, rng, index, standard=False)
        ev.names.update(assigned)
    ev.world.families[item.name] = Family(item.name, lo, hi, law)
    ev.names[item.name] = FamilyRef(item.name)


def _concrete_law(ev: Evaluator, call: ast.Call) -> Law:
    if call.func == "Rademacher" and not call.args:
        return CATALOGUE[0]
    if call.func == "Normal" and len(call.args) == 2:
        mean, var = ev.scalar(call.args[0]), ev.scalar(call.args[1])
        if var.sign() is None or var.sign() <= 0:
            raise Inadmissible("a Normal law without a positive variance")
        return affine(CATALOGUE[1], mean, sqrt(var))
    if call.func == "TwoPoint" and len(call.args) == 3:
        a, b, p = (ev.scalar(x) for x in call.args)
        if p.q is None or not 0 <= p.q <= 1:
            raise Inadmissible("a probability outside [0, 1]")
        return Law("TwoPoint", [(a, p.q), (b, 1 - p.q)])
    raise Unknown(f"the law {call.func} is not modelled")


def _psd(matrix: list[list[Sc]]) -> bool:
    """Whether a symmetric exact matrix is positive semidefinite (every principal minor >= 0)."""
    d = len(matrix)
    if any(x.q is None for row in matrix for x in row):
        raise Unknown("an inexact covariance")
    q = [[x.q for x in row] for row in matrix]
    if any(q[i][j] != q[j][i] for i in range(d) for j in range(d)):
        return False
    for mask in range(1, 2**d):
        idx = [i for i in range(d) if mask >> i & 1]
        if _det([[q[i][j] for j in idx] for i in idx]) < 0:
            return False
    return True


def _det(m: list[list[Fraction]]) -> Fraction:
    m = [row[:] for row in m]
    n, det = len(m), Fraction(1)
    for c in range(n):
        pivot = next((r for r in range(c, n) if m[r][c] != 0), None)
        if pivot is None:
            return Fraction(0)
        if pivot != c:
            m[c], m[pivot] = m[pivot], m[c]
            det = -det
        det *= m[c][c]
        for r in range(c + 1, n):
            f = m[r][c] / m[c][c]
            for k in range(c, n):
                m[r][k] -= f * m[c][k]
    return det


def _covariance(ev: Evaluator, node: ast.Node, size: int) -> list[list[Sc]]:
    if not isinstance(node, ast.ListExpr) or len(node.items) != size:
        raise Unknown("a covariance of the wrong shape")
    rows = []
    for row in node.items:
        if not isinstance(row, ast.ListExpr) or len(row.items) != size:
            raise Unknown("a covariance of the wrong shape")
        rows.append([ev.scalar(x) for x in row.items])
    if not _psd(rows):
        raise Inadmissible("a covariance that is not positive semidefinite")
    return rows


def _gaussian_names(ev: Evaluator, names: list[str], mean: list[Sc], cov: list[list[Sc]]) -> None:
    ids: list[int] = []
    for a, name in enumerate(names):
        i = ev.world.gaussian(name, mean[a], {ids[b]: cov[a][b] for b in range(a)}, cov[a][a])
        ids.append(i)
        ev.names[name] = R.atom(i)


def _declare_law(ev: Evaluator, item: ast.LetLaw, rng: random.Random, index: int) -> None:
    call = item.law
    names = [n for n, _ in item.names]
    f, args = call.func, call.args
    if f == "Normal" and len(args) == 2 and isinstance(args[0], ast.ListExpr):
        size = len(names)
        if len(args[0].items) != size:
            raise Unknown("a mean of the wrong length")
        _gaussian_names(ev, names, [ev.scalar(x) for x in args[0].items], _covariance(ev, args[1], size))
    elif f == "Normal" and len(args) == 2:
        mean, var = ev.scalar(args[0]), ev.scalar(args[1])
        s = var.sign() if var.is_real() else None
        if s is None:
            raise Unknown("a variance of unknown sign")
        if s <= 0:
            raise Inadmissible("a Normal law without a positive variance")
        for name in names:
            _gaussian_names(ev, [name], [mean], [[var]])
    elif f in ("GUE", "GOE") and len(args) == 1 and len(names) == 1:
        ev.world.matrices[names[0]] = MatrixLaw(f, (ev.scalar(args[0]),))
        ev.names[names[0]] = MatrixRef(names[0])
    elif f in ("Wigner", "Wishart") and len(names) == 1 and len(args) == (1 if f == "Wigner" else 2):
        specs = _moment_specs(ev, None, item.moments)
        if specs or f == "Wigner":
            law, assigned = choose_law(specs, rng, index, standard=True)
            ev.names.update(assigned)
        else:
            law = CATALOGUE[1]
        ev.world.matrices[names[0]] = MatrixLaw(f, tuple(ev.scalar(a) for a in args), law)
        ev.names[names[0]] = MatrixRef(names[0])
    elif f == "Matrix" and 1 <= len(args) <= 3 and len(names) == 1:
        v = ev.scalar(args[1]) if len(args) > 1 else ONE
        if v.sign() is None or v.sign() <= 0:
            raise Inadmissible("a matrix variance that is not positive")
        ev.world.net_variance[names[0]] = v
        ev.names[names[0]] = NetMatrix(names[0])
    elif f == "Vector" and 1 <= len(args) <= 2:
        if len(args) == 2 and isinstance(args[1], ast.ListExpr):
            _gaussian_names(ev, names, [ZERO] * len(names), _covariance(ev, args[1], len(names)))
        else:
            v = ev.scalar(args[1]) if len(args) == 2 else ONE
            if v.sign() is None or v.sign() <= 0:
                raise Inadmissible("a vector variance that is not positive")
            for name in names:
                _gaussian_names(ev, [name], [ZERO], [[v]])
    else:
        raise Unknown(f"the law {f} is not modelled")


# ---- the oracle: is a theorem's claim true? ---------------------------------------------------

TRUE, FALSE, UNKNOWN = "TRUE", "FALSE", "UNKNOWN"


@dataclass
class OracleVerdict:
    status: str  # TRUE, FALSE or UNKNOWN
    reason: str


def _is_tensor_program(t: ast.Theorem) -> bool:
    return any(isinstance(d, ast.LetLaw) and d.law.func in ("Matrix", "Vector") for d in t.lets)


def _show(x: Sc) -> str:
    if x.q is not None:
        text = _fraction_text(abs(x.q)) if x.q.denominator > 1 else None
        if text is not None and len(text) <= 40:
            return ("-" if x.q < 0 else "") + text
        return str(x.q)
    if x.is_real():
        return x.z.real.str(35)
    return x.z.str(35)


def judge_instance(t: ast.Theorem, inst: Instance) -> tuple[bool | None, str]:
    """Whether the claim holds at this instance (None: cannot tell), and what was seen."""
    claim = t.claim
    if claim.rel == "->":
        return _judge_limit(t, inst)
    ev = build(t, inst)
    lhs, rhs = ev.scalar(claim.lhs), ev.scalar(claim.rhs)
    seen = f"lhs = {_show(lhs)}, rhs = {_show(rhs)}"
    if claim.rel == "~=":
        tol = ev.scalar(claim.tolerance)
        return holds(absolute(lhs - rhs), "<=", tol), f"{seen}, tolerance {_show(tol)}"
    return holds(lhs, claim.rel, rhs), seen


def _judge_limit(t: ast.Theorem, inst: Instance) -> tuple[bool | None, str]:
    claim = t.claim
    var = claim.limit_var
    if _is_tensor_program(t):
        ev = build(t, inst, (var, AT_INFINITY))
        lhs, rhs = ev.scalar(claim.lhs), ev.scalar(claim.rhs)
        seen = f"limit of lhs = {_show(lhs)}, rhs = {_show(rhs)}"
        if claim.tolerance is not None:
            return holds(absolute(lhs - rhs), "<=", ev.scalar(claim.tolerance)), seen
        return holds(lhs, "=", rhs), seen
    if _mentions(claim.rhs, {var}) or _mentions(claim.tolerance, {var}):
        raise Unknown("a limit whose value depends on the limit variable")
    rhs_ev = build(t, inst, (var, Sc(Fraction(LIMIT_SIZES[0]))))
    rhs = rhs_ev.scalar(claim.rhs)
    tol = rhs_ev.scalar(claim.tolerance) if claim.tolerance is not None else ZERO
    gaps = []
    for n in LIMIT_SIZES:
        lhs = build(t, inst, (var, Sc(Fraction(n)))).scalar(claim.lhs)
        gaps.append(absolute(lhs - rhs).ball().real)
    scale = max(1.0, rhs.magnitude()) + float(tol.ball().real.upper())
    lower = [float(g.lower()) for g in gaps]
    upper = [float(g.upper()) for g in gaps]
    seen = (f"rhs = {_show(rhs)}; |lhs - rhs| at {var} = 10^4, ..., 10^12: "
            + ", ".join(f"{u:.3g}" for u in upper))
    allowed = float(tol.ball().real.upper())
    if all(lo > allowed + scale * 1e-3 for lo in lower[2:]) and lower[4] >= 0.9 * upper[2]:
        return False, seen
    if upper[4] <= upper[2] and (upper[4] <= allowed + 1e-4 * scale
                                 or (upper[4] <= 0.05 * upper[2] and upper[4] <= allowed + 1e-2 * scale)):
        return True, seen
    return None, seen


def oracle(t: ast.Theorem, seed: int, count: int = 6) -> OracleVerdict:
    """TRUE if the claim holds at every admissible instance tried (at least one), FALSE on a
    certain counterexample, UNKNOWN otherwise. Up to ``count`` admissible instances are tried,
    out of 3 * count drawn."""
    if t.claim is None:
        return OracleVerdict(UNKNOWN, "no claim")
    try:
        with time_limit(ORACLE_SECONDS):
            return _oracle(t, seed, count)
    except OracleTimeout:
        return OracleVerdict(UNKNOWN, f"the oracle ran out of its {ORACLE_SECONDS:g} s")


def _oracle(t: ast.Theorem, seed: int, count: int) -> OracleVerdict:
    skip = {t.claim.limit_var} if t.claim.limit_var else set()
    held, notes = 0, []
    with arb_precision(), mpmath.workdps(QUADRATURE_DIGITS[-1]):
        try:
            insts = list(draw_instances(t, seed, 3 * count, skip))
        except (Unknown, Undefined) as exc:
            return OracleVerdict(UNKNOWN, f"parameters: {exc}")
        tried = 0
        varies = any(isinstance(d, ast.LetFamily) or (isinstance(d, ast.LetLaw) and d.law.func in
                                                       ("Wigner", "Wishart")) for d in t.lets)
        done: set[str] = set()
        for inst in insts:
            if tried == count:
                break
            if not varies:
                if inst.describe() in done:
                    continue
                done.add(inst.describe())
            try:
                h, seen = judge_instance(t, inst)
            except Inadmissible as exc:
                notes.append(f"inadmissible: {exc}")
                continue
            except Undefined as exc:
                h, seen = None, f"undefined: {exc}"
            except Unknown as exc:
                h, seen = None, f"unknown: {exc}"
            except (ArithmeticError, ValueError, TypeError, RecursionError, KeyError, IndexError) as exc:
                h, seen = None, f"oracle error: {type(exc).__name__}: {exc}"
            tried += 1
            where = inst.describe() or "the only instance"
            if h is False:
                return OracleVerdict(FALSE, f"at {where}: {seen}")
            if h is True:
                held += 1
            else:
                notes.append(seen if seen.startswith(("undefined", "unknown", "oracle error"))
                             else f"undecided at {where}: {seen}")
    note = "; ".join(sorted(set(notes))[:3])
    if held:
        return OracleVerdict(TRUE, f"holds at {held} instance(s)" + (f"; {note}" if note else ""))
    return OracleVerdict(UNKNOWN, note or "no instance")


# ---- mutation operators ------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutant:
    file: str  # relative to the repository root
    theorem: str
    kind: str  # the operator class (see MUTATION_KINDS)
    description: str
    text: str  # the mutated theorem alone, a proof file of its own

    @property
    def label(self) -> str:
        return f"{self.file}::{self.theorem} [{self.kind}] {self.description}"


MUTATION_KINDS = {
    "claim+end": "the claim's right side and the chain's last expression, mutated alike",
    "claim+start": "the claim's left side and the chain's first expression, mutated alike",
    "claim": "the claim's right side only (the chain then ends elsewhere)",
    "declaration": "a law, an iid family's moments, a definition or an assumption",
    "range": "the bounds of a parameter (k in a..b, for all k >= a) or of a rule's range",
    "step": "an intermediate expression of the chain (the claim is unchanged)",
    "rule": "another rule for a step (the claim is unchanged)",
    "rule+claim": "claim+end with another rule for the last step",
    "relation": "the claim's relation, with the chain's matching step (or alone)",
    "drop": "a dropped step",
    "swap": "two declared names exchanged in the claim and the chain's end or start",
    "tolerance": "an approximate claim's value and tolerance",
    "domain": "a declared symbol's domain widened (positive real -> real, ...)",
}

#: Functions (and laws) a mutant may put for one another.
FUNCTION_GROUPS = (("relu", "step", "erf", "tanh"), ("sin", "cos"), ("sinh", "cosh"), ("sqrt", "exp", "log"),
                   ("arcsin", "arccos", "arctan"), ("catalan", "ncpairings", "pairings"),
                   ("relu_dual", "step_dual", "erf_dual"), ("binomial", "narayana"), ("ff", "rf"),
                   ("GUE", "GOE"))
WIDER_DOMAINS = {"positive real": ("nonnegative real", "real"), "nonnegative real": ("real",),
                 "positive integer": ("natural", "integer"), "natural": ("integer",), "integer": ("real",),
                 "real": ("complex",)}


def _fraction_text(v: Fraction) -> str | None:
    """Decimal text of a nonnegative rational with a terminating expansion."""
    for d in range(0, 120):
        scaled = v * 10**d
        if scaled.denominator == 1:
            digits = str(int(scaled))
            if d == 0:
                return digits
            digits = digits.rjust(d + 1, "0")
            return f"{digits[:-d]}.{digits[-d:]}"
    return None


def number_node(v: Fraction, pos: Any) -> ast.Node:
    if v < 0:
        return ast.Neg(pos, number_node(-v, pos))
    text = _fraction_text(v)
    if text is not None:
        return ast.Num(pos, text)
    return ast.BinOp(pos, "/", ast.Num(pos, str(v.numerator)), ast.Num(pos, str(v.denominator)))


def _normalise(node: ast.Node) -> ast.Node:
    """A number written against a name (``2k``) stays juxtaposed only while it is a number."""
    if isinstance(node, ast.BinOp) and node.op == "implicit" and not isinstance(node.left, ast.Num):
        return dataclasses.replace(node, op="*")
    return node


def _where(node: ast.Node) -> str:
    return f"{node.pos.line}:{node.pos.col}"


def _one(pos: Any) -> ast.Num:
    return ast.Num(pos, "1")


def local_mutations(node: ast.Node) -> Iterator[tuple[ast.Node, str]]:
    """Mutations at a node itself: numbers +1, -1, x2; signs; exponents +-1; range bounds."""
    if isinstance(node, ast.Num):
        v = Fraction(node.text)
        for new in dict.fromkeys((v + 1, v - 1, 2 * v)):
            if new != v:
                mutated = number_node(new, node.pos)
                yield mutated, f"number {node.text} -> {to_source(mutated)} at {_where(node)}"
    elif isinstance(node, ast.BinOp) and node.op in ("+", "-"):
        flipped = "-" if node.op == "+" else "+"
        yield dataclasses.replace(node, op=flipped), f"sign '{node.op}' -> '{flipped}' at {_where(node)}"
    elif isinstance(node, ast.Neg):
        yield node.operand, f"minus sign dropped at {_where(node)}"
    elif isinstance(node, ast.Call):
        for group in FUNCTION_GROUPS:
            if node.func in group:
                for other in group:
                    if other != node.func:
                        yield (dataclasses.replace(node, func=other),
                               f"function {node.func} -> {other} at {_where(node)}")
    elif isinstance(node, ast.BinOp) and node.op == "^" and not isinstance(node.right, ast.Num):
        for op in ("+", "-"):
            new = ast.BinOp(node.right.pos, op, node.right, _one(node.pos))
            yield (dataclasses.replace(node, right=new),
                   f"exponent {to_source(node.right)} -> {to_source(new)} at {_where(node)}")
    elif isinstance(node, ast.Binding):
        for side in ("lo", "hi"):
            bound = getattr(node, side)
            if isinstance(bound, ast.Num):
                continue
            for op in ("+", "-"):
                new = ast.BinOp(bound.pos, op, bound, _one(bound.pos))
                yield (dataclasses.replace(node, **{side: new}),
                       f"range bound {to_source(bound)} -> {to_source(new)} at {_where(node)}")


def expression_mutations(node: ast.Node) -> Iterator[tuple[ast.Node, str]]:
    """Every single mutation of an expression tree, in reading order."""
    yield from local_mutations(node)
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        if isinstance(value, ast.Node):
            for new, d in expression_mutations(value):
                yield _normalise(dataclasses.replace(node, **{f.name: new})), d
        elif isinstance(value, tuple):
            for i, child in enumerate(value):
                if isinstance(child, ast.Node):
                    for new, d in expression_mutations(child):
                        items = (*value[:i], new, *value[i + 1:])
                        yield _normalise(dataclasses.replace(node, **{f.name: items})), d


def swap_names(node: Any, a: str, b: str) -> Any:
    if isinstance(node, ast.Name):
        if node.id in (a, b):
            return dataclasses.replace(node, id=b if node.id == a else a)
        return node
    if isinstance(node, ast.Node):
        changes = {f.name: swap_names(getattr(node, f.name), a, b) for f in dataclasses.fields(node)
                   if f.name != "pos"}
        return dataclasses.replace(node, **changes)
    if isinstance(node, tuple):
        return tuple(swap_names(x, a, b) for x in node)
    return node


# ---- printing the units of a theorem back to text ----------------------------------------------


def _moments_text(moments: tuple[tuple[ast.Node, ast.Node], ...]) -> str:
    if not moments:
        return ""
    return " with " + ", ".join(f"{to_source(a)} = {to_source(b)}" for a, b in moments)


def unit_text(unit: Any) -> str:  # noqa: C901
    """One header item, the claim, the chain's start or one of its links, as a line."""
    if isinstance(unit, ast.Param):
        if unit.hi is None:
            return f"for all {unit.var} >= {to_source(unit.lo)}"
        return f"{unit.var} in {to_source(unit.lo)}..{to_source(unit.hi)}"
    if isinstance(unit, ast.LetDomain):
        return f"let {', '.join(n for n, _ in unit.names)} : {unit.domain}"
    if isinstance(unit, ast.LetLaw):
        names = ", ".join(n for n, _ in unit.names)
        return f"let {names} ~ {to_source(unit.law)}{_moments_text(unit.moments)}"
    if isinstance(unit, ast.LetFamily):
        law = f" ~ {to_source(unit.law)}" if unit.law is not None else ""
        return (f"let {unit.name}[{to_source(unit.lo)}..{to_source(unit.hi)}] iid{law}"
                f"{_moments_text(unit.moments)}")
    if isinstance(unit, ast.LetDef):
        params = f"({', '.join(unit.params)})" if unit.params else ""
        return f"let {unit.name}{params} = {to_source(unit.body)}"
    if isinstance(unit, ast.Assume):
        return f"assume {to_source(unit.lhs)} {unit.rel} {to_source(unit.rhs)}"
    if isinstance(unit, ast.Relation):
        return "claim " + _relation_text(unit.lhs, unit.rel, unit.rhs, unit.tolerance, unit.limit_var)
    if isinstance(unit, ast.Link):
        args = f"({', '.join(to_source(a) for a in unit.rule.args)})" if unit.rule.args else ""
        return (_relation_text(None, unit.rel, unit.expr, unit.tolerance, unit.limit_var)
                + f" by {unit.rule.name}{args}")
    if isinstance(unit, ast.Node):
        return to_source(unit)
    raise TypeError(f"cannot print {type(unit).__name__}")


def _relation_text(lhs: ast.Node | None, rel: str, rhs: ast.Node, tol: ast.Node | None,
                   var: str | None) -> str:
    out = f"{to_source(lhs)} " if lhs is not None else ""
    out += f"{rel} {to_source(rhs)}"
    if tol is not None:
        out += f" within {to_source(tol)}"
    if var is not None:
        out += f" as {var} -> oo"
    return out


@dataclass
class TheoremSource:
    """A theorem, its lines in its file, and where each unit sits among them."""

    file: str
    tree: ast.Theorem
    lines: list[str]

    @property
    def first(self) -> int:
        return self.tree.pos.line

    def units(self) -> list[tuple[Any, int]]:
        t = self.tree
        items: list[Any] = [*t.params, *t.lets, *t.assumptions, t.claim, *t.crosschecks, *t.chain.links]
        out = [(u, u.pos.line) for u in items]
        out.append((t.chain.start, t.chain.pos.line))
        return out

    def line_of(self, unit: Any) -> int:
        """The index (in ``lines``) of the unit's line."""
        pos = unit.pos if not isinstance(unit, ast.Chain) else unit.pos
        return pos.line - self.first

    def render(self, replace: dict[int, str], drop: frozenset[int] = frozenset()) -> str:
        out = []
        for i, line in enumerate(self.lines):
            if i in drop:
                continue
            if i in replace:
                indent = line[: len(line) - len(line.lstrip())]
                out.append(indent + replace[i])
            else:
                out.append(line)
        return "\n".join(out) + "\n"


def theorem_sources(path: Path) -> list[TheoremSource]:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    trees = parse(text).theorems
    starts = [t.pos.line for t in trees] + [len(lines) + 1]
    rel = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
    spans = zip(trees, starts, starts[1:], strict=False)
    return [TheoremSource(rel, t, lines[a - 1: b - 1]) for t, a, b in spans]


def strip_positions(x: Any) -> Any:
    """A theorem's content without source positions, for comparing trees."""
    if isinstance(x, ast.Node):
        return shape(x)
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        if type(x).__name__ == "Position":
            return None
        return (type(x).__name__, tuple((f.name, strip_positions(getattr(x, f.name)))
                                        for f in dataclasses.fields(x) if f.name != "pos"))
    if isinstance(x, list | tuple):
        return tuple(strip_positions(y) for y in x)
    return x


def round_trip_problems(src: TheoremSource) -> list[str]:
    """Printing every unit back must give the same theorem (the mutants are printed so)."""
    replace = {}
    problems = []
    seen_lines = Counter(src.line_of(u) if not isinstance(u, ast.Node) else u.pos.line - src.first
                         for u, _ in src.units())
    for line, n in seen_lines.items():
        if n > 1:
            problems.append(f"{src.tree.name}: line {line + src.first} holds {n} items")
    for u, _ in src.units():
        if isinstance(u, ast.Crosscheck):
            continue
        replace[_line(src, u)] = unit_text(u)
    try:
        again = parse(src.render(replace)).theorems
    except TpcheckError as exc:
        return [*problems, f"{src.tree.name}: reprinted text does not parse: {exc}"]
    if len(again) != 1 or strip_positions(again[0]) != strip_positions(src.tree):
        problems.append(f"{src.tree.name}: reprinted theorem differs")
    return problems


def _line(src: TheoremSource, unit: Any) -> int:
    return unit.pos.line - src.first


class _Emitter:
    def __init__(self, src: TheoremSource) -> None:
        self.src = src
        self.out: dict[str, Mutant] = {}
        self.original = src.render({})

    def emit(self, kind: str, description: str, units: dict[int, Any], drop: frozenset[int] = frozenset()
             ) -> Mutant | None:
        text = self.src.render({i: unit_text(u) for i, u in units.items()}, drop)
        if text == self.original or text in self.out:
            return None
        m = Mutant(self.src.file, self.src.tree.name, kind, description, text)
        self.out[text] = m
        return m


def theorem_mutants(src: TheoremSource, rules: list[str], rule_relations: dict[str, frozenset[str]]
                    ) -> list[Mutant]:
    """Every mutant of one theorem (deterministic)."""
    t = src.tree
    em = _Emitter(src)
    rng = random.Random(zlib.crc32(t.name.encode()))
    claim, chain = t.claim, t.chain
    links = list(chain.links)
    last = links[-1]
    cl, ll, sl = _line(src, claim), _line(src, last), chain.pos.line - src.first

    claim_end = []
    for new, d in expression_mutations(claim.rhs):
        m = em.emit("claim+end", d, {cl: dataclasses.replace(claim, rhs=new),
                                     ll: dataclasses.replace(last, expr=new)})
        if m is not None:
            claim_end.append((new, d))
    for new, d in expression_mutations(claim.lhs):
        em.emit("claim+start", d, {cl: dataclasses.replace(claim, lhs=new), sl: new})
    for new, d in list(expression_mutations(claim.rhs))[:2]:
        em.emit("claim", d, {cl: dataclasses.replace(claim, rhs=new)})

    for unit in t.lets:
        if isinstance(unit, ast.LetDomain):
            for wider in WIDER_DOMAINS.get(unit.domain, ()):
                em.emit("domain", f"{', '.join(n for n, _ in unit.names)} : {unit.domain} -> {wider}",
                        {_line(src, unit): dataclasses.replace(unit, domain=wider)})
    for unit in [*t.params, *t.lets, *t.assumptions]:
        kind = "range" if isinstance(unit, ast.Param) else "declaration"
        for new, d in unit_mutations(unit):
            em.emit(kind, d, {_line(src, unit): new})

    for link in links[:-1]:
        for new, d in list(expression_mutations(link.expr))[:3]:
            em.emit("step", f"step at line {link.pos.line}: {d}",
                    {_line(src, link): dataclasses.replace(link, expr=new)})
    for link in links:
        for i, arg in enumerate(link.rule.args):
            for new, d in expression_mutations(arg):
                args = (*link.rule.args[:i], new, *link.rule.args[i + 1:])
                rule = dataclasses.replace(link.rule, args=args)
                em.emit("range" if isinstance(arg, ast.Binding) else "rule", f"rule argument: {d}",
                        {_line(src, link): dataclasses.replace(link, rule=rule)})
        others = [r for r in rules if r != link.rule.name]
        for r in rng.sample(others, min(2, len(others))):
            rule = ast.RuleCall(link.rule.pos, r, ())
            em.emit("rule", f"rule {link.rule.name} -> {r} at line {link.pos.line}",
                    {_line(src, link): dataclasses.replace(link, rule=rule)})
        em.emit("drop", f"step at line {link.pos.line} dropped", {}, frozenset({_line(src, link)}))

    for new, d in rng.sample(claim_end, min(3, len(claim_end))):
        fitting = [r for r in rules if r != last.rule.name and last.rel in rule_relations[r]]
        for r in rng.sample(fitting, min(3, len(fitting))):
            em.emit("rule+claim", f"{d}; last rule {last.rule.name} -> {r}",
                    {cl: dataclasses.replace(claim, rhs=new),
                     ll: dataclasses.replace(last, expr=new, rule=ast.RuleCall(last.rule.pos, r, ()))})

    order = ("=", "<=", "<", ">=", ">")
    if claim.rel in order:
        carrier = next((lk for lk in reversed(links) if lk.rel == claim.rel), last)
        for r in order:
            if r == claim.rel:
                continue
            em.emit("relation", f"relation {claim.rel} -> {r} in the claim and at line {carrier.pos.line}",
                    {cl: dataclasses.replace(claim, rel=r),
                     _line(src, carrier): dataclasses.replace(carrier, rel=r)})
        alone = order[1] if claim.rel == "=" else "="
        em.emit("relation", f"relation {claim.rel} -> {alone} in the claim only",
                {cl: dataclasses.replace(claim, rel=alone)})

    names = _swappable_names(t)
    for a, b in [(a, b) for i, a in enumerate(names) for b in names[i + 1:]]:
        rhs, lhs = swap_names(claim.rhs, a, b), swap_names(claim.lhs, a, b)
        if rhs != claim.rhs:
            em.emit("swap", f"{a} <-> {b} in the claim's right side and the chain's end",
                    {cl: dataclasses.replace(claim, rhs=rhs), ll: dataclasses.replace(last, expr=rhs)})
        if lhs != claim.lhs:
            em.emit("swap", f"{a} <-> {b} in the claim's left side and the chain's start",
                    {cl: dataclasses.replace(claim, lhs=lhs), sl: lhs})

    if claim.tolerance is not None:
        for (value, tol), d in tolerance_variants(claim.rhs, claim.tolerance):
            em.emit("tolerance", d, {cl: dataclasses.replace(claim, rhs=value, tolerance=tol),
                                     ll: dataclasses.replace(last, expr=value, tolerance=tol)})
    return list(em.out.values())


def unit_mutations(unit: Any) -> Iterator[tuple[Any, str]]:
    """Mutations of the expressions of a header item."""
    fields = {
        ast.Param: ("lo", "hi"), ast.LetLaw: ("law", "moments"),
        ast.LetFamily: ("lo", "hi", "law", "moments"),
        ast.LetDef: ("body",), ast.Assume: ("lhs", "rhs"),
    }.get(type(unit), ())
    for name in fields:
        value = getattr(unit, name)
        if isinstance(unit, ast.Param) and isinstance(value, ast.Node) and not isinstance(value, ast.Num):
            for op in ("+", "-"):
                new = ast.BinOp(value.pos, op, value, _one(value.pos))
                yield (dataclasses.replace(unit, **{name: new}),
                       f"bound {to_source(value)} -> {to_source(new)}")
        if isinstance(value, ast.Node):
            for new, d in expression_mutations(value):
                yield dataclasses.replace(unit, **{name: new}), d
        elif name == "moments":
            for i, (lhs, rhs) in enumerate(value):
                for side, node in (("lhs", lhs), ("rhs", rhs)):
                    for new, d in expression_mutations(node):
                        pair = (new, rhs) if side == "lhs" else (lhs, new)
                        moments = (*value[:i], pair, *value[i + 1:])
                        yield dataclasses.replace(unit, moments=moments), f"moment: {d}"


def _swappable_names(t: ast.Theorem) -> list[str]:
    out = []
    for d in t.lets:
        if isinstance(d, ast.LetDomain):
            out += [n for n, _ in d.names]
        elif isinstance(d, ast.LetLaw) and d.law.func == "Normal":
            out += [n for n, _ in d.names]
    return out


def tolerance_variants(value: ast.Node, tol: ast.Node) -> Iterator[tuple[tuple[ast.Node, ast.Node], str]]:
    """An approximate claim ``~= V within T``: V moved by 10 T; T = 10^-3 with V moved by 10^-2
    (false) or by 10^-4 (true); T/10 and 10 T with V kept."""
    if not isinstance(tol, ast.Num):
        return
    t = Fraction(tol.text)
    p = value.pos

    def shifted(by: Fraction) -> ast.Node:
        if isinstance(value, ast.Num):
            return number_node(Fraction(value.text) + by, p)
        return ast.BinOp(p, "+", value, number_node(by, p))

    milli = number_node(Fraction(1, 1000), tol.pos)
    tenth, tenfold = number_node(t / 10, tol.pos), number_node(10 * t, tol.pos)
    yield (shifted(10 * t), tol), f"value + 10 x tolerance ({to_source(tenfold)})"
    yield (shifted(Fraction(1, 100)), milli), "tolerance -> 0.001, value + 0.01"
    yield (shifted(Fraction(1, 10000)), milli), "tolerance -> 0.001, value + 0.0001"
    yield (value, tenth), f"tolerance {tol.text} -> {to_source(tenth)}"
    yield (value, tenfold), f"tolerance {tol.text} -> {to_source(tenfold)}"


def library_mutants(paths: list[Path] | None = None) -> list[Mutant]:
    """Every mutant of every theorem of the proof library, in a fixed order."""
    import tpcheck.rules  # noqa: F401  (registers the rules)
    from tpcheck.kernel import REGISTRY

    rules = sorted(REGISTRY)
    relations = {name: r.relations for name, r in REGISTRY.items()}
    out = []
    for path in paths or sorted(PROOFS.glob("*.tp")):
        for src in theorem_sources(path):
            out.extend(theorem_mutants(src, rules, relations))
    return out


# ---- running mutants -------------------------------------------------------------------------

PASSING = ("PROVED", "VERIFIED", "PARTIAL", "CORROBORATED")
FILE_ERROR, INTERNAL_ERROR, NOT_RUN = "FILE ERROR", "INTERNAL ERROR", "NOT RUN"


@dataclass
class MutantResult:
    mutant: Mutant
    oracle: str  # TRUE, FALSE, UNKNOWN
    why: str  # the oracle's reason (the counterexample of a FALSE mutant)
    verdict: str  # the theorem's verdict, FILE ERROR, INTERNAL ERROR, or NOT RUN
    detail: str = ""  # the checker's note or error
    seconds: float = 0.0

    @property
    def accepted(self) -> bool:
        """A false claim that tpcheck passes: a soundness bug (PARTIAL: see ``partial``)."""
        return self.oracle == FALSE and self.verdict in PASSING and self.verdict != "PARTIAL"

    @property
    def partial(self) -> bool:
        """A false claim checked exactly on part of its domain only (a pass, not a bug)."""
        return self.oracle == FALSE and self.verdict == "PARTIAL"

    def to_json(self) -> dict[str, Any]:
        m = self.mutant
        return {"file": m.file, "theorem": m.theorem, "kind": m.kind, "mutation": m.description,
                "oracle": self.oracle, "why": self.why, "verdict": self.verdict, "detail": self.detail,
                "accepted": self.accepted, "seconds": round(self.seconds, 3), "text": m.text}


Oracle = Callable[[ast.Theorem, int], OracleVerdict]
_ORACLE_CACHE: dict[str, OracleVerdict] = {}


def judge_mutant(m: Mutant, oracle_fn: Oracle = oracle) -> OracleVerdict:
    """The oracle's verdict on a mutant's claim (cached on the header and claim: the chain does
    not change what is claimed)."""
    try:
        (t,) = parse(m.text).theorems
    except (TpcheckError, ValueError) as exc:
        return OracleVerdict(UNKNOWN, f"does not parse: {str(exc).splitlines()[0]}")
    key = repr(strip_positions((t.name, t.params, t.lets, t.assumptions, t.claim)))
    if oracle_fn is oracle and key in _ORACLE_CACHE:
        return _ORACLE_CACHE[key]
    verdict = oracle_fn(t, zlib.crc32(t.name.encode()))
    if oracle_fn is oracle:
        _ORACLE_CACHE[key] = verdict
    return verdict


def run_checker(m: Mutant, budget: float) -> tuple[str, str]:
    """tpcheck's verdict on the mutant's theorem (witnesses off; ``budget`` CPU s a step)."""
    from tpcheck.api import check_text
    from tpcheck.kernel import Options

    report = check_text(m.text, f"{m.file}::{m.theorem}", Options(witnesses=False, budget=budget))
    if report.errors:
        return FILE_ERROR, report.errors[0].splitlines()[0]
    if report.internal_errors:
        return INTERNAL_ERROR, report.internal_errors[0]
    for r in report.theorems:
        if r.name == m.theorem:
            weak = [s for s in r.steps if s.verdict.value not in ("PROVED", "VERIFIED")]
            detail = r.note or (f"line {weak[0].line} {weak[0].rule}: {weak[0].detail}" if weak else "")
            return r.verdict.value, detail.splitlines()[0] if detail else ""
    return FILE_ERROR, "the theorem is missing from the report"


def run_mutant(m: Mutant, budget: float = 20.0, check_true: bool = False, oracle_fn: Oracle = oracle
               ) -> MutantResult:
    """Sort the mutant by the oracle, then check it (TRUE mutants only with ``check_true``: a
    true claim cannot be a soundness bug)."""
    start = time.perf_counter()
    o = judge_mutant(m, oracle_fn)
    verdict, detail = NOT_RUN, ""
    if o.status != TRUE or check_true:
        verdict, detail = run_checker(m, budget)
    return MutantResult(m, o.status, o.reason, verdict, detail, time.perf_counter() - start)


def _run_one(args: tuple[Mutant, float, bool]) -> MutantResult:
    return run_mutant(*args)


def run_mutants(mutants: list[Mutant], budget: float = 20.0, check_true: bool = False, jobs: int = 1,
                progress: Callable[[int, MutantResult], None] | None = None) -> list[MutantResult]:
    """Run mutants, in ``jobs`` worker processes (forked; each checks its mutants in order)."""
    results: list[MutantResult] = []
    if jobs <= 1:
        for i, m in enumerate(mutants):
            results.append(run_mutant(m, budget, check_true))
            if progress:
                progress(i, results[-1])
        return results
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        for i, r in enumerate(pool.map(_run_one, [(m, budget, check_true) for m in mutants], chunksize=4)):
            results.append(r)
            if progress:
                progress(i, r)
    return results


#: When a theorem's mutants are capped, the kinds that can make a false claim with a connected
#: chain are taken first (a kind at a time, round robin), then the others.
KIND_PRIORITY = (("claim+end", "claim+start", "declaration", "relation", "swap", "tolerance", "rule+claim",
                  "range", "domain"), ("claim", "drop", "step", "rule"))


#: Mutants of each theorem in the slow tier's set (about 1100 in all, some 5 minutes on 2 cores).
FULL_PER_THEOREM = 14


def per_theorem(mutants: list[Mutant], cap: int | None) -> list[Mutant]:
    """At most ``cap`` mutants of each theorem (see :data:`KIND_PRIORITY`), in library order."""
    if cap is None:
        return list(mutants)
    chosen: set[int] = set()
    by_theorem: dict[tuple[str, str], dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for i, m in enumerate(mutants):
        by_theorem[(m.file, m.theorem)][m.kind].append(i)
    for kinds in by_theorem.values():
        taken = 0
        for group in KIND_PRIORITY:
            queues = [list(reversed(kinds[k])) for k in group if kinds.get(k)]
            while taken < cap and any(queues):
                for q in queues:
                    if q and taken < cap:
                        chosen.add(q.pop())
                        taken += 1
    return [m for i, m in enumerate(mutants) if i in chosen]


def select(mutants: list[Mutant], sample: int | None, seed: int) -> list[Mutant]:
    """``sample`` mutants drawn with ``seed`` (all when None), in library order."""
    if sample is None or sample >= len(mutants):
        return list(mutants)
    chosen = set(random.Random(seed).sample(range(len(mutants)), sample))
    return [m for i, m in enumerate(mutants) if i in chosen]


@dataclass
class Summary:
    generated: int
    run: int
    oracle: Counter
    false_verdicts: Counter
    by_kind: dict[str, Counter]
    accepted: list[MutantResult]
    partial: list[MutantResult]
    unknown_passed: list[MutantResult]
    seconds: float

    def text(self) -> str:
        lines = [f"mutants generated: {self.generated}; run: {self.run} ({self.seconds:.0f} s)",
                 "oracle: " + ", ".join(f"{k} {self.oracle.get(k, 0)}" for k in (TRUE, FALSE, UNKNOWN)),
                 "verdicts of FALSE mutants: "
                 + ", ".join(f"{k} {v}" for k, v in self.false_verdicts.most_common()),
                 "by kind (TRUE/FALSE/UNKNOWN):"]
        for kind, c in sorted(self.by_kind.items()):
            lines.append(f"  {kind:12s} {c.get(TRUE, 0):5d} {c.get(FALSE, 0):5d} {c.get(UNKNOWN, 0):5d}")
        lines.append(f"false but partial (checked exactly on part of the domain only): {len(self.partial)}")
        for r in self.partial:
            lines.append(f"  {r.mutant.label}: {r.verdict}; {r.why}")
        lines.append(f"ACCEPTED false mutants (soundness bugs): {len(self.accepted)}")
        for r in self.accepted:
            lines.append(f"  {r.mutant.label}\n    verdict {r.verdict}; oracle: {r.why}")
        lines.append(f"passed, oracle UNKNOWN (not counted; for review): {len(self.unknown_passed)}")
        return "\n".join(lines)


def summarise(generated: int, results: list[MutantResult], seconds: float) -> Summary:
    by_kind: dict[str, Counter] = defaultdict(Counter)
    for r in results:
        by_kind[r.mutant.kind][r.oracle] += 1
    return Summary(
        generated, len(results), Counter(r.oracle for r in results),
        Counter(r.verdict for r in results if r.oracle == FALSE), dict(by_kind),
        [r for r in results if r.accepted], [r for r in results if r.partial],
        [r for r in results if r.oracle == UNKNOWN and r.verdict in PASSING], seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutation.library",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=None, help="run this many mutants, drawn with --seed")
    parser.add_argument("--per-theorem", type=int, default=None,
                        help="at most this many mutants of each theorem (by kind, round robin)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="write every result here")
    parser.add_argument("--budget", type=float, default=20.0, help="CPU seconds of one step (default 20)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--check-true", action="store_true", help="also check mutants the oracle finds TRUE")
    parser.add_argument("--kind", action="append", choices=sorted(MUTATION_KINDS), help="only these kinds")
    parser.add_argument("--theorem", action="append", help="only these theorems")
    parser.add_argument("--verbose", "-v", action="store_true", help="a line per mutant")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    mutants = library_mutants()
    generated = len(mutants)
    if args.kind:
        mutants = [m for m in mutants if m.kind in args.kind]
    if args.theorem:
        mutants = [m for m in mutants if m.theorem in args.theorem]
    chosen = select(per_theorem(mutants, args.per_theorem), args.sample, args.seed)

    def progress(i: int, r: MutantResult) -> None:
        if args.verbose:
            print(f"[{i + 1}/{len(chosen)}] {r.oracle:7s} {r.verdict:14s} {r.seconds:5.1f}s {r.mutant.label}",
                  flush=True)

    results = run_mutants(chosen, args.budget, args.check_true, args.jobs, progress)
    summary = summarise(generated, results, time.perf_counter() - start)
    print(summary.text())
    if args.json:
        args.json.write_text(json.dumps({"summary": {
            "generated": generated, "run": len(results), "oracle": dict(summary.oracle),
            "false_verdicts": dict(summary.false_verdicts), "seconds": round(summary.seconds, 1)},
            "results": [r.to_json() for r in results]}, indent=1))
    return 1 if summary.accepted else 0


if __name__ == "__main__":
    sys.exit(main())
