"""Deep MLPs as tensor programs, and the kernel recursions their limits satisfy.

The network on inputs x in R^d (Lee et al. 2018, Jacot et al. 2018; NTK parametrization):

    h^1(x) = sigma_w W^1 x / sqrt(d) + sigma_b b^1,
    h^l(x) = sigma_w W^l phi(h^{l-1}(x)) / sqrt(n) + sigma_b b^l      (l = 2..L),
    f(x)   = sigma_w v . phi(h^L(x)) / sqrt(n) + sigma_b b^{L+1},

all weights and biases iid N(0, 1). As a tensor program (Yang, Tensor Programs I-II) the
first-layer vectors h^1(x) are initial vectors, jointly Gaussian over the inputs with covariance
K^1(x, y) = sigma_w^2 x.y / d + sigma_b^2; W^l (l >= 2) are the program's n x n matrices with
entries N(0, sigma_w^2 / n); the biases sigma_b b^l are initial vectors of variance sigma_b^2;
v is an initial vector of variance 1. The heads are the network's empirical kernels at width
n, random variables whose limits the Master Theorem gives:

    nngp(f, x, y) = sigma_w^2 avg(phi(h^L(x)) phi(h^L(y))) + sigma_b^2,
    ntk(f, x, y)  = sum over all parameters theta of df(x)/dtheta df(y)/dtheta
                  = nngp(f, x, y) + sum_{l=1}^{L} sigma_w^2 avg(g^l(x) g^l(y)) K^l(x, y),

with the backward vectors g^L = v phi'(h^L), g^l = phi'(h^l) (W^{l+1})^T g^{l+1} (NETSOR-T),
df/dh^l = sigma_w g^l / sqrt(n), K^l = sigma_w^2 avg(phi(h^{l-1}(x)) phi(h^{l-1}(y))) + sigma_b^2.

The recursions (theory facts §5; Jacot et al. 2018, Arora et al. 2019):

    Sigma^1 = K^1,  Sigma^{l+1} = sigma_w^2 E_{Sigma^l}[phi(u) phi(v)] + sigma_b^2,
    Theta^0 = Sigma^1,  Theta^l = Sigma^{l+1} + sigma_w^2 E_{Sigma^l}[phi'(u) phi'(v)] Theta^{l-1},

nngp -> Sigma^{L+1}(x, y) and ntk -> Theta^L(x, y). The dual functions E_Sigma[phi(u) phi(v)] and
E_Sigma[phi'(u) phi'(v)] are closed forms for relu (arc-cosine kernels of degree 1 and 0), erf
(Williams' kernel and (4/pi) det(I + 2 Sigma)^(-1/2)) and the identity (the covariance, and 1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sympy

from tpcheck.engines.gaussian import erf_derivative_kernel, erf_kernel, relu_kernel, step_kernel
from tpcheck.engines.heads import Avg, MatVec
from tpcheck.engines.laws import GaussianMatrix, InitialVectors

MAX_DEPTH = 12
PARAMETRIZATIONS = ("ntk", "standard")
Inputs = tuple[sympy.Expr, ...]

#: phi -> (E[phi(u) phi(v)], E[phi'(u) phi'(v)]) as functions of (q1, q2, c), where closed.
DUALS: dict[str, tuple[Callable, Callable]] = {
    "relu": (relu_kernel, step_kernel),
    "erf": (erf_kernel, erf_derivative_kernel),
    "identity": (lambda q1, q2, c: c, lambda q1, q2, c: sympy.Integer(1)),
}


class NetworkHead(sympy.Function):
    """``nngp(f, x, y)`` or ``ntk(f, x, y)`` of a network whose depth is a symbol: the
    empirical kernel at width n (args: kind, network name, x, y, depth, width). Opaque to
    the Master Theorem (it still depends on n); the ``deep_kernel_induction`` rule takes it."""

    nargs = 6

    def _sympystr(self, printer) -> str:  # noqa: ANN001
        kind, name, x, y, depth, _ = self.args
        return f"{kind}({name}, {list(x)}, {list(y)}; depth {printer.doprint(depth)})"


class NetworkOutput(sympy.Function):
    """``output(f, x)``: the network's output f(x) at width n (args: network name, x), a random
    variable of order 1 (not an average); the ``moment_method`` rule takes it."""

    nargs = 2

    def _sympystr(self, printer) -> str:  # noqa: ANN001
        name, x = self.args
        return f"{name}({list(x)})"


class KernelRecursion(sympy.Function):
    """``nngp_limit(f, x, y)`` or ``ntk_limit(f, x, y)`` of a network whose depth is a symbol:
    Sigma^{L+1}(x, y) or Theta^L(x, y) of the recursions (args: kind, network name, x, y, depth)."""

    nargs = 5

    def _sympystr(self, printer) -> str:  # noqa: ANN001
        kind, name, x, y, depth = self.args
        return f"{kind}_limit({name}, {list(x)}, {list(y)}; depth {printer.doprint(depth)})"


@dataclass
class NetworkSpec:
    """A declared MLP: its settings, its inputs, and (for a concrete depth) the tensor-program
    objects it stands for, with their laws."""

    name: str
    width: sympy.Expr
    depth: sympy.Expr  # an integer, or an expression in a natural parameter
    phi: sympy.Lambda  # phi(u) substitutes u for its variable
    phi_name: str
    sigma_w2: sympy.Expr
    sigma_b2: sympy.Expr
    parametrization: str
    inputs: list[Inputs] = field(default_factory=list)
    first: list[sympy.Symbol] = field(default_factory=list)  # h^1(x) for each input
    matrices: list[sympy.Symbol] = field(default_factory=list)  # W^2 .. W^L
    biases: list[sympy.Symbol | None] = field(default_factory=list)  # sigma_b b^2 .. b^L
    readout: sympy.Symbol | None = None  # v

    # ---- the program ---------------------------------------------------------------------

    def at_depth(self, depth: int) -> NetworkSpec:
        """The same network at a concrete depth, with fresh program objects."""
        return NetworkSpec(self.name, self.width, sympy.Integer(depth), self.phi, self.phi_name,
                           self.sigma_w2, self.sigma_b2, self.parametrization, list(self.inputs))

    def build_program(self) -> dict[sympy.Symbol, object]:
        """Create the program's objects (concrete depth only) and return their laws."""
        if not self.depth.is_Integer:
            raise ValueError(f"the depth of {self.name} is not a number")
        laws: dict[sympy.Symbol, object] = {}
        name = self.name
        if self.inputs:
            self.first = [sympy.Symbol(f"{name}.h1[{i}]", real=True) for i in range(len(self.inputs))]
            cov = tuple(tuple(sympy.expand(self.input_kernel(x, y)) for y in self.inputs)
                        for x in self.inputs)
            # a Gram matrix sigma_w^2 X X^T / d + sigma_b^2 1 1^T: positive semidefinite as built
            law = InitialVectors(self.width, tuple(self.first), cov,
                                 tuple(sympy.Integer(0) for _ in self.first))
            for s in self.first:
                laws[s] = law
        self.matrices, self.biases = [], []
        for level in range(2, int(self.depth) + 1):
            w = sympy.Symbol(f"{name}.W{level}")
            laws[w] = GaussianMatrix(self.width, self.sigma_w2, self.sigma_w2)
            self.matrices.append(w)
            b = None
            if self.sigma_b2 != 0:
                b = sympy.Symbol(f"{name}.b{level}", real=True)
                laws[b] = InitialVectors(self.width, (b,), ((self.sigma_b2,),), (sympy.Integer(0),))
            self.biases.append(b)
        self.readout = sympy.Symbol(f"{name}.v", real=True)
        laws[self.readout] = InitialVectors(self.width, (self.readout,), ((sympy.Integer(1),),),
                                            (sympy.Integer(0),))
        return laws

    def phi_prime(self, u: sympy.Expr) -> sympy.Expr:
        """phi'(u), by sympy's derivative of phi (relu' = step, erf' = 2 exp(-u^2)/sqrt(pi))."""
        t = sympy.Dummy("t", real=True)
        return sympy.diff(self.phi(t), t).xreplace({t: u})

    def input_kernel(self, x: Inputs, y: Inputs) -> sympy.Expr:
        """K^1(x, y) = sigma_w^2 x.y / d + sigma_b^2."""
        return self.sigma_w2 * sum((a * b for a, b in zip(x, y, strict=True)),
                                   sympy.Integer(0)) / len(x) + self.sigma_b2

    def preactivations(self, x: Inputs) -> list[sympy.Expr]:
        """h^1(x), ..., h^L(x) as vector expressions of the program."""
        h = [self.first[self.inputs.index(x)]]
        for w, b in zip(self.matrices, self.biases, strict=True):
            nxt = MatVec(w, sympy.Integer(0), self.phi(h[-1]))
            h.append(nxt if b is None else nxt + b)
        return h

    def nngp(self, x: Inputs, y: Inputs) -> sympy.Expr:
        """The empirical NNGP, sigma_w^2 avg(phi(h^L(x)) phi(h^L(y))) + sigma_b^2."""
        if not self.depth.is_Integer:
            return NetworkHead(sympy.Symbol("nngp"), sympy.Symbol(self.name), sympy.Tuple(*x),
                               sympy.Tuple(*y), self.depth, self.width)
        hx, hy = self.preactivations(x)[-1], self.preactivations(y)[-1]
        return self.sigma_w2 * Avg(self.phi(hx) * self.phi(hy)) + self.sigma_b2

    def ntk(self, x: Inputs, y: Inputs) -> sympy.Expr:
        """The empirical NTK: nngp + sum_l sigma_w^2 avg(g^l(x) g^l(y)) K^l(x, y)."""
        if not self.depth.is_Integer:
            return NetworkHead(sympy.Symbol("ntk"), sympy.Symbol(self.name), sympy.Tuple(*x),
                               sympy.Tuple(*y), self.depth, self.width)
        depth = int(self.depth)
        hx, hy = self.preactivations(x), self.preactivations(y)
        assert self.readout is not None
        gx = [self.readout * self.phi_prime(hx[-1])]
        gy = [self.readout * self.phi_prime(hy[-1])]
        for level in range(depth - 1, 0, -1):  # g^l from g^{l+1} through (W^{l+1})^T
            w = self.matrices[level - 1]
            gx.insert(0, self.phi_prime(hx[level - 1]) * MatVec(w, sympy.Integer(1), gx[0]))
            gy.insert(0, self.phi_prime(hy[level - 1]) * MatVec(w, sympy.Integer(1), gy[0]))
        total = self.nngp(x, y)
        for level in range(1, depth + 1):
            if level == 1:
                k = self.input_kernel(x, y)
            else:
                k = self.sigma_w2 * Avg(self.phi(hx[level - 2]) * self.phi(hy[level - 2])) + self.sigma_b2
            total += self.sigma_w2 * Avg(gx[level - 1] * gy[level - 1]) * k
        return total

    # ---- the recursions --------------------------------------------------------------------

    def duals(self) -> tuple[Callable, Callable] | None:
        """The closed-form dual functions of phi, or None."""
        return DUALS.get(self.phi_name)

    def recursion(self, kind: str, x: Inputs, y: Inputs) -> sympy.Expr:
        """Sigma^{L+1}(x, y) (kind nngp) or Theta^L(x, y) (kind ntk) by the recursions, in
        closed form; a symbolic depth gives the opaque :class:`KernelRecursion`."""
        if not self.depth.is_Integer:
            return KernelRecursion(sympy.Symbol(kind), sympy.Symbol(self.name), sympy.Tuple(*x),
                                   sympy.Tuple(*y), self.depth)
        duals = self.duals()
        if duals is None:
            raise ValueError(f"no closed-form dual kernel for {self.phi_name}")
        return kernel_recursion(kind, int(self.depth), self.input_kernel(x, x), self.input_kernel(y, y),
                                self.input_kernel(x, y), self.sigma_w2, self.sigma_b2, *duals)


def kernel_recursion(kind: str, depth: int, q1: sympy.Expr, q2: sympy.Expr, c: sympy.Expr,
                     sigma_w2: sympy.Expr, sigma_b2: sympy.Expr, dual: Callable,
                     dual_prime: Callable) -> sympy.Expr:
    """Sigma^{L+1}(x, y) or Theta^L(x, y) from Sigma^1 = [[q1, c], [c, q2]] by the recursions
    Sigma^{l+1} = sigma_w^2 dual(Sigma^l) + sigma_b^2 (each entry),
    Theta^0 = Sigma^1(x, y), Theta^l = Sigma^{l+1}(x, y) + sigma_w^2 dual'(Sigma^l) Theta^{l-1}."""
    theta = c
    for _ in range(depth):
        dot = dual_prime(q1, q2, c)
        q1, q2, c = (sigma_w2 * dual(q1, q1, q1) + sigma_b2, sigma_w2 * dual(q2, q2, q2) + sigma_b2,
                     sigma_w2 * dual(q1, q2, c) + sigma_b2)
        theta = c + sigma_w2 * dot * theta
    return c if kind == "nngp" else theta
