"""Independent numeric evaluation of elaborated expressions: mpmath (high precision) and numpy.

This is the witnesses' path: it walks the sympy tree itself and maps each head to an mpmath or
numpy function, so it shares no simplification code with the exact rules it cross-checks.
Precision is always set by the caller through ``mpmath.workdps``; nothing here changes it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np
import sympy

from tpcheck.engines.heads import Expectation, narayana, pairings, relu
from tpcheck.errors import EvaluationError

MAX_SUM_TERMS = 20_000


def _count_pairings(m: Any) -> int:
    """Perfect matchings of m points by enumeration (the witness's own path; m <= 12)."""
    from tpcheck.engines.combinatorics import perfect_matchings

    if int(m) != m or m < 0 or m > 12:
        raise EvaluationError("pairings are counted by enumeration only for m <= 12")
    return sum(1 for _ in perfect_matchings(list(range(int(m))))) if int(m) % 2 == 0 else 0


def _mp_catalan(k):  # noqa: ANN001, ANN202
    return mpmath.binomial(2 * k, k) / (k + 1)


def _mp_narayana(k, j):  # noqa: ANN001, ANN202
    return mpmath.binomial(k, j) * mpmath.binomial(k, j - 1) / k


_MPMATH_FUNCS: dict[type, Callable[..., Any]] = {
    sympy.exp: mpmath.exp,
    sympy.log: mpmath.log,
    sympy.sin: mpmath.sin,
    sympy.cos: mpmath.cos,
    sympy.tan: mpmath.tan,
    sympy.tanh: mpmath.tanh,
    sympy.sinh: mpmath.sinh,
    sympy.cosh: mpmath.cosh,
    sympy.atan: mpmath.atan,
    sympy.asin: mpmath.asin,
    sympy.acos: mpmath.acos,
    sympy.erf: mpmath.erf,
    sympy.gamma: mpmath.gamma,
    sympy.factorial: mpmath.factorial,
    sympy.factorial2: mpmath.fac2,
    sympy.binomial: mpmath.binomial,
    sympy.catalan: _mp_catalan,
    sympy.FallingFactorial: mpmath.ff,
    sympy.RisingFactorial: mpmath.rf,
    sympy.Abs: abs,
    narayana: _mp_narayana,
    pairings: lambda m: mpmath.mpf(_count_pairings(m)),
    relu: lambda x: x if x > 0 else mpmath.mpf(0),
    sympy.sign: mpmath.sign,
    # sympy's Heaviside(x, H0) carries its value at 0 (1/2 by default).
    sympy.Heaviside: lambda x, h0=0.5: (
        mpmath.mpf(1) if x > 0 else mpmath.mpf(0) if x < 0 else mpmath.mpf(h0)),
}


def _np_scalar(f: Callable[..., Any]) -> Callable[..., Any]:
    vec = np.vectorize(f, otypes=[float])

    def apply(*xs: Any) -> Any:
        if any(isinstance(x, np.ndarray) for x in xs):
            return vec(*xs)
        return float(f(*(float(x) for x in xs)))

    return apply


_NUMPY_FUNCS: dict[type, Callable[..., Any]] = {
    sympy.exp: np.exp,
    sympy.log: np.log,
    sympy.sin: np.sin,
    sympy.cos: np.cos,
    sympy.tan: np.tan,
    sympy.tanh: np.tanh,
    sympy.sinh: np.sinh,
    sympy.cosh: np.cosh,
    sympy.atan: np.arctan,
    sympy.asin: np.arcsin,
    sympy.acos: np.arccos,
    sympy.erf: _np_scalar(math.erf),
    sympy.gamma: _np_scalar(math.gamma),
    sympy.factorial: _np_scalar(lambda x: math.gamma(x + 1)),
    sympy.factorial2: _np_scalar(lambda x: float(mpmath.fac2(x))),
    sympy.binomial: _np_scalar(lambda a, b: float(mpmath.binomial(a, b))),
    sympy.catalan: _np_scalar(lambda k: float(_mp_catalan(k))),
    sympy.FallingFactorial: _np_scalar(lambda x, k: float(mpmath.ff(x, k))),
    sympy.RisingFactorial: _np_scalar(lambda x, k: float(mpmath.rf(x, k))),
    sympy.Abs: np.abs,
    narayana: _np_scalar(lambda k, j: float(_mp_narayana(k, j))),
    pairings: _np_scalar(lambda m: float(_count_pairings(m))),
    relu: lambda x: np.maximum(x, 0.0),
    sympy.sign: np.sign,
    sympy.Heaviside: lambda x, h0=0.5: np.where(np.asarray(x) > 0, 1.0,
                                                np.where(np.asarray(x) < 0, 0.0, float(h0))),
}


class _Backend:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.funcs = _MPMATH_FUNCS if kind == "mpmath" else _NUMPY_FUNCS
        self.heads: dict[type, HeadHook] = {}

    def number(self, r: sympy.Rational) -> Any:
        if self.kind == "mpmath":
            return mpmath.mpf(int(r.p)) / int(r.q)
        return float(r.p) / float(r.q) if abs(r.p) < 2**1000 else float(sympy.Float(r, 20))

    def power(self, base: Any, exponent: Any) -> Any:
        if self.kind == "mpmath":
            return mpmath.power(base, exponent)
        return np.power(base, exponent)


ExpectationHook = Callable[[Expectation, dict], Any]
HeadHook = Callable[[sympy.Basic, dict], Any]


def evaluate(
    expr: sympy.Basic,
    env: dict[sympy.Symbol, Any],
    backend: str = "mpmath",
    expectation: ExpectationHook | None = None,
    heads: dict[type, HeadHook] | None = None,
) -> Any:
    """Value of ``expr`` with the symbols of ``env`` substituted.

    ``backend`` is ``"mpmath"`` (at the caller's ``mpmath.workdps``) or ``"numpy"`` (floats and
    arrays). ``expectation`` evaluates ``E[.]`` nodes; without it they are an error. ``heads``
    maps further head types (whose value depends on the theorem, like ``moment_sum``) to
    evaluators called with the node and the environment.
    """
    b = _Backend(backend)
    b.heads = heads or {}
    return _eval(expr, dict(env), b, expectation)


def _eval(e: sympy.Basic, env: dict, b: _Backend, hook: ExpectationHook | None) -> Any:  # noqa: C901
    if e in env:
        return env[e]
    if e.is_Rational:
        return b.number(e)
    if e.is_Float:
        return mpmath.mpf(e) if b.kind == "mpmath" else float(e)
    if e is sympy.pi:
        return mpmath.pi if b.kind == "mpmath" else math.pi
    if e is sympy.E:
        return mpmath.e if b.kind == "mpmath" else math.e
    if e is sympy.oo:
        return mpmath.inf if b.kind == "mpmath" else math.inf
    if e is sympy.I:
        return mpmath.mpc(0, 1) if b.kind == "mpmath" else 1j
    if e.is_Symbol:
        raise EvaluationError(f"no value for symbol {e}")
    if isinstance(e, sympy.Indexed):
        idx = [_eval(i, env, b, hook) for i in e.indices]
        key = e.base[tuple(sympy.Integer(int(i)) for i in idx)]
        if key not in env:
            raise EvaluationError(f"no value for {key}")
        return env[key]
    if e.is_Add:
        total = _eval(e.args[0], env, b, hook)
        for a in e.args[1:]:
            total = total + _eval(a, env, b, hook)
        return total
    if e.is_Mul:
        total = _eval(e.args[0], env, b, hook)
        for a in e.args[1:]:
            total = total * _eval(a, env, b, hook)
        return total
    if e.is_Pow:
        base, exp = e.args
        if exp == sympy.Rational(1, 2):
            v = _eval(base, env, b, hook)
            return mpmath.sqrt(v) if b.kind == "mpmath" else np.sqrt(v)
        if exp.is_Integer:
            return b.power(_eval(base, env, b, hook), int(exp))
        return b.power(_eval(base, env, b, hook), _eval(exp, env, b, hook))
    if isinstance(e, sympy.Piecewise):
        return _eval_piecewise(e, env, b, hook)
    if isinstance(e, sympy.core.relational.Relational):
        lhs, rhs = _eval(e.lhs, env, b, hook), _eval(e.rhs, env, b, hook)
        return _RELATIONS[e.rel_op](lhs, rhs)
    if type(e) in b.heads:
        return b.heads[type(e)](e, env)
    if isinstance(e, Expectation):
        if hook is None:
            raise EvaluationError(f"no numeric method for {e}")
        return hook(e, env)
    if isinstance(e, sympy.Sum | sympy.Product):
        return _eval_sum_product(e, env, b, hook)
    if isinstance(e, sympy.Integral):
        return _eval_integral(e, env, b, hook)
    f = b.funcs.get(type(e))
    if f is None:
        for cls, g in b.funcs.items():
            if isinstance(e, cls):
                f = g
                break
    if f is None:
        raise EvaluationError(f"no numeric method for {type(e).__name__}")
    return f(*(_eval(a, env, b, hook) for a in e.args))


_RELATIONS = {
    ">=": lambda a, b: a >= b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
}


def _eval_piecewise(e: sympy.Piecewise, env: dict, b: _Backend, hook) -> Any:  # noqa: ANN001
    values = [_eval(expr, env, b, hook) for expr, _ in e.args]
    conds = [True if c is sympy.true else _eval(c, env, b, hook) for _, c in e.args]
    if b.kind == "numpy" and any(isinstance(c, np.ndarray) for c in conds):
        shape = np.broadcast_shapes(*[np.shape(c) for c in conds])
        return np.select([np.broadcast_to(c, shape) for c in conds],
                         [np.broadcast_to(v, shape) for v in values])
    for v, c in zip(values, conds, strict=True):
        if c:
            return v
    raise EvaluationError("no branch of a piecewise expression applies")


def quad(f: Callable[..., Any], *intervals: list) -> Any:
    """mpmath.quad that refuses to return a value whose error estimate is above the working
    precision (discontinuous or badly aligned integrands end as EvaluationError)."""
    value, err = mpmath.quad(f, *intervals, error=True)
    scale = max(mpmath.mpf(1), abs(value))
    if err > mpmath.mpf(10) ** (-(mpmath.mp.dps - 8)) * scale:
        raise EvaluationError(f"quadrature error estimate {mpmath.nstr(err, 3)} is too large")
    return value


def _eval_sum_product(e: sympy.Sum | sympy.Product, env: dict, b: _Backend, hook) -> Any:  # noqa: ANN001
    if len(e.limits) != 1:
        raise EvaluationError("nested limits in one sum are not supported numerically")
    var, lo, hi = e.limits[0]
    lo_v, hi_v = _eval(lo, env, b, hook), _eval(hi, env, b, hook)
    lo_i, hi_i = int(lo_v), int(hi_v)
    if lo_i != lo_v or hi_i != hi_v:
        raise EvaluationError("sum bounds must be integers")
    if hi_i - lo_i + 1 > MAX_SUM_TERMS:
        raise EvaluationError(f"sum has more than {MAX_SUM_TERMS} terms")
    is_sum = isinstance(e, sympy.Sum)
    acc: Any = b.number(sympy.Integer(0 if is_sum else 1))
    for i in range(lo_i, hi_i + 1):
        env[var] = b.number(sympy.Integer(i))
        v = _eval(e.function, env, b, hook)
        acc = acc + v if is_sum else acc * v
    env.pop(var, None)
    return acc


def _eval_integral(e: sympy.Integral, env: dict, b: _Backend, hook) -> Any:  # noqa: ANN001
    if b.kind != "mpmath" or len(e.limits) != 1 or len(e.limits[0]) != 3:
        raise EvaluationError("only one-dimensional definite integrals are evaluated (mpmath)")
    var, lo, hi = e.limits[0]
    a, c = _eval(lo, env, b, hook), _eval(hi, env, b, hook)

    def integrand(x):  # noqa: ANN001, ANN202
        inner = dict(env)
        inner[var] = x
        return _eval(e.function, inner, b, hook)

    return quad(integrand, [a, c])


#: Digits a numeric check works to unless the file asks for others (``crosscheck mpmath digits
#: D``); never fewer than 15, whatever the file asks (:func:`tpcheck.kernel.proof.working_digits`).
DEFAULT_DIGITS = 30
#: Extra digits the numeric rule and the mpmath witness compute with beyond the working digits
#: (master_theorem computes its quadratures at D + 10).
GUARD_DIGITS = 15


def digits_seen(a: object, b: object, cap: int) -> int:
    """Significant digits on which two floating values agree: floor(-log10 |a - b| / max(1,
    |a|, |b|)), capped at ``cap`` (the digits asked for: the guard digits are not claimed)."""
    scale = max(mpmath.mpf(1), abs(a), abs(b))
    err = abs(a - b) / scale
    if err == 0:
        return cap
    return max(0, min(cap, int(mpmath.floor(-mpmath.log10(err)))))
