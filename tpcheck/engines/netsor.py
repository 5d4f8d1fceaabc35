"""Tensor Programs: a program IR, the Z-calculus, and a finite-width simulation mirror.

A program acts on width-n vectors (theory facts §4). Instructions:

- ``initial``: vectors with iid coordinates across alpha, jointly Gaussian across vectors
  (ZInit: Z^x ~ N(mean, cov) as given);
- ``matrix``: an n x n matrix with iid N(0, sigma^2/n) entries (multiplier sigma^2 for W x); a
  non-square matrix gives its transpose another multiplier (v d_in: for A n x m with entries
  N(0, 1/m), A x has 1 and A^T y has lambda = n/m);
- ``matmul``: y = W x or y = W^T x (NETSOR-T);
- ``lincomb`` and ``nonlin``: coordinatewise functions (sympy expressions in the inputs: relu,
  step, erf, tanh, sin, cos, exp, polynomials).

Z-calculus (Yang, Tensor Programs I-III): Z^{phi(x, ...)} = phi(Z^x, ...); Z^{W y} = Zhat + Zdot,
where Zhat^{W y} are centred Gaussians with Cov(Zhat^{W y}, Zhat^{W y'}) = mult E[Z^y Z^{y'}] within
one orientation (W and W^T count as different) and independent across orientations and of the
initial vectors, and Zdot^{W y} = mult sum_{x : W^T x earlier} Z^x E[d Z^y / d Zhat^{W^T x}]. Every Z
is a sympy expression in the base Gaussians (ZInit and Zhat symbols), so derivatives are exact.

Master Theorem: (1/n) sum_alpha psi(h^1_alpha, ..., h^k_alpha) -> E psi(Z^{h^1}, ..., Z^{h^k}). The
expectation is exact (Isserlis) for polynomial psi and programs, exact in closed form for
relu/step/erf pairs (arc-cosine and erf kernels) and for any polynomial in relu, step and
delta of affine forms (Gaussian integration by parts, conditioning, and orthant probabilities
of up to three centred directions or the normal distribution function of one), and to a
requested precision by mpmath otherwise
(``numeric`` in the result says which). step is sympy's Heaviside(u, 1/2); its value at 0
never matters for a non-degenerate u, and a step of a degenerate direction is refused.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np
import sympy
from sympy.polys.polyerrors import BasePolynomialError

from tpcheck.engines.gaussian import (
    ACTIVATIONS,
    Activation,
    bivariate_expectation,
    erf_kernel,
    polynomial_activation,
    polynomial_expectation,
    relu_kernel,
    step_kernel,
)
from tpcheck.engines.heads import Avg, MatPowVec, MatVec, outermost, relu
from tpcheck.engines.laws import GaussianMatrix, InitialVectors
from tpcheck.engines.mpmath_eval import evaluate
from tpcheck.engines.z_covariance import ZCalculusError, z_calculus_of_program
from tpcheck.errors import TpcheckError
from tpcheck.trusted import rests_on


class ProgramError(TpcheckError):
    """A malformed tensor program (undefined variable, wrong kind, fragment violation)."""


@dataclass(frozen=True)
class Instruction:
    kind: str  # "initial", "matmul", "lincomb", "nonlin"
    out: str
    args: tuple[Any, ...]


@dataclass
class Program:
    """A straight-line tensor program. ``fragment`` is "NETSOR" (no transposes) or "NETSOR-T"."""

    fragment: str = "NETSOR-T"
    instructions: list[Instruction] = field(default_factory=list)
    matrices: dict[str, tuple[sympy.Expr, sympy.Expr]] = field(default_factory=dict)
    initial_cov: dict[tuple[str, str], sympy.Expr] = field(default_factory=dict)
    initial_mean: dict[str, sympy.Expr] = field(default_factory=dict)
    vectors: list[str] = field(default_factory=list)
    scalars: list[str] = field(default_factory=list)

    def _new(self, name: str) -> None:
        if name in self.vectors or name in self.matrices:
            raise ProgramError(f"'{name}' is defined twice")
        self.vectors.append(name)

    def _need(self, name: str) -> None:
        if name not in self.vectors:
            raise ProgramError(f"vector '{name}' is used before it is defined")

    def matrix(self, name: str, variance: Any = 1, transpose_variance: Any = None) -> str:
        if name in self.matrices or name in self.vectors:
            raise ProgramError(f"'{name}' is defined twice")
        v = _num(variance)
        tv = v if transpose_variance is None else _num(transpose_variance)
        self.matrices[name] = (v, tv)
        return name

    def initial(self, name: str, variance: Any = 1, mean: Any = 0) -> str:
        self._new(name)
        self.instructions.append(Instruction("initial", name, ()))
        self.initial_cov[(name, name)] = _num(variance)
        self.initial_mean[name] = _num(mean)
        return name

    def covary(self, a: str, b: str, cov: Any) -> None:
        """Set Cov(Z^a, Z^b) of two initial vectors."""
        self._need(a)
        self._need(b)
        self.initial_cov[(a, b)] = self.initial_cov[(b, a)] = _num(cov)

    def matmul(self, out: str, matrix: str, x: str, transpose: bool = False) -> str:
        if matrix not in self.matrices:
            raise ProgramError(f"'{matrix}' is not a matrix")
        self._need(x)
        if transpose and self.fragment == "NETSOR":
            raise ProgramError(f"NETSOR forbids the transpose of '{matrix}'")
        self._new(out)
        self.instructions.append(Instruction("matmul", out, (matrix, x, transpose)))
        return out

    def lincomb(self, out: str, terms: dict[str, Any]) -> str:
        for x in terms:
            self._need(x)
        self._new(out)
        self.instructions.append(Instruction("lincomb", out, tuple((x, _num(c)) for x, c in terms.items())))
        return out

    def moment(self, out: str, psi: sympy.Expr, inputs: list[str]) -> str:
        """A scalar out = (1/n) sum_alpha psi(inputs_alpha) (NETSOR+); later nonlinearities may
        use it as a parameter. Its limit is E psi(Z^{inputs})."""
        for x in inputs:
            self._need(x)
        stray = {s.name for s in psi.free_symbols} - set(inputs) - set(self.scalars)
        if stray:
            raise ProgramError(f"moment '{out}' uses undefined {sorted(stray)}")
        if out in self.vectors or out in self.scalars or out in self.matrices:
            raise ProgramError(f"'{out}' is defined twice")
        if self.fragment != "NETSOR+" and self.fragment != "NETSOR-T":
            raise ProgramError("scalars need NETSOR+")
        self.scalars.append(out)
        self.instructions.append(Instruction("moment", out, (psi, tuple(inputs))))
        return out

    def nonlin(self, out: str, phi: sympy.Expr, inputs: list[str]) -> str:
        """out = phi(inputs) coordinatewise; ``phi`` is a sympy expression in Symbol(input) and
        may use earlier scalars (NETSOR+) as parameters."""
        for x in inputs:
            self._need(x)
        stray = {s.name for s in phi.free_symbols} - set(inputs) - set(self.scalars)
        if stray:
            raise ProgramError(f"nonlinearity of '{out}' uses undefined {sorted(stray)}")
        self._new(out)
        self.instructions.append(Instruction("nonlin", out, (phi, tuple(inputs))))
        return out


def _num(x: Any) -> sympy.Expr:
    if isinstance(x, sympy.Basic):
        return x
    if isinstance(x, int):
        return sympy.Integer(x)
    if isinstance(x, float):
        return sympy.Float(x)
    raise ProgramError(f"not a number: {x!r}")


@dataclass
class ZLaw:
    """The Z variables of a program: expressions in base Gaussians with their joint law."""

    z: dict[str, sympy.Expr]
    base: list[sympy.Symbol]
    cov: dict[tuple[sympy.Symbol, sympy.Symbol], sympy.Expr]
    mean: dict[sympy.Symbol, sympy.Expr]
    dps: int = 30
    numeric_used: bool = False
    scalars: dict[str, sympy.Expr] = field(default_factory=dict)  # NETSOR+ scalar limits

    def covariance_matrix(self, symbols: list[sympy.Symbol]) -> list[list[sympy.Expr]]:
        zero = sympy.Integer(0)
        return [[self.cov.get((a, b), zero) for b in symbols] for a in symbols]

    def expect(self, expr: sympy.Expr) -> sympy.Expr:
        """E[expr] over the base Gaussians: exact when possible, else an mpmath Float."""
        expr = sympy.expand(expr)
        total = sympy.Integer(0)
        for term in sympy.Add.make_args(expr):
            total += self._expect_term(term)
        return total

    def _expect_term(self, term: sympy.Expr) -> sympy.Expr:
        symbols = [s for s in self.base if s in term.free_symbols]
        if not symbols:
            return term
        blocks = self._independent_blocks(term, symbols)
        if len(blocks) > 1:
            # cheapest first (polynomial blocks), and a block of mean 0 ends the product
            blocks.sort(key=lambda b: not b.is_polynomial(*symbols))
            values = []
            for b in blocks:
                values.append(self._expect_term(b))
                if values[-1] == 0:
                    return sympy.Integer(0)
            return sympy.Mul(*values)
        if term.has(sympy.DiracDelta):
            return self._condition_on_delta(term, symbols)
        if term.is_polynomial(*symbols):
            mean = [self.mean.get(s, sympy.Integer(0)) for s in symbols]
            return polynomial_expectation(term, symbols, self.covariance_matrix(symbols), mean)
        exact = self._closed_form(term, symbols)
        if exact is None:
            exact = self._gaussian_exponential(term, symbols)
        if exact is not None:
            return exact
        if _piecewise_linear(term, symbols):
            return self._expect_piecewise_linear(term, symbols)
        self.numeric_used = True
        return self._numeric(term, symbols)

    def _independent_blocks(self, term: sympy.Expr, symbols: list[sympy.Symbol]) -> list[sympy.Expr]:
        """The factors of a product grouped into independent blocks: E[f(Z_A) g(Z_B)] =
        E[f(Z_A)] E[g(Z_B)] when the jointly Gaussian sets A and B have Cov(Z_a, Z_b) = 0 for
        every a in A, b in B (a Gaussian vector with block-diagonal covariance has independent
        blocks). Two base Gaussians are joined when a covariance entry between them is not
        identically 0 (a symbolic entry joins them) or when one factor depends on both; the
        blocks are the connected components. A term that is one block comes back whole."""
        parent = {s: s for s in symbols}

        def root(s: sympy.Symbol) -> sympy.Symbol:
            while parent[s] != s:
                parent[s] = parent[parent[s]]
                s = parent[s]
            return s

        def join(a: sympy.Symbol, b: sympy.Symbol) -> None:
            parent[root(a)] = root(b)

        for a, b in itertools.combinations(symbols, 2):
            if self.cov.get((a, b), 0) != 0 or self.cov.get((b, a), 0) != 0:
                join(a, b)
        const = sympy.Integer(1)
        factors: list[tuple[sympy.Expr, list[sympy.Symbol]]] = []
        for f in sympy.Mul.make_args(term):
            inside = [s for s in symbols if s in f.free_symbols]
            if not inside:
                const *= f
                continue
            for other in inside[1:]:
                join(inside[0], other)
            factors.append((f, inside))
        blocks: dict[sympy.Symbol, sympy.Expr] = {}
        for f, inside in factors:
            r = root(inside[0])
            blocks[r] = blocks.get(r, sympy.Integer(1)) * f
        if len(blocks) <= 1:
            return [term]
        parts = list(blocks.values())
        return [const * parts[0], *parts[1:]]

    def _gaussian_exponential(self, term: sympy.Expr, symbols: list[sympy.Symbol]) -> sympy.Expr | None:
        """E[P(z) exp(-(1/2) z^T B z)] = det(I + S B)^(-1/2) E[P(z')], z' ~ N(0, S (I + B S)^-1),
        for centred z ~ N(0, S), B positive semidefinite and P a polynomial (products of
        exponentials of a nonpositive quadratic form, such as erf'(u) erf'(v) =
        (4/pi) exp(-u^2 - v^2), and the polynomials that derivatives of them bring down): the
        density of z times exp(-z^T B z / 2) is det(I + S B)^(-1/2) times the density of
        N(0, (S^-1 + B)^-1), with det(I + S B) > 0 for S, B >= 0 (by continuity also for a
        singular S); E[P(z')] is Isserlis'. Anything else (another function, a linear term in the
        exponent, a mean) returns None."""
        const = sympy.Integer(1)
        exponent = sympy.Integer(0)
        for f in sympy.Mul.make_args(term):
            if not f.free_symbols & set(symbols) or f.is_polynomial(*symbols):
                const *= f
            elif isinstance(f, sympy.exp):
                exponent += f.args[0]
            elif f.is_Pow and isinstance(f.base, sympy.exp) and f.exp.is_Integer and f.exp > 0:
                exponent += f.exp * f.base.args[0]
            else:
                return None
        if any(self.mean.get(s, 0) != 0 for s in symbols):
            return None
        try:
            poly = sympy.Poly(sympy.expand(exponent), *symbols)
        except (BasePolynomialError, sympy.PolynomialError):
            return None
        if poly.total_degree() != 2 or any(sum(m) != 2 for m in poly.monoms()):
            return None
        d = len(symbols)
        b = sympy.zeros(d, d)
        for i, j in itertools.product(range(d), range(d)):
            b[i, j] = -sympy.diff(exponent, symbols[i], symbols[j])
        if b.is_positive_semidefinite is not True:
            return None
        rests_on("gaussian-closed-forms")
        s = sympy.Matrix(self.covariance_matrix(symbols))
        det = sympy.expand((sympy.eye(d) + s * b).det())
        if not const.free_symbols & set(symbols):
            return const / sympy.sqrt(det)
        tilted = (s * (sympy.eye(d) + b * s).inv()).applyfunc(sympy.cancel)
        moments = polynomial_expectation(sympy.expand(const), symbols, tilted.tolist())
        return moments / sympy.sqrt(det)

    def _forms(self, term: sympy.Expr, symbols: list[sympy.Symbol]) -> dict | str:
        """Group the factors of a product by the affine form of the Gaussians they depend on
        (at most two); a string says why the product does not split that way."""
        groups: dict[sympy.Expr, list[sympy.Expr]] = {}
        const = sympy.Integer(1)
        for f in sympy.Mul.make_args(term):
            if not f.free_symbols & set(symbols):
                const *= f
                continue
            base = f.base if f.is_Pow and f.exp.is_Integer and f.exp > 0 else f
            arg = _argument(base) if isinstance(base, sympy.Function) else base
            if arg is None or not _affine_form(arg, symbols):
                return f"the factor {f} is not a function of one affine form of the Gaussians"
            groups.setdefault(sympy.expand(arg), []).append(f)
        if len(groups) > 2:
            return f"{len(groups)} Gaussian directions (quadrature takes at most two)"
        return {"const": const, "groups": groups}

    def _var(self, a: sympy.Expr, b: sympy.Expr, symbols: list[sympy.Symbol]) -> sympy.Expr:
        """Cov(a, b) of two affine forms (their constant terms and the means do not enter)."""
        zero = {s: sympy.Integer(0) for s in symbols}
        a, b = a - a.xreplace(zero), b - b.xreplace(zero)
        return sympy.expand(polynomial_expectation(a * b, symbols, self.covariance_matrix(symbols)))

    def _mean(self, form: sympy.Expr) -> sympy.Expr:
        """E[form] of an affine form of the base Gaussians."""
        return sympy.expand(form.xreplace({s: self.mean.get(s, sympy.Integer(0)) for s in self.base}))

    def _closed_form(self, term: sympy.Expr, symbols: list[sympy.Symbol]) -> sympy.Expr | None:
        """phi(u) phi(v) for phi in {relu, step, erf} and linear forms u, v: the arc-cosine and
        erf kernels, exactly."""
        parts = self._forms(term, symbols)
        if isinstance(parts, str) or any(self._mean(u) != 0 for u in parts["groups"]):
            return None  # the kernels are for centred directions
        kernels = {relu: relu_kernel, sympy.Heaviside: step_kernel, sympy.erf: erf_kernel}
        if len(parts["groups"]) == 1:
            # one direction: E[phi(u)^2] = kernel(q, q, q) (rho = 1); E[phi(u)] in closed form
            ((u, factors),) = parts["groups"].items()
            flat: list[sympy.Expr] = []
            for f in factors:
                base, m = (f.base, int(f.exp)) if f.is_Pow else (f, 1)
                flat += [base] * m
            heads = {type(f) for f in flat}
            if len(heads) != 1 or any(_argument(f) != u for f in flat):
                return None
            head = heads.pop()
            q = self._var(u, u, symbols)
            if q == 0:  # a degenerate direction: the kernels divide by its variance
                return None
            first = {relu: sympy.sqrt(q / (2 * sympy.pi)), sympy.Heaviside: sympy.Rational(1, 2),
                     sympy.erf: sympy.Integer(0)}
            if len(flat) == 2 and head in kernels:
                return parts["const"] * kernels[head](q, q, q)
            if len(flat) == 1 and head in first:
                return parts["const"] * first[head]
            return None
        if len(parts["groups"]) != 2:
            return None
        (u, fu), (v, fv) = parts["groups"].items()
        if self._var(u, v, symbols) == 0:  # independent Gaussian directions: E factorises
            left = self._expect_term(sympy.Mul(*fu))
            right = self._expect_term(sympy.Mul(*fv))
            if left.is_Float or right.is_Float:
                return None
            return parts["const"] * left * right
        if len(fu) != 1 or len(fv) != 1 or type(fu[0]) is not type(fv[0]):
            return None
        kernel = kernels.get(type(fu[0]))
        if kernel is None or _argument(fu[0]) != u or _argument(fv[0]) != v:
            return None
        q1, q2, c = self._var(u, u, symbols), self._var(v, v, symbols), self._var(u, v, symbols)
        if q1 == 0 or q2 == 0:
            return None
        return parts["const"] * kernel(q1, q2, c)

    # ---- relu, step and delta of affine forms, exactly ------------------------------------

    def _condition_on_delta(self, term: sympy.Expr, symbols: list[sympy.Symbol]) -> sympy.Expr:
        """E[delta(u) g(Z)] = exp(-m^2 / (2 q)) / sqrt(2 pi q) E[g(Z - Cov(Z, u) u / q)] for an
        affine form u of mean m and variance q > 0: the density of u at 0 times the expectation
        given u = 0 (Z - Cov(Z, u) u / q is independent of u and has the conditional law).
        Refused: a delta of a nonlinear function, a derivative or a power of a delta, and a
        step or delta of the same direction as the delta (their product is undefined)."""
        factors = sympy.Mul.make_args(term)
        deltas = [f for f in factors if isinstance(f, sympy.DiracDelta)]
        if not deltas or any(f.is_Pow and isinstance(f.base, sympy.DiracDelta) for f in factors):
            raise ProgramError(f"no expectation for E[{term}]: a power of a delta, or a delta "
                               "inside another function")
        delta = deltas[0]
        u = _argument(delta)
        if u is None or not _affine_form(u, symbols):
            raise ProgramError(f"no exact method for E[{term}]: {delta} is not a delta of an "
                               "affine form of the Gaussians (or is a derivative of one)")
        q = self._var(u, u, symbols)
        if q == 0:
            raise ProgramError(f"no expectation for E[{term}]: {delta} of a direction of "
                               "variance 0")
        rest = term / delta
        project = {s: s - self._var(s, u, symbols) / q * u for s in symbols}
        for f in rest.atoms(sympy.Heaviside, sympy.DiracDelta):
            if f.free_symbols & set(symbols) and sympy.expand(f.args[0].xreplace(project)) == 0:
                name = "step" if isinstance(f, sympy.Heaviside) else "delta"
                raise ProgramError(f"no expectation for E[{term}]: {delta} times a {name} of the "
                                   "same direction is undefined")
        given = rest.xreplace(project).replace(
            lambda e: isinstance(e, relu) and not e.free_symbols & set(symbols),
            lambda e: sympy.Max(0, sympy.expand(e.args[0])))
        m = self._mean(u)
        density = sympy.exp(-m**2 / (2 * q)) / sympy.sqrt(2 * sympy.pi * q)
        return density * self.expect(given)

    def _expect_piecewise_linear(self, term: sympy.Expr, symbols: list[sympy.Symbol]) -> sympy.Expr:
        """E[term] for a polynomial in the Gaussians and in relu, step of affine forms of them:
        relu(u) = u step(u); every step is oriented, step(-u) = 1 - step(u), and
        step(u)^k = step(u) (both up to the null set u = 0); Gaussian integration by parts
        E[s f(Z)] = E[s] E[f(Z)] + sum_t Cov(s, t) E[d_t f(Z)] lowers the polynomial degree
        (d step(u) is delta(u) du, removed by conditioning); a product of steps of k centred
        directions is the orthant probability (:func:`orthant_probability`, k <= 3), and
        E[step(u)] = Phi(m / sqrt(q)) = (1 + erf(m / sqrt(2 q))) / 2 for u of mean m and
        variance q. Several steps of directions not all centred are refused (the multivariate
        normal distribution function has no closed form)."""
        total = sympy.Integer(0)
        for t in sympy.Add.make_args(self._oriented(term, symbols)):
            total += self._expect_steps(t)
        return total

    def _oriented(self, term: sympy.Expr, symbols: list[sympy.Symbol]) -> sympy.Expr:
        """term with relu(u) = u step(u), each step written as step(u / a) or 1 - step(-u / a)
        for the coefficient a of u's first base Gaussian, and step(u)^k = step(u), expanded."""
        expr = _relu_as_step(term)
        table = {}
        for f in expr.atoms(sympy.Heaviside):
            u = f.args[0]
            if self._var(u, u, symbols) == 0:
                raise ProgramError(f"no expectation for E[{term}]: a step of the direction {u} "
                                   "of variance 0 (its value at 0 is a convention)")
            lead = next(u.coeff(s) for s in symbols if u.has(s))
            if lead.is_positive:
                table[f] = sympy.Heaviside(sympy.expand(u / lead))
            elif lead.is_negative:
                table[f] = 1 - sympy.Heaviside(sympy.expand(u / lead))
            else:
                raise ProgramError(f"no exact method for E[{term}]: the sign of {lead} in "
                                   f"step({u}) is not known")
        expr = sympy.expand(expr.xreplace(table))
        return expr.replace(
            lambda e: e.is_Pow and isinstance(e.base, sympy.Heaviside) and e.exp.is_Integer
            and e.exp > 0, lambda e: e.base)

    def _expect_steps(self, t: sympy.Expr) -> sympy.Expr:
        """E[c s_1^a_1 ... s_m^a_m step(u_1) ... step(u_k)] for distinct oriented u_i."""
        symbols = [s for s in self.base if s in t.free_symbols]
        if not symbols:
            return t
        steps = [f for f in sympy.Mul.make_args(t) if isinstance(f, sympy.Heaviside)]
        poly = t / sympy.Mul(*steps)
        if not steps:
            return polynomial_expectation(t, symbols, self.covariance_matrix(symbols))
        lowered = [s for s in symbols if poly.has(s)]
        if lowered:  # Gaussian integration by parts on one factor s
            s = lowered[0]
            rest = t / s
            return self.expect(self.mean.get(s, 0) * rest + sympy.Add(
                *[self._var(s, r, symbols) * sympy.diff(rest, r) for r in symbols]))
        forms = [f.args[0] for f in steps]
        cov = [[self._var(a, b, symbols) for b in forms] for a in forms]
        means = [self._mean(u) for u in forms]
        if all(m == 0 for m in means):
            return poly * orthant_probability(cov)
        if len(forms) == 1:
            return poly * (1 + sympy.erf(means[0] / sympy.sqrt(2 * cov[0][0]))) / 2
        raise ProgramError(f"no closed form for E[{t}]: steps of {len(forms)} correlated "
                           "directions not all centred (a bivariate normal distribution function)")

    def _numeric(self, term: sympy.Expr, symbols: list[sympy.Symbol]) -> sympy.Expr:
        parts = self._forms(term, symbols)
        if isinstance(parts, str):
            raise ProgramError(f"no method for E[{term}]: {parts}")
        t = sympy.Symbol("t", real=True)
        acts, forms = [], []
        for form, factors in parts["groups"].items():
            # t is the centred form, form - m: the quadratures take centred Gaussians
            m = self._mean(form)
            g = sympy.Mul(*[f.xreplace({form: t + m}) for f in factors])
            if form in g.free_symbols or g.free_symbols - {t}:
                raise ProgramError(f"cannot separate E[{term}] into functions of linear forms")
            if m != 0 and g.has(relu, sympy.Heaviside, sympy.Abs, sympy.sign):
                raise ProgramError(f"no method for E[{term}]: a kink of {g} away from the "
                                   "quadrature's breakpoint 0 (a direction of nonzero mean)")
            acts.append(_activation(g, t))
            forms.append(form)
        with mpmath.workdps(self.dps + 10):
            const = evaluate(parts["const"], {}, "mpmath")
            if len(forms) == 1:
                from tpcheck.engines.gaussian import gaussian_expectation

                q = evaluate(self._var(forms[0], forms[0], symbols), {}, "mpmath")
                value = gaussian_expectation(acts[0], q, self.dps)
            else:
                q1 = evaluate(self._var(forms[0], forms[0], symbols), {}, "mpmath")
                q2 = evaluate(self._var(forms[1], forms[1], symbols), {}, "mpmath")
                c = evaluate(self._var(forms[0], forms[1], symbols), {}, "mpmath")
                if c == 0:  # independent directions: the expectation factorises
                    from tpcheck.engines.gaussian import gaussian_expectation

                    value = (gaussian_expectation(acts[0], q1, self.dps)
                             * gaussian_expectation(acts[1], q2, self.dps))
                else:
                    value = bivariate_expectation(acts[0], acts[1], q1, q2, c, self.dps)
            return sympy.Float(mpmath.nstr(const * value, self.dps + 5), self.dps + 5)


def _argument(f: sympy.Basic) -> sympy.Expr | None:
    """u for a function f(u) of one variable. sympy's Heaviside(u, H0) carries its value at 0
    as a second argument; DiracDelta(u, k) with k >= 1 (a derivative) has none here."""
    if isinstance(f, sympy.Heaviside):
        return f.args[0]
    if isinstance(f, sympy.Function) and len(f.args) == 1:
        return f.args[0]
    return None


def _affine_form(u: sympy.Expr, symbols: list[sympy.Symbol]) -> bool:
    """Whether u = b + sum_s a_s s is a non-constant affine form of ``symbols``."""
    if not u.free_symbols & set(symbols) or not u.is_polynomial(*symbols):
        return False
    return sympy.Poly(u, *symbols).total_degree() == 1


def _piecewise_linear(term: sympy.Expr, symbols: list[sympy.Symbol]) -> bool:
    """Whether ``term`` is a polynomial in ``symbols`` and in relu and step of affine forms of
    them."""
    table = {}
    for f in term.atoms(sympy.Function):
        if not f.free_symbols & set(symbols):
            continue
        if not isinstance(f, relu | sympy.Heaviside) or not _affine_form(f.args[0], symbols):
            return False
        table[f] = sympy.Dummy()
    return bool(table) and bool(term.xreplace(table).is_polynomial(*symbols, *table.values()))


def _relu_as_step(expr: sympy.Expr) -> sympy.Expr:
    """relu(u) = u step(u) (an identity, at u = 0 too)."""
    return expr.replace(lambda e: isinstance(e, relu), lambda e: e.args[0] * sympy.Heaviside(e.args[0]))


def _almost_sure_form(expr: sympy.Expr) -> sympy.Expr:
    """step(u)^k -> step(u) and relu(u)^a step(u) -> relu(u)^a: equal off the null set u = 0,
    so with the same expectations and the same derivatives (as distributions); differentiating
    the merged form keeps a delta from meeting a step of its own direction."""
    expr = expr.replace(lambda e: e.is_Pow and isinstance(e.base, sympy.Heaviside)
                        and e.exp.is_Integer and e.exp > 0, lambda e: e.base)

    def drop_steps(m: sympy.Expr) -> sympy.Expr:
        factors = sympy.Mul.make_args(m)
        kinks = {(f.base if f.is_Pow else f).args[0] for f in factors
                 if isinstance(f.base if f.is_Pow else f, relu)}
        return sympy.Mul(*[f for f in factors
                           if not (isinstance(f, sympy.Heaviside) and f.args[0] in kinks)])

    return expr.replace(lambda e: e.is_Mul and e.has(relu) and e.has(sympy.Heaviside), drop_steps)


def _evaluable(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` with step(u) written as the piecewise 1 (u > 0), 0 (else), for the numeric
    evaluators (which take sympy's Heaviside with its single argument only)."""
    return expr.replace(lambda e: isinstance(e, sympy.Heaviside),
                        lambda e: sympy.Piecewise((1, e.args[0] > 0), (0, True)))


def orthant_probability(cov: list[list[sympy.Expr]]) -> sympy.Expr:
    """P(u_1 > 0, ..., u_k > 0) for centred jointly Gaussian u_i with covariance ``cov`` and
    variances > 0, rho_ij = cov_ij / sqrt(cov_ii cov_jj): 1/2 (k = 1),
    1/2 - arccos(rho_12) / (2 pi) (k = 2, Sheppard 1899),
    1/2 - (arccos rho_12 + arccos rho_13 + arccos rho_23) / (4 pi) (k = 3: the area of a
    spherical triangle; equivalently 1/8 + sum arcsin(rho_ij) / (4 pi)). No closed form for
    k >= 4."""
    k = len(cov)
    if not 1 <= k <= 3:
        raise ProgramError(f"no closed form for the orthant probability of {k} Gaussian "
                           "directions (at most 3)")
    if k == 1:
        return sympy.Rational(1, 2)
    arcs = [sympy.acos(cov[i][j] / sympy.sqrt(cov[i][i] * cov[j][j]))
            for i in range(k) for j in range(i + 1, k)]
    return sympy.Rational(1, 2) - sympy.Add(*arcs) / (2 * (k - 1) * sympy.pi)


def _activation(g: sympy.Expr, t: sympy.Symbol) -> Activation:
    """The activation t -> g(t): a named one (with its Gaussian smoothing) when g is relu, step,
    erf, tanh, sin, cos or exp of t, a polynomial one when g is a polynomial, else generic."""
    named = {relu: "relu", sympy.Heaviside: "step", sympy.erf: "erf", sympy.tanh: "tanh",
             sympy.sin: "sin", sympy.cos: "cos", sympy.exp: "exp"}
    if type(g) in named and _argument(g) == t:
        return ACTIVATIONS[named[type(g)]]
    if g.is_polynomial(t):
        coeffs = sympy.Poly(g, t).all_coeffs()[::-1]
        if all(c.is_Rational for c in coeffs):
            return polynomial_activation(coeffs)
    kink = g.has(relu, sympy.Heaviside, sympy.Abs, sympy.sign)
    g_numeric = _evaluable(g)

    def mp(x: Any) -> Any:
        return evaluate(g_numeric, {t: x}, "mpmath")

    def np_(x: np.ndarray) -> np.ndarray:
        return evaluate(g_numeric, {t: x}, "numpy")

    return Activation(str(g), mp, np_, kink=kink)


def _substitute(phi: sympy.Expr, inputs: tuple | list, z: dict, scalars: dict) -> sympy.Expr:
    """phi with its input names replaced by Z variables and its scalars by their limits."""
    table = {}
    for x in inputs:
        table[sympy.Symbol(x)] = table[sympy.Symbol(x, real=True)] = z[x]
    for name, value in scalars.items():
        table[sympy.Symbol(name)] = table[sympy.Symbol(name, real=True)] = value
    return phi.xreplace(table)


def z_calculus(program: Program, drop_zdot: bool = False, dps: int = 30) -> ZLaw:
    """The Z variable of every vector of ``program`` (``drop_zdot`` removes the Zdot terms:
    the 'gradient independence' shortcut, exact only in special cases)."""
    law = ZLaw({}, [], {}, {}, dps)
    law.scalars = {}
    zinit = {}
    for ins in program.instructions:
        if ins.kind == "initial":
            s = sympy.Symbol(f"zinit_{ins.out}", real=True)
            zinit[ins.out] = s
            law.base.append(s)
            law.mean[s] = program.initial_mean[ins.out]
    for (a, b), c in program.initial_cov.items():
        law.cov[(zinit[a], zinit[b])] = c
    hats: list[tuple[tuple[str, bool], str, sympy.Symbol]] = []  # (orientation, input, symbol)
    for ins in program.instructions:
        if ins.kind == "initial":
            law.z[ins.out] = zinit[ins.out]
        elif ins.kind == "lincomb":
            law.z[ins.out] = sympy.Add(*[c * law.z[x] for x, c in ins.args])
        elif ins.kind == "nonlin":
            phi, inputs = ins.args
            law.z[ins.out] = _substitute(phi, inputs, law.z, law.scalars)
        elif ins.kind == "moment":
            psi, inputs = ins.args
            law.scalars[ins.out] = law.expect(_substitute(psi, inputs, law.z, law.scalars))
        else:
            matrix, x, transpose = ins.args
            forward, backward = program.matrices[matrix]
            mult = backward if transpose else forward
            orientation = (matrix, transpose)
            zh = sympy.Symbol(f"zhat_{len(hats)}_{ins.out}", real=True)
            law.base.append(zh)
            law.mean[zh] = sympy.Integer(0)
            law.cov[(zh, zh)] = sympy.expand(mult * law.expect(law.z[x] ** 2))
            for o, y, other in hats:
                if o == orientation:
                    c = sympy.expand(mult * law.expect(law.z[x] * law.z[y]))
                    law.cov[(zh, other)] = law.cov[(other, zh)] = c
            zdot = sympy.Integer(0)
            if not drop_zdot:
                zx = _almost_sure_form(law.z[x])
                for o, y, other in hats:
                    if o == (matrix, not transpose):
                        zdot += law.z[y] * law.expect(sympy.diff(zx, other))
                zdot = mult * zdot
            hats.append((orientation, x, zh))
            law.z[ins.out] = sympy.expand(zh + zdot)
    return law


def master_theorem_limit(program: Program, psi: sympy.Expr, inputs: list[str],
                         drop_zdot: bool = False, dps: int = 30) -> tuple[sympy.Expr, bool]:
    """lim (1/n) sum_alpha psi(h^1_alpha, ...) = E psi(Z^{h^1}, ...); returns (value, exact).

    Programs whose nonlinearities and psi are polynomials go to the recursive Z-calculus
    (:mod:`tpcheck.engines.z_covariance`: covariances and Zdot coefficients by recursion on the
    program, polynomial time); the others, and ``drop_zdot``, to :func:`expanded_limit`."""
    if not drop_zdot:
        try:
            value = z_calculus_of_program(program).expect(psi, list(dict.fromkeys(inputs)))
        except (ZCalculusError, BasePolynomialError):
            pass  # outside the recursive engine's fragment (or a degenerate psi): expand instead
        else:
            return value, True
    return expanded_limit(program, psi, inputs, drop_zdot, dps)


def expanded_limit(program: Program, psi: sympy.Expr, inputs: list[str],
                   drop_zdot: bool = False, dps: int = 30) -> tuple[sympy.Expr, bool]:
    """The same limit by :func:`z_calculus`, which writes every Z in the base Gaussians (any
    nonlinearity; exponential in the program's depth): the reference the recursive engine is
    tested against."""
    law = z_calculus(program, drop_zdot, dps)
    value = law.expect(_substitute(psi, inputs, law.z, law.scalars))
    return value, not law.numeric_used


# ---- from proof-language vector expressions to programs -----------------------------------

MAX_UNROLL = 40


class ProgramCompiler:
    """Vector expressions (initial vectors, A*x, transpose(A)*x, W^k*x, coordinatewise
    functions) to the instructions of one tensor program; equal subexpressions share a name."""

    def __init__(self, laws: dict, width: sympy.Expr, instance: dict | None = None) -> None:
        self.laws = laws
        self.width = width
        self.instance = instance or {}  # values given to the laws' parameters
        self.program = Program()
        self.names: dict[sympy.Basic, str] = {}
        self.count = itertools.count()
        self.added_initial: set[InitialVectors] = set()
        self.added_matrices: set[sympy.Symbol] = set()

    def fresh(self) -> str:
        return f"v{next(self.count)}"

    def vector(self, expr: sympy.Expr) -> str:
        if expr in self.names:
            return self.names[expr]
        law = self.laws.get(expr) if isinstance(expr, sympy.Symbol) else None
        if isinstance(law, InitialVectors):
            self._initial(law)
            return self.names[expr]
        if isinstance(expr, MatVec):
            a, t, x = expr.args
            inner = self.vector(x)
            self._matrix(a)
            out = self.fresh()
            self.program.matmul(out, a.name, inner, transpose=bool(t))
            self.names[expr] = out
            return out
        if isinstance(expr, MatPowVec):
            spec, k, x = expr.args
            if not k.is_Integer or not 0 <= k <= MAX_UNROLL:
                raise ProgramError(f"W^{k}: the power must be a concrete integer up to {MAX_UNROLL}")
            v = x
            for _ in range(int(k)):
                v = sympy.Add(*[c * MatVec(a, t, v) for a, t, c in spec])
            out = self.vector(v)
            self.names[expr] = out
            return out
        atoms = self.atoms(expr)
        if not atoms:
            raise ProgramError(f"{expr} is not a vector expression")
        inputs = {a: self.vector(a) for a in atoms}
        scalars = {a: self.scalar(a) for a in self.averages(expr)}
        phi = expr.xreplace({a: sympy.Symbol(name, real=True) for a, name in inputs.items()}
                            | {a: sympy.Symbol(name, real=True) for a, name in scalars.items()})
        out = self.fresh()
        self.program.nonlin(out, phi, list(inputs.values()))
        self.names[expr] = out
        return out

    def atoms(self, expr: sympy.Expr) -> list[sympy.Basic]:
        """The outermost vector-valued subterms of a coordinatewise expression (not looking
        inside avg(...), which is a scalar compiled on its own)."""

        def vector_valued(e: sympy.Basic) -> bool:
            return isinstance(e, MatVec | MatPowVec) or (
                isinstance(e, sympy.Symbol) and isinstance(self.laws.get(e), InitialVectors))

        return [a for a in outermost(expr, lambda e: isinstance(e, Avg) or vector_valued(e))
                if not isinstance(a, Avg)]

    @staticmethod
    def averages(expr: sympy.Expr) -> list[sympy.Basic]:
        """The outermost avg(...) subterms: scalars inside a vector expression."""
        return outermost(expr, lambda e: isinstance(e, Avg))

    def scalar(self, avg: sympy.Basic) -> str:
        """A NETSOR+ moment for avg(psi(...)), shared between equal averages."""
        if avg in self.names:
            return self.names[avg]
        phi, inputs = self.average(avg)
        name = f"s{next(self.count)}"
        self.program.moment(name, phi, inputs)
        self.names[avg] = name
        return name

    def _initial(self, law: InitialVectors) -> None:
        if law in self.added_initial:
            return
        self._same_width(law.n)
        self.added_initial.add(law)
        given = self.instance
        for i, s in enumerate(law.names):
            self.program.initial(s.name, law.cov[i][i].xreplace(given), law.mean[i].xreplace(given))
            self.names[s] = s.name
        for i, a in enumerate(law.names):
            for j, b in enumerate(law.names):
                if i < j and law.cov[i][j] != 0:
                    self.program.covary(a.name, b.name, law.cov[i][j].xreplace(given))

    def _matrix(self, a: sympy.Symbol) -> None:
        if a in self.added_matrices:
            return
        law = self.laws.get(a)
        if not isinstance(law, GaussianMatrix):
            raise ProgramError(f"{a} is not a Gaussian matrix")
        self._same_width(law.n)
        self.added_matrices.add(a)
        self.program.matrix(a.name, law.variance.xreplace(self.instance),
                            law.transpose_variance.xreplace(self.instance))

    def _same_width(self, n: sympy.Expr) -> None:
        if sympy.expand(n - self.width) != 0:
            raise ProgramError(f"width {n} differs from the limit variable {self.width}")



    def average(self, avg: sympy.Expr) -> tuple[sympy.Expr, list[str]]:
        """(psi over program vector symbols, its input names) for ``avg(psi(...))``."""
        psi = avg.args[0]
        atoms = self.atoms(psi)
        inputs = [self.vector(a) for a in atoms]
        scalars = {a: self.scalar(a) for a in self.averages(psi)}
        phi = psi.xreplace({a: sympy.Symbol(name, real=True)
                            for a, name in zip(atoms, inputs, strict=True)}
                           | {a: sympy.Symbol(name, real=True) for a, name in scalars.items()})
        return phi, inputs


# ---- simulation mirror ---------------------------------------------------------------------


def simulate(program: Program, psi: sympy.Expr, inputs: list[str], n: int, samples: int,
             seed: int, ratio: float = 1.0) -> tuple[float, float]:
    """Estimate and standard error of (1/n) sum_alpha psi(...) over ``samples`` independent
    runs of the program at width n (dense seeded Gaussian matrices)."""
    arr = simulate_runs(program, [(psi, inputs)], n, samples, seed)[:, 0]
    return float(arr.mean()), float(arr.std(ddof=1) / np.sqrt(samples)) if samples > 1 else 0.0


def simulate_runs(program: Program, averages: list[tuple[sympy.Expr, list[str]]], n: int,
                  samples: int, seed: int) -> np.ndarray:
    """The averages (1/n) sum_alpha psi_j(...) in each of ``samples`` independent runs of the
    program at width n (dense seeded Gaussian matrices): an array of shape (samples, j), one
    realisation of the program per row, shared by all the averages of that row."""
    rng = np.random.default_rng(seed)
    init = [i.out for i in program.instructions if i.kind == "initial"]
    cov = np.array([[float(program.initial_cov.get((a, b), 0)) for b in init] for a in init])
    mean = np.array([float(program.initial_mean[a]) for a in init])
    w, v = np.linalg.eigh(cov)
    root = v * np.sqrt(np.clip(w, 0, None))
    rows = []
    for _ in range(samples):
        vec: dict[str, np.ndarray] = {}
        g = root @ rng.standard_normal((len(init), n)) + mean[:, None]
        for i, a in enumerate(init):
            vec[a] = g[i]
        mats = {}
        for name, (fwd, bwd) in program.matrices.items():
            if sympy.expand(fwd - bwd) != 0:
                raise ProgramError(f"'{name}' has different multipliers for itself and its "
                                   "transpose (a non-square matrix): not simulated at one width")
            # single precision for the n x n draws and products (the largest arrays of a run,
            # and most of its time); sums of n products keep ~1e-6 relative accuracy, far below
            # the runs' own standard error
            matrix = rng.standard_normal((n, n), dtype=np.float32)
            matrix *= np.float32(np.sqrt(float(fwd) / n))
            mats[name] = matrix
        scalars: dict[sympy.Symbol, float] = {}
        for ins in program.instructions:
            if ins.kind == "lincomb":
                vec[ins.out] = sum(float(c) * vec[x] for x, c in ins.args)
            elif ins.kind in ("nonlin", "moment"):
                phi, xs = ins.args
                env = {sympy.Symbol(x): vec[x] for x in xs} | {sympy.Symbol(x, real=True): vec[x] for x in xs}
                raw = evaluate(_evaluable(phi), {**scalars, **env}, "numpy")
                value = np.broadcast_to(np.asarray(raw, float), (n,))
                if ins.kind == "moment":
                    theta = float(value.mean())
                    scalars[sympy.Symbol(ins.out)] = scalars[sympy.Symbol(ins.out, real=True)] = theta
                else:
                    vec[ins.out] = value
            elif ins.kind == "matmul":
                m, x, transpose = ins.args
                product = (mats[m].T if transpose else mats[m]) @ vec[x].astype(np.float32)
                vec[ins.out] = product.astype(np.float64)
        row = []
        for psi, inputs in averages:
            env = ({sympy.Symbol(x): vec[x] for x in inputs}
                   | {sympy.Symbol(x, real=True): vec[x] for x in inputs})
            raw = evaluate(_evaluable(psi), {**scalars, **env}, "numpy")
            row.append(float(np.mean(np.broadcast_to(np.asarray(raw, float), (n,)))))
        rows.append(row)
    return np.asarray(rows, float).reshape(samples, len(averages))
