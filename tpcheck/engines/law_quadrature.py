"""Expectations against the declared laws by quadrature at the working precision of mpmath:
Gauss-Hermite (exact for polynomials of known degree) and tanh-sinh for Gaussian blocks of
dimension 1 or 2, and each law's own one-dimensional integral otherwise."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import mpmath
import sympy

from tpcheck.engines.heads import Expectation
from tpcheck.engines.laws import GaussianComponent, IIDFamily, MatrixEnsemble, Normal, joint_gaussian
from tpcheck.engines.mpmath_eval import evaluate, quad
from tpcheck.errors import EvaluationError


class Randoms(Protocol):
    """The law of every random symbol (the kernel's ``Context`` is one)."""

    laws: Mapping[Any, Any]

    @property
    def random_symbols(self) -> set[sympy.Symbol]: ...


def quadrature_hook(ctx: Randoms):  # noqa: ANN201
    """An ``E[.]`` evaluator by nested quadrature over the laws of the random symbols: each
    independent block (one random symbol, or the coordinates of one Gaussian vector that
    occur) is integrated against its law; at most two random coordinates in all."""

    def expect(e: Expectation, env: dict) -> Any:
        arg = e.args[0]
        randoms = sorted(arg.free_symbols & ctx.random_symbols, key=lambda s: s.name)
        if len(randoms) > 2:
            raise EvaluationError("quadrature witness handles at most two random objects")
        if any(isinstance(ctx.laws[z], IIDFamily | MatrixEnsemble) for z in randoms):
            raise EvaluationError("iid families and random matrices are witnessed by "
                                  "Monte-Carlo, not by quadrature")
        blocks: list[list[sympy.Symbol]] = []
        for z in randoms:
            law = ctx.laws[z]
            for b in blocks:
                other = ctx.laws[b[0]]
                if (isinstance(law, GaussianComponent) and isinstance(other, GaussianComponent)
                        and law.vector == other.vector):
                    b.append(z)
                    break
            else:
                blocks.append([z])

        def integrate(i: int, inner_env: dict) -> Any:
            if i == len(blocks):
                return evaluate(arg, inner_env, "mpmath", expect)
            block = blocks[i]
            law = ctx.laws[block[0]]
            if isinstance(law, GaussianComponent | Normal):
                mean, cov = joint_gaussian(block, ctx.laws)
                mu = [evaluate(m, inner_env, "mpmath") for m in mean]
                c = [[evaluate(x, inner_env, "mpmath") for x in row] for row in cov]
                return gaussian_block_expectation(block, mu, c, lambda vals: integrate(
                    i + 1, {**inner_env, **dict(zip(block, vals, strict=True))}),
                    total_degree(_integer_exponents(arg, inner_env), block))
            params = [evaluate(p, inner_env, "mpmath") for p in law.parameters]
            z = block[0]
            return law.mpmath_expectation(lambda x: integrate(i + 1, {**inner_env, z: x}), *params)

        return integrate(0, env)

    return expect


def _integer_exponents(arg: sympy.Expr, env: dict) -> sympy.Expr:
    """``arg`` with the integer parameters the instance fixes put in as integers, so that
    Z^(2k) at k = 5 is seen as the polynomial Z^10 (its degree picks the Gauss-Hermite rule)."""
    fixed = {}
    for symbol in arg.free_symbols:
        value = env.get(symbol)
        if symbol.is_integer and value is not None and not isinstance(value, mpmath.mpc):
            try:
                if value == int(value):
                    fixed[symbol] = sympy.Integer(int(value))
            except (TypeError, ValueError, OverflowError):
                continue
    return arg.xreplace(fixed) if fixed else arg


def total_degree(arg: sympy.Expr, block: list) -> int | None:
    """Total degree of ``arg`` as a polynomial in the block's variables, or None."""
    try:
        return sympy.Poly(arg, *block).total_degree()
    except (sympy.PolynomialError, sympy.GeneratorsNeeded):
        return None


_HERMITE: dict[tuple[int, int], tuple[list, list]] = {}


def hermite_rule(n: int) -> tuple[list, list]:
    """Nodes and weights of E[g(Z)], Z ~ N(0, 1), exact for polynomials of degree < 2n."""
    key = (n, mpmath.mp.prec)
    if key not in _HERMITE:
        if n == 1:
            _HERMITE[key] = ([mpmath.mpf(0)], [mpmath.mpf(1)])
        else:
            xs, ws = mpmath.gauss_quadrature(n, "hermite")
            root_pi = mpmath.sqrt(mpmath.pi)
            _HERMITE[key] = ([mpmath.sqrt(2) * x for x in xs], [w / root_pi for w in ws])
    return _HERMITE[key]


def gaussian_block_expectation(block: list, mu: list, c: list, f: Any,
                               degree: int | None = None) -> Any:
    """E[f(X)] for X ~ N(mu, c) of dimension 1 or 2 (Cholesky: x = mu + L z); a polynomial
    integrand of known degree by Gauss-Hermite quadrature (exact), others by tanh-sinh."""
    norm = 1 / mpmath.sqrt(2 * mpmath.pi)
    line = [-mpmath.inf, 0, mpmath.inf]
    if len(block) == 1:
        sd = mpmath.sqrt(c[0][0])
        if degree is not None:
            zs, ws = hermite_rule(degree // 2 + 1)
            return mpmath.fsum(w * f([mu[0] + sd * z]) for z, w in zip(zs, ws, strict=True))
        return quad(lambda z: f([mu[0] + sd * z]) * mpmath.exp(-z * z / 2) * norm, line)
    l11 = mpmath.sqrt(c[0][0])
    l21 = c[1][0] / l11 if l11 else mpmath.mpf(0)
    l22 = mpmath.sqrt(max(mpmath.mpf(0), c[1][1] - l21 * l21))
    if degree is not None:
        zs, ws = hermite_rule(degree // 2 + 1)
        return mpmath.fsum(
            w1 * w2 * f([mu[0] + l11 * z1, mu[1] + l21 * z1 + l22 * z2])
            for z1, w1 in zip(zs, ws, strict=True) for z2, w2 in zip(zs, ws, strict=True))
    return quad(
        lambda z1, z2: f([mu[0] + l11 * z1, mu[1] + l21 * z1 + l22 * z2])
        * mpmath.exp(-(z1 * z1 + z2 * z2) / 2) * norm * norm, line, line)


