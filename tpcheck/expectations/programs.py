"""Tensor-program averages: the large-width limit of avg(psi(h^1, ..., h^k)) by the Master
Theorem, for a program written with the proof language's vectors and Gaussian matrices.

Pure functions over :mod:`tpcheck.engines.netsor`; ``ctx`` is any
:class:`~tpcheck.expectations.evaluators.Randoms`. Brute-force references, in the tests: the
moments of the semicircle and Marchenko-Pastur laws by enumerating non-crossing pairings and
partitions, and Isserlis' theorem for Gaussian programs without nonlinearities.
"""

from __future__ import annotations

import sympy

from tpcheck.engines.heads import Avg
from tpcheck.engines.netsor import ProgramCompiler, ProgramError, master_theorem_limit
from tpcheck.expectations.evaluators import Randoms
from tpcheck.expectations.forms import polynomially_bounded


def average_limit(avg: Avg, ctx: Randoms, n: sympy.Symbol, dps: int) -> tuple[sympy.Expr, bool]:
    """lim_{n -> oo} avg(psi(h^1, ..., h^k)) = E psi(Z^{h^1}, ..., Z^{h^k}), with whether the
    value is exact (False: a Z-expectation rests on mpmath quadrature at ``dps`` digits).

    The average is compiled into one tensor program of width n (initial vectors, MatMul by A
    or A^T, coordinatewise nonlinearities, averages as NETSOR+ moments); ZInit is Gaussian,
    Z^{W y} = Zhat + Zdot with Cov(Zhat^{W y}, Zhat^{W y'}) = sigma^2 E[Z^y Z^{y'}] per
    orientation and Zdot^{W y} = sigma^2 sum_x Z^x E[d Z^y / d Zhat^{W^T x}]. Conditions: one
    width n for every vector and matrix, the nonlinearities and psi polynomially bounded;
    otherwise :class:`~tpcheck.engines.netsor.ProgramError` says which fails.
    Reference: Yang, Tensor Programs I (2019), III (2020); theory facts §4.2."""
    comp = ProgramCompiler(ctx.laws, n)
    phi, inputs = comp.average(avg)
    randoms = {sympy.Symbol(x, real=True) for x in comp.program.vectors}
    for ins in comp.program.instructions:
        if ins.kind in ("nonlin", "moment") and not polynomially_bounded(ins.args[0], randoms):
            raise ProgramError(f"the nonlinearity {ins.args[0]} is not polynomially bounded")
    if not polynomially_bounded(phi, randoms):
        raise ProgramError(f"the test function {phi} is not polynomially bounded")
    return master_theorem_limit(comp.program, phi, inputs, dps=dps)
