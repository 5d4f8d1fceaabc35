"""``let f ~ MLP(n, depth = L, phi = relu, sigma_w2 = 2, sigma_b2 = 0, parametrization = ntk)``:
a depth-L multilayer perceptron of width n, written as the tensor program it is.

The network on inputs x in R^d (Lee et al. 2018, Jacot et al. 2018, in the NTK parametrization):

    h^1(x) = sigma_w W^1 x / sqrt(d) + sigma_b b^1,
    h^l(x) = sigma_w W^l phi(h^{l-1}(x)) / sqrt(n) + sigma_b b^l      (l = 2..L),
    f(x)   = sigma_w v . phi(h^L(x)) / sqrt(n) + sigma_b b^{L+1},

all weights and biases iid N(0, 1). As a tensor program (Yang, Tensor Programs I-II) the
first-layer vectors h^1(x) are initial vectors, jointly Gaussian over the inputs with
covariance K^1(x, y) = sigma_w^2 x.y / d + sigma_b^2; W^l (l >= 2) are the program's n x n
matrices with entries N(0, sigma_w^2 / n); the biases sigma_b b^l are initial vectors of
variance sigma_b^2; v is an initial vector of variance 1. The heads are the network's
empirical kernels at width n, random variables whose limits the Master Theorem gives:

    nngp(f, x, y) = sigma_w^2 avg(phi(h^L(x)) phi(h^L(y))) + sigma_b^2
                  = E[f(x) f(y) | the hidden layers],
    ntk(f, x, y)  = sum over all parameters theta of df(x)/dtheta df(y)/dtheta
                  = nngp(f, x, y) + sum_{l=1}^{L} sigma_w^2 avg(g^l(x) g^l(y)) K^l(x, y),

with the backward vectors g^L = v phi'(h^L), g^l = phi'(h^l) (W^{l+1})^T g^{l+1} (NETSOR-T: the
backward pass multiplies by the transposes of the same matrices), df/dh^l = sigma_w g^l / sqrt(n),
and K^l(x, y) = sigma_w^2 avg(phi(h^{l-1}(x)) phi(h^{l-1}(y))) + sigma_b^2 for l >= 2. In the
standard parametrization the forward pass at initialisation, hence nngp, is the same; its NTK
grows with n (the weights' gradients are not scaled by 1/sqrt(n)), so ``ntk`` is refused there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sympy

from tpcheck.engines.heads import Avg, MatVec

MAX_DEPTH = 12
PARAMETRIZATIONS = ("ntk", "standard")


@dataclass
class MLPSpec:
    """A declared MLP and the tensor-program objects it stands for."""

    name: str
    width: sympy.Expr
    depth: int
    phi: Callable[[sympy.Expr], sympy.Expr]
    phi_name: str
    sigma_w2: sympy.Expr
    sigma_b2: sympy.Expr
    parametrization: str
    inputs: list[tuple[sympy.Expr, ...]] = field(default_factory=list)
    first: list[sympy.Symbol] = field(default_factory=list)  # h^1(x) for each input
    matrices: list[sympy.Symbol] = field(default_factory=list)  # W^2 .. W^L
    biases: list[sympy.Symbol | None] = field(default_factory=list)  # sigma_b b^2 .. b^L
    readout: sympy.Symbol | None = None  # v

    def phi_prime(self, u: sympy.Expr) -> sympy.Expr:
        """phi'(u), by sympy's derivative of phi (relu' = step, erf' = 2 exp(-u^2)/sqrt(pi))."""
        t = sympy.Dummy("t", real=True)
        return sympy.diff(self.phi(t), t).xreplace({t: u})

    def input_kernel(self, x: tuple[sympy.Expr, ...], y: tuple[sympy.Expr, ...]) -> sympy.Expr:
        """K^1(x, y) = sigma_w^2 x.y / d + sigma_b^2."""
        d = len(x)
        return self.sigma_w2 * sum((a * b for a, b in zip(x, y, strict=True)),
                                   sympy.Integer(0)) / d + self.sigma_b2

    def preactivations(self, x: tuple[sympy.Expr, ...]) -> list[sympy.Expr]:
        """h^1(x), ..., h^L(x) as vector expressions of the program."""
        h = [self.first[self.inputs.index(x)]]
        for w, b in zip(self.matrices, self.biases, strict=True):
            nxt = MatVec(w, sympy.Integer(0), self.phi(h[-1]))
            h.append(nxt if b is None else nxt + b)
        return h

    def nngp(self, x: tuple[sympy.Expr, ...], y: tuple[sympy.Expr, ...]) -> sympy.Expr:
        """sigma_w^2 avg(phi(h^L(x)) phi(h^L(y))) + sigma_b^2."""
        hx, hy = self.preactivations(x)[-1], self.preactivations(y)[-1]
        return self.sigma_w2 * Avg(self.phi(hx) * self.phi(hy)) + self.sigma_b2

    def ntk(self, x: tuple[sympy.Expr, ...], y: tuple[sympy.Expr, ...]) -> sympy.Expr:
        """The empirical NTK: nngp + sum_l sigma_w^2 avg(g^l(x) g^l(y)) K^l(x, y)."""
        hx, hy = self.preactivations(x), self.preactivations(y)
        assert self.readout is not None
        gx = [self.readout * self.phi_prime(hx[-1])]
        gy = [self.readout * self.phi_prime(hy[-1])]
        for level in range(self.depth - 1, 0, -1):  # g^l from g^{l+1} through (W^{l+1})^T
            w = self.matrices[level - 1]
            gx.insert(0, self.phi_prime(hx[level - 1]) * MatVec(w, sympy.Integer(1), gx[0]))
            gy.insert(0, self.phi_prime(hy[level - 1]) * MatVec(w, sympy.Integer(1), gy[0]))
        total = self.nngp(x, y)
        for level in range(1, self.depth + 1):
            if level == 1:
                k = self.input_kernel(x, y)
            else:
                k = self.sigma_w2 * Avg(self.phi(hx[level - 2]) * self.phi(hy[level - 2])) + self.sigma_b2
            total += self.sigma_w2 * Avg(gx[level - 1] * gy[level - 1]) * k
        return total
